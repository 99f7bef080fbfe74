//! The crate's one error type.

use thiserror::Error;

/// Errors of darknet-eval.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum EvalError {
    /// An operation needs a non-empty input.
    #[error("empty input: {what}")]
    Empty {
        /// What was empty.
        what: String,
    },
}

/// Result alias of darknet-eval.
pub type Result<T, E = EvalError> = std::result::Result<T, E>;
