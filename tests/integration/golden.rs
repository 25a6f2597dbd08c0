//! Golden transcripts: every `scripts/examples/*.sock` replayed as
//! `sockplay --panel below --color never FILE`, its whole stdout compared with
//! `tests/golden/NAME.out` and its stderr with `tests/golden/NAME.err` (no file: stderr is empty),
//! and its exit status required to be 0. Any change to what a replay prints, however small, shows
//! up here as a line diff.
//!
//! Refreshing after an intended change of output: `SOCKPLAY_BLESS=1 cargo test golden` rewrites
//! every transcript from a fresh run (and removes an `.err` file whose stderr became empty, and
//! the transcripts of scripts that are gone); then review `git diff tests/golden` and commit it.
//! A new example script needs its line in `golden_transcripts!` below (a test says so). Blessing
//! refuses a script that no longer exits with status 0: a broken example is fixed, not recorded.
//!
//! What makes a run repeatable:
//! - stdin is /dev/null, stdout and stderr are pipes, and the only fds open at the start are
//!   0, 1 and 2 (the `Test` builder), so the panels list the same fds every time;
//! - `COLUMNS` is 200 (what sockplay reads when stdout is not a terminal): wide enough that no
//!   panel row wraps whatever widths the kernel's numbers take, so wrapping never depends on them;
//!   `--color never` and `NO_COLOR` keep escape codes out;
//! - each run holds the lock of the scripts that bind fixed Unix addresses (`unix.sock`,
//!   `fd-passing.sock`), which other tests also replay;
//! - tables the renderer laid side by side (several processes) are put one under the other
//!   ([`one_table_a_row`]): how many fit on a row depends on how many digits the kernel's
//!   numbers have;
//! - [`crate::transcript::Normaliser`] replaces what the kernel and the machine choose (ports,
//!   inodes, the hard fd limit, paths, other processes' sockets in `ss`) and table padding, as
//!   its documentation explains. Each stand-in is numbered by first appearance, so a port shared
//!   by two rows is still shared in the transcript.
//!
//! Timing: on loopback the peer's side of a handshake, a FIN or an RST happens within the call
//! that sends it, so every panel shows a state the kernel reached before the command returned;
//! the one thing the peer's kernel may do a moment later, a delayed ACK of a FIN, is waited for
//! by sockplay itself (after `shutdown`, and in the snapshot after a `close` or a process's end),
//! so the transcripts need no settling of their own. One number depends on the clock: the time
//! a TIME_WAIT still holds a port, in a hint of address-in-use.sock, rounded to the second (60 s
//! on an idle machine, 59 s when the bind comes half a second late); [`settle_clock`] keeps 60.

use std::path::{Path, PathBuf};

use crate::support::{fixed_addresses, repo_path, Output, Test};
use crate::transcript::{line_diff, realign_tables, Normaliser};

/// The terminal width the replays are rendered for (see the module's documentation).
const WIDTH: &str = "200";

/// Set to `1` to rewrite the transcripts instead of comparing with them.
const BLESS: &str = "SOCKPLAY_BLESS";

fn blessing() -> bool {
    std::env::var(BLESS).is_ok_and(|value| value == "1")
}

fn golden_dir() -> PathBuf {
    repo_path("tests/golden")
}

/// The soft and hard limits on open fds this process (and so every sockplay it starts) has.
fn fd_limits() -> (u64, u64) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one `rlimit` through the pointer, which is valid for the call.
    let got = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    assert_eq!(got, 0, "getrlimit: {}", std::io::Error::last_os_error());
    (limit.rlim_cur, limit.rlim_max)
}

/// The normaliser for one replay: the common stand-ins, plus the paths of the repository and
/// the run's directory and the machine's hard fd limit (which `ulimit nofile N` prints).
fn normaliser(output: &Output) -> Normaliser {
    let (_, hard) = fd_limits();
    let mut repository = repo_path("").display().to_string();
    if !repository.ends_with('/') {
        repository.push('/');
    }
    Normaliser::new()
        .replacing(repository, "")
        .replacing(output.dir.path().display().to_string(), "$DIR")
        .replacing(format!("max={hard}}}"), "max=HARD}")
}

/// Replays `scripts/examples/NAME.sock` and returns its normalised stdout, stderr and the run.
fn replay(name: &str) -> (String, String, Output) {
    let _addresses = fixed_addresses();
    let script = repo_path(&format!("scripts/examples/{name}.sock"));
    let output = Test::new()
        .env("COLUMNS", WIDTH)
        .args(["--panel", "below", "--color", "never"])
        .arg(&script)
        .run_unchecked();
    let mut normaliser = normaliser(&output);
    let stdout = settle_clock(&normaliser.normalise(&one_table_a_row(&output.stdout)));
    let stderr = normaliser.normalise(&output.stderr);
    (stdout, stderr, output)
}

/// `stdout` with the time left of a TIME_WAIT in a hint written as 60 s (see the module's
/// documentation).
fn settle_clock(stdout: &str) -> String {
    let left = regex::Regex::new(r"for about \d+ s more").expect("pattern");
    left.replace_all(stdout, "for about 60 s more").into_owned()
}

/// `stdout` with the tables laid side by side (several processes' panels) put one under the
/// other, a blank line between them, each cut at the column its title starts at.
///
/// How many tables fit on a row depends on how wide the kernel's numbers are (an inode of eight
/// digits where it had seven widens a column): put one under the other, the tables read the same
/// whatever the renderer chose, and each is laid out again on its own by the normaliser.
fn one_table_a_row(stdout: &str) -> String {
    let lines: Vec<&str> = stdout.split('\n').collect();
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let starts = title_columns(line);
        if starts.len() < 2 {
            out.push(line.to_string());
            i += 1;
            continue;
        }
        // The row of tables: its title line and every line up to a blank one, a line in
        // parentheses (sockplay's own fds), a prompt or the next row's titles.
        let mut end = i + 1;
        while end < lines.len()
            && !lines[end].trim().is_empty()
            && !lines[end].starts_with('(')
            && !lines[end].starts_with("sockplay")
            && title_columns(lines[end]).is_empty()
        {
            end += 1;
        }
        for (k, &start) in starts.iter().enumerate() {
            if k > 0 {
                out.push(String::new());
            }
            let stop = starts.get(k + 1).copied();
            let mut table: Vec<String> = lines[i..end]
                .iter()
                .map(|row| {
                    let cell: String = row
                        .chars()
                        .skip(start)
                        .take(stop.map_or(usize::MAX, |stop| stop - start))
                        .collect();
                    cell.trim_end().to_string()
                })
                .collect();
            // A table with fewer rows than the row's longest ends early.
            while table.last().is_some_and(String::is_empty) {
                table.pop();
            }
            out.extend(table);
        }
        i = end;
    }
    out.join("\n")
}

/// The columns (in characters) where the table titles of a row of tables start: `── NAME (pid`.
fn title_columns(line: &str) -> Vec<usize> {
    let title = regex::Regex::new(r"── \S+ \(pid \d+").expect("pattern");
    if !line.starts_with("── ") {
        return Vec::new();
    }
    title
        .find_iter(line)
        .map(|found| line[..found.start()].chars().count())
        .collect()
}

/// Replays `NAME.sock` and compares it with its transcript, or rewrites the transcript when
/// blessing.
fn check(name: &str) {
    let (stdout, stderr, output) = replay(name);
    assert_eq!(
        output.status.code(),
        Some(0),
        "scripts/examples/{name}.sock must replay cleanly\n{}",
        output.report()
    );
    let out_path = golden_dir().join(format!("{name}.out"));
    let err_path = golden_dir().join(format!("{name}.err"));
    if blessing() {
        write(&out_path, &stdout);
        if stderr.is_empty() {
            remove(&err_path);
        } else {
            write(&err_path, &stderr);
        }
        return;
    }
    let expected_out = std::fs::read_to_string(&out_path).unwrap_or_else(|e| {
        panic!(
            "no transcript {} ({e}); make it with `{BLESS}=1 cargo test golden`",
            out_path.display()
        )
    });
    let expected_err = std::fs::read_to_string(&err_path).unwrap_or_default();
    let mut problems = String::new();
    if let Some(diff) = line_diff(&expected_out, &stdout) {
        problems.push_str(&format!(
            "stdout differs from {} (- expected, + this run):\n{diff}",
            out_path.display()
        ));
    }
    if let Some(diff) = line_diff(&expected_err, &stderr) {
        problems.push_str(&format!(
            "stderr differs from {} (- expected, + this run):\n{diff}",
            err_path.display()
        ));
    }
    assert!(
        problems.is_empty(),
        "scripts/examples/{name}.sock no longer prints its transcript.\n{problems}\
         If the change is intended: `{BLESS}=1 cargo test golden`, then review `git diff tests/golden`."
    );
}

/// Writes a transcript whole: to a file beside it, then renamed over it, so a test reading it
/// meanwhile sees the old one or the new one, never half of one.
fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(golden_dir()).expect("create tests/golden");
    let mut partial = path.as_os_str().to_owned();
    partial.push(".new");
    std::fs::write(&partial, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    std::fs::rename(&partial, path)
        .unwrap_or_else(|e| panic!("rename over {}: {e}", path.display()));
}

fn remove(path: &Path) {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => panic!("remove {}: {e}", path.display()),
    }
}

/// One test per example script, and the list of their names.
macro_rules! golden_transcripts {
    ($($test:ident => $script:literal,)*) => {
        /// The example scripts that have a golden transcript.
        const SCRIPTS: &[&str] = &[$($script),*];
        $(
            #[test]
            fn $test() {
                check($script);
            }
        )*
    };
}

golden_transcripts! {
    accept_queue => "accept-queue",
    address_in_use => "address-in-use",
    calls_as_the_kernel_answers => "calls-as-the-kernel-answers",
    close_fin_or_rst => "close-fin-or-rst",
    close_wait_emfile => "close-wait-emfile",
    errors_tour => "errors-tour",
    fd_passing => "fd-passing",
    fileno_makefile_detach => "fileno-makefile-detach",
    half_close => "half-close",
    http_by_hand => "http-by-hand",
    multiplexing => "multiplexing",
    options => "options",
    processes => "processes",
    quick_tour => "quick-tour",
    stale_socket_file => "stale-socket-file",
    reuse_a_closed_port => "reuse-a-closed-port",
    tcp_server_client => "tcp-server-client",
    udp => "udp",
    unix => "unix",
}

/// The names of the files in `dir` that end in `.extension`, without it, sorted.
fn stems(dir: &Path, extension: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == extension))
        .filter_map(|path| path.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    names.sort();
    names
}

#[test]
fn every_example_script_has_a_golden_transcript_and_every_transcript_a_script() {
    let scripts = stems(&repo_path("scripts/examples"), "sock");
    let mut listed: Vec<String> = SCRIPTS.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(
        listed, scripts,
        "golden_transcripts! in tests/integration/golden.rs lists every scripts/examples/*.sock"
    );
    if blessing() {
        // Transcripts of scripts that are gone go with them.
        for extension in ["out", "err"] {
            for stale in stems(&golden_dir(), extension) {
                if !scripts.contains(&stale) {
                    remove(&golden_dir().join(format!("{stale}.{extension}")));
                }
            }
        }
        return;
    }
    assert_eq!(
        stems(&golden_dir(), "out"),
        scripts,
        "tests/golden holds one NAME.out per example script"
    );
    for stray in stems(&golden_dir(), "err") {
        assert!(
            scripts.contains(&stray),
            "tests/golden/{stray}.err belongs to no example script"
        );
    }
}

#[test]
fn laying_out_the_tables_again_reproduces_what_the_renderer_drew() {
    // The transcripts show tables as the normaliser lays them out; on unchanged text that layout
    // must be the renderer's own, or the transcripts would not look like sockplay's output.
    for name in ["accept-queue", "fd-passing", "unix"] {
        let _addresses = fixed_addresses();
        let output = Test::new()
            .env("COLUMNS", WIDTH)
            .args(["--panel", "below", "--color", "never"])
            .arg(repo_path(&format!("scripts/examples/{name}.sock")))
            .run();
        if let Some(diff) = line_diff(&output.stdout, &realign_tables(&output.stdout)) {
            panic!("{name}: the tables laid out again differ (- drawn, + laid out again):\n{diff}");
        }
    }
}
