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
                state_verdict(fd, *state, now, self.settings.timeout)?
            }
            Check::Fd { sock, fd } => fd_verdict(sock, *fd, self.resolve(sock)?)?,
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
            Check::Open(fd) => open_verdict(*fd, true, self.visible(*fd))?,
            Check::Closed(fd) => open_verdict(*fd, false, self.visible(*fd))?,
            Check::Error(_) | Check::Output(_) => match self.last.previous.check(check) {
                Some(held) => held?,
                None => return Ok(()),
            },
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
        wait_for_state(state, self.settings.timeout, || {
            inspect_fd(fd).and_then(|row| row.state)
        })
    }
}

/// Looks at a socket's state (`look`) until it is `wanted`, `timeout` passed or Ctrl-C came;
/// returns the last state seen. What `expect state` waits with, wherever it reads the table.
pub fn wait_for_state(
    wanted: SockState,
    timeout: Duration,
    mut look: impl FnMut() -> Option<SockState>,
) -> Option<SockState> {
    let deadline = Instant::now() + timeout;
    loop {
        let now = look();
        let reached = now.is_some_and(|now| now.same_name(wanted));
        if reached || Instant::now() >= deadline || interrupted() {
            return now;
        }
        std::thread::sleep(STATE_POLL);
    }
}

/// What the command before a check did, for the checks that read it (`expect error`, `expect
/// output`). Checks themselves are not remembered, so several checks can look at one command.
#[derive(Debug, Clone, Default)]
pub struct Previous {
    /// The name of the command, for messages (`connect succeeded`).
    pub command: Option<&'static str>,
    pub output: String,
    pub failure: Option<Failure>,
}

impl Previous {
    /// Remembers what `command` did, unless it is a check.
    pub fn remember(&mut self, command: &crate::lang::Command, out: &Outcome) {
        if !matches!(command.base(), crate::lang::Command::Expect(_)) {
            self.command = Some(command.name());
            self.output = out.text();
            self.failure = out.failure.clone();
        }
    }

    /// Runs `check` if it reads the command before (`expect error`, `expect output`): what held,
    /// or why not. None for the other checks.
    pub fn check(&self, check: &Check) -> Option<Result<String, Failure>> {
        let held = match check {
            Check::Error(name) => {
                let Some(command) = self.command else {
                    return Some(Err(check_failed(format!(
                        "expected error {name}, but no command has run yet: put the check right after the command"
                    ))));
                };
                match self.failure.as_ref().map(|f| f.errno) {
                    Some(Some(errno)) if crate::sys::errno_from_name(name) == Some(errno) => {
                        format!("{command} failed with {name}")
                    }
                    Some(Some(errno)) => {
                        return Some(Err(check_failed(format!(
                            "expected error {name}, got {}",
                            errno_name(errno)
                        ))))
                    }
                    Some(None) => {
                        let message = self
                            .failure
                            .as_ref()
                            .map(|f| f.message.clone())
                            .unwrap_or_default();
                        return Some(Err(check_failed(format!(
                            "expected error {name}, got: {message}"
                        ))));
                    }
                    None => {
                        return Some(Err(check_failed(format!(
                            "expected error {name}, but `{command}` succeeded"
                        ))))
                    }
                }
            }
            Check::Output(text) => {
                if !self.output.contains(text.as_str()) {
                    return Some(Err(check_failed(format!(
                        "expected the output to contain \"{}\", got \"{}\"",
                        crate::text::escape_text(text),
                        crate::text::escape_text(&self.output)
                    ))));
                }
                format!("the output contains \"{}\"", crate::text::escape_text(text))
            }
            _ => return None,
        };
        Some(Ok(held))
    }
}

/// `expect state`'s verdict on fd, in state `now` after waiting up to `waited` for `wanted`.
pub fn state_verdict(
    fd: i32,
    wanted: SockState,
    now: Option<SockState>,
    waited: Duration,
) -> Result<String, Failure> {
    match now.is_some_and(|now| now.same_name(wanted)) {
        true => Ok(format!("fd {fd} is {wanted}")),
        false => Err(check_failed(format!(
            "expected fd {fd} in state {wanted}, got {} (waited {})",
            now.map_or("no state", SockState::name),
            seconds(waited)
        ))),
    }
}

/// `expect fd`'s verdict: `sock` was to be fd `wanted`, and is fd `actual`.
pub fn fd_verdict(
    sock: &crate::lang::SockRef,
    wanted: i32,
    actual: i32,
) -> Result<String, Failure> {
    match actual == wanted {
        true => Ok(format!("{sock} is fd {wanted}")),
        false => Err(check_failed(format!(
            "expected {sock} to be fd {wanted}, got fd {actual}"
        ))),
    }
}

/// `expect open` (`wanted_open`) or `expect closed`'s verdict on fd, which is `open` or not.
pub fn open_verdict(fd: i32, wanted_open: bool, open: bool) -> Result<String, Failure> {
    match (wanted_open, open) {
        (true, true) => Ok(format!("fd {fd} is open")),
        (false, false) => Ok(format!("fd {fd} is closed")),
        (true, false) => Err(check_failed(format!(
            "expected fd {fd} open, but it is closed"
        ))),
        (false, true) => Err(check_failed(format!(
            "expected fd {fd} closed, but it is open"
        ))),
    }
}

fn check_failed(message: String) -> Failure {
    Failure::usage(message)
}
