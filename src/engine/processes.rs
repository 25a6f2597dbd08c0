//! A step in a process: a command sent to the process it runs in (waited for, or started in the
//! background with `&`), and the commands about the processes themselves, which the engine
//! answers: `use`, `wait`, `ps` and `kill`.

use std::time::{Duration, Instant};

use nix::errno::Errno;

use super::Engine;
use crate::lang::{Check, Command, SockRef};
use crate::process::{resolve_addresses, Background, State, Table, MAIN};
use crate::session::{
    fd_verdict, open_verdict, seconds, state_verdict, wait_for_state, Failure, Invocation, Outcome,
};
use crate::sys::signal_name;

/// How long `kill` and `exit` wait for the process to be gone before the step goes on.
const END_PATIENCE: Duration = Duration::from_secs(2);

/// How long Ctrl-C at the prompt waits for the call it interrupted to come back.
const INTERRUPT_PATIENCE: Duration = Duration::from_secs(1);

impl Engine {
    /// Runs `command` in process `index` and waits for its answer, which leaves the process's
    /// table in `table`; `shown` becomes the process whose table the step shows (main, after the
    /// process ended with `exit`).
    pub(super) fn run_in(
        &mut self,
        index: usize,
        command: &Command,
        outcome: &mut Outcome,
        shown: &mut usize,
        table: &mut Option<Table>,
    ) -> Result<(), Failure> {
        // A check reads the table, which a process blocked in the background still shows: it
        // needs no call of the process.
        if let (Command::Expect(check), State::Blocked { .. }) =
            (command.base(), &self.processes.list()[index].state)
        {
            if let Some(verdict) = self.check_table(index, check) {
                outcome.say(format!("✓ {}", verdict?));
                return Ok(());
            }
        }
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
        if let Some(child) = &done.child {
            // A new process's table is shown first as it is: nothing in it has changed yet.
            if let Ok(child_index) = self.processes.find(&child.name) {
                let _ = self.processes.take_changed(child_index);
                let process = &self.processes.list()[child_index];
                let seen = super::Seen::at(&process.table.snapshot);
                self.shown.insert(process.pid, seen.clone());
                self.explained.insert(process.pid, seen);
            }
        }
        if done.ends {
            // The kernel closes the process's fds as it goes; its peers' tables show that.
            let name = self.processes.list()[index].name.clone();
            self.settle(index);
            if self.processes.current_index() == index {
                self.processes.make_current(0);
                outcome.say(format!(
                    "{name} has ended: {MAIN} is the current process again"
                ));
            }
            *shown = self.processes.current_index();
            return Ok(());
        }
        *table = Some(self.processes.list()[index].table.clone());
        Ok(())
    }

    /// `COMMAND &`: the call starts in process `index` and the step ends at once.
    pub(super) fn start_background(
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

    /// `use`, `wait`, `ps` and `kill`: the processes themselves. `wait` leaves the table its
    /// process answered with in `table`.
    pub(super) fn run_process_command(
        &mut self,
        command: &Command,
        outcome: &mut Outcome,
        shown: &mut usize,
        table: &mut Option<Table>,
    ) -> Result<(), Failure> {
        match command {
            Command::Use { process } => {
                let chosen = self.processes.find_alive(process)?;
                self.processes.make_current(chosen);
                *shown = chosen;
                let pid = self.processes.list()[chosen].pid;
                outcome.say(match process.as_str() {
                    MAIN => format!("{MAIN} (pid {pid}) is the current process: commands run there"),
                    _ => format!(
                        "{process} (pid {pid}) is the current process: commands run there (`use {MAIN}` comes back)"
                    ),
                });
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
            Command::Ps => {
                self.ps(outcome);
                Ok(())
            }
            Command::Kill { process, signal } => self.kill(process, *signal, outcome),
            other => Err(Failure::usage(format!(
                "`{}` is not about the processes",
                other.name()
            ))),
        }
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
                *outcome = finished.done.outcome;
                // What the call did is in the process's table already: its answer carried it.
                let process = &self.processes.list()[index];
                if process.is_alive() {
                    *table = Some(process.table.clone());
                }
                Ok(())
            }
            Ok(None) => {
                let others: Vec<&str> = self
                    .processes
                    .list()
                    .iter()
                    .filter(|p| p.background().is_some())
                    .map(|p| p.name.as_str())
                    .collect();
                let hint = match others.as_slice() {
                    [] => "`COMMAND &` starts one, e.g. `accept srv &`".to_string(),
                    [other] => format!("{other} runs one: `wait {other}`"),
                    many => format!("these run one: {}", many.join(", ")),
                };
                Err(
                    Failure::usage(format!("{name} runs no call in the background"))
                        .with_hint(hint),
                )
            }
            Err(_) => {
                let state = self.processes.list()[index].state.clone();
                Err(Failure::os(
                    Errno::ETIMEDOUT,
                    format!("{name} is still {state} (waited {})", seconds(timeout)),
                )
                .with_hint("the call goes on; `wait` again, or `kill` the process"))
            }
        }
    }

    /// `kill NAME [SIGNAL]`: the signal, and how the process ended if it did.
    fn kill(&mut self, name: &str, signal: i32, outcome: &mut Outcome) -> Result<(), Failure> {
        let index = self.processes.find_alive(name)?;
        // The last process holds the session: ending it ends sockplay, which `exit` says.
        if self
            .processes
            .list()
            .iter()
            .filter(|p| p.is_alive())
            .count()
            == 1
        {
            return Err(Failure::usage(format!(
                "{name} is the last process running: killing it would end sockplay"
            ))
            .with_hint(
                "`exit` (or `quit`) ends sockplay; `spawn NAME` starts another process first",
            ));
        }
        let pid = self.processes.list()[index].pid;
        let signal_text = signal_name(signal);
        let call = Invocation::new("kill", [pid.to_string(), signal_text.clone()]);
        let Ok(signal) = nix::sys::signal::Signal::try_from(signal) else {
            return Err(Failure::usage(format!(
                "{signal_text} is not a signal here"
            )));
        };
        if let Err(errno) = self.processes.kill(index, signal, END_PATIENCE) {
            outcome.call(call.failed(errno));
            return Err(Failure::os(errno, format!("{name} got no signal")));
        }
        outcome.call(call.returned(0));
        match &self.processes.list()[index].state {
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
            // Commands go to a running process: main, else the first still running. None runs
            // only when the others ended by themselves meanwhile (kill refuses the last one):
            // sockplay ends then, as `exit` in main ends it.
            let running = self.processes.list().iter().position(|p| p.is_alive());
            match running {
                Some(next) => {
                    self.processes.make_current(next);
                    let next = &self.processes.list()[next].name;
                    outcome.say(format!("{next} is the current process now"));
                }
                None => {
                    outcome.say("no process is left: sockplay ends");
                    outcome.quit = true;
                }
            }
        }
        Ok(())
    }

    /// The verdict of `check` on process `index`'s table as its control thread reports it, for
    /// a process blocked in a call: `expect state` looks again until the timeout. None for the
    /// checks that read what a call returned (data, eof), which the process keeps.
    fn check_table(&mut self, index: usize, check: &Check) -> Option<Result<String, Failure>> {
        let fd_of = |engine: &mut Engine, sock: &SockRef| -> Result<i32, Failure> {
            match sock {
                SockRef::Fd(fd) => Ok(*fd),
                SockRef::Name(name) => engine
                    .table_of(index)
                    .view
                    .sockets
                    .get(name)
                    .copied()
                    .ok_or_else(|| Failure::usage(format!("no socket is named `{name}`"))),
            }
        };
        let open = |engine: &mut Engine, fd: i32| engine.table_of(index).snapshot.get(fd).is_some();
        Some(match check {
            Check::Open(fd) => open_verdict(*fd, true, open(self, *fd)),
            Check::Closed(fd) => open_verdict(*fd, false, open(self, *fd)),
            Check::Fd { sock, fd } => {
                fd_of(self, sock).and_then(|actual| fd_verdict(sock, *fd, actual))
            }
            Check::State { sock, state } => fd_of(self, sock).and_then(|fd| {
                let timeout = self.settings.timeout;
                let now = wait_for_state(*state, timeout, || {
                    let table = self.table_of(index);
                    table.snapshot.get(fd).and_then(|row| row.state)
                });
                state_verdict(fd, *state, now, timeout)
            }),
            _ => return None,
        })
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
}
