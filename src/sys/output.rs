//! sockplay's own lines on stdout and stderr, written so that a reader that went away (EPIPE, as in
//! `sockplay --tutorial | head`) or a stream that cannot be written (EBADF) ends the output, never
//! the process: `println!` and `eprintln!` panic there. SIGPIPE stays ignored, as the Rust runtime
//! sets it before `main`, so such a write returns EPIPE instead of killing sockplay by a signal.

use std::fmt;
use std::io::{self, Write};

/// Writes one line to stdout; the error says why it could not (the caller may stop writing).
pub fn print_line(line: fmt::Arguments) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "{line}")?;
    stdout.flush()
}

/// Writes one line to stderr. Nowhere is left to report a failure to: it is dropped.
pub fn eprint_line(line: fmt::Arguments) {
    let mut stderr = io::stderr().lock();
    let _ = writeln!(stderr, "{line}");
}

/// `println!` that cannot panic: a line that cannot be written is dropped.
macro_rules! outln {
    () => {
        $crate::sys::outln!("")
    };
    ($($arg:tt)*) => {{
        let _ = $crate::sys::print_line(::std::format_args!($($arg)*));
    }};
}

/// `eprintln!` that cannot panic.
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::sys::eprint_line(::std::format_args!($($arg)*))
    };
}

pub(crate) use {errln, outln};
