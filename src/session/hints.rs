//! Which hint goes with which failure: one table keyed by the call, its errno and the situation the
//! call site knows (the socket's family, type and state, the address it asked for), and below it
//! the hints an errno earns whatever the call. Call sites ask here; they do not word hints
//! themselves.
//!
//! A process knows only its own fds. When what holds an address matters (EADDRINUSE, a refused
//! connect), the failure carries what was asked ([`Asked`]), and the engine, which sees every
//! process's table, the socket files they made and the kernel's socket list, finds the
//! [`Holder`]s and asks [`situated`] for the hint that names them.

use std::fmt;
use std::net::SocketAddr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::time::Duration;

use nix::errno::Errno;
use nix::errno::Errno as E;
use socket2::{SockAddr, Socket};

use super::{socket_files, Session};
use crate::lang::{SockOpt, SockRef};
use crate::net::{Endpoint, Family, SockState, SockType, TcpState};

/// The call of a failure that any call on the fd would meet: the fd itself is the problem.
pub(super) const ANY_CALL: &str = "";

/// What the kernel says of the socket a call acted on, read when the call failed: its family,
/// type and state, and what came before (bound, connected, ever sent a segment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Facts {
    pub fd: i32,
    pub family: Option<Family>,
    pub sock_type: Option<SockType>,
    pub state: Option<SockState>,
    /// The inet address it is bound to, if it is bound to one.
    pub inet_local: Option<SocketAddr>,
    /// It is bound to an address (a port, a path, an abstract name).
    pub bound: bool,
    /// It has a peer.
    pub connected: bool,
    /// A TCP socket that never tried to connect: it sent no segment, and no `connect` was made
    /// on it (a failed connect leaves no segment counted).
    pub never_connected: bool,
    /// A `connect` was made on it, and it is not connected: the connect failed (or its
    /// connection is gone).
    pub connect_failed: bool,
}

impl Facts {
    /// The facts of the socket on `fd` now.
    pub(super) fn of(fd: i32) -> Facts {
        let row = crate::fdtable::inspect_fd(fd);
        let row = row.as_ref();
        let sock_type = row.and_then(|r| r.sock_type);
        let family = row.and_then(|r| r.family);
        let tcp = family.is_some_and(Family::is_inet) && sock_type == Some(SockType::Stream);
        let never_connected = tcp
            && crate::sys::socket::SocketFd::new(fd)
                .tcp_info()
                .is_ok_and(|info| info.segs_out == 0);
        Facts {
            fd,
            family,
            sock_type,
            state: row.and_then(|r| r.state),
            inet_local: row
                .and_then(|r| r.local.as_ref())
                .and_then(Endpoint::inet_addr)
                .filter(|a| a.port() != 0),
            bound: row.is_some_and(|r| r.local.is_some()),
            connected: row.is_some_and(|r| r.remote.is_some()),
            never_connected,
            connect_failed: false,
        }
    }

    fn is_listening(&self) -> bool {
        self.state.is_some_and(SockState::is_listening)
    }

    /// A datagram socket (UDP, or Unix dgram).
    fn is_datagram(&self) -> bool {
        self.sock_type == Some(SockType::Dgram)
    }

    fn is_unix(&self) -> bool {
        self.family == Some(Family::Unix)
    }
}

/// An address a call named, as the hint speaks of it.
#[derive(Debug, Clone, Copy)]
pub(super) enum Addressed<'a> {
    /// A Unix socket file's path, and the address as shown.
    UnixPath { path: &'a Path, shown: &'a str },
    /// An abstract Unix address (or an unnamed one), as shown: `@name`.
    Abstract(&'a str),
    /// An IP address and port, and the address as shown.
    Inet(SocketAddr, &'a str),
}

impl<'a> Addressed<'a> {
    /// `address` (shown as `shown`): a path, an abstract name, or IP.
    pub(super) fn of(address: &'a SockAddr, shown: &'a str) -> Addressed<'a> {
        match (address.as_pathname(), address.as_socket()) {
            (Some(path), _) => Addressed::UnixPath { path, shown },
            (None, Some(inet)) => Addressed::Inet(inet, shown),
            (None, None) => Addressed::Abstract(shown),
        }
    }
}

/// What the call site knows about a failure beyond the call and its errno: the situation its hint
/// depends on, and the values the hint names.
#[derive(Debug, Clone, Copy)]
pub(super) enum Context<'a> {
    /// Nothing more: the hint depends on the call and its errno alone.
    Plain,
    /// The call acted on this fd.
    Fd(i32),
    /// The call acted on this socket, and at this address when it names one.
    On(Facts, Option<Addressed<'a>>),
    /// A send on this fd, whose own sending side is shut down (FIN_WAIT1, FIN_WAIT2, CLOSING).
    SendingShutDown(i32),
    /// This fd was detached: it is open, and no handle owns it.
    Detached(i32),
    /// This fd is past select's FD_SETSIZE.
    PastFdSetSize(i32),
    /// A seqpacket socket was asked for.
    Seqpacket,
    /// The wait of a blocking call that sockplay cut (its timeout, Ctrl-C): the socket is untouched.
    BlockingWait,
    /// The epoll instance `epoll_fd` (as the user named it, `epoll`) and the fd it watches or was
    /// to watch (`sock`).
    Watch {
        epoll_fd: i32,
        fd: i32,
        epoll: &'a SockRef,
        sock: &'a SockRef,
    },
    /// The hard RLIMIT_NOFILE, which the soft limit may not exceed.
    HardLimit(u64),
    /// The socket option the call read or set.
    SockOpt(&'a SockOpt),
}

impl<'a> Context<'a> {}

impl Session {
    /// The facts of the socket on `fd`: what the kernel says, and what came before in this
    /// session (a connect made on it).
    fn facts(&self, fd: i32) -> Facts {
        let facts = Facts::of(fd);
        let tried = self.connects.contains(&fd);
        Facts {
            never_connected: facts.never_connected && !tried,
            connect_failed: tried && !facts.connected,
            ..facts
        }
    }

    /// The situation of a call on the socket on `fd`, as it is now.
    pub(super) fn on(&self, fd: i32) -> Context<'static> {
        Context::On(self.facts(fd), None)
    }

    /// The situation of a call on the socket on `fd` that named `address` (shown as `shown`).
    pub(super) fn on_address<'a>(
        &self,
        fd: i32,
        address: &'a SockAddr,
        shown: &'a str,
    ) -> Context<'a> {
        Context::On(self.facts(fd), Some(Addressed::of(address, shown)))
    }

    /// `failure` of `call` on `socket` (fd `fd`) that named `address` (shown as `shown`): with
    /// the hint its situation gives, and what it asked for at that address (see [`Asked::of`]).
    pub(super) fn failed_at_address(
        &self,
        failure: super::Failure,
        call: &str,
        (fd, socket): (i32, &Socket),
        address: &SockAddr,
        shown: &str,
    ) -> super::Failure {
        let asked = failure
            .errno
            .and_then(|errno| Asked::of(call, errno, (fd, self.name_of(fd)), socket, address));
        failure
            .hint_for(call, self.on_address(fd, address, shown))
            .asking(asked)
    }
}

/// The hint for `call` failing with `errno` (None: a mistake caught before any call) in `context`,
/// or None when there is nothing useful to add. `call` is the name its call line shows (`bind`), or
/// the command's when no call was made (`sendfd`, `sleep`).
pub(super) fn hint(call: &str, errno: Option<Errno>, context: &Context<'_>) -> Option<String> {
    use Addressed as A;
    use Context as C;
    let text = match (call, errno, *context) {
        ("getaddrinfo", None, _) => {
            "use an IP address such as 127.0.0.1, or a name from /etc/hosts".into()
        }
        ("socket", Some(E::EPROTONOSUPPORT | E::ESOCKTNOSUPPORT), C::Seqpacket) => "seqpacket over IP needs SCTP, which this kernel lacks; `socket unix seqpacket` works everywhere".into(),

        // bind
        ("bind", Some(E::EADDRINUSE), C::On(_, Some(A::UnixPath { path, .. }))) => {
            path_in_use(path)
        }
        ("bind", Some(E::EADDRINUSE), C::On(_, Some(A::Abstract(shown)))) => format!(
            "another socket of this type holds the abstract name {shown}; an abstract name is no file: it is free again once that socket closes; close it, or pick another name"
        ),
        ("bind", Some(E::EADDRINUSE), C::On(_, Some(A::Inet(_, shown)))) => format!(
            "{shown} is taken: another socket is bound there, or a connection still holds it (TIME_WAIT); pick another port, or :0 to let the kernel choose"
        ),
        ("bind", Some(E::EINVAL), C::On(socket, _)) if socket.bound => match socket.inet_local {
            Some(local) => format!(
                "fd {} is already bound, to {local} (a socket is bound once; connect and listen bind it too): make a new socket for another address",
                socket.fd
            ),
            None => format!(
                "fd {} is already bound (a socket is bound once): make a new socket for another address",
                socket.fd
            ),
        },
        ("bind", Some(E::EINVAL), C::On(socket, Some(A::Inet(SocketAddr::V6(address), _))))
            if address.ip().to_ipv4_mapped().is_some() =>
        {
            format!(
                "fd {} is IPv6 only (IPV6_V6ONLY 1): it cannot take an IPv4-mapped address; bind an IPv6 address, or use an inet socket",
                socket.fd
            )
        }
        ("bind", Some(E::ENOENT), C::On(_, Some(A::UnixPath { path, .. }))) => format!(
            "there is no directory {} to make the socket file in: make it first, or pick a path in a directory that exists",
            directory_of(path)
        ),
        ("bind", Some(E::EACCES), C::On(_, Some(A::UnixPath { path, .. }))) => format!(
            "making the socket file {} needs write permission on the directory {}",
            socket_files::shown(path),
            directory_of(path)
        ),
        ("bind", Some(E::EACCES), C::On(_, Some(A::Inet(..)))) => "ports below 1024 need root (CAP_NET_BIND_SERVICE): pick a port of 1024 or more, or :0 to let the kernel choose".into(),
        ("bind", Some(E::EADDRNOTAVAIL), C::On(_, Some(A::Inet(address, _)))) => format!(
            "{} is not an address of this machine: bind one of its own (127.0.0.1 for loopback only, 0.0.0.0 for every address)",
            address.ip()
        ),

        // listen and accept
        ("listen", Some(E::EADDRINUSE), C::On(socket, _)) => match socket.inet_local {
            Some(local) => format!(
                "another socket already listens on {local}: SO_REUSEADDR lets sockets share a bound port, never a listening one; bind fd {} elsewhere",
                socket.fd
            ),
            None => "another socket already listens on this address: bind this socket elsewhere".into(),
        },
        ("listen", Some(E::EINVAL), C::On(socket, _)) if socket.is_unix() && !socket.bound => {
            format!(
                "a unix socket listens only once it is bound: `bind {} PATH` (or @name) first",
                socket.fd
            )
        }
        ("listen", Some(E::EINVAL), C::On(socket, _)) if socket.connected => format!(
            "fd {} is connected: only a socket that is not connected can listen; make a new socket to listen on",
            socket.fd
        ),
        ("listen" | "accept", Some(E::EOPNOTSUPP), C::On(socket, _)) if socket.is_datagram() => format!(
            "fd {} is a datagram socket: datagram sockets neither listen nor accept; each `recvfrom` takes one datagram, from any sender",
            socket.fd
        ),
        ("accept", Some(E::EINVAL), C::On(socket, _)) if socket.connected => format!(
            "fd {} is a connection, not a listener: accept on the fd that listens",
            socket.fd
        ),
        ("accept", Some(E::EINVAL), C::On(socket, _)) if socket.is_unix() && !socket.bound => {
            format!(
                "fd {0} is not listening: `bind {0} PATH` (or @name), then `listen {0}`",
                socket.fd
            )
        }
        ("accept", Some(E::EINVAL), C::On(socket, _)) => format!(
            "fd {0} is not listening: `listen {0}` first (and accept on the listener, not on a connection)",
            socket.fd
        ),
        ("accept", Some(E::EAGAIN), _) => "the accept queue is empty and the socket is non-blocking; connect a client first".into(),

        // connect and sendto: the address
        ("connect", Some(E::ECONNREFUSED), C::On(socket, Some(A::UnixPath { path, .. }))) => {
            path_refused(path, !socket.is_datagram())
        }
        ("sendto", Some(E::ECONNREFUSED), C::On(_, Some(A::UnixPath { path, .. }))) => {
            path_refused(path, false)
        }
        ("connect", Some(E::ECONNREFUSED), C::On(socket, Some(A::Abstract(shown))))
            if !socket.is_datagram() =>
        {
            format!(
                "no listening socket of this type holds the abstract name {shown}: an abstract name exists only while a socket is bound to it, and connect needs that socket to listen"
            )
        }
        ("connect" | "sendto", Some(E::ECONNREFUSED), C::On(_, Some(A::Abstract(shown)))) => format!(
            "no datagram socket holds the abstract name {shown}: an abstract name exists only while a socket of the same type is bound to it"
        ),
        ("connect", Some(E::ECONNREFUSED), C::On(_, Some(A::Inet(_, shown)))) => format!(
            "nothing is listening on {shown}: start a listener there first (socket, bind, listen)"
        ),
        // A path's errno; an abstract name has no file to be missing, and gets no hint about one.
        (_, Some(E::ENOENT), C::On(_, Some(A::Abstract(_)))) => return None,
        ("connect" | "sendto", Some(E::ENOENT), C::On(_, Some(A::UnixPath { shown, .. }))) => {
            format!("there is no socket file at {shown}: is a socket bound there?")
        }
        ("connect", Some(E::EPROTOTYPE), C::On(socket, Some(address))) => format!(
            "the socket at {} is of another type: a {} socket connects only to a socket of its own type",
            address.shown(),
            type_word(socket.sock_type)
        ),
        ("connect" | "sendto", Some(E::EACCES), C::On(_, Some(A::UnixPath { path, .. }))) => {
            format!(
                "connecting to the socket file {} needs write permission on it",
                socket_files::shown(path)
            )
        }
        ("connect" | "sendto", Some(E::EACCES), C::On(socket, Some(A::Inet(_, shown))))
            if socket.is_datagram() =>
        {
            format!(
                "{shown} is a broadcast address: a socket sends there only with SO_BROADCAST on (`setsockopt {} SO_BROADCAST 1`)",
                socket.fd
            )
        }
        ("connect", Some(E::EADDRNOTAVAIL), C::On(socket, Some(A::Inet(_, shown)))) => {
            match socket.inet_local {
                Some(local) => format!(
                    "fd {} is bound to {local}, and that port already has a connection to {shown} (a TIME_WAIT counts): connect from another port, or let connect pick one (no bind)",
                    socket.fd
                ),
                None => format!(
                    "no local port is free to connect to {shown} from: the ports for outgoing connections (net.ipv4.ip_local_port_range) are all taken"
                ),
            }
        }
        ("connect", Some(E::ETIMEDOUT), C::On(_, Some(A::Inet(_, shown)))) => format!(
            "the kernel gave up: {shown} never answered its SYNs (the host is down, or a firewall drops them)"
        ),
        ("connect", Some(E::EISCONN), C::On(socket, _)) if socket.is_listening() => format!(
            "fd {} listens, and a listener cannot also connect (Linux answers EISCONN); make another socket for the client side: `socket tcp as c`, then `connect c ADDR`",
            socket.fd
        ),
        ("sendto", Some(E::EISCONN), _) => {
            "a connected stream socket has its peer fixed: use send instead".into()
        }
        ("sendto", Some(E::EOPNOTSUPP), C::On(socket, _))
            if socket.is_unix() && socket.sock_type == Some(SockType::Stream) =>
        {
            format!(
                "a unix stream socket sends only over its connection: `connect {} ADDR`, then `send`",
                socket.fd
            )
        }
        ("sendto", Some(E::ECONNREFUSED), _) => "an earlier datagram from this socket found no receiver (ICMP port unreachable); the error is reported once".into(),

        // send and recv
        ("send" | "sendto", Some(E::EPIPE), C::On(socket, _)) if socket.is_listening() => format!(
            "fd {0} listens: a listener carries no data, it takes connections; `accept {0}`, then send on the fd it returns",
            socket.fd
        ),
        ("send" | "sendto", Some(E::EPIPE), C::On(socket, _)) if socket.never_connected => format!(
            "fd {} was never connected: `connect` it first (Linux answers a send on an unconnected TCP socket with EPIPE)",
            socket.fd
        ),
        ("send", Some(E::EPIPE), C::SendingShutDown(fd)) => format!(
            "fd {fd} shut down its own sending side (shutdown wr); it can still receive, not send"
        ),
        ("send", Some(E::EPIPE), C::On(socket, _)) if socket.is_unix() => format!(
            "the peer closed its end: nothing more can be sent on fd {}; close it",
            socket.fd
        ),
        ("send", Some(E::EPIPE), C::On(socket, _)) => format!(
            "the connection of fd {} is over (the peer closed or reset it, or connect failed): nothing more can be sent; close it",
            socket.fd
        ),
        ("send", Some(E::EPIPE), _) => "the peer closed the connection; there is no one left to receive: close this socket".into(),
        ("send", Some(E::EAGAIN), _) => "the send buffer is full and the socket is non-blocking: wait until the peer reads (poll for POLLOUT)".into(),
        ("send", Some(E::ECONNREFUSED), C::On(socket, _)) if socket.is_unix() => format!(
            "the socket fd {0} is connected to has closed: nothing receives there any more; close fd {0}, or connect it to another receiver",
            socket.fd
        ),
        ("send", Some(E::ECONNREFUSED), C::On(socket, _)) => format!(
            "a datagram fd {0} sent earlier found no receiver (ICMP port unreachable), reported on this call; fd {0} stays usable",
            socket.fd
        ),
        ("send", Some(E::ENOTCONN), C::On(socket, _)) if socket.is_datagram() => format!(
            "fd {0} has no peer: `connect {0} ADDR` first, or give each datagram its address with `sendto {0} ADDR DATA`",
            socket.fd
        ),
        ("recv" | "recvfrom", Some(E::ENOTCONN), C::On(socket, _)) if socket.is_listening() => format!(
            "fd {0} listens: it takes connections, not data; `accept {0}`, then recv on the fd it returns",
            socket.fd
        ),
        ("recv" | "recvfrom", Some(E::ENOTCONN), C::On(socket, _)) if socket.connect_failed => format!(
            "fd {} is not connected: its connect did not succeed; `connect` it again, to an address where something listens",
            socket.fd
        ),
        ("recv" | "recvfrom", Some(E::ENOTCONN), C::On(socket, _)) => {
            format!("fd {} is not connected: `connect` it first", socket.fd)
        }
        ("recv" | "recvfrom", Some(E::ECONNREFUSED), C::On(socket, _)) if socket.is_datagram() => "a datagram this connected socket sent found no receiver: the peer's host answered ICMP port unreachable, reported here once".into(),
        ("shutdown", Some(E::ENOTCONN), C::On(socket, _)) if socket.is_datagram() => format!(
            "shutdown acts on a connection, and fd {} has none: a datagram socket gets a peer with `connect`",
            socket.fd
        ),
        ("shutdown", Some(E::ENOTCONN), _) => {
            "shutdown acts on a connection: connect (or accept) first".into()
        }
        ("getpeername", Some(E::ENOTCONN), C::On(socket, _)) if socket.is_listening() => format!(
            "fd {} listens: a listener has no peer; each connection `accept` returns has one",
            socket.fd
        ),
        ("getpeername", Some(E::ENOTCONN), C::On(socket, _)) if socket.is_datagram() => format!(
            "fd {} has no peer: a datagram socket has one only once it is connected (`connect {} ADDR`)",
            socket.fd, socket.fd
        ),
        ("getpeername", Some(E::ENOTCONN), C::On(socket, _)) => format!(
            "fd {} is not connected, so it has no peer: `connect` it, or use the fd that `accept` returned",
            socket.fd
        ),

        // options, pairs, limits
        ("setsockopt" | "getsockopt", Some(E::ENOPROTOOPT | E::EOPNOTSUPP), C::SockOpt(option)) => {
            format!(
                "{} ({}) does not apply to this kind of socket",
                option.name, option.level_name
            )
        }
        ("socketpair", Some(E::EOPNOTSUPP | E::EAFNOSUPPORT), _) => {
            "on Linux only unix sockets come in pairs: `socketpair unix stream`".into()
        }
        ("setrlimit", Some(E::EINVAL), C::HardLimit(hard)) => {
            format!("the soft limit cannot exceed the hard limit ({hard})")
        }
        (_, Some(E::EMFILE), _) => fd_table_full(),

        ("sendmsg", Some(E::ENOTCONN | E::EDESTADDRREQ), C::Fd(fd)) => format!(
            "fd {fd} is not connected: connect it to the receiving unix socket first (or send over the fd that `accept` returned)"
        ),
        ("sendmsg", Some(E::ETOOMANYREFS), _) => {
            "too many fds are in flight already: let the peer `recvfd` them first".into()
        }
        ("recvmsg", Some(E::ENOTCONN), C::Fd(fd)) => format!(
            "fd {fd} is not connected; on a listener, `accept` first and recvfd on the new fd"
        ),
        ("select", None, C::PastFdSetSize(fd)) => format!(
            "poll and epoll have no such limit: `poll {fd}`, or `epoll add EP {fd}` then `epoll wait EP`"
        ),
        (
            "epoll_ctl",
            Some(E::EEXIST),
            C::Watch {
                epoll_fd,
                fd,
                epoll,
                sock,
            },
        ) => format!(
            "fd {fd} is already in the interest list of fd {epoll_fd}: `epoll del {epoll} {sock}` first, then add it with the events you want"
        ),
        ("epoll_ctl", Some(E::EINVAL), C::Watch { epoll_fd, fd, .. }) if fd == epoll_fd => {
            "an epoll instance cannot watch itself".into()
        }
        ("epoll_ctl", Some(E::ELOOP), _) => {
            "epoll instances watching each other would make a loop".into()
        }
        ("epoll_ctl", Some(E::EPERM), _) => "this kind of fd cannot be watched by epoll".into(),
        ("epoll_ctl", Some(E::ENOENT), C::Watch { epoll_fd, fd, .. }) => format!(
            "fd {fd} is not in the interest list of fd {epoll_fd}: it was never added, or already deleted"
        ),

        // waits sockplay cut, and the rest
        (_, Some(E::ETIMEDOUT), C::BlockingWait) => {
            "the socket is still open and usable; `set timeout SECS` to wait longer".into()
        }
        // Ctrl-C during `sleep` cuts nothing but the sleep: the EINTR hint about a socket would mislead.
        ("sleep", Some(E::EINTR), _) => return None,
        // A missing file is the whole answer to `unlink PATH`; the hint about servers would mislead.
        ("lstat", Some(E::ENOENT), _) => return None,
        (_, Some(E::EBADF), C::Detached(fd)) => {
            format!("the fd is still open; `close {fd}` closes it")
        }
        (_, Some(errno), _) => return generic(errno).map(str::to_string),
        (_, None, _) => return None,
    };
    Some(text)
}

/// The hint for `errno` that holds whatever the call was; calls with more context have their own
/// entries above.
pub(super) fn generic(errno: Errno) -> Option<&'static str> {
    Some(match errno {
        E::EADDRINUSE => "another socket is bound to that address, or a connection still holds it (TIME_WAIT); pick another port, or :0 to let the kernel choose",
        E::ECONNREFUSED => "nothing is listening there: start a listener first (socket, bind, listen)",
        E::ENOTCONN => "the socket is not connected: `connect` it first, or use the fd that `accept` returned",
        E::EPIPE => "the peer has closed the connection, so there is no one to write to; close this socket too",
        E::ECONNRESET => "the peer reset the connection (it closed with unread data, or aborted); close this socket",
        E::EAGAIN => "the socket is non-blocking and the call would have had to wait; try again later, or wait with select/poll",
        E::EBADF => "that fd is not open: see the panel or `fds` for the open ones",
        E::EMFILE => "this process has no free fd left (\"Too many open files\"): close sockets you no longer need, or raise its limit with `ulimit nofile N`",
        E::ENFILE => "the whole system's file table is full (fs.file-max), not only this process's: close fds here or in other programs",
        E::EINVAL => "the kernel finds the call invalid for this socket in its current state",
        E::EACCES => "permission denied: ports below 1024 need root, and unix socket paths need write access to their directory",
        E::ETIMEDOUT => "the kernel gave up waiting for the peer: it never answered",
        E::EINTR => "the wait was interrupted (Ctrl-C); the socket is still open and usable",
        E::EISCONN => "the socket is already connected; make a new socket for another connection",
        E::EOPNOTSUPP => "this socket type does not support that call (e.g. listen or accept on a datagram socket)",
        E::EAFNOSUPPORT => "the address does not fit the socket's family (e.g. an IPv6 address on an inet socket, or a path on a TCP socket)",
        E::EADDRNOTAVAIL => "that IP is not an address of this machine (bind) or no local port is free to reach it from (connect)",
        E::ENOENT => "no socket file exists at that path: is a socket bound there?",
        E::EPROTOTYPE => "the socket at that address is of another type: stream, dgram and seqpacket sockets reach only their own type",
        E::ENETUNREACH | E::EHOSTUNREACH => "this machine has no route to that address",
        E::EINPROGRESS => "the socket is non-blocking: the handshake goes on in the background; wait for it to become writable",
        E::EALREADY => "a non-blocking connect is still in progress",
        E::EDESTADDRREQ => "a datagram socket needs a destination: connect it first, or use sendto",
        E::EMSGSIZE => "the message is larger than one datagram can carry",
        _ => return None,
    })
}

/// EMFILE: every fd below this process's limit is open; the limit, and the way out.
fn fd_table_full() -> String {
    let Ok((soft, _)) = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
    else {
        return generic(E::EMFILE).unwrap_or_default().to_string();
    };
    match soft {
        0 => "this process's fd limit (`ulimit nofile`) is 0: no fd can be made; raise it with `ulimit nofile N`".to_string(),
        soft => format!(
            "fds 0 to {} are all open: that is this process's limit, {soft} (`ulimit nofile`); close sockets you no longer need, or raise it with `ulimit nofile N`",
            soft - 1
        ),
    }
}

/// The directory a socket file at `path` goes in, as the user would name it.
fn directory_of(path: &Path) -> String {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => socket_files::shown(dir),
        _ => ".".to_string(),
    }
}

/// A socket type in words: `stream`, `dgram`, `seqpacket`.
fn type_word(sock_type: Option<SockType>) -> String {
    sock_type.map_or_else(|| "socket".to_string(), |t| t.to_string())
}

impl Addressed<'_> {
    /// The address as shown.
    fn shown(&self) -> &str {
        match self {
            Addressed::UnixPath { shown, .. }
            | Addressed::Abstract(shown)
            | Addressed::Inet(_, shown) => shown,
        }
    }
}

/// A bind to a Unix path that is taken: what is in the way, and the way out that fits it. Removal
/// is suggested only for a socket file, as sockplay's own `unlink`. (The engine names the socket
/// bound there, or says the file is stale, when it knows.)
fn path_in_use(path: &Path) -> String {
    let name = socket_files::shown(path);
    match std::fs::symlink_metadata(path) {
        Ok(file) if file.file_type().is_socket() => format!(
            "a socket file already exists at {name}: a socket is bound there, or one that closed left it behind; if nothing is bound there, {}, or pick another path",
            remove_with(path)
        ),
        Ok(file) => format!(
            "{name} is {}, not a socket: bind will not replace it; pick another path",
            socket_files::kind_of(file.file_type())
        ),
        Err(_) => format!("something holds {name}; pick another path"),
    }
}

/// `remove it with `unlink PATH``, or with sockplay's `unlink` when the path cannot be typed back.
fn remove_with(path: &Path) -> String {
    match socket_files::unlink_command(path) {
        Some(command) => format!("remove it with `{command}`"),
        None => "remove it with sockplay's `unlink` command".to_string(),
    }
}

/// Why a Unix connect or sendto to `path` was refused: the kernel answers ECONNREFUSED both for a
/// socket file nobody holds (or, for a connection, nobody listens on) and for a file that is no
/// socket. `connection`: a stream or seqpacket connect, which needs a listener.
fn path_refused(path: &Path, connection: bool) -> String {
    let name = socket_files::shown(path);
    match std::fs::symlink_metadata(path) {
        Ok(file) if file.file_type().is_socket() && connection => format!(
            "the socket file {name} exists but nothing listens on it: its socket closed (a stale file) or never called listen"
        ),
        Ok(file) if file.file_type().is_socket() => format!(
            "the socket file {name} exists but no socket is bound to it any more (a stale file): nothing receives there"
        ),
        Ok(file) => format!(
            "{name} is {}, not a socket: only a socket file can be connected to",
            socket_files::kind_of(file.file_type())
        ),
        Err(_) => format!("nothing could be reached at {name}"),
    }
}

/// What a failed call asked for, and of which socket: carried by the failure, so the engine, which
/// sees every process's table, can name what holds the address ([`situated`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Asked {
    /// The call: `bind`, `listen`, `connect`, `sendto`.
    pub call: String,
    pub fd: i32,
    /// The name the fd goes by, if it has one.
    pub name: Option<String>,
    /// The socket's inode: the socket itself (or a dup of it) never holds what it asked for.
    pub inode: u64,
    /// The address asked for (for `listen`, the one the socket is bound to).
    pub address: Endpoint,
    pub sock_type: SockType,
    /// SO_REUSEADDR was on.
    pub reuse_addr: bool,
    /// An inet6 socket's IPV6_V6ONLY; None for other families.
    pub v6only: Option<bool>,
}

impl Asked {
    /// What `call` on `socket` (fd `fd`, named `name`) asked for at `address`, when its failure
    /// `errno` is one whose hint depends on what holds that address: EADDRINUSE of bind and
    /// listen, ECONNREFUSED of connect and sendto.
    pub(super) fn of(
        call: &str,
        errno: Errno,
        (fd, name): (i32, Option<&str>),
        socket: &Socket,
        address: &SockAddr,
    ) -> Option<Box<Asked>> {
        if !matches!(
            (call, errno),
            ("bind" | "listen", E::EADDRINUSE) | ("connect" | "sendto", E::ECONNREFUSED)
        ) {
            return None;
        }
        let sock_type = SockType::from_number(i32::from(socket.r#type().ok()?));
        Some(Box::new(Asked {
            call: call.to_string(),
            fd,
            name: name.map(str::to_string),
            inode: crate::sys::descriptor::fstat(fd).ok()?.ino,
            address: Endpoint::of(address)?.named()?,
            sock_type,
            reuse_addr: socket.reuse_address().unwrap_or(false),
            v6only: (socket.domain().ok() == Some(socket2::Domain::IPV6))
                .then(|| socket.only_v6().ok())
                .flatten(),
        }))
    }

    /// The socket as a command names it: its name, or its fd.
    fn sock(&self) -> String {
        self.name.clone().unwrap_or_else(|| self.fd.to_string())
    }
}

/// An fd of one of sockplay's processes: `fd 3 (srv) in main`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessFd {
    pub process: String,
    pub fd: i32,
    pub name: Option<String>,
    /// The process the failed command ran in.
    pub here: bool,
}

impl ProcessFd {
    /// The command `COMMAND SOCK` as the user types it for this fd: `listen srv`, or
    /// `main: listen srv` in another process.
    fn command(&self, command: &str) -> String {
        let sock = self.name.clone().unwrap_or_else(|| self.fd.to_string());
        if self.here {
            format!("{command} {sock}")
        } else {
            format!("{}: {command} {sock}", self.process)
        }
    }
}

impl fmt::Display for ProcessFd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "fd {} ({name}) in {}", self.fd, self.process),
            None => write!(f, "fd {} in {}", self.fd, self.process),
        }
    }
}

/// What holds an address, as the engine found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    /// A socket of one of sockplay's processes.
    Socket {
        at: ProcessFd,
        local: Endpoint,
        sock_type: Option<SockType>,
        state: Option<SockState>,
        remote: Option<Endpoint>,
    },
    /// A TCP connection that no fd holds: TIME_WAIT, or closing down after its fd closed; with the
    /// time its timer has left.
    Connection {
        state: TcpState,
        local: SocketAddr,
        remote: SocketAddr,
        left: Option<Duration>,
    },
    /// A socket of a program outside sockplay: its pid and command, when they could be found.
    Program {
        program: Option<(i32, String)>,
        local: Endpoint,
        listening: bool,
    },
    /// A socket file that no socket holds any more: a bind of `made_by` made it, and that socket
    /// closed.
    StaleFile { made_by: ProcessFd },
}

impl Holder {
    fn is_listening(&self) -> bool {
        match self {
            Holder::Socket { state, .. } => state.is_some_and(SockState::is_listening),
            Holder::Program { listening, .. } => *listening,
            _ => false,
        }
    }
}

/// The hint for a call that failed with `errno` because of what holds the address it asked for
/// (or, for a refused connect, what is bound there without listening), naming the `holders` the
/// engine found, first the one that matters most; None when they say nothing more than the
/// table's hint.
pub fn situated(errno: Errno, asked: &Asked, holders: &[Holder]) -> Option<String> {
    let first = holders.first()?;
    match (errno, &asked.address) {
        (E::EADDRINUSE, Endpoint::Path(bytes)) => {
            path_held(Path::new(std::ffi::OsStr::from_bytes(bytes)), first)
        }
        (E::EADDRINUSE, Endpoint::Abstract(_)) => abstract_held(&asked.address, first),
        (E::EADDRINUSE, Endpoint::Inet(wanted)) => Some(inet_held(asked, *wanted, holders)),
        (E::ECONNREFUSED, _) => refused_at(asked, first),
        _ => None,
    }
}

/// A program outside sockplay, in words: `another program (pid 4242, nginx)`.
fn program_words(program: &Option<(i32, String)>) -> String {
    match program {
        Some((pid, command)) => format!(
            "another program (pid {pid}, {})",
            crate::text::escape_text(command)
        ),
        None => "another program".to_string(),
    }
}

/// EADDRINUSE on a Unix path: the socket bound there, or the stale file in the way.
fn path_held(path: &Path, holder: &Holder) -> Option<String> {
    let name = socket_files::shown(path);
    Some(match holder {
        Holder::Socket { at, state, .. } => {
            let listens = if state.is_some_and(SockState::is_listening) {
                " and listens"
            } else {
                ""
            };
            format!(
                "{at} is bound to {name}{listens}: a path takes one socket at a time; close it (its file stays: then {}), or pick another path",
                remove_with(path)
            )
        }
        Holder::StaleFile { made_by } => format!(
            "{name} is a stale socket file: {made_by} was bound there and closed, and the kernel does not remove the file; {}, then bind again",
            remove_with(path)
        ),
        Holder::Program { program, .. } => format!(
            "a socket of {} is bound to {name}: pick another path, or end that program",
            program_words(program)
        ),
        Holder::Connection { .. } => return None,
    })
}

/// EADDRINUSE on an abstract name: the socket that holds it.
fn abstract_held(address: &Endpoint, holder: &Holder) -> Option<String> {
    Some(match holder {
        Holder::Socket { at, .. } => format!(
            "{at} holds the abstract name {address}: an abstract name is no file; it is free again once that socket closes: close it, or pick another name"
        ),
        Holder::Program { program, .. } => format!(
            "a socket of {} holds the abstract name {address}: pick another name",
            program_words(program)
        ),
        Holder::Connection { .. } | Holder::StaleFile { .. } => return None,
    })
}

/// About how long a timer has left, as people say it: `about 59 s`, `less than a second`.
fn time_left(left: Duration) -> String {
    match left.as_secs_f64().round() {
        secs if secs < 1.0 => "less than a second".to_string(),
        secs => format!("about {secs:.0} s"),
    }
}

/// What one holder of an inet address is: `fd 3 (srv) in main listens on 127.0.0.1:8080`.
fn inet_holder_words(holder: &Holder) -> String {
    match holder {
        Holder::Socket {
            at, local, state, ..
        } if state.is_some_and(SockState::is_listening) => format!("{at} listens on {local}"),
        Holder::Socket {
            at,
            local,
            state,
            remote: Some(remote),
            ..
        } => match state {
            Some(state) => format!("{at}, a connection to {remote} ({state}), holds {local}"),
            None => format!("{at}, a connection to {remote}, holds {local}"),
        },
        Holder::Socket { at, local, .. } => format!("{at} is bound to {local}"),
        Holder::Connection {
            state,
            local,
            remote,
            left,
        } => {
            let left =
                left.map_or_else(String::new, |left| format!(" for {} more", time_left(left)));
            let (local, remote) = (Endpoint::inet(*local), Endpoint::inet(*remote));
            match state {
                TcpState::TimeWait => {
                    format!("a connection in TIME_WAIT holds {local}{left} (to {remote}; no fd holds it)")
                }
                state => format!(
                    "a connection closing down ({state}, to {remote}; no fd holds it) holds {local}{left}"
                ),
            }
        }
        Holder::Program {
            program,
            local,
            listening: true,
        } => format!("a socket of {} listens on {local}", program_words(program)),
        Holder::Program { program, local, .. } => {
            format!("a socket of {} is bound to {local}", program_words(program))
        }
        Holder::StaleFile { made_by } => format!("{made_by}"),
    }
}

/// The local address of a holder of an inet address.
fn holder_inet(holder: &Holder) -> Option<SocketAddr> {
    match holder {
        Holder::Socket { local, .. } | Holder::Program { local, .. } => local.inet_addr(),
        Holder::Connection { local, .. } => Some(*local),
        Holder::StaleFile { .. } => None,
    }
}

/// EADDRINUSE on an IP address and port (bind, or listen on a shared port): who holds it, and the
/// way out that fits — SO_REUSEADDR as Linux has it, a dual-stack `[::]` that covers IPv4.
fn inet_held(asked: &Asked, wanted: SocketAddr, holders: &[Holder]) -> String {
    let Some(first) = holders.first() else {
        return String::new();
    };
    let fd = asked.fd;
    let sock = asked.sock();
    let any_port = "pick another port (:0 lets the kernel choose)";
    let held = holder_inet(first);
    // A `[::]` holder that takes IPv4 too, or this socket's own `[::]` that needs IPv4's port.
    let covers_ipv4 =
        wanted.is_ipv4() && held.is_some_and(|held| held.is_ipv6() && held.ip().is_unspecified());
    let needs_ipv4 = wanted.is_ipv6()
        && wanted.ip().is_unspecified()
        && asked.v6only == Some(false)
        && held.is_some_and(|held| held.is_ipv4());
    let mut text = inet_holder_words(first);
    let advice = if covers_ipv4 {
        text.push_str(&format!(
            ", and with IPV6_V6ONLY off (the default) [::] takes IPv4 too, so {wanted} is taken"
        ));
        format!("{any_port}, or set IPV6_V6ONLY to 1 on that socket before its bind, so it leaves IPv4 alone")
    } else if needs_ipv4 {
        text = format!(
            "fd {fd} is dual-stack (IPV6_V6ONLY off, the default), so {wanted} needs port {} of IPv4 too, and {text}",
            wanted.port()
        );
        format!(
            "`setsockopt {sock} IPV6_V6ONLY 1` before bind makes fd {fd} IPv6 only; or {any_port}"
        )
    } else if first.is_listening() && asked.call == "listen" {
        format!("SO_REUSEADDR lets sockets share a bound port, never a listening one: close that listener, or bind fd {fd} elsewhere")
    } else if first.is_listening() {
        format!("only one socket can listen on an address and port, and SO_REUSEADDR does not change that: close that listener, or {any_port}")
    } else {
        match first {
            Holder::Connection { .. } if asked.reuse_addr => format!(
                "fd {fd} has SO_REUSEADDR, but the socket that left this connection did not, and Linux needs both: wait, or {any_port}"
            ),
            Holder::Connection { .. } => format!(
                "wait, {any_port}, or set SO_REUSEADDR on the new socket before bind (`setsockopt {sock} SO_REUSEADDR 1`, then `bind`): on Linux that passes a TIME_WAIT only when the socket that left it had SO_REUSEADDR too (a server's connections take it from its listener), and never a listener"
            ),
            Holder::Program { .. } => format!("{any_port}, or end that program"),
            _ => format!(
                "close it, or {any_port}; two sockets share a port only when both set SO_REUSEADDR before bind and neither listens"
            ),
        }
    };
    let also: Vec<String> = holders
        .iter()
        .skip(1)
        .take(2)
        .map(inet_holder_words)
        .collect();
    let mut hint = format!("{text}: {advice}");
    if !also.is_empty() {
        hint.push_str(&format!(" (also: {})", also.join("; ")));
    }
    if holders.len() > 3 {
        hint.push_str(&format!(" and {} more", holders.len() - 3));
    }
    hint
}

/// A refused connect (or sendto): the socket bound there that does not listen, or the stale file.
fn refused_at(asked: &Asked, holder: &Holder) -> Option<String> {
    let address = &asked.address;
    let connection = asked.call == "connect" && asked.sock_type != SockType::Dgram;
    Some(match holder {
        Holder::StaleFile { made_by } => {
            let path = match address {
                Endpoint::Path(bytes) => Path::new(std::ffi::OsStr::from_bytes(bytes)),
                _ => return None,
            };
            let until = if connection {
                "nothing listens there until a new socket binds it and listens"
            } else {
                "no datagram reaches it until a new socket binds there"
            };
            format!(
                "{address} is a stale socket file: {made_by} was bound there and closed; {until} ({} first)",
                remove_with(path)
            )
        }
        Holder::Socket { at, sock_type, .. } if *sock_type != Some(asked.sock_type) => {
            let theirs = type_word(*sock_type);
            let ours = type_word(Some(asked.sock_type));
            format!(
                "only a {theirs} socket, {at}, is bound to {address}: a {ours} socket reaches only a socket of its own type"
            )
        }
        Holder::Socket { at, state, .. }
            if connection && !state.is_some_and(SockState::is_listening) =>
        {
            format!(
                "{at} is bound to {address} but does not listen: `{}` first",
                at.command("listen")
            )
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hint_text(call: &str, errno: Errno, context: Context<'_>) -> Option<String> {
        hint(call, Some(errno), &context)
    }

    /// A socket of `family` and `sock_type` on fd `fd`, unbound, unconnected, and that has sent
    /// nothing.
    fn socket(fd: i32, family: Family, sock_type: SockType) -> Facts {
        Facts {
            fd,
            family: Some(family),
            sock_type: Some(sock_type),
            state: None,
            inet_local: None,
            bound: false,
            connected: false,
            never_connected: false,
            connect_failed: false,
        }
    }

    fn tcp(fd: i32) -> Facts {
        socket(fd, Family::Inet, SockType::Stream)
    }

    fn udp(fd: i32) -> Facts {
        socket(fd, Family::Inet, SockType::Dgram)
    }

    fn unix(fd: i32, sock_type: SockType) -> Facts {
        socket(fd, Family::Unix, sock_type)
    }

    fn inet(shown: &str) -> Option<Addressed<'_>> {
        Some(Addressed::Inet(
            shown.parse().expect("an address and port"),
            shown,
        ))
    }

    fn path<'a>(path: &'a Path, shown: &'a str) -> Option<Addressed<'a>> {
        Some(Addressed::UnixPath { path, shown })
    }

    #[test]
    fn a_refused_unix_connect_says_what_is_at_the_path() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let regular = dir.path().join("plain");
        std::fs::write(&regular, b"x").expect("a regular file");
        let stale = dir.path().join("stale.sock");
        drop(std::os::unix::net::UnixListener::bind(&stale).expect("a socket file"));
        let refused = |call: &str, facts: Facts, at: &Path| {
            let shown = at.display().to_string();
            hint_text(call, E::ECONNREFUSED, Context::On(facts, path(at, &shown)))
        };
        assert_eq!(
            refused("connect", unix(3, SockType::Stream), &regular),
            Some(format!(
                "{} is a regular file, not a socket: only a socket file can be connected to",
                regular.display()
            ))
        );
        assert_eq!(
            refused("connect", unix(3, SockType::Stream), &stale),
            Some(format!(
                "the socket file {} exists but nothing listens on it: its socket closed (a stale file) or never called listen",
                stale.display()
            ))
        );
        // A datagram socket needs no listener: only a socket bound there.
        for (call, facts) in [
            ("connect", unix(3, SockType::Dgram)),
            ("sendto", unix(3, SockType::Dgram)),
        ] {
            assert_eq!(
                refused(call, facts, &stale),
                Some(format!(
                    "the socket file {} exists but no socket is bound to it any more (a stale file): nothing receives there",
                    stale.display()
                ))
            );
        }
    }

    #[test]
    fn an_abstract_name_never_gets_advice_about_files() {
        let abstract_at = |call: &str, errno, facts| {
            hint_text(
                call,
                errno,
                Context::On(facts, Some(Addressed::Abstract("@play"))),
            )
        };
        assert_eq!(
            abstract_at("bind", E::EADDRINUSE, unix(3, SockType::Stream)).as_deref(),
            Some("another socket of this type holds the abstract name @play; an abstract name is no file: it is free again once that socket closes; close it, or pick another name")
        );
        assert_eq!(
            abstract_at("connect", E::ECONNREFUSED, unix(3, SockType::Stream)).as_deref(),
            Some("no listening socket of this type holds the abstract name @play: an abstract name exists only while a socket is bound to it, and connect needs that socket to listen")
        );
        for call in ["connect", "sendto"] {
            assert_eq!(
                abstract_at(call, E::ECONNREFUSED, unix(3, SockType::Dgram)).as_deref(),
                Some("no datagram socket holds the abstract name @play: an abstract name exists only while a socket of the same type is bound to it")
            );
        }
        // ENOENT is a path's errno; an abstract name never meets it, and never gets its hint.
        assert_eq!(
            abstract_at("connect", E::ENOENT, unix(3, SockType::Stream)),
            None
        );
    }

    #[test]
    fn a_taken_address_gets_the_hint_for_its_kind() {
        assert_eq!(
            hint_text("bind", E::EADDRINUSE, Context::On(tcp(3), inet("127.0.0.1:8080"))).as_deref(),
            Some("127.0.0.1:8080 is taken: another socket is bound there, or a connection still holds it (TIME_WAIT); pick another port, or :0 to let the kernel choose")
        );
        let dir = tempfile::tempdir().expect("a temporary directory");
        let plain = dir.path().join("plain");
        std::fs::write(&plain, b"").expect("a regular file");
        let shown = plain.display().to_string();
        assert_eq!(
            hint_text(
                "bind",
                E::EADDRINUSE,
                Context::On(unix(3, SockType::Stream), path(&plain, &shown))
            ),
            Some(format!(
                "{shown} is a regular file, not a socket: bind will not replace it; pick another path"
            ))
        );
        let listening = Facts {
            inet_local: Some("127.0.0.1:8080".parse().expect("an address")),
            bound: true,
            ..tcp(4)
        };
        assert_eq!(
            hint_text("listen", E::EADDRINUSE, Context::On(listening, None)).as_deref(),
            Some("another socket already listens on 127.0.0.1:8080: SO_REUSEADDR lets sockets share a bound port, never a listening one; bind fd 4 elsewhere")
        );
    }

    #[test]
    fn bind_says_why_the_kernel_refused_this_socket_or_this_address() {
        let bound = Facts {
            inet_local: Some("127.0.0.1:8080".parse().expect("an address")),
            bound: true,
            ..tcp(3)
        };
        assert_eq!(
            hint_text("bind", E::EINVAL, Context::On(bound, inet("127.0.0.1:0"))).as_deref(),
            Some("fd 3 is already bound, to 127.0.0.1:8080 (a socket is bound once; connect and listen bind it too): make a new socket for another address")
        );
        let unix_bound = Facts {
            bound: true,
            ..unix(3, SockType::Stream)
        };
        assert_eq!(
            hint_text("bind", E::EINVAL, Context::On(unix_bound, None)).as_deref(),
            Some("fd 3 is already bound (a socket is bound once): make a new socket for another address")
        );
        let v6 = socket(3, Family::Inet6, SockType::Stream);
        assert_eq!(
            hint_text("bind", E::EINVAL, Context::On(v6, inet("[::ffff:127.0.0.1]:0"))).as_deref(),
            Some("fd 3 is IPv6 only (IPV6_V6ONLY 1): it cannot take an IPv4-mapped address; bind an IPv6 address, or use an inet socket")
        );
        let missing = Path::new("./no/such/dir/x.sock");
        assert_eq!(
            hint_text(
                "bind",
                E::ENOENT,
                Context::On(unix(3, SockType::Stream), path(missing, "./no/such/dir/x.sock"))
            )
            .as_deref(),
            Some("there is no directory ./no/such/dir to make the socket file in: make it first, or pick a path in a directory that exists")
        );
        assert_eq!(
            hint_text(
                "bind",
                E::EACCES,
                Context::On(
                    unix(3, SockType::Stream),
                    path(Path::new("x.sock"), "x.sock")
                )
            )
            .as_deref(),
            Some("making the socket file x.sock needs write permission on the directory .")
        );
        assert_eq!(
            hint_text("bind", E::EACCES, Context::On(tcp(3), inet("0.0.0.0:80"))).as_deref(),
            Some("ports below 1024 need root (CAP_NET_BIND_SERVICE): pick a port of 1024 or more, or :0 to let the kernel choose")
        );
        assert_eq!(
            hint_text("bind", E::EADDRNOTAVAIL, Context::On(tcp(3), inet("10.255.255.1:0"))).as_deref(),
            Some("10.255.255.1 is not an address of this machine: bind one of its own (127.0.0.1 for loopback only, 0.0.0.0 for every address)")
        );
    }

    #[test]
    fn accept_says_what_the_socket_is_instead_of_a_listener() {
        let connection = Facts {
            connected: true,
            bound: true,
            ..tcp(5)
        };
        assert_eq!(
            hint_text("accept", E::EINVAL, Context::On(connection, None)).as_deref(),
            Some("fd 5 is a connection, not a listener: accept on the fd that listens")
        );
        assert_eq!(
            hint_text(
                "accept",
                E::EINVAL,
                Context::On(unix(3, SockType::Stream), None)
            )
            .as_deref(),
            Some("fd 3 is not listening: `bind 3 PATH` (or @name), then `listen 3`")
        );
        assert_eq!(
            hint_text("accept", E::EINVAL, Context::On(tcp(3), None)).as_deref(),
            Some("fd 3 is not listening: `listen 3` first (and accept on the listener, not on a connection)")
        );
        assert_eq!(
            hint_text("accept", E::EOPNOTSUPP, Context::On(udp(3), None)).as_deref(),
            Some("fd 3 is a datagram socket: datagram sockets neither listen nor accept; each `recvfrom` takes one datagram, from any sender")
        );
    }

    #[test]
    fn listen_says_what_the_socket_lacks() {
        assert_eq!(
            hint_text(
                "listen",
                E::EINVAL,
                Context::On(unix(3, SockType::Stream), None)
            )
            .as_deref(),
            Some("a unix socket listens only once it is bound: `bind 3 PATH` (or @name) first")
        );
        let connected = Facts {
            connected: true,
            bound: true,
            ..tcp(4)
        };
        assert_eq!(
            hint_text("listen", E::EINVAL, Context::On(connected, None)).as_deref(),
            Some("fd 4 is connected: only a socket that is not connected can listen; make a new socket to listen on")
        );
        assert_eq!(
            hint_text("listen", E::EOPNOTSUPP, Context::On(udp(3), None)).as_deref(),
            Some("fd 3 is a datagram socket: datagram sockets neither listen nor accept; each `recvfrom` takes one datagram, from any sender")
        );
    }

    #[test]
    fn sends_and_receives_get_the_hint_of_their_socket_and_what_came_before() {
        let fresh = Facts {
            never_connected: true,
            ..tcp(3)
        };
        for call in ["send", "sendto"] {
            assert_eq!(
                hint_text(call, E::EPIPE, Context::On(fresh, None)).as_deref(),
                Some("fd 3 was never connected: `connect` it first (Linux answers a send on an unconnected TCP socket with EPIPE)")
            );
        }
        assert_eq!(
            hint_text("send", E::EPIPE, Context::On(tcp(3), None)).as_deref(),
            Some("the connection of fd 3 is over (the peer closed or reset it, or connect failed): nothing more can be sent; close it")
        );
        assert_eq!(
            hint_text(
                "send",
                E::EPIPE,
                Context::On(unix(3, SockType::Stream), None)
            )
            .as_deref(),
            Some("the peer closed its end: nothing more can be sent on fd 3; close it")
        );
        assert_eq!(
            hint_text("send", E::EPIPE, Context::SendingShutDown(5)).as_deref(),
            Some(
                "fd 5 shut down its own sending side (shutdown wr); it can still receive, not send"
            )
        );
        assert_eq!(
            hint_text("send", E::ECONNREFUSED, Context::On(udp(3), None)).as_deref(),
            Some("a datagram fd 3 sent earlier found no receiver (ICMP port unreachable), reported on this call; fd 3 stays usable")
        );
        assert_eq!(
            hint_text("send", E::ECONNREFUSED, Context::On(unix(3, SockType::Dgram), None)).as_deref(),
            Some("the socket fd 3 is connected to has closed: nothing receives there any more; close fd 3, or connect it to another receiver")
        );
        assert_eq!(
            hint_text("send", E::ENOTCONN, Context::On(unix(3, SockType::Dgram), None)).as_deref(),
            Some("fd 3 has no peer: `connect 3 ADDR` first, or give each datagram its address with `sendto 3 ADDR DATA`")
        );
        assert_eq!(
            hint_text(
                "send",
                E::ENOTCONN,
                Context::On(unix(3, SockType::Stream), None)
            )
            .as_deref(),
            generic(E::ENOTCONN)
        );
        let listener = Facts {
            state: Some(SockState::Tcp(TcpState::Listen)),
            bound: true,
            ..tcp(3)
        };
        assert_eq!(
            hint_text("recv", E::ENOTCONN, Context::On(listener, None)).as_deref(),
            Some("fd 3 listens: it takes connections, not data; `accept 3`, then recv on the fd it returns")
        );
        assert_eq!(
            hint_text("recv", E::ENOTCONN, Context::On(tcp(4), None)).as_deref(),
            Some("fd 4 is not connected: `connect` it first")
        );
        let refused = Facts {
            connect_failed: true,
            ..tcp(4)
        };
        assert_eq!(
            hint_text("recv", E::ENOTCONN, Context::On(refused, None)).as_deref(),
            Some("fd 4 is not connected: its connect did not succeed; `connect` it again, to an address where something listens")
        );
        assert_eq!(
            hint_text("sendto", E::EOPNOTSUPP, Context::On(unix(3, SockType::Stream), None)).as_deref(),
            Some("a unix stream socket sends only over its connection: `connect 3 ADDR`, then `send`")
        );
        assert_eq!(
            hint_text("sendto", E::EACCES, Context::On(udp(3), inet("255.255.255.255:9"))).as_deref(),
            Some("255.255.255.255:9 is a broadcast address: a socket sends there only with SO_BROADCAST on (`setsockopt 3 SO_BROADCAST 1`)")
        );
    }

    #[test]
    fn a_missing_peer_is_told_for_the_kind_of_socket() {
        let listener = Facts {
            state: Some(SockState::Tcp(TcpState::Listen)),
            bound: true,
            ..tcp(3)
        };
        assert_eq!(
            hint_text("getpeername", E::ENOTCONN, Context::On(listener, None)).as_deref(),
            Some("fd 3 listens: a listener has no peer; each connection `accept` returns has one")
        );
        assert_eq!(
            hint_text("getpeername", E::ENOTCONN, Context::On(udp(3), None)).as_deref(),
            Some("fd 3 has no peer: a datagram socket has one only once it is connected (`connect 3 ADDR`)")
        );
        assert_eq!(
            hint_text("getpeername", E::ENOTCONN, Context::On(tcp(3), None)).as_deref(),
            Some("fd 3 is not connected, so it has no peer: `connect` it, or use the fd that `accept` returned")
        );
        assert_eq!(
            hint_text("shutdown", E::ENOTCONN, Context::On(udp(3), None)).as_deref(),
            Some("shutdown acts on a connection, and fd 3 has none: a datagram socket gets a peer with `connect`")
        );
        assert_eq!(
            hint_text("shutdown", E::ENOTCONN, Context::On(tcp(3), None)).as_deref(),
            Some("shutdown acts on a connection: connect (or accept) first")
        );
    }

    #[test]
    fn connect_says_what_is_at_the_address() {
        assert_eq!(
            hint_text("connect", E::ECONNREFUSED, Context::On(tcp(3), inet("127.0.0.1:9"))).as_deref(),
            Some("nothing is listening on 127.0.0.1:9: start a listener there first (socket, bind, listen)")
        );
        assert_eq!(
            hint_text(
                "connect",
                E::EPROTOTYPE,
                Context::On(unix(3, SockType::Stream), path(Path::new("d.sock"), "d.sock"))
            )
            .as_deref(),
            Some("the socket at d.sock is of another type: a stream socket connects only to a socket of its own type")
        );
        assert_eq!(
            hint_text(
                "connect",
                E::ENOENT,
                Context::On(
                    unix(3, SockType::Stream),
                    path(Path::new("none.sock"), "none.sock")
                )
            )
            .as_deref(),
            Some("there is no socket file at none.sock: is a socket bound there?")
        );
        assert_eq!(
            hint_text("connect", E::ETIMEDOUT, Context::On(tcp(3), inet("10.255.255.1:80"))).as_deref(),
            Some("the kernel gave up: 10.255.255.1:80 never answered its SYNs (the host is down, or a firewall drops them)")
        );
        let bound = Facts {
            inet_local: Some("127.0.0.1:5000".parse().expect("an address")),
            bound: true,
            ..tcp(3)
        };
        assert_eq!(
            hint_text("connect", E::EADDRNOTAVAIL, Context::On(bound, inet("127.0.0.1:80"))).as_deref(),
            Some("fd 3 is bound to 127.0.0.1:5000, and that port already has a connection to 127.0.0.1:80 (a TIME_WAIT counts): connect from another port, or let connect pick one (no bind)")
        );
        assert_eq!(
            hint_text("connect", E::EACCES, Context::On(udp(3), inet("255.255.255.255:9"))).as_deref(),
            Some("255.255.255.255:9 is a broadcast address: a socket sends there only with SO_BROADCAST on (`setsockopt 3 SO_BROADCAST 1`)")
        );
    }

    #[test]
    fn the_same_errno_gets_the_hint_of_its_call_and_situation() {
        let (epoll, sock) = (SockRef::Name("ep".into()), SockRef::Fd(5));
        let watch = |fd| Context::Watch {
            epoll_fd: 4,
            fd,
            epoll: &epoll,
            sock: &sock,
        };
        assert_eq!(
            hint_text("epoll_ctl", E::EEXIST, watch(5)).as_deref(),
            Some("fd 5 is already in the interest list of fd 4: `epoll del ep 5` first, then add it with the events you want")
        );
        assert_eq!(
            hint_text("epoll_ctl", E::EINVAL, watch(4)).as_deref(),
            Some("an epoll instance cannot watch itself")
        );
        assert_eq!(
            hint_text("epoll_ctl", E::EINVAL, watch(5)).as_deref(),
            generic(E::EINVAL)
        );
        assert_eq!(
            hint_text("sendto", E::ECONNREFUSED, Context::On(udp(3), inet("127.0.0.1:9"))).as_deref(),
            Some("an earlier datagram from this socket found no receiver (ICMP port unreachable); the error is reported once")
        );
    }

    #[test]
    fn without_an_entry_of_its_own_a_call_gets_its_errnos_hint_or_none() {
        assert_eq!(
            hint_text("connect", E::EADDRINUSE, Context::Fd(3)).as_deref(),
            Some("another socket is bound to that address, or a connection still holds it (TIME_WAIT); pick another port, or :0 to let the kernel choose")
        );
        assert_eq!(
            hint_text("accept", E::EINTR, Context::BlockingWait).as_deref(),
            Some("the wait was interrupted (Ctrl-C); the socket is still open and usable")
        );
        assert_eq!(hint_text("sleep", E::EINTR, Context::Plain), None);
        assert_eq!(hint_text("lstat", E::ENOENT, Context::Plain), None);
        assert_eq!(hint_text("listen", E::ENOMEDIUM, Context::Fd(3)), None);
        assert_eq!(
            hint_text(ANY_CALL, E::EBADF, Context::Detached(7)).as_deref(),
            Some("the fd is still open; `close 7` closes it")
        );
    }

    #[test]
    fn a_full_fd_table_says_the_limit() {
        let (soft, _) = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
            .expect("the fd limit");
        assert_eq!(
            hint_text("socket", E::EMFILE, Context::Plain),
            Some(format!(
                "fds 0 to {} are all open: that is this process's limit, {soft} (`ulimit nofile`); close sockets you no longer need, or raise it with `ulimit nofile N`",
                soft - 1
            ))
        );
    }

    #[test]
    fn a_mistake_before_any_call_has_a_hint_only_where_the_table_gives_one() {
        assert_eq!(
            hint("getaddrinfo", None, &Context::Plain).as_deref(),
            Some("use an IP address such as 127.0.0.1, or a name from /etc/hosts")
        );
        assert_eq!(hint("bind", None, &Context::Plain), None);
    }

    fn asked(call: &str, address: &str) -> Asked {
        Asked {
            call: call.into(),
            fd: 4,
            name: Some("new".into()),
            inode: 1,
            address: Endpoint::Inet(address.parse().expect("an address")),
            sock_type: SockType::Stream,
            reuse_addr: false,
            v6only: None,
        }
    }

    fn main_fd(fd: i32, name: &str) -> ProcessFd {
        ProcessFd {
            process: "main".into(),
            fd,
            name: Some(name.into()),
            here: true,
        }
    }

    fn listener(fd: i32, name: &str, local: &str) -> Holder {
        Holder::Socket {
            at: main_fd(fd, name),
            local: Endpoint::Inet(local.parse().expect("an address")),
            sock_type: Some(SockType::Stream),
            state: Some(SockState::Tcp(TcpState::Listen)),
            remote: None,
        }
    }

    #[test]
    fn a_taken_port_names_its_holder_and_the_way_out_that_fits_it() {
        assert_eq!(
            situated(
                E::EADDRINUSE,
                &asked("bind", "127.0.0.1:8080"),
                &[listener(3, "srv", "127.0.0.1:8080")]
            )
            .as_deref(),
            Some("fd 3 (srv) in main listens on 127.0.0.1:8080: only one socket can listen on an address and port, and SO_REUSEADDR does not change that: close that listener, or pick another port (:0 lets the kernel choose)")
        );
        let time_wait = Holder::Connection {
            state: TcpState::TimeWait,
            local: "127.0.0.1:8080".parse().expect("an address"),
            remote: "127.0.0.1:40000".parse().expect("an address"),
            left: Some(Duration::from_millis(58_600)),
        };
        assert_eq!(
            situated(E::EADDRINUSE, &asked("bind", "127.0.0.1:8080"), std::slice::from_ref(&time_wait)).as_deref(),
            Some("a connection in TIME_WAIT holds 127.0.0.1:8080 for about 59 s more (to 127.0.0.1:40000; no fd holds it): wait, pick another port (:0 lets the kernel choose), or set SO_REUSEADDR on the new socket before bind (`setsockopt new SO_REUSEADDR 1`, then `bind`): on Linux that passes a TIME_WAIT only when the socket that left it had SO_REUSEADDR too (a server's connections take it from its listener), and never a listener")
        );
        let reusing = Asked {
            reuse_addr: true,
            ..asked("bind", "127.0.0.1:8080")
        };
        assert_eq!(
            situated(E::EADDRINUSE, &reusing, &[time_wait]).as_deref(),
            Some("a connection in TIME_WAIT holds 127.0.0.1:8080 for about 59 s more (to 127.0.0.1:40000; no fd holds it): fd 4 has SO_REUSEADDR, but the socket that left this connection did not, and Linux needs both: wait, or pick another port (:0 lets the kernel choose)")
        );
        assert_eq!(
            situated(
                E::EADDRINUSE,
                &asked("bind", "127.0.0.1:8080"),
                &[listener(3, "srv6", "[::]:8080")]
            )
            .as_deref(),
            Some("fd 3 (srv6) in main listens on [::]:8080, and with IPV6_V6ONLY off (the default) [::] takes IPv4 too, so 127.0.0.1:8080 is taken: pick another port (:0 lets the kernel choose), or set IPV6_V6ONLY to 1 on that socket before its bind, so it leaves IPv4 alone")
        );
        let dual = Asked {
            v6only: Some(false),
            ..asked("bind", "[::]:8080")
        };
        assert_eq!(
            situated(E::EADDRINUSE, &dual, &[listener(3, "srv", "127.0.0.1:8080")]).as_deref(),
            Some("fd 4 is dual-stack (IPV6_V6ONLY off, the default), so [::]:8080 needs port 8080 of IPv4 too, and fd 3 (srv) in main listens on 127.0.0.1:8080: `setsockopt new IPV6_V6ONLY 1` before bind makes fd 4 IPv6 only; or pick another port (:0 lets the kernel choose)")
        );
        let program = Holder::Program {
            program: Some((4242, "nginx".into())),
            local: Endpoint::Inet("0.0.0.0:8080".parse().expect("an address")),
            listening: true,
        };
        assert_eq!(
            situated(E::EADDRINUSE, &asked("listen", "127.0.0.1:8080"), &[program]).as_deref(),
            Some("a socket of another program (pid 4242, nginx) listens on 0.0.0.0:8080: SO_REUSEADDR lets sockets share a bound port, never a listening one: close that listener, or bind fd 4 elsewhere")
        );
    }

    #[test]
    fn a_taken_unix_address_names_its_socket_or_the_stale_file() {
        let path_asked = |call: &str, sock_type| Asked {
            address: Endpoint::Path(b"./x.sock".to_vec()),
            sock_type,
            ..asked(call, "127.0.0.1:1")
        };
        let stale = Holder::StaleFile {
            made_by: main_fd(3, "a"),
        };
        assert_eq!(
            situated(E::EADDRINUSE, &path_asked("bind", SockType::Stream), std::slice::from_ref(&stale)).as_deref(),
            Some("./x.sock is a stale socket file: fd 3 (a) in main was bound there and closed, and the kernel does not remove the file; remove it with `unlink ./x.sock`, then bind again")
        );
        assert_eq!(
            situated(E::ECONNREFUSED, &path_asked("connect", SockType::Stream), std::slice::from_ref(&stale)).as_deref(),
            Some("./x.sock is a stale socket file: fd 3 (a) in main was bound there and closed; nothing listens there until a new socket binds it and listens (remove it with `unlink ./x.sock` first)")
        );
        assert_eq!(
            situated(E::ECONNREFUSED, &path_asked("sendto", SockType::Dgram), &[stale]).as_deref(),
            Some("./x.sock is a stale socket file: fd 3 (a) in main was bound there and closed; no datagram reaches it until a new socket binds there (remove it with `unlink ./x.sock` first)")
        );
        let bound = |process: &str, here| Holder::Socket {
            at: ProcessFd {
                process: process.into(),
                fd: 3,
                name: Some("srv".into()),
                here,
            },
            local: Endpoint::Abstract(b"play".to_vec()),
            sock_type: Some(SockType::Stream),
            state: Some(SockState::Unconnected),
            remote: None,
        };
        let abstract_asked = |call: &str, sock_type| Asked {
            address: Endpoint::Abstract(b"play".to_vec()),
            sock_type,
            ..asked(call, "127.0.0.1:1")
        };
        assert_eq!(
            situated(E::EADDRINUSE, &abstract_asked("bind", SockType::Stream), &[bound("main", true)]).as_deref(),
            Some("fd 3 (srv) in main holds the abstract name @play: an abstract name is no file; it is free again once that socket closes: close it, or pick another name")
        );
        assert_eq!(
            situated(E::ECONNREFUSED, &abstract_asked("connect", SockType::Stream), &[bound("server", false)]).as_deref(),
            Some("fd 3 (srv) in server is bound to @play but does not listen: `server: listen srv` first")
        );
        assert_eq!(
            situated(E::ECONNREFUSED, &abstract_asked("sendto", SockType::Dgram), &[bound("main", true)]).as_deref(),
            Some("only a stream socket, fd 3 (srv) in main, is bound to @play: a dgram socket reaches only a socket of its own type")
        );
    }
}
