//! What ends a run of sockplay before its work is done: one enum, its wording in one `Display`,
//! and the exit status each ends with ([`Error::code`]). The front ends return it; `run.rs` is the
//! one place that prints it and exits with its code. (What a step prints, its failure included,
//! is the step's output, not an `Error`: a failure ends a run only when nothing excuses it.)

use rustyline::error::ReadlineError;

use crate::engine::{FileError, Refusal, Stop};
use crate::lang::{quoted_word, ScriptError};
use crate::sys::signal_status;

/// Exit status when a command failed or a check did not hold, or the prompt could not go on.
const EXIT_FAILED: i32 = 1;
/// Exit status for a usage or syntax error: nothing was run.
const EXIT_USAGE: i32 = 2;

/// Why a run ended early. Every message is made safe by the terminal it is printed through.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The arguments are wrong: clap's message, which quotes them.
    #[error("{message}")]
    Usage { message: String },

    /// The script to replay could not be read: a file, or stdin.
    #[error("sockplay: {error}{}", command_hint(.command.as_deref()))]
    Unreadable {
        error: FileError,
        /// The path is not a file but the name of a command (`sockplay fds`), which `-c` runs.
        command: Option<String>,
    },

    /// A script does not parse (a replayed script, a tutorial): nothing ran.
    #[error("{0}")]
    Syntax(ScriptError),

    /// A script holds a line it may run only with --allow-shell: nothing ran.
    #[error("{0}")]
    Refused(Refusal),

    /// `--tutorial NAME` names no tutorial.
    #[error(
        "sockplay: no tutorial is called `{}`{}\n(`sockplay --tutorial` lists them)",
        quoted_word(.name),
        did_you_mean(.near)
    )]
    NoTutorial {
        name: String,
        /// The tutorial's name the user may have meant.
        near: Option<&'static str>,
    },

    /// A command failed or a check did not hold, at FILE:LINE, or a signal ended the run.
    #[error("{0}")]
    Stopped(Stop),

    /// The line editor of the prompt could not be set up.
    #[error("sockplay: cannot {doing} the line editor: {error}")]
    LineEditor {
        /// `configure` or `start`.
        doing: &'static str,
        error: ReadlineError,
    },

    /// The prompt could not read a line (and it was not Ctrl-C or Ctrl-D).
    #[error("sockplay: cannot read the line: {error}")]
    ReadLine { error: ReadlineError },

    /// What sockplay prints about itself (a completion script, the manual page) could not be
    /// written.
    #[error("sockplay: cannot write to stdout: {error}")]
    Output { error: std::io::Error },

    /// The playground's first process, `main`, could not be started: nothing ran.
    #[error("sockplay: cannot start the first process: {error}")]
    FirstProcess { error: std::io::Error },
}

impl Error {
    /// The exit status a run that ends with this error exits with: 2 when nothing ran (usage,
    /// syntax, a refused line, an unreadable script), 1 when a command or a check failed, and
    /// 128 + the signal when one ended it (130 for Ctrl-C, also while stdin is read).
    pub fn code(&self) -> i32 {
        match self {
            Error::Usage { .. }
            | Error::Syntax(_)
            | Error::Refused(_)
            | Error::NoTutorial { .. } => EXIT_USAGE,
            Error::Unreadable {
                error: FileError::Interrupted { .. },
                ..
            } => signal_status(nix::sys::signal::Signal::SIGINT),
            Error::Unreadable { .. } => EXIT_USAGE,
            Error::Stopped(stop) => stop.signal().map_or(EXIT_FAILED, signal_status),
            Error::LineEditor { .. }
            | Error::ReadLine { .. }
            | Error::Output { .. }
            | Error::FirstProcess { .. } => EXIT_FAILED,
        }
    }
}

/// The line after an unreadable script that was a command's name.
fn command_hint(command: Option<&str>) -> String {
    command.map_or_else(String::new, |word| {
        format!("\nto run the command `{word}`, use: sockplay -c '{word}'")
    })
}

/// `; did you mean `NAME`?`, or nothing.
fn did_you_mean(near: &Option<&str>) -> String {
    near.map_or_else(String::new, |near| format!("; did you mean `{near}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::signal::Signal;

    fn stopped(signal: Option<Signal>) -> Error {
        Error::Stopped(match signal {
            None => Stop::Failed {
                source: "t.sock".into(),
                line: 3,
                headline: "EBADF: fd 9 is not open".into(),
            },
            Some(signal) => Stop::Ended {
                source: "t.sock".into(),
                line: 3,
                signal,
            },
        })
    }

    #[test]
    fn each_end_has_its_exit_status() {
        assert_eq!(stopped(None).code(), 1);
        assert_eq!(stopped(Some(Signal::SIGINT)).code(), 130);
        assert_eq!(stopped(Some(Signal::SIGTERM)).code(), 143);
        assert_eq!(stopped(Some(Signal::SIGHUP)).code(), 129);
        let unreadable = |error| Error::Unreadable {
            error,
            command: None,
        };
        assert_eq!(
            unreadable(FileError::Interrupted {
                source: "<stdin>".into()
            })
            .code(),
            130
        );
        assert_eq!(
            unreadable(FileError::TooLarge {
                source: "<stdin>".into()
            })
            .code(),
            2
        );
        assert_eq!(
            Error::Usage {
                message: "error: x".into()
            }
            .code(),
            2
        );
    }

    #[test]
    fn messages_say_where_and_what() {
        assert_eq!(
            stopped(None).to_string(),
            "t.sock:3: EBADF: fd 9 is not open"
        );
        assert_eq!(
            stopped(Some(Signal::SIGINT)).to_string(),
            "t.sock:3: interrupted by Ctrl-C"
        );
        assert_eq!(
            Error::NoTutorial {
                name: "upd".into(),
                near: Some("udp")
            }
            .to_string(),
            "sockplay: no tutorial is called `upd`; did you mean `udp`?\n(`sockplay --tutorial` lists them)"
        );
        let unreadable = Error::Unreadable {
            error: FileError::NotRegular {
                path: "fds".into(),
                kind: "a fifo",
            },
            command: Some("fds".into()),
        };
        assert_eq!(
            unreadable.to_string(),
            "sockplay: fds is a fifo, not a regular file: a script is read only from a regular file\n\
             to run the command `fds`, use: sockplay -c 'fds'"
        );
    }
}
