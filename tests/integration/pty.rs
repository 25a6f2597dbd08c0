//! sockplay's interactive prompt in a real pseudo-terminal, driven the way a user drives it: keys
//! go in, the screen's bytes come out. Every wait is bounded (rexpect's timeout, or a deadline
//! below), and the child is killed when a test ends, so no test can hang.
//!
//! The terminal is made here rather than with `rexpect::spawn_command`: rexpect opens the pty
//! master without O_CLOEXEC, so while one session is open every other process the test binary
//! starts (another test's sockplay, in parallel) inherits it and its first socket is no longer
//! fd 3. Here every fd is close-on-exec, and the child starts with exactly 0, 1, 2 on the pty,
//! like a program started from a shell.

use std::fs::File;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::fcntl::OFlag;
use nix::pty::{grantpt, posix_openpt, ptsname_r, unlockpt};
use rexpect::session::StreamSession;
use tempfile::TempDir;

pub(crate) const PROMPT: &str = "sockplay> ";

/// The longest any single expectation waits: generous, so only a real hang trips it.
const EXPECT_TIMEOUT_MS: u64 = 10_000;

/// The terminal's size, as a user's window would have one.
const COLUMNS: u16 = 200;
const ROWS: u16 = 50;

/// The rexpect error type, for messages.
type ExpectError = rexpect::error::Error;

/// One interactive sockplay on its own pseudo-terminal, with its own history directory.
pub(crate) struct Repl {
    term: StreamSession<File>,
    child: Child,
    state: TempDir,
}

impl Repl {
    /// Starts `sockplay` on a fresh pty and waits for its first prompt.
    pub(crate) fn start() -> Repl {
        Repl::start_sized(COLUMNS, ROWS)
    }

    /// Starts `sockplay` on a fresh pty of the given size and waits for its first prompt.
    pub(crate) fn start_sized(columns: u16, rows: u16) -> Repl {
        let mut repl = Repl::spawn_sized(columns, rows);
        repl.expect(PROMPT);
        repl
    }

    /// Starts `sockplay` on a fresh pty.
    fn spawn() -> Repl {
        Repl::spawn_sized(COLUMNS, ROWS)
    }

    /// Starts `sockplay` on a fresh pty of the given size.
    fn spawn_sized(columns: u16, rows: u16) -> Repl {
        Repl::spawn_with(columns, rows, &[])
    }

    /// Starts `sockplay ARGS…` on a fresh pty of the given size.
    pub(crate) fn spawn_with(columns: u16, rows: u16, args: &[&str]) -> Repl {
        let state = tempfile::tempdir().expect("temporary directory");
        let (master, slave) = open_pty(columns, rows);
        let child = spawn_on_pty(slave, state.path(), args);
        let reader = File::from(master.try_clone().expect("dup the pty master"));
        let writer = File::from(master);
        let term = rexpect::spawn_stream(reader, writer, Some(EXPECT_TIMEOUT_MS));
        Repl { term, child, state }
    }

    /// Types `keys` (no Enter).
    pub(crate) fn type_keys(&mut self, keys: &str) {
        self.term.send(keys).expect("write to the pty");
        self.term.flush().expect("flush the pty");
    }

    /// Types `line` and presses Enter.
    pub(crate) fn enter(&mut self, line: &str) {
        self.type_keys(&format!("{line}\r"));
    }

    /// Presses Ctrl-`key`.
    pub(crate) fn control(&mut self, key: char) {
        self.term.send_control(key).expect("write to the pty");
    }

    /// Waits for `needle` on the screen; returns what came before it.
    pub(crate) fn expect(&mut self, needle: &str) -> String {
        match self.term.exp_string(&bytes_as_chars(needle)) {
            Ok(before) => chars_as_utf8(&before),
            Err(e) => self.fail(&format!("{needle:?}"), e),
        }
    }

    /// Waits for `regex` (ASCII only) on the screen; returns the text it matched.
    pub(crate) fn expect_regex(&mut self, regex: &str) -> String {
        assert!(
            regex.is_ascii(),
            "rexpect matches bytes: keep {regex:?} ASCII"
        );
        match self.term.exp_regex(regex) {
            Ok((_, matched)) => chars_as_utf8(&matched),
            Err(e) => self.fail(&format!("/{regex}/"), e),
        }
    }

    fn fail(&mut self, what: &str, error: ExpectError) -> ! {
        let alive = matches!(self.child.try_wait(), Ok(None));
        panic!("waiting for {what} (sockplay still running: {alive}): {error}")
    }

    /// Types `line`, presses Enter, waits for `needle` in its output and then for the next prompt.
    /// Returns the output before `needle`.
    pub(crate) fn run(&mut self, line: &str, needle: &str) -> String {
        self.enter(line);
        let before = self.expect(needle);
        self.expect(PROMPT);
        before
    }

    /// Enters `line` and returns everything shown until the next prompt, decoded. Waits for
    /// `needle` first: while a hint is shown the line editor redraws the prompt as keys arrive.
    pub(crate) fn step(&mut self, line: &str, needle: &str) -> String {
        self.enter(line);
        let before = self.expect(needle);
        let after = self.expect(PROMPT);
        decoded(&format!("{before}{needle}{after}"))
    }

    /// Waits at most `limit` for sockplay to exit.
    pub(crate) fn exit_status(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("waitpid") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "sockplay did not exit within {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Where sockplay keeps its history in this session.
    fn history_path(&self) -> PathBuf {
        self.state.path().join("sockplay").join("history")
    }

    /// A listening TCP socket, fd 3, named `srv`.
    pub(crate) fn listener(&mut self) {
        self.run("socket tcp as srv", ") = 3");
        self.run("bind srv :0", "bound to 127.0.0.1:");
        self.run("listen srv", "listen(3, 128) = 0");
    }
}

impl Drop for Repl {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `sockplay ARGS…` with the pty's `slave` side as its controlling terminal and 0, 1, 2,
/// its history under `state`.
fn spawn_on_pty(slave: OwnedFd, state: &std::path::Path, args: &[&str]) -> Child {
    let stdout = Stdio::from(slave.try_clone().expect("dup the pty"));
    spawn_on_pty_with_stdout(slave, stdout, state, args)
}

/// Starts `sockplay ARGS…` with the pty's `slave` side as its controlling terminal, stdin and
/// stderr, `stdout` as its stdout, its history under `state`.
pub(crate) fn spawn_on_pty_with_stdout(
    slave: OwnedFd,
    stdout: Stdio,
    state: &std::path::Path,
    args: &[&str],
) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sockplay"));
    command
        .args(args)
        .env("HOME", state)
        .env("XDG_STATE_HOME", state)
        .env("TERM", "xterm")
        .env("NO_COLOR", "1")
        .env_remove("COLUMNS")
        .env_remove("LINES")
        .stdin(Stdio::from(slave.try_clone().expect("dup the pty")))
        .stdout(stdout)
        .stderr(Stdio::from(slave));
    // SAFETY: between fork and exec the closure only makes async-signal-safe system calls and
    // allocates nothing.
    unsafe {
        command.pre_exec(|| {
            // A session of its own with the pty (now fd 0) as controlling terminal, so Ctrl-C
            // becomes SIGINT for sockplay, as in a terminal emulator.
            if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            // Whatever the test runner left open without close-on-exec stays out of the child.
            if libc::syscall(
                libc::SYS_close_range,
                3,
                libc::c_uint::MAX,
                libc::CLOSE_RANGE_CLOEXEC,
            ) < 0
            {
                for fd in 3..1024 {
                    libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
                }
            }
            Ok(())
        });
    }
    let child = command.spawn().expect("start sockplay");
    // `command` holds the last copies of the slave side: drop them, or EOF never comes.
    drop(command);
    child
}

/// A new pty pair, both ends close-on-exec, with a window size set.
pub(crate) fn open_pty(columns: u16, rows: u16) -> (OwnedFd, OwnedFd) {
    let master =
        posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC).expect("posix_openpt");
    grantpt(&master).expect("grantpt");
    unlockpt(&master).expect("unlockpt");
    let size = libc::winsize {
        ws_row: rows,
        ws_col: columns,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads one `winsize` from the pointer, which is valid for the call.
    let set = unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSWINSZ, &size) };
    assert_eq!(set, 0, "TIOCSWINSZ: {}", std::io::Error::last_os_error());
    let name = ptsname_r(&master).expect("ptsname");
    // std opens with O_CLOEXEC; O_NOCTTY so the test process does not take the terminal.
    let slave = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY)
        .open(&name)
        .unwrap_or_else(|e| panic!("open {name}: {e}"));
    (OwnedFd::from(master), OwnedFd::from(slave))
}

/// rexpect turns every byte it reads into one char (Latin-1), so UTF-8 text on the screen is
/// searched for as its bytes ...
fn bytes_as_chars(text: &str) -> String {
    text.bytes().map(char::from).collect()
}

/// ... and what it returns is turned back into the text the terminal shows.
fn chars_as_utf8(read: &str) -> String {
    let bytes: Vec<u8> = read.chars().map(|c| c as u8).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The fd number at the end of a `… = N` result.
fn result_fd(text: &str) -> i32 {
    let number = text.rsplit("= ").next().unwrap_or_default().trim();
    number
        .parse()
        .unwrap_or_else(|_| panic!("no fd number in {text:?}"))
}

#[test]
fn prompt_appears_after_the_welcome_line() {
    let mut repl = Repl::spawn();
    let before = repl.expect(PROMPT);
    let welcome = format!(
        "sockplay {} — real sockets, and this process's FD table after every step.",
        env!("CARGO_PKG_VERSION")
    );
    assert!(before.contains(&welcome), "no welcome line in {before:?}");
    assert!(before.contains("Ctrl-D to quit"), "{before:?}");
    // The first panel: nothing but the terminal on 0, 1 and 2.
    assert!(before.contains("open fds: 3"), "{before:?}");
}

#[test]
fn with_the_panel_off_the_prompt_comes_without_a_first_table() {
    let mut repl = Repl::spawn_with(COLUMNS, ROWS, &["--panel", "off"]);
    let before = repl.expect(PROMPT);
    assert!(before.contains("Ctrl-D to quit"), "{before:?}");
    assert!(!before.contains("open fds"), "{before:?}");
}

#[test]
fn sockets_get_fds_3_4_and_accept_gets_5() {
    let mut repl = Repl::start();
    let tcp = r"socket\(AF_INET, SOCK_STREAM, IPPROTO_TCP\) = \d+";

    repl.enter("socket tcp as srv");
    assert_eq!(result_fd(&repl.expect_regex(tcp)), 3, "first socket");
    repl.expect(PROMPT);
    repl.run("bind srv :0", "bound to 127.0.0.1:");
    repl.run("listen srv", "listen(3, 128) = 0");

    repl.enter("socket tcp as cli");
    assert_eq!(result_fd(&repl.expect_regex(tcp)), 4, "second socket");
    repl.expect(PROMPT);
    repl.run("connect cli $srv", "connect(4, 127.0.0.1:");

    repl.enter("accept srv");
    let accepted = repl.expect_regex(r"accept\(3\) = \d+");
    assert_eq!(result_fd(&accepted), 5, "accepted connection");
    // The panel lists 0-5 and nothing else: the line editor's own fds (moved to 64 and up) are
    // not the user's business.
    let panel = repl.expect_regex(r"open fds: \d+");
    assert_eq!(panel, "open fds: 6", "internal fds shown in the panel");
    repl.expect(PROMPT);
}

#[test]
fn ctrl_c_cuts_a_blocking_accept_and_the_session_goes_on() {
    let mut repl = Repl::start();
    repl.listener();
    repl.run("set timeout 30", "timeout is 30 s");

    repl.enter("accept srv");
    // The editor ends the line when Enter is read; then accept blocks with nothing to show.
    repl.expect("\n");
    std::thread::sleep(Duration::from_millis(300));
    let pressed = Instant::now();
    repl.control('c');
    let output = repl.expect("EINTR");
    let rest = repl.expect(PROMPT);
    let took = pressed.elapsed();
    assert!(
        took < Duration::from_secs(1),
        "the prompt came back {took:?} after Ctrl-C"
    );
    let shown = format!("{output}EINTR{rest}");
    // The line is the call the kernel got, interrupted: never the poll that once stood in for it.
    assert!(
        shown.contains("accept(3) = -1 EINTR (Interrupted system call)  Ctrl-C cut the wait"),
        "the interrupted call is not shown as itself: {shown:?}"
    );
    assert!(!shown.contains("poll("), "{shown:?}");
    assert!(
        shown.contains("no connection is waiting in the backlog of fd 3"),
        "the message does not say what was waited for: {shown:?}"
    );

    // The listener is still there and still listening.
    repl.enter("fds");
    repl.expect_regex(r"\b3\s+srv\s+tcp\s+127\.0\.0\.1:\d+\s+-\s+LISTEN\b");
    repl.expect(PROMPT);
}

#[test]
fn ctrl_c_at_the_prompt_drops_the_line_and_stays() {
    let mut repl = Repl::start();
    repl.type_keys("socket tc");
    repl.expect("socket tc");
    repl.control('c');
    repl.expect(PROMPT);
    // Still running, and the half-typed line was not run: no socket was made.
    let shown = repl.run("fds", "open fds: 3");
    assert!(
        !shown.contains("socket("),
        "the dropped line ran: {shown:?}"
    );
    assert!(matches!(repl.child.try_wait(), Ok(None)), "sockplay exited");
}

#[test]
fn ctrl_d_at_an_empty_prompt_exits_with_status_0() {
    let mut repl = Repl::start();
    repl.control('d');
    let status = repl.exit_status(Duration::from_secs(5));
    assert_eq!(status.code(), Some(0), "{status:?}");
}

#[test]
fn tab_completes_commands_and_socket_names() {
    let mut repl = Repl::start();
    repl.run("socket tcp as srv", ") = 3");
    repl.run("bind srv :0", "bound to 127.0.0.1:");
    // `lis` Tab gives `listen`, `s` Tab gives `srv`: the line run is `listen srv`.
    repl.type_keys("lis\t");
    repl.expect("listen");
    repl.type_keys(" s\t");
    repl.expect("srv");
    repl.enter("");
    repl.expect("listen(3, 128) = 0");
    repl.expect(PROMPT);
}

#[test]
fn usage_hint_follows_the_command_word() {
    let mut repl = Repl::start();
    repl.type_keys("bind ");
    repl.expect("SOCK ADDR");
    // The hint is only shown, not typed: the line holds just `bind `, so Enter gets a usage error.
    let shown = repl.run("", "error");
    assert!(!shown.contains("bind("), "the hint was run: {shown:?}");
}

#[test]
fn history_is_private_skips_space_lines_and_repeats() {
    let mut repl = Repl::start();
    repl.run(" socket udp as secret", "SOCK_DGRAM");
    repl.run("fds", "open fds:");
    repl.run("fds", "open fds:");
    repl.control('d');
    assert_eq!(repl.exit_status(Duration::from_secs(5)).code(), Some(0));

    let path = repl.history_path();
    let meta = std::fs::metadata(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(meta.permissions().mode() & 0o777, 0o600, "history mode");
    let text = std::fs::read_to_string(&path).expect("read the history");
    assert!(
        !text.contains("secret"),
        "a space-led line was kept: {text:?}"
    );
    let fds = text.lines().filter(|line| *line == "fds").count();
    assert_eq!(fds, 1, "two identical lines in a row: {text:?}");
}

#[test]
fn a_misspelt_command_gets_did_you_mean_and_the_session_goes_on() {
    let mut repl = Repl::start();
    let shown = repl.run("lisen 3", "did you mean");
    assert!(shown.contains("lisen"), "{shown:?}");
    repl.run("socket tcp", ") = 3");
}

#[test]
fn a_bidi_override_typed_at_the_prompt_comes_back_escaped_in_the_error() {
    let mut repl = Repl::start();
    repl.enter("send 3 \"\\\u{202e}\"");
    repl.expect(r"error: unknown escape `\\xe2\x80\xae`");
    repl.expect(PROMPT);
    repl.run("socket tcp", ") = 3");
}

/// What the terminal showed, as text: rexpect hands back either decoded text or one char per byte.
fn decoded(read: &str) -> String {
    if read.chars().all(|c| (c as u32) < 0x100) {
        chars_as_utf8(read)
    } else {
        read.to_string()
    }
}

/// The lines a terminal would show for raw output: escape sequences removed, and a carriage return
/// starting over (the line editor redraws the line that way as keys arrive).
pub(crate) fn screen_lines(raw: &str) -> Vec<String> {
    let mut text = String::new();
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            // CSI sequences (colours, cursor moves): ESC [ parameters final-byte.
            '\x1b' if chars.peek() == Some(&'[') => {
                chars.next();
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            '\x1b' => {
                chars.next();
            }
            '\r' => text.push('\n'),
            c => text.push(c),
        }
    }
    text.lines().map(str::to_string).collect()
}

#[test]
fn at_200_columns_the_panel_stands_beside_the_output() {
    let mut repl = Repl::start_sized(200, 50);
    let shown = repl.step("socket tcp as srv", "SEND-Q");
    let screen = screen_lines(&shown);
    let call = screen
        .iter()
        .find(|line| line.contains("socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3"))
        .unwrap_or_else(|| panic!("the call line is on screen: {screen:#?}"));
    assert!(
        call.contains(" │ ") && call.contains("open fds"),
        "the panel starts on the same line as the call, to its right: {call:?}"
    );
}

#[test]
fn at_80_columns_no_line_is_wider_than_80() {
    let mut repl = Repl::start_sized(80, 40);
    let mut raw = String::new();
    for (line, needle) in [
        ("socket tcp as srv", "= 3"),
        ("bind srv 127.0.0.1:0", "bound to"),
        ("listen srv", "LISTEN"),
        ("socket tcp as other", "= 4"),
        // A failure whose hint is a long sentence.
        ("bind other $srv", "hint:"),
        ("socket tcp as cli", "= 5"),
        ("connect cli $srv", "ESTABLISHED"),
        ("accept srv as conn", "peer"),
        ("help accept", "Example:"),
        ("fds", "SEND-Q"),
    ] {
        raw.push_str(&repl.step(line, needle));
    }
    let screen = screen_lines(&raw);
    assert!(
        screen.len() > 40,
        "the session printed its steps: {screen:#?}"
    );
    for line in &screen {
        assert!(
            line.chars().count() <= 80,
            "a line is wider than the 80-column terminal ({} columns): {line:?}",
            line.chars().count()
        );
    }
    assert!(
        !screen.iter().any(|line| line.contains(" │ ")),
        "at 80 columns the panel goes below the output"
    );
}

#[test]
fn a_tutorial_walked_at_a_terminal_runs_the_suggestion_on_enter_and_hints_on_a_wrong_command() {
    let mut repl = Repl::spawn_with(200, 50, &["--tutorial", "sockets-are-fds"]);
    // The suggestion is shown above an empty line: Enter runs it.
    repl.expect("suggested: socket tcp as first");
    repl.expect("[1/5] sockplay> ");
    repl.enter("");
    repl.expect("= 3");
    repl.expect("\u{2713} first is fd 3");
    // A different command at step 2 is typed as it is, and is not the step.
    repl.expect("[2/5] sockplay> ");
    repl.enter("sleep 10");
    repl.expect("slept 10 ms");
    repl.expect("not yet.");
    repl.expect("hint:");
    // Still step 2; the suggestion runs, and the walk goes on.
    repl.expect("[2/5] sockplay> ");
    repl.enter("");
    repl.expect("\u{2713} second is fd 4");
    // Ctrl-D leaves, as at the prompt.
    repl.expect("[3/5] sockplay> ");
    repl.control('d');
    repl.expect("Left the tutorial at step 3/5");
    let status = repl.exit_status(Duration::from_secs(5));
    assert!(status.success(), "Ctrl-D leaves with status 0: {status:?}");
}

#[test]
fn typing_socket_tcp_as_srv_over_the_tcp_tutorials_suggestion_runs_exactly_that() {
    let mut repl = Repl::spawn_with(200, 50, &["--tutorial", "tcp-server-client"]);
    repl.expect("suggested: socket tcp as srv");
    repl.expect("[1/21] sockplay> ");
    // Typed over the suggestion, not after it: the line run is the one typed.
    repl.enter("socket tcp as srv");
    let shown = repl.expect("[2/21] sockplay> ");
    assert!(
        shown.contains("socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3"),
        "{shown:?}"
    );
    assert!(shown.contains("\u{2713} srv is fd 3"), "{shown:?}");
    assert!(
        !shown.contains("error") && !shown.contains("not yet"),
        "{shown:?}"
    );
    repl.control('d');
    assert_eq!(repl.exit_status(Duration::from_secs(5)).code(), Some(0));
}

#[test]
fn accept_3_instead_of_the_suggestion_lets_the_tcp_tutorial_finish_at_a_terminal() {
    let mut repl = Repl::spawn_with(200, 50, &["--tutorial", "tcp-server-client"]);
    let mut shown = String::new();
    for step in 1..=21 {
        shown.push_str(&repl.expect(&format!("[{step}/21] sockplay> ")));
        repl.enter(if step == 13 { "accept 3" } else { "" });
    }
    shown.push_str(&repl.expect("Tutorial `tcp-server-client` done"));
    assert!(
        shown.contains("(sockplay names it `conn_b`, as the next steps call it)"),
        "{shown:?}"
    );
    assert!(shown.contains("\u{2713} conn_b is fd 5"), "{shown:?}");
    assert!(!shown.contains("not yet"), "{shown:?}");
    // The prompt comes back with the tutorial's sockets; Ctrl-D quits.
    let rest = repl.expect(PROMPT);
    assert!(rest.contains("go on at the prompt"), "{rest:?}");
    let fds = repl.step("fds", "open fds:");
    assert!(fds.contains("conn_a"), "{fds:?}");
    repl.control('d');
    assert_eq!(repl.exit_status(Duration::from_secs(5)).code(), Some(0));
}

#[test]
fn enter_on_a_tutorial_suggestion_writes_the_command_into_the_prompts_line() {
    let mut repl = Repl::spawn_with(200, 50, &["--tutorial", "sockets-are-fds"]);
    repl.expect("[1/5] sockplay> ");
    repl.enter("");
    // Back up to the line the editor left empty: the prompt and the command that ran.
    repl.expect("\x1b[A\r[1/5] sockplay> socket tcp as first\x1b[K");
    repl.expect("\u{2713} first is fd 3");
    repl.control('d');
    assert_eq!(repl.exit_status(Duration::from_secs(5)).code(), Some(0));
}

#[test]
fn a_shell_line_typed_at_a_tutorial_prompt_runs_and_does_not_take_the_step() {
    let mut repl = Repl::spawn_with(200, 50, &["--tutorial", "sockets-are-fds"]);
    repl.expect("[1/5] sockplay> ");
    repl.enter("!echo $((6 * 7))x");
    let shown = repl.expect("[1/5] sockplay> ");
    assert!(shown.contains("42x"), "{shown:?}");
    assert!(!shown.contains("--allow-shell"), "{shown:?}");
    assert!(!shown.contains("not yet"), "{shown:?}");
    repl.enter("");
    repl.expect("\u{2713} first is fd 3");
    repl.control('d');
    assert_eq!(repl.exit_status(Duration::from_secs(5)).code(), Some(0));
}

#[test]
fn a_walked_check_that_waits_shows_its_line_before_what_it_waits_for() {
    let mut repl = Repl::spawn_with(200, 50, &["--tutorial", "tcp-server-client"]);
    repl.expect("[1/21] sockplay> ");
    repl.enter("");
    repl.expect("[2/21] sockplay> ");
    repl.enter("");
    repl.expect("[3/21] sockplay> ");
    // fd 3 never listens: the check waits its second, and says so after its own line.
    repl.enter("sleep 1");
    let shown = repl.expect("not yet.");
    let line = shown
        .find("sockplay> expect state srv LISTEN")
        .unwrap_or_else(|| panic!("the check's line: {shown:?}"));
    let waits = shown
        .find("expect state waits for fd 3 to reach LISTEN")
        .unwrap_or_else(|| panic!("what it waits for: {shown:?}"));
    assert!(line < waits, "{shown:?}");
    repl.expect("[3/21] sockplay> ");
    repl.control('d');
    assert_eq!(repl.exit_status(Duration::from_secs(5)).code(), Some(0));
}

#[test]
fn after_use_in_a_tutorial_the_prompt_shows_the_process_and_the_suggestion_names_main() {
    let mut repl = Repl::spawn_with(200, 50, &["--tutorial", "forking-server"]);
    for step in 1..=3 {
        repl.expect(&format!("[{step}/17] sockplay> "));
        repl.enter("");
    }
    repl.expect("[4/17] sockplay> ");
    repl.enter("spawn cli");
    repl.expect("[5/17] sockplay> ");
    repl.enter("use cli");
    repl.expect("[5/17] sockplay[cli]> ");
    repl.enter("socket tcp as c");
    repl.expect("[6/17] sockplay[cli]> ");
    repl.enter("");
    repl.expect("suggested: main: accept srv as conn");
    repl.expect("[7/17] sockplay[cli]> ");
    repl.enter("");
    repl.expect("accept(3) = 4");
    repl.expect("\u{2713} conn is fd 4");
    repl.expect("[8/17] sockplay[cli]> ");
    repl.control('d');
    assert_eq!(repl.exit_status(Duration::from_secs(5)).code(), Some(0));
}

#[test]
fn at_80_columns_five_connections_show_every_address_whole() {
    let mut repl = Repl::start_sized(80, 60);
    repl.step("socket tcp as srv", "= 3");
    let bound = repl.step("bind srv 127.0.0.1:0", "bound to");
    let listener = port_in(&bound, "bound to 127.0.0.1:");
    repl.step("listen srv", "LISTEN");
    let mut ports = vec![listener];
    for i in 1..=5 {
        repl.step(&format!("socket tcp as c{i}"), ") = ");
        repl.step(&format!("connect c{i} $srv"), "ESTABLISHED");
    }
    let mut last = String::new();
    for i in 1..=5 {
        last = repl.step(&format!("accept srv as a{i}"), "peer 127.0.0.1:");
        ports.push(port_in(&last, "peer 127.0.0.1:"));
    }
    let screen = screen_lines(&last);
    let panel: Vec<&String> = screen
        .iter()
        .skip_while(|line| !line.starts_with("open fds: 14"))
        .collect();
    assert!(
        !panel.is_empty(),
        "the last step shows its panel: {screen:#?}"
    );
    for line in &screen {
        assert!(
            line.chars().count() <= 80,
            "a line is wider than the terminal: {line:?}"
        );
    }
    // Each client's port is whole twice (its own LOCAL, the accepted end's REMOTE), the
    // listener's on every row of a connection to it.
    for (index, port) in ports.iter().enumerate() {
        let whole = format!("127.0.0.1:{port}");
        let rows = panel.iter().filter(|line| line.contains(&whole)).count();
        let wanted = if index == 0 { 11 } else { 2 };
        assert_eq!(
            rows,
            wanted,
            "{whole} whole on its rows:\n{}",
            screen.join("\n")
        );
    }
}

/// The port number right after `before` in `text`.
pub(crate) fn port_in(text: &str, before: &str) -> u16 {
    let at = text
        .find(before)
        .unwrap_or_else(|| panic!("no {before:?} in {text:?}"))
        + before.len();
    let digits: String = text[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("no port after {before:?} in {text:?}"))
}

#[test]
fn at_200_columns_the_panels_left_edge_stays_put_from_step_to_step() {
    let mut repl = Repl::start_sized(200, 50);
    let mut edges = Vec::new();
    for (line, needle) in [
        ("socket tcp as srv", "SEND-Q"),
        ("bind srv 127.0.0.1:0", "SEND-Q"),
        // A failure with a long hint: the widest output of the three.
        ("connect srv 127.0.0.1:1", "SEND-Q"),
    ] {
        let screen = screen_lines(&repl.step(line, needle));
        let columns: Vec<usize> = screen
            .iter()
            .filter_map(|row| row.chars().position(|c| c == '\u{2502}'))
            .collect();
        assert!(
            !columns.is_empty(),
            "{line}: the panel stands beside the output: {screen:#?}"
        );
        assert!(
            columns.iter().all(|c| *c == columns[0]),
            "{line}: one edge for the whole panel: {screen:#?}"
        );
        edges.push(columns[0]);
    }
    assert!(
        edges.iter().all(|edge| *edge == edges[0]),
        "the panel's left edge moved: {edges:?}"
    );
}

#[test]
fn tab_after_a_non_ascii_blank_does_not_panic() {
    let mut repl = Repl::start();
    repl.type_keys("send\u{a0}x\t");
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        matches!(repl.child.try_wait(), Ok(None)),
        "sockplay ended on Tab after U+00A0"
    );
    // The line is still being edited: wipe it and go on.
    repl.control('u');
    repl.run("socket tcp", ") = 3");
}

#[test]
fn four_hundred_window_resizes_during_a_command_do_not_wedge_the_prompt() {
    let mut repl = Repl::start();
    repl.enter("sleep 3000");
    repl.expect("\n");
    let pid = nix::unistd::Pid::from_raw(i32::try_from(repl.child.id()).expect("pid"));
    // Each resize makes the line editor's handler write a byte to its pipe, which nobody reads
    // while the command runs; a handler that blocked on the full pipe would hang sockplay for good.
    // Spaced out, so the kernel does not merge them into one pending signal.
    for _ in 0..400 {
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGWINCH).expect("kill -WINCH");
        std::thread::sleep(Duration::from_millis(2));
    }
    let sent = Instant::now();
    repl.expect("slept 3000 ms");
    repl.expect(PROMPT);
    assert!(
        sent.elapsed() < Duration::from_secs(6),
        "the prompt came back {:?} after the resizes",
        sent.elapsed()
    );
    repl.run("socket tcp", ") = 3");
}

/// Reads the pty `master` until `needle` appears after `from` in everything read so far; returns
/// the position just past it.
pub(crate) fn read_pty_until(
    master: &mut File,
    seen: &mut Vec<u8>,
    from: usize,
    needle: &str,
) -> usize {
    use std::io::Read;
    let deadline = Instant::now() + Duration::from_millis(EXPECT_TIMEOUT_MS);
    loop {
        if let Some(at) = seen[from..]
            .windows(needle.len())
            .position(|w| w == needle.as_bytes())
        {
            return from + at + needle.len();
        }
        assert!(
            Instant::now() < deadline,
            "no {needle:?} on the screen: {:?}",
            String::from_utf8_lossy(seen)
        );
        let mut poll_fd = libc::pollfd {
            fd: master.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one pollfd, valid for the call.
        if unsafe { libc::poll(&mut poll_fd, 1, 100) } == 1 {
            let mut chunk = [0u8; 4096];
            match master.read(&mut chunk) {
                Ok(n) if n > 0 => seen.extend_from_slice(&chunk[..n]),
                _ => panic!("the terminal closed: {:?}", String::from_utf8_lossy(seen)),
            }
        }
    }
}

#[test]
fn closing_the_terminal_ends_sockplay_with_129_and_removes_its_socket_files() {
    use std::io::Write;
    let state = tempfile::tempdir().expect("temporary directory");
    let path = state.path().join("hangup.sock");
    let (master, slave) = open_pty(COLUMNS, ROWS);
    // The terminal is driven by hand here: rexpect's reader thread would keep it open.
    let mut child = spawn_on_pty(slave, state.path(), &[]);
    let mut master = File::from(master);
    let mut seen = Vec::new();
    let mut at = read_pty_until(&mut master, &mut seen, 0, PROMPT);
    for (line, needle) in [
        ("socket unix stream as s".to_string(), ") = 3"),
        (format!("bind s {}", path.display()), "bind(3, "),
    ] {
        master
            .write_all(format!("{line}\r").as_bytes())
            .expect("type a line");
        at = read_pty_until(&mut master, &mut seen, at, needle);
        at = read_pty_until(&mut master, &mut seen, at, PROMPT);
    }
    assert!(path.exists(), "bind made no socket file");
    // The window closes: the last fd of the terminal's master side goes.
    drop(master);
    let deadline = Instant::now() + Duration::from_secs(5);
    let status = loop {
        if let Some(status) = child.try_wait().expect("waitpid") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("sockplay outlived its terminal by 5 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(129), "{status:?}");
    assert!(!path.exists(), "the socket file outlived sockplay");
}

#[test]
fn sigterm_at_the_prompt_ends_sockplay_with_143_and_removes_its_socket_files() {
    let mut repl = Repl::start();
    let path = repl.state.path().join("term.sock");
    repl.run("socket unix stream as s", ") = 3");
    repl.run(&format!("bind s {}", path.display()), "bind(3, ");
    assert!(path.exists(), "bind made no socket file");
    let pid = nix::unistd::Pid::from_raw(i32::try_from(repl.child.id()).expect("pid"));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("kill -TERM");
    let status = repl.exit_status(Duration::from_secs(5));
    assert_eq!(status.code(), Some(143), "{status:?}");
    assert!(!path.exists(), "the socket file outlived sockplay");
}

#[test]
fn sigterm_during_a_command_at_the_prompt_ends_sockplay_with_143() {
    let mut repl = Repl::start();
    repl.listener();
    repl.run("set timeout 60", "timeout is 60 s");
    repl.enter("accept srv");
    repl.expect("\n");
    std::thread::sleep(Duration::from_millis(300));
    let pid = nix::unistd::Pid::from_raw(i32::try_from(repl.child.id()).expect("pid"));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("kill -TERM");
    repl.expect("interrupted by SIGTERM");
    let status = repl.exit_status(Duration::from_secs(5));
    assert_eq!(status.code(), Some(143), "{status:?}");
}

#[test]
fn accept_srv_as_c2_at_a_terminal_lets_the_select_tutorials_checks_read_c2() {
    let mut repl = Repl::spawn_with(200, 50, &["--tutorial", "select-epoll"]);
    let mut shown = String::new();
    for step in 1..=16 {
        shown.push_str(&repl.expect(&format!("[{step}/16] sockplay> ")));
        repl.enter(if step == 10 { "accept srv as c2" } else { "" });
    }
    shown.push_str(&repl.expect("Tutorial `select-epoll` done"));
    assert!(
        shown.contains("suggested: select read srv c2 timeout 1000"),
        "{shown:?}"
    );
    assert!(
        shown.contains("\u{2713} the output contains \"fd 4 (c2) is readable: 4 bytes waiting\""),
        "{shown:?}"
    );
    assert!(
        shown.contains("\u{2713} the output contains \"fd 4 (c2): EPOLLIN\""),
        "{shown:?}"
    );
    assert!(!shown.contains("not yet"), "{shown:?}");
    repl.expect(PROMPT);
    repl.control('d');
    assert_eq!(repl.exit_status(Duration::from_secs(5)).code(), Some(0));
}
