//! Turning an ADDR as typed into the kernel address for one socket, and showing kernel addresses.

use std::ffi::OsStr;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::os::unix::ffi::OsStrExt;

use socket2::{Domain, SockAddr};

use super::{Context, Failure, Session};
use crate::lang::AddrSpec;

impl Session {
    /// Resolves `spec` into an address for a socket of `domain`.
    pub(super) fn resolve_addr(
        &self,
        spec: &AddrSpec,
        domain: Domain,
    ) -> Result<SockAddr, Failure> {
        match spec {
            AddrSpec::Inet { host, port } => {
                if domain == Domain::UNIX {
                    return Err(Failure::usage(format!(
                        "`{spec}` is an IP address, but this is a unix socket: give it a path (/tmp/play.sock) or @name"
                    )));
                }
                let ip = match host {
                    None if domain == Domain::IPV6 => IpAddr::V6(Ipv6Addr::LOCALHOST),
                    None => IpAddr::V4(Ipv4Addr::LOCALHOST),
                    Some(host) => resolve_host(host, *port, domain)?,
                };
                Ok(SockAddr::from(SocketAddr::new(ip, *port)))
            }
            AddrSpec::Path(path) => SockAddr::unix(path).map_err(|_| {
                Failure::usage(format!(
                    "the path `{}` is too long for a unix socket address (at most 107 bytes)",
                    path.display()
                ))
            }),
            AddrSpec::Abstract(name) => {
                let mut bytes = vec![0u8];
                bytes.extend_from_slice(name);
                SockAddr::unix(OsStr::from_bytes(&bytes)).map_err(|_| {
                    Failure::usage("the abstract name is too long (at most 107 bytes)".to_string())
                })
            }
            AddrSpec::Found { text, endpoint } => {
                let addr = sock_addr_of(endpoint).ok_or_else(|| {
                    Failure::usage(format!("`{text}` has no address a socket can reach"))
                })?;
                Ok(reachable_from(addr, domain))
            }
            AddrSpec::ProcRef { process, name } => Err(Failure::usage(format!(
                "`${process}.{name}` names a socket of process {process}: sockplay looks it up before the command runs"
            ))),
            AddrSpec::Ref(name) => {
                let fd = self.resolve(&crate::lang::SockRef::Name(name.clone()))?;
                let local = self.socket_at(fd)?.local_addr().map_err(|e| {
                    Failure::usage(format!("cannot read the address of `{name}`: {e}"))
                })?;
                if is_unbound(&local) {
                    return Err(Failure::usage(format!(
                        "`{name}` (fd {fd}) has no address yet: bind it first, e.g. `bind {name} :0`"
                    )));
                }
                Ok(reachable_from(local, domain))
            }
        }
    }
}

/// The kernel address of an endpoint; None for an unnamed Unix socket.
fn sock_addr_of(endpoint: &crate::net::Endpoint) -> Option<SockAddr> {
    use crate::net::Endpoint;
    match endpoint {
        Endpoint::Inet(addr) => Some(SockAddr::from(*addr)),
        Endpoint::Path(path) => SockAddr::unix(OsStr::from_bytes(path)).ok(),
        Endpoint::Abstract(name) => {
            let mut bytes = vec![0u8];
            bytes.extend_from_slice(name);
            SockAddr::unix(OsStr::from_bytes(&bytes)).ok()
        }
        Endpoint::Unnamed => None,
    }
}

/// Looks up a host name, keeping the first address of the socket's family.
fn resolve_host(host: &str, port: u16, domain: Domain) -> Result<IpAddr, Failure> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(ip);
    }
    let found = (host, port).to_socket_addrs().map_err(|e| {
        Failure::usage(format!("cannot resolve `{host}`: {e}"))
            .hint_for("getaddrinfo", Context::Plain)
    })?;
    let want_v6 = domain == Domain::IPV6;
    let mut found: Vec<SocketAddr> = found.collect();
    found.sort_by_key(|addr| addr.is_ipv6() != want_v6);
    found
        .first()
        .map(|addr| addr.ip())
        .ok_or_else(|| Failure::usage(format!("`{host}` has no address")))
}

/// Whether a kernel address is the "not bound" one (0.0.0.0:0, [::]:0, or an unnamed unix socket).
pub fn is_unbound(addr: &SockAddr) -> bool {
    match addr.as_socket() {
        Some(socket) => socket.port() == 0 && socket.ip().is_unspecified(),
        None => addr.is_unnamed(),
    }
}

/// The address a socket of `domain` uses to reach a socket bound at `addr`. A wildcard bind
/// (0.0.0.0 or ::) means "this machine", so loopback; across families an IPv4 address is reached from
/// inet6 as `::ffff:a.b.c.d` and a dual-stack `[::]` listener from inet as 127.0.0.1.
fn reachable_from(addr: SockAddr, domain: Domain) -> SockAddr {
    let Some(socket) = addr.as_socket() else {
        return addr;
    };
    let port = socket.port();
    let ip = match (socket.ip(), domain) {
        (IpAddr::V6(v6), Domain::IPV4) if v6.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        (IpAddr::V6(v6), Domain::IPV4) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        (IpAddr::V4(v4), Domain::IPV6) => {
            let v4 = if v4.is_unspecified() {
                Ipv4Addr::LOCALHOST
            } else {
                v4
            };
            IpAddr::V6(v4.to_ipv6_mapped())
        }
        (IpAddr::V4(v4), _) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        (IpAddr::V6(v6), _) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        (ip, _) => ip,
    };
    SockAddr::from(SocketAddr::new(ip, port))
}

/// A kernel address as sockplay shows it: `127.0.0.1:8080`, `[::1]:80`, `/tmp/x.sock`, `@name`.
pub fn show_addr(addr: &SockAddr) -> String {
    crate::fdtable::format_address(addr).unwrap_or_else(|| "(unnamed)".to_string())
}
