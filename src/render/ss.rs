//! The `ss` command: the system's TCP, UDP and Unix sockets as sock_diag lists them, in `ss`'s
//! columns (Netid State Recv-Q Send-Q Local Peer), with this process's sockets marked by fd in an
//! extra FD column and the connections waiting in an accept queue listed under their listener.
//!
//! Which sockets are listed follows `ss`: with no protocol flag all of TCP, UDP and Unix; without
//! `-a` or `-l` only connections (not LISTEN, UNCONN, TIME_WAIT or SYN_RECV); `-l` only listening
//! (and unconnected datagram) sockets; `-a` all of them.

use std::io;

use comfy_table::{CellAlignment, ContentArrangement, Table, TableComponent};
use nix::errno::Errno;

use super::safe::sanitize_line;
use super::Labels;
use crate::fdtable::diag::{self, DiagSocket, Netid, SockDiag, States};
use crate::fdtable::{Kind, Snapshot};
use crate::lang::SsFilter;
use crate::net::{Endpoint, Family, TcpState};

/// The column headers, in order.
const HEADERS: [&str; 7] = ["Netid", "State", "Recv-Q", "Send-Q", "Local", "Peer", "FD"];

/// Column positions of the queue sizes, which are right-aligned.
const COL_RECV_Q: usize = 2;
const COL_SEND_Q: usize = 3;

/// What the Netid cell of a queued connection starts with, so it reads as part of the listener
/// above it.
const NESTED: &str = "└ ";

/// The FD cell of a connection waiting in the accept queue of the listener above it.
const QUEUED: &str = "(queued)";

/// What `ss` shows by default: connections, without LISTEN, UNCONN, TIME_WAIT and half-open ones.
fn connected_states() -> States {
    States::ALL.without(States::of(&[
        TcpState::Listen,
        TcpState::Close,
        TcpState::TimeWait,
        TcpState::SynRecv,
        TcpState::NewSynRecv,
    ]))
}

/// Lists the sockets `filter` selects, as `sock_diag` reports them, as the lines of a table followed by
/// one line per listener of this process whose accept queue holds connections.
///
/// Fails with the errno of sock_diag when the kernel refuses a dump; a protocol the kernel cannot
/// list (no IPv6, no udp_diag) is left out with a note instead.
pub fn ss_lines(
    sock_diag: &mut SockDiag,
    filter: &SsFilter,
    snapshot: &Snapshot,
    labels: &Labels,
) -> io::Result<Vec<String>> {
    let any_protocol = filter.tcp || filter.udp || filter.unix;
    let wanted = if filter.all {
        States::ALL
    } else if filter.listening {
        States::of(&[TcpState::Listen, TcpState::Close])
    } else {
        connected_states()
    };
    let ours = Ours { snapshot, labels };
    let mut listing = Listing::default();
    if filter.tcp || !any_protocol {
        // Listeners and queued connections are always fetched: a queued connection is told
        // apart (and put under its listener) only by comparing it with the listeners.
        let fetch = wanted
            .with(States::of(&[TcpState::Listen]))
            .with(States::of(&diag::QUEUED_STATES));
        for family in [Family::Inet, Family::Inet6] {
            let name = if family == Family::Inet {
                "tcp"
            } else {
                "tcp6"
            };
            if let Some(sockets) =
                listing.tolerate(name, diag::inet(sock_diag, family, Netid::Tcp, fetch, &[]))?
            {
                listing.add_tcp(&sockets, wanted, &ours);
            }
        }
    }
    if filter.udp || !any_protocol {
        for family in [Family::Inet, Family::Inet6] {
            let name = if family == Family::Inet {
                "udp"
            } else {
                "udp6"
            };
            if let Some(sockets) =
                listing.tolerate(name, diag::inet(sock_diag, family, Netid::Udp, wanted, &[]))?
            {
                for socket in sockets.iter().filter(|s| wanted.contains(s.state)) {
                    listing.add(Line::of(socket, &ours));
                }
            }
        }
    }
    if filter.unix || !any_protocol {
        if let Some(sockets) = listing.tolerate("unix", diag::unix(sock_diag, States::ALL))? {
            listing.add_unix(&sockets, wanted, &ours);
        }
    }
    Ok(listing.into_lines())
}

/// This process's side of the listing: which fds hold a socket, and their names.
struct Ours<'a> {
    snapshot: &'a Snapshot,
    labels: &'a Labels,
}

impl Ours<'_> {
    /// The fds of this process that hold the socket with `inode`, in fd order.
    fn fds_of(&self, inode: u64) -> Vec<i32> {
        if inode == 0 {
            return Vec::new();
        }
        self.snapshot
            .rows
            .iter()
            .filter(|r| r.kind == Kind::Socket && r.inode == inode)
            .filter(|r| !self.labels.internal.contains(&r.fd))
            .map(|r| r.fd)
            .collect()
    }

    /// The FD cell: `3 srv`, `3, 7 srv`, or `-` for another process's socket.
    fn fd_text(&self, inode: u64) -> String {
        let fds = self.fds_of(inode);
        if fds.is_empty() {
            return "-".into();
        }
        let numbers: Vec<String> = fds.iter().map(i32::to_string).collect();
        let mut text = numbers.join(", ");
        if let Some(name) = fds.iter().find_map(|fd| self.labels.names.get(fd)) {
            text.push(' ');
            text.push_str(&sanitize_line(name));
        }
        text
    }

    /// How a listener of this process is named in the summary: `fd 3 (srv)` or `fd 3`.
    fn listener_name(&self, inode: u64) -> Option<String> {
        let fd = *self.fds_of(inode).first()?;
        Some(match self.labels.names.get(&fd) {
            Some(name) => format!("fd {fd} ({})", sanitize_line(name)),
            None => format!("fd {fd}"),
        })
    }
}

/// One line of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Line {
    netid: String,
    state: String,
    recv_q: String,
    send_q: String,
    local: String,
    peer: String,
    fd: String,
}

impl Line {
    /// The line of a socket as the kernel listed it.
    fn of(socket: &DiagSocket, ours: &Ours<'_>) -> Line {
        Line {
            netid: socket.netid.name(),
            state: socket.state_name().into(),
            recv_q: socket.recv_q.to_string(),
            send_q: socket.send_q.to_string(),
            local: local_text(socket),
            peer: peer_text(socket),
            fd: ours.fd_text(socket.inode),
        }
    }

    /// Marks the line as a connection waiting in the accept queue of the listener above it.
    fn nested(mut self) -> Line {
        self.netid = format!("{NESTED}{}", self.netid);
        self.fd = QUEUED.into();
        self
    }
}

/// The Local cell, as `ss -n` writes it: `127.0.0.1:8080`, `[::1]:80`, `0.0.0.0:*` when unbound;
/// for Unix sockets the name (or `*`) and the inode.
fn local_text(socket: &DiagSocket) -> String {
    match socket.family {
        Family::Unix => format!("{} {}", name_or_star(socket.local.as_ref()), socket.inode),
        family => address_or_wildcard(socket.local.as_ref(), family),
    }
}

/// The Peer cell: the peer's address, `0.0.0.0:*` when there is none; for Unix sockets the peer's
/// name (or `*`) and inode (0 when the peer is not listed).
fn peer_text(socket: &DiagSocket) -> String {
    match socket.family {
        Family::Unix => format!(
            "{} {}",
            name_or_star(socket.remote.as_ref()),
            socket.peer_inode.unwrap_or(0)
        ),
        family => address_or_wildcard(socket.remote.as_ref(), family),
    }
}

/// A Unix socket's name, or `*` for an unnamed one.
fn name_or_star(name: Option<&Endpoint>) -> String {
    name.map_or_else(|| "*".to_string(), ToString::to_string)
}

/// An inet address, or the family's wildcard when there is none.
fn address_or_wildcard(address: Option<&Endpoint>, family: Family) -> String {
    address.map_or_else(|| wildcard(family).to_string(), ToString::to_string)
}

/// What `ss` writes for "any address, any port" in a family.
fn wildcard(family: Family) -> &'static str {
    match family {
        Family::Inet6 => "[::]:*",
        _ => "0.0.0.0:*",
    }
}

/// The table being built, the summary of this process's accept queues, and notes about what
/// could not be listed.
#[derive(Debug, Default)]
struct Listing {
    lines: Vec<Line>,
    summary: Vec<String>,
    notes: Vec<String>,
}

impl Listing {
    fn add(&mut self, line: Line) {
        self.lines.push(line);
    }

    /// Passes a dump's result on, except that a protocol or family the kernel cannot list
    /// becomes a note and None.
    fn tolerate(
        &mut self,
        what: &str,
        result: io::Result<Vec<DiagSocket>>,
    ) -> io::Result<Option<Vec<DiagSocket>>> {
        match result {
            Ok(sockets) => Ok(Some(sockets)),
            Err(e)
                if matches!(
                    Errno::from_raw(e.raw_os_error().unwrap_or(0)),
                    Errno::ENOENT
                        | Errno::EAFNOSUPPORT
                        | Errno::EPROTONOSUPPORT
                        | Errno::EOPNOTSUPP
                ) =>
            {
                self.notes.push(format!(
                    "{what}: this kernel's sock_diag cannot list them ({e})"
                ));
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Adds the TCP sockets in `wanted`, with each listener's queued connections right under it.
    /// A queued connection whose listener is not listed (plain `ss` hides listeners) stands
    /// alone, as `ss` shows it, but says whose queue it is in.
    fn add_tcp(&mut self, sockets: &[DiagSocket], wanted: States, ours: &Ours<'_>) {
        let listeners: Vec<usize> = (0..sockets.len())
            .filter(|&i| sockets[i].is_in(TcpState::Listen))
            .collect();
        // For each socket, the listener whose queue it waits in: the first that matches.
        let owner: Vec<Option<usize>> = sockets
            .iter()
            .map(|s| {
                listeners
                    .iter()
                    .copied()
                    .find(|&l| s.is_queued_on(&sockets[l]))
            })
            .collect();
        let show_listeners = wanted.contains(TcpState::Listen.number());
        for (i, socket) in sockets.iter().enumerate() {
            if socket.is_in(TcpState::Listen) {
                if !show_listeners {
                    continue;
                }
                self.add(Line::of(socket, ours));
                for (conn, _) in sockets
                    .iter()
                    .zip(&owner)
                    .filter(|(_, owner)| **owner == Some(i))
                {
                    self.add(Line::of(conn, ours).nested());
                }
                self.summarize(socket, ours);
                continue;
            }
            let listener = owner.get(i).copied().flatten().map(|l| &sockets[l]);
            if listener.is_some() && show_listeners {
                // Already listed under its listener.
                continue;
            }
            if !wanted.contains(socket.state) {
                continue;
            }
            let mut line = Line::of(socket, ours);
            if let Some(listener) = listener {
                line.fd = match ours.fds_of(listener.inode).first() {
                    Some(fd) => format!("(queued on fd {fd})"),
                    None => QUEUED.into(),
                };
            }
            self.add(line);
        }
    }

    /// Adds the Unix sockets in `wanted`, with the clients waiting on each listener under it.
    ///
    /// The kernel does not list a pending connection's server end (it has no inode until
    /// `accept`), only the client's inode in the listener's queue; the line under the listener
    /// shows that client as the peer.
    fn add_unix(&mut self, sockets: &[DiagSocket], wanted: States, ours: &Ours<'_>) {
        for socket in sockets.iter().filter(|s| wanted.contains(s.state)) {
            self.add(Line::of(socket, ours));
            if !socket.is_in(TcpState::Listen) {
                continue;
            }
            for &client in &socket.pending {
                let client_name = sockets
                    .iter()
                    .find(|s| client != 0 && s.inode == client)
                    .and_then(|s| s.local.as_ref());
                self.add(Line {
                    netid: format!("{NESTED}{}", socket.netid.name()),
                    state: TcpState::Established.ss_name().into(),
                    recv_q: "-".into(),
                    send_q: "-".into(),
                    local: format!("{} *", name_or_star(socket.local.as_ref())),
                    peer: format!("{} {client}", name_or_star(client_name)),
                    fd: QUEUED.into(),
                });
            }
            self.summarize(socket, ours);
        }
    }

    /// Says how full a listener's accept queue is, for listeners of this process with connections
    /// waiting.
    fn summarize(&mut self, listener: &DiagSocket, ours: &Ours<'_>) {
        let Some(name) = ours.listener_name(listener.inode) else {
            return;
        };
        let waiting = match listener.recv_q {
            0 => return,
            1 => "1 connection waits".to_string(),
            n => format!("{n} connections wait"),
        };
        self.summary.push(format!(
            "{name}: {waiting} in the accept queue (limit {})",
            listener.send_q
        ));
    }

    /// The table's lines, then the summary and the notes.
    fn into_lines(self) -> Vec<String> {
        let mut table = Table::new();
        // Never let comfy-table look at stdout: the output must not depend on where it goes.
        table.force_no_tty();
        table
            .load_preset(comfy_table::presets::NOTHING)
            .set_style(TableComponent::HeaderLines, '─')
            .set_content_arrangement(ContentArrangement::Disabled)
            .set_header(HEADERS);
        for line in self.lines {
            table.add_row(
                [
                    line.netid,
                    line.state,
                    line.recv_q,
                    line.send_q,
                    line.local,
                    line.peer,
                    line.fd,
                ]
                .map(|cell| sanitize_line(&cell)),
            );
        }
        for index in [COL_RECV_Q, COL_SEND_Q] {
            if let Some(column) = table.column_mut(index) {
                column.set_cell_alignment(CellAlignment::Right);
            }
        }
        let last = HEADERS.len() - 1;
        for (index, column) in table.column_iter_mut().enumerate() {
            column.set_padding(if index == last { (0, 0) } else { (0, 2) });
        }
        let mut lines: Vec<String> = table
            .lines()
            .map(|line| line.trim_end().to_string())
            .collect();
        lines.extend(self.summary);
        lines.extend(self.notes);
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fdtable::{Observed, Observer, SNAPSHOTS};
    use std::net::{TcpListener, TcpStream, UdpSocket};
    use std::os::fd::AsRawFd;
    use std::os::linux::net::SocketAddrExt as _;
    use std::os::unix::net::{self as unix, UnixListener, UnixStream};
    use std::time::{Duration, Instant};

    fn filter(flags: &str) -> SsFilter {
        SsFilter {
            tcp: flags.contains('t'),
            udp: flags.contains('u'),
            unix: flags.contains('x'),
            listening: flags.contains('l'),
            all: flags.contains('a'),
        }
    }

    /// `ss` as the engine runs it: a snapshot, then the listing through the same observer.
    fn listing(filter: &SsFilter, labels: &Labels) -> io::Result<Vec<String>> {
        let mut observer = Observer::new(Observed::ThisProcess);
        let now = observer.snapshot();
        observer.with_sock_diag(|sock_diag| ss_lines(sock_diag, filter, &now, labels))
    }

    /// Lists with `flags` until `done` accepts the lines (loopback handshakes finish in softirq
    /// context, not necessarily before connect returns), for up to two seconds.
    fn listing_where(
        flags: &str,
        labels: &Labels,
        done: impl Fn(&[String]) -> bool,
    ) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            let lines = listing(&filter(flags), labels).expect("ss");
            if done(&lines) {
                return lines;
            }
            assert!(
                Instant::now() < deadline,
                "timed out; last listing:\n{}",
                lines.join("\n")
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Holds off the other whole-snapshot tests for as long as it lives.
    fn serial() -> std::sync::MutexGuard<'static, ()> {
        SNAPSHOTS.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn named(fd: &impl AsRawFd, name: &str) -> Labels {
        let mut labels = Labels::default();
        labels.names.insert(fd.as_raw_fd(), name.into());
        labels
    }

    #[test]
    fn listener_with_its_queued_connection_under_it() {
        let _serial = serial();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        let client = TcpStream::connect(&addr).expect("connect");
        let client_addr = client.local_addr().expect("client").to_string();
        let labels = named(&listener, "srv");
        let mine = format!("{} srv", listener.as_raw_fd());
        let lines = listing_where("tl", &labels, |lines| {
            lines.iter().any(|l| l.contains(&client_addr))
        });
        let at = lines
            .iter()
            .position(|l| l.ends_with(&mine))
            .expect("the listener, marked with its fd and name");
        let listener_line = &lines[at];
        assert!(listener_line.starts_with("tcp ") && listener_line.contains("LISTEN"));
        assert!(listener_line.contains(&addr) && listener_line.contains("0.0.0.0:*"));
        let queued = &lines[at + 1];
        assert!(queued.starts_with("└ tcp"), "{queued}");
        assert!(
            queued.contains(&client_addr) && queued.ends_with("(queued)"),
            "{queued}"
        );
        let summary = format!(
            "fd {} (srv): 1 connection waits in the accept queue (limit 128)",
            listener.as_raw_fd()
        );
        assert!(lines.contains(&summary), "{lines:#?}");
        // -l lists no connections of its own: the client end is not there.
        assert!(!lines
            .iter()
            .any(|l| l.contains(&format!("{client_addr}  {addr}"))));
    }

    #[test]
    fn plain_ss_lists_connections_and_says_whose_queue() {
        let _serial = serial();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        let client = TcpStream::connect(&addr).expect("connect");
        let client_addr = client.local_addr().expect("client").to_string();
        let labels = named(&client, "cli");
        let queued_mark = format!("(queued on fd {})", listener.as_raw_fd());
        let lines = listing_where("t", &labels, |lines| {
            lines.iter().any(|l| l.ends_with(&queued_mark))
        });
        assert!(!lines
            .iter()
            .any(|l| l.contains(&addr) && l.contains("LISTEN")));
        let client_line = lines
            .iter()
            .find(|l| l.ends_with(&format!("{} cli", client.as_raw_fd())))
            .expect("the client end, marked");
        assert!(
            client_line.contains(&format!("{client_addr}  {addr}")),
            "{client_line}"
        );
        assert!(client_line.contains("ESTABLISHED"));
    }

    #[test]
    fn udp_is_unconn_with_l_and_hidden_without() {
        let _serial = serial();
        let udp = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let addr = udp.local_addr().expect("addr").to_string();
        let labels = Labels::default();
        let listening = listing(&filter("ul"), &labels).expect("ss");
        let line = listening
            .iter()
            .find(|l| l.contains(&addr))
            .expect("listed with -l");
        assert!(
            line.starts_with("udp ") && line.contains("UNCONN"),
            "{line}"
        );
        assert!(line.ends_with(&udp.as_raw_fd().to_string()), "{line}");
        let default = listing(&filter("u"), &labels).expect("ss");
        assert!(!default.iter().any(|l| l.contains(&addr)));
        assert!(!listing(&filter("t"), &labels)
            .expect("ss")
            .iter()
            .any(|l| l.contains(&addr)));
    }

    #[test]
    fn unix_listener_shows_its_waiting_client() {
        let _serial = serial();
        let name = format!("sockplay-ss-{}-listener", std::process::id());
        let addr = unix::SocketAddr::from_abstract_name(name.as_bytes()).expect("address");
        let listener = UnixListener::bind_addr(&addr).expect("bind");
        let client = UnixStream::connect_addr(&addr).expect("connect");
        let client_inode = crate::fdtable::inspect_fd(client.as_raw_fd())
            .expect("client")
            .inode;
        let lines = listing(&filter("xl"), &named(&listener, "u")).expect("ss");
        let at = lines
            .iter()
            .position(|l| l.contains(&format!("@{name} ")) && l.contains("LISTEN"))
            .expect("the listener");
        assert!(lines[at].ends_with(&format!("{} u", listener.as_raw_fd())));
        let waiting = &lines[at + 1];
        assert!(
            waiting.starts_with("└ u_str") && waiting.contains("ESTAB"),
            "{waiting}"
        );
        assert!(waiting.contains(&format!("* {client_inode}")), "{waiting}");
        assert!(waiting.ends_with("(queued)"));
        // Plain ss -x: the client end is a connection, shown with its fd.
        let connected = listing(&filter("x"), &Labels::default()).expect("ss");
        assert!(connected
            .iter()
            .any(|l| l.contains(&format!("* {client_inode} "))
                && l.ends_with(&client.as_raw_fd().to_string())));
    }

    #[test]
    fn kernel_strings_are_escaped() {
        let _serial = serial();
        let name = format!("sockplay-ss-{}-\u{1b}[2J\n", std::process::id());
        let addr = unix::SocketAddr::from_abstract_name(name.as_bytes()).expect("address");
        let _listener = UnixListener::bind_addr(&addr).expect("bind");
        let lines = listing(&filter("xl"), &Labels::default()).expect("ss");
        let text = lines.join("\n");
        assert!(text.contains(r"\x1b[2J\n"), "escaped");
        assert!(!text.contains('\u{1b}'));
    }
}
