//! GCN-GRU over a window without the union: each day's GCN runs on that day's own active
//! graph, the GRU runs only over the rows that are asked for.
//!
//! A node absent on a day of the window is, in the reference code's global matrices, an
//! isolated node (self-loop of weight 1) with zero features (or its one-hot id without
//! features). Its GCN output depends on nothing else, so it is computed on a graph of isolated
//! nodes: one zero row serves every absent node when features are used (they all share the same
//! output), the absent ids themselves without features. A node active on a day has all of its
//! neighbours active that day, so the day's own graph gives the same rows as the window's union
//! graph would. The GRU and BatchNorm then run over the asked rows only (training: the target
//! day's active nodes, whose pairs carry the loss; embedding: the embedded day's active nodes).
//!
//! Compared with re-indexing every day onto the union of the window's nodes this computes
//! `Σ_d n_d` GCN rows instead of `(H + 1) · |union|`, and `|rows|` GRU rows instead of
//! `|union|`, with identical values on the asked rows in evaluation mode. In training mode
//! BatchNorm's batch is the asked rows rather than the union (rows outside them never reach
//! the loss).

use super::encoder::{GcnGruEncoder, GcnStackCache, NodeInput};
use super::snapshot::DaySnapshot;
use crate::error::check_shape;
use crate::layers::{BatchNormCache, GruCache};
use crate::{Float, Mode, NnError, Result};
use ndarray::{Array2, ArrayView2, Axis};
use sprs::CsMat;

/// One day of a window seen from the asked rows: its own graph and, for every asked row, the
/// day's local row of that node or `None` when the node is absent that day.
#[derive(Debug, Clone, Copy)]
pub struct RowsDay<'a, T: Float> {
    /// The day's snapshot (its own adjacency, transpose, features and ids).
    pub day: &'a DaySnapshot<T>,
    /// The asked global ids, ascending (the same for every day of a window). Shape (n_rows,).
    pub ids: &'a [u32],
    /// Per asked row: the local row in `day`, or `None`. Shape (n_rows,).
    pub rows: &'a [Option<usize>],
}

/// For every id of `asked` (ascending global ids), its local row in `day` or `None`.
/// Complexity O(|asked| + n_nodes(day)).
pub fn row_map<T: Float>(day: &DaySnapshot<T>, asked: &[u32]) -> Vec<Option<usize>> {
    let ids = &day.node_ids;
    let mut out = Vec::with_capacity(asked.len());
    let mut j = 0;
    for &a in asked {
        while j < ids.len() && ids[j] < a {
            j += 1;
        }
        out.push((j < ids.len() && ids[j] == a).then_some(j));
    }
    out
}

/// What [`GcnGruEncoder::backward_rows`] needs.
#[derive(Debug, Clone)]
pub struct RowsCache<T> {
    days: Vec<DayCache<T>>,
    gru: GruCache<T>,
    bn: BatchNormCache<T>,
}

#[derive(Debug, Clone)]
struct DayCache<T> {
    gcn: GcnStackCache<T>,
    /// Absent asked rows, their isolated graph (identity adjacency) and its GCN cache.
    absent: Option<Absent<T>>,
}

#[derive(Debug, Clone)]
struct Absent<T> {
    rows: Vec<usize>,
    adj: CsMat<T>,
    cache: GcnStackCache<T>,
    /// One shared zero row (features) instead of one row per absent node (identity input).
    shared: bool,
}

impl<T: Float> GcnGruEncoder<T> {
    /// Embeddings of the asked rows, (n_rows, hidden), from a window of days (oldest first),
    /// each day's GCN on its own graph (module doc). `use_features` selects node features or the
    /// one-hot global ids as the GCN input; `mode` is BatchNorm's, over the asked rows.
    ///
    /// Errors: [`NnError::EmptyBatch`] (no day or no row), [`NnError::ShapeMismatch`] (a day's
    /// row map of another length, a local row out of range), errors of the layers.
    pub fn forward_rows(
        &mut self,
        window: &[RowsDay<'_, T>],
        use_features: bool,
        mode: Mode,
    ) -> Result<(Array2<T>, RowsCache<T>)> {
        const OP: &str = "GcnGruEncoder::forward_rows";
        let first = window.first().ok_or(NnError::EmptyBatch { op: OP })?;
        let n_rows = first.rows.len();
        if n_rows == 0 {
            return Err(NnError::EmptyBatch { op: OP });
        }
        let out_dim = self.gcn.out_dim();
        let mut xs = Vec::with_capacity(window.len());
        let mut days = Vec::with_capacity(window.len());
        for w in window {
            let d = w.day;
            check_shape(OP, "rows", &[n_rows], &[w.rows.len()])?;
            check_shape(OP, "ids", &[n_rows], &[w.ids.len()])?;
            if let Some(&bad) = w.rows.iter().flatten().find(|&&l| l >= d.n_nodes()) {
                return Err(NnError::ShapeMismatch {
                    op: OP,
                    what: "local row",
                    expected: vec![d.n_nodes()],
                    actual: vec![bad + 1],
                });
            }
            let input = if use_features {
                NodeInput::Features(d.features.view())
            } else {
                NodeInput::Identity(&d.node_ids)
            };
            let (h, gcn) = self.gcn.forward(&d.adj, input)?;
            let mut x = Array2::zeros((n_rows, out_dim));
            let mut absent_rows = Vec::new();
            for (i, r) in w.rows.iter().enumerate() {
                match r {
                    Some(l) => x.row_mut(i).assign(&h.row(*l)),
                    None => absent_rows.push(i),
                }
            }
            let absent = if absent_rows.is_empty() {
                None
            } else {
                // Isolated nodes: identity adjacency, zero features (one shared row) or ids.
                let ids: Vec<u32>;
                let zeros: Array2<T>;
                let (n_iso, input) = if use_features {
                    zeros = Array2::zeros((1, d.features.ncols()));
                    (1, NodeInput::Features(zeros.view()))
                } else {
                    ids = absent_rows.iter().map(|&i| w.ids[i]).collect();
                    (ids.len(), NodeInput::Identity(&ids))
                };
                let adj: CsMat<T> = CsMat::eye(n_iso);
                let (hi, cache) = self.gcn.forward(&adj, input)?;
                for (k, &i) in absent_rows.iter().enumerate() {
                    x.row_mut(i)
                        .assign(&hi.row(if use_features { 0 } else { k }));
                }
                Some(Absent {
                    rows: absent_rows,
                    adj,
                    cache,
                    shared: use_features,
                })
            };
            xs.push(x);
            days.push(DayCache { gcn, absent });
        }
        let views: Vec<_> = xs.iter().map(|h| h.view()).collect();
        let (hs, gru) = self.gru.forward(&views, None)?;
        drop(views);
        drop(xs);
        let last = hs.last().ok_or(NnError::EmptyBatch { op: OP })?;
        let (e, bn) = self.bn.forward(last.view(), mode)?;
        Ok((e, RowsCache { days, gru, bn }))
    }

    /// Backward of [`GcnGruEncoder::forward_rows`]: `window` as in forward, `d_emb`
    /// (n_rows, hidden); adds to every parameter gradient.
    ///
    /// Errors: [`NnError::ShapeMismatch`], errors of the layers.
    pub fn backward_rows(
        &mut self,
        window: &[RowsDay<'_, T>],
        cache: &RowsCache<T>,
        d_emb: ArrayView2<'_, T>,
    ) -> Result<()> {
        const OP: &str = "GcnGruEncoder::backward_rows";
        check_shape(OP, "window", &[cache.days.len()], &[window.len()])?;
        let d = self.bn.backward(&cache.bn, d_emb)?;
        let (dxs, _) = self.gru.backward(&cache.gru, None, Some(d.view()))?;
        let out_dim = self.gcn.out_dim();
        for ((w, c), dx) in window.iter().zip(&cache.days).zip(&dxs) {
            let mut dh = Array2::zeros((w.day.n_nodes(), out_dim));
            for (i, r) in w.rows.iter().enumerate() {
                if let Some(l) = r {
                    dh.row_mut(*l).assign(&dx.row(i));
                }
            }
            self.gcn.backward(&w.day.adj_t, &c.gcn, dh.view())?;
            if let Some(a) = &c.absent {
                let di = if a.shared {
                    let mut s = Array2::zeros((1, out_dim));
                    for &i in &a.rows {
                        let mut r = s.row_mut(0);
                        r += &dx.row(i);
                    }
                    s
                } else {
                    dx.select(Axis(0), &a.rows)
                };
                self.gcn.backward(&a.adj, &a.cache, di.view())?;
            }
        }
        Ok(())
    }
}

/// A window's row maps for the asked ids (ascending global ids), built once per window.
#[derive(Debug, Clone)]
pub struct RowsWindow {
    /// The asked global ids, ascending. Shape (n_rows,).
    pub ids: Vec<u32>,
    /// Per day: [`row_map`] of the asked ids.
    pub maps: Vec<Vec<Option<usize>>>,
}

impl RowsWindow {
    /// Row maps of `asked` (ascending global ids) in every day of `window`.
    pub fn new<T: Float>(window: &[&DaySnapshot<T>], asked: &[u32]) -> Self {
        RowsWindow {
            ids: asked.to_vec(),
            maps: window.iter().map(|d| row_map(d, asked)).collect(),
        }
    }

    /// The [`RowsDay`] views of `window` (same days as at construction).
    pub fn days<'a, T: Float>(&'a self, window: &[&'a DaySnapshot<T>]) -> Vec<RowsDay<'a, T>> {
        window
            .iter()
            .zip(&self.maps)
            .map(|(d, m)| RowsDay {
                day: d,
                ids: &self.ids,
                rows: m,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::temporal::encoder::WindowGraph;
    use crate::model::temporal::snapshot::{expand, union_ids};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use sprs::TriMat;

    fn day(ids: Vec<u32>, n_hosts: usize, seed: u64) -> DaySnapshot<f64> {
        let n = ids.len();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut t = TriMat::new((n, n));
        for h in 0..n_hosts {
            for p in n_hosts..n {
                if rand::Rng::random_bool(&mut rng, 0.6) {
                    let w = rand::Rng::random_range(&mut rng, 1.0..4.0);
                    t.add_triplet(h, p, w);
                    t.add_triplet(p, h, w);
                }
            }
        }
        let adj = crate::adjacency::normalize_rows(&t.to_csr()).unwrap();
        let adj_t = crate::kernels::transpose_csr(&adj);
        let x = Array2::from_shape_fn((n, 3), |(i, j)| {
            ((i * 7 + j * 3 + seed as usize) % 5) as f64 / 5.0
        });
        DaySnapshot::new(ids, n_hosts, adj, adj_t, x, vec![], vec![]).unwrap()
    }

    #[test]
    fn row_map_finds_active_rows() {
        let d = day(vec![1, 3, 8, 9], 2, 1);
        assert_eq!(
            row_map(&d, &[0, 1, 3, 5, 9, 11]),
            vec![None, Some(0), Some(1), None, Some(3), None]
        );
    }

    /// The asked rows get the same embeddings as the union window in evaluation mode.
    #[test]
    fn rows_match_the_union_window_in_eval_mode() {
        let days = [
            day(vec![0, 1, 2, 8, 9], 3, 1),
            day(vec![1, 3, 8, 10], 2, 2),
            day(vec![0, 1, 3, 9, 10], 3, 3),
        ];
        let refs: Vec<&DaySnapshot<f64>> = days.iter().collect();
        for feats in [true, false] {
            let mut rng = ChaCha8Rng::seed_from_u64(4);
            let mut enc =
                GcnGruEncoder::<f64>::new(if feats { 3 } else { 12 }, &[5, 4], 3, &mut rng);
            // Non-trivial running statistics.
            enc.bn.running_mean.fill(0.1);
            enc.bn.running_var.fill(2.0);
            let union = union_ids(&refs);
            let ex: Vec<_> = refs.iter().map(|s| expand(s, &union, feats)).collect();
            let views: Vec<WindowGraph<'_, f64>> = ex
                .iter()
                .map(|g| WindowGraph {
                    adj: &g.adj,
                    adj_t: &g.adj_t,
                    input: if feats {
                        NodeInput::Features(g.features.view())
                    } else {
                        NodeInput::Identity(&union)
                    },
                })
                .collect();
            let (full, _) = enc.forward(&views, Mode::Eval).unwrap();
            let asked = days[2].node_ids.clone();
            let rw = RowsWindow::new(&refs, &asked);
            let (e, _) = enc
                .forward_rows(&rw.days(&refs), feats, Mode::Eval)
                .unwrap();
            for (i, id) in asked.iter().enumerate() {
                let u = union.binary_search(id).unwrap();
                for k in 0..3 {
                    approx::assert_abs_diff_eq!(e[[i, k]], full[[u, k]], epsilon = 1e-12);
                }
            }
        }
    }

    /// forward_rows / backward_rows against central finite differences (f64), with days
    /// where asked rows are absent, with features and with the identity input.
    #[test]
    fn rows_backward_matches_finite_differences() {
        use crate::gradcheck::{check_gradients, GradCheckConfig};
        use ndarray::{ArrayD, Ix2};
        let days = [
            day(vec![0, 1, 2, 8, 9], 3, 11),
            day(vec![1, 3, 8, 10], 2, 12),
            day(vec![0, 1, 3, 9, 10], 3, 13),
        ];
        let refs: Vec<&DaySnapshot<f64>> = days.iter().collect();
        // Asked: the last day's nodes plus node 2, absent on the last two days.
        let asked = vec![0, 1, 2, 3, 9, 10];
        let rw = RowsWindow::new(&refs, &asked);
        for feats in [true, false] {
            let mut rng = ChaCha8Rng::seed_from_u64(5);
            let mut enc =
                GcnGruEncoder::<f64>::new(if feats { 3 } else { 12 }, &[4, 3], 3, &mut rng);
            let report = check_gradients(
                &mut enc,
                &[ArrayD::zeros(vec![1])],
                |m, _| {
                    Ok(m.forward_rows(&rw.days(&refs), feats, Mode::Train)?
                        .0
                        .into_dyn())
                },
                |m, _, g| {
                    let w = rw.days(&refs);
                    let (_, c) = m.forward_rows(&w, feats, Mode::Train)?;
                    m.backward_rows(&w, &c, g.view().into_dimensionality::<Ix2>().unwrap())?;
                    Ok(vec![None])
                },
                &GradCheckConfig::default(),
            )
            .unwrap();
            assert!(
                report.tensors.iter().any(|t| t == "gcn.0.weight"),
                "{:?}",
                report.tensors
            );
        }
    }
}
