//! The command table: what a command definition holds ([`CommandSpec`]) and the index of every
//! command, in the order `help` lists them. The definitions themselves are in `commands/`, one file
//! per help group; parsing, `help`, Tab completion, hints, the Python lines and the engine's
//! dispatch all read them.

use super::commands::{checks, data, handles, multiplexing, processes, session, sockets};
use super::{Args, Command, Scope, SyntaxError};

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
    /// One word out of a fixed set: a typed value's own word list ([`crate::net::Words`]).
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

/// Who carries a command out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunsIn {
    /// The session that holds the sockets executes it (`Session::execute`): every socket call.
    Session,
    /// The engine answers it itself: it runs scripts and shell commands, writes recordings, prints
    /// tables and help, or changes how steps run and are shown.
    Engine,
}

/// Whether the FD panel follows a command: only steps that can change the table show it.
#[derive(Debug, Clone, Copy)]
pub enum Panel {
    Shown,
    Hidden,
    /// Shown for the forms this says may change the table (`ulimit nofile N`, not `ulimit nofile`).
    ShownWhen(fn(&Command) -> bool),
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
    /// The kind of word each argument position takes, for completion.
    pub args: &'static [Arg],
    pub runs_in: RunsIn,
    pub panel: Panel,
    /// Reads the arguments (the words after the command's name) into the command.
    pub parse: fn(&mut Args) -> Result<Command, SyntaxError>,
    /// The line of Python that makes the same calls (`set explain python`), when there is one,
    /// given the fds the command made, lowest first, and the process's names: a socket made
    /// without a name is the Python variable `s3` after its fd, as every later command that names
    /// it by number calls it; a named socket given by number is its name's variable.
    pub python: fn(&Command, &Scope) -> Option<String>,
}

/// Every command sockplay knows, in the order `help` lists them.
pub static COMMANDS: &[&CommandSpec] = &[
    &sockets::SOCKET,
    &sockets::BIND,
    &sockets::LISTEN,
    &sockets::ACCEPT,
    &sockets::CONNECT,
    &data::SEND,
    &data::RECV,
    &handles::FILENO,
    &handles::DETACH,
    &handles::CLOSE,
    &sockets::UNLINK,
    &sockets::SOCKETPAIR,
    &sockets::SHUTDOWN,
    &data::SENDTO,
    &data::RECVFROM,
    &handles::SETSOCKOPT,
    &handles::GETSOCKOPT,
    &handles::GETSOCKNAME,
    &handles::GETPEERNAME,
    &handles::NONBLOCK,
    &handles::DUP,
    &handles::MAKEFILE,
    &data::READLINE,
    &data::READ,
    &data::WRITE,
    &data::FLUSH,
    &multiplexing::SELECT,
    &multiplexing::POLL,
    &multiplexing::EPOLL,
    &handles::SENDFD,
    &handles::RECVFD,
    &processes::SPAWN,
    &processes::FORK,
    &processes::USE,
    &processes::WAIT,
    &processes::PS,
    &processes::KILL,
    &processes::EXIT,
    &processes::INHERITABLE,
    &session::ULIMIT,
    &session::SS,
    &session::SOURCE,
    &session::RECORD,
    &session::SHELL,
    &session::FDS,
    &session::SET,
    &session::SLEEP,
    &session::HELP,
    &session::QUIT,
    &checks::EXPECT,
];

/// The command called `word` (case-insensitive, aliases included).
pub fn find_command(word: &str) -> Option<&'static CommandSpec> {
    let word = word.to_ascii_lowercase();
    COMMANDS
        .iter()
        .copied()
        .find(|spec| spec.name == word || spec.aliases.contains(&word.as_str()))
}

/// The command name closest to a mistyped `word`, if any is close enough.
pub fn suggest(word: &str) -> Option<&'static str> {
    let names: Vec<&'static str> = COMMANDS.iter().map(|spec| spec.name).collect();
    crate::text::closest(word, &names)
}
