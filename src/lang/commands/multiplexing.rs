//! Waiting on many sockets: select, poll and epoll, each defined once (its help, its argument
//! grammar and its Python line).

use super::prelude::*;
use crate::lang::Interest;
use crate::net::{words, Words};

/// The words that start `select`'s lists and its timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelectWord {
    Read,
    Write,
    Timeout,
}

words!(SelectWord {
    "read" => SelectWord::Read,
    "write" => SelectWord::Write,
    "timeout" => SelectWord::Timeout,
});

/// What `epoll` does: its first word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpollAction {
    Create,
    Add,
    Del,
    Wait,
}

words!(EpollAction {
    "create" => EpollAction::Create,
    "add" => EpollAction::Add,
    "del" => EpollAction::Del,
    "wait" => EpollAction::Wait,
});

/// An event `epoll add` registers for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpollEvent {
    In,
    Out,
    Rdhup,
}

words!(EpollEvent {
    "in" => EpollEvent::In,
    "out" => EpollEvent::Out,
    "rdhup" => EpollEvent::Rdhup,
});

/// A wait as Python's select and epoll take it: seconds, or None for no limit.
fn seconds(duration: Option<std::time::Duration>) -> String {
    duration.map_or_else(|| "None".to_string(), |d| format!("{}", d.as_secs_f64()))
}

pub static SELECT: CommandSpec = CommandSpec {
    name: "select",
    aliases: &[],
    group: Group::Multiplexing,
    usage: "select [read SOCK…] [write SOCK…] [timeout MS]",
    summary: "wait until some of the sockets are ready to read or write",
    details: "\
select(2) watches several fds at once and returns the ones ready: readable (data, EOF, or for a
listener a connection waiting to be accepted) or writable (room in the send buffer). After it, a
recv or accept on a ready fd does not block. Without `timeout` it waits up to the session timeout;
`timeout 0` just looks. fds must be below FD_SETSIZE (1024): that limit is why poll and epoll exist.
Example:  select read srv conn timeout 1000",
    args: &[
        Arg::Choice(SelectWord::WORDS),
        Arg::Sock,
        Arg::Sock,
        Arg::Sock,
    ],
    runs_in: RunsIn::Session,
    panel: Panel::Shown,
    parse: parse_select,
    python: |command, py| match command {
        Command::Select {
            read,
            write,
            timeout,
        } => {
            let list = |socks: &[SockRef]| {
                socks
                    .iter()
                    .map(|sock| py.var(sock))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            Some(format!(
                "r, w, _ = select.select([{}], [{}], [], {})",
                list(read),
                list(write),
                seconds(*timeout)
            ))
        }
        _ => None,
    },
};

fn parse_select(args: &mut Args) -> Result<Command, SyntaxError> {
    let (mut read, mut write, mut timeout) = (Vec::new(), Vec::new(), None);
    // The list the sockets that follow go in: `read` or `write`, once one was named.
    let mut list = None;
    while let Some(token) = args.peek() {
        match args.eat_word::<SelectWord>() {
            Some(SelectWord::Timeout) => timeout = Some(args.expect_timeout_ms()?),
            Some(word) => list = Some(word),
            None => {
                let sock = args.expect_sock()?;
                match list {
                    Some(SelectWord::Read) => read.push(sock),
                    Some(SelectWord::Write) => write.push(sock),
                    _ => {
                        return Err(args.usage_error(
                            token.column,
                            "say which list the socket goes in: `read` or `write` first",
                        ))
                    }
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

pub static POLL: CommandSpec = CommandSpec {
    name: "poll",
    aliases: &[],
    group: Group::Multiplexing,
    usage: "poll SOCK… [timeout MS]",
    summary: "the events each socket has now (POLLIN, POLLOUT, POLLHUP, POLLRDHUP, POLLERR)",
    details: "\
poll(2) asks for POLLIN, POLLOUT and POLLRDHUP on each socket and shows what came back: POLLIN data
or a pending connection, POLLOUT room to send, POLLRDHUP the peer shut its writing side, POLLHUP
no connection either way (both directions shut, reset, or a socket that never connected: a fresh
one reports POLLOUT|POLLHUP), POLLERR an error is pending (read it with getsockopt SO_ERROR).
Example:  poll srv conn timeout 0",
    args: &[Arg::Sock, Arg::Sock, Arg::Sock],
    runs_in: RunsIn::Session,
    panel: Panel::Shown,
    parse: |args| {
        let mut socks = Vec::new();
        let mut timeout = None;
        while args.peek().is_some() {
            if args.eat_keyword("timeout") {
                timeout = Some(args.expect_timeout_ms()?);
            } else {
                socks.push(args.expect_sock()?);
            }
        }
        if socks.is_empty() {
            return Err(args.usage_error(args.end_column(), "poll needs at least one socket"));
        }
        Ok(Command::Poll { socks, timeout })
    },
    python: |command, py| match command {
        Command::Poll { socks, timeout } => {
            let registers: Vec<String> = socks
                .iter()
                // The events sockplay's poll asks for (Python's default adds POLLPRI, not
                // POLLRDHUP).
                .map(|s| {
                    format!(
                        "p.register({}, select.POLLIN | select.POLLOUT | select.POLLRDHUP)",
                        py.var(s)
                    )
                })
                .collect();
            let ms = timeout.map_or_else(|| "None".to_string(), |d| d.as_millis().to_string());
            Some(format!(
                "p = select.poll(); {}; p.poll({ms})",
                registers.join("; ")
            ))
        }
        _ => None,
    },
};

pub static EPOLL: CommandSpec = CommandSpec {
    name: "epoll",
    aliases: &[],
    group: Group::Multiplexing,
    usage: "epoll create [as NAME] | add EP SOCK [in] [out] [rdhup] | del EP SOCK | wait EP [timeout MS]",
    summary: "an epoll instance: register sockets once, then wait for the ready ones",
    details: "\
epoll(7) keeps the interest list in the kernel: `epoll create` makes an epoll fd (it shows in the
panel), `epoll add EP SOCK in` registers a socket for readability (out: writability, rdhup: the
peer's half-close), `epoll wait EP` returns only the ready ones, however many are registered.
Example:  epoll create as ep;  epoll add ep srv in;  epoll wait ep timeout 1000",
    args: &[
        Arg::Choice(EpollAction::WORDS),
        Arg::Sock,
        Arg::Sock,
        Arg::Choice(EpollEvent::WORDS),
    ],
    runs_in: RunsIn::Session,
    panel: Panel::Shown,
    parse: parse_epoll,
    python: python_epoll,
};

fn parse_epoll(args: &mut Args) -> Result<Command, SyntaxError> {
    match args.expect_word("epoll action")? {
        EpollAction::Create => Ok(Command::EpollCreate {
            name: args.optional_name()?,
        }),
        EpollAction::Add => {
            let epoll = args.expect_sock()?;
            let sock = args.expect_sock()?;
            let mut interest = Interest::default();
            while args.peek().is_some() {
                match args.expect_word("event")? {
                    EpollEvent::In => interest.read = true,
                    EpollEvent::Out => interest.write = true,
                    EpollEvent::Rdhup => interest.rdhup = true,
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
        EpollAction::Del => Ok(Command::EpollDel {
            epoll: args.expect_sock()?,
            sock: args.expect_sock()?,
        }),
        EpollAction::Wait => {
            let epoll = args.expect_sock()?;
            let timeout = if args.eat_keyword("timeout") {
                Some(args.expect_timeout_ms()?)
            } else {
                None
            };
            Ok(Command::EpollWait { epoll, timeout })
        }
    }
}

fn python_epoll(command: &Command, py: &Scope) -> Option<String> {
    Some(match command {
        Command::EpollCreate { name } => {
            format!("{} = select.epoll()", py.new_var(name.as_deref(), 0))
        }
        Command::EpollAdd {
            epoll,
            sock,
            interest,
        } => {
            let mut events = Vec::new();
            if interest.read {
                events.push("select.EPOLLIN");
            }
            if interest.write {
                events.push("select.EPOLLOUT");
            }
            if interest.rdhup {
                events.push("select.EPOLLRDHUP");
            }
            format!(
                "{}.register({}, {})",
                py.var(epoll),
                py.var(sock),
                events.join(" | ")
            )
        }
        Command::EpollDel { epoll, sock } => {
            format!("{}.unregister({})", py.var(epoll), py.var(sock))
        }
        Command::EpollWait { epoll, timeout } => {
            format!("events = {}.poll({})", py.var(epoll), seconds(*timeout))
        }
        _ => return None,
    })
}
