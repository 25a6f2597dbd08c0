//! Fitting a table's columns into a width without breaking a word: an address, a number, a state
//! with its time left (`TIME_WAIT 58s`), an aside (`(was fd 3)`), a tie (`↔ fd 5`), a header or a
//! name stays on one line. What gives way, in order, the least that matters first:
//! trailing words the caller allows go (`TIME_WAIT 60s left` → `TIME_WAIT 60s`) and cells wrap at
//! their blanks (a REMOTE's `↔ fd 5` goes under the address), in the order the caller gives;
//! details the caller names are dropped (the terminal a tty row points at); paths are elided in
//! the middle (`/tmp/…/x.sock`) and names at their end, and the gaps between columns narrow;
//! headers take their short forms (`RECV-Q` → `RQ`); and last the table is stacked: the columns
//! the caller names leave the row for a line of their own under it (`tcp 127.0.0.1:5000 →
//! 127.0.0.1:41000`).
//! Only when all of that is not enough does the caller fall back to breaking words.
//!
//! Widths are [display widths](display_width); cells hold no colour codes yet.

use crate::text::display_width;

/// The ellipsis an elided word carries.
const ELLIPSIS: char = '…';

/// The narrowest a word is elided to: shorter, it would say nothing.
const MIN_ELIDED: usize = 10;

/// How far words are elided before the gaps between columns narrow.
const COMFORTABLE_ELIDED: usize = 16;

/// How a table may give up width.
#[derive(Debug, Clone)]
pub struct Rules<'a> {
    /// The columns that may wrap at their blanks, the one that matters least first.
    pub wrap_order: Vec<usize>,
    /// The columns whose words may be elided, the one that matters least first, and how.
    pub elide: Vec<(usize, Elide)>,
    /// The blanks after each column; the narrow variant is tried before any word is elided.
    pub gaps: Vec<usize>,
    pub narrow_gaps: Vec<usize>,
    /// Cells that say least, dropped (shown as `…`) when trimming and wrapping are not enough,
    /// before any path is elided.
    pub details: Vec<Detail<'a>>,
    /// A trailing word that may go from a column's cells (`left` of `60s left`) as soon as the
    /// table is narrower than its content.
    pub trims: Vec<(usize, &'a str)>,
    /// Short forms of headers, the last resort before the table is stacked.
    pub short_headers: Vec<(usize, &'a str)>,
    /// The stacked form, when the columns cannot fit side by side.
    pub stack: Option<Stack<'a>>,
}

/// A cell that may be dropped: in `column`, where the row's `when` column is one of `is`.
#[derive(Debug, Clone, Copy)]
pub struct Detail<'a> {
    pub column: usize,
    pub when: usize,
    pub is: &'a [&'a str],
}

/// How a table is stacked: `columns` leave each row for a line under it, as `join` makes it of
/// their cells, indented to the column after the first `indent_after` columns left in the row;
/// `header` heads those lines.
#[derive(Debug, Clone, Copy)]
pub struct Stack<'a> {
    pub columns: &'a [usize],
    pub header: &'a str,
    pub join: fn(&[&str]) -> String,
    pub indent_after: usize,
}

/// Which words of a column may be elided, and where the ellipsis goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Elide {
    /// Paths (`/…`, `./…`, `@…`): their middle, so the start and the file name stay.
    PathMiddle,
    /// Any word: its end.
    End,
}

/// A table fitted to a width: the cells (wrapped lines joined by `\n`), each column's width and
/// the blanks after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fitted {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub widths: Vec<usize>,
    pub gaps: Vec<usize>,
    /// Whether every line fits in the width; if not, words must be broken after all.
    pub fits: bool,
    /// Where each column shown was in the table given: all of them, unless it is stacked.
    pub columns: Vec<usize>,
    /// The lines under each row, when the table is stacked.
    pub under: Option<Under>,
}

/// The lines a stacked table has under each row: their header, how far they are indented, and
/// each row's (wrapped lines joined by `\n`; empty for none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Under {
    pub header: String,
    pub indent: usize,
    pub lines: Vec<String>,
}

impl Fitted {
    /// How many lines row `index` takes.
    pub fn height(&self, index: usize) -> usize {
        let row = self.rows.get(index).map_or(1, |row| {
            row.iter()
                .map(|c| match c.contains('\n') {
                    true => c.lines().count().max(1),
                    false => 1,
                })
                .max()
                .unwrap_or(1)
        });
        let under = self
            .under
            .as_ref()
            .and_then(|under| under.lines.get(index))
            .map_or(0, |text| text.lines().count());
        row + under
    }
}

/// Words that never end a line: what follows them is what they are about (`↔ fd 5`, `→ 10.0.0.1:80`).
const GLUED: [&str; 4] = ["↔", "≡", "→", "fd"];

/// Whether `word` is a time left (`58s`, `120ms`): it reads with the word before it
/// (`TIME_WAIT 58s`).
fn is_timer(word: &str) -> bool {
    let digits = word
        .strip_suffix("ms")
        .or_else(|| word.strip_suffix('s'))
        .unwrap_or("");
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// The pieces of `text` a line may end between, each a slice of it: its words, a glued word
/// with the next (`↔ fd 5`, `fd 4`), a time left with the word before it (`TIME_WAIT 58s`), and
/// in a cell (`groups`) a short aside in parentheses whole (`(was fd 3)`, `(IPv4 too)`).
fn pieces(text: &str, groups: bool) -> Pieces<'_> {
    Pieces {
        text,
        words: text.split(' ').peekable(),
        groups,
    }
}

/// See [`pieces`].
struct Pieces<'t> {
    text: &'t str,
    /// What lies between blanks: words, and nothing between two blanks.
    words: std::iter::Peekable<std::str::Split<'t, char>>,
    groups: bool,
}

impl<'t> Pieces<'t> {
    /// Where `word`, a slice of the text, starts in it.
    fn offset(&self, word: &str) -> usize {
        word.as_ptr() as usize - self.text.as_ptr() as usize
    }

    /// Where the aside `word` opens ends (after the word that closes it), if it opens one that
    /// the text closes.
    fn aside_end(&self, word: &str) -> Option<usize> {
        if !self.groups || !word.starts_with('(') || word.ends_with(')') {
            return None;
        }
        let mut ahead = self.words.clone();
        let close = ahead.find(|w| w.ends_with(')'))?;
        Some(self.offset(close) + close.len())
    }

    /// The next word, without taking it.
    fn peek_word(&mut self) -> Option<&'t str> {
        while self.words.next_if_eq(&"").is_some() {}
        self.words.peek().copied()
    }
}

impl<'t> Iterator for Pieces<'t> {
    type Item = &'t str;

    fn next(&mut self) -> Option<&'t str> {
        let first = self.peek_word()?;
        self.words.next();
        let start = self.offset(first);
        let mut end = start + first.len();
        let mut last = first;
        let mut aside = self.aside_end(first);
        while let Some(next) = self.peek_word() {
            let at = self.offset(next);
            let glued =
                GLUED.contains(&last) || is_timer(next) || aside.is_some_and(|close| at < close);
            if !glued {
                break;
            }
            self.words.next();
            end = at + next.len();
            last = next;
            if aside.is_none_or(|close| end >= close) {
                aside = self.aside_end(next);
            }
        }
        Some(&self.text[start..end])
    }
}

/// The width of `text`: its [display width](display_width), counted without a look-up when it
/// is all printable ASCII (one column a byte), as nearly every cell of the panel is.
fn width_of(text: &str) -> usize {
    if text.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        text.len()
    } else {
        display_width(text)
    }
}

/// The widest piece of `text` that no line may be cut in: the widest of its [`pieces`].
fn widest_word(text: &str) -> usize {
    pieces(text, true).map(width_of).max().unwrap_or(0)
}

/// Column `col`'s cells, the header's first, borrowed.
fn column<'t>(
    rows: &'t [Vec<String>],
    header: &'t [String],
    col: usize,
) -> impl Iterator<Item = &'t str> {
    std::iter::once(header[col].as_str()).chain(
        rows.iter()
            .filter_map(move |row| row.get(col).map(String::as_str)),
    )
}

/// The width `cells` take unwrapped.
fn natural<'t>(cells: impl Iterator<Item = &'t str>) -> usize {
    cells.map(width_of).max().unwrap_or(0)
}

/// The least width `cells` take wrapped at their blanks.
fn least<'t>(cells: impl Iterator<Item = &'t str>) -> usize {
    cells.map(widest_word).max().unwrap_or(0)
}

/// The width of a table with these column widths and gaps.
fn total(widths: &[usize], gaps: &[usize]) -> usize {
    widths.iter().sum::<usize>() + gaps.iter().sum::<usize>()
}

/// Fits `header` and `rows` (each as many cells as the header) into `width` columns by `rules`.
#[cfg(test)]
pub fn fit(header: &[String], rows: &[Vec<String>], width: usize, rules: &Rules<'_>) -> Fitted {
    fit_owned(header, rows.to_vec(), width, rules)
}

/// Fits `header` and `rows` (each as many cells as the header) into `width` columns by `rules`,
/// giving up what matters least first (see the module's documentation).
pub fn fit_owned(
    header: &[String],
    rows: Vec<Vec<String>>,
    width: usize,
    rules: &Rules<'_>,
) -> Fitted {
    let columns = header.len();
    let wide = gaps_of(&rules.gaps, columns);
    // A word that says nothing a narrow table needs (`left` of `60s left`) goes as soon as the
    // table is narrower than its content, so a cell that wraps anyway takes fewer lines.
    let trims = |rows: &[Vec<String>]| {
        rules.trims.iter().any(|&(col, word)| {
            rows.iter()
                .any(|row| row.get(col).is_some_and(|cell| cell.ends_with(word)))
        })
    };
    // Wrapping alone: the usual case, which copies nothing. With such a word, not even that.
    let wrap_to = match trims(&rows) {
        true => usize::MAX,
        false => width,
    };
    let widths = wrapped_widths(header, &rows, wrap_to, rules, &wide);
    if total(&widths, &wide) <= width {
        return finish(header.to_vec(), rows, widths, wide);
    }
    let mut given = rows.clone();
    trim(&mut given, rules);
    let widths = wrapped_widths(header, &given, width, rules, &wide);
    if total(&widths, &wide) <= width {
        return finish(header.to_vec(), given, widths, wide);
    }
    drop_details(&mut given, rules);
    let widths = wrapped_widths(header, &given, width, rules, &wide);
    if total(&widths, &wide) <= width {
        return finish(header.to_vec(), given, widths, wide);
    }
    let squeezed = squeeze(header.to_vec(), given.clone(), width, rules);
    if squeezed.fits {
        return squeezed;
    }
    let short = short_header(header, rules);
    let squeezed = squeeze(short, given, width, rules);
    if squeezed.fits {
        return squeezed;
    }
    match rules
        .stack
        .map(|stack| stacked(header, &rows, width, rules, &stack))
    {
        Some(stacked) if stacked.fits => stacked,
        _ => squeezed,
    }
}

/// Each column's gap in `gaps`, 0 past its end.
fn gaps_of(gaps: &[usize], columns: usize) -> Vec<usize> {
    (0..columns)
        .map(|col| gaps.get(col).copied().unwrap_or(0))
        .collect()
}

/// The column widths once the columns wrap at their blanks, in `rules`' order, as far as it takes
/// to fit `width` with these `gaps` (the least widths are measured only when something wraps).
fn wrapped_widths(
    header: &[String],
    rows: &[Vec<String>],
    width: usize,
    rules: &Rules<'_>,
    gaps: &[usize],
) -> Vec<usize> {
    let columns = header.len();
    let mut widths: Vec<usize> = (0..columns)
        .map(|col| natural(column(rows, header, col)))
        .collect();
    let mut mins: Option<Vec<usize>> = None;
    for &col in rules.wrap_order.iter().filter(|&&c| c < columns) {
        let over = total(&widths, gaps).saturating_sub(width);
        if over == 0 {
            break;
        }
        let mins = mins.get_or_insert_with(|| {
            (0..columns)
                .map(|col| least(column(rows, header, col)))
                .collect()
        });
        let give = over.min(widths[col].saturating_sub(mins[col]));
        widths[col] -= give;
    }
    widths
}

/// A table whose columns fit in `widths`: the cells wider than their column wrapped at blanks.
fn finish(
    mut header: Vec<String>,
    mut rows: Vec<Vec<String>>,
    widths: Vec<usize>,
    gaps: Vec<usize>,
) -> Fitted {
    for row in rows.iter_mut().chain(std::iter::once(&mut header)) {
        for (cell, width) in row.iter_mut().zip(&widths) {
            // A cell that fits stays as it is.
            if width_of(cell) > *width {
                *cell = wrap_words(cell, *width);
            }
        }
    }
    Fitted {
        columns: (0..header.len()).collect(),
        header,
        rows,
        widths,
        gaps,
        fits: true,
        under: None,
    }
}

/// Wraps, elides paths and names to a comfortable width, narrows the gaps, then elides further.
/// A table that still does not fit keeps its words unwrapped and its gaps wide: they break anyway.
fn squeeze(
    header: Vec<String>,
    mut rows: Vec<Vec<String>>,
    width: usize,
    rules: &Rules<'_>,
) -> Fitted {
    let columns = header.len();
    let mut gaps = gaps_of(&rules.gaps, columns);
    let mut widths = wrapped_widths(&header, &rows, width, rules, &gaps);
    // Elide paths and names to a comfortable width first, then narrow the gaps, then elide more.
    elide_to_fit(
        &mut rows,
        &header,
        &mut widths,
        &gaps,
        width,
        rules,
        COMFORTABLE_ELIDED,
    );
    // Narrower gaps, all at once so the columns stay evenly spaced.
    if total(&widths, &gaps) > width {
        gaps = gaps_of(&rules.narrow_gaps, columns);
        widths = wrapped_widths(&header, &rows, width, rules, &gaps);
    }
    elide_to_fit(
        &mut rows,
        &header,
        &mut widths,
        &gaps,
        width,
        rules,
        MIN_ELIDED,
    );
    if total(&widths, &gaps) <= width {
        return finish(header, rows, widths, gaps);
    }
    Fitted {
        columns: (0..columns).collect(),
        header,
        rows,
        widths,
        gaps: gaps_of(&rules.gaps, columns),
        fits: false,
        under: None,
    }
}

/// Drops the cells `rules` calls details (`…` for what was there).
fn drop_details(rows: &mut [Vec<String>], rules: &Rules<'_>) {
    for detail in &rules.details {
        for row in rows.iter_mut() {
            let applies = row
                .get(detail.when)
                .is_some_and(|cell| detail.is.contains(&cell.as_str()));
            if let Some(cell) = row.get_mut(detail.column).filter(|_| applies) {
                if cell.as_str() != DROPPED_EMPTY {
                    *cell = ELLIPSIS.to_string();
                }
            }
        }
    }
}

/// What an absent cell says: nothing to drop.
const DROPPED_EMPTY: &str = "-";

/// Takes the trailing words `rules` allows off their columns' cells.
fn trim(rows: &mut [Vec<String>], rules: &Rules<'_>) {
    for &(col, word) in &rules.trims {
        for cell in rows.iter_mut().filter_map(|row| row.get_mut(col)) {
            if let Some(kept) = cell
                .strip_suffix(word)
                .and_then(|rest| rest.strip_suffix(' '))
            {
                *cell = kept.trim_end().to_string();
            }
        }
    }
}

/// `header` with the short forms `rules` gives.
fn short_header(header: &[String], rules: &Rules<'_>) -> Vec<String> {
    let mut header = header.to_vec();
    for &(col, short) in &rules.short_headers {
        if let Some(cell) = header.get_mut(col) {
            *cell = short.to_string();
        }
    }
    header
}

/// The table stacked: the columns `stack` names leave each row for a line under it (wrapped at
/// blanks, paths in it elided when a word is wider than the line), and the rest is fitted by
/// `rules` with full headers, then short ones.
fn stacked(
    header: &[String],
    rows: &[Vec<String>],
    width: usize,
    rules: &Rules<'_>,
    stack: &Stack<'_>,
) -> Fitted {
    let kept: Vec<usize> = (0..header.len())
        .filter(|col| !stack.columns.contains(col))
        .collect();
    let at = |col: usize| kept.iter().position(|&k| k == col);
    let pick = |cells: &[String]| -> Vec<String> {
        kept.iter()
            .map(|&col| cells.get(col).cloned().unwrap_or_default())
            .collect()
    };
    let inner = Rules {
        wrap_order: rules.wrap_order.iter().filter_map(|&c| at(c)).collect(),
        elide: rules
            .elide
            .iter()
            .filter_map(|&(c, how)| Some((at(c)?, how)))
            .collect(),
        gaps: kept
            .iter()
            .map(|&c| rules.gaps.get(c).copied().unwrap_or(0))
            .collect(),
        narrow_gaps: kept
            .iter()
            .map(|&c| rules.narrow_gaps.get(c).copied().unwrap_or(0))
            .collect(),
        details: Vec::new(),
        trims: rules
            .trims
            .iter()
            .filter_map(|&(c, word)| Some((at(c)?, word)))
            .collect(),
        short_headers: rules
            .short_headers
            .iter()
            .filter_map(|&(c, short)| Some((at(c)?, short)))
            .collect(),
        stack: None,
    };
    let mut fitted = fit_owned(
        &pick(header),
        rows.iter().map(|row| pick(row)).collect(),
        width,
        &inner,
    );
    fitted.columns = fitted.columns.iter().map(|&c| kept[c]).collect();
    let indent: usize = (0..stack.indent_after.min(fitted.widths.len()))
        .map(|c| fitted.widths[c] + fitted.gaps[c])
        .sum();
    let room = width.saturating_sub(indent);
    let lines: Vec<String> = rows
        .iter()
        .map(|row| {
            let cells: Vec<&str> = stack
                .columns
                .iter()
                .map(|&col| row.get(col).map_or("", String::as_str))
                .collect();
            let line = (stack.join)(&cells);
            let line = match widest_word(&line) > room {
                true => elide_words(&line, room, Elide::PathMiddle),
                false => line,
            };
            wrap_words(&line, room)
        })
        .collect();
    let wide = lines
        .iter()
        .any(|text| text.lines().any(|l| width_of(l) > room))
        || width_of(stack.header) > room;
    fitted.fits &= !wide;
    fitted.under = Some(Under {
        header: stack.header.to_string(),
        indent,
        lines,
    });
    fitted
}

/// Elides the words `rules` allows, in the columns it names, to the widest common width (not
/// below `floor`) at which the table fits in `width`, if it does not already.
#[allow(clippy::too_many_arguments)]
fn elide_to_fit(
    rows: &mut [Vec<String>],
    header: &[String],
    widths: &mut [usize],
    gaps: &[usize],
    width: usize,
    rules: &Rules<'_>,
    floor: usize,
) {
    let columns = header.len();
    // Then elide: the elidable columns shrink to one common width, the widest they can keep,
    // never below MIN_ELIDED and never below a word they may not elide.
    let elidable: Vec<(usize, Elide)> = rules
        .elide
        .iter()
        .copied()
        .filter(|(c, _)| *c < columns)
        .collect();
    if total(widths, gaps) > width && !elidable.is_empty() {
        let fixed: Vec<usize> = elidable
            .iter()
            .map(|&(col, how)| {
                column(rows, header, col)
                    .flat_map(|cell| pieces(cell, true).filter(move |p| !may_elide(p, how)))
                    .map(width_of)
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let rest = total(widths, gaps) - elidable.iter().map(|(c, _)| widths[*c]).sum::<usize>();
        let capped = |target: usize| -> usize {
            elidable
                .iter()
                .zip(&fixed)
                .map(|(&(col, _), &fixed)| widths[col].min(target.max(fixed)))
                .sum()
        };
        let widest = elidable.iter().map(|(c, _)| widths[*c]).max().unwrap_or(0);
        let target = (floor..=widest)
            .rev()
            .find(|&target| rest + capped(target) <= width)
            .unwrap_or(floor);
        for &(col, how) in &elidable {
            if widths[col] <= target {
                continue;
            }
            for row in rows.iter_mut() {
                if let Some(cell) = row.get_mut(col) {
                    *cell = elide_words(cell, target, how);
                }
            }
            let least = least(column(rows, header, col));
            widths[col] = widths[col].min(target.max(least));
        }
    }
}

/// A cell's `text` with its [`pieces`] packed into lines of at most `width` columns, joined by
/// `\n`; a piece wider than `width` has a line of its own, whole.
pub fn wrap_words(text: &str, width: usize) -> String {
    wrap_pieces(text, width, true)
}

/// A sentence's `text` wrapped like a cell's, but free to break inside parentheses (the panel's
/// notes hold whole clauses in them).
pub fn wrap_sentence(text: &str, width: usize) -> String {
    wrap_pieces(text, width, false)
}

fn wrap_pieces(text: &str, width: usize, groups: bool) -> String {
    if display_width(text) <= width {
        return text.to_string();
    }
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for piece in pieces(text, groups) {
        if !current.is_empty() && display_width(&current) + 1 + display_width(piece) > width {
            lines.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(piece);
    }
    lines.push(current);
    lines.join("\n")
}

/// `text` with each word wider than `width` that `how` allows elided to `width` columns.
fn elide_words(text: &str, width: usize, how: Elide) -> String {
    text.split(' ')
        .map(|word| {
            if may_elide(word, how) && display_width(word) > width {
                match how {
                    Elide::PathMiddle => elide_middle(word, width),
                    Elide::End => elide_end(word, width),
                }
            } else {
                word.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether `how` allows eliding `word`.
fn may_elide(word: &str, how: Elide) -> bool {
    match how {
        Elide::PathMiddle => is_path(word),
        Elide::End => true,
    }
}

/// Whether `word` is a file system path or an abstract Unix name (never an IP address).
fn is_path(word: &str) -> bool {
    word.starts_with('/')
        || word.starts_with("./")
        || word.starts_with("../")
        || word.starts_with('@')
}

/// The first characters of `word` that fit in `width` columns.
fn head(word: &str, width: usize) -> String {
    let mut taken = 0;
    word.chars()
        .take_while(|c| {
            taken += display_width(c.encode_utf8(&mut [0; 4]));
            taken <= width
        })
        .collect()
}

/// The last characters of `word` that fit in `width` columns.
fn tail(word: &str, width: usize) -> String {
    let mut taken = 0;
    let mut chars: Vec<char> = word
        .chars()
        .rev()
        .take_while(|c| {
            taken += display_width(c.encode_utf8(&mut [0; 4]));
            taken <= width
        })
        .collect();
    chars.reverse();
    chars.into_iter().collect()
}

/// `word` cut to at most `width` columns with `…` in its middle, keeping more of its end (a file
/// name) than of its start, and whole path components where there is room for one.
pub fn elide_middle(word: &str, width: usize) -> String {
    if display_width(word) <= width {
        return word.to_string();
    }
    let room = width.saturating_sub(1);
    let mut start = head(word, room / 3);
    if let Some(slash) = start.rfind('/').filter(|&at| at > 0) {
        start.truncate(slash + 1);
    }
    let mut end = tail(word, room - display_width(&start));
    if let Some(slash) = end.find('/').filter(|&at| at + 1 < end.len()) {
        end = end[slash..].to_string();
    }
    format!("{start}{ELLIPSIS}{end}")
}

/// `word` cut to `width` columns with `…` at its end.
fn elide_end(word: &str, width: usize) -> String {
    if display_width(word) <= width {
        return word.to_string();
    }
    format!("{}{ELLIPSIS}", head(word, width.saturating_sub(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|c| c.to_string()).collect()
    }

    fn rules() -> Rules<'static> {
        Rules {
            wrap_order: vec![2, 1],
            elide: vec![(1, Elide::PathMiddle)],
            gaps: vec![2, 2, 0],
            narrow_gaps: vec![1, 1, 0],
            details: Vec::new(),
            trims: Vec::new(),
            short_headers: Vec::new(),
            stack: None,
        }
    }

    /// How far a fitted table has given way, in the order it must: nothing; a timer trimmed and
    /// cells wrapped; a detail dropped; a path elided; the gaps narrowed; short headers; stacked;
    /// words broken.
    fn stage(fitted: &Fitted) -> usize {
        let cell = |row: usize, col: usize| fitted.rows[row][col].as_str();
        match () {
            _ if !fitted.fits => 7,
            _ if fitted.under.is_some() => 6,
            _ if fitted.header[4] == "RQ" => 5,
            _ if fitted.gaps[0] == 1 => 4,
            _ if cell(1, 2).contains('…') => 3,
            _ if cell(0, 2) == "…" => 2,
            _ if !cell(2, 3).ends_with("left") => 1,
            _ => 0,
        }
    }

    #[test]
    fn what_gives_way_as_the_width_shrinks_comes_in_order_and_no_address_breaks() {
        let header = strings(&["FD", "KIND", "LOCAL", "STATE", "RECV-Q", "SEND-Q"]);
        let rows = vec![
            strings(&["0", "pipe", "pipe:[1234567890123]", "-", "-", "-"]),
            strings(&["3", "unix", "/tmp/d/server.sock", "LISTEN", "0", "128"]),
            strings(&[
                "4",
                "tcp",
                "127.0.0.1:33307",
                "TIME_WAIT 60s left",
                "0",
                "0",
            ]),
        ];
        let rules = Rules {
            wrap_order: vec![3],
            elide: vec![(2, Elide::PathMiddle)],
            gaps: vec![2, 2, 2, 2, 2, 0],
            narrow_gaps: vec![1, 1, 1, 1, 1, 0],
            details: vec![Detail {
                column: 2,
                when: 1,
                is: &["pipe"],
            }],
            trims: vec![(3, "left")],
            short_headers: vec![(4, "RQ"), (5, "SQ")],
            stack: Some(Stack {
                columns: &[1, 2],
                header: "KIND LOCAL",
                join: |cells| cells.join(" "),
                indent_after: 1,
            }),
        };
        let mut seen = Vec::new();
        for width in (12..=70).rev() {
            let fitted = fit(&header, &rows, width, &rules);
            let now = stage(&fitted);
            assert!(
                seen.last().is_none_or(|&before| before <= now),
                "at {width} columns, stage {now} after {seen:?}: {fitted:#?}"
            );
            if seen.last() != Some(&now) {
                seen.push(now);
            }
            if !fitted.fits {
                continue;
            }
            assert!(total(&fitted.widths, &fitted.gaps) <= width, "{fitted:#?}");
            let mut texts: Vec<&str> = fitted.rows.iter().flatten().map(String::as_str).collect();
            if let Some(under) = &fitted.under {
                for text in &under.lines {
                    assert!(
                        text.lines().all(|l| under.indent + width_of(l) <= width),
                        "{width}: {fitted:#?}"
                    );
                    texts.push(text);
                }
            }
            assert!(
                texts.iter().any(|t| t
                    .lines()
                    .any(|l| l.split(' ').any(|w| w == "127.0.0.1:33307"))),
                "the address is whole at {width}: {fitted:#?}"
            );
        }
        assert_eq!(seen, (0..=7).collect::<Vec<_>>());
        // Stacked, the rows keep their first columns and the rest goes under, whole.
        let fitted = fit(&header, &rows, 36, &rules);
        assert_eq!(fitted.columns, [0, 3, 4, 5]);
        assert_eq!(fitted.height(2), 2);
        let under = fitted.under.expect("stacked at 36");
        assert_eq!(under.indent, 4);
        assert_eq!(under.lines[2], "tcp 127.0.0.1:33307");
        assert_eq!(under.lines[0], "pipe pipe:[1234567890123]");
    }

    #[test]
    fn a_table_that_fits_is_left_alone() {
        let header = strings(&["A", "B", "C"]);
        let rows = vec![strings(&["1", "127.0.0.1:52771", "x ↔ fd 5"])];
        let fitted = fit(&header, &rows, 80, &rules());
        assert!(fitted.fits);
        assert_eq!(fitted.rows, rows);
        assert_eq!(fitted.widths, [1, 15, 8]);
    }

    #[test]
    fn columns_wrap_at_blanks_in_order_and_never_inside_a_word() {
        let header = strings(&["A", "B", "C"]);
        let rows = vec![strings(&[
            "1",
            "127.0.0.1:52771 ↔ fd 5",
            "ESTABLISHED 59s left",
        ])];
        // 1 + 2 + 22 + 2 + 20 = 47; at 44, C gives up 3, wrapping after its state and time
        // left, which stay together (`ESTABLISHED 59s`, 15).
        let fitted = fit(&header, &rows, 44, &rules());
        assert!(fitted.fits);
        assert_eq!(fitted.rows[0][2], "ESTABLISHED 59s\nleft");
        assert_eq!(fitted.rows[0][1], "127.0.0.1:52771 ↔ fd 5");
        // At 36, B wraps too, after the address.
        let fitted = fit(&header, &rows, 36, &rules());
        assert!(fitted.fits, "{fitted:?}");
        assert_eq!(fitted.rows[0][1], "127.0.0.1:52771\n↔ fd 5");
        assert_eq!(fitted.rows[0][2], "ESTABLISHED 59s\nleft");
        assert_eq!(fitted.height(0), 2);
    }

    #[test]
    fn gaps_narrow_then_paths_are_elided_in_the_middle_but_addresses_never() {
        let header = strings(&["A", "B", "C"]);
        let rows = vec![
            strings(&["1", "/tmp/a-long-directory-name/server.sock", "x"]),
            strings(&["2", "127.0.0.1:52771", "y"]),
        ];
        let fitted = fit(&header, &rows, 24, &rules());
        assert!(fitted.fits, "{fitted:?}");
        assert_eq!(fitted.gaps, [2, 2, 0], "paths give way before the gaps");
        assert_eq!(fitted.rows[0][1], "/tmp/…/server.sock");
        assert_eq!(fitted.rows[1][1], "127.0.0.1:52771");
        let fitted = fit(&header, &rows, 20, &rules());
        assert!(fitted.fits, "{fitted:?}");
        assert_eq!(fitted.gaps, [1, 1, 0]);
        assert!(total(&fitted.widths, &fitted.gaps) <= 20);
        assert_eq!(fitted.rows[1][1], "127.0.0.1:52771");
        // An address is never elided: too narrow for it, the table does not fit.
        let fitted = fit(&header, &rows, 12, &rules());
        assert!(!fitted.fits);
        assert!(fitted.rows.iter().any(|r| r[1] == "127.0.0.1:52771"));
    }

    #[test]
    fn the_widest_word_is_the_widest_of_the_pieces_a_line_may_not_be_cut_in() {
        for (text, widest) in [
            ("", 0),
            ("   ", 0),
            ("127.0.0.1:52771 ↔ fd 5", 15),
            ("↔ fd 5, fd 6", 7),
            ("(from fd 4)", 11),
            ("x fd", 2),
            ("fd", 2),
            ("a-name ≡ client:3, fd 12", 11),
            ("日本語の名前 ≡ fd 4", 12),
            ("ESTABLISHED  59s left", 16),
            ("/tmp/\\xe2\\x80\\xaex\\n.sock ↔ fd 5", 25),
        ] {
            assert_eq!(widest_word(text), widest, "{text:?}");
        }
    }

    #[test]
    fn a_state_with_its_time_left_an_aside_and_a_tie_are_pieces_no_line_cuts() {
        fn cell(text: &str) -> Vec<&str> {
            pieces(text, true).collect()
        }
        assert_eq!(cell("(was fd 3)"), ["(was fd 3)"]);
        assert_eq!(cell("(from fd 12)"), ["(from fd 12)"]);
        assert_eq!(cell("TIME_WAIT 58s left"), ["TIME_WAIT 58s", "left"]);
        assert_eq!(cell("FIN_WAIT2 60s"), ["FIN_WAIT2 60s"]);
        assert_eq!(cell("TIME_WAIT 250ms left"), ["TIME_WAIT 250ms", "left"]);
        assert_eq!(cell("[::]:8080 (IPv4 too)"), ["[::]:8080", "(IPv4 too)"]);
        assert_eq!(
            cell("127.0.0.1:52771 ↔ fd 5, client:3"),
            ["127.0.0.1:52771", "↔ fd 5,", "client:3"]
        );
        assert_eq!(
            cell("a-name ≡ client:3, fd 12"),
            ["a-name", "≡ client:3,", "fd 12"]
        );
        assert_eq!(cell("srv (detached)"), ["srv", "(detached)"]);
        // An aside the cell never closes is words, as is a number that is not a time.
        assert_eq!(cell("(x y z"), ["(x", "y", "z"]);
        assert_eq!(cell("next 3 B"), ["next", "3", "B"]);
        assert_eq!(cell("s 5sx"), ["s", "5sx"]);
        // A sentence may break inside its parentheses.
        assert_eq!(
            pieces("open fds: 4 (0, 1, 2 unchanged)", false).collect::<Vec<_>>(),
            ["open", "fds:", "4", "(0,", "1,", "2", "unchanged)"]
        );
        assert_eq!(wrap_words("(was fd 3)", 5), "(was fd 3)");
        assert_eq!(wrap_words("TIME_WAIT 58s left", 9), "TIME_WAIT 58s\nleft");
        assert_eq!(
            wrap_words("x (from fd 4) TIME_WAIT 1s", 12),
            "x\n(from fd 4)\nTIME_WAIT 1s"
        );
        assert_eq!(
            wrap_sentence("open fds: 4 (0, 1, 2 unchanged)", 20),
            "open fds: 4 (0, 1, 2\nunchanged)"
        );
    }

    #[test]
    fn rows_without_an_fd_keep_their_origin_and_their_state_with_its_time_whole_at_any_width() {
        let header = strings(&["FD", "NAME", "KIND", "LOCAL", "REMOTE", "STATE", "RECV-Q"]);
        let rows = vec![
            strings(&["3", "srv", "tcp", "127.0.0.1:37969", "-", "LISTEN", "0"]),
            strings(&[
                "·",
                "(was fd 4)",
                "tcp",
                "127.0.0.1:37969",
                "127.0.0.1:45676",
                "TIME_WAIT 59s left",
                "0",
            ]),
            strings(&[
                "·",
                "(from fd 3)",
                "tcp",
                "127.0.0.1:45677",
                "127.0.0.1:37969",
                "FIN_WAIT2 60s left",
                "0",
            ]),
        ];
        let rules = Rules {
            wrap_order: vec![4, 1, 5, 3, 2],
            elide: vec![(3, Elide::PathMiddle), (4, Elide::PathMiddle)],
            gaps: vec![2, 2, 2, 2, 2, 2, 0],
            narrow_gaps: vec![1, 1, 1, 1, 1, 1, 0],
            details: Vec::new(),
            trims: vec![(5, "left")],
            short_headers: vec![(6, "RQ")],
            stack: Some(Stack {
                columns: &[2, 3, 4],
                header: "KIND LOCAL → REMOTE",
                join: |cells| cells.join(" "),
                indent_after: 1,
            }),
        };
        let mut fitted_at = Vec::new();
        for width in (20..=100).rev() {
            let fitted = fit(&header, &rows, width, &rules);
            if !fitted.fits {
                break;
            }
            fitted_at.push(width);
            let lines: Vec<&str> = fitted
                .rows
                .iter()
                .flatten()
                .flat_map(|cell| cell.lines())
                .collect();
            for whole in ["(was fd 4)", "(from fd 3)"] {
                assert!(lines.contains(&whole), "{width}: {whole}: {fitted:#?}");
            }
            for state in ["TIME_WAIT 59s", "FIN_WAIT2 60s"] {
                assert!(
                    lines.iter().any(|line| line.starts_with(state)),
                    "{width}: {state}: {fitted:#?}"
                );
            }
        }
        // Narrow enough, the state loses its `left` and the table its wide gaps; the narrowest
        // readable form is stacked.
        assert!(
            fitted_at.contains(&80) && fitted_at.contains(&40),
            "{fitted_at:?}"
        );
        let fitted = fit(&header, &rows, 80, &rules);
        assert_eq!(fitted.rows[1][5], "TIME_WAIT 59s");
        assert_eq!(fitted.height(1), 1, "{fitted:#?}");
        assert!(fit(&header, &rows, 40, &rules).under.is_some());
    }

    #[test]
    fn elision_keeps_the_width_and_the_file_name() {
        let path = "/run/user/1000/some/really/long/directory/peer.sock";
        for width in [10, 20, 30] {
            let elided = elide_middle(path, width);
            assert!(display_width(&elided) <= width, "{elided}");
            assert!(elided.contains('…'));
        }
        assert_eq!(elide_middle(path, 30), "/run/…/directory/peer.sock");
        assert_eq!(
            elide_middle("@abstract-name-that-is-long", 12),
            "@ab…-is-long"
        );
        assert_eq!(elide_end("a-rather-long-name", 8), "a-rathe…");
        assert_eq!(wrap_words("a bb ccc", 4), "a bb\nccc");
        assert_eq!(wrap_words("toolongword x", 4), "toolongword\nx");
        assert_eq!(wrap_words("(from fd 4)", 8), "(from fd 4)");
        assert_eq!(
            wrap_words("127.0.0.1:8080 ↔ fd 5", 16),
            "127.0.0.1:8080\n↔ fd 5"
        );
    }
}
