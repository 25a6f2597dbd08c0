//! ADDR arguments as typed: `HOST:PORT`, `[V6]:PORT`, `:PORT` (loopback), a Unix path, `@abstract`, or
//! `$NAME` (the address socket NAME is bound to). Resolution to a kernel address happens when the
//! command runs, because `$NAME` and host names depend on the moment.

use std::fmt;
use std::path::PathBuf;

use super::SyntaxError;

/// An address argument, parsed but not yet resolved.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum AddrSpec {
    /// `HOST:PORT`, `[V6]:PORT` or `:PORT` (host None: loopback of the socket's family).
    Inet { host: Option<String>, port: u16 },
    /// A filesystem path for a Unix socket.
    Path(PathBuf),
    /// A Linux abstract Unix address (`@name`), without the `@`.
    Abstract(Vec<u8>),
    /// `$NAME`: the local address of the socket called NAME.
    Ref(String),
    /// `$PROC.NAME`: the local address of the socket called NAME in process PROC.
    ProcRef { process: String, name: String },
    /// A `$NAME` or `$PROC.NAME` that sockplay found in another process (or that a closed socket
    /// had): the address as found, and the words that named it, for messages.
    Found {
        text: String,
        endpoint: crate::net::Endpoint,
    },
}

impl AddrSpec {
    /// Parses one ADDR word starting at `column`.
    pub fn parse(text: &str, column: usize) -> Result<AddrSpec, SyntaxError> {
        let err = |message: String| Err(SyntaxError::new(column, message));
        if text.is_empty() {
            return err("empty address: try 127.0.0.1:8080, :0, /tmp/play.sock or @name".into());
        }
        if let Some(name) = text.strip_prefix('$') {
            if let Some((process, name)) = name.split_once('.') {
                if !super::is_valid_name(process) || !super::is_valid_name(name) {
                    return err(format!(
                        "`${process}.{name}` is not PROCESS.NAME: write e.g. $client.c"
                    ));
                }
                return Ok(AddrSpec::ProcRef {
                    process: process.to_string(),
                    name: name.to_string(),
                });
            }
            if !super::is_valid_name(name) {
                return err(format!("`${name}` is not a socket name"));
            }
            return Ok(AddrSpec::Ref(name.to_string()));
        }
        if let Some(name) = text.strip_prefix('@') {
            if name.is_empty() {
                return err("`@` needs a name after it, like @play".into());
            }
            return Ok(AddrSpec::Abstract(name.as_bytes().to_vec()));
        }
        if text.starts_with('/') || text.starts_with("./") || text.starts_with("../") {
            return Ok(AddrSpec::Path(PathBuf::from(text)));
        }
        let Some((host, port)) = text.rsplit_once(':') else {
            return err(format!(
                "`{text}` is not an address: use HOST:PORT, [V6]:PORT, :PORT, a path (/tmp/x.sock, ./x.sock) or @name"
            ));
        };
        let Ok(port) = port.parse::<u16>() else {
            return err(format!(
                "`{port}` is not a port: use a number from 0 to 65535"
            ));
        };
        let host = if host.is_empty() {
            None
        } else if let Some(inner) = host.strip_prefix('[') {
            let Some(v6) = inner.strip_suffix(']') else {
                return err(format!(
                    "`{host}` lacks its closing `]`: write [::1]:{port}"
                ));
            };
            if v6.parse::<std::net::Ipv6Addr>().is_err() {
                return err(format!("`{v6}` is not an IPv6 address"));
            }
            Some(v6.to_string())
        } else if host.contains(':') {
            return err(format!(
                "an IPv6 address needs brackets around it: write [{host}]:{port}"
            ));
        } else {
            Some(host.to_string())
        };
        Ok(AddrSpec::Inet { host, port })
    }
}

impl fmt::Display for AddrSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddrSpec::Inet { host: None, port } => write!(f, ":{port}"),
            AddrSpec::Inet {
                host: Some(host),
                port,
            } if host.contains(':') => write!(f, "[{host}]:{port}"),
            AddrSpec::Inet {
                host: Some(host),
                port,
            } => write!(f, "{host}:{port}"),
            AddrSpec::Path(path) => write!(f, "{}", path.display()),
            AddrSpec::Abstract(name) => write!(f, "@{}", String::from_utf8_lossy(name)),
            AddrSpec::Ref(name) => write!(f, "${name}"),
            AddrSpec::ProcRef { process, name } => write!(f, "${process}.{name}"),
            AddrSpec::Found { text, .. } => f.write_str(text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> AddrSpec {
        AddrSpec::parse(text, 1).expect("parses")
    }

    #[test]
    fn every_form_parses_and_displays_back() {
        for text in [
            "127.0.0.1:8080",
            "localhost:80",
            "[::1]:8080",
            ":0",
            "/tmp/play.sock",
            "./play.sock",
            "@play",
            "$srv",
            "$client.c",
        ] {
            assert_eq!(parse(text).to_string(), text);
        }
        assert_eq!(
            parse("[::1]:9"),
            AddrSpec::Inet {
                host: Some("::1".into()),
                port: 9
            }
        );
    }

    #[test]
    fn bad_addresses_say_what_to_write() {
        for (text, needle) in [
            ("8080", "not an address"),
            ("host:99999", "not a port"),
            ("::1:80", "brackets"),
            ("[::1:80", "closing"),
            ("[zz]:80", "not an IPv6"),
            ("@", "needs a name"),
            ("$1x", "not a socket name"),
            ("$a.1", "not PROCESS.NAME"),
            ("$a.b.c", "not PROCESS.NAME"),
            ("", "empty address"),
        ] {
            let err = AddrSpec::parse(text, 1).expect_err(text);
            assert!(err.message.contains(needle), "{text}: {}", err.message);
        }
    }
}
