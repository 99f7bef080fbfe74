//! Normalizations of a graph's adjacency matrix for [`crate::layers::Gcn`], computed once per
//! graph (or batch) and reused by every layer and step.
//!
//! - [`normalize_sym_self_loops`]: `D̂^−½ (A + I) D̂^−½` (Kipf & Welling; Paper A's host
//!   graphs); symmetric for a symmetric `A`, so it is then its own transpose.
//! - [`normalize_row_self_loops`]: `D̂^−1 (A + I)` (rows sum to one), whose transpose the
//!   backward pass needs ([`crate::kernels::transpose_csr`]).
//!
//! `D̂` is the diagonal of row sums of `A + I`. Weights are kept (weighted graphs). Existing
//! diagonal entries of `A` are added to, not replaced.
//!
//! **Edge-list convention.** Both take `A` as given: nothing is symmetrized, so an undirected
//! graph must hold each edge in both directions (as a PyG-style edge list does), and a
//! matrix with one entry per edge is a directed graph here. Paper B's normalization
//! `D^-1 (A + Aᵀ + I)` of a one-entry-per-edge matrix is darknet-graph's
//! `normalize_row_undirected`, which takes the convention as an argument.
//!
//! ```
//! use darknet_nn::adjacency::normalize_row_self_loops;
//! use sprs::TriMat;
//! let mut t = TriMat::new((2, 2));
//! t.add_triplet(0, 1, 3.0f64);
//! let a = normalize_row_self_loops(&t.to_csr()).unwrap();
//! assert_eq!(a.to_dense(), ndarray::array![[0.25, 0.75], [0.0, 1.0]]);
//! ```

use crate::error::check_shape;
use crate::{Float, NnError, Result};
use sprs::{CsMat, TriMat};

/// `A + I` as CSR, with row sums. Errors if `a` is not square or holds negative/non-finite
/// weights.
fn add_identity<T: Float>(op: &'static str, a: &CsMat<T>) -> Result<(CsMat<T>, Vec<T>)> {
    check_shape(op, "a", &[a.rows(), a.rows()], &[a.rows(), a.cols()])?;
    let n = a.rows();
    let mut t = TriMat::with_capacity((n, n), a.nnz() + n);
    for (k, (&v, (i, j))) in a.iter().enumerate() {
        if !v.is_finite() || v < T::zero() {
            return Err(NnError::NonFinite {
                op,
                what: "a (weights must be finite and >= 0)",
                index: k,
            });
        }
        t.add_triplet(i, j, v);
    }
    for i in 0..n {
        t.add_triplet(i, i, T::one());
    }
    let m: CsMat<T> = t.to_csr();
    let sums = m
        .outer_iterator()
        .map(|row| row.data().iter().copied().sum())
        .collect();
    Ok((m, sums))
}

/// `D̂^−½ (A + I) D̂^−½` for a square, non-negative `a` (n, n); returns CSR (n, n).
///
/// Errors: [`NnError::ShapeMismatch`] if not square; [`NnError::NonFinite`] for negative or
/// non-finite weights.
pub fn normalize_sym_self_loops<T: Float>(a: &CsMat<T>) -> Result<CsMat<T>> {
    let (mut m, sums) = add_identity("normalize_sym_self_loops", a)?;
    let inv: Vec<T> = sums.iter().map(|&s| T::one() / s.sqrt()).collect();
    for (i, mut row) in m.outer_iterator_mut().enumerate() {
        for (j, v) in row.iter_mut() {
            *v = *v * inv[i] * inv[j];
        }
    }
    Ok(m)
}

/// `D̂^−1 (A + I)` for a square, non-negative `a` (n, n); returns CSR (n, n) with rows summing
/// to one. Errors as [`normalize_sym_self_loops`].
pub fn normalize_row_self_loops<T: Float>(a: &CsMat<T>) -> Result<CsMat<T>> {
    let (mut m, sums) = add_identity("normalize_row_self_loops", a)?;
    for (i, mut row) in m.outer_iterator_mut().enumerate() {
        for (_, v) in row.iter_mut() {
            *v /= sums[i];
        }
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symmetric_matches_dense_formula() {
        let mut t = TriMat::new((3, 3));
        for &(i, j, w) in &[(0, 1, 2.0), (1, 2, 1.0)] {
            t.add_triplet(i, j, w);
            t.add_triplet(j, i, w);
        }
        let a: CsMat<f64> = t.to_csr();
        let s = normalize_sym_self_loops(&a).unwrap().to_dense();
        let ai = a.to_dense() + ndarray::Array2::<f64>::eye(3);
        let d = ai.sum_axis(ndarray::Axis(1)).mapv(|v| 1.0 / v.sqrt());
        for ((i, j), &v) in s.indexed_iter() {
            assert!((v - d[i] * ai[[i, j]] * d[j]).abs() < 1e-12);
        }
        assert!((&s - &s.t()).iter().all(|v| v.abs() < 1e-15));
    }

    #[test]
    fn errors() {
        let t: TriMat<f64> = TriMat::new((2, 3));
        assert!(matches!(
            normalize_row_self_loops(&t.to_csr()),
            Err(NnError::ShapeMismatch { .. })
        ));
        let mut t = TriMat::new((2, 2));
        t.add_triplet(0, 1, -1.0f64);
        assert!(matches!(
            normalize_sym_self_loops(&t.to_csr()),
            Err(NnError::NonFinite { .. })
        ));
    }
}
