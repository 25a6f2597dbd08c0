//! The pieces of a Python line (`set explain python`): variables, bytes and string literals,
//! addresses and constants as Python's socket module spells them. Each command's own line is part
//! of its definition in `commands/`; most learners meet sockets through Python first.

use std::collections::BTreeMap;
use std::os::unix::ffi::OsStrExt;

use super::{AddrSpec, Family, SockRef, SockType};
use crate::text::is_shown_as_is;

/// The modules the Python lines use, imported once before them.
pub const PYTHON_IMPORTS: &str =
    "import os, resource, select, socket, struct, subprocess, sys, time";

/// What a command's Python line may name: the fds the command made, lowest first, and the
/// names the process's fds have (each socket the Python program's variable of that name), by fd.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub made: &'a [i32],
    pub names: &'a BTreeMap<i32, String>,
}

impl Scope<'_> {
    /// A socket argument as a Python variable: its name — also when it is given by number
    /// (`recv 5` where fd 5 is `conn` reads `conn.recv`) — or `s3` for an unnamed fd 3.
    pub fn var(&self, sock: &SockRef) -> String {
        match sock {
            SockRef::Name(name) => name.replace('-', "_"),
            SockRef::Fd(fd) => match self.names.get(fd).and_then(|label| handle_name(label)) {
                Some(name) => name.replace('-', "_"),
                None => self.unnamed(*fd),
            },
        }
    }

    /// The variable of the `nth` socket the command made: its `name` (`as NAME`), else `s3`
    /// after the fd it got (what [`Self::var`] calls fd 3 later), else `sock` when it got none.
    pub fn new_var(&self, name: Option<&str>, nth: usize) -> String {
        match (name, self.made.get(nth)) {
            (Some(name), _) => name.replace('-', "_"),
            (None, Some(fd)) => self.unnamed(*fd),
            (None, None) => "sock".to_string(),
        }
    }

    /// The variable of unnamed fd `fd`: `s3`, or `s3_` when another fd's socket is named `s3`.
    fn unnamed(&self, fd: i32) -> String {
        let plain = format!("s{fd}");
        let taken = self
            .names
            .iter()
            .any(|(other, label)| *other != fd && handle_name(label) == Some(plain.as_str()));
        match taken {
            true => format!("{plain}_"),
            false => plain,
        }
    }
}

/// The socket's name in a panel label, which is the name, then the files made over the socket
/// (`conn [f]`); None for a label of files alone (`[f]`).
fn handle_name(label: &str) -> Option<&str> {
    label
        .split(' ')
        .next()
        .filter(|name| !name.is_empty() && !name.starts_with('['))
}

/// Bytes as a Python bytes literal.
pub(super) fn bytes(data: &[u8]) -> String {
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
pub(super) fn address(addr: &AddrSpec) -> String {
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
pub(super) fn family(family: Family) -> String {
    match family {
        Family::Other(number) => number.to_string(),
        known => format!("socket.{}", known.constant()),
    }
}

/// The Python constant of a socket type (`socket.SOCK_STREAM`); a type without one by its number.
pub(super) fn sock_type(sock_type: SockType) -> String {
    match sock_type {
        SockType::Other(number) => number.to_string(),
        known => format!("socket.{}", known.constant()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::parse_line;

    fn explained(line: &str) -> String {
        explained_with(line, &BTreeMap::new())
    }

    /// The line in a process whose fds have `names`.
    fn explained_with(line: &str, names: &BTreeMap<i32, String>) -> String {
        let command = parse_line(line).expect("parses").expect("a command");
        let scope = Scope { made: &[], names };
        command.python(&scope).expect("has a Python equivalent")
    }

    #[test]
    fn a_named_socket_given_by_number_is_its_names_variable() {
        let names = BTreeMap::from([
            (4, "cli".to_string()),
            (5, "conn [f]".to_string()),
            (6, "[g]".to_string()),
        ]);
        assert_eq!(explained_with("recv 5 2", &names), "data = conn.recv(2)");
        assert_eq!(
            explained_with("getsockname 5", &names),
            "conn.getsockname()"
        );
        assert_eq!(
            explained_with("sendfd 4 5", &names),
            "socket.send_fds(cli, [b\"\\0\"], [conn.fileno()])"
        );
        assert_eq!(explained_with("recv 6 2", &names), "data = s6.recv(2)");
        // An unnamed fd whose plain variable another socket's name took.
        let names = BTreeMap::from([(3, "s4".to_string())]);
        assert_eq!(
            explained_with("connect 4 $s4", &names),
            "s4_.connect(s4.getsockname())"
        );
        assert_eq!(explained_with("recv 3 1", &names), "data = s4.recv(1)");
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
