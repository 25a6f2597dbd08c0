//! Socket options and names: setsockopt/getsockopt by name, getsockname/getpeername, O_NONBLOCK via
//! fcntl, and shutdown's half-close.

use std::net::Shutdown;
use std::os::fd::{AsFd, BorrowedFd};

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};

use super::address::show_addr;
use super::calls::errno_of;
use super::{invocation, Context, Failure, Invocation, Outcome, Session};
use crate::fdtable::FdRow;
use crate::lang::{How, OptKind, OptValue, SockOpt, SockRef};
use crate::net::{Family, SockState, SockType, TcpState};
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
                    .hint_for(call.name(), Context::Fd(fd)))
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
        match socket.shutdown(std_how) {
            Ok(()) => {
                out.call(call.returned(0));
                out.say(shut_down(fd, how, before.as_ref()));
                Ok(())
            }
            Err(e) => {
                let errno = errno_of(&e);
                out.call(call.failed(errno));
                Err(Failure::os(errno, format!("fd {fd} cannot shut down"))
                    .hint_for(call.name(), Context::Fd(fd)))
            }
        }
    }
}

/// What a shutdown that succeeded did, by the socket it acted on (`before`, as it was).
fn shut_down(fd: i32, how: How, before: Option<&FdRow>) -> String {
    let state = before.and_then(|row| row.state);
    let family = before.and_then(|row| row.family);
    let datagram = before.and_then(|row| row.sock_type) == Some(SockType::Dgram);
    let tcp = matches!(state, Some(SockState::Tcp(_)));
    let reads = "recv returns what is queued, then 0 at once instead of waiting";
    match (how, state) {
        // The kernel stops a listener that is shut for reading, and ignores the rest.
        (How::Read | How::Both, Some(SockState::Tcp(TcpState::Listen))) => {
            let queued = before.and_then(|row| row.recv_q).unwrap_or(0);
            let reset = match queued {
                0 => String::new(),
                1 => " and reset the connection waiting in its queue".into(),
                n => format!(" and reset the {n} connections waiting in its queue"),
            };
            format!(
                "fd {fd} no longer listens: the kernel closed the listener (state CLOSE){reset}; `listen {fd}` starts it again"
            )
        }
        (How::Write, Some(SockState::Tcp(TcpState::Listen))) => format!(
            "nothing changed: a listener sends nothing, so fd {fd} still listens"
        ),
        (_, Some(SockState::Unconnected)) => format!(
            "nothing to shut: fd {fd} is not connected (a unix socket accepts shutdown anyway)"
        ),
        (How::Write, _) if tcp => format!(
            "fd {fd} sent FIN: the peer reads EOF once it has the data; fd {fd} can still receive"
        ),
        (How::Read, _) if tcp => format!(
            "fd {fd} reads no more: {reads}; TCP does not tell the peer, and what it sends still arrives"
        ),
        (How::Both, _) if tcp => format!(
            "fd {fd} sent FIN and reads no more ({reads}); the fd stays open until close"
        ),
        (How::Write, _) if datagram => format!(
            "fd {fd} sends no more (send fails with EPIPE); a datagram socket tells the peer nothing"
        ),
        (How::Read, _) if datagram => format!(
            "fd {fd} reads no more: {reads}; the peer is not told, and what it sends still arrives"
        ),
        (How::Both, _) if datagram => format!(
            "fd {fd} sends no more (send fails with EPIPE) and reads no more ({reads}); the peer is not told"
        ),
        (How::Write, _) if family == Some(Family::Unix) => format!(
            "the peer reads EOF once it has the data (a unix socket has no FIN: the kernel tells the peer directly); fd {fd} can still receive"
        ),
        (How::Read, _) if family == Some(Family::Unix) => format!(
            "fd {fd} reads no more: {reads}; the peer's sends now fail with EPIPE"
        ),
        (How::Both, _) if family == Some(Family::Unix) => format!(
            "fd {fd} neither sends nor receives any more: the peer reads EOF and its sends fail with EPIPE; the fd stays open until close"
        ),
        (How::Write, _) => format!("fd {fd} sends no more; it can still receive"),
        (How::Read, _) => format!("fd {fd} reads no more: {reads}"),
        (How::Both, _) => {
            format!("fd {fd} neither sends nor receives any more, but the fd stays open until close")
        }
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
