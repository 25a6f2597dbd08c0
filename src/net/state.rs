//! [`TcpState`] and [`SockState`]: what state a socket is in, with every name it goes by. This is
//! the one place the state names are spelled out.

use std::fmt;

/// What a state number the kernel has no name for (or sockplay does not know) is shown as.
pub const UNKNOWN_STATE: &str = "UNKNOWN";

/// A TCP socket's state, numbered as in the kernel's `include/net/tcp_states.h`.
///
/// UDP and Unix sockets reuse these numbers in the kernel (sock_diag reports them): ESTABLISHED for
/// connected, CLOSE for unconnected, LISTEN for a listener. sockplay names those by
/// [`SockState`] instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum TcpState {
    Established,
    SynSent,
    SynRecv,
    FinWait1,
    FinWait2,
    TimeWait,
    Close,
    CloseWait,
    LastAck,
    Listen,
    Closing,
    /// The kernel's lightweight request socket for a half-open connection: it never has an fd,
    /// but sock_diag can report it. It goes by SYN_RECV, as in `ss`.
    NewSynRecv,
}

impl TcpState {
    /// Every state, in the kernel's order.
    pub const ALL: [TcpState; 12] = [
        TcpState::Established,
        TcpState::SynSent,
        TcpState::SynRecv,
        TcpState::FinWait1,
        TcpState::FinWait2,
        TcpState::TimeWait,
        TcpState::Close,
        TcpState::CloseWait,
        TcpState::LastAck,
        TcpState::Listen,
        TcpState::Closing,
        TcpState::NewSynRecv,
    ];

    /// The kernel's number for the state (`TCP_ESTABLISHED` is 1, …, `TCP_NEW_SYN_RECV` 12).
    pub fn number(self) -> u8 {
        match self {
            TcpState::Established => 1,
            TcpState::SynSent => 2,
            TcpState::SynRecv => 3,
            TcpState::FinWait1 => 4,
            TcpState::FinWait2 => 5,
            TcpState::TimeWait => 6,
            TcpState::Close => 7,
            TcpState::CloseWait => 8,
            TcpState::LastAck => 9,
            TcpState::Listen => 10,
            TcpState::Closing => 11,
            TcpState::NewSynRecv => 12,
        }
    }

    /// The state with the kernel's number `number` (`tcpi_state`, a sock_diag state byte); None
    /// for a number it does not name.
    pub fn from_number(number: u8) -> Option<TcpState> {
        TcpState::ALL.into_iter().find(|s| s.number() == number)
    }

    /// The name the panel shows, the kernel's (`ESTABLISHED`, `CLOSE_WAIT`) as its documentation
    /// and `netstat` write it; NEW_SYN_RECV is shown as SYN_RECV.
    pub fn name(self) -> &'static str {
        match self {
            TcpState::Established => "ESTABLISHED",
            TcpState::SynSent => "SYN_SENT",
            TcpState::SynRecv | TcpState::NewSynRecv => "SYN_RECV",
            TcpState::FinWait1 => "FIN_WAIT1",
            TcpState::FinWait2 => "FIN_WAIT2",
            TcpState::TimeWait => "TIME_WAIT",
            TcpState::Close => "CLOSE",
            TcpState::CloseWait => "CLOSE_WAIT",
            TcpState::LastAck => "LAST_ACK",
            TcpState::Listen => "LISTEN",
            TcpState::Closing => "CLOSING",
        }
    }

    /// The name in the kernel's header, without its `TCP_` prefix.
    pub fn kernel_name(self) -> &'static str {
        match self {
            TcpState::NewSynRecv => "NEW_SYN_RECV",
            other => other.name(),
        }
    }

    /// The short name `ss` prints: `ESTAB`, `SYN-SENT`, `UNCONN` for CLOSE, …
    pub fn ss_name(self) -> &'static str {
        match self {
            TcpState::Established => "ESTAB",
            TcpState::SynSent => "SYN-SENT",
            TcpState::SynRecv | TcpState::NewSynRecv => "SYN-RECV",
            TcpState::FinWait1 => "FIN-WAIT-1",
            TcpState::FinWait2 => "FIN-WAIT-2",
            TcpState::TimeWait => "TIME-WAIT",
            TcpState::Close => "UNCONN",
            TcpState::CloseWait => "CLOSE-WAIT",
            TcpState::LastAck => "LAST-ACK",
            TcpState::Listen => "LISTEN",
            TcpState::Closing => "CLOSING",
        }
    }
}

impl fmt::Display for TcpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The state of a socket as the panel shows it: a TCP socket's own state; a UDP or Unix socket
/// (or an MPTCP one, which has no TCP_INFO) unconnected, connected or listening.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum SockState {
    Tcp(TcpState),
    Unconnected,
    Connected,
    Listen,
}

impl SockState {
    /// The states `expect state` takes, in the order an error lists them.
    pub const EXPECTABLE: [SockState; 13] = [
        SockState::Listen,
        SockState::Tcp(TcpState::SynSent),
        SockState::Tcp(TcpState::SynRecv),
        SockState::Tcp(TcpState::Established),
        SockState::Tcp(TcpState::FinWait1),
        SockState::Tcp(TcpState::FinWait2),
        SockState::Tcp(TcpState::CloseWait),
        SockState::Tcp(TcpState::LastAck),
        SockState::Tcp(TcpState::Closing),
        SockState::Tcp(TcpState::TimeWait),
        SockState::Tcp(TcpState::Close),
        SockState::Unconnected,
        SockState::Connected,
    ];

    /// The name the panel shows: the TCP state's name, or `UNCONNECTED`, `CONNECTED`, `LISTEN`.
    pub fn name(self) -> &'static str {
        match self {
            SockState::Tcp(state) => state.name(),
            SockState::Unconnected => "UNCONNECTED",
            SockState::Connected => "CONNECTED",
            SockState::Listen => TcpState::Listen.name(),
        }
    }

    /// The names `expect state` takes, in the order an error lists them.
    pub fn words() -> [&'static str; 13] {
        SockState::EXPECTABLE.map(SockState::name)
    }

    /// Reads a state name as `expect state` takes it (any case).
    pub fn from_word(word: &str) -> Option<SockState> {
        SockState::EXPECTABLE
            .into_iter()
            .find(|state| state.name().eq_ignore_ascii_case(word))
    }

    /// Whether the socket is listening, TCP or not.
    pub fn is_listening(self) -> bool {
        matches!(self, SockState::Listen | SockState::Tcp(TcpState::Listen))
    }

    /// Whether the two states go by the same name: a TCP and a Unix listener are both LISTEN, and
    /// NEW_SYN_RECV is SYN_RECV.
    pub fn same_name(self, other: SockState) -> bool {
        self.by_name() == other.by_name()
    }

    /// One value per name.
    fn by_name(self) -> SockState {
        match self {
            SockState::Tcp(TcpState::Listen) => SockState::Listen,
            SockState::Tcp(TcpState::NewSynRecv) => SockState::Tcp(TcpState::SynRecv),
            other => other,
        }
    }
}

impl fmt::Display for SockState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_names_are_the_kernels() {
        let table: Vec<(u8, &str, &str, &str)> = TcpState::ALL
            .iter()
            .map(|s| (s.number(), s.kernel_name(), s.name(), s.ss_name()))
            .collect();
        assert_eq!(
            table,
            [
                (1, "ESTABLISHED", "ESTABLISHED", "ESTAB"),
                (2, "SYN_SENT", "SYN_SENT", "SYN-SENT"),
                (3, "SYN_RECV", "SYN_RECV", "SYN-RECV"),
                (4, "FIN_WAIT1", "FIN_WAIT1", "FIN-WAIT-1"),
                (5, "FIN_WAIT2", "FIN_WAIT2", "FIN-WAIT-2"),
                (6, "TIME_WAIT", "TIME_WAIT", "TIME-WAIT"),
                (7, "CLOSE", "CLOSE", "UNCONN"),
                (8, "CLOSE_WAIT", "CLOSE_WAIT", "CLOSE-WAIT"),
                (9, "LAST_ACK", "LAST_ACK", "LAST-ACK"),
                (10, "LISTEN", "LISTEN", "LISTEN"),
                (11, "CLOSING", "CLOSING", "CLOSING"),
                (12, "NEW_SYN_RECV", "SYN_RECV", "SYN-RECV"),
            ]
        );
        assert_eq!(TcpState::from_number(0), None);
        assert_eq!(TcpState::from_number(13), None);
        for state in TcpState::ALL {
            assert_eq!(TcpState::from_number(state.number()), Some(state));
        }
    }

    #[test]
    fn expect_state_words_in_their_order() {
        assert_eq!(
            SockState::words().join(" "),
            "LISTEN SYN_SENT SYN_RECV ESTABLISHED FIN_WAIT1 FIN_WAIT2 CLOSE_WAIT LAST_ACK \
             CLOSING TIME_WAIT CLOSE UNCONNECTED CONNECTED"
        );
        for state in SockState::EXPECTABLE {
            assert_eq!(SockState::from_word(state.name()), Some(state));
        }
        assert_eq!(
            SockState::from_word("close_wait"),
            Some(SockState::Tcp(TcpState::CloseWait))
        );
        assert_eq!(SockState::from_word("ESTAB"), None);
        assert_eq!(SockState::from_word("NEW_SYN_RECV"), None);
    }

    #[test]
    fn listeners_of_any_kind_share_the_name() {
        let tcp = SockState::Tcp(TcpState::Listen);
        assert!(tcp.is_listening() && SockState::Listen.is_listening());
        assert!(tcp.same_name(SockState::Listen));
        assert!(SockState::Tcp(TcpState::NewSynRecv).same_name(SockState::Tcp(TcpState::SynRecv)));
        assert!(!SockState::Connected.same_name(SockState::Tcp(TcpState::Established)));
        assert_eq!(tcp.to_string(), SockState::Listen.to_string());
    }
}
