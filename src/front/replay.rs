//! Script replay (`sockplay FILE.sock`, `sockplay -`, piped stdin, `-c`): the whole script is parsed
//! before anything runs, then each command is echoed, executed and shown; the first failure stops it.

use nix::sys::signal::Signal;

use crate::engine::Engine;
use crate::front::terminal::warn;
use crate::lang::{Check, Command, Script};
use crate::sys::{ending_signal, interrupted, signal_status};

/// Runs a parsed script; returns the exit status (0 all held, 1 a failure, 128 + the signal when
/// one ended it: 130 Ctrl-C, 143 SIGTERM, 129 SIGHUP). When stdout goes away the script stops,
/// with the status of what ran so far.
pub fn run_script(script: &Script, engine: &mut Engine) -> i32 {
    for (index, line) in script.lines.iter().enumerate() {
        if matches!(line.command, Command::Quit) {
            return 0;
        }
        // Asked to end (SIGTERM, SIGHUP, Ctrl-C) between two commands: run no more.
        if let Some(signal) = ending_signal() {
            warn(format_args!(
                "{}:{}: not run: {}",
                script.source,
                line.line,
                ended_by(signal)
            ));
            return signal_status(signal);
        }
        let (step, shown) = match engine.run_and_print(line.line, &line.text, &line.command) {
            Ok(step) => (step, true),
            Err(unshown) => (unshown.step, false),
        };
        let ending = ending_signal();
        if let Some(failure) = &step.outcome.failure {
            let excused = matches!(
                script.lines.get(index + 1).map(|next| &next.command),
                Some(Command::Expect(Check::Error(_)))
            ) && !matches!(line.command, Command::Expect(_));
            if !excused || ending.is_some() {
                warn(format_args!(
                    "{}:{}: {}",
                    script.source,
                    line.line,
                    failure.headline()
                ));
                return ending.map_or(1, signal_status);
            }
        }
        if let Some(signal) = ending {
            warn(format_args!(
                "{}:{}: {}",
                script.source,
                line.line,
                ended_by(signal)
            ));
            return signal_status(signal);
        }
        // stdout is gone (piped into `head`, or its reader died): stop. The status still tells
        // whether the commands that ran held; the checks that follow this one cannot run.
        if !shown {
            return 0;
        }
        // Ctrl-C in a script that another runs (`source` at the prompt) stops that script.
        if interrupted() && step.outcome.failure.is_none() {
            warn(format_args!(
                "{}:{}: interrupted by Ctrl-C",
                script.source, line.line
            ));
            return 130;
        }
    }
    0
}

/// How a replay that a signal ended says so.
fn ended_by(signal: Signal) -> String {
    match signal {
        Signal::SIGINT => "interrupted by Ctrl-C".to_string(),
        signal => format!("ended by {}", signal.as_str()),
    }
}
