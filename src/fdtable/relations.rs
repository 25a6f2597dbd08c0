//! Which sockets of a table belong together, as the kernel relates them: the two ends of one
//! connection (pairs, `↔ fd 5`), the fds that are the very same socket (twins, `≡ fd 7`), and the
//! client end of a connection still waiting in an accept queue.
//!
//! Two sockets are a pair only when each is the other's peer in the kernel:
//! - TCP and UDP (IPv4 and IPv6 alike): each one's local address is the other's remote address.
//!   An IPv6 socket's v4-mapped address (`[::ffff:127.0.0.1]:80`, the end a dual-stack listener
//!   accepts from an IPv4 client) is the IPv4 address it maps, so that end pairs with its IPv4
//!   client. A UDP socket has a remote address only once connected, so two UDP sockets pair only
//!   when each is connected to the other.
//! - Unix sockets (stream, datagram, seqpacket): by the peer inodes sock_diag gives, each naming
//!   the other. Addresses say nothing here: a connected Unix client's remote is the listener's
//!   name, shared by every connection it accepted.
//!
//! [`Relations`] indexes the sockets once — by inode and by (type, local, remote) — so that each
//! question costs a few hash lookups and relating a table of thousands of sockets stays linear.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::SocketAddr;

use super::{FdRow, Kind, PendingConn};
use crate::net::{Endpoint, Family, SockType};

/// An fd of one of several processes: the process by its position among the tables related.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Held {
    pub process: usize,
    pub fd: i32,
}

/// The key an internet connection is found by: its type and its two addresses, v4-mapped IPv6
/// addresses taken as the IPv4 addresses they are.
type Ends = (SockType, SocketAddr, SocketAddr);

/// The sockets of a table (or of several processes' tables), indexed for finding what belongs
/// together.
#[derive(Debug)]
pub struct Relations<'a> {
    sockets: Vec<&'a FdRow>,
    /// The process each socket belongs to, by position in `sockets`.
    owners: Vec<usize>,
    by_inode: Groups<u64>,
    /// Internet sockets with both addresses, by (type, local, remote).
    by_ends: Groups<Ends>,
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
        let by_ends = Groups::of(&sockets, ends_of);
        Relations {
            sockets,
            owners,
            by_inode,
            by_ends,
        }
    }

    /// The fds, in the order the rows came, that are the other end of `row`'s connection.
    /// Usually there is one; a `dup` of the other end gives two.
    pub fn partners_of(&self, row: &FdRow) -> Vec<i32> {
        same_process(self.partners_in(0, row), 0)
    }

    /// The fds of every process, in the order the tables and rows came, that are the other end
    /// of the connection of `row`, an fd of process `process`: the sockets whose peer is `row`'s
    /// socket and whose socket is `row`'s peer.
    pub fn partners_in(&self, process: usize, row: &FdRow) -> Vec<Held> {
        if row.kind != Kind::Socket {
            return Vec::new();
        }
        let found: Vec<usize> = match row.family {
            Some(Family::Unix) => match row.peer_inode {
                Some(peer) => self
                    .by_inode
                    .get(&peer)
                    .filter(|&j| {
                        let other = self.sockets[j];
                        other.family == Some(Family::Unix) && other.peer_inode == Some(row.inode)
                    })
                    .collect(),
                None => Vec::new(),
            },
            _ => match ends_of(row) {
                Some((sock_type, local, remote)) => {
                    self.by_ends.get(&(sock_type, remote, local)).collect()
                }
                None => Vec::new(),
            },
        };
        found
            .into_iter()
            // A socket connected to itself (TCP simultaneous open to its own port) is no pair.
            .filter(|&j| !self.is(j, process, row) && self.sockets[j].inode != row.inode)
            .map(|j| self.held(j))
            .collect()
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
        let found: Vec<usize> = if conn.family == Family::Unix {
            match conn.peer_inode {
                Some(client) => self
                    .by_inode
                    .get(&client)
                    .filter(|&j| self.sockets[j].family == Some(Family::Unix))
                    .collect(),
                None => Vec::new(),
            }
        } else {
            let local = conn.local.as_ref().and_then(kernel_address);
            let remote = conn.remote.as_ref().and_then(kernel_address);
            match local.zip(remote) {
                Some((local, remote)) => {
                    self.by_ends.get(&(conn.sock_type, remote, local)).collect()
                }
                None => Vec::new(),
            }
        };
        found.into_iter().map(|j| self.held(j)).collect()
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

/// An internet socket's type and addresses, if it has both addresses.
fn ends_of(row: &FdRow) -> Option<Ends> {
    if !row.family.is_some_and(Family::is_inet) {
        return None;
    }
    let sock_type = row.sock_type?;
    let local = kernel_address(row.local.as_ref()?)?;
    let remote = kernel_address(row.remote.as_ref()?)?;
    Some((sock_type, local, remote))
}

/// An internet address as the kernel matches it: a v4-mapped IPv6 address is the IPv4 address it
/// maps (the IPv6 end of a connection from an IPv4 client sees `::ffff:127.0.0.1`). The scope of
/// an IPv6 address is kept; its flow label is not part of it.
fn kernel_address(endpoint: &Endpoint) -> Option<SocketAddr> {
    match endpoint.inet_addr()? {
        SocketAddr::V6(v6) => match v6.ip().to_ipv4_mapped() {
            Some(v4) => Some(SocketAddr::from((v4, v6.port()))),
            None => Some(SocketAddr::V6(v6)),
        },
        v4 => Some(v4),
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

impl Iterator for Chain<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        let at = self.at;
        self.at = *self.next.get(at)?;
        Some(at)
    }
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
        let mut unix_client = socket(5, 12);
        unix_client.family = Some(Family::Unix);
        let rows = [client, unix_client];
        assert_eq!(Relations::of(&rows).clients_of(&conn), vec![4]);
        let unix = PendingConn {
            family: Family::Unix,
            local: None,
            remote: None,
            peer_inode: Some(12),
            ..conn.clone()
        };
        assert_eq!(Relations::of(&rows).clients_of(&unix), vec![5]);
        // The IPv4 client of a dual-stack listener: the kernel lists the queued end with
        // v4-mapped addresses.
        let mapped = PendingConn {
            family: Family::Inet6,
            local: Some(Endpoint::inet(
                "[::ffff:127.0.0.1]:8080".parse().expect("local"),
            )),
            remote: Some(Endpoint::inet(
                "[::ffff:127.0.0.1]:40000".parse().expect("remote"),
            )),
            ..conn
        };
        assert_eq!(Relations::of(&rows).clients_of(&mapped), vec![4]);
    }

    #[test]
    fn the_v4_mapped_end_of_a_dual_stack_listener_pairs_with_its_ipv4_client() {
        let client = connected(4, 11, "127.0.0.1:40000", "127.0.0.1:8080");
        let mut accepted = connected(5, 12, "[::ffff:127.0.0.1]:8080", "[::ffff:127.0.0.1]:40000");
        accepted.family = Some(Family::Inet6);
        let rows = [client.clone(), accepted.clone()];
        let relations = Relations::of(&rows);
        assert_eq!(relations.partners_of(&client), vec![5]);
        assert_eq!(relations.partners_of(&accepted), vec![4]);
        // A real IPv6 address is not an IPv4 one.
        let mut other = connected(6, 13, "[::1]:8080", "[::1]:40000");
        other.family = Some(Family::Inet6);
        let rows = [client.clone(), other];
        assert!(Relations::of(&rows).partners_of(&client).is_empty());
    }

    #[test]
    fn udp_sockets_pair_only_when_each_is_connected_to_the_other() {
        let udp = |fd, inode, local: &str, remote: Option<&str>| {
            let mut row = match remote {
                Some(remote) => connected(fd, inode, local, remote),
                None => socket(fd, inode),
            };
            row.local = Some(Endpoint::inet(local.parse().expect("local")));
            row.sock_type = Some(SockType::Dgram);
            row.state = Some(if remote.is_some() {
                SockState::Connected
            } else {
                SockState::Unconnected
            });
            row
        };
        let a = udp(3, 11, "127.0.0.1:5000", Some("127.0.0.1:6000"));
        let b = udp(4, 12, "127.0.0.1:6000", None);
        let rows = [a.clone(), b.clone()];
        let relations = Relations::of(&rows);
        assert!(relations.partners_of(&a).is_empty(), "b is not connected");
        assert!(relations.partners_of(&b).is_empty());
        // b connected elsewhere: a sends to b, but b's datagrams go to another socket.
        let c = udp(4, 12, "127.0.0.1:6000", Some("127.0.0.1:7000"));
        let rows = [a.clone(), c];
        assert!(Relations::of(&rows).partners_of(&a).is_empty());
        let d = udp(4, 12, "127.0.0.1:6000", Some("127.0.0.1:5000"));
        let rows = [a.clone(), d.clone()];
        let relations = Relations::of(&rows);
        assert_eq!(relations.partners_of(&a), vec![4]);
        assert_eq!(relations.partners_of(&d), vec![3]);
    }

    #[test]
    fn unix_sockets_pair_only_when_each_is_the_others_peer() {
        let unix = |fd: i32, inode: u64, peer: Option<u64>, local: &str, remote: &str| {
            let mut row = socket(fd, inode);
            row.family = Some(Family::Unix);
            row.sock_type = Some(SockType::Dgram);
            row.state = Some(SockState::Connected);
            row.peer_inode = peer;
            row.local = Some(Endpoint::Abstract(local.as_bytes().to_vec()));
            row.remote = Some(Endpoint::Abstract(remote.as_bytes().to_vec()));
            row
        };
        // a is connected to b; b to c: a's datagrams reach b, b's do not reach a.
        let a = unix(3, 100, Some(101), "a", "b");
        let b = unix(4, 101, Some(102), "b", "a");
        let rows = [a.clone(), b.clone()];
        let relations = Relations::of(&rows);
        assert!(relations.partners_of(&a).is_empty());
        assert!(
            relations.partners_of(&b).is_empty(),
            "crossed names are not enough"
        );
        let b = unix(4, 101, Some(100), "b", "a");
        let rows = [a.clone(), b];
        assert_eq!(Relations::of(&rows).partners_of(&a), vec![4]);
    }

    #[test]
    fn a_socket_connected_to_itself_is_no_pair_of_its_dup() {
        let own = connected(3, 11, "127.0.0.1:5000", "127.0.0.1:5000");
        let mut dup = own.clone();
        dup.fd = 4;
        let rows = [own.clone(), dup];
        let relations = Relations::of(&rows);
        assert!(relations.partners_of(&own).is_empty());
        assert_eq!(relations.twins_of(&own), vec![4]);
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
