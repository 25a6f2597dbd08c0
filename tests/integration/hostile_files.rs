//! A `.sock` script is shared and run unread, so running one must be as safe as `cat`: it writes no
//! file and runs no shell command unless the user said --allow-shell, whatever it sources; a FIFO,
//! a device or a directory where a script goes is an error at once; `!cmd` output and time are
//! bounded; hints never hand the user a command that does more than it says.

use std::io::Read;
use std::os::unix::fs::symlink;
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::pty::{Repl, PROMPT};
use crate::support::{quiet, step, unique_name, Test};

/// A run with the panel off and lines too wide to wrap, for tests that read whole lines.
fn wide() -> Test {
    quiet().env("COLUMNS", "1000")
}

/// What `!` is refused with outside the prompt.
const SHELL_REFUSED: &str =
    "`!` runs a shell command: typed at the prompt it always may, a script only with --allow-shell";
/// What `record FILE` is refused with outside the prompt.
const RECORD_REFUSED: &str =
    "`record FILE` writes a file: typed at the prompt it always may, a script only with --allow-shell";

/// The script of the report: it records into the user's shell start-up file, then sends a line
/// that is a command there.
fn bashrc_script(bashrc: &Path) -> String {
    format!(
        "socketpair unix stream as a b\nrecord {}\nsend a \"$(touch pwned)\"\n",
        bashrc.display()
    )
}

/// A fake home directory with a `.bashrc` in it.
fn home_with_bashrc(test: &Test) -> std::path::PathBuf {
    let home = test.dir().join("home");
    std::fs::create_dir(&home).expect("make the fake home");
    let bashrc = home.join(".bashrc");
    std::fs::write(&bashrc, "export PS1='$ '\n").expect("write .bashrc");
    bashrc
}

// ---- 1. a script writes no file ----

#[test]
fn a_replayed_script_cannot_record_into_the_users_bashrc() {
    let test = quiet();
    let bashrc = home_with_bashrc(&test);
    let output = test
        .env(
            "HOME",
            &bashrc.parent().expect("home").display().to_string(),
        )
        .script(bashrc_script(&bashrc))
        .status(2)
        .stdout_is("")
        .stderr_is(format!("test.sock:2: {RECORD_REFUSED}\n"))
        .run();
    assert_eq!(
        std::fs::read_to_string(output.dir.path().join("home/.bashrc")).expect("read .bashrc"),
        "export PS1='$ '\n"
    );
    assert!(!output.dir.path().join("pwned").exists());
}

#[test]
fn a_script_on_stdin_or_in_dash_c_cannot_record_either() {
    let test = quiet().arg("-");
    let bashrc = home_with_bashrc(&test);
    let script = bashrc_script(&bashrc);
    let output = test
        .stdin(&script)
        .status(2)
        .stdout_is("")
        .stderr_is(format!("<stdin>:2: {RECORD_REFUSED}\n"))
        .run();
    assert_eq!(
        std::fs::read_to_string(output.dir.path().join("home/.bashrc")).expect("read .bashrc"),
        "export PS1='$ '\n"
    );
    let test = quiet();
    let bashrc = home_with_bashrc(&test);
    let output = test
        .args(["-c", &bashrc_script(&bashrc).replace('\n', "; ")])
        .status(2)
        .stdout_is("")
        .stderr_is(format!("-c:2: {RECORD_REFUSED}\n"))
        .run();
    assert_eq!(
        std::fs::read_to_string(output.dir.path().join("home/.bashrc")).expect("read .bashrc"),
        "export PS1='$ '\n"
    );
}

#[test]
fn record_never_truncates_an_existing_file_even_with_allow_shell() {
    let test = wide().arg("--allow-shell");
    let bashrc = home_with_bashrc(&test);
    let shown = bashrc.display();
    let output = test
        .script(bashrc_script(&bashrc))
        .status(1)
        .stdout_contains(format!(
            "EEXIST: cannot record to {shown}: the file exists, and a recording only ever makes a new file\n\
             hint: choose a new file name, or remove the old file first\n"
        ))
        .stdout_lacks("send(")
        .stderr_is(format!(
            "test.sock:2: EEXIST: cannot record to {shown}: the file exists, and a recording only ever makes a new file\n"
        ))
        .run();
    assert_eq!(
        std::fs::read_to_string(output.dir.path().join("home/.bashrc")).expect("read .bashrc"),
        "export PS1='$ '\n"
    );
}

#[test]
fn record_does_not_follow_a_symlink() {
    let test = quiet().arg("--allow-shell");
    let target = test.dir().join("target.txt");
    let dangling = test.dir().join("not-yet.txt");
    let link = test.dir().join("link.sock");
    let dangling_link = test.dir().join("dangling.sock");
    std::fs::write(&target, "keep me\n").expect("write the target");
    symlink(&target, &link).expect("symlink");
    symlink(&dangling, &dangling_link).expect("symlink");
    let output = test
        .script(format!(
            "record {}\nexpect error EEXIST\nrecord {}\nexpect error EEXIST\n",
            link.display(),
            dangling_link.display()
        ))
        .run();
    assert_eq!(
        std::fs::read_to_string(&target).expect("read the target"),
        "keep me\n"
    );
    assert!(
        !dangling.exists(),
        "a recording went through a symlink\n{}",
        output.report()
    );
}

#[test]
fn record_at_the_prompt_writes_a_new_file_and_refuses_an_old_one() {
    let mut repl = Repl::start();
    let dir = tempfile::tempdir().expect("temporary directory");
    let new = dir.path().join("new.sock");
    let old = dir.path().join("old.sock");
    std::fs::write(&old, "mine\n").expect("write old.sock");
    repl.step(&format!("record {}", new.display()), "recording to");
    repl.step("socket udp", "= 3");
    repl.step("record stop", "recorded 1 command in");
    let recorded = std::fs::read_to_string(&new).expect("the recording");
    assert!(recorded.ends_with("\nsocket udp\n"), "{recorded:?}");
    let shown = repl.step(&format!("record {}", old.display()), "EEXIST");
    assert!(shown.contains("EEXIST: cannot record to"), "{shown}");
    assert_eq!(
        std::fs::read_to_string(&old).expect("read old.sock"),
        "mine\n"
    );
}

// ---- 2. shell lines: refused when parsed, whoever sources them ----

#[test]
fn a_script_with_a_shell_line_is_refused_before_its_first_line_runs() {
    let output = quiet()
        .script("socket tcp as s\n# harmless so far\n!touch pwned\n")
        .status(2)
        .stdout_is("")
        .stderr_is(format!("test.sock:3: {SHELL_REFUSED}\n"))
        .run();
    assert!(!output.dir.path().join("pwned").exists());
}

#[test]
fn a_sourced_file_with_a_shell_line_is_refused_before_any_of_it_runs() {
    let test = quiet();
    std::fs::write(
        test.dir().join("evil.sock"),
        "socket udp as u\n!touch pwned\n",
    )
    .expect("write evil.sock");
    let output = test
        .script("socket tcp as mine\nsource evil.sock\n")
        .status(1)
        .stdout_contains("socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3")
        .stdout_lacks("SOCK_DGRAM")
        .stderr_is(format!("test.sock:2: evil.sock:2: {SHELL_REFUSED}\n"))
        .run();
    assert!(!output.dir.path().join("pwned").exists());
}

#[test]
fn a_sourced_file_runs_its_shell_lines_with_allow_shell() {
    let test = quiet().arg("--allow-shell");
    std::fs::write(test.dir().join("lib.sock"), "!touch ran\n").expect("write lib.sock");
    let output = test.script("source lib.sock\n").run();
    assert!(
        output.dir.path().join("ran").exists(),
        "{}",
        output.report()
    );
}

#[test]
fn source_at_the_prompt_refuses_the_files_shell_lines_though_the_prompt_may_run_them() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let evil = dir.path().join("evil.sock");
    let pwned = dir.path().join("pwned");
    std::fs::write(
        &evil,
        format!("socket udp as u\n!touch {}\n", pwned.display()),
    )
    .expect("write evil.sock");
    let mut repl = Repl::start();
    let shown = repl.step(&format!("source {}", evil.display()), "--allow-shell");
    assert!(
        shown.contains(&format!("{}:2: {SHELL_REFUSED}", evil.display())),
        "{shown}"
    );
    assert!(!shown.contains("SOCK_DGRAM"), "a line of it ran: {shown}");
    assert!(!pwned.exists(), "the sourced `!` line ran");
    // The same line typed at the prompt is the user's own, and runs.
    let touched = dir.path().join("typed");
    repl.step(
        &format!("!touch {} && echo done", touched.display()),
        "done",
    );
    assert!(
        touched.exists(),
        "a `!` line typed at the prompt did not run"
    );
}

#[test]
fn source_at_the_prompt_refuses_the_files_record_lines() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let evil = dir.path().join("evil.sock");
    let target = dir.path().join("written.sock");
    std::fs::write(&evil, format!("record {}\n", target.display())).expect("write evil.sock");
    let mut repl = Repl::start();
    let shown = repl.step(&format!("source {}", evil.display()), "--allow-shell");
    assert!(
        shown.contains(&format!("{}:1: {RECORD_REFUSED}", evil.display())),
        "{shown}"
    );
    assert!(!target.exists());
}

// ---- 3. special files where a script goes ----

/// A FIFO in the run's directory that nobody ever writes to.
fn fifo(test: &Test, name: &str) {
    nix::unistd::mkfifo(
        &test.dir().join(name),
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    )
    .expect("mkfifo");
}

#[test]
fn a_fifo_as_the_script_argument_is_an_error_at_once() {
    let test = quiet().time_limit(Duration::from_secs(5));
    fifo(&test, "pipe.sock");
    let output = test
        .arg("pipe.sock")
        .status(2)
        .stdout_is("")
        .stderr_is(
            "sockplay: pipe.sock is a fifo, not a regular file: a script is read only from a regular file\n",
        )
        .run();
    assert!(
        output.elapsed < Duration::from_secs(2),
        "{:?}",
        output.elapsed
    );
}

#[test]
fn a_fifo_as_a_source_target_fails_the_source_command_at_once() {
    let test = quiet().time_limit(Duration::from_secs(5));
    fifo(&test, "pipe.sock");
    let output = test
        .script("source pipe.sock\nexpect output \"fifo\"\n")
        .status(1)
        .stderr_is(
            "test.sock:1: pipe.sock is a fifo, not a regular file: a script is read only from a regular file\n",
        )
        .run();
    assert!(
        output.elapsed < Duration::from_secs(2),
        "{:?}",
        output.elapsed
    );
}

#[test]
fn devices_and_directories_are_not_scripts() {
    quiet()
        .arg("/dev/zero")
        .status(2)
        .stderr_is("sockplay: /dev/zero is a character device, not a regular file: a script is read only from a regular file\n")
        .run();
    quiet()
        .script("source /dev/zero\n")
        .status(1)
        .stderr_is("test.sock:1: /dev/zero is a character device, not a regular file: a script is read only from a regular file\n")
        .run();
    quiet()
        .script("source /dev/tty\n")
        .status(1)
        .stderr_is("test.sock:1: /dev/tty is a character device, not a regular file: a script is read only from a regular file\n")
        .run();
    let test = quiet();
    std::fs::create_dir(test.dir().join("dir.sock")).expect("mkdir");
    test.arg("dir.sock")
        .status(2)
        .stderr_is("sockplay: EISDIR: dir.sock is a directory, not a regular file: a script is read only from a regular file\n")
        .run();
    let test = quiet();
    std::fs::create_dir(test.dir().join("dir.sock")).expect("mkdir");
    test.script("source dir.sock\nexpect error EISDIR\nsocket udp\n")
        .stdout_contains("socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP) = 3")
        .run();
}

/// How a run ended, within the memory bound.
struct Measured {
    status: ExitStatus,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

/// Far more than sockplay needs, far less than reading without a cap takes.
const MEMORY_BOUND_BYTES: u64 = 128 * 1024 * 1024;

/// Runs sockplay with `args` and `stdin` in `dir`, killing it past `limit`, with its data memory
/// (heap and every private writable mapping, RLIMIT_DATA in setrlimit(2)) bounded by
/// [`MEMORY_BOUND_BYTES`]: an allocation past it fails and sockplay aborts (status 134), which the
/// callers' status checks catch.
///
/// A bound, not a measure of the peak (getrusage's ru_maxrss): a child keeps the peak of the
/// process it was forked from across exec (the test harness's, well above sockplay's own when
/// hundreds of tests ran in it), so the peak would measure the harness.
fn measured(args: &[&str], stdin: Stdio, dir: &Path, limit: Duration) -> Measured {
    use std::os::unix::process::CommandExt;
    let started = Instant::now();
    let mut command = Command::new(env!("CARGO_BIN_EXE_sockplay"));
    command
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: setrlimit is async-signal-safe, and the closure touches nothing else.
    unsafe {
        command.pre_exec(|| {
            let bound = libc::rlimit {
                rlim_cur: MEMORY_BOUND_BYTES,
                rlim_max: MEMORY_BOUND_BYTES,
            };
            if libc::setrlimit(libc::RLIMIT_DATA, &bound) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
    let mut child = command.spawn().expect("start sockplay");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for sockplay") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("sockplay {args:?} ran longer than {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Measured {
        status,
        stdout: out.join().expect("stdout reader"),
        stderr: err.join().expect("stderr reader"),
        elapsed: started.elapsed(),
    }
}

#[test]
fn an_endless_stdin_stops_at_the_size_cap_with_bounded_memory() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let zero = std::fs::File::open("/dev/zero").expect("open /dev/zero");
    let run = measured(
        &["-"],
        Stdio::from(zero),
        dir.path(),
        Duration::from_secs(20),
    );
    assert_eq!(run.status.code(), Some(2), "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "sockplay: EFBIG: <stdin> is larger than 16 MiB: a script is text, and this is too much of it\n"
    );
    assert_eq!(run.stdout, "");
}

// ---- 4. `!cmd` is bounded ----

#[test]
fn shell_yes_stops_at_the_output_cap_with_bounded_memory() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let run = measured(
        &["--allow-shell", "--panel", "off", "-c", "!yes"],
        Stdio::null(),
        dir.path(),
        Duration::from_secs(20),
    );
    assert_eq!(run.status.code(), Some(1), "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "-c:1: `yes` printed more than 1 MiB: sockplay stopped reading and killed it and its process group\n"
    );
    assert_eq!(
        run.stdout.lines().filter(|l| *l == "y").count(),
        200,
        "the first 200 lines are shown"
    );
    assert!(
        run.stdout.contains("\n… "),
        "no count of the lines left out"
    );
    assert!(run.elapsed < Duration::from_secs(5), "{:?}", run.elapsed);
}

#[test]
fn shell_sleep_ends_at_the_timeout_and_its_process_group_is_killed() {
    let output = quiet()
        .args(["--allow-shell", "--timeout", "1"])
        .script("!sleep 100 & echo $! > pids; sleep 100\n")
        .status(1)
        .stderr_is(
            "test.sock:1: ETIMEDOUT: `sleep 100 & echo $! > pids; sleep 100` still ran after 1 s: sockplay killed it and its process group\n",
        )
        .run();
    assert!(
        output.elapsed >= Duration::from_millis(900) && output.elapsed < Duration::from_secs(3),
        "took {:?}",
        output.elapsed
    );
    let background: i32 = std::fs::read_to_string(output.dir.path().join("pids"))
        .expect("the pid file")
        .trim()
        .parse()
        .expect("a pid");
    // The background sleep was in the group: it is killed (gone, or a zombie until reaped).
    assert_killed(background, "the background sleep");
}

/// Waits up to 5 s for `pid` to be gone or a zombie (killed, not yet reaped).
fn assert_killed(pid: i32, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => return,
            Ok(stat)
                if stat
                    .rsplit(')')
                    .next()
                    .is_some_and(|s| s.trim_start().starts_with('Z')) =>
            {
                return
            }
            Ok(_) => {
                assert!(Instant::now() < deadline, "{what} still runs");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

#[test]
fn a_shell_command_that_left_its_process_group_is_killed_too() {
    let output = quiet()
        .args(["--allow-shell", "--timeout", "1"])
        .script("!setsid sh -c 'echo $$ > pids; exec sleep 100'; sleep 100\n")
        .status(1)
        .run();
    output.assert_took_less_than(Duration::from_secs(3), "the timeout is 1 s");
    let escaped: i32 = std::fs::read_to_string(output.dir.path().join("pids"))
        .expect("the pid file")
        .trim()
        .parse()
        .expect("a pid");
    assert_killed(escaped, "the sleep in a session of its own");
}

#[test]
fn ctrl_c_at_the_prompt_stops_a_shell_command() {
    let mut repl = Repl::start();
    repl.step("set timeout 60", "timeout is 60 s");
    let started = Instant::now();
    repl.enter("!sleep 100");
    std::thread::sleep(Duration::from_millis(300));
    repl.control('c');
    repl.expect("EINTR: interrupted by Ctrl-C: sockplay killed `sleep 100` and its process group");
    repl.expect(PROMPT);
    assert!(started.elapsed() < Duration::from_secs(10));
}

// ---- 5. a recording's fd is forgotten when it ends ----

/// Every fd a `socket` step made appears in the last step's table.
fn every_socket_is_in_the_table(steps: &[serde_json::Value]) {
    let made: Vec<i64> = steps
        .iter()
        .filter(|s| s["input"] == "socket udp")
        .map(|s| {
            let output = s["output"].as_str().expect("output");
            output
                .rsplit("= ")
                .next()
                .and_then(|n| n.trim().parse().ok())
                .unwrap_or_else(|| panic!("no fd in {output:?}"))
        })
        .collect();
    assert_eq!(made.len(), 80);
    let last = steps.last().expect("a step");
    let shown: Vec<i64> = last["fds"]
        .as_array()
        .expect("fds")
        .iter()
        .filter_map(|row| row["fd"].as_i64())
        .collect();
    let missing: Vec<i64> = made
        .iter()
        .copied()
        .filter(|fd| !shown.contains(fd))
        .collect();
    assert!(
        missing.is_empty(),
        "sockets missing from the table: {missing:?}"
    );
}

#[test]
fn a_second_record_frees_the_first_recordings_fd_for_the_panel() {
    let test = Test::new().args(["--json", "--allow-shell"]);
    let script = format!(
        "record {}\nrecord {}\n{}",
        test.dir().join("a.sock").display(),
        test.dir().join("b.sock").display(),
        "socket udp\n".repeat(80)
    );
    let output = test.script(script).run();
    let steps = output.json();
    assert!(step(
        &steps,
        &format!("record {}", output.dir.path().join("b.sock").display())
    )["output"]
        .as_str()
        .expect("output")
        .starts_with("recorded 0 commands in "),);
    every_socket_is_in_the_table(&steps);
}

#[test]
fn record_stop_frees_the_recordings_fd_for_the_panel() {
    let test = Test::new().args(["--json", "--allow-shell"]);
    let script = format!(
        "record {}\nrecord stop\n{}",
        test.dir().join("a.sock").display(),
        "socket udp\n".repeat(80)
    );
    every_socket_is_in_the_table(&test.script(script).run().json());
}

// ---- 6. hints that are commands; `unlink` ----

/// Runs `sockplay --panel off --allow-shell ARGS` in `dir` (commands the user chose to run):
/// its exit code, stdout and stderr.
fn run_in(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_sockplay"))
        .args(["--panel", "off", "--allow-shell"])
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("run sockplay");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Leaves a stale socket file at `path`, as a server that exited does.
fn stale_socket_file(path: &Path) {
    drop(UnixListener::bind(path).expect("bind a Unix socket"));
}

#[test]
fn the_eaddrinuse_hint_for_a_hostile_path_quotes_it_and_never_suggests_rm() {
    let test = wide();
    stale_socket_file(&test.dir().join("x; rm -rf ~"));
    let output = test
        .script("socket unix stream as s\nbind s './x; rm -rf ~'\nexpect error EADDRINUSE\n")
        .stdout_contains(
            "hint: a socket file already exists at ./x; rm -rf ~: a socket is bound there, or one that closed left it behind; \
             if nothing is bound there, remove it with `unlink './x; rm -rf ~'`, or pick another path\n",
        )
        .stdout_lacks("!rm")
        .run();
    // The suggested command, run, removes that file and nothing else.
    let dir = output.dir;
    std::fs::write(dir.path().join("x"), "bystander").expect("write x");
    let pasted = run_in(dir.path(), &["-c", "unlink './x; rm -rf ~'"]);
    assert_eq!(
        (pasted.0, pasted.1.as_str(), pasted.2.as_str()),
        (
            Some(0),
            "sockplay> unlink './x; rm -rf ~'\nunlink(\"./x; rm -rf ~\") = 0\n",
            ""
        )
    );
    assert!(!dir.path().join("x; rm -rf ~").exists());
    assert!(dir.path().join("x").exists());
}

#[test]
fn the_eaddrinuse_hint_for_a_socket_file_in_the_way_has_a_quoted_unlink() {
    let test = wide().arg("--allow-shell");
    stale_socket_file(&test.dir().join("in the way.sock"));
    test.script(
        "socket unix stream as s\nbind s './in the way.sock'\nexpect error EADDRINUSE\n\
         unlink './in the way.sock'\nbind s './in the way.sock'\n",
    )
    .stdout_contains("remove it with `unlink './in the way.sock'`, or pick another path\n")
    .stdout_contains("unlink(\"./in the way.sock\") = 0\n")
    .stdout_contains("bind(3, ./in the way.sock) = 0\n")
    .run();
}

#[test]
fn the_eaddrinuse_hint_for_an_abstract_name_mentions_no_file() {
    let name = unique_name("hint");
    let output = wide()
        .script(format!(
            "socket unix dgram as a\nbind a @{name}\nsocket unix dgram as b\nbind b @{name}\nexpect error EADDRINUSE\n"
        ))
        .stdout_contains(format!(
            "hint: fd 3 (a) in main holds the abstract name @{name}: an abstract name is no file; it is free again once that socket closes: close it, or pick another name\n"
        ))
        .run();
    assert!(!output.stdout.contains("unlink"), "{}", output.report());
}

#[test]
fn unlink_refuses_a_regular_file_and_a_symlink_to_a_socket() {
    let test = quiet().arg("--allow-shell");
    std::fs::write(test.dir().join("notes.txt"), "precious").expect("write notes.txt");
    stale_socket_file(&test.dir().join("real.sock"));
    symlink("real.sock", test.dir().join("link.sock")).expect("symlink");
    let output = test
        .script("unlink notes.txt\n")
        .status(1)
        .stderr_is("test.sock:1: notes.txt is a regular file, not a socket: unlink removes only Unix socket files\n")
        .run();
    assert_eq!(
        std::fs::read_to_string(output.dir.path().join("notes.txt")).expect("read notes.txt"),
        "precious"
    );
    let link = run_in(output.dir.path(), &["-c", "unlink link.sock"]);
    assert_eq!(
        (link.0, link.2.as_str()),
        (
            Some(1),
            "-c:1: link.sock is a symbolic link, not a socket: unlink removes only Unix socket files\n"
        )
    );
    assert!(output.dir.path().join("real.sock").exists());
    let missing = run_in(output.dir.path(), &["-c", "unlink nothing.sock"]);
    assert_eq!(
        (missing.0, missing.2.as_str()),
        (Some(1), "-c:1: ENOENT: there is no file at nothing.sock\n")
    );
}

#[test]
fn unlink_removes_a_socket_file() {
    let test = quiet().arg("--allow-shell");
    stale_socket_file(&test.dir().join("stale.sock"));
    let output = test
        .script("set explain python\nunlink stale.sock\n")
        .stdout_contains(">>> os.unlink(\"stale.sock\")\nunlink(\"stale.sock\") = 0\n")
        .run();
    assert!(!output.dir.path().join("stale.sock").exists());
}

#[test]
fn a_script_unlinks_only_the_socket_files_it_made() {
    let test = quiet();
    stale_socket_file(&test.dir().join("theirs.sock"));
    let output = test
        .script("socket unix dgram as u\nbind u ./mine.sock\nunlink mine.sock\nunlink theirs.sock\n")
        .stdout_contains("unlink(\"mine.sock\") = 0\n")
        .status(1)
        .stderr_is("test.sock:4: a script may unlink only the socket files it made; typed at the prompt, or with --allow-shell, `unlink` removes any socket file\n")
        .run();
    assert!(!output.dir.path().join("mine.sock").exists());
    assert!(output.dir.path().join("theirs.sock").exists());
}

#[test]
fn unlink_at_the_prompt_removes_a_socket_file_the_session_did_not_make() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let stale = dir.path().join("stale.sock");
    stale_socket_file(&stale);
    let mut repl = Repl::start();
    repl.step(&format!("unlink {}", stale.display()), ") = 0");
    assert!(!stale.exists());
}

// ---- 7. listen on an unbound socket binds every address ----

#[test]
fn listen_on_an_unbound_socket_warns_that_it_bound_every_address() {
    let output = wide()
        .script("socket tcp as s\nlisten s\nsocket inet6 stream as t\nlisten t\n")
        .run();
    for (fd, every) in [(3, "0.0.0.0"), (4, "[::]")] {
        let head = format!("warning: fd {fd} was not bound, so listen bound it to {every}:");
        let tail = format!(
            ", every address of this machine: other hosts on its networks can reach fd {fd}; bind 127.0.0.1 (or [::1]) first to stay local"
        );
        let line = output
            .stdout
            .lines()
            .find(|l| l.starts_with(&head))
            .unwrap_or_else(|| panic!("no warning for fd {fd}\n{}", output.report()));
        let port = line[head.len()..]
            .strip_suffix(&tail)
            .unwrap_or_else(|| panic!("the warning for fd {fd} reads {line:?}"));
        assert!(port.parse::<u16>().is_ok_and(|p| p > 0), "{line}");
        assert!(
            output.stdout.contains(&format!(
                "fd {fd} now waits for connections on {every}:{port}; the kernel queues them until `accept`\n{line}\n"
            )),
            "{}",
            output.report()
        );
    }
}

#[test]
fn listen_on_a_loopback_socket_gives_no_warning() {
    quiet()
        .script("socket tcp as s\nbind s :0\nlisten s\n")
        .stdout_lacks("warning")
        .run();
}
