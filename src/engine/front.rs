//! The commands the front end runs itself rather than the session: `source` (a script inside the
//! session), `record` (writing what runs to a replayable script) and `!cmd` (a shell command).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};

use super::Engine;
use std::os::fd::AsRawFd;

use crate::lang::{Check, Command};
use crate::replay::{run_script, Script};
use crate::session::{Failure, Outcome};

/// How deep `source` may nest, so a script that sources itself stops with an error.
const MAX_SOURCE_DEPTH: usize = 8;
/// How many lines of a shell command's output are shown.
const MAX_SHELL_LINES: usize = 200;

impl Engine {
    /// Runs a front-end command, if `command` is one; None leaves it to the session.
    pub(super) fn run_front(&mut self, command: &Command) -> Option<Outcome> {
        let mut out = Outcome::default();
        let result = match command {
            Command::Source { path } => self.source(path, &mut out),
            Command::Record { path } => self.record(path.as_deref(), &mut out),
            Command::Shell { command } => self.shell(command, &mut out),
            _ => return None,
        };
        if let Err(failure) = result {
            out.failure = Some(failure);
        }
        Some(out)
    }

    fn source(&mut self, path: &Path, out: &mut Outcome) -> Result<(), Failure> {
        if self.source_depth >= MAX_SOURCE_DEPTH {
            return Err(Failure::usage(format!(
                "scripts source each other more than {MAX_SOURCE_DEPTH} deep; is one sourcing itself?"
            )));
        }
        let bytes = std::fs::read(path).map_err(|e| {
            let errno = nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO));
            Failure::os(errno, format!("cannot read the script {}", path.display()))
                .with_hint("check the path; it is taken relative to the directory sockplay runs in")
        })?;
        let script = Script::parse_bytes(&path.display().to_string(), &bytes)
            .map_err(|error| Failure::usage(error.to_string()))?;
        let echo = std::mem::replace(&mut self.view.echo, true);
        self.source_depth += 1;
        let status = run_script(&script, self);
        self.source_depth -= 1;
        self.view.echo = echo;
        if status != 0 {
            return Err(Failure::usage(format!(
                "{} stopped at its first failure; its sockets stay open here",
                path.display()
            )));
        }
        out.say(format!(
            "ran {} from {}",
            plural(script.lines.len(), "command"),
            crate::render::escape_text(&path.display().to_string())
        ));
        Ok(())
    }

    fn record(&mut self, path: Option<&Path>, out: &mut Outcome) -> Result<(), Failure> {
        let Some(path) = path else {
            let Some(mut recording) = self.recording.take() else {
                return Err(Failure::usage(
                    "nothing is being recorded: start with `record FILE.sock`",
                ));
            };
            recording.flush_pending();
            self.session.forget_internal_fd(recording.file.as_raw_fd());
            out.say(format!(
                "recorded {} in {}",
                plural(recording.count, "command"),
                recording.path.display()
            ));
            return Ok(());
        };
        let mut file = std::fs::File::create(path).map_err(|e| {
            let errno = nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO));
            Failure::os(errno, format!("cannot write {}", path.display()))
                .with_hint("check the directory exists and is writable")
        })?;
        let _ = writeln!(
            file,
            "# Recorded by sockplay. Replay it with: sockplay {}",
            path.display()
        );
        // Kept open for the whole recording, on a high fd: a full fd table later must not make the
        // recording lose lines, and the user's sockets keep the low numbers.
        let file = move_high(file);
        self.session.add_internal_fds([file.as_raw_fd()]);
        self.recording = Some(Recording {
            path: path.to_path_buf(),
            file,
            count: 0,
            pending_expect: None,
        });
        out.say(format!(
            "recording to {}: every command from now on, until `record stop`",
            path.display()
        ));
        Ok(())
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
            (Command::Shell { .. }, _) => {
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
        if !self.view.allow_shell {
            return Err(Failure::usage(
                "`!` runs shell commands at the interactive prompt only; replay with --allow-shell to let a script run them",
            ));
        }
        let output = Process::new("sh")
            .arg("-c")
            .arg(command)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| {
                let errno = nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO));
                Failure::os(errno, format!("cannot run `{command}`"))
            })?;
        let text = [output.stdout, output.stderr].concat();
        let text = String::from_utf8_lossy(&text);
        let lines: Vec<&str> = text.lines().collect();
        for line in lines.iter().take(MAX_SHELL_LINES) {
            out.say(crate::render::sanitize_line(line));
        }
        if lines.len() > MAX_SHELL_LINES {
            out.say(format!("… {} more lines", lines.len() - MAX_SHELL_LINES));
        }
        match output.status.code() {
            Some(0) => Ok(()),
            Some(code) => Err(Failure::usage(format!(
                "`{command}` exited with status {code}"
            ))),
            None => Err(Failure::usage(format!(
                "`{command}` was killed by a signal"
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
            Err(e) => crate::sys::errln!(
                "sockplay: the recording {} lost a line: {e}",
                self.path.display()
            ),
        }
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

/// Moves a file to an fd of 64 or more when the limit allows (else it stays where it is).
fn move_high(file: std::fs::File) -> std::fs::File {
    match nix::fcntl::fcntl(&file, nix::fcntl::FcntlArg::F_DUPFD_CLOEXEC(64)) {
        // SAFETY: fcntl just returned this new fd and nothing else owns it.
        Ok(high) => unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(high) },
        Err(_) => file,
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
