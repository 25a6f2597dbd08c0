//! The panel at narrow terminals: whatever gives way (a tty's target, gaps, header words, the
//! columns that go under each row), an address, a port, a path, a `↔ x:N` tie, a row's origin
//! (`(was fd 4)`) or a state with its time left (`TIME_WAIT 59s`) is never cut across lines, and
//! no line is wider than the terminal, with one process or several. At a wide terminal the panel
//! keeps its place beside the output when a row grows wider than the room there. What
//! sockplay writes itself (the banner, errors, the excerpt under an error, the panel's notes)
//! wraps between words to the terminal's width.

use crate::pty::{port_in, screen_lines, Repl, PROMPT};

/// The lines a terminal shows for raw output, without the empty ones a `\r\n` leaves.
fn screen_of(raw: &str) -> Vec<String> {
    screen_lines(raw)
        .into_iter()
        .filter(|line| !line.is_empty())
        .collect()
}

/// Asserts that no line of `screen` is wider than `width` and that every loopback address on it
/// is one of `ports`, whole (`127.0.0.1:` and all the digits of a known port on one line).
fn assert_whole(screen: &[String], width: usize, ports: &[u16]) {
    let text = screen.join("\n");
    for line in screen {
        assert!(
            line.chars().count() <= width,
            "a line is wider than the {width}-column terminal:\n{line}\n\n{text}"
        );
        let mut rest = line.as_str();
        while let Some(at) = rest.find("127.0.0.1") {
            rest = &rest[at + "127.0.0.1".len()..];
            let digits: String = rest
                .strip_prefix(':')
                .unwrap_or("")
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            let port: Option<u16> = digits.parse().ok();
            assert!(
                port.is_some_and(|port| ports.contains(&port)),
                "an address cut or unknown in {line:?} ({ports:?}):\n{text}"
            );
        }
        // A tty's path is shown whole or not at all.
        if let Some(at) = line.find("/dev/pts") {
            let after = &line[at + "/dev/pts".len()..];
            assert!(
                after.starts_with('/') && after[1..].starts_with(|c: char| c.is_ascii_digit()),
                "a path cut in {line:?}:\n{text}"
            );
        }
        let trimmed = line.trim();
        assert!(
            !trimmed.ends_with('↔') && !trimmed.ends_with('≡') && !trimmed.ends_with(':'),
            "a tie or an address cut at the end of {line:?}:\n{text}"
        );
    }
}

/// How many lines of the panel on `screen` (from its first title on) hold `127.0.0.1:PORT` whole.
fn lines_with(screen: &[String], port: u16) -> usize {
    let whole = format!("127.0.0.1:{port}");
    screen
        .iter()
        .skip_while(|line| !line.starts_with("open fds: ") && !line.starts_with("── "))
        .filter(|line| {
            line.match_indices(&whole)
                .any(|(at, _)| !line[at + whole.len()..].starts_with(|c: char| c.is_ascii_digit()))
        })
        .count()
}

/// A listener `srv` in main (fd 3), a spawned `client` whose `c` (its fd 3) connects to it, and
/// the accepted `conn` (main's fd 4): the listener's and the client's ports.
fn served(repl: &mut Repl) -> (u16, u16) {
    repl.step("socket tcp as srv", "= 3");
    let bound = repl.step("bind srv 127.0.0.1:0", "bound to");
    let listener = port_in(&bound, "bound to 127.0.0.1:");
    repl.step("listen srv", "LISTEN");
    repl.step("spawn client", "client");
    repl.step("client: socket tcp as c", "= 3");
    repl.step("client: connect c $srv", "ESTABLISHED");
    let accepted = repl.step("accept srv as conn", "peer 127.0.0.1:");
    (listener, port_in(&accepted, "peer 127.0.0.1:"))
}

/// The hand-a-socket lesson up to the worker's `recvfd` (main hands its accepted connection to
/// a spawned worker over a socketpair; a client holds the other end), at `width` columns: the
/// screen of the last step, and the listener's and the client's ports.
fn handed_over(width: u16) -> (Vec<String>, u16, u16) {
    // Tall enough for every row of the three tables.
    let mut repl = Repl::start_sized(width, 150);
    repl.step("socket tcp as srv", "= 3");
    let bound = repl.step("bind srv 127.0.0.1:0", "bound to");
    let listener = port_in(&bound, "bound to 127.0.0.1:");
    repl.step("listen srv", "LISTEN");
    repl.step("socketpair unix stream as left right", "= 0");
    repl.step("inheritable right on", "inheritable");
    repl.step("spawn worker", "worker");
    repl.step("close right", "close(5)");
    repl.step("spawn client", "client");
    repl.step("client: socket tcp as c", "= 3");
    repl.step("client: connect c $srv", "ESTABLISHED");
    let accepted = repl.step("accept srv as conn", "peer 127.0.0.1:");
    let client = port_in(&accepted, "peer 127.0.0.1:");
    repl.step("sendfd left conn", "SCM_RIGHTS");
    let last = repl.step("worker: recvfd 5 as conn", "the sender passed");
    (screen_of(&last), listener, client)
}

#[test]
fn handing_a_socket_to_a_worker_cuts_no_address_path_or_tie_at_80_60_and_40_columns() {
    for width in [80, 60, 40] {
        let (screen, listener, client) = handed_over(width);
        let text = screen.join("\n");
        assert!(
            text.contains("── worker") && text.contains("── client"),
            "{width}: every process's table is shown:\n{text}"
        );
        assert_whole(&screen, usize::from(width), &[listener, client]);
        // The connection is whole in main's and the worker's tables, each end on one line
        // (main's listener row shows the listener's address once more), and in the client's.
        // Narrow, another process's table has room for fewer rows: main's listener may be
        // among those its summary counts.
        let listener_rows = match text.contains("1 LISTEN") {
            true => 3,
            false => 4,
        };
        assert_eq!(lines_with(&screen, client), 3, "{width}:\n{text}");
        assert_eq!(
            lines_with(&screen, listener),
            listener_rows,
            "{width}:\n{text}"
        );
        // Main's copy and the worker's are one socket; the client's end is tied to both.
        assert!(text.contains("≡ worker:3"), "{width}:\n{text}");
        assert!(text.contains("≡ main:5"), "{width}:\n{text}");
        assert!(text.contains("↔ client:3"), "{width}:\n{text}");
    }
}

#[test]
fn at_60_columns_a_listener_five_connections_and_three_accepts_cut_no_address() {
    let mut repl = Repl::start_sized(60, 80);
    repl.step("socket tcp as srv", "= 3");
    let bound = repl.step("bind srv 127.0.0.1:0", "bound to");
    let listener = port_in(&bound, "bound to 127.0.0.1:");
    repl.step("listen srv", "LISTEN");
    for i in 1..=5 {
        repl.step(&format!("socket tcp as c{i}"), ") = ");
        repl.step(&format!("connect c{i} $srv"), "ESTABLISHED");
    }
    let mut ports = vec![listener];
    let mut last = String::new();
    for _ in 0..3 {
        last = repl.step("accept srv", "peer 127.0.0.1:");
        ports.push(port_in(&last, "peer 127.0.0.1:"));
    }
    // The two clients still queued: their ports are the queued rows' remote ends.
    let fds = repl.step("fds", "open fds: 12, queued connections: 2");
    let screen = screen_of(&fds);
    for line in screen.iter().filter(|line| line.contains("127.0.0.1:")) {
        for (at, _) in line.match_indices("127.0.0.1:") {
            ports.push(port_in(&line[at..], "127.0.0.1:"));
        }
    }
    ports.sort_unstable();
    ports.dedup();
    assert_eq!(ports.len(), 6, "the listener and five clients: {ports:?}");
    for screen in [screen_of(&last), screen] {
        let text = screen.join("\n");
        assert_whole(&screen, 60, &ports);
        for header in ["RECV-Q", "SEND-Q", "REMOTE", "STATE"] {
            assert!(text.contains(header), "{header} whole:\n{text}");
        }
        // The listener's address on its own row, the five clients' and the five server ends';
        // each client's on its own row and its server end's.
        assert_eq!(lines_with(&screen, listener), 11, "{text}");
        for &port in ports.iter().filter(|&&port| port != listener) {
            assert_eq!(lines_with(&screen, port), 2, "{port}:\n{text}");
        }
        for fd in 9..=11 {
            assert!(
                screen
                    .iter()
                    .any(|line| line.contains(&format!("↔ fd {fd}"))),
                "the tie to fd {fd} whole:\n{text}"
            );
        }
    }
}

#[test]
fn a_forking_servers_time_wait_row_reads_whole_at_80_and_60_columns() {
    for width in [80, 60] {
        let mut repl = Repl::start_sized(width, 60);
        let (listener, client) = served(&mut repl);
        repl.step("fork as child", "child");
        repl.step("child: close srv", "close(3)");
        repl.step("child: close conn", "close(4)");
        // The server closes first: its end waits in TIME_WAIT once the client closes too.
        repl.step("close conn", "close(4)");
        let last = repl.step("client: close c", "TIME_WAIT");
        let screen = screen_of(&last);
        let text = screen.join("\n");
        assert_whole(&screen, usize::from(width), &[listener, client]);
        let row = screen
            .iter()
            .position(|line| line.contains("TIME_WAIT"))
            .unwrap_or_else(|| panic!("a TIME_WAIT row:\n{text}"));
        let arrow = format!("127.0.0.1:{listener} → 127.0.0.1:{client}");
        match width {
            // Columns (with narrow gaps): both ends whole on the row's line.
            80 => assert!(
                [listener, client]
                    .iter()
                    .all(|port| screen[row].contains(&format!("127.0.0.1:{port} "))),
                "{width}:\n{text}"
            ),
            // Stacked: both ends whole on the line under it.
            _ => assert!(screen[row + 1].contains(&arrow), "{width}:\n{text}"),
        }
        // Where its fd was, and the time left beside the state, each whole on the row's line.
        assert!(screen[row].contains("(was fd 4)"), "{width}:\n{text}");
        assert!(
            has_state_and_time(&screen[row], "TIME_WAIT"),
            "{width}: the time left whole beside the state:\n{text}"
        );
    }
}

#[test]
fn at_60_columns_the_banner_an_error_its_excerpt_and_the_compact_note_wrap_between_words() {
    let mut repl = Repl::spawn_with(60, 40, &[]);
    let banner = screen_of(&repl.expect(PROMPT));
    let typed = "socket tcp as srvsock; bind srvsock 127.0.0.1:0 and more words";
    let error = screen_of(&repl.step(typed, "^"));
    repl.step("set panel compact", "leaves out");
    let compact = screen_of(&repl.step("socket tcp", "unchanged"));
    for screen in [&banner, &error, &compact] {
        let text = screen.join("\n");
        for line in screen.iter().filter(|line| !line.starts_with(PROMPT)) {
            assert!(
                line.chars().count() <= 60,
                "wider than 60: {line:?}\n{text}"
            );
        }
    }
    let banner = banner.join("\n");
    assert!(
        banner.contains("FD table\nafter every step.") && banner.contains("Ctrl-D to\nquit."),
        "{banner}"
    );
    // The excerpt is a window around the caret, which still points where it did in the whole
    // line: at the second command.
    let excerpt = error
        .iter()
        .position(|line| line.starts_with("  | ") && line.contains(';'))
        .unwrap_or_else(|| panic!("an excerpt: {error:#?}"));
    let caret = error[excerpt + 1].chars().count() - 1;
    assert_eq!(error[excerpt + 1].trim_start_matches("  |").trim(), "^");
    let pointed: String = error[excerpt].chars().skip(caret).collect();
    assert!(pointed.starts_with("bind srvsock"), "{error:#?}");
    assert!(error[excerpt].ends_with('…'), "{error:#?}");
    let compact = compact.join("\n");
    assert!(
        compact.contains("open fds: 4 (0, 1, 2 unchanged, not shown)\n"),
        "{compact}"
    );
}

/// The line of `screen` that holds `origin` (`(was fd 4)`), asserted to hold it whole, once.
fn row_of<'s>(screen: &'s [String], origin: &str) -> &'s str {
    let text = screen.join("\n");
    let rows: Vec<&String> = screen.iter().filter(|line| line.contains(origin)).collect();
    match rows.as_slice() {
        [row] => row,
        _ => panic!("one row shows {origin:?} whole:\n{text}"),
    }
}

/// Whether `line` shows `state` with its time left right after it (`TIME_WAIT 59s`): the state,
/// one blank, digits and `s`, then a blank or the line's end.
fn has_state_and_time(line: &str, state: &str) -> bool {
    line.match_indices(state).any(|(at, _)| {
        let after = &line[at + state.len()..];
        let Some(time) = after.strip_prefix(' ') else {
            return false;
        };
        let digits = time.chars().take_while(char::is_ascii_digit).count();
        let rest = &time[digits..];
        digits > 0 && (rest == "s" || rest.starts_with("s "))
    })
}

#[test]
fn at_80_columns_a_rows_origin_and_its_state_with_the_time_left_never_wrap() {
    // The server closes first: main's end waits in TIME_WAIT where its fd 4 was.
    let mut repl = Repl::start_sized(80, 50);
    let (listener, client) = served(&mut repl);
    repl.step("close conn", "close(4)");
    let screen = screen_of(&repl.step("client: close c", "TIME_WAIT"));
    let text = screen.join("\n");
    assert_whole(&screen, 80, &[listener, client]);
    let row = row_of(&screen, "(was fd 4)");
    assert!(has_state_and_time(row, "TIME_WAIT"), "{row:?}:\n{text}");
    assert!(
        row.contains(&format!("127.0.0.1:{listener}"))
            && row.contains(&format!("127.0.0.1:{client}")),
        "both ends on the row's line:\n{text}"
    );

    // The client closes first: its end waits in FIN_WAIT2, under the row of the fd it came from.
    let mut repl = Repl::start_sized(80, 50);
    let (listener, client) = served(&mut repl);
    let screen = screen_of(&repl.step("client: close c", "FIN_WAIT2"));
    let text = screen.join("\n");
    assert_whole(&screen, 80, &[listener, client]);
    let row = row_of(&screen, "(from fd 3)");
    assert!(has_state_and_time(row, "FIN_WAIT2"), "{row:?}:\n{text}");
    // Nothing of either is left on a line of its own.
    for line in &screen {
        let words: Vec<&str> = line.split_whitespace().collect();
        assert!(
            !matches!(
                words.as_slice(),
                ["fd", "3)"] | ["fd", "4)"] | [_, "fd", "3)"]
            ),
            "an origin cut:\n{text}"
        );
    }
}

#[test]
fn at_200_columns_the_panel_keeps_its_place_beside_the_output_after_a_long_path_is_bound() {
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::create_dir(dir.path().join("a-rather-long-directory-name")).expect("mkdir");
    let path = format!(
        "{}/a-rather-long-directory-name/../very-long-socket-file-name-for-wrapping.sock",
        dir.path().display()
    );
    let mut repl = Repl::start_sized(200, 50);
    let mut edges: Vec<(String, usize)> = Vec::new();
    let mut bound = Vec::new();
    for (line, needle) in [
        ("socket tcp as srv", "= 3"),
        ("bind srv 127.0.0.1:0", "bound to"),
        ("listen srv", "LISTEN"),
        ("socket unix stream as u", "= 4"),
        (format!("bind u {path}").as_str(), "bind(4, "),
        ("socket udp as d", "= 5"),
        ("bind d 127.0.0.1:0", "bound to"),
        ("socket tcp as c", "= 6"),
        ("connect c $srv", "ESTABLISHED"),
        ("accept srv as conn", "= 7"),
        ("spawn client", "client"),
        ("client: socket tcp as c", "= 3"),
        ("client: connect c $srv", "ESTABLISHED"),
    ] {
        let screen = screen_of(&repl.step(line, needle));
        let text = screen.join("\n");
        for row in &screen {
            assert!(
                row.chars().count() <= 200,
                "wider than 200: {row:?}\n{text}"
            );
        }
        let columns: Vec<usize> = screen
            .iter()
            .filter_map(|row| row.chars().position(|c| c == '\u{2502}'))
            .collect();
        assert!(
            columns.len() > 8 && columns.iter().all(|&c| c == columns[0]),
            "{line}: the panel stands beside the output, one edge for all of it:\n{text}"
        );
        edges.push((line.to_string(), columns[0]));
        if line.starts_with("bind u ") {
            bound = screen;
        }
    }
    // The output takes 80 columns, then ` │ `.
    assert!(
        edges.iter().all(|(_, edge)| *edge == 81),
        "the panel's left edge moved: {edges:#?}"
    );
    // Beside the output, the path is elided in the middle: its start and its file name's end.
    let text = bound.join("\n");
    let row = bound
        .iter()
        .find(|row| row.contains("unix/stream"))
        .unwrap_or_else(|| panic!("fd 4's row:\n{text}"));
    let local = row
        .split_whitespace()
        .find(|word| word.starts_with("/tmp/"))
        .unwrap_or_else(|| panic!("fd 4's path:\n{text}"));
    assert!(
        local.contains('…') && local.ends_with("-for-wrapping.sock"),
        "{local:?}:\n{text}"
    );
}
