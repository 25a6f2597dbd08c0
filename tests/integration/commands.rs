//! Each core command of SPEC §3 against real kernel sockets (inside one sockplay, or with a std::net
//! peer in the test process), the session settings, and the command-line flags of SPEC §1.

use std::io::{Read, Write};
use std::time::Duration;

use crate::support::{
    accept_within, closed_port, fd_row, json_steps, last_panel_row, listener, port_after, quiet,
    std_client, std_peer, unique_name, Test, PAIR,
};

// ---- socket ----

#[test]
fn socket_makes_every_family_and_type_and_fds_count_up_from_3() {
    quiet()
        .script(
            "socket inet stream\nsocket inet dgram\nsocket inet6 stream\nsocket inet6 dgram\n\
             socket unix stream\nsocket unix dgram\nsocket unix seqpacket\nsocket tcp\nsocket udp\n",
        )
        .stdout_contains("socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3")
        .stdout_contains("socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP) = 4")
        .stdout_contains("socket(AF_INET6, SOCK_STREAM, IPPROTO_TCP) = 5")
        .stdout_contains("socket(AF_INET6, SOCK_DGRAM, IPPROTO_UDP) = 6")
        .stdout_contains("socket(AF_UNIX, SOCK_STREAM, 0) = 7")
        .stdout_contains("socket(AF_UNIX, SOCK_DGRAM, 0) = 8")
        .stdout_contains("socket(AF_UNIX, SOCK_SEQPACKET, 0) = 9")
        .stdout_contains("socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 10")
        .stdout_contains("socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP) = 11")
        .run();
}

#[test]
fn socket_reuses_the_lowest_free_fd_after_a_close() {
    quiet()
        .script("socket tcp as a\nsocket tcp as b\nclose a\nsocket udp as c\nexpect fd c 3\n")
        .stdout_contains("socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP) = 3")
        .run();
}

#[test]
fn socket_shows_its_family_and_type_in_the_table() {
    let steps = json_steps("socket inet6 dgram as u6\nsocket unix seqpacket as sp\n");
    let last = steps.last().expect("a step");
    let u6 = fd_row(last, 3).expect("fd 3");
    assert_eq!(
        (&u6["name"], &u6["family"], &u6["type"], &u6["state"]),
        (
            &"u6".into(),
            &"inet6".into(),
            &"dgram".into(),
            &"UNCONNECTED".into()
        )
    );
    let sp = fd_row(last, 4).expect("fd 4");
    assert_eq!(
        (&sp["family"], &sp["type"]),
        (&"unix".into(), &"seqpacket".into())
    );
}

#[test]
fn seqpacket_over_ip_either_works_or_points_to_unix_seqpacket() {
    let output = quiet()
        .args(["-c", "socket inet seqpacket"])
        .run_unchecked();
    if output.status.success() {
        assert!(
            output.stdout.contains("IPPROTO_SCTP) = 3"),
            "{}",
            output.report()
        );
    } else {
        assert!(
            output.stdout.contains("`socket unix seqpacket` works"),
            "the failure says what to use instead\n{}",
            output.report()
        );
    }
}

// ---- bind ----

#[test]
fn bind_port_0_prints_the_port_the_kernel_chose() {
    let output = quiet()
        .script("socket tcp as s\nbind s 127.0.0.1:0\n")
        .stdout_contains("bind(3, 127.0.0.1:0) = 0")
        .run();
    let line = output
        .stdout
        .lines()
        .find(|l| l.starts_with("bound to "))
        .unwrap_or_else(|| panic!("a `bound to` line\n{}", output.report()));
    assert_ne!(port_after(line, "bound to"), 0, "{line}");
}

#[test]
fn bind_colon_port_means_loopback_of_the_sockets_family() {
    quiet()
        .script("socket tcp as v4\nbind v4 :0\nsocket inet6 stream as v6\nbind v6 :0\n")
        .stdout_contains("bind(3, 127.0.0.1:0) = 0")
        .stdout_contains("bind(4, [::1]:0) = 0")
        .stdout_contains("bound to [::1]:")
        .run();
}

#[test]
fn bind_an_ipv6_address_in_brackets() {
    let steps = json_steps("socket inet6 stream as s\nbind s [::1]:0\nlisten s\n");
    let listener = fd_row(steps.last().expect("a step"), 3).expect("fd 3");
    let local = listener["local"].as_str().expect("a local address");
    assert!(
        local.starts_with("[::1]:") && !local.ends_with(":0"),
        "{local}"
    );
    assert_eq!(listener["state"], "LISTEN");
}

#[test]
fn bind_a_unix_socket_to_a_path_creates_the_socket_file() {
    let test = quiet();
    let path = test.dir().join("play.sock");
    let output = test
        .arg("--allow-shell")
        .script(format!(
            "socket unix stream as u\nbind u {path}\nlisten u\nsocket unix stream as c\nconnect c $u\naccept u as k\n\
             socket unix dgram as rel\nbind rel ./rel.sock\n\
             !test -S {path} && test -S ./rel.sock && echo both-are-socket-files\n",
            path = path.display()
        ))
        .stdout_contains(format!("bind(3, {}) = 0", path.display()))
        .stdout_contains(format!("connect(4, {}) = 0", path.display()))
        .stdout_contains("accept(3) = 5  peer (unnamed)")
        .stdout_contains("bind(6, ./rel.sock) = 0")
        .stdout_contains("both-are-socket-files")
        .run();
    // sockplay made those files, so it removes them when it exits.
    for file in ["play.sock", "rel.sock"] {
        assert!(
            !output.dir.path().join(file).exists(),
            "{file} is removed at exit\n{}",
            output.report()
        );
    }
}

#[test]
fn closing_the_last_fd_removes_the_socket_file_sockplay_made_but_never_a_foreign_one() {
    let test = quiet();
    let path = test.dir().join("mine.sock");
    let output = test
        .script(format!(
            "socket unix stream as u\nbind u {path}\ndup u as u2\nclose u\nexpect output \"close(3) = 0\"\n\
             close u2\nexpect output unlink\n",
            path = path.display()
        ))
        .run();
    assert!(
        !path.exists(),
        "removed once no fd holds the socket\n{}",
        output.report()
    );
}

#[test]
fn bind_an_existing_unix_path_fails_with_eaddrinuse_and_a_hint() {
    let test = quiet().file("taken.sock", b"");
    let path = test.dir().join("taken.sock");
    test.script(format!(
        "socket unix stream as u\nbind u {}\n",
        path.display()
    ))
    .status(1)
    .stdout_contains("= -1 EADDRINUSE")
    .stderr_contains("test.sock:2: EADDRINUSE")
    .run();
}

#[test]
fn bind_an_abstract_unix_name() {
    let name = unique_name("bind");
    let steps = json_steps(&format!(
        "socket unix stream as u\nbind u @{name}\nlisten u\nsocket unix stream as c\nconnect c $u\n"
    ));
    assert_eq!(steps[1]["output"], format!("bind(3, @{name}) = 0"));
    let last = steps.last().expect("a step");
    assert_eq!(fd_row(last, 3).expect("fd 3")["local"], format!("@{name}"));
    assert_eq!(fd_row(last, 3).expect("fd 3")["state"], "LISTEN");
    assert_eq!(fd_row(last, 4).expect("fd 4")["remote"], format!("@{name}"));
    assert_eq!(fd_row(last, 4).expect("fd 4")["state"], "CONNECTED");
}

#[test]
fn binding_twice_fails_with_einval() {
    quiet()
        .env("COLUMNS", "1000")
        .script("socket tcp as s\nbind s :0\nbind s :0\nexpect error EINVAL\n")
        .stdout_contains("hint: fd 3 is already bound, to 127.0.0.1:")
        .stdout_contains(" (a socket is bound once; connect and listen bind it too): make a new socket for another address\n")
        .run();
}

// ---- listen ----

#[test]
fn listen_defaults_to_a_backlog_of_128_shown_as_send_q() {
    let steps = json_steps("socket tcp as s\nbind s :0\nlisten s\n");
    let listen = steps.last().expect("a step");
    assert_eq!(
        listen["output"].as_str().map(|o| o.lines().next()),
        Some(Some("listen(3, 128) = 0"))
    );
    let row = fd_row(listen, 3).expect("fd 3");
    assert_eq!(
        (&row["state"], &row["recv_q"], &row["send_q"]),
        (&"LISTEN".into(), &0.into(), &128.into())
    );
}

#[test]
fn listen_with_a_backlog_shows_it_as_send_q_and_waiting_connections_as_recv_q() {
    let steps =
        json_steps("socket tcp as s\nbind s :0\nlisten s 7\nsocket tcp as c\nconnect c $s\n");
    let row = fd_row(steps.last().expect("a step"), 3).expect("fd 3");
    assert_eq!((&row["recv_q"], &row["send_q"]), (&1.into(), &7.into()));
}

#[test]
fn a_unix_listener_shows_its_accept_queue_like_ss() {
    let name = unique_name("unixq");
    let steps = json_steps(&format!(
        "socket unix stream as u\nbind u @{name}\nlisten u 7\nsocket unix stream as c\nconnect c $u\n"
    ));
    let row = fd_row(steps.last().expect("a step"), 3).expect("fd 3");
    assert_eq!(
        (&row["recv_q"], &row["send_q"]),
        (&1.into(), &7.into()),
        "{row}"
    );
}

#[test]
fn a_connection_waiting_in_the_accept_queue_is_listed_under_its_listener() {
    let output = Test::new()
        .args(["--panel", "below"])
        .script("socket tcp as srv\nbind srv 127.0.0.1:0\nlisten srv\nsocket tcp as cli\nconnect cli $srv\n")
        .run();
    let connected = output
        .stdout
        .lines()
        .find(|l| l.starts_with("connected from "))
        .expect("connected line");
    let client = connected.trim_start_matches("connected from ").trim();
    let panel = output
        .stdout
        .rsplit("open fds")
        .next()
        .expect("the last panel");
    // The client's own row names its address once (LOCAL); the queued connection, whose REMOTE is the
    // client, must be a second row.
    assert!(
        panel.matches(client).count() >= 2,
        "the queued connection from {client} is listed\n{}",
        output.report()
    );
}

#[test]
fn listen_on_a_datagram_socket_fails_with_eopnotsupp() {
    quiet()
        .script("socket udp as d\nlisten d\n")
        .status(1)
        .stdout_contains("listen(3, 128) = -1 EOPNOTSUPP")
        .stderr_contains("test.sock:2: EOPNOTSUPP")
        .run();
}

// ---- accept and connect ----

#[test]
fn accept_prints_the_new_fd_and_the_peer_address() {
    let output = quiet()
        .script(PAIR)
        .stdout_contains("accept(3) = 5  peer 127.0.0.1:")
        .run();
    let connected = output
        .stdout
        .lines()
        .find(|l| l.starts_with("connected from "))
        .expect("connect printed its local address");
    let accepted = output
        .stdout
        .lines()
        .find(|l| l.starts_with("accept(3) = 5"))
        .expect("accept line");
    assert_eq!(
        port_after(accepted, "peer"),
        port_after(connected, "connected from"),
        "the peer accept shows is the client's address\n{}",
        output.report()
    );
}

#[test]
fn accept_as_name_names_the_new_socket() {
    quiet()
        .script(format!("{PAIR}fileno conn\nexpect fd conn 5\n"))
        .stdout_contains("fileno(conn) = 5")
        .run();
}

#[test]
fn accept_takes_a_connection_from_a_foreign_client() {
    let mut running = quiet()
        .script("socket tcp as srv\nbind srv 127.0.0.1:0\nlisten srv\naccept srv as conn\nrecv conn\nexpect data hello\n")
        .spawn();
    let port = port_after(
        &running.wait_for_line("now waits for connections on"),
        "connections on",
    );
    let mut client = std_client(port);
    let client_port = client.local_addr().expect("client address").port();
    client.write_all(b"hello").expect("send");
    let output = running.finish();
    let accepted = output
        .stdout
        .lines()
        .find(|l| l.starts_with("accept(3) = 4"))
        .unwrap_or_else(|| panic!("accept gave fd 4\n{}", output.report()));
    assert_eq!(port_after(accepted, "peer"), client_port);
}

#[test]
fn accept_on_a_socket_that_is_not_listening_fails_with_einval() {
    quiet()
        .script("socket tcp as s\naccept s\n")
        .status(1)
        .stdout_contains("accept(3) = -1 EINVAL")
        .stderr_contains("test.sock:2: EINVAL")
        .run();
}

#[test]
fn connect_reaches_a_std_listener() {
    let (listener, port) = listener();
    let output = quiet()
        .script(format!(
            "socket tcp as c\nconnect c 127.0.0.1:{port}\nexpect state c ESTABLISHED\n"
        ))
        .stdout_contains(format!("connect(3, 127.0.0.1:{port}) = 0"))
        .run();
    let line = output
        .stdout
        .lines()
        .find(|l| l.starts_with("connected from "))
        .expect("connected from line");
    let stream = accept_within(&listener, Duration::from_secs(5));
    assert_eq!(
        stream.peer_addr().expect("peer").port(),
        port_after(line, "connected from")
    );
}

#[test]
fn connect_where_nothing_listens_is_refused() {
    let port = closed_port();
    quiet()
        .script(format!("socket tcp as c\nconnect c 127.0.0.1:{port}\n"))
        .status(1)
        .stdout_contains(format!("connect(3, 127.0.0.1:{port}) = -1 ECONNREFUSED"))
        .stdout_contains("hint: nothing is listening")
        .stderr_contains(format!(
            "test.sock:2: ECONNREFUSED: fd 3 cannot connect to 127.0.0.1:{port}"
        ))
        .run();
}

#[test]
fn connect_to_dollar_name_uses_the_address_that_socket_is_bound_to() {
    quiet()
        .script("socket inet6 stream as s\nbind s [::1]:0\nlisten s\nsocket inet6 stream as c\nconnect c $s\nexpect state c ESTABLISHED\n")
        .stdout_contains("connect(4, [::1]:")
        .run();
}

#[test]
fn dollar_name_of_an_unbound_socket_is_an_error() {
    quiet()
        .script("socket tcp as s\nsocket tcp as c\nconnect c $s\n")
        .status(1)
        .stderr_contains("test.sock:3: `s` (fd 3) has no address yet")
        .run();
}

// ---- send and recv ----

#[test]
fn send_delivers_exactly_the_decoded_bytes_to_a_std_peer() {
    let (listener, port) = listener();
    quiet()
        .script(format!(
            "socket tcp as c\nconnect c 127.0.0.1:{port}\nsend c \"GET / HTTP/1.1\\r\\n\\t\\\\\\\"q\\\" \\x00\\xff\\x1b\"\nclose c\n"
        ))
        .stdout_contains(", 25, MSG_NOSIGNAL) = 25")
        .run();
    let mut stream = accept_within(&listener, Duration::from_secs(5));
    let mut got = Vec::new();
    stream.read_to_end(&mut got).expect("read to EOF");
    assert_eq!(got, b"GET / HTTP/1.1\r\n\t\\\"q\" \x00\xff\x1b");
}

#[test]
fn unquoted_words_of_data_are_joined_by_single_spaces() {
    quiet()
        .script(format!(
            "{PAIR}send cli hello   world\nrecv conn\nexpect data \"hello world\"\n"
        ))
        .stdout_contains("send(4, \"hello world\", 11, MSG_NOSIGNAL) = 11")
        .run();
}

#[test]
fn recv_shows_bytes_from_a_std_peer_escaped() {
    let peer = std_peer(|mut stream| {
        stream.write_all(b"hi\r\n\t\x00\"\\\x7f").expect("write");
    });
    quiet()
        .script(format!(
            "socket tcp as c\nconnect c 127.0.0.1:{}\nrecv c\nexpect data \"hi\\r\\n\\t\\0\\\"\\\\\\x7f\"\n",
            peer.port
        ))
        .stdout_contains(r#"recv(3, 4096, 0) = 9  "hi\r\n\t\0\"\\\x7f""#)
        .run();
    peer.join();
}

#[test]
fn recv_takes_at_most_max_bytes() {
    quiet()
        .script(format!("{PAIR}send cli hello\nexpect state srv LISTEN\nrecv conn 3\nexpect data hel\nrecv conn\nexpect data lo\n"))
        .stdout_contains("recv(5, 3, 0) = 3  \"hel\"")
        .stdout_contains("recv(5, 4096, 0) = 2  \"lo\"")
        .run();
}

#[test]
fn recv_shows_eof_when_a_std_peer_closes() {
    let peer = std_peer(|mut stream| {
        stream.write_all(b"bye").expect("write");
    });
    quiet()
        .script(format!(
            "socket tcp as c\nconnect c 127.0.0.1:{}\nexpect state c CLOSE_WAIT\nrecv c\nexpect data bye\nrecv c\nexpect eof\n",
            peer.port
        ))
        .stdout_contains("recv(3, 4096, 0) = 0")
        .stdout_contains("EOF: the peer closed its side; fd 3 sits in CLOSE_WAIT")
        .run();
    peer.join();
}

#[test]
fn recv_with_nothing_to_read_times_out_and_the_socket_stays_usable() {
    quiet()
        .script(format!(
            "{PAIR}set timeout 0.2\nrecv conn\nexpect error ETIMEDOUT\nsend cli late\nrecv conn\nexpect data late\n"
        ))
        .stdout_contains("ETIMEDOUT: no data arrived on fd 5 (waited 0.2 s)")
        .run();
}

#[test]
fn send_to_a_closed_peer_fails_with_epipe() {
    quiet()
        .script(format!(
            "{PAIR}close conn\nexpect state cli CLOSE_WAIT\nsend cli one\nsend cli two\nexpect error EPIPE\n"
        ))
        .stdout_contains("= -1 EPIPE")
        .run();
}

// ---- fileno, detach, close, fds ----

#[test]
fn fileno_prints_the_fd_behind_a_name() {
    quiet()
        .script("socket tcp as a\nsocket udp as b\nfileno b\nfileno 3\n")
        .stdout_contains("fileno(b) = 4")
        .stdout_contains("fileno(3) = 3")
        .run();
}

#[test]
fn detach_keeps_the_fd_open_without_its_name_and_close_n_closes_it() {
    let steps = json_steps(&format!(
        "{PAIR}detach conn\nexpect open 5\nclose 5\nexpect closed 5\nexpect state cli CLOSE_WAIT\n"
    ));
    let detach = steps
        .iter()
        .find(|s| s["input"] == "detach conn")
        .expect("detach step");
    assert!(
        detach["output"]
            .as_str()
            .is_some_and(|o| o.contains("detach(conn) = 5")),
        "{detach}"
    );
    let row = fd_row(detach, 5).expect("fd 5 is still open after detach");
    assert_eq!(row["name"], serde_json::Value::Null, "the name is gone");
    assert_eq!(row["state"], "ESTABLISHED");
    let close = steps
        .iter()
        .find(|s| s["input"] == "close 5")
        .expect("close step");
    let output = close["output"].as_str().unwrap_or_default();
    assert_eq!(output.lines().next(), Some("close(5) = 0"), "{close}");
    assert!(
        output.contains("fd 4 (cli) is in CLOSE_WAIT") || output.contains("fd 4 is in CLOSE_WAIT"),
        "closing the detached end is a real close: the peer sees it: {close}"
    );
    assert!(fd_row(close, 5).is_none(), "fd 5 is closed: {close}");
}

#[test]
fn detach_shows_the_fd_as_detached_in_the_panel() {
    let output = Test::new()
        .args(["--panel", "below"])
        .script(format!("{PAIR}detach conn\n"))
        .run();
    let row = last_panel_row(&output, 5);
    assert!(row.contains("(detached)"), "{row}");
    assert!(!row.contains("conn"), "{row}");
}

#[test]
fn a_detached_name_is_gone_and_its_fd_refuses_handle_commands() {
    quiet()
        .script(format!("{PAIR}detach conn\nrecv conn\n"))
        .status(1)
        .stderr_contains("no socket is named `conn`")
        .run();
    quiet()
        .script(format!("{PAIR}detach conn\nrecv 5\n"))
        .status(1)
        .stderr_contains("fd 5 was detached")
        .run();
}

#[test]
fn close_frees_the_fd_and_the_peer_sees_eof() {
    quiet()
        .script(format!("{PAIR}close cli\nexpect closed 4\nexpect state conn CLOSE_WAIT\nrecv conn\nexpect eof\n"))
        .stdout_contains("close(4) = 0")
        .run();
}

#[test]
fn close_of_an_fd_that_is_not_open_fails_with_ebadf() {
    quiet()
        .script("close 42\n")
        .status(1)
        .stderr_contains("test.sock:1: EBADF: fd 42 is not open")
        .run();
}

#[test]
fn fds_prints_the_whole_table_even_with_the_panel_off() {
    quiet()
        .script("socket tcp as srv\nbind srv :0\nlisten srv\nfds\n")
        .stdout_contains("open fds:")
        .stdout_contains("FD  NAME")
        .stdout_contains("LISTEN")
        .run();
}

// ---- names ----

#[test]
fn a_name_held_by_an_open_socket_cannot_be_given_again() {
    quiet()
        .script("socket tcp as srv\nsocket tcp as srv\n")
        .status(1)
        .stdout_lacks("= 4")
        .stderr_contains("test.sock:2: the name `srv` belongs to fd 3")
        .run();
    quiet()
        .script(format!("{PAIR}accept srv as cli\n"))
        .status(1)
        .stderr_contains("the name `cli` belongs to fd 4")
        .run();
}

#[test]
fn a_name_is_free_again_once_its_socket_is_closed() {
    quiet()
        .script("socket tcp as srv\nsocket tcp as other\nclose srv\nsocket udp as srv\nexpect fd srv 3\n")
        .stdout_contains("socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP) = 3")
        .run();
}

// ---- session settings ----

#[test]
fn set_timeout_makes_accept_give_up_quickly_and_the_listener_keeps_listening() {
    let output = quiet()
        .time_limit(Duration::from_secs(4))
        .script("socket tcp as srv\nbind srv :0\nlisten srv\nset timeout 0.2\naccept srv\nexpect error ETIMEDOUT\nexpect state srv LISTEN\n")
        .stdout_contains("timeout is 0.2 s")
        .stdout_contains("ETIMEDOUT: no connection is waiting in the backlog of fd 3 (waited 0.2 s)")
        .stdout_contains("✓ fd 3 is LISTEN")
        .run();
    output.assert_took_less_than(Duration::from_secs(3), "accept gives up after 0.2 s");
}

#[test]
fn a_zero_timeout_still_accepts_a_connection_that_is_already_waiting() {
    quiet()
        .script("socket tcp as s\nbind s :0\nlisten s\nsocket tcp as c\nconnect c $s\nset timeout 0\naccept s as k\n")
        .stdout_contains("accept(3) = 5")
        .run();
}

#[test]
fn set_panel_off_and_below_move_the_panel() {
    let output = Test::new()
        .script(
            "socket tcp as a\nset panel off\nsocket tcp as b\nset panel below\nsocket tcp as c\n",
        )
        .stdout_contains("panel is off")
        .stdout_contains("panel is below")
        .run();
    // Two panels: after `a` (default below, stdout is not a terminal) and after `c`; none after `b`.
    assert_eq!(
        output.stdout.matches("open fds:").count(),
        3 - 1,
        "{}",
        output.report()
    );
    let after_b = output
        .stdout
        .split("sockplay> socket tcp as b")
        .nth(1)
        .and_then(|rest| rest.split("sockplay> set panel below").next())
        .expect("the step of b");
    assert!(!after_b.contains("open fds"), "{after_b}");
}

#[test]
fn help_lists_the_commands_and_help_command_explains_one() {
    let output = quiet().script("help\n").run();
    for command in [
        "socket", "bind", "listen", "accept", "connect", "send", "recv", "fileno", "detach",
        "close", "fds", "set", "help", "quit", "expect",
    ] {
        assert!(
            output
                .stdout
                .lines()
                .any(|l| l.trim_start().starts_with(command)),
            "help lists {command}\n{}",
            output.report()
        );
    }
    quiet()
        .script("help accept\n")
        .stdout_contains("usage: accept SOCK [as NAME]")
        .stdout_contains("ETIMEDOUT")
        .run();
}

#[test]
fn quit_and_exit_stop_a_script_early_with_success() {
    for word in ["quit", "exit", "QUIT"] {
        quiet()
            .script(format!(
                "socket tcp as a\n{word}\nsocket tcp as b\nclose 99\n"
            ))
            .stdout_contains("= 3")
            .stdout_lacks("= 4")
            .stdout_lacks("close")
            .run();
    }
}

// ---- flags ----

#[test]
fn timeout_flag_bounds_blocking_calls() {
    let output = quiet()
        .args(["--timeout", "0.2"])
        .script("socket tcp as srv\nbind srv :0\nlisten srv\naccept srv\n")
        .status(1)
        .stderr_contains("test.sock:4: ETIMEDOUT")
        .stdout_contains("(waited 0.2 s)")
        .run();
    output.assert_took_less_than(Duration::from_secs(3), "accept gives up after 0.2 s");
}

#[test]
fn timeout_flag_rejects_a_negative_number() {
    Test::new()
        .args(["--timeout=-1", "-c", "fds"])
        .status(2)
        .stdout_is("")
        .stderr_contains("--timeout")
        .run();
}

#[test]
fn panel_flag_places_or_hides_the_panel() {
    Test::new()
        .args(["--panel", "off"])
        .script("socket tcp\n")
        .stdout_lacks("open fds")
        .run();
    let output = Test::new()
        .args(["--panel", "below"])
        .script("socket tcp\n")
        .stdout_contains("open fds: ")
        .run();
    assert!(
        output.stdout.lines().any(|l| l.starts_with("open fds: ")),
        "below: the panel starts its own line\n{}",
        output.report()
    );
    let output = Test::new()
        .args(["--panel", "right"])
        .script("socket tcp\n")
        .run();
    let call = output
        .stdout
        .lines()
        .find(|l| l.starts_with("socket(AF_INET"))
        .expect("the call line");
    assert!(
        call.contains("FD") && call.contains("NAME"),
        "right: the panel is beside the output\n{}",
        output.report()
    );
}

#[test]
fn a_narrow_terminal_puts_the_panel_below_even_when_right_is_asked() {
    let output = Test::new()
        .env("COLUMNS", "70")
        .args(["--panel", "right"])
        .script("socket tcp\n")
        .run();
    assert!(
        output.stdout.lines().any(|l| l.starts_with("open fds: ")),
        "{}",
        output.report()
    );
}

#[test]
fn help_flag_prints_usage_and_exits_0() {
    Test::new()
        .arg("--help")
        .stdout_contains("Usage: sockplay")
        .stdout_contains("--json")
        .stdout_contains("--timeout")
        .stderr_is("")
        .run();
}

#[test]
fn version_flag_prints_the_version() {
    Test::new()
        .arg("--version")
        .stdout_is(format!("sockplay {}\n", env!("CARGO_PKG_VERSION")))
        .run();
}

#[test]
fn an_unknown_flag_is_a_usage_error() {
    Test::new()
        .arg("--frobnicate")
        .status(2)
        .stdout_is("")
        .stderr_contains("--frobnicate")
        .run();
}

#[test]
fn a_script_and_dash_c_together_are_a_usage_error() {
    Test::new()
        .args(["-c", "fds"])
        .script("fds\n")
        .status(2)
        .stdout_is("")
        .run();
}
