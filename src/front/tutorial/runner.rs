//! Walking a tutorial: narration, the suggested command shown above an empty line (Enter runs it;
//! what the learner types replaces it), the real call and the panel, then the step's checks decide
//! whether to go on, with a hint when they do not. The checks test the lesson, not the spelling
//! (see `lesson.rs`); `help`, `fds`, `ss` and `ps` look around without taking the step; a walked
//! state check waits briefly. A finished walk leaves the learner at the prompt with its sockets.
//! `--auto` runs every step unattended and fails on the first check that does not hold. While a
//! tutorial runs, `ss` lists its sockets only.

use std::time::Duration;

use rustyline::error::ReadlineError;

use super::lesson::{same_kind, Judgement, Named, Names, Received};
use super::{paragraphs, Step, Tutorial, TUTORIALS};
use crate::engine::{Engine, Stop};
use crate::error::Error;
use crate::front::repl::{
    is_undecodable, new_editor, refresh_completion, LineEditor, MAX_UNDECODABLE, UNDECODABLE,
};
use crate::front::terminal::{say, terminal_width};
use crate::lang::{failure_excused, parse_line, Command};
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

/// Prints narration paragraphs, wrapped, with `$NAME` replaced by that socket's address (the
/// learner's own names first).
fn say_step(step: &Step, engine: &Engine, names: &Names) {
    let lines: Vec<String> = step
        .narration
        .iter()
        .map(|line| engine.expand_names(&names.respell_narration(line)))
        .collect();
    narrate(&paragraphs(&lines));
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

/// Runs the walked step's checks, respelled with the learner's names, against what the learner
/// did: the bytes of several `recv`s count together, and a state is waited for only briefly.
fn run_walked_checks(
    step: &Step,
    engine: &mut Engine,
    names: &Names,
    received: &Received,
) -> Result<(), Miss> {
    let timeout = engine.settings.timeout;
    engine.settings.timeout = timeout.min(WALKED_STATE_WAIT);
    let held = run_each_check(step, engine, names, received);
    engine.settings.timeout = timeout;
    held
}

fn run_each_check(
    step: &Step,
    engine: &mut Engine,
    names: &Names,
    received: &Received,
) -> Result<(), Miss> {
    for (line, text, check) in &step.checks {
        let text = names.respell(text);
        let check = match parse_line(&text) {
            Ok(Some(respelled)) => respelled,
            _ => check.clone(),
        };
        if let Command::Expect(expected) = check.base() {
            let process = process_of(&check, engine);
            match received.judge(&process, expected) {
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
        let done = engine
            .run_and_print(*line, &text, &check)
            .unwrap_or_else(|unshown| unshown.step);
        if done.outcome.failure.is_some() {
            return Err(Miss::Failed);
        }
    }
    Ok(())
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
        say_step(step, engine, &names);
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
    Run(String),
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
            "" => Answer::Run(suggestion.to_string()),
            "back" => Answer::Back,
            "skip" => Answer::Skip,
            "quit" | "exit" => Answer::Quit,
            typed => Answer::Run(typed.to_string()),
        },
        Err(ReadlineError::Interrupted) => Answer::Run(String::new()),
        Err(e) if is_undecodable(&e) => Answer::Undecodable(e),
        Err(_) => Answer::Quit,
    }
}

/// The commands that look around without doing a step: at a step's prompt they run, and the step
/// waits for its own command still.
fn looks_around(command: &Command) -> bool {
    matches!(
        command.base(),
        Command::Help { .. } | Command::Fds | Command::Ss(_) | Command::Ps
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

/// The walk at a prompt: it ends when every step is done or the learner leaves, or when the
/// prompt cannot read lines any more. Done, the learner keeps the sockets at the prompt.
fn walk(tutorial: &Tutorial, engine: &mut Engine) -> Result<(), Error> {
    let mut editor = new_editor(engine)?;
    say("");
    say_wrapped(
        "At each step: Enter runs the suggested command, or type your own. `back` shows the step before again, `skip` lets sockplay do the step, `quit` (or Ctrl-D) leaves. `help`, `fds`, `ss` and `ps` look around without taking the step.",
        "",
    );
    // Stand-in steps (what the learner does outside sockplay) are not walked, nor counted.
    let total = tutorial.steps.iter().filter(|s| !s.standin).count();
    let mut names = Names::default();
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
        say(format_args!("\n── step {number}/{total} ──"));
        say_step(step, engine, &names);
        let suggestion = names.respell(&step.text);
        let lesson = match parse_line(&suggestion) {
            Ok(Some(command)) => command,
            _ => step.command.clone(),
        };
        say("");
        say_wrapped(&format!("  suggested: {suggestion}"), "             ");
        // What the learner's commands at this step received, and whether one of them already did
        // what the step's command does.
        let mut received = Received::default();
        let mut done_once = false;
        loop {
            // Asked to end (SIGTERM, SIGHUP): read and run nothing more; run.rs picks the status.
            if crate::sys::ending_signal().is_some() {
                return Ok(());
            }
            refresh_completion(&mut editor, engine);
            let prompt = format!("[{number}/{total}] sockplay> ");
            let (input, skipping) = match ask(&mut editor, &prompt, &suggestion) {
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
                Answer::Skip if done_once => {
                    say("(going on with your sockets as they are)");
                    index += 1;
                    break;
                }
                Answer::Skip => {
                    say("(sockplay runs the step for you, and goes on whatever its checks say)");
                    (suggestion.clone(), true)
                }
                Answer::Undecodable(_) if undecodable < MAX_UNDECODABLE => {
                    undecodable += 1;
                    say(UNDECODABLE);
                    continue;
                }
                Answer::Undecodable(error) => return Err(Error::ReadLine { error }),
                Answer::Run(input) if input.is_empty() => continue,
                Answer::Run(input) => (input, false),
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
            if engine.ends_session(&command) {
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
            let ran = engine.run_and_print(step.line, &input, &command);
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
                done_once |= same_kind(&lesson, &command);
            }
            received.note(&done.table.process.name, &done.outcome);
            match run_walked_checks(step, engine, &names, &received) {
                Ok(()) => {
                    index += 1;
                    break;
                }
                Err(_) if skipping => {
                    say("(the step's checks did not hold; going on anyway)");
                    index += 1;
                    break;
                }
                Err(Miss::SoFar) => say("\nnot yet."),
                Err(Miss::Failed) => {
                    // The check's own line above says what it expected and what it got.
                    say("\nnot yet.");
                    let hint = if done_once && !repeatable(&lesson) {
                        format!("your `{}` made this step's call already, and running it again would not make it anew: `skip` goes on with your sockets as they are, `back` shows the step before.", lesson.name())
                    } else {
                        step.hint
                            .clone()
                            .map(|hint| names.respell_narration(&hint))
                            .unwrap_or_else(|| format!("try the suggested command: `{suggestion}`"))
                    };
                    say_wrapped(&format!("hint: {hint}"), "      ");
                }
            }
        }
    }
    narrate(&paragraphs(&tutorial.outro));
    say(format_args!(
        "\nTutorial `{}` done: every step's checks held.",
        tutorial.name
    ));
    // The sockets the tutorial built stay: the learner goes on at the prompt with them.
    drop(editor);
    say("");
    say_wrapped(
        "Its sockets and processes are still here: go on at the prompt (`help` lists the commands, Ctrl-D quits).",
        "",
    );
    engine.end_lesson();
    engine.view.echo = false;
    engine.view.prompt = true;
    crate::front::repl::run_repl(engine)
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
