//! The commands the front end runs itself rather than the session: `source` (a script inside the
//! session), `record` (writing what runs to a replayable script) and `!cmd` (a shell command).
//! A script is shared and run unread, so these are where it could reach past its sockets: a line
//! typed at the prompt may run `!cmd` and `record FILE`, a script (a file, stdin, `-c`, anything
//! `source` reads) only with --allow-shell, and that is checked when it is parsed; a script's
//! `unlink` removes only the socket files it made.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::script_files::{create_new, read_script, shown, FileError};
use super::shell::{run_shell, ShellEnd};
use super::Engine;
use crate::lang::{Check, Command};
use crate::replay::{run_script, Script};
use crate::session::{Failure, Outcome};

/// How deep `source` may nest, so a script that sources itself stops with an error.
const MAX_SOURCE_DEPTH: usize = 8;

/// Why `!` is refused outside the prompt.
const SHELL_REFUSED: &str =
    "`!` runs a shell command: typed at the prompt it always may, a script only with --allow-shell";
/// Why `record FILE` is refused outside the prompt.
const RECORD_REFUSED: &str =
    "`record FILE` writes a file: typed at the prompt it always may, a script only with --allow-shell";

/// Why `unlink` of a file the session did not make is refused outside the prompt.
const UNLINK_REFUSED: &str = "a script may unlink only the socket files it made; typed at the prompt, or with --allow-shell, `unlink` removes any socket file";

/// A line a script may not run without --allow-shell (`!cmd`, `record FILE`), found when the
/// script is parsed, before any of its lines ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// How errors name the script: its path, `<stdin>` or `-c`.
    pub source: String,
    pub line: usize,
    pub reason: &'static str,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}",
            crate::render::escape_text(&self.source),
            self.line,
            self.reason
        )
    }
}

/// Checks that `script` holds no line a script may run only with --allow-shell: a shared script
/// runs unread, so it must not run shell commands or write files unless the user said so.
pub fn check_script(script: &Script) -> Result<(), Refusal> {
    let refused = script.lines.iter().find_map(|line| {
        let reason = match &line.command {
            Command::Shell { .. } => SHELL_REFUSED,
            Command::Record { path: Some(_) } => RECORD_REFUSED,
            _ => return None,
        };
        Some((line.line, reason))
    });
    match refused {
        Some((line, reason)) => Err(Refusal {
            source: script.source.clone(),
            line,
            reason,
        }),
        None => Ok(()),
    }
}

/// A script file that could not be read, as a command's failure.
fn file_failure(error: &FileError) -> Failure {
    Failure {
        errno: error.errno(),
        message: error.message(),
        hint: None,
    }
}

impl Engine {
    /// Runs a front-end command, if `command` is one; None leaves it to the session.
    pub(super) fn run_front(&mut self, command: &Command) -> Option<Outcome> {
        let mut out = Outcome::default();
        let result = match command {
            Command::Source { path } => self.source(path, &mut out),
            Command::Record { path } => self.record(path.as_deref(), &mut out),
            Command::Shell { command } => self.shell(command, &mut out),
            // A script removes only the socket files it made; the session does the rest.
            Command::Unlink { path } if !self.may_run_shell() && !self.made_socket_file(path) => {
                Err(Failure::usage(UNLINK_REFUSED))
            }
            _ => return None,
        };
        if let Err(failure) = result {
            out.failure = Some(failure);
        }
        Some(out)
    }

    /// Whether the file at `path` is a socket file that a bind of one of the processes made.
    fn made_socket_file(&self, path: &Path) -> bool {
        self.processes
            .list()
            .iter()
            .flat_map(|p| &p.table.view.socket_files)
            .any(|file| file.is_at(path))
    }

    /// Whether the line running now may run `!cmd` and write a file with `record`: a line typed at
    /// the interactive prompt may; a script (a file, stdin, `-c`, and anything `source` reads,
    /// whoever sources it) only with --allow-shell.
    fn may_run_shell(&self) -> bool {
        self.view.allow_shell || (self.view.prompt && self.source_depth == 0)
    }

    fn source(&mut self, path: &Path, out: &mut Outcome) -> Result<(), Failure> {
        if self.source_depth >= MAX_SOURCE_DEPTH {
            return Err(Failure::usage(format!(
                "scripts source each other more than {MAX_SOURCE_DEPTH} deep; is one sourcing itself?"
            )));
        }
        let bytes = read_script(path).map_err(|error| {
            let failure = file_failure(&error);
            match error {
                FileError::Os { .. } => failure.with_hint(
                    "check the path; it is taken relative to the directory sockplay runs in",
                ),
                _ => failure,
            }
        })?;
        let script = Script::parse_bytes(&path.display().to_string(), &bytes)
            .map_err(|error| Failure::usage(error.to_string()))?;
        if !self.view.allow_shell {
            check_script(&script).map_err(|refusal| Failure::usage(refusal.to_string()))?;
        }
        let echo = std::mem::replace(&mut self.view.echo, true);
        self.source_depth += 1;
        let status = run_script(&script, self);
        self.source_depth -= 1;
        self.view.echo = echo;
        if status != 0 {
            return Err(Failure::usage(format!(
                "{} stopped at its first failure; its sockets stay open here",
                shown(path)
            )));
        }
        out.say(format!(
            "ran {} from {}",
            plural(script.lines.len(), "command"),
            shown(path)
        ));
        Ok(())
    }

    fn record(&mut self, path: Option<&Path>, out: &mut Outcome) -> Result<(), Failure> {
        let Some(path) = path else {
            let Some(recording) = self.end_recording() else {
                return Err(Failure::usage(
                    "nothing is being recorded: start with `record FILE.sock`",
                ));
            };
            out.say(recording.summary());
            return Ok(());
        };
        if !self.may_run_shell() {
            return Err(Failure::usage(RECORD_REFUSED));
        }
        let mut file = create_new(path).map_err(|error| {
            let failure = file_failure(&error);
            match error.errno() {
                Some(nix::errno::Errno::EEXIST) => {
                    failure.with_hint("choose a new file name, or remove the old file first")
                }
                _ => failure.with_hint("check the directory exists and is writable"),
            }
        })?;
        let _ = writeln!(
            file,
            "# Recorded by sockplay. Replay it with: sockplay {}",
            crate::render::sanitize_line(&path.display().to_string())
        );
        if let Some(previous) = self.end_recording() {
            out.say(previous.summary());
        }
        self.recording = Some(Recording {
            path: path.to_path_buf(),
            file,
            count: 0,
            pending_expect: None,
        });
        out.say(format!(
            "recording to {}: every command from now on, until `record stop`",
            shown(path)
        ));
        Ok(())
    }

    /// Ends the recording in progress, if any: its last check is written.
    fn end_recording(&mut self) -> Option<Recording> {
        let mut recording = self.recording.take()?;
        recording.flush_pending();
        Some(recording)
    }

    /// Appends a command that just ran to the recording, as it was typed. A command that failed with
    /// an errno is followed by `expect error ERRNO` (unless the next line typed is that check), so
    /// the recording replays; one that failed before any syscall did nothing and is left out.
    /// Commands run by a `source` are represented by the `source` line itself.
    pub(super) fn record_line(
        &mut self,
        input: &str,
        command: &Command,
        failure: Option<&Failure>,
    ) {
        if self.source_depth > 0
            || matches!(
                command,
                Command::Record { .. } | Command::Help { .. } | Command::Quit
            )
        {
            return;
        }
        let Some(recording) = &mut self.recording else {
            return;
        };
        match command {
            // The check the user typed replaces the one the recording would have added.
            Command::Expect(Check::Error(_)) if recording.pending_expect.is_some() => {
                recording.pending_expect = None;
            }
            _ => recording.flush_pending(),
        }
        let line = match (command, failure) {
            (command, _) if matches!(command.base(), Command::Shell { .. }) => {
                format!("# {}   (shell lines are not replayed)", input.trim())
            }
            (_, Some(Failure { errno: None, .. })) if !matches!(command, Command::Expect(_)) => {
                return
            }
            _ => input.trim().to_string(),
        };
        recording.write(&line);
        if let (
            false,
            Some(Failure {
                errno: Some(errno), ..
            }),
        ) = (matches!(command, Command::Expect(_)), failure)
        {
            recording.pending_expect =
                Some(format!("expect error {}", crate::sys::errno_name(*errno)));
        }
    }

    fn shell(&mut self, command: &str, out: &mut Outcome) -> Result<(), Failure> {
        if !self.may_run_shell() {
            return Err(Failure::usage(SHELL_REFUSED));
        }
        let shown_command = crate::render::sanitize_line(command);
        let timeout = self.settings.timeout;
        let run = run_shell(command, timeout)
            .map_err(|errno| Failure::os(errno, format!("cannot run `{shown_command}`")))?;
        for line in &run.lines {
            out.say(crate::render::sanitize_line(line));
        }
        if run.more_lines > 0 {
            out.say(format!("… {}", plural(run.more_lines, "more line")));
        }
        match run.end {
            ShellEnd::Exited(0) => Ok(()),
            ShellEnd::Exited(code) => Err(Failure::usage(format!(
                "`{shown_command}` exited with status {code}"
            ))),
            ShellEnd::Signaled(signal) => Err(Failure::usage(format!(
                "`{shown_command}` was killed by {signal}"
            ))),
            ShellEnd::TimedOut => Err(Failure::os(
                nix::errno::Errno::ETIMEDOUT,
                format!(
                    "`{shown_command}` still ran after {}: sockplay killed it and its process group",
                    crate::session::seconds(timeout)
                ),
            )
            .with_hint("`set timeout SECS` lets commands run longer")),
            ShellEnd::Interrupted => Err(Failure::os(
                nix::errno::Errno::EINTR,
                format!("interrupted by Ctrl-C: sockplay killed `{shown_command}` and its process group"),
            )),
            ShellEnd::TooMuchOutput(limit) => Err(Failure::usage(format!(
                "`{shown_command}` printed more than {limit}: sockplay stopped reading and killed it and its process group"
            ))),
        }
    }
}

/// A recording in progress.
#[derive(Debug)]
pub(super) struct Recording {
    path: PathBuf,
    file: std::fs::File,
    /// Commands written so far.
    count: usize,
    /// The `expect error` that follows the last command, unless the user types it next.
    pending_expect: Option<String>,
}

impl Recording {
    fn write(&mut self, line: &str) {
        match writeln!(self.file, "{line}") {
            Ok(()) => self.count += usize::from(!line.starts_with('#')),
            Err(e) => crate::render::terminal::warn(format_args!(
                "sockplay: the recording {} lost a line: {e}",
                shown(&self.path)
            )),
        }
    }

    /// `recorded 3 commands in rec.sock`.
    fn summary(&self) -> String {
        format!(
            "recorded {} in {}",
            plural(self.count, "command"),
            shown(&self.path)
        )
    }

    fn flush_pending(&mut self) {
        if let Some(line) = self.pending_expect.take() {
            self.write(&line);
        }
    }
}

impl Drop for Recording {
    /// A session that ends while recording still writes the check its last command needs.
    fn drop(&mut self) {
        self.flush_pending();
    }
}

/// `1 command`, `2 commands`.
pub fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}
