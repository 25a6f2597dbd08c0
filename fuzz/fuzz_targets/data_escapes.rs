//! The DATA escape language. Decoding arbitrary text never panics; and for arbitrary bytes, what
//! `escape_bytes` displays decodes back to exactly those bytes, both through a hand-built token
//! and through the real lexer and parser (`expect data "…"`, `send 3 "…"`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use sockplay::lang::{self, Check, Command, Payload, Token};
use sockplay::text::escape_bytes;

/// A token as the lexer makes it for a word typed at column 1.
fn token(text: &str) -> Token {
    Token {
        text: text.to_string(),
        column: 1,
        columns: (1..).take(text.chars().count()).collect(),
        quoted: false,
    }
}

fuzz_target!(|data: &[u8]| {
    // 1. Decoding arbitrary text: errors are fine, panics are not; errors point into the word.
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(error) = lang::decode_data(&token(text)) {
            assert!(error.column >= 1 && error.column <= text.chars().count());
        }
        if let Ok(tokens) = lang::tokenize(text) {
            for t in &tokens {
                let _ = lang::decode_data(t);
            }
        }
    }

    // 2. The display escapes decode back to the bytes.
    let escaped = escape_bytes(data);
    let decoded = lang::decode_data(&token(&escaped));
    assert_eq!(decoded.as_deref(), Ok(data), "via a token: {escaped:?}");

    // 3. The same inside double quotes, through the lexer…
    let quoted = format!("\"{escaped}\"");
    let tokens = lang::tokenize(&quoted).expect("a quoted escaped word tokenizes");
    assert_eq!(tokens.len(), 1, "{quoted:?}");
    assert_eq!(tokens[0].text, escaped);
    assert_eq!(lang::decode_data(&tokens[0]).as_deref(), Ok(data));

    // …and through the parser, as a check and as a send.
    let line = format!("expect data {quoted}");
    match lang::parse_line(&line) {
        Ok(Some(Command::Expect(Check::Data(bytes)))) => assert_eq!(bytes, data),
        other => panic!("{line:?} parsed as {other:?}"),
    }
    // A quoted word is data even when it reads like a keyword (`"--bytes"`).
    let line = format!("send 3 {quoted}");
    match lang::parse_line(&line) {
        Ok(Some(Command::Send {
            payload: Payload::Bytes(bytes),
            ..
        })) => assert_eq!(bytes, data),
        other => panic!("{line:?} parsed as {other:?}"),
    }
});
