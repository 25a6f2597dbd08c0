//! Properties of the command language, checked on generated input with proptest: parsing never
//! panics (on arbitrary text and on lines built from the language's own words) and keeps its error
//! columns on the line; the DATA escapes that sockplay displays decode back to the exact bytes; and
//! every address displays as text that parses back to the same address.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

use proptest::prelude::*;
use proptest::test_runner::Config;
use sockplay::lang::{
    self, AddrSpec, Check, Command, Payload, Script, SyntaxError, Token, COMMANDS, SOCK_OPTS,
};
use sockplay::text::escape_bytes;

/// Cases per property: enough to find shallow bugs, few enough that the suite stays fast.
fn config(cases: u32) -> Config {
    Config {
        cases,
        ..Config::default()
    }
}

/// An error must point into the line it is about: at a character, or just past the end.
fn assert_column_on(error: &SyntaxError, line: &str) {
    let chars = line.chars().count();
    assert!(
        (1..=chars + 2).contains(&error.column),
        "column {} outside a line of {chars} chars {line:?}: {}",
        error.column,
        error.message
    );
    // The caret rendering must not panic on it either.
    let _ = error.pointed(line).to_string();
}

/// Every entry point that parses text, with the column checks.
fn parse_everything(text: &str) {
    if let Err(error) = lang::parse_line(text) {
        assert_column_on(&error, text);
    }
    match lang::split_commands(text) {
        Err(error) => assert_column_on(&error, text),
        Ok(commands) => {
            for command in commands {
                if let Err(error) = lang::parse_tokens(&command.tokens) {
                    assert_column_on(&error, text);
                }
            }
        }
    }
    if let Err(error) = Script::parse("prop.sock", text) {
        assert_column_on(&error.error, &error.text);
        let _ = error.to_string();
    }
    if let Err(error) = Script::parse_commands(text) {
        assert_column_on(&error.error, &error.text);
    }
}

/// A token as the lexer builds it for a word typed at column 1.
fn token(text: &str) -> Token {
    Token {
        text: text.to_string(),
        column: 1,
        columns: (1..).take(text.chars().count()).collect(),
        quoted: false,
    }
}

// ---- words of the language ----

fn command_word() -> impl Strategy<Value = String> {
    let mut names: Vec<String> = Vec::new();
    for spec in COMMANDS {
        names.push(spec.name.to_string());
        names.push(spec.name.to_ascii_uppercase());
        names.extend(spec.aliases.iter().map(|a| a.to_string()));
    }
    proptest::sample::select(names)
}

fn option_word() -> impl Strategy<Value = String> {
    let names: Vec<String> = SOCK_OPTS
        .iter()
        .flat_map(|o| [o.name.to_string(), o.name.to_ascii_lowercase()])
        .collect();
    proptest::sample::select(names)
}

fn keyword() -> impl Strategy<Value = String> {
    proptest::sample::select(
        [
            "inet",
            "inet6",
            "unix",
            "tcp",
            "udp",
            "stream",
            "dgram",
            "seqpacket",
            "raw",
            "as",
            "AS",
            "hex",
            "--bytes",
            ";",
            "#",
            "state",
            "fd",
            "data",
            "eof",
            "error",
            "open",
            "closed",
            "output",
            "LISTEN",
            "CLOSE_WAIT",
            "ESTABLISHED",
            "ECONNREFUSED",
            "EAGAIN",
            "read",
            "write",
            "timeout",
            "create",
            "add",
            "del",
            "wait",
            "in",
            "out",
            "rdhup",
            "rd",
            "wr",
            "rdwr",
            "on",
            "off",
            "on:5",
            "panel",
            "right",
            "below",
            "explain",
            "python",
            "nofile",
            "stop",
            "-t",
            "-ul",
            "-xan",
            "-q",
            "!",
            "!ls",
            "srv",
            "cli",
            "conn",
            "_x-1",
            "9x",
            "x!",
            "$srv",
        ]
        .map(String::from)
        .to_vec(),
    )
}

fn number_word() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u32..20).prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        proptest::sample::select(
            ["0.5", "1e3", "-0", "+7", "NaN", "inf", "65536", "16777217", "0x10", "٣"]
                .map(String::from)
                .to_vec()
        ),
    ]
}

fn name_part() -> impl Strategy<Value = String> {
    "[A-Za-z_][A-Za-z0-9_-]{0,8}"
}

fn address_word() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<u16>().prop_map(|p| format!(":{p}")),
        (any::<u32>(), any::<u16>()).prop_map(|(ip, p)| format!("{}:{p}", Ipv4Addr::from(ip))),
        (any::<u128>(), any::<u16>()).prop_map(|(ip, p)| format!("[{}]:{p}", Ipv6Addr::from(ip))),
        "[a-z./-]{1,12}".prop_map(|p| format!("/tmp/{p}")),
        name_part().prop_map(|n| format!("@{n}")),
        name_part().prop_map(|n| format!("${n}")),
        proptest::sample::select(
            [
                "::1:80",
                "[::1:80",
                "[zz]:1",
                "@",
                "$",
                "$9",
                "host:99999",
                "8080",
                ":",
                "[]:1"
            ]
            .map(String::from)
            .to_vec()
        ),
    ]
}

fn data_word() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[ -~&&[^\"\\\\]]{0,6}",
        proptest::sample::select(
            [
                r"\r", r"\n", r"\t", r"\0", r"\\", r#"\""#, r"\'", r"\ ", r"\x41", r"\xff",
                r"\x1b", r"\x4", r"\xzz", r"\q", "é", "\u{202e}", "\u{1b}", "\t",
            ]
            .map(String::from)
            .to_vec()
        ),
    ];
    (proptest::collection::vec(piece, 0..5), 0..4u8).prop_map(|(pieces, quote)| {
        let body = pieces.concat();
        match quote {
            0 => format!("\"{body}\""),
            1 => format!("'{}'", body.replace('\'', "")),
            2 => body.replace(['"', '\'', ' '], ""),
            // Unbalanced on purpose.
            _ => format!("\"{body}"),
        }
    })
}

fn language_word() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => command_word(),
        3 => keyword(),
        2 => option_word(),
        2 => number_word(),
        2 => name_part(),
        2 => address_word(),
        2 => data_word(),
        1 => "\\PC{0,4}",
    ]
}

/// A line: a command name first (usually), then words of the language.
fn language_line() -> impl Strategy<Value = String> {
    (
        command_word(),
        proptest::collection::vec(language_word(), 0..8),
        any::<bool>(),
    )
        .prop_map(|(head, rest, lead)| {
            let mut words = if lead { vec![head] } else { Vec::new() };
            words.extend(rest);
            words.join(" ")
        })
}

// ---- addresses as values ----

fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<u32>().prop_map(|ip| Ipv4Addr::from(ip).to_string()),
        any::<u128>().prop_map(|ip| Ipv6Addr::from(ip).to_string()),
        Just("::1".to_string()),
        Just("localhost".to_string()),
        "[a-z0-9][a-z0-9.-]{0,20}",
    ]
}

fn addr_spec() -> impl Strategy<Value = AddrSpec> {
    prop_oneof![
        (proptest::option::of(host()), any::<u16>())
            .prop_map(|(host, port)| AddrSpec::Inet { host, port }),
        (
            proptest::sample::select(vec!["/", "./", "../", "/tmp/"]),
            "[^\u{0}]{0,20}"
        )
            .prop_map(|(lead, rest)| AddrSpec::Path(PathBuf::from(format!("{lead}{rest}")))),
        "\\PC{1,20}".prop_map(|name| AddrSpec::Abstract(name.into_bytes())),
        name_part().prop_map(AddrSpec::Ref),
    ]
}

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn parsing_arbitrary_text_never_panics(text in "\\PC{0,60}|[ -~\"'\\\\;#]{0,60}|.{0,40}") {
        parse_everything(&text);
    }

    #[test]
    fn parsing_lines_of_the_languages_own_words_never_panics(line in language_line()) {
        parse_everything(&line);
    }

    #[test]
    fn several_commands_of_the_languages_own_words_never_panic(
        lines in proptest::collection::vec(language_line(), 1..5),
    ) {
        parse_everything(&lines.join(" ; "));
        parse_everything(&lines.join("\n"));
    }

    #[test]
    fn decoding_arbitrary_text_never_panics(text in "\\PC{0,40}|[\\\\xrnt0\"'a-f0-9 ]{0,40}") {
        if let Err(error) = lang::decode_data(&token(&text)) {
            prop_assert!((1..=text.chars().count()).contains(&error.column));
        }
    }

    #[test]
    fn displayed_bytes_decode_back_to_the_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let escaped = escape_bytes(&bytes);
        prop_assert_eq!(lang::decode_data(&token(&escaped)), Ok(bytes.clone()));
        // Typed back inside double quotes, the lexer and the parser see the same bytes.
        let line = format!("expect data \"{escaped}\"");
        match lang::parse_line(&line) {
            Ok(Some(Command::Expect(Check::Data(data)))) => prop_assert_eq!(data, bytes),
            other => prop_assert!(false, "{:?} parsed as {:?}", line, other),
        }
    }

    #[test]
    fn displayed_text_decodes_back_to_the_text(text in "\\PC{0,30}|.{0,30}") {
        let escaped = escape_bytes(text.as_bytes());
        let line = format!("send 3 \"{escaped}\"");
        prop_assume!(!text.eq_ignore_ascii_case("--bytes"));
        match lang::parse_line(&line) {
            Ok(Some(Command::Send { payload: Payload::Bytes(data), .. })) => {
                prop_assert_eq!(data, text.into_bytes())
            }
            other => prop_assert!(false, "{:?} parsed as {:?}", line, other),
        }
    }

    #[test]
    fn addresses_display_as_text_that_parses_back(addr in addr_spec()) {
        let shown = addr.to_string();
        prop_assert_eq!(AddrSpec::parse(&shown, 1), Ok(addr));
    }

    #[test]
    fn accepted_address_words_round_trip(word in address_word()) {
        if let Ok(addr) = AddrSpec::parse(&word, 1) {
            prop_assert_eq!(AddrSpec::parse(&addr.to_string(), 1), Ok(addr));
        }
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn parsing_arbitrary_bytes_as_a_script_never_panics(
        bytes in proptest::collection::vec(any::<u8>(), 0..120),
    ) {
        if let Err(error) = Script::parse_bytes("prop.sock", &bytes) {
            assert_column_on(&error.error, &error.text);
        }
    }
}
