//! The process's FD table as the kernel sees it: one [`FdRow`] per open descriptor, built from per-fd
//! syscalls (fstat, getsockopt, getsockname/getpeername, ioctl), never from /proc/net text; plus what
//! only sock_diag knows ([`diag`]): the connections waiting in each listener's accept queue, a Unix
//! listener's queue numbers, and which Unix sockets are each other's peer.

pub mod diag;
mod inspect;
mod kernel_view;
mod tcp_info;

pub use inspect::{format_address, inspect_fd, open_fds, snapshot, snapshot_by_probing};

use std::borrow::Cow;

pub use crate::net::Kind;

/// One open file descriptor of this process. Every string in it is display-safe: bytes from the
/// kernel (paths, abstract names, link targets) are escaped with [`crate::render::escape_bytes`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FdRow {
    pub fd: i32,
    pub kind: Kind,
    /// The inode behind the fd (st_ino): two fds with the same inode are the same socket.
    pub inode: u64,
    /// `inet`, `inet6`, `unix`, or another AF_ name in lower case; sockets only. (The names are
    /// static: a table of thousands of sockets allocates nothing for them.)
    pub family: Option<Cow<'static, str>>,
    /// `stream`, `dgram`, `seqpacket`, `raw`; sockets only.
    pub sock_type: Option<Cow<'static, str>>,
    /// Bound address (`127.0.0.1:8080`, `/tmp/x.sock`, `@name`); None when unbound.
    pub local: Option<String>,
    /// Peer address; None when not connected.
    pub remote: Option<String>,
    /// TCP: the kernel's state name. UDP/Unix: UNCONNECTED, CONNECTED or LISTEN.
    pub state: Option<Cow<'static, str>>,
    /// Bytes waiting to be read, or for a listener the accept queue's length.
    pub recv_q: Option<u64>,
    /// Bytes not yet acknowledged / read by the peer, or for a listener the accept queue's limit.
    pub send_q: Option<u64>,
    /// For non-sockets: what the fd points at (`/dev/pts/0`, `pipe:[1234]`, `anon_inode:[eventpoll]`).
    pub target: Option<String>,
    /// Unix sockets: the inode of the connected peer, from sock_diag, so the panel can pair the
    /// two ends of a socketpair, which have no addresses to compare.
    pub peer_inode: Option<u64>,
}

impl FdRow {
    /// The short kind shown in the panel: `tcp`, `udp6`, `unix/stream`, `tty`, `pipe`, `epoll`, …
    pub fn label(&self) -> String {
        match self.kind {
            Kind::Socket => {
                let family = self.family.as_deref().unwrap_or("?");
                let ty = self.sock_type.as_deref().unwrap_or("?");
                match (family, ty) {
                    ("inet", "stream") => "tcp".into(),
                    ("inet6", "stream") => "tcp6".into(),
                    ("inet", "dgram") => "udp".into(),
                    ("inet6", "dgram") => "udp6".into(),
                    (family, ty) => format!("{family}/{ty}"),
                }
            }
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

/// A connection waiting in a listener's accept queue: a real kernel socket with no fd yet, shown
/// under its listener until `accept` gives it one. Its strings are display-safe, like [`FdRow`]'s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingConn {
    /// The listener's fd (the lowest, if the listener was dup'ed).
    pub listener_fd: i32,
    /// The listener's KIND: `tcp`, `tcp6`, `unix/stream`, `unix/seqpacket`.
    pub kind: String,
    /// The address the client connected to.
    pub local: Option<String>,
    /// The client's address; None for an unnamed Unix client.
    pub remote: Option<String>,
    /// TCP: SYN_RECV, ESTABLISHED or CLOSE_WAIT (the client already closed). Unix: CONNECTED.
    pub state: String,
    /// Unix: the inode of the connecting client socket (the kernel lists pending Unix connections
    /// by their client). TCP: None; the kernel keeps no such link.
    pub peer_inode: Option<u64>,
    /// TCP: bytes the client already sent, waiting for whoever accepts. Unix: None (the kernel
    /// does not list the server end of a pending Unix connection).
    pub recv_q: Option<u64>,
    /// TCP: bytes this end sent and the client has not acknowledged. Unix: None.
    pub send_q: Option<u64>,
}

/// The whole table at one moment, sorted by fd, with the connections waiting in the accept queues
/// of its listeners, sorted by listener fd.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub rows: Vec<FdRow>,
    pub pending: Vec<PendingConn>,
}

/// Serializes the tests that take whole snapshots, in every module: a snapshot taken by one of
/// them sees the transient /proc directory fd of another running at the same time.
#[cfg(test)]
pub(crate) static SNAPSHOTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl Snapshot {
    pub fn get(&self, fd: i32) -> Option<&FdRow> {
        self.rows
            .binary_search_by_key(&fd, |row| row.fd)
            .ok()
            .map(|i| &self.rows[i])
    }
}
