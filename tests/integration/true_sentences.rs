//! Sentences that are true: each one a step prints about what the kernel does — after `shutdown`,
//! after a `recv` of 0 bytes, after a `close` of one of several fds of a socket, after the peer
//! closes a socket several fds hold — checked in the same run against what the kernel then does.

use std::time::Duration;

use crate::support::{Output, Test, PAIR};

/// The text a step printed, from its prompt line up to the next prompt (the first such step).
fn step_text<'t>(output: &'t Output, input: &str) -> &'t str {
    let text = &output.stdout;
    let prompt = format!("sockplay> {input}\n");
    let start = text
        .find(&prompt)
        .unwrap_or_else(|| panic!("no step `{input}` in\n{}", output.report()));
    let rest = &text[start + prompt.len()..];
    &rest[..rest.find("sockplay> ").unwrap_or(rest.len())]
}

/// Runs `script` with the panel off, wide enough that no sentence wraps; every command must
/// succeed or be excused.
fn run(script: &str) -> Output {
    Test::new()
        .env("COLUMNS", "400")
        .args(["--panel", "off", "--timeout", "3"])
        .script(script)
        .run()
}

/// Fails unless step `input` of `output` printed exactly `lines` (its call line and sentences).
fn assert_step(output: &Output, input: &str, lines: &[&str]) {
    let printed: Vec<&str> = step_text(output, input).lines().collect();
    assert_eq!(printed, lines, "step `{input}`\n{}", output.report());
}

#[test]
fn after_shutdown_rd_the_kernel_still_takes_the_peers_data_and_recv_returns_it() {
    let output = run(&format!(
        "{PAIR}shutdown conn rd\nrecv conn\nsend cli hello\nrecv conn\nexpect data hello\n\
         expect state cli ESTABLISHED\n"
    ));
    assert_step(
        &output,
        "shutdown conn rd",
        &[
            "shutdown(5, SHUT_RD) = 0",
            "fd 5 stops reading: with nothing queued recv returns 0 at once instead of waiting, yet the kernel still takes what the peer sends and recv returns it (Linux); the peer is not told",
        ],
    );
    assert_step(
        &output,
        "recv conn",
        &[
            "recv(5, 4096, 0) = 0",
            "0 bytes, but not the peer's EOF: fd 5 is shut down for reading and nothing is queued; data the peer sends still arrives, and recv returns it",
        ],
    );
    assert!(
        output.stdout.contains("recv(5, 4096, 0) = 5  \"hello\""),
        "{}",
        output.report()
    );
}

#[test]
fn after_shutdown_rd_and_wr_the_peers_data_is_answered_with_a_reset() {
    let output = run(&format!(
        "{PAIR}shutdown conn rd\nshutdown conn wr\nexpect state cli CLOSE_WAIT\n\
         send cli more\nrecv conn\nexpect error ECONNRESET\n"
    ));
    assert_step(
        &output,
        "shutdown conn wr",
        &[
            "shutdown(5, SHUT_WR) = 0",
            "fd 5 sent FIN: the peer reads EOF once it has the data; as fd 5 was shut down for reading already, data the peer sends now is answered with a reset (RST)",
            "the peer of fd 4 (cli) closed its side: fd 4 is in CLOSE_WAIT until this program closes it",
            // The step waits for the peer's (delayed) ACK of the FIN, so this is always told.
            "the peer acknowledged the FIN of fd 5 (conn): it waits in FIN_WAIT2 for the peer to close too",
        ],
    );
    let rdwr = run(&format!(
        "{PAIR}shutdown conn rdwr\nexpect state cli CLOSE_WAIT\nsend cli more\nrecv conn\n\
         expect error ECONNRESET\n"
    ));
    assert!(
        step_text(&rdwr, "shutdown conn rdwr").contains(
            "fd 5 sent FIN and stops reading: the peer reads EOF once it has the data; recv here returns what is queued, then 0, and data the peer sends from now on is answered with a reset (RST); the fd stays open until close"
        ),
        "{}",
        rdwr.report()
    );
}

#[test]
fn shutdown_wr_with_reading_open_lets_the_peer_still_send() {
    let output = run(&format!(
        "{PAIR}shutdown cli wr\nrecv conn\nexpect eof\nsend conn reply\nrecv cli\nexpect data reply\n"
    ));
    assert!(
        step_text(&output, "shutdown cli wr").starts_with(
            "shutdown(4, SHUT_WR) = 0\nfd 4 sent FIN: the peer reads EOF once it has the data; fd 4 can still receive\n"
        ),
        "{}",
        output.report()
    );
}

#[test]
fn after_shutdown_rd_on_a_unix_socket_the_peers_sends_fail_with_epipe() {
    for sock_type in ["stream", "seqpacket"] {
        let output = run(&format!(
            "socketpair unix {sock_type} as a b\nsend b queued\nshutdown a rd\nsend b more\n\
             expect error EPIPE\nrecv a\nexpect data queued\nrecv a\nexpect eof\n"
        ));
        assert_step(
            &output,
            "shutdown a rd",
            &[
                "shutdown(3, SHUT_RD) = 0",
                "fd 3 stops reading: recv returns what is queued, then 0; the peer is told at once: its sends now fail with EPIPE",
            ],
        );
    }
    let dgram = run(
        "socketpair unix dgram as a b\nshutdown a rd\nsend b more\nexpect error EPIPE\nrecv a\n",
    );
    assert_step(
        &dgram,
        "shutdown a rd",
        &[
            "shutdown(3, SHUT_RD) = 0",
            "fd 3 stops reading: recv returns what is queued, then 0 at once; whoever sends to it now gets EPIPE",
        ],
    );
    assert_step(
        &dgram,
        "recv a",
        &["recv(3, 4096, MSG_TRUNC) = 0  nothing is queued and fd 3 is shut down for reading: recv returns 0 at once"],
    );
}

#[test]
fn after_shutdown_rd_a_udp_socket_still_gets_datagrams_and_recv_does_not_wait() {
    let output = run(
        "socket udp as u\nbind u :0\nsocket udp as v\nbind v :0\nconnect u $v\nconnect v $u\n\
         shutdown u rd\nrecv u\nrecvfrom u\nsend v hi\nrecv u\nexpect data hi\n",
    );
    assert_step(
        &output,
        "shutdown u rd",
        &[
            "shutdown(3, SHUT_RD) = 0",
            "fd 3 stops reading, yet datagrams still arrive and recv returns them; with nothing queued recv returns 0 at once instead of waiting; the peer is not told",
        ],
    );
    assert_step(
        &output,
        "recv u",
        &["recv(3, 4096, MSG_TRUNC) = 0  nothing is queued and fd 3 is shut down for reading: recv returns 0 at once"],
    );
    assert_step(
        &output,
        "recvfrom u",
        &[
            "recvfrom(3, 4096, MSG_TRUNC) = 0  \"\"",
            "nothing is queued and fd 3 is shut down for reading: recvfrom returns 0 at once",
        ],
    );
    // Neither waited for the 3 s timeout, as a blocking recv would not.
    output.assert_took_less_than(Duration::from_secs(3), "recv after shutdown rd waits");
}

#[test]
fn shutdown_rd_on_a_listener_closes_it() {
    let output =
        run("socket tcp as l\nbind l :0\nlisten l\nshutdown l rd\naccept l\nexpect error EINVAL\n");
    assert_step(
        &output,
        "shutdown l rd",
        &[
            "shutdown(3, SHUT_RD) = 0",
            "fd 3 stops listening: the kernel closes the listener and resets the connections in its queue; accept on it now fails with EINVAL",
        ],
    );
}

#[test]
fn closing_one_of_two_fds_of_a_socket_sends_no_fin() {
    let output = run(&format!(
        "{PAIR}dup conn as conn2\nclose conn\nnonblock cli on\nrecv cli\nexpect error EAGAIN\n\
         expect state cli ESTABLISHED\nclose conn2\nexpect state cli CLOSE_WAIT\nsleep 0\n"
    ));
    assert_step(
        &output,
        "close conn",
        &[
            "close(5) = 0",
            "fd 5 (conn) is closed, but fd 6 (conn2) still holds the socket: no FIN is sent and the peer notices nothing",
        ],
    );
    // The last fd's close sends the FIN: the peer's CLOSE_WAIT is told, once.
    let told = "the peer of fd 4 (cli) closed its side: fd 4 is in CLOSE_WAIT until this program closes it";
    assert_eq!(
        output.stdout.matches(told).count(),
        1,
        "{}",
        output.report()
    );
    assert!(
        !step_text(&output, "close conn2").contains("still holds"),
        "{}",
        output.report()
    );
}

#[test]
fn close_wait_of_a_socket_held_twice_names_both_fds_and_lasts_until_both_close() {
    let output = run(&format!(
        "{PAIR}dup conn as conn2\nclose cli\nexpect state conn CLOSE_WAIT\nsleep 0\nclose conn\n\
         expect state conn2 CLOSE_WAIT\n"
    ));
    let told = "the peer of fd 5 (conn) closed its side: the socket is in CLOSE_WAIT until fd 5 (conn) and fd 6 (conn2) are both closed; closing only one sends no FIN";
    assert_eq!(
        output.stdout.matches(told).count(),
        1,
        "{}",
        output.report()
    );
    assert!(
        !output.stdout.contains("fd 6 (conn2) closed its side"),
        "one socket, one sentence\n{}",
        output.report()
    );
    assert_step(
        &output,
        "close conn",
        &[
            "close(5) = 0",
            "fd 5 (conn) is closed, but fd 6 (conn2) still holds the socket: no FIN is sent and the peer notices nothing",
        ],
    );
}

#[test]
fn after_fork_the_parents_close_sends_no_fin_while_the_child_holds_the_socket() {
    let output = run(&format!(
        "{PAIR}fork as child\nclose conn\nexpect state cli ESTABLISHED\nchild: close conn\n\
         expect state cli CLOSE_WAIT\nsleep 0\n"
    ));
    assert!(
        step_text(&output, "close conn").contains(
            "main's fd 5 (conn) is closed, but child's fd 5 (conn) still holds the socket: no FIN is sent and the peer notices nothing"
        ),
        "{}",
        output.report()
    );
    // The child's close was the socket's last: the FIN went out. The child holds the client's
    // socket too (fork copies every fd), so its CLOSE_WAIT lasts until both processes close it.
    // Told by whichever step first saw it (the child's close, on loopback), naming both holders.
    let told: Vec<&str> = output
        .stdout
        .lines()
        .filter(|line| line.contains("fd 4 (cli) closed its side"))
        .collect();
    let either = [
        "the peer of child's fd 4 (cli) closed its side: the socket is in CLOSE_WAIT until child's fd 4 (cli) and main's fd 4 (cli) are both closed; closing only one sends no FIN",
        "the peer of main's fd 4 (cli) closed its side: the socket is in CLOSE_WAIT until main's fd 4 (cli) and child's fd 4 (cli) are both closed; closing only one sends no FIN",
    ];
    assert!(
        told.len() == 1 && either.contains(&told[0]),
        "{told:?}\n{}",
        output.report()
    );
}
