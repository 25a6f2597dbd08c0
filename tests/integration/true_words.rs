//! What sockplay says next to the calls is what the kernel did: close names what it sent (FIN,
//! RST, or nothing while another fd holds the socket), shutdown what it changed, a non-blocking
//! connect that started is not called a failure, detach counts the bytes a file loses, the help
//! says what Linux does, and `set explain python` names only variables that exist. And the small
//! gaps of real scripts: `sendto --bytes`, `$NAME` after close, "did you mean" for `expect`
//! words, and `!` lines refused before a script's first line runs.

use std::time::Duration;

use crate::support::{quiet, Test};

/// A run with the panel off and lines too wide to wrap, for tests that read whole sentences.
fn wide() -> Test {
    quiet().env("COLUMNS", "1000")
}

/// A listener `srv` (fd 3), a client `cli` (fd 4) connected to it and the accepted end `conn`
/// (fd 5).
const PAIR: &str = "socket tcp as srv\nbind srv :0\nlisten srv\nsocket tcp as cli\nconnect cli $srv\naccept srv as conn\n";

#[test]
fn recv_on_a_listener_fails_at_once_with_enotconn() {
    let output = wide()
        .args(["--timeout", "30"])
        .script("socket tcp as srv\nbind srv :0\nlisten srv\nrecv srv\n")
        .status(1)
        .stdout_contains("\nrecv(3, 4096, 0) = -1 ENOTCONN (Transport endpoint is not connected)\nENOTCONN: nothing received on fd 3\n")
        .stderr_is("test.sock:4: ENOTCONN: nothing received on fd 3\n")
        .run();
    output.assert_took_less_than(
        Duration::from_secs(3),
        "the kernel fails recv on a listener at once; nothing may wait for the 30 s timeout",
    );
}

#[test]
fn close_says_it_sent_fin_when_nothing_was_left_unread() {
    wide()
        .script(format!("{PAIR}close conn\n"))
        .stdout_contains(
            "\nclose(5) = 0\nclose sent FIN: the peer reads EOF after the data already sent\n",
        )
        .run();
    wide()
        .script(format!("{PAIR}close conn\nexpect state cli CLOSE_WAIT\nclose cli\n"))
        .stdout_contains("\nclose(4) = 0\nclose sent FIN, answering the peer's: the connection ends once the peer acknowledges it (LAST_ACK)\n")
        .run();
}

#[test]
fn close_of_a_socket_in_flight_in_scm_rights_says_nothing_was_sent_and_the_peer_stays_established()
{
    // The kernel keeps a socket open while an SCM_RIGHTS message holds it; no process's fd
    // table shows that holder, so the check is the kernel's own list after the close.
    wide()
        .script(format!(
            "{PAIR}socketpair unix stream as a b\nsendfd a conn\nclose conn\nexpect state cli ESTABLISHED\nclose b\nexpect state cli CLOSE_WAIT\n"
        ))
        .stdout_contains("\nclose(5) = 0\nclose sent nothing: fd 5's socket is still in flight in a Unix socket message (SCM_RIGHTS), which holds it open until it is received and closed, or dropped; the peer notices nothing until then\nsockplay> expect state cli ESTABLISHED\n")
        .run();
    wide()
        .script("socketpair unix stream as x y\nsocketpair unix stream as a b\nsendfd a x\nclose x\n")
        .stdout_contains("\nclose(3) = 0\nclose sent nothing: fd 3's socket is still in flight in a Unix socket message (SCM_RIGHTS), which holds it open until it is received and closed, or dropped; the peer notices nothing until then\n")
        .run();
}

#[test]
fn close_says_it_sent_rst_with_unread_data_or_linger_zero() {
    wide()
        .script(format!("{PAIR}send cli hello\nclose conn\nrecv cli\nexpect error ECONNRESET\n"))
        .stdout_contains("\nclose(5) = 0\nclose sent RST, not FIN: 5 unread bytes were in fd 5's receive queue, and closing on unread data resets the connection\n")
        .run();
    wide()
        .script(format!(
            "{PAIR}setsockopt conn SO_LINGER on:0\nclose conn\nrecv cli\nexpect error ECONNRESET\n"
        ))
        .stdout_contains("\nclose(5) = 0\nclose sent RST, not FIN: SO_LINGER is on with 0 s, which aborts the connection (no TIME_WAIT)\n")
        .run();
}

#[test]
fn close_says_nothing_was_sent_while_another_fd_holds_the_socket() {
    wide()
        .script(format!(
            "{PAIR}dup conn as copy\nclose conn\nexpect state cli ESTABLISHED\n"
        ))
        .stdout_contains("\nclose(5) = 0\nfd 5 (conn) is closed, but fd 6 (copy) still holds the socket: no FIN is sent and the peer notices nothing\n")
        .stdout_lacks("close sent")
        .run();
    // A child process holding it counts as much as another fd here.
    wide()
        .script(format!(
            "{PAIR}fork as child\nclose conn\nexpect state cli ESTABLISHED\n"
        ))
        .stdout_contains("\nclose(5) = 0\nmain's fd 5 (conn) is closed, but child's fd 5 (conn) still holds the socket: no FIN is sent and the peer notices nothing\n")
        .run();
}

#[test]
fn close_of_a_listener_with_a_queue_and_of_unix_sockets_says_what_the_peer_gets() {
    wide()
        .script("socket tcp as srv\nbind srv :0\nlisten srv\nsocket tcp as cli\nconnect cli $srv\nclose srv\nrecv cli\nexpect error ECONNRESET\n")
        .stdout_contains("\nclose(3) = 0\nthe kernel reset the connection waiting in fd 3's accept queue (RST)\n")
        .run();
    wide()
        .script("socketpair unix stream as a b\nclose b\nrecv a\nexpect eof\n")
        .stdout_contains("\nclose(4) = 0\nthe peer reads EOF (a unix socket has no FIN; the kernel tells the peer directly)\n")
        .run();
    wide()
        .script("socketpair unix stream as a b\nsend a x\nclose b\nrecv a\nexpect error ECONNRESET\n")
        .stdout_contains("\nclose(4) = 0\n1 unread byte was in fd 4's receive queue, so the peer's next recv fails with ECONNRESET")
        .run();
    // Nothing to say for a socket with no connection.
    wide()
        .script("socket udp as u\nclose u\nsocket tcp as t\nclose t\n")
        .stdout_is("sockplay> socket udp as u\nsocket(AF_INET, SOCK_DGRAM, IPPROTO_UDP) = 3\nsockplay> close u\nclose(3) = 0\nsockplay> socket tcp as t\nsocket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3\nsockplay> close t\nclose(3) = 0\n")
        .run();
}

#[test]
fn shutdown_says_what_it_did_to_a_listener_a_unix_socket_and_an_unconnected_one() {
    wide()
        .script("socket tcp as srv\nbind srv :0\nlisten srv\nshutdown srv wr\nexpect state srv LISTEN\nshutdown srv rd\nexpect state srv CLOSE\n")
        .stdout_contains("\nshutdown(3, SHUT_WR) = 0\nfd 3 is a listener: shutting down its writing changes nothing, and it keeps listening\n")
        .stdout_contains("\nshutdown(3, SHUT_RD) = 0\nfd 3 stops listening: the kernel closes the listener and resets the connections in its queue; accept on it now fails with EINVAL\n")
        .run();
    wide()
        .script("socketpair unix stream as a b\nshutdown a rd\nsend b x\nexpect error EPIPE\nshutdown b wr\nrecv a\nexpect eof\n")
        .stdout_contains("\nshutdown(3, SHUT_RD) = 0\nfd 3 stops reading: recv returns what is queued, then 0; the peer is told at once: its sends now fail with EPIPE\n")
        .stdout_contains("\nshutdown(4, SHUT_WR) = 0\nfd 4 will send nothing more: the peer reads EOF once it has read what was sent; fd 4 can still receive\n")
        .run();
    wide()
        .script("socket unix stream as u\nshutdown u rdwr\n")
        .stdout_contains("\nshutdown(3, SHUT_RDWR) = 0\nnothing to shut: fd 3 is not connected (a unix socket accepts shutdown anyway)\n")
        .run();
    wide()
        .script(format!(
            "{PAIR}shutdown cli rd\nrecv cli\nexpect eof\nsend conn late\nrecv cli\nexpect data late\n"
        ))
        .stdout_contains("\nrecv(4, 4096, 0) = 0\n0 bytes, but not the peer's EOF: fd 4 is shut down for reading and nothing is queued; data the peer sends still arrives, and recv returns it\n")
        .stdout_contains("\nshutdown(4, SHUT_RD) = 0\nfd 4 stops reading: with nothing queued recv returns 0 at once instead of waiting, yet the kernel still takes what the peer sends and recv returns it (Linux); the peer is not told\n")
        .run();
}

#[test]
fn a_non_blocking_connect_that_started_is_not_called_a_failure() {
    let output = wide()
        .script("socket tcp as srv\nbind srv :0\nlisten srv\nsocket tcp as c\nnonblock c on\nconnect c $srv\nexpect error EINPROGRESS\nexpect state c ESTABLISHED\n")
        .stdout_contains("\nEINPROGRESS: fd 4's handshake with 127.0.0.1:")
        .stdout_contains(" has started and goes on without waiting\n")
        .stdout_lacks("cannot connect")
        .run();
    assert!(
        output.stdout.contains("fd 4 is non-blocking: calls that would wait fail at once with EAGAIN (a TCP connect: EINPROGRESS, the handshake going on)\n"),
        "{}",
        output.report()
    );
}

#[test]
fn sendto_on_a_connected_tcp_socket_says_the_address_was_ignored() {
    wide()
        .script(format!("{PAIR}sendto cli 127.0.0.1:9 hey\nrecv conn\nexpect data hey\n"))
        .stdout_contains("\nsendto(4, \"hey\", 3, MSG_NOSIGNAL, 127.0.0.1:9) = 3\nfd 4 is a connected TCP socket: Linux ignores sendto's address (127.0.0.1:9) there, and the bytes went to its peer, 127.0.0.1:")
        .run();
}

#[test]
fn sendto_bytes_sends_n_bytes_of_the_pattern_not_the_words() {
    wide()
        .script("socket udp as u\nbind u :0\nsendto u $u --bytes 28\nrecvfrom u\nexpect data abcdefghijklmnopqrstuvwxyzab\n")
        .stdout_contains("sendto(3, \"abcdefghijklmnopqrstuvwxyzab\", 28, MSG_NOSIGNAL, 127.0.0.1:")
        .stdout_lacks("--bytes 28\"")
        .run();
}

#[test]
fn detach_says_how_many_buffered_bytes_the_file_loses() {
    wide()
        .script("socketpair unix stream as a b\nmakefile b as f\nsend a \"one\\ntwo\\n\"\nreadline f\nwrite f xyz\ndetach b\n")
        .stdout_contains("\ndetach(b) = 4\nthe handle is gone; fd 4 stays open with no owner (`close 4` closes it)\nfile `f` over fd 4 is closed with it: 4 bytes it had taken from the socket but not handed out are discarded; 3 bytes never flushed are lost\n")
        .run();
}

#[test]
fn explain_python_names_only_variables_that_exist() {
    wide()
        .script(
            "set explain python\nsocket tcp\nbind 3 :0\nsocketpair unix stream\nsend 4 --bytes 3\n\
             makefile 5\ndetach 4\nclose 4\nepoll create\n",
        )
        .stdout_contains("\n>>> s3 = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n")
        .stdout_contains("\n>>> s3.bind((\"127.0.0.1\", 0))\n")
        .stdout_contains("\n>>> s4, s5 = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)\n")
        .stdout_contains("\n>>> s4.send((b\"abcdefghijklmnopqrstuvwxyz\" * 1)[:3])\nsend(4, \"abc\", 3, MSG_NOSIGNAL) = 3\n")
        .stdout_contains("\n>>> file5 = s5.makefile(\"rwb\")\n")
        .stdout_contains("\n>>> fd = s4.detach()\n")
        .stdout_contains("\n>>> os.close(4)\nclose(4) = 0\n")
        .stdout_contains("\n>>> s4 = select.epoll()\n")
        .stdout_lacks(">>> sock =")
        .stdout_lacks("s4.close()")
        .run();
}

#[test]
fn expect_words_get_did_you_mean() {
    let typo = |line: &str, column: usize, message: &str| {
        wide()
            .script(format!("socket tcp as s\n{line}\n"))
            .status(2)
            .stdout_is("")
            .stderr_is(format!(
                "test.sock:2:{column}: error: {message}\n  | {line}\n  | {}^\n",
                " ".repeat(column - 1)
            ))
            .run();
    };
    typo(
        "expect stat s LISTEN",
        8,
        "`stat` is not a check: use state, fd, data, eof, error, open, closed, output; did you mean `state`?",
    );
    typo(
        "expect eff",
        8,
        "`eff` is not a check: use state, fd, data, eof, error, open, closed, output; did you mean `eof`?",
    );
    typo(
        "expect error ECONREFUSED",
        14,
        "`ECONREFUSED` is not an errno name: use e.g. ECONNREFUSED, EADDRINUSE, ETIMEDOUT; did you mean `ECONNREFUSED`?",
    );
    typo(
        "expect state s LISTN",
        16,
        "`LISTN` is not a socket state: use one of LISTEN SYN_SENT SYN_RECV ESTABLISHED FIN_WAIT1 FIN_WAIT2 CLOSE_WAIT LAST_ACK CLOSING TIME_WAIT CLOSE UNCONNECTED CONNECTED; did you mean `LISTEN`?",
    );
}

#[test]
fn expect_error_takes_the_second_names_of_errnos() {
    wide()
        .script("socket udp as u\nnonblock u on\nrecv u\nexpect error EWOULDBLOCK\naccept u\nexpect error ENOTSUP\n")
        .stdout_contains("✓ recv failed with EWOULDBLOCK\n")
        .stdout_contains("✓ accept failed with ENOTSUP\n")
        .run();
}

#[test]
fn a_name_keeps_its_address_after_close_so_a_script_can_reuse_the_port() {
    let output = wide()
        .script("socket tcp as a\nbind a :0\nclose a\nsocket tcp as b\nbind b $a\nlisten b\nexpect state b LISTEN\n")
        .run();
    // `bound to 127.0.0.1:PORT` after a's bind; b's bind is the last call line on fd 3.
    let line = |marker: &str| {
        output
            .stdout
            .lines()
            .rfind(|line| line.starts_with(marker))
            .unwrap_or_else(|| panic!("no line `{marker}`\n{}", output.report()))
    };
    let closed_port = crate::support::port_after(line("bound to"), "bound to");
    let reused = crate::support::port_after(line("bind(3,"), "bind(3,");
    assert_eq!(reused, closed_port, "{}", output.report());
}

#[test]
fn a_scripts_shell_line_is_refused_before_any_line_runs() {
    let output = wide()
        .script("socket unix stream as u\nbind u ./made.sock\n!echo hi\n")
        .status(2)
        .stdout_is("")
        .stderr_is("test.sock:3: `!` runs a shell command: typed at the prompt it always may, a script only with --allow-shell\n")
        .run();
    assert!(!output.dir.path().join("made.sock").exists());
    // What `source` reads is refused whole as well, before its first line runs.
    let output = wide()
        .file(
            "inner.sock",
            "socket unix stream as u\nbind u ./inner-made.sock\n!echo hi\n",
        )
        .script("socket tcp as t\nsource inner.sock\n")
        .status(1)
        .stderr_is("test.sock:2: inner.sock:3: `!` runs a shell command: typed at the prompt it always may, a script only with --allow-shell\n")
        .stdout_lacks("bind(")
        .run();
    assert!(!output.dir.path().join("inner-made.sock").exists());
}

#[test]
fn help_says_what_linux_does() {
    let help = |command: &str, says: &[&str]| {
        // Help reflows to the terminal: wide enough, each paragraph is one line.
        let mut test = Test::new().env("COLUMNS", "1000").args([
            "--panel",
            "off",
            "-c",
            &format!("help {command}"),
        ]);
        for text in says {
            test = test.stdout_contains(text.replace('\n', " "));
        }
        test.run();
    };
    help(
        "sendto",
        &["On a connected TCP socket Linux ignores ADDR and sends on the\nconnection"],
    );
    help(
        "send",
        &["EPIPE (the connection is closed for sending: the peer is gone, this side shut down, or,\non Linux TCP, the socket was never connected)"],
    );
    help(
        "close",
        &[
            "But with unread bytes in its receive queue, or with SO_LINGER on at 0 s, close\nsends RST instead",
            "close says which it did.",
        ],
    );
    help(
        "listen",
        &["Linux lets BACKLOG + 1\nconnections wait there"],
    );
    help(
        "connect",
        &["On a non-blocking socket EINPROGRESS is no failure: the handshake has started"],
    );
    help(
        "bind",
        &["SO_REUSEADDR lets bind through a TIME_WAIT only when it is set on the new\nsocket before bind and was set on the old one too"],
    );
    help(
        "recv",
        &["EINVAL (a unix\nstream socket that is not connected)"],
    );
}

#[test]
fn select_says_why_a_socket_is_writable_room_a_pending_error_or_a_sending_side_shut_down() {
    // select(2) marks a socket writable when a send would not block — which includes a send
    // that fails at once: the kernel's tcp_poll sets POLLOUT after SHUT_WR, and POLLERR with it
    // after a reset.
    wide()
        .script(format!(
            "{PAIR}select write cli timeout 0\nshutdown cli wr\nselect write cli timeout 0\nsetsockopt conn SO_LINGER on:0\nclose conn\nselect write cli timeout 0\nsend cli x\nexpect error ECONNRESET\nsocket tcp as fresh\nselect write fresh timeout 0\nsend fresh x\nexpect error EPIPE\n"
        ))
        .stdout_contains("\nfd 4 (cli) is writable: there is room in its send buffer\nsockplay> shutdown cli wr\n")
        .stdout_contains("\nfd 4 (cli) is writable: its sending side is shut down (its FIN went out); select counts that as writable, but a send fails with EPIPE\n")
        .stdout_contains("\nfd 4 (cli) is writable: an error is pending on it (the connection was reset or refused); select counts that as writable, but the next send fails with that error\nsockplay> send cli x\n")
        .stdout_contains("\nfd 5 (fresh) is writable: it has no connection to send on (never connected, or the connection is over); select counts that as writable, but a send fails\n")
        .run();
}

#[test]
fn poll_asks_about_an_fd_that_is_not_open_and_the_kernel_answers_pollnval() {
    // poll(2) does not fail on a closed fd: that fd's revents is POLLNVAL (Python's
    // select.poll() gets [(fd, 32)]).
    wide()
        .script("socket udp as u\nclose u\npoll 3 timeout 0\n")
        .stdout_contains("\nsockplay> poll 3 timeout 0\npoll([{fd=3, events=POLLIN|POLLOUT|POLLRDHUP}], 1, 0) = 1 ([{fd=3, revents=POLLNVAL}])\nfd 3: POLLNVAL — the fd is not open: poll says so for it, and the call itself succeeds\n")
        .run();
}

#[test]
fn help_set_says_what_compact_and_full_do_and_a_missing_expect_output_text_is_named() {
    wide()
        .script("help set\n")
        .stdout_contains("`set panel compact` hides fds 0, 1 and 2 while they are unchanged, `set panel full` shows them again")
        .stdout_contains("at the limit a signal cuts the call (the kernel answers EINTR), sockplay reports ETIMEDOUT")
        .run();
    wide()
        .script("expect output\n")
        .status(2)
        .stderr_contains("error: missing TEXT; usage: expect")
        .run();
}
