//! [`SockType`]: a socket's type.

use std::borrow::Cow;
use std::fmt;

/// The SOCK_ numbers of `include/linux/net.h`.
const SOCK_STREAM: i32 = 1;
const SOCK_DGRAM: i32 = 2;
const SOCK_RAW: i32 = 3;
const SOCK_RDM: i32 = 4;
const SOCK_SEQPACKET: i32 = 5;

/// A socket's type: the four a user can make, and any other the kernel reports by its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum SockType {
    Stream,
    Dgram,
    Seqpacket,
    Raw,
    Other(i32),
}

// The types a user can name.
super::words!(SockType {
    "stream" => SockType::Stream,
    "dgram" => SockType::Dgram,
    "seqpacket" => SockType::Seqpacket,
    "raw" => SockType::Raw,
});

impl SockType {
    /// The type of a SOCK_ number.
    pub fn from_number(number: i32) -> SockType {
        match number {
            SOCK_STREAM => SockType::Stream,
            SOCK_DGRAM => SockType::Dgram,
            SOCK_SEQPACKET => SockType::Seqpacket,
            SOCK_RAW => SockType::Raw,
            other => SockType::Other(other),
        }
    }

    /// The SOCK_ number.
    pub fn number(self) -> i32 {
        match self {
            SockType::Stream => SOCK_STREAM,
            SockType::Dgram => SOCK_DGRAM,
            SockType::Seqpacket => SOCK_SEQPACKET,
            SockType::Raw => SOCK_RAW,
            SockType::Other(number) => number,
        }
    }

    /// The C constant, as strace prints it (`SOCK_STREAM`); a type without one by its number.
    pub fn constant(self) -> Cow<'static, str> {
        match self {
            SockType::Stream => "SOCK_STREAM".into(),
            SockType::Dgram => "SOCK_DGRAM".into(),
            SockType::Seqpacket => "SOCK_SEQPACKET".into(),
            SockType::Raw => "SOCK_RAW".into(),
            SockType::Other(SOCK_RDM) => "SOCK_RDM".into(),
            SockType::Other(number) => number.to_string().into(),
        }
    }
}

/// `stream`, `dgram`, `seqpacket`, `raw`, `rdm`, or `type<N>`.
impl fmt::Display for SockType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SockType::Stream => f.write_str("stream"),
            SockType::Dgram => f.write_str("dgram"),
            SockType::Seqpacket => f.write_str("seqpacket"),
            SockType::Raw => f.write_str("raw"),
            SockType::Other(SOCK_RDM) => f.write_str("rdm"),
            SockType::Other(number) => write!(f, "type{number}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::Words;

    #[test]
    fn numbers_are_the_kernels() {
        use nix::sys::socket::SockType as C;
        assert_eq!(SockType::Stream.number(), C::Stream as i32);
        assert_eq!(SockType::Dgram.number(), C::Datagram as i32);
        assert_eq!(SockType::Seqpacket.number(), C::SeqPacket as i32);
        assert_eq!(SockType::Raw.number(), C::Raw as i32);
        assert_eq!(SockType::from_number(C::Rdm as i32).to_string(), "rdm");
        for number in 1..=12 {
            assert_eq!(SockType::from_number(number).number(), number);
        }
    }

    #[test]
    fn names_words_and_constants() {
        assert_eq!(SockType::Other(9).to_string(), "type9");
        assert_eq!(SockType::from_word("DGRAM"), Some(SockType::Dgram));
        assert_eq!(SockType::from_word("rdm"), None);
        assert_eq!(SockType::Seqpacket.constant(), "SOCK_SEQPACKET");
        for word in SockType::WORDS {
            assert_eq!(
                SockType::from_word(word).map(|t| t.to_string()).as_deref(),
                Some(*word)
            );
        }
    }
}
