//! Cutting a blocking syscall at a deadline. sockplay makes the user's blocking calls for real
//! (`accept`, `recv`, a lingering `close`, …) and bounds them the way a signal would, as Ctrl-C
//! does: a watcher thread sends the calling thread a signal whose handler does nothing, from the
//! deadline on (or from a Ctrl-C that landed just before the call began to wait), until the call
//! returns. The call then returns what the kernel returns for an interrupted call: EINTR, or the
//! count done so far.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};

/// The signal that cuts the call; sockplay does not use SIGALRM for anything else.
const CUT: Signal = Signal::SIGALRM;

/// How often the signal is sent again once the deadline has passed: one that lands just before
/// the call starts to wait cuts nothing.
const RESEND: Duration = Duration::from_millis(10);

/// How often the watcher looks for a Ctrl-C before the deadline: the SIGINT itself interrupts the
/// call, unless it landed just before the call began to wait.
const WATCH: Duration = Duration::from_millis(50);

extern "C" fn on_cut(_: libc::c_int) {}

/// Installs the do-nothing handler once, without SA_RESTART, so the waiting call returns.
pub(super) fn install() -> bool {
    static INSTALL: Once = Once::new();
    static INSTALLED: AtomicBool = AtomicBool::new(false);
    INSTALL.call_once(|| {
        let action = SigAction::new(
            SigHandler::Handler(on_cut),
            SaFlags::empty(),
            SigSet::empty(),
        );
        // SAFETY: the handler does nothing at all, which is async-signal-safe.
        let done = unsafe { sigaction(CUT, &action) }.is_ok();
        INSTALLED.store(done, Ordering::SeqCst);
    });
    INSTALLED.load(Ordering::SeqCst)
}

/// Runs `call` in this thread and, if it has not returned by `deadline` (or Ctrl-C was pressed),
/// interrupts the wait it is in with a signal. Returns what `call` returned and whether the
/// deadline passed while it ran.
pub fn cut_at_deadline<T>(deadline: Instant, call: impl FnOnce() -> T) -> (T, bool) {
    if !install() {
        return (call(), false);
    }
    // SAFETY: pthread_self has no preconditions.
    let caller = unsafe { libc::pthread_self() };
    let (done, finished) = mpsc::channel::<()>();
    let cut = Arc::new(AtomicBool::new(false));
    let watcher = {
        let cut = Arc::clone(&cut);
        std::thread::Builder::new()
            .name("deadline".into())
            .spawn(move || {
                loop {
                    let left = deadline.saturating_duration_since(Instant::now());
                    let due = left.is_zero() || super::interrupted();
                    if left.is_zero() {
                        cut.store(true, Ordering::SeqCst);
                    }
                    if due {
                        // SAFETY: the caller thread is alive: it joins this thread before returning.
                        unsafe { libc::pthread_kill(caller, CUT as libc::c_int) };
                    }
                    let pause = if due { RESEND } else { left.min(WATCH) };
                    if finished.recv_timeout(pause) != Err(RecvTimeoutError::Timeout) {
                        return;
                    }
                }
            })
    };
    let Ok(watcher) = watcher else {
        return (call(), false);
    };
    let result = call();
    drop(done);
    // After the join no signal is on its way; one still pending runs the empty handler.
    let _ = watcher.join();
    (result, cut.load(Ordering::SeqCst))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wait_past_the_deadline_is_cut() {
        let started = Instant::now();
        let (slept, cut) = cut_at_deadline(started + Duration::from_millis(200), || {
            // nanosleep returns EINTR (with the time left) when the signal lands.
            let mut left = libc::timespec {
                tv_sec: 10,
                tv_nsec: 0,
            };
            // SAFETY: both pointers are to a live local timespec.
            unsafe { libc::nanosleep(&left.clone(), &mut left) }
        });
        assert_eq!(slept, -1, "the sleep was not interrupted");
        assert!(cut);
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(200) && took < Duration::from_secs(2),
            "{took:?}"
        );
    }

    #[test]
    fn a_call_that_ends_in_time_is_not_cut() {
        let (value, cut) = cut_at_deadline(Instant::now() + Duration::from_secs(5), || 7);
        assert_eq!((value, cut), (7, false));
    }
}
