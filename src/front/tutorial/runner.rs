//! Walking a tutorial: narration, the suggested command (Enter runs it, or the learner types a
//! variant), the real call and the panel, then the step's checks decide whether to go on, with a hint
//! when they do not. `--auto` runs every step unattended and fails on the first check that does not
//! hold.

use rustyline::error::ReadlineError;

use super::{paragraphs, Step, Tutorial, TUTORIALS};
use crate::engine::{Engine, Stop};
use crate::error::Error;
use crate::front::repl::{
    is_undecodable, new_editor, refresh_completion, LineEditor, MAX_UNDECODABLE, UNDECODABLE,
};
use crate::front::terminal::{say, terminal_width};
use crate::lang::{failure_excused, parse_line};
use crate::text::safe_line;

/// The list `sockplay --tutorial` prints.
pub fn list_tutorials() -> Vec<String> {
    let mut lines = vec![
        "Tutorials (walk one with `sockplay --tutorial NAME`):".to_string(),
        String::new(),
    ];
    let width = TUTORIALS
        .iter()
        .map(|(name, _)| name.len())
        .max()
        .unwrap_or(0);
    for (name, text) in TUTORIALS {
        let summary = Tutorial::parse(name, text)
            .map(|t| t.summary)
            .unwrap_or_default();
        lines.push(format!("  {name:width$}  {summary}"));
    }
    lines.push(String::new());
    lines.push(
        "Each one runs real calls on real sockets: you type (or accept) each command and watch the"
            .to_string(),
    );
    lines.push("FD table change. `--auto` runs a tutorial unattended.".to_string());
    lines
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
    let width = terminal_width().unwrap_or(100).min(100);
    say(&tutorial.title);
    say("=".repeat(tutorial.title.chars().count()));
    narrate(std::slice::from_ref(&tutorial.summary), width);
    if auto {
        run_auto(&tutorial, engine, width)
    } else {
        walk(&tutorial, engine, width)
    }
}

/// Prints narration paragraphs, wrapped, with `$NAME` replaced by that socket's address.
fn say_step(step: &Step, engine: &Engine, width: usize) {
    let lines: Vec<String> = step
        .narration
        .iter()
        .map(|line| engine.expand_names(line))
        .collect();
    narrate(&paragraphs(&lines), width);
}

/// Prints paragraphs wrapped to `width`, each made safe before it is measured.
fn narrate(paragraphs: &[String], width: usize) {
    for paragraph in paragraphs {
        say("");
        for line in textwrap::wrap(&safe_line(paragraph), width) {
            say(line);
        }
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
fn run_auto(tutorial: &Tutorial, engine: &mut Engine, width: usize) -> Result<(), Error> {
    let total = tutorial.steps.len();
    for (index, step) in tutorial.steps.iter().enumerate() {
        say(format_args!("\n── step {}/{total} ──", index + 1));
        say_step(step, engine, width);
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
    narrate(&paragraphs(&tutorial.outro), width);
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

fn ask(editor: &mut LineEditor, prompt: &str, suggestion: &str) -> Answer {
    match crate::sys::read_at_prompt(|| editor.readline_with_initial(prompt, (suggestion, ""))) {
        Ok(line) => match line.trim() {
            // A terminal pre-fills the suggestion; a plain Enter (or a pipe's empty line) takes it.
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

/// The walk at a prompt: it ends when every step is done or the learner leaves, or when the
/// prompt cannot read lines any more.
fn walk(tutorial: &Tutorial, engine: &mut Engine, width: usize) -> Result<(), Error> {
    let mut editor = new_editor(engine)?;
    say("\nAt each step: Enter runs the suggested command, or type your own.");
    say("`back` shows the step before again, `skip` lets sockplay do the step, `quit` leaves.");
    // Stand-in steps (what the learner does outside sockplay) are not walked, nor counted.
    let total = tutorial.steps.iter().filter(|s| !s.standin).count();
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
        say_step(step, engine, width);
        say(format_args!("\n  suggested: {}", step.text));
        loop {
            // Asked to end (SIGTERM, SIGHUP): read and run nothing more; run.rs picks the status.
            if crate::sys::ending_signal().is_some() {
                return Ok(());
            }
            refresh_completion(&mut editor, engine);
            let prompt = format!("[{number}/{total}] sockplay> ");
            let (input, skipping) = match ask(&mut editor, &prompt, &step.text) {
                Answer::Quit => {
                    say(format_args!("Left the tutorial at step {number}/{total}; the sockets close as sockplay exits."));
                    return Ok(());
                }
                Answer::Back => {
                    index = previous_walked(tutorial, index);
                    break;
                }
                Answer::Skip => {
                    say("(sockplay runs the step for you, and goes on whatever its checks say)");
                    (step.text.clone(), true)
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
            let command = match parse_line(&input) {
                Ok(Some(command)) => command,
                Ok(None) => continue,
                Err(error) => {
                    say(format_args!("error: {}", error.pointed(&input)));
                    say(format_args!(
                        "hint: the suggested command is `{}`",
                        step.text
                    ));
                    continue;
                }
            };
            if engine.ends_session(&command) {
                return Ok(());
            }
            // The prompt already shows what was typed; the checks after it are echoed.
            engine.view.echo = false;
            let ran = engine.run_and_print(step.line, &input, &command);
            engine.view.echo = true;
            if ran.is_err() || crate::sys::ending_signal().is_some() {
                return Ok(());
            }
            match run_checks(tutorial, step, engine) {
                Ok(()) => {
                    index += 1;
                    break;
                }
                Err(_) if skipping => {
                    say("(the step's checks did not hold; going on anyway)");
                    index += 1;
                    break;
                }
                Err(_) => {
                    // The check's own line above says what it expected and what it got.
                    say("\nnot yet.");
                    let hint = step
                        .hint
                        .clone()
                        .unwrap_or_else(|| format!("try the suggested command: `{}`", step.text));
                    say(format_args!("hint: {hint}"));
                }
            }
        }
    }
    narrate(&paragraphs(&tutorial.outro), width);
    say(format_args!(
        "\nTutorial `{}` done: every step's checks held.",
        tutorial.name
    ));
    Ok(())
}

/// The walked step before `index` (stand-in steps are not walked).
fn previous_walked(tutorial: &Tutorial, index: usize) -> usize {
    (0..index)
        .rev()
        .find(|&i| !tutorial.steps[i].standin)
        .unwrap_or(index)
}
