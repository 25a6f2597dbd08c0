//! One call as strace shows it — `connect(4, 127.0.0.1:8080) = -1 ECONNREFUSED (Connection
//! refused)` — kept as data: its name, its arguments, what it returned, and sockplay's note after it.
//! Its text is made in one place, the [`Display`](fmt::Display) impl.

use std::fmt;

use nix::errno::Errno;
use serde::{Deserialize, Serialize};

use crate::sys::errno_name;

/// `invocation!("bind", fd, shown)`: the [`Invocation`] `bind(3, 127.0.0.1:8080)`, each argument
/// shown as it displays.
macro_rules! invocation {
    ($name:expr $(, $arg:expr)* $(,)?) => {
        $crate::session::Invocation::new($name, [$($arg.to_string()),*])
    };
}
pub(crate) use invocation;

/// A call about to be made: its name and arguments, the part before ` = `. Each way it can end
/// makes a [`Call`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    name: &'static str,
    args: Vec<String>,
}

impl Invocation {
    /// `name(args…)`, each argument already in strace's notation (`3`, `127.0.0.1:8080`, `"hi"`).
    pub fn new(name: &'static str, args: impl IntoIterator<Item = String>) -> Invocation {
        Invocation {
            name,
            args: args.into_iter().collect(),
        }
    }

    /// The call's name, which is also its key in the hints table.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The call returned `value`: an fd, a byte count, 0 for success.
    pub fn returned(&self, value: impl TryInto<i64>) -> Call {
        // Every count a call returns fits; the fallback only keeps this total.
        self.ended(Returned::Value(value.try_into().unwrap_or(i64::MAX)))
    }

    /// The call failed with `errno`.
    pub fn failed(&self, errno: Errno) -> Call {
        self.ended(Returned::Error(errno))
    }

    /// The call ended with `result`.
    pub fn ended(&self, result: Returned) -> Call {
        Call {
            name: self.name.to_string(),
            args: self.args.clone(),
            result,
            detail: None,
            note: None,
        }
    }
}

/// One call that was made, and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Call {
    /// The call's name: a syscall (`accept`), or a Python-level call such as `makefile`.
    pub name: String,
    /// Its arguments, each already in strace's notation.
    pub args: Vec<String>,
    pub result: Returned,
    /// What strace adds in parentheses after the result: `in [3], out [4]` after select's count.
    pub detail: Option<String>,
    /// sockplay's note after the call, two spaces on: `peer 127.0.0.1:55001`, the bytes received.
    pub note: Option<String>,
}

impl Call {
    /// The call with strace's parenthesized detail after its result.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Call {
        self.detail = Some(detail.into());
        self
    }

    /// The call with sockplay's note after it.
    pub fn with_note(mut self, note: impl Into<String>) -> Call {
        self.note = Some(note.into());
        self
    }

    /// The errno the call failed with, if it failed.
    pub fn errno(&self) -> Option<Errno> {
        match self.result {
            Returned::Error(errno) => Some(errno),
            Returned::Interrupted => Some(Errno::EINTR),
            Returned::Value(_) | Returned::Object(_) | Returned::Timeout => None,
        }
    }
}

/// How a call ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Returned {
    /// A return value: an fd, a byte count, 0 for success.
    Value(i64),
    /// A Python-level call's object, shown by its name (`makefile` returns the file `f`).
    Object(String),
    /// The call failed: `-1 ECONNREFUSED (Connection refused)`.
    Error(#[serde(with = "errno_number")] Errno),
    /// The timeout ended the wait with nothing ready: `0 (Timeout)`.
    Timeout,
    /// Ctrl-C (or a signal that ends sockplay) cut the wait: `-1 EINTR (Interrupted system call)`.
    Interrupted,
}

impl fmt::Display for Returned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let failed = |f: &mut fmt::Formatter<'_>, errno: Errno| {
            write!(f, "-1 {} ({})", errno_name(errno), errno.desc())
        };
        match self {
            Returned::Value(value) => write!(f, "{value}"),
            Returned::Object(name) => f.write_str(name),
            Returned::Error(errno) => failed(f, *errno),
            Returned::Timeout => f.write_str("0 (Timeout)"),
            Returned::Interrupted => failed(f, Errno::EINTR),
        }
    }
}

impl fmt::Display for Call {
    /// `name(arg, arg) = result (detail)  note`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}({}) = {}",
            self.name,
            self.args.join(", "),
            self.result
        )?;
        if let Some(detail) = &self.detail {
            write!(f, " ({detail})")?;
        }
        if let Some(note) = &self.note {
            write!(f, "  {note}")?;
        }
        Ok(())
    }
}

/// An errno in a serialized call: its number, as the kernel gives it.
mod errno_number {
    use nix::errno::Errno;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(errno: &Errno, out: S) -> Result<S::Ok, S::Error> {
        (*errno as i32).serialize(out)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(input: D) -> Result<Errno, D::Error> {
        Ok(Errno::from_raw(i32::deserialize(input)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connect() -> Invocation {
        invocation!("connect", 4, "127.0.0.1:8080")
    }

    #[test]
    fn a_call_that_returned_shows_its_value() {
        let socket = invocation!("socket", "AF_INET", "SOCK_STREAM", "IPPROTO_TCP");
        assert_eq!(
            socket.returned(3).to_string(),
            "socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3"
        );
        assert_eq!(
            invocation!("recv", 5, 4096, 0).returned(0usize).to_string(),
            "recv(5, 4096, 0) = 0"
        );
        let makefile = invocation!("makefile", "conn", "'rwb'");
        assert_eq!(
            makefile.ended(Returned::Object("f".into())).to_string(),
            "makefile(conn, 'rwb') = f"
        );
    }

    #[test]
    fn a_failed_call_shows_minus_one_the_errno_and_its_description() {
        let call = connect().failed(Errno::ECONNREFUSED);
        assert_eq!(
            call.to_string(),
            "connect(4, 127.0.0.1:8080) = -1 ECONNREFUSED (Connection refused)"
        );
        assert_eq!(call.errno(), Some(Errno::ECONNREFUSED));
        assert_eq!(
            connect()
                .failed(Errno::EINPROGRESS)
                .with_detail("started")
                .to_string(),
            "connect(4, 127.0.0.1:8080) = -1 EINPROGRESS (Operation now in progress) (started)"
        );
    }

    #[test]
    fn a_wait_cut_by_the_timeout_or_ctrl_c_reads_like_strace() {
        let poll = invocation!("poll", "[{fd=3, events=POLLIN}]", 1, 5000);
        let timed_out = poll.ended(Returned::Timeout);
        assert_eq!(
            timed_out.to_string(),
            "poll([{fd=3, events=POLLIN}], 1, 5000) = 0 (Timeout)"
        );
        assert_eq!(timed_out.errno(), None);
        let interrupted = poll.ended(Returned::Interrupted);
        assert_eq!(
            interrupted.to_string(),
            "poll([{fd=3, events=POLLIN}], 1, 5000) = -1 EINTR (Interrupted system call)"
        );
        assert_eq!(interrupted.errno(), Some(Errno::EINTR));
    }

    #[test]
    fn a_note_follows_two_spaces_after_the_result_and_its_detail() {
        let accept = invocation!("accept", 3);
        assert_eq!(
            accept
                .returned(5)
                .with_note("peer 127.0.0.1:55001")
                .to_string(),
            "accept(3) = 5  peer 127.0.0.1:55001"
        );
        let select = invocation!("select", 4, "[3]", "NULL", "NULL", "{tv_sec=5, tv_usec=0}");
        assert_eq!(
            select
                .returned(1)
                .with_detail("in [3]")
                .with_note("note")
                .to_string(),
            "select(4, [3], NULL, NULL, {tv_sec=5, tv_usec=0}) = 1 (in [3])  note"
        );
    }

    #[test]
    fn a_call_survives_a_round_trip_through_json() {
        let call = connect().failed(Errno::ECONNREFUSED).with_note("a note");
        let json = serde_json::to_string(&call).expect("a call serializes");
        let back: Call = serde_json::from_str(&json).expect("and reads back");
        assert_eq!(back, call);
    }
}
