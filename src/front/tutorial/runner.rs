//! Walking a tutorial: narration, the suggested command shown above an empty line (Enter runs it;
//! what the learner types replaces it), the real call and the panel, then the step's checks decide
//! whether to go on, with a hint when they do not. The checks test the lesson, not the spelling
//! (see `lesson.rs`); `help`, `fds`, `ss`, `ps`, `set`, `use` and `!cmd` do not take the step; a
//! walked state check waits briefly. After `use`, the lesson's commands say which process they
//! mean (`main: accept srv`). The ending says which steps were skipped. A finished walk leaves
//! the learner at the prompt with its sockets, and the fd limit it lowered given back.
//! `--auto` runs every step unattended and fails on the first check that does not hold. While a
//! tutorial runs, `ss` lists its sockets only.

use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;
use std::time::Duration;

use rustyline::error::ReadlineError;

use super::lesson::{
    place, renumber, resolve_fds, same_kind, Judgement, Named, Names, Received, Sent,
};
use super::{paragraphs, Step, Tutorial, TUTORIALS};
use crate::engine::{Engine, Stop};
use crate::error::Error;
use crate::front::repl::{
    is_undecodable, new_editor, refresh_completion, LineEditor, MAX_UNDECODABLE, UNDECODABLE,
};
use crate::front::terminal::{rewrite_line_above, say, terminal_width};
use crate::lang::{failure_excused, parse_line, Check, Command, SockRef};
use crate::process::{Table, MAIN};
use crate::text::escape_bytes;
use crate::text::{display_width, safe_line};

/// The list `sockplay --tutorial` prints, wrapped to the terminal (a pipe gets a line per
/// tutorial).
pub fn list_tutorials() -> Vec<String> {
    let width = terminal_width().unwrap_or(usize::MAX);
    let mut lines = wrap(
        "Tutorials (walk one with `sockplay --tutorial NAME`):",
        "",
        width,
    );
    lines.push(String::new());
    let name_width = TUTORIALS
        .iter()
        .map(|(name, _)| name.len())
        .max()
        .unwrap_or(0);
    for (name, text) in TUTORIALS {
        let summary = Tutorial::parse(name, text)
            .map(|t| t.summary)
            .unwrap_or_default();
        lines.extend(wrap(
            &format!("  {name:name_width$}  {summary}"),
            &" ".repeat(name_width + 4),
            width,
        ));
    }
    lines.push(String::new());
    lines.extend(wrap(
        "Each one runs real calls on real sockets: you type (or accept) each command and watch the FD table change. `--auto` runs a tutorial unattended.",
        "",
        width,
    ));
    lines
}

/// The width tutorial text wraps to: the terminal's, at most 100 columns (longer lines read
/// badly), 100 when it is not a terminal.
fn text_width() -> usize {
    terminal_width()
        .unwrap_or(MAX_TEXT_WIDTH)
        .min(MAX_TEXT_WIDTH)
}

/// The widest tutorial text is wrapped.
const MAX_TEXT_WIDTH: usize = 100;

/// How long a walked step's `expect state` waits for its state: the kernel is done in far less on
/// loopback, and a learner should not stare at a frozen prompt when it never comes.
const WALKED_STATE_WAIT: Duration = Duration::from_secs(1);

/// `text` made safe and wrapped to `width` (`usize::MAX`: not at all), the lines after the first
/// indented by `indent`.
fn wrap(text: &str, indent: &str, width: usize) -> Vec<String> {
    if width == usize::MAX {
        return vec![safe_line(text).into_owned()];
    }
    let options = textwrap::Options::new(width.max(20))
        .subsequent_indent(indent)
        .word_splitter(textwrap::WordSplitter::NoHyphenation);
    textwrap::wrap(&safe_line(text), options)
        .into_iter()
        .map(|line| line.into_owned())
        .collect()
}

/// Says `text`, wrapped to the terminal.
fn say_wrapped(text: &str, indent: &str) {
    for line in wrap(text, indent, text_width()) {
        say(line);
    }
}

/// Runs the tutorial called `name`, walked (at a prompt) or `auto`. Walked, it ends when the
/// learner is done or leaves; `auto`, at the first command that fails or check that does not hold.
pub fn run_tutorial(name: &str, auto: bool, engine: &mut Engine) -> Result<(), Error> {
    let tutorial = match Tutorial::named(name) {
        Some(parsed) => parsed.map_err(Error::Syntax)?,
        None => {
            let names: Vec<&'static str> = TUTORIALS.iter().map(|(n, _)| *n).collect();
            return Err(Error::NoTutorial {
                name: name.to_string(),
                near: crate::text::closest(name, &names),
            });
        }
    };
    let width = text_width();
    let title = wrap(&tutorial.title, "", width);
    let underline = title.iter().map(|l| display_width(l)).max().unwrap_or(0);
    for line in title {
        say(line);
    }
    say("=".repeat(underline));
    narrate(std::slice::from_ref(&tutorial.summary));
    engine.begin_lesson();
    let ran = if auto {
        run_auto(&tutorial, engine)
    } else {
        walk(&tutorial, engine)
    };
    engine.end_lesson();
    ran
}

/// Prints narration paragraphs, wrapped, with `$NAME` replaced by that socket's address and the
/// commands it quotes in the learner's names, said where they run (`place`).
/// The bytes and counts it quotes are the ones the learner sent (`sent`, before walked step
/// `number`).
fn say_step(
    step: &Step,
    engine: &Engine,
    learners: (&Names, &Sent, usize),
    place: impl Fn(&str) -> String,
) {
    say_narration(&step.narration, engine, learners, place);
}

/// Prints `narration` as [`say_step`] does.
fn say_narration(
    narration: &[String],
    engine: &Engine,
    (names, sent, number): (&Names, &Sent, usize),
    place: impl Fn(&str) -> String,
) {
    // Paragraphs first: a count and its word may sit on two lines of the script.
    let lines: Vec<String> = paragraphs(narration)
        .iter()
        .map(|line| sent.rewrite_prose(line, number))
        .map(|line| engine.expand_names(&names.respell_prose(&line, &place)))
        .collect();
    narrate(&lines);
}

/// Prints paragraphs wrapped to the terminal, each made safe before it is measured.
fn narrate(paragraphs: &[String]) {
    for paragraph in paragraphs {
        say("");
        say_wrapped(paragraph, "");
    }
}

/// Runs the step's checks; the first that does not hold is returned.
fn run_checks(tutorial: &Tutorial, step: &Step, engine: &mut Engine) -> Result<(), Stop> {
    for (line, text, check) in &step.checks {
        // A check that held still held when stdout is gone; the next step's command stops.
        let done = engine
            .run_and_print(*line, text, check)
            .unwrap_or_else(|unshown| unshown.step);
        if let Some(failure) = done.outcome.failure {
            return Err(failed(tutorial, *line, failure.headline()));
        }
    }
    Ok(())
}

/// Why a walked step's checks did not hold.
enum Miss {
    /// A check failed; its line says what it expected and what it got.
    Failed,
    /// The bytes received so far are the start of what the step wants.
    SoFar,
}

/// What a walked step's checks are read against: the learner's names and bytes, the process
/// the lesson means, and what the step's `recv`s returned.
struct Against<'a> {
    names: &'a Names,
    sent: &'a Sent,
    received: &'a Received,
    /// The process the lesson's commands without `NAME:` mean.
    lesson_process: &'a str,
    /// The walked step's number, for `sent`.
    number: usize,
    /// The fd each socket has in the lesson, by the lesson's names of its process and itself.
    lesson_fds: &'a LessonFds,
    /// The process the lesson's commands without `NAME:` mean, in the lesson's own name.
    lesson_own_process: &'a str,
}

/// The fd each socket has in the lesson at a step, by the lesson's names of its process and
/// itself, as the lesson's `expect fd` checks say.
type LessonFds = BTreeMap<(String, String), i32>;

/// The fds the lesson's sockets have up to step `index` (its checks included), as its
/// `expect fd` checks say: the last one of each name counts.
fn lesson_fds(tutorial: &Tutorial, index: usize) -> LessonFds {
    let mut fds = LessonFds::new();
    for (at, step) in tutorial.steps.iter().enumerate().take(index + 1) {
        let own = lesson_process(tutorial, at, &Names::default());
        for (_, _, check) in &step.checks {
            let process = match check {
                Command::In { process, .. } => process.clone(),
                _ => own.clone(),
            };
            if let Command::Expect(Check::Fd {
                sock: SockRef::Name(name),
                fd,
            }) = check.base()
            {
                fds.insert((process, name.clone()), *fd);
            }
        }
    }
    fds
}

/// The table of the process called `name` (the newest of that name).
fn table_named<'a>(engine: &'a Engine, name: &str) -> Option<&'a Table> {
    engine
        .processes
        .list()
        .iter()
        .rev()
        .find(|p| p.name == name)
        .map(|p| &p.table)
}

/// The lesson's fd numbers in the lesson's process `process` that are other numbers in the
/// learner's: the learner's sockets got other fds.
fn renumbered(engine: &Engine, against: &Against, process: &str) -> BTreeMap<i32, i32> {
    let names = against.names;
    let Some(table) = table_named(engine, names.process(process)) else {
        return BTreeMap::new();
    };
    against
        .lesson_fds
        .iter()
        .filter(|((p, _), _)| p == process)
        .filter_map(|((_, sock), fd)| {
            let theirs = *table.view.sockets.get(names.socket(sock))?;
            (theirs != *fd).then_some((*fd, theirs))
        })
        .collect()
}

/// Runs the walked step's checks, respelled with the learner's names, where the lesson means
/// them, against what the learner did: the bytes of several `recv`s count together, the bytes
/// the learner sent in place of the lesson's are the ones read, and a state is waited for only
/// briefly.
fn run_walked_checks(step: &Step, engine: &mut Engine, against: &Against) -> Result<(), Miss> {
    let timeout = engine.settings.timeout;
    engine.settings.timeout = timeout.min(WALKED_STATE_WAIT);
    let held = run_each_check(step, engine, against);
    engine.settings.timeout = timeout;
    held
}

/// Whether a step's command reads bytes or waits for them, so its checks may count the bytes a
/// learner sent (`4 bytes waiting`).
fn reads(command: &Command) -> bool {
    matches!(
        command.base(),
        Command::Recv { .. }
            | Command::RecvFrom { .. }
            | Command::Read { .. }
            | Command::ReadLine { .. }
            | Command::Select { .. }
            | Command::Poll { .. }
            | Command::EpollWait { .. }
    )
}

/// The check inside `expect …`, `NAME: expect …`, to change.
fn check_mut(command: &mut Command) -> Option<&mut Check> {
    match command {
        Command::In { command, .. } | Command::Background(command) => check_mut(command),
        Command::Expect(check) => Some(check),
        _ => None,
    }
}

/// The line of a data or output check as it would be typed, for `prefix` (`client: ` or
/// nothing).
fn check_line(prefix: &str, check: &Check) -> Option<String> {
    let quoted = |text: &str| text.replace('\\', "\\\\").replace('"', "\\\"");
    match check {
        Check::Data(bytes) => Some(format!("{prefix}expect data \"{}\"", escape_bytes(bytes))),
        Check::Output(text) => Some(format!("{prefix}expect output \"{}\"", quoted(text))),
        Check::Open(fd) => Some(format!("{prefix}expect open {fd}")),
        Check::Closed(fd) => Some(format!("{prefix}expect closed {fd}")),
        _ => None,
    }
}

/// A walked step's check as the learner's walk reads it: its text and command.
fn walked_check(
    text: &str,
    original: &Command,
    engine: &Engine,
    step: &Step,
    against: &Against,
) -> (String, Command) {
    let current = engine.processes.current().name.clone();
    let text = place(
        &against.names.respell(text),
        against.lesson_process,
        &current,
    );
    let mut check = match parse_line(&text) {
        Ok(Some(respelled)) => respelled,
        _ => original.clone(),
    };
    let before = check.clone();
    let process = match original {
        Command::In { process, .. } => process.as_str(),
        _ => against.lesson_own_process,
    };
    let renumbered = renumbered(engine, against, process);
    if let Some(expected) = check_mut(&mut check) {
        against
            .sent
            .rewrite(expected, against.number, reads(&step.command));
        match expected {
            // What sockplay prints, with the learner's names and fd numbers.
            Check::Output(text) => {
                *text = renumber(&against.names.respell_output(text), &renumbered)
            }
            Check::Open(fd) | Check::Closed(fd) => *fd = *renumbered.get(fd).unwrap_or(fd),
            _ => {}
        }
    }
    if check == before {
        return (text, check);
    }
    // The learner's bytes: the line says so too.
    let prefix = match &check {
        Command::In { process, .. } => format!("{process}: "),
        _ => String::new(),
    };
    let line = match &check {
        Command::Expect(c) => check_line(&prefix, c),
        Command::In { command, .. } => match command.as_ref() {
            Command::Expect(c) => check_line(&prefix, c),
            _ => None,
        },
        _ => None,
    };
    match line {
        Some(line) if matches!(parse_line(&line), Ok(Some(ref c)) if *c == check) => (line, check),
        _ => (text, check),
    }
}

fn run_each_check(step: &Step, engine: &mut Engine, against: &Against) -> Result<(), Miss> {
    for (line, text, check) in &step.checks {
        let (text, check) = walked_check(text, check, engine, step, against);
        let received = against.received;
        if let Command::Expect(expected) = check.base() {
            let process = process_of(&check, engine);
            if let Some(line) = lowest_free(engine, &process, expected) {
                say_wrapped(&line, "  ");
                continue;
            }
            match received.judge(&process, expected, against.sent.sends()) {
                Some(Judgement::Held(line)) => {
                    say_wrapped(&line, "  ");
                    continue;
                }
                Some(Judgement::SoFar(line)) => {
                    say_wrapped(&line, "  ");
                    return Err(Miss::SoFar);
                }
                None => {}
            }
        }
        // The line first, then whatever the check says while it waits, then its result.
        if !engine.view.json {
            say(format_args!("{}{text}", engine.prompt()));
        }
        engine.view.echo = false;
        let ran = engine.run_and_print(*line, &text, &check);
        engine.view.echo = true;
        let done = ran.unwrap_or_else(|unshown| unshown.step);
        if done.outcome.failure.is_some() {
            return Err(Miss::Failed);
        }
    }
    Ok(())
}

/// What an `expect fd NAME N` says when the learner's socket is another, higher fd because the
/// learner's table has more fds open: every fd below it is taken, so it got the lowest free
/// number, which is the lesson.
fn lowest_free(engine: &Engine, process: &str, check: &Check) -> Option<String> {
    let Check::Fd {
        sock: SockRef::Name(name),
        fd: lessons,
    } = check
    else {
        return None;
    };
    let table = table_named(engine, process)?;
    let theirs = *table.view.sockets.get(name)?;
    let all_taken = (0..theirs).all(|fd| table.snapshot.get(fd).is_some());
    (theirs > *lessons && all_taken).then(|| {
        format!("✓ {name} is fd {theirs}, where the lesson has fd {lessons}: fds 0 to {} are all taken in your table, and a new fd gets the lowest free number", theirs - 1)
    })
}

/// The name of fd `fd` in the process called `process`, if it has one.
fn name_of(engine: &Engine, process: &str, fd: i32) -> Option<String> {
    let table = table_named(engine, process)?;
    table
        .view
        .sockets
        .iter()
        .find(|(_, at)| **at == fd)
        .map(|(name, _)| name.clone())
}

/// The process `command` runs in: the one `NAME:` names, else the current one.
fn process_of(command: &Command, engine: &Engine) -> String {
    match command {
        Command::In { process, .. } => process.clone(),
        _ => engine.processes.current().name.clone(),
    }
}

/// Whether `name` is free where `command` would give it: no process of that name, or no socket
/// or file object of that name in the process the command runs in.
fn is_free(engine: &Engine, command: &Command, named: &Named) -> bool {
    let Some(name) = named.name() else {
        return false;
    };
    let processes = &engine.processes;
    if named.is_process() {
        return processes.find(name).is_err();
    }
    let process = process_of(command, engine);
    processes
        .list()
        .iter()
        .rev()
        .find(|p| p.name == process)
        .is_some_and(|p| {
            !p.table.view.sockets.contains_key(name)
                && !p.table.view.files.iter().any(|f| f == name)
        })
}

/// A tutorial stopped at `line` by a failure.
fn failed(tutorial: &Tutorial, line: usize, headline: String) -> Stop {
    Stop::Failed {
        source: format!("tutorial {}", tutorial.name),
        line,
        headline,
    }
}

/// Whether the step's first check expects its command to fail (`expect error …`).
fn expects_failure(step: &Step) -> bool {
    failure_excused(
        &step.command,
        step.checks.first().map(|(_, _, check)| check),
    )
}

/// Every step, unattended: like replaying the script, with the narration shown.
fn run_auto(tutorial: &Tutorial, engine: &mut Engine) -> Result<(), Error> {
    let total = tutorial.steps.len();
    let names = Names::default();
    for (index, step) in tutorial.steps.iter().enumerate() {
        say(format_args!("\n── step {}/{total} ──", index + 1));
        say_step(step, engine, (&names, &Sent::default(), 0), str::to_string);
        // A screen that is gone does not stop the run: the rest runs unseen, and the status
        // still says whether every check held.
        let done = match engine.run_and_print(step.line, &step.text, &step.command) {
            Ok(done) => done,
            Err(unshown) => unshown.step,
        };
        if let (Some(failure), false) = (&done.outcome.failure, expects_failure(step)) {
            return Err(Error::Stopped(failed(
                tutorial,
                step.line,
                failure.headline(),
            )));
        }
        run_checks(tutorial, step, engine).map_err(Error::Stopped)?;
    }
    narrate(&paragraphs(&tutorial.outro));
    say(format_args!(
        "\nEvery check held: tutorial `{}` done.",
        tutorial.name
    ));
    Ok(())
}

/// What the learner asked for at a step's prompt.
enum Answer {
    /// A line to run; true when it is the suggestion, taken with Enter on an empty line.
    Run(String, bool),
    Back,
    Skip,
    Quit,
    /// A line that was not UTF-8.
    Undecodable(ReadlineError),
}

/// Reads the learner's answer. The line starts empty: typing replaces the suggestion, and Enter
/// on the empty line (or a pipe's empty line) takes it; Ctrl-D leaves.
fn ask(editor: &mut LineEditor, prompt: &str, suggestion: &str) -> Answer {
    if let Some(helper) = editor.helper_mut() {
        helper.suggestion = Some(suggestion.to_string());
    }
    let read = crate::sys::read_at_prompt(|| editor.readline(prompt));
    if let Some(helper) = editor.helper_mut() {
        helper.suggestion = None;
    }
    match read {
        Ok(line) => match line.trim() {
            "" => Answer::Run(suggestion.to_string(), true),
            "back" => Answer::Back,
            "skip" => Answer::Skip,
            "quit" | "exit" => Answer::Quit,
            typed => Answer::Run(typed.to_string(), false),
        },
        Err(ReadlineError::Interrupted) => Answer::Run(String::new(), false),
        Err(e) if is_undecodable(&e) => Answer::Undecodable(e),
        Err(_) => Answer::Quit,
    }
}

/// Shows the line that runs where it was asked for. At a terminal the suggestion taken with
/// Enter is written into the prompt's line, which the editor left empty; read from a pipe, no
/// line shows what runs, so each is written after its prompt.
fn echo_answer(prompt: &str, input: &str, took_suggestion: bool) {
    let at_terminal = std::io::stdin().is_terminal();
    if !at_terminal {
        say(format_args!("{prompt}{input}"));
    } else if took_suggestion {
        rewrite_line_above(format_args!("{prompt}{input}"));
    }
}

/// The commands that look around or change only how things are shown, without doing a step: at
/// a step's prompt they run, and the step waits for its own command still. `use` only changes
/// where the learner's commands run: the lesson's say where they run. `!cmd` looks from outside.
fn looks_around(command: &Command) -> bool {
    matches!(
        command.base(),
        Command::Help { .. }
            | Command::Fds
            | Command::Ss(_)
            | Command::Ps
            | Command::Set(_)
            | Command::Use { .. }
            | Command::Shell { .. }
    )
}

/// Whether running `command` again does the same again: a call that only sends, reads an option
/// or looks. One that takes something (a queued connection, received bytes) or makes a name does
/// not.
fn repeatable(command: &Command) -> bool {
    matches!(
        command.base(),
        Command::Send { .. }
            | Command::SendTo { .. }
            // listen(2) on a listener sets its backlog anew (Linux).
            | Command::Listen { .. }
            | Command::Write { .. }
            | Command::Flush { .. }
            | Command::SetSockOpt { .. }
            | Command::GetSockOpt { .. }
            | Command::GetSockName { .. }
            | Command::GetPeerName { .. }
            | Command::Nonblock { .. }
            | Command::Inheritable { .. }
            | Command::Fileno { .. }
            | Command::Select { .. }
            | Command::Poll { .. }
            | Command::EpollWait { .. }
            | Command::Fds
            | Command::Ss(_)
            | Command::Ps
            | Command::Set(_)
            | Command::Sleep { .. }
            | Command::Ulimit { .. }
    )
}

/// The process the lesson's commands without `NAME:` mean at step `index`: `main`, or the one
/// the last `use` of the steps before chose, in the learner's name for it.
fn lesson_process(tutorial: &Tutorial, index: usize, names: &Names) -> String {
    tutorial.steps[..index]
        .iter()
        .rev()
        .find_map(|step| match &step.command {
            Command::Use { process } => Some(names.respell(&format!("use {process}"))),
            _ => None,
        })
        .and_then(|line| line.strip_prefix("use ").map(str::to_string))
        .unwrap_or_else(|| MAIN.to_string())
}

/// The step numbers `skipped` lists, as words: `step 4`, `steps 4 and 7`, `steps 2, 4 and 7`.
fn step_list(skipped: &BTreeSet<usize>) -> String {
    let numbers: Vec<String> = skipped.iter().map(usize::to_string).collect();
    match numbers.as_slice() {
        [one] => format!("step {one}"),
        [init @ .., last] => format!("steps {} and {last}", init.join(", ")),
        [] => String::new(),
    }
}

/// What the learner's walk ended with, said truthfully.
fn ending(tutorial: &Tutorial, total: usize, skipped: &BTreeSet<usize>) -> String {
    match skipped.len() {
        0 => format!("Tutorial `{}` done: every step's checks held.", tutorial.name),
        n => format!(
            "Tutorial `{}` done: {n} of {total} steps skipped ({}); every other step's checks held.",
            tutorial.name,
            step_list(skipped)
        ),
    }
}

/// What Enter answers once the learner's own call did a step's that cannot be made anew.
const SKIP: &str = "skip";

/// Whether `command` needs a person at the terminal to run (`!cmd`, `record FILE`).
fn needs_a_person(command: &Command) -> bool {
    matches!(
        command.base(),
        Command::Shell { .. } | Command::Record { path: Some(_) }
    )
}

/// The walk at a prompt: it ends when every step is done or the learner leaves, or when the
/// prompt cannot read lines any more. Done, the learner keeps the sockets at the prompt.
fn walk(tutorial: &Tutorial, engine: &mut Engine) -> Result<(), Error> {
    let mut editor = new_editor(engine)?;
    say("");
    say_wrapped(
        "At each step: Enter runs the suggested command, or type your own. `back` shows the step before again, `skip` lets sockplay do the step, `quit` (or Ctrl-D) leaves. `help`, `fds`, `ss`, `ps`, `set` and `!cmd` look around without taking the step.",
        "",
    );
    // A line typed at the terminal is the learner's own, as at the prompt: `!cmd` may run.
    let typed_by_a_person = std::io::stdin().is_terminal();
    // The fd limit the lesson may lower, to give back when the learner goes on at the prompt.
    let fd_limit = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
        .ok()
        .map(|(soft, _)| soft);
    let mut lowered_limit: Option<String> = None;
    // Stand-in steps (what the learner does outside sockplay) are not walked, nor counted.
    let total = tutorial.steps.iter().filter(|s| !s.standin).count();
    let mut names = Names::default();
    let mut sent = Sent::default();
    let mut skipped = BTreeSet::new();
    let mut index = 0;
    let mut undecodable = 0;
    while let Some(step) = tutorial.steps.get(index) {
        if step.standin {
            index += 1;
            continue;
        }
        let number = tutorial.steps[..=index]
            .iter()
            .filter(|s| !s.standin)
            .count();
        let lesson_process = lesson_process(tutorial, index, &names);
        let lesson_own_process = self::lesson_process(tutorial, index, &Names::default());
        let lesson_fds = lesson_fds(tutorial, index);
        let current = engine.processes.current().name.clone();
        say(format_args!("\n── step {number}/{total} ──"));
        say_step(step, engine, (&names, &sent, number), |line| {
            place(line, &lesson_process, &current)
        });
        // What the learner's commands at this step received, and whether one of them already did
        // what the step's command does.
        let mut received = Received::default();
        let mut done_once = false;
        let mut shown_suggestion = String::new();
        // The learner's own call did the step's, which cannot be made anew, or the suggestion
        // itself ran and the checks still failed: Enter goes on with the sockets as they are.
        let mut settled = false;
        let mut suggestion_failed = false;
        loop {
            // Asked to end (SIGTERM, SIGHUP): read and run nothing more; run.rs picks the status.
            if crate::sys::ending_signal().is_some() {
                return Ok(());
            }
            // The suggestion says where it runs when the learner's process is not the lesson's.
            let current = engine.processes.current().name.clone();
            let suggestion = place(&names.respell(&step.text), &lesson_process, &current);
            let lesson = match parse_line(&suggestion) {
                Ok(Some(command)) => command,
                _ => step.command.clone(),
            };
            if settled && shown_suggestion != SKIP {
                say("");
                say("  suggested: skip");
                shown_suggestion = SKIP.to_string();
            } else if !settled && suggestion != shown_suggestion {
                if !shown_suggestion.is_empty() && current != lesson_process {
                    say_wrapped(
                        &format!("(you are in {current} now: the lesson's commands for {lesson_process} say `{lesson_process}:`, and `use {lesson_process}` comes back)"),
                        "",
                    );
                }
                say("");
                say_wrapped(&format!("  suggested: {suggestion}"), "             ");
                shown_suggestion = suggestion.clone();
            }
            refresh_completion(&mut editor, engine);
            let prompt = format!("[{number}/{total}] {}", engine.prompt());
            let answer = match ask(
                &mut editor,
                &prompt,
                if settled { SKIP } else { &suggestion },
            ) {
                Answer::Run(_, true) if settled => Answer::Skip,
                answer => answer,
            };
            let mut ran_suggestion = false;
            let (input, skipping) = match answer {
                Answer::Quit => {
                    say_wrapped(
                        &format!("Left the tutorial at step {number}/{total}; the sockets close as sockplay exits."),
                        "",
                    );
                    return Ok(());
                }
                Answer::Back => {
                    index = previous_walked(tutorial, index);
                    break;
                }
                Answer::Skip if done_once || suggestion_failed => {
                    say("(going on with your sockets as they are)");
                    skipped.insert(number);
                    index += 1;
                    break;
                }
                Answer::Skip => {
                    say("(sockplay runs the step for you, and goes on whatever its checks say)");
                    say(format_args!("{prompt}{suggestion}"));
                    (suggestion.clone(), true)
                }
                Answer::Undecodable(_) if undecodable < MAX_UNDECODABLE => {
                    undecodable += 1;
                    say(UNDECODABLE);
                    continue;
                }
                Answer::Undecodable(error) => return Err(Error::ReadLine { error }),
                Answer::Run(input, _) if input.is_empty() => continue,
                Answer::Run(input, took_suggestion) => {
                    echo_answer(&prompt, &input, took_suggestion);
                    ran_suggestion = took_suggestion || input.trim() == suggestion.trim();
                    (input, false)
                }
            };
            undecodable = 0;
            let mut command = match parse_line(&input) {
                Ok(Some(command)) => command,
                Ok(None) => continue,
                Err(error) => {
                    say(format_args!("error: {}", error.pointed(&input)));
                    say_wrapped(
                        &format!("hint: the suggested command is `{suggestion}`"),
                        "      ",
                    );
                    continue;
                }
            };
            if engine.ends_session(&command) || engine.no_process_left() {
                return Ok(());
            }
            let looking = looks_around(&command) && !same_kind(&command, &lesson);
            // A variant without `as NAME` gets the name the next steps use.
            let given = Names::name_unnamed(&lesson, &mut command, |name| {
                is_free(engine, &command_in(&input), name)
            });
            if !given.is_empty() {
                say(format_args!(
                    "(sockplay names it `{}`, as the next steps call it)",
                    given.join("` and `")
                ));
            }
            // The prompt already shows what was typed; the checks after it are echoed.
            engine.view.echo = false;
            let prompt_typed = engine.view.prompt;
            engine.view.prompt = prompt_typed || (typed_by_a_person && needs_a_person(&command));
            let ran = engine.run_and_print(step.line, &input, &command);
            engine.view.prompt = prompt_typed;
            engine.view.echo = true;
            let done = match ran {
                Ok(done) => done,
                Err(_) => return Ok(()),
            };
            if crate::sys::ending_signal().is_some() {
                return Ok(());
            }
            if looking {
                continue;
            }
            if done.outcome.failure.is_none() {
                names.learn(&lesson, &command);
                sent.log(&command);
                let same_call = same_kind(&lesson, &command);
                done_once |= same_call;
                let process = process_of(&command, engine);
                if same_call && process_of(&lesson, engine) == process {
                    // `send 4` is `send conn` when fd 4 is conn.
                    let named = resolve_fds(&command, |fd| name_of(engine, &process, fd));
                    sent.note(&lesson, &named, number);
                }
            }
            received.note(&done.table.process.name, &done.outcome);
            let against = Against {
                names: &names,
                sent: &sent,
                received: &received,
                lesson_process: &lesson_process,
                number,
                lesson_fds: &lesson_fds,
                lesson_own_process: &lesson_own_process,
            };
            let held = run_walked_checks(step, engine, &against);
            if held.is_ok() || skipping {
                if let Command::Ulimit { limit: Some(_) } = step.command.base() {
                    lowered_limit = Some(lesson_process.clone());
                }
            }
            match held {
                Ok(()) => {
                    if skipping {
                        skipped.insert(number);
                    } else {
                        skipped.remove(&number);
                    }
                    index += 1;
                    break;
                }
                Err(_) if skipping => {
                    say("(the step's checks did not hold; going on anyway)");
                    skipped.insert(number);
                    index += 1;
                    break;
                }
                Err(Miss::SoFar) => {
                    settled = false;
                    say("\nnot yet. (`skip` lets sockplay do the step and go on)");
                }
                Err(Miss::Failed) => {
                    // The check's own line above says what it expected and what it got.
                    let again = done_once && !repeatable(&lesson);
                    // A suggestion that ran and missed would miss again: it does not loop.
                    suggestion_failed |= ran_suggestion && !again;
                    settled = again || suggestion_failed;
                    say(if settled {
                        "\nnot yet. (`skip` goes on with your sockets as they are)"
                    } else {
                        "\nnot yet. (`skip` lets sockplay do the step and go on)"
                    });
                    let current = engine.processes.current().name.clone();
                    let hint = if again {
                        format!("your `{}` made this step's call already, and running it again would not make it anew: Enter (`skip`) goes on with your sockets as they are, `back` shows the step before.", lesson.name())
                    } else if suggestion_failed {
                        "the suggested command ran, and this step's checks still do not hold with your sockets as they are (a variant earlier may have changed what the step finds): Enter (`skip`) goes on with them, `back` shows the step before, or type a command of your own.".to_string()
                    } else {
                        step.hint
                            .clone()
                            .map(|hint| {
                                names.respell_prose(&hint, |line| {
                                    place(line, &lesson_process, &current)
                                })
                            })
                            .unwrap_or_else(|| format!("try the suggested command: `{suggestion}`"))
                    };
                    say_wrapped(&format!("hint: {hint}"), "      ");
                }
            }
        }
    }
    let last = engine.processes.current().name.clone();
    say_narration(&tutorial.outro, engine, (&names, &sent, total), |line| {
        place(
            line,
            &lesson_process(tutorial, tutorial.steps.len(), &names),
            &last,
        )
    });
    say("");
    say_wrapped(&ending(tutorial, total, &skipped), "");
    // The sockets the tutorial built stay: the learner goes on at the prompt with them.
    drop(editor);
    engine.end_lesson();
    if let (Some(process), Some(limit)) = (lowered_limit, fd_limit) {
        restore_fd_limit(engine, &process, limit);
    }
    say("");
    say_wrapped(
        "Its sockets and processes are still here: go on at the prompt (`help` lists the commands, Ctrl-D quits).",
        "",
    );
    engine.view.echo = false;
    engine.view.prompt = true;
    crate::front::repl::run_repl(engine)
}

/// Gives `process` back the fd limit sockplay started with, which the lesson lowered, so new
/// sockets at the prompt get fds again; says so and shows the call.
fn restore_fd_limit(engine: &mut Engine, process: &str, limit: u64) {
    say("");
    say_wrapped(
        &format!("The lesson lowered {process}'s fd limit; sockplay gives back the {limit} it started with, so new sockets at the prompt get fds again:"),
        "",
    );
    let current = engine.processes.current().name.clone();
    let line = place(&format!("ulimit nofile {limit}"), process, &current);
    if let Ok(Some(command)) = parse_line(&line) {
        let _ = engine.run_and_print(0, &line, &command);
    }
}

/// The command as typed, for where it runs (`NAME:`); a line that does not parse runs here.
fn command_in(input: &str) -> Command {
    match parse_line(input) {
        Ok(Some(command)) => command,
        _ => Command::Fds,
    }
}

/// The walked step before `index` (stand-in steps are not walked).
fn previous_walked(tutorial: &Tutorial, index: usize) -> usize {
    (0..index)
        .rev()
        .find(|&i| !tutorial.steps[i].standin)
        .unwrap_or(index)
}
