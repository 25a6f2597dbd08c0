//! `--json` (SPEC §8): one object per executed command and nothing else on stdout, with exactly the
//! documented keys, and the seeds' story told in it.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::support::{fd_row, repo_path, Test};

const STEP_KEYS: [&str; 8] = [
    "line",
    "input",
    "ok",
    "output",
    "error",
    "fds",
    "process",
    "processes",
];
const PROCESS_KEYS: [&str; 5] = ["name", "pid", "parent", "state", "fds"];
/// The keys every fd has (`null` where they do not apply).
const FD_KEYS: [&str; 11] = [
    "fd", "name", "kind", "family", "type", "local", "remote", "state", "recv_q", "send_q", "inode",
];
/// The keys an fd has only when they say something: a non-socket's target, a detached handle, a
/// dual-stack socket, the fds it relates to, an epoll fd's interest list.
const FD_KEYS_WHEN_SO: [&str; 6] = [
    "target",
    "detached",
    "dual_stack",
    "peers",
    "twins",
    "watches",
];

/// Keys present only when they have something to say: a record's and a process's connections
/// without an fd and sockplay's own fds (absent once a process ended), a datagram socket's next
/// datagram.
const OPTIONAL_KEYS: [&str; 3] = ["without_fd", "own", "next_datagram"];

/// The keys of an object, but the optional ones.
fn keys(value: &Value) -> BTreeSet<&str> {
    value
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .filter(|key| !OPTIONAL_KEYS.contains(key))
        .collect()
}

/// Checks the shape of every record: keys, types, and the fd objects.
fn assert_well_formed(steps: &[Value]) {
    for step in steps {
        assert_eq!(keys(step), STEP_KEYS.into_iter().collect(), "{step}");
        assert!(step["line"].is_u64(), "{step}");
        assert!(step["input"].is_string(), "{step}");
        assert!(step["output"].is_string(), "{step}");
        assert!(step["process"].is_string(), "{step}");
        let processes = step["processes"].as_array().expect("processes is an array");
        assert_eq!(processes[0]["name"], "main", "{step}");
        for process in processes {
            assert_eq!(
                keys(process),
                PROCESS_KEYS.into_iter().collect(),
                "{process}"
            );
            assert!(process["pid"].is_i64(), "{process}");
            assert!(process["fds"].is_array(), "{process}");
        }
        match step["ok"].as_bool() {
            Some(true) => assert!(step["error"].is_null(), "{step}"),
            Some(false) => {
                assert_eq!(
                    keys(&step["error"]),
                    ["errno", "message"].into_iter().collect()
                );
                assert!(step["error"]["message"].is_string(), "{step}");
            }
            None => panic!("ok is a bool: {step}"),
        }
        for fd in step["fds"].as_array().expect("fds is an array") {
            let has = keys(fd);
            assert!(FD_KEYS.iter().all(|key| has.contains(key)), "{fd}");
            assert!(
                has.iter()
                    .all(|key| FD_KEYS.contains(key) || FD_KEYS_WHEN_SO.contains(key)),
                "{fd}"
            );
            let kind = fd["kind"].as_str().expect("kind is a string");
            assert!(
                ["socket", "tty", "pipe", "file", "other"].contains(&kind),
                "{fd}"
            );
            if kind != "socket" {
                for key in ["family", "type", "local", "remote", "state"] {
                    assert!(fd[key].is_null(), "{key} of a non-socket is null: {fd}");
                }
                assert!(fd["target"].is_string(), "a non-socket's target: {fd}");
            } else {
                assert!(!has.contains("target"), "a socket has no link target: {fd}");
            }
            assert!(fd["inode"].is_u64(), "{fd}");
            for key in ["detached", "dual_stack"] {
                assert!(fd.get(key).is_none_or(|v| *v == true), "{key}: {fd}");
            }
            for key in ["peers", "twins", "without_fd"] {
                assert!(
                    fd.get(key)
                        .is_none_or(|v| v.as_array().is_some_and(|a| !a.is_empty())),
                    "{key} is absent or a list of something: {fd}"
                );
            }
        }
    }
}

#[test]
fn json_prints_one_object_per_executed_command_and_nothing_else() {
    let output = Test::new()
        .arg("--json")
        .script("# comment\nsocket tcp as srv\n\nbind srv :0\nlisten srv\nexpect state srv LISTEN\nfds\nhelp\n")
        .run();
    let steps = output.json();
    assert_well_formed(&steps);
    let lines: Vec<_> = steps.iter().map(|s| s["line"].as_u64()).collect();
    assert_eq!(
        lines,
        [2, 4, 5, 6, 7, 8].map(Some),
        "one record per command, numbered by script line\n{}",
        output.report()
    );
    assert_eq!(steps[0]["input"], "socket tcp as srv");
    assert_eq!(
        steps[0]["output"],
        "socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3"
    );
    assert!(!output.stdout.contains("sockplay>"), "no echo in JSON mode");
    for step in steps.iter().filter(|s| s["input"] != "fds") {
        assert!(
            !step["output"].as_str().unwrap_or("").contains("open fds:"),
            "no panel in JSON mode: {step}"
        );
    }
}

#[test]
fn json_lists_stdin_stdout_and_stderr_as_what_they_are() {
    let steps = Test::new()
        .args(["--json", "-"])
        .stdin("fds\n")
        .run()
        .json();
    assert_well_formed(&steps);
    let step = &steps[0];
    for fd in [0, 1, 2] {
        assert_eq!(fd_row(step, fd).expect("std fd")["kind"], "pipe", "{step}");
    }
    // sockplay's own fds are named, never rows: the record's and the process's.
    let whats: Vec<&str> = step["own"]
        .as_array()
        .expect("own")
        .iter()
        .filter_map(|own| own["what"].as_str())
        .collect();
    assert_eq!(whats, ["control channel", "sock_diag"], "{step}");
    assert_eq!(step["own"], step["processes"][0]["own"]);
}

#[test]
fn json_errors_carry_the_errno_name_and_a_message() {
    let output = Test::new()
        .arg("--json")
        .script("socket tcp as a\nbind a :0\nsocket tcp as b\nbind b $a\n")
        .status(1)
        .stderr_contains("test.sock:4: EADDRINUSE")
        .run();
    let steps = output.json();
    assert_well_formed(&steps);
    assert_eq!(steps.len(), 4);
    let failed = &steps[3];
    assert_eq!(failed["ok"], false);
    assert_eq!(failed["error"]["errno"], "EADDRINUSE");
    assert!(failed["error"]["message"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));
    assert!(failed["output"]
        .as_str()
        .is_some_and(|o| o.contains("= -1 EADDRINUSE")));
}

#[test]
fn json_usage_failures_have_a_null_errno() {
    let steps = Test::new()
        .arg("--json")
        .script("socket tcp as srv\nclose nosuch\n")
        .status(1)
        .run()
        .json();
    assert_well_formed(&steps);
    let failed = steps.last().expect("a record");
    assert_eq!(failed["ok"], false);
    assert_eq!(failed["error"]["errno"], Value::Null);
    assert!(failed["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("nosuch")));
}

#[test]
fn json_excused_failures_are_reported_and_the_replay_goes_on() {
    let steps = Test::new()
        .arg("--json")
        .script("close 99\nexpect error EBADF\nsocket udp\n")
        .run()
        .json();
    assert_well_formed(&steps);
    assert_eq!(steps.len(), 3);
    assert_eq!(steps[0]["error"]["errno"], "EBADF");
    assert_eq!(steps[1]["ok"], true);
    assert_eq!(
        steps[2]["output"],
        "socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP) = 3"
    );
}

#[test]
fn json_syntax_errors_print_nothing_on_stdout() {
    Test::new()
        .arg("--json")
        .script("socket tcp\nlisen 3\n")
        .status(2)
        .stdout_is("")
        .stderr_contains("test.sock:2:1:")
        .run();
}

#[test]
fn json_tells_the_seeds_story_with_fds_3_4_5_at_the_right_lines() {
    let path = repo_path("scripts/examples/tcp-server-client.sock");
    let text = std::fs::read_to_string(&path).expect("read the seeds' script");
    let line_of = |input: &str| {
        text.lines()
            .position(|l| l.trim() == input)
            .map(|i| i as u64 + 1)
            .unwrap_or_else(|| panic!("`{input}` is in the script"))
    };
    let steps = Test::new().arg("--json").arg(&path).run().json();
    assert_well_formed(&steps);
    let step = |input: &str| {
        let found = steps
            .iter()
            .find(|s| s["input"] == input)
            .unwrap_or_else(|| panic!("a record for `{input}`"));
        assert_eq!(found["line"], line_of(input), "{found}");
        assert_eq!(found["ok"], true, "{found}");
        found
    };
    let state = |step: &Value, fd: i64| {
        fd_row(step, fd).unwrap_or_else(|| panic!("fd {fd} in {step}"))["state"].clone()
    };

    let listen = step("listen srv 5");
    let srv = fd_row(listen, 3).expect("fd 3");
    assert_eq!(
        (&srv["name"], &srv["state"], &srv["recv_q"], &srv["send_q"]),
        (&"srv".into(), &"LISTEN".into(), &0.into(), &5.into()),
        "the listener's SEND-Q is its backlog"
    );

    let connect = step("connect cli $srv");
    assert_eq!(state(connect, 4), "ESTABLISHED");
    assert_eq!(
        fd_row(connect, 3).expect("fd 3")["recv_q"],
        1,
        "one connection queued"
    );
    assert!(fd_row(connect, 5).is_none(), "no fd 5 before accept");

    let accept = step("accept srv as conn");
    assert!(accept["output"]
        .as_str()
        .is_some_and(|o| o.starts_with("accept(3) = 5  peer 127.0.0.1:")));
    let conn = fd_row(accept, 5).expect("fd 5");
    assert_eq!(
        (&conn["name"], &conn["state"]),
        (&"conn".into(), &"ESTABLISHED".into())
    );
    assert_eq!(
        fd_row(accept, 3).expect("fd 3")["recv_q"],
        0,
        "the queue emptied"
    );

    assert_eq!(state(step("expect state conn CLOSE_WAIT"), 5), "CLOSE_WAIT");
    assert!(
        fd_row(step("close cli"), 4).is_none(),
        "fd 4 is gone once closed"
    );
    assert!(fd_row(step("close conn"), 5).is_none());
    assert!(fd_row(step("close srv"), 3).is_none());
}
