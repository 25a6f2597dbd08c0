//! What sock_diag adds to the few rows a step looked at again ([`super::tracker`]), asked socket
//! by socket: each TCP or UDP socket found by its own addresses, what a close left found by the
//! addresses the connection had. Each such question is one hash lookup in the kernel, where a dump
//! walks every bucket of the TCP tables (262,144 on a small machine). A dump, filtered to one
//! port, is still what answers when the kernel cannot be asked exactly: a listener (its accept
//! queue, and the half-open connections in SYN_RECV that no count of the listener includes and
//! whose clients may be any host), a socket connecting (no peer address yet), one in CLOSE that
//! sent something (does it still hold its port?). The answers go through the same code as a whole
//! table's ([`super::kernel_view`]), so both say the same.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use super::diag::{self, DiagSocket, Netid, SockDiag, States, LEFT_STATES};
use super::kernel_view::{
    add_unix_view, awaits_fin_ack, go_without_inet_view, is_unix, netid_of, port_of,
    take_inet_view, without_fd_held, FIN_ACK_PATIENCE,
};
use super::remembered::{connection_of, is_tcp, Ends, Remembered};
use super::tracker::FdIndex;
use super::{FdRow, Observer, PendingConn};
use crate::net::{Endpoint, Family, SockState, TcpState};
use crate::sys::sock_diag::{InetSocket, Protocol};
use crate::sys::socket::SocketFd;

/// What the step knew before it looked again.
#[derive(Debug)]
pub(super) struct Before<'a> {
    /// The table, by fd.
    pub rows: &'a BTreeMap<i32, FdRow>,
    /// The fds looked at again, open or not.
    pub looked: &'a BTreeSet<i32>,
    /// Whether every fd was looked at (a small table, not watched).
    pub whole: bool,
    /// TCP sockets with a peer, by the peer's port: the clients of a listener on that port.
    pub by_peer_port: &'a FdIndex<u16>,
    /// TCP listeners, by port.
    pub listeners_by_port: &'a FdIndex<u16>,
    /// The connections without an fd.
    pub pending: &'a [PendingConn],
    /// The connections a close left that the kernel still kept.
    pub left: &'a HashSet<Ends>,
    /// The fds of each socket, by inode.
    pub by_inode: &'a FdIndex<u64>,
}

/// The kernel's view after the step: the table's connections without an fd, and the connections
/// a close left that the kernel keeps.
#[derive(Debug)]
pub(super) struct After {
    pub pending: Vec<PendingConn>,
    pub left: HashSet<Ends>,
}

/// One inet dump, filtered to one port.
type PortDump = (Netid, Family, u16);

/// Adds what sock_diag knows to `rows` (the fds looked at again, in fd order: fresh rows; the
/// table's other rows are `before.rows`) and works out the table's connections without an fd.
/// `unix_asked`: whether the table has Unix listeners or connected Unix sockets, as a whole
/// table's view asks.
pub(super) fn add_changed_view(
    rows: &mut [FdRow],
    before: &Before<'_>,
    unix_asked: bool,
    observer: &mut Observer,
    remembered: &mut Remembered,
) -> After {
    remembered.note(rows);
    let looked = before.looked;
    // Whether an fd of the table holds a socket: one of the rows looked at, or another row.
    let fresh: HashSet<u64> = rows.iter().map(|row| row.inode).collect();
    let held_here = |inode: u64| {
        fresh.contains(&inode)
            || before
                .by_inode
                .get(&inode)
                .iter()
                .any(|fd| !looked.contains(fd))
    };
    // A close just sent a FIN the peer's kernel may acknowledge a moment later (a delayed ACK):
    // the kernel is asked again until it has, so the row does not depend on when.
    let deadline = Instant::now() + FIN_ACK_PATIENCE;
    let (inet, asked) = loop {
        let mut asked = Asking::default();
        let inet = observer.with_sock_diag(|diag| {
            let question = Question {
                rows,
                before,
                remembered,
                held_here: &held_here,
            };
            asked.ask(question, diag)
        });
        let waits = inet.is_ok()
            && awaits_fin_ack(
                &without_fd_held(&[], &asked.listed, remembered, &held_here).0,
                remembered,
            );
        if !waits || Instant::now() >= deadline {
            break (inet, asked);
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    let mut pending = Vec::new();
    let mut left = HashSet::new();
    let mut recounted = HashSet::new();
    match inet {
        Ok(()) => {
            let listed = asked.listed;
            let asked_about = |row: &FdRow| asked.rows.contains(&row.fd);
            take_inet_view(rows, &listed, asked_about, observer_lists_bound(observer));
            // The listeners whose queues are told again: those looked at, and every listener of
            // this process on a port dumped (a SO_REUSEPORT group is told together).
            let mut listeners: Vec<FdRow> =
                rows.iter().filter(|r| is_listener(r)).cloned().collect();
            let dumped: BTreeSet<u16> = asked.dumped_ports.iter().map(|&(_, _, p)| p).collect();
            for port in dumped {
                for fd in before.listeners_by_port.get(&port) {
                    if looked.contains(&fd) {
                        continue;
                    }
                    if let Some(row) = before.rows.get(&fd) {
                        listeners.push(row.clone());
                    }
                }
            }
            listeners.sort_by_key(|row| row.fd);
            recounted = listeners.iter().map(|row| row.fd).collect();
            let (found, left_now) = without_fd_held(&listeners, &listed, remembered, &held_here);
            pending = found;
            left = left_now;
            // What was asked about and is left no more: forgotten unless an fd still holds it —
            // at once when the kernel listed its socket (another process holds it, and it is that
            // process's to show), else at the second look in a row that does not find it.
            let listed_inodes: HashSet<u64> = listed.iter().map(|s| s.inode).collect();
            for ends in &asked.left_asked {
                if left.contains(ends) {
                    continue;
                }
                let Some(holder) = remembered.holder_of(&ends.0, &ends.1) else {
                    continue;
                };
                if holds(before, rows, holder.fd, holder.inode) {
                    continue;
                }
                if listed_inodes.contains(&holder.inode) {
                    remembered.forget(ends);
                } else {
                    remembered.missed(ends);
                }
            }
            remembered.found_left(&left);
        }
        Err(_) => go_without_inet_view(rows),
    }
    // Queued connections of listeners not looked at again stay as they were.
    let kept = before.pending.iter().filter(|p| {
        p.origin.is_queued()
            && !recounted.contains(&p.listener_fd)
            && !looked.contains(&p.listener_fd)
    });
    let (kept_unix, kept_tcp): (Vec<&PendingConn>, Vec<&PendingConn>) =
        kept.partition(|p| p.family == Family::Unix);
    // Queued ones in the order they came in, before what closes left (in the order their
    // connections were made).
    let mut all: Vec<PendingConn> = kept_tcp.into_iter().cloned().collect();
    all.extend(pending);
    remembered.order_queued(&mut all);
    all.extend(kept_unix.into_iter().cloned());
    let unix_looked = rows.iter().any(is_unix);
    if unix_asked && unix_looked {
        if let Ok(sockets) = observer.with_sock_diag(|diag| diag::unix(diag, States::ALL)) {
            all.extend(add_unix_view(rows, &sockets));
        }
    }
    // Stable: each fd's connections keep the order they were found in.
    all.sort_by_key(|p| p.listener_fd);
    After { pending: all, left }
}

/// Whether fd `fd` holds the socket `inode`: as the rows looked at again (`fresh`) say, for an fd
/// looked at (one of them no more is closed), else as the table before says.
fn holds(before: &Before<'_>, fresh: &[FdRow], fd: i32, inode: u64) -> bool {
    match fresh.binary_search_by_key(&fd, |row| row.fd) {
        Ok(at) => fresh[at].inode == inode,
        Err(_) if before.looked.contains(&fd) => false,
        Err(_) => before.rows.get(&fd).is_some_and(|row| row.inode == inode),
    }
}

fn observer_lists_bound(observer: &mut Observer) -> bool {
    observer
        .with_sock_diag(|diag| Ok(diag.lists_bound_sockets()))
        .unwrap_or(false)
}

/// A TCP listener.
fn is_listener(row: &FdRow) -> bool {
    is_tcp(row) && row.state == Some(SockState::Tcp(TcpState::Listen))
}

/// The questions one step asks, and what the kernel said.
#[derive(Debug, Default)]
struct Asking {
    /// What the kernel listed: sockets found by their addresses, and every socket on a dumped
    /// port.
    listed: Vec<DiagSocket>,
    /// The fds whose sockets were asked about.
    rows: HashSet<i32>,
    /// The ports dumped because no exact question would do.
    dumped_ports: HashSet<PortDump>,
    /// The connections a close left that were asked about.
    left_asked: Vec<Ends>,
}

/// What a step asks the kernel about: the rows looked at again, the table before, the
/// connections remembered, and whether an fd of the table holds a socket (by inode).
#[derive(Clone, Copy)]
struct Question<'q, 'b> {
    rows: &'q [FdRow],
    before: &'q Before<'b>,
    remembered: &'q Remembered,
    held_here: &'q dyn Fn(u64) -> bool,
}

impl Asking {
    fn ask(&mut self, question: Question<'_, '_>, diag: &mut SockDiag) -> std::io::Result<()> {
        let Question {
            rows,
            before,
            remembered,
            held_here,
        } = question;
        let mut dumps: HashSet<PortDump> = HashSet::new();
        for row in rows {
            let (Some(netid), Some((family, port))) = (netid_of(row), port_of(row)) else {
                continue;
            };
            let dump = (netid, family, port);
            if netid == Netid::Udp {
                self.rows.insert(row.fd);
                if !self.own(diag, row, netid, udp_question(row))? {
                    dumps.insert(dump);
                }
                continue;
            }
            let state = match row.state {
                Some(SockState::Tcp(state)) => state,
                _ => continue,
            };
            match state {
                TcpState::Close => {
                    // Only a socket that was more than bound may have let its port go: one that
                    // had a connection (its segments count), or whose connect failed (which
                    // sets the counts back but leaves SIOCOUTQ counting what it never sent).
                    // One only bound holds what it bound, as getsockname says.
                    let had_traffic = SocketFd::new(row.fd)
                        .tcp_info()
                        .map_or(true, |info| info.segs_out > 0 || info.segs_in > 0);
                    if had_traffic || row.send_q.is_some_and(|q| q > 0) {
                        self.rows.insert(row.fd);
                        dumps.insert(dump);
                    }
                }
                // Where it connects, getpeername does not say yet.
                TcpState::SynSent => {
                    self.rows.insert(row.fd);
                    dumps.insert(dump);
                }
                // A half-open connection (SYN_RECV) is in no count the listener keeps, and its
                // client may be any host: only a dump of the port finds it, every step in a
                // small table. In a watched one the listener's own row is asked for, and the
                // connections in its queue by the clients this process holds; a dump of the port
                // when they do not account for the queue.
                TcpState::Listen => {
                    self.rows.insert(row.fd);
                    let question = row
                        .local
                        .as_ref()
                        .and_then(Endpoint::inet_addr)
                        .map(|local| (local, unspecified(local)));
                    if before.whole
                        || !self.own(diag, row, netid, question)?
                        || !self.queue(diag, row, rows, before)?
                    {
                        dumps.insert(dump);
                    }
                }
                _ => {
                    self.rows.insert(row.fd);
                    let question = row
                        .local
                        .as_ref()
                        .and_then(Endpoint::inet_addr)
                        .zip(row.remote.as_ref().and_then(Endpoint::inet_addr));
                    if !self.own(diag, row, netid, question)? {
                        dumps.insert(dump);
                    }
                }
            }
        }
        self.ask_left(question, diag)?;
        self.dump(diag, &dumps)?;
        // A connection only counted in a queue (reset, or accepted while the dump walked) is
        // believed after a second look, as for a whole table.
        let only_counted = {
            let listeners: Vec<FdRow> = rows.iter().filter(|r| is_listener(r)).cloned().collect();
            without_fd_held(&listeners, &self.listed, remembered, held_here)
                .0
                .iter()
                .any(|p| p.origin.is_queued() && p.state == SockState::Tcp(TcpState::Close))
        };
        if only_counted && !dumps.is_empty() {
            let port_of_listed = |s: &DiagSocket| s.local_addr.map_or(0, |a| a.port());
            self.listed
                .retain(|s| !dumps.contains(&(s.netid, s.family, port_of_listed(s))));
            self.dump(diag, &dumps)?;
        }
        self.dumped_ports = dumps;
        self.dedupe();
        Ok(())
    }

    /// Keeps each socket listed once (found by its addresses and dumped with its port too).
    fn dedupe(&mut self) {
        let mut seen = HashSet::new();
        self.listed.retain(|s| {
            let key = if s.inode != 0 {
                (s.netid, s.inode, None)
            } else {
                (s.netid, 0, Some((s.local_addr, s.remote.clone())))
            };
            seen.insert(key)
        });
    }

    /// Asks for the row's own socket by its addresses; false when that does not find it (then a
    /// dump must).
    fn own(
        &mut self,
        diag: &mut SockDiag,
        row: &FdRow,
        netid: Netid,
        question: Option<(SocketAddr, SocketAddr)>,
    ) -> std::io::Result<bool> {
        let Some((local, remote)) = question else {
            return Ok(false);
        };
        match exact(diag, row.family, netid, local, remote)? {
            Some(socket) if socket.inode == row.inode => {
                self.listed.push(socket);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Finds the connections in a TCP listener's accept queue by the clients this process holds;
    /// false when they do not account for the queue (then a dump of its port must).
    fn queue(
        &mut self,
        diag: &mut SockDiag,
        listener: &FdRow,
        rows: &[FdRow],
        before: &Before<'_>,
    ) -> std::io::Result<bool> {
        let queued = listener.recv_q.unwrap_or(0);
        if queued == 0 {
            return Ok(true);
        }
        // A full queue may hold half-open connections too, which no client of ours names.
        if queued > listener.send_q.unwrap_or(0) || reuses_port(listener) {
            return Ok(false);
        }
        let Some(local) = listener.local.as_ref().and_then(Endpoint::inet_addr) else {
            return Ok(false);
        };
        let mut complete = 0;
        for client in clients(local, rows, before) {
            let (Some(theirs), Some(mine)) = (
                client.local.as_ref().and_then(Endpoint::inet_addr),
                client.remote.as_ref().and_then(Endpoint::inet_addr),
            ) else {
                continue;
            };
            let (mine, theirs) = in_family_of(listener.family, mine, theirs);
            if let Some(socket) = exact(diag, listener.family, Netid::Tcp, mine, theirs)? {
                if socket.inode == 0 {
                    if socket.is_in(TcpState::Established) || socket.is_in(TcpState::CloseWait) {
                        complete += 1;
                    }
                    self.listed.push(socket);
                }
            }
        }
        Ok(complete == queued)
    }

    /// Asks for what a close left of the connections that may have left something: those left
    /// last time, and those of the fds looked at that closed, now hold another socket or are in
    /// CLOSE.
    fn ask_left(&mut self, question: Question<'_, '_>, diag: &mut SockDiag) -> std::io::Result<()> {
        let Question {
            rows,
            before,
            remembered,
            held_here,
        } = question;
        // Those left last time, and those the last look missed once (the kernel may have been
        // moving them).
        let mut asking: Vec<Ends> = before
            .left
            .iter()
            .chain(remembered.missed_once())
            .cloned()
            .collect();
        for fd in before.looked {
            let Some(ends) = before.rows.get(fd).and_then(connection_of) else {
                continue;
            };
            let old_inode = before.rows.get(fd).map(|row| row.inode);
            let gone = match rows.binary_search_by_key(fd, |row| row.fd) {
                Ok(at) => {
                    Some(rows[at].inode) != old_inode
                        || rows[at].state == Some(SockState::Tcp(TcpState::Close))
                }
                // Closed.
                Err(_) => true,
            };
            if gone && remembered.holder_of(&ends.0, &ends.1).is_some() {
                asking.push(ends);
            }
        }
        asking.sort_by_key(|(l, r)| (l.to_string(), r.to_string()));
        asking.dedup();
        for ends in asking {
            let (Some(local), Some(remote)) = (ends.0.inet_addr(), ends.1.inet_addr()) else {
                continue;
            };
            let family = if local.is_ipv4() {
                Family::Inet
            } else {
                Family::Inet6
            };
            if let Some(socket) = exact(diag, Some(family), Netid::Tcp, local, remote)? {
                let left = socket.inode == 0
                    && socket.tcp_state().is_some_and(|s| LEFT_STATES.contains(&s));
                // Its socket still open, held by no fd here: an fd in flight may hold it.
                let maybe_in_flight = socket.inode != 0
                    && !held_here(socket.inode)
                    && remembered
                        .holder_of(&ends.0, &ends.1)
                        .is_some_and(|holder| holder.inode == socket.inode);
                if left || maybe_in_flight {
                    self.listed.push(socket);
                }
            }
            self.left_asked.push(ends);
        }
        Ok(())
    }

    /// Runs the port dumps, every state, one per protocol and family.
    fn dump(&mut self, diag: &mut SockDiag, dumps: &HashSet<PortDump>) -> std::io::Result<()> {
        let mut by_kind: BTreeMap<(u8, i32), (Netid, Family, Vec<u16>)> = BTreeMap::new();
        for &(netid, family, port) in dumps {
            let key = (u8::from(netid == Netid::Udp), family.number());
            by_kind
                .entry(key)
                .or_insert_with(|| (netid, family, Vec::new()))
                .2
                .push(port);
        }
        for (netid, family, ports) in by_kind.into_values() {
            self.listed
                .extend(diag::inet(diag, family, netid, States::ALL, &ports)?);
        }
        Ok(())
    }
}

/// Which of the fds of this process are clients of a listener on `local`: TCP sockets whose peer
/// is that address (any address of its port, for a listener on the wildcard address).
fn clients<'a>(
    local: SocketAddr,
    rows: &'a [FdRow],
    before: &'a Before<'a>,
) -> impl Iterator<Item = &'a FdRow> {
    let reaches = move |row: &&FdRow| {
        is_tcp(row)
            && row.state != Some(SockState::Tcp(TcpState::Listen))
            && row
                .remote
                .as_ref()
                .and_then(Endpoint::inet_addr)
                .is_some_and(|peer| {
                    peer.port() == local.port()
                        && (local.ip().is_unspecified() || same_ip(peer.ip(), local.ip()))
                })
    };
    let others = before
        .by_peer_port
        .get(&local.port())
        .into_iter()
        .filter(|fd| !before.looked.contains(fd))
        .filter_map(|fd| before.rows.get(&fd));
    rows.iter().filter(reaches).chain(others.filter(reaches))
}

/// Two addresses, an IPv4 one and its v4-mapped IPv6 form alike.
fn same_ip(a: IpAddr, b: IpAddr) -> bool {
    canonical(a) == canonical(b)
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// The two addresses of a connection as a listener of `family` holds them: an IPv4 client of an
/// IPv6 (dual-stack) listener is seen through v4-mapped addresses.
fn in_family_of(
    family: Option<Family>,
    mine: SocketAddr,
    theirs: SocketAddr,
) -> (SocketAddr, SocketAddr) {
    let mapped = |addr: SocketAddr| match addr {
        SocketAddr::V4(v4) => SocketAddr::new(IpAddr::V6(v4.ip().to_ipv6_mapped()), v4.port()),
        v6 => v6,
    };
    match family {
        Some(Family::Inet6) => (mapped(mine), mapped(theirs)),
        _ => (mine, theirs),
    }
}

/// The wildcard address and port 0 of an address's family: a listener's (absent) peer.
fn unspecified(local: SocketAddr) -> SocketAddr {
    match local {
        SocketAddr::V4(_) => SocketAddr::new(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), 0),
        SocketAddr::V6(_) => SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0),
    }
}

/// The question that finds a UDP socket: the kernel looks it up as the socket a datagram from its
/// peer (anyone, when unconnected) to its address would reach.
fn udp_question(row: &FdRow) -> Option<(SocketAddr, SocketAddr)> {
    let local = row.local.as_ref().and_then(Endpoint::inet_addr)?;
    let peer = row
        .remote
        .as_ref()
        .and_then(Endpoint::inet_addr)
        .unwrap_or_else(|| unspecified(local));
    Some((peer, local))
}

/// Whether a listener's socket has SO_REUSEPORT: its queue may be shared out with others.
fn reuses_port(row: &FdRow) -> bool {
    SocketFd::new(row.fd).reuses_port().unwrap_or(true)
}

/// One socket found by its addresses, as a dump would list it.
fn exact(
    diag: &mut SockDiag,
    family: Option<Family>,
    netid: Netid,
    local: SocketAddr,
    remote: SocketAddr,
) -> std::io::Result<Option<DiagSocket>> {
    let Some(family) = family.filter(|f| f.is_inet()) else {
        return Ok(None);
    };
    let protocol = match netid {
        Netid::Tcp => Protocol::Tcp,
        Netid::Udp => Protocol::Udp,
        _ => return Ok(None),
    };
    let found: Option<InetSocket> = diag.inet_exact(family.number(), protocol, local, remote)?;
    Ok(found.map(|socket| diag::inet_row(socket, netid)))
}
