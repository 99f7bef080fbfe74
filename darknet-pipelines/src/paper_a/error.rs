//! The one error type of the Paper A pipeline.

use std::path::PathBuf;
use thiserror::Error;

/// Errors of [`crate::paper_a`]: those of the library crates it composes, plus the pipeline's
/// own checks (no labelled host, nothing left after filtering, a model directory from another
/// configuration, a bad label file).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PaperAError {
    /// An error of darknet-core (readers, filters, labels, generator).
    #[error(transparent)]
    Core(#[from] darknet_core::CoreError),
    /// An error of darknet-graph (port graph, distances, host graphs).
    #[error(transparent)]
    Graph(#[from] darknet_graph::GraphError),
    /// An error of darknet-nn (models, training, persistence).
    #[error(transparent)]
    Nn(#[from] darknet_nn::NnError),
    /// An error of darknet-eval (metrics, splits, oversampling).
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
    /// A JSON file could not be written or parsed.
    #[error("{path}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: serde_json::Error,
    },
    /// A CSV file could not be read or written (with the 1-based line when known).
    #[error("{path}: line {line}: {reason}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// 1-based line (0 when unknown).
        line: u64,
        /// What is wrong.
        reason: String,
    },
    /// A streaming pass failed (packets out of time order, or a file that changed between the
    /// two passes).
    #[error("{input}: {source}")]
    Stream {
        /// The file being read, or the synthetic darknet.
        input: String,
        /// What went wrong, with the packet index.
        source: darknet_core::CoreError,
    },
    /// Nothing to work on after a stage (for example every packet removed by the filters).
    #[error("nothing left after {stage}: {detail}")]
    EmptyAfter {
        /// The stage that left nothing.
        stage: &'static str,
        /// Counts that explain why.
        detail: String,
    },
    /// An aggregates directory disagrees with itself or with the pipeline's settings (tables
    /// computed with other filter settings, a host graph without statistics, ...).
    #[error("aggregates {dir}: {reason}")]
    Aggregates {
        /// The aggregates directory.
        dir: PathBuf,
        /// What disagrees.
        reason: String,
    },
    /// The port graph could not be built from the filtered traffic (no TCP or UDP port left,
    /// for instance).
    #[error("nothing left after building the port graph: {source}")]
    PortGraph {
        /// darknet-graph's error.
        #[source]
        source: darknet_graph::GraphError,
    },
    /// Arrays that should fit together did not (an internal inconsistency, or a table file
    /// whose rows are not all as wide).
    #[error("{stage}: {source}")]
    Shape {
        /// What was being done.
        stage: &'static str,
        /// ndarray's error.
        #[source]
        source: ndarray::ShapeError,
    },
    /// Too few labelled hosts to train and evaluate.
    #[error("{n_labelled} labelled hosts in the traffic, at least {needed} needed ({detail})")]
    TooFewLabelled {
        /// Labelled hosts found in the traffic.
        n_labelled: usize,
        /// The minimum.
        needed: usize,
        /// Counts from the dataset report.
        detail: String,
    },
    /// A saved model directory does not match what the pipeline or its other files expect.
    #[error("model {path}: {field}: expected {expected}, found {found}")]
    ModelMismatch {
        /// The model directory or file.
        path: PathBuf,
        /// Which field disagrees.
        field: &'static str,
        /// The expected value.
        expected: String,
        /// The value found.
        found: String,
    },
    /// The hyper-parameter search met an embedding setting without host graphs, or host
    /// graphs of another setting that do not match the run's (hosts, labels, order).
    #[error("search embedding {setting}: {reason}")]
    SearchEmbedding {
        /// The embedding setting.
        setting: String,
        /// What is wrong.
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
}

/// Result alias of the Paper A pipeline.
pub type Result<T, E = PaperAError> = std::result::Result<T, E>;

pub(crate) fn io_err(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> PaperAError + '_ {
    move |source| PaperAError::Io {
        path: path.to_path_buf(),
        source,
    }
}
