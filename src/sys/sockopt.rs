//! Socket options by their kernel numbers: each option sockplay offers as a typed constant
//! ([`Opt`]: its level and name), and getsockopt(2)/setsockopt(2) for the two value shapes they
//! take, an int and a `struct linger`.

use std::mem::size_of;
use std::os::fd::{AsRawFd, BorrowedFd};

use nix::errno::Errno;

/// A socket option as the kernel knows it: the level it belongs to and its number there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opt {
    level: libc::c_int,
    name: libc::c_int,
}

const fn socket_level(name: libc::c_int) -> Opt {
    Opt {
        level: libc::SOL_SOCKET,
        name,
    }
}

const fn tcp_level(name: libc::c_int) -> Opt {
    Opt {
        level: libc::IPPROTO_TCP,
        name,
    }
}

pub const SO_REUSEADDR: Opt = socket_level(libc::SO_REUSEADDR);
pub const SO_REUSEPORT: Opt = socket_level(libc::SO_REUSEPORT);
pub const SO_KEEPALIVE: Opt = socket_level(libc::SO_KEEPALIVE);
pub const SO_RCVBUF: Opt = socket_level(libc::SO_RCVBUF);
pub const SO_SNDBUF: Opt = socket_level(libc::SO_SNDBUF);
pub const SO_RCVLOWAT: Opt = socket_level(libc::SO_RCVLOWAT);
pub const SO_BROADCAST: Opt = socket_level(libc::SO_BROADCAST);
pub const SO_LINGER: Opt = socket_level(libc::SO_LINGER);
pub const SO_OOBINLINE: Opt = socket_level(libc::SO_OOBINLINE);
pub const SO_ERROR: Opt = socket_level(libc::SO_ERROR);
pub const SO_TYPE: Opt = socket_level(libc::SO_TYPE);
pub const SO_DOMAIN: Opt = socket_level(libc::SO_DOMAIN);
pub const SO_ACCEPTCONN: Opt = socket_level(libc::SO_ACCEPTCONN);
pub const TCP_NODELAY: Opt = tcp_level(libc::TCP_NODELAY);
pub const TCP_KEEPIDLE: Opt = tcp_level(libc::TCP_KEEPIDLE);
pub const TCP_KEEPINTVL: Opt = tcp_level(libc::TCP_KEEPINTVL);
pub const TCP_KEEPCNT: Opt = tcp_level(libc::TCP_KEEPCNT);
pub const TCP_MAXSEG: Opt = tcp_level(libc::TCP_MAXSEG);
pub const TCP_QUICKACK: Opt = tcp_level(libc::TCP_QUICKACK);
pub const IPV6_V6ONLY: Opt = Opt {
    level: libc::IPPROTO_IPV6,
    name: libc::IPV6_V6ONLY,
};

/// `struct linger`: whether close waits for unsent data, and for how many seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Linger {
    /// `l_onoff`: any value but 0 is on.
    pub onoff: i32,
    /// `l_linger`: seconds; 0 with `onoff` on makes close reset the connection.
    pub secs: i32,
}

/// setsockopt(2) of an int-valued option.
pub fn set_int(fd: BorrowedFd<'_>, opt: Opt, value: i32) -> nix::Result<()> {
    let value: libc::c_int = value;
    set_raw(fd, opt, &value)
}

/// setsockopt(2) of a `struct linger` option (SO_LINGER).
pub fn set_linger(fd: BorrowedFd<'_>, opt: Opt, linger: Linger) -> nix::Result<()> {
    let value = libc::linger {
        l_onoff: linger.onoff,
        l_linger: linger.secs,
    };
    set_raw(fd, opt, &value)
}

/// getsockopt(2) of an int-valued option.
pub fn get_int(fd: BorrowedFd<'_>, opt: Opt) -> nix::Result<i32> {
    let mut value: libc::c_int = 0;
    get_raw(fd, opt, &mut value)?;
    Ok(value)
}

/// getsockopt(2) of a `struct linger` option (SO_LINGER).
pub fn get_linger(fd: BorrowedFd<'_>, opt: Opt) -> nix::Result<Linger> {
    let mut value = libc::linger {
        l_onoff: 0,
        l_linger: 0,
    };
    get_raw(fd, opt, &mut value)?;
    Ok(Linger {
        onoff: value.l_onoff,
        secs: value.l_linger,
    })
}

/// setsockopt(2) with `value`, a plain C value of the type the option has.
fn set_raw<T>(fd: BorrowedFd<'_>, opt: Opt, value: &T) -> nix::Result<()> {
    let length = libc::socklen_t::try_from(size_of::<T>()).map_err(|_| Errno::EINVAL)?;
    // SAFETY: `value` is a live T and `length` says its size; the kernel only reads it. The fd is
    // borrowed, so open.
    let result = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            opt.level,
            opt.name,
            std::ptr::from_ref::<T>(value).cast::<libc::c_void>(),
            length,
        )
    };
    Errno::result(result).map(drop)
}

/// getsockopt(2) into `value`, a plain C value of the type the option has.
fn get_raw<T>(fd: BorrowedFd<'_>, opt: Opt, value: &mut T) -> nix::Result<()> {
    let mut length = libc::socklen_t::try_from(size_of::<T>()).map_err(|_| Errno::EINVAL)?;
    // SAFETY: `value` is a live, writable T and `length` says its size; the kernel writes at most
    // that many bytes. The fd is borrowed, so open.
    let result = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            opt.level,
            opt.name,
            std::ptr::from_mut::<T>(value).cast::<libc::c_void>(),
            &mut length,
        )
    };
    Errno::result(result).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::os::fd::AsFd;

    #[test]
    fn set_and_get_an_int_and_a_linger() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let fd = listener.as_fd();
        assert_eq!(get_int(fd, SO_ACCEPTCONN), Ok(1));
        assert_eq!(get_int(fd, SO_TYPE), Ok(libc::SOCK_STREAM));
        set_int(fd, TCP_NODELAY, 1).expect("TCP_NODELAY");
        assert_eq!(get_int(fd, TCP_NODELAY), Ok(1));
        set_linger(fd, SO_LINGER, Linger { onoff: 1, secs: 3 }).expect("SO_LINGER");
        assert_eq!(get_linger(fd, SO_LINGER), Ok(Linger { onoff: 1, secs: 3 }));
        assert_eq!(get_int(fd, IPV6_V6ONLY), Err(Errno::EOPNOTSUPP));
    }
}
