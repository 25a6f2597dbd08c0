//! Waiting on many sockets at once: select(2), poll(2) and epoll(7). Each is one call with the
//! timeout shown in its line (Ctrl-C cuts it), and a wait that ends with nothing ready is an answer
//! (`= 0 (Timeout)`), not an error.

use std::os::fd::{AsFd, BorrowedFd};
use std::time::Duration;

use nix::errno::Errno;
use nix::poll::PollFlags;
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags};

use super::{invocation, Context, Failure, Invocation, Object, Outcome, Returned, Session};
use crate::fdtable::{inspect_fd, Kind};
use crate::lang::{Interest, SockRef};
use crate::net::{SockState, TcpState};
use crate::sys::socket::POLLRDHUP;
use crate::sys::{
    epoll_wait_once, poll_numbers_once, poll_once, select_until, wait_for_ready, ReadyError,
    FD_SETSIZE,
};

/// How many events one `epoll wait` can return.
const MAX_EVENTS: usize = 64;

/// What poll is asked for on every socket.
const POLL_INTEREST: PollFlags = PollFlags::POLLIN.union(PollFlags::POLLOUT).union(POLLRDHUP);

/// poll(2) event bits by name, in the order they are shown.
const POLL_NAMES: &[(PollFlags, &str)] = &[
    (PollFlags::POLLIN, "POLLIN"),
    (PollFlags::POLLOUT, "POLLOUT"),
    (PollFlags::POLLHUP, "POLLHUP"),
    (POLLRDHUP, "POLLRDHUP"),
    (PollFlags::POLLERR, "POLLERR"),
    (PollFlags::POLLNVAL, "POLLNVAL"),
    (PollFlags::POLLPRI, "POLLPRI"),
];

/// epoll(7) event bits by name, in the order they are shown.
const EPOLL_NAMES: &[(EpollFlags, &str)] = &[
    (EpollFlags::EPOLLIN, "EPOLLIN"),
    (EpollFlags::EPOLLOUT, "EPOLLOUT"),
    (EpollFlags::EPOLLRDHUP, "EPOLLRDHUP"),
    (EpollFlags::EPOLLHUP, "EPOLLHUP"),
    (EpollFlags::EPOLLERR, "EPOLLERR"),
    (EpollFlags::EPOLLPRI, "EPOLLPRI"),
];

/// `POLLIN|POLLOUT`, or `(none)`.
fn poll_names(flags: PollFlags) -> String {
    names_of(POLL_NAMES, |flag| flags.contains(flag))
}

/// `EPOLLIN|EPOLLRDHUP`, or `(none)`.
fn epoll_names(flags: EpollFlags) -> String {
    names_of(EPOLL_NAMES, |flag| flags.contains(flag))
}

/// The names of the flags in `table` that are set, joined with `|`, or `(none)`.
fn names_of<F: Copy>(table: &[(F, &str)], is_set: impl Fn(F) -> bool) -> String {
    let names: Vec<&str> = table
        .iter()
        .filter(|(flag, _)| is_set(*flag))
        .map(|(_, name)| *name)
        .collect();
    if names.is_empty() {
        "(none)".into()
    } else {
        names.join("|")
    }
}

/// The epoll events an `epoll add` asks for.
fn epoll_flags(interest: Interest) -> EpollFlags {
    let mut flags = EpollFlags::empty();
    if interest.read {
        flags |= EpollFlags::EPOLLIN;
    }
    if interest.write {
        flags |= EpollFlags::EPOLLOUT;
    }
    if interest.rdhup {
        flags |= EpollFlags::EPOLLRDHUP;
    }
    flags
}

/// `[3 5]`, as strace shows an fd_set; `NULL` for a set not passed.
fn fd_set_text(fds: &[i32]) -> String {
    if fds.is_empty() {
        return "NULL".into();
    }
    let fds: Vec<String> = fds.iter().map(i32::to_string).collect();
    format!("[{}]", fds.join(" "))
}

/// `{tv_sec=1, tv_usec=500000}`.
fn timeval_text(timeout: Duration) -> String {
    format!(
        "{{tv_sec={}, tv_usec={}}}",
        timeout.as_secs(),
        timeout.subsec_micros()
    )
}

/// A millisecond timeout as poll and epoll_wait take it.
fn millis(timeout: Duration) -> u128 {
    timeout.as_millis()
}

/// What a wait that found nothing says.
fn nothing_ready(timeout: Duration) -> String {
    if timeout.is_zero() {
        "nothing is ready".into()
    } else {
        format!("nothing is ready (waited {} ms)", millis(timeout))
    }
}

/// The fd a handle holds, whatever kind of handle it is: select, poll and epoll watch both.
fn borrow_object(object: &Object) -> BorrowedFd<'_> {
    match object {
        Object::Socket(socket) => socket.as_fd(),
        Object::Epoll(epoll) => epoll.0.as_fd(),
    }
}

/// The failure of a wait on many fds, after its call line.
fn wait_failed(
    out: &mut Outcome,
    call: &Invocation,
    error: ReadyError,
    waiting_for: &str,
) -> Failure {
    match error {
        ReadyError::Interrupted => {
            out.call(call.ended(Returned::Interrupted));
            Failure::os(
                Errno::EINTR,
                format!(
                    "interrupted by {} while waiting for {waiting_for}",
                    crate::sys::interruption()
                ),
            )
            .hint_for(call.name(), Context::Plain)
        }
        ReadyError::Os(errno) => {
            out.call(call.failed(errno));
            Failure::os(errno, format!("the wait for {waiting_for} failed"))
                .hint_for(call.name(), Context::Plain)
        }
        ReadyError::PastFdSetSize(fd) => past_fd_setsize(fd, &format!("fd {fd}")),
    }
}

/// The refusal of an fd that select's fd_set has no room for. It is no errno: the kernel is never
/// asked, as a program cannot even put the fd in an fd_set (C overflows the set, Python raises
/// ValueError).
fn past_fd_setsize(fd: i32, shown: &str) -> Failure {
    Failure::usage(format!(
        "{shown} is past FD_SETSIZE ({FD_SETSIZE}): select's fd_set has room for fds 0 to {} only, so select is not called",
        FD_SETSIZE - 1
    ))
    .hint_for("select", Context::PastFdSetSize(fd))
}

/// Why a readable fd is readable, from the kernel's view of it.
fn readable_because(fd: i32) -> String {
    let Some(row) = inspect_fd(fd) else {
        return "it is readable".into();
    };
    if row.kind != Kind::Socket {
        return if row.label() == "epoll" {
            "events are ready: `epoll wait` returns them".into()
        } else {
            "data is waiting".into()
        };
    }
    let listening = row.state.is_some_and(SockState::is_listening);
    match (row.state, row.recv_q) {
        (_, Some(n)) if listening && n > 1 => {
            format!("{n} connections are waiting to be accepted")
        }
        _ if listening => "a connection is waiting to be accepted".into(),
        (Some(SockState::Tcp(TcpState::Close)), Some(0)) => {
            "EOF: the peer closed, or the connection failed (recv says which)".into()
        }
        (_, Some(0)) => "EOF: the peer closed (recv returns 0)".into(),
        (_, Some(1)) => "1 byte waiting".into(),
        (_, Some(n)) => format!("{n} bytes waiting"),
        (_, None) => "data is waiting".into(),
    }
}

/// Why select(2) found socket `fd` writable: room in its send buffer, or — what select reports
/// as writable too — an error pending (a reset or refused connection: the next send fails with
/// it), a sending side shut down (its FIN went out), or no connection at all (POLLHUP). The
/// error is read with poll(2), which, unlike SO_ERROR, leaves it pending.
fn writable_because(fd: i32, socket: BorrowedFd<'_>) -> &'static str {
    let events = poll_once(&[socket], PollFlags::POLLOUT, Duration::ZERO)
        .ok()
        .flatten()
        .and_then(|revents| revents.first().copied())
        .unwrap_or(PollFlags::empty());
    let state = inspect_fd(fd).and_then(|row| row.state);
    let fin_sent = matches!(
        state,
        Some(SockState::Tcp(
            TcpState::FinWait1
                | TcpState::FinWait2
                | TcpState::Closing
                | TcpState::LastAck
                | TcpState::TimeWait
        ))
    );
    if events.contains(PollFlags::POLLERR) {
        "an error is pending on it (the connection was reset or refused); select counts that as writable, but the next send fails with that error"
    } else if fin_sent {
        "its sending side is shut down (its FIN went out); select counts that as writable, but a send fails with EPIPE"
    } else if events.contains(PollFlags::POLLHUP) {
        "it has no connection to send on (never connected, or the connection is over); select counts that as writable, but a send fails"
    } else {
        "there is room in its send buffer"
    }
}

/// The fd `fd_of` gives each of `socks`, each fd once, in the order given.
fn each_once(
    socks: &[SockRef],
    fd_of: impl Fn(&SockRef) -> Result<i32, Failure>,
) -> Result<Vec<i32>, Failure> {
    let mut fds = Vec::new();
    for sock in socks {
        let fd = fd_of(sock)?;
        if !fds.contains(&fd) {
            fds.push(fd);
        }
    }
    Ok(fds)
}

/// How many fds an epoll instance watches, from /proc/self/fdinfo (one `tfd:` line each).
fn interest_count(epoll_fd: i32) -> Option<usize> {
    let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{epoll_fd}")).ok()?;
    Some(info.lines().filter(|l| l.starts_with("tfd:")).count())
}

impl Session {
    /// The fds of these handles (any kind: sockets and epoll instances can both be watched),
    /// each once, in the order given.
    fn watched_fds(&self, socks: &[SockRef]) -> Result<Vec<i32>, Failure> {
        each_once(socks, |sock| self.resolve(sock))
    }

    /// The fd of a handle, borrowed for a call.
    fn borrow_fd(&self, fd: i32) -> Result<BorrowedFd<'_>, Failure> {
        Ok(borrow_object(&self.handle(fd)?.object))
    }

    /// `fd 3 (srv)`, or `fd 3` for a handle without a name.
    pub(super) fn fd_label(&self, fd: i32) -> String {
        match self.handles.get(&fd).and_then(|h| h.name.as_deref()) {
            Some(name) => format!("fd {fd} ({name})"),
            None => format!("fd {fd}"),
        }
    }

    pub(super) fn select(
        &mut self,
        read: &[SockRef],
        write: &[SockRef],
        timeout: Option<Duration>,
        out: &mut Outcome,
    ) -> Result<(), Failure> {
        let read = self.watched_fds(read)?;
        let write = self.watched_fds(write)?;
        let timeout = self.bounded_wait(timeout, out);
        let nfds = read.iter().chain(&write).max().map_or(0, |fd| fd + 1);
        let call = invocation!(
            "select",
            nfds,
            fd_set_text(&read),
            fd_set_text(&write),
            "NULL",
            timeval_text(timeout)
        );
        let read_fds = read
            .iter()
            .map(|fd| self.borrow_fd(*fd))
            .collect::<Result<Vec<_>, _>>()?;
        let write_fds = write
            .iter()
            .map(|fd| self.borrow_fd(*fd))
            .collect::<Result<Vec<_>, _>>()?;
        let selected = match select_until(&read_fds, &write_fds, timeout) {
            Ok(Some(selected)) => selected,
            Ok(None) => {
                out.call(call.ended(Returned::Timeout));
                out.say(nothing_ready(timeout));
                return Ok(());
            }
            // Refused before any fd_set is touched, so no call line.
            Err(ReadyError::PastFdSetSize(fd)) => {
                return Err(past_fd_setsize(fd, &self.fd_label(fd)))
            }
            Err(error) => {
                return Err(wait_failed(
                    out,
                    &call,
                    error,
                    "any of the fds to become ready",
                ))
            }
        };
        let mut sets = Vec::new();
        if !selected.readable.is_empty() {
            sets.push(format!("in {}", fd_set_text(&selected.readable)));
        }
        if !selected.writable.is_empty() {
            sets.push(format!("out {}", fd_set_text(&selected.writable)));
        }
        out.call(call.returned(selected.count()).with_detail(sets.join(", ")));
        for fd in &selected.readable {
            out.say(format!(
                "{} is readable: {}",
                self.fd_label(*fd),
                readable_because(*fd)
            ));
        }
        for (fd, socket) in write.iter().zip(&write_fds) {
            if selected.writable.contains(fd) {
                out.say(format!(
                    "{} is writable: {}",
                    self.fd_label(*fd),
                    writable_because(*fd, *socket)
                ));
            }
        }
        Ok(())
    }

    pub(super) fn poll(
        &mut self,
        socks: &[SockRef],
        timeout: Option<Duration>,
        out: &mut Outcome,
    ) -> Result<(), Failure> {
        let fds = self.polled_fds(socks)?;
        let timeout = self.bounded_wait(timeout, out);
        let asked: Vec<String> = fds
            .iter()
            .map(|fd| format!("{{fd={fd}, events={}}}", poll_names(POLL_INTEREST)))
            .collect();
        let call = invocation!(
            "poll",
            format!("[{}]", asked.join(", ")),
            fds.len(),
            millis(timeout)
        );
        // The handles stay open across the call: this thread alone closes them.
        let result = wait_for_ready(timeout, |left| poll_numbers_once(&fds, POLL_INTEREST, left));
        let revents = match result {
            Ok(Some(revents)) => revents,
            Ok(None) => {
                out.call(call.ended(Returned::Timeout));
                out.say(nothing_ready(timeout));
                return Ok(());
            }
            Err(error) => return Err(wait_failed(out, &call, error, "events on any of the fds")),
        };
        let returned: Vec<String> = fds
            .iter()
            .zip(&revents)
            .filter(|(_, events)| !events.is_empty())
            .map(|(fd, events)| format!("{{fd={fd}, revents={}}}", poll_names(*events)))
            .collect();
        out.call(
            call.returned(returned.len())
                .with_detail(format!("[{}]", returned.join(", "))),
        );
        for (fd, events) in fds.iter().zip(&revents) {
            let mut said = format!("{}: {}", self.fd_label(*fd), poll_names(*events));
            if events.contains(PollFlags::POLLNVAL) {
                said.push_str(
                    " — the fd is not open: poll says so for it, and the call itself succeeds",
                );
            }
            out.say(said);
        }
        Ok(())
    }

    /// The fds `poll` asks about, each once, in the order given: the handles named, and any
    /// number as it is — poll(2) takes any fd number, and answers POLLNVAL for one not open.
    fn polled_fds(&self, socks: &[SockRef]) -> Result<Vec<i32>, Failure> {
        each_once(socks, |sock| {
            let fd = match sock {
                SockRef::Fd(fd) => *fd,
                named => self.resolve(named)?,
            };
            self.touched.note(fd);
            Ok(fd)
        })
    }

    pub(super) fn epoll_create(
        &mut self,
        name: Option<&str>,
        out: &mut Outcome,
    ) -> Result<(), Failure> {
        self.check_name_free(name)?;
        let call = invocation!("epoll_create1", "EPOLL_CLOEXEC");
        match Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC) {
            Ok(epoll) => {
                let fd = self.adopt(Object::Epoll(epoll), name);
                out.call(call.returned(fd));
                out.say(format!(
                    "{} is an epoll instance with an empty interest list; `epoll add {} SOCK in` registers a socket",
                    self.fd_label(fd),
                    name.map_or_else(|| fd.to_string(), str::to_string)
                ));
                Ok(())
            }
            Err(errno) => {
                out.call(call.failed(errno));
                Err(
                    Failure::os(errno, "the kernel would not create the epoll instance")
                        .hint_for(call.name(), Context::Plain),
                )
            }
        }
    }

    pub(super) fn epoll_add(
        &mut self,
        epoll: &SockRef,
        sock: &SockRef,
        interest: Interest,
        out: &mut Outcome,
    ) -> Result<(), Failure> {
        let epoll_fd = self.resolve(epoll)?;
        let instance = self.epoll_at(epoll_fd)?;
        let fd = self.resolve(sock)?;
        let target = self.borrow_fd(fd)?;
        let flags = epoll_flags(interest);
        let events = epoll_names(flags);
        let call = invocation!(
            "epoll_ctl",
            epoll_fd,
            "EPOLL_CTL_ADD",
            fd,
            format!("{{events={events}, data={{u64={fd}}}}}")
        );
        // The fd number rides along as the event's data, so `epoll wait` can say which fd is ready.
        let data = u64::try_from(fd).unwrap_or_default();
        match instance.add(target, EpollEvent::new(flags, data)) {
            Ok(()) => {
                out.call(call.returned(0));
                out.say(format!(
                    "{} now watches {} for {events}; `epoll wait` reports it while it is ready",
                    self.fd_label(epoll_fd),
                    self.fd_label(fd)
                ));
                Ok(())
            }
            Err(errno) => {
                out.call(call.failed(errno));
                let watch = Context::Watch {
                    epoll_fd,
                    fd,
                    epoll,
                    sock,
                };
                Err(
                    Failure::os(errno, format!("fd {epoll_fd} cannot watch fd {fd}"))
                        .hint_for(call.name(), watch),
                )
            }
        }
    }

    pub(super) fn epoll_del(
        &mut self,
        epoll: &SockRef,
        sock: &SockRef,
        out: &mut Outcome,
    ) -> Result<(), Failure> {
        let epoll_fd = self.resolve(epoll)?;
        let instance = self.epoll_at(epoll_fd)?;
        let fd = self.resolve(sock)?;
        let target = self.borrow_fd(fd)?;
        let call = invocation!("epoll_ctl", epoll_fd, "EPOLL_CTL_DEL", fd, "NULL");
        match instance.delete(target) {
            Ok(()) => {
                out.call(call.returned(0));
                out.say(format!(
                    "{} no longer watches {}",
                    self.fd_label(epoll_fd),
                    self.fd_label(fd)
                ));
                Ok(())
            }
            Err(errno) => {
                out.call(call.failed(errno));
                let watch = Context::Watch {
                    epoll_fd,
                    fd,
                    epoll,
                    sock,
                };
                Err(Failure::os(
                    errno,
                    format!("fd {fd} cannot be removed from fd {epoll_fd}"),
                )
                .hint_for(call.name(), watch))
            }
        }
    }

    pub(super) fn epoll_wait(
        &mut self,
        epoll: &SockRef,
        timeout: Option<Duration>,
        out: &mut Outcome,
    ) -> Result<(), Failure> {
        let epoll_fd = self.resolve(epoll)?;
        let instance = self.epoll_at(epoll_fd)?;
        let timeout = self.bounded_wait(timeout, out);
        let watched = instance.0.as_fd();
        let result = wait_for_ready(timeout, |left| epoll_wait_once(watched, MAX_EVENTS, left));
        let call = |returned: &str| {
            invocation!(
                "epoll_wait",
                epoll_fd,
                format!("[{returned}]"),
                MAX_EVENTS,
                millis(timeout)
            )
        };
        let ready = match result {
            Ok(Some(ready)) => ready,
            Ok(None) => {
                out.call(call("").ended(Returned::Timeout));
                out.say(match interest_count(epoll_fd) {
                    Some(0) => format!(
                        "nothing is ready: fd {epoll_fd} watches no fds yet (`epoll add {epoll} SOCK in`)"
                    ),
                    Some(1) => format!("{}; fd {epoll_fd} watches 1 fd", nothing_ready(timeout)),
                    Some(n) => format!("{}; fd {epoll_fd} watches {n} fds", nothing_ready(timeout)),
                    None => nothing_ready(timeout),
                });
                return Ok(());
            }
            Err(error) => {
                return Err(wait_failed(
                    out,
                    &call("?"),
                    error,
                    &format!("events on the fds that fd {epoll_fd} watches"),
                ))
            }
        };
        let returned: Vec<String> = ready
            .iter()
            .map(|event| {
                format!(
                    "{{events={}, data={{u64={}}}}}",
                    epoll_names(event.events),
                    event.data
                )
            })
            .collect();
        out.call(call(&returned.join(", ")).returned(ready.len()));
        for event in &ready {
            let label = match i32::try_from(event.data) {
                Ok(fd) => self.fd_label(fd),
                Err(_) => format!("data {}", event.data),
            };
            out.say(format!("{label}: {}", epoll_names(event.events)));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsRawFd;

    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    use socket2::{Domain, Socket, Type};

    use super::*;
    use crate::lang::Command;
    use crate::session::Settings;

    /// An fd number past FD_SETSIZE, for the select limit.
    const HIGH_FD: i32 = 1500;

    /// A socket at fd HIGH_FD, or None when the hard fd limit does not allow one.
    fn socket_at_high_fd() -> Option<Socket> {
        let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).ok()?;
        let wanted = u64::try_from(HIGH_FD + 1).ok()?;
        if soft < wanted {
            if hard < wanted {
                return None;
            }
            setrlimit(Resource::RLIMIT_NOFILE, wanted, hard).ok()?;
        }
        let socket = Socket::new(Domain::UNIX, Type::STREAM, None).ok()?;
        // No other part of this test process uses numbers this high, so the copy lands on HIGH_FD.
        let high = crate::sys::descriptor::dup_above(socket.as_fd(), HIGH_FD).ok()?;
        if high.as_raw_fd() != HIGH_FD {
            return None;
        }
        Some(Socket::from(high))
    }

    #[test]
    fn select_refuses_an_fd_past_fd_setsize_without_panicking() {
        let Some(socket) = socket_at_high_fd() else {
            eprintln!("skipped: the fd limit does not allow fd {HIGH_FD}");
            return;
        };
        let mut session = Session::new(Settings::default());
        let fd = session.adopt(Object::Socket(socket), Some("high"));
        assert_eq!(fd, HIGH_FD);
        let select = Command::Select {
            read: vec![SockRef::Name("high".into())],
            write: vec![],
            timeout: Some(Duration::ZERO),
        };
        let outcome = session.execute(&select);
        let failure = outcome.failure.expect("select must refuse fd 1500");
        assert_eq!(failure.errno, None, "no call is made, so there is no errno");
        assert!(failure.message.contains("fd 1500 (high)"), "{failure:?}");
        assert!(failure.message.contains("FD_SETSIZE"), "{failure:?}");
        assert!(failure.hint.unwrap_or_default().contains("poll"));
        // poll has no such limit.
        let poll = Command::Poll {
            socks: vec![SockRef::Fd(HIGH_FD)],
            timeout: Some(Duration::ZERO),
        };
        let outcome = session.execute(&poll);
        assert_eq!(outcome.failure, None);
        assert!(outcome.text().contains("fd=1500"), "{}", outcome.text());
    }

    #[test]
    fn event_names_read_like_strace() {
        assert_eq!(poll_names(POLL_INTEREST), "POLLIN|POLLOUT|POLLRDHUP");
        assert_eq!(poll_names(PollFlags::empty()), "(none)");
        assert_eq!(
            epoll_names(EpollFlags::EPOLLIN | EpollFlags::EPOLLRDHUP),
            "EPOLLIN|EPOLLRDHUP"
        );
        assert_eq!(fd_set_text(&[3, 5]), "[3 5]");
        assert_eq!(fd_set_text(&[]), "NULL");
        assert_eq!(
            timeval_text(Duration::from_millis(1500)),
            "{tv_sec=1, tv_usec=500000}"
        );
    }
}
