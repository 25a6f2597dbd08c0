//! [`Tracker`]: the table of the process an [`Observer`](super::Observer) watches, kept from one
//! step to the next so that a step asks the kernel only about what may have changed:
//! - the fds the step's command used (the caller says which);
//! - the sockets the kernel woke since: an epoll instance of sockplay's own ([`Watch`]) holds
//!   every socket, edge-triggered, for every event — data or a connection arriving, the peer's
//!   FIN, a reset, a handshake finishing, a FIN acknowledged;
//! - what changes with no wake-up: bytes in flight (SEND-Q), an accept queue with connections
//!   in it (they close or reset unseen), a connection still in the handshake or closing down
//!   (timers), an epoll fd's interest list, a regular file's path, and every fd of a socket
//!   another process holds too (what that process does changes it here);
//! - every fd of the same socket as one looked at (`dup`);
//! - an fd opened where the kernel puts new ones: the lowest free numbers.
//!
//! What changed goes out as a [`Delta`]. Nothing is looked at when nothing can have changed.
//!
//! A small table is looked at whole every step (that costs less than the watch's fd, which would
//! show in the panel's line of sockplay's own fds); the watch opens once the table reaches
//! [`WATCH_FROM`] fds.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::os::fd::RawFd;

use super::changed_view::{add_changed_view, Before};
use super::remembered::{is_tcp, Ends};
use super::{is_epoll, FdRow, Kind, Observer, PendingConn, Snapshot};
use crate::net::{Family, SockState, TcpState};
use crate::sys::descriptor::is_open;
use crate::sys::watch::Watch;

/// From this many open fds on, the table is watched rather than looked at whole every step.
pub const WATCH_FROM: usize = 32;

/// The environment variable that sets another threshold than [`WATCH_FROM`] (a number of fds):
/// `scripts/truth.sh` sets 0 for a second pass, so the watched path is judged in every situation.
pub const WATCH_FROM_ENV: &str = "SOCKPLAY_WATCH_FROM";

/// What changed in a process's table since the last [`Delta`] its observer gave.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Delta {
    /// `rows` are the whole table: the first delta, or every one when no watch could be had.
    pub whole: bool,
    /// The rows that are new or changed, in fd order.
    pub rows: Vec<FdRow>,
    /// The fds that closed.
    pub closed: Vec<i32>,
    /// The connections without an fd, when they changed (with `whole`, always).
    pub pending: Option<Vec<PendingConn>>,
}

impl Delta {
    /// The whole table as a delta.
    pub fn whole(snapshot: Snapshot) -> Delta {
        Delta {
            whole: true,
            rows: snapshot.rows,
            closed: Vec::new(),
            pending: Some(snapshot.pending),
        }
    }

    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        !self.whole && self.rows.is_empty() && self.closed.is_empty() && self.pending.is_none()
    }

    /// Applies it to `table` (rows sorted by fd), telling `before` what each fd it changes held
    /// first (None: it was not open) before changing it.
    pub fn apply_to(self, table: &mut Snapshot, mut before: impl FnMut(i32, Option<&FdRow>)) {
        if self.whole {
            let mut old = std::mem::take(&mut table.rows).into_iter().peekable();
            for row in &self.rows {
                while let Some(gone) = old.next_if(|o| o.fd < row.fd) {
                    before(gone.fd, Some(&gone));
                }
                match old.next_if(|o| o.fd == row.fd) {
                    Some(same) if same == *row => {}
                    Some(changed) => before(changed.fd, Some(&changed)),
                    None => before(row.fd, None),
                }
            }
            for gone in old {
                before(gone.fd, Some(&gone));
            }
            table.rows = self.rows;
        } else {
            for fd in self.closed {
                if let Ok(at) = table.rows.binary_search_by_key(&fd, |row| row.fd) {
                    before(fd, Some(&table.rows[at]));
                    table.rows.remove(at);
                }
            }
            for row in self.rows {
                match table.rows.binary_search_by_key(&row.fd, |r| r.fd) {
                    Ok(at) => {
                        before(row.fd, Some(&table.rows[at]));
                        table.rows[at] = row;
                    }
                    Err(at) => {
                        before(row.fd, None);
                        table.rows.insert(at, row);
                    }
                }
            }
        }
        if let Some(pending) = self.pending {
            table.pending = pending;
        }
    }
}

/// The fds under each key: almost always one, which takes no allocation of its own.
#[derive(Debug)]
pub(super) struct FdIndex<K>(HashMap<K, Fds>);

#[derive(Debug)]
enum Fds {
    One(i32),
    Many(BTreeSet<i32>),
}

impl<K> Default for FdIndex<K> {
    fn default() -> FdIndex<K> {
        FdIndex(HashMap::new())
    }
}

impl<K: std::hash::Hash + Eq> FdIndex<K> {
    fn insert(&mut self, key: K, fd: i32) {
        match self.0.get_mut(&key) {
            None => {
                self.0.insert(key, Fds::One(fd));
            }
            Some(Fds::One(one)) if *one == fd => {}
            Some(fds @ Fds::One(_)) => {
                if let Fds::One(one) = *fds {
                    *fds = Fds::Many(BTreeSet::from([one, fd]));
                }
            }
            Some(Fds::Many(many)) => {
                many.insert(fd);
            }
        }
    }

    fn remove(&mut self, key: K, fd: i32) {
        let empty = match self.0.get_mut(&key) {
            Some(Fds::One(one)) => *one == fd,
            Some(Fds::Many(many)) => {
                many.remove(&fd);
                many.is_empty()
            }
            None => false,
        };
        if empty {
            self.0.remove(&key);
        }
    }

    /// The fds under `key`, in order.
    pub(super) fn get(&self, key: &K) -> Vec<i32> {
        match self.0.get(key) {
            Some(Fds::One(fd)) => vec![*fd],
            Some(Fds::Many(many)) => many.iter().copied().collect(),
            None => Vec::new(),
        }
    }

    fn clear(&mut self) {
        self.0.clear();
    }
}

/// The table as last told, the watch, and the indexes that find what a change touches.
#[derive(Debug)]
pub(super) struct Tracker {
    /// A whole table was taken since the observer started.
    started: bool,
    /// How big the table must be before the watch opens.
    watch_from: usize,
    /// The watch could not be had (the fd table was full): every table is taken whole.
    unwatched: bool,
    rows: BTreeMap<i32, FdRow>,
    pending: Vec<PendingConn>,
    watch: Option<Watch>,
    /// The open sockets the watch holds, by fd, with the inode it was added for.
    watched: HashMap<i32, u64>,
    /// The fds looked at every step: their rows can change with no wake-up.
    volatile: BTreeSet<i32>,
    /// The fds of sockets another process holds too.
    shared: BTreeSet<i32>,
    /// Every socket of the first whole table is another process's too (a forked child's).
    share_all_at_start: bool,
    /// Every fd of a socket, by inode.
    by_inode: FdIndex<u64>,
    /// TCP sockets with a peer, by the peer's port.
    by_peer_port: FdIndex<u16>,
    /// TCP listeners, by port.
    listeners_by_port: FdIndex<u16>,
    /// Numbers below the highest open fd that are free: where new fds go first.
    holes: BTreeSet<i32>,
    /// The connections a close left that the kernel keeps.
    left: HashSet<Ends>,
    /// How many rows are Unix listeners or connected Unix sockets.
    unix_peered: usize,
}

impl Default for Tracker {
    fn default() -> Tracker {
        Tracker {
            started: false,
            watch_from: std::env::var(WATCH_FROM_ENV)
                .ok()
                .and_then(|fds| fds.parse().ok())
                .unwrap_or(WATCH_FROM),
            unwatched: false,
            rows: BTreeMap::new(),
            pending: Vec::new(),
            watch: None,
            watched: HashMap::new(),
            volatile: BTreeSet::new(),
            shared: BTreeSet::new(),
            share_all_at_start: false,
            by_inode: FdIndex::default(),
            by_peer_port: FdIndex::default(),
            listeners_by_port: FdIndex::default(),
            holes: BTreeSet::new(),
            left: HashSet::new(),
            unix_peered: 0,
        }
    }
}

impl Tracker {
    /// Opens the watch at the top of the fd space, once; false when it cannot be had.
    fn open_watch(&mut self) -> bool {
        if self.watch.is_none() && !self.unwatched {
            match Watch::open_at_top() {
                Ok(watch) => self.watch = Some(watch),
                Err(_) => self.unwatched = true,
            }
        }
        self.watch.is_some()
    }

    /// The watch's fd, once it is open.
    pub(super) fn watch_fd(&self) -> Option<RawFd> {
        self.watch.as_ref().map(Watch::fd)
    }

    /// Watches from `fds` open fds on (tests watch from the first).
    pub(super) fn watch_from(&mut self, fds: usize) {
        self.watch_from = fds;
    }

    /// Notes that other processes hold these fds' sockets too.
    pub(super) fn share(&mut self, fds: impl IntoIterator<Item = i32>) {
        self.shared.extend(fds);
    }

    /// Notes that other processes hold every socket of the table too (after fork).
    pub(super) fn share_all(&mut self) {
        if !self.started {
            self.share_all_at_start = true;
        }
        let sockets: Vec<i32> = self
            .rows
            .values()
            .filter(|row| row.kind == Kind::Socket)
            .map(|row| row.fd)
            .collect();
        self.shared.extend(sockets);
    }

    /// Whether the next delta must be whole.
    pub(super) fn needs_whole(&self) -> bool {
        !self.started
    }

    /// Starts again from a whole table.
    pub(super) fn restart(&mut self, snapshot: &Snapshot) {
        self.started = true;
        self.rows.clear();
        self.by_inode.clear();
        self.by_peer_port.clear();
        self.listeners_by_port.clear();
        self.volatile.clear();
        self.holes.clear();
        self.left.clear();
        self.unix_peered = 0;
        self.shared.retain(|fd| snapshot.get(*fd).is_some());
        let mut next = 0;
        for row in &snapshot.rows {
            self.holes.extend(next..row.fd);
            next = row.fd + 1;
            self.insert(row.clone());
        }
        if std::mem::take(&mut self.share_all_at_start) {
            self.share_all();
        }
        self.pending = snapshot.pending.clone();
        // What the old table left and the new one shows is asked about again from here on.
        for pending in &self.pending {
            if let (false, Some(local), Some(remote)) =
                (pending.origin.is_queued(), &pending.local, &pending.remote)
            {
                self.left.insert((local.clone(), remote.clone()));
            }
        }
    }

    /// The fds to look at this step, besides `touched`.
    fn fds_to_look_at(
        &mut self,
        touched: &[RawFd],
        own: &BTreeSet<RawFd>,
        may_watch: bool,
    ) -> BTreeSet<i32> {
        let mut look: BTreeSet<i32> = touched.iter().copied().collect();
        // A small table is looked at whole; a big one opens the watch (which takes every socket
        // as its row is looked at, now) and from then on says what woke.
        let watched = self.watch.is_some();
        if !watched && may_watch && self.rows.len() >= self.watch_from {
            self.open_watch();
        }
        match &self.watch {
            Some(watch) if watched => {
                let mut woken = Vec::new();
                // A watch that fails tells nothing: everything is looked at once.
                if watch.woken(&mut woken).is_err() {
                    look.extend(self.rows.keys());
                }
                look.extend(woken);
            }
            _ => look.extend(self.rows.keys()),
        }
        look.extend(&self.volatile);
        look.extend(&self.shared);
        // New fds take the lowest free numbers: the holes first, then past the highest.
        let highest = self.rows.keys().next_back().copied().unwrap_or(-1);
        let free = self.holes.iter().copied().chain((highest + 1)..);
        let watch = self.watch_fd();
        for fd in free
            .filter(|fd| !own.contains(fd) && Some(*fd) != watch)
            .take(1024)
        {
            if !is_open(fd) {
                break;
            }
            look.insert(fd);
        }
        // A change through one fd is a change of every fd of the socket.
        let twins: Vec<i32> = look
            .iter()
            .filter_map(|fd| self.rows.get(fd))
            .flat_map(|row| self.by_inode.get(&row.inode))
            .collect();
        look.extend(twins);
        let watch = self.watch_fd();
        look.retain(|fd| *fd >= 0 && !own.contains(fd) && Some(*fd) != watch);
        look
    }

    /// Adds `row` to the table and its indexes, and the watch when it is a socket not watched yet.
    fn insert(&mut self, row: FdRow) {
        let fd = row.fd;
        self.holes.remove(&fd);
        if row.kind == Kind::Socket {
            self.by_inode.insert(row.inode, fd);
            if self.watched.get(&fd) != Some(&row.inode) {
                if let Some(watch) = &self.watch {
                    if watch.add(fd).is_ok() {
                        self.watched.insert(fd, row.inode);
                    }
                }
            }
        }
        if is_tcp(&row) {
            if let Some(peer) = row.remote.as_ref().and_then(|r| r.inet_addr()) {
                self.by_peer_port.insert(peer.port(), fd);
            }
            if row.state == Some(SockState::Tcp(TcpState::Listen)) {
                if let Some(local) = row.local.as_ref().and_then(|l| l.inet_addr()) {
                    self.listeners_by_port.insert(local.port(), fd);
                }
            }
        }
        if changes_unseen(&row) {
            self.volatile.insert(fd);
        } else {
            self.volatile.remove(&fd);
        }
        if is_unix_listening_or_connected(&row) {
            self.unix_peered += 1;
        }
        self.rows.insert(fd, row);
    }

    /// Takes `fd`'s row out of the table and its indexes.
    fn remove(&mut self, fd: i32) -> Option<FdRow> {
        let row = self.rows.remove(&fd)?;
        if is_unix_listening_or_connected(&row) {
            self.unix_peered -= 1;
        }
        self.by_inode.remove(row.inode, fd);
        if let Some(peer) = row.remote.as_ref().and_then(|r| r.inet_addr()) {
            self.by_peer_port.remove(peer.port(), fd);
        }
        if let Some(local) = row.local.as_ref().and_then(|l| l.inet_addr()) {
            self.listeners_by_port.remove(local.port(), fd);
        }
        self.volatile.remove(&fd);
        Some(row)
    }

    /// Notes that `fd` is closed.
    fn close(&mut self, fd: i32) {
        self.remove(fd);
        self.watched.remove(&fd);
        self.shared.remove(&fd);
        let highest = self.rows.keys().next_back().copied().unwrap_or(-1);
        if fd < highest {
            self.holes.insert(fd);
        } else {
            // The holes above the new highest fd are no holes any more.
            let above: Vec<i32> = self.holes.range(highest + 1..).copied().collect();
            for hole in above {
                self.holes.remove(&hole);
            }
        }
    }
}

/// A Unix listener or connected Unix socket: what makes a table's view ask for the Unix sockets.
fn is_unix_listening_or_connected(row: &FdRow) -> bool {
    row.kind == Kind::Socket
        && row.family == Some(Family::Unix)
        && matches!(row.state, Some(SockState::Listen | SockState::Connected))
}

/// Whether a row can change with no wake-up of its socket: bytes in flight (acknowledged with no
/// wake-up), an accept queue with connections in it (they close or reset unseen), a TCP socket in
/// the handshake or closing down (timers), an epoll fd (its interest list follows the fds it
/// watches), a regular file (renamed under it).
fn changes_unseen(row: &FdRow) -> bool {
    use TcpState::*;
    let listening = row.state.is_some_and(SockState::is_listening);
    // A listener's SEND-Q is its backlog, not bytes.
    let in_flight = !listening && row.send_q.is_some_and(|q| q > 0);
    let queue = listening && row.recv_q.is_some_and(|q| q > 0);
    let moving = matches!(
        row.state,
        Some(SockState::Tcp(
            SynSent | SynRecv | NewSynRecv | FinWait1 | Closing | LastAck
        ))
    );
    let file = row.kind == Kind::File && !row.target.as_deref().is_some_and(is_device);
    in_flight || queue || moving || is_epoll(row) || file
}

/// Whether a link target is a device (`/dev/null`, a terminal): those do not move.
fn is_device(target: &str) -> bool {
    target.starts_with("/dev/")
}

impl Observer {
    /// What changed in the table since the last delta: the fds in `touched` (those the step's
    /// command used) and whatever else may have changed are looked at again; nothing else is
    /// asked. The first delta, and every one when the watch cannot be had, is the whole table.
    /// `may_open`: as for [`Observer::snapshot`] (listing /proc) versus probing. `may_watch`:
    /// whether the watch may open now, when the table is big enough (only where the fd it takes
    /// is then made known as sockplay's own).
    pub fn delta(&mut self, touched: &[RawFd], may_open: bool, may_watch: bool) -> Delta {
        if self.tracker.needs_whole() {
            let snapshot = if may_open {
                self.snapshot()
            } else {
                self.snapshot_by_probing()
            };
            self.tracker.restart(&snapshot);
            return Delta::whole(snapshot);
        }
        let look = self.tracker.fds_to_look_at(touched, &self.own, may_watch);
        // The watch may have opened just now: it is sockplay's own.
        if let Some(fd) = self.tracker.watch_fd() {
            self.own.insert(fd);
        }
        if look.is_empty() {
            return Delta::default();
        }
        let fds: Vec<RawFd> = look.iter().copied().collect();
        let mut fresh = self.describe_some(&fds);
        // An epoll fd's entries say whether each watched fd is still open: read against the
        // table as it is after this step.
        if fresh.iter().any(is_epoll) {
            let now: HashMap<i32, u64> = fresh.iter().map(|row| (row.fd, row.inode)).collect();
            let table = &self.tracker.rows;
            let open = |fd: i32, inode: u64| {
                if look.contains(&fd) {
                    now.get(&fd) == Some(&inode)
                } else {
                    table.get(&fd).is_some_and(|row| row.inode == inode)
                }
            };
            self.interest_lists
                .add_to_some(&mut fresh, &look, may_open, open);
        }
        let unix_asked =
            self.tracker.unix_peered > 0 || fresh.iter().any(is_unix_listening_or_connected);
        let mut remembered = std::mem::take(&mut self.remembered);
        let tracker = std::mem::take(&mut self.tracker);
        let after = {
            let before = Before {
                rows: &tracker.rows,
                looked: &look,
                by_peer_port: &tracker.by_peer_port,
                whole: tracker.watch.is_none(),
                listeners_by_port: &tracker.listeners_by_port,
                pending: &tracker.pending,
                left: &tracker.left,
                by_inode: &tracker.by_inode,
            };
            add_changed_view(&mut fresh, &before, unix_asked, self, &mut remembered)
        };
        self.tracker = tracker;
        self.remembered = remembered;
        let tracker = &mut self.tracker;
        tracker.left = after.left;
        let mut delta = Delta::default();
        let mut changed: Vec<i32> = Vec::new();
        let mut fresh = fresh.into_iter().peekable();
        for &fd in &look {
            match fresh.next_if(|row| row.fd == fd) {
                Some(row) => {
                    let old = tracker.remove(fd);
                    if old.as_ref() != Some(&row) {
                        changed.push(fd);
                    }
                    if old.as_ref().is_some_and(|old| old.inode != row.inode) {
                        tracker.watched.remove(&fd);
                        tracker.shared.remove(&fd);
                    }
                    tracker.insert(row);
                }
                None => {
                    if tracker.rows.contains_key(&fd) {
                        delta.closed.push(fd);
                    }
                    tracker.close(fd);
                }
            }
        }
        let tracker = &mut self.tracker;
        delta.rows = changed
            .iter()
            .filter_map(|fd| tracker.rows.get(fd))
            .cloned()
            .collect();
        if after.pending != tracker.pending {
            tracker.pending = after.pending.clone();
            delta.pending = Some(after.pending);
        }
        delta
    }

    /// Notes that other processes hold the sockets of `fds` too (an fd passed with SCM_RIGHTS,
    /// inherited by a spawned process): their rows are looked at every step.
    pub fn note_shared(&mut self, fds: impl IntoIterator<Item = i32>) {
        self.tracker.share(fds);
    }

    /// Notes that another process holds every socket of the table too (after fork).
    pub fn note_all_shared(&mut self) {
        self.tracker.share_all();
    }

    /// The lowest fd number the table as the last delta left it has free: where the kernel puts
    /// the next fd the process opens (sockplay's own fds sit at the top of the fd space).
    pub fn lowest_free_fd(&self) -> RawFd {
        let highest = self.tracker.rows.keys().next_back().copied().unwrap_or(-1);
        self.tracker.holes.first().copied().unwrap_or(highest + 1)
    }

    /// The fd of the observer's watch, once the table grew big enough to open it: sockplay's own,
    /// never a row.
    pub fn watch_fd(&self) -> Option<RawFd> {
        self.tracker.watch_fd()
    }

    /// Watches the table from `fds` open fds on, rather than from [`WATCH_FROM`].
    #[doc(hidden)]
    pub fn watch_from(&mut self, fds: usize) {
        self.tracker.watch_from(fds);
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Observed, SNAPSHOTS};
    use super::*;
    use std::io::{Read as _, Write as _};
    use std::net::{Shutdown, TcpListener, TcpStream, UdpSocket};
    use std::os::fd::AsRawFd;
    use std::os::linux::net::SocketAddrExt as _;
    use std::os::unix::net::{self as unix, UnixListener, UnixStream};
    use std::time::Duration;

    /// Two observers of this process that see every step: one keeps its table from deltas, the
    /// other takes it whole each time. Only this test's fds are compared (other tests run in
    /// the same process).
    struct Both {
        incremental: Observer,
        table: Snapshot,
        whole: Observer,
        mine: BTreeSet<i32>,
        ports: BTreeSet<u16>,
    }

    impl Both {
        fn new() -> Both {
            let mut incremental = Observer::new(Observed::ThisProcess);
            incremental.reserve_sock_diag();
            // Watched from the first fd: the delta's every path is taken with a small table.
            incremental.watch_from(0);
            let mut whole = Observer::new(Observed::ThisProcess);
            whole.reserve_sock_diag();
            Both {
                incremental,
                table: Snapshot::default(),
                whole,
                mine: BTreeSet::new(),
                ports: BTreeSet::new(),
            }
        }

        /// What this test holds of a table: its fds' rows, and the connections without an fd on
        /// its ports (their timers as of the moment asked left out).
        fn mine(&self, snapshot: &Snapshot) -> (Vec<FdRow>, Vec<PendingConn>) {
            let rows = snapshot
                .rows
                .iter()
                .filter(|row| self.mine.contains(&row.fd))
                .cloned()
                .collect();
            let port = |e: &Option<crate::net::Endpoint>| {
                e.as_ref().and_then(|e| e.inet_addr()).map(|a| a.port())
            };
            let pending = snapshot
                .pending
                .iter()
                .filter(|p| {
                    self.ports.iter().any(|q| port(&p.local) == Some(*q))
                        || p.local.is_none() && self.mine.contains(&p.listener_fd)
                        || p.family == Family::Unix && self.mine.contains(&p.listener_fd)
                })
                .map(|p| PendingConn {
                    time_left_ms: None,
                    ..p.clone()
                })
                .collect();
            (rows, pending)
        }

        /// A step that used `touched`: the table the deltas keep must be the whole one.
        fn step(&mut self, what: &str, touched: &[i32]) {
            for fd in touched {
                if crate::sys::descriptor::is_open(*fd) {
                    self.mine.insert(*fd);
                } else {
                    self.mine.remove(fd);
                }
            }
            let mut touched = touched.to_vec();
            // Loopback is quick but not instant (a delayed ACK, a handshake in softirq): a
            // difference must last through settling to count.
            for attempt in 0..40 {
                let delta = self.incremental.delta(&touched, true, true);
                delta.apply_to(&mut self.table, |_, _| {});
                touched.clear();
                let whole = self.whole.snapshot();
                let (kept, taken) = (self.mine(&self.table), self.mine(&whole));
                if kept == taken {
                    return;
                }
                assert!(
                    attempt < 39,
                    "after {what}, the table kept from deltas\n{kept:#?}\nis not the whole one\n{taken:#?}"
                );
                std::thread::sleep(Duration::from_millis(25));
            }
        }

        fn port_of(&mut self, addr: std::net::SocketAddr) {
            self.ports.insert(addr.port());
        }
    }

    #[test]
    fn only_a_delta_that_may_open_the_watch_opens_it() {
        let _serial = SNAPSHOTS.lock().unwrap_or_else(|e| e.into_inner());
        let mut observer = Observer::new(Observed::ThisProcess);
        observer.watch_from(0);
        // The first delta is the whole table; the watch would open at the next.
        let _ = observer.delta(&[], true, false);
        let _ = observer.delta(&[], true, false);
        assert_eq!(
            observer.watch_fd(),
            None,
            "a snapshot of the control thread opens none"
        );
        let _ = observer.delta(&[], true, true);
        let watch = observer.watch_fd().expect("the executor's answer opens it");
        assert!(observer.own.contains(&watch), "and it is sockplay's own");
    }

    #[test]
    fn a_table_kept_from_deltas_is_the_whole_table_after_every_step() {
        let _serial = SNAPSHOTS.lock().unwrap_or_else(|e| e.into_inner());
        let mut both = Both::new();
        both.step("the start", &[]);

        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        both.port_of(addr);
        both.step("listen", &[listener.as_raw_fd()]);

        let mut client = TcpStream::connect(addr).expect("connect");
        both.port_of(client.local_addr().expect("addr"));
        both.step("connect", &[client.as_raw_fd()]);

        let second = TcpStream::connect(addr).expect("connect");
        both.port_of(second.local_addr().expect("addr"));
        both.step("a second connect, queued", &[second.as_raw_fd()]);

        let (mut server, _) = listener.accept().expect("accept");
        both.step("accept", &[listener.as_raw_fd(), server.as_raw_fd()]);

        client.write_all(b"hello").expect("send");
        both.step("send", &[client.as_raw_fd()]);

        let mut buf = [0; 16];
        assert_eq!(server.read(&mut buf).expect("recv"), 5);
        both.step("recv", &[server.as_raw_fd()]);

        let twin = server.try_clone().expect("dup");
        both.step("dup", &[twin.as_raw_fd()]);

        let (client_fd, twin_fd) = (client.as_raw_fd(), twin.as_raw_fd());
        drop(client);
        both.step("the client closes", &[client_fd]);

        drop(twin);
        both.step("one of two fds closes", &[twin_fd]);

        server.shutdown(Shutdown::Write).expect("shutdown");
        both.step("shutdown wr", &[server.as_raw_fd()]);

        let server_fd = server.as_raw_fd();
        drop(server);
        both.step("the server closes", &[server_fd]);

        let (queued_fd, listener_fd) = (second.as_raw_fd(), listener.as_raw_fd());
        drop(second);
        both.step("a queued client closes", &[queued_fd]);
        drop(listener);
        both.step("the listener closes", &[listener_fd]);

        // A refused connect leaves getsockname naming a port the socket no longer holds.
        let refused = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
            .expect("socket");
        let any: std::net::SocketAddr = "127.0.0.1:0".parse().expect("address");
        refused.bind(&any.into()).expect("bind");
        both.step("bind", &[refused.as_raw_fd()]);
        assert!(refused.connect(&addr.into()).is_err(), "nobody listens");
        both.step("a refused connect", &[refused.as_raw_fd()]);

        let receiver = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let sender = UdpSocket::bind("127.0.0.1:0").expect("bind");
        both.port_of(receiver.local_addr().expect("addr"));
        both.step("udp", &[receiver.as_raw_fd(), sender.as_raw_fd()]);
        sender
            .send_to(b"datagram", receiver.local_addr().expect("addr"))
            .expect("send");
        both.step("a datagram", &[sender.as_raw_fd()]);
        assert_eq!(receiver.recv(&mut buf).expect("recv"), 8);
        both.step("the datagram read", &[receiver.as_raw_fd()]);

        let name = format!("sockplay-tracker-{}", std::process::id());
        let at = unix::SocketAddr::from_abstract_name(name.as_bytes()).expect("name");
        let unix_listener = UnixListener::bind_addr(&at).expect("bind");
        both.step("a unix listener", &[unix_listener.as_raw_fd()]);
        let unix_client = UnixStream::connect_addr(&at).expect("connect");
        both.step("a unix client", &[unix_client.as_raw_fd()]);
        let (unix_server, _) = unix_listener.accept().expect("accept");
        both.step(
            "a unix accept",
            &[unix_listener.as_raw_fd(), unix_server.as_raw_fd()],
        );
        let (a, b) = UnixStream::pair().expect("socketpair");
        both.step("a socketpair", &[a.as_raw_fd(), b.as_raw_fd()]);
        let b_fd = b.as_raw_fd();
        drop(b);
        both.step("one end of the pair closes", &[b_fd]);
    }
}
