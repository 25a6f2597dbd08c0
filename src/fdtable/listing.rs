//! Which fds a process has open, without describing them: its `/proc/<pid>/fd` directory read
//! with getdents64 into one buffer, or — when that cannot be opened (no /proc, or EMFILE because
//! the table is full) — every number below the fd limit probed, which opens nothing.

use std::ffi::CStr;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd as _, AsRawFd as _, RawFd};

use nix::sys::resource::{getrlimit, Resource};

use super::Observed;
use crate::sys::descriptor::is_open;
use crate::sys::fs::{dirent_names, getdents64};

/// How far probing looks at least (unless the hard limit is lower): fds opened before the soft
/// limit was lowered stay open above it, and a "Too many open files" lesson does just that.
const MIN_PROBE_LIMIT: u64 = 65536;

/// The numbers of the fds open in this process now, without describing them (no fd of its own
/// is left open).
pub fn open_fds() -> Vec<RawFd> {
    open_fds_of(Observed::ThisProcess)
}

/// The numbers of the fds `observed` has open now.
pub(super) fn open_fds_of(observed: Observed) -> Vec<RawFd> {
    list_open_fds(observed).unwrap_or_else(|_| probe_open_fds(observed))
}

/// Lists the fds in the process's /proc fd directory. Observing itself, the process leaves out the
/// directory handle the listing goes through, which is closed again before this returns.
fn list_open_fds(observed: Observed) -> io::Result<Vec<RawFd>> {
    let dir = File::open(observed.fd_dir())?;
    let listing_fd = match observed {
        Observed::ThisProcess => Some(dir.as_raw_fd()),
    };
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

/// Finds the open fds by probing each number below [`probe_limit`], which opens nothing.
pub(super) fn probe_open_fds(observed: Observed) -> Vec<RawFd> {
    match observed {
        Observed::ThisProcess => probe_below(probe_limit()),
    }
}

/// The open fds of this process below `limit`, by asking about each number.
fn probe_below(limit: RawFd) -> Vec<RawFd> {
    (0..limit).filter(|&fd| is_open(fd)).collect()
}

/// The size of the process's fd table (`FDSize` in its /proc status file): every open fd is below
/// it. None when the file cannot be read (a full table, no /proc).
pub(super) fn fd_table_size(observed: Observed) -> Option<RawFd> {
    let status = std::fs::read_to_string(observed.status_file()).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("FDSize:"))
        .and_then(|size| size.trim().parse().ok())
}

/// Parses a /proc fd entry name as an fd number.
fn parse_fd(name: &CStr) -> Option<RawFd> {
    std::str::from_utf8(name.to_bytes()).ok()?.parse().ok()
}

/// The first fd number probing does not ask about: the RLIMIT_NOFILE soft limit, and at least
/// 65536 unless the hard limit is lower.
fn probe_limit() -> RawFd {
    let (soft, hard) =
        getrlimit(Resource::RLIMIT_NOFILE).unwrap_or((MIN_PROBE_LIMIT, MIN_PROBE_LIMIT));
    let limit = soft.max(MIN_PROBE_LIMIT.min(hard));
    RawFd::try_from(limit).unwrap_or(RawFd::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn listing_and_probing_find_the_same_fds_of_mine() {
        let (reader, writer) = std::io::pipe().expect("pipe");
        let mine = [reader.as_raw_fd(), writer.as_raw_fd()];
        let listed = list_open_fds(Observed::ThisProcess).expect("/proc/self/fd");
        let probed = probe_open_fds(Observed::ThisProcess);
        for fd in mine {
            assert!(listed.contains(&fd) && probed.contains(&fd), "fd {fd}");
        }
        let size = fd_table_size(Observed::ThisProcess).expect("FDSize");
        assert!(mine.iter().all(|&fd| fd < size));
    }
}
