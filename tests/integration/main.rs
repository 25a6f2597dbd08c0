//! sockplay's integration tests: the real binary, real kernel sockets, real peers. One module per
//! feature; `support` holds the `Test` builder they all use, `transcript` makes output comparable
//! across runs, and `golden` holds every example script to its committed transcript.

mod api;
mod calls_truth;
mod checks;
mod commands;
mod conventions;
mod escapes;
mod foreign;
mod fuzz_regressions;
mod golden;
mod hangs;
mod hints_situation;
mod hostile_files;
mod json;
mod kernel_pairs;
mod kernel_rows;
mod last_shown;
mod malformed;
mod multi_panel;
mod multiplex;
mod panel_cache;
mod processes;
mod properties;
pub(crate) mod pty;
mod pty_lines;
mod pty_widths;
mod random_lines;
mod replay;
mod robustness;
mod round_trip;
mod ss;
mod support;
mod transcript;
mod true_sentences;
mod true_words;
mod tutorials;
mod watches;
