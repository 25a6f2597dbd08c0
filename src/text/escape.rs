//! The one escape language, both ways, and safe display of bytes and text that a peer or the kernel
//! controls.
//!
//! Everything sockplay prints that it did not write itself (received data, socket paths, names)
//! passes through here first, so that a peer can never move the cursor, change colours, reorder
//! text with bidi controls or hide characters. The output uses one small escape language —
//! `\r \n \t \0 \\ \" \xHH` — and what the user types as DATA is decoded by [`unescape`] in the
//! same language, so what sockplay shows can always be typed back as the exact original bytes.
//!
//! [`safe_line`] is the last step before the terminal: the front ends' terminal writer passes every
//! line through it, so a message that forgot to escape a name or a path still shows it escaped.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Escapes bytes a peer controls for display on a terminal or in a log.
///
/// Printable ASCII and valid UTF-8 sequences of printable non-ASCII characters are kept as they
/// are; `\r`, `\n`, `\t`, NUL, backslash and double quote get their short escapes; every other
/// byte (controls, invalid UTF-8, and the UTF-8 bytes of invisible or bidi characters) is written
/// as `\xHH`. The result never contains a byte below 0x20, DEL, or a C1 control character.
pub fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            push_char(&mut out, c);
        }
        for &b in chunk.invalid() {
            push_hex(&mut out, b);
        }
    }
    out
}

/// Escapes text that came from the kernel or the user (names, paths, addresses) in the same way as
/// [`escape_bytes`].
pub fn escape_text(s: &str) -> String {
    escape_bytes(s.as_bytes())
}

/// Makes a line the user typed safe to echo: only what could disturb the terminal is escaped, so
/// quotes and backslashes read exactly as typed.
pub fn sanitize_line(s: &str) -> String {
    safe_line(s).into_owned()
}

/// One line as it may reach a terminal: every character that is not [shown as is](is_shown_as_is)
/// (C0 controls including `\t` and `\r`, DEL, C1, bidi and invisible format characters) is written
/// in the escape language of [`escape_bytes`]; quotes and backslashes stay as they are, so text that
/// is already escaped passes unchanged. Borrows when there is nothing to escape, the usual case.
pub fn safe_line(line: &str) -> Cow<'_, str> {
    match line.find(|c| !is_shown_as_is(c)) {
        None => Cow::Borrowed(line),
        Some(first) => {
            let mut out = String::with_capacity(line.len() + 8);
            out.push_str(&line[..first]);
            for c in line[first..].chars() {
                push_line_char(&mut out, c);
            }
            Cow::Owned(out)
        }
    }
}

/// Like [`safe_line`], but the SGR sequences (`ESC [` digits and `;`, then `m`) that sockplay's own
/// colours are made of pass through: for lines sockplay laid out itself from parts that were made
/// safe first. Any other escape sequence, and an ESC that starts none, is escaped.
pub fn safe_styled_line(line: &str) -> Cow<'_, str> {
    // Most lines (every panel row) hold nothing to escape: they are looked at, not copied.
    let as_is = |c: char| c == '\\' || c == '"' || is_shown_as_is(c);
    if line.bytes().all(|b| (0x20..0x7f).contains(&b)) || line.chars().all(as_is) {
        return Cow::Borrowed(line);
    }
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(c) = rest.chars().next() {
        let len = match sgr_len(rest) {
            Some(len) => {
                out.push_str(&rest[..len]);
                len
            }
            None => {
                push_line_char(&mut out, c);
                c.len_utf8()
            }
        };
        rest = &rest[len..];
    }
    Cow::Owned(out)
}

/// The length of the SGR sequence `text` starts with (`ESC [ 1;32 m`), if it starts with one.
fn sgr_len(text: &str) -> Option<usize> {
    let params = text.strip_prefix("\u{1b}[")?;
    let digits = params
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b';')
        .count();
    (params.as_bytes().get(digits) == Some(&b'm')).then_some(2 + digits + 1)
}

/// Writes a character of a line to be shown: quotes and backslashes as they are, anything else as
/// [`push_char`] does.
fn push_line_char(out: &mut String, c: char) {
    match c {
        '\\' | '"' => out.push(c),
        c => push_char(out, c),
    }
}

/// Writes one decoded character, either as itself or escaped.
fn push_char(out: &mut String, c: char) {
    match c {
        '\r' => out.push_str("\\r"),
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        '\0' => out.push_str("\\0"),
        '\\' => out.push_str("\\\\"),
        '"' => out.push_str("\\\""),
        c if is_shown_as_is(c) => out.push(c),
        c => {
            let mut buf = [0u8; 4];
            for &b in c.encode_utf8(&mut buf).as_bytes() {
                push_hex(out, b);
            }
        }
    }
}

/// Why text does not decode: where the backslash of the bad escape stands, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadEscape {
    /// The backslash's position, in characters from the start of the text.
    pub offset: usize,
    pub message: String,
}

/// Decodes text written in the escape language into bytes: `\r \n \t \0 \\ \" \xHH`, and
/// `\'` and `\ ` for a quote or a blank typed in a word; every other character stands for its
/// UTF-8 bytes. Anything else after a backslash is an error, so a typo never silently means the
/// wrong bytes. The inverse of [`escape_bytes`].
pub fn unescape(text: &str) -> Result<Vec<u8>, BadEscape> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut chars = text.chars().enumerate();
    while let Some((offset, c)) = chars.next() {
        if c != '\\' {
            let mut buf = [0; 4];
            bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        let bad = |message: String| BadEscape { offset, message };
        let escaped = match chars.next().map(|(_, c)| c) {
            Some('r') => b'\r',
            Some('n') => b'\n',
            Some('t') => b'\t',
            Some('0') => 0,
            Some('\\') => b'\\',
            Some('"') => b'"',
            Some('\'') => b'\'',
            Some(' ') => b' ',
            Some('x') => {
                let hex: String = chars.by_ref().take(2).map(|(_, c)| c).collect();
                match u8::from_str_radix(&hex, 16) {
                    Ok(byte) if hex.len() == 2 => byte,
                    _ => {
                        return Err(bad(format!(
                            "`\\x` needs two hex digits (like `\\x1b`), got `\\x{hex}`"
                        )))
                    }
                }
            }
            Some(other) => {
                return Err(bad(format!(
                    "unknown escape `\\{other}`: use \\r \\n \\t \\0 \\\\ \\\" or \\xHH (write `\\\\` for a backslash)"
                )))
            }
            None => {
                return Err(bad(
                    "a lone `\\` at the end: write `\\\\` for a backslash".to_string(),
                ))
            }
        };
        bytes.push(escaped);
    }
    Ok(bytes)
}

/// Writes one byte as `\xHH` with lower-case hex digits.
fn push_hex(out: &mut String, b: u8) {
    // Writing to a String cannot fail.
    let _ = write!(out, "\\x{b:02x}");
}

/// Whether a character is safe to put on a terminal unchanged.
///
/// The test is a deny list rather than a full Unicode category table: controls (C0, DEL, C1) and
/// the characters that are invisible or change how surrounding text is laid out (zero-width and
/// bidi controls, the word joiner family, the BOM, interlinear annotation marks, line and paragraph
/// separators, soft hyphen, Mongolian vowel separator, tags) are escaped. Those are exactly what a
/// peer could use to make displayed text differ from the bytes that were sent.
pub(crate) fn is_shown_as_is(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_graphic() || c == ' ';
    }
    !(c.is_control() || is_invisible_format(c))
}

/// Whether a non-ASCII character is a format or separator character that renders invisibly or
/// alters the layout of other text.
fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'                  // soft hyphen
        | '\u{061C}'                // Arabic letter mark
        | '\u{180E}'                // Mongolian vowel separator
        | '\u{200B}'..='\u{200F}'   // zero-width space/joiners, LRM, RLM
        | '\u{2028}'..='\u{202E}'   // line/paragraph separators, bidi embeddings and overrides
        | '\u{2060}'..='\u{206F}'   // word joiner, invisible operators, bidi isolates, deprecated
        | '\u{FEFF}'                // byte order mark / zero-width no-break space
        | '\u{FFF9}'..='\u{FFFB}'   // interlinear annotation
        | '\u{E0000}'..='\u{E007F}' // tags
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn sanitize_line_keeps_quotes_and_backslashes() {
        let typed = "send c \"a\\r\"\u{1b}";
        assert_eq!(super::sanitize_line(typed), "send c \"a\\r\"\\x1b");
    }

    use super::*;

    /// Decodes the escape language back to bytes, as what the user types is decoded.
    fn decode(s: &str) -> Vec<u8> {
        unescape(s).unwrap_or_else(|bad| panic!("{s:?} does not decode: {}", bad.message))
    }

    /// Asserts that the output is safe for a terminal and decodes to the input.
    fn check(bytes: &[u8]) {
        let escaped = escape_bytes(bytes);
        for c in escaped.chars() {
            assert!(
                c >= ' ' && c != '\u{7f}' && !('\u{80}'..='\u{9f}').contains(&c),
                "terminal control char {c:?} in {escaped:?}"
            );
            assert!(!is_invisible_format(c), "invisible {c:?} in {escaped:?}");
        }
        assert_eq!(decode(&escaped), bytes, "round trip of {escaped:?}");
    }

    /// A small deterministic generator, so the test needs no extra crates and is reproducible.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    #[test]
    fn short_escapes() {
        assert_eq!(escape_bytes(b"a\r\n\t\0\\\"b"), r#"a\r\n\t\0\\\"b"#);
        assert_eq!(escape_bytes(b"GET / HTTP/1.1"), "GET / HTTP/1.1");
    }

    #[test]
    fn controls_become_hex() {
        assert_eq!(escape_bytes(b"\x1b[2J\x07\x7f"), r"\x1b[2J\x07\x7f");
        assert_eq!(escape_bytes(&[0xff, 0xfe]), r"\xff\xfe");
    }

    #[test]
    fn printable_unicode_stays() {
        assert_eq!(escape_text("café → 日本語"), "café → 日本語");
    }

    #[test]
    fn invisible_unicode_becomes_hex() {
        assert_eq!(escape_text("\u{85}"), r"\xc2\x85");
        assert_eq!(escape_text("a\u{200B}b"), r"a\xe2\x80\x8bb");
        assert_eq!(escape_text("\u{202E}txt"), r"\xe2\x80\xaetxt");
        assert_eq!(escape_text("\u{2066}"), r"\xe2\x81\xa6");
        assert_eq!(escape_text("\u{FEFF}"), r"\xef\xbb\xbf");
    }

    #[test]
    fn invalid_utf8_is_escaped_per_byte() {
        // A truncated 3-byte sequence followed by ASCII, and a lone continuation byte.
        assert_eq!(escape_bytes(b"\xe2\x80x\x80"), r"\xe2\x80x\x80");
        // An overlong encoding of '/' is invalid UTF-8 and must not turn into '/'.
        assert_eq!(escape_bytes(b"\xc0\xaf"), r"\xc0\xaf");
    }

    #[test]
    fn round_trip_single_bytes() {
        for b in 0..=255u8 {
            check(&[b]);
        }
    }

    #[test]
    fn round_trip_byte_pairs() {
        for a in 0..=255u8 {
            for b in [0u8, b'\\', b'x', 0x80, 0xc2, 0xe2, 0xff] {
                check(&[a, b]);
                check(&[b, a]);
            }
        }
    }

    #[test]
    fn round_trip_tricky_strings() {
        let cases: &[&[u8]] = &[
            b"",
            b"\\x41",
            b"\\\\x",
            b"\\",
            "é→日\u{85}\u{200F}\u{2069}\u{FEFF}\u{E0041}".as_bytes(),
            b"\xf0\x9f\x98",
            b"\xf0\x9f\x98\x80",
            b"\xed\xa0\x80", // an encoded surrogate: invalid UTF-8
        ];
        for case in cases {
            check(case);
        }
    }

    #[test]
    fn round_trip_random() {
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        for _ in 0..5000 {
            let len = (rng.next() % 24) as usize;
            let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            check(&bytes);
        }
    }

    #[test]
    fn safe_lines_are_safe_and_making_them_safe_again_changes_nothing() {
        let mut rng = XorShift(7);
        for _ in 0..5000 {
            let len = (rng.next() % 12) as usize;
            let s: String = (0..len)
                .filter_map(|_| match rng.next() % 3 {
                    0 => char::from_u32((rng.next() % 0x100) as u32),
                    1 => char::from_u32(0x2000 + (rng.next() % 0x80) as u32),
                    _ => char::from_u32((rng.next() % 0x3_0000) as u32),
                })
                .collect();
            let safe = safe_line(&s);
            assert!(safe.chars().all(is_shown_as_is), "{s:?} gave {safe:?}");
            assert_eq!(safe_line(&safe), safe);
            // The styled form differs only in keeping SGR sequences.
            let styled = safe_styled_line(&s);
            let bare = crate::text::strip_ansi(&styled);
            assert!(bare.chars().all(is_shown_as_is), "{s:?} gave {styled:?}");
        }
    }

    #[test]
    fn styled_lines_keep_sgr_sequences_only() {
        assert_eq!(
            safe_styled_line("\u{1b}[1;32mok\u{1b}[0m \u{1b}[2J\u{1b}]0;T\u{7}\u{1b}[5"),
            "\u{1b}[1;32mok\u{1b}[0m \\x1b[2J\\x1b]0;T\\x07\\x1b[5"
        );
    }

    #[test]
    fn a_styled_line_with_nothing_to_escape_is_itself_uncopied() {
        for line in [
            "   3  srv  tcp  127.0.0.1:8080 ↔ fd 4  LISTEN  0  128",
            "── main (pid 7, ready) ── \\ \"q\"",
            "",
        ] {
            assert!(matches!(safe_styled_line(line), Cow::Borrowed(l) if l == line));
        }
        assert!(matches!(safe_styled_line("a\u{7}b"), Cow::Owned(l) if l == "a\\x07b"));
        assert!(matches!(safe_styled_line("a\u{202e}b"), Cow::Owned(_)));
    }

    #[test]
    fn round_trip_random_unicode() {
        let mut rng = XorShift(42);
        for _ in 0..5000 {
            let len = (rng.next() % 12) as usize;
            let s: String = (0..len)
                .filter_map(|_| char::from_u32((rng.next() % 0x3_0000) as u32))
                .collect();
            check(s.as_bytes());
        }
    }
}
