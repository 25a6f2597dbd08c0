//! [`Family`]: a socket's address family.

use std::borrow::Cow;
use std::fmt;

/// The AF_ numbers of `include/linux/socket.h` that have a variant of their own.
const AF_UNIX: i32 = 1;
const AF_INET: i32 = 2;
const AF_INET6: i32 = 10;

/// A socket's address family: the three a user can make, and any other the kernel reports (a
/// netlink or packet socket inherited or passed in) by its AF_ number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Family {
    Inet,
    Inet6,
    Unix,
    Other(i32),
}

// The families a user can name.
super::words!(Family {
    "inet" => Family::Inet,
    "inet6" => Family::Inet6,
    "unix" => Family::Unix,
});

impl Family {
    /// The family of an AF_ number.
    pub fn from_number(number: i32) -> Family {
        match number {
            AF_INET => Family::Inet,
            AF_INET6 => Family::Inet6,
            AF_UNIX => Family::Unix,
            other => Family::Other(other),
        }
    }

    /// The AF_ number.
    pub fn number(self) -> i32 {
        match self {
            Family::Inet => AF_INET,
            Family::Inet6 => AF_INET6,
            Family::Unix => AF_UNIX,
            Family::Other(number) => number,
        }
    }

    /// Whether this is an internet family, v4 or v6.
    pub fn is_inet(self) -> bool {
        matches!(self, Family::Inet | Family::Inet6)
    }

    /// The C constant, as strace prints it (`AF_INET`); a family without one by its number.
    pub fn constant(self) -> Cow<'static, str> {
        match self {
            Family::Inet => "AF_INET".into(),
            Family::Inet6 => "AF_INET6".into(),
            Family::Unix => "AF_UNIX".into(),
            Family::Other(number) => number.to_string().into(),
        }
    }

    /// The lower-case name of the family, when sockplay knows one.
    fn name(self) -> Option<&'static str> {
        Some(match self {
            Family::Inet => "inet",
            Family::Inet6 => "inet6",
            Family::Unix => "unix",
            // The rest by number, from include/linux/socket.h.
            Family::Other(16) => "netlink",
            Family::Other(17) => "packet",
            Family::Other(15) => "key",
            Family::Other(21) => "rds",
            Family::Other(29) => "can",
            Family::Other(30) => "tipc",
            Family::Other(31) => "bluetooth",
            Family::Other(38) => "alg",
            Family::Other(40) => "vsock",
            Family::Other(42) => "qipcrtr",
            Family::Other(43) => "smc",
            Family::Other(44) => "xdp",
            Family::Other(45) => "mctp",
            Family::Other(_) => return None,
        })
    }
}

/// `inet`, `inet6`, `unix`, the lower-case AF_ name of a few others, or `af<N>`.
impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "af{}", self.number()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::Words;

    #[test]
    fn numbers_are_the_kernels() {
        use nix::sys::socket::AddressFamily as C;
        assert_eq!(Family::Inet.number(), C::Inet as i32);
        assert_eq!(Family::Inet6.number(), C::Inet6 as i32);
        assert_eq!(Family::Unix.number(), C::Unix as i32);
        assert_eq!(Family::Other(C::Netlink as i32).to_string(), "netlink");
        assert_eq!(Family::Other(C::Packet as i32).to_string(), "packet");
        for number in [C::Inet as i32, C::Inet6 as i32, C::Unix as i32, 16, 99] {
            assert_eq!(Family::from_number(number).number(), number);
        }
    }

    #[test]
    fn names_words_and_constants() {
        assert_eq!(Family::Inet6.to_string(), "inet6");
        assert_eq!(Family::Other(99).to_string(), "af99");
        assert_eq!(Family::from_word("UNIX"), Some(Family::Unix));
        assert_eq!(Family::from_word("tcp"), None);
        assert_eq!(Family::Inet.constant(), "AF_INET");
        assert_eq!(Family::Other(99).constant(), "99");
        for word in Family::WORDS {
            assert_eq!(
                Family::from_word(word).map(|f| f.to_string()).as_deref(),
                Some(*word)
            );
        }
    }
}
