//! The session: one process's socket handles, their names, the socket files its binds made, and the
//! execution of each command against the kernel. Front ends hand it a [`Command`] and get an
//! [`Outcome`] back: each call made, kept as a [`Call`] record, the sentences about it, and on failure
//! a hint from one table (`hints`). How the outcome is shown (the panel, Python lines) is the
//! engine's business.

mod address;
mod call;
mod calls;
mod checks;
mod closing;
mod datagram;
mod descriptors;
mod fdpass;
mod files;
mod hints;
mod multiplex;
mod options;
mod outcome;
mod socket_files;
mod view;

pub use call::{Call, Invocation, Returned};
pub use calls::sleep;
pub use checks::{fd_verdict, open_verdict, state_verdict, wait_for_state, Previous};
pub use hints::{situated, Asked, Holder, ProcessFd};
pub use outcome::{Failure, Lines, OutLine, Outcome};
pub use socket_files::SocketFile;

use call::invocation;
use hints::Context;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

use nix::errno::Errno;
use socket2::Socket;

use crate::fdtable::Labels;
use crate::lang::{Command, SockRef};
use crate::sys::descriptor::Detached;

/// What the session's calls obey, changed with `set timeout` or `--timeout`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Settings {
    /// How long a blocking call may wait.
    pub timeout: Duration,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            timeout: Duration::from_secs(5),
        }
    }
}

/// What a handle holds: a socket, or an epoll instance (an fd of its own, named like a socket).
#[derive(Debug)]
pub(super) enum Object {
    Socket(Socket),
    Epoll(nix::sys::epoll::Epoll),
}

impl Object {
    /// The fd, owned: for closing or letting go of it.
    fn into_fd(self) -> OwnedFd {
        match self {
            Object::Socket(socket) => OwnedFd::from(socket),
            Object::Epoll(epoll) => epoll.0,
        }
    }

    fn raw_fd(&self) -> i32 {
        match self {
            Object::Socket(socket) => socket.as_raw_fd(),
            Object::Epoll(epoll) => epoll.0.as_raw_fd(),
        }
    }
}

/// A socket (or epoll instance) the user holds, like a Python socket object around its fd.
#[derive(Debug)]
struct Handle {
    object: Object,
    name: Option<String>,
}

/// What the previous (non-check) command left behind, for the `expect` checks.
#[derive(Debug, Default)]
struct LastStep {
    previous: Previous,
    /// The bytes of the most recent `recv`; empty means EOF.
    received: Option<Vec<u8>>,
}

/// One process's playground: handles, names, socket files, the timeout its calls obey, and the
/// memory that checks read.
#[derive(Debug)]
pub struct Session {
    handles: BTreeMap<i32, Handle>,
    /// The fd of each named handle, by name.
    by_name: HashMap<String, i32>,
    /// The fds the commands used, made or closed since the worker last asked.
    touched: view::Touched,
    /// fds whose handle let go of them (`detach`): still open, owned by no handle.
    detached: BTreeMap<i32, Detached>,
    /// fds sockplay holds for its own work; never shown, never touched by commands.
    internal: BTreeSet<i32>,
    /// Unix socket files made by this session's binds.
    socket_files: Vec<socket_files::SocketFile>,
    /// The fds on which a `connect` was made, whatever it returned: a TCP socket whose connect
    /// failed has no segment counted, and yet it is no fresh socket.
    connects: BTreeSet<i32>,
    /// Buffered file objects made with `makefile`, by name.
    files: BTreeMap<String, files::FileObject>,
    pub settings: Settings,
    last: LastStep,
}

impl Session {
    pub fn new(settings: Settings) -> Session {
        Session {
            handles: BTreeMap::new(),
            by_name: HashMap::new(),
            touched: view::Touched::default(),
            detached: BTreeMap::new(),
            internal: BTreeSet::new(),
            files: BTreeMap::new(),
            connects: BTreeSet::new(),
            socket_files: Vec::new(),
            settings,
            last: LastStep::default(),
        }
    }

    /// Marks fds as sockplay's own (hidden from the panel, refused by commands).
    pub fn add_internal_fds(&mut self, fds: impl IntoIterator<Item = i32>) {
        self.internal.extend(fds);
    }

    /// Forgets an internal fd that sockplay has closed.
    pub fn forget_internal_fd(&mut self, fd: i32) {
        self.internal.remove(&fd);
    }

    /// Names, detached marks and internal fds, for the panel. A socket with file objects over it
    /// shows them after its name: `conn [f]`.
    pub fn labels(&self) -> Labels {
        let mut names: BTreeMap<i32, String> = self
            .handles
            .iter()
            .filter_map(|(fd, h)| h.name.clone().map(|n| (*fd, n)))
            .collect();
        for (file, object) in &self.files {
            let name = names.entry(object.fd).or_default();
            if !name.is_empty() {
                name.push(' ');
            }
            name.push_str(&format!("[{file}]"));
        }
        Labels {
            names,
            detached: self.detached.keys().copied().collect(),
            internal: self.internal.clone(),
            closed_names: BTreeMap::new(),
        }
    }

    /// The socket names in use, for completion.
    pub fn names(&self) -> Vec<String> {
        self.handles
            .values()
            .filter_map(|h| h.name.clone())
            .collect()
    }

    /// `text` with each `$NAME` of a bound socket replaced by its address (for tutorial narration).
    pub fn expand_names(&self, text: &str) -> String {
        let mut text = text.to_string();
        let mut names = self.names();
        // Longest first, so `$srv2` is not taken for `$srv` followed by `2`.
        names.sort_by_key(|n| std::cmp::Reverse(n.len()));
        for name in names {
            let needle = format!("${name}");
            if !text.contains(&needle) {
                continue;
            }
            let addr = self.resolve(&SockRef::Name(name.clone())).and_then(|fd| {
                self.socket_at(fd)
                    .ok()
                    .and_then(|s| s.local_addr().ok())
                    .ok_or_else(|| Failure::usage(""))
            });
            if let Ok(addr) = addr {
                text = text.replace(&needle, &address::show_addr(&addr));
            }
        }
        text
    }

    /// The open sockets (and epoll instances) that have a name, by name.
    pub fn socket_names(&self) -> BTreeMap<String, i32> {
        self.handles
            .iter()
            .filter_map(|(fd, h)| h.name.clone().map(|n| (n, *fd)))
            .collect()
    }

    /// The address each named socket is bound to, for `$NAME` in other processes.
    pub fn bound_addresses(&self) -> Vec<(String, crate::net::Endpoint)> {
        self.handles
            .keys()
            .filter_map(|&fd| self.bound_address_of(fd))
            .collect()
    }

    /// The fd behind SOCK, if it names an open handle.
    pub fn fd_of(&self, sock: &SockRef) -> Option<i32> {
        self.resolve(sock).ok()
    }

    /// Takes the sockets this process inherited (fds other than 0, 1, 2 and sockplay's own, open when
    /// it started) as handles without names, as a program finds them after exec.
    pub fn adopt_inherited(&mut self) -> Vec<i32> {
        let mut adopted = Vec::new();
        for fd in crate::fdtable::open_fds() {
            if fd < 3 || self.internal.contains(&fd) || self.handles.contains_key(&fd) {
                continue;
            }
            let is_socket = crate::fdtable::inspect_fd(fd)
                .is_some_and(|row| row.kind == crate::net::Kind::Socket);
            if let Some(owned) = is_socket
                .then(|| crate::sys::process::claim_inherited(fd))
                .flatten()
            {
                self.adopt(Object::Socket(Socket::from(owned)), None);
                adopted.push(fd);
            }
        }
        adopted
    }

    /// The file object names in use, for completion.
    pub fn file_names(&self) -> Vec<String> {
        self.files.keys().cloned().collect()
    }

    /// The fds of the open handles, for completion.
    pub fn handle_fds(&self) -> Vec<i32> {
        self.handles.keys().copied().collect()
    }

    /// Runs one command. Failures are reported in the outcome, never as a panic or an early exit.
    pub fn execute(&mut self, command: &Command) -> Outcome {
        let mut out = Outcome::default();
        // `expect data` and `expect eof` speak of the most recent receive, even when it failed.
        if matches!(
            command,
            Command::Recv { .. }
                | Command::RecvFrom { .. }
                | Command::ReadLine { .. }
                | Command::Read { .. }
        ) {
            self.last.received = None;
        }
        let result = match command {
            Command::Expect(check) => self.check(check, &mut out),
            _ => self.run(command, &mut out),
        };
        if let Err(failure) = result {
            out.failure = Some(failure);
        }
        self.remember(command, &out);
        out
    }

    /// Keeps what a command did for the `expect` checks that follow it (checks themselves are not
    /// remembered, so several checks can look at one command). Front ends call it for the commands
    /// they run themselves.
    pub fn remember(&mut self, command: &Command, out: &Outcome) {
        self.last.previous.remember(command, out);
    }

    fn run(&mut self, command: &Command, out: &mut Outcome) -> Result<(), Failure> {
        match command {
            Command::Socket {
                family,
                sock_type,
                name,
            } => self.socket(*family, *sock_type, name.as_deref(), out),
            Command::Bind { sock, addr } => self.bind(sock, addr, out),
            Command::Listen { sock, backlog } => self.listen(sock, *backlog, out),
            Command::Accept { sock, name } => self.accept(sock, name.as_deref(), out),
            Command::Connect { sock, addr } => self.connect(sock, addr, out),
            Command::Send { sock, payload } => self.send(sock, &payload.bytes(), out).map(|_| ()),
            Command::Recv { sock, max, hex } => self.recv(sock, *max, *hex, out),
            Command::Fileno { sock } => {
                let fd = self.resolve(sock)?;
                out.call(invocation!("fileno", sock).returned(fd));
                Ok(())
            }
            Command::Detach { sock } => self.detach(sock, out),
            Command::Close { sock } => self.close(sock, out),
            Command::Socketpair {
                family,
                sock_type,
                names,
            } => self.socketpair(*family, *sock_type, names.as_ref(), out),
            Command::SendTo {
                sock,
                addr,
                payload,
            } => self.sendto(sock, addr, &payload.bytes(), out),
            Command::RecvFrom { sock, max, hex } => self.recvfrom(sock, *max, *hex, out),
            Command::Shutdown { sock, how } => self.shutdown(sock, *how, out),
            Command::SetSockOpt {
                sock,
                option,
                value,
            } => self.setsockopt(sock, option, *value, out),
            Command::GetSockOpt { sock, option } => self.getsockopt(sock, option, out),
            Command::GetSockName { sock } => self.getsockname(sock, out),
            Command::GetPeerName { sock } => self.getpeername(sock, out),
            Command::Nonblock { sock, on } => self.nonblock(sock, *on, out),
            Command::Dup { sock, name } => self.dup(sock, name.as_deref(), out),
            Command::Makefile { sock, name } => self.makefile(sock, name.as_deref(), out),
            Command::ReadLine { file } => self.readline(file, out),
            Command::Read { file, max } => self.read(file, *max, out),
            Command::Write { file, data } => self.write(file, data, out),
            Command::Flush { file } => self.flush(file, out),
            Command::Select {
                read,
                write,
                timeout,
            } => self.select(read, write, *timeout, out),
            Command::Poll { socks, timeout } => self.poll(socks, *timeout, out),
            Command::EpollCreate { name } => self.epoll_create(name.as_deref(), out),
            Command::EpollAdd {
                epoll,
                sock,
                interest,
            } => self.epoll_add(epoll, sock, *interest, out),
            Command::EpollDel { epoll, sock } => self.epoll_del(epoll, sock, out),
            Command::EpollWait { epoll, timeout } => self.epoll_wait(epoll, *timeout, out),
            Command::SendFd { sock, fd } => self.sendfd(sock, fd, out),
            Command::RecvFd { sock, name } => self.recvfd(sock, name.as_deref(), out),
            Command::Ulimit { limit } => self.ulimit(*limit, out),
            Command::Unlink { path } => self.unlink(path, out),
            // The engine answers these itself, as their definitions say; they never reach a session.
            Command::Ss(_)
            | Command::Source { .. }
            | Command::Record { .. }
            | Command::Shell { .. }
            | Command::Fds
            | Command::Help { .. }
            | Command::Set(_)
            | Command::Sleep { .. }
            | Command::Quit
            // Processes are started, switched and ended around the session, never inside it.
            | Command::Spawn { .. }
            | Command::Fork { .. }
            | Command::Exit
            | Command::Use { .. }
            | Command::Wait { .. }
            | Command::Ps
            | Command::Kill { .. }
            | Command::In { .. }
            | Command::Background(_) => Err(Failure::usage(format!(
                "`{}` is answered by the engine, not by a session",
                command.name()
            ))),
            Command::Inheritable { sock, on } => self.inheritable(sock, *on, out),
            Command::Expect(check) => self.check(check, out),
        }
    }

    /// The fd behind SOCK, which must be an open handle of this session.
    fn resolve(&self, sock: &SockRef) -> Result<i32, Failure> {
        match sock {
            SockRef::Fd(fd) => {
                if self.handles.contains_key(fd) {
                    self.touched.note(*fd);
                    return Ok(*fd);
                }
                Err(self.not_a_handle(*fd))
            }
            SockRef::Name(name) => self
                .by_name
                .get(name)
                .copied()
                .inspect(|&fd| self.touched.note(fd))
                .ok_or_else(|| {
                    let names = self.names();
                    let names: Vec<&str> = names.iter().map(String::as_str).collect();
                    let mut message = format!("no socket is named `{name}`");
                    if let Some(near) = crate::text::closest(name, &names) {
                        message.push_str(&format!("; did you mean `{near}`?"));
                    } else if names.is_empty() {
                        message.push_str("; name one with `as NAME`, e.g. `socket tcp as srv`");
                    } else {
                        message.push_str(&format!("; the names in use: {}", names.join(", ")));
                    }
                    Failure::usage(message)
                }),
        }
    }

    /// Explains why `fd` cannot be used as a socket handle.
    fn not_a_handle(&self, fd: i32) -> Failure {
        if self.detached.contains_key(&fd) {
            // As Python's socket object after detach(): its fd is gone from it, so EBADF.
            return Failure::os(
                Errno::EBADF,
                format!("fd {fd} was detached: no handle owns it any more"),
            )
            .hint_for(hints::ANY_CALL, Context::Detached(fd));
        }
        if self.internal.contains(&fd) {
            return Failure::usage(format!(
                "fd {fd} belongs to sockplay itself, not to a socket of yours"
            ));
        }
        match crate::fdtable::inspect_fd(fd) {
            None => Failure::os(Errno::EBADF, format!("fd {fd} is not open")),
            Some(row) => Failure::usage(format!(
                "fd {fd} is not a socket made in this session (it is {})",
                row.label()
            )),
        }
    }

    fn handle(&self, fd: i32) -> Result<&Handle, Failure> {
        self.handles.get(&fd).ok_or_else(|| self.not_a_handle(fd))
    }

    /// The socket behind fd, which must be a socket handle (not an epoll instance).
    fn socket_at(&self, fd: i32) -> Result<&Socket, Failure> {
        match &self.handle(fd)?.object {
            Object::Socket(socket) => Ok(socket),
            Object::Epoll(_) => Err(Failure::usage(format!(
                "fd {fd} is an epoll instance, not a socket: use `epoll add|del|wait` on it"
            ))),
        }
    }

    /// The epoll instance behind fd.
    fn epoll_at(&self, fd: i32) -> Result<&nix::sys::epoll::Epoll, Failure> {
        match &self.handle(fd)?.object {
            Object::Epoll(epoll) => Ok(epoll),
            Object::Socket(_) => Err(Failure::usage(format!(
                "fd {fd} is a socket, not an epoll instance: make one with `epoll create as NAME`"
            ))),
        }
    }

    /// Refuses a name that an open socket or a file object already holds.
    fn check_name_free(&self, name: Option<&str>) -> Result<(), Failure> {
        let Some(name) = name else { return Ok(()) };
        if let Some(file) = self.files.get(name) {
            return Err(Failure::usage(format!(
                "the name `{name}` belongs to a file over fd {}; choose another name",
                file.fd
            )));
        }
        match self.by_name.get(name) {
            Some(fd) => Err(Failure::usage(format!(
                "the name `{name}` belongs to fd {fd}; close it first or choose another name"
            ))),
            None => Ok(()),
        }
    }

    /// Takes ownership of a new socket or epoll instance under its fd and optional name.
    fn adopt(&mut self, object: Object, name: Option<&str>) -> i32 {
        let fd = object.raw_fd();
        self.touched.note(fd);
        self.detached.remove(&fd);
        self.connects.remove(&fd);
        if let Some(name) = name {
            self.by_name.insert(name.to_string(), fd);
        }
        self.handles.insert(
            fd,
            Handle {
                object,
                name: name.map(str::to_string),
            },
        );
        fd
    }
}

impl Session {
    /// Takes the handle at `fd` out of the session (closed or detached).
    fn take_handle(&mut self, fd: i32) -> Option<Handle> {
        let handle = self.handles.remove(&fd)?;
        if let Some(name) = &handle.name {
            self.by_name.remove(name);
        }
        Some(handle)
    }
}

impl Drop for Session {
    /// The end of the session, however sockplay ends (`quit`, end of script, a signal): the
    /// sockets close as they would when a process exits, which never lingers (a close held by
    /// SO_LINGER is cut at once; the kernel goes on sending by itself), and the Unix socket files
    /// this session made are removed.
    fn drop(&mut self) {
        let now = std::time::Instant::now();
        for (_, handle) in std::mem::take(&mut self.handles) {
            let _ = calls::close_by(handle.object.into_fd(), now);
        }
        self.remove_socket_files();
    }
}

/// A duration as people say it: `5 s`, `0.5 s`.
pub fn seconds(duration: Duration) -> String {
    let secs = duration.as_secs_f64();
    if secs.fract() == 0.0 {
        format!("{secs:.0} s")
    } else {
        format!("{secs} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::{AddrSpec, Family, SockType};

    #[test]
    fn each_call_a_command_makes_is_kept_as_a_record() {
        let mut session = Session::new(Settings::default());
        let socket = session.execute(&Command::Socket {
            family: Family::Unix,
            sock_type: SockType::Stream,
            name: Some("c".into()),
        });
        let calls: Vec<&Call> = socket.calls().collect();
        assert_eq!(calls.len(), 1, "{}", socket.text());
        assert_eq!(calls[0].name, "socket");
        assert_eq!(calls[0].args, ["AF_UNIX", "SOCK_STREAM", "0"]);
        let Returned::Value(fd) = calls[0].result else {
            panic!("socket returned no fd: {}", socket.text());
        };
        let connect = session.execute(&Command::Connect {
            sock: SockRef::Name("c".into()),
            addr: AddrSpec::Abstract(b"sockplay-nobody-listens-here".to_vec()),
        });
        let call = connect.calls().next().expect("connect made a call");
        assert_eq!(
            call.args,
            [fd.to_string(), "@sockplay-nobody-listens-here".into()]
        );
        assert_eq!(call.result, Returned::Error(Errno::ECONNREFUSED));
        assert_eq!(
            connect.text().lines().next(),
            Some(format!("connect({fd}, @sockplay-nobody-listens-here) = -1 ECONNREFUSED (Connection refused)").as_str())
        );
    }
}
