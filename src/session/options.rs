//! Socket options and names: setsockopt/getsockopt by name, getsockname/getpeername, O_NONBLOCK via
//! fcntl, and shutdown's half-close.

use std::net::Shutdown;
use std::os::fd::{AsFd, BorrowedFd};

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};

use super::address::show_addr;
use super::calls::errno_of;
use super::{invocation, Context, Failure, Invocation, Outcome, Session};
use crate::lang::{How, OptKind, OptValue, SockOpt, SockRef};
use crate::net::{Family, SockState, SockType};
use crate::sys::errno_name;
use crate::sys::sockopt::{self, Linger};

/// An option value as getsockopt/setsockopt pass it: an int, or a `struct linger`.
enum Raw {
    Int(i32),
    Linger(Linger),
}

fn set_raw(fd: BorrowedFd<'_>, option: &SockOpt, value: &Raw) -> Result<(), Errno> {
    match *value {
        Raw::Int(n) => sockopt::set_int(fd, option.kernel, n),
        Raw::Linger(linger) => sockopt::set_linger(fd, option.kernel, linger),
    }
}

fn get_raw(fd: BorrowedFd<'_>, option: &SockOpt) -> Result<Raw, Errno> {
    if option.kind == OptKind::Linger {
        return sockopt::get_linger(fd, option.kernel).map(Raw::Linger);
    }
    sockopt::get_int(fd, option.kernel).map(Raw::Int)
}

/// An option's value in human terms: `1 (on)`, `212992 bytes`, `on:0 (close resets)`, `ECONNREFUSED`.
fn describe(option: &SockOpt, raw: &Raw) -> String {
    match (option.kind, raw) {
        (_, Raw::Linger(l)) if l.onoff == 0 => {
            "off (close returns at once; unsent data goes out in the background)".into()
        }
        (_, Raw::Linger(l)) if l.secs == 0 => "on:0 (close resets the connection with RST)".into(),
        (_, Raw::Linger(l)) => format!(
            "on:{} (close waits up to {} s for unsent data)",
            l.secs, l.secs
        ),
        (OptKind::Flag, Raw::Int(n)) => format!("{n} ({})", if *n != 0 { "on" } else { "off" }),
        (OptKind::Errno, Raw::Int(0)) => "0 (no pending error)".into(),
        (OptKind::Errno, Raw::Int(n)) => {
            let errno = Errno::from_raw(*n);
            format!("{} ({})", errno_name(errno), errno.desc())
        }
        (OptKind::SockType, Raw::Int(n)) => match SockType::from_number(*n) {
            SockType::Other(n) => n.to_string(),
            known => known.constant().into_owned(),
        },
        (OptKind::Domain, Raw::Int(n)) => match Family::from_number(*n) {
            Family::Other(n) => n.to_string(),
            known => known.constant().into_owned(),
        },
        (_, Raw::Int(n))
            if option.name.ends_with("BUF")
                || option.name.ends_with("LOWAT")
                || option.name == "TCP_MAXSEG" =>
        {
            format!("{n} bytes")
        }
        (_, Raw::Int(n)) if option.name == "TCP_KEEPIDLE" || option.name == "TCP_KEEPINTVL" => {
            format!("{n} s")
        }
        (_, Raw::Int(n)) => n.to_string(),
    }
}

/// The failure of `call` (getsockopt or setsockopt) on `option`.
fn option_failure(call: &Invocation, errno: Errno, option: &SockOpt, fd: i32) -> Failure {
    Failure::os(errno, format!("{} on fd {fd}", option.name))
        .hint_for(call.name(), Context::SockOpt(option))
}

impl Session {
    pub(super) fn setsockopt(
        &mut self,
        sock: &SockRef,
        option: &SockOpt,
        value: OptValue,
        out: &mut Outcome,
    ) -> Result<(), Failure> {
        let fd = self.resolve(sock)?;
        let socket = self.socket_at(fd)?.as_fd();
        let (raw, shown) = match value {
            OptValue::Int(n) => (Raw::Int(n), n.to_string()),
            OptValue::Linger(None) => (
                Raw::Linger(Linger { onoff: 0, secs: 0 }),
                "{l_onoff=0}".to_string(),
            ),
            OptValue::Linger(Some(secs)) => (
                Raw::Linger(Linger { onoff: 1, secs }),
                format!("{{l_onoff=1, l_linger={secs}}}"),
            ),
        };
        let call = invocation!("setsockopt", fd, option.level_name, option.name, shown);
        if let Err(errno) = set_raw(socket, option, &raw) {
            out.call(call.failed(errno));
            return Err(option_failure(&call, errno, option, fd));
        }
        out.call(call.returned(0));
        // Show what the kernel made of it: buffers come back doubled, for its bookkeeping.
        if let Ok(now) = get_raw(socket, option) {
            let described = describe(option, &now);
            let asked = matches!((&now, value), (Raw::Int(n), OptValue::Int(v)) if *n == v);
            if !asked || option.kind == OptKind::Linger {
                out.say(format!("{} is now {described}", option.name));
            }
        }
        Ok(())
    }

    pub(super) fn getsockopt(
        &mut self,
        sock: &SockRef,
        option: &SockOpt,
        out: &mut Outcome,
    ) -> Result<(), Failure> {
        let fd = self.resolve(sock)?;
        let socket = self.socket_at(fd)?.as_fd();
        let call = invocation!("getsockopt", fd, option.level_name, option.name);
        match get_raw(socket, option) {
            Ok(raw) => {
                out.call(call.returned(0).with_note(describe(option, &raw)));
                Ok(())
            }
            Err(errno) => {
                out.call(call.failed(errno));
                Err(option_failure(&call, errno, option, fd))
            }
        }
    }

    pub(super) fn getsockname(&mut self, sock: &SockRef, out: &mut Outcome) -> Result<(), Failure> {
        let fd = self.resolve(sock)?;
        let call = invocation!("getsockname", fd);
        match self.socket_at(fd)?.local_addr() {
            Ok(addr) if super::address::is_unbound(&addr) => {
                out.call(
                    call.returned(0)
                        .with_note(format!("{}  (not bound yet)", show_addr(&addr))),
                );
                Ok(())
            }
            Ok(addr) => {
                out.call(call.returned(0).with_note(show_addr(&addr)));
                Ok(())
            }
            Err(e) => {
                let errno = errno_of(&e);
                out.call(call.failed(errno));
                Err(Failure::os(errno, format!("fd {fd} has no local address"))
                    .hint_for(call.name(), Context::Fd(fd)))
            }
        }
    }

    pub(super) fn getpeername(&mut self, sock: &SockRef, out: &mut Outcome) -> Result<(), Failure> {
        let fd = self.resolve(sock)?;
        let call = invocation!("getpeername", fd);
        match self.socket_at(fd)?.peer_addr() {
            Ok(addr) => {
                out.call(call.returned(0).with_note(show_addr(&addr)));
                Ok(())
            }
            Err(e) => {
                let errno = errno_of(&e);
                out.call(call.failed(errno));
                Err(Failure::os(errno, format!("fd {fd} has no peer"))
                    .hint_for(call.name(), self.on(fd)))
            }
        }
    }

    pub(super) fn nonblock(
        &mut self,
        sock: &SockRef,
        on: bool,
        out: &mut Outcome,
    ) -> Result<(), Failure> {
        let fd = self.resolve(sock)?;
        let socket = self.socket_at(fd)?;
        let flags = fcntl(socket.as_fd(), FcntlArg::F_GETFL)
            .map(OFlag::from_bits_truncate)
            .map_err(|errno| Failure::os(errno, format!("cannot read the flags of fd {fd}")))?;
        let flags = if on {
            flags | OFlag::O_NONBLOCK
        } else {
            flags - OFlag::O_NONBLOCK
        };
        let call = invocation!("fcntl", fd, "F_SETFL", flag_names(flags));
        match fcntl(socket.as_fd(), FcntlArg::F_SETFL(flags)) {
            Ok(_) => {
                out.call(call.returned(0));
                out.say(if on {
                    format!(
                        "fd {fd} is non-blocking: calls that would wait fail at once with EAGAIN (a TCP connect: EINPROGRESS, the handshake going on)"
                    )
                } else {
                    format!("fd {fd} is blocking again: calls wait (up to the session timeout)")
                });
                Ok(())
            }
            Err(errno) => {
                out.call(call.failed(errno));
                Err(
                    Failure::os(errno, format!("cannot change the flags of fd {fd}"))
                        .hint_for(call.name(), Context::Fd(fd)),
                )
            }
        }
    }

    pub(super) fn shutdown(
        &mut self,
        sock: &SockRef,
        how: How,
        out: &mut Outcome,
    ) -> Result<(), Failure> {
        let fd = self.resolve(sock)?;
        let socket = self.socket_at(fd)?;
        let (std_how, name) = match how {
            How::Read => (Shutdown::Read, "SHUT_RD"),
            How::Write => (Shutdown::Write, "SHUT_WR"),
            How::Both => (Shutdown::Both, "SHUT_RDWR"),
        };
        let call = invocation!("shutdown", fd, name);
        let before = crate::fdtable::inspect_fd(fd);
        let read_was_shut = crate::sys::read_side_shut(socket.as_fd());
        match socket.shutdown(std_how) {
            Ok(()) => {
                out.call(call.returned(0));
                let after = fin_acknowledged(fd, FIN_ACK_PATIENCE.min(self.settings.timeout));
                let kind = before
                    .as_ref()
                    .map_or((None, None), |row| (row.family, row.sock_type));
                let was = before.and_then(|row| row.state);
                out.say(shutdown_sentence(
                    fd,
                    how,
                    kind,
                    (was, after),
                    read_was_shut,
                ));
                Ok(())
            }
            Err(e) => {
                let errno = errno_of(&e);
                out.call(call.failed(errno));
                Err(Failure::os(errno, format!("fd {fd} cannot shut down"))
                    .hint_for(call.name(), self.on(fd)))
            }
        }
    }
}

/// How long a FIN that `shutdown` sent may take to be acknowledged before the panel is drawn
/// (never longer than the session's timeout). A peer that has its FIN may still delay the ACK: a
/// kernel holds a delayed ACK at most 200 ms (TCP_DELACK_MAX), and a moment more covers a busy
/// machine.
const FIN_ACK_PATIENCE: std::time::Duration = std::time::Duration::from_millis(300);

/// The state of fd `fd` after a shutdown, once the FIN it sent was acknowledged (FIN_WAIT1 turns
/// FIN_WAIT2, or CLOSING turns TIME_WAIT), so that what the panel and the sentence say does not
/// depend on when the peer's (delayed) ACK happened to land. Waited for only while the FIN is all
/// that is unacknowledged (SEND-Q 1): a FIN behind data the peer has not taken waits for the
/// peer, not for a timer, and is shown as it is. At most `patience`.
fn fin_acknowledged(fd: i32, patience: std::time::Duration) -> Option<SockState> {
    use crate::net::TcpState::{Closing, FinWait1};
    let deadline = std::time::Instant::now() + patience;
    loop {
        let row = crate::fdtable::inspect_fd(fd);
        let state = row.as_ref().and_then(|row| row.state);
        let only_the_fin = row.is_some_and(|row| row.send_q == Some(1));
        let unacknowledged = matches!(state, Some(SockState::Tcp(FinWait1 | Closing)));
        if !(unacknowledged && only_the_fin) || std::time::Instant::now() >= deadline {
            return state;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// What `shutdown` on fd `fd` did, as Linux then behaves: by the socket's (family, type), its
/// state (before, after) the call, and whether its read side was shut already (its own earlier
/// `shutdown rd`, or the peer's FIN).
fn shutdown_sentence(
    fd: i32,
    how: How,
    (family, sock_type): (Option<Family>, Option<SockType>),
    (was, now): (Option<SockState>, Option<SockState>),
    read_was_shut: bool,
) -> String {
    use crate::net::TcpState::{CloseWait, FinWait1, FinWait2, LastAck};
    let inet = family.is_some_and(Family::is_inet);
    let unix = family == Some(Family::Unix);
    let listener = was.is_some_and(SockState::is_listening);
    let reads_stop = matches!(how, How::Read | How::Both);
    match sock_type {
        Some(SockType::Stream) if inet && listener => match how {
            How::Write => format!("fd {fd} is a listener: shutting down its writing changes nothing, and it keeps listening"),
            _ => format!("fd {fd} stops listening: the kernel closes the listener and resets the connections in its queue; accept on it now fails with EINVAL"),
        },
        Some(SockType::Stream) if inet => {
            let fin_waits = matches!(now, Some(SockState::Tcp(FinWait1 | FinWait2)));
            let peer_closed = now == Some(SockState::Tcp(LastAck));
            match how {
                How::Read if fin_waits => format!(
                    "fd {fd} stops reading: recv returns what is queued, then 0; as fd {fd} sent its FIN already, data the peer sends from now on is answered with a reset (RST)"
                ),
                How::Read if now == Some(SockState::Tcp(CloseWait)) => format!(
                    "fd {fd} stops reading: recv returns what is queued, then 0 (the peer closed its side already)"
                ),
                How::Read => format!(
                    "fd {fd} stops reading: with nothing queued recv returns 0 at once instead of waiting, yet the kernel still takes what the peer sends and recv returns it (Linux); the peer is not told"
                ),
                How::Write | How::Both if peer_closed => format!(
                    "fd {fd} sent FIN: the peer, which closed its side already, reads EOF once it has the data; the connection ends when it acknowledges (LAST_ACK)"
                ),
                How::Write if read_was_shut => format!(
                    "fd {fd} sent FIN: the peer reads EOF once it has the data; as fd {fd} was shut down for reading already, data the peer sends now is answered with a reset (RST)"
                ),
                How::Write => format!(
                    "fd {fd} sent FIN: the peer reads EOF once it has the data; fd {fd} can still receive"
                ),
                How::Both => format!(
                    "fd {fd} sent FIN and stops reading: the peer reads EOF once it has the data; recv here returns what is queued, then 0, and data the peer sends from now on is answered with a reset (RST); the fd stays open until close"
                ),
            }
        }
        Some(SockType::Stream | SockType::Seqpacket) if unix && listener => match how {
            How::Write => format!("fd {fd} is a listener: shutting down its writing changes nothing, and it keeps listening"),
            _ => format!("fd {fd} refuses new connections now (ECONNREFUSED); the ones already in its queue can still be accepted"),
        },
        Some(SockType::Stream | SockType::Seqpacket)
            if unix && was == Some(SockState::Unconnected) =>
        {
            format!("nothing to shut: fd {fd} is not connected (a unix socket accepts shutdown anyway)")
        }
        Some(SockType::Stream | SockType::Seqpacket) if unix => match how {
            How::Read => format!(
                "fd {fd} stops reading: recv returns what is queued, then 0; the peer is told at once: its sends now fail with EPIPE"
            ),
            How::Write => format!(
                "fd {fd} will send nothing more: the peer reads EOF once it has read what was sent; fd {fd} can still receive"
            ),
            How::Both => format!(
                "fd {fd} neither sends nor receives: the peer reads EOF after what was sent, and its sends now fail with EPIPE; the fd stays open until close"
            ),
        },
        Some(SockType::Dgram) if unix => match how {
            How::Read => format!(
                "fd {fd} stops reading: recv returns what is queued, then 0 at once; whoever sends to it now gets EPIPE"
            ),
            How::Write => format!("sends on fd {fd} now fail with EPIPE; the peer is not told"),
            How::Both => format!(
                "fd {fd} neither sends nor receives: its sends fail with EPIPE, and so do sends to it; recv returns what is queued, then 0 at once; the fd stays open until close"
            ),
        },
        Some(SockType::Dgram) if inet => match how {
            How::Read => format!(
                "fd {fd} stops reading, yet datagrams still arrive and recv returns them; with nothing queued recv returns 0 at once instead of waiting; the peer is not told"
            ),
            How::Write => format!(
                "sends on fd {fd} now fail with EPIPE; nothing goes out, and the peer is not told"
            ),
            How::Both => format!(
                "sends on fd {fd} now fail with EPIPE; datagrams still arrive and recv returns them, or 0 at once when nothing is queued; the peer is not told"
            ),
        },
        _ if reads_stop => format!(
            "fd {fd} is shut down for {}; the fd stays open until close",
            if how == How::Both { "reading and writing" } else { "reading" }
        ),
        _ => format!("fd {fd} is shut down for writing; the fd stays open until close"),
    }
}

/// O_ flags as strace shows them.
fn flag_names(flags: OFlag) -> String {
    let access = match flags & OFlag::O_ACCMODE {
        f if f == OFlag::O_RDONLY => "O_RDONLY",
        f if f == OFlag::O_WRONLY => "O_WRONLY",
        _ => "O_RDWR",
    };
    if flags.contains(OFlag::O_NONBLOCK) {
        format!("{access}|O_NONBLOCK")
    } else {
        access.to_string()
    }
}
