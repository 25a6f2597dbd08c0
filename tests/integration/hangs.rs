//! No panic, no hang past the timeout, clean ends: output streams that go away, completion on any
//! text, signals that end sockplay, and calls whose readiness another holder takes away.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

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
