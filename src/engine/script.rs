//! Running a parsed [`Script`] in the engine: each command shown as it runs, and the first failure
//! that no `expect error` after it excuses stops the script. Replay runs a script this way, and so
//! does `source`, inside the session it is typed in.

use std::fmt;

use nix::sys::signal::Signal;

use super::Engine;
use crate::lang::Script;
use crate::sys::{ending_signal, interrupted};

/// Why a script stopped before its end, and at which of its lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// A command failed, or a check did not hold, and no `expect error` after it excuses that.
    Failed {
        /// How the script is named: its path, `<stdin>`, `-c`, `tutorial NAME`.
        source: String,
        line: usize,
        /// The failure's first line: `ECONNREFUSED: connect failed (…)`.
        headline: String,
    },
    /// A signal asked sockplay to end before this line ran.
    NotRun {
        source: String,
        line: usize,
        signal: Signal,
    },
    /// A signal asked sockplay to end while this line ran, or Ctrl-C stopped a script that
    /// another runs (`source` at the prompt).
    Ended {
        source: String,
        line: usize,
        signal: Signal,
    },
}

impl Stop {
    /// The signal that ended the script, if one did.
    pub fn signal(&self) -> Option<Signal> {
        match self {
            Stop::Failed { .. } => None,
            Stop::NotRun { signal, .. } | Stop::Ended { signal, .. } => Some(*signal),
        }
    }
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stop::Failed {
                source,
                line,
                headline,
            } => write!(f, "{source}:{line}: {headline}"),
            Stop::NotRun {
                source,
                line,
                signal,
            } => write!(f, "{source}:{line}: not run: {}", ended_by(*signal)),
            Stop::Ended {
                source,
                line,
                signal,
            } => write!(f, "{source}:{line}: {}", ended_by(*signal)),
        }
    }
}

/// How a script that a signal ended says so.
fn ended_by(signal: Signal) -> String {
    match signal {
        Signal::SIGINT => "interrupted by Ctrl-C".to_string(),
        signal => format!("ended by {}", signal.as_str()),
    }
}

impl Engine {
    /// Runs `script`, showing each command as it runs. It stops at `quit`, at the first failure
    /// no `expect error` excuses, and at a signal that asks sockplay to end. A screen that is gone
    /// (stdout closed, as `| head` does) does not stop it: the rest runs unseen, so the result
    /// still says whether every command and check held.
    pub fn run_script(&mut self, script: &Script) -> Result<(), Stop> {
        for (index, line) in script.lines.iter().enumerate() {
            let at = || (script.source.clone(), line.line);
            if self.ends_session(&line.command) || self.no_process_left() {
                return Ok(());
            }
            // Asked to end (SIGTERM, SIGHUP, Ctrl-C) between two commands: run no more.
            if let Some(signal) = ending_signal() {
                let (source, line) = at();
                return Err(Stop::NotRun {
                    source,
                    line,
                    signal,
                });
            }
            let step = match self.run_and_print(line.line, &line.text, &line.command) {
                Ok(step) => step,
                Err(unshown) => unshown.step,
            };
            // A call in the background that returned meanwhile is shown as it arrives. A closed
            // stdout is the step's own business, told above.
            let _ = self.print_finished();
            let ending = ending_signal();
            if let Some(failure) = &step.outcome.failure {
                // Excused or not, a failure that came with a signal is what the run ends on.
                if !script.excuses(index) || ending.is_some() {
                    let (source, line) = at();
                    return Err(Stop::Failed {
                        source,
                        line,
                        headline: failure.headline(),
                    });
                }
            }
            if let Some(signal) = ending {
                let (source, line) = at();
                return Err(Stop::Ended {
                    source,
                    line,
                    signal,
                });
            }
            // Ctrl-C in a script that another runs (`source` at the prompt) stops that script.
            if interrupted() && step.outcome.failure.is_none() {
                let (source, line) = at();
                return Err(Stop::Ended {
                    source,
                    line,
                    signal: Signal::SIGINT,
                });
            }
        }
        Ok(())
    }
}
