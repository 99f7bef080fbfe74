//! Shared glue for the command-line examples: one-line errors with a non-zero exit, and
//! progress bars that appear only when stderr is a terminal.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod paper_a;
pub mod paper_b;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::process::ExitCode;

/// The error type of the examples: any library error, printed as one line.
pub type CliError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Runs an example's body; on error prints `NAME: error: message` (with the causes on the same
/// line) to stderr and returns exit code 1. Never prints a backtrace.
pub fn run(name: &str, body: impl FnOnce() -> Result<(), CliError>) -> ExitCode {
    match body() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let mut msg = e.to_string();
            let mut src = e.source();
            while let Some(s) = src {
                let s_msg = s.to_string();
                if !msg.contains(&s_msg) {
                    msg.push_str(": ");
                    msg.push_str(&s_msg);
                }
                src = s.source();
            }
            eprintln!("{name}: error: {msg}");
            ExitCode::FAILURE
        }
    }
}

/// A progress bar of `len` steps with a message, drawn on stderr only when stderr is a
/// terminal (hidden in CI and when redirected).
pub fn progress(len: u64, message: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template(
            "{msg:>12} [{bar:40}] {pos}/{len} {elapsed_precise} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message(message.to_string());
    bar
}
