//! Lines sockplay writes itself, fitted to a terminal's width: prose wraps between words (never
//! inside one that fits on a line, never at a hyphen), continuing at the line's own indentation;
//! an excerpt of a typed line with a caret under it (`  | …` / `  |     ^`) is cut to a window
//! around the caret instead, so the caret still points where it did.

use textwrap::{Options, WordSplitter};

use super::display_width;

/// What starts each line of an excerpt and of the caret under it.
const EXCERPT: &str = "  | ";

/// The narrowest width text is wrapped to: below it, lines run over rather than read a word a line.
const MIN_WIDTH: usize = 20;

/// The lines of `text` (split at `\n`) fitted to `width` columns.
pub fn wrap_to_width(text: &str, width: usize) -> Vec<String> {
    let width = width.max(MIN_WIDTH);
    let lines: Vec<&str> = text.split('\n').collect();
    let mut out = Vec::with_capacity(lines.len());
    let mut index = 0;
    while index < lines.len() {
        let line = lines[index];
        let caret = lines.get(index + 1).copied().filter(|next| is_caret(next));
        match caret {
            Some(caret) if line.starts_with(EXCERPT) => {
                if display_width(line).max(display_width(caret)) <= width {
                    out.push(line.to_string());
                    out.push(caret.to_string());
                } else {
                    out.extend(window(line, caret, width));
                }
                index += 2;
            }
            _ => {
                out.extend(wrap_line(line, width));
                index += 1;
            }
        }
    }
    out
}

/// `line` wrapped between words to `width`, each line after the first indented as it is.
pub fn wrap_line(line: &str, width: usize) -> Vec<String> {
    if display_width(line) <= width {
        return vec![line.to_string()];
    }
    let lead = &line[..line.len() - line.trim_start_matches(' ').len()];
    let lead = match display_width(lead) * 2 > width {
        true => "",
        false => lead,
    };
    let options = Options::new(width)
        .subsequent_indent(lead)
        .word_splitter(WordSplitter::NoHyphenation);
    textwrap::wrap(line, options)
        .into_iter()
        .map(|l| l.trim_end().to_string())
        .collect()
}

/// Whether `line` is the caret under an excerpt.
fn is_caret(line: &str) -> bool {
    line.strip_prefix(EXCERPT)
        .is_some_and(|rest| rest.trim_start() == "^")
}

/// The excerpt `line` and its `caret` line cut to a window around the caret that fits `width`,
/// `…` where text was left out.
fn window(line: &str, caret: &str, width: usize) -> [String; 2] {
    let text: Vec<char> = line[EXCERPT.len()..].chars().collect();
    let at = (caret[EXCERPT.len()..].chars().count().saturating_sub(1)).min(text.len());
    // Room for the text and an ellipsis at each end.
    let room = width.saturating_sub(EXCERPT.len() + 2).max(1);
    let from = at
        .saturating_sub(room / 3)
        .min(text.len().saturating_sub(room));
    let to = (from + room).min(text.len());
    let lead = if from > 0 { "…" } else { "" };
    let tail = if to < text.len() { "…" } else { "" };
    // from <= at <= the length, and from <= to.
    let shown: String = text[from..to].iter().collect();
    let before: String = text[from..at].iter().collect();
    let pad = display_width(lead) + display_width(&before);
    [
        format!("{EXCERPT}{lead}{shown}{tail}"),
        format!("{EXCERPT}{:pad$}^", ""),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prose_wraps_between_words_and_keeps_hyphens_and_escapes_whole() {
        let error = "error: that line is not valid UTF-8; type text, and write raw bytes as \
                     escapes like \\xff";
        let lines = wrap_to_width(error, 60);
        assert_eq!(
            lines,
            [
                "error: that line is not valid UTF-8; type text, and write",
                "raw bytes as escapes like \\xff",
            ]
        );
        assert_eq!(
            wrap_to_width("a well-known SEND-Q", 20),
            ["a well-known SEND-Q"]
        );
        assert_eq!(
            wrap_to_width("a well-known word: SEND-Q", 20),
            ["a well-known word:", "SEND-Q"]
        );
        assert_eq!(
            wrap_to_width("    indented text that wraps", 20),
            ["    indented text", "    that wraps"]
        );
    }

    #[test]
    fn an_excerpt_is_cut_around_its_caret_which_still_points_at_the_same_character() {
        let typed = "socket tcp as srvsock; bind srvsock 127.0.0.1:0 and some more words here";
        let at = typed.find(';').unwrap_or(0);
        let text = format!(
            "error: one command per line\n{EXCERPT}{typed}\n{EXCERPT}{:at$}^",
            ""
        );
        for width in [30, 40, 60] {
            let lines = wrap_to_width(&text, width);
            assert_eq!(lines.len(), 3, "{lines:?}");
            assert!(lines.iter().all(|l| display_width(l) <= width), "{lines:?}");
            let caret = lines[2].chars().count() - 1;
            assert_eq!(lines[1].chars().nth(caret), Some(';'), "{lines:?}");
        }
        // An excerpt that fits is left alone.
        let short = format!("{EXCERPT}ab;c\n{EXCERPT}  ^");
        assert_eq!(wrap_to_width(&short, 40).join("\n"), short);
    }
}
