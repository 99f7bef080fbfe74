//! The crate's one error type.

use std::path::PathBuf;
use thiserror::Error;

/// Errors of darknet-eval.
///
/// Every variant carries structured fields saying which input, which row or line and what was
/// expected, so a caller can report the problem without parsing a message.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum EvalError {
    /// An operation needs a non-empty input.
    #[error("empty input: {what}")]
    Empty {
        /// What was empty.
        what: String,
    },
    /// Two arrays that must agree in shape do not.
    #[error("shape mismatch for {what}: expected {expected:?}, got {actual:?}")]
    ShapeMismatch {
        /// Which input (e.g. `y_pred`).
        what: String,
        /// The expected shape.
        expected: Vec<usize>,
        /// The shape received.
        actual: Vec<usize>,
    },
    /// A label matrix holds a value other than 0 or 1.
    #[error("{what}[{row}, {col}] = {value}: expected 0 or 1")]
    NotBinary {
        /// Which input.
        what: String,
        /// Row (sample) index.
        row: usize,
        /// Column (label) index.
        col: usize,
        /// The value found.
        value: u8,
    },
    /// A score is NaN or infinite (or outside the allowed range).
    #[error("{what}[{row}, {col}] = {value}: expected a finite score{range}")]
    InvalidScore {
        /// Which input.
        what: String,
        /// Row (sample) index.
        row: usize,
        /// Column (label) index.
        col: usize,
        /// The value found.
        value: f64,
        /// The allowed range, if any (e.g. " in [0, 1]").
        range: String,
    },
    /// A parameter is out of its valid range.
    #[error("invalid parameter {name} = {value}: {reason}")]
    InvalidParameter {
        /// Parameter name.
        name: String,
        /// The value given (rendered).
        value: String,
        /// What is allowed.
        reason: String,
    },
    /// An index refers past the end of the data.
    #[error("{what}: index {index} out of range for {len} samples")]
    IndexOutOfRange {
        /// Which input.
        what: String,
        /// The bad index.
        index: usize,
        /// The number of samples.
        len: usize,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A CSV file is malformed at a line.
    #[error("{path}:{line}: {reason}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// 1-based line number (the header is line 1).
        line: u64,
        /// What is wrong.
        reason: String,
    },
    /// Two CSV files do not describe the same samples or labels.
    #[error("{path}:{line}: id {id:?} {reason}")]
    IdMismatch {
        /// The file where the problem was seen.
        path: PathBuf,
        /// 1-based line number (0 when the problem is a missing row).
        line: u64,
        /// The sample id.
        id: String,
        /// What is wrong (missing, duplicate).
        reason: String,
    },
    /// A label or class name is not known.
    #[error("{what}: unknown label {label:?}")]
    UnknownLabel {
        /// Where the name was seen (file and line, or input name).
        what: String,
        /// The name.
        label: String,
    },
}

/// Result alias of darknet-eval.
pub type Result<T, E = EvalError> = std::result::Result<T, E>;
