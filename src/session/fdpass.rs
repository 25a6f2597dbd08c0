//! Passing fds over unix sockets (SCM_RIGHTS): `sendfd` puts a reference to an open socket in
//! flight with one byte of data, `recvfd` takes it out as a new fd of this process.

use std::io::IoSlice;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::time::Instant;

use nix::sys::epoll::Epoll;
use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
use nix::sys::stat::{fstat, SFlag};
use socket2::{Domain, Socket};

use super::calls::preview;
use super::{invocation, Context, Failure, Object, Outcome, Session};
use crate::fdtable::inspect_fd;
use crate::lang::SockRef;
use crate::sys::scm_rights::recv_with_fds;

/// The byte that carries the fds: SCM_RIGHTS must ride on at least one byte of data.
const CARRIER: [u8; 1] = [0];

/// The most bytes one `recvfd` takes: the data that came before the fds, on a stream socket, arrives
/// with them (the kernel stops a read right after the message that carries fds).
const RECV_DATA_MAX: usize = 4096;

/// What a socket that is not AF_UNIX does with SCM_RIGHTS, said after the call: the kernel sends or
/// receives the bytes and no fd, since only Unix sockets carry fds.
fn no_fds_here(fd: i32) -> String {
    let what = inspect_fd(fd).map_or_else(
        || "not a unix".to_string(),
        |row| format!("a {}", row.label()),
    );
    format!("fd {fd} is {what} socket, and only AF_UNIX sockets carry fds")
}

/// Whether an fd is a socket, by its file type.
fn is_socket(fd: &OwnedFd) -> bool {
    fstat(fd).is_ok_and(|stat| {
        SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT == SFlag::S_IFSOCK
    })
}

impl Session {
    pub(super) fn sendfd(
        &mut self,
        sock: &SockRef,
        fd: &SockRef,
        out: &mut Outcome,
    ) -> Result<(), Failure> {
        let sock_fd = self.resolve(sock)?;
        let passed = self.resolve(fd)?;
        let timeout = self.settings.timeout;
        let deadline = Instant::now() + timeout;
        let socket = self.socket_at(sock_fd)?;
        let unix = socket.domain().ok() == Some(Domain::UNIX);
        let what = match self.handle(passed)?.object {
            Object::Socket(_) => "socket",
            Object::Epoll(_) => "epoll instance",
        };
        let call = invocation!(
            "sendmsg",
            sock_fd,
            format!("{{data={}, SCM_RIGHTS=[{passed}]}}", preview(&CARRIER)),
            "MSG_NOSIGNAL"
        );
        let fds: [RawFd; 1] = [passed];
        let control = [ControlMessage::ScmRights(&fds)];
        let iov = [IoSlice::new(&CARRIER)];
        let sent = self.blocking(
            socket.as_fd(),
            deadline,
            &call,
            &format!("the send buffer of fd {sock_fd} is full and the peer is not reading"),
            out,
            || {
                sendmsg::<()>(
                    socket.as_raw_fd(),
                    &iov,
                    &control,
                    MsgFlags::MSG_NOSIGNAL,
                    None,
                )
            },
        )?;
        match sent {
            Ok(sent) if unix => {
                out.call(call.returned(sent));
                out.say(format!(
                    "the kernel now holds a reference to fd {passed}'s {what} in flight, until the peer's recvmsg takes it; fd {passed} stays open here too"
                ));
                Ok(())
            }
            Ok(sent) => {
                out.call(call.returned(sent));
                out.say(format!(
                    "{}: the kernel sent the byte and ignored SCM_RIGHTS, so fd {passed} went nowhere",
                    no_fds_here(sock_fd)
                ));
                Ok(())
            }
            Err(errno) => {
                out.call(call.failed(errno));
                Err(
                    Failure::os(errno, format!("fd {passed} was not sent over fd {sock_fd}"))
                        .hint_for(call.name(), Context::Fd(sock_fd)),
                )
            }
        }
    }

    pub(super) fn recvfd(
        &mut self,
        sock: &SockRef,
        name: Option<&str>,
        out: &mut Outcome,
    ) -> Result<(), Failure> {
        self.check_name_free(name)?;
        let fd = self.resolve(sock)?;
        let timeout = self.settings.timeout;
        let deadline = Instant::now() + timeout;
        let socket = self.socket_at(fd)?;
        let unix = socket.domain().ok() == Some(Domain::UNIX);
        let mut data = vec![0u8; RECV_DATA_MAX];
        let waiting = invocation!("recvmsg", fd, "{…}", "MSG_CMSG_CLOEXEC");
        let message = self.blocking(
            socket.as_fd(),
            deadline,
            &waiting,
            &format!("nothing arrived on fd {fd}"),
            out,
            || {
                recv_with_fds(socket.as_fd(), &mut data)
                    .map(|message| (message.bytes, message.fds, message.truncated))
            },
        )?;
        let (bytes, received, truncated) = match message {
            Ok(message) => message,
            Err(errno) => {
                out.call(waiting.failed(errno));
                return Err(Failure::os(errno, format!("nothing received on fd {fd}"))
                    .hint_for(waiting.name(), Context::Fd(fd)));
            }
        };
        let payload = data.get(..bytes).unwrap_or(&[]);
        let mut call = invocation!(
            "recvmsg",
            fd,
            format!("{{data={}}}", preview(payload)),
            "MSG_CMSG_CLOEXEC"
        )
        .returned(bytes);
        if !received.is_empty() {
            let numbers: Vec<String> = received
                .iter()
                .map(|fd| fd.as_raw_fd().to_string())
                .collect();
            call = call.with_note(format!("SCM_RIGHTS [{}]", numbers.join(", ")));
        }
        out.call(call);
        if truncated {
            out.say("the control data was cut short (MSG_CTRUNC): the kernel closed the fds that did not fit");
        }
        // The kernel answered with bytes and no fd: that is no error of recvmsg's, so none is made
        // up here; what did not come is said.
        if received.is_empty() {
            out.say(match (bytes, unix) {
                (_, false) => format!("{}: bytes came, and no fd can", no_fds_here(fd)),
                (0, true) => format!("EOF on fd {fd}: the peer closed, and no fd came"),
                (n, true) => format!(
                    "{} arrived on fd {fd} but no fd came with them: the sender used `send`, not `sendfd`",
                    crate::text::plural(n, "byte")
                ),
            });
            return Ok(());
        }
        self.adopt_received(received, name, out)
    }

    /// Takes the fds that arrived as handles: sockets and epoll instances; anything else is closed.
    /// The first one adopted gets the name.
    fn adopt_received(
        &mut self,
        received: Vec<OwnedFd>,
        mut name: Option<&str>,
        out: &mut Outcome,
    ) -> Result<(), Failure> {
        let mut adopted = 0;
        let mut refused = Vec::new();
        for owned in received {
            let raw = owned.as_raw_fd();
            let row = inspect_fd(raw);
            let (object, what) = if is_socket(&owned) {
                (Object::Socket(Socket::from(owned)), "socket")
            } else if row.as_ref().is_some_and(|row| row.label() == "epoll") {
                (Object::Epoll(Epoll(owned)), "epoll instance")
            } else {
                let kind = row.map_or_else(
                    || "something sockplay cannot inspect".to_string(),
                    |row| match &row.target {
                        Some(target) => format!("{} ({target})", row.label()),
                        None => row.label().into_owned(),
                    },
                );
                drop(owned);
                out.say(format!(
                    "fd {raw} arrived but it is {kind}: sockplay holds only sockets and epoll instances, so it closed fd {raw}"
                ));
                refused.push(raw);
                continue;
            };
            // Every epoll instance shares one anonymous inode, so only sockets can be matched.
            let inode = match object {
                Object::Socket(_) => inspect_fd(raw).map(|row| row.inode),
                Object::Epoll(_) => None,
            };
            let twin = inode.and_then(|inode| self.same_inode(raw, inode));
            let new_fd = self.adopt(object, name.take());
            adopted += 1;
            let inode_text = inode.map_or_else(String::new, |i| format!(" {i}"));
            out.say(match twin {
                Some(sent) => format!(
                    "fd {new_fd} is the same {what} as {}, the one sent (same inode{inode_text}); a new number for it",
                    self.fd_label(sent)
                ),
                None if inode.is_some() => format!(
                    "fd {new_fd} is the {what} the sender passed (inode{inode_text}): a new fd of this process, numbered here as any new fd is (the lowest free)"
                ),
                None => format!("fd {new_fd} is the {what} the sender passed: a new fd of this process, numbered here as any new fd is (the lowest free)"),
            });
        }
        if adopted == 0 {
            let numbers: Vec<String> = refused.iter().map(i32::to_string).collect();
            return Err(Failure::usage(format!(
                "no socket arrived on this recvfd (fd {} was closed)",
                numbers.join(", fd ")
            )));
        }
        Ok(())
    }

    /// Another open fd of this session (a handle or a detached fd) with this inode.
    fn same_inode(&self, fd: i32, inode: u64) -> Option<i32> {
        self.handles
            .keys()
            .chain(self.detached.keys())
            .copied()
            .filter(|other| *other != fd)
            .find(|other| inspect_fd(*other).is_some_and(|row| row.inode == inode))
    }
}
