//! Text that sockplay shows: the one escape language (bytes a peer or the kernel controls, written
//! so they read back exactly), lines made safe for a terminal, and hexdumps of received bytes.

mod escape;
mod hexdump;

pub(crate) use escape::is_shown_as_is;
pub use escape::{escape_bytes, escape_text, safe_line, safe_styled_line, sanitize_line};
pub use hexdump::{hexdump, looks_binary};
