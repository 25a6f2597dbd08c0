//! How many terminal columns text takes: display widths (a CJK character takes two columns) of the
//! text without ANSI styling, because laid-out lines may carry colour codes that take no room.

use unicode_width::UnicodeWidthStr;

/// The number of terminal columns a line takes, ignoring ANSI escape sequences.
pub fn display_width(line: &str) -> usize {
    strip_ansi(line).width()
}

/// Removes ANSI escape sequences: CSI sequences (`ESC [` parameters, final byte 0x40–0x7e) as the
/// panel's colours use, and any other two-byte `ESC x` sequence.
pub fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        // Anything but `[` after ESC is a two-byte sequence, already consumed by `next`.
        if chars.next() == Some('[') {
            // Parameter and intermediate bytes run until the final byte.
            for c in chars.by_ref() {
                if ('\u{40}'..='\u{7e}').contains(&c) {
                    break;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_ansi_handles_truncated_sequences() {
        assert_eq!(strip_ansi("a\u{1b}"), "a");
        assert_eq!(strip_ansi("a\u{1b}[1;2"), "a");
        assert_eq!(strip_ansi("a\u{1b}7b"), "ab");
    }

    #[test]
    fn colour_codes_take_no_columns_and_wide_characters_two() {
        assert_eq!(display_width("\u{1b}[38;5;10mnew\u{1b}[39m"), 3);
        assert_eq!(display_width("日本"), 4);
    }
}
