//! The command language: words with columns, DATA escapes, addresses, the command table with every
//! command's definition, and the parser that turns a line into a typed [`Command`]. Nothing here
//! touches a socket.

mod address;
mod args;
mod command;
mod commands;
mod escape;
mod lexer;
mod parser;
mod python;
mod script;
mod sockopt;
mod table;

pub use address::AddrSpec;
pub use args::Args;
pub use command::{
    Check, Command, Family, How, Interest, PanelPlacement, Payload, Setting, SockRef, SockType,
    SsFilter, PATTERN,
};
pub use commands::data::RECV_MAX_LIMIT;
pub use commands::handles::default_file_name;
pub use escape::decode_data;
pub use lexer::{split_commands, tokenize, CommandText, Token};
pub use parser::{parse_line, parse_seconds, parse_tokens};
pub use python::{Scope, PYTHON_IMPORTS};
pub use script::{failure_excused, Script, ScriptError, ScriptLine};
pub use sockopt::{find_sockopt, OptKind, OptValue, SockOpt, SOCK_OPTS};
pub use table::{find_command, suggest, Arg, CommandSpec, Group, Panel, RunsIn, COMMANDS};

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

/// How much of a long line an error shows around the column.
const SHOWN_AROUND: usize = 60;

impl fmt::Display for Pointed<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A huge line is shown as a window around the column, so errors stay one screen.
        let chars: Vec<char> = self.line.chars().collect();
        let column = self.error.column.saturating_sub(1).min(chars.len());
        let from = column.saturating_sub(SHOWN_AROUND);
        let to = (column + SHOWN_AROUND).min(chars.len());
        let before: String = chars[from..column].iter().collect();
        let after: String = chars[column..to].iter().collect();
        let (lead, tail) = (
            if from > 0 { "…" } else { "" },
            if to < chars.len() { "…" } else { "" },
        );
        let shown_before = format!("{lead}{}", crate::text::sanitize_line(&before));
        let pad = crate::text::display_width(&shown_before);
        write!(
            f,
            "{}\n  | {shown_before}{}{tail}\n  | {:pad$}^",
            self.error.message,
            crate::text::sanitize_line(&after),
            ""
        )
    }
}

/// A word the user typed, made safe and short enough to quote in a message.
pub fn quoted_word(word: &str) -> String {
    const LONGEST: usize = 40;
    if word.chars().count() <= LONGEST {
        return crate::text::escape_text(word);
    }
    let head: String = word.chars().take(LONGEST).collect();
    format!("{}…", crate::text::escape_text(&head))
}

/// Whether `name` may name a socket: `[A-Za-z_][A-Za-z0-9_-]*`, so never a number.
pub fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}
