//! fd-level calls: socketpair(2), dup(2), and the RLIMIT_NOFILE limit behind "Too many open files".

use std::os::fd::AsFd;

use nix::errno::Errno;
use nix::sys::resource::{getrlimit, setrlimit, Resource};
use socket2::Socket;

use super::calls::{domain_of, errno_of, type_of};
use super::outcome::failed_call;
use super::{Failure, Object, Outcome, Session};
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
        let call = format!(
            "socketpair({}, {}, 0)",
            family.constant(),
            sock_type.constant()
        );
        match Socket::pair(domain, ty, None) {
            Ok((a, b)) => {
                let a = self.adopt(Object::Socket(a), names.map(|(a, _)| a.as_str()));
                let b = self.adopt(Object::Socket(b), names.map(|(_, b)| b.as_str()));
                out.say(format!("{call} = 0  [{a}, {b}]"));
                out.say(format!(
                    "fd {a} and fd {b} are connected to each other: what one sends, the other receives"
                ));
                Ok(())
            }
            Err(e) => {
                let errno = errno_of(&e);
                out.say(format!("{call} = {}", failed_call(errno)));
                let failure = Failure::os(errno, "the kernel would not make the pair");
                Err(match errno {
                    Errno::EOPNOTSUPP | Errno::EAFNOSUPPORT => failure.with_hint(
                        "on Linux only unix sockets come in pairs: `socketpair unix stream`",
                    ),
                    _ => failure,
                })
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
        let call = format!("dup({fd})");
        // try_clone is fcntl(F_DUPFD_CLOEXEC, 0): the lowest free number, as dup(2) gives.
        let copy = match &self.handle(fd)?.object {
            Object::Socket(socket) => socket.try_clone().map(Object::Socket),
            Object::Epoll(epoll) => epoll
                .0
                .try_clone()
                .map(|fd| Object::Epoll(nix::sys::epoll::Epoll(fd))),
        };
        match copy {
            Ok(copy) => {
                let new_fd = self.adopt(copy, name);
                out.say(format!("{call} = {new_fd}"));
                out.say(format!(
                    "fd {new_fd} and fd {fd} are one socket (same inode): it closes only when both are closed"
                ));
                Ok(())
            }
            Err(e) => {
                let errno = errno_of(&e);
                out.say(format!("{call} = {}", failed_call(errno)));
                Err(Failure::os(errno, format!("no copy of fd {fd}")))
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
        let call = format!("fcntl({fd}, F_SETFD, {flag})");
        match crate::sys::process::set_inheritable(borrowed, on) {
            Ok(()) => {
                out.say(format!("{call} = 0"));
                out.say(if on {
                    format!("fd {fd} is inheritable: a process started with `spawn` gets it, as fd {fd}")
                } else {
                    format!("fd {fd} is close-on-exec: a process started with `spawn` does not get it")
                });
                Ok(())
            }
            Err(errno) => {
                out.say(format!("{call} = {}", failed_call(errno)));
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
            out.say(format!(
                "getrlimit(RLIMIT_NOFILE) = 0  {{cur={soft}, max={hard}}}"
            ));
            out.say(format!(
                "new fds must be below {soft}; {} are open now",
                self.user_fds().len()
            ));
            return Ok(());
        };
        let call = format!("setrlimit(RLIMIT_NOFILE, {{cur={limit}, max={hard}}})");
        match setrlimit(Resource::RLIMIT_NOFILE, limit, hard) {
            Ok(()) => {
                out.say(format!("{call} = 0"));
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
                out.say(format!("{call} = {}", failed_call(errno)));
                let failure = Failure::os(errno, "the limit was not changed");
                Err(match errno {
                    Errno::EINVAL => failure.with_hint(format!(
                        "the soft limit cannot exceed the hard limit ({hard})"
                    )),
                    _ => failure,
                })
            }
        }
    }
}
