//! Socket calls that no crate offers the way sockplay needs them: questions about a socket of this
//! process by its fd number ([`SocketFd`]: names, family, type, listening, TCP_INFO, the queue
//! ioctls), recvfrom(2) into a plain byte buffer, and the poll bit for a peer's half-close.

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{BorrowedFd, RawFd};

use nix::poll::PollFlags;
use nix::sys::socket::MsgFlags;
use socket2::{SockAddr, SockRef, Socket};

use super::tcp_info::{tcp_info, TcpInfo};

/// The peer shut its writing side (Linux-only, so nix has no name for it).
pub const POLLRDHUP: PollFlags = PollFlags::from_bits_retain(libc::POLLRDHUP);

/// A socket of this process by its fd number, asked about without owning it.
///
/// Every question only reads, so if the number closes meanwhile the answer is EBADF, and if it was
/// reused the answer is about whatever holds it now; nothing is closed or changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketFd(RawFd);

impl SocketFd {
    /// The socket at fd number `fd` (which fstat said is a socket).
    pub fn new(fd: RawFd) -> SocketFd {
        SocketFd(fd)
    }

    /// Runs one read-only query on the socket.
    fn query<T>(self, query: impl FnOnce(&SockRef<'_>) -> io::Result<T>) -> io::Result<T> {
        if self.0 < 0 {
            return Err(io::Error::from_raw_os_error(libc::EBADF));
        }
        // SAFETY: the number is not -1, and the borrow ends with this call and serves only
        // read-only queries; if another thread closes the fd meanwhile, they fail with EBADF (or
        // describe whatever reuses the number), which corrupts neither memory nor the fd.
        let fd = unsafe { BorrowedFd::borrow_raw(self.0) };
        query(&SockRef::from(&fd))
    }

    /// The bound address (getsockname).
    pub fn local_addr(self) -> io::Result<SockAddr> {
        self.query(|socket| socket.local_addr())
    }

    /// The peer's address (getpeername); ENOTCONN when there is none.
    pub fn peer_addr(self) -> io::Result<SockAddr> {
        self.query(|socket| socket.peer_addr())
    }

    /// The AF_ number of the socket's family (SO_DOMAIN).
    pub fn family(self) -> io::Result<i32> {
        self.query(|socket| socket.domain().map(i32::from))
    }

    /// The SOCK_ number of the socket's type (SO_TYPE).
    pub fn sock_type(self) -> io::Result<i32> {
        self.query(|socket| socket.r#type().map(i32::from))
    }

    /// Whether the socket is listening (SO_ACCEPTCONN).
    pub fn is_listener(self) -> io::Result<bool> {
        self.query(|socket| socket.is_listener())
    }

    /// Whether an IPv6 socket takes IPv6 only (IPV6_V6ONLY); EOPNOTSUPP on other families.
    pub fn only_v6(self) -> io::Result<bool> {
        self.query(|socket| socket.only_v6())
    }

    /// Whether the socket shares its port with others that set it too (SO_REUSEPORT).
    pub fn reuses_port(self) -> io::Result<bool> {
        self.query(|socket| socket.reuse_port())
    }

    /// The kernel's TCP_INFO for a TCP socket.
    pub fn tcp_info(self) -> io::Result<TcpInfo> {
        tcp_info(self.0)
    }

    /// Bytes waiting to be read (SIOCINQ); on a datagram socket, the size of the next datagram.
    /// A Unix listener answers EINVAL.
    pub fn unread_bytes(self) -> io::Result<u64> {
        // Linux gives SIOCINQ the number of FIONREAD, and libc only has that name.
        self.queue_len(libc::FIONREAD)
    }

    /// Bytes sent and not yet acknowledged (TCP) or not yet read by the peer (others) (SIOCOUTQ).
    pub fn unsent_bytes(self) -> io::Result<u64> {
        // Linux gives SIOCOUTQ the number of TIOCOUTQ, and libc only has that name.
        self.queue_len(libc::TIOCOUTQ)
    }

    fn queue_len(self, request: libc::Ioctl) -> io::Result<u64> {
        let mut bytes: libc::c_int = 0;
        // SAFETY: both requests write one int through the pointer, which points at a live c_int.
        syscall!(ioctl(self.0, request, &raw mut bytes))?;
        u64::try_from(bytes).map_err(|_| io::Error::from_raw_os_error(libc::EOVERFLOW))
    }
}

/// recvfrom(2) on `socket` into `buf` with `flags`: the length the kernel returned and the sender.
///
/// With MSG_TRUNC on a message socket the length is the whole message's, which can be more than
/// `buf` holds; only `buf.len()` bytes of it are in `buf`.
pub fn recv_from(
    socket: &Socket,
    buf: &mut [u8],
    flags: MsgFlags,
) -> io::Result<(usize, SockAddr)> {
    // SAFETY: u8 and MaybeUninit<u8> have the same layout, and the kernel only writes bytes into
    // it, so the initialized bytes stay initialized.
    let uninit = unsafe { &mut *(std::ptr::from_mut::<[u8]>(buf) as *mut [MaybeUninit<u8>]) };
    socket.recv_from_with_flags(uninit, flags.bits())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{TcpListener, UdpSocket};
    use std::os::fd::AsRawFd;

    #[test]
    fn answers_about_a_listener_by_number() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let socket = SocketFd::new(listener.as_raw_fd());
        assert_eq!(socket.family().expect("SO_DOMAIN"), libc::AF_INET);
        assert_eq!(socket.sock_type().expect("SO_TYPE"), libc::SOCK_STREAM);
        assert!(socket.is_listener().expect("SO_ACCEPTCONN"));
        assert_eq!(
            socket.local_addr().expect("getsockname").as_socket(),
            Some(listener.local_addr().expect("addr"))
        );
        let err = socket.peer_addr().expect_err("a listener has no peer");
        assert_eq!(err.raw_os_error(), Some(libc::ENOTCONN));
        let err = SocketFd::new(-1).family().expect_err("-1 is no fd");
        assert_eq!(err.raw_os_error(), Some(libc::EBADF));
    }

    #[test]
    fn queue_ioctls_count_bytes() {
        let receiver = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let sender = UdpSocket::bind("127.0.0.1:0").expect("bind");
        sender
            .send_to(b"abc", receiver.local_addr().expect("addr"))
            .expect("send");
        let socket = SocketFd::new(receiver.as_raw_fd());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        while socket.unread_bytes().expect("SIOCINQ") != 3 {
            assert!(
                std::time::Instant::now() < deadline,
                "the datagram never queued"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert_eq!(socket.unsent_bytes().expect("SIOCOUTQ"), 0);
    }

    #[test]
    fn recv_from_reports_a_cut_datagrams_whole_length() {
        let receiver = Socket::from(UdpSocket::bind("127.0.0.1:0").expect("bind"));
        let sender = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let to = receiver
            .local_addr()
            .expect("addr")
            .as_socket()
            .expect("inet");
        sender.send_to(b"hello", to).expect("send");
        let mut buf = [0u8; 2];
        let (length, from) = recv_from(&receiver, &mut buf, MsgFlags::MSG_TRUNC).expect("recvfrom");
        assert_eq!((length, &buf), (5, b"he"));
        assert_eq!(from.as_socket(), Some(sender.local_addr().expect("addr")));
    }
}
