//! The typed syntax tree: what a parsed line means, ready for the session to execute.

use std::fmt;
use std::time::Duration;

use super::AddrSpec;
use crate::render::PanelPlacement;

/// A socket argument as typed: an fd number or a name given with `as NAME`.
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// Address family of a new socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Inet,
    Inet6,
    Unix,
}

impl Family {
    /// The C constant, as strace prints it.
    pub fn constant(self) -> &'static str {
        match self {
            Family::Inet => "AF_INET",
            Family::Inet6 => "AF_INET6",
            Family::Unix => "AF_UNIX",
        }
    }
}

/// Socket type of a new socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SockType {
    Stream,
    Dgram,
    Seqpacket,
    Raw,
}

impl SockType {
    /// The C constant, as strace prints it.
    pub fn constant(self) -> &'static str {
        match self {
            SockType::Stream => "SOCK_STREAM",
            SockType::Dgram => "SOCK_DGRAM",
            SockType::Seqpacket => "SOCK_SEQPACKET",
            SockType::Raw => "SOCK_RAW",
        }
    }
}

/// A session setting changed with `set`.
#[derive(Debug, Clone, PartialEq)]
pub enum Setting {
    Timeout(Duration),
    Panel(PanelPlacement),
}

/// A check of a replayed script (`expect …`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// The socket is in this state (waits up to the timeout for it).
    State { sock: SockRef, state: String },
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
#[derive(Debug, Clone, PartialEq)]
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
        data: Vec<u8>,
    },
    Recv {
        sock: SockRef,
        max: usize,
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
}

impl Command {
    /// Whether the FD panel is worth showing after this command: only steps that can change the table.
    pub fn shows_panel(&self) -> bool {
        !matches!(
            self,
            Command::Fds
                | Command::Set(_)
                | Command::Help { .. }
                | Command::Expect(_)
                | Command::Quit
                | Command::Fileno { .. }
        )
    }
}
