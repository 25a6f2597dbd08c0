//! What the session knows about fds that the kernel does not, for everything that shows the table.

use std::collections::{BTreeMap, BTreeSet};

/// What the session knows about fds that the kernel does not: names given with `as NAME`, fds whose
/// handle was detached, and fds that sockplay holds for its own work (never shown).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Labels {
    pub names: BTreeMap<i32, String>,
    pub detached: BTreeSet<i32>,
    pub internal: BTreeSet<i32>,
    /// The names of fds whose socket closed since the table was last shown while the number
    /// went to another object, which `names` names now: for the closed row.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub closed_names: BTreeMap<i32, String>,
}

impl Labels {
    /// The name a closed row of `fd` shows: the one its socket had, when the number went to
    /// another object since, else the fd's name.
    pub fn closed_name(&self, fd: i32) -> Option<&String> {
        self.closed_names.get(&fd).or_else(|| self.names.get(&fd))
    }
}
