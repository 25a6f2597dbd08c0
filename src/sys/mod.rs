//! The thin layer over the kernel that the rest of sockplay stands on: errno names and hints; the
//! signal flags that let Ctrl-C cut a wait and SIGTERM/SIGHUP end sockplay cleanly; bounded waits
//! with poll(2) on one fd or in short slices on many (select, poll, epoll), and a deadline for the
//! one call that cannot be made non-blocking (close under SO_LINGER); keeping sockplay's own fds off
//! the low numbers; and writing its own lines to stdout and stderr without panicking when they are
//! gone.

mod alarm;
mod errno;
mod fds;
mod interrupt;
mod ready;
mod wait;

pub use alarm::cut_at_deadline;
pub use errno::{errno_from_name, errno_name, generic_hint};
pub use fds::{make_sockets_nonblocking, reserve_low_fds_while};
pub use interrupt::{
    clear_interrupt, ending_signal, install_signal_handlers, interrupted, interruption,
    prepare_prompt_reads, read_at_prompt, signal_status,
};
pub use ready::{
    epoll_wait_once, poll_once, select_until, wait_in_slices, ReadyError, ReadyEvent, Selected,
    FD_SETSIZE,
};
pub use wait::{call_when_ready, wait_until, WaitError};
