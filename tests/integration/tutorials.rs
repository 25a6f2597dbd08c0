//! The built-in tutorials: every one that `sockplay --tutorial` lists runs unattended with every
//! check holding, and a walk at a prompt (driven here through piped stdin, where an empty line is
//! Enter) takes suggestions, answers a wrong command with "not yet" and a hint, survives garbage,
//! and serves a real HTTP client.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::support::{fixed_addresses, port_after, repo_path, step, Test};

/// The tutorial names `sockplay --tutorial` lists, in its order.
fn listed_tutorials() -> Vec<String> {
    let output = Test::new().arg("--tutorial").run();
    // Each tutorial is a line `  NAME  summary`, a long summary wrapped under itself; the header
    // and the closing words are not indented.
    let names: Vec<String> = output
        .stdout
        .lines()
        .filter(|line| line.starts_with("  ") && !line.starts_with("   "))
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_string)
        .collect();
    assert!(!names.is_empty(), "no tutorial listed\n{}", output.report());
    names
}

/// `count` empty lines: at a tutorial prompt each one is Enter, which runs the suggested command.
fn enters(count: usize) -> String {
    "\n".repeat(count)
}

#[test]
fn every_listed_tutorial_runs_unattended_and_every_check_holds() {
    for name in listed_tutorials() {
        let _addresses = fixed_addresses();
        let output = Test::new()
            .args(["--tutorial", &name, "--auto"])
            .stdout_contains("── step 1/")
            .stdout_lacks("\nnot yet.")
            .run();
        let last = output
            .stdout
            .lines()
            .rev()
            .find(|line| !line.trim().is_empty())
            .unwrap_or_default();
        assert!(
            last.contains(&format!("tutorial `{name}` done")),
            "{name}: the last line should say the tutorial is done, not {last:?}\n{}",
            output.report()
        );
    }
}

#[test]
fn the_list_names_every_tutorial_in_the_repository() {
    let listed = listed_tutorials();
    let dir = repo_path("scripts/tutorials");
    let files: Vec<String> = std::fs::read_dir(&dir)
        .expect("read scripts/tutorials")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "sock"))
        .filter_map(|path| path.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    assert!(
        files.iter().any(|f| f == "tcp-server-client"),
        "found the tutorials: {files:?}"
    );
    for file in files {
        assert!(
            listed.contains(&file),
            "`sockplay --tutorial` lists {file}: {listed:?}"
        );
    }
}

#[test]
fn an_unknown_tutorial_is_a_usage_error_that_suggests_the_nearest_name() {
    Test::new()
        .args(["--tutorial", "tcp-server-clint"])
        .status(2)
        .stderr_contains("no tutorial is called `tcp-server-clint`")
        .stderr_contains("did you mean `tcp-server-client`?")
        .run();
}

#[test]
fn enter_at_every_step_walks_the_fds_tutorial_to_the_end() {
    Test::new()
        .args(["--tutorial", "sockets-are-fds"])
        .stdin(enters(30))
        .stdout_contains("Every process starts with three file descriptors")
        .stdout_contains("── step 3/")
        .stdout_contains("  suggested: close first")
        .stdout_contains("socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3")
        .stdout_contains("open fds:")
        .stdout_contains("FD  NAME")
        .stdout_contains("✓ third is fd 3")
        .stdout_lacks("\nnot yet.")
        .stdout_contains("Tutorial `sockets-are-fds` done")
        .run();
}

#[test]
fn enter_at_every_step_walks_the_tcp_tutorial_through_fds_3_4_5_in_three_processes() {
    Test::new()
        .args(["--tutorial", "tcp-server-client"])
        .stdin(enters(30))
        .stdout_contains("A server and a client are not two kinds of socket.")
        .stdout_contains("── step 3/")
        .stdout_contains("client_a (pid ")
        .stdout_contains("✓ a is fd 3")
        .stdout_contains("✓ b is fd 3")
        .stdout_contains("main runs accept(3) in the background")
        .stdout_contains("accept(3) = 4  peer 127.0.0.1:")
        .stdout_contains("(queued)")
        .stdout_contains("accept(3) = 5  peer 127.0.0.1:")
        .stdout_contains("✓ fd 5 is CLOSE_WAIT")
        .stdout_contains("✓ the last recv returned EOF")
        .stdout_contains("✓ fd 4 is ESTABLISHED")
        .stdout_lacks("\nnot yet.")
        .stdout_contains("Tutorial `tcp-server-client` done")
        .run();
}

/// The state of `fd` in process `process`'s table in one JSON record (None: not open there).
fn state_in(record: &serde_json::Value, process: &str, fd: i64) -> Option<String> {
    let processes = record["processes"].as_array().expect("processes array");
    let table = processes
        .iter()
        .find(|p| p["name"] == process)
        .unwrap_or_else(|| panic!("no process {process} in {record:#}"));
    let row = table["fds"]
        .as_array()
        .expect("fds array")
        .iter()
        .find(|row| row["fd"] == fd)?;
    Some(row["state"].as_str().unwrap_or("-").to_string())
}

/// The `--json` records of replaying a tutorial's script.
fn replayed(name: &str) -> Vec<serde_json::Value> {
    let _addresses = fixed_addresses();
    Test::new()
        .arg("--json")
        .arg(repo_path(&format!("scripts/tutorials/{name}.sock")))
        .run()
        .json()
}

#[test]
fn in_the_tcp_tutorial_a_client_process_closing_leaves_the_servers_fd_in_close_wait() {
    let records = replayed("tcp-server-client");
    let closed = step(&records, "client_b: close b");
    assert_eq!(state_in(closed, "client_b", 3), None);
    assert_eq!(state_in(closed, "main", 5).as_deref(), Some("CLOSE_WAIT"));
    let done = step(&records, "close conn_b");
    assert_eq!(state_in(done, "main", 5), None);
    assert_eq!(state_in(done, "main", 4).as_deref(), Some("ESTABLISHED"));
    assert_eq!(
        state_in(done, "client_a", 3).as_deref(),
        Some("ESTABLISHED")
    );
}

#[test]
fn a_wrong_command_is_not_yet_with_a_hint_and_the_right_one_goes_on() {
    Test::new()
        .args(["--tutorial", "sockets-are-fds"])
        .stdin(format!("sleep 10\n{}", enters(10)))
        .stdout_contains("not yet.")
        .stdout_contains("hint: Run `socket tcp as first`")
        .stdout_contains("✓ first is fd 3")
        .stdout_contains("Tutorial `sockets-are-fds` done")
        .run();
}

#[test]
fn other_words_sent_in_the_tcp_tutorial_are_the_lessons_send_and_the_next_check_reads_them() {
    // Steps 1-13 set up both connections; at step 14 the server greets client A its own way.
    tcp_walk_with(14, "send conn_a \"hi\"\n", "")
        .stdout_contains("send(4, \"hi\", 2, MSG_NOSIGNAL) = 2")
        .stdout_contains("✓ the output contains \"send(4, \\\"hi\\\"\"")
        .stdout_contains("recv(3, 4096, 0) = 2  \"hi\"")
        .stdout_contains("client_a: expect output \"hi\"")
        .stdout_lacks("\nnot yet.")
        .stdout_lacks("welcome, client A\", 17")
        .stdout_contains("Tutorial `tcp-server-client` done: every step's checks held.")
        .run();
}

#[test]
fn a_send_on_the_listener_is_not_yet_with_a_hint_that_skip_is_there() {
    tcp_walk_with(14, "send srv \"welcome, client A\"\n", "")
        .stdout_contains("send(3, \"welcome, client A\"")
        .stdout_contains("\nnot yet. (`skip` lets sockplay do the step and go on)")
        .stdout_contains("hint: The server speaks on client A's accepted socket")
        .stdout_contains("✓ the output contains \"welcome, client A\"")
        .stdout_contains("Tutorial `tcp-server-client` done: every step's checks held.")
        .run();
}

#[test]
fn bob_sending_yo_in_the_tcp_tutorial_is_what_the_server_reads_next() {
    // Client B is `bob` (step 9); at step 16 bob sends "yo", and step 17 reads exactly that.
    let lines = format!("spawn bob\n{}bob: send b \"yo\"\n", enters(6));
    tcp_walk_with(9, &lines, "")
        .stdout_contains("send(3, \"yo\", 2, MSG_NOSIGNAL) = 2")
        .stdout_contains("recv(5, 4096, 0) = 2  \"yo\"")
        .stdout_contains("expect data \"yo\"")
        .stdout_lacks("\nnot yet.")
        .stdout_lacks("yohello from B")
        .stdout_contains("Tutorial `tcp-server-client` done: every step's checks held.")
        .run();
}

#[test]
fn pong_sent_in_place_of_ping_in_the_select_tutorial_is_the_five_bytes_select_reports() {
    Test::new()
        .args(["--tutorial", "select-epoll"])
        .stdin(format!(
            "{}client: send c \"pong!\"\n{}",
            enters(10),
            enters(10)
        ))
        .stdout_contains("send(3, \"pong!\", 5, MSG_NOSIGNAL) = 5")
        .stdout_contains("✓ the output contains \"= 5\"")
        .stdout_contains("✓ the output contains \"fd 4 (conn) is readable: 5 bytes waiting\"")
        .stdout_lacks("9 bytes waiting")
        .stdout_lacks("\nnot yet.")
        .stdout_contains("Tutorial `select-epoll` done: every step's checks held.")
        .run();
}

#[test]
fn after_a_skip_the_ending_says_which_steps_were_skipped() {
    let output = tcp_walk_with(3, "skip\n", "")
        .stdout_contains("(sockplay runs the step for you, and goes on whatever its checks say)")
        .stdout_contains("Tutorial `tcp-server-client` done: 1 of 21 steps skipped (step 3);")
        .stdout_lacks("done: every step's checks held")
        .run();
    assert!(
        output.stdout.contains("[3/21] sockplay> listen srv 5"),
        "{}",
        output.report()
    );
    Test::new()
        .args(["--tutorial", "select-epoll"])
        .stdin(format!("{}skip\n\nskip\n{}", enters(10), enters(10)))
        .stdout_contains("Tutorial `select-epoll` done: 2 of 16 steps skipped (steps 11 and 13);")
        .stdout_lacks("done: every step's checks held")
        .run();
}

#[test]
fn hints_carry_the_learners_names_as_suggestions_do() {
    tcp_walk_with(9, "spawn bob\nsleep 1\n", "")
        .stdout_contains("hint: Type `bob: socket tcp as b`.")
        .stdout_lacks("`client_b: socket tcp as b`")
        .stdout_contains("Tutorial `tcp-server-client` done")
        .run();
    // forking-server: the listener is `L`, the client process `cli`.
    Test::new()
        .args(["--tutorial", "forking-server"])
        .stdin(format!(
            "socket tcp as L\n\n\nspawn cli\nsleep 1\n\n\nsleep 1\n{}",
            enters(20)
        ))
        .stdout_contains("hint: `cli: socket tcp as c`.")
        .stdout_contains("hint: `accept L as conn`.")
        .stdout_lacks("hint: `accept srv as conn`")
        .stdout_contains("Tutorial `forking-server` done: every step's checks held.")
        .run();
}

#[test]
fn set_at_a_step_is_free_like_help() {
    // forking-server step 7 is the accept; `set panel compact` there does not take it.
    let output = Test::new()
        .args(["--tutorial", "forking-server"])
        .stdin(format!("{}set panel compact\n{}", enters(6), enters(20)))
        .stdout_contains("the panel leaves out fds 0, 1 and 2 while they are unchanged")
        .stdout_lacks("\nnot yet.")
        .stdout_contains("Tutorial `forking-server` done: every step's checks held.")
        .run();
    let set = output.stdout.find("the panel leaves out").expect("set ran");
    let accepted = output.stdout.find("accept(3) = 4").expect("accept ran");
    assert!(set < accepted, "{}", output.report());
}

#[test]
fn after_use_cli_the_lessons_commands_for_main_say_main_and_the_walk_finishes() {
    // forking-server with the listener `L` and the client `cli`; at step 5 the learner moves to
    // cli, and stays there.
    Test::new()
        .args(["--tutorial", "forking-server"])
        .stdin(format!(
            "socket tcp as L\n\n\nspawn cli\nuse cli\nsocket tcp as c\n{}",
            enters(20)
        ))
        .stdout_contains("cli (pid ")
        .stdout_contains("[5/17] sockplay[cli]> socket tcp as c")
        .stdout_contains("  suggested: main: accept L as conn")
        .stdout_contains("[7/17] sockplay[cli]> main: accept L as conn")
        .stdout_contains("sockplay[cli]> main: expect fd conn 4")
        .stdout_contains("✓ conn is fd 4")
        .stdout_contains("[15/17] sockplay[cli]> main: close conn")
        .stdout_lacks("no socket is named")
        .stdout_lacks("\nnot yet.")
        .stdout_contains("Tutorial `forking-server` done: every step's checks held.")
        .run();
}

#[test]
fn the_fd_limit_close_wait_emfile_lowered_is_given_back_when_the_learner_goes_on() {
    Test::new()
        .args(["--tutorial", "close-wait-emfile"])
        .stdin(format!("{}socket tcp as mine\n", enters(20)))
        .stdout_contains("Tutorial `close-wait-emfile` done: every step's checks held.")
        .stdout_contains("The lesson lowered main's fd limit; sockplay gives back the")
        .stdout_contains("setrlimit(RLIMIT_NOFILE, {cur=")
        .stdout_contains("socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 6")
        .stdout_lacks("EMFILE: no socket")
        .run();
}

#[test]
fn a_shell_line_in_a_piped_walk_is_refused_as_a_scripts_would_be() {
    Test::new()
        .args(["--tutorial", "sockets-are-fds"])
        .stdin(format!("!echo from-the-shell\n{}", enters(10)))
        .stdout_lacks("\nfrom-the-shell")
        .stdout_contains("a script only with --allow-shell")
        .stdout_contains("Tutorial `sockets-are-fds` done")
        .run();
}

#[test]
fn quit_leaves_a_walked_tutorial_with_exit_0() {
    Test::new()
        .args(["--tutorial", "sockets-are-fds"])
        .stdin("\nquit\n\n\n\n\n")
        .stdout_contains("✓ first is fd 3")
        .stdout_contains("Left the tutorial at step 2/")
        .stdout_lacks("second is fd 4")
        .stdout_lacks("Tutorial `sockets-are-fds` done")
        .run();
}

#[test]
fn garbage_at_a_tutorial_prompt_is_an_error_and_the_walk_goes_on() {
    let mut stdin = b"frobnicate\nsend first \"abc\n\0\0\0\n".to_vec();
    stdin.extend_from_slice(enters(10).as_bytes());
    let output = Test::new()
        .args(["--tutorial", "sockets-are-fds"])
        .stdin(stdin)
        .stdout_contains("error: unknown command `frobnicate`")
        .stdout_contains("error: unterminated")
        .stdout_contains("hint: the suggested command is `socket tcp as first`")
        .stdout_contains("Tutorial `sockets-are-fds` done")
        .run();
    assert_eq!(
        output.stdout.matches("error: ").count(),
        3,
        "one error per garbage line\n{}",
        output.report()
    );
}

#[test]
fn a_line_that_is_not_utf8_at_a_tutorial_prompt_does_not_panic() {
    Test::new()
        .args(["--tutorial", "sockets-are-fds"])
        .stdin(b"\xff\xfe\n\n\n\n\n\n\n".as_slice())
        .run_unchecked();
}

#[test]
fn walked_http_by_hand_answers_a_real_client() {
    // A std::net client plays curl: it reads the address from the narration, as the learner does.
    let mut sockplay = Test::new()
        .args(["--tutorial", "http-by-hand"])
        .stdin(enters(30))
        .stdout_contains("── step 4/")
        .stdout_contains("✓ the output contains \"GET / HTTP/1.1\"")
        .stdout_lacks("as curl")
        .stdout_lacks("\nnot yet.")
        .stdout_contains("Tutorial `http-by-hand` done")
        .spawn();
    let port = port_after(&sockplay.wait_for_line("curl -v http://"), "http://");
    let mut client = TcpStream::connect(("127.0.0.1", port)).expect("connect to the tutorial");
    client
        .set_read_timeout(Some(Duration::from_secs(15)))
        .expect("read timeout");
    let request = format!(
        "GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: sockplay-test/1\r\nAccept: */*\r\n\r\n"
    );
    client
        .write_all(request.as_bytes())
        .expect("send the request");
    let mut response = Vec::new();
    client
        .read_to_end(&mut response)
        .expect("read the response until the server closes");
    let response = String::from_utf8_lossy(&response);
    assert!(
        response.starts_with("HTTP/1.1 200 OK\r\n"),
        "status line: {response:?}"
    );
    assert!(
        response.ends_with("\r\n\r\nhello from sockplay\n"),
        "body after the headers: {response:?}"
    );
    sockplay.finish();
}

#[test]
fn in_the_forking_server_tutorial_the_childs_close_sends_no_fin_while_the_parent_holds_a_copy() {
    let records = replayed("forking-server");
    let child_closed = step(&records, "child: close conn");
    assert_eq!(state_in(child_closed, "child", 4), None);
    assert_eq!(
        state_in(child_closed, "main", 4).as_deref(),
        Some("ESTABLISHED")
    );
    assert_eq!(
        state_in(child_closed, "client", 3).as_deref(),
        Some("ESTABLISHED")
    );
    let waited = step(&records, "client: select read c timeout 500");
    assert_eq!(
        waited["output"]
            .as_str()
            .map(|o| o.contains("= 0 (Timeout)")),
        Some(true),
        "half a second brings the client nothing: {waited:#}"
    );
    let eof = step(&records, "wait client");
    assert!(
        eof["output"]
            .as_str()
            .is_some_and(|o| o.starts_with("recv(3, 4096, 0) = 0")),
        "the parent's close gives the client EOF: {eof:#}"
    );
    assert_eq!(state_in(eof, "main", 4), None);
    assert_eq!(state_in(eof, "client", 3).as_deref(), Some("CLOSE_WAIT"));
}

#[test]
fn in_the_hand_a_socket_tutorial_only_an_inheritable_fd_reaches_a_spawned_process_and_a_sent_one_takes_a_new_number(
) {
    let records = replayed("hand-a-socket");
    assert_eq!(state_in(step(&records, "spawn plain"), "plain", 3), None);
    assert_eq!(
        state_in(step(&records, "spawn heir"), "heir", 3).as_deref(),
        Some("LISTEN")
    );
    let received = step(&records, "worker: recvfd 5 as conn");
    assert_eq!(
        state_in(received, "worker", 3).as_deref(),
        Some("ESTABLISHED")
    );
    assert_eq!(
        state_in(received, "main", 5).as_deref(),
        Some("ESTABLISHED")
    );
    let handed = step(&records, "close conn");
    assert_eq!(state_in(handed, "main", 5), None);
    assert_eq!(
        state_in(handed, "client", 3).as_deref(),
        Some("ESTABLISHED")
    );
    let served = step(&records, "client: recv c");
    assert_eq!(
        served["output"].as_str(),
        Some("recv(3, 4096, 0) = 20  \"served by the worker\"")
    );
}

#[test]
fn in_the_select_tutorial_the_server_blocks_in_select_until_the_client_process_connects() {
    let records = replayed("select-epoll");
    let started = step(&records, "select read srv timeout 5000 &");
    let main = started["processes"]
        .as_array()
        .expect("processes array")
        .iter()
        .find(|p| p["name"] == "main")
        .expect("main is listed");
    assert_eq!(main["state"], "blocked in select", "{started:#}");
    let waited = step(&records, "wait");
    assert!(
        waited["output"]
            .as_str()
            .is_some_and(|o| o.contains("= 1 (in [3])")),
        "select returned with the listener ready: {waited:#}"
    );
    assert_eq!(
        state_in(waited, "client", 3).as_deref(),
        Some("ESTABLISHED")
    );
}

/// The tcp-server-client walk with `line` typed at step `step` (1-based) and Enter everywhere
/// else, then `after` at the prompt the finished tutorial leaves.
fn tcp_walk_with(step: usize, lines: &str, after: &str) -> Test {
    Test::new()
        .args(["--tutorial", "tcp-server-client"])
        .stdin(format!("{}{lines}{}{after}", enters(step - 1), enters(25)))
}

#[test]
fn accept_3_instead_of_accept_srv_as_conn_b_lets_the_tcp_tutorial_finish() {
    tcp_walk_with(13, "accept 3\n", "")
        .stdout_contains("(sockplay names it `conn_b`, as the next steps call it)")
        .stdout_contains("accept(3) = 5  peer 127.0.0.1:")
        .stdout_contains("✓ conn_b is fd 5")
        .stdout_contains("✓ fd 5 is CLOSE_WAIT")
        .stdout_lacks("\nnot yet.")
        .stdout_contains("Tutorial `tcp-server-client` done")
        .run();
}

#[test]
fn a_background_accept_without_a_name_gets_the_lessons_name_when_it_returns() {
    tcp_walk_with(6, "accept 3 &\n", "")
        .stdout_contains("(sockplay names it `conn_a`, as the next steps call it)")
        .stdout_contains("✓ conn_a is fd 4")
        .stdout_lacks("\nnot yet.")
        .stdout_contains("Tutorial `tcp-server-client` done")
        .run();
}

#[test]
fn the_learners_own_names_respell_the_later_steps_and_checks() {
    tcp_walk_with(1, "socket inet stream as server\n", "")
        .stdout_contains("✓ server is fd 3")
        .stdout_contains("  suggested: bind server 127.0.0.1:0")
        .stdout_contains("  suggested: accept server as conn_a &")
        .stdout_contains("  suggested: client_a: connect a $server")
        .stdout_lacks("\nnot yet.")
        .stdout_contains("Tutorial `tcp-server-client` done")
        .run();
}

#[test]
fn a_message_read_in_two_recvs_is_the_byte_stream_lesson_not_a_failure() {
    tcp_walk_with(17, "recv conn_b 5\nrecv conn_b\n", "")
        .stdout_contains("recv(5, 5, 0) = 5  \"hello\"")
        .stdout_contains("so far \"hello\" of \"hello from B\": the rest waits in the receive queue; `recv` again to read it")
        .stdout_contains("recv(5, 4096, 0) = 7  \" from B\"")
        .stdout_contains("✓ received \"hello from B\" in 2 calls: TCP is a byte stream")
        .stdout_lacks("hint:")
        .stdout_contains("Tutorial `tcp-server-client` done")
        .run();
}

#[test]
fn help_fds_ss_and_ps_at_a_step_look_around_without_taking_it() {
    let output = tcp_walk_with(2, "help bind\nfds\nss -t\nps\n", "")
        .stdout_contains("usage: bind SOCK ADDR")
        .stdout_contains("* main")
        .stdout_lacks("\nnot yet.")
        .stdout_contains("Tutorial `tcp-server-client` done")
        .run();
    // Still step 2 after looking around: its suggestion ran next.
    let looked = output.stdout.find("* main").expect("ps ran at step 2");
    let bound = output
        .stdout
        .find("bind(3, 127.0.0.1:0) = 0")
        .expect("bind ran");
    assert!(looked < bound, "{}", output.report());
}

#[test]
fn a_failed_state_check_in_a_walk_waits_a_second_not_the_whole_timeout() {
    // At step 3 (listen) the learner sleeps instead: fd 3 never listens.
    tcp_walk_with(3, "sleep 1\n", "")
        .args(["--timeout", "30"])
        .stdout_contains("expected fd 3 in state LISTEN, got CLOSE (waited 1 s)")
        .stdout_contains("\nnot yet.")
        .stdout_contains("Tutorial `tcp-server-client` done")
        .run();
}

#[test]
fn ss_in_a_tutorial_lists_the_tutorials_sockets_only() {
    let foreign = std::net::TcpListener::bind("127.0.0.1:0").expect("a listener of our own");
    let port = foreign.local_addr().expect("its address").port();
    let output = tcp_walk_with(21, "ss -t -a\n", "")
        .stdout_contains(
            "(in a tutorial `ss` lists the tutorial's sockets only; at the prompt, every socket)",
        )
        .stdout_lacks(format!("127.0.0.1:{port} "))
        .run();
    // The lesson's TIME_WAIT, from client B's closed fd 3, is listed (ss's rows start with their
    // Netid; the panel's never do).
    assert!(
        output
            .stdout
            .lines()
            .any(|line| line.starts_with("tcp ") && line.contains("TIME_WAIT")),
        "{}",
        output.report()
    );
    drop(foreign);
}

#[test]
fn a_finished_tutorial_leaves_its_sockets_at_the_prompt() {
    tcp_walk_with(22, "", "client_a: send a \"still here\"\nrecv conn_a\n")
        .stdout_contains("Tutorial `tcp-server-client` done")
        .stdout_contains("Its sockets and processes are still here: go on at the prompt")
        .stdout_contains("recv(4, 4096, 0) = 10  \"still here\"")
        .run();
}

#[test]
fn a_variant_that_made_the_steps_call_is_not_told_to_make_it_again_and_skip_keeps_it() {
    tcp_walk_with(2, "bind srv 0.0.0.0:0\nskip\n", "")
        .stdout_contains("bound to 0.0.0.0:")
        .stdout_contains("hint: your `bind` made this step's call already")
        .stdout_contains("(going on with your sockets as they are)")
        .stdout_lacks("bind(3, 127.0.0.1:0)")
        .stdout_contains("Tutorial `tcp-server-client` done")
        .run();
}

/// The select-epoll walk with `lines` typed at step `step` (1-based) and Enter everywhere else.
fn select_walk_with(step: usize, lines: &str) -> Test {
    Test::new()
        .args(["--tutorial", "select-epoll", "--panel", "off"])
        .stdin(format!("{}{lines}{}", enters(step - 1), enters(20)))
}

#[test]
fn accept_srv_as_c2_in_the_select_tutorial_is_the_name_the_select_and_epoll_checks_read() {
    // Step 10 names the connection `c2`, step 11 sends 6 bytes in place of "ping".
    select_walk_with(10, "accept srv as c2\nclient: send c \"hello!\"\n")
        .stdout_contains("suggested: select read srv c2 timeout 1000")
        .stdout_contains("✓ the output contains \"fd 4 (c2) is readable: 6 bytes waiting\"")
        .stdout_contains("fd 4 has 6 bytes, fd 3 has no new client")
        .stdout_contains("✓ the output contains \"fd 5 (ep) now watches fd 4 (c2) for EPOLLIN\"")
        .stdout_contains("✓ the output contains \"fd 4 (c2): EPOLLIN\"")
        .stdout_contains("6 bytes stay")
        .stdout_lacks("(conn)")
        .stdout_lacks("4 bytes")
        .stdout_lacks("\nnot yet.")
        .stdout_contains("Tutorial `select-epoll` done: every step's checks held.")
        .run();
}

#[test]
fn a_socket_of_the_learners_own_in_the_select_tutorial_moves_the_fd_numbers_the_checks_read() {
    // An extra socket at step 10 takes fd 4: the connection is fd 5 and the epoll fd 6.
    select_walk_with(10, "socket tcp as extra\n\n")
        .stdout_contains("accept(3) = 5")
        .stdout_contains(
            "✓ conn is fd 5, where the lesson has fd 4: fds 0 to 4 are all taken in your table",
        )
        .stdout_contains("✓ the output contains \"= 1 (in [5])\"")
        .stdout_contains("✓ the output contains \"fd 5 (conn) is readable: 4 bytes waiting\"")
        .stdout_contains("✓ the output contains \"epoll_create1(EPOLL_CLOEXEC) = 6\"")
        .stdout_contains("✓ the output contains \"fd 6 (ep) now watches fd 5 (conn) for EPOLLIN\"")
        .stdout_contains("✓ the output contains \"fd 5 (conn): EPOLLIN\"")
        .stdout_contains("Tutorial `select-epoll` done: every step's checks held.")
        .run();
}

/// The forking-server walk with `lines` typed at step `step` (1-based) and Enter everywhere else.
fn forking_walk_with(step: usize, lines: &str) -> Test {
    Test::new()
        .args(["--tutorial", "forking-server", "--panel", "off"])
        .stdin(format!("{}{lines}{}", enters(step - 1), enters(20)))
}

#[test]
fn child_sending_on_fd_4_by_number_is_the_lessons_send_on_conn() {
    forking_walk_with(10, "child: send 4 \"other bytes here\"\n")
        .stdout_contains("send(4, \"other bytes here\", 16, MSG_NOSIGNAL) = 16")
        .stdout_contains("✓ the output contains \"= 16\"")
        .stdout_contains("client: expect data \"other bytes here\"")
        .stdout_lacks("\nnot yet.")
        .stdout_lacks("ETIMEDOUT")
        .stdout_contains("Tutorial `forking-server` done: every step's checks held.")
        .run();
}

#[test]
fn bytes_of_two_sends_read_in_one_recv_are_the_byte_stream_and_the_walk_goes_on() {
    // The parent sends on its copy, the check (the child's send) does not hold, the hint's send
    // follows: the client's one recv returns both.
    forking_walk_with(10, "send conn \"x\"\n")
        .stdout_contains("hint: `child: send conn \"hello from the child\"`.")
        .stdout_contains("recv(3, 4096, 0) = 21  \"xhello from the child\"")
        .stdout_contains("✓ received \"xhello from the child\": the bytes of 2 sends in one `recv`, TCP is a byte stream")
        .stdout_lacks("ETIMEDOUT")
        .stdout_contains("Tutorial `forking-server` done: every step's checks held.")
        .run();
}

#[test]
fn enter_after_a_call_that_cannot_be_made_anew_goes_on_instead_of_running_it_again() {
    // Bound to another address, the step's check does not hold; a second bind fails with
    // EINVAL: Enter goes on, with the socket as it is.
    tcp_walk_with(2, "bind srv 0.0.0.0:0\n\n", "")
        .stdout_contains("hint: your `bind` made this step's call already")
        .stdout_contains("  suggested: skip\n")
        .stdout_contains("(going on with your sockets as they are)")
        .stdout_lacks("bind(3, 127.0.0.1:0)")
        .stdout_contains("Tutorial `tcp-server-client` done: 1 of 21 steps skipped (step 2)")
        .run();
}

#[test]
fn narration_quotes_python_with_the_learners_socket_names() {
    tcp_walk_with(5, "client_a: socket tcp as cli\n", "")
        .stdout_contains("`cli.connect(addr)`")
        .stdout_contains("`cli.recv(1024)`")
        .stdout_lacks("`a.connect(addr)`")
        .stdout_contains("Tutorial `tcp-server-client` done: every step's checks held.")
        .run();
}

#[test]
fn a_suggestion_that_ran_and_missed_is_not_offered_again_and_the_walk_goes_on() {
    // time-wait-reuseaddr step 8 suggests `shutdown conn wr`; the learner closed conn instead
    // (the same FIN), so the suggestion can only fail: after it ran and missed once, Enter goes
    // on with the sockets as they are rather than running it for ever.
    Test::new()
        .args(["--tutorial", "time-wait-reuseaddr", "--panel", "off"])
        .stdin(format!("{}close conn\n{}", enters(7), enters(30)))
        .stdout_contains("hint: the suggested command ran, and this step")
        .stdout_contains("  suggested: skip\n")
        .stdout_contains("── step 9/15 ──")
        .stdout_contains("Tutorial `time-wait-reuseaddr` done")
        .run();
}

#[test]
fn listen_without_the_lessons_backlog_is_not_yet_and_the_suggestion_sets_it_anew() {
    // listen(2) on a listener sets its backlog again (Linux), so `listen srv 1` after the
    // learner's `listen srv` is the step, and the full queue of the later steps is real.
    Test::new()
        .args(["--tutorial", "full-backlog", "--panel", "off"])
        .stdin(format!("{}listen srv\n{}", enters(2), enters(30)))
        .stdout_contains("listen(3, 128) = 0")
        .stdout_contains("listen(3, 1) = 0")
        .stdout_contains("Tutorial `full-backlog` done: every step's checks held.")
        .run();
}
