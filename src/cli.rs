//! Command-line arguments, and the mode they select.

use std::path::PathBuf;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

use crate::lang::PanelPlacement;

/// When to colour the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// The examples `--help` and the manual page show: each command line and what it does.
const EXAMPLES: &[(&str, &str)] = &[
    ("sockplay", "start the interactive prompt"),
    (
        "sockplay scripts/examples/tcp-server-client.sock",
        "replay a script",
    ),
    (
        "sockplay -c 'socket tcp as srv; bind srv :0; listen srv'",
        "run these commands",
    ),
    ("sockplay --json script.sock", "one JSON object per command"),
    ("sockplay --tutorial", "list the tutorials"),
    ("sockplay --tutorial tcp-server-client", "walk through one"),
    (
        "sockplay completions bash > ~/.local/share/bash-completion/completions/sockplay",
        "Tab completion in bash",
    ),
    ("sockplay man | man -l -", "read this as a manual page"),
];

/// What each exit status means.
const EXIT_STATUS: &str =
    "0 success; 1 a command failed or a check did not hold; 2 usage or syntax error; 128 + N when signal N ended it (130 for Ctrl-C in a replay).";

/// What the manual page says about the prompt's history file (the prompt keeps it there).
const HISTORY_FILE: &str =
    "The lines typed at the prompt, but those that start with a space, kept between runs (mode 0600); $XDG_STATE_HOME/sockplay/history when XDG_STATE_HOME is set.";

/// The text after the options in `--help`: the examples and the exit status.
fn after_help() -> String {
    let mut text = String::from("Examples:\n");
    for (line, what) in EXAMPLES {
        if line.len() > 40 {
            text.push_str(&format!("  {line}\n  {:40} {what}\n", ""));
        } else {
            text.push_str(&format!("  {line:40} {what}\n"));
        }
    }
    text.push_str(&format!("\nExit status: {EXIT_STATUS}"));
    text
}

/// An interactive socket playground: real kernel sockets, and the process's FD table after every step.
#[derive(Debug, Parser)]
#[command(
    name = "sockplay",
    version,
    about,
    override_usage = "sockplay [OPTIONS] [FILE.sock]\n       sockplay completions <bash|zsh|fish>\n       sockplay man",
    disable_help_subcommand = true,
    subcommand_help_heading = "Instead of running, print",
    long_about = "\
An interactive socket playground for Linux. Type socket calls — socket, bind, listen, accept,
connect, send, recv, close — against real kernel sockets, and watch the process's FD table after
every step: which fds are open, what each one is, its addresses, TCP state and queues.

Run it with no arguments at a terminal for the interactive prompt (Tab completes, `help` teaches).
Give it a FILE.sock script to replay, with checks such as `expect state 5 CLOSE_WAIT`.",
    after_help = after_help(),
)]
pub struct Cli {
    /// A .sock script to replay; `-` reads commands from stdin.
    #[arg(value_name = "FILE.sock")]
    pub script: Option<PathBuf>,

    /// Run these commands (separated by `;` outside quotes) and exit.
    #[arg(short = 'c', value_name = "COMMANDS", conflicts_with = "script")]
    pub commands: Option<String>,

    /// List the built-in tutorials, or walk through the one called NAME.
    #[arg(long, value_name = "NAME", num_args = 0..=1, default_missing_value = "", conflicts_with_all = ["script", "commands"])]
    pub tutorial: Option<String>,

    /// With --tutorial NAME: run every step unattended; exit 0 if every check held.
    #[arg(long, requires = "tutorial")]
    pub auto: bool,

    /// Machine output: one JSON object per executed command on stdout.
    #[arg(long)]
    pub json: bool,

    /// Where the FD panel goes [default: right on a wide terminal, else below].
    #[arg(long, value_enum, value_name = "WHERE")]
    pub panel: Option<PanelPlacement>,

    /// Limit in seconds for every blocking call.
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = parse_timeout)]
    pub timeout: std::time::Duration,

    /// Let replayed scripts run `!COMMAND` shell lines (refused by default).
    #[arg(long)]
    pub allow_shell: bool,

    /// When to use colour.
    #[arg(long, value_enum, value_name = "WHEN", default_value = "auto")]
    pub color: ColorChoice,

    /// Print a shell completion script or the manual page instead of running.
    #[command(subcommand)]
    pub print: Option<Print>,
}

/// What sockplay prints about itself instead of running: each comes from the definitions above,
/// so completion and the manual page always offer exactly the options `--help` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Subcommand)]
pub enum Print {
    /// Print the completion script for SHELL (bash, zsh or fish) on stdout.
    Completions {
        #[arg(value_enum)]
        shell: Shell,
    },
    /// Print the manual page (roff) on stdout: `sockplay man | man -l -`.
    Man,
}

/// The shells `sockplay completions` writes a script for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

fn parse_timeout(text: &str) -> Result<std::time::Duration, String> {
    crate::lang::parse_seconds(text)
        .ok_or_else(|| format!("`{text}` is not a number of seconds from 0 to 86400"))
}

/// The completion script for `shell`, made from the argument definitions; `--tutorial`
/// completes the names of `tutorials` (only here: a name it does not know gets sockplay's own
/// error, with its suggestion).
pub fn completion_script(shell: Shell, tutorials: &[&'static str]) -> Vec<u8> {
    let generator = match shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    let names = clap::builder::PossibleValuesParser::new(tutorials.iter().copied());
    let mut command = Cli::command().mut_arg("tutorial", |arg| arg.value_parser(names));
    let mut script = Vec::new();
    clap_complete::generate(generator, &mut command, "sockplay", &mut script);
    script
}

/// The manual page, in roff, made from the argument definitions and their help, with the
/// sections a manual page has beyond them: the two ways to print instead of running, examples,
/// exit status, files and environment.
pub fn man_page() -> std::io::Result<Vec<u8>> {
    let man = clap_mangen::Man::new(Cli::command());
    let mut page = Vec::new();
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    man.render_options_section(&mut page)?;
    section(
        &mut page,
        "PRINTING INSTEAD OF RUNNING",
        &[
            (
                "\\fBsockplay completions\\fR \\fIbash\\fR|\\fIzsh\\fR|\\fIfish\\fR".into(),
                "Print the completion script for that shell on stdout. For bash, save it as ~/.local/share/bash-completion/completions/sockplay; for zsh, as _sockplay in a directory of $fpath; for fish, as ~/.config/fish/completions/sockplay.fish.",
            ),
            (
                "\\fBsockplay man\\fR".into(),
                "Print this manual page (roff) on stdout: sockplay man | man -l -",
            ),
        ],
    );
    let examples: Vec<(String, &str)> = EXAMPLES
        .iter()
        .map(|(line, what)| (format!("\\fB{}\\fR", roff_text(line)), *what))
        .collect();
    section(&mut page, "EXAMPLES", &examples);
    page.extend(format!(".SH \"EXIT STATUS\"\n{}\n", roff_text(EXIT_STATUS)).bytes());
    section(
        &mut page,
        "FILES",
        &[(
            "\\fI~/.local/state/sockplay/history\\fR".into(),
            HISTORY_FILE,
        )],
    );
    section(
        &mut page,
        "ENVIRONMENT",
        &[
            (
                "\\fBNO_COLOR\\fR".into(),
                "When set and not empty, no colour (as --color never), unless --color always.",
            ),
            (
                "\\fBXDG_STATE_HOME\\fR".into(),
                "Where the history file goes (see FILES).",
            ),
            (
                "\\fBCOLUMNS\\fR".into(),
                "The width to lay out in when stdout is not a terminal.",
            ),
        ],
    );
    man.render_version_section(&mut page)?;
    // Every character beyond ASCII as a groff escape (`—` as `\[u2014]`): roff input is not
    // read as UTF-8 everywhere.
    let text = String::from_utf8_lossy(&page);
    Ok(text
        .chars()
        .map(|c| match c {
            c if c.is_ascii() => c.to_string(),
            c => format!("\\[u{:04X}]", u32::from(c)),
        })
        .collect::<String>()
        .into_bytes())
}

/// A manual page section of tagged paragraphs: each tag (roff already) and its text.
fn section(page: &mut Vec<u8>, title: &str, items: &[(String, &str)]) {
    page.extend(format!(".SH \"{title}\"\n").bytes());
    for (tag, text) in items {
        page.extend(format!(".TP\n{tag}\n{}\n", roff_text(text)).bytes());
    }
}

/// `text` as roff reads it literally: backslashes and hyphens escaped, and a line that starts
/// with `.` or `'` kept from being a request.
fn roff_text(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with('.') || escaped.starts_with('\'') {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}
