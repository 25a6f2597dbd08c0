//! Bounded waits: poll(2) on one fd until it is ready, the deadline passes, or Ctrl-C is pressed;
//! and calls made the bounded-blocking way on top of them.

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

/// Makes `call` as a blocking call would end, bounded by `deadline`: waits until `fd` reports
/// `events`, then makes `call`, which must not block (MSG_DONTWAIT, or O_NONBLOCK for the call).
/// Readiness is only a hint: another holder of the socket (a dup, another process) may take the
/// connection or the bytes between the wait and the call, which then fails with EAGAIN; a blocking
/// call would go on waiting, so this waits again, until the deadline.
pub fn call_when_ready<T>(
    fd: BorrowedFd,
    events: PollFlags,
    deadline: Instant,
    mut call: impl FnMut() -> Result<T, Errno>,
) -> Result<Result<T, Errno>, WaitError> {
    loop {
        wait_until(fd, events, deadline)?;
        match call() {
            Err(Errno::EAGAIN) => {
                // poll can keep saying ready while the call keeps saying EAGAIN (a datagram
                // socket shut down for reading): pause between tries, and end at the deadline.
                if Instant::now() >= deadline {
                    return Err(WaitError::TimedOut);
                }
                std::thread::sleep(
                    RETRY_PAUSE.min(deadline.saturating_duration_since(Instant::now())),
                );
            }
            result => return Ok(result),
        }
    }
}

/// How long [`call_when_ready`] pauses after a call that found nothing although poll said ready.
const RETRY_PAUSE: Duration = Duration::from_millis(10);

/// Whether the read side of `fd` is shut down (by its own `shutdown` for reading, or a peer's
/// FIN or close): a blocking read then returns at once rather than waiting, even with nothing
/// queued, where a read with MSG_DONTWAIT on a datagram socket says EAGAIN.
pub fn read_side_shut(fd: BorrowedFd) -> bool {
    let rdhup = super::socket::POLLRDHUP;
    matches!(
        super::ready::poll_once(&[fd], rdhup, Duration::ZERO),
        Ok(Some(revents)) if revents.first().is_some_and(|r| r.contains(rdhup))
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::os::fd::{AsFd, AsRawFd};
    use std::os::unix::net::UnixStream;

    fn recv_now(socket: &UnixStream) -> Result<usize, Errno> {
        let mut byte = [0u8; 1];
        nix::sys::socket::recv(
            socket.as_raw_fd(),
            &mut byte,
            nix::sys::socket::MsgFlags::MSG_DONTWAIT,
        )
    }

    #[test]
    fn bytes_taken_by_another_holder_send_the_call_back_to_waiting_until_the_deadline() {
        let (mut peer, socket) = UnixStream::pair().expect("socketpair");
        let mut other_holder = socket.try_clone().expect("dup");
        peer.write_all(b"x").expect("send");
        let started = Instant::now();
        let mut calls = 0;
        let result = call_when_ready(
            socket.as_fd(),
            PollFlags::POLLIN,
            started + Duration::from_millis(300),
            || {
                calls += 1;
                if calls == 1 {
                    // The other holder reads between the wait and the call.
                    let mut byte = [0u8; 1];
                    other_holder
                        .read_exact(&mut byte)
                        .expect("the other holder reads");
                }
                recv_now(&socket)
            },
        );
        assert_eq!(result, Err(WaitError::TimedOut));
        assert_eq!(calls, 1, "the call was made again without new data");
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(300) && waited < Duration::from_secs(2),
            "{waited:?}"
        );
    }

    #[test]
    fn ready_but_empty_for_ever_ends_at_the_deadline_without_spinning() {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        socket
            .connect(socket.local_addr().expect("addr"))
            .expect("connect");
        nix::sys::socket::shutdown(socket.as_raw_fd(), nix::sys::socket::Shutdown::Read)
            .expect("shutdown");
        assert!(read_side_shut(socket.as_fd()));
        let started = Instant::now();
        let mut calls = 0;
        let result = call_when_ready(
            socket.as_fd(),
            PollFlags::POLLIN,
            started + Duration::from_millis(200),
            || {
                calls += 1;
                Err::<usize, _>(Errno::EAGAIN)
            },
        );
        assert_eq!(result, Err(WaitError::TimedOut));
        assert!(calls < 40, "{calls} calls in 200 ms: it spun");
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn data_that_arrives_after_a_lost_race_is_received() {
        let (mut peer, socket) = UnixStream::pair().expect("socketpair");
        let mut other_holder = socket.try_clone().expect("dup");
        peer.write_all(b"x").expect("send");
        let mut calls = 0;
        let mut late_sender = None;
        let mut peer = Some(peer);
        let result = call_when_ready(
            socket.as_fd(),
            PollFlags::POLLIN,
            Instant::now() + Duration::from_secs(5),
            || {
                calls += 1;
                if let Some(mut peer) = peer.take() {
                    let mut byte = [0u8; 1];
                    other_holder
                        .read_exact(&mut byte)
                        .expect("the other holder reads");
                    late_sender = Some(std::thread::spawn(move || {
                        std::thread::sleep(Duration::from_millis(100));
                        peer.write_all(b"y").expect("send again");
                        peer
                    }));
                }
                recv_now(&socket)
            },
        );
        assert_eq!(result, Ok(Ok(1)));
        assert_eq!(calls, 2);
        drop(late_sender.map(|sender| sender.join()));
    }
}
