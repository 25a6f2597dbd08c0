//! Malformed scripts: the whole script is parsed before anything runs, so a bad line anywhere means
//! exit 2, an empty stdout, and `FILE:LINE:COL: error: …` naming the problem. Mistakes only the
//! running session can see (unknown names, fds that are not open) are exit 1 instead. Nothing panics.

use crate::support::Test;

/// A script whose line 1 is fine and whose line 2 is `bad`: nothing may run, not even line 1.
fn rejected(bad: &[u8], column: usize, phrase: &str) {
    let mut script = b"socket tcp as first\n".to_vec();
    script.extend_from_slice(bad);
    script.extend_from_slice(b"\nsocket tcp as last\n");
    let output = Test::new()
        .script(script)
        .status(2)
        .stdout_is("")
        .stderr_contains(format!("test.sock:2:{column}: error: "))
        .stderr_contains(phrase)
        .run();
    assert_no_raw_control_bytes(output.stderr.as_bytes());
}

/// What sockplay prints about a bad line must not carry the line's raw control bytes to the terminal.
fn assert_no_raw_control_bytes(bytes: &[u8]) {
    assert!(
        bytes
            .iter()
            .all(|&b| b == b'\n' || (b >= 0x20 && b != 0x7f)),
        "raw control bytes in {:?}",
        String::from_utf8_lossy(bytes)
    );
}

macro_rules! malformed {
    ($($name:ident: $line:expr, $column:expr, $phrase:expr;)*) => {
        $(
            #[test]
            fn $name() {
                rejected(AsRef::<[u8]>::as_ref($line), $column, $phrase);
            }
        )*
    };
}

malformed! {
    unknown_command_suggests_the_closest: "lisen 3", 1, "unknown command `lisen`; did you mean `listen`?";
    unknown_command_far_from_any_points_to_help: "frobnicate 3", 1, "type `help` for the list";
    socket_without_a_family: "socket", 8, "missing FAMILY";
    bind_without_an_address: "bind 3", 8, "missing ADDR; usage: bind SOCK ADDR";
    send_without_data: "send 3", 8, "missing DATA";
    accept_without_a_socket: "accept", 8, "missing SOCK";
    expect_without_a_kind: "expect", 8, "missing check";
    listen_with_an_extra_argument: "listen 3 12 extra", 13, "unexpected `extra`; usage: listen SOCK [BACKLOG]";
    fds_with_an_argument: "fds now", 5, "unexpected `now`";
    close_with_two_sockets: "close 3 4", 9, "unexpected `4`";
    unknown_family: "socket bluetooth stream", 8, "`bluetooth` is not a FAMILY: use inet, inet6, unix, tcp, udp";
    unknown_type: "socket inet circle", 13, "`circle` is not a TYPE";
    name_starting_with_a_digit: "socket tcp as 9x", 15, "`9x` cannot be a name";
    as_without_a_name: "socket tcp as", 15, "missing NAME after `as`";
    socket_given_by_a_bad_word: "close s!", 7, "`s!` is not a socket";
    port_out_of_range: "bind 3 127.0.0.1:99999", 8, "`99999` is not a port";
    port_that_is_not_a_number: "bind 3 :http", 8, "`http` is not a port";
    address_without_a_port: "connect 3 8080", 11, "`8080` is not an address";
    ipv6_without_brackets: "bind 3 ::1:80", 8, "an IPv6 address needs brackets around it: write [::1]:80";
    ipv6_without_its_closing_bracket: "bind 3 [::1:80", 8, "lacks its closing `]`";
    unterminated_double_quote: "send 3 \"oops", 8, "unterminated \"…\" string";
    unterminated_single_quote: "send 3 'oops", 8, "unterminated '…' string";
    unknown_escape: "send 3 a\\qb", 9, "unknown escape `\\q`";
    x_escape_with_one_hex_digit: "send 3 \\x4", 8, "`\\x` needs two hex digits";
    x_escape_with_non_hex_digits: "send 3 \\xZZ", 8, "`\\x` needs two hex digits";
    lone_backslash_at_the_end: "send 3 end\\", 11, "a lone `\\` at the end";
    expect_an_unknown_state_suggests_one: "expect state 3 ESTABLISED", 16, "did you mean `ESTABLISHED`?";
    expect_an_unknown_kind: "expect colour 3", 8, "`colour` is not a check";
    expect_an_unknown_errno: "expect error EFOO", 14, "`EFOO` is not an errno name";
    recv_max_too_large: "recv 3 999999999", 8, "`999999999` is not a valid MAX: use a number from 1 to 16777216";
    recv_max_zero: "recv 3 0", 8, "is not a valid MAX";
    listen_backlog_too_large: "listen 3 70000", 10, "is not a valid BACKLOG";
    negative_timeout: "set timeout -1", 13, "`-1` is not a number of seconds";
    timeout_longer_than_a_day: "set timeout 90000", 13, "is not a number of seconds";
    unknown_panel_place: "set panel sideways", 11, "`sideways` is not a panel setting: use right, below, off, compact, full";
    unknown_setting: "set colour on", 5, "`colour` is not a setting";
    two_commands_on_one_line: "fds; fds", 6, "one command per line";
    nul_byte_in_a_word: b"socket tcp\x00", 8, "`tcp\\0` is not a FAMILY";
    bell_in_a_name: b"socket tcp as a\x07b", 15, "`a\\x07b` cannot be a name";
    escape_sequence_as_a_command: b"\x1b[2Jfds", 1, "unknown command `\\x1b[2Jfds`";
    invalid_utf8_in_a_name: b"socket tcp as \xff\xfe", 15, "invalid UTF-8 (byte 0xff)";
}

#[test]
fn a_hundred_kilobyte_line_is_rejected_without_trouble() {
    let mut line = b"lisen ".to_vec();
    line.extend(std::iter::repeat_n(b'A', 100 * 1024));
    rejected(&line, 1, "did you mean `listen`?");
}

#[test]
fn a_hundred_kilobyte_word_of_data_is_parsed() {
    // Long but well-formed: it parses, and fails only when run, on the unknown socket.
    let mut script = b"send nosuch ".to_vec();
    script.extend(std::iter::repeat_n(b'A', 100 * 1024));
    script.push(b'\n');
    Test::new()
        .args(["--panel", "off"])
        .script(script)
        .status(1)
        .stderr_contains("test.sock:1: no socket is named `nosuch`")
        .run();
}

#[test]
fn a_bad_escape_inside_quotes_points_at_its_backslash() {
    rejected(b"send 3 \"a\\qb\"", 10, "unknown escape `\\q`");
}

#[test]
fn raw_invalid_utf8_in_data_is_not_silently_replaced() {
    // Either refusing the line or sending the bytes as written is honest; sending U+FFFD is not.
    let output = Test::new()
        .args(["--json"])
        .script(b"socket unix dgram as a\nbind a ./a.sock\nsocket unix dgram as b\nconnect b $a\nsend b \"\xff\"\nrecv a\n".as_slice())
        .run_unchecked();
    if output.status.code() == Some(2) {
        assert!(
            output.stderr.contains("test.sock:5:"),
            "{}",
            output.report()
        );
        return;
    }
    let steps = output.json();
    let recv = steps.last().expect("records");
    assert!(
        recv["output"]
            .as_str()
            .is_some_and(|o| o.contains("\"\\xff\"")),
        "{}",
        output.report()
    );
}

#[test]
fn an_empty_script_does_nothing_and_succeeds() {
    Test::new().script("").stdout_is("").stderr_is("").run();
    Test::new()
        .script("# only a comment\n\n   \n")
        .stdout_is("")
        .stderr_is("")
        .run();
}

#[test]
fn the_error_shows_the_line_with_a_caret_under_the_column() {
    Test::new()
        .script("socket tcp\nlisten 3 12 extra\n")
        .status(2)
        .stderr_is(
            "test.sock:2:13: error: unexpected `extra`; usage: listen SOCK [BACKLOG]\n  | listen 3 12 extra\n  |             ^\n",
        )
        .run();
}

#[test]
fn dash_c_syntax_errors_run_nothing() {
    Test::new()
        .args(["-c", "socket tcp; lisen 3"])
        .status(2)
        .stdout_is("")
        .stderr_contains("-c:2:13: error: unknown command `lisen`")
        .run();
}

// ---- mistakes found at run time: exit 1 ----

#[test]
fn an_unknown_socket_name_suggests_a_close_one() {
    Test::new()
        .args(["--panel", "off"])
        .script("socket tcp as server\nclose servr\nsocket tcp as later\n")
        .status(1)
        .stdout_lacks("= 4")
        .stderr_contains("test.sock:2: no socket is named `servr`; did you mean `server`?")
        .run();
}

#[test]
fn an_unknown_socket_name_with_no_sockets_says_how_to_name_one() {
    Test::new()
        .args(["--panel", "off"])
        .script("recv srv\n")
        .status(1)
        .stderr_contains("test.sock:1: no socket is named `srv`; name one with `as NAME`")
        .run();
}

#[test]
fn a_socket_command_on_an_fd_that_is_not_open_fails_with_ebadf() {
    Test::new()
        .args(["--panel", "off"])
        .script("recv 77\n")
        .status(1)
        .stderr_contains("test.sock:1: EBADF: fd 77 is not open")
        .run();
}

#[test]
fn closing_stdout_by_number_is_refused_because_it_is_not_a_socket() {
    Test::new()
        .args(["--panel", "off"])
        .script("close 1\nsocket tcp\n")
        .status(1)
        .stdout_lacks("socket(")
        .stderr_contains("test.sock:1: fd 1 is not a socket made in this session (it is pipe)")
        .run();
}

#[test]
fn raw_control_bytes_in_a_script_are_escaped_when_echoed() {
    let output = Test::new()
        .args(["--panel", "off"])
        .script(b"socket tcp as a\nsend a \"\x1b[2J\x07\"\n".as_slice())
        .status(1)
        .stdout_contains("sockplay> send a \"\\x1b[2J\\x07\"")
        .run();
    assert_no_raw_control_bytes(&output.stdout_bytes);
}
