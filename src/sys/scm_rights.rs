//! Receiving fds over a Unix socket (SCM_RIGHTS): one recvmsg(2) whose fds come back owned.

use std::io::IoSliceMut;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};

/// The most fds one SCM_RIGHTS message can carry (the kernel's SCM_MAX_FD). Room for all of them
/// means the control data is never cut short, so no received fd is lost.
const SCM_MAX_FD: usize = 253;

/// What one recvmsg brought.
#[derive(Debug)]
pub struct Received {
    /// Data bytes, at the start of the buffer passed in.
    pub bytes: usize,
    /// The fds that came with them, new in this process and close-on-exec.
    pub fds: Vec<OwnedFd>,
    /// The control data was cut short (MSG_CTRUNC): the kernel closed the fds that did not fit.
    pub truncated: bool,
}

/// One recvmsg(2) on `socket` with MSG_CMSG_CLOEXEC, the data into `data`, with room for the most
/// fds a message can carry. It blocks unless the socket is non-blocking.
pub fn recv_with_fds(socket: BorrowedFd<'_>, data: &mut [u8]) -> nix::Result<Received> {
    let mut control = nix::cmsg_space!([RawFd; SCM_MAX_FD]);
    let flags = MsgFlags::MSG_CMSG_CLOEXEC;
    let mut iov = [IoSliceMut::new(data)];
    let message = recvmsg::<()>(socket.as_raw_fd(), &mut iov, Some(&mut control), flags)?;
    let mut raw = Vec::new();
    // With room for SCM_MAX_FD fds the control data is never cut; if it were, nix could not list
    // it safely and says so.
    let truncated = match message.cmsgs() {
        Ok(cmsgs) => {
            for cmsg in cmsgs {
                if let ControlMessageOwned::ScmRights(fds) = cmsg {
                    raw.extend(fds);
                }
            }
            false
        }
        Err(_) => true,
    };
    // SAFETY: recvmsg just installed these fds in this process; nothing else knows them yet, so
    // each OwnedFd is the only owner.
    let fds = raw
        .into_iter()
        .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) })
        .collect();
    Ok(Received {
        bytes: message.bytes,
        fds,
        truncated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::IoSlice;
    use std::os::fd::AsFd;
    use std::os::unix::net::UnixStream;

    use nix::sys::socket::{sendmsg, ControlMessage};

    #[test]
    fn an_fd_arrives_owned_with_its_byte() {
        let (left, right) = UnixStream::pair().expect("socketpair");
        let (reader, _writer) = std::io::pipe().expect("pipe");
        let passed = [reader.as_raw_fd()];
        sendmsg::<()>(
            left.as_raw_fd(),
            &[IoSlice::new(b"x")],
            &[ControlMessage::ScmRights(&passed)],
            MsgFlags::empty(),
            None,
        )
        .expect("sendmsg");
        let mut data = [0u8; 8];
        let received = recv_with_fds(right.as_fd(), &mut data).expect("recvmsg");
        assert_eq!(
            (received.bytes, data[0], received.truncated),
            (1, b'x', false)
        );
        assert_eq!(received.fds.len(), 1);
        assert_ne!(received.fds[0].as_raw_fd(), reader.as_raw_fd());
        right.set_nonblocking(true).expect("non-blocking");
        let err = recv_with_fds(right.as_fd(), &mut data).expect_err("nothing more");
        assert_eq!(err, nix::errno::Errno::EAGAIN);
    }
}
