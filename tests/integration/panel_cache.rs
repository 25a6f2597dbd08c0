//! A big table's panel, drawn step after step from the rows drawn before, is the table drawn
//! whole: after each change it shows every row as `fds` (which draws the table afresh) does.

use crate::support::Test;
use crate::transcript::step_text;

/// The panel in a step's text: from its title on.
fn panel(step: &str) -> &str {
    let start = step
        .find("open fds: ")
        .unwrap_or_else(|| panic!("no panel in\n{step}"));
    &step[start..]
}

/// The line of the row of fd `fd` in `table`, its blanks runs made one `|`.
fn row(table: &str, fd: i32) -> String {
    let gaps = regex::Regex::new(" {2,}").expect("pattern");
    table
        .lines()
        .map(|line| gaps.replace_all(line.trim_start(), "|").into_owned())
        .find(|line| {
            let cells: Vec<&str> = line.split(['|', ' ']).collect();
            cells.first() == Some(&fd.to_string().as_str())
                || (cells.len() > 1 && cells[1] == fd.to_string())
        })
        .unwrap_or_else(|| panic!("no row for fd {fd} in\n{table}"))
}

#[test]
fn a_big_panel_drawn_step_after_step_is_the_table_drawn_whole() {
    let mut script = String::from("set panel off\n");
    for i in 0..300 {
        script.push_str(&format!("socket tcp as s{i}\n"));
    }
    // Some rows wider than others, so that columns change width as rows come and go.
    for i in 0..5 {
        script.push_str(&format!("bind s{i} 127.0.0.1:0\nlisten s{i} 8\n"));
    }
    script.push_str(
        "set panel below\nsocket tcp as a-longer-name-than-any\nbind a-longer-name-than-any \
         127.0.0.1:0\nlisten a-longer-name-than-any 16\nclose a-longer-name-than-any\n\
         sleep 0\nfds\n",
    );
    let output = Test::new()
        .args(["--panel", "below", "--color", "never"])
        .script(script)
        .run();
    let text = &output.stdout;
    let named = "a-longer-name-than-any";
    let fd = 303;
    let opened = panel(step_text(text, &format!("socket tcp as {named}")));
    assert!(
        row(opened, fd).starts_with(&format!("+ {fd}|{named}|tcp|-|-|CLOSE|0|0")),
        "{opened}"
    );
    let listening = panel(step_text(text, &format!("listen {named} 16")));
    let line = row(listening, fd);
    assert!(
        line.starts_with(&format!("~ {fd}|{named}|tcp|127.0.0.1:"))
            && line.ends_with("|LISTEN|0|16"),
        "{line}"
    );
    let closed = panel(step_text(text, &format!("close {named}")));
    let line = row(closed, fd);
    assert!(
        line.starts_with(&format!("- {fd}|{named}|tcp|127.0.0.1:")) && line.ends_with("|-|-|-|-"),
        "{line}"
    );
    // Nothing changed: every row is unmarked, as `fds` draws them, and the NAME column is as
    // narrow again as without the long name.
    let settled = panel(step_text(text, "sleep 0"));
    let whole = step_text(text, "fds");
    let differing = settled
        .lines()
        .zip(whole.lines())
        .find(|(panel, fds)| panel != fds);
    assert_eq!(differing, None, "the panel's line, then `fds`'s");
    assert_eq!(settled.lines().count(), whole.lines().count());
    assert_eq!(settled.lines().count(), 3 + 303 + 1, "{settled}");
    assert!(
        settled
            .lines()
            .nth(1)
            .is_some_and(|header| header.contains("FD  NAME  KIND")),
        "{settled}"
    );
}
