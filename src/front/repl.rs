//! The interactive prompt: rustyline with history, Tab completion and hints taken from the command
//! table. Ctrl-C at the prompt clears the line, during a blocking call it cuts the wait; Ctrl-D quits.
//!
//! No typed line is lost: lines typed while a command runs wait in the terminal, and what the
//! editor reads past the line it returns stays in its buffer for the next prompt, so they run one
//! after the other, in order, each echoed at its prompt. A bracketed paste is typed text too: its
//! lines run one by one, and its Tabs and control keys are text, not editing keys.

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::config::{Behavior, Config};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::Validator;
use rustyline::{
    Cmd, CompletionType, ConditionalEventHandler, Context, Editor, Event, EventContext,
    EventHandler, Helper, KeyCode, KeyEvent, Modifiers, RepeatCount,
};

use crate::engine::Engine;
use crate::error::Error;
use crate::front::terminal::{notice, say};
use crate::lang::{find_command, parse_line, Arg, COMMANDS};
use crate::sys::{
    ending_signal, make_sockets_nonblocking, prepare_prompt_reads, read_at_prompt,
    reserve_low_fds_while,
};

/// The line editor's helper: Tab completion, usage hints and highlighting from the command table,
/// plus what completion offers besides the fixed words: the session's socket names and fds.
#[derive(Default)]
pub struct SockHelper {
    names: Vec<String>,
    file_names: Vec<String>,
    fds: Vec<i32>,
    /// The running processes' names (`use`, `wait`, `kill`).
    processes: Vec<String>,
    files: FilenameCompleter,
    /// Colour the line and the hint (off with NO_COLOR or --color never).
    color: bool,
    /// What Enter on an empty line runs (a tutorial's suggested command), shown dimmed there.
    pub(crate) suggestion: Option<String>,
}

/// ANSI colours for the parts of a line.
const COMMAND_COLOR: &str = "\x1b[1;36m";
const NAME_COLOR: &str = "\x1b[32m";
const NUMBER_COLOR: &str = "\x1b[33m";
const STRING_COLOR: &str = "\x1b[35m";
const RESET: &str = "\x1b[0m";

impl SockHelper {
    /// A helper that completes these socket names, makefile names and fds; `color` colours the
    /// line and the hint.
    pub fn new(names: Vec<String>, file_names: Vec<String>, fds: Vec<i32>, color: bool) -> Self {
        SockHelper {
            names,
            file_names,
            fds,
            color,
            ..SockHelper::default()
        }
    }

    /// Candidates for the argument at `index` (0 = first argument) of `command`.
    fn candidates(&self, command: &str, index: usize, previous: Option<&str>) -> Vec<String> {
        let Some(spec) = find_command(command) else {
            return Vec::new();
        };
        if previous.is_some_and(|p| p.eq_ignore_ascii_case("as")) {
            return Vec::new();
        }
        let mut words = Vec::new();
        // `socket tcp` takes no TYPE: its second word is `as`.
        let shorthand =
            spec.name == "socket" && index == 1 && matches!(previous, Some("tcp" | "udp"));
        match spec.args.get(index) {
            _ if shorthand => words.push("as".to_string()),
            Some(Arg::Sock) => {
                words.extend(self.names.iter().cloned());
                words.extend(self.fds.iter().map(i32::to_string));
            }
            Some(Arg::Choice(choices)) => words.extend(choices.iter().map(|c| c.to_string())),
            Some(Arg::CommandName) => words.extend(COMMANDS.iter().map(|c| c.name.to_string())),
            Some(Arg::Addr) => {
                words.extend(self.names.iter().map(|n| format!("${n}")));
                words.extend([
                    ":0".to_string(),
                    "127.0.0.1:".to_string(),
                    "[::1]:".to_string(),
                    "@".to_string(),
                ]);
            }
            Some(Arg::Option) => {
                words.extend(crate::lang::SOCK_OPTS.iter().map(|o| o.name.to_string()))
            }
            Some(Arg::File) => words.extend(self.file_names.iter().cloned()),
            Some(Arg::Text) if matches!(spec.name, "use" | "wait" | "kill") => {
                words.extend(self.processes.iter().cloned())
            }
            Some(Arg::Number | Arg::Data | Arg::Text | Arg::Path) => {}
            None if matches!(spec.name, "socket" | "accept") => words.push("as".to_string()),
            None => {}
        }
        words
    }
}

impl Completer for SockHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let pos = floor_char_boundary(line, pos);
        let before = &line[..pos];
        // The word starts after the last blank, which may be more than one byte long (U+00A0).
        let start = before
            .char_indices()
            .rev()
            .find(|(_, c)| c.is_whitespace())
            .map_or(0, |(at, blank)| at + blank.len_utf8());
        let word = &before[start..];
        let words: Vec<&str> = before[..start].split_whitespace().collect();
        let pairs = |candidates: Vec<String>| -> Vec<Pair> {
            candidates
                .into_iter()
                .filter(|c| {
                    c.starts_with(word)
                        || c.to_ascii_lowercase()
                            .starts_with(&word.to_ascii_lowercase())
                })
                .map(|c| Pair {
                    display: c.clone(),
                    replacement: c,
                })
                .collect()
        };
        let Some((command, args)) = words.split_first() else {
            let names = COMMANDS
                .iter()
                .flat_map(|c| std::iter::once(c.name).chain(c.aliases.iter().copied()));
            return Ok((start, pairs(names.map(str::to_string).collect())));
        };
        // Unix socket paths and script files complete from the file system.
        let wants_path =
            find_command(command).is_some_and(|spec| spec.args.get(args.len()) == Some(&Arg::Path));
        if wants_path || word.starts_with('/') || word.starts_with("./") || word.starts_with("../")
        {
            let (start, files) = self.files.complete(line, pos, ctx)?;
            return Ok((start, files.into_iter().map(terminal_safe).collect()));
        }
        let candidates = self.candidates(command, args.len(), args.last().copied());
        Ok((start, pairs(candidates)))
    }
}

impl Hinter for SockHelper {
    type Hint = String;

    /// After a command word and a space, the rest of its usage, dimmed.
    fn hint(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> Option<String> {
        // Only dimmed can it be told from typed text; typing replaces it.
        if line.is_empty() && self.color {
            return self.suggestion.clone();
        }
        if pos < line.len() || !line.ends_with(' ') {
            return None;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let spec = find_command(words.first()?)?;
        let usage_words: Vec<&str> = spec.usage.split_whitespace().skip(1).collect();
        let rest: Vec<&str> = usage_words.iter().skip(words.len() - 1).copied().collect();
        (!rest.is_empty() && !spec.usage.contains('|')).then(|| rest.join(" "))
    }
}

impl SockHelper {
    /// The colour for one word of the line: the command, a known name, a number, a quoted string.
    fn word_color(&self, index: usize, word: &str) -> Option<&'static str> {
        if index == 0 {
            return find_command(word).map(|_| COMMAND_COLOR);
        }
        if word.starts_with('"') || word.starts_with('\'') {
            return Some(STRING_COLOR);
        }
        let bare = word.trim_start_matches('$');
        if self.names.iter().chain(&self.file_names).any(|n| n == bare) {
            return Some(NAME_COLOR);
        }
        word.bytes()
            .all(|b| b.is_ascii_digit())
            .then_some(NUMBER_COLOR)
    }
}

impl Highlighter for SockHelper {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        // A pasted or recalled line with ESC, C1 or bidi controls is echoed escaped, never raw
        // (the cursor may sit a few columns off on such a line; the terminal stays untouched).
        if holds_unsafe(line) {
            return Cow::Owned(crate::text::safe_line(line).into_owned());
        }
        if !self.color || line.trim_start().starts_with('!') {
            return Cow::Borrowed(line);
        }
        // Colour word by word, keeping every byte of the line (spaces, quotes) as typed.
        let mut out = String::with_capacity(line.len() * 2);
        let mut index = 0;
        let mut rest = line;
        while !rest.is_empty() {
            let blank = rest.len() - rest.trim_start().len();
            out.push_str(&rest[..blank]);
            rest = &rest[blank..];
            if rest.is_empty() {
                break;
            }
            let end = word_end(rest);
            let word = &rest[..end];
            match self.word_color(index, word) {
                Some(color) => out.push_str(&format!("{color}{word}{RESET}")),
                None => out.push_str(word),
            }
            rest = &rest[end..];
            index += 1;
        }
        Cow::Owned(out)
    }

    fn highlight_char(
        &self,
        line: &str,
        _pos: usize,
        _kind: rustyline::highlight::CmdKind,
    ) -> bool {
        self.color || holds_unsafe(line)
    }

    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        if self.color {
            Cow::Owned(format!("\x1b[2m{hint}{RESET}"))
        } else {
            Cow::Borrowed(hint)
        }
    }
}

/// A file name as completion lists it: escaped where it holds characters a terminal acts on (ESC,
/// C1, bidi controls). What it inserts stays the real name; the line is echoed escaped (see
/// `highlight`), so the raw characters never reach the terminal either way.
fn terminal_safe(pair: Pair) -> Pair {
    Pair {
        display: crate::text::safe_line(&pair.display).into_owned(),
        replacement: pair.replacement,
    }
}

/// Whether the line holds a character the terminal would act on, so that highlighting must
/// show it escaped even without colour.
fn holds_unsafe(line: &str) -> bool {
    crate::text::safe_line(line) != line
}

/// The largest char boundary of `text` at or before `pos`, so a cursor is never inside a character.
fn floor_char_boundary(text: &str, pos: usize) -> usize {
    (0..=pos.min(text.len()))
        .rev()
        .find(|&at| text.is_char_boundary(at))
        .unwrap_or(0)
}

/// Where the word at the start of `text` ends: at a blank outside quotes, or at the end.
fn word_end(text: &str) -> usize {
    let mut quote = None;
    for (at, c) in text.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => return at,
            _ => {}
        }
    }
    text.len()
}

impl std::fmt::Debug for SockHelper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SockHelper")
            .field("names", &self.names)
            .field("file_names", &self.file_names)
            .field("fds", &self.fds)
            .field("color", &self.color)
            .finish_non_exhaustive()
    }
}

impl Validator for SockHelper {}
impl Helper for SockHelper {}

/// The keys of a bracketed paste, taken as the text they are: each line end accepts the line, as
/// Enter would, so a pasted block runs line by line (the rest of the paste waits in the editor's
/// buffer for the next prompt), and a Tab or a control character in it is text or nothing, never
/// completion or an editing command. Outside a paste every key keeps its binding.
#[derive(Debug, Default)]
struct PastedKeys {
    /// Between the paste's start and end marks (`ESC [200~` … `ESC [201~`).
    pasting: AtomicBool,
    /// The paste's last key was a carriage return: a line feed right after it ends the same line.
    after_return: AtomicBool,
}

impl ConditionalEventHandler for PastedKeys {
    fn handle(&self, event: &Event, _: RepeatCount, _: bool, _: &EventContext<'_>) -> Option<Cmd> {
        let KeyEvent(key, modifiers) = *event.get(0)?;
        if key == KeyCode::BracketedPasteStart {
            self.pasting.store(true, Ordering::SeqCst);
            self.after_return.store(false, Ordering::SeqCst);
            return Some(Cmd::Noop);
        }
        if !self.pasting.load(Ordering::SeqCst) {
            return None;
        }
        let after_return = self.after_return.swap(false, Ordering::SeqCst);
        match (key, modifiers) {
            (KeyCode::BracketedPasteEnd, _) => {
                self.pasting.store(false, Ordering::SeqCst);
                Some(Cmd::Noop)
            }
            (KeyCode::Enter, _) => {
                self.after_return.store(true, Ordering::SeqCst);
                Some(Cmd::AcceptLine)
            }
            // A line feed: ends a line, unless it follows a carriage return (CR LF is one end).
            (KeyCode::Char('J'), Modifiers::CTRL) if after_return => Some(Cmd::Noop),
            (KeyCode::Char('J'), Modifiers::CTRL) => Some(Cmd::AcceptLine),
            // Insert, not SelfInsert: a bound SelfInsert is replayed as the last insert.
            (KeyCode::Char(c), Modifiers::NONE) => Some(Cmd::Insert(1, c.to_string())),
            (KeyCode::Tab, Modifiers::NONE) => Some(Cmd::Insert(1, "\t".to_string())),
            // Ctrl-C and Ctrl-D keep their meaning, so a paste whose end mark never comes cannot
            // take them away: they end the paste.
            (KeyCode::Char('C' | 'D'), Modifiers::CTRL) => {
                self.pasting.store(false, Ordering::SeqCst);
                None
            }
            _ => Some(Cmd::Noop),
        }
    }
}

/// Where history lives: $XDG_STATE_HOME/sockplay/history, else ~/.local/state/sockplay/history.
fn history_path() -> Option<PathBuf> {
    let state = std::env::var_os("XDG_STATE_HOME")
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local/state"))
        })?;
    Some(state.join("sockplay").join("history"))
}

/// Makes sure the history file exists with mode 0600 before the editor writes to it.
fn prepare_history(path: &PathBuf) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

/// What is said about a line that is not UTF-8 text.
pub(crate) const UNDECODABLE: &str =
    "error: that line is not valid UTF-8; type text, and write raw bytes as escapes like \\xff";

/// How many undecodable lines in a row are answered before the input is taken as broken.
pub(crate) const MAX_UNDECODABLE: usize = 100;

/// Whether a read failed only because the line was not valid UTF-8 (the session can go on).
pub(crate) fn is_undecodable(error: &ReadlineError) -> bool {
    matches!(error, ReadlineError::Io(e) if e.kind() == std::io::ErrorKind::InvalidData)
}

/// The line editor for a prompt, with completion and hints from the command table.
pub(crate) type LineEditor = Editor<SockHelper, DefaultHistory>;

/// Makes the line editor, its fds kept off the numbers the user's sockets get. With `--json` it
/// talks to the terminal itself (/dev/tty), so its prompt and echo never reach stdout, which
/// carries the JSON records only.
pub(crate) fn new_editor(engine: &mut Engine) -> Result<LineEditor, Error> {
    let behavior = if engine.view.json {
        Behavior::PreferTerm
    } else {
        Behavior::Stdio
    };
    let config = Config::builder()
        .completion_type(CompletionType::List)
        .behavior(behavior)
        .history_ignore_space(true)
        .history_ignore_dups(true)
        .map(|b| b.auto_add_history(true).build())
        .map_err(|error| Error::LineEditor {
            doing: "configure",
            error,
        })?;
    // The editor opens a SIGWINCH pipe for its whole life; it stays off the low numbers, though
    // the user's sockets live in the playground's processes, not here.
    let (editor, internal) = reserve_low_fds_while(|| LineEditor::with_config(config));
    make_sockets_nonblocking(&internal);
    prepare_prompt_reads(&internal);
    let mut editor = editor.map_err(|error| Error::LineEditor {
        doing: "start",
        error,
    })?;
    editor.set_helper(Some(SockHelper {
        color: engine.view.color,
        ..SockHelper::default()
    }));
    editor.bind_sequence(
        Event::Any,
        EventHandler::Conditional(Box::new(PastedKeys::default())),
    );
    // A call at the prompt that lasts says what it waits for, on the terminal only.
    engine.processes.notify_long_waits(tell_wait);
    Ok(editor)
}

/// Tells the person at the prompt what the call that has not returned waits for.
fn tell_wait(line: &str) {
    notice(format_args!("… {line} — Ctrl-C stops it"));
}

/// Tells completion about the current process's names and fds, and the processes.
pub(crate) fn refresh_completion(editor: &mut LineEditor, engine: &Engine) {
    if let Some(helper) = editor.helper_mut() {
        helper.names = engine.socket_names();
        helper.file_names = engine.file_names();
        helper.fds = engine.handle_fds();
        helper.processes = engine.process_names();
    }
}

/// Runs the prompt until quit, Ctrl-D or a signal that ends sockplay. A failed command does not
/// end it; only a line editor that cannot start or read does.
pub fn run_repl(engine: &mut Engine) -> Result<(), Error> {
    let mut editor = new_editor(engine)?;
    let history = history_path().filter(|p| prepare_history(p).is_ok());
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }

    say(format_args!(
        "sockplay {} — real sockets, and this process's FD table after every step.",
        env!("CARGO_PKG_VERSION")
    ));
    say("Type `help` for the commands, Tab to complete, Ctrl-D to quit.");
    // The first panel, before anything ran, unless the panel is off; JSON records only the
    // commands typed.
    if !engine.view.json && engine.view.panel != crate::lang::PanelPlacement::Off {
        let _ = engine.run_and_print(0, "fds", &crate::lang::Command::Fds);
    }

    let mut number = 0;
    let mut undecodable = 0;
    loop {
        // Calls that returned in the background are shown before the prompt comes back.
        if engine.print_finished().is_err() {
            break;
        }
        refresh_completion(&mut editor, engine);
        let prompt = engine.prompt();
        let read = read_at_prompt(|| editor.readline(&prompt));
        // SIGTERM or SIGHUP (the terminal closed): leave through the normal exit.
        if ending_signal().is_some() {
            break;
        }
        let line = match read {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => {
                // Ctrl-C at the prompt: the current process's call in the background, if any.
                if let Some(call) = engine.interrupt_current() {
                    say(format_args!("^C interrupts {call}"));
                    engine.settle_interrupt();
                }
                continue;
            }
            Err(ReadlineError::Eof) => break,
            Err(e) if is_undecodable(&e) && undecodable < MAX_UNDECODABLE => {
                undecodable += 1;
                say(UNDECODABLE);
                continue;
            }
            Err(error) => return Err(Error::ReadLine { error }),
        };
        undecodable = 0;
        number += 1;
        if let Some(path) = &history {
            let _ = editor.append_history(path);
        }
        match parse_line(&line) {
            Ok(None) => {}
            Ok(Some(command)) => {
                let quit = engine.ends_session(&command);
                if engine.run_and_print(number, &line, &command).is_err()
                    || quit
                    || engine.no_process_left()
                    || ending_signal().is_some()
                {
                    break;
                }
            }
            Err(error) => {
                say(format_args!("error: {}", error.pointed(&line)));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::strip_ansi;
    use rustyline::history::MemHistory;

    /// Lines with blanks and letters of every UTF-8 length, where the cursor may stand anywhere.
    const LINES: &[&str] = &[
        "send\u{a0}x",
        "send\u{a0}",
        "\u{a0}",
        "\u{3000}send\u{3000}srv\u{3000}",
        "send srv \"héllo wörld\" ",
        "socket tcp as é",
        "connect cli $srv\u{2003}",
        "bind srv ./ü/",
        "close 😀 ",
        "😀",
        "é\u{a0}é\u{a0}é",
        "set timeout\u{a0}5 ",
        "! echo ü",
        "help\u{85}se",
        "",
    ];

    #[test]
    fn completion_hint_and_highlight_work_at_every_char_boundary() {
        let helper = SockHelper {
            names: vec!["srv".into(), "é".into()],
            fds: vec![3],
            color: true,
            ..SockHelper::default()
        };
        let history = MemHistory::new();
        let ctx = Context::new(&history);
        for line in LINES {
            for pos in (0..=line.len()).filter(|&at| line.is_char_boundary(at)) {
                let (start, candidates) = helper
                    .complete(line, pos, &ctx)
                    .unwrap_or_else(|e| panic!("complete {line:?} at {pos}: {e}"));
                assert!(
                    start <= pos && line.is_char_boundary(start),
                    "{line:?} at {pos}: the word starts at {start}"
                );
                for candidate in candidates {
                    assert!(!candidate.replacement.is_empty(), "{line:?} at {pos}");
                }
                let _ = helper.hint(line, pos, &ctx);
                let shown = helper.highlight(line, pos);
                // Colour adds only SGR codes; a character a terminal acts on is shown escaped.
                assert!(
                    strip_ansi(&shown) == crate::text::safe_line(line),
                    "{line:?}: highlighting changed the text to {shown:?}"
                );
            }
        }
    }

    #[test]
    fn a_line_with_terminal_controls_is_echoed_escaped_even_without_colour() {
        let helper = SockHelper::default();
        let line = "send 3 \"\u{1b}]0;PWN\u{7}\u{202e}\u{9b}\"";
        assert_eq!(
            helper.highlight(line, line.len()),
            "send 3 \"\\x1b]0;PWN\\x07\\xe2\\x80\\xae\\xc2\\x9b\""
        );
        assert!(helper.highlight_char(line, 0, rustyline::highlight::CmdKind::Other));
        assert!(!helper.highlight_char("send 3 x", 0, rustyline::highlight::CmdKind::Other));
    }

    #[test]
    fn file_names_with_terminal_controls_are_listed_and_echoed_escaped() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let hostile = "a\u{1b}[31mPWN\u{7}\u{202e}x.sock";
        std::fs::write(dir.path().join(hostile), b"").expect("a file with ESC in its name");
        let helper = SockHelper::default();
        let history = MemHistory::new();
        let ctx = Context::new(&history);
        let line = format!("source {}/a", dir.path().display());
        let (start, candidates) = helper.complete(&line, line.len(), &ctx).expect("complete");
        assert_eq!(candidates.len(), 1);
        assert_eq!(
            candidates[0].display,
            "a\\x1b[31mPWN\\x07\\xe2\\x80\\xaex.sock"
        );
        // The completed line names the real file, and is echoed escaped.
        let completed = format!("{}{}", &line[..start], candidates[0].replacement);
        assert!(!holds_unsafe(
            &helper.highlight(&completed, completed.len())
        ));
        match crate::lang::parse_line(&completed) {
            Ok(Some(crate::lang::Command::Source { path })) => {
                assert_eq!(path, dir.path().join(hostile), "{completed}")
            }
            other => panic!("{completed:?} parsed as {other:?}"),
        }
    }

    #[test]
    fn a_word_after_a_non_ascii_blank_completes() {
        let helper = SockHelper {
            names: vec!["srv".into()],
            ..SockHelper::default()
        };
        let history = MemHistory::new();
        let ctx = Context::new(&history);
        let line = "close\u{a0}s";
        let (start, candidates) = helper.complete(line, line.len(), &ctx).expect("complete");
        assert_eq!(start, "close\u{a0}".len());
        let words: Vec<String> = candidates.into_iter().map(|c| c.replacement).collect();
        assert_eq!(words, ["srv"]);
    }
}
