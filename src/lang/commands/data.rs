//! Moving bytes: send, recv, sendto, recvfrom and the buffered file object's readline, read, write
//! and flush, each defined once (its help, its argument grammar and its Python line).

use super::prelude::*;

/// The largest MAX a `recv` may ask for, so a typo cannot allocate gigabytes.
pub const RECV_MAX_LIMIT: usize = 16 * 1024 * 1024;

/// The most `send --bytes` may send in one command (64 MiB: enough to fill any socket buffer).
pub const SEND_PATTERN_LIMIT: usize = 64 * 1024 * 1024;

/// The word after MAX (or before it) that asks `recv` and `recvfrom` for a hexdump.
const HEX: &str = "hex";

/// `SOCK [MAX] [hex]`, as `recv` and `recvfrom` take them (`hex` may come before MAX too).
fn expect_receive(args: &mut Args) -> Result<(SockRef, usize, bool), SyntaxError> {
    let sock = args.expect_sock()?;
    let hex = args.eat_keyword(HEX);
    let max = args
        .optional_number("MAX", 1..=RECV_MAX_LIMIT)?
        .unwrap_or(4096);
    let hex = hex || args.eat_keyword(HEX);
    Ok((sock, max, hex))
}

/// What `send` and `sendto` send: DATA, or `--bytes N`, N bytes of a pattern.
fn expect_payload(args: &mut Args) -> Result<Payload, SyntaxError> {
    if args.eat_keyword("--bytes") {
        let n = args.expect_number("N (bytes)", 1..=SEND_PATTERN_LIMIT)?;
        return Ok(Payload::Pattern(n));
    }
    Ok(Payload::Bytes(args.expect_data()?))
}

/// The Python expression for what is sent: a bytes literal, or the pattern `--bytes N` sends.
fn python_payload(payload: &Payload) -> String {
    match payload {
        Payload::Bytes(data) => bytes(data),
        Payload::Pattern(n) => format!("(b\"{PATTERN}\" * {})[:{n}]", n.div_ceil(PATTERN.len())),
    }
}

pub static SEND: CommandSpec = CommandSpec {
    name: "send",
    aliases: &[],
    group: Group::Data,
    usage: "send SOCK DATA | send SOCK --bytes N",
    summary: "send bytes (escapes: \\r \\n \\t \\0 \\\\ \\\" \\xHH)",
    details: "\
send(2) copies DATA into the socket's send buffer; the kernel transmits it when it can. A blocking
send waits until all of DATA fits; it returns fewer bytes (a short send) only when a signal cuts
that wait (here the timeout or Ctrl-C), or on a non-blocking socket whose buffer filled.
DATA is the rest of the line; quote it to keep spaces exact, and use escapes for bytes you cannot
type: \\r \\n \\t \\0 \\\\ \\\" \\xHH. `--bytes N` sends N bytes of the alphabet, to fill buffers.
Errors: EPIPE (the connection is closed for sending: the peer is gone, this side shut down, or,
on Linux TCP, the socket was never connected), ECONNRESET (the peer reset the connection),
ENOTCONN (a unix socket that is not connected), EDESTADDRREQ (an unconnected datagram socket),
EAGAIN (non-blocking and the buffer is full).
Example:  send cli \"GET / HTTP/1.1\\r\\nHost: localhost\\r\\n\\r\\n\"",
    args: &[Arg::Sock, Arg::Data],
    runs_in: RunsIn::Session,
    panel: Panel::Shown,
    parse: |args| {
        let sock = args.expect_sock()?;
        let payload = expect_payload(args)?;
        Ok(Command::Send { sock, payload })
    },
    python: |command, py| match command {
        Command::Send { sock, payload } => Some(format!(
            "{}.send({})",
            py.var(sock),
            python_payload(payload)
        )),
        _ => None,
    },
};

pub static RECV: CommandSpec = CommandSpec {
    name: "recv",
    aliases: &[],
    group: Group::Data,
    usage: "recv SOCK [MAX] [hex]",
    summary: "receive up to MAX bytes (default 4096); 0 bytes means the peer closed",
    details: "\
recv(2) takes up to MAX bytes out of the socket's receive queue (RECV-Q in the panel). With an empty
queue it waits in the kernel for data, here at most the session timeout. On a stream, a return of
0 bytes is not an error: it is EOF, the peer has closed its side (TCP: sent FIN, and this side
sits in CLOSE_WAIT until you close it), or this side shut down reading. On a datagram socket 0 is
an empty datagram. Received bytes are shown escaped, never raw; binary data (or any, with `hex`)
also as a hexdump.
Errors: ENOTCONN at once (a TCP socket that is not connected, a listener included), EINVAL (a unix
stream socket that is not connected), ECONNRESET (the peer reset), ECONNREFUSED (a connected
UDP socket whose earlier datagram found no receiver), EAGAIN (non-blocking, nothing queued);
ETIMEDOUT is sockplay's: nothing arrived within the session timeout.
Example:  recv conn        recv conn 10        recv conn hex",
    args: &[Arg::Sock, Arg::Number, Arg::Choice(&[HEX])],
    runs_in: RunsIn::Session,
    panel: Panel::Shown,
    parse: |args| {
        let (sock, max, hex) = expect_receive(args)?;
        Ok(Command::Recv { sock, max, hex })
    },
    python: |command, py| match command {
        Command::Recv { sock, max, .. } => Some(format!("data = {}.recv({max})", py.var(sock))),
        _ => None,
    },
};

pub static SENDTO: CommandSpec = CommandSpec {
    name: "sendto",
    aliases: &[],
    group: Group::Data,
    usage: "sendto SOCK ADDR DATA | sendto SOCK ADDR --bytes N",
    summary: "send one datagram to ADDR (UDP, unix dgram)",
    details: "\
sendto(2) sends DATA to ADDR without a connection: each call is one datagram, delivered whole or not
at all. An unbound UDP socket gets an ephemeral port on its first sendto; a connected UDP socket
may still send elsewhere. On a connected TCP socket Linux ignores ADDR and sends on the
connection, as send would. `--bytes N` sends N bytes of the alphabet.
Errors: EMSGSIZE (too big for one datagram), EINVAL (port 0), EPIPE (a TCP socket that is not
connected), EISCONN or EOPNOTSUPP (a unix stream socket, connected or not: it takes no address),
ENOENT (no unix socket file at the path), ECONNREFUSED (a connected UDP socket's earlier datagram
found no receiver).
Example:  sendto u 127.0.0.1:9999 \"hello\\x00\\xff\"",
    args: &[Arg::Sock, Arg::Addr, Arg::Data],
    runs_in: RunsIn::Session,
    panel: Panel::Shown,
    parse: |args| {
        Ok(Command::SendTo {
            sock: args.expect_sock()?,
            addr: args.expect_addr()?,
            payload: expect_payload(args)?,
        })
    },
    python: |command, py| match command {
        Command::SendTo {
            sock,
            addr,
            payload,
        } => Some(format!(
            "{}.sendto({}, {})",
            py.var(sock),
            python_payload(payload),
            address(addr)
        )),
        _ => None,
    },
};

pub static RECVFROM: CommandSpec = CommandSpec {
    name: "recvfrom",
    aliases: &[],
    group: Group::Data,
    usage: "recvfrom SOCK [MAX] [hex]",
    summary: "receive one datagram and see who sent it",
    details: "\
recvfrom(2) takes the next datagram off the queue and reports the sender's address. A datagram
longer than MAX is cut and the rest is lost (shown as truncated). Waits in the kernel, here at most
the session timeout.
Errors: EAGAIN (non-blocking), ECONNREFUSED (a connected UDP socket: ICMP told of an unreachable
port; an unconnected one is not told), ENOTCONN (a TCP socket that is not connected);
ETIMEDOUT is sockplay's: nothing arrived within the session timeout.
Example:  recvfrom u",
    args: &[Arg::Sock, Arg::Number, Arg::Choice(&[HEX])],
    runs_in: RunsIn::Session,
    panel: Panel::Shown,
    parse: |args| {
        let (sock, max, hex) = expect_receive(args)?;
        Ok(Command::RecvFrom { sock, max, hex })
    },
    python: |command, py| match command {
        Command::RecvFrom { sock, max, .. } => {
            Some(format!("data, addr = {}.recvfrom({max})", py.var(sock)))
        }
        _ => None,
    },
};

pub static READLINE: CommandSpec = CommandSpec {
    name: "readline",
    aliases: &[],
    group: Group::Data,
    usage: "readline NAME",
    summary: "read one line through a makefile (buffered)",
    details: "Returns bytes up to and including the next \\n, reading from the socket as needed.",
    args: &[Arg::File],
    runs_in: RunsIn::Session,
    panel: Panel::Shown,
    parse: |args| {
        Ok(Command::ReadLine {
            file: args.expect_file()?,
        })
    },
    python: |command, _| match command {
        Command::ReadLine { file } => Some(format!("line = {file}.readline()")),
        _ => None,
    },
};

pub static READ: CommandSpec = CommandSpec {
    name: "read",
    aliases: &[],
    group: Group::Data,
    usage: "read NAME [N]",
    summary: "read N bytes through a makefile (all until EOF without N)",
    details: "Returns N bytes (fewer at EOF), from the buffer first, then the socket.",
    args: &[Arg::File, Arg::Number],
    runs_in: RunsIn::Session,
    panel: Panel::Shown,
    parse: |args| {
        let file = args.expect_file()?;
        let max = args.optional_number("N", 1..=RECV_MAX_LIMIT)?;
        Ok(Command::Read { file, max })
    },
    python: |command, _| match command {
        Command::Read { file, max } => Some(format!(
            "data = {file}.read({})",
            max.map_or(String::new(), |n| n.to_string())
        )),
        _ => None,
    },
};

pub static WRITE: CommandSpec = CommandSpec {
    name: "write",
    aliases: &[],
    group: Group::Data,
    usage: "write NAME DATA",
    summary: "write into a makefile's buffer (sent on flush)",
    details: "Appends DATA to the file's write buffer; the socket sees nothing until `flush NAME`.",
    args: &[Arg::File, Arg::Data],
    runs_in: RunsIn::Session,
    panel: Panel::Shown,
    parse: |args| {
        Ok(Command::Write {
            file: args.expect_file()?,
            data: args.expect_data()?,
        })
    },
    python: |command, _| match command {
        Command::Write { file, data } => Some(format!("{file}.write({})", bytes(data))),
        _ => None,
    },
};

pub static FLUSH: CommandSpec = CommandSpec {
    name: "flush",
    aliases: &[],
    group: Group::Data,
    usage: "flush NAME",
    summary: "send what a makefile's buffer holds",
    details: "Sends the whole write buffer with send(2).",
    args: &[Arg::File],
    runs_in: RunsIn::Session,
    panel: Panel::Shown,
    parse: |args| {
        Ok(Command::Flush {
            file: args.expect_file()?,
        })
    },
    python: |command, _| match command {
        Command::Flush { file } => Some(format!("{file}.flush()")),
        _ => None,
    },
};
