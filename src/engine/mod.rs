//! The one engine under every front end: it has a command run by the process it belongs to
//! (through [`Processes`]) or answers it itself (as the command's definition says), gets back that
//! process's FD table, diffs it against the one shown last and prints the step — as text with the
//! panel, or as JSON. Commands about the processes themselves (`ps`, `use`, `wait`, `kill`) and
//! the front end's own (`source`, `record`, `!`, `help`, `fds`, `ss`, `set`) run here. The step is
//! laid out for the front end's [`Screen`].

mod front;
mod holders;
mod meaning;
mod processes;
mod recording;
mod screen;
mod script;
mod script_files;
mod seen;
mod shell;

pub use front::{check_script, Refusal};
pub use screen::Screen;
pub use script::Stop;
pub use script_files::{read_capped, read_script, FileError};

use std::cell::{OnceCell, RefCell};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io;
use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;

use crate::fdtable::{
    FdRow, Held, Kind, Labels, Leftovers, ListedEnd, ListedSocket, Observer, PendingConn,
    Relations, Snapshot, SystemListing,
};
use crate::lang::{Check, Command, PanelPlacement, RunsIn};
use crate::net::Endpoint;
use crate::process::{Finished, Processes, Table, MAIN, WORKER_EXE_ENV};
use crate::render::{
    beside_at, changes_since, conns_json, diff_pending, fds_json, mark_of,
    panel_lines_across_cached, panel_lines_cached, side_by_side, tables, Change, Changes,
    Elsewhere, ErrorJson, OwnFdJson, PanelCache, PanelOptions, ProcessJson, Related, Row, StepJson,
    Ties, TiesByFd, SEPARATOR_WIDTH,
};
use crate::session::{Failure, Outcome, Previous, Settings};
use crate::sys::{clear_interrupt, errno_name};
use crate::text::{display_width, safe_line};
use seen::{Earlier, Seen};

/// The fewest panel rows shown however small the screen: a summary below this says little.
const MIN_PANEL_ROWS: usize = 12;

/// The most rows the table of a process other than the step's shows.
const OTHER_PANEL_ROWS: usize = 12;

/// A width that never constrains the panel, to measure its natural width.
const UNBOUNDED: usize = 10_000;

/// The narrowest and widest the output column beside the panel is.
const MIN_OUTPUT_COLUMN: usize = 50;
const MAX_OUTPUT_COLUMN: usize = 80;

/// Where the panel stands at one terminal width: decided at the first step shown at that width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Placement {
    width: usize,
    /// The output column's width beside the panel, or None: the panel goes below.
    column: Option<usize>,
}

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

/// The processes, the settings and the tables shown last, so each step can say what changed.
#[derive(Debug)]
pub struct Engine {
    pub processes: Processes,
    pub settings: Settings,
    /// The front end's own observer: its sock_diag socket answers `ss`.
    observer: Observer,
    /// Each process's table as the last panel (or JSON record) showed it, by pid: the marks say
    /// what changed since, whatever commands without a panel ran in between.
    shown: HashMap<i32, Seen>,
    /// The pids whose tables the last panel (or JSON record) showed, in its order.
    last_panel: Vec<i32>,
    /// Each process's table as the last sentences read it, by pid: the sentences say what
    /// changed since, so each change is told once, with the panel on or off.
    explained: HashMap<i32, Seen>,
    /// What the kernel may still keep of the connections of each process that ended, by pid.
    ended: HashMap<i32, Leftovers>,
    pub view: View,
    /// `set panel compact`: the panel leaves out fds 0, 1 and 2 while they are unchanged.
    pub compact_panel: bool,
    /// Where the panel stands, kept from step to step.
    placement: Option<Placement>,
    /// The rows each process's last panels drew, by pid: a step redraws only what changed.
    panel_caches: Rc<RefCell<HashMap<i32, PanelCache>>>,
    /// The sockets a tutorial made, while one runs: `ss` lists only them.
    lesson: Option<Lesson>,
    /// Where the front end shows what the engine lays out.
    screen: Box<dyn Screen>,
    recording: Option<recording::Recording>,
    source_depth: usize,
    /// What the command before did, for `expect error` and `expect output`.
    previous: Previous,
    /// The line running now, for a call started in the background.
    running: (usize, String),
}

/// The sockets of a tutorial: every address any of its processes' sockets had (what a close left
/// keeps its address), and the Unix sockets by inode.
#[derive(Debug, Default)]
struct Lesson {
    addresses: HashSet<Endpoint>,
    inodes: HashSet<u64>,
}

impl Lesson {
    /// Notes the sockets of `snapshot`.
    fn note(&mut self, snapshot: &Snapshot) {
        for row in snapshot.rows.iter().filter(|row| row.kind == Kind::Socket) {
            self.addresses.extend(row.local.iter().cloned());
            self.inodes.insert(row.inode);
        }
        for conn in &snapshot.pending {
            self.addresses.extend(conn.local.iter().cloned());
        }
    }

    /// Whether a socket `ss` lists is one of the tutorial's, or talks to one.
    fn holds(&self, socket: &ListedSocket) -> bool {
        [&socket.local, &socket.peer]
            .into_iter()
            .any(|end| match end {
                ListedEnd::Inet { address, .. } => address
                    .as_ref()
                    .is_some_and(|address| self.addresses.contains(address)),
                ListedEnd::Unix { name, inode } => {
                    inode.is_some_and(|inode| self.inodes.contains(&inode))
                        || name
                            .as_ref()
                            .is_some_and(|name| self.addresses.contains(name))
                }
            })
    }
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
    /// The process's position in the list of processes (`ps` order).
    pub index: usize,
    /// The table after the step.
    pub snapshot: Arc<Snapshot>,
    /// The table shown before, as far as it differs from this one: the rows then of the fds
    /// that changed since (for the rows that closed), and which fds those are.
    pub before: Arc<Snapshot>,
    before_changed: BTreeSet<i32>,
    /// The table the last sentences read, which the step's sentences are read against, as far
    /// as it differs from this one.
    pub explained: Arc<Snapshot>,
    explained_changed: BTreeSet<i32>,
    /// What changed since the table shown before, row by row, worked out when first asked.
    changes: OnceCell<Changes>,
    pub pending: Vec<(PendingConn, Change)>,
    /// The process's labels after the step, plus the names that fds closed since had.
    pub labels: Arc<Labels>,
    /// What each row is tied to (`↔`, `≡`) among the step's tables, once [`Engine::tie`] read
    /// them.
    pub ties: Arc<TiesByFd>,
    /// Which of the process's fds are sockplay's own (never rows): `fd 4095 control channel, …`.
    pub own_fds: Option<String>,
    /// The same, by fd, for JSON.
    pub own_fd_map: BTreeMap<i32, String>,
    /// The fds of each socket, by inode.
    inodes: Arc<HashMap<u64, Vec<i32>>>,
}

impl ProcessTable {
    /// The line under a lone table that says which fds are sockplay's own.
    fn own_fds_line(&self) -> Option<String> {
        let fds = self.own_fds.as_ref()?;
        Some(format!("(sockplay's own: {fds} — not shown)"))
    }

    /// What changed since the table shown before, row by row, without copying either table.
    pub fn changes(&self) -> &Changes {
        self.changes
            .get_or_init(|| changes_since(&self.before, &self.snapshot, &self.before_changed))
    }

    /// Every row with its mark, in fd order, borrowed from the two tables.
    pub fn rows(&self) -> Vec<Row<'_>> {
        self.changes().rows(&self.before, &self.snapshot)
    }

    /// The table as it is, to compare a later one with.
    fn seen(&self) -> Seen {
        Seen::at(&self.snapshot)
            .tied(Arc::clone(&self.ties))
            .in_state(&self.process.state)
    }

    /// The rows that changed since the table the last sentences read, with their marks, in fd
    /// order: the closed ones from that table.
    fn told_rows(&self) -> Vec<(&FdRow, Change)> {
        let mut rows = Vec::new();
        for &fd in &self.explained_changed {
            match self.snapshot.get(fd) {
                Some(row) => {
                    let mark = mark_of(self.explained.get(fd), row);
                    if mark != Change::Same {
                        rows.push((row, mark));
                    }
                }
                None => {
                    if let Some(row) = self.explained.get(fd) {
                        rows.push((row, Change::Closed));
                    }
                }
            }
        }
        rows
    }

    /// The fds open now that were not in the table before the step (the one its sentences are
    /// read against, which every step moves, shown or not), lowest first: what the step made.
    pub fn made_fds(&self) -> Vec<i32> {
        self.open_rows()
            .map(|row| row.fd)
            .filter(|&fd| self.explained_changed.contains(&fd) && self.explained.get(fd).is_none())
            .collect()
    }

    /// The open fds the table shows (not sockplay's own): what relates across processes.
    fn open_rows(&self) -> impl Iterator<Item = &FdRow> {
        self.snapshot
            .rows
            .iter()
            .filter(|row| !self.labels.internal.contains(&row.fd))
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
    /// Starts the playground's first process, `main`, from sockplay's own executable (or the
    /// sockplay that [`WORKER_EXE_ENV`] names, for a program that embeds `sockplay::run`), and
    /// shows the steps on `screen`; `observer` is the front end's own (its sock_diag socket
    /// answers `ss`).
    pub fn start(
        observer: Observer,
        settings: Settings,
        view: View,
        screen: Box<dyn Screen>,
    ) -> io::Result<Engine> {
        let exe = std::env::var_os(WORKER_EXE_ENV)
            .map(std::path::PathBuf::from)
            .or_else(|| std::env::current_exe().ok())
            .unwrap_or_else(|| "/proc/self/exe".into());
        Engine::start_with(&exe, observer, settings, view, screen)
    }

    /// Starts `main` from `exe`, a sockplay executable (for programs that embed the engine).
    pub fn start_with(
        exe: &Path,
        observer: Observer,
        settings: Settings,
        view: View,
        screen: Box<dyn Screen>,
    ) -> io::Result<Engine> {
        let mut processes = Processes::start(exe)?;
        // The first table is shown as it is: nothing in it has changed yet.
        let _ = processes.take_changed(processes.current_index());
        let main = processes.current();
        let seen = Seen::at(&main.table.snapshot);
        let last_panel = vec![main.pid];
        let shown = HashMap::from([(main.pid, seen.clone())]);
        let explained = HashMap::from([(main.pid, seen)]);
        Ok(Engine {
            processes,
            settings,
            observer,
            shown,
            last_panel,
            explained,
            ended: HashMap::new(),
            view,
            compact_panel: false,
            placement: None,
            panel_caches: Rc::default(),
            lesson: None,
            screen,
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

    /// Whether every playground process has ended (`kill` of the last one): sockplay ends then,
    /// as after `exit` in main.
    pub fn no_process_left(&self) -> bool {
        !self.processes.list().iter().any(|p| p.is_alive())
    }

    /// A tutorial begins: from now on `ss` lists only the sockets its processes make (and what
    /// talks to them), as they were at any step.
    pub fn begin_lesson(&mut self) {
        let mut lesson = Lesson::default();
        for process in self.processes.list() {
            lesson.note(&process.table.snapshot);
        }
        self.lesson = Some(lesson);
    }

    /// The tutorial is over: `ss` lists the whole system again.
    pub fn end_lesson(&mut self) {
        self.lesson = None;
    }

    /// `listing` as `ss` shows it here: in a tutorial, only the tutorial's sockets, and a line
    /// that says so.
    pub(super) fn lesson_only(
        &self,
        mut listing: SystemListing,
    ) -> (SystemListing, Option<&'static str>) {
        let Some(lesson) = &self.lesson else {
            return (listing, None);
        };
        let before = listing.sockets.len();
        let mut keep_queued = false;
        listing.sockets.retain(|socket| {
            // A queued connection goes with its listener.
            let kept = if socket.under_listener {
                keep_queued || lesson.holds(socket)
            } else {
                lesson.holds(socket)
            };
            if !socket.under_listener {
                keep_queued = kept;
            }
            kept
        });
        let note = (listing.sockets.len() < before).then_some(
            "(in a tutorial `ss` lists the tutorial's sockets only; at the prompt, every socket)",
        );
        (listing, note)
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
        let base = target.command;
        let mut outcome = Outcome::default();
        // The process whose table the step shows, and the table the step read or was answered
        // with.
        let mut shown = self.processes.current_index();
        let mut table: Option<Table> = None;
        let ran = match target.named.map(|name| self.processes.find(name)) {
            Some(Err(failure)) => Err(failure),
            named => {
                let index = named.and_then(Result::ok).unwrap_or(shown);
                if base.concerns_one_process() {
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
        let show = self.shows_tables(command);
        let mut step_table = self.shown_table(shown, table, show);
        let mut others = self.other_tables(command, shown, show);
        if show {
            self.tie(&mut step_table, &mut others);
        }
        self.situate_failure(&mut outcome, shown);
        if let Some(lesson) = &mut self.lesson {
            for table in std::iter::once(&step_table).chain(&others) {
                lesson.note(&table.snapshot);
            }
        }
        if command.shows_panel() {
            let notes = self.explain(&step_table, &others);
            outcome.lines.extend(notes);
        }
        // What the front end added (help, the table, the sentences) is part of what checks can see.
        self.previous.remember(command, &outcome);
        if self.view.explain {
            let made = step_table.made_fds();
            let scope = crate::lang::Scope {
                made: &made,
                names: &step_table.labels.names,
            };
            if let Some(python) = command.python(&scope) {
                outcome.lines.insert(0, format!(">>> {python}"));
            }
        }
        Step {
            outcome,
            table: step_table,
            others,
        }
    }

    /// The one place that decides who carries a command out: its definition says where it runs
    /// (a process, or the engine itself), `NAME:` in which process, `&` whether it is waited for.
    /// Fills `outcome`; a process's answer leaves its table in `table`, and `shown` says whose
    /// table the step shows.
    fn run(
        &mut self,
        index: usize,
        target: &Target,
        outcome: &mut Outcome,
        shown: &mut usize,
        table: &mut Option<Table>,
    ) -> Result<(), Failure> {
        let command = target.command;
        match command {
            // They read the command before, wherever it ran.
            Command::Expect(check @ (Check::Error(_) | Check::Output(_))) => {
                if let Some(held) = self.previous.check(check) {
                    outcome.say(format!("✓ {}", held?));
                }
                Ok(())
            }
            // `exit` in main leaves sockplay, as `quit` does.
            Command::Exit if self.processes.list()[index].name == MAIN => {
                outcome.quit = true;
                Ok(())
            }
            _ => match command.runs_in() {
                RunsIn::Engine => {
                    let (front, read) = self.run_front(index, command, shown);
                    *outcome = front;
                    if read.is_some() {
                        *table = read;
                    }
                    Ok(())
                }
                RunsIn::Session => {
                    if let Some(failure) = self.refusal(command) {
                        return Err(failure);
                    }
                    if target.background {
                        self.start_background(index, command, outcome)
                    } else {
                        self.run_in(index, command, outcome, shown, table)
                    }
                }
            },
        }
    }

    /// The table of process `index` now (for a process that has ended, no fds: only what the
    /// kernel keeps of its connections; for one that does not answer, as last known).
    fn table_of(&mut self, index: usize) -> Table {
        self.processes.refresh(index);
        match self.processes.get(index) {
            Some(process) if !process.is_alive() => self.ended_table(index),
            Some(process) => process.table.clone(),
            None => Table::default(),
        }
    }

    /// The table of process `index`, which has ended: no fds, and under the fds they came from
    /// what the kernel still keeps of its connections (the orphans of the closes the kernel made
    /// when it ended, TIME_WAIT), read by this process's own observer.
    fn ended_table(&mut self, index: usize) -> Table {
        let Some(process) = self.processes.get(index) else {
            return Table::default();
        };
        let last = &process.last_snapshot;
        let leftovers = self
            .ended
            .entry(process.pid)
            .or_insert_with(|| Leftovers::of(last));
        let pending = leftovers.look(&mut self.observer);
        Table {
            snapshot: Arc::new(Snapshot {
                rows: Vec::new(),
                pending,
            }),
            ..process.table.clone()
        }
    }

    /// The sentences for what changed in the step's tables since they were last explained, which
    /// they are from now on. Only the rows that changed are read, and related to the other fds of
    /// their sockets.
    fn explain(&mut self, table: &ProcessTable, others: &[ProcessTable]) -> Vec<String> {
        let tables: Vec<&ProcessTable> = std::iter::once(table).chain(others).collect();
        let marked: Vec<Vec<(&FdRow, Change)>> =
            tables.iter().map(|table| table.told_rows()).collect();
        let told: Vec<meaning::Told> = tables
            .iter()
            .zip(&marked)
            .map(|(table, marked)| meaning::Told {
                index: table.index,
                process: &table.process.name,
                rows: marked.iter().map(|(row, mark)| (*row, mark)).collect(),
                before: &table.explained,
                labels: &table.labels,
            })
            .collect();
        // What the sentences relate: the open fds of the sockets that changed, in every table.
        let inodes: BTreeSet<u64> = marked.iter().flatten().map(|(row, _)| row.inode).collect();
        let relations = Relations::across(tables.iter().map(|table| {
            let rows: Vec<&FdRow> = inodes
                .iter()
                .flat_map(|inode| table.inodes.get(inode).into_iter().flatten())
                .filter(|fd| !table.labels.internal.contains(fd))
                .filter_map(|&fd| table.snapshot.get(fd))
                .collect();
            (table.index, rows)
        }));
        let notes = meaning::notes(&told, &relations);
        for table in tables {
            self.explained.insert(table.process.pid, table.seen());
        }
        notes
    }

    /// Whether a step is shown with its tables: in a JSON record, or in a panel on the screen.
    fn tables_shown(&self, command: &Command, step: &Step) -> bool {
        self.view.json
            || (command.shows_panel()
                && !step.outcome.quit
                && self.view.panel != PanelPlacement::Off)
    }

    /// Remembers the step's tables as shown, when they were: the next marks are read against
    /// them.
    fn remember_shown(&mut self, command: &Command, step: &Step) {
        if !self.tables_shown(command, step) {
            return;
        }
        self.last_panel.clear();
        for table in std::iter::once(&step.table).chain(&step.others) {
            self.shown.insert(table.process.pid, table.seen());
            self.last_panel.push(table.process.pid);
        }
    }

    /// Whether the step's tables are the last panel again: the same processes in the same
    /// states, no row marked. A background call's result that finds them so is told without
    /// drawing them a second time.
    fn repeats_last_panel(&self, step: &Step) -> bool {
        let tables: Vec<&ProcessTable> = std::iter::once(&step.table).chain(&step.others).collect();
        let same_processes = tables.len() == self.last_panel.len()
            && tables
                .iter()
                .all(|t| self.last_panel.contains(&t.process.pid));
        same_processes
            && tables.iter().all(|t| {
                let shown = self.shown.get(&t.process.pid);
                shown.and_then(Seen::state) == Some(t.process.state.as_str())
                    && t.rows().iter().all(|(_, change)| **change == Change::Same)
                    && t.pending.iter().all(|(_, change)| *change == Change::Same)
            })
    }

    /// Takes what changed in process `index`'s table since the last time, into what the last
    /// panel and the last sentences saw of it.
    fn sync(&mut self, index: usize) {
        let Some(pid) = self.processes.get(index).map(|p| p.pid) else {
            return;
        };
        let changed = self.processes.take_changed(index);
        if changed.rows.is_empty() {
            return;
        }
        for seen in [self.shown.get_mut(&pid), self.explained.get_mut(&pid)]
            .into_iter()
            .flatten()
        {
            seen.add(&changed);
        }
    }

    /// Whether the step's tables will be shown, in a panel or a JSON record: only then are they
    /// marked against the ones shown last.
    fn shows_tables(&self, command: &Command) -> bool {
        self.view.json || (command.shows_panel() && self.view.panel != PanelPlacement::Off)
    }

    /// Process `index`'s table for the step, marked against the one shown last when `show`.
    fn shown_table(&mut self, index: usize, table: Table, show: bool) -> ProcessTable {
        self.sync(index);
        let process = &self.processes.list()[index];
        let title = ProcessTitle {
            name: process.name.clone(),
            pid: process.pid,
            parent: process.parent.clone(),
            state: process.state.to_string(),
        };
        let now = table.snapshot;
        let earlier = |seen: Option<&Seen>| match seen {
            Some(seen) => seen.earlier(),
            None => Earlier::now(&now),
        };
        // What changed since the last panel matters only to a panel (and it can be much).
        let shown = match show {
            true => earlier(self.shown.get(&title.pid)),
            false => Earlier::now(&now),
        };
        let explained = earlier(self.explained.get(&title.pid));
        let pending = match show {
            true => diff_pending(&shown.snapshot, &now),
            false => Vec::new(),
        };
        let own_fds = table.view.own_fds_text();
        let own_fd_map = table.view.own_fds.clone();
        // The names of the fds that closed since either table, for their last row and sentence;
        // of a number that holds another object now, the name its closed row had.
        let mut closed_names: Vec<(i32, String, bool)> = Vec::new();
        for (seen, earlier) in [
            (self.shown.get(&title.pid).filter(|_| show), &shown),
            (self.explained.get(&title.pid), &explained),
        ] {
            let Some(seen) = seen else {
                continue;
            };
            for row in &earlier.snapshot.rows {
                let Some(name) = seen.name_then(row.fd) else {
                    continue;
                };
                match now.get(row.fd) {
                    None => closed_names.push((row.fd, name.clone(), false)),
                    // A number that holds another object now: the name its closed row had.
                    Some(open) if open.inode != row.inode => {
                        closed_names.push((row.fd, name.clone(), true));
                    }
                    Some(_) => {}
                }
            }
        }
        let labels = if closed_names.is_empty() {
            table.view.labels
        } else {
            let mut labels = (*table.view.labels).clone();
            for (fd, name, replaced) in closed_names {
                let names = match replaced {
                    true => &mut labels.closed_names,
                    false => &mut labels.names,
                };
                names.entry(fd).or_insert(name);
            }
            Arc::new(labels)
        };
        ProcessTable {
            process: title,
            index,
            snapshot: now,
            before: Arc::new(shown.snapshot),
            before_changed: shown.changed,
            explained: Arc::new(explained.snapshot),
            explained_changed: explained.changed,
            changes: OnceCell::new(),
            pending,
            labels,
            ties: Arc::default(),
            own_fds,
            own_fd_map,
            inodes: table.inodes,
        }
    }

    /// Reads what every row of the step's tables is tied to (the other end of its connection,
    /// the other fds of its socket, in any of them: what the panel marks `↔` and `≡`), and marks
    /// the rows whose ties changed since their table was shown last.
    fn tie(&self, table: &mut ProcessTable, others: &mut [ProcessTable]) {
        let pids: Vec<i32> = self.processes.list().iter().map(|p| p.pid).collect();
        let at = |held: Held| (pids.get(held.process).copied().unwrap_or(0), held.fd);
        let tied: Vec<TiesByFd> = {
            let tables: Vec<&ProcessTable> = std::iter::once(&*table).chain(&*others).collect();
            let relations =
                Relations::across(tables.iter().map(|table| (table.index, table.open_rows())));
            tables
                .iter()
                .map(|table| {
                    table
                        .open_rows()
                        .map(|row| {
                            let ties = Ties {
                                partners: relations
                                    .partners_in(table.index, row)
                                    .into_iter()
                                    .map(at)
                                    .collect(),
                                twins: relations
                                    .twins_in(table.index, row)
                                    .into_iter()
                                    .map(at)
                                    .collect(),
                            };
                            (row.fd, ties)
                        })
                        .filter(|(_, ties)| *ties != Ties::default())
                        .collect()
                })
                .collect()
        };
        for (table, ties) in std::iter::once(table).chain(others).zip(tied) {
            let seen = self.shown.get(&table.process.pid);
            if let Some(before) = seen.and_then(Seen::ties) {
                table.changes();
                if let Some(changes) = table.changes.get_mut() {
                    changes.mark_ties(&table.snapshot, before, &ties);
                }
            }
            table.ties = Arc::new(ties);
        }
    }

    /// The tables of the processes other than `shown`, when the step shows them (in the panel
    /// and its sentences, when there is more than one process, and in JSON): every running
    /// process, and once more a process that ended since its table was shown, its fds closed.
    fn other_tables(&mut self, command: &Command, shown: usize, show: bool) -> Vec<ProcessTable> {
        if !(self.view.json || command.shows_panel()) {
            return Vec::new();
        }
        let others: Vec<usize> = (0..self.processes.list().len())
            .filter(|&i| i != shown && self.is_shown(i))
            .collect();
        if others.is_empty() {
            return Vec::new();
        }
        // A process that did not answer shows its table as it last knew it; one that ended
        // has none (its fds closed with it).
        self.processes.refresh_all(&others);
        others
            .into_iter()
            .map(|index| {
                let table = match self.processes.list()[index].is_alive() {
                    true => self.processes.list()[index].table.clone(),
                    false => self.ended_table(index),
                };
                self.shown_table(index, table, show)
            })
            .collect()
    }

    /// Whether process `index` has a table to show: it runs; or it ended, and its table was shown
    /// last with fds open (they show closed, once) or with connections without an fd, or the
    /// kernel may still keep some of its connections (shown under the fds they came from for as
    /// long as it does, then closed, once).
    fn is_shown(&self, index: usize) -> bool {
        let process = &self.processes.list()[index];
        process.is_alive()
            || self.shown.get(&process.pid).is_some_and(Seen::had_rows)
            || self
                .ended
                .get(&process.pid)
                .is_some_and(|leftovers| !leftovers.is_empty())
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
        // What the call did is in the process's table already: its answer carried it.
        let table = self.processes.list()[index].table.clone();
        self.record_shown_result(&process, done.outcome.failure.as_ref());
        let mut outcome = done.outcome;
        self.situate_failure(&mut outcome, index);
        outcome.lines.insert(
            0,
            format!("[{process}] {} returned:", background.input.trim()),
        );
        let show = self.shows_tables(&background.command);
        let mut table = self.shown_table(index, table, show);
        let mut others = self.other_tables(&background.command, index, show);
        if show {
            self.tie(&mut table, &mut others);
        }
        if background.command.shows_panel() {
            let notes = self.explain(&table, &others);
            outcome.lines.extend(notes);
        }
        self.previous.remember(&background.command, &outcome);
        let step = Step {
            outcome,
            table,
            others,
        };
        let panel = background.command.shows_panel() && !self.repeats_last_panel(&step);
        self.remember_shown(&background.command, &step);
        let lines = if self.view.json {
            self.json_line(background.line, &background.input, &step)
                .map(|line| vec![line])?
        } else {
            let echo = std::mem::replace(&mut self.view.echo, false);
            let lines = self.text_lines("", "", panel, &step);
            self.view.echo = echo;
            lines
        };
        self.screen.show(&lines)
    }

    /// Runs one command and shows it; `line` and `input` identify it in JSON and echoes.
    pub fn run_and_print(
        &mut self,
        line: usize,
        input: &str,
        command: &Command,
    ) -> Result<Step, Box<Unshown>> {
        self.running = (line, input.to_string());
        self.record_returned_calls(command);
        // The echo shows the prompt the line was typed at, before `use` changes it.
        let prompt = self.prompt();
        let step = self.step(command);
        self.remember_shown(command, &step);
        self.record_line(input, command, step.outcome.failure.as_ref());
        let laid_out = if self.view.json {
            self.json_line(line, input, &step).map(|line| vec![line])
        } else {
            Ok(self.text_lines(&prompt, input, command.shows_panel(), &step))
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

    /// The width text the engine writes itself (help) is wrapped to: the screen's, or none for
    /// JSON, whose readers wrap text their own way.
    /// At a terminal, its width; in a pipe, a file or JSON, None: text is not wrapped there, so
    /// a paragraph stays one line for `grep` and `expect output`.
    pub(super) fn text_width(&self) -> Option<usize> {
        let terminal = self.screen.height().is_some();
        (terminal && !self.view.json).then(|| self.width())
    }

    /// A step as text: the echoed command, its output, and the panel beside or below it (with
    /// several processes, each table titled, the other processes' below).
    fn text_lines(&mut self, prompt: &str, input: &str, panel: bool, step: &Step) -> Vec<String> {
        let width = self.width();
        let mut left = Vec::new();
        if self.view.echo {
            left.push(format!("{prompt}{input}"));
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
        let table = &step.table;
        let height = self.screen.height();
        let placement = self.view.panel;
        let panel_shown = panel && !step.outcome.quit && placement != PanelPlacement::Off;
        if !panel_shown {
            return wrap_output(&left, width);
        }
        if !step.others.is_empty() {
            return self.tables_lines(&left, step);
        }
        // Beside the output where it stands there (fitted to the room there when it is wider),
        // else below it at full width; either way no taller than the screen (a summary says what
        // it left out). Drawn once, unless it was tried beside the output and goes below with
        // other rows or narrower.
        let beside_rows = height.map(|h| h.saturating_sub(2).max(MIN_PANEL_ROWS));
        let rows = table.rows();
        let (color, compact) = (self.view.color, self.compact_panel);
        let pid = table.process.pid;
        let caches = Rc::clone(&self.panel_caches);
        caches.borrow_mut().retain(|cached, _| *cached == pid);
        let draw = |width: usize, max_rows: Option<usize>| {
            let options = PanelOptions {
                width,
                color,
                max_rows,
                compact,
            };
            let mut caches = caches.borrow_mut();
            let cache = caches.entry(pid).or_default();
            panel_lines_cached(&rows, &table.pending, &table.labels, &options, cache)
        };
        let natural = (placement == PanelPlacement::Right).then(|| draw(UNBOUNDED, beside_rows));
        if let Some(natural) = &natural {
            if let Some((column, room)) = self.panel_column(width) {
                // Unsqueezed when it fits there; else, where the panel already stands beside the
                // output, fitted to the room it has there (paths elided, …) if that keeps every
                // word whole.
                let panel = beside_lines(
                    natural,
                    room,
                    self.stands_beside(width),
                    || draw(room, beside_rows),
                    || kept_words_whole(&caches, pid),
                );
                // The sentence under the table wraps to the table's width rather than widen it.
                let beside = panel.map(|mut panel| {
                    let own = wrap_output(table.own_fds_line().as_slice(), widest(&panel));
                    panel.extend(own);
                    panel
                });
                match beside.filter(|beside| widest(beside) <= room) {
                    Some(beside) => {
                        self.place_panel(width, Some(column));
                        return beside_at(&wrap_output(&left, column), &beside, column);
                    }
                    None => self.place_panel(width, None),
                }
            }
        }
        let left = wrap_output(&left, width);
        let below_rows = height.map(|h| h.saturating_sub(left.len() + 2).max(MIN_PANEL_ROWS));
        let mut panel = match natural {
            Some(natural) if widest(&natural) <= width && below_rows == beside_rows => natural,
            _ => draw(width, below_rows),
        };
        panel.extend(wrap_output(table.own_fds_line().as_slice(), width));
        side_by_side(&left, &panel, PanelPlacement::Below, width)
    }

    /// The column the output takes beside the panel at this `width` and the room the panel has
    /// after it and the separator, or None when the panel goes below at this width. Decided once
    /// per width (see [`Engine::place_panel`]) and kept, so the panel neither jumps between beside
    /// and below nor moves sideways from step to step.
    fn panel_column(&self, width: usize) -> Option<(usize, usize)> {
        if self.view.panel != PanelPlacement::Right {
            return None;
        }
        let column = match self.placement {
            Some(placed) if placed.width == width => placed.column?,
            _ => output_column(width),
        };
        let room = width.checked_sub(column + SEPARATOR_WIDTH)?;
        Some((column, room))
    }

    /// Whether the panel stands beside the output at this `width` already: then, too wide there
    /// unsqueezed, it gives way (trims, elides, narrows, stacks) rather than go below.
    fn stands_beside(&self, width: usize) -> bool {
        self.placement
            .is_some_and(|placed| placed.width == width && placed.column.is_some())
    }

    /// Keeps where the panel stands at this `width`: beside the output, which takes `column`
    /// columns, or below (None). The first step at a width puts it beside when it fits there
    /// unsqueezed; later steps keep it there while it fits at all without breaking a word, and
    /// one that goes below stays there at this width.
    fn place_panel(&mut self, width: usize, column: Option<usize>) {
        self.placement = Some(Placement { width, column });
    }

    /// Forgets where the panel stood (`set panel`): the next step places it afresh.
    pub(super) fn forget_placement(&mut self) {
        self.placement = None;
    }

    /// The step's output with one table per process, in `ps` order, each titled with its
    /// process: side by side as far as they fit, beside the output where the panel stands there
    /// (each fitted to the room there when it is wider), else below it at full width. Pairs and shared sockets are marked across the
    /// tables (`↔ client:3`, `≡ child:4`).
    fn tables_lines(&mut self, left: &[String], step: &Step) -> Vec<String> {
        let width = self.width();
        let height = self.screen.height();
        let (color, compact) = (self.view.color, self.compact_panel);
        let mut shown: Vec<&ProcessTable> =
            std::iter::once(&step.table).chain(&step.others).collect();
        shown.sort_by_key(|table| table.index);
        let names = self.all_process_names();
        // A closed fd belongs with nothing any more, nor do sockplay's own fds.
        let relations =
            Relations::across(shown.iter().map(|table| (table.index, table.open_rows())));
        let caches = Rc::clone(&self.panel_caches);
        caches
            .borrow_mut()
            .retain(|pid, _| shown.iter().any(|table| table.process.pid == *pid));
        let block = |table: &ProcessTable, width: usize, rows: Option<usize>| {
            let max_rows = if table.process.pid == step.table.process.pid {
                rows
            } else {
                Some(rows.map_or(OTHER_PANEL_ROWS, |r| r.min(OTHER_PANEL_ROWS)))
            };
            let options = PanelOptions {
                width,
                color,
                max_rows,
                compact,
            };
            let elsewhere = Elsewhere {
                relations: &relations,
                process: table.index,
                names: &names,
            };
            let mut lines = vec![safe_line(&format!("── {} ──", table.process)).into_owned()];
            let mut caches = caches.borrow_mut();
            lines.extend(panel_lines_across_cached(
                &table.rows(),
                &table.pending,
                &table.labels,
                &options,
                &elsewhere,
                caches.entry(table.process.pid).or_default(),
            ));
            lines
        };
        let beside_rows = height.map(|h| h.saturating_sub(2).max(MIN_PANEL_ROWS));
        // Drawn unsqueezed only to try them beside the output.
        let natural: Option<Vec<Vec<String>>> =
            (self.view.panel == PanelPlacement::Right).then(|| {
                shown
                    .iter()
                    .map(|table| block(table, UNBOUNDED, beside_rows))
                    .collect()
            });
        if let Some(natural) = &natural {
            if let Some((column, room)) = self.panel_column(width) {
                // Each table unsqueezed when it fits there; else, where the panel already stands
                // beside the output, fitted to the room it has there if that keeps every word
                // whole.
                let squeeze = self.stands_beside(width);
                let blocks: Option<Vec<Vec<String>>> = shown
                    .iter()
                    .zip(natural)
                    .map(|(table, lines)| {
                        beside_lines(
                            lines,
                            room,
                            squeeze,
                            || block(table, room, beside_rows),
                            || kept_words_whole(&caches, table.process.pid),
                        )
                    })
                    .collect();
                match blocks {
                    Some(blocks) => {
                        self.place_panel(width, Some(column));
                        let mut panel = tables(&blocks, room);
                        panel.extend(wrap_output(&own_fds_lines(&shown, room), room));
                        return beside_at(&wrap_output(left, column), &panel, column);
                    }
                    None => self.place_panel(width, None),
                }
            }
        }
        let left = wrap_output(left, width);
        let below_rows = height.map(|h| h.saturating_sub(left.len() + 2).max(MIN_PANEL_ROWS));
        let mut natural = natural.map(Vec::into_iter);
        let blocks: Vec<Vec<String>> = shown
            .iter()
            .map(|table| match natural.as_mut().and_then(Iterator::next) {
                Some(lines) if widest(&lines) <= width && below_rows == beside_rows => lines,
                _ => block(table, width, below_rows),
            })
            .collect();
        let mut panel = tables(&blocks, width);
        panel.extend(wrap_output(&own_fds_lines(&shown, width), width));
        side_by_side(&left, &panel, PanelPlacement::Below, width)
    }

    /// Every process's name, ended ones included, in `ps` order (a table's `index` points into it).
    fn all_process_names(&self) -> Vec<String> {
        self.processes
            .list()
            .iter()
            .map(|process| process.name.clone())
            .collect()
    }

    /// A step as one JSON record.
    fn json_line(&self, line: usize, input: &str, step: &Step) -> io::Result<String> {
        let failure = step.outcome.failure.as_ref();
        let table = &step.table;
        let shown: Vec<&ProcessTable> = std::iter::once(table).chain(&step.others).collect();
        let names = self.all_process_names();
        let relations =
            Relations::across(shown.iter().map(|table| (table.index, table.open_rows())));
        let related = Related {
            relations: &relations,
            names: &names,
        };
        // Each socket says which fds, in which process, it belongs with.
        let fds_of =
            |table: &ProcessTable| fds_json(&table.snapshot, &table.labels, table.index, &related);
        let without_fd_of = |table: &ProcessTable| {
            conns_json(table.snapshot.pending.iter(), &table.labels, &related)
        };
        let processes: Vec<ProcessJson> = self
            .processes
            .list()
            .iter()
            .enumerate()
            .map(|(index, process)| {
                let (fds, without_fd) =
                    if let Some(table) = shown.iter().find(|t| t.process.pid == process.pid) {
                        (fds_of(table), without_fd_of(table))
                    } else if process.is_alive() {
                        let own = &process.table;
                        let open = own.snapshot.rows.iter();
                        let relations = Relations::across([(
                            index,
                            open.filter(|row| !own.view.labels.internal.contains(&row.fd)),
                        )]);
                        let related = Related {
                            relations: &relations,
                            names: &names,
                        };
                        (
                            fds_json(&own.snapshot, &own.view.labels, index, &related),
                            conns_json(&own.snapshot.pending, &own.view.labels, &related),
                        )
                    } else {
                        (Vec::new(), Vec::new())
                    };
                let own = match process.is_alive() {
                    true => own_json(&process.table.view.own_fds),
                    false => Vec::new(),
                };
                ProcessJson {
                    name: process.name.clone(),
                    pid: process.pid,
                    parent: process.parent.clone(),
                    state: process.state.to_string(),
                    fds,
                    without_fd,
                    own,
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
            fds: fds_of(table),
            without_fd: without_fd_of(table),
            own: own_json(&table.own_fd_map),
            process: Some(table.process.name.clone()),
            processes: Some(processes),
        };
        // The record escapes everything the terminal layer would, so this line passes unchanged.
        record.to_line().map_err(io::Error::other)
    }
}

/// sockplay's own fds of a process, for JSON, the highest first as the panel names them.
fn own_json(own: &BTreeMap<i32, String>) -> Vec<OwnFdJson> {
    own.iter()
        .rev()
        .map(|(&fd, what)| OwnFdJson {
            fd,
            what: what.clone(),
        })
        .collect()
}

/// The line under several processes' tables that says which of their fds are sockplay's own: one
/// line when every process has the same, else each process named, on one line when it fits in
/// `width`, else one line per process. (A spawned process's channel may sit lower than main's.)
fn own_fds_lines(shown: &[&ProcessTable], width: usize) -> Vec<String> {
    let owned: Vec<(&str, String)> = shown
        .iter()
        .filter_map(|table| Some((table.process.name.as_str(), table.own_fds.clone()?)))
        .collect();
    let Some((_, first)) = owned.first() else {
        return Vec::new();
    };
    if owned.iter().all(|(_, fds)| fds == first) {
        return vec![format!(
            "(sockplay's own: {first} — not shown, in every process)"
        )];
    }
    let each: Vec<String> = owned
        .iter()
        .map(|(name, fds)| format!("{name}: {fds}"))
        .collect();
    let line = format!("(sockplay's own, not shown: {})", each.join("; "));
    if display_width(&line) <= width {
        return vec![line];
    }
    owned
        .iter()
        .map(|(name, fds)| format!("({name}'s own: {fds} — not shown)"))
        .collect()
}

/// The output's lines wrapped at `width`, long ones indented after their first line, so nothing
/// runs past the edge (or into the panel beside it).
fn wrap_output(lines: &[String], width: usize) -> Vec<String> {
    // Never at a hyphen (`SEND-Q`, `well-known`): a word breaks only when it is wider than a line.
    let wrap = textwrap::Options::new(width.max(20))
        .subsequent_indent("    ")
        .word_splitter(textwrap::WordSplitter::NoHyphenation);
    lines
        .iter()
        .flat_map(|line| {
            if display_width(line) <= width {
                return vec![line.clone()];
            }
            // `fd 4094` stays on one line: glued by a no-break space while it is wrapped (unless
            // the line holds one of its own).
            if line.contains(FD_GLUE) {
                return textwrap::wrap(line, &wrap)
                    .into_iter()
                    .map(|l| l.into_owned())
                    .collect();
            }
            textwrap::wrap(&glue_fd_numbers(line), &wrap)
                .into_iter()
                .map(|l| l.replace(FD_GLUE, " "))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// A table's lines beside the output, in `room` columns: as drawn unsqueezed (`natural`) when
/// they fit there; else, when the panel gives way where it stands (`squeeze`), as `fitted` draws
/// them in the room, if that kept every word whole (`kept_whole`, asked after drawing) and fits;
/// else None: the panel goes below.
fn beside_lines(
    natural: &[String],
    room: usize,
    squeeze: bool,
    fitted: impl FnOnce() -> Vec<String>,
    kept_whole: impl FnOnce() -> bool,
) -> Option<Vec<String>> {
    if widest(natural) <= room {
        return Some(natural.to_vec());
    }
    if !squeeze {
        return None;
    }
    let fitted = fitted();
    (kept_whole() && widest(&fitted) <= room).then_some(fitted)
}

/// Whether process `pid`'s last panel drawing kept every word whole.
fn kept_words_whole(caches: &RefCell<HashMap<i32, PanelCache>>, pid: i32) -> bool {
    caches
        .borrow()
        .get(&pid)
        .is_some_and(PanelCache::kept_words_whole)
}

/// What holds `fd` to its number while a line is wrapped.
const FD_GLUE: char = '\u{a0}';

/// `line` with each `fd N` glued (`fd`, a no-break space, the number).
fn glue_fd_numbers(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(at) = rest.find("fd ") {
        let after = &rest[at + 3..];
        let word_start = at == 0 || !rest[..at].ends_with(|c: char| c.is_alphanumeric());
        out.push_str(&rest[..at + 2]);
        match word_start && after.starts_with(|c: char| c.is_ascii_digit()) {
            true => out.push(FD_GLUE),
            false => out.push(' '),
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// The column the output takes when the panel stands beside it, at a terminal `width` wide:
/// two fifths of the width, at least 50 and at most 80 columns; the panel gets the rest.
fn output_column(width: usize) -> usize {
    (width * 2 / 5).clamp(MIN_OUTPUT_COLUMN, MAX_OUTPUT_COLUMN)
}

fn widest(lines: &[String]) -> usize {
    lines.iter().map(|l| display_width(l)).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_wraps_between_words_never_at_a_hyphen_nor_between_fd_and_its_number() {
        let own =
            "(main's own: fd 4095 control channel, fd 4094 sock_diag — not shown)".to_string();
        assert_eq!(
            wrap_output(std::slice::from_ref(&own), 40),
            [
                "(main's own: fd 4095 control channel,",
                "    fd 4094 sock_diag — not shown)"
            ]
        );
        let hint = "hint: the well-known SEND-Q of a listener is its backlog".to_string();
        assert_eq!(
            wrap_output(std::slice::from_ref(&hint), 24),
            [
                "hint: the well-known",
                "    SEND-Q of a listener",
                "    is its backlog"
            ]
        );
        // A no-break space of the line's own is kept.
        let data = "recv(3) = 9: \"a\u{a0}fd 4 b c d e f g\"".to_string();
        let wrapped = wrap_output(std::slice::from_ref(&data), 20).join(" ");
        assert!(wrapped.contains("a\u{a0}fd"), "{wrapped:?}");
        assert_eq!(
            glue_fd_numbers("sendfd 5, fd 12 and fd x"),
            "sendfd 5, fd\u{a0}12 and fd x"
        );
    }
}
