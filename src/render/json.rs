//! The records of `--json` (SPEC §8): one [`StepJson`] per executed command, each carrying the FD
//! table after the step as [`FdJson`] rows — everything the text panel shows: the fd's inode and
//! what a non-socket points at, whether its handle was detached, the other end of its connection
//! and the other fds of its socket (in any process), whether an IPv6 socket takes IPv4 too, an
//! epoll fd's interest list, and the connections without an fd listed under the fd they came
//! from.
//!
//! Strings here are not escaped: JSON has its own escaping, and consumers want the real values.

use crate::fdtable::Labels;
use crate::fdtable::{FdRow, Held, Kind, Origin, PendingConn, Relations, Snapshot, Watch};
use crate::text::is_shown_as_is;
use serde::Serialize;

/// One executed command and the FD table after it.
#[derive(Debug, Clone, Serialize)]
pub struct StepJson<'a> {
    /// The 1-based line number of the command in its script or session.
    pub line: usize,
    /// The command as the user typed it.
    pub input: &'a str,
    /// Whether the command succeeded.
    pub ok: bool,
    /// What the command printed (empty when it printed nothing).
    pub output: String,
    /// Why the command failed; `null` when `ok` is true.
    pub error: Option<ErrorJson>,
    /// The FD table after the command, without sockplay's internal fds: the table of the process
    /// the command ran in.
    pub fds: Vec<FdJson>,
    /// The connections the kernel holds for that process without an fd (absent when none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub without_fd: Vec<ConnJson>,
    /// The fds sockplay holds in that process for its own work, never in `fds` (absent when none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub own: Vec<OwnFdJson>,
    /// The process the command ran in (SPEC §9).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub process: Option<String>,
    /// Every process, with its table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub processes: Option<Vec<ProcessJson>>,
}

/// One process, as `--json` lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProcessJson {
    pub name: String,
    pub pid: i32,
    /// The process that made it; `null` for `main`.
    pub parent: Option<String>,
    /// `ready`, `blocked in accept(3)`, `exited with status 0`, `killed by SIGTERM`.
    pub state: String,
    /// Its FD table (empty once it has ended).
    pub fds: Vec<FdJson>,
    /// The connections the kernel holds for it without an fd (absent when none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub without_fd: Vec<ConnJson>,
    /// The fds sockplay holds in it for its own work, never in `fds` (absent once it ended).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub own: Vec<OwnFdJson>,
}

/// One fd sockplay holds for its own work: `{"fd": 4095, "what": "control channel"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwnFdJson {
    pub fd: i32,
    pub what: String,
}

impl<'a> StepJson<'a> {
    /// Builds the record of a command that succeeded.
    pub fn success(line: usize, input: &'a str, output: String, fds: Vec<FdJson>) -> Self {
        StepJson {
            line,
            input,
            ok: true,
            output,
            error: None,
            fds,
            without_fd: Vec::new(),
            own: Vec::new(),
            process: None,
            processes: None,
        }
    }

    /// Builds the record of a command that failed with `error`.
    pub fn failure(
        line: usize,
        input: &'a str,
        output: String,
        error: ErrorJson,
        fds: Vec<FdJson>,
    ) -> Self {
        StepJson {
            line,
            input,
            ok: false,
            output,
            error: Some(error),
            fds,
            without_fd: Vec::new(),
            own: Vec::new(),
            process: None,
            processes: None,
        }
    }

    /// Serializes the record as one line of JSON, without the trailing newline.
    pub fn to_line(&self) -> Result<String, serde_json::Error> {
        to_json_line(self)
    }
}

/// Why a command failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorJson {
    /// The errno's symbolic name (`EADDRINUSE`), or `null` when the error is not an OS error
    /// (a syntax error, an unknown name, an expectation that did not hold).
    pub errno: Option<String>,
    /// A human-readable description.
    pub message: String,
}

impl ErrorJson {
    /// Builds an error that came from a system call failing with `errno` (e.g. `"ECONNREFUSED"`).
    pub fn os(errno: impl Into<String>, message: impl Into<String>) -> Self {
        ErrorJson {
            errno: Some(errno.into()),
            message: message.into(),
        }
    }

    /// Builds an error that is not an OS errno.
    pub fn other(message: impl Into<String>) -> Self {
        ErrorJson {
            errno: None,
            message: message.into(),
        }
    }
}

/// One fd of the table as `--json` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FdJson {
    /// The descriptor number.
    pub fd: i32,
    /// The name given with `as NAME`, if any.
    pub name: Option<String>,
    /// What the fd refers to: `socket`, `tty`, `pipe`, `file` or `other`.
    pub kind: Kind,
    /// `inet`, `inet6`, `unix`, …; `null` for non-sockets.
    pub family: Option<String>,
    /// `stream`, `dgram`, …; `null` for non-sockets.
    #[serde(rename = "type")]
    pub sock_type: Option<String>,
    /// The bound address; `null` when unbound or not a socket.
    pub local: Option<String>,
    /// The peer address; `null` when not connected or not a socket.
    pub remote: Option<String>,
    /// The kernel's state name (`LISTEN`, `ESTABLISHED`, `UNCONNECTED`, …); `null` for non-sockets.
    pub state: Option<String>,
    /// Bytes waiting to be read, or a listener's accept-queue length.
    pub recv_q: Option<u64>,
    /// Bytes not yet acknowledged or read by the peer, or a listener's accept-queue limit.
    pub send_q: Option<u64>,
    /// The inode behind the fd: two fds with the same inode are one socket (or one pipe, file…).
    pub inode: u64,
    /// What a non-socket fd points at, as its /proc link reads (`/dev/pts/0`, `pipe:[1234]`,
    /// `anon_inode:[eventpoll]`, a path); absent for sockets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// `true` when the fd's handle was detached: the fd stays open with no handle (absent
    /// otherwise).
    #[serde(skip_serializing_if = "is_false")]
    pub detached: bool,
    /// `true` for an IPv6 socket on `[::]` that takes IPv4 too (IPV6_V6ONLY off): the panel's
    /// `(IPv4 too)` (absent otherwise).
    #[serde(skip_serializing_if = "is_false")]
    pub dual_stack: bool,
    /// A datagram socket with a datagram waiting: its size, what one recv returns (absent
    /// otherwise). A UDP socket's `recv_q` is the memory of its whole queue, as `ss` shows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_datagram: Option<u64>,
    /// The fds, in any process, at the other end of this socket's connection: the sockets the
    /// kernel makes this one's peer, and whose peer this one is (the panel's `↔`; absent when
    /// none is).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub peers: Vec<HeldJson>,
    /// The other fds, in any process, that are this very socket: a `dup`, a fork, an fd passed
    /// with SCM_RIGHTS (the panel's `≡`; absent when none is).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub twins: Vec<HeldJson>,
    /// An epoll fd's interest list (the panel's `watches …`; absent for every other fd).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub watches: Option<Vec<WatchJson>>,
}

/// For `skip_serializing_if`: a flag that is off is left out.
fn is_false(flag: &bool) -> bool {
    !*flag
}

/// One entry of an epoll fd's interest list: `{"fd": 4, "events": ["in", "out"], …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WatchJson {
    /// The fd number the entry was added with.
    pub fd: i32,
    /// The events asked for, by the words `epoll add` takes (EPOLLERR and EPOLLHUP, which every
    /// entry has, only when nothing else was asked).
    pub events: Vec<&'static str>,
    /// The inode of the watched file.
    pub inode: u64,
    /// Whether that fd number still holds the watched file (after `close` of a watched fd whose
    /// file another fd keeps open, the entry stays: `false`).
    pub open: bool,
}

impl WatchJson {
    fn new(watch: &Watch) -> WatchJson {
        WatchJson {
            fd: watch.fd,
            events: watch.event_words(),
            inode: watch.inode,
            open: watch.open,
        }
    }
}

/// An fd of a process: `{"process": "client", "fd": 3}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeldJson {
    pub process: String,
    pub fd: i32,
}

/// The processes whose tables were related, to name what [`Relations`] finds.
#[derive(Debug, Clone, Copy)]
pub struct Related<'r> {
    pub relations: &'r Relations<'r>,
    /// Every process's name, by its position among the tables related.
    pub names: &'r [String],
}

impl Related<'_> {
    fn named(&self, held: Vec<Held>) -> Vec<HeldJson> {
        held.into_iter()
            .map(|h| HeldJson {
                process: self.names.get(h.process).cloned().unwrap_or_default(),
                fd: h.fd,
            })
            .collect()
    }
}

/// Converts process `process`'s table to its JSON rows, leaving out sockplay's internal fds and
/// taking names and detached handles from `labels`: each socket with the fds of every process
/// related to it (`peers`, `twins`) and, under a listener, the connections in its accept queue.
pub fn fds_json(
    snapshot: &Snapshot,
    labels: &Labels,
    process: usize,
    related: &Related<'_>,
) -> Vec<FdJson> {
    snapshot
        .rows
        .iter()
        .filter(|row| !labels.internal.contains(&row.fd))
        .map(|row| FdJson {
            detached: labels.detached.contains(&row.fd),
            peers: related.named(related.relations.partners_in(process, row)),
            twins: related.named(related.relations.twins_in(process, row)),
            ..FdJson::new(row, labels.names.get(&row.fd).cloned())
        })
        .collect()
}

impl FdJson {
    /// Builds the JSON form of one row, with the name the session gave it, related to nothing.
    pub fn new(row: &FdRow, name: Option<String>) -> Self {
        FdJson {
            fd: row.fd,
            name,
            kind: row.kind,
            family: row.family.map(|family| family.to_string()),
            sock_type: row.sock_type.map(|sock_type| sock_type.to_string()),
            local: row.local.as_ref().map(ToString::to_string),
            remote: row.remote.as_ref().map(ToString::to_string),
            state: row.state.map(|state| state.name().to_string()),
            recv_q: row.recv_q,
            send_q: row.send_q,
            inode: row.inode,
            target: row.target.clone(),
            detached: false,
            dual_stack: row.dual_stack,
            next_datagram: row.next_datagram,
            peers: Vec::new(),
            twins: Vec::new(),
            watches: row
                .watches
                .as_ref()
                .map(|watches| watches.iter().map(WatchJson::new).collect()),
        }
    }
}

/// A connection the kernel holds for a process without an fd, as `--json` shows it: one waiting
/// in an accept queue, or what a `close` left of a TCP connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnJson {
    /// The fd the panel shows it under: the listener whose queue holds it, or the fd whose
    /// connection it was (which may be closed).
    pub under: i32,
    /// `queued` (in an accept queue), `left` (left by a close: closing down, or TIME_WAIT) or
    /// `in_flight` (no process holds an fd of it: a message sent with SCM_RIGHTS does).
    pub origin: &'static str,
    /// For a queued connection: the fds of the listeners whose queue may hold it — one, unless
    /// they are a SO_REUSEPORT group and the kernel does not say which.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub listeners: Vec<i32>,
    /// Whether a listener of another process may hold it instead (present only when so).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub elsewhere: bool,
    /// Always `socket`: a connection without an fd is a socket all the same, and says so as
    /// every row of `fds` does (SPEC §8).
    pub kind: Kind,
    pub family: String,
    #[serde(rename = "type")]
    pub sock_type: String,
    pub local: Option<String>,
    pub remote: Option<String>,
    pub state: String,
    pub recv_q: Option<u64>,
    pub send_q: Option<u64>,
    /// TIME_WAIT (and FIN_WAIT2 after a close): milliseconds until the kernel forgets it.
    pub time_left_ms: Option<u64>,
    /// The fds, in any process, at the other end (the client of a queued connection; absent
    /// when none is).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub peers: Vec<HeldJson>,
}

impl ConnJson {
    /// The JSON form of one connection without an fd, related to nothing.
    pub fn new(conn: &PendingConn) -> ConnJson {
        let (origin, listeners, elsewhere) = match &conn.origin {
            Origin::Queued => ("queued", vec![conn.listener_fd], false),
            Origin::QueuedInOneOf {
                listeners,
                elsewhere,
            } => ("queued", listeners.clone(), *elsewhere),
            Origin::Left { .. } => ("left", Vec::new(), false),
            Origin::InFlight { .. } => ("in_flight", Vec::new(), false),
        };
        ConnJson {
            under: conn.listener_fd,
            origin,
            listeners,
            elsewhere,
            kind: Kind::Socket,
            family: conn.family.to_string(),
            sock_type: conn.sock_type.to_string(),
            local: conn.local.as_ref().map(ToString::to_string),
            remote: conn.remote.as_ref().map(ToString::to_string),
            state: conn.state.name().to_string(),
            recv_q: conn.recv_q,
            send_q: conn.send_q,
            time_left_ms: conn.time_left_ms,
            peers: Vec::new(),
        }
    }
}

/// The connections without an fd of a table, leaving out those under sockplay's internal fds,
/// each with the fds at its other end.
pub fn conns_json<'a>(
    pending: impl IntoIterator<Item = &'a PendingConn>,
    labels: &Labels,
    related: &Related<'_>,
) -> Vec<ConnJson> {
    pending
        .into_iter()
        .filter(|conn| !labels.internal.contains(&conn.listener_fd))
        .map(|conn| ConnJson {
            peers: related.named(related.relations.clients_in(conn)),
            ..ConnJson::new(conn)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::{Family, SockState, SockType, TcpState};
    use crate::render::diff::tests::at;
    use serde_json::{json, Value};

    fn listener() -> FdRow {
        FdRow {
            fd: 3,
            kind: Kind::Socket,
            inode: 77,
            family: Some(Family::Inet),
            sock_type: Some(SockType::Stream),
            local: Some(at("127.0.0.1:8080")),
            remote: None,
            state: Some(SockState::Tcp(TcpState::Listen)),
            recv_q: Some(0),
            send_q: Some(0),
            next_datagram: None,
            target: None,
            peer_inode: None,
            dual_stack: false,
            watches: None,
        }
    }

    fn tty(fd: i32) -> FdRow {
        FdRow {
            fd,
            kind: Kind::Tty,
            inode: 5,
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

    /// The JSON rows of one process's table, related within it.
    fn table(rows: Vec<FdRow>, pending: Vec<PendingConn>, labels: &Labels) -> Vec<FdJson> {
        let snapshot = Snapshot { rows, pending };
        let relations = Relations::of(&snapshot.rows);
        let names = ["main".to_string()];
        let related = Related {
            relations: &relations,
            names: &names,
        };
        fds_json(&snapshot, labels, 0, &related)
    }

    fn fds(rows: Vec<FdRow>, labels: &Labels) -> Vec<FdJson> {
        table(rows, Vec::new(), labels)
    }

    /// What every fd carries beyond SPEC §8's example: its inode.
    fn beyond_the_example(inode: u64) -> Value {
        json!({ "inode": inode })
    }

    #[test]
    fn step_matches_spec_example() {
        let mut labels = Labels::default();
        labels.names.insert(3, "srv".into());
        let fds = fds(vec![listener()], &labels);
        let step = StepJson::success(3, "listen srv", "listen(3, 128) = 0".into(), fds);
        let got: Value =
            serde_json::from_str(&step.to_line().expect("serializes")).expect("parses");
        // SPEC §8's example, verbatim; the state is spelled by net::TcpState.
        let want = json!({"line": 3, "input": "listen srv", "ok": true, "output": "listen(3, 128) = 0",
         "error": null,
         "fds": [{"fd": 3, "name": "srv", "kind": "socket", "family": "inet", "type": "stream",
                  "local": "127.0.0.1:8080", "remote": null, "state": TcpState::Listen.name(),
                  "recv_q": 0, "send_q": 0}]});
        // Every key of the example, with its value; then what the panel shows besides.
        let mut want = want;
        if let (Some(row), Value::Object(more)) =
            (want["fds"][0].as_object_mut(), beyond_the_example(77))
        {
            row.extend(more);
        }
        assert_eq!(got, want);
    }

    #[test]
    fn exact_key_sets() {
        let step = StepJson::success(1, "x", String::new(), fds(vec![tty(0)], &Labels::default()));
        let v: Value = serde_json::to_value(&step).expect("serializes");
        let keys = |v: &Value| {
            let mut k: Vec<String> = v.as_object().expect("an object").keys().cloned().collect();
            k.sort();
            k
        };
        assert_eq!(keys(&v), ["error", "fds", "input", "line", "ok", "output"]);
        assert_eq!(
            keys(&v["fds"][0]),
            [
                "family", "fd", "inode", "kind", "local", "name", "recv_q", "remote", "send_q",
                "state", "target", "type"
            ]
        );
        assert_eq!(v["fds"][0]["target"], "/dev/pts/0");
        // A tty has none of the socket fields, and they are present as null rather than absent.
        let fd = &v["fds"][0];
        assert_eq!(fd["kind"], "tty");
        for key in [
            "name", "family", "type", "local", "remote", "state", "recv_q", "send_q",
        ] {
            assert!(fd[key].is_null(), "{key} should be null");
        }
    }

    #[test]
    fn errors_with_and_without_errno() {
        let err = StepJson::failure(
            2,
            "bind a 127.0.0.1:80",
            String::new(),
            ErrorJson::os("EADDRINUSE", "Address already in use"),
            Vec::new(),
        );
        let v = serde_json::to_value(&err).expect("serializes");
        assert_eq!(v["ok"], false);
        assert_eq!(
            v["error"],
            json!({"errno": "EADDRINUSE", "message": "Address already in use"})
        );
        let err = StepJson::failure(
            4,
            "frob",
            String::new(),
            ErrorJson::other("unknown command"),
            Vec::new(),
        );
        let v = serde_json::to_value(&err).expect("serializes");
        assert_eq!(
            v["error"],
            json!({"errno": null, "message": "unknown command"})
        );
    }

    #[test]
    fn internal_fds_are_skipped_and_names_applied() {
        let mut labels = Labels::default();
        labels.internal.insert(0);
        labels.names.insert(3, "srv".into());
        let fds = fds(vec![tty(0), tty(1), listener()], &labels);
        let summary: Vec<(i32, Option<&str>)> =
            fds.iter().map(|f| (f.fd, f.name.as_deref())).collect();
        assert_eq!(summary, vec![(1, None), (3, Some("srv"))]);
    }

    #[test]
    fn detached_pairs_twins_and_the_accept_queue_are_carried() {
        let end = |fd: i32, inode: u64, local: &str, remote: &str| FdRow {
            fd,
            inode,
            local: Some(at(local)),
            remote: Some(at(remote)),
            state: Some(SockState::Tcp(TcpState::Established)),
            ..listener()
        };
        let mut labels = Labels::default();
        labels.detached.insert(5);
        let client = end(4, 11, "127.0.0.1:40000", "127.0.0.1:8080");
        let server = end(5, 12, "127.0.0.1:8080", "127.0.0.1:40000");
        let dup = end(6, 12, "127.0.0.1:8080", "127.0.0.1:40000");
        let waiting = PendingConn {
            listener_fd: 3,
            family: Family::Inet,
            sock_type: SockType::Stream,
            local: Some(at("127.0.0.1:8080")),
            remote: Some(at("127.0.0.1:40001")),
            state: SockState::Tcp(TcpState::Established),
            peer_inode: None,
            recv_q: Some(5),
            send_q: Some(0),
            origin: Origin::Queued,
            time_left_ms: None,
        };
        let snapshot = Snapshot {
            rows: vec![listener(), client, server, dup],
            pending: vec![waiting],
        };
        let relations = Relations::of(&snapshot.rows);
        let names = ["main".to_string()];
        let related = Related {
            relations: &relations,
            names: &names,
        };
        let rows = fds_json(&snapshot, &labels, 0, &related);
        let conns = conns_json(&snapshot.pending, &labels, &related);
        let v = serde_json::to_value(&rows).expect("serializes");
        let main = |fd: i32| json!({"process": "main", "fd": fd});
        assert_eq!(v[1]["peers"], json!([main(5), main(6)]));
        assert_eq!(v[2]["peers"], json!([main(4)]));
        assert_eq!(v[2]["twins"], json!([main(6)]));
        assert_eq!(v[2]["detached"], true);
        assert_eq!(v[3].get("detached"), None, "absent when not detached");
        assert_eq!(v[2]["inode"], 12);
        assert_eq!(
            v[0].get("without_fd"),
            None,
            "listed by the record, not the fd"
        );
        assert_eq!(
            serde_json::to_value(&conns).expect("serializes"),
            json!([{"under": 3, "origin": "queued", "listeners": [3], "kind": "socket", "family": "inet",
                    "type": "stream", "local": "127.0.0.1:8080", "remote": "127.0.0.1:40001",
                    "state": "ESTABLISHED", "recv_q": 5, "send_q": 0, "time_left_ms": null}])
        );
    }

    #[test]
    fn an_epoll_fd_carries_its_interest_list() {
        let epoll = FdRow {
            kind: Kind::Other,
            target: Some("anon_inode:[eventpoll]".into()),
            watches: Some(vec![Watch {
                fd: 4,
                events: 0x1d,
                inode: 12,
                open: false,
            }]),
            ..tty(7)
        };
        let v = serde_json::to_value(fds(vec![epoll], &Labels::default())).expect("serializes");
        assert_eq!(v[0]["target"], "anon_inode:[eventpoll]");
        assert_eq!(
            v[0]["watches"],
            json!([{"fd": 4, "events": ["in", "out"], "inode": 12, "open": false}])
        );
    }

    #[test]
    fn del_c1_bidi_and_invisible_characters_are_json_escapes() {
        let input = "a\u{1b}\u{7f}\u{9b}\u{202e}\u{2066}\u{200f}\u{61c}\u{feff}\u{e0041}é→";
        let step = StepJson::success(1, input, String::new(), Vec::new());
        let line = step.to_line().expect("serializes");
        assert!(
            line.contains(
                r#""input":"a\u001b\u007f\u009b\u202e\u2066\u200f\u061c\ufeff\udb40\udc41é→""#
            ),
            "{line}"
        );
        let back: Value = serde_json::from_str(&line).expect("parses");
        assert_eq!(back["input"], input);
    }

    #[test]
    fn one_record_is_one_line() {
        let step = StepJson::success(1, "send a \"x\ny\"", "sent\n2 bytes".into(), Vec::new());
        assert!(!step.to_line().expect("serializes").contains('\n'));
    }
}

/// Writes JSON like serde_json's compact form, but with every character the terminal layer would
/// escape written as a `\u` escape: JSON itself escapes only C0, while a terminal takes U+009B for
/// CSI and U+202E reverses the text after it. DEL, C1, bidi controls and the invisible format
/// characters ([`is_shown_as_is`]) are escaped, so a record reaches the terminal unchanged and still
/// decodes to the real value.
#[derive(Debug, Default)]
struct TerminalSafe;

impl serde_json::ser::Formatter for TerminalSafe {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut start = 0;
        for (at, c) in fragment.char_indices() {
            if !is_shown_as_is(c) {
                writer.write_all(&fragment.as_bytes()[start..at])?;
                // Past the BMP (the tag characters) as a surrogate pair, as JSON spells it.
                for unit in c.encode_utf16(&mut [0; 2]) {
                    write!(writer, "\\u{unit:04x}")?;
                }
                start = at + c.len_utf8();
            }
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

/// One JSON value on one line, with no control character a terminal would act on.
pub fn to_json_line<T: Serialize>(value: &T) -> serde_json::Result<String> {
    let mut bytes = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(&mut bytes, TerminalSafe);
    value.serialize(&mut serializer)?;
    // The formatter writes only valid UTF-8: serde's own output plus ASCII escapes.
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
