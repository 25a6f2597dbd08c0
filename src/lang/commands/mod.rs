//! Every command, defined once: its [`CommandSpec`](super::CommandSpec) (name, usage, help,
//! argument kinds, where it runs, whether the panel follows it), the function that parses its
//! arguments and the Python line that does the same, side by side. One file per help group; the
//! typed words a command takes (`rd|wr|rdwr`, `on|off`, …) are defined beside it.

pub(super) mod checks;
pub(super) mod data;
pub(super) mod handles;
pub(super) mod multiplexing;
pub(super) mod processes;
pub(super) mod session;
pub(super) mod sockets;

#[cfg(test)]
mod tests;

/// What every definition file uses.
mod prelude {
    pub(super) use crate::lang::python::{address, bytes, family, sock_type, Scope};
    pub(super) use crate::lang::{
        quoted_word, Arg, Args, Command, CommandSpec, Group, How, Panel, Payload, RunsIn, SockRef,
        SockType, SyntaxError, PATTERN,
    };
}
