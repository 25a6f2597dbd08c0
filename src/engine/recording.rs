//! `record FILE.sock`: every command that runs, appended as typed to a new script that replays
//! (a failed call followed by its `expect error`), until `record stop`.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::front::{file_failure, RECORD_REFUSED};
use super::script_files::{create_new, shown};
use super::Engine;
use crate::lang::{Check, Command};
use crate::session::{Failure, Outcome};
use crate::text::plural;

impl Engine {
    /// `record FILE` starts a recording (a script may only with --allow-shell); `record stop`
    /// ends it.
    pub(super) fn record(&mut self, path: Option<&Path>, out: &mut Outcome) -> Result<(), Failure> {
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
            crate::text::sanitize_line(&path.display().to_string())
        );
        // Kept open for the whole recording, on a high fd: a full fd table later must not make the
        // recording lose lines, and the user's sockets keep the low numbers.
        let file = move_high(file);
        if let Some(previous) = self.end_recording() {
            out.say(previous.summary());
        }
        self.recording = Some(Recording {
            path: path.to_path_buf(),
            file,
            count: 0,
            pending_expect: None,
            lost: Vec::new(),
        });
        out.say(format!(
            "recording to {}: every command from now on, until `record stop`",
            shown(path)
        ));
        Ok(())
    }

    /// Ends the recording in progress, if any: its last check is written.
    pub(super) fn end_recording(&mut self) -> Option<Recording> {
        let mut recording = self.recording.take()?;
        recording.flush_pending();
        self.report_lost(&mut recording);
        Some(recording)
    }

    /// Tells on the error stream about the lines the recording could not write.
    fn report_lost(&mut self, recording: &mut Recording) {
        for text in std::mem::take(&mut recording.lost) {
            self.report(&text);
        }
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
        // `NAME:` and `&` are written as typed; what the line does is the command's.
        let command = command.base();
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
            (Command::Shell { .. }, _) => Some(format!(
                "# {}   (shell lines are not replayed)",
                input.trim()
            )),
            (_, Some(Failure { errno: None, .. })) if !matches!(command, Command::Expect(_)) => {
                None
            }
            _ => Some(input.trim().to_string()),
        };
        if let Some(line) = line {
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
        let lost = std::mem::take(&mut recording.lost);
        for text in lost {
            self.report(&text);
        }
    }
}

impl Drop for Engine {
    /// An engine that ends while recording still writes the check its last command needs.
    fn drop(&mut self) {
        self.end_recording();
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
    /// What to tell about lines that could not be written, until the engine tells it.
    lost: Vec<String>,
}

impl Recording {
    fn write(&mut self, line: &str) {
        match writeln!(self.file, "{line}") {
            Ok(()) => self.count += usize::from(!line.starts_with('#')),
            Err(e) => self.lost.push(format!(
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

/// Moves a file to an fd of 64 or more when the limit allows (else it stays where it is).
fn move_high(file: std::fs::File) -> std::fs::File {
    match crate::sys::descriptor::dup_above(std::os::fd::AsFd::as_fd(&file), 64) {
        Ok(high) => std::fs::File::from(high),
        Err(_) => file,
    }
}
