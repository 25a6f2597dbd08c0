//! What a call that has not returned waits for, in the words a person at the prompt reads while
//! it waits: `accept(3) waits for a connection on 127.0.0.1:8080`. Read from the command and the
//! process's table as last reported; the call leads as the process named it when it started.

use crate::lang::{AddrSpec, Check, Command, SockRef};
use crate::net::Endpoint;

use super::Table;

/// The line for `command`, running in a process whose table is `table`, as the call `call`
/// (`accept(3)`; empty when the process has not said yet). None for a command that waits on
/// nothing a peer controls (`sleep`, `socket`, …).
pub(super) fn waiting_line(call: &str, command: &Command, table: &Table) -> Option<String> {
    let call = if call.is_empty() {
        command.name()
    } else {
        call
    };
    let fd = |sock: &SockRef| match sock {
        SockRef::Fd(fd) => Some(*fd),
        SockRef::Name(name) => table.view.sockets.get(name).copied(),
    };
    let shown = |sock: &SockRef| match fd(sock) {
        Some(fd) => format!("fd {fd}"),
        None => format!("`{sock}`"),
    };
    let row = |sock: &SockRef| fd(sock).and_then(|fd| table.snapshot.get(fd));
    let local = |sock: &SockRef| row(sock).and_then(|row| row.local.as_ref());
    let what = match command {
        Command::Accept { sock, .. } => match local(sock) {
            Some(local) => format!("a connection on {local}"),
            None => format!("a connection on {}", shown(sock)),
        },
        Command::Connect { addr, .. } => {
            let to = address(addr, table);
            if matches!(
                addr,
                AddrSpec::Path(_)
                    | AddrSpec::Abstract(_)
                    | AddrSpec::Found {
                        endpoint: Endpoint::Path(_) | Endpoint::Abstract(_),
                        ..
                    }
            ) {
                format!("room in the backlog of the listener at {to}")
            } else {
                format!("the handshake with {to} to complete")
            }
        }
        Command::Recv { sock, .. } | Command::RecvFd { sock, .. } => {
            match row(sock).and_then(|row| row.remote.as_ref()) {
                Some(Endpoint::Unnamed) | None => format!("data on {}", shown(sock)),
                Some(peer) => format!("data from {peer} on {}", shown(sock)),
            }
        }
        Command::RecvFrom { sock, .. } => match local(sock) {
            Some(local) => format!("a datagram on {local}"),
            None => format!("a datagram on {}", shown(sock)),
        },
        Command::ReadLine { file } => format!("the rest of a line on `{file}`"),
        Command::Read { file, .. } => format!("data on `{file}`"),
        Command::Send { sock, .. }
        | Command::SendTo { sock, .. }
        | Command::SendFd { sock, .. } => {
            format!(
                "room in the send buffer of {}: the peer is not reading",
                shown(sock)
            )
        }
        Command::Flush { file } => {
            format!("room in the send buffer under `{file}`: the peer is not reading")
        }
        Command::Close { sock } => format!(
            "the data {} still holds to be acknowledged (SO_LINGER)",
            shown(sock)
        ),
        Command::Select { .. } | Command::Poll { .. } => "one of its fds to be ready".to_string(),
        Command::EpollWait { epoll, .. } => format!("an event on epoll {}", shown(epoll)),
        Command::Expect(Check::State { sock, state }) => {
            return Some(format!(
                "expect state waits for {} to reach {state}",
                shown(sock)
            ))
        }
        _ => return None,
    };
    Some(format!("{call} waits for {what}"))
}

/// An ADDR as the wait names it: the address a `$NAME` stands for when the table knows it.
fn address(addr: &AddrSpec, table: &Table) -> String {
    match addr {
        AddrSpec::Found { endpoint, .. } => endpoint.to_string(),
        AddrSpec::Ref(name) => table
            .view
            .addresses
            .get(name)
            .map_or_else(|| addr.to_string(), Endpoint::to_string),
        addr => addr.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::parse_line;

    fn command(line: &str) -> Command {
        parse_line(line).expect("parses").expect("a command")
    }

    #[test]
    fn a_command_that_waits_on_nothing_a_peer_controls_has_no_line() {
        let table = Table::default();
        for line in ["sleep 2000", "socket tcp", "fds", "listen 3", "bind 3 :0"] {
            assert_eq!(waiting_line("", &command(line), &table), None, "{line}");
        }
    }

    #[test]
    fn each_wait_names_its_call_and_what_it_waits_for() {
        let mut table = Table::default();
        table.view.sockets = std::sync::Arc::new([("srv".to_string(), 3)].into());
        table.view.addresses = std::sync::Arc::new(
            [(
                "srv".to_string(),
                Endpoint::Inet("127.0.0.1:8080".parse().expect("an address")),
            )]
            .into(),
        );
        for (call, line, said) in [
            (
                "accept(3)",
                "accept srv as conn",
                "accept(3) waits for a connection on fd 3",
            ),
            (
                "connect(4)",
                "connect 4 $srv",
                "connect(4) waits for the handshake with 127.0.0.1:8080 to complete",
            ),
            (
                "connect(4)",
                "connect 4 @play",
                "connect(4) waits for room in the backlog of the listener at @play",
            ),
            ("recv(5)", "recv 5", "recv(5) waits for data on fd 5"),
            (
                "send(5)",
                "send 5 --bytes 10000000",
                "send(5) waits for room in the send buffer of fd 5: the peer is not reading",
            ),
            (
                "epoll_wait(7)",
                "epoll wait 7",
                "epoll_wait(7) waits for an event on epoll fd 7",
            ),
            // Before the process names its call, the command's name stands for it.
            ("", "recv 5", "recv waits for data on fd 5"),
            (
                "expect state(5)",
                "expect state 5 CLOSE_WAIT",
                "expect state waits for fd 5 to reach CLOSE_WAIT",
            ),
            ("recv(9)", "recv nope", "recv(9) waits for data on `nope`"),
        ] {
            assert_eq!(
                waiting_line(call, &command(line), &table).as_deref(),
                Some(said),
                "{line}"
            );
        }
    }
}
