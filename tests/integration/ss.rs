//! Accept queues and the `ss` command, checked against the kernel from outside: the panel lists a
//! queued connection under its listener until `accept`, the JSON rows agree with the real `ss`
//! (iproute2) about this process's TCP sockets, and the accept-queue example replays cleanly.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// No single sockplay run in these tests may take longer than this.
const RUN_LIMIT: Duration = Duration::from_secs(30);

fn sockplay() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sockplay"))
}

/// A child process that is killed (and reaped) however the test ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `command` to the end with stdout and stderr captured, killing it at [`RUN_LIMIT`].
fn run_limited(mut command: Command) -> Output {
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the command");
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("pid"));
    let (done, finished) = mpsc::channel();
    // Reading both pipes to the end while waiting, so a chatty child never blocks on a full pipe.
    std::thread::spawn(move || done.send(child.wait_with_output()));
    match finished.recv_timeout(RUN_LIMIT) {
        Ok(output) => output.expect("the command's output"),
        Err(_) => {
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
            panic!("the command ran longer than {RUN_LIMIT:?}: {command:?}");
        }
    }
}

/// Runs `sockplay ARGS…` to the end.
fn run_sockplay(args: &[&str]) -> Output {
    let mut command = sockplay();
    command.args(args);
    run_limited(command)
}

/// The real `ss` from iproute2, or a failure that says how to get it: this test is worth nothing
/// if it silently checks nothing.
fn real_ss(args: &[&str]) -> String {
    let mut command = Command::new("ss");
    command.args(args);
    let mut child = match command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => Running(child),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "this test compares sockplay with the real `ss`, which is missing: \
             install iproute2 (e.g. `apt-get install -y iproute2`; CI installs it)"
        ),
        Err(e) => panic!("cannot run ss: {e}"),
    };
    let mut stdout = String::new();
    if let Some(mut out) = child.0.stdout.take() {
        std::io::Read::read_to_string(&mut out, &mut stdout).expect("ss output");
    }
    let status = child.0.wait().expect("ss status");
    assert!(status.success(), "ss {args:?} failed: {status}");
    stdout
}

/// The per-step sections of a text replay: each starts at its `sockplay> ` echo line.
fn steps(stdout: &str) -> Vec<(String, Vec<String>)> {
    let mut steps: Vec<(String, Vec<String>)> = Vec::new();
    for line in stdout.lines() {
        if let Some(input) = line.strip_prefix("sockplay> ") {
            steps.push((input.to_string(), Vec::new()));
        } else if let Some((_, lines)) = steps.last_mut() {
            lines.push(line.to_string());
        }
    }
    steps
}

/// The lines of the step whose input is `input`.
fn step<'a>(steps: &'a [(String, Vec<String>)], input: &str) -> &'a [String] {
    steps
        .iter()
        .find(|(i, _)| i == input)
        .map(|(_, lines)| lines.as_slice())
        .unwrap_or_else(|| panic!("no step `{input}` in {steps:#?}"))
}

/// The panel line of fd `fd`: a change mark, the fd right-aligned, two blanks.
fn fd_line(lines: &[String], fd: i32) -> Option<(usize, &String)> {
    lines.iter().enumerate().find(|(_, l)| {
        let rest = l.get(1..).unwrap_or_default().trim_start();
        rest.starts_with(&format!("{fd}  "))
    })
}

#[test]
fn panel_lists_a_queued_connection_under_its_listener_until_accept() {
    let output = run_sockplay(&[
        "--panel",
        "below",
        "-c",
        "socket tcp as srv; bind srv :0; listen srv; socket tcp as cli; connect cli $srv; \
         accept srv as conn",
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let steps = steps(&stdout);
    let srv = made_fd(&steps, "socket tcp as srv");
    let cli = made_fd(&steps, "socket tcp as cli");

    let connected = step(&steps, "connect cli $srv");
    let (at, listener) = fd_line(connected, srv).expect("the listener's line");
    assert!(listener.contains("LISTEN"), "{listener}");
    let queued = &connected[at + 1];
    assert!(
        queued.contains("·  (queued)  tcp"),
        "right under the listener: {queued}"
    );
    assert!(
        queued.contains("ESTABLISHED") || queued.contains("SYN_RECV"),
        "{queued}"
    );
    assert!(
        queued.contains(&format!("↔ fd {cli}")),
        "the client is this process's fd {cli}: {queued}"
    );
    assert!(queued.starts_with('+'), "new in this step: {queued}");
    assert!(connected
        .iter()
        .any(|l| l.contains("queued connections: 1")));

    let accepted = step(&steps, "accept srv as conn");
    assert!(
        accepted.iter().all(|l| !l.contains("(queued)")),
        "accept took it out of the queue: {accepted:#?}"
    );
    let conn = made_fd(&steps, "accept srv as conn");
    let (_, conn_line) = fd_line(accepted, conn).expect("the accepted fd's line");
    assert!(
        conn_line.starts_with('+') && conn_line.contains("conn"),
        "{conn_line}"
    );
    assert!(
        conn_line.contains("ESTABLISHED") && conn_line.contains(&format!("↔ fd {cli}")),
        "{conn_line}"
    );
}

/// The fd a `socket` or `accept` step made, from its strace-style line `… = N`.
fn made_fd(steps: &[(String, Vec<String>)], input: &str) -> i32 {
    let line = step(steps, input).first().expect("the call line");
    let after = line.split(" = ").nth(1).expect("a result");
    after
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no fd in {line}"))
}

/// The TCP sockets `ss -tanp` lists for process `pid`, by fd: (state, local, peer, recv-q, send-q),
/// with ss's state and wildcard spellings turned into the panel's.
fn ss_rows_of(
    pid: u32,
    listing: &str,
) -> BTreeMap<i64, (String, String, Option<String>, u64, u64)> {
    let owner = format!("pid={pid},fd=");
    let mut rows = BTreeMap::new();
    for line in listing.lines().skip(1) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [state, recv_q, send_q, local, peer, ..] = fields[..] else {
            continue;
        };
        let state = match state {
            "ESTAB" => "ESTABLISHED".to_string(),
            "FIN-WAIT-1" => "FIN_WAIT1".to_string(),
            "FIN-WAIT-2" => "FIN_WAIT2".to_string(),
            other => other.replace('-', "_"),
        };
        let peer = (!peer.ends_with(":*")).then(|| peer.to_string());
        let row = (
            state,
            local.to_string(),
            peer,
            recv_q.parse().expect("Recv-Q"),
            send_q.parse().expect("Send-Q"),
        );
        for (at, _) in line.match_indices(&owner) {
            let digits: String = line[at + owner.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            rows.insert(digits.parse().expect("fd"), row.clone());
        }
    }
    rows
}

#[test]
fn json_rows_agree_with_the_real_ss() {
    let mut command = sockplay();
    command
        .args([
            "--json",
            "-c",
            "socket tcp as srv; bind srv :0; listen srv 7; \
             socket tcp as c1; connect c1 $srv; socket tcp as c2; connect c2 $srv; \
             accept srv as conn; sleep 30000",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = Running(command.spawn().expect("start sockplay"));
    let stdout = child.0.stdout.take().expect("stdout");
    let (lines, records) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });

    // sockplay now sleeps after the accept, holding a listener with one queued connection.
    let deadline = Instant::now() + RUN_LIMIT;
    let after_accept: Value = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = records
            .recv_timeout(left)
            .expect("sockplay printed the accept step in time");
        let record: Value = serde_json::from_str(&line).expect("one JSON object per line");
        assert_eq!(record["ok"], true, "{record}");
        if record["input"] == "accept srv as conn" {
            break record;
        }
    };

    // The sockets are main's, the playground's first process (not sockplay's front end).
    let pid = after_accept["processes"][0]["pid"]
        .as_u64()
        .and_then(|pid| u32::try_from(pid).ok())
        .expect("main's pid");

    // The queued connection is the one the kernel still holds: poll until ss sees it complete.
    let listing = loop {
        let listing = real_ss(&["-tanp"]);
        let theirs = ss_rows_of(pid, &listing);
        let listener_seen = theirs.values().any(|l| l.0 == "LISTEN" && l.3 == 1);
        if listener_seen || Instant::now() > deadline {
            break listing;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let theirs = ss_rows_of(pid, &listing);

    let ours: BTreeMap<i64, (String, String, Option<String>, u64, u64)> = after_accept["fds"]
        .as_array()
        .expect("fds")
        .iter()
        .filter(|fd| fd["family"] == "inet" && fd["type"] == "stream")
        .map(|fd| {
            let text = |key: &str| fd[key].as_str().map(str::to_string);
            let number = |key: &str| fd[key].as_u64().expect("queue sizes of TCP sockets");
            (
                fd["fd"].as_i64().expect("fd"),
                (
                    text("state").expect("state"),
                    text("local").expect("bound"),
                    text("remote"),
                    number("recv_q"),
                    number("send_q"),
                ),
            )
        })
        .collect();

    let fd_named = |name: &str| {
        after_accept["fds"]
            .as_array()
            .expect("fds")
            .iter()
            .find(|fd| fd["name"] == name)
            .and_then(|fd| fd["fd"].as_i64())
            .unwrap_or_else(|| panic!("no fd named {name}"))
    };
    let [srv, c1, c2, conn] = ["srv", "c1", "c2", "conn"].map(fd_named);
    let mut named = vec![srv, c1, c2, conn];
    named.sort_unstable();
    assert_eq!(
        ours.keys().copied().collect::<Vec<_>>(),
        named,
        "srv, c1, c2 and conn are the TCP sockets"
    );
    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        theirs.keys().collect::<Vec<_>>(),
        "ss -p lists the same TCP fds for pid {pid}:\n{listing}"
    );
    for (fd, (state, local, remote, recv_q, send_q)) in &ours {
        let (s, l, r, rq, sq) = &theirs[fd];
        assert_eq!((state, local, remote), (s, l, r), "fd {fd}:\n{listing}");
        if state == "LISTEN" {
            assert_eq!((recv_q, send_q), (rq, sq), "listener fd {fd}:\n{listing}");
            assert_eq!((*recv_q, *send_q), (1, 7), "one queued, backlog 7");
        }
    }
    assert_eq!(ours[&srv].0, "LISTEN");

    // The connection still queued is in ss too, with no process (it has no fd yet): from the
    // client that was not accepted, to the listener's address.
    let listener = &ours[&srv].1;
    let accepted_peer = ours[&conn].2.clone().expect("conn has a peer");
    let waiting_client = [&ours[&c1].1, &ours[&c2].1]
        .into_iter()
        .find(|c| **c != accepted_peer)
        .expect("the client not accepted yet");
    let queued = listing.lines().find(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        f.get(3) == Some(&listener.as_str()) && f.get(4) == Some(&waiting_client.as_str())
    });
    let queued = queued.unwrap_or_else(|| panic!("no queued connection in:\n{listing}"));
    assert!(
        queued.starts_with("ESTAB") && !queued.contains("users:"),
        "{queued}"
    );
}

#[test]
fn ss_command_marks_our_fds_and_feeds_expect_output() {
    let output = run_sockplay(&[
        "--panel",
        "off",
        "-c",
        "socket tcp as srv; bind srv :0; listen srv 3; socket tcp as cli; connect cli $srv; \
         ss -t -l; expect output \" srv\"; expect output \"(queued)\"; \
         expect output \"(srv): 1 connection waits in the accept queue (limit 3)\"; \
         ss -t; expect output \" cli\"; expect output \"(queued on fd \"; \
         ss -u -x; expect output \"Netid\"",
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let steps = steps(&stdout);
    let listening = step(&steps, "ss -t -l");
    let header = listening.first().expect("a header");
    for column in ["Netid", "State", "Recv-Q", "Send-Q", "Local", "Peer", "FD"] {
        assert!(header.contains(column), "{header}");
    }
    let at = listening
        .iter()
        .position(|l| l.ends_with(" srv"))
        .expect("the listener, marked by fd");
    assert!(listening[at].contains("LISTEN"), "{}", listening[at]);
    assert!(
        listening[at + 1].starts_with("└ tcp"),
        "{}",
        listening[at + 1]
    );
    // Plain `ss` lists connections only: no listener.
    let connected = step(&steps, "ss -t");
    assert!(
        connected.iter().all(|l| !l.contains("LISTEN")),
        "{connected:#?}"
    );
}

#[test]
fn ss_rejects_unknown_flags_before_running_anything() {
    let output = run_sockplay(&["-c", "socket tcp; ss -z"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unknown flag `-z`"), "{stderr}");
    assert!(output.stdout.is_empty(), "nothing ran");
}

#[test]
fn accept_queue_example_replays() {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scripts/examples/accept-queue.sock"
    );
    let output = run_sockplay(&["--panel", "below", script]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let steps = steps(&stdout);
    let second = step(&steps, "connect c2 $srv");
    let (at, listener) = fd_line(second, 3).expect("the listener");
    assert!(
        listener.contains("LISTEN") && listener.contains(" 2       5"),
        "{listener}"
    );
    assert!(second[at + 1].contains("(queued)") && second[at + 2].contains("(queued)"));
}

/// Runs in a child process (this test binary again): filling the fd table would make the tests
/// running alongside fail with EMFILE.
#[test]
fn ss_fails_with_emfile_when_the_fd_table_is_full() {
    const CHILD: &str = "SOCKPLAY_SS_FULL_TABLE_CHILD";
    if std::env::var_os(CHILD).is_none() {
        let mut command = Command::new(std::env::current_exe().expect("test binary"));
        command
            .args([
                "--exact",
                "ss::ss_fails_with_emfile_when_the_fd_table_is_full",
                "--test-threads=1",
            ])
            .env(CHILD, "1");
        let output = run_limited(command);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && stdout.contains("1 passed"),
            "the full-table child failed or did not run:\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        return;
    }

    use sockplay::engine::{Engine, View};
    use sockplay::fdtable::{Observed, Observer};
    use sockplay::lang::{Command as SockCommand, SsFilter};
    use sockplay::session::Settings;

    let view = View {
        json: false,
        color: false,
        echo: false,
        fallback_width: 120,
        allow_shell: false,
        prompt: false,
        panel: sockplay::lang::PanelPlacement::Right,
        explain: false,
    };
    // An observer without a sock_diag socket of its own: `ss` must open one, and cannot.
    let observer = Observer::new(Observed::ThisProcess);
    let screen = Box::new(sockplay::front::terminal::TerminalScreen);
    let mut engine = Engine::start_with(
        std::path::Path::new(env!("CARGO_BIN_EXE_sockplay")),
        observer,
        Settings::default(),
        view,
        screen,
    )
    .expect("start the first process");
    let (_, hard) = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
        .expect("getrlimit");
    nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE, 64, hard)
        .expect("setrlimit");
    let mut files = Vec::new();
    while let Ok(file) = std::fs::File::open("/dev/null") {
        files.push(file);
    }
    let step = engine.step(&SockCommand::Ss(SsFilter::default()));
    let failure = step
        .outcome
        .failure
        .as_ref()
        .expect("ss cannot open its netlink socket");
    assert_eq!(failure.errno, Some(nix::errno::Errno::EMFILE));
    assert!(
        step.outcome.text().contains("EMFILE"),
        "{}",
        step.outcome.text()
    );
    assert!(
        !step.table.snapshot.rows.is_empty(),
        "the panel still has its table"
    );
}
