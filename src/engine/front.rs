//! The commands the engine answers itself rather than the session: `source` (a script inside the
//! session), `record` (writing what runs to a replayable script, in `recording.rs`), `!cmd` (a
//! shell command), `help`, `fds`, `ss`, `set` and `quit`; and the processes' own commands (in
//! `processes.rs`).
//! A script is shared and run unread, so these are where it could reach past its sockets: a line
//! typed at the prompt may run `!cmd` and `record FILE`, a script (a file, stdin, `-c`, anything
//! `source` reads) only with --allow-shell, and that is checked when it is parsed; a script's
//! `unlink` removes only the socket files it made.

use std::fmt;
use std::path::Path;

use nix::errno::Errno;

use super::script_files::{read_script, shown, FileError};
use super::shell::{run_shell, ShellEnd};
use super::Engine;
use crate::fdtable::system_listing;
use crate::fdtable::Relations;
use crate::help::help_lines;
use crate::lang::{Command, Script, Setting, SsFilter};
use crate::process::Table;
use crate::render::{panel_lines_across, ss_lines, Change, Elsewhere, PanelOptions, Row};
use crate::session::{seconds, Failure, Outcome};
use crate::text::plural;

/// How deep `source` may nest, so a script that sources itself stops with an error.
const MAX_SOURCE_DEPTH: usize = 8;

/// Why `!` is refused outside the prompt.
const SHELL_REFUSED: &str =
    "`!` runs a shell command: typed at the prompt it always may, a script only with --allow-shell";
/// Why `record FILE` is refused outside the prompt.
pub(super) const RECORD_REFUSED: &str =
    "`record FILE` writes a file: typed at the prompt it always may, a script only with --allow-shell";

/// Why `unlink` of a file the session did not make is refused outside the prompt.
const UNLINK_REFUSED: &str = "a script may unlink only the socket files it made; typed at the prompt, or with --allow-shell, `unlink` removes any socket file";

/// A line a script may not run without --allow-shell (`!cmd`, `record FILE`), found when the
/// script is parsed, before any of its lines ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// How errors name the script: its path, `<stdin>` or `-c`.
    pub source: String,
    pub line: usize,
    pub reason: &'static str,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}",
            crate::text::escape_text(&self.source),
            self.line,
            self.reason
        )
    }
}

/// Checks that `script` holds no line a script may run only with --allow-shell: a shared script
/// runs unread, so it must not run shell commands or write files unless the user said so.
pub fn check_script(script: &Script) -> Result<(), Refusal> {
    let refused = script.lines.iter().find_map(|line| {
        let reason = match &line.command {
            Command::Shell { .. } => SHELL_REFUSED,
            Command::Record { path: Some(_) } => RECORD_REFUSED,
            _ => return None,
        };
        Some((line.line, reason))
    });
    match refused {
        Some((line, reason)) => Err(Refusal {
            source: script.source.clone(),
            line,
            reason,
        }),
        None => Ok(()),
    }
}

/// A file that could not be read or made, as a command's failure.
pub(super) fn file_failure(error: &FileError) -> Failure {
    Failure {
        errno: error.errno(),
        message: error.message(),
        hint: None,
        asked: None,
    }
}

impl Engine {
    /// Answers a command the engine runs itself (its definition says [`RunsIn::Engine`]) about
    /// process `index` (the current one, or the one `NAME:` names), and returns the table it
    /// read, if it read one: `fds` and `ss` show the very table the step ends with. `shown` is
    /// the process whose table the step shows.
    ///
    /// [`RunsIn::Engine`]: crate::lang::RunsIn::Engine
    pub(super) fn run_front(
        &mut self,
        index: usize,
        command: &Command,
        shown: &mut usize,
    ) -> (Outcome, Option<Table>) {
        let mut out = Outcome::default();
        let mut table = None;
        let result = match command {
            Command::Source { path } => self.source(path, &mut out),
            Command::Record { path } => self.record(path.as_deref(), &mut out),
            Command::Shell { command } => self.shell(command, &mut out),
            Command::Help { topic } => help_lines(topic.as_deref(), self.text_width())
                .map(|lines| out.lines.extend(lines))
                .map_err(Failure::usage),
            Command::Fds => self.running_process(index).map(|()| {
                let now = self.table_of(index);
                out.lines.extend(self.fds_lines(index, &now));
                table = Some(now);
            }),
            Command::Ss(filter) => self.running_process(index).and_then(|()| {
                let now = table.insert(self.table_of(index));
                self.ss(filter, now, &mut out)
            }),
            Command::Set(setting) => {
                self.set(setting, &mut out);
                Ok(())
            }
            Command::Sleep { duration } => {
                crate::session::sleep(*duration, self.settings.timeout, &mut out)
            }
            Command::Quit => {
                out.quit = true;
                Ok(())
            }
            Command::Use { .. } | Command::Wait { .. } | Command::Ps | Command::Kill { .. } => {
                self.run_process_command(command, &mut out, shown, &mut table)
            }
            session_command => Err(Failure::usage(format!(
                "`{}` runs in a process, not in the engine",
                session_command.name()
            ))),
        };
        if let Err(failure) = result {
            out.failure = Some(failure);
        }
        (out, table)
    }

    /// Why a session command may not run here, if it may not: a script removes only the socket
    /// files it made, of those that exist (the session does the rest of `unlink`).
    pub(super) fn refusal(&self, command: &Command) -> Option<Failure> {
        match command {
            // What is not there cannot be harmed: the session says ENOENT.
            Command::Unlink { path }
                if !self.may_run_shell()
                    && std::fs::symlink_metadata(path).is_ok()
                    && !self.made_socket_file(path) =>
            {
                Some(Failure::usage(UNLINK_REFUSED))
            }
            _ => None,
        }
    }

    /// Refuses to read the table of process `index` once it has ended.
    fn running_process(&self, index: usize) -> Result<(), Failure> {
        match self.processes.get(index) {
            Some(process) if !process.is_alive() => {
                self.processes.find_alive(&process.name).map(|_| ())
            }
            _ => Ok(()),
        }
    }

    /// Whether the file at `path` is a socket file that a bind of one of the processes made.
    fn made_socket_file(&self, path: &Path) -> bool {
        self.processes
            .list()
            .iter()
            .flat_map(|p| &p.table.view.socket_files)
            .any(|file| file.is_at(path))
    }

    /// `fds`: every open fd of the process, the whole table however tall, its sockets related to
    /// the other processes' as the panel relates them (`↔ client:3`, `≡ child:4`).
    fn fds_lines(&mut self, index: usize, now: &Table) -> Vec<String> {
        let others: Vec<usize> = (0..self.processes.list().len())
            .filter(|&i| i != index && self.processes.list()[i].is_alive())
            .collect();
        self.processes.refresh_all(&others);
        let names = self.all_process_names();
        let list = self.processes.list();
        let relations = Relations::across(
            std::iter::once((index, open_rows(now)))
                .chain(others.iter().map(|&i| (i, open_rows(&list[i].table)))),
        );
        let elsewhere = Elsewhere {
            relations: &relations,
            process: index,
            names: &names,
        };
        let same = Change::Same;
        let rows: Vec<Row> = now.snapshot.rows.iter().map(|r| (r, &same)).collect();
        let pending: Vec<_> = now
            .snapshot
            .pending
            .iter()
            .map(|p| (p.clone(), Change::Same))
            .collect();
        let options = PanelOptions {
            width: self.width(),
            color: false,
            max_rows: None,
            compact: false,
        };
        let mut lines = panel_lines_across(&rows, &pending, &now.view.labels, &options, &elsewhere);
        lines.extend(now.view.own_fds_line());
        lines
    }

    /// `ss`: the system's sockets from the kernel's sock_diag, this process's marked by fd.
    fn ss(&mut self, filter: &SsFilter, now: &Table, out: &mut Outcome) -> Result<(), Failure> {
        let listed = self.observer.with_sock_diag(|sock_diag| {
            system_listing(sock_diag, filter, &now.snapshot, &now.view.labels)
        });
        match listed {
            Ok(listing) => {
                let (listing, note) = self.lesson_only(listing);
                out.lines.extend(ss_lines(&listing));
                out.lines.extend(note);
                Ok(())
            }
            Err(e) => {
                let errno = Errno::from_raw(e.raw_os_error().unwrap_or(Errno::EIO as i32));
                let message = format!("the kernel's socket list (sock_diag): {}", errno.desc());
                Err(Failure::os(errno, message))
            }
        }
    }

    /// `set`: how long calls wait, where the panel goes, whether Python lines show.
    fn set(&mut self, setting: &Setting, out: &mut Outcome) {
        match setting {
            Setting::Timeout(timeout) => {
                self.settings.timeout = *timeout;
                out.say(format!("timeout is {}", seconds(*timeout)));
            }
            Setting::Explain(on) => {
                self.view.explain = *on;
                if *on {
                    out.say("each command now shows the Python line that does the same; the lines run in one Python session after these imports:");
                    out.say(format!(">>> {}", crate::lang::PYTHON_IMPORTS));
                } else {
                    out.say("no more Python lines");
                }
            }
            Setting::Panel(panel) => {
                self.view.panel = *panel;
                self.forget_placement();
                out.say(format!("panel is {}", format!("{panel:?}").to_lowercase()));
            }
            Setting::CompactPanel(compact) => {
                self.compact_panel = *compact;
                out.say(match compact {
                    true => "the panel leaves out fds 0, 1 and 2 while they are unchanged",
                    false => "the panel shows every fd",
                });
            }
        }
    }

    /// Whether the line running now may run `!cmd` and write a file with `record`: a line typed at
    /// the interactive prompt may; a script (a file, stdin, `-c`, and anything `source` reads,
    /// whoever sources it) only with --allow-shell.
    pub(super) fn may_run_shell(&self) -> bool {
        self.view.allow_shell || (self.view.prompt && self.source_depth == 0)
    }

    fn source(&mut self, path: &Path, out: &mut Outcome) -> Result<(), Failure> {
        if self.source_depth >= MAX_SOURCE_DEPTH {
            return Err(Failure::usage(format!(
                "scripts source each other more than {MAX_SOURCE_DEPTH} deep; is one sourcing itself?"
            )));
        }
        let bytes = read_script(path).map_err(|error| {
            let mut failure = file_failure(&error);
            if let FileError::Os { errno, .. } = error {
                failure.hint = self.file_hint(errno, FileUse::Read);
            }
            failure
        })?;
        let script = Script::parse_bytes(&path.display().to_string(), &bytes)
            .map_err(|error| Failure::usage(error.to_string()))?;
        if !self.view.allow_shell {
            check_script(&script).map_err(|refusal| Failure::usage(refusal.to_string()))?;
        }
        let echo = std::mem::replace(&mut self.view.echo, true);
        self.source_depth += 1;
        let ran = self.run_script(&script);
        self.source_depth -= 1;
        self.view.echo = echo;
        if let Err(stop) = ran {
            // Where the sourced script stopped is told as it would be were it replayed alone.
            self.report(&stop.to_string());
            return Err(Failure::usage(format!(
                "{} stopped at its first failure; its sockets stay open here",
                shown(path)
            )));
        }
        out.say(format!(
            "ran {} from {}",
            plural(script.lines.len(), "command"),
            shown(path)
        ));
        Ok(())
    }

    fn shell(&mut self, command: &str, out: &mut Outcome) -> Result<(), Failure> {
        if !self.may_run_shell() {
            return Err(Failure::usage(SHELL_REFUSED));
        }
        let shown_command = crate::text::sanitize_line(command);
        let timeout = self.settings.timeout;
        let run = run_shell(command, timeout).map_err(|errno| {
            let failure = Failure::os(errno, format!("cannot run `{shown_command}`"));
            match errno {
                Errno::EMFILE => failure.with_hint(self.own_table_full("runs shell commands")),
                _ => failure,
            }
        })?;
        for line in &run.lines {
            out.say(crate::text::sanitize_line(line));
        }
        if run.more_lines > 0 {
            out.say(format!("… {}", plural(run.more_lines, "more line")));
        }
        match run.end {
            ShellEnd::Exited(0) => Ok(()),
            ShellEnd::Exited(code) => Err(Failure::usage(format!(
                "`{shown_command}` exited with status {code}"
            ))),
            ShellEnd::Signaled(signal) => Err(Failure::usage(format!(
                "`{shown_command}` was killed by {signal}"
            ))),
            ShellEnd::TimedOut => Err(Failure::os(
                nix::errno::Errno::ETIMEDOUT,
                format!(
                    "`{shown_command}` still ran after {}: sockplay killed it and its process group",
                    crate::session::seconds(timeout)
                ),
            )
            .with_hint("`set timeout SECS` lets commands run longer")),
            // The message says all there is: no socket was waiting, nothing is left to do.
            ShellEnd::Interrupted => Err(Failure {
                hint: None,
                ..Failure::os(
                    nix::errno::Errno::EINTR,
                    format!("interrupted by Ctrl-C: sockplay killed `{shown_command}` and its process group"),
                )
            }),
            ShellEnd::TooMuchOutput(limit) => Err(Failure::usage(format!(
                "`{shown_command}` printed more than {limit}: sockplay stopped reading and killed it and its process group"
            ))),
        }
    }
}

/// A process's rows without sockplay's own fds.
fn open_rows(table: &Table) -> impl Iterator<Item = &crate::fdtable::FdRow> {
    let internal = &table.view.labels.internal;
    table
        .snapshot
        .rows
        .iter()
        .filter(move |row| !internal.contains(&row.fd))
}

/// What sockplay's own process was doing with a file that it could not open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FileUse {
    /// Reading a script (`source`).
    Read,
    /// Making a recording (`record FILE`).
    Create,
}

impl Engine {
    /// The hint for a file the engine could not open with `errno`, read for `source` or made for
    /// `record`: each errno its own cause, and none when there is nothing to add.
    pub(super) fn file_hint(&self, errno: Errno, usage: FileUse) -> Option<String> {
        Some(match (errno, usage) {
            (Errno::ENOENT | Errno::ENOTDIR, FileUse::Read) => {
                "check the path; it is taken relative to the directory sockplay runs in".into()
            }
            (Errno::ENOENT | Errno::ENOTDIR, FileUse::Create) => {
                "check the directory exists; the path is taken relative to the directory sockplay runs in".into()
            }
            (Errno::EACCES | Errno::EPERM, FileUse::Read) => {
                "sockplay may not read it: check the file's permissions".into()
            }
            (Errno::EACCES | Errno::EPERM, FileUse::Create) => {
                "sockplay may not make a file there: check the directory is writable".into()
            }
            (Errno::EEXIST, FileUse::Create) => {
                "choose a new file name, or remove the old file first".into()
            }
            (Errno::EMFILE, FileUse::Read) => self.own_table_full("reads scripts"),
            (Errno::EMFILE, FileUse::Create) => self.own_table_full("writes the recording"),
            (Errno::ENFILE, _) => "the whole system's file table is full (fs.file-max), not only sockplay's: close fds here or in other programs".into(),
            _ => return None,
        })
    }

    /// EMFILE in sockplay's own process (the one that `does` something for the user, and holds
    /// none of the user's sockets): every fd its limit allows is open. Says what holds them —
    /// a channel to each playground process, its sock_diag socket, its standard streams — and
    /// that `ulimit nofile` does not change this process's limit.
    pub(super) fn own_table_full(&self, does: &str) -> String {
        let processes: Vec<&str> = self
            .processes
            .list()
            .iter()
            .filter(|p| p.is_alive())
            .map(|p| p.name.as_str())
            .collect();
        // Each kind of fd with how many there are, in the order of their lowest fd.
        let mut kinds: Vec<(String, usize)> = Vec::new();
        let fds = crate::fdtable::open_fds();
        for fd in &fds {
            let Some(row) = crate::fdtable::inspect_fd(*fd) else {
                continue;
            };
            let kind = match row.kind {
                crate::net::Kind::Socket => format!("{} socket", row.label()),
                crate::net::Kind::Tty => "terminal".to_string(),
                kind => kind_word(kind, &row),
            };
            match kinds.iter_mut().find(|(k, _)| *k == kind) {
                Some((_, count)) => *count += 1,
                None => kinds.push((kind, 1)),
            }
        }
        let held: Vec<String> = kinds
            .iter()
            .map(|(kind, count)| {
                let mut words = plural(*count, kind);
                if kind == "unix/stream socket" && *count == processes.len() {
                    words.push_str(&format!(
                        " (its channels to the processes: {})",
                        processes.join(", ")
                    ));
                } else if kind.starts_with("netlink") {
                    words.push_str(" (sock_diag, to read the kernel's sockets)");
                }
                words
            })
            .collect();
        let limit = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
            .map_or_else(|_| "the".to_string(), |(soft, _)| format!("all {soft}"));
        format!(
            "sockplay's own process, which {does}, has {limit} fds its limit allows open: {}; that limit is the one sockplay started with (`ulimit -n` in its shell), and `ulimit nofile` sets a playground process's limit, not this one's: end a process you no longer need (`kill NAME`), or start sockplay with a higher limit",
            held.join(", ")
        )
    }
}

/// A non-socket fd in words: `pipe`, `file`, `epoll`.
fn kind_word(kind: crate::net::Kind, row: &crate::fdtable::FdRow) -> String {
    match kind {
        crate::net::Kind::Pipe => "pipe".to_string(),
        crate::net::Kind::File => "file".to_string(),
        _ => row.label().into_owned(),
    }
}
