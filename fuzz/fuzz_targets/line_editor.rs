//! The line editor's helper over any line and any cursor position: Tab completion, the usage hint
//! and the highlighting never panic (a cursor inside a multi-byte character included), the
//! completion's start lies on a char boundary at or before the cursor, and highlighting keeps every
//! character of the line in order, those a terminal acts on escaped (colour codes only added).

#![no_main]

use libfuzzer_sys::fuzz_target;
use rustyline::completion::Completer;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::Context;
use sockplay::front::repl::SockHelper;

/// The highlighted line without the colour codes the highlighter adds.
fn without_colours(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("\x1b[") {
        out.push_str(&rest[..at]);
        let tail = &rest[at + 2..];
        let end = tail.find('m').map_or(tail.len(), |m| m + 1);
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&cursor, text)) = data.split_first() else {
        return;
    };
    let Ok(line) = std::str::from_utf8(text) else {
        return;
    };
    let history = DefaultHistory::new();
    let ctx = Context::new(&history);
    for color in [false, true] {
        let helper = SockHelper::new(
            vec!["srv".into(), "conn".into(), "é".into()],
            vec!["f".into()],
            vec![3, 4, 5],
            color,
        );
        // Every position, as the editor may hand any of them; a fuzzer-chosen one past the end too.
        let positions = (0..=line.len()).chain(std::iter::once(line.len() + usize::from(cursor)));
        for pos in positions {
            if let Ok((start, candidates)) = helper.complete(line, pos, &ctx) {
                assert!(start <= pos.min(line.len()), "start {start} past the cursor {pos}");
                assert!(line.is_char_boundary(start), "start {start} inside a character of {line:?}");
                for candidate in candidates {
                    let _ = (candidate.display, candidate.replacement);
                }
            }
            let _ = helper.hint(line, pos, &ctx);
            // The line as echoed: its characters in order, those a terminal acts on escaped,
            // plus colour codes only.
            let shown = helper.highlight(line, pos);
            let safe = sockplay::text::safe_line(line);
            if !color {
                assert_eq!(shown, safe, "highlighting without colour changed the line");
            } else {
                assert_eq!(without_colours(&shown), safe, "highlighting lost characters");
            }
        }
    }
});
