//! The worker: what runs inside every playground process. It owns one [`Session`] (the user's
//! sockets in this process) and answers the front end over its control channel.
//!
//! Two threads: the control thread reads requests; the executor (the thread the worker started
//! on) owns the session and runs commands one at a time. So a worker blocked in a call (`accept`)
//! still answers `Snapshot` requests, from the control thread; and Ctrl-C reaches the executor as
//! a SIGINT of its own. Every answer carries what changed in the table since the last one (a
//! [`TableUpdate`]: the rows the step looked at again and the labels of the fds its command
//! used), never the whole table again, so a step costs what it changed, not how many fds there
//! are. The worker's fds (the channel, its sock_diag socket, the epoll that watches a big table)
//! sit at the top of the fd space, so a fresh worker shows 0, 1, 2 and its first socket is fd 3.
//! When the channel ends (the front end quit or died) the worker removes the socket files its
//! binds made and exits: no worker outlives the front end.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, MutexGuard};

use nix::errno::Errno;
use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};

use super::channel::{write_frame, Reader};
use super::message::{Done, NewChild, ProcessView, Request, Response, TableUpdate, ViewUpdate};
use crate::fdtable::{Observed, Observer};
use crate::lang::Command;
use crate::session::{Failure, Invocation, Outcome, Returned, Session, Settings, SocketFile};
use crate::sys::process::{
    claim_inherited, close_abandoned, fd_is_inheritable, fork_holding, interrupt_thread,
    move_to_top, start_worker, this_thread, wait_child, Forked, Inherit,
};
use crate::sys::{
    blocked_call_is_ready, blocked_call_returned, clear_interrupt, forget_returned_call,
    install_interrupt_handler, note_interruption,
};
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

/// How long the executor looks for its next command before it sleeps until one comes.
const JOB_SPIN: Duration = Duration::from_micros(100);

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
    let (observer, own) = own_observer();
    session.add_internal_fds(
        std::iter::once(channel.as_raw_fd())
            .chain(own.diag)
            .chain(own.watch),
    );
    session.adopt_inherited();
    let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("/proc/self/exe"));
    let (jobs_sender, jobs) = mpsc::channel();
    let mut executor = Executor {
        session,
        shared: Arc::new(Shared::new(channel, observer)),
        jobs,
        view: ProcessView::default(),
        view_sent: false,
        socket_names: HashMap::new(),
        exe,
        own,
    };
    executor.first_view();
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
    /// What the executor last said about sockplay's own fds and the socket files, for the control
    /// thread's tables and for the clean-up at the end.
    published: Mutex<Published>,
    /// Takes this process's snapshots, with its own cache and sock_diag socket; held while a
    /// snapshot is taken (and across fork, so no snapshot is half-way in the child).
    observer: Mutex<Observer>,
    /// What the front end is to learn of the process's fds with the next answer, whichever
    /// thread gives it: all of it, at the start.
    view: Mutex<Option<ViewUpdate>>,
    /// The executor is running a command.
    busy: AtomicBool,
    /// How many commands the executor has answered, so the control thread can wait for one.
    answered: AtomicU64,
    /// The executor is sending an answer (it is no longer busy, and the answer is not out yet).
    answering: AtomicBool,
    /// The executor thread, for Ctrl-C.
    executor: nix::sys::pthread::Pthread,
    /// The lowest fd number free when the executor last answered (-1 before its first answer):
    /// open while it is busy, it was made by its call (accept, recvfd), which has returned then.
    answered_lowest_free: AtomicI32,
}

/// What the control thread and the clean-up need of what the executor knows.
#[derive(Debug, Default)]
struct Published {
    /// sockplay's own fds: never rows.
    internal: BTreeSet<i32>,
    socket_files: Vec<SocketFile>,
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
            published: Mutex::new(Published::default()),
            observer: Mutex::new(observer),
            view: Mutex::new(None),
            busy: AtomicBool::new(false),
            answered: AtomicU64::new(0),
            answering: AtomicBool::new(false),
            executor: this_thread(),
            answered_lowest_free: AtomicI32::new(-1),
        }
    }

    /// Sends one response. A failure means the front end is gone; the control thread sees the end
    /// of the channel and ends the process.
    fn send(&self, response: &Response, attach: Option<std::os::fd::BorrowedFd>) {
        let _writing = lock(&self.writing);
        let _ = write_frame(self.channel.as_fd(), response, attach);
    }

    /// Sends a response that carries what changed in the table since the last one sent (the fds
    /// in `touched` looked at again, besides whatever else may have changed) and `view`. Worked
    /// out while no other frame can go out, so the updates arrive in the order they were made.
    ///
    /// While a command runs (`busy`), nothing is opened to find the fds (a call finishing
    /// meanwhile, accept, gets the number it would get alone). Only the executor's answers
    /// (`executor`) may open the watch of a big table: it takes the watch's fd as sockplay's own.
    fn send_update(
        &self,
        touched: &[i32],
        busy: bool,
        executor: bool,
        view: impl FnOnce(Option<RawFd>) -> ViewUpdate,
        response: impl FnOnce(TableUpdate) -> Response,
        attach: Option<BorrowedFd>,
    ) {
        let _writing = lock(&self.writing);
        let internal = lock(&self.published).internal.clone();
        let (delta, watch) = {
            let mut observer = lock(&self.observer);
            observer.set_own_fds(&internal);
            let delta = observer.delta(touched, !busy, executor);
            (delta, observer.watch_fd())
        };
        // The view comes after the table: the watch may have opened with this delta.
        let view = view(watch);
        let view = match lock(&self.view).take() {
            Some(first) => first.then(view),
            None => view,
        };
        let response = response(TableUpdate { delta, view });
        // A failure means the front end is gone; the control thread sees the end of the channel.
        let _ = write_frame(self.channel.as_fd(), &response, attach);
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

    /// After [`Shared::settle`], while the executor is busy: an fd open at the number the kernel
    /// gives a new one, which was not open at the executor's last answer, was made by its call
    /// (accept, recvfd), which has returned or is returning. Its answer names that fd and says the
    /// process is ready, so it goes out first. The kernel makes the fd before the call returns to
    /// the executor, which may not run again for a while on a busy machine.
    fn await_call_that_made_an_fd(&self) {
        let deadline = Instant::now() + SETTLE;
        for _ in 0..SETTLED_ATTEMPTS {
            let answered = self.answered.load(Ordering::SeqCst);
            if !self.busy.load(Ordering::SeqCst) || !self.call_made_an_fd() {
                return;
            }
            self.await_answer(answered, deadline);
            self.settle();
        }
    }

    /// Whether the lowest fd number free at the executor's last answer is open now. One
    /// fcntl(2): nothing is opened to find out.
    fn call_made_an_fd(&self) -> bool {
        let lowest_free = self.answered_lowest_free.load(Ordering::SeqCst);
        lowest_free >= 0 && crate::sys::descriptor::is_open(lowest_free)
    }

    /// What changed in the table, for the front end's Snapshot request.
    fn send_table(&self) {
        let busy = self.busy.load(Ordering::SeqCst);
        self.send_update(
            &[],
            busy,
            false,
            |_| ViewUpdate::default(),
            |update| Response::Table(Box::new(update)),
            None,
        );
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
                    shared.send_update(
                        &[],
                        true,
                        false,
                        |_| ViewUpdate::default(),
                        |table| {
                            Response::Done(Box::new(Done {
                                outcome,
                                table,
                                settings,
                                child: None,
                                ends: false,
                            }))
                        },
                        None,
                    );
                    continue;
                }
                // A Ctrl-C meant for an earlier command must not cut this one.
                clear_interrupt();
                let job = Job { command, settings };
                if jobs.send(job).is_err() {
                    shared.end_process();
                }
            }
            Request::Snapshot => {
                shared.settle();
                shared.await_call_that_made_an_fd();
                shared.send_table();
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
    /// What the front end knows about the process's fds, as the last update left it.
    view: ProcessView,
    /// Whether the front end has had the view once (a forked child starts again).
    view_sent: bool,
    /// The name each named socket's fd has in `view.sockets`.
    socket_names: HashMap<i32, String>,
    /// sockplay's executable, for `spawn`.
    exe: PathBuf,
    /// The process's own sock_diag socket and epoll, if it has them.
    own: OwnFds,
}

/// The fds a worker's observer holds for its own work, when it could have them.
#[derive(Debug, Clone, Copy, Default)]
struct OwnFds {
    diag: Option<RawFd>,
    watch: Option<RawFd>,
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

    /// The next command: looked for without sleeping for a moment first (a script's next command
    /// comes within it, and waking a sleeping thread takes longer), then waited for.
    fn next_job(&self) -> Result<Job, mpsc::RecvError> {
        let until = Instant::now() + JOB_SPIN;
        while Instant::now() < until {
            match self.jobs.try_recv() {
                Ok(job) => return Ok(job),
                Err(mpsc::TryRecvError::Empty) => std::hint::spin_loop(),
                Err(mpsc::TryRecvError::Disconnected) => return Err(mpsc::RecvError),
            }
        }
        self.jobs.recv()
    }

    fn serve(mut self) -> ! {
        loop {
            let Ok(job) = self.next_job() else {
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
                    let mut touched = self.session.take_touched();
                    // A file object's commands go to the fd under it.
                    if let Command::ReadLine { file }
                    | Command::Read { file, .. }
                    | Command::Write { file, .. }
                    | Command::Flush { file } = &command
                    {
                        touched.extend(self.session.file_fd(file));
                    }
                    // A socket passed with SCM_RIGHTS is held by the other process too.
                    if matches!(command, Command::SendFd { .. } | Command::RecvFd { .. }) {
                        lock(&self.shared.observer).note_shared(touched.iter().copied());
                    }
                    self.finish_with(outcome, &touched, None, None, false);
                }
            }
        }
    }

    /// Works out what changed in what the front end knows about the process's fds: the labels,
    /// names and addresses of `touched` (the fds the command used, made or closed), and the
    /// small things (file objects, socket files, sockplay's own fds) when they changed. The
    /// first time (and in a forked child) it is all of it.
    fn view_update(&mut self, touched: &[i32]) -> ViewUpdate {
        let mut update = ViewUpdate::default();
        let all;
        let fds = if self.view_sent {
            touched
        } else {
            update.reset = true;
            self.view = ProcessView::default();
            self.socket_names.clear();
            all = self.session.labelled_fds();
            &all
        };
        self.view_sent = true;
        for &fd in fds {
            let label = self.session.label_of(fd);
            if self.view.labels.names.get(&fd) != label.as_ref() {
                let labels = Arc::make_mut(&mut self.view.labels);
                match &label {
                    Some(label) => labels.names.insert(fd, label.clone()),
                    None => labels.names.remove(&fd),
                };
                update.names.push((fd, label));
            }
            let detached = self.session.is_detached(fd);
            if self.view.labels.detached.contains(&fd) != detached {
                let labels = Arc::make_mut(&mut self.view.labels);
                if detached {
                    labels.detached.insert(fd);
                } else {
                    labels.detached.remove(&fd);
                }
                update.detached.push((fd, detached));
            }
            let name = self.session.name_of(fd).map(str::to_string);
            if self.socket_names.get(&fd) != name.as_ref() {
                let sockets = Arc::make_mut(&mut self.view.sockets);
                if let Some(old) = self.socket_names.remove(&fd) {
                    if sockets.get(&old) == Some(&fd) {
                        sockets.remove(&old);
                        update.sockets.push((old, None));
                    }
                }
                if let Some(name) = name {
                    sockets.insert(name.clone(), fd);
                    self.socket_names.insert(fd, name.clone());
                    update.sockets.push((name, Some(fd)));
                }
            }
            if let Some((name, address)) = self.session.bound_address_of(fd) {
                if self.view.addresses.get(&name) != Some(&address) {
                    Arc::make_mut(&mut self.view.addresses).insert(name.clone(), address.clone());
                    update.addresses.push((name, address));
                }
            }
        }
        let files = self.session.file_names();
        if files != self.view.files {
            self.view.files.clone_from(&files);
            update.files = Some(files);
        }
        let socket_files = self.session.socket_files();
        if socket_files != self.view.socket_files.as_slice() {
            self.view.socket_files = socket_files.to_vec();
            update.socket_files = Some(socket_files.to_vec());
        }
        let internal = self.session.internal_fds();
        if *internal != self.view.labels.internal {
            Arc::make_mut(&mut self.view.labels).internal = internal.clone();
            update.internal = Some(internal.clone());
        }
        let own_fds = self.own_fds();
        if own_fds != self.view.own_fds {
            self.view.own_fds.clone_from(&own_fds);
            update.own_fds = Some(own_fds);
        }
        self.publish();
        update
    }

    /// Works out all the front end is to know of the process's fds, for the first answer.
    fn first_view(&mut self) {
        self.view_sent = false;
        self.park_view();
    }

    /// Works out what changed in the view outside a command (sockplay's own fds), for the next
    /// answer, whichever thread gives it.
    fn park_view(&mut self) {
        let view = self.view_update(&[]);
        let mut parked = lock(&self.shared.view);
        *parked = Some(match parked.take() {
            Some(earlier) => earlier.then(view),
            None => view,
        });
    }

    /// Takes the observer's watch, once it opened, for sockplay's own.
    fn adopt_watch(&mut self, watch: Option<RawFd>) {
        if watch.is_some() && watch != self.own.watch {
            self.own.watch = watch;
            self.session.add_internal_fds(watch);
        }
    }

    /// sockplay's own fds in the process, each with what it is.
    fn own_fds(&self) -> BTreeMap<i32, String> {
        let channel = self.shared.channel.as_raw_fd();
        self.session
            .internal_fds()
            .iter()
            .map(|&fd| {
                let what = if fd == channel {
                    "control channel"
                } else if Some(fd) == self.own.diag {
                    "sock_diag"
                } else if Some(fd) == self.own.watch {
                    "epoll of changes"
                } else {
                    "new process's channel"
                };
                (fd, what.to_string())
            })
            .collect()
    }

    /// Says which fds are sockplay's own and which socket files the binds made, for the control
    /// thread's tables and the clean-up at the end.
    fn publish(&self) {
        let mut published = lock(&self.shared.published);
        published.internal.clone_from(self.session.internal_fds());
        published.socket_files = self.session.socket_files().to_vec();
    }

    /// Answers the command that just ran: its outcome and what changed with it.
    fn finish(
        &mut self,
        outcome: Outcome,
        child: Option<NewChild>,
        attach: Option<OwnedFd>,
        ends: bool,
    ) {
        let touched = self.session.take_touched();
        self.finish_with(outcome, &touched, child, attach, ends);
    }

    /// Answers the command that just ran, which used, made or closed the fds `touched`.
    fn finish_with(
        &mut self,
        outcome: Outcome,
        touched: &[i32],
        child: Option<NewChild>,
        attach: Option<OwnedFd>,
        ends: bool,
    ) {
        let settings = self.session.settings;
        // Ready before the answer leaves: the front end may send the next command at once. A
        // snapshot asked meanwhile waits for the answer to be out (`answering`).
        self.shared.answering.store(true, Ordering::SeqCst);
        self.shared.busy.store(false, Ordering::SeqCst);
        let shared = Arc::clone(&self.shared);
        shared.send_update(
            touched,
            false,
            true,
            |watch| {
                // What a snapshot taken while the next command runs compares with.
                let lowest_free = lock(&shared.observer).lowest_free_fd();
                shared
                    .answered_lowest_free
                    .store(lowest_free, Ordering::SeqCst);
                self.adopt_watch(watch);
                self.view_update(touched)
            },
            |table| {
                Response::Done(Box::new(Done {
                    outcome,
                    table,
                    settings,
                    child,
                    ends,
                }))
            },
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
        // The fd is gone: the next answer, whichever thread gives it, says so.
        self.park_view();
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
                lock(&self.shared.observer).note_shared(inherited.iter().copied());
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
        match forked {
            Ok(Forked::Child) => {
                // The parent's observer: its sock_diag socket and epoll are the parent's (this
                // process's copies close here), and the child observes itself with its own.
                drop(std::mem::replace(
                    &mut *observer,
                    Observer::new(Observed::ThisProcess),
                ));
            }
            // Every socket is the child's too now: what it does changes them with no wake-up.
            Ok(Forked::Parent(_)) => observer.note_all_shared(),
            Err(_) => {}
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
        let (mut observer, new_own) = own_observer();
        // Every socket is the parent's too.
        observer.note_all_shared();
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
        self.session.add_internal_fds(
            std::iter::once(new.channel.as_raw_fd())
                .chain(new_own.diag)
                .chain(new_own.watch),
        );
        self.own = new_own;
        // The files belong to the parent, whose binds made them.
        self.session.forget_socket_files();
        // The front end knows nothing of this process yet: its first update is all of it.
        self.view_sent = false;
        clear_interrupt();
        self.first_view();
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
/// that socket's fd; its watch opens later, when the table is big enough.
fn own_observer() -> (Observer, OwnFds) {
    let mut observer = Observer::new(Observed::ThisProcess);
    let diag = observer.reserve_sock_diag();
    (observer, OwnFds { diag, watch: None })
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
