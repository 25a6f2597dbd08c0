//! `set explain python`: for each command, the line of Python that makes the same calls, since most
//! learners meet sockets through Python's socket module first.

use std::os::unix::ffi::OsStrExt;

use crate::lang::{AddrSpec, Check, Command, Family, How, OptValue, Payload, SockRef, SockType};
use crate::render::is_shown_as_is;

/// A socket argument as a Python variable: its name, or `s3` for fd 3.
fn var(sock: &SockRef) -> String {
    match sock {
        SockRef::Name(name) => name.replace('-', "_"),
        SockRef::Fd(fd) => format!("s{fd}"),
    }
}

/// A new socket's variable: its `as NAME`, else `sock`.
fn new_var(name: Option<&str>) -> String {
    name.map_or_else(|| "sock".to_string(), |n| n.replace('-', "_"))
}

/// Bytes as a Python bytes literal.
fn bytes(data: &[u8]) -> String {
    let mut text = String::from("b\"");
    for &b in data {
        match b {
            b'\r' => text.push_str("\\r"),
            b'\n' => text.push_str("\\n"),
            b'\t' => text.push_str("\\t"),
            b'\\' => text.push_str("\\\\"),
            b'"' => text.push_str("\\\""),
            0x20..=0x7e => text.push(char::from(b)),
            _ => text.push_str(&format!("\\x{b:02x}")),
        }
    }
    text.push('"');
    text
}

/// Text as a Python string literal, escaped the way Python reads it back (`"\0name"`,
/// `"a\x1b\u202e"`), so the line is valid Python and shows nothing a terminal would act on; bytes
/// that are not UTF-8 make it a bytes literal, which the socket module takes as well.
fn text(raw: &[u8]) -> String {
    let Ok(text) = std::str::from_utf8(raw) else {
        return bytes(raw);
    };
    let mut out = String::from("\"");
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            // `\0` reads as an octal escape with the digits after it.
            '\0' if !chars.peek().is_some_and(|next| ('0'..='7').contains(next)) => {
                out.push_str("\\0")
            }
            c if is_shown_as_is(c) => out.push(c),
            c => match u32::from(c) {
                code @ 0..=0xff => out.push_str(&format!("\\x{code:02x}")),
                code @ 0x100..=0xffff => out.push_str(&format!("\\u{code:04x}")),
                code => out.push_str(&format!("\\U{code:08x}")),
            },
        }
    }
    out.push('"');
    out
}

/// An address as Python passes it: `("127.0.0.1", 8080)`, `"/tmp/x.sock"`, `"\0name"`.
fn address(addr: &AddrSpec) -> String {
    match addr {
        AddrSpec::Inet { host: None, port } => format!("(\"127.0.0.1\", {port})"),
        AddrSpec::Inet {
            host: Some(host),
            port,
        } => format!("(\"{host}\", {port})"),
        AddrSpec::Path(path) => text(path.as_os_str().as_bytes()),
        AddrSpec::Abstract(name) => text(&[b"\0", name.as_slice()].concat()),
        AddrSpec::Ref(name) | AddrSpec::ProcRef { name, .. } => {
            format!("{}.getsockname()", name.replace('-', "_"))
        }
        AddrSpec::Found { endpoint, .. } => match endpoint {
            crate::net::Endpoint::Inet(addr) => format!("(\"{}\", {})", addr.ip(), addr.port()),
            crate::net::Endpoint::Path(path) => text(path),
            crate::net::Endpoint::Abstract(name) => text(&[b"\0", name.as_slice()].concat()),
            crate::net::Endpoint::Unnamed => "None".to_string(),
        },
    }
}

/// The Python constant of a family (`socket.AF_INET`); a family without one by its number.
fn family(family: Family) -> String {
    match family {
        Family::Other(number) => number.to_string(),
        known => format!("socket.{}", known.constant()),
    }
}

/// The Python constant of a socket type (`socket.SOCK_STREAM`); a type without one by its number.
fn sock_type(sock_type: SockType) -> String {
    match sock_type {
        SockType::Other(number) => number.to_string(),
        known => format!("socket.{}", known.constant()),
    }
}

fn timeout(duration: Option<std::time::Duration>) -> String {
    duration.map_or_else(|| "None".to_string(), |d| format!("{}", d.as_secs_f64()))
}

/// The Python that does what `command` does, if there is a direct equivalent.
pub fn python(command: &Command) -> Option<String> {
    Some(match command {
        Command::Socket {
            family: f,
            sock_type: t,
            name,
        } => format!(
            "{} = socket.socket({}, {})",
            new_var(name.as_deref()),
            family(*f),
            sock_type(*t)
        ),
        Command::Bind { sock, addr } => format!("{}.bind({})", var(sock), address(addr)),
        Command::Listen { sock, backlog } => format!("{}.listen({backlog})", var(sock)),
        Command::Accept { sock, name } => format!(
            "{}, addr = {}.accept()",
            new_var(name.as_deref()),
            var(sock)
        ),
        Command::Connect { sock, addr } => format!("{}.connect({})", var(sock), address(addr)),
        Command::Send {
            sock,
            payload: Payload::Bytes(data),
        } => format!("{}.send({})", var(sock), bytes(data)),
        Command::Send {
            sock,
            payload: Payload::Pattern(n),
        } => format!("{}.send(b\"x\" * {n})", var(sock)),
        Command::Recv { sock, max, .. } => format!("data = {}.recv({max})", var(sock)),
        Command::Fileno { sock } => format!("{}.fileno()", var(sock)),
        Command::Detach { sock } => format!("fd = {}.detach()", var(sock)),
        Command::Close { sock } => format!("{}.close()", var(sock)),
        Command::Socketpair {
            family: f,
            sock_type: t,
            names,
        } => {
            let (a, b) = names.clone().unwrap_or(("a".into(), "b".into()));
            format!(
                "{a}, {b} = socket.socketpair({}, {})",
                family(*f),
                sock_type(*t)
            )
        }
        Command::SendTo { sock, addr, data } => {
            format!("{}.sendto({}, {})", var(sock), bytes(data), address(addr))
        }
        Command::RecvFrom { sock, max, .. } => {
            format!("data, addr = {}.recvfrom({max})", var(sock))
        }
        Command::Shutdown { sock, how } => {
            let how = match how {
                How::Read => "SHUT_RD",
                How::Write => "SHUT_WR",
                How::Both => "SHUT_RDWR",
            };
            format!("{}.shutdown(socket.{how})", var(sock))
        }
        Command::SetSockOpt {
            sock,
            option,
            value,
        } => {
            let value = match value {
                OptValue::Int(n) => n.to_string(),
                OptValue::Linger(None) => "struct.pack(\"ii\", 0, 0)".to_string(),
                OptValue::Linger(Some(secs)) => format!("struct.pack(\"ii\", 1, {secs})"),
            };
            format!(
                "{}.setsockopt(socket.{}, socket.{}, {value})",
                var(sock),
                option.level_name,
                option.name
            )
        }
        Command::GetSockOpt { sock, option } => {
            format!(
                "{}.getsockopt(socket.{}, socket.{})",
                var(sock),
                option.level_name,
                option.name
            )
        }
        Command::GetSockName { sock } => format!("{}.getsockname()", var(sock)),
        Command::GetPeerName { sock } => format!("{}.getpeername()", var(sock)),
        Command::Nonblock { sock, on } => format!(
            "{}.setblocking({})",
            var(sock),
            if *on { "False" } else { "True" }
        ),
        Command::Dup { sock, name } => {
            format!("{} = {}.dup()", new_var(name.as_deref()), var(sock))
        }
        Command::Makefile { sock, name } => {
            format!(
                "{} = {}.makefile(\"rwb\")",
                name.as_deref().unwrap_or("f"),
                var(sock)
            )
        }
        Command::ReadLine { file } => format!("line = {file}.readline()"),
        Command::Read { file, max } => format!(
            "data = {file}.read({})",
            max.map_or(String::new(), |n| n.to_string())
        ),
        Command::Write { file, data } => format!("{file}.write({})", bytes(data)),
        Command::Flush { file } => format!("{file}.flush()"),
        Command::Select {
            read,
            write,
            timeout: t,
        } => {
            let list = |socks: &[SockRef]| socks.iter().map(var).collect::<Vec<_>>().join(", ");
            format!(
                "r, w, _ = select.select([{}], [{}], [], {})",
                list(read),
                list(write),
                timeout(*t)
            )
        }
        Command::Poll { socks, timeout: t } => {
            let registers: Vec<String> = socks
                .iter()
                .map(|s| format!("p.register({})", var(s)))
                .collect();
            let ms = t.map_or_else(|| "None".to_string(), |d| d.as_millis().to_string());
            format!("p = select.poll(); {}; p.poll({ms})", registers.join("; "))
        }
        Command::EpollCreate { name } => {
            format!("{} = select.epoll()", name.as_deref().unwrap_or("ep"))
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
                var(epoll),
                var(sock),
                events.join(" | ")
            )
        }
        Command::EpollDel { epoll, sock } => format!("{}.unregister({})", var(epoll), var(sock)),
        Command::EpollWait { epoll, timeout: t } => {
            format!("events = {}.poll({})", var(epoll), timeout(*t))
        }
        Command::SendFd { sock, fd } => format!(
            "socket.send_fds({}, [b\"\\0\"], [{}.fileno()])",
            var(sock),
            var(fd)
        ),
        Command::RecvFd { sock, name } => format!(
            "msg, fds, flags, addr = socket.recv_fds({}, 1, 1); {} = socket.socket(fileno=fds[0])",
            var(sock),
            new_var(name.as_deref())
        ),
        Command::Ulimit { limit: None } => "resource.getrlimit(resource.RLIMIT_NOFILE)".to_string(),
        Command::Ulimit { limit: Some(n) } => {
            format!("resource.setrlimit(resource.RLIMIT_NOFILE, ({n}, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))")
        }
        Command::Fds => "os.listdir(\"/proc/self/fd\")".to_string(),
        Command::Sleep { duration } => format!("time.sleep({})", duration.as_secs_f64()),
        Command::Expect(Check::Data(data)) => format!("assert data == {}", bytes(data)),
        Command::Expect(Check::Eof) => "assert data == b\"\"".to_string(),
        Command::Shell { command } => format!("subprocess.run({command:?}, shell=True)"),
        Command::Unlink { path } => format!("os.unlink({:?})", path.display().to_string()),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::parse_line;

    fn explained(line: &str) -> String {
        let command = parse_line(line).expect("parses").expect("a command");
        python(&command).expect("has a Python equivalent")
    }

    #[test]
    fn the_seeds_story_reads_as_python() {
        assert_eq!(
            explained("socket tcp as srv"),
            "srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)"
        );
        assert_eq!(
            explained("bind srv 127.0.0.1:8080"),
            "srv.bind((\"127.0.0.1\", 8080))"
        );
        assert_eq!(explained("listen srv 5"), "srv.listen(5)");
        assert_eq!(explained("accept srv as conn"), "conn, addr = srv.accept()");
        assert_eq!(explained("connect 4 $srv"), "s4.connect(srv.getsockname())");
        assert_eq!(
            explained(r#"send conn "hi\r\n\x00""#),
            "conn.send(b\"hi\\r\\n\\x00\")"
        );
        assert_eq!(explained("recv conn 1024"), "data = conn.recv(1024)");
        assert_eq!(
            explained("setsockopt srv SO_REUSEADDR 1"),
            "srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)"
        );
        assert_eq!(
            explained("makefile conn as f"),
            "f = conn.makefile(\"rwb\")"
        );
    }

    #[test]
    fn addresses_are_python_literals_with_controls_escaped() {
        assert_eq!(explained("bind a @play"), r#"a.bind("\0play")"#);
        assert_eq!(explained("bind a /tmp/x.sock"), r#"a.bind("/tmp/x.sock")"#);
        assert_eq!(
            explained("bind a \"@x\u{1b}]0;T\u{7}\0\u{7f}\u{9b}\u{202e}\u{e0041}\""),
            r#"a.bind("\0x\x1b]0;T\x07\0\x7f\x9b\u202e\U000e0041")"#
        );
        assert_eq!(
            explained("connect a \"/tmp/\\\"q\u{1b}\""),
            r#"a.connect("/tmp/\\\"q\x1b")"#
        );
        // `\0` before an octal digit would read as one escape.
        assert_eq!(text(b"\x001"), r#""\x001""#);
        assert_eq!(text(b"\x00\xff"), r#"b"\x00\xff""#);
    }
}
