//! The one engine under every front end: it has a command executed by the session or answers it
//! itself (as the command's definition says), takes the FD snapshot, diffs it against the previous
//! one and lays the step out — as text with the panel, or as JSON — for the front end's
//! [`Screen`].

mod front;
mod meaning;
mod recording;
mod screen;
mod script;
mod script_files;
mod shell;

pub use front::{check_script, Refusal};
pub use screen::Screen;
pub use script::Stop;
pub use script_files::{read_capped, read_script, FileError};

use std::io;
use std::sync::Arc;

use crate::fdtable::{Labels, Observer, PendingConn, Snapshot};
use crate::lang::{Command, PanelPlacement, RunsIn};
use crate::render::{
    changes, diff_pending, fds_json, panel_lines_of, side_by_side, Change, Changes, ErrorJson,
    PanelOptions, Row, StepJson,
};
use crate::session::{Outcome, Session};
use crate::sys::{clear_interrupt, errno_name};
use crate::text::{display_width, safe_line};

/// The fewest panel rows shown however small the screen: a summary below this says little.
const MIN_PANEL_ROWS: usize = 12;

/// A width that never constrains the panel, to measure its natural width.
const UNBOUNDED: usize = 10_000;

/// How steps are shown.
#[derive(Debug, Clone, Copy)]
pub struct View {
    pub json: bool,
    pub color: bool,
    /// Echo each command before its output (script replay).
    pub echo: bool,
    /// Width to lay out in when the terminal's cannot be measured.
    pub fallback_width: usize,
    /// --allow-shell: scripts (files, stdin, `-c`, whatever `source` reads) may run `!cmd` lines
    /// and write files with `record`.
    pub allow_shell: bool,
    /// Lines are typed by a person at the interactive prompt: `!cmd` and `record` are theirs to
    /// run. A file they `source` is still a script.
    pub prompt: bool,
    /// Where the panel goes (`--panel`, `set panel`).
    pub panel: PanelPlacement,
    /// Show the Python equivalent of each command (`set explain`).
    pub explain: bool,
}

/// The session, the observer of its process, the last snapshot, so each step can say what
/// changed, and the screen the steps are shown on.
#[derive(Debug)]
pub struct Engine {
    pub session: Session,
    /// Takes the snapshots of the session's process and asks sock_diag for `ss`.
    observer: Observer,
    /// The table after the last step, shared with that step's record rather than copied.
    previous: Arc<Snapshot>,
    pub view: View,
    /// Where the front end shows what the engine lays out.
    screen: Box<dyn Screen>,
    recording: Option<recording::Recording>,
    source_depth: usize,
}

/// One executed command and what it did to the table.
#[derive(Debug)]
pub struct Step {
    pub outcome: Outcome,
    /// The table after the step.
    pub snapshot: Arc<Snapshot>,
    /// The table before it, for the rows that closed.
    pub before: Arc<Snapshot>,
    /// What changed, row by row, without copying either table.
    pub changes: Changes,
    pub pending: Vec<(PendingConn, Change)>,
    /// The session's labels after the step, plus the names that fds closed by it had.
    pub labels: Labels,
}

/// A step that ran but could not be shown, because the screen could not be written.
#[derive(Debug)]
pub struct Unshown {
    pub step: Step,
    pub error: io::Error,
}

impl std::fmt::Display for Unshown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot write the output: {}", self.error)
    }
}

impl Step {
    /// Every row with its mark, in fd order, borrowed from the two tables.
    pub fn rows(&self) -> Vec<Row<'_>> {
        self.changes.rows(&self.before, &self.snapshot)
    }
}

impl Engine {
    /// An engine running `session`, whose process `observer` watches, showing its steps on
    /// `screen`.
    pub fn new(
        session: Session,
        mut observer: Observer,
        view: View,
        screen: Box<dyn Screen>,
    ) -> Engine {
        Engine {
            session,
            previous: Arc::new(observer.snapshot()),
            observer,
            view,
            screen,
            recording: None,
            source_depth: 0,
        }
    }

    /// Runs one command and returns what happened, without printing.
    pub fn step(&mut self, command: &Command) -> Step {
        clear_interrupt();
        let names_before = self.session.labels();
        // The one place that decides who carries a command out: its definition says where it runs.
        let (mut outcome, now) = match command.runs_in() {
            RunsIn::Session => {
                let outcome = match self.refusal(command) {
                    Some(failure) => Outcome {
                        failure: Some(failure),
                        ..Outcome::default()
                    },
                    None => self.session.execute(command),
                };
                (outcome, self.observer.snapshot())
            }
            RunsIn::Engine => self.run_front(command),
        };
        let changes = changes(&self.previous, &now);
        if command.shows_panel() {
            let labels = self.session.labels();
            outcome.lines.extend(meaning::notes(
                &changes.rows(&self.previous, &now),
                &self.previous,
                &labels,
            ));
        }
        // What the front end added (help, the table, the sentences) is part of what checks can see.
        self.session.remember(command, &outcome);
        if self.view.explain {
            if let Some(python) = command.python() {
                outcome.lines.insert(0, format!(">>> {python}"));
            }
        }
        let pending = diff_pending(&self.previous, &now);
        let now = Arc::new(now);
        let before = std::mem::replace(&mut self.previous, Arc::clone(&now));
        let mut labels = self.session.labels();
        for &i in &changes.closed {
            let fd = before.rows[i].fd;
            if let Some(name) = names_before.names.get(&fd) {
                labels.names.insert(fd, name.clone());
            }
        }
        Step {
            outcome,
            snapshot: now,
            before,
            changes,
            pending,
            labels,
        }
    }

    /// Runs one command and shows it; `line` and `input` identify it in JSON and echoes.
    pub fn run_and_print(
        &mut self,
        line: usize,
        input: &str,
        command: &Command,
    ) -> Result<Step, Box<Unshown>> {
        let step = self.step(command);
        self.record_line(input, command, step.outcome.failure.as_ref());
        let laid_out = if self.view.json {
            self.json_line(line, input, &step).map(|line| vec![line])
        } else {
            Ok(self.text_lines(input, command, &step))
        };
        match laid_out.and_then(|lines| self.screen.show(&lines)) {
            Ok(()) => Ok(step),
            Err(error) => Err(Box::new(Unshown { step, error })),
        }
    }

    /// Tells `text` on the screen's error stream.
    pub(super) fn report(&mut self, text: &str) {
        self.screen.report(text);
    }

    fn width(&self) -> usize {
        self.screen.width().unwrap_or(self.view.fallback_width)
    }

    /// A step as text: the echoed command, its output, and the panel beside or below it.
    fn text_lines(&self, input: &str, command: &Command, step: &Step) -> Vec<String> {
        let width = self.width();
        let mut left = Vec::new();
        if self.view.echo {
            left.push(format!("sockplay> {input}"));
        }
        left.extend(
            step.outcome
                .text()
                .split_terminator('\n')
                .map(str::to_string),
        );
        // Made safe before the layout measures them; the panel beside them is safe already, and its
        // colours are the only escape sequences the laid-out lines may carry.
        let left: Vec<String> = left.iter().map(|l| safe_line(l).into_owned()).collect();
        // Long output lines wrap at the terminal's width, indented, so nothing runs past the edge.
        let wrap = textwrap::Options::new(width.max(20)).subsequent_indent("    ");
        let left: Vec<String> = left
            .iter()
            .flat_map(|line| {
                textwrap::wrap(line, &wrap)
                    .into_iter()
                    .map(|l| l.into_owned())
                    .collect::<Vec<_>>()
            })
            .collect();
        let labels = &step.labels;
        let height = self.screen.height();
        let placement = self.view.panel;
        if command.shows_panel() && placement != PanelPlacement::Off {
            // Beside the output when the panel fits there unsqueezed, else below it at full width;
            // either way no taller than the screen (a summary says what it left out).
            let beside_rows = height.map(|h| h.saturating_sub(2).max(MIN_PANEL_ROWS));
            let rows = step.rows();
            let natural = panel_lines_of(
                &rows,
                &step.pending,
                labels,
                &PanelOptions {
                    width: UNBOUNDED,
                    color: self.view.color,
                    max_rows: beside_rows,
                },
            );
            let beside = width.saturating_sub(widest(&left) + 3);
            if placement == PanelPlacement::Right && widest(&natural) <= beside {
                side_by_side(&left, &natural, PanelPlacement::Right, width)
            } else {
                let below_rows =
                    height.map(|h| h.saturating_sub(left.len() + 2).max(MIN_PANEL_ROWS));
                let options = PanelOptions {
                    width,
                    color: self.view.color,
                    max_rows: below_rows,
                };
                let panel = panel_lines_of(&rows, &step.pending, labels, &options);
                side_by_side(&left, &panel, PanelPlacement::Below, width)
            }
        } else {
            left
        }
    }

    /// A step as one JSON record.
    fn json_line(&self, line: usize, input: &str, step: &Step) -> io::Result<String> {
        let failure = step.outcome.failure.as_ref();
        let record = StepJson {
            line,
            input,
            ok: failure.is_none(),
            output: step.outcome.lines.join("\n"),
            error: failure.map(|f| ErrorJson {
                errno: f.errno.map(errno_name),
                message: f.message.clone(),
            }),
            fds: fds_json(&step.snapshot.rows, &self.session.labels()),
        };
        // The record escapes everything the terminal layer would, so this line passes unchanged.
        record.to_line().map_err(io::Error::other)
    }
}

fn widest(lines: &[String]) -> usize {
    lines.iter().map(|l| display_width(l)).max().unwrap_or(0)
}
