//! Who holds an address, for the hint of a call that failed because of it (EADDRINUSE, a refused
//! connect). A process knows only its own fds; the engine sees every process's table and the
//! socket files their binds made, and asks the kernel (sock_diag) for what no table shows: a
//! connection in TIME_WAIT or closing down, and the sockets of programs outside sockplay. The
//! words are the hints table's ([`situated`]).

use std::net::{IpAddr, SocketAddr};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::time::Duration;

use nix::errno::Errno;

use super::Engine;
use crate::fdtable::{FdRow, Observer};
use crate::net::{Endpoint, Family, Kind, SockState, SockType, TcpState};
use crate::process::Process;
use crate::session::{situated, Asked, Holder, Outcome, ProcessFd};
use crate::sys::sock_diag::{Protocol, SockDiag};

/// sock_diag's timer number for TIME_WAIT (and for the FIN_WAIT2 of a closed socket).
const TIME_WAIT_TIMER: u8 = 3;

/// The TCP states of a connection that no fd holds any more and that still holds its port.
const CLOSING_DOWN: [TcpState; 5] = [
    TcpState::TimeWait,
    TcpState::FinWait1,
    TcpState::FinWait2,
    TcpState::Closing,
    TcpState::LastAck,
];

impl Engine {
    /// After a step in process `index` whose call failed because of what holds (or does not
    /// hold) the address it asked for: the hint names it, when it can be found.
    pub(super) fn situate_failure(&mut self, outcome: &mut Outcome, index: usize) {
        let Some(failure) = outcome.failure.as_mut() else {
            return;
        };
        let (Some(errno), Some(asked)) = (failure.errno, failure.asked.as_deref()) else {
            return;
        };
        let holders = holders(
            self.processes.list(),
            &mut self.observer,
            errno,
            asked,
            index,
        );
        if let Some(hint) = situated(errno, asked, &holders) {
            failure.hint = Some(hint);
        }
    }
}

/// What holds `asked.address`, the one that matters most first: sockets of sockplay's processes
/// (a listener before the others), then what only the kernel lists. `index` is the process the
/// step ran in; `observer`'s sock_diag socket asks the kernel.
fn holders(
    processes: &[Process],
    observer: &mut Observer,
    errno: Errno,
    asked: &Asked,
    index: usize,
) -> Vec<Holder> {
    let sockets = playground_sockets(processes, index, asked.inode);
    let mut holders: Vec<Holder> = match &asked.address {
        Endpoint::Path(bytes) => {
            let path = Path::new(std::ffi::OsStr::from_bytes(bytes));
            return path_holders(processes, observer, asked, path, &sockets, index);
        }
        Endpoint::Abstract(_) => {
            let mut found: Vec<Holder> = sockets
                .iter()
                .filter(|s| s.row.local.as_ref() == Some(&asked.address))
                // An abstract name is one per socket type; a refused connect may find the
                // name held by a socket of another type.
                .filter(|s| errno != Errno::EADDRINUSE || s.row.sock_type == Some(asked.sock_type))
                .map(Playground::holder)
                .collect();
            if found.is_empty() {
                found.extend(unix_program(observer, &asked.address, asked));
            }
            found
        }
        Endpoint::Inet(wanted) => {
            let mut found: Vec<Holder> = sockets
                .iter()
                .filter(|s| same_protocol(s.row, asked.sock_type))
                .filter(|s| {
                    s.row
                        .local
                        .as_ref()
                        .and_then(Endpoint::inet_addr)
                        .is_some_and(|held| overlaps(*wanted, held, asked.v6only == Some(true)))
                })
                .map(Playground::holder)
                .collect();
            if errno == Errno::EADDRINUSE {
                let known: Vec<u64> = sockets.iter().map(|s| s.row.inode).collect();
                found.extend(kernel_inet_holders(observer, asked, *wanted, &known));
            }
            found
        }
        Endpoint::Unnamed => Vec::new(),
    };
    if asked.call == "listen" {
        holders.retain(is_listener);
    }
    // Listeners first, then the other sockets of sockplay's processes, then programs
    // outside it, then connections without an fd: each group in the order found.
    holders.sort_by_key(|holder| match holder {
        holder if is_listener(holder) => 0,
        Holder::Socket { .. } => 1,
        Holder::Program { .. } => 2,
        Holder::Connection { .. } | Holder::StaleFile { .. } => 3,
    });
    holders
}

/// What holds the Unix path: the socket a process's bind left there (open, or closed and the
/// file stale), another socket bound there, or a program outside sockplay.
fn path_holders(
    processes: &[Process],
    observer: &mut Observer,
    asked: &Asked,
    path: &Path,
    sockets: &[Playground],
    index: usize,
) -> Vec<Holder> {
    if !std::fs::symlink_metadata(path).is_ok_and(|file| file.file_type().is_socket()) {
        return Vec::new();
    }
    let made = processes.iter().enumerate().find_map(|(at, process)| {
        let file = process
            .table
            .view
            .socket_files
            .iter()
            .find(|file| file.is_at(path))?;
        Some((process.name.clone(), at == index, file.clone()))
    });
    if let Some((process, here, file)) = made {
        if let Some(socket) = sockets.iter().find(|s| s.row.inode == file.socket_inode()) {
            return vec![socket.holder()];
        }
        let (fd, name) = file.made_by();
        return vec![Holder::StaleFile {
            made_by: ProcessFd {
                process,
                fd,
                name: name.map(str::to_string),
                here,
            },
        }];
    }
    let bound: Vec<Holder> = sockets
        .iter()
        .filter(|s| s.row.local.as_ref() == Some(&asked.address))
        .map(Playground::holder)
        .collect();
    if !bound.is_empty() {
        return bound;
    }
    unix_program(observer, &asked.address, asked)
        .into_iter()
        .collect()
}

/// A socket of a program outside sockplay bound to the Unix `address`, as sock_diag lists it.
fn unix_program(observer: &mut Observer, address: &Endpoint, asked: &Asked) -> Option<Holder> {
    let listed = observer
        .with_sock_diag(|sock_diag| sock_diag.unix(u32::MAX))
        .ok()?;
    let same_type = |ty: u8| i32::from(ty) == asked.sock_type.number();
    let socket = listed.into_iter().find(|socket| {
        socket.inode != 0
            && socket.name.as_deref().map(Endpoint::unix).as_ref() == Some(address)
            && (matches!(address, Endpoint::Path(_)) || same_type(socket.sock_type))
    })?;
    Some(Holder::Program {
        program: program_holding(u64::from(socket.inode)),
        local: address.clone(),
        listening: socket.state == TcpState::Listen.number(),
    })
}

/// What the kernel lists on `wanted`'s port that no table of sockplay's shows: connections
/// without an fd (TIME_WAIT, closing down), and other programs' sockets.
fn kernel_inet_holders(
    observer: &mut Observer,
    asked: &Asked,
    wanted: SocketAddr,
    known: &[u64],
) -> Vec<Holder> {
    let protocol = match asked.sock_type {
        SockType::Stream => Protocol::Tcp,
        SockType::Dgram => Protocol::Udp,
        _ => return Vec::new(),
    };
    let mut found = Vec::new();
    for family in [Family::Inet, Family::Inet6] {
        let listed = observer.with_sock_diag(|sock_diag: &mut SockDiag| {
            sock_diag.inet(family.number(), protocol, u32::MAX, &[wanted.port()])
        });
        let Ok(listed) = listed else { continue };
        for socket in listed {
            let inode = u64::from(socket.inode);
            if known.contains(&inode)
                || inode == asked.inode
                || !overlaps(wanted, socket.local, asked.v6only == Some(true))
            {
                continue;
            }
            let state = TcpState::from_number(socket.state);
            if inode == 0 {
                // A connection still in an accept queue is its listener's business.
                let Some(state) =
                    state.filter(|s| protocol == Protocol::Tcp && CLOSING_DOWN.contains(s))
                else {
                    continue;
                };
                let left = (socket.timer == TIME_WAIT_TIMER || state == TcpState::TimeWait)
                    .then(|| Duration::from_millis(u64::from(socket.expires)));
                found.push(Holder::Connection {
                    state,
                    local: socket.local,
                    remote: socket.remote,
                    left,
                });
            } else {
                found.push(Holder::Program {
                    program: program_holding(inode),
                    local: Endpoint::inet(socket.local),
                    listening: state == Some(TcpState::Listen),
                });
            }
        }
    }
    found
}

/// A socket of one of sockplay's processes.
struct Playground<'p> {
    process: &'p str,
    here: bool,
    name: Option<&'p String>,
    row: &'p FdRow,
}

impl Playground<'_> {
    fn holder(&self) -> Holder {
        Holder::Socket {
            at: ProcessFd {
                process: self.process.to_string(),
                fd: self.row.fd,
                name: self.name.cloned(),
                here: self.here,
            },
            local: self.row.local.clone().unwrap_or(Endpoint::Unnamed),
            sock_type: self.row.sock_type,
            state: self.row.state,
            remote: self.row.remote.clone(),
        }
    }
}

/// Every socket of the running processes as their tables last said, but the one that asked
/// (`inode`, on any of its fds) and sockplay's own; `here` is the process the step ran in.
fn playground_sockets(processes: &[Process], here: usize, inode: u64) -> Vec<Playground<'_>> {
    processes
        .iter()
        .enumerate()
        .filter(|(_, process)| process.is_alive())
        .flat_map(|(index, process)| {
            let labels = &process.table.view.labels;
            process
                .table
                .snapshot
                .rows
                .iter()
                .filter(move |row| {
                    row.kind == Kind::Socket
                        && row.inode != inode
                        && !labels.internal.contains(&row.fd)
                })
                .map(move |row| Playground {
                    process: &process.name,
                    here: index == here,
                    name: labels.names.get(&row.fd),
                    row,
                })
        })
        .collect()
}

fn is_listener(holder: &Holder) -> bool {
    match holder {
        Holder::Socket { state, .. } => state.is_some_and(SockState::is_listening),
        Holder::Program { listening, .. } => *listening,
        _ => false,
    }
}

/// Whether `row` is a socket of the protocol a socket of `sock_type` binds in: TCP ports and UDP
/// ports are two spaces.
fn same_protocol(row: &FdRow, sock_type: SockType) -> bool {
    row.family.is_some_and(crate::net::Family::is_inet) && row.sock_type == Some(sock_type)
}

/// Whether binding `wanted` meets `held` on the same port, as Linux's bind table sees it: the same
/// address, a wildcard of the same family on either side, a dual-stack `[::]` (unless the one
/// asking is IPv6 only) and IPv4-mapped addresses meeting their IPv4 address.
fn overlaps(wanted: SocketAddr, held: SocketAddr, wanted_v6only: bool) -> bool {
    if wanted.port() != held.port() {
        return false;
    }
    let v4 = |ip: IpAddr| match ip {
        IpAddr::V4(v4) => Some(v4),
        IpAddr::V6(v6) => v6.to_ipv4_mapped(),
    };
    let (w, h) = (wanted.ip(), held.ip());
    match (w, h) {
        (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_))
            if w == h || w.is_unspecified() || h.is_unspecified() =>
        {
            true
        }
        (IpAddr::V4(_), IpAddr::V6(v6)) if v6.is_unspecified() => true,
        (IpAddr::V6(v6), IpAddr::V4(_)) if v6.is_unspecified() => !wanted_v6only,
        _ => match (v4(w), v4(h)) {
            (Some(a), Some(b)) => a == b || a.is_unspecified() || b.is_unspecified(),
            _ => false,
        },
    }
}

/// The program that holds the socket with `inode`: its pid and command, found in /proc; None when
/// no process this one may look at holds it.
fn program_holding(inode: u64) -> Option<(i32, String)> {
    let mut holder = None;
    crate::fdtable::socket_fds(
        |_| true,
        |socket| match socket.inode == inode {
            true => {
                holder = Some(socket.pid);
                std::ops::ControlFlow::Break(())
            }
            false => std::ops::ControlFlow::Continue(()),
        },
    )?;
    let pid = holder?;
    let command = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    Some((pid, command.trim_end().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> SocketAddr {
        text.parse().expect("a socket address")
    }

    #[test]
    fn addresses_meet_on_a_port_as_the_bind_table_sees_them() {
        assert!(overlaps(addr("127.0.0.1:80"), addr("127.0.0.1:80"), false));
        assert!(overlaps(addr("0.0.0.0:80"), addr("127.0.0.1:80"), false));
        assert!(overlaps(addr("127.0.0.1:80"), addr("0.0.0.0:80"), false));
        assert!(!overlaps(addr("127.0.0.2:80"), addr("127.0.0.1:80"), false));
        assert!(!overlaps(addr("127.0.0.1:81"), addr("127.0.0.1:80"), false));
        assert!(overlaps(addr("127.0.0.1:80"), addr("[::]:80"), false));
        assert!(overlaps(addr("[::]:80"), addr("127.0.0.1:80"), false));
        assert!(!overlaps(addr("[::]:80"), addr("127.0.0.1:80"), true));
        assert!(overlaps(
            addr("[::ffff:127.0.0.1]:80"),
            addr("127.0.0.1:80"),
            false
        ));
        assert!(!overlaps(addr("[::1]:80"), addr("127.0.0.1:80"), false));
        assert!(overlaps(addr("[::1]:80"), addr("[::]:80"), false));
    }
}
