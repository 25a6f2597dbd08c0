//! The panel with several processes (SPEC §9): one table per process, titled with its name, pid
//! and state, side by side when they fit and one under the other when not; the two ends of a
//! connection between processes paired (`↔ client:3`) and one socket held by two processes marked
//! (`≡ child:3`); each table marked against its own last one shown, and sentences that name the
//! process.

use regex::Regex;

use crate::support::{step, Output, Test};
use crate::transcript::Normaliser;

/// An abstract Unix address of a fixed length, unique to this run and test.
fn address(test: &str) -> String {
    format!("@m{:05}{test}", std::process::id() % 100_000)
}

/// The run's stdout with ports, pids and `address` replaced by stand-ins and its tables laid
/// out again.
fn normalised(output: &Output, address: &str) -> String {
    Normaliser::new()
        .replacing(address, "@ADDR")
        .normalise(&output.stdout)
}

/// The output of the last step: from the last prompt on.
fn last_step(text: &str) -> String {
    let start = text.rfind("sockplay> ").unwrap_or(0);
    text[start..].to_string()
}

/// `text` with every run of two or more spaces made two: tables side by side keep their cells and
/// their order on each line, whatever width the kernel's numbers gave each column.
fn cells(text: &str) -> String {
    let gaps = Regex::new(" {2,}").expect("pattern");
    text.lines()
        .map(|line| gaps.replace_all(line, "  ").into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A Unix stream server in main and its client in process `client`, connected and accepted.
fn unix_pair(address: &str) -> String {
    format!(
        "set panel off\n\
         spawn client\n\
         socket unix stream as srv\n\
         bind srv {address}\n\
         listen srv\n\
         client: socket unix stream as c\n\
         client: connect c $srv\n\
         set panel below\n\
         accept srv as conn\n"
    )
}

/// A TCP server in main and its client in process `client`, connected and accepted, then the
/// client closes its end.
const TCP_ACROSS: &str = "\
set panel off
spawn client
socket tcp as srv
bind srv :0
listen srv
client: socket tcp as c
client: connect c $srv
set panel below
accept srv as conn
client: close c
";

#[test]
fn two_processes_stack_one_under_the_other_at_80_columns() {
    let output = Test::new()
        .env("COLUMNS", "80")
        .script(
            "set panel off\nspawn client\nsocket tcp as srv\nbind srv :0\nlisten srv\n\
             set panel below\nclient: socket tcp as c\n",
        )
        .run();
    assert_eq!(
        last_step(&normalised(&output, "@none")),
        "\
sockplay> client: socket tcp as c
socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3

── main (pid N2, ready) ──
open fds: 4
  FD  NAME  KIND  LOCAL         REMOTE  STATE   RECV-Q  SEND-Q
──────────────────────────────────────────────────────────────
   0  -     file  /dev/null     -       -            -       -
   1  -     pipe  pipe:[I1]     -       -            -       -
   2  -     pipe  pipe:[I2]     -       -            -       -
+  3  srv   tcp   127.0.0.1:P1  -       LISTEN       0     128

── client (pid N1, ready) ──
open fds: 4
  FD  NAME  KIND  LOCAL      REMOTE  STATE  RECV-Q  SEND-Q
──────────────────────────────────────────────────────────
   0  -     file  /dev/null  -       -           -       -
   1  -     pipe  pipe:[I1]  -       -           -       -
   2  -     pipe  pipe:[I2]  -       -           -       -
+  3  c     tcp   -          -       CLOSE       0       0
(main's own: fd TOP control channel, fd TOP sock_diag — not shown)
(client's own: fd TOP sock_diag, fd TOP control channel — not shown)
"
    );
}

#[test]
fn two_processes_sit_side_by_side_at_200_columns_paired_by_peer_inode() {
    let address = address("w");
    let output = Test::new()
        .env("COLUMNS", "200")
        .script(unix_pair(&address))
        .run();
    // The kernel's numbers change the columns' widths; each line's cells, in order, do not.
    assert_eq!(
        cells(&last_step(&normalised(&output, &address))),
        "\
sockplay> accept srv as conn
accept(3) = 4  peer (unnamed)
the connection left fd 3's queue and is now fd 4; fd 3 keeps listening

── main (pid N2, ready) ──  ── client (pid N1, ready) ──
open fds: 5  open fds: 4
  FD  NAME  KIND  LOCAL  REMOTE  STATE  RECV-Q  SEND-Q  FD  NAME  KIND  LOCAL  REMOTE  STATE  RECV-Q  SEND-Q
{rules}
  0  -  file  /dev/null  -  -  -  -  0  -  file  /dev/null  -  -  -  -
  1  -  pipe  pipe:[I1]  -  -  -  -  1  -  pipe  pipe:[I1]  -  -  -  -
  2  -  pipe  pipe:[I2]  -  -  -  -  2  -  pipe  pipe:[I2]  -  -  -  -
+  3  srv  unix/stream  @ADDR  -  LISTEN  0  128  +  3  c  unix/stream  -  @ADDR ↔ main:4  CONNECTED  0  0
+  4  conn  unix/stream  @ADDR  ↔ client:3  CONNECTED  0  0
(sockplay's own, not shown: main: fd TOP control channel, fd TOP sock_diag; client: fd TOP sock_diag, fd TOP control channel)"
            .replace("{rules}", &rules(&output.stdout))
    );
}

/// The two rules of the last step's tables side by side, as drawn (their lengths follow the
/// kernel's numbers).
fn rules(stdout: &str) -> String {
    let line = last_step(stdout)
        .lines()
        .find(|line| line.starts_with('─') && line.chars().all(|c| c == '─' || c == ' '))
        .map(cells)
        .unwrap_or_default();
    let parts: Vec<&str> = line.split("  ").collect();
    assert_eq!(parts.len(), 2, "two tables side by side: {line:?}");
    line
}

#[test]
fn a_tcp_connection_between_processes_pairs_and_each_table_keeps_its_own_marks() {
    let output = Test::new().env("COLUMNS", "120").script(TCP_ACROSS).run();
    let text = normalised(&output, "@none");
    let from_accept = text.find("sockplay> accept").map_or("", |at| &text[at..]);
    // The connection c's close left is in FIN_WAIT1 until main's kernel acknowledges the FIN,
    // which it delays a moment; after that, in FIN_WAIT2. The cells are compared, and the
    // rules (whose length follows the cells' widths) as one `─`.
    let compared = |text: &str| {
        cells(text)
            .replace("FIN_WAIT1  0  1", "FIN_WAIT2 Ts left  0  0")
            .lines()
            .map(|line| match line.chars().all(|c| c == '─') {
                true => "─",
                false => line,
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        compared(from_accept),
        compared(
            "\
sockplay> accept srv as conn
accept(3) = 4  peer 127.0.0.1:P2
the connection left fd 3's queue and is now fd 4; fd 3 keeps listening

── main (pid N2, ready) ──
open fds: 5
  FD  NAME  KIND  LOCAL         REMOTE                   STATE        RECV-Q  SEND-Q
────────────────────────────────────────────────────────────────────────────────────
   0  -     file  /dev/null     -                        -                 -       -
   1  -     pipe  pipe:[I1]     -                        -                 -       -
   2  -     pipe  pipe:[I2]     -                        -                 -       -
+  3  srv   tcp   127.0.0.1:P1  -                        LISTEN            0     128
+  4  conn  tcp   127.0.0.1:P1  127.0.0.1:P2 ↔ client:3  ESTABLISHED       0       0

── client (pid N1, ready) ──
open fds: 4
  FD  NAME  KIND  LOCAL         REMOTE                 STATE        RECV-Q  SEND-Q
──────────────────────────────────────────────────────────────────────────────────
   0  -     file  /dev/null     -                      -                 -       -
   1  -     pipe  pipe:[I1]     -                      -                 -       -
   2  -     pipe  pipe:[I2]     -                      -                 -       -
+  3  c     tcp   127.0.0.1:P2  127.0.0.1:P1 ↔ main:4  ESTABLISHED       0       0
(main's own: fd TOP control channel, fd TOP sock_diag — not shown)
(client's own: fd TOP sock_diag, fd TOP control channel — not shown)
sockplay> client: close c
close(3) = 0
close sent FIN: the peer reads EOF after the data already sent
the peer of main's fd 4 (conn) closed its side: fd 4 is in CLOSE_WAIT until main closes it

── main (pid N2, ready) ──
open fds: 5
  FD  NAME  KIND  LOCAL         REMOTE        STATE       RECV-Q  SEND-Q
────────────────────────────────────────────────────────────────────────
   0  -     file  /dev/null     -             -                -       -
   1  -     pipe  pipe:[I1]     -             -                -       -
   2  -     pipe  pipe:[I2]     -             -                -       -
   3  srv   tcp   127.0.0.1:P1  -             LISTEN           0     128
~  4  conn  tcp   127.0.0.1:P1  127.0.0.1:P2  CLOSE_WAIT       1       0

── client (pid N1, ready) ──
open fds: 3
  FD  NAME         KIND  LOCAL         REMOTE                 STATE              RECV-Q  SEND-Q
──────────────────────────────────────────────────────────────────────────────────────────────
   0  -            file  /dev/null     -                      -                       -       -
   1  -            pipe  pipe:[I1]     -                      -                       -       -
   2  -            pipe  pipe:[I2]     -                      -                       -       -
-  3  c            tcp   127.0.0.1:P2  127.0.0.1:P1           -                       -       -
+  ·  (from fd 3)  tcp   127.0.0.1:P2  127.0.0.1:P1 ↔ main:4  FIN_WAIT2 Ts left       0       0
(main's own: fd TOP control channel, fd TOP sock_diag — not shown)
(client's own: fd TOP sock_diag, fd TOP control channel — not shown)
"
        )
    );
}

#[test]
fn a_forked_child_holds_the_same_socket_marked_in_both_tables() {
    // main's srv is held by the child too now: its row changed (`≡ child:3`); the child's table is
    // shown first as it is.
    let output = Test::new()
        .env("COLUMNS", "120")
        .script("socket tcp as srv\nbind srv :0\nlisten srv\nfork as child\n")
        .run();
    assert_eq!(
        last_step(&normalised(&output, "@none")),
        "\
sockplay> fork as child
fork() = N1
child (pid N1) holds every fd of this process: the same sockets, the same names

── main (pid N2, ready) ──
open fds: 4
  FD  NAME           KIND  LOCAL         REMOTE  STATE   RECV-Q  SEND-Q
───────────────────────────────────────────────────────────────────────
   0  -              file  /dev/null     -       -            -       -
   1  -              pipe  pipe:[I1]     -       -            -       -
   2  -              pipe  pipe:[I2]     -       -            -       -
~  3  srv ≡ child:3  tcp   127.0.0.1:P1  -       LISTEN       0     128

── child (pid N1, ready) ──
open fds: 4
  FD  NAME          KIND  LOCAL         REMOTE  STATE   RECV-Q  SEND-Q
──────────────────────────────────────────────────────────────────────
   0  -             file  /dev/null     -       -            -       -
   1  -             pipe  pipe:[I1]     -       -            -       -
   2  -             pipe  pipe:[I2]     -       -            -       -
   3  srv ≡ main:3  tcp   127.0.0.1:P1  -       LISTEN       0     128
(main's own: fd TOP control channel, fd TOP sock_diag, fd TOP new process's channel — not shown)
(child's own: fd TOP sock_diag, fd TOP control channel — not shown)
"
    );
}

#[test]
fn a_process_that_ended_shows_once_with_its_fds_closed() {
    let output = Test::new()
        .env("COLUMNS", "200")
        .args(["--panel", "below"])
        .script("socket tcp as srv\nfork as child\nchild: exit\nclose srv\n")
        .run();
    let text = normalised(&output, "@none");
    let exit = text
        .split("sockplay> ")
        .find(|step| step.starts_with("child: exit"))
        .unwrap_or_default();
    assert!(
        exit.contains("── child (pid N1, exited with status 0) ──"),
        "{exit}"
    );
    assert!(exit.contains("open fds: 0"), "{exit}");
    assert!(
        cells(exit).contains("-  3  srv  tcp  -  -  -  -  -"),
        "{exit}"
    );
    // Once shown closed, the ended process leaves the panel: main is alone, untitled.
    let last = last_step(&text);
    assert!(!last.contains("child"), "{last}");
    assert!(!last.contains("── main"), "{last}");
}

#[test]
fn json_rows_name_their_peers_and_twins_in_other_processes() {
    let steps = Test::new()
        .arg("--json")
        .script(
            "spawn client\nsocket tcp as srv\nbind srv :0\nlisten srv\n\
             client: socket tcp as c\nclient: connect c $srv\naccept srv as conn\nfork as child\n",
        )
        .run()
        .json();
    let record = step(&steps, "fork as child");
    let row = |process: &str, fd: i64| {
        record["processes"]
            .as_array()
            .expect("processes")
            .iter()
            .find(|p| p["name"] == process)
            .and_then(|p| p["fds"].as_array())
            .and_then(|fds| fds.iter().find(|row| row["fd"] == fd))
            .cloned()
            .unwrap_or_else(|| panic!("{process}:{fd} in {record}"))
    };
    let held = |process: &str, fd: i64| serde_json::json!({"process": process, "fd": fd});
    assert_eq!(
        row("main", 4)["peers"],
        serde_json::json!([held("client", 3)])
    );
    assert_eq!(
        row("main", 4)["twins"],
        serde_json::json!([held("child", 4)])
    );
    assert_eq!(
        row("client", 3)["peers"],
        serde_json::json!([held("main", 4), held("child", 4)])
    );
    assert_eq!(
        row("child", 3)["twins"],
        serde_json::json!([held("main", 3)])
    );
    // A socket with nothing related has neither key.
    assert!(row("client", 3).get("twins").is_none());
    // `fds` is main's table, with the same keys.
    assert_eq!(
        record["fds"][4]["peers"],
        serde_json::json!([held("client", 3)])
    );
}
