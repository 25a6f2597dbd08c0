//! Everything that turns a step's results into text: the FD panel, its diff marks, the side-by-side
//! layout, safe display of bytes a peer controls, the JSON records of `--json`, the `ss` listing,
//! and the [`terminal`] every printed line goes through.

mod diff;
mod hexdump;
mod json;
mod layout;
mod panel;
mod safe;
mod ss;
pub mod terminal;

pub use diff::{changes, diff, diff_pending, Change, Changes};
pub use hexdump::{hexdump, looks_binary};
pub use json::{fds_json, ErrorJson, FdJson, ProcessJson, StepJson};
pub use layout::{display_width, side_by_side, terminal_height, terminal_width};
pub use panel::{
    panel_lines, panel_lines_of, panel_lines_with_pending, PanelOptions, Row, MIN_PANEL_WIDTH,
};
pub(crate) use safe::is_shown_as_is;
pub use safe::{escape_bytes, escape_text, safe_line, sanitize_line};
pub use ss::ss_lines;

use std::collections::{BTreeMap, BTreeSet};

/// What the session knows about fds that the kernel does not: names given with `as NAME`, fds whose
/// handle was detached, and fds that sockplay holds for its own work (never shown).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Labels {
    pub names: BTreeMap<i32, String>,
    pub detached: BTreeSet<i32>,
    pub internal: BTreeSet<i32>,
}

/// Where the panel goes relative to the step output.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
pub enum PanelPlacement {
    Right,
    Below,
    Off,
}
