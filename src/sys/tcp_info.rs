//! The TCP_INFO socket option: the kernel's own view of one TCP socket (its state and, for a
//! listener, its accept queue), read with one `getsockopt`.

use std::io;
use std::mem;
use std::os::fd::RawFd;

/// What sockplay reads of `struct tcp_info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpInfo {
    /// The state number (`TCP_ESTABLISHED` = 1 … `TCP_NEW_SYN_RECV` = 12).
    pub state: u8,
    /// Segments sent and not yet acknowledged; for a listener, the accept queue's length.
    pub unacked: u32,
    /// Segments selectively acknowledged; for a listener, the accept queue's limit (its backlog).
    pub sacked: u32,
    /// Segments the socket ever sent, its SYN included (`tcpi_segs_out`), and received: 0 for a
    /// socket that never tried to connect.
    pub segs_out: u32,
    pub segs_in: u32,
}

/// Reads `TCP_INFO` for the TCP socket numbered `fd` in this process.
///
/// Fails with the `errno` of `getsockopt`: `EBADF` if `fd` is not open, `ENOTSOCK` if it is not a
/// socket, `EOPNOTSUPP` or `ENOPROTOOPT` if it is a socket of another protocol.
pub fn tcp_info(fd: RawFd) -> io::Result<TcpInfo> {
    // SAFETY: tcp_info is a plain C struct of integers, for which all-zero bytes are a valid value.
    // Starting from zeros matters: an older kernel fills only the prefix it knows and leaves the rest.
    let mut info: libc::tcp_info = unsafe { mem::zeroed() };
    let mut len = mem::size_of::<libc::tcp_info>() as libc::socklen_t;
    // SAFETY: `info` and `len` are live locals, and `len` tells the kernel how many bytes `info`
    // can hold, so it never writes past it.
    syscall!(getsockopt(
        fd,
        libc::IPPROTO_TCP,
        libc::TCP_INFO,
        (&raw mut info).cast(),
        &mut len,
    ))?;
    Ok(TcpInfo {
        state: info.tcpi_state,
        unacked: info.tcpi_unacked,
        sacked: info.tcpi_sacked,
        segs_out: info.tcpi_segs_out,
        segs_in: info.tcpi_segs_in,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::os::fd::AsRawFd;

    /// `TCP_LISTEN` of `include/net/tcp_states.h`.
    const TCP_LISTEN: u8 = 10;

    #[test]
    fn reads_a_listeners_state_and_backlog() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let info = tcp_info(listener.as_raw_fd()).expect("TCP_INFO");
        assert_eq!(info.state, TCP_LISTEN);
        assert_eq!(
            (info.unacked, info.sacked),
            (0, 128),
            "std listens with 128"
        );
    }

    #[test]
    fn fails_on_a_non_tcp_fd() {
        let (reader, _writer) = std::io::pipe().expect("pipe");
        let err = tcp_info(reader.as_raw_fd()).expect_err("a pipe has no TCP_INFO");
        assert_eq!(err.raw_os_error(), Some(libc::ENOTSOCK));
    }
}
