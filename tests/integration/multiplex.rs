//! select, poll, epoll and fd passing, run through the real binary against real sockets.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The longest one run of sockplay may take before the test kills it.
const RUN_LIMIT: Duration = Duration::from_secs(30);

/// What one run of sockplay produced.
struct Run {
    status: Option<i32>,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

impl Run {
    fn assert_exit(&self, code: i32) -> &Run {
        assert_eq!(
            self.status,
            Some(code),
            "exit status\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        assert!(!self.stderr.contains("panicked"), "{}", self.stderr);
        self
    }

    fn assert_stdout(&self, text: &str) -> &Run {
        assert!(
            self.stdout.contains(text),
            "stdout lacks {text:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    fn assert_stderr(&self, text: &str) -> &Run {
        assert!(
            self.stderr.contains(text),
            "stderr lacks {text:?}\n--- stderr\n{}",
            self.stderr
        );
        self
    }
}

/// Runs sockplay with `args`, killing it if it outlives RUN_LIMIT; `interrupt_after` sends it
/// SIGINT (a Ctrl-C) after that long.
fn sockplay_with(args: &[&str], interrupt_after: Option<Duration>) -> Run {
    let dir = tempfile::tempdir().expect("tempdir");
    let stdout_path = dir.path().join("stdout");
    let stderr_path = dir.path().join("stderr");
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sockplay"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(File::create(&stdout_path).expect("stdout file"))
        .stderr(File::create(&stderr_path).expect("stderr file"))
        .spawn()
        .expect("spawn sockplay");
    let mut interrupted = false;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status.code();
        }
        if let Some(after) = interrupt_after {
            if !interrupted && started.elapsed() >= after {
                let pid = i32::try_from(child.id()).expect("pid");
                // SAFETY: kill(2) on our own child's pid, with a signal sockplay handles.
                unsafe { libc::kill(pid, libc::SIGINT) };
                interrupted = true;
            }
        }
        if started.elapsed() > RUN_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("sockplay {args:?} ran longer than {RUN_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let elapsed = started.elapsed();
    let read = |path: &Path| {
        let mut text = String::new();
        File::open(path)
            .and_then(|mut f| f.read_to_string(&mut text))
            .expect("read output");
        text
    };
    Run {
        status,
        stdout: read(&stdout_path),
        stderr: read(&stderr_path),
        elapsed,
    }
}

/// Runs `sockplay --panel off -c COMMANDS`.
fn sockplay(commands: &str) -> Run {
    sockplay_with(&["--panel", "off", "-c", commands], None)
}

/// A listener on a kernel-chosen loopback port, fd 3.
const LISTENER: &str = "socket tcp as srv; bind srv :0; listen srv";

/// Two connected unix stream sockets, b (fd 4) and a2 (fd 5), on an abstract address named for
/// the test so tests running in parallel never collide.
fn unix_channel(test: &str) -> String {
    format!(
        "socket unix stream as a; bind a @sockplay-test-{test}-{}; listen a; \
         socket unix stream as b; connect b $a; accept a as a2",
        std::process::id()
    )
}

#[test]
fn waits_that_find_nothing_end_at_the_timeout_without_error() {
    let run = sockplay(&format!(
        "{LISTENER}; select read srv timeout 100; poll srv timeout 100; \
         epoll create as ep; epoll add ep srv; epoll wait ep timeout 100"
    ));
    run.assert_exit(0)
        .assert_stdout("select(4, [3], NULL, NULL, {tv_sec=0, tv_usec=100000}) = 0 (Timeout)")
        .assert_stdout("poll([{fd=3, events=POLLIN|POLLOUT|POLLRDHUP}], 1, 100) = 0 (Timeout)")
        .assert_stdout("epoll_wait(4, [], 64, 100) = 0 (Timeout)")
        .assert_stdout("nothing is ready (waited 100 ms)");
    assert!(
        run.elapsed >= Duration::from_millis(300),
        "{:?}",
        run.elapsed
    );
}

#[test]
fn select_poll_and_epoll_report_the_ready_fds() {
    sockplay(&format!(
        "{LISTENER}; socket tcp as cli; connect cli $srv; \
         select read srv write cli timeout 1000; accept srv as conn; \
         send cli ping; select read conn timeout 1000; poll conn cli; \
         epoll create as ep; epoll add ep conn in; epoll add ep srv in; epoll wait ep timeout 1000"
    ))
    .assert_exit(0)
    .assert_stdout("select(5, [3], [4], NULL, {tv_sec=1, tv_usec=0}) = 2 (in [3], out [4])")
    .assert_stdout("fd 3 (srv) is readable: a connection is waiting to be accepted")
    .assert_stdout("fd 4 (cli) is writable")
    .assert_stdout("fd 5 (conn) is readable: 4 bytes waiting")
    .assert_stdout("fd 5 (conn): POLLIN|POLLOUT\n")
    .assert_stdout("fd 4 (cli): POLLOUT\n")
    .assert_stdout("epoll_wait(6, [{events=EPOLLIN, data={u64=5}}], 64, 1000) = 1")
    .assert_stdout("fd 5 (conn): EPOLLIN\n");
}

#[test]
fn ctrl_c_cuts_a_long_wait_with_eintr() {
    for wait in [
        "select read srv timeout 20000",
        "poll srv timeout 20000",
        "epoll create as ep; epoll add ep srv; epoll wait ep timeout 20000",
    ] {
        let run = sockplay_with(
            &["--panel", "off", "-c", &format!("{LISTENER}; {wait}")],
            Some(Duration::from_secs(1)),
        );
        // Ctrl-C ends a replay: 128 + SIGINT.
        run.assert_exit(130)
            .assert_stdout("= -1 EINTR")
            .assert_stderr("EINTR: interrupted by Ctrl-C");
        assert!(
            run.elapsed < Duration::from_secs(6),
            "{wait}: {:?}",
            run.elapsed
        );
    }
}

#[test]
fn epoll_add_twice_fails_with_eexist() {
    sockplay(&format!(
        "{LISTENER}; epoll create as ep; epoll add ep srv; epoll add ep srv out"
    ))
    .assert_exit(1)
    .assert_stdout("epoll_ctl(4, EPOLL_CTL_ADD, 3, {events=EPOLLOUT, data={u64=3}}) = -1 EEXIST")
    .assert_stdout("hint: fd 3 is already in the interest list of fd 4: `epoll del ep srv` first")
    .assert_stderr("EEXIST");
    // After del, the same socket can be added again.
    sockplay(&format!(
        "{LISTENER}; epoll create as ep; epoll add ep srv; epoll add ep srv; expect error EEXIST; \
         epoll del ep srv; epoll add ep srv out; epoll del ep srv; epoll del ep srv; expect error ENOENT"
    ))
    .assert_exit(0);
}

#[test]
fn epoll_commands_on_a_socket_are_refused_clearly() {
    for command in [
        "epoll add srv srv",
        "epoll wait srv timeout 0",
        "epoll del srv srv",
    ] {
        sockplay(&format!("{LISTENER}; {command}"))
            .assert_exit(1)
            .assert_stderr("fd 3 is a socket, not an epoll instance");
    }
    sockplay("epoll wait 99")
        .assert_exit(1)
        .assert_stderr("EBADF");
}

#[test]
fn epoll_create_refuses_a_name_in_use() {
    sockplay(&format!("{LISTENER}; epoll create as srv"))
        .assert_exit(1)
        .assert_stderr("the name `srv` belongs to fd 3");
}

#[test]
fn fds_passed_over_tcp_go_nowhere_as_the_kernel_makes_it() {
    // Linux TCP takes the byte and ignores SCM_RIGHTS: no error, and no fd arrives.
    sockplay(&format!(
        "{LISTENER}; socket tcp as cli; connect cli $srv; accept srv as conn; sendfd cli srv; recvfd conn as got; expect closed 6"
    ))
    .assert_exit(0)
    .assert_stdout("sendmsg(4, {data=\"\\0\", SCM_RIGHTS=[3]}, MSG_NOSIGNAL) = 1\nfd 4 is a tcp socket, and only AF_UNIX sockets carry fds: the kernel sent the byte")
    .assert_stdout("recvmsg(5, {data=\"\\0\"}, MSG_CMSG_CLOEXEC) = 1\nfd 5 is a tcp socket, and only AF_UNIX sockets carry fds: bytes came, and no fd can\n");
    // Unconnected, the kernel answers as it answers sendmsg there.
    sockplay("socket tcp as c; sendfd c c")
        .assert_exit(1)
        .assert_stdout(
            "sendmsg(3, {data=\"\\0\", SCM_RIGHTS=[3]}, MSG_NOSIGNAL) = -1 EPIPE (Broken pipe)",
        );
}

#[test]
fn recvfd_with_data_only_says_no_fd_came() {
    sockplay(&format!(
        "{}; send b hello; recvfd a2 as got; expect closed 6",
        unix_channel("data-only")
    ))
    .assert_exit(0)
    .assert_stdout("recvmsg(5, {data=\"hello\"}, MSG_CMSG_CLOEXEC) = 5\n5 bytes arrived on fd 5 but no fd came with them: the sender used `send`, not `sendfd`\n");
    sockplay_with(
        &[
            "--panel",
            "off",
            "--timeout",
            "0.2",
            "-c",
            &format!(
                "{}; recvfd a2; expect error ETIMEDOUT; close b; recvfd a2",
                unix_channel("eof")
            ),
        ],
        None,
    )
    .assert_exit(0)
    .assert_stdout("recvmsg(5, {data=\"\"}, MSG_CMSG_CLOEXEC) = 0\nEOF on fd 5: the peer closed, and no fd came\n");
}

/// The row of `fd` in a JSON step's fd list.
fn row(step: &Value, fd: i64) -> &Value {
    step["fds"]
        .as_array()
        .and_then(|rows| rows.iter().find(|row| row["fd"].as_i64() == Some(fd)))
        .unwrap_or_else(|| panic!("no row for fd {fd} in {step}"))
}

#[test]
fn a_passed_socket_is_the_same_connection_under_a_new_fd() {
    let commands = format!(
        "{}; socket tcp as srv; bind srv :0; listen srv; socket tcp as cli; connect cli $srv; \
         accept srv as conn; sendfd b conn; recvfd a2 as conn2; close conn; \
         send conn2 'through fd 9'; recv cli; expect data 'through fd 9'",
        unix_channel("pass")
    );
    let run = sockplay_with(&["--json", "-c", &commands], None);
    run.assert_exit(0);
    let steps: Vec<Value> = run
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect();
    let step = |input: &str| {
        steps
            .iter()
            .find(|s| s["input"] == input)
            .unwrap_or_else(|| panic!("no step {input}"))
    };
    let sent = step("sendfd b conn");
    assert_eq!(sent["ok"], true);
    assert!(
        sent["output"].as_str().is_some_and(
            |o| o.starts_with("sendmsg(4, {data=\"\\0\", SCM_RIGHTS=[8]}, MSG_NOSIGNAL) = 1")
        ),
        "{sent}"
    );
    let received = step("recvfd a2 as conn2");
    assert_eq!(received["ok"], true, "{received}");
    let output = received["output"].as_str().unwrap_or_default();
    assert!(output.contains("= 1  SCM_RIGHTS [9]"), "{output}");
    assert!(
        output.contains("fd 9 is the same socket as fd 8 (conn)"),
        "{output}"
    );
    let (original, passed) = (row(received, 8), row(received, 9));
    assert_eq!(passed["name"], "conn2");
    assert_eq!(original["name"], "conn");
    for field in ["kind", "family", "type", "local", "remote", "state"] {
        assert_eq!(original[field], passed[field], "{field}");
    }
    assert_eq!(passed["state"], "ESTABLISHED");
    // After the original closes, the passed fd alone carries the connection.
    let closed = step("close conn");
    assert!(closed["fds"]
        .as_array()
        .is_some_and(|rows| rows.iter().all(|row| row["fd"] != 8)));
    assert_eq!(row(closed, 9)["state"], "ESTABLISHED");
}

#[test]
fn an_epoll_fd_can_be_passed_too() {
    sockplay(&format!(
        "{}; epoll create as ep; sendfd b ep; recvfd a2 as ep2; epoll add ep2 a2; epoll wait ep2 timeout 0",
        unix_channel("epoll")
    ))
    .assert_exit(0)
    .assert_stdout("SCM_RIGHTS [7]")
    .assert_stdout("fd 7 is the epoll instance the sender passed");
}

#[test]
fn the_example_scripts_replay_cleanly() {
    for script in [
        "scripts/examples/multiplexing.sock",
        "scripts/examples/fd-passing.sock",
    ] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(script);
        let path = path.to_str().expect("utf-8 path");
        sockplay_with(&["--panel", "off", path], None).assert_exit(0);
    }
}
