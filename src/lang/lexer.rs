//! Splits a line into words with their columns, the way a POSIX shell groups words: blanks separate,
//! `'…'` and `"…"` group. Backslashes are kept as typed so that DATA arguments can decode `\r\n`
//! afterwards; inside double quotes `\"` does not end the string. Outside quotes `;` separates
//! commands (for `-c`) and `#` at the start of a word begins a comment.

use super::SyntaxError;

/// One word of a command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The word with its quotes removed and backslashes kept.
    pub text: String,
    /// 1-based column of the word's first character.
    pub column: usize,
    /// The source column of each character of `text`, so errors inside quoted words point right.
    pub columns: Vec<usize>,
    /// Some of the word was quoted: it is data, never a keyword (`send c "--bytes"` sends it).
    pub quoted: bool,
}

impl Token {
    /// Whether this word is the keyword `word` (case-insensitive); a quoted word never is.
    pub fn is_keyword(&self, word: &str) -> bool {
        !self.quoted && self.text.eq_ignore_ascii_case(word)
    }

    /// The source column of the character at `index` in `text`.
    pub fn column_at(&self, index: usize) -> usize {
        self.columns
            .get(index)
            .copied()
            .unwrap_or(self.column + index)
    }
}

/// One command of a line: its text as written (quotes kept) and its tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandText {
    pub raw: String,
    pub tokens: Vec<Token>,
}

/// Splits `line` into commands (separated by `;` outside quotes), each with its raw text and tokens.
/// Blank commands and comments yield no entry.
pub fn split_commands(line: &str) -> Result<Vec<CommandText>, SyntaxError> {
    let mut commands = Vec::new();
    let mut current = Vec::new();
    // Byte range of the current command's text: from its first token to the end of its last.
    let mut span: Option<(usize, usize)> = None;
    let finish = |current: &mut Vec<Token>,
                  span: &mut Option<(usize, usize)>,
                  commands: &mut Vec<CommandText>| {
        if let Some((from, to)) = span.take() {
            commands.push(CommandText {
                raw: line[from..to].to_string(),
                tokens: std::mem::take(current),
            });
        }
    };
    // The column of every byte offset, computed once: counting from the line start for each
    // character would make long lines quadratic.
    let mut columns_by_byte = vec![0; line.len() + 1];
    for (column, (byte, c)) in line.char_indices().enumerate() {
        columns_by_byte[byte..byte + c.len_utf8()].fill(column + 1);
    }
    columns_by_byte[line.len()] = line.chars().count() + 1;
    let column_of = |byte: usize| columns_by_byte[byte];
    let mut chars = line.char_indices().peekable();

    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        if c == ';' {
            chars.next();
            finish(&mut current, &mut span, &mut commands);
            continue;
        }
        if c == '#' {
            break;
        }
        let mut text = String::new();
        let mut columns = Vec::new();
        let mut quoted = false;
        while let Some(&(at, c)) = chars.peek() {
            if c.is_whitespace() || c == ';' {
                break;
            }
            chars.next();
            match c {
                '\'' | '"' => {
                    quoted = true;
                    let quote = c;
                    let mut closed = false;
                    while let Some((inner, c)) = chars.next() {
                        if c == quote {
                            closed = true;
                            break;
                        }
                        text.push(c);
                        columns.push(column_of(inner));
                        // Keep `\"` (and `\\`) whole so the quote does not end the string here;
                        // the DATA decoder turns them into `"` and `\` later.
                        if c == '\\' && quote == '"' {
                            if let Some((next_at, next)) = chars.next() {
                                text.push(next);
                                columns.push(column_of(next_at));
                            }
                        }
                    }
                    if !closed {
                        return Err(SyntaxError::new(
                            column_of(at),
                            format!("unterminated {quote}…{quote} string: add the closing {quote}"),
                        ));
                    }
                }
                '\\' => {
                    text.push(c);
                    columns.push(column_of(at));
                    if let Some((next_at, next)) = chars.next() {
                        text.push(next);
                        columns.push(column_of(next_at));
                    }
                }
                _ => {
                    text.push(c);
                    columns.push(column_of(at));
                }
            }
        }
        let end = chars.peek().map_or(line.len(), |&(at, _)| at);
        span = Some((span.map_or(start, |(from, _)| from), end));
        current.push(Token {
            text,
            column: column_of(start),
            columns,
            quoted,
        });
    }
    finish(&mut current, &mut span, &mut commands);
    Ok(commands)
}

/// Splits one line that must hold at most one command. A line starting with `!` is a shell command:
/// `!` and the rest of the line, untouched.
pub fn tokenize(line: &str) -> Result<Vec<Token>, SyntaxError> {
    let trimmed = line.trim_start();
    if let Some(rest) = trimmed.strip_prefix('!') {
        let column = line.chars().count() - trimmed.chars().count() + 1;
        let mut tokens = vec![Token {
            text: "!".to_string(),
            column,
            columns: vec![column],
            quoted: false,
        }];
        let command = rest.trim();
        if !command.is_empty() {
            let start = column + 1 + (rest.chars().count() - rest.trim_start().chars().count());
            tokens.push(Token {
                text: command.to_string(),
                column: start,
                columns: (start..start + command.chars().count()).collect(),
                quoted: false,
            });
        }
        return Ok(tokens);
    }
    let mut commands = split_commands(line)?;
    match commands.len() {
        0 => Ok(Vec::new()),
        1 => Ok(commands.remove(0).tokens),
        _ => {
            let second = commands[1].tokens.first().map_or(1, |t| t.column);
            Err(SyntaxError::new(
                second,
                "one command per line: `;` separates commands only with -c".to_string(),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        tokenize(line)
            .expect("tokenizes")
            .into_iter()
            .map(|t| t.text)
            .collect()
    }

    #[test]
    fn splits_on_blanks_and_groups_quotes() {
        assert_eq!(words("send c 'a b'  \"c d\""), ["send", "c", "a b", "c d"]);
        assert_eq!(words("send c ab'c d'e"), ["send", "c", "abc de"]);
    }

    #[test]
    fn keeps_backslashes_for_the_data_decoder() {
        assert_eq!(
            words(r#"send c "GET /\r\n\"x\"""#),
            ["send", "c", r#"GET /\r\n\"x\""#]
        );
        assert_eq!(words(r"send c a\ b"), ["send", "c", r"a\ b"]);
    }

    #[test]
    fn columns_are_one_based_characters() {
        let tokens = tokenize("  bind é 'x'").expect("tokenizes");
        let columns: Vec<_> = tokens.iter().map(|t| t.column).collect();
        assert_eq!(columns, [3, 8, 10]);
    }

    #[test]
    fn comments_and_separators() {
        assert!(tokenize("# just a comment").expect("ok").is_empty());
        assert_eq!(words("fds # trailing"), ["fds"]);
        let commands = split_commands("socket tcp; send 3 \"a;b\" ;; fds").expect("ok");
        assert_eq!(commands.len(), 3);
        assert_eq!(commands[1].raw, "send 3 \"a;b\"");
        assert!(tokenize("fds; fds").is_err());
    }

    #[test]
    fn unterminated_quote_points_at_it() {
        let err = tokenize("send c 'oops").expect_err("fails");
        assert_eq!(err.column, 8);
    }
}
