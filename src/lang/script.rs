//! A script: a file, stdin or `-c` text parsed whole before anything runs, each command with the
//! line it came from, or the first syntax error, located; and the rule for which failures a script
//! expects.

use std::fmt;

use super::{parse_tokens, split_commands, tokenize, Check, Command, SyntaxError};

/// Whether a failure of `failed` is expected by the command after it: a command that fails is
/// excused when the next is `expect error …`, which checks that very failure; a check that does
/// not hold never is.
pub fn failure_excused(failed: &Command, next: Option<&Command>) -> bool {
    matches!(
        next.map(Command::base),
        Some(Command::Expect(Check::Error(_)))
    ) && !matches!(failed.base(), Command::Expect(_))
}

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
            let tokens = tokenize(raw).map_err(located)?;
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

    /// Whether a failure of the command at `index` is excused by the line after it
    /// ([`failure_excused`]).
    pub fn excuses(&self, index: usize) -> bool {
        self.lines.get(index).is_some_and(|failed| {
            failure_excused(
                &failed.command,
                self.lines.get(index + 1).map(|next| &next.command),
            )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_is_excused_by_an_expect_error_right_after_it_and_a_failed_check_never() {
        let script = Script::parse(
            "t.sock",
            "connect 3 127.0.0.1:1\nexpect error ECONNREFUSED\nexpect open 3\nexpect error EBADF\nclose 3\n\nexpect error EBADF\nsend 3 x\n",
        )
        .expect("parses");
        let excused: Vec<bool> = (0..script.lines.len()).map(|i| script.excuses(i)).collect();
        // A blank line between a command and its check does not matter: lines are commands.
        assert_eq!(excused, [true, false, false, false, true, false, false]);
        assert!(!script.excuses(script.lines.len()));
    }
}
