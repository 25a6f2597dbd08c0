//! Reading directories and links into buffers the caller owns, with nothing allocated per entry:
//! getdents64(2) and its records, and readlink(2). What /proc/…/fd means is the fd table's business.

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// The longest path a link can hold, with its NUL: a buffer of this size takes any link whole.
pub const PATH_MAX: usize = libc::PATH_MAX as usize;

/// Reads the next batch of directory entries of `dir` into `buf` and returns the filled part,
/// empty at the end of the directory. [`dirent_names`] reads the names in it.
pub fn getdents64<'b>(dir: BorrowedFd<'_>, buf: &'b mut [u8]) -> io::Result<&'b [u8]> {
    // SAFETY: `buf` is writable for `buf.len()` bytes, and getdents64 writes at most that many;
    // the directory fd is borrowed, so open.
    let n = syscall!(syscall(
        libc::SYS_getdents64,
        dir.as_raw_fd(),
        buf.as_mut_ptr(),
        buf.len()
    ))?;
    let n = usize::try_from(n).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    Ok(buf.get(..n).unwrap_or(buf))
}

/// The names in a getdents64 batch of `struct linux_dirent64` records, each `d_ino` (8 bytes),
/// `d_off` (8), `d_reclen` (2), `d_type` (1), then the NUL-terminated name, padded to `d_reclen`.
/// A record that does not fit ends the walk; a name without its NUL reads as "".
pub fn dirent_names(mut batch: &[u8]) -> impl Iterator<Item = &CStr> {
    const NAME_OFFSET: usize = 19;
    std::iter::from_fn(move || {
        let reclen = usize::from(u16::from_ne_bytes([*batch.get(16)?, *batch.get(17)?]));
        let record = batch.get(NAME_OFFSET..reclen)?;
        batch = batch.get(reclen..)?;
        Some(CStr::from_bytes_until_nul(record).unwrap_or_default())
    })
}

/// Reads the link at `path` into `buf` (readlink(2)) and returns its bytes; a link longer than
/// `buf` comes back cut to its length, so a buffer of [`PATH_MAX`] is the one to pass.
pub fn readlink<'b>(path: &CStr, buf: &'b mut [u8]) -> io::Result<&'b [u8]> {
    // SAFETY: `path` is NUL-terminated, and readlink writes at most `buf.len()` bytes into `buf`.
    let len = syscall!(readlink(path.as_ptr(), buf.as_mut_ptr().cast(), buf.len()))?;
    let len = usize::try_from(len).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    Ok(buf.get(..len).unwrap_or(buf))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn lists_a_directory_and_reads_a_link() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("one"), b"").expect("write");
        std::os::unix::fs::symlink("/some/target", dir.path().join("two")).expect("symlink");
        let handle = std::fs::File::open(dir.path()).expect("open dir");
        let mut buf = [0u8; 4096];
        let mut names = Vec::new();
        loop {
            let batch = getdents64(handle.as_fd(), &mut buf).expect("getdents64");
            if batch.is_empty() {
                break;
            }
            names.extend(dirent_names(batch).map(|n| n.to_string_lossy().into_owned()));
        }
        names.sort();
        assert_eq!(names, [".", "..", "one", "two"]);

        let path =
            std::ffi::CString::new(dir.path().join("two").into_os_string().into_encoded_bytes())
                .expect("no NUL");
        let mut link = [0u8; PATH_MAX];
        assert_eq!(
            readlink(&path, &mut link).expect("readlink"),
            b"/some/target"
        );
        let err = readlink(c"/nonexistent/link", &mut link).expect_err("missing");
        assert_eq!(err.raw_os_error(), Some(libc::ENOENT));
    }

    #[test]
    fn a_cut_batch_never_panics() {
        let mut record = vec![0u8; 24];
        record[16..18].copy_from_slice(&24u16.to_ne_bytes());
        record[19..21].copy_from_slice(b"42");
        for cut in 0..record.len() {
            let _ = dirent_names(&record[..cut]).count();
        }
        let names: Vec<&CStr> = dirent_names(&record).collect();
        assert_eq!(names, [c"42"]);
    }
}
