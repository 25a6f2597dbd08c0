//! Which hint goes with which failure: one table keyed by the call, its errno and the situation the
//! call site knows, and below it the hints an errno earns whatever the call. Call sites ask here;
//! they do not word hints themselves.

use std::os::unix::fs::FileTypeExt;
use std::path::Path;

use nix::errno::Errno;
use nix::errno::Errno as E;
use socket2::SockAddr;

use super::socket_files;
use crate::lang::{SockOpt, SockRef};

/// The call of a failure that any call on the fd would meet: the fd itself is the problem.
pub(super) const ANY_CALL: &str = "";

/// What the call site knows about a failure beyond the call and its errno: the situation its hint
/// depends on, and the values the hint names.
#[derive(Debug, Clone, Copy)]
pub(super) enum Context<'a> {
    /// Nothing more: the hint depends on the call and its errno alone.
    Plain,
    /// The call acted on this fd.
    Fd(i32),
    /// The call acted on this fd, a message socket (datagram or seqpacket).
    MessageSocket(i32),
    /// A send on this fd, whose own sending side is shut down (FIN_WAIT1, FIN_WAIT2, CLOSING).
    SendingShutDown(i32),
    /// This fd was detached: it is open, and no handle owns it.
    Detached(i32),
    /// This fd is past select's FD_SETSIZE.
    PastFdSetSize(i32),
    /// A Unix socket file's path, and the address as shown.
    UnixPath { path: &'a Path, shown: &'a str },
    /// An abstract Unix address (or an unnamed one), as shown: `@name`.
    Abstract(&'a str),
    /// An IP address and port, as shown.
    Inet(&'a str),
    /// A seqpacket socket was asked for.
    Seqpacket,
    /// The poll that stands in for a blocking call, which leaves the socket untouched.
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

impl<'a> Context<'a> {
    /// The situation of a call given `address` (shown as `shown`): a path, an abstract name, or IP.
    pub(super) fn address(address: &'a SockAddr, shown: &'a str) -> Context<'a> {
        match address.as_pathname() {
            Some(path) => Context::UnixPath { path, shown },
            None if address.is_unix() => Context::Abstract(shown),
            None => Context::Inet(shown),
        }
    }
}

/// The hint for `call` failing with `errno` (None: a mistake caught before any call) in `context`,
/// or None when there is nothing useful to add. `call` is the name its call line shows (`bind`), or
/// the command's when no call was made (`sendfd`, `sleep`).
pub(super) fn hint(call: &str, errno: Option<Errno>, context: &Context<'_>) -> Option<String> {
    use Context as C;
    let text = match (call, errno, *context) {
        ("getaddrinfo", None, _) => {
            "use an IP address such as 127.0.0.1, or a name from /etc/hosts".into()
        }
        ("socket", Some(E::EPROTONOSUPPORT | E::ESOCKTNOSUPPORT), C::Seqpacket) => "seqpacket over IP needs SCTP, which this kernel lacks; `socket unix seqpacket` works everywhere".into(),
        ("bind", Some(E::EADDRINUSE), C::UnixPath { path, .. }) => path_in_use(path),
        ("bind", Some(E::EADDRINUSE), C::Abstract(shown)) => format!(
            "another socket holds the abstract name {shown}; an abstract name is no file and goes away with its last socket: close that socket or pick another name"
        ),
        ("bind", Some(E::EADDRINUSE), C::Inet(shown)) => format!(
            "{shown} is taken — another socket is bound there, or one sits in TIME_WAIT; pick another port, or :0 to let the kernel choose"
        ),
        ("bind", Some(E::EINVAL), _) => {
            "a socket can be bound only once; make a new socket for another address".into()
        }
        ("accept", Some(E::EINVAL), C::Fd(fd)) => format!(
            "fd {fd} is not listening: `listen {fd}` first (and accept on the listener, not on a connection)"
        ),
        ("accept", Some(E::EAGAIN), _) => "the accept queue is empty and the socket is non-blocking; connect a client first".into(),
        ("connect" | "sendto", Some(E::ECONNREFUSED), C::UnixPath { path, .. }) => {
            path_refused(path)
        }
        ("connect" | "sendto", Some(E::ECONNREFUSED), C::Abstract(shown)) => format!(
            "no socket holds the abstract name {shown}: an abstract name exists only while a socket is bound to it (and, for connect, listens)"
        ),
        ("connect", Some(E::ECONNREFUSED), C::Inet(shown)) => format!(
            "nothing is listening on {shown}: start a listener there first (socket, bind, listen)"
        ),
        (
            "connect",
            Some(E::ENOENT),
            C::UnixPath { shown, .. } | C::Abstract(shown) | C::Inet(shown),
        ) => format!("there is no socket file at {shown}: is the server bound there?"),
        ("send", Some(E::EPIPE), C::SendingShutDown(fd)) => format!(
            "fd {fd} shut down its own sending side (shutdown wr); it can still receive, not send"
        ),
        ("send", Some(E::EPIPE), _) => "the peer closed the connection; there is no one left to receive: close this socket".into(),
        ("send", Some(E::EAGAIN), _) => "the send buffer is full and the socket is non-blocking: wait until the peer reads (poll for POLLOUT)".into(),
        ("recv", Some(E::ENOTCONN), C::Fd(fd) | C::MessageSocket(fd)) => format!(
            "fd {fd} is not connected; on a listener, `accept` first and recv on the new fd"
        ),
        ("recv", Some(E::ECONNREFUSED), C::MessageSocket(_)) => "a datagram this connected socket sent found no receiver: the peer's host answered ICMP port unreachable, reported here once".into(),
        ("sendto", Some(E::EISCONN), _) => {
            "a connected stream socket has its peer fixed: use send instead".into()
        }
        ("sendto", Some(E::ECONNREFUSED), _) => "an earlier datagram from this socket found no receiver (ICMP port unreachable); the error is reported once".into(),
        ("shutdown", Some(E::ENOTCONN), _) => {
            "shutdown acts on a connection: connect (or accept) first".into()
        }
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
        E::EADDRINUSE => "another socket is bound to that address, or one sits in TIME_WAIT; pick another port, or :0 to let the kernel choose",
        E::ECONNREFUSED => "nothing is listening there: start a listener first (socket, bind, listen), and check the port",
        E::ENOTCONN => "the socket is not connected: `connect` it first, or use the fd that `accept` returned",
        E::EPIPE => "the peer has closed the connection, so there is no one to write to; close this socket too",
        E::ECONNRESET => "the peer reset the connection (it closed with unread data, or aborted); close this socket",
        E::EAGAIN => "the socket is non-blocking and the call would have had to wait; try again later, or wait with select/poll",
        E::EBADF => "that fd is not open: see the panel or `fds` for the open ones",
        E::EMFILE => "this process has no free fd left (\"Too many open files\"): close sockets you no longer need",
        E::EINVAL => "the call does not fit the socket's current state (e.g. bind twice, accept on a socket that is not listening)",
        E::EACCES => "permission denied: ports below 1024 need root, and unix socket paths need write access to their directory",
        E::ETIMEDOUT => "nothing happened within the timeout; `set timeout SECS` to wait longer",
        E::EINTR => "the wait was interrupted (Ctrl-C); the socket is still open and usable",
        E::EISCONN => "the socket is already connected; make a new socket for another connection",
        E::EOPNOTSUPP => "this socket type does not support that call (e.g. listen or accept on a datagram socket)",
        E::EAFNOSUPPORT => "the address does not fit the socket's family (e.g. an IPv6 address on an inet socket, or a path on a TCP socket)",
        E::EADDRNOTAVAIL => "that IP is not an address of this machine (bind) or cannot be reached from it (connect)",
        E::ENOENT => "no socket file exists at that path: is the server bound there?",
        E::EINPROGRESS => "the socket is non-blocking: the handshake goes on in the background; wait for it to become writable",
        E::EALREADY => "a non-blocking connect is still in progress",
        E::EDESTADDRREQ => "a datagram socket needs a destination: connect it first, or use sendto",
        E::EMSGSIZE => "the message is larger than one datagram can carry",
        _ => return None,
    })
}

/// A bind to a Unix path that is taken: what is in the way, and the way out that fits it. Removal
/// is suggested only for a socket file, as sockplay's own `unlink`.
fn path_in_use(path: &Path) -> String {
    let name = socket_files::shown(path);
    match std::fs::symlink_metadata(path) {
        Ok(file) if file.file_type().is_socket() => match socket_files::unlink_command(path) {
            Some(command) => format!(
                "a socket file already exists at {name}: a socket is bound there, or one that closed left it behind; if nothing listens there, remove it with `{command}`, or pick another path"
            ),
            None => format!(
                "a socket file already exists at {name}: a socket is bound there, or one that closed left it behind; if nothing listens there, remove it with sockplay's `unlink` command, or pick another path"
            ),
        },
        Ok(file) => format!(
            "{name} is {}, not a socket: bind will not replace it; pick another path",
            socket_files::kind_of(file.file_type())
        ),
        Err(_) => format!("something holds {name}; pick another path"),
    }
}

/// Why a Unix connect or sendto to `path` was refused: the kernel answers ECONNREFUSED both for a
/// socket file nobody holds (or, for a stream, nobody listens on) and for a file that is no socket.
fn path_refused(path: &Path) -> String {
    let name = socket_files::shown(path);
    match std::fs::symlink_metadata(path) {
        Ok(file) if file.file_type().is_socket() => format!(
            "the socket file {name} exists but nothing listens on it: its socket closed (a stale file) or never called listen"
        ),
        Ok(file) => format!(
            "{name} is {}, not a socket: only a socket file can be connected to",
            socket_files::kind_of(file.file_type())
        ),
        Err(_) => format!("nothing could be reached at {name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hint_text(call: &str, errno: Errno, context: Context<'_>) -> Option<String> {
        hint(call, Some(errno), &context)
    }

    #[test]
    fn a_refused_unix_connect_says_what_is_at_the_path() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let regular = dir.path().join("plain");
        std::fs::write(&regular, b"x").expect("a regular file");
        let stale = dir.path().join("stale.sock");
        drop(std::os::unix::net::UnixListener::bind(&stale).expect("a socket file"));
        let refused = |path: &Path| {
            let shown = path.display().to_string();
            hint_text(
                "connect",
                E::ECONNREFUSED,
                Context::UnixPath {
                    path,
                    shown: &shown,
                },
            )
        };
        assert_eq!(
            refused(&regular),
            Some(format!(
                "{} is a regular file, not a socket: only a socket file can be connected to",
                regular.display()
            ))
        );
        assert_eq!(
            refused(&stale),
            Some(format!(
                "the socket file {} exists but nothing listens on it: its socket closed (a stale file) or never called listen",
                stale.display()
            ))
        );
        assert_eq!(
            hint_text("sendto", E::ECONNREFUSED, Context::Abstract("@none")).as_deref(),
            Some("no socket holds the abstract name @none: an abstract name exists only while a socket is bound to it (and, for connect, listens)")
        );
        assert_eq!(
            hint_text("sendto", E::ECONNREFUSED, Context::Inet("127.0.0.1:9")).as_deref(),
            Some("an earlier datagram from this socket found no receiver (ICMP port unreachable); the error is reported once")
        );
    }

    #[test]
    fn a_taken_address_gets_the_hint_for_its_kind() {
        assert_eq!(
            hint_text("bind", E::EADDRINUSE, Context::Inet("127.0.0.1:8080")).as_deref(),
            Some("127.0.0.1:8080 is taken — another socket is bound there, or one sits in TIME_WAIT; pick another port, or :0 to let the kernel choose")
        );
        assert_eq!(
            hint_text("bind", E::EADDRINUSE, Context::Abstract("@play")).as_deref(),
            Some("another socket holds the abstract name @play; an abstract name is no file and goes away with its last socket: close that socket or pick another name")
        );
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("plain");
        std::fs::write(&path, b"").expect("a regular file");
        let shown = path.display().to_string();
        assert_eq!(
            hint_text(
                "bind",
                E::EADDRINUSE,
                Context::UnixPath {
                    path: &path,
                    shown: &shown
                }
            ),
            Some(format!(
                "{shown} is a regular file, not a socket: bind will not replace it; pick another path"
            ))
        );
    }

    #[test]
    fn the_same_errno_gets_the_hint_of_its_call_and_situation() {
        assert_eq!(
            hint_text("connect", E::ECONNREFUSED, Context::Inet("127.0.0.1:9")).as_deref(),
            Some("nothing is listening on 127.0.0.1:9: start a listener there first (socket, bind, listen)")
        );
        assert_eq!(
            hint_text("connect", E::ECONNREFUSED, Context::Abstract("@gone")).as_deref(),
            Some("no socket holds the abstract name @gone: an abstract name exists only while a socket is bound to it (and, for connect, listens)")
        );
        assert_eq!(
            hint_text("send", E::EPIPE, Context::SendingShutDown(5)).as_deref(),
            Some(
                "fd 5 shut down its own sending side (shutdown wr); it can still receive, not send"
            )
        );
        assert_eq!(
            hint_text("send", E::EPIPE, Context::Fd(5)).as_deref(),
            Some("the peer closed the connection; there is no one left to receive: close this socket")
        );
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
    }

    #[test]
    fn without_an_entry_of_its_own_a_call_gets_its_errnos_hint_or_none() {
        assert_eq!(
            hint_text("listen", E::EADDRINUSE, Context::Fd(3)).as_deref(),
            Some("another socket is bound to that address, or one sits in TIME_WAIT; pick another port, or :0 to let the kernel choose")
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
    fn a_mistake_before_any_call_has_a_hint_only_where_the_table_gives_one() {
        assert_eq!(
            hint("getaddrinfo", None, &Context::Plain).as_deref(),
            Some("use an IP address such as 127.0.0.1, or a name from /etc/hosts")
        );
        assert_eq!(hint("bind", None, &Context::Plain), None);
    }
}
