//! Processes (SPEC §9): every playground process is a real process with its own fd table — a
//! spawned client's first socket is fd 3 — blocking calls run in the background with `&`, forked
//! children share sockets, and nothing is left behind however sockplay ends.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{step, unique_name, Test};

/// The processes of a JSON record, by name: (pid, parent, state).
fn processes(record: &Value) -> Vec<(String, i64, Value, String)> {
    record["processes"]
        .as_array()
        .expect("processes")
        .iter()
        .map(|p| {
            (
                p["name"].as_str().expect("name").to_string(),
                p["pid"].as_i64().expect("pid"),
                p["parent"].clone(),
                p["state"].as_str().expect("state").to_string(),
            )
        })
        .collect()
}

/// The fd named `name` in a record's table.
fn fd_named(record: &Value, name: &str) -> i64 {
    record["fds"]
        .as_array()
        .expect("fds")
        .iter()
        .find(|fd| fd["name"] == name)
        .and_then(|fd| fd["fd"].as_i64())
        .unwrap_or_else(|| panic!("no fd named {name} in {record}"))
}

/// Whether process `pid` exists (a zombie counts).
fn exists(pid: i64) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Waits up to `limit` for `done` to hold.
fn eventually(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    done()
}

/// The seeds' picture: a server process and a client process, each with its own fd table.
const SERVER_AND_CLIENT: &str = "\
spawn client
socket tcp as srv
bind srv :0
listen srv
accept srv &
client: socket tcp as c
client: expect fd c 3
client: connect c $srv
wait
expect output \"accept(3) = 4\"
accept srv &
client: socket tcp as c2
client: connect c2 $srv
wait main
expect output \"accept(3) = 5\"
";

#[test]
fn a_spawned_client_has_its_own_fd_3_and_the_server_accepts_4_then_5() {
    let output = Test::new().arg("--json").script(SERVER_AND_CLIENT).run();
    let steps = output.json();
    let spawned = step(&steps, "spawn client");
    let [(main, main_pid, main_parent, _), (client, client_pid, client_parent, _)] =
        <[_; 2]>::try_from(processes(spawned)).expect("two processes");
    assert_eq!((main.as_str(), client.as_str()), ("main", "client"));
    assert_ne!(main_pid, client_pid, "two real processes");
    assert_eq!(main_parent, Value::Null);
    assert_eq!(client_parent, "main");

    // Each command's table is the one of the process it ran in.
    let socket = step(&steps, "client: socket tcp as c");
    assert_eq!(socket["process"], "client");
    assert_eq!(
        socket["output"],
        "socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3"
    );
    assert_eq!(fd_named(socket, "c"), 3);
    let listener = step(&steps, "socket tcp as srv");
    assert_eq!(listener["process"], "main");
    assert_eq!(fd_named(listener, "srv"), 3);

    // While accept waits in the background, main shows as blocked in it.
    let started = step(&steps, "accept srv &");
    assert_eq!(started["ok"], true, "{started}");
    let main_state = &processes(socket)[0].3;
    assert_eq!(main_state, "blocked in accept(3)");

    // The connect finishes the handshake accept waits for: main's result is its own record,
    // printed as it arrives, right after the connect, in main.
    let connected = steps
        .iter()
        .position(|s| s["input"] == "client: connect c $srv")
        .expect("the connect's record");
    let arrived = &steps[connected + 1];
    assert_eq!(
        (&arrived["input"], &arrived["process"]),
        (&Value::from("accept srv &"), &Value::from("main"))
    );
    let shown = arrived["output"].as_str().expect("output");
    assert!(
        shown.starts_with("[main] accept srv & returned:\naccept(3) = 4  peer 127.0.0.1:"),
        "{shown}"
    );
    let accepted = arrived["fds"]
        .as_array()
        .expect("fds")
        .iter()
        .find(|fd| fd["fd"] == 4)
        .unwrap_or_else(|| panic!("no fd 4 in {arrived}"));
    assert_eq!(accepted["state"], "ESTABLISHED");
    assert_eq!(processes(&steps[connected])[0].3, "ready");

    let waited: Vec<&Value> = steps.iter().filter(|s| s["input"] == "wait").collect();
    assert!(
        waited[0]["output"]
            .as_str()
            .expect("output")
            .starts_with("accept(3) = 4  peer 127.0.0.1:"),
        "{}",
        waited[0]
    );
    let second = step(&steps, "wait main");
    assert!(
        second["output"]
            .as_str()
            .expect("output")
            .starts_with("accept(3) = 5  peer 127.0.0.1:"),
        "{second}"
    );
    // The connected client is fd 3 and 4 in the client, whatever main holds.
    let connect = step(&steps, "client: connect c2 $srv");
    assert_eq!(fd_named(connect, "c2"), 4);
    assert_eq!(processes(second)[0].3, "ready");
}

#[test]
fn a_name_resolves_in_the_process_first_then_in_the_others() {
    let script = "\
spawn a
spawn b
a: socket udp as u
a: bind u :0
b: socket udp as u
b: bind u :0
socket udp as d
sendto d $a.u one
a: recvfrom u
a: expect data one
sendto d $b.u two
b: recvfrom u
b: expect data two
a: sendto u $u self
a: recvfrom u
a: expect data self
b: close u
sendto d $b.u kept
expect output \"one datagram left\"
sendto d $u ambiguous
";
    let output = Test::new()
        .args(["--panel", "off"])
        .script(script)
        .status(1)
        .run();
    let error = output.stderr.trim();
    assert!(
        error.starts_with(
            "test.sock:20: `$u` is ambiguous: main has no socket called `u`, and 2 processes do: $a.u (127.0.0.1:"
        ),
        "{}",
        output.report()
    );
    assert!(error.contains("), $b.u (127.0.0.1:"), "{error}");
}

#[test]
fn a_process_that_is_blocked_takes_no_other_command_until_it_returns() {
    Test::new()
        .args(["--panel", "off", "--timeout", "5"])
        .script("socket tcp as srv\nbind srv :0\nlisten srv\naccept srv &\nlisten srv\n")
        .status(1)
        .stderr_is(
            "test.sock:5: main is blocked in accept(3) (in the background): it takes the next command once the call returns\n",
        )
        .run();
}

#[test]
fn sleep_waits_while_the_current_process_is_blocked_in_the_background() {
    // sockplay waits, not the process: a script lets time pass while main is in accept(3).
    Test::new()
        .args(["--panel", "off", "--timeout", "5"])
        .script("socket tcp as srv\nbind srv :0\nlisten srv\naccept srv &\nsleep 200\nps\n")
        .stdout_contains("\nsockplay> sleep 200\nslept 200 ms\nsockplay> ps\n")
        .stdout_contains("* main")
        .stdout_contains("blocked in accept(3)")
        .run();
}

#[test]
fn checks_read_the_table_of_a_process_blocked_in_the_background() {
    // A check is sockplay's look at the table, not a call of the process: main in accept(3)
    // still has its listener checked, and a state it never reaches fails at the timeout.
    Test::new()
        .args(["--panel", "off", "--timeout", "5"])
        .script(
            "socket tcp as srv\nbind srv :0\nlisten srv\naccept srv &\nexpect state srv LISTEN\n\
             expect fd srv 3\nexpect open 3\nexpect closed 4\n",
        )
        .stdout_contains("\nsockplay> expect state srv LISTEN\n✓ fd 3 is LISTEN\nsockplay> expect fd srv 3\n✓ srv is fd 3\nsockplay> expect open 3\n✓ fd 3 is open\nsockplay> expect closed 4\n✓ fd 4 is closed\n")
        .run();
    Test::new()
        .args(["--panel", "off", "--timeout", "1"])
        .script(
            "socket tcp as srv\nbind srv :0\nlisten srv\naccept srv &\nexpect state srv CLOSE\n",
        )
        .status(1)
        .stderr_is("test.sock:5: expected fd 3 in state CLOSE, got LISTEN (waited 1 s)\n")
        .run();
}

#[test]
fn a_call_in_the_background_fails_at_wait_and_an_expect_error_excuses_it() {
    Test::new()
        .args(["--panel", "off", "--timeout", "0.2"])
        .script(
            "socket tcp as srv\nbind srv :0\nlisten srv\naccept srv &\nwait\nexpect error ETIMEDOUT\nps\n",
        )
        .stdout_contains("main runs accept(3) in the background")
        .stdout_contains("ETIMEDOUT: no connection")
        .stdout_contains("* main")
        .run();
}

#[test]
fn fork_shares_the_connection_and_only_the_last_close_sends_the_fin() {
    let script = "\
socket tcp as srv
bind srv :0
listen srv
socket tcp as c
connect c $srv
accept srv as conn
fork as child
child: expect fd conn 5
close conn
expect state c ESTABLISHED
child: close conn
expect state c CLOSE_WAIT
";
    let output = Test::new().arg("--json").script(script).run();
    let steps = output.json();
    let forked = step(&steps, "fork as child");
    assert!(
        forked["output"]
            .as_str()
            .expect("output")
            .starts_with("fork() = "),
        "{forked}"
    );
    // The child holds the same fds, with the same names.
    let tables = forked["processes"].as_array().expect("processes");
    let names = |table: &Value| -> Vec<(Value, Value)> {
        table["fds"]
            .as_array()
            .expect("fds")
            .iter()
            .map(|fd| (fd["fd"].clone(), fd["name"].clone()))
            .collect()
    };
    assert_eq!(tables.len(), 2);
    assert_eq!(names(&tables[0]), names(&tables[1]));
    // The parent's close left the connection open: no FIN while the child holds it; the child's,
    // the last, sent it.
    let after_parent = step(&steps, "close conn");
    assert_eq!(after_parent["process"], "main");
    assert_eq!(step(&steps, "expect state c ESTABLISHED")["ok"], true);
    let after_child = step(&steps, "child: close conn");
    assert_eq!(after_child["process"], "child");
    assert_eq!(step(&steps, "expect state c CLOSE_WAIT")["ok"], true);
}

#[test]
fn a_forked_child_holds_the_very_sockets_of_its_parent() {
    let mut running = Test::new()
        .args(["--json", "--timeout", "60"])
        .script("socket tcp as srv\nbind srv :0\nlisten srv\nsocket udp as u\nfork\nsleep 60000\n")
        .time_limit(Duration::from_secs(30))
        .spawn();
    let forked: Value =
        serde_json::from_str(&running.wait_for_line("\"input\":\"fork\"")).expect("JSON");
    let pids: Vec<i64> = processes(&forked).iter().map(|p| p.1).collect();
    assert_eq!(processes(&forked)[1].0, "child");
    let link = |pid: i64, fd: i32| {
        std::fs::read_link(format!("/proc/{pid}/fd/{fd}"))
            .unwrap_or_else(|e| panic!("fd {fd} of {pid}: {e}"))
    };
    for fd in [3, 4] {
        let parent = link(pids[0], fd);
        assert!(
            parent.to_string_lossy().starts_with("socket:["),
            "{parent:?}"
        );
        assert_eq!(
            parent,
            link(pids[1], fd),
            "fd {fd}: one socket, two processes"
        );
    }
    // Each process has its own sock_diag socket and channel: no fd of sockplay's is shared.
    let internal = |pid: i64| -> Vec<std::path::PathBuf> {
        std::fs::read_dir(format!("/proc/{pid}/fd"))
            .expect("fds")
            .filter_map(|entry| {
                let entry = entry.ok()?;
                let fd: i32 = entry.file_name().to_str()?.parse().ok()?;
                (fd > 4)
                    .then(|| std::fs::read_link(entry.path()).ok())
                    .flatten()
            })
            .collect()
    };
    let (parent, child) = (internal(pids[0]), internal(pids[1]));
    assert!(!parent.is_empty());
    for own in &child {
        assert!(!parent.contains(own), "{own:?} is in both processes");
    }
}

#[test]
fn an_inheritable_listener_reaches_a_spawned_process_as_the_same_fd() {
    let script = "\
socket tcp as srv
bind srv :0
listen srv
socket tcp as private
inheritable srv on
spawn worker
worker: expect state 3 LISTEN
worker: expect closed 4
socket tcp as c
connect c $srv
worker: accept 3 as conn
worker: expect fd conn 4
";
    Test::new()
        .args(["--panel", "off"])
        .script(script)
        .stdout_contains("fcntl(3, F_SETFD, 0) = 0")
        .stdout_contains("starts with fds 0, 1, 2 and the inheritable 3")
        .stdout_contains("accept(3) = 4  peer 127.0.0.1:")
        .run();
}

#[test]
fn dup_is_dup2_itself_so_its_copy_is_inheritable_and_a_spawned_process_gets_only_the_copy() {
    // dup(2) never copies FD_CLOEXEC: the original stays close-on-exec, the copy does not.
    let script = "\
socket udp as u
dup u as copy
spawn k
k: expect closed 3
k: expect open 4
";
    Test::new()
        .args(["--panel", "off"])
        .env("COLUMNS", "1000")
        .script(script)
        .stdout_contains("\nsockplay> dup u as copy\ndup(3) = 4\nfd 4 and fd 3 are one socket (same inode): it closes only when both are closed\ndup does not copy close-on-exec: fd 4 is inheritable (a process started with `spawn` gets it; `inheritable 4 off` stops that)\n")
        .stdout_contains("starts with fds 0, 1, 2 and the inheritable 4")
        .run();
}

#[test]
fn use_switches_the_current_process_and_exit_comes_back_to_main() {
    let output = Test::new()
        .args(["--panel", "off"])
        .script(
            "spawn client\nuse client\nsocket tcp as c\nexpect fd c 3\nexit\nsocket tcp as s\nexpect fd s 3\nps\n",
        )
        .run();
    assert!(
        output.stdout.contains("sockplay[client]> socket tcp as c"),
        "{}",
        output.report()
    );
    assert!(
        output
            .stdout
            .contains("client has ended: main is the current process again"),
        "{}",
        output.report()
    );
    let ps = output.stdout.rsplit("sockplay> ps\n").next().expect("ps");
    let client: Vec<&str> = ps
        .lines()
        .find(|l| l.contains("client"))
        .expect("client in ps")
        .split_whitespace()
        .collect();
    assert_eq!(client[0], "client", "{ps}");
    assert_eq!(client[2..].join(" "), "main exited with status 0", "{ps}");
}

#[test]
fn kill_reports_how_the_process_ended() {
    let output = Test::new()
        .args(["--panel", "off"])
        .script("spawn a\nspawn b\nkill a\nkill b SIGKILL\nps\n")
        .run();
    assert!(
        output
            .stdout
            .contains("killed by SIGTERM: the kernel closed its fds"),
        "{}",
        output.report()
    );
    let ps = output.stdout.rsplit("sockplay> ps\n").next().expect("ps");
    let state = |name: &str| {
        ps.lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("{name} in {ps}"))
            .to_string()
    };
    assert!(state("a").ends_with("killed by SIGTERM"), "{ps}");
    assert!(state("b").ends_with("killed by SIGKILL"), "{ps}");
}

#[test]
fn a_process_that_ended_takes_no_command_and_main_stays_reserved() {
    Test::new()
        .args(["--panel", "off"])
        .script("spawn b\nkill b\nb: fds\n")
        .status(1)
        .stderr_contains("test.sock:3: b (pid ")
        .stderr_contains(") has ended (killed by SIGTERM): it makes no more calls")
        .run();
    Test::new()
        .args(["--panel", "off"])
        .script("fork as main\n")
        .status(1)
        .stderr_contains("test.sock:1: a process is already called `main`")
        .run();
}

#[test]
fn two_hundred_processes_spawned_and_killed_leave_no_process_and_no_fd_behind() {
    // The front end's fds are counted during the sleep, while it makes none (the spawns that
    // follow open each process's channel).
    let mut script = String::from("fds\nsleep 1000\n");
    for i in 0..200 {
        script.push_str(&format!("spawn p{i}\n"));
    }
    script.push_str("ps\n");
    for i in 0..200 {
        script.push_str(&format!("kill p{i}\n"));
    }
    script.push_str("ps\nsleep 60000\n");
    let mut running = Test::new()
        .args(["--json", "--timeout", "60"])
        .script(&script)
        .time_limit(Duration::from_secs(90))
        .spawn();
    let front = running.pid();
    running.wait_for_line("\"input\":\"fds\"");
    std::thread::sleep(Duration::from_millis(300));
    let fds_before = std::fs::read_dir(format!("/proc/{front}/fd"))
        .expect("the front end's fds")
        .count();
    let all = running.wait_for_line("\"input\":\"ps\"");
    let all: Value = serde_json::from_str(&all).expect("JSON");
    let pids: Vec<i64> = processes(&all).iter().map(|p| p.1).collect();
    assert_eq!(pids.len(), 201, "main and 200 processes");
    let main = pids[0];
    let after = running.wait_for_line("\"input\":\"ps\"");
    let after: Value = serde_json::from_str(&after).expect("JSON");
    let states: Vec<String> = processes(&after).into_iter().map(|p| p.3).collect();
    assert_eq!(states[0], "ready");
    assert!(
        states[1..].iter().all(|s| s == "killed by SIGTERM"),
        "{states:?}"
    );
    // No process left, not even a zombie: main reaped every one.
    for pid in &pids[1..] {
        assert!(
            eventually(Duration::from_secs(5), || !exists(*pid)),
            "process {pid} is still there"
        );
    }
    let children = std::fs::read_to_string(format!("/proc/{main}/task/{main}/children"))
        .expect("main's children");
    assert_eq!(children.trim(), "", "main has no children left");
    // main is back to its two threads (its commands and its channel); no reaper thread is left.
    assert!(
        eventually(Duration::from_secs(5), || {
            std::fs::read_dir(format!("/proc/{main}/task")).map_or(0, Iterator::count) == 2
        }),
        "main's threads"
    );
    // And the front end holds exactly the fds it held before: no channel is left open.
    assert!(
        eventually(Duration::from_secs(5), || {
            std::fs::read_dir(format!("/proc/{front}/fd")).map_or(0, Iterator::count) == fds_before
        }),
        "the front end's fds"
    );
}

/// Starts a run that binds a Unix socket path in a spawned process and sleeps; returns the run,
/// the path and the pids of its two processes.
fn sleeping_with_a_socket_file() -> (crate::support::Running, std::path::PathBuf, Vec<i64>) {
    let name = unique_name("proc");
    let path = std::env::temp_dir().join(format!("{name}.sock"));
    let script = format!(
        "spawn client\nclient: socket unix stream as u\nclient: bind u {}\nsocket tcp as s\nsleep 60000\n",
        path.display()
    );
    let mut running = Test::new()
        .args(["--json", "--timeout", "60"])
        .script(script)
        .time_limit(Duration::from_secs(30))
        .spawn();
    let record = running.wait_for_line("\"input\":\"socket tcp as s\"");
    let record: Value = serde_json::from_str(&record).expect("JSON");
    let pids = processes(&record).iter().map(|p| p.1).collect();
    assert!(path.exists(), "the socket file was made");
    (running, path, pids)
}

#[test]
fn a_front_end_killed_by_sigkill_leaves_no_process_and_no_socket_file() {
    let (mut running, path, pids) = sleeping_with_a_socket_file();
    running.signal(nix::sys::signal::Signal::SIGKILL);
    for pid in pids {
        assert!(
            eventually(Duration::from_secs(5), || !exists(pid)),
            "process {pid} outlived the front end"
        );
    }
    assert!(
        eventually(Duration::from_secs(5), || !path.exists()),
        "{} is still there",
        path.display()
    );
}

#[test]
fn a_front_end_ended_by_sigterm_leaves_no_process_and_no_socket_file() {
    let (mut running, path, pids) = sleeping_with_a_socket_file();
    running.signal(nix::sys::signal::Signal::SIGTERM);
    for pid in pids {
        assert!(
            eventually(Duration::from_secs(5), || !exists(pid)),
            "process {pid} outlived the front end"
        );
    }
    assert!(
        eventually(Duration::from_secs(5), || !path.exists()),
        "{} is still there",
        path.display()
    );
}

#[test]
fn quitting_ends_every_process_and_removes_their_socket_files() {
    let name = unique_name("proc");
    let path = std::env::temp_dir().join(format!("{name}.sock"));
    let script = format!(
        "spawn client\nclient: socket unix stream as u\nclient: bind u {}\nclient: listen u\nclient: accept u &\nfork as other\nquit\n",
        path.display()
    );
    let output = Test::new().arg("--json").script(script).run();
    let steps = output.json();
    let last = steps.last().expect("a record");
    for (name, pid, _, _) in processes(last) {
        assert!(
            eventually(Duration::from_secs(2), || !exists(pid)),
            "{name} ({pid}) outlived sockplay"
        );
    }
    assert!(!path.exists(), "{} is still there", path.display());
}

// ---- at a real terminal ----

use crate::pty::{Repl, PROMPT};

#[test]
fn a_call_with_ampersand_gives_the_prompt_back_at_once_and_shows_its_result_when_it_returns() {
    let mut repl = Repl::start();
    repl.step("set timeout 30", "timeout is 30 s");
    repl.step("spawn client", "starts with fds 0, 1, 2");
    repl.step("socket tcp as srv", ") = 3");
    repl.step("bind srv :0", "bound to");
    repl.step("listen srv", "listen(3, 128) = 0");
    let started = Instant::now();
    let shown = repl.step("accept srv &", "in the background");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the prompt came back after {:?}",
        started.elapsed()
    );
    assert!(
        shown.contains("main runs accept(3) in the background"),
        "{shown}"
    );
    let ps = repl.step("ps", "STATE");
    assert!(
        ps.lines()
            .any(|l| l.starts_with("* main") && l.trim_end().ends_with("blocked in accept(3)")),
        "{ps}"
    );
    repl.step("client: socket tcp as c", ") = 3");
    let mut shown = repl.step("client: connect c $srv", "connect(3, 127.0.0.1:");
    // The result shows before a prompt once it has come: right after the connect, or at the
    // next prompt.
    if !shown.contains("[main] accept srv & returned:") {
        std::thread::sleep(Duration::from_millis(300));
        repl.enter("");
        shown = repl.expect("[main] accept srv & returned:");
        shown.push_str(&repl.expect(PROMPT));
    }
    let result = shown
        .split("[main] accept srv & returned:")
        .nth(1)
        .unwrap_or_else(|| panic!("{shown}"));
    assert!(
        result.contains("\naccept(3) = 4  peer 127.0.0.1:"),
        "{shown}"
    );
    let ps = repl.step("ps", "STATE");
    assert!(!ps.contains("blocked"), "{ps}");
}

#[test]
fn ctrl_c_interrupts_the_call_of_the_current_process_only() {
    let mut repl = Repl::start();
    repl.step("set timeout 30", "timeout is 30 s");
    repl.step("spawn client", "starts with fds 0, 1, 2");
    repl.step("client: socket tcp as l", ") = 3");
    repl.step("client: bind l :0", "bound to");
    repl.step("client: listen l", "listen(3, 128) = 0");
    repl.step("client: accept l &", "in the background");
    repl.step("socket tcp as srv", ") = 3");
    repl.step("bind srv :0", "bound to");
    repl.step("listen srv", "listen(3, 128) = 0");

    // A call in main, the current process: Ctrl-C cuts it.
    repl.enter("accept srv");
    repl.expect("\n");
    std::thread::sleep(Duration::from_millis(300));
    let pressed = Instant::now();
    repl.control('c');
    repl.expect("EINTR");
    repl.expect(PROMPT);
    assert!(
        pressed.elapsed() < Duration::from_secs(2),
        "the prompt came back {:?} after Ctrl-C",
        pressed.elapsed()
    );
    // The client's call goes on.
    let ps = repl.step("ps", "STATE");
    let client = ps
        .lines()
        .find(|l| l.contains("client"))
        .unwrap_or_else(|| panic!("client in {ps}"));
    assert!(client.trim_end().ends_with("blocked in accept(3)"), "{ps}");

    // At the prompt, Ctrl-C interrupts the current process's call in the background.
    repl.enter("use client");
    repl.expect("sockplay[client]> ");
    repl.control('c');
    repl.expect("^C interrupts accept(3) in client");
    repl.expect("[client] client: accept l & returned:");
    repl.expect("EINTR");
    repl.expect("sockplay[client]> ");
}

/// The soft fd limit a `ulimit nofile` line reports: `new fds must be below 4096; …`.
fn soft_limit(stdout: &str) -> i64 {
    let below = regex::Regex::new(r"new fds must be below (\d+);").expect("pattern");
    below
        .captures(stdout)
        .and_then(|c| c[1].parse().ok())
        .unwrap_or_else(|| panic!("no limit in:\n{stdout}"))
}

#[test]
fn fds_says_in_one_line_which_fds_are_sockplays_own_in_every_process() {
    let output = Test::new()
        .args(["--panel", "off"])
        .script("socket tcp as a\nulimit nofile\nfds\nspawn c\nc: fds\nfork as k\nk: fds\n")
        .run();
    // sockplay keeps its own fds just below min(soft limit, 4096).
    let top = soft_limit(&output.stdout).min(4096);
    let own = regex::Regex::new(
        r"(?m)^\(sockplay's own: fd (\d+) ([a-z_ ]+), fd (\d+) ([a-z_ ]+) — not shown\)$",
    )
    .expect("pattern");
    let lines: Vec<_> = own.captures_iter(&output.stdout).collect();
    assert_eq!(lines.len(), 3, "one line per `fds`\n{}", output.report());
    for line in &lines {
        let mut kinds = [&line[2], &line[4]];
        kinds.sort();
        assert_eq!(kinds, ["control channel", "sock_diag"], "{}", &line[0]);
        for fd in [&line[1], &line[3]] {
            let fd: i64 = fd.parse().expect("fd");
            // At the top of the fd space, never where a user's socket goes.
            assert!(
                fd < top && fd >= top - 64,
                "fd {fd} is not at the top below {top}: {}",
                &line[0]
            );
        }
    }
    // The rows and the count leave them out: main and the forked child show 0 … 3, the spawned
    // one 0 … 2.
    for count in ["open fds: 4", "open fds: 3"] {
        assert!(output.stdout.contains(count), "{}", output.report());
    }
    for line in &lines {
        for fd in [&line[1], &line[3]] {
            let row = format!("\n {fd:>3}  ");
            assert!(!output.stdout.contains(&row), "fd {fd} has a row");
        }
    }
}

#[test]
fn ulimit_in_a_spawned_process_counts_and_limits_that_process_only() {
    let output = Test::new()
        .args(["--panel", "off"])
        .script(
            "socket tcp as a\nsocket tcp as b\nulimit nofile\nspawn c\nc: ulimit nofile\n\
             c: socket udp as u\nc: ulimit nofile 8\nc: fds\nulimit nofile\nfds\n",
        )
        .run();
    let limit = soft_limit(&output.stdout);
    let out = &output.stdout;
    let in_main = format!("new fds must be below {limit}; 5 are open now\n");
    assert!(out.contains(&in_main), "{}", output.report());
    // The client's count is its own: 0, 1, 2, then 0 … 3 after its socket, as its `fds` shows.
    assert!(
        out.contains(&format!(
            "sockplay> c: ulimit nofile\ngetrlimit(RLIMIT_NOFILE) = 0  {{cur={limit}, "
        )),
        "{}",
        output.report()
    );
    assert!(
        out.contains(&format!("new fds must be below {limit}; 3 are open now\n")),
        "{}",
        output.report()
    );
    assert!(
        out.contains("only fds 0 to 7 can be made now; 4 are open\n"),
        "{}",
        output.report()
    );
    assert!(
        out.contains("sockplay> c: fds\nopen fds: 4\n"),
        "{}",
        output.report()
    );
    // main's limit is untouched, and its count is still main's.
    assert_eq!(
        out.matches(&in_main).count(),
        2,
        "main still counts 5 under its own limit\n{}",
        output.report()
    );
    assert!(
        out.contains("sockplay> fds\nopen fds: 5\n"),
        "{}",
        output.report()
    );
}

#[test]
fn a_replay_echoes_each_line_at_the_prompt_it_was_typed_at() {
    let output = Test::new()
        .args(["--panel", "off"])
        .script("spawn client\nuse client\nsocket tcp as x\nuse main\nsocket tcp as y\n")
        .run();
    let echoed: Vec<&str> = output
        .stdout
        .lines()
        .filter(|line| line.starts_with("sockplay"))
        .collect();
    assert_eq!(
        echoed,
        [
            "sockplay> spawn client",
            "sockplay> use client",
            "sockplay[client]> socket tcp as x",
            "sockplay[client]> use main",
            "sockplay> socket tcp as y",
        ]
    );
}

#[test]
fn an_accept_in_the_background_that_returned_shows_in_the_next_table_named_and_done() {
    // The client's connect completes the handshake main's accept waits for: the accept returns
    // in main while the client's step is shown. The table main shows then is the one after the
    // accept, every time: its fd named, main no longer blocked.
    let mut script = String::from("spawn alice\nsocket tcp as srv\nbind srv :0\nlisten srv\n");
    let rounds = 12;
    for n in 0..rounds {
        script.push_str(&format!(
            "accept srv as a{n} &\nalice: socket tcp as c{n}\nalice: connect c{n} $srv\n"
        ));
    }
    let steps = Test::new().arg("--json").script(&script).run().json();
    for n in 0..rounds {
        let connected = step(&steps, &format!("alice: connect c{n} $srv"));
        let main = connected["processes"]
            .as_array()
            .and_then(|all| all.iter().find(|p| p["name"] == "main"))
            .unwrap_or_else(|| panic!("no main in {connected}"));
        assert_eq!(main["state"], "ready", "round {n}: {connected}");
        let named = main["fds"]
            .as_array()
            .expect("fds")
            .iter()
            .find(|fd| fd["name"] == format!("a{n}"))
            .unwrap_or_else(|| panic!("round {n}: no fd named a{n} in {connected}"));
        assert_eq!(named["fd"], 4 + n, "round {n}: {connected}");
    }
}

#[test]
fn kill_main_makes_a_running_process_current_reparents_its_children_and_the_last_kill_ends_sockplay(
) {
    // k's parent is main; once main is gone the kernel hands k to sockplay (the subreaper), and
    // ps says k has no playground parent. kk's parent k still runs.
    Test::new()
        .args(["--panel", "off"])
        .env("COLUMNS", "1000")
        .script("spawn k\nk: spawn kk\nkill main\nps\nkill k\nkill kk\n")
        .status(1)
        .stdout_contains("main (pid ")
        .stdout_contains(" killed by SIGTERM: the kernel closed its fds\nk is the current process now\nsockplay[k]> ps\n")
        .stdout_contains("\nkk is the current process now\nsockplay[kk]> kill kk\nkk is the last process running: killing it would end sockplay\nhint: `exit` (or `quit`) ends sockplay; `spawn NAME` starts another process first\n")
        .stdout_lacks("main is the current process again")
        .run();
    Test::new()
        .args(["--panel", "off"])
        .script("kill main\n")
        .status(1)
        .stderr_is("test.sock:1: main is the last process running: killing it would end sockplay\n")
        .run();
    let output = Test::new()
        .args(["--panel", "off"])
        .script("spawn k\nk: spawn kk\nkill main\nps\n")
        .run();
    let rows: Vec<Vec<&str>> = output
        .stdout
        .lines()
        .skip_while(|line| !line.ends_with("> ps"))
        .skip(2)
        .map(|line| line.split_whitespace().collect())
        .collect();
    // NAME PID PARENT STATE (the current process marked `*`).
    assert_eq!(rows[0][0], "main");
    assert_eq!((rows[1][1], rows[1][3]), ("k", "-"), "{rows:?}");
    assert_eq!((rows[2][0], rows[2][2]), ("kk", "k"), "{rows:?}");
}
