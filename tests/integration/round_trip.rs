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
use crate::transcript::{line_diff, Normaliser};

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
    Normaliser::new().normalise(&stdio_row.replace_all(&text, ""))
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
    // What both printed: the fds and states the session built, not empty blocks.
    assert!(
        session.contains("accept(3) = 6  peer 127.0.0.1:P2\n"),
        "{session}"
    );
    assert!(
        session.ends_with(
            "   3  srv    tcp   127.0.0.1:P1  -             LISTEN           0     128\n\
             \x20  4  other  tcp   -             -             CLOSE            0       0\n\
             \x20  6  conn   tcp   127.0.0.1:P1  127.0.0.1:P2  CLOSE_WAIT       0       0\n"
        ),
        "{session}"
    );
}
