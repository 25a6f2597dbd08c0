//! The socket calls themselves. Each makes the real syscall and records it as a [`Call`](super::Call)
//! (shown strace-style: `bind(3, 127.0.0.1:8080) = 0`); calls that can block block for real, and a
//! signal cuts them at the session timeout or at Ctrl-C.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::poll::PollFlags;
use nix::sys::socket::MsgFlags;
use socket2::{Domain, Protocol, Socket, Type};

use super::address::show_addr;
use super::hints::Asked;
use super::{invocation, seconds, Context, Failure, Invocation, Object, Outcome, Session};
use crate::lang::{AddrSpec, Family, SockRef, SockType};
use crate::net::SockState::Tcp;
use crate::net::TcpState::{Close, CloseWait, Closing, Established, FinWait1, FinWait2, LastAck};
use crate::sys::descriptor::Detached;
use crate::sys::{
    block_until, cut_at_deadline, interrupted, interruption, read_side_shut, WaitError,
};
use crate::text::escape_bytes;

/// How many bytes of DATA a call line shows before eliding the rest.
const PREVIEW_BYTES: usize = 48;
/// How many received bytes are shown before the rest is counted instead.
const SHOW_RECEIVED: usize = 1024;

pub(super) fn errno_of(error: &io::Error) -> Errno {
    Errno::from_raw(error.raw_os_error().unwrap_or(Errno::EIO as i32))
}

/// Whether the fd has O_NONBLOCK set (by `nonblock on`), so calls must not wait.
pub(super) fn is_nonblocking(socket: impl AsFd) -> bool {
    fcntl(socket.as_fd(), FcntlArg::F_GETFL)
        .map(|flags| OFlag::from_bits_truncate(flags).contains(OFlag::O_NONBLOCK))
        .unwrap_or(false)
}

/// The kernel's address family for a FAMILY word.
pub(super) fn domain_of(family: Family) -> Domain {
    match family {
        Family::Inet => Domain::IPV4,
        Family::Inet6 => Domain::IPV6,
        Family::Unix => Domain::UNIX,
        Family::Other(number) => Domain::from(number),
    }
}

/// The kernel's socket type for a TYPE word.
pub(super) fn type_of(sock_type: SockType) -> Type {
    match sock_type {
        SockType::Stream => Type::STREAM,
        SockType::Dgram => Type::DGRAM,
        SockType::Seqpacket => Type::SEQPACKET,
        SockType::Raw => Type::RAW,
        SockType::Other(number) => Type::from(number),
    }
}

/// Bytes as a short quoted preview for a call line.
pub(super) fn preview(data: &[u8]) -> String {
    if data.len() <= PREVIEW_BYTES {
        format!("\"{}\"", escape_bytes(data))
    } else {
        format!("\"{}\"…", escape_bytes(&data[..PREVIEW_BYTES]))
    }
}

/// Received bytes as hexdump lines, when they are binary or the user asked (`hex`).
pub(super) fn dump_lines(data: &[u8], asked: bool, out: &mut Outcome) {
    if asked || (data.len() > 16 && crate::text::looks_binary(data)) {
        for line in crate::text::hexdump(data, SHOW_RECEIVED) {
            out.say(format!("  {line}"));
        }
    }
}

/// Received bytes, quoted and escaped; past SHOW_RECEIVED bytes the rest is counted, not shown.
pub(super) fn show_received(data: &[u8]) -> String {
    let shown = data.len().min(SHOW_RECEIVED);
    let mut text = format!("\"{}\"", escape_bytes(&data[..shown]));
    if data.len() > shown {
        text.push_str(&format!("… ({} more bytes)", data.len() - shown));
    }
    text
}

/// The failure of a blocking call that sockplay cut: the call's own line, with the EINTR the kernel
/// returned and what cut it, then why, as ETIMEDOUT (the timeout) or EINTR (Ctrl-C), so scripts can
/// `expect error` either.
pub(super) fn cut_failure(
    out: &mut Outcome,
    call: &Invocation,
    timeout: Duration,
    error: WaitError,
    waiting_for: &str,
) -> Failure {
    let (note, failure) = match error {
        WaitError::TimedOut => (
            format!("sockplay's timeout ({}) cut the wait", seconds(timeout)),
            Failure::os(
                Errno::ETIMEDOUT,
                format!("{waiting_for} (waited {})", seconds(timeout)),
            ),
        ),
        WaitError::Interrupted => (
            format!("{} cut the wait", interruption()),
            Failure::os(
                Errno::EINTR,
                format!("interrupted by {}: {waiting_for}", interruption()),
            ),
        ),
    };
    out.call(call.failed(Errno::EINTR).with_note(note));
    failure.hint_for(call.name(), Context::BlockingWait)
}

/// What a blocking call waits for on its socket: input (a connection to accept, bytes, a
/// datagram) or room to send (and, for connect, the handshake's end).
fn wakes_on(call: &Invocation) -> PollFlags {
    match call.name() {
        "accept" | "recv" | "recvfrom" | "recvmsg" => PollFlags::POLLIN,
        _ => PollFlags::POLLOUT,
    }
}

impl Session {
    pub(super) fn deadline(&self) -> Instant {
        Instant::now() + self.settings.timeout
    }

    /// A wait the user sized (`sleep MS`, `timeout MS` of select, poll and epoll wait), cut to the
    /// session timeout, which no command outlives; saying so when it cuts. None is the timeout.
    pub(super) fn bounded_wait(&self, requested: Option<Duration>, out: &mut Outcome) -> Duration {
        bounded_by(self.settings.timeout, requested, out)
    }

    /// Makes `call`, the blocking syscall `shown`, for real: it waits in the kernel (see
    /// [`wakes_on`]) as the user's program would, until `deadline` or Ctrl-C, when a signal cuts it and it fails after its own
    /// line, saying what it was `waiting_for` (see [`cut_failure`]); the socket is untouched either
    /// way. Otherwise the kernel's result is returned. On a non-blocking socket (`nonblock on`) the
    /// call answers at once (EAGAIN), as the kernel makes it.
    pub(super) fn blocking<T>(
        &self,
        socket: BorrowedFd<'_>,
        deadline: Instant,
        shown: &Invocation,
        waiting_for: &str,
        out: &mut Outcome,
        mut call: impl FnMut() -> Result<T, Errno>,
    ) -> Result<Result<T, Errno>, Failure> {
        if is_nonblocking(socket) {
            return Ok(call());
        }
        block_until(socket, wakes_on(shown), deadline, call)
            .map_err(|error| cut_failure(out, shown, self.settings.timeout, error, waiting_for))
    }

    pub(super) fn socket(
        &mut self,
        family: Family,
        sock_type: SockType,
        name: Option<&str>,
        out: &mut Outcome,
    ) -> Result<(), Failure> {
        self.check_name_free(name)?;
        let (domain, ty) = (domain_of(family), type_of(sock_type));
        let (protocol, protocol_name) = match (family, sock_type) {
            (Family::Unix, _) => (None, "0"),
            (_, SockType::Stream) => (Some(Protocol::TCP), "IPPROTO_TCP"),
            (_, SockType::Dgram) => (Some(Protocol::UDP), "IPPROTO_UDP"),
            (_, SockType::Seqpacket) => (Some(Protocol::SCTP), "IPPROTO_SCTP"),
            (Family::Inet, SockType::Raw) => (Some(Protocol::ICMPV4), "IPPROTO_ICMP"),
            (_, SockType::Raw) => (Some(Protocol::ICMPV6), "IPPROTO_ICMPV6"),
            (_, SockType::Other(_)) => (None, "0"),
        };
        let call = invocation!(
            "socket",
            family.constant(),
            sock_type.constant(),
            protocol_name
        );
        match Socket::new(domain, ty, protocol) {
            Ok(socket) => {
                let fd = self.adopt(Object::Socket(socket), name);
                out.call(call.returned(fd));
                Ok(())
            }
            Err(e) => {
                let errno = errno_of(&e);
                out.call(call.failed(errno));
                let context = match sock_type {
                    SockType::Seqpacket => Context::Seqpacket,
                    _ => Context::Plain,
                };
                Err(Failure::os(errno, "the kernel would not create the socket")
                    .hint_for(call.name(), context))
            }
        }
    }

    pub(super) fn bind(
        &mut self,
        sock: &SockRef,
        addr: &AddrSpec,
        out: &mut Outcome,
    ) -> Result<(), Failure> {
        let fd = self.resolve(sock)?;
        let socket = self.socket_at(fd)?;
        let domain = socket
            .domain()
            .map_err(|e| Failure::os(errno_of(&e), "SO_DOMAIN"))?;
        let address = self.resolve_addr(addr, domain)?;
        let shown = show_addr(&address);
        let call = invocation!("bind", fd, shown);
        if let Err(e) = socket.bind(&address) {
            let errno = errno_of(&e);
            out.call(call.failed(errno));
            return Err(self.failed_at_address(
                Failure::os(errno, format!("cannot bind fd {fd} to {shown}")),
                call.name(),
                (fd, socket),
                &address,
                &shown,
            ));
        }
        out.call(call.returned(0));
        if let Ok(local) = socket.local_addr() {
            let bound = show_addr(&local);
            if bound != shown {
                out.say(format!("bound to {bound}"));
            }
        }
        if address.as_socket().is_some_and(|a| a.ip().is_unspecified()) {
            out.say(format!(
                "warning: {shown} is every address of this machine: other hosts on its networks can reach fd {fd}; bind 127.0.0.1 (or [::1]) to stay local"
            ));
        }
        if let Some(path) = address.as_pathname() {
            let path = path.to_path_buf();
            self.note_socket_file(fd, &path);
        }
        Ok(())
    }

    pub(super) fn listen(
        &mut self,
        sock: &SockRef,
        backlog: i32,
        out: &mut Outcome,
    ) -> Result<(), Failure> {
        let fd = self.resolve(sock)?;
        let socket = self.socket_at(fd)?;
        let call = invocation!("listen", fd, backlog);
        // An inet socket with no port yet: listen binds it, to every address of the machine.
        let unbound = socket
            .local_addr()
            .ok()
            .and_then(|local| local.as_socket())
            .is_some_and(|local| local.port() == 0);
        match socket.listen(backlog) {
            Ok(()) => {
                out.call(call.returned(0));
                if let Ok(local) = socket.local_addr() {
                    let shown = show_addr(&local);
                    out.say(format!(
                        "fd {fd} now waits for connections on {shown}; the kernel queues them until `accept`"
                    ));
                    if unbound && local.as_socket().is_some_and(|a| a.ip().is_unspecified()) {
                        out.say(format!(
                            "warning: fd {fd} was not bound, so listen bound it to {shown}, every address of this machine: other hosts on its networks can reach fd {fd}; bind 127.0.0.1 (or [::1]) first to stay local"
                        ));
                    }
                }
                Ok(())
            }
            Err(e) => {
                let errno = errno_of(&e);
                out.call(call.failed(errno));
                let asked = socket.local_addr().ok().and_then(|local| {
                    Asked::of(call.name(), errno, (fd, self.name_of(fd)), socket, &local)
                });
                Err(Failure::os(errno, format!("fd {fd} cannot listen"))
                    .hint_for(call.name(), self.on(fd))
                    .asking(asked))
            }
        }
    }

    pub(super) fn accept(
        &mut self,
        sock: &SockRef,
        name: Option<&str>,
        out: &mut Outcome,
    ) -> Result<(), Failure> {
        self.check_name_free(name)?;
        let fd = self.resolve(sock)?;
        let socket = self.socket_at(fd)?;
        let call = invocation!("accept", fd);
        // A socket that is not listening fails at once (EINVAL), as the kernel answers.
        let accepted = self.blocking(
            socket.as_fd(),
            self.deadline(),
            &call,
            &format!("no connection is waiting in the backlog of fd {fd}"),
            out,
            || socket.accept().map_err(|e| errno_of(&e)),
        )?;
        match accepted {
            Ok((conn, peer)) => {
                let new_fd = self.adopt(Object::Socket(conn), name);
                out.call(
                    call.returned(new_fd)
                        .with_note(format!("peer {}", show_addr(&peer))),
                );
                out.say(format!(
                    "the connection left fd {fd}'s queue and is now fd {new_fd}; fd {fd} keeps listening"
                ));
                Ok(())
            }
            Err(errno) => {
                out.call(call.failed(errno));
                Err(Failure::os(errno, format!("nothing accepted on fd {fd}"))
                    .hint_for(call.name(), self.on(fd)))
            }
        }
    }

    pub(super) fn connect(
        &mut self,
        sock: &SockRef,
        addr: &AddrSpec,
        out: &mut Outcome,
    ) -> Result<(), Failure> {
        let fd = self.resolve(sock)?;
        let deadline = self.deadline();
        let domain = self
            .socket_at(fd)?
            .domain()
            .map_err(|e| Failure::os(errno_of(&e), "SO_DOMAIN"))?;
        let address = self.resolve_addr(addr, domain)?;
        // What came before, for the hints of later calls: a failed connect counts no segment.
        self.connects.insert(fd);
        let socket = self.socket_at(fd)?;
        let shown = show_addr(&address);
        let call = invocation!("connect", fd, shown);
        let listening = crate::fdtable::inspect_fd(fd)
            .and_then(|row| row.state)
            .is_some_and(crate::net::SockState::is_listening);
        let refused = |errno: Errno| {
            // A non-blocking connect that returns EINPROGRESS has started, not failed.
            let message = match errno {
                Errno::EINPROGRESS => format!(
                    "fd {fd}'s handshake with {shown} has started and goes on without waiting"
                ),
                Errno::EALREADY => {
                    format!("fd {fd}'s earlier connect to {shown} is still in progress")
                }
                Errno::EISCONN if listening => format!("fd {fd} listens: it cannot connect"),
                Errno::EISCONN => format!("fd {fd} is connected already"),
                _ => format!("fd {fd} cannot connect to {shown}"),
            };
            self.failed_at_address(
                Failure::os(errno, message),
                call.name(),
                (fd, socket),
                &address,
                &shown,
            )
        };
        let waiting_for = if domain == Domain::UNIX {
            format!("the backlog of the listener at {shown} is full")
        } else {
            format!("no answer from {shown} yet; the handshake may still complete later")
        };
        let connected =
            self.blocking(socket.as_fd(), deadline, &call, &waiting_for, out, || {
                socket.connect(&address).map_err(|e| errno_of(&e))
            })?;
        match connected {
            Ok(()) => {
                out.call(call.returned(0));
                if let (false, Ok(local)) = (is_nonblocking(socket), socket.local_addr()) {
                    out.say(format!("connected from {}", show_addr(&local)));
                    if let (Some(client), Some(server)) = (local.as_socket(), address.as_socket()) {
                        handshake_taken_in(client, server);
                    }
                }
                Ok(())
            }
            Err(errno) => {
                out.call(call.failed(errno));
                Err(refused(errno))
            }
        }
    }

    /// Sends `data`, waiting for room like a blocking send; returns how many bytes went out.
    pub(super) fn send(
        &mut self,
        sock: &SockRef,
        data: &[u8],
        out: &mut Outcome,
    ) -> Result<usize, Failure> {
        let fd = self.resolve(sock)?;
        let deadline = self.deadline();
        let socket = self.socket_at(fd)?;
        let call = invocation!("send", fd, preview(data), data.len(), "MSG_NOSIGNAL");
        let waiting_for = format!("the send buffer of fd {fd} is full and the peer is not reading");
        let sent = self.blocking(socket.as_fd(), deadline, &call, &waiting_for, out, || {
            nix::sys::socket::send(socket.as_raw_fd(), data, MsgFlags::MSG_NOSIGNAL)
        })?;
        let sent = match sent {
            Ok(sent) => sent,
            Err(errno) => {
                out.call(call.failed(errno));
                // EPIPE means this side may not send: because the peer is gone, or because this
                // socket's own sending side was shut down.
                let shut_down = errno == Errno::EPIPE
                    && matches!(
                        crate::fdtable::inspect_fd(fd).and_then(|row| row.state),
                        Some(Tcp(FinWait1 | FinWait2 | Closing))
                    );
                let context = if shut_down {
                    Context::SendingShutDown(fd)
                } else {
                    self.on(fd)
                };
                return Err(Failure::os(errno, format!("nothing sent on fd {fd}"))
                    .hint_for(call.name(), context));
            }
        };
        out.call(call.returned(sent));
        if sent < data.len() {
            // A blocking send returns short only when a signal cut its wait for room, or on a
            // non-blocking socket whose buffer filled.
            let why = if interrupted() {
                format!("{} cut the wait for room", interruption())
            } else if Instant::now() >= deadline {
                format!(
                    "sockplay's timeout ({}) cut the wait for room",
                    seconds(self.settings.timeout)
                )
            } else {
                "the rest did not fit".to_string()
            };
            out.say(format!(
                "short send: {sent} of {} bytes went into the send buffer; {why}",
                data.len()
            ));
        }
        Ok(sent)
    }

    pub(super) fn recv(
        &mut self,
        sock: &SockRef,
        max: usize,
        hex: bool,
        out: &mut Outcome,
    ) -> Result<(), Failure> {
        let fd = self.resolve(sock)?;
        let socket = self.socket_at(fd)?;
        // A message socket cuts a message longer than MAX; MSG_TRUNC makes the kernel say so.
        let sock_type = socket.r#type().ok();
        let message = sock_type.is_some_and(|t| t != Type::STREAM);
        let (flags, shown_flags) = if message {
            (MsgFlags::MSG_TRUNC, "MSG_TRUNC")
        } else {
            (MsgFlags::empty(), "0")
        };
        let call = invocation!("recv", fd, max, shown_flags);
        let mut buffer = vec![0u8; max];
        let received = self.blocking(
            socket.as_fd(),
            self.deadline(),
            &call,
            &format!("no data arrived on fd {fd}"),
            out,
            || nix::sys::socket::recv(socket.as_raw_fd(), &mut buffer, flags),
        )?;
        match received {
            Ok(0) if sock_type == Some(Type::DGRAM) => {
                let note = if read_side_shut(socket.as_fd()) {
                    "nothing is queued and fd is shut down for reading: recv returns 0 at once"
                } else {
                    "an empty datagram (for datagrams, 0 bytes is not EOF)"
                };
                out.call(
                    call.returned(0)
                        .with_note(note.replace("fd is", &format!("fd {fd} is"))),
                );
                self.last.received = Some(Vec::new());
                Ok(())
            }
            Ok(0) if max > 0 => {
                out.call(call.returned(0));
                out.say(eof_sentence(fd));
                self.last.received = Some(Vec::new());
                Ok(())
            }
            Ok(length) => {
                let n = length.min(max);
                buffer.truncate(n);
                out.call(call.returned(length).with_note(show_received(&buffer)));
                dump_lines(&buffer, hex, out);
                if length > max {
                    out.say(super::datagram::cut_message(length, n));
                }
                self.last.received = Some(buffer);
                Ok(())
            }
            Err(errno) => {
                out.call(call.failed(errno));
                Err(Failure::os(errno, format!("nothing received on fd {fd}"))
                    .hint_for(call.name(), self.on(fd)))
            }
        }
    }

    pub(super) fn detach(&mut self, sock: &SockRef, out: &mut Outcome) -> Result<(), Failure> {
        let fd = self.resolve(sock)?;
        let Some(handle) = self.take_handle(fd) else {
            return Err(self.not_a_handle(fd));
        };
        // The fd stays open on purpose: nobody owns it now, exactly as after Python's detach().
        let detached = Detached::new(handle.object.into_fd());
        let raw = detached.fd();
        self.detached.insert(raw, detached);
        out.call(invocation!("detach", sock).returned(raw));
        out.say(format!(
            "the handle is gone; fd {raw} stays open with no owner (`close {raw}` closes it)"
        ));
        self.drop_files_of(fd, out);
        Ok(())
    }

    pub(super) fn close(&mut self, sock: &SockRef, out: &mut Outcome) -> Result<(), Failure> {
        let detached = match sock {
            SockRef::Fd(fd) => self.detached.remove(fd),
            _ => None,
        };
        let owned = match detached {
            Some(detached) => detached.reclaim(),
            None => {
                let fd = self.resolve(sock)?;
                let Some(handle) = self.take_handle(fd) else {
                    return Err(self.not_a_handle(fd));
                };
                handle.object.into_fd()
            }
        };
        let fd = owned.as_raw_fd();
        self.touched.note(fd);
        self.drop_files_of(fd, out);
        let bound_file = Session::bound_file(fd);
        self.connects.remove(&fd);
        let call = invocation!("close", fd);
        let linger = lingering(&owned);
        let sends = super::closing::what_close_sends(fd, &owned);
        let (closed, cut) = close_by(owned, self.deadline());
        match closed {
            Ok(()) => {
                out.call(call.returned(0));
                out.lines.extend(sends.map(|sends| sends.after_close(fd)));
                if let (Some(linger), true) = (linger, cut) {
                    out.say(format!(
                        "SO_LINGER holds close until the unsent data is delivered or {} pass; sockplay cut that wait at the timeout ({}): fd {fd} is closed, and the kernel goes on sending (or gives up on) the rest by itself",
                        seconds(linger),
                        seconds(self.settings.timeout)
                    ));
                }
                if let Some(file) = &bound_file {
                    self.tell_socket_file_stays(file, out);
                }
                Ok(())
            }
            Err(errno) => {
                out.call(call.failed(errno));
                Err(Failure::os(errno, format!("closing fd {fd} failed"))
                    .hint_for(call.name(), Context::Fd(fd)))
            }
        }
    }
}

/// What a read that returned 0 bytes on stream socket `fd` means, by the state it is in now: a TCP
/// socket that never got the peer's FIN reads 0 because it was shut down for reading itself,
/// and data the peer sends still arrives (Linux).
pub(super) fn eof_sentence(fd: i32) -> String {
    let row = crate::fdtable::inspect_fd(fd);
    let tcp = row
        .as_ref()
        .is_some_and(|row| row.family.is_some_and(crate::net::Family::is_inet));
    match row.and_then(|row| row.state) {
        Some(Tcp(CloseWait)) => format!(
            "EOF: the peer closed its side; fd {fd} sits in CLOSE_WAIT until you close it"
        ),
        Some(Tcp(Close)) => format!(
            "EOF: the connection of fd {fd} is gone (closed, refused or reset); nothing more will arrive"
        ),
        Some(Tcp(LastAck | Closing)) => {
            format!("EOF: the peer closed its side; nothing more will arrive on fd {fd}")
        }
        Some(Tcp(Established)) if tcp => format!(
            "0 bytes, but not the peer's EOF: fd {fd} is shut down for reading and nothing is queued; data the peer sends still arrives, and recv returns it"
        ),
        Some(Tcp(FinWait1 | FinWait2)) if tcp => format!(
            "0 bytes, but not the peer's EOF: fd {fd} is shut down for reading and writing; data the peer sends now is answered with a reset (RST)"
        ),
        _ => format!("EOF: the peer will send nothing more on fd {fd}"),
    }
}

/// The linger time of a socket whose close waits for its unsent data (SO_LINGER on, more than 0 s).
fn lingering(fd: &OwnedFd) -> Option<Duration> {
    socket2::SockRef::from(fd)
        .linger()
        .ok()
        .flatten()
        .filter(|linger| !linger.is_zero())
}

/// close(2), cut at `deadline` when the socket lingers: with SO_LINGER, close waits in the kernel
/// for the unsent data (O_NONBLOCK does not change that), and only a signal ends the wait early.
/// Returns the result of close and whether the deadline cut a wait.
pub(super) fn close_by(fd: OwnedFd, deadline: Instant) -> (nix::Result<()>, bool) {
    if lingering(&fd).is_none() {
        return (nix::unistd::close(fd), false);
    }
    cut_at_deadline(deadline, || nix::unistd::close(fd))
}

/// `sleep MS`: waits `duration`, cut to `timeout` (the session's: no command outlives it) and
/// short by Ctrl-C (EINTR). It makes no call in a process: the front end waits, so it also
/// waits while the current process is blocked in a call started with `&`.
pub fn sleep(duration: Duration, timeout: Duration, out: &mut Outcome) -> Result<(), Failure> {
    let duration = bounded_by(timeout, Some(duration), out);
    let deadline = Instant::now() + duration;
    while Instant::now() < deadline {
        if interrupted() {
            return Err(Failure::os(
                Errno::EINTR,
                format!("sleep interrupted by {}", interruption()),
            )
            .hint_for("sleep", Context::Plain));
        }
        std::thread::sleep((deadline - Instant::now()).min(Duration::from_millis(50)));
    }
    out.say(format!("slept {} ms", duration.as_millis()));
    Ok(())
}

/// How long a connect that returned waits for the listener's side, on this machine, to take in
/// the client's last ACK: the kernel does it a moment after the client's connect returns, later
/// on a busy machine, and the panel must not depend on when.
const HANDSHAKE_PATIENCE: std::time::Duration = std::time::Duration::from_millis(300);

/// Waits (at most [`HANDSHAKE_PATIENCE`]) until the kernel holds no half-open listener's side of
/// the TCP connection from `client` to `server`: then the connection waits in the accept queue
/// (and an accept blocked on it returns) when the step's tables are taken. Nothing to wait for
/// when the listener is elsewhere, or sock_diag cannot be asked.
fn handshake_taken_in(client: std::net::SocketAddr, server: std::net::SocketAddr) {
    let Ok(mut diag) = crate::sys::sock_diag::SockDiag::open() else {
        return;
    };
    let deadline = Instant::now() + HANDSHAKE_PATIENCE;
    while crate::fdtable::diag::half_open_on_this_machine(&mut diag, client, server)
        .unwrap_or(false)
        && Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// `requested` (None: as long as it may), cut to `limit`, the session's timeout; a cut is said in
/// `out`.
fn bounded_by(limit: Duration, requested: Option<Duration>, out: &mut Outcome) -> Duration {
    match requested {
        Some(wanted) if wanted > limit => {
            out.say(format!(
                "the wait of {} ms is cut to the timeout, {}: no command outlives it (`set timeout SECS` raises it)",
                wanted.as_millis(),
                seconds(limit)
            ));
            limit
        }
        Some(wanted) => wanted,
        None => limit,
    }
}
