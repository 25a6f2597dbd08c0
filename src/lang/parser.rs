//! Turns tokens into a [`Command`]: the command's name finds its definition in the table, and the
//! definition's own parse function reads the arguments through the [`Args`] cursor.

use std::time::Duration;

use super::{find_command, suggest, tokenize, Args, Command, SyntaxError, Token};

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
    let mut args = Args::new(spec, head, rest);
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
    if !command.base().concerns_one_process() {
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

/// Seconds as a decimal number (`5`, `0.5`), at most a day.
pub fn parse_seconds(text: &str) -> Option<Duration> {
    let secs = text.parse::<f64>().ok()?;
    (secs.is_finite() && (0.0..=86_400.0).contains(&secs)).then(|| Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::Setting;
    use crate::lang::{Check, Family, Payload, SockRef, SockType};
    use crate::net::SockState;

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
                signal: nix::sys::signal::Signal::SIGKILL as i32
            }
        );
        assert_eq!(
            parse("kill client"),
            Command::Kill {
                process: "client".into(),
                signal: nix::sys::signal::Signal::SIGTERM as i32
            }
        );
        assert_eq!(
            parse("client: fds"),
            Command::In {
                process: "client".into(),
                command: Box::new(Command::Fds),
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
