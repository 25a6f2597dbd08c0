//! The thin layer over the kernel that the rest of sockplay stands on: errno names and hints, the
//! SIGINT flag that lets Ctrl-C cut a wait, bounded waits with poll(2), and keeping sockplay's own
//! fds off the low numbers.

mod errno;
mod fds;
mod interrupt;
mod wait;

pub use errno::{errno_from_name, errno_name, generic_hint};
pub use fds::{open_fds, reserve_low_fds_while};
pub use interrupt::{clear_interrupt, install_interrupt_handler, interrupted};
pub use wait::{wait_until, WaitError};
