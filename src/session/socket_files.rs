//! Unix socket files: the ones this session created with `bind`, and `unlink`. The kernel leaves
//! the file behind when the socket closes (the "stale socket file" that makes the next bind fail),
//! and so does sockplay: `close` says the file stays, and `unlink PATH` removes it (a socket file,
//! and nothing else). sockplay removes the files its binds made when the process that made them
//! ends, however it ends — never a file it did not create.

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use nix::errno::Errno;

use super::calls::errno_of;
use super::{invocation, Context, Failure, Outcome, Session};
use crate::lang::Command;

/// A path made safe to show in a message.
pub(super) fn shown(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    crate::text::escape_bytes(path.as_os_str().as_bytes())
}

/// What a file is, in words: `a regular file`, `a directory`.
pub(super) fn kind_of(file_type: std::fs::FileType) -> &'static str {
    if file_type.is_socket() {
        "a socket"
    } else if file_type.is_file() {
        "a regular file"
    } else if file_type.is_dir() {
        "a directory"
    } else if file_type.is_symlink() {
        "a symbolic link"
    } else if file_type.is_fifo() {
        "a fifo"
    } else {
        "a device"
    }
}

/// `unlink PATH`, ready to paste at the prompt: offered only when sockplay reads it back as exactly
/// this path and it shows on a terminal as it would be typed.
pub(super) fn unlink_command(path: &Path) -> Option<String> {
    let text = path.to_str()?;
    let command = format!("unlink {}", shlex::try_quote(text).ok()?);
    let reads_back = matches!(
        crate::lang::parse_line(&command),
        Ok(Some(Command::Unlink { path: back })) if back == path
    );
    (reads_back && crate::text::sanitize_line(&command) == command).then_some(command)
}

/// A socket file made by a bind of this session.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SocketFile {
    path: PathBuf,
    /// The file's identity when bind made it, so a file someone replaced is left alone.
    dev: u64,
    ino: u64,
    /// The inode of the socket bound there: while an fd holds it, the file is in use.
    socket_inode: u64,
    /// The fd that bound it, and that fd's name then.
    fd: i32,
    name: Option<String>,
}

impl SocketFile {
    /// Whether the path still names the very file that bind created.
    fn is_ours(&self) -> bool {
        std::fs::symlink_metadata(&self.path)
            .map(|m| m.dev() == self.dev && m.ino() == self.ino)
            .unwrap_or(false)
    }

    /// Whether the file at `path` is this very file (a path to it however written, not one that
    /// replaced it).
    pub fn is_at(&self, path: &Path) -> bool {
        std::fs::symlink_metadata(path)
            .is_ok_and(|file| file.dev() == self.dev && file.ino() == self.ino)
    }

    /// The inode of the socket that was bound there.
    pub fn socket_inode(&self) -> u64 {
        self.socket_inode
    }

    /// The fd whose bind made the file, and the name it had then.
    pub fn made_by(&self) -> (i32, Option<&str>) {
        (self.fd, self.name.as_deref())
    }

    /// Removes the file, if it is still the one bind made: what sockplay does for the files it made
    /// when the process that made them ends.
    pub fn remove_if_ours(&self) {
        if self.is_ours() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl Session {
    /// `unlink PATH`: removes the Unix socket file at PATH, and refuses anything else (the file is
    /// looked at with lstat, so a symlink is refused too, never followed).
    pub(super) fn unlink(&mut self, path: &Path, out: &mut Outcome) -> Result<(), Failure> {
        let name = shown(path);
        let file = std::fs::symlink_metadata(path).map_err(|e| {
            let errno = errno_of(&e);
            let message = match errno {
                Errno::ENOENT if path.as_os_str().as_bytes().starts_with(b"@") => format!(
                    "there is no file at {name}; if you mean the abstract name {name}, it is no file: unlink has nothing to remove, and the name is free once the last socket bound to it closes"
                ),
                Errno::ENOENT => format!("there is no file at {name}"),
                _ => format!("cannot look at {name}"),
            };
            Failure::os(errno, message).hint_for("lstat", Context::Plain)
        })?;
        if !file.file_type().is_socket() {
            return Err(Failure::usage(format!(
                "{name} is {}, not a socket: unlink removes only Unix socket files",
                kind_of(file.file_type())
            )));
        }
        let call = invocation!("unlink", format!("\"{name}\""));
        match nix::unistd::unlink(path) {
            Ok(()) => {
                out.call(call.returned(0));
                // No longer this session's to remove, however the path was written.
                self.socket_files
                    .retain(|made| (made.dev, made.ino) != (file.dev(), file.ino()));
                Ok(())
            }
            Err(errno) => {
                out.call(call.failed(errno));
                Err(Failure::os(errno, format!("cannot remove {name}"))
                    .hint_for(call.name(), Context::Plain))
            }
        }
    }

    /// Whether the file at `path` is a socket file that a bind of this session made (the very
    /// file: a path to it however written, not one that replaced it).
    pub fn made_socket_file(&self, path: &Path) -> bool {
        std::fs::symlink_metadata(path).is_ok_and(|file| {
            self.socket_files
                .iter()
                .any(|made| made.dev == file.dev() && made.ino == file.ino())
        })
    }

    /// The socket files this session's binds made and has not removed.
    pub fn socket_files(&self) -> &[SocketFile] {
        &self.socket_files
    }

    /// Leaves the socket files made so far to another process: a forked child shares its parent's
    /// sockets, and the parent, which made the files, removes them.
    pub fn forget_socket_files(&mut self) {
        self.socket_files.clear();
    }

    /// Notes that a bind of fd created the socket file at `path`.
    pub(super) fn note_socket_file(&mut self, fd: i32, path: &Path) {
        let (Ok(file), Some(row)) = (
            std::fs::symlink_metadata(path),
            crate::fdtable::inspect_fd(fd),
        ) else {
            return;
        };
        let name = self.handles.get(&fd).and_then(|handle| handle.name.clone());
        self.socket_files.push(SocketFile {
            path: path.to_path_buf(),
            dev: file.dev(),
            ino: file.ino(),
            socket_inode: row.inode,
            fd,
            name,
        });
    }

    /// The socket file of the socket on `fd`, when it is bound to a path, and that socket's inode:
    /// what [`Session::tell_socket_file_stays`] needs once the fd is closed.
    /// Two calls (getsockname, fstat), as close is made often.
    pub(super) fn bound_file(fd: i32) -> Option<(PathBuf, u64)> {
        let local = crate::sys::socket::SocketFd::new(fd).local_addr().ok()?;
        let path = local.as_pathname()?.to_path_buf();
        let inode = crate::sys::descriptor::fstat(fd).ok()?.ino;
        Some((path, inode))
    }

    /// After a close: a socket bound to a path leaves its file behind, as the kernel makes it,
    /// once no fd of this process holds the socket any more. Says so, and how to remove it.
    pub(super) fn tell_socket_file_stays(&self, (path, inode): &(PathBuf, u64), out: &mut Outcome) {
        let still_held = crate::fdtable::open_inodes().contains(inode);
        let is_socket =
            std::fs::symlink_metadata(path).is_ok_and(|file| file.file_type().is_socket());
        if still_held || !is_socket {
            return;
        }
        out.say(match unlink_command(path) {
            Some(command) => format!(
                "the socket file {} stays: the kernel does not remove it; `{command}` removes it",
                shown(path)
            ),
            None => format!(
                "the socket file {} stays: the kernel does not remove it; sockplay's `unlink` removes it",
                shown(path)
            ),
        });
    }
}

impl Session {
    /// At exit: removes the files this session made that are still its own.
    pub(super) fn remove_socket_files(&mut self) {
        for file in self.socket_files.iter().filter(|file| file.is_ours()) {
            let _ = std::fs::remove_file(&file.path);
        }
    }
}
