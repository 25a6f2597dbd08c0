//! Keeping the fds of libraries sockplay uses (the line editor's SIGWINCH
//! pipe) off the low numbers that the user's sockets should get.

use std::os::fd::{AsRawFd, OwnedFd};

use nix::fcntl::{fcntl, FcntlArg};

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
