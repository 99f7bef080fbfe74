//! The one error type of the Paper B pipeline.

use crate::paper_a::PaperAError;
use std::path::PathBuf;
use thiserror::Error;

/// Errors of [`crate::paper_b`]: those of the library crates it composes, plus the pipeline's
/// own checks (too few days for the history or the test days, nothing left after filtering, a
/// day without embeddings, a bad setting).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PaperBError {
    /// An error of darknet-core (readers, ground truth, generator).
    #[error(transparent)]
    Core(#[from] darknet_core::CoreError),
    /// An error of darknet-graph (snapshots, corpora).
    #[error(transparent)]
    Graph(#[from] darknet_graph::GraphError),
    /// An error of darknet-nn (encoders, training, word2vec, persistence).
    #[error(transparent)]
    Nn(#[from] darknet_nn::NnError),
    /// An error of darknet-eval (kNN, reports).
    #[error(transparent)]
    Eval(#[from] darknet_eval::EvalError),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A JSON file could not be written.
    #[error("{path}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: serde_json::Error,
    },
    /// Nothing to work on after a stage (for example no host above the threshold on any day).
    #[error("nothing left after {stage}: {detail}")]
    EmptyAfter {
        /// The stage that left nothing.
        stage: &'static str,
        /// Counts that explain why.
        detail: String,
    },
    /// An aggregates directory disagrees with itself or with the pipeline's settings (tables
    /// computed with another host threshold or top K, ...).
    #[error("aggregates {dir}: {reason}")]
    Aggregates {
        /// The aggregates directory.
        dir: PathBuf,
        /// What disagrees.
        reason: String,
    },
    /// The traffic has too few days with snapshots for what was asked.
    #[error("{found} day(s) available, {needed} needed: {reason}")]
    TooFewDays {
        /// Days available for that purpose (days with a snapshot, or those before the test
        /// days).
        found: usize,
        /// Days needed.
        needed: usize,
        /// What needs them.
        reason: String,
    },
    /// Embeddings were asked for a day that has none (no snapshot, or no full history).
    #[error("no embeddings for day {day} ({reason})")]
    NoEmbeddings {
        /// The day, `YYYYMMDD`.
        day: String,
        /// Why.
        reason: String,
    },
    /// An invalid setting.
    #[error("invalid setting {field} = {value}: {reason}")]
    InvalidConfig {
        /// The setting.
        field: &'static str,
        /// The value given.
        value: String,
        /// Why it is invalid.
        reason: &'static str,
    },
    /// A saved model's files are malformed or disagree with each other.
    #[error("{path}: line {line}: {reason}")]
    SavedModel {
        /// The file.
        path: PathBuf,
        /// 1-based line (0 when the file as a whole is wrong).
        line: usize,
        /// What was expected and what was found.
        reason: String,
    },
    /// Reading the captures failed: the error of the capture reader Paper B shares with
    /// Paper A, kept as the source.
    #[error("reading the captures: {0}")]
    Capture(#[source] PaperAError),
}

impl From<PaperAError> for PaperBError {
    /// The capture reader is shared with the Paper A pipeline; its errors keep their library
    /// source where they have one.
    fn from(e: PaperAError) -> Self {
        match e {
            PaperAError::Core(e) => PaperBError::Core(e),
            PaperAError::Io { path, source } => PaperBError::Io { path, source },
            PaperAError::InvalidConfig {
                field,
                value,
                reason,
            } => PaperBError::InvalidConfig {
                field,
                value,
                reason,
            },
            other => PaperBError::Capture(other),
        }
    }
}

/// Result alias of the Paper B pipeline.
pub type Result<T, E = PaperBError> = std::result::Result<T, E>;

pub(crate) fn io_err(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> PaperBError + '_ {
    move |source| PaperBError::Io {
        path: path.to_path_buf(),
        source,
    }
}
