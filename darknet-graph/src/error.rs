//! The crate's one error type.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use thiserror::Error;

/// Errors of darknet-graph.
///
/// Every variant carries the structured facts needed to locate the problem (what input, which
/// row / column / field, expected versus actual shape) rather than a formatted message.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum GraphError {
    /// An operation needs a non-empty input (for example a port graph from a trace without any
    /// TCP or UDP packet).
    #[error("empty input: {what}")]
    Empty {
        /// What was empty.
        what: String,
    },

    /// A host has no packet a host graph can use (no TCP, UDP or ICMP packet left after
    /// filtering).
    #[error("host {source_addr} has no TCP, UDP or ICMP packet")]
    EmptyHost {
        /// The host's source address.
        source_addr: Ipv4Addr,
    },

    /// A matrix that must be square is not (adjacency matrices).
    #[error("{what}: matrix must be square, got {rows} x {cols}")]
    NotSquare {
        /// Which matrix.
        what: &'static str,
        /// Number of rows.
        rows: usize,
        /// Number of columns.
        cols: usize,
    },

    /// An array does not have the shape an operation expects.
    #[error("{what}: expected shape {expected:?}, got {actual:?}")]
    ShapeMismatch {
        /// Which array.
        what: &'static str,
        /// Expected shape.
        expected: Vec<usize>,
        /// Actual shape.
        actual: Vec<usize>,
    },

    /// A value is NaN or infinite where a finite number is required (features, embeddings,
    /// edge weights).
    #[error("{what}: non-finite value {value} at row {row}, column {col}")]
    NonFinite {
        /// Which array.
        what: &'static str,
        /// Row of the bad value.
        row: usize,
        /// Column of the bad value.
        col: usize,
        /// The value itself.
        value: f64,
    },

    /// A weight is negative where only non-negative weights make sense (adjacency
    /// normalization, shortest paths).
    #[error("{what}: negative weight {value} at row {row}, column {col}")]
    NegativeWeight {
        /// Which matrix.
        what: &'static str,
        /// Row of the bad value.
        row: usize,
        /// Column of the bad value.
        col: usize,
        /// The value itself.
        value: f64,
    },

    /// An adjacency matrix does not store its edges the way the caller said
    /// ([`crate::normalize::EdgeDirections`]).
    #[error("adjacency entry ({row}, {col}): {reason}")]
    EdgeDirections {
        /// Row of the offending entry.
        row: usize,
        /// Column of the offending entry.
        col: usize,
        /// What does not fit.
        reason: &'static str,
    },

    /// The same port appears twice in a port table.
    #[error("{what}: port {proto}/{port} appears twice (rows {first} and {second})")]
    DuplicatePort {
        /// Which table.
        what: &'static str,
        /// Protocol name (`tcp`, `udp`).
        proto: String,
        /// Port number.
        port: u16,
        /// First row holding the port.
        first: usize,
        /// Second row holding the port.
        second: usize,
    },

    /// A port key uses a protocol without ports (only TCP and UDP ports are graph nodes).
    #[error("{what}: protocol {proto} has no ports (row {row})")]
    NotAPortProtocol {
        /// Which table.
        what: &'static str,
        /// The protocol given.
        proto: String,
        /// The row of the table.
        row: usize,
    },

    /// A configuration field holds an invalid value.
    #[error("invalid configuration: {field} = {value} ({expected})")]
    InvalidConfig {
        /// The field name.
        field: &'static str,
        /// The value given, printed.
        value: String,
        /// What would be valid.
        expected: &'static str,
    },

    /// An index refers past the end of a collection (for example a graph index in a batch).
    #[error("{what}: index {index} out of range (length {len})")]
    IndexOutOfRange {
        /// Which collection.
        what: &'static str,
        /// The index given.
        index: usize,
        /// The collection's length.
        len: usize,
    },

    /// A table given as plain rows (aggregates computed elsewhere, such as by an SQL engine)
    /// breaks a rule the in-memory builders guarantee by construction.
    #[error("{what}, row {row}: {reason}")]
    InvalidTable {
        /// Which table.
        what: &'static str,
        /// The offending row.
        row: usize,
        /// The rule broken.
        reason: String,
    },

    /// Writing a CSV file failed.
    #[error("cannot write CSV {path}: {source}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: csv::Error,
    },

    /// Writing a `.npy` file failed.
    #[error("cannot write .npy {path}: {source}")]
    Npy {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// Result alias of darknet-graph.
pub type Result<T, E = GraphError> = std::result::Result<T, E>;
