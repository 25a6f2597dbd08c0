//! The session's commands: ulimit, ss, source, record, `!`, fds, set, sleep, help and quit, each
//! defined once (its help, its argument grammar and its Python line). Most of them the engine
//! answers itself.

use std::time::Duration;

use super::prelude::*;
use crate::lang::PanelPlacement;
use crate::lang::{Setting, SsFilter};
use crate::net::{words, Words};

/// The resource `ulimit` shows or sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Nofile,
}

words!(Resource {
    "nofile" => Resource::Nofile,
});

/// A flag of `ss`, which picks the sockets it lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SsFlag {
    Tcp,
    Udp,
    Unix,
    Listening,
    All,
}

words!(SsFlag {
    "-t" => SsFlag::Tcp,
    "-u" => SsFlag::Udp,
    "-x" => SsFlag::Unix,
    "-l" => SsFlag::Listening,
    "-a" => SsFlag::All,
});

/// What `set` changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingName {
    Timeout,
    Panel,
    Explain,
}

words!(SettingName {
    "timeout" => SettingName::Timeout,
    "panel" => SettingName::Panel,
    "explain" => SettingName::Explain,
});

// Where `set panel` puts the panel.
words!(PanelPlacement {
    "right" => PanelPlacement::Right,
    "below" => PanelPlacement::Below,
    "off" => PanelPlacement::Off,
});

/// What `set panel` takes: where the panel goes, or whether it leaves out unchanged fds 0-2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PanelWord {
    Place(PanelPlacement),
    Compact,
    Full,
}

words!(PanelWord {
    "right" => PanelWord::Place(PanelPlacement::Right),
    "below" => PanelWord::Place(PanelPlacement::Below),
    "off" => PanelWord::Place(PanelPlacement::Off),
    "compact" => PanelWord::Compact,
    "full" => PanelWord::Full,
});

/// What `set explain` shows under each command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExplainMode {
    Python,
    Off,
}

words!(ExplainMode {
    "python" => ExplainMode::Python,
    "off" => ExplainMode::Off,
});

pub static ULIMIT: CommandSpec = CommandSpec {
    name: "ulimit",
    aliases: &[],
    group: Group::Session,
    usage: "ulimit nofile [N]",
    summary: "show or set the limit on open fds (\"Too many open files\")",
    details: "\
The soft RLIMIT_NOFILE caps fd numbers in this process: once every number below it is taken,
socket and accept fail with EMFILE, the \"Too many open files\" of leaking servers. Lowering it
does not close fds already open.
Example:  ulimit nofile 12",
    args: &[Arg::Choice(Resource::WORDS), Arg::Number],
    runs_in: RunsIn::Session,
    panel: Panel::ShownWhen(|command| matches!(command, Command::Ulimit { limit: Some(_) })),
    parse: |args| {
        let Resource::Nofile = args.expect_word("resource")?;
        let limit = args.optional_number("N", 0..=u64::from(u32::MAX))?;
        Ok(Command::Ulimit { limit })
    },
    python: |command, _| {
        match command {
        Command::Ulimit { limit: None } => {
            Some("resource.getrlimit(resource.RLIMIT_NOFILE)".to_string())
        }
        Command::Ulimit { limit: Some(n) } => Some(format!(
            "resource.setrlimit(resource.RLIMIT_NOFILE, ({n}, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))"
        )),
        _ => None,
    }
    },
};

pub static SS: CommandSpec = CommandSpec {
    name: "ss",
    aliases: &[],
    group: Group::Session,
    usage: "ss [-t] [-u] [-x] [-l] [-a]",
    summary: "the whole system's sockets, like ss, with this process's marked by fd",
    details: "\
Lists sockets the way ss(8) does, from the kernel's sock_diag interface: -t TCP, -u UDP, -x unix,
-l listening only, -a all states (default: connected ones). Rows of this process show their fd;
connections waiting in an accept queue have no fd yet and are shown under their listener.
Example:  ss -tl",
    args: &[Arg::Choice(SsFlag::WORDS)],
    runs_in: RunsIn::Engine,
    panel: Panel::Hidden,
    parse: parse_ss,
    python: |_, _| None,
};

fn parse_ss(args: &mut Args) -> Result<Command, SyntaxError> {
    let mut filter = SsFilter::default();
    while let Some(token) = args.take() {
        let Some(letters) = token.text.strip_prefix('-').filter(|l| !l.is_empty()) else {
            return Err(args.usage_error(
                token.column,
                &format!("`{}` is not a flag", quoted_word(&token.text)),
            ));
        };
        for letter in letters.chars() {
            // ss -n: numbers, not names; sockplay never resolves names anyway.
            if letter == 'n' {
                continue;
            }
            // Flags are lower case, as ss's are (`-T` is not `-t`).
            let flag = Some(letter)
                .filter(char::is_ascii_lowercase)
                .and_then(|letter| SsFlag::from_word(&format!("-{letter}")));
            match flag {
                Some(SsFlag::Tcp) => filter.tcp = true,
                Some(SsFlag::Udp) => filter.udp = true,
                Some(SsFlag::Unix) => filter.unix = true,
                Some(SsFlag::Listening) => filter.listening = true,
                Some(SsFlag::All) => filter.all = true,
                None => {
                    return Err(args.usage_error(
                        token.column,
                        &format!("unknown flag `-{letter}`: use {}", SsFlag::WORDS.join(" ")),
                    ))
                }
            }
        }
    }
    Ok(Command::Ss(filter))
}

pub static SOURCE: CommandSpec = CommandSpec {
    name: "source",
    aliases: &[],
    group: Group::Session,
    usage: "source FILE.sock",
    summary: "run a script's commands in this session",
    details: "\
Parses the whole file first, then runs it here; its sockets stay open afterwards. The file is a
script whoever sources it: its `!` lines and `record FILE` are refused unless sockplay runs with
--allow-shell. Only a regular file is read (not a FIFO or a device), at most 16 MiB.",
    args: &[Arg::Path],
    runs_in: RunsIn::Engine,
    panel: Panel::Hidden,
    parse: |args| {
        Ok(Command::Source {
            path: args.expect_path("FILE")?,
        })
    },
    python: |_, _| None,
};

pub static RECORD: CommandSpec = CommandSpec {
    name: "record",
    aliases: &[],
    group: Group::Session,
    usage: "record FILE.sock | record stop",
    summary: "write the commands you run to a replayable script",
    details: "\
From `record FILE.sock` until `record stop`, every command that runs is appended to FILE.sock, as
typed: port-0 binds and $NAME addresses keep it replayable on any machine. FILE.sock must be a new
file: an existing file (or a symlink) is never truncated or followed. A script may record only
when sockplay runs with --allow-shell.",
    args: &[Arg::Path],
    runs_in: RunsIn::Engine,
    panel: Panel::Hidden,
    parse: |args| {
        if args.eat_keyword("stop") {
            return Ok(Command::Record { path: None });
        }
        Ok(Command::Record {
            path: Some(args.expect_path("FILE")?),
        })
    },
    python: |_, _| None,
};

pub static SHELL: CommandSpec = CommandSpec {
    name: "!",
    aliases: &[],
    group: Group::Session,
    usage: "!COMMAND",
    summary: "run a shell command (interactive; scripts need --allow-shell)",
    details: "\
Runs COMMAND with sh -c, e.g. `!ss -tanp` or `!ls -l /tmp/play.sock`. Like every command it is
bounded: past the session timeout, past 1 MiB of output, or at Ctrl-C, sockplay kills it and its
process group. A script runs `!` lines only with --allow-shell.",
    args: &[Arg::Text],
    runs_in: RunsIn::Engine,
    panel: Panel::Shown,
    parse: |args| match args.rest_text() {
        Some(command) => Ok(Command::Shell { command }),
        None => Err(args.usage_error(args.end_column(), "missing the shell command after `!`")),
    },
    python: |command, _| match command {
        Command::Shell { command } => Some(format!("subprocess.run({command:?}, shell=True)")),
        _ => None,
    },
};

pub static FDS: CommandSpec = CommandSpec {
    name: "fds",
    aliases: &[],
    group: Group::Session,
    usage: "fds",
    summary: "print the whole FD table now",
    details: "\
Prints every open fd of this process: what it is, its addresses, its TCP state and queues. A line
under the table names the fds sockplay holds for its own work in the process (its control channel
and sock_diag socket, and once the table has 32 fds the epoll that tells which sockets changed, at
the top of the fd space), which the table and its count leave out.
RECV-Q and SEND-Q are what `ss` prints: for TCP the bytes not yet read and not yet acknowledged (a
SYN or FIN counts 1), for a listener its accept queue's length and limit, for UDP the memory its
queued datagrams take (NOTE says what one recv returns: `next 3 B`), for Unix sockets the bytes
waiting and, in SEND-Q, the memory of what the peer has not read yet. Rows with `·` for FD are
connections the kernel holds without an fd: `(queued)` in a listener's accept queue, and what a
close left (`(from fd 4)`, `(was fd 4)`: FIN_WAIT1, FIN_WAIT2, LAST_ACK, CLOSING, TIME_WAIT with
its time left), or a connection only an fd in flight holds (sent with `sendfd`, then closed),
counted in no fd count.",
    args: &[],
    runs_in: RunsIn::Engine,
    panel: Panel::Hidden,
    parse: |_| Ok(Command::Fds),
    python: |command, _| match command {
        Command::Fds => Some("os.listdir(\"/proc/self/fd\")".to_string()),
        _ => None,
    },
};

pub static SET: CommandSpec = CommandSpec {
    name: "set",
    aliases: &[],
    group: Group::Session,
    usage: "set timeout SECS | set panel right|below|off|compact|full | set explain python|off",
    summary: "session settings: how long calls wait, where the panel goes, Python side by side",
    details: "\
`set timeout SECS` bounds every blocking call (accept, connect, recv, send on a full buffer): at
the limit a signal cuts the call (the kernel answers EINTR), sockplay reports ETIMEDOUT and the
socket stays usable. `set panel right|below|off` moves or hides the FD panel; `set panel compact`
hides fds 0, 1 and 2 while they are unchanged, `set panel full` shows them again. `set explain
python` shows, under each command, the Python line that makes the same call (`conn, addr =
srv.accept()`).
Example:  set timeout 1.5     set panel below     set panel compact     set explain python",
    // What follows depends on the setting: the usage spells it out.
    args: &[Arg::Choice(SettingName::WORDS)],
    runs_in: RunsIn::Engine,
    panel: Panel::Hidden,
    parse: |args| {
        let setting = match args.expect_word("setting")? {
            SettingName::Timeout => Setting::Timeout(args.expect_seconds()?),
            SettingName::Panel => match args.expect_word("panel setting")? {
                PanelWord::Place(place) => Setting::Panel(place),
                PanelWord::Compact => Setting::CompactPanel(true),
                PanelWord::Full => Setting::CompactPanel(false),
            },
            SettingName::Explain => Setting::Explain(
                args.expect_word::<ExplainMode>("explain mode")? == ExplainMode::Python,
            ),
        };
        Ok(Command::Set(setting))
    },
    python: |_, _| None,
};

pub static SLEEP: CommandSpec = CommandSpec {
    name: "sleep",
    aliases: &[],
    group: Group::Session,
    usage: "sleep MS",
    summary: "pause for MS milliseconds",
    details:
        "Waits MS milliseconds (Ctrl-C cuts it short), e.g. to let a peer act. sockplay waits, \
not a process: it waits as well while the current process is blocked in a call started with `&`.",
    args: &[Arg::Number],
    runs_in: RunsIn::Engine,
    panel: Panel::Shown,
    parse: |args| {
        let ms: u64 = args.expect_number("MS", 0..=600_000)?;
        Ok(Command::Sleep {
            duration: Duration::from_millis(ms),
        })
    },
    python: |command, _| match command {
        Command::Sleep { duration } => Some(format!("time.sleep({})", duration.as_secs_f64())),
        _ => None,
    },
};

pub static HELP: CommandSpec = CommandSpec {
    name: "help",
    aliases: &["?"],
    group: Group::Session,
    usage: "help [COMMAND]",
    summary: "list commands, or explain one",
    details: "`help` lists the commands by group; `help accept` explains one in depth.",
    args: &[Arg::CommandName],
    runs_in: RunsIn::Engine,
    panel: Panel::Hidden,
    parse: |args| {
        Ok(Command::Help {
            topic: args.rest_text(),
        })
    },
    python: |_, _| None,
};

pub static QUIT: CommandSpec = CommandSpec {
    name: "quit",
    aliases: &[],
    group: Group::Session,
    usage: "quit",
    summary: "leave sockplay (its processes and sockets close with it)",
    details: "Ends the session. Every process ends, and the kernel closes every fd still open.",
    args: &[],
    runs_in: RunsIn::Engine,
    panel: Panel::Hidden,
    parse: |_| Ok(Command::Quit),
    python: |_, _| None,
};
