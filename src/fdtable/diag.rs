//! What sock_diag says, in the socket vocabulary: the system's TCP, UDP and Unix sockets as
//! [`DiagSocket`] rows with their family, protocol, state, addresses, queues, inode and owner, plus
//! what no per-fd call can tell — the connections waiting in a listener's accept queue, which have
//! no fd yet ([`queue_of`]), and which Unix socket is whose peer.
//!
//! The netlink socket, the requests and the parsing of the kernel's bytes are
//! [`crate::sys::sock_diag`]; an [`Observer`](super::Observer) holds the socket between steps.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use crate::fdtable::FdRow;
use crate::net::{Endpoint, Family, SockType, TcpState, UNKNOWN_STATE};
use crate::sys::sock_diag::{InetSocket, Protocol, UnixSocket};

pub use crate::sys::sock_diag::SockDiag;

/// A set of socket states, as the bit mask the kernel filters a dump by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct States(u32);

impl States {
    /// Every state, and (from Linux 6.8) the TCP sockets that are only bound, which the kernel
    /// lists in CLOSE when asked for its `TCP_BOUND_INACTIVE` pseudo-state.
    pub const ALL: States = States(u32::MAX);

    /// The pseudo-state `TCP_BOUND_INACTIVE` (13) alone: TCP sockets bound but neither listening
    /// nor connected. `ss -a` does not ask for it.
    pub const BOUND: States = States(1 << BOUND_INACTIVE);

    /// The set holding exactly `states`.
    pub fn of(states: &[TcpState]) -> States {
        States(
            states
                .iter()
                .filter_map(|s| 1u32.checked_shl(u32::from(s.number())))
                .fold(0, |mask, bit| mask | bit),
        )
    }

    /// Whether the state numbered `state` (as a dump reports it) is in the set; numbers above 31
    /// never are.
    pub fn contains(self, state: u8) -> bool {
        1u32.checked_shl(u32::from(state))
            .is_some_and(|bit| self.0 & bit != 0)
    }

    /// Both sets together.
    pub fn with(self, other: States) -> States {
        States(self.0 | other.0)
    }

    /// This set without the states of `other`.
    pub fn without(self, other: States) -> States {
        States(self.0 & !other.0)
    }
}

/// The states a connection can be in while it waits in a TCP listener's accept queue: half open,
/// complete, or complete and already closed by the client (accept still returns it).
pub const QUEUED_STATES: [TcpState; 4] = [
    TcpState::SynRecv,
    TcpState::NewSynRecv,
    TcpState::Established,
    TcpState::CloseWait,
];

/// The states of what a `close` leaves of a TCP connection: closing down with no fd (FIN_WAIT1,
/// FIN_WAIT2, CLOSING, LAST_ACK), then waiting out TIME_WAIT.
pub const LEFT_STATES: [TcpState; 5] = [
    TcpState::FinWait1,
    TcpState::FinWait2,
    TcpState::Closing,
    TcpState::LastAck,
    TcpState::TimeWait,
];

/// `TCP_BOUND_INACTIVE` of `include/net/tcp_states.h`, a state only dump requests name.
const BOUND_INACTIVE: u8 = 13;

/// The `idiag_timer` of a connection waiting out TIME_WAIT (or the FIN_WAIT2 of a closed
/// socket, which the kernel keeps the same way): its expiry is when the kernel forgets it.
const TIME_WAIT_TIMER: u8 = 3;

/// The protocol, or for Unix sockets the type, in the words `ss` uses for its Netid column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Netid {
    Tcp,
    Udp,
    UnixStream,
    UnixDgram,
    UnixSeqpacket,
    /// A Unix socket type sockplay has no name for, by number.
    Unix(u8),
}

impl Netid {
    /// `tcp`, `udp`, `u_str`, `u_dgr`, `u_seq`, as `ss` names them.
    pub fn name(self) -> String {
        match self {
            Netid::Tcp => "tcp".into(),
            Netid::Udp => "udp".into(),
            Netid::UnixStream => "u_str".into(),
            Netid::UnixDgram => "u_dgr".into(),
            Netid::UnixSeqpacket => "u_seq".into(),
            Netid::Unix(ty) => format!("u_{ty}"),
        }
    }

    /// The inet protocol; None for the Unix types.
    fn protocol(self) -> Option<Protocol> {
        match self {
            Netid::Tcp => Some(Protocol::Tcp),
            Netid::Udp => Some(Protocol::Udp),
            _ => None,
        }
    }

    /// The socket type: a stream for TCP, a datagram socket for UDP, a Unix socket's own type.
    pub fn sock_type(self) -> SockType {
        match self {
            Netid::Tcp | Netid::UnixStream => SockType::Stream,
            Netid::Udp | Netid::UnixDgram => SockType::Dgram,
            Netid::UnixSeqpacket => SockType::Seqpacket,
            Netid::Unix(ty) => SockType::from_number(i32::from(ty)),
        }
    }

    /// The Netid of a Unix socket type number (SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET).
    fn of_unix_type(ty: u8) -> Netid {
        match SockType::from_number(i32::from(ty)) {
            SockType::Stream => Netid::UnixStream,
            SockType::Dgram => Netid::UnixDgram,
            SockType::Seqpacket => Netid::UnixSeqpacket,
            _ => Netid::Unix(ty),
        }
    }
}

/// One socket as sock_diag reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiagSocket {
    pub family: Family,
    pub netid: Netid,
    /// The state number, as in [`TcpState::number`]; [`DiagSocket::state_name`] names it.
    pub state: u8,
    /// The bound address; None when unbound or unnamed.
    pub local: Option<Endpoint>,
    /// The peer's address; None when not connected. For a Unix socket it is the peer's name, found
    /// in the same dump; None when the peer is unnamed or not listed (a connection still in an
    /// accept queue is not).
    pub remote: Option<Endpoint>,
    /// The bound inet address itself (wildcard and port 0 included); None for Unix sockets.
    pub local_addr: Option<SocketAddr>,
    /// Bytes waiting to be read; for a listener, the accept queue's length.
    pub recv_q: u64,
    /// Bytes not yet acknowledged or read by the peer; for a listener, the accept queue's limit.
    pub send_q: u64,
    /// The socket's inode, as fstat on its fd gives it; 0 for a socket no fd refers to yet (a
    /// connection in an accept queue) or any more (an orphan closing down, TIME_WAIT).
    pub inode: u64,
    /// The owner's uid, when the kernel reports it.
    pub uid: Option<u32>,
    /// Unix only: the inode of the connected peer.
    pub peer_inode: Option<u64>,
    /// Unix listeners only: the inodes of the clients whose connections wait in the accept queue,
    /// oldest first (the kernel's UNIX_DIAG_ICONS).
    pub pending: Vec<u64>,
    /// TCP: how long until the kernel forgets a connection waiting out TIME_WAIT (or the
    /// FIN_WAIT2 of a closed socket), as of the dump; None for every other socket.
    pub time_left: Option<Duration>,
}

impl DiagSocket {
    /// The state as sockplay shows it: TCP with the kernel's names (`ESTABLISHED`, `SYN_RECV`),
    /// UDP and Unix sockets as `ss` shows them (`UNCONN`, `ESTAB`, `LISTEN`).
    pub fn state_name(&self) -> &'static str {
        let Some(state) = self.tcp_state() else {
            return UNKNOWN_STATE;
        };
        match state {
            TcpState::Close | TcpState::Established if self.netid != Netid::Tcp => state.ss_name(),
            state => state.name(),
        }
    }

    /// The state, unless the kernel sent a number sockplay does not know.
    pub fn tcp_state(&self) -> Option<TcpState> {
        TcpState::from_number(self.state)
    }

    /// Whether the socket is in `state`.
    pub fn is_in(&self, state: TcpState) -> bool {
        self.state == state.number()
    }
}

/// Whose accept queue holds a TCP connection that has no fd yet, as far as the kernel tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueOf<'a> {
    /// Not a queued connection, or no listener given could hold it.
    Nobody,
    /// This listener's.
    Listener(&'a DiagSocket),
    /// One of these listeners' (a SO_REUSEPORT group, among which the kernel shares connections
    /// out by a hash): sock_diag names no listener, and their queue lengths do not settle it.
    OneOf(Vec<&'a DiagSocket>),
}

/// Which of `listeners` (TCP listeners of one dump, any process's) holds `conn` in its accept
/// queue.
///
/// The kernel gives a connection to a listener bound to the address it was made to, and only when
/// there is none to one bound to the wildcard address; a connection (and a half-open request)
/// takes its listener's family, so an IPv4 client of a dual-stack listener is an IPv6 socket.
/// Several listeners on one address and port are a SO_REUSEPORT group: of those, a complete
/// connection (ESTABLISHED, CLOSE_WAIT) can only be in a queue that is not empty, so when just one
/// is, it is that one; otherwise the kernel does not say, and neither does this.
pub fn queue_of<'a>(
    conn: &DiagSocket,
    listeners: impl IntoIterator<Item = &'a DiagSocket>,
) -> QueueOf<'a> {
    let queued = conn.netid == Netid::Tcp
        && conn.inode == 0
        && QUEUED_STATES.iter().any(|&state| conn.is_in(state));
    let Some(mine) = conn.local_addr.filter(|_| queued) else {
        return QueueOf::Nobody;
    };
    let mut exact = Vec::new();
    let mut wildcard = Vec::new();
    for listener in listeners {
        let Some(theirs) = listener.local_addr else {
            continue;
        };
        if listener.netid != Netid::Tcp
            || !listener.is_in(TcpState::Listen)
            || listener.family != conn.family
            || theirs.port() != mine.port()
        {
            continue;
        }
        if theirs.ip().is_unspecified() {
            wildcard.push(listener);
        } else if mine.ip().is_unspecified() || theirs.ip() == mine.ip() {
            // A half-open request from an IPv4 client of an IPv6 listener lists no address.
            exact.push(listener);
        }
    }
    let mut candidates = if exact.is_empty() { wildcard } else { exact };
    let complete = [TcpState::Established, TcpState::CloseWait]
        .iter()
        .any(|&state| conn.is_in(state));
    if complete && candidates.len() > 1 {
        let with_queue: Vec<&DiagSocket> = candidates
            .iter()
            .copied()
            .filter(|l| l.recv_q > 0)
            .collect();
        if with_queue.len() == 1 {
            candidates = with_queue;
        }
    }
    match candidates.as_slice() {
        [] => QueueOf::Nobody,
        [listener] => QueueOf::Listener(listener),
        _ => QueueOf::OneOf(candidates),
    }
}

/// Whether the kernel holds the listener's side of the TCP connection from `client` to `server`
/// half-open (SYN_RECV: the client's last ACK of the handshake not yet taken in), asking both
/// families (the listener may be IPv6 and see an IPv4 client v4-mapped). False when it holds no
/// such side: the listener is on another machine, or took the connection in already.
pub fn half_open_on_this_machine(
    diag: &mut SockDiag,
    client: SocketAddr,
    server: SocketAddr,
) -> io::Result<bool> {
    let unmapped = |addr: Option<SocketAddr>| {
        addr.map(|a| {
            let ip = match a.ip() {
                std::net::IpAddr::V6(v6) => v6
                    .to_ipv4_mapped()
                    .map_or(std::net::IpAddr::V6(v6), std::net::IpAddr::V4),
                v4 => v4,
            };
            SocketAddr::new(ip, a.port())
        })
    };
    let half_open = States::of(&[TcpState::SynRecv, TcpState::NewSynRecv]);
    for family in [Family::Inet, Family::Inet6] {
        for socket in inet(diag, family, Netid::Tcp, half_open, &[server.port()])? {
            let remote = socket.remote.as_ref().and_then(Endpoint::inet_addr);
            if unmapped(socket.local_addr) == unmapped(Some(server))
                && unmapped(remote) == unmapped(Some(client))
            {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// Whether the kernel still has the stream socket of `row` open — found by its addresses (TCP)
/// or its inode (Unix) with the same inode — though the fd `row` describes was just closed.
/// A socket whose last fd closed is gone from the kernel's lists or, for TCP, an orphan listed
/// with inode 0 (`inet_diag` reports `sock_i_ino`, 0 once no file holds the socket); one still
/// listed under its inode is held by something else: another fd, or an fd in flight in a Unix
/// socket message (SCM_RIGHTS). Ok(false) for what it cannot look up (UDP, an unnamed end).
pub fn still_open(diag: &mut SockDiag, row: &FdRow) -> io::Result<bool> {
    let inet = |endpoint: Option<&Endpoint>| endpoint.and_then(Endpoint::inet_addr);
    match row.family {
        Some(family) if family.is_inet() && row.sock_type == Some(SockType::Stream) => {
            let Some(local) = inet(row.local.as_ref()) else {
                return Ok(false);
            };
            // A listener is found with the unspecified peer.
            let unspecified = SocketAddr::new(
                match local {
                    SocketAddr::V4(_) => std::net::Ipv4Addr::UNSPECIFIED.into(),
                    SocketAddr::V6(_) => std::net::Ipv6Addr::UNSPECIFIED.into(),
                },
                0,
            );
            let remote = inet(row.remote.as_ref()).unwrap_or(unspecified);
            let found = diag.inet_exact(family.number(), Protocol::Tcp, local, remote)?;
            Ok(found.is_some_and(|socket| u64::from(socket.inode) == row.inode))
        }
        Some(Family::Unix) => Ok(diag
            .unix(States::ALL.0)?
            .iter()
            .any(|socket| u64::from(socket.inode) == row.inode)),
        _ => Ok(false),
    }
}

/// Lists the TCP or UDP sockets (`netid`) of one inet family in `states`, and only those bound to
/// one of `ports` unless `ports` is empty. EINVAL for a Unix `netid`.
pub fn inet(
    diag: &mut SockDiag,
    family: Family,
    netid: Netid,
    states: States,
    ports: &[u16],
) -> io::Result<Vec<DiagSocket>> {
    let Some(protocol) = netid.protocol() else {
        return Err(io::Error::from(nix::errno::Errno::EINVAL));
    };
    let found = diag.inet(family.number(), protocol, states.0, ports)?;
    Ok(found
        .into_iter()
        .map(|socket| inet_row(socket, netid))
        .collect())
}

/// Lists the Unix sockets in `states`, with names, peers, queues, owners and, for listeners,
/// the clients waiting in the accept queue.
pub fn unix(diag: &mut SockDiag, states: States) -> io::Result<Vec<DiagSocket>> {
    let mut found: Vec<DiagSocket> = diag.unix(states.0)?.into_iter().map(unix_row).collect();
    name_unix_peers(&mut found);
    Ok(found)
}

/// An inet socket of the dump as a row.
pub(super) fn inet_row(socket: InetSocket, netid: Netid) -> DiagSocket {
    DiagSocket {
        family: Family::from_number(socket.family),
        netid,
        state: socket.state,
        local: Endpoint::inet_if_set(socket.local),
        remote: Endpoint::inet_if_set(socket.remote),
        local_addr: Some(socket.local),
        recv_q: u64::from(socket.recv_q),
        send_q: u64::from(socket.send_q),
        uid: Some(socket.uid),
        inode: u64::from(socket.inode),
        peer_inode: None,
        pending: Vec::new(),
        time_left: (netid == Netid::Tcp && socket.timer == TIME_WAIT_TIMER)
            .then(|| Duration::from_millis(u64::from(socket.expires))),
    }
}

/// A Unix socket of the dump as a row; its remote address comes from [`name_unix_peers`].
fn unix_row(socket: UnixSocket) -> DiagSocket {
    let (recv_q, send_q) = socket.queues.unwrap_or((0, 0));
    DiagSocket {
        family: Family::Unix,
        netid: Netid::of_unix_type(socket.sock_type),
        state: socket.state,
        local: socket.name.as_deref().and_then(unix_name),
        remote: None,
        local_addr: None,
        recv_q: u64::from(recv_q),
        send_q: u64::from(send_q),
        inode: u64::from(socket.inode),
        uid: socket.uid,
        peer_inode: socket.peer_inode.map(u64::from),
        pending: socket.pending.into_iter().map(u64::from).collect(),
        time_left: None,
    }
}

/// A Unix socket's name from its UNIX_DIAG_NAME attribute; None when unnamed.
fn unix_name(bytes: &[u8]) -> Option<Endpoint> {
    Endpoint::unix(bytes).named()
}

/// Fills in each Unix socket's remote address with its peer's name, from the same dump.
fn name_unix_peers(sockets: &mut [DiagSocket]) {
    let names: std::collections::HashMap<u64, Option<Endpoint>> =
        sockets.iter().map(|s| (s.inode, s.local.clone())).collect();
    for socket in sockets {
        if let Some(peer) = socket.peer_inode {
            socket.remote = names.get(&peer).cloned().flatten();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fdtable::shown;
    use std::net::{TcpListener, TcpStream};
    use std::os::fd::AsRawFd;
    use std::os::linux::net::SocketAddrExt as _;
    use std::os::unix::net::{self as unix, UnixListener, UnixStream};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    /// The inode of an fd, as fstat gives it.
    fn inode_of(fd: &impl AsRawFd) -> u64 {
        crate::fdtable::inspect_fd(fd.as_raw_fd())
            .expect("open")
            .inode
    }

    fn unique_abstract_name(tag: &str) -> Vec<u8> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        format!("sockplay-diag-{}-{n}-{tag}", std::process::id()).into_bytes()
    }

    /// Repeats `query` until `done` holds for its result (loopback handshakes finish in softirq
    /// context, not necessarily before connect returns), for up to two seconds.
    fn query_until<T>(what: &str, mut query: impl FnMut() -> T, done: impl Fn(&T) -> bool) -> T {
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            let found = query();
            if done(&found) {
                return found;
            }
            assert!(Instant::now() < deadline, "timed out waiting until {what}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn tcp_on_port(port: u16) -> Vec<DiagSocket> {
        let mut diag = SockDiag::open().expect("sock_diag");
        inet(&mut diag, Family::Inet, Netid::Tcp, States::ALL, &[port]).expect("dump")
    }

    #[test]
    fn tcp_listener_and_its_queued_connection() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let client = TcpStream::connect(addr).expect("connect");
        let client_addr = client.local_addr().expect("client addr");

        let sockets = query_until(
            "the listener's queue holds the connection",
            || tcp_on_port(addr.port()),
            |found| {
                found
                    .iter()
                    .any(|s| s.is_in(TcpState::Listen) && s.recv_q == 1)
            },
        );
        let found_listener = sockets
            .iter()
            .find(|s| s.inode == inode_of(&listener))
            .expect("the listener is listed");
        assert_eq!(found_listener.state_name(), TcpState::Listen.name());
        assert_eq!((found_listener.recv_q, found_listener.send_q), (1, 128));
        assert_eq!(shown(&found_listener.local), Some(addr.to_string()));
        assert_eq!(found_listener.remote, None);
        assert_eq!(found_listener.family, Family::Inet);
        assert_eq!(found_listener.netid, Netid::Tcp);
        // /proc/self belongs to the uid this process runs as, which made the listener.
        let uid =
            std::os::unix::fs::MetadataExt::uid(&std::fs::metadata("/proc/self").expect("/proc"));
        assert_eq!(found_listener.uid, Some(uid));

        let queued: Vec<&DiagSocket> = sockets
            .iter()
            .filter(|s| queue_of(s, [found_listener]) == QueueOf::Listener(found_listener))
            .collect();
        assert_eq!(queued.len(), 1, "{sockets:#?}");
        let queued = queued[0];
        assert!(
            [TcpState::SynRecv.name(), TcpState::Established.name()].contains(&queued.state_name()),
            "{queued:?}"
        );
        assert_eq!(shown(&queued.local), Some(addr.to_string()));
        assert_eq!(shown(&queued.remote), Some(client_addr.to_string()));
        assert_eq!(queued.inode, 0, "no fd refers to it yet");

        // The client end is on the listener's port only as its peer: the port filter leaves it out.
        assert!(!sockets.iter().any(|s| s.inode == inode_of(&client)));

        let (accepted, _) = listener.accept().expect("accept");
        let after = tcp_on_port(addr.port());
        assert!(after
            .iter()
            .all(|s| queue_of(s, [found_listener]) == QueueOf::Nobody));
        let accepted_row = after
            .iter()
            .find(|s| s.inode == inode_of(&accepted))
            .expect("the accepted socket has its inode now");
        assert_eq!(accepted_row.state_name(), TcpState::Established.name());
    }

    #[test]
    fn port_filter_keeps_only_the_asked_ports() {
        let a = TcpListener::bind("127.0.0.1:0").expect("bind");
        let b = TcpListener::bind("127.0.0.1:0").expect("bind");
        let c = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = |l: &TcpListener| l.local_addr().expect("addr").port();
        let mut diag = SockDiag::open().expect("sock_diag");
        let found = inet(
            &mut diag,
            Family::Inet,
            Netid::Tcp,
            States::of(&[TcpState::Listen]),
            &[port(&a), port(&c)],
        )
        .expect("dump");
        let inodes: Vec<u64> = found.iter().map(|s| s.inode).collect();
        assert!(inodes.contains(&inode_of(&a)));
        assert!(inodes.contains(&inode_of(&c)));
        assert!(!inodes.contains(&inode_of(&b)));
        assert!(found.iter().all(|s| s.is_in(TcpState::Listen)));
    }

    #[test]
    fn unix_listener_lists_its_pending_clients() {
        let name = unique_abstract_name("listener");
        let addr = unix::SocketAddr::from_abstract_name(&name).expect("abstract address");
        let listener = UnixListener::bind_addr(&addr).expect("bind");
        nix::sys::socket::listen(
            &listener,
            nix::sys::socket::Backlog::new(9).expect("backlog"),
        )
        .expect("listen");
        let client = UnixStream::connect_addr(&addr).expect("connect");

        let mut diag = SockDiag::open().expect("sock_diag");
        let sockets = unix(&mut diag, States::ALL).expect("dump");
        let found = sockets
            .iter()
            .find(|s| s.inode == inode_of(&listener))
            .expect("the listener is listed");
        let expected = format!("@{}", String::from_utf8(name).expect("ascii"));
        assert_eq!(shown(&found.local).as_deref(), Some(expected.as_str()));
        assert_eq!(found.state_name(), TcpState::Listen.name());
        assert_eq!(found.netid, Netid::UnixStream);
        assert_eq!(found.netid.name(), "u_str");
        assert_eq!(found.pending, vec![inode_of(&client)]);
        assert_eq!((found.recv_q, found.send_q), (1, 9));
        assert!(found.uid.is_some());

        let client_found = sockets
            .iter()
            .find(|s| s.inode == inode_of(&client))
            .expect("the client is listed");
        assert_eq!(client_found.state_name(), "ESTAB");
        assert_eq!(client_found.local, None);
    }

    #[test]
    fn unix_pair_names_each_other_and_paths_lose_their_nul() {
        let (a, b) = UnixStream::pair().expect("socketpair");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("diag.sock");
        let bound = unix::UnixDatagram::bind(&path).expect("bind");
        let mut diag = SockDiag::open().expect("sock_diag");
        let sockets = unix(&mut diag, States::ALL).expect("dump");
        let find = |inode: u64| sockets.iter().find(|s| s.inode == inode).expect("listed");
        assert_eq!(find(inode_of(&a)).peer_inode, Some(inode_of(&b)));
        assert_eq!(find(inode_of(&b)).peer_inode, Some(inode_of(&a)));
        let d = find(inode_of(&bound));
        assert_eq!(shown(&d.local), Some(path.display().to_string()));
        assert_eq!((d.netid, d.state_name()), (Netid::UnixDgram, "UNCONN"));
    }

    #[test]
    fn unix_names_abstract_path_and_unnamed() {
        assert_eq!(unix_name(b""), None);
        assert_eq!(shown(&unix_name(b"\0a\0b")).as_deref(), Some(r"@a\0b"));
        assert_eq!(
            shown(&unix_name(b"/tmp/x.sock\0")).as_deref(),
            Some("/tmp/x.sock")
        );
        assert_eq!(
            shown(&unix_name(b"/tmp/x.sock")).as_deref(),
            Some("/tmp/x.sock")
        );
        assert_eq!(shown(&unix_name(b"/tmp/\n")).as_deref(), Some(r"/tmp/\n"));
    }

    #[test]
    fn states_sets() {
        let s = States::of(&[TcpState::Listen, TcpState::Close]);
        assert!(s.contains(TcpState::Listen.number()) && s.contains(TcpState::Close.number()));
        assert!(!s.contains(TcpState::Established.number()) && !s.contains(40));
        assert!(!s
            .without(States::of(&[TcpState::Listen]))
            .contains(TcpState::Listen.number()));
        assert!(States::ALL.contains(TcpState::NewSynRecv.number()));
    }

    /// A TCP socket as a dump lists it: `family` from the address, inode, state, accept queue.
    fn listed(local: &str, remote: &str, inode: u64, state: TcpState, recv_q: u64) -> DiagSocket {
        let local: SocketAddr = local.parse().expect("local");
        let remote: SocketAddr = remote.parse().expect("remote");
        DiagSocket {
            family: if local.is_ipv4() {
                Family::Inet
            } else {
                Family::Inet6
            },
            netid: Netid::Tcp,
            state: state.number(),
            local: Endpoint::inet_if_set(local),
            remote: Endpoint::inet_if_set(remote),
            local_addr: Some(local),
            recv_q,
            send_q: 128,
            inode,
            uid: Some(0),
            peer_inode: None,
            pending: Vec::new(),
            time_left: None,
        }
    }

    fn listener(local: &str, inode: u64, queued: u64) -> DiagSocket {
        let any = if local.starts_with('[') {
            "[::]:0"
        } else {
            "0.0.0.0:0"
        };
        listed(local, any, inode, TcpState::Listen, queued)
    }

    fn inodes(queue: QueueOf<'_>) -> Vec<u64> {
        match queue {
            QueueOf::Nobody => Vec::new(),
            QueueOf::Listener(l) => vec![l.inode],
            QueueOf::OneOf(ls) => ls.iter().map(|l| l.inode).collect(),
        }
    }

    #[test]
    fn a_connection_goes_to_the_listener_on_its_address_before_a_wildcard_one() {
        let exact = listener("127.0.0.1:80", 1, 1);
        let wildcard = listener("0.0.0.0:80", 2, 1);
        let other_port = listener("127.0.0.1:81", 3, 1);
        let conn = listed(
            "127.0.0.1:80",
            "127.0.0.1:5000",
            0,
            TcpState::Established,
            0,
        );
        let all = [&wildcard, &other_port, &exact];
        assert_eq!(inodes(queue_of(&conn, all)), [1]);
        assert_eq!(inodes(queue_of(&conn, [&wildcard, &other_port])), [2]);
        let elsewhere = listed(
            "127.0.0.2:80",
            "127.0.0.1:5000",
            0,
            TcpState::Established,
            0,
        );
        assert_eq!(inodes(queue_of(&elsewhere, all)), [2]);
    }

    #[test]
    fn a_connection_has_its_listeners_family() {
        let v6 = listener("[::]:80", 1, 1);
        let v4 = listener("0.0.0.0:80", 2, 1);
        let mapped = listed(
            "[::ffff:127.0.0.1]:80",
            "[::ffff:127.0.0.1]:5000",
            0,
            TcpState::Established,
            0,
        );
        assert_eq!(inodes(queue_of(&mapped, [&v4, &v6])), [1]);
        let plain = listed(
            "127.0.0.1:80",
            "127.0.0.1:5000",
            0,
            TcpState::Established,
            0,
        );
        assert_eq!(inodes(queue_of(&plain, [&v6, &v4])), [2]);
        // A half-open request of an IPv4 client on an IPv6 listener lists no address.
        let request = listed("[::]:80", "[::]:5000", 0, TcpState::NewSynRecv, 0);
        assert_eq!(inodes(queue_of(&request, [&v4, &v6])), [1]);
    }

    #[test]
    fn in_a_reuseport_group_only_the_queue_lengths_can_tell_and_only_when_one_is_not_empty() {
        let conn = listed(
            "127.0.0.1:80",
            "127.0.0.1:5000",
            0,
            TcpState::Established,
            0,
        );
        let half_open = listed("127.0.0.1:80", "127.0.0.1:5001", 0, TcpState::SynRecv, 0);
        let (a, b) = (
            listener("127.0.0.1:80", 1, 0),
            listener("127.0.0.1:80", 2, 2),
        );
        assert_eq!(inodes(queue_of(&conn, [&a, &b])), [2]);
        // A half-open connection is in no accept queue: the lengths say nothing of it.
        assert_eq!(inodes(queue_of(&half_open, [&a, &b])), [1, 2]);
        let (a, b) = (
            listener("127.0.0.1:80", 1, 1),
            listener("127.0.0.1:80", 2, 1),
        );
        assert_eq!(inodes(queue_of(&conn, [&a, &b])), [1, 2]);
        assert!(matches!(queue_of(&conn, [&a, &b]), QueueOf::OneOf(_)));
    }

    #[test]
    fn only_connections_without_an_fd_in_a_queued_state_are_queued() {
        let l = listener("127.0.0.1:80", 1, 1);
        let accepted = listed(
            "127.0.0.1:80",
            "127.0.0.1:5000",
            9,
            TcpState::Established,
            0,
        );
        let time_wait = listed("127.0.0.1:80", "127.0.0.1:5000", 0, TcpState::TimeWait, 0);
        assert_eq!(queue_of(&accepted, [&l]), QueueOf::Nobody);
        assert_eq!(queue_of(&time_wait, [&l]), QueueOf::Nobody);
        let closing = listed("127.0.0.1:80", "127.0.0.1:5000", 0, TcpState::CloseWait, 0);
        assert_eq!(inodes(queue_of(&closing, [&l])), [1]);
    }
}
