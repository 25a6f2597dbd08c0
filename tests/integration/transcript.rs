//! Making a transcript comparable across runs, and showing how two transcripts differ.
//!
//! A replay prints the same text every time except for what the kernel or the machine chooses:
//! port numbers, inode numbers, pty numbers, pids, the hard fd limit, the time left of a timer,
//! the paths of the repository and of the run's directory, and, in `ss`, the sockets of every
//! other process on the machine. [`Normaliser`] replaces each of those with a stable stand-in:
//!
//! - Each distinct port becomes `P1`, `P2`, … in order of first appearance (port 0 stays `0`, as
//!   typed), so rows that share a port still share it after normalising; inodes become `I1`, …,
//!   pty numbers `/dev/pts/T1`, …, a time left `Ts left`, and pids `N1`, … wherever a process's
//!   pid shows: `pid 1234` (titles, sentences), `fork() = 1234`, `in the child (1234)`,
//!   `kill(1234, …)` and the PID column of `ps`, whose table is then padded again (as the
//!   engine pads it: one space between cells).
//! - `ss` tables keep only this process's rows (FD cell not `-`) and the connections queued under
//!   them, in a stable order: the kernel dumps sockets in hash order.
//! - Table padding depends on the widest cell, which the numbers above change, and the table is
//!   laid out before anything can be normalised. So every table (a header line, a rule of `─`,
//!   and the lines after it up to the next prompt or blank line) is laid out again: its lines are
//!   cut into cells at runs of two or more spaces (the renderer puts at least two between cells
//!   and never two inside one; the panel's one-character change mark is a cell of its own), each
//!   column is padded to its widest normalised cell (FD and the queue sizes right-aligned, as the
//!   renderer draws them) and the rule redrawn to the new width. A line that does not cut into as
//!   many cells as its header (a wrapped cell, a summary sentence under an `ss` table) keeps its
//!   cells, two spaces apart; a line in parentheses (the one that names sockplay's own fds) ends
//!   the table and is kept as it is. The text of every cell stays exact; where the renderer
//!   placed the columns is not compared, which its own tests check.
//!
//! Everything else is kept byte for byte.

use std::collections::HashMap;

use regex::{Captures, Regex};

/// The headers of the queue sizes, which the renderer right-aligns (as the panel's FD column).
const QUEUE_SIZES: [&str; 4] = ["RECV-Q", "SEND-Q", "Recv-Q", "Send-Q"];

/// What separates the cells of a table row after normalising.
const CELL_GAP: &str = "  ";

/// Numbers the distinct values of one kind in order of first appearance: `P1`, `P2`, ….
#[derive(Debug, Default)]
struct Numbering {
    prefix: &'static str,
    seen: HashMap<String, usize>,
}

impl Numbering {
    fn new(prefix: &'static str) -> Numbering {
        Numbering {
            prefix,
            seen: HashMap::new(),
        }
    }

    fn name(&mut self, value: &str) -> String {
        let next = self.seen.len() + 1;
        let number = *self.seen.entry(value.to_string()).or_insert(next);
        format!("{}{number}", self.prefix)
    }
}

/// Replaces what legitimately varies between runs; one normaliser per run, used for its stdout
/// and then its stderr, so a port named `P2` in one is `P2` in the other.
#[derive(Debug)]
pub struct Normaliser {
    literals: Vec<(String, String)>,
    ports: Numbering,
    inodes: Numbering,
    ptys: Numbering,
    pids: Numbering,
}

impl Default for Normaliser {
    fn default() -> Self {
        Normaliser::new()
    }
}

impl Normaliser {
    pub fn new() -> Normaliser {
        Normaliser {
            literals: Vec::new(),
            ports: Numbering::new("P"),
            inodes: Numbering::new("I"),
            ptys: Numbering::new("T"),
            pids: Numbering::new("N"),
        }
    }

    /// Also replaces every `from` with `to` (before anything else), for text that depends on the
    /// machine: a directory, a limit.
    pub fn replacing(mut self, from: impl Into<String>, to: impl Into<String>) -> Normaliser {
        let from = from.into();
        if !from.is_empty() {
            self.literals.push((from, to.into()));
        }
        self
    }

    /// `text` with every varying part replaced (see the module's documentation).
    pub fn normalise(&mut self, text: &str) -> String {
        let mut text = text.to_string();
        for (from, to) in &self.literals {
            text = text.replace(from.as_str(), to);
        }
        // Other processes' sockets go before numbering, or their ports would take numbers.
        let text = map_ss_tables(&text, keep_own_rows);
        let text = self.number(&text);
        let text = map_ss_tables(&text, sort_rows);
        // Tables side by side are titled on one line, spaced by the length of the real pids.
        let gaps = regex(" {2,}");
        let text: Vec<String> = text
            .split('\n')
            .map(|line| match line.starts_with("── ") {
                true => gaps.replace_all(line, "    ").into_owned(),
                false => line.to_string(),
            })
            .collect();
        realign_tables(&text.join("\n"))
    }

    fn number(&mut self, text: &str) -> String {
        let port = regex(r"(\b\d{1,3}(?:\.\d{1,3}){3}|\]|\blocalhost):(\d{1,5})\b");
        let inode = regex(r"\b(pipe|socket):\[(\d+)\]|\b(inode) (\d+)\b");
        let pty = regex(r"/dev/pts/(\d+)\b");
        let pid = regex(r"(\bpid[ =]|\bfork\(\) = |\bin the child \(|\bkill\()(\d+)\b");
        let time_left = regex(r"\b\d+(?:\.\d+)? ?(ms|s) left\b");
        // sockplay's own fds sit just below the fd limit, which differs between machines.
        let own = regex(r"\([^()']+'s own[^)]*\)");
        let fd = regex(r"\bfd \d+");
        let text = own.replace_all(text, |c: &Captures| {
            fd.replace_all(&c[0], "fd TOP").into_owned()
        });
        let text = port.replace_all(&text, |c: &Captures| {
            if &c[2] == "0" {
                c[0].to_string()
            } else {
                format!("{}:{}", &c[1], self.ports.name(&c[2]))
            }
        });
        let text = inode.replace_all(&text, |c: &Captures| match (c.get(1), c.get(2)) {
            (Some(kind), Some(number)) => {
                format!("{}:[{}]", kind.as_str(), self.inodes.name(number.as_str()))
            }
            _ => format!("{} {}", &c[3], self.inodes.name(&c[4])),
        });
        let text = pty.replace_all(&text, |c: &Captures| {
            format!("/dev/pts/{}", self.ptys.name(&c[1]))
        });
        let text = pid.replace_all(&text, |c: &Captures| {
            format!("{}{}", &c[1], self.pids.name(&c[2]))
        });
        let text = self.ps_tables(&text);
        time_left
            .replace_all(&text, |c: &Captures| format!("T{} left", &c[1]))
            .into_owned()
    }
}

impl Normaliser {
    /// Each `ps` table (its header `NAME PID PARENT STATE`, then its rows up to the next prompt
    /// or blank line) with its pids numbered and its columns padded again.
    fn ps_tables(&mut self, text: &str) -> String {
        let header = regex(r"^ +NAME +PID +PARENT +STATE$");
        let row = regex(r"^([* ]) (\S+) +(\d+) +(\S+) +(\S.*)$");
        let mut out = String::new();
        let mut rows: Vec<[String; 5]> = Vec::new();
        let mut in_table = false;
        for line in text.split_inclusive('\n') {
            let bare = line.trim_end_matches('\n');
            if header.is_match(bare) {
                flush_ps(&mut out, &mut rows);
                rows.push(["", "NAME", "PID", "PARENT", "STATE"].map(str::to_string));
                in_table = true;
                continue;
            }
            if in_table {
                if let Some(c) = row.captures(bare) {
                    rows.push([
                        c[1].to_string(),
                        c[2].to_string(),
                        self.pids.name(&c[3]),
                        c[4].to_string(),
                        c[5].to_string(),
                    ]);
                    continue;
                }
                in_table = false;
                flush_ps(&mut out, &mut rows);
            }
            out.push_str(line);
        }
        flush_ps(&mut out, &mut rows);
        out
    }
}

/// Writes a `ps` table's rows (header first), each column as wide as its widest cell.
fn flush_ps(out: &mut String, rows: &mut Vec<[String; 5]>) {
    let widths: Vec<usize> = (0..5)
        .map(|column| {
            rows.iter()
                .map(|row| row[column].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in rows.drain(..) {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:width$}"))
            .collect();
        out.push_str(cells.join(" ").trim_end());
        out.push('\n');
    }
}

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|e| panic!("bad pattern {pattern:?}: {e}"))
}

/// Whether `line` is the rule under a table header.
fn is_rule(line: &str) -> bool {
    line.chars().count() >= 3 && line.chars().all(|c| c == '─')
}

/// Whether `line` ends a table: a prompt (of any process), a blank line, or a sentence in
/// parentheses under it (which of the process's fds are sockplay's own).
fn ends_table(line: &str) -> bool {
    line.trim().is_empty()
        || (line.starts_with("sockplay") && line.contains("> "))
        || line.starts_with('(')
}

/// The text a step printed, from its prompt line up to the next prompt.
pub fn step_text<'t>(text: &'t str, input: &str) -> &'t str {
    let prompt = format!("sockplay> {input}\n");
    let start = text
        .find(&prompt)
        .unwrap_or_else(|| panic!("no step `{input}` in\n{text}"));
    let rest = &text[start + prompt.len()..];
    &rest[..rest.find("sockplay> ").unwrap_or(rest.len())]
}

/// Settles the timing-dependent rows of what a `close` leaves of a connection whose peer still
/// holds its end.
///
/// The FIN reaches the peer within the call, but the peer's kernel delays its ACK, so the row of
/// the connection left behind (`(from fd N)`, `(was fd N)`) is drawn in FIN_WAIT1 with the FIN
/// counted in SEND-Q (1) on an idle machine, and in FIN_WAIT2 with its time left (SEND-Q 0)
/// once the ACK came, which can be several steps later or already in the step of the close. The
/// transcript keeps FIN_WAIT2: each such FIN_WAIT1 row is written as `FIN_WAIT2 Ts left`, SEND-Q
/// 0, and a change mark `~` on such a row that marks nothing else (the row of the step before
/// was the same, once settled) is dropped. The tables are laid out again afterwards.
pub fn settle_left_fins(stdout: &str) -> String {
    let mut before: HashMap<Vec<String>, Vec<String>> = HashMap::new();
    let lines: Vec<String> = stdout
        .split('\n')
        .map(|line| {
            let mut chars = line.chars();
            let Some(mark) = chars.next() else {
                return line.to_string();
            };
            let mut cells: Vec<String> = chars
                .as_str()
                .split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect();
            let left_behind = cells.len() >= 8
                && cells[0] == "·"
                && (cells[1].starts_with("(from fd ") || cells[1].starts_with("(was fd "));
            if !left_behind || !matches!(mark, ' ' | '+' | '~') {
                return line.to_string();
            }
            if cells[5] == "FIN_WAIT1" && cells[7] == "1" {
                cells[5] = "FIN_WAIT2 Ts left".to_string();
                cells[7] = "0".to_string();
            }
            // The row's identity: the fd it came from and its two addresses; what its mark
            // compares: its state and queues.
            let fd = cells[1].trim_start_matches(|c: char| !c.is_ascii_digit());
            let remote = cells[4].split(" ↔").next().unwrap_or_default();
            let key = vec![fd.to_string(), cells[3].clone(), remote.to_string()];
            let compared = cells[5..8].to_vec();
            let mark = match before.insert(key, compared.clone()) {
                Some(previous) if mark == '~' && previous == compared => ' ',
                _ => mark,
            };
            format!("{mark}  {}", cells.join("  "))
        })
        .collect();
    realign_tables(&lines.join("\n"))
}

/// Lays every table out again from its normalised cells (see the module's documentation).
pub fn realign_tables(text: &str) -> String {
    let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    let mut i = 1;
    while i < lines.len() {
        if !is_rule(&lines[i]) {
            i += 1;
            continue;
        }
        let mut end = i + 1;
        while end < lines.len() && !ends_table(&lines[end]) {
            end += 1;
        }
        let header = i - 1;
        // The panel's first column is its one-character change mark, with its header empty and
        // one space after it; every other gap is two spaces or more.
        let marked = lines[header].starts_with(' ');
        let block: Vec<usize> = (header..end).filter(|&k| k != i).collect();
        let cells: Vec<Vec<String>> = block.iter().map(|&k| cut(&lines[k], marked)).collect();
        let columns = cells[0].len();
        let laid: Vec<&Vec<String>> = cells.iter().filter(|c| c.len() == columns).collect();
        let width = |column: usize| {
            laid.iter()
                .map(|row| row[column].chars().count())
                .max()
                .unwrap_or(0)
        };
        let mut widths: Vec<usize> = (0..columns).map(width).collect();
        if marked {
            // The mark column keeps its one character of width when no row has a mark.
            widths[0] = widths[0].max(1);
        }
        let right: Vec<bool> = cells[0]
            .iter()
            .map(|title| QUEUE_SIZES.contains(&title.as_str()) || (marked && title == "FD"))
            .collect();
        let gap = |column: usize| if marked && column == 1 { " " } else { CELL_GAP };
        for (&k, row) in block.iter().zip(&cells) {
            lines[k] = if row.len() == columns {
                let padded: Vec<String> = row
                    .iter()
                    .enumerate()
                    .map(|(column, cell)| {
                        let pad = " ".repeat(widths[column] - cell.chars().count());
                        if right[column] {
                            format!("{pad}{cell}")
                        } else {
                            format!("{cell}{pad}")
                        }
                    })
                    .collect();
                join(&padded, gap).trim_end().to_string()
            } else {
                join(row, gap)
            };
        }
        let total =
            widths.iter().sum::<usize>() + (1..columns).map(|c| gap(c).len()).sum::<usize>();
        lines[i] = "─".repeat(total);
        i = end;
    }
    lines.join("\n")
}

/// The cells of a table line: cut at runs of two or more spaces, and, in a `marked` table, the
/// first character (the change mark, or a space for none) a cell of its own.
fn cut(line: &str, marked: bool) -> Vec<String> {
    let mut cells = Vec::new();
    let mut rest = line;
    if marked {
        let mark = line.chars().next().unwrap_or(' ');
        cells.push(mark.to_string().trim().to_string());
        rest = line[mark.len_utf8()..].trim_start();
    }
    cells.extend(
        rest.split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string),
    );
    cells
}

/// `cells` joined with `gap(column)` before each column after the first.
fn join(cells: &[String], gap: impl Fn(usize) -> &'static str) -> String {
    let mut line = String::new();
    for (column, cell) in cells.iter().enumerate() {
        if column > 0 {
            line.push_str(gap(column));
        }
        line.push_str(cell);
    }
    line
}

/// The cells of an `ss` row: Netid, State, Recv-Q, Send-Q, Local, Peer, FD.
const SS_CELLS: usize = 7;

/// Applies `change` to the rows of every `ss` table in `text` (the lines after its rule that
/// split into [`SS_CELLS`] cells); the lines around them stay as they are.
fn map_ss_tables(text: &str, change: fn(Vec<&str>) -> Vec<&str>) -> String {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut out: Vec<&str> = Vec::with_capacity(lines.len());
    let mut i = 0;
    while i < lines.len() {
        out.push(lines[i]);
        let is_ss_header =
            lines[i].starts_with("Netid ") && lines.get(i + 1).is_some_and(|next| is_rule(next));
        i += 1;
        if !is_ss_header {
            continue;
        }
        out.push(lines[i]);
        i += 1;
        let start = i;
        while i < lines.len() && ss_cells(lines[i]).len() == SS_CELLS {
            i += 1;
        }
        out.extend(change(lines[start..i].to_vec()));
    }
    out.join("\n")
}

fn ss_cells(line: &str) -> Vec<&str> {
    line.split("  ")
        .map(str::trim)
        .filter(|cell| !cell.is_empty())
        .collect()
}

/// Whether an `ss` row is a connection queued under the listener above it.
fn is_nested(row: &str) -> bool {
    row.starts_with('└')
}

/// The rows of this process, each with the connections queued under it.
fn keep_own_rows(rows: Vec<&str>) -> Vec<&str> {
    let mut kept = Vec::new();
    let mut keeping = false;
    for row in rows {
        if !is_nested(row) {
            let fd = ss_cells(row).last().copied().unwrap_or("-");
            keeping = fd != "-" && fd != "(queued)";
        }
        if keeping {
            kept.push(row);
        }
    }
    kept
}

/// The rows in a stable order: each group (a row and the rows nested under it) by its first
/// line's FD cell, then text; the nested rows of a group by their text.
fn sort_rows(rows: Vec<&str>) -> Vec<&str> {
    let mut groups: Vec<Vec<&str>> = Vec::new();
    for row in rows {
        match groups.last_mut() {
            Some(group) if is_nested(row) => group.push(row),
            _ => groups.push(vec![row]),
        }
    }
    for group in &mut groups {
        group[1..].sort_unstable();
    }
    let key = |row: &str| {
        let fd = ss_cells(row)
            .last()
            .copied()
            .unwrap_or_default()
            .to_string();
        let number: u64 = fd
            .split(|c: char| !c.is_ascii_digit())
            .find(|part| !part.is_empty())
            .and_then(|part| part.parse().ok())
            .unwrap_or(u64::MAX);
        (number, row.to_string())
    };
    groups.sort_by_cached_key(|group| key(group[0]));
    groups.concat()
}

/// A line diff of `expected` and `actual` (`-` expected only, `+` actual only), with a few lines
/// of context around each change, or None when they are equal.
pub fn line_diff(expected: &str, actual: &str) -> Option<String> {
    if expected == actual {
        return None;
    }
    let old: Vec<&str> = expected.split('\n').collect();
    let new: Vec<&str> = actual.split('\n').collect();
    // Longest common subsequence, from the end: common[i][j] for old[i..] and new[j..].
    let mut common = vec![vec![0usize; new.len() + 1]; old.len() + 1];
    for i in (0..old.len()).rev() {
        for j in (0..new.len()).rev() {
            common[i][j] = if old[i] == new[j] {
                common[i + 1][j + 1] + 1
            } else {
                common[i + 1][j].max(common[i][j + 1])
            };
        }
    }
    let mut ops: Vec<(char, &str, usize)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < old.len() || j < new.len() {
        if i < old.len() && j < new.len() && old[i] == new[j] {
            ops.push((' ', old[i], i + 1));
            i += 1;
            j += 1;
        } else if i < old.len() && (j == new.len() || common[i + 1][j] >= common[i][j + 1]) {
            ops.push(('-', old[i], i + 1));
            i += 1;
        } else {
            ops.push(('+', new[j], i + 1));
            j += 1;
        }
    }
    const CONTEXT: usize = 3;
    let changed: Vec<usize> = (0..ops.len()).filter(|&k| ops[k].0 != ' ').collect();
    let near = |k: usize| changed.iter().any(|&c| c.abs_diff(k) <= CONTEXT);
    let mut out = String::new();
    let mut skipped = false;
    for (k, (mark, line, number)) in ops.iter().enumerate() {
        if near(k) {
            if skipped || out.is_empty() {
                out.push_str(&format!("@@ expected line {number} @@\n"));
            }
            out.push_str(&format!("{mark} {line}\n"));
            skipped = false;
        } else {
            skipped = true;
        }
    }
    Some(out)
}

#[test]
fn ports_are_numbered_by_first_appearance_and_stay_related() {
    let mut normaliser = Normaliser::new();
    let text = "bind(3, 127.0.0.1:0) = 0\nbound to 127.0.0.1:40001\n\
                connect(4, [::1]:40001) = 0  from 127.0.0.1:51515\n";
    assert_eq!(
        normaliser.normalise(text),
        "bind(3, 127.0.0.1:0) = 0\nbound to 127.0.0.1:P1\n\
         connect(4, [::1]:P1) = 0  from 127.0.0.1:P2\n"
    );
    // The numbering goes on across calls: stderr names the ports as stdout did.
    assert_eq!(
        normaliser.normalise("t.sock:3: 127.0.0.1:51515 and 127.0.0.1:6"),
        "t.sock:3: 127.0.0.1:P2 and 127.0.0.1:P3"
    );
}

#[test]
fn inodes_ptys_pids_and_literals_get_stand_ins() {
    let mut normaliser = Normaliser::new()
        .replacing("/tmp/run-dir", "$DIR")
        .replacing("max=4096}", "max=HARD}");
    assert_eq!(
        normaliser.normalise(
            "pipe:[123] /dev/pts/7 pipe:[456] socket:[123] same inode 456 pid 99 pid=99 \
             /tmp/run-dir/x.sock {cur=8, max=4096} 59s left"
        ),
        "pipe:[I1] /dev/pts/T1 pipe:[I2] socket:[I1] same inode I2 pid N1 pid=N1 \
         $DIR/x.sock {cur=8, max=HARD} Ts left"
    );
}

#[test]
fn pids_are_numbered_wherever_a_process_shows_and_ps_is_padded_again() {
    let text = "\
sockplay> spawn alice
fork() = 4321
execve(\"sockplay\") = 0  in the child (4321): every close-on-exec fd closes
── main (pid 77, ready) ──
sockplay> ps
  NAME   PID  PARENT STATE
* main   77   -      ready
  alice  4321 main   blocked in accept(3)
sockplay> kill alice
kill(4321, SIGTERM) = 0
";
    assert_eq!(
        Normaliser::new().normalise(text),
        "\
sockplay> spawn alice
fork() = N1
execve(\"sockplay\") = 0  in the child (N1): every close-on-exec fd closes
── main (pid N2, ready) ──
sockplay> ps
  NAME  PID PARENT STATE
* main  N2  -      ready
  alice N1  main   blocked in accept(3)
sockplay> kill alice
kill(N1, SIGTERM) = 0
"
    );
}

#[test]
fn ss_keeps_this_process_rows_in_fd_order_and_lays_the_table_out_again() {
    let text = "\
sockplay> ss -t -l
Netid  State        Recv-Q  Send-Q  Local            Peer             FD
──────────────────────────────────────────────────────────────────────────────
tcp    LISTEN            0     128  0.0.0.0:2024     0.0.0.0:*        -
└ tcp  ESTABLISHED       0       0  0.0.0.0:2024     127.0.0.1:33333  (queued)
tcp    LISTEN            1       5  127.0.0.1:58275  0.0.0.0:*        4 b
└ tcp  ESTABLISHED       0       0  127.0.0.1:58275  127.0.0.1:39076  (queued)
tcp    LISTEN            0       5  127.0.0.1:40000  0.0.0.0:*        3 a
fd 4 (b): 1 connection waits in the accept queue (limit 5)
sockplay> fds";
    assert_eq!(
        Normaliser::new().normalise(text),
        "\
sockplay> ss -t -l
Netid  State        Recv-Q  Send-Q  Local         Peer          FD
────────────────────────────────────────────────────────────────────────
tcp    LISTEN            0       5  127.0.0.1:P3  0.0.0.0:*     3 a
tcp    LISTEN            1       5  127.0.0.1:P1  0.0.0.0:*     4 b
└ tcp  ESTABLISHED       0       0  127.0.0.1:P1  127.0.0.1:P2  (queued)
fd 4 (b): 1 connection waits in the accept queue (limit 5)
sockplay> fds"
    );
}

#[test]
fn a_panel_is_laid_out_as_the_renderer_draws_it_whatever_the_port_widths() {
    let drawn = "\
open fds: 5
  FD  NAME  KIND  LOCAL          REMOTE  STATE   RECV-Q  SEND-Q
───────────────────────────────────────────────────────────────
   2  -     pipe  pipe:[12999]   -       -            -       -
~  3  srv   tcp   127.0.0.1:123  -       LISTEN       0     128
+ 10  -     tcp   -              -       CLOSE        0       0
sockplay> ";
    assert_eq!(
        Normaliser::new().normalise(drawn),
        "\
open fds: 5
  FD  NAME  KIND  LOCAL         REMOTE  STATE   RECV-Q  SEND-Q
──────────────────────────────────────────────────────────────
   2  -     pipe  pipe:[I1]     -       -            -       -
~  3  srv   tcp   127.0.0.1:P1  -       LISTEN       0     128
+ 10  -     tcp   -             -       CLOSE        0       0
sockplay> "
    );
}

#[test]
fn the_line_naming_sockplays_own_fds_ends_the_table_with_its_numbers_normalised() {
    let drawn = "\
open fds: 4
  FD  NAME  KIND  LOCAL            REMOTE  STATE   RECV-Q  SEND-Q
─────────────────────────────────────────────────────────────────
   3  srv   tcp   127.0.0.1:40000  -       LISTEN       0     128
(sockplay's own: fd 4095 control channel, fd 4094 sock_diag — not shown)
sockplay> ";
    assert_eq!(
        Normaliser::new().normalise(drawn),
        "\
open fds: 4
  FD  NAME  KIND  LOCAL         REMOTE  STATE   RECV-Q  SEND-Q
──────────────────────────────────────────────────────────────
   3  srv   tcp   127.0.0.1:P1  -       LISTEN       0     128
(sockplay's own: fd TOP control channel, fd TOP sock_diag — not shown)
sockplay> "
    );
}

#[test]
fn the_line_diff_marks_what_changed_with_context() {
    assert_eq!(line_diff("a\nb\nc", "a\nb\nc"), None);
    assert_eq!(
        line_diff("1\n2\n3\n4\n5\n6\n7\n8\n9", "1\n2\n3\n4\n5\nsix\n7\n8\n9").as_deref(),
        Some("@@ expected line 3 @@\n  3\n  4\n  5\n- 6\n+ six\n  7\n  8\n  9\n")
    );
}
