//! Adjacency normalization for weighted graphs, computed once per graph with its transpose.
//!
//! | function | formula | used by |
//! |---|---|---|
//! | [`normalize_symmetric`] | `D^-1/2 (A + I) D^-1/2`, `D = diag(row sums of A + I)` | Paper A (SPEC §1.6) |
//! | [`normalize_row`] | `D^-1 (A + Aᵀ + I)`, `D = diag(row sums of A + Aᵀ + I)` | Paper B (SPEC §3.5, B4) |
//!
//! The self-loop weight is 1 on every node, so every degree is ≥ 1 for non-negative weights:
//! a zero-degree node keeps only its self loop (a row `[.., 1, ..]`), and an empty (0 × 0) graph
//! gives empty matrices. Sums run in f64, results are f32. An existing diagonal entry of `A` is
//! added to the self loop.

use crate::error::{GraphError, Result};
use sprs::{CsMat, TriMat};

/// A normalized adjacency matrix and its transpose (both CSR, shape (n_nodes, n_nodes)).
///
/// The GCN forward pass multiplies by `matrix`, the backward pass by `transpose`; storing both
/// avoids transposing per step. For the symmetric normalization of a symmetric `A` the two are
/// equal.
#[derive(Clone, Debug, PartialEq)]
pub struct NormalizedAdjacency {
    /// The normalized matrix Â. Shape (n_nodes, n_nodes).
    pub matrix: CsMat<f32>,
    /// Âᵀ in CSR. Shape (n_nodes, n_nodes).
    pub transpose: CsMat<f32>,
}

impl NormalizedAdjacency {
    /// Number of nodes.
    pub fn n_nodes(&self) -> usize {
        self.matrix.rows()
    }
}

fn check(adj: &CsMat<f32>, what: &'static str) -> Result<()> {
    let (rows, cols) = adj.shape();
    if rows != cols {
        return Err(GraphError::NotSquare { what, rows, cols });
    }
    for (r, row) in adj.outer_iterator().enumerate() {
        for (c, &v) in row.iter() {
            let (r, c) = if adj.is_csr() { (r, c) } else { (c, r) };
            if !v.is_finite() {
                return Err(GraphError::NonFinite {
                    what,
                    row: r,
                    col: c,
                    value: f64::from(v),
                });
            }
            if v < 0.0 {
                return Err(GraphError::NegativeWeight {
                    what,
                    row: r,
                    col: c,
                    value: f64::from(v),
                });
            }
        }
    }
    Ok(())
}

/// `A + I` (or `A + Aᵀ + I`) as f64 CSR.
fn with_self_loops(adj: &CsMat<f32>, symmetrize: bool) -> CsMat<f64> {
    let n = adj.rows();
    let mut tri = TriMat::<f64>::with_capacity((n, n), adj.nnz() * (1 + symmetrize as usize) + n);
    for (v, (r, c)) in adj.iter() {
        tri.add_triplet(r, c, f64::from(*v));
        if symmetrize {
            tri.add_triplet(c, r, f64::from(*v));
        }
    }
    for i in 0..n {
        tri.add_triplet(i, i, 1.0);
    }
    tri.to_csr()
}

fn finish(m: CsMat<f64>) -> NormalizedAdjacency {
    let matrix: CsMat<f32> = m.map(|&v| v as f32);
    let transpose = matrix.transpose_view().to_csr();
    NormalizedAdjacency { matrix, transpose }
}

/// Symmetric normalization `D^-1/2 (A + I) D^-1/2` with `D = diag(row sums of A + I)` (Kipf and
/// Welling; Paper A, SPEC §1.6), for a weighted adjacency `A` of shape (n_nodes, n_nodes).
///
/// # Errors
/// [`GraphError::NotSquare`], [`GraphError::NonFinite`], [`GraphError::NegativeWeight`].
///
/// ```
/// use darknet_graph::normalize_symmetric;
/// use sprs::CsMat;
/// // Two nodes joined by an edge of weight 1: A + I = [[1, 1], [1, 1]], D = 2 I.
/// let a = CsMat::new((2, 2), vec![0, 1, 2], vec![1, 0], vec![1.0f32, 1.0]);
/// let n = normalize_symmetric(&a).unwrap();
/// assert_eq!(n.matrix.get(0, 1), Some(&0.5));
/// assert_eq!(n.matrix, n.transpose);
/// ```
pub fn normalize_symmetric(adj: &CsMat<f32>) -> Result<NormalizedAdjacency> {
    check(adj, "adjacency")?;
    let mut m = with_self_loops(adj, false);
    let inv_sqrt: Vec<f64> = m
        .outer_iterator()
        .map(|row| 1.0 / row.data().iter().sum::<f64>().sqrt())
        .collect();
    for (r, mut row) in m.outer_iterator_mut().enumerate() {
        for (c, v) in row.iter_mut() {
            *v *= inv_sqrt[r] * inv_sqrt[c];
        }
    }
    Ok(finish(m))
}

/// Row normalization `D^-1 (A + Aᵀ + I)`, self-loop weight 1, `D = diag(row sums)` (Paper B's
/// reference code, SPEC §3.5 and B4). Pass the one-directional edge matrix (host → port
/// entries); the function adds the reverse direction. Every row of the result sums to 1.
///
/// # Errors
/// [`GraphError::NotSquare`], [`GraphError::NonFinite`], [`GraphError::NegativeWeight`].
pub fn normalize_row(adj: &CsMat<f32>) -> Result<NormalizedAdjacency> {
    check(adj, "adjacency")?;
    let mut m = with_self_loops(adj, true);
    for mut row in m.outer_iterator_mut() {
        let s: f64 = row.data().iter().sum();
        for (_, v) in row.iter_mut() {
            *v /= s;
        }
    }
    Ok(finish(m))
}
