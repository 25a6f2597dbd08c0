//! What the session knows about fds that the kernel does not, for everything that shows the table.

use std::collections::{BTreeMap, BTreeSet};

/// What the session knows about fds that the kernel does not: names given with `as NAME`, fds whose
/// handle was detached, and fds that sockplay holds for its own work (never shown).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Labels {
    pub names: BTreeMap<i32, String>,
    pub detached: BTreeSet<i32>,
    pub internal: BTreeSet<i32>,
}
