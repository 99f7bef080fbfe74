//! Adjacency normalization for weighted graphs, computed once per graph with its transpose.
//!
//! | function | formula | used by |
//! |---|---|---|
//! | [`normalize_sym_self_loops`] | `D^-1/2 (A + I) D^-1/2`, `D = diag(row sums of A + I)` | Paper A's host graphs |
//! | [`normalize_row_undirected`] | `D^-1 (S + I)`, `D = diag(row sums of S + I)`, `S` the undirected graph of the edges | Paper B's daily snapshots |
//!
//! **Edge-list convention.** [`normalize_row_undirected`] is told how the edges are given
//! ([`EdgeDirections`]): one entry per edge (`S = A + Aᵀ`, as a host → port matrix) or both
//! directions already present, as in a PyG-style edge list (`S = A`). A matrix that does not
//! fit the stated convention is an error rather than a silent doubling of its weights.
//! (darknet-nn's `adjacency` module offers the same symmetric normalization and the row
//! normalization `D^-1 (A + I)` of a matrix taken as given.)
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

/// How the edges of an undirected graph are stored in its adjacency matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EdgeDirections {
    /// One entry per edge (e.g. host row → port column only): the reverse direction is added.
    /// A matrix holding some pair in both directions is refused (it would count twice).
    OneWay,
    /// Every edge stored in both directions (a symmetric matrix, as a PyG-style edge list with
    /// both directions): taken as is. A matrix that is not symmetric is refused.
    BothWays,
}

/// Checks `adj` against the stated convention: no pair stored twice for
/// [`EdgeDirections::OneWay`], symmetry for [`EdgeDirections::BothWays`].
fn check_directions(adj: &CsMat<f32>, directions: EdgeDirections) -> Result<()> {
    for (&v, (r, c)) in adj.iter() {
        if r == c {
            continue;
        }
        let back = adj.get(c, r);
        match directions {
            EdgeDirections::OneWay if back.is_some() => {
                return Err(GraphError::EdgeDirections {
                    row: r,
                    col: c,
                    reason: "the matrix holds this edge in both directions, but OneWay was \
                             given: pass EdgeDirections::BothWays for a symmetric edge list",
                });
            }
            EdgeDirections::BothWays if back != Some(&v) => {
                return Err(GraphError::EdgeDirections {
                    row: r,
                    col: c,
                    reason: "BothWays was given, but the reverse entry is missing or has \
                             another weight: pass EdgeDirections::OneWay for one entry per edge",
                });
            }
            _ => {}
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
/// Welling; Paper A's host graphs), for a weighted adjacency `A` of shape (n_nodes, n_nodes),
/// taken as given (a symmetric `A` gives a symmetric result).
///
/// # Errors
/// [`GraphError::NotSquare`], [`GraphError::NonFinite`], [`GraphError::NegativeWeight`].
///
/// ```
/// use darknet_graph::normalize_sym_self_loops;
/// use sprs::CsMat;
/// // Two nodes joined by an edge of weight 1: A + I = [[1, 1], [1, 1]], D = 2 I.
/// let a = CsMat::new((2, 2), vec![0, 1, 2], vec![1, 0], vec![1.0f32, 1.0]);
/// let n = normalize_sym_self_loops(&a).unwrap();
/// assert_eq!(n.matrix.get(0, 1), Some(&0.5));
/// assert_eq!(n.matrix, n.transpose);
/// ```
pub fn normalize_sym_self_loops(adj: &CsMat<f32>) -> Result<NormalizedAdjacency> {
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

/// Row normalization of an undirected graph, `D^-1 (S + I)` with `D = diag(row sums of S + I)`
/// and self-loop weight 1 (Paper B's reference code), where `S` is the graph's symmetric
/// adjacency: `A + Aᵀ` for [`EdgeDirections::OneWay`] (e.g. the host → port matrix of a daily
/// snapshot; a diagonal entry of `A` then counts twice), `A` itself for
/// [`EdgeDirections::BothWays`]. Every row of the result sums to 1.
///
/// # Errors
/// [`GraphError::NotSquare`], [`GraphError::NonFinite`], [`GraphError::NegativeWeight`],
/// [`GraphError::EdgeDirections`] when `adj` does not follow `directions`.
///
/// ```
/// use darknet_graph::{normalize_row_undirected, EdgeDirections};
/// use sprs::TriMat;
/// // One edge 0 – 1 of weight 3, given once or in both directions: the same result.
/// let mut once = TriMat::new((2, 2));
/// once.add_triplet(0, 1, 3.0f32);
/// let mut both = TriMat::new((2, 2));
/// both.add_triplet(0, 1, 3.0f32);
/// both.add_triplet(1, 0, 3.0);
/// let a = normalize_row_undirected(&once.to_csr(), EdgeDirections::OneWay).unwrap();
/// let b = normalize_row_undirected(&both.to_csr(), EdgeDirections::BothWays).unwrap();
/// assert_eq!(a, b);
/// assert_eq!(a.matrix.get(0, 1), Some(&0.75));
/// // Both directions declared as one: refused instead of doubling the weight.
/// assert!(normalize_row_undirected(&both.to_csr(), EdgeDirections::OneWay).is_err());
/// ```
pub fn normalize_row_undirected(
    adj: &CsMat<f32>,
    directions: EdgeDirections,
) -> Result<NormalizedAdjacency> {
    check(adj, "adjacency")?;
    check_directions(adj, directions)?;
    let mut m = with_self_loops(adj, directions == EdgeDirections::OneWay);
    for mut row in m.outer_iterator_mut() {
        let s: f64 = row.data().iter().sum();
        for (_, v) in row.iter_mut() {
            *v /= s;
        }
    }
    Ok(finish(m))
}
