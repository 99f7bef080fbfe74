//! The crate's one error type.

use thiserror::Error;

/// Errors of darknet-graph.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum GraphError {
    /// An operation needs a non-empty input.
    #[error("empty input: {what}")]
    Empty {
        /// What was empty.
        what: String,
    },
}

/// Result alias of darknet-graph.
pub type Result<T, E = GraphError> = std::result::Result<T, E>;
