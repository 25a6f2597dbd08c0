//! Errno names (`ECONNREFUSED`) both ways.

use nix::errno::Errno;

/// The errno's C name, e.g. `EADDRINUSE`.
pub fn errno_name(errno: Errno) -> String {
    format!("{errno:?}")
}

/// The errno called `name` (`EWOULDBLOCK` is accepted for `EAGAIN`).
pub fn errno_from_name(name: &str) -> Option<Errno> {
    let name = name.to_ascii_uppercase();
    if name == "EWOULDBLOCK" {
        return Some(Errno::EAGAIN);
    }
    (1..256)
        .map(Errno::from_raw)
        .find(|errno| *errno != Errno::UnknownErrno && errno_name(*errno) == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for errno in [
            Errno::EADDRINUSE,
            Errno::ECONNREFUSED,
            Errno::ETIMEDOUT,
            Errno::EMFILE,
        ] {
            assert_eq!(errno_from_name(&errno_name(errno)), Some(errno));
        }
        assert_eq!(errno_from_name("ewouldblock"), Some(Errno::EAGAIN));
        assert_eq!(errno_from_name("ENOTANERRNO"), None);
    }
}
