//! [`Observer`]: what watches one process's fd table from step to step — its snapshots and what
//! changed since the last one ([`Observer::delta`], see [`super::tracker`]), the cache of what
//! cannot change about an fd while the same object sits on it, and its own sock_diag socket. All of it is a value owned by whoever observes, never a global, so a forked child that
//! makes its own observer shares nothing with its parent's.

use std::collections::BTreeSet;
use std::io;
use std::num::NonZeroUsize;
use std::os::fd::{AsFd as _, AsRawFd as _, RawFd};

use super::diag::SockDiag;
use super::epoll::InterestLists;
use super::inspect::{describe_all, Known};
use super::listing::{fd_table_size, open_fds_of, probe_open_fds};
use super::remembered::Remembered;
use super::tracker::Tracker;
use super::{kernel_view, FdRow, Snapshot};

/// Below this many fds, starting threads costs more than it saves.
const PARALLEL_THRESHOLD: usize = 1024;

/// More threads than this would only queue up on the kernel's locks and the CPUs of a small box.
const MAX_WORKERS: usize = 4;

/// From this many open fds on, probing the table's slots beats listing the /proc fd directory.
const PROBE_ABOVE: usize = 512;

/// The process an [`Observer`] looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observed {
    /// The process the observer runs in. The per-fd calls that describe a socket (fstat,
    /// getsockname, TCP_INFO, the queue ioctls) work only on the caller's own fds, so this is the
    /// one process an observer can watch: watching a child means running an observer inside it.
    ThisProcess,
}

impl Observed {
    /// The directory that lists its open fds.
    pub(super) fn fd_dir(self) -> &'static str {
        match self {
            Observed::ThisProcess => "/proc/self/fd",
        }
    }

    /// Its /proc status file, which gives the size of its fd table.
    pub(super) fn status_file(self) -> &'static str {
        match self {
            Observed::ThisProcess => "/proc/self/status",
        }
    }
}

/// Takes the snapshots of one process's fd table, remembering between them what lets the next one
/// ask the kernel less.
#[derive(Debug)]
pub struct Observer {
    observed: Observed,
    /// What the last snapshot learnt, by fd, for the next one; it holds exactly the fds open then.
    known: Known,
    /// How many fds the last snapshot found, to choose how the next one lists them.
    last_size: usize,
    /// How many threads a big table is split over, once asked (the answer reads cgroup files).
    workers: Option<usize>,
    /// Its own sock_diag socket on a high fd, once [`Observer::reserve_sock_diag`] opened it.
    sock_diag: Option<SockDiag>,
    /// The fds sockplay holds for its own work in the process, left out of every snapshot.
    pub(super) own: BTreeSet<RawFd>,
    /// The interest lists of the epoll fds, as last read.
    pub(super) interest_lists: InterestLists,
    /// The addresses of the process's TCP connections, so that what the kernel keeps of one
    /// after a close is shown under the fd it came from.
    pub(super) remembered: Remembered,
    /// The table as the last delta left it, and what finds what changed since.
    pub(super) tracker: Tracker,
}

impl Observer {
    /// An observer of `observed` that has learnt nothing yet and opens a sock_diag socket for each
    /// query until [`Observer::reserve_sock_diag`] gives it its own.
    pub fn new(observed: Observed) -> Observer {
        Observer {
            observed,
            known: Vec::new(),
            last_size: 0,
            workers: None,
            sock_diag: None,
            own: BTreeSet::new(),
            interest_lists: InterestLists::default(),
            remembered: Remembered::default(),
            tracker: Tracker::default(),
        }
    }

    /// Says which fds sockplay holds for its own work in the process (its control channel, a
    /// sock_diag socket): the snapshots leave them out, so they neither show nor make the kernel
    /// view ask sock_diag about them.
    pub fn set_own_fds(&mut self, own: &BTreeSet<RawFd>) {
        if self.own != *own {
            self.own.clone_from(own);
        }
        // Its own sock_diag socket and watch are sockplay's own whatever the caller knows.
        let mine = self.sock_diag.as_ref().map(|diag| diag.as_fd().as_raw_fd());
        self.own
            .extend(mine.into_iter().chain(self.tracker.watch_fd()));
    }

    /// The process it looks at.
    pub fn observed(&self) -> Observed {
        self.observed
    }

    /// Opens the observer's own sock_diag socket now, at the top of the fd space (where it takes
    /// no number a user's socket would get), and returns that fd so the panel can leave it out:
    /// queued connections and `ss` then keep working when a lesson fills the fd table. None when
    /// it cannot be had (then each query opens its own socket).
    pub fn reserve_sock_diag(&mut self) -> Option<RawFd> {
        if self.sock_diag.is_none() {
            self.sock_diag = SockDiag::open_at_top().ok();
        }
        self.sock_diag.as_ref().map(|diag| diag.as_fd().as_raw_fd())
    }

    /// Runs `query` on the observer's own sock_diag socket, or, when it has none, on one opened
    /// for this query alone (which fails with EMFILE when the fd table is full).
    pub fn with_sock_diag<T>(
        &mut self,
        query: impl FnOnce(&mut SockDiag) -> io::Result<T>,
    ) -> io::Result<T> {
        match self.sock_diag.as_mut() {
            Some(diag) => query(diag),
            None => query(&mut SockDiag::open()?),
        }
    }

    /// Describes every open fd of the observed process, sorted by fd, with what sock_diag adds
    /// (queues as `ss` shows them, the connections the kernel holds for the process without an
    /// fd, Unix listener queues and peers) when the table has sockets it concerns.
    ///
    /// Lists the process's /proc fd directory; if that cannot be opened (no /proc, or EMFILE
    /// because the table is full), falls back to probing like [`Observer::snapshot_by_probing`],
    /// which needs no fd of its own. The listing's directory fd is closed before the fds are
    /// described, so it is never part of the table.
    pub fn snapshot(&mut self) -> Snapshot {
        // For a big table, probing every slot of the kernel's fd table is cheaper than reading
        // the /proc fd directory, whose entries the kernel formats one by one; for a small one,
        // the directory is cheaper than the status file that gives the table's size.
        let big = self.last_size >= PROBE_ABOVE;
        let fds = match big.then(|| fd_table_size(self.observed)).flatten() {
            // Every slot goes to the (parallel) inspection: its fstat both finds the open fds and
            // describes them, one syscall per slot, and a closed slot is simply not described.
            Some(size) => (0..size).collect(),
            None => open_fds_of(self.observed),
        };
        let snapshot = self.describe(&fds, true);
        self.last_size = snapshot.rows.len();
        snapshot
    }

    /// Describes every open fd of the observed process by asking `fcntl(F_GETFD)` about each
    /// number from 0 up to the RLIMIT_NOFILE soft limit (at least 65536, unless the hard limit is
    /// lower).
    ///
    /// Slower than [`Observer::snapshot`] for a high limit, but it opens nothing, so it works with
    /// a full table.
    pub fn snapshot_by_probing(&mut self) -> Snapshot {
        let fds = probe_open_fds(self.observed);
        self.describe(&fds, false)
    }

    /// Describes `fds` (sorted) again, leaving out any that are not open and sockplay's own,
    /// and keeps what is fixed about each for the next time; the rest of the cache stays.
    pub(super) fn describe_some(&mut self, fds: &[RawFd]) -> Vec<FdRow> {
        let described = describe_all(fds, 1, &self.known);
        for &fd in fds {
            if let Some(entry) = usize::try_from(fd).ok().and_then(|i| self.known.get_mut(i)) {
                *entry = None;
            }
        }
        let mut rows = Vec::with_capacity(described.len());
        for (row, fixed) in described {
            if self.own.contains(&row.fd) {
                continue;
            }
            if let (Some(fixed), Ok(slot)) = (fixed, usize::try_from(row.fd)) {
                if self.known.len() <= slot {
                    self.known.resize_with(slot + 1, || None);
                }
                self.known[slot] = Some(fixed);
            }
            rows.push(row);
        }
        rows.sort_unstable_by_key(|row| row.fd);
        rows
    }

    /// Describes `fds`, sorted by fd, leaving out any that closed since they were listed, and adds
    /// the kernel's view of their accept queues and Unix peers.
    ///
    /// A big table is split across the CPUs: almost all the time goes into the kernel, one socket
    /// at a time, and different sockets do not contend there.
    fn describe(&mut self, fds: &[RawFd], may_open: bool) -> Snapshot {
        let workers = if fds.len() < PARALLEL_THRESHOLD {
            1
        } else {
            *self.workers.get_or_insert_with(|| {
                std::thread::available_parallelism()
                    .map_or(1, NonZeroUsize::get)
                    .min(MAX_WORKERS)
            })
        };
        let described = describe_all(fds, workers, &self.known);
        // The cache keeps exactly the fds open now, so it never outgrows the table; an unchanged
        // entry is the same Arc again, copied nowhere.
        let slots = described
            .iter()
            .map(|(row, _)| row.fd + 1)
            .max()
            .unwrap_or(0);
        self.known.clear();
        self.known
            .resize_with(usize::try_from(slots).unwrap_or(0), || None);
        let mut rows = Vec::with_capacity(described.len());
        for (row, fixed) in described {
            if self.own.contains(&row.fd) {
                continue;
            }
            if let (Some(fixed), Ok(slot)) = (fixed, usize::try_from(row.fd)) {
                if let Some(entry) = self.known.get_mut(slot) {
                    *entry = Some(fixed);
                }
            }
            rows.push(row);
        }
        rows.sort_unstable_by_key(|row| row.fd);
        self.interest_lists.add_to(&mut rows, may_open);
        let mut snapshot = Snapshot {
            rows,
            pending: Vec::new(),
        };
        let mut remembered = std::mem::take(&mut self.remembered);
        kernel_view::add_kernel_view(&mut snapshot, self, &mut remembered);
        self.remembered = remembered;
        snapshot
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::linux::net::SocketAddrExt as _;
    use std::os::unix::net::{self as unix, UnixListener, UnixStream};

    use crate::sys::descriptor::fstat;

    #[test]
    fn each_observer_has_its_own_sock_diag_socket_and_closes_it_when_dropped() {
        let _serial = super::super::SNAPSHOTS
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let mut first = Observer::new(Observed::ThisProcess);
        let mut second = Observer::new(Observed::ThisProcess);
        let first_fd = first.reserve_sock_diag().expect("a high fd for sock_diag");
        let second_fd = second.reserve_sock_diag().expect("a high fd for sock_diag");
        assert!(first_fd >= 64 && second_fd >= 64, "{first_fd} {second_fd}");
        assert_ne!(first_fd, second_fd);
        assert_eq!(first.reserve_sock_diag(), Some(first_fd), "reserved once");
        let first_inode = fstat(first_fd).expect("open").ino;

        drop(first);
        // The number may be reused by a test running alongside, but never by the same socket.
        assert_ne!(fstat(first_fd).map(|stat| stat.ino).ok(), Some(first_inode));

        // The other observer still asks the kernel through its own socket.
        let name = format!("sockplay-observer-{}", std::process::id());
        let addr = unix::SocketAddr::from_abstract_name(name.as_bytes()).expect("abstract address");
        let listener = UnixListener::bind_addr(&addr).expect("bind");
        let _client = UnixStream::connect_addr(&addr).expect("connect");
        let snapshot = second.snapshot();
        let row = snapshot
            .get(listener.as_raw_fd())
            .expect("the listener's row");
        assert_eq!(
            row.recv_q,
            Some(1),
            "sock_diag gave the accept queue's length"
        );
        assert_eq!(
            snapshot
                .pending
                .iter()
                .filter(|p| p.listener_fd == listener.as_raw_fd())
                .count(),
            1
        );
    }
}
