//! [`Process`]: one playground process as the front end knows it — its name, pid, parent and
//! state, its control channel and what came over it: answers not yet used, the call it runs in
//! the background, and that call's result once it came.

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;
use std::time::Duration;

use super::channel::{readable, write_frame, Reader};
use super::message::{Request, Response, TableUpdate};
use super::{Changed, Done, Table};
use crate::fdtable::Snapshot;
use crate::lang::Command;
use crate::session::{Failure, Settings};
use crate::sys::ExitStatus;

/// What a process is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    Ready,
    /// Making a call that has not returned (`accept(3)`).
    Blocked {
        call: String,
    },
    /// Ended; how, once whoever reaps it has said.
    Exited(Option<ExitStatus>),
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            State::Ready => f.write_str("ready"),
            State::Blocked { call } => write!(f, "blocked in {call}"),
            State::Exited(Some(status)) => write!(f, "{status}"),
            State::Exited(None) => f.write_str("exited"),
        }
    }
}

/// A command started with `COMMAND &`, whose result has not been shown yet.
#[derive(Debug, Clone)]
pub struct Background {
    /// Where it was typed, for JSON and echoes.
    pub line: usize,
    pub input: String,
    pub command: Command,
}

/// A call in the background that returned (or whose process ended).
#[derive(Debug, Clone)]
pub struct Finished {
    /// The process it ran in.
    pub process: String,
    pub background: Background,
    pub done: Done,
}

/// One playground process, as the front end knows it.
#[derive(Debug)]
pub struct Process {
    pub name: String,
    pub pid: i32,
    /// The process that made it (None for `main`, which sockplay started).
    pub parent: Option<String>,
    pub state: State,
    /// Its table and names, as last reported: every update is applied as it arrives.
    pub table: Table,
    /// What the updates changed since the engine last took it.
    pub changed: Changed,
    pub(super) channel: Option<OwnedFd>,
    pub(super) reader: Reader,
    /// Responses read and not yet used, each with the fd that came with it.
    pub(super) queue: VecDeque<(Response, Option<OwnedFd>)>,
    /// The call it was last seen starting.
    pub(super) call: String,
    /// Its table as last known before it ended (empty while it runs): what the kernel may still
    /// keep of its connections is looked for by these addresses.
    pub last_snapshot: Arc<Snapshot>,
    /// Whether that call has returned (the process may still be reading its table).
    pub(super) returned: bool,
    pub(super) background: Option<Background>,
    pub(super) finished: Option<Finished>,
    /// The last background call's result, shown when it arrived and kept for a `wait` that asks
    /// for it afterwards.
    pub(super) shown: Option<Finished>,
}

impl Process {
    pub(super) fn new(name: String, pid: i32, parent: Option<String>, channel: OwnedFd) -> Process {
        Process {
            name,
            pid,
            parent,
            state: State::Ready,
            table: Table::default(),
            changed: Changed::default(),
            channel: Some(channel),
            reader: Reader::default(),
            queue: VecDeque::new(),
            call: String::new(),
            last_snapshot: Arc::default(),
            returned: false,
            background: None,
            finished: None,
            shown: None,
        }
    }

    /// Whether the process still runs (as far as the front end knows).
    pub fn is_alive(&self) -> bool {
        !matches!(self.state, State::Exited(_))
    }

    /// The command running in the background, if any.
    pub fn background(&self) -> Option<&Background> {
        self.background.as_ref()
    }

    /// The call in the background that returned and is not shown yet, if any.
    pub fn finished(&self) -> Option<&Finished> {
        self.finished.as_ref()
    }

    pub(super) fn send(&mut self, request: &Request) -> io::Result<()> {
        let channel = self
            .channel
            .as_ref()
            .ok_or_else(|| io::Error::from(io::ErrorKind::BrokenPipe))?;
        write_frame(channel.as_fd(), request, None)
    }

    /// Reads whatever arrives within `wait` into the queue. At the end of the channel the process
    /// has ended.
    pub(super) fn pump(&mut self, wait: Duration) {
        let Some(channel) = &self.channel else {
            return;
        };
        let open = match readable(channel.as_fd(), wait) {
            Ok(false) => return,
            Ok(true) => self.reader.fill(channel.as_fd()).unwrap_or(false),
            Err(_) => false,
        };
        loop {
            match self.reader.next::<Response>() {
                Ok(Some(mut response)) => {
                    // Updates apply in the order they were sent, whoever waits for the answer.
                    let update = match &mut response {
                        Response::Done(done) => Some(std::mem::take(&mut done.table)),
                        Response::Table(update) => Some(std::mem::take(&mut **update)),
                        _ => None,
                    };
                    if let Some(update) = update.filter(|u| !u.is_empty()) {
                        self.apply(update);
                    }
                    let fd = match &response {
                        Response::Done(done) if done.child.is_some() => self.reader.take_fd(),
                        _ => None,
                    };
                    self.queue.push_back((response, fd));
                }
                Ok(None) => break,
                Err(_) => {
                    self.ended(None);
                    return;
                }
            }
        }
        if !open {
            self.ended(None);
        }
    }

    /// Applies an update the process sent.
    fn apply(&mut self, update: TableUpdate) {
        self.table.apply(update, &mut self.changed);
    }

    /// Takes what changed in the table since the last time.
    pub fn take_changed(&mut self) -> Changed {
        std::mem::take(&mut self.changed)
    }

    /// The process ended (or its channel broke, which only its end does): it can answer no more.
    pub(super) fn ended(&mut self, status: Option<ExitStatus>) {
        if self.channel.is_some() || self.is_alive() {
            // The kernel closed its fds as it went.
            self.last_snapshot = Arc::clone(&self.table.snapshot);
            self.table.close_all(&mut self.changed);
        }
        self.channel = None;
        if status.is_some() || self.is_alive() {
            self.state = State::Exited(status);
        }
        if let Some(background) = self.background.take() {
            let mut done = Done {
                outcome: Default::default(),
                table: TableUpdate::default(),
                settings: Settings::default(),
                child: None,
                ends: true,
            };
            done.outcome.failure = Some(Failure::usage(format!(
                "{} ended before its call returned",
                self.name
            )));
            self.finished = Some(Finished {
                process: self.name.clone(),
                background,
                done,
            });
        }
    }

    /// Uses up the responses that are events rather than answers: a call started, a background
    /// call returned. Returns the children that ended, as their parent reported them.
    pub(super) fn absorb(&mut self) -> Vec<(i32, ExitStatus)> {
        let mut exits = Vec::new();
        let mut kept = VecDeque::new();
        while let Some((response, fd)) = self.queue.pop_front() {
            match response {
                Response::ChildExited { pid, status } => exits.push((pid, status)),
                Response::Started { call } => {
                    if self.is_alive() {
                        self.state = State::Blocked { call: call.clone() };
                    }
                    self.call = call;
                    self.returned = false;
                }
                Response::Returned => self.returned = true,
                Response::Done(done) if self.background.is_some() => {
                    if self.is_alive() {
                        self.state = State::Ready;
                    }
                    if let Some(background) = self.background.take() {
                        self.finished = Some(Finished {
                            process: self.name.clone(),
                            background,
                            done: *done,
                        });
                    }
                }
                other => kept.push_back((other, fd)),
            }
        }
        self.queue = kept;
        exits
    }
}
