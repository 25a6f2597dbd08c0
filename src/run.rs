//! The one place that chooses the mode, prints what ended a run and picks the exit status: the
//! front ends return an [`Error`], and only [`report`] prints it.

use std::ffi::OsString;
use std::io::IsTerminal;

use clap::Parser;

use crate::cli::{completion_script, man_page, Cli, ColorChoice, Print};
use crate::engine::{Engine, View};
use crate::error::Error;
use crate::fdtable::{Observed, Observer};
use crate::front::replay::{self, ScriptSource};
use crate::front::terminal::{self, say, warn, TerminalScreen};
use crate::front::{repl, tutorial};
use crate::lang::PanelPlacement;
use crate::session::Settings;

/// Runs sockplay with these arguments and returns the process's exit status.
pub fn run(args: impl IntoIterator<Item = OsString>) -> i32 {
    // A playground process: sockplay started itself to hold one process's sockets.
    if let Some(channel) = crate::process::worker_channel() {
        return crate::process::run_worker(channel);
    }
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        // A usage error quotes the argument as given: printed plain and made safe. `--help` and
        // `--version` are clap's own text, styled by clap.
        Err(error) if error.use_stderr() => {
            return report(Err(Error::Usage {
                message: error.render().to_string().trim_end().to_string(),
            }));
        }
        Err(error) => {
            let _ = error.print();
            return 0;
        }
    };
    if let Some(print) = cli.print {
        return report(print_about_itself(print));
    }
    // From here on stdout carries JSON only, when asked: narration, banners and notices go to
    // stderr.
    terminal::set_json_stdout(cli.json);
    let stdout_tty = terminal::stdout_is_terminal();
    let stdin_tty = std::io::stdin().is_terminal();
    let color = match cli.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            stdout_tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    } && !cli.json;
    let panel = cli.panel.unwrap_or(if stdout_tty {
        PanelPlacement::Right
    } else {
        PanelPlacement::Below
    });
    // The front end's own sock_diag socket, for `ss`, opened now while fds are to be had.
    let mut observer = Observer::new(Observed::ThisProcess);
    observer.reserve_sock_diag();
    // A process whose parent ended is handed to sockplay, which reaps it and reports how it ended.
    let _ = crate::sys::process::become_subreaper();
    let settings = Settings {
        timeout: cli.timeout,
    };

    if let Some(name) = &cli.tutorial {
        if name.is_empty() {
            for line in tutorial::list_tutorials() {
                say(line);
            }
            return 0;
        }
        let view = View {
            json: cli.json,
            color,
            echo: true,
            fallback_width: 120,
            allow_shell: false,
            prompt: false,
            panel,
            explain: false,
        };
        // Unattended, Ctrl-C ends the run as it ends a replay.
        handle_signals(cli.auto);
        let engine = match Engine::start(observer, settings, view, Box::new(TerminalScreen)) {
            Ok(engine) => engine,
            Err(error) => return report(Err(Error::FirstProcess { error })),
        };
        return run_front(engine, |engine| {
            tutorial::run_tutorial(name, cli.auto, engine)
        });
    }

    // Decide the script (if any) before anything runs: a script is read and parsed whole first,
    // and a line it may not run (`!cmd`, `record FILE` without --allow-shell) stops it here.
    let source = if let Some(commands) = &cli.commands {
        Some(ScriptSource::Commands(commands))
    } else if let Some(path) = cli.script.as_deref().filter(|p| p.as_os_str() != "-") {
        Some(ScriptSource::File(path))
    } else if cli.script.is_some() || !stdin_tty {
        // Stdin is a pipe, a file or a terminal: read it whole, up to the cap.
        Some(ScriptSource::Stdin)
    } else {
        None
    };
    let script = match source
        .map(|source| replay::load(source, cli.allow_shell))
        .transpose()
    {
        Ok(script) => script,
        Err(error) => return report(Err(error)),
    };

    let view = View {
        json: cli.json,
        color,
        echo: script.is_some(),
        fallback_width: 120,
        allow_shell: cli.allow_shell,
        prompt: script.is_none(),
        panel,
        explain: false,
    };
    handle_signals(script.is_some());
    let engine = match Engine::start(observer, settings, view, Box::new(TerminalScreen)) {
        Ok(engine) => engine,
        Err(error) => return report(Err(Error::FirstProcess { error })),
    };
    match script {
        Some(script) => run_front(engine, |engine| replay::replay(&script, engine)),
        None => run_front(engine, repl::run_repl),
    }
}

/// `sockplay completions SHELL`, `sockplay man`: the text, byte for byte, on stdout.
fn print_about_itself(print: Print) -> Result<(), Error> {
    let text = match print {
        Print::Completions { shell } => {
            let names: Vec<&'static str> =
                tutorial::TUTORIALS.iter().map(|(name, _)| *name).collect();
            completion_script(shell, &names)
        }
        Print::Man => man_page().map_err(|error| Error::Output { error })?,
    };
    match terminal::print_generated(&text) {
        // A reader that stopped early (`sockplay man | head`) is no failure.
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        written => written.map_err(|error| Error::Output { error }),
    }
}

/// Runs a front end on `engine`, then ends the run: what ended it printed, the engine dropped
/// (the session's clean-up), and only then the exit status chosen.
fn run_front(mut engine: Engine, front: impl FnOnce(&mut Engine) -> Result<(), Error>) -> i32 {
    let ended = front(&mut engine);
    let status = report(ended);
    drop(engine);
    ended_status(status)
}

/// Prints the error that ended the run, if one did, and returns the run's exit status: the one
/// place sockplay prints what ended it.
fn report(ended: Result<(), Error>) -> i32 {
    match ended {
        Ok(()) => 0,
        Err(error) => {
            warn(&error);
            error.code()
        }
    }
}

/// From here on Ctrl-C cuts a wait (and ends a replay when `interrupt_ends`), and SIGTERM or
/// SIGHUP end sockplay through its normal exit. Installed only once sockplay is about to make
/// sockets: until then the default action (the process ends) leaves nothing behind.
fn handle_signals(interrupt_ends: bool) {
    if let Err(e) = crate::sys::install_signal_handlers(interrupt_ends) {
        warn(format_args!(
            "sockplay: cannot install the signal handlers: {e}"
        ));
    }
}

/// The exit status of a run that a signal asked to end is 128 + the signal (130 for Ctrl-C),
/// as a shell reports a process killed by it; otherwise `status`.
fn ended_status(status: i32) -> i32 {
    crate::sys::ending_signal().map_or(status, crate::sys::signal_status)
}
