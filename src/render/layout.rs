//! Placing the FD panel next to or below a step's output.
//!
//! Widths are [display widths](display_width): the panel's lines may carry colour codes that take
//! no room on screen.

use crate::lang::PanelPlacement;
use crate::text::display_width;

/// What goes between the output column and the panel in [`PanelPlacement::Right`].
const SEPARATOR: &str = " │ ";

/// The separator's display width.
pub const SEPARATOR_WIDTH: usize = 3;

/// The share of the width, in percent, that the left side may take before the panel goes below.
const MAX_LEFT_PERCENT: usize = 60;

/// Composes a step's output (`left`) with the panel (`right`) according to `placement`.
///
/// `Off` gives the left lines only. `Below` gives the left lines, an empty line, then the right
/// lines (without the empty line when either side is empty). `Right` pads every left line to the
/// widest one, adds ` │ ` and the right line, row by row; where one side runs out the other
/// continues alone (the panel keeps its indentation and separator). When the two sides do not fit
/// in `width`, or the left side is wider than 60% of `width`, `Right` falls back to `Below`.
pub fn side_by_side(
    left: &[String],
    right: &[String],
    placement: PanelPlacement,
    width: usize,
) -> Vec<String> {
    match placement {
        PanelPlacement::Off => left.to_vec(),
        PanelPlacement::Below => below(left, right),
        PanelPlacement::Right => {
            let left_width = max_width(left);
            if left_width == 0 {
                // Nothing to sit beside: a separator hanging at column 0 would only be noise.
                right.to_vec()
            } else if fits_beside(left_width, max_width(right), width) {
                beside(left, right, left_width)
            } else {
                below(left, right)
            }
        }
    }
}

/// Puts `right` beside `left` at a fixed place: every left line padded to `column` columns, then
/// ` │ `, so the panel's left edge is the same whatever the output holds. The caller has wrapped
/// the left lines to `column`.
pub fn beside_at(left: &[String], right: &[String], column: usize) -> Vec<String> {
    beside(left, right, column)
}

/// Whether the two sides fit next to each other in `width` columns, with the left side narrow
/// enough to leave the panel the larger share.
fn fits_beside(left_width: usize, right_width: usize, width: usize) -> bool {
    let total = left_width + SEPARATOR_WIDTH + right_width;
    total <= width && left_width * 100 <= width * MAX_LEFT_PERCENT
}

/// Stacks the two sides with an empty line between them.
fn below(left: &[String], right: &[String]) -> Vec<String> {
    let mut out = left.to_vec();
    if !left.is_empty() && !right.is_empty() {
        out.push(String::new());
    }
    out.extend(right.iter().cloned());
    out
}

/// Puts the right lines beside the left lines, the left column padded to `left_width`.
fn beside(left: &[String], right: &[String], left_width: usize) -> Vec<String> {
    let rows = left.len().max(right.len());
    (0..rows)
        .map(|i| match (left.get(i), right.get(i)) {
            (Some(l), Some(r)) => format!("{}{SEPARATOR}{r}", pad(l, left_width)),
            (None, Some(r)) => format!("{}{SEPARATOR}{r}", " ".repeat(left_width)),
            (Some(l), None) => l.clone(),
            (None, None) => String::new(),
        })
        .collect()
}

/// Pads a line with spaces to `width` display columns.
fn pad(line: &str, width: usize) -> String {
    let fill = width.saturating_sub(display_width(line));
    format!("{line}{}", " ".repeat(fill))
}

/// What separates two tables side by side in [`tables`].
const TABLE_GAP: &str = "    ";

/// Lays out several blocks of lines (one process's table each) in `width` columns: as many side
/// by side as fit, in order, each row of blocks under the one before with an empty line between.
/// A block wider than `width` has a row to itself. Lines carry no trailing blanks.
pub fn tables(blocks: &[Vec<String>], width: usize) -> Vec<String> {
    let mut rows: Vec<Vec<&Vec<String>>> = Vec::new();
    let mut used = 0;
    for block in blocks {
        let block_width = max_width(block);
        match rows.last_mut() {
            Some(row) if used + TABLE_GAP.len() + block_width <= width => {
                row.push(block);
                used += TABLE_GAP.len() + block_width;
            }
            _ => {
                rows.push(vec![block]);
                used = block_width;
            }
        }
    }
    let mut out = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            out.push(String::new());
        }
        let height = row.iter().map(|b| b.len()).max().unwrap_or(0);
        for line in 0..height {
            let mut text = String::new();
            for (k, block) in row.iter().enumerate() {
                if k > 0 {
                    text.push_str(TABLE_GAP);
                }
                let cell = block.get(line).map_or("", String::as_str);
                if k + 1 < row.len() {
                    text.push_str(&pad(cell, max_width(block)));
                } else {
                    text.push_str(cell);
                }
            }
            out.push(text.trim_end().to_string());
        }
    }
    out
}

/// The widest display width among `lines`.
fn max_width(lines: &[String]) -> usize {
    lines.iter().map(|l| display_width(l)).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::strip_ansi;

    fn lines(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn tables_sit_side_by_side_while_they_fit_then_go_under() {
        let a = lines(&["── a ──", "aaaaaaaaaa", "a"]);
        let b = lines(&["── b ──", "bbbb"]);
        let c = lines(&["── c ──", "cccccc"]);
        let out = tables(&[a.clone(), b.clone(), c], 24);
        assert_eq!(
            out,
            lines(&[
                "── a ──       ── b ──",
                "aaaaaaaaaa    bbbb",
                "a",
                "",
                "── c ──",
                "cccccc",
            ])
        );
        assert_eq!(
            tables(&[a.clone(), b], 10),
            lines(&["── a ──", "aaaaaaaaaa", "a", "", "── b ──", "bbbb"])
        );
        // A block wider than the width still shows, on its own.
        assert_eq!(tables(std::slice::from_ref(&a), 3), a);
    }

    #[test]
    fn off_gives_left_only() {
        let out = side_by_side(&lines(&["a"]), &lines(&["p"]), PanelPlacement::Off, 80);
        assert_eq!(out, lines(&["a"]));
    }

    #[test]
    fn below_has_blank_line_between() {
        let out = side_by_side(
            &lines(&["a", "b"]),
            &lines(&["p"]),
            PanelPlacement::Below,
            80,
        );
        assert_eq!(out, lines(&["a", "b", "", "p"]));
        let out = side_by_side(&[], &lines(&["p"]), PanelPlacement::Below, 80);
        assert_eq!(out, lines(&["p"]));
    }

    #[test]
    fn right_pads_and_continues_taller_side() {
        let out = side_by_side(
            &lines(&["ab", "c"]),
            &lines(&["p1", "p2", "p3"]),
            PanelPlacement::Right,
            80,
        );
        assert_eq!(out, lines(&["ab │ p1", "c  │ p2", "   │ p3"]));
        let out = side_by_side(
            &lines(&["a", "b", "c"]),
            &lines(&["p"]),
            PanelPlacement::Right,
            80,
        );
        assert_eq!(out, lines(&["a │ p", "b", "c"]));
    }

    #[test]
    fn right_with_empty_left_is_the_panel() {
        let out = side_by_side(&[], &lines(&["p"]), PanelPlacement::Right, 80);
        assert_eq!(out, lines(&["p"]));
    }

    #[test]
    fn right_falls_back_when_too_wide() {
        let left = lines(&["x".repeat(20).as_str()]);
        let right = lines(&["y".repeat(40).as_str()]);
        // 20 + 3 + 40 = 63 fits in 63 …
        let out = side_by_side(&left, &right, PanelPlacement::Right, 63);
        assert_eq!(out.len(), 1);
        // … but not in 62.
        let out = side_by_side(&left, &right, PanelPlacement::Right, 62);
        assert_eq!(out, vec![left[0].clone(), String::new(), right[0].clone()]);
    }

    #[test]
    fn long_left_lines_force_below() {
        let left = lines(&["x".repeat(61).as_str()]);
        let right = lines(&["p"]);
        let out = side_by_side(&left, &right, PanelPlacement::Right, 100);
        assert_eq!(out.len(), 3);
        let left = lines(&["x".repeat(60).as_str()]);
        let out = side_by_side(&left, &right, PanelPlacement::Right, 100);
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn ansi_codes_do_not_count() {
        let green = "\u{1b}[38;5;10mnew\u{1b}[39m";
        assert_eq!(display_width(green), 3);
        assert_eq!(strip_ansi(green), "new");
        let right = lines(&[&"y".repeat(10), green]);
        let left = lines(&[green, "ab"]);
        // Plain widths: 3 + 3 + 10 = 16, although the byte lengths are far longer.
        let out = side_by_side(&left, &right, PanelPlacement::Right, 16);
        assert_eq!(out.len(), 2);
        assert_eq!(strip_ansi(&out[0]), "new │ yyyyyyyyyy");
        assert_eq!(strip_ansi(&out[1]), "ab  │ new");
        assert!(out.iter().all(|l| display_width(l) <= 16));
    }

    #[test]
    fn wide_characters_count_double() {
        assert_eq!(display_width("日本"), 4);
        let out = side_by_side(
            &lines(&["日本", "a"]),
            &lines(&["p", "q"]),
            PanelPlacement::Right,
            80,
        );
        assert_eq!(out, lines(&["日本 │ p", "a    │ q"]));
    }

    #[test]
    fn composed_lines_never_exceed_width() {
        for width in [40, 60, 80, 120] {
            for left_w in [0, 5, 20, 30, 47, 70] {
                for right_w in [1, 10, 30, 50, 77, 79] {
                    let left = vec!["l".repeat(left_w); 3];
                    let right = vec!["r".repeat(right_w); 5];
                    if left_w > width || right_w > width {
                        continue;
                    }
                    let out = side_by_side(&left, &right, PanelPlacement::Right, width);
                    for line in &out {
                        assert!(display_width(line) <= width, "{line:?} > {width}");
                    }
                }
            }
        }
    }
}
