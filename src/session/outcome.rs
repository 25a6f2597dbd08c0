//! What executing one command produced: the calls and lines it printed, and the failure if it failed.

use std::fmt;

use nix::errno::Errno;
use serde::{Deserialize, Serialize};

use super::call::Call;
use super::hints::{self, Asked, Context};
use crate::sys::errno_name;

/// Why a command failed: an errno from the kernel (or a wait that stood in for one), or a mistake
/// sockplay caught before making a call.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Failure {
    /// Serialized as its number, as the kernel gives it.
    #[serde(with = "errno_number")]
    pub errno: Option<Errno>,
    /// One line saying what was wrong, in this call's terms.
    pub message: String,
    /// What to try next.
    pub hint: Option<String>,
    /// What the failed call asked for, when who holds that address matters to the hint: the
    /// engine, which sees every process, names it ([`hints::situated`]).
    #[serde(default)]
    pub asked: Option<Box<Asked>>,
}

impl Failure {
    /// A kernel error, explained with the hint its errno earns whatever the call.
    pub fn os(errno: Errno, message: impl Into<String>) -> Failure {
        Failure {
            errno: Some(errno),
            message: message.into(),
            hint: hints::generic(errno).map(str::to_string),
            asked: None,
        }
    }

    /// A mistake found before any syscall (unknown socket name, wrong kind of fd, …).
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure {
            errno: None,
            message: message.into(),
            hint: None,
            asked: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Failure {
        self.hint = Some(hint.into());
        self
    }

    /// The failure with the hint the table gives `call` failing this way in `context`.
    pub(super) fn hint_for(mut self, call: &str, context: Context<'_>) -> Failure {
        self.hint = hints::hint(call, self.errno, &context);
        self
    }

    /// The failure, carrying what its call asked for (see [`Asked::of`]).
    pub(super) fn asking(mut self, asked: Option<Box<Asked>>) -> Failure {
        self.asked = asked;
        self
    }

    /// `ECONNREFUSED: message`, or the bare message when there is no errno.
    pub fn headline(&self) -> String {
        match self.errno {
            Some(errno) => format!("{}: {}", errno_name(errno), self.message),
            None => self.message.clone(),
        }
    }
}

/// One line a command printed: a call, or a sentence about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum OutLine {
    Call(Call),
    Text(String),
}

impl fmt::Display for OutLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutLine::Call(call) => call.fmt(f),
            OutLine::Text(text) => f.write_str(text),
        }
    }
}

impl From<Call> for OutLine {
    fn from(call: Call) -> OutLine {
        OutLine::Call(call)
    }
}

impl From<String> for OutLine {
    fn from(text: String) -> OutLine {
        OutLine::Text(text)
    }
}

impl From<&str> for OutLine {
    fn from(text: &str) -> OutLine {
        OutLine::Text(text.to_string())
    }
}

/// What a command printed, in order: its calls and the sentences between them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lines(Vec<OutLine>);

impl Lines {
    pub fn push(&mut self, line: impl Into<OutLine>) {
        self.0.push(line.into());
    }

    /// Puts `line` before the line now at `index` (the Python line goes first).
    pub fn insert(&mut self, index: usize, line: impl Into<OutLine>) {
        self.0.insert(index, line.into());
    }

    /// Moves every line of `other` to the end of these.
    pub fn append(&mut self, other: &mut Lines) {
        self.0.append(&mut other.0);
    }

    pub fn iter(&self) -> impl Iterator<Item = &OutLine> {
        self.0.iter()
    }

    /// The calls among the lines, in the order they were made.
    pub fn calls(&self) -> impl Iterator<Item = &Call> {
        self.0.iter().filter_map(|line| match line {
            OutLine::Call(call) => Some(call),
            OutLine::Text(_) => None,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The lines as printed, each rendered, joined by `separator`.
    pub fn join(&self, separator: &str) -> String {
        self.0
            .iter()
            .map(OutLine::to_string)
            .collect::<Vec<_>>()
            .join(separator)
    }
}

impl<L: Into<OutLine>> Extend<L> for Lines {
    fn extend<I: IntoIterator<Item = L>>(&mut self, lines: I) {
        self.0.extend(lines.into_iter().map(Into::into));
    }
}

/// The result of one command.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Outcome {
    /// What the command printed: its strace-style calls, then anything worth saying, in order.
    pub lines: Lines,
    pub failure: Option<Failure>,
    /// The command asked to end the session.
    pub quit: bool,
}

impl Outcome {
    /// A sentence about what happened.
    pub fn say(&mut self, line: impl Into<String>) {
        self.lines.push(OutLine::Text(line.into()));
    }

    /// A call that was made, with its result.
    pub fn call(&mut self, call: Call) {
        self.lines.push(call);
    }

    /// The calls the command made, in order.
    pub fn calls(&self) -> impl Iterator<Item = &Call> {
        self.lines.calls()
    }

    /// Everything printed, one string, including the failure's headline and hint.
    pub fn text(&self) -> String {
        let mut text = self.lines.join("\n");
        if let Some(failure) = &self.failure {
            for line in [
                Some(failure.headline()),
                failure.hint.as_ref().map(|h| format!("hint: {h}")),
            ]
            .into_iter()
            .flatten()
            {
                if !text.is_empty() {
                    text.push('\n');
                }
                text.push_str(&line);
            }
        }
        text
    }
}

/// An errno in a serialized failure: its number.
mod errno_number {
    use nix::errno::Errno;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(errno: &Option<Errno>, out: S) -> Result<S::Ok, S::Error> {
        errno.map(|errno| errno as i32).serialize(out)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(input: D) -> Result<Option<Errno>, D::Error> {
        Ok(Option::<i32>::deserialize(input)?.map(Errno::from_raw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::call::invocation;

    #[test]
    fn calls_and_sentences_print_in_the_order_they_came_then_the_failure() {
        let mut out = Outcome::default();
        out.call(
            invocation!("accept", 3)
                .returned(5)
                .with_note("peer 127.0.0.1:55001"),
        );
        out.say("the connection left fd 3's queue and is now fd 5; fd 3 keeps listening");
        out.call(invocation!("recv", 5, 4096, 0).failed(Errno::ECONNRESET));
        out.failure = Some(Failure::usage("nothing received on fd 5").with_hint("close it"));
        assert_eq!(
            out.text(),
            "accept(3) = 5  peer 127.0.0.1:55001\n\
             the connection left fd 3's queue and is now fd 5; fd 3 keeps listening\n\
             recv(5, 4096, 0) = -1 ECONNRESET (Connection reset by peer)\n\
             nothing received on fd 5\n\
             hint: close it"
        );
        let names: Vec<&str> = out.calls().map(|call| call.name.as_str()).collect();
        assert_eq!(names, ["accept", "recv"]);
        out.lines.insert(0, ">>> conn, peer = srv.accept()");
        assert_eq!(
            out.lines.join("\n").lines().next(),
            Some(">>> conn, peer = srv.accept()")
        );
    }
}
