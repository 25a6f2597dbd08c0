//! [`Remembered`]: what an observer keeps of its process's TCP connections from one snapshot to
//! the next — the addresses each fd's connection had — so that what the kernel keeps of one after
//! a `close` (closing down with no fd, then TIME_WAIT), which has no inode and names no process,
//! is shown under the fd it came from, in the process that held it.
//!
//! An entry lasts while an fd of the process still holds that socket, or while the kernel still
//! keeps the connection without an fd; a connection another process still holds (after fork) is
//! not this process's to show, and its entry goes.

use std::collections::{HashMap, HashSet};

use super::{FdRow, Kind, PendingConn};
use crate::net::{Endpoint, Family, SockState, SockType, TcpState};

/// A connection's two addresses: local, remote.
pub(super) type Ends = (Endpoint, Endpoint);

/// The fd (and its socket's inode) whose connection had some addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Holder {
    pub fd: i32,
    pub inode: u64,
    /// When the connection was first noted, in the order of noting: what it left is listed in
    /// that order, the order the connections were made in.
    pub seen: u64,
}

/// The TCP connections the process's fds have held, by their addresses.
#[derive(Debug, Default)]
pub(super) struct Remembered {
    by_ends: HashMap<Ends, Holder>,
    /// The connections the last snapshot found left without an fd.
    left: HashSet<Ends>,
    /// How many connections were ever noted: the next one's `seen`.
    noted: u64,
    /// The connections waiting in the process's accept queues, with when each was first seen
    /// waiting.
    queued: HashMap<Ends, u64>,
    /// The connections the last snapshot neither found held nor left: forgotten if the next one
    /// does not find them either (a dump taken while the kernel moves a socket may miss it).
    missed: HashSet<Ends>,
}

impl Remembered {
    /// Notes the connection of every TCP socket of `rows` that has both addresses; of several
    /// fds of one socket, the lowest.
    pub(super) fn note(&mut self, rows: &[FdRow]) {
        for row in rows.iter().rev() {
            if let Some(ends) = connection_of(row) {
                self.hold(ends, row.fd, row.inode);
            }
        }
    }

    /// Notes that fd `fd`, socket `inode`, holds (or held) the connection `ends`.
    fn hold(&mut self, ends: Ends, fd: i32, inode: u64) {
        let seen = match self.by_ends.get(&ends) {
            Some(known) if known.inode == inode => known.seen,
            _ => {
                self.noted += 1;
                self.noted
            }
        };
        self.by_ends.insert(ends, Holder { fd, inode, seen });
    }

    /// Notes what a close left of a connection (or what a message in flight holds), under the
    /// fd it came from: the connection `conn` shows.
    pub(super) fn note_left(&mut self, conn: &PendingConn) {
        let (Some(inode), Some(local), Some(remote)) =
            (conn.origin.came_from(), &conn.local, &conn.remote)
        else {
            return;
        };
        self.hold((local.clone(), remote.clone()), conn.listener_fd, inode);
    }

    /// Puts the connections of `found` that wait in accept queues in the order they were first
    /// seen waiting (the order they came in, as far as the snapshots tell: the kernel lists them
    /// in hash order), before what closes left, which keep their order; forgets those no longer
    /// waiting. One only counted (reset, with no address) comes first.
    pub(super) fn order_queued(&mut self, found: &mut [PendingConn]) {
        let mut now = HashMap::new();
        for conn in found.iter().filter(|conn| conn.origin.is_queued()) {
            let (Some(local), Some(remote)) = (&conn.local, &conn.remote) else {
                continue;
            };
            let ends = (local.clone(), remote.clone());
            let seen = match self.queued.get(&ends) {
                Some(&seen) => seen,
                None => {
                    self.noted += 1;
                    self.noted
                }
            };
            now.insert(ends, seen);
        }
        found.sort_by_key(|conn| {
            let ends = conn.local.clone().zip(conn.remote.clone());
            match (
                conn.origin.is_queued(),
                ends.and_then(|ends| now.get(&ends)),
            ) {
                (true, Some(&seen)) => (0, seen),
                (true, None) => (0, 0),
                (false, _) => (1, 0),
            }
        });
        self.queued = now;
    }

    /// Whether no connection is remembered.
    pub(super) fn is_empty(&self) -> bool {
        self.by_ends.is_empty()
    }

    /// The fd (and its socket) whose connection had these addresses.
    pub(super) fn holder_of(&self, local: &Endpoint, remote: &Endpoint) -> Option<Holder> {
        // The key is owned; the lookup clones two small addresses rather than allocating a map
        // of borrowed ones.
        self.by_ends.get(&(local.clone(), remote.clone())).copied()
    }

    /// The families and local ports of the connections remembered, for asking the kernel what
    /// is left of them.
    pub(super) fn local_ports(&self) -> impl Iterator<Item = (Family, u16)> + '_ {
        self.by_ends.keys().filter_map(|(local, _)| {
            let addr = local.inet_addr()?;
            let family = if addr.is_ipv4() {
                Family::Inet
            } else {
                Family::Inet6
            };
            Some((family, addr.port()))
        })
    }

    /// Forgets every connection except those an fd of `rows` still holds (the same socket) and
    /// those the kernel still keeps without an fd (`left`). One whose socket the dump listed
    /// (`listed`: the inodes it listed) goes at once: another process holds it, and it is that
    /// process's to show; one the dump did not list at all goes after a second snapshot in a row
    /// without it: one dump that missed a connection does not lose it for good.
    pub(super) fn keep_only(
        &mut self,
        rows: &[FdRow],
        left: &HashSet<Ends>,
        listed: &HashSet<u64>,
    ) {
        let open: HashSet<(i32, u64)> = rows
            .iter()
            .filter(|row| is_tcp(row))
            .map(|row| (row.fd, row.inode))
            .collect();
        let mut missed = HashSet::new();
        self.by_ends.retain(|ends, holder| {
            if open.contains(&(holder.fd, holder.inode)) || left.contains(ends) {
                return true;
            }
            let first_miss = !self.missed.contains(ends) && !listed.contains(&holder.inode);
            if first_miss {
                missed.insert(ends.clone());
            }
            first_miss
        });
        self.missed = missed;
        self.left.clone_from(left);
    }

    /// Whether the last snapshot found this connection left without an fd already.
    pub(super) fn was_left(&self, local: &Endpoint, remote: &Endpoint) -> bool {
        self.left.contains(&(local.clone(), remote.clone()))
    }

    /// Forgets one connection: another process holds its socket now.
    pub(super) fn forget(&mut self, ends: &Ends) {
        self.by_ends.remove(ends);
        self.missed.remove(ends);
    }

    /// Notes that a look for one connection did not find it (no fd holds its socket any more,
    /// and the kernel keeps nothing of it without an fd, or the look missed it while the kernel
    /// moved it): forgotten at the second look in a row that does not find it.
    pub(super) fn missed(&mut self, ends: &Ends) {
        if self.missed.remove(ends) {
            self.by_ends.remove(ends);
        } else if self.by_ends.contains_key(ends) {
            self.missed.insert(ends.clone());
        }
    }

    /// The connections the last look missed once: to be looked for again.
    pub(super) fn missed_once(&self) -> impl Iterator<Item = &Ends> {
        self.missed.iter()
    }

    /// Notes what the kernel keeps without an fd now, of the connections looked for (`left`):
    /// found, they are missed no more.
    pub(super) fn found_left(&mut self, left: &HashSet<Ends>) {
        self.missed.retain(|ends| !left.contains(ends));
        self.left.clone_from(left);
    }

    /// How many connections are remembered.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.by_ends.len()
    }
}

/// Whether a row is a TCP socket (not MPTCP, which has no TCP state).
pub(super) fn is_tcp(row: &FdRow) -> bool {
    row.kind == Kind::Socket
        && row.family.is_some_and(Family::is_inet)
        && row.sock_type == Some(SockType::Stream)
        && matches!(row.state, Some(SockState::Tcp(_)))
}

/// A TCP row's connection: its two addresses, when it has both (not a listener).
pub(super) fn connection_of(row: &FdRow) -> Option<Ends> {
    if !is_tcp(row) || row.state == Some(SockState::Tcp(TcpState::Listen)) {
        return None;
    }
    Some((row.local.clone()?, row.remote.clone()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Endpoint {
        Endpoint::inet(text.parse().expect("an inet address"))
    }

    fn connected(fd: i32, inode: u64, local: &str, remote: &str) -> FdRow {
        let mut row = FdRow::tcp_for_test(fd, inode);
        row.local = Some(at(local));
        row.remote = Some(at(remote));
        row.state = Some(SockState::Tcp(TcpState::Established));
        row
    }

    #[test]
    fn a_closed_fds_connection_is_kept_while_the_kernel_keeps_it() {
        let mut remembered = Remembered::default();
        let row = connected(4, 40, "127.0.0.1:5000", "127.0.0.1:6000");
        remembered.note(std::slice::from_ref(&row));
        let (local, remote) = (at("127.0.0.1:5000"), at("127.0.0.1:6000"));
        let holder = Some(Holder {
            fd: 4,
            inode: 40,
            seen: 1,
        });
        assert_eq!(remembered.holder_of(&local, &remote), holder);
        assert_eq!(
            remembered.holder_of(&remote, &local),
            None,
            "the other end's view"
        );
        assert_eq!(
            remembered.local_ports().collect::<Vec<_>>(),
            [(Family::Inet, 5000)]
        );

        // fd 4 closed; the kernel keeps the connection (FIN_WAIT2, TIME_WAIT).
        let left: HashSet<Ends> = [(local.clone(), remote.clone())].into();
        remembered.keep_only(&[], &left, &HashSet::new());
        assert_eq!(remembered.holder_of(&local, &remote), holder);
        // Then it forgets it: not at the first snapshot without it (a dump may miss a socket
        // the kernel is moving), at the second.
        remembered.keep_only(&[], &HashSet::new(), &HashSet::new());
        assert_eq!(remembered.holder_of(&local, &remote), holder);
        remembered.keep_only(&[], &left, &HashSet::new());
        remembered.keep_only(&[], &HashSet::new(), &HashSet::new());
        assert_eq!(remembered.len(), 1, "found again: missed once more");
        remembered.keep_only(&[], &HashSet::new(), &HashSet::new());
        assert_eq!(remembered.len(), 0);
    }

    #[test]
    fn an_open_fd_keeps_its_connection_and_another_socket_on_the_number_does_not() {
        let mut remembered = Remembered::default();
        remembered.note(&[connected(4, 40, "127.0.0.1:5000", "127.0.0.1:6000")]);
        remembered.keep_only(
            &[FdRow::tcp_for_test(4, 40)],
            &HashSet::new(),
            &HashSet::new(),
        );
        assert_eq!(remembered.len(), 1, "fd 4 still holds the socket, in CLOSE");
        remembered.keep_only(
            &[FdRow::tcp_for_test(4, 41)],
            &HashSet::new(),
            &HashSet::new(),
        );
        remembered.keep_only(
            &[FdRow::tcp_for_test(4, 41)],
            &HashSet::new(),
            &HashSet::new(),
        );
        assert_eq!(remembered.len(), 0, "fd 4 is another socket now");
    }

    #[test]
    fn a_connection_whose_socket_another_process_holds_is_forgotten_at_once() {
        let mut remembered = Remembered::default();
        remembered.note(&[connected(4, 40, "127.0.0.1:5000", "127.0.0.1:6000")]);
        // fd 4 closed, but the dump lists socket 40 still: a forked child holds it.
        remembered.keep_only(&[], &HashSet::new(), &[40].into());
        assert_eq!(remembered.len(), 0);
    }

    #[test]
    fn connections_keep_the_order_they_were_first_noted_in() {
        let mut remembered = Remembered::default();
        let first = connected(4, 40, "127.0.0.1:5000", "127.0.0.1:6000");
        remembered.note(std::slice::from_ref(&first));
        // fd 4 closed; the next socket on fd 4 connects from a lower port to the same peer.
        remembered.note(&[connected(4, 41, "127.0.0.1:4000", "127.0.0.1:6000")]);
        // The first one noted again (a dup): still the first.
        remembered.note(&[first, connected(5, 42, "127.0.0.1:3000", "127.0.0.1:6000")]);
        let seen = |local: &str| {
            remembered
                .holder_of(&at(local), &at("127.0.0.1:6000"))
                .map(|h| h.seen)
        };
        assert_eq!(
            [
                seen("127.0.0.1:5000"),
                seen("127.0.0.1:4000"),
                seen("127.0.0.1:3000")
            ],
            [Some(1), Some(2), Some(3)]
        );
    }

    #[test]
    fn queued_connections_are_listed_in_the_order_they_were_first_seen_waiting() {
        use crate::fdtable::Origin;
        let conn = |client: &str, origin: Origin| PendingConn {
            listener_fd: 3,
            origin,
            family: Family::Inet,
            sock_type: SockType::Stream,
            local: Some(at("127.0.0.1:8080")),
            remote: Some(at(client)),
            state: SockState::Tcp(TcpState::Established),
            peer_inode: None,
            recv_q: Some(0),
            send_q: Some(0),
            time_left_ms: None,
        };
        let mut remembered = Remembered::default();
        let mut found = vec![conn("127.0.0.1:50000", Origin::Queued)];
        remembered.order_queued(&mut found);
        // A second one came, with a lower port; what a close left stays after them.
        let mut found = vec![
            conn("127.0.0.1:7000", Origin::Left { inode: 9 }),
            conn("127.0.0.1:40000", Origin::Queued),
            conn("127.0.0.1:50000", Origin::Queued),
        ];
        remembered.order_queued(&mut found);
        let order: Vec<String> = found
            .iter()
            .filter_map(|c| c.remote.as_ref().map(ToString::to_string))
            .collect();
        assert_eq!(
            order,
            ["127.0.0.1:50000", "127.0.0.1:40000", "127.0.0.1:7000"]
        );
        // Accepted: forgotten. Seen again later, it is a newcomer.
        remembered.order_queued(&mut []);
        let mut found = vec![
            conn("127.0.0.1:50000", Origin::Queued),
            conn("127.0.0.1:40000", Origin::Queued),
        ];
        remembered.order_queued(&mut found[1..]);
        remembered.order_queued(&mut found);
        let order: Vec<String> = found
            .iter()
            .filter_map(|c| c.remote.as_ref().map(ToString::to_string))
            .collect();
        assert_eq!(order, ["127.0.0.1:40000", "127.0.0.1:50000"]);
    }

    #[test]
    fn of_two_fds_of_one_socket_the_lowest_is_remembered() {
        let mut remembered = Remembered::default();
        remembered.note(&[
            connected(4, 40, "127.0.0.1:5000", "127.0.0.1:6000"),
            connected(7, 40, "127.0.0.1:5000", "127.0.0.1:6000"),
        ]);
        let found = remembered.holder_of(&at("127.0.0.1:5000"), &at("127.0.0.1:6000"));
        assert_eq!(found.map(|h| h.fd), Some(4));
    }

    #[test]
    fn listeners_and_unconnected_sockets_are_not_connections() {
        let mut remembered = Remembered::default();
        let mut listener = FdRow::tcp_for_test(3, 30);
        listener.local = Some(at("127.0.0.1:5000"));
        listener.state = Some(SockState::Tcp(TcpState::Listen));
        let mut bound = FdRow::tcp_for_test(5, 50);
        bound.local = Some(at("127.0.0.1:5001"));
        remembered.note(&[listener, bound]);
        assert_eq!(remembered.len(), 0);
    }
}
