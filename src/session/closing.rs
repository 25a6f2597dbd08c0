//! What a close(2) sends, told before the call from what the kernel will act on: another fd (in any
//! process) still holding the socket means nothing is sent; a TCP connection with unread bytes in
//! its receive queue, or with SO_LINGER on at 0 s, is reset (RST) instead of closed with FIN; a
//! listener resets the connections waiting in its queue.

use std::os::fd::{AsFd, OwnedFd};
use std::time::Duration;

use nix::poll::PollFlags;

use crate::fdtable::{inspect_fd, FdRow, Kind};
use crate::net::{SockState, SockType, TcpState};
use crate::text::plural;

/// Where else the socket is held: fds of this process, and (pid, fd) in other processes.
#[derive(Debug, Default)]
struct Holders {
    here: Vec<i32>,
    elsewhere: Vec<(i32, i32)>,
}

impl Holders {
    fn is_empty(&self) -> bool {
        self.here.is_empty() && self.elsewhere.is_empty()
    }
}

/// The other fds open on the socket with `inode`: in this process, and in the other processes of
/// its session (the playground's processes, and what they started) whose fd tables it may read.
fn holders(fd: i32, inode: u64) -> Holders {
    let mut found = Holders::default();
    let me = i32::try_from(std::process::id()).unwrap_or(0);
    let session_of = crate::sys::process::session_of;
    let session = session_of(me);
    let in_session = |pid: i32| pid == me || (session.is_some() && session_of(pid) == session);
    crate::fdtable::socket_fds(in_session, |socket| {
        if socket.inode == inode {
            if socket.pid == me {
                if socket.fd != fd {
                    found.here.push(socket.fd);
                }
            } else {
                found.elsewhere.push((socket.pid, socket.fd));
            }
        }
        std::ops::ControlFlow::Continue(())
    });
    found
}

/// The SO_LINGER setting: Some(secs) when it is on.
fn linger(socket: &OwnedFd) -> Option<u64> {
    socket2::SockRef::from(&socket.as_fd())
        .linger()
        .ok()
        .flatten()
        .map(|time| time.as_secs())
}

/// What a close(2) of a socket sends, as told before the call: the sentence, and the socket's
/// row to check it against the kernel once the call returned ([`Self::after_close`]).
#[derive(Debug)]
pub(super) struct CloseSends {
    row: FdRow,
    sentence: String,
}

impl CloseSends {
    /// The sentence, once close(2) of fd `fd` returned: the one told before, unless the kernel
    /// still has the socket open — something no process's fd table shows holds it (an fd in
    /// flight in a Unix socket message, or a process outside the session), so close sent nothing.
    pub fn after_close(self, fd: i32) -> String {
        let still_open = crate::sys::sock_diag::SockDiag::open()
            .and_then(|mut diag| crate::fdtable::diag::still_open(&mut diag, &self.row))
            .unwrap_or(false);
        if !still_open {
            return self.sentence;
        }
        let mut holder = None;
        crate::fdtable::socket_fds(
            |_| true,
            |socket| match socket.inode == self.row.inode {
                true => {
                    holder = Some(socket);
                    std::ops::ControlFlow::Break(())
                }
                false => std::ops::ControlFlow::Continue(()),
            },
        );
        match holder {
            Some(other) => format!(
                "close sent nothing: fd {} of pid {} (outside sockplay) still holds the socket, so the peer notices nothing",
                other.fd, other.pid
            ),
            None => format!(
                "close sent nothing: fd {fd}'s socket is still in flight in a Unix socket message (SCM_RIGHTS), which holds it open until it is received and closed, or dropped; the peer notices nothing until then"
            ),
        }
    }
}

/// What closing `socket` (fd `fd`) sends, found before close(2) runs and said after it; None when there is nothing
/// worth saying (not a socket, a datagram socket, a socket with no connection).
pub(super) fn what_close_sends(fd: i32, socket: &OwnedFd) -> Option<CloseSends> {
    let row = inspect_fd(fd).filter(|row| row.kind == Kind::Socket)?;
    let sentence = sentence(fd, &row, socket)?;
    Some(CloseSends { row, sentence })
}

/// [`what_close_sends`]'s sentence for `row`, the socket of fd `fd`.
fn sentence(fd: i32, row: &FdRow, socket: &OwnedFd) -> Option<String> {
    let state = row.state?;
    if !sends_anything(row, state, socket) {
        return None;
    }
    // Another fd (here or in another process) still holds the socket: close sends nothing, and
    // the sentence read off the tables says who holds it.
    if !holders(fd, row.inode).is_empty() {
        return None;
    }
    let unread = usize::try_from(row.recv_q.unwrap_or(0)).unwrap_or(usize::MAX);
    match state {
        SockState::Tcp(TcpState::Listen) => Some(format!(
            "the kernel reset {} in fd {fd}'s accept queue (RST)",
            waiting(unread)
        )),
        SockState::Tcp(_) if unread > 0 => Some(format!(
            "close sent RST, not FIN: {} in fd {fd}'s receive queue, and closing on unread data resets the connection",
            unread_bytes(unread)
        )),
        SockState::Tcp(tcp) if linger(socket) == Some(0) && resets_on_linger(tcp) => Some(
            "close sent RST, not FIN: SO_LINGER is on with 0 s, which aborts the connection (no TIME_WAIT)"
                .into(),
        ),
        SockState::Tcp(TcpState::Established) => {
            Some("close sent FIN: the peer reads EOF after the data already sent".into())
        }
        SockState::Tcp(TcpState::CloseWait) => Some(
            "close sent FIN, answering the peer's: the connection ends once the peer acknowledges it (LAST_ACK)"
                .into(),
        ),
        SockState::Tcp(TcpState::SynSent) => {
            Some("the handshake was abandoned: nothing was sent".into())
        }
        SockState::Tcp(_) => {
            Some("no new FIN: this side's FIN went out already, at `shutdown`".into())
        }
        _ if row.sock_type == Some(SockType::Dgram) => None,
        _ if state.is_listening() => Some(format!(
            "the kernel dropped {} in fd {fd}'s queue: each client's next call fails with ECONNRESET",
            waiting(unread)
        )),
        _ if peer_is_gone(socket) => None,
        _ if unread > 0 => Some(format!(
            "{} in fd {fd}'s receive queue, so the peer's next recv fails with ECONNRESET (a unix socket sends no RST; the kernel tells the peer directly)",
            unread_bytes(unread)
        )),
        _ => Some("the peer reads EOF (a unix socket has no FIN; the kernel tells the peer directly)".into()),
    }
}

/// `the connection waiting`, `the 2 connections waiting`; a count of 0 is an unknown one.
fn waiting(count: usize) -> String {
    match count {
        0 => "the connections waiting".into(),
        1 => "the connection waiting".into(),
        n => format!("the {n} connections waiting"),
    }
}

/// `1 unread byte was`, `5 unread bytes were`.
fn unread_bytes(count: usize) -> String {
    let verb = if count == 1 { "was" } else { "were" };
    format!("{} {verb}", plural(count, "unread byte"))
}

/// The events the socket reports now (poll(2) without waiting).
fn events(socket: &OwnedFd) -> PollFlags {
    crate::sys::poll_once(&[socket.as_fd()], PollFlags::POLLIN, Duration::ZERO)
        .ok()
        .flatten()
        .and_then(|revents| revents.first().copied())
        .unwrap_or(PollFlags::empty())
}

/// Whether a Unix socket's peer has closed: the kernel then reports POLLHUP on it.
fn peer_is_gone(socket: &OwnedFd) -> bool {
    events(socket).contains(PollFlags::POLLHUP)
}

/// Whether close acts on a connection at all: a connected or connecting stream socket, or a
/// listener with connections in its queue.
fn sends_anything(row: &FdRow, state: SockState, socket: &OwnedFd) -> bool {
    match state {
        SockState::Tcp(TcpState::Listen) => row.recv_q.unwrap_or(0) > 0,
        SockState::Tcp(TcpState::Close | TcpState::TimeWait) => false,
        SockState::Tcp(_) => true,
        // A Unix listener's queue length is not known here (SIOCINQ fails on it); POLLIN says
        // whether a connection waits.
        other if other.is_listening() => events(socket).contains(PollFlags::POLLIN),
        other => other == SockState::Connected && row.sock_type != Some(SockType::Dgram),
    }
}

/// The states in which SO_LINGER 0 makes close send RST (the kernel's tcp_need_reset).
fn resets_on_linger(state: TcpState) -> bool {
    matches!(
        state,
        TcpState::Established
            | TcpState::CloseWait
            | TcpState::FinWait1
            | TcpState::FinWait2
            | TcpState::SynRecv
    )
}
