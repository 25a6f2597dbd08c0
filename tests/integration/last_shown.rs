//! Marks and sentences see everything (SPEC §5): a panel marks what changed since the last panel
//! shown, whatever ran in between — commands that print no panel (`expect state`, `fds`, `set`,
//! `getsockopt`) and steps run with the panel off — and a change that happened during a command
//! without a panel is explained by the next step that shows one, once.

use std::time::Duration;

use crate::support::{port_after, std_client, Test};
use crate::transcript::{step_text, Normaliser};

/// The row of fd `fd` in `text` (the last panel in it), as its mark and cells joined by `|`; the
/// mark is empty when the row is unchanged.
fn row(text: &str, fd: i32) -> String {
    let table = text.rsplit("open fds").next().unwrap_or_default();
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
        .unwrap_or_else(|| panic!("no row for fd {fd} in\n{text}"))
}

const CLOSE_WAIT: &str =
    "the peer of fd 5 (a) closed its side: fd 5 is in CLOSE_WAIT until this program closes it";

#[test]
fn the_panel_after_the_panel_was_off_marks_everything_since_the_last_one_shown() {
    let output = Test::new()
        .args(["--panel", "below"])
        .script(
            "socket tcp as l\nbind l :0\nlisten l\nsocket tcp as c\nconnect c $l\n\
             set panel off\naccept l as a\nclose c\nset panel below\nfds\n\
             getsockopt a SO_ERROR\nsleep 0\nsleep 0\n",
        )
        .run();
    let text = Normaliser::new().normalise(&output.stdout);
    // `fds` prints the table as it is, unmarked: it is no panel.
    let table = step_text(&text, "fds");
    assert_eq!(
        row(table, 5),
        "|5|a|tcp|127.0.0.1:P1|127.0.0.1:P2|CLOSE_WAIT|1|0"
    );
    assert!(!table.contains("\n-  4"), "{table}");
    // The next panel marks what changed since the last one shown, after `connect c $l`.
    let next = step_text(&text, "sleep 0");
    assert_eq!(row(next, 3), "~|3|l|tcp|127.0.0.1:P1|-|LISTEN|0|128");
    assert!(
        row(next, 4).starts_with("-|4|c|tcp|127.0.0.1:P2|"),
        "{next}"
    );
    assert_eq!(
        row(next, 5),
        "+|5|a|tcp|127.0.0.1:P1|127.0.0.1:P2|CLOSE_WAIT|1|0"
    );
    // The one after marks nothing: nothing changed since.
    let last = text.rsplit("sockplay> sleep 0").next().unwrap_or_default();
    for fd in [3, 5] {
        assert!(row(last, fd).starts_with("|"), "{last}");
    }
    assert!(!last.contains("\n-  4"), "{last}");
    // The CLOSE_WAIT was told when it happened, with the panel off, and only then.
    assert_eq!(text.matches(CLOSE_WAIT).count(), 1, "{text}");
    assert!(step_text(&text, "close c").contains(CLOSE_WAIT), "{text}");
}

#[test]
fn a_change_during_expect_state_is_marked_and_told_by_the_next_panel() {
    let mut running = Test::new()
        .args(["--panel", "below"])
        .script(
            "socket tcp as l\nbind l :0\nlisten l\naccept l as a\n\
             expect state a CLOSE_WAIT\ngetsockopt a SO_ERROR\nsleep 0\n",
        )
        .time_limit(Duration::from_secs(20))
        .spawn();
    let port = port_after(&running.wait_for_line("bound to"), "bound to");
    running.wait_for_line("listen(3, 128) = 0");
    let client = std_client(port);
    // The accept's panel is drawn before its line is printed: it shows ESTABLISHED.
    running.wait_for_line("accept(3) = 4");
    drop(client);
    let output = running.finish();
    let text = Normaliser::new().normalise(&output.stdout);
    assert_eq!(
        row(step_text(&text, "accept l as a"), 4),
        "+|4|a|tcp|127.0.0.1:P1|127.0.0.1:P2|ESTABLISHED|0|0"
    );
    let told =
        "the peer of fd 4 (a) closed its side: fd 4 is in CLOSE_WAIT until this program closes it";
    let next = step_text(&text, "sleep 0");
    assert!(next.contains(told), "{text}");
    assert_eq!(
        row(next, 4),
        "~|4|a|tcp|127.0.0.1:P1|127.0.0.1:P2|CLOSE_WAIT|1|0"
    );
    assert_eq!(text.matches(told).count(), 1, "{text}");
}

#[test]
fn rows_whose_pair_or_twin_changed_are_marked_though_their_socket_did_not_change() {
    let output = Test::new()
        .env("COLUMNS", "200")
        .args(["--panel", "below"])
        .script(
            "socket tcp as l\nbind l :0\nlisten l\nsocket tcp as c\nconnect c $l\n\
             accept l as a\nsocketpair unix stream as x y\nsendfd x c\nrecvfd y as got\n\
             close got\n",
        )
        .run();
    let text = Normaliser::new().normalise(&output.stdout);
    // `got` is c's socket under a new number: c has a twin now (NAME), a a second peer fd
    // (REMOTE); neither socket changed, both rows did.
    let received = step_text(&text, "recvfd y as got");
    assert_eq!(
        row(received, 4),
        "~|4|c ≡ fd 8|tcp|127.0.0.1:P2|127.0.0.1:P1 ↔ fd 5|ESTABLISHED|0|0"
    );
    assert_eq!(
        row(received, 5),
        "~|5|a|tcp|127.0.0.1:P1|127.0.0.1:P2 ↔ fd 4, fd 8|ESTABLISHED|0|0"
    );
    assert_eq!(
        row(received, 8),
        "+|8|got ≡ fd 4|tcp|127.0.0.1:P2|127.0.0.1:P1 ↔ fd 5|ESTABLISHED|0|0"
    );
    // Closing the second fd takes both marks back off their cells: changed again.
    let closed = step_text(&text, "close got");
    assert_eq!(
        row(closed, 4),
        "~|4|c|tcp|127.0.0.1:P2|127.0.0.1:P1 ↔ fd 5|ESTABLISHED|0|0"
    );
    assert_eq!(
        row(closed, 5),
        "~|5|a|tcp|127.0.0.1:P1|127.0.0.1:P2 ↔ fd 4|ESTABLISHED|0|0"
    );
    // The socketpair's rows changed only in their queues (the byte that carried the fd).
    assert!(row(closed, 6).starts_with("|6|x|"), "{closed}");
}

#[test]
fn a_number_another_socket_took_shows_the_old_socket_closed_then_the_new_one() {
    let output = Test::new()
        .env("COLUMNS", "200")
        .args(["--panel", "below"])
        .script(
            "socket tcp as l\nbind l :0\nlisten l\nsocket tcp as c\nconnect c $l\n\
             accept l as a\nshutdown c wr\nclose a\nset panel off\nclose c\n\
             socket udp as u\nset panel below\nsleep 0\n",
        )
        .run();
    let text = Normaliser::new().normalise(&output.stdout);
    let step = step_text(&text, "sleep 0");
    let table = step.rsplit("open fds").next().unwrap_or_default();
    let rows: Vec<String> = table
        .lines()
        .filter(|line| line.contains("  4  ") || line.contains("(from fd 4)"))
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    // c closed (its row, named as it was, then what its close left under it), and fd 4 is a
    // UDP socket now, new.
    assert_eq!(
        rows,
        [
            "- 4 c tcp - - - - -",
            "· (from fd 4) tcp 127.0.0.1:P2 127.0.0.1:P1 TIME_WAIT Ts left 0 0",
            "+ 4 u udp - - UNCONNECTED 0 0",
        ],
        "{step}"
    );
    assert!(step.contains("open fds: 5"), "{step}");
}
