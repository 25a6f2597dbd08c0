//! Every definition agrees with itself: the lines its usage describes parse to that command, the
//! argument kinds it declares (what completion offers) are what its parser accepts, and every
//! command variant leads back to exactly one definition.

use crate::lang::{find_command, parse_line, Arg, Command, CommandSpec, SyntaxError, COMMANDS};
use crate::net::TcpState;

/// A word for a usage placeholder that the parser takes; a placeholder without one fails the test,
/// so a new one in a usage gets a sample here.
fn sample(placeholder: &str) -> &'static str {
    match placeholder {
        "SOCK" | "EP" | "FD" => "3",
        "ADDR" => ":0",
        "DATA" => "\"x\"",
        "TEXT" => "x",
        "N" | "MAX" | "BACKLOG" | "MS" | "SECS" | "VALUE" => "1",
        // Numbered per line, so the two ends of a socketpair get different names.
        "NAME" => "NAME",
        "FAMILY" => "inet",
        "TYPE" => "stream",
        "OPTION" => "SO_REUSEADDR",
        "STATE" => TcpState::Established.name(),
        "ERRNO" => "EPIPE",
        "COMMAND" => "bind",
        "PATH" => "/tmp/x.sock",
        "SIGNAL" => "SIGTERM",
        "FILE.sock" => "x.sock",
        other => panic!("no sample word for the usage placeholder {other}"),
    }
}

/// The words a usage word stands for: each of `a|b|c`, a sample for a placeholder (`SOCK`,
/// `SOCK…`, `FILE.sock`, the `COMMAND` of `!COMMAND`), or the keyword itself.
fn words_for(word: &str) -> Vec<String> {
    word.split('|')
        .map(|word| {
            let (prefix, bare) = match word.strip_prefix('!') {
                Some(rest) => ("!", rest),
                None => ("", word),
            };
            let bare = bare.trim_end_matches('…');
            let stem = bare.strip_suffix(".sock").unwrap_or(bare);
            let placeholder =
                !stem.is_empty() && stem.chars().all(|c| c.is_ascii_uppercase() || c == '_');
            if placeholder {
                format!("{prefix}{}", sample(bare))
            } else {
                word.to_string()
            }
        })
        .collect()
}

/// Every way of writing the parts one after the other: one choice out of each part.
fn product(parts: &[Vec<Vec<String>>]) -> Vec<Vec<String>> {
    let mut written: Vec<Vec<String>> = vec![Vec::new()];
    for choices in parts {
        written = written
            .iter()
            .flat_map(|before| {
                choices.iter().map(move |words| {
                    let mut line = before.clone();
                    line.extend(words.iter().cloned());
                    line
                })
            })
            .collect();
    }
    written
}

/// Every line a usage text describes: each `X | Y` alternative (and the `(or: …)` one), each
/// `[optional]` part with and without it, each word of `a|b`, placeholders filled with samples.
fn usage_lines(spec: &CommandSpec) -> Vec<String> {
    let (main, or) = match spec.usage.split_once("(or: ") {
        Some((main, or)) => (main, Some(or.trim_end_matches(')'))),
        None => (spec.usage, None),
    };
    let mut lines = Vec::new();
    for form in main.split(" | ").chain(or) {
        let form = form.trim();
        let form = if form.starts_with(spec.name) {
            form.to_string()
        } else {
            format!("{} {form}", spec.name)
        };
        // Each part: the ways of writing it, each a list of words.
        let mut parts: Vec<Vec<Vec<String>>> = Vec::new();
        let mut group: Option<Vec<&str>> = None;
        for word in form.split_whitespace() {
            match (group.as_mut(), word.strip_prefix('[')) {
                (None, Some(opened)) => group = Some(vec![opened]),
                (Some(words), _) => words.push(word),
                (None, None) => parts.push(words_for(word).into_iter().map(|w| vec![w]).collect()),
            }
            if let Some(words) =
                group.take_if(|words| words.last().is_some_and(|w| w.ends_with(']')))
            {
                let inside: Vec<Vec<Vec<String>>> = words
                    .iter()
                    .map(|word| {
                        words_for(word.trim_end_matches(']'))
                            .into_iter()
                            .map(|w| vec![w])
                            .collect()
                    })
                    .collect();
                let mut written = vec![Vec::new()];
                written.extend(product(&inside));
                parts.push(written);
            }
        }
        assert!(
            group.is_none(),
            "an unclosed [ in the usage of `{}`",
            spec.name
        );
        for words in product(&parts) {
            let mut names = 0;
            let words: Vec<String> = words
                .into_iter()
                .map(|word| {
                    if word == "NAME" {
                        names += 1;
                        format!("n{names}")
                    } else {
                        word
                    }
                })
                .collect();
            lines.push(words.join(" "));
        }
    }
    lines
}

fn parsed(line: &str) -> Result<Command, SyntaxError> {
    parse_line(line)
        .and_then(|command| command.ok_or_else(|| SyntaxError::new(1, "blank line".into())))
}

#[test]
fn every_line_a_usage_describes_parses_to_its_command() {
    let mut refused = Vec::new();
    for spec in COMMANDS {
        let lines = usage_lines(spec);
        assert!(!lines.is_empty(), "`{}` has no usage", spec.name);
        for line in lines {
            match parsed(&line) {
                Ok(command) => assert!(
                    std::ptr::eq(command.spec(), *spec),
                    "`{line}` parsed to `{}`",
                    command.name()
                ),
                Err(error) => refused.push((line, error.message)),
            }
        }
    }
    // What the usage cannot say: select needs a socket in one of its lists.
    let needs_a_socket =
        "select needs at least one socket; usage: select [read SOCK…] [write SOCK…] [timeout MS]";
    assert_eq!(
        refused,
        [
            ("select".to_string(), needs_a_socket.to_string()),
            ("select timeout 1".to_string(), needs_a_socket.to_string()),
        ]
    );
}

#[test]
fn the_usage_lines_cover_every_form() {
    let lines = |name| usage_lines(find_command(name).expect("a command"));
    assert_eq!(
        lines("socket"),
        [
            "socket inet stream",
            "socket inet stream as n1",
            "socket tcp",
            "socket tcp as n1",
            "socket udp",
            "socket udp as n1",
        ]
    );
    assert_eq!(lines("socketpair")[1], "socketpair inet stream as n1 n2");
    assert_eq!(lines("ss").len(), 32);
    assert_eq!(
        lines("set"),
        [
            "set timeout 1",
            "set panel right",
            "set panel below",
            "set panel off",
            "set panel compact",
            "set panel full",
            "set explain python",
            "set explain off",
        ]
    );
    assert_eq!(lines("!"), ["!bind"]);
    assert_eq!(lines("record"), ["record x.sock", "record stop"]);
}

/// A sample word for each kind of argument; a choice stands for each of its words.
fn kind_words(arg: Arg) -> Vec<&'static str> {
    match arg {
        Arg::Sock => vec!["3"],
        Arg::Addr => vec![":0"],
        Arg::Data => vec!["\"x\""],
        Arg::Number => vec!["1"],
        Arg::Choice(words) => words.to_vec(),
        Arg::Text => vec!["x"],
        Arg::CommandName => vec!["bind"],
        Arg::Option => vec!["SO_REUSEADDR"],
        Arg::File => vec!["f"],
        Arg::Path => vec!["x.sock"],
    }
}

/// Whether the parser takes `line` as far as its last word: the line parses, or what it refuses
/// comes after that word (an argument still missing). A line that parses must be `spec`'s command.
fn accepted_through_last_word(spec: &CommandSpec, line: &str) -> bool {
    match parsed(line) {
        Ok(command) => {
            assert!(
                std::ptr::eq(command.spec(), spec),
                "`{line}` parsed to `{}`",
                command.name()
            );
            true
        }
        Err(error) => error.column > line.chars().count(),
    }
}

#[test]
fn every_declared_argument_is_what_the_parser_takes_there() {
    for spec in COMMANDS {
        // The lines accepted through the arguments so far, each way the earlier ones may be written.
        let mut prefixes = vec![spec.name.to_string()];
        for (position, &arg) in spec.args.iter().enumerate() {
            let mut next = Vec::new();
            for word in kind_words(arg) {
                let taking: Vec<String> = prefixes
                    .iter()
                    .map(|prefix| format!("{prefix} {word}"))
                    .filter(|line| accepted_through_last_word(spec, line))
                    .collect();
                assert!(
                    !taking.is_empty(),
                    "`{}` declares {arg:?} at argument {}, but no line takes `{word}` there",
                    spec.name,
                    position + 1
                );
                next.extend(taking);
            }
            if let Arg::Choice(words) = arg {
                for prefix in &prefixes {
                    let line = format!("{prefix} zzz");
                    let column = line.len() - 2;
                    match parsed(&line) {
                        Err(error) if error.column == column => {}
                        other => panic!(
                            "`{line}`: a word that is none of {words:?} must be refused at column \
                             {column}, got {other:?}"
                        ),
                    }
                }
            }
            prefixes = next;
        }
    }
}

#[test]
fn every_command_variant_leads_back_to_one_definition() {
    let mut names: Vec<&str> = COMMANDS
        .iter()
        .flat_map(|spec| std::iter::once(spec.name).chain(spec.aliases.iter().copied()))
        .collect();
    let count = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), count, "a name or alias is used twice");
    for spec in COMMANDS {
        let found = find_command(spec.name).expect("found by its name");
        assert!(std::ptr::eq(found, *spec), "`{}` finds another", spec.name);
        for line in usage_lines(spec) {
            let Ok(command) = parsed(&line) else { continue };
            // The variant's definition is the one its name finds, and the one that parsed it.
            assert!(std::ptr::eq(command.spec(), *spec), "`{line}`");
            let by_name = find_command(command.name()).expect("the name is a command's");
            assert!(std::ptr::eq(by_name, command.spec()), "`{line}`");
        }
    }
}
