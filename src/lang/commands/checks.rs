//! Checks for scripts: `expect`, defined once (its help, its argument grammar and its Python line).

use super::prelude::*;
use crate::lang::Check;
use crate::net::{words, SockState, Words};
use crate::text::closest;

/// What an `expect` checks: its first word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckKind {
    State,
    Fd,
    Data,
    Eof,
    Error,
    Open,
    Closed,
    Output,
}

words!(CheckKind {
    "state" => CheckKind::State,
    "fd" => CheckKind::Fd,
    "data" => CheckKind::Data,
    "eof" => CheckKind::Eof,
    "error" => CheckKind::Error,
    "open" => CheckKind::Open,
    "closed" => CheckKind::Closed,
    "output" => CheckKind::Output,
});

pub static EXPECT: CommandSpec = CommandSpec {
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
    args: &[Arg::Choice(CheckKind::WORDS), Arg::Sock, Arg::Text],
    runs_in: RunsIn::Session,
    panel: Panel::Hidden,
    parse: parse_expect,
    python: |command, _| match command {
        Command::Expect(Check::Data(data)) => Some(format!("assert data == {}", bytes(data))),
        Command::Expect(Check::Eof) => Some("assert data == b\"\"".to_string()),
        _ => None,
    },
};

fn parse_expect(args: &mut Args) -> Result<Command, SyntaxError> {
    let check = match args.expect_word("check")? {
        CheckKind::State => {
            let sock = args.expect_sock()?;
            let token = args.expect("STATE")?;
            let Some(state) = SockState::from_word(&token.text) else {
                let words = SockState::words();
                let mut message = format!(
                    "`{}` is not a socket state: use one of {}",
                    quoted_word(&token.text),
                    words.join(" ")
                );
                if let Some(near) = closest(&token.text, &words) {
                    message = format!("{message}; did you mean `{near}`?");
                }
                return Err(SyntaxError::new(token.column, message));
            };
            Check::State { sock, state }
        }
        CheckKind::Fd => {
            let sock = args.expect_sock()?;
            let fd = args.expect_number("fd number", 0..=i32::MAX)?;
            Check::Fd { sock, fd }
        }
        CheckKind::Data => Check::Data(args.expect_data()?),
        CheckKind::Eof => Check::Eof,
        CheckKind::Error => {
            let token = args.expect("ERRNO")?;
            let name = token.text.to_ascii_uppercase();
            if crate::sys::errno_from_name(&name).is_none() {
                let mut message = format!(
                    "`{}` is not an errno name: use e.g. ECONNREFUSED, EADDRINUSE, ETIMEDOUT",
                    quoted_word(&token.text)
                );
                let names = crate::sys::errno_names();
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                if let Some(near) = closest(&name, &names) {
                    message.push_str(&format!("; did you mean `{near}`?"));
                }
                return Err(SyntaxError::new(token.column, message));
            }
            Check::Error(name)
        }
        CheckKind::Open => Check::Open(args.expect_number("fd number", 0..=i32::MAX)?),
        CheckKind::Closed => Check::Closed(args.expect_number("fd number", 0..=i32::MAX)?),
        CheckKind::Output => {
            let bytes = args.expect_rest("TEXT")?;
            Check::Output(String::from_utf8_lossy(&bytes).into_owned())
        }
    };
    Ok(Command::Expect(check))
}
