//! Command-line arguments, and the mode they select.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

use crate::lang::PanelPlacement;

/// When to colour the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// An interactive socket playground: real kernel sockets, and the process's FD table after every step.
#[derive(Debug, Parser)]
#[command(
    name = "sockplay",
    version,
    about,
    long_about = "\
An interactive socket playground for Linux. Type socket calls — socket, bind, listen, accept,
connect, send, recv, close — against real kernel sockets, and watch the process's FD table after
every step: which fds are open, what each one is, its addresses, TCP state and queues.

Run it with no arguments at a terminal for the interactive prompt (Tab completes, `help` teaches).
Give it a FILE.sock script to replay, with checks such as `expect state 5 CLOSE_WAIT`.",
    after_help = "\
Examples:
  sockplay                                   start the interactive prompt
  sockplay scripts/examples/tcp-server-client.sock
  sockplay -c 'socket tcp as srv; bind srv :0; listen srv'
  sockplay --json script.sock                one JSON object per command
  sockplay --tutorial                        list the tutorials
  sockplay --tutorial tcp-server-client      walk through one

Exit status: 0 success; 1 a command failed or a check did not hold; 2 usage or syntax error."
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
}

fn parse_timeout(text: &str) -> Result<std::time::Duration, String> {
    crate::lang::parse_seconds(text)
        .ok_or_else(|| format!("`{text}` is not a number of seconds from 0 to 86400"))
}
