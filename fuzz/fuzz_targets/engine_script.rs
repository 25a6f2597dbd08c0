//! Script text run for real: each input is written as a `.sock` file and replayed by
//! `sockplay::run` on real sockets (text and `--json` in turn), with sockplay's stdout and stderr
//! caught in a file. Nothing may panic, and no byte a terminal acts on may reach either stream: no
//! byte below 0x20 but newline and tab, no DEL, no C1 control, no bidi or invisible formatting
//! character — whatever the script names, sends or gets back.
//!
//! Scripts connect wherever their text says, so this target runs only in a private network
//! namespace whose one interface is loopback: `./run-engine.sh` starts it in one (`unshare` user +
//! net). Started anywhere else it stops at once.

#![no_main]

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use nix::sys::resource::{getrlimit, setrlimit, Resource};
use nix::unistd::dup;

/// The directory the scripts are written to and run in (their `./x.sock` binds land there).
fn workdir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // /proc/net/dev lists this process's network namespace (/sys/class/net is the mounter's).
        let interfaces: Vec<String> = std::fs::read_to_string("/proc/net/dev")
            .unwrap_or_default()
            .lines()
            .skip(2)
            .filter_map(|line| line.split(':').next())
            .map(|name| name.trim().to_string())
            .collect();
        assert!(
            interfaces == ["lo"],
            "engine_script runs only in a private network namespace with loopback alone \
             (found {interfaces:?}); start it with fuzz/run-engine.sh"
        );
        let dir = std::env::temp_dir().join(format!("sockplay-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a scratch directory");
        std::env::set_current_dir(&dir).expect("cd to the scratch directory");
        dir
    })
}

/// Whether `text` holds something a terminal would act on.
fn unsafe_for_a_terminal(text: &str) -> Option<char> {
    text.chars().find(|&c| {
        (c < ' ' && c != '\n' && c != '\t')
            || c == '\u{7f}'
            || ('\u{80}'..='\u{9f}').contains(&c)
            || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{061c}' | '\u{feff}')
    })
}

/// Runs sockplay on `script` with fds 1 and 2 sent to a file; returns the exit status and what
/// it wrote. The fd limit is put back afterwards (a script may lower it with `ulimit`).
fn run_caught(script: &PathBuf, json: bool) -> (i32, Vec<u8>) {
    let mut caught = tempfile_in(workdir());
    let limit = getrlimit(Resource::RLIMIT_NOFILE).expect("getrlimit");
    let saved_out = dup(std::io::stdout()).expect("dup stdout");
    let saved_err = dup(std::io::stderr()).expect("dup stderr");
    dup2_raw(caught.as_raw_fd(), 1);
    dup2_raw(caught.as_raw_fd(), 2);
    let mut args = vec!["sockplay", "--timeout", "0.05", "--panel", "below"];
    if json {
        args.push("--json");
    }
    let path = script.to_string_lossy().into_owned();
    args.push(&path);
    let status = sockplay::run(args.into_iter().map(Into::into));
    dup2_raw(saved_out.as_raw_fd(), 1);
    dup2_raw(saved_err.as_raw_fd(), 2);
    let _ = setrlimit(Resource::RLIMIT_NOFILE, limit.0, limit.1);
    let mut bytes = Vec::new();
    caught.seek(SeekFrom::Start(0)).expect("seek");
    caught.read_to_end(&mut bytes).expect("read what sockplay wrote");
    (status, bytes)
}

fn dup2_raw(from: i32, to: i32) {
    // SAFETY: dup2 on two open fds; `to` is 1 or 2, which this process owns throughout.
    let done = unsafe { libc::dup2(from, to) };
    assert_eq!(done, to, "dup2({from}, {to})");
}

fn tempfile_in(dir: &PathBuf) -> File {
    let path = dir.join("caught");
    let file = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .expect("a file for sockplay's output");
    let _ = std::fs::remove_file(&path);
    file
}

fuzz_target!(|data: &[u8]| {
    // `sleep MS` waits as long as it is told; that is no bug, and it would only slow the search.
    if data.len() > 4096 || data.to_ascii_lowercase().windows(5).any(|w| w == b"sleep") {
        return;
    }
    let script = workdir().join("input.sock");
    std::fs::write(&script, data).expect("write the script");
    for json in [false, true] {
        let (status, bytes) = run_caught(&script, json);
        let Ok(text) = std::str::from_utf8(&bytes) else {
            panic!("bytes that are not UTF-8 reached the terminal (json: {json}) for {data:?}: {bytes:?}");
        };
        assert!(
            (0..=2).contains(&status) || status == 130,
            "exit status {status} for {data:?}:\n{text}"
        );
        if let Some(c) = unsafe_for_a_terminal(&text) {
            panic!("{c:?} reached the terminal raw (json: {json}) for {data:?}:\n{text}");
        }
    }
});
