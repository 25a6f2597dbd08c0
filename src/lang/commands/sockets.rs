//! Making and connecting sockets: socket, bind, listen, accept, connect, unlink, socketpair and
//! shutdown, each defined once (its help, its argument grammar and its Python line).

use super::prelude::*;
use crate::net::{Words, FAMILY_WORDS};

pub static SOCKET: CommandSpec = CommandSpec {
    name: "socket",
    aliases: &[],
    group: Group::Sockets,
    usage: "socket FAMILY TYPE [as NAME]   (or: socket tcp|udp [as NAME])",
    summary: "create a socket: the kernel hands back the lowest free fd",
    details: "\
socket(2) asks the kernel for a new communication endpoint and returns a file descriptor for it: the
lowest number not in use, so in a fresh session the first socket is fd 3 (0, 1 and 2 are stdin,
stdout and stderr). FAMILY is inet (IPv4), inet6 (IPv6) or unix (local, addressed by a path);
TYPE is stream (TCP: a reliable byte stream), dgram (UDP: separate messages) or seqpacket.
`socket tcp` and `socket udp` are short for `socket inet stream` and `socket inet dgram`.
The new socket is not bound and not connected: STATE shows CLOSE for TCP.
Errors: EMFILE when the process has no free fd left (see `ulimit`), EACCES/EPERM for raw sockets.
Example:  socket tcp as srv        (Python: srv = socket.socket(AF_INET, SOCK_STREAM))",
    args: &[Arg::Choice(FAMILY_WORDS), Arg::Choice(SockType::WORDS)],
    runs_in: RunsIn::Session,
    panel: Panel::Shown,
    parse: |args| {
        let (family, sock_type) = args.expect_family_type()?;
        let name = args.optional_name()?;
        Ok(Command::Socket {
            family,
            sock_type,
            name,
        })
    },
    python: |command, py| match command {
        Command::Socket {
            family: f,
            sock_type: t,
            name,
        } => Some(format!(
            "{} = socket.socket({}, {})",
            py.new_var(name.as_deref(), 0),
            family(*f),
            sock_type(*t)
        )),
        _ => None,
    },
};

pub static BIND: CommandSpec = CommandSpec {
    name: "bind",
    aliases: &[],
    group: Group::Sockets,
    usage: "bind SOCK ADDR",
    summary: "give a socket its local address (port 0: the kernel picks one)",
    details: "\
bind(2) attaches a local address to the socket: an IP and port for inet sockets, a path or @name
for unix ones. Port 0 asks the kernel to choose a free port; the address actually bound is shown.
A server binds so clients know where to find it; a client usually skips bind and gets an
ephemeral port on connect. A unix path becomes a socket file that stays until it is removed.
Errors: EADDRINUSE (another socket holds the address, or a connection on the port sits in
TIME_WAIT: on Linux SO_REUSEADDR lets bind through a TIME_WAIT only when it is set on the new
socket before bind and was set on the old one too, as a server that always sets it has),
EACCES (ports below 1024 need privilege), EADDRNOTAVAIL (not an address of this machine),
EINVAL (the socket is already bound, or connected).
Example:  bind srv 127.0.0.1:8080     bind srv :0     bind u /tmp/play.sock     bind u @play",
    args: &[Arg::Sock, Arg::Addr],
    runs_in: RunsIn::Session,
    panel: Panel::Shown,
    parse: |args| {
        Ok(Command::Bind {
            sock: args.expect_sock()?,
            addr: args.expect_addr()?,
        })
    },
    python: |command, py| match command {
        Command::Bind { sock, addr } => Some(format!("{}.bind({})", py.var(sock), address(addr))),
        _ => None,
    },
};

pub static LISTEN: CommandSpec = CommandSpec {
    name: "listen",
    aliases: &[],
    group: Group::Sockets,
    usage: "listen SOCK [BACKLOG]",
    summary: "turn a bound socket into a listener with an accept queue (default 128)",
    details: "\
listen(2) marks a stream socket as passive: from now on the kernel completes TCP handshakes for it
by itself and parks each finished connection in the accept queue. Linux lets BACKLOG + 1
connections wait there (BACKLOG is capped at net.core.somaxconn); a client beyond that gets no
answer to its SYN and keeps retrying. The panel shows the listener in LISTEN, with RECV-Q =
connections waiting and SEND-Q = BACKLOG. An unbound socket gets an ephemeral port on every
address of the machine. Nothing reaches your program until you `accept`.
Errors: EADDRINUSE (another listener on the port), EOPNOTSUPP (datagram sockets cannot listen),
EINVAL (the socket is connected).
Example:  listen srv        listen srv 5",
    args: &[Arg::Sock, Arg::Number],
    runs_in: RunsIn::Session,
    panel: Panel::Shown,
    parse: |args| {
        let sock = args.expect_sock()?;
        let backlog = args.optional_number("BACKLOG", 0..=65535)?.unwrap_or(128);
        Ok(Command::Listen { sock, backlog })
    },
    python: |command, py| match command {
        Command::Listen { sock, backlog } => Some(format!("{}.listen({backlog})", py.var(sock))),
        _ => None,
    },
};

pub static ACCEPT: CommandSpec = CommandSpec {
    name: "accept",
    aliases: &[],
    group: Group::Sockets,
    usage: "accept SOCK [as NAME]",
    summary: "take the next connection off a listener's queue: it arrives as a new fd",
    details: "\
accept(2) removes the oldest completed connection from the listener's accept queue and gives it a
brand-new fd (the listener itself stays open, still listening). The connection existed before:
the handshake was done by the kernel; accept only hands it to you. With an empty queue accept
waits in the kernel, here at most the session timeout (Ctrl-C stops the wait).
Errors: EINVAL at once (the socket is not listening), EOPNOTSUPP (a datagram socket),
EAGAIN (non-blocking and the queue is empty), EMFILE (no free fd for the new socket);
ETIMEDOUT is sockplay's: nobody connected within the session timeout.
Example:  accept srv as conn      (Python: conn, addr = srv.accept())",
    args: &[Arg::Sock],
    runs_in: RunsIn::Session,
    panel: Panel::Shown,
    parse: |args| {
        Ok(Command::Accept {
            sock: args.expect_sock()?,
            name: args.optional_name()?,
        })
    },
    python: |command, py| match command {
        Command::Accept { sock, name } => Some(format!(
            "{}, addr = {}.accept()",
            py.new_var(name.as_deref(), 0),
            py.var(sock)
        )),
        _ => None,
    },
};

pub static CONNECT: CommandSpec = CommandSpec {
    name: "connect",
    aliases: &[],
    group: Group::Sockets,
    usage: "connect SOCK ADDR",
    summary: "connect to a peer (TCP: the three-way handshake)",
    details: "\
connect(2) on a stream socket starts the TCP handshake (SYN, SYN-ACK, ACK) with ADDR and waits until
it completes; the socket gets an ephemeral local port if it was not bound. On a datagram socket it
only sets the default destination and filters what recv accepts. A unix stream connect waits
while the listener's queue is full.
Errors: ECONNREFUSED (nothing listens there), ETIMEDOUT (no answer), ENETUNREACH, EISCONN (already connected, or a listener), ENOENT (no unix socket file at
the path). On a non-blocking socket EINPROGRESS is no failure: the handshake has started and goes
on; poll for POLLOUT, then SO_ERROR says how it ended (EALREADY while it is still going on).
Example:  connect cli 127.0.0.1:8080      connect cli $srv      connect u /tmp/play.sock",
    args: &[Arg::Sock, Arg::Addr],
    runs_in: RunsIn::Session,
    panel: Panel::Shown,
    parse: |args| {
        Ok(Command::Connect {
            sock: args.expect_sock()?,
            addr: args.expect_addr()?,
        })
    },
    python: |command, py| match command {
        Command::Connect { sock, addr } => {
            Some(format!("{}.connect({})", py.var(sock), address(addr)))
        }
        _ => None,
    },
};

pub static UNLINK: CommandSpec = CommandSpec {
    name: "unlink",
    aliases: &[],
    group: Group::Sockets,
    usage: "unlink PATH",
    summary: "remove a Unix socket file (and refuse anything that is not one)",
    details: "\
unlink(2) removes a name from the file system. A Unix socket bound to a path made a socket file
there; closing the socket does not remove it, and the next bind to that path fails with
EADDRINUSE until the file is gone. `unlink PATH` removes it, and only it: anything at PATH that is
not a socket (a regular file, a directory, a symlink) is refused. A socket still bound there keeps
working, but no new client can find it by the path. A script removes only the socket files its own
binds made (typed at the prompt, or in a script run with --allow-shell, any socket file).
Errors: ENOENT (nothing at PATH), EACCES/EPERM (the directory is not writable).
Example:  unlink /tmp/play.sock      (Python: os.unlink(\"/tmp/play.sock\"))",
    args: &[Arg::Path],
    runs_in: RunsIn::Session,
    panel: Panel::Hidden,
    parse: |args| {
        Ok(Command::Unlink {
            path: args.expect_path("PATH (a Unix socket file)")?,
        })
    },
    python: |command, _| match command {
        Command::Unlink { path } => Some(format!("os.unlink({:?})", path.display().to_string())),
        _ => None,
    },
};

pub static SOCKETPAIR: CommandSpec = CommandSpec {
    name: "socketpair",
    aliases: &[],
    group: Group::Sockets,
    usage: "socketpair FAMILY TYPE [as NAME NAME]",
    summary: "two sockets already connected to each other (unix only)",
    details: "\
socketpair(2) makes two unix sockets connected to each other, with no address and no listener: what
one sends the other receives. It is how a process talks to a child it forks, and each end is an fd
of its own. Only the unix family supports it on Linux.
Errors: EOPNOTSUPP (inet families), EMFILE.
Example:  socketpair unix stream as left right",
    args: &[Arg::Choice(FAMILY_WORDS), Arg::Choice(SockType::WORDS)],
    runs_in: RunsIn::Session,
    panel: Panel::Shown,
    parse: parse_socketpair,
    python: |command, py| match command {
        Command::Socketpair {
            family: f,
            sock_type: t,
            names,
        } => {
            let (a, b) = match names {
                Some((a, b)) => (py.new_var(Some(a), 0), py.new_var(Some(b), 1)),
                None => (py.new_var(None, 0), py.new_var(None, 1)),
            };
            Some(format!(
                "{a}, {b} = socket.socketpair({}, {})",
                family(*f),
                sock_type(*t)
            ))
        }
        _ => None,
    },
};

fn parse_socketpair(args: &mut Args) -> Result<Command, SyntaxError> {
    let (family, sock_type) = args.expect_family_type()?;
    let names = match args.optional_name()? {
        None => None,
        Some(first) => {
            let (second, column) =
                args.expect_name("a second NAME (socketpair makes two sockets)")?;
            if second == first {
                return Err(SyntaxError::new(
                    column,
                    "the two ends need different names".into(),
                ));
            }
            Some((first, second))
        }
    };
    Ok(Command::Socketpair {
        family,
        sock_type,
        names,
    })
}

pub static SHUTDOWN: CommandSpec = CommandSpec {
    name: "shutdown",
    aliases: &[],
    group: Group::Sockets,
    usage: "shutdown SOCK rd|wr|rdwr",
    summary: "half-close: stop sending (wr), receiving (rd) or both, keeping the fd",
    details: "\
shutdown(2) closes one direction of a connection without closing the fd. `shutdown c wr` sends FIN:
the peer's recv returns EOF and the peer sits in CLOSE_WAIT, while this side (now in FIN_WAIT2) can
still receive until the peer closes too. `rd` makes recv return 0 at once once the queue is empty;
TCP does not tell the peer, whose data still arrives, while a unix peer's sends then fail with
EPIPE. Unlike close, it acts on the connection itself, so it affects every fd that shares the
socket (see dup). On a TCP listener `rd` stops it listening (its queue is reset) and `wr` does
nothing.
Errors: ENOTCONN (a TCP or UDP socket that is not connected; a unix one takes shutdown anyway).
Example:  shutdown cli wr",
    args: &[Arg::Sock, Arg::Choice(How::WORDS)],
    runs_in: RunsIn::Session,
    panel: Panel::Shown,
    parse: |args| {
        let sock = args.expect_sock()?;
        let how = args.expect_word("direction")?;
        Ok(Command::Shutdown { sock, how })
    },
    python: |command, py| match command {
        Command::Shutdown { sock, how } => Some(format!(
            "{}.shutdown(socket.{})",
            py.var(sock),
            how.constant()
        )),
        _ => None,
    },
};
