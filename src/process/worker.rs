//! The worker: what runs inside every playground process. It owns one [`Session`] (the user's
//! sockets in this process) and answers the front end over its control channel.
//!
//! Two threads: the control thread reads requests; the executor (the thread the worker started
//! on) owns the session and runs commands one at a time. So a worker blocked in a call (`accept`)
//! still answers `Snapshot` requests, from the control thread, with the labels the executor last
//! published; and Ctrl-C reaches the executor as a SIGINT of its own. The worker's fds (the
//! channel, its sock_diag socket) sit at the top of the fd space, so a fresh worker shows 0, 1, 2
//! and its first socket is fd 3. When the channel ends (the front end quit or died) the worker
//! removes the socket files its binds made and exits: no worker outlives the front end.

use std::collections::BTreeMap;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, MutexGuard};

use nix::errno::Errno;
use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};

use super::channel::{write_frame, Reader};
use super::message::{Done, NewChild, ProcessView, Request, Response, Table};
use crate::fdtable::{Observed, Observer};
use crate::lang::Command;
use crate::session::{Failure, Invocation, Outcome, Returned, Session, Settings};
use crate::sys::process::{
    claim_inherited, close_abandoned, fd_is_inheritable, fork_holding, interrupt_thread,
    move_to_top, start_worker, this_thread, wait_child, Forked, Inherit,
};
use crate::sys::{
    blocked_call_is_ready, blocked_call_returned, clear_interrupt, forget_returned_call,
    install_interrupt_handler, note_interruption,
};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// The environment variable that makes sockplay a worker, holding the fd of its control channel.
/// It is removed as soon as it is read, so a program the worker runs never sees it.
pub const WORKER_ENV: &str = "SOCKPLAY_WORKER_FD";

/// Exit status of a worker that could not start (its channel is not what it should be).
const EXIT_BROKEN: i32 = 2;

/// The longest a snapshot waits for a blocked call that has what it waits for (or returned
/// already) to answer. The answer is on its way: on a machine busy enough to starve this process
/// it may take seconds, and the front end waits 5 s for a table.
const SETTLE: Duration = Duration::from_secs(3);

/// How many times a snapshot is taken again when the executor moved on while it was taken.
const SETTLED_ATTEMPTS: u32 = 3;

/// The channel fd, when this process was started as a worker. Reads and removes [`WORKER_ENV`].
pub fn worker_channel() -> Option<RawFd> {
    let value = std::env::var_os(WORKER_ENV)?;
    // Removed before anything else runs (no other thread exists yet): `!cmd` children and
    // spawned programs must not take themselves for workers.
    std::env::remove_var(WORKER_ENV);
    value.to_str()?.parse().ok()
}

/// Runs this process as a worker on the channel at fd `channel`; returns only if it cannot start.
pub fn run_worker(channel: RawFd) -> i32 {
    let Some(channel) = claim_inherited(channel) else {
        return EXIT_BROKEN;
    };
    let channel = move_to_top(channel);
    let _ = install_interrupt_handler();
    let mut session = Session::new(Settings::default());
    let (observer, diag) = own_observer();
    session.add_internal_fds(std::iter::once(channel.as_raw_fd()).chain(diag));
    session.adopt_inherited();
    let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("/proc/self/exe"));
    let (jobs_sender, jobs) = mpsc::channel();
    let mut executor = Executor {
        session,
        shared: Arc::new(Shared::new(channel, observer)),
        jobs,
        addresses: BTreeMap::new(),
        exe,
        diag,
    };
    executor.publish();
    executor.start_control(jobs_sender);
    executor.serve()
}

/// One command for the executor.
#[derive(Debug)]
struct Job {
    command: Command,
    settings: Settings,
}

/// What the threads of a worker share.
#[derive(Debug)]
struct Shared {
    channel: OwnedFd,
    /// Held while a frame is written, so frames from different threads never interleave.
    writing: Mutex<()>,
    /// What the executor last said about its fds, for the control thread's snapshots and for the
    /// clean-up at the end.
    published: Mutex<ProcessView>,
    /// Takes this process's snapshots, with its own cache and sock_diag socket; held while a
    /// snapshot is taken (and across fork, so no snapshot is half-way in the child).
    observer: Mutex<Observer>,
    /// The executor is running a command.
    busy: AtomicBool,
    /// How many commands the executor has answered, so the control thread can wait for one.
    answered: AtomicU64,
    /// The executor is sending an answer (it is no longer busy, and the answer is not out yet).
    answering: AtomicBool,
    /// The executor thread, for Ctrl-C.
    executor: nix::sys::pthread::Pthread,
    /// The fds open when the executor last answered (None before its first answer): one more
    /// while it is busy was made by its call (accept, recvfd), which has returned then.
    answered_fds: Mutex<Option<BTreeSet<i32>>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    /// Made on the executor thread, which it names as the one to interrupt.
    fn new(channel: OwnedFd, observer: Observer) -> Shared {
        Shared {
            channel,
            writing: Mutex::new(()),
            published: Mutex::new(ProcessView::default()),
            observer: Mutex::new(observer),
            busy: AtomicBool::new(false),
            answered: AtomicU64::new(0),
            answering: AtomicBool::new(false),
            executor: this_thread(),
            answered_fds: Mutex::new(None),
        }
    }

    /// Sends one response. A failure means the front end is gone; the control thread sees the end
    /// of the channel and ends the process.
    fn send(&self, response: &Response, attach: Option<std::os::fd::BorrowedFd>) {
        let _writing = lock(&self.writing);
        let _ = write_frame(self.channel.as_fd(), response, attach);
    }

    /// The table now, taken by the control thread: while a command runs, the fds are found by
    /// probing, which opens no fd of its own, so a call finishing meanwhile (accept) gets the
    /// number it would get alone.
    fn table(&self) -> Table {
        self.table_taken(self.busy.load(Ordering::SeqCst))
    }

    /// Before a snapshot: when the call the executor is blocked in has what it waits for (a peer's
    /// connect just finished the handshake that `accept` waits for), or returned already and its
    /// command is finishing, lets it answer first, so the snapshot shows the process after the
    /// call (its new fd named, the process ready), not a moment before it.
    /// An answer being sent goes out first too: a table must never reach the front end before
    /// the answer of a command it shows done.
    fn settle(&self) {
        let deadline = Instant::now() + SETTLE;
        let answered = self.answered.load(Ordering::SeqCst);
        let returning = blocked_call_is_ready() || blocked_call_returned();
        if self.busy.load(Ordering::SeqCst) && returning {
            self.await_answer(answered, deadline);
        }
        while self.answering.load(Ordering::SeqCst) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Waits until the executor has answered more than `answered` commands, or `deadline`.
    fn await_answer(&self, answered: u64, deadline: Instant) {
        while self.answered.load(Ordering::SeqCst) == answered && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// The table a snapshot request gets: after [`Shared::settle`], and taken again when the
    /// executor's call returned or its command answered while it was being taken — else it could
    /// show the call's new fd without the name the answer gives it, and arrive after that answer.
    ///
    /// The call's new fd is the surest sign: the kernel makes it before the call returns to the
    /// executor, which may not run again for a while on a busy machine.
    fn settled_table(&self) -> Table {
        let deadline = Instant::now() + SETTLE;
        let mut attempts = 0;
        loop {
            self.settle();
            let answered = self.answered.load(Ordering::SeqCst);
            let busy = self.busy.load(Ordering::SeqCst);
            let returned = blocked_call_returned();
            let table = self.table_taken(busy);
            let made_an_fd = busy
                && lock(&self.answered_fds).as_ref().is_some_and(|before| {
                    table
                        .snapshot
                        .rows
                        .iter()
                        .any(|row| !before.contains(&row.fd))
                });
            let moved = self.answered.load(Ordering::SeqCst) != answered
                || (busy && !returned && blocked_call_returned())
                || made_an_fd;
            attempts += 1;
            if !moved || attempts >= SETTLED_ATTEMPTS {
                return table;
            }
            if made_an_fd {
                self.await_answer(answered, deadline);
            }
        }
    }

    /// The table now, taken by probing or by listing /proc/self/fd (quicker, but it opens an fd
    /// for a moment: only the executor, or the control thread while the executor is idle, may).
    fn table_taken(&self, probing: bool) -> Table {
        let view = lock(&self.published).clone();
        let mut observer = lock(&self.observer);
        observer.set_own_fds(&view.labels.internal);
        let mut snapshot = if probing {
            observer.snapshot_by_probing()
        } else {
            observer.snapshot()
        };
        // sockplay's own fds are not the process's table.
        snapshot
            .rows
            .retain(|row| !view.labels.internal.contains(&row.fd));
        Table { snapshot, view }
    }

    /// Ends the process: the socket files its binds made are removed first, as at any exit.
    fn end_process(&self) -> ! {
        for file in &lock(&self.published).socket_files {
            file.remove_if_ours();
        }
        std::process::exit(0)
    }
}

/// The control thread: reads requests until the channel ends, then ends the process.
fn control(shared: Arc<Shared>, jobs: Sender<Job>) {
    let mut reader = Reader::default();
    loop {
        let request = match reader.next_blocking::<Request>(shared.channel.as_fd()) {
            Ok(Some(request)) => request,
            Ok(None) | Err(_) => shared.end_process(),
        };
        match request {
            Request::Execute { command, settings } => {
                if shared.busy.swap(true, Ordering::SeqCst) {
                    let outcome = Outcome {
                        failure: Some(Failure::usage(
                            "this process is still running its last command",
                        )),
                        ..Outcome::default()
                    };
                    shared.send(
                        &Response::Done(Box::new(Done {
                            outcome,
                            table: shared.table(),
                            settings,
                            child: None,
                            ends: false,
                        })),
                        None,
                    );
                    continue;
                }
                // A Ctrl-C meant for an earlier command must not cut this one.
                clear_interrupt();
                if jobs.send(Job { command, settings }).is_err() {
                    shared.end_process();
                }
            }
            Request::Snapshot => {
                let table = shared.settled_table();
                shared.send(&Response::Table(Box::new(table)), None);
            }
            Request::Interrupt { cause } => {
                if shared.busy.load(Ordering::SeqCst) {
                    let cause =
                        cause.and_then(|signal| nix::sys::signal::Signal::try_from(signal).ok());
                    note_interruption(cause);
                    let _ = interrupt_thread(shared.executor);
                }
            }
        }
    }
}

/// The executor: owns the session and runs one command at a time.
#[derive(Debug)]
struct Executor {
    session: Session,
    shared: Arc<Shared>,
    jobs: Receiver<Job>,
    /// The address each name last had, kept after its socket closes.
    addresses: BTreeMap<String, crate::net::Endpoint>,
    /// sockplay's executable, for `spawn`.
    exe: PathBuf,
    /// The process's own sock_diag socket, if it has one.
    diag: Option<RawFd>,
}

impl Executor {
    fn start_control(&self, jobs: Sender<Job>) {
        let shared = Arc::clone(&self.shared);
        let started = std::thread::Builder::new()
            .name("control".into())
            .spawn(move || control(shared, jobs));
        if started.is_err() {
            // Nobody could ever ask this process anything.
            std::process::exit(EXIT_BROKEN);
        }
    }

    fn serve(mut self) -> ! {
        loop {
            let Ok(job) = self.jobs.recv() else {
                self.shared.end_process()
            };
            self.session.settings = job.settings;
            match job.command {
                Command::Fork { name } => self.fork(name.unwrap_or_else(|| "child".into())),
                Command::Spawn { name } => self.spawn(name),
                Command::Exit => self.exit(),
                command => {
                    forget_returned_call();
                    let call = self.call_text(&command);
                    self.shared.send(&Response::Started { call }, None);
                    let outcome = self.session.execute(&command);
                    self.shared.send(&Response::Returned, None);
                    self.finish(outcome, None, None, false);
                }
            }
        }
    }

    /// Says what the process knows about its fds, for snapshots taken while it is busy.
    fn publish(&mut self) {
        for (name, address) in self.session.bound_addresses() {
            self.addresses.insert(name, address);
        }
        let labels = self.session.labels();
        let channel = self.shared.channel.as_raw_fd();
        let own_fds = labels
            .internal
            .iter()
            .map(|&fd| {
                let what = if fd == channel {
                    "control channel"
                } else if Some(fd) == self.diag {
                    "sock_diag"
                } else {
                    "new process's channel"
                };
                (fd, what.to_string())
            })
            .collect();
        let view = ProcessView {
            labels,
            sockets: self.session.socket_names(),
            files: self.session.file_names(),
            addresses: self.addresses.clone(),
            socket_files: self.session.socket_files().to_vec(),
            own_fds,
        };
        *lock(&self.shared.published) = view;
    }

    /// Answers the command that just ran: its outcome and the table after it.
    fn finish(
        &mut self,
        outcome: Outcome,
        child: Option<NewChild>,
        attach: Option<OwnedFd>,
        ends: bool,
    ) {
        self.publish();
        let table = self.shared.table_taken(false);
        *lock(&self.shared.answered_fds) =
            Some(table.snapshot.rows.iter().map(|row| row.fd).collect());
        let done = Done {
            outcome,
            table,
            settings: self.session.settings,
            child,
            ends,
        };
        // Ready before the answer leaves: the front end may send the next command at once. A
        // snapshot asked meanwhile waits for the answer to be out (`answering`).
        self.shared.answering.store(true, Ordering::SeqCst);
        self.shared.busy.store(false, Ordering::SeqCst);
        self.shared.send(
            &Response::Done(Box::new(done)),
            attach.as_ref().map(|fd| fd.as_fd()),
        );
        self.shared.answered.fetch_add(1, Ordering::SeqCst);
        self.shared.answering.store(false, Ordering::SeqCst);
    }

    /// Answers `spawn` or `fork` with the front end's end of the new process's channel, which
    /// is this process's fd only until it is sent (so it is sockplay's own, not in the table).
    fn hand_over(&mut self, outcome: Outcome, child: NewChild, channel: OwnedFd) {
        let fd = channel.as_raw_fd();
        self.session.add_internal_fds([fd]);
        self.finish(outcome, Some(child), Some(channel), false);
        self.session.forget_internal_fd(fd);
        self.publish();
    }

    /// The call a command makes, as `ps` shows a process blocked in it: `accept(3)`.
    fn call_text(&self, command: &Command) -> String {
        let sock = match command {
            Command::Accept { sock, .. }
            | Command::Connect { sock, .. }
            | Command::Send { sock, .. }
            | Command::Recv { sock, .. }
            | Command::SendTo { sock, .. }
            | Command::RecvFrom { sock, .. }
            | Command::Close { sock }
            | Command::Shutdown { sock, .. }
            | Command::SendFd { sock, .. }
            | Command::RecvFd { sock, .. }
            | Command::Expect(crate::lang::Check::State { sock, .. }) => Some(sock),
            Command::EpollWait { epoll, .. } => Some(epoll),
            _ => None,
        };
        let name = match command {
            Command::EpollWait { .. } => "epoll_wait",
            Command::Expect(_) => "expect state",
            Command::ReadLine { .. } | Command::Read { .. } => "recv",
            Command::Flush { .. } => "send",
            command => command.name(),
        };
        match sock.and_then(|sock| self.session.fd_of(sock)) {
            Some(fd) => format!("{name}({fd})"),
            None => name.to_string(),
        }
    }

    fn fail(&mut self, mut outcome: Outcome, failure: Failure) {
        outcome.failure = Some(failure);
        self.finish(outcome, None, None, false);
    }

    /// Reaps `pid` when it ends and tells the front end how it ended.
    fn watch(&self, pid: i32) {
        let shared = Arc::clone(&self.shared);
        let _ = std::thread::Builder::new()
            .name("reaper".into())
            .stack_size(64 * 1024)
            .spawn(move || {
                if let Ok(status) = wait_child(pid) {
                    shared.send(&Response::ChildExited { pid, status }, None);
                }
            });
    }

    /// `spawn NAME`: fork, and exec sockplay in the child as a new worker; exec closes every fd
    /// marked close-on-exec.
    fn spawn(&mut self, name: String) {
        self.shared.send(
            &Response::Started {
                call: "fork()".into(),
            },
            None,
        );
        let mut outcome = Outcome::default();
        let internal = self.session.labels().internal;
        let inherited: Vec<i32> = crate::fdtable::open_fds()
            .into_iter()
            .filter(|fd| *fd >= 3 && !internal.contains(fd))
            .filter(|fd| fd_is_inheritable(*fd) == Some(true))
            .collect();
        let (ours, theirs) = match control_pair() {
            Ok(pair) => pair,
            Err(errno) => {
                return self.fail(
                    outcome,
                    Failure::os(errno, "no control channel for the new process"),
                )
            }
        };
        match start_worker(&self.exe, WORKER_ENV, theirs.as_fd(), Inherit::Inheritable) {
            Ok(pid) => {
                drop(theirs);
                outcome.call(Invocation::new("fork", []).returned(pid));
                outcome.call(
                    Invocation::new("execve", ["\"sockplay\"".to_string()])
                        .returned(0)
                        .with_note(format!(
                            "in the child ({pid}): every close-on-exec fd closes"
                        )),
                );
                let fds: Vec<String> = inherited.iter().map(i32::to_string).collect();
                outcome.say(if fds.is_empty() {
                    format!("{name} (pid {pid}) starts with fds 0, 1, 2 only (sockplay's sockets are close-on-exec; `inheritable SOCK on` passes one)")
                } else {
                    format!(
                        "{name} (pid {pid}) starts with fds 0, 1, 2 and the inheritable {}",
                        fds.join(", ")
                    )
                });
                self.watch(pid);
                self.hand_over(outcome, NewChild { pid, name }, ours);
            }
            Err(error) => {
                let errno = Errno::from_raw(error.raw_os_error().unwrap_or(Errno::EIO as i32));
                outcome.call(Invocation::new("fork", []).failed(errno));
                self.fail(
                    outcome,
                    Failure::os(errno, format!("{name} was not started")),
                );
            }
        }
    }

    /// `fork [as NAME]`: this process calls fork(2). The child keeps every fd and name, gets a new
    /// control channel (whose other end goes to the front end with this answer) and opens its own
    /// sock_diag socket.
    fn fork(&mut self, name: String) {
        self.shared.send(
            &Response::Started {
                call: "fork()".into(),
            },
            None,
        );
        let mut outcome = Outcome::default();
        let (ours, theirs) = match control_pair() {
            Ok(pair) => pair,
            Err(errno) => {
                return self.fail(
                    outcome,
                    Failure::os(errno, "no control channel for the child"),
                )
            }
        };
        // No other thread may be inside a lock or a snapshot when only this thread goes on.
        let shared = Arc::clone(&self.shared);
        let writing = lock(&shared.writing);
        let published = lock(&shared.published);
        let mut observer = lock(&shared.observer);
        // The other threads of this process (control, reapers) take no lock but these three,
        // which this thread holds; the child starts them again on its own values.
        let forked = fork_holding(&(&writing, &published, &observer));
        if forked == Ok(Forked::Child) {
            // The parent's observer: its sock_diag socket is the parent's (this process's copy
            // closes here), and the child observes itself with its own.
            drop(std::mem::replace(
                &mut *observer,
                Observer::new(Observed::ThisProcess),
            ));
        }
        drop((writing, published, observer));
        match forked {
            Ok(Forked::Child) => {
                drop(ours);
                self.become_child(theirs);
            }
            Ok(Forked::Parent(pid)) => {
                drop(theirs);
                outcome.call(Invocation::new("fork", []).returned(pid));
                outcome.say(format!(
                    "{name} (pid {pid}) holds every fd of this process: the same sockets, the same names"
                ));
                self.watch(pid);
                self.hand_over(outcome, NewChild { pid, name }, ours);
            }
            Err(errno) => {
                outcome.call(Invocation::new("fork", []).failed(errno));
                self.fail(outcome, Failure::os(errno, "no child was made"));
            }
        }
    }

    /// In the child of `fork`: serve the new channel, with a control thread and a sock_diag
    /// socket of this process's own. The parent's channel, and the values that only the parent's
    /// other threads used, are let go of without running their clean-up here.
    fn become_child(&mut self, channel: OwnedFd) {
        let old_internal = self.session.labels().internal;
        let (observer, new_diag) = own_observer();
        let new = Arc::new(Shared::new(channel, observer));
        let old = std::mem::replace(&mut self.shared, Arc::clone(&new));
        let old_channel = old.channel.as_raw_fd();
        std::mem::forget(old);
        close_abandoned(old_channel);
        let (sender, receiver) = mpsc::channel();
        std::mem::forget(std::mem::replace(&mut self.jobs, receiver));
        // The parent's fds of its own are gone here (closed above, or with its observer).
        for fd in old_internal {
            self.session.forget_internal_fd(fd);
        }
        self.session
            .add_internal_fds(std::iter::once(new.channel.as_raw_fd()).chain(new_diag));
        self.diag = new_diag;
        // The files belong to the parent, whose binds made them.
        self.session.forget_socket_files();
        clear_interrupt();
        self.publish();
        self.start_control(sender);
    }

    /// `exit`: the process ends; the kernel closes its fds.
    fn exit(&mut self) -> ! {
        let mut outcome = Outcome::default();
        outcome
            .call(Invocation::new("exit", ["0".to_string()]).ended(Returned::Object("?".into())));
        outcome.say("the process ends: the kernel closes every fd it held");
        self.finish(outcome, None, None, true);
        self.shared.end_process()
    }
}

/// An observer of this process with its own sock_diag socket (at the top of the fd space), and
/// that socket's fd.
fn own_observer() -> (Observer, Option<RawFd>) {
    let mut observer = Observer::new(Observed::ThisProcess);
    let diag = observer.reserve_sock_diag();
    (observer, diag)
}

/// A new control channel: two connected AF_UNIX stream sockets at the top of the fd space.
fn control_pair() -> Result<(OwnedFd, OwnedFd), Errno> {
    let (ours, theirs) = socketpair(
        AddressFamily::Unix,
        SockType::Stream,
        None,
        SockFlag::SOCK_CLOEXEC,
    )?;
    Ok((move_to_top(ours), move_to_top(theirs)))
}
