//! The `expect` checks of SPEC §6, each holding and failing, and how failures stop a replay: exit 1,
//! `FILE:LINE: …` on stderr, and nothing after the failing line runs.

use std::io::{Read, Write};
use std::thread;
use std::time::Duration;

use crate::support::{std_peer, unique_name, Test, PAIR};

/// Runs `PAIR` followed by `rest`, with the panel off.
fn pair_then(rest: &str) -> Test {
    Test::new()
        .args(["--panel", "off"])
        .script(format!("{PAIR}{rest}"))
}

/// The line number in `PAIR + rest` of the `n`th line of `rest` (1-based).
fn line_after_pair(n: usize) -> usize {
    PAIR.lines().count() + n
}

#[test]
fn expect_state_holds_for_the_current_state() {
    pair_then(
        "expect state srv LISTEN\nexpect state conn ESTABLISHED\nexpect state cli established\n",
    )
    .stdout_contains("✓ fd 3 is LISTEN")
    .stdout_contains("✓ fd 5 is ESTABLISHED")
    .stdout_contains("✓ fd 4 is ESTABLISHED")
    .run();
}

#[test]
fn expect_state_names_unix_and_udp_states_as_the_panel_shows_them() {
    let name = unique_name("state");
    Test::new()
        .args(["--panel", "off"])
        .script(format!(
            "socket unix stream as u\nbind u @{name}\nlisten u\nexpect state u listen\n\
             socketpair unix stream as a b\nexpect state a CONNECTED\n\
             socket udp as d\nexpect state d UNCONNECTED\nset timeout 0.2\nexpect state u CONNECTED\n"
        ))
        .status(1)
        .stdout_contains("✓ fd 3 is LISTEN")
        .stdout_contains("✓ fd 4 is CONNECTED")
        .stdout_contains("✓ fd 6 is UNCONNECTED")
        .stderr_contains("test.sock:10: expected fd 3 in state CONNECTED, got LISTEN")
        .run();
}

#[test]
fn expect_state_waits_for_close_wait_when_the_peer_closes_later() {
    let peer = std_peer(|mut stream| {
        let mut go = [0u8; 2];
        stream.read_exact(&mut go).expect("read go");
        // Close well after sockplay has moved on to its check, so the check has to wait for it.
        thread::sleep(Duration::from_millis(400));
        drop(stream);
    });
    Test::new()
        .args(["--panel", "off"])
        .script(format!(
            "socket tcp as c\nconnect c 127.0.0.1:{}\nsend c go\nexpect state c CLOSE_WAIT\nrecv c\nexpect eof\n",
            peer.port
        ))
        .stdout_contains("✓ fd 3 is CLOSE_WAIT")
        .run();
    peer.join();
}

#[test]
fn expect_state_fails_after_the_timeout_naming_the_state_it_saw() {
    let output = Test::new()
        .args(["--panel", "off"])
        .script("socket tcp as s\nset timeout 0.3\nexpect state s LISTEN\nfileno s\n")
        .status(1)
        .stderr_contains("test.sock:3: expected fd 3 in state LISTEN, got CLOSE")
        .stdout_lacks("fileno(s)")
        .run();
    output.assert_took_at_least(
        Duration::from_millis(300),
        "the check waited its timeout before failing",
    );
}

#[test]
fn expect_fd_holds_and_fails() {
    Test::new()
        .args(["--panel", "off"])
        .script("socket tcp as s\nexpect fd s 3\n")
        .stdout_contains("✓ s is fd 3")
        .run();
    Test::new()
        .args(["--panel", "off"])
        .script("socket tcp as s\nexpect fd s 4\n")
        .status(1)
        .stderr_contains("test.sock:2: expected s to be fd 4, got fd 3")
        .run();
}

#[test]
fn expect_data_holds_for_exactly_the_received_bytes_with_escapes_decoded() {
    pair_then("send cli \"hi\\r\\n\\x00\"\nrecv conn\nexpect data \"hi\\r\\n\\0\"\n")
        .stdout_contains("✓ received \"hi\\r\\n\\0\"")
        .run();
}

#[test]
fn expect_data_fails_on_different_bytes() {
    pair_then("send cli hello\nrecv conn\nexpect data hell\n")
        .status(1)
        .stderr_contains(format!(
            "test.sock:{}: expected data \"hell\", got \"hello\"",
            line_after_pair(3)
        ))
        .run();
}

#[test]
fn expect_data_fails_when_nothing_was_received() {
    Test::new()
        .args(["--panel", "off"])
        .script("socket tcp\nexpect data hi\n")
        .status(1)
        .stderr_contains("test.sock:2: expected data")
        .run();
}

#[test]
fn expect_data_looks_at_the_most_recent_recv_even_when_it_failed() {
    pair_then(
        "send cli hi\nrecv conn\nset timeout 0.1\nrecv conn\nexpect error ETIMEDOUT\nexpect data hi\n",
    )
    .status(1)
    .stderr_contains(format!("test.sock:{}: expected data", line_after_pair(6)))
    .run();
}

#[test]
fn expect_eof_holds_after_the_peer_closed() {
    pair_then("close cli\nrecv conn\nexpect eof\n")
        .stdout_contains("recv(5, 4096, 0) = 0")
        .stdout_contains("✓ the last recv returned EOF")
        .run();
}

#[test]
fn expect_eof_fails_when_bytes_arrived() {
    pair_then("send cli hi\nrecv conn\nexpect eof\n")
        .status(1)
        .stderr_contains(format!(
            "test.sock:{}: expected EOF, got 2 bytes \"hi\"",
            line_after_pair(3)
        ))
        .run();
}

#[test]
fn expect_error_excuses_the_failure_and_the_script_goes_on() {
    Test::new()
        .args(["--panel", "off"])
        .script("close 99\nexpect error EBADF\nsocket tcp as after\n")
        .stdout_contains("✓ close failed with EBADF")
        .stdout_contains("socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3")
        .stderr_is("")
        .run();
}

#[test]
fn expect_error_naming_the_wrong_errno_fails() {
    Test::new()
        .args(["--panel", "off"])
        .script("close 99\nexpect error EINVAL\nsocket tcp as after\n")
        .status(1)
        .stderr_contains("test.sock:2: expected error EINVAL, got EBADF")
        .stdout_lacks("socket(")
        .run();
}

#[test]
fn expect_error_after_a_success_fails() {
    Test::new()
        .args(["--panel", "off"])
        .script("socket tcp as s\nexpect error EBADF\nfileno s\n")
        .status(1)
        .stderr_contains("test.sock:2: expected error EBADF, but `socket` succeeded")
        .stdout_lacks("fileno(s)")
        .run();
}

#[test]
fn expect_error_with_no_command_before_it_says_so() {
    Test::new()
        .args(["--panel", "off"])
        .script("expect error EBADF\n")
        .status(1)
        .stderr_contains("test.sock:1: expected error EBADF")
        .stderr_lacks("`nothing` succeeded")
        .run();
}

#[test]
fn expect_error_matches_real_kernel_errors() {
    let port = crate::support::closed_port();
    Test::new()
        .args(["--panel", "off"])
        .script(format!(
            "socket tcp as a\nbind a 127.0.0.1:0\nsocket tcp as b\nbind b $a\nexpect error EADDRINUSE\n\
             socket tcp as c\nconnect c 127.0.0.1:{port}\nexpect error ECONNREFUSED\n\
             socket udp as d\nlisten d\nexpect error EOPNOTSUPP\n"
        ))
        .stdout_contains("= -1 EADDRINUSE")
        .stdout_contains("= -1 ECONNREFUSED")
        .stdout_contains("= -1 EOPNOTSUPP")
        .run();
}

#[test]
fn expect_open_and_closed_hold_and_fail() {
    Test::new()
        .args(["--panel", "off"])
        .script(
            "expect open 1\nexpect closed 3\nsocket tcp\nexpect open 3\nclose 3\nexpect closed 3\n",
        )
        .stdout_contains("✓ fd 1 is open")
        .stdout_contains("✓ fd 3 is closed")
        .stdout_contains("✓ fd 3 is open")
        .run();
    Test::new()
        .args(["--panel", "off"])
        .script("expect open 3\n")
        .status(1)
        .stderr_contains("test.sock:1: expected fd 3 open, but it is closed")
        .run();
    Test::new()
        .args(["--panel", "off"])
        .script("socket tcp\nexpect closed 3\n")
        .status(1)
        .stderr_contains("test.sock:2: expected fd 3 closed, but it is open")
        .run();
}

#[test]
fn expect_output_holds_and_fails() {
    Test::new()
        .args(["--panel", "off"])
        .script("socket tcp\nexpect output \"IPPROTO_TCP) = 3\"\n")
        .stdout_contains("✓ the output contains \"IPPROTO_TCP) = 3\"")
        .run();
    Test::new()
        .args(["--panel", "off"])
        .script("socket tcp\nexpect output UDP\n")
        .status(1)
        .stderr_contains("test.sock:2: expected the output to contain \"UDP\"")
        .run();
}

#[test]
fn expect_output_sees_the_text_help_printed() {
    Test::new()
        .args(["--panel", "off"])
        .script("help accept\nexpect output \"usage: accept\"\n")
        .run();
}

#[test]
fn expect_output_sees_the_table_fds_printed() {
    Test::new()
        .args(["--panel", "off"])
        .script("socket tcp as s\nbind s :0\nlisten s\nfds\nexpect output LISTEN\n")
        .run();
}

#[test]
fn a_failing_command_stops_the_replay_with_its_errno_and_line() {
    Test::new()
        .args(["--panel", "off"])
        .script("socket tcp as first\nclose 99\nsocket tcp as second\n")
        .status(1)
        .stdout_contains("socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3")
        .stdout_lacks("= 4")
        .stdout_lacks("sockplay> socket tcp as second")
        .stderr_contains("test.sock:2: EBADF: fd 99 is not open")
        .run();
}

#[test]
fn a_failing_check_stops_the_replay() {
    Test::new()
        .args(["--panel", "off"])
        .script("socket tcp as s\nexpect fd s 7\nsocket tcp as later\n")
        .status(1)
        .stdout_lacks("= 4")
        .stderr_contains("test.sock:2: expected")
        .run();
}

#[test]
fn a_failing_check_is_not_excused_by_an_expect_error_after_it() {
    Test::new()
        .args(["--panel", "off"])
        .script("socket tcp as s\nexpect fd s 7\nexpect error EBADF\n")
        .status(1)
        .stderr_contains("test.sock:2: expected s to be fd 7, got fd 3")
        .run();
}

#[test]
fn a_failure_on_the_last_line_still_exits_1() {
    Test::new()
        .args(["--panel", "off"])
        .script("socket tcp\nclose 99\n")
        .status(1)
        .stderr_contains("test.sock:2: EBADF")
        .run();
}

#[test]
fn expect_state_fails_while_the_peer_keeps_the_connection_open() {
    // The peer keeps the connection open: CLOSE_WAIT never comes and the check must fail.
    let peer = std_peer(|mut stream| {
        stream.write_all(b"still here").expect("write");
        let mut rest = Vec::new();
        // Holds the connection until sockplay exits.
        let _ = stream.read_to_end(&mut rest);
    });
    Test::new()
        .args(["--panel", "off"])
        .script(format!(
            "socket tcp as c\nset timeout 0.3\nconnect c 127.0.0.1:{}\nexpect state c CLOSE_WAIT\n",
            peer.port
        ))
        .status(1)
        .stderr_contains("test.sock:4: expected fd 3 in state CLOSE_WAIT, got ESTABLISHED")
        .run();
    peer.join();
}
