//! The system listing behind `ss`: the TCP, UDP and Unix sockets of every process as sock_diag
//! lists them, which of them `ss`'s flags select, which are this process's (by fd, with their
//! names), and which connections wait in whose accept queue; render lays it out in
//! `ss`'s columns.
//!
//! Which sockets are listed follows `ss`: with no protocol flag all of TCP, UDP and Unix; without
//! `-a` or `-l` only connections (not LISTEN, UNCONN, TIME_WAIT or SYN_RECV); `-l` only listening
//! (and unconnected datagram) sockets; `-a` all of them.

use std::io;

use nix::errno::Errno;

use super::diag::{self, DiagSocket, Netid, QueueOf, SockDiag, States};
use super::{Kind, Labels, Snapshot};
use crate::lang::SsFilter;
use crate::net::{Endpoint, Family, TcpState};

/// The sockets `ss` lists, in the order it lists them.
#[derive(Debug, Default)]
pub struct SystemListing {
    /// The selected sockets, each listener followed by the connections waiting in its queue.
    pub sockets: Vec<ListedSocket>,
    /// This process's listeners whose accept queue holds connections, in the order listed.
    pub queues: Vec<QueueFill>,
    /// The protocols this kernel's sock_diag cannot list (no IPv6, no udp_diag).
    pub unlisted: Vec<Unlisted>,
}

/// One socket of the listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedSocket {
    pub netid: Netid,
    /// A connection in the accept queue of the listener listed just before it.
    pub under_listener: bool,
    /// The state as `ss` shows it (see [`DiagSocket::state_name`]).
    pub state: &'static str,
    /// Bytes waiting to be read, or a listener's queue length; None when the kernel does not say.
    pub recv_q: Option<u64>,
    /// Bytes not yet acknowledged, or a listener's queue limit; None when the kernel does not say.
    pub send_q: Option<u64>,
    pub local: ListedEnd,
    pub peer: ListedEnd,
    pub owner: Owner,
}

/// One end of a listed socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListedEnd {
    /// An inet address; None when there is none (any address, any port).
    Inet {
        address: Option<Endpoint>,
        family: Family,
    },
    /// A Unix socket: its name (None when unnamed) and inode (None when the kernel gives none).
    Unix {
        name: Option<Endpoint>,
        inode: Option<u64>,
    },
}

/// Whose a listed socket is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// Another process's, or no fd's any more.
    Other,
    /// This process's: the fds that hold it, in fd order, and the name one of them was given.
    Ours { fds: Vec<i32>, name: Option<String> },
    /// A connection waiting in an accept queue: no fd holds it yet.
    Queued,
    /// A connection waiting in the accept queue of this process's listener on `fd`, which is not
    /// listed (plain `ss` hides listeners).
    QueuedOn(i32),
}

/// How full the accept queue of one of this process's listeners is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueFill {
    /// The listener's (lowest) fd, and its name.
    pub fd: i32,
    pub name: Option<String>,
    pub waiting: u64,
    pub limit: u64,
}

/// A protocol the kernel cannot list, and its answer.
#[derive(Debug)]
pub struct Unlisted {
    /// `tcp6`, `udp`, `unix`, …
    pub what: &'static str,
    pub error: io::Error,
}

/// What `ss` shows by default: connections, without LISTEN, UNCONN, TIME_WAIT and half-open ones.
fn connected_states() -> States {
    States::ALL.without(States::of(&[
        TcpState::Listen,
        TcpState::Close,
        TcpState::TimeWait,
        TcpState::SynRecv,
        TcpState::NewSynRecv,
    ]))
}

/// Lists the sockets `filter` selects, as `sock_diag` reports them, this process's marked by the
/// fds of `snapshot` (leaving out the fds `labels` calls internal) and their names.
///
/// Fails with the errno of sock_diag when the kernel refuses a dump; a protocol the kernel cannot
/// list (no IPv6, no udp_diag) is left out, and said so in [`SystemListing::unlisted`].
pub fn system_listing(
    sock_diag: &mut SockDiag,
    filter: &SsFilter,
    snapshot: &Snapshot,
    labels: &Labels,
) -> io::Result<SystemListing> {
    let any_protocol = filter.tcp || filter.udp || filter.unix;
    let wanted = if filter.all {
        // `ss -a` does not ask for the sockets that are only bound.
        States::ALL.without(States::BOUND)
    } else if filter.listening {
        States::of(&[TcpState::Listen, TcpState::Close])
    } else {
        connected_states()
    };
    let ours = Ours { snapshot, labels };
    let mut listing = SystemListing::default();
    if filter.tcp || !any_protocol {
        // Listeners and queued connections are always fetched: a queued connection is told
        // apart (and put under its listener) only by comparing it with the listeners.
        let fetch = wanted
            .with(States::of(&[TcpState::Listen]))
            .with(States::of(&diag::QUEUED_STATES));
        for family in [Family::Inet, Family::Inet6] {
            let name = if family == Family::Inet {
                "tcp"
            } else {
                "tcp6"
            };
            if let Some(sockets) =
                listing.tolerate(name, diag::inet(sock_diag, family, Netid::Tcp, fetch, &[]))?
            {
                listing.add_tcp(&sockets, wanted, &ours);
            }
        }
    }
    if filter.udp || !any_protocol {
        for family in [Family::Inet, Family::Inet6] {
            let name = if family == Family::Inet {
                "udp"
            } else {
                "udp6"
            };
            if let Some(sockets) =
                listing.tolerate(name, diag::inet(sock_diag, family, Netid::Udp, wanted, &[]))?
            {
                for socket in sockets.iter().filter(|s| wanted.contains(s.state)) {
                    listing.sockets.push(ListedSocket::of(socket, &ours));
                }
            }
        }
    }
    if filter.unix || !any_protocol {
        if let Some(sockets) = listing.tolerate("unix", diag::unix(sock_diag, States::ALL))? {
            listing.add_unix(&sockets, wanted, &ours);
        }
    }
    Ok(listing)
}

/// This process's side of the listing: which fds hold a socket, and their names.
struct Ours<'a> {
    snapshot: &'a Snapshot,
    labels: &'a Labels,
}

impl Ours<'_> {
    /// The fds of this process that hold the socket with `inode`, in fd order.
    fn fds_of(&self, inode: u64) -> Vec<i32> {
        if inode == 0 {
            return Vec::new();
        }
        self.snapshot
            .rows
            .iter()
            .filter(|r| r.kind == Kind::Socket && r.inode == inode)
            .filter(|r| !self.labels.internal.contains(&r.fd))
            .map(|r| r.fd)
            .collect()
    }

    /// Whose the socket with `inode` is: this process's fds and their name, or another's.
    fn owner(&self, inode: u64) -> Owner {
        let fds = self.fds_of(inode);
        if fds.is_empty() {
            return Owner::Other;
        }
        let name = fds.iter().find_map(|fd| self.labels.names.get(fd)).cloned();
        Owner::Ours { fds, name }
    }
}

impl ListedSocket {
    /// The socket as the kernel listed it.
    fn of(socket: &DiagSocket, ours: &Ours<'_>) -> ListedSocket {
        ListedSocket {
            netid: socket.netid,
            under_listener: false,
            state: socket.state_name(),
            recv_q: Some(socket.recv_q),
            send_q: Some(socket.send_q),
            local: local_end(socket),
            peer: peer_end(socket),
            owner: ours.owner(socket.inode),
        }
    }

    /// Marks the socket as a connection waiting in the accept queue of the listener above it.
    fn under_listener(mut self) -> ListedSocket {
        self.under_listener = true;
        self.owner = Owner::Queued;
        self
    }
}

/// The Local end: the bound address; for a Unix socket its name and inode.
fn local_end(socket: &DiagSocket) -> ListedEnd {
    match socket.family {
        Family::Unix => ListedEnd::Unix {
            name: socket.local.clone(),
            inode: Some(socket.inode),
        },
        family => ListedEnd::Inet {
            address: socket.local.clone(),
            family,
        },
    }
}

/// The Peer end: the peer's address; for a Unix socket the peer's name and inode (0, as `ss`
/// shows it, when the kernel names no peer).
fn peer_end(socket: &DiagSocket) -> ListedEnd {
    match socket.family {
        Family::Unix => ListedEnd::Unix {
            name: socket.remote.clone(),
            inode: Some(socket.peer_inode.unwrap_or(0)),
        },
        family => ListedEnd::Inet {
            address: socket.remote.clone(),
            family,
        },
    }
}

impl SystemListing {
    /// Passes a dump's result on, except that a protocol or family the kernel cannot list
    /// becomes an entry of [`SystemListing::unlisted`] and None.
    fn tolerate(
        &mut self,
        what: &'static str,
        result: io::Result<Vec<DiagSocket>>,
    ) -> io::Result<Option<Vec<DiagSocket>>> {
        match result {
            Ok(sockets) => Ok(Some(sockets)),
            Err(error)
                if matches!(
                    Errno::from_raw(error.raw_os_error().unwrap_or(0)),
                    Errno::ENOENT
                        | Errno::EAFNOSUPPORT
                        | Errno::EPROTONOSUPPORT
                        | Errno::EOPNOTSUPP
                ) =>
            {
                self.unlisted.push(Unlisted { what, error });
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Adds the TCP sockets in `wanted`, with each listener's queued connections right under it.
    /// A queued connection whose listener is not listed (plain `ss` hides listeners) stands
    /// alone, as `ss` shows it, but says whose queue it is in.
    fn add_tcp(&mut self, sockets: &[DiagSocket], wanted: States, ours: &Ours<'_>) {
        let listeners: Vec<usize> = (0..sockets.len())
            .filter(|&i| sockets[i].is_in(TcpState::Listen))
            .collect();
        // For each socket, the listener whose queue it waits in, when the kernel lets one tell (in
        // a SO_REUSEPORT group it may not: then the connection stands alone, as `ss` shows it).
        let owner: Vec<Option<usize>> = sockets
            .iter()
            .map(
                |s| match diag::queue_of(s, listeners.iter().map(|&l| &sockets[l])) {
                    QueueOf::Listener(listener) => listeners
                        .iter()
                        .copied()
                        .find(|&l| std::ptr::eq(&sockets[l], listener)),
                    QueueOf::Nobody | QueueOf::OneOf(_) => None,
                },
            )
            .collect();
        let show_listeners = wanted.contains(TcpState::Listen.number());
        for (i, socket) in sockets.iter().enumerate() {
            if socket.is_in(TcpState::Listen) {
                if !show_listeners {
                    continue;
                }
                self.sockets.push(ListedSocket::of(socket, ours));
                for (conn, _) in sockets
                    .iter()
                    .zip(&owner)
                    .filter(|(_, owner)| **owner == Some(i))
                {
                    self.sockets
                        .push(ListedSocket::of(conn, ours).under_listener());
                }
                self.count_queue(socket, ours);
                continue;
            }
            let listener = owner.get(i).copied().flatten().map(|l| &sockets[l]);
            if listener.is_some() && show_listeners {
                // Already listed under its listener.
                continue;
            }
            if !wanted.contains(socket.state) {
                continue;
            }
            let mut listed = ListedSocket::of(socket, ours);
            if let Some(listener) = listener {
                listed.owner = match ours.fds_of(listener.inode).first() {
                    Some(&fd) => Owner::QueuedOn(fd),
                    None => Owner::Queued,
                };
            }
            self.sockets.push(listed);
        }
    }

    /// Adds the Unix sockets in `wanted`, with the clients waiting on each listener under it.
    ///
    /// The kernel does not list a pending connection's server end (it has no inode until
    /// `accept`), only the client's inode in the listener's queue; the entry under the listener
    /// shows that client as the peer.
    fn add_unix(&mut self, sockets: &[DiagSocket], wanted: States, ours: &Ours<'_>) {
        for socket in sockets.iter().filter(|s| wanted.contains(s.state)) {
            self.sockets.push(ListedSocket::of(socket, ours));
            if !socket.is_in(TcpState::Listen) {
                continue;
            }
            for &client in &socket.pending {
                let client_name = sockets
                    .iter()
                    .find(|s| client != 0 && s.inode == client)
                    .and_then(|s| s.local.clone());
                self.sockets.push(ListedSocket {
                    netid: socket.netid,
                    under_listener: true,
                    state: TcpState::Established.ss_name(),
                    recv_q: None,
                    send_q: None,
                    local: ListedEnd::Unix {
                        name: socket.local.clone(),
                        inode: None,
                    },
                    peer: ListedEnd::Unix {
                        name: client_name,
                        inode: Some(client),
                    },
                    owner: Owner::Queued,
                });
            }
            self.count_queue(socket, ours);
        }
    }

    /// Notes how full a listener's accept queue is, for listeners of this process with
    /// connections waiting.
    fn count_queue(&mut self, listener: &DiagSocket, ours: &Ours<'_>) {
        if listener.recv_q == 0 {
            return;
        }
        let Some(&fd) = ours.fds_of(listener.inode).first() else {
            return;
        };
        self.queues.push(QueueFill {
            fd,
            name: ours.labels.names.get(&fd).cloned(),
            waiting: listener.recv_q,
            limit: listener.send_q,
        });
    }
}
