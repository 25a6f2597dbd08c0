//! The FD panel: a compact table of the process's fds after a step, with a mark per row saying what
//! the step changed; the connections the kernel holds without an fd as rows of their own (`·`),
//! those in an accept queue under their listener, what a close left under the fd it came from (or
//! where that fd was), with its time left; a NOTE column when a row has something no other column
//! holds (what one `recv` of a datagram socket returns, the queues a connection may be in); the
//! two ends of a connection and the fds of one socket marked (as [`Relations`] finds them: `fd 5`
//! in this process, `client:3` in another one shown with it), and optional colour.
//!
//! Rows arrive with their kernel strings already escaped and their addresses typed (an
//! [`Endpoint`] escapes its bytes when it is shown); every other cell still passes through
//! [`sanitize_line`], so no control byte can reach the terminal whatever a row holds.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use super::diff::Change;
use super::fit::{fit_owned, wrap_sentence, Detail, Elide, Fitted, Rules, Stack};
use crate::fdtable::Labels;
use crate::fdtable::{watches_text, FdRow, Held, Kind, Origin, PendingConn, Relations};
use crate::net::{Endpoint, SockState};
use crate::text::sanitize_line;
use comfy_table::{
    Attribute, Cell, CellAlignment, Color, ColumnConstraint, ContentArrangement, Table,
    TableComponent,
};

/// How to draw the panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PanelOptions {
    /// The most display columns any line of the panel may take.
    pub width: usize,
    /// Whether to colour rows and cells with ANSI codes. Colour is used exactly when this is set,
    /// regardless of whether stdout is a terminal or `NO_COLOR` is set: the caller decides.
    pub color: bool,
    /// The most lines the table may take (the screen's height); past it unchanged rows are
    /// summarised. None shows every row.
    pub max_rows: Option<usize>,
    /// Leave out fds 0, 1 and 2 while they are unchanged (`set panel compact`); the title says so.
    pub compact: bool,
}

/// The column headers, in order. The first column holds the change mark; the last, NOTE, is
/// there only when a row has something to say that no other column holds (what one `recv` of a
/// datagram socket returns, which queues a connection may be in when the kernel does not say).
const HEADERS: [&str; 10] = [
    "", "FD", "NAME", "KIND", "LOCAL", "REMOTE", "STATE", "RECV-Q", "SEND-Q", "NOTE",
];

/// How many columns there are without the NOTE column.
const WITHOUT_NOTES: usize = 9;

/// Column positions, for styling the cells that changed.
const COL_MARK: usize = 0;
const COL_FD: usize = 1;
const COL_NAME: usize = 2;
const COL_KIND: usize = 3;
const COL_LOCAL: usize = 4;
const COL_REMOTE: usize = 5;
const COL_STATE: usize = 6;
const COL_RECV_Q: usize = 7;
const COL_SEND_Q: usize = 8;
const COL_NOTE: usize = 9;

/// The short columns kept unwrapped while space allows, most important first.
const KEEP_WHOLE: [usize; 6] = [
    COL_MARK, COL_FD, COL_STATE, COL_RECV_Q, COL_SEND_Q, COL_KIND,
];

/// The columns that take whatever width is left: NAME, LOCAL and REMOTE.
const FLEX_COLUMNS: usize = 3;

/// The least width each flexible column should keep before short columns are allowed to wrap.
const MIN_FLEX_WIDTH: usize = 8;

/// The narrowest panel that can be drawn: one column per header plus the gaps between them.
pub const MIN_PANEL_WIDTH: usize = 24;

/// What an absent value looks like.
const EMPTY: &str = "-";

/// After the LOCAL address of an IPv6 socket on `[::]` that takes IPv4 connections too.
const DUAL_STACK: &str = "(IPv4 too)";

/// The FD cell of a connection the kernel holds without an fd, and the NAME cell of one that
/// waits in an accept queue (one a close left is `(from fd 4)`).
const QUEUED_FD: &str = "·";
const QUEUED_NAME: &str = "(queued)";

/// The NOTE of a connection no process holds an fd of, kept open by a message in flight.
const IN_FLIGHT_NOTE: &str = "held by an fd in flight (SCM_RIGHTS)";

/// Renders the panel: a title line `open fds: N`, then the table, every line at most
/// `opts.width` display columns wide (not counting colour codes) for any width from
/// [`MIN_PANEL_WIDTH`] up; below that the nine columns cannot fit and lines are wider.
///
/// Rows of fds in `labels.internal` are left out; `N` counts the shown rows that are not closed.
pub fn panel_lines(rows: &[(FdRow, Change)], labels: &Labels, opts: &PanelOptions) -> Vec<String> {
    panel_lines_with_pending(rows, &[], labels, opts)
}

/// Renders the panel like [`panel_lines`], with the connections waiting in accept queues
/// (`pending`) listed right under their listener's row: FD `·`, NAME `(queued)`, and the other
/// end's fd in REMOTE when the client lives in this process. The title then also counts them.
pub fn panel_lines_with_pending(
    rows: &[(FdRow, Change)],
    pending: &[(PendingConn, Change)],
    labels: &Labels,
    opts: &PanelOptions,
) -> Vec<String> {
    let rows: Vec<Row> = rows.iter().map(|(row, change)| (row, change)).collect();
    panel_lines_of(&rows, pending, labels, opts)
}

/// One row of the panel, borrowed: the fd's row (from the current table, or the last one for a
/// closed fd) and its mark.
pub type Row<'a> = (&'a FdRow, &'a Change);

/// Renders the panel from borrowed rows, so a refresh copies none of a big table.
pub fn panel_lines_of(
    rows: &[Row<'_>],
    pending: &[(PendingConn, Change)],
    labels: &Labels,
    opts: &PanelOptions,
) -> Vec<String> {
    draw(rows, pending, labels, opts, None, None)
}

/// Renders the panel like [`panel_lines_of`], drawing with comfy-table only the rows `cache`
/// has not drawn before in the same columns: a big table's unchanged rows cost a look-up.
pub fn panel_lines_cached(
    rows: &[Row<'_>],
    pending: &[(PendingConn, Change)],
    labels: &Labels,
    opts: &PanelOptions,
    cache: &mut PanelCache,
) -> Vec<String> {
    draw(rows, pending, labels, opts, None, Some(cache))
}

/// The other processes a table is shown with: its sockets' partners and twins there are marked
/// `↔ client:3` and `≡ child:4`, as `relations` (over every process's open rows) finds them.
#[derive(Debug, Clone, Copy)]
pub struct Elsewhere<'r> {
    pub relations: &'r Relations<'r>,
    /// This table's process, by its position among the tables `relations` was made of.
    pub process: usize,
    /// Every process's name, by that same position.
    pub names: &'r [String],
}

impl Elsewhere<'_> {
    /// `client:3` for each of `held` that lives in another process.
    fn texts(&self, held: &[Held]) -> Vec<String> {
        held.iter()
            .filter(|h| h.process != self.process)
            .map(|h| {
                let name = self.names.get(h.process).map_or("?", String::as_str);
                format!("{}:{}", sanitize_line(name), h.fd)
            })
            .collect()
    }
}

/// Renders the panel like [`panel_lines_of`], with the partners and twins of its sockets that
/// live in other processes marked too.
pub fn panel_lines_across(
    rows: &[Row<'_>],
    pending: &[(PendingConn, Change)],
    labels: &Labels,
    opts: &PanelOptions,
    elsewhere: &Elsewhere<'_>,
) -> Vec<String> {
    draw(rows, pending, labels, opts, Some(elsewhere), None)
}

/// Renders the panel like [`panel_lines_across`], from `cache` where it can, as
/// [`panel_lines_cached`] does.
pub fn panel_lines_across_cached(
    rows: &[Row<'_>],
    pending: &[(PendingConn, Change)],
    labels: &Labels,
    opts: &PanelOptions,
    elsewhere: &Elsewhere<'_>,
    cache: &mut PanelCache,
) -> Vec<String> {
    draw(rows, pending, labels, opts, Some(elsewhere), Some(cache))
}

/// `fd 5` for each fd of this process.
fn here(fds: Vec<i32>) -> Vec<String> {
    fds.into_iter().map(|fd| format!("fd {fd}")).collect()
}

/// One line of the table before it is laid out: its cells' texts, its mark, and which fd row it
/// is (None for a connection without an fd, which is always shown).
struct Entry<'c> {
    texts: Vec<String>,
    change: &'c Change,
    row: Option<usize>,
}

/// One line of the table as it is drawn: its mark, and whether it is a connection without an
/// fd (shown dim when unchanged).
#[derive(Debug, Clone, Copy)]
struct Style<'c> {
    change: &'c Change,
    without_fd: bool,
}

fn draw<'p>(
    rows: &'p [Row<'p>],
    pending: &'p [(PendingConn, Change)],
    labels: &Labels,
    opts: &PanelOptions,
    elsewhere: Option<&Elsewhere<'_>>,
    cache: Option<&mut PanelCache>,
) -> Vec<String> {
    let all: Vec<Row> = rows
        .iter()
        .copied()
        .filter(|(row, _)| !labels.internal.contains(&row.fd))
        .collect();
    let open = all
        .iter()
        .filter(|(_, change)| **change != Change::Closed)
        .count();
    // Compact: fds 0, 1 and 2 only when something happened to them.
    let (shown, left_out): (Vec<Row>, Vec<Row>) = all
        .iter()
        .copied()
        .partition(|(row, change)| !(opts.compact && is_std(row) && **change == Change::Same));
    // A number may show twice: the socket it held closed, and the object it holds now. Only
    // the numbers a connection without an fd came from are looked up.
    let wanted: HashSet<i32> = pending.iter().map(|(p, _)| p.listener_fd).collect();
    let mut by_fd: HashMap<i32, Vec<(u64, bool)>> = HashMap::new();
    for (row, change) in all.iter().filter(|(row, _)| wanted.contains(&row.fd)) {
        by_fd
            .entry(row.fd)
            .or_default()
            .push((row.inode, **change != Change::Closed));
    }
    let placed: Vec<(&(PendingConn, Change), Place)> = pending
        .iter()
        .filter_map(|entry| Some((entry, place(&entry.0, &by_fd, labels)?)))
        .collect();
    let pending: Vec<&(PendingConn, Change)> = placed.iter().map(|(entry, _)| *entry).collect();
    // The kernel counts a listener's accept queue in its RECV-Q, and nothing else without an fd.
    let queued = pending
        .iter()
        .filter(|(p, change)| p.is_counted_in_queue() && *change != Change::Closed)
        .count();

    // A closed fd belongs with nothing any more.
    let relations = Relations::of(
        all.iter()
            .filter(|(_, change)| **change != Change::Closed)
            .map(|(row, _)| *row),
    );
    let notes = shown
        .iter()
        .any(|(row, change)| note_of(row, change).is_some())
        || pending.iter().any(|(p, _)| pending_note(p).is_some());
    let pending_entry = |&((conn, change), place): &(&'p (PendingConn, Change), Place)| {
        let mut partners = here(relations.clients_of(conn));
        if let Some(e) = elsewhere {
            partners.extend(e.texts(&e.relations.clients_in(conn)));
        }
        Entry {
            texts: pending_texts(conn, change, place, &partners, notes),
            change,
            row: None,
        }
    };
    // Which fd rows fit on the screen, a line each: only they are laid out, however many fds
    // the process has.
    let first_pick = rows_to_keep(
        &shown,
        &vec![1; shown.len()],
        pending.len(),
        opts.max_rows,
        &vec![true; shown.len()],
    );
    let mut entries: Vec<Entry> = Vec::new();
    let mut rowless = placed
        .iter()
        .filter(|(_, place)| *place == Place::WhereItsFdWas)
        .peekable();
    for (i, (row, change)) in shown.iter().copied().enumerate() {
        while let Some(conn) = rowless.next_if(|((p, _), _)| p.listener_fd <= row.fd) {
            entries.push(pending_entry(conn));
        }
        if first_pick[i] {
            let (partners, twins) = match change {
                Change::Closed => (Vec::new(), Vec::new()),
                _ => {
                    let mut partners = here(relations.partners_of(row));
                    let mut twins = here(relations.twins_of(row));
                    if let Some(e) = elsewhere {
                        partners.extend(e.texts(&e.relations.partners_in(e.process, row)));
                        twins.extend(e.texts(&e.relations.twins_in(e.process, row)));
                    }
                    (partners, twins)
                }
            };
            entries.push(Entry {
                texts: cell_texts(row, change, labels, &partners, &twins, notes),
                change,
                row: Some(i),
            });
        }
        for conn in placed
            .iter()
            .filter(|((p, _), place)| *place == Place::Under && belongs_under(p, row, change))
        {
            entries.push(pending_entry(conn));
        }
    }
    for conn in rowless {
        entries.push(pending_entry(conn));
    }

    let columns = if notes { HEADERS.len() } else { WITHOUT_NOTES };
    let header: Vec<String> = HEADERS[..columns].iter().map(|h| h.to_string()).collect();
    let mut texts: Vec<Vec<String>> = Vec::with_capacity(entries.len());
    let mut styles: Vec<(Style, Option<usize>)> = Vec::with_capacity(entries.len());
    for entry in entries {
        texts.push(entry.texts);
        let style = Style {
            change: entry.change,
            without_fd: entry.row.is_none(),
        };
        styles.push((style, entry.row));
    }
    let mut fitted = fit_owned(&header, texts, opts.width, &fit_rules(columns));
    // Rows that wrapped take more lines: on a short screen, fewer of them fit.
    let mut heights = vec![1; shown.len()];
    let mut without_fd = 0;
    for (index, (_, row)) in styles.iter().enumerate() {
        match row {
            Some(row) => heights[*row] = fitted.height(index),
            None => without_fd += fitted.height(index),
        }
    }
    let mut title = if queued == 0 {
        format!("open fds: {open}")
    } else {
        format!("open fds: {open}, queued connections: {queued}")
    };
    let mut lines = Vec::new();
    if !left_out.is_empty() {
        let fds: Vec<String> = left_out.iter().map(|(row, _)| row.fd.to_string()).collect();
        let note = format!("({} unchanged, not shown)", fds.join(", "));
        // Too wide for one line, the note has a line of its own.
        match cell_width(&title) + 1 + cell_width(&note) <= opts.width {
            true => title = format!("{title} {note}"),
            false => {
                lines.extend(wrapped(&title, opts.width));
                title = note;
            }
        }
    }
    lines.extend(wrapped(&title, opts.width));
    let head = lines;
    // The title and header lines past the three the table always has.
    let header_lines = fitted.header.iter().map(|h| h.lines().count()).max();
    let more_head = head.len().saturating_sub(1)
        + usize::from(fitted.under.is_some())
        + header_lines.unwrap_or(1).saturating_sub(1);
    let keep = rows_to_keep(
        &shown,
        &heights,
        without_fd + more_head,
        opts.max_rows,
        &first_pick,
    );

    // The lines the table shows, in order, each with its texts as fitted.
    let rows = std::mem::take(&mut fitted.rows);
    let shows = |row: &Option<usize>| row.is_none_or(|row| keep[row]);
    let unders: Vec<String> = match &mut fitted.under {
        Some(under) => std::mem::take(&mut under.lines)
            .into_iter()
            .zip(&styles)
            .filter(|(_, (_, row))| shows(row))
            .map(|(text, _)| text)
            .collect(),
        None => Vec::new(),
    };
    let lines: Vec<(Vec<String>, Style)> = rows
        .into_iter()
        .zip(styles)
        .filter(|(_, (_, row))| shows(row))
        .map(|(texts, (style, _))| (texts, style))
        .collect();
    let mut cache = cache;
    if let Some(cache) = cache.as_deref_mut() {
        cache.whole = fitted.fits;
    }
    let body = match cache {
        _ if fitted.under.is_some() => draw_stacked(&fitted, &lines, &unders, opts),
        // Only a table whose columns are all as wide as their content is drawn a row at a time.
        Some(cache) if fitted.fits => cache.draw(&fitted, lines, opts),
        _ => draw_table(&fitted, lines, opts),
    };
    let mut lines = head;
    lines.extend(body);
    let hidden: Vec<&FdRow> = shown
        .iter()
        .zip(&keep)
        .filter(|(_, k)| !**k)
        .map(|((row, _), _)| *row)
        .collect();
    if !hidden.is_empty() {
        lines.extend(wrapped(&hidden_summary(&hidden), opts.width));
    }
    lines
}

/// A sentence of the panel's wrapped between words to `width` (narrower than any table, as it is).
fn wrapped(text: &str, width: usize) -> Vec<String> {
    if width < MIN_PANEL_WIDTH {
        return vec![text.to_string()];
    }
    wrap_sentence(text, width)
        .split('\n')
        .map(str::to_string)
        .collect()
}

/// Draws the table whole with comfy-table: the header, its rule and `lines`.
fn draw_table(
    fitted: &Fitted,
    lines: Vec<(Vec<String>, Style)>,
    opts: &PanelOptions,
) -> Vec<String> {
    let mut table = new_table(opts, fitted);
    for (texts, style) in lines {
        table.add_row(styled_cells(
            texts,
            style.change,
            opts.color,
            style.without_fd,
        ));
    }
    arrange_columns(&mut table, fitted, opts.width);
    trimmed_lines(&table)
}

/// Draws a stacked table: each row's columns on its first lines, as the header's first line
/// names them, then its KIND, LOCAL and REMOTE on lines of their own, indented, as the header's
/// second line names them; coloured as [`styled_cells`] colours the cells.
fn draw_stacked(
    fitted: &Fitted,
    lines: &[(Vec<String>, Style)],
    unders: &[String],
    opts: &PanelOptions,
) -> Vec<String> {
    let Some(under) = &fitted.under else {
        return Vec::new();
    };
    let last = fitted.widths.len().saturating_sub(1);
    let right = |col: usize| {
        matches!(
            fitted.columns.get(col),
            Some(&(COL_FD | COL_RECV_Q | COL_SEND_Q))
        )
    };
    // One line of a row of cells, each painted by `paint` and padded to its column.
    let line_of = |cells: &[String], at: usize, paint: &dyn Fn(usize, &str) -> String| {
        let mut line = String::new();
        for (col, cell) in cells.iter().enumerate() {
            let text = cell.split('\n').nth(at).unwrap_or("");
            let width = fitted.widths.get(col).copied().unwrap_or(0);
            let fill = " ".repeat(width.saturating_sub(cell_width(text)));
            let painted = match text.is_empty() {
                true => String::new(),
                false => paint(col, text),
            };
            match right(col) {
                true => line.push_str(&format!("{fill}{painted}")),
                false => line.push_str(&format!("{painted}{fill}")),
            }
            if col < last {
                line.push_str(&" ".repeat(fitted.gaps.get(col).copied().unwrap_or(0)));
            }
        }
        line.trim_end().to_string()
    };
    let indent = " ".repeat(under.indent);
    let bold = |text: &str| match opts.color {
        true => {
            use crossterm::style::Stylize;
            text.bold().to_string()
        }
        false => text.to_string(),
    };
    let rule_width = fitted
        .widths
        .iter()
        .zip(&fitted.gaps)
        .take(last)
        .map(|(w, g)| w + g)
        .sum::<usize>()
        + fitted.widths.get(last).copied().unwrap_or(0);
    let rule_width = rule_width.max(under.indent + cell_width(&under.header));
    let mut out = Vec::new();
    for at in 0..fitted
        .header
        .iter()
        .map(|h| h.lines().count())
        .max()
        .unwrap_or(1)
    {
        out.push(line_of(&fitted.header, at, &|_, text| bold(text)));
    }
    out.push(format!("{indent}{}", bold(&under.header)));
    out.push("─".repeat(rule_width));
    for (index, (texts, style)) in lines.iter().enumerate() {
        let paint = |col: usize, text: &str| {
            let col = fitted.columns.get(col).copied().unwrap_or(col);
            paint(text, style, &[col], opts.color)
        };
        let height = texts.iter().map(|t| t.lines().count()).max().unwrap_or(1);
        for at in 0..height.max(1) {
            out.push(line_of(texts, at, &paint));
        }
        for text in unders.get(index).map_or("", String::as_str).lines() {
            let painted = paint_under(text, style, opts.color);
            out.push(format!("{indent}{painted}"));
        }
    }
    out
}

/// `text` of a cell in the columns `cols` coloured as [`styled_cells`] colours it.
fn paint(text: &str, style: &Style, cols: &[usize], color: bool) -> String {
    use crossterm::style::{style as ink, Color as Hue, Stylize};
    if !color {
        return text.to_string();
    }
    let changed = changed_columns(style.change);
    match style.change {
        Change::Same if style.without_fd => ink(text).dim().to_string(),
        Change::Same => text.to_string(),
        Change::New => ink(text).with(Hue::Green).to_string(),
        Change::Closed => ink(text).with(Hue::Red).dim().to_string(),
        Change::Changed(_)
            if cols
                .iter()
                .any(|col| *col == COL_MARK || changed.contains(col)) =>
        {
            text.yellow().to_string()
        }
        Change::Changed(_) => text.to_string(),
    }
}

/// A stacked row's line of KIND, LOCAL and REMOTE, coloured as those cells would be.
fn paint_under(text: &str, style: &Style, color: bool) -> String {
    paint(text, style, &[COL_KIND, COL_LOCAL, COL_REMOTE], color)
}

/// A table's lines. Padding leaves trailing blanks; they would only widen the left side of a
/// layout.
fn trimmed_lines(table: &Table) -> Vec<String> {
    table
        .lines()
        .map(|line| line.trim_end().to_string())
        .collect()
}

/// How many rows comfy-table draws at once for a [`PanelCache`]: what it holds at a time.
const CHUNK: usize = 256;

/// How many sets of columns a [`PanelCache`] keeps rows for: a step may draw the panel twice,
/// at its natural width and then below the output at the screen's.
const SHEETS: usize = 2;

/// The rows the panels of one process drew, kept for its next panels: a row whose fitted texts,
/// mark and kind are those of a row drawn before in the same columns (widths, gaps, colour and
/// header) is the lines it was drawn as; comfy-table draws only the others. Only tables whose
/// columns all take their content's width are kept: a squeezed one, whose words break, is drawn
/// whole each time. For each of the last [`SHEETS`] sets of columns, what the last panel drawn in
/// them did not show is dropped.
#[derive(Debug, Default)]
pub struct PanelCache {
    /// The most recently used first.
    sheets: Vec<Sheet>,
    /// Whether the last panel drawn kept every word whole in its width.
    whole: bool,
}

/// What every row of a table is drawn in: each column's width as comfy-table measures its
/// content, the blanks after it, colour, and the header.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Columns {
    widths: Vec<usize>,
    gaps: Vec<usize>,
    color: bool,
    header: Vec<String>,
}

/// What one row of the table shows: its fitted texts, its mark and whether it has an fd. Rows
/// equal in these are drawn alike in the same columns.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct LineKey {
    texts: Vec<String>,
    change: Change,
    without_fd: bool,
}

/// The rows drawn in one set of columns.
#[derive(Debug)]
struct Sheet {
    columns: Columns,
    /// The header and its rule, drawn.
    header: Vec<String>,
    /// Where each row drawn is in `drawn`, by what it shows.
    index: HashMap<LineKey, usize, BuildHasherDefault<RowHasher>>,
    drawn: Vec<Drawn>,
    /// The places in `drawn` of rows dropped, for new ones.
    free: Vec<usize>,
    /// How many panels were drawn in these columns: the number of the last one.
    panels: u64,
}

/// One row as drawn, and the last panel that showed it.
#[derive(Debug)]
struct Drawn {
    lines: Vec<String>,
    panel: u64,
}

/// The hash of the cache's rows: FxHash's, a multiply per 8 bytes, as the map is looked up
/// once for each row of every panel.
#[derive(Debug, Default)]
struct RowHasher(u64);

impl RowHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for RowHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for chunk in &mut words {
            let mut word = [0; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut word = [0; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 59));
        }
    }

    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl PanelCache {
    /// Whether the last panel drawn with this cache fitted its width with every address,
    /// number, path and name whole (in whatever form it had to take: trimmed, elided, with
    /// narrow gaps, short headers or stacked); if not, some word was broken to fit.
    pub fn kept_words_whole(&self) -> bool {
        self.whole
    }

    /// The table's lines (header, rule, `lines`) in the columns of `fitted`, which fits: from
    /// the rows drawn before where it can.
    fn draw(
        &mut self,
        fitted: &Fitted,
        lines: Vec<(Vec<String>, Style)>,
        opts: &PanelOptions,
    ) -> Vec<String> {
        let columns = Columns {
            widths: content_widths(&fitted.header, &lines),
            gaps: fitted.gaps.clone(),
            color: opts.color,
            header: fitted.header.clone(),
        };
        let mut sheet = match self.sheets.iter().position(|s| s.columns == columns) {
            Some(at) => self.sheets.remove(at),
            None => Sheet::new(columns),
        };
        let keys: Vec<LineKey> = lines
            .into_iter()
            .map(|(texts, style)| LineKey {
                texts,
                change: style.change.clone(),
                without_fd: style.without_fd,
            })
            .collect();
        match sheet.draw(keys) {
            Ok(body) => {
                self.sheets.insert(0, sheet);
                self.sheets.truncate(SHEETS);
                body
            }
            // comfy-table drew the rows otherwise than they were measured: nothing is kept,
            // and the table is drawn whole.
            Err(keys) => {
                let lines = keys
                    .iter()
                    .map(|key| {
                        let style = Style {
                            change: &key.change,
                            without_fd: key.without_fd,
                        };
                        (key.texts.clone(), style)
                    })
                    .collect();
                draw_table(fitted, lines, opts)
            }
        }
    }
}

impl Sheet {
    fn new(columns: Columns) -> Sheet {
        let mut table = fixed_table(columns.color);
        table.set_header(header_cells(&columns.header, columns.color));
        fix_columns(&mut table, &columns);
        Sheet {
            header: trimmed_lines(&table),
            columns,
            index: HashMap::default(),
            drawn: Vec::new(),
            free: Vec::new(),
            panels: 0,
        }
    }

    /// The header and the rows `keys` show, in order, each drawn by comfy-table only if it was
    /// not before; what the panel before showed and this one does not is dropped. Err gives the
    /// keys back when comfy-table drew a chunk in other lines than its cells have.
    fn draw(&mut self, keys: Vec<LineKey>) -> Result<Vec<String>, Vec<LineKey>> {
        self.panels += 1;
        let panel = self.panels;
        // How many of the rows kept this panel shows.
        let mut live = 0;
        let slots: Vec<Option<usize>> = keys
            .iter()
            .map(|key| {
                let at = self.index.get(key).copied()?;
                let drawn = self.drawn.get_mut(at)?;
                if drawn.panel != panel {
                    drawn.panel = panel;
                    live += 1;
                }
                Some(at)
            })
            .collect();
        let missing: Vec<&LineKey> = keys
            .iter()
            .zip(&slots)
            .filter(|(_, slot)| slot.is_none())
            .map(|(key, _)| key)
            .collect();
        let mut fresh: Vec<Vec<String>> = Vec::with_capacity(missing.len());
        for chunk in missing.chunks(CHUNK) {
            match draw_rows(&self.columns, chunk) {
                Some(rows) => fresh.extend(rows),
                None => {
                    self.index.clear();
                    self.drawn.clear();
                    self.free.clear();
                    return Err(keys);
                }
            }
        }
        let mut out = self.header.clone();
        let mut fresh_at = 0;
        for slot in &slots {
            let lines = match slot.and_then(|at| self.drawn.get(at)) {
                Some(drawn) => &drawn.lines,
                None => {
                    fresh_at += 1;
                    &fresh[fresh_at - 1]
                }
            };
            out.extend(lines.iter().cloned());
        }
        // What this panel no longer shows is dropped before the new rows take its place.
        if self.index.len() > live {
            let (drawn, free) = (&mut self.drawn, &mut self.free);
            self.index.retain(|_, at| match drawn.get_mut(*at) {
                Some(row) if row.panel == panel => true,
                Some(row) => {
                    row.lines = Vec::new();
                    free.push(*at);
                    false
                }
                None => false,
            });
        }
        let mut fresh = fresh.into_iter();
        for (key, slot) in keys.into_iter().zip(&slots) {
            if slot.is_some() {
                continue;
            }
            let Some(lines) = fresh.next() else { break };
            // A row shown twice is drawn twice, and kept once.
            if let std::collections::hash_map::Entry::Vacant(entry) = self.index.entry(key) {
                let row = Drawn { lines, panel };
                match self.free.pop() {
                    Some(at) => {
                        entry.insert(at);
                        self.drawn[at] = row;
                    }
                    None => {
                        entry.insert(self.drawn.len());
                        self.drawn.push(row);
                    }
                }
            }
        }
        Ok(out)
    }
}

/// The rows `keys` show, drawn by comfy-table in `columns`, each as its lines; None if the
/// lines comfy-table drew are not as many as the rows' cells have.
fn draw_rows(columns: &Columns, keys: &[&LineKey]) -> Option<Vec<Vec<String>>> {
    let mut table = fixed_table(columns.color);
    for key in keys {
        table.add_row(styled_cells(
            key.texts.clone(),
            &key.change,
            columns.color,
            key.without_fd,
        ));
    }
    fix_columns(&mut table, columns);
    let mut lines = trimmed_lines(&table).into_iter();
    let heights: Vec<usize> = keys
        .iter()
        .map(|key| {
            key.texts
                .iter()
                .map(|text| text.split('\n').count())
                .max()
                .unwrap_or(1)
        })
        .collect();
    if heights.iter().sum::<usize>() != lines.len() {
        return None;
    }
    Some(
        heights
            .into_iter()
            .map(|height| lines.by_ref().take(height).collect())
            .collect(),
    )
}

/// An empty table in the panel's style, its columns as wide as the rows and header put in it.
fn fixed_table(color: bool) -> Table {
    let mut table = Table::new();
    // As in `new_table`: colour and width depend on the options alone.
    table.force_no_tty();
    if color {
        table.enforce_styling();
        crossterm::style::force_color_output(true);
    }
    table
        .load_preset(comfy_table::presets::NOTHING)
        .set_style(TableComponent::HeaderLines, '─')
        .set_content_arrangement(ContentArrangement::Disabled);
    table
}

/// Sets each column of `table` to its width, gap and alignment in `columns`, so that a table of
/// some of the rows draws them as the whole table does.
fn fix_columns(table: &mut Table, columns: &Columns) {
    for index in [COL_FD, COL_RECV_Q, COL_SEND_Q] {
        if let Some(column) = table.column_mut(index) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    for (index, column) in table.column_iter_mut().enumerate() {
        let gap = columns.gaps.get(index).copied().unwrap_or(0);
        let gap = u16::try_from(gap).unwrap_or(0);
        column.set_padding((0, gap));
        let width = columns.widths.get(index).copied().unwrap_or(1);
        let width = u16::try_from(width).unwrap_or(u16::MAX).saturating_add(gap);
        column.set_constraint(ColumnConstraint::Absolute(comfy_table::Width::Fixed(width)));
    }
}

/// Each column's width as comfy-table measures it in a table of `header` and `lines`: its
/// widest line, at least 1.
fn content_widths(header: &[String], lines: &[(Vec<String>, Style)]) -> Vec<usize> {
    let mut widths: Vec<usize> = header.iter().map(|h| cell_width(h).max(1)).collect();
    for (texts, _) in lines {
        for (width, text) in widths.iter_mut().zip(texts) {
            *width = (*width).max(cell_width(text));
        }
    }
    widths
}

/// The width of a cell's widest line, as comfy-table measures it (without taking colour codes
/// out: cells have none).
fn cell_width(text: &str) -> usize {
    use unicode_width::UnicodeWidthStr;
    // Printable ASCII (no line break among it) takes a column a byte.
    let printable = |line: &str| line.bytes().all(|b| (0x20..0x7f).contains(&b));
    if printable(text) {
        return text.len();
    }
    let width = |line: &str| {
        if printable(line) {
            line.len()
        } else {
            line.width()
        }
    };
    text.split('\n').map(width).max().unwrap_or(0)
}

/// Whether `row` is one of the three fds every process starts with.
fn is_std(row: &FdRow) -> bool {
    (0..=2).contains(&row.fd)
}

/// How the panel gives up width: a timer says no more than `60s`, and the partner after REMOTE,
/// NOTE, NAME, a timer after STATE and `(IPv4 too)` after LOCAL wrap first; then the terminal or
/// pipe a tty or pipe row points at is dropped; then paths are elided in the middle (a file's,
/// then a Unix socket's) and names at their end, and the gaps narrow; then RECV-Q and SEND-Q
/// become RQ and SQ; last, KIND, LOCAL and REMOTE go under each row. Addresses and numbers never
/// break.
fn fit_rules(columns: usize) -> Rules<'static> {
    const WRAP: [usize; 6] = [
        COL_NOTE, COL_REMOTE, COL_NAME, COL_STATE, COL_LOCAL, COL_KIND,
    ];
    const ELIDE: [(usize, Elide); 3] = [
        (COL_LOCAL, Elide::PathMiddle),
        (COL_REMOTE, Elide::PathMiddle),
        (COL_NAME, Elide::End),
    ];
    let last = columns.saturating_sub(1);
    let gaps = |narrow: bool| -> Vec<usize> {
        (0..columns)
            .map(|index| {
                let (_, right) = column_padding(index, last);
                match narrow {
                    true => usize::from(right.min(1)),
                    false => usize::from(right),
                }
            })
            .collect()
    };
    Rules {
        wrap_order: WRAP.to_vec(),
        elide: ELIDE.to_vec(),
        gaps: gaps(false),
        narrow_gaps: gaps(true),
        details: vec![Detail {
            column: COL_LOCAL,
            when: COL_KIND,
            is: &["tty", "pipe"],
        }],
        trims: vec![(COL_STATE, TIMER_WORD)],
        short_headers: vec![(COL_RECV_Q, "RQ"), (COL_SEND_Q, "SQ")],
        stack: Some(Stack {
            columns: &[COL_KIND, COL_LOCAL, COL_REMOTE],
            header: "KIND LOCAL → REMOTE",
            join: stacked_line,
            indent_after: 2,
        }),
    }
}

/// The line a stacked row has under it: `tcp 127.0.0.1:5000 → 127.0.0.1:41000 ↔ fd 5` of its
/// KIND, LOCAL and REMOTE (no arrow when there is no other end, only `↔ fd 5` when the other end
/// has no address).
fn stacked_line(cells: &[&str]) -> String {
    let (kind, local, remote) = match cells {
        [kind, local, remote] => (*kind, *local, *remote),
        _ => return cells.join(" "),
    };
    let mut line = kind.to_string();
    let tie = remote.starts_with('↔') || remote.starts_with('≡');
    if local != EMPTY || (remote != EMPTY && !tie) {
        line.push(' ');
        line.push_str(local);
    }
    match remote {
        EMPTY => {}
        _ if tie => {
            line.push(' ');
            line.push_str(remote);
        }
        _ => {
            line.push_str(" → ");
            line.push_str(remote);
        }
    }
    line
}

/// Where a connection without an fd goes in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// Under the row of the fd it belongs to.
    Under,
    /// Where the fd it came from was, among the rows in fd order: that fd is gone, or holds
    /// another socket now.
    WhereItsFdWas,
}

/// Where `conn` goes among the rows (`by_fd`: the inode of each row an fd number has, and
/// whether it is open), or None when it is not shown: a queued connection shows under its
/// listener while that is open; what a close left (or a message in flight holds) shows under the
/// fd it came from while that fd's row is in the table (open, or marked closed), else where it
/// was.
fn place(
    conn: &PendingConn,
    by_fd: &HashMap<i32, Vec<(u64, bool)>>,
    labels: &Labels,
) -> Option<Place> {
    let rows = by_fd.get(&conn.listener_fd).map_or(&[][..], Vec::as_slice);
    match conn.origin.came_from() {
        None => rows.iter().any(|&(_, open)| open).then_some(Place::Under),
        Some(inode) if rows.iter().any(|&(row_inode, _)| row_inode == inode) => Some(Place::Under),
        Some(_) if labels.internal.contains(&conn.listener_fd) => None,
        Some(_) => Some(Place::WhereItsFdWas),
    }
}

/// Whether `conn`, placed under a row of its fd, goes under this one: a queued connection under
/// its open listener, what a close left under the row of the socket it came from.
fn belongs_under(conn: &PendingConn, row: &FdRow, change: &Change) -> bool {
    conn.listener_fd == row.fd
        && match conn.origin.came_from() {
            None => *change != Change::Closed,
            Some(inode) => row.inode == inode,
        }
}

/// Which fd rows fit when the table must stay within `max_rows` lines, among the `allowed` ones
/// (`heights`: the lines each fd row takes; `without_fd`: the lines of the connections without an
/// fd, always shown): every row the step changed (the newest, highest fds, when more changed than
/// the screen holds: after many steps without a panel, say), then unchanged sockets and other fds
/// in fd order, then fds 0, 1 and 2, which say least, leaving a line for the summary of the rest.
fn rows_to_keep(
    shown: &[Row<'_>],
    heights: &[usize],
    without_fd: usize,
    max_rows: Option<usize>,
    allowed: &[bool],
) -> Vec<bool> {
    let Some(max_rows) = max_rows else {
        return allowed.to_vec();
    };
    let height = |i: usize| heights.get(i).copied().unwrap_or(1);
    let candidates: Vec<usize> = (0..shown.len()).filter(|&i| allowed[i]).collect();
    // Title, header and its rule, rows without an fd: what the table costs besides fd rows.
    let budget = max_rows.saturating_sub(3 + without_fd);
    if candidates.iter().map(|&i| height(i)).sum::<usize>() <= budget
        && candidates.len() == shown.len()
    {
        return allowed.to_vec();
    }
    let mut keep = vec![false; shown.len()];
    for &i in &candidates {
        keep[i] = *shown[i].1 != Change::Same;
    }
    let kept: usize = candidates
        .iter()
        .filter(|&&i| keep[i])
        .map(|&i| height(i))
        .sum();
    if kept >= budget {
        let mut room = budget.saturating_sub(1);
        for &i in candidates.iter().rev() {
            if !keep[i] {
                continue;
            }
            keep[i] = height(i) <= room;
            room = room.saturating_sub(height(i));
            if !keep[i] {
                room = 0;
            }
        }
        return keep;
    }
    let mut room = budget.saturating_sub(1 + kept);
    let unchanged = candidates.iter().copied().filter(|&i| !keep[i]);
    let (std, others): (Vec<usize>, Vec<usize>) = unchanged.partition(|&i| is_std(shown[i].0));
    for i in others.into_iter().chain(std) {
        if height(i) > room {
            break;
        }
        keep[i] = true;
        room -= height(i);
    }
    keep
}

/// `… 960 more, all LISTEN` or `… 960 more: 900 LISTEN, 60 ESTABLISHED` for rows left out.
fn hidden_summary(hidden: &[&FdRow]) -> String {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for row in hidden {
        // Sockets are counted by state, other fds by kind; only a new name allocates.
        let what: Cow<'static, str> = match row.state {
            Some(state) => state.name().into(),
            None => row.label(),
        };
        match counts.iter_mut().find(|(seen, _)| *seen == what) {
            Some((_, n)) => *n += 1,
            None => counts.push((what.into_owned(), 1)),
        }
    }
    counts.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    match counts.as_slice() {
        [(what, _)] => format!(
            "… {} more, all {what} (`fds` shows every row)",
            hidden.len()
        ),
        _ => {
            let parts: Vec<String> = counts
                .iter()
                .map(|(what, n)| format!("{n} {what}"))
                .collect();
            format!(
                "… {} more: {} (`fds` shows every row)",
                hidden.len(),
                parts.join(", ")
            )
        }
    }
}

/// Sets up an empty table with the panel's style, the fitted header and colour mode.
fn new_table(opts: &PanelOptions, fitted: &Fitted) -> Table {
    let mut table = Table::new();
    // Never let comfy-table look at stdout: colour and width must depend on `opts` alone.
    table.force_no_tty();
    if opts.color {
        table.enforce_styling();
        // crossterm drops colours when NO_COLOR is set; the caller has already decided.
        crossterm::style::force_color_output(true);
    }
    table
        .load_preset(comfy_table::presets::NOTHING)
        .set_style(TableComponent::HeaderLines, '─')
        .set_header(header_cells(&fitted.header, opts.color));
    if fitted.fits {
        // The cells are wrapped already, each at its blanks.
        table.set_content_arrangement(ContentArrangement::Disabled);
    } else {
        table
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(u16::try_from(opts.width).unwrap_or(u16::MAX));
    }
    table
}

/// The header row, bold when colour is on.
fn header_cells(header: &[String], color: bool) -> Vec<Cell> {
    header
        .iter()
        .map(|h| {
            let cell = Cell::new(h);
            if color {
                cell.add_attribute(Attribute::Bold)
            } else {
                cell
            }
        })
        .collect()
}

/// Right-aligns the numeric columns and sets the gaps between columns, as `fitted` chose them.
///
/// When no fitting kept every word whole in `width`, words must break after all: comfy-table's
/// dynamic arrangement shares space out evenly among the columns that do not fit, which splits
/// `ESTABLISHED` and `RECV-Q` just as readily as a long path. Fixing the short columns to their
/// content width first, most important first, makes the long columns absorb the breaking.
fn arrange_columns(table: &mut Table, fitted: &Fitted, width: usize) {
    for index in [COL_FD, COL_RECV_Q, COL_SEND_Q] {
        if let Some(column) = table.column_mut(index) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    let mut padding_total = 0;
    for (index, column) in table.column_iter_mut().enumerate() {
        let right = fitted.gaps.get(index).copied().unwrap_or(0);
        let padding = (0, u16::try_from(right).unwrap_or(0));
        padding_total += right;
        column.set_padding(padding);
    }
    if fitted.fits {
        return;
    }
    let content_widths = table.column_max_content_widths();
    let content_width = |index: usize| content_widths.get(index).map_or(0, |w| usize::from(*w));
    let budget = width.saturating_sub(padding_total);
    let mut used = 0;
    for index in KEEP_WHOLE {
        let needed = used + content_width(index) + FLEX_COLUMNS * MIN_FLEX_WIDTH;
        if needed > budget {
            continue;
        }
        used += content_width(index);
        if let Some(column) = table.column_mut(index) {
            column.set_constraint(ColumnConstraint::ContentWidth);
        }
    }
}

/// The (left, right) padding of a column: two spaces between columns, one after the mark, and
/// nothing after the `last` column so that no line ends in blanks.
fn column_padding(index: usize, last: usize) -> (u16, u16) {
    match index {
        COL_MARK => (0, 1),
        _ if index == last => (0, 0),
        _ => (0, 2),
    }
}

/// The text of each column for a connection without an fd: where it came from, and for TCP its
/// queues; with `notes`, the NOTE column too.
fn pending_texts(
    conn: &PendingConn,
    change: &Change,
    place: Place,
    partners: &[String],
    notes: bool,
) -> Vec<String> {
    let queue = |q: Option<u64>| q.map_or_else(|| EMPTY.to_string(), |n| n.to_string());
    let name = match (&conn.origin, place) {
        (Origin::Left { .. } | Origin::InFlight { .. }, Place::Under) => {
            format!("(from fd {})", conn.listener_fd)
        }
        (Origin::Left { .. } | Origin::InFlight { .. }, Place::WhereItsFdWas) => {
            format!("(was fd {})", conn.listener_fd)
        }
        (Origin::Queued | Origin::QueuedInOneOf { .. }, _) => QUEUED_NAME.to_string(),
    };
    // TIME_WAIT (and FIN_WAIT2 after a close) end on a timer: how long the kernel keeps it. One
    // the kernel let go of has no state and no queues any more, like a closed fd.
    let state = match (change, conn.time_left_ms) {
        (Change::Closed, _) => EMPTY.to_string(),
        (_, Some(ms)) => format!("{} {}", conn.state.name(), time_left(ms)),
        (_, None) => conn.state.name().to_string(),
    };
    let queue = |q: Option<u64>| match change {
        Change::Closed => EMPTY.to_string(),
        _ => queue(q),
    };
    let mut texts = vec![
        mark(change).to_string(),
        QUEUED_FD.to_string(),
        name,
        sanitize_line(&conn.label()),
        endpoint_text(conn.local.as_ref()),
        remote_text(conn.remote.as_ref(), partners),
        sanitize_line(&state),
        queue(conn.recv_q),
        queue(conn.send_q),
    ];
    if notes {
        texts.push(pending_note(conn).unwrap_or_else(|| EMPTY.to_string()));
    }
    texts
}

/// What the NOTE column says of a connection without an fd: which queues it may be in, when
/// the kernel does not say (`queue: fd 3 or fd 4`); what holds it when no fd does (`held by an
/// fd in flight`).
fn pending_note(conn: &PendingConn) -> Option<String> {
    match &conn.origin {
        Origin::QueuedInOneOf {
            listeners,
            elsewhere,
        } => {
            let mut places: Vec<String> = listeners.iter().map(|fd| format!("fd {fd}")).collect();
            if *elsewhere {
                places.push("another process".to_string());
            }
            Some(format!("queue: {}", or_list(&places)))
        }
        Origin::InFlight { .. } => Some(IN_FLIGHT_NOTE.to_string()),
        Origin::Queued | Origin::Left { .. } => None,
    }
}

/// `a`, `a or b`, `a, b or c`.
fn or_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// The word after a timer's time left, which a narrow panel leaves out.
const TIMER_WORD: &str = "left";

/// A timer's time left: whole seconds (`59s left`), or milliseconds in its last second.
fn time_left(ms: u64) -> String {
    if ms >= 1000 {
        format!("{}s {TIMER_WORD}", ms / 1000)
    } else {
        format!("{ms}ms {TIMER_WORD}")
    }
}

/// What the NOTE column says of an fd's row: for a datagram socket with a datagram waiting,
/// what one `recv` returns (`next 3 B`), which its RECV-Q (the memory of the whole queue, for
/// UDP) does not say. A closed fd says nothing.
fn note_of(row: &FdRow, change: &Change) -> Option<String> {
    if *change == Change::Closed {
        return None;
    }
    row.next_datagram.map(|n| format!("next {n} B"))
}

/// The text of each column for one row, escaped and with `-` for absent values.
fn cell_texts(
    row: &FdRow,
    change: &Change,
    labels: &Labels,
    partners: &[String],
    twins: &[String],
    notes: bool,
) -> Vec<String> {
    let local = match row.kind {
        // ss shows such a socket as `*:PORT`; its IPv4 peers appear v4-mapped.
        Kind::Socket if row.dual_stack => {
            format!("{} {DUAL_STACK}", endpoint_text(row.local.as_ref()))
        }
        Kind::Socket => endpoint_text(row.local.as_ref()),
        _ => shown_or_empty(row.target.as_deref()),
    };
    // An epoll fd has no peer; what it watches goes where a socket's other end would.
    let remote = match &row.watches {
        Some(watches) => sanitize_line(&watches_text(watches)),
        None => remote_text(row.remote.as_ref(), partners),
    };
    // A closed fd has no state: the mark says it closed, and what the kernel still holds of its
    // connection (if anything) is a row of its own under it.
    let state = match change {
        Change::Closed => EMPTY.to_string(),
        _ => shown_or_empty(row.state.map(SockState::name)),
    };
    // A closed fd has no queues any more, whatever the old row said.
    let queue = |q: Option<u64>| match change {
        Change::Closed => EMPTY.to_string(),
        _ => q.map_or_else(|| EMPTY.to_string(), |n| n.to_string()),
    };
    let mut texts = vec![
        mark(change).to_string(),
        row.fd.to_string(),
        name_text(row.fd, labels, twins, *change == Change::Closed),
        sanitize_line(&row.label()),
        local,
        remote,
        state,
        queue(row.recv_q),
        queue(row.send_q),
    ];
    if notes {
        texts.push(note_of(row, change).unwrap_or_else(|| EMPTY.to_string()));
    }
    texts
}

/// The one-character mark for a row's change.
fn mark(change: &Change) -> &'static str {
    match change {
        Change::Same => " ",
        Change::New => "+",
        Change::Changed(_) => "~",
        Change::Closed => "-",
    }
}

/// Escapes a value, or shows `-` when it is absent or empty.
fn shown_or_empty(value: Option<&str>) -> String {
    match value {
        Some(v) if !v.is_empty() => sanitize_line(v),
        _ => EMPTY.to_string(),
    }
}

/// An address as a cell, or `-` when there is none. Its display is escaped already.
fn endpoint_text(endpoint: Option<&Endpoint>) -> String {
    match endpoint.map(address_text) {
        Some(text) if !text.is_empty() => text,
        _ => EMPTY.to_string(),
    }
}

/// An address's text, made in one allocation for the usual lengths.
fn address_text(endpoint: &Endpoint) -> String {
    use std::fmt::Write as _;
    // `[ffff:…]:65535` is 47 characters; most addresses are far shorter.
    let mut text = String::with_capacity(48);
    // Writing to a String cannot fail.
    let _ = write!(text, "{endpoint}");
    text
}

/// The NAME column: the session's name for the fd (for a closed row, the name it had), marked
/// when its handle was detached, and `≡ fd N` (`≡ child:4`) when other fds (of this process or
/// another) are the same socket.
fn name_text(fd: i32, labels: &Labels, twins: &[String], closed: bool) -> String {
    let name = match closed {
        true => labels.closed_name(fd),
        false => labels.names.get(&fd),
    }
    .map(|n| sanitize_line(n));
    let detached = labels.detached.contains(&fd);
    let mut text = match (name, detached) {
        (Some(name), true) => format!("{name} (detached)"),
        (None, true) => "(detached)".to_string(),
        (Some(name), false) => name,
        (None, false) => String::new(),
    };
    if !twins.is_empty() {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(&format!("≡ {}", twins.join(", ")));
    }
    if text.is_empty() {
        EMPTY.to_string()
    } else {
        text
    }
}

/// The REMOTE column, followed by the fds of the other end when it lives in this process (`fd 5`)
/// or in another one shown (`client:3`).
fn remote_text(remote: Option<&Endpoint>, partners: &[String]) -> String {
    if partners.is_empty() {
        return endpoint_text(remote);
    }
    let fds = partners;
    match remote.map(address_text).filter(|r| !r.is_empty()) {
        Some(remote) => format!("{remote} ↔ {}", fds.join(", ")),
        // An unnamed unix peer has no address to show, only where it lives.
        None => format!("↔ {}", fds.join(", ")),
    }
}

/// Turns a row's texts into cells, coloured by what changed when `color` is set: new rows green,
/// closed rows dim red, changed cells (and the mark) yellow; unchanged rows `without_fd` dim.
fn styled_cells(texts: Vec<String>, change: &Change, color: bool, without_fd: bool) -> Vec<Cell> {
    let changed = changed_columns(change);
    texts
        .into_iter()
        .enumerate()
        .map(|(col, text)| {
            let cell = Cell::new(text);
            if !color {
                return cell;
            }
            match change {
                Change::Same if without_fd => cell.add_attribute(Attribute::Dim),
                Change::Same => cell,
                Change::New => cell.fg(Color::Green),
                Change::Closed => cell.fg(Color::Red).add_attribute(Attribute::Dim),
                Change::Changed(_) if col == COL_MARK || changed.contains(&col) => {
                    cell.fg(Color::Yellow)
                }
                Change::Changed(_) => cell,
            }
        })
        .collect()
}

/// The column positions named by a [`Change::Changed`].
fn changed_columns(change: &Change) -> Vec<usize> {
    let Change::Changed(names) = change else {
        return Vec::new();
    };
    names
        .iter()
        .filter_map(|name| match *name {
            "name" => Some(COL_NAME),
            "local" => Some(COL_LOCAL),
            "remote" => Some(COL_REMOTE),
            "state" => Some(COL_STATE),
            "recv_q" => Some(COL_RECV_Q),
            "send_q" => Some(COL_SEND_Q),
            "kind" => Some(COL_KIND),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::{Family, SockType, TcpState};
    use crate::render::diff::tests::{at, in_state};
    use crate::render::diff::tests::{queued, tcp, tty};
    use crate::text::{display_width, strip_ansi};

    fn plain(width: usize) -> PanelOptions {
        PanelOptions {
            width,
            color: false,
            max_rows: None,
            compact: false,
        }
    }

    fn connected(fd: i32, inode: u64, local: &str, remote: &str) -> FdRow {
        let mut row = tcp(fd, inode);
        row.local = Some(at(local));
        row.remote = Some(at(remote));
        row.state = Some(SockState::Tcp(TcpState::Established));
        row
    }

    fn unix(fd: i32, path: &str) -> FdRow {
        let mut row = tcp(fd, 1000 + fd as u64);
        row.family = Some(Family::Unix);
        row.local = Some(at(path));
        row.state = Some(SockState::Tcp(TcpState::Listen));
        row.send_q = Some(128);
        row
    }

    #[test]
    fn more_changed_rows_than_the_screen_holds_keep_the_newest_and_the_panel_fits() {
        // 1,000 listeners made while no panel was shown: every row is new at the next panel.
        let rows: Vec<(FdRow, Change)> = (3..1003)
            .map(|fd| {
                let mut row = tcp(fd, fd as u64);
                row.state = Some(SockState::Tcp(TcpState::Listen));
                (row, Change::New)
            })
            .collect();
        let lines = panel_lines(
            &rows,
            &Labels::default(),
            &PanelOptions {
                max_rows: Some(20),
                ..plain(120)
            },
        );
        // Title, header, rule, 16 rows, the summary.
        assert_eq!(lines.len(), 20, "{lines:#?}");
        let fds: Vec<i32> = (3..1003)
            .filter(|&fd| find_line(&lines, fd).is_some())
            .collect();
        assert_eq!(fds, (987..1003).collect::<Vec<i32>>(), "{lines:#?}");
        assert_eq!(
            lines.last().map(String::as_str),
            Some("… 984 more, all LISTEN (`fds` shows every row)")
        );
    }

    #[test]
    fn a_table_taller_than_the_screen_keeps_changed_rows_and_says_what_it_hid() {
        let mut rows: Vec<(FdRow, Change)> = (3..1003)
            .map(|fd| {
                let mut row = tcp(fd, fd as u64);
                row.state = Some(SockState::Tcp(TcpState::Listen));
                (row, Change::Same)
            })
            .collect();
        let mut fresh = tcp(1003, 5000);
        fresh.state = Some(SockState::Tcp(TcpState::Established));
        rows.push((fresh, Change::New));
        let opts = PanelOptions {
            max_rows: Some(20),
            ..plain(120)
        };
        let lines = panel_lines(&rows, &Labels::default(), &opts);
        assert!(lines.len() <= 20, "{} lines: {lines:#?}", lines.len());
        assert!(
            find_line(&lines, 1003).is_some(),
            "the new row is kept: {lines:#?}"
        );
        let last = lines.last().expect("a summary");
        assert!(last.starts_with("… "), "{last}");
        assert!(last.contains("more, all LISTEN"), "{last}");
        let shown = lines
            .iter()
            .filter(|l| l.contains(TcpState::Listen.name()) && !l.starts_with('…'))
            .count();
        let hidden: usize = last[4..]
            .split(' ')
            .next()
            .and_then(|n| n.parse().ok())
            .expect("a count");
        assert_eq!(
            shown + hidden,
            1000,
            "every LISTEN row is either shown or counted"
        );

        let mut mixed = rows.clone();
        mixed[0].0.state = Some(SockState::Tcp(TcpState::CloseWait));
        let lines = panel_lines(
            &mixed,
            &Labels::default(),
            &PanelOptions {
                max_rows: Some(5),
                ..plain(120)
            },
        );
        let last = lines.last().expect("a summary");
        assert!(
            last.contains(TcpState::Listen.name()) && last.contains(':'),
            "several states are counted each: {last}"
        );
        let all = panel_lines(&rows, &Labels::default(), &plain(120));
        assert_eq!(
            all.len(),
            1004,
            "without a limit every row shows (title, header, rule, 1001 rows)"
        );
    }

    /// The first line of the table row for `fd`, without colour codes: a mark, then the fd
    /// right-aligned, then a gap. Continuation lines of wrapped cells start with blanks instead.
    fn find_line(lines: &[String], fd: i32) -> Option<String> {
        let fd = format!("{fd} ");
        lines.iter().skip(1).map(|l| strip_ansi(l)).find(|l| {
            let mut chars = l.chars();
            let mark_ok = matches!(chars.next(), Some(' ' | '+' | '~' | '-'));
            let rest = chars.as_str();
            mark_ok && rest.starts_with(' ') && rest.trim_start().starts_with(&fd)
        })
    }

    /// Like [`find_line`], for a row that must be there.
    fn line_of(lines: &[String], fd: i32) -> String {
        find_line(lines, fd).unwrap_or_else(|| panic!("no line for fd {fd} in {lines:#?}"))
    }

    fn sample() -> Vec<(FdRow, Change)> {
        let mut listener = tcp(3, 10);
        listener.local = Some(at("127.0.0.1:8080"));
        listener.state = Some(SockState::Tcp(TcpState::Listen));
        listener.send_q = Some(128);
        vec![
            (tty(0), Change::Same),
            (tty(1), Change::Same),
            (tty(2), Change::Same),
            (listener, Change::Changed(vec!["local", "state", "send_q"])),
            (
                connected(4, 11, "127.0.0.1:40000", "127.0.0.1:8080"),
                Change::New,
            ),
            (
                connected(5, 12, "127.0.0.1:8080", "127.0.0.1:40000"),
                Change::New,
            ),
            (tcp(6, 13), Change::Closed),
        ]
    }

    #[test]
    fn title_header_and_marks() {
        let lines = panel_lines(&sample(), &Labels::default(), &plain(120));
        assert_eq!(lines[0], "open fds: 6");
        for h in HEADERS[..WITHOUT_NOTES].iter().filter(|h| !h.is_empty()) {
            assert!(lines[1].contains(h), "header {h} missing in {:?}", lines[1]);
        }
        assert!(
            !lines[1].contains("NOTE"),
            "no row has a note: {:?}",
            lines[1]
        );
        assert!(line_of(&lines, 3).starts_with("~  3  "));
        assert!(line_of(&lines, 4).starts_with("+  4  "));
        assert!(line_of(&lines, 6).starts_with("-  6  "));
        assert!(line_of(&lines, 0).starts_with("   0  "));
    }

    #[test]
    fn values_and_placeholders() {
        let lines = panel_lines(&sample(), &Labels::default(), &plain(120));
        let tty_line = line_of(&lines, 0);
        assert!(tty_line.contains("/dev/pts/0"), "{tty_line}");
        assert!(tty_line.contains("tty"));
        let listener = line_of(&lines, 3);
        for v in ["tcp", "127.0.0.1:8080", TcpState::Listen.name(), "128"] {
            assert!(listener.contains(v), "{v} missing in {listener}");
        }
        // The mark says the fd closed; its STATE says nothing, "closed" least of all.
        let closed = line_of(&lines, 6);
        let cells: Vec<&str> = closed
            .split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        assert_eq!(
            cells,
            ["-", "6", "-", "tcp", "-", "-", "-", "-", "-"],
            "{closed}"
        );
        assert!(lines.iter().all(|l| !l.contains("closed")), "{lines:#?}");
    }

    #[test]
    fn pairs_two_ends() {
        let lines = panel_lines(&sample(), &Labels::default(), &plain(120));
        assert!(line_of(&lines, 4).contains("127.0.0.1:8080 ↔ fd 5"));
        assert!(line_of(&lines, 5).contains("127.0.0.1:40000 ↔ fd 4"));
        assert!(!line_of(&lines, 3).contains('↔'));
    }

    #[test]
    fn no_pairing_across_kinds_or_with_closed_rows() {
        let mut udp = connected(5, 12, "127.0.0.1:8080", "127.0.0.1:40000");
        udp.sock_type = Some(SockType::Dgram);
        let rows = vec![
            (
                connected(4, 11, "127.0.0.1:40000", "127.0.0.1:8080"),
                Change::Same,
            ),
            (udp, Change::Same),
            (
                connected(7, 13, "127.0.0.1:8080", "127.0.0.1:40000"),
                Change::Closed,
            ),
        ];
        let lines = panel_lines(&rows, &Labels::default(), &plain(120));
        assert!(lines.iter().all(|l| !l.contains('↔')), "{lines:#?}");
    }

    #[test]
    fn names_detached_and_internal() {
        let mut labels = Labels::default();
        labels.names.insert(3, "srv".into());
        labels.names.insert(4, "cli".into());
        labels.detached.insert(4);
        labels.detached.insert(5);
        labels.internal.insert(2);
        labels.internal.insert(6);
        let lines = panel_lines(&sample(), &labels, &plain(120));
        assert!(line_of(&lines, 3).contains("srv"));
        assert!(line_of(&lines, 4).contains("cli (detached)"));
        assert!(line_of(&lines, 5).contains(" (detached)"));
        let body = lines.join("\n");
        assert!(
            find_line(&lines, 2).is_none(),
            "internal fd 2 shown:\n{body}"
        );
        assert!(
            find_line(&lines, 6).is_none(),
            "internal fd 6 shown:\n{body}"
        );
        assert!(
            !body.contains("closed"),
            "internal closed fd 6 shown:\n{body}"
        );
        assert_eq!(lines[0], "open fds: 5");
    }

    #[test]
    fn untrusted_strings_are_escaped() {
        let mut labels = Labels::default();
        labels.names.insert(3, "evil\u{1b}[2J".into());
        let rows = vec![(unix(3, "/tmp/\u{202e}x\n\u{7}.sock"), Change::New)];
        for color in [false, true] {
            let opts = PanelOptions {
                width: 120,
                color,
                max_rows: None,
                compact: false,
            };
            let lines = panel_lines(&rows, &labels, &opts);
            let text = lines
                .iter()
                .map(|l| strip_ansi(l))
                .collect::<Vec<_>>()
                .join("\n");
            assert!(text.contains(r"evil\x1b[2J"), "{text}");
            assert!(text.contains(r"/tmp/\xe2\x80\xaex\n\x07.sock"), "{text}");
            assert!(!text.contains('\u{202e}') && !text.contains('\u{7}'));
            assert!(!text.contains("\u{1b}[2J"));
        }
    }

    #[test]
    fn queued_connections_sit_under_their_listener() {
        let mut rows = sample();
        // fd 4's client end made the queued connection; fds 5 and 6 are gone for this test.
        rows.truncate(5);
        let pending = vec![
            (
                queued("127.0.0.1:40000", TcpState::Established),
                Change::New,
            ),
            (queued("127.0.0.1:40009", TcpState::SynRecv), Change::Same),
        ];
        let lines = panel_lines_with_pending(&rows, &pending, &Labels::default(), &plain(120));
        // The kernel counts the complete connection in the listener's RECV-Q; the half-open one
        // waits in the SYN queue, which it counts nowhere the panel shows.
        assert_eq!(lines[0], "open fds: 5, queued connections: 1");
        let text: Vec<String> = lines.iter().map(|l| strip_ansi(l)).collect();
        let listener = text
            .iter()
            .position(|l| l == &line_of(&lines, 3))
            .expect("listener line");
        let first = &text[listener + 1];
        let second = &text[listener + 2];
        assert!(first.starts_with("+  ·  (queued)  tcp"), "{first}");
        for v in [
            "127.0.0.1:8080",
            "127.0.0.1:40000 ↔ fd 4",
            TcpState::Established.name(),
        ] {
            assert!(first.contains(v), "{v} missing in {first}");
        }
        assert!(second.starts_with("   ·  (queued)"), "{second}");
        assert!(
            second.contains(TcpState::SynRecv.name()) && !second.contains('↔'),
            "{second}"
        );
        assert!(
            text[listener + 3].contains(" 4  "),
            "fd 4 follows the queue"
        );
    }

    #[test]
    fn queued_connections_of_a_closed_or_hidden_listener_are_not_shown() {
        let mut listener = tcp(3, 10);
        listener.state = Some(SockState::Tcp(TcpState::Listen));
        let pending = vec![(
            queued("127.0.0.1:40000", TcpState::Established),
            Change::Same,
        )];
        let closed = vec![(listener.clone(), Change::Closed)];
        let lines = panel_lines_with_pending(&closed, &pending, &Labels::default(), &plain(120));
        assert!(lines.iter().all(|l| !l.contains("(queued)")), "{lines:#?}");
        let mut labels = Labels::default();
        labels.internal.insert(3);
        let hidden = vec![(listener, Change::Same)];
        let lines = panel_lines_with_pending(&hidden, &pending, &labels, &plain(120));
        assert!(lines.iter().all(|l| !l.contains("(queued)")), "{lines:#?}");
    }

    #[test]
    fn unix_ends_pair_by_peer_inode() {
        let end = |fd: i32, inode: u64, peer: u64| {
            let mut row = unix(fd, "");
            row.inode = inode;
            row.local = None;
            row.state = in_state("CONNECTED");
            row.peer_inode = Some(peer);
            (row, Change::Same)
        };
        let rows = vec![end(4, 100, 101), end(5, 101, 100), end(6, 102, 999)];
        let lines = panel_lines(&rows, &Labels::default(), &plain(120));
        assert!(line_of(&lines, 4).contains(" ↔ fd 5"), "{lines:#?}");
        assert!(
            !line_of(&lines, 4).contains("- ↔"),
            "no dash for an unnamed peer: {lines:#?}"
        );
        assert!(line_of(&lines, 5).contains(" ↔ fd 4"), "{lines:#?}");
        assert!(!line_of(&lines, 6).contains('↔'), "{lines:#?}");
    }

    #[test]
    fn queued_unix_connection_pairs_with_its_client_by_inode() {
        let mut listener = unix(3, "@srv");
        listener.inode = 50;
        let mut client = unix(4, "");
        client.inode = 51;
        client.local = None;
        client.remote = Some(at("@srv"));
        client.state = in_state("CONNECTED");
        let conn = PendingConn {
            listener_fd: 3,
            origin: crate::fdtable::Origin::Queued,
            family: Family::Unix,
            sock_type: SockType::Stream,
            local: Some(at("@srv")),
            remote: None,
            state: SockState::Connected,
            peer_inode: Some(51),
            recv_q: None,
            send_q: None,
            time_left_ms: None,
        };
        let rows = vec![(listener, Change::Same), (client, Change::Same)];
        let pending = vec![(conn, Change::Same)];
        let lines = panel_lines_with_pending(&rows, &pending, &Labels::default(), &plain(120));
        let queued_line = lines
            .iter()
            .find(|l| l.contains("(queued)"))
            .expect("queued line");
        assert!(queued_line.contains(" ↔ fd 4"), "{queued_line}");
    }

    #[test]
    fn queued_rows_are_dim_when_unchanged_and_green_when_new() {
        let opts = PanelOptions {
            width: 120,
            color: true,
            max_rows: None,
            compact: false,
        };
        let rows = vec![sample()[3].clone()];
        let pending = vec![
            (
                queued("127.0.0.1:40000", TcpState::Established),
                Change::Same,
            ),
            (
                queued("127.0.0.1:40001", TcpState::Established),
                Change::New,
            ),
        ];
        let lines = panel_lines_with_pending(&rows, &pending, &Labels::default(), &opts);
        let same = lines.iter().find(|l| l.contains("40000")).expect("same");
        let new = lines.iter().find(|l| l.contains("40001")).expect("new");
        assert!(same.contains("\u{1b}[2m"), "{same:?}");
        assert!(new.contains("\u{1b}[38;5;10m"), "{new:?}");
    }

    #[test]
    fn no_colour_codes_without_colour() {
        let lines = panel_lines(&sample(), &Labels::default(), &plain(120));
        assert!(lines.iter().all(|l| !l.contains('\u{1b}')), "{lines:#?}");
    }

    #[test]
    fn colour_when_asked() {
        let opts = PanelOptions {
            width: 120,
            color: true,
            max_rows: None,
            compact: false,
        };
        let lines = panel_lines(&sample(), &Labels::default(), &opts);
        let raw_line = |fd: i32| {
            let wanted = line_of(&lines, fd);
            lines
                .iter()
                .find(|l| strip_ansi(l) == wanted)
                .cloned()
                .unwrap_or_default()
        };
        // crossterm's codes: 38;5;10 is bright green, 38;5;9 red, 38;5;11 yellow, 2 dim.
        assert!(raw_line(4).contains("\u{1b}[38;5;10m"), "{:?}", raw_line(4));
        assert!(raw_line(6).contains("\u{1b}[38;5;9m"), "{:?}", raw_line(6));
        assert!(raw_line(6).contains("\u{1b}[2m"), "{:?}", raw_line(6));
        assert!(raw_line(3).contains("\u{1b}[38;5;11m"), "{:?}", raw_line(3));
        assert!(!raw_line(0).contains("\u{1b}[38;5;"), "{:?}", raw_line(0));
        // Colour does not change the text.
        let plain_lines = panel_lines(&sample(), &Labels::default(), &plain(120));
        let stripped: Vec<String> = lines.iter().map(|l| strip_ansi(l)).collect();
        assert_eq!(stripped, plain_lines);
    }

    #[test]
    fn changed_cells_only_are_yellow() {
        let opts = PanelOptions {
            width: 120,
            color: true,
            max_rows: None,
            compact: false,
        };
        let rows = vec![(sample()[3].0.clone(), Change::Changed(vec!["state"]))];
        let lines = panel_lines(&rows, &Labels::default(), &opts);
        let line = &lines[3];
        let yellow = "\u{1b}[38;5;11m";
        // The mark and the STATE cell.
        assert_eq!(line.matches(yellow).count(), 2, "{line:?}");
        assert!(line.contains(&format!("{yellow}LISTEN")), "{line:?}");
    }

    #[test]
    fn empty_table_has_title_and_header() {
        let lines = panel_lines(&[], &Labels::default(), &plain(80));
        assert_eq!(lines[0], "open fds: 0");
        assert!(lines[1].contains("FD"));
    }

    fn long_rows() -> Vec<(FdRow, Change)> {
        let mut peer = unix(
            8,
            "/run/user/1000/some/really/long/directory/name/for/sockets/peer.sock",
        );
        peer.remote = Some(at(
            "/var/lib/another/very/long/path/that/never/ends/at/all/server.sock",
        ));
        peer.state = in_state("CONNECTED");
        let mut rows = sample();
        rows.push((
            unix(
                7,
                "/tmp/sockplay-test-directory-with-a-long-name-0123456789/listening-socket.sock",
            ),
            Change::New,
        ));
        rows.push((peer, Change::Changed(vec!["remote", "state"])));
        rows.push((
            unix(
                9,
                "@abstract\u{0}name\twith\u{1b}escapes-and-more-text-to-make-it-long",
            ),
            Change::Same,
        ));
        rows
    }

    #[test]
    fn never_wider_than_width() {
        let mut labels = Labels::default();
        labels.names.insert(7, "a-rather-long-socket-name".into());
        labels.names.insert(5, "日本語の名前".into());
        labels.detached.insert(7);
        for width in [60, 80, 120] {
            for color in [false, true] {
                let opts = PanelOptions {
                    width,
                    color,
                    max_rows: None,
                    compact: false,
                };
                let lines = panel_lines(&long_rows(), &labels, &opts);
                for line in &lines {
                    assert!(
                        display_width(line) <= width,
                        "width {width}: {} > {width}: {line:?}",
                        display_width(line)
                    );
                }
                // The marks survive wrapping.
                let text = lines.iter().map(|l| strip_ansi(l)).collect::<Vec<_>>();
                assert!(line_of(&text, 7).starts_with("+  7 "), "{text:#?}");
            }
        }
    }

    #[test]
    fn never_wider_than_width_from_the_minimum_up() {
        let rows = long_rows();
        for width in (MIN_PANEL_WIDTH..=200).step_by(5) {
            let lines = panel_lines(&rows, &Labels::default(), &plain(width));
            let widest = lines.iter().map(|l| display_width(l)).max().unwrap_or(0);
            assert!(
                widest <= width,
                "width {width}: {widest}\n{}",
                lines.join("\n")
            );
        }
    }

    #[test]
    fn tiny_widths_do_not_panic() {
        for width in 0..MIN_PANEL_WIDTH {
            let lines = panel_lines(&sample(), &Labels::default(), &plain(width));
            assert_eq!(lines[0], "open fds: 6");
        }
    }

    /// What a close of fd `fd` (socket `inode`) left: `local` → `remote` in `state`, with
    /// `ms` left.
    fn left(
        (fd, inode): (i32, u64),
        local: &str,
        remote: &str,
        state: TcpState,
        ms: Option<u64>,
    ) -> PendingConn {
        PendingConn {
            listener_fd: fd,
            origin: Origin::Left { inode },
            local: Some(at(local)),
            remote: Some(at(remote)),
            state: SockState::Tcp(state),
            time_left_ms: ms,
            ..queued(remote, state)
        }
    }

    /// A table line cut into its cells (at runs of two spaces, as the renderer separates them).
    fn cells(line: &str) -> Vec<String> {
        line.split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn what_a_close_left_sits_under_the_closed_fd_with_its_time_left() {
        let rows = vec![
            (
                connected(4, 11, "127.0.0.1:40000", "127.0.0.1:8080"),
                Change::Closed,
            ),
            (tcp(5, 12), Change::Same),
        ];
        let orphan = left(
            (4, 11),
            "127.0.0.1:40000",
            "127.0.0.1:8080",
            TcpState::FinWait2,
            Some(59_400),
        );
        let pending = vec![(orphan, Change::New)];
        let lines = panel_lines_with_pending(&rows, &pending, &Labels::default(), &plain(140));
        assert_eq!(lines[0], "open fds: 1", "counted nowhere: {lines:#?}");
        assert_eq!(cells(&lines[1]).last().map(String::as_str), Some("SEND-Q"));
        let closed = lines
            .iter()
            .position(|l| l.starts_with("-  4"))
            .expect("fd 4");
        assert_eq!(
            cells(&lines[closed + 1]),
            [
                "+",
                "·",
                "(from fd 4)",
                "tcp",
                "127.0.0.1:40000",
                "127.0.0.1:8080",
                "FIN_WAIT2 59s left",
                "0",
                "0",
            ]
        );
        assert_eq!(cells(&lines[closed])[6..], ["-", "-", "-"]);
        assert!(lines[closed + 2].starts_with("   5"), "{lines:#?}");
    }

    #[test]
    fn what_a_close_left_of_a_gone_fd_sits_where_the_fd_was() {
        let rows = vec![(tcp(3, 10), Change::Same), (tcp(9, 12), Change::Same)];
        let pending = vec![
            (
                left(
                    (7, 70),
                    "127.0.0.1:8080",
                    "127.0.0.1:40001",
                    TcpState::TimeWait,
                    Some(800),
                ),
                Change::Same,
            ),
            (
                left(
                    (12, 120),
                    "127.0.0.1:8080",
                    "127.0.0.1:40002",
                    TcpState::TimeWait,
                    Some(3000),
                ),
                Change::Same,
            ),
        ];
        let lines = panel_lines_with_pending(&rows, &pending, &Labels::default(), &plain(140));
        // Unchanged rows have no mark: their first cell is the FD.
        let texts: Vec<Vec<String>> = lines[3..].iter().map(|l| cells(l)).collect();
        let order: Vec<&str> = texts.iter().map(|c| c[0].as_str()).collect();
        assert_eq!(order, ["3", "·", "9", "·"], "{lines:#?}");
        assert_eq!(texts[1][..2], ["·", "(was fd 7)"]);
        assert_eq!(texts[1][5], "TIME_WAIT 800ms left");
        assert_eq!(texts[3][..2], ["·", "(was fd 12)"]);
        assert_eq!(texts[3][5], "TIME_WAIT 3s left");
    }

    #[test]
    fn what_a_close_left_is_not_shown_as_the_next_socket_on_its_number() {
        let mut rude = tcp(4, 44);
        rude.state = Some(SockState::Tcp(TcpState::Established));
        let rows = vec![(tcp(3, 10), Change::Same), (rude, Change::New)];
        let tw = left(
            (4, 11),
            "127.0.0.1:40000",
            "127.0.0.1:8080",
            TcpState::TimeWait,
            Some(59_000),
        );
        let lines = panel_lines_with_pending(
            &rows,
            &[(tw, Change::Same)],
            &Labels::default(),
            &plain(140),
        );
        let texts: Vec<Vec<String>> = lines[3..].iter().map(|l| cells(l)).collect();
        assert_eq!(texts[1][..2], ["·", "(was fd 4)"], "{lines:#?}");
        assert_eq!(texts[2][..2], ["+", "4"], "{lines:#?}");
    }

    #[test]
    fn a_datagram_socket_says_what_one_recv_returns_beside_its_queue_memory() {
        let mut udp = tcp(3, 10);
        udp.sock_type = Some(SockType::Dgram);
        udp.local = Some(at("127.0.0.1:5000"));
        udp.state = Some(SockState::Unconnected);
        udp.recv_q = Some(2496);
        udp.next_datagram = Some(3);
        let lines = panel_lines(&[(udp, Change::Same)], &Labels::default(), &plain(120));
        assert_eq!(
            cells(&line_of(&lines, 3)),
            [
                "3",
                "-",
                "udp",
                "127.0.0.1:5000",
                "-",
                "UNCONNECTED",
                "2496",
                "0",
                "next 3 B"
            ]
        );
    }

    #[test]
    fn a_connection_in_one_of_a_reuseport_groups_queues_names_them_all() {
        let mut a = tcp(3, 10);
        a.state = Some(SockState::Tcp(TcpState::Listen));
        let mut b = tcp(4, 11);
        b.state = Some(SockState::Tcp(TcpState::Listen));
        let rows = vec![(a, Change::Same), (b, Change::Same)];
        let conn = |elsewhere| PendingConn {
            origin: Origin::QueuedInOneOf {
                listeners: vec![3, 4],
                elsewhere,
            },
            ..queued("127.0.0.1:40000", TcpState::Established)
        };
        for (elsewhere, note) in [
            (false, "queue: fd 3 or fd 4"),
            (true, "queue: fd 3, fd 4 or another process"),
        ] {
            let pending = vec![(conn(elsewhere), Change::Same)];
            let lines = panel_lines_with_pending(&rows, &pending, &Labels::default(), &plain(160));
            assert_eq!(lines[0], "open fds: 2, queued connections: 1");
            let row = lines
                .iter()
                .find(|l| l.contains("(queued)"))
                .expect("queued");
            assert_eq!(
                cells(row).last().map(String::as_str),
                Some(note),
                "{lines:#?}"
            );
            assert!(lines[4].contains("(queued)"), "under fd 3 only: {lines:#?}");
        }
    }

    /// A listener on 127.0.0.1:52771, five clients connected to it from this process, and the
    /// five accepted ends: every REMOTE says where the other end is.
    fn five_connections() -> Vec<(FdRow, Change)> {
        let mut listener = tcp(3, 10);
        listener.local = Some(at("127.0.0.1:52771"));
        listener.state = Some(SockState::Tcp(TcpState::Listen));
        listener.send_q = Some(128);
        let mut rows: Vec<(FdRow, Change)> = (0..3).map(|fd| (tty(fd), Change::Same)).collect();
        rows.push((listener, Change::Same));
        for i in 0..5 {
            let client = format!("127.0.0.1:{}", 40100 + i);
            rows.push((
                connected(4 + i, 20 + i as u64, &client, "127.0.0.1:52771"),
                Change::Same,
            ));
            rows.push((
                connected(9 + i, 30 + i as u64, "127.0.0.1:52771", &client),
                Change::New,
            ));
        }
        rows
    }

    #[test]
    fn at_80_columns_no_address_or_number_is_broken_across_lines() {
        let mut labels = Labels::default();
        for fd in 4..14 {
            labels.names.insert(fd, format!("conn{fd}"));
        }
        let lines = panel_lines(&five_connections(), &labels, &plain(80));
        for line in &lines {
            assert!(display_width(line) <= 80, "{line:?}");
        }
        let text = lines.join("\n");
        for port in ["52771", "40100", "40101", "40102", "40103", "40104"] {
            let whole = format!("127.0.0.1:{port}");
            let rows_with = lines.iter().filter(|l| l.contains(&whole)).count();
            assert!(rows_with >= 2, "{whole} is whole on its rows:\n{text}");
        }
        // Every cell that is a word is whole: no line starts with the tail of a number.
        for line in &lines[3..] {
            let first = line.trim_start();
            assert!(
                first.starts_with(|c: char| c.is_ascii_digit() || "+~-·↔(".contains(c))
                    || first.starts_with("fd "),
                "a continuation line holds only whole words: {line:?}\n{text}"
            );
        }
        // The fd partner goes under the address rather than splitting it.
        let row = lines
            .iter()
            .position(|l| l.contains(" 9  ") || l.starts_with("+  9"))
            .expect("fd 9");
        assert!(lines[row].contains("127.0.0.1:40100"), "{text}");
        assert_eq!(lines[row + 1].trim(), "↔ fd 4", "{text}");
    }

    #[test]
    fn compact_leaves_out_unchanged_std_fds_and_says_so() {
        let compact = PanelOptions {
            compact: true,
            ..plain(120)
        };
        let lines = panel_lines(&sample(), &Labels::default(), &compact);
        assert_eq!(lines[0], "open fds: 6 (0, 1, 2 unchanged, not shown)");
        assert!(find_line(&lines, 0).is_none(), "{lines:#?}");
        assert!(find_line(&lines, 3).is_some(), "{lines:#?}");
        // A std fd the step changed is shown.
        let mut rows = sample();
        rows[1].1 = Change::Closed;
        let lines = panel_lines(&rows, &Labels::default(), &compact);
        assert_eq!(lines[0], "open fds: 5 (0, 2 unchanged, not shown)");
        assert!(find_line(&lines, 1).is_some(), "{lines:#?}");
    }

    #[test]
    fn a_short_screen_leaves_out_the_tty_rows_before_sockets() {
        let opts = PanelOptions {
            max_rows: Some(9),
            ..plain(160)
        };
        let mut rows: Vec<(FdRow, Change)> = (0..3).map(|fd| (tty(fd), Change::Same)).collect();
        rows.extend((3..8).map(|fd| (tcp(fd, fd as u64), Change::Same)));
        let lines = panel_lines(&rows, &Labels::default(), &opts);
        assert!(lines.len() <= 9, "{lines:#?}");
        assert!(find_line(&lines, 0).is_none(), "{lines:#?}");
        assert!(find_line(&lines, 3).is_some(), "{lines:#?}");
        assert_eq!(
            lines.last().map(String::as_str),
            Some("… 3 more, all tty (`fds` shows every row)")
        );
    }

    /// The steps of a table of `n` listeners, each shown after the one before: marks settle,
    /// rows change, close and appear, a NOTE column comes and goes, connections without an fd
    /// come under their listener, under a closed fd and where a gone fd was, and a long path
    /// widens the columns (or, narrow, is elided).
    /// A table as one step shows it: its fd rows and its connections without an fd.
    type Shown = (Vec<(FdRow, Change)>, Vec<(PendingConn, Change)>);

    fn steps(n: i32) -> Vec<Shown> {
        let mut rows: Vec<(FdRow, Change)> = (0..3).map(|fd| (tty(fd), Change::Same)).collect();
        for fd in 3..n {
            let mut row = tcp(fd, fd as u64);
            row.local = Some(at(&format!("127.0.0.1:{}", 20000 + fd)));
            row.state = Some(SockState::Tcp(TcpState::Listen));
            row.send_q = Some(128);
            rows.push((row, Change::Same));
        }
        rows.push((
            connected(n, n as u64, "127.0.0.1:20003", "127.0.0.1:40000"),
            Change::New,
        ));
        rows.push((
            connected(n + 1, n as u64 + 1, "127.0.0.1:40000", "127.0.0.1:20003"),
            Change::Changed(vec!["state", "recv_q"]),
        ));
        let queued_twice = queued("127.0.0.1:40001", TcpState::Established);
        let pending = vec![
            (queued_twice.clone(), Change::New),
            // Two connections alike draw the same line twice.
            (queued_twice, Change::New),
        ];
        let first = (rows.clone(), pending.clone());

        // The marks settle; a row changes, one closes, one is gone.
        let mut next = rows.clone();
        for (_, change) in &mut next {
            *change = Change::Same;
        }
        next[5].0.recv_q = Some(7);
        next[5].1 = Change::Changed(vec!["recv_q"]);
        next[7].1 = Change::Closed;
        next.remove(9);
        let settled: Vec<_> = pending
            .iter()
            .map(|(p, _)| (p.clone(), Change::Same))
            .collect();
        let second = (next.clone(), settled.clone());

        // A datagram socket brings the NOTE column; what the close of fd 7 left sits under it,
        // what fd 9's close left where fd 9 was; fd 1 closes.
        next[7].1 = Change::Same;
        next.retain(|(row, _)| row.fd != 7);
        let mut udp = tcp(n + 2, n as u64 + 2);
        udp.sock_type = Some(SockType::Dgram);
        udp.next_datagram = Some(3);
        next.push((udp, Change::New));
        next[1].1 = Change::Closed;
        let mut with_left = settled.clone();
        with_left.push((
            left(
                (8, 8),
                "127.0.0.1:20008",
                "127.0.0.1:40008",
                TcpState::TimeWait,
                Some(59_000),
            ),
            Change::New,
        ));
        with_left.push((
            left(
                (9, 9),
                "127.0.0.1:20009",
                "127.0.0.1:40009",
                TcpState::FinWait2,
                Some(800),
            ),
            Change::New,
        ));
        next[8].1 = Change::Closed;
        let third = (next.clone(), with_left.clone());

        // A long path widens LOCAL (narrow, it is elided or wraps).
        next.retain(|(_, change)| *change != Change::Closed);
        for (_, change) in &mut next {
            *change = Change::Same;
        }
        next.push((
            unix(
                n + 3,
                "/tmp/sockplay-test-directory-with-a-long-name-0123456789/listening.sock",
            ),
            Change::New,
        ));
        let fourth = (next, with_left);
        // Back to the first table, as it was drawn before; then only fds 0, 1 and 2, which a
        // compact panel leaves out: a table without rows.
        let std_only = rows[..3].to_vec();
        vec![
            first,
            second,
            third,
            fourth,
            (rows.clone(), pending.clone()),
            (std_only, Vec::new()),
        ]
    }

    /// Whether the last drawing with `cache` drew from it: the sheet it used comes first, one
    /// panel further on.
    fn first_sheet(cache: &PanelCache) -> Option<(Columns, u64)> {
        cache
            .sheets
            .first()
            .map(|sheet| (sheet.columns.clone(), sheet.panels))
    }

    #[test]
    fn a_panel_drawn_from_the_cache_is_the_panel_drawn_whole_step_after_step() {
        let mut labels = Labels::default();
        labels.names.insert(3, "srv".into());
        labels.names.insert(6, "日本語の名前".into());
        labels.names.insert(300, "a-rather-long-socket-name".into());
        let steps = steps(300);
        // One cache for every drawing, as a process has one whatever the options.
        let mut cache = PanelCache::default();
        for width in [200, 100, 60] {
            for color in [false, true] {
                for compact in [false, true] {
                    for max_rows in [None, Some(50)] {
                        let opts = PanelOptions {
                            width,
                            color,
                            max_rows,
                            compact,
                        };
                        for (step, (rows, pending)) in steps.iter().enumerate() {
                            let borrowed: Vec<Row> =
                                rows.iter().map(|(row, change)| (row, change)).collect();
                            let whole = panel_lines_of(&borrowed, pending, &labels, &opts);
                            let before = first_sheet(&cache);
                            let cached =
                                panel_lines_cached(&borrowed, pending, &labels, &opts, &mut cache);
                            assert_eq!(cached, whole, "step {step}, {opts:?}");
                            // 200 and 100 columns fit every table (100 by wrapping and eliding);
                            // 60 squeezes all but the last, which are drawn whole.
                            let used = first_sheet(&cache) != before;
                            let squeezed = width == 60 && step + 1 < steps.len();
                            assert_eq!(used, !squeezed, "step {step}, {opts:?}");
                            if width == 100 && max_rows.is_none() && step == 0 {
                                let text: Vec<String> =
                                    whole.iter().map(|l| strip_ansi(l)).collect();
                                assert!(
                                    text.iter().any(|l| l.trim() == "↔ fd 301"),
                                    "REMOTE wraps: {text:#?}"
                                );
                            }
                            // What the panel did not show is not kept.
                            assert!(cache.sheets.len() <= SHEETS);
                            if let Some(sheet) = cache.sheets.first().filter(|_| used) {
                                assert!(sheet.index.len() <= cached.len(), "{opts:?}");
                                let kept = sheet.drawn.len() - sheet.free.len();
                                assert_eq!(kept, sheet.index.len(), "{opts:?}");
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn a_row_drawn_before_in_the_same_columns_is_not_drawn_again() {
        let labels = Labels::default();
        let steps = steps(400);
        let opts = plain(200);
        let mut cache = PanelCache::default();
        let draw = |(rows, pending): &Shown, cache: &mut PanelCache| {
            let borrowed: Vec<Row> = rows.iter().map(|(row, change)| (row, change)).collect();
            panel_lines_cached(&borrowed, pending, &labels, &opts, cache)
        };
        let first = draw(&steps[1], &mut cache);
        // Mark the line of fd 100 as it was kept: drawn again, the panel shows the mark.
        let sheet = &mut cache.sheets[0];
        let key = sheet
            .index
            .keys()
            .find(|key| key.texts[COL_FD] == "100")
            .cloned()
            .expect("fd 100 is kept");
        let at = sheet.index[&key];
        sheet.drawn[at].lines[0].push_str(" (kept)");
        let again = draw(&steps[1], &mut cache);
        let marked: Vec<&String> = again.iter().filter(|l| l.ends_with(" (kept)")).collect();
        assert_eq!(marked.len(), 1, "{marked:?}");
        assert!(marked[0].starts_with(line_of(&first, 100).as_str()));
        // Other columns draw it anew.
        let wider = PanelOptions {
            color: true,
            ..opts
        };
        let borrowed: Vec<Row> = steps[1]
            .0
            .iter()
            .map(|(row, change)| (row, change))
            .collect();
        let colored = panel_lines_cached(&borrowed, &steps[1].1, &labels, &wider, &mut cache);
        assert!(colored.iter().all(|l| !l.ends_with(" (kept)")));
        assert_eq!(cache.sheets.len(), 2, "both sets of columns are kept");
    }

    #[test]
    fn panels_of_several_processes_drawn_from_their_caches_are_the_panels_drawn_whole() {
        let names = vec!["main".to_string(), "child".to_string()];
        // main: many listeners and a client of child's listener; child: the listener and the
        // accepted end, which closes at the second step.
        let mut main: Vec<(FdRow, Change)> = (0..3).map(|fd| (tty(fd), Change::Same)).collect();
        for fd in 3..300 {
            let mut row = tcp(fd, fd as u64);
            row.local = Some(at(&format!("127.0.0.1:{}", 20000 + fd)));
            row.state = Some(SockState::Tcp(TcpState::Listen));
            main.push((row, Change::Same));
        }
        main.push((
            connected(300, 300, "127.0.0.1:40000", "127.0.0.1:8080"),
            Change::New,
        ));
        let mut listener = tcp(3, 1003);
        listener.local = Some(at("127.0.0.1:8080"));
        listener.state = Some(SockState::Tcp(TcpState::Listen));
        let child = vec![
            (listener, Change::Same),
            (
                connected(4, 1004, "127.0.0.1:8080", "127.0.0.1:40000"),
                Change::New,
            ),
        ];
        let mut later_main = main.clone();
        later_main.last_mut().expect("fd 300").1 = Change::Same;
        let mut later_child = child.clone();
        later_child[1].1 = Change::Closed;
        let pending = vec![(
            queued("127.0.0.1:40001", TcpState::Established),
            Change::New,
        )];
        let mut caches = [PanelCache::default(), PanelCache::default()];
        for width in [200, 100, 60] {
            for color in [false, true] {
                for (main, child) in [(&main, &child), (&later_main, &later_child)] {
                    let open = |rows: &[(FdRow, Change)]| -> Vec<FdRow> {
                        rows.iter()
                            .filter(|(_, change)| *change != Change::Closed)
                            .map(|(row, _)| row.clone())
                            .collect()
                    };
                    let (main_open, child_open) = (open(main), open(child));
                    let relations =
                        Relations::across([(0, main_open.iter()), (1, child_open.iter())]);
                    for (process, (rows, max_rows)) in
                        [(main, None), (child, Some(12))].into_iter().enumerate()
                    {
                        let opts = PanelOptions {
                            width,
                            color,
                            max_rows,
                            compact: false,
                        };
                        let elsewhere = Elsewhere {
                            relations: &relations,
                            process,
                            names: &names,
                        };
                        let borrowed: Vec<Row> =
                            rows.iter().map(|(row, change)| (row, change)).collect();
                        let labels = Labels::default();
                        let whole =
                            panel_lines_across(&borrowed, &pending, &labels, &opts, &elsewhere);
                        let cached = panel_lines_across_cached(
                            &borrowed,
                            &pending,
                            &labels,
                            &opts,
                            &elsewhere,
                            &mut caches[process],
                        );
                        assert_eq!(cached, whole, "process {process}, {opts:?}");
                        if process == 0 && width == 200 && main[main.len() - 1].1 == Change::New {
                            assert!(line_of(&whole, 300).contains("↔ child:4"), "{whole:#?}");
                        }
                    }
                }
            }
        }
    }
}
