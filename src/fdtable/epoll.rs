//! What an epoll fd watches: its interest list, read from the kernel's `/proc/self/fdinfo/N` (one
//! `tfd:` line per watched file), so the panel and `--json` show the list an `epoll_wait` reports
//! from, including entries the user may have forgotten (a watched fd closed while a `dup` keeps
//! its socket open stays on the list).

use std::collections::HashMap;
use std::fmt;

use super::FdRow;

/// EPOLLERR and EPOLLHUP: the kernel adds them to every entry, whatever was asked.
const ALWAYS: u32 = 0x008 | 0x010;

/// The event bits an entry can ask for, by the words `epoll add` takes (and the kernel's others).
const EVENT_WORDS: [(u32, &str); 10] = [
    (0x001, "in"),
    (0x002, "pri"),
    (0x004, "out"),
    (0x2000, "rdhup"),
    (0x008, "err"),
    (0x010, "hup"),
    (1 << 28, "exclusive"),
    (1 << 29, "wakeup"),
    (1 << 30, "oneshot"),
    (1 << 31, "et"),
];

/// One entry of an epoll instance's interest list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Watch {
    /// The fd number the entry was added with (in the process that added it).
    pub fd: i32,
    /// The events asked for, as the kernel keeps them (EPOLLERR and EPOLLHUP always included).
    pub events: u32,
    /// The inode of the watched file.
    pub inode: u64,
    /// Whether fd `fd` of this process still holds that file: after `close` of a watched fd whose
    /// socket another fd keeps open, the entry stays, under a number that no longer holds it.
    pub open: bool,
}

impl Watch {
    /// The events asked for as `epoll add` words (`in`, `out`, `rdhup`, …), leaving out `err`
    /// and `hup`, which every entry has, unless nothing else was asked.
    pub fn event_words(&self) -> Vec<&'static str> {
        let asked = self.events & !ALWAYS;
        let shown = if asked == 0 { self.events } else { asked };
        EVENT_WORDS
            .iter()
            .filter(|(bit, _)| shown & bit != 0)
            .map(|(_, word)| *word)
            .collect()
    }
}

impl fmt::Display for Watch {
    /// `3(in)`, `4(in,out)`; `5(in, closed)` when fd 5 no longer holds the watched file.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({}", self.fd, self.event_words().join(","))?;
        if !self.open {
            f.write_str(", closed")?;
        }
        f.write_str(")")
    }
}

/// `watches 3(in) 4(in,out)`: an epoll fd's interest list as the panel shows it.
pub fn watches_text(watches: &[Watch]) -> String {
    let entries: Vec<String> = watches.iter().map(ToString::to_string).collect();
    if entries.is_empty() {
        "watches nothing".to_string()
    } else {
        format!("watches {}", entries.join(" "))
    }
}

/// Whether a row is an epoll instance.
pub fn is_epoll(row: &FdRow) -> bool {
    row.target.as_deref() == Some("anon_inode:[eventpoll]")
}

/// The interest list of each epoll fd as last read, by fd (every epoll instance has the same
/// anonymous inode): what a snapshot shows when it may not read them again.
#[derive(Debug, Default)]
pub(super) struct InterestLists {
    read: HashMap<i32, Vec<Watch>>,
}

impl InterestLists {
    /// Gives every epoll row of `rows` (one process's table, sorted by fd) its interest list.
    ///
    /// Reading one opens its fdinfo file, which takes the lowest free fd for a moment; so only
    /// when `may_open` (no call of the process can be making an fd meanwhile) and the table has
    /// room. Otherwise, or when the read fails, the list last read stands.
    pub(super) fn add_to(&mut self, rows: &mut [FdRow], may_open: bool) {
        let epolls: Vec<usize> = (0..rows.len()).filter(|&i| is_epoll(&rows[i])).collect();
        self.read
            .retain(|fd, _| epolls.iter().any(|&i| rows[i].fd == *fd));
        for i in epolls {
            let Some(mut watches) = self.list_of(rows[i].fd, may_open) else {
                continue;
            };
            for watch in &mut watches {
                watch.open = rows
                    .binary_search_by_key(&watch.fd, |row| row.fd)
                    .is_ok_and(|at| rows[at].inode == watch.inode);
            }
            rows[i].watches = Some(watches);
        }
    }
}

impl InterestLists {
    /// The interest list of epoll fd `fd`: read again from /proc when `may_open` (and kept), else
    /// as last read; None when it was never read.
    fn list_of(&mut self, fd: i32, may_open: bool) -> Option<Vec<Watch>> {
        let fresh = may_open
            .then(|| std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}")).ok())
            .flatten()
            .map(|info| interest_list(&info));
        if let Some(mut watches) = fresh {
            // The kernel lists them by the address of the watched file: by fd they stay put.
            watches.sort_by_key(|watch| (watch.fd, watch.inode));
            self.read.insert(fd, watches);
        }
        self.read.get(&fd).cloned()
    }

    /// Gives the epoll rows among `rows` (the fds `looked` at again, sorted by fd) their interest
    /// lists, as [`InterestLists::add_to`] does for a whole table, with `open` saying whether a
    /// watched fd holds the same file in the table as it is now; the lists last read of epoll fds
    /// not looked at stay.
    pub(super) fn add_to_some(
        &mut self,
        rows: &mut [FdRow],
        looked: &std::collections::BTreeSet<i32>,
        may_open: bool,
        open: impl Fn(i32, u64) -> bool,
    ) {
        self.read.retain(|fd, _| {
            !looked.contains(fd) || rows.iter().any(|row| row.fd == *fd && is_epoll(row))
        });
        for row in rows.iter_mut().filter(|row| is_epoll(row)) {
            let Some(mut watches) = self.list_of(row.fd, may_open) else {
                continue;
            };
            for watch in &mut watches {
                watch.open = open(watch.fd, watch.inode);
            }
            row.watches = Some(watches);
        }
    }
}

/// The entries of an epoll fdinfo file, in the kernel's order (by the watched file's address,
/// then fd); each `open` until checked against the table.
///
/// A line reads `tfd:        5 events:       19 data:                5  pos:0 ino:4bc3 sdev:8`:
/// the fd in decimal, the events and the inode in hex.
fn interest_list(info: &str) -> Vec<Watch> {
    info.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            if words.next() != Some("tfd:") {
                return None;
            }
            let fd = words.next()?.parse().ok()?;
            let mut events = None;
            let mut inode = None;
            while let Some(word) = words.next() {
                match word {
                    "events:" => events = u32::from_str_radix(words.next()?, 16).ok(),
                    _ => {
                        if let Some(hex) = word.strip_prefix("ino:") {
                            inode = u64::from_str_radix(hex, 16).ok();
                        }
                    }
                }
            }
            Some(Watch {
                fd,
                events: events?,
                inode: inode?,
                open: true,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FDINFO: &str = "pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t1057\n\
tfd:        3 events:       19 data:                3  pos:0 ino:4bc3 sdev:8\n\
tfd:        4 events:     201d data:                4  pos:0 ino:4bc4 sdev:8\n\
tfd:        9 events: 80000019 data:                9  pos:0 ino:10 sdev:8\n";

    #[test]
    fn fdinfo_lines_become_entries() {
        let list = interest_list(FDINFO);
        assert_eq!(
            list,
            vec![
                Watch {
                    fd: 3,
                    events: 0x19,
                    inode: 0x4bc3,
                    open: true
                },
                Watch {
                    fd: 4,
                    events: 0x201d,
                    inode: 0x4bc4,
                    open: true
                },
                Watch {
                    fd: 9,
                    events: 0x8000_0019,
                    inode: 0x10,
                    open: true
                },
            ]
        );
        let shown: Vec<String> = list.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["3(in)", "4(in,out,rdhup)", "9(in,et)"]);
    }

    #[test]
    fn a_list_without_entries_and_broken_lines_give_nothing() {
        assert!(interest_list("pos:\t0\nflags:\t02\n").is_empty());
        assert!(interest_list("tfd: x events: 19 ino:1\ntfd: 3 events: zz ino:1\n").is_empty());
        assert_eq!(watches_text(&[]), "watches nothing");
    }

    #[test]
    fn a_snapshot_that_may_not_open_files_shows_the_list_last_read() {
        use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags};
        use std::os::fd::AsRawFd as _;
        use std::os::unix::net::UnixStream;

        let _serial = super::super::SNAPSHOTS
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC).expect("epoll");
        let (a, b) = UnixStream::pair().expect("socketpair");
        epoll
            .add(&a, EpollEvent::new(EpollFlags::EPOLLIN, 0))
            .expect("add");
        let rows_now = || {
            let mut rows: Vec<FdRow> = [epoll.0.as_raw_fd(), a.as_raw_fd(), b.as_raw_fd()]
                .into_iter()
                .filter_map(super::super::inspect_fd)
                .collect();
            rows.sort_by_key(|row| row.fd);
            rows
        };
        let shown = |rows: &[FdRow]| {
            let epoll_row = rows
                .iter()
                .find(|row| is_epoll(row))
                .expect("the epoll row");
            watches_text(epoll_row.watches.as_deref().unwrap_or_default())
        };
        let mut lists = InterestLists::default();
        let mut rows = rows_now();
        lists.add_to(&mut rows, true);
        let first = format!("watches {}(in)", a.as_raw_fd());
        assert_eq!(shown(&rows), first);

        epoll
            .add(&b, EpollEvent::new(EpollFlags::EPOLLOUT, 0))
            .expect("add");
        let mut rows = rows_now();
        lists.add_to(&mut rows, false);
        assert_eq!(shown(&rows), first, "not read again");
        lists.add_to(&mut rows, true);
        assert_eq!(
            shown(&rows),
            format!("watches {}(in) {}(out)", a.as_raw_fd(), b.as_raw_fd())
        );
    }

    #[test]
    fn err_and_hup_show_only_when_nothing_else_was_asked() {
        let bare = Watch {
            fd: 5,
            events: ALWAYS,
            inode: 1,
            open: false,
        };
        assert_eq!(bare.to_string(), "5(err,hup, closed)");
        assert_eq!(
            watches_text(&[bare]),
            "watches 5(err,hup, closed)",
            "a closed number is said"
        );
    }
}
