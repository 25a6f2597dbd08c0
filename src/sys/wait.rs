//! Bounded waits: poll(2) on one fd until it is ready, the deadline passes, or Ctrl-C is pressed.

use std::os::fd::BorrowedFd;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use super::interrupted;

/// Why a wait ended without the fd becoming ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitError {
    TimedOut,
    Interrupted,
    Os(Errno),
}

/// The longest single poll, so a Ctrl-C that lands just before poll starts is still seen quickly.
const SLICE: Duration = Duration::from_millis(100);

/// Waits until `fd` reports any of `events` (or an error/hang-up, which the next call will report),
/// or until `deadline`.
pub fn wait_until(
    fd: BorrowedFd,
    events: PollFlags,
    deadline: Instant,
) -> Result<PollFlags, WaitError> {
    loop {
        if interrupted() {
            return Err(WaitError::Interrupted);
        }
        // Always look at least once, so a zero timeout still finds an fd that is ready now.
        let slice = deadline
            .saturating_duration_since(Instant::now())
            .min(SLICE);
        let timeout = PollTimeout::try_from(slice).unwrap_or(PollTimeout::MAX);
        let mut fds = [PollFd::new(fd, events)];
        match poll(&mut fds, timeout) {
            Ok(0) => {}
            Ok(_) => return Ok(fds[0].revents().unwrap_or(PollFlags::empty())),
            Err(Errno::EINTR) => {}
            Err(errno) => return Err(WaitError::Os(errno)),
        }
        if Instant::now() >= deadline {
            return Err(WaitError::TimedOut);
        }
    }
}
