//! Datagrams: sendto(2) and recvfrom(2), one message each, with the sender's address shown.

use std::os::fd::AsFd;

use nix::sys::socket::MsgFlags;

use super::address::show_addr;
use super::calls::{dump_lines, errno_of, preview, show_received};
use super::{invocation, Failure, Outcome, Session};
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
        let flags = MsgFlags::MSG_NOSIGNAL.bits();
        // A unix datagram receiver with a full queue: a blocking sendto waits for room.
        let sent = self.blocking(
            socket.as_fd(),
            deadline,
            &call,
            &format!("the receiver at {shown} has no room for the datagram"),
            out,
            || {
                socket
                    .send_to_with_flags(data, &address, flags)
                    .map_err(|e| errno_of(&e))
            },
        )?;
        match sent {
            Ok(n) => {
                out.call(call.returned(n));
                let datagram = socket.r#type().is_ok_and(|t| t == socket2::Type::DGRAM);
                if let (true, Ok(local)) = (datagram, socket.local_addr()) {
                    out.say(format!(
                        "one datagram left {} for {shown}",
                        show_addr(&local)
                    ));
                } else if let Ok(peer) = socket.peer_addr() {
                    // Linux TCP takes sendto's address without looking at it.
                    let peer = show_addr(&peer);
                    if peer != shown {
                        out.say(format!(
                            "fd {fd} is a connected TCP socket: Linux ignores sendto's address ({shown}) there, and the bytes went to its peer, {peer}"
                        ));
                    }
                }
                Ok(())
            }
            Err(errno) => {
                out.call(call.failed(errno));
                Err(self.failed_at_address(
                    Failure::os(errno, format!("fd {fd} sent nothing to {shown}")),
                    call.name(),
                    (fd, socket),
                    &address,
                    &shown,
                ))
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
            (MsgFlags::MSG_TRUNC, "MSG_TRUNC")
        } else {
            (MsgFlags::empty(), "0")
        };
        let call = invocation!("recvfrom", fd, max, shown_flags);
        let mut buffer = vec![0u8; max];
        let received = self.blocking(
            socket.as_fd(),
            self.deadline(),
            &call,
            &format!("no datagram arrived on fd {fd}"),
            out,
            || crate::sys::socket::recv_from(socket, &mut buffer, flags).map_err(|e| errno_of(&e)),
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
                        .hint_for(call.name(), self.on(fd)),
                )
            }
        }
    }
}
