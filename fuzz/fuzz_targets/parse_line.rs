//! Arbitrary bytes through every parsing entry point: script files (`Script::parse_bytes`), one
//! line (`lang::parse_line`), `-c` text (`lang::split_commands`, `Script::parse_commands`). Nothing
//! may panic, and every SyntaxError column must point into the line (at most one past its end + 1).

#![no_main]

use libfuzzer_sys::fuzz_target;
use sockplay::lang::{self, Script, SyntaxError};

fn check_column(error: &SyntaxError, line: &str) {
    let chars = line.chars().count();
    assert!(
        error.column >= 1 && error.column <= chars + 2,
        "column {} outside a line of {chars} chars: {line:?} ({})",
        error.column,
        error.message
    );
    // Rendering the caret under the line must not panic either.
    let _ = error.pointed(line).to_string();
}

fuzz_target!(|data: &[u8]| {
    if let Err(error) = Script::parse_bytes("fuzz.sock", data) {
        check_column(&error.error, &error.text);
        let _ = error.to_string();
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(error) = lang::parse_line(text) {
        check_column(&error, text);
    }
    for line in text.lines() {
        if let Err(error) = lang::parse_line(line) {
            check_column(&error, line);
        }
    }
    match lang::split_commands(text) {
        Err(error) => check_column(&error, text),
        Ok(commands) => {
            for command in &commands {
                if let Err(error) = lang::parse_tokens(&command.tokens) {
                    check_column(&error, text);
                }
            }
        }
    }
    if let Err(error) = Script::parse_commands(text) {
        check_column(&error.error, &error.text);
    }
});
