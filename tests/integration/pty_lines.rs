//! The prompt at a real terminal: with `--json`, stdout holds the records and nothing else.

use std::fs::File;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::pty::{open_pty, read_pty_until, spawn_on_pty_with_stdout};

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
