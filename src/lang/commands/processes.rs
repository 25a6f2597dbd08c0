//! The processes' commands: spawn, fork, use, wait, ps, kill, exit and inheritable, each defined
//! once (its help, its argument grammar and its Python line). `NAME: COMMAND` and `COMMAND &` wrap
//! any command a process runs; the parser reads them around the command itself.

use super::handles::Switch;
use super::prelude::*;
use crate::net::Words;

/// The signals `kill` offers first; any signal name or number is taken.
const SIGNALS: &[&str] = &["SIGTERM", "SIGKILL", "SIGINT", "SIGHUP"];

pub static SPAWN: CommandSpec = CommandSpec {
    name: "spawn",
    aliases: &[],
    group: Group::Processes,
    usage: "spawn NAME",
    summary: "start a new process (fork + exec) with fds 0, 1, 2 and the inheritable ones",
    details: "\
The current process calls fork(2), and the child execs sockplay afresh, as a shell starts a
program: exec(2) closes every fd marked close-on-exec, so the new process starts with 0, 1, 2 and
only the fds made inheritable (`inheritable SOCK on`); its first socket is fd 3 unless one was
inherited there. sockplay's sockets are close-on-exec by default, as Python's are. The new
process's fd table is its own: run commands in it with `NAME: COMMAND` or `use NAME`.
Example:  spawn client;  client: socket tcp as c;  client: connect c $srv",
    args: &[Arg::Text],
    runs_in: RunsIn::Session,
    panel: Panel::Shown,
    parse: |args| {
        let (name, _) = args.expect_name("NAME (of the new process)")?;
        Ok(Command::Spawn { name })
    },
    python: |command, _| match command {
        Command::Spawn { .. } => {
            Some("subprocess.Popen([sys.executable, \"client.py\"], close_fds=True)".to_string())
        }
        _ => None,
    },
};

pub static FORK: CommandSpec = CommandSpec {
    name: "fork",
    aliases: &[],
    group: Group::Processes,
    usage: "fork [as NAME]",
    summary: "the current process calls fork(): the child holds every fd, same names",
    details: "\
fork(2) makes a copy of the current process: the child has every fd the parent has, each one the
same open socket (same inode), and the same names. A socket closes only when the last fd for it,
in any process, is closed: after `fork`, the parent closing its copy of a connection sends no FIN
while the child still holds it. That is why a forking server closes its copy of each connection
and the child closes the listener. The child is called NAME (default child, child2, …).
Example:  accept srv as conn;  fork as worker;  close conn;  worker: close srv",
    args: &[],
    runs_in: RunsIn::Session,
    panel: Panel::Shown,
    parse: |args| {
        Ok(Command::Fork {
            name: args.optional_name()?,
        })
    },
    python: |command, _| match command {
        Command::Fork { .. } => Some("pid = os.fork()".to_string()),
        _ => None,
    },
};

pub static USE: CommandSpec = CommandSpec {
    name: "use",
    aliases: &[],
    group: Group::Processes,
    usage: "use NAME",
    summary: "make NAME the current process (the prompt shows it)",
    details: "\
Commands run in the current process: `use client` makes the next ones run in client, and the prompt
shows it (`sockplay[client]>`); `use main` comes back. `NAME: COMMAND` runs one command elsewhere
without switching.
Example:  use client",
    args: &[Arg::Text],
    runs_in: RunsIn::Engine,
    panel: Panel::Hidden,
    parse: |args| {
        let (process, _) = args.expect_name("NAME (of a process, see `ps`)")?;
        Ok(Command::Use { process })
    },
    python: |_, _| None,
};

pub static WAIT: CommandSpec = CommandSpec {
    name: "wait",
    aliases: &[],
    group: Group::Processes,
    usage: "wait [NAME]",
    summary: "wait (bounded by the timeout) for NAME's call in the background and show it",
    details: "\
`COMMAND &` starts a call and comes back at once; the process shows as blocked in that call until
it returns. `wait NAME` waits for it, at most the session timeout (Ctrl-C interrupts the call), and
prints its result, which checks such as `expect output` then read; without NAME, the current
process's call.
Example:  accept srv &;  client: connect c $srv;  wait",
    args: &[Arg::Text],
    runs_in: RunsIn::Engine,
    panel: Panel::Shown,
    parse: |args| {
        let process = match args.peek() {
            Some(_) => Some(args.expect_name("NAME")?.0),
            None => None,
        };
        Ok(Command::Wait { process })
    },
    python: |_, _| None,
};

pub static PS: CommandSpec = CommandSpec {
    name: "ps",
    aliases: &[],
    group: Group::Processes,
    usage: "ps",
    summary: "the processes: name, pid, parent, state",
    details: "\
Lists the playground's processes: each one's name, pid, parent and state (ready, blocked in the call
it makes, exited with its status, killed by a signal); `*` marks the current one.",
    args: &[],
    runs_in: RunsIn::Engine,
    panel: Panel::Hidden,
    parse: |_| Ok(Command::Ps),
    python: |_, _| None,
};

pub static KILL: CommandSpec = CommandSpec {
    name: "kill",
    aliases: &[],
    group: Group::Processes,
    usage: "kill NAME [SIGNAL]",
    summary: "send a signal to a process (default SIGTERM)",
    details: "\
kill(2) sends SIGNAL (SIGTERM unless given: SIGKILL, SIGINT, a number, …) to process NAME. A process
that ends has its fds closed by the kernel: a connection it held alone gets its FIN (or a RST when
data was left unread), and the peer sees EOF.
Example:  kill client      kill client SIGKILL",
    args: &[Arg::Text, Arg::Choice(SIGNALS)],
    runs_in: RunsIn::Engine,
    panel: Panel::Shown,
    parse: |args| {
        let (process, _) = args.expect_name("NAME (of a process, see `ps`)")?;
        let signal = match args.take() {
            None => nix::sys::signal::Signal::SIGTERM,
            Some(token) => crate::sys::signal_from_name(&token.text).ok_or_else(|| {
                SyntaxError::new(
                    token.column,
                    format!(
                        "`{}` is not a signal: use e.g. {} or a number",
                        quoted_word(&token.text),
                        SIGNALS.join(", ")
                    ),
                )
            })?,
        };
        Ok(Command::Kill {
            process,
            signal: signal as i32,
        })
    },
    python: |command, _| match command {
        Command::Kill { signal, .. } => Some(format!(
            "os.kill(pid, signal.{})",
            crate::sys::signal_name(*signal)
        )),
        _ => None,
    },
};

pub static EXIT: CommandSpec = CommandSpec {
    name: "exit",
    aliases: &[],
    group: Group::Processes,
    usage: "exit",
    summary: "end the current process (in main: leave sockplay)",
    details: "\
The process calls exit(2): the kernel closes its fds, and main becomes the current process again.
In main, `exit` leaves sockplay, as `quit` does.",
    args: &[],
    runs_in: RunsIn::Session,
    panel: Panel::Shown,
    parse: |_| Ok(Command::Exit),
    python: |command, _| match command {
        Command::Exit => Some("sys.exit(0)".to_string()),
        _ => None,
    },
};

pub static INHERITABLE: CommandSpec = CommandSpec {
    name: "inheritable",
    aliases: &[],
    group: Group::Processes,
    usage: "inheritable SOCK on|off",
    summary: "clear or set FD_CLOEXEC: whether a process started with `spawn` gets the fd",
    details: "\
fcntl(F_SETFD) clears (on) or sets (off) the fd's close-on-exec flag. exec(2) closes every fd that
has it, so only inheritable fds reach a program a process starts (`spawn`). `fork` copies every
fd whatever the flag says.
Example:  inheritable srv on;  spawn worker      (Python: srv.set_inheritable(True))",
    args: &[Arg::Sock, Arg::Choice(Switch::WORDS)],
    runs_in: RunsIn::Session,
    panel: Panel::Hidden,
    parse: |args| {
        let sock = args.expect_sock()?;
        let on = args.expect_word::<Switch>("on or off")? == Switch::On;
        Ok(Command::Inheritable { sock, on })
    },
    python: |command, py| match command {
        Command::Inheritable { sock, on } => Some(format!(
            "{}.set_inheritable({})",
            py.var(sock),
            if *on { "True" } else { "False" }
        )),
        _ => None,
    },
};
