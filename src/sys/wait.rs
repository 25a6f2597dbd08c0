//! Blocking calls made for real, bounded: the call waits in the kernel as the user's program would,
//! and a signal ends the wait at the deadline or at Ctrl-C (see [`super::alarm`]). The kernel then
//! fails the call with EINTR, which this reports as why the wait ended.

use std::os::fd::{AsRawFd, BorrowedFd};
use std::sync::atomic::{AtomicBool, AtomicI16, AtomicI32, Ordering};
use std::time::Instant;

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use super::{cut_at_deadline, interrupted};

/// The fd this process's blocking call waits on, or -1, and the events that end the wait: so
/// another thread can tell that the call is about to return ([`blocked_call_is_ready`]).
static BLOCKED_FD: AtomicI32 = AtomicI32::new(-1);
static BLOCKED_EVENTS: AtomicI16 = AtomicI16::new(0);

/// Set when this process's blocking call returned, until the next one starts or
/// [`forget_returned_call`]: the command that made it is finishing, and answers in a moment
/// ([`blocked_call_returned`]).
static RETURNED: AtomicBool = AtomicBool::new(false);

/// Whether the blocking call this process made returned (the kernel ended the wait) since the
/// command that made it started: its result is on its way.
pub fn blocked_call_returned() -> bool {
    RETURNED.load(Ordering::SeqCst)
}

/// Says a new command starts: a call an earlier one made is not this one's.
pub fn forget_returned_call() {
    RETURNED.store(false, Ordering::SeqCst);
}

/// Whether the blocking call this process is making (if any) has what it waits for, so it is
/// returning now: its fd reports the events it waits for (or an error or hang-up). Looks without
/// waiting (poll(2) with timeout 0).
pub fn blocked_call_is_ready() -> bool {
    let fd = BLOCKED_FD.load(Ordering::SeqCst);
    if fd < 0 {
        return false;
    }
    let events = PollFlags::from_bits_truncate(BLOCKED_EVENTS.load(Ordering::SeqCst));
    // SAFETY: the fd is open while it is recorded: the call that waits on it borrows it, and it
    // is cleared before that call returns. A race with its close yields at worst POLLNVAL.
    let fd = unsafe { BorrowedFd::borrow_raw(fd) };
    let mut fds = [PollFd::new(fd, events)];
    matches!(poll(&mut fds, PollTimeout::ZERO), Ok(n) if n > 0)
}

/// Why a blocking call was cut before the kernel had what it waited for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitError {
    /// The deadline passed; the call returned EINTR.
    TimedOut,
    /// Ctrl-C (or a signal asking sockplay to end); the call returned EINTR.
    Interrupted,
}

/// Makes `call`, a blocking syscall, and cuts its wait at `deadline` or at Ctrl-C. Returns the
/// call's own result when the kernel ended it (a success, an errno, or a partial count that a cut
/// caused), and why it was cut when it failed with EINTR because of that. Another signal's EINTR
/// restarts the call, as SA_RESTART would. A Ctrl-C pressed before the call makes no call.
/// `socket` and `wakes_on` are what the call waits for (POLLIN for accept and recv, POLLOUT for
/// send and connect), told to [`blocked_call_is_ready`] while it waits.
pub fn block_until<T>(
    socket: BorrowedFd<'_>,
    wakes_on: PollFlags,
    deadline: Instant,
    mut call: impl FnMut() -> Result<T, Errno>,
) -> Result<Result<T, Errno>, WaitError> {
    BLOCKED_EVENTS.store(wakes_on.bits(), Ordering::SeqCst);
    BLOCKED_FD.store(socket.as_raw_fd(), Ordering::SeqCst);
    // Blocked again (a command may make several calls): not returning until this one does.
    RETURNED.store(false, Ordering::SeqCst);
    let result = block(deadline, &mut call);
    // Returned before it stops counting as blocked, so another thread never sees it as neither.
    RETURNED.store(true, Ordering::SeqCst);
    BLOCKED_FD.store(-1, Ordering::SeqCst);
    result
}

fn block<T>(
    deadline: Instant,
    mut call: impl FnMut() -> Result<T, Errno>,
) -> Result<Result<T, Errno>, WaitError> {
    loop {
        if interrupted() {
            return Err(WaitError::Interrupted);
        }
        let (result, cut) = cut_at_deadline(deadline, &mut call);
        match result {
            Err(Errno::EINTR) if interrupted() => return Err(WaitError::Interrupted),
            Err(Errno::EINTR) if cut || Instant::now() >= deadline => {
                return Err(WaitError::TimedOut)
            }
            Err(Errno::EINTR) => {}
            result => return Ok(result),
        }
    }
}

/// Whether the read side of `fd` is shut down (by its own `shutdown` for reading, or a peer's
/// FIN or close): a read then returns at once, even with nothing queued.
pub fn read_side_shut(fd: BorrowedFd) -> bool {
    let rdhup = super::socket::POLLRDHUP;
    matches!(
        super::ready::poll_once(&[fd], rdhup, std::time::Duration::ZERO),
        Ok(Some(revents)) if revents.first().is_some_and(|r| r.contains(rdhup))
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::fd::AsFd;
    use std::os::unix::net::UnixStream;
    use std::time::Duration;

    fn recv_blocking(socket: &UnixStream) -> Result<usize, Errno> {
        let mut byte = [0u8; 1];
        nix::sys::socket::recv(
            socket.as_raw_fd(),
            &mut byte,
            nix::sys::socket::MsgFlags::empty(),
        )
    }

    #[test]
    fn a_recv_with_nothing_to_read_is_cut_at_the_deadline() {
        let (_peer, socket) = UnixStream::pair().expect("socketpair");
        let started = Instant::now();
        let result = block_until(
            socket.as_fd(),
            PollFlags::POLLIN,
            started + Duration::from_millis(300),
            || recv_blocking(&socket),
        );
        assert_eq!(result, Err(WaitError::TimedOut));
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(300) && waited < Duration::from_secs(2),
            "{waited:?}"
        );
    }

    #[test]
    fn data_that_arrives_during_the_wait_is_received() {
        let (mut peer, socket) = UnixStream::pair().expect("socketpair");
        let sender = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            peer.write_all(b"y").expect("send");
            peer
        });
        let result = block_until(
            socket.as_fd(),
            PollFlags::POLLIN,
            Instant::now() + Duration::from_secs(5),
            || recv_blocking(&socket),
        );
        assert_eq!(result, Ok(Ok(1)));
        drop(sender.join());
    }

    #[test]
    fn a_call_the_kernel_fails_at_once_returns_its_errno() {
        let (_peer, socket) = UnixStream::pair().expect("socketpair");
        let started = Instant::now();
        // accept(2) on a socket that is not listening: EINVAL, without a wait.
        let result = block_until(
            socket.as_fd(),
            PollFlags::POLLIN,
            started + Duration::from_secs(5),
            || nix::sys::socket::accept(socket.as_raw_fd()),
        );
        assert_eq!(result, Ok(Err(Errno::EINVAL)));
        assert!(started.elapsed() < Duration::from_secs(1));
    }
}
