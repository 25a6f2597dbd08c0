//! What the front end and a worker say to each other over the control channel: requests one
//! way, responses the other, each one frame of JSON.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use crate::fdtable::{Delta, FdRow, Labels, Snapshot};
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
    /// What changed in the process's table since its last answer, even while a call blocks it.
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
    Table(Box<TableUpdate>),
    /// A child of this process (one it spawned or forked) ended, and this process reaped it.
    ChildExited { pid: i32, status: ExitStatus },
}

/// What one command did in a process.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Done {
    pub outcome: Outcome,
    /// What changed in the process's table and names with the command (the front end applies
    /// it to its copy as it arrives).
    pub table: TableUpdate,
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

/// What changed in a process's table and in what it knows about its fds, since the last update
/// it sent: each answer carries one, and they apply in the order they come.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TableUpdate {
    pub delta: Delta,
    pub view: ViewUpdate,
}

impl TableUpdate {
    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        self.delta.is_empty() && self.view.is_empty()
    }
}

/// What changed in a [`ProcessView`], by fd and by name.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ViewUpdate {
    /// Start from an empty view: what follows is all of it.
    pub reset: bool,
    /// The label of each fd whose label changed (None: it has none now).
    pub names: Vec<(i32, Option<String>)>,
    /// Whether each fd whose mark changed is detached now.
    pub detached: Vec<(i32, bool)>,
    /// The fd each changed socket name names now (None: no socket has it now).
    pub sockets: Vec<(String, Option<i32>)>,
    /// The addresses names have now.
    pub addresses: Vec<(String, Endpoint)>,
    /// When they changed: the file objects' names, the socket files, sockplay's own fds.
    pub files: Option<Vec<String>>,
    pub socket_files: Option<Vec<SocketFile>>,
    pub internal: Option<BTreeSet<i32>>,
    pub own_fds: Option<BTreeMap<i32, String>>,
}

impl ViewUpdate {
    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == ViewUpdate::default()
    }

    /// This update, then `next`, as one.
    pub fn then(mut self, next: ViewUpdate) -> ViewUpdate {
        if next.reset {
            return next;
        }
        self.names.extend(next.names);
        self.detached.extend(next.detached);
        self.sockets.extend(next.sockets);
        self.addresses.extend(next.addresses);
        self.files = next.files.or(self.files);
        self.socket_files = next.socket_files.or(self.socket_files);
        self.internal = next.internal.or(self.internal);
        self.own_fds = next.own_fds.or(self.own_fds);
        self
    }
}

/// One process's fd table and what the process knows about its fds, as the front end keeps them
/// up to date; cheap to copy (the big parts are shared).
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub snapshot: Arc<Snapshot>,
    pub view: ProcessView,
    /// The fds of each socket, by inode: what else a change of one fd's socket concerns.
    pub inodes: Arc<HashMap<u64, Vec<i32>>>,
}

/// What an update changed in a [`Table`] since it was last asked: for each fd whose row changed,
/// its row and label before the first of those changes (None: it was not open).
#[derive(Debug, Clone, Default)]
pub struct Changed {
    pub rows: HashMap<i32, Option<Box<FdRow>>>,
    pub names: HashMap<i32, Option<String>>,
}

impl Changed {
    fn note(&mut self, fd: i32, row: Option<&FdRow>, labels: &Labels) {
        self.rows
            .entry(fd)
            .or_insert_with(|| row.map(|row| Box::new(row.clone())));
        self.names
            .entry(fd)
            .or_insert_with(|| labels.names.get(&fd).cloned());
    }
}

impl Table {
    /// Applies `update`, noting in `changed` what each row it changes held before.
    pub fn apply(&mut self, update: TableUpdate, changed: &mut Changed) {
        let TableUpdate { delta, view } = update;
        if !delta.is_empty() {
            let labels = &self.view.labels;
            let snapshot = Arc::make_mut(&mut self.snapshot);
            let inodes = Arc::make_mut(&mut self.inodes);
            let mut touched = Vec::new();
            delta.apply_to(snapshot, |fd, row| {
                changed.note(fd, row, labels);
                touched.push((fd, row.map(|row| row.inode)));
            });
            for (fd, old) in touched {
                if let Some(fds) = old.and_then(|inode| inodes.get_mut(&inode)) {
                    fds.retain(|&f| f != fd);
                }
                if let Some(inode) = old.filter(|i| inodes.get(i).is_some_and(Vec::is_empty)) {
                    inodes.remove(&inode);
                }
                if let Some(row) = snapshot.get(fd) {
                    let fds = inodes.entry(row.inode).or_default();
                    if !fds.contains(&fd) {
                        fds.push(fd);
                    }
                }
            }
        }
        if !view.is_empty() {
            self.view.apply(view);
        }
    }

    /// The process ended: the kernel closed every fd it had, and dropped its connections.
    pub fn close_all(&mut self, changed: &mut Changed) {
        for row in &self.snapshot.rows {
            changed.note(row.fd, Some(row), &self.view.labels);
        }
        self.snapshot = Arc::default();
        self.inodes = Arc::default();
        // sockplay's own fds went with it too.
        self.view.own_fds.clear();
    }

    /// The open rows of the socket `inode`.
    pub fn rows_of(&self, inode: u64) -> impl Iterator<Item = &FdRow> {
        self.inodes
            .get(&inode)
            .into_iter()
            .flatten()
            .filter_map(|&fd| self.snapshot.get(fd))
    }
}

/// What a process knows about its fds that the kernel does not: names, file objects, the
/// addresses names had, the socket files it made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcessView {
    /// Names, detached marks and sockplay's own fds, for the panel.
    pub labels: Arc<Labels>,
    /// The open sockets with a name, by name.
    pub sockets: Arc<BTreeMap<String, i32>>,
    /// The names of file objects (`makefile`).
    pub files: Vec<String>,
    /// The address each name's socket last had: kept after the socket closes, so `$NAME` still
    /// finds a server that another process reaches.
    pub addresses: Arc<BTreeMap<String, Endpoint>>,
    /// The Unix socket files its binds made.
    pub socket_files: Vec<SocketFile>,
    /// sockplay's own fds in the process (never in its table), each with what it is.
    pub own_fds: BTreeMap<i32, String>,
}

impl ProcessView {
    /// Applies what changed.
    pub fn apply(&mut self, update: ViewUpdate) {
        if update.reset {
            *self = ProcessView::default();
        }
        if !update.names.is_empty() || !update.detached.is_empty() || update.internal.is_some() {
            let labels = Arc::make_mut(&mut self.labels);
            for (fd, name) in update.names {
                match name {
                    Some(name) => labels.names.insert(fd, name),
                    None => labels.names.remove(&fd),
                };
            }
            for (fd, detached) in update.detached {
                if detached {
                    labels.detached.insert(fd);
                } else {
                    labels.detached.remove(&fd);
                }
            }
            if let Some(internal) = update.internal {
                labels.internal = internal;
            }
        }
        if !update.sockets.is_empty() {
            let sockets = Arc::make_mut(&mut self.sockets);
            for (name, fd) in update.sockets {
                match fd {
                    Some(fd) => sockets.insert(name, fd),
                    None => sockets.remove(&name),
                };
            }
        }
        if !update.addresses.is_empty() {
            let addresses = Arc::make_mut(&mut self.addresses);
            addresses.extend(update.addresses);
        }
        if let Some(files) = update.files {
            self.files = files;
        }
        if let Some(socket_files) = update.socket_files {
            self.socket_files = socket_files;
        }
        if let Some(own_fds) = update.own_fds {
            self.own_fds = own_fds;
        }
    }

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
