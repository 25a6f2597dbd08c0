//! [`Seen`]: a process's table as a step showed it (or as its sentences read it), kept as what
//! changed since then — each changed fd's row and label as they were — rather than as a copy of
//! the whole table: a later step marks and tells what changed by looking at those fds alone.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use crate::fdtable::{FdRow, PendingConn, Snapshot};
use crate::process::Changed;
use crate::render::TiesByFd;

/// A table as it was, by what changed since.
#[derive(Debug, Clone, Default)]
pub(super) struct Seen {
    /// What each fd that changed since held then (None: it was not open).
    rows: HashMap<i32, Option<Box<FdRow>>>,
    /// The labels those fds had then.
    names: HashMap<i32, Option<String>>,
    /// The connections without an fd then.
    pending: Vec<PendingConn>,
    /// How many fds the table had then.
    open: usize,
    /// What each row was tied to (`↔`, `≡`) among the tables shown with it; None for a table
    /// not yet shown with its ties (a new process's first), whose ties are taken as they come.
    ties: Option<Arc<TiesByFd>>,
    /// The process's state in the table's title then (`ready`, `blocked in accept(3)`).
    state: Option<String>,
}

/// A table as it was, as far as it differs from the one now: the rows then of the fds that
/// changed (in fd order), the connections without an fd then, and which fds changed.
#[derive(Debug, Clone, Default)]
pub(super) struct Earlier {
    pub snapshot: Snapshot,
    pub changed: BTreeSet<i32>,
}

impl Seen {
    /// The table `now`, with nothing changed since.
    pub fn at(now: &Snapshot) -> Seen {
        Seen {
            rows: HashMap::new(),
            names: HashMap::new(),
            pending: now.pending.clone(),
            open: now.rows.len(),
            ties: None,
            state: None,
        }
    }

    /// The same, titled with the process's state then.
    pub fn in_state(self, state: &str) -> Seen {
        Seen {
            state: Some(state.to_string()),
            ..self
        }
    }

    /// The process's state in the title then, when the table was shown titled.
    pub fn state(&self) -> Option<&str> {
        self.state.as_deref()
    }

    /// The same, with the ties its rows were shown with.
    pub fn tied(self, ties: Arc<TiesByFd>) -> Seen {
        Seen {
            ties: Some(ties),
            ..self
        }
    }

    /// What the rows were tied to then, when the table was shown with its ties.
    pub fn ties(&self) -> Option<&TiesByFd> {
        self.ties.as_deref()
    }

    /// Adds what changed since: for each fd, only its first change counts (what it held then).
    pub fn add(&mut self, changed: &Changed) {
        for (fd, row) in &changed.rows {
            self.rows.entry(*fd).or_insert_with(|| row.clone());
        }
        for (fd, name) in &changed.names {
            self.names.entry(*fd).or_insert_with(|| name.clone());
        }
    }

    /// Whether the table had fds, or connections without an fd, then.
    pub fn had_rows(&self) -> bool {
        self.open > 0 || !self.pending.is_empty()
    }

    /// The table then, as far as it differs from the one now.
    pub fn earlier(&self) -> Earlier {
        let mut rows: Vec<FdRow> = self
            .rows
            .values()
            .flatten()
            .map(|row| FdRow::clone(row))
            .collect();
        rows.sort_unstable_by_key(|row| row.fd);
        Earlier {
            snapshot: Snapshot {
                rows,
                pending: self.pending.clone(),
            },
            changed: self.rows.keys().copied().collect(),
        }
    }

    /// The label fd had then, when it changed since.
    pub fn name_then(&self, fd: i32) -> Option<&String> {
        self.names.get(&fd).and_then(Option::as_ref)
    }
}

impl Earlier {
    /// A table with nothing changed since: `now` itself.
    pub fn now(now: &Snapshot) -> Earlier {
        Earlier {
            snapshot: Snapshot {
                rows: Vec::new(),
                pending: now.pending.clone(),
            },
            changed: BTreeSet::new(),
        }
    }
}
