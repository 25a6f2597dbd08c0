//! The commands the front end runs itself rather than the session: `source` (a script inside the
//! session), `record` (writing what runs to a replayable script) and `!cmd` (a shell command).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};

use super::Engine;
use crate::lang::Command;
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
            Failure::os(errno, format!("cannot read {}", path.display()))
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
            "ran {} commands from {}",
            script.lines.len(),
            crate::render::escape_text(&path.display().to_string())
        ));
        Ok(())
    }

    fn record(&mut self, path: Option<&Path>, out: &mut Outcome) -> Result<(), Failure> {
        let Some(path) = path else {
            return match self.recording.take() {
                Some((path, count)) => {
                    out.say(format!("recorded {count} commands in {}", path.display()));
                    Ok(())
                }
                None => Err(Failure::usage(
                    "nothing is being recorded: start with `record FILE.sock`",
                )),
            };
        };
        std::fs::write(
            path,
            "# Recorded by sockplay. Replay it with: sockplay THIS_FILE.sock\n",
        )
        .map_err(|e| {
            let errno = nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO));
            Failure::os(errno, format!("cannot write {}", path.display()))
        })?;
        self.recording = Some((path.to_path_buf(), 0));
        out.say(format!(
            "recording to {}: every command from now on, until `record stop`",
            path.display()
        ));
        Ok(())
    }

    /// Appends a command that just ran to the recording, as it was typed. A command that failed with
    /// an errno is followed by `expect error ERRNO`, so the recording replays; one that failed before
    /// any syscall (a typo'd name) did nothing and is left out.
    pub(super) fn record_line(
        &mut self,
        input: &str,
        command: &Command,
        failure: Option<&Failure>,
    ) {
        if matches!(
            command,
            Command::Record { .. } | Command::Help { .. } | Command::Quit
        ) {
            return;
        }
        let Some((path, count)) = &mut self.recording else {
            return;
        };
        let mut text = input.trim().to_string();
        match failure {
            None => {}
            Some(Failure {
                errno: Some(errno), ..
            }) => {
                text.push_str(&format!(
                    "\nexpect error {}",
                    crate::sys::errno_name(*errno)
                ));
            }
            Some(_) => return,
        }
        // Opened per line, so the recording never holds an fd the user's sockets might want.
        let written = std::fs::OpenOptions::new()
            .append(true)
            .open(&*path)
            .and_then(|mut file| writeln!(file, "{text}"));
        if written.is_ok() {
            *count += 1;
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

/// Where a recording goes and how many commands it holds so far.
pub(super) type Recording = Option<(PathBuf, usize)>;
