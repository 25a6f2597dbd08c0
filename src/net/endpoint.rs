//! [`Endpoint`]: one end's address, typed, as the kernel gives it.

use std::fmt;
use std::net::{SocketAddr, SocketAddrV6};

use socket2::SockAddr;

use crate::text::escape_bytes;

/// A socket's address: an internet address and port, a Unix path or abstract name (the exact
/// bytes), or the address of an unnamed Unix socket.
///
/// Displays as the panel shows it: `127.0.0.1:8080`, `[::1]:8080`, `/tmp/x.sock`, `@name`, with the
/// bytes of paths and names escaped so they are safe to print and decode back exactly.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Endpoint {
    Inet(SocketAddr),
    /// A filesystem path, without the kernel's terminating NUL.
    Path(Vec<u8>),
    /// An abstract name, without its leading NUL.
    Abstract(Vec<u8>),
    /// A Unix socket with no name (a socketpair end, an unbound client).
    Unnamed,
}

impl Endpoint {
    /// An internet endpoint. The IPv6 flow label is dropped: it is not part of the address as
    /// shown, so two ends that show the same address compare equal.
    pub fn inet(addr: SocketAddr) -> Endpoint {
        Endpoint::Inet(match addr {
            SocketAddr::V6(v6) => {
                SocketAddr::V6(SocketAddrV6::new(*v6.ip(), v6.port(), 0, v6.scope_id()))
            }
            v4 => v4,
        })
    }

    /// An internet endpoint, or None for the wildcard address with port 0: what an unbound or
    /// unconnected socket reports.
    pub fn inet_if_set(addr: SocketAddr) -> Option<Endpoint> {
        if addr.ip().is_unspecified() && addr.port() == 0 {
            None
        } else {
            Some(Endpoint::inet(addr))
        }
    }

    /// A Unix address from the bytes of its `sun_path` as the kernel reports them: empty for an
    /// unnamed socket, a leading NUL for an abstract name, else a path (up to its NUL, if any).
    pub fn unix(sun_path: &[u8]) -> Endpoint {
        match sun_path.split_first() {
            None => Endpoint::Unnamed,
            Some((0, name)) => Endpoint::Abstract(name.to_vec()),
            Some(_) => {
                let path = sun_path.split(|&b| b == 0).next().unwrap_or_default();
                Endpoint::Path(path.to_vec())
            }
        }
    }

    /// The endpoint of a kernel address; None for families without one here.
    pub fn of(addr: &SockAddr) -> Option<Endpoint> {
        if let Some(inet) = addr.as_socket() {
            return Some(Endpoint::inet(inet));
        }
        if let Some(name) = addr.as_abstract_namespace() {
            return Some(Endpoint::Abstract(name.to_vec()));
        }
        if let Some(path) = addr.as_pathname() {
            use std::os::unix::ffi::OsStrExt as _;
            return Some(Endpoint::Path(path.as_os_str().as_bytes().to_vec()));
        }
        addr.is_unnamed().then_some(Endpoint::Unnamed)
    }

    /// The endpoint unless it is [`Endpoint::Unnamed`]: an address a socket can be found by.
    pub fn named(self) -> Option<Endpoint> {
        match self {
            Endpoint::Unnamed => None,
            named => Some(named),
        }
    }

    /// The internet address, for an internet endpoint.
    pub fn inet_addr(&self) -> Option<SocketAddr> {
        match self {
            Endpoint::Inet(addr) => Some(*addr),
            _ => None,
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Inet(addr) => write!(f, "{addr}"),
            Endpoint::Path(path) => f.write_str(&escape_bytes(path)),
            Endpoint::Abstract(name) => write!(f, "@{}", escape_bytes(name)),
            Endpoint::Unnamed => f.write_str("(unnamed)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv6Addr, SocketAddrV4};

    #[test]
    fn shown_as_the_panel_shows_addresses() {
        let v4: SocketAddr = "127.0.0.1:8080".parse().expect("v4");
        assert_eq!(Endpoint::inet(v4).to_string(), "127.0.0.1:8080");
        let v6 = SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::LOCALHOST, 80, 7, 0));
        assert_eq!(Endpoint::inet(v6).to_string(), "[::1]:80");
        let scoped = SocketAddr::V6(SocketAddrV6::new("fe80::1".parse().expect("ip"), 80, 0, 2));
        assert_eq!(Endpoint::inet(scoped).to_string(), "[fe80::1%2]:80");
        assert_eq!(Endpoint::unix(b"/tmp/x.sock\0").to_string(), "/tmp/x.sock");
        assert_eq!(Endpoint::unix(b"/tmp/\n").to_string(), r"/tmp/\n");
        assert_eq!(Endpoint::unix(b"\0a\0b").to_string(), r"@a\0b");
        assert_eq!(
            Endpoint::unix(b"\0play\x1b[2J").to_string(),
            r"@play\x1b[2J"
        );
        assert_eq!(Endpoint::unix(b""), Endpoint::Unnamed);
    }

    #[test]
    fn the_flow_label_is_not_part_of_the_address() {
        let with = SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::LOCALHOST, 80, 99, 0));
        let without = SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::LOCALHOST, 80, 0, 0));
        assert_eq!(Endpoint::inet(with), Endpoint::inet(without));
    }

    #[test]
    fn unset_inet_addresses_are_none() {
        let any = SocketAddr::V4(SocketAddrV4::new(std::net::Ipv4Addr::UNSPECIFIED, 0));
        assert_eq!(Endpoint::inet_if_set(any), None);
        let any_port = SocketAddr::V4(SocketAddrV4::new(std::net::Ipv4Addr::UNSPECIFIED, 9));
        assert_eq!(
            Endpoint::inet_if_set(any_port).map(|e| e.to_string()),
            Some("0.0.0.0:9".to_string())
        );
    }

    #[test]
    fn kernel_addresses() {
        let path = SockAddr::unix("/tmp/e.sock").expect("path");
        assert_eq!(
            Endpoint::of(&path),
            Some(Endpoint::Path(b"/tmp/e.sock".to_vec()))
        );
        let v4: SocketAddr = "10.0.0.1:1".parse().expect("v4");
        assert_eq!(Endpoint::of(&SockAddr::from(v4)), Some(Endpoint::Inet(v4)));
        assert_eq!(Endpoint::Unnamed.named(), None);
        assert_eq!(Endpoint::Inet(v4).inet_addr(), Some(v4));
    }
}
