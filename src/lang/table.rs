//! The command table: every command is defined here once — name, usage, help, argument kinds and the
//! function that parses its arguments. Parsing, `help`, Tab completion and hints all read this table.

use super::parser::{self, Args};
use super::{Command, SyntaxError};

/// What kind of word an argument position takes, so completion knows what to offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg {
    /// An fd number or a socket name.
    Sock,
    /// An address (`127.0.0.1:8080`, `:0`, `/tmp/x.sock`, `@name`, `$srv`).
    Addr,
    /// Bytes with escapes.
    Data,
    /// A number (backlog, MAX, milliseconds…).
    Number,
    /// One word out of a fixed set.
    Choice(&'static [&'static str]),
    /// Free text.
    Text,
    /// A command name (for `help`).
    CommandName,
    /// A socket option name.
    Option,
    /// The name of a makefile file object.
    File,
    /// A file path.
    Path,
}

/// How `help` groups commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Sockets,
    Data,
    Handles,
    Multiplexing,
    Processes,
    Session,
    Checks,
}

impl Group {
    pub const ALL: [Group; 7] = [
        Group::Sockets,
        Group::Data,
        Group::Handles,
        Group::Multiplexing,
        Group::Processes,
        Group::Session,
        Group::Checks,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Group::Sockets => "Making and connecting sockets",
            Group::Data => "Moving bytes",
            Group::Handles => "The fd behind the handle, options, fd passing",
            Group::Multiplexing => "Waiting on many sockets",
            Group::Processes => "Processes: each with its own fd table",
            Group::Session => "The session",
            Group::Checks => "Checks (for scripts)",
        }
    }
}

/// One command's whole definition.
#[derive(Debug)]
pub struct CommandSpec {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub group: Group,
    pub usage: &'static str,
    /// One line for the command list and hints.
    pub summary: &'static str,
    /// What the call does in the kernel, the errors it can return, and an example.
    pub details: &'static str,
    pub args: &'static [Arg],
    pub parse: fn(&mut Args) -> Result<Command, SyntaxError>,
}

const FAMILIES: &[&str] = &["inet", "inet6", "unix", "tcp", "udp"];
const TYPES: &[&str] = &["stream", "dgram", "seqpacket", "raw"];
const CHECKS: &[&str] = &[
    "state", "fd", "data", "eof", "error", "open", "closed", "output",
];
const SETTINGS: &[&str] = &["timeout", "panel", "explain"];

/// Every command sockplay knows, in the order `help` lists them.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
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
        args: &[Arg::Choice(FAMILIES), Arg::Choice(TYPES)],
        parse: parser::socket,
    },
    CommandSpec {
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
Errors: EADDRINUSE (another socket holds the address, or a TIME_WAIT leftover: try SO_REUSEADDR),
EACCES (ports below 1024 need privilege), EADDRNOTAVAIL (not an address of this machine),
EINVAL (the socket is already bound).
Example:  bind srv 127.0.0.1:8080     bind srv :0     bind u /tmp/play.sock     bind u @play",
        args: &[Arg::Sock, Arg::Addr],
        parse: parser::bind,
    },
    CommandSpec {
        name: "listen",
        aliases: &[],
        group: Group::Sockets,
        usage: "listen SOCK [BACKLOG]",
        summary: "turn a bound socket into a listener with an accept queue (default 128)",
        details: "\
listen(2) marks a stream socket as passive: from now on the kernel completes TCP handshakes for it
by itself and parks each finished connection in the accept queue, whose limit is BACKLOG. The
panel shows the listener in LISTEN, with RECV-Q = connections waiting and SEND-Q = the limit.
An unbound socket gets an ephemeral port. Nothing reaches your program until you `accept`.
Errors: EADDRINUSE (another listener on the port), EOPNOTSUPP (datagram sockets cannot listen).
Example:  listen srv        listen srv 5",
        args: &[Arg::Sock, Arg::Number],
        parse: parser::listen,
    },
    CommandSpec {
        name: "accept",
        aliases: &[],
        group: Group::Sockets,
        usage: "accept SOCK [as NAME]",
        summary: "take the next connection off a listener's queue: it arrives as a new fd",
        details: "\
accept(2) removes the oldest completed connection from the listener's accept queue and gives it a
brand-new fd (the listener itself stays open, still listening). The connection existed before:
the handshake was done by the kernel; accept only hands it to you. With an empty queue accept
waits, here at most the session timeout (Ctrl-C stops the wait).
Errors: ETIMEDOUT (nobody connected in time), EINVAL (the socket is not listening),
EAGAIN (non-blocking and the queue is empty), EMFILE (no free fd for the new socket).
Example:  accept srv as conn      (Python: conn, addr = srv.accept())",
        args: &[Arg::Sock],
        parse: parser::accept,
    },
    CommandSpec {
        name: "connect",
        aliases: &[],
        group: Group::Sockets,
        usage: "connect SOCK ADDR",
        summary: "connect to a peer (TCP: the three-way handshake)",
        details: "\
connect(2) on a stream socket starts the TCP handshake (SYN, SYN-ACK, ACK) with ADDR and waits until
it completes; the socket gets an ephemeral local port if it was not bound. On a datagram socket it
only sets the default destination and filters what recv accepts.
Errors: ECONNREFUSED (nothing listens there), ETIMEDOUT (no answer), ENETUNREACH,
EISCONN (already connected), EINPROGRESS (non-blocking: the handshake continues in the background).
Example:  connect cli 127.0.0.1:8080      connect cli $srv      connect u /tmp/play.sock",
        args: &[Arg::Sock, Arg::Addr],
        parse: parser::connect,
    },
    CommandSpec {
        name: "send",
        aliases: &[],
        group: Group::Data,
        usage: "send SOCK DATA | send SOCK --bytes N",
        summary: "send bytes (escapes: \\r \\n \\t \\0 \\\\ \\\" \\xHH)",
        details: "\
send(2) copies DATA into the socket's send buffer; the kernel transmits it when it can. The count
returned is how much was accepted: fewer bytes than given (a short send) means the buffer filled.
DATA is the rest of the line; quote it to keep spaces exact, and use escapes for bytes you cannot
type: \\r \\n \\t \\0 \\\\ \\\" \\xHH.
Errors: EPIPE (the peer is gone and you wrote anyway), ECONNRESET (the peer reset the connection),
ENOTCONN (not connected), EAGAIN (non-blocking and the buffer is full).
Example:  send cli \"GET / HTTP/1.1\\r\\nHost: localhost\\r\\n\\r\\n\"",
        args: &[Arg::Sock, Arg::Data],
        parse: parser::send,
    },
    CommandSpec {
        name: "recv",
        aliases: &[],
        group: Group::Data,
        usage: "recv SOCK [MAX] [hex]",
        summary: "receive up to MAX bytes (default 4096); 0 bytes means the peer closed",
        details: "\
recv(2) takes up to MAX bytes out of the socket's receive queue (RECV-Q in the panel). With an empty
queue it waits for data, here at most the session timeout. A return of 0 bytes is not an error:
it is EOF, the peer has closed its side (sent FIN), and the connection sits in CLOSE_WAIT on this
side until you close it. Received bytes are shown escaped, never raw; binary data (or any, with
`hex`) also as a hexdump.
Errors: ETIMEDOUT (nothing arrived in time), ECONNRESET (the peer reset), ENOTCONN, EAGAIN.
Example:  recv conn        recv conn 10        recv conn hex",
        args: &[Arg::Sock, Arg::Number, Arg::Choice(&["hex"])],
        parse: parser::recv,
    },
    CommandSpec {
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
        parse: parser::fileno,
    },
    CommandSpec {
        name: "detach",
        aliases: &[],
        group: Group::Handles,
        usage: "detach SOCK",
        summary: "let the handle go of its fd: the fd stays open, owned by nobody",
        details: "\
detach ends the handle without closing the fd, as Python's socket.detach() does: the number keeps
referring to the open socket (the panel marks it detached) but the handle and its name are gone,
so send and recv through it no longer work. Used to hand an fd to other code or another process.
`close N` still closes the raw fd. No syscall is made.
Example:  detach conn",
        args: &[Arg::Sock],
        parse: parser::detach,
    },
    CommandSpec {
        name: "close",
        aliases: &[],
        group: Group::Handles,
        usage: "close SOCK",
        summary: "close the fd: TCP sends FIN and the number becomes free",
        details: "\
close(2) releases the fd. When it was the last fd for the socket, TCP starts an orderly shutdown
(FIN): the peer reads EOF and moves to CLOSE_WAIT, and this side goes through FIN_WAIT to TIME_WAIT.
The fd number becomes free and the next socket may reuse it. A closed listener resets the
connections still waiting in its queue.
Example:  close conn",
        args: &[Arg::Sock],
        parse: parser::close,
    },
    CommandSpec {
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
        parse: parser::unlink,
    },
    CommandSpec {
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
        args: &[Arg::Choice(FAMILIES), Arg::Choice(TYPES)],
        parse: parser::socketpair,
    },
    CommandSpec {
        name: "shutdown",
        aliases: &[],
        group: Group::Sockets,
        usage: "shutdown SOCK rd|wr|rdwr",
        summary: "half-close: stop sending (wr), receiving (rd) or both, keeping the fd",
        details: "\
shutdown(2) closes one direction of a connection without closing the fd. `shutdown c wr` sends FIN:
the peer's recv returns EOF and the peer sits in CLOSE_WAIT, while this side (now in FIN_WAIT2) can
still receive until the peer closes too. Unlike close, it acts on the connection itself, so it
affects every fd that shares the socket (see dup).
Errors: ENOTCONN (not connected).
Example:  shutdown cli wr",
        args: &[Arg::Sock, Arg::Choice(&["rd", "wr", "rdwr"])],
        parse: parser::shutdown,
    },
    CommandSpec {
        name: "sendto",
        aliases: &[],
        group: Group::Data,
        usage: "sendto SOCK ADDR DATA",
        summary: "send one datagram to ADDR (UDP, unix dgram)",
        details: "\
sendto(2) sends DATA to ADDR without a connection: each call is one datagram, delivered whole or not
at all. An unbound UDP socket gets an ephemeral port on its first sendto.
Errors: EMSGSIZE (too big for one datagram), EISCONN (a connected TCP socket), ECONNREFUSED (an
earlier datagram was refused by the peer's host).
Example:  sendto u 127.0.0.1:9999 \"hello\\x00\\xff\"",
        args: &[Arg::Sock, Arg::Addr, Arg::Data],
        parse: parser::sendto,
    },
    CommandSpec {
        name: "recvfrom",
        aliases: &[],
        group: Group::Data,
        usage: "recvfrom SOCK [MAX] [hex]",
        summary: "receive one datagram and see who sent it",
        details: "\
recvfrom(2) takes the next datagram off the queue and reports the sender's address. A datagram
longer than MAX is cut and the rest is lost (shown as truncated). Waits up to the session timeout.
Errors: ETIMEDOUT, EAGAIN (non-blocking), ECONNREFUSED (ICMP told of an unreachable port).
Example:  recvfrom u",
        args: &[Arg::Sock, Arg::Number, Arg::Choice(&["hex"])],
        parse: parser::recvfrom,
    },
    CommandSpec {
        name: "setsockopt",
        aliases: &[],
        group: Group::Handles,
        usage: "setsockopt SOCK OPTION VALUE",
        summary: "set a socket option by name (SO_REUSEADDR 1, SO_LINGER on:0, …)",
        details: "\
setsockopt(2) changes how the kernel treats the socket. Options by name: SO_REUSEADDR, SO_REUSEPORT,
SO_KEEPALIVE, SO_RCVBUF, SO_SNDBUF, SO_RCVLOWAT, SO_BROADCAST, SO_LINGER (on:SECS or off),
SO_OOBINLINE, TCP_NODELAY, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT, TCP_MAXSEG, TCP_QUICKACK,
IPV6_V6ONLY. Flags take 1/0 or on/off.
Errors: ENOPROTOOPT (the option does not apply to this socket), EINVAL.
Example:  setsockopt srv SO_REUSEADDR 1      setsockopt c SO_LINGER on:0",
        args: &[Arg::Sock, Arg::Option],
        parse: parser::setsockopt,
    },
    CommandSpec {
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
        parse: parser::getsockopt,
    },
    CommandSpec {
        name: "getsockname",
        aliases: &[],
        group: Group::Handles,
        usage: "getsockname SOCK",
        summary: "the socket's own address",
        details: "getsockname(2) returns the local address: the one bound, or the ephemeral port connect chose.",
        args: &[Arg::Sock],
        parse: parser::getsockname,
    },
    CommandSpec {
        name: "getpeername",
        aliases: &[],
        group: Group::Handles,
        usage: "getpeername SOCK",
        summary: "the address of the peer it is connected to",
        details: "getpeername(2) returns the peer's address. Errors: ENOTCONN when not connected.",
        args: &[Arg::Sock],
        parse: parser::getpeername,
    },
    CommandSpec {
        name: "nonblock",
        aliases: &[],
        group: Group::Handles,
        usage: "nonblock SOCK on|off",
        summary: "O_NONBLOCK: calls that would wait fail at once with EAGAIN",
        details: "\
Sets or clears O_NONBLOCK with fcntl(2). A non-blocking socket never waits: accept with an empty
queue, recv with no data, or send on a full buffer fail at once with EAGAIN, and connect returns
EINPROGRESS while the handshake goes on. Event loops (select, poll, epoll) use sockets this way.
Example:  nonblock conn on",
        args: &[Arg::Sock, Arg::Choice(&["on", "off"])],
        parse: parser::nonblock,
    },
    CommandSpec {
        name: "dup",
        aliases: &[],
        group: Group::Handles,
        usage: "dup SOCK [as NAME]",
        summary: "a second fd for the same socket (same inode in the panel)",
        details: "\
dup(2) makes a new fd that refers to the same open socket. Both numbers work; the socket itself
closes only when the last fd for it is closed, so `close` on one of them sends no FIN.
Example:  dup conn as conn2",
        args: &[Arg::Sock],
        parse: parser::dup,
    },
    CommandSpec {
        name: "makefile",
        aliases: &[],
        group: Group::Handles,
        usage: "makefile SOCK [as NAME]",
        summary: "a buffered file-like wrapper over the socket's fd (no new fd)",
        details: "\
Like Python's socket.makefile('rwb'): a file object over the same fd, with its own buffers in this
process. `readline NAME` pulls bytes from the socket into the read buffer and hands back one line;
what was pulled but not returned stays buffered here, not in the kernel's RECV-Q. `write NAME DATA`
only fills the write buffer; nothing reaches the socket until `flush NAME`.
Example:  makefile conn as f",
        args: &[Arg::Sock],
        parse: parser::makefile,
    },
    CommandSpec {
        name: "readline",
        aliases: &[],
        group: Group::Data,
        usage: "readline NAME",
        summary: "read one line through a makefile (buffered)",
        details: "Returns bytes up to and including the next \\n, reading from the socket as needed.",
        args: &[Arg::File],
        parse: parser::readline,
    },
    CommandSpec {
        name: "read",
        aliases: &[],
        group: Group::Data,
        usage: "read NAME [N]",
        summary: "read N bytes through a makefile (all until EOF without N)",
        details: "Returns N bytes (fewer at EOF), from the buffer first, then the socket.",
        args: &[Arg::File, Arg::Number],
        parse: parser::read,
    },
    CommandSpec {
        name: "write",
        aliases: &[],
        group: Group::Data,
        usage: "write NAME DATA",
        summary: "write into a makefile's buffer (sent on flush)",
        details: "Appends DATA to the file's write buffer; the socket sees nothing until `flush NAME`.",
        args: &[Arg::File, Arg::Data],
        parse: parser::write,
    },
    CommandSpec {
        name: "flush",
        aliases: &[],
        group: Group::Data,
        usage: "flush NAME",
        summary: "send what a makefile's buffer holds",
        details: "Sends the whole write buffer with send(2).",
        args: &[Arg::File],
        parse: parser::flush,
    },
    CommandSpec {
        name: "select",
        aliases: &[],
        group: Group::Multiplexing,
        usage: "select [read SOCK…] [write SOCK…] [timeout MS]",
        summary: "wait until some of the sockets are ready to read or write",
        details: "\
select(2) watches several fds at once and returns the ones ready: readable (data, EOF, or for a
listener a connection waiting to be accepted) or writable (room in the send buffer). After it, a
recv or accept on a ready fd does not block. Without `timeout` it waits up to the session timeout;
`timeout 0` just looks. fds must be below FD_SETSIZE (1024): that limit is why poll and epoll exist.
Example:  select read srv conn timeout 1000",
        args: &[Arg::Choice(&["read", "write", "timeout"]), Arg::Sock, Arg::Sock, Arg::Sock],
        parse: parser::select,
    },
    CommandSpec {
        name: "poll",
        aliases: &[],
        group: Group::Multiplexing,
        usage: "poll SOCK… [timeout MS]",
        summary: "the events each socket has now (POLLIN, POLLOUT, POLLHUP, POLLRDHUP, POLLERR)",
        details: "\
poll(2) asks for POLLIN, POLLOUT and POLLRDHUP on each socket and shows what came back: POLLIN data
or a pending connection, POLLOUT room to send, POLLRDHUP the peer shut its writing side, POLLHUP
both directions are shut, POLLERR an error is pending (read it with getsockopt SO_ERROR).
Example:  poll srv conn timeout 0",
        args: &[Arg::Sock, Arg::Sock, Arg::Sock],
        parse: parser::poll,
    },
    CommandSpec {
        name: "epoll",
        aliases: &[],
        group: Group::Multiplexing,
        usage: "epoll create [as NAME] | add EP SOCK [in] [out] [rdhup] | del EP SOCK | wait EP [timeout MS]",
        summary: "an epoll instance: register sockets once, then wait for the ready ones",
        details: "\
epoll(7) keeps the interest list in the kernel: `epoll create` makes an epoll fd (it shows in the
panel), `epoll add EP SOCK in` registers a socket for readability (out: writability, rdhup: the
peer's half-close), `epoll wait EP` returns only the ready ones, however many are registered.
Example:  epoll create as ep;  epoll add ep srv in;  epoll wait ep timeout 1000",
        args: &[Arg::Choice(&["create", "add", "del", "wait"]), Arg::Sock, Arg::Sock, Arg::Choice(&["in", "out", "rdhup"])],
        parse: parser::epoll,
    },
    CommandSpec {
        name: "sendfd",
        aliases: &[],
        group: Group::Handles,
        usage: "sendfd SOCK FD",
        summary: "pass an open fd to the peer of a unix socket (SCM_RIGHTS)",
        details: "\
sendmsg(2) with an SCM_RIGHTS control message: the kernel gives the receiver its own fd for the
same open file or socket. This is how a process hands a connection to another one.
Example:  sendfd left conn",
        args: &[Arg::Sock, Arg::Sock],
        parse: parser::sendfd,
    },
    CommandSpec {
        name: "recvfd",
        aliases: &[],
        group: Group::Handles,
        usage: "recvfd SOCK [as NAME]",
        summary: "receive an fd passed over a unix socket: it arrives under a new number",
        details: "\
recvmsg(2) taking an SCM_RIGHTS message: the passed socket arrives as a new fd (the lowest free
number here), sharing the inode of the one sent.
Example:  recvfd right as conn2",
        args: &[Arg::Sock],
        parse: parser::recvfd,
    },
    CommandSpec {
        name: "spawn",
        aliases: &[],
        group: Group::Processes,
        usage: "spawn NAME",
        summary: "start a new process (fork + exec) with fds 0, 1, 2 and the inheritable ones",
        details: "\
The current process calls fork(2), and the child execs sockplay afresh, as a shell starts a
program: exec(2) closes every fd marked close-on-exec, so the new process starts with 0, 1, 2 and
only the fds made inheritable (`inheritable SOCK on`); its first socket is fd 3 unless one was
inherited there. sockplay's sockets are close-on-exec by default, as Python's are. The new
process's fd table is its own: run commands in it with `NAME: COMMAND` or `use NAME`.
Example:  spawn client;  client: socket tcp as c;  client: connect c $srv",
        args: &[Arg::Text],
        parse: parser::spawn,
    },
    CommandSpec {
        name: "fork",
        aliases: &[],
        group: Group::Processes,
        usage: "fork [as NAME]",
        summary: "the current process calls fork(): the child holds every fd, same names",
        details: "\
fork(2) makes a copy of the current process: the child has every fd the parent has, each one the
same open socket (same inode), and the same names. A socket closes only when the last fd for it,
in any process, is closed: after `fork`, the parent closing its copy of a connection sends no FIN
while the child still holds it. That is why a forking server closes its copy of each connection
and the child closes the listener. The child is called NAME (default child, child2, …).
Example:  accept srv as conn;  fork as worker;  close conn;  worker: close srv",
        args: &[],
        parse: parser::fork,
    },
    CommandSpec {
        name: "use",
        aliases: &[],
        group: Group::Processes,
        usage: "use NAME",
        summary: "make NAME the current process (the prompt shows it)",
        details: "\
Commands run in the current process: `use client` makes the next ones run in client, and the prompt
shows it (`sockplay[client]>`); `use main` comes back. `NAME: COMMAND` runs one command elsewhere
without switching.
Example:  use client",
        args: &[Arg::Text],
        parse: parser::use_process,
    },
    CommandSpec {
        name: "wait",
        aliases: &[],
        group: Group::Processes,
        usage: "wait [NAME]",
        summary: "wait (bounded by the timeout) for NAME's call in the background and show it",
        details: "\
`COMMAND &` starts a call and comes back at once; the process shows as blocked in that call until
it returns. `wait NAME` waits for it, at most the session timeout (Ctrl-C stops the wait), and
prints its result, which checks such as `expect output` then read; without NAME, the current
process's call.
Example:  accept srv &;  client: connect c $srv;  wait",
        args: &[Arg::Text],
        parse: parser::wait,
    },
    CommandSpec {
        name: "ps",
        aliases: &[],
        group: Group::Processes,
        usage: "ps",
        summary: "the processes: name, pid, parent, state",
        details: "\
Lists the playground's processes: each one's name, pid, parent and state (ready, blocked in the call
it makes, exited with its status, killed by a signal).",
        args: &[],
        parse: parser::ps,
    },
    CommandSpec {
        name: "kill",
        aliases: &[],
        group: Group::Processes,
        usage: "kill NAME [SIGNAL]",
        summary: "send a signal to a process (default SIGTERM)",
        details: "\
kill(2) sends SIGNAL (SIGTERM unless given: SIGKILL, SIGINT, a number, …) to process NAME. A process
that ends has its fds closed by the kernel: a connection it held alone gets its FIN (or a RST when
data was left unread), and the peer sees EOF.
Example:  kill client      kill client SIGKILL",
        args: &[Arg::Text, Arg::Choice(&["SIGTERM", "SIGKILL", "SIGINT", "SIGHUP"])],
        parse: parser::kill,
    },
    CommandSpec {
        name: "exit",
        aliases: &[],
        group: Group::Processes,
        usage: "exit",
        summary: "end the current process (in main: leave sockplay)",
        details: "\
The process calls exit(2): the kernel closes its fds, and main becomes the current process again.
In main, `exit` leaves sockplay, as `quit` does.",
        args: &[],
        parse: parser::exit,
    },
    CommandSpec {
        name: "inheritable",
        aliases: &[],
        group: Group::Processes,
        usage: "inheritable SOCK on|off",
        summary: "clear or set FD_CLOEXEC: whether a process started with `spawn` gets the fd",
        details: "\
fcntl(F_SETFD) clears (on) or sets (off) the fd's close-on-exec flag. exec(2) closes every fd that
has it, so only inheritable fds reach a program a process starts (`spawn`). `fork` copies every
fd whatever the flag says.
Example:  inheritable srv on;  spawn worker      (Python: srv.set_inheritable(True))",
        args: &[Arg::Sock, Arg::Choice(&["on", "off"])],
        parse: parser::inheritable,
    },
    CommandSpec {
        name: "ulimit",
        aliases: &[],
        group: Group::Session,
        usage: "ulimit nofile [N]",
        summary: "show or set the limit on open fds (\"Too many open files\")",
        details: "\
The soft RLIMIT_NOFILE caps fd numbers in this process: once every number below it is taken,
socket and accept fail with EMFILE, the \"Too many open files\" of leaking servers. Lowering it
does not close fds already open.
Example:  ulimit nofile 12",
        args: &[Arg::Choice(&["nofile"]), Arg::Number],
        parse: parser::ulimit,
    },
    CommandSpec {
        name: "ss",
        aliases: &[],
        group: Group::Session,
        usage: "ss [-t] [-u] [-x] [-l] [-a]",
        summary: "the whole system's sockets, like ss, with this process's marked by fd",
        details: "\
Lists sockets the way ss(8) does, from the kernel's sock_diag interface: -t TCP, -u UDP, -x unix,
-l listening only, -a all states (default: connected ones). Rows of this process show their fd;
connections waiting in an accept queue have no fd yet and are shown under their listener.
Example:  ss -tl",
        args: &[Arg::Choice(&["-t", "-u", "-x", "-l", "-a"])],
        parse: parser::ss,
    },
    CommandSpec {
        name: "source",
        aliases: &[],
        group: Group::Session,
        usage: "source FILE.sock",
        summary: "run a script's commands in this session",
        details: "\
Parses the whole file first, then runs it here; its sockets stay open afterwards. The file is a
script whoever sources it: its `!` lines and `record FILE` are refused unless sockplay runs with
--allow-shell. Only a regular file is read (not a FIFO or a device), at most 16 MiB.",
        args: &[Arg::Path],
        parse: parser::source,
    },
    CommandSpec {
        name: "record",
        aliases: &[],
        group: Group::Session,
        usage: "record FILE.sock | record stop",
        summary: "write the commands you run to a replayable script",
        details: "\
From `record FILE.sock` until `record stop`, every command that runs is appended to FILE.sock, as
typed: port-0 binds and $NAME addresses keep it replayable on any machine. FILE.sock must be a new
file: an existing file (or a symlink) is never truncated or followed. A script may record only
when sockplay runs with --allow-shell.",
        args: &[Arg::Path],
        parse: parser::record,
    },
    CommandSpec {
        name: "!",
        aliases: &[],
        group: Group::Session,
        usage: "!COMMAND",
        summary: "run a shell command (interactive; scripts need --allow-shell)",
        details: "\
Runs COMMAND with sh -c, e.g. `!ss -tanp` or `!ls -l /tmp/play.sock`. Like every command it is
bounded: past the session timeout, past 1 MiB of output, or at Ctrl-C, sockplay kills it and its
process group. A script runs `!` lines only with --allow-shell.",
        args: &[Arg::Text],
        parse: parser::shell,
    },
    CommandSpec {
        name: "fds",
        aliases: &[],
        group: Group::Session,
        usage: "fds",
        summary: "print the whole FD table now",
        details: "\
Prints every open fd of this process: what it is, its addresses, its TCP state and queues.",
        args: &[],
        parse: parser::fds,
    },
    CommandSpec {
        name: "set",
        aliases: &[],
        group: Group::Session,
        usage: "set timeout SECS | set panel right|below|off | set explain python|off",
        summary: "session settings: how long calls wait, where the panel goes, Python side by side",
        details: "\
`set timeout SECS` bounds every blocking call (accept, connect, recv, send on a full buffer): past
it the call fails with ETIMEDOUT and the socket stays usable. `set panel right|below|off` moves or
hides the FD panel. `set explain python` shows, under each command, the Python line that makes the
same call (`conn, addr = srv.accept()`).
Example:  set timeout 1.5     set panel below     set explain python",
        args: &[Arg::Choice(SETTINGS), Arg::Text],
        parse: parser::set,
    },
    CommandSpec {
        name: "sleep",
        aliases: &[],
        group: Group::Session,
        usage: "sleep MS",
        summary: "pause for MS milliseconds",
        details: "Waits MS milliseconds (Ctrl-C cuts it short), e.g. to let a peer act.",
        args: &[Arg::Number],
        parse: parser::sleep,
    },
    CommandSpec {
        name: "help",
        aliases: &["?"],
        group: Group::Session,
        usage: "help [COMMAND]",
        summary: "list commands, or explain one",
        details: "`help` lists the commands by group; `help accept` explains one in depth.",
        args: &[Arg::CommandName],
        parse: parser::help,
    },
    CommandSpec {
        name: "quit",
        aliases: &[],
        group: Group::Session,
        usage: "quit",
        summary: "leave sockplay (its processes and sockets close with it)",
        details: "Ends the session. Every process ends, and the kernel closes every fd still open.",
        args: &[],
        parse: parser::quit,
    },
    CommandSpec {
        name: "expect",
        aliases: &[],
        group: Group::Checks,
        usage: "expect state SOCK STATE | fd SOCK N | data DATA | eof | error ERRNO | open N | closed N | output TEXT",
        summary: "check what just happened; a failed check stops a script",
        details: "\
Checks for scripts and tutorials; a check that does not hold stops the replay with exit 1.
  expect state SOCK STATE   the socket is in STATE (waits up to the timeout for it)
  expect fd SOCK N          SOCK is fd N
  expect data DATA          the last recv returned exactly DATA
  expect eof                the last recv returned 0 bytes
  expect error ERRNO        the command before failed with ERRNO (the script goes on)
  expect open N / closed N  fd N is / is not open
  expect output TEXT        the previous command printed TEXT
Example:  expect state conn CLOSE_WAIT",
        args: &[Arg::Choice(CHECKS), Arg::Sock, Arg::Text],
        parse: parser::expect,
    },
];

/// The command called `word` (case-insensitive, aliases included).
pub fn find_command(word: &str) -> Option<&'static CommandSpec> {
    let word = word.to_ascii_lowercase();
    COMMANDS
        .iter()
        .find(|spec| spec.name == word || spec.aliases.contains(&word.as_str()))
}

/// The command name closest to a mistyped `word`, if any is close enough.
pub fn suggest(word: &str) -> Option<&'static str> {
    let names: Vec<&'static str> = COMMANDS.iter().map(|spec| spec.name).collect();
    parser::closest(word, &names)
}
