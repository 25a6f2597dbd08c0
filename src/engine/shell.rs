//! `!COMMAND`: a shell command run with `sh -c`, bounded like every other command. It runs in a
//! process group of its own with its output in one pipe; sockplay reads at most a fixed amount of
//! that output and waits at most the session timeout, and past either (or at Ctrl-C) it kills the
//! whole group, so neither `!yes` nor `!sleep 100` can take the session's memory or time.

use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

use crate::sys::interrupted;

/// How many lines of a command's output are shown.
const MAX_SHOWN_LINES: usize = 200;
/// How many bytes of output are kept for showing; the rest is only counted.
const MAX_SHOWN_BYTES: usize = 64 * 1024;
/// How much output a command may print before it is stopped: enough for any listing worth reading.
const MAX_OUTPUT_BYTES: usize = 1024 * 1024;
/// How often a wait looks at Ctrl-C and at the child.
const SLICE: Duration = Duration::from_millis(50);

/// How a shell command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ShellEnd {
    Exited(i32),
    /// Killed by a signal it did not get from sockplay (`SIGTERM`).
    Signaled(&'static str),
    /// It ran past the session timeout and was killed.
    TimedOut,
    /// Ctrl-C: it was killed.
    Interrupted,
    /// It printed more than the limit (in words: `1 MiB`) and was killed.
    TooMuchOutput(&'static str),
}

/// What a shell command printed (stdout and stderr together, in order) and how it ended.
#[derive(Debug)]
pub(super) struct ShellRun {
    /// The first lines of output, as printed (not yet made safe for the terminal).
    pub lines: Vec<String>,
    /// How many more lines it printed.
    pub more_lines: usize,
    pub end: ShellEnd,
}

/// The output read so far: the first bytes kept, the rest counted.
#[derive(Debug, Default)]
struct Output {
    kept: Vec<u8>,
    total: usize,
    newlines: usize,
    last: Option<u8>,
}

impl Output {
    fn add(&mut self, bytes: &[u8]) {
        let room = MAX_SHOWN_BYTES.saturating_sub(self.kept.len());
        self.kept.extend_from_slice(&bytes[..bytes.len().min(room)]);
        self.total += bytes.len();
        self.newlines += bytes.iter().filter(|&&b| b == b'\n').count();
        self.last = bytes.last().copied().or(self.last);
    }

    fn into_run(self, end: ShellEnd) -> ShellRun {
        let text = String::from_utf8_lossy(&self.kept);
        let lines: Vec<String> = text
            .lines()
            .take(MAX_SHOWN_LINES)
            .map(str::to_string)
            .collect();
        let total_lines = self.newlines + usize::from(self.last.is_some_and(|b| b != b'\n'));
        ShellRun {
            more_lines: total_lines.saturating_sub(lines.len()),
            lines,
            end,
        }
    }
}

/// Runs `command` with `sh -c`, for at most `timeout`; an Err is an errno of starting it.
pub(super) fn run_shell(command: &str, timeout: Duration) -> Result<ShellRun, Errno> {
    let deadline = Instant::now() + timeout;
    let (reader, writer) = nix::unistd::pipe2(OFlag::O_CLOEXEC)?;
    let writer_too = writer.try_clone().map_err(|e| errno_of(&e))?;
    let mut process = Command::new("sh");
    process
        .arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stdout(Stdio::from(writer))
        .stderr(Stdio::from(writer_too))
        // A group of its own: everything the command starts can be killed together, and Ctrl-C
        // at the terminal reaches sockplay, which decides.
        .process_group(0);
    let child = process.spawn().map_err(|e| errno_of(&e));
    // `process` holds this side's copies of the pipe's write end: without dropping them the pipe
    // never reports end of file.
    drop(process);
    let mut child = child?;
    fcntl(&reader, FcntlArg::F_SETFL(OFlag::O_NONBLOCK))?;
    let mut output = Output::default();
    let end = read_until_done(&mut child, reader, deadline, &mut output);
    let end = match end {
        Some(end) => {
            kill_group(&mut child);
            end
        }
        None => match child.wait() {
            Ok(status) => match (status.code(), status.signal()) {
                (Some(code), _) => ShellEnd::Exited(code),
                (None, Some(signal)) => {
                    ShellEnd::Signaled(Signal::try_from(signal).map_or("a signal", Signal::as_str))
                }
                (None, None) => ShellEnd::Signaled("a signal"),
            },
            Err(e) => return Err(errno_of(&e)),
        },
    };
    Ok(output.into_run(end))
}

/// Reads the output until the command is done (None) or must be stopped (how it ends).
fn read_until_done(
    child: &mut Child,
    reader: OwnedFd,
    deadline: Instant,
    output: &mut Output,
) -> Option<ShellEnd> {
    let mut pipe = Pipe {
        file: std::fs::File::from(reader),
        chunk: vec![0u8; 64 * 1024],
        open: true,
    };
    loop {
        if interrupted() {
            return Some(ShellEnd::Interrupted);
        }
        let now = Instant::now();
        if now >= deadline {
            return Some(ShellEnd::TimedOut);
        }
        let slice = (deadline - now).min(SLICE);
        if pipe.open {
            let mut fds = [PollFd::new(pipe.file.as_fd(), PollFlags::POLLIN)];
            let millis = u16::try_from(slice.as_millis()).unwrap_or(u16::MAX);
            // EINTR (Ctrl-C) is seen at the top of the loop.
            let _ = poll(&mut fds, PollTimeout::from(millis));
        } else {
            std::thread::sleep(slice);
        }
        // Done when sh has exited: what it left running in the background (`!server &`) is the
        // user's, and whatever that prints later is not waited for.
        let exited = matches!(child.try_wait(), Ok(Some(_)));
        if !pipe.drain(output) {
            return Some(ShellEnd::TooMuchOutput("1 MiB"));
        }
        if exited {
            return None;
        }
    }
}

/// The read end of the command's output.
struct Pipe {
    file: std::fs::File,
    chunk: Vec<u8>,
    /// No end of file yet.
    open: bool,
}

impl Pipe {
    /// Reads what is there now, until the pipe is empty; false when the output passed the limit.
    fn drain(&mut self, output: &mut Output) -> bool {
        while self.open {
            match self.file.read(&mut self.chunk) {
                Ok(0) => self.open = false,
                Ok(n) => {
                    output.add(&self.chunk[..n]);
                    if output.total > MAX_OUTPUT_BYTES {
                        return false;
                    }
                }
                Err(_) => break,
            }
        }
        true
    }
}

/// Kills the command's whole process group, every process descended from sh that left it (a
/// `setsid` daemon), and reaps sh.
fn kill_group(child: &mut Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        let escaped = descendants(pid);
        let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
        for pid in escaped {
            let _ = nix::sys::signal::kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Every process below `root` in the process tree, from the parent pid in /proc/PID/stat.
fn descendants(root: i32) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let parents: Vec<(i32, i32)> = entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // The command name in parentheses may hold spaces: the fields after its last `)`.
            let after = stat.get(stat.rfind(')')? + 1..)?;
            let ppid = after.split_whitespace().nth(1)?.parse().ok()?;
            Some((pid, ppid))
        })
        .collect();
    let mut found = vec![root];
    let mut index = 0;
    while let Some(&parent) = found.get(index) {
        found.extend(
            parents
                .iter()
                .filter(|(_, p)| *p == parent)
                .map(|(pid, _)| *pid),
        );
        index += 1;
    }
    found.remove(0);
    found
}

fn errno_of(error: &std::io::Error) -> Errno {
    Errno::from_raw(error.raw_os_error().unwrap_or(Errno::EIO as i32))
}
