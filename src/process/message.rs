//! What the front end and a worker say to each other over the control channel: requests one
//! way, responses the other, each one frame of JSON.

use std::collections::BTreeMap;

use crate::fdtable::{Labels, Snapshot};
use crate::lang::Command;
use crate::net::Endpoint;
use crate::session::{Outcome, Settings, SocketFile};
use crate::sys::ExitStatus;

/// From the front end to a worker.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum Request {
    /// Run one command, with the settings it runs under (the timeout of its waits).
    Execute {
        command: Command,
        settings: Settings,
    },
    /// The process's table now, even while a call blocks it.
    Snapshot,
    /// Ctrl-C for the call the process is making: it fails with EINTR. `cause` is the signal
    /// the front end got, when it was not Ctrl-C (SIGTERM, SIGHUP: sockplay is ending), by number.
    Interrupt { cause: Option<i32> },
}

/// From a worker to the front end.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum Response {
    /// A command started: the call it makes, as `ps` shows it (`accept(3)`).
    Started { call: String },
    /// The command's call returned: the process reads its table, then answers with [`Done`].
    Returned,
    /// A command finished.
    Done(Box<Done>),
    /// The answer to [`Request::Snapshot`].
    Table(Box<Table>),
    /// A child of this process (one it spawned or forked) ended, and this process reaped it.
    ChildExited { pid: i32, status: ExitStatus },
}

/// What one command did in a process.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Done {
    pub outcome: Outcome,
    /// The process's table and names after the command.
    pub table: Table,
    /// The settings after it (`set` changes them).
    pub settings: Settings,
    /// `spawn` and `fork`: the process they made. The front end's end of its control channel
    /// rides along with this frame (SCM_RIGHTS).
    pub child: Option<NewChild>,
    /// `exit`: the process ends right after this answer.
    pub ends: bool,
}

/// A process that `spawn` or `fork` made.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NewChild {
    pub pid: i32,
    pub name: String,
}

/// One process's fd table and what the process knows about its fds.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Table {
    pub snapshot: Snapshot,
    pub view: ProcessView,
}

/// What a process knows about its fds that the kernel does not: names, file objects, the
/// addresses names had, the socket files it made.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProcessView {
    /// Names, detached marks and sockplay's own fds, for the panel.
    pub labels: Labels,
    /// The open sockets with a name, by name.
    pub sockets: BTreeMap<String, i32>,
    /// The names of file objects (`makefile`).
    pub files: Vec<String>,
    /// The address each name's socket last had: kept after the socket closes, so `$NAME` still
    /// finds a server that another process reaches.
    pub addresses: BTreeMap<String, Endpoint>,
    /// The Unix socket files its binds made.
    pub socket_files: Vec<SocketFile>,
    /// sockplay's own fds in the process (never in its table), each with what it is.
    #[serde(default)]
    pub own_fds: BTreeMap<i32, String>,
}

impl ProcessView {
    /// The line that says which fds of the process are sockplay's own, the highest first:
    /// `(sockplay's own: fd 4095 control channel, fd 4094 sock_diag — not shown)`.
    pub fn own_fds_line(&self) -> Option<String> {
        let fds = self.own_fds_text()?;
        Some(format!("(sockplay's own: {fds} — not shown)"))
    }

    /// sockplay's own fds, the highest first: `fd 4095 control channel, fd 4094 sock_diag`.
    pub fn own_fds_text(&self) -> Option<String> {
        if self.own_fds.is_empty() {
            return None;
        }
        let fds: Vec<String> = self
            .own_fds
            .iter()
            .rev()
            .map(|(fd, what)| format!("fd {fd} {what}"))
            .collect();
        Some(fds.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::parse_line;
    use crate::session::Failure;

    #[test]
    fn the_own_fds_line_names_each_fd_highest_first_and_none_without_any() {
        let mut view = ProcessView::default();
        assert_eq!(view.own_fds_line(), None);
        view.own_fds.insert(4094, "sock_diag".into());
        view.own_fds.insert(4095, "control channel".into());
        assert_eq!(
            view.own_fds_line().as_deref(),
            Some("(sockplay's own: fd 4095 control channel, fd 4094 sock_diag — not shown)")
        );
    }

    #[test]
    fn commands_cross_the_channel_unchanged() {
        for line in [
            "socket tcp as srv",
            "bind srv 127.0.0.1:0",
            "connect c $client.srv",
            "send c \"GET /\\r\\n\\x00\"",
            "send c --bytes 100",
            "setsockopt c SO_LINGER on:5",
            "getsockopt c TCP_NODELAY",
            "select read 3 write 4 timeout 10",
            "epoll add ep 3 in rdhup",
            "expect state 5 CLOSE_WAIT",
            "set timeout 0.5",
            "client: accept l as conn &",
            "kill client SIGKILL",
            "inheritable srv on",
        ] {
            let command = parse_line(line).expect("parses").expect("a command");
            let request = Request::Execute {
                command: command.clone(),
                settings: Settings::default(),
            };
            let text = serde_json::to_string(&request).expect("serializes");
            match serde_json::from_str::<Request>(&text).expect("deserializes") {
                Request::Execute { command: back, .. } => assert_eq!(back, command, "{line}"),
                other => panic!("{line}: came back as {other:?}"),
            }
        }
    }

    #[test]
    fn an_unknown_socket_option_is_refused_on_the_way_in() {
        let text = r#"{"Execute":{"command":{"GetSockOpt":{"sock":{"Fd":3},"option":"SO_NOPE"}},"settings":{"timeout":{"secs":5,"nanos":0}}}}"#;
        let error = serde_json::from_str::<Request>(text).expect_err("refused");
        assert!(error.to_string().contains("SO_NOPE"), "{error}");
    }

    #[test]
    fn a_failure_keeps_its_errno() {
        let outcome = Outcome {
            failure: Some(Failure::os(nix::errno::Errno::ECONNREFUSED, "refused")),
            ..Outcome::default()
        };
        let text = serde_json::to_string(&outcome).expect("serializes");
        let back: Outcome = serde_json::from_str(&text).expect("deserializes");
        assert_eq!(back, outcome);
    }
}
