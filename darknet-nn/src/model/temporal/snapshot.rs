//! The input of Paper B's encoders: one day's graph over its active nodes, with global ids.

use crate::error::{check_finite, check_shape};
use crate::{Float, NnError, Result};
use ndarray::Array2;
use sprs::CsMat;

/// One day's bipartite host–port graph over its **active** nodes, as Paper B's encoders take it
/// (the graph crate's daily snapshots convert into it).
///
/// Local row `i` is the node with global id `node_ids[i]`; ids are strictly ascending and
/// below the model's node universe size, the first `n_hosts` rows are hosts (the nodes whose
/// embeddings are returned). Keeping ids global lets the GRU windows of GCN-GRU align nodes
/// across days while each day stores only its active rows (docs/paper-b.md#node-ids).
///
/// Shapes: `adj` and `adj_t` (n_nodes, n_nodes) CSR, `features` (n_nodes, n_features),
/// `positives` and `negatives` pairs of local rows `(src, dst)` (class 1 and 0 of the link
/// prediction).
///
/// From `darknet_graph::snapshot::Snapshot` `s` (same row order, global ids ascending):
/// `node_ids` = `s.node_ids`, `n_hosts` = `s.n_hosts`, `adj`/`adj_t` = the `matrix` and
/// `transpose` of `s.normalized_adjacency()`, `features` = `s.features`, `positives` =
/// `s.positive_edges()`, `negatives` = `s.sample_negatives(1.0, seed)?` (B9).
#[derive(Debug, Clone, PartialEq)]
pub struct DaySnapshot<T: Float = f32> {
    /// Global node id of every local row, strictly ascending. Shape (n_nodes,).
    pub node_ids: Vec<u32>,
    /// Number of host rows (the first rows).
    pub n_hosts: usize,
    /// Row-normalized adjacency `D⁻¹ (A + Aᵀ + I)` (docs/paper-b.md#normalization,
    /// docs/choices.md#b4), (n_nodes, n_nodes) CSR.
    pub adj: CsMat<T>,
    /// Its transpose, precomputed, (n_nodes, n_nodes) CSR.
    pub adj_t: CsMat<T>,
    /// Node features (n_nodes, n_features); ignored by models without node features.
    pub features: Array2<T>,
    /// Existing edges `(src row, dst row)` (label 1).
    pub positives: Vec<(u32, u32)>,
    /// Sampled non-edges `(src row, dst row)` (label 0, B9).
    pub negatives: Vec<(u32, u32)>,
}

impl<T: Float> DaySnapshot<T> {
    /// Checks and assembles a snapshot.
    ///
    /// Errors: [`NnError::ShapeMismatch`] (adjacency, transpose or feature rows differ from
    /// `node_ids.len()`, `n_hosts` too large, an edge row out of range), [`NnError::NotCsr`],
    /// [`NnError::InvalidNodeIds`] (ids not strictly ascending), [`NnError::Empty`] (no node),
    /// [`NnError::NonFinite`] (NaN or infinity in the features or the adjacency).
    pub fn new(
        node_ids: Vec<u32>,
        n_hosts: usize,
        adj: CsMat<T>,
        adj_t: CsMat<T>,
        features: Array2<T>,
        positives: Vec<(u32, u32)>,
        negatives: Vec<(u32, u32)>,
    ) -> Result<Self> {
        const OP: &str = "DaySnapshot::new";
        let n = node_ids.len();
        if n == 0 {
            return Err(NnError::Empty {
                what: "snapshot without nodes".to_string(),
            });
        }
        if let Some(w) = node_ids.windows(2).position(|w| w[0] >= w[1]) {
            return Err(NnError::InvalidNodeIds {
                row: w + 1,
                id: node_ids[w + 1],
                reason: "node ids must be strictly ascending",
            });
        }
        for (what, a) in [("adj", &adj), ("adj_t", &adj_t)] {
            if !a.is_csr() {
                return Err(NnError::NotCsr { op: OP, what });
            }
            check_shape(OP, what, &[n, n], &[a.rows(), a.cols()])?;
        }
        check_shape(OP, "features", &[n, features.ncols()], features.shape())?;
        check_finite(OP, "features", features.iter())?;
        check_finite(OP, "adj", adj.data().iter())?;
        check_shape(OP, "n_hosts", &[n.min(n_hosts)], &[n_hosts])?;
        for (what, pairs) in [("positives", &positives), ("negatives", &negatives)] {
            if let Some(&(a, b)) = pairs
                .iter()
                .find(|&&(a, b)| a as usize >= n || b as usize >= n)
            {
                return Err(NnError::ShapeMismatch {
                    op: OP,
                    what,
                    expected: vec![n],
                    actual: vec![a.max(b) as usize + 1],
                });
            }
        }
        Ok(Self {
            node_ids,
            n_hosts,
            adj,
            adj_t,
            features,
            positives,
            negatives,
        })
    }

    /// Number of active nodes.
    pub fn n_nodes(&self) -> usize {
        self.node_ids.len()
    }

    /// Global ids of the host rows, (n_hosts,).
    pub fn host_ids(&self) -> &[u32] {
        &self.node_ids[..self.n_hosts]
    }

    /// The local row of global id `id`, if active.
    pub fn row_of(&self, id: u32) -> Option<usize> {
        self.node_ids.binary_search(&id).ok()
    }

    /// The link-prediction targets, written into reused vectors (cleared first): source rows,
    /// destination rows and labels (positives first, label 1, then negatives, label 0), each
    /// of length n_pairs.
    pub(crate) fn pairs_into(
        &self,
        src: &mut Vec<usize>,
        dst: &mut Vec<usize>,
        lab: &mut Vec<usize>,
    ) {
        src.clear();
        dst.clear();
        lab.clear();
        for (&(a, b), l) in self
            .positives
            .iter()
            .map(|p| (p, 1))
            .chain(self.negatives.iter().map(|p| (p, 0)))
        {
            src.push(a as usize);
            dst.push(b as usize);
            lab.push(l);
        }
    }
}

/// The sorted union of the global ids of several snapshots.
#[cfg(test)]
pub(crate) fn union_ids<T: Float>(snaps: &[&DaySnapshot<T>]) -> Vec<u32> {
    let mut ids: Vec<u32> = snaps
        .iter()
        .flat_map(|s| s.node_ids.iter().copied())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// A snapshot re-indexed onto a larger sorted id set `union` (a GCN-GRU window; the reference
/// computation the row-restricted window of `rows` is tested against): rows of nodes
/// inactive that day get only their self-loop (weight 1) and zero features, exactly what the
/// reference code's global adjacency and features hold for them.
#[cfg(test)]
#[derive(Debug, Clone)]
pub(crate) struct Expanded<T: Float> {
    /// (n_union, n_union) CSR.
    pub adj: CsMat<T>,
    /// (n_union, n_union) CSR.
    pub adj_t: CsMat<T>,
    /// (n_union, n_features); zero rows for inactive nodes.
    pub features: Array2<T>,
    /// Union row of each local row of the snapshot, (n_nodes,).
    pub row_map: Vec<usize>,
}

/// Re-indexes `s` onto `union` (which must contain all of `s.node_ids`, sorted).
#[cfg(test)]
pub(crate) fn expand<T: Float>(
    s: &DaySnapshot<T>,
    union: &[u32],
    with_features: bool,
) -> Expanded<T> {
    let mut row_map = Vec::with_capacity(s.n_nodes());
    let mut local_of: Vec<Option<usize>> = vec![None; union.len()];
    let mut u = 0;
    for (l, &id) in s.node_ids.iter().enumerate() {
        while union[u] != id {
            u += 1;
        }
        row_map.push(u);
        local_of[u] = Some(l);
    }
    let remap = |a: &CsMat<T>| -> CsMat<T> {
        let mut indptr = Vec::with_capacity(union.len() + 1);
        let mut indices = Vec::with_capacity(a.nnz() + union.len());
        let mut data = Vec::with_capacity(a.nnz() + union.len());
        indptr.push(0);
        for (u, l) in local_of.iter().enumerate() {
            match l {
                Some(l) => {
                    if let Some(row) = a.outer_view(*l) {
                        for (c, &v) in row.iter() {
                            indices.push(row_map[c]);
                            data.push(v);
                        }
                    }
                }
                None => {
                    indices.push(u);
                    data.push(T::one());
                }
            }
            indptr.push(indices.len());
        }
        CsMat::new((union.len(), union.len()), indptr, indices, data)
    };
    let n_feat = if with_features { s.features.ncols() } else { 0 };
    let mut features = Array2::zeros((union.len(), n_feat));
    if with_features {
        for (l, &u) in row_map.iter().enumerate() {
            features.row_mut(u).assign(&s.features.row(l));
        }
    }
    Expanded {
        adj: remap(&s.adj),
        adj_t: remap(&s.adj_t),
        features,
        row_map,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sprs::TriMat;

    #[test]
    fn expand_keeps_active_rows_and_isolates_the_others() {
        // Active ids 2 (host) and 7 (port), edge between them; union {1, 2, 5, 7}.
        let mut t = TriMat::new((2, 2));
        for &(i, j, v) in &[(0, 0, 0.5f64), (0, 1, 0.5), (1, 0, 0.25), (1, 1, 0.75)] {
            t.add_triplet(i, j, v);
        }
        let adj: CsMat<f64> = t.to_csr();
        let adj_t = adj.transpose_view().to_csr();
        let x = ndarray::array![[1.0, 2.0], [3.0, 4.0]];
        let s = DaySnapshot::new(vec![2, 7], 1, adj, adj_t, x, vec![(0, 1)], vec![]).unwrap();
        let e = expand(&s, &[1, 2, 5, 7], true);
        assert_eq!(e.row_map, vec![1, 3]);
        let dense = e.adj.to_dense();
        assert_eq!(
            dense,
            ndarray::array![
                [1.0, 0.0, 0.0, 0.0],
                [0.0, 0.5, 0.0, 0.5],
                [0.0, 0.0, 1.0, 0.0],
                [0.0, 0.25, 0.0, 0.75]
            ]
        );
        assert_eq!(e.adj_t.to_dense(), dense.t());
        assert_eq!(
            e.features,
            ndarray::array![[0.0, 0.0], [1.0, 2.0], [0.0, 0.0], [3.0, 4.0]]
        );
        assert_eq!(expand(&s, &[1, 2, 5, 7], false).features.ncols(), 0);
        assert_eq!(union_ids(&[&s, &s]), vec![2, 7]);
        assert_eq!(s.row_of(7), Some(1));
        assert_eq!(s.row_of(5), None);
    }
}
