//! Script replay (`sockplay FILE.sock`, `sockplay -`, piped stdin, `-c`): the whole script is parsed
//! before anything runs, then each command is echoed, executed and shown; the first failure stops it.

use crate::engine::Engine;
use crate::front::terminal::warn;
use crate::lang::Script;
use crate::sys::signal_status;

/// Runs a parsed script; returns the exit status (0 all held, 1 a failure, 128 + the signal when
/// one ended it: 130 Ctrl-C, 143 SIGTERM, 129 SIGHUP). When stdout goes away the script stops,
/// with the status of what ran so far.
pub fn run_script(script: &Script, engine: &mut Engine) -> i32 {
    match engine.run_script(script) {
        Ok(()) => 0,
        Err(stop) => {
            warn(&stop);
            stop.signal().map_or(1, signal_status)
        }
    }
}
