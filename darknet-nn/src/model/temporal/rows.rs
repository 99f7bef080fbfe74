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

use super::encoder::{gru_bptt_into, GcnGruEncoder, GcnStackCache, NodeInput};
use super::snapshot::DaySnapshot;
use crate::buffer::{reshape2, reshape2_zeroed};
use crate::error::check_shape;
use crate::layers::{BatchNormCache, GruBuffers, GruCellCache};
use crate::{Float, Mode, NnError, Result};
use ndarray::{Array2, ArrayView2};
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
    let mut out = Vec::with_capacity(asked.len());
    row_map_into(day, asked, &mut out);
    out
}

/// [`row_map`] into `out` (cleared first, its memory reused).
pub fn row_map_into<T: Float>(day: &DaySnapshot<T>, asked: &[u32], out: &mut Vec<Option<usize>>) {
    out.clear();
    let ids = &day.node_ids;
    let mut j = 0;
    for &a in asked {
        while j < ids.len() && ids[j] < a {
            j += 1;
        }
        out.push((j < ids.len() && ids[j] == a).then_some(j));
    }
}

/// What [`GcnGruEncoder::backward_rows`] needs, with every buffer of the pass. `Default` is an
/// empty cache for [`GcnGruEncoder::forward_rows_into`], which refills it in place: kept
/// across steps, a window of the same shape allocates nothing but matrixmultiply's packing
/// buffers.
#[derive(Debug, Clone, Default)]
pub struct RowsCache<T: Float> {
    days: Vec<DayCache<T>>,
    use_features: bool,
    /// The GRU input of the current step (each cell cache keeps its own copy).
    x: Array2<T>,
    cells: Vec<GruCellCache<T>>,
    gru_buf: GruBuffers<T>,
    /// Hidden states after each step; `h0` the zero initial state.
    hs: Vec<Array2<T>>,
    h0: Array2<T>,
    bn: BatchNormCache<T>,
    emb: Array2<T>,
    dh_a: Array2<T>,
    dh_b: Array2<T>,
    dxs: Vec<Array2<T>>,
    d_day: Array2<T>,
    d_iso: Array2<T>,
}

impl<T: Float> RowsCache<T> {
    /// The embeddings of the last forward pass, (n_rows, hidden).
    pub fn embeddings(&self) -> ArrayView2<'_, T> {
        self.emb.view()
    }
}

#[derive(Debug, Clone, Default)]
struct DayCache<T: Float> {
    gcn: GcnStackCache<T>,
    /// Asked rows absent that day, their isolated graph (identity adjacency) and its cache.
    absent: Vec<usize>,
    iso: GcnStackCache<T>,
    iso_adj: Option<CsMat<T>>,
    iso_ids: Vec<u32>,
    /// One zero feature row shared by every absent node (with features).
    iso_x: Array2<T>,
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
        let mut cache = RowsCache::default();
        self.forward_rows_into(window, use_features, mode, &mut cache)?;
        let e = std::mem::take(&mut cache.emb);
        Ok((e, cache))
    }

    /// [`GcnGruEncoder::forward_rows`] into the buffers of `cache`, refilled in place; the
    /// embeddings are [`RowsCache::embeddings`].
    pub fn forward_rows_into(
        &mut self,
        window: &[RowsDay<'_, T>],
        use_features: bool,
        mode: Mode,
        cache: &mut RowsCache<T>,
    ) -> Result<()> {
        const OP: &str = "GcnGruEncoder::forward_rows";
        let first = window.first().ok_or(NnError::EmptyBatch { op: OP })?;
        let n_rows = first.rows.len();
        if n_rows == 0 {
            return Err(NnError::EmptyBatch { op: OP });
        }
        let out_dim = self.gcn.out_dim();
        let hidden = self.gru.hidden_size();
        let steps = window.len();
        let c = cache;
        c.use_features = use_features;
        c.days.resize_with(steps, DayCache::default);
        c.cells.resize_with(steps, GruCellCache::default);
        c.hs.resize_with(steps, || Array2::zeros((0, 0)));
        reshape2_zeroed(&mut c.h0, n_rows, hidden);
        for (t, w) in window.iter().enumerate() {
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
            let dc = &mut c.days[t];
            let input = if use_features {
                NodeInput::Features(d.features.view())
            } else {
                NodeInput::Identity(&d.node_ids)
            };
            self.gcn.forward_into(&d.adj, input, &mut dc.gcn)?;
            let h = dc.gcn.output();
            reshape2(&mut c.x, n_rows, out_dim);
            dc.absent.clear();
            for (i, r) in w.rows.iter().enumerate() {
                match r {
                    Some(l) => c.x.row_mut(i).assign(&h.row(*l)),
                    None => dc.absent.push(i),
                }
            }
            if !dc.absent.is_empty() {
                // Isolated nodes: identity adjacency, zero features (one shared row) or ids.
                let n_iso = if use_features { 1 } else { dc.absent.len() };
                if dc.iso_adj.as_ref().is_none_or(|a| a.rows() != n_iso) {
                    dc.iso_adj = Some(CsMat::eye(n_iso));
                }
                let input = if use_features {
                    reshape2_zeroed(&mut dc.iso_x, 1, d.features.ncols());
                    NodeInput::Features(dc.iso_x.view())
                } else {
                    dc.iso_ids.clear();
                    dc.iso_ids.extend(dc.absent.iter().map(|&i| w.ids[i]));
                    NodeInput::Identity(&dc.iso_ids)
                };
                let adj = dc.iso_adj.as_ref().ok_or(NnError::EmptyBatch { op: OP })?;
                self.gcn.forward_into(adj, input, &mut dc.iso)?;
                let hi = dc.iso.output();
                for (k, &i) in dc.absent.iter().enumerate() {
                    c.x.row_mut(i)
                        .assign(&hi.row(if use_features { 0 } else { k }));
                }
            }
            let (done, rest) = c.hs.split_at_mut(t);
            let h_prev = done.last().unwrap_or(&c.h0);
            self.gru.cell.forward_into(
                c.x.view(),
                h_prev.view(),
                &mut c.cells[t],
                &mut c.gru_buf,
                &mut rest[0],
            )?;
        }
        self.bn
            .forward_into(c.hs[steps - 1].view(), mode, &mut c.bn, &mut c.emb)
    }

    /// Backward of [`GcnGruEncoder::forward_rows`] / [`GcnGruEncoder::forward_rows_into`]:
    /// `window` as in forward, `d_emb` (n_rows, hidden); adds to every parameter gradient,
    /// reusing the cache's buffers.
    ///
    /// Errors: [`NnError::ShapeMismatch`], errors of the layers.
    pub fn backward_rows(
        &mut self,
        window: &[RowsDay<'_, T>],
        cache: &mut RowsCache<T>,
        d_emb: ArrayView2<'_, T>,
    ) -> Result<()> {
        const OP: &str = "GcnGruEncoder::backward_rows";
        let c = cache;
        check_shape(OP, "window", &[c.days.len()], &[window.len()])?;
        check_shape(OP, "window", &[c.cells.len()], &[window.len()])?;
        self.bn.backward_into(&c.bn, d_emb, &mut c.dh_a)?;
        gru_bptt_into(
            &mut self.gru,
            &c.cells,
            &mut c.gru_buf,
            &mut c.dh_a,
            &mut c.dh_b,
            &mut c.dxs,
        )?;
        let out_dim = self.gcn.out_dim();
        for ((w, dc), dx) in window.iter().zip(c.days.iter_mut()).zip(&c.dxs) {
            reshape2_zeroed(&mut c.d_day, w.day.n_nodes(), out_dim);
            for (i, r) in w.rows.iter().enumerate() {
                if let Some(l) = r {
                    c.d_day.row_mut(*l).assign(&dx.row(i));
                }
            }
            self.gcn
                .backward_into(&w.day.adj_t, &mut dc.gcn, c.d_day.view())?;
            if !dc.absent.is_empty() {
                if c.use_features {
                    reshape2_zeroed(&mut c.d_iso, 1, out_dim);
                    for &i in &dc.absent {
                        let mut r = c.d_iso.row_mut(0);
                        r += &dx.row(i);
                    }
                } else {
                    reshape2(&mut c.d_iso, dc.absent.len(), out_dim);
                    for (k, &i) in dc.absent.iter().enumerate() {
                        c.d_iso.row_mut(k).assign(&dx.row(i));
                    }
                }
                // The identity adjacency is its own transpose.
                let adj = dc.iso_adj.as_ref().ok_or(NnError::EmptyBatch { op: OP })?;
                self.gcn.backward_into(adj, &mut dc.iso, c.d_iso.view())?;
            }
        }
        Ok(())
    }
}

/// A window's row maps for the asked ids (ascending global ids); [`RowsWindow::refill`] reuses
/// its memory for the next window.
#[derive(Debug, Clone, Default)]
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

    /// Refills the row maps for another window and asked ids, reusing their memory.
    pub fn refill<T: Float>(&mut self, window: &[&DaySnapshot<T>], asked: &[u32]) {
        self.ids.clear();
        self.ids.extend_from_slice(asked);
        self.maps.resize_with(window.len(), Vec::new);
        for (m, d) in self.maps.iter_mut().zip(window) {
            row_map_into(d, asked, m);
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
        let adj = crate::adjacency::normalize_row_self_loops(&t.to_csr()).unwrap();
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
                    let (_, mut c) = m.forward_rows(&w, feats, Mode::Train)?;
                    m.backward_rows(&w, &mut c, g.view().into_dimensionality::<Ix2>().unwrap())?;
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
