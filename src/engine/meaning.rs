//! One plain sentence for what a step did that the call line alone does not say: a connection
//! arriving in an accept queue, a peer closing, a connection reset. Read off the table's diff, so it
//! says what the kernel did, whichever command made it happen.

use crate::fdtable::Labels;
use crate::fdtable::{FdRow, Snapshot};
use crate::net::Family;
use crate::net::SockState::{self, Tcp};
use crate::net::TcpState::{Close, CloseWait, Established, FinWait1, FinWait2, SynSent};
use crate::render::{Change, Row};

/// How a row is named in a sentence: `fd 5 (conn)`, or `server's fd 5 (conn)` when the step
/// shows several processes.
fn who(row: &FdRow, labels: &Labels, process: Option<&str>) -> String {
    let whose = process.map_or_else(String::new, |name| format!("{name}'s "));
    match labels.names.get(&row.fd) {
        Some(name) => format!("{whose}fd {} ({name})", row.fd),
        None => format!("{whose}fd {}", row.fd),
    }
}

/// The sentences for a step's changed rows in one process's table; `before` is the table the
/// step started from, and `process` the process's name when the step shows several.
pub fn notes(
    rows: &[Row<'_>],
    before: &Snapshot,
    labels: &Labels,
    process: Option<&str>,
) -> Vec<String> {
    let who = |row: &FdRow, labels: &Labels| who(row, labels, process);
    let holder = process.unwrap_or("this program");
    let mut notes = Vec::new();
    for &(row, change) in rows {
        let Change::Changed(fields) = change else {
            continue;
        };
        let Some(old) = before.get(row.fd) else {
            continue;
        };
        if row.state.is_some_and(SockState::is_listening) && fields.contains(&"recv_q") {
            let (now, was) = (row.recv_q.unwrap_or(0), old.recv_q.unwrap_or(0));
            if now > was {
                // Unix sockets have no handshake on the wire, but connect completes just the same.
                let arrived = if row.family == Some(Family::Unix) {
                    format!("a client connected to {}", who(row, labels))
                } else {
                    format!("the kernel finished a handshake for {}", who(row, labels))
                };
                notes.push(format!(
                    "{arrived}: the connection waits in its accept queue ({now} queued) until `accept`"
                ));
            }
            continue;
        }
        if row.state == old.state || !fields.contains(&"state") {
            continue;
        }
        let sentence = match (old.state, row.state) {
            (_, Some(Tcp(CloseWait))) => format!(
                "the peer of {} closed its side: fd {} is in CLOSE_WAIT until {holder} closes it",
                who(row, labels),
                row.fd
            ),
            (_, Some(Tcp(FinWait2))) => format!(
                "the peer acknowledged the FIN of {}: it waits in FIN_WAIT2 for the peer to close too",
                who(row, labels)
            ),
            (Some(Tcp(Established | CloseWait | FinWait1 | FinWait2)), Some(Tcp(Close))) => format!(
                "the connection of {} is over (closed or reset); the socket stays until the fd is closed",
                who(row, labels)
            ),
            (Some(Tcp(SynSent)), Some(Tcp(Established))) => {
                format!("the handshake of {} completed: ESTABLISHED", who(row, labels))
            }
            _ => continue,
        };
        notes.push(sentence);
    }
    notes
}
