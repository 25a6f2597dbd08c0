//! The thin layer over the kernel that the rest of sockplay stands on, and the only place that calls
//! libc or says `unsafe`: one small function per syscall, returning `io::Result` or `nix::Result`
//! with the error straight from errno (the `syscall!` helper), and typed values above it. Here
//! are errno names and hints, the signal flags that let Ctrl-C cut a wait and SIGTERM/SIGHUP end
//! sockplay cleanly, blocking calls made for real and cut by a signal at a deadline ([`block_until`],
//! close under SO_LINGER included), select/poll/epoll in short slices, keeping sockplay's own fds
//! off the low numbers, the per-fd calls that describe a descriptor ([`descriptor`], [`socket`],
//! [`tcp_info`], [`fs`]), socket options by their kernel numbers ([`sockopt`]), fd passing
//! ([`scm_rights`]), the sock_diag netlink client ([`sock_diag`]), an epoll of sockplay's own that
//! says which sockets the kernel woke ([`watch`]) and the calls behind the
//! playground's processes ([`process`]: fork, exec, reaping, signals, a channel passed with
//! SCM_RIGHTS).

/// Calls `libc::$fn($args)` and turns its -1 into the `io::Error` of errno, as tokio-rs/mio does.
/// The call is unsafe: each use says why its arguments are sound.
macro_rules! syscall {
    ($fn: ident ( $($arg: expr),* $(,)? ) ) => {{
        #[allow(unused_unsafe)]
        let res = unsafe { libc::$fn($($arg),*) };
        if res == -1 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(res)
        }
    }};
}

mod alarm;
pub mod descriptor;
mod errno;
pub mod fds;
pub mod fs;
mod interrupt;
pub mod process;
mod ready;
pub mod scm_rights;
pub mod sock_diag;
pub mod socket;
pub mod sockopt;
pub mod tcp_info;
mod wait;
pub mod watch;

pub use alarm::cut_at_deadline;
pub use errno::{errno_from_name, errno_name, errno_names};
pub use fds::{make_sockets_nonblocking, reserve_low_fds_while};
pub use interrupt::{
    clear_interrupt, ending_signal, install_interrupt_handler, install_signal_handlers,
    interrupted, interruption, note_interruption, prepare_prompt_reads, read_at_prompt,
    signal_status,
};
pub use process::{signal_from_name, signal_name, ExitStatus};
pub use ready::{
    epoll_wait_once, poll_numbers_once, poll_once, select_until, wait_for_ready, ReadyError,
    ReadyEvent, Selected, FD_SETSIZE,
};
pub use wait::{
    block_until, blocked_call_is_ready, blocked_call_returned, forget_returned_call,
    read_side_shut, WaitError,
};
