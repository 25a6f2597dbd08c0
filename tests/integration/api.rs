//! The commands beyond the core (SPEC §3, second table) against real kernel sockets: datagrams, Unix
//! sockets of every type, IPv6 and dual stack, half-close, socket options, names, O_NONBLOCK, dup,
//! filling buffers, makefile, ulimit, record/source and `!cmd` — each with the `expect` checks that
//! follow it, and with std::net peers where the bytes on the wire matter.

use std::io::{ErrorKind, Read, Write};
use std::net::UdpSocket;
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use crate::support::{
    accept_within, closed_port, fd_row, json_steps, last_panel_row, listener, port_after, quiet,
    std_client, std_peer, step, unique_name, Test, PAIR,
};

/// The largest `send SOCK --bytes N` accepts.
const MAX_BYTES: u64 = 64 * 1024 * 1024;

/// The text of the first stdout line that starts with `prefix`.
fn line_starting<'a>(stdout: &'a str, prefix: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting with {prefix:?} in:\n{stdout}"))
}

/// The address a `bound to ADDR` or `connected from ADDR` line names.
fn address_after<'a>(stdout: &'a str, prefix: &str) -> &'a str {
    line_starting(stdout, prefix)[prefix.len()..].trim()
}

// ---- sendto / recvfrom ----

#[test]
fn sendto_delivers_binary_bytes_exactly_to_a_std_udp_peer_from_the_bound_port() {
    let peer = UdpSocket::bind("127.0.0.1:0").expect("bind a std UDP socket");
    peer.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("read timeout");
    let port = peer.local_addr().expect("address").port();
    let output = quiet()
        .script(format!(
            "socket udp as u\nbind u 127.0.0.1:0\nsendto u 127.0.0.1:{port} \"a\\0\\xff\\x1b[31mz\\n\"\n"
        ))
        .stdout_contains(format!(
            r#"sendto(3, "a\0\xff\x1b[31mz\n", 10, MSG_NOSIGNAL, 127.0.0.1:{port}) = 10"#
        ))
        .run();
    let bound = address_after(&output.stdout, "bound to ");
    let mut buffer = [0u8; 64];
    let (n, from) = peer.recv_from(&mut buffer).expect("a datagram arrives");
    assert_eq!(&buffer[..n], b"a\0\xff\x1b[31mz\n");
    assert_eq!(from.to_string(), bound, "{}", output.report());
    assert!(
        output
            .stdout
            .contains(&format!("one datagram left {bound} for 127.0.0.1:{port}")),
        "{}",
        output.report()
    );
}

#[test]
fn recvfrom_shows_exactly_the_bytes_and_the_real_address_of_a_std_sender() {
    let mut running = quiet()
        .script(
            "socket udp as u\nbind u 127.0.0.1:0\nrecvfrom u\nexpect data \"\\0\\xff\\x1b]0;x\\x07\"\n",
        )
        .spawn();
    let port = port_after(&running.wait_for_line("bound to "), "bound to");
    let sender = UdpSocket::bind("127.0.0.1:0").expect("bind a std UDP socket");
    let sender_address = sender.local_addr().expect("address");
    sender
        .send_to(b"\0\xff\x1b]0;x\x07", ("127.0.0.1", port))
        .expect("send a datagram");
    let output = running.finish();
    assert!(
        output.stdout.contains(&format!(
            r#"recvfrom(3, 4096, MSG_TRUNC) = 8  from {sender_address}  "\0\xff\x1b]0;x\x07""#
        )),
        "{}",
        output.report()
    );
    assert!(
        !output.stdout_bytes.contains(&0x1b),
        "no raw ESC reaches the terminal"
    );
}

#[test]
fn a_reply_goes_back_to_the_std_sender_it_came_from() {
    let mut running = quiet()
        .script("socket udp as u\nbind u 127.0.0.1:0\nrecvfrom u\nexpect data ping\n")
        .spawn();
    let port = port_after(&running.wait_for_line("bound to "), "bound to");
    let peer = UdpSocket::bind("127.0.0.1:0").expect("bind a std UDP socket");
    peer.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("read timeout");
    peer.send_to(b"ping", ("127.0.0.1", port)).expect("send");
    let output = running.finish();
    // A second run replies to the address recvfrom showed: it must be the std socket's.
    let received = line_starting(&output.stdout, "recvfrom(3, 4096, MSG_TRUNC) = 4  from ");
    let address = port_after(received, "  from ");
    assert_eq!(
        address,
        peer.local_addr().expect("address").port(),
        "{received}"
    );
    let address = format!("127.0.0.1:{address}");
    quiet()
        .script(format!(
            "socket udp as u\nsendto u {address} \"\\xffpong\"\n"
        ))
        .run();
    let mut buffer = [0u8; 16];
    let (n, _) = peer.recv_from(&mut buffer).expect("the reply arrives");
    assert_eq!(&buffer[..n], b"\xffpong");
}

#[test]
fn recvfrom_with_a_max_smaller_than_the_datagram_reports_the_truncation_and_the_rest_is_lost() {
    quiet()
        .script(
            "socket udp as a\nbind a :0\nsocket udp as b\nbind b :0\nsendto a $b 0123456789\n\
             recvfrom b 3\nexpect data 012\nexpect output \"the message had 10 bytes: 3 fit in MAX, the other 7 are lost\"\n\
             set timeout 0.2\nrecvfrom b\nexpect error ETIMEDOUT\n",
        )
        .stdout_contains("recvfrom(4, 3, MSG_TRUNC) = 10  from 127.0.0.1:")
        .run();
}

#[test]
fn connected_udp_sockets_use_send_and_recv_without_addresses() {
    let output = quiet()
        .script(
            "socket udp as a\nbind a :0\nsocket udp as b\nbind b :0\nconnect a $b\nconnect b $a\n\
             send a \"ping\\0\"\nrecv b\nexpect data \"ping\\0\"\nsend b pong\nrecv a\nexpect data pong\n\
             expect state a CONNECTED\ngetpeername a\n",
        )
        .stdout_contains("send(3, \"ping\\0\", 5, MSG_NOSIGNAL) = 5")
        .stdout_contains("recv(4, 4096, MSG_TRUNC) = 5  \"ping\\0\"")
        .run();
    let bound: Vec<&str> = output
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("bound to "))
        .collect();
    let b = bound.get(1).expect("two binds");
    assert!(
        output.stdout.contains(&format!("getpeername(3) = 0  {b}")),
        "{}",
        output.report()
    );
}

#[test]
fn a_connected_udp_socket_whose_peer_port_is_closed_gets_econnrefused_on_recv() {
    quiet()
        .script(
            "socket udp as a\nbind a :0\nsocket udp as b\nbind b :0\nconnect a $b\nclose b\n\
             send a hello\nrecv a\nexpect error ECONNREFUSED\nexpect output \"ICMP port unreachable\"\n",
        )
        .stdout_contains("recv(3, 4096, MSG_TRUNC) = -1 ECONNREFUSED")
        .run();
}

#[test]
fn recvfrom_with_nothing_sent_times_out() {
    let output = quiet()
        .script(
            "socket udp as u\nbind u :0\nset timeout 0.2\nrecvfrom u\nexpect error ETIMEDOUT\nexpect output \"waited 0.2 s\"\n",
        )
        .stdout_contains("recvfrom(3, 4096, MSG_TRUNC) = -1 EINTR (Interrupted system call)  sockplay's timeout (0.2 s) cut the wait\n")
        .stdout_contains("ETIMEDOUT: no datagram arrived on fd 3")
        .run();
    output.assert_took_less_than(Duration::from_secs(3), "recvfrom waits its 0.2 s timeout");
}

#[test]
fn sendto_an_ipv6_address_from_an_inet_socket_fails_with_eafnosupport() {
    quiet()
        .script("socket udp as u\nsendto u [::1]:9 hi\n")
        .status(1)
        .stdout_contains("sendto(3, \"hi\", 2, MSG_NOSIGNAL, [::1]:9) = -1 EAFNOSUPPORT")
        .stdout_contains("hint: the address does not fit the socket's family")
        .stderr_contains("test.sock:2: EAFNOSUPPORT")
        .run();
}

#[test]
fn recvfrom_on_a_tcp_socket_returns_the_bytes() {
    quiet()
        .script(format!(
            "{PAIR}send cli hi\nrecvfrom conn\nexpect data hi\n"
        ))
        .run();
}

// ---- Unix sockets ----

/// A stream or seqpacket server, client and accepted connection on `addr`, with data both ways.
fn unix_connection_script(kind: &str, addr: &str) -> String {
    format!(
        "socket unix {kind} as srv\nbind srv {addr}\nlisten srv\nsocket unix {kind} as cli\nconnect cli $srv\n\
         accept srv as conn\nexpect state cli CONNECTED\nsend cli \"a\\0b\\xff\"\nrecv conn\nexpect data \"a\\0b\\xff\"\n\
         send conn back\nrecv cli\nexpect data back\ngetsockname srv\nexpect output \"{addr}\"\n"
    )
}

/// Two bound datagram sockets exchanging one datagram each way; recvfrom names the sender.
fn unix_datagram_script(a: &str, b: &str) -> String {
    format!(
        "socket unix dgram as a\nbind a {a}\nsocket unix dgram as b\nbind b {b}\nsendto a $b \"x\\xffy\"\n\
         recvfrom b\nexpect data \"x\\xffy\"\nexpect output \"from {a}\"\nsendto b {a} reply\nrecvfrom a\n\
         expect data reply\nexpect output \"from {b}\"\n"
    )
}

#[test]
fn unix_stream_and_seqpacket_connect_on_abstract_names() {
    for kind in ["stream", "seqpacket"] {
        let name = unique_name(&format!("abstract-{kind}"));
        quiet()
            .script(unix_connection_script(kind, &format!("@{name}")))
            .stdout_contains(format!("bind(3, @{name}) = 0"))
            .stdout_contains(format!("connect(4, @{name}) = 0"))
            .stdout_contains("accept(3) = 5  peer (unnamed)")
            .run();
    }
}

#[test]
fn unix_datagrams_on_abstract_names_show_the_sender() {
    let name = unique_name("abstract-dgram");
    quiet()
        .script(unix_datagram_script(
            &format!("@{name}-a"),
            &format!("@{name}-b"),
        ))
        .stdout_contains(format!("recvfrom(4, 4096, MSG_TRUNC) = 3  from @{name}-a"))
        .run();
}

#[test]
fn unix_stream_and_seqpacket_connect_on_paths() {
    for kind in ["stream", "seqpacket"] {
        let test = quiet();
        let path = test.dir().join(format!("{kind}.sock"));
        let path = path.display().to_string();
        test.script(unix_connection_script(kind, &path))
            .stdout_contains(format!("connect(4, {path}) = 0"))
            .run();
    }
}

#[test]
fn unix_datagrams_on_paths_show_the_sender() {
    let test = quiet();
    let a = test.dir().join("a.sock").display().to_string();
    let b = test.dir().join("b.sock").display().to_string();
    test.script(unix_datagram_script(&a, &b))
        .stdout_contains(format!("sendto(3, \"x\\xffy\", 3, MSG_NOSIGNAL, {b}) = 3"))
        .run();
}

#[test]
fn socketpair_makes_two_connected_unix_sockets_of_every_type() {
    for kind in ["stream", "dgram", "seqpacket"] {
        let steps = json_steps(&format!(
            "socketpair unix {kind} as left right\nsend left \"hi\\0\"\nrecv right\nexpect data \"hi\\0\"\n\
             send right back\nrecv left\nexpect data back\nexpect fd left 3\nexpect fd right 4\n"
        ));
        let pair = &steps[0];
        assert_eq!(
            pair["output"].as_str().and_then(|o| o.lines().next()),
            Some(
                format!(
                    "socketpair(AF_UNIX, SOCK_{}, 0) = 0  [3, 4]",
                    kind.to_uppercase()
                )
                .as_str()
            ),
            "{pair}"
        );
        for fd in [3, 4] {
            let row = fd_row(pair, fd).expect("both ends are listed");
            assert_eq!(
                (&row["family"], &row["type"], &row["state"]),
                (&"unix".into(), &kind.into(), &"CONNECTED".into()),
                "{row}"
            );
        }
    }
}

#[test]
fn socketpair_inet_stream_fails_with_eopnotsupp_and_a_hint() {
    quiet()
        .script("socketpair inet stream as a b\n")
        .status(1)
        .stdout_contains("socketpair(AF_INET, SOCK_STREAM, 0) = -1 EOPNOTSUPP")
        .stdout_contains("hint: on Linux only unix sockets come in pairs: `socketpair unix stream`")
        .stderr_contains("test.sock:1: EOPNOTSUPP")
        .run();
}

#[test]
fn seqpacket_keeps_message_boundaries_where_stream_joins_them() {
    quiet()
        .script(
            "socketpair unix seqpacket as a b\nsend a one\nsend a two\nrecv b 100\nexpect data one\n\
             recv b 100\nexpect data two\n\
             socketpair unix stream as c d\nsend c one\nsend c two\nrecv d 100\nexpect data onetwo\n",
        )
        .stdout_contains("recv(4, 100, MSG_TRUNC) = 3  \"one\"")
        .stdout_contains("recv(4, 100, MSG_TRUNC) = 3  \"two\"")
        .stdout_contains("recv(6, 100, 0) = 6  \"onetwo\"")
        .run();
}

#[test]
fn binding_an_existing_path_fails_with_eaddrinuse_and_the_file_is_left_alone() {
    let test = quiet().file("taken.sock", b"not mine");
    let path = test.dir().join("taken.sock");
    let output = test
        .script(format!(
            "socket unix stream as u\nbind u {}\nexpect error EADDRINUSE\nexpect output \"not a socket\"\nclose u\n",
            path.display()
        ))
        .stdout_contains(format!("bind(3, {}) = -1 EADDRINUSE", path.display()))
        .stdout_contains(format!(
            "hint: {} is a regular file, not a socket: bind will not replace it; pick another path",
            path.display()
        ))
        .stdout_lacks("unlink")
        .run();
    assert_eq!(
        std::fs::read(&path).expect("the file is still there after exit"),
        b"not mine",
        "{}",
        output.report()
    );
}

#[test]
fn the_socket_file_stays_after_the_last_fd_closes_as_the_kernel_leaves_it() {
    let test = quiet().env("COLUMNS", "1000");
    let path = test.dir().join("dup.sock").display().to_string();
    let output = test
        .arg("--allow-shell")
        .script(format!(
            "socket unix dgram as u\nbind u {path}\ndup u as u2\nclose u\nclose u2\n!test -S {path} && echo still-there\n\
             expect output still-there\nunlink {path}\n!test -e {path} || echo gone\nexpect output gone\n"
        ))
        .run();
    // A dup still holds the socket after the first close: nothing to say about the file yet.
    assert!(
        output.stdout.contains(&format!(
            "sockplay> close u\nclose(3) = 0\nfd 3 (u) is closed, but fd 4 (u2) still holds the socket: it stays open\nsockplay> close u2\nclose(4) = 0\nthe socket file {path} stays: the kernel does not remove it; `unlink {path}` removes it\n"
        )),
        "{}",
        output.report()
    );
}

#[test]
fn the_socket_file_exists_while_sockplay_runs_and_is_removed_at_exit() {
    let test = quiet();
    let path = test.dir().join("exit.sock");
    let mut running = test
        .script(format!(
            "socket unix stream as u\nbind u {}\nlisten u\naccept u as k\nrecv k\nexpect data bye\n",
            path.display()
        ))
        .spawn();
    running.wait_for_line("now waits for connections");
    let meta = std::fs::symlink_metadata(&path).expect("the socket file exists while bound");
    assert!(meta.file_type().is_socket());
    let mut client = UnixStream::connect(&path).expect("connect to sockplay's socket file");
    client.write_all(b"bye").expect("write");
    let output = running.finish();
    assert!(
        !path.exists(),
        "removed when sockplay exits\n{}",
        output.report()
    );
}

#[test]
fn a_socket_file_someone_else_replaced_is_never_removed() {
    let test = quiet();
    let path = test.dir().join("replaced.sock");
    let shown = path.display().to_string();
    let output = test
        .arg("--allow-shell")
        .script(format!(
            "socket unix stream as u\nbind u {shown}\n!rm {shown} && echo theirs > {shown}\nclose u\n\
             socket unix stream as v\nbind v {shown}.2\n"
        ))
        .stdout_lacks(format!("unlink(\"{shown}\")"))
        .run();
    assert_eq!(
        std::fs::read(&path).expect("the replacement survives close and exit"),
        b"theirs\n",
        "{}",
        output.report()
    );
    assert!(
        !Path::new(&format!("{shown}.2")).exists(),
        "the file sockplay made is removed at exit\n{}",
        output.report()
    );
}

// ---- IPv6 ----

#[test]
fn an_inet6_socket_binds_loopback_and_v6only_reads_back_on() {
    let steps = json_steps(
        "socket inet6 stream as s\nsetsockopt s IPV6_V6ONLY 1\ngetsockopt s IPV6_V6ONLY\n\
         expect output \"1 (on)\"\nbind s [::1]:0\nlisten s\n",
    );
    assert_eq!(
        step(&steps, "getsockopt s IPV6_V6ONLY")["output"],
        "getsockopt(3, IPPROTO_IPV6, IPV6_V6ONLY) = 0  1 (on)"
    );
    let row = fd_row(steps.last().expect("a step"), 3).expect("fd 3");
    assert_eq!(
        (&row["family"], &row["state"]),
        (&"inet6".into(), &"LISTEN".into())
    );
    let local = row["local"].as_str().expect("a local address");
    assert!(
        local.starts_with("[::1]:") && !local.ends_with(":0"),
        "{local}"
    );
}

#[test]
fn a_dual_stack_listener_accepts_an_ipv4_client_as_a_mapped_address() {
    let mut running = quiet()
        .script(
            "socket inet6 stream as s\nsetsockopt s IPV6_V6ONLY 0\ngetsockopt s IPV6_V6ONLY\nexpect output \"0 (off)\"\n\
             bind s [::]:0\nlisten s\naccept s as k\ngetpeername k\nrecv k\nexpect data v4\n",
        )
        .spawn();
    let port = port_after(
        &running.wait_for_line("now waits for connections on"),
        "connections on",
    );
    let mut client = std_client(port);
    let client_port = client.local_addr().expect("address").port();
    client.write_all(b"v4").expect("write");
    let output = running.finish();
    for line in [
        format!("accept(3) = 4  peer [::ffff:127.0.0.1]:{client_port}"),
        format!("getpeername(4) = 0  [::ffff:127.0.0.1]:{client_port}"),
    ] {
        assert!(output.stdout.contains(&line), "{line}\n{}", output.report());
    }
}

#[test]
fn a_v6only_listener_leaves_the_ipv4_port_free_and_takes_only_ipv6_clients() {
    // With IPV6_V6ONLY the IPv4 side of the port is not taken: an inet socket can bind it. Holding
    // it here also keeps other tests off it, so the refused IPv4 connect below is certain.
    quiet()
        .script(
            "socket inet6 stream as s\nsetsockopt s IPV6_V6ONLY 1\nbind s [::]:0\nlisten s\n\
             socket tcp as holder\nbind holder $s\n\
             socket tcp as c\nconnect c $s\nexpect error ECONNREFUSED\n\
             socket inet6 stream as c6\nconnect c6 $s\nexpect state c6 ESTABLISHED\n\
             accept s as k\nexpect output \"peer [::1]:\"\n",
        )
        .run();
    // Without it the listener owns the IPv4 side of the port too.
    quiet()
        .script(
            "socket inet6 stream as s\nsetsockopt s IPV6_V6ONLY 0\nbind s [::]:0\nlisten s\n\
             socket tcp as holder\nbind holder $s\nexpect error EADDRINUSE\n",
        )
        .run();
}

#[test]
fn dollar_name_of_a_dual_stack_listener_works_from_an_inet_client() {
    quiet()
        .script(
            "socket inet6 stream as s\nsetsockopt s IPV6_V6ONLY 0\nbind s [::]:0\nlisten s\n\
             socket tcp as c\nconnect c $s\nexpect state c ESTABLISHED\n",
        )
        .run();
}

// ---- shutdown and SO_LINGER ----

#[test]
fn shutdown_wr_gives_the_peer_eof_while_the_other_direction_still_carries_data() {
    quiet()
        .script(format!(
            "{PAIR}send cli last\nshutdown cli wr\nrecv conn\nexpect data last\nrecv conn\nexpect eof\n\
             expect state cli FIN_WAIT2\nexpect state conn CLOSE_WAIT\nsend conn \"still\\0here\"\nrecv cli\n\
             expect data \"still\\0here\"\nsend cli more\nexpect error EPIPE\n"
        ))
        .stdout_contains("shutdown(4, SHUT_WR) = 0")
        .stdout_contains("✓ fd 4 is FIN_WAIT2")
        .stdout_contains("✓ fd 5 is CLOSE_WAIT")
        .run();
}

#[test]
fn shutdown_wr_gives_a_std_peer_eof_and_it_can_still_answer() {
    let peer = std_peer(|mut stream| {
        let mut got = Vec::new();
        stream.read_to_end(&mut got).expect("read until EOF");
        stream.write_all(b"answer").expect("write after EOF");
        got
    });
    quiet()
        .script(format!(
            "socket tcp as c\nconnect c 127.0.0.1:{}\nsend c question\nshutdown c wr\nrecv c\nexpect data answer\n",
            peer.port
        ))
        .run();
    assert_eq!(peer.join(), b"question");
}

#[test]
fn shutdown_rd_makes_recv_return_eof_at_once() {
    let output = quiet()
        .script(format!(
            "{PAIR}shutdown conn rd\nexpect output SHUT_RD\nrecv conn\nexpect eof\nexpect state conn ESTABLISHED\n"
        ))
        .run();
    output.assert_took_less_than(
        Duration::from_secs(4),
        "recv did not wait for the 5 s timeout",
    );
}

#[test]
fn shutdown_rdwr_sends_fin_and_stops_both_directions() {
    quiet()
        .script(format!(
            "{PAIR}shutdown cli rdwr\nexpect state conn CLOSE_WAIT\nrecv conn\nexpect eof\nsend cli x\nexpect error EPIPE\n\
             recv cli\nexpect eof\nexpect open 4\n"
        ))
        .stdout_contains("shutdown(4, SHUT_RDWR) = 0")
        .run();
}

#[test]
fn shutdown_on_an_unconnected_socket_fails_with_enotconn() {
    quiet()
        .script("socket tcp as s\nshutdown s wr\n")
        .status(1)
        .stdout_contains("shutdown(3, SHUT_WR) = -1 ENOTCONN")
        .stdout_contains("hint: shutdown acts on a connection")
        .stderr_contains("test.sock:2: ENOTCONN")
        .run();
}

#[test]
fn send_after_its_own_shutdown_wr_does_not_blame_the_peer() {
    quiet()
        .script(format!(
            "{PAIR}shutdown cli wr\nsend cli more\nexpect error EPIPE\n"
        ))
        .stdout_lacks("the peer closed the connection")
        .run();
}

#[test]
fn so_linger_on_0_makes_close_reset_the_peer() {
    quiet()
        .script(format!(
            "{PAIR}setsockopt cli SO_LINGER on:0\nexpect output \"SO_LINGER is now on:0 (close resets the connection with RST)\"\n\
             getsockopt cli SO_LINGER\nexpect output on:0\nclose cli\nrecv conn\nexpect error ECONNRESET\n"
        ))
        .stdout_contains("setsockopt(4, SOL_SOCKET, SO_LINGER, {l_onoff=1, l_linger=0}) = 0")
        .stdout_contains("recv(5, 4096, 0) = -1 ECONNRESET")
        .run();
}

#[test]
fn so_linger_on_0_resets_a_std_peer() {
    let peer = std_peer(|mut stream| {
        stream.write_all(b"ready").expect("write");
        let mut buffer = [0u8; 16];
        stream.read(&mut buffer).map_err(|e| e.kind())
    });
    quiet()
        .script(format!(
            "socket tcp as c\nconnect c 127.0.0.1:{}\nrecv c\nexpect data ready\nsetsockopt c SO_LINGER on:0\nclose c\n",
            peer.port
        ))
        .run();
    assert_eq!(peer.join(), Err(ErrorKind::ConnectionReset));
}

// ---- setsockopt / getsockopt ----

/// Every writable option that applies to a TCP socket, a value unlike its default, and what
/// getsockopt shows for it afterwards.
const TCP_OPTIONS: &[(&str, &str, &str)] = &[
    ("SO_REUSEADDR", "1", "1 (on)"),
    ("SO_REUSEPORT", "on", "1 (on)"),
    ("SO_KEEPALIVE", "yes", "1 (on)"),
    ("SO_RCVBUF", "65536", "131072 bytes"),
    ("SO_SNDBUF", "32768", "65536 bytes"),
    ("SO_RCVLOWAT", "10", "10 bytes"),
    ("SO_BROADCAST", "true", "1 (on)"),
    (
        "SO_LINGER",
        "on:7",
        "on:7 (close waits up to 7 s for unsent data)",
    ),
    ("SO_OOBINLINE", "1", "1 (on)"),
    ("TCP_NODELAY", "1", "1 (on)"),
    ("TCP_KEEPIDLE", "30", "30 s"),
    ("TCP_KEEPINTVL", "7", "7 s"),
    ("TCP_KEEPCNT", "4", "4"),
    ("TCP_MAXSEG", "1000", "1000 bytes"),
    ("TCP_QUICKACK", "0", "0 (off)"),
    ("IPV6_V6ONLY", "1", "1 (on)"),
];

#[test]
fn every_tcp_option_is_covered_here() {
    for option in sockplay::lang::SOCK_OPTS
        .iter()
        .filter(|option| !option.read_only)
    {
        assert!(
            TCP_OPTIONS.iter().any(|(name, _, _)| *name == option.name),
            "{} is not tested against a TCP socket",
            option.name
        );
    }
}

#[test]
fn every_tcp_option_set_reads_back_in_human_terms() {
    let mut script = String::from("socket tcp as s\nsocket inet6 stream as s6\n");
    for (name, value, _) in TCP_OPTIONS {
        let sock = if name.starts_with("IPV6_") { "s6" } else { "s" };
        script.push_str(&format!(
            "setsockopt {sock} {name} {value}\ngetsockopt {sock} {name}\n"
        ));
    }
    let steps = json_steps(&script);
    for (name, _, shown) in TCP_OPTIONS {
        let (fd, level) = match *name {
            n if n.starts_with("IPV6_") => (4, "IPPROTO_IPV6"),
            n if n.starts_with("TCP_") => (3, "IPPROTO_TCP"),
            _ => (3, "SOL_SOCKET"),
        };
        let sock = if fd == 4 { "s6" } else { "s" };
        let got = &step(&steps, &format!("getsockopt {sock} {name}"))["output"];
        assert_eq!(
            got.as_str(),
            Some(format!("getsockopt({fd}, {level}, {name}) = 0  {shown}").as_str()),
            "{name}"
        );
    }
}

#[test]
fn read_only_options_read_back_in_human_terms() {
    quiet()
        .script(
            "socket tcp as s\ngetsockopt s SO_TYPE\ngetsockopt s SO_DOMAIN\ngetsockopt s SO_ACCEPTCONN\n\
             bind s :0\nlisten s\ngetsockopt s SO_ACCEPTCONN\ngetsockopt s SO_ERROR\n\
             socket inet6 dgram as u\ngetsockopt u SO_TYPE\ngetsockopt u SO_DOMAIN\n",
        )
        .stdout_contains("getsockopt(3, SOL_SOCKET, SO_TYPE) = 0  SOCK_STREAM")
        .stdout_contains("getsockopt(3, SOL_SOCKET, SO_DOMAIN) = 0  AF_INET")
        .stdout_contains("getsockopt(3, SOL_SOCKET, SO_ACCEPTCONN) = 0  0 (off)")
        .stdout_contains("getsockopt(3, SOL_SOCKET, SO_ACCEPTCONN) = 0  1 (on)")
        .stdout_contains("getsockopt(3, SOL_SOCKET, SO_ERROR) = 0  0 (no pending error)")
        .stdout_contains("getsockopt(4, SOL_SOCKET, SO_TYPE) = 0  SOCK_DGRAM")
        .stdout_contains("getsockopt(4, SOL_SOCKET, SO_DOMAIN) = 0  AF_INET6")
        .run();
}

#[test]
fn read_only_options_are_refused_by_setsockopt_before_anything_runs() {
    for option in ["SO_ERROR", "SO_TYPE", "SO_DOMAIN"] {
        quiet()
            .script(format!("socket tcp as s\nsetsockopt s {option} 0\n"))
            .status(2)
            .stdout_is("")
            .stderr_contains(format!(
                "{option} is read-only: use `getsockopt SOCK {option}`"
            ))
            .run();
    }
}

#[test]
fn so_acceptconn_is_refused_by_setsockopt_before_anything_runs() {
    quiet()
        .script("socket tcp as s\nsetsockopt s SO_ACCEPTCONN 1\n")
        .status(2)
        .stdout_is("")
        .stderr_contains("SO_ACCEPTCONN is read-only")
        .run();
}

#[test]
fn an_unknown_option_is_a_syntax_error_with_a_suggestion() {
    quiet()
        .script("socket tcp as s\ngetsockopt s SO_REUSEADR\n")
        .status(2)
        .stdout_is("")
        .stderr_contains("test.sock:2:")
        .stderr_contains("unknown option `SO_REUSEADR`; did you mean `SO_REUSEADDR`?")
        .run();
    quiet()
        .script("socket tcp as s\nsetsockopt s tcp_nodelai 1\n")
        .status(2)
        .stdout_is("")
        .stderr_contains("did you mean `TCP_NODELAY`?")
        .run();
}

#[test]
fn a_bad_option_value_is_a_syntax_error() {
    for (option, value, phrase) in [
        (
            "SO_LINGER",
            "maybe",
            "SO_LINGER takes on:SECS (on:0 resets on close) or off, not `maybe`",
        ),
        ("SO_LINGER", "on:-1", "SO_LINGER takes on:SECS"),
        ("TCP_NODELAY", "maybe", "TCP_NODELAY takes 1 or 0 (on/off)"),
        ("SO_RCVBUF", "-5", "SO_RCVBUF takes a non-negative number"),
        ("SO_RCVBUF", "lots", "SO_RCVBUF takes a non-negative number"),
    ] {
        quiet()
            .script(format!("socket tcp as s\nsetsockopt s {option} {value}\n"))
            .status(2)
            .stdout_is("")
            .stderr_contains(phrase)
            .run();
    }
}

#[test]
fn so_rcvbuf_doubling_is_reported() {
    quiet()
        .script(
            "socket tcp as s\nsetsockopt s SO_RCVBUF 100000\nexpect output \"SO_RCVBUF is now 200000 bytes\"\n\
             setsockopt s SO_REUSEADDR 1\n",
        )
        .stdout_contains("setsockopt(3, SOL_SOCKET, SO_RCVBUF, 100000) = 0")
        // A value the kernel kept as asked is not repeated.
        .stdout_lacks("SO_REUSEADDR is now")
        .run();
}

#[test]
fn so_error_after_a_failed_nonblocking_connect_shows_econnrefused_once() {
    let port = closed_port();
    quiet()
        .script(format!(
            "socket tcp as c\nnonblock c on\nconnect c 127.0.0.1:{port}\nexpect error EINPROGRESS\n\
             expect state c CLOSE\ngetsockopt c SO_ERROR\nexpect output \"ECONNREFUSED (Connection refused)\"\n\
             getsockopt c SO_ERROR\nexpect output \"0 (no pending error)\"\n"
        ))
        .stdout_contains("getsockopt(3, SOL_SOCKET, SO_ERROR) = 0  ECONNREFUSED")
        .run();
}

#[test]
fn an_option_of_another_family_fails_with_a_hint() {
    quiet()
        .script("socket tcp as s\ngetsockopt s IPV6_V6ONLY\n")
        .status(1)
        .stdout_contains("getsockopt(3, IPPROTO_IPV6, IPV6_V6ONLY) = -1 EOPNOTSUPP")
        .stdout_contains("hint: IPV6_V6ONLY (IPPROTO_IPV6) does not apply to this kind of socket")
        .run();
}

// ---- getsockname / getpeername ----

#[test]
fn getsockname_and_getpeername_name_both_ends_of_a_connection() {
    let output = quiet()
        .script(format!(
            "{PAIR}getsockname cli\ngetpeername cli\ngetsockname conn\ngetpeername conn\n"
        ))
        .run();
    let server = address_after(&output.stdout, "bound to ");
    let client = address_after(&output.stdout, "connected from ");
    for line in [
        format!("getsockname(4) = 0  {client}"),
        format!("getpeername(4) = 0  {server}"),
        format!("getsockname(5) = 0  {server}"),
        format!("getpeername(5) = 0  {client}"),
    ] {
        assert!(output.stdout.contains(&line), "{line}\n{}", output.report());
    }
}

#[test]
fn getpeername_of_an_unconnected_socket_fails_with_enotconn() {
    quiet()
        .script(
            "socket tcp as s\ngetsockname s\nexpect output \"0.0.0.0:0  (not bound yet)\"\ngetpeername s\nexpect error ENOTCONN\n\
             bind s :0\nlisten s\ngetpeername s\nexpect error ENOTCONN\nsocket udp as u\ngetpeername u\n",
        )
        .status(1)
        .stdout_contains("getpeername(3) = -1 ENOTCONN")
        .stdout_contains("getpeername(4) = -1 ENOTCONN")
        .stderr_contains("test.sock:11: ENOTCONN: fd 4 has no peer")
        .run();
}

#[test]
fn getsockname_shows_unix_addresses() {
    let name = unique_name("getsockname");
    quiet()
        .script(format!(
            "socket unix stream as u\nbind u @{name}\ngetsockname u\nsocketpair unix stream as a b\ngetsockname a\ngetpeername b\n"
        ))
        .stdout_contains(format!("getsockname(3) = 0  @{name}"))
        .stdout_contains("getsockname(4) = 0  (unnamed)  (not bound yet)")
        .stdout_contains("getpeername(5) = 0  (unnamed)")
        .run();
}

// ---- nonblock ----

#[test]
fn nonblock_on_makes_accept_and_recv_fail_at_once_with_eagain() {
    let output = quiet()
        .script(format!(
            "{PAIR}nonblock srv on\nexpect output O_NONBLOCK\naccept srv\nexpect error EAGAIN\n\
             nonblock conn on\nrecv conn\nexpect error EAGAIN\nsend cli x\nrecv conn\nexpect data x\n"
        ))
        .stdout_contains("fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0")
        .stdout_contains("accept(3) = -1 EAGAIN")
        .stdout_contains("recv(5, 4096, 0) = -1 EAGAIN")
        .stdout_lacks("poll(")
        .run();
    output.assert_took_less_than(Duration::from_secs(4), "nothing waited for the 5 s timeout");
}

#[test]
fn nonblock_connect_returns_einprogress_and_the_handshake_completes() {
    quiet()
        .script(
            "socket tcp as srv\nbind srv :0\nlisten srv\nsocket tcp as c\nnonblock c on\nconnect c $srv\n\
             expect error EINPROGRESS\nexpect state c ESTABLISHED\naccept srv as k\nsend c hi\nrecv k\nexpect data hi\n",
        )
        .stdout_contains("connect(4, 127.0.0.1:")
        .stdout_contains("= -1 EINPROGRESS")
        .run();
}

#[test]
fn nonblock_off_makes_calls_wait_again() {
    quiet()
        .script(format!(
            "{PAIR}nonblock conn on\nrecv conn\nexpect error EAGAIN\nnonblock conn off\nexpect output \"blocking again\"\n\
             set timeout 0.3\nrecv conn\nexpect error ETIMEDOUT\n"
        ))
        .stdout_contains("fcntl(5, F_SETFL, O_RDWR) = 0")
        .stdout_contains("recv(5, 4096, 0) = -1 EINTR (Interrupted system call)  sockplay's timeout (0.3 s) cut the wait\n")
        .run();
}

#[test]
fn after_nonblock_off_recv_waits_for_a_std_peer() {
    let (listener, port) = listener();
    let mut running = quiet()
        .script(format!(
            "socket tcp as c\nconnect c 127.0.0.1:{port}\nnonblock c on\nrecv c\nexpect error EAGAIN\n\
             nonblock c off\nrecv c\nexpect data late\n"
        ))
        .spawn();
    let mut stream = accept_within(&listener, Duration::from_secs(10));
    running.wait_for_line("is blocking again");
    stream.write_all(b"late").expect("write");
    running.finish();
}

// ---- dup ----

#[test]
fn dup_gives_the_lowest_free_fd() {
    quiet()
        .script(
            "socket tcp as a\nsocket tcp as b\nsocket tcp as c\nclose b\ndup c as c2\nexpect fd c2 4\ndup a\nexpect open 6\n",
        )
        .stdout_contains("dup(5) = 4")
        .stdout_contains("dup(3) = 6")
        .run();
}

#[test]
fn a_dup_is_the_same_socket_in_the_table_and_the_peer_lists_both_fds() {
    let steps = json_steps(&format!("{PAIR}dup cli as cli2\n"));
    let last = steps.last().expect("a step");
    let (original, copy) = (
        fd_row(last, 4).expect("fd 4"),
        fd_row(last, 6).expect("fd 6"),
    );
    assert_eq!(
        (&copy["state"], &copy["local"]),
        (&original["state"], &original["local"]),
        "{last}"
    );
    let output = Test::new()
        .args(["--panel", "below"])
        .script(format!("{PAIR}dup cli as cli2\n"))
        .run();
    let row = last_panel_row(&output, 5);
    assert!(row.contains("fd 4, fd 6"), "{row}");
}

#[test]
fn closing_one_dup_sends_no_fin_and_closing_both_does() {
    quiet()
        .script(format!(
            "{PAIR}dup cli as cli2\nclose cli\nexpect closed 4\nexpect state cli2 ESTABLISHED\nsend cli2 still\nrecv conn\n\
             expect data still\nexpect state conn ESTABLISHED\nclose cli2\nexpect state conn CLOSE_WAIT\nrecv conn\nexpect eof\n"
        ))
        .run();
}

// ---- send --bytes ----

#[test]
fn a_huge_send_to_a_peer_that_never_reads_ends_in_a_short_send() {
    let output = Test::new()
        .arg("--json")
        .script(format!(
            "{PAIR}set timeout 0.3\nsend cli --bytes {MAX_BYTES}\n"
        ))
        .run();
    let steps = output.json();
    let send = steps.last().expect("the send step");
    let text = send["output"].as_str().expect("output");
    assert!(text.contains("short send: "), "{text}");
    let sent: u64 = text
        .lines()
        .next()
        .and_then(|l| l.rsplit(" = ").next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a count in {text}"));
    assert!(sent > 0 && sent < MAX_BYTES, "{text}");
    assert!(
        text.contains(&format!("short send: {sent} of {MAX_BYTES} bytes")),
        "{text}"
    );
    let receiver = fd_row(send, 5).expect("fd 5");
    assert!(receiver["recv_q"].as_u64().unwrap_or(0) > 0, "{receiver}");
    output.assert_took_less_than(Duration::from_secs(15), "a short send does not wait");
}

#[test]
fn a_nonblocking_send_on_a_full_unix_buffer_gives_eagain() {
    let steps = json_steps(&format!(
        "socketpair unix stream as a b\nnonblock a on\nsend a --bytes {MAX_BYTES}\nexpect output \"short send\"\n\
         send a --bytes 1\nexpect error EAGAIN\nexpect output \"the send buffer is full\"\n"
    ));
    let full = step(&steps, "send a --bytes 1");
    assert_eq!(full["error"]["errno"], "EAGAIN", "{full}");
    let receiver = fd_row(full, 4).expect("fd 4");
    assert!(receiver["recv_q"].as_u64().unwrap_or(0) > 0, "{receiver}");
}

#[test]
fn a_nonblocking_send_on_a_full_tcp_buffer_gives_eagain() {
    // A blocking send that times out first lets the connection settle (window closed, nothing in
    // flight); after that a non-blocking send can take at most what is left, and the next gets EAGAIN.
    let output = Test::new()
        .arg("--json")
        .script(format!(
            "{PAIR}set timeout 0.3\nsend cli --bytes {MAX_BYTES}\nnonblock cli on\nsend cli --bytes {MAX_BYTES}\n\
             send cli --bytes {MAX_BYTES}\nsend cli --bytes 1\nexpect error EAGAIN\n"
        ))
        .run_unchecked();
    let steps = output.json();
    let nonblocking = steps
        .iter()
        .skip_while(|s| s["input"] != "nonblock cli on")
        .skip(1)
        .filter(|s| s["input"].as_str().is_some_and(|i| i.starts_with("send")));
    let mut saw_eagain = false;
    for send in nonblocking {
        if send["ok"] == true {
            assert!(
                send["output"]
                    .as_str()
                    .is_some_and(|o| o.contains("short send")),
                "a non-blocking send before EAGAIN is short: {send}"
            );
        } else {
            assert_eq!(send["error"]["errno"], "EAGAIN", "{send}");
            assert!(
                fd_row(send, 5).expect("fd 5")["recv_q"]
                    .as_u64()
                    .unwrap_or(0)
                    > 0
            );
            saw_eagain = true;
            break;
        }
    }
    assert!(
        saw_eagain,
        "a non-blocking send hit EAGAIN\n{}",
        output.report()
    );
}

#[test]
fn send_bytes_beyond_the_limit_is_a_syntax_error() {
    for n in [MAX_BYTES + 1, 0] {
        quiet()
            .script(format!("socket tcp as s\nsend s --bytes {n}\n"))
            .status(2)
            .stdout_is("")
            .stderr_contains(format!("use a number from 1 to {MAX_BYTES}"))
            .run();
    }
}

// ---- makefile ----

#[test]
fn readline_returns_one_line_and_reports_what_stays_buffered_outside_the_kernel() {
    let steps = json_steps(
        "socketpair unix stream as a b\nmakefile b as f\nsend a \"one\\ntwo\\nthree\"\nreadline f\n\
         expect data \"one\\n\"\nread f 3\nexpect data two\nreadline f\nexpect data \"\\n\"\n",
    );
    let readline = step(&steps, "readline f");
    let text = readline["output"].as_str().expect("output");
    assert!(text.contains("recv(4, 8192, 0) = 13"), "{text}");
    assert!(text.contains("readline(f) = 4  \"one\\n\""), "{text}");
    assert!(
        text.contains("`f` still buffers 9 bytes that left the kernel's RECV-Q: \"two\\nthree\""),
        "{text}"
    );
    assert_eq!(
        fd_row(readline, 4).expect("fd 4")["recv_q"],
        0,
        "{readline}"
    );
    let read = step(&steps, "read f 3");
    assert!(
        read["output"]
            .as_str()
            .is_some_and(|o| o.starts_with("read(f) = 3  \"two\"") && !o.contains("recv(")),
        "read 3 comes from the buffer: {read}"
    );
}

#[test]
fn read_without_n_reads_until_a_std_peer_closes() {
    let peer = std_peer(|mut stream| {
        stream.write_all(b"line one\n\0\xff").expect("write");
    });
    quiet()
        .script(format!(
            "socket tcp as c\nconnect c 127.0.0.1:{}\nmakefile c as f\nreadline f\nexpect data \"line one\\n\"\n\
             read f\nexpect data \"\\0\\xff\"\nread f\nexpect eof\nexpect output \"EOF: the peer closed\"\n",
            peer.port
        ))
        .stdout_contains("read(f) = 2  \"\\0\\xff\"")
        .stdout_contains("read(f) = 0  \"\"")
        .run();
    peer.join();
}

#[test]
fn write_sends_nothing_until_flush() {
    let (listener, port) = listener();
    let mut running = quiet()
        .script(format!(
            "socket tcp as c\nconnect c 127.0.0.1:{port}\nmakefile c as f\nwrite f \"hello\\0\"\nwrite f \"\\xff\\n\"\n\
             expect output \"`f` buffers 8 bytes\"\nrecv c\nexpect data go\nflush f\nexpect output \"= 8\"\nflush f\n\
             expect output \"nothing buffered\"\nclose c\n"
        ))
        .spawn();
    let mut stream = accept_within(&listener, Duration::from_secs(10));
    running.wait_for_line("the socket sees nothing until `flush f`");
    running.wait_for_line("the socket sees nothing until `flush f`");
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .expect("short read timeout");
    let mut early = [0u8; 16];
    match stream.read(&mut early) {
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
        other => panic!("nothing may arrive before flush, got {other:?}"),
    }
    stream.write_all(b"go").expect("tell sockplay to flush");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    let mut got = Vec::new();
    stream
        .read_to_end(&mut got)
        .expect("read until sockplay closes");
    assert_eq!(got, b"hello\0\xff\n");
    running.finish();
}

#[test]
fn closing_the_socket_drops_its_file_with_a_message() {
    quiet()
        .script(
            "socketpair unix stream as a b\nmakefile b as f\nwrite f lost\nclose b\n\
             expect output \"file `f` over fd 4 is closed with it: 4 bytes never flushed are lost\"\nreadline f\n",
        )
        .status(1)
        .stderr_contains("test.sock:6: no file is named `f`")
        .run();
}

#[test]
fn a_file_name_cannot_clash_with_a_socket_name() {
    quiet()
        .script("socketpair unix stream as a b\nmakefile b as a\n")
        .status(1)
        .stderr_contains("test.sock:2: the name `a` belongs to fd 3")
        .run();
    quiet()
        .script("socketpair unix stream as a b\nmakefile b as f\nsocket tcp as f\n")
        .status(1)
        .stdout_lacks("= 5")
        .stderr_contains("test.sock:3: the name `f` belongs to a file over fd 4")
        .run();
    quiet()
        .script("socketpair unix stream as a b\nmakefile b as f\nreadline a\n")
        .status(1)
        .stderr_contains("`a` is a socket; make a file over it with `makefile a as f`")
        .run();
}

// ---- ulimit ----

#[test]
fn ulimit_nofile_shows_the_limit_sockplay_inherited() {
    let (soft, hard) = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
        .expect("getrlimit");
    quiet()
        .script("ulimit nofile\n")
        .stdout_contains(format!(
            "getrlimit(RLIMIT_NOFILE) = 0  {{cur={soft}, max={hard}}}"
        ))
        .stdout_contains(format!("new fds must be below {soft}"))
        .run();
}

#[test]
fn emfile_is_reported_by_name_and_the_panel_still_renders_on_that_step() {
    let output = Test::new()
        .args(["--panel", "below"])
        .script(format!(
            "ulimit nofile 12\nexpect output \"only fds 0 to 11\"\n{}socket tcp as extra\nexpect error EMFILE\n\
             close 3\nsocket tcp as again\nexpect fd again 3\n",
            "socket tcp\n".repeat(9)
        ))
        .stdout_contains("setrlimit(RLIMIT_NOFILE, {cur=12, max=")
        .stdout_contains("socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 11")
        .stdout_contains("socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = -1 EMFILE (Too many open files)")
        .run();
    let failing = output
        .stdout
        .split("sockplay> ")
        .find(|s| s.starts_with("socket tcp as extra"))
        .unwrap_or_else(|| panic!("the failing step\n{}", output.report()));
    let emfile = failing.find("EMFILE").expect("EMFILE in the step");
    let panel = failing[emfile..]
        .find("open fds:")
        .unwrap_or_else(|| panic!("the panel follows the EMFILE line:\n{failing}"));
    assert!(
        failing[emfile + panel..]
            .lines()
            .any(|l| l.trim_start().starts_with("11 ") && l.contains("tcp")),
        "the panel lists fd 11:\n{failing}"
    );
}

#[test]
fn an_absurd_ulimit_is_a_syntax_error_or_a_clean_failure() {
    quiet()
        .script("ulimit nofile 99999999999\n")
        .status(2)
        .stdout_is("")
        .stderr_contains("99999999999")
        .run();
    // In range for the parser but above any hard limit: the kernel refuses.
    let output = quiet().script("ulimit nofile 4294967295\n").run_unchecked();
    assert_eq!(output.status.code(), Some(1), "{}", output.report());
    assert!(
        output.stderr.contains("EINVAL") || output.stderr.contains("EPERM"),
        "{}",
        output.report()
    );
}

#[test]
fn ulimit_nofile_0_says_no_fd_can_be_made() {
    quiet()
        .script("ulimit nofile 0\nsocket tcp\nexpect error EMFILE\n")
        .stdout_lacks("only fds 0 to 0")
        .run();
}

// ---- record and source ----

/// Runs `script` in a directory, returning its output (which owns the directory). A script may
/// write its recording only with --allow-shell.
fn recorded(script: impl Fn(&Path) -> String, status: i32) -> (crate::support::Output, String) {
    let test = quiet().arg("--allow-shell");
    let path = test.dir().join("rec.sock");
    let output = test.script(script(&path)).status(status).run();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("the recording exists ({e})\n{}", output.report()));
    (output, text)
}

/// Replays the recording at `path` in a new sockplay.
fn replay(path: &Path) -> crate::support::Output {
    quiet().arg(path).run()
}

#[test]
fn a_recording_replays_and_keeps_port_0_binds_and_dollar_names_as_typed() {
    let name = unique_name("record");
    let (output, text) = recorded(
        |path| {
            format!(
                "record {}\nsocket tcp as srv\nbind srv :0\nlisten srv\nsocket tcp as cli\nconnect cli $srv\n\
                 accept srv as conn\nsend cli \"hi\\0\"\nrecv conn\nexpect data \"hi\\0\"\n\
                 socket unix dgram as u\nbind u @{name}\nsocket unix dgram as v\nsendto v $u x\nrecord stop\nsocket tcp as after\n",
                path.display()
            )
        },
        0,
    );
    assert!(
        output.stdout.contains("recorded 13 commands in"),
        "{}",
        output.report()
    );
    let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(
        lines,
        [
            "socket tcp as srv",
            "bind srv :0",
            "listen srv",
            "socket tcp as cli",
            "connect cli $srv",
            "accept srv as conn",
            "send cli \"hi\\0\"",
            "recv conn",
            "expect data \"hi\\0\"",
            "socket unix dgram as u",
            &format!("bind u @{name}"),
            "socket unix dgram as v",
            "sendto v $u x",
        ],
        "{text}"
    );
    let again = replay(&output.dir.path().join("rec.sock"));
    assert!(
        again.stdout.contains("accept(3) = 5"),
        "the replay makes the same fds\n{}",
        again.report()
    );
}

#[test]
fn a_recording_follows_a_failed_command_with_expect_error_and_replays() {
    let port = closed_port();
    let (output, text) = recorded(
        |path| {
            format!(
                "record {}\nsocket tcp as c\nconnect c 127.0.0.1:{port}\n",
                path.display()
            )
        },
        1,
    );
    assert!(
        text.contains(&format!(
            "connect c 127.0.0.1:{port}\nexpect error ECONNREFUSED\n"
        )),
        "{text}"
    );
    replay(&output.dir.path().join("rec.sock"));
}

#[test]
fn a_recording_omits_a_usage_mistake() {
    let (output, text) = recorded(
        |path| format!("record {}\nsocket tcp as a\nrecv nosuch\n", path.display()),
        1,
    );
    assert!(
        output.stderr.contains("no socket is named `nosuch`"),
        "{}",
        output.report()
    );
    assert!(text.contains("socket tcp as a\n"), "{text}");
    assert!(!text.contains("nosuch"), "{text}");
    replay(&output.dir.path().join("rec.sock"));
}

#[test]
fn record_stop_without_a_recording_is_an_error() {
    quiet()
        .script("record stop\n")
        .status(1)
        .stderr_contains("test.sock:1: nothing is being recorded: start with `record FILE.sock`")
        .run();
}

#[test]
fn a_typed_expect_error_is_recorded_once() {
    let (_output, text) = recorded(
        |path| {
            format!(
                "record {}\nsocket tcp as s\nbind s :0\nbind s :0\nexpect error EINVAL\n",
                path.display()
            )
        },
        0,
    );
    assert_eq!(text.matches("expect error EINVAL").count(), 1, "{text}");
}

#[test]
fn a_recording_of_a_source_replays() {
    let test = quiet().file("lib.sock", "socket tcp as srv\nbind srv :0\nlisten srv\n");
    let library = test.dir().join("lib.sock");
    let path = test.dir().join("rec.sock");
    let output = test
        .arg("--allow-shell")
        .script(format!(
            "record {}\nsource {}\nsocket tcp as c\nconnect c $srv\nrecord stop\n",
            path.display(),
            library.display()
        ))
        .run();
    replay(&output.dir.path().join("rec.sock"));
}

#[test]
fn a_recording_with_a_shell_command_replays_as_its_header_says() {
    let test = quiet();
    let path = test.dir().join("rec.sock");
    let output = test
        .arg("--allow-shell")
        .script(format!(
            "record {}\nsocket tcp as s\n!true\nrecord stop\n",
            path.display()
        ))
        .run();
    replay(&output.dir.path().join("rec.sock"));
}

#[test]
fn a_recording_keeps_every_command_when_fds_run_out() {
    let (_output, text) = recorded(
        |path| {
            format!(
                "record {}\nulimit nofile 8\n{}socket tcp\nexpect error EMFILE\nclose 3\nsocket udp\nrecord stop\n",
                path.display(),
                "socket tcp\n".repeat(5)
            )
        },
        0,
    );
    assert_eq!(text.matches("socket tcp\n").count(), 6, "{text}");
    assert!(text.contains("expect error EMFILE"), "{text}");
    assert!(text.contains("socket udp"), "{text}");
}

#[test]
fn source_runs_a_script_in_this_session_and_its_sockets_stay_open() {
    quiet()
        .file(
            "server.sock",
            "# a listener for the caller\nsocket tcp as srv\nbind srv :0\nlisten srv\n",
        )
        .script(
        "source server.sock\nexpect output \"ran 3 commands from server.sock\"\nexpect open 3\nexpect state srv LISTEN\n\
         socket tcp as c\nconnect c $srv\naccept srv as k\nexpect fd k 5\n",
    )
    .stdout_contains("listen(3, 128) = 0")
    .run();
}

#[test]
fn a_failing_sourced_script_reports_where_it_failed_and_its_sockets_stay() {
    let port = closed_port();
    quiet()
        .file(
            "bad.sock",
            format!("socket tcp as x\nconnect x 127.0.0.1:{port}\nsocket tcp as never\n"),
        )
        .script("source bad.sock\nexpect open 3\n")
        .status(1)
        .stdout_lacks("socket tcp as never")
        .stderr_contains("bad.sock:2: ECONNREFUSED")
        .stderr_contains(
            "test.sock:1: bad.sock stopped at its first failure; its sockets stay open here",
        )
        .run();
}

#[test]
fn a_script_sourcing_itself_stops_with_a_clear_error() {
    let output = quiet()
        .script("socket tcp\nsource test.sock\n")
        .status(1)
        .stderr_contains("is one sourcing itself?")
        .run();
    output.assert_took_less_than(Duration::from_secs(10), "the loop is caught at once");
}

#[test]
fn source_of_a_missing_file_says_the_script_is_missing() {
    quiet()
        .script("source missing.sock\n")
        .status(1)
        .stderr_contains("ENOENT: cannot read the script missing.sock")
        .stdout_lacks("is the server bound there?")
        .run();
}

// ---- !cmd ----

#[test]
fn shell_commands_are_refused_in_replay_without_allow_shell() {
    // Refused when the script is parsed: nothing ran, so it is a usage error.
    quiet()
        .script("!echo hi\n")
        .status(2)
        .stdout_lacks("\nhi\n")
        .stderr_contains("test.sock:1:")
        .stderr_contains("--allow-shell")
        .run();
    quiet()
        .args(["-c", "!echo hi"])
        .status(2)
        .stderr_contains("--allow-shell")
        .run();
}

#[test]
fn shell_commands_run_with_allow_shell() {
    let output = quiet()
        .arg("--allow-shell")
        .script("!echo hi from sh\nexpect output \"hi from sh\"\n!printf 'a\\033[31mb'\n")
        .stdout_contains("\nhi from sh\n")
        .stdout_contains("a\\x1b[31mb")
        .run();
    assert!(!output.stdout_bytes.contains(&0x1b), "{}", output.report());
}

#[test]
fn a_failing_shell_command_reports_its_status() {
    quiet()
        .arg("--allow-shell")
        .script("!echo partial; exit 3\nsocket tcp\n")
        .status(1)
        .stdout_contains("partial")
        .stdout_lacks("socket(")
        .stderr_contains("test.sock:1: `echo partial; exit 3` exited with status 3")
        .run();
}

// ---- expect after the new commands ----

#[test]
fn expect_checks_follow_the_new_commands() {
    quiet()
        .file("one.sock", "socket udp as lone\n")
        .arg("--allow-shell")
        .script(
            "socketpair unix dgram as a b\nexpect state a CONNECTED\nexpect fd b 4\n\
             send a \"d\\0\"\nrecvfrom b\nexpect data \"d\\0\"\n\
             socketpair unix stream as s t\nmakefile t as f\nsend s \"x\\ny\"\nclose s\nreadline f\nexpect data \"x\\n\"\n\
             read f 1\nexpect data y\nreadline f\nexpect eof\nread f\nexpect eof\n\
             dup t as t2\nexpect fd t2 5\nexpect open 5\nclose t2\nexpect closed 5\n\
             getsockopt t SO_TYPE\nexpect output SOCK_STREAM\nshutdown a rdwr\nexpect output SHUT_RDWR\n\
             nonblock b on\nrecvfrom b\nexpect error EAGAIN\nulimit nofile\nexpect output RLIMIT_NOFILE\n\
             source one.sock\nexpect output \"ran 1 command from\"\nexpect state lone UNCONNECTED\n\
             !echo shell-said-this\nexpect output shell-said-this\nsleep 1\nexpect output \"slept 1 ms\"\n",
        )
        .run();
}
