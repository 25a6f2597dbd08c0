//! [`Processes`]: every process of the playground and which one is current. The front end's one
//! way to them: it starts `main`, sends a command to the process it runs in and waits for the
//! answer (passing Ctrl-C on), starts one in the background, asks for tables, collects what the
//! processes report on their own (a call that returned, a child that ended), reaps the processes
//! it is the parent of, and ends them all when sockplay ends.

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};

use super::channel;
use super::handle::{Background, Finished, Process, State};
use super::message::{Request, Response};
use super::waits::waiting_line;
use super::{Done, Table, MAIN, WORKER_ENV};
use crate::lang::Command;
use crate::session::{Failure, Settings};
use crate::sys::interrupted;
use crate::sys::process::{exists, kill, start_worker, try_reap, Inherit};

/// How long the front end looks for a command's answer without sleeping: most come within it,
/// and a CPU that went idle (on a virtual machine above all) takes longer than that to wake. (The
/// worker does not do the same: there its looking would take the CPU its command runs on.)
const SPIN: Duration = Duration::from_micros(200);

/// How long one look at a channel waits, so Ctrl-C and deadlines are seen quickly.
const SLICE: Duration = Duration::from_millis(50);

/// How long a process may take to answer a snapshot request before its last table is used.
const SNAPSHOT_PATIENCE: Duration = Duration::from_secs(5);

/// How long the processes get to end by themselves when sockplay ends, before they are killed.
const SHUTDOWN_PATIENCE: Duration = Duration::from_secs(2);

/// How long a call the front end waits for may run before the front end is told what it waits
/// for: longer than a moment, so a call that returns at once says nothing.
const NOTICE_AFTER: Duration = Duration::from_millis(300);

/// Every process of the playground, and which one is current.
#[derive(Debug)]
pub struct Processes {
    list: Vec<Process>,
    current: usize,
    /// Told once, when a call the front end waits for runs longer than [`NOTICE_AFTER`], what it
    /// waits for (`accept(3) waits for a connection on 127.0.0.1:8080`).
    notice: Option<fn(&str)>,
}

impl Processes {
    /// Starts `main`: `exe` (sockplay itself) as a worker with fds 0, 1, 2 as this process has
    /// them and nothing else, in a process group of its own (Ctrl-C reaches the front end, which
    /// interrupts the call the user means).
    pub fn start(exe: &Path) -> io::Result<Processes> {
        let (ours, theirs) = socketpair(
            AddressFamily::Unix,
            SockType::Stream,
            None,
            SockFlag::SOCK_CLOEXEC,
        )?;
        let pid = start_worker(exe, WORKER_ENV, theirs.as_fd(), Inherit::StdioOnly)?;
        drop(theirs);
        let mut processes = Processes {
            list: vec![Process::new(MAIN.into(), pid, None, ours)],
            current: 0,
            notice: None,
        };
        if processes.refresh(0).is_none() {
            return Err(io::Error::other(format!(
                "the first process (pid {pid}) did not start"
            )));
        }
        Ok(processes)
    }

    /// From now on `notice` is told what a call waits for once it has run longer than a moment
    /// (the prompt shows it; a replay has no one to tell).
    pub fn notify_long_waits(&mut self, notice: fn(&str)) {
        self.notice = Some(notice);
    }

    /// Tells the notice, if any, what `command` waits for in process `index`, named with the
    /// process when it is not the current one. False while the process has not said which call
    /// it makes yet (ask again); true once there is nothing more to tell.
    fn tell_wait(&self, index: usize, command: &Command) -> bool {
        let (Some(notice), Some(process)) = (self.notice, self.list.get(index)) else {
            return true;
        };
        if process.call.is_empty() && process.is_alive() {
            return false;
        }
        // A call that returned waits for nothing: its process is reading its table.
        if process.returned || !process.is_alive() {
            return true;
        }
        if let Some(line) = waiting_line(&process.call, command, &process.table) {
            if index == self.current {
                notice(&line);
            } else {
                notice(&format!("{}: {line}", process.name));
            }
        }
        true
    }

    pub fn list(&self) -> &[Process] {
        &self.list
    }

    pub fn get(&self, index: usize) -> Option<&Process> {
        self.list.get(index)
    }

    /// Takes what changed in process `index`'s table since the last time.
    pub fn take_changed(&mut self, index: usize) -> super::Changed {
        self.list
            .get_mut(index)
            .map(super::Process::take_changed)
            .unwrap_or_default()
    }

    /// The index of the current process.
    pub fn current_index(&self) -> usize {
        self.current
    }

    pub fn current(&self) -> &Process {
        &self.list[self.current]
    }

    /// How many processes are running.
    pub fn alive(&self) -> usize {
        self.list.iter().filter(|p| p.is_alive()).count()
    }

    /// The process called `name`.
    pub fn find(&self, name: &str) -> Result<usize, Failure> {
        if let Some(index) = self.list.iter().rposition(|p| p.name == name) {
            return Ok(index);
        }
        let names: Vec<&str> = self.list.iter().map(|p| p.name.as_str()).collect();
        let mut message = format!("no process is called `{}`", crate::lang::quoted_word(name));
        match crate::text::closest(name, &names) {
            Some(near) => message.push_str(&format!("; did you mean `{near}`?")),
            None => message.push_str(&format!("; the processes: {}", names.join(", "))),
        }
        Err(Failure::usage(message).with_hint("`spawn NAME` or `fork as NAME` makes one"))
    }

    /// The running process called `name`.
    pub fn find_alive(&self, name: &str) -> Result<usize, Failure> {
        let index = self.find(name)?;
        let process = &self.list[index];
        match &process.state {
            State::Exited(status) => {
                let how = status
                    .map(|status| format!(" ({status})"))
                    .unwrap_or_default();
                Err(Failure::usage(format!(
                    "{name} (pid {}) has ended{how}: it makes no more calls",
                    process.pid
                ))
                .with_hint("`ps` lists the processes"))
            }
            _ => Ok(index),
        }
    }

    /// Makes process `index` the current one.
    pub fn make_current(&mut self, index: usize) {
        if index < self.list.len() {
            self.current = index;
        }
    }

    /// A name for a forked child: `child`, `child2`, … (one no process has had).
    pub fn child_name(&self) -> String {
        (1..)
            .map(|n| {
                if n == 1 {
                    "child".to_string()
                } else {
                    format!("child{n}")
                }
            })
            .find(|name| self.list.iter().all(|p| &p.name != name))
            .unwrap_or_default()
    }

    /// Refuses `name` for a new process when a running process has it (or it is `main`'s).
    pub fn check_new_name(&self, name: &str) -> Result<(), Failure> {
        match self
            .list
            .iter()
            .find(|p| p.name == name && (p.is_alive() || name == MAIN))
        {
            Some(process) => Err(Failure::usage(format!(
                "a process is already called `{name}` (pid {}); choose another name",
                process.pid
            ))),
            None => Ok(()),
        }
    }

    /// Refuses a command for process `index` while it cannot take one.
    fn check_ready(&self, index: usize) -> Result<(), Failure> {
        let process = &self.list[index];
        match &process.state {
            State::Ready => Ok(()),
            State::Blocked { call } => Err(Failure::usage(format!(
                "{} is blocked in {call} (in the background): it takes the next command once the call returns",
                process.name
            ))
            .with_hint(format!(
                "`wait {0}` waits for it; Ctrl-C at the prompt (with {0} current) or `kill {0}` ends it",
                process.name
            ))),
            State::Exited(_) => self.find_alive(&process.name).map(|_| ()),
        }
    }

    /// Runs `command` in process `index` and waits for it; Ctrl-C interrupts its call. A process
    /// that `spawn` or `fork` made is added to the registry.
    pub fn run(
        &mut self,
        index: usize,
        command: &Command,
        settings: Settings,
    ) -> Result<Done, Failure> {
        self.check_ready(index)?;
        let request = Request::Execute {
            command: command.clone(),
            settings,
        };
        // Until the process says which call it makes, it makes none that could be told.
        self.list[index].call.clear();
        if self.list[index].send(&request).is_err() {
            self.list[index].ended(None);
            return Err(self.gone(index));
        }
        let Some((done, fd)) = self.await_done(index, command) else {
            return Err(self.gone(index));
        };
        let process = &mut self.list[index];
        if done.ends {
            process.ended(None);
        } else if process.is_alive() {
            process.state = State::Ready;
        }
        if let (Some(child), Some(fd)) = (&done.child, fd) {
            let parent = process.name.clone();
            self.adopt_child(child.name.clone(), child.pid, parent, fd);
        }
        Ok(done)
    }

    /// Starts `command` in process `index` and returns once it has started: the process is blocked
    /// in its call until it returns. Returns the call.
    pub fn start_background(
        &mut self,
        index: usize,
        background: Background,
        settings: Settings,
    ) -> Result<String, Failure> {
        self.check_ready(index)?;
        let request = Request::Execute {
            command: background.command.clone(),
            settings,
        };
        if self.list[index].send(&request).is_err() {
            self.list[index].ended(None);
            return Err(self.gone(index));
        }
        let process = &mut self.list[index];
        process.background = Some(background);
        process.shown = None;
        process.call.clear();
        // The call it makes, from the process itself (it knows the fds behind the names).
        let deadline = Instant::now() + SNAPSHOT_PATIENCE;
        loop {
            self.list[index].pump(SLICE);
            self.collect_from(index);
            let process = &self.list[index];
            if !process.call.is_empty() || !process.is_alive() || Instant::now() >= deadline {
                return Ok(process.call.clone());
            }
        }
    }

    /// The process's table now, asked of it (a blocked process answers too). None when it does
    /// not answer; its last table stays.
    pub fn refresh(&mut self, index: usize) -> Option<&Table> {
        if self.refresh_all(&[index]).first() == Some(&true) {
            self.list.get(index).map(|p| &p.table)
        } else {
            None
        }
    }

    /// Asks every process of `indices` for its table at once, so they take their snapshots side
    /// by side, and waits for the answers. Says, for each, whether its table is fresh.
    pub fn refresh_all(&mut self, indices: &[usize]) -> Vec<bool> {
        let mut asked = Vec::with_capacity(indices.len());
        for &index in indices {
            let Some(process) = self.list.get_mut(index) else {
                asked.push(false);
                continue;
            };
            let sent = process.is_alive() && process.send(&Request::Snapshot).is_ok();
            if !sent && process.is_alive() {
                process.ended(None);
            }
            asked.push(sent);
        }
        let deadline = Instant::now() + SNAPSHOT_PATIENCE;
        let mut fresh = vec![false; indices.len()];
        let mut readable: Vec<usize> = (0..indices.len()).collect();
        loop {
            for slot in readable {
                let index = indices[slot];
                self.list[index].pump(Duration::ZERO);
                let process = &mut self.list[index];
                // The update it carried is applied already.
                if let Some(position) = process
                    .queue
                    .iter()
                    .position(|(r, _)| matches!(r, Response::Table(_)))
                {
                    process.queue.remove(position);
                    fresh[slot] = true;
                }
                self.collect_from(index);
            }
            // The processes still to answer, and their channels.
            let (slots, channels): (Vec<usize>, Vec<std::os::fd::BorrowedFd>) = indices
                .iter()
                .enumerate()
                .filter(|(slot, _)| asked[*slot] && !fresh[*slot])
                .filter_map(|(slot, &index)| {
                    let channel = self.list[index].channel.as_ref()?;
                    Some((slot, channel.as_fd()))
                })
                .unzip();
            if slots.is_empty() || Instant::now() >= deadline {
                return fresh;
            }
            readable = channel::readable_among(&channels, SLICE)
                .into_iter()
                .map(|i| slots[i])
                .collect();
        }
    }

    /// Asks process `index` to interrupt the call it is making (Ctrl-C); false if it makes none.
    pub fn interrupt(&mut self, index: usize) -> bool {
        let Some(process) = self.list.get_mut(index) else {
            return false;
        };
        matches!(process.state, State::Blocked { .. }) && process.send(&interrupt_request()).is_ok()
    }

    /// Reads what every process has said, without waiting: background calls that returned,
    /// processes that ended.
    pub fn collect(&mut self) {
        for index in 0..self.list.len() {
            self.list[index].pump(Duration::ZERO);
            self.collect_from(index);
        }
        self.reap();
        self.reparent();
    }

    /// Gives each process whose parent has ended the parent the kernel gave it: the process
    /// that took it in, when that is one of the playground's, else none (sockplay itself, its
    /// subreaper, took it).
    fn reparent(&mut self) {
        let alive: Vec<(i32, String)> = self
            .list
            .iter()
            .filter(|p| p.is_alive())
            .map(|p| (p.pid, p.name.clone()))
            .collect();
        for process in self.list.iter_mut().filter(|p| p.is_alive()) {
            let Some(parent) = &process.parent else {
                continue;
            };
            if alive.iter().any(|(_, name)| name == parent) {
                continue;
            }
            let now = crate::sys::process::parent_of(process.pid);
            process.parent = alive
                .iter()
                .find(|(pid, _)| Some(*pid) == now)
                .map(|(_, name)| name.clone());
        }
    }

    /// Uses the events queued from process `index`.
    fn collect_from(&mut self, index: usize) {
        let exits = self.list[index].absorb();
        for (pid, status) in exits {
            if let Some(child) = self.list.iter_mut().find(|p| p.pid == pid) {
                child.ended(Some(status));
            }
        }
    }

    /// Reaps the processes whose parent is this process: `main`, and those whose parent died
    /// before them (sockplay is their subreaper).
    fn reap(&mut self) {
        for process in &mut self.list {
            if matches!(process.state, State::Exited(Some(_))) {
                continue;
            }
            if let Some(status) = try_reap(process.pid) {
                process.ended(Some(status));
            }
        }
    }

    /// The background calls that returned since the last time, oldest process first, to be shown
    /// now; each is kept for a `wait` that asks for it later.
    pub fn take_finished(&mut self) -> Vec<Finished> {
        self.collect();
        self.list
            .iter_mut()
            .filter_map(|p| {
                let finished = p.finished.take()?;
                p.shown = Some(finished.clone());
                Some(finished)
            })
            .collect()
    }

    /// Waits, at most `timeout`, for the call process `index` runs in the background, as for a
    /// call in the foreground: Ctrl-C interrupts it. None when it runs none; `TimedOut` when it
    /// has not returned in time (it still runs). A call whose result was shown when it arrived
    /// gives that result, once.
    pub fn wait(&mut self, index: usize, timeout: Duration) -> Result<Option<Finished>, TimedOut> {
        self.collect();
        let process = &mut self.list[index];
        if let Some(finished) = process.finished.take().or_else(|| process.shown.take()) {
            return Ok(Some(finished));
        }
        if self.list[index].background.is_none() {
            return Ok(None);
        }
        let started = Instant::now();
        let deadline = started + timeout;
        let mut interrupt_sent = false;
        let mut told = false;
        loop {
            if !told && started.elapsed() >= NOTICE_AFTER {
                told = match &self.list[index].background {
                    Some(background) => self.tell_wait(index, &background.command),
                    None => true,
                };
            }
            self.list[index].pump(SLICE);
            self.collect_from(index);
            self.reap();
            if let Some(finished) = self.list[index].finished.take() {
                return Ok(Some(finished));
            }
            if !interrupt_sent && interrupted() {
                interrupt_sent = true;
                let _ = self.list[index].send(&interrupt_request());
            }
            if Instant::now() >= deadline {
                return Err(TimedOut);
            }
        }
    }

    /// Sends `signal` to process `index` (kill(2)) and waits up to `settle` for it to end.
    pub fn kill(
        &mut self,
        index: usize,
        signal: Signal,
        settle: Duration,
    ) -> Result<(), nix::errno::Errno> {
        let pid = self.list[index].pid;
        kill(pid, signal)?;
        let deadline = Instant::now() + settle;
        loop {
            self.collect();
            if matches!(self.list[index].state, State::Exited(Some(_)))
                || Instant::now() >= deadline
            {
                return Ok(());
            }
            self.list[index].pump(SLICE);
            if self.list[index].channel.is_none() {
                // Ended: wait for whoever reaps it to say how.
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }

    /// Waits for the answer to `command`, running in process `index`, passing Ctrl-C on to its
    /// call and saying what it waits for once it runs longer than a moment; None when the
    /// process ends first.
    fn await_done(&mut self, index: usize, command: &Command) -> Option<(Done, Option<OwnedFd>)> {
        let started = Instant::now();
        let mut interrupt_sent = false;
        let mut told = false;
        let spin_until = Instant::now() + SPIN;
        loop {
            if !told && started.elapsed() >= NOTICE_AFTER {
                told = self.tell_wait(index, command);
            }
            self.collect_from(index);
            let process = &mut self.list[index];
            if let Some(position) = process
                .queue
                .iter()
                .position(|(r, _)| matches!(r, Response::Done(_)))
            {
                if let Some((Response::Done(done), fd)) = process.queue.remove(position) {
                    return Some((*done, fd));
                }
            }
            if !process.is_alive() {
                return None;
            }
            if !interrupt_sent && interrupted() {
                interrupt_sent = true;
                let _ = process.send(&interrupt_request());
            }
            // Most answers come within a moment: looked for without sleeping until then, which
            // spares the wake-up of an idle CPU.
            let wait = if Instant::now() < spin_until {
                Duration::ZERO
            } else {
                SLICE
            };
            process.pump(wait);
        }
    }

    /// Why process `index` could not answer: it ended.
    fn gone(&mut self, index: usize) -> Failure {
        self.reap();
        let process = &self.list[index];
        Failure::usage(format!(
            "{} (pid {}) ended before it answered: {}",
            process.name, process.pid, process.state
        ))
    }

    /// Adds a process that `spawn` or `fork` made, with its control channel, and asks it for its
    /// first table.
    fn adopt_child(&mut self, name: String, pid: i32, parent: String, channel: OwnedFd) {
        // A process that ended gives its name to the new one.
        if let Some(old) = self
            .list
            .iter()
            .position(|p| p.name == name && !p.is_alive())
        {
            self.list.remove(old);
            if self.current > old {
                self.current -= 1;
            }
        }
        self.list
            .push(Process::new(name, pid, Some(parent), channel));
        let index = self.list.len() - 1;
        self.refresh(index);
    }

    /// Ends every process: their channels close, so each one removes its socket files and exits;
    /// any still there after a moment is killed. The socket files they reported are removed too.
    pub fn shutdown(&mut self) {
        for process in &mut self.list {
            process.channel = None;
        }
        let deadline = Instant::now() + SHUTDOWN_PATIENCE;
        let mut killed = false;
        // A process usually ends within a millisecond or two: looked for often at first.
        let mut pause = Duration::from_micros(50);
        loop {
            for process in &mut self.list {
                let _ = try_reap(process.pid);
            }
            let left: Vec<i32> = self
                .list
                .iter()
                .map(|p| p.pid)
                .filter(|pid| exists(*pid))
                .collect();
            if left.is_empty() {
                break;
            }
            if Instant::now() >= deadline {
                if killed {
                    break;
                }
                for pid in left {
                    let _ = kill(pid, Signal::SIGKILL);
                }
                killed = true;
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(2));
        }
        for process in &self.list {
            for file in &process.table.view.socket_files {
                file.remove_if_ours();
            }
        }
        self.list
            .iter_mut()
            .for_each(|p| p.state = State::Exited(None));
    }
}

/// The Ctrl-C the front end passes on to a process's call, saying which signal it was when
/// sockplay is ending (SIGTERM, SIGHUP).
fn interrupt_request() -> Request {
    Request::Interrupt {
        cause: crate::sys::ending_signal()
            .filter(|signal| *signal != Signal::SIGINT)
            .map(|signal| signal as i32),
    }
}

/// `wait` came back without the result: the call still runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimedOut;

impl Drop for Processes {
    fn drop(&mut self) {
        if self
            .list
            .iter()
            .any(|p| p.channel.is_some() || exists(p.pid))
        {
            self.shutdown();
        }
    }
}
