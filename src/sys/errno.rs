//! Errno names (`ECONNREFUSED`) both ways, and the one-line hints for the errors learners meet most.

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

/// A hint for `errno` that holds whatever the call was; calls with more context word their own.
pub fn generic_hint(errno: Errno) -> Option<&'static str> {
    Some(match errno {
        Errno::EADDRINUSE => "another socket is bound to that address, or one sits in TIME_WAIT; pick another port, or :0 to let the kernel choose",
        Errno::ECONNREFUSED => "nothing is listening there: start a listener first (socket, bind, listen), and check the port",
        Errno::ENOTCONN => "the socket is not connected: `connect` it first, or use the fd that `accept` returned",
        Errno::EPIPE => "the peer has closed the connection, so there is no one to write to; close this socket too",
        Errno::ECONNRESET => "the peer reset the connection (it closed with unread data, or aborted); close this socket",
        Errno::EAGAIN => "the socket is non-blocking and the call would have had to wait; try again later, or wait with select/poll",
        Errno::EBADF => "that fd is not open: see the panel or `fds` for the open ones",
        Errno::EMFILE => "this process has no free fd left (\"Too many open files\"): close sockets you no longer need",
        Errno::EINVAL => "the call does not fit the socket's current state (e.g. bind twice, accept on a socket that is not listening)",
        Errno::EACCES => "permission denied: ports below 1024 need root, and unix socket paths need write access to their directory",
        Errno::ETIMEDOUT => "nothing happened within the timeout; `set timeout SECS` to wait longer",
        Errno::EINTR => "the wait was interrupted (Ctrl-C); the socket is still open and usable",
        Errno::EISCONN => "the socket is already connected; make a new socket for another connection",
        Errno::EOPNOTSUPP => "this socket type does not support that call (e.g. listen or accept on a datagram socket)",
        Errno::EAFNOSUPPORT => "the address does not fit the socket's family (e.g. an IPv6 address on an inet socket, or a path on a TCP socket)",
        Errno::EADDRNOTAVAIL => "that IP is not an address of this machine (bind) or cannot be reached from it (connect)",
        Errno::ENOENT => "no socket file exists at that path: is the server bound there?",
        Errno::EINPROGRESS => "the socket is non-blocking: the handshake goes on in the background; wait for it to become writable",
        Errno::EALREADY => "a non-blocking connect is still in progress",
        Errno::EDESTADDRREQ => "a datagram socket needs a destination: connect it first, or use sendto",
        Errno::EMSGSIZE => "the message is larger than one datagram can carry",
        _ => return None,
    })
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
