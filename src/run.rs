//! The one place that chooses the mode, prints top-level errors and picks the exit status.

use std::ffi::OsString;
use std::io::IsTerminal;

use clap::Parser;

use crate::cli::{Cli, ColorChoice};
use crate::engine::{check_script, read_capped, read_script, Engine, FileError, View};
use crate::fdtable::{Observed, Observer};
use crate::render::terminal::{self, say, warn};
use crate::render::PanelPlacement;
use crate::replay::{run_script, Script};
use crate::session::Settings;

/// Exit status for a usage or syntax error: nothing was run.
const EXIT_USAGE: i32 = 2;
/// Exit status after Ctrl-C, as a shell reports a command that SIGINT ended.
const EXIT_INTERRUPTED: i32 = 130;

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
            warn(error.render().to_string().trim_end());
            return EXIT_USAGE;
        }
        Err(error) => {
            let _ = error.print();
            return 0;
        }
    };
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
    // The playground's first process, `main`, and the engine that reaches it.
    let start = |observer: Observer, view: View| {
        Engine::start(observer, settings, view).map_err(|e| {
            warn(format_args!(
                "sockplay: cannot start the first process: {e}"
            ));
        })
    };

    if let Some(name) = &cli.tutorial {
        if name.is_empty() {
            for line in crate::tutorial::list_tutorials() {
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
        let Ok(mut engine) = start(observer, view) else {
            return 1;
        };
        let status = crate::tutorial::run_tutorial(name, cli.auto, &mut engine);
        drop(engine);
        return ended_status(status);
    }

    // Decide the script (if any) before anything runs: a script is read and parsed whole first,
    // and a line it may not run (`!cmd`, `record FILE` without --allow-shell) stops it here.
    let script = if let Some(commands) = &cli.commands {
        Some(Script::parse_commands(commands))
    } else if let Some(path) = cli.script.as_deref().filter(|p| p.as_os_str() != "-") {
        match read_script(path) {
            Ok(bytes) => Some(Script::parse_bytes(&path.display().to_string(), &bytes)),
            Err(e) => {
                warn(format_args!("sockplay: {e}"));
                // `sockplay help` or `sockplay fds`: a command where a script file goes.
                let word = path.to_string_lossy();
                if crate::lang::find_command(&word).is_some() && !path.exists() {
                    warn(format_args!(
                        "to run the command `{word}`, use: sockplay -c '{word}'"
                    ));
                }
                return EXIT_USAGE;
            }
        }
    } else if cli.script.is_some() || !stdin_tty {
        // Stdin is a pipe, a file or a terminal: read it whole, up to the cap.
        match read_capped(std::io::stdin().lock(), "<stdin>") {
            Ok(bytes) => Some(Script::parse_bytes("<stdin>", &bytes)),
            Err(e) => {
                warn(format_args!("sockplay: {e}"));
                return match e {
                    FileError::Interrupted { .. } => EXIT_INTERRUPTED,
                    _ => EXIT_USAGE,
                };
            }
        }
    } else {
        None
    };
    let script = match script {
        Some(Ok(script)) => Some(script),
        Some(Err(error)) => {
            warn(error);
            return EXIT_USAGE;
        }
        None => None,
    };
    if let (Some(script), false) = (&script, cli.allow_shell) {
        if let Err(refusal) = check_script(script) {
            warn(refusal);
            return EXIT_USAGE;
        }
    }

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
    // Each front end drops its engine (the session's clean-up) before the status is chosen.
    match script {
        Some(script) => {
            handle_signals(true);
            let Ok(mut engine) = start(observer, view) else {
                return 1;
            };
            let status = run_script(&script, &mut engine);
            drop(engine);
            ended_status(status)
        }
        None => {
            handle_signals(false);
            let Ok(mut engine) = start(observer, view) else {
                return 1;
            };
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
