//! Text, below everything else: the one escape language both ways (bytes a peer or the kernel
//! controls written so they read back exactly, and DATA the user types decoded), lines made safe
//! for a terminal, display widths, hexdumps of received bytes, and small words (counted nouns, the
//! word a typo meant). Nothing here knows about sockets.

mod escape;
mod hexdump;
mod width;
mod words;
mod wrap;

pub(crate) use escape::is_shown_as_is;
pub use escape::{
    escape_bytes, escape_text, safe_line, safe_styled_line, sanitize_line, unescape, BadEscape,
};
pub use hexdump::{hexdump, looks_binary};
pub use width::{display_width, strip_ansi};
pub use words::{closest, plural};
pub use wrap::{wrap_line, wrap_to_width};
