//! The playground's processes. Every process the user plays in — `main` included — is a worker
//! ([`run_worker`]): the same executable started in a hidden mode, holding that process's
//! sockets, making its calls and taking its own snapshot. The front end (prompt, renderer,
//! recording) holds none of the user's sockets; it reaches the processes through [`Processes`],
//! a registry of handles (name, pid, parent, state, control channel), and a step is: send the
//! command to the process it runs in, get back the outcome and what changed in that process's
//! table, which the front end's copy ([`Table`]) takes in.
//!
//! `spawn` and `fork` happen inside a worker, which hands the new process's control channel to
//! the front end with SCM_RIGHTS; the worker that made a process reaps it and reports how it
//! ended. The front end reaps `main` and any process whose parent died before it (it is their
//! subreaper). When the front end ends, however it ends, the channels close and every worker
//! exits, removing the socket files its binds made.

mod channel;
mod handle;
mod message;
mod names;
mod registry;
mod waits;
mod worker;

pub use handle::{Background, Finished, Process, State};
pub use message::{Changed, Done, NewChild, ProcessView, Table, TableUpdate, ViewUpdate};
pub use names::resolve_addresses;
pub use registry::{Processes, TimedOut};
pub use worker::{run_worker, worker_channel, WORKER_ENV};

/// Names the sockplay executable that runs the playground's processes, when sockplay's front end
/// runs inside another program (a fuzz target calling `sockplay::run`); unset, it is sockplay
/// itself.
pub const WORKER_EXE_ENV: &str = "SOCKPLAY_WORKER_EXE";

/// The name of the first process.
pub const MAIN: &str = "main";
