//! Mini-batches of small graphs for graph classification (Paper A): one block-diagonal
//! normalized adjacency, stacked node features and graph offsets for mean pooling.
//!
//! Normalize once, batch often: [`PreparedGraph`] holds a graph's symmetric-normalized
//! adjacency `D^-1/2 (A + I) D^-1/2` and its features, computed once
//! ([`prepare_host_graphs`]); [`GraphBatch::from_prepared`] then only concatenates blocks, so a
//! batch of 256 graphs per training step costs a copy, not a normalization.

use crate::error::{GraphError, Result};
use crate::host_graph::HostGraph;
use crate::normalize::normalize_symmetric;
use ndarray::{Array2, ArrayView2, Axis, Slice};
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
    /// NaN or infinite features, and the errors of [`normalize_symmetric`].
    pub fn new(adjacency: &CsMat<f32>, features: Array2<f32>) -> Result<Self> {
        let norm = normalize_symmetric(adjacency)?;
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

/// A batch of graphs as one disconnected graph.
#[derive(Clone, Debug, PartialEq)]
pub struct GraphBatch {
    /// Block-diagonal normalized adjacency; block `g` covers rows `offsets[g]..offsets[g+1]`.
    /// Symmetric when every block is (host graphs), so it is its own transpose.
    /// Shape (n_nodes_total, n_nodes_total).
    pub adjacency: CsMat<f32>,
    /// Stacked node features. Shape (n_nodes_total, n_features).
    pub features: Array2<f32>,
    /// Node offsets of the graphs: graph `g` owns rows `offsets[g]..offsets[g + 1]`.
    /// Shape (n_graphs + 1,).
    pub offsets: Vec<usize>,
    /// Graph index (position in the batch) of every node. Shape (n_nodes_total,).
    pub membership: Vec<u32>,
}

impl GraphBatch {
    /// Concatenates `graphs[indices[0]], graphs[indices[1]], …` (in that order) into one batch.
    ///
    /// # Errors
    /// [`GraphError::Empty`] for no index, [`GraphError::IndexOutOfRange`] for a bad index,
    /// [`GraphError::ShapeMismatch`] when the graphs have different feature counts.
    ///
    /// Complexity: O(total nnz + total features), no normalization.
    pub fn from_prepared(graphs: &[PreparedGraph], indices: &[usize]) -> Result<Self> {
        let Some(&first) = indices.first() else {
            return Err(GraphError::Empty {
                what: "graph batch: no graph index".into(),
            });
        };
        for &i in indices {
            if i >= graphs.len() {
                return Err(GraphError::IndexOutOfRange {
                    what: "graph batch",
                    index: i,
                    len: graphs.len(),
                });
            }
        }
        let nf = graphs[first].features.ncols();
        let mut offsets = Vec::with_capacity(indices.len() + 1);
        offsets.push(0usize);
        let mut nnz = 0usize;
        for &i in indices {
            let g = &graphs[i];
            if g.features.ncols() != nf {
                return Err(GraphError::ShapeMismatch {
                    what: "graph batch features",
                    expected: vec![g.n_nodes(), nf],
                    actual: g.features.shape().to_vec(),
                });
            }
            offsets.push(offsets.last().copied().unwrap_or(0) + g.n_nodes());
            nnz += g.adjacency.nnz();
        }
        let total = *offsets.last().unwrap_or(&0);
        let mut indptr = Vec::with_capacity(total + 1);
        indptr.push(0usize);
        let mut idx = Vec::with_capacity(nnz);
        let mut data = Vec::with_capacity(nnz);
        let mut features = Array2::<f32>::zeros((total, nf));
        let mut membership = Vec::with_capacity(total);
        for (b, &i) in indices.iter().enumerate() {
            let g = &graphs[i];
            let off = offsets[b];
            for row in g.adjacency.outer_iterator() {
                for (c, &v) in row.iter() {
                    idx.push(c + off);
                    data.push(v);
                }
                indptr.push(idx.len());
            }
            features
                .slice_axis_mut(Axis(0), Slice::from(off..offsets[b + 1]))
                .assign(&g.features);
            membership.extend(std::iter::repeat_n(b as u32, g.n_nodes()));
        }
        Ok(GraphBatch {
            adjacency: CsMat::new((total, total), indptr, idx, data),
            features,
            offsets,
            membership,
        })
    }

    /// The block-diagonal normalized adjacency (its own transpose for host graphs).
    /// Shape (n_nodes_total, n_nodes_total).
    pub fn adjacency(&self) -> &CsMat<f32> {
        &self.adjacency
    }

    /// Stacked node features. Shape (n_nodes_total, n_features).
    pub fn features(&self) -> ArrayView2<'_, f32> {
        self.features.view()
    }

    /// Node offsets: graph `g` owns rows `offsets()[g]..offsets()[g + 1]`. Shape (n_graphs + 1,).
    pub fn offsets(&self) -> &[usize] {
        &self.offsets
    }

    /// Graph index (position in the batch) of every node. Shape (n_nodes_total,).
    pub fn membership(&self) -> &[u32] {
        &self.membership
    }

    /// Moves the parts out: `(adjacency, features, offsets, membership)`.
    pub fn into_parts(self) -> (CsMat<f32>, Array2<f32>, Vec<usize>, Vec<u32>) {
        (self.adjacency, self.features, self.offsets, self.membership)
    }

    /// Number of graphs.
    pub fn n_graphs(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// Total number of nodes.
    pub fn n_nodes(&self) -> usize {
        self.features.nrows()
    }
}
