//! What a command-line tool owes its users beyond its own work: `--json` puts JSON and nothing
//! else on stdout in every mode (the prompt's side is in `pty_lines`), shell completion scripts a
//! shell accepts, and a manual page that renders every option.

use std::process::{Command, Stdio};

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

/// Runs `sockplay ARGS` and returns its stdout, checking it exits 0 with nothing on stderr.
fn printed(args: &[&str]) -> String {
    let output = Test::new().args(args).stderr_is("").run();
    output.stdout
}

#[test]
fn bash_completion_script_is_valid_bash_and_completes_the_options() {
    let script = printed(&["completions", "bash"]);
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("sockplay.bash");
    std::fs::write(&path, &script).expect("write the script");
    let checked = Command::new("bash")
        .arg("-n")
        .arg(&path)
        .output()
        .expect("run bash -n");
    assert!(
        checked.status.success(),
        "bash -n: {}\n{script}",
        String::from_utf8_lossy(&checked.stderr)
    );
    // Loaded into bash, it completes `sockplay --ti` to `--tutorial`, and `--panel` to its places.
    let complete = |line: &str| -> String {
        let words: Vec<&str> = line.split(' ').collect();
        let program = format!(
            "source {path}; COMP_WORDS=({words}); COMP_CWORD={cword}; COMP_LINE='{line}'; \
             COMP_POINT={point}; _sockplay sockplay '{current}' '{previous}'; \
             printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            path = path.display(),
            words = words
                .iter()
                .map(|w| format!("'{w}'"))
                .collect::<Vec<_>>()
                .join(" "),
            cword = words.len() - 1,
            point = line.len(),
            current = words[words.len() - 1],
            previous = words[words.len() - 2],
        );
        let output = Command::new("bash")
            .args(["-c", &program])
            .stdin(Stdio::null())
            .output()
            .expect("run bash");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    assert_eq!(complete("sockplay --tuto"), "--tutorial\n");
    assert_eq!(complete("sockplay --panel "), "right\nbelow\noff\n");
    // The tutorials' names, as `sockplay --tutorial` lists them.
    assert_eq!(
        complete("sockplay --tutorial t"),
        "tcp-server-client\ntime-wait-reuseaddr\n"
    );
    let shells = complete("sockplay completions ");
    let shells: Vec<&str> = shells.lines().filter(|w| !w.starts_with('-')).collect();
    assert_eq!(shells, ["bash", "zsh", "fish"]);
}

#[test]
fn zsh_and_fish_completion_scripts_name_the_options() {
    let zsh = printed(&["completions", "zsh"]);
    assert!(zsh.starts_with("#compdef sockplay\n"), "{zsh}");
    let fish = printed(&["completions", "fish"]);
    for script in [&zsh, &fish] {
        for option in ["tutorial", "json", "panel", "timeout", "allow-shell"] {
            assert!(script.contains(option), "no {option} in\n{script}");
        }
    }
    assert!(
        fish.contains("complete -c sockplay"),
        "not a fish script:\n{fish}"
    );
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    Test::new()
        .args(["completions", "tcsh"])
        .status(2)
        .stdout_is("")
        .stderr_contains("invalid value 'tcsh'")
        .stderr_contains("[possible values: bash, zsh, fish]")
        .run();
}

#[test]
fn the_manual_page_renders_every_option_and_where_history_lives() {
    let roff = printed(&["man"]);
    assert!(roff.contains(".TH sockplay 1"), "{roff}");
    let rendered = Command::new("sh")
        .args(["-c", "groff -man -Tutf8 -P-cbou 2>&1"])
        .env("GROFF_NO_SGR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut groff| {
            use std::io::Write;
            groff
                .stdin
                .take()
                .expect("groff's stdin")
                .write_all(roff.as_bytes())?;
            groff.wait_with_output()
        })
        .expect("run groff");
    // Lines joined and typographic hyphens plain, so phrases read as printed.
    let text = String::from_utf8_lossy(&rendered.stdout).replace(['\u{2010}', '\u{2212}'], "-");
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(!text.contains("warning"), "groff warned: {text}");
    for shown in [
        "socket calls — socket, bind",
        "SYNOPSIS sockplay [OPTIONS] [FILE.sock] sockplay completions <bash|zsh|fish> sockplay man",
        "-c <COMMANDS> Run these commands",
        "--tutorial [<NAME>] List the built-in tutorials",
        "--auto With --tutorial NAME",
        "--json Machine output",
        "--panel <WHERE> Where the FD panel goes",
        "--timeout <SECS> [default: 5] Limit in seconds for every blocking call",
        "--allow-shell Let replayed scripts run",
        "--color <WHEN> [default: auto] When to use colour",
        "sockplay completions bash|zsh|fish Print the completion script",
        "FILES ~/.local/state/sockplay/history The lines typed at the prompt",
        "EXIT STATUS 0 success; 1 a command failed",
    ] {
        assert!(text.contains(shown), "{shown:?} not in the page:\n{text}");
    }
}

#[test]
fn a_reader_that_is_gone_is_no_failure() {
    // `sockplay man | true`: the reading end is closed before sockplay writes a byte.
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let output = Command::new(env!("CARGO_BIN_EXE_sockplay"))
        .arg("man")
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("run sockplay");
    assert_eq!(
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr)
        ),
        (Some(0), "".into())
    );
}
