//! The `ss` command's text: the [system listing](crate::fdtable::SystemListing) in `ss`'s columns
//! (Netid State Recv-Q Send-Q Local Peer), with this process's sockets marked by fd in an extra FD
//! column, the connections waiting in an accept queue under their listener, then how full this
//! process's accept queues are and what the kernel could not list.

use comfy_table::{CellAlignment, ContentArrangement, Table, TableComponent};

use crate::fdtable::{ListedEnd, ListedSocket, Owner, QueueFill, SystemListing};
use crate::net::{Endpoint, Family};
use crate::text::sanitize_line;

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

/// The lines of `ss`: the table, then one line per listener of this process whose accept queue
/// holds connections, then a note per protocol the kernel could not list.
pub fn ss_lines(listing: &SystemListing) -> Vec<String> {
    let mut table = Table::new();
    // Never let comfy-table look at stdout: the output must not depend on where it goes.
    table.force_no_tty();
    table
        .load_preset(comfy_table::presets::NOTHING)
        .set_style(TableComponent::HeaderLines, '─')
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(HEADERS);
    for socket in &listing.sockets {
        table.add_row(cells(socket).map(|cell| sanitize_line(&cell)));
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
    lines.extend(listing.queues.iter().map(queue_line));
    lines.extend(listing.unlisted.iter().map(|unlisted| {
        format!(
            "{}: this kernel's sock_diag cannot list them ({})",
            unlisted.what, unlisted.error
        )
    }));
    lines
}

/// The row of one socket, in the order of [`HEADERS`].
fn cells(socket: &ListedSocket) -> [String; 7] {
    let netid = socket.netid.name();
    [
        if socket.under_listener {
            format!("{NESTED}{netid}")
        } else {
            netid
        },
        socket.state.to_string(),
        queue_text(socket.recv_q),
        queue_text(socket.send_q),
        end_text(&socket.local),
        end_text(&socket.peer),
        owner_text(&socket.owner),
    ]
}

/// A queue size, or `-` when the kernel gives none.
fn queue_text(size: Option<u64>) -> String {
    size.map_or_else(|| "-".to_string(), |size| size.to_string())
}

/// A Local or Peer cell, as `ss -n` writes it: `127.0.0.1:8080`, `[::1]:80`, `0.0.0.0:*` for
/// none; for Unix sockets the name (or `*`) and the inode (or `*`).
fn end_text(end: &ListedEnd) -> String {
    match end {
        ListedEnd::Inet { address, family } => address
            .as_ref()
            .map_or_else(|| wildcard(*family).to_string(), ToString::to_string),
        ListedEnd::Unix { name, inode } => format!(
            "{} {}",
            name_or_star(name.as_ref()),
            inode.map_or_else(|| "*".to_string(), |inode| inode.to_string())
        ),
    }
}

/// A Unix socket's name, or `*` for an unnamed one.
fn name_or_star(name: Option<&Endpoint>) -> String {
    name.map_or_else(|| "*".to_string(), ToString::to_string)
}

/// What `ss` writes for "any address, any port" in a family.
fn wildcard(family: Family) -> &'static str {
    match family {
        Family::Inet6 => "[::]:*",
        _ => "0.0.0.0:*",
    }
}

/// The FD cell: `3 srv`, `3, 7 srv`, `-` for another process's socket, `(queued)`.
fn owner_text(owner: &Owner) -> String {
    match owner {
        Owner::Other => "-".into(),
        Owner::Ours { fds, name } => {
            let numbers: Vec<String> = fds.iter().map(i32::to_string).collect();
            let mut text = numbers.join(", ");
            if let Some(name) = name {
                text.push(' ');
                text.push_str(&sanitize_line(name));
            }
            text
        }
        Owner::Queued => QUEUED.into(),
        Owner::QueuedOn(fd) => format!("(queued on fd {fd})"),
    }
}

/// `fd 3 (srv): 2 connections wait in the accept queue (limit 128)`.
fn queue_line(queue: &QueueFill) -> String {
    let listener = match &queue.name {
        Some(name) => format!("fd {} ({})", queue.fd, sanitize_line(name)),
        None => format!("fd {}", queue.fd),
    };
    let waiting = match queue.waiting {
        1 => "1 connection waits".to_string(),
        n => format!("{n} connections wait"),
    };
    format!(
        "{listener}: {waiting} in the accept queue (limit {})",
        queue.limit
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fdtable::{system_listing, Labels, Observed, Observer, SNAPSHOTS};
    use crate::lang::SsFilter;
    use crate::net::TcpState;
    use std::io;
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
        observer
            .with_sock_diag(|sock_diag| system_listing(sock_diag, filter, &now, labels))
            .map(|listing| ss_lines(&listing))
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
    fn a_listing_is_laid_out_in_ss_columns_with_queues_and_what_could_not_be_listed() {
        let inet = |text: &str| ListedEnd::Inet {
            address: Some(Endpoint::inet(text.parse().expect("an address"))),
            family: Family::Inet,
        };
        let listener = ListedSocket {
            netid: crate::fdtable::diag::Netid::Tcp,
            under_listener: false,
            state: TcpState::Listen.name(),
            recv_q: Some(1),
            send_q: Some(128),
            local: inet("127.0.0.1:8080"),
            peer: ListedEnd::Inet {
                address: None,
                family: Family::Inet,
            },
            owner: Owner::Ours {
                fds: vec![3, 7],
                name: Some("srv\u{1b}".into()),
            },
        };
        let queued = ListedSocket {
            under_listener: true,
            state: "ESTAB",
            recv_q: None,
            send_q: None,
            local: ListedEnd::Unix {
                name: None,
                inode: None,
            },
            peer: ListedEnd::Unix {
                name: None,
                inode: Some(42),
            },
            owner: Owner::Queued,
            ..listener.clone()
        };
        let listing = SystemListing {
            sockets: vec![listener, queued],
            queues: vec![QueueFill {
                fd: 3,
                name: Some("srv".into()),
                waiting: 2,
                limit: 128,
            }],
            unlisted: vec![crate::fdtable::Unlisted {
                what: "tcp6",
                error: io::Error::other("no IPv6 here"),
            }],
        };
        let lines = ss_lines(&listing);
        let words: Vec<Vec<&str>> = lines
            .iter()
            .map(|line| line.split_whitespace().collect())
            .collect();
        assert_eq!(
            words[0],
            ["Netid", "State", "Recv-Q", "Send-Q", "Local", "Peer", "FD"]
        );
        assert_eq!(
            words[2],
            [
                "tcp",
                TcpState::Listen.name(),
                "1",
                "128",
                "127.0.0.1:8080",
                "0.0.0.0:*",
                "3,",
                "7",
                "srv\\x1b"
            ]
        );
        assert_eq!(
            words[3],
            ["└", "tcp", "ESTAB", "-", "-", "*", "*", "*", "42", "(queued)"]
        );
        assert_eq!(
            lines[4..],
            [
                "fd 3 (srv): 2 connections wait in the accept queue (limit 128)".to_string(),
                "tcp6: this kernel's sock_diag cannot list them (no IPv6 here)".to_string(),
            ]
        );
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
        assert!(
            listener_line.starts_with("tcp ") && listener_line.contains(TcpState::Listen.name())
        );
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
            .any(|l| l.contains(&addr) && l.contains(TcpState::Listen.name())));
        let client_line = lines
            .iter()
            .find(|l| l.ends_with(&format!("{} cli", client.as_raw_fd())))
            .expect("the client end, marked");
        // Columns are padded to the widest address, so compare the cells, not the spacing.
        let cells: Vec<&str> = client_line.split_whitespace().collect();
        assert!(
            cells
                .windows(2)
                .any(|pair| pair == [client_addr.as_str(), addr.as_str()]),
            "{client_line}"
        );
        assert!(client_line.contains(TcpState::Established.name()));
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
            .position(|l| l.contains(&format!("@{name} ")) && l.contains(TcpState::Listen.name()))
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
