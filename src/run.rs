//! The one place that chooses the mode, prints top-level errors and picks the exit status.

use std::ffi::OsString;
use std::io::{IsTerminal, Read};

use clap::Parser;

use crate::cli::{Cli, ColorChoice};
use crate::engine::{Engine, View};
use crate::render::PanelPlacement;
use crate::replay::{run_script, Script};
use crate::session::{Session, Settings};
use crate::sys::{errln, outln};

/// Exit status for a usage or syntax error: nothing was run.
const EXIT_USAGE: i32 = 2;

/// Runs sockplay with these arguments and returns the process's exit status.
pub fn run(args: impl IntoIterator<Item = OsString>) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() { EXIT_USAGE } else { 0 };
        }
    };
    let stdout_tty = std::io::stdout().is_terminal();
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
    // sockplay's own sock_diag socket, opened now on a high fd, keeps queued connections and `ss`
    // working when a lesson fills the fd table ("Too many open files").
    let reserved = crate::fdtable::diag::reserve();
    let new_session = |settings: Settings| {
        let mut session = Session::new(settings);
        session.add_internal_fds(reserved);
        session
    };
    let settings = Settings {
        timeout: cli.timeout,
        panel,
        explain: false,
    };

    if let Some(name) = &cli.tutorial {
        if name.is_empty() {
            for line in crate::tutorial::list_tutorials() {
                outln!("{line}");
            }
            return 0;
        }
        let view = View {
            json: cli.json,
            color,
            echo: true,
            fallback_width: 120,
            allow_shell: false,
        };
        // Unattended, Ctrl-C ends the run as it ends a replay.
        handle_signals(cli.auto);
        let mut engine = Engine::new(new_session(settings), view);
        let status = crate::tutorial::run_tutorial(name, cli.auto, &mut engine);
        drop(engine);
        return ended_status(status);
    }

    // Decide the script (if any) before anything runs: a script is parsed whole first.
    let script = if let Some(commands) = &cli.commands {
        Some(Script::parse_commands(commands))
    } else {
        match cli.script.as_deref() {
            Some(path) if path.as_os_str() != "-" => {
                let bytes = match std::fs::read(path) {
                    Ok(bytes) => bytes,
                    Err(e) => {
                        errln!("sockplay: cannot read {}: {e}", path.display());
                        // `sockplay help` or `sockplay fds`: a command where a script file goes.
                        let word = path.to_string_lossy();
                        if crate::lang::find_command(&word).is_some() && !path.exists() {
                            errln!("to run the command `{word}`, use: sockplay -c '{word}'");
                        }
                        return EXIT_USAGE;
                    }
                };
                Some(Script::parse_bytes(&path.display().to_string(), &bytes))
            }
            Some(_) => Some(read_stdin_script()),
            None if !stdin_tty => Some(read_stdin_script()),
            None => None,
        }
    };

    let view = View {
        json: cli.json,
        color,
        echo: script.is_some(),
        fallback_width: 120,
        allow_shell: cli.allow_shell || script.is_none(),
    };
    // Each front end drops its engine (the session's clean-up) before the status is chosen.
    match script {
        Some(Ok(script)) => {
            handle_signals(true);
            let mut engine = Engine::new(new_session(settings), view);
            let status = run_script(&script, &mut engine);
            drop(engine);
            ended_status(status)
        }
        Some(Err(error)) => {
            errln!("{error}");
            EXIT_USAGE
        }
        None => {
            handle_signals(false);
            let mut engine = Engine::new(new_session(settings), view);
            let status = crate::repl::run_repl(&mut engine);
            drop(engine);
            ended_status(status)
        }
    }
}

/// From here on Ctrl-C cuts a wait (and ends a replay when `interrupt_ends`), and SIGTERM or
/// SIGHUP end sockplay through its normal exit. Installed only once sockplay is about to make
/// sockets: until then the default action (the process ends) leaves nothing behind.
fn handle_signals(interrupt_ends: bool) {
    if let Err(e) = crate::sys::install_signal_handlers(interrupt_ends) {
        errln!("sockplay: cannot install the signal handlers: {e}");
    }
}

/// The exit status of a run that a signal asked to end is 128 + the signal (130 for Ctrl-C),
/// as a shell reports a process killed by it; otherwise `status`.
fn ended_status(status: i32) -> i32 {
    crate::sys::ending_signal().map_or(status, crate::sys::signal_status)
}

fn read_stdin_script() -> Result<Script, crate::replay::ScriptError> {
    let mut bytes = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut bytes) {
        errln!("sockplay: cannot read stdin: {e}");
    }
    Script::parse_bytes("<stdin>", &bytes)
}
