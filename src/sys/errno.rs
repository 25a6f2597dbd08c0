//! Errno names (`ECONNREFUSED`) both ways.

use nix::errno::Errno;

/// The errno's C name, e.g. `EADDRINUSE`.
pub fn errno_name(errno: Errno) -> String {
    format!("{errno:?}")
}

/// The second names some errnos have in C: `EWOULDBLOCK` is `EAGAIN`, `ENOTSUP` is `EOPNOTSUPP`.
const ALIASES: [(&str, Errno); 2] = [
    ("EWOULDBLOCK", Errno::EAGAIN),
    ("ENOTSUP", Errno::EOPNOTSUPP),
];

/// Every errno name the kernel's numbers have, and their second names: what `expect error` takes.
pub fn errno_names() -> Vec<String> {
    (1..256)
        .map(Errno::from_raw)
        .filter(|errno| *errno != Errno::UnknownErrno)
        .map(errno_name)
        .chain(ALIASES.iter().map(|(alias, _)| alias.to_string()))
        .collect()
}

/// The errno called `name` (its second name too: `EWOULDBLOCK` for `EAGAIN`).
pub fn errno_from_name(name: &str) -> Option<Errno> {
    let name = name.to_ascii_uppercase();
    if let Some((_, errno)) = ALIASES.iter().find(|(alias, _)| *alias == name) {
        return Some(*errno);
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
        assert_eq!(errno_from_name("ENOTSUP"), Some(Errno::EOPNOTSUPP));
        assert_eq!(errno_from_name("ENOTANERRNO"), None);
    }
}
