//! Unix socket files this session created with `bind`. The kernel leaves the file behind when the
//! socket closes (the "stale socket file" that makes the next bind fail); sockplay removes the files
//! it made once no fd holds their socket any more, and at exit — never a file it did not create.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::{Outcome, Session};

/// A socket file made by a bind of this session.
#[derive(Debug)]
pub(super) struct SocketFile {
    path: PathBuf,
    /// The file's identity when bind made it, so a file someone replaced is left alone.
    dev: u64,
    ino: u64,
    /// The inode of the socket bound there, to know when its last fd is gone.
    socket_inode: u64,
}

impl SocketFile {
    /// Whether the path still names the very file that bind created.
    fn is_ours(&self) -> bool {
        std::fs::symlink_metadata(&self.path)
            .map(|m| m.dev() == self.dev && m.ino() == self.ino)
            .unwrap_or(false)
    }
}

impl Session {
    /// Notes that a bind of fd created the socket file at `path`.
    pub(super) fn note_socket_file(&mut self, fd: i32, path: &Path) {
        let (Ok(file), Some(row)) = (
            std::fs::symlink_metadata(path),
            crate::fdtable::inspect_fd(fd),
        ) else {
            return;
        };
        self.socket_files.push(SocketFile {
            path: path.to_path_buf(),
            dev: file.dev(),
            ino: file.ino(),
            socket_inode: row.inode,
        });
    }

    /// After a close: removes the files of sockets that no fd holds any more.
    pub(super) fn remove_orphaned_socket_files(&mut self, out: &mut Outcome) {
        let open: Vec<u64> = crate::fdtable::snapshot()
            .rows
            .iter()
            .map(|r| r.inode)
            .collect();
        let (gone, kept): (Vec<SocketFile>, Vec<SocketFile>) =
            std::mem::take(&mut self.socket_files)
                .into_iter()
                .partition(|file| !open.contains(&file.socket_inode));
        self.socket_files = kept;
        for file in gone.iter().filter(|file| file.is_ours()) {
            let shown = crate::render::escape_text(&file.path.display().to_string());
            match std::fs::remove_file(&file.path) {
                Ok(()) => out.say(format!(
                    "unlink(\"{shown}\") = 0  sockplay removes socket files it made; a program that only closes leaves a stale file"
                )),
                Err(e) => out.say(format!("unlink(\"{shown}\") failed: {e}")),
            }
        }
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
