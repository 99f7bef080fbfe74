//! The crate's one error type.

use thiserror::Error;

/// Errors of darknet-nn.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum NnError {
    /// An operation needs a non-empty input.
    #[error("empty input: {what}")]
    Empty {
        /// What was empty.
        what: String,
    },
}

/// Result alias of darknet-nn.
pub type Result<T, E = NnError> = std::result::Result<T, E>;
