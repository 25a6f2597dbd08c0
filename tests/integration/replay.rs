//! Script replay: every script in the repository replays cleanly, the seeds' story shows what the
//! spec promises, and the other ways of feeding commands (stdin, `-`, `-c`) replay the same way.

use std::path::{Path, PathBuf};

use crate::support::{fixed_addresses, repo_path, Test};

/// Every `*.sock` file under `dir`, recursively, sorted.
fn sock_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("read a scripts directory") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "sock") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

#[test]
fn every_script_in_the_repository_replays_without_a_failure() {
    let scripts = sock_files(&repo_path("scripts"));
    assert!(
        scripts
            .iter()
            .any(|p| p.ends_with("examples/tcp-server-client.sock")),
        "the walk found the seeds' script: {scripts:?}"
    );
    for script in scripts {
        let _addresses = fixed_addresses();
        let output = Test::new().arg(&script).run();
        assert!(
            output.stdout.contains("sockplay> "),
            "{} echoed its commands\n{}",
            script.display(),
            output.report()
        );
    }
}

#[test]
fn the_seeds_story_shows_fds_3_4_5_and_the_tcp_states() {
    Test::new()
        .arg(repo_path("scripts/examples/tcp-server-client.sock"))
        .stdout_contains("socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3")
        .stdout_contains("socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 4")
        .stdout_contains("accept(3) = 5  peer 127.0.0.1:")
        .stdout_contains("LISTEN")
        .stdout_contains("ESTABLISHED")
        .stdout_contains("CLOSE_WAIT")
        .stdout_contains("EOF")
        .run();
}

#[test]
fn replay_echoes_each_command_before_its_result() {
    let output = Test::new()
        .args(["--panel", "off"])
        .script("socket tcp as srv\nfileno srv\n")
        .run();
    assert_eq!(
        output.stdout,
        "sockplay> socket tcp as srv\n\
         socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3\n\
         sockplay> fileno srv\n\
         fileno(srv) = 3\n",
        "{}",
        output.report()
    );
}

#[test]
fn comments_and_blank_lines_are_skipped_and_not_echoed() {
    Test::new()
        .args(["--panel", "off"])
        .script("# a comment\n\n   \n  # an indented comment\nsocket tcp # trailing words\n")
        .stdout_is("sockplay> socket tcp # trailing words\nsocket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3\n")
        .run();
}

#[test]
fn a_script_with_windows_line_endings_replays() {
    Test::new()
        .args(["--panel", "off"])
        .script("socket tcp as srv\r\nfileno srv\r\n")
        .stdout_is(
            "sockplay> socket tcp as srv\n\
             socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3\n\
             sockplay> fileno srv\n\
             fileno(srv) = 3\n",
        )
        .run();
}

#[test]
fn command_names_and_keywords_are_case_insensitive() {
    Test::new()
        .args(["--panel", "off"])
        .script("SOCKET INET STREAM AS srv\nFileNo srv\nEXPECT STATE srv close\n")
        .stdout_is(
            "sockplay> SOCKET INET STREAM AS srv\n\
             socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3\n\
             sockplay> FileNo srv\n\
             fileno(srv) = 3\n\
             sockplay> EXPECT STATE srv close\n\
             ✓ fd 3 is CLOSE\n",
        )
        .run();
}

#[test]
fn dash_replays_commands_from_stdin() {
    Test::new()
        .args(["--panel", "off", "-"])
        .stdin("socket tcp as srv\nfileno srv\n")
        .stdout_is(
            "sockplay> socket tcp as srv\n\
             socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3\n\
             sockplay> fileno srv\n\
             fileno(srv) = 3\n",
        )
        .run();
}

#[test]
fn piped_stdin_without_arguments_replays_like_a_script() {
    Test::new()
        .args(["--panel", "off"])
        .stdin("socket tcp as srv\nfileno srv\n")
        .stdout_is(
            "sockplay> socket tcp as srv\n\
             socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3\n\
             sockplay> fileno srv\n\
             fileno(srv) = 3\n",
        )
        .run();
}

#[test]
fn stdin_replay_names_its_errors_stdin() {
    Test::new()
        .args(["--panel", "off"])
        .stdin("socket tcp\nclose 99\n")
        .status(1)
        .stderr_is("<stdin>:2: EBADF: fd 99 is not open\n")
        .run();
}

#[test]
fn stdin_replay_is_parsed_whole_before_it_runs() {
    Test::new()
        .args(["--panel", "off"])
        .stdin("socket tcp\nlisen 3\n")
        .status(2)
        .stdout_is("")
        .stderr_contains("<stdin>:2:1: error: unknown command `lisen`")
        .run();
}

#[test]
fn dash_c_runs_commands_separated_by_semicolons() {
    Test::new()
        .args([
            "--panel",
            "off",
            "-c",
            "socket tcp as a; socket tcp as b ;; fileno b",
        ])
        .stdout_is(
            "sockplay> socket tcp as a\n\
             socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3\n\
             sockplay> socket tcp as b\n\
             socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 4\n\
             sockplay> fileno b\n\
             fileno(b) = 4\n",
        )
        .run();
}

#[test]
fn dash_c_does_not_split_on_a_semicolon_inside_quotes() {
    Test::new()
        .args([
            "--panel",
            "off",
            "-c",
            "socket tcp as srv; bind srv :0; listen srv; socket tcp as cli; connect cli $srv; \
             accept srv as conn; send cli \"a;b\"; recv conn; expect data 'a;b'",
        ])
        .stdout_normalised_is(
            "sockplay> socket tcp as srv\n\
             socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3\n\
             sockplay> bind srv :0\n\
             bind(3, 127.0.0.1:0) = 0\n\
             bound to 127.0.0.1:P1\n\
             sockplay> listen srv\n\
             listen(3, 128) = 0\n\
             fd 3 now waits for connections on 127.0.0.1:P1; the kernel queues them until `accept`\n\
             sockplay> socket tcp as cli\n\
             socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 4\n\
             sockplay> connect cli $srv\n\
             connect(4, 127.0.0.1:P1) = 0\n\
             connected from 127.0.0.1:P2\n\
             the kernel finished a handshake for fd 3 (srv): the connection waits in its accept queue (1 queued) until `accept`\n\
             sockplay> accept srv as conn\n\
             accept(3) = 5  peer 127.0.0.1:P2\n\
             the connection left fd 3's queue and is now fd 5; fd 3 keeps listening\n\
             sockplay> send cli \"a;b\"\n\
             send(4, \"a;b\", 3, MSG_NOSIGNAL) = 3\n\
             sockplay> recv conn\n\
             recv(5, 4096, 0) = 3  \"a;b\"\n\
             sockplay> expect data 'a;b'\n\
             ✓ received \"a;b\"\n",
        )
        .run();
}

#[test]
fn dash_c_errors_name_the_command_by_its_position() {
    Test::new()
        .args(["--panel", "off", "-c", "socket tcp; close 99; fds"])
        .status(1)
        .stderr_is("-c:2: EBADF: fd 99 is not open\n")
        .stdout_is(
            "sockplay> socket tcp\n\
             socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3\n\
             sockplay> close 99\n\
             EBADF: fd 99 is not open\n\
             hint: that fd is not open: see the panel or `fds` for the open ones\n",
        )
        .run();
}

#[test]
fn a_script_that_cannot_be_read_is_a_usage_error() {
    Test::new()
        .arg("no-such-script.sock")
        .status(2)
        .stdout_is("")
        .stderr_contains("no-such-script.sock")
        .run();
}

#[test]
fn dash_c_echoes_each_command_as_it_was_typed() {
    Test::new()
        .args([
            "--panel",
            "off",
            "-c",
            "socket tcp as c; expect output \"= 3\"",
        ])
        .stdout_is(
            "sockplay> socket tcp as c\n\
             socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3\n\
             sockplay> expect output \"= 3\"\n\
             ✓ the output contains \"= 3\"\n",
        )
        .run();
}
