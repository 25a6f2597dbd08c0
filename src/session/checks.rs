//! The `expect` checks of scripts and tutorials. A check reads the kernel's view (the FD table) or what
//! the previous command left behind; it never changes anything.

use std::time::{Duration, Instant};

use super::{seconds, Failure, Outcome, Session};
use crate::fdtable::inspect_fd;
use crate::lang::Check;
use crate::net::SockState;
use crate::sys::{errno_name, interrupted};
use crate::text::escape_bytes;

/// How often `expect state` looks again while it waits for a state.
const STATE_POLL: Duration = Duration::from_millis(10);

impl Session {
    pub(super) fn check(&mut self, check: &Check, out: &mut Outcome) -> Result<(), Failure> {
        let held = match check {
            Check::State { sock, state } => {
                let fd = self.resolve(sock)?;
                let now = self.wait_for_state(fd, *state);
                if !now.is_some_and(|now| now.same_name(*state)) {
                    return Err(check_failed(format!(
                        "expected fd {fd} in state {state}, got {} (waited {})",
                        now.map_or("no state", SockState::name),
                        seconds(self.settings.timeout)
                    )));
                }
                format!("fd {fd} is {state}")
            }
            Check::Fd { sock, fd } => {
                let actual = self.resolve(sock)?;
                if actual != *fd {
                    return Err(check_failed(format!(
                        "expected {sock} to be fd {fd}, got fd {actual}"
                    )));
                }
                format!("{sock} is fd {fd}")
            }
            Check::Data(expected) => match &self.last.received {
                Some(got) if got == expected => format!("received \"{}\"", escape_bytes(got)),
                Some(got) => {
                    return Err(check_failed(format!(
                        "expected data \"{}\", got \"{}\"",
                        escape_bytes(expected),
                        escape_bytes(got)
                    )))
                }
                None => {
                    return Err(check_failed(
                        "expected data, but nothing has been received yet".into(),
                    ))
                }
            },
            Check::Eof => match &self.last.received {
                Some(got) if got.is_empty() => "the last recv returned EOF".to_string(),
                Some(got) => {
                    return Err(check_failed(format!(
                        "expected EOF, got {} bytes \"{}\"",
                        got.len(),
                        escape_bytes(got)
                    )))
                }
                None => {
                    return Err(check_failed(
                        "expected EOF, but nothing has been received yet".into(),
                    ))
                }
            },
            Check::Error(name) => {
                let Some(command) = self.last.command else {
                    return Err(check_failed(format!(
                        "expected error {name}, but no command has run yet: put the check right after the command"
                    )));
                };
                match self.last.failure.as_ref().map(|f| f.errno) {
                    Some(Some(errno)) if errno_name(errno) == *name => {
                        format!("{command} failed with {name}")
                    }
                    Some(Some(errno)) => {
                        return Err(check_failed(format!(
                            "expected error {name}, got {}",
                            errno_name(errno)
                        )))
                    }
                    Some(None) => {
                        let message = self
                            .last
                            .failure
                            .as_ref()
                            .map(|f| f.message.clone())
                            .unwrap_or_default();
                        return Err(check_failed(format!(
                            "expected error {name}, got: {message}"
                        )));
                    }
                    None => {
                        return Err(check_failed(format!(
                            "expected error {name}, but `{command}` succeeded"
                        )))
                    }
                }
            }
            Check::Open(fd) => match self.visible(*fd) {
                true => format!("fd {fd} is open"),
                false => {
                    return Err(check_failed(format!(
                        "expected fd {fd} open, but it is closed"
                    )))
                }
            },
            Check::Closed(fd) => match self.visible(*fd) {
                false => format!("fd {fd} is closed"),
                true => {
                    return Err(check_failed(format!(
                        "expected fd {fd} closed, but it is open"
                    )))
                }
            },
            Check::Output(text) => {
                if !self.last.output.contains(text.as_str()) {
                    return Err(check_failed(format!(
                        "expected the output to contain \"{}\", got \"{}\"",
                        crate::text::escape_text(text),
                        crate::text::escape_text(&self.last.output)
                    )));
                }
                format!("the output contains \"{}\"", crate::text::escape_text(text))
            }
        };
        out.say(format!("✓ {held}"));
        Ok(())
    }

    /// Whether fd is open and not one of sockplay's own.
    fn visible(&self, fd: i32) -> bool {
        !self.internal.contains(&fd) && inspect_fd(fd).is_some()
    }

    /// Waits up to the timeout for fd to reach `state`; returns the last state seen.
    fn wait_for_state(&self, fd: i32, state: SockState) -> Option<SockState> {
        let deadline = Instant::now() + self.settings.timeout;
        loop {
            let now = inspect_fd(fd).and_then(|row| row.state);
            let reached = now.is_some_and(|now| now.same_name(state));
            if reached || Instant::now() >= deadline || interrupted() {
                return now;
            }
            std::thread::sleep(STATE_POLL);
        }
    }
}

fn check_failed(message: String) -> Failure {
    Failure::usage(message)
}
