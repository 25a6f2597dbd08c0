//! The control channel between the front end and a worker: an AF_UNIX stream socket carrying
//! frames, each a 4-byte length (big-endian) and that many bytes of JSON. A frame may carry an fd
//! with its first bytes (SCM_RIGHTS): the channel of a process that `spawn` or `fork` made.

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::time::Duration;

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::socket::MsgFlags;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::sys::process::{recv_with_fds, send_with_fd};

/// The largest frame either side accepts: far more than any table, and a bound on what a
/// confused peer can make the other allocate.
const MAX_FRAME: usize = 256 * 1024 * 1024;

/// How much one read takes at most.
const READ_CHUNK: usize = 64 * 1024;

fn invalid(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.into())
}

/// Writes `message` as one frame, with `attach` passed along with its first bytes. Safe to call
/// from several threads when they hold one lock around it (frames must not interleave).
pub fn write_frame<T: Serialize>(
    socket: BorrowedFd,
    message: &T,
    attach: Option<BorrowedFd>,
) -> io::Result<()> {
    let payload = serde_json::to_vec(message).map_err(io::Error::other)?;
    let length = u32::try_from(payload.len())
        .ok()
        .filter(|&n| n as usize <= MAX_FRAME)
        .ok_or_else(|| invalid("a message too large for one frame"))?;
    let mut frame = Vec::with_capacity(payload.len() + 4);
    frame.extend_from_slice(&length.to_be_bytes());
    frame.extend_from_slice(&payload);
    let mut sent = 0;
    if let Some(fd) = attach {
        loop {
            match send_with_fd(socket, &frame, fd) {
                Ok(n) => {
                    sent = n;
                    break;
                }
                Err(Errno::EINTR) => {}
                Err(errno) => return Err(errno.into()),
            }
        }
    }
    while sent < frame.len() {
        match nix::sys::socket::send(socket.as_raw_fd(), &frame[sent..], MsgFlags::MSG_NOSIGNAL) {
            Ok(n) => sent += n,
            Err(Errno::EINTR) => {}
            Err(errno) => return Err(errno.into()),
        }
    }
    Ok(())
}

/// Whether `socket` has something to read (or its end) within `timeout`.
pub fn readable(socket: BorrowedFd, timeout: Duration) -> io::Result<bool> {
    let timeout = PollTimeout::try_from(timeout).unwrap_or(PollTimeout::MAX);
    let mut fds = [PollFd::new(socket, PollFlags::POLLIN)];
    match poll(&mut fds, timeout) {
        Ok(n) => Ok(n > 0),
        Err(Errno::EINTR) => Ok(false),
        Err(errno) => Err(errno.into()),
    }
}

/// Waits up to `timeout` until some of `sockets` have something to read (or their end);
/// returns their positions in `sockets`.
pub fn readable_among(sockets: &[BorrowedFd], timeout: Duration) -> Vec<usize> {
    let timeout = PollTimeout::try_from(timeout).unwrap_or(PollTimeout::MAX);
    let mut fds: Vec<PollFd> = sockets
        .iter()
        .map(|socket| PollFd::new(*socket, PollFlags::POLLIN))
        .collect();
    if poll(&mut fds, timeout).is_err() {
        return Vec::new();
    }
    fds.iter()
        .enumerate()
        .filter(|(_, fd)| fd.revents().is_some_and(|r| !r.is_empty()))
        .map(|(i, _)| i)
        .collect()
}

/// The reading side of a channel: bytes that arrived, not yet a whole frame, and fds that came
/// with them.
#[derive(Debug, Default)]
pub struct Reader {
    inbox: Vec<u8>,
    fds: VecDeque<OwnedFd>,
    /// Where one read lands, kept from read to read.
    chunk: Vec<u8>,
}

impl Reader {
    /// Reads what the socket has (waiting for something if it has nothing). Returns false at the
    /// end: the other side closed the channel (its process ended).
    pub fn fill(&mut self, socket: BorrowedFd) -> io::Result<bool> {
        if self.chunk.len() < READ_CHUNK {
            self.chunk.resize(READ_CHUNK, 0);
        }
        let buf = &mut self.chunk;
        loop {
            match recv_with_fds(socket, buf) {
                Ok((0, fds)) => {
                    self.fds.extend(fds);
                    return Ok(false);
                }
                Ok((n, fds)) => {
                    self.fds.extend(fds);
                    self.inbox.extend_from_slice(&buf[..n]);
                    return Ok(true);
                }
                Err(Errno::EINTR) => {}
                Err(Errno::ECONNRESET) => return Ok(false),
                Err(errno) => return Err(errno.into()),
            }
        }
    }

    /// The next whole frame, decoded; None until one has arrived whole.
    pub fn next<T: DeserializeOwned>(&mut self) -> io::Result<Option<T>> {
        let Some(header) = self.inbox.first_chunk::<4>() else {
            return Ok(None);
        };
        let length = u32::from_be_bytes(*header) as usize;
        if length > MAX_FRAME {
            return Err(invalid(format!("a frame of {length} bytes")));
        }
        if self.inbox.len() < 4 + length {
            return Ok(None);
        }
        let message = serde_json::from_slice(&self.inbox[4..4 + length])
            .map_err(|e| invalid(format!("a frame that does not decode: {e}")))?;
        self.inbox.drain(..4 + length);
        Ok(Some(message))
    }

    /// The oldest fd that arrived and was not taken yet.
    pub fn take_fd(&mut self) -> Option<OwnedFd> {
        self.fds.pop_front()
    }

    /// Reads until a whole frame is there and returns it; None at the end of the channel.
    pub fn next_blocking<T: DeserializeOwned>(
        &mut self,
        socket: BorrowedFd,
    ) -> io::Result<Option<T>> {
        loop {
            if let Some(message) = self.next()? {
                return Ok(Some(message));
            }
            if !self.fill(socket)? {
                return Ok(None);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;
    use std::os::unix::net::UnixStream;

    #[test]
    fn frames_cross_whole_with_an_fd() {
        let (left, right) = UnixStream::pair().expect("socketpair");
        let (passed, _keep) = UnixStream::pair().expect("socketpair");
        write_frame(left.as_fd(), &"hello".to_string(), Some(passed.as_fd())).expect("write");
        write_frame(left.as_fd(), &vec![1u32, 2, 3], None).expect("write");
        let mut reader = Reader::default();
        let first: String = reader
            .next_blocking(right.as_fd())
            .expect("read")
            .expect("a frame");
        assert_eq!(first, "hello");
        assert!(reader.take_fd().is_some(), "the fd came with the frame");
        let second: Vec<u32> = reader
            .next_blocking(right.as_fd())
            .expect("read")
            .expect("a frame");
        assert_eq!(second, [1, 2, 3]);
        drop(left);
        let end: Option<String> = reader.next_blocking(right.as_fd()).expect("read");
        assert_eq!(end, None);
    }

    #[test]
    fn a_huge_length_is_refused() {
        let mut reader = Reader::default();
        reader.inbox.extend_from_slice(&u32::MAX.to_be_bytes());
        assert!(reader.next::<String>().is_err());
    }
}
