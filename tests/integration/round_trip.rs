//! Record → replay: a session typed at the interactive prompt (a real pseudo-terminal) and
//! recorded with `record FILE` … `record stop` replays from that file with exit status 0 and
//! prints, command for command, what the session printed: the same fds, the same states, the
//! same results. A command that failed in the session is followed in the recording by the
//! `expect error` that lets the replay go past it.
//!
//! The two runs differ where they legitimately must, and only there: the session's fds 0, 1 and
//! 2 are the terminal and the replay's are /dev/null and pipes (those rows of `fds` are left
//! out), and the kernel picks other ports (the shared normaliser numbers them by appearance).

use std::time::Duration;

use regex::Regex;

use crate::pty::{Repl, PROMPT};
use crate::support::Test;
use crate::transcript::{line_diff, settle_left_fins, Normaliser};

/// The session: each line typed and a piece of its output to wait for. `bind other $srv` fails
/// with EADDRINUSE; at the prompt the session goes on.
const SESSION: [(&str, &str); 13] = [
    ("socket tcp as srv", ") = 3"),
    ("bind srv 127.0.0.1:0", "bound to"),
    ("listen srv", "listen(3, 128) = 0"),
    ("socket tcp as other", ") = 4"),
    ("bind other $srv", "EADDRINUSE"),
    ("socket tcp as cli", ") = 5"),
    ("connect cli $srv", "connected from"),
    ("accept srv as conn", "accept(3) = 6"),
    ("send cli \"hello\\r\\n\"", ") = 7"),
    ("recv conn", "hello"),
    ("close cli", "close(5) = 0"),
    ("expect state conn CLOSE_WAIT", "CLOSE_WAIT"),
    ("fds", "SEND-Q"),
];

/// The check the recording adds after the failed `bind other $srv`.
const ADDED_CHECK: &str = "expect error EADDRINUSE";

/// What the terminal showed after Enter, as the command's output: the line editor's echo (the
/// text before the first newline) and every escape sequence removed, CR LF read as LF.
fn command_output(shown: &str) -> String {
    let after_enter = shown.split_once('\n').map_or("", |(_, rest)| rest);
    let escapes = Regex::new(r"\x1b\[[0-9;?]*[@-~]|\x1b.").expect("pattern");
    escapes
        .replace_all(after_enter, "")
        .replace("\r\n", "\n")
        .trim_end_matches('\r')
        .to_string()
}

/// The replay's stdout cut into (command, output) pairs at its `sockplay> ` echo lines.
fn replayed_steps(stdout: &str) -> Vec<(String, String)> {
    let mut steps: Vec<(String, String)> = Vec::new();
    for line in stdout.split_inclusive('\n') {
        match line.strip_prefix(PROMPT) {
            Some(command) => steps.push((command.trim_end().to_string(), String::new())),
            None => match steps.last_mut() {
                Some((_, output)) => output.push_str(line),
                None => panic!("output before the first command: {line:?}"),
            },
        }
    }
    steps
}

/// The steps as one transcript, with the rows of fds 0, 1 and 2 left out of tables and the
/// kernel's numbers normalised.
fn comparable(steps: &[(String, String)]) -> String {
    let stdio_row = Regex::new(r"(?m)^[ +~-] +[012]  .*\n").expect("pattern");
    let text: String = steps
        .iter()
        .map(|(command, output)| format!("{PROMPT}{command}\n{output}"))
        .collect();
    settle_left_fins(&Normaliser::new().normalise(&stdio_row.replace_all(&text, "")))
}

#[test]
fn a_recorded_interactive_session_replays_to_the_same_fds_states_and_output() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let recording = dir.path().join("session.sock");

    let mut repl = Repl::spawn_with(200, 50, &["--panel", "off"]);
    repl.expect(PROMPT);
    repl.step(&format!("record {}", recording.display()), "recording to");
    let mut session = Vec::new();
    for (line, needle) in SESSION {
        let output = command_output(&repl.step(line, needle));
        session.push((line.to_string(), output));
    }
    let stopped = command_output(&repl.step("record stop", "recorded"));
    assert_eq!(
        stopped,
        format!(
            "recorded {} commands in {}\n",
            SESSION.len() + 1,
            recording.display()
        )
    );
    repl.control('d');
    assert_eq!(
        repl.exit_status(Duration::from_secs(5)).code(),
        Some(0),
        "Ctrl-D ends the session"
    );

    let text = std::fs::read_to_string(&recording).expect("read the recording");
    let commands: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    let mut typed: Vec<&str> = SESSION.iter().map(|(line, _)| *line).collect();
    typed.insert(5, ADDED_CHECK);
    assert_eq!(commands, typed, "the recording:\n{text}");

    // The session's terminal is 200 columns wide; long hints wrap at the same width in the replay.
    let replay = Test::new()
        .env("COLUMNS", "200")
        .args(["--panel", "off"])
        .arg(&recording)
        .stderr_is("")
        .run();
    let mut replayed = replayed_steps(&replay.stdout);
    let added = replayed.remove(5);
    assert_eq!(
        added,
        (
            ADDED_CHECK.to_string(),
            "✓ bind failed with EADDRINUSE\n".to_string()
        ),
        "{}",
        replay.report()
    );
    let (session, replayed) = (comparable(&session), comparable(&replayed));
    if let Some(diff) = line_diff(&session, &replayed) {
        panic!("the replay does not print what the session did (- session, + replay):\n{diff}");
    }
    // What both printed: the fds and states the session built, not empty blocks (then the line
    // that names sockplay's own fds).
    assert!(
        session.contains("accept(3) = 6  peer 127.0.0.1:P2\n"),
        "{session}"
    );
    let table = session
        .trim_end_matches('\n')
        .rsplit_once('\n')
        .filter(|(_, last)| last.starts_with("(sockplay's own: "))
        .map_or(session.as_str(), |(table, _)| table);
    assert!(
        format!("{table}\n").ends_with(
            "   3  srv         tcp   127.0.0.1:P1  -                    LISTEN                  0     128\n\
             \x20  4  other       tcp   -             -                    CLOSE                   0       0\n\
             \x20  ·  (was fd 5)  tcp   127.0.0.1:P2  127.0.0.1:P1 ↔ fd 6  FIN_WAIT2 Ts left       0       0\n\
             \x20  6  conn        tcp   127.0.0.1:P1  127.0.0.1:P2         CLOSE_WAIT              1       0\n"
        ),
        "{session}"
    );
    assert!(
        session.contains("\n(sockplay's own: fd "),
        "`fds` names sockplay's own fds: {session}"
    );
}

/// The prompt in process `name`.
fn prompt_in(name: &str) -> String {
    match name {
        "main" => PROMPT.to_string(),
        name => format!("sockplay[{name}]> "),
    }
}

/// Types `line` in the session, waits for `needle` and then for the prompt of process `then`;
/// returns what the command printed.
fn typed(repl: &mut crate::pty::Repl, line: &str, needle: &str, then: &str) -> String {
    repl.enter(line);
    let before = repl.expect(needle);
    let after = repl.expect(&prompt_in(then));
    command_output(&format!("{before}{needle}{after}"))
}

/// The output of the replay's command `command` (the last one so typed), cut at its echo line.
fn replayed_output(stdout: &str, command: &str) -> String {
    let echo = Regex::new(r"^sockplay(\[[a-z0-9_-]+\])?> (.*)$").expect("pattern");
    let mut steps: Vec<(String, String)> = Vec::new();
    for line in stdout.split_inclusive('\n') {
        match echo.captures(line.trim_end()) {
            Some(captures) => steps.push((captures[2].to_string(), String::new())),
            None => {
                if let Some((_, output)) = steps.last_mut() {
                    output.push_str(line);
                }
            }
        }
    }
    steps
        .into_iter()
        .rev()
        .find(|(typed, _)| typed == command)
        .map(|(_, output)| output)
        .unwrap_or_else(|| panic!("the replay ran no `{command}`:\n{stdout}"))
}

/// A table as both runs show it: without the rows of fds 0, 1 and 2, the kernel's numbers
/// normalised.
fn comparable_table(output: &str) -> String {
    let stdio_row = Regex::new(r"(?m)^[ +~-] +[012]  .*\n").expect("pattern");
    Normaliser::new().normalise(&stdio_row.replace_all(output, ""))
}

#[test]
fn a_recorded_session_with_processes_replays_in_the_same_processes() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let recording = dir.path().join("processes.sock");
    let refused = format!("127.0.0.1:{}", crate::support::closed_port());
    let connect_refused = format!("connect c2 {refused} &");

    let mut repl = Repl::spawn_with(200, 50, &["--panel", "off"]);
    repl.expect(PROMPT);
    repl.step(&format!("record {}", recording.display()), "recording to");
    // (line, what its output shows, the process current after it)
    let session: Vec<(&str, &str, &str)> = vec![
        ("spawn client", "starts with fds", "main"),
        ("socket tcp as srv", ") = 3", "main"),
        ("bind srv 127.0.0.1:0", "bound to", "main"),
        ("listen srv", "listen(3, 128) = 0", "main"),
        ("accept srv as conn &", "in the background", "main"),
        ("client: socket tcp as c", ") = 3", "main"),
        ("client: connect c $srv", "connected from", "main"),
        // The accept's result shows at the prompt or here, whichever comes first.
        ("wait", "", "main"),
        ("use client", "is the current process", "client"),
        ("send c \"hello\"", ") = 5", "client"),
        ("socket tcp as c2", ") = 4", "client"),
        // Refused in the background: the failure surfaces at its `wait`.
        (&connect_refused, "in the background", "client"),
        ("wait", "", "client"),
        ("use main", "is the current process", "main"),
        ("recv conn", "hello", "main"),
        ("client: fds", "SEND-Q", "main"),
        ("fds", "SEND-Q", "main"),
    ];
    let mut tables = Vec::new();
    for (line, needle, then) in &session {
        let output = typed(&mut repl, line, needle, then);
        if line.ends_with("fds") {
            tables.push(output);
        }
    }
    repl.step("record stop", "recorded");
    repl.control('d');
    assert_eq!(repl.exit_status(Duration::from_secs(5)).code(), Some(0));

    // Every command as typed, each in the process it ran in: a `wait` for each call in the
    // background (written `wait NAME` when its result showed at the prompt first), and the
    // refused connect's `expect error` after its `wait`.
    let text = std::fs::read_to_string(&recording).expect("read the recording");
    let commands: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| match l {
            "wait main" | "wait client" => "wait",
            l => l,
        })
        .collect();
    let mut expected: Vec<&str> = session.iter().map(|(line, _, _)| *line).collect();
    expected.insert(13, "expect error ECONNREFUSED");
    assert_eq!(commands, expected, "the recording:\n{text}");
    let waits: Vec<&str> = text.lines().filter(|l| l.starts_with("wait")).collect();
    assert!(
        matches!(
            waits.as_slice(),
            ["wait" | "wait main", "wait" | "wait client"]
        ),
        "{text}"
    );

    let replay = Test::new()
        .env("COLUMNS", "200")
        .args(["--panel", "off"])
        .arg(&recording)
        .stderr_is("")
        .run();
    assert!(
        replay.stdout.contains("✓ wait failed with ECONNREFUSED\n"),
        "{}",
        replay.report()
    );
    // The same fds in each process: the client's c (3) and c2 (4), main's srv (3) and conn (4).
    let replayed = [
        replayed_output(&replay.stdout, "client: fds"),
        replayed_output(&replay.stdout, "fds"),
    ];
    for (session, replayed) in tables.iter().zip(&replayed) {
        let (session, replayed) = (comparable_table(session), comparable_table(replayed));
        if let Some(diff) = line_diff(&session, &replayed) {
            panic!("the replay's table differs (- session, + replay):\n{diff}");
        }
    }
    let client = comparable_table(&tables[0]);
    assert!(client.contains("\n   3  c     tcp"), "{client}");
    assert!(client.contains("\n   4  c2    tcp"), "{client}");
    let main = comparable_table(&tables[1]);
    assert!(main.contains("\n   3  srv   tcp"), "{main}");
    assert!(main.contains("\n   4  conn  tcp"), "{main}");
}

#[test]
fn a_recording_begun_in_another_process_starts_by_switching_to_it() {
    let output = Test::new()
        .args(["--allow-shell", "--panel", "off"])
        .script("spawn client\nuse client\nrecord rec.sock\nsocket tcp as s\nrecord stop\n")
        .run();
    let text = std::fs::read_to_string(output.dir.path().join("rec.sock")).expect("recording");
    let commands: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(commands, ["use client", "socket tcp as s"], "{text}");
    assert!(
        output.stdout.contains("recorded 2 commands in rec.sock"),
        "{}",
        output.report()
    );
}

#[test]
fn a_call_cut_by_ctrl_c_is_recorded_so_that_the_script_replays_with_the_same_timeout() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let recording = dir.path().join("cut.sock");
    let mut repl = Repl::spawn_with(200, 50, &["--panel", "off", "--timeout", "0.5"]);
    repl.expect(PROMPT);
    repl.step(&format!("record {}", recording.display()), "recording to");
    repl.step("socket udp as u", ") = 3");
    repl.step("bind u :0", "bound to");
    repl.step("set timeout 30", "timeout is 30 s");
    repl.enter("recv u");
    repl.expect("\n");
    std::thread::sleep(Duration::from_millis(300));
    repl.control('c');
    repl.expect("Ctrl-C cut the wait");
    repl.expect(PROMPT);
    repl.step("set timeout 0.5", "timeout is 0.5 s");
    repl.step("socket tcp as l", ") = 4");
    repl.step("bind l :0", "bound to");
    repl.step("listen l", "listen(4");
    repl.step("accept l &", "in the background");
    std::thread::sleep(Duration::from_millis(100));
    repl.control('c');
    repl.expect("Ctrl-C cut the wait");
    repl.expect(PROMPT);
    repl.step("record stop", "recorded");
    repl.control('d');
    assert_eq!(repl.exit_status(Duration::from_secs(5)).code(), Some(0));

    let text = std::fs::read_to_string(&recording).expect("read the recording");
    let lines: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(
        lines,
        [
            "set timeout 0.5",
            "socket udp as u",
            "bind u :0",
            "set timeout 30",
            "# recv u   (cut by Ctrl-C: it did nothing, and is not replayed)",
            "set timeout 0.5",
            "socket tcp as l",
            "bind l :0",
            "listen l",
            "accept l &",
            "wait main",
            "# main's call was cut by Ctrl-C; replayed, it ends at the timeout instead",
            "expect error ETIMEDOUT",
        ],
        "{text}"
    );
    Test::new()
        .args(["--panel", "off"])
        .script(text)
        .stdout_contains("ETIMEDOUT")
        .run();
}
