//! sockplay: an interactive socket playground for Linux. Real kernel sockets, and the process's FD
//! table after every step.
//!
//! Data flows one way: line → tokens → [`lang::Command`] → the playground process it runs in
//! ([`process`], where [`session::Session::execute`] runs it) → outcome and that process's FD
//! snapshot ([`fdtable`]) → [`render`]. The front ends (REPL, script replay) share
//! [`engine::Engine`], which holds none of the user's sockets: every process, `main` included, is a
//! worker of its own.

pub mod cli;
pub mod engine;
pub mod fdtable;
pub mod help;
pub mod lang;
pub mod net;
pub mod process;
pub mod render;
pub mod repl;
pub mod replay;
mod run;
pub mod session;
pub mod sys;
pub mod tutorial;

pub use run::run;
