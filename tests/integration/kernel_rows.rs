//! The panel shows the kernel: connections without an fd as rows under where they came from
//! (what a `close` left, TIME_WAIT with its time left, in the process that held the fd), the
//! queues as `ss` counts them (the SYN, a UDP socket's memory), where a SYN_SENT socket connects,
//! no address a failed connect gave back, and no listener claimed for a queued connection when
//! the kernel does not say which of a SO_REUSEPORT group holds it.

use serde_json::Value;

use crate::support::{port_after, step, Test};

/// One table row of a panel, cut into its cells: the change mark (empty when none), then FD,
/// NAME, KIND, LOCAL, REMOTE, STATE, RECV-Q, SEND-Q and, when the panel has it, NOTE.
type Cells = Vec<String>;

/// The rows of the panel the replayed command `command` printed (the first step echoing it).
fn panel_of(stdout: &str, command: &str) -> Vec<Cells> {
    let echo = format!("sockplay> {command}\n");
    let start = stdout
        .find(&echo)
        .unwrap_or_else(|| panic!("no step `{command}` in\n{stdout}"))
        + echo.len();
    let step = &stdout[start..];
    let step = &step[..step.find("sockplay> ").unwrap_or(step.len())];
    let mut lines = step.lines().skip_while(|l| !l.starts_with("open fds: "));
    let title = lines
        .next()
        .unwrap_or_else(|| panic!("no panel in\n{step}"));
    assert!(title.starts_with("open fds: "), "{title}");
    lines
        .skip(2)
        .take_while(|l| !l.is_empty() && !l.starts_with('('))
        .map(|l| {
            let mut chars = l.chars();
            let mark = chars.next().unwrap_or(' ').to_string().trim().to_string();
            let mut cells = vec![mark];
            cells.extend(
                chars
                    .as_str()
                    .split("  ")
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(str::to_string),
            );
            cells
        })
        .collect()
}

/// The title of the panel the replayed command `command` printed.
fn title_of(stdout: &str, command: &str) -> String {
    let echo = format!("sockplay> {command}\n");
    let start = stdout.find(&echo).expect("the step") + echo.len();
    stdout[start..]
        .lines()
        .find(|l| l.starts_with("open fds: "))
        .expect("a panel")
        .to_string()
}

/// The row whose FD cell is `fd` (`·` for rows without an fd) and NAME cell is `name`.
fn row<'a>(rows: &'a [Cells], fd: &str, name: &str) -> &'a Cells {
    rows.iter()
        .find(|r| r[1] == fd && r[2] == name)
        .unwrap_or_else(|| panic!("no row {fd} {name} in {rows:#?}"))
}

/// A STATE cell with a time left (`TIME_WAIT 59s left`): the state and the seconds.
fn state_and_seconds(cell: &str) -> (&str, u64) {
    let (state, rest) = cell.split_once(' ').unwrap_or((cell, ""));
    let seconds = rest
        .strip_suffix("s left")
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no time left in {cell:?}"));
    (state, seconds)
}

/// A run of `script` as a user sees it: the panel below each step, wide enough not to wrap.
fn replay(script: &str) -> String {
    Test::new()
        .env("COLUMNS", "200")
        .args(["--panel", "below"])
        .script(script)
        .run()
        .stdout
}

/// Every STATE cell of every panel holds a state (or `-`), never the word "closed".
fn assert_no_closed_state(stdout: &str) {
    for line in stdout.lines() {
        for cell in line.split("  ").map(str::trim) {
            assert_ne!(cell, "closed", "a STATE cell says closed: {line}");
        }
    }
}

#[test]
fn close_of_an_established_fd_leaves_fin_wait2_then_time_wait_under_it() {
    let stdout = replay(
        "socket tcp as srv\n\
         bind srv 127.0.0.1:0\n\
         listen srv\n\
         socket tcp as cli\n\
         connect cli $srv\n\
         accept srv as conn\n\
         close cli\n\
         sleep 1000\n\
         close conn\n",
    );
    let server = format!("127.0.0.1:{}", port_after(&stdout, "bound to"));
    let client = format!("127.0.0.1:{}", port_after(&stdout, "connected from"));

    // The fd is gone (its mark says so, its STATE says nothing); its connection is not.
    let rows = panel_of(&stdout, "close cli");
    let closed = row(&rows, "4", "cli");
    assert_eq!(closed[0], "-");
    assert_eq!(closed[6..], ["-", "-", "-"]);
    let left = row(&rows, "·", "(from fd 4)");
    assert_eq!(left[0], "+");
    assert_eq!(left[3..5], ["tcp".to_string(), client.clone()]);
    assert_eq!(left[5], format!("{server} ↔ fd 5"));
    // The peer acknowledges the FIN a moment later (a delayed ACK): the step waits for it, so
    // the panel never depends on when it came. FIN_WAIT2, nothing unacknowledged.
    let (state, seconds) = state_and_seconds(&left[6]);
    assert_eq!(state, "FIN_WAIT2");
    assert!((58..=60).contains(&seconds), "{left:?}");
    assert_eq!(left[7..9], ["0", "0"]);
    assert_eq!(title_of(&stdout, "close cli"), "open fds: 5", "fds only");
    // The peer's end has the FIN to read: `ss` counts it in RECV-Q.
    assert_eq!(row(&rows, "5", "conn")[6..9], ["CLOSE_WAIT", "1", "0"]);

    let rows = panel_of(&stdout, "sleep 1000");
    let left = row(&rows, "·", "(was fd 4)");
    let (state, seconds) = state_and_seconds(&left[6]);
    assert_eq!(state, "FIN_WAIT2");
    assert!(
        (50..=60).contains(&seconds),
        "tcp_fin_timeout is 60 s: {left:?}"
    );
    assert_eq!(left[7..9], ["0", "0"]);

    let rows = panel_of(&stdout, "close conn");
    let tw = row(&rows, "·", "(was fd 4)");
    assert_eq!(tw[0], "~");
    assert_eq!(tw[4..6], [client, server]);
    let (state, seconds) = state_and_seconds(&tw[6]);
    assert_eq!(state, "TIME_WAIT");
    assert!((58..=60).contains(&seconds), "TIME_WAIT lasts 60 s: {tw:?}");
    assert_eq!(tw[7..9], ["0", "0"]);
    assert_eq!(title_of(&stdout, "close conn"), "open fds: 4");
    assert_no_closed_state(&stdout);
}

#[test]
fn rebinding_the_port_of_an_active_close_fails_while_its_time_wait_row_shows() {
    let stdout = replay(
        "socket tcp as srv\n\
         bind srv 127.0.0.1:0\n\
         listen srv\n\
         socket tcp as cli\n\
         connect cli $srv\n\
         accept srv as conn\n\
         close conn\n\
         close cli\n\
         close srv\n\
         socket tcp as again\n\
         bind again $conn\n\
         expect error EADDRINUSE\n",
    );
    let server = format!("127.0.0.1:{}", port_after(&stdout, "bound to"));
    assert!(
        stdout.contains(&format!("bind(3, {server}) = -1 EADDRINUSE")),
        "{stdout}"
    );
    let rows = panel_of(&stdout, "bind again $conn");
    // The server's side closed first: its connection waits out TIME_WAIT on the server's port.
    let tw = row(&rows, "·", "(was fd 5)");
    assert_eq!(tw[4], server);
    let (state, seconds) = state_and_seconds(&tw[6]);
    assert_eq!(state, "TIME_WAIT");
    assert!((58..=60).contains(&seconds), "{tw:?}");
    assert_eq!(row(&rows, "3", "again")[4..7], ["-", "-", "CLOSE"]);
    assert_eq!(title_of(&stdout, "bind again $conn"), "open fds: 4");
    assert_no_closed_state(&stdout);
}

#[test]
fn a_syn_sent_socket_counts_its_syn_and_shows_where_it_connects() {
    // Backlog 0 holds one connection; the next SYN finds the queue full and is dropped, so the
    // second client stays in SYN_SENT, sending its SYN again.
    let stdout = replay(
        "socket tcp as srv\n\
         bind srv 127.0.0.1:0\n\
         listen srv 0\n\
         socket tcp as first\n\
         connect first $srv\n\
         socket tcp as late\n\
         nonblock late on\n\
         connect late $srv\n\
         expect error EINPROGRESS\n",
    );
    let server = format!("127.0.0.1:{}", port_after(&stdout, "bound to"));
    let rows = panel_of(&stdout, "connect late $srv");
    let late = row(&rows, "5", "late");
    assert_eq!(late[5], server, "REMOTE is where it connects");
    assert_eq!(
        late[6..9],
        ["SYN_SENT", "0", "1"],
        "the SYN counts in SEND-Q"
    );
    assert_eq!(row(&rows, "3", "srv")[6..9], ["LISTEN", "1", "0"]);
}

#[test]
fn a_refused_connect_keeps_no_port_it_released() {
    let stdout = replay(
        "socket tcp as gone\n\
         bind gone 127.0.0.1:0\n\
         close gone\n\
         socket tcp as c\n\
         bind c 127.0.0.1:0\n\
         connect c $gone\n\
         expect error ECONNREFUSED\n\
         socket tcp as d\n\
         bind d $c\n",
    );
    // getsockname still names the port the kernel chose for c, but the failed connect freed it:
    // another socket binds it, and the panel shows it once, under its new owner.
    let c_port = stdout
        .lines()
        .filter(|l| l.starts_with("bound to "))
        .nth(1)
        .map(|l| port_after(l, "bound to"))
        .expect("c's bind");
    // SEND-Q is the kernel's figure (SIOCOUTQ, what sock_diag gives a listed socket): the failed
    // connect moved the next sequence number on by the peer's window (none) plus 2, past the SYN.
    let rows = panel_of(&stdout, "connect c $gone");
    assert_eq!(row(&rows, "3", "c")[4..9], ["-", "-", "CLOSE", "0", "3"]);
    let rows = panel_of(&stdout, "bind d $c");
    assert_eq!(row(&rows, "3", "c")[4..9], ["-", "-", "CLOSE", "0", "3"]);
    assert_eq!(row(&rows, "4", "d")[4], format!("127.0.0.1:{c_port}"));
    let holding = rows
        .iter()
        .filter(|r| r.iter().any(|c| c == &format!("127.0.0.1:{c_port}")))
        .count();
    assert_eq!(holding, 1, "{rows:#?}");
}

/// The rx_queue of the UDP socket bound to `port` in /proc/net/udp, as `ss` prints it.
fn proc_net_udp_rx_queue(port: u16) -> u64 {
    let table = std::fs::read_to_string("/proc/net/udp").expect("/proc/net/udp");
    let local = format!("0100007F:{port:04X}");
    table
        .lines()
        .find_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.get(1) != Some(&local.as_str()) {
                return None;
            }
            let (_, rx) = fields.get(4)?.split_once(':')?;
            u64::from_str_radix(rx, 16).ok()
        })
        .unwrap_or_else(|| panic!("no UDP socket on {local} in\n{table}"))
}

/// The RECV-Q cell of the panel row `line` (a socket row: mark, FD, NAME, KIND, LOCAL, REMOTE,
/// STATE, then RECV-Q).
fn recv_q_in(line: &str) -> u64 {
    let cells: Vec<&str> = line
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    let state = cells
        .iter()
        .position(|c| *c == "UNCONNECTED")
        .unwrap_or_else(|| panic!("no state in {line:?}"));
    cells[state + 1].parse().expect("a number")
}

#[test]
fn a_udp_sockets_recv_q_is_what_proc_net_udp_says_and_its_next_datagram_is_noted() {
    let mut running = Test::new()
        .env("COLUMNS", "200")
        .args(["--panel", "below"])
        .script(
            "socket udp as u\n\
             bind u 127.0.0.1:0\n\
             socket udp as s\n\
             sendto s $u abc\n\
             sendto s $u 0123456789\n\
             sleep 3000\n\
             recvfrom u\n\
             sleep 3000\n",
        )
        .spawn();
    let port = port_after(&running.wait_for_line("bound to "), "bound to");
    // The panel of the second sendto (the first one's panel notes the same next datagram);
    // nothing changes the queue during the sleep after it.
    running.wait_for_line("next 3 B");
    let line = running.wait_for_line("next 3 B");
    let rx = proc_net_udp_rx_queue(port);
    assert_eq!(recv_q_in(&line), rx, "{line}");
    assert!(rx > 13, "memory, not the 13 bytes of data: {rx}");
    let line = running.wait_for_line("next 10 B");
    assert_eq!(recv_q_in(&line), proc_net_udp_rx_queue(port), "{line}");
    let output = running.finish();
    assert!(output.stdout.contains("NOTE"), "{}", output.stdout);
}

/// The connections without an fd of process `name` in a JSON step.
fn without_fd<'a>(step: &'a Value, name: &str) -> Vec<&'a Value> {
    let process = step["processes"]
        .as_array()
        .expect("processes")
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no process {name} in {step}"));
    process
        .get("without_fd")
        .and_then(Value::as_array)
        .map(|conns| conns.iter().collect())
        .unwrap_or_default()
}

/// The entries of `conns` that a close left.
fn left(conns: &[&Value]) -> usize {
    conns.iter().filter(|c| c["origin"] == "left").count()
}

#[test]
fn what_a_close_left_belongs_to_the_process_whose_fd_it_was() {
    let steps = Test::new()
        .arg("--json")
        .script(
            "socket tcp as srv\n\
             bind srv 127.0.0.1:0\n\
             listen srv\n\
             spawn client\n\
             client: socket tcp as c\n\
             client: connect c $srv\n\
             accept srv as conn\n\
             client: close c\n\
             client: socket tcp as d\n\
             client: connect d $srv\n\
             accept srv as conn2\n\
             fork as child\n\
             close conn2\n\
             child: close conn2\n",
        )
        .run()
        .json();

    // A spawned process's close: the connection it left is its own, not main's.
    let closed = step(&steps, "client: close c");
    let clients = without_fd(closed, "client");
    assert_eq!(left(&clients), 1, "{closed}");
    let conn = clients[0];
    assert_eq!(conn["under"], 3, "the client's fd 3: {conn}");
    // The step waited for the ACK of the FIN, however late the peer's kernel sent it.
    assert_eq!(conn["state"], "FIN_WAIT2", "{conn}");
    assert_eq!(conn["kind"], "socket", "{conn}");
    assert_eq!(left(&without_fd(closed, "main")), 0, "{closed}");
    // The record's own list is that of the process the command ran in.
    assert_eq!(
        closed["without_fd"].as_array().map(Vec::len),
        Some(1),
        "{closed}"
    );

    // main and its child hold conn2 together: main's close leaves nothing to the kernel alone.
    let main_closes = step(&steps, "close conn2");
    assert_eq!(left(&without_fd(main_closes, "main")), 0, "{main_closes}");
    assert_eq!(left(&without_fd(main_closes, "child")), 0, "{main_closes}");
    // The child's close is the last: what it leaves is the child's, under its fd 5.
    let child_closes = step(&steps, "child: close conn2");
    let childs = without_fd(child_closes, "child");
    assert_eq!(left(&childs), 1, "{child_closes}");
    assert_eq!(childs[0]["under"], 5, "{child_closes}");
    assert_eq!(left(&without_fd(child_closes, "main")), 0, "{child_closes}");
}

#[test]
fn connections_queued_in_a_reuseport_group_are_filed_no_more_under_a_listener_than_its_queue_holds()
{
    let mut script = String::from(
        "socket tcp as a\n\
         setsockopt a SO_REUSEPORT 1\n\
         bind a 127.0.0.1:0\n\
         socket tcp as b\n\
         setsockopt b SO_REUSEPORT 1\n\
         bind b $a\n\
         listen a\n\
         listen b\n",
    );
    for n in 0..8 {
        script.push_str(&format!("socket tcp as c{n}\nconnect c{n} $a\n"));
    }
    script.push_str("fds\n");
    let steps = Test::new().arg("--json").script(&script).run().json();
    let last = step(&steps, "fds");
    let queue = |fd: i64| {
        crate::support::fd_row(last, fd).expect("a listener")["recv_q"]
            .as_u64()
            .expect("a queue length")
    };
    let (in_a, in_b) = (queue(3), queue(4));
    assert_eq!(in_a + in_b, 8, "{last}");
    let queued: Vec<&Value> = last["without_fd"]
        .as_array()
        .expect("queued connections")
        .iter()
        .filter(|c| c["origin"] == "queued")
        .collect();
    assert_eq!(queued.len(), 8, "{last}");
    let listeners = match (in_a, in_b) {
        (_, 0) => vec![3],
        (0, _) => vec![4],
        // Both queues hold some: sock_diag does not say which holds which.
        _ => vec![3, 4],
    };
    for conn in &queued {
        assert_eq!(conn["listeners"], serde_json::json!(listeners), "{conn}");
        assert_eq!(conn.get("elsewhere"), None, "{conn}");
    }
    // Not all under the first listener: each listener has as many under it as its queue holds.
    let under = |fd: i64| queued.iter().filter(|c| c["under"] == fd).count() as u64;
    assert_eq!((under(3), under(4)), (in_a, in_b), "{last}");
}

#[test]
fn a_connection_reset_while_queued_leaves_with_a_mark_and_stays_counted_until_accept() {
    let stdout = replay(
        "socket tcp as srv\n\
         bind srv 127.0.0.1:0\n\
         listen srv\n\
         socket tcp as c\n\
         connect c $srv\n\
         setsockopt c SO_LINGER on:0\n\
         close c\n\
         accept srv as late\n",
    );
    let server = format!("127.0.0.1:{}", port_after(&stdout, "bound to"));
    let client = format!("127.0.0.1:{}", port_after(&stdout, "connected from"));
    let rows = panel_of(&stdout, "close c");
    // The RST took the connection out of sock_diag's tables: its row leaves, marked; the
    // kernel keeps it in the queue, in CLOSE, where only the listener's count shows it.
    let queued: Vec<&Cells> = rows.iter().filter(|r| r[2] == "(queued)").collect();
    assert_eq!(queued.len(), 2, "{rows:#?}");
    let gone = queued
        .iter()
        .find(|r| r[0] == "-")
        .expect("the row that left");
    assert_eq!(
        gone[4..],
        [server.clone(), client, "-".into(), "-".into(), "-".into()]
    );
    let counted = queued
        .iter()
        .find(|r| r[0] == "+")
        .expect("the connection counted");
    assert_eq!(
        counted[4..],
        [server, "-".into(), "CLOSE".into(), "-".into(), "-".into()]
    );
    assert_eq!(row(&rows, "3", "srv")[6..9], ["LISTEN", "1", "128"]);
    assert_eq!(
        title_of(&stdout, "close c"),
        "open fds: 4, queued connections: 1"
    );

    let rows = panel_of(&stdout, "accept srv as late");
    assert_eq!(row(&rows, "4", "late")[6], "CLOSE");
    assert!(rows.iter().all(|r| r[2] != "(queued)"), "{rows:#?}");
    assert_eq!(title_of(&stdout, "accept srv as late"), "open fds: 5");
}

#[test]
fn a_connection_only_a_message_in_flight_holds_is_a_row_under_the_fd_it_came_from() {
    let script = "socket tcp as srv\n\
                  bind srv 127.0.0.1:0\n\
                  listen srv\n\
                  socket tcp as c\n\
                  connect c $srv\n\
                  accept srv as a\n\
                  socketpair unix stream as x y\n\
                  sendfd x c\n\
                  close c\n\
                  sleep 0\n\
                  recvfd y as back\n";
    let stdout = replay(script);
    let server = format!("127.0.0.1:{}", port_after(&stdout, "bound to"));
    let client = format!("127.0.0.1:{}", port_after(&stdout, "connected from"));
    // No fd holds c's socket: the message sendfd put in flight does, and the kernel keeps the
    // connection open (a is not told a thing).
    let rows = panel_of(&stdout, "close c");
    assert_eq!(row(&rows, "4", "c")[0], "-");
    let held = row(&rows, "·", "(from fd 4)");
    assert_eq!(held[0], "+");
    assert_eq!(
        held[3..],
        [
            "tcp".to_string(),
            client.clone(),
            format!("{server} ↔ fd 5"),
            "ESTABLISHED".to_string(),
            "0".to_string(),
            "0".to_string(),
            "held by an fd in flight (SCM_RIGHTS)".to_string(),
        ]
    );
    assert_eq!(row(&rows, "5", "a")[6], "ESTABLISHED");
    assert_eq!(title_of(&stdout, "close c"), "open fds: 7", "fds only");
    let rows = panel_of(&stdout, "sleep 0");
    assert_eq!(row(&rows, "·", "(was fd 4)")[0], "");
    // recvfd makes it an fd again: the row goes, unmarked, and the fd is new.
    let rows = panel_of(&stdout, "recvfd y as back");
    assert!(rows.iter().all(|r| r[1] != "·"), "{rows:#?}");
    let back = row(&rows, "4", "back");
    assert_eq!(back[0], "+");
    assert_eq!(
        back[4..7],
        [client, format!("{server} ↔ fd 5"), "ESTABLISHED".into()]
    );

    // JSON says the same: a socket, in flight, under fd 4.
    let steps = Test::new().arg("--json").script(script).run().json();
    let closed = step(&steps, "close c");
    let conns = without_fd(closed, "main");
    assert_eq!(conns.len(), 1, "{closed}");
    let conn = conns[0];
    assert_eq!(
        (
            &conn["under"],
            &conn["origin"],
            &conn["kind"],
            &conn["state"]
        ),
        (
            &Value::from(4),
            &Value::from("in_flight"),
            &Value::from("socket"),
            &Value::from("ESTABLISHED")
        ),
        "{conn}"
    );
    assert_eq!(
        conn["peers"],
        serde_json::json!([{"process": "main", "fd": 5}])
    );
    assert!(without_fd(step(&steps, "recvfd y as back"), "main").is_empty());
}

#[test]
fn what_a_killed_process_left_is_shown_under_its_closed_fd_while_the_kernel_keeps_it() {
    let script = "socket tcp as srv\n\
                  bind srv 127.0.0.1:0\n\
                  listen srv\n\
                  inheritable srv on\n\
                  spawn kid\n\
                  kid: socket tcp as c\n\
                  kid: connect c $srv\n\
                  accept srv as a\n\
                  kill kid SIGKILL\n\
                  sleep 0\n";
    let stdout = Test::new()
        .env("COLUMNS", "400")
        .args(["--panel", "below"])
        .script(script)
        .run()
        .stdout;
    let server = format!("127.0.0.1:{}", port_after(&stdout, "bound to"));
    let client = format!("127.0.0.1:{}", port_after(&stdout, "connected from"));
    let seconds = regex::Regex::new(r"\b\d+s left").expect("pattern");
    let kid_rows = |step: &str| -> Vec<String> {
        let echo = format!("sockplay> {step}\n");
        let start = stdout.find(&echo).expect("the step") + echo.len();
        let rest = &stdout[start..];
        let rest = &rest[..rest.find("sockplay> ").unwrap_or(rest.len())];
        // The kid's table is the right-hand one: what follows its title's column.
        // (In characters: every one the layout uses takes one column.)
        let column = rest
            .lines()
            .find_map(|l| l.find("── kid").map(|at| l[..at].chars().count()))
            .unwrap_or_else(|| panic!("no kid table in\n{rest}"));
        rest.lines()
            .map(|l| l.chars().skip(column).collect::<String>())
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|l| l.starts_with(['-', '+', '~', '·']) || l.starts_with(char::is_numeric))
            .map(|l| {
                let l = l.replace(&server, "SERVER").replace(&client, "CLIENT");
                seconds.replace_all(&l, "Ts left").into_owned()
            })
            .collect()
    };
    // Once with its fds closed, and under fd 4 what the kernel's close left of c: FIN_WAIT2
    // (the step waited for main's ACK of the FIN), paired with main's fd 4.
    let killed = kid_rows("kill kid SIGKILL");
    assert_eq!(
        killed[3..],
        [
            "- 3 - tcp SERVER - - - -",
            "- 4 c tcp CLIENT SERVER - - -",
            "+ · (from fd 4) tcp CLIENT SERVER ↔ main:4 FIN_WAIT2 Ts left 0 0",
        ],
        "{stdout}"
    );
    // Then only what the kernel keeps, where its fd was.
    assert_eq!(
        kid_rows("sleep 0"),
        ["· (was fd 4) tcp CLIENT SERVER ↔ main:4 FIN_WAIT2 Ts left 0 0"],
        "{stdout}"
    );
    assert!(stdout.contains("killed by SIGKILL) ──"), "{stdout}");

    // JSON: the ended process has no fds, and the connection it left.
    let steps = Test::new().arg("--json").script(script).run().json();
    for input in ["kill kid SIGKILL", "sleep 0"] {
        let at = step(&steps, input);
        let kid = at["processes"]
            .as_array()
            .and_then(|all| all.iter().find(|p| p["name"] == "kid"))
            .expect("kid");
        assert_eq!(kid["fds"], serde_json::json!([]), "{at}");
        let conns = without_fd(at, "kid");
        assert_eq!(conns.len(), 1, "{at}");
        assert_eq!(
            (&conns[0]["under"], &conns[0]["origin"], &conns[0]["state"]),
            (
                &Value::from(4),
                &Value::from("left"),
                &Value::from("FIN_WAIT2")
            ),
            "{at}"
        );
        assert_eq!(conns[0]["kind"], "socket");
        assert_eq!(
            conns[0]["peers"],
            serde_json::json!([{"process": "main", "fd": 4}])
        );
    }
}
