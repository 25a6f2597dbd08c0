//! Where the prompt's lines come from, at a real terminal: lines typed while a command runs and a
//! pasted block both run, one by one, in order; a call that waits longer than a moment says what
//! it waits for, and Ctrl-C leaves the layout where it was; with `--json`, stdout holds the
//! records and nothing else. The screen is read as a terminal would draw it ([`Screen`]).

use std::fs::File;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::pty::{open_pty, read_pty_until, spawn_on_pty_with_stdout, Repl, PROMPT};

/// The rows a terminal shows for what a program wrote: enough of a terminal to follow the line
/// editor's redraws (carriage return, erase to the end of the line, cursor forward and back) and
/// the output after them, one column per character.
#[derive(Debug, Default)]
struct Screen {
    rows: Vec<Vec<char>>,
    row: usize,
    column: usize,
}

impl Screen {
    /// The screen after `written`.
    fn of(written: &str) -> Screen {
        let mut screen = Screen::default();
        screen.write(written);
        screen
    }

    fn write(&mut self, written: &str) {
        let mut chars = written.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\x1b' if chars.peek() == Some(&'[') => {
                    chars.next();
                    let mut parameters = String::new();
                    let mut last = None;
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            last = Some(c);
                            break;
                        }
                        parameters.push(c);
                    }
                    self.control(last, &parameters);
                }
                '\x1b' => {
                    chars.next();
                }
                '\r' => self.column = 0,
                '\n' => self.row += 1,
                '\x08' => self.column = self.column.saturating_sub(1),
                c if c.is_control() => {}
                c => {
                    let column = self.column;
                    let row = self.line();
                    if row.len() <= column {
                        row.resize(column + 1, ' ');
                    }
                    row[column] = c;
                    self.column += 1;
                }
            }
        }
    }

    /// A CSI sequence: cursor moves and erasing; colours and modes change nothing here.
    fn control(&mut self, last: Option<char>, parameters: &str) {
        let count = parameters.parse::<usize>().unwrap_or(1).max(1);
        match last {
            Some('C') => self.column += count,
            Some('D') => self.column = self.column.saturating_sub(count),
            Some('A') => self.row = self.row.saturating_sub(count),
            Some('B') => self.row += count,
            Some('K') => {
                let column = self.column;
                self.line().truncate(column);
            }
            Some('J') => {
                let column = self.column;
                self.line().truncate(column);
                self.rows.truncate(self.row + 1);
            }
            _ => {}
        }
    }

    fn line(&mut self) -> &mut Vec<char> {
        if self.rows.len() <= self.row {
            self.rows.resize(self.row + 1, Vec::new());
        }
        &mut self.rows[self.row]
    }

    /// The rows, trailing blanks cut.
    fn lines(&self) -> Vec<String> {
        self.rows
            .iter()
            .map(|row| row.iter().collect::<String>().trim_end().to_string())
            .collect()
    }
}

/// The index of the first line at or after `from` that satisfies `wanted`, or a failure that
/// shows the screen.
fn find(lines: &[String], from: usize, what: &str, wanted: impl Fn(&str) -> bool) -> usize {
    lines
        .iter()
        .skip(from)
        .position(|line| wanted(line))
        .map(|at| from + at)
        .unwrap_or_else(|| panic!("no line {what} after line {from}: {lines:#?}"))
}

/// The socket call line for a TCP socket that got `fd`.
fn made(fd: i32) -> String {
    format!("socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = {fd}")
}

/// Checks that each of `lines` shows at a prompt of its own, in order, with its result after it
/// and before the next prompt: `socket tcp as a` → fd 3, `b` → 4, `c` → 5.
fn assert_ran_in_order(screen: &[String], from: usize, names: &[&str]) {
    let mut at = from;
    for (name, fd) in names.iter().zip(3..) {
        let typed = format!("{PROMPT}socket tcp as {name}");
        let prompt = find(screen, at, &format!("{typed:?}"), |line| line == typed);
        let result = find(screen, prompt + 1, &made(fd), |line| {
            line.starts_with(&made(fd))
        });
        assert!(
            !screen[prompt + 1..result]
                .iter()
                .any(|line| line.starts_with(PROMPT)),
            "{name}'s result is not right after its prompt: {screen:#?}"
        );
        at = result + 1;
    }
}

/// The fds from 3 on are named `names`: the lines ran, in that order.
fn assert_named_in_order(repl: &mut Repl, names: &[&str]) {
    let shown = repl.step("fds", &format!("open fds: {}", 3 + names.len()));
    for (fd, name) in (3..).zip(names) {
        let row = format!(r"\b{fd}\s+{name}\s+tcp\b");
        let row = regex::Regex::new(&row).expect("a regex");
        assert!(row.is_match(&shown), "no row {fd} {name}: {shown}");
    }
}

#[test]
fn three_lines_typed_during_sleep_all_run_in_order() {
    let mut repl = Repl::start();
    repl.enter("sleep 2000");
    let mut written = repl.expect("\n") + "\n";
    std::thread::sleep(Duration::from_millis(200));
    let typed = Instant::now();
    repl.type_keys("socket tcp as a\rsocket tcp as b\rsocket tcp as c\r");
    written += &repl.expect("slept 2000 ms");
    assert!(
        typed.elapsed() > Duration::from_millis(500),
        "the lines were not typed while sleep ran"
    );
    written += "slept 2000 ms";
    for fd in 3..=5 {
        written += &repl.expect(&made(fd));
        written += &made(fd);
    }
    written += &repl.expect(PROMPT);
    let screen = Screen::of(&written).lines();
    // The terminal echoed the lines as they were typed, during sleep; then each ran at its
    // prompt, with its output, as in a shell.
    let slept = find(&screen, 0, "slept", |line| {
        line.starts_with("slept 2000 ms")
    });
    assert_eq!(
        screen[slept - 3..slept],
        ["socket tcp as a", "socket tcp as b", "socket tcp as c"],
        "{screen:#?}"
    );
    assert_ran_in_order(&screen, slept, &["a", "b", "c"]);
    assert_named_in_order(&mut repl, &["a", "b", "c"]);
}

#[test]
fn a_pasted_block_of_three_commands_runs_three_commands_line_by_line() {
    let mut repl = Repl::start();
    // A bracketed paste, as a terminal sends one once the editor asked for it; a Tab in it is
    // text (no completion), and its last line, with no line end, waits to be finished.
    repl.type_keys(
        "\x1b[200~socket tcp as a\rsocket\ttcp as b\r\nsocket tcp as c\rsocket tcp as \x1b[201~",
    );
    let mut written = String::new();
    for fd in 3..=5 {
        written += &repl.expect(&made(fd));
        written += &made(fd);
    }
    written += &repl.expect(PROMPT);
    written += PROMPT;
    written += &repl.expect("socket tcp as ");
    written += "socket tcp as ";
    let screen = Screen::of(&written).lines();
    // The Tab was inserted as text: the line echoed at its prompt holds it escaped.
    let screen: Vec<String> = screen
        .into_iter()
        .map(|line| line.replace("socket\\ttcp", "socket tcp"))
        .collect();
    assert_ran_in_order(&screen, 0, &["a", "b", "c"]);
    // CR LF ended one line, not two: no empty prompt between b and c.
    assert!(
        !screen.iter().any(|line| line == PROMPT.trim_end()),
        "an empty line ran: {screen:#?}"
    );
    // The unfinished last line is on the prompt, to be edited.
    repl.enter("d");
    repl.expect(&made(6));
    repl.expect(PROMPT);
    assert_named_in_order(&mut repl, &["a", "b", "c", "d"]);
}

#[test]
fn a_long_wait_says_what_it_waits_for_and_ctrl_c_leaves_the_layout_in_place() {
    let mut repl = Repl::start();
    repl.listener();
    let port = repl.step("getsockname srv", "127.0.0.1:");
    let port: String = port
        .split("127.0.0.1:")
        .nth(1)
        .unwrap_or_default()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    repl.run("set timeout 30", "timeout is 30 s");

    // A call that returns at once says nothing about waiting.
    repl.run("socket tcp as cli", "= 4");
    repl.run("connect cli $srv", "connect(4, ");
    let quick = repl.step("accept srv", "accept(3) = 5");
    assert!(!quick.contains("waits for"), "{quick}");

    repl.enter("accept srv");
    let notice =
        format!("… accept(3) waits for a connection on 127.0.0.1:{port} — Ctrl-C stops it");
    let mut written = repl.expect(&notice);
    written += &notice;
    repl.control('c');
    written += &repl.expect("EINTR");
    written += "EINTR";
    written += &repl.expect(PROMPT);
    let screen = Screen::of(&written).lines();
    let told = find(&screen, 0, "the notice", |line| line == notice);
    // The output starts at the left edge on the next line, `^C` gone, ...
    let call = "accept(3) = -1 EINTR (Interrupted system call)  Ctrl-C cut the wait";
    assert!(
        screen[told + 1].starts_with(call),
        "the step does not start at the left edge under the notice: {screen:#?}"
    );
    // ... and the panel beside it keeps one left edge on every line.
    let edges: Vec<usize> = screen[told + 1..]
        .iter()
        .filter_map(|line| line.chars().position(|c| c == '│'))
        .collect();
    assert!(edges.len() > 4, "no panel beside the output: {screen:#?}");
    assert!(
        edges.iter().all(|&edge| edge == edges[0]),
        "the panel's left edge moves: {edges:?}\n{screen:#?}"
    );
}

/// Reads what is written to `pipe` until it closes, on a thread, so the writer never blocks.
fn read_all(mut pipe: std::io::PipeReader) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut pipe, &mut text);
        text
    })
}

#[test]
fn json_at_a_terminal_prints_records_only_on_stdout_and_the_prompt_on_the_terminal() {
    use std::io::Write;
    let state = tempfile::tempdir().expect("temporary directory");
    let (master, slave) = open_pty(120, 40);
    let (reader, writer) = std::io::pipe().expect("pipe");
    let mut child = spawn_on_pty_with_stdout(slave, Stdio::from(writer), state.path(), &["--json"]);
    let stdout = read_all(reader);
    let mut master = File::from(master);
    let mut seen = Vec::new();
    // The editor asks for bracketed paste each time it starts reading a line: the command before
    // has finished (the prompt's text alone also shows in the redraws while a line is typed).
    let reading = "\x1b[?2004h";
    let mut at = read_pty_until(&mut master, &mut seen, 0, reading);
    for (line, needle) in [
        ("socket tcp as srv", reading),
        ("bind srv :0", reading),
        ("listen srv", reading),
        ("set timeout 1", reading),
        // Waits a second: no notice at a JSON prompt.
        ("accept srv", reading),
        ("nonsense", "error: unknown command `nonsense`"),
    ] {
        master
            .write_all(format!("{line}\r").as_bytes())
            .expect("type a line");
        at = read_pty_until(&mut master, &mut seen, at, needle);
    }
    read_pty_until(&mut master, &mut seen, at, reading);
    master.write_all(b"\x04").expect("Ctrl-D");
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().expect("waitpid") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("sockplay did not exit on Ctrl-D");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
    let terminal = String::from_utf8_lossy(&seen).into_owned();
    let stdout = stdout.join().expect("the reader thread");
    let inputs: Vec<String> = stdout
        .lines()
        .map(|line| {
            let record: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {line:?}\nstdout: {stdout}"));
            record["input"].as_str().unwrap_or_default().to_string()
        })
        .collect();
    assert_eq!(
        inputs,
        [
            "socket tcp as srv",
            "bind srv :0",
            "listen srv",
            "set timeout 1",
            "accept srv"
        ],
        "stdout: {stdout}"
    );
    // The banner, the prompt and the error are the terminal's.
    assert!(terminal.contains("Ctrl-D to quit"), "{terminal}");
    assert!(!terminal.contains("waits for"), "{terminal}");
}
