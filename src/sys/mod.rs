//! The thin layer over the kernel that the rest of sockplay stands on: errno names and hints, the
//! SIGINT flag that lets Ctrl-C cut a wait, bounded waits with poll(2) on one fd or in short slices on
//! many (select, poll, epoll), keeping sockplay's own fds off the low numbers, and writing its own
//! lines to stdout and stderr without panicking when they are gone.

mod alarm;
mod errno;
mod fds;
mod interrupt;
mod output;
mod ready;
mod wait;

pub use alarm::cut_at_deadline;
pub use errno::{errno_from_name, errno_name, generic_hint};
pub use fds::{make_sockets_nonblocking, reserve_low_fds_while};
pub use interrupt::{clear_interrupt, install_interrupt_handler, interrupted};
pub use output::{eprint_line, print_line};
pub(crate) use output::{errln, outln};
pub use ready::{
    epoll_wait_once, poll_once, select_until, wait_in_slices, ReadyError, ReadyEvent, Selected,
    FD_SETSIZE,
};
pub use wait::{call_when_ready, wait_until, WaitError};
