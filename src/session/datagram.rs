//! Datagrams: sendto(2) and recvfrom(2), one message each, with the sender's address shown.

use std::os::fd::AsFd;

use nix::errno::Errno;
use nix::poll::PollFlags;
use nix::sys::socket::MsgFlags;

use super::address::show_addr;
use super::calls::{dump_lines, errno_of, is_nonblocking, preview, show_received};
use super::{invocation, Context, Failure, Outcome, Session};
use crate::lang::{AddrSpec, SockRef};
use crate::sys::read_side_shut;

/// What a message socket lost when MAX was smaller than the message.
pub(super) fn cut_message(length: usize, kept: usize) -> String {
    format!(
        "the message had {length} bytes: {kept} fit in MAX, the other {} are lost",
        length - kept
    )
}

impl Session {
    pub(super) fn sendto(
        &mut self,
        sock: &SockRef,
        addr: &AddrSpec,
        data: &[u8],
        out: &mut Outcome,
    ) -> Result<(), Failure> {
        let fd = self.resolve(sock)?;
        let deadline = self.deadline();
        let socket = self.socket_at(fd)?;
        let domain = socket
            .domain()
            .map_err(|e| Failure::os(errno_of(&e), "SO_DOMAIN"))?;
        let address = self.resolve_addr(addr, domain)?;
        let shown = show_addr(&address);
        let call = invocation!(
            "sendto",
            fd,
            preview(data),
            data.len(),
            "MSG_NOSIGNAL",
            shown
        );
        let flags = (MsgFlags::MSG_NOSIGNAL | MsgFlags::MSG_DONTWAIT).bits();
        loop {
            match socket.send_to_with_flags(data, &address, flags) {
                Ok(n) => {
                    out.call(call.returned(n));
                    let datagram = socket.r#type().is_ok_and(|t| t == socket2::Type::DGRAM);
                    if let (true, Ok(local)) = (datagram, socket.local_addr()) {
                        out.say(format!(
                            "one datagram left {} for {shown}",
                            show_addr(&local)
                        ));
                    }
                    return Ok(());
                }
                Err(e) if errno_of(&e) == Errno::EAGAIN && !is_nonblocking(socket) => {
                    // A unix datagram receiver with a full queue: a blocking sendto waits for room.
                    self.wait_ready(
                        socket.as_fd(),
                        PollFlags::POLLOUT,
                        deadline,
                        &format!("the receiver at {shown} has no room for the datagram"),
                        out,
                    )?;
                }
                Err(e) => {
                    let errno = errno_of(&e);
                    out.call(call.failed(errno));
                    return Err(
                        Failure::os(errno, format!("fd {fd} sent nothing to {shown}"))
                            .hint_for(call.name(), Context::address(&address, &shown)),
                    );
                }
            }
        }
    }

    pub(super) fn recvfrom(
        &mut self,
        sock: &SockRef,
        max: usize,
        hex: bool,
        out: &mut Outcome,
    ) -> Result<(), Failure> {
        let fd = self.resolve(sock)?;
        let socket = self.socket_at(fd)?;
        // On message sockets MSG_TRUNC makes the kernel report a message's full length even when
        // it was cut; on a stream it would throw the bytes away instead, so it is not asked there.
        let message = socket.r#type().is_ok_and(|t| t != socket2::Type::STREAM);
        let (flags, shown_flags) = if message {
            (MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_TRUNC, "MSG_TRUNC")
        } else {
            (MsgFlags::MSG_DONTWAIT, "0")
        };
        let call = invocation!("recvfrom", fd, max, shown_flags);
        let mut buffer = vec![0u8; max];
        let received = self.call_when_ready(
            socket.as_fd(),
            PollFlags::POLLIN,
            self.deadline(),
            &format!("no datagram arrived on fd {fd}"),
            out,
            || match crate::sys::socket::recv_from(socket, &mut buffer, flags) {
                // Shut down for reading with nothing queued: MSG_DONTWAIT says EAGAIN, but the
                // blocking recvfrom this stands for returns 0 at once; ask it.
                Err(e) if errno_of(&e) == Errno::EAGAIN && read_side_shut(socket.as_fd()) => {
                    crate::sys::socket::recv_from(
                        socket,
                        &mut buffer,
                        flags - MsgFlags::MSG_DONTWAIT,
                    )
                    .map_err(|e| errno_of(&e))
                }
                result => result.map_err(|e| errno_of(&e)),
            },
        )?;
        match received {
            Ok((length, sender)) => {
                let kept = length.min(max);
                buffer.truncate(kept);
                let received = show_received(&buffer);
                let note = if sender.is_unnamed() || sender.family() == 0 {
                    received
                } else {
                    format!("from {}  {received}", show_addr(&sender))
                };
                out.call(call.returned(length).with_note(note));
                if length == 0 && read_side_shut(socket.as_fd()) {
                    out.say(format!(
                        "nothing is queued and fd {fd} is shut down for reading: recvfrom returns 0 at once"
                    ));
                }
                dump_lines(&buffer, hex, out);
                if length > max {
                    out.say(cut_message(length, kept));
                }
                self.last.received = Some(buffer);
                Ok(())
            }
            Err(errno) => {
                out.call(call.failed(errno));
                Err(
                    Failure::os(errno, format!("no datagram received on fd {fd}"))
                        .hint_for(call.name(), Context::MessageSocket(fd)),
                )
            }
        }
    }
}
