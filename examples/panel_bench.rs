//! Times one panel refresh (FD snapshot, diff, render) with N open listening sockets against one
//! `ss -tan` listing the same sockets, in the same run. Used by scripts/bench.sh; prints one JSON
//! object per N: `{"sockets": N, "refresh_ms": …, "full_table_ms": …, "ss_ms": …}`.

// Prints only numbers it measured, for a script to read.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::Instant;

use sockplay::fdtable::{Labels, Observed, Observer};
use sockplay::render::{changes, diff_pending, panel_lines_of, PanelOptions};

/// Runs of each measurement; the median is reported.
const RUNS: usize = 15;

fn median_ms(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// One refresh as the REPL does it: snapshot, diff against the last one, render for a screen.
fn refresh(
    observer: &mut Observer,
    previous: &sockplay::fdtable::Snapshot,
    max_rows: Option<usize>,
) -> (f64, usize) {
    let start = Instant::now();
    let now = observer.snapshot();
    let changes = changes(previous, &now);
    let rows = changes.rows(previous, &now);
    let pending = diff_pending(previous, &now);
    let options = PanelOptions {
        width: 160,
        color: false,
        max_rows,
        compact: false,
    };
    let lines = panel_lines_of(&rows, &pending, &Labels::default(), &options);
    (start.elapsed().as_secs_f64() * 1000.0, lines.len())
}

fn ss_ms() -> f64 {
    let start = Instant::now();
    let status = Command::new("ss")
        .arg("-tan")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    match status {
        Ok(s) if s.success() => start.elapsed().as_secs_f64() * 1000.0,
        _ => f64::NAN,
    }
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![1000, 10_000]
    } else {
        sizes
    };
    if let Ok((_, hard)) =
        nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
    {
        let _ =
            nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE, hard, hard);
    }
    let mut listeners = Vec::new();
    let mut observer = Observer::new(Observed::ThisProcess);
    for n in sizes {
        while listeners.len() < n {
            match TcpListener::bind("127.0.0.1:0") {
                Ok(listener) => listeners.push(listener),
                Err(e) => {
                    eprintln!("panel_bench: stopped at {} sockets: {e}", listeners.len());
                    return;
                }
            }
        }
        let previous = observer.snapshot();
        // A terminal of 50 rows: what one refresh at the prompt renders.
        let refresh_ms = median_ms(
            (0..RUNS)
                .map(|_| refresh(&mut observer, &previous, Some(50)).0)
                .collect(),
        );
        let full_table_ms = median_ms(
            (0..RUNS)
                .map(|_| refresh(&mut observer, &previous, None).0)
                .collect(),
        );
        let ss = median_ms((0..RUNS).map(|_| ss_ms()).collect());
        println!(
            "{{\"sockets\": {n}, \"refresh_ms\": {refresh_ms:.3}, \"full_table_ms\": {full_table_ms:.3}, \"ss_ms\": {ss:.3}}}"
        );
    }
}
