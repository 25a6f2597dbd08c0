//! No panic, no hang past the timeout, clean ends: output streams that go away, calls whose
//! readiness another holder of the socket takes away, close under SO_LINGER, and signals that
//! end sockplay.

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr as UnixAddr, UnixListener, UnixStream};
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
use nix::unistd::Pid;

use crate::support::{unique_name, Test};

/// Which of sockplay's output streams is unusable for a run.
#[derive(Debug, Clone, Copy)]
enum Gone {
    /// stdout is a pipe whose reader has exited (EPIPE), like `sockplay … | true`.
    Stdout,
    /// stderr is a pipe whose reader has exited.
    Stderr,
    /// fd 2 is closed, like `sockplay … 2>&-`.
    StderrClosed,
}

/// Runs sockplay with `args` and one output stream gone; returns the exit status and what the
/// other stream (stderr when stdout is gone, else stdout) received.
fn run_with_gone(args: &[&str], gone: Gone) -> (ExitStatus, String) {
    let (dead_read, dead_write) = nix::unistd::pipe().expect("pipe");
    drop(dead_read);
    let mut command = Command::new(env!("CARGO_BIN_EXE_sockplay"));
    command.args(args).env("NO_COLOR", "1").stdin(Stdio::null());
    let mut live = match gone {
        Gone::Stdout => {
            command
                .stdout(Stdio::from(dead_write))
                .stderr(Stdio::piped());
            command.spawn().expect("start sockplay")
        }
        Gone::Stderr | Gone::StderrClosed => {
            command
                .stdout(Stdio::piped())
                .stderr(Stdio::from(dead_write));
            if matches!(gone, Gone::StderrClosed) {
                // SAFETY: close(2) between fork and exec touches no memory of the process.
                unsafe {
                    command.pre_exec(|| {
                        libc::close(2);
                        Ok(())
                    });
                }
            }
            command.spawn().expect("start sockplay")
        }
    };
    let mut text = String::new();
    let stream: Option<Box<dyn Read>> = match gone {
        Gone::Stdout => live.stderr.take().map(|s| Box::new(s) as Box<dyn Read>),
        _ => live.stdout.take().map(|s| Box::new(s) as Box<dyn Read>),
    };
    if let Some(mut stream) = stream {
        let _ = stream.read_to_string(&mut text);
    }
    let status = wait_within(&mut live, Duration::from_secs(20));
    (status, text)
}

/// Waits for `child` to exit, killing it and failing the test after `limit`.
fn wait_within(child: &mut std::process::Child, limit: Duration) -> ExitStatus {
    let deadline = std::time::Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("waitpid") {
            return status;
        }
        if std::time::Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("sockplay did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn the_tutorial_list_into_a_closed_pipe_exits_0_without_a_panic() {
    let (status, stderr) = run_with_gone(&["--tutorial"], Gone::Stdout);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(status.code(), Some(0), "{stderr}");
}

#[test]
fn a_failing_command_whose_stdout_is_gone_still_exits_1() {
    // `sockplay -c 'close 99' | true`: the command failed, whoever reads stdout.
    let (status, stderr) = run_with_gone(&["-c", "close 99"], Gone::Stdout);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert_eq!(stderr, "-c:1: EBADF: fd 99 is not open\n");
}

#[test]
fn a_script_cut_short_by_head_exits_0_when_what_ran_held() {
    // The `| head` case: nothing failed, the reader only wanted the start.
    let (status, stderr) = run_with_gone(&["-c", "fds; socket tcp; fds"], Gone::Stdout);
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert_eq!(stderr, "");
}

#[test]
fn an_excused_failure_whose_stdout_is_gone_exits_0() {
    let (status, stderr) = run_with_gone(&["-c", "close 99; expect error EBADF"], Gone::Stdout);
    assert_eq!(status.code(), Some(0), "{stderr}");
}

#[test]
fn a_failing_command_with_stderr_closed_exits_1_without_a_panic() {
    // `sockplay -c 'close 99' 2>&-`
    let (status, stdout) = run_with_gone(&["-c", "close 99"], Gone::StderrClosed);
    assert_eq!(status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("EBADF: fd 99 is not open"), "{stdout}");
}

#[test]
fn a_failing_command_whose_stderr_reader_is_gone_exits_1_without_a_panic() {
    let (status, stdout) = run_with_gone(&["-c", "close 99"], Gone::Stderr);
    assert_eq!(status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("EBADF: fd 99 is not open"), "{stdout}");
}

#[test]
fn an_unattended_tutorial_whose_stdout_is_gone_exits_without_a_panic() {
    let (status, stderr) =
        run_with_gone(&["--tutorial", "sockets-are-fds", "--auto"], Gone::Stdout);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(status.code(), Some(0), "{stderr}");
}

/// A listener on a fresh abstract Unix address, for sockplay to connect to; and the address.
fn abstract_listener(what: &str) -> (UnixListener, String) {
    let name = unique_name(what);
    let address = UnixAddr::from_abstract_name(name.as_bytes()).expect("abstract address");
    let listener = UnixListener::bind_addr(&address).expect("bind the abstract address");
    (listener, name)
}

/// Accepts one connection on `listener` within `limit`.
fn accept_unix_within(listener: &UnixListener, limit: Duration) -> UnixStream {
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
                assert!(Instant::now() < deadline, "sockplay did not connect");
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => panic!("accept: {e}"),
        }
    }
}

/// Receives the one fd that sockplay's `sendfd` passed over `courier`.
fn receive_fd(courier: &UnixStream) -> OwnedFd {
    let mut data = [0u8; 16];
    let mut iov = [std::io::IoSliceMut::new(&mut data)];
    let mut control = nix::cmsg_space!([std::os::fd::RawFd; 1]);
    let message = recvmsg::<()>(
        courier.as_raw_fd(),
        &mut iov,
        Some(&mut control),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )
    .expect("recvmsg");
    let fd = message
        .cmsgs()
        .expect("control data")
        .find_map(|cmsg| match cmsg {
            ControlMessageOwned::ScmRights(fds) => fds.first().copied(),
            _ => None,
        })
        .expect("an fd in SCM_RIGHTS");
    // SAFETY: recvmsg just installed this fd in the test process; nothing else owns it.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// Follows `pid` with ptrace(2) until it enters the syscall `nr`, runs `at_call` while it stands
/// still there, then lets it go on. `attached` is told when the tracing has begun. Runs in the
/// thread that started it (the tracer is a thread), and returns what `at_call` returned.
fn at_syscall_entry<T>(
    pid: i32,
    nr: libc::c_long,
    attached: std::sync::mpsc::Sender<()>,
    at_call: impl FnOnce() -> T,
) -> Result<T, String> {
    let last_error = || std::io::Error::last_os_error().to_string();
    let null = std::ptr::null_mut::<libc::c_void>();
    // SAFETY: ptrace on sockplay, a child of this process; no memory of this process is passed.
    unsafe {
        if libc::ptrace(libc::PTRACE_SEIZE, pid, null, libc::PTRACE_O_TRACESYSGOOD) != 0 {
            return Err(format!("PTRACE_SEIZE: {}", last_error()));
        }
        if libc::ptrace(libc::PTRACE_INTERRUPT, pid, null, null) != 0 {
            return Err(format!("PTRACE_INTERRUPT: {}", last_error()));
        }
    }
    let wait = || {
        let mut status = 0;
        // SAFETY: waitpid writes the status into the local variable.
        let waited = unsafe { libc::waitpid(pid, &mut status, libc::__WALL) };
        match waited {
            -1 => Err(format!("waitpid: {}", last_error())),
            _ if libc::WIFSTOPPED(status) => Ok(status),
            _ => Err(format!(
                "sockplay ended before the call (status {status:#x})"
            )),
        }
    };
    wait()?;
    let _ = attached.send(());
    let mut signal: libc::c_long = 0;
    loop {
        // SAFETY: as above; `signal` is a signal number or 0.
        if unsafe { libc::ptrace(libc::PTRACE_SYSCALL, pid, null, signal) } != 0 {
            return Err(format!("PTRACE_SYSCALL: {}", last_error()));
        }
        signal = 0;
        let status = wait()?;
        let stop = libc::WSTOPSIG(status);
        if stop == libc::SIGTRAP | 0x80 {
            // SAFETY: zero is a valid value of this plain C struct; the kernel fills it in.
            let mut info: libc::ptrace_syscall_info = unsafe { std::mem::zeroed() };
            let size = std::mem::size_of::<libc::ptrace_syscall_info>();
            // SAFETY: the kernel writes at most `size` bytes into `info`.
            let got = unsafe {
                libc::ptrace(
                    libc::PTRACE_GET_SYSCALL_INFO,
                    pid,
                    size as *mut libc::c_void,
                    &mut info as *mut libc::ptrace_syscall_info,
                )
            };
            // SAFETY: `entry` is the union member the kernel fills at a syscall-entry stop.
            let entered = got > 0
                && info.op == libc::PTRACE_SYSCALL_INFO_ENTRY
                && unsafe { info.u.entry.nr } == nr as u64;
            if entered {
                let result = at_call();
                // SAFETY: sockplay is in a ptrace-stop, so it can be let go.
                unsafe { libc::ptrace(libc::PTRACE_DETACH, pid, null, null) };
                return Ok(result);
            }
        } else if status >> 16 != libc::PTRACE_EVENT_STOP {
            // A signal for sockplay: deliver it when it goes on.
            signal = libc::c_long::from(stop);
        }
    }
}

/// Whether `fd` becomes readable within a second.
fn readable_soon(fd: &OwnedFd) -> bool {
    let mut poll_fd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one pollfd, valid for the call.
    unsafe { libc::poll(&mut poll_fd, 1, 1000) == 1 }
}

/// Sockplay passes one of its sockets (named `shared`, made by `setup`) to this test process,
/// which holds it too, as a forked child or a dup would. `trigger` makes the socket ready; when
/// sockplay enters (or, stopped by the tracer, re-enters) the syscall `nr` that `call` makes, this
/// test's `steal` takes what was ready first. The call must then go on waiting and end at the 1 s timeout.
fn lose_a_race<Kept>(
    setup: &str,
    call: &str,
    nr: libc::c_long,
    steal: impl FnOnce(&OwnedFd) -> bool + Send + 'static,
    trigger: impl FnOnce() -> Kept,
) {
    let (courier, courier_name) = abstract_listener("courier");
    let script = format!(
        "set timeout 1\n{setup}\nsocket unix stream as courier\nconnect courier @{courier_name}\n\
         sendfd courier shared\nsleep 300\n{call}\nexpect error ETIMEDOUT\n"
    );
    let mut running = Test::new()
        .args(["--panel", "off"])
        .script(script)
        .time_limit(Duration::from_secs(10))
        .spawn();
    let courier = accept_unix_within(&courier, Duration::from_secs(5));
    let shared = receive_fd(&courier);
    running.wait_for_line("slept 300 ms");
    // sockplay now waits in its blocking call for the socket to become ready.
    std::thread::sleep(Duration::from_millis(200));
    // The calls are main's, the playground's first process, whose commands its main thread runs.
    let pid = running.main_pid();
    let (attached, tracing) = std::sync::mpsc::channel();
    let tracer = std::thread::spawn(move || at_syscall_entry(pid, nr, attached, || steal(&shared)));
    if tracing.recv_timeout(Duration::from_secs(5)).is_err() {
        panic!("ptrace could not follow sockplay: {:?}", tracer.join());
    }
    let started = Instant::now();
    let kept = trigger();
    let stolen = tracer.join().expect("the tracer thread");
    assert_eq!(stolen, Ok(true), "the test's copy did not get there first");
    let output = running.finish();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "`{call}` ended {:?} after its socket became ready (timeout 1 s)\n{}",
        started.elapsed(),
        output.report()
    );
    drop(kept);
}

#[test]
fn accept_whose_connection_another_holder_took_ends_at_the_timeout() {
    let name = unique_name("shared-listener");
    let address = name.clone();
    lose_a_race(
        &format!("socket unix stream as shared\nbind shared @{name}\nlisten shared"),
        "accept shared",
        libc::SYS_accept4,
        |listener| {
            if !readable_soon(listener) {
                return false;
            }
            // SAFETY: accept4 on an open listener; the peer address is not asked for.
            let fd = unsafe {
                libc::accept4(
                    listener.as_raw_fd(),
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    libc::SOCK_CLOEXEC,
                )
            };
            // SAFETY: accept4 just made this fd; closing it is all that is done with it.
            fd >= 0 && unsafe { libc::close(fd) } == 0
        },
        move || {
            let address = UnixAddr::from_abstract_name(address.as_bytes()).expect("address");
            // The client stays open, so the connection stays queued until someone accepts it.
            UnixStream::connect_addr(&address).expect("connect")
        },
    );
}

#[test]
fn recv_whose_bytes_another_holder_took_ends_at_the_timeout() {
    let (peer_listener, peer_name) = abstract_listener("peer");
    let (sender, peer) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(accept_unix_within(&peer_listener, Duration::from_secs(5)));
    });
    lose_a_race(
        &format!("socket unix stream as shared\nconnect shared @{peer_name}"),
        "recv shared",
        libc::SYS_recvfrom,
        |socket| {
            let mut byte = [0u8; 1];
            readable_soon(socket)
                && nix::sys::socket::recv(socket.as_raw_fd(), &mut byte, MsgFlags::MSG_DONTWAIT)
                    == Ok(1)
        },
        move || {
            let mut stream = peer
                .recv_timeout(Duration::from_secs(5))
                .expect("sockplay connected to the peer");
            stream.write_all(b"x").expect("send one byte");
            stream
        },
    );
}

/// A connection whose peer (`conn`) never reads, and its client `c` (fd 4) with SO_LINGER on:20
/// and a full send buffer: closing `c` would wait 20 s for the data to be delivered.
const LINGERING: &str = "\
socket tcp as srv
bind srv 127.0.0.1:0
listen srv
socket tcp as c
connect c $srv
accept srv as conn
setsockopt c SO_LINGER on:20
send c --bytes 50000000
";

#[test]
fn close_of_a_lingering_socket_ends_at_the_timeout() {
    let mut running = Test::new()
        .args(["--panel", "off", "--timeout", "1"])
        .script(format!("{LINGERING}close c\nfds\n"))
        .time_limit(Duration::from_secs(30))
        .spawn();
    running.wait_for_line("short send");
    let closing = Instant::now();
    running.wait_for_line("close(4) = 0");
    let took = closing.elapsed();
    let output = running.finish();
    assert!(
        took < Duration::from_secs(2),
        "close took {took:?} with --timeout 1\n{}",
        output.report()
    );
    assert!(
        output.stdout.contains(
            "SO_LINGER holds close until the unsent data is delivered or 20 s pass; sockplay cut that wait at the timeout (1 s)"
        ),
        "{}",
        output.report()
    );
    let table = output.stdout.rsplit("open fds").next().unwrap_or_default();
    assert!(
        !table.lines().any(|l| l.trim_start().starts_with("4 ")),
        "fd 4 is still open:\n{table}"
    );
}

#[test]
fn a_lingering_socket_does_not_hold_up_the_exit() {
    let mut running = Test::new()
        .args(["--panel", "off", "--timeout", "0.5"])
        .script(format!("{LINGERING}set timeout 10\n"))
        .time_limit(Duration::from_secs(40))
        .spawn();
    running.wait_for_line("timeout is 10 s");
    let ending = Instant::now();
    let output = running.finish();
    // A process that exits never lingers; sockplay's exit does not either.
    assert!(
        ending.elapsed() < Duration::from_secs(2),
        "the exit took {:?}\n{}",
        ending.elapsed(),
        output.report()
    );
}

/// Runs a script that binds a socket file and then sleeps, sends sockplay `signal` during the
/// sleep, and checks that it ends at once with `status`, says `message`, and leaves no file.
fn end_a_replay_with(signal: Signal, status: i32, message: &str) {
    let test = Test::new()
        .args(["--panel", "off"])
        .script("socket unix stream as s\nbind s ./play.sock\nsleep 10000\n")
        .status(status)
        .stderr_is(format!("test.sock:3: {message}\n"))
        .time_limit(Duration::from_secs(20));
    let file = test.dir().join("play.sock");
    let mut running = test.spawn();
    running.wait_for_line("bind(3, ./play.sock) = 0");
    assert!(file.exists(), "bind made no socket file");
    std::thread::sleep(Duration::from_millis(200));
    kill(Pid::from_raw(running.pid()), signal).expect("kill");
    let sent = Instant::now();
    let output = running.finish();
    assert!(
        sent.elapsed() < Duration::from_secs(2),
        "sockplay took {:?} to end after {signal}",
        sent.elapsed()
    );
    assert!(
        !output.dir.path().join("play.sock").exists(),
        "the socket file outlived sockplay"
    );
}

#[test]
fn sigusr1_and_sigquit_end_a_replay_through_the_same_clean_up() {
    end_a_replay_with(Signal::SIGUSR1, 138, "EINTR: sleep interrupted by SIGUSR1");
    end_a_replay_with(Signal::SIGQUIT, 131, "EINTR: sleep interrupted by SIGQUIT");
}

#[test]
fn a_stray_sigalrm_neither_ends_sockplay_nor_cuts_its_sleep() {
    let test = Test::new()
        .args(["--panel", "off"])
        .script("socket tcp\nsleep 800\n")
        .stdout_is("sockplay> socket tcp\nsocket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3\nsockplay> sleep 800\nslept 800 ms\n");
    let mut running = test.spawn();
    running.wait_for_line("socket(AF_INET");
    std::thread::sleep(Duration::from_millis(200));
    kill(Pid::from_raw(running.pid()), Signal::SIGALRM).expect("kill");
    running.finish();
}

#[test]
fn sigterm_ends_a_replay_with_143_and_removes_its_socket_files() {
    end_a_replay_with(Signal::SIGTERM, 143, "EINTR: sleep interrupted by SIGTERM");
}

#[test]
fn sighup_ends_a_replay_with_129_and_removes_its_socket_files() {
    end_a_replay_with(Signal::SIGHUP, 129, "EINTR: sleep interrupted by SIGHUP");
}

#[test]
fn sigint_ends_a_replay_with_130_and_removes_its_socket_files() {
    end_a_replay_with(Signal::SIGINT, 130, "EINTR: sleep interrupted by Ctrl-C");
}

#[test]
fn sigterm_during_a_call_sockplay_cannot_cut_still_ends_it() {
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Command, Stdio};
    // A write to a stdout that nobody reads blocks in a call the standard library restarts on
    // EINTR: only the watchdog can end sockplay there.
    let dir = tempfile::tempdir().expect("a temp dir");
    let script = dir.path().join("flood.sock");
    std::fs::write(&script, "help\n".repeat(2000)).expect("write the script");
    let mut child = Command::new(env!("CARGO_BIN_EXE_sockplay"))
        .args(["--panel", "off"])
        .arg(&script)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start sockplay");
    // Let it fill the pipe and block.
    std::thread::sleep(Duration::from_millis(800));
    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).expect("kill");
    let sent = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            sent.elapsed() < Duration::from_secs(6),
            "sockplay still ran 6 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let ended = status.signal() == Some(libc::SIGTERM) || status.code() == Some(143);
    assert!(ended, "ended with {status:?}");
    drop(child.stdout.take());
}

#[test]
fn waits_the_user_sizes_are_cut_to_the_timeout() {
    let output = Test::new()
        .args(["--panel", "off", "--timeout", "0.5"])
        .script(
            "sleep 100000\nsocket tcp as s\nbind s :0\nlisten s\npoll s timeout 100000\n\
             select read s timeout 100000\nepoll create as e\nepoll add e s in\n\
             epoll wait e timeout 100000\nsleep 10\n",
        )
        .run();
    output.assert_took_less_than(Duration::from_secs(4), "four waits of 0.5 s");
    let cut = "the wait of 100000 ms is cut to the timeout, 0.5 s: no command outlives it (`set timeout SECS` raises it)";
    assert_eq!(output.stdout.matches(cut).count(), 4, "{}", output.stdout);
    assert!(output.stdout.contains("sockplay> sleep 100000\n"));
    assert!(output.stdout.contains(&format!("{cut}\nslept 500 ms\n")));
    assert!(output
        .stdout
        .contains("poll([{fd=3, events=POLLIN|POLLOUT|POLLRDHUP}], 1, 500) = 0 (Timeout)\n"));
    assert!(output
        .stdout
        .contains("select(4, [3], NULL, NULL, {tv_sec=0, tv_usec=500000}) = 0 (Timeout)\n"));
    assert!(output
        .stdout
        .contains("epoll_wait(4, [], 64, 500) = 0 (Timeout)\n"));
    assert!(output.stdout.ends_with("sockplay> sleep 10\nslept 10 ms\n"));
}

#[test]
fn a_failing_replay_whose_stdout_is_cut_off_still_exits_1() {
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().expect("a temp dir");
    let script = dir.path().join("fails-late.sock");
    std::fs::write(&script, format!("{}close 99\n", "socket tcp\n".repeat(30))).expect("script");
    let mut child = Command::new(env!("CARGO_BIN_EXE_sockplay"))
        .args(["--panel", "off"])
        .arg(&script)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start sockplay");
    // Read one line, then hang up, as `| head -1` does.
    let mut stdout = child.stdout.take().expect("stdout");
    let mut first = [0u8; 16];
    let _ = stdout.read(&mut first).expect("the first bytes");
    drop(stdout);
    let output = child.wait_with_output().expect("wait");
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("fails-late.sock:31: EBADF"), "{stderr}");
}

#[test]
fn sigterm_during_a_walked_tutorial_fed_by_a_pipe_runs_no_more_lines() {
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_sockplay"))
        .args(["--panel", "off", "--tutorial", "udp"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start sockplay");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(b"sleep 3000\n").expect("the first line");
    std::thread::sleep(Duration::from_millis(500));
    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).expect("kill");
    // Lines that arrive after the signal must not run.
    let _ = stdin.write_all(b"socket udp as late1\nsocket udp as late2\n");
    drop(stdin);
    let output = child.wait_with_output().expect("wait");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output
            .status
            .code()
            .or(output.status.signal().map(|s| 128 + s)),
        Some(143),
        "{stdout}"
    );
    assert!(
        !stdout.contains("socket(AF_INET, SOCK_DGRAM"),
        "a line ran after SIGTERM:\n{stdout}"
    );
    assert!(
        stdout.contains("EINTR: sleep interrupted by SIGTERM"),
        "{stdout}"
    );
}
