//! Which fds a process has open, without describing them: its `/proc/<pid>/fd` directory read
//! with getdents64 into one buffer, or — when that cannot be opened (no /proc, or EMFILE because
//! the table is full) — every number below the fd limit probed, which opens nothing.

use std::collections::HashSet;
use std::io;
use std::ops::ControlFlow;
use std::os::fd::RawFd;

use super::Observed;
use crate::sys::fds::{list_fd_dir, probe_open_fds as probe_own_fds};

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
    match observed {
        Observed::ThisProcess => list_fd_dir(observed.fd_dir(), true),
    }
}

/// Finds the open fds by probing each number below the fd limit, which opens nothing.
pub(super) fn probe_open_fds(observed: Observed) -> Vec<RawFd> {
    match observed {
        Observed::ThisProcess => probe_own_fds(),
    }
}

/// Of the sockets `inodes`, those an fd of some process holds, as far as /proc shows (a process
/// whose fds this one may not read holds nothing here). None when /proc cannot be listed.
pub(super) fn held_by_any_process(inodes: &HashSet<u64>) -> Option<HashSet<u64>> {
    let mut held = HashSet::new();
    socket_fds(
        |_| true,
        |socket| {
            if inodes.contains(&socket.inode) {
                held.insert(socket.inode);
            }
            ControlFlow::Continue(())
        },
    )?;
    Some(held)
}

/// One fd of a process, open on a socket.
#[derive(Debug, Clone, Copy)]
pub struct SocketFd {
    pub pid: i32,
    pub fd: RawFd,
    pub inode: u64,
}

/// Walks the socket fds of every process whose pid `wanted` accepts and whose fd directory this
/// process may read (/proc/PID/fd, each link `socket:[INODE]`), handing each to `each` until it
/// breaks. None when /proc cannot be listed.
pub fn socket_fds(
    wanted: impl Fn(i32) -> bool,
    mut each: impl FnMut(SocketFd) -> ControlFlow<()>,
) -> Option<()> {
    for process in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = process
            .file_name()
            .to_str()
            .and_then(|name| name.parse::<i32>().ok())
        else {
            continue;
        };
        if !wanted(pid) {
            continue;
        }
        let Ok(fds) = std::fs::read_dir(process.path().join("fd")) else {
            continue;
        };
        for entry in fds.flatten() {
            let Some(fd) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
                continue;
            };
            let Ok(link) = std::fs::read_link(entry.path()) else {
                continue;
            };
            let inode = link
                .to_str()
                .and_then(|l| l.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok());
            if let Some(inode) = inode {
                if each(SocketFd { pid, fd, inode }).is_break() {
                    return Some(());
                }
            }
        }
    }
    Some(())
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
