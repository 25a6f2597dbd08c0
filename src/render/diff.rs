//! The difference between two FD-table snapshots, as the marks the panel shows: new, changed (and
//! which columns), closed, or unchanged — for the fds, and for the connections waiting in accept
//! queues. An fd whose number now holds another object is both: its old socket closed, and the
//! number is new. A row whose ties changed (the other end of its connection `↔`, the other fds of
//! its socket `≡`) changed too, though nothing of its own socket did.

use std::collections::{HashMap, HashSet};

use crate::fdtable::{FdRow, Origin, PendingConn, Snapshot};

/// How one row of the panel relates to the previous step's table.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Change {
    /// The fd was there before with the same object and the same shown values.
    Same,
    /// The fd did not exist before, or now refers to a different object (another inode).
    New,
    /// The same object as before, with the named columns changed: any of `"name"` (the other
    /// fds of its socket, `≡`), `"local"`, `"remote"` (also the other end's fds, `↔`),
    /// `"state"`, `"recv_q"`, `"send_q"`, `"kind"`.
    Changed(Vec<&'static str>),
    /// The fd's object in the previous snapshot is gone now (the fd closed, or holds another
    /// object); the row is the old one.
    Closed,
}

/// How the table changed between two snapshots, copying neither: a mark for each row of the new
/// table (in its order), and which rows of the old table are gone.
#[derive(Debug, Clone)]
pub struct Changes {
    /// `marks[i]` is the mark of `now.rows[i]`.
    pub marks: Vec<Change>,
    /// Indexes into `before.rows` of the fds that closed, and of those whose number holds another
    /// object now (that row of `now` is new).
    pub closed: Vec<usize>,
    /// Shared by every closed row.
    closed_mark: Change,
}

impl Changes {
    /// The rows with their marks, in fd order: the new table's, and the closed ones from the old.
    pub fn rows<'a>(
        &'a self,
        before: &'a Snapshot,
        now: &'a Snapshot,
    ) -> Vec<(&'a FdRow, &'a Change)> {
        let mut rows: Vec<(&FdRow, &Change)> = now.rows.iter().zip(&self.marks).collect();
        rows.extend(
            self.closed
                .iter()
                .map(|&i| (&before.rows[i], &self.closed_mark)),
        );
        // Stable: a snapshot has each fd once, so only closed rows need moving into place; the
        // closed row of a number that holds another object now goes just before the new one.
        if !self.closed.is_empty() {
            rows.sort_by_key(|(row, change)| (row.fd, **change != Change::Closed));
        }
        rows
    }

    /// Marks the rows of `now` whose ties (`after`, by fd) differ from those shown before
    /// (`before`, by fd) as changed: `"remote"` where the fds at the other end of the connection
    /// (`↔`) differ, `"name"` where the other fds of the socket (`≡`) do. A new row is new
    /// whatever its ties.
    pub fn mark_ties(&mut self, now: &Snapshot, before: &TiesByFd, after: &TiesByFd) {
        let none = Ties::default();
        for (row, mark) in now.rows.iter().zip(self.marks.iter_mut()) {
            if *mark == Change::New {
                continue;
            }
            let was = before.get(&row.fd).unwrap_or(&none);
            let is = after.get(&row.fd).unwrap_or(&none);
            let moved = [
                ("name", was.twins != is.twins),
                ("remote", was.partners != is.partners),
            ];
            for (column, differs) in moved {
                if !differs {
                    continue;
                }
                match mark {
                    Change::Same => *mark = Change::Changed(vec![column]),
                    Change::Changed(columns) if !columns.contains(&column) => {
                        columns.push(column);
                    }
                    _ => {}
                }
            }
        }
    }
}

/// What a row is shown tied to, each fd by its process's pid: the fds at the other end of its
/// connection (`↔`) and the other fds of its socket (`≡`), in every process shown with it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ties {
    pub partners: Vec<(i32, i32)>,
    pub twins: Vec<(i32, i32)>,
}

/// The ties of a table's rows, by fd (a row tied to nothing has no entry).
pub type TiesByFd = HashMap<i32, Ties>;

/// Marks every row of `now` against `before`: New when the fd was absent before or holds another
/// inode, Changed with the columns that differ, Same otherwise; and lists the fds that closed.
pub fn changes(before: &Snapshot, now: &Snapshot) -> Changes {
    let sorted = |rows: &[FdRow]| rows.windows(2).all(|w| w[0].fd < w[1].fd);
    let (marks, closed) = if sorted(&before.rows) && sorted(&now.rows) {
        // Both tables come sorted by fd from the snapshot: one merge walk, no lookups.
        let mut marks = Vec::with_capacity(now.rows.len());
        let mut closed = Vec::new();
        let mut old = before.rows.iter().enumerate().peekable();
        for row in &now.rows {
            while let Some((i, _)) = old.next_if(|(_, r)| r.fd < row.fd) {
                closed.push(i);
            }
            let previous = old.next_if(|(_, r)| r.fd == row.fd);
            if let Some((i, before)) = previous {
                if before.inode != row.inode {
                    closed.push(i);
                }
            }
            marks.push(change_of(previous.map(|(_, r)| r), row));
        }
        closed.extend(old.map(|(i, _)| i));
        (marks, closed)
    } else {
        let by_fd: HashMap<i32, &FdRow> = before.rows.iter().map(|row| (row.fd, row)).collect();
        let open: HashSet<(i32, u64)> = now.rows.iter().map(|row| (row.fd, row.inode)).collect();
        let marks = now
            .rows
            .iter()
            .map(|row| change_of(by_fd.get(&row.fd).copied(), row))
            .collect();
        let closed = (0..before.rows.len())
            .filter(|&i| !open.contains(&(before.rows[i].fd, before.rows[i].inode)))
            .collect();
        (marks, closed)
    };
    Changes {
        marks,
        closed,
        closed_mark: Change::Closed,
    }
}

/// Marks every row of `now` against an earlier table known only by what changed since: `changed`
/// are the fds whose rows changed, and `before` holds the rows those fds had then (one missing
/// was not open then). Every other row is the same; a changed fd gone from `now` closed, and one
/// that holds another object now both closed (its old row) and new.
pub fn changes_since(
    before: &Snapshot,
    now: &Snapshot,
    changed: &std::collections::BTreeSet<i32>,
) -> Changes {
    let mut marks = vec![Change::Same; now.rows.len()];
    let mut closed = Vec::new();
    for &fd in changed {
        let old = before.get(fd);
        match now.rows.binary_search_by_key(&fd, |row| row.fd) {
            Ok(at) => {
                let row = &now.rows[at];
                if old.is_some_and(|old| old.inode != row.inode) {
                    if let Ok(was) = before.rows.binary_search_by_key(&fd, |row| row.fd) {
                        closed.push(was);
                    }
                }
                marks[at] = change_of(old, row);
            }
            Err(_) => {
                if let Ok(at) = before.rows.binary_search_by_key(&fd, |row| row.fd) {
                    closed.push(at);
                }
            }
        }
    }
    Changes {
        marks,
        closed,
        closed_mark: Change::Closed,
    }
}

/// Every row of `now` with its mark, plus each row of `prev` whose fd is gone now (or holds
/// another object) as `Closed` (shown once), all in fd order; owned copies, for callers that keep
/// them.
pub fn diff(prev: &Snapshot, now: &Snapshot) -> Vec<(FdRow, Change)> {
    changes(prev, now)
        .rows(prev, now)
        .into_iter()
        .map(|(row, change)| (row.clone(), change.clone()))
        .collect()
}

/// Marks every connection without an fd in `now` against `prev`: new, changed (its `"state"`,
/// SYN_RECV → ESTABLISHED → CLOSE_WAIT, FIN_WAIT2 → TIME_WAIT, or its `"recv_q"`/`"send_q"`), or
/// the same; in `now`'s order. Then the ones of `prev` the kernel no longer holds, `Closed`
/// (reset while queued, forgotten after TIME_WAIT) — but not one `accept` (or `recvfd`) made an
/// fd, which [`diff`] shows as new.
pub fn diff_pending(prev: &Snapshot, now: &Snapshot) -> Vec<(PendingConn, Change)> {
    let gone = prev
        .pending
        .iter()
        .filter(|old| !now.pending.iter().any(|conn| same_connection(old, conn)))
        .filter(|old| !became_an_fd(old, now))
        .map(|old| (old.clone(), Change::Closed));
    now.pending
        .iter()
        .map(|conn| {
            let before = prev.pending.iter().find(|old| same_connection(old, conn));
            let change = match before {
                None => Change::New,
                Some(old) => {
                    let checks = [
                        ("state", !old.state.same_name(conn.state)),
                        ("recv_q", old.recv_q != conn.recv_q),
                        ("send_q", old.send_q != conn.send_q),
                    ];
                    let columns: Vec<&'static str> = checks
                        .into_iter()
                        .filter_map(|(name, changed)| changed.then_some(name))
                        .collect();
                    if columns.is_empty() {
                        Change::Same
                    } else {
                        Change::Changed(columns)
                    }
                }
            };
            (conn.clone(), change)
        })
        .chain(gone)
        .collect()
}

/// Whether a connection without an fd is an fd of `now`: one that waited in an accept queue if
/// the accepted socket has its addresses (TCP) or names its client as peer (Unix); one a message
/// in flight held if an fd has its socket again (`recvfd`).
fn became_an_fd(conn: &PendingConn, now: &Snapshot) -> bool {
    match conn.origin {
        Origin::InFlight { inode } => now.rows.iter().any(|row| row.inode == inode),
        Origin::Left { .. } => false,
        Origin::Queued | Origin::QueuedInOneOf { .. } => {
            now.rows.iter().any(|row| match conn.peer_inode {
                Some(client) => row.peer_inode == Some(client),
                None => row.local.is_some() && row.local == conn.local && row.remote == conn.remote,
            })
        }
    }
}

/// Whether two entries are the same connection: queued both or left by a close both, with the
/// same addresses (and for unnamed Unix clients the same client inode). Not the fd it is shown
/// under: a queued connection moves to the one listener of a SO_REUSEPORT group that holds it,
/// once the kernel's queue lengths tell.
fn same_connection(a: &PendingConn, b: &PendingConn) -> bool {
    a.origin.is_queued() == b.origin.is_queued()
        && (a.family, a.sock_type) == (b.family, b.sock_type)
        && a.local == b.local
        && a.remote == b.remote
        && a.peer_inode == b.peer_inode
}

/// The mark of one row of a table given what the same fd held before, if anything.
pub fn mark_of(before: Option<&FdRow>, now: &FdRow) -> Change {
    change_of(before, now)
}

/// Classifies one current row given what the same fd held before, if anything.
fn change_of(before: Option<&FdRow>, now: &FdRow) -> Change {
    match before {
        None => Change::New,
        Some(before) if before.inode != now.inode => Change::New,
        Some(before) => {
            let columns = changed_columns(before, now);
            if columns.is_empty() {
                Change::Same
            } else {
                Change::Changed(columns)
            }
        }
    }
}

/// Names the panel columns whose shown value differs between two rows of the same object.
///
/// LOCAL shows `target` for non-sockets and says when a socket takes IPv4 too, so those count as
/// a changed `local`; REMOTE shows what an epoll fd watches, so its interest list counts as a
/// changed `remote`; KIND is compared as shown (the label), which also covers family and socket
/// type.
fn changed_columns(before: &FdRow, now: &FdRow) -> Vec<&'static str> {
    let checks = [
        (
            "local",
            before.local != now.local
                || before.target != now.target
                || before.dual_stack != now.dual_stack,
        ),
        (
            "remote",
            before.remote != now.remote || before.watches != now.watches,
        ),
        ("state", before.state != now.state),
        ("recv_q", before.recv_q != now.recv_q),
        ("send_q", before.send_q != now.send_q),
        (
            "kind",
            before.kind != now.kind || before.label() != now.label(),
        ),
    ];
    checks
        .into_iter()
        .filter_map(|(name, changed)| changed.then_some(name))
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::fdtable::Kind;
    use crate::net::{Endpoint, Family, SockState, SockType, TcpState};

    /// An address from the text the panel shows: `127.0.0.1:80`, `@name`, or a path.
    pub(crate) fn at(text: &str) -> Endpoint {
        if let Ok(inet) = text.parse() {
            return Endpoint::inet(inet);
        }
        match text.strip_prefix('@') {
            Some(name) => Endpoint::Abstract(name.as_bytes().to_vec()),
            None => Endpoint::Path(text.as_bytes().to_vec()),
        }
    }

    /// The state named `name`, as the panel shows it (a TCP state when there is one).
    pub(crate) fn in_state(name: &str) -> Option<SockState> {
        let tcp = TcpState::ALL.into_iter().find(|s| s.name() == name);
        tcp.map(SockState::Tcp)
            .or_else(|| SockState::from_word(name))
    }

    /// A TCP socket row with the given fd and inode and nothing else set.
    pub(crate) fn tcp(fd: i32, inode: u64) -> FdRow {
        FdRow::tcp_for_test(fd, inode)
    }

    /// A tty row for fds 0–2.
    pub(crate) fn tty(fd: i32) -> FdRow {
        FdRow {
            fd,
            kind: Kind::Tty,
            inode: 3,
            family: None,
            sock_type: None,
            local: None,
            remote: None,
            state: None,
            recv_q: None,
            send_q: None,
            next_datagram: None,
            target: Some("/dev/pts/0".into()),
            peer_inode: None,
            dual_stack: false,
            watches: None,
        }
    }

    fn snap(rows: Vec<FdRow>) -> Snapshot {
        Snapshot {
            rows,
            pending: Vec::new(),
        }
    }

    fn marks(d: &[(FdRow, Change)]) -> Vec<(i32, Change)> {
        d.iter().map(|(row, c)| (row.fd, c.clone())).collect()
    }

    #[test]
    fn identical_snapshots_are_same() {
        let s = snap(vec![tty(0), tty(1), tcp(3, 100)]);
        let d = diff(&s, &s);
        assert!(d.iter().all(|(_, c)| *c == Change::Same));
        assert_eq!(d.len(), 3);
    }

    #[test]
    fn new_fd_is_new_and_a_reused_fd_is_its_old_socket_closed_then_the_new_one() {
        let prev = snap(vec![tty(0), tcp(3, 100)]);
        let now = snap(vec![tty(0), tcp(3, 101), tcp(4, 102)]);
        let d = diff(&prev, &now);
        assert_eq!(
            marks(&d),
            vec![
                (0, Change::Same),
                (3, Change::Closed),
                (3, Change::New),
                (4, Change::New)
            ]
        );
        assert_eq!((d[1].0.inode, d[2].0.inode), (100, 101));
        // Unsorted tables say the same.
        let prev = snap(vec![tcp(3, 100), tty(0)]);
        let now = snap(vec![tcp(4, 102), tcp(3, 101), tty(0)]);
        assert_eq!(
            marks(&diff(&prev, &now)),
            vec![
                (0, Change::Same),
                (3, Change::Closed),
                (3, Change::New),
                (4, Change::New)
            ]
        );
    }

    #[test]
    fn ties_that_changed_mark_their_rows_changed_in_the_columns_that_show_them() {
        let before = snap(vec![tcp(3, 100), tcp(4, 101), tcp(5, 102), tcp(6, 103)]);
        let mut read = tcp(6, 103);
        read.recv_q = Some(1);
        let now = snap(vec![
            tcp(3, 100),
            tcp(4, 101),
            tcp(5, 102),
            read,
            tcp(7, 104),
        ]);
        let tie = |partners: &[(i32, i32)], twins: &[(i32, i32)]| Ties {
            partners: partners.to_vec(),
            twins: twins.to_vec(),
        };
        let was: TiesByFd = [
            (3, tie(&[(1, 4)], &[])),
            (4, tie(&[(1, 3)], &[])),
            (6, tie(&[], &[(9, 6)])),
        ]
        .into();
        // fd 4's peer went (its row loses `↔`), fd 5 got a twin (`≡`), fd 6's twin left and its
        // queue moved, fd 7 is new.
        let is: TiesByFd = [
            (3, tie(&[(1, 4)], &[])),
            (5, tie(&[], &[(1, 7)])),
            (7, tie(&[], &[(1, 5)])),
        ]
        .into();
        let mut changes = changes(&before, &now);
        changes.mark_ties(&now, &was, &is);
        assert_eq!(
            changes.marks,
            vec![
                Change::Same,
                Change::Changed(vec!["remote"]),
                Change::Changed(vec!["name"]),
                Change::Changed(vec!["recv_q", "name"]),
                Change::New,
            ]
        );
    }

    #[test]
    fn closed_rows_appear_in_fd_order_with_old_values() {
        let mut listener = tcp(4, 200);
        listener.state = Some(SockState::Tcp(TcpState::Listen));
        let prev = snap(vec![tty(0), tcp(3, 100), listener.clone(), tcp(6, 300)]);
        let now = snap(vec![tty(0), tcp(5, 400), tcp(6, 300)]);
        let d = diff(&prev, &now);
        assert_eq!(
            marks(&d),
            vec![
                (0, Change::Same),
                (3, Change::Closed),
                (4, Change::Closed),
                (5, Change::New),
                (6, Change::Same),
            ]
        );
        assert_eq!(d[2].0, listener);
        // The next step diffs against `now`, so the closed rows are not shown again.
        assert!(diff(&now, &now).iter().all(|(_, c)| *c == Change::Same));
    }

    #[test]
    fn changed_columns_are_named() {
        let prev = snap(vec![tcp(3, 100)]);
        let mut after = tcp(3, 100);
        after.local = Some(at("127.0.0.1:8080"));
        after.state = Some(SockState::Tcp(TcpState::Listen));
        after.send_q = Some(128);
        let d = diff(&prev, &snap(vec![after]));
        assert_eq!(d[0].1, Change::Changed(vec!["local", "state", "send_q"]));
    }

    #[test]
    fn remote_recv_q_and_kind_changes() {
        let prev = snap(vec![tcp(3, 100), tty(7)]);
        let mut sock = tcp(3, 100);
        sock.remote = Some(at("127.0.0.1:9"));
        sock.recv_q = Some(5);
        let mut other = tty(7);
        other.kind = Kind::File;
        other.target = Some("/tmp/x".into());
        let d = diff(&prev, &snap(vec![sock, other]));
        assert_eq!(d[0].1, Change::Changed(vec!["remote", "recv_q"]));
        assert_eq!(d[1].1, Change::Changed(vec!["local", "kind"]));
    }

    /// A TCP connection queued on fd 3 from `client`, in `state`.
    pub(crate) fn queued(client: &str, state: TcpState) -> PendingConn {
        PendingConn {
            listener_fd: 3,
            origin: crate::fdtable::Origin::Queued,
            family: Family::Inet,
            sock_type: SockType::Stream,
            local: Some(at("127.0.0.1:8080")),
            remote: Some(at(client)),
            state: SockState::Tcp(state),
            peer_inode: None,
            recv_q: Some(0),
            send_q: Some(0),
            time_left_ms: None,
        }
    }

    #[test]
    fn pending_connections_are_new_changed_or_same() {
        let prev = Snapshot {
            rows: Vec::new(),
            pending: vec![
                queued("127.0.0.1:40000", TcpState::Established),
                queued("127.0.0.1:40001", TcpState::SynRecv),
                queued("127.0.0.1:40002", TcpState::Established),
            ],
        };
        let mut with_data = queued("127.0.0.1:40002", TcpState::Established);
        with_data.recv_q = Some(5);
        let now = Snapshot {
            rows: Vec::new(),
            pending: vec![
                queued("127.0.0.1:40001", TcpState::Established),
                with_data,
                queued("127.0.0.1:40003", TcpState::Established),
            ],
        };
        let marks: Vec<(Option<String>, Change)> = diff_pending(&prev, &now)
            .into_iter()
            .map(|(p, c)| (p.remote.as_ref().map(ToString::to_string), c))
            .collect();
        assert_eq!(
            marks,
            vec![
                (
                    Some("127.0.0.1:40001".into()),
                    Change::Changed(vec!["state"])
                ),
                (
                    Some("127.0.0.1:40002".into()),
                    Change::Changed(vec!["recv_q"])
                ),
                (Some("127.0.0.1:40003".into()), Change::New),
                // Gone, and no fd has it: the kernel let go of it.
                (Some("127.0.0.1:40000".into()), Change::Closed),
            ]
        );

        // One `accept` made an fd is that fd's row now, not a connection that left.
        let mut accepted = FdRow::tcp_for_test(5, 50);
        accepted.local = Some(at("127.0.0.1:8080"));
        accepted.remote = Some(at("127.0.0.1:40000"));
        let now = Snapshot {
            rows: vec![accepted],
            pending: Vec::new(),
        };
        let prev = Snapshot {
            rows: Vec::new(),
            pending: vec![queued("127.0.0.1:40000", TcpState::Established)],
        };
        assert_eq!(diff_pending(&prev, &now), Vec::new());
    }

    #[test]
    fn unnamed_unix_clients_are_told_apart_by_inode() {
        let client = |inode| PendingConn {
            listener_fd: 3,
            origin: crate::fdtable::Origin::Queued,
            family: Family::Unix,
            sock_type: SockType::Stream,
            local: Some(at("@srv")),
            remote: None,
            state: SockState::Connected,
            peer_inode: Some(inode),
            recv_q: None,
            send_q: None,
            time_left_ms: None,
        };
        let prev = Snapshot {
            rows: Vec::new(),
            pending: vec![client(10)],
        };
        let now = Snapshot {
            rows: Vec::new(),
            pending: vec![client(10), client(11)],
        };
        let changes: Vec<Change> = diff_pending(&prev, &now)
            .into_iter()
            .map(|(_, c)| c)
            .collect();
        assert_eq!(changes, vec![Change::Same, Change::New]);
    }

    #[test]
    fn unsorted_input_is_still_in_fd_order() {
        let prev = snap(vec![tcp(9, 1), tcp(2, 2)]);
        let now = snap(vec![tcp(5, 3), tcp(2, 2)]);
        assert_eq!(
            marks(&diff(&prev, &now)),
            vec![(2, Change::Same), (5, Change::New), (9, Change::Closed)]
        );
    }
}
