//! Pairs are the kernel's (SPEC §5): `↔` joins two sockets only when each is the other's peer in
//! the kernel — TCP and UDP by their addresses both ways (an IPv4 client of a dual-stack listener
//! with its v4-mapped end), Unix by the peer inodes sock_diag gives, for stream, datagram and
//! seqpacket alike — within a process and across processes; a dual-stack listener says it takes
//! IPv4 too; and `--json` carries the same relations.

use serde_json::{json, Value};

use crate::support::{fd_row, step, Output, Test};
use crate::transcript::{step_text, Normaliser};

/// The output of the last step: from the last prompt on.
fn last_step(text: &str) -> String {
    let start = text.rfind("sockplay> ").unwrap_or(0);
    text[start..].to_string()
}

/// The last step of a run, with its kernel numbers replaced by stand-ins and `names` (abstract
/// addresses) by `@A`, `@B`, ….
fn last_normalised(output: &Output, names: &[&str]) -> String {
    let mut normaliser = Normaliser::new();
    for (name, stand_in) in names.iter().zip(["@A", "@B", "@C"]) {
        normaliser = normaliser.replacing(format!("@{name}"), stand_in);
    }
    last_step(&normaliser.normalise(&output.stdout))
}

/// The row of fd `fd` in `panel` (the last one in it), as its mark and cells joined by `|`:
/// `~|3|l|tcp6|[::]:P1 (IPv4 too)|-|LISTEN|0|128`; the mark is empty when the row is unchanged.
fn row(panel: &str, fd: i32) -> String {
    let table = panel.rsplit("open fds").next().unwrap_or_default();
    let gaps = regex::Regex::new(" {2,}").expect("pattern");
    table
        .lines()
        .filter_map(|line| {
            let (mark, rest) = match line.split_at_checked(1) {
                Some((mark @ ("+" | "~" | "-"), rest)) => (mark, rest),
                _ => ("", line),
            };
            let cells: Vec<&str> = gaps.split(rest.trim()).collect();
            (cells.first() == Some(&fd.to_string().as_str()))
                .then(|| format!("{mark}|{}", cells.join("|")))
        })
        .next_back()
        .unwrap_or_else(|| panic!("no row for fd {fd} in\n{panel}"))
}

/// An abstract Unix name unique to this run and test, short enough that no panel cell wraps.
fn short_name(test: &str) -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    format!("k{:05}{n}{test}", std::process::id() % 100_000)
}

/// A run with the panel below the output, 120 columns wide.
fn below(script: &str) -> Output {
    Test::new().args(["--panel", "below"]).script(script).run()
}

#[test]
fn an_ipv4_client_of_a_dual_stack_listener_pairs_with_its_v4_mapped_end() {
    let output = below(
        "socket inet6 stream as l\nbind l [::]:0\nlisten l\ngetsockopt l IPV6_V6ONLY\n\
         socket tcp as c\nconnect c $l\naccept l as a\n",
    );
    // The kernel: the listener takes IPv4 (IPV6_V6ONLY is 0), and the accepted end sees its
    // IPv4 peer as ::ffff:127.0.0.1.
    assert!(
        output
            .stdout
            .contains("getsockopt(3, IPPROTO_IPV6, IPV6_V6ONLY) = 0"),
        "{}",
        output.report()
    );
    assert_eq!(
        last_normalised(&output, &[]),
        "\
sockplay> accept l as a
accept(3) = 5  peer [::ffff:127.0.0.1]:P2
the connection left fd 3's queue and is now fd 5; fd 3 keeps listening

open fds: 6
  FD  NAME  KIND  LOCAL                  REMOTE                        STATE        RECV-Q  SEND-Q
──────────────────────────────────────────────────────────────────────────────────────────────────
   0  -     file  /dev/null              -                             -                 -       -
   1  -     pipe  pipe:[I1]              -                             -                 -       -
   2  -     pipe  pipe:[I2]              -                             -                 -       -
~  3  l     tcp6  [::]:P1 (IPv4 too)     -                             LISTEN            0     128
~  4  c     tcp   127.0.0.1:P2           127.0.0.1:P1 ↔ fd 5           ESTABLISHED       0       0
+  5  a     tcp6  [::ffff:127.0.0.1]:P1  [::ffff:127.0.0.1]:P2 ↔ fd 4  ESTABLISHED       0       0
(sockplay's own: fd TOP control channel, fd TOP sock_diag — not shown)
"
    );
}

#[test]
fn the_queued_connection_of_an_ipv4_client_on_a_dual_stack_listener_pairs_with_it() {
    let output =
        below("socket inet6 stream as l\nbind l [::]:0\nlisten l\nsocket tcp as c\nconnect c $l\n");
    let last = last_normalised(&output, &[]);
    assert!(
        last.contains(
            "+  ·  (queued)  tcp6  [::ffff:127.0.0.1]:P1  [::ffff:127.0.0.1]:P2 ↔ fd 4  ESTABLISHED"
        ),
        "{last}"
    );
}

#[test]
fn an_ipv6_only_listener_is_not_shown_as_taking_ipv4_and_refuses_it() {
    let output = below(
        "socket inet6 stream as l\nsetsockopt l IPV6_V6ONLY 1\nbind l [::]:0\nlisten l\n\
         socket tcp as c\nconnect c $l\nexpect error ECONNREFUSED\n",
    );
    let text = Normaliser::new().normalise(&output.stdout);
    assert_eq!(
        row(step_text(&text, "listen l"), 3),
        "~|3|l|tcp6|[::]:P1|-|LISTEN|0|128"
    );
    assert!(!text.contains("IPv4 too"), "{text}");
}

#[test]
fn udp_sockets_pair_only_once_each_is_connected_to_the_other() {
    let output = below(
        "socket udp as a\nbind a :0\nsocket udp as b\nbind b :0\nsocket udp as c\nbind c :0\n\
         connect a $b\nconnect c $a\nset panel off\nconnect b $a\nset panel below\n\
         set timeout 1\nsend c hello\nrecv a\nexpect error ETIMEDOUT\n",
    );
    let text = Normaliser::new().normalise(&output.stdout);
    // a sends to b, and c to a, but neither is answered: no pair yet.
    let one_way = step_text(&text, "connect c $a");
    assert!(!one_way.contains('↔'), "{one_way}");
    // b connected to a: a and b pair (a's row changed since the last panel shown: it is paired
    // now), and c, connected to a whom a does not answer, stays alone.
    let paired = step_text(&text, "send c hello");
    assert_eq!(
        row(paired, 3),
        "~|3|a|udp|127.0.0.1:P1|127.0.0.1:P2 ↔ fd 4|CONNECTED|0|0"
    );
    assert_eq!(
        row(paired, 4),
        "~|4|b|udp|127.0.0.1:P2|127.0.0.1:P1 ↔ fd 3|CONNECTED|0|0"
    );
    assert_eq!(
        row(paired, 5),
        "|5|c|udp|127.0.0.1:P3|127.0.0.1:P1|CONNECTED|0|0"
    );
    // The kernel agrees: a, connected to b, drops what c sends it.
    assert!(
        output
            .stdout
            .contains("ETIMEDOUT: no data arrived on fd 3 (waited 1 s)"),
        "{}",
        output.report()
    );
}

#[test]
fn unix_datagram_sockets_pair_only_when_each_is_the_others_peer() {
    let (p, q) = (short_name("p"), short_name("q"));
    let output = below(&format!(
        "socket unix dgram as p\nbind p @{p}\nsocket unix dgram as q\nbind q @{q}\n\
         connect q $p\nsend q one-way\nrecv p\nexpect data one-way\nconnect p $q\n"
    ));
    let text = Normaliser::new()
        .replacing(format!("@{p}"), "@A")
        .replacing(format!("@{q}"), "@B")
        .normalise(&output.stdout);
    // q sends to p, but p is connected to nobody: no pair.
    let one_way = step_text(&text, "connect q $p");
    assert_eq!(row(one_way, 4), "~|4|q|unix/dgram|@B|@A|CONNECTED|0|0");
    assert!(!one_way.contains('↔'), "{one_way}");
    let last = last_step(&text);
    assert_eq!(row(&last, 3), "~|3|p|unix/dgram|@A|@B ↔ fd 4|CONNECTED|0|0");
    // Nothing of q's own socket changed, but it is paired now: its row says so.
    assert_eq!(row(&last, 4), "~|4|q|unix/dgram|@B|@A ↔ fd 3|CONNECTED|0|0");
}

#[test]
fn a_socketpair_end_connected_elsewhere_is_no_longer_paired() {
    let p = short_name("e");
    let output = below(&format!(
        "socketpair unix dgram as x y\nsocket unix dgram as p\nbind p @{p}\nconnect x $p\n"
    ));
    let text = Normaliser::new()
        .replacing(format!("@{p}"), "@A")
        .normalise(&output.stdout);
    let made = step_text(&text, "socketpair unix dgram as x y");
    assert_eq!(row(made, 3), "+|3|x|unix/dgram|-|↔ fd 4|CONNECTED|0|0");
    assert_eq!(row(made, 4), "+|4|y|unix/dgram|-|↔ fd 3|CONNECTED|0|0");
    // y's datagrams still go to x, but x's now go to p: the kernel has no pair any more.
    let last = last_step(&text);
    assert!(!last.contains('↔'), "{last}");
    assert_eq!(row(&last, 3), "~|3|x|unix/dgram|-|@A|CONNECTED|0|0");
}

#[test]
fn unix_stream_and_seqpacket_ends_pair_by_peer_inode_and_not_by_the_listeners_name() {
    for sock_type in ["stream", "seqpacket"] {
        let srv = short_name(sock_type);
        let output = below(&format!(
            "socket unix {sock_type} as srv\nbind srv @{srv}\nlisten srv\n\
             socket unix {sock_type} as c1\nconnect c1 $srv\nsocket unix {sock_type} as c2\n\
             connect c2 $srv\naccept srv as a1\naccept srv as a2\n"
        ));
        let last = last_normalised(&output, &[&srv]);
        // Both clients name the listener as their peer address; each pairs with its own end (c2
        // is marked: its end became an fd, a2, since the last panel).
        let rows: Vec<String> = (4..=7).map(|fd| row(&last, fd)).collect();
        assert_eq!(
            rows,
            [
                format!("|4|c1|unix/{sock_type}|-|@A ↔ fd 6|CONNECTED|0|0"),
                format!("~|5|c2|unix/{sock_type}|-|@A ↔ fd 7|CONNECTED|0|0"),
                format!("|6|a1|unix/{sock_type}|@A|↔ fd 4|CONNECTED|0|0"),
                format!("+|7|a2|unix/{sock_type}|@A|↔ fd 5|CONNECTED|0|0"),
            ],
            "{last}"
        );
    }
}

#[test]
fn a_unix_connection_between_processes_pairs_both_ways_and_a_fork_makes_twins() {
    let srv = short_name("x");
    let output = Test::new()
        .env("COLUMNS", "200")
        .args(["--panel", "below"])
        .script(format!(
            "set panel off\nspawn client\nsocket unix stream as srv\nbind srv @{srv}\n\
             listen srv\nclient: socket unix stream as c\nclient: connect c $srv\n\
             accept srv as conn\nset panel below\nclient: fork as child\n"
        ))
        .run();
    let last = last_normalised(&output, &[&srv]);
    let cells = |line: &str| line.split_whitespace().collect::<Vec<_>>().join(" ");
    let last: String = last.lines().map(cells).collect::<Vec<_>>().join("\n");
    // main's end pairs with the client's socket in both processes that hold it, and the client's
    // socket, held by client and child, pairs with main's end.
    for row in [
        "+ 4 conn unix/stream @A ↔ client:3, child:3 CONNECTED 0 0",
        "+ 3 c ≡ child:3 unix/stream - @A ↔ main:4 CONNECTED 0 0",
    ] {
        assert!(last.contains(row), "{row}\n{last}");
    }
    assert!(
        last.contains("3 c ≡ client:3 unix/stream - @A ↔ main:4 CONNECTED 0 0"),
        "{last}"
    );
}

#[test]
fn json_carries_pairs_twins_detached_inode_targets_and_the_accept_queue() {
    let steps = Test::new()
        .arg("--json")
        .script(
            "socket tcp as l\nbind l :0\nlisten l\nsocket tcp as c\nconnect c $l\n\
             accept l as a\ndup a as a2\ndetach a2\n",
        )
        .run()
        .json();
    let main = |fd: i64| json!({"process": "main", "fd": fd});
    let queued = step(&steps, "connect c $l");
    let waiting = &queued["without_fd"];
    assert_eq!(waiting.as_array().map(Vec::len), Some(1), "{queued}");
    assert_eq!(waiting[0]["under"], 3);
    assert_eq!(waiting[0]["origin"], "queued");
    // A socket like every row of `fds`, with the same keys for what it is.
    assert_eq!(waiting[0]["kind"], "socket");
    assert_eq!(
        (&waiting[0]["family"], &waiting[0]["type"]),
        (&json!("inet"), &json!("stream"))
    );
    assert_eq!(waiting[0]["listeners"], json!([3]));
    assert_eq!(waiting[0]["state"], "ESTABLISHED");
    assert_eq!(waiting[0]["peers"], json!([main(4)]));
    assert_eq!(
        waiting[0]["remote"],
        fd_row(queued, 4).expect("fd 4")["local"]
    );

    let last = steps.last().expect("records");
    let row = |fd: i64| fd_row(last, fd).cloned().unwrap_or(Value::Null);
    // Accepted: the queue is empty, and the key absent.
    assert!(last.get("without_fd").is_none(), "{last}");
    assert_eq!(row(4)["peers"], json!([main(5), main(6)]));
    assert_eq!(row(5)["peers"], json!([main(4)]));
    assert_eq!(row(5)["twins"], json!([main(6)]));
    assert_eq!(row(6)["twins"], json!([main(5)]));
    assert_eq!(row(6)["detached"], true);
    assert!(row(5).get("detached").is_none(), "{}", row(5));
    assert_eq!(row(5)["inode"], row(6)["inode"]);
    assert_ne!(row(4)["inode"], row(5)["inode"]);
    assert!(row(5)["inode"].as_u64().is_some_and(|inode| inode > 0));
    assert!(
        row(4).get("target").is_none(),
        "a socket has no link target"
    );
    assert_eq!(row(0)["target"], "/dev/null");
    assert!(
        row(1)["target"]
            .as_str()
            .is_some_and(|t| t.starts_with("pipe:[")),
        "{}",
        row(1)
    );
}

#[test]
fn json_says_a_listener_takes_ipv4_too() {
    let steps = Test::new()
        .arg("--json")
        .script("socket inet6 stream as l\nbind l [::]:0\nsocket inet6 stream as v6\nsetsockopt v6 IPV6_V6ONLY 1\nbind v6 [::]:0\n")
        .run()
        .json();
    let last = steps.last().expect("records");
    assert_eq!(fd_row(last, 3).expect("fd 3")["dual_stack"], true);
    assert!(fd_row(last, 4).expect("fd 4").get("dual_stack").is_none());
}
