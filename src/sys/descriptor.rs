//! Calls on one fd of this process by its number: what kind of file is open there (fstat), whether
//! anything is (F_GETFD), whether it is a terminal; a copy moved up to a high number; and an fd kept
//! open with no owner ([`Detached`]).
//!
//! The number need not be open: these calls only read, so a number that is closed (or closes
//! meanwhile) gives EBADF, and one that was reused describes whatever holds it now.

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};

/// The type of file an fd refers to, from the `S_IFMT` bits of its mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    Socket,
    /// A pipe or FIFO.
    Fifo,
    CharDevice,
    BlockDevice,
    Regular,
    Directory,
    Symlink,
    /// No type bits: an anonymous inode (epoll, eventfd, timerfd, pidfd, …).
    Unknown,
}

impl FileType {
    fn of_mode(mode: libc::mode_t) -> FileType {
        match mode & libc::S_IFMT {
            libc::S_IFSOCK => FileType::Socket,
            libc::S_IFIFO => FileType::Fifo,
            libc::S_IFCHR => FileType::CharDevice,
            libc::S_IFBLK => FileType::BlockDevice,
            libc::S_IFREG => FileType::Regular,
            libc::S_IFDIR => FileType::Directory,
            libc::S_IFLNK => FileType::Symlink,
            _ => FileType::Unknown,
        }
    }
}

/// What fstat says about an open file that sockplay uses: which object it is and its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStat {
    /// The device, which with the inode names the open object.
    pub dev: u64,
    /// The inode (st_ino): two fds with the same (device, inode) refer to the same object.
    pub ino: u64,
    pub file_type: FileType,
}

/// fstat(2) of the fd numbered `fd`, which need not be open (then EBADF).
pub fn fstat(fd: RawFd) -> io::Result<FileStat> {
    let mut stat = MaybeUninit::<libc::stat>::uninit();
    // SAFETY: the pointer is valid for one `struct stat`, which fstat fills or leaves alone.
    syscall!(fstat(fd, stat.as_mut_ptr()))?;
    // SAFETY: fstat succeeded, so it filled the whole struct.
    let stat = unsafe { stat.assume_init() };
    // Widening on purpose: dev_t and ino_t are narrower than u64 on some 32-bit targets.
    #[allow(clippy::unnecessary_cast)]
    let (dev, ino) = (stat.st_dev as u64, stat.st_ino as u64);
    Ok(FileStat {
        dev,
        ino,
        file_type: FileType::of_mode(stat.st_mode),
    })
}

/// Whether the fd numbered `fd` is open, found without opening anything (fcntl F_GETFD).
pub fn is_open(fd: RawFd) -> bool {
    // SAFETY: F_GETFD takes no argument and only reads the fd's flags; any number may be asked about.
    syscall!(fcntl(fd, libc::F_GETFD)).is_ok()
}

/// Whether the fd numbered `fd` is a terminal (isatty(3)); false when it is not open.
pub fn is_terminal(fd: RawFd) -> bool {
    // SAFETY: isatty only asks the kernel about the number (TCGETS) and touches no memory of ours.
    unsafe { libc::isatty(fd) == 1 }
}

/// A close-on-exec copy of `fd` on the lowest free number at or above `floor` (fcntl
/// F_DUPFD_CLOEXEC): how sockplay keeps its own fds off the low numbers that are the user's.
///
/// Fails with EINVAL when `floor` is at or past the fd limit, EMFILE when no number is free there.
pub fn dup_above(fd: BorrowedFd<'_>, floor: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC only duplicates the borrowed (so open) fd; no memory is passed.
    let high = syscall!(fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, floor))?;
    // SAFETY: fcntl just made this fd, and nothing else knows it.
    Ok(unsafe { OwnedFd::from_raw_fd(high) })
}

/// An fd that stays open with nobody closing it, as after Python's `socket.detach()`: dropping a
/// `Detached` leaves the fd open, and only [`Detached::reclaim`] takes it back to close it.
///
/// Made only from an [`OwnedFd`], so it carries that ownership while no handle does.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Detached(RawFd);

impl Detached {
    /// Lets go of `fd` without closing it.
    pub fn new(fd: OwnedFd) -> Detached {
        Detached(fd.into_raw_fd())
    }

    /// The fd's number.
    pub fn fd(&self) -> RawFd {
        self.0
    }

    /// Owns the fd again, to close it or hand it on.
    pub fn reclaim(self) -> OwnedFd {
        // SAFETY: a Detached is made only from an OwnedFd, whose ownership it took, and this
        // consumes it, so the fd gets exactly one owner again.
        unsafe { OwnedFd::from_raw_fd(self.0) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn fstat_tells_file_types_and_closed_numbers() {
        let (reader, _writer) = std::io::pipe().expect("pipe");
        assert_eq!(
            fstat(reader.as_raw_fd()).expect("open").file_type,
            FileType::Fifo
        );
        let dir = std::fs::File::open("/").expect("/");
        assert_eq!(
            fstat(dir.as_raw_fd()).expect("open").file_type,
            FileType::Directory
        );
        let err = fstat(-1).expect_err("-1 is never open");
        assert_eq!(err.raw_os_error(), Some(libc::EBADF));
        assert!(!is_open(-1));
        assert!(is_open(reader.as_raw_fd()));
        assert!(!is_terminal(reader.as_raw_fd()));
    }

    #[test]
    fn dup_above_lands_at_or_above_the_floor_and_closes_on_exec() {
        let file = std::fs::File::open("/dev/null").expect("/dev/null");
        let high = dup_above(file.as_fd(), 100).expect("a free fd above 100");
        assert!(high.as_raw_fd() >= 100);
        let flags = nix::fcntl::fcntl(&high, nix::fcntl::FcntlArg::F_GETFD).expect("flags");
        assert!(
            nix::fcntl::FdFlag::from_bits_truncate(flags).contains(nix::fcntl::FdFlag::FD_CLOEXEC)
        );
    }

    #[test]
    fn a_detached_fd_stays_open_until_reclaimed() {
        // Far above the numbers parallel tests get, so nobody reuses it between close and check.
        let (soft, _) = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
            .expect("getrlimit");
        let floor = RawFd::try_from(soft / 2).expect("limit fits") + 3;
        let file = std::fs::File::open("/dev/null").expect("/dev/null");
        let high = dup_above(file.as_fd(), floor).expect("a free fd high up");
        let detached = Detached::new(high);
        let fd = detached.fd();
        assert!(is_open(fd));
        nix::unistd::close(detached.reclaim()).expect("close");
        assert!(!is_open(fd));
    }
}
