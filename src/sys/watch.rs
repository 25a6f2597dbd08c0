//! An epoll instance of sockplay's own that watches the user's sockets for any wake-up at all
//! (edge-triggered, every event), so that a step can ask which sockets the kernel touched since
//! the last one instead of asking every socket. It sits at the top of the fd space, close-on-exec.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use super::process::move_to_top;

/// Every event a socket can report: data in, room to write, the peer's FIN, errors and hang-ups,
/// urgent data; edge-triggered, so each wake-up is reported once.
const EVERY_EVENT: u32 = (libc::EPOLLIN
    | libc::EPOLLOUT
    | libc::EPOLLRDHUP
    | libc::EPOLLPRI
    | libc::EPOLLERR
    | libc::EPOLLHUP
    | libc::EPOLLET) as u32;

/// How many events one epoll_wait collects.
const BATCH: usize = 256;

/// The epoll instance; closed when dropped.
#[derive(Debug)]
pub struct Watch {
    epoll: OwnedFd,
}

impl Watch {
    /// Opens one at the top of the fd space.
    pub fn open_at_top() -> io::Result<Watch> {
        // SAFETY: plain syscall with a constant flag; the result is checked before use.
        let fd = syscall!(epoll_create1(libc::EPOLL_CLOEXEC))?;
        // SAFETY: epoll_create1 just returned this fd and nothing else owns it.
        let epoll = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Watch {
            epoll: move_to_top(epoll),
        })
    }

    /// Its fd number.
    pub fn fd(&self) -> RawFd {
        self.epoll.as_raw_fd()
    }

    /// Watches the socket at `fd`; its wake-ups are reported under that number. Watching it again
    /// (the same open file under the same number) is not an error.
    pub fn add(&self, fd: RawFd) -> io::Result<()> {
        let mut event = libc::epoll_event {
            events: EVERY_EVENT,
            u64: u64::try_from(fd).unwrap_or(u64::MAX),
        };
        // SAFETY: the event points at a live local; epoll_ctl only reads it.
        match syscall!(epoll_ctl(
            self.epoll.as_raw_fd(),
            libc::EPOLL_CTL_ADD,
            fd,
            &raw mut event
        )) {
            Ok(_) => Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Adds to `woken` the fds whose sockets woke since the last call, without waiting.
    pub fn woken(&self, woken: &mut Vec<RawFd>) -> io::Result<()> {
        let mut events = [libc::epoll_event { events: 0, u64: 0 }; BATCH];
        loop {
            // SAFETY: the buffer holds BATCH events and the kernel writes at most that many.
            let n = match syscall!(epoll_wait(
                self.epoll.as_raw_fd(),
                events.as_mut_ptr(),
                BATCH as libc::c_int,
                0
            )) {
                Ok(n) => usize::try_from(n).unwrap_or(0),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            for event in events.iter().take(n) {
                let data = event.u64;
                if let Ok(fd) = RawFd::try_from(data) {
                    woken.push(fd);
                }
            }
            if n < BATCH {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::net::UnixStream;

    #[test]
    fn a_wake_up_is_reported_once_under_the_fd_it_was_added_with() {
        let watch = Watch::open_at_top().expect("epoll");
        assert!(watch.fd() > 64, "at the top: {}", watch.fd());
        let (mut a, b) = UnixStream::pair().expect("socketpair");
        watch.add(b.as_raw_fd()).expect("add");
        watch.add(b.as_raw_fd()).expect("adding again is no error");
        let mut woken = Vec::new();
        watch.woken(&mut woken).expect("wait");
        // A socket is writable when added: that counts once.
        woken.clear();
        watch.woken(&mut woken).expect("wait");
        assert!(woken.is_empty(), "{woken:?}");
        a.write_all(b"x").expect("write");
        watch.woken(&mut woken).expect("wait");
        assert_eq!(woken, [b.as_raw_fd()]);
        woken.clear();
        watch.woken(&mut woken).expect("wait");
        assert!(woken.is_empty(), "edge-triggered, reported once: {woken:?}");
        drop(a);
        watch.woken(&mut woken).expect("wait");
        assert_eq!(woken, [b.as_raw_fd()], "the peer's close wakes it");
    }
}
