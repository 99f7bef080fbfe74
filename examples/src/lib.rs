//! Shared glue for the command-line examples: one-line errors with a non-zero exit, progress
//! bars drawn from the pipelines' events (only when stderr is a terminal), safe outputs
//! ([`cli`]) and the SVG plots. The pipelines themselves live in the `darknet-pipelines` crate.
//!
//! # Exit status of every program
//! - 0: success;
//! - 1: an error, printed as one line `NAME: error: ...` on standard error;
//! - 2: a command-line usage error (clap's);
//! - 141 ([`cli::EXIT_BROKEN_PIPE`]): standard output was closed before the program finished
//!   writing (`quickstart | head -1`); nothing is printed;
//! - 101: an internal error (a bug): one line on standard error, never a backtrace.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod cli;
pub mod inputs;
pub mod plots;

use darknet_pipelines::progress::{Event, Observer};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Mutex;

/// The error type of the examples: any library error, printed as one line.
pub type CliError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Runs an example's body; on error prints `NAME: error: message` (with the causes on the same
/// line) to stderr and returns exit code 1. A closed standard output ends it quietly with
/// [`cli::EXIT_BROKEN_PIPE`]. A panic prints one line (never a backtrace) and exits with 101.
pub fn run(name: &str, body: impl FnOnce() -> Result<(), CliError>) -> ExitCode {
    // No backtraces ever, also not from the allocator's failure message: called first in
    // `main`, while the process has a single thread.
    std::env::remove_var("RUST_BACKTRACE");
    std::env::remove_var("RUST_LIB_BACKTRACE");
    let program = name.to_string();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown cause".to_string());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        errln!("{program}: internal error (a bug, please report it): {msg}{at}");
    }));
    match body().and_then(|()| cli::flush_stdout()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if cli::is_broken_pipe(e.as_ref()) => ExitCode::from(cli::EXIT_BROKEN_PIPE),
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
            errln!("{name}: error: {msg}");
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

/// An [`Observer`] for command lines: a progress bar per stage on stderr (drawn only when
/// stderr is a terminal), notes and warnings as `NAME: ...` lines on stderr unless quiet.
pub struct Bars {
    name: String,
    quiet: bool,
    bar: Mutex<Option<ProgressBar>>,
}

impl Bars {
    /// Bars and messages for program `name`; `quiet` hides notes (warnings are always shown).
    pub fn new(name: &str, quiet: bool) -> Self {
        Bars {
            name: name.to_string(),
            quiet,
            bar: Mutex::new(None),
        }
    }
}

impl Observer for Bars {
    fn on_event(&self, event: &Event<'_>) {
        let mut slot = self.bar.lock().unwrap_or_else(|p| p.into_inner());
        match *event {
            Event::StageStarted { stage, total } => {
                if let Some(b) = slot.take() {
                    b.finish_and_clear();
                }
                if !self.quiet {
                    *slot = Some(progress(total, stage));
                }
            }
            Event::StageTotal { total } => {
                if let Some(b) = slot.as_ref() {
                    b.set_length(total);
                }
            }
            Event::StageStep { step } => {
                if let Some(b) = slot.as_ref() {
                    b.set_message(step.to_string());
                }
            }
            Event::Advanced { n } => {
                if let Some(b) = slot.as_ref() {
                    b.inc(n);
                }
            }
            Event::StageFinished => {
                if let Some(b) = slot.take() {
                    b.finish_and_clear();
                }
            }
            Event::Note(msg) if !self.quiet => {
                let line = format!("{}: {msg}", self.name);
                match slot.as_ref() {
                    Some(b) => b.suspend(|| errln!("{line}")),
                    None => errln!("{line}"),
                }
            }
            Event::Warning(w) => {
                let line = format!("{}: warning: {w}", self.name);
                match slot.as_ref() {
                    Some(b) => b.suspend(|| errln!("{line}")),
                    None => errln!("{line}"),
                }
            }
            _ => {}
        }
    }
}
