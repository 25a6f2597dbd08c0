//! The `Test` builder: runs the real `sockplay` binary with arguments, an optional script file and
//! stdin, under a hard time limit, and checks stdout, stderr and the exit status together, printing
//! all three when anything does not match (a line diff for the exact ones). Also what many tests
//! share: files in the run's directory ([`Test::file`]), bounds on how long a run took
//! ([`Output::assert_took_less_than`]), std::net peers and clients ([`std_peer`], [`std_client`]),
//! and the common scripts and JSON lookups.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::transcript::{line_diff, Normaliser};

/// The longest any one sockplay run may take before the test kills it and fails.
const DEFAULT_TIME_LIMIT: Duration = Duration::from_secs(20);

/// What the script file is called inside the test's directory, so errors read `test.sock:LINE: …`.
pub const SCRIPT: &str = "test.sock";

/// One run of sockplay and everything it is expected to do.
#[derive(Debug)]
pub struct Test {
    dir: TempDir,
    args: Vec<OsString>,
    script: Option<Vec<u8>>,
    stdin: Option<Vec<u8>>,
    env: Vec<(String, String)>,
    /// The RLIMIT_NOFILE soft limit sockplay starts with, as `ulimit -n N` in its shell sets it.
    fd_limit: Option<u64>,
    time_limit: Duration,
    status: i32,
    stdout_contains: Vec<String>,
    stdout_lacks: Vec<String>,
    stderr_contains: Vec<String>,
    stderr_lacks: Vec<String>,
    stdout_is: Option<String>,
    stdout_normalised_is: Option<String>,
    stderr_is: Option<String>,
}

/// What a finished run printed, for checks the builder does not have.
#[derive(Debug)]
pub struct Output {
    pub stdout: String,
    pub stdout_bytes: Vec<u8>,
    pub stderr: String,
    pub stderr_bytes: Vec<u8>,
    pub status: ExitStatus,
    /// How long the run took, start to exit.
    pub elapsed: Duration,
    /// The directory the run happened in (its current directory); removed when dropped.
    pub dir: TempDir,
}

impl Output {
    /// stdout, stderr and the status, for assertion messages.
    pub fn report(&self) -> String {
        report(&self.status, &self.stdout, &self.stderr)
    }

    /// Fails the test, saying `why` and showing the run, unless the run ended within `limit`.
    pub fn assert_took_less_than(&self, limit: Duration, why: &str) {
        assert!(
            self.elapsed < limit,
            "{why}: took {:?}, limit {limit:?}\n{}",
            self.elapsed,
            self.report()
        );
    }

    /// Fails the test, saying `why` and showing the run, unless the run lasted `least` or more.
    pub fn assert_took_at_least(&self, least: Duration, why: &str) {
        assert!(
            self.elapsed >= least,
            "{why}: took {:?}, at least {least:?} expected\n{}",
            self.elapsed,
            self.report()
        );
    }

    /// The JSON records of a `--json` run: every stdout line must parse as one object.
    pub fn json(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .map(|line| {
                let value: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| {
                    panic!("stdout line is not JSON ({e}): {line:?}\n{}", self.report())
                });
                assert!(value.is_object(), "not an object: {line}");
                value
            })
            .collect()
    }
}

fn report(status: &ExitStatus, stdout: &str, stderr: &str) -> String {
    format!(
        "exit status: {status}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}\n--- end ---"
    )
}

impl Test {
    /// A run in a fresh temporary directory, expecting exit status 0.
    pub fn new() -> Test {
        Test {
            dir: tempfile::tempdir().expect("temporary directory"),
            args: Vec::new(),
            script: None,
            stdin: None,
            env: vec![
                ("NO_COLOR".into(), "1".into()),
                ("COLUMNS".into(), "120".into()),
            ],
            fd_limit: None,
            time_limit: DEFAULT_TIME_LIMIT,
            status: 0,
            stdout_contains: Vec::new(),
            stdout_lacks: Vec::new(),
            stderr_contains: Vec::new(),
            stderr_lacks: Vec::new(),
            stdout_is: None,
            stdout_normalised_is: None,
            stderr_is: None,
        }
    }

    /// The directory the run happens in (for Unix socket paths).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn arg(mut self, arg: impl Into<OsString>) -> Test {
        self.args.push(arg.into());
        self
    }

    pub fn args<I: Into<OsString>>(mut self, args: impl IntoIterator<Item = I>) -> Test {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Writes `contents` to the file `name` in the run's directory now: a script to `source`, a
    /// file in the way of a bind.
    pub fn file(self, name: &str, contents: impl AsRef<[u8]>) -> Test {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        self
    }

    /// Writes `text` to `test.sock` in the run's directory and passes that file as the last argument.
    pub fn script(self, text: impl AsRef<[u8]>) -> Test {
        Test {
            script: Some(text.as_ref().to_vec()),
            ..self
        }
    }

    pub fn stdin(self, bytes: impl AsRef<[u8]>) -> Test {
        Test {
            stdin: Some(bytes.as_ref().to_vec()),
            ..self
        }
    }

    pub fn env(mut self, key: &str, value: &str) -> Test {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Starts sockplay with at most `limit` open fds (the soft limit), as `ulimit -n` does.
    pub fn fd_limit(self, limit: u64) -> Test {
        Test {
            fd_limit: Some(limit),
            ..self
        }
    }

    pub fn time_limit(self, limit: Duration) -> Test {
        Test {
            time_limit: limit,
            ..self
        }
    }

    pub fn status(self, status: i32) -> Test {
        Test { status, ..self }
    }

    pub fn stdout_contains(mut self, text: impl Into<String>) -> Test {
        self.stdout_contains.push(text.into());
        self
    }

    pub fn stdout_lacks(mut self, text: impl Into<String>) -> Test {
        self.stdout_lacks.push(text.into());
        self
    }

    pub fn stderr_contains(mut self, text: impl Into<String>) -> Test {
        self.stderr_contains.push(text.into());
        self
    }

    pub fn stderr_lacks(mut self, text: impl Into<String>) -> Test {
        self.stderr_lacks.push(text.into());
        self
    }

    pub fn stdout_is(self, text: impl Into<String>) -> Test {
        Test {
            stdout_is: Some(text.into()),
            ..self
        }
    }

    /// stdout must be exactly `text` once the kernel's numbers (ports, inodes) are replaced by
    /// stand-ins and tables laid out again: see [`crate::transcript::Normaliser`].
    pub fn stdout_normalised_is(self, text: impl Into<String>) -> Test {
        Test {
            stdout_normalised_is: Some(text.into()),
            ..self
        }
    }

    pub fn stderr_is(self, text: impl Into<String>) -> Test {
        Test {
            stderr_is: Some(text.into()),
            ..self
        }
    }

    /// Starts sockplay and returns at once, so the test can act as its peer while it runs.
    pub fn spawn(self) -> Running {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sockplay"));
        command
            .args(&self.args)
            .current_dir(self.dir.path())
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(script) = &self.script {
            std::fs::write(self.dir.path().join(SCRIPT), script).expect("write the script");
            command.arg(SCRIPT);
        }
        for (key, value) in &self.env {
            command.env(key, value);
        }
        let fd_limit = self.fd_limit;
        // SAFETY: between fork and exec the hook only makes async-signal-safe syscalls and
        // allocates nothing.
        unsafe {
            command.pre_exec(move || {
                start_with_only_stdio();
                if let Some(limit) = fd_limit {
                    let mut now = libc::rlimit {
                        rlim_cur: 0,
                        rlim_max: 0,
                    };
                    if libc::getrlimit(libc::RLIMIT_NOFILE, &mut now) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    now.rlim_cur = limit;
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &now) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                Ok(())
            });
        }
        let started = Instant::now();
        let mut child = command.spawn().expect("start sockplay");
        let stdin_writer = match (child.stdin.take(), self.stdin.clone()) {
            (Some(mut pipe), Some(bytes)) => Some(thread::spawn(move || {
                // sockplay may stop reading early; a broken pipe is its business, not the test's.
                let _ = pipe.write_all(&bytes);
            })),
            _ => None,
        };
        let (line_sender, lines) = mpsc::channel();
        let stdout = child.stdout.take().expect("stdout pipe");
        let stdout_reader = thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut all = Vec::new();
            loop {
                let mut line = Vec::new();
                match reader.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        all.extend_from_slice(&line);
                        let _ = line_sender.send(String::from_utf8_lossy(&line).into_owned());
                    }
                }
            }
            all
        });
        let mut stderr = child.stderr.take().expect("stderr pipe");
        let stderr_reader = thread::spawn(move || {
            let mut all = Vec::new();
            let _ = stderr.read_to_end(&mut all);
            all
        });
        Running {
            child: Some(child),
            started,
            deadline: started + self.time_limit,
            lines,
            seen: Vec::new(),
            stdout_reader: Some(stdout_reader),
            stderr_reader: Some(stderr_reader),
            stdin_writer,
            test: self,
        }
    }

    /// Runs sockplay to the end and checks everything that was asked for.
    pub fn run(self) -> Output {
        self.spawn().finish()
    }

    /// Runs sockplay to the end and checks only that it neither hung nor panicked, for tests whose
    /// expectations depend on what the kernel allows.
    pub fn run_unchecked(self) -> Output {
        let mut running = self.spawn();
        let output = running.collect();
        assert!(
            !output.stderr.contains("panicked"),
            "sockplay panicked\n{}",
            output.report()
        );
        output
    }
}

/// A sockplay process that is still running.
#[derive(Debug)]
pub struct Running {
    test: Test,
    child: Option<Child>,
    started: Instant,
    deadline: Instant,
    lines: Receiver<String>,
    /// stdout lines already handed out by `wait_for_line`.
    seen: Vec<String>,
    stdout_reader: Option<JoinHandle<Vec<u8>>>,
    stderr_reader: Option<JoinHandle<Vec<u8>>>,
    stdin_writer: Option<JoinHandle<()>>,
}

impl Running {
    /// Waits until sockplay prints a stdout line containing `needle` and returns that line; fails
    /// the test if it exits or runs out of time first.
    pub fn wait_for_line(&mut self, needle: &str) -> String {
        loop {
            let left = self.deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    self.kill();
                    panic!(
                        "sockplay printed no line containing {needle:?} within {:?}; stdout so far:\n{}",
                        self.test.time_limit,
                        self.seen.concat()
                    );
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let output = self.collect();
                    panic!(
                        "sockplay ended without printing {needle:?}\n{}",
                        output.report()
                    );
                }
            }
        }
    }

    /// The process id of the running sockplay.
    pub fn pid(&self) -> i32 {
        let child = self.child.as_ref().expect("still running");
        i32::try_from(child.id()).expect("pid")
    }

    /// The process id of `main`, the playground's first process: sockplay's first child.
    pub fn main_pid(&self) -> i32 {
        let front = self.pid();
        let children = std::fs::read_to_string(format!("/proc/{front}/task/{front}/children"))
            .expect("sockplay's children");
        children
            .split_whitespace()
            .next()
            .and_then(|pid| pid.parse().ok())
            .expect("main, sockplay's first child")
    }

    /// Sends `signal` to sockplay and waits for it to end.
    pub fn signal(&mut self, signal: nix::sys::signal::Signal) {
        if let Some(child) = self.child.as_mut() {
            let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap_or(-1));
            let _ = nix::sys::signal::kill(pid, signal);
            let _ = child.wait();
        }
    }

    fn kill(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Waits for the exit (killing it at the time limit) and gathers the output unchecked.
    fn collect(&mut self) -> Output {
        let mut child = self.child.take().expect("the process is collected once");
        let status = loop {
            match child.try_wait().expect("wait for sockplay") {
                Some(status) => break status,
                None if Instant::now() >= self.deadline => {
                    let _ = child.kill();
                    let status = child.wait().expect("wait for the killed sockplay");
                    let stdout = join_bytes(self.stdout_reader.take());
                    let stderr = join_bytes(self.stderr_reader.take());
                    panic!(
                        "sockplay ran longer than {:?} and was killed\n{}",
                        self.test.time_limit,
                        report(
                            &status,
                            &String::from_utf8_lossy(&stdout),
                            &String::from_utf8_lossy(&stderr)
                        )
                    );
                }
                None => thread::sleep(Duration::from_millis(5)),
            }
        };
        let elapsed = self.started.elapsed();
        if let Some(writer) = self.stdin_writer.take() {
            let _ = writer.join();
        }
        let stdout_bytes = join_bytes(self.stdout_reader.take());
        let stderr_bytes = join_bytes(self.stderr_reader.take());
        // The directory moves into the Output (tests inspect the files sockplay made there); the
        // builder keeps an empty stand-in because `Running` still owns it until dropped.
        let dir = std::mem::replace(
            &mut self.test.dir,
            tempfile::tempdir().expect("temporary directory"),
        );
        Output {
            stdout: String::from_utf8_lossy(&stdout_bytes).into_owned(),
            stdout_bytes,
            stderr: String::from_utf8_lossy(&stderr_bytes).into_owned(),
            stderr_bytes,
            status,
            elapsed,
            dir,
        }
    }

    /// Waits for sockplay to exit and checks status, stdout and stderr together.
    pub fn finish(mut self) -> Output {
        let output = self.collect();
        let test = &self.test;
        let mut problems = Vec::new();
        if output.status.code() != Some(test.status) {
            problems.push(format!("expected exit status {}", test.status));
        }
        if output.stderr.contains("panicked") {
            problems.push("sockplay panicked".to_string());
        }
        for text in &test.stdout_contains {
            if !output.stdout.contains(text.as_str()) {
                problems.push(format!("stdout should contain {text:?}"));
            }
        }
        for text in &test.stdout_lacks {
            if output.stdout.contains(text.as_str()) {
                problems.push(format!("stdout should not contain {text:?}"));
            }
        }
        for text in &test.stderr_contains {
            if !output.stderr.contains(text.as_str()) {
                problems.push(format!("stderr should contain {text:?}"));
            }
        }
        for text in &test.stderr_lacks {
            if output.stderr.contains(text.as_str()) {
                problems.push(format!("stderr should not contain {text:?}"));
            }
        }
        if let Some(want) = &test.stdout_is {
            if let Some(diff) = line_diff(want, &output.stdout) {
                problems.push(format!(
                    "stdout should be exactly {want:?} (- expected, + printed):\n{diff}"
                ));
            }
        }
        if let Some(want) = &test.stdout_normalised_is {
            let normalised = Normaliser::new().normalise(&output.stdout);
            if let Some(diff) = line_diff(want, &normalised) {
                problems.push(format!(
                    "normalised stdout should be exactly {want:?} (- expected, + printed):\n{diff}"
                ));
            }
        }
        if let Some(want) = &test.stderr_is {
            if let Some(diff) = line_diff(want, &output.stderr) {
                problems.push(format!(
                    "stderr should be exactly {want:?} (- expected, + printed):\n{diff}"
                ));
            }
        }
        assert!(
            problems.is_empty(),
            "sockplay {:?} did not do what was expected:\n  {}\n{}",
            test.args,
            problems.join("\n  "),
            output.report()
        );
        output
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // A test that failed half-way must not leave sockplay behind.
        self.kill();
    }
}

/// Marks every fd above 2 close-on-exec, so sockplay starts as from a shell whose only fds are 0, 1
/// and 2 (SPEC §5) even when the test runner inherited stray fds from its own parent.
fn start_with_only_stdio() {
    /// `CLOSE_RANGE_CLOEXEC` from linux/close_range.h.
    const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;
    // SAFETY: close_range only changes fd flags; it touches no memory of this process.
    let marked = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3 as libc::c_uint,
            libc::c_uint::MAX,
            CLOSE_RANGE_CLOEXEC,
        )
    } == 0;
    if !marked {
        // Kernels before 5.11: one fcntl per possible fd; errors (fd not open) are expected.
        for fd in 3..4096 {
            // SAFETY: F_SETFD on any number is harmless; it fails with EBADF when nothing is open.
            unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
        }
    }
}

fn join_bytes(handle: Option<JoinHandle<Vec<u8>>>) -> Vec<u8> {
    handle
        .map(|h| h.join().expect("output reader thread"))
        .unwrap_or_default()
}

/// The absolute path of a file in the repository.
pub fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// A port on 127.0.0.1 that nothing listens on right now (bound by the kernel, then released).
pub fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

/// A listener on 127.0.0.1:0 and its port.
pub fn listener() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let port = listener.local_addr().expect("local address").port();
    (listener, port)
}

/// How long a std::net peer waits for sockplay to connect, and a std::net client for data.
pub const PEER_WAIT: Duration = Duration::from_secs(10);

/// A std::net server for one connection on 127.0.0.1: a thread that accepts it (failing the
/// test if none comes within [`PEER_WAIT`]) and runs the test's `serve` on it.
#[derive(Debug)]
pub struct StdPeer<T> {
    /// Where the peer listens.
    pub port: u16,
    thread: JoinHandle<T>,
}

impl<T> StdPeer<T> {
    /// Waits for `serve` to return and gives its result; fails the test if it panicked.
    pub fn join(self) -> T {
        self.thread.join().expect("the std peer's thread")
    }
}

/// Starts a [`StdPeer`] that runs `serve` on the one connection it accepts.
pub fn std_peer<T: Send + 'static>(
    serve: impl FnOnce(TcpStream) -> T + Send + 'static,
) -> StdPeer<T> {
    let (listener, port) = listener();
    let thread = thread::spawn(move || serve(accept_within(&listener, PEER_WAIT)));
    StdPeer { port, thread }
}

/// A std::net client connected to sockplay's listener on 127.0.0.1:`port`, whose reads give up
/// after [`PEER_WAIT`].
pub fn std_client(port: u16) -> TcpStream {
    let client = TcpStream::connect(("127.0.0.1", port)).expect("connect to sockplay");
    client
        .set_read_timeout(Some(PEER_WAIT))
        .expect("read timeout");
    client
}

/// Accepts one connection, failing the test if none comes within `limit`.
pub fn accept_within(listener: &TcpListener, limit: Duration) -> TcpStream {
    listener.set_nonblocking(true).expect("non-blocking");
    let deadline = Instant::now() + limit;
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false).expect("blocking");
                stream.set_read_timeout(Some(limit)).expect("read timeout");
                return stream;
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                assert!(
                    Instant::now() < deadline,
                    "nobody connected within {limit:?}"
                );
                thread::sleep(Duration::from_millis(5));
            }
            Err(e) => panic!("accept failed: {e}"),
        }
    }
}

/// The port in the first `127.0.0.1:PORT` after `marker` in `line`.
pub fn port_after(line: &str, marker: &str) -> u16 {
    let rest = &line[line.find(marker).expect("marker in line") + marker.len()..];
    let rest = rest.trim_start();
    let address = rest.split_whitespace().next().expect("an address");
    address
        .trim_end_matches(|c: char| !c.is_ascii_digit())
        .rsplit_once(':')
        .and_then(|(_, port)| port.parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"))
}

/// A name for an abstract Unix address that no other test (or run) uses.
pub fn unique_name(what: &str) -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "sockplay-test-{what}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    )
}

/// Held while a repository script runs: the tutorials bind fixed Unix addresses
/// (`@sockplay-tutorial-…`, `/tmp/sockplay-tutorial-….sock`), so two runs of the same one (its
/// replay and its `--auto` walk) must not overlap, or the second bind fails with EADDRINUSE.
pub fn fixed_addresses() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    // A test that failed while holding the lock poisons it; the addresses are free again anyway.
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A listener (fd 3, `srv`), a client (fd 4, `cli`) connected to it, and the accepted end (fd 5,
/// `conn`): the start of many tests.
pub const PAIR: &str = "\
socket tcp as srv
bind srv 127.0.0.1:0
listen srv
socket tcp as cli
connect cli $srv
accept srv as conn
";

/// A run with the panel off, for tests that look only at the calls' own lines.
pub fn quiet() -> Test {
    Test::new().args(["--panel", "off"])
}

/// The records of a `--json` run of `script`, which must succeed.
pub fn json_steps(script: &str) -> Vec<serde_json::Value> {
    Test::new().arg("--json").script(script).run().json()
}

/// The fd object for `fd` in one JSON step, if the fd is listed.
pub fn fd_row(step: &serde_json::Value, fd: i64) -> Option<&serde_json::Value> {
    step["fds"]
        .as_array()
        .expect("fds array")
        .iter()
        .find(|row| row["fd"] == fd)
}

/// The JSON step whose input is exactly `input` (the first one).
pub fn step<'a>(steps: &'a [serde_json::Value], input: &str) -> &'a serde_json::Value {
    steps
        .iter()
        .find(|s| s["input"] == input)
        .unwrap_or_else(|| panic!("no step `{input}` in {steps:#?}"))
}

/// The row of `fd` in the last panel a text run printed.
pub fn last_panel_row(output: &Output, fd: i32) -> String {
    let panel = output
        .stdout
        .rsplit("open fds")
        .next()
        .expect("the last panel");
    panel
        .lines()
        .find(|l| {
            l.trim_start_matches([' ', '+', '~', '-'])
                .starts_with(&format!("{fd} "))
        })
        .unwrap_or_else(|| panic!("fd {fd} in the panel\n{}", output.report()))
        .to_string()
}
