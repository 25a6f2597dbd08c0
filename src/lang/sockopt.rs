//! Socket options by name: the table `setsockopt` and `getsockopt` read, with each option's level,
//! number, the kind of value it takes, and what it is for.

use super::SyntaxError;
use crate::sys::sockopt::{self as kernel, Opt};

/// The shape of an option's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptKind {
    /// 0/1, also written on/off, true/false, yes/no.
    Flag,
    /// A number (bytes, seconds, counts).
    Int,
    /// `on:SECS` or `off` (struct linger).
    Linger,
    /// Read-only: an errno (SO_ERROR).
    Errno,
    /// Read-only: a socket type (SO_TYPE).
    SockType,
    /// Read-only: an address family (SO_DOMAIN).
    Domain,
}

/// One option sockplay knows by name.
#[derive(Debug)]
pub struct SockOpt {
    pub name: &'static str,
    /// Its level and number, as the kernel knows it.
    pub kernel: Opt,
    pub level_name: &'static str,
    pub kind: OptKind,
    pub read_only: bool,
    pub summary: &'static str,
}

impl PartialEq for SockOpt {
    fn eq(&self, other: &SockOpt) -> bool {
        self.name == other.name
    }
}

impl Eq for SockOpt {}

const fn opt(
    name: &'static str,
    kernel: Opt,
    level_name: &'static str,
    kind: OptKind,
    read_only: bool,
    summary: &'static str,
) -> SockOpt {
    SockOpt {
        name,
        kernel,
        level_name,
        kind,
        read_only,
        summary,
    }
}

use OptKind::*;

/// Every option `setsockopt`/`getsockopt` accept.
pub static SOCK_OPTS: &[SockOpt] = &[
    opt(
        "SO_REUSEADDR",
        kernel::SO_REUSEADDR,
        "SOL_SOCKET",
        Flag,
        false,
        "bind even while an old connection on the port sits in TIME_WAIT",
    ),
    opt(
        "SO_REUSEPORT",
        kernel::SO_REUSEPORT,
        "SOL_SOCKET",
        Flag,
        false,
        "let several sockets (all with this option) bind the same address and port",
    ),
    opt(
        "SO_KEEPALIVE",
        kernel::SO_KEEPALIVE,
        "SOL_SOCKET",
        Flag,
        false,
        "probe an idle connection to notice a dead peer",
    ),
    opt(
        "SO_RCVBUF",
        kernel::SO_RCVBUF,
        "SOL_SOCKET",
        Int,
        false,
        "receive buffer size in bytes (the kernel doubles what you ask for)",
    ),
    opt(
        "SO_SNDBUF",
        kernel::SO_SNDBUF,
        "SOL_SOCKET",
        Int,
        false,
        "send buffer size in bytes (the kernel doubles what you ask for)",
    ),
    opt(
        "SO_RCVLOWAT",
        kernel::SO_RCVLOWAT,
        "SOL_SOCKET",
        Int,
        false,
        "bytes that must be queued before the socket counts as readable",
    ),
    opt(
        "SO_BROADCAST",
        kernel::SO_BROADCAST,
        "SOL_SOCKET",
        Flag,
        false,
        "allow datagrams to broadcast addresses",
    ),
    opt(
        "SO_LINGER",
        kernel::SO_LINGER,
        "SOL_SOCKET",
        Linger,
        false,
        "on:SECS makes close wait for unsent data; on:0 makes close reset the connection (RST)",
    ),
    opt(
        "SO_OOBINLINE",
        kernel::SO_OOBINLINE,
        "SOL_SOCKET",
        Flag,
        false,
        "deliver urgent data inline",
    ),
    opt(
        "SO_ERROR",
        kernel::SO_ERROR,
        "SOL_SOCKET",
        Errno,
        true,
        "the pending error (reading it clears it), e.g. after a non-blocking connect",
    ),
    opt(
        "SO_TYPE",
        kernel::SO_TYPE,
        "SOL_SOCKET",
        SockType,
        true,
        "the socket's type",
    ),
    opt(
        "SO_DOMAIN",
        kernel::SO_DOMAIN,
        "SOL_SOCKET",
        Domain,
        true,
        "the socket's address family",
    ),
    opt(
        "SO_ACCEPTCONN",
        kernel::SO_ACCEPTCONN,
        "SOL_SOCKET",
        Flag,
        true,
        "1 when the socket is listening",
    ),
    opt(
        "TCP_NODELAY",
        kernel::TCP_NODELAY,
        "IPPROTO_TCP",
        Flag,
        false,
        "send small segments at once instead of waiting to coalesce them (Nagle off)",
    ),
    opt(
        "TCP_KEEPIDLE",
        kernel::TCP_KEEPIDLE,
        "IPPROTO_TCP",
        Int,
        false,
        "seconds of idleness before the first keepalive probe",
    ),
    opt(
        "TCP_KEEPINTVL",
        kernel::TCP_KEEPINTVL,
        "IPPROTO_TCP",
        Int,
        false,
        "seconds between keepalive probes",
    ),
    opt(
        "TCP_KEEPCNT",
        kernel::TCP_KEEPCNT,
        "IPPROTO_TCP",
        Int,
        false,
        "probes without answer before the connection is dropped",
    ),
    opt(
        "TCP_MAXSEG",
        kernel::TCP_MAXSEG,
        "IPPROTO_TCP",
        Int,
        false,
        "the largest segment TCP sends",
    ),
    opt(
        "TCP_QUICKACK",
        kernel::TCP_QUICKACK,
        "IPPROTO_TCP",
        Flag,
        false,
        "acknowledge at once rather than delaying ACKs",
    ),
    opt(
        "IPV6_V6ONLY",
        kernel::IPV6_V6ONLY,
        "IPPROTO_IPV6",
        Flag,
        false,
        "an inet6 socket takes IPv6 only; off, it also takes IPv4 as ::ffff:a.b.c.d",
    ),
];

/// The option called `name` (case-insensitive; the `SO_`/`TCP_` prefix is required).
pub fn find_sockopt(name: &str) -> Option<&'static SockOpt> {
    SOCK_OPTS.iter().find(|o| o.name.eq_ignore_ascii_case(name))
}

/// An option in a serialized command: its name, looked up in the table again when read back.
pub(super) mod by_name {
    use super::{find_sockopt, SockOpt};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(option: &&'static SockOpt, out: S) -> Result<S::Ok, S::Error> {
        out.serialize_str(option.name)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(input: D) -> Result<&'static SockOpt, D::Error> {
        let name = String::deserialize(input)?;
        find_sockopt(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown socket option `{name}`")))
    }
}

/// A value to set, already checked against the option's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum OptValue {
    Int(i32),
    Linger(Option<i32>),
}

/// Parses VALUE for `option`, pointing at `column` on error.
pub fn parse_opt_value(
    option: &SockOpt,
    text: &str,
    column: usize,
) -> Result<OptValue, SyntaxError> {
    if option.read_only {
        return Err(SyntaxError::new(
            column,
            format!(
                "{} is read-only: use `getsockopt SOCK {}`",
                option.name, option.name
            ),
        ));
    }
    let lower = text.to_ascii_lowercase();
    let err = |what: &str| {
        Err(SyntaxError::new(
            column,
            format!(
                "{} takes {what}, not `{}`",
                option.name,
                super::quoted_word(text)
            ),
        ))
    };
    match option.kind {
        Flag => match lower.as_str() {
            "1" | "on" | "true" | "yes" => Ok(OptValue::Int(1)),
            "0" | "off" | "false" | "no" => Ok(OptValue::Int(0)),
            _ => err("1 or 0 (on/off)"),
        },
        Int => match lower.parse::<i32>() {
            Ok(n) if n >= 0 => Ok(OptValue::Int(n)),
            _ => err("a non-negative number"),
        },
        Linger => {
            if lower == "off" {
                return Ok(OptValue::Linger(None));
            }
            match lower.strip_prefix("on:").map(str::parse::<i32>) {
                Some(Ok(secs)) if secs >= 0 => Ok(OptValue::Linger(Some(secs))),
                _ => err("on:SECS (on:0 resets on close) or off"),
            }
        }
        Errno | SockType | Domain => Err(SyntaxError::new(
            column,
            format!(
                "{} is read-only: use `getsockopt SOCK {}`",
                option.name, option.name
            ),
        )),
    }
}
