//! What a command-line tool owes its users beyond its own work: `--json` puts JSON and nothing
//! else on stdout in every mode (the prompt's side is in `pty_lines`).

use crate::support::{Output, Test};

/// The commands each JSON mode runs, and the input each record must carry, in order.
const COMMANDS: [&str; 3] = ["socket tcp as srv", "bind srv :0", "listen srv"];

/// Every stdout line is a JSON object, one per command, in order.
fn assert_records_only(output: &Output, inputs: &[&str]) {
    let records = output.json();
    let seen: Vec<&str> = records
        .iter()
        .map(|record| record["input"].as_str().unwrap_or("<no input>"))
        .collect();
    assert_eq!(seen, inputs, "{}", output.report());
}

#[test]
fn json_replaying_a_file_prints_only_records_on_stdout() {
    let output = Test::new().arg("--json").script(COMMANDS.join("\n")).run();
    assert_records_only(&output, &COMMANDS);
}

#[test]
fn json_with_c_prints_only_records_on_stdout() {
    let output = Test::new()
        .args(["--json", "-c", &COMMANDS.join("; ")])
        .run();
    assert_records_only(&output, &COMMANDS);
}

#[test]
fn json_from_stdin_prints_only_records_on_stdout() {
    let output = Test::new()
        .args(["--json", "-"])
        .stdin(COMMANDS.join("\n"))
        .run();
    assert_records_only(&output, &COMMANDS);
}

#[test]
fn json_tutorial_narration_goes_to_stderr_and_stdout_holds_only_records() {
    let output = Test::new()
        .args(["--json", "--tutorial", "sockets-are-fds", "--auto"])
        .stderr_contains("Sockets are file descriptors")
        .stderr_contains("── step 1/5 ──")
        .run();
    let records = output.json();
    assert_eq!(
        records.first().map(|r| r["input"].clone()),
        Some("socket tcp as first".into()),
        "{}",
        output.report()
    );
    assert!(
        records.iter().all(|r| r["ok"] == true),
        "{}",
        output.report()
    );
}

#[test]
fn json_tutorial_list_goes_to_stderr() {
    Test::new()
        .args(["--json", "--tutorial"])
        .stdout_is("")
        .stderr_contains("sockets-are-fds")
        .run();
}
