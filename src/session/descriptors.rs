//! fd-level calls: socketpair(2), dup(2), and the RLIMIT_NOFILE limit behind "Too many open files".

use std::os::fd::AsFd;

use nix::sys::resource::{getrlimit, setrlimit, Resource};
use socket2::Socket;

use super::calls::{domain_of, errno_of, type_of};
use super::{invocation, Context, Failure, Object, Outcome, Session};
use crate::lang::{Family, SockRef, SockType};

impl Session {
    pub(super) fn socketpair(
        &mut self,
        family: Family,
        sock_type: SockType,
        names: Option<&(String, String)>,
        out: &mut Outcome,
    ) -> Result<(), Failure> {
        self.check_name_free(names.map(|(a, _)| a.as_str()))?;
        self.check_name_free(names.map(|(_, b)| b.as_str()))?;
        let (domain, ty) = (domain_of(family), type_of(sock_type));
        let call = invocation!("socketpair", family.constant(), sock_type.constant(), "0");
        match Socket::pair(domain, ty, None) {
            Ok((a, b)) => {
                let a = self.adopt(Object::Socket(a), names.map(|(a, _)| a.as_str()));
                let b = self.adopt(Object::Socket(b), names.map(|(_, b)| b.as_str()));
                out.call(call.returned(0).with_note(format!("[{a}, {b}]")));
                out.say(format!(
                    "fd {a} and fd {b} are connected to each other: what one sends, the other receives"
                ));
                Ok(())
            }
            Err(e) => {
                let errno = errno_of(&e);
                out.call(call.failed(errno));
                Err(Failure::os(errno, "the kernel would not make the pair")
                    .hint_for(call.name(), Context::Plain))
            }
        }
    }

    pub(super) fn dup(
        &mut self,
        sock: &SockRef,
        name: Option<&str>,
        out: &mut Outcome,
    ) -> Result<(), Failure> {
        self.check_name_free(name)?;
        let fd = self.resolve(sock)?;
        let call = invocation!("dup", fd);
        // dup(2) itself, as the line says: the lowest free number, and, unlike the original's,
        // no FD_CLOEXEC on the copy (a process started with `spawn` gets it).
        let copy = match &self.handle(fd)?.object {
            Object::Socket(socket) => nix::unistd::dup(socket).map(|fd| Object::Socket(fd.into())),
            Object::Epoll(epoll) => {
                nix::unistd::dup(&epoll.0).map(|fd| Object::Epoll(nix::sys::epoll::Epoll(fd)))
            }
        };
        match copy {
            Ok(copy) => {
                let new_fd = self.adopt(copy, name);
                out.call(call.returned(new_fd));
                out.say(format!(
                    "fd {new_fd} and fd {fd} are one socket (same inode): it closes only when both are closed"
                ));
                out.say(format!(
                    "dup does not copy close-on-exec: fd {new_fd} is inheritable (a process started with `spawn` gets it; `inheritable {new_fd} off` stops that)"
                ));
                Ok(())
            }
            Err(errno) => {
                out.call(call.failed(errno));
                Err(Failure::os(errno, format!("no copy of fd {fd}"))
                    .hint_for(call.name(), Context::Fd(fd)))
            }
        }
    }

    /// `inheritable SOCK on|off`: clears or sets FD_CLOEXEC, which decides whether a program this
    /// process execs (`spawn`) gets the fd.
    pub(super) fn inheritable(
        &mut self,
        sock: &SockRef,
        on: bool,
        out: &mut Outcome,
    ) -> Result<(), Failure> {
        let fd = self.resolve(sock)?;
        let handle = self.handle(fd)?;
        let borrowed = match &handle.object {
            Object::Socket(socket) => socket.as_fd(),
            Object::Epoll(epoll) => epoll.0.as_fd(),
        };
        let flag = if on { "0" } else { "FD_CLOEXEC" };
        let call = invocation!("fcntl", fd, "F_SETFD", flag);
        match crate::sys::process::set_inheritable(borrowed, on) {
            Ok(()) => {
                out.call(call.returned(0));
                out.say(if on {
                    format!("fd {fd} is inheritable: a process started with `spawn` gets it, as fd {fd}")
                } else {
                    format!("fd {fd} is close-on-exec: a process started with `spawn` does not get it")
                });
                Ok(())
            }
            Err(errno) => {
                out.call(call.failed(errno));
                Err(Failure::os(errno, format!("fd {fd} keeps its flags")))
            }
        }
    }

    /// The open fds, but sockplay's own: what the panel counts.
    fn user_fds(&self) -> Vec<i32> {
        crate::fdtable::open_fds()
            .into_iter()
            .filter(|fd| !self.internal.contains(fd))
            .collect()
    }

    pub(super) fn ulimit(&mut self, limit: Option<u64>, out: &mut Outcome) -> Result<(), Failure> {
        let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE)
            .map_err(|errno| Failure::os(errno, "cannot read RLIMIT_NOFILE"))?;
        let Some(limit) = limit else {
            out.call(
                invocation!("getrlimit", "RLIMIT_NOFILE")
                    .returned(0)
                    .with_note(format!("{{cur={soft}, max={hard}}}")),
            );
            out.say(format!(
                "new fds must be below {soft}; {} are open now",
                self.user_fds().len()
            ));
            return Ok(());
        };
        let call = invocation!(
            "setrlimit",
            "RLIMIT_NOFILE",
            format!("{{cur={limit}, max={hard}}}")
        );
        match setrlimit(Resource::RLIMIT_NOFILE, limit, hard) {
            Ok(()) => {
                out.call(call.returned(0));
                let open = self.user_fds();
                let above = open.iter().filter(|&&fd| fd as u64 >= limit).count();
                let mut note = if limit == 0 {
                    format!("no new fd can be made at all now; {} are open", open.len())
                } else {
                    format!(
                        "only fds 0 to {} can be made now; {} are open",
                        limit - 1,
                        open.len()
                    )
                };
                if above > 0 {
                    note.push_str(&format!(
                        " ({above} above the limit stay open: the limit only stops new ones)"
                    ));
                }
                out.say(note);
                Ok(())
            }
            Err(errno) => {
                out.call(call.failed(errno));
                Err(Failure::os(errno, "the limit was not changed")
                    .hint_for(call.name(), Context::HardLimit(hard)))
            }
        }
    }
}
