//! The call shown is the call the kernel got, and its result is the kernel's. For each call, a
//! socket is put in one state twice: by a sockplay script, and by this test process making the
//! same calls as a plain blocking program would (socket2 and libc, no emulation). The result of the
//! last call must be the same in both — the errno, or the value returned — and must come at once,
//! never after a wait that stands in for the kernel's answer.

use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::Duration;

use nix::errno::Errno;
use serde_json::Value;
use socket2::{Domain, SockAddr, Socket, Type};

use crate::support::{unique_name, Test};

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Got {
    Returned(i64),
    Failed(Errno),
}

use Got::{Failed, Returned};

/// One call in one state.
struct Case {
    /// The state and the call, as a failure names them.
    what: &'static str,
    /// The sockplay script: lines that make the state, then the call itself as the last line.
    script: String,
    /// The same calls made by this process; the result of the last one.
    plain: fn() -> Got,
    /// What Linux answers, so that a state that was not made (both sides wrong alike) is caught.
    expected: Got,
}

fn case(what: &'static str, script: &str, plain: fn() -> Got, expected: Got) -> Case {
    Case {
        what,
        script: script.replace("; ", "\n") + "\n",
        plain,
        expected,
    }
}

// ---- the plain program's calls ----

fn got(result: io::Result<usize>) -> Got {
    match result {
        Ok(n) => Returned(i64::try_from(n).unwrap_or(i64::MAX)),
        Err(e) => Failed(Errno::from_raw(e.raw_os_error().expect("an OS error"))),
    }
}

fn done(result: io::Result<()>) -> Got {
    got(result.map(|()| 0))
}

fn nix_got<T>(result: nix::Result<T>) -> Got {
    match result {
        Ok(_) => Returned(0),
        Err(errno) => Failed(errno),
    }
}

fn tcp() -> Socket {
    Socket::new(Domain::IPV4, Type::STREAM, None).expect("a TCP socket")
}

fn udp() -> Socket {
    Socket::new(Domain::IPV4, Type::DGRAM, None).expect("a UDP socket")
}

fn unix(ty: Type) -> Socket {
    Socket::new(Domain::UNIX, ty, None).expect("a unix socket")
}

fn loopback() -> SockAddr {
    SockAddr::from("127.0.0.1:0".parse::<SocketAddr>().expect("an address"))
}

fn bound(socket: Socket) -> Socket {
    socket.bind(&loopback()).expect("bind 127.0.0.1:0");
    socket
}

fn address(socket: &Socket) -> SockAddr {
    socket.local_addr().expect("its address")
}

/// A TCP listener on 127.0.0.1.
fn listener() -> Socket {
    let listener = bound(tcp());
    listener.listen(128).expect("listen");
    listener
}

/// An address on 127.0.0.1 that was bound and is free again: nothing listens there.
fn gone(socket: Socket) -> SockAddr {
    let bound = bound(socket);
    address(&bound)
}

/// A listener, a client connected to it, and the accepted end.
fn connection() -> (Socket, Socket, Socket) {
    let listener = listener();
    let client = tcp();
    client.connect(&address(&listener)).expect("connect");
    let (accepted, _) = listener.accept().expect("accept");
    (listener, client, accepted)
}

/// A client whose connect was refused.
fn refused() -> Socket {
    let client = tcp();
    let to = gone(tcp());
    assert_eq!(
        done(client.connect(&to)),
        Failed(Errno::ECONNREFUSED),
        "the setup's connect"
    );
    client
}

fn abstract_address(name: &str) -> SockAddr {
    let mut bytes = vec![0u8];
    bytes.extend_from_slice(name.as_bytes());
    SockAddr::unix(std::ffi::OsStr::new(
        std::str::from_utf8(&bytes).expect("ASCII"),
    ))
    .expect("an abstract address")
}

fn recv(socket: &Socket, max: usize) -> Got {
    let mut buffer = vec![0u8; max];
    got(nix::sys::socket::recv(
        socket.as_raw_fd(),
        &mut buffer,
        nix::sys::socket::MsgFlags::empty(),
    )
    .map_err(io::Error::from))
}

fn send(socket: &Socket, data: &[u8]) -> Got {
    got(socket.send_with_flags(data, libc::MSG_NOSIGNAL))
}

fn sendto(socket: &Socket, data: &[u8], to: &SockAddr) -> Got {
    got(socket.send_to_with_flags(data, to, libc::MSG_NOSIGNAL))
}

/// sendmsg(2) with one zero byte and SCM_RIGHTS carrying `passed`, as `sendfd` makes it.
fn sendfd(socket: &Socket, passed: &impl AsRawFd) -> Got {
    use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
    let fds = [passed.as_raw_fd()];
    got(sendmsg::<()>(
        socket.as_raw_fd(),
        &[io::IoSlice::new(&[0])],
        &[ControlMessage::ScmRights(&fds)],
        MsgFlags::MSG_NOSIGNAL,
        None,
    )
    .map_err(io::Error::from))
}

/// recvmsg(2) with room for data and fds, as `recvfd` makes it.
fn recvfd(socket: &Socket) -> Got {
    use nix::sys::socket::{recvmsg, MsgFlags};
    let mut data = [0u8; 4096];
    let mut iov = [io::IoSliceMut::new(&mut data)];
    let mut control = nix::cmsg_space!([std::os::fd::RawFd; 253]);
    got(recvmsg::<()>(
        socket.as_raw_fd(),
        &mut iov,
        Some(&mut control),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )
    .map(|message| message.bytes)
    .map_err(io::Error::from))
}

fn getsockopt_int(socket: &Socket, level: i32, option: i32) -> Got {
    let mut value: libc::c_int = 0;
    let mut len = libc::socklen_t::try_from(std::mem::size_of::<libc::c_int>()).expect("fits");
    // SAFETY: value and len describe a c_int that outlives the call.
    let result = unsafe {
        libc::getsockopt(
            socket.as_raw_fd(),
            level,
            option,
            (&mut value as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    nix_got(Errno::result(result))
}

fn setsockopt_int(socket: &Socket, level: i32, option: i32, value: libc::c_int) -> Got {
    let len = libc::socklen_t::try_from(std::mem::size_of::<libc::c_int>()).expect("fits");
    // SAFETY: the pointer and len describe a c_int that outlives the call.
    let result = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            level,
            option,
            (&value as *const libc::c_int).cast(),
            len,
        )
    };
    nix_got(Errno::result(result))
}

fn epoll_add(epoll: &OwnedFd, fd: &impl AsFd) -> Got {
    let epoll = nix::sys::epoll::Epoll(epoll.try_clone().expect("dup"));
    let event = nix::sys::epoll::EpollEvent::new(nix::sys::epoll::EpollFlags::EPOLLIN, 0);
    nix_got(epoll.add(fd, event))
}

fn new_epoll() -> OwnedFd {
    nix::sys::epoll::Epoll::new(nix::sys::epoll::EpollCreateFlags::EPOLL_CLOEXEC)
        .expect("epoll_create1")
        .0
}

/// socket(2) in a child process whose fd limit leaves no free number, as `ulimit nofile 3` makes
/// it: the errno comes back as the child's exit status.
fn socket_without_free_fds() -> Got {
    // SAFETY: the child calls only async-signal-safe functions (setrlimit, socket, _exit).
    match unsafe { libc::fork() } {
        0 => {
            let limit = libc::rlimit {
                rlim_cur: 3,
                rlim_max: 3,
            };
            // SAFETY: a valid rlimit; socket and _exit have no preconditions.
            unsafe {
                libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
                let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
                let errno = if fd < 0 { *libc::__errno_location() } else { 0 };
                libc::_exit(errno);
            }
        }
        child if child > 0 => {
            let status =
                nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(child), None).expect("waitpid");
            match status {
                nix::sys::wait::WaitStatus::Exited(_, 0) => Returned(0),
                nix::sys::wait::WaitStatus::Exited(_, errno) => Failed(Errno::from_raw(errno)),
                other => panic!("the child ended as {other:?}"),
            }
        }
        _ => panic!("fork failed"),
    }
}

/// close(2) of an fd that was just closed. The number is taken far above the fds this process
/// uses, so no other thread of the test gets it in between.
fn close_twice() -> Got {
    let socket = tcp();
    // SAFETY: F_DUPFD on an open fd has no other precondition.
    let high = unsafe { libc::fcntl(socket.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 900) };
    assert!(high >= 900, "F_DUPFD: {}", io::Error::last_os_error());
    // SAFETY: `high` is an fd this function made and nothing else knows; it is closed twice on
    // purpose, the second time to see the kernel's answer.
    unsafe {
        assert_eq!(libc::close(high), 0);
        nix_got(Errno::result(libc::close(high)))
    }
}

// ---- the table ----

/// A listener `l`, a client `c` connected to it, and the accepted end `s`.
const CONNECTED: &str =
    "socket tcp as l; bind l :0; listen l; socket tcp as c; connect c $l; accept l as s";

/// A TCP client `c` whose connect was refused: `gone` was bound and closed.
const REFUSED: &str = "socket tcp as gone; bind gone :0; close gone; socket tcp as c; connect c $gone; expect error ECONNREFUSED";

fn cases() -> Vec<Case> {
    let full = unique_name("calls-full");
    let nobody = unique_name("calls-nobody");
    vec![
        case(
            "recv on a listener",
            "socket tcp as l; bind l :0; listen l; recv l",
            || recv(&listener(), 4096),
            Failed(Errno::ENOTCONN),
        ),
        case(
            "recv after a refused connect",
            &format!("{REFUSED}; recv c"),
            || recv(&refused(), 4096),
            Failed(Errno::ENOTCONN),
        ),
        case(
            "send after a refused connect",
            &format!("{REFUSED}; send c x"),
            || send(&refused(), b"x"),
            Failed(Errno::EPIPE),
        ),
        case(
            "connect again after a refused connect",
            &format!("{REFUSED}; connect c $gone"),
            || {
                let client = tcp();
                let to = gone(tcp());
                let _ = client.connect(&to);
                done(client.connect(&to))
            },
            Failed(Errno::ECONNREFUSED),
        ),
        case(
            "send on an unconnected TCP socket",
            "socket tcp as c; send c x",
            || send(&tcp(), b"x"),
            Failed(Errno::EPIPE),
        ),
        case(
            "send on a listener",
            "socket tcp as l; bind l :0; listen l; send l x",
            || send(&listener(), b"x"),
            Failed(Errno::EPIPE),
        ),
        case(
            "recv on an unconnected TCP socket",
            "socket tcp as c; recv c",
            || recv(&tcp(), 4096),
            Failed(Errno::ENOTCONN),
        ),
        case(
            "recvfrom on an unconnected TCP socket",
            "socket tcp as c; recvfrom c",
            || recv(&tcp(), 4096),
            Failed(Errno::ENOTCONN),
        ),
        case(
            "accept on a socket that is not listening",
            "socket tcp as c; bind c :0; accept c",
            || got(bound(tcp()).accept().map(|_| 0)),
            Failed(Errno::EINVAL),
        ),
        case(
            "accept on a UDP socket",
            "socket udp as u; accept u",
            || got(udp().accept().map(|_| 0)),
            Failed(Errno::EOPNOTSUPP),
        ),
        case(
            "accept on a non-blocking listener with an empty queue",
            "socket tcp as l; bind l :0; listen l; nonblock l on; accept l",
            || {
                let listener = listener();
                listener.set_nonblocking(true).expect("O_NONBLOCK");
                got(listener.accept().map(|_| 0))
            },
            Failed(Errno::EAGAIN),
        ),
        case(
            "accept after shutdown rd on a listener",
            "socket tcp as l; bind l :0; listen l; shutdown l rd; accept l",
            || {
                let listener = listener();
                listener
                    .shutdown(std::net::Shutdown::Read)
                    .expect("shutdown");
                got(listener.accept().map(|_| 0))
            },
            Failed(Errno::EINVAL),
        ),
        case(
            "shutdown rd on a listener",
            "socket tcp as l; bind l :0; listen l; shutdown l rd",
            || done(listener().shutdown(std::net::Shutdown::Read)),
            Returned(0),
        ),
        case(
            "connect twice",
            &format!("{CONNECTED}; connect c $l"),
            || {
                let (listener, client, _accepted) = connection();
                done(client.connect(&address(&listener)))
            },
            Failed(Errno::EISCONN),
        ),
        case(
            "connect a listener",
            "socket tcp as l; bind l :0; listen l; connect l $l",
            || {
                let listener = listener();
                done(listener.connect(&address(&listener)))
            },
            Failed(Errno::EISCONN),
        ),
        case(
            "connect to a port nobody listens on",
            "socket tcp as gone; bind gone :0; close gone; socket tcp as c; connect c $gone",
            || done(tcp().connect(&gone(tcp()))),
            Failed(Errno::ECONNREFUSED),
        ),
        case(
            "connect on a non-blocking socket",
            "socket tcp as l; bind l :0; listen l; socket tcp as c; nonblock c on; connect c $l",
            || {
                let listener = listener();
                let client = tcp();
                client.set_nonblocking(true).expect("O_NONBLOCK");
                done(client.connect(&address(&listener)))
            },
            Failed(Errno::EINPROGRESS),
        ),
        case(
            "listen on a connected socket",
            &format!("{CONNECTED}; listen c"),
            || {
                let (_listener, client, _accepted) = connection();
                done(client.listen(128))
            },
            Failed(Errno::EINVAL),
        ),
        case(
            "listen on a UDP socket",
            "socket udp as u; listen u",
            || done(udp().listen(128)),
            Failed(Errno::EOPNOTSUPP),
        ),
        case(
            "listen on a unix datagram socket",
            "socket unix dgram as u; listen u",
            || done(unix(Type::DGRAM).listen(128)),
            Failed(Errno::EOPNOTSUPP),
        ),
        case(
            "bind twice",
            "socket tcp as s; bind s :0; bind s :0",
            || done(bound(tcp()).bind(&loopback())),
            Failed(Errno::EINVAL),
        ),
        case(
            "bind a connected socket",
            &format!("{CONNECTED}; bind c :0"),
            || {
                let (_listener, client, _accepted) = connection();
                done(client.bind(&loopback()))
            },
            Failed(Errno::EINVAL),
        ),
        case(
            "bind to a port a listener holds",
            "socket tcp as a; bind a :0; listen a; socket tcp as b; bind b $a",
            || {
                let holder = listener();
                done(tcp().bind(&address(&holder)))
            },
            Failed(Errno::EADDRINUSE),
        ),
        case(
            "bind to an address no interface has",
            "socket tcp as s; bind s 192.0.2.1:0",
            || {
                let to: SocketAddr = "192.0.2.1:0".parse().expect("an address");
                done(tcp().bind(&SockAddr::from(to)))
            },
            Failed(Errno::EADDRNOTAVAIL),
        ),
        case(
            "sendto on a connected TCP socket with another address",
            &format!("{CONNECTED}; sendto c 127.0.0.1:9 abc"),
            || {
                let (_listener, client, _accepted) = connection();
                let elsewhere: SocketAddr = "127.0.0.1:9".parse().expect("an address");
                sendto(&client, b"abc", &SockAddr::from(elsewhere))
            },
            Returned(3),
        ),
        case(
            "sendto on an unconnected TCP socket",
            "socket tcp as l; bind l :0; listen l; socket tcp as c; sendto c $l abc",
            || {
                let listener = listener();
                sendto(&tcp(), b"abc", &address(&listener))
            },
            Failed(Errno::EPIPE),
        ),
        case(
            "sendto on a connected unix stream socket",
            &format!("socketpair unix stream as a b; sendto a @{nobody} x"),
            || {
                let (a, _b) = Socket::pair(Domain::UNIX, Type::STREAM, None).expect("a pair");
                sendto(&a, b"x", &abstract_address(&unique_name("calls-nobody")))
            },
            Failed(Errno::EISCONN),
        ),
        case(
            "sendto on an unconnected unix stream socket",
            &format!("socket unix stream as u; sendto u @{nobody} x"),
            || {
                sendto(
                    &unix(Type::STREAM),
                    b"x",
                    &abstract_address(&unique_name("calls-nobody")),
                )
            },
            Failed(Errno::EOPNOTSUPP),
        ),
        case(
            "sendto port 0 over UDP",
            "socket udp as u; sendto u 127.0.0.1:0 x",
            || {
                let to: SocketAddr = "127.0.0.1:0".parse().expect("an address");
                sendto(&udp(), b"x", &SockAddr::from(to))
            },
            Failed(Errno::EINVAL),
        ),
        case(
            "sendto --bytes over UDP",
            "socket udp as u; bind u :0; sendto u $u --bytes 3000",
            || {
                let socket = bound(udp());
                sendto(&socket, &[b'a'; 3000], &address(&socket))
            },
            Returned(3000),
        ),
        case(
            "send on an unconnected UDP socket",
            "socket udp as u; send u x",
            || send(&udp(), b"x"),
            Failed(Errno::EDESTADDRREQ),
        ),
        case(
            "recv on a connected UDP socket after ICMP port unreachable",
            "socket udp as gone; bind gone :0; close gone; socket udp as u; connect u $gone; send u x; recv u",
            || {
                let socket = udp();
                socket.connect(&gone(udp())).expect("connect");
                assert_eq!(send(&socket, b"x"), Returned(1), "the setup's send");
                recv(&socket, 4096)
            },
            Failed(Errno::ECONNREFUSED),
        ),
        case(
            "recv on a non-blocking socket with nothing queued",
            "socket udp as u; bind u :0; nonblock u on; recv u",
            || {
                let socket = bound(udp());
                socket.set_nonblocking(true).expect("O_NONBLOCK");
                recv(&socket, 4096)
            },
            Failed(Errno::EAGAIN),
        ),
        case(
            "recv after the peer reset the connection",
            &format!("{CONNECTED}; setsockopt s SO_LINGER on:0; close s; recv c"),
            || {
                let (_listener, client, accepted) = connection();
                accepted
                    .set_linger(Some(Duration::ZERO))
                    .expect("SO_LINGER");
                drop(accepted);
                recv(&client, 4096)
            },
            Failed(Errno::ECONNRESET),
        ),
        case(
            "send after the peer reset the connection",
            &format!("{CONNECTED}; setsockopt s SO_LINGER on:0; close s; send c x"),
            || {
                let (_listener, client, accepted) = connection();
                accepted
                    .set_linger(Some(Duration::ZERO))
                    .expect("SO_LINGER");
                drop(accepted);
                send(&client, b"x")
            },
            Failed(Errno::ECONNRESET),
        ),
        case(
            "recv on an unconnected unix stream socket",
            "socket unix stream as u; recv u",
            || recv(&unix(Type::STREAM), 4096),
            Failed(Errno::EINVAL),
        ),
        case(
            "send on an unconnected unix stream socket",
            "socket unix stream as u; send u x",
            || send(&unix(Type::STREAM), b"x"),
            Failed(Errno::ENOTCONN),
        ),
        case(
            "send after shutdown wr",
            "socketpair unix stream as a b; shutdown a wr; send a x",
            || {
                let (a, _b) = Socket::pair(Domain::UNIX, Type::STREAM, None).expect("a pair");
                a.shutdown(std::net::Shutdown::Write).expect("shutdown");
                send(&a, b"x")
            },
            Failed(Errno::EPIPE),
        ),
        case(
            "send to a peer that shut down its reading side",
            "socketpair unix stream as a b; shutdown a rd; send b x",
            || {
                let (a, b) = Socket::pair(Domain::UNIX, Type::STREAM, None).expect("a pair");
                a.shutdown(std::net::Shutdown::Read).expect("shutdown");
                send(&b, b"x")
            },
            Failed(Errno::EPIPE),
        ),
        case(
            "recv after shutdown rd",
            "socketpair unix stream as a b; shutdown a rd; recv a",
            || {
                let (a, _b) = Socket::pair(Domain::UNIX, Type::STREAM, None).expect("a pair");
                a.shutdown(std::net::Shutdown::Read).expect("shutdown");
                recv(&a, 4096)
            },
            Returned(0),
        ),
        case(
            "shutdown on an unconnected TCP socket",
            "socket tcp as c; shutdown c wr",
            || done(tcp().shutdown(std::net::Shutdown::Write)),
            Failed(Errno::ENOTCONN),
        ),
        case(
            "shutdown on an unconnected UDP socket",
            "socket udp as u; shutdown u wr",
            || done(udp().shutdown(std::net::Shutdown::Write)),
            Failed(Errno::ENOTCONN),
        ),
        case(
            "shutdown on an unconnected unix socket",
            "socket unix stream as u; shutdown u wr",
            || done(unix(Type::STREAM).shutdown(std::net::Shutdown::Write)),
            Returned(0),
        ),
        case(
            "connect to a unix path where nothing is",
            "socket unix stream as u; connect u ./nothing-here.sock",
            || {
                let dir = tempfile::tempdir().expect("a directory");
                let path = SockAddr::unix(dir.path().join("nothing-here.sock")).expect("a path");
                done(unix(Type::STREAM).connect(&path))
            },
            Failed(Errno::ENOENT),
        ),
        case(
            "sendto a unix path where nothing is",
            "socket unix dgram as u; sendto u ./nothing-here.sock x",
            || {
                let dir = tempfile::tempdir().expect("a directory");
                let path = SockAddr::unix(dir.path().join("nothing-here.sock")).expect("a path");
                sendto(&unix(Type::DGRAM), b"x", &path)
            },
            Failed(Errno::ENOENT),
        ),
        case(
            "connect to an abstract name nobody holds",
            &format!("socket unix stream as u; connect u @{nobody}"),
            || {
                let name = unique_name("calls-nobody");
                done(unix(Type::STREAM).connect(&abstract_address(&name)))
            },
            Failed(Errno::ECONNREFUSED),
        ),
        case(
            "connect a non-blocking socket to a full unix listener",
            &format!(
                "socket unix stream as l; bind l @{full}; listen l 0; socket unix stream as a; connect a $l; socket unix stream as b; nonblock b on; connect b $l"
            ),
            || {
                let at = abstract_address(&unique_name("calls-full"));
                let listener = unix(Type::STREAM);
                listener.bind(&at).expect("bind");
                listener.listen(0).expect("listen");
                let first = unix(Type::STREAM);
                first.connect(&at).expect("the first connect");
                let second = unix(Type::STREAM);
                second.set_nonblocking(true).expect("O_NONBLOCK");
                done(second.connect(&at))
            },
            Failed(Errno::EAGAIN),
        ),
        case(
            "getpeername on an unconnected socket",
            "socket tcp as c; getpeername c",
            || got(tcp().peer_addr().map(|_| 0)),
            Failed(Errno::ENOTCONN),
        ),
        case(
            "getsockopt TCP_NODELAY on a UDP socket",
            "socket udp as u; getsockopt u TCP_NODELAY",
            || getsockopt_int(&udp(), libc::IPPROTO_TCP, libc::TCP_NODELAY),
            Failed(Errno::EOPNOTSUPP),
        ),
        case(
            "setsockopt IPV6_V6ONLY on an IPv4 socket",
            "socket tcp as c; setsockopt c IPV6_V6ONLY 1",
            || setsockopt_int(&tcp(), libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, 1),
            Failed(Errno::ENOPROTOOPT),
        ),
        case(
            "setsockopt IPV6_V6ONLY after bind",
            "socket inet6 stream as c; bind c [::1]:0; setsockopt c IPV6_V6ONLY 1",
            || {
                let socket = Socket::new(Domain::IPV6, Type::STREAM, None).expect("inet6");
                let at: SocketAddr = "[::1]:0".parse().expect("an address");
                socket.bind(&SockAddr::from(at)).expect("bind [::1]:0");
                setsockopt_int(&socket, libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, 1)
            },
            Failed(Errno::EINVAL),
        ),
        case(
            "sendfd over a connected TCP socket",
            &format!("{CONNECTED}; sendfd c l"),
            || {
                let (listener, client, _accepted) = connection();
                sendfd(&client, &listener)
            },
            Returned(1),
        ),
        case(
            "sendfd over an unconnected TCP socket",
            "socket tcp as c; sendfd c c",
            || {
                let socket = tcp();
                sendfd(&socket, &socket)
            },
            Failed(Errno::EPIPE),
        ),
        case(
            "sendfd over an unconnected UDP socket",
            "socket udp as u; sendfd u u",
            || {
                let socket = udp();
                sendfd(&socket, &socket)
            },
            Failed(Errno::EDESTADDRREQ),
        ),
        case(
            "sendfd over an unconnected unix socket",
            "socket unix stream as u; sendfd u u",
            || {
                let socket = unix(Type::STREAM);
                sendfd(&socket, &socket)
            },
            Failed(Errno::ENOTCONN),
        ),
        case(
            "recvfd on an unconnected TCP socket",
            "socket tcp as c; recvfd c",
            || recvfd(&tcp()),
            Failed(Errno::ENOTCONN),
        ),
        case(
            "recvfd of bytes that came without an fd",
            "socketpair unix stream as a b; send a hello; recvfd b",
            || {
                let (a, b) = Socket::pair(Domain::UNIX, Type::STREAM, None).expect("a pair");
                assert_eq!(send(&a, b"hello"), Returned(5), "the setup's send");
                recvfd(&b)
            },
            Returned(5),
        ),
        case(
            "readline through a file over a listener",
            "socket tcp as l; bind l :0; listen l; makefile l as f; readline f",
            || recv(&listener(), 8192),
            Failed(Errno::ENOTCONN),
        ),
        case(
            "flush through a file over an unconnected TCP socket",
            "socket tcp as c; makefile c as f; write f hi; flush f",
            || send(&tcp(), b"hi"),
            Failed(Errno::EPIPE),
        ),
        case(
            "epoll add of an fd already watched",
            "epoll create as e; socket tcp as s; epoll add e s in; epoll add e s in",
            || {
                let epoll = new_epoll();
                let socket = tcp();
                assert_eq!(epoll_add(&epoll, &socket), Returned(0), "the first add");
                epoll_add(&epoll, &socket)
            },
            Failed(Errno::EEXIST),
        ),
        case(
            "epoll del of an fd never added",
            "epoll create as e; socket tcp as s; epoll del e s",
            || {
                let epoll = nix::sys::epoll::Epoll(new_epoll());
                nix_got(epoll.delete(tcp()))
            },
            Failed(Errno::ENOENT),
        ),
        case(
            "epoll add of the epoll instance itself",
            "epoll create as e; epoll add e e in",
            || {
                let epoll = new_epoll();
                epoll_add(&epoll, &epoll)
            },
            Failed(Errno::EINVAL),
        ),
        case(
            "shutdown wr on a listener",
            "socket tcp as l; bind l :0; listen l; shutdown l wr",
            || done(listener().shutdown(std::net::Shutdown::Write)),
            Returned(0),
        ),
        case(
            "close of an fd that is closed already",
            "socket tcp as s; close s; close 3",
            close_twice,
            Failed(Errno::EBADF),
        ),
        case(
            "socket when no fd number is free",
            "ulimit nofile 3; socket tcp",
            socket_without_free_fds,
            Failed(Errno::EMFILE),
        ),
    ]
}

// ---- sockplay's side ----

/// The result of the last call line in `output` (`recv(3, 4096, 0) = -1 ENOTCONN (…)`), if any.
fn call_result(output: &str) -> Option<Got> {
    let line = output
        .lines()
        .rev()
        .find(|line| line.contains(") = ") && !line.starts_with(' '))?;
    let result = line.split(") = ").last()?;
    let mut words = result.split_whitespace();
    let value: i64 = words.next()?.parse().ok()?;
    if value != -1 {
        return Some(Returned(value));
    }
    errno_named(words.next()?).map(Failed)
}

fn errno_named(name: &str) -> Option<Errno> {
    (1..256)
        .map(Errno::from_raw)
        .find(|errno| format!("{errno:?}") == name)
}

/// What sockplay's call returned, what the command said, and the record, for the last line.
fn sockplay_result(script: &str) -> (Option<Got>, Option<Errno>, Value) {
    let output = Test::new()
        .args(["--json", "--timeout", "10"])
        .script(script)
        .time_limit(Duration::from_secs(30))
        .run_unchecked();
    // A call that waited for the timeout instead of the kernel's answer would take 10 s.
    output.assert_took_less_than(
        Duration::from_secs(5),
        "the call must be answered at once, as the kernel answers it",
    );
    let records = output.json();
    let last = records.last().cloned().expect("a record per command");
    let shown = call_result(last["output"].as_str().unwrap_or_default());
    let verdict = last["error"]["errno"].as_str().and_then(errno_named);
    (shown, verdict, last)
}

#[test]
fn every_call_gets_what_a_plain_blocking_program_gets_in_the_same_state() {
    let mut wrong = Vec::new();
    for case in cases() {
        let plain = (case.plain)();
        let (shown, verdict, record) = sockplay_result(&case.script);
        // A call the session refuses itself (a closed fd) shows no line; its verdict stands.
        let sockplay = shown.or(verdict.map(Failed));
        let verdict_fits = match shown {
            Some(Failed(errno)) => verdict == Some(errno),
            Some(Returned(_)) => record["ok"] == true,
            None => true,
        };
        if plain != case.expected || sockplay != Some(plain) || !verdict_fits {
            wrong.push(format!(
                "{}: a plain program got {plain:?} (Linux answers {:?}); sockplay showed {shown:?} and failed with {verdict:?}\n  {}",
                case.what, case.expected, record["output"]
            ));
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}
