//! A client for the kernel's sock_diag netlink interface (`NETLINK_SOCK_DIAG`): the system's TCP,
//! UDP and Unix sockets with their state, addresses, queues, inode and owner, plus what no per-fd
//! call can tell — the connections waiting in a listener's accept queue, which have no fd yet, and
//! which Unix socket is whose peer. It returns what the kernel said, typed; what the rows mean is
//! the fd table's business (`fdtable::diag`).
//!
//! Requests are built and replies are read byte by byte, with no casts of kernel bytes to structs:
//! every length the kernel sends is checked before it is used, and a short or odd message is
//! skipped or reported as an error, never a panic.
//!
//! A [`SockDiag`] is one netlink socket, close-on-exec, closed when dropped.

use std::io;
use std::mem;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use super::descriptor::dup_above;

/// An inet protocol sock_diag lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Tcp,
    Udp,
}

impl Protocol {
    /// The IPPROTO_ number.
    fn number(self) -> u8 {
        match self {
            Protocol::Tcp => 6,
            Protocol::Udp => 17,
        }
    }
}

/// One TCP or UDP socket as the kernel lists it (`struct inet_diag_msg`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InetSocket {
    /// The AF_ number: AF_INET or AF_INET6.
    pub family: i32,
    /// The state number (TCP_ESTABLISHED = 1 …); UDP sockets use TCP_CLOSE and TCP_ESTABLISHED.
    pub state: u8,
    /// Which timer runs (`idiag_timer`): 0 none, 1 retransmit, 2 keepalive, 3 TIME_WAIT (also
    /// the FIN_WAIT2 of a closed socket), 4 zero-window probe.
    pub timer: u8,
    /// Milliseconds until that timer fires (`idiag_expires`); 0 when none runs.
    pub expires: u32,
    /// The bound address, wildcard and port 0 included.
    pub local: SocketAddr,
    /// The peer's address; the wildcard and port 0 when there is none.
    pub remote: SocketAddr,
    /// Bytes waiting to be read; for a listener, the accept queue's length.
    pub recv_q: u32,
    /// Bytes not yet acknowledged; for a listener, the accept queue's limit.
    pub send_q: u32,
    pub uid: u32,
    /// The socket's inode; 0 for a socket no fd refers to (yet, or any more).
    pub inode: u32,
}

/// One Unix socket as the kernel lists it (`struct unix_diag_msg` and its attributes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnixSocket {
    /// The SOCK_ number of its type.
    pub sock_type: u8,
    /// The state number, as for TCP: TCP_LISTEN, TCP_ESTABLISHED (connected), TCP_CLOSE.
    pub state: u8,
    pub inode: u32,
    /// The UNIX_DIAG_NAME bytes as the kernel sent them (a leading NUL for an abstract name, a
    /// path possibly with its NUL); None when the socket has no name.
    pub name: Option<Vec<u8>>,
    /// The inode of the connected peer.
    pub peer_inode: Option<u32>,
    /// For a listener: the inodes of the clients whose connections wait in its accept queue,
    /// oldest first (UNIX_DIAG_ICONS).
    pub pending: Vec<u32>,
    /// Bytes queued to read and to send; for a listener, the accept queue's length and limit.
    pub queues: Option<(u32, u32)>,
    pub uid: Option<u32>,
}

/// The byte a request carries for an address family (AF_INET, AF_INET6 and AF_UNIX all fit in it).
fn family_byte(family: i32) -> u8 {
    u8::try_from(family).unwrap_or(0)
}

/// `SOCK_DIAG_BY_FAMILY`, the one request and reply type of sock_diag.
const SOCK_DIAG_BY_FAMILY: u16 = 20;

/// The netlink header: length, type, flags, sequence number, port id.
const NLMSG_HDRLEN: usize = 16;

/// `struct inet_diag_req_v2`: family, protocol, extensions, pad, states, then the 48-byte
/// `inet_diag_sockid`.
const INET_DIAG_REQ_LEN: usize = 56;

/// `struct inet_diag_msg`: family, state, timer, retrans, the 48-byte sockid, expires, rqueue,
/// wqueue, uid, inode.
const INET_DIAG_MSG_LEN: usize = 72;

/// `struct unix_diag_req`: family, protocol, pad, states, inode, show flags, cookie.
const UNIX_DIAG_REQ_LEN: usize = 24;

/// `struct unix_diag_msg`: family, type, state, pad, inode, cookie.
const UNIX_DIAG_MSG_LEN: usize = 16;

/// The attribute of an inet request that carries a filter program.
const INET_DIAG_REQ_BYTECODE: u16 = 1;

/// Filter program operations (`enum` in `include/uapi/linux/inet_diag.h`).
const INET_DIAG_BC_JMP: u8 = 1;
const INET_DIAG_BC_S_EQ: u8 = 11;

/// Above this many ports the filter program would cost the kernel more (it runs once per socket)
/// than sorting the extra replies out here.
const MAX_FILTER_PORTS: usize = 64;

/// What a Unix request asks to be shown, and the attributes that carry it.
const UDIAG_SHOW_NAME: u32 = 0x01;
const UDIAG_SHOW_PEER: u32 = 0x04;
const UDIAG_SHOW_ICONS: u32 = 0x08;
const UDIAG_SHOW_RQLEN: u32 = 0x10;
const UDIAG_SHOW_UID: u32 = 0x40;
const UNIX_DIAG_NAME: u16 = 0;
const UNIX_DIAG_PEER: u16 = 2;
const UNIX_DIAG_ICONS: u16 = 3;
const UNIX_DIAG_RQLEN: u16 = 4;
const UNIX_DIAG_UID: u16 = 7;

/// The high bits of an attribute type are flags (nested, network byte order), not the type.
const NLA_TYPE_MASK: u16 = 0x3fff;

/// Big enough for any datagram of a dump: the kernel fills at most 32 KiB per reply.
const RECV_BUFFER: usize = 64 * 1024;

/// How long to wait for the kernel's next reply before giving up; it answers at once, so this
/// only bounds a kernel that misbehaves.
const REPLY_TIMEOUT: libc::timeval = libc::timeval {
    tv_sec: 2,
    tv_usec: 0,
};

/// The first kernel release whose inet dumps list TCP sockets that are only bound (Linux 6.8).
const LISTS_BOUND_SINCE: (u32, u32) = (6, 8);

/// An open sock_diag netlink socket; closed when dropped.
#[derive(Debug)]
pub struct SockDiag {
    socket: OwnedFd,
    seq: u32,
    buf: Vec<u8>,
    lists_bound: bool,
}

impl AsFd for SockDiag {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

impl SockDiag {
    /// Opens a close-on-exec netlink socket to the kernel's sock_diag.
    ///
    /// Fails with the `errno` of `socket`, e.g. EMFILE when the fd table is full.
    pub fn open() -> io::Result<SockDiag> {
        // SAFETY: plain syscall with constant arguments; the result is checked before use.
        let fd = syscall!(socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::NETLINK_SOCK_DIAG
        ))?;
        // SAFETY: socket() just returned this fd and nothing else owns it.
        let socket = unsafe { OwnedFd::from_raw_fd(fd) };
        set_reply_timeout(fd)?;
        connect_to_kernel(fd)?;
        Ok(SockDiag {
            socket,
            seq: 0,
            buf: vec![0; RECV_BUFFER],
            lists_bound: kernel_release().is_some_and(|r| release_at_least(&r, LISTS_BOUND_SINCE)),
        })
    }

    /// Whether the kernel's TCP dumps list sockets that are bound but neither listening nor
    /// connected (in CLOSE), when the state mask asks for `TCP_BOUND_INACTIVE` (bit 13): from
    /// Linux 6.8 they do, and then a TCP socket in CLOSE missing from such a dump holds no port.
    pub fn lists_bound_sockets(&self) -> bool {
        self.lists_bound
    }

    /// Opens one on an fd of `floor` or more, out of the way of the low numbers; fails (and keeps
    /// nothing open) when no such fd can be had.
    pub fn open_above(floor: RawFd) -> io::Result<SockDiag> {
        let mut diag = SockDiag::open()?;
        diag.socket = dup_above(diag.socket.as_fd(), floor)?;
        Ok(diag)
    }

    /// Opens one at the top of the fd space (see [`super::process::move_to_top`]), where it takes
    /// no number a user's socket would get.
    pub fn open_at_top() -> io::Result<SockDiag> {
        let mut diag = SockDiag::open()?;
        diag.socket = super::process::move_to_top(diag.socket);
        Ok(diag)
    }

    /// Lists the TCP or UDP sockets of one inet family (`family`, AF_INET or AF_INET6) whose state
    /// is in `states` (bit N set: state number N), and only those bound to one of `ports` unless
    /// `ports` is empty.
    ///
    /// The port filter runs in the kernel when the list is short, else here.
    pub fn inet(
        &mut self,
        family: i32,
        protocol: Protocol,
        states: u32,
        ports: &[u16],
    ) -> io::Result<Vec<InetSocket>> {
        let mut ports = ports.to_vec();
        ports.sort_unstable();
        ports.dedup();
        let bytecode = if ports.len() <= MAX_FILTER_PORTS {
            port_filter(&ports)
        } else {
            Vec::new()
        };
        let protocol = protocol.number();
        let mut found = Vec::new();
        let request = inet_request(self.next_seq(), family, protocol, states, &bytecode);
        let result = self.dump(&request, |payload| found.extend(parse_inet(payload)));
        match result {
            // Kernels before 4.17 know no S_EQ and refuse the program: ask for all ports instead.
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) && !bytecode.is_empty() => {
                found.clear();
                let request = inet_request(self.next_seq(), family, protocol, states, &[]);
                self.dump(&request, |payload| found.extend(parse_inet(payload)))?;
            }
            other => other?,
        }
        if !ports.is_empty() {
            found.retain(|s| ports.binary_search(&s.local.port()).is_ok());
        }
        Ok(found)
    }

    /// Asks for the one TCP or UDP socket of `family` whose own address is `local` and whose
    /// peer is `remote` (the unspecified address and port 0 for a listener or an unconnected
    /// socket), as the kernel finds it by its hash tables, walking nothing: a connection,
    /// connected or closing down with no fd, TIME_WAIT included, or a listener. None when the
    /// kernel has none (ENOENT); a socket that is only bound is never found this way.
    ///
    /// What is found is the socket a packet from `remote` to `local` would reach: for a listener
    /// of a SO_REUSEPORT group, any member; the caller compares inodes.
    pub fn inet_exact(
        &mut self,
        family: i32,
        protocol: Protocol,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> io::Result<Option<InetSocket>> {
        let request = exact_request(self.next_seq(), family, protocol.number(), local, remote);
        let mut found = None;
        match self.answer(&request, |payload| found = parse_inet(payload)) {
            Ok(()) => Ok(found),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Lists the Unix sockets whose state is in `states` (bit N set: state number N), with names,
    /// peers, queues, owners and, for listeners, the clients waiting in the accept queue.
    pub fn unix(&mut self, states: u32) -> io::Result<Vec<UnixSocket>> {
        let mut found = Vec::new();
        let request = unix_request(self.next_seq(), states);
        self.dump(&request, |payload| found.extend(parse_unix(payload)))?;
        Ok(found)
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    /// Sends a request for one socket and hands the payload of its one reply to `each`; the
    /// kernel's error (ENOENT: no such socket) is the result.
    fn answer(&mut self, request: &[u8], each: impl FnMut(&[u8])) -> io::Result<()> {
        self.exchange(request, true, each)
    }

    /// Sends a dump request and hands the payload of every reply to `each`, until the kernel says
    /// the dump is done or reports an error.
    fn dump(&mut self, request: &[u8], each: impl FnMut(&[u8])) -> io::Result<()> {
        self.exchange(request, false, each)
    }

    /// Sends `request` and reads its replies: the first one only when `one`, else until the
    /// kernel says the dump is done (or reports an error).
    fn exchange(
        &mut self,
        request: &[u8],
        one: bool,
        mut each: impl FnMut(&[u8]),
    ) -> io::Result<()> {
        let fd = self.socket.as_raw_fd();
        let seq = header_seq(request);
        send_all(fd, request)?;
        loop {
            let n = recv_datagram(fd, &mut self.buf)?;
            let datagram = self.buf.get(..n).unwrap_or_default();
            for message in messages(datagram)? {
                // Replies to an earlier request that was given up on are not ours to read.
                if message.seq != seq {
                    continue;
                }
                match message.kind {
                    NLMSG_DONE => return status_of(message.payload),
                    NLMSG_ERROR if one => return status_of(message.payload),
                    NLMSG_ERROR => status_of(message.payload)?,
                    SOCK_DIAG_BY_FAMILY => {
                        each(message.payload);
                        if one {
                            return Ok(());
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}

/// The running kernel's release (`6.8.0-31-generic`), from uname(2).
fn kernel_release() -> Option<String> {
    // SAFETY: utsname is plain byte arrays, for which all-zero bytes are a valid value.
    let mut names: libc::utsname = unsafe { mem::zeroed() };
    // SAFETY: uname writes one utsname through the pointer, which points at a live local.
    syscall!(uname(&raw mut names)).ok()?;
    let bytes: Vec<u8> = names
        .release
        .iter()
        .map(|&c| c.to_ne_bytes()[0])
        .take_while(|&b| b != 0)
        .collect();
    String::from_utf8(bytes).ok()
}

/// Whether a release string (`6.18.44-fc`) names `(major, minor)` or a later kernel; false when
/// it does not start with two numbers.
fn release_at_least(release: &str, (major, minor): (u32, u32)) -> bool {
    let mut parts = release
        .split(|c: char| !c.is_ascii_digit())
        .map(str::parse::<u32>);
    match (parts.next(), parts.next()) {
        (Some(Ok(have_major)), Some(Ok(have_minor))) => (have_major, have_minor) >= (major, minor),
        _ => false,
    }
}

/// The netlink message types of the end of a dump and of an error report, as they appear in the
/// header's 16-bit type field.
const NLMSG_DONE: u16 = libc::NLMSG_DONE as u16;
const NLMSG_ERROR: u16 = libc::NLMSG_ERROR as u16;

/// Bounds every wait for a reply (SO_RCVTIMEO), so a silent kernel cannot hang a step.
fn set_reply_timeout(fd: RawFd) -> io::Result<()> {
    let timeout = REPLY_TIMEOUT;
    // SAFETY: the option value points at a live timeval, and its size is passed with it.
    syscall!(setsockopt(
        fd,
        libc::SOL_SOCKET,
        libc::SO_RCVTIMEO,
        (&raw const timeout).cast(),
        mem::size_of::<libc::timeval>() as libc::socklen_t,
    ))?;
    Ok(())
}

/// Connects the socket to the kernel (port id 0): a connected netlink socket refuses messages from
/// anyone else, so another process cannot slip replies in.
fn connect_to_kernel(fd: RawFd) -> io::Result<()> {
    // SAFETY: sockaddr_nl is plain integers, for which all-zero bytes are valid (port id 0 is the
    // kernel, no multicast groups).
    let mut kernel: libc::sockaddr_nl = unsafe { mem::zeroed() };
    kernel.nl_family = libc::AF_NETLINK as libc::sa_family_t;
    // SAFETY: the address points at a live sockaddr_nl, and its size is passed with it.
    syscall!(connect(
        fd,
        (&raw const kernel).cast(),
        mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
    ))?;
    Ok(())
}

/// Sends one request datagram whole.
fn send_all(fd: RawFd, request: &[u8]) -> io::Result<()> {
    loop {
        // SAFETY: the buffer is valid for `request.len()` bytes, which send only reads.
        match syscall!(send(fd, request.as_ptr().cast(), request.len(), 0)) {
            Ok(n) if usize::try_from(n) == Ok(request.len()) => return Ok(()),
            Ok(_) => return Err(io::Error::from_raw_os_error(libc::EMSGSIZE)),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
}

/// Receives one reply datagram into `buf` and returns its length; a datagram that did not fit is
/// an error (EMSGSIZE) rather than half a message.
fn recv_datagram(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        // SAFETY: the buffer is valid for `buf.len()` writable bytes; with MSG_TRUNC the kernel
        // still writes at most that many and returns the datagram's real length.
        match syscall!(recv(
            fd,
            buf.as_mut_ptr().cast(),
            buf.len(),
            libc::MSG_TRUNC
        )) {
            Ok(0) => return Err(io::Error::from(io::ErrorKind::UnexpectedEof)),
            Ok(n) => match usize::try_from(n) {
                Ok(n) if n <= buf.len() => return Ok(n),
                _ => return Err(io::Error::from_raw_os_error(libc::EMSGSIZE)),
            },
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
}
/// One netlink message of a reply datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Message<'a> {
    kind: u16,
    seq: u32,
    payload: &'a [u8],
}

/// Splits a datagram into its netlink messages.
///
/// A header whose length is shorter than a header or runs past the datagram is an error (EBADMSG):
/// nothing after it can be found reliably.
fn messages(mut datagram: &[u8]) -> io::Result<Vec<Message<'_>>> {
    let mut found = Vec::new();
    while datagram.len() >= NLMSG_HDRLEN {
        let bad = || io::Error::from_raw_os_error(libc::EBADMSG);
        let len = usize::try_from(u32_at(datagram, 0).ok_or_else(bad)?).map_err(|_| bad())?;
        let kind = u16_at(datagram, 4).ok_or_else(bad)?;
        let seq = u32_at(datagram, 8).ok_or_else(bad)?;
        if len < NLMSG_HDRLEN {
            return Err(bad());
        }
        let payload = datagram.get(NLMSG_HDRLEN..len).ok_or_else(bad)?;
        found.push(Message { kind, seq, payload });
        // The last message need not be padded to the alignment.
        datagram = datagram.get(align4(len)..).unwrap_or_default();
    }
    Ok(found)
}

/// The status an NLMSG_DONE or NLMSG_ERROR carries: 0, or a negative errno. A payload too short
/// to hold one counts as success for DONE (old kernels send none) and for ERROR alike.
fn status_of(payload: &[u8]) -> io::Result<()> {
    match i32_at(payload, 0) {
        Some(status) if status < 0 => Err(io::Error::from_raw_os_error(status.saturating_neg())),
        _ => Ok(()),
    }
}

/// The sequence number of a request built by this module.
fn header_seq(request: &[u8]) -> u32 {
    u32_at(request, 8).unwrap_or(0)
}

/// The netlink header of a dump request whose whole length is `len`.
fn request_header(len: usize, seq: u32) -> Vec<u8> {
    let flags = (libc::NLM_F_REQUEST | libc::NLM_F_DUMP) as u16;
    let mut bytes = Vec::with_capacity(len);
    bytes.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_ne_bytes());
    bytes.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    bytes.extend_from_slice(&flags.to_ne_bytes());
    bytes.extend_from_slice(&seq.to_ne_bytes());
    // Port id 0: the kernel fills in ours.
    bytes.extend_from_slice(&0u32.to_ne_bytes());
    bytes
}

/// A request for the one inet socket with these addresses: the sockid holds them (ports in
/// network byte order, addresses in their 16-byte slots), interface 0, and no cookie to match.
fn exact_request(
    seq: u32,
    family: i32,
    protocol: u8,
    local: SocketAddr,
    remote: SocketAddr,
) -> Vec<u8> {
    let len = NLMSG_HDRLEN + INET_DIAG_REQ_LEN;
    let mut bytes = request_header(len, seq);
    // Not a dump: one socket, found by its addresses.
    let flags = libc::NLM_F_REQUEST as u16;
    bytes[6..8].copy_from_slice(&flags.to_ne_bytes());
    bytes.extend_from_slice(&[family_byte(family), protocol, 0, 0]);
    bytes.extend_from_slice(&u32::MAX.to_ne_bytes());
    bytes.extend_from_slice(&local.port().to_be_bytes());
    bytes.extend_from_slice(&remote.port().to_be_bytes());
    bytes.extend_from_slice(&address_slot(local));
    bytes.extend_from_slice(&address_slot(remote));
    bytes.extend_from_slice(&0u32.to_ne_bytes());
    // INET_DIAG_NOCOOKIE: any socket with these addresses.
    bytes.extend_from_slice(&[0xff; 8]);
    bytes
}

/// An address as the 16 bytes of a sockid slot: an IPv4 address in the first four.
fn address_slot(addr: SocketAddr) -> [u8; 16] {
    match addr {
        SocketAddr::V4(v4) => {
            let mut slot = [0; 16];
            slot[..4].copy_from_slice(&v4.ip().octets());
            slot
        }
        SocketAddr::V6(v6) => v6.ip().octets(),
    }
}

/// A dump request for one inet family and protocol, with a filter program if `bytecode` is not
/// empty.
fn inet_request(seq: u32, family: i32, protocol: u8, states: u32, bytecode: &[u8]) -> Vec<u8> {
    let attribute = if bytecode.is_empty() {
        0
    } else {
        4 + bytecode.len()
    };
    let len = NLMSG_HDRLEN + INET_DIAG_REQ_LEN + attribute;
    let mut bytes = request_header(len, seq);
    bytes.extend_from_slice(&[family_byte(family), protocol, 0, 0]);
    bytes.extend_from_slice(&states.to_ne_bytes());
    // The socket id selects one socket in a non-dump request; a dump ignores it.
    bytes.extend_from_slice(&[0; 48]);
    if !bytecode.is_empty() {
        bytes.extend_from_slice(&u16::try_from(attribute).unwrap_or(u16::MAX).to_ne_bytes());
        bytes.extend_from_slice(&INET_DIAG_REQ_BYTECODE.to_ne_bytes());
        bytes.extend_from_slice(bytecode);
    }
    bytes
}
/// the end (accept) and on failure skips that jump to the next test; the last test's failure
/// jumps 4 bytes past the end, which rejects. The same shape `ss` compiles `sport = a or …` to.
fn port_filter(ports: &[u16]) -> Vec<u8> {
    const TEST: usize = 8;
    const JUMP: usize = 4;
    let mut program = Vec::new();
    for (i, &port) in ports.iter().enumerate() {
        let last = i + 1 == ports.len();
        // yes: the next op; no: past the jump after this test (or past the end, to reject).
        program.extend_from_slice(&[INET_DIAG_BC_S_EQ, TEST as u8]);
        program.extend_from_slice(&((TEST + JUMP) as u16).to_ne_bytes());
        // The operand op: only its `no` field counts, and holds the port.
        program.extend_from_slice(&[0, 0]);
        program.extend_from_slice(&port.to_ne_bytes());
        if !last {
            // What follows the jump: the remaining tests and their jumps.
            let rest = (ports.len() - i - 1) * (TEST + JUMP) - JUMP;
            program.extend_from_slice(&[INET_DIAG_BC_JMP, JUMP as u8]);
            program
                .extend_from_slice(&u16::try_from(rest + JUMP).unwrap_or(u16::MAX).to_ne_bytes());
        }
    }
    program
}

/// A dump request for the Unix sockets in `states`, showing what [`UnixSocket`] holds.
fn unix_request(seq: u32, states: u32) -> Vec<u8> {
    let len = NLMSG_HDRLEN + UNIX_DIAG_REQ_LEN;
    let show =
        UDIAG_SHOW_NAME | UDIAG_SHOW_PEER | UDIAG_SHOW_ICONS | UDIAG_SHOW_RQLEN | UDIAG_SHOW_UID;
    let mut bytes = request_header(len, seq);
    bytes.extend_from_slice(&[family_byte(libc::AF_UNIX), 0, 0, 0]);
    bytes.extend_from_slice(&states.to_ne_bytes());
    // Inode 0: all sockets.
    bytes.extend_from_slice(&0u32.to_ne_bytes());
    bytes.extend_from_slice(&show.to_ne_bytes());
    // The cookie selects one socket in a non-dump request; a dump ignores it.
    bytes.extend_from_slice(&[0xff; 8]);
    bytes
}

/// Reads one `inet_diag_msg`; None when it is too short or of a family other than AF_INET and
/// AF_INET6.
fn parse_inet(payload: &[u8]) -> Option<InetSocket> {
    let msg = payload.get(..INET_DIAG_MSG_LEN)?;
    let family = i32::from(*msg.first()?);
    if family != libc::AF_INET && family != libc::AF_INET6 {
        return None;
    }
    let state = *msg.get(1)?;
    let timer = *msg.get(2)?;
    // The sockid: ports in network byte order, then 16 bytes per address, then the interface.
    let sport = u16::from_be_bytes([*msg.get(4)?, *msg.get(5)?]);
    let dport = u16::from_be_bytes([*msg.get(6)?, *msg.get(7)?]);
    let interface = u32_at(msg, 40)?;
    Some(InetSocket {
        family,
        state,
        local: inet_addr(family, msg.get(8..24)?, sport, interface)?,
        remote: inet_addr(family, msg.get(24..40)?, dport, interface)?,
        timer,
        expires: u32_at(msg, 52)?,
        recv_q: u32_at(msg, 56)?,
        send_q: u32_at(msg, 60)?,
        uid: u32_at(msg, 64)?,
        inode: u32_at(msg, 68)?,
    })
}

/// An inet address from the 16 address bytes of a sockid. IPv6 link-local addresses get the
/// interface as scope id, as getsockname gives them.
fn inet_addr(family: i32, bytes: &[u8], port: u16, interface: u32) -> Option<SocketAddr> {
    match family {
        libc::AF_INET => {
            let octets: [u8; 4] = bytes.get(..4)?.try_into().ok()?;
            Some(SocketAddr::new(IpAddr::V4(Ipv4Addr::from(octets)), port))
        }
        libc::AF_INET6 => {
            let octets: [u8; 16] = bytes.get(..16)?.try_into().ok()?;
            let ip = Ipv6Addr::from(octets);
            let link_local = ip.is_unicast_link_local()
                || (ip.is_multicast() && ip.octets().get(1).is_some_and(|b| b & 0x0f == 2));
            let scope = if link_local { interface } else { 0 };
            Some(SocketAddr::V6(SocketAddrV6::new(ip, port, 0, scope)))
        }
        _ => None,
    }
}

/// Reads one `unix_diag_msg` and its attributes; None when it is too short or not AF_UNIX.
fn parse_unix(payload: &[u8]) -> Option<UnixSocket> {
    let msg = payload.get(..UNIX_DIAG_MSG_LEN)?;
    if *msg.first()? != family_byte(libc::AF_UNIX) {
        return None;
    }
    let mut socket = UnixSocket {
        sock_type: *msg.get(1)?,
        state: *msg.get(2)?,
        inode: u32_at(msg, 4)?,
        name: None,
        peer_inode: None,
        pending: Vec::new(),
        queues: None,
        uid: None,
    };
    for (kind, value) in attributes(payload.get(UNIX_DIAG_MSG_LEN..)?) {
        match kind {
            UNIX_DIAG_NAME => socket.name = Some(value.to_vec()),
            UNIX_DIAG_PEER => socket.peer_inode = u32_at(value, 0).filter(|&i| i != 0),
            UNIX_DIAG_ICONS => {
                socket.pending = value.chunks_exact(4).filter_map(|c| u32_at(c, 0)).collect();
            }
            UNIX_DIAG_RQLEN => {
                if let (Some(rq), Some(wq)) = (u32_at(value, 0), u32_at(value, 4)) {
                    socket.queues = Some((rq, wq));
                }
            }
            UNIX_DIAG_UID => socket.uid = u32_at(value, 0),
            _ => {}
        }
    }
    Some(socket)
}

/// The netlink attributes (`struct nlattr`: length, type, value, padded to 4 bytes) in `bytes`, up
/// to the first one whose length does not fit.
fn attributes(mut bytes: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        let len = usize::from(u16_at(bytes, 0)?);
        let kind = u16_at(bytes, 2)? & NLA_TYPE_MASK;
        let value = bytes.get(4..len)?;
        bytes = bytes.get(align4(len)..).unwrap_or_default();
        Some((kind, value))
    })
}

/// Rounds a netlink length up to the 4-byte alignment of the next header.
fn align4(len: usize) -> usize {
    len.saturating_add(3) & !3
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(
        bytes.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(
        bytes.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

fn i32_at(bytes: &[u8], at: usize) -> Option<i32> {
    Some(i32::from_ne_bytes(
        bytes.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixStream;

    /// The inode of an fd, as fstat gives it.
    fn inode_of(fd: &impl AsRawFd) -> u32 {
        let ino = super::super::descriptor::fstat(fd.as_raw_fd())
            .expect("open")
            .ino;
        u32::try_from(ino).expect("socket inodes fit 32 bits")
    }

    #[test]
    fn kernel_accepts_the_port_filter_program() {
        // Without the fallback for old kernels: the program itself must pass the kernel's audit.
        let mut diag = SockDiag::open().expect("sock_diag");
        let seq = diag.next_seq();
        let request = inet_request(
            seq,
            libc::AF_INET,
            Protocol::Tcp.number(),
            u32::MAX,
            &port_filter(&[1, 2, 3, 65535]),
        );
        diag.dump(&request, |_| {})
            .expect("the kernel runs the program");
    }

    #[test]
    fn releases_compare_by_major_then_minor() {
        assert!(release_at_least("6.8.0-31-generic", (6, 8)));
        assert!(release_at_least("6.18.44-fc-v669", (6, 8)));
        assert!(release_at_least("7.0", (6, 8)));
        assert!(!release_at_least("6.7.12", (6, 8)));
        assert!(!release_at_least("5.15.0-1051-azure", (6, 8)));
        assert!(!release_at_least("", (6, 8)));
        assert!(!release_at_least("6", (6, 8)));
        assert!(!release_at_least("x.y", (6, 8)));
        assert!(kernel_release().is_some_and(|r| !r.is_empty()));
    }

    #[test]
    fn port_filter_program_shape() {
        assert!(port_filter(&[]).is_empty());
        assert_eq!(port_filter(&[80]).len(), 8);
        let program = port_filter(&[80, 443, 8080]);
        assert_eq!(program.len(), 3 * 8 + 2 * 4);
        // The first jump lands exactly at the end: 32 - (8 + 4) + 4 = 24 bytes from itself.
        assert_eq!(program[8], INET_DIAG_BC_JMP);
        assert_eq!(u16_at(&program, 10), Some(24));
        // The last test rejects by jumping 4 bytes past the end.
        assert_eq!(program[24], INET_DIAG_BC_S_EQ);
        assert_eq!(u16_at(&program, 26), Some(12));
        assert_eq!(u16_at(&program, 30), Some(8080));
    }

    #[test]
    fn the_netlink_socket_is_close_on_exec_and_can_sit_high() {
        let diag = SockDiag::open().expect("sock_diag");
        let flags = nix::fcntl::fcntl(&diag, nix::fcntl::FcntlArg::F_GETFD).expect("flags");
        assert!(
            nix::fcntl::FdFlag::from_bits_truncate(flags).contains(nix::fcntl::FdFlag::FD_CLOEXEC)
        );
        let mut high = SockDiag::open_above(64).expect("sock_diag above 64");
        assert!(high.as_fd().as_raw_fd() >= 64);
        let flags = nix::fcntl::fcntl(&high, nix::fcntl::FcntlArg::F_GETFD).expect("flags");
        assert!(
            nix::fcntl::FdFlag::from_bits_truncate(flags).contains(nix::fcntl::FdFlag::FD_CLOEXEC)
        );
        high.unix(u32::MAX).expect("the moved socket still answers");
    }

    #[test]
    fn unix_pair_ends_are_each_others_peer() {
        let (a, b) = UnixStream::pair().expect("socketpair");
        let mut diag = SockDiag::open().expect("sock_diag");
        let sockets = diag.unix(u32::MAX).expect("dump");
        let find = |inode: u32| sockets.iter().find(|s| s.inode == inode).expect("listed");
        let (found_a, found_b) = (find(inode_of(&a)), find(inode_of(&b)));
        assert_eq!(found_a.peer_inode, Some(inode_of(&b)));
        assert_eq!(found_b.peer_inode, Some(inode_of(&a)));
        assert_eq!(
            (found_a.sock_type, found_a.name.as_deref()),
            (libc::SOCK_STREAM as u8, None)
        );
        // SAFETY: getuid cannot fail and touches no memory.
        assert_eq!(found_a.uid, Some(unsafe { libc::getuid() }));
    }

    /// A reply message: header with `kind` and `seq`, then `payload`.
    fn message(kind: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
        let len = NLMSG_HDRLEN + payload.len();
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&(len as u32).to_ne_bytes());
        bytes.extend_from_slice(&kind.to_ne_bytes());
        bytes.extend_from_slice(&0u16.to_ne_bytes());
        bytes.extend_from_slice(&seq.to_ne_bytes());
        bytes.extend_from_slice(&0u32.to_ne_bytes());
        bytes.extend_from_slice(payload);
        while bytes.len() % 4 != 0 {
            bytes.push(0);
        }
        bytes
    }

    fn attribute(kind: u16, value: &[u8]) -> Vec<u8> {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&((4 + value.len()) as u16).to_ne_bytes());
        bytes.extend_from_slice(&kind.to_ne_bytes());
        bytes.extend_from_slice(value);
        while bytes.len() % 4 != 0 {
            bytes.push(0);
        }
        bytes
    }

    /// `TCP_LISTEN` of `include/net/tcp_states.h`.
    const TCP_LISTEN: u8 = 10;

    fn unix_msg(inode: u32) -> Vec<u8> {
        let mut bytes = vec![1, libc::SOCK_STREAM as u8, TCP_LISTEN, 0];
        bytes.extend_from_slice(&inode.to_ne_bytes());
        bytes.extend_from_slice(&[0; 8]);
        bytes
    }

    #[test]
    fn messages_split_and_reject_bad_lengths() {
        let mut datagram = message(SOCK_DIAG_BY_FAMILY, 7, b"abc");
        datagram.extend(message(NLMSG_DONE, 7, &0i32.to_ne_bytes()));
        let found = messages(&datagram).expect("well formed");
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].payload, b"abc");
        assert_eq!((found[1].kind, found[1].seq), (NLMSG_DONE, 7));

        // A length below the header's, or past the datagram, stops the parse with an error.
        for bad_len in [0u32, 15, 1000, u32::MAX] {
            let mut bad = message(SOCK_DIAG_BY_FAMILY, 1, b"xxxx");
            bad[..4].copy_from_slice(&bad_len.to_ne_bytes());
            let err = messages(&bad).expect_err("bad length");
            assert_eq!(err.raw_os_error(), Some(libc::EBADMSG));
        }
        // Fewer bytes than a header are ignored; every prefix of a good datagram parses or errs.
        assert_eq!(messages(&datagram[..10]).expect("short tail").len(), 0);
        for cut in 0..datagram.len() {
            let _ = messages(&datagram[..cut]);
        }
    }

    #[test]
    fn status_of_done_and_error() {
        assert!(status_of(&0i32.to_ne_bytes()).is_ok());
        assert!(status_of(&[]).is_ok());
        let err = status_of(&(-libc::ENOENT).to_ne_bytes()).expect_err("an errno");
        assert_eq!(err.raw_os_error(), Some(libc::ENOENT));
        assert!(status_of(&i32::MIN.to_ne_bytes()).is_err());
    }

    #[test]
    fn short_or_odd_diag_messages_never_panic() {
        // Every truncation of a real-looking inet message gives None or a socket, never a panic.
        let mut inet = vec![2, TCP_LISTEN, 0, 0];
        inet.extend_from_slice(&8080u16.to_be_bytes());
        inet.extend_from_slice(&[0, 0]);
        inet.extend_from_slice(&[127, 0, 0, 1]);
        inet.resize(INET_DIAG_MSG_LEN, 0);
        for cut in 0..inet.len() {
            assert_eq!(parse_inet(&inet[..cut]), None);
        }
        let parsed = parse_inet(&inet).expect("whole message");
        assert_eq!(parsed.local, SocketAddr::from(([127, 0, 0, 1], 8080)));
        assert_eq!(parsed.remote, SocketAddr::from(([0, 0, 0, 0], 0)));
        assert_eq!((parsed.family, parsed.state), (libc::AF_INET, TCP_LISTEN));
        let mut other_family = inet.clone();
        other_family[0] = 44;
        assert_eq!(parse_inet(&other_family), None);

        // A Unix message with good, short, oversized and zero-length attributes.
        let mut unix = unix_msg(42);
        unix.extend(attribute(UNIX_DIAG_NAME, b"\0play\x1b[2J"));
        unix.extend(attribute(UNIX_DIAG_ICONS, &[1, 0, 0, 0, 2, 0, 0, 0, 3]));
        unix.extend(attribute(UNIX_DIAG_RQLEN, &[1, 2, 3]));
        unix.extend(attribute(UNIX_DIAG_PEER, &[]));
        let parsed = parse_unix(&unix).expect("parses");
        assert_eq!(parsed.inode, 42);
        assert_eq!(parsed.name.as_deref(), Some(&b"\0play\x1b[2J"[..]));
        assert_eq!(parsed.pending, [1, 2], "the partial third inode is dropped");
        assert_eq!(parsed.queues, None, "short RQLEN ignored");
        assert_eq!(parsed.peer_inode, None);
        for cut in 0..unix.len() {
            let _ = parse_unix(&unix[..cut]);
        }

        // An attribute claiming more bytes than there are ends the attribute walk.
        let mut lying = unix_msg(43);
        lying.extend_from_slice(&200u16.to_ne_bytes());
        lying.extend_from_slice(&UNIX_DIAG_NAME.to_ne_bytes());
        lying.extend_from_slice(b"/tmp/x");
        assert_eq!(parse_unix(&lying).expect("header ok").name, None);
        // An attribute length below its own header ends it too, without looping forever.
        let mut tiny = unix_msg(44);
        tiny.extend_from_slice(&[2, 0, 0, 0, 2, 0, 0, 0]);
        assert_eq!(parse_unix(&tiny).expect("header ok").name, None);
    }
}
