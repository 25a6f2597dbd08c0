//! One plain sentence for what a step did that the call line alone does not say: a connection
//! arriving in an accept queue, a peer closing, a connection reset, an fd closed while another
//! still holds its socket. Read off the diff against the tables last explained, so it says what
//! the kernel did, whichever command made it happen and whatever ran in between.
//!
//! A sentence is about a socket, not an fd: a socket held by several fds (a `dup`, a fork, an fd
//! passed with SCM_RIGHTS) is told once, and what only happens when its last fd closes (CLOSE_WAIT
//! ending, the FIN) names every fd that holds it.

use std::collections::HashSet;

use crate::fdtable::{FdRow, Held, Labels, Relations, Snapshot};
use crate::net::SockState::{self, Tcp};
use crate::net::TcpState::{Close, CloseWait, Established, FinWait1, FinWait2, SynSent};
use crate::net::{Family, TcpState};
use crate::render::{Change, Row};

/// One process's table as the sentences read it.
#[derive(Debug)]
pub struct Told<'a> {
    /// The process's position among the tables related (its place in `ps`).
    pub index: usize,
    /// The process's name.
    pub process: &'a str,
    /// Every row, marked against the table last explained (closed rows are the old ones).
    pub rows: Vec<Row<'a>>,
    /// The table last explained.
    pub before: &'a Snapshot,
    /// The process's labels, with the names that fds closed since had.
    pub labels: &'a Labels,
}

/// The step's tables, to name any fd of any of them.
struct Namer<'t, 'a> {
    tables: &'t [Told<'a>],
    /// Whether the step shows several processes: then each fd is named with its process.
    several: bool,
}

impl Namer<'_, '_> {
    fn table(&self, index: usize) -> Option<&Told<'_>> {
        self.tables.iter().find(|table| table.index == index)
    }

    /// `fd 5 (conn)`, or `server's fd 5 (conn)` when the step shows several processes.
    fn fd(&self, held: Held) -> String {
        let table = self.table(held.process);
        let whose = match (self.several, table) {
            (true, Some(table)) => format!("{}'s ", table.process),
            _ => String::new(),
        };
        match table.and_then(|t| t.labels.names.get(&held.fd)) {
            Some(name) => format!("{whose}fd {} ({name})", held.fd),
            None => format!("{whose}fd {}", held.fd),
        }
    }

    /// Who must close the socket that fd `held` is, when it is its only fd: `this program`, or
    /// the process's name when the step shows several.
    fn holder(&self, held: Held) -> String {
        match (self.several, self.table(held.process)) {
            (true, Some(table)) => table.process.to_string(),
            _ => "this program".to_string(),
        }
    }
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// `both` or `all`, for what must happen to each of `count` fds.
fn every(count: usize) -> &'static str {
    if count == 2 {
        "both"
    } else {
        "all"
    }
}

/// The sentences for what changed in the step's tables since they were last explained; `tables`
/// in the order they are told (the step's process first), `relations` over every table's open
/// fds.
pub fn notes(tables: &[Told<'_>], relations: &Relations<'_>) -> Vec<String> {
    let namer = Namer {
        tables,
        several: tables.len() > 1,
    };
    let mut notes = Vec::new();
    // The sockets already told about, so fds of one socket do not repeat its sentence.
    let mut told: HashSet<u64> = HashSet::new();
    let mut closed_told: HashSet<u64> = HashSet::new();
    for table in tables {
        for &(row, change) in &table.rows {
            let held = Held {
                process: table.index,
                fd: row.fd,
            };
            match change {
                Change::Closed => {
                    if closed_told.insert(row.inode) {
                        notes.extend(closed_note(tables, &namer, relations, row));
                    }
                }
                Change::Changed(fields) => {
                    let Some(old) = table.before.get(row.fd) else {
                        continue;
                    };
                    if told.contains(&row.inode) {
                        continue;
                    }
                    let sentence = if row.state.is_some_and(SockState::is_listening) {
                        queue_note(&namer, held, row, old, fields)
                    } else {
                        state_note(&namer, relations, held, row, old, fields)
                    };
                    if let Some(sentence) = sentence {
                        told.insert(row.inode);
                        notes.push(sentence);
                    }
                }
                Change::New | Change::Same => {}
            }
        }
    }
    notes
}

/// A listener whose accept queue grew: the kernel completed connections nobody accepted yet.
fn queue_note(
    namer: &Namer<'_, '_>,
    held: Held,
    row: &FdRow,
    old: &FdRow,
    fields: &[&str],
) -> Option<String> {
    if !fields.contains(&"recv_q") {
        return None;
    }
    let (now, was) = (row.recv_q.unwrap_or(0), old.recv_q.unwrap_or(0));
    if now <= was {
        return None;
    }
    let arrived = now - was;
    let who = namer.fd(held);
    // Unix sockets have no handshake on the wire, but connect completes just the same.
    let what = match (row.family == Some(Family::Unix), arrived) {
        (true, 1) => format!("a client connected to {who}"),
        (true, n) => format!("{n} clients connected to {who}"),
        (false, 1) => format!("the kernel finished a handshake for {who}"),
        (false, n) => format!("the kernel finished {n} handshakes for {who}"),
    };
    let waits = if arrived == 1 {
        "the connection waits"
    } else {
        "the connections wait"
    };
    Some(format!(
        "{what}: {waits} in its accept queue ({now} queued) until `accept`"
    ))
}

/// A TCP socket whose state moved, as far as the state alone says what happened.
fn state_note(
    namer: &Namer<'_, '_>,
    relations: &Relations<'_>,
    held: Held,
    row: &FdRow,
    old: &FdRow,
    fields: &[&str],
) -> Option<String> {
    if row.state == old.state || !fields.contains(&"state") {
        return None;
    }
    let who = namer.fd(held);
    // Every fd of the socket, this one first: what ends only with the last close names them all.
    let mut holders = vec![held];
    holders.extend(relations.twins_in(held.process, row));
    let fds: Vec<String> = holders.iter().map(|&h| namer.fd(h)).collect();
    let sentence = match (old.state, row.state) {
        (_, Some(Tcp(CloseWait))) if holders.len() == 1 => format!(
            "the peer of {who} closed its side: fd {} is in CLOSE_WAIT until {} closes it",
            row.fd,
            namer.holder(held)
        ),
        (_, Some(Tcp(CloseWait))) => format!(
            "the peer of {who} closed its side: the socket is in CLOSE_WAIT until {} are {} closed; closing only one sends no FIN",
            and_list(&fds),
            every(fds.len())
        ),
        (_, Some(Tcp(FinWait2))) => format!(
            "the peer acknowledged the FIN of {who}: it waits in FIN_WAIT2 for the peer to close too"
        ),
        (Some(Tcp(Established | CloseWait | FinWait1 | FinWait2 | TcpState::LastAck | TcpState::Closing)), Some(Tcp(Close))) => {
            let until = if holders.len() == 1 {
                "the fd is closed".to_string()
            } else {
                format!("{} are {} closed", and_list(&fds), every(fds.len()))
            };
            format!("the connection of {who} is over (closed or reset); the socket stays until {until}")
        }
        (Some(Tcp(SynSent)), Some(Tcp(Established))) => {
            format!("the handshake of {who} completed: ESTABLISHED")
        }
        _ => return None,
    };
    Some(sentence)
}

/// An fd closed while other fds still hold its socket: closing it closed only that number, so
/// the socket, and its connection, go on as before.
fn closed_note(
    tables: &[Told<'_>],
    namer: &Namer<'_, '_>,
    relations: &Relations<'_>,
    row: &FdRow,
) -> Option<String> {
    if row.kind != crate::fdtable::Kind::Socket {
        return None;
    }
    // Every fd of every table that closed on this socket, and every open one still holding it.
    let closed: Vec<Held> = tables
        .iter()
        .flat_map(|table| {
            table
                .rows
                .iter()
                .filter(|(r, c)| **c == Change::Closed && r.inode == row.inode)
                .map(move |(r, _)| Held {
                    process: table.index,
                    fd: r.fd,
                })
        })
        .collect();
    let open: Vec<Held> = {
        // The open fds of the socket: the twins of any closed one (a closed row is no twin of
        // itself among the open rows).
        let mut open = relations.twins_in(usize::MAX, row);
        open.retain(|h| !closed.contains(h));
        open
    };
    if open.is_empty() {
        return None;
    }
    let closed_names: Vec<String> = closed.iter().map(|&h| namer.fd(h)).collect();
    let open_names: Vec<String> = open.iter().map(|&h| namer.fd(h)).collect();
    let (is_are, holds) = match (closed_names.len(), open_names.len()) {
        (1, 1) => ("is", "still holds"),
        (1, _) => ("is", "still hold"),
        (_, 1) => ("are", "still holds"),
        _ => ("are", "still hold"),
    };
    let goes_on = match row.state {
        Some(state) if state.is_listening() => "it keeps listening",
        Some(Tcp(Established | CloseWait | FinWait1 | FinWait2 | SynSent)) => {
            "no FIN is sent and the peer notices nothing"
        }
        _ => "it stays open",
    };
    Some(format!(
        "{} {is_are} closed, but {} {holds} the socket: {goes_on}",
        and_list(&closed_names),
        and_list(&open_names)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fdtable::Kind;
    use crate::net::Endpoint;

    fn at(address: &str) -> Option<Endpoint> {
        Some(Endpoint::inet(address.parse().expect("an address")))
    }

    fn tcp(fd: i32, inode: u64) -> FdRow {
        FdRow::tcp_for_test(fd, inode)
    }

    fn connected(fd: i32, inode: u64, state: TcpState) -> FdRow {
        FdRow {
            state: Some(Tcp(state)),
            local: at("127.0.0.1:8080"),
            remote: at("127.0.0.1:40000"),
            ..tcp(fd, inode)
        }
    }

    fn snapshot(rows: Vec<FdRow>) -> Snapshot {
        Snapshot {
            rows,
            pending: Vec::new(),
        }
    }

    /// The sentences for one process going from `before` to `now`.
    fn told(before: &Snapshot, now: &Snapshot, labels: &Labels) -> Vec<String> {
        let changes = crate::render::changes(before, now);
        let table = Told {
            index: 0,
            process: "main",
            rows: changes.rows(before, now),
            before,
            labels,
        };
        let relations = Relations::of(&now.rows);
        notes(&[table], &relations)
    }

    #[test]
    fn close_wait_of_a_socket_held_once_names_its_one_fd() {
        let before = snapshot(vec![connected(5, 50, Established)]);
        let now = snapshot(vec![connected(5, 50, CloseWait)]);
        let mut labels = Labels::default();
        labels.names.insert(5, "conn".into());
        assert_eq!(
            told(&before, &now, &labels),
            ["the peer of fd 5 (conn) closed its side: fd 5 is in CLOSE_WAIT until this program closes it"]
        );
    }

    #[test]
    fn close_wait_of_a_socket_held_twice_is_told_once_and_names_both_fds() {
        let before = snapshot(vec![
            connected(5, 50, Established),
            connected(7, 50, Established),
        ]);
        let now = snapshot(vec![
            connected(5, 50, CloseWait),
            connected(7, 50, CloseWait),
        ]);
        assert_eq!(
            told(&before, &now, &Labels::default()),
            ["the peer of fd 5 closed its side: the socket is in CLOSE_WAIT until fd 5 and fd 7 are both closed; closing only one sends no FIN"]
        );
    }

    #[test]
    fn closing_one_of_two_fds_says_no_fin_is_sent() {
        let before = snapshot(vec![
            connected(5, 50, Established),
            connected(7, 50, Established),
        ]);
        let now = snapshot(vec![connected(7, 50, Established)]);
        let mut labels = Labels::default();
        labels.names.insert(5, "a".into());
        labels.names.insert(7, "a2".into());
        assert_eq!(
            told(&before, &now, &labels),
            ["fd 5 (a) is closed, but fd 7 (a2) still holds the socket: no FIN is sent and the peer notices nothing"]
        );
    }

    #[test]
    fn closing_the_last_fd_claims_nothing() {
        // The socket may live on in an SCM_RIGHTS message in flight: the fds alone cannot say a
        // FIN went out.
        let before = snapshot(vec![connected(5, 50, Established)]);
        let now = snapshot(vec![]);
        assert!(told(&before, &now, &Labels::default()).is_empty());
    }

    #[test]
    fn closing_a_dup_of_a_listener_keeps_it_listening() {
        let listener = |fd| FdRow {
            state: Some(Tcp(TcpState::Listen)),
            ..tcp(fd, 30)
        };
        let before = snapshot(vec![listener(3), listener(4), listener(6)]);
        let now = snapshot(vec![listener(6)]);
        assert_eq!(
            told(&before, &now, &Labels::default()),
            ["fd 3 and fd 4 are closed, but fd 6 still holds the socket: it keeps listening"]
        );
    }

    #[test]
    fn several_handshakes_are_counted() {
        let listener = |queued| FdRow {
            state: Some(Tcp(TcpState::Listen)),
            recv_q: Some(queued),
            send_q: Some(128),
            ..tcp(3, 30)
        };
        let before = snapshot(vec![listener(0)]);
        let now = snapshot(vec![listener(2)]);
        assert_eq!(
            told(&before, &now, &Labels::default()),
            ["the kernel finished 2 handshakes for fd 3: the connections wait in its accept queue (2 queued) until `accept`"]
        );
        let mut unix = listener(1);
        unix.family = Some(Family::Unix);
        unix.state = Some(SockState::Listen);
        let mut was = unix.clone();
        was.recv_q = Some(0);
        assert_eq!(
            told(&snapshot(vec![was]), &snapshot(vec![unix]), &Labels::default()),
            ["a client connected to fd 3: the connection waits in its accept queue (1 queued) until `accept`"]
        );
    }

    #[test]
    fn a_pipe_closed_is_not_told() {
        let mut pipe = tcp(5, 9);
        pipe.kind = Kind::Pipe;
        let mut other = pipe.clone();
        other.fd = 6;
        let before = snapshot(vec![pipe, other.clone()]);
        let now = snapshot(vec![other]);
        assert!(told(&before, &now, &Labels::default()).is_empty());
    }

    #[test]
    fn across_processes_the_holders_are_named_with_their_process() {
        let before_main = snapshot(vec![connected(4, 50, Established)]);
        let now_main = snapshot(vec![connected(4, 50, CloseWait)]);
        let before_child = snapshot(vec![connected(4, 50, Established)]);
        let now_child = snapshot(vec![connected(4, 50, CloseWait)]);
        let labels = Labels::default();
        let main_changes = crate::render::changes(&before_main, &now_main);
        let child_changes = crate::render::changes(&before_child, &now_child);
        let tables = [
            Told {
                index: 0,
                process: "main",
                rows: main_changes.rows(&before_main, &now_main),
                before: &before_main,
                labels: &labels,
            },
            Told {
                index: 1,
                process: "child",
                rows: child_changes.rows(&before_child, &now_child),
                before: &before_child,
                labels: &labels,
            },
        ];
        let relations = Relations::across([(0, &now_main.rows), (1, &now_child.rows)]);
        assert_eq!(
            notes(&tables, &relations),
            ["the peer of main's fd 4 closed its side: the socket is in CLOSE_WAIT until main's fd 4 and child's fd 4 are both closed; closing only one sends no FIN"]
        );
    }
}
