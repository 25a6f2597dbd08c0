//! The fd behind the handle, options and fd passing: fileno, detach, close, the socket options,
//! the socket's addresses, nonblock, dup, makefile, sendfd and recvfd, each defined once (its help,
//! its argument grammar and its Python line).

use super::prelude::*;
use crate::lang::sockopt::parse_opt_value;
use crate::lang::OptValue;
use crate::net::{words, Words};

/// `on` or `off`, as `nonblock` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Switch {
    On,
    Off,
}

words!(Switch {
    "on" => Switch::On,
    "off" => Switch::Off,
});

pub static FILENO: CommandSpec = CommandSpec {
    name: "fileno",
    aliases: &[],
    group: Group::Handles,
    usage: "fileno SOCK",
    summary: "show the fd number behind a socket handle",
    details: "\
A socket object is a thin handle around a file descriptor; fileno returns that number. It is what
select, poll and epoll watch, and what shows in the panel's FD column. No syscall is made.
Example:  fileno srv      (Python: srv.fileno())",
    args: &[Arg::Sock],
    runs_in: RunsIn::Session,
    panel: Panel::Hidden,
    parse: |args| {
        Ok(Command::Fileno {
            sock: args.expect_sock()?,
        })
    },
    python: |command, py| match command {
        Command::Fileno { sock } => Some(format!("{}.fileno()", py.var(sock))),
        _ => None,
    },
};

pub static DETACH: CommandSpec = CommandSpec {
    name: "detach",
    aliases: &[],
    group: Group::Handles,
    usage: "detach SOCK",
    summary: "let the handle go of its fd: the fd stays open, owned by nobody",
    details: "\
detach ends the handle without closing the fd, as Python's socket.detach() does: the number keeps
referring to the open socket (the panel marks it detached) but the handle and its name are gone,
so send and recv through it fail with EBADF, as Python's do. Used to hand an fd to other code or
another process. `close N` still closes the raw fd (Python: os.close(N)). A file made with
`makefile` goes with the handle: the bytes it had read ahead or not yet flushed are lost, and
detach says how many. No syscall is made.
Example:  detach conn",
    args: &[Arg::Sock],
    runs_in: RunsIn::Session,
    panel: Panel::Shown,
    parse: |args| {
        Ok(Command::Detach {
            sock: args.expect_sock()?,
        })
    },
    python: |command, py| match command {
        Command::Detach { sock } => Some(format!("fd = {}.detach()", py.var(sock))),
        _ => None,
    },
};

pub static CLOSE: CommandSpec = CommandSpec {
    name: "close",
    aliases: &[],
    group: Group::Handles,
    usage: "close SOCK",
    summary: "close the fd; the last fd of a connection sends FIN (or RST)",
    details: "\
close(2) releases the fd, and the number becomes free for the next socket. Only the last fd for a
socket, in any process, closes the socket (see dup, fork, sendfd); closing another sends nothing.
When the last one goes, TCP starts an orderly shutdown (FIN): the peer reads EOF and moves to
CLOSE_WAIT, and this side goes through FIN_WAIT to TIME_WAIT (or, if the peer closed first,
through LAST_ACK). But with unread bytes in its receive queue, or with SO_LINGER on at 0 s, close
sends RST instead: the connection is reset, the peer's next call fails (ECONNRESET, or EPIPE for
a send after it read EOF), and no TIME_WAIT follows. With SO_LINGER on for N s, close waits up to
N s for unsent data. A closed listener resets the connections still waiting in its queue. A unix
socket has no FIN or RST: the peer reads EOF, or ECONNRESET if bytes were left unread; its socket
file stays until `unlink`. close says which it did.
Example:  close conn",
    args: &[Arg::Sock],
    runs_in: RunsIn::Session,
    panel: Panel::Shown,
    parse: |args| {
        Ok(Command::Close {
            sock: args.expect_sock()?,
        })
    },
    python: |command, py| match command {
        // By number, the fd itself is closed: it may be detached, with no socket object left.
        Command::Close {
            sock: SockRef::Fd(fd),
        } => Some(format!("os.close({fd})")),
        Command::Close { sock } => Some(format!("{}.close()", py.var(sock))),
        _ => None,
    },
};

pub static SETSOCKOPT: CommandSpec = CommandSpec {
    name: "setsockopt",
    aliases: &[],
    group: Group::Handles,
    usage: "setsockopt SOCK OPTION VALUE",
    summary: "set a socket option by name (SO_REUSEADDR 1, SO_LINGER on:0, …)",
    details: "\
setsockopt(2) changes how the kernel treats the socket. Options by name: SO_REUSEADDR, SO_REUSEPORT,
SO_KEEPALIVE, SO_RCVBUF, SO_SNDBUF, SO_RCVLOWAT, SO_BROADCAST, SO_LINGER (on:SECS or off),
SO_OOBINLINE, TCP_NODELAY, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT, TCP_MAXSEG, TCP_QUICKACK,
IPV6_V6ONLY. Flags take 1/0 or on/off. SO_LINGER on:0 makes close send RST instead of FIN.
Errors: ENOPROTOOPT or EOPNOTSUPP (the option does not apply to this socket: an IPv6 option on
an IPv4 socket, a TCP option on UDP), EINVAL (a bad value, or IPV6_V6ONLY after bind).
Example:  setsockopt srv SO_REUSEADDR 1      setsockopt c SO_LINGER on:0",
    args: &[Arg::Sock, Arg::Option],
    runs_in: RunsIn::Session,
    panel: Panel::Shown,
    parse: |args| {
        let sock = args.expect_sock()?;
        let option = args.expect_option()?;
        let token = args.expect("VALUE")?;
        let value = parse_opt_value(option, &token.text, token.column)?;
        Ok(Command::SetSockOpt {
            sock,
            option,
            value,
        })
    },
    python: |command, py| match command {
        Command::SetSockOpt {
            sock,
            option,
            value,
        } => {
            let value = match value {
                OptValue::Int(n) => n.to_string(),
                OptValue::Linger(None) => "struct.pack(\"ii\", 0, 0)".to_string(),
                OptValue::Linger(Some(secs)) => format!("struct.pack(\"ii\", 1, {secs})"),
            };
            Some(format!(
                "{}.setsockopt(socket.{}, socket.{}, {value})",
                py.var(sock),
                option.level_name,
                option.name
            ))
        }
        _ => None,
    },
};

pub static GETSOCKOPT: CommandSpec = CommandSpec {
    name: "getsockopt",
    aliases: &[],
    group: Group::Handles,
    usage: "getsockopt SOCK OPTION",
    summary: "read a socket option by name, shown in human terms",
    details: "\
getsockopt(2) reads an option: the ones setsockopt takes, plus read-only SO_ERROR (the pending error,
cleared by reading it), SO_TYPE, SO_DOMAIN and SO_ACCEPTCONN.
Example:  getsockopt c SO_RCVBUF      getsockopt c SO_ERROR",
    args: &[Arg::Sock, Arg::Option],
    runs_in: RunsIn::Session,
    panel: Panel::Hidden,
    parse: |args| {
        Ok(Command::GetSockOpt {
            sock: args.expect_sock()?,
            option: args.expect_option()?,
        })
    },
    python: |command, py| match command {
        Command::GetSockOpt { sock, option } => Some(format!(
            "{}.getsockopt(socket.{}, socket.{})",
            py.var(sock),
            option.level_name,
            option.name
        )),
        _ => None,
    },
};

pub static GETSOCKNAME: CommandSpec = CommandSpec {
    name: "getsockname",
    aliases: &[],
    group: Group::Handles,
    usage: "getsockname SOCK",
    summary: "the socket's own address",
    details: "getsockname(2) returns the local address: the one bound, or the ephemeral port connect chose.",
    args: &[Arg::Sock],
    runs_in: RunsIn::Session,
    panel: Panel::Hidden,
    parse: |args| {
        Ok(Command::GetSockName {
            sock: args.expect_sock()?,
        })
    },
    python: |command, py| match command {
        Command::GetSockName { sock } => Some(format!("{}.getsockname()", py.var(sock))),
        _ => None,
    },
};

pub static GETPEERNAME: CommandSpec = CommandSpec {
    name: "getpeername",
    aliases: &[],
    group: Group::Handles,
    usage: "getpeername SOCK",
    summary: "the address of the peer it is connected to",
    details: "getpeername(2) returns the peer's address. Errors: ENOTCONN when not connected.",
    args: &[Arg::Sock],
    runs_in: RunsIn::Session,
    panel: Panel::Hidden,
    parse: |args| {
        Ok(Command::GetPeerName {
            sock: args.expect_sock()?,
        })
    },
    python: |command, py| match command {
        Command::GetPeerName { sock } => Some(format!("{}.getpeername()", py.var(sock))),
        _ => None,
    },
};

pub static NONBLOCK: CommandSpec = CommandSpec {
    name: "nonblock",
    aliases: &[],
    group: Group::Handles,
    usage: "nonblock SOCK on|off",
    summary: "O_NONBLOCK: calls that would wait fail at once with EAGAIN",
    details: "\
Sets or clears O_NONBLOCK with fcntl(2). A non-blocking socket never waits: accept with an empty
queue, recv with no data, or send on a full buffer fail at once with EAGAIN (a unix connect to a
full listener too), and a TCP connect returns EINPROGRESS: the handshake has started and goes on
without it. Event loops (select, poll, epoll) use sockets this way.
Example:  nonblock conn on",
    args: &[Arg::Sock, Arg::Choice(Switch::WORDS)],
    runs_in: RunsIn::Session,
    panel: Panel::Shown,
    parse: |args| {
        let sock = args.expect_sock()?;
        let on = args.expect_word::<Switch>("on or off")? == Switch::On;
        Ok(Command::Nonblock { sock, on })
    },
    python: |command, py| match command {
        Command::Nonblock { sock, on } => Some(format!(
            "{}.setblocking({})",
            py.var(sock),
            if *on { "False" } else { "True" }
        )),
        _ => None,
    },
};

pub static DUP: CommandSpec = CommandSpec {
    name: "dup",
    aliases: &[],
    group: Group::Handles,
    usage: "dup SOCK [as NAME]",
    summary: "a second fd for the same socket (same inode in the panel)",
    details: "\
dup(2) makes a new fd that refers to the same open socket: the lowest free number. dup(2) never
copies close-on-exec, so the copy is inheritable and a process started with `spawn` gets it (Python's
`sock.dup()` asks for fcntl(F_DUPFD_CLOEXEC) instead, whose copy is close-on-exec). Both numbers
work; the socket itself closes only when the last fd for it is closed, so `close` on one of them
sends no FIN.
Example:  dup conn as conn2",
    args: &[Arg::Sock],
    runs_in: RunsIn::Session,
    panel: Panel::Shown,
    parse: |args| {
        Ok(Command::Dup {
            sock: args.expect_sock()?,
            name: args.optional_name()?,
        })
    },
    python: |command, py| match command {
        Command::Dup { sock, name } => {
            let copy = py.new_var(name.as_deref(), 0);
            Some(format!(
                "{copy} = {}.dup(); os.set_inheritable({copy}.fileno(), True)",
                py.var(sock)
            ))
        }
        _ => None,
    },
};

/// The name of a file object made without `as NAME`: `file3` over fd 3, `conn_file` over `conn`.
pub fn default_file_name(sock: &SockRef) -> String {
    match sock {
        SockRef::Fd(fd) => format!("file{fd}"),
        SockRef::Name(name) => format!("{name}_file"),
    }
}

pub static MAKEFILE: CommandSpec = CommandSpec {
    name: "makefile",
    aliases: &[],
    group: Group::Handles,
    usage: "makefile SOCK [as NAME]",
    summary: "a buffered file-like wrapper over the socket's fd (no new fd)",
    details: "\
Like Python's socket.makefile('rwb'): a file object over the same fd, with its own buffers in this
process. `readline NAME` pulls bytes from the socket into the read buffer and hands back one line;
what was pulled but not returned stays buffered here, not in the kernel's RECV-Q. `write NAME DATA`
only fills the write buffer; nothing reaches the socket until `flush NAME`. Without `as NAME` the
file is called after the socket: `file3` for `makefile 3`, `conn_file` for `makefile conn`.
Example:  makefile conn as f",
    args: &[Arg::Sock],
    runs_in: RunsIn::Session,
    panel: Panel::Shown,
    parse: |args| {
        Ok(Command::Makefile {
            sock: args.expect_sock()?,
            name: args.optional_name()?,
        })
    },
    python: |command, py| match command {
        Command::Makefile { sock, name } => Some(format!(
            "{} = {}.makefile(\"rwb\")",
            name.clone().unwrap_or_else(|| default_file_name(sock)),
            py.var(sock)
        )),
        _ => None,
    },
};

pub static SENDFD: CommandSpec = CommandSpec {
    name: "sendfd",
    aliases: &[],
    group: Group::Handles,
    usage: "sendfd SOCK FD",
    summary: "pass an open fd to the peer of a unix socket (SCM_RIGHTS)",
    details: "\
sendmsg(2) of one zero byte with an SCM_RIGHTS control message: the kernel gives the receiver its
own fd for the same open file or socket, and FD stays open here too. This is how a process hands
a connection to another one. Until the message is received the kernel holds the socket: close
every fd of it here and the connection goes on, shown without an fd (`held by an fd in flight`)
under the fd it came from. Only unix sockets carry fds: over TCP or UDP the kernel sends the byte
and ignores SCM_RIGHTS, without an error.
Errors: ENOTCONN (not connected), ETOOMANYREFS (too many fds in flight), EPIPE.
Example:  sendfd left conn",
    args: &[Arg::Sock, Arg::Sock],
    runs_in: RunsIn::Session,
    panel: Panel::Shown,
    parse: |args| {
        Ok(Command::SendFd {
            sock: args.expect_sock()?,
            fd: args.expect_sock()?,
        })
    },
    python: |command, py| match command {
        Command::SendFd { sock, fd } => Some(format!(
            "socket.send_fds({}, [b\"\\0\"], [{}.fileno()])",
            py.var(sock),
            py.var(fd)
        )),
        _ => None,
    },
};

pub static RECVFD: CommandSpec = CommandSpec {
    name: "recvfd",
    aliases: &[],
    group: Group::Handles,
    usage: "recvfd SOCK [as NAME]",
    summary: "receive an fd passed over a unix socket: it arrives under a new number",
    details: "\
recvmsg(2) with room for 4096 bytes and an SCM_RIGHTS message: the passed socket arrives as a new fd
(the lowest free number here), sharing the inode of the one sent. Bytes that came without an fd
(plain `send`, or a socket that is not unix) are shown, and no fd appears; 0 bytes is EOF.
Example:  recvfd right as conn2",
    args: &[Arg::Sock],
    runs_in: RunsIn::Session,
    panel: Panel::Shown,
    parse: |args| {
        Ok(Command::RecvFd {
            sock: args.expect_sock()?,
            name: args.optional_name()?,
        })
    },
    python: |command, py| {
        match command {
        Command::RecvFd { sock, name } => Some(format!(
            "msg, fds, flags, addr = socket.recv_fds({}, 4096, 253); {} = socket.socket(fileno=fds[0])",
            py.var(sock),
            py.new_var(name.as_deref(), 0)
        )),
        _ => None,
    }
    },
};
