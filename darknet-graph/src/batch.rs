//! Host graphs prepared for batching (Paper A): normalize once, batch often.
//!
//! [`PreparedGraph`] holds a graph's symmetric-normalized adjacency `D^-1/2 (A + I) D^-1/2` and
//! its features, computed once ([`prepare_host_graphs`]). Batches (one block-diagonal
//! adjacency, stacked features, graph offsets) are darknet-nn's `GraphBatch`, the workspace's
//! one batch type: its `GraphBatchBuffer::stack_from` borrows each prepared graph's
//! [`PreparedGraph::adjacency`] and [`PreparedGraph::features`] and refills the same buffer
//! step after step, so a batch of 256 graphs costs a copy, not a normalization nor an
//! allocation.

use crate::error::{GraphError, Result};
use crate::host_graph::HostGraph;
use crate::normalize::normalize_sym_self_loops;
use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;
use sprs::CsMat;

/// One graph ready for batching: its normalized adjacency and its node features.
#[derive(Clone, Debug, PartialEq)]
pub struct PreparedGraph {
    adjacency: CsMat<f32>,
    features: Array2<f32>,
}

impl PreparedGraph {
    /// Normalizes `adjacency` (raw weighted, shape (n_nodes, n_nodes)) symmetrically and keeps
    /// `features` (shape (n_nodes, n_features)).
    ///
    /// # Errors
    /// [`GraphError::ShapeMismatch`] when the row counts differ, [`GraphError::NonFinite`] for
    /// NaN or infinite features, and the errors of [`normalize_sym_self_loops`].
    pub fn new(adjacency: &CsMat<f32>, features: Array2<f32>) -> Result<Self> {
        let norm = normalize_sym_self_loops(adjacency)?;
        if features.nrows() != norm.n_nodes() {
            return Err(GraphError::ShapeMismatch {
                what: "graph features",
                expected: vec![norm.n_nodes(), features.ncols()],
                actual: features.shape().to_vec(),
            });
        }
        if let Some(((r, c), v)) = features.indexed_iter().find(|(_, v)| !v.is_finite()) {
            return Err(GraphError::NonFinite {
                what: "graph features",
                row: r,
                col: c,
                value: f64::from(*v),
            });
        }
        Ok(PreparedGraph {
            adjacency: norm.matrix,
            features,
        })
    }

    /// Prepares a host graph (its features are finite by construction).
    pub fn from_host_graph(g: &HostGraph) -> Result<Self> {
        Self::new(&g.adjacency(), g.features().to_owned())
    }

    /// Number of nodes.
    pub fn n_nodes(&self) -> usize {
        self.features.nrows()
    }

    /// The normalized adjacency (symmetric for symmetric input). Shape (n_nodes, n_nodes).
    pub fn adjacency(&self) -> &CsMat<f32> {
        &self.adjacency
    }

    /// The node features. Shape (n_nodes, n_features).
    pub fn features(&self) -> ArrayView2<'_, f32> {
        self.features.view()
    }
}

/// Prepares many host graphs in parallel (same order).
///
/// # Errors
/// The first error of [`PreparedGraph::from_host_graph`] (none for graphs built by this crate).
pub fn prepare_host_graphs(graphs: &[HostGraph]) -> Result<Vec<PreparedGraph>> {
    graphs
        .par_iter()
        .map(PreparedGraph::from_host_graph)
        .collect()
}
