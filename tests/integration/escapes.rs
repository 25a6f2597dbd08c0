//! No raw control byte reaches the terminal. Whatever message quotes what a user or a script wrote
//! (a path, an address, a name, a flag, an escape), it shows it escaped, on stdout and on stderr,
//! in text and in `--json`. The hostile strings: a window-title OSC (`ESC ] 0;T BEL`), a CSI
//! (`ESC [2J`), NUL, DEL, the one-character C1 CSI U+009B and the bidi override U+202E.

use std::sync::atomic::{AtomicUsize, Ordering};

use sockplay::lang::COMMANDS;

use crate::support::{unique_name, Output, Test};

/// Sets the terminal window's title to `T` when printed raw.
const TITLE: &str = "\x1b]0;T\x07";
const TITLE_SHOWN: &str = r"\x1b]0;T\x07";

/// Every kind at once, but NUL: it fits in argv and in a file name.
const HOSTILE: &str = "\x1b]0;T\x07\x1b[2J\x7f\u{9b}\u{202e}";
const HOSTILE_SHOWN: &str = r"\x1b]0;T\x07\x1b[2J\x7f\xc2\x9b\xe2\x80\xae";

/// Whether a character may reach a terminal: printable, or a line break or tab; never DEL, a C1
/// control or a bidi control.
fn terminal_safe(c: char) -> bool {
    let bidi = matches!(
        c,
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}'
    );
    (c >= ' ' || c == '\n' || c == '\t')
        && c != '\u{7f}'
        && !('\u{80}'..='\u{9f}').contains(&c)
        && !bidi
}

/// Fails unless `bytes` are UTF-8 text a terminal shows without acting on any of it.
fn assert_terminal_safe(stream: &str, bytes: &[u8], report: &str) {
    let text = std::str::from_utf8(bytes)
        .unwrap_or_else(|e| panic!("{stream} is not UTF-8 ({e})\n{report}"));
    if let Some((at, c)) = text.char_indices().find(|&(_, c)| !terminal_safe(c)) {
        panic!("raw {c:?} on {stream} at byte {at}\n{report}");
    }
}

/// Fails unless both streams of a run are terminal-safe.
fn assert_output_safe(output: &Output) {
    let report = output.report();
    assert_terminal_safe("stdout", &output.stdout_bytes, &report);
    assert_terminal_safe("stderr", &output.stderr_bytes, &report);
}

/// Fails unless `text` has exactly `line` as one of its lines.
fn assert_line(text: &str, line: &str, output: &Output) {
    assert!(
        text.lines().any(|l| l == line),
        "no line {line:?}\n{}",
        output.report()
    );
}

/// Runs a script (control characters and all), checks the exit status and both streams, and returns what it
/// printed.
fn script(text: &str, status: i32) -> Output {
    script_with(&[], text, status)
}

/// [`script`] with more arguments (`--allow-shell` for a script that records).
fn script_with(args: &[&str], text: &str, status: i32) -> Output {
    let output = Test::new()
        .args(["--panel", "off"])
        .args(args.iter().copied())
        .script(text)
        .status(status)
        .run();
    assert_output_safe(&output);
    output
}

#[test]
fn source_of_a_missing_script_with_a_title_escape_in_its_path_is_escaped_and_expect_error_holds() {
    let output = script(&format!("source \"/x/{TITLE}\"\nexpect error ENOENT\n"), 0);
    assert_eq!(
        output.stdout,
        format!(
            "sockplay> source \"/x/{TITLE_SHOWN}\"\n\
             ENOENT: cannot read the script /x/{TITLE_SHOWN} (No such file or directory)\n\
             hint: check the path; it is taken relative to the directory sockplay runs in\n\
             sockplay> expect error ENOENT\n\
             ✓ source failed with ENOENT\n"
        ),
        "{}",
        output.report()
    );
    assert_eq!(output.stderr, "");
}

#[test]
fn a_sourced_script_with_a_hostile_name_is_named_escaped_when_it_runs_and_when_it_fails() {
    let test = Test::new().args(["--panel", "off"]).status(1);
    let good = format!("./good{HOSTILE}.sock");
    let bad = format!("./bad{HOSTILE}.sock");
    std::fs::write(test.dir().join(&good), "socket tcp as s\n").expect("write a script");
    std::fs::write(test.dir().join(&bad), "close 99\n").expect("write a script");
    let output = test
        .script(format!("source \"{good}\"\nsource \"{bad}\"\n"))
        .run();
    assert_output_safe(&output);
    assert_line(
        &output.stdout,
        &format!("ran 1 command from ./good{HOSTILE_SHOWN}.sock"),
        &output,
    );
    assert_line(
        &output.stdout,
        &format!(
            "./bad{HOSTILE_SHOWN}.sock stopped at its first failure; its sockets stay open here"
        ),
        &output,
    );
    assert_eq!(
        output.stderr,
        format!(
            "./bad{HOSTILE_SHOWN}.sock:1: EBADF: fd 99 is not open\n\
             test.sock:2: ./bad{HOSTILE_SHOWN}.sock stopped at its first failure; its sockets stay open here\n"
        ),
        "{}",
        output.report()
    );
}

#[test]
fn a_sourced_script_with_a_syntax_error_quotes_its_name_and_line_escaped() {
    let test = Test::new().args(["--panel", "off"]).status(1);
    let name = format!("./syntax{TITLE}.sock");
    std::fs::write(test.dir().join(&name), format!("bind x \"{HOSTILE}\"\n"))
        .expect("write a script");
    let output = test.script(format!("source \"{name}\"\n")).run();
    assert_output_safe(&output);
    assert!(
        output.stderr.starts_with(&format!(
            "test.sock:1: ./syntax{TITLE_SHOWN}.sock:1:8: error: `{HOSTILE_SHOWN}` is not an address"
        )),
        "{}",
        output.report()
    );
    assert_line(
        &output.stderr,
        &format!("  | bind x \"{HOSTILE_SHOWN}\""),
        &output,
    );
}

#[test]
fn record_names_its_file_escaped_when_it_starts_stops_and_cannot_write() {
    let output = script_with(
        &["--allow-shell"],
        &format!(
            "record \"/x/{HOSTILE}\"\nexpect error ENOENT\n\
             record \"./r{HOSTILE}.sock\"\nsocket tcp as s\nrecord stop\n"
        ),
        0,
    );
    for line in [
        format!("ENOENT: cannot create /x/{HOSTILE_SHOWN} for the recording (No such file or directory)"),
        format!(
            "recording to ./r{HOSTILE_SHOWN}.sock: every command from now on, until `record stop`"
        ),
        format!("recorded 1 command in ./r{HOSTILE_SHOWN}.sock"),
    ] {
        assert_line(&output.stdout, &line, &output);
    }
}

#[test]
fn address_errors_found_at_run_time_quote_the_address_escaped() {
    let long = "a".repeat(120);
    let cases = [
        (
            format!("socket unix stream as u\nbind u \"/{long}{HOSTILE}\"\n"),
            format!(
                "test.sock:2: the path `/{long}{HOSTILE_SHOWN}` is too long for a unix socket address (at most 107 bytes)"
            ),
        ),
        (
            format!("socket unix stream as u\nbind u \"{HOSTILE}:80\"\n"),
            format!(
                "test.sock:2: `{HOSTILE_SHOWN}:80` is an IP address, but this is a unix socket: give it a path (/tmp/play.sock) or @name"
            ),
        ),
    ];
    for (text, line) in cases {
        let output = script(&text, 1);
        assert_eq!(output.stderr, format!("{line}\n"), "{}", output.report());
    }
    // The resolver's own words vary; what sockplay quotes is the name.
    let output = script(
        &format!("socket tcp as t\nconnect t \"h{HOSTILE}:80\"\n"),
        1,
    );
    assert!(
        output
            .stderr
            .starts_with(&format!("test.sock:2: cannot resolve `h{HOSTILE_SHOWN}`: ")),
        "{}",
        output.report()
    );
}

#[test]
fn explain_python_shows_an_abstract_name_with_esc_and_nul_as_a_python_literal() {
    let name = unique_name("explain");
    let output = script(
        &format!(
            "set explain python\nsocket unix dgram as a\nbind a \"@{name}{TITLE}\0\x7f\u{9b}\u{202e}\"\n"
        ),
        0,
    );
    assert_line(
        &output.stdout,
        &format!(r#">>> a.bind("\0{name}\x1b]0;T\x07\0\x7f\x9b\u202e")"#),
        &output,
    );
    assert_line(
        &output.stdout,
        &format!(r"bind(3, @{name}\x1b]0;T\x07\0\x7f\xc2\x9b\xe2\x80\xae) = 0"),
        &output,
    );
}

/// Syntax errors: the message and the pointed line, for each place a word is quoted.
#[test]
fn syntax_errors_quote_the_offending_word_escaped() {
    let cases = [
        (
            format!("send x \"\\{HOSTILE}\""),
            r#"1:9: error: unknown escape `\\x1b`: use \r \n \t \0 \\ \" or \xHH"#.to_string(),
        ),
        (
            format!("send x \"\\x{HOSTILE}\""),
            r"1:9: error: `\x` needs two hex digits (like `\x1b`), got `\x\x1b]`".to_string(),
        ),
        (
            format!("bind x \"{HOSTILE}\0\""),
            format!(r"1:8: error: `{HOSTILE_SHOWN}\0` is not an address"),
        ),
        (
            format!("bind x \"h:1{HOSTILE}\""),
            format!("1:8: error: `1{HOSTILE_SHOWN}` is not a port"),
        ),
        (
            format!("socket tcp as \"{HOSTILE}\""),
            format!("1:15: error: `{HOSTILE_SHOWN}` cannot be a name"),
        ),
        (
            format!("close \"{HOSTILE}\""),
            format!("1:7: error: `{HOSTILE_SHOWN}` is not a socket"),
        ),
        (
            format!("ss \"-{HOSTILE}\""),
            r"1:4: error: unknown flag `-\x1b`: use -t -u -x -l -a".to_string(),
        ),
        (
            "\x1b[2J\x7f\u{9b}\u{202e} 3".to_string(),
            r"1:1: error: unknown command `\x1b[2J\x7f\xc2\x9b\xe2\x80\xae`".to_string(),
        ),
        // A `;` in a script line: the line is quoted up to it.
        (
            format!("{HOSTILE} 3"),
            "1:5: error: one command per line".to_string(),
        ),
    ];
    for (line, error) in cases {
        let output = script(&format!("{line}\n"), 2);
        assert!(
            output.stderr.starts_with(&format!("test.sock:{error}")),
            "expected {error:?}\n{}",
            output.report()
        );
        let pointed = format!("  | {}", sockplay::text::sanitize_line(&line));
        assert_line(&output.stderr, &pointed, &output);
        assert_eq!(output.stdout, "");
    }
}

#[test]
fn top_level_errors_quote_the_argument_escaped() {
    let output = Test::new()
        .arg(format!("nope{HOSTILE}.sock"))
        .status(2)
        .run();
    assert_output_safe(&output);
    assert_eq!(
        output.stderr,
        format!(
            "sockplay: ENOENT: cannot read the script nope{HOSTILE_SHOWN}.sock (No such file or directory)\n"
        )
    );

    // clap's usage error quotes the argument it did not expect (clap itself drops escape
    // sequences from it; the rest is escaped on the way out).
    let output = Test::new()
        .args(["a.sock".to_string(), format!("b{HOSTILE}")])
        .status(2)
        .run();
    assert_output_safe(&output);
    let output = Test::new()
        .args(["a.sock", "b\u{9b}\u{202e}"])
        .status(2)
        .run();
    assert_output_safe(&output);
    assert_eq!(
        output.stderr,
        "error: unexpected argument 'b\\xc2\\x9b\\xe2\\x80\\xae' found\n\n\
         Usage: sockplay [OPTIONS] [FILE.sock]\n       \
         sockplay completions <bash|zsh|fish>\n       sockplay man\n\n\
         For more information, try '--help'.\n",
        "{}",
        output.report()
    );

    let output = Test::new()
        .args(["--tutorial".to_string(), format!("x{HOSTILE}")])
        .status(2)
        .run();
    assert_output_safe(&output);
    assert_line(
        &output.stderr,
        &format!("sockplay: no tutorial is called `x{HOSTILE_SHOWN}`"),
        &output,
    );

    // A script file whose own name is hostile names itself escaped in its syntax error.
    let test = Test::new().status(2);
    let name = format!("s{TITLE}.sock");
    std::fs::write(test.dir().join(&name), "frobnicate\n").expect("write a script");
    let output = test.arg(&name).run();
    assert_output_safe(&output);
    assert!(
        output.stderr.starts_with(&format!(
            "s{TITLE_SHOWN}.sock:1:1: error: unknown command `frobnicate`"
        )),
        "{}",
        output.report()
    );
}

#[test]
fn a_c_command_line_with_hostile_words_is_escaped_on_both_streams() {
    let output = Test::new()
        .args([
            "--panel".to_string(),
            "off".to_string(),
            "-c".to_string(),
            format!("source \"/x/{HOSTILE}\"; expect error ENOENT; socket tcp as t; connect t \"h{HOSTILE}:80\""),
        ])
        .status(1)
        .run();
    assert_output_safe(&output);
    assert_line(
        &output.stdout,
        &format!("sockplay> source \"/x/{HOSTILE_SHOWN}\""),
        &output,
    );
    assert_line(
        &output.stdout,
        &format!("ENOENT: cannot read the script /x/{HOSTILE_SHOWN} (No such file or directory)"),
        &output,
    );
    assert!(
        output
            .stderr
            .starts_with(&format!("-c:4: cannot resolve `h{HOSTILE_SHOWN}`: ")),
        "{}",
        output.report()
    );
}

/// `text` without its SGR colour sequences (`ESC [ 1;32 m`), the one escape sockplay writes itself.
fn without_sgr(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("\x1b[") {
        out.push_str(&rest[..at]);
        let params = &rest[at + 2..];
        let digits = params
            .find(|c: char| !c.is_ascii_digit() && c != ';')
            .unwrap_or(params.len());
        if params[digits..].starts_with('m') {
            rest = &params[digits + 1..];
        } else {
            // Not SGR: kept, for the safety check to find.
            out.push_str(&rest[at..at + 2]);
            rest = params;
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn colour_always_keeps_the_panels_own_colours_around_an_escaped_name() {
    let name = unique_name("colour");
    let output = Test::new()
        .args(["--color", "always", "--panel", "below"])
        .script(format!(
            "socket unix dgram as a\nbind a \"@{name}{TITLE}\u{202e}\"\n"
        ))
        .run();
    let row = output
        .stdout
        .lines()
        .rev()
        .find(|l| l.contains("unix/dgram"))
        .unwrap_or_else(|| panic!("the socket's row\n{}", output.report()));
    // The changed row's address is yellow, as the panel colours a change.
    assert!(
        row.contains(&format!(
            "\x1b[38;5;11m@{name}{TITLE_SHOWN}\\xe2\\x80\\xae "
        )),
        "{row:?}"
    );
    let report = output.report();
    assert_terminal_safe("stdout", without_sgr(&output.stdout).as_bytes(), &report);
    assert_terminal_safe("stderr", &output.stderr_bytes, &report);
}

#[test]
fn json_records_escape_del_c1_and_bidi_and_still_decode_to_the_real_text() {
    let output = Test::new()
        .arg("--json")
        .script(format!("source \"/x/{HOSTILE}\"\nexpect error ENOENT\n"))
        .run();
    assert_output_safe(&output);
    assert!(
        output
            .stdout
            .contains(r#""input":"source \"/x/\u001b]0;T\u0007\u001b[2J\u007f\u009b\u202e\"""#),
        "{}",
        output.report()
    );
    let records = output.json();
    assert_eq!(records[0]["input"], format!("source \"/x/{HOSTILE}\""));
    assert_eq!(
        records[0]["error"]["message"],
        format!("cannot read the script /x/{HOSTILE} (No such file or directory)")
    );
}

#[test]
fn a_tutorial_walk_shows_what_the_learner_typed_escaped() {
    let output = Test::new()
        .args(["--tutorial", "sockets-are-fds"])
        .stdin(format!(
            "bind x \"{HOSTILE}\"\nsource \"/x/{HOSTILE}\"\nquit\n"
        ))
        .run();
    assert_output_safe(&output);
    assert_line(
        &output.stdout,
        &format!(
            "error: `{HOSTILE_SHOWN}` is not an address: use HOST:PORT, [V6]:PORT, :PORT, a path (/tmp/x.sock, ./x.sock) or @name"
        ),
        &output,
    );
    assert_line(
        &output.stdout,
        &format!("ENOENT: cannot read the script /x/{HOSTILE_SHOWN} (No such file or directory)"),
        &output,
    );
}

/// Lines of the language with `{}` where a hostile string goes: every command, and every kind of
/// argument position (names, fds, addresses of each form, data, options, choices, numbers, paths,
/// checks). A prelude gives them sockets to act on.
const TEMPLATES: &[&str] = &[
    "socket {} stream",
    "socket inet {}",
    "socket tcp as {}",
    "socket tcp as \"{}\"",
    "bind s \"{}\"",
    "bind s \"@{}\"",
    "bind s \"/tmp/{}\"",
    "bind s \"{}:80\"",
    "bind s \"[{}]:80\"",
    "bind s \"$s{}\"",
    "bind {} :0",
    "bind u \"./{}\"",
    "bind u \"{}:80\"",
    "listen {}",
    "listen srv {}",
    "accept srv as {}",
    "accept {}",
    "connect s \"{}:1\"",
    "connect s \"127.0.0.1:{}\"",
    "connect u \"@{}\"",
    "send c \"{}\"",
    "send c \"\\{}\"",
    "send c \"\\x{}\"",
    "send {} x",
    "send c --bytes {}",
    "recv c {}",
    "recv c 10 {}",
    "fileno {}",
    "detach {}",
    "close {}",
    "socketpair unix stream as {} b",
    "shutdown c {}",
    "sendto d \"@{}\" x",
    "sendto d \"{}:9\" x",
    "sendto d 127.0.0.1:9 \"{}\"",
    "recvfrom d {}",
    "setsockopt s {} 1",
    "setsockopt s SO_RCVBUF {}",
    "getsockopt s {}",
    "getsockname {}",
    "getpeername {}",
    "nonblock s {}",
    "dup s as {}",
    "makefile c as {}",
    "readline {}",
    "read {} 3",
    "write {} x",
    "flush {}",
    "select read {} timeout 1",
    "select read s timeout {}",
    "poll {} timeout 1",
    "epoll {}",
    "epoll add {} s",
    "epoll create as {}",
    "sendfd c {}",
    "recvfd {}",
    "ulimit {}",
    "ss {}",
    "ss -{}",
    "source \"{}\"",
    "source \"/x/{}\"",
    "record \"/x/{}\"",
    "unlink \"{}\"",
    "unlink \"/x/{}\"",
    "!{}",
    "fds {}",
    "set {} 1",
    "set timeout {}",
    "set panel {}",
    "set explain {}",
    "sleep {}",
    "help {}",
    "quit {}",
    "expect {}",
    "expect state s {}",
    "expect fd s {}",
    "expect data \"{}\"",
    "expect error {}",
    "expect output \"{}\"",
    "expect open {}",
    "spawn {}",
    "fork as {}",
    "use {}",
    "wait {}",
    "ps {}",
    "kill {}",
    "kill main {}",
    "exit {}",
    "inheritable {} on",
    "inheritable s {}",
    "{}: fds",
    "main: {}",
    "recv c {} &",
    "{}",
    "{} s",
    "\"{}\"",
];

/// Sockets for the templates: s (TCP, unbound), srv (listening), c (connected to it), u (Unix
/// stream), d (UDP), f (a makefile of c).
const PRELUDE: &str = "socket tcp as s
socket tcp as srv
bind srv 127.0.0.1:0
listen srv
socket tcp as c
connect c $srv
socket unix stream as u
socket udp as d
makefile c as f
";

/// The hostile string of the property test: every kind but NUL, so it fits in argv. In a `-c` line
/// its `;` also ends the command, so the rest of it is a command word of its own.
const PROPERTY_HOSTILE: &str = "\x1b]0;T\x07\x1b[2J\u{9b}31m\x7f\u{202e}\u{2066}";
/// NUL and the remaining bidi controls, for script files.
const PROPERTY_HOSTILE_NUL: &str = "a\0b\u{200f}\u{61c}";

#[test]
fn every_command_has_a_template_with_a_hostile_argument() {
    for spec in COMMANDS {
        let covered = TEMPLATES.iter().any(|t| {
            t.split(' ').next().is_some_and(|word| {
                word == spec.name || (spec.name == "!" && word.starts_with('!'))
            })
        });
        assert!(covered, "no template for `{}`", spec.name);
    }
}

/// How the property test hands sockplay the line, and how sockplay prints.
#[derive(Debug, Clone, Copy)]
enum Mode {
    CommandLine { json: bool },
    ScriptFile { json: bool },
}

/// Runs one template with one hostile string after the prelude, and checks both streams.
fn run_template(template: &str, hostile: &str, mode: Mode) {
    let line = template.replacen("{}", hostile, 1);
    let test = Test::new().args(["--panel", "off", "--timeout", "0.05"]);
    let test = match mode {
        Mode::CommandLine { json } => {
            let text = format!("{}; {line}", PRELUDE.trim_end().replace('\n', "; "));
            test.args(json.then_some("--json")).arg("-c").arg(text)
        }
        Mode::ScriptFile { json } => test
            .args(json.then_some("--json"))
            .script(format!("{PRELUDE}{line}\n")),
    };
    let output = test.run_unchecked();
    let context = format!("line {line:?} ({mode:?})\n{}", output.report());
    assert!(
        matches!(output.status.code(), Some(0..=2)),
        "exit status\n{context}"
    );
    assert_terminal_safe("stdout", &output.stdout_bytes, &context);
    assert_terminal_safe("stderr", &output.stderr_bytes, &context);
    if matches!(
        mode,
        Mode::CommandLine { json: true } | Mode::ScriptFile { json: true }
    ) {
        for record in output.stdout.lines() {
            assert!(
                serde_json::from_str::<serde_json::Value>(record).is_ok(),
                "not JSON: {record:?}\n{context}"
            );
        }
    }
}

#[test]
fn hostile_strings_in_every_argument_position_never_reach_the_terminal_raw() {
    let mut cases = Vec::new();
    for template in TEMPLATES {
        for json in [false, true] {
            cases.push((*template, PROPERTY_HOSTILE, Mode::CommandLine { json }));
            cases.push((*template, PROPERTY_HOSTILE, Mode::ScriptFile { json }));
        }
        cases.push((
            *template,
            PROPERTY_HOSTILE_NUL,
            Mode::ScriptFile { json: false },
        ));
    }
    let next = AtomicUsize::new(0);
    // Each run is short; a few at once keep the suite quick on a small machine.
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(&(template, hostile, mode)) = cases.get(i) else {
                    break;
                };
                run_template(template, hostile, mode);
            });
        }
    });
}
