//! Built-in tutorials: walk-throughs of the seeds' topics on real sockets. A tutorial is a `.sock`
//! script (so the test suite replays it like any other) whose comments carry the teaching:
//!
//! ```text
//! # title: Sockets are file descriptors
//! # summary: the first socket is fd 3, because 0, 1 and 2 are taken
//! #> Narration, shown before the step's command. A `#>` line alone starts a new paragraph.
//! socket tcp as s              <- the step's command, suggested to the learner
//! expect fd s 3                <- its checks: the step is done when they hold
//! #? A hint, shown when the checks do not hold.
//! #@standin                    <- the next command stands in for something the learner does
//! socket tcp as curl              outside sockplay (run curl): skipped when walked, run in --auto
//! ```

mod lesson;
mod runner;

pub use runner::{list_tutorials, run_tutorial};

use crate::lang::{parse_line, Command, ScriptError};

/// Every built-in tutorial, in the order they are listed: (name, script text).
pub static TUTORIALS: &[(&str, &str)] = &[
    (
        "sockets-are-fds",
        include_str!("../../../scripts/tutorials/sockets-are-fds.sock"),
    ),
    (
        "tcp-server-client",
        include_str!("../../../scripts/tutorials/tcp-server-client.sock"),
    ),
    ("udp", include_str!("../../../scripts/tutorials/udp.sock")),
    (
        "unix-sockets",
        include_str!("../../../scripts/tutorials/unix-sockets.sock"),
    ),
    (
        "http-by-hand",
        include_str!("../../../scripts/tutorials/http-by-hand.sock"),
    ),
    (
        "select-epoll",
        include_str!("../../../scripts/tutorials/select-epoll.sock"),
    ),
    (
        "fileno-makefile-detach",
        include_str!("../../../scripts/tutorials/fileno-makefile-detach.sock"),
    ),
    (
        "close-wait-emfile",
        include_str!("../../../scripts/tutorials/close-wait-emfile.sock"),
    ),
    (
        "forking-server",
        include_str!("../../../scripts/tutorials/forking-server.sock"),
    ),
    (
        "hand-a-socket",
        include_str!("../../../scripts/tutorials/hand-a-socket.sock"),
    ),
    (
        "half-close",
        include_str!("../../../scripts/tutorials/half-close.sock"),
    ),
    (
        "time-wait-reuseaddr",
        include_str!("../../../scripts/tutorials/time-wait-reuseaddr.sock"),
    ),
    (
        "nonblocking-eagain",
        include_str!("../../../scripts/tutorials/nonblocking-eagain.sock"),
    ),
    (
        "full-backlog",
        include_str!("../../../scripts/tutorials/full-backlog.sock"),
    ),
];

/// One step: what to say, the command to suggest, and the checks that show it worked.
#[derive(Debug, Clone)]
pub struct Step {
    pub narration: Vec<String>,
    pub command: Command,
    /// The command as written in the tutorial, offered to the learner.
    pub text: String,
    pub line: usize,
    pub checks: Vec<(usize, String, Command)>,
    pub hint: Option<String>,
    /// Something the learner does outside sockplay; sockplay runs it only when not walked.
    pub standin: bool,
}

/// A parsed tutorial.
#[derive(Debug, Clone)]
pub struct Tutorial {
    pub name: String,
    pub title: String,
    pub summary: String,
    pub steps: Vec<Step>,
    /// Narration after the last command: the closing words.
    pub outro: Vec<String>,
}

impl Tutorial {
    /// The built-in tutorial called `name`.
    pub fn named(name: &str) -> Option<Result<Tutorial, ScriptError>> {
        TUTORIALS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(n, text)| Tutorial::parse(n, text))
    }

    /// Parses a tutorial's text.
    pub fn parse(name: &str, text: &str) -> Result<Tutorial, ScriptError> {
        let mut tutorial = Tutorial {
            name: name.to_string(),
            title: name.to_string(),
            summary: String::new(),
            steps: Vec::new(),
            outro: Vec::new(),
        };
        let mut narration: Vec<String> = Vec::new();
        let mut standin = false;
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let trimmed = raw.trim();
            if let Some(title) = trimmed.strip_prefix("# title:") {
                tutorial.title = title.trim().to_string();
            } else if let Some(summary) = trimmed.strip_prefix("# summary:") {
                tutorial.summary = summary.trim().to_string();
            } else if let Some(said) = trimmed.strip_prefix("#>") {
                narration.push(said.trim().to_string());
            } else if let Some(hint) = trimmed.strip_prefix("#?") {
                if let Some(step) = tutorial.steps.last_mut() {
                    let hint = hint.trim();
                    step.hint = Some(match step.hint.take() {
                        Some(before) => format!("{before} {hint}"),
                        None => hint.to_string(),
                    });
                }
            } else if trimmed == "#@standin" {
                standin = true;
            } else {
                let located = |error| ScriptError {
                    source: format!("tutorial {name}"),
                    line,
                    text: raw.to_string(),
                    error,
                };
                let Some(command) = parse_line(raw).map_err(located)? else {
                    continue;
                };
                // A check may name the process it reads (`client: expect fd c 3`).
                match (command.base(), tutorial.steps.last_mut()) {
                    (Command::Expect(_), Some(step)) if narration.is_empty() => {
                        step.checks.push((line, trimmed.to_string(), command));
                    }
                    _ => tutorial.steps.push(Step {
                        narration: std::mem::take(&mut narration),
                        command,
                        text: trimmed.to_string(),
                        line,
                        checks: Vec::new(),
                        hint: None,
                        standin: std::mem::take(&mut standin),
                    }),
                }
            }
        }
        tutorial.outro = narration;
        Ok(tutorial)
    }
}

/// Narration lines as paragraphs: consecutive lines joined, an empty line between paragraphs.
pub fn paragraphs(narration: &[String]) -> Vec<String> {
    let mut paragraphs = Vec::new();
    let mut current = String::new();
    for line in narration {
        if line.is_empty() {
            if !current.is_empty() {
                paragraphs.push(std::mem::take(&mut current));
            }
            continue;
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(line);
    }
    if !current.is_empty() {
        paragraphs.push(current);
    }
    paragraphs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tutorial_file_is_built_in_and_parses() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/tutorials");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .expect("scripts/tutorials")
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().to_str().map(str::to_string))
            .filter_map(|f| f.strip_suffix(".sock").map(str::to_string))
            .collect();
        files.sort();
        let mut built_in: Vec<String> = TUTORIALS.iter().map(|(n, _)| n.to_string()).collect();
        built_in.sort();
        assert_eq!(
            files, built_in,
            "scripts/tutorials and TUTORIALS list the same tutorials"
        );
        for (name, text) in TUTORIALS {
            let tutorial = Tutorial::parse(name, text).unwrap_or_else(|e| panic!("{e}"));
            assert!(!tutorial.summary.is_empty(), "{name} has a summary");
            assert!(tutorial.title != *name, "{name} has a title");
            assert!(tutorial.steps.len() >= 3, "{name} has steps");
            assert!(
                tutorial
                    .steps
                    .iter()
                    .all(|s| !s.narration.is_empty() || s.standin || !s.checks.is_empty()),
                "{name}: every step explains or checks something"
            );
        }
    }

    #[test]
    fn steps_collect_narration_checks_hints_and_standins() {
        let text = "# title: T\n# summary: S\n#> Say one.\n#>\n#> Say two.\nsocket tcp as s\nexpect fd s 3\nclient: expect fd c 3\n#? Hint.\n#@standin\nsocket tcp as c\n#> Bye.\n";
        let tutorial = Tutorial::parse("t", text).expect("parses");
        assert_eq!(tutorial.steps.len(), 2);
        let first = &tutorial.steps[0];
        assert_eq!(paragraphs(&first.narration), ["Say one.", "Say two."]);
        assert_eq!(
            first.checks.len(),
            2,
            "a check in another process is a check too"
        );
        assert_eq!(first.hint.as_deref(), Some("Hint."));
        assert!(!first.standin && tutorial.steps[1].standin);
        assert_eq!(tutorial.outro, ["Bye."]);
    }
}
