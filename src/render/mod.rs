//! Everything that turns a step's results into text: the FD panel, its diff marks, the side-by-side
//! layout, the JSON records of `--json` and the `ss` listing.

mod diff;
mod fit;
mod json;
mod layout;
mod panel;
mod ss;

pub use diff::{
    changes, changes_since, diff, diff_pending, mark_of, Change, Changes, Ties, TiesByFd,
};
pub use json::{
    conns_json, fds_json, ConnJson, ErrorJson, FdJson, HeldJson, OwnFdJson, ProcessJson, Related,
    StepJson, WatchJson,
};
pub use layout::{beside_at, side_by_side, tables, SEPARATOR_WIDTH};
pub use panel::{
    panel_lines, panel_lines_across, panel_lines_across_cached, panel_lines_cached, panel_lines_of,
    panel_lines_with_pending, Elsewhere, PanelCache, PanelOptions, Row, MIN_PANEL_WIDTH,
};
pub use ss::ss_lines;
