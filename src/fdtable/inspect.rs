//! Describing descriptors: [`inspect_fd`] turns one fd of this process into an [`FdRow`] with a
//! handful of per-fd syscalls (fstat, readlink of `/proc/self/fd/N`, and for sockets
//! getsockname/getpeername, getsockopt, TCP_INFO and the queue ioctls), and [`describe_all`] does
//! that for many fds at once, reusing what an [`Observer`](super::Observer) learnt last time.

use crate::text::escape_bytes;

use std::ffi::CStr;
use std::io::Write as _;
use std::os::fd::RawFd;
use std::sync::Arc;

use socket2::SockAddr;

use super::{FdRow, Kind};
use crate::net::{Endpoint, Family, SockState, SockType, TcpState};
use crate::sys::descriptor::{fstat, is_terminal, FileType};
use crate::sys::fs::{readlink, PATH_MAX};
use crate::sys::socket::SocketFd;

/// Describes the fd `fd` of this process, or returns None if it is not open.
///
/// The kind comes from `fstat`; non-sockets get their `/proc/self/fd/N` link as target, sockets
/// their family, type, addresses, state and queues.
pub fn inspect_fd(fd: i32) -> Option<FdRow> {
    inspect_fd_with(fd, None).map(|(row, _)| row)
}

/// The inodes of every fd open in this process now, in fd order (one fstat per fd).
pub fn open_inodes() -> Vec<u64> {
    super::open_fds()
        .into_iter()
        .filter_map(|fd| fstat(fd).ok())
        .map(|stat| stat.ino)
        .collect()
}

/// Describes `fd`, reusing what `known` says cannot have changed when it is about the same open
/// object (same device and inode); returns the row and what is fixed about it for the next time.
fn inspect_fd_with(fd: i32, known: Option<&Arc<Fixed>>) -> Option<(FdRow, Option<Arc<Fixed>>)> {
    let stat = fstat(fd).ok()?;
    let mut row = FdRow::blank(fd, stat.ino);
    let identity = (stat.dev, stat.ino);
    if stat.file_type == FileType::Socket {
        row.kind = Kind::Socket;
        let known = known.filter(|k| (k.dev, k.ino) == identity);
        let fixed = describe_socket(&mut row, SocketFd::new(fd), identity, known);
        row.dual_stack = is_dual_stack(&row, SocketFd::new(fd));
        return Some((row, Some(fixed)));
    }
    // A pipe, a terminal or an anonymous inode keeps its kind and link for as long as the same
    // inode sits on the fd; a regular file's path can change (rename), so it is read every time.
    if let Some(known) = known.filter(|k| (k.dev, k.ino) == identity && k.kind.is_some()) {
        row.kind = known.kind.unwrap_or(Kind::Other);
        row.target = known.target.clone();
        return Some((row, Some(Arc::clone(known))));
    }
    row.kind = match stat.file_type {
        FileType::Fifo => Kind::Pipe,
        FileType::CharDevice if is_terminal(fd) => Kind::Tty,
        FileType::CharDevice
        | FileType::Regular
        | FileType::Directory
        | FileType::BlockDevice
        | FileType::Symlink => Kind::File,
        // Anonymous inodes (epoll, eventfd, timerfd, pidfd, …) carry no file type bits.
        FileType::Socket | FileType::Unknown => Kind::Other,
    };
    row.target = fd_target(fd);
    // Some kernels give anonymous inodes S_IFREG; their link still gives them away.
    if row.kind == Kind::File
        && row
            .target
            .as_deref()
            .is_some_and(|t| t.starts_with("anon_inode:"))
    {
        row.kind = Kind::Other;
    }
    let lasting = !matches!(stat.file_type, FileType::Regular | FileType::Directory);
    let fixed = lasting.then(|| {
        Arc::new(Fixed {
            dev: identity.0,
            ino: identity.1,
            family: None,
            sock_type: None,
            addrs: None,
            kind: Some(row.kind),
            target: row.target.clone(),
        })
    });
    Some((row, fixed))
}

/// What cannot change about a socket while the same (device, inode) sits on its fd: its family
/// and type, and the addresses of a TCP socket that is listening or connected.
#[derive(Debug, Clone)]
pub(super) struct Fixed {
    dev: u64,
    ino: u64,
    family: Option<Family>,
    sock_type: Option<SockType>,
    /// (local, remote) of a TCP socket past the handshake or listening.
    addrs: Option<(Option<Endpoint>, Option<Endpoint>)>,
    /// For a pipe, terminal or anonymous inode: its kind and link (None for sockets).
    kind: Option<Kind>,
    target: Option<String>,
}

/// What an observer learnt about each fd, by fd number.
pub(super) type Known = Vec<Option<Arc<Fixed>>>;

/// What the cache knows about `fd`, if anything.
fn known_about(known: &[Option<Arc<Fixed>>], fd: RawFd) -> Option<&Arc<Fixed>> {
    known.get(usize::try_from(fd).ok()?)?.as_ref()
}

/// Rows, each with what is fixed about its fd for the next time.
pub(super) type Described = Vec<(FdRow, Option<Arc<Fixed>>)>;

/// Describes `fds` of this process (in no particular order), leaving out any that are not open,
/// on `workers` threads, reusing what `known` says.
pub(super) fn describe_all(
    fds: &[RawFd],
    workers: usize,
    known: &[Option<Arc<Fixed>>],
) -> Described {
    if workers < 2 {
        inspect_each(fds, known)
    } else {
        inspect_in_parallel(fds, workers, known)
    }
}

/// Describes `fds` on this thread.
fn inspect_each(fds: &[RawFd], known: &[Option<Arc<Fixed>>]) -> Described {
    fds.iter()
        .filter_map(|&fd| inspect_fd_with(fd, known_about(known, fd)))
        .collect()
}

/// Describes `fds` in `workers` shares, one on this thread and the others on scoped threads; a
/// share whose thread cannot be started is done here too.
fn inspect_in_parallel(fds: &[RawFd], workers: usize, known: &[Option<Arc<Fixed>>]) -> Described {
    let share = fds.len().div_ceil(workers);
    let mut shares = fds.chunks(share);
    let own = shares.next().unwrap_or_default();
    std::thread::scope(|scope| {
        let started: Vec<_> = shares
            .map(|share| {
                let thread = std::thread::Builder::new()
                    .name("fdtable".into())
                    .spawn_scoped(scope, move || inspect_each(share, known));
                (share, thread)
            })
            .collect();
        let mut rows = inspect_each(own, known);
        for (share, thread) in started {
            match thread {
                Ok(thread) => match thread.join() {
                    Ok(part) => rows.extend(part),
                    Err(panic) => std::panic::resume_unwind(panic),
                },
                Err(_) => rows.extend(inspect_each(share, known)),
            }
        }
        rows
    })
}

/// Reads the `/proc/self/fd/N` link (`/dev/pts/0`, `pipe:[1234]`, `anon_inode:[eventpoll]`), with
/// unprintable bytes escaped; both buffers live on the stack, so only the result allocates.
fn fd_target(fd: RawFd) -> Option<String> {
    // "/proc/self/fd/" plus at most 11 characters of an i32 plus the NUL fits easily.
    let mut path = [0u8; 32];
    write!(&mut path[..], "/proc/self/fd/{fd}\0").ok()?;
    let path = CStr::from_bytes_until_nul(&path).ok()?;
    let mut link = [0u8; PATH_MAX];
    let link = readlink(path, &mut link).ok()?;
    let mut target = String::with_capacity(link.len());
    push_escaped(&mut target, link);
    Some(target)
}

/// Fills in the socket half of `row`: family, type, addresses, state and queues. What `known`
/// says is fixed is not asked again; returns what is fixed now.
fn describe_socket(
    row: &mut FdRow,
    socket: SocketFd,
    (dev, ino): (u64, u64),
    known: Option<&Arc<Fixed>>,
) -> Arc<Fixed> {
    // getsockname tells the family too; SO_DOMAIN costs a syscall only when it failed.
    let mut local_asked: Option<Option<SockAddr>> = None;
    let (family, sock_type) = match known {
        Some(known) => (known.family, known.sock_type),
        None => {
            let local = socket.local_addr().ok();
            let family = match &local {
                Some(addr) => Some(i32::from(addr.family())),
                None => socket.family().ok(),
            };
            local_asked = Some(local);
            let sock_type = socket.sock_type().ok();
            (
                family.map(Family::from_number),
                sock_type.map(SockType::from_number),
            )
        }
    };
    let mut fixed = Fixed {
        dev,
        ino,
        family,
        sock_type,
        addrs: None,
        kind: None,
        target: None,
    };
    row.family = family;
    row.sock_type = sock_type;
    let mut local = || {
        local_asked
            .take()
            .unwrap_or_else(|| socket.local_addr().ok())
            .as_ref()
            .and_then(local_endpoint)
    };

    let is_inet = family.is_some_and(Family::is_inet);
    if is_inet && sock_type == Some(SockType::Stream) {
        // MPTCP is an inet stream without TCP_INFO; it falls through to the generic state.
        if let Ok(info) = socket.tcp_info() {
            let state = TcpState::from_number(info.state);
            row.state = state.map(SockState::Tcp);
            let listening = state == Some(TcpState::Listen);
            // Past the handshake (or listening) a TCP socket's addresses are set for good; in CLOSE
            // or SYN_SENT getpeername says ENOTCONN, so those are asked every time.
            let settled = !matches!(state, Some(TcpState::Close | TcpState::SynSent));
            let cached = known.filter(|k| settled && k.addrs.is_some());
            let fixed = match cached {
                Some(known) => Arc::clone(known),
                None => {
                    let remote = if listening {
                        None
                    } else {
                        socket.peer_addr().ok().as_ref().and_then(peer_endpoint)
                    };
                    if settled {
                        fixed.addrs = Some((local(), remote));
                    } else {
                        row.local = local();
                        row.remote = remote;
                    }
                    Arc::new(fixed)
                }
            };
            if let Some((local, remote)) = &fixed.addrs {
                row.local.clone_from(local);
                row.remote.clone_from(remote);
            }
            if listening {
                // For a listener the kernel reuses these two fields for its accept queue (length
                // and limit), which is what `ss` shows as Recv-Q and Send-Q; SIOCINQ would fail.
                row.recv_q = Some(info.unacked.into());
                row.send_q = Some(info.sacked.into());
            } else {
                row.recv_q = socket.unread_bytes().ok();
                row.send_q = socket.unsent_bytes().ok();
            }
            return fixed;
        }
    }
    row.local = local();
    let peer = socket.peer_addr().ok();
    row.remote = peer.as_ref().and_then(peer_endpoint);
    if is_inet || family == Some(Family::Unix) {
        let state = connection_state(socket, peer.is_some(), sock_type);
        row.state = Some(state);
        if state == SockState::Listen {
            // A Unix listener answers SIOCINQ with EINVAL and SIOCOUTQ with 0, which would read
            // as a backlog limit of 0; no numbers beat wrong ones.
            return known.cloned().unwrap_or_else(|| Arc::new(fixed));
        }
    }
    row.recv_q = socket.unread_bytes().ok();
    row.send_q = socket.unsent_bytes().ok();
    if sock_type == Some(SockType::Dgram) {
        // FIONREAD on a datagram socket is the next datagram's size: what one recv returns.
        // (For UDP, `ss` shows the memory of the whole queue instead, which sock_diag adds.)
        row.next_datagram = row.recv_q.filter(|&n| n > 0);
    }
    // Only family and type are fixed here, and a known entry already says them.
    known.cloned().unwrap_or_else(|| Arc::new(fixed))
}

/// Whether a socket is IPv6 on the wildcard address and takes IPv4 too (IPV6_V6ONLY off). Only
/// such a socket is asked: on any other address the option changes nothing.
fn is_dual_stack(row: &FdRow, socket: SocketFd) -> bool {
    let on_wildcard = row
        .local
        .as_ref()
        .and_then(Endpoint::inet_addr)
        .is_some_and(|addr| addr.is_ipv6() && addr.ip().is_unspecified());
    row.family == Some(Family::Inet6) && on_wildcard && socket.only_v6().is_ok_and(|only| !only)
}

/// The UDP/Unix state: listening, connected or unconnected.
fn connection_state(socket: SocketFd, has_peer: bool, sock_type: Option<SockType>) -> SockState {
    if has_peer {
        // A listener never has a peer, so SO_ACCEPTCONN need not be asked.
        return SockState::Connected;
    }
    let can_listen = matches!(sock_type, Some(SockType::Stream | SockType::Seqpacket));
    if can_listen && socket.is_listener().unwrap_or(false) {
        SockState::Listen
    } else {
        SockState::Unconnected
    }
}

/// A socket's bound address; None for an unbound inet socket (wildcard address, port 0), an
/// unnamed Unix socket, and families without an address here.
fn local_endpoint(addr: &SockAddr) -> Option<Endpoint> {
    match addr.as_socket() {
        Some(inet) => Endpoint::inet_if_set(inet),
        None => peer_endpoint(addr),
    }
}

/// A socket's peer address; None for an unnamed Unix peer and families without an address here.
fn peer_endpoint(addr: &SockAddr) -> Option<Endpoint> {
    Endpoint::of(addr).and_then(Endpoint::named)
}

/// Formats an address as the panel shows it: `127.0.0.1:8080`, `[::1]:8080`, `/tmp/x.sock`,
/// `@name`; None for an unnamed Unix address and for families without a text form here.
pub fn format_address(addr: &SockAddr) -> Option<String> {
    peer_endpoint(addr).map(|endpoint| endpoint.to_string())
}

/// Appends `bytes` to `out` in the project's one escape language (see [`escape_bytes`]), so paths
/// and abstract names are safe to print and decode back to the exact bytes.
fn push_escaped(out: &mut String, bytes: &[u8]) {
    out.push_str(&escape_bytes(bytes));
}

impl FdRow {
    /// A row for `fd` with only the fields every fd has; the rest is filled in by kind.
    fn blank(fd: RawFd, inode: u64) -> FdRow {
        FdRow {
            fd,
            kind: Kind::Other,
            inode,
            family: None,
            sock_type: None,
            local: None,
            remote: None,
            state: None,
            recv_q: None,
            send_q: None,
            next_datagram: None,
            target: None,
            peer_inode: None,
            dual_stack: false,
            watches: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read as _;
    use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
    use std::os::fd::{AsFd as _, AsRawFd};
    use std::os::linux::net::SocketAddrExt as _;
    use std::os::unix::net::{self as unix, UnixDatagram, UnixListener, UnixStream};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    use nix::sys::resource::{getrlimit, Resource};
    use socket2::{Domain, Socket, Type};

    use super::super::{shown, Observed, Observer, Snapshot, SNAPSHOTS};

    fn row(fd: &impl AsRawFd) -> FdRow {
        inspect_fd(fd.as_raw_fd()).expect("the fd is open")
    }

    /// Polls `condition` for up to two seconds: loopback TCP moves on in softirq context, not
    /// necessarily before the syscall that triggered it returns.
    fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(2);
        while !condition() {
            assert!(Instant::now() < deadline, "timed out waiting until {what}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// An abstract Unix name no parallel test (or other test run) uses.
    fn unique_abstract_name(tag: &str) -> Vec<u8> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        format!("sockplay-fdtable-{}-{n}-{tag}", std::process::id()).into_bytes()
    }

    fn state(row: &FdRow) -> &'static str {
        row.state.map_or("<none>", SockState::name)
    }

    #[test]
    fn tcp_listener_shows_listen_and_its_accept_queue() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("local_addr");
        let before = row(&listener);
        assert_eq!(before.kind, Kind::Socket);
        assert_eq!(before.family, Some(Family::Inet));
        assert_eq!(before.sock_type, Some(SockType::Stream));
        assert_eq!(before.state, Some(SockState::Tcp(TcpState::Listen)));
        assert_eq!(shown(&before.local), Some(addr.to_string()));
        assert_eq!(before.remote, None);
        assert_eq!(before.recv_q, Some(0));
        assert_eq!(
            before.send_q,
            Some(128),
            "std listens with a backlog of 128"
        );
        assert_eq!(before.target, None);
        assert_eq!(before.label(), "tcp");

        let _client = TcpStream::connect(addr).expect("connect");
        wait_until("the connection waits in the accept queue", || {
            row(&listener).recv_q == Some(1)
        });
        assert_eq!(row(&listener).send_q, Some(128));
    }

    #[test]
    fn tcp_listener_send_q_is_the_backlog_it_was_given() {
        let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
        socket
            .bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
            .expect("bind");
        socket.listen(7).expect("listen");
        let listener = row(&socket);
        assert_eq!(listener.state, Some(SockState::Tcp(TcpState::Listen)));
        assert_eq!((listener.recv_q, listener.send_q), (Some(0), Some(7)));
    }

    #[test]
    fn tcp_connection_is_established_on_both_ends_then_close_wait() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let client = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
        let (server, _) = listener.accept().expect("accept");
        let (c, s) = (row(&client), row(&server));
        assert_eq!(c.state, Some(SockState::Tcp(TcpState::Established)));
        assert_eq!(s.state, Some(SockState::Tcp(TcpState::Established)));
        assert!(c.local.is_some() && s.local.is_some());
        assert_eq!(c.local, s.remote);
        assert_eq!(c.remote, s.local);
        assert_eq!(
            shown(&s.local),
            Some(listener.local_addr().expect("addr").to_string())
        );
        assert_eq!((s.recv_q, s.send_q), (Some(0), Some(0)));

        drop(client);
        wait_until("the server end sees the FIN", || {
            row(&server).state == Some(SockState::Tcp(TcpState::CloseWait))
        });
        // The peer's fd is gone, but the connection's addresses are still the server's to show.
        assert!(row(&server).remote.is_some());
    }

    #[test]
    fn unread_bytes_show_in_the_receivers_recv_q() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let mut client = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
        let (mut server, _) = listener.accept().expect("accept");
        client.write_all(b"hello").expect("send");
        wait_until("5 bytes wait at the server", || {
            row(&server).recv_q == Some(5)
        });
        wait_until("loopback acknowledged them", || {
            row(&client).send_q == Some(0)
        });

        let mut buf = [0; 5];
        server.read_exact(&mut buf).expect("recv");
        assert_eq!(row(&server).recv_q, Some(0));
    }

    #[test]
    fn udp_unconnected_then_connected() {
        let receiver = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let sender = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let r = row(&receiver);
        assert_eq!(state(&r), "UNCONNECTED");
        assert_eq!(
            shown(&r.local),
            Some(receiver.local_addr().expect("addr").to_string())
        );
        assert_eq!(r.remote, None);
        assert_eq!(r.label(), "udp");

        sender
            .connect(receiver.local_addr().expect("addr"))
            .expect("connect");
        let s = row(&sender);
        assert_eq!(state(&s), "CONNECTED");
        assert_eq!(s.remote, r.local);

        sender.send(b"abc").expect("send");
        sender.send(b"defgh").expect("send");
        // SIOCINQ on a datagram socket is the size of the next datagram, not the whole queue.
        wait_until("the first datagram is queued", || {
            row(&receiver).recv_q == Some(3)
        });
    }

    #[test]
    fn unbound_inet_socket_has_no_local_address() {
        let tcp = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
        let t = row(&tcp);
        assert_eq!(t.local, None);
        assert_eq!(t.remote, None);
        assert_eq!(t.state, Some(SockState::Tcp(TcpState::Close)));

        let udp = Socket::new(Domain::IPV4, Type::DGRAM, None).expect("socket");
        let u = row(&udp);
        assert_eq!((u.local.clone(), state(&u)), (None, "UNCONNECTED"));
    }

    #[test]
    fn tcp6_formats_with_brackets() {
        // Some containers have no IPv6 loopback; there is nothing to check there.
        let Ok(listener) = TcpListener::bind("[::1]:0") else {
            return;
        };
        let r = row(&listener);
        assert_eq!(r.family, Some(Family::Inet6));
        assert_eq!(r.label(), "tcp6");
        let port = listener.local_addr().expect("addr").port();
        assert_eq!(shown(&r.local), Some(format!("[::1]:{port}")));
    }

    #[test]
    fn unix_abstract_listener_shows_at_name_and_listen() {
        let name = unique_abstract_name("listener");
        let addr = unix::SocketAddr::from_abstract_name(&name).expect("abstract address");
        let listener = UnixListener::bind_addr(&addr).expect("bind");
        let r = row(&listener);
        assert_eq!(r.family, Some(Family::Unix));
        assert_eq!(r.sock_type, Some(SockType::Stream));
        assert_eq!(r.label(), "unix/stream");
        assert_eq!(r.state, Some(SockState::Listen));
        let expected = format!("@{}", String::from_utf8(name).expect("ascii"));
        assert_eq!(shown(&r.local).as_deref(), Some(expected.as_str()));
        assert_eq!(r.remote, None);
        assert_eq!((r.recv_q, r.send_q), (None, None));

        let client = UnixStream::connect_addr(&addr).expect("connect");
        let c = row(&client);
        assert_eq!(state(&c), "CONNECTED");
        assert_eq!(c.local, None, "an unbound client has an unnamed address");
        assert_eq!(shown(&c.remote).as_deref(), Some(expected.as_str()));
    }

    #[test]
    fn unprintable_abstract_bytes_are_escaped() {
        let mut name = unique_abstract_name("esc");
        name.extend_from_slice(b"\x01\n\\\xff\x1b[2J");
        let addr = unix::SocketAddr::from_abstract_name(&name).expect("abstract address");
        let socket = UnixDatagram::bind_addr(&addr).expect("bind");
        let local = row(&socket).local.expect("bound").to_string();
        assert!(
            local.ends_with(r"-esc\x01\n\\\xff\x1b[2J"),
            "escaped as {local}"
        );
        assert_eq!(state(&row(&socket)), "UNCONNECTED");
    }

    #[test]
    fn unix_path_socket_shows_its_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("panel.sock");
        let listener = UnixListener::bind(&path).expect("bind");
        assert_eq!(
            shown(&row(&listener).local),
            Some(path.display().to_string())
        );
    }

    #[test]
    fn unix_stream_pair_is_connected_and_unnamed() {
        let (mut a, b) = UnixStream::pair().expect("socketpair");
        let r = row(&a);
        assert_eq!(state(&r), "CONNECTED");
        assert_eq!((r.local, r.remote), (None, None));
        assert_ne!(r.inode, row(&b).inode);

        a.write_all(b"ping").expect("send");
        assert_eq!(row(&b).recv_q, Some(4));
        // The sender is charged the whole buffer (with its overhead) until the reader takes it.
        assert!(row(&a).send_q.is_some_and(|q| q >= 4));
    }

    #[test]
    fn pipe_file_tty_and_epoll_kinds() {
        let (reader, _writer) = std::io::pipe().expect("pipe");
        let p = row(&reader);
        assert_eq!(p.kind, Kind::Pipe);
        assert_eq!(p.target, Some(format!("pipe:[{}]", p.inode)));
        assert_eq!(p.label(), "pipe");

        let file = tempfile::NamedTempFile::new().expect("tempfile");
        let f = row(file.as_file());
        assert_eq!(f.kind, Kind::File);
        assert_eq!(f.target, Some(file.path().display().to_string()));
        assert_eq!((f.family, f.state), (None, None));

        let null = std::fs::File::open("/dev/null").expect("/dev/null");
        assert_eq!(row(&null).kind, Kind::File);

        let epoll =
            nix::sys::epoll::Epoll::new(nix::sys::epoll::EpollCreateFlags::empty()).expect("epoll");
        let e = row(&epoll.0);
        assert_eq!(e.kind, Kind::Other);
        assert_eq!(e.target.as_deref(), Some("anon_inode:[eventpoll]"));
        assert_eq!(e.label(), "epoll");

        // Containers without devpts cannot open a pseudo-terminal; the tty check needs one.
        if let Ok(pty) = nix::pty::openpty(None, None) {
            let t = row(&pty.slave);
            assert_eq!(t.kind, Kind::Tty);
            assert!(t
                .target
                .as_deref()
                .is_some_and(|t| t.starts_with("/dev/pts/")));
        }
    }

    #[test]
    fn closed_fd_gives_none() {
        assert_eq!(inspect_fd(-1), None);
        // Far above the numbers parallel tests get, so nobody reuses it between close and check.
        let (soft, _) = getrlimit(Resource::RLIMIT_NOFILE).expect("getrlimit");
        let high = RawFd::try_from(soft / 2).expect("limit fits");
        let file = std::fs::File::open("/dev/null").expect("/dev/null");
        let copy = crate::sys::descriptor::dup_above(file.as_fd(), high).expect("dup high");
        let fd = copy.as_raw_fd();
        assert!(fd >= high);
        assert!(inspect_fd(fd).is_some());
        drop(copy);
        assert_eq!(inspect_fd(fd), None);
    }

    #[test]
    fn snapshot_and_probing_agree_on_this_tests_fds() {
        let _serial = SNAPSHOTS.lock().unwrap_or_else(|e| e.into_inner());
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let udp = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let (pair_a, pair_b) = UnixStream::pair().expect("socketpair");
        let (reader, writer) = std::io::pipe().expect("pipe");
        let file = tempfile::tempfile().expect("tempfile");
        let mine = [
            listener.as_raw_fd(),
            udp.as_raw_fd(),
            pair_a.as_raw_fd(),
            pair_b.as_raw_fd(),
            reader.as_raw_fd(),
            writer.as_raw_fd(),
            file.as_raw_fd(),
        ];

        let mut observer = Observer::new(Observed::ThisProcess);
        let listed = observer.snapshot();
        let probed = observer.snapshot_by_probing();
        assert!(listed.rows.is_sorted_by_key(|r| r.fd));
        assert!(probed.rows.is_sorted_by_key(|r| r.fd));
        let only_mine = |s: &Snapshot| -> Vec<FdRow> {
            s.rows
                .iter()
                .filter(|r| mine.contains(&r.fd))
                .cloned()
                .collect()
        };
        assert_eq!(only_mine(&listed).len(), mine.len());
        assert_eq!(only_mine(&listed), only_mine(&probed));
        assert_eq!(listed.get(listener.as_raw_fd()), Some(&row(&listener)));

        let proc_fd_dir = format!("/proc/{}/fd", std::process::id());
        assert!(
            !listed
                .rows
                .iter()
                .any(|r| r.target.as_deref() == Some(proc_fd_dir.as_str())),
            "the listing's own directory fd must not appear"
        );
    }

    /// Runs in a child process (this test binary again), since filling the fd table would make
    /// the tests running alongside fail with EMFILE.
    #[test]
    fn snapshot_works_when_the_table_is_full() {
        const CHILD: &str = "SOCKPLAY_FDTABLE_FULL_TABLE_CHILD";
        if std::env::var_os(CHILD).is_none() {
            let module = module_path!().split_once("::").expect("crate::module").1;
            let name = format!("{module}::snapshot_works_when_the_table_is_full");
            let status = std::process::Command::new(std::env::current_exe().expect("test binary"))
                .args(["--exact", &name, "--test-threads=1", "--nocapture"])
                .env(CHILD, "1")
                .status()
                .expect("run the child");
            assert!(status.success(), "the full-table child failed: {status}");
            return;
        }

        let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).expect("getrlimit");
        nix::sys::resource::setrlimit(Resource::RLIMIT_NOFILE, 64, hard).expect("setrlimit");
        let mut files = Vec::new();
        let emfile = loop {
            match std::fs::File::open("/dev/null") {
                Ok(file) => files.push(file),
                Err(err) => break err,
            }
        };
        assert_eq!(
            emfile.raw_os_error(),
            Some(nix::errno::Errno::EMFILE as i32)
        );
        let err = std::fs::File::open("/proc/self/fd").expect_err("the table is full");
        assert_eq!(err.raw_os_error(), Some(nix::errno::Errno::EMFILE as i32));

        let mut observer = Observer::new(Observed::ThisProcess);
        let full = observer.snapshot();
        for file in &files {
            let row = full.get(file.as_raw_fd()).expect("every open fd is listed");
            assert_eq!(row.target.as_deref(), Some("/dev/null"));
        }
        assert_eq!(full, observer.snapshot_by_probing());
    }

    #[test]
    fn parallel_inspection_matches_sequential() {
        let listeners: Vec<_> = (0..5)
            .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind"))
            .collect();
        let pairs: Vec<_> = (0..5)
            .map(|_| UnixStream::pair().expect("socketpair"))
            .collect();
        let mut fds: Vec<RawFd> = listeners.iter().map(AsRawFd::as_raw_fd).collect();
        for (a, b) in &pairs {
            fds.extend([a.as_raw_fd(), b.as_raw_fd()]);
        }
        let none: Vec<Option<Arc<Fixed>>> = Vec::new();
        let mut parallel: Vec<FdRow> = inspect_in_parallel(&fds, 3, &none)
            .into_iter()
            .map(|(r, _)| r)
            .collect();
        parallel.sort_unstable_by_key(|row| row.fd);
        let mut sequential: Vec<FdRow> = inspect_each(&fds, &none)
            .into_iter()
            .map(|(r, _)| r)
            .collect();
        sequential.sort_unstable_by_key(|row| row.fd);
        assert_eq!(parallel.len(), fds.len());
        assert_eq!(parallel, sequential);
    }
}
