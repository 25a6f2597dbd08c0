//! Which sockets of a table belong together: the two ends of one connection (pairs, `↔ fd 5`), the
//! fds that are the very same socket (twins, `≡ fd 7`), and the client end of a connection still
//! waiting in an accept queue.
//!
//! [`Relations`] indexes the sockets once — by inode, by peer inode, and by (local, remote) — so
//! that each question costs a few hash lookups and relating a table of thousands of sockets stays
//! linear, with no allocation per socket.

use std::collections::HashMap;
use std::hash::Hash;

use super::{FdRow, Kind, PendingConn};
use crate::net::Endpoint;

/// An fd of one of several processes: the process by its position among the tables related.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Held {
    pub process: usize,
    pub fd: i32,
}

/// The sockets of a table (or of several processes' tables), indexed for finding what belongs
/// together.
#[derive(Debug)]
pub struct Relations<'a> {
    sockets: Vec<&'a FdRow>,
    /// The process each socket belongs to, by position in `sockets`.
    owners: Vec<usize>,
    by_inode: Groups<u64>,
    by_peer_inode: Groups<u64>,
    by_ends: Groups<(&'a Endpoint, &'a Endpoint)>,
}

impl<'a> Relations<'a> {
    /// Indexes the sockets among `rows`, which are open fds of one process, each fd once; other
    /// kinds of fd have no relations.
    pub fn of(rows: impl IntoIterator<Item = &'a FdRow>) -> Relations<'a> {
        Relations::across([(0, rows)])
    }

    /// Indexes the sockets of several processes' tables at once, each table given with its
    /// process's position: sockets relate across processes as they do within one (the kernel
    /// knows no process boundary), so a connection between two processes pairs, and one socket
    /// held by two processes (after fork, or passed with SCM_RIGHTS) is a twin in both.
    pub fn across<R>(tables: impl IntoIterator<Item = (usize, R)>) -> Relations<'a>
    where
        R: IntoIterator<Item = &'a FdRow>,
    {
        let mut sockets = Vec::new();
        let mut owners = Vec::new();
        for (process, rows) in tables {
            for row in rows.into_iter().filter(|row| row.kind == Kind::Socket) {
                sockets.push(row);
                owners.push(process);
            }
        }
        let by_inode = Groups::of(&sockets, |row| Some(row.inode));
        let by_peer_inode = Groups::of(&sockets, |row| row.peer_inode);
        let by_ends = Groups::of(&sockets, |row| row.local.as_ref().zip(row.remote.as_ref()));
        Relations {
            sockets,
            owners,
            by_inode,
            by_peer_inode,
            by_ends,
        }
    }

    /// The fds, in the order the rows came, that are the other end of `row`'s connection.
    ///
    /// Two sockets of the same family and type are paired when each one's local address is the
    /// other's remote address, or the kernel names one the other's peer (Unix sockets, which are
    /// often unnamed). Usually there is one partner; a `dup` of an end gives two.
    pub fn partners_of(&self, row: &FdRow) -> Vec<i32> {
        same_process(self.partners_in(0, row), 0)
    }

    /// The fds of every process, in the order the tables and rows came, that are the other end
    /// of the connection of `row`, an fd of process `process`.
    pub fn partners_in(&self, process: usize, row: &FdRow) -> Vec<Held> {
        if row.kind != Kind::Socket {
            return Vec::new();
        }
        let crossed = match (&row.local, &row.remote) {
            (Some(local), Some(remote)) => self.by_ends.get(&(remote, local)),
            _ => Chain::EMPTY,
        };
        let peer = match row.peer_inode {
            Some(peer) => self.by_inode.get(&peer),
            None => Chain::EMPTY,
        };
        let named_me = self.by_peer_inode.get(&row.inode);
        let mut found: Vec<usize> = crossed
            .chain(peer)
            .chain(named_me)
            .filter(|&j| !self.is(j, process, row) && are_two_ends(row, self.sockets[j]))
            .collect();
        found.sort_unstable();
        found.dedup();
        found.iter().map(|&j| self.held(j)).collect()
    }

    /// The other fds, in the order the rows came, that are the very same socket as `row` (the
    /// same inode: a `dup`, or an fd passed back to this process).
    pub fn twins_of(&self, row: &FdRow) -> Vec<i32> {
        same_process(self.twins_in(0, row), 0)
    }

    /// The other fds of every process that are the very same socket as `row`, an fd of process
    /// `process`.
    pub fn twins_in(&self, process: usize, row: &FdRow) -> Vec<Held> {
        if row.kind != Kind::Socket {
            return Vec::new();
        }
        self.by_inode
            .get(&row.inode)
            .filter(|&j| !self.is(j, process, row))
            .map(|j| self.held(j))
            .collect()
    }

    /// The fds of the client end of a connection waiting in an accept queue: by crossed addresses
    /// for TCP, by inode for Unix (the kernel names a pending Unix connection by its client).
    pub fn clients_of(&self, conn: &PendingConn) -> Vec<i32> {
        same_process(self.clients_in(conn), 0)
    }

    /// The client ends, in every process, of a connection waiting in an accept queue.
    pub fn clients_in(&self, conn: &PendingConn) -> Vec<Held> {
        let found = match (conn.peer_inode, &conn.local, &conn.remote) {
            (Some(client), _, _) => self.by_inode.get(&client),
            (None, Some(local), Some(remote)) => self.by_ends.get(&(remote, local)),
            _ => Chain::EMPTY,
        };
        found
            .filter(|&j| {
                let row = self.sockets[j];
                conn.peer_inode.is_some()
                    || (row.family, row.sock_type) == (Some(conn.family), Some(conn.sock_type))
            })
            .map(|j| self.held(j))
            .collect()
    }

    /// Whether socket `j` is `row` of process `process` itself.
    fn is(&self, j: usize, process: usize, row: &FdRow) -> bool {
        self.owners[j] == process && self.sockets[j].fd == row.fd
    }

    fn held(&self, j: usize) -> Held {
        Held {
            process: self.owners[j],
            fd: self.sockets[j].fd,
        }
    }
}

/// The fds among `held` that belong to process `process`.
fn same_process(held: Vec<Held>, process: usize) -> Vec<i32> {
    held.into_iter()
        .filter(|h| h.process == process)
        .map(|h| h.fd)
        .collect()
}

/// The positions of the rows that share a key, in row order, kept as the first position of each
/// key and a chain from each position to the next one with the same key: one map and one list,
/// however many keys there are.
#[derive(Debug)]
struct Groups<K> {
    first: HashMap<K, usize>,
    next: Vec<usize>,
}

/// Where a chain ends.
const END: usize = usize::MAX;

impl<K: Hash + Eq> Groups<K> {
    /// Groups `rows` by `key`; rows without a key are in no group.
    fn of<'r>(rows: &[&'r FdRow], key: impl Fn(&'r FdRow) -> Option<K>) -> Groups<K> {
        let mut groups = Groups {
            first: HashMap::with_capacity(rows.len()),
            next: vec![END; rows.len()],
        };
        // From the last row back, so each chain runs in row order.
        for (i, row) in rows.iter().enumerate().rev() {
            if let Some(key) = key(row) {
                groups.next[i] = groups.first.insert(key, i).unwrap_or(END);
            }
        }
        groups
    }

    /// The positions of the rows with `key`, in row order.
    fn get(&self, key: &K) -> Chain<'_> {
        Chain {
            at: self.first.get(key).copied().unwrap_or(END),
            next: &self.next,
        }
    }
}

/// The positions of one group of [`Groups`].
#[derive(Debug, Clone)]
struct Chain<'g> {
    at: usize,
    next: &'g [usize],
}

impl Chain<'_> {
    const EMPTY: Chain<'static> = Chain { at: END, next: &[] };
}

impl Iterator for Chain<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        let at = self.at;
        self.at = *self.next.get(at)?;
        Some(at)
    }
}

/// Whether two sockets are the two ends of one connection: each one's local address is the
/// other's remote address, or the kernel says one is the other's peer.
fn are_two_ends(a: &FdRow, b: &FdRow) -> bool {
    let crossed = match (&a.local, &a.remote, &b.local, &b.remote) {
        (Some(al), Some(ar), Some(bl), Some(br)) => al == br && ar == bl,
        _ => false,
    };
    let peers = a.peer_inode == Some(b.inode) || b.peer_inode == Some(a.inode);
    // The same addresses on TCP and UDP are unrelated sockets.
    (crossed || peers) && (a.family, a.sock_type) == (b.family, b.sock_type)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::{Family, SockState, SockType, TcpState};

    fn socket(fd: i32, inode: u64) -> FdRow {
        FdRow {
            state: Some(SockState::Tcp(TcpState::Established)),
            ..FdRow::tcp_for_test(fd, inode)
        }
    }

    fn connected(fd: i32, inode: u64, local: &str, remote: &str) -> FdRow {
        let mut row = socket(fd, inode);
        row.local = Some(Endpoint::inet(local.parse().expect("local")));
        row.remote = Some(Endpoint::inet(remote.parse().expect("remote")));
        row
    }

    #[test]
    fn crossed_addresses_pair_and_a_dup_is_a_twin() {
        let client = connected(4, 11, "127.0.0.1:40000", "127.0.0.1:8080");
        let server = connected(5, 12, "127.0.0.1:8080", "127.0.0.1:40000");
        let mut dup = server.clone();
        dup.fd = 7;
        let rows = [client.clone(), server.clone(), dup.clone()];
        let relations = Relations::of(&rows);
        assert_eq!(relations.partners_of(&client), vec![5, 7]);
        assert_eq!(relations.partners_of(&server), vec![4]);
        assert_eq!(relations.twins_of(&server), vec![7]);
        assert_eq!(relations.twins_of(&dup), vec![5]);
        assert!(relations.twins_of(&client).is_empty());
    }

    #[test]
    fn the_same_addresses_on_another_protocol_are_no_pair() {
        let tcp = connected(4, 11, "127.0.0.1:40000", "127.0.0.1:8080");
        let mut udp = connected(5, 12, "127.0.0.1:8080", "127.0.0.1:40000");
        udp.sock_type = Some(SockType::Dgram);
        let rows = [tcp.clone(), udp];
        assert!(Relations::of(&rows).partners_of(&tcp).is_empty());
    }

    #[test]
    fn unnamed_unix_ends_pair_by_peer_inode() {
        let end = |fd: i32, inode: u64, peer: u64| {
            let mut row = socket(fd, inode);
            row.family = Some(Family::Unix);
            row.state = Some(SockState::Connected);
            row.peer_inode = Some(peer);
            row
        };
        let rows = [end(4, 100, 101), end(5, 101, 100), end(6, 102, 999)];
        let relations = Relations::of(&rows);
        assert_eq!(relations.partners_of(&rows[0]), vec![5]);
        assert_eq!(relations.partners_of(&rows[1]), vec![4]);
        assert!(relations.partners_of(&rows[2]).is_empty());
    }

    #[test]
    fn a_queued_connection_finds_its_client() {
        let client = connected(4, 11, "127.0.0.1:40000", "127.0.0.1:8080");
        let conn = PendingConn {
            listener_fd: 3,
            origin: crate::fdtable::Origin::Queued,
            family: Family::Inet,
            sock_type: SockType::Stream,
            local: Some(Endpoint::inet("127.0.0.1:8080".parse().expect("local"))),
            remote: Some(Endpoint::inet("127.0.0.1:40000".parse().expect("remote"))),
            state: SockState::Tcp(TcpState::Established),
            peer_inode: None,
            recv_q: Some(0),
            send_q: Some(0),
            time_left_ms: None,
        };
        let rows = [client];
        assert_eq!(Relations::of(&rows).clients_of(&conn), vec![4]);
        let unix = PendingConn {
            family: Family::Unix,
            local: None,
            remote: None,
            peer_inode: Some(11),
            ..conn
        };
        assert_eq!(Relations::of(&rows).clients_of(&unix), vec![4]);
    }

    #[test]
    fn other_fds_have_no_relations() {
        let mut pipe = socket(3, 50);
        pipe.kind = Kind::Pipe;
        let mut other_end = pipe.clone();
        other_end.fd = 4;
        let rows = [pipe.clone(), other_end];
        let relations = Relations::of(&rows);
        assert!(relations.twins_of(&pipe).is_empty());
        assert!(relations.partners_of(&pipe).is_empty());
    }

    #[test]
    fn ends_and_twins_pair_across_processes() {
        let client = connected(3, 11, "127.0.0.1:40000", "127.0.0.1:8080");
        let server = connected(4, 12, "127.0.0.1:8080", "127.0.0.1:40000");
        // After fork, the child holds the server's socket as fd 4 too.
        let main = [server.clone()];
        let other = [client.clone()];
        let child = [server.clone()];
        let relations = Relations::across([(0, &main[..]), (1, &other[..]), (2, &child[..])]);
        let at = |process, fd| Held { process, fd };
        assert_eq!(relations.partners_in(1, &client), vec![at(0, 4), at(2, 4)]);
        assert_eq!(relations.partners_in(0, &server), vec![at(1, 3)]);
        assert_eq!(relations.twins_in(0, &server), vec![at(2, 4)]);
        assert_eq!(relations.twins_in(2, &server), vec![at(0, 4)]);
        assert!(relations.twins_in(1, &client).is_empty());
        // fd 4 of the child is not fd 4 of main: the same number in two processes is two fds.
        assert_eq!(relations.partners_in(2, &server), vec![at(1, 3)]);
    }
}
