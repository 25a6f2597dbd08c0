//! An epoll fd's interest list, as the kernel keeps it (its fdinfo), in the panel's REMOTE column
//! (`watches 3(in) 4(in,out)`) and in `--json` (`watches`): including an entry whose fd was
//! closed while a `dup` keeps the socket open, which `epoll_wait` still reports under the old
//! number.

use serde_json::json;

use crate::support::{fd_row, Test};

/// The cells of fd `fd`'s row in the last panel of `stdout`, two or more spaces apart.
fn last_row(stdout: &str, fd: i32) -> Vec<String> {
    let panel = stdout.rsplit("open fds").next().unwrap_or_default();
    let gaps = regex::Regex::new(" {2,}").expect("pattern");
    panel
        .lines()
        .map(|line| {
            gaps.split(line.trim_start_matches(['+', '~', '-']).trim())
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .find(|cells| cells.first().map(String::as_str) == Some(&fd.to_string()))
        .unwrap_or_else(|| panic!("no row for fd {fd} in\n{panel}"))
}

const WATCHING: &str = "\
socketpair unix stream as a b
epoll create as ep
epoll add ep a in
epoll add ep b in out rdhup
";

#[test]
fn the_epoll_row_says_what_it_watches() {
    let output = Test::new()
        .args(["--panel", "below"])
        .script(WATCHING)
        .run();
    let row = last_row(&output.stdout, 5);
    assert_eq!(
        row[1..5],
        [
            "ep",
            "epoll",
            "anon_inode:[eventpoll]",
            "watches 3(in) 4(in,out,rdhup)"
        ],
        "{}",
        output.report()
    );
}

#[test]
fn a_watched_fd_closed_while_a_dup_holds_its_socket_stays_watched_under_its_old_number() {
    let output = Test::new()
        .args(["--panel", "below"])
        .script(format!(
            "{WATCHING}dup a as a2\nclose a\nsend b x\nepoll wait ep timeout 1000\n"
        ))
        .run();
    assert_eq!(
        last_row(&output.stdout, 5)[4],
        "watches 3(in, closed) 4(in,out,rdhup)",
        "{}",
        output.report()
    );
    // The kernel still reports the entry, under the number that no longer holds the socket.
    assert!(
        output.stdout.contains("fd 3: EPOLLIN\n"),
        "{}",
        output.report()
    );
}

#[test]
fn json_carries_the_interest_list() {
    let steps = Test::new()
        .arg("--json")
        .script(format!("{WATCHING}dup a as a2\nclose a\n"))
        .run()
        .json();
    let last = steps.last().expect("records");
    let epoll = fd_row(last, 5).expect("fd 5");
    let inode = |fd: i64| fd_row(last, fd).expect("a socket")["inode"].clone();
    assert_eq!(epoll["target"], "anon_inode:[eventpoll]");
    assert_eq!(
        epoll["watches"],
        json!([
            {"fd": 3, "events": ["in"], "inode": inode(6), "open": false},
            {"fd": 4, "events": ["in", "out", "rdhup"], "inode": inode(4), "open": true},
        ])
    );
    assert!(fd_row(last, 4).expect("fd 4").get("watches").is_none());
}
