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
}

/// How `help` groups commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Sockets,
    Data,
    Handles,
    Session,
    Checks,
}

impl Group {
    pub const ALL: [Group; 5] = [
        Group::Sockets,
        Group::Data,
        Group::Handles,
        Group::Session,
        Group::Checks,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Group::Sockets => "Making and connecting sockets",
            Group::Data => "Moving bytes",
            Group::Handles => "The fd behind the handle",
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
const SETTINGS: &[&str] = &["timeout", "panel"];

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
        usage: "send SOCK DATA",
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
        usage: "recv SOCK [MAX]",
        summary: "receive up to MAX bytes (default 4096); 0 bytes means the peer closed",
        details: "\
recv(2) takes up to MAX bytes out of the socket's receive queue (RECV-Q in the panel). With an empty
queue it waits for data, here at most the session timeout. A return of 0 bytes is not an error:
it is EOF, the peer has closed its side (sent FIN), and the connection sits in CLOSE_WAIT on this
side until you close it. Received bytes are shown escaped, never raw.
Errors: ETIMEDOUT (nothing arrived in time), ECONNRESET (the peer reset), ENOTCONN, EAGAIN.
Example:  recv conn        recv conn 10",
        args: &[Arg::Sock, Arg::Number],
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
        usage: "set timeout SECS | set panel right|below|off",
        summary: "session settings: how long blocking calls wait, where the panel goes",
        details: "\
`set timeout SECS` bounds every blocking call (accept, connect, recv, send on a full buffer): past
it the call fails with ETIMEDOUT and the socket stays usable. `set panel right|below|off` moves or
hides the FD panel.
Example:  set timeout 1.5     set panel below",
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
        aliases: &["exit"],
        group: Group::Session,
        usage: "quit",
        summary: "leave sockplay (its sockets close with it)",
        details: "Ends the session. Every fd still open is closed by the kernel as the process exits.",
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
