//! What executing one command produced: the lines it printed, and the failure if it failed.

use nix::errno::Errno;

use crate::sys::{errno_name, generic_hint};

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
}

impl Failure {
    /// A kernel error, explained with the generic hint for its errno.
    pub fn os(errno: Errno, message: impl Into<String>) -> Failure {
        Failure {
            errno: Some(errno),
            message: message.into(),
            hint: generic_hint(errno).map(str::to_string),
        }
    }

    /// A mistake found before any syscall (unknown socket name, wrong kind of fd, …).
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure {
            errno: None,
            message: message.into(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Failure {
        self.hint = Some(hint.into());
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

/// The result of one command.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Outcome {
    /// What the command printed: the strace-style call line, then anything worth saying.
    pub lines: Vec<String>,
    pub failure: Option<Failure>,
    /// The command asked to end the session.
    pub quit: bool,
}

impl Outcome {
    pub fn say(&mut self, line: impl Into<String>) {
        self.lines.push(line.into());
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

/// The strace-style tail of a failed call: `-1 ECONNREFUSED (Connection refused)`.
pub fn failed_call(errno: Errno) -> String {
    format!("-1 {} ({})", errno_name(errno), errno.desc())
}
