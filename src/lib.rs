//! sockplay: an interactive socket playground for Linux. Real kernel sockets, and the process's FD
//! table after every step.
//!
//! Data flows one way: line → tokens → [`lang::Command`] → [`session::Session::execute`] → outcome →
//! FD snapshot ([`fdtable`]) → [`render`]. The front ends (REPL, script replay) share [`engine::Engine`].

pub mod cli;
pub mod engine;
pub mod explain;
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
