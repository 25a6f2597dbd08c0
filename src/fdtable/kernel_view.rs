//! What only sock_diag can add to a snapshot: the connections waiting in each listener's accept
//! queue (real sockets with no fd yet), a Unix listener's queue length and limit (the ioctls cannot
//! give them), and each Unix socket's peer inode (so the panel can pair socketpair ends).
//!
//! It asks the kernel only when the table has something to ask about — a TCP listener whose accept
//! queue is not empty, a Unix listener, or a connected Unix socket — so ordinary steps cost no
//! netlink round trip. When the query fails (EMFILE with a full fd table, no sock_diag in the
//! kernel) the snapshot simply goes without these extras.

use std::collections::HashMap;

use super::diag::{self, DiagSocket, Netid, SockDiag, States};
use super::{FdRow, Kind, Observer, PendingConn, Snapshot};
use crate::net::{Family, SockState, SockType, TcpState};

/// The state a pending Unix connection is shown in: the kernel has connected it to its client.
const UNIX_PENDING_STATE: SockState = SockState::Connected;

/// Adds the accept queues, Unix listener queues and Unix peers to `snapshot`, if it has any
/// socket they concern, asking through the sock_diag socket of `observer`.
pub(super) fn add_kernel_view(snapshot: &mut Snapshot, observer: &mut Observer) {
    // TCP_INFO already said how many connections each listener's queue holds. An empty queue
    // can only have half-open handshakes, which on loopback last microseconds; when the queue is
    // full they linger, and then the listener is asked about anyway. So only listeners with
    // something queued (or an unknown count) cost a dump, and a server waiting in `accept`
    // costs none.
    let tcp_listeners: Vec<&FdRow> = snapshot
        .rows
        .iter()
        .filter(|r| is_tcp_listener(r) && r.recv_q != Some(0))
        .collect();
    // A connected socket needs its peer's inode to pair (with an end in this process or in
    // another one); a listener needs its queue numbers.
    let unix_in = |state: SockState| {
        snapshot
            .rows
            .iter()
            .filter(|r| is_unix(r) && r.state == Some(state))
            .count()
    };
    let wants_unix = unix_in(SockState::Listen) > 0 || unix_in(SockState::Connected) > 0;
    if tcp_listeners.is_empty() && !wants_unix {
        return;
    }
    let mut pending = Vec::new();
    // The observer's own netlink socket when it has one, so this works with a full fd table.
    if !tcp_listeners.is_empty() {
        if let Ok(queued) = observer.with_sock_diag(|diag| tcp_pending(diag, &tcp_listeners)) {
            pending.extend(queued);
        }
    }
    if wants_unix {
        if let Ok(sockets) = observer.with_sock_diag(|diag| diag::unix(diag, States::ALL)) {
            pending.extend(add_unix_view(&mut snapshot.rows, &sockets));
        }
    }
    // Stable: each listener's connections keep the order they were found in.
    pending.sort_by_key(|p| p.listener_fd);
    snapshot.pending = pending;
}

/// Whether a row is a TCP socket in LISTEN (or an MPTCP one, which lists its state as a Unix
/// socket would).
fn is_tcp_listener(row: &FdRow) -> bool {
    row.kind == Kind::Socket
        && row.family.is_some_and(Family::is_inet)
        && row.sock_type == Some(SockType::Stream)
        && row.state.is_some_and(SockState::is_listening)
}

/// Whether a row is a Unix socket.
fn is_unix(row: &FdRow) -> bool {
    row.kind == Kind::Socket && row.family == Some(Family::Unix)
}

/// Finds the connections waiting in the accept queues of `listeners`.
///
/// The kernel lists them as sockets of inode 0 on the listener's port, in SYN_RECV, ESTABLISHED
/// or CLOSE_WAIT; the dump asks for exactly those states and (by a filter program in the kernel)
/// those ports, and includes the listeners themselves to learn their exact bound addresses.
fn tcp_pending(diag: &mut SockDiag, listeners: &[&FdRow]) -> std::io::Result<Vec<PendingConn>> {
    let ports: Vec<u16> = listeners
        .iter()
        .filter_map(|r| r.local.as_ref()?.inet_addr())
        .map(|a| a.port())
        .collect();
    let states = States::of(&diag::QUEUED_STATES).with(States::of(&[TcpState::Listen]));
    let mut sockets = diag::inet(diag, Family::Inet, Netid::Tcp, states, &ports)?;
    // An IPv6 listener's connections from IPv4 clients may be listed under either family.
    if listeners.iter().any(|r| r.family == Some(Family::Inet6)) {
        sockets.extend(diag::inet(diag, Family::Inet6, Netid::Tcp, states, &ports)?);
    }
    let by_inode: HashMap<u64, &DiagSocket> = sockets
        .iter()
        .filter(|s| s.is_in(TcpState::Listen) && s.inode != 0)
        .map(|s| (s.inode, s))
        .collect();
    let mut pending = Vec::new();
    for socket in sockets.iter().filter(|s| s.inode == 0) {
        // Listeners come in fd order, so a connection goes under the lowest fd that matches.
        let Some((listener, _)) = listeners
            .iter()
            .filter_map(|r| Some((*r, *by_inode.get(&r.inode)?)))
            .find(|(_, l)| socket.is_queued_on(l))
        else {
            continue;
        };
        let (Some(family), Some(state)) = (listener.family, socket.tcp_state()) else {
            continue;
        };
        pending.push(PendingConn {
            listener_fd: listener.fd,
            family,
            sock_type: SockType::Stream,
            local: socket.local.clone(),
            remote: socket.remote.clone(),
            state: SockState::Tcp(state),
            peer_inode: None,
            recv_q: Some(socket.recv_q),
            send_q: Some(socket.send_q),
        });
    }
    // The kernel lists connections in hash order; by client address (as shown) they stay put
    // between steps.
    pending.sort_by_cached_key(|p| p.remote.as_ref().map(ToString::to_string));
    Ok(pending)
}

/// Gives the Unix rows their peer inodes and their listeners the accept queue's length and limit,
/// and returns the connections waiting on those listeners.
fn add_unix_view(rows: &mut [FdRow], sockets: &[DiagSocket]) -> Vec<PendingConn> {
    let by_inode: HashMap<u64, &DiagSocket> = sockets.iter().map(|s| (s.inode, s)).collect();
    let mut pending = Vec::new();
    let mut listed = Vec::new();
    for row in rows.iter_mut() {
        if !is_unix(row) {
            continue;
        }
        let Some(socket) = by_inode.get(&row.inode) else {
            continue;
        };
        row.peer_inode = socket.peer_inode;
        if !socket.is_in(TcpState::Listen) {
            continue;
        }
        // For a listener the kernel reports the accept queue here, as `ss` shows it.
        row.recv_q = Some(socket.recv_q);
        row.send_q = Some(socket.send_q);
        // A dup'ed listener's queue is shown once, under its lowest fd (rows are in fd order).
        if listed.contains(&row.inode) {
            continue;
        }
        listed.push(row.inode);
        for &client in &socket.pending {
            let client = (client != 0).then_some(client);
            pending.push(PendingConn {
                listener_fd: row.fd,
                family: Family::Unix,
                sock_type: socket.netid.sock_type(),
                local: row.local.clone(),
                remote: client
                    .and_then(|c| by_inode.get(&c))
                    .and_then(|c| c.local.clone()),
                state: UNIX_PENDING_STATE,
                peer_inode: client,
                recv_q: None,
                send_q: None,
            });
        }
    }
    pending
}

#[cfg(test)]
mod tests {
    use super::super::{inspect_fd, shown, Observed, SNAPSHOTS};
    use super::*;
    use std::io::Write as _;
    use std::net::{TcpListener, TcpStream};
    use std::os::fd::AsRawFd;
    use std::os::linux::net::SocketAddrExt as _;
    use std::os::unix::net::{self as unix, UnixListener, UnixStream};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    /// A snapshot of this process by an observer of its own.
    fn snapshot() -> Snapshot {
        Observer::new(Observed::ThisProcess).snapshot()
    }

    /// Takes snapshots until `check` accepts one (loopback handshakes finish in softirq context,
    /// not necessarily before connect returns), for up to two seconds.
    fn snapshot_where(what: &str, check: impl Fn(&Snapshot) -> bool) -> Snapshot {
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            let s = snapshot();
            if check(&s) {
                return s;
            }
            assert!(Instant::now() < deadline, "timed out waiting until {what}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn unique_abstract_name(tag: &str) -> Vec<u8> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        format!("sockplay-kview-{}-{n}-{tag}", std::process::id()).into_bytes()
    }

    /// Holds off the other whole-snapshot tests for as long as it lives.
    fn serial() -> std::sync::MutexGuard<'static, ()> {
        SNAPSHOTS.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn pending_of(s: &Snapshot, fd: i32) -> Vec<PendingConn> {
        s.pending
            .iter()
            .filter(|p| p.listener_fd == fd)
            .cloned()
            .collect()
    }

    #[test]
    fn tcp_accept_queue_appears_under_its_listener_until_accept() {
        let _serial = serial();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let fd = listener.as_raw_fd();
        let client = TcpStream::connect(addr).expect("connect");
        let client_addr = client.local_addr().expect("client addr");

        // The queued socket is SYN_RECV until the client's final ACK has been processed.
        let s = snapshot_where("the connection is queued and complete", |s| {
            let queued = pending_of(s, fd);
            queued.len() == 1 && queued[0].state == SockState::Tcp(TcpState::Established)
        });
        let queued = &pending_of(&s, fd)[0];
        assert_eq!(queued.label(), "tcp");
        assert_eq!(shown(&queued.local), Some(addr.to_string()));
        assert_eq!(shown(&queued.remote), Some(client_addr.to_string()));
        assert_eq!(queued.state, SockState::Tcp(TcpState::Established));
        assert_eq!(queued.peer_inode, None);
        assert_eq!((queued.recv_q, queued.send_q), (Some(0), Some(0)));

        // Data the client sends before accept waits in the queued socket.
        (&client).write_all(b"early").expect("send");
        let s = snapshot_where("the early bytes are queued", |s| {
            pending_of(s, fd).first().and_then(|p| p.recv_q) == Some(5)
        });
        assert_eq!(pending_of(&s, fd).len(), 1);

        let (accepted, _) = listener.accept().expect("accept");
        let s = snapshot();
        assert!(pending_of(&s, fd).is_empty(), "{:#?}", s.pending);
        let row = s.get(accepted.as_raw_fd()).expect("the accepted fd");
        assert_eq!(shown(&row.local), Some(addr.to_string()));
    }

    #[test]
    fn wildcard_listener_owns_loopback_connections() {
        let _serial = serial();
        let listener = TcpListener::bind("0.0.0.0:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let fd = listener.as_raw_fd();
        let _client = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        let s = snapshot_where("the connection is queued", |s| pending_of(s, fd).len() == 1);
        assert_eq!(
            shown(&pending_of(&s, fd)[0].local),
            Some(format!("127.0.0.1:{port}"))
        );
    }

    #[test]
    fn unix_listener_gets_queue_numbers_and_pending_clients() {
        let _serial = serial();
        let name = unique_abstract_name("listener");
        let addr = unix::SocketAddr::from_abstract_name(&name).expect("abstract address");
        let listener = UnixListener::bind_addr(&addr).expect("bind");
        // Listening again changes the backlog: 7 tells the limit apart from any default.
        nix::sys::socket::listen(
            &listener,
            nix::sys::socket::Backlog::new(7).expect("backlog"),
        )
        .expect("listen");
        let fd = listener.as_raw_fd();
        let client = UnixStream::connect_addr(&addr).expect("connect");
        let client_inode = inspect_fd(client.as_raw_fd()).expect("client").inode;

        let s = snapshot();
        let row = s.get(fd).expect("listener row");
        assert_eq!((row.recv_q, row.send_q), (Some(1), Some(7)));
        let queued = pending_of(&s, fd);
        assert_eq!(queued.len(), 1, "{queued:#?}");
        let expected_local = format!("@{}", String::from_utf8(name).expect("ascii"));
        assert_eq!(
            shown(&queued[0].local).as_deref(),
            Some(expected_local.as_str())
        );
        assert_eq!(queued[0].remote, None, "the client is unnamed");
        assert_eq!(queued[0].state.name(), "CONNECTED");
        assert_eq!(queued[0].peer_inode, Some(client_inode));
        assert_eq!(queued[0].label(), "unix/stream");

        let (accepted, _) = listener.accept().expect("accept");
        let s = snapshot();
        assert!(pending_of(&s, fd).is_empty());
        assert_eq!(s.get(fd).expect("listener").recv_q, Some(0));
        // Now the two ends are each other's peers.
        let server_end = s.get(accepted.as_raw_fd()).expect("accepted");
        let client_end = s.get(client.as_raw_fd()).expect("client");
        assert_eq!(server_end.peer_inode, Some(client_end.inode));
        assert_eq!(client_end.peer_inode, Some(server_end.inode));
    }

    #[test]
    fn socketpair_ends_know_each_others_inode() {
        let _serial = serial();
        let (a, b) = UnixStream::pair().expect("socketpair");
        let s = snapshot();
        let (ra, rb) = (
            s.get(a.as_raw_fd()).expect("a"),
            s.get(b.as_raw_fd()).expect("b"),
        );
        assert_eq!(ra.peer_inode, Some(rb.inode));
        assert_eq!(rb.peer_inode, Some(ra.inode));
    }

    #[test]
    fn path_listener_row_matches_diag_name() {
        let _serial = serial();
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("kview.sock");
        let listener = UnixListener::bind(&path).expect("bind");
        let s = snapshot();
        let row = s.get(listener.as_raw_fd()).expect("row");
        assert_eq!(shown(&row.local), Some(path.display().to_string()));
        assert_eq!(row.recv_q, Some(0));
    }

    /// Runs in a child process (this test binary again): a full fd table would make the tests
    /// running alongside fail with EMFILE.
    #[test]
    fn full_fd_table_degrades_to_the_plain_table() {
        const CHILD: &str = "SOCKPLAY_KERNEL_VIEW_FULL_TABLE_CHILD";
        if std::env::var_os(CHILD).is_none() {
            let module = module_path!().split_once("::").expect("crate::module").1;
            let name = format!("{module}::full_fd_table_degrades_to_the_plain_table");
            let output = std::process::Command::new(std::env::current_exe().expect("test binary"))
                .args(["--exact", &name, "--test-threads=1"])
                .env(CHILD, "1")
                .output()
                .expect("run the child");
            let stdout = String::from_utf8_lossy(&output.stdout);
            assert!(
                output.status.success() && stdout.contains("1 passed"),
                "the full-table child failed or did not run:\n{stdout}\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
            return;
        }
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let _client = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
        snapshot_where("the connection is queued", |s| !s.pending.is_empty());

        let (_, hard) = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
            .expect("getrlimit");
        nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE, 64, hard)
            .expect("setrlimit");
        let mut files = Vec::new();
        while let Ok(file) = std::fs::File::open("/dev/null") {
            files.push(file);
        }
        let err = SockDiag::open().expect_err("the table is full");
        assert_eq!(err.raw_os_error(), Some(nix::errno::Errno::EMFILE as i32));
        let s = snapshot();
        let row = s.get(listener.as_raw_fd()).expect("listener still listed");
        assert_eq!(row.state, Some(SockState::Tcp(TcpState::Listen)));
        assert_eq!(row.recv_q, Some(1), "TCP_INFO still gives the queue");
        assert!(s.pending.is_empty(), "no sock_diag, no pending rows");
    }
}
