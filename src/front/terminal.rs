//! The one way sockplay writes to its stdout and stderr, and measures the terminal on stdout.
//!
//! Every line passes through [`safe_line`] on its way out, so no control character, bidi override
//! or invisible character in a name, a path, an error message, a script line or tutorial text
//! reaches the terminal raw, whichever message carries it. The colours sockplay adds itself pass
//! only in lines it laid out from parts made safe first ([`Terminal::laid_out`]), and only as SGR
//! sequences. The crate's lints deny `println!`, `eprintln!`, `std::io::stdout()` and
//! `std::io::stderr()` everywhere else (Cargo.toml, clippy.toml), so a new message cannot go
//! around this module.

#![allow(
    clippy::disallowed_methods,
    reason = "this module is the one place that holds the standard streams"
)]

use std::borrow::Cow;
use std::fmt::Display;
use std::io::{self, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::engine::Screen;
use crate::text::{safe_line, safe_styled_line, wrap_to_width};

/// A stream that text reaches the terminal through, made safe line by line.
#[derive(Debug)]
pub struct Terminal<W: Write> {
    out: W,
    /// The terminal's width, to wrap text to; None for a pipe or a file, where a line stays one.
    width: Option<usize>,
}

impl<W: Write> Terminal<W> {
    pub fn new(out: W) -> Terminal<W> {
        Terminal { out, width: None }
    }

    /// The stream as a terminal `width` columns wide (None: not a terminal).
    pub fn wrapped_to(mut self, width: Option<usize>) -> Terminal<W> {
        self.width = width;
        self
    }

    /// Writes `text` and a newline; each of its lines is made safe first, then, at a terminal,
    /// wrapped between words to its width, so the terminal never cuts a word in two.
    pub fn text(&mut self, text: impl Display) -> io::Result<()> {
        let text = text.to_string();
        let safe: Vec<Cow<'_, str>> = text.split('\n').map(safe_line).collect();
        let lines = match self.width {
            Some(width) => wrap_to_width(&safe.join("\n"), width),
            None => safe.into_iter().map(Cow::into_owned).collect(),
        };
        for line in lines {
            self.out.write_all(line.as_bytes())?;
            self.out.write_all(b"\n")?;
        }
        Ok(())
    }

    /// Writes lines that sockplay laid out itself (the panel with its colours, the step output
    /// beside it) from parts already made safe: only SGR colour sequences pass as they are.
    pub fn laid_out(&mut self, lines: &[String]) -> io::Result<()> {
        for line in lines {
            self.out.write_all(safe_styled_line(line).as_bytes())?;
            self.out.write_all(b"\n")?;
        }
        Ok(())
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// The stream written to.
    pub fn into_inner(self) -> W {
        self.out
    }
}

/// sockplay's stdout, wrapped to the terminal's width when it is one.
pub fn stdout() -> Terminal<io::StdoutLock<'static>> {
    let width = stdout_is_terminal().then(terminal_width).flatten();
    Terminal::new(io::stdout().lock()).wrapped_to(width)
}

/// sockplay's stderr, wrapped to the terminal's width when it is one.
pub fn stderr() -> Terminal<io::StderrLock<'static>> {
    let width = terminal_size::terminal_size_of(io::stderr())
        .map(|(terminal_size::Width(w), _)| usize::from(w))
        .filter(|&w| w > 0);
    Terminal::new(io::stderr().lock()).wrapped_to(width)
}

/// Whether stdout carries JSON records only (`--json`): then everything else goes to stderr.
static JSON_STDOUT: AtomicBool = AtomicBool::new(false);

/// From now on stdout carries only the JSON records (`--json`) when `json`: what [`say`] prints
/// (a banner, tutorial narration, a notice) goes to stderr instead.
pub fn set_json_stdout(json: bool) {
    JSON_STDOUT.store(json, Ordering::SeqCst);
}

/// Whether stdout carries JSON records only.
pub fn json_stdout() -> bool {
    JSON_STDOUT.load(Ordering::SeqCst)
}

/// Prints `text` for the person reading, made safe: on stdout, or on stderr when stdout carries
/// JSON only. A closed stdout is not an error here: the engine notices it at the next step and
/// stops.
pub fn say(text: impl Display) {
    if json_stdout() {
        warn(text);
        return;
    }
    let mut out = stdout();
    let _ = out.text(text).and_then(|()| out.flush());
}

/// Prints text that sockplay generates from its own definitions (a completion script, the manual
/// page) on stdout, byte for byte: escaping would change what a shell or `man` reads.
pub fn print_generated(text: &[u8]) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(text)?;
    out.flush()
}

/// Tells the person at the terminal, on a line of its own, something about the command that is
/// running (`accept(3) waits for a connection on …`): on stderr, and only when stderr is a
/// terminal and stdout carries no JSON, so replays, pipes and `--json` never see it. A line the
/// terminal echoed meanwhile (keys typed ahead, which run later) is cleared first.
pub fn notice(text: impl Display) {
    if json_stdout() || !io::stderr().is_terminal() {
        return;
    }
    let mut err = stderr();
    let _ = err
        .out
        .write_all(FRESH_LINE.as_bytes())
        .and_then(|()| err.text(text));
}

/// Writes `text` over the line above the cursor, made safe: the prompt's line the line editor
/// left as it was when Enter took a suggestion. Only at a terminal, with no JSON on stdout.
pub fn rewrite_line_above(text: impl Display) {
    if json_stdout() || !io::stdout().is_terminal() {
        return;
    }
    let mut out = io::stdout().lock();
    let _ = out
        .write_all(b"\x1b[A\r")
        .and_then(|()| out.write_all(safe_line(&text.to_string()).as_bytes()))
        .and_then(|()| out.write_all(b"\x1b[K\n"))
        .and_then(|()| out.flush());
}

/// Back to the start of the line and clear it: what the terminal echoed there (`^C`, keys typed
/// during a command) goes, so the next output starts at the left edge.
const FRESH_LINE: &str = "\r\x1b[K";

/// Prints `text` on stderr, made safe. Nothing is left to tell if stderr itself is closed.
pub fn warn(text: impl Display) {
    let _ = stderr().text(text);
}

/// Whether stdout is a terminal (colours and the panel's place depend on it).
pub fn stdout_is_terminal() -> bool {
    io::stdout().is_terminal()
}

/// Returns the width of the terminal on stdout, or else the `COLUMNS` environment variable if it
/// holds a positive number, or else `None`.
pub fn terminal_width() -> Option<usize> {
    let from_tty = terminal_size::terminal_size_of(io::stdout())
        .map(|(terminal_size::Width(w), _)| usize::from(w))
        // Some pseudo-terminals report 0×0 until a size is set; that is no width at all.
        .filter(|&w| w > 0);
    from_tty.or_else(columns_env)
}

/// The height of stdout's terminal in rows; None when stdout is not a terminal (then nothing is
/// cut for height: scripts and pipes get every row).
pub fn terminal_height() -> Option<usize> {
    terminal_size::terminal_size_of(io::stdout())
        .map(|(_, terminal_size::Height(h))| usize::from(h))
        .filter(|&h| h > 0)
}

/// Reads a positive width from `COLUMNS`.
fn columns_env() -> Option<usize> {
    parse_columns(&std::env::var("COLUMNS").ok()?)
}

/// Parses a `COLUMNS` value; zero and anything that is not a number mean "unknown".
fn parse_columns(value: &str) -> Option<usize> {
    value.trim().parse::<usize>().ok().filter(|&w| w > 0)
}

/// The terminal as the engine's [`Screen`]: steps on stdout, reports on stderr, every line made
/// safe on its way out, laid out to the size of the terminal on stdout.
#[derive(Debug, Default)]
pub struct TerminalScreen;

impl Screen for TerminalScreen {
    fn show(&mut self, lines: &[String]) -> io::Result<()> {
        // A step reaches the terminal in one write, not one per line.
        let mut out = Terminal::new(io::BufWriter::with_capacity(64 * 1024, io::stdout().lock()));
        if crate::sys::interrupted() && !json_stdout() && stdout_is_terminal() {
            // Ctrl-C during the command: the terminal echoed `^C` where the cursor was, and the
            // step's first line (the panel beside it) would start two columns in.
            out.out.write_all(FRESH_LINE.as_bytes())?;
        }
        out.laid_out(lines).and_then(|()| out.flush())
    }

    fn report(&mut self, text: &str) {
        warn(text);
    }

    fn width(&self) -> Option<usize> {
        terminal_width()
    }

    fn height(&self) -> Option<usize> {
        terminal_height()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(text: &str) -> String {
        let mut terminal = Terminal::new(Vec::new());
        terminal.text(text).expect("writes to a Vec");
        String::from_utf8(terminal.into_inner()).expect("UTF-8")
    }

    fn laid_out(lines: &[&str]) -> String {
        let mut terminal = Terminal::new(Vec::new());
        let lines: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        terminal.laid_out(&lines).expect("writes to a Vec");
        String::from_utf8(terminal.into_inner()).expect("UTF-8")
    }

    #[test]
    fn text_at_a_terminal_wraps_between_words_and_in_a_pipe_stays_one_line() {
        let error = "error: that line is not valid UTF-8; type text, and write raw bytes as \
                     escapes like \\xff";
        let mut terminal = Terminal::new(Vec::new()).wrapped_to(Some(80));
        terminal.text(error).expect("writes to a Vec");
        assert_eq!(
            String::from_utf8(terminal.into_inner()).expect("UTF-8"),
            "error: that line is not valid UTF-8; type text, and write raw bytes as escapes\n\
             like \\xff\n"
        );
        assert_eq!(text(error), format!("{error}\n"));
    }

    #[test]
    fn columns_values() {
        assert_eq!(parse_columns("132"), Some(132));
        assert_eq!(parse_columns(" 80\n"), Some(80));
        assert_eq!(parse_columns("0"), None);
        assert_eq!(parse_columns("wide"), None);
        assert_eq!(parse_columns(""), None);
    }

    #[test]
    fn text_escapes_what_a_terminal_acts_on_and_keeps_the_line_breaks() {
        assert_eq!(
            text("cannot read /x/\u{1b}]0;T\u{7}\nhint: a\tb\r\u{7f}\u{9b}2J\u{202e}\0"),
            "cannot read /x/\\x1b]0;T\\x07\nhint: a\\tb\\r\\x7f\\xc2\\x9b2J\\xe2\\x80\\xae\\0\n"
        );
    }

    #[test]
    fn text_leaves_escaped_text_and_printable_unicode_alone() {
        let escaped = r#"send c "a\r\n" \x1b \\ café → 日本"#;
        assert_eq!(text(escaped), format!("{escaped}\n"));
        assert_eq!(text(""), "\n");
    }

    #[test]
    fn laid_out_lines_keep_sgr_colours_and_nothing_else() {
        assert_eq!(
            laid_out(&["\u{1b}[32m3\u{1b}[0m │ \u{1b}[1;2m@a\u{1b}[39m"]),
            "\u{1b}[32m3\u{1b}[0m │ \u{1b}[1;2m@a\u{1b}[39m\n"
        );
        assert_eq!(
            laid_out(&["\u{1b}]0;T\u{7}", "\u{1b}[2J\u{1b}[", "\u{1b}[31"]),
            "\\x1b]0;T\\x07\n\\x1b[2J\\x1b[\n\\x1b[31\n"
        );
    }
}
