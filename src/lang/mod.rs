//! The command language: words with columns, DATA escapes, addresses, the command table and the
//! parser that turns a line into a typed [`Command`]. Nothing here touches a socket.

mod address;
mod command;
mod escape;
mod lexer;
mod parser;
mod sockopt;
mod table;

pub use address::AddrSpec;
pub use command::{
    Check, Command, Family, How, Interest, Payload, Setting, SockRef, SockType, SsFilter,
};
pub use escape::decode_data;
pub use lexer::{split_commands, tokenize, Token};
pub use parser::closest as closest_name;
pub use parser::{parse_line, parse_seconds, parse_tokens};
pub use sockopt::{find_sockopt, OptKind, OptValue, SockOpt, SOCK_OPTS};
pub use table::{find_command, suggest, Arg, CommandSpec, Group, COMMANDS};

use std::fmt;

/// A problem with what was typed, found before anything runs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SyntaxError {
    /// 1-based column the problem starts at.
    pub column: usize,
    pub message: String,
}

impl SyntaxError {
    pub fn new(column: usize, message: String) -> SyntaxError {
        SyntaxError { column, message }
    }

    /// The error with the offending line under it and a caret at the column, as compilers show it.
    pub fn pointed<'a>(&'a self, line: &'a str) -> impl fmt::Display + 'a {
        Pointed { error: self, line }
    }
}

struct Pointed<'a> {
    error: &'a SyntaxError,
    line: &'a str,
}

impl fmt::Display for Pointed<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = crate::render::sanitize_line(self.line);
        let pad = self.column_in(&shown);
        write!(f, "{}\n  | {shown}\n  | {:pad$}^", self.error.message, "")
    }
}

impl Pointed<'_> {
    /// The caret's offset in the escaped line: escaping may lengthen what precedes the column.
    fn column_in(&self, _shown: &str) -> usize {
        let before: String = self
            .line
            .chars()
            .take(self.error.column.saturating_sub(1))
            .collect();
        crate::render::sanitize_line(&before).chars().count()
    }
}

/// Whether `name` may name a socket: `[A-Za-z_][A-Za-z0-9_-]*`, so never a number.
pub fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}
