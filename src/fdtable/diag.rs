//! A client for the kernel's sock_diag netlink interface (`NETLINK_SOCK_DIAG`): the system's TCP,
//! UDP and Unix sockets with their state, addresses, queues, inode and owner, plus what no per-fd
//! call can tell — the connections waiting in a listener's accept queue, which have no fd yet, and
//! which Unix socket is whose peer.
//!
//! Requests are built and replies are read byte by byte over libc, with no casts of kernel bytes to
//! structs: every length the kernel sends is checked before it is used, and a short or odd message
//! is skipped or reported as an error, never a panic.
//!
//! A [`SockDiag`] is one netlink socket. It is opened for a query and closed when dropped, so
//! sockplay never holds an fd of its own between steps, and it is close-on-exec.

use std::io;
use std::mem;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use crate::net::{Endpoint, Family, SockType, TcpState, UNKNOWN_STATE};

/// A set of socket states, as the bit mask the kernel filters a dump by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct States(u32);

impl States {
    /// Every state.
    pub const ALL: States = States(u32::MAX);

    /// The set holding exactly `states`.
    pub fn of(states: &[TcpState]) -> States {
        States(
            states
                .iter()
                .filter_map(|s| 1u32.checked_shl(u32::from(s.number())))
                .fold(0, |mask, bit| mask | bit),
        )
    }

    /// Whether the state numbered `state` (as a dump reports it) is in the set; numbers above 31
    /// never are.
    pub fn contains(self, state: u8) -> bool {
        1u32.checked_shl(u32::from(state))
            .is_some_and(|bit| self.0 & bit != 0)
    }

    /// Both sets together.
    pub fn with(self, other: States) -> States {
        States(self.0 | other.0)
    }

    /// This set without the states of `other`.
    pub fn without(self, other: States) -> States {
        States(self.0 & !other.0)
    }
}

/// The states a connection can be in while it waits in a TCP listener's accept queue: half open,
/// complete, or complete and already closed by the client (accept still returns it).
pub const QUEUED_STATES: [TcpState; 4] = [
    TcpState::SynRecv,
    TcpState::NewSynRecv,
    TcpState::Established,
    TcpState::CloseWait,
];

/// The one byte a request or reply carries for an address family (AF_INET, AF_INET6 and AF_UNIX
/// all fit in it).
fn family_byte(family: Family) -> u8 {
    u8::try_from(family.number()).unwrap_or(0)
}

/// The protocol, or for Unix sockets the type, in the words `ss` uses for its Netid column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Netid {
    Tcp,
    Udp,
    UnixStream,
    UnixDgram,
    UnixSeqpacket,
    /// A Unix socket type sockplay has no name for, by number.
    Unix(u8),
}

impl Netid {
    /// `tcp`, `udp`, `u_str`, `u_dgr`, `u_seq`, as `ss` names them.
    pub fn name(self) -> String {
        match self {
            Netid::Tcp => "tcp".into(),
            Netid::Udp => "udp".into(),
            Netid::UnixStream => "u_str".into(),
            Netid::UnixDgram => "u_dgr".into(),
            Netid::UnixSeqpacket => "u_seq".into(),
            Netid::Unix(ty) => format!("u_{ty}"),
        }
    }

    /// The IPPROTO_ number of an inet protocol.
    fn protocol_number(self) -> Option<u8> {
        match self {
            Netid::Tcp => Some(6),
            Netid::Udp => Some(17),
            _ => None,
        }
    }

    /// The socket type: a stream for TCP, a datagram socket for UDP, a Unix socket's own type.
    pub fn sock_type(self) -> SockType {
        match self {
            Netid::Tcp | Netid::UnixStream => SockType::Stream,
            Netid::Udp | Netid::UnixDgram => SockType::Dgram,
            Netid::UnixSeqpacket => SockType::Seqpacket,
            Netid::Unix(ty) => SockType::from_number(i32::from(ty)),
        }
    }

    /// The Netid of a Unix socket type number (SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET).
    fn of_unix_type(ty: u8) -> Netid {
        match SockType::from_number(i32::from(ty)) {
            SockType::Stream => Netid::UnixStream,
            SockType::Dgram => Netid::UnixDgram,
            SockType::Seqpacket => Netid::UnixSeqpacket,
            _ => Netid::Unix(ty),
        }
    }
}

/// One socket as sock_diag reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiagSocket {
    pub family: Family,
    pub netid: Netid,
    /// The state number, as in [`TcpState::number`]; [`DiagSocket::state_name`] names it.
    pub state: u8,
    /// The bound address; None when unbound or unnamed.
    pub local: Option<Endpoint>,
    /// The peer's address; None when not connected. For a Unix socket it is the peer's name, found
    /// in the same dump; None when the peer is unnamed or not listed (a connection still in an
    /// accept queue is not).
    pub remote: Option<Endpoint>,
    /// The bound inet address itself (wildcard and port 0 included); None for Unix sockets.
    pub local_addr: Option<SocketAddr>,
    /// Bytes waiting to be read; for a listener, the accept queue's length.
    pub recv_q: u64,
    /// Bytes not yet acknowledged or read by the peer; for a listener, the accept queue's limit.
    pub send_q: u64,
    /// The socket's inode, as fstat on its fd gives it; 0 for a socket no fd refers to yet (a
    /// connection in an accept queue) or any more (an orphan closing down, TIME_WAIT).
    pub inode: u64,
    /// The owner's uid, when the kernel reports it.
    pub uid: Option<u32>,
    /// Unix only: the inode of the connected peer.
    pub peer_inode: Option<u64>,
    /// Unix listeners only: the inodes of the clients whose connections wait in the accept queue,
    /// oldest first (the kernel's UNIX_DIAG_ICONS).
    pub pending: Vec<u64>,
}

impl DiagSocket {
    /// The state as sockplay shows it: TCP with the kernel's names (`ESTABLISHED`, `SYN_RECV`),
    /// UDP and Unix sockets as `ss` shows them (`UNCONN`, `ESTAB`, `LISTEN`).
    pub fn state_name(&self) -> &'static str {
        let Some(state) = self.tcp_state() else {
            return UNKNOWN_STATE;
        };
        match state {
            TcpState::Close | TcpState::Established if self.netid != Netid::Tcp => state.ss_name(),
            state => state.name(),
        }
    }

    /// The state, unless the kernel sent a number sockplay does not know.
    pub fn tcp_state(&self) -> Option<TcpState> {
        TcpState::from_number(self.state)
    }

    /// Whether the socket is in `state`.
    pub fn is_in(&self, state: TcpState) -> bool {
        self.state == state.number()
    }

    /// Whether this is a TCP connection waiting in `listener`'s accept queue: it has no fd yet
    /// (inode 0), it is in one of [`QUEUED_STATES`], and it was made to the listener's port on the
    /// listener's address (any address, for a wildcard listener).
    pub fn is_queued_on(&self, listener: &DiagSocket) -> bool {
        let (Some(mine), Some(theirs)) = (self.local_addr, listener.local_addr) else {
            return false;
        };
        self.netid == Netid::Tcp
            && listener.netid == Netid::Tcp
            && listener.is_in(TcpState::Listen)
            && self.inode == 0
            && QUEUED_STATES.iter().any(|&state| self.is_in(state))
            // An IPv4 listener never gets IPv6 connections; an IPv6 one gets both.
            && !(listener.family == Family::Inet && self.family != Family::Inet)
            && mine.port() == theirs.port()
            && (theirs.ip().is_unspecified() || mine.ip().to_canonical() == theirs.ip().to_canonical())
    }
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

/// sockplay's own sock_diag socket, opened once at start-up at the top of the fd space by
/// [`reserve`], so the kernel's view (accept queues, `ss`) stays available when the user has filled
/// the fd table.
static RESERVED: std::sync::Mutex<Option<SockDiag>> = std::sync::Mutex::new(None);

/// Opens sockplay's own sock_diag socket now, at the top of the fd space (out of the numbers the
/// user's sockets get), and returns that fd so the panel can leave it out. None when it cannot be
/// had (then each query opens its own socket).
pub fn reserve() -> Option<RawFd> {
    let mut reserved = RESERVED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if reserved.is_none() {
        let mut diag = SockDiag::open().ok()?;
        diag.socket = crate::sys::process::move_to_top(diag.socket);
        *reserved = Some(diag);
    }
    reserved.as_ref().map(|diag| diag.socket.as_raw_fd())
}

/// In a child that fork(2) made: lets go of the parent's sock_diag socket (this process's copy of
/// it; the kernel's replies on a shared socket would go to whichever process reads first) and
/// reserves one of its own. Returns the fd let go of and the new one.
pub fn renew() -> (Option<RawFd>, Option<RawFd>) {
    let old = RESERVED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take()
        .map(|diag| diag.socket.as_raw_fd());
    (old, reserve())
}

/// Runs `query` on the reserved socket, or, when there is none, on one opened for it alone.
pub fn with_diag<T>(query: impl FnOnce(&mut SockDiag) -> io::Result<T>) -> io::Result<T> {
    let mut reserved = RESERVED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    match reserved.as_mut() {
        Some(diag) => query(diag),
        None => {
            drop(reserved);
            query(&mut SockDiag::open()?)
        }
    }
}

/// An open sock_diag netlink socket; closed when dropped.
#[derive(Debug)]
pub struct SockDiag {
    socket: OwnedFd,
    seq: u32,
    buf: Vec<u8>,
}

impl SockDiag {
    /// Opens a close-on-exec netlink socket to the kernel's sock_diag.
    ///
    /// Fails with the `errno` of `socket`, e.g. EMFILE when the fd table is full.
    pub fn open() -> io::Result<SockDiag> {
        // SAFETY: plain syscall with constant arguments; the result is checked before use.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_SOCK_DIAG,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: socket() just returned this fd and nothing else owns it.
        let socket = unsafe { OwnedFd::from_raw_fd(fd) };
        set_reply_timeout(fd)?;
        connect_to_kernel(fd)?;
        Ok(SockDiag {
            socket,
            seq: 0,
            buf: vec![0; RECV_BUFFER],
        })
    }

    /// Lists the TCP or UDP sockets (`netid`) of one inet family in `states`, and only those bound
    /// to one of `ports` unless `ports` is empty.
    ///
    /// The port filter runs in the kernel when the list is short, else here.
    pub fn inet(
        &mut self,
        family: Family,
        netid: Netid,
        states: States,
        ports: &[u16],
    ) -> io::Result<Vec<DiagSocket>> {
        let Some(protocol) = netid.protocol_number() else {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        };
        let mut ports = ports.to_vec();
        ports.sort_unstable();
        ports.dedup();
        let bytecode = if ports.len() <= MAX_FILTER_PORTS {
            port_filter(&ports)
        } else {
            Vec::new()
        };
        let mut found = Vec::new();
        let request = inet_request(self.next_seq(), family, protocol, states, &bytecode);
        let result = self.dump(&request, |payload| {
            found.extend(parse_inet(payload, netid));
        });
        match result {
            // Kernels before 4.17 know no S_EQ and refuse the program: ask for all ports instead.
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) && !bytecode.is_empty() => {
                found.clear();
                let request = inet_request(self.next_seq(), family, protocol, states, &[]);
                self.dump(&request, |payload| {
                    found.extend(parse_inet(payload, netid));
                })?;
            }
            other => other?,
        }
        if !ports.is_empty() {
            found.retain(|s| {
                s.local_addr
                    .is_some_and(|a| ports.binary_search(&a.port()).is_ok())
            });
        }
        Ok(found)
    }

    /// Lists the Unix sockets in `states`, with names, peers, queues, owners and, for listeners,
    /// the clients waiting in the accept queue.
    pub fn unix(&mut self, states: States) -> io::Result<Vec<DiagSocket>> {
        let mut found = Vec::new();
        let request = unix_request(self.next_seq(), states);
        self.dump(&request, |payload| found.extend(parse_unix(payload)))?;
        name_unix_peers(&mut found);
        Ok(found)
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    /// Sends a dump request and hands the payload of every reply to `each`, until the kernel says
    /// the dump is done or reports an error.
    fn dump(&mut self, request: &[u8], mut each: impl FnMut(&[u8])) -> io::Result<()> {
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
                    NLMSG_ERROR => status_of(message.payload)?,
                    SOCK_DIAG_BY_FAMILY => each(message.payload),
                    _ => {}
                }
            }
        }
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
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&raw const timeout).cast(),
            mem::size_of::<libc::timeval>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Connects the socket to the kernel (port id 0): a connected netlink socket refuses messages from
/// anyone else, so another process cannot slip replies in.
fn connect_to_kernel(fd: RawFd) -> io::Result<()> {
    // SAFETY: sockaddr_nl is plain integers, for which all-zero bytes are valid (port id 0 is the
    // kernel, no multicast groups).
    let mut kernel: libc::sockaddr_nl = unsafe { mem::zeroed() };
    kernel.nl_family = libc::AF_NETLINK as libc::sa_family_t;
    // SAFETY: the address points at a live sockaddr_nl, and its size is passed with it.
    let rc = unsafe {
        libc::connect(
            fd,
            (&raw const kernel).cast(),
            mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Sends one request datagram whole.
fn send_all(fd: RawFd, request: &[u8]) -> io::Result<()> {
    loop {
        // SAFETY: the buffer is valid for `request.len()` bytes, which send only reads.
        let n = unsafe { libc::send(fd, request.as_ptr().cast(), request.len(), 0) };
        match usize::try_from(n) {
            Ok(n) if n == request.len() => return Ok(()),
            Ok(_) => return Err(io::Error::from_raw_os_error(libc::EMSGSIZE)),
            Err(_) => {
                let error = io::Error::last_os_error();
                if error.kind() != io::ErrorKind::Interrupted {
                    return Err(error);
                }
            }
        }
    }
}

/// Receives one reply datagram into `buf` and returns its length; a datagram that did not fit is
/// an error (EMSGSIZE) rather than half a message.
fn recv_datagram(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        // SAFETY: the buffer is valid for `buf.len()` writable bytes; with MSG_TRUNC the kernel
        // still writes at most that many and returns the datagram's real length.
        let n = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), libc::MSG_TRUNC) };
        match usize::try_from(n) {
            Ok(0) => return Err(io::Error::from(io::ErrorKind::UnexpectedEof)),
            Ok(n) if n > buf.len() => return Err(io::Error::from_raw_os_error(libc::EMSGSIZE)),
            Ok(n) => return Ok(n),
            Err(_) => {
                let error = io::Error::last_os_error();
                if error.kind() != io::ErrorKind::Interrupted {
                    return Err(error);
                }
            }
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

/// A dump request for one inet family and protocol, with a filter program if `bytecode` is not
/// empty.
fn inet_request(
    seq: u32,
    family: Family,
    protocol: u8,
    states: States,
    bytecode: &[u8],
) -> Vec<u8> {
    let attribute = if bytecode.is_empty() {
        0
    } else {
        4 + bytecode.len()
    };
    let len = NLMSG_HDRLEN + INET_DIAG_REQ_LEN + attribute;
    let mut bytes = request_header(len, seq);
    bytes.extend_from_slice(&[family_byte(family), protocol, 0, 0]);
    bytes.extend_from_slice(&states.0.to_ne_bytes());
    // The socket id selects one socket in a non-dump request; a dump ignores it.
    bytes.extend_from_slice(&[0; 48]);
    if !bytecode.is_empty() {
        bytes.extend_from_slice(&u16::try_from(attribute).unwrap_or(u16::MAX).to_ne_bytes());
        bytes.extend_from_slice(&INET_DIAG_REQ_BYTECODE.to_ne_bytes());
        bytes.extend_from_slice(bytecode);
    }
    bytes
}

/// A filter program that accepts the sockets bound to any of `ports` (empty: no program).
///
/// Each port is a test `S_EQ port` (two 4-byte ops) that on success falls through to a jump to
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

/// A dump request for the Unix sockets in `states`, showing what [`DiagSocket`] holds.
fn unix_request(seq: u32, states: States) -> Vec<u8> {
    let len = NLMSG_HDRLEN + UNIX_DIAG_REQ_LEN;
    let show =
        UDIAG_SHOW_NAME | UDIAG_SHOW_PEER | UDIAG_SHOW_ICONS | UDIAG_SHOW_RQLEN | UDIAG_SHOW_UID;
    let mut bytes = request_header(len, seq);
    bytes.extend_from_slice(&[family_byte(Family::Unix), 0, 0, 0]);
    bytes.extend_from_slice(&states.0.to_ne_bytes());
    // Inode 0: all sockets.
    bytes.extend_from_slice(&0u32.to_ne_bytes());
    bytes.extend_from_slice(&show.to_ne_bytes());
    // The cookie selects one socket in a non-dump request; a dump ignores it.
    bytes.extend_from_slice(&[0xff; 8]);
    bytes
}

/// Reads one `inet_diag_msg`; None when it is too short or of a family this module does not ask
/// for.
fn parse_inet(payload: &[u8], netid: Netid) -> Option<DiagSocket> {
    let msg = payload.get(..INET_DIAG_MSG_LEN)?;
    let family = Family::from_number(i32::from(*msg.first()?));
    if !family.is_inet() {
        return None;
    }
    let state = *msg.get(1)?;
    // The sockid: ports in network byte order, then 16 bytes per address, then the interface.
    let sport = u16::from_be_bytes([*msg.get(4)?, *msg.get(5)?]);
    let dport = u16::from_be_bytes([*msg.get(6)?, *msg.get(7)?]);
    let interface = u32_at(msg, 40)?;
    let src = inet_addr(family, msg.get(8..24)?, sport, interface)?;
    let dst = inet_addr(family, msg.get(24..40)?, dport, interface)?;
    Some(DiagSocket {
        family,
        netid,
        state,
        local: Endpoint::inet_if_set(src),
        remote: Endpoint::inet_if_set(dst),
        local_addr: Some(src),
        recv_q: u64::from(u32_at(msg, 56)?),
        send_q: u64::from(u32_at(msg, 60)?),
        uid: Some(u32_at(msg, 64)?),
        inode: u64::from(u32_at(msg, 68)?),
        peer_inode: None,
        pending: Vec::new(),
    })
}

/// An inet address from the 16 address bytes of a sockid. IPv6 link-local addresses get the
/// interface as scope id, as getsockname gives them.
fn inet_addr(family: Family, bytes: &[u8], port: u16, interface: u32) -> Option<SocketAddr> {
    match family {
        Family::Inet => {
            let octets: [u8; 4] = bytes.get(..4)?.try_into().ok()?;
            Some(SocketAddr::new(IpAddr::V4(Ipv4Addr::from(octets)), port))
        }
        Family::Inet6 => {
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
fn parse_unix(payload: &[u8]) -> Option<DiagSocket> {
    let msg = payload.get(..UNIX_DIAG_MSG_LEN)?;
    if *msg.first()? != family_byte(Family::Unix) {
        return None;
    }
    let mut socket = DiagSocket {
        family: Family::Unix,
        netid: Netid::of_unix_type(*msg.get(1)?),
        state: *msg.get(2)?,
        local: None,
        remote: None,
        local_addr: None,
        recv_q: 0,
        send_q: 0,
        inode: u64::from(u32_at(msg, 4)?),
        uid: None,
        peer_inode: None,
        pending: Vec::new(),
    };
    for (kind, value) in attributes(payload.get(UNIX_DIAG_MSG_LEN..)?) {
        match kind {
            UNIX_DIAG_NAME => socket.local = unix_name(value),
            UNIX_DIAG_PEER => {
                socket.peer_inode = u32_at(value, 0).filter(|&i| i != 0).map(u64::from);
            }
            UNIX_DIAG_ICONS => {
                socket.pending = value
                    .chunks_exact(4)
                    .filter_map(|c| u32_at(c, 0))
                    .map(u64::from)
                    .collect();
            }
            UNIX_DIAG_RQLEN => {
                if let (Some(rq), Some(wq)) = (u32_at(value, 0), u32_at(value, 4)) {
                    socket.recv_q = u64::from(rq);
                    socket.send_q = u64::from(wq);
                }
            }
            UNIX_DIAG_UID => socket.uid = u32_at(value, 0),
            _ => {}
        }
    }
    Some(socket)
}

/// A Unix socket's name from its UNIX_DIAG_NAME attribute; None when unnamed.
fn unix_name(bytes: &[u8]) -> Option<Endpoint> {
    Endpoint::unix(bytes).named()
}

/// Fills in each Unix socket's remote address with its peer's name, from the same dump.
fn name_unix_peers(sockets: &mut [DiagSocket]) {
    let names: std::collections::HashMap<u64, Option<Endpoint>> =
        sockets.iter().map(|s| (s.inode, s.local.clone())).collect();
    for socket in sockets {
        if let Some(peer) = socket.peer_inode {
            socket.remote = names.get(&peer).cloned().flatten();
        }
    }
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
    use crate::fdtable::shown;
    use std::net::{TcpListener, TcpStream};
    use std::os::linux::net::SocketAddrExt as _;
    use std::os::unix::net::{self as unix, UnixListener, UnixStream};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    /// The inode of an fd, as fstat gives it.
    fn inode_of(fd: &impl AsRawFd) -> u64 {
        crate::fdtable::inspect_fd(fd.as_raw_fd())
            .expect("open")
            .inode
    }

    fn unique_abstract_name(tag: &str) -> Vec<u8> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        format!("sockplay-diag-{}-{n}-{tag}", std::process::id()).into_bytes()
    }

    /// Repeats `query` until `done` holds for its result (loopback handshakes finish in softirq
    /// context, not necessarily before connect returns), for up to two seconds.
    fn query_until<T>(what: &str, mut query: impl FnMut() -> T, done: impl Fn(&T) -> bool) -> T {
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            let found = query();
            if done(&found) {
                return found;
            }
            assert!(Instant::now() < deadline, "timed out waiting until {what}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn tcp_on_port(port: u16) -> Vec<DiagSocket> {
        let mut diag = SockDiag::open().expect("sock_diag");
        diag.inet(Family::Inet, Netid::Tcp, States::ALL, &[port])
            .expect("dump")
    }

    #[test]
    fn tcp_listener_and_its_queued_connection() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let client = TcpStream::connect(addr).expect("connect");
        let client_addr = client.local_addr().expect("client addr");

        let sockets = query_until(
            "the listener's queue holds the connection",
            || tcp_on_port(addr.port()),
            |found| {
                found
                    .iter()
                    .any(|s| s.is_in(TcpState::Listen) && s.recv_q == 1)
            },
        );
        let found_listener = sockets
            .iter()
            .find(|s| s.inode == inode_of(&listener))
            .expect("the listener is listed");
        assert_eq!(found_listener.state_name(), "LISTEN");
        assert_eq!((found_listener.recv_q, found_listener.send_q), (1, 128));
        assert_eq!(shown(&found_listener.local), Some(addr.to_string()));
        assert_eq!(found_listener.remote, None);
        assert_eq!(found_listener.family, Family::Inet);
        assert_eq!(found_listener.netid, Netid::Tcp);
        // SAFETY: getuid cannot fail and touches no memory.
        assert_eq!(found_listener.uid, Some(unsafe { libc::getuid() }));

        let queued: Vec<&DiagSocket> = sockets
            .iter()
            .filter(|s| s.is_queued_on(found_listener))
            .collect();
        assert_eq!(queued.len(), 1, "{sockets:#?}");
        let queued = queued[0];
        assert!(
            matches!(queued.state_name(), "SYN_RECV" | "ESTABLISHED"),
            "{queued:?}"
        );
        assert_eq!(shown(&queued.local), Some(addr.to_string()));
        assert_eq!(shown(&queued.remote), Some(client_addr.to_string()));
        assert_eq!(queued.inode, 0, "no fd refers to it yet");

        // The client end is on the listener's port only as its peer: the port filter leaves it out.
        assert!(!sockets.iter().any(|s| s.inode == inode_of(&client)));

        let (accepted, _) = listener.accept().expect("accept");
        let after = tcp_on_port(addr.port());
        assert!(after.iter().all(|s| !s.is_queued_on(found_listener)));
        let accepted_row = after
            .iter()
            .find(|s| s.inode == inode_of(&accepted))
            .expect("the accepted socket has its inode now");
        assert_eq!(accepted_row.state_name(), "ESTABLISHED");
    }

    #[test]
    fn port_filter_keeps_only_the_asked_ports() {
        let a = TcpListener::bind("127.0.0.1:0").expect("bind");
        let b = TcpListener::bind("127.0.0.1:0").expect("bind");
        let c = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = |l: &TcpListener| l.local_addr().expect("addr").port();
        let mut diag = SockDiag::open().expect("sock_diag");
        let found = diag
            .inet(
                Family::Inet,
                Netid::Tcp,
                States::of(&[TcpState::Listen]),
                &[port(&a), port(&c)],
            )
            .expect("dump");
        let inodes: Vec<u64> = found.iter().map(|s| s.inode).collect();
        assert!(inodes.contains(&inode_of(&a)));
        assert!(inodes.contains(&inode_of(&c)));
        assert!(!inodes.contains(&inode_of(&b)));
        assert!(found.iter().all(|s| s.is_in(TcpState::Listen)));
    }

    #[test]
    fn kernel_accepts_the_port_filter_program() {
        // Without the fallback for old kernels: the program itself must pass the kernel's audit.
        let mut diag = SockDiag::open().expect("sock_diag");
        let seq = diag.next_seq();
        let request = inet_request(
            seq,
            Family::Inet,
            6,
            States::ALL,
            &port_filter(&[1, 2, 3, 65535]),
        );
        diag.dump(&request, |_| {})
            .expect("the kernel runs the program");
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
    fn unix_listener_lists_its_pending_clients() {
        let name = unique_abstract_name("listener");
        let addr = unix::SocketAddr::from_abstract_name(&name).expect("abstract address");
        let listener = UnixListener::bind_addr(&addr).expect("bind");
        nix::sys::socket::listen(
            &listener,
            nix::sys::socket::Backlog::new(9).expect("backlog"),
        )
        .expect("listen");
        let client = UnixStream::connect_addr(&addr).expect("connect");

        let mut diag = SockDiag::open().expect("sock_diag");
        let sockets = diag.unix(States::ALL).expect("dump");
        let found = sockets
            .iter()
            .find(|s| s.inode == inode_of(&listener))
            .expect("the listener is listed");
        let expected = format!("@{}", String::from_utf8(name).expect("ascii"));
        assert_eq!(shown(&found.local).as_deref(), Some(expected.as_str()));
        assert_eq!(found.state_name(), "LISTEN");
        assert_eq!(found.netid, Netid::UnixStream);
        assert_eq!(found.netid.name(), "u_str");
        assert_eq!(found.pending, vec![inode_of(&client)]);
        assert_eq!((found.recv_q, found.send_q), (1, 9));
        assert!(found.uid.is_some());

        let client_found = sockets
            .iter()
            .find(|s| s.inode == inode_of(&client))
            .expect("the client is listed");
        assert_eq!(client_found.state_name(), "ESTAB");
        assert_eq!(client_found.local, None);
    }

    #[test]
    fn unix_pair_names_each_other_and_paths_lose_their_nul() {
        let (a, b) = UnixStream::pair().expect("socketpair");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("diag.sock");
        let bound = unix::UnixDatagram::bind(&path).expect("bind");
        let mut diag = SockDiag::open().expect("sock_diag");
        let sockets = diag.unix(States::ALL).expect("dump");
        let find = |inode: u64| sockets.iter().find(|s| s.inode == inode).expect("listed");
        assert_eq!(find(inode_of(&a)).peer_inode, Some(inode_of(&b)));
        assert_eq!(find(inode_of(&b)).peer_inode, Some(inode_of(&a)));
        let d = find(inode_of(&bound));
        assert_eq!(shown(&d.local), Some(path.display().to_string()));
        assert_eq!((d.netid, d.state_name()), (Netid::UnixDgram, "UNCONN"));
    }

    #[test]
    fn the_netlink_socket_is_close_on_exec() {
        let diag = SockDiag::open().expect("sock_diag");
        let flags = nix::fcntl::fcntl(&diag.socket, nix::fcntl::FcntlArg::F_GETFD).expect("flags");
        assert!(
            nix::fcntl::FdFlag::from_bits_truncate(flags).contains(nix::fcntl::FdFlag::FD_CLOEXEC)
        );
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

    fn unix_msg(inode: u32) -> Vec<u8> {
        let mut bytes = vec![1, libc::SOCK_STREAM as u8, TcpState::Listen.number(), 0];
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
        let mut inet = vec![2, TcpState::Listen.number(), 0, 0];
        inet.extend_from_slice(&8080u16.to_be_bytes());
        inet.extend_from_slice(&[0, 0]);
        inet.extend_from_slice(&[127, 0, 0, 1]);
        inet.resize(INET_DIAG_MSG_LEN, 0);
        for cut in 0..inet.len() {
            assert_eq!(parse_inet(&inet[..cut], Netid::Tcp), None);
        }
        let parsed = parse_inet(&inet, Netid::Tcp).expect("whole message");
        assert_eq!(shown(&parsed.local).as_deref(), Some("127.0.0.1:8080"));
        assert_eq!(parsed.remote, None);
        let mut other_family = inet.clone();
        other_family[0] = 44;
        assert_eq!(parse_inet(&other_family, Netid::Tcp), None);

        // A Unix message with good, short, oversized and zero-length attributes.
        let mut unix = unix_msg(42);
        unix.extend(attribute(UNIX_DIAG_NAME, b"\0play\x1b[2J"));
        unix.extend(attribute(UNIX_DIAG_ICONS, &[1, 0, 0, 0, 2, 0, 0, 0, 3]));
        unix.extend(attribute(UNIX_DIAG_RQLEN, &[1, 2, 3]));
        unix.extend(attribute(UNIX_DIAG_PEER, &[]));
        let parsed = parse_unix(&unix).expect("parses");
        assert_eq!(parsed.inode, 42);
        assert_eq!(shown(&parsed.local).as_deref(), Some(r"@play\x1b[2J"));
        assert_eq!(
            parsed.pending.len(),
            2,
            "the partial third inode is dropped"
        );
        assert_eq!(
            (parsed.recv_q, parsed.send_q),
            (0, 0),
            "short RQLEN ignored"
        );
        assert_eq!(parsed.peer_inode, None);
        for cut in 0..unix.len() {
            let _ = parse_unix(&unix[..cut]);
        }

        // An attribute claiming more bytes than there are ends the attribute walk.
        let mut lying = unix_msg(43);
        lying.extend_from_slice(&200u16.to_ne_bytes());
        lying.extend_from_slice(&UNIX_DIAG_NAME.to_ne_bytes());
        lying.extend_from_slice(b"/tmp/x");
        assert_eq!(parse_unix(&lying).expect("header ok").local, None);
        // An attribute length below its own header ends it too, without looping forever.
        let mut tiny = unix_msg(44);
        tiny.extend_from_slice(&[2, 0, 0, 0, 2, 0, 0, 0]);
        assert_eq!(parse_unix(&tiny).expect("header ok").local, None);
    }

    #[test]
    fn unix_names_abstract_path_and_unnamed() {
        assert_eq!(unix_name(b""), None);
        assert_eq!(shown(&unix_name(b"\0a\0b")).as_deref(), Some(r"@a\0b"));
        assert_eq!(
            shown(&unix_name(b"/tmp/x.sock\0")).as_deref(),
            Some("/tmp/x.sock")
        );
        assert_eq!(
            shown(&unix_name(b"/tmp/x.sock")).as_deref(),
            Some("/tmp/x.sock")
        );
        assert_eq!(shown(&unix_name(b"/tmp/\n")).as_deref(), Some(r"/tmp/\n"));
    }

    #[test]
    fn states_sets() {
        let s = States::of(&[TcpState::Listen, TcpState::Close]);
        assert!(s.contains(TcpState::Listen.number()) && s.contains(TcpState::Close.number()));
        assert!(!s.contains(TcpState::Established.number()) && !s.contains(40));
        assert!(!s
            .without(States::of(&[TcpState::Listen]))
            .contains(TcpState::Listen.number()));
        assert!(States::ALL.contains(TcpState::NewSynRecv.number()));
    }
}
