//! [`Kind`]: what an fd refers to.

use serde::{Deserialize, Serialize};

/// What kind of object an fd refers to, as the JSON output names it (SPEC §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Socket,
    Tty,
    Pipe,
    File,
    /// Anything else: epoll instances, eventfds, timerfds, pidfds, …
    Other,
}
