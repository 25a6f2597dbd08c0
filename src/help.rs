//! The text of `help`, built from the command table so it can never disagree with the parser, and
//! laid out for the width it is shown in.
//!
//! A command's long help is stored as written in the table, broken where its author's editor broke
//! it. [`reflow`] reads it as blocks and wraps each one to the width asked for: lines of prose join
//! into one paragraph; a line that starts with a label (`Errors:`, `Example:`) starts a block of its
//! own, and its continuation lines hang under the label; an indented line is a row of a list, its
//! description column kept when it wraps; runs of two or more spaces separate items (the examples
//! on an `Example:` line) that are never split while they fit on a line.

use textwrap::{wrap, Options, WordSplitter};

use crate::lang::{find_command, suggest, Group, COMMANDS};
use crate::text::display_width;

/// Where a usage line's wrapped lines start: under the command, after `usage: `.
const USAGE_INDENT: &str = "       ";

/// The narrowest width text is wrapped to: below it a word a line would be unreadable anyway.
const MIN_WIDTH: usize = 20;

/// `help` (all commands by group) or `help COMMAND` (one in depth), wrapped to `width` columns
/// (None: each paragraph on one line, for machines); an unknown topic is an error.
pub fn help_lines(topic: Option<&str>, width: Option<usize>) -> Result<Vec<String>, String> {
    match topic {
        None => Ok(overview(width)),
        Some(topic) => match find_command(topic.split_whitespace().next().unwrap_or(topic)) {
            Some(spec) => {
                let mut lines = hang(&format!("usage: {}", spec.usage), USAGE_INDENT, width);
                lines.push(String::new());
                lines.extend(hang(spec.summary, "", width));
                lines.push(String::new());
                lines.extend(reflow(spec.details, width));
                Ok(lines)
            }
            None => {
                let mut line = format!("no command `{}`", crate::text::escape_text(topic));
                if let Some(near) = suggest(topic) {
                    line.push_str(&format!("; did you mean `{near}`?"));
                }
                Err(line)
            }
        },
    }
}

fn overview(width: Option<usize>) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in [
        "Every command is a real syscall on a real kernel socket; the panel shows the FD table after each step.",
        "SOCK is an fd number (3) or a name given with `as NAME`. `help COMMAND` explains one command.",
    ] {
        lines.extend(hang(paragraph, "", width));
    }
    let name_width = COMMANDS
        .iter()
        .map(|spec| spec.name.len())
        .max()
        .unwrap_or(8);
    for group in Group::ALL {
        lines.push(String::new());
        lines.push(format!("{}:", group.title()));
        for spec in COMMANDS.iter().filter(|spec| spec.group == group) {
            let entry = format!("  {:name_width$}  {}", spec.name, spec.summary);
            lines.extend(hang(&entry, &" ".repeat(name_width + 4), width));
        }
    }
    lines.push(String::new());
    lines.extend(reflow(
        "Addresses: 127.0.0.1:8080  [::1]:8080  :0 (loopback, any port)  /tmp/x.sock  @abstract  $NAME",
        width,
    ));
    lines.extend(reflow("Processes: `NAME: COMMAND` runs one command in process NAME; `COMMAND &` starts a call and comes back at once; `$PROC.NAME` is an address in another process", width));
    lines.extend(reflow(
        "Data escapes: \\r \\n \\t \\0 \\\\ \\\" \\xHH",
        width,
    ));
    lines
}

/// One block of stored help text.
#[derive(Debug, PartialEq, Eq)]
enum Block {
    /// An empty line between paragraphs.
    Gap,
    /// Prose: lines joined with single spaces.
    Prose(String),
    /// `Label: text…`, its continuation lines joined to it; wrapped lines hang under the text.
    Labelled { label: String, text: String },
    /// An indented line: a row of a list, kept apart from its neighbours.
    Row(String),
}

/// The blocks of `text`, as its author laid them out.
fn blocks(text: &str) -> Vec<Block> {
    let mut blocks: Vec<Block> = Vec::new();
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blocks.push(Block::Gap);
        } else if line.starts_with(char::is_whitespace) {
            blocks.push(Block::Row(line.to_string()));
        } else if let Some((label, rest)) = label_of(line) {
            blocks.push(Block::Labelled {
                label: label.to_string(),
                text: rest.to_string(),
            });
        } else {
            match blocks.last_mut() {
                Some(Block::Prose(text) | Block::Labelled { text, .. }) => {
                    text.push(' ');
                    text.push_str(line);
                }
                _ => blocks.push(Block::Prose(line.to_string())),
            }
        }
    }
    blocks
}

/// `("Errors: ", "EADDRINUSE …")` for a line that starts with a capitalised word and a colon:
/// the label with the blanks after it, and the rest.
fn label_of(line: &str) -> Option<(&str, &str)> {
    let (word, _) = line.split_once(' ')?;
    let name = word.strip_suffix(':')?;
    let mut chars = name.chars();
    let capitalised = chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_lowercase() || c == ' ');
    if !capitalised {
        return None;
    }
    let rest = line[word.len()..].trim_start();
    Some(line.split_at(line.len() - rest.len()))
}

/// Stored help text wrapped to `width` columns (None: one line per block).
pub fn reflow(text: &str, width: Option<usize>) -> Vec<String> {
    let mut lines = Vec::new();
    for block in blocks(text) {
        match block {
            Block::Gap => lines.push(String::new()),
            Block::Prose(text) => lines.extend(hang(&text, "", width)),
            Block::Labelled { label, text } => {
                let indent = " ".repeat(display_width(&label));
                lines.extend(items(&format!("{label}{text}"), &indent, width));
            }
            Block::Row(row) => {
                // The description column of a list row: where the first run of blanks after the
                // row's first word ends.
                let lead = row.len() - row.trim_start().len();
                let column = row[lead..]
                    .find("  ")
                    .map(|gap| {
                        let after = &row[lead + gap..];
                        lead + gap + (after.len() - after.trim_start().len())
                    })
                    .unwrap_or(lead);
                lines.extend(hang(&row, &" ".repeat(column), width));
            }
        }
    }
    lines
}

/// `text` wrapped to `width` at single blanks, each line after the first indented by `indent`.
fn hang(text: &str, indent: &str, width: Option<usize>) -> Vec<String> {
    let Some(width) = width else {
        return vec![text.to_string()];
    };
    let options = Options::new(width.max(MIN_WIDTH))
        .subsequent_indent(indent)
        .word_splitter(WordSplitter::NoHyphenation);
    wrap(text, options)
        .into_iter()
        .map(|line| line.trim_end().to_string())
        .collect()
}

/// `text` whose items are separated by runs of two or more blanks (`Example:  a b     c d`),
/// wrapped to `width` between items while an item fits on a line, each line after the first
/// indented by `indent`.
fn items(text: &str, indent: &str, width: Option<usize>) -> Vec<String> {
    let Some(width) = width.map(|w| w.max(MIN_WIDTH)) else {
        return vec![text.to_string()];
    };
    let mut lines: Vec<String> = Vec::new();
    // The line being filled, without its indent, and whether it is the first.
    let mut current = String::new();
    let flush = |current: &mut String, lines: &mut Vec<String>| {
        let first = lines.is_empty();
        let options = Options::new(width)
            .initial_indent(if first { "" } else { indent })
            .subsequent_indent(indent)
            .word_splitter(WordSplitter::NoHyphenation);
        lines.extend(
            wrap(current.trim_end(), options)
                .into_iter()
                .map(|l| l.trim_end().to_string()),
        );
        current.clear();
    };
    for (item, gap) in split_items(text) {
        let taken = if lines.is_empty() { 0 } else { indent.len() };
        if !current.is_empty() && taken + display_width(&current) + display_width(item) > width {
            flush(&mut current, &mut lines);
        }
        current.push_str(item);
        current.push_str(gap);
    }
    if !current.trim().is_empty() {
        flush(&mut current, &mut lines);
    }
    lines
}

/// The items of `text` with the run of blanks after each (empty after the last).
fn split_items(text: &str) -> Vec<(&str, &str)> {
    let mut items = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        match rest.find("  ") {
            Some(at) => {
                let after = rest[at..].trim_start();
                let gap_end = rest.len() - after.len();
                items.push((&rest[..at], &rest[at..gap_end]));
                rest = after;
            }
            None => {
                items.push((rest, ""));
                rest = "";
            }
        }
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    const STORED: &str = "\
bind(2) attaches a local address to the socket: an IP and port for inet sockets, a path or @name
for unix ones. Port 0 asks the kernel to choose a free port.
Errors: EADDRINUSE (another socket holds the address, or a TIME_WAIT leftover: try SO_REUSEADDR),
EACCES (ports below 1024 need privilege).
Example:  bind srv 127.0.0.1:8080     bind srv :0     bind u /tmp/play.sock     bind u @play";

    #[test]
    fn prose_lines_join_and_labels_start_blocks() {
        assert_eq!(
            blocks(STORED),
            [
                Block::Prose("bind(2) attaches a local address to the socket: an IP and port for inet sockets, a path or @name for unix ones. Port 0 asks the kernel to choose a free port.".into()),
                Block::Labelled {
                    label: "Errors: ".into(),
                    text: "EADDRINUSE (another socket holds the address, or a TIME_WAIT leftover: try SO_REUSEADDR), EACCES (ports below 1024 need privilege).".into(),
                },
                Block::Labelled {
                    label: "Example:  ".into(),
                    text: "bind srv 127.0.0.1:8080     bind srv :0     bind u /tmp/play.sock     bind u @play".into(),
                },
            ]
        );
    }

    #[test]
    fn stored_text_reflows_to_the_width_and_keeps_every_word() {
        let words = |lines: &[String]| -> Vec<String> {
            lines
                .iter()
                .flat_map(|l| l.split_whitespace())
                .map(str::to_string)
                .collect()
        };
        let stored: Vec<String> = STORED.lines().map(str::to_string).collect();
        for width in [40, 60, 80, 100, 200] {
            let lines = reflow(STORED, Some(width));
            assert_eq!(words(&lines), words(&stored), "width {width}");
            for line in &lines {
                assert!(display_width(line) <= width, "{width}: {line:?}");
            }
        }
        assert_eq!(
            reflow(STORED, Some(80)),
            [
                "bind(2) attaches a local address to the socket: an IP and port for inet sockets,",
                "a path or @name for unix ones. Port 0 asks the kernel to choose a free port.",
                "Errors: EADDRINUSE (another socket holds the address, or a TIME_WAIT leftover:",
                "        try SO_REUSEADDR), EACCES (ports below 1024 need privilege).",
                "Example:  bind srv 127.0.0.1:8080     bind srv :0     bind u /tmp/play.sock",
                "          bind u @play",
            ]
        );
    }

    #[test]
    fn without_a_width_each_block_is_one_line() {
        assert_eq!(reflow(STORED, None).len(), 3);
    }

    #[test]
    fn list_rows_wrap_under_their_description() {
        let text = "Checks:\n  expect state SOCK STATE   the socket is in STATE (waits up to the timeout for it)";
        assert_eq!(
            reflow(text, Some(60)),
            [
                "Checks:",
                "  expect state SOCK STATE   the socket is in STATE (waits up",
                "                            to the timeout for it)",
            ]
        );
    }

    #[test]
    fn every_commands_help_fits_80_and_60_columns_with_its_words() {
        for spec in COMMANDS {
            let unwrapped = help_lines(Some(spec.name), None).expect("help");
            for width in [60, 80] {
                let lines = help_lines(Some(spec.name), Some(width)).expect("help");
                for line in &lines {
                    assert!(
                        display_width(line) <= width,
                        "help {} at {width}: {line:?}",
                        spec.name
                    );
                }
                let words = |lines: &[String]| lines.join(" ").split_whitespace().count();
                assert_eq!(words(&lines), words(&unwrapped), "help {}", spec.name);
            }
        }
        for line in overview(Some(80)) {
            assert!(display_width(&line) <= 80, "{line:?}");
        }
    }
}
