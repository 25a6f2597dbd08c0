//! The socket calls themselves. Each makes the real syscall and records it as a [`Call`](super::Call)
//! (shown strace-style: `bind(3, 127.0.0.1:8080) = 0`); calls that can block wait in poll(2), bounded
//! by the session timeout.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::poll::PollFlags;
use nix::sys::socket::MsgFlags;
use socket2::{Domain, Protocol, Socket, Type};

use super::address::show_addr;
use super::{invocation, seconds, Context, Failure, Object, Outcome, Returned, Session};
use crate::lang::{AddrSpec, Family, SockRef, SockType};
use crate::net::SockState::Tcp;
use crate::net::TcpState::{Close, CloseWait, Closing, Established, FinWait1, FinWait2, LastAck};
use crate::sys::descriptor::Detached;
use crate::sys::{
    call_when_ready, cut_at_deadline, interrupted, interruption, read_side_shut, wait_until,
    WaitError,
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

/// The failure of a wait that stood in for a blocking call: the poll line, then why.
pub(super) fn wait_failure(
    out: &mut Outcome,
    fd: i32,
    events: &str,
    timeout: Duration,
    error: WaitError,
    waiting_for: &str,
) -> Failure {
    let poll = invocation!(
        "poll",
        format!("[{{fd={fd}, events={events}}}]"),
        "1",
        timeout.as_millis()
    );
    match error {
        WaitError::TimedOut => {
            out.call(poll.ended(Returned::Timeout));
            Failure::os(
                Errno::ETIMEDOUT,
                format!("{waiting_for} (waited {})", seconds(timeout)),
            )
            .hint_for(poll.name(), Context::BlockingWait)
        }
        WaitError::Interrupted => {
            out.call(poll.ended(Returned::Interrupted));
            Failure::os(
                Errno::EINTR,
                format!("interrupted by {}: {waiting_for}", interruption()),
            )
            .hint_for(poll.name(), Context::BlockingWait)
        }
        WaitError::Os(errno) => {
            out.call(poll.failed(errno));
            Failure::os(errno, format!("poll failed while {waiting_for}"))
                .hint_for(poll.name(), Context::BlockingWait)
        }
    }
}

/// The poll line's name for the events a blocking call waits for.
fn poll_names(events: PollFlags) -> &'static str {
    if events.contains(PollFlags::POLLOUT) {
        "POLLOUT"
    } else {
        "POLLIN"
    }
}

impl Session {
    pub(super) fn deadline(&self) -> Instant {
        Instant::now() + self.settings.timeout
    }

    /// A wait the user sized (`sleep MS`, `timeout MS` of select, poll and epoll wait), cut to the
    /// session timeout, which no command outlives; saying so when it cuts. None is the timeout.
    pub(super) fn bounded_wait(&self, requested: Option<Duration>, out: &mut Outcome) -> Duration {
        let limit = self.settings.timeout;
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

    /// Waits as a blocking call would: until the socket reports `events`, the deadline passes, or
    /// Ctrl-C. A wait that ends early fails with ETIMEDOUT or EINTR, after the poll line, saying what
    /// it was `waiting_for`; the socket is untouched either way. A non-blocking socket (`nonblock
    /// on`) does not wait: the call that follows answers EAGAIN itself.
    pub(super) fn wait_ready(
        &self,
        socket: BorrowedFd<'_>,
        events: PollFlags,
        deadline: Instant,
        waiting_for: &str,
        out: &mut Outcome,
    ) -> Result<(), Failure> {
        if is_nonblocking(socket) {
            return Ok(());
        }
        wait_until(socket, events, deadline)
            .map(|_| ())
            .map_err(|error| self.waited_in_vain(socket, events, error, waiting_for, out))
    }

    /// Makes `call` the way a blocking call would end, bounded: waits for `events` as
    /// [`Session::wait_ready`] does, then makes the call without blocking; when another holder of
    /// the socket took what was ready in between (EAGAIN), waits again until the deadline. A
    /// non-blocking socket does not wait: `call` answers (EAGAIN) at once.
    pub(super) fn call_when_ready<T>(
        &self,
        socket: BorrowedFd<'_>,
        events: PollFlags,
        deadline: Instant,
        waiting_for: &str,
        out: &mut Outcome,
        mut call: impl FnMut() -> Result<T, Errno>,
    ) -> Result<Result<T, Errno>, Failure> {
        if is_nonblocking(socket) {
            return Ok(call());
        }
        call_when_ready(socket, events, deadline, call)
            .map_err(|error| self.waited_in_vain(socket, events, error, waiting_for, out))
    }

    /// The failure of a wait for `events` on `socket` that ended without them, after its line.
    fn waited_in_vain(
        &self,
        socket: BorrowedFd<'_>,
        events: PollFlags,
        error: WaitError,
        waiting_for: &str,
        out: &mut Outcome,
    ) -> Failure {
        wait_failure(
            out,
            socket.as_raw_fd(),
            poll_names(events),
            self.settings.timeout,
            error,
            waiting_for,
        )
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
            return Err(
                Failure::os(errno, format!("cannot bind fd {fd} to {shown}"))
                    .hint_for(call.name(), Context::address(&address, &shown)),
            );
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
                Err(Failure::os(errno, format!("fd {fd} cannot listen"))
                    .hint_for(call.name(), Context::Fd(fd)))
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
        // A socket that is not listening fails at once (EINVAL): nothing to wait for.
        let accepted = if socket.is_listener().unwrap_or(false) {
            self.call_when_ready(
                socket.as_fd(),
                PollFlags::POLLIN,
                self.deadline(),
                &format!("no connection is waiting in the backlog of fd {fd}"),
                out,
                || accept_now(socket),
            )?
        } else {
            accept_now(socket)
        };
        let call = invocation!("accept", fd);
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
                    .hint_for(call.name(), Context::Fd(fd)))
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
        let timeout = self.settings.timeout;
        let deadline = self.deadline();
        let socket = self.socket_at(fd)?;
        let domain = socket
            .domain()
            .map_err(|e| Failure::os(errno_of(&e), "SO_DOMAIN"))?;
        let address = self.resolve_addr(addr, domain)?;
        let shown = show_addr(&address);
        let call = invocation!("connect", fd, shown);
        let refused = |errno: Errno| {
            Failure::os(errno, format!("fd {fd} cannot connect to {shown}"))
                .hint_for(call.name(), Context::address(&address, &shown))
        };
        if is_nonblocking(socket) {
            return match socket.connect(&address) {
                Ok(()) => {
                    out.call(call.returned(0));
                    Ok(())
                }
                Err(e) => {
                    let errno = errno_of(&e);
                    out.call(call.failed(errno));
                    Err(refused(errno))
                }
            };
        }
        // A blocking connect, bounded: start it non-blocking, wait for writability, read SO_ERROR.
        socket
            .set_nonblocking(true)
            .map_err(|e| Failure::os(errno_of(&e), "cannot prepare the connect"))?;
        let result = connect_bounded(socket, &address, deadline);
        let restored = socket.set_nonblocking(false);
        match result {
            Ok(()) => {
                out.call(call.returned(0));
                if let Ok(local) = socket.local_addr() {
                    out.say(format!("connected from {}", show_addr(&local)));
                }
                restored.map_err(|e| Failure::os(errno_of(&e), "cannot restore blocking mode"))
            }
            Err(ConnectError::Os(errno)) => {
                out.call(call.failed(errno));
                Err(refused(errno))
            }
            Err(ConnectError::Wait(error)) => {
                out.call(call.failed(Errno::EINPROGRESS).with_detail("started"));
                Err(wait_failure(
                    out,
                    fd,
                    "POLLOUT",
                    timeout,
                    error,
                    &format!("no answer from {shown} yet; the handshake may still complete later"),
                ))
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
        let blocking = !is_nonblocking(socket);
        let stream = socket.r#type().map(|t| t == Type::STREAM).unwrap_or(false);
        let flags = MsgFlags::MSG_NOSIGNAL | MsgFlags::MSG_DONTWAIT;
        let mut sent = 0;
        loop {
            match nix::sys::socket::send(socket.as_raw_fd(), &data[sent..], flags) {
                Ok(n) => {
                    sent += n;
                    if sent == data.len() || !blocking || !stream {
                        break;
                    }
                }
                Err(Errno::EAGAIN) if blocking => {}
                Err(errno) if sent == 0 => {
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
                        Context::Fd(fd)
                    };
                    return Err(Failure::os(errno, format!("nothing sent on fd {fd}"))
                        .hint_for(call.name(), context));
                }
                Err(_) => break,
            }
            // The buffer is full: wait for room, as a blocking send would. Running out of time after
            // some bytes went is a short send, not a failure.
            let waiting_for =
                format!("the send buffer of fd {fd} is full and the peer is not reading");
            // The poll line belongs to the failure only: a short send is told by its own line.
            let mut waited = Outcome::default();
            match self.wait_ready(
                socket.as_fd(),
                PollFlags::POLLOUT,
                deadline,
                &waiting_for,
                &mut waited,
            ) {
                Ok(()) => {}
                Err(failure) if sent == 0 => {
                    out.lines.append(&mut waited.lines);
                    return Err(failure);
                }
                Err(_) => break,
            }
        }
        out.call(call.returned(sent));
        if sent < data.len() {
            out.say(format!(
                "short send: {sent} of {} bytes went into the send buffer; the rest did not fit",
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
            (MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_TRUNC, "MSG_TRUNC")
        } else {
            (MsgFlags::MSG_DONTWAIT, "0")
        };
        let call = invocation!("recv", fd, max, shown_flags);
        let mut buffer = vec![0u8; max];
        let received = self.call_when_ready(
            socket.as_fd(),
            PollFlags::POLLIN,
            self.deadline(),
            &format!("no data arrived on fd {fd}"),
            out,
            || match nix::sys::socket::recv(socket.as_raw_fd(), &mut buffer, flags) {
                // A datagram socket shut down for reading with nothing queued: MSG_DONTWAIT says
                // EAGAIN, but the blocking recv this stands for returns at once; ask it.
                Err(Errno::EAGAIN) if read_side_shut(socket.as_fd()) => nix::sys::socket::recv(
                    socket.as_raw_fd(),
                    &mut buffer,
                    flags - MsgFlags::MSG_DONTWAIT,
                ),
                result => result,
            },
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
                let datagram = socket.r#type().map(|t| t != Type::STREAM).unwrap_or(false);
                let context = if datagram {
                    Context::MessageSocket(fd)
                } else {
                    Context::Fd(fd)
                };
                Err(Failure::os(errno, format!("nothing received on fd {fd}"))
                    .hint_for(call.name(), context))
            }
        }
    }

    pub(super) fn detach(&mut self, sock: &SockRef, out: &mut Outcome) -> Result<(), Failure> {
        let fd = self.resolve(sock)?;
        let Some(handle) = self.handles.remove(&fd) else {
            return Err(self.not_a_handle(fd));
        };
        self.drop_files_of(fd, out);
        // The fd stays open on purpose: nobody owns it now, exactly as after Python's detach().
        let detached = Detached::new(handle.object.into_fd());
        let raw = detached.fd();
        self.detached.insert(raw, detached);
        out.call(invocation!("detach", sock).returned(raw));
        out.say(format!(
            "the handle is gone; fd {raw} stays open with no owner (`close {raw}` closes it)"
        ));
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
                let Some(handle) = self.handles.remove(&fd) else {
                    return Err(self.not_a_handle(fd));
                };
                handle.object.into_fd()
            }
        };
        let fd = owned.as_raw_fd();
        self.drop_files_of(fd, out);
        let call = invocation!("close", fd);
        let linger = lingering(&owned);
        let (closed, cut) = close_by(owned, self.deadline());
        match closed {
            Ok(()) => {
                out.call(call.returned(0));
                if let (Some(linger), true) = (linger, cut) {
                    out.say(format!(
                        "SO_LINGER holds close until the unsent data is delivered or {} pass; sockplay cut that wait at the timeout ({}): fd {fd} is closed, and the kernel goes on sending (or gives up on) the rest by itself",
                        seconds(linger),
                        seconds(self.settings.timeout)
                    ));
                }
                self.remove_orphaned_socket_files(out);
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

/// accept(2) that does not block: accept has no MSG_DONTWAIT, so a blocking listener is made
/// non-blocking for the one call. The new socket does not inherit O_NONBLOCK.
fn accept_now(socket: &Socket) -> Result<(Socket, socket2::SockAddr), Errno> {
    let blocking = !is_nonblocking(socket);
    if blocking {
        socket.set_nonblocking(true).map_err(|e| errno_of(&e))?;
    }
    let accepted = socket.accept().map_err(|e| errno_of(&e));
    if blocking {
        // Restoring a flag on an open fd does not fail; if it did, the next call would say so.
        let _ = socket.set_nonblocking(false);
    }
    accepted
}

/// Why a bounded connect did not complete.
enum ConnectError {
    Os(Errno),
    Wait(WaitError),
}

/// Connects a non-blocking socket, waiting for the handshake until `deadline`.
fn connect_bounded(
    socket: &Socket,
    address: &socket2::SockAddr,
    deadline: Instant,
) -> Result<(), ConnectError> {
    loop {
        match socket.connect(address) {
            Ok(()) => return Ok(()),
            Err(e) => match errno_of(&e) {
                // EALREADY: an earlier connect's handshake is still pending (it timed out here);
                // a blocking connect simply waits for it again.
                Errno::EINPROGRESS | Errno::EALREADY => break,
                // A unix listener with a full backlog: a blocking connect would wait for room.
                Errno::EAGAIN => {
                    if interrupted() {
                        return Err(ConnectError::Wait(WaitError::Interrupted));
                    }
                    if Instant::now() >= deadline {
                        return Err(ConnectError::Wait(WaitError::TimedOut));
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                errno => return Err(ConnectError::Os(errno)),
            },
        }
    }
    wait_until(socket.as_fd(), PollFlags::POLLOUT, deadline).map_err(ConnectError::Wait)?;
    match socket.take_error() {
        Ok(None) => Ok(()),
        Ok(Some(e)) => Err(ConnectError::Os(errno_of(&e))),
        Err(e) => Err(ConnectError::Os(errno_of(&e))),
    }
}

/// `sleep MS`: waits, cut short by Ctrl-C.
pub(super) fn sleep(duration: Duration, out: &mut Outcome) -> Result<(), Failure> {
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
