//! The socket vocabulary, defined once: address families, socket types, TCP and socket states,
//! typed addresses and the kinds of fd. Everything above speaks in these values; text is made from
//! them only where it is shown (the panel, `ss`, JSON, sentences) and read into them only where a
//! user types a word (`socket inet stream`, `expect state 5 CLOSE_WAIT`).

mod endpoint;
mod family;
mod kind;
mod sock_type;
mod state;
mod words;

pub use endpoint::Endpoint;
pub use family::Family;
pub use kind::Kind;
pub use sock_type::SockType;
pub use state::{SockState, TcpState, UNKNOWN_STATE};
pub(crate) use words::words;
pub use words::{joined, Words};

/// `tcp` and `udp`: the words that name a family and a type at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Tcp,
    Udp,
}

words!(Protocol {
    "tcp" => Protocol::Tcp,
    "udp" => Protocol::Udp,
});

impl Protocol {
    /// The family and type the word stands for: TCP is an inet stream socket, UDP an inet datagram
    /// socket.
    pub fn family_type(self) -> (Family, SockType) {
        match self {
            Protocol::Tcp => (Family::Inet, SockType::Stream),
            Protocol::Udp => (Family::Inet, SockType::Dgram),
        }
    }
}

/// The words a FAMILY argument takes, in the order a usage error lists them: the families, then
/// `tcp` and `udp`, which name a type too.
pub const FAMILY_WORDS: &[&str] =
    &joined::<{ Family::WORDS.len() + Protocol::WORDS.len() }>(Family::WORDS, Protocol::WORDS);

/// Reads a FAMILY word (any case): the family, and the type when the word names one too (`tcp` is
/// an inet stream socket, `udp` an inet datagram socket).
pub fn family_word(word: &str) -> Option<(Family, Option<SockType>)> {
    if let Some(protocol) = Protocol::from_word(word) {
        let (family, sock_type) = protocol.family_type();
        return Some((family, Some(sock_type)));
    }
    Family::from_word(word).map(|family| (family, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_word_reads() {
        assert_eq!(FAMILY_WORDS, ["inet", "inet6", "unix", "tcp", "udp"]);
        for word in FAMILY_WORDS {
            assert!(family_word(word).is_some(), "{word}");
            assert!(family_word(&word.to_ascii_uppercase()).is_some(), "{word}");
        }
        assert_eq!(
            family_word("tcp"),
            Some((Family::Inet, Some(SockType::Stream)))
        );
        assert_eq!(
            family_word("UDP"),
            Some((Family::Inet, Some(SockType::Dgram)))
        );
        assert_eq!(family_word("inet6"), Some((Family::Inet6, None)));
        assert_eq!(family_word("netlink"), None);
    }
}
