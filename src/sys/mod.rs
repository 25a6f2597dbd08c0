//! The thin layer over the kernel that the rest of sockplay stands on: errno names and hints, the
//! SIGINT flag that lets Ctrl-C cut a wait, bounded waits with poll(2) on one fd or in short slices on
//! many (select, poll, epoll), keeping sockplay's own fds off the low numbers, and the calls behind
//! the playground's processes (fork, exec, signals, fd passing).

mod errno;
mod fds;
mod interrupt;
pub mod process;
mod ready;
mod wait;

pub use errno::{errno_from_name, errno_name, generic_hint};
pub use fds::reserve_low_fds_while;
pub use interrupt::{clear_interrupt, install_interrupt_handler, interrupted};
pub use process::{signal_from_name, signal_name, ExitStatus};
pub use ready::{
    epoll_wait_once, poll_once, select_until, wait_in_slices, ReadyError, ReadyEvent, Selected,
    FD_SETSIZE,
};
pub use wait::{wait_until, WaitError};
