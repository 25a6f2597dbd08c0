//! The calls behind the playground's processes: starting a worker (fork and exec of sockplay
//! itself), fork(2) alone, reaping a child and reading its end, signals by name, interrupting one
//! thread, passing a control channel with SCM_RIGHTS, and keeping sockplay's own fds at the top
//! of the fd space, out of the numbers the user's sockets get.

use std::ffi::OsStr;
use std::io::{self, IoSlice, IoSliceMut};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, FdFlag};
use nix::sys::resource::{getrlimit, Resource};
use nix::sys::signal::Signal;
use nix::sys::socket::{recvmsg, sendmsg, ControlMessage, ControlMessageOwned, MsgFlags};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

/// The highest fd numbers sockplay uses for itself: below min(RLIMIT_NOFILE, this).
const CEILING: RawFd = 4096;

/// How far below the ceiling an fd of sockplay's own may go before it is left where it is.
const TOP_SLOTS: RawFd = 256;

/// How a process ended, as `ps` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ExitStatus {
    /// exit(N).
    Exited(i32),
    /// Ended by this signal (its number).
    Killed(i32),
}

impl std::fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExitStatus::Exited(code) => write!(f, "exited with status {code}"),
            ExitStatus::Killed(signal) => write!(f, "killed by {}", signal_name(*signal)),
        }
    }
}

/// `SIGTERM` for 15; the number for one without a name.
pub fn signal_name(number: i32) -> String {
    Signal::try_from(number).map_or_else(|_| format!("signal {number}"), |s| s.as_str().into())
}

/// The signal a user names: `SIGTERM`, `TERM`, `term` or `15`.
pub fn signal_from_name(word: &str) -> Option<Signal> {
    if let Ok(number) = word.parse::<i32>() {
        return Signal::try_from(number).ok();
    }
    let upper = word.to_ascii_uppercase();
    let full = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    full.parse().ok()
}

/// Sends `signal` to process `pid` (kill(2)).
pub fn kill(pid: i32, signal: Signal) -> Result<(), Errno> {
    nix::sys::signal::kill(Pid::from_raw(pid), signal)
}

/// The exit of a process that `status` describes, if it ended.
fn ended(status: WaitStatus) -> Option<(i32, ExitStatus)> {
    match status {
        WaitStatus::Exited(pid, code) => Some((pid.as_raw(), ExitStatus::Exited(code))),
        WaitStatus::Signaled(pid, signal, _) => {
            Some((pid.as_raw(), ExitStatus::Killed(signal as i32)))
        }
        _ => None,
    }
}

/// Waits for the child `pid` to end and reaps it.
pub fn wait_child(pid: i32) -> Result<ExitStatus, Errno> {
    loop {
        match waitpid(Pid::from_raw(pid), None) {
            Ok(status) => {
                if let Some((_, end)) = ended(status) {
                    return Ok(end);
                }
            }
            Err(Errno::EINTR) => {}
            Err(errno) => return Err(errno),
        }
    }
}

/// Reaps `pid` if it is a child of this process that has ended, without waiting.
pub fn try_reap(pid: i32) -> Option<ExitStatus> {
    match waitpid(Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG)) {
        Ok(status) => ended(status).map(|(_, end)| end),
        Err(_) => None,
    }
}

/// Whether process `pid` still exists (a zombie not yet reaped counts).
pub fn exists(pid: i32) -> bool {
    nix::sys::signal::kill(Pid::from_raw(pid), None) != Err(Errno::ESRCH)
}

/// Field `n` (from 0) of /proc/PID/stat after the command name, which may hold spaces and
/// parentheses itself: 0 is the state, 1 the parent's pid, 3 the session id (proc(5)).
fn stat_field(pid: i32, n: usize) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.get(stat.rfind(')')? + 1..)?;
    after.split_whitespace().nth(n)?.parse().ok()
}

/// The pid of process `pid`'s parent as the kernel has it now (a process whose parent ended
/// has the reaper that took it in); None when /proc cannot say.
pub fn parent_of(pid: i32) -> Option<i32> {
    stat_field(pid, 1)
}

/// The session id of process `pid`; None when /proc cannot say.
pub fn session_of(pid: i32) -> Option<i32> {
    stat_field(pid, 3)
}

/// Makes this process the reaper of its orphaned descendants (prctl PR_SET_CHILD_SUBREAPER): a
/// process whose parent died is handed to sockplay, which can then report how it ended.
pub fn become_subreaper() -> Result<(), Errno> {
    nix::sys::prctl::set_child_subreaper(true)
}

/// The highest fd number sockplay's own fds may take, plus one.
pub fn fd_ceiling() -> RawFd {
    let soft = getrlimit(Resource::RLIMIT_NOFILE).map_or(1024, |(soft, _)| soft);
    RawFd::try_from(soft).unwrap_or(RawFd::MAX).min(CEILING)
}

/// Whether `fd` is open in this process.
fn is_open(fd: RawFd) -> bool {
    // SAFETY: F_GETFD only reads the flags of whatever the number refers to, if anything.
    unsafe { libc::fcntl(fd, libc::F_GETFD) >= 0 }
}

/// Moves `fd` to the highest free number below [`fd_ceiling`], close-on-exec, so it takes no
/// number the user's sockets would get. When no such number is free (the limit is low), it stays.
pub fn move_to_top(fd: OwnedFd) -> OwnedFd {
    let ceiling = fd_ceiling();
    if fd.as_raw_fd() >= ceiling - TOP_SLOTS {
        let _ = set_inheritable(fd.as_fd(), false);
        return fd;
    }
    for target in (ceiling.saturating_sub(TOP_SLOTS).max(3)..ceiling).rev() {
        if is_open(target) {
            continue;
        }
        if let Ok(high) = fcntl(&fd, FcntlArg::F_DUPFD_CLOEXEC(target)) {
            // SAFETY: fcntl just returned this new fd and nothing else owns it.
            return unsafe { OwnedFd::from_raw_fd(high) };
        }
    }
    fd
}

/// Takes ownership of `fd`, an fd this process found open when it started (inherited across exec)
/// and that nothing in it owns yet. None if it is not open.
pub fn claim_inherited(fd: RawFd) -> Option<OwnedFd> {
    // SAFETY: the caller names an fd it inherited and that no other value owns; it is open.
    is_open(fd).then(|| unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Closes an fd by its number: in a forked child, the fds that only the parent's other threads
/// knew about (their values were never copied into this thread and will never run again).
pub fn close_abandoned(fd: RawFd) {
    // SAFETY: the owners of this fd in this process are values of threads that do not exist here
    // (fork copied only the calling thread), so nothing will use or close it again.
    drop(unsafe { OwnedFd::from_raw_fd(fd) });
}

/// Clears (`true`) or sets (`false`) FD_CLOEXEC: whether a program this process execs gets the fd.
pub fn set_inheritable(fd: BorrowedFd, inheritable: bool) -> Result<(), Errno> {
    let flags = if inheritable {
        FdFlag::empty()
    } else {
        FdFlag::FD_CLOEXEC
    };
    fcntl(fd, FcntlArg::F_SETFD(flags)).map(|_| ())
}

/// Whether FD_CLOEXEC is clear on the fd numbered `fd`; None when it is not open.
pub fn fd_is_inheritable(fd: RawFd) -> Option<bool> {
    // SAFETY: F_GETFD only reads the flags of whatever the number refers to, if anything.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    (flags >= 0).then_some(flags & libc::FD_CLOEXEC == 0)
}

/// Whether FD_CLOEXEC is clear on `fd`.
pub fn is_inheritable(fd: BorrowedFd) -> Result<bool, Errno> {
    fcntl(fd, FcntlArg::F_GETFD)
        .map(|flags| !FdFlag::from_bits_truncate(flags).contains(FdFlag::FD_CLOEXEC))
}

/// What the new process keeps of this one's fds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inherit {
    /// 0, 1, 2 and the channel only, in a process group of its own: the first worker, started by
    /// the front end, whose own fds are nothing the playground should see.
    StdioOnly,
    /// Every fd without FD_CLOEXEC, as exec(2) leaves them: `spawn`.
    Inheritable,
}

/// Starts `exe` (sockplay itself) as a worker: fork, then exec with `env_name=FD` in its
/// environment, where FD is `channel`, which the new process inherits (it stays close-on-exec
/// here). Returns the new process's pid; the caller reaps it.
pub fn start_worker(
    exe: &Path,
    env_name: &str,
    channel: BorrowedFd,
    inherit: Inherit,
) -> io::Result<i32> {
    let fd = channel.as_raw_fd();
    let mut command = std::process::Command::new(exe);
    command
        .arg0("sockplay")
        .env(env_name, OsStr::new(&fd.to_string()));
    // SAFETY: between fork and exec the closure makes only async-signal-safe system calls
    // (setpgid, close_range, fcntl) and allocates nothing.
    unsafe {
        command.pre_exec(move || {
            if inherit == Inherit::StdioOnly {
                // Its own process group: Ctrl-C at the terminal reaches the front end, which
                // interrupts the one call the user means.
                if libc::setpgid(0, 0) < 0 {
                    return Err(io::Error::last_os_error());
                }
                // Whatever else the front end holds stays out of the worker's fd table.
                libc::syscall(
                    libc::SYS_close_range,
                    3,
                    libc::c_uint::MAX,
                    libc::CLOSE_RANGE_CLOEXEC,
                );
            }
            if libc::fcntl(fd, libc::F_SETFD, 0) < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = command.spawn()?;
    // The pid is all the caller needs: it reaps the child itself (dropping `Child` neither waits
    // nor kills).
    Ok(i32::try_from(child.id()).unwrap_or(-1))
}

/// What fork(2) returned in this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forked {
    /// This is the parent; the child has this pid.
    Parent(i32),
    Child,
}

/// fork(2) in a process with threads. Only the calling thread goes on in the child, so no other
/// thread may be inside a lock the child will take: `held` is the guards of every lock the other
/// threads of the process ever take, which the caller holds across the call (that is the proof
/// the signature asks for). The child must start again whatever those threads did.
pub fn fork_holding<Held>(held: &Held) -> Result<Forked, Errno> {
    let _ = held;
    // SAFETY: the caller holds every lock the other threads take (`held`), so none of them is
    // inside one at the moment of the fork and the child finds them all free; allocation is
    // fork-safe in glibc (its atfork handlers), and the child restarts the threads it needs.
    match unsafe { nix::unistd::fork() }? {
        nix::unistd::ForkResult::Parent { child } => Ok(Forked::Parent(child.as_raw())),
        nix::unistd::ForkResult::Child => Ok(Forked::Child),
    }
}

/// This thread, to be interrupted later by [`interrupt_thread`].
pub fn this_thread() -> nix::sys::pthread::Pthread {
    nix::sys::pthread::pthread_self()
}

/// Sends SIGINT to one thread of this process, so a call it is blocked in returns EINTR and the
/// interrupt flag is raised, as Ctrl-C does for the whole process.
pub fn interrupt_thread(thread: nix::sys::pthread::Pthread) -> Result<(), Errno> {
    nix::sys::pthread::pthread_kill(thread, Signal::SIGINT)
}

/// Sends `bytes` on a stream socket with `fd` attached (SCM_RIGHTS), all in one call.
pub fn send_with_fd(socket: BorrowedFd, bytes: &[u8], fd: BorrowedFd) -> Result<usize, Errno> {
    let fds = [fd.as_raw_fd()];
    let control = [ControlMessage::ScmRights(&fds)];
    let sent = sendmsg::<()>(
        socket.as_raw_fd(),
        &[IoSlice::new(bytes)],
        &control,
        MsgFlags::MSG_NOSIGNAL,
        None,
    )?;
    Ok(sent)
}

/// Reads from a stream socket into `buf`, taking any fds that arrive with the bytes (close-on-exec).
pub fn recv_with_fds(socket: BorrowedFd, buf: &mut [u8]) -> Result<(usize, Vec<OwnedFd>), Errno> {
    let mut space = nix::cmsg_space!([RawFd; 4]);
    let mut iov = [IoSliceMut::new(buf)];
    let message = recvmsg::<()>(
        socket.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )?;
    let mut fds = Vec::new();
    for control in message.cmsgs()? {
        if let ControlMessageOwned::ScmRights(received) = control {
            // SAFETY: the kernel just installed these fds in this process; nothing else owns them.
            fds.extend(
                received
                    .into_iter()
                    .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) }),
            );
        }
    }
    Ok((message.bytes, fds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_by_any_name() {
        assert_eq!(signal_from_name("SIGTERM"), Some(Signal::SIGTERM));
        assert_eq!(signal_from_name("kill"), Some(Signal::SIGKILL));
        assert_eq!(signal_from_name("9"), Some(Signal::SIGKILL));
        assert_eq!(signal_from_name("SIGNOPE"), None);
        assert_eq!(signal_name(15), "SIGTERM");
        assert_eq!(ExitStatus::Killed(15).to_string(), "killed by SIGTERM");
        assert_eq!(ExitStatus::Exited(3).to_string(), "exited with status 3");
    }

    #[test]
    fn moved_fds_sit_at_the_top() {
        let file = std::fs::File::open("/dev/null").expect("open");
        let high = move_to_top(OwnedFd::from(file));
        assert!(high.as_raw_fd() >= fd_ceiling() - TOP_SLOTS, "{high:?}");
        assert_eq!(is_inheritable(high.as_fd()), Ok(false));
    }
}
