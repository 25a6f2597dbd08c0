//! What only sock_diag can add to a snapshot, asked the way `ss` asks:
//! - TCP and UDP queues as `ss` shows them (a SYN or FIN not yet acknowledged counts 1, a FIN not
//!   yet read counts 1, a UDP socket's RECV-Q is the memory of its datagrams), and a TCP socket's
//!   state at the same moment;
//! - where a SYN_SENT socket is connecting (getpeername will not say until it is connected);
//! - whether a TCP socket in CLOSE still holds its port: after a failed connect the kernel frees
//!   it but getsockname goes on naming it;
//! - the connections the kernel holds for the process without an fd: waiting in an accept queue
//!   (half-open SYN_RECV, or complete), filed under the listener whose queue holds them (under
//!   the listeners of a SO_REUSEPORT group, when the kernel does not say which one), and what a
//!   `close` left (FIN_WAIT1, FIN_WAIT2, CLOSING, LAST_ACK, TIME_WAIT), under the fd it came from,
//!   found by the addresses [`Remembered`] kept;
//! - Unix queues as `ss` shows them (a listener's accept queue length and limit, which the ioctls
//!   cannot give), the connections waiting on a Unix listener, and each Unix socket's peer inode
//!   (so the panel can pair socketpair ends).
//!
//! One dump per protocol and family the table has sockets of, filtered in the kernel to the ports
//! its sockets hold or held: no dump of every TCP socket more than once per step. When the query
//! fails (EMFILE with a full fd table, no sock_diag in the kernel) the snapshot goes without all
//! this: TCP queues are then the ioctls' (which count no SYN or FIN), and a UDP socket's RECV-Q
//! is not known.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::{Duration, Instant};

use super::diag::{self, DiagSocket, Netid, QueueOf, SockDiag, States};
use super::listing;
use super::remembered::{is_tcp, Ends, Holder, Remembered};
use super::{FdRow, Kind, Observer, Origin, PendingConn, Snapshot};
use crate::net::{Family, SockState, SockType, TcpState};

/// The state a pending Unix connection is shown in: the kernel has connected it to its client.
const UNIX_PENDING_STATE: SockState = SockState::Connected;

/// Adds what sock_diag knows to `snapshot`, asking through the sock_diag socket of `observer`,
/// and keeps `remembered` up to date with the table's TCP connections.
pub(super) fn add_kernel_view(
    snapshot: &mut Snapshot,
    observer: &mut Observer,
    remembered: &mut Remembered,
) {
    remembered.note(&snapshot.rows);
    let mut pending = Vec::new();
    let wanted = InetDumps::of(&snapshot.rows, remembered);
    if !wanted.is_empty() {
        // The observer's own netlink socket when it has one, so this works with a full fd table.
        let mut dumped = observer.with_sock_diag(|diag| wanted.run(diag));
        // A connection in a listener's queue but in no table (reset) is told only by counting,
        // and a connection accepted while the dump walked from the listeners to the connections
        // would count too: such a count is taken once more before it is believed.
        let only_counted = |listed: &[DiagSocket]| {
            queued(&snapshot.rows, listed)
                .iter()
                .any(|p| p.state == SockState::Tcp(TcpState::Close))
        };
        if dumped
            .as_ref()
            .is_ok_and(|(listed, _)| only_counted(listed))
        {
            dumped = observer.with_sock_diag(|diag| wanted.run(diag));
        }
        // A close just sent a FIN the peer's kernel may acknowledge a moment later (a delayed
        // ACK): the dump is taken again until it has, so the row does not depend on when.
        let deadline = Instant::now() + FIN_ACK_PATIENCE;
        while dumped.as_ref().is_ok_and(|(listed, _)| {
            awaits_fin_ack(
                &without_fd(&snapshot.rows, listed, remembered).0,
                remembered,
            )
        }) && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(1));
            dumped = observer.with_sock_diag(|diag| wanted.run(diag));
        }
        match dumped {
            Ok((listed, bound_listed)) => {
                let asked = |row: &FdRow| wanted.asked(row);
                take_inet_view(&mut snapshot.rows, &listed, asked, bound_listed);
                let (mut found, left) = without_fd(&snapshot.rows, &listed, remembered);
                remembered.order_queued(&mut found);
                pending.extend(found);
                remembered.keep_only(&snapshot.rows, &left, &inodes_of(&listed));
            }
            Err(_) => go_without_inet_view(&mut snapshot.rows),
        }
    }
    let unix_in = |state: SockState| {
        snapshot
            .rows
            .iter()
            .filter(|r| is_unix(r) && r.state == Some(state))
            .count()
    };
    // A connected socket needs its peer's inode to pair (with an end in this process or in
    // another one); a listener needs its queue numbers.
    if unix_in(SockState::Listen) > 0 || unix_in(SockState::Connected) > 0 {
        if let Ok(sockets) = observer.with_sock_diag(|diag| diag::unix(diag, States::ALL)) {
            pending.extend(add_unix_view(&mut snapshot.rows, &sockets));
        }
    }
    // Stable: each fd's connections keep the order they were found in.
    pending.sort_by_key(|p| p.listener_fd);
    snapshot.pending = pending;
}

/// What the kernel keeps of the TCP connections of a process that ended: no observer runs in it
/// any more, so another one asks the kernel for them, by the addresses its last table had. What
/// its fds' closes (the kernel's, when it ended) left is shown under the fd it came from, for as
/// long as the kernel keeps it.
#[derive(Debug, Default)]
pub struct Leftovers {
    remembered: Remembered,
    /// Whether the last look found nothing of them.
    found_none: bool,
}

impl Leftovers {
    /// The connections of `last`, the table the process had when it was last asked: those of its
    /// TCP fds, and what its closes had left already.
    pub fn of(last: &Snapshot) -> Leftovers {
        let mut remembered = Remembered::default();
        remembered.note(&last.rows);
        for conn in &last.pending {
            remembered.note_left(conn);
        }
        Leftovers {
            remembered,
            found_none: false,
        }
    }

    /// What the kernel keeps of them now, each under the fd it came from, asked through
    /// `observer`'s sock_diag socket; the rest is forgotten. Nothing when the kernel cannot be
    /// asked.
    pub fn look(&mut self, observer: &mut Observer) -> Vec<PendingConn> {
        if self.remembered.is_empty() {
            return Vec::new();
        }
        let wanted = InetDumps::of(&[], &self.remembered);
        let deadline = Instant::now() + FIN_ACK_PATIENCE;
        let (mut found, left, listed) = loop {
            let Ok((listed, _)) = observer.with_sock_diag(|diag| wanted.run(diag)) else {
                return Vec::new();
            };
            let (found, left) = without_fd(&[], &listed, &self.remembered);
            if !awaits_fin_ack(&found, &self.remembered) || Instant::now() >= deadline {
                break (found, left, inodes_of(&listed));
            }
            std::thread::sleep(Duration::from_millis(1));
        };
        self.remembered.keep_only(&[], &left, &listed);
        found.sort_by_key(|p| p.listener_fd);
        self.found_none = found.is_empty();
        found
    }

    /// Whether nothing of the process's connections is left: none to look for, or the last look
    /// found none.
    pub fn is_empty(&self) -> bool {
        self.found_none || self.remembered.is_empty()
    }
}

/// The inodes of the sockets a dump listed (not those without one: queued, orphans).
fn inodes_of(listed: &[DiagSocket]) -> HashSet<u64> {
    listed
        .iter()
        .map(|s| s.inode)
        .filter(|&inode| inode != 0)
        .collect()
}

/// How long a snapshot waits for the peer to acknowledge the FIN a close just sent: a kernel
/// holds a delayed ACK at most 200 ms (TCP_DELACK_MAX), and a moment more covers a busy machine.
pub(super) const FIN_ACK_PATIENCE: Duration = Duration::from_millis(300);

/// Whether a close just left a connection whose FIN is all it has unacknowledged (SEND-Q 1, in
/// FIN_WAIT1, CLOSING or LAST_ACK): the peer's ACK is on its way, unless delayed. One shown so
/// already (its FIN held back by a full window, say) is not waited for again.
pub(super) fn awaits_fin_ack(found: &[PendingConn], remembered: &Remembered) -> bool {
    use TcpState::{Closing, FinWait1, LastAck};
    found.iter().any(|conn| {
        matches!(conn.origin, Origin::Left { .. })
            && matches!(conn.state, SockState::Tcp(FinWait1 | Closing | LastAck))
            && conn.send_q == Some(1)
            && conn
                .local
                .as_ref()
                .zip(conn.remote.as_ref())
                .is_some_and(|(local, remote)| !remembered.was_left(local, remote))
    })
}

/// Whether a row is a Unix socket.
pub(super) fn is_unix(row: &FdRow) -> bool {
    row.kind == Kind::Socket && row.family == Some(Family::Unix)
}

/// Whether a row is a UDP socket.
pub(super) fn is_udp(row: &FdRow) -> bool {
    row.kind == Kind::Socket
        && row.family.is_some_and(Family::is_inet)
        && row.sock_type == Some(SockType::Dgram)
}

/// The protocol sock_diag lists a row's socket under, for TCP and UDP sockets.
pub(super) fn netid_of(row: &FdRow) -> Option<Netid> {
    if is_tcp(row) {
        Some(Netid::Tcp)
    } else if is_udp(row) {
        Some(Netid::Udp)
    } else {
        None
    }
}

/// A row's family and bound port, when it has a port.
pub(super) fn port_of(row: &FdRow) -> Option<(Family, u16)> {
    let port = row.local.as_ref()?.inet_addr()?.port();
    Some((row.family?, port)).filter(|_| port != 0)
}

/// The inet dumps a table needs: for each protocol and family, the ports to ask about.
#[derive(Debug, Default)]
struct InetDumps {
    ports: HashMap<(Netid, Family), BTreeSet<u16>>,
}

impl InetDumps {
    /// The ports of the TCP and UDP sockets of `rows` (a socket with no port yet has nothing to
    /// ask about), and those of the connections `remembered` keeps, which may have left
    /// something behind.
    fn of(rows: &[FdRow], remembered: &Remembered) -> InetDumps {
        let mut dumps = InetDumps::default();
        for row in rows {
            if let (Some(netid), Some((family, port))) = (netid_of(row), port_of(row)) {
                dumps.add(netid, family, port);
            }
        }
        for (family, port) in remembered.local_ports() {
            dumps.add(Netid::Tcp, family, port);
        }
        dumps
    }

    fn add(&mut self, netid: Netid, family: Family, port: u16) {
        self.ports.entry((netid, family)).or_default().insert(port);
    }

    fn is_empty(&self) -> bool {
        self.ports.is_empty()
    }

    /// Whether `row`'s socket was asked about, so that its absence from the answer means
    /// something.
    fn asked(&self, row: &FdRow) -> bool {
        let (Some(netid), Some((family, port))) = (netid_of(row), port_of(row)) else {
            return false;
        };
        self.ports
            .get(&(netid, family))
            .is_some_and(|ports| ports.contains(&port))
    }

    /// Runs the dumps: every state (a TCP dump also lists the sockets that are only bound, on
    /// kernels that can), one dump per protocol and family. Returns what was listed and whether
    /// the kernel lists bound TCP sockets.
    fn run(&self, diag: &mut SockDiag) -> std::io::Result<(Vec<DiagSocket>, bool)> {
        let mut listed = Vec::new();
        // A fixed order, so the answer does not depend on the map's.
        for netid in [Netid::Tcp, Netid::Udp] {
            for family in [Family::Inet, Family::Inet6] {
                let Some(ports) = self.ports.get(&(netid, family)) else {
                    continue;
                };
                let ports: Vec<u16> = ports.iter().copied().collect();
                listed.extend(diag::inet(diag, family, netid, States::ALL, &ports)?);
            }
        }
        Ok((listed, diag.lists_bound_sockets()))
    }
}

/// Gives the TCP and UDP rows what the dump says of their sockets: state and queues as `ss`
/// shows them, where a SYN_SENT socket is connecting, whether a socket in CLOSE still holds an
/// address, and for UDP whether a datagram waits.
///
/// A TCP socket in CLOSE that was `asked` about and is not listed has no peer, and (when the
/// kernel lists bound sockets, `bound_listed`) holds no port any more: it shows no address. Its
/// SEND-Q stays SIOCOUTQ's, the figure sock_diag gives a listed one (after a failed connect the
/// kernel moves the next sequence number on past the peer's window, so it is not 0 though
/// nothing will be sent: 3 after a refused connect).
pub(super) fn take_inet_view(
    rows: &mut [FdRow],
    listed: &[DiagSocket],
    asked: impl Fn(&FdRow) -> bool,
    bound_listed: bool,
) {
    let by_inode: HashMap<(u64, Netid), &DiagSocket> = listed
        .iter()
        .filter(|s| s.inode != 0)
        .map(|s| ((s.inode, s.netid), s))
        .collect();
    for row in rows.iter_mut() {
        let Some(netid) = netid_of(row) else {
            continue;
        };
        match by_inode.get(&(row.inode, netid)) {
            Some(socket) => take_listed(row, socket),
            None if netid == Netid::Tcp
                && row.state == Some(SockState::Tcp(TcpState::Close))
                && asked(row) =>
            {
                row.remote = None;
                if bound_listed {
                    row.local = None;
                }
            }
            None => {}
        }
    }
}

/// Takes what the kernel listed for a row's own socket.
fn take_listed(row: &mut FdRow, socket: &DiagSocket) {
    row.recv_q = Some(socket.recv_q);
    row.send_q = Some(socket.send_q);
    match socket.netid {
        Netid::Tcp => {
            // The queues belong to the state of the same moment.
            if let Some(state) = socket.tcp_state() {
                row.state = Some(SockState::Tcp(state));
            }
            match socket.tcp_state() {
                Some(TcpState::SynSent) => row.remote.clone_from(&socket.remote),
                // Only bound: the dump lists it with the address it holds.
                Some(TcpState::Close) => {
                    row.local.clone_from(&socket.local);
                    row.remote = None;
                }
                _ => {}
            }
        }
        // FIONREAD said 0 for a datagram of 0 bytes; the memory says one is there.
        _ if socket.recv_q > 0 => row.next_datagram = row.next_datagram.or(Some(0)),
        _ => row.next_datagram = None,
    }
}

/// Without sock_diag, a UDP socket's RECV-Q as `ss` shows it is not known; FIONREAD is the next
/// datagram's size, which [`FdRow::next_datagram`] already says.
pub(super) fn go_without_inet_view(rows: &mut [FdRow]) {
    for row in rows.iter_mut().filter(|row| is_udp(row)) {
        row.recv_q = None;
    }
}

/// The TCP connections without an fd that belong to this table: those waiting in its listeners'
/// accept queues, what a close left of its fds' connections, and those of its closed fds that
/// only a message in flight holds. Also returns the addresses of the latter two, which
/// [`Remembered`] goes on keeping.
pub(super) fn without_fd(
    rows: &[FdRow],
    listed: &[DiagSocket],
    remembered: &Remembered,
) -> (Vec<PendingConn>, HashSet<Ends>) {
    without_fd_held(rows, listed, remembered, &|_| false)
}

/// [`without_fd`], where `held_here` says of a socket's inode that an fd of this table not in
/// `rows` holds it (a table looked at in part: its other rows).
pub(super) fn without_fd_held(
    rows: &[FdRow],
    listed: &[DiagSocket],
    remembered: &Remembered,
    held_here: &dyn Fn(u64) -> bool,
) -> (Vec<PendingConn>, HashSet<Ends>) {
    let mut found = queued(rows, listed);
    let mut left = HashSet::new();
    let mut left_behind = in_flight(rows, listed, remembered, held_here);
    for (_, conn) in &left_behind {
        if let (Some(local), Some(remote)) = (&conn.local, &conn.remote) {
            left.insert((local.clone(), remote.clone()));
        }
    }
    for socket in listed
        .iter()
        .filter(|s| s.netid == Netid::Tcp && s.inode == 0)
    {
        let Some(state) = socket.tcp_state().filter(|s| diag::LEFT_STATES.contains(s)) else {
            continue;
        };
        let (Some(local), Some(remote)) = (&socket.local, &socket.remote) else {
            continue;
        };
        let Some(holder) = remembered.holder_of(local, remote) else {
            continue;
        };
        left.insert((local.clone(), remote.clone()));
        let origin = Origin::Left {
            inode: holder.inode,
        };
        left_behind.push((holder.seen, connection(socket, holder.fd, origin, state)));
    }
    // The kernel lists connections in hash order; in the order they were made they stay put
    // between steps, however many one fd left. Under one fd, what waits in its queue comes
    // before what a close left.
    left_behind.sort_by_key(|(seen, _)| *seen);
    found.extend(left_behind.into_iter().map(|(_, conn)| conn));
    (found, left)
}

/// The connections of this table's closed fds whose socket the kernel still has open (it is
/// listed with its inode, not as an orphan) though no process holds an fd of it: what holds it
/// is an fd in flight, sent with SCM_RIGHTS and not yet received. A socket another process holds
/// (after fork, or passed to it) is that process's to show.
///
/// Each with when its connection was first noted ([`Remembered`]'s order).
fn in_flight(
    rows: &[FdRow],
    listed: &[DiagSocket],
    remembered: &Remembered,
    held_here: &dyn Fn(u64) -> bool,
) -> Vec<(u64, PendingConn)> {
    let here: HashSet<u64> = rows.iter().map(|row| row.inode).collect();
    let candidates: Vec<(&DiagSocket, Holder, TcpState)> = listed
        .iter()
        .filter(|s| s.netid == Netid::Tcp && s.inode != 0)
        .filter(|s| !here.contains(&s.inode) && !held_here(s.inode))
        .filter_map(|socket| {
            let state = socket.tcp_state().filter(|s| *s != TcpState::Listen)?;
            let holder = remembered.holder_of(socket.local.as_ref()?, socket.remote.as_ref()?)?;
            (holder.inode == socket.inode).then_some((socket, holder, state))
        })
        .collect();
    if candidates.is_empty() {
        return Vec::new();
    }
    let inodes: HashSet<u64> = candidates.iter().map(|(s, _, _)| s.inode).collect();
    // When /proc cannot say, nothing is claimed.
    let Some(held) = listing::held_by_any_process(&inodes) else {
        return Vec::new();
    };
    candidates
        .into_iter()
        .filter(|(socket, _, _)| !held.contains(&socket.inode))
        .map(|(socket, holder, state)| {
            let origin = Origin::InFlight {
                inode: socket.inode,
            };
            (holder.seen, connection(socket, holder.fd, origin, state))
        })
        .collect()
}

/// The lowest fd of `rows` that holds each TCP socket, by inode.
fn tcp_fds(rows: &[FdRow]) -> HashMap<u64, i32> {
    let mut ours: HashMap<u64, i32> = HashMap::new();
    for row in rows.iter().rev().filter(|row| is_tcp(row)) {
        ours.insert(row.inode, row.fd);
    }
    ours
}

/// The connections waiting in the accept queues of the TCP listeners of `rows`, in order of
/// the client's address: those listed (under the listener whose queue holds them, or one of the
/// SO_REUSEPORT group that may: [`shared_queues`]), and those only counted
/// ([`reset_in_queues`]).
pub(super) fn queued(rows: &[FdRow], listed: &[DiagSocket]) -> Vec<PendingConn> {
    let ours = tcp_fds(rows);
    let listeners: Vec<&DiagSocket> = listed
        .iter()
        .filter(|s| s.netid == Netid::Tcp && s.is_in(TcpState::Listen) && s.inode != 0)
        .collect();
    let mut queued = Vec::new();
    let mut in_groups = Vec::new();
    for socket in listed
        .iter()
        .filter(|s| s.netid == Netid::Tcp && s.inode == 0)
    {
        let Some(state) = socket.tcp_state() else {
            continue;
        };
        let (fd, origin) = match diag::queue_of(socket, listeners.iter().copied()) {
            QueueOf::Nobody => continue,
            QueueOf::Listener(listener) => match ours.get(&listener.inode) {
                Some(&fd) => (fd, Origin::Queued),
                // Another process's listener.
                None => continue,
            },
            QueueOf::OneOf(group) => {
                in_groups.push((socket, group, state));
                continue;
            }
        };
        queued.push(connection(socket, fd, origin, state));
    }
    queued.extend(shared_queues(in_groups, &ours));
    queued.extend(reset_in_queues(&listeners, &ours, &queued));
    queued.sort_by_cached_key(|p| p.remote.as_ref().map(ToString::to_string));
    queued
}

/// The connections waiting in the queues of SO_REUSEPORT groups (`waiting`: each with its
/// group's listeners), where the kernel lists them without saying which queue holds each. Each is
/// filed under one listener of its group so that none shows more rows under it than its queue's
/// length (its RECV-Q, as `ss` shows it) — in one order every process sharing the group agrees on
/// (listeners by inode, connections by client address), so each is shown once — and says which
/// queues it may be in. One filed under another process's listener is that process's to show;
/// one no queue has room for (a half-open SYN_RECV, which no length counts) goes under the
/// group's first listener.
fn shared_queues(
    waiting: Vec<(&DiagSocket, Vec<&DiagSocket>, TcpState)>,
    ours: &HashMap<u64, i32>,
) -> Vec<PendingConn> {
    let mut groups: HashMap<Vec<u64>, SharedQueue> = HashMap::new();
    for (socket, mut group, state) in waiting {
        group.sort_by_key(|l| l.inode);
        let key: Vec<u64> = group.iter().map(|l| l.inode).collect();
        groups
            .entry(key)
            .or_insert_with(|| SharedQueue {
                listeners: group,
                waiting: Vec::new(),
            })
            .waiting
            .push((socket, state));
    }
    let mut filed = Vec::new();
    for SharedQueue {
        listeners,
        waiting: mut conns,
    } in groups.into_values()
    {
        let mut fds: Vec<i32> = listeners
            .iter()
            .filter_map(|l| ours.get(&l.inode).copied())
            .collect();
        if fds.is_empty() {
            continue;
        }
        fds.sort_unstable();
        let elsewhere = fds.len() < listeners.len();
        let mut room: Vec<u64> = listeners.iter().map(|l| l.recv_q).collect();
        conns.sort_by_cached_key(|(s, _)| s.remote.as_ref().map(ToString::to_string));
        for (socket, state) in conns {
            let counted = matches!(state, TcpState::Established | TcpState::CloseWait);
            let slot = room.iter().position(|&r| counted && r > 0).unwrap_or(0);
            if let Some(r) = room.get_mut(slot).filter(|_| counted) {
                *r = r.saturating_sub(1);
            }
            let Some(&fd) = listeners.get(slot).and_then(|l| ours.get(&l.inode)) else {
                continue;
            };
            let origin = Origin::QueuedInOneOf {
                listeners: fds.clone(),
                elsewhere,
            };
            filed.push(connection(socket, fd, origin, state));
        }
    }
    filed
}

/// The listeners of a SO_REUSEPORT group, by inode, and the connections listed in its queues.
struct SharedQueue<'a> {
    listeners: Vec<&'a DiagSocket>,
    waiting: Vec<(&'a DiagSocket, TcpState)>,
}

/// The connections this process's TCP listeners count in their accept queue that the dump does
/// not list: reset while queued, a connection stays in the queue in CLOSE (accept returns it,
/// and its first recv fails with ECONNRESET), but out of the tables sock_diag walks. Known only
/// by their number: the listener's RECV-Q less the complete connections listed under it. Not
/// told for a listener whose connections may be filed under another of its SO_REUSEPORT group.
fn reset_in_queues(
    listeners: &[&DiagSocket],
    ours: &HashMap<u64, i32>,
    queued: &[PendingConn],
) -> Vec<PendingConn> {
    let in_groups: HashSet<i32> = queued
        .iter()
        .filter_map(|p| match &p.origin {
            Origin::QueuedInOneOf { listeners, .. } => Some(listeners.iter().copied()),
            _ => None,
        })
        .flatten()
        .collect();
    let mut reset = Vec::new();
    for listener in listeners {
        let Some(&fd) = ours.get(&listener.inode) else {
            continue;
        };
        if in_groups.contains(&fd) {
            continue;
        }
        let listed = queued
            .iter()
            .filter(|p| p.listener_fd == fd && p.is_counted_in_queue())
            .count();
        let unlisted = listener
            .recv_q
            .saturating_sub(u64::try_from(listed).unwrap_or(u64::MAX));
        for _ in 0..unlisted {
            reset.push(PendingConn {
                listener_fd: fd,
                origin: Origin::Queued,
                family: listener.family,
                sock_type: SockType::Stream,
                local: listener.local.clone(),
                remote: None,
                state: SockState::Tcp(TcpState::Close),
                peer_inode: None,
                recv_q: None,
                send_q: None,
                time_left_ms: None,
            });
        }
    }
    reset
}

/// A TCP connection without an fd, shown under `fd`.
fn connection(socket: &DiagSocket, fd: i32, origin: Origin, state: TcpState) -> PendingConn {
    PendingConn {
        listener_fd: fd,
        origin,
        family: socket.family,
        sock_type: SockType::Stream,
        local: socket.local.clone(),
        remote: socket.remote.clone(),
        state: SockState::Tcp(state),
        peer_inode: None,
        recv_q: Some(socket.recv_q),
        send_q: Some(socket.send_q),
        time_left_ms: socket
            .time_left
            .map(|t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX)),
    }
}

/// Gives the Unix rows their peer inodes and queues as `ss` shows them (a listener's: the accept
/// queue's length and limit), and returns the connections waiting on those listeners.
pub(super) fn add_unix_view(rows: &mut [FdRow], sockets: &[DiagSocket]) -> Vec<PendingConn> {
    let by_inode: HashMap<u64, &DiagSocket> = sockets.iter().map(|s| (s.inode, s)).collect();
    let mut pending = Vec::new();
    let mut listed = Vec::new();
    for row in rows.iter_mut() {
        if !is_unix(row) {
            continue;
        }
        let Some(socket) = by_inode.get(&row.inode) else {
            continue;
        };
        row.peer_inode = socket.peer_inode;
        // The numbers `ss` prints (UDIAG_SHOW_RQLEN): for a listener its accept queue's length
        // and limit; else the bytes waiting (a datagram socket: the next datagram's) and the
        // memory of what the peer has not read, which SIOCINQ and SIOCOUTQ gave already.
        row.recv_q = Some(socket.recv_q);
        row.send_q = Some(socket.send_q);
        if !socket.is_in(TcpState::Listen) {
            continue;
        }
        // A dup'ed listener's queue is shown once, under its lowest fd (rows are in fd order).
        if listed.contains(&row.inode) {
            continue;
        }
        listed.push(row.inode);
        for &client in &socket.pending {
            let client = (client != 0).then_some(client);
            pending.push(PendingConn {
                listener_fd: row.fd,
                origin: Origin::Queued,
                family: Family::Unix,
                sock_type: socket.netid.sock_type(),
                local: row.local.clone(),
                remote: client
                    .and_then(|c| by_inode.get(&c))
                    .and_then(|c| c.local.clone()),
                state: UNIX_PENDING_STATE,
                peer_inode: client,
                recv_q: None,
                send_q: None,
                time_left_ms: None,
            });
        }
    }
    pending
}

#[cfg(test)]
mod tests {
    use super::super::{inspect_fd, shown, Observed, SNAPSHOTS};
    use super::*;
    use std::io::Write as _;
    use std::net::{TcpListener, TcpStream};
    use std::os::fd::AsRawFd;
    use std::os::linux::net::SocketAddrExt as _;
    use std::os::unix::net::{self as unix, UnixListener, UnixStream};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    /// A snapshot of this process by an observer of its own.
    fn snapshot() -> Snapshot {
        Observer::new(Observed::ThisProcess).snapshot()
    }

    /// Takes snapshots until `check` accepts one (loopback handshakes finish in softirq context,
    /// not necessarily before connect returns), for up to two seconds.
    fn snapshot_where(what: &str, check: impl Fn(&Snapshot) -> bool) -> Snapshot {
        observe_until(&mut Observer::new(Observed::ThisProcess), what, check)
    }

    /// Like [`snapshot_where`], by one observer, which remembers from one snapshot to the next.
    fn observe_until(
        observer: &mut Observer,
        what: &str,
        check: impl Fn(&Snapshot) -> bool,
    ) -> Snapshot {
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            let s = observer.snapshot();
            if check(&s) {
                return s;
            }
            assert!(Instant::now() < deadline, "timed out waiting until {what}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn unique_abstract_name(tag: &str) -> Vec<u8> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        format!("sockplay-kview-{}-{n}-{tag}", std::process::id()).into_bytes()
    }

    /// Holds off the other whole-snapshot tests for as long as it lives.
    fn serial() -> std::sync::MutexGuard<'static, ()> {
        SNAPSHOTS.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn pending_of(s: &Snapshot, fd: i32) -> Vec<PendingConn> {
        s.pending
            .iter()
            .filter(|p| p.listener_fd == fd)
            .cloned()
            .collect()
    }

    #[test]
    fn tcp_accept_queue_appears_under_its_listener_until_accept() {
        let _serial = serial();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let fd = listener.as_raw_fd();
        let client = TcpStream::connect(addr).expect("connect");
        let client_addr = client.local_addr().expect("client addr");

        // The queued socket is SYN_RECV until the client's final ACK has been processed.
        let s = snapshot_where("the connection is queued and complete", |s| {
            let queued = pending_of(s, fd);
            queued.len() == 1 && queued[0].state == SockState::Tcp(TcpState::Established)
        });
        let queued = &pending_of(&s, fd)[0];
        assert_eq!(queued.label(), "tcp");
        assert_eq!(shown(&queued.local), Some(addr.to_string()));
        assert_eq!(shown(&queued.remote), Some(client_addr.to_string()));
        assert_eq!(queued.state, SockState::Tcp(TcpState::Established));
        assert_eq!(queued.peer_inode, None);
        assert_eq!((queued.recv_q, queued.send_q), (Some(0), Some(0)));

        // Data the client sends before accept waits in the queued socket.
        (&client).write_all(b"early").expect("send");
        let s = snapshot_where("the early bytes are queued", |s| {
            pending_of(s, fd).first().and_then(|p| p.recv_q) == Some(5)
        });
        assert_eq!(pending_of(&s, fd).len(), 1);

        let (accepted, _) = listener.accept().expect("accept");
        let s = snapshot();
        assert!(pending_of(&s, fd).is_empty(), "{:#?}", s.pending);
        let row = s.get(accepted.as_raw_fd()).expect("the accepted fd");
        assert_eq!(shown(&row.local), Some(addr.to_string()));
    }

    #[test]
    fn wildcard_listener_owns_loopback_connections() {
        let _serial = serial();
        let listener = TcpListener::bind("0.0.0.0:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let fd = listener.as_raw_fd();
        let _client = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        let s = snapshot_where("the connection is queued", |s| pending_of(s, fd).len() == 1);
        assert_eq!(
            shown(&pending_of(&s, fd)[0].local),
            Some(format!("127.0.0.1:{port}"))
        );
    }

    #[test]
    fn unix_listener_gets_queue_numbers_and_pending_clients() {
        let _serial = serial();
        let name = unique_abstract_name("listener");
        let addr = unix::SocketAddr::from_abstract_name(&name).expect("abstract address");
        let listener = UnixListener::bind_addr(&addr).expect("bind");
        // Listening again changes the backlog: 7 tells the limit apart from any default.
        nix::sys::socket::listen(
            &listener,
            nix::sys::socket::Backlog::new(7).expect("backlog"),
        )
        .expect("listen");
        let fd = listener.as_raw_fd();
        let client = UnixStream::connect_addr(&addr).expect("connect");
        let client_inode = inspect_fd(client.as_raw_fd()).expect("client").inode;

        let s = snapshot();
        let row = s.get(fd).expect("listener row");
        assert_eq!((row.recv_q, row.send_q), (Some(1), Some(7)));
        let queued = pending_of(&s, fd);
        assert_eq!(queued.len(), 1, "{queued:#?}");
        let expected_local = format!("@{}", String::from_utf8(name).expect("ascii"));
        assert_eq!(
            shown(&queued[0].local).as_deref(),
            Some(expected_local.as_str())
        );
        assert_eq!(queued[0].remote, None, "the client is unnamed");
        assert_eq!(queued[0].state.name(), "CONNECTED");
        assert_eq!(queued[0].peer_inode, Some(client_inode));
        assert_eq!(queued[0].label(), "unix/stream");

        let (accepted, _) = listener.accept().expect("accept");
        let s = snapshot();
        assert!(pending_of(&s, fd).is_empty());
        assert_eq!(s.get(fd).expect("listener").recv_q, Some(0));
        // Now the two ends are each other's peers.
        let server_end = s.get(accepted.as_raw_fd()).expect("accepted");
        let client_end = s.get(client.as_raw_fd()).expect("client");
        assert_eq!(server_end.peer_inode, Some(client_end.inode));
        assert_eq!(client_end.peer_inode, Some(server_end.inode));
    }

    #[test]
    fn socketpair_ends_know_each_others_inode() {
        let _serial = serial();
        let (a, b) = UnixStream::pair().expect("socketpair");
        let s = snapshot();
        let (ra, rb) = (
            s.get(a.as_raw_fd()).expect("a"),
            s.get(b.as_raw_fd()).expect("b"),
        );
        assert_eq!(ra.peer_inode, Some(rb.inode));
        assert_eq!(rb.peer_inode, Some(ra.inode));
    }

    #[test]
    fn path_listener_row_matches_diag_name() {
        let _serial = serial();
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("kview.sock");
        let listener = UnixListener::bind(&path).expect("bind");
        let s = snapshot();
        let row = s.get(listener.as_raw_fd()).expect("row");
        assert_eq!(shown(&row.local), Some(path.display().to_string()));
        assert_eq!(row.recv_q, Some(0));
    }

    /// Runs in a child process (this test binary again): a full fd table would make the tests
    /// running alongside fail with EMFILE.
    #[test]
    fn full_fd_table_degrades_to_the_plain_table() {
        const CHILD: &str = "SOCKPLAY_KERNEL_VIEW_FULL_TABLE_CHILD";
        if std::env::var_os(CHILD).is_none() {
            let module = module_path!().split_once("::").expect("crate::module").1;
            let name = format!("{module}::full_fd_table_degrades_to_the_plain_table");
            let output = std::process::Command::new(std::env::current_exe().expect("test binary"))
                .args(["--exact", &name, "--test-threads=1"])
                .env(CHILD, "1")
                .output()
                .expect("run the child");
            let stdout = String::from_utf8_lossy(&output.stdout);
            assert!(
                output.status.success() && stdout.contains("1 passed"),
                "the full-table child failed or did not run:\n{stdout}\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
            return;
        }
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let _client = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
        snapshot_where("the connection is queued", |s| !s.pending.is_empty());

        let (_, hard) = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
            .expect("getrlimit");
        nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE, 64, hard)
            .expect("setrlimit");
        let mut files = Vec::new();
        while let Ok(file) = std::fs::File::open("/dev/null") {
            files.push(file);
        }
        let err = SockDiag::open().expect_err("the table is full");
        assert_eq!(err.raw_os_error(), Some(nix::errno::Errno::EMFILE as i32));
        let s = snapshot();
        let row = s.get(listener.as_raw_fd()).expect("listener still listed");
        assert_eq!(row.state, Some(SockState::Tcp(TcpState::Listen)));
        assert_eq!(row.recv_q, Some(1), "TCP_INFO still gives the queue");
        assert!(s.pending.is_empty(), "no sock_diag, no pending rows");
    }

    fn row_of(s: &Snapshot, fd: &impl AsRawFd) -> FdRow {
        s.get(fd.as_raw_fd()).expect("the fd's row").clone()
    }

    fn tcp_state_of(s: &Snapshot, fd: &impl AsRawFd) -> Option<SockState> {
        s.get(fd.as_raw_fd()).and_then(|r| r.state)
    }

    /// A listener on a loopback port whose accept queue holds at most `backlog` + 1 connections.
    fn listener_with_backlog(backlog: i32) -> socket2::Socket {
        let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
            .expect("socket");
        let any: std::net::SocketAddr = "127.0.0.1:0".parse().expect("address");
        socket.bind(&any.into()).expect("bind");
        socket.listen(backlog).expect("listen");
        socket
    }

    fn local_addr(socket: &socket2::Socket) -> std::net::SocketAddr {
        socket
            .local_addr()
            .expect("bound")
            .as_socket()
            .expect("inet")
    }

    #[test]
    fn a_closed_connection_stays_under_its_fd_in_fin_wait2_then_time_wait_with_its_time_left() {
        let _serial = serial();
        let mut observer = Observer::new(Observed::ThisProcess);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let server_addr = listener.local_addr().expect("addr");
        let client = TcpStream::connect(server_addr).expect("connect");
        let client_addr = client.local_addr().expect("client addr");
        let (server, _) = listener.accept().expect("accept");
        let client_fd = client.as_raw_fd();
        let s = observer.snapshot();
        assert_eq!(
            tcp_state_of(&s, &client),
            Some(SockState::Tcp(TcpState::Established))
        );

        drop(client);
        // The server's kernel acknowledges the FIN a moment later (delayed ACK).
        let s = observe_until(&mut observer, "the orphan is in FIN_WAIT2", |s| {
            pending_of(s, client_fd)
                .first()
                .is_some_and(|p| p.state == SockState::Tcp(TcpState::FinWait2))
        });
        let left = pending_of(&s, client_fd);
        assert_eq!(left.len(), 1, "{left:#?}");
        let orphan = &left[0];
        assert!(matches!(orphan.origin, Origin::Left { .. }), "{orphan:?}");
        assert_eq!(shown(&orphan.local), Some(client_addr.to_string()));
        assert_eq!(shown(&orphan.remote), Some(server_addr.to_string()));
        assert_eq!((orphan.recv_q, orphan.send_q), (Some(0), Some(0)));
        // tcp_fin_timeout (60 s by default) bounds how long the kernel keeps it.
        assert!(
            orphan.time_left_ms.is_some_and(|ms| ms > 0 && ms <= 60_000),
            "{orphan:?}"
        );
        assert_eq!(
            tcp_state_of(&s, &server),
            Some(SockState::Tcp(TcpState::CloseWait))
        );
        // The server has not read the FIN: `ss` counts it in RECV-Q.
        assert_eq!(row_of(&s, &server).recv_q, Some(1));

        drop(server);
        let s = observe_until(&mut observer, "the orphan is in TIME_WAIT", |s| {
            pending_of(s, client_fd)
                .first()
                .is_some_and(|p| p.state == SockState::Tcp(TcpState::TimeWait))
        });
        let tw = &pending_of(&s, client_fd)[0];
        assert_eq!(shown(&tw.local), Some(client_addr.to_string()));
        assert_eq!(tw.origin, orphan.origin, "from the same socket");
        assert!(
            tw.time_left_ms
                .is_some_and(|ms| ms > 50_000 && ms <= 60_000),
            "TIME_WAIT lasts 60 s: {tw:?}"
        );
        // The connection is shown once, and counted as no fd.
        assert_eq!(
            s.pending
                .iter()
                .filter(|p| p.local == tw.local && p.remote == tw.remote)
                .count(),
            1
        );
    }

    #[test]
    fn an_observer_that_never_saw_the_fd_claims_nothing_it_left() {
        let _serial = serial();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let client = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
        let (server, _) = listener.accept().expect("accept");
        let client_fd = client.as_raw_fd();
        let mut seen = Observer::new(Observed::ThisProcess);
        seen.snapshot();
        drop(client);
        drop(server);
        observe_until(&mut seen, "the observer that saw it shows it", |s| {
            pending_of(s, client_fd)
                .iter()
                .any(|p| p.state == SockState::Tcp(TcpState::TimeWait))
        });
        // Another process's observer (here: a fresh one) never held the fd.
        let fresh = snapshot();
        assert!(
            !fresh.pending.iter().any(|p| !p.origin.is_queued()
                && p.listener_fd == client_fd
                && p.state == SockState::Tcp(TcpState::TimeWait)),
            "{:#?}",
            fresh.pending
        );
    }

    #[test]
    fn a_syn_sent_socket_shows_where_it_connects_and_its_syn_in_send_q() {
        let _serial = serial();
        // Backlog 0 takes one connection; the next SYN finds the queue full and is dropped, so
        // the second client stays in SYN_SENT, retransmitting.
        let listener = listener_with_backlog(0);
        let server_addr = local_addr(&listener);
        let _first = TcpStream::connect(server_addr).expect("connect");
        let second = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
            .expect("socket");
        second.set_nonblocking(true).expect("nonblocking");
        let err = second
            .connect(&server_addr.into())
            .expect_err("a non-blocking connect is in progress");
        assert_eq!(
            err.raw_os_error(),
            Some(nix::errno::Errno::EINPROGRESS as i32)
        );
        let s = snapshot();
        let row = row_of(&s, &second);
        assert_eq!(row.state, Some(SockState::Tcp(TcpState::SynSent)));
        assert_eq!(shown(&row.remote), Some(server_addr.to_string()));
        assert_eq!(
            (row.recv_q, row.send_q),
            (Some(0), Some(1)),
            "the SYN counts"
        );
        let listener_row = row_of(&s, &listener);
        assert_eq!(
            (listener_row.recv_q, listener_row.send_q),
            (Some(1), Some(0))
        );
    }

    #[test]
    fn a_refused_connect_leaves_no_address_it_does_not_hold() {
        let _serial = serial();
        let closed = TcpListener::bind("127.0.0.1:0").expect("bind");
        let refusing = closed.local_addr().expect("addr");
        drop(closed);
        let any: std::net::SocketAddr = "127.0.0.1:0".parse().expect("address");

        // Bound to port 0: the kernel chose the port, and frees it when the connect fails.
        let chosen = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
            .expect("socket");
        chosen.bind(&any.into()).expect("bind");
        let err = chosen.connect(&refusing.into()).expect_err("refused");
        assert_eq!(
            err.raw_os_error(),
            Some(nix::errno::Errno::ECONNREFUSED as i32)
        );
        let stale = local_addr(&chosen);
        assert_ne!(stale.port(), 0, "getsockname still names the port");

        // Bound to a port by number: the socket keeps it.
        let spare = TcpListener::bind(any).expect("bind");
        let kept_addr = spare.local_addr().expect("addr");
        drop(spare);
        let kept = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
            .expect("socket");
        kept.bind(&kept_addr.into()).expect("bind again");
        let err = kept.connect(&refusing.into()).expect_err("refused");
        assert_eq!(
            err.raw_os_error(),
            Some(nix::errno::Errno::ECONNREFUSED as i32)
        );

        let s = snapshot();
        let lists_bound = SockDiag::open().expect("sock_diag").lists_bound_sockets();
        let row = row_of(&s, &chosen);
        assert_eq!(row.state, Some(SockState::Tcp(TcpState::Close)));
        assert_eq!(row.remote, None);
        // SEND-Q is the kernel's figure, SIOCOUTQ's, for either socket: the failed connect moved
        // the next sequence number on by the peer's window (none) plus 2, past the SYN.
        let outq = |s: &socket2::Socket| {
            crate::sys::socket::SocketFd::new(s.as_raw_fd())
                .unsent_bytes()
                .ok()
        };
        assert_eq!((row.send_q, outq(&chosen)), (Some(3), Some(3)));
        assert_eq!(row_of(&s, &kept).send_q, outq(&kept));
        if lists_bound {
            assert_eq!(row.local, None, "port {} is free again", stale.port());
            // Free indeed: another socket binds it.
            TcpListener::bind(stale).expect("the port is free");
            let row = row_of(&s, &kept);
            assert_eq!(shown(&row.local), Some(kept_addr.to_string()));
            let err = TcpListener::bind(kept_addr).expect_err("the port is held");
            assert_eq!(
                err.raw_os_error(),
                Some(nix::errno::Errno::EADDRINUSE as i32)
            );
        }
    }

    /// The rx_queue /proc/net/udp gives the UDP socket with `inode`, as `ss` prints it.
    fn proc_net_udp_rx_queue(inode: u64) -> Option<u64> {
        let table = std::fs::read_to_string("/proc/net/udp").expect("/proc/net/udp");
        table.lines().skip(1).find_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.get(9)?.parse::<u64>().ok()? != inode {
                return None;
            }
            let (_, rx) = fields.get(4)?.split_once(':')?;
            u64::from_str_radix(rx, 16).ok()
        })
    }

    #[test]
    fn a_udp_sockets_recv_q_is_the_kernels_memory_figure_and_the_next_datagram_is_noted() {
        let _serial = serial();
        let receiver = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        let sender = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        let to = receiver.local_addr().expect("addr");
        let s = snapshot();
        let empty = row_of(&s, &receiver);
        assert_eq!((empty.recv_q, empty.next_datagram), (Some(0), None));

        sender.send_to(b"abc", to).expect("send");
        sender.send_to(&[b'x'; 1000], to).expect("send");
        let s = snapshot_where("both datagrams are queued", |s| {
            s.get(receiver.as_raw_fd())
                .and_then(|r| r.recv_q)
                .is_some_and(|q| q > 1000)
        });
        let row = row_of(&s, &receiver);
        let rx = proc_net_udp_rx_queue(row.inode).expect("listed in /proc/net/udp");
        assert_eq!(row.recv_q, Some(rx), "RECV-Q is the kernel's figure");
        assert!(rx > 1003, "memory, not bytes of data: {rx}");
        assert_eq!(
            row.next_datagram,
            Some(3),
            "one recv returns the first datagram"
        );

        let mut buf = [0; 4096];
        assert_eq!(receiver.recv(&mut buf).expect("recv"), 3);
        let s = snapshot();
        let row = row_of(&s, &receiver);
        assert_eq!(row.recv_q, proc_net_udp_rx_queue(row.inode));
        assert_eq!(row.next_datagram, Some(1000));
        assert_eq!(receiver.recv(&mut buf).expect("recv"), 1000);
        let s = snapshot();
        assert_eq!(row_of(&s, &receiver).next_datagram, None);
    }

    #[test]
    fn a_fin_not_yet_read_counts_in_recv_q_as_in_ss() {
        let _serial = serial();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let mut client = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
        let (mut server, _) = listener.accept().expect("accept");
        client.write_all(b"hello").expect("send");
        drop(client);
        let s = snapshot_where("the FIN arrived", |s| {
            tcp_state_of(s, &server) == Some(SockState::Tcp(TcpState::CloseWait))
        });
        assert_eq!(
            row_of(&s, &server).recv_q,
            Some(6),
            "five bytes and the FIN"
        );
        let mut buf = [0; 16];
        use std::io::Read as _;
        assert_eq!(server.read(&mut buf).expect("recv"), 5);
        // The recv that took the bytes took the FIN too.
        assert_eq!(row_of(&snapshot(), &server).recv_q, Some(0));
    }

    #[test]
    fn connections_queued_in_a_reuseport_group_are_filed_as_the_queue_lengths_allow() {
        let _serial = serial();
        let reuseport = || {
            let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
                .expect("socket");
            socket.set_reuse_port(true).expect("SO_REUSEPORT");
            socket
        };
        let a = reuseport();
        let any: std::net::SocketAddr = "127.0.0.1:0".parse().expect("address");
        a.bind(&any.into()).expect("bind");
        let addr = local_addr(&a);
        let b = reuseport();
        b.bind(&addr.into()).expect("bind the same port");
        a.listen(16).expect("listen");
        b.listen(16).expect("listen");
        let clients: Vec<TcpStream> = (0..8)
            .map(|_| TcpStream::connect(addr).expect("connect"))
            .collect();
        let s = snapshot_where("every connection is queued", |s| {
            let queued = |l: &socket2::Socket| s.get(l.as_raw_fd()).and_then(|r| r.recv_q);
            queued(&a).zip(queued(&b)).is_some_and(|(x, y)| x + y == 8)
        });
        let (fd_a, fd_b) = (a.as_raw_fd(), b.as_raw_fd());
        let counts = (row_of(&s, &a).recv_q, row_of(&s, &b).recv_q);
        let mine: Vec<&PendingConn> = s
            .pending
            .iter()
            .filter(|p| p.local.as_ref().and_then(|l| l.inet_addr()) == Some(addr))
            .collect();
        assert_eq!(mine.len(), 8, "{mine:#?}");
        let group = Origin::QueuedInOneOf {
            listeners: vec![fd_a.min(fd_b), fd_a.max(fd_b)],
            elsewhere: false,
        };
        for conn in &mine {
            match counts {
                // Only one queue holds anything: that is where they all are.
                (Some(8), Some(0)) => {
                    assert_eq!((conn.listener_fd, &conn.origin), (fd_a, &Origin::Queued))
                }
                (Some(0), Some(8)) => {
                    assert_eq!((conn.listener_fd, &conn.origin), (fd_b, &Origin::Queued))
                }
                _ => assert_eq!(conn.origin, group),
            }
        }
        // Each listener has no more rows under it than its queue holds, so every one is where
        // the numbers allow, and the rows say which queues each may be in.
        let under = |fd: i32| mine.iter().filter(|p| p.listener_fd == fd).count() as u64;
        assert_eq!((Some(under(fd_a)), Some(under(fd_b))), counts, "{mine:#?}");
        drop(clients);
    }

    #[test]
    fn a_connection_reset_while_queued_is_counted_as_the_kernel_counts_it_until_accept() {
        let _serial = serial();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let fd = listener.as_raw_fd();
        let client = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
            .expect("socket");
        client.connect(&addr.into()).expect("connect");
        snapshot_where("the connection is queued", |s| pending_of(s, fd).len() == 1);
        // Closing with SO_LINGER 0 sends an RST: the queued connection goes to CLOSE and out
        // of sock_diag's tables, but stays in the accept queue.
        client
            .set_linger(Some(Duration::ZERO))
            .expect("SO_LINGER 0");
        drop(client);
        let s = snapshot_where("the queued connection is reset", |s| {
            pending_of(s, fd)
                .iter()
                .any(|p| p.state == SockState::Tcp(TcpState::Close))
        });
        assert_eq!(
            row_of(&s, &listener).recv_q,
            Some(1),
            "the kernel still counts it"
        );
        let queued = pending_of(&s, fd);
        assert_eq!(queued.len(), 1, "{queued:#?}");
        assert_eq!(shown(&queued[0].local), Some(addr.to_string()));
        assert_eq!((queued[0].remote.clone(), queued[0].recv_q), (None, None));
        assert!(queued[0].is_counted_in_queue());

        let (accepted, _) = listener.accept().expect("accept returns it");
        let s = snapshot();
        assert!(pending_of(&s, fd).is_empty(), "{:#?}", s.pending);
        assert_eq!(
            tcp_state_of(&s, &accepted),
            Some(SockState::Tcp(TcpState::Close))
        );
    }
}
