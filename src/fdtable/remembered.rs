//! [`Remembered`]: what an observer keeps of its process's TCP connections from one snapshot to
//! the next — the addresses each fd's connection had — so that what the kernel keeps of one after
//! a `close` (closing down with no fd, then TIME_WAIT), which has no inode and names no process,
//! is shown under the fd it came from, in the process that held it.
//!
//! An entry lasts while an fd of the process still holds that socket, or while the kernel still
//! keeps the connection without an fd; a connection another process still holds (after fork) is
//! not this process's to show, and its entry goes.

use std::collections::{HashMap, HashSet};

use super::{FdRow, Kind};
use crate::net::{Endpoint, Family, SockState, SockType, TcpState};

/// A connection's two addresses: local, remote.
pub(super) type Ends = (Endpoint, Endpoint);

/// The fd (and its socket's inode) whose connection had some addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Holder {
    pub fd: i32,
    pub inode: u64,
}

/// The TCP connections the process's fds have held, by their addresses.
#[derive(Debug, Default)]
pub(super) struct Remembered {
    by_ends: HashMap<Ends, Holder>,
}

impl Remembered {
    /// Notes the connection of every TCP socket of `rows` that has both addresses; of several
    /// fds of one socket, the lowest.
    pub(super) fn note(&mut self, rows: &[FdRow]) {
        for row in rows.iter().rev() {
            if let Some(ends) = connection_of(row) {
                let holder = Holder {
                    fd: row.fd,
                    inode: row.inode,
                };
                self.by_ends.insert(ends, holder);
            }
        }
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
    /// those the kernel still keeps without an fd (`left`).
    pub(super) fn keep_only(&mut self, rows: &[FdRow], left: &HashSet<Ends>) {
        let open: HashSet<(i32, u64)> = rows
            .iter()
            .filter(|row| is_tcp(row))
            .map(|row| (row.fd, row.inode))
            .collect();
        self.by_ends.retain(|ends, holder| {
            open.contains(&(holder.fd, holder.inode)) || left.contains(ends)
        });
    }

    /// Forgets one connection: no fd holds its socket any more and the kernel keeps nothing of
    /// it without an fd.
    pub(super) fn forget(&mut self, ends: &Ends) {
        self.by_ends.remove(ends);
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
        let holder = Some(Holder { fd: 4, inode: 40 });
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
        remembered.keep_only(&[], &left);
        assert_eq!(remembered.holder_of(&local, &remote), holder);
        // Then it forgets it.
        remembered.keep_only(&[], &HashSet::new());
        assert_eq!(remembered.len(), 0);
    }

    #[test]
    fn an_open_fd_keeps_its_connection_and_another_socket_on_the_number_does_not() {
        let mut remembered = Remembered::default();
        remembered.note(&[connected(4, 40, "127.0.0.1:5000", "127.0.0.1:6000")]);
        remembered.keep_only(&[FdRow::tcp_for_test(4, 40)], &HashSet::new());
        assert_eq!(remembered.len(), 1, "fd 4 still holds the socket, in CLOSE");
        remembered.keep_only(&[FdRow::tcp_for_test(4, 41)], &HashSet::new());
        assert_eq!(remembered.len(), 0, "fd 4 is another socket now");
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
