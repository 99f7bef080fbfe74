//! # darknet-graph
//!
//! Graphs from darknet traffic: port graphs, reference-port distances, host graphs, daily bipartite snapshots, sparse normalization and batching.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod error;

pub use error::{GraphError, Result};
