//! Signals that cut a wait. Ctrl-C (SIGINT) stops the current call; SIGTERM and SIGHUP (the
//! terminal closed) ask sockplay to end, and so does SIGINT during a replay. The handlers are
//! installed without SA_RESTART and only store to atomics, so a blocked call returns EINTR and
//! sockplay unwinds to its normal exit, which closes the sockets and removes the socket files.
//!
//! The line editor retries a read that a signal interrupts, so an ending signal that lands while
//! a prompt reads also puts /dev/null over the fd it reads (stdin, or its own /dev/tty; dup2 is
//! async-signal-safe): the read then ends with EOF, and the terminal is given back when the read
//! returns.
//!
//! Some calls are retried on EINTR where sockplay cannot see them (the standard library's open,
//! write and waitpid loops: a FIFO nobody writes, a stdout nobody reads). So that no signal is
//! swallowed for good, a watchdog thread lets the signal act as if unhandled, killing sockplay,
//! when the normal exit has not come within a grace period.

use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Once, OnceLock};
use std::time::Duration;

use nix::fcntl::{fcntl, FcntlArg};
use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
use nix::sys::termios::{tcgetattr, tcsetattr, SetArg};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// The signal that asked sockplay to end, or 0.
static ENDING: AtomicI32 = AtomicI32::new(0);

/// In a playground process: the signal the front end got when it interrupted this process's
/// call (SIGTERM, SIGHUP), for the message; 0 for Ctrl-C.
static CAUSE: AtomicI32 = AtomicI32::new(0);

/// Whether SIGINT ends sockplay (a replay) rather than only the current call (a prompt).
static INTERRUPT_ENDS: AtomicBool = AtomicBool::new(false);

/// While a prompt reads: an fd open on /dev/null, to put over the fd it reads when an ending
/// signal lands.
static PROMPT_NULL: AtomicI32 = AtomicI32::new(-1);

/// The fd the prompt reads: stdin, or the line editor's own /dev/tty.
static PROMPT_INPUT: AtomicI32 = AtomicI32::new(libc::STDIN_FILENO);

/// What a prompt needs to end its read and give the terminal back: /dev/null, and the fd it
/// reads, kept.
struct PromptFds {
    null: OwnedFd,
    input: OwnedFd,
}

static PROMPT_FDS: OnceLock<Option<PromptFds>> = OnceLock::new();

fn end(signal: libc::c_int) {
    ENDING.store(signal, Ordering::SeqCst);
    let null = PROMPT_NULL.load(Ordering::SeqCst);
    if null >= 0 {
        // SAFETY: dup2 is async-signal-safe; `null` stays open for the life of the process.
        unsafe { libc::dup2(null, PROMPT_INPUT.load(Ordering::SeqCst)) };
    }
}

extern "C" fn on_sigint(signal: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
    if INTERRUPT_ENDS.load(Ordering::SeqCst) {
        end(signal);
    }
}

extern "C" fn on_ending(signal: libc::c_int) {
    end(signal);
}

/// How long sockplay may take to reach its normal exit once a signal asked it to end: every wait
/// looks at the flag at least every 100 ms, so only a call stuck out of sight takes this long.
const GRACE: Duration = Duration::from_secs(3);

/// How often the watchdog looks whether sockplay was asked to end.
const WATCH: Duration = Duration::from_millis(200);

/// Starts (once) the thread that ends sockplay by its signal's default action when the normal
/// exit has not come `GRACE` after the signal.
fn start_watchdog() {
    static WATCHDOG: Once = Once::new();
    WATCHDOG.call_once(|| {
        let _ = std::thread::Builder::new()
            .name("signal-watchdog".into())
            .spawn(|| loop {
                std::thread::sleep(WATCH);
                if let Some(signal) = ending_signal() {
                    std::thread::sleep(GRACE);
                    let default =
                        SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
                    // SAFETY: restoring the default action installs no handler.
                    let _ = unsafe { sigaction(signal, &default) };
                    let _ = nix::sys::signal::raise(signal);
                    // A signal that does not kill by default (none of these) ends the process too.
                    std::process::exit(signal_status(signal));
                }
            });
    });
}

/// Installs the handlers for SIGINT, and for the signals whose default action would end sockplay
/// without its clean-up (SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2: they end it through its normal
/// exit; SIGALRM, which sockplay uses to cut a lingering close, does nothing else). Without
/// SA_RESTART, a blocked syscall returns EINTR. `interrupt_ends`: SIGINT ends sockplay (a replay),
/// not only the current call.
pub fn install_signal_handlers(interrupt_ends: bool) -> nix::Result<()> {
    INTERRUPT_ENDS.store(interrupt_ends, Ordering::SeqCst);
    start_watchdog();
    let handle = |signal, handler| {
        let action = SigAction::new(
            SigHandler::Handler(handler),
            SaFlags::empty(),
            SigSet::empty(),
        );
        // SAFETY: the handlers only store to atomics and call dup2, all async-signal-safe.
        unsafe { sigaction(signal, &action) }.map(|_| ())
    };
    handle(Signal::SIGINT, on_sigint)?;
    for ending in [
        Signal::SIGTERM,
        Signal::SIGHUP,
        Signal::SIGQUIT,
        Signal::SIGUSR1,
        Signal::SIGUSR2,
    ] {
        handle(ending, on_ending)?;
    }
    super::alarm::install();
    Ok(())
}

/// Installs the SIGINT handler alone, for a playground process: SIGINT (which the front end sends
/// to the thread making the call) cuts the current call; SIGTERM and SIGHUP keep their default
/// action and end the process, as `kill` means them to.
pub fn install_interrupt_handler() -> nix::Result<()> {
    INTERRUPT_ENDS.store(false, Ordering::SeqCst);
    let action = SigAction::new(
        SigHandler::Handler(on_sigint),
        SaFlags::empty(),
        SigSet::empty(),
    );
    // SAFETY: the handler only stores to atomics.
    unsafe { sigaction(Signal::SIGINT, &action) }.map(|_| ())
}

/// Whether a wait should stop: Ctrl-C was pressed since the last [`clear_interrupt`], or sockplay
/// was asked to end.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst) || ENDING.load(Ordering::SeqCst) != 0
}

/// Forgets an earlier Ctrl-C, before a new step starts. A request to end is never forgotten.
pub fn clear_interrupt() {
    INTERRUPTED.store(false, Ordering::SeqCst);
    CAUSE.store(0, Ordering::SeqCst);
}

/// In a playground process, before its call is interrupted: what the front end got, so the call's
/// message names it (`interrupted by SIGTERM`); None for Ctrl-C.
pub fn note_interruption(cause: Option<Signal>) {
    CAUSE.store(cause.map_or(0, |signal| signal as i32), Ordering::SeqCst);
}

/// The signal that asked sockplay to end, if one did.
pub fn ending_signal() -> Option<Signal> {
    Signal::try_from(ENDING.load(Ordering::SeqCst)).ok()
}

/// The exit status for a run ended by `signal`: 128 + its number, as a shell reports it.
pub fn signal_status(signal: Signal) -> i32 {
    128 + signal as i32
}

/// What cut a wait, for messages: `Ctrl-C`, `SIGTERM` or `SIGHUP`.
pub fn interruption() -> &'static str {
    let cause = ending_signal().or_else(|| Signal::try_from(CAUSE.load(Ordering::SeqCst)).ok());
    match cause {
        Some(Signal::SIGINT) | None => "Ctrl-C",
        Some(signal) => signal.as_str(),
    }
}

/// Opens what a prompt needs to end a read when sockplay is asked to end: /dev/null and a copy of
/// the fd the line editor reads, on fds of 64 or more. That fd is the first terminal among
/// `opened`, the fds the editor opened (its own /dev/tty), else stdin. Called once, once the line
/// editor is made.
pub fn prepare_prompt_reads(opened: &[RawFd]) {
    PROMPT_FDS.get_or_init(|| {
        let input = opened
            .iter()
            .copied()
            // SAFETY: the caller just listed these fds as open; isatty only asks about one.
            .find(|&fd| nix::unistd::isatty(unsafe { BorrowedFd::borrow_raw(fd) }) == Ok(true))
            .unwrap_or(libc::STDIN_FILENO);
        let high = |fd: RawFd| {
            // SAFETY: the fd is open for this call; F_DUPFD_CLOEXEC makes a new one.
            let raw = unsafe { BorrowedFd::borrow_raw(fd) };
            fcntl(raw, FcntlArg::F_DUPFD_CLOEXEC(64)).ok().map(|new| {
                // SAFETY: fcntl just returned this fd and nothing else owns it.
                unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(new) }
            })
        };
        let null = std::fs::File::open("/dev/null").ok()?;
        let fds = PromptFds {
            null: high(null.as_raw_fd())?,
            input: high(input)?,
        };
        PROMPT_INPUT.store(input, Ordering::SeqCst);
        Some(fds)
    });
}

/// Runs `read`, the line editor reading a line, so that an ending signal ends it: the fd it reads
/// becomes /dev/null (EOF) while it reads, or at once if the signal came first. Afterwards that fd
/// and the terminal's mode are given back, for whatever is printed on the way out.
pub fn read_at_prompt<T>(read: impl FnOnce() -> T) -> T {
    let Some(Some(fds)) = PROMPT_FDS.get() else {
        return read();
    };
    let input = PROMPT_INPUT.load(Ordering::SeqCst);
    // SAFETY: the fd the editor reads stays open while it reads (its copy is kept for good).
    let terminal = unsafe { BorrowedFd::borrow_raw(input) };
    let mode = tcgetattr(terminal).ok();
    PROMPT_NULL.store(fds.null.as_raw_fd(), Ordering::SeqCst);
    if ENDING.load(Ordering::SeqCst) != 0 {
        // SAFETY: both fds are open; this is what the handler would have done.
        unsafe { libc::dup2(fds.null.as_raw_fd(), input) };
    }
    let line = read();
    PROMPT_NULL.store(-1, Ordering::SeqCst);
    if ENDING.load(Ordering::SeqCst) != 0 {
        // SAFETY: both fds are open; the editor's fd gets its terminal (or pipe) back.
        unsafe { libc::dup2(fds.input.as_raw_fd(), input) };
        // The editor could not leave raw mode on /dev/null; a terminal that hung up refuses.
        if let Some(mode) = mode {
            // SAFETY: as above, the fd is open again on the terminal.
            let terminal = unsafe { BorrowedFd::borrow_raw(input) };
            let _ = tcsetattr(terminal, SetArg::TCSANOW, &mode);
        }
    }
    line
}
