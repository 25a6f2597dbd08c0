//! Which fds are open (a /proc fd directory read with getdents64 into one buffer, or every number
//! below the fd limit probed, which opens nothing); keeping the fds of libraries sockplay uses (the
//! line editor's SIGWINCH pipe) off the low numbers that the user's sockets should get, and making
//! sure a signal handler that writes to one of them can never block.

use std::ffi::CStr;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd as _, AsRawFd, OwnedFd, RawFd};

use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::sys::resource::{getrlimit, Resource};
use nix::sys::stat::{fstat, SFlag};

use super::descriptor::is_open;
use super::fs::{dirent_names, getdents64};

/// Fds below this are left to the user's sockets.
const FIRST_INTERNAL_FD: i32 = 64;

/// How far probing looks at least (unless the hard limit is lower): fds opened before the soft
/// limit was lowered stay open above it, and a "Too many open files" lesson does just that.
const MIN_PROBE_LIMIT: u64 = 65536;

/// The fds this process has open now: its /proc fd directory listed, or, when that cannot be
/// opened (no /proc, or EMFILE because the table is full), every number probed. No fd of its own
/// is left open.
pub fn open_fds() -> Vec<RawFd> {
    list_fd_dir("/proc/self/fd", true).unwrap_or_else(|_| probe_open_fds())
}

/// The fd numbers a /proc fd directory lists. `own`: the directory is the calling process's, so the
/// handle the listing reads through (closed again before this returns) is left out.
pub fn list_fd_dir(path: &str, own: bool) -> io::Result<Vec<RawFd>> {
    let dir = File::open(path)?;
    let listing_fd = own.then(|| dir.as_raw_fd());
    let mut fds = Vec::new();
    // One buffer per listing: each read brings hundreds of names, none of them allocated.
    let mut buf = [0u8; 16 * 1024];
    loop {
        let filled = getdents64(dir.as_fd(), &mut buf)?;
        if filled.is_empty() {
            return Ok(fds);
        }
        // "." and ".." are the only names that are not numbers.
        fds.extend(
            dirent_names(filled)
                .filter_map(parse_fd)
                .filter(|&fd| Some(fd) != listing_fd),
        );
    }
}

/// Parses a /proc fd entry name as an fd number.
fn parse_fd(name: &CStr) -> Option<RawFd> {
    std::str::from_utf8(name.to_bytes()).ok()?.parse().ok()
}

/// The fds this process has open below the fd limit (the RLIMIT_NOFILE soft limit, and at least
/// 65536 unless the hard limit is lower), found by asking about each number, which opens nothing.
pub fn probe_open_fds() -> Vec<RawFd> {
    (0..probe_limit()).filter(|&fd| is_open(fd)).collect()
}

/// The first fd number probing does not ask about: the RLIMIT_NOFILE soft limit, and at least
/// 65536 unless the hard limit is lower.
fn probe_limit() -> RawFd {
    let (soft, hard) =
        getrlimit(Resource::RLIMIT_NOFILE).unwrap_or((MIN_PROBE_LIMIT, MIN_PROBE_LIMIT));
    let limit = soft.max(MIN_PROBE_LIMIT.min(hard));
    RawFd::try_from(limit).unwrap_or(RawFd::MAX)
}

/// Runs `make` while every free fd below 64 is taken by a placeholder, so whatever fds `make` opens
/// land at 64 or above; the placeholders are closed afterwards. Returns the fds `make` opened.
pub fn reserve_low_fds_while<T>(make: impl FnOnce() -> T) -> (T, Vec<i32>) {
    let before = open_fds();
    let mut placeholders: Vec<OwnedFd> = Vec::new();
    if let Ok(null) = std::fs::File::open("/dev/null") {
        let null = OwnedFd::from(null);
        loop {
            // F_DUPFD_CLOEXEC(0) returns the lowest free fd, which is exactly the slot to fill.
            match fcntl(&null, FcntlArg::F_DUPFD_CLOEXEC(0)) {
                // SAFETY: fcntl just returned this fd and nothing else owns it.
                Ok(fd) if fd < FIRST_INTERNAL_FD => placeholders
                    .push(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) }),
                Ok(fd) => {
                    // SAFETY: as above; one past the range is not needed.
                    drop(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) });
                    break;
                }
                Err(_) => break,
            }
        }
        placeholders.push(null);
    }
    let made = make();
    let reserved: Vec<i32> = placeholders.iter().map(|fd| fd.as_raw_fd()).collect();
    drop(placeholders);
    let opened = open_fds()
        .into_iter()
        .filter(|fd| !before.contains(fd) && !reserved.contains(fd))
        .collect();
    (made, opened)
}

/// Sets O_NONBLOCK on each of `fds` that is a socket. The line editor's SIGWINCH handler writes a
/// byte to a socketpair that is read only while a line is being edited; during a long command
/// a few hundred resizes fill it, and a blocking write in the handler would then hang sockplay for
/// good. Non-blocking, a write to the full pipe fails with EAGAIN: a resize is pending anyway.
pub fn make_sockets_nonblocking(fds: &[i32]) {
    for &fd in fds {
        // SAFETY: the fd is open for the duration of this loop (the caller just listed it) and is
        // only inspected and given a flag.
        let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
        let is_socket = fstat(fd).is_ok_and(|stat| {
            SFlag::from_bits_truncate(stat.st_mode & SFlag::S_IFMT.bits()) == SFlag::S_IFSOCK
        });
        if !is_socket {
            continue;
        }
        if let Ok(flags) = fcntl(fd, FcntlArg::F_GETFL) {
            let flags = OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK;
            let _ = fcntl(fd, FcntlArg::F_SETFL(flags));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_and_probing_find_the_same_fds_of_mine() {
        let (reader, writer) = std::io::pipe().expect("pipe");
        let mine = [reader.as_raw_fd(), writer.as_raw_fd()];
        let listed = list_fd_dir("/proc/self/fd", true).expect("/proc/self/fd");
        let probed = probe_open_fds();
        for fd in mine {
            assert!(listed.contains(&fd) && probed.contains(&fd), "fd {fd}");
        }
        let file = std::fs::File::open("/dev/null").expect("/dev/null");
        assert!(open_fds().contains(&file.as_raw_fd()));
    }
}
