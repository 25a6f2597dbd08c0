//! [`Args`]: the cursor a command's parse function reads its arguments with. Its `expect_*` methods
//! produce the user's errors, each ending with the command's usage; `optional_*` and `eat_*` take a
//! word only when it is there.

use std::path::PathBuf;
use std::time::Duration;

use super::sockopt::{find_sockopt, SockOpt, SOCK_OPTS};
use super::{
    decode_data, parse_seconds, quoted_word, AddrSpec, CommandSpec, Family, SockRef, SockType,
    SyntaxError, Token,
};
use crate::net::Words;
use crate::text::closest;

/// The longest wait a multiplexing call may ask for, in milliseconds (a day).
const MAX_WAIT_MS: u64 = 86_400_000;

/// A cursor over a command's arguments that knows the command's usage for its error messages.
#[derive(Debug)]
pub struct Args<'a> {
    spec: &'static CommandSpec,
    head: &'a Token,
    rest: &'a [Token],
    next: usize,
}

impl<'a> Args<'a> {
    /// The arguments `rest` of the command `spec`, whose name the user typed as `head`.
    pub(super) fn new(spec: &'static CommandSpec, head: &'a Token, rest: &'a [Token]) -> Args<'a> {
        Args {
            spec,
            head,
            rest,
            next: 0,
        }
    }

    pub(super) fn peek(&self) -> Option<&'a Token> {
        self.rest.get(self.next)
    }

    pub(super) fn take(&mut self) -> Option<&'a Token> {
        let token = self.rest.get(self.next);
        if token.is_some() {
            self.next += 1;
        }
        token
    }

    /// Column just past the last token, where a missing argument would go.
    pub(super) fn end_column(&self) -> usize {
        let last = self.rest.last().unwrap_or(self.head);
        last.column + last.text.chars().count() + 1
    }

    /// An error at `column` that ends with the command's usage.
    pub(super) fn usage_error(&self, column: usize, what: &str) -> SyntaxError {
        SyntaxError::new(column, format!("{what}; usage: {}", self.spec.usage))
    }

    /// The next word, whatever it is.
    pub(super) fn expect(&mut self, what: &str) -> Result<&'a Token, SyntaxError> {
        match self.take() {
            Some(token) => Ok(token),
            None => Err(self.usage_error(self.end_column(), &format!("missing {what}"))),
        }
    }

    /// A word out of the type's own list (`rd`, `wr`, `rdwr` for a direction), any case.
    pub(super) fn expect_word<T: Words>(&mut self, what: &str) -> Result<T, SyntaxError> {
        self.expect_word_in(what, T::WORDS, T::from_word)
    }

    /// A word that `read` understands, or an error that lists `choices`.
    pub(super) fn expect_word_in<T>(
        &mut self,
        what: &str,
        choices: &[&str],
        read: impl FnOnce(&str) -> Option<T>,
    ) -> Result<T, SyntaxError> {
        let token = self.expect(what)?;
        read(&token.text).ok_or_else(|| {
            let mut message = format!(
                "`{}` is not a {what}: use {}",
                quoted_word(&token.text),
                choices.join(", ")
            );
            if let Some(near) = closest(&token.text, choices) {
                message.push_str(&format!("; did you mean `{near}`?"));
            }
            SyntaxError::new(token.column, message)
        })
    }

    /// The next word when it is one of the type's words, unquoted (consumed if so).
    pub(super) fn eat_word<T: Words>(&mut self) -> Option<T> {
        let token = self.peek().filter(|token| !token.quoted)?;
        let value = T::from_word(&token.text)?;
        self.next += 1;
        Some(value)
    }

    /// Whether the next word is the keyword `word` (consumed if so).
    pub(super) fn eat_keyword(&mut self, word: &str) -> bool {
        match self.peek() {
            Some(token) if token.is_keyword(word) => {
                self.next += 1;
                true
            }
            _ => false,
        }
    }

    /// An fd number or a socket name.
    pub(super) fn expect_sock(&mut self) -> Result<SockRef, SyntaxError> {
        let token = self.expect("SOCK (an fd number or a name)")?;
        parse_sock(token)
    }

    pub(super) fn expect_addr(&mut self) -> Result<AddrSpec, SyntaxError> {
        let token = self.expect("ADDR")?;
        AddrSpec::parse(&token.text, token.column)
    }

    /// DATA: the rest of the arguments joined by single spaces, escapes decoded.
    pub(super) fn expect_data(&mut self) -> Result<Vec<u8>, SyntaxError> {
        self.expect_rest("DATA")
    }

    /// The rest of the arguments joined by single spaces, escapes decoded; `what` names it in
    /// errors (`DATA`, `TEXT`).
    pub(super) fn expect_rest(&mut self, what: &str) -> Result<Vec<u8>, SyntaxError> {
        let first = self.expect(what)?;
        let mut data = decode_data(first)?;
        while let Some(token) = self.take() {
            data.push(b' ');
            data.extend(decode_data(token)?);
        }
        Ok(data)
    }

    /// A number in `range`, with `what` naming it in errors.
    pub(super) fn expect_number<T>(
        &mut self,
        what: &str,
        range: std::ops::RangeInclusive<T>,
    ) -> Result<T, SyntaxError>
    where
        T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
    {
        let token = self.expect(what)?;
        parse_number(token, what, range)
    }

    /// An optional trailing number.
    pub(super) fn optional_number<T>(
        &mut self,
        what: &str,
        range: std::ops::RangeInclusive<T>,
    ) -> Result<Option<T>, SyntaxError>
    where
        T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
    {
        match self.peek() {
            Some(token) if !token.is_keyword("as") && !token.is_keyword("hex") => {
                self.next += 1;
                parse_number(token, what, range).map(Some)
            }
            _ => Ok(None),
        }
    }

    /// An optional `as NAME` at the end.
    pub(super) fn optional_name(&mut self) -> Result<Option<String>, SyntaxError> {
        if !self.eat_keyword("as") {
            return Ok(None);
        }
        let token = self.expect("NAME after `as`")?;
        name_text(token).map(Some)
    }

    /// A NAME that is not after `as` (the second end of a socketpair).
    pub(super) fn expect_name(&mut self, what: &str) -> Result<(String, usize), SyntaxError> {
        let token = self.expect(what)?;
        Ok((name_text(token)?, token.column))
    }

    /// The name of a file object made with `makefile`.
    pub(super) fn expect_file(&mut self) -> Result<String, SyntaxError> {
        self.expect_name("NAME (of a file made with `makefile SOCK as NAME`)")
            .map(|(name, _)| name)
    }

    /// FAMILY, then TYPE unless the family word named one (`tcp`, `udp`).
    pub(super) fn expect_family_type(&mut self) -> Result<(Family, SockType), SyntaxError> {
        let (family, sock_type) =
            self.expect_word_in("FAMILY", crate::net::FAMILY_WORDS, crate::net::family_word)?;
        let sock_type = match sock_type {
            Some(sock_type) => sock_type,
            None => self.expect_word("TYPE")?,
        };
        Ok((family, sock_type))
    }

    /// A socket option by name, with a "did you mean" for a typo.
    pub(super) fn expect_option(&mut self) -> Result<&'static SockOpt, SyntaxError> {
        let token = self.expect("OPTION")?;
        find_sockopt(&token.text).ok_or_else(|| {
            let names: Vec<&str> = SOCK_OPTS.iter().map(|o| o.name).collect();
            let mut message = format!("unknown option `{}`", quoted_word(&token.text));
            match closest(&token.text.to_ascii_uppercase(), &names) {
                Some(near) => message.push_str(&format!("; did you mean `{near}`?")),
                None => message.push_str(&format!("; known: {}", names.join(" "))),
            }
            SyntaxError::new(token.column, message)
        })
    }

    /// Milliseconds to wait, at most a day.
    pub(super) fn expect_timeout_ms(&mut self) -> Result<Duration, SyntaxError> {
        let ms: u64 = self.expect_number("timeout in MS", 0..=MAX_WAIT_MS)?;
        Ok(Duration::from_millis(ms))
    }

    /// Seconds as a decimal number (`5`, `0.5`).
    pub(super) fn expect_seconds(&mut self) -> Result<Duration, SyntaxError> {
        let token = self.expect("SECS")?;
        parse_seconds(&token.text).ok_or_else(|| {
            SyntaxError::new(
                token.column,
                format!(
                    "`{}` is not a number of seconds: use e.g. 5 or 0.5 (at most 86400)",
                    quoted_word(&token.text)
                ),
            )
        })
    }

    /// A file path, as typed.
    pub(super) fn expect_path(&mut self, what: &str) -> Result<PathBuf, SyntaxError> {
        let token = self.expect(what)?;
        Ok(PathBuf::from(&token.text))
    }

    /// The rest of the line as one text (for `help` topics and `!`).
    pub(super) fn rest_text(&mut self) -> Option<String> {
        let words: Vec<&str> = self.rest[self.next..]
            .iter()
            .map(|t| t.text.as_str())
            .collect();
        self.next = self.rest.len();
        (!words.is_empty()).then(|| words.join(" "))
    }

    /// Refuses a word left over after the command's arguments.
    pub(super) fn finish(&self) -> Result<(), SyntaxError> {
        match self.peek() {
            None => Ok(()),
            Some(extra) => Err(self.usage_error(
                extra.column,
                &format!("unexpected `{}`", quoted_word(&extra.text)),
            )),
        }
    }
}

fn parse_sock(token: &Token) -> Result<SockRef, SyntaxError> {
    if token.text.bytes().all(|b| b.is_ascii_digit()) {
        return token.text.parse::<i32>().map(SockRef::Fd).map_err(|_| {
            SyntaxError::new(token.column, format!("fd `{}` is too large", token.text))
        });
    }
    if super::is_valid_name(&token.text) {
        return Ok(SockRef::Name(token.text.clone()));
    }
    Err(SyntaxError::new(
        token.column,
        format!(
            "`{}` is not a socket: give its fd number (3) or the name from `as NAME`",
            quoted_word(&token.text)
        ),
    ))
}

fn name_text(token: &Token) -> Result<String, SyntaxError> {
    if super::is_valid_name(&token.text) {
        Ok(token.text.clone())
    } else {
        Err(SyntaxError::new(
            token.column,
            format!(
                "`{}` cannot be a name: start with a letter or `_`, then letters, digits, `_` or `-`",
                quoted_word(&token.text)
            ),
        ))
    }
}

fn parse_number<T>(
    token: &Token,
    what: &str,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, SyntaxError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    match token.text.parse::<T>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(SyntaxError::new(
            token.column,
            format!(
                "`{}` is not a valid {what}: use a number from {} to {}",
                quoted_word(&token.text),
                range.start(),
                range.end()
            ),
        )),
    }
}
