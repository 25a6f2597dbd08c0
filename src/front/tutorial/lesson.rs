//! What a walked tutorial takes from the learner's own variants, so that the checks test the
//! lesson and not the spelling: the names the learner gave in place of the lesson's (later steps
//! and checks are respelled with them), the name a command without `as NAME` is given when the
//! lesson's next steps need one, and the bytes a step's `recv`s returned one after the other (a
//! message read in two `recv`s is TCP's byte stream, not a failure).

use std::collections::HashMap;

use crate::lang::{split_commands, Check, Command};
use crate::session::{Outcome, Returned};
use crate::text::{escape_bytes, unescape};

/// The learner's names for the lesson's: sockets (and file objects) and processes.
#[derive(Debug, Default, Clone)]
pub struct Names {
    sockets: HashMap<String, String>,
    processes: HashMap<String, String>,
}

/// What a command names: a socket (or file object), or a process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Named {
    Socket(Option<String>),
    Process(Option<String>),
}

/// The names `command` gives what it makes, in order (`as NAME`, `spawn NAME`), None where it
/// makes something without one.
fn names_made(command: &Command) -> Vec<Named> {
    match command.base() {
        Command::Socket { name, .. }
        | Command::Accept { name, .. }
        | Command::Dup { name, .. }
        | Command::Makefile { name, .. }
        | Command::EpollCreate { name }
        | Command::RecvFd { name, .. } => vec![Named::Socket(name.clone())],
        Command::Socketpair { names, .. } => match names {
            Some((a, b)) => vec![
                Named::Socket(Some(a.clone())),
                Named::Socket(Some(b.clone())),
            ],
            None => vec![Named::Socket(None), Named::Socket(None)],
        },
        Command::Spawn { name } => vec![Named::Process(Some(name.clone()))],
        Command::Fork { name } => vec![Named::Process(name.clone())],
        _ => Vec::new(),
    }
}

/// The command inside `NAME:` and `&`, to change.
fn base_mut(command: &mut Command) -> &mut Command {
    match command {
        Command::In { command, .. } | Command::Background(command) => base_mut(command),
        command => command,
    }
}

/// Whether two commands are the same call, whatever their arguments.
pub fn same_kind(a: &Command, b: &Command) -> bool {
    std::mem::discriminant(a.base()) == std::mem::discriminant(b.base())
}

impl Names {
    /// `line` with every name the learner gave differently spelled their way: a socket argument
    /// (`close conn_b`), an address (`$srv`, `$client.c`), a process (`client_a: …`,
    /// `spawn client_a`, `wait client_a`). Quoted words are data and stay as they are.
    pub fn respell(&self, line: &str) -> String {
        if self.sockets.is_empty() && self.processes.is_empty() {
            return line.to_string();
        }
        let Ok(commands) = split_commands(line) else {
            return line.to_string();
        };
        let chars: Vec<char> = line.chars().collect();
        let mut out = String::new();
        let mut at = 0;
        for command in &commands {
            let tokens = &command.tokens;
            let prefixed = tokens
                .first()
                .is_some_and(|t| !t.quoted && t.text.len() > 1 && t.text.ends_with(':'));
            let verb_at = usize::from(prefixed);
            let verb = tokens
                .get(verb_at)
                .map(|t| t.text.to_ascii_lowercase())
                .unwrap_or_default();
            for (index, token) in tokens.iter().enumerate() {
                if token.quoted {
                    continue;
                }
                let text = token.text.as_str();
                let after_as = index > 0 && tokens[index - 1].is_keyword("as");
                let respelled = if index == 0 && prefixed {
                    let process = &text[..text.len() - 1];
                    self.processes.get(process).map(|p| format!("{p}:"))
                } else if index == verb_at {
                    None
                } else if (matches!(verb.as_str(), "spawn" | "use" | "wait" | "kill")
                    && index == verb_at + 1)
                    || (verb == "fork" && after_as)
                {
                    self.processes.get(text).cloned()
                } else if after_as {
                    // A name being given is the lesson's own.
                    None
                } else if let Some(reference) = text.strip_prefix('$') {
                    self.respell_reference(reference).map(|r| format!("${r}"))
                } else {
                    self.sockets.get(text).cloned()
                };
                if let Some(new) = respelled {
                    let start = token.column.saturating_sub(1).min(chars.len());
                    let end = (start + text.chars().count()).min(chars.len());
                    if start < at {
                        continue;
                    }
                    out.extend(&chars[at..start]);
                    out.push_str(&new);
                    at = end;
                }
            }
        }
        out.extend(&chars[at..]);
        out
    }

    /// `NAME` or `PROC.NAME` of an address reference, respelled; None when nothing changes.
    fn respell_reference(&self, reference: &str) -> Option<String> {
        match reference.split_once('.') {
            Some((process, name)) => {
                let p = self.processes.get(process).map_or(process, String::as_str);
                let n = self.sockets.get(name).map_or(name, String::as_str);
                (p != process || n != name).then(|| format!("{p}.{n}"))
            }
            None => self.sockets.get(reference).cloned(),
        }
    }

    /// Narration with each `$NAME` the learner spelled their way respelled, so it still reads
    /// as the address of what they made.
    pub fn respell_narration(&self, text: &str) -> String {
        let mut names: Vec<(&String, &String)> = self.sockets.iter().collect();
        // Longest first, so `$srv2` is not taken for `$srv` followed by `2`.
        names.sort_by_key(|(lesson, _)| std::cmp::Reverse(lesson.len()));
        let mut text = text.to_string();
        for (lesson, learner) in names {
            text = text.replace(&format!("${lesson}"), &format!("${learner}"));
        }
        text
    }

    /// Gives `typed`, the learner's variant of the step's `lesson` command, the names the
    /// lesson's later steps use where it gives none and `free` says the name is not taken;
    /// returns the names given, to tell the learner.
    pub fn name_unnamed(
        lesson: &Command,
        typed: &mut Command,
        free: impl Fn(&Named) -> bool,
    ) -> Vec<String> {
        if !same_kind(lesson, typed) {
            return Vec::new();
        }
        let wanted = names_made(lesson);
        let given = names_made(typed);
        if wanted.len() != given.len() || given.iter().any(|n| named(n).is_some()) {
            return Vec::new();
        }
        if !wanted.iter().all(|w| named(w).is_some() && free(w)) {
            return Vec::new();
        }
        let names: Vec<String> = wanted.iter().filter_map(named).collect();
        match base_mut(typed) {
            Command::Socket { name, .. }
            | Command::Accept { name, .. }
            | Command::Dup { name, .. }
            | Command::Makefile { name, .. }
            | Command::EpollCreate { name }
            | Command::RecvFd { name, .. }
            | Command::Fork { name } => *name = names.first().cloned(),
            Command::Socketpair { names: pair, .. } => {
                if let [a, b] = names.as_slice() {
                    *pair = Some((a.clone(), b.clone()));
                }
            }
            _ => return Vec::new(),
        }
        names
    }

    /// Remembers the names `typed` gave where the step's `lesson` command gives others.
    pub fn learn(&mut self, lesson: &Command, typed: &Command) {
        if !same_kind(lesson, typed) {
            return;
        }
        for (wanted, given) in names_made(lesson).iter().zip(names_made(typed)) {
            match (wanted, &given) {
                (Named::Socket(Some(w)), Named::Socket(Some(g))) if w != g => {
                    self.sockets.insert(w.clone(), g.clone());
                }
                (Named::Process(Some(w)), Named::Process(Some(g))) if w != g => {
                    self.processes.insert(w.clone(), g.clone());
                }
                _ => {}
            }
        }
    }
}

impl Named {
    /// The process a name of this kind lives in is the caller's business; this says which kind.
    pub fn is_process(&self) -> bool {
        matches!(self, Named::Process(_))
    }

    /// The name itself.
    pub fn name(&self) -> Option<&str> {
        match self {
            Named::Socket(name) | Named::Process(name) => name.as_deref(),
        }
    }
}

fn named(named: &Named) -> Option<String> {
    named.name().map(str::to_string)
}

/// How much of the start of an output check's text the bytes so far must end with to be its
/// beginning rather than chance.
const MIN_OVERLAP: usize = 4;

/// What the `recv`s of one step returned, by the process they ran in, in order.
#[derive(Debug, Default, Clone)]
pub struct Received {
    by_process: HashMap<String, Vec<Vec<u8>>>,
}

impl Received {
    /// Notes the bytes each receiving call of `outcome` (run in `process`) returned.
    pub fn note(&mut self, process: &str, outcome: &Outcome) {
        for call in outcome.calls() {
            if !matches!(
                call.name.as_str(),
                "recv" | "recvfrom" | "read" | "readline"
            ) {
                continue;
            }
            let Returned::Value(n) = call.result else {
                continue;
            };
            if n <= 0 {
                continue;
            }
            // The bytes are the note's quoted text; a note cut short (`… (N more bytes)`) says
            // too little to add up.
            let Some(bytes) = call
                .note
                .as_deref()
                .and_then(|note| note.strip_prefix('"'))
                .and_then(|note| note.strip_suffix('"'))
                .and_then(|inner| unescape(inner).ok())
            else {
                continue;
            };
            self.by_process
                .entry(process.to_string())
                .or_default()
                .push(bytes);
        }
    }

    /// What a data or output check of the step says about the bytes `process` received, added
    /// up, if it has something to say: held by bytes that came in more than one call, or not
    /// yet, when what came so far ends with the start of what the check wants. Otherwise the
    /// check runs as in a script.
    pub fn judge(&self, process: &str, check: &Check) -> Option<Judgement> {
        let pieces = self.by_process.get(process)?;
        let all: Vec<u8> = pieces.concat();
        let count = pieces.len();
        let (wanted, held) = match check {
            Check::Data(expected) => (expected.clone(), *expected == all),
            Check::Output(text) => (
                text.as_bytes().to_vec(),
                escape_bytes(&all).contains(text.as_str()),
            ),
            _ => return None,
        };
        let shown = |bytes: &[u8]| match check {
            Check::Output(_) => String::from_utf8_lossy(bytes).into_owned(),
            _ => escape_bytes(bytes),
        };
        if held {
            return (count > 1).then(|| {
                Judgement::Held(format!(
                    "✓ received \"{}\" in {count} calls: TCP is a byte stream, it keeps no message boundaries",
                    shown(&wanted)
                ))
            });
        }
        let so_far = match check {
            Check::Output(_) => escape_bytes(&all).into_bytes(),
            _ => all,
        };
        // The bytes so far are the start of the data wanted, or (for text that may sit among
        // other bytes) end with a good part of its start: the rest is still to come.
        let started = match check {
            Check::Data(_) => !so_far.is_empty() && wanted.starts_with(&so_far),
            _ => (MIN_OVERLAP.min(wanted.len())..wanted.len())
                .any(|n| n > 0 && so_far.ends_with(&wanted[..n])),
        };
        started.then(|| {
            Judgement::SoFar(format!(
                "so far \"{}\" of \"{}\": the rest waits in the receive queue; `recv` again to read it",
                shown(&so_far),
                shown(&wanted)
            ))
        })
    }
}

/// What the bytes a step received, added up, say about one of its checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judgement {
    /// The check holds for the bytes together: this line says so.
    Held(String),
    /// The bytes so far are the start of what the check wants: this line says what is missing.
    SoFar(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::parse_line;
    use crate::session::Call;

    fn command(line: &str) -> Command {
        parse_line(line)
            .unwrap_or_else(|e| panic!("{line}: {e}"))
            .expect("a command")
    }

    fn learned(pairs: &[(&str, &str)]) -> Names {
        let mut names = Names::default();
        for (lesson, typed) in pairs {
            names.learn(&command(lesson), &command(typed));
        }
        names
    }

    #[test]
    fn later_steps_are_respelled_with_the_learners_names() {
        let names = learned(&[
            ("socket tcp as srv", "socket inet stream as server"),
            ("spawn client_a", "spawn alice"),
            ("accept srv as conn_b", "accept server as bob"),
        ]);
        assert_eq!(names.respell("close conn_b"), "close bob");
        assert_eq!(
            names.respell("client_a: connect a $srv"),
            "alice: connect a $server"
        );
        assert_eq!(
            names.respell("expect state srv LISTEN"),
            "expect state server LISTEN"
        );
        assert_eq!(names.respell("expect fd conn_b 5"), "expect fd bob 5");
        assert_eq!(names.respell("wait client_a"), "wait alice");
        assert_eq!(
            names.respell("connect c $client_a.srv"),
            "connect c $alice.server"
        );
        // Data is data, and a name being given stays the lesson's.
        assert_eq!(
            names.respell("send conn_b \"conn_b srv\""),
            "send bob \"conn_b srv\""
        );
        assert_eq!(names.respell("accept srv as srv2"), "accept server as srv2");
        assert_eq!(
            names.respell_narration("connects to $srv."),
            "connects to $server."
        );
    }

    #[test]
    fn a_variant_without_a_name_is_given_the_lessons() {
        let lesson = command("accept srv as conn_b");
        let mut typed = command("accept 3");
        let given = Names::name_unnamed(&lesson, &mut typed, |_| true);
        assert_eq!(given, ["conn_b"]);
        assert_eq!(typed, command("accept 3 as conn_b"));
        let mut background = command("accept 3 &");
        Names::name_unnamed(&command("accept srv as conn_a &"), &mut background, |_| {
            true
        });
        assert_eq!(background, command("accept 3 as conn_a &"));
        // Not when the name is taken, nor when the learner named it, nor for another call.
        let mut typed = command("accept 3");
        assert!(Names::name_unnamed(&lesson, &mut typed, |_| false).is_empty());
        let mut named = command("accept 3 as mine");
        assert!(Names::name_unnamed(&lesson, &mut named, |_| true).is_empty());
        let mut other = command("recv 3");
        assert!(Names::name_unnamed(&lesson, &mut other, |_| true).is_empty());
    }

    fn recv_outcome(bytes: &str) -> Outcome {
        let mut outcome = Outcome::default();
        outcome.call(Call {
            name: "recv".into(),
            args: vec!["5".into(), "5".into(), "0".into()],
            result: Returned::Value(bytes.len() as i64),
            detail: None,
            note: Some(format!("\"{bytes}\"")),
        });
        outcome
    }

    #[test]
    fn a_message_read_in_two_recvs_adds_up() {
        let mut received = Received::default();
        received.note("main", &recv_outcome("hello"));
        let data = Check::Data(b"hello from B".to_vec());
        assert!(matches!(
            received.judge("main", &data),
            Some(Judgement::SoFar(_))
        ));
        let whole = Check::Data(b"hello".to_vec());
        assert_eq!(
            received.judge("main", &whole),
            None,
            "one piece that holds: as a script"
        );
        let other = Check::Data(b"bye".to_vec());
        assert_eq!(
            received.judge("main", &other),
            None,
            "other bytes: as a script"
        );
        received.note("main", &recv_outcome(" from"));
        assert!(matches!(
            received.judge("main", &data),
            Some(Judgement::SoFar(_))
        ));
        received.note("main", &recv_outcome(" B"));
        assert!(matches!(
            received.judge("main", &data),
            Some(Judgement::Held(_))
        ));
        let output = Check::Output("hello from B".into());
        assert!(matches!(
            received.judge("main", &output),
            Some(Judgement::Held(_))
        ));
        // A check of the call line is not about the bytes.
        assert_eq!(
            received.judge("main", &Check::Output("recv(5,".into())),
            None
        );
        assert_eq!(received.judge("client", &data), None);
    }
}
