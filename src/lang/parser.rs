//! Turns tokens into a [`Command`]. Each command's argument grammar is a small function named in the
//! command table; they share the [`Args`] cursor, whose `expect_*` methods produce the user's errors.

use std::time::Duration;

use std::path::PathBuf;

use super::sockopt::{find_sockopt, parse_opt_value, SockOpt, SOCK_OPTS};
use super::{
    decode_data, find_command, suggest, tokenize, AddrSpec, Check, Command, CommandSpec, Family,
    How, Interest, Payload, Setting, SockRef, SockType, SsFilter, SyntaxError, Token,
};
use crate::net::SockState;
use crate::render::PanelPlacement;

/// The largest MAX a `recv` may ask for, so a typo cannot allocate gigabytes.
pub const RECV_MAX_LIMIT: usize = 16 * 1024 * 1024;

/// Parses one line holding at most one command; `Ok(None)` for blank lines and comments.
pub fn parse_line(line: &str) -> Result<Option<Command>, SyntaxError> {
    let tokens = tokenize(line)?;
    if tokens.is_empty() {
        return Ok(None);
    }
    parse_tokens(&tokens).map(Some)
}

/// Parses the tokens of one command (at least one token).
pub fn parse_tokens(tokens: &[Token]) -> Result<Command, SyntaxError> {
    let Some((head, rest)) = tokens.split_first() else {
        return Err(SyntaxError::new(1, "empty command".into()));
    };
    if let Some(process) = process_prefix(head) {
        return in_process(process, head, rest);
    }
    if let Some((last, before)) = tokens
        .split_last()
        .filter(|(last, before)| !before.is_empty() && !last.quoted && last.text == "&")
    {
        return in_background(last, before);
    }
    // `!cmd args` inside `-c`, where the words were already split: the shell command is the words.
    if let Some(first) = head.text.strip_prefix('!').filter(|w| !w.is_empty()) {
        let words: Vec<&str> = std::iter::once(first)
            .chain(rest.iter().map(|t| t.text.as_str()))
            .collect();
        return Ok(Command::Shell {
            command: words.join(" "),
        });
    }
    let Some(spec) = find_command(&head.text) else {
        let mut message = format!("unknown command `{}`", super::quoted_word(&head.text));
        if let Some(near) = suggest(&head.text) {
            message.push_str(&format!("; did you mean `{near}`?"));
        } else {
            message.push_str("; type `help` for the list");
        }
        return Err(SyntaxError::new(head.column, message));
    };
    let mut args = Args {
        spec,
        head,
        rest,
        next: 0,
    };
    let command = (spec.parse)(&mut args)?;
    args.finish()?;
    Ok(command)
}

/// The process a leading `NAME:` names, if the word is one.
fn process_prefix(head: &Token) -> Option<&str> {
    let name = head.text.strip_suffix(':')?;
    (!head.quoted && super::is_valid_name(name)).then_some(name)
}

/// `NAME: COMMAND`: the command, to run in process NAME.
fn in_process(process: &str, head: &Token, rest: &[Token]) -> Result<Command, SyntaxError> {
    let Some(first) = rest.first() else {
        return Err(SyntaxError::new(
            head.column + head.text.chars().count() + 1,
            format!("missing the COMMAND to run in `{process}`, e.g. `{process}: fds`"),
        ));
    };
    if process_prefix(first).is_some() {
        return Err(SyntaxError::new(
            first.column,
            "one process per command: `NAME: COMMAND` takes a command, not another `NAME:`".into(),
        ));
    }
    let command = parse_tokens(rest)?;
    if !command.base().runs_in_process() {
        return Err(SyntaxError::new(
            first.column,
            format!(
                "`{}` runs in sockplay itself, not in a process: type it without `{process}:`",
                command.name()
            ),
        ));
    }
    Ok(Command::In {
        process: process.to_string(),
        command: Box::new(command),
    })
}

/// `COMMAND &`: the command, to start in the background.
fn in_background(ampersand: &Token, before: &[Token]) -> Result<Command, SyntaxError> {
    let command = parse_tokens(before)?;
    if !command.may_run_in_background() {
        return Err(SyntaxError::new(
            ampersand.column,
            format!(
                "`{}` cannot run in the background: `&` starts a call in a process (accept, connect, recv, …) and comes back at once",
                command.name()
            ),
        ));
    }
    Ok(Command::Background(Box::new(command)))
}

/// A cursor over a command's arguments that knows the command's usage for its error messages.
#[derive(Debug)]
pub struct Args<'a> {
    spec: &'static CommandSpec,
    head: &'a Token,
    rest: &'a [Token],
    next: usize,
}

impl<'a> Args<'a> {
    fn peek(&self) -> Option<&'a Token> {
        self.rest.get(self.next)
    }

    fn take(&mut self) -> Option<&'a Token> {
        let token = self.rest.get(self.next);
        if token.is_some() {
            self.next += 1;
        }
        token
    }

    /// Column just past the last token, where a missing argument would go.
    fn end_column(&self) -> usize {
        let last = self.rest.last().unwrap_or(self.head);
        last.column + last.text.chars().count() + 1
    }

    fn usage_error(&self, column: usize, what: &str) -> SyntaxError {
        SyntaxError::new(column, format!("{what}; usage: {}", self.spec.usage))
    }

    fn expect(&mut self, what: &str) -> Result<&'a Token, SyntaxError> {
        match self.take() {
            Some(token) => Ok(token),
            None => Err(self.usage_error(self.end_column(), &format!("missing {what}"))),
        }
    }

    /// A keyword out of a fixed set, case-insensitive; returns its index in `choices`.
    pub fn expect_choice(&mut self, what: &str, choices: &[&str]) -> Result<usize, SyntaxError> {
        let token = self.expect(what)?;
        let lower = token.text.to_ascii_lowercase();
        choices.iter().position(|c| *c == lower).ok_or_else(|| {
            SyntaxError::new(
                token.column,
                format!(
                    "`{}` is not a {what}: use {}",
                    super::quoted_word(&token.text),
                    choices.join(", ")
                ),
            )
        })
    }

    /// One word that `read` understands (a FAMILY, a TYPE), or an error that lists `choices`
    /// like [`Args::expect_choice`].
    pub fn expect_word<T>(
        &mut self,
        what: &str,
        choices: &[&str],
        read: impl FnOnce(&str) -> Option<T>,
    ) -> Result<T, SyntaxError> {
        let token = self.expect(what)?;
        read(&token.text).ok_or_else(|| {
            SyntaxError::new(
                token.column,
                format!(
                    "`{}` is not a {what}: use {}",
                    super::quoted_word(&token.text),
                    choices.join(", ")
                ),
            )
        })
    }

    /// An fd number or a socket name.
    pub fn expect_sock(&mut self) -> Result<SockRef, SyntaxError> {
        let token = self.expect("SOCK (an fd number or a name)")?;
        parse_sock(token)
    }

    pub fn expect_addr(&mut self) -> Result<AddrSpec, SyntaxError> {
        let token = self.expect("ADDR")?;
        AddrSpec::parse(&token.text, token.column)
    }

    /// DATA: the rest of the arguments joined by single spaces, escapes decoded.
    pub fn expect_data(&mut self) -> Result<Vec<u8>, SyntaxError> {
        let first = self.expect("DATA")?;
        let mut data = decode_data(first)?;
        while let Some(token) = self.take() {
            data.push(b' ');
            data.extend(decode_data(token)?);
        }
        Ok(data)
    }

    /// A number in `range`, with `what` naming it in errors.
    pub fn expect_number<T>(
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
    pub fn optional_number<T>(
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
    pub fn optional_name(&mut self) -> Result<Option<String>, SyntaxError> {
        match self.peek() {
            Some(token) if token.is_keyword("as") => {
                self.next += 1;
                let name = self.expect("NAME after `as`")?;
                if super::is_valid_name(&name.text) {
                    Ok(Some(name.text.clone()))
                } else {
                    Err(SyntaxError::new(
                        name.column,
                        format!(
                            "`{}` cannot be a name: start with a letter or `_`, then letters, digits, `_` or `-`",
                            super::quoted_word(&name.text)
                        ),
                    ))
                }
            }
            _ => Ok(None),
        }
    }

    /// The rest of the line as one text (for `help` topics and `expect output`).
    pub fn rest_text(&mut self) -> Option<String> {
        let words: Vec<&str> = self.rest[self.next..]
            .iter()
            .map(|t| t.text.as_str())
            .collect();
        self.next = self.rest.len();
        (!words.is_empty()).then(|| words.join(" "))
    }

    fn finish(&self) -> Result<(), SyntaxError> {
        match self.peek() {
            None => Ok(()),
            Some(extra) => Err(self.usage_error(
                extra.column,
                &format!("unexpected `{}`", super::quoted_word(&extra.text)),
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
            super::quoted_word(&token.text)
        ),
    ))
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
                super::quoted_word(&token.text),
                range.start(),
                range.end()
            ),
        )),
    }
}

// ---- the argument grammar of each command, named in the command table ----

pub(super) fn socket(args: &mut Args) -> Result<Command, SyntaxError> {
    let (family, sock_type) = expect_family_type(args)?;
    let name = args.optional_name()?;
    Ok(Command::Socket {
        family,
        sock_type,
        name,
    })
}

pub(super) fn bind(args: &mut Args) -> Result<Command, SyntaxError> {
    Ok(Command::Bind {
        sock: args.expect_sock()?,
        addr: args.expect_addr()?,
    })
}

pub(super) fn listen(args: &mut Args) -> Result<Command, SyntaxError> {
    let sock = args.expect_sock()?;
    let backlog = args.optional_number("BACKLOG", 0..=65535)?.unwrap_or(128);
    Ok(Command::Listen { sock, backlog })
}

pub(super) fn accept(args: &mut Args) -> Result<Command, SyntaxError> {
    Ok(Command::Accept {
        sock: args.expect_sock()?,
        name: args.optional_name()?,
    })
}

pub(super) fn connect(args: &mut Args) -> Result<Command, SyntaxError> {
    Ok(Command::Connect {
        sock: args.expect_sock()?,
        addr: args.expect_addr()?,
    })
}

pub(super) fn send(args: &mut Args) -> Result<Command, SyntaxError> {
    let sock = args.expect_sock()?;
    let payload = if eat_keyword(args, "--bytes") {
        Payload::Pattern(args.expect_number("N (bytes)", 1..=SEND_PATTERN_LIMIT)?)
    } else {
        Payload::Bytes(args.expect_data()?)
    };
    Ok(Command::Send { sock, payload })
}

/// The most `send --bytes` may send in one command (64 MiB: enough to fill any socket buffer).
pub const SEND_PATTERN_LIMIT: usize = 64 * 1024 * 1024;

pub(super) fn recv(args: &mut Args) -> Result<Command, SyntaxError> {
    let sock = args.expect_sock()?;
    let hex = eat_keyword(args, "hex");
    let max = args
        .optional_number("MAX", 1..=RECV_MAX_LIMIT)?
        .unwrap_or(4096);
    let hex = hex || eat_keyword(args, "hex");
    Ok(Command::Recv { sock, max, hex })
}

pub(super) fn fileno(args: &mut Args) -> Result<Command, SyntaxError> {
    Ok(Command::Fileno {
        sock: args.expect_sock()?,
    })
}

pub(super) fn detach(args: &mut Args) -> Result<Command, SyntaxError> {
    Ok(Command::Detach {
        sock: args.expect_sock()?,
    })
}

pub(super) fn close(args: &mut Args) -> Result<Command, SyntaxError> {
    Ok(Command::Close {
        sock: args.expect_sock()?,
    })
}

pub(super) fn fds(_args: &mut Args) -> Result<Command, SyntaxError> {
    Ok(Command::Fds)
}

pub(super) fn set(args: &mut Args) -> Result<Command, SyntaxError> {
    let setting = match args.expect_choice("setting", &["timeout", "panel", "explain"])? {
        0 => Setting::Timeout(expect_seconds(args)?),
        2 => Setting::Explain(args.expect_choice("explain mode", &["python", "off"])? == 0),
        _ => {
            let place = args.expect_choice("panel place", &["right", "below", "off"])?;
            Setting::Panel(
                [
                    PanelPlacement::Right,
                    PanelPlacement::Below,
                    PanelPlacement::Off,
                ][place],
            )
        }
    };
    Ok(Command::Set(setting))
}

/// Seconds as a decimal number (`5`, `0.5`), at most a day.
pub fn parse_seconds(text: &str) -> Option<Duration> {
    let secs = text.parse::<f64>().ok()?;
    (secs.is_finite() && (0.0..=86_400.0).contains(&secs)).then(|| Duration::from_secs_f64(secs))
}

fn expect_seconds(args: &mut Args) -> Result<Duration, SyntaxError> {
    let token = args.expect("SECS")?;
    parse_seconds(&token.text).ok_or_else(|| {
        SyntaxError::new(
            token.column,
            format!(
                "`{}` is not a number of seconds: use e.g. 5 or 0.5 (at most 86400)",
                super::quoted_word(&token.text)
            ),
        )
    })
}

pub(super) fn help(args: &mut Args) -> Result<Command, SyntaxError> {
    Ok(Command::Help {
        topic: args.rest_text(),
    })
}

pub(super) fn sleep(args: &mut Args) -> Result<Command, SyntaxError> {
    let ms: u64 = args.expect_number("MS", 0..=600_000)?;
    Ok(Command::Sleep {
        duration: Duration::from_millis(ms),
    })
}

pub(super) fn quit(_args: &mut Args) -> Result<Command, SyntaxError> {
    Ok(Command::Quit)
}

pub(super) fn expect(args: &mut Args) -> Result<Command, SyntaxError> {
    let kinds = [
        "state", "fd", "data", "eof", "error", "open", "closed", "output",
    ];
    let check = match args.expect_choice("check", &kinds)? {
        0 => {
            let sock = args.expect_sock()?;
            let token = args.expect("STATE")?;
            let Some(state) = SockState::from_word(&token.text) else {
                let words = SockState::words();
                let mut message = format!(
                    "`{}` is not a socket state: use one of {}",
                    super::quoted_word(&token.text),
                    words.join(" ")
                );
                if let Some(near) = closest(&token.text, &words) {
                    message = format!("{message}; did you mean `{near}`?");
                }
                return Err(SyntaxError::new(token.column, message));
            };
            Check::State { sock, state }
        }
        1 => {
            let sock = args.expect_sock()?;
            let fd = args.expect_number("fd number", 0..=i32::MAX)?;
            Check::Fd { sock, fd }
        }
        2 => Check::Data(args.expect_data()?),
        3 => Check::Eof,
        4 => {
            let token = args.expect("ERRNO")?;
            let name = token.text.to_ascii_uppercase();
            if crate::sys::errno_from_name(&name).is_none() {
                return Err(SyntaxError::new(
                    token.column,
                    format!(
                        "`{}` is not an errno name: use e.g. ECONNREFUSED, EADDRINUSE, ETIMEDOUT",
                        super::quoted_word(&token.text)
                    ),
                ));
            }
            Check::Error(name)
        }
        5 => Check::Open(args.expect_number("fd number", 0..=i32::MAX)?),
        6 => Check::Closed(args.expect_number("fd number", 0..=i32::MAX)?),
        _ => {
            let bytes = args.expect_data()?;
            Check::Output(String::from_utf8_lossy(&bytes).into_owned())
        }
    };
    Ok(Command::Expect(check))
}

/// The closest of `choices` to `word`, if it is close enough to be a likely typo.
pub fn closest<'c>(word: &str, choices: &[&'c str]) -> Option<&'c str> {
    choices
        .iter()
        .map(|c| {
            (
                strsim::damerau_levenshtein(&word.to_ascii_lowercase(), &c.to_ascii_lowercase()),
                *c,
            )
        })
        // Close enough to be a typo, and never a whole replacement of a short word (`k` is not `s`).
        .filter(|(distance, c)| *distance <= (c.len() / 3).max(1) && *distance < c.len())
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| c)
}

// ---- the socket API beyond the core ----

fn expect_family_type(args: &mut Args) -> Result<(Family, SockType), SyntaxError> {
    let (family, sock_type) =
        args.expect_word("FAMILY", &crate::net::FAMILY_WORDS, crate::net::family_word)?;
    let sock_type = match sock_type {
        Some(sock_type) => sock_type,
        None => {
            let words = SockType::WORDS.map(|(word, _)| word);
            args.expect_word("TYPE", &words, SockType::from_word)?
        }
    };
    Ok((family, sock_type))
}

pub(super) fn socketpair(args: &mut Args) -> Result<Command, SyntaxError> {
    let (family, sock_type) = expect_family_type(args)?;
    let names = match args.optional_name()? {
        None => None,
        Some(first) => {
            let token = args.expect("a second NAME (socketpair makes two sockets)")?;
            let second = expect_name_text(token)?;
            if second == first {
                return Err(SyntaxError::new(
                    token.column,
                    "the two ends need different names".into(),
                ));
            }
            Some((first, second))
        }
    };
    Ok(Command::Socketpair {
        family,
        sock_type,
        names,
    })
}

fn expect_name_text(token: &Token) -> Result<String, SyntaxError> {
    if super::is_valid_name(&token.text) {
        Ok(token.text.clone())
    } else {
        Err(SyntaxError::new(
            token.column,
            format!(
                "`{}` cannot be a name: start with a letter or `_`, then letters, digits, `_` or `-`",
                super::quoted_word(&token.text)
            ),
        ))
    }
}

pub(super) fn sendto(args: &mut Args) -> Result<Command, SyntaxError> {
    Ok(Command::SendTo {
        sock: args.expect_sock()?,
        addr: args.expect_addr()?,
        data: args.expect_data()?,
    })
}

pub(super) fn recvfrom(args: &mut Args) -> Result<Command, SyntaxError> {
    let sock = args.expect_sock()?;
    let hex = eat_keyword(args, "hex");
    let max = args
        .optional_number("MAX", 1..=RECV_MAX_LIMIT)?
        .unwrap_or(4096);
    let hex = hex || eat_keyword(args, "hex");
    Ok(Command::RecvFrom { sock, max, hex })
}

pub(super) fn shutdown(args: &mut Args) -> Result<Command, SyntaxError> {
    let sock = args.expect_sock()?;
    let how = [How::Read, How::Write, How::Both]
        [args.expect_choice("direction", &["rd", "wr", "rdwr"])?];
    Ok(Command::Shutdown { sock, how })
}

fn expect_option(args: &mut Args) -> Result<&'static SockOpt, SyntaxError> {
    let token = args.expect("OPTION")?;
    find_sockopt(&token.text).ok_or_else(|| {
        let names: Vec<&str> = SOCK_OPTS.iter().map(|o| o.name).collect();
        let mut message = format!("unknown option `{}`", super::quoted_word(&token.text));
        match closest(&token.text.to_ascii_uppercase(), &names) {
            Some(near) => message.push_str(&format!("; did you mean `{near}`?")),
            None => message.push_str(&format!("; known: {}", names.join(" "))),
        }
        SyntaxError::new(token.column, message)
    })
}

pub(super) fn setsockopt(args: &mut Args) -> Result<Command, SyntaxError> {
    let sock = args.expect_sock()?;
    let option = expect_option(args)?;
    let token = args.expect("VALUE")?;
    let value = parse_opt_value(option, &token.text, token.column)?;
    Ok(Command::SetSockOpt {
        sock,
        option,
        value,
    })
}

pub(super) fn getsockopt(args: &mut Args) -> Result<Command, SyntaxError> {
    Ok(Command::GetSockOpt {
        sock: args.expect_sock()?,
        option: expect_option(args)?,
    })
}

pub(super) fn getsockname(args: &mut Args) -> Result<Command, SyntaxError> {
    Ok(Command::GetSockName {
        sock: args.expect_sock()?,
    })
}

pub(super) fn getpeername(args: &mut Args) -> Result<Command, SyntaxError> {
    Ok(Command::GetPeerName {
        sock: args.expect_sock()?,
    })
}

pub(super) fn nonblock(args: &mut Args) -> Result<Command, SyntaxError> {
    let sock = args.expect_sock()?;
    let on = args.expect_choice("on or off", &["on", "off"])? == 0;
    Ok(Command::Nonblock { sock, on })
}

pub(super) fn dup(args: &mut Args) -> Result<Command, SyntaxError> {
    Ok(Command::Dup {
        sock: args.expect_sock()?,
        name: args.optional_name()?,
    })
}

pub(super) fn makefile(args: &mut Args) -> Result<Command, SyntaxError> {
    Ok(Command::Makefile {
        sock: args.expect_sock()?,
        name: args.optional_name()?,
    })
}

fn expect_file(args: &mut Args) -> Result<String, SyntaxError> {
    let token = args.expect("NAME (of a file made with `makefile SOCK as NAME`)")?;
    expect_name_text(token)
}

pub(super) fn readline(args: &mut Args) -> Result<Command, SyntaxError> {
    Ok(Command::ReadLine {
        file: expect_file(args)?,
    })
}

pub(super) fn read(args: &mut Args) -> Result<Command, SyntaxError> {
    let file = expect_file(args)?;
    let max = args.optional_number("N", 1..=RECV_MAX_LIMIT)?;
    Ok(Command::Read { file, max })
}

pub(super) fn write(args: &mut Args) -> Result<Command, SyntaxError> {
    Ok(Command::Write {
        file: expect_file(args)?,
        data: args.expect_data()?,
    })
}

pub(super) fn flush(args: &mut Args) -> Result<Command, SyntaxError> {
    Ok(Command::Flush {
        file: expect_file(args)?,
    })
}

/// The longest wait a multiplexing call may ask for, in milliseconds (a day).
const MAX_WAIT_MS: u64 = 86_400_000;

fn expect_timeout_ms(args: &mut Args) -> Result<Duration, SyntaxError> {
    let ms: u64 = args.expect_number("timeout in MS", 0..=MAX_WAIT_MS)?;
    Ok(Duration::from_millis(ms))
}

/// Whether the next word is the keyword `word` (consumed if so).
fn eat_keyword(args: &mut Args, word: &str) -> bool {
    match args.peek() {
        Some(token) if token.is_keyword(word) => {
            args.next += 1;
            true
        }
        _ => false,
    }
}

pub(super) fn select(args: &mut Args) -> Result<Command, SyntaxError> {
    let (mut read, mut write, mut timeout) = (Vec::new(), Vec::new(), None);
    let mut list: Option<bool> = None; // Some(true): read list, Some(false): write list
    while let Some(token) = args.peek() {
        if eat_keyword(args, "read") {
            list = Some(true);
        } else if eat_keyword(args, "write") {
            list = Some(false);
        } else if eat_keyword(args, "timeout") {
            timeout = Some(expect_timeout_ms(args)?);
        } else {
            let sock = args.expect_sock()?;
            match list {
                Some(true) => read.push(sock),
                Some(false) => write.push(sock),
                None => {
                    return Err(args.usage_error(
                        token.column,
                        "say which list the socket goes in: `read` or `write` first",
                    ))
                }
            }
        }
    }
    if read.is_empty() && write.is_empty() {
        return Err(args.usage_error(args.end_column(), "select needs at least one socket"));
    }
    Ok(Command::Select {
        read,
        write,
        timeout,
    })
}

pub(super) fn poll(args: &mut Args) -> Result<Command, SyntaxError> {
    let mut socks = Vec::new();
    let mut timeout = None;
    while args.peek().is_some() {
        if eat_keyword(args, "timeout") {
            timeout = Some(expect_timeout_ms(args)?);
        } else {
            socks.push(args.expect_sock()?);
        }
    }
    if socks.is_empty() {
        return Err(args.usage_error(args.end_column(), "poll needs at least one socket"));
    }
    Ok(Command::Poll { socks, timeout })
}

pub(super) fn epoll(args: &mut Args) -> Result<Command, SyntaxError> {
    match args.expect_choice("epoll action", &["create", "add", "del", "wait"])? {
        0 => Ok(Command::EpollCreate {
            name: args.optional_name()?,
        }),
        1 => {
            let epoll = args.expect_sock()?;
            let sock = args.expect_sock()?;
            let mut interest = Interest::default();
            while args.peek().is_some() {
                match args.expect_choice("event", &["in", "out", "rdhup"])? {
                    0 => interest.read = true,
                    1 => interest.write = true,
                    _ => interest.rdhup = true,
                }
            }
            if interest == Interest::default() {
                interest.read = true;
            }
            Ok(Command::EpollAdd {
                epoll,
                sock,
                interest,
            })
        }
        2 => Ok(Command::EpollDel {
            epoll: args.expect_sock()?,
            sock: args.expect_sock()?,
        }),
        _ => {
            let epoll = args.expect_sock()?;
            let timeout = if eat_keyword(args, "timeout") {
                Some(expect_timeout_ms(args)?)
            } else {
                None
            };
            Ok(Command::EpollWait { epoll, timeout })
        }
    }
}

pub(super) fn sendfd(args: &mut Args) -> Result<Command, SyntaxError> {
    Ok(Command::SendFd {
        sock: args.expect_sock()?,
        fd: args.expect_sock()?,
    })
}

pub(super) fn recvfd(args: &mut Args) -> Result<Command, SyntaxError> {
    Ok(Command::RecvFd {
        sock: args.expect_sock()?,
        name: args.optional_name()?,
    })
}

pub(super) fn ulimit(args: &mut Args) -> Result<Command, SyntaxError> {
    args.expect_choice("resource", &["nofile"])?;
    let limit = args.optional_number("N", 0..=u64::from(u32::MAX))?;
    Ok(Command::Ulimit { limit })
}

pub(super) fn ss(args: &mut Args) -> Result<Command, SyntaxError> {
    let mut filter = SsFilter::default();
    while let Some(token) = args.take() {
        let Some(letters) = token.text.strip_prefix('-').filter(|l| !l.is_empty()) else {
            return Err(args.usage_error(
                token.column,
                &format!("`{}` is not a flag", super::quoted_word(&token.text)),
            ));
        };
        for letter in letters.chars() {
            match letter {
                't' => filter.tcp = true,
                'u' => filter.udp = true,
                'x' => filter.unix = true,
                'l' => filter.listening = true,
                'a' => filter.all = true,
                // ss -n: numbers, not names; sockplay never resolves names anyway.
                'n' => {}
                other => {
                    return Err(args.usage_error(
                        token.column,
                        &format!("unknown flag `-{other}`: use -t -u -x -l -a"),
                    ))
                }
            }
        }
    }
    Ok(Command::Ss(filter))
}

// ---- processes ----

/// A process NAME, with `what` saying which in errors.
fn expect_process(args: &mut Args, what: &str) -> Result<String, SyntaxError> {
    let token = args.expect(what)?;
    expect_name_text(token)
}

pub(super) fn spawn(args: &mut Args) -> Result<Command, SyntaxError> {
    Ok(Command::Spawn {
        name: expect_process(args, "NAME (of the new process)")?,
    })
}

pub(super) fn fork(args: &mut Args) -> Result<Command, SyntaxError> {
    Ok(Command::Fork {
        name: args.optional_name()?,
    })
}

pub(super) fn use_process(args: &mut Args) -> Result<Command, SyntaxError> {
    Ok(Command::Use {
        process: expect_process(args, "NAME (of a process, see `ps`)")?,
    })
}

pub(super) fn wait(args: &mut Args) -> Result<Command, SyntaxError> {
    let process = match args.peek() {
        Some(_) => Some(expect_process(args, "NAME")?),
        None => None,
    };
    Ok(Command::Wait { process })
}

pub(super) fn ps(_args: &mut Args) -> Result<Command, SyntaxError> {
    Ok(Command::Ps)
}

pub(super) fn kill(args: &mut Args) -> Result<Command, SyntaxError> {
    let process = expect_process(args, "NAME (of a process, see `ps`)")?;
    let signal = match args.take() {
        None => nix::sys::signal::Signal::SIGTERM,
        Some(token) => crate::sys::signal_from_name(&token.text).ok_or_else(|| {
            SyntaxError::new(
                token.column,
                format!(
                    "`{}` is not a signal: use e.g. SIGTERM, SIGKILL, SIGINT or a number",
                    super::quoted_word(&token.text)
                ),
            )
        })?,
    };
    Ok(Command::Kill {
        process,
        signal: signal as i32,
    })
}

pub(super) fn exit(_args: &mut Args) -> Result<Command, SyntaxError> {
    Ok(Command::Exit)
}

pub(super) fn inheritable(args: &mut Args) -> Result<Command, SyntaxError> {
    let sock = args.expect_sock()?;
    let on = args.expect_choice("on or off", &["on", "off"])? == 0;
    Ok(Command::Inheritable { sock, on })
}

fn expect_path(args: &mut Args) -> Result<PathBuf, SyntaxError> {
    let token = args.expect("FILE")?;
    Ok(PathBuf::from(&token.text))
}

pub(super) fn source(args: &mut Args) -> Result<Command, SyntaxError> {
    Ok(Command::Source {
        path: expect_path(args)?,
    })
}

pub(super) fn record(args: &mut Args) -> Result<Command, SyntaxError> {
    if eat_keyword(args, "stop") {
        return Ok(Command::Record { path: None });
    }
    Ok(Command::Record {
        path: Some(expect_path(args)?),
    })
}

pub(super) fn unlink(args: &mut Args) -> Result<Command, SyntaxError> {
    let token = args.expect("PATH (a Unix socket file)")?;
    Ok(Command::Unlink {
        path: PathBuf::from(&token.text),
    })
}

pub(super) fn shell(args: &mut Args) -> Result<Command, SyntaxError> {
    match args.rest_text() {
        Some(command) => Ok(Command::Shell { command }),
        None => Err(args.usage_error(args.end_column(), "missing the shell command after `!`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Command {
        parse_line(line).expect("parses").expect("a command")
    }

    fn error(line: &str) -> SyntaxError {
        parse_line(line).expect_err(line)
    }

    #[test]
    fn core_commands_parse() {
        assert_eq!(
            parse("socket tcp as srv"),
            Command::Socket {
                family: Family::Inet,
                sock_type: SockType::Stream,
                name: Some("srv".into())
            }
        );
        assert_eq!(
            parse("SOCKET unix DGRAM"),
            Command::Socket {
                family: Family::Unix,
                sock_type: SockType::Dgram,
                name: None
            }
        );
        assert_eq!(
            parse("listen srv"),
            Command::Listen {
                sock: SockRef::Name("srv".into()),
                backlog: 128
            }
        );
        assert_eq!(
            parse(r#"send 4 "GET / HTTP/1.1\r\n\r\n""#),
            Command::Send {
                sock: SockRef::Fd(4),
                payload: Payload::Bytes(b"GET / HTTP/1.1\r\n\r\n".to_vec())
            }
        );
        assert_eq!(
            parse("send 4 hello world"),
            Command::Send {
                sock: SockRef::Fd(4),
                payload: Payload::Bytes(b"hello world".to_vec())
            }
        );
        assert_eq!(
            parse("recv c"),
            Command::Recv {
                sock: SockRef::Name("c".into()),
                max: 4096,
                hex: false
            }
        );
        assert_eq!(
            parse("expect state 5 close_wait"),
            Command::Expect(Check::State {
                sock: SockRef::Fd(5),
                state: SockState::Tcp(crate::net::TcpState::CloseWait)
            })
        );
        assert_eq!(parse("exit"), Command::Exit);
        assert_eq!(parse("quit"), Command::Quit);
        assert_eq!(
            parse("set timeout 0.5"),
            Command::Set(Setting::Timeout(Duration::from_millis(500)))
        );
    }

    #[test]
    fn process_prefix_and_background() {
        assert_eq!(
            parse("client: socket tcp as c"),
            Command::In {
                process: "client".into(),
                command: Box::new(parse("socket tcp as c")),
            }
        );
        assert_eq!(
            parse("accept srv &"),
            Command::Background(Box::new(parse("accept srv")))
        );
        assert_eq!(
            parse("client: accept l as conn &"),
            Command::In {
                process: "client".into(),
                command: Box::new(Command::Background(Box::new(parse("accept l as conn")))),
            }
        );
        // Quoted, `&` is data.
        assert_eq!(
            parse("send c '&'"),
            Command::Send {
                sock: SockRef::Name("c".into()),
                payload: Payload::Bytes(b"&".to_vec())
            }
        );
        assert_eq!(
            parse("kill client SIGKILL"),
            Command::Kill {
                process: "client".into(),
                signal: libc::SIGKILL
            }
        );
        assert_eq!(
            parse("kill client"),
            Command::Kill {
                process: "client".into(),
                signal: libc::SIGTERM
            }
        );
        assert!(error("client:").message.contains("missing the COMMAND"));
        assert!(error("a: b: fds")
            .message
            .contains("one process per command"));
        assert!(error("client: ps")
            .message
            .contains("runs in sockplay itself"));
        assert!(error("spawn x &")
            .message
            .contains("cannot run in the background"));
        assert_eq!(error("socket tcp as s &&").column, 17);
        assert!(error("kill client SIGNOPE")
            .message
            .contains("not a signal"));
    }

    #[test]
    fn errors_point_at_the_column_and_teach() {
        let err = error("lisen 3");
        assert_eq!(err.column, 1);
        assert!(
            err.message.contains("did you mean `listen`"),
            "{}",
            err.message
        );
        let err = error("bind 3");
        assert!(err.message.contains("missing ADDR"), "{}", err.message);
        assert!(
            err.message.contains("usage: bind SOCK ADDR"),
            "{}",
            err.message
        );
        let err = error("listen 3 12 extra");
        assert_eq!(err.column, 13);
        let err = error("socket inet stream as 9x");
        assert_eq!(err.column, 23);
        let err = error("expect state 3 ESTABLISED");
        assert!(
            err.message.contains("did you mean `ESTABLISHED`"),
            "{}",
            err.message
        );
        let err = error("recv 3 999999999999");
        assert!(err.message.contains("MAX"), "{}", err.message);
        let err = error("socket bluetooth stream");
        assert!(err.message.contains("inet, inet6, unix"), "{}", err.message);
    }
}
