//! Ctrl-C during a blocking call: a SIGINT handler installed without SA_RESTART only raises a flag,
//! so a wait in poll(2) returns EINTR and the session decides what to do, instead of dying.

use std::sync::atomic::{AtomicBool, Ordering};

use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigint(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Installs the SIGINT handler. Without SA_RESTART, a blocked syscall returns EINTR.
pub fn install_interrupt_handler() -> nix::Result<()> {
    let action = SigAction::new(
        SigHandler::Handler(on_sigint),
        SaFlags::empty(),
        SigSet::empty(),
    );
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe { sigaction(Signal::SIGINT, &action) }.map(|_| ())
}

/// Whether Ctrl-C was pressed since the last [`clear_interrupt`].
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Forgets an earlier Ctrl-C, before a new step starts.
pub fn clear_interrupt() {
    INTERRUPTED.store(false, Ordering::SeqCst);
}
