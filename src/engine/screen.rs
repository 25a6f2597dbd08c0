//! Where the engine's output goes. The engine lays out what a step shows, but the front end
//! decides where that goes and how big it may be: it hands the engine a [`Screen`] (its terminal,
//! in `front/terminal.rs`), and the engine never writes to a stream itself.

use std::fmt;
use std::io;

/// The front end's output, as the engine sees it.
pub trait Screen: fmt::Debug {
    /// Shows lines the engine laid out from parts it made safe first: a step's output with the
    /// panel beside or below it (its colours the only escape sequences), or a JSON record. An
    /// error means the output is gone (stdout closed): the step ran, but nobody saw it.
    fn show(&mut self, lines: &[String]) -> io::Result<()>;

    /// Tells something on the error stream that is part of a step: the line a sourced script
    /// stopped at, a line a recording lost.
    fn report(&mut self, text: &str);

    /// The width to lay out in, in columns, when it is known.
    fn width(&self) -> Option<usize>;

    /// The height in rows, when the output is a terminal: panels are cut to fit it. None for a
    /// pipe or a file, which get every row.
    fn height(&self) -> Option<usize>;
}
