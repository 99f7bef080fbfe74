//! Progress and warnings, one vocabulary for both pipelines.
//!
//! A pipeline never prints. It tells an [`Observer`] what it is doing through [`Event`]s: a
//! stage starts (with its number of steps when known), moves on by steps, names the step it is
//! on, ends; a note for the user; a warning. A command line draws progress bars from these
//! events, a service logs them, a test collects them; [`Silent`] ignores them.
//!
//! ```
//! use darknet_pipelines::progress::{Event, Observer};
//! use std::sync::Mutex;
//! let seen = Mutex::new(Vec::new());
//! let observer = |e: &Event<'_>| seen.lock().unwrap().push(format!("{e:?}"));
//! observer.on_event(&Event::Note("hello"));
//! assert_eq!(seen.lock().unwrap().len(), 1);
//! ```

use std::fmt;

/// One thing a running pipeline reports.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Event<'a> {
    /// A stage begins (`ingest`, `filters`, `autoencoder`, `GCN 3`, a Paper B variant, ...);
    /// `total` is its number of steps, 0 while unknown.
    StageStarted {
        /// The stage's name.
        stage: &'a str,
        /// Steps in the stage (days, files, epochs, filters); 0 = not known yet.
        total: u64,
    },
    /// The current stage's number of steps became known or changed.
    StageTotal {
        /// Steps in the stage.
        total: u64,
    },
    /// The current stage moved on to a named step (which filter, which pass).
    StageStep {
        /// The step's name.
        step: &'a str,
    },
    /// `n` more steps of the current stage are done.
    Advanced {
        /// Steps just completed.
        n: u64,
    },
    /// The current stage has ended.
    StageFinished,
    /// A line for the user: what was read, what was kept, where files went.
    Note(&'a str),
    /// Something suspicious that did not stop the run.
    Warning(&'a Warning),
}

/// Receives a pipeline's [`Event`]s. Implemented for every `Fn(&Event)` that is `Sync`, so a
/// closure will do; stages that train partitions in parallel may call it from several threads.
pub trait Observer: Sync {
    /// Called for each event, in the order the pipeline emits them.
    fn on_event(&self, event: &Event<'_>);
}

impl<F: Fn(&Event<'_>) + Sync> Observer for F {
    fn on_event(&self, event: &Event<'_>) {
        self(event)
    }
}

/// An observer that ignores everything.
#[derive(Clone, Copy, Debug, Default)]
pub struct Silent;

impl Observer for Silent {
    fn on_event(&self, _: &Event<'_>) {}
}

/// A stage in progress: emits [`Event::StageStarted`] when made and [`Event::StageFinished`]
/// when dropped (also when the stage fails), so an observer's bars never stay open.
pub struct Stage<'o> {
    observer: &'o dyn Observer,
}

impl<'o> Stage<'o> {
    /// Starts stage `name` of `total` steps (0 = unknown yet).
    pub fn start(observer: &'o dyn Observer, name: &str, total: u64) -> Self {
        observer.on_event(&Event::StageStarted { stage: name, total });
        Stage { observer }
    }

    /// Sets the number of steps.
    pub fn set_total(&self, total: u64) {
        self.observer.on_event(&Event::StageTotal { total });
    }

    /// Names the step the stage is on.
    pub fn step(&self, step: &str) {
        self.observer.on_event(&Event::StageStep { step });
    }

    /// `n` more steps are done.
    pub fn advance(&self, n: u64) {
        self.observer.on_event(&Event::Advanced { n });
    }

    /// Tells the observer of a warning met during the stage.
    pub fn warn(&self, warning: &Warning) {
        self.observer.on_event(&Event::Warning(warning));
    }
}

impl Drop for Stage<'_> {
    fn drop(&mut self) {
        self.observer.on_event(&Event::StageFinished);
    }
}

/// A warning: the run went on, but the user should know.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Warning {
    /// What kind of thing happened, for programs that act on warnings.
    pub kind: WarningKind,
    /// The sentence for a person, naming what was affected.
    pub message: String,
}

impl Warning {
    /// A warning of `kind` with its sentence.
    pub fn new(kind: WarningKind, message: impl Into<String>) -> Self {
        Warning {
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Warnings of a stage: each is sent to the observer as it is pushed and kept in
/// [`Warnings::list`] for the stage's result.
pub struct Warnings<'o> {
    observer: &'o dyn Observer,
    /// The warnings so far, in order.
    pub list: Vec<Warning>,
}

impl<'o> Warnings<'o> {
    /// An empty list reporting to `observer`.
    pub fn new(observer: &'o dyn Observer) -> Self {
        Warnings {
            observer,
            list: Vec::new(),
        }
    }

    /// Sends a warning of `kind` to the observer and keeps it.
    pub fn push(&mut self, kind: WarningKind, message: String) {
        let w = Warning::new(kind, message);
        self.observer.on_event(&Event::Warning(&w));
        self.list.push(w);
    }
}

/// The kinds of [`Warning`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum WarningKind {
    /// An input file was skipped, read twice, or decoded to nothing.
    Input,
    /// Labels or ground truth do not cover the traffic as expected (hosts or classes missing).
    Labels,
    /// A day, class or host was too small for a step and was left out of it.
    TooSmall,
    /// A setting was adjusted or ignored because it does not fit the data.
    Setting,
    /// A numerical problem that did not stop training (a non-finite loss, a degenerate score).
    Numeric,
    /// Hosts or ports a reloaded model never saw in training (how they were treated is in the
    /// message).
    UnseenNodes,
}
