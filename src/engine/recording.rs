//! `record FILE.sock`: every command that runs, appended as typed to a new script that replays
//! (a failed call followed by its `expect error`), until `record stop`.
//!
//! With several processes the script replays in the same processes: `spawn`, `fork`, `use`,
//! `NAME:`, `&`, `wait`, `kill` and `exit` are written as typed, and a call in the background that
//! returned without a `wait` (its result shown at the prompt) gets the `wait NAME` that collects
//! it in the replay, at the point the session saw it return, followed by its `expect error` when
//! it failed.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::front::{file_failure, FileUse, RECORD_REFUSED};
use super::script_files::{create_new, shown};
use super::{target_of, Engine};
use crate::lang::{Check, Command};
use crate::process::MAIN;
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
            let mut failure = file_failure(&error);
            failure.hint = error
                .errno()
                .and_then(|errno| self.file_hint(errno, FileUse::Create));
            failure
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
        let mut recording = Recording {
            path: path.to_path_buf(),
            file,
            count: 0,
            pending_expect: None,
            outstanding: Vec::new(),
            lost: Vec::new(),
        };
        // Typed in another process, the commands replay there: the script says which (it replays
        // where that process exists).
        let current = &self.processes.current().name;
        if current != MAIN {
            recording.write(&format!(
                "# recorded in process {current}, which the session had made before"
            ));
            recording.write(&format!("use {current}"));
        }
        // The replay's calls wait as long as this session's do.
        if self.settings.timeout != crate::session::Settings::default().timeout {
            recording.write(&format!(
                "set timeout {}",
                self.settings.timeout.as_secs_f64()
            ));
        }
        self.report_lost(&mut recording);
        self.recording = Some(recording);
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
        let target = target_of(command);
        // `wait` without a name waits for the current process, wherever it is typed.
        let ran_in = match (target.named, command.base()) {
            (Some(name), base) if !matches!(base, Command::Wait { .. }) => name.to_string(),
            _ => self.processes.current().name.clone(),
        };
        let background = target.background;
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
        // A `wait` that gives a result already shown, and collected in the recording with its
        // `wait NAME` then, adds nothing to the replay (the check that result needs stays due).
        if let Command::Wait { process } = command {
            let name = process.as_deref().unwrap_or(&ran_in);
            let collected = !matches!(
                failure,
                Some(f) if f.errno.is_none_or(|e| e == nix::errno::Errno::ETIMEDOUT)
            );
            if collected && !recording.outstanding.iter().any(|p| p == name) {
                return;
            }
        }
        match command {
            // The check the user typed replaces the one the recording would have added.
            Command::Expect(Check::Error(_)) if recording.pending_expect.is_some() => {
                recording.pending_expect = None;
            }
            _ => recording.flush_pending(),
        }
        recording.follow_processes(command, background, &ran_in, failure);
        let line = match (command, failure) {
            (Command::Shell { .. }, _) => Some(format!(
                "# {}   (shell lines are not replayed)",
                input.trim()
            )),
            // Cut by Ctrl-C (or a signal): nothing happened, and no replay can cut it the same
            // way, so it is left out.
            (_, Some(f)) if f.errno == Some(nix::errno::Errno::EINTR) && !background => {
                recording.write(&format!(
                    "# {}   (cut by Ctrl-C: it did nothing, and is not replayed)",
                    input.trim()
                ));
                None
            }
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

    /// Before `command` runs: each call in the background that the recording started and that
    /// has returned since, unless `command` is the `wait` that collects it, gets its `wait NAME`
    /// now, so the replay runs `command` with that process ready, as the session did.
    pub(super) fn record_returned_calls(&mut self, command: &Command) {
        if self.source_depth > 0 || self.recording.is_none() {
            return;
        }
        self.processes.collect();
        let waited = match command.base() {
            Command::Wait { process } => Some(
                process
                    .clone()
                    .unwrap_or_else(|| self.processes.current().name.clone()),
            ),
            _ => None,
        };
        let returned: Vec<(String, Option<Failure>)> = self
            .processes
            .list()
            .iter()
            .filter(|p| waited.as_deref() != Some(p.name.as_str()))
            .filter_map(|p| {
                let finished = p.finished()?;
                Some((p.name.clone(), finished.done.outcome.failure.clone()))
            })
            .collect();
        for (name, failure) in returned {
            self.record_wait(&name, failure.as_ref());
        }
    }

    /// A call in the background that returned and was shown at the prompt: the recording collects
    /// it with `wait NAME` (if it started it).
    pub(super) fn record_shown_result(&mut self, process: &str, failure: Option<&Failure>) {
        if self.source_depth == 0 {
            self.record_wait(process, failure);
        }
    }

    /// Writes `wait NAME` for the recorded call in the background that `process` returned, and the
    /// check its failure needs. A call whose process ended before it returned needs none: the
    /// replay's process ends the same way.
    fn record_wait(&mut self, process: &str, failure: Option<&Failure>) {
        let Some(recording) = &mut self.recording else {
            return;
        };
        let Some(position) = recording.outstanding.iter().position(|p| p == process) else {
            return;
        };
        recording.outstanding.remove(position);
        let errno = match failure {
            None => None,
            Some(Failure {
                errno: Some(errno), ..
            }) => Some(*errno),
            Some(_) => return,
        };
        recording.flush_pending();
        recording.write(&format!("wait {process}"));
        // A call Ctrl-C cut: the replay has no Ctrl-C, so its call waits out the timeout.
        let errno = match errno {
            Some(nix::errno::Errno::EINTR) => {
                recording.write(&format!(
                    "# {process}'s call was cut by Ctrl-C; replayed, it ends at the timeout instead"
                ));
                Some(nix::errno::Errno::ETIMEDOUT)
            }
            other => other,
        };
        recording.pending_expect =
            errno.map(|errno| format!("expect error {}", crate::sys::errno_name(errno)));
        self.report_lost_lines();
    }

    fn report_lost_lines(&mut self) {
        let lost = match &mut self.recording {
            Some(recording) => std::mem::take(&mut recording.lost),
            None => return,
        };
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
    /// The processes running a call in the background that a recorded `COMMAND &` started and no
    /// recorded `wait` has collected yet.
    outstanding: Vec<String>,
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

    /// Keeps track of the calls in the background: `COMMAND &` starts one in `ran_in`; a `wait`
    /// that returned one, `kill` or `exit` ends it.
    fn follow_processes(
        &mut self,
        command: &Command,
        background: bool,
        ran_in: &str,
        failure: Option<&Failure>,
    ) {
        let ended = match command {
            _ if background => {
                if failure.is_none() {
                    self.outstanding.push(ran_in.to_string());
                }
                return;
            }
            Command::Wait { process } => {
                let timed_out =
                    matches!(failure, Some(f) if f.errno == Some(nix::errno::Errno::ETIMEDOUT));
                let collected = !timed_out && !matches!(failure, Some(Failure { errno: None, .. }));
                if !collected {
                    return;
                }
                process.as_deref().unwrap_or(ran_in).to_string()
            }
            Command::Kill { process, .. } if failure.is_none() => process.clone(),
            Command::Exit if failure.is_none() => ran_in.to_string(),
            _ => return,
        };
        self.outstanding.retain(|p| *p != ended);
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
