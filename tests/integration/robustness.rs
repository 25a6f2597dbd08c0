//! Hardening: no fd leaks, bounded memory against a flooding peer, clean exits when stdout goes
//! away, and no blocking call outliving its timeout.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::{listener, unique_name, Test};

/// The fds of a JSON step, as (fd, kind, family, type, state), for comparing whole tables.
fn table(step: &serde_json::Value) -> Vec<String> {
    step["fds"]
        .as_array()
        .expect("fds")
        .iter()
        .map(|row| {
            format!(
                "{} {} {} {} {}",
                row["fd"], row["kind"], row["family"], row["type"], row["state"]
            )
        })
        .collect()
}

#[test]
fn opening_and_closing_300_sockets_of_every_kind_leaves_the_table_as_it_began() {
    let abstract_name = unique_name("leak");
    let mut script = String::from("fds\nsocket tcp as srv\nbind srv 127.0.0.1:0\nlisten srv 64\n");
    let mut names = vec!["srv".to_string()];
    for i in 0..28 {
        for (kind, name) in [
            ("tcp", format!("t{i}")),
            ("udp", format!("u{i}")),
            ("inet6 stream", format!("s6_{i}")),
            ("unix stream", format!("us{i}")),
            ("unix dgram", format!("ud{i}")),
            ("unix seqpacket", format!("usp{i}")),
        ] {
            script.push_str(&format!("socket {kind} as {name}\n"));
            names.push(name);
        }
        script.push_str(&format!(
            "socketpair unix stream as pa{i} pb{i}\ndup pa{i} as pd{i}\nepoll create as ep{i}\n"
        ));
        script.push_str(&format!("epoll add ep{i} pa{i} in\n"));
        script.push_str(&format!("connect t{i} $srv\naccept srv as acc{i}\n"));
        script.push_str(&format!("bind ud{i} @{abstract_name}-{i}\n"));
        names.extend([
            format!("pa{i}"),
            format!("pb{i}"),
            format!("pd{i}"),
            format!("ep{i}"),
            format!("acc{i}"),
        ]);
    }
    script.push_str("fds\n");
    for name in names.iter().rev() {
        script.push_str(&format!("close {name}\n"));
    }
    script.push_str("fds\n");
    // About 600 records of 300 fds each, every fd with its relations: tens of megabytes of JSON,
    // which a debug build on a busy machine takes a while to write.
    let output = Test::new()
        .arg("--json")
        .script(&script)
        .time_limit(Duration::from_secs(60))
        .run();
    let steps = output.json();
    let fds_steps: Vec<&serde_json::Value> = steps.iter().filter(|s| s["input"] == "fds").collect();
    let (first, busiest, last) = (fds_steps[0], fds_steps[1], fds_steps[2]);
    assert!(
        busiest["fds"].as_array().expect("fds").len() >= 300,
        "the script held 300 or more sockets at once: {}",
        busiest["fds"].as_array().map_or(0, Vec::len)
    );
    assert_eq!(table(last), table(first), "the table ends as it began");
}

#[test]
fn a_flooding_peer_cannot_fill_memory() {
    let (listener, port) = listener();
    let flood = thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else {
            return;
        };
        let chunk = vec![b'x'; 1 << 20];
        // 96 MiB without a newline; the write fails once sockplay has gone, which is fine.
        for _ in 0..96 {
            if stream.write_all(&chunk).is_err() {
                return;
            }
        }
    });
    let output = Test::new()
        .args(["--panel", "off"])
        .script(format!(
            "socket tcp as c\nconnect c 127.0.0.1:{port}\nrecv c 16777216\nrecv c 16777216\n\
             makefile c as f\nreadline f\nexpect output \"stops at 16777216 buffered bytes\"\n"
        ))
        .time_limit(Duration::from_secs(60))
        .run();
    drop(output);
    let _ = flood.join();
    // Children's peak memory is folded into this process's RUSAGE_CHILDREN once they exit: no
    // sockplay run of this suite may have grown anywhere near what the peer sent.
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)
        .expect("getrusage");
    let peak_mib = usage.max_rss() / 1024;
    assert!(peak_mib < 200, "a sockplay run peaked at {peak_mib} MiB");
}

/// Starts sockplay on a long script, reads one line of its stdout, then closes the pipe.
fn read_one_line_then_hang_up(args: &[&str]) -> (std::process::ExitStatus, String) {
    let script = "fds\n".repeat(500);
    let mut child = Command::new(env!("CARGO_BIN_EXE_sockplay"))
        .args(args)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start sockplay");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(script.as_bytes())
        .expect("write the script");
    drop(stdin);
    let stdout = child.stdout.take().expect("stdout");
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("one line");
    // The reader is gone now, like `| head -1`.
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "sockplay kept running after its stdout closed"
        );
        thread::sleep(Duration::from_millis(10));
    };
    let mut stderr = String::new();
    if let Some(mut err) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut err, &mut stderr);
    }
    assert!(
        first.starts_with('{') || first.starts_with("sockplay>"),
        "{first:?}"
    );
    (status, stderr)
}

#[test]
fn json_piped_into_head_exits_cleanly() {
    let (status, stderr) = read_one_line_then_hang_up(&["--json"]);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(status.code(), Some(0), "{stderr}");
}

#[test]
fn text_piped_into_head_exits_cleanly() {
    let (status, stderr) = read_one_line_then_hang_up(&["--panel", "below"]);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(status.code(), Some(0), "{stderr}");
}

#[test]
fn no_blocking_call_outlives_its_timeout() {
    let name = unique_name("timeouts");
    let script = format!(
        "set timeout 0.3\n\
         socket tcp as srv\nbind srv 127.0.0.1:0\nlisten srv\n\
         accept srv\nexpect error ETIMEDOUT\n\
         socket tcp as cli\nconnect cli $srv\naccept srv as conn\n\
         recv conn\nexpect error ETIMEDOUT\n\
         makefile conn as f\nreadline f\nexpect error ETIMEDOUT\n\
         socket udp as u\nbind u 127.0.0.1:0\nrecvfrom u\nexpect error ETIMEDOUT\n\
         socketpair unix stream as a b\nsend a --bytes 50000000\nexpect output \"short send\"\n\
         recvfd b\nexpect output \"no fd came\"\n\
         socket unix stream as l\nbind l @{name}\nlisten l\nsocket unix stream as m\nconnect m $l\naccept l as n\n\
         recvfd n\nexpect error ETIMEDOUT\n\
         select read srv\nexpect output \"nothing is ready\"\n\
         poll conn u\n\
         epoll create as ep\nepoll add ep srv in\nepoll wait ep\nexpect output \"nothing is ready\"\n\
         sleep 100\n"
    );
    let output = Test::new()
        .args(["--panel", "off"])
        .script(script)
        .time_limit(Duration::from_secs(30))
        .run();
    // Eight calls that wait 0.3 s each, and a sleep: the whole script ends in a few seconds.
    output.assert_took_less_than(Duration::from_secs(8), "the waits");
}

#[test]
fn binding_every_address_warns_and_loopback_does_not() {
    Test::new()
        .args(["--panel", "off"])
        .script("socket tcp as a\nbind a 0.0.0.0:0\nsocket inet6 stream as b\nbind b [::]:0\nsocket tcp as c\nbind c 127.0.0.1:0\n")
        .stdout_contains("warning: 0.0.0.0:0 is every address of this machine")
        .stdout_contains("warning: [::]:0 is every address of this machine")
        .stdout_lacks("warning: 127.0.0.1")
        .run();
}

#[test]
fn escape_sequences_in_paths_and_names_never_reach_the_terminal() {
    let test = Test::new().args(["--panel", "below"]);
    let path = test.dir().join("evil\x1b[2J\x07.sock");
    let name = unique_name("evil");
    let mut script = Vec::new();
    script.extend_from_slice(b"socket unix stream as u\nbind u ");
    script.extend_from_slice(path.to_string_lossy().as_bytes());
    script.extend_from_slice(
        format!("\nlisten u\nsocket unix dgram as d\nbind d @{name}\x1b[31mred\x07\nfds\n")
            .as_bytes(),
    );
    let output = test.script(script).run();
    assert!(
        !output.stdout_bytes.iter().any(|&b| b == 0x1b || b == 0x07),
        "no raw ESC or BEL on stdout:\n{}",
        output.report()
    );
    assert!(
        output.stdout.contains("evil\\x1b[2J\\x07.sock"),
        "{}",
        output.report()
    );
}

#[test]
fn a_full_fd_table_keeps_queued_rows_and_ss() {
    Test::new()
        .args(["--panel", "below"])
        .script(
            "ulimit nofile 6\nsocket tcp as srv\nbind srv 127.0.0.1:0\nlisten srv\n\
             socket tcp as c\nconnect c $srv\naccept srv as s1\nclose c\n\
             socket tcp as c\nconnect c $srv\nsocket tcp as x\nexpect error EMFILE\n\
             fds\nexpect output \"(queued)\"\nss -tl\nexpect output \"1 connection waits in the accept queue\"\n",
        )
        .stdout_contains("EMFILE")
        .run();
}

#[test]
fn connecting_again_after_a_timed_out_connect_waits_again() {
    // A listener whose queue is full drops new SYNs: the third client's handshake stays pending.
    Test::new()
        .args(["--panel", "off"])
        .script(
            "socket tcp as srv\nbind srv 127.0.0.1:0\nlisten srv 1\n\
             socket tcp as c1\nconnect c1 $srv\nsocket tcp as c2\nconnect c2 $srv\n\
             expect output \"connected\"\nset timeout 0.3\n\
             socket tcp as c3\nconnect c3 $srv\nexpect error ETIMEDOUT\n\
             connect c3 $srv\nexpect error ETIMEDOUT\n",
        )
        .stdout_lacks("EALREADY")
        .run();
}
