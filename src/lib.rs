//! sockplay: an interactive socket playground for Linux. Real kernel sockets, and the process's FD
//! table after every step.
//!
//! Data flows one way: line → tokens → [`lang::Command`] → the playground process it runs in
//! ([`process`], where [`session::Session::execute`] runs it) → outcome and that process's FD
//! snapshot ([`fdtable`]) → [`render`]. The engine holds none of the user's sockets: every
//! process, `main` included, is a worker of its own. The [`front`] ends (the prompt, script replay, the
//! tutorials) share [`engine::Engine`] and return an [`Error`] when a run ends early; [`run`] is
//! the one place that prints it and chooses the exit status. Under everything, [`text`]: the escape
//! language, safe lines, widths and small words.

pub mod cli;
pub mod engine;
pub mod error;
pub mod fdtable;
pub mod front;
pub mod help;
pub mod lang;
pub mod net;
pub mod process;
pub mod render;
mod run;
pub mod session;
pub mod sys;
pub mod text;

pub use error::Error;
pub use run::run;
