//! Keeping the fds of libraries sockplay uses (the line editor's SIGWINCH
//! pipe) off the low numbers that the user's sockets should get, and making sure a signal handler
//! that writes to one of them can never block.

use std::os::fd::{AsRawFd, OwnedFd};

use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::sys::stat::{fstat, SFlag};

use crate::fdtable::open_fds;

/// Fds below this are left to the user's sockets.
const FIRST_INTERNAL_FD: i32 = 64;

/// Runs `make` while every free fd below 64 is taken by a placeholder, so whatever fds `make` opens
/// land at 64 or above; the placeholders are closed afterwards. Returns the fds `make` opened.
pub fn reserve_low_fds_while<T>(make: impl FnOnce() -> T) -> (T, Vec<i32>) {
    let before = open_fds();
    let mut placeholders: Vec<OwnedFd> = Vec::new();
    if let Ok(null) = std::fs::File::open("/dev/null") {
        let null = OwnedFd::from(null);
        loop {
            // F_DUPFD_CLOEXEC(0) returns the lowest free fd, which is exactly the slot to fill.
            match fcntl(&null, FcntlArg::F_DUPFD_CLOEXEC(0)) {
                // SAFETY: fcntl just returned this fd and nothing else owns it.
                Ok(fd) if fd < FIRST_INTERNAL_FD => placeholders
                    .push(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) }),
                Ok(fd) => {
                    // SAFETY: as above; one past the range is not needed.
                    drop(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) });
                    break;
                }
                Err(_) => break,
            }
        }
        placeholders.push(null);
    }
    let made = make();
    let reserved: Vec<i32> = placeholders.iter().map(|fd| fd.as_raw_fd()).collect();
    drop(placeholders);
    let opened = open_fds()
        .into_iter()
        .filter(|fd| !before.contains(fd) && !reserved.contains(fd))
        .collect();
    (made, opened)
}

/// Sets O_NONBLOCK on each of `fds` that is a socket. The line editor's SIGWINCH handler writes a
/// byte to a socketpair that is read only while a line is being edited; during a long command
/// a few hundred resizes fill it, and a blocking write in the handler would then hang sockplay for
/// good. Non-blocking, a write to the full pipe fails with EAGAIN: a resize is pending anyway.
pub fn make_sockets_nonblocking(fds: &[i32]) {
    for &fd in fds {
        // SAFETY: the fd is open for the duration of this loop (the caller just listed it) and is
        // only inspected and given a flag.
        let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
        let is_socket = fstat(fd).is_ok_and(|stat| {
            SFlag::from_bits_truncate(stat.st_mode & SFlag::S_IFMT.bits()) == SFlag::S_IFSOCK
        });
        if !is_socket {
            continue;
        }
        if let Ok(flags) = fcntl(fd, FcntlArg::F_GETFL) {
            let flags = OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK;
            let _ = fcntl(fd, FcntlArg::F_SETFL(flags));
        }
    }
}
