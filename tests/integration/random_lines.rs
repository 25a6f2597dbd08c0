//! 1,500 random command lines built from the language's own words — real command names with
//! plausible and implausible arguments — fed to the real binary: it must never panic, never hang,
//! exit 0, 1 or 2, and never put a raw control byte on stdout.
//!
//! A script stops at its first failing command, and a syntax error anywhere stops it before anything
//! runs. So the lines are not cut into fixed scripts: each worker keeps a queue of its lines and runs
//! the next (up to) [`CHUNK`] of them after a prelude that builds a fresh context (a listener, a
//! connected pair, a UDP socket, a Unix socketpair). Where the run stopped is read back from what it
//! printed (`<stdin>:LINE:`): the lines up to a runtime failure ran and leave the queue; a line with a
//! syntax error is rejected by the parser and leaves the queue alone, and the lines around it are
//! run again. Every line thus either executes or is rejected by the parser, one process per stop.

use std::collections::VecDeque;
use std::time::Duration;

use sockplay::lang::{self, Command, Payload, Setting, COMMANDS, SOCK_OPTS};

use crate::support::Test;

/// How many lines the test generates.
const LINES: usize = 1500;
/// The generator's seed: the same lines on every run.
const SEED: u64 = 0x50c4_f1a7_2024_0001;
/// The most lines one script carries after its prelude.
const CHUNK: usize = 100;
/// Processes running at once: most of their time is spent waiting out 50 ms timeouts.
const WORKERS: usize = 6;
/// The longest any one script may take.
const SCRIPT_LIMIT: Duration = Duration::from_secs(20);
/// The longest wait a generated line may ask for, in ms.
const LONGEST_WAIT_MS: u64 = 50;

/// A fresh context at the top of every script: srv 3 (listening), cli 4 and conn 5 (connected),
/// u 6 (UDP, bound), pa 7 and pb 8 (a Unix socketpair).
const PRELUDE: &[&str] = &[
    "socket tcp as srv",
    "bind srv :0",
    "listen srv",
    "socket tcp as cli",
    "connect cli $srv",
    "accept srv as conn",
    "socket udp as u",
    "bind u :0",
    "socketpair unix stream as pa pb",
];

/// Commands whose effects reach outside the test (a shell, the fd limit, files, other scripts).
const EXCLUDED: &[&str] = &["!", "ulimit", "record", "source"];

/// splitmix64: small, fast, and the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        *self.pick_ref(items)
    }

    fn pick_ref<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Builds lines out of the language's words.
struct Lines {
    rng: Rng,
    pid: u32,
}

impl Lines {
    fn sock(&mut self) -> String {
        match self.rng.below(20) {
            // The prelude's sockets, by name and by fd.
            0..=10 => self
                .rng
                .pick(&[
                    "srv", "cli", "conn", "u", "pa", "pb", "3", "4", "5", "6", "7", "8",
                ])
                .to_string(),
            // Names the lines themselves may have given.
            11..=14 => self.rng.pick(&["s1", "s2", "d1", "ep", "r1"]).to_string(),
            15..=18 => self.rng.below(13).to_string(),
            _ => self
                .rng
                .pick(&[
                    "ghost",
                    "nope",
                    "-1",
                    "99999999999",
                    "3x",
                    "x!",
                    "''",
                    "$srv",
                ])
                .to_string(),
        }
    }

    fn new_name(&mut self) -> String {
        let name = self.rng.pick(&[
            "s1", "s1", "s2", "s2", "s3", "d1", "d1", "f1", "f1", "f2", "ep", "ep", "r1", "r1",
            "srv", "_x", "s-3", "9bad",
        ]);
        format!("as {name}")
    }

    fn maybe_name(&mut self) -> String {
        if self.rng.chance(50) {
            format!(" {}", self.new_name())
        } else {
            String::new()
        }
    }

    fn addr(&mut self) -> String {
        let n = self.rng.below(4);
        let pid = self.pid;
        match self.rng.below(16) {
            0 | 1 => format!("@sockplay-fuzz-{pid}-{n}"),
            2 | 3 => format!("/tmp/sockplay-fuzz-{pid}-{n}.sock"),
            4 => format!("./fuzz-{n}.sock"),
            5 => self
                .rng
                .pick(&[
                    "8080",
                    "host:99999",
                    "[zz]:1",
                    "@",
                    "::1:80",
                    "$9",
                    ":",
                    "[::1",
                ])
                .to_string(),
            _ => self
                .rng
                .pick(&[
                    ":0",
                    "127.0.0.1:1",
                    "127.0.0.1:0",
                    "[::1]:0",
                    "[::1]:1",
                    "localhost:1",
                    "$srv",
                    "$u",
                    "$cli",
                    "$conn",
                    "$s1",
                    "$ghost",
                ])
                .to_string(),
        }
    }

    fn data(&mut self) -> String {
        let pieces = [
            "hello",
            "GET /",
            "a b",
            "x",
            "",
            r"\r\n",
            r"\t",
            r"\0",
            r"\\",
            r#"\""#,
            r"\x41",
            r"\xff",
            r"\x1b[2J",
            "\u{1b}[31m",
            "\u{7}",
            "\u{7f}",
            "\u{202e}",
            "é→日",
            "\t",
            "\r",
            "#",
            ";",
            "'",
        ];
        let body: String = (0..1 + self.rng.below(4))
            .map(|_| self.rng.pick(&pieces))
            .collect();
        match self.rng.below(40) {
            0..=27 => format!("\"{body}\""),
            28..=32 => format!("'{}'", body.replace('\'', "")),
            33..=36 => body.replace([' ', '\t', '\r', '"', '\'', ';', '#'], "_"),
            37 => format!("\"{body}"),
            38 => format!(
                "\"{body}{}\"",
                self.rng.pick(&[r"\q", r"\x4", r"\xzz", "\\"])
            ),
            _ => "--bytes".to_string(),
        }
    }

    fn ms(&mut self) -> String {
        self.rng.pick(&["0", "1", "10", "50"]).to_string()
    }

    fn maybe_number(&mut self, plausible: &[&str]) -> String {
        match self.rng.below(10) {
            0..=3 => String::new(),
            4 => format!(
                " {}",
                self.rng
                    .pick(&["0", "-1", "99999999999", "abc", "1e3", "0x10"])
            ),
            _ => format!(" {}", self.rng.pick(plausible)),
        }
    }

    fn family(&mut self) -> &'static str {
        self.rng.pick(&[
            "tcp",
            "udp",
            "inet stream",
            "inet dgram",
            "inet6 stream",
            "inet6 dgram",
            "unix stream",
            "unix dgram",
            "unix seqpacket",
            "inet raw",
            "tcp",
            "udp",
            "unix stream",
            "inet stream",
            "unix dgram",
            "unix",
            "bluetooth stream",
        ])
    }

    fn file(&mut self) -> &'static str {
        self.rng.pick(&["f1", "f1", "f2", "f2", "ghost", "3"])
    }

    fn socks(&mut self) -> String {
        (0..1 + self.rng.below(3))
            .map(|_| self.sock())
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn option(&mut self) -> String {
        if self.rng.chance(90) {
            let option = self.rng.pick_ref(SOCK_OPTS).name;
            if self.rng.chance(20) {
                option.to_ascii_lowercase()
            } else {
                option.to_string()
            }
        } else {
            self.rng
                .pick(&["SO_REUSEADR", "NODELAY", "SO_NOPE"])
                .to_string()
        }
    }

    fn expect(&mut self) -> String {
        match self.rng.below(12) {
            0 => {
                let state = self.rng.pick(&[
                    "LISTEN",
                    "ESTABLISHED",
                    "CLOSE_WAIT",
                    "close",
                    "UNCONNECTED",
                    "CONNECTED",
                    "ESTABLISED",
                    "TIME_WAIT",
                ]);
                format!("state {} {state}", self.sock())
            }
            1 => format!("fd {} {}", self.sock(), self.rng.below(13)),
            2 => format!("data {}", self.data()),
            3 => "eof".to_string(),
            4 => {
                let errno = self.rng.pick(&[
                    "ETIMEDOUT",
                    "ECONNREFUSED",
                    "EINVAL",
                    "EBADF",
                    "ENOTCONN",
                    "EAGAIN",
                    "eaddrinuse",
                    "EPIPE",
                    "ENOTANERRNO",
                ]);
                format!("error {errno}")
            }
            5 => format!("open {}", self.rng.below(13)),
            6 => format!("closed {}", self.rng.below(13)),
            7 | 8 => format!("output {}", self.data()),
            9 | 10 => format!(
                "state {} {}",
                self.sock(),
                self.rng.pick(&["ESTABLISHED", "LISTEN"])
            ),
            _ => self.rng.pick(&["", "banana", "fd"]).to_string(),
        }
    }

    /// The arguments of `command`, mostly as its usage says.
    fn arguments(&mut self, command: &str) -> String {
        match command {
            "socket" => format!("{}{}", self.family(), self.maybe_name()),
            "socketpair" => {
                let names = match self.rng.below(3) {
                    0 => " as s1 s2",
                    1 => " as s1 s1",
                    _ => "",
                };
                format!("{}{names}", self.family())
            }
            "bind" | "connect" => format!("{} {}", self.sock(), self.addr()),
            "listen" => format!("{}{}", self.sock(), self.maybe_number(&["1", "5", "128"])),
            "accept" | "dup" | "makefile" | "recvfd" => {
                format!("{}{}", self.sock(), self.maybe_name())
            }
            "send" => {
                if self.rng.chance(15) {
                    let n = self.rng.pick(&["1", "100", "65536", "1000000", "0"]);
                    format!("{} --bytes {n}", self.sock())
                } else {
                    format!("{} {}", self.sock(), self.data())
                }
            }
            "recv" | "recvfrom" => {
                let hex = if self.rng.chance(30) { " hex" } else { "" };
                let max = self.maybe_number(&["1", "5", "4096", "16777216"]);
                if self.rng.chance(50) {
                    format!("{}{max}{hex}", self.sock())
                } else {
                    format!("{}{hex}{max}", self.sock())
                }
            }
            "shutdown" => {
                let how = self.rng.pick(&["rd", "wr", "rdwr", "RDWR", "both"]);
                format!("{} {how}", self.sock())
            }
            "sendto" => format!("{} {} {}", self.sock(), self.addr(), self.data()),
            "setsockopt" => {
                let value = self.rng.pick(&[
                    "0", "1", "on", "off", "yes", "true", "4096", "on:1", "on:0", "-1", "abc",
                ]);
                format!("{} {} {value}", self.sock(), self.option())
            }
            "getsockopt" => format!("{} {}", self.sock(), self.option()),
            "nonblock" => format!(
                "{} {}",
                self.sock(),
                self.rng.pick(&["on", "off", "on", "off", "maybe"])
            ),
            "readline" | "flush" => self.file().to_string(),
            "read" => format!("{}{}", self.file(), self.maybe_number(&["1", "10", "4096"])),
            "write" => format!("{} {}", self.file(), self.data()),
            "select" => {
                let mut words = Vec::new();
                if self.rng.chance(70) {
                    words.push(format!("read {}", self.socks()));
                }
                if self.rng.chance(50) {
                    words.push(format!("write {}", self.socks()));
                }
                if self.rng.chance(60) {
                    words.push(format!("timeout {}", self.ms()));
                }
                words.join(" ")
            }
            "poll" => {
                let timeout = if self.rng.chance(60) {
                    format!(" timeout {}", self.ms())
                } else {
                    String::new()
                };
                format!("{}{timeout}", self.socks())
            }
            "epoll" => match self.rng.below(5) {
                0 => format!("create{}", self.maybe_name()),
                1 => {
                    let events = ["", " in", " out", " rdhup", " in out rdhup", " sideways"];
                    let events = self.rng.pick(&events);
                    format!("add {} {}{events}", self.sock(), self.sock())
                }
                2 => format!("del {} {}", self.sock(), self.sock()),
                3 => format!("wait {} timeout {}", self.sock(), self.ms()),
                _ => format!("wait {}", self.sock()),
            },
            "sendfd" => format!("{} {}", self.sock(), self.sock()),
            "ss" => self
                .rng
                .pick(&["", "-t", "-u", "-x", "-l", "-a", "-tln", "-xa", "-q", "t"])
                .to_string(),
            "set" => match self.rng.below(7) {
                0 => format!(
                    "timeout {}",
                    self.rng.pick(&["0", "0.01", "0.05", "-1", "x"])
                ),
                1 => format!("panel {}", self.rng.pick(&["off", "below", "right", "up"])),
                2 | 4 => format!("explain {}", self.rng.pick(&["python", "off", "c"])),
                3 | 5 => format!("panel {}", self.rng.pick(&["off", "below"])),
                _ => "volume 11".to_string(),
            },
            "sleep" => self
                .rng
                .pick(&["0", "1", "10", "50", "0", "1", "-5"])
                .to_string(),
            "help" => match self.rng.below(3) {
                0 => String::new(),
                1 => self.rng.pick_ref(COMMANDS).name.to_string(),
                _ => self
                    .rng
                    .pick(&["sokcet", "addresses", "nothing here"])
                    .to_string(),
            },
            "expect" => self.expect(),
            "fds" | "quit" => String::new(),
            "fileno" | "detach" | "close" | "getsockname" | "getpeername" => self.sock(),
            // A command this generator does not know yet: a few words of every kind.
            _ => format!("{} {} {}", self.sock(), self.addr(), self.data()),
        }
    }

    /// A word of any kind, for implausible lines.
    fn any_word(&mut self) -> String {
        match self.rng.below(8) {
            0 => self.sock(),
            1 => self.addr(),
            2 => self.data(),
            3 => self.option(),
            4 => self.rng.pick_ref(COMMANDS).name.to_string(),
            5 => self
                .rng
                .pick(&["as", "hex", "--bytes", ";", "#", "timeout", "read", "in"])
                .to_string(),
            6 => self
                .rng
                .pick(&["0", "-1", "1e3", "99999999999"])
                .to_string(),
            _ => self.family().to_string(),
        }
    }

    /// One candidate line; may be unsafe to run (see [`is_safe`]).
    fn candidate(&mut self) -> String {
        // The core commands and the checks come up more often than the rest.
        let command = if self.rng.chance(30) {
            self.rng.pick(&[
                "socket", "bind", "listen", "accept", "connect", "send", "recv", "close", "expect",
                "expect",
            ])
        } else {
            self.rng.pick_ref(COMMANDS).name
        };
        // `quit` ends a script early and costs a process: keep it rare.
        if EXCLUDED.contains(&command) || (command == "quit" && self.rng.chance(70)) {
            return self.candidate();
        }
        let mut head = command.to_string();
        if self.rng.chance(5) {
            head = head.to_ascii_uppercase();
        }
        let arguments = self.arguments(command);
        let mut words: Vec<String> = std::iter::once(head)
            .chain(
                arguments
                    .split(' ')
                    .filter(|w| !w.is_empty())
                    .map(String::from),
            )
            .collect();
        // Quoted data may hold blanks: keep the argument text whole unless mutating.
        if !self.rng.chance(8) {
            return format!("{} {arguments}", words[0]).trim_end().to_string();
        }
        match self.rng.below(5) {
            0 if words.len() > 1 => {
                words.pop();
            }
            1 => {
                let at = 1 + self.rng.below(words.len());
                let word = self.any_word();
                words.insert(at, word);
            }
            2 if words.len() > 1 => {
                let at = 1 + self.rng.below(words.len() - 1);
                words[at] = self.any_word();
            }
            3 => {
                let word = self.any_word();
                words.push(word);
            }
            _ => {
                words[0] = self
                    .rng
                    .pick(&["lisen", "sned", "rec", "bnd", "frobnicate"])
                    .into()
            }
        }
        words.join(" ")
    }

    fn line(&mut self) -> String {
        loop {
            let line = self.candidate();
            if is_safe(&line) {
                return line;
            }
        }
    }
}

/// Whether running `line` stays inside the test: no shell, no fd limit, no files written or read,
/// no wait longer than [`LONGEST_WAIT_MS`], no huge pattern.
fn is_safe(line: &str) -> bool {
    let longest = Duration::from_millis(LONGEST_WAIT_MS);
    let short = |timeout: &Option<Duration>| timeout.is_none_or(|t| t <= longest);
    match lang::parse_line(line) {
        Err(_) | Ok(None) => !line.trim_start().starts_with('!'),
        Ok(Some(command)) => match &command {
            Command::Shell { .. }
            | Command::Ulimit { .. }
            | Command::Record { .. }
            | Command::Source { .. } => false,
            Command::Sleep { duration } => *duration <= longest,
            Command::Set(Setting::Timeout(timeout)) => *timeout <= longest,
            Command::Select { timeout, .. }
            | Command::Poll { timeout, .. }
            | Command::EpollWait { timeout, .. } => short(timeout),
            Command::Send {
                payload: Payload::Pattern(n),
                ..
            } => *n <= 1_000_000,
            _ => !EXCLUDED.contains(&command.name()),
        },
    }
}

/// What became of the lines one worker ran.
#[derive(Debug, Default)]
struct Tally {
    executed: usize,
    rejected: usize,
    processes: usize,
}

/// `N` from the first `<stdin>:N:` on stderr: the script line where the run stopped.
fn stop_line(stderr: &str) -> Option<usize> {
    stderr.lines().find_map(|line| {
        let rest = line.strip_prefix("<stdin>:")?;
        rest[..rest.find(':')?].parse().ok()
    })
}

fn assert_no_raw_control_bytes(stdout: &[u8], script: &str) {
    let text = std::str::from_utf8(stdout).unwrap_or_else(|e| {
        panic!("stdout is not UTF-8 ({e}) for the script:\n{script}");
    });
    if let Some((number, line)) = text
        .lines()
        .enumerate()
        .find(|(_, line)| line.chars().any(char::is_control))
    {
        panic!(
            "raw control character on stdout line {}: {line:?}\nfor the script:\n{script}",
            number + 1
        );
    }
}

/// The checks of a `--json` run's stdout. No control character a terminal acts on may appear raw
/// (C0, DEL, C1: sockplay's JSON escapes all of them); and no string sockplay rendered (anything but
/// `input`, the script's own line, whose decoded value is what was typed) may hold a control
/// character other than a newline.
fn assert_json_is_clean(records: &[serde_json::Value], stdout: &[u8], script: &str) {
    assert!(
        !String::from_utf8_lossy(stdout)
            .chars()
            .any(|c| c != '\n' && c.is_control()),
        "a raw control character in --json output for the script:\n{script}"
    );
    fn strings<'a>(value: &'a serde_json::Value, found: &mut Vec<&'a str>) {
        match value {
            serde_json::Value::String(s) => found.push(s),
            serde_json::Value::Array(items) => items.iter().for_each(|v| strings(v, found)),
            serde_json::Value::Object(map) => map.values().for_each(|v| strings(v, found)),
            _ => {}
        }
    }
    for record in records {
        let mut found = Vec::new();
        for (key, value) in record.as_object().expect("a JSON object") {
            if key != "input" {
                strings(value, &mut found);
            }
        }
        if let Some(bad) = found
            .iter()
            .find(|s| s.chars().any(|c| c != '\n' && c.is_control()))
        {
            panic!("a control character in {bad:?} of {record}\nfor the script:\n{script}");
        }
    }
}

/// Runs `lines` (this worker's share) to the end, one process per stop.
fn run_lines(lines: &[String], worker: usize) -> Tally {
    let mut pending: VecDeque<&String> = lines.iter().collect();
    let mut tally = Tally::default();
    while !pending.is_empty() {
        let chunk: Vec<&String> = pending.iter().take(CHUNK).copied().collect();
        let script: String = PRELUDE
            .iter()
            .copied()
            .chain(chunk.iter().map(|l| l.as_str()))
            .map(|l| format!("{l}\n"))
            .collect();
        // Every other run with --json, so both renderings see every kind of line.
        let json = (tally.processes + worker) % 2 == 1;
        let mode: &[&str] = if json {
            &["--json"]
        } else {
            &["--panel", "off"]
        };
        let output = Test::new()
            .args(mode.iter().copied())
            .args(["--timeout", "0.05", "-"])
            .stdin(&script)
            .time_limit(SCRIPT_LIMIT)
            .run_unchecked();
        tally.processes += 1;
        let status = output.status.code();
        assert!(
            matches!(status, Some(0..=2)),
            "exit status not 0, 1 or 2 for the script:\n{script}\n{}",
            output.report()
        );
        let ran = if json {
            let records = output.json();
            assert_json_is_clean(&records, &output.stdout_bytes, &script);
            records.len()
        } else {
            assert_no_raw_control_bytes(&output.stdout_bytes, &script);
            output
                .stdout
                .lines()
                .filter(|l| l.starts_with("sockplay> "))
                .count()
        };
        let at = |line: usize| {
            line.checked_sub(PRELUDE.len() + 1).unwrap_or_else(|| {
                panic!(
                    "the prelude stopped at line {line}:\n{script}\n{}",
                    output.report()
                )
            })
        };
        match status {
            Some(2) => {
                // A syntax error: nothing ran; the bad line leaves, the rest runs again.
                let line = stop_line(&output.stderr)
                    .unwrap_or_else(|| panic!("exit 2 without a location\n{}", output.report()));
                assert_eq!(
                    ran,
                    0,
                    "a script with a syntax error ran\n{}",
                    output.report()
                );
                pending.remove(at(line));
                tally.rejected += 1;
            }
            Some(1) => {
                // A command failed: it and everything before it ran.
                let line = stop_line(&output.stderr)
                    .unwrap_or_else(|| panic!("exit 1 without a location\n{}", output.report()));
                let stopped = at(line);
                assert_eq!(
                    ran,
                    PRELUDE.len() + stopped + 1,
                    "lines echoed vs the failing line {line}\n{script}\n{}",
                    output.report()
                );
                pending.drain(..=stopped);
                tally.executed += stopped + 1;
            }
            _ => {
                // All ran, or a `quit` ended the script early (a quit is not echoed).
                let done = ran.checked_sub(PRELUDE.len()).expect("the prelude ran");
                assert!(
                    done <= chunk.len(),
                    "more commands echoed than given\n{}",
                    output.report()
                );
                let done = if done < chunk.len() {
                    assert!(
                        matches!(lang::parse_line(chunk[done]), Ok(Some(Command::Quit))),
                        "exit 0 after {done} lines, before {:?}\n{}",
                        chunk[done],
                        output.report()
                    );
                    done + 1
                } else {
                    done
                };
                pending.drain(..done);
                tally.executed += done;
            }
        }
    }
    tally
}

fn remove_socket_files(pid: u32) {
    let prefix = format!("sockplay-fuzz-{pid}-");
    if let Ok(entries) = std::fs::read_dir("/tmp") {
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

#[test]
fn random_command_lines_from_the_languages_own_words_neither_panic_nor_hang() {
    let pid = std::process::id();
    remove_socket_files(pid);
    let mut generator = Lines {
        rng: Rng(SEED),
        pid,
    };
    let lines: Vec<String> = (0..LINES).map(|_| generator.line()).collect();
    let commands_used = COMMANDS
        .iter()
        .filter(|spec| !EXCLUDED.contains(&spec.name))
        .filter(|spec| {
            lines.iter().any(|l| {
                l.split(' ')
                    .next()
                    .is_some_and(|w| w.eq_ignore_ascii_case(spec.name))
            })
        })
        .count();
    assert_eq!(
        commands_used,
        COMMANDS.len() - EXCLUDED.len(),
        "every command shows up"
    );

    let tallies: Vec<Tally> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..WORKERS)
            .map(|worker| {
                let share: Vec<String> = lines
                    .iter()
                    .skip(worker)
                    .step_by(WORKERS)
                    .cloned()
                    .collect();
                scope.spawn(move || run_lines(&share, worker))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a worker panicked"))
            .collect()
    });
    remove_socket_files(pid);

    let executed: usize = tallies.iter().map(|t| t.executed).sum();
    let rejected: usize = tallies.iter().map(|t| t.rejected).sum();
    let processes: usize = tallies.iter().map(|t| t.processes).sum();
    eprintln!(
        "{LINES} lines: {executed} executed, {rejected} rejected by the parser, {processes} processes"
    );
    assert_eq!(executed + rejected, LINES);
    // Most lines must really run, or the test exercises only the parser.
    assert!(
        executed * 10 >= LINES * 6,
        "only {executed} of {LINES} lines executed"
    );
}
