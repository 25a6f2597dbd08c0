//! sockplay against peers it does not control: a std::net client fetching a page a script serves by
//! hand, a std::net server reading what a script sends, and hostile peers whose bytes must never
//! reach the terminal raw.

use std::io::{Read, Write};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixListener};

use crate::support::{port_after, std_client, std_peer, unique_name, Test};

const RESPONSE: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello";

/// Bytes a hostile peer sends: clear-screen, BEL, NUL, invalid UTF-8, a C1 CSI, DEL, a bidi override.
const HOSTILE: &[u8] = b"A\x1b[2J\x07\x00\xff\xfe\xc2\x9b\x7f\xe2\x80\xaeZ";

/// Fails unless `bytes` are valid UTF-8 with no control character but `\n`: no C0, no DEL, no C1.
fn assert_terminal_safe(bytes: &[u8], what: &str) {
    let text = std::str::from_utf8(bytes)
        .unwrap_or_else(|e| panic!("{what}: stdout is not valid UTF-8 ({e})"));
    if let Some((at, c)) = text
        .char_indices()
        .find(|&(_, c)| c != '\n' && (c.is_control() || c == '\u{202e}'))
    {
        panic!(
            "{what}: raw {c:?} at byte {at} of stdout:\n{}",
            text.escape_debug()
        );
    }
}

#[test]
fn a_std_client_fetches_a_page_a_script_serves_by_hand() {
    let mut sockplay = Test::new()
        .args(["--panel", "off"])
        .script(format!(
            "socket tcp as srv\nbind srv 127.0.0.1:0\nlisten srv\nset timeout 10\naccept srv as conn\n\
             recv conn\nexpect output \"GET /hello HTTP/1.1\"\nsend conn \"{}\"\nclose conn\nclose srv\n",
            "HTTP/1.1 200 OK\\r\\nContent-Type: text/plain\\r\\nContent-Length: 5\\r\\nConnection: close\\r\\n\\r\\nhello"
        ))
        .spawn();
    let port = port_after(
        &sockplay.wait_for_line("now waits for connections on"),
        "connections on",
    );
    let mut client = std_client(port);
    client
        .write_all(b"GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .expect("send the request");
    let mut response = Vec::new();
    client
        .read_to_end(&mut response)
        .expect("read the response");
    assert_eq!(
        String::from_utf8_lossy(&response),
        String::from_utf8_lossy(RESPONSE)
    );
    let output = sockplay.finish();
    for text in [
        "accept(3) = 4  peer 127.0.0.1:",
        r#"= 40  "GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n""#,
        "✓ the output contains \"GET /hello HTTP/1.1\"",
    ] {
        assert!(output.stdout.contains(text), "{text}\n{}", output.report());
    }
}

#[test]
fn a_std_server_receives_exactly_the_request_a_script_sends() {
    let server = std_peer(|mut stream| {
        let mut request = Vec::new();
        let mut buf = [0u8; 1024];
        while !request.ends_with(b"\r\n\r\n") {
            let n = stream.read(&mut buf).expect("read the request");
            assert_ne!(n, 0, "the request ended early: {request:?}");
            request.extend_from_slice(&buf[..n]);
        }
        stream.write_all(RESPONSE).expect("answer");
        request
    });
    Test::new()
        .args(["--panel", "off"])
        .script(format!(
            "socket tcp as browser\nconnect browser 127.0.0.1:{}\n\
             send browser \"GET / HTTP/1.1\\r\\nHost: localhost\\r\\nX-Bytes: \\x01\\xfe\\r\\n\\r\\n\"\n\
             expect state browser CLOSE_WAIT\nrecv browser\nexpect data \"{}\"\nrecv browser\nexpect eof\n",
            server.port,
            "HTTP/1.1 200 OK\\r\\nContent-Type: text/plain\\r\\nContent-Length: 5\\r\\nConnection: close\\r\\n\\r\\nhello"
        ))
        .stdout_contains("\"HTTP/1.1 200 OK\\r\\n")
        .run();
    let request = server.join();
    assert_eq!(
        request,
        b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Bytes: \x01\xfe\r\n\r\n"
    );
}

/// Runs sockplay with `flags` against a peer that sends `HOSTILE` and closes.
fn hostile_peer_run(flags: &[&str]) -> crate::support::Output {
    let peer = std_peer(|mut stream| {
        stream.write_all(HOSTILE).expect("send hostile bytes");
    });
    // Wide enough that the output column beside the panel (80 columns) holds the escaped bytes
    // on one line.
    let output = Test::new()
        .args(flags)
        .env("COLUMNS", "200")
        .script(format!(
            "socket tcp as c\nconnect c 127.0.0.1:{}\nexpect state c CLOSE_WAIT\nrecv c\nfds\n",
            peer.port
        ))
        .run();
    peer.join();
    output
}

#[test]
fn hostile_bytes_from_a_peer_are_shown_escaped_and_never_raw() {
    for flags in [
        &["--panel", "below"][..],
        &["--panel", "right"],
        &["--panel", "off"],
    ] {
        let output = hostile_peer_run(flags);
        assert_terminal_safe(&output.stdout_bytes, &format!("{flags:?}"));
        assert!(
            output
                .stdout
                .contains(r#"= 16  "A\x1b[2J\x07\0\xff\xfe\xc2\x9b\x7f\xe2\x80\xaeZ""#),
            "{flags:?}: the bytes are shown escaped\n{}",
            output.report()
        );
    }
}

#[test]
fn hostile_bytes_from_a_peer_stay_escaped_in_json() {
    let output = hostile_peer_run(&["--json"]);
    assert_terminal_safe(&output.stdout_bytes, "--json");
    let recv = output
        .json()
        .into_iter()
        .find(|step| step["input"] == "recv c")
        .expect("the recv record");
    assert!(
        recv["output"]
            .as_str()
            .is_some_and(|o| o.contains(r#""A\x1b[2J\x07\0\xff\xfe\xc2\x9b\x7f\xe2\x80\xaeZ""#)),
        "{recv}"
    );
}

/// Runs sockplay connecting to a peer listening on an abstract name with ESC and BEL in it; returns
/// the run and the name as sockplay's escape language writes it.
fn hostile_address_run() -> (crate::support::Output, String) {
    let name = format!("{}-\x1b[2J\x07", unique_name("evil"));
    let address = SocketAddr::from_abstract_name(name.as_bytes()).expect("abstract address");
    let _listener = UnixListener::bind_addr(&address).expect("bind the hostile name");
    let shown = name.replace('\x1b', "\\x1b").replace('\x07', "\\x07");
    let output = Test::new()
        .args(["--panel", "below"])
        .script(format!("socket unix stream as c\nconnect c @{name}\nfds\n"))
        .stdout_contains(format!("connect(3, @{shown}) = 0"))
        .run();
    (output, shown)
}

#[test]
fn a_hostile_abstract_address_never_reaches_the_terminal_raw() {
    let (output, _) = hostile_address_run();
    assert_terminal_safe(&output.stdout_bytes, "abstract name");
}

#[test]
fn the_panel_shows_an_address_escaped_once_like_the_call_line() {
    let (output, shown) = hostile_address_run();
    let panel = output.stdout.rsplit("open fds").next().expect("the table");
    let row = panel
        .lines()
        .find(|l| l.trim_start().starts_with("3 "))
        .expect("the row of fd 3");
    assert!(row.contains(&format!("@{shown} ")), "{}", output.report());
}
