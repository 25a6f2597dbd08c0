//! The process's FD table as the kernel sees it: one [`FdRow`] per open descriptor, built from per-fd
//! syscalls (fstat, getsockopt, getsockname/getpeername, ioctl), never from /proc/net text; plus what
//! only sock_diag knows ([`diag`]): the queues as `ss` shows them, where a SYN_SENT socket is
//! connecting, whether a closed socket still holds its port, the connections the kernel holds for
//! the process without an fd (queued in an accept queue, or left by a `close`), a Unix listener's
//! queue numbers, and which Unix sockets are each other's peer. An [`Observer`] takes the
//! snapshots of one process; [`Relations`] says which of its sockets belong together; the
//! [`SystemListing`] behind `ss` is every process's sockets, this one's marked by fd.

mod changed_view;
pub mod diag;
mod epoll;
mod inspect;
mod kernel_view;
mod labels;
mod listing;
mod observer;
mod relations;
mod remembered;
mod system;
mod tracker;

pub use epoll::{is_epoll, watches_text, Watch};
pub use inspect::{format_address, inspect_fd, open_inodes};
pub use kernel_view::Leftovers;
pub use labels::Labels;
pub use listing::{open_fds, socket_fds, SocketFd};
pub use observer::{Observed, Observer};
pub use relations::{Held, Relations};
pub use system::{
    system_listing, ListedEnd, ListedSocket, Owner, QueueFill, SystemListing, Unlisted,
};
pub use tracker::Delta;

use std::borrow::Cow;

pub use crate::net::Kind;
use crate::net::{Endpoint, Family, SockState, SockType};

/// One open file descriptor of this process. Its only strings are non-sockets' link targets, and
/// those are display-safe: bytes from the kernel are escaped with [`crate::text::escape_bytes`].
/// (Addresses are typed, and escaped when shown.)
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FdRow {
    pub fd: i32,
    pub kind: Kind,
    /// The inode behind the fd (st_ino): two fds with the same inode are the same socket.
    pub inode: u64,
    /// The address family; sockets only.
    pub family: Option<Family>,
    /// The socket type; sockets only.
    pub sock_type: Option<SockType>,
    /// Bound address; None when unbound or unnamed.
    pub local: Option<Endpoint>,
    /// Peer address; None when not connected, or when the peer is unnamed.
    pub remote: Option<Endpoint>,
    /// TCP: the kernel's state. UDP/Unix: unconnected, connected or listening.
    pub state: Option<SockState>,
    /// RECV-Q as `ss` shows it: for TCP the bytes not yet read (the FIN, once it came, counts 1
    /// until `recv` returns the EOF), for a listener the accept queue's length, for UDP the
    /// memory its queued datagrams take (`sk_rmem_alloc`), for Unix the bytes waiting (a Unix
    /// datagram socket: the next datagram's).
    pub recv_q: Option<u64>,
    /// SEND-Q as `ss` shows it: for TCP the bytes (and SYN or FIN) not yet acknowledged, for a
    /// listener the accept queue's limit, for UDP and Unix the memory of what was sent and not
    /// yet taken by the peer (`sk_wmem_alloc`).
    pub send_q: Option<u64>,
    /// Datagram sockets: the size of the next datagram, what one `recv` returns (at most its
    /// buffer's size) — FIONREAD; None when none waits, and for other sockets.
    pub next_datagram: Option<u64>,
    /// For non-sockets: what the fd points at (`/dev/pts/0`, `pipe:[1234]`, `anon_inode:[eventpoll]`).
    pub target: Option<String>,
    /// Unix sockets: the inode of the connected peer, from sock_diag, so the panel can pair the
    /// two ends of a socketpair, which have no addresses to compare.
    pub peer_inode: Option<u64>,
    /// An IPv6 socket on the wildcard address `[::]` that takes IPv4 too (IPV6_V6ONLY off): a
    /// dual-stack socket, which `ss` shows as `*:PORT`. Its IPv4 peers appear as v4-mapped
    /// addresses (`[::ffff:127.0.0.1]:PORT`).
    #[serde(default)]
    pub dual_stack: bool,
    /// An epoll fd's interest list; None for every other fd.
    #[serde(default)]
    pub watches: Option<Vec<Watch>>,
}

impl FdRow {
    /// The short kind shown in the panel: `tcp`, `udp6`, `unix/stream`, `tty`, `pipe`, `epoll`, …
    pub fn label(&self) -> Cow<'static, str> {
        match self.kind {
            Kind::Socket => socket_label(self.family, self.sock_type),
            Kind::Tty => "tty".into(),
            Kind::Pipe => "pipe".into(),
            Kind::File => "file".into(),
            Kind::Other => match self.target.as_deref() {
                Some(t) if t.contains("eventpoll") => "epoll".into(),
                _ => "other".into(),
            },
        }
    }
}

/// A socket's KIND: `tcp`, `tcp6`, `udp`, `udp6`, or family/type (`unix/stream`, `netlink/raw`),
/// with `?` for what the kernel would not say. The common ones allocate nothing.
fn socket_label(family: Option<Family>, sock_type: Option<SockType>) -> Cow<'static, str> {
    use {Family::*, SockType::*};
    match (family, sock_type) {
        (Some(Inet), Some(Stream)) => "tcp".into(),
        (Some(Inet6), Some(Stream)) => "tcp6".into(),
        (Some(Inet), Some(Dgram)) => "udp".into(),
        (Some(Inet6), Some(Dgram)) => "udp6".into(),
        (Some(Unix), Some(Stream)) => "unix/stream".into(),
        (Some(Unix), Some(Dgram)) => "unix/dgram".into(),
        (Some(Unix), Some(Seqpacket)) => "unix/seqpacket".into(),
        (family, sock_type) => {
            let family = family.map_or_else(|| "?".to_string(), |f| f.to_string());
            let sock_type = sock_type.map_or_else(|| "?".to_string(), |t| t.to_string());
            format!("{family}/{sock_type}").into()
        }
    }
}

/// A connection the kernel holds for the process without an fd: a real kernel socket waiting in a
/// listener's accept queue (until `accept` gives it an fd), what a `close` left of a TCP
/// connection (closing down, then TIME_WAIT, until the kernel forgets it), or a TCP connection
/// whose only reference is an fd in flight (SCM_RIGHTS). Shown under the fd it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PendingConn {
    /// The fd it is shown under: the listener whose accept queue holds it (the lowest fd, if the
    /// listener was dup'ed), or the fd whose connection it was (often closed by now).
    pub listener_fd: i32,
    /// Why it has no fd: queued, or left by a close.
    pub origin: Origin,
    /// The listener's family and type: a TCP or Unix stream or seqpacket socket.
    pub family: Family,
    pub sock_type: SockType,
    /// The address the client connected to.
    pub local: Option<Endpoint>,
    /// The client's address; None for an unnamed Unix client.
    pub remote: Option<Endpoint>,
    /// Queued: TCP SYN_RECV, ESTABLISHED or CLOSE_WAIT (the client already closed); Unix
    /// connected. Left by a close: FIN_WAIT1, FIN_WAIT2, CLOSING, LAST_ACK or TIME_WAIT.
    pub state: SockState,
    /// Unix: the inode of the connecting client socket (the kernel lists pending Unix connections
    /// by their client). TCP: None; the kernel keeps no such link.
    pub peer_inode: Option<u64>,
    /// TCP: bytes the client already sent, waiting for whoever accepts. Unix: None (the kernel
    /// does not list the server end of a pending Unix connection).
    pub recv_q: Option<u64>,
    /// TCP: bytes this end sent and the client has not acknowledged. Unix: None.
    pub send_q: Option<u64>,
    /// TIME_WAIT, and FIN_WAIT2 after a close: how many milliseconds until the kernel forgets the
    /// connection (and frees its port), as of the snapshot.
    pub time_left_ms: Option<u64>,
}

/// Why the kernel holds a connection for the process without an fd.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Origin {
    /// Waiting in the accept queue of the listener it is shown under.
    Queued,
    /// Waiting in the accept queue of one of several listeners of a SO_REUSEPORT group: the
    /// kernel does not say which. `listeners` are the group's fds in this process, the one it is
    /// shown under first; `elsewhere` when another process's listener may hold it too.
    QueuedInOneOf {
        listeners: Vec<i32>,
        elsewhere: bool,
    },
    /// What a `close` left of the connection of the fd it is shown under, whose socket had
    /// `inode`: closing down with no fd, or waiting out TIME_WAIT (also when the fd itself is
    /// still open, in CLOSE). The fd may be closed, or hold another socket by now.
    Left { inode: u64 },
    /// The socket (`inode`) of the fd it is shown under, which no process holds an fd of any
    /// more while the kernel keeps it open: an fd of it was sent with SCM_RIGHTS and the message
    /// is in flight, not yet received. `recvfd` makes it an fd again.
    InFlight { inode: u64 },
}

impl Origin {
    /// Whether it waits in an accept queue.
    pub fn is_queued(&self) -> bool {
        self.came_from().is_none()
    }

    /// The socket (its inode) of the fd it came from: what a close left, or what a message in
    /// flight holds; None for a connection that waits in an accept queue.
    pub fn came_from(&self) -> Option<u64> {
        match *self {
            Origin::Left { inode } | Origin::InFlight { inode } => Some(inode),
            Origin::Queued | Origin::QueuedInOneOf { .. } => None,
        }
    }
}

impl PendingConn {
    /// The listener's KIND, as [`FdRow::label`] shows it: `tcp`, `tcp6`, `unix/stream`, …
    pub fn label(&self) -> Cow<'static, str> {
        socket_label(Some(self.family), Some(self.sock_type))
    }

    /// Whether the kernel counts it in its listener's RECV-Q: it waits in an accept queue and
    /// is past the handshake (a half-open SYN_RECV waits in the SYN queue instead, which no
    /// number shows).
    pub fn is_counted_in_queue(&self) -> bool {
        use crate::net::TcpState;
        self.origin.is_queued()
            && !matches!(
                self.state,
                SockState::Tcp(TcpState::SynRecv | TcpState::NewSynRecv)
            )
    }
}

/// The whole table at one moment, sorted by fd, with the connections the kernel holds for the
/// process without an fd, sorted by the fd they are shown under.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Snapshot {
    pub rows: Vec<FdRow>,
    pub pending: Vec<PendingConn>,
}

#[cfg(test)]
impl FdRow {
    /// A TCP socket row with this fd and inode, in CLOSE with empty queues and nothing else set:
    /// the row tests start from.
    pub(crate) fn tcp_for_test(fd: i32, inode: u64) -> FdRow {
        use crate::net::TcpState;
        FdRow {
            fd,
            kind: Kind::Socket,
            inode,
            family: Some(Family::Inet),
            sock_type: Some(SockType::Stream),
            local: None,
            remote: None,
            state: Some(SockState::Tcp(TcpState::Close)),
            recv_q: Some(0),
            send_q: Some(0),
            next_datagram: None,
            target: None,
            peer_inode: None,
            dual_stack: false,
            watches: None,
        }
    }
}

/// Serializes the tests that take whole snapshots, in every module: a snapshot taken by one of
/// them sees the transient /proc directory fd of another running at the same time.
#[cfg(test)]
pub(crate) static SNAPSHOTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// An address as the panel shows it, for tests that compare with text.
#[cfg(test)]
pub(crate) fn shown(endpoint: &Option<Endpoint>) -> Option<String> {
    endpoint.as_ref().map(ToString::to_string)
}

impl Snapshot {
    pub fn get(&self, fd: i32) -> Option<&FdRow> {
        self.rows
            .binary_search_by_key(&fd, |row| row.fd)
            .ok()
            .map(|i| &self.rows[i])
    }
}
