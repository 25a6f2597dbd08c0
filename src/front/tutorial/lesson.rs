//! What a walked tutorial takes from the learner's own variants, so that the checks test the
//! lesson and not the spelling: the names the learner gave in place of the lesson's (later steps
//! and checks are respelled with them), the name a command without `as NAME` is given when the
//! lesson's next steps need one, and the bytes a step's `recv`s returned one after the other (a
//! message read in two `recv`s is TCP's byte stream, not a failure).

use std::collections::HashMap;

use std::collections::BTreeMap;

use crate::lang::{parse_line, split_commands, Check, Command, Payload, SockRef};
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

/// The socket arguments of `command`, to change.
fn sock_refs_mut(command: &mut Command) -> Vec<&mut SockRef> {
    match base_mut(command) {
        Command::Bind { sock, .. }
        | Command::Listen { sock, .. }
        | Command::Accept { sock, .. }
        | Command::Connect { sock, .. }
        | Command::Send { sock, .. }
        | Command::Recv { sock, .. }
        | Command::Fileno { sock }
        | Command::Detach { sock }
        | Command::Close { sock }
        | Command::SendTo { sock, .. }
        | Command::RecvFrom { sock, .. }
        | Command::Shutdown { sock, .. }
        | Command::SetSockOpt { sock, .. }
        | Command::GetSockOpt { sock, .. }
        | Command::GetSockName { sock }
        | Command::GetPeerName { sock }
        | Command::Nonblock { sock, .. }
        | Command::Dup { sock, .. }
        | Command::Makefile { sock, .. }
        | Command::RecvFd { sock, .. }
        | Command::Inheritable { sock, .. }
        | Command::EpollWait { epoll: sock, .. } => vec![sock],
        Command::EpollAdd { epoll, sock, .. } | Command::EpollDel { epoll, sock } => {
            vec![epoll, sock]
        }
        Command::SendFd { sock, fd } => vec![sock, fd],
        Command::Select { read, write, .. } => read.iter_mut().chain(write.iter_mut()).collect(),
        Command::Poll { socks, .. } => socks.iter_mut().collect(),
        Command::Expect(Check::State { sock, .. } | Check::Fd { sock, .. }) => vec![sock],
        _ => Vec::new(),
    }
}

/// `command` with each socket it names by fd number named by the name `name_of` gives that fd
/// (in the process the command runs in), so `send 4 "hi"` is the lesson's `send conn "hi"` when
/// fd 4 is `conn`.
pub fn resolve_fds(command: &Command, name_of: impl Fn(i32) -> Option<String>) -> Command {
    let mut resolved = command.clone();
    for sock in sock_refs_mut(&mut resolved) {
        if let SockRef::Fd(fd) = sock {
            if let Some(name) = name_of(*fd) {
                *sock = SockRef::Name(name);
            }
        }
    }
    resolved
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

    /// Prose (narration, a hint) with the learner's names: each `$NAME`, and each command or
    /// name between backquotes (`accept srv as conn`, `srv`), so what it says can be copied.
    /// `place` then says where a quoted command runs (see [`place`]).
    pub fn respell_prose(&self, text: &str, place: impl Fn(&str) -> String) -> String {
        let text = self.respell_narration(text);
        let mut out = String::new();
        let mut rest = text.as_str();
        while let Some(open) = rest.find('`') {
            let Some(close) = rest[open + 1..].find('`') else {
                break;
            };
            let quoted = &rest[open + 1..open + 1 + close];
            out.push_str(&rest[..=open]);
            let respelled = if let Some(name) = self
                .sockets
                .get(quoted)
                .or_else(|| self.processes.get(quoted))
            {
                name.clone()
            } else if matches!(parse_line(quoted), Ok(Some(_))) {
                place(&self.respell(quoted))
            } else {
                // Python: the variables are the learner's sockets (`a.connect(addr)`).
                self.respell_python(quoted)
            };
            out.push_str(&respelled);
            out.push('`');
            rest = &rest[open + close + 2..];
        }
        out.push_str(rest);
        out
    }

    /// A line of Python with each variable named as a lesson's socket the learner named
    /// otherwise respelled: `a.connect(addr)` is `cli.connect(addr)`. An attribute (`os.fork`)
    /// and a string (`b"conn"`) stay as they are.
    fn respell_python(&self, code: &str) -> String {
        if self.sockets.is_empty() {
            return code.to_string();
        }
        let mut out = String::new();
        let mut word = String::new();
        let mut quote: Option<char> = None;
        let mut after_dot = false;
        let flush = |word: &mut String, out: &mut String, after_dot: bool| {
            if word.is_empty() {
                return;
            }
            match self.sockets.get(word.as_str()) {
                Some(name) if !after_dot => out.push_str(name),
                _ => out.push_str(word),
            }
            word.clear();
        };
        for c in code.chars() {
            if let Some(q) = quote {
                out.push(c);
                if c == q {
                    quote = None;
                }
                continue;
            }
            if c.is_alphanumeric() || c == '_' {
                word.push(c);
                continue;
            }
            if c == '"' || c == '\'' {
                // `b"…"`: the word is the string's prefix.
                out.push_str(&word);
                word.clear();
                quote = Some(c);
            }
            flush(&mut word, &mut out, after_dot);
            after_dot = c == '.';
            out.push(c);
        }
        if quote.is_none() {
            flush(&mut word, &mut out, after_dot);
        } else {
            out.push_str(&word);
        }
        out
    }

    /// The text an output check quotes, with the learner's names where sockplay prints the
    /// lesson's: `fd 4 (conn)` is `fd 4 (c2)`, `readline(f)` is `readline(lines)`.
    pub fn respell_output(&self, text: &str) -> String {
        let mut text = text.to_string();
        for (lesson, learner) in &self.sockets {
            text = text.replace(&format!("({lesson})"), &format!("({learner})"));
        }
        text
    }

    /// The learner's name for the lesson's socket `lesson`.
    pub fn socket<'a>(&'a self, lesson: &'a str) -> &'a str {
        self.sockets.get(lesson).map_or(lesson, String::as_str)
    }

    /// The learner's name for the lesson's process `lesson`.
    pub fn process<'a>(&'a self, lesson: &'a str) -> &'a str {
        self.processes.get(lesson).map_or(lesson, String::as_str)
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

/// `line`, a command of the lesson, made to run in `lesson`, the process the lesson means, when
/// the learner's current process is another (`use client`): `main: accept srv as conn`, and
/// `wait main` for a bare `wait`. A command that names its process, or is about no process
/// (`help`, `ps`, `set`), stays as it is.
pub fn place(line: &str, lesson: &str, current: &str) -> String {
    if lesson == current {
        return line.to_string();
    }
    let Ok(Some(command)) = parse_line(line) else {
        return line.to_string();
    };
    match &command {
        Command::In { .. } => line.to_string(),
        Command::Wait { process: None } => format!("wait {lesson}"),
        command if command.concerns_one_process() => format!("{lesson}: {line}"),
        _ => line.to_string(),
    }
}

/// The bytes a sending command sends, and the command with them taken out, to compare.
fn sent_bytes(command: &Command) -> Option<(Vec<u8>, Command)> {
    let mut without = command.base().clone();
    let bytes = match &mut without {
        Command::Send { payload, .. } | Command::SendTo { payload, .. } => {
            // `--bytes N` is about how much fits, not what the bytes say.
            match std::mem::replace(payload, Payload::Bytes(Vec::new())) {
                Payload::Bytes(bytes) => bytes,
                Payload::Pattern(_) => return None,
            }
        }
        Command::Write { data, .. } => std::mem::take(data),
        _ => return None,
    };
    Some((bytes, without))
}

/// What the learner sent in place of the lesson's bytes: later checks read what really went
/// over the connection (a send of other bytes is still the lesson's send).
#[derive(Debug, Default, Clone)]
pub struct Sent {
    /// (the lesson's bytes, the learner's bytes, the walked step where they were sent).
    replaced: Vec<(Vec<u8>, Vec<u8>, usize)>,
    /// The bytes of every send the walk made, in order.
    log: Vec<Vec<u8>>,
}

impl Sent {
    /// Notes the bytes `command`, which ran, sent (if it sends).
    pub fn log(&mut self, command: &Command) {
        if let Some((bytes, _)) = sent_bytes(command) {
            if !bytes.is_empty() {
                self.log.push(bytes);
            }
        }
    }

    /// The bytes of every send the walk made, in order.
    pub fn sends(&self) -> &[Vec<u8>] {
        &self.log
    }

    /// Notes `typed`, when it is the step's `lesson` send with other bytes; says whether it was.
    pub fn note(&mut self, lesson: &Command, typed: &Command, step: usize) -> bool {
        let (Some((wanted, lesson_call)), Some((given, typed_call))) =
            (sent_bytes(lesson), sent_bytes(typed))
        else {
            return false;
        };
        if wanted == given || lesson_call != typed_call {
            return false;
        }
        self.replaced.retain(|(_, _, at)| *at != step);
        self.replaced.push((wanted, given, step));
        true
    }

    /// Narration of walked step `step` with the learner's bytes where it quotes the lesson's
    /// (`"2+2"`), and their length where it says how many bytes (`fd 4 has 4 bytes`).
    pub fn rewrite_prose(&self, text: &str, step: usize) -> String {
        let mut text = text.to_string();
        for (wanted, given, at) in &self.replaced {
            if *at > step {
                continue;
            }
            let (from, to) = (escape_bytes(wanted), escape_bytes(given));
            if !from.is_empty() {
                text = text.replace(&format!("\"{from}\""), &format!("\"{to}\""));
            }
            text = replace_count(&text, wanted.len(), given.len());
        }
        text
    }

    /// `check`, of walked step `step`, reading the learner's bytes where it reads the lesson's:
    /// the data itself, and its length (`= 4`, `4 bytes`) in the step that sent it and in steps
    /// that read or wait for it (`reads`).
    pub fn rewrite(&self, check: &mut Check, step: usize, reads: bool) {
        for (wanted, given, at) in &self.replaced {
            if *at > step {
                continue;
            }
            let counts = *at == step || reads;
            match check {
                Check::Data(expected) => {
                    if expected == wanted {
                        *expected = given.clone();
                    } else if !expected.is_empty() && wanted.starts_with(expected) {
                        // A read cut short (a datagram into a small buffer) takes as much of
                        // the learner's bytes.
                        *expected = given[..expected.len().min(given.len())].to_vec();
                    }
                }
                Check::Output(text) => {
                    let (from, to) = (escape_bytes(wanted), escape_bytes(given));
                    if !from.is_empty() {
                        *text = text.replace(&from, &to);
                    }
                    if counts {
                        *text = replace_count(text, wanted.len(), given.len());
                    }
                }
                _ => {}
            }
        }
    }
}

/// `text` with the byte count `from` said as `= N` or `N bytes` said as `to`.
fn replace_count(text: &str, from: usize, to: usize) -> String {
    let (from, to) = (from.to_string(), to.to_string());
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(&from) {
        let before = &rest[..at];
        let after = &rest[at + from.len()..];
        let digit_before = before.ends_with(|c: char| c.is_ascii_digit());
        let digit_after = after.starts_with(|c: char| c.is_ascii_digit());
        let is_count = !digit_before
            && !digit_after
            && (before.ends_with("= ") || after.starts_with(" bytes"));
        out.push_str(before);
        out.push_str(if is_count { &to } else { &from });
        rest = after;
    }
    out.push_str(rest);
    out
}

/// The calls whose result is a new fd (`accept(3) = 4`).
const MAKES_AN_FD: &[&str] = &["accept", "accept4", "socket", "epoll_create1", "dup"];

/// `text`, sockplay's output as a lesson quotes it, with each fd number `renumbered` maps (the
/// lesson's number to the learner's) said as the learner's: `fd 4`, a call's first argument
/// (`recv(4,`), the fds of a list (`in [3 4]`, `SCM_RIGHTS=[5]`) and a new fd (`accept(3) = 4`).
/// Other numbers (byte counts, ports) stay.
pub fn renumber(text: &str, renumbered: &BTreeMap<i32, i32>) -> String {
    if renumbered.is_empty() {
        return text.to_string();
    }
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find(|c: char| c.is_ascii_digit()) {
        let end = rest[start..]
            .find(|c: char| !c.is_ascii_digit())
            .map_or(rest.len(), |n| start + n);
        let before = format!("{out}{}", &rest[..start]);
        let (number, after) = (&rest[start..end], &rest[end..]);
        let new = number
            .parse::<i32>()
            .ok()
            .filter(|_| is_an_fd(&before, after))
            .and_then(|fd| renumbered.get(&fd));
        out.push_str(&rest[..start]);
        match new {
            Some(fd) => out.push_str(&fd.to_string()),
            None => out.push_str(number),
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// Whether a number between `before` and `after` in sockplay's output is an fd.
fn is_an_fd(before: &str, after: &str) -> bool {
    let word_before = |word: &str| {
        before
            .strip_suffix(word)
            .is_some_and(|b| !b.ends_with(|c: char| c.is_alphanumeric() || c == '_'))
    };
    if word_before("fd ") {
        return true;
    }
    if before.ends_with('(')
        && before[..before.len() - 1].ends_with(|c: char| c.is_alphanumeric())
        && (after.starts_with(',') || after.starts_with(')'))
    {
        return true;
    }
    if let Some(open) = before.rfind('[') {
        if before[open + 1..]
            .chars()
            .all(|c| c.is_ascii_digit() || c == ' ')
        {
            return true;
        }
    }
    if let Some(call) = before.strip_suffix(") = ") {
        if let Some(open) = call.rfind('(') {
            let name_start = call[..open]
                .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
                .map_or(0, |n| n + 1);
            return MAKES_AN_FD.contains(&&call[name_start..open]);
        }
    }
    false
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
    ///
    /// Bytes that are what `sends` (every send of the walk) sent in more than one call, one after
    /// the other, hold a data check that wants one of them: the sends' boundaries are gone.
    pub fn judge(&self, process: &str, check: &Check, sends: &[Vec<u8>]) -> Option<Judgement> {
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
        if let Check::Data(expected) = check {
            if let Some(n) = sends_in_one(&all, expected, sends) {
                return Some(Judgement::Held(format!(
                    "✓ received \"{}\": the bytes of {n} sends in one `recv`, TCP is a byte stream, it keeps no message boundaries",
                    escape_bytes(&all)
                )));
            }
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

/// How many of `sends`, one after the other, `received` is, when it is more than one of them and
/// one of them is `expected`.
fn sends_in_one(received: &[u8], expected: &[u8], sends: &[Vec<u8>]) -> Option<usize> {
    if received.is_empty() || expected.is_empty() || received == expected {
        return None;
    }
    (0..sends.len()).find_map(|first| {
        let mut joined = Vec::new();
        for (n, send) in sends[first..].iter().enumerate() {
            joined.extend_from_slice(send);
            if joined.len() >= received.len() {
                let held = n > 0
                    && joined == received
                    && sends[first..=first + n].iter().any(|s| s == expected);
                return held.then_some(n + 1);
            }
        }
        None
    })
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

    #[test]
    fn hints_quote_commands_and_names_the_learners_way_and_where_they_run() {
        let names = learned(&[
            ("socket tcp as srv", "socket tcp as L"),
            ("spawn client", "spawn cli"),
        ]);
        let here = |line: &str| line.to_string();
        assert_eq!(
            names.respell_prose("`accept srv as conn`.", here),
            "`accept L as conn`."
        );
        assert_eq!(
            names.respell_prose("Type `client: socket tcp as c`; the name `srv`.", here),
            "Type `cli: socket tcp as c`; the name `L`."
        );
        // Python's variables are the learner's sockets; attributes, strings and an unbalanced
        // quote stay as they are.
        assert_eq!(
            names.respell_prose("`conn, addr = srv.accept()` and `srv", here),
            "`conn, addr = L.accept()` and `srv"
        );
        assert_eq!(
            names.respell_prose("`os.srv(srv, b\"srv\", 'srv')`", here),
            "`os.srv(L, b\"srv\", 'srv')`"
        );
        let in_cli = |line: &str| place(line, "main", "cli");
        assert_eq!(
            names.respell_prose("`close conn` in main.", in_cli),
            "`main: close conn` in main."
        );
    }

    #[test]
    fn the_lessons_commands_say_where_they_run_when_the_learner_is_elsewhere() {
        assert_eq!(
            place("accept srv as conn", "main", "main"),
            "accept srv as conn"
        );
        assert_eq!(
            place("accept srv as conn", "main", "cli"),
            "main: accept srv as conn"
        );
        assert_eq!(place("client: recv c", "main", "cli"), "client: recv c");
        assert_eq!(place("wait", "main", "cli"), "wait main");
        assert_eq!(place("wait client", "main", "cli"), "wait client");
        assert_eq!(place("fds", "main", "cli"), "main: fds");
        assert_eq!(place("ps", "main", "cli"), "ps");
        assert_eq!(
            place("expect fd conn 4", "main", "cli"),
            "main: expect fd conn 4"
        );
    }

    #[test]
    fn a_send_of_other_bytes_is_the_lessons_send_and_checks_read_the_learners_bytes() {
        let mut sent = Sent::default();
        let lesson = command("client: send c \"ping\"");
        assert!(!sent.note(&lesson, &command("client: send c \"ping\""), 11));
        assert!(!sent.note(&lesson, &command("client: send d \"pong!\""), 11));
        assert!(!sent.note(&lesson, &command("recv c"), 11));
        assert!(sent.note(&lesson, &command("client: send c \"pong!\""), 11));
        let rewritten = |check: Check, step, reads| {
            let mut check = check;
            sent.rewrite(&mut check, step, reads);
            check
        };
        let output = |text: &str| Check::Output(text.to_string());
        assert_eq!(rewritten(output("= 4"), 11, false), output("= 5"));
        assert_eq!(
            rewritten(output("fd 4 (conn) is readable: 4 bytes waiting"), 12, true),
            output("fd 4 (conn) is readable: 5 bytes waiting")
        );
        // Counts only where the bytes are read; fd numbers and other numbers stay.
        assert_eq!(rewritten(output("= 4"), 13, false), output("= 4"));
        assert_eq!(
            rewritten(output("= 1 (in [4])"), 12, true),
            output("= 1 (in [4])")
        );
        assert_eq!(rewritten(output("= 44"), 11, false), output("= 44"));
        // Before the send, nothing changes.
        assert_eq!(rewritten(output("= 4"), 10, false), output("= 4"));
        assert_eq!(
            rewritten(Check::Data(b"ping".to_vec()), 12, true),
            Check::Data(b"pong!".to_vec())
        );
        assert_eq!(
            rewritten(Check::Data(b"pi".to_vec()), 12, true),
            Check::Data(b"po".to_vec())
        );
        assert_eq!(
            rewritten(output("send(3, \"ping\""), 11, false),
            output("send(3, \"pong!\"")
        );
        // `--bytes N` is about how much fits, not what the bytes say.
        let mut sent = Sent::default();
        assert!(!sent.note(
            &command("send cli --bytes 10000000"),
            &command("send cli --bytes 5"),
            3
        ));
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

    impl Received {
        fn judge_alone(&self, process: &str, check: &Check) -> Option<Judgement> {
            self.judge(process, check, &[])
        }
    }

    #[test]
    fn a_message_read_in_two_recvs_adds_up() {
        let mut received = Received::default();
        received.note("main", &recv_outcome("hello"));
        let data = Check::Data(b"hello from B".to_vec());
        assert!(matches!(
            received.judge_alone("main", &data),
            Some(Judgement::SoFar(_))
        ));
        let whole = Check::Data(b"hello".to_vec());
        assert_eq!(
            received.judge_alone("main", &whole),
            None,
            "one piece that holds: as a script"
        );
        let other = Check::Data(b"bye".to_vec());
        assert_eq!(
            received.judge_alone("main", &other),
            None,
            "other bytes: as a script"
        );
        received.note("main", &recv_outcome(" from"));
        assert!(matches!(
            received.judge_alone("main", &data),
            Some(Judgement::SoFar(_))
        ));
        received.note("main", &recv_outcome(" B"));
        assert!(matches!(
            received.judge_alone("main", &data),
            Some(Judgement::Held(_))
        ));
        let output = Check::Output("hello from B".into());
        assert!(matches!(
            received.judge_alone("main", &output),
            Some(Judgement::Held(_))
        ));
        // A check of the call line is not about the bytes.
        assert_eq!(
            received.judge_alone("main", &Check::Output("recv(5,".into())),
            None
        );
        assert_eq!(received.judge_alone("client", &data), None);
    }
}
