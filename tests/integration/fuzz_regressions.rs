//! Inputs that fuzzing (`fuzz/`) or the properties found to misbehave, kept as tests. A test marked
//! `#[ignore = "bug: …"]` documents a bug that is not fixed yet: run it with `--ignored`.

use sockplay::lang::{self, Command, Payload};

use crate::support::Test;

/// Found while writing the `data_escapes` target: bytes sockplay displays as `--bytes` cannot be
/// typed back as DATA, even quoted, because the lexer does not mark quoted words and `send` takes any
/// `--bytes` word (case-insensitively) for its `--bytes N` form.
#[test]

fn quoted_dash_dash_bytes_is_data() {
    assert_eq!(
        lang::parse_line(r#"send 3 "--bytes""#),
        Ok(Some(Command::Send {
            sock: lang::SockRef::Fd(3),
            payload: Payload::Bytes(b"--bytes".to_vec()),
        }))
    );
    Test::new()
        .args(["--panel", "off", "-c"])
        .arg(r#"socketpair unix stream as a b; send a "--bytes"; recv b; expect data "--bytes""#)
        .run();
}

/// Found while timing the `parse_line` target (566 execs/s on inputs of a few KB): the lexer works
/// out each character's column by counting the characters from the start of the line again
/// (`line[..byte].chars().count()`), so splitting a line is quadratic in its length. Measured with
/// the debug binary on `send 3 aaa…`: 100 KB 0.7 s, 200 KB 2.7 s, 400 KB 12.6 s.
#[test]

fn a_long_line_parses_in_linear_time() {
    let line = format!("send 3 {}", "a".repeat(300_000));
    let started = std::time::Instant::now();
    let parsed = lang::parse_line(&line);
    let took = started.elapsed();
    assert!(matches!(parsed, Ok(Some(Command::Send { .. }))));
    assert!(
        took < std::time::Duration::from_secs(3),
        "a 300 KB line took {took:?} to parse"
    );
}

/// Found by the 1,500 random lines (tests/integration/random_lines.rs): with `--json` the script's
/// own line is echoed verbatim in `input`, and JSON escapes only C0 controls, so a DEL or a C1
/// control (here U+009B, CSI) typed inside a quoted DATA word reaches stdout raw. The human output
/// escapes the same line (`\x7f`, `\xc2\x9b`). Everything else in the records is escaped.
#[test]

fn json_input_carries_no_raw_control_characters() {
    let output = Test::new()
        .arg("--json")
        .script("socketpair unix stream as a b\nsend a \"x\u{9b}31m\u{7f}\"\n")
        .run();
    assert!(
        !output.stdout.chars().any(|c| c != '\n' && c.is_control()),
        "raw control characters on stdout:\n{}",
        output.stdout
    );
}
