//! Waiting on many fds at once: select(2), poll(2) and epoll_wait(2) made once each with the whole
//! timeout, as the user's program would make them, with Ctrl-C cutting the wait by a signal; select
//! over fd sets that refuse fds past FD_SETSIZE instead of panicking; and poll and epoll_wait that
//! hand back every event bit the kernel set (nix's wrappers drop or panic on bits they have no name
//! for, such as POLLRDHUP).

use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::PollFlags;
use nix::sys::epoll::EpollFlags;
use nix::sys::select::{select, FdSet};
use nix::sys::time::{TimeVal, TimeValLike};

use super::{cut_at_deadline, interrupted};

/// The number of fds an `fd_set` can hold: select(2) cannot watch fd 1024 or above.
pub const FD_SETSIZE: i32 = libc::FD_SETSIZE as i32;

/// How long past the call's own timeout the signal that carries Ctrl-C stays armed: the kernel
/// ends the call at its timeout itself, so the signal never stands in for it.
const GRACE: Duration = Duration::from_secs(1);

/// Why a multi-fd wait could not run or ended without a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadyError {
    /// Ctrl-C was pressed during the wait.
    Interrupted,
    /// select(2) was asked to watch an fd its `fd_set` cannot hold.
    PastFdSetSize(i32),
    Os(Errno),
}

/// Makes `look`, one wait call given `timeout` whole, so the call shown is the call the kernel
/// gets: it returns what is ready (`Some`), or `Ok(None)` when the kernel's timeout passed with
/// nothing ready. Ctrl-C cuts the wait (EINTR); another signal's EINTR makes the call again with
/// the time that is left.
pub fn wait_for_ready<T>(
    timeout: Duration,
    mut look: impl FnMut(Duration) -> Result<Option<T>, Errno>,
) -> Result<Option<T>, ReadyError> {
    let deadline = Instant::now() + timeout;
    let mut left = timeout;
    loop {
        if interrupted() {
            return Err(ReadyError::Interrupted);
        }
        let (result, _) = cut_at_deadline(deadline + GRACE, || look(left));
        match result {
            Ok(ready) => return Ok(ready),
            Err(Errno::EINTR) if interrupted() => return Err(ReadyError::Interrupted),
            Err(Errno::EINTR) => {
                left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Ok(None);
                }
            }
            Err(errno) => return Err(ReadyError::Os(errno)),
        }
    }
}

/// The fds select(2) found ready: readable ones, then writable ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selected {
    pub readable: Vec<i32>,
    pub writable: Vec<i32>,
}

impl Selected {
    pub fn count(&self) -> usize {
        self.readable.len() + self.writable.len()
    }
}

/// The first fd that select(2) cannot watch, if any.
fn past_fd_setsize(fds: &[BorrowedFd]) -> Option<i32> {
    fds.iter()
        .map(AsRawFd::as_raw_fd)
        .find(|fd| !(0..FD_SETSIZE).contains(fd))
}

/// One select(2) call waiting at most `timeout`; `None` when nothing became ready. Its caller has
/// refused fds past FD_SETSIZE; they are checked again here because nix's `FdSet` panics on them.
fn select_once(
    read: &[BorrowedFd],
    write: &[BorrowedFd],
    timeout: Duration,
) -> Result<Option<Selected>, Errno> {
    if past_fd_setsize(read)
        .or_else(|| past_fd_setsize(write))
        .is_some()
    {
        return Err(Errno::EINVAL);
    }
    let mut read_set = FdSet::new();
    let mut write_set = FdSet::new();
    for fd in read {
        read_set.insert(*fd);
    }
    for fd in write {
        write_set.insert(*fd);
    }
    let nfds = read
        .iter()
        .chain(write)
        .map(AsRawFd::as_raw_fd)
        .max()
        .map_or(0, |fd| fd + 1);
    let micros = i64::try_from(timeout.as_micros()).unwrap_or(i64::MAX);
    let mut timeval = TimeVal::microseconds(micros);
    // An empty list goes in as NULL, as a C program would pass it.
    let read_arg = (!read.is_empty()).then_some(&mut read_set);
    let write_arg = (!write.is_empty()).then_some(&mut write_set);
    let ready = select(nfds, read_arg, write_arg, None, &mut timeval)?;
    if ready == 0 {
        return Ok(None);
    }
    let pick = |fds: &[BorrowedFd], set: &FdSet| {
        fds.iter()
            .filter(|fd| set.contains(**fd))
            .map(AsRawFd::as_raw_fd)
            .collect()
    };
    Ok(Some(Selected {
        readable: pick(read, &read_set),
        writable: pick(write, &write_set),
    }))
}

/// select(2) over `read` and `write`, until something is ready, `timeout` passes (`Ok(None)`) or
/// Ctrl-C is pressed.
pub fn select_until(
    read: &[BorrowedFd],
    write: &[BorrowedFd],
    timeout: Duration,
) -> Result<Option<Selected>, ReadyError> {
    if let Some(fd) = past_fd_setsize(read).or_else(|| past_fd_setsize(write)) {
        return Err(ReadyError::PastFdSetSize(fd));
    }
    wait_for_ready(timeout, |left| select_once(read, write, left))
}

/// A timeout as poll and epoll_wait take it, in ms, rounded up so a sub-millisecond rest still waits.
fn timeout_ms(timeout: Duration) -> libc::c_int {
    libc::c_int::try_from(timeout.as_micros().div_ceil(1000)).unwrap_or(libc::c_int::MAX)
}

/// One poll(2) call asking `events` of every fd, waiting at most `timeout`: the revents of each fd,
/// in order, or `None` when nothing became ready.
pub fn poll_once(
    fds: &[BorrowedFd],
    events: PollFlags,
    timeout: Duration,
) -> Result<Option<Vec<PollFlags>>, Errno> {
    let numbers: Vec<RawFd> = fds.iter().map(AsRawFd::as_raw_fd).collect();
    poll_numbers_once(&numbers, events, timeout)
}

/// [`poll_once`] on fd numbers, open or not: poll(2) does no I/O on them, and answers POLLNVAL
/// for a number that is not open (poll(2): "Invalid request: fd not open").
pub fn poll_numbers_once(
    fds: &[RawFd],
    events: PollFlags,
    timeout: Duration,
) -> Result<Option<Vec<PollFlags>>, Errno> {
    let mut poll_fds: Vec<libc::pollfd> = fds
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events: events.bits(),
            revents: 0,
        })
        .collect();
    let count = libc::nfds_t::try_from(poll_fds.len()).map_err(|_| Errno::EINVAL)?;
    // SAFETY: the pointer and count describe `poll_fds`, which lives across the call; poll only
    // reports on the fd numbers, whether they are open or not.
    let ready = unsafe { libc::poll(poll_fds.as_mut_ptr(), count, timeout_ms(timeout)) };
    match Errno::result(ready)? {
        0 => Ok(None),
        _ => Ok(Some(
            poll_fds
                .iter()
                .map(|p| PollFlags::from_bits_retain(p.revents))
                .collect(),
        )),
    }
}

/// One event epoll_wait(2) returned: the event bits and the data registered with the fd.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadyEvent {
    pub events: EpollFlags,
    pub data: u64,
}

/// One epoll_wait(2) call for up to `max` events, waiting at most `timeout`; `None` when nothing
/// became ready.
pub fn epoll_wait_once(
    epoll: BorrowedFd,
    max: usize,
    timeout: Duration,
) -> Result<Option<Vec<ReadyEvent>>, Errno> {
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; max.max(1)];
    let capacity = libc::c_int::try_from(events.len()).map_err(|_| Errno::EINVAL)?;
    // SAFETY: the pointer and capacity describe `events`, which lives across the call; the epoll fd
    // is borrowed, so open.
    let ready = unsafe {
        libc::epoll_wait(
            epoll.as_raw_fd(),
            events.as_mut_ptr(),
            capacity,
            timeout_ms(timeout),
        )
    };
    let ready = usize::try_from(Errno::result(ready)?).unwrap_or(0);
    if ready == 0 {
        return Ok(None);
    }
    Ok(Some(
        events
            .iter()
            .take(ready)
            .map(|event| {
                // Copied out first: the struct is packed on x86_64.
                let (bits, data) = (event.events, event.u64);
                ReadyEvent {
                    events: EpollFlags::from_bits_retain(i32::from_ne_bytes(bits.to_ne_bytes())),
                    data,
                }
            })
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;
    use std::os::unix::net::UnixStream;

    #[test]
    fn a_zero_timeout_still_looks() {
        let (left, right) = UnixStream::pair().expect("socketpair");
        let found = select_until(&[], &[left.as_fd()], Duration::ZERO).expect("select");
        assert_eq!(
            found.map(|s| s.writable),
            Some(vec![left.as_fd().as_raw_fd()])
        );
        let found = select_until(&[right.as_fd()], &[], Duration::ZERO).expect("select");
        assert_eq!(found, None);
    }

    #[test]
    fn the_wait_ends_at_the_timeout() {
        let (left, _right) = UnixStream::pair().expect("socketpair");
        let started = Instant::now();
        let found = select_until(&[left.as_fd()], &[], Duration::from_millis(250)).expect("select");
        assert_eq!(found, None);
        assert!(started.elapsed() >= Duration::from_millis(250));
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}
