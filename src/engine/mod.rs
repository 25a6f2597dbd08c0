//! The one engine under every front end: it runs a command in the process it belongs to (through
//! [`Processes`]), gets back that process's FD table, diffs it against the one shown last and
//! prints the step — as text with the panel, or as JSON. Commands about the processes themselves
//! (`ps`, `use`, `wait`, `kill`) and the front end's own (`source`, `record`, `!`, `help`) run here.

mod front;
mod meaning;
mod script_files;
mod shell;

pub use front::{check_script, plural, Refusal};
pub use script_files::{read_capped, read_script, FileError};

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::errno::Errno;

use crate::fdtable::{PendingConn, Snapshot};
use crate::help;
use crate::lang::{Check, Command};
use crate::process::{resolve_addresses, Background, Finished, Processes, State, Table, MAIN};
use crate::render::terminal::{self, Terminal};
use crate::render::{
    changes, diff_pending, fds_json, panel_lines_of, safe_line, side_by_side, ss_lines, Change,
    Changes, ErrorJson, Labels, PanelOptions, PanelPlacement, ProcessJson, Row, StepJson,
};
use crate::session::{Failure, Outcome, Previous, Settings};
use crate::sys::{clear_interrupt, errno_name, signal_name};

/// The fewest panel rows shown however small the screen: a summary below this says little.
const MIN_PANEL_ROWS: usize = 12;

/// The most rows the table of a process other than the step's shows.
const OTHER_PANEL_ROWS: usize = 12;

/// A width that never constrains the panel, to measure its natural width.
const UNBOUNDED: usize = 10_000;

/// How long `kill` and `exit` wait for the process to be gone before the step goes on.
const END_PATIENCE: Duration = Duration::from_secs(2);

/// How long Ctrl-C at the prompt waits for the call it interrupted to come back.
const INTERRUPT_PATIENCE: Duration = Duration::from_secs(1);

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
}

/// The processes, the settings and the tables shown last, so each step can say what changed.
#[derive(Debug)]
pub struct Engine {
    pub processes: Processes,
    pub settings: Settings,
    /// Each process's table as last shown (by pid), with its labels then.
    shown: HashMap<i32, (Arc<Snapshot>, Labels)>,
    pub view: View,
    recording: Option<front::Recording>,
    source_depth: usize,
    /// What the command before did, for `expect error` and `expect output`.
    previous: Previous,
    /// The line running now, for a call started in the background.
    running: (usize, String),
}

/// A process as a step shows it: `client (pid 4242, blocked in accept(3))`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessTitle {
    pub name: String,
    pub pid: i32,
    pub parent: Option<String>,
    /// `ready`, `blocked in accept(3)`, `killed by SIGTERM`, …
    pub state: String,
}

impl std::fmt::Display for ProcessTitle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (pid {}, {})", self.name, self.pid, self.state)
    }
}

/// One process's table after a step, and what changed in it since it was shown last.
#[derive(Debug)]
pub struct ProcessTable {
    pub process: ProcessTitle,
    /// The table after the step.
    pub snapshot: Arc<Snapshot>,
    /// The table shown before, for the rows that closed.
    pub before: Arc<Snapshot>,
    /// What changed, row by row, without copying either table.
    pub changes: Changes,
    pub pending: Vec<(PendingConn, Change)>,
    /// The process's labels after the step, plus the names that fds closed since had.
    pub labels: Labels,
}

impl ProcessTable {
    /// Every row with its mark, in fd order, borrowed from the two tables.
    pub fn rows(&self) -> Vec<Row<'_>> {
        self.changes.rows(&self.before, &self.snapshot)
    }
}

/// One executed command and what it did to the tables.
#[derive(Debug)]
pub struct Step {
    pub outcome: Outcome,
    /// The table of the process the command ran in (for commands of the front end, the current
    /// process).
    pub table: ProcessTable,
    /// The other running processes' tables, when the panel or JSON shows them.
    pub others: Vec<ProcessTable>,
}

impl Step {
    /// Every row of the step's table with its mark, in fd order.
    pub fn rows(&self) -> Vec<Row<'_>> {
        self.table.rows()
    }
}

/// Where a command runs, and the command without `NAME:` and `&`.
struct Target<'c> {
    /// The process named with `NAME:`, if any.
    named: Option<&'c str>,
    background: bool,
    command: &'c Command,
}

fn target_of(command: &Command) -> Target<'_> {
    match command {
        Command::In { process, command } => Target {
            named: Some(process),
            ..target_of(command)
        },
        Command::Background(command) => Target {
            background: true,
            ..target_of(command)
        },
        command => Target {
            named: None,
            background: false,
            command,
        },
    }
}

impl Engine {
    /// Starts the playground's first process, `main`, from sockplay's own executable.
    pub fn start(settings: Settings, view: View) -> io::Result<Engine> {
        let exe = std::env::current_exe().unwrap_or_else(|_| "/proc/self/exe".into());
        Engine::start_with(&exe, settings, view)
    }

    /// Starts `main` from `exe`, a sockplay executable (for programs that embed the engine).
    pub fn start_with(exe: &Path, settings: Settings, view: View) -> io::Result<Engine> {
        let processes = Processes::start(exe)?;
        let mut shown = HashMap::new();
        let main = processes.current();
        shown.insert(
            main.pid,
            (
                Arc::new(main.table.snapshot.clone()),
                main.table.view.labels.clone(),
            ),
        );
        Ok(Engine {
            processes,
            settings,
            shown,
            view,
            recording: None,
            source_depth: 0,
            previous: Previous::default(),
            running: (0, String::new()),
        })
    }

    /// The prompt: `sockplay> ` in main, `sockplay[client]> ` elsewhere.
    pub fn prompt(&self) -> String {
        match self.processes.current().name.as_str() {
            MAIN => "sockplay> ".to_string(),
            name => format!("sockplay[{name}]> "),
        }
    }

    /// Whether `command` ends sockplay: `quit`, or `exit` in main.
    pub fn ends_session(&self, command: &Command) -> bool {
        let target = target_of(command);
        match target.command {
            Command::Quit => true,
            Command::Exit => target.named.unwrap_or(&self.processes.current().name) == MAIN,
            _ => false,
        }
    }

    /// The current process's socket names, for completion.
    pub fn socket_names(&self) -> Vec<String> {
        let view = &self.processes.current().table.view;
        view.sockets.keys().cloned().collect()
    }

    /// The current process's file object names, for completion.
    pub fn file_names(&self) -> Vec<String> {
        self.processes.current().table.view.files.clone()
    }

    /// The fds of the current process's named handles, for completion.
    pub fn handle_fds(&self) -> Vec<i32> {
        let mut fds: Vec<i32> = self
            .processes
            .current()
            .table
            .view
            .sockets
            .values()
            .copied()
            .collect();
        fds.sort_unstable();
        fds
    }

    /// The running processes' names, for completion.
    pub fn process_names(&self) -> Vec<String> {
        self.processes
            .list()
            .iter()
            .filter(|p| p.is_alive())
            .map(|p| p.name.clone())
            .collect()
    }

    /// `text` with each `$NAME` of a bound socket replaced by its address (for tutorial narration):
    /// the current process's names first, then the others'.
    pub fn expand_names(&self, text: &str) -> String {
        let mut text = text.to_string();
        let current = self.processes.current_index();
        let mut order: Vec<usize> = (0..self.processes.list().len()).collect();
        order.sort_by_key(|&i| i != current);
        for index in order {
            let view = &self.processes.list()[index].table.view;
            let mut names: Vec<_> = view.addresses.iter().collect();
            // Longest first, so `$srv2` is not taken for `$srv` followed by `2`.
            names.sort_by_key(|(name, _)| std::cmp::Reverse(name.len()));
            for (name, address) in names {
                text = text.replace(&format!("${name}"), &address.to_string());
            }
        }
        text
    }

    /// Runs one command and returns what happened, without printing.
    pub fn step(&mut self, command: &Command) -> Step {
        clear_interrupt();
        self.processes.collect();
        let target = target_of(command);
        let mut outcome = Outcome::default();
        // The process whose table the step shows, and the table it reported with its answer.
        let mut shown = self.processes.current_index();
        let mut table: Option<Table> = None;
        let ran = match target.named.map(|name| self.processes.find(name)) {
            Some(Err(failure)) => Err(failure),
            named => {
                let index = named.and_then(Result::ok).unwrap_or(shown);
                if target.command.runs_in_process() {
                    shown = index;
                }
                self.run(index, &target, &mut outcome, &mut shown, &mut table)
            }
        };
        if let Err(failure) = ran {
            outcome.failure = Some(failure);
        }
        let table = match table {
            Some(table) => table,
            None => self.table_of(shown),
        };
        let base = target.command;
        // Commands the front end answers: their text is part of the step's output, for checks too.
        match base {
            Command::Help { topic } => match help::help_lines(topic.as_deref()) {
                Ok(lines) => outcome.lines.extend(lines),
                Err(message) => outcome.failure = Some(Failure::usage(message)),
            },
            Command::Fds if outcome.failure.is_none() => {
                let same = Change::Same;
                let rows: Vec<Row> = table.snapshot.rows.iter().map(|r| (r, &same)).collect();
                let pending: Vec<_> = table
                    .snapshot
                    .pending
                    .iter()
                    .map(|p| (p.clone(), Change::Same))
                    .collect();
                // `fds` prints the whole table, however tall.
                let options = PanelOptions {
                    width: self.width(),
                    color: false,
                    max_rows: None,
                };
                outcome.lines.extend(panel_lines_of(
                    &rows,
                    &pending,
                    &table.view.labels,
                    &options,
                ));
            }
            Command::Ss(filter) if outcome.failure.is_none() => {
                match ss_lines(filter, &table.snapshot, &table.view.labels) {
                    Ok(lines) => outcome.lines.extend(lines),
                    Err(e) => {
                        let errno = Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO));
                        let message =
                            format!("the kernel's socket list (sock_diag): {}", errno.desc());
                        outcome.failure = Some(Failure::os(errno, message));
                    }
                }
            }
            _ => {}
        }
        let step_table = self.shown_table(shown, table);
        if command.shows_panel() {
            outcome.lines.extend(meaning::notes(
                &step_table.rows(),
                &step_table.before,
                &step_table.labels,
            ));
        }
        // What the front end added (help, the table, the sentences) is part of what checks can see.
        self.previous.remember(command, &outcome);
        if self.settings.explain {
            if let Some(python) = crate::explain::python(base) {
                outcome.lines.insert(0, format!(">>> {python}"));
            }
        }
        let others = self.other_tables(command, shown);
        Step {
            outcome,
            table: step_table,
            others,
        }
    }

    /// Runs the command in process `index` (or in the front end), filling `outcome`; a process's
    /// answer leaves its table in `table`, and `shown` says whose table the step shows.
    fn run(
        &mut self,
        index: usize,
        target: &Target,
        outcome: &mut Outcome,
        shown: &mut usize,
        table: &mut Option<Table>,
    ) -> Result<(), Failure> {
        let command = target.command;
        if let Some(front) = self.run_front(command) {
            *outcome = front;
            return Ok(());
        }
        match command {
            Command::Expect(check @ (Check::Error(_) | Check::Output(_))) => {
                if let Some(held) = self.previous.check(check) {
                    outcome.say(format!("✓ {}", held?));
                }
                Ok(())
            }
            Command::Quit => {
                outcome.quit = true;
                Ok(())
            }
            Command::Exit if self.processes.list()[index].name == MAIN => {
                outcome.quit = true;
                Ok(())
            }
            Command::Ps => {
                self.ps(outcome);
                Ok(())
            }
            Command::Use { process } => {
                let chosen = self.processes.find_alive(process)?;
                self.processes.make_current(chosen);
                *shown = chosen;
                let pid = self.processes.list()[chosen].pid;
                outcome.say(format!(
                    "{process} (pid {pid}) is the current process: commands run there (`use main` comes back)"
                ));
                Ok(())
            }
            Command::Wait { process } => {
                let waited = match process {
                    Some(name) => self.processes.find(name)?,
                    None => self.processes.current_index(),
                };
                *shown = waited;
                self.wait(waited, outcome, table)
            }
            Command::Kill { process, signal } => self.kill(process, *signal, outcome),
            Command::Fds | Command::Ss(_) | Command::Help { .. } => Ok(()),
            _ if target.background => self.start_background(index, command, outcome),
            _ => self.run_in(index, command, outcome, shown, table),
        }
    }

    /// A command one process runs, waited for.
    fn run_in(
        &mut self,
        index: usize,
        command: &Command,
        outcome: &mut Outcome,
        shown: &mut usize,
        table: &mut Option<Table>,
    ) -> Result<(), Failure> {
        let mut command = command.clone();
        match &mut command {
            Command::Spawn { name } => self.processes.check_new_name(name)?,
            Command::Fork { name } => {
                let chosen = name.take().unwrap_or_else(|| self.processes.child_name());
                self.processes.check_new_name(&chosen)?;
                *name = Some(chosen);
            }
            _ => {}
        }
        resolve_addresses(&mut command, index, &self.processes)?;
        let done = self.processes.run(index, &command, self.settings)?;
        *outcome = done.outcome;
        if matches!(command, Command::Set(_)) && outcome.failure.is_none() {
            self.settings = done.settings;
        }
        if let Some(child) = &done.child {
            if let Ok(child_index) = self.processes.find(&child.name) {
                let process = &self.processes.list()[child_index];
                self.shown.insert(
                    process.pid,
                    (
                        Arc::new(process.table.snapshot.clone()),
                        process.table.view.labels.clone(),
                    ),
                );
            }
        }
        if done.ends {
            // The kernel closes the process's fds as it goes; its peers' tables show that next.
            let name = self.processes.list()[index].name.clone();
            self.settle(index);
            if self.processes.current_index() == index {
                self.processes.make_current(0);
                outcome.say(format!(
                    "{name} has ended: main is the current process again"
                ));
            }
            *shown = self.processes.current_index();
            return Ok(());
        }
        *table = Some(done.table);
        Ok(())
    }

    /// `COMMAND &`: the call starts in process `index` and the step ends at once.
    fn start_background(
        &mut self,
        index: usize,
        command: &Command,
        outcome: &mut Outcome,
    ) -> Result<(), Failure> {
        let mut command = command.clone();
        resolve_addresses(&mut command, index, &self.processes)?;
        let (line, input) = self.running.clone();
        let background = Background {
            line,
            input,
            command,
        };
        let call = self
            .processes
            .start_background(index, background, self.settings)?;
        let name = &self.processes.list()[index].name;
        let when = if self.view.prompt {
            "its result shows when it returns, or at `wait`".to_string()
        } else {
            format!("`wait {name}` shows its result")
        };
        outcome.say(format!(
            "{name} runs {call} in the background: it shows as blocked until the call returns; {when}"
        ));
        Ok(())
    }

    /// `wait [NAME]`: the result of the call NAME runs in the background.
    fn wait(
        &mut self,
        index: usize,
        outcome: &mut Outcome,
        table: &mut Option<Table>,
    ) -> Result<(), Failure> {
        let name = self.processes.list()[index].name.clone();
        let timeout = self.settings.timeout;
        match self.processes.wait(index, timeout) {
            Ok(Some(finished)) => {
                let done = finished.done;
                *outcome = done.outcome;
                if !done.table.snapshot.rows.is_empty() {
                    *table = Some(done.table);
                }
                Ok(())
            }
            Ok(None) => Err(
                Failure::usage(format!("{name} runs no call in the background"))
                    .with_hint("`COMMAND &` starts one, e.g. `accept srv &`"),
            ),
            Err(_) => {
                let state = self.processes.list()[index].state.clone();
                Err(Failure::os(
                    Errno::ETIMEDOUT,
                    format!(
                        "{name} is still {state} (waited {})",
                        crate::session::seconds(timeout)
                    ),
                )
                .with_hint("the call goes on; `wait` again, or `kill` the process"))
            }
        }
    }

    /// `kill NAME [SIGNAL]`.
    fn kill(&mut self, name: &str, signal: i32, outcome: &mut Outcome) -> Result<(), Failure> {
        let index = self.processes.find_alive(name)?;
        let pid = self.processes.list()[index].pid;
        let signal_text = signal_name(signal);
        let call = format!("kill({pid}, {signal_text})");
        let Ok(signal) = nix::sys::signal::Signal::try_from(signal) else {
            return Err(Failure::usage(format!(
                "{signal_text} is not a signal here"
            )));
        };
        if let Err(errno) = self.processes.kill(index, signal, END_PATIENCE) {
            outcome.say(format!("{call} = {}", crate::session::failed_call(errno)));
            return Err(Failure::os(errno, format!("{name} got no signal")));
        }
        outcome.say(format!("{call} = 0"));
        let process = &self.processes.list()[index];
        match &process.state {
            State::Exited(Some(status)) => outcome.say(format!(
                "{name} (pid {pid}) {status}: the kernel closed its fds"
            )),
            State::Exited(None) => outcome.say(format!(
                "{name} (pid {pid}) has ended: the kernel closed its fds"
            )),
            _ => outcome.say(format!(
                "{name} (pid {pid}) still runs: {signal_text} did not end it"
            )),
        }
        if !self.processes.list()[index].is_alive() && self.processes.current_index() == index {
            self.processes.make_current(0);
            outcome.say("main is the current process again");
        }
        Ok(())
    }

    /// Waits (briefly) for process `index`, which is ending, to be gone and reaped.
    fn settle(&mut self, index: usize) {
        let deadline = Instant::now() + END_PATIENCE;
        while !matches!(self.processes.list()[index].state, State::Exited(Some(_)))
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(2));
            self.processes.collect();
        }
    }

    /// `ps`: name, pid, parent and state of every process; `*` marks the current one.
    fn ps(&mut self, outcome: &mut Outcome) {
        self.processes.collect();
        let current = self.processes.current_index();
        let header = ["", "NAME", "PID", "PARENT", "STATE"].map(str::to_string);
        let rows: Vec<[String; 5]> = self
            .processes
            .list()
            .iter()
            .enumerate()
            .map(|(index, p)| {
                [
                    if index == current { "*" } else { " " }.to_string(),
                    p.name.clone(),
                    p.pid.to_string(),
                    p.parent.clone().unwrap_or_else(|| "-".into()),
                    p.state.to_string(),
                ]
            })
            .collect();
        let widths: Vec<usize> = (0..header.len())
            .map(|column| {
                std::iter::once(&header)
                    .chain(&rows)
                    .map(|row| row[column].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for row in std::iter::once(&header).chain(&rows) {
            let cells: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(cell, width)| format!("{cell:width$}"))
                .collect();
            outcome.say(cells.join(" ").trim_end().to_string());
        }
    }

    /// The table of process `index` now (empty for a process that has ended).
    fn table_of(&mut self, index: usize) -> Table {
        match self.processes.refresh(index) {
            Some(table) => table.clone(),
            None => Table::default(),
        }
    }

    /// Process `index`'s table for the step, marked against the one shown last, which it
    /// replaces.
    fn shown_table(&mut self, index: usize, table: Table) -> ProcessTable {
        let process = &self.processes.list()[index];
        let title = ProcessTitle {
            name: process.name.clone(),
            pid: process.pid,
            parent: process.parent.clone(),
            state: process.state.to_string(),
        };
        let now = Arc::new(table.snapshot);
        let (before, labels_before) = match self.shown.get(&title.pid) {
            Some((before, labels)) => (Arc::clone(before), labels.clone()),
            None => (Arc::clone(&now), Labels::default()),
        };
        let changes = changes(&before, &now);
        let pending = diff_pending(&before, &now);
        let mut labels = table.view.labels;
        // The names of the fds that closed since, for their last row.
        for &i in &changes.closed {
            let fd = before.rows[i].fd;
            if let Some(name) = labels_before.names.get(&fd) {
                labels.names.insert(fd, name.clone());
            }
        }
        self.shown
            .insert(title.pid, (Arc::clone(&now), labels.clone()));
        ProcessTable {
            process: title,
            snapshot: now,
            before,
            changes,
            pending,
            labels,
        }
    }

    /// The tables of the running processes other than `shown`, when the step shows them: in the
    /// panel (when there is more than one process) and in JSON.
    fn other_tables(&mut self, command: &Command, shown: usize) -> Vec<ProcessTable> {
        let panel = command.shows_panel() && self.settings.panel != PanelPlacement::Off;
        if self.processes.alive() < 2 || !(self.view.json || panel) {
            return Vec::new();
        }
        let others: Vec<usize> = (0..self.processes.list().len())
            .filter(|&i| i != shown && self.processes.list()[i].is_alive())
            .collect();
        let fresh = self.processes.refresh_all(&others);
        others
            .into_iter()
            .zip(fresh)
            .map(|(index, fresh)| {
                let table = match fresh {
                    true => self.processes.list()[index].table.clone(),
                    false => Table::default(),
                };
                self.shown_table(index, table)
            })
            .collect()
    }

    /// Shows the calls in the background that returned (at the prompt, before it comes back).
    pub fn print_finished(&mut self) -> io::Result<()> {
        for finished in self.processes.take_finished() {
            self.print_finished_one(finished)?;
        }
        Ok(())
    }

    fn print_finished_one(&mut self, finished: Finished) -> io::Result<()> {
        let Finished {
            process,
            background,
            done,
        } = finished;
        let index = self.processes.find(&process).unwrap_or(0);
        let table = if done.table.snapshot.rows.is_empty() {
            self.table_of(index)
        } else {
            done.table
        };
        let mut outcome = done.outcome;
        outcome.lines.insert(
            0,
            format!("[{process}] {} returned:", background.input.trim()),
        );
        let table = self.shown_table(index, table);
        self.previous.remember(&background.command, &outcome);
        let step = Step {
            outcome,
            table,
            others: Vec::new(),
        };
        let mut stdout = terminal::stdout();
        if self.view.json {
            self.print_json(&mut stdout, background.line, &background.input, &step)?;
        } else {
            let echo = std::mem::replace(&mut self.view.echo, false);
            let printed = self.print_text(&mut stdout, "", &background.command, &step);
            self.view.echo = echo;
            printed?;
        }
        stdout.flush()
    }

    /// Ctrl-C at the prompt: interrupts the call the current process runs in the background.
    /// Returns what it interrupted.
    pub fn interrupt_current(&mut self) -> Option<String> {
        let index = self.processes.current_index();
        let process = &self.processes.list()[index];
        let what = match &process.state {
            State::Blocked { call } => format!("{call} in {}", process.name),
            _ => return None,
        };
        self.processes.interrupt(index).then_some(what)
    }

    /// After Ctrl-C at the prompt: waits a moment for the interrupted call to return, so its
    /// result shows before the next prompt.
    pub fn settle_interrupt(&mut self) {
        let index = self.processes.current_index();
        let deadline = Instant::now() + INTERRUPT_PATIENCE;
        while matches!(self.processes.list()[index].state, State::Blocked { .. })
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(5));
            self.processes.collect();
        }
    }

    /// Runs one command and prints it; `line` and `input` identify it in JSON and echoes.
    pub fn run_and_print(
        &mut self,
        line: usize,
        input: &str,
        command: &Command,
    ) -> io::Result<Step> {
        self.running = (line, input.to_string());
        let step = self.step(command);
        self.record_line(input, command, step.outcome.failure.as_ref());
        let mut stdout = terminal::stdout();
        if self.view.json {
            self.print_json(&mut stdout, line, input, &step)?;
        } else {
            self.print_text(&mut stdout, input, command, &step)?;
        }
        stdout.flush()?;
        Ok(step)
    }

    fn width(&self) -> usize {
        crate::render::terminal_width().unwrap_or(self.view.fallback_width)
    }

    fn print_text(
        &self,
        out: &mut Terminal<impl Write>,
        input: &str,
        command: &Command,
        step: &Step,
    ) -> io::Result<()> {
        let width = self.width();
        let mut left = Vec::new();
        if self.view.echo {
            left.push(format!("{}{input}", self.prompt()));
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
        let table = &step.table;
        let height = crate::render::terminal_height();
        let placement = self.settings.panel;
        let panel_shown = command.shows_panel() && placement != PanelPlacement::Off;
        // With several processes each table says whose it is.
        let titled = !step.others.is_empty();
        let title =
            |table: &ProcessTable| safe_line(&format!("── {} ──", table.process)).into_owned();
        let mut lines = if panel_shown {
            // Beside the output when the panel fits there unsqueezed, else below it at full width;
            // either way no taller than the screen (a summary says what it left out).
            let beside_rows = height.map(|h| h.saturating_sub(2).max(MIN_PANEL_ROWS));
            let rows = table.rows();
            let mut natural = panel_lines_of(
                &rows,
                &table.pending,
                &table.labels,
                &PanelOptions {
                    width: UNBOUNDED,
                    color: self.view.color,
                    max_rows: beside_rows,
                },
            );
            if titled {
                natural.insert(0, title(table));
            }
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
                let mut panel = panel_lines_of(&rows, &table.pending, &table.labels, &options);
                if titled {
                    panel.insert(0, title(table));
                }
                side_by_side(&left, &panel, PanelPlacement::Below, width)
            }
        } else {
            left
        };
        if panel_shown {
            // The other processes, compact, one under the other.
            for other in &step.others {
                lines.push(String::new());
                lines.push(title(other));
                let options = PanelOptions {
                    width,
                    color: self.view.color,
                    max_rows: Some(OTHER_PANEL_ROWS),
                };
                lines.extend(panel_lines_of(
                    &other.rows(),
                    &other.pending,
                    &other.labels,
                    &options,
                ));
            }
        }
        out.laid_out(&lines)
    }

    fn print_json(
        &self,
        out: &mut Terminal<impl Write>,
        line: usize,
        input: &str,
        step: &Step,
    ) -> io::Result<()> {
        let failure = step.outcome.failure.as_ref();
        let table = &step.table;
        let processes: Vec<ProcessJson> = self
            .processes
            .list()
            .iter()
            .map(|process| {
                let fds = if process.pid == table.process.pid {
                    fds_json(&table.snapshot.rows, &table.labels)
                } else if let Some(other) =
                    step.others.iter().find(|o| o.process.pid == process.pid)
                {
                    fds_json(&other.snapshot.rows, &other.labels)
                } else if process.is_alive() {
                    fds_json(&process.table.snapshot.rows, &process.table.view.labels)
                } else {
                    Vec::new()
                };
                ProcessJson {
                    name: process.name.clone(),
                    pid: process.pid,
                    parent: process.parent.clone(),
                    state: process.state.to_string(),
                    fds,
                }
            })
            .collect();
        let record = StepJson {
            line,
            input,
            ok: failure.is_none(),
            output: step.outcome.lines.join("\n"),
            error: failure.map(|f| ErrorJson {
                errno: f.errno.map(errno_name),
                message: f.message.clone(),
            }),
            fds: fds_json(&table.snapshot.rows, &table.labels),
            process: Some(table.process.name.clone()),
            processes: Some(processes),
        };
        // The record escapes everything the terminal layer would, so this line passes unchanged.
        let text = record.to_line().map_err(io::Error::other)?;
        out.text(text)
    }
}

fn widest(lines: &[String]) -> usize {
    lines
        .iter()
        .map(|l| crate::render::display_width(l))
        .max()
        .unwrap_or(0)
}
