//! Hints that read the situation, against the real kernel: what holds an address is named (which
//! fd in which process, a TIME_WAIT connection, a dual-stack listener, another program, a stale
//! socket file), an abstract name never gets advice about files, and each errno's hint fits the
//! socket it is printed for. Unix socket files behave as the kernel makes them: the file stays
//! after close, `unlink` removes it, and sockplay removes the files it made when it exits.

use std::net::TcpListener;

use regex::Regex;

use crate::support::{quiet, unique_name, Output, Test};

/// A run with the panel off and lines too wide to wrap, so each hint is one line.
fn wide() -> Test {
    quiet().env("COLUMNS", "1000")
}

/// Every `hint: …` line the run printed, without the prefix.
fn hints(output: &Output) -> Vec<&str> {
    output
        .stdout
        .lines()
        .filter_map(|line| line.strip_prefix("hint: "))
        .collect()
}

/// The one hint the run printed.
fn the_hint(output: &Output) -> &str {
    match hints(output).as_slice() {
        [hint] => hint,
        other => panic!("one hint expected, got {other:?}\n{}", output.report()),
    }
}

/// The port the kernel chose in the `nth` `bound to HOST:PORT` line (counting from 0).
fn bound_port(output: &Output, nth: usize) -> u16 {
    let bound = Regex::new(r"bound to \S*:(\d+)").expect("a regex");
    let port = bound
        .captures_iter(&output.stdout)
        .nth(nth)
        .and_then(|c| c[1].parse().ok());
    port.unwrap_or_else(|| panic!("no bound port #{nth}\n{}", output.report()))
}

#[test]
fn a_closed_unix_sockets_file_stays_and_the_next_bind_fails_until_unlink() {
    let output = wide()
        .script(
            "socket unix stream as a\nbind a ./x.sock\nclose a\nsocket unix stream as b\n\
             bind b ./x.sock\nexpect error EADDRINUSE\nunlink ./x.sock\nbind b ./x.sock\n",
        )
        .stdout_is(
            "sockplay> socket unix stream as a\n\
             socket(AF_UNIX, SOCK_STREAM, 0) = 3\n\
             sockplay> bind a ./x.sock\n\
             bind(3, ./x.sock) = 0\n\
             sockplay> close a\n\
             close(3) = 0\n\
             the socket file ./x.sock stays: the kernel does not remove it; `unlink ./x.sock` removes it\n\
             sockplay> socket unix stream as b\n\
             socket(AF_UNIX, SOCK_STREAM, 0) = 3\n\
             sockplay> bind b ./x.sock\n\
             bind(3, ./x.sock) = -1 EADDRINUSE (Address already in use)\n\
             EADDRINUSE: cannot bind fd 3 to ./x.sock\n\
             hint: ./x.sock is a stale socket file: fd 3 (a) in main was bound there and closed, and the kernel does not remove the file; remove it with `unlink ./x.sock`, then bind again\n\
             sockplay> expect error EADDRINUSE\n\
             ✓ bind failed with EADDRINUSE\n\
             sockplay> unlink ./x.sock\n\
             unlink(\"./x.sock\") = 0\n\
             sockplay> bind b ./x.sock\n\
             bind(3, ./x.sock) = 0\n",
        )
        .run();
    assert!(
        !output.dir.path().join("x.sock").exists(),
        "sockplay removes the socket files it made when it exits\n{}",
        output.report()
    );
}

#[test]
fn sockplay_removes_at_exit_the_files_of_sockets_it_closed() {
    let output = wide()
        .arg("--allow-shell")
        .script("socket unix dgram as d\nbind d ./gone.sock\nclose d\n!test -S gone.sock && echo still-there\nexpect output still-there\n")
        .run();
    assert!(
        !output.dir.path().join("gone.sock").exists(),
        "{}",
        output.report()
    );
}

#[test]
fn a_script_may_unlink_the_stale_file_its_own_bind_left() {
    // A script may remove only the socket files it made; a closed socket's file is still one.
    wide()
        .script("socket unix stream as a\nbind a ./mine.sock\nclose a\nunlink ./mine.sock\nsocket unix stream as b\nbind b ./mine.sock\n")
        .stdout_contains("unlink(\"./mine.sock\") = 0\n")
        .stdout_contains("bind(3, ./mine.sock) = 0\n")
        .run();
}

#[test]
fn a_bind_where_a_socket_is_bound_names_it_and_its_process() {
    let output = wide()
        .script("spawn server\nserver: socket unix stream as srv\nserver: bind srv ./in-use.sock\nserver: listen srv\nsocket unix stream as b\nbind b ./in-use.sock\nexpect error EADDRINUSE\n")
        .run();
    assert_eq!(
        the_hint(&output),
        "fd 3 (srv) in server is bound to ./in-use.sock and listens: a path takes one socket at a time; close it (its file stays: then remove it with `unlink ./in-use.sock`), or pick another path"
    );
}

#[test]
fn a_connect_to_a_stale_file_names_the_socket_that_left_it() {
    let output = wide()
        .script("socket unix stream as a\nbind a ./s.sock\nlisten a\nclose a\nsocket unix stream as c\nconnect c ./s.sock\nexpect error ECONNREFUSED\n\
                 socket unix dgram as d\nbind d ./d.sock\nclose d\nsocket unix dgram as e\nsendto e ./d.sock hi\nexpect error ECONNREFUSED\n")
        .run();
    assert_eq!(
        hints(&output),
        [
            "./s.sock is a stale socket file: fd 3 (a) in main was bound there and closed; nothing listens there until a new socket binds it and listens (remove it with `unlink ./s.sock` first)",
            "./d.sock is a stale socket file: fd 4 (d) in main was bound there and closed; no datagram reaches it until a new socket binds there (remove it with `unlink ./d.sock` first)",
        ]
    );
}

#[test]
fn an_abstract_name_in_use_names_the_fd_holding_it_and_mentions_no_file() {
    let name = unique_name("held");
    let output = wide()
        .script(format!(
            "socket unix stream as a\nbind a @{name}\nsocket unix stream as b\nbind b @{name}\nexpect error EADDRINUSE\n"
        ))
        .run();
    let hint = the_hint(&output);
    assert_eq!(
        hint,
        format!("fd 3 (a) in main holds the abstract name @{name}: an abstract name is no file; it is free again once that socket closes: close it, or pick another name")
    );
    for word in ["unlink", "rm ", "stale", "file at"] {
        assert!(!output.stdout.contains(word), "{word}\n{}", output.report());
    }
}

#[test]
fn an_abstract_name_refused_says_who_holds_it_without_listening_and_never_a_file() {
    let (name, none) = (unique_name("quiet"), unique_name("none"));
    let output = wide()
        .script(format!(
            "spawn server\nserver: socket unix stream as su\nserver: bind su @{name}\n\
             socket unix stream as c\nconnect c @{name}\nexpect error ECONNREFUSED\n\
             socket unix dgram as d\nsendto d @{name} hi\nexpect error ECONNREFUSED\n\
             connect c @{none}\nexpect error ECONNREFUSED\n\
             sendto d @{none} hi\nexpect error ECONNREFUSED\n"
        ))
        .run();
    assert_eq!(
        hints(&output),
        [
            format!("fd 3 (su) in server is bound to @{name} but does not listen: `server: listen su` first"),
            format!("only a stream socket, fd 3 (su) in server, is bound to @{name}: a dgram socket reaches only a socket of its own type"),
            format!("no listening socket of this type holds the abstract name @{none}: an abstract name exists only while a socket is bound to it, and connect needs that socket to listen"),
            format!("no datagram socket holds the abstract name @{none}: an abstract name exists only while a socket of the same type is bound to it"),
        ]
    );
    assert!(!output.stdout.contains("unlink"), "{}", output.report());
}

#[test]
fn a_port_held_by_a_listener_names_its_fd_and_process() {
    let output = wide()
        .script("spawn server\nserver: socket tcp as web\nserver: bind web 127.0.0.1:0\nserver: listen web\nsocket tcp as mine\nbind mine $web\nexpect error EADDRINUSE\n")
        .run();
    let port = bound_port(&output, 0);
    assert_eq!(
        the_hint(&output),
        format!("fd 3 (web) in server listens on 127.0.0.1:{port}: only one socket can listen on an address and port, and SO_REUSEADDR does not change that: close that listener, or pick another port (:0 lets the kernel choose)")
    );
}

/// A server port left in TIME_WAIT: the accepted connection closes first, then the client, then
/// the listener. `reuse` sets SO_REUSEADDR on the listener (its connections take it from it).
fn time_wait_script(reuse: bool) -> String {
    let option = if reuse {
        "setsockopt srv SO_REUSEADDR 1\n"
    } else {
        ""
    };
    format!(
        "socket tcp as srv\n{option}bind srv 127.0.0.1:0\nlisten srv\nsocket tcp as cli\nconnect cli $srv\n\
         accept srv as conn\nclose conn\nclose cli\nclose srv\nsocket tcp as again\n"
    )
}

#[test]
fn a_port_held_by_time_wait_says_so_with_its_time_left_and_how_so_reuseaddr_helps() {
    let output = wide()
        .script(format!(
            "{}bind again $srv\nexpect error EADDRINUSE\nsetsockopt again SO_REUSEADDR 1\nbind again $srv\nexpect error EADDRINUSE\n",
            time_wait_script(false)
        ))
        .run();
    let port = bound_port(&output, 0);
    let left = Regex::new(r"for about (\d+) s more").expect("a regex");
    let found = hints(&output);
    assert_eq!(found.len(), 2, "{}", output.report());
    for hint in &found {
        let seconds: u64 = left
            .captures(hint)
            .and_then(|c| c[1].parse().ok())
            .unwrap_or_else(|| panic!("no time left in {hint}"));
        assert!((50..=60).contains(&seconds), "{hint}");
    }
    let normalised: Vec<String> = found
        .iter()
        .map(|hint| {
            let hint = left.replace(hint, "for about N s more");
            Regex::new(r"127\.0\.0\.1:(\d+)\;")
                .expect("a regex")
                .replace(&hint, "127.0.0.1:CLIENT;")
                .into_owned()
        })
        .collect();
    assert_eq!(
        normalised,
        [
            format!("a connection in TIME_WAIT holds 127.0.0.1:{port} for about N s more (to 127.0.0.1:CLIENT; no fd holds it): wait, pick another port (:0 lets the kernel choose), or set SO_REUSEADDR on the new socket before bind (`setsockopt again SO_REUSEADDR 1`, then `bind`): on Linux that passes a TIME_WAIT only when the socket that left it had SO_REUSEADDR too (a server's connections take it from its listener), and never a listener"),
            format!("a connection in TIME_WAIT holds 127.0.0.1:{port} for about N s more (to 127.0.0.1:CLIENT; no fd holds it): fd 3 has SO_REUSEADDR, but the socket that left this connection did not, and Linux needs both: wait, or pick another port (:0 lets the kernel choose)"),
        ]
    );
}

#[test]
fn so_reuseaddr_on_both_sockets_binds_past_a_time_wait() {
    wide()
        .script(format!(
            "{}setsockopt again SO_REUSEADDR 1\nbind again $srv\n",
            time_wait_script(true)
        ))
        .stdout_lacks("hint:")
        .run();
}

#[test]
fn a_dual_stack_listener_on_any_ipv6_address_holds_the_ipv4_port_and_the_hint_says_so() {
    let output = wide()
        .script("socket inet6 stream as any6\nsetsockopt any6 IPV6_V6ONLY 0\nbind any6 [::]:0\nlisten any6\nsocket tcp as v4\nbind v4 $any6\nexpect error EADDRINUSE\n")
        .run();
    let port = bound_port(&output, 0);
    assert_eq!(
        the_hint(&output),
        format!("fd 3 (any6) in main listens on [::]:{port}, and with IPV6_V6ONLY off (the default) [::] takes IPv4 too, so 127.0.0.1:{port} is taken: pick another port (:0 lets the kernel choose), or set IPV6_V6ONLY to 1 on that socket before its bind, so it leaves IPv4 alone")
    );
}

#[test]
fn a_dual_stack_bind_that_needs_the_ipv4_port_names_who_holds_it() {
    let first = wide()
        .script("socket tcp as v4\nbind v4 127.0.0.1:0\n")
        .run();
    // The port the kernel just gave, free again: bound again below by the same script.
    let port = bound_port(&first, 0);
    let output = wide()
        .script(format!(
            "socket tcp as v4\nbind v4 127.0.0.1:{port}\nsocket inet6 stream as d6\nsetsockopt d6 IPV6_V6ONLY 0\nbind d6 [::]:{port}\nexpect error EADDRINUSE\n"
        ))
        .run();
    assert_eq!(
        the_hint(&output),
        format!("fd 4 is dual-stack (IPV6_V6ONLY off, the default), so [::]:{port} needs port {port} of IPv4 too, and fd 3 (v4) in main is bound to 127.0.0.1:{port}: `setsockopt d6 IPV6_V6ONLY 1` before bind makes fd 4 IPv6 only; or pick another port (:0 lets the kernel choose)")
    );
}

#[test]
fn a_second_listener_on_a_shared_port_names_the_first() {
    let output = wide()
        .script("socket tcp as l1\nsetsockopt l1 SO_REUSEADDR 1\nbind l1 127.0.0.1:0\nsocket tcp as l2\nsetsockopt l2 SO_REUSEADDR 1\nbind l2 $l1\nlisten l1\nlisten l2\nexpect error EADDRINUSE\n")
        .run();
    let port = bound_port(&output, 0);
    assert_eq!(
        the_hint(&output),
        format!("fd 3 (l1) in main listens on 127.0.0.1:{port}: SO_REUSEADDR lets sockets share a bound port, never a listening one: close that listener, or bind fd 4 elsewhere")
    );
}

#[test]
fn a_port_another_program_listens_on_names_that_program() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a listener of this test's");
    let port = listener.local_addr().expect("its address").port();
    let command = std::fs::read_to_string("/proc/self/comm").expect("this process's command");
    let output = wide()
        .script(format!(
            "socket tcp as mine\nbind mine 127.0.0.1:{port}\nexpect error EADDRINUSE\n"
        ))
        .run();
    assert_eq!(
        the_hint(&output),
        format!(
            "a socket of another program (pid {}, {}) listens on 127.0.0.1:{port}: only one socket can listen on an address and port, and SO_REUSEADDR does not change that: close that listener, or pick another port (:0 lets the kernel choose)",
            std::process::id(),
            command.trim_end()
        )
    );
}

#[test]
fn eaddrinuse_for_an_accepted_connection_that_outlived_its_listener_names_it() {
    let output = wide()
        .script("socket tcp as srv\nbind srv 127.0.0.1:0\nlisten srv\nsocket tcp as cli\nconnect cli $srv\naccept srv as conn\nclose srv\nsocket tcp as again\nbind again $srv\nexpect error EADDRINUSE\n")
        .run();
    let port = bound_port(&output, 0);
    let hint = Regex::new(r"127\.0\.0\.1:(\d+) \(ESTABLISHED\)")
        .expect("a regex")
        .replace(the_hint(&output), "127.0.0.1:CLIENT (ESTABLISHED)")
        .into_owned();
    assert_eq!(
        hint,
        format!("fd 5 (conn) in main, a connection to 127.0.0.1:CLIENT (ESTABLISHED), holds 127.0.0.1:{port}: close it, or pick another port (:0 lets the kernel choose); two sockets share a port only when both set SO_REUSEADDR before bind and neither listens")
    );
}

#[test]
fn emfile_while_source_reads_a_script_says_whose_fd_table_is_full_and_what_holds_it() {
    // sockplay's own process reads scripts: 0, 1, 2, its sock_diag socket and one channel per
    // playground process fill a limit of 9 once four processes run beside main.
    let output = wide()
        .fd_limit(9)
        .file("more.sock", "socket tcp\n")
        .script("spawn a\nspawn b\nspawn c\nspawn d\nsource more.sock\n")
        .status(1)
        .run();
    assert_eq!(
        the_hint(&output),
        "sockplay's own process, which reads scripts, has all 9 fds its limit allows open: 1 file, 2 pipes, 1 netlink/raw socket (sock_diag, to read the kernel's sockets), 5 unix/stream sockets (its channels to the processes: main, a, b, c, d); that limit is the one sockplay started with (`ulimit -n` in its shell), and `ulimit nofile` sets a playground process's limit, not this one's: end a process you no longer need (`kill NAME`), or start sockplay with a higher limit"
    );
    assert!(
        !output.stdout.contains("check the path"),
        "{}",
        output.report()
    );
}

#[test]
fn a_missing_script_still_says_check_the_path() {
    let output = wide().script("source nowhere.sock\n").status(1).run();
    assert_eq!(
        the_hint(&output),
        "check the path; it is taken relative to the directory sockplay runs in"
    );
}

#[test]
fn emfile_in_a_process_says_its_limit() {
    let output = wide()
        .script("ulimit nofile 4\nsocket tcp as a\nsocket tcp as b\nexpect error EMFILE\n")
        .run();
    assert_eq!(
        the_hint(&output),
        "fds 0 to 3 are all open: that is this process's limit, 4 (`ulimit nofile`); close sockets you no longer need, or raise it with `ulimit nofile N`"
    );
}

#[test]
fn send_on_a_tcp_socket_tells_never_connected_from_a_connection_that_is_over() {
    let output = wide()
        .script("socket tcp as fresh\nsend fresh hi\nexpect error EPIPE\nsocket tcp as refused\nconnect refused 127.0.0.1:1\nexpect error ECONNREFUSED\nsend refused hi\nexpect error EPIPE\n")
        .run();
    assert_eq!(
        hints(&output),
        [
            "fd 3 was never connected: `connect` it first (Linux answers a send on an unconnected TCP socket with EPIPE)",
            "nothing is listening on 127.0.0.1:1: start a listener there first (socket, bind, listen)",
            "the connection of fd 4 is over (the peer closed or reset it, or connect failed): nothing more can be sent; close it",
        ]
    );
}

#[test]
fn recv_without_a_connection_says_to_accept_to_connect_or_to_connect_again() {
    let output = wide()
        .script("socket tcp as srv\nbind srv 127.0.0.1:0\nlisten srv\nrecv srv\nexpect error ENOTCONN\nsocket tcp as fresh\nrecv fresh\nexpect error ENOTCONN\n\
                 connect fresh 127.0.0.1:1\nexpect error ECONNREFUSED\nrecv fresh\nexpect error ENOTCONN\n")
        .run();
    assert_eq!(
        hints(&output),
        [
            "fd 3 listens: it takes connections, not data; `accept 3`, then recv on the fd it returns",
            "fd 4 is not connected: `connect` it first",
            "nothing is listening on 127.0.0.1:1: start a listener there first (socket, bind, listen)",
            "fd 4 is not connected: its connect did not succeed; `connect` it again, to an address where something listens",
        ]
    );
}

#[test]
fn a_unix_socket_that_listens_unbound_is_told_to_bind_first() {
    let output = wide()
        .script("socket unix stream as u\nlisten u\nexpect error EINVAL\n")
        .run();
    assert_eq!(
        the_hint(&output),
        "a unix socket listens only once it is bound: `bind 3 PATH` (or @name) first"
    );
}

#[test]
fn a_bind_in_a_missing_directory_names_the_directory() {
    let output = wide()
        .script("socket unix stream as u\nbind u ./no/such/x.sock\nexpect error ENOENT\n")
        .run();
    assert_eq!(
        the_hint(&output),
        "there is no directory ./no/such to make the socket file in: make it first, or pick a path in a directory that exists"
    );
}

#[test]
fn a_datagram_to_a_broadcast_address_without_so_broadcast_says_so() {
    let output = wide()
        .script("socket udp as u\nsendto u 255.255.255.255:9 hi\nexpect error EACCES\n")
        .run();
    assert_eq!(
        the_hint(&output),
        "255.255.255.255:9 is a broadcast address: a socket sends there only with SO_BROADCAST on (`setsockopt 3 SO_BROADCAST 1`)"
    );
}

#[test]
fn unix_datagram_sends_say_whether_the_peer_closed_or_there_is_none() {
    let output = wide()
        .script("socketpair unix dgram as a b\nclose b\nsend a hi\nexpect error ECONNREFUSED\nsocket unix dgram as lone\nsend lone hi\nexpect error ENOTCONN\n")
        .run();
    assert_eq!(
        hints(&output),
        [
            "the socket fd 3 is connected to has closed: nothing receives there any more; close fd 3, or connect it to another receiver",
            "fd 4 has no peer: `connect 4 ADDR` first, or give each datagram its address with `sendto 4 ADDR DATA`",
        ]
    );
}

#[test]
fn a_stream_connect_to_a_datagram_socket_file_says_the_types_differ() {
    let output = wide()
        .script("socket unix dgram as d\nbind d ./d.sock\nsocket unix stream as s\nconnect s ./d.sock\nexpect error EPROTOTYPE\n")
        .run();
    assert_eq!(
        the_hint(&output),
        "the socket at ./d.sock is of another type: a stream socket connects only to a socket of its own type"
    );
}

#[test]
fn getpeername_of_a_datagram_socket_says_it_has_a_peer_only_once_connected() {
    let output = wide()
        .script("socket udp as u\ngetpeername u\nexpect error ENOTCONN\n")
        .run();
    assert_eq!(
        the_hint(&output),
        "fd 3 has no peer: a datagram socket has one only once it is connected (`connect 3 ADDR`)"
    );
}

#[test]
fn an_icmp_refusal_on_a_connected_udp_socket_is_told_on_send_and_on_recvfrom() {
    let output = wide()
        .script("socket udp as u\nconnect u 127.0.0.1:1\nsend u hi\nsend u hi\nexpect error ECONNREFUSED\nsend u hi\nrecvfrom u\nexpect error ECONNREFUSED\n")
        .run();
    assert_eq!(
        hints(&output),
        [
            "a datagram fd 3 sent earlier found no receiver (ICMP port unreachable), reported on this call; fd 3 stays usable",
            "a datagram this connected socket sent found no receiver: the peer's host answered ICMP port unreachable, reported here once",
        ]
    );
}

#[test]
fn recvfrom_on_a_listener_says_to_accept() {
    let output = wide()
        .script(
            "socket tcp as l\nbind l 127.0.0.1:0\nlisten l\nrecvfrom l\nexpect error ENOTCONN\n",
        )
        .run();
    assert_eq!(
        the_hint(&output),
        "fd 3 listens: it takes connections, not data; `accept 3`, then recv on the fd it returns"
    );
}

#[test]
fn accept_on_what_is_not_a_listener_says_what_it_is() {
    let output = wide()
        .script("socket tcp as srv\nbind srv 127.0.0.1:0\nlisten srv\nsocket tcp as cli\nconnect cli $srv\naccept cli\nexpect error EINVAL\n\
                 socket unix stream as u\naccept u\nexpect error EINVAL\nsocket udp as d\naccept d\nexpect error EOPNOTSUPP\n")
        .run();
    assert_eq!(
        hints(&output),
        [
            "fd 4 is a connection, not a listener: accept on the fd that listens",
            "fd 5 is not listening: `bind 5 PATH` (or @name), then `listen 5`",
            "fd 6 is a datagram socket: datagram sockets neither listen nor accept; each `recvfrom` takes one datagram, from any sender",
        ]
    );
}

#[test]
fn send_or_connect_on_a_listener_says_it_listens_not_that_it_was_never_connected() {
    // Linux: send on a listener is EPIPE, connect on one EISCONN (as Python's socket gets them).
    let listener = "socket tcp as l\nbind l :0\nlisten l\n";
    let output = wide()
        .script(format!("{listener}send l hi\nexpect error EPIPE\n"))
        .run();
    assert_eq!(
        the_hint(&output),
        "fd 3 listens: a listener carries no data, it takes connections; `accept 3`, then send on the fd it returns"
    );
    let output = wide()
        .script(format!(
            "{listener}sendto l 127.0.0.1:9 x\nexpect error EPIPE\n"
        ))
        .run();
    assert_eq!(
        the_hint(&output),
        "fd 3 listens: a listener carries no data, it takes connections; `accept 3`, then send on the fd it returns"
    );
    let output = wide()
        .script(format!("{listener}connect l $l\nexpect error EISCONN\n"))
        .stdout_contains("\nEISCONN: fd 3 listens: it cannot connect\n")
        .run();
    assert_eq!(
        the_hint(&output),
        "fd 3 listens, and a listener cannot also connect (Linux answers EISCONN); make another socket for the client side: `socket tcp as c`, then `connect c ADDR`"
    );
}

#[test]
fn unlink_of_an_abstract_name_says_it_is_no_file_and_a_second_unlink_is_enoent() {
    // A script may unlink what is not there (nothing can be harmed): the answer is ENOENT.
    wide()
        .script(
            "socket unix stream as a\nbind a @zzq\nunlink @zzq\nexpect error ENOENT\n\
             socket unix stream as b\nbind b ./twice.sock\nunlink ./twice.sock\nunlink ./twice.sock\nexpect error ENOENT\n",
        )
        .stdout_contains("\nsockplay> unlink @zzq\nENOENT: there is no file at @zzq; if you mean the abstract name @zzq, it is no file: unlink has nothing to remove, and the name is free once the last socket bound to it closes\n")
        .stdout_contains("\nsockplay> unlink ./twice.sock\nENOENT: there is no file at ./twice.sock\n")
        .run();
}
