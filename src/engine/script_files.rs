//! The files a script names, opened so that a shared script is as safe to run as `cat`: a script
//! to read (`sockplay FILE`, `source FILE`, stdin) is read with a size cap, and from the file system
//! only a regular file is read, so a FIFO, a terminal or /dev/zero is an error at once, never a
//! hang or gigabytes of memory; a recording (`record FILE`) is always a new file, never an old one
//! truncated or a symlink followed.

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::OFlag;

/// The largest script read. Scripts are text that people write; 16 MiB is far past any of them.
pub const MAX_SCRIPT_BYTES: usize = 16 * 1024 * 1024;

/// Why a script could not be read, or a recording not created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileError {
    /// The kernel refused (open, stat or read).
    Os {
        errno: Errno,
        /// What could not be done, and why: `cannot read the script x.sock (No such file…)`.
        message: String,
    },
    /// The path is a FIFO, a device, a directory…: reading it could block or never end.
    NotRegular { path: String, kind: &'static str },
    /// More than [`MAX_SCRIPT_BYTES`].
    TooLarge { source: String },
    /// Ctrl-C while reading stdin.
    Interrupted { source: String },
}

impl FileError {
    /// The errno behind the error, if there is one: a directory is EISDIR, a script past the cap
    /// EFBIG (as the kernel says of a file too large), Ctrl-C EINTR.
    pub fn errno(&self) -> Option<Errno> {
        match self {
            FileError::Os { errno, .. } => Some(*errno),
            FileError::NotRegular {
                kind: "a directory",
                ..
            } => Some(Errno::EISDIR),
            FileError::NotRegular { .. } => None,
            FileError::TooLarge { .. } => Some(Errno::EFBIG),
            FileError::Interrupted { .. } => Some(Errno::EINTR),
        }
    }

    /// The message without the errno name: [`FileError::errno`] goes in front where it is shown.
    pub fn message(&self) -> String {
        match self {
            FileError::Os { message, .. } => message.clone(),
            FileError::NotRegular { path, kind } => {
                format!("{path} is {kind}, not a regular file: a script is read only from a regular file")
            }
            FileError::TooLarge { source } => format!(
                "{source} is larger than {} MiB: a script is text, and this is too much of it",
                MAX_SCRIPT_BYTES / (1024 * 1024)
            ),
            FileError::Interrupted { source } => {
                format!("interrupted by Ctrl-C while reading {source}")
            }
        }
    }
}

impl fmt::Display for FileError {
    /// `ERRNO: message`, or the bare message when there is no errno.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.errno() {
            Some(errno) => write!(f, "{}: {}", crate::sys::errno_name(errno), self.message()),
            None => f.write_str(&self.message()),
        }
    }
}

/// A path as a message shows it; the terminal layer escapes it when the message is printed.
pub fn shown(path: &Path) -> String {
    path.display().to_string()
}

/// What kind of file a non-regular file is, in words.
fn kind_of(file_type: std::fs::FileType) -> &'static str {
    if file_type.is_dir() {
        "a directory"
    } else if file_type.is_fifo() {
        "a fifo"
    } else if file_type.is_char_device() {
        "a character device"
    } else if file_type.is_block_device() {
        "a block device"
    } else if file_type.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// Reads the script at `path`: a regular file of at most [`MAX_SCRIPT_BYTES`].
///
/// The path is checked before it is opened, so a device is never opened at all; it is opened with
/// O_NONBLOCK, so a FIFO swapped in meanwhile cannot block the open, and checked again on the open
/// file, which is what is read.
pub fn read_script(path: &Path) -> Result<Vec<u8>, FileError> {
    let name = shown(path);
    let os = |error: io::Error| os_error(&error, format!("cannot read the script {name}"));
    let regular = |file_type: std::fs::FileType| {
        if file_type.is_file() {
            Ok(())
        } else {
            Err(FileError::NotRegular {
                path: name.clone(),
                kind: kind_of(file_type),
            })
        }
    };
    regular(std::fs::metadata(path).map_err(os)?.file_type())?;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags((OFlag::O_NONBLOCK | OFlag::O_NOCTTY).bits())
        .open(path)
        .map_err(os)?;
    let metadata = file.metadata().map_err(os)?;
    regular(metadata.file_type())?;
    if metadata.len() > MAX_SCRIPT_BYTES as u64 {
        return Err(FileError::TooLarge { source: name });
    }
    read_capped(file, &name)
}

/// Reads all of `reader` (stdin: a pipe, a terminal or a file), up to [`MAX_SCRIPT_BYTES`].
/// Ctrl-C stops the read; a reader that never ends stops at the cap.
pub fn read_capped(mut reader: impl Read, source: &str) -> Result<Vec<u8>, FileError> {
    let mut bytes = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        match reader.read(&mut chunk) {
            Ok(0) => return Ok(bytes),
            Ok(n) => {
                if bytes.len() + n > MAX_SCRIPT_BYTES {
                    return Err(FileError::TooLarge {
                        source: source.to_string(),
                    });
                }
                bytes.extend_from_slice(&chunk[..n]);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                if crate::sys::interrupted() {
                    return Err(FileError::Interrupted {
                        source: source.to_string(),
                    });
                }
            }
            Err(e) => return Err(os_error(&e, format!("cannot read {source}"))),
        }
    }
}

/// Creates the file at `path` for a recording: only a new file (O_CREAT|O_EXCL), never following
/// a symlink (O_NOFOLLOW), so a script can neither truncate nor append to a file that exists.
pub fn create_new(path: &Path) -> Result<File, FileError> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(OFlag::O_NOFOLLOW.bits())
        .mode(0o644)
        .open(path)
        .map_err(|error| {
            let name = shown(path);
            match error.raw_os_error() {
                Some(code) if code == Errno::EEXIST as i32 => FileError::Os {
                    errno: Errno::EEXIST,
                    message: format!(
                        "cannot record to {name}: the file exists, and a recording only ever makes a new file"
                    ),
                },
                _ => os_error(&error, format!("cannot create {name} for the recording")),
            }
        })
}

/// An error of the kernel's: `what (No such file or directory)`.
fn os_error(error: &io::Error, what: String) -> FileError {
    let errno = Errno::from_raw(error.raw_os_error().unwrap_or(Errno::EIO as i32));
    FileError::Os {
        errno,
        message: format!("{what} ({})", errno.desc()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reader_past_the_cap_is_an_error_not_a_huge_buffer() {
        let zeros = std::io::repeat(0).take(MAX_SCRIPT_BYTES as u64 + 1);
        assert_eq!(
            read_capped(zeros, "<stdin>"),
            Err(FileError::TooLarge {
                source: "<stdin>".into()
            })
        );
        let exact = std::io::repeat(b'#').take(MAX_SCRIPT_BYTES as u64);
        assert_eq!(
            read_capped(exact, "<stdin>").map(|b| b.len()),
            Ok(MAX_SCRIPT_BYTES)
        );
    }

    #[test]
    fn special_files_are_refused_before_they_are_read() {
        let zero = read_script(Path::new("/dev/zero"));
        assert_eq!(
            zero.map_err(|e| e.to_string()),
            Err("/dev/zero is a character device, not a regular file: a script is read only from a regular file".into())
        );
        let dir = read_script(Path::new("/"));
        assert_eq!(
            dir.map_err(|e| e.to_string()),
            Err("EISDIR: / is a directory, not a regular file: a script is read only from a regular file".into())
        );
    }
}
