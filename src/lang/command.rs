//! The typed syntax tree: what a parsed line means, ready for the session to execute.

use std::fmt;
use std::time::Duration;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::sockopt::{OptValue, SockOpt};
use super::{AddrSpec, CommandSpec, Panel, RunsIn, Scope};
use crate::net::words;

pub use crate::net::{Family, SockType};

/// A socket argument as typed: an fd number or a name given with `as NAME`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SockRef {
    Fd(i32),
    Name(String),
}

impl fmt::Display for SockRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SockRef::Fd(fd) => write!(f, "{fd}"),
            SockRef::Name(name) => write!(f, "{name}"),
        }
    }
}

/// What `send` and `sendto` send: typed bytes, or N bytes of a pattern (`--bytes N`) to fill buffers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Payload {
    Bytes(Vec<u8>),
    Pattern(usize),
}

/// What `--bytes N` sends: the alphabet, repeated, so a peer can see where it is.
pub const PATTERN: &str = "abcdefghijklmnopqrstuvwxyz";

impl Payload {
    /// The bytes to send: the typed ones, or N bytes of [`PATTERN`].
    pub fn bytes(&self) -> std::borrow::Cow<'_, [u8]> {
        match self {
            Payload::Bytes(bytes) => std::borrow::Cow::Borrowed(bytes),
            Payload::Pattern(n) => {
                std::borrow::Cow::Owned(PATTERN.bytes().cycle().take(*n).collect())
            }
        }
    }
}

/// Which direction `shutdown` closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum How {
    Read,
    Write,
    Both,
}

words!(How {
    "rd" => How::Read,
    "wr" => How::Write,
    "rdwr" => How::Both,
});

impl How {
    /// The C constant (`SHUT_WR`), as strace and Python's socket module name it.
    pub fn constant(self) -> &'static str {
        match self {
            How::Read => "SHUT_RD",
            How::Write => "SHUT_WR",
            How::Both => "SHUT_RDWR",
        }
    }
}

/// The events an epoll registration asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Interest {
    pub read: bool,
    pub write: bool,
    pub rdhup: bool,
}

/// Which sockets `ss` lists (its -t -u -x -l -a flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SsFilter {
    pub tcp: bool,
    pub udp: bool,
    pub unix: bool,
    pub listening: bool,
    pub all: bool,
}

/// Where the panel goes relative to the step output (`set panel`, `--panel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
pub enum PanelPlacement {
    Right,
    Below,
    Off,
}

/// A session setting changed with `set`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Setting {
    Timeout(Duration),
    Panel(PanelPlacement),
    /// `set panel compact|full`: leave out fds 0, 1 and 2 while they are unchanged, or show them.
    CompactPanel(bool),
    /// `set explain python|off`: show the Python equivalent of each command.
    Explain(bool),
}

/// A check of a replayed script (`expect …`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Check {
    /// The socket is in this state (waits up to the timeout for it).
    State {
        sock: SockRef,
        state: crate::net::SockState,
    },
    /// The socket is this fd.
    Fd { sock: SockRef, fd: i32 },
    /// The last `recv` returned exactly these bytes.
    Data(Vec<u8>),
    /// The last `recv` returned 0 bytes.
    Eof,
    /// The command before failed with this errno (by name, e.g. `ECONNREFUSED`).
    Error(String),
    /// fd N is open in the process.
    Open(i32),
    /// fd N is not open in the process.
    Closed(i32),
    /// The previous command's output contains this text.
    Output(String),
}

/// One parsed command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Command {
    Socket {
        family: Family,
        sock_type: SockType,
        name: Option<String>,
    },
    Bind {
        sock: SockRef,
        addr: AddrSpec,
    },
    Listen {
        sock: SockRef,
        backlog: i32,
    },
    Accept {
        sock: SockRef,
        name: Option<String>,
    },
    Connect {
        sock: SockRef,
        addr: AddrSpec,
    },
    Send {
        sock: SockRef,
        payload: Payload,
    },
    Recv {
        sock: SockRef,
        max: usize,
        /// Show a hexdump whatever the bytes look like.
        hex: bool,
    },
    Fileno {
        sock: SockRef,
    },
    Detach {
        sock: SockRef,
    },
    Close {
        sock: SockRef,
    },
    Socketpair {
        family: Family,
        sock_type: SockType,
        names: Option<(String, String)>,
    },
    SendTo {
        sock: SockRef,
        addr: AddrSpec,
        payload: Payload,
    },
    RecvFrom {
        sock: SockRef,
        max: usize,
        hex: bool,
    },
    Shutdown {
        sock: SockRef,
        how: How,
    },
    SetSockOpt {
        sock: SockRef,
        #[serde(with = "super::sockopt::by_name")]
        option: &'static SockOpt,
        value: OptValue,
    },
    GetSockOpt {
        sock: SockRef,
        #[serde(with = "super::sockopt::by_name")]
        option: &'static SockOpt,
    },
    GetSockName {
        sock: SockRef,
    },
    GetPeerName {
        sock: SockRef,
    },
    Nonblock {
        sock: SockRef,
        on: bool,
    },
    Dup {
        sock: SockRef,
        name: Option<String>,
    },
    Makefile {
        sock: SockRef,
        name: Option<String>,
    },
    ReadLine {
        file: String,
    },
    Read {
        file: String,
        max: Option<usize>,
    },
    Write {
        file: String,
        data: Vec<u8>,
    },
    Flush {
        file: String,
    },
    Select {
        read: Vec<SockRef>,
        write: Vec<SockRef>,
        timeout: Option<Duration>,
    },
    Poll {
        socks: Vec<SockRef>,
        timeout: Option<Duration>,
    },
    EpollCreate {
        name: Option<String>,
    },
    EpollAdd {
        epoll: SockRef,
        sock: SockRef,
        interest: Interest,
    },
    EpollDel {
        epoll: SockRef,
        sock: SockRef,
    },
    EpollWait {
        epoll: SockRef,
        timeout: Option<Duration>,
    },
    SendFd {
        sock: SockRef,
        fd: SockRef,
    },
    RecvFd {
        sock: SockRef,
        name: Option<String>,
    },
    Ulimit {
        limit: Option<u64>,
    },
    Ss(SsFilter),
    Source {
        path: PathBuf,
    },
    Record {
        /// None: `record stop`.
        path: Option<PathBuf>,
    },
    Shell {
        command: String,
    },
    /// Remove a Unix socket file (and nothing else).
    Unlink {
        path: PathBuf,
    },
    Fds,
    Set(Setting),
    Help {
        topic: Option<String>,
    },
    Sleep {
        duration: Duration,
    },
    Expect(Check),
    Quit,
    /// `spawn NAME`: the process starts a new sockplay process (fork, then exec), which keeps
    /// 0, 1, 2 and the inheritable fds.
    Spawn {
        name: String,
    },
    /// `fork [as NAME]`: the process calls fork(2); the child holds every fd and every name.
    Fork {
        name: Option<String>,
    },
    /// `use NAME`: make NAME the current process.
    Use {
        process: String,
    },
    /// `wait [NAME]`: the result of NAME's call in the background (the current process's without).
    Wait {
        process: Option<String>,
    },
    /// `ps`: the processes.
    Ps,
    /// `kill NAME [SIGNAL]`, the signal by number.
    Kill {
        process: String,
        signal: i32,
    },
    /// `exit`: the process the command runs in ends; in `main` sockplay ends.
    Exit,
    /// `inheritable SOCK on|off`: clear (on) or set (off) FD_CLOEXEC.
    Inheritable {
        sock: SockRef,
        on: bool,
    },
    /// `NAME: COMMAND`: one command in process NAME, which stays where it was otherwise.
    In {
        process: String,
        command: Box<Command>,
    },
    /// `COMMAND &`: the call starts and the prompt comes back at once.
    Background(Box<Command>),
}

impl Command {
    /// The command's one definition in the table: every fact about it (name, help, where it runs,
    /// whether the panel follows it, its Python line) is read from there.
    pub fn spec(&self) -> &'static CommandSpec {
        use super::commands::{checks, data, handles, multiplexing, processes, session, sockets};
        match self {
            Command::Socket { .. } => &sockets::SOCKET,
            Command::Bind { .. } => &sockets::BIND,
            Command::Listen { .. } => &sockets::LISTEN,
            Command::Accept { .. } => &sockets::ACCEPT,
            Command::Connect { .. } => &sockets::CONNECT,
            Command::Unlink { .. } => &sockets::UNLINK,
            Command::Socketpair { .. } => &sockets::SOCKETPAIR,
            Command::Shutdown { .. } => &sockets::SHUTDOWN,
            Command::Send { .. } => &data::SEND,
            Command::Recv { .. } => &data::RECV,
            Command::SendTo { .. } => &data::SENDTO,
            Command::RecvFrom { .. } => &data::RECVFROM,
            Command::ReadLine { .. } => &data::READLINE,
            Command::Read { .. } => &data::READ,
            Command::Write { .. } => &data::WRITE,
            Command::Flush { .. } => &data::FLUSH,
            Command::Fileno { .. } => &handles::FILENO,
            Command::Detach { .. } => &handles::DETACH,
            Command::Close { .. } => &handles::CLOSE,
            Command::SetSockOpt { .. } => &handles::SETSOCKOPT,
            Command::GetSockOpt { .. } => &handles::GETSOCKOPT,
            Command::GetSockName { .. } => &handles::GETSOCKNAME,
            Command::GetPeerName { .. } => &handles::GETPEERNAME,
            Command::Nonblock { .. } => &handles::NONBLOCK,
            Command::Dup { .. } => &handles::DUP,
            Command::Makefile { .. } => &handles::MAKEFILE,
            Command::SendFd { .. } => &handles::SENDFD,
            Command::RecvFd { .. } => &handles::RECVFD,
            Command::Select { .. } => &multiplexing::SELECT,
            Command::Poll { .. } => &multiplexing::POLL,
            Command::EpollCreate { .. }
            | Command::EpollAdd { .. }
            | Command::EpollDel { .. }
            | Command::EpollWait { .. } => &multiplexing::EPOLL,
            Command::Ulimit { .. } => &session::ULIMIT,
            Command::Ss(_) => &session::SS,
            Command::Source { .. } => &session::SOURCE,
            Command::Record { .. } => &session::RECORD,
            Command::Shell { .. } => &session::SHELL,
            Command::Fds => &session::FDS,
            Command::Set(_) => &session::SET,
            Command::Sleep { .. } => &session::SLEEP,
            Command::Help { .. } => &session::HELP,
            Command::Quit => &session::QUIT,
            Command::Expect(_) => &checks::EXPECT,
            Command::Spawn { .. } => &processes::SPAWN,
            Command::Fork { .. } => &processes::FORK,
            Command::Use { .. } => &processes::USE,
            Command::Wait { .. } => &processes::WAIT,
            Command::Ps => &processes::PS,
            Command::Kill { .. } => &processes::KILL,
            Command::Exit => &processes::EXIT,
            Command::Inheritable { .. } => &processes::INHERITABLE,
            // The definition of the command itself: `NAME:` and `&` change where and how it runs.
            Command::In { command, .. } | Command::Background(command) => command.spec(),
        }
    }

    /// The command's name, for messages about the previous step.
    pub fn name(&self) -> &'static str {
        self.spec().name
    }

    /// Who carries the command out: the session or the engine.
    pub fn runs_in(&self) -> RunsIn {
        self.spec().runs_in
    }

    /// Whether the FD panel is worth showing after this command: only steps that can change the table.
    pub fn shows_panel(&self) -> bool {
        match self.spec().panel {
            Panel::Shown => true,
            Panel::Hidden => false,
            Panel::ShownWhen(shown) => shown(self.base()),
        }
    }

    /// The line of Python that makes the same calls, if there is a direct equivalent; `made` are
    /// the fds the command made, lowest first (see [`CommandSpec::python`]).
    pub fn python(&self, scope: &Scope) -> Option<String> {
        (self.spec().python)(self.base(), scope)
    }

    /// The command itself, without `NAME:` and `&` around it.
    pub fn base(&self) -> &Command {
        match self {
            Command::In { command, .. } | Command::Background(command) => command.base(),
            command => command,
        }
    }

    /// Whether the command is about one process, so `NAME: COMMAND` can name which: the process
    /// runs it (its calls, its checks) or it reads the process's table (`fds`, `ss`).
    pub fn concerns_one_process(&self) -> bool {
        self.runs_in() == RunsIn::Session || matches!(self, Command::Fds | Command::Ss(_))
    }

    /// Whether the command may run in the background (`COMMAND &`): a call a process makes that
    /// neither starts nor ends a process.
    pub fn may_run_in_background(&self) -> bool {
        self.runs_in() == RunsIn::Session
            && !matches!(
                self,
                Command::Spawn { .. }
                    | Command::Fork { .. }
                    | Command::Exit
                    | Command::In { .. }
                    | Command::Background(_)
            )
    }
}
