//! Script replay (`sockplay FILE.sock`, `sockplay -`, piped stdin, `-c`): the whole script is parsed
//! before anything runs, then each command is echoed, executed and shown; the first failure stops it.

use std::fmt;

use nix::sys::signal::Signal;

use crate::engine::Engine;
use crate::lang::{parse_tokens, split_commands, Check, Command, SyntaxError};
use crate::render::terminal::warn;
use crate::sys::{ending_signal, interrupted, signal_status};

/// One command of a script, with where it came from.
#[derive(Debug, Clone)]
pub struct ScriptLine {
    /// 1-based line number (for `-c`, the command's position).
    pub line: usize,
    /// The command as written (for echo and JSON).
    pub text: String,
    pub command: Command,
}

/// A parsed script.
#[derive(Debug, Clone)]
pub struct Script {
    /// How errors name the script: its path, `<stdin>` or `-c`.
    pub source: String,
    pub lines: Vec<ScriptLine>,
}

/// A syntax error in a script, located.
#[derive(Debug)]
pub struct ScriptError {
    pub source: String,
    pub line: usize,
    pub text: String,
    pub error: SyntaxError,
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: error: {}",
            self.source,
            self.line,
            self.error.column,
            self.error.pointed(&self.text)
        )
    }
}

impl Script {
    /// Parses a script file's bytes, one command per line. A script is UTF-8 text: a byte sequence
    /// that is not is refused where it stands (raw bytes are written as `\xHH` escapes), never
    /// silently replaced. A leading byte-order mark is skipped.
    pub fn parse_bytes(source: &str, bytes: &[u8]) -> Result<Script, ScriptError> {
        let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
        match std::str::from_utf8(bytes) {
            Ok(text) => Script::parse(source, text),
            Err(error) => {
                let valid = &bytes[..error.valid_up_to()];
                let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
                let line_start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
                let before = String::from_utf8_lossy(&valid[line_start..]).into_owned();
                let line_end = bytes[line_start..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(bytes.len(), |i| line_start + i);
                let bad = bytes.get(error.valid_up_to()).copied().unwrap_or(0);
                Err(ScriptError {
                    source: source.to_string(),
                    line,
                    text: String::from_utf8_lossy(&bytes[line_start..line_end]).into_owned(),
                    error: SyntaxError::new(
                        before.chars().count() + 1,
                        format!("invalid UTF-8 (byte 0x{bad:02x}): a script is text; write raw bytes as escapes, e.g. \\x{bad:02x}"),
                    ),
                })
            }
        }
    }

    /// Parses a script's text, one command per line.
    pub fn parse(source: &str, text: &str) -> Result<Script, ScriptError> {
        let mut lines = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let located = |error| ScriptError {
                source: source.to_string(),
                line: index + 1,
                text: raw.to_string(),
                error,
            };
            let tokens = crate::lang::tokenize(raw).map_err(located)?;
            if tokens.is_empty() {
                continue;
            }
            let command = parse_tokens(&tokens).map_err(located)?;
            lines.push(ScriptLine {
                line: index + 1,
                text: raw.trim().to_string(),
                command,
            });
        }
        Ok(Script {
            source: source.to_string(),
            lines,
        })
    }

    /// Parses `-c` text: commands separated by `;` outside quotes.
    pub fn parse_commands(text: &str) -> Result<Script, ScriptError> {
        let source = "-c".to_string();
        let located = |line, error| ScriptError {
            source: source.clone(),
            line,
            text: text.to_string(),
            error,
        };
        let commands = split_commands(text).map_err(|e| located(1, e))?;
        let mut lines = Vec::new();
        for (index, text) in commands.iter().enumerate() {
            let command = parse_tokens(&text.tokens).map_err(|e| located(index + 1, e))?;
            lines.push(ScriptLine {
                line: index + 1,
                text: text.raw.clone(),
                command,
            });
        }
        Ok(Script { source, lines })
    }
}

/// Runs a parsed script; returns the exit status (0 all held, 1 a failure, 128 + the signal when
/// one ended it: 130 Ctrl-C, 143 SIGTERM, 129 SIGHUP). When stdout goes away the script stops,
/// with the status of what ran so far.
pub fn run_script(script: &Script, engine: &mut Engine) -> i32 {
    for (index, line) in script.lines.iter().enumerate() {
        if engine.ends_session(&line.command) {
            return 0;
        }
        // Asked to end (SIGTERM, SIGHUP, Ctrl-C) between two commands: run no more.
        if let Some(signal) = ending_signal() {
            warn(format_args!(
                "{}:{}: not run: {}",
                script.source,
                line.line,
                ended_by(signal)
            ));
            return signal_status(signal);
        }
        let (step, shown) = match engine.run_and_print(line.line, &line.text, &line.command) {
            Ok(step) => (step, true),
            Err(unshown) => (unshown.step, false),
        };
        let ending = ending_signal();
        if let Some(failure) = &step.outcome.failure {
            let excused = matches!(
                script.lines.get(index + 1).map(|next| next.command.base()),
                Some(Command::Expect(Check::Error(_)))
            ) && !matches!(line.command.base(), Command::Expect(_));
            if !excused || ending.is_some() {
                warn(format_args!(
                    "{}:{}: {}",
                    script.source,
                    line.line,
                    failure.headline()
                ));
                return ending.map_or(1, signal_status);
            }
        }
        if let Some(signal) = ending {
            warn(format_args!(
                "{}:{}: {}",
                script.source,
                line.line,
                ended_by(signal)
            ));
            return signal_status(signal);
        }
        // stdout is gone (piped into `head`, or its reader died): stop. The status still tells
        // whether the commands that ran held; the checks that follow this one cannot run.
        if !shown {
            return 0;
        }
        // Ctrl-C in a script that another runs (`source` at the prompt) stops that script.
        if interrupted() && step.outcome.failure.is_none() {
            warn(format_args!(
                "{}:{}: interrupted by Ctrl-C",
                script.source, line.line
            ));
            return 130;
        }
    }
    0
}

/// How a replay that a signal ended says so.
fn ended_by(signal: Signal) -> String {
    match signal {
        Signal::SIGINT => "interrupted by Ctrl-C".to_string(),
        signal => format!("ended by {}", signal.as_str()),
    }
}
