//! Paper B's encoders (GCN stack, GCN → FC → ReLU → BatchNorm, GCN → GRU → BatchNorm) and the
//! edge predictor, each with forward (output + cache) and backward.

use crate::error::check_shape;
use crate::kernels::spmm_into;
use crate::layers::{
    BatchNorm1d, BatchNormCache, Gcn, GcnCache, Gru, GruCache, Linear, LinearCache, LogSoftmax,
    LogSoftmaxCache, Relu, ReluCache,
};
use crate::param::{visit_child_buffers, visit_child_params};
use crate::{Float, HasParams, Mode, NnError, ParamMut, Result};
use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayView2, ArrayViewMutD, Axis};
use rand::Rng;
use sprs::CsMat;

/// The input of the first GCN layer.
#[derive(Debug, Clone, Copy)]
pub enum NodeInput<'a, T> {
    /// Node features, (n, in_dim).
    Features(ArrayView2<'a, T>),
    /// No node features: the identity matrix of the node universe (one-hot global ids), given
    /// as the global id of each row, (n,). The first layer's product `X W` is then the row
    /// lookup `W[ids]` (no dense identity is built); `in_dim` is the universe size.
    Identity(&'a [u32]),
}

/// Stacked graph convolutions with ReLU between them and none after the last (SPEC §3.6):
/// `in_dim → dims[0] → … → dims[last]` (Paper B: 37 → 1024 → 512).
#[derive(Debug, Clone, PartialEq)]
pub struct GcnStack<T: Float> {
    /// The layers, named `0.weight`, `0.bias`, `1.weight`, ... (weight (in, out)).
    pub layers: Vec<Gcn<T>>,
}

/// What [`GcnStack::backward`] needs.
#[derive(Debug, Clone)]
pub struct GcnStackCache<T> {
    first: FirstCache<T>,
    /// Per later layer: the ReLU before it and its own cache.
    rest: Vec<(ReluCache<T>, GcnCache<T>)>,
}

#[derive(Debug, Clone)]
enum FirstCache<T> {
    Gcn(GcnCache<T>),
    Identity(Vec<u32>),
}

impl<T: Float> GcnStack<T> {
    /// Layers `in_dim → dims[0] → …`, initialised as the reference code (`U(±1/√out)`), drawn
    /// from `rng` in order.
    pub fn new(in_dim: usize, dims: &[usize], rng: &mut impl Rng) -> Self {
        let mut layers = Vec::with_capacity(dims.len());
        let mut d = in_dim;
        for &o in dims {
            layers.push(Gcn::new(d, o, rng));
            d = o;
        }
        Self { layers }
    }

    /// Input width (the universe size for identity input).
    pub fn in_dim(&self) -> usize {
        self.layers.first().map_or(0, |l| l.in_dim())
    }

    /// Output width.
    pub fn out_dim(&self) -> usize {
        self.layers.last().map_or(0, |l| l.out_dim())
    }

    /// `adj` (n, n) CSR and the input (n rows) → (n, out_dim) and the cache.
    ///
    /// Errors: [`NnError::ShapeMismatch`], [`NnError::NotCsr`], [`NnError::InvalidNodeIds`]
    /// (an identity id ≥ in_dim).
    pub fn forward(
        &self,
        adj: &CsMat<T>,
        input: NodeInput<'_, T>,
    ) -> Result<(Array2<T>, GcnStackCache<T>)> {
        const OP: &str = "GcnStack::forward";
        let Some(first) = self.layers.first() else {
            return Err(NnError::Empty {
                what: "GCN stack without layers".to_string(),
            });
        };
        let (mut h, fc) = match input {
            NodeInput::Features(x) => {
                let (h, c) = first.forward(adj, x)?;
                (h, FirstCache::Gcn(c))
            }
            NodeInput::Identity(ids) => {
                let n = ids.len();
                if !adj.is_csr() {
                    return Err(NnError::NotCsr {
                        op: OP,
                        what: "adj",
                    });
                }
                check_shape(OP, "adj", &[n, n], &[adj.rows(), adj.cols()])?;
                check_ids(ids, first.in_dim())?;
                let mut xw = Array2::zeros((n, first.out_dim()));
                for (mut row, &id) in xw.rows_mut().into_iter().zip(ids) {
                    row.assign(&first.weight.value.row(id as usize));
                }
                let mut h = Array2::zeros((n, first.out_dim()));
                spmm_into(adj, xw.view(), h.view_mut())?;
                h += &first.bias.value;
                (h, FirstCache::Identity(ids.to_vec()))
            }
        };
        let mut rest = Vec::with_capacity(self.layers.len() - 1);
        for layer in &self.layers[1..] {
            let (a, rc) = Relu.forward(h.view());
            let (o, gc) = layer.forward(adj, a.view())?;
            rest.push((rc, gc));
            h = o;
        }
        Ok((h, GcnStackCache { first: fc, rest }))
    }

    /// `adj_t` = `Âᵀ` (n, n) CSR, `d_out` (n, out_dim): adds to every layer's gradients. The
    /// input gradient is not returned (inputs are data).
    ///
    /// Errors: [`NnError::ShapeMismatch`], [`NnError::NotCsr`].
    pub fn backward(
        &mut self,
        adj_t: &CsMat<T>,
        cache: &GcnStackCache<T>,
        d_out: ArrayView2<'_, T>,
    ) -> Result<()> {
        let mut d = d_out.to_owned();
        for (k, (rc, gc)) in cache.rest.iter().enumerate().rev() {
            let dx = self.layers[k + 1].backward(adj_t, gc, d.view())?;
            d = Relu.backward(rc, dx.view())?;
        }
        let first = &mut self.layers[0];
        match &cache.first {
            FirstCache::Gcn(gc) => first.backward_params(adj_t, gc, d.view())?,
            FirstCache::Identity(ids) => {
                let n = ids.len();
                check_shape(
                    "GcnStack::backward",
                    "d_out",
                    &[n, first.out_dim()],
                    d.shape(),
                )?;
                *first.bias.grad_mut() += &d.sum_axis(Axis(0));
                let mut dxw = Array2::zeros((n, first.out_dim()));
                spmm_into(adj_t, d.view(), dxw.view_mut())?;
                let g = first.weight.grad_mut();
                for (row, &id) in dxw.rows().into_iter().zip(ids) {
                    let mut gr = g.row_mut(id as usize);
                    gr += &row;
                }
            }
        }
        Ok(())
    }
}

fn check_ids(ids: &[u32], n: usize) -> Result<()> {
    match ids.iter().position(|&i| i as usize >= n) {
        None => Ok(()),
        Some(row) => Err(NnError::InvalidNodeIds {
            row,
            id: ids[row],
            reason: "global id outside the model's node universe",
        }),
    }
}

impl<T: Float> HasParams<T> for GcnStack<T> {
    fn visit_params(&mut self, f: &mut dyn FnMut(&str, ParamMut<'_, T>)) {
        self.layers.visit_params(f);
    }
}

/// The GCN / i-GCN encoder (SPEC §3.6 `SingleGCN`): `BN(ReLU(FC(GCN(x))))`, embeddings
/// (n, emb_dim).
#[derive(Debug, Clone, PartialEq)]
pub struct GcnEncoder<T: Float> {
    /// Graph convolutions (`gcn.*`).
    pub gcn: GcnStack<T>,
    /// Linear gcn_out → emb_dim (`fc.*`).
    pub fc: Linear<T>,
    /// BatchNorm1d(emb_dim) (`bn.*`).
    pub bn: BatchNorm1d<T>,
}

/// What [`GcnEncoder::backward`] needs.
#[derive(Debug, Clone)]
pub struct GcnEncoderCache<T> {
    gcn: GcnStackCache<T>,
    fc: LinearCache<T>,
    relu: ReluCache<T>,
    bn: BatchNormCache<T>,
}

impl<T: Float> GcnEncoder<T> {
    /// Layers drawn from `rng` in order: GCN layers, FC; BatchNorm starts at γ = 1, β = 0.
    pub fn new(in_dim: usize, gcn_dims: &[usize], emb_dim: usize, rng: &mut impl Rng) -> Self {
        let gcn = GcnStack::new(in_dim, gcn_dims, rng);
        let fc = Linear::new(gcn.out_dim(), emb_dim, rng);
        Self {
            gcn,
            fc,
            bn: BatchNorm1d::new(emb_dim),
        }
    }

    /// `adj` (n, n), input (n rows) → embeddings (n, emb_dim) and the cache. `mode` is the
    /// BatchNorm's (Train: batch statistics and running-statistics update).
    pub fn forward(
        &mut self,
        adj: &CsMat<T>,
        input: NodeInput<'_, T>,
        mode: Mode,
    ) -> Result<(Array2<T>, GcnEncoderCache<T>)> {
        let (h, gcn) = self.gcn.forward(adj, input)?;
        let (f, fc) = self.fc.forward(h.view())?;
        let (a, relu) = Relu.forward(f.view());
        let (e, bn) = self.bn.forward(a.view(), mode)?;
        Ok((e, GcnEncoderCache { gcn, fc, relu, bn }))
    }

    /// `adj_t` (n, n), `d_emb` (n, emb_dim): adds to every parameter gradient.
    pub fn backward(
        &mut self,
        adj_t: &CsMat<T>,
        cache: &GcnEncoderCache<T>,
        d_emb: ArrayView2<'_, T>,
    ) -> Result<()> {
        let d = self.bn.backward(&cache.bn, d_emb)?;
        let d = Relu.backward(&cache.relu, d.view())?;
        let d = self.fc.backward(&cache.fc, d.view())?;
        self.gcn.backward(adj_t, &cache.gcn, d.view())
    }
}

impl<T: Float> HasParams<T> for GcnEncoder<T> {
    fn visit_params(&mut self, f: &mut dyn FnMut(&str, ParamMut<'_, T>)) {
        visit_child_params("gcn", &mut self.gcn, f);
        visit_child_params("fc", &mut self.fc, f);
        visit_child_params("bn", &mut self.bn, f);
    }
    fn visit_buffers(&mut self, f: &mut dyn FnMut(&str, ArrayViewMutD<'_, T>)) {
        visit_child_buffers("bn", &mut self.bn, f);
    }
}

/// One graph of a GCN-GRU window, over the window's node rows.
#[derive(Debug, Clone, Copy)]
pub struct WindowGraph<'a, T> {
    /// Normalized adjacency (n, n) CSR.
    pub adj: &'a CsMat<T>,
    /// Its transpose (n, n) CSR.
    pub adj_t: &'a CsMat<T>,
    /// The first layer's input (n rows).
    pub input: NodeInput<'a, T>,
}

/// The GCN-GRU / i-GCN-GRU encoder (SPEC §3.6 `GcnGruModule`): the GCN applied to each graph
/// of a window (oldest first), a one-layer GRU over the S outputs from `h0 = 0`, BatchNorm on
/// the last hidden state: embeddings (n, hidden).
#[derive(Debug, Clone, PartialEq)]
pub struct GcnGruEncoder<T: Float> {
    /// Graph convolutions shared by all steps (`gcn.*`).
    pub gcn: GcnStack<T>,
    /// GRU(gcn_out → hidden) (`gru.weight_ih_l0`, ...).
    pub gru: Gru<T>,
    /// BatchNorm1d(hidden) (`bn.*`).
    pub bn: BatchNorm1d<T>,
}

/// What [`GcnGruEncoder::backward`] needs.
#[derive(Debug, Clone)]
pub struct GcnGruEncoderCache<T> {
    gcn: Vec<GcnStackCache<T>>,
    gru: GruCache<T>,
    bn: BatchNormCache<T>,
}

impl<T: Float> GcnGruEncoder<T> {
    /// Layers drawn from `rng` in order: GCN layers, GRU.
    pub fn new(in_dim: usize, gcn_dims: &[usize], hidden: usize, rng: &mut impl Rng) -> Self {
        let gcn = GcnStack::new(in_dim, gcn_dims, rng);
        let gru = Gru::new(gcn.out_dim(), hidden, rng);
        Self {
            gcn,
            gru,
            bn: BatchNorm1d::new(hidden),
        }
    }

    /// A window of S graphs over the same n rows → embeddings (n, hidden) and the cache.
    ///
    /// Errors: [`NnError::EmptyBatch`] for an empty window, shape errors of the layers.
    pub fn forward(
        &mut self,
        window: &[WindowGraph<'_, T>],
        mode: Mode,
    ) -> Result<(Array2<T>, GcnGruEncoderCache<T>)> {
        let mut outs = Vec::with_capacity(window.len());
        let mut gcn = Vec::with_capacity(window.len());
        for g in window {
            let (h, c) = self.gcn.forward(g.adj, g.input)?;
            outs.push(h);
            gcn.push(c);
        }
        let views: Vec<_> = outs.iter().map(|h| h.view()).collect();
        let (hs, gru) = self.gru.forward(&views, None)?;
        drop(views);
        drop(outs);
        let last = hs.last().ok_or(NnError::EmptyBatch {
            op: "GcnGruEncoder::forward",
        })?;
        let (e, bn) = self.bn.forward(last.view(), mode)?;
        Ok((e, GcnGruEncoderCache { gcn, gru, bn }))
    }

    /// Backward through BatchNorm, the GRU (through time) and every step's GCN; `window` as in
    /// forward (its `adj_t` are used), `d_emb` (n, hidden).
    pub fn backward(
        &mut self,
        window: &[WindowGraph<'_, T>],
        cache: &GcnGruEncoderCache<T>,
        d_emb: ArrayView2<'_, T>,
    ) -> Result<()> {
        check_shape(
            "GcnGruEncoder::backward",
            "window",
            &[cache.gcn.len()],
            &[window.len()],
        )?;
        let d = self.bn.backward(&cache.bn, d_emb)?;
        let (dxs, _) = self.gru.backward(&cache.gru, None, Some(d.view()))?;
        for ((g, c), dx) in window.iter().zip(&cache.gcn).zip(&dxs) {
            self.gcn.backward(g.adj_t, c, dx.view())?;
        }
        Ok(())
    }
}

impl<T: Float> HasParams<T> for GcnGruEncoder<T> {
    fn visit_params(&mut self, f: &mut dyn FnMut(&str, ParamMut<'_, T>)) {
        visit_child_params("gcn", &mut self.gcn, f);
        visit_child_params("gru", &mut self.gru, f);
        visit_child_params("bn", &mut self.bn, f);
    }
    fn visit_buffers(&mut self, f: &mut dyn FnMut(&str, ArrayViewMutD<'_, T>)) {
        visit_child_buffers("bn", &mut self.bn, f);
    }
}

/// The link-prediction head (SPEC §3.6): `concat(emb_src, emb_dst)` (2·emb) → Linear(hidden)
/// → ReLU → Linear(2) → log-softmax; class 1 = the edge exists.
///
/// The first layer is evaluated without building the (m, 2·emb) concatenation: with
/// `W1 = [W_src | W_dst]`, `concat(e_s, e_d) W1ᵀ = (E W_srcᵀ)[s] + (E W_dstᵀ)[d]`, so the two
/// node-level products (n, hidden) are computed once and gathered per pair: m·2·emb·hidden
/// multiply-adds become n·2·emb·hidden (Paper B: 98k pairs over 6.4k nodes, ≈ 15× fewer). Backward
/// scatters the pair gradients back to the nodes the same way. Weights keep PyTorch's layout
/// (`fc1.weight` (hidden, 2·emb)).
#[derive(Debug, Clone, PartialEq)]
pub struct EdgePredictor<T: Float> {
    /// First layer 2·emb → hidden (`fc1.*`).
    pub fc1: Linear<T>,
    /// Output layer hidden → 2 (`fc2.*`).
    pub fc2: Linear<T>,
}

/// What [`EdgePredictor::backward`] needs.
#[derive(Debug, Clone)]
pub struct EdgePredictorCache<T> {
    src: Vec<usize>,
    dst: Vec<usize>,
    emb: Array2<T>,
    relu: ReluCache<T>,
    fc2: LinearCache<T>,
    ls: LogSoftmaxCache<T>,
}

impl<T: Float> EdgePredictor<T> {
    /// PyTorch-initialised layers drawn from `rng` (fc1, then fc2).
    pub fn new(emb_dim: usize, hidden: usize, rng: &mut impl Rng) -> Self {
        Self {
            fc1: Linear::new(2 * emb_dim, hidden, rng),
            fc2: Linear::new(hidden, 2, rng),
        }
    }

    /// `emb` (n, emb_dim), pairs of rows `src[i]`, `dst[i]` (m each) → log-probabilities
    /// (m, 2) and the cache.
    ///
    /// Errors: [`NnError::ShapeMismatch`] (lengths, embedding width, a row ≥ n).
    pub fn forward(
        &self,
        emb: ArrayView2<'_, T>,
        src: &[usize],
        dst: &[usize],
    ) -> Result<(Array2<T>, EdgePredictorCache<T>)> {
        const OP: &str = "EdgePredictor::forward";
        check_shape(OP, "dst", &[src.len()], &[dst.len()])?;
        let d = self.fc1.in_dim() / 2;
        check_shape(OP, "emb", &[emb.nrows(), d], emb.shape())?;
        if let Some(&bad) = src.iter().chain(dst).find(|&&r| r >= emb.nrows()) {
            return Err(NnError::ShapeMismatch {
                op: OP,
                what: "pair row",
                expected: vec![emb.nrows()],
                actual: vec![bad + 1],
            });
        }
        let (w_src, w_dst) = self.fc1.weight.value.view().split_at(Axis(1), d);
        let p = emb.dot(&w_src.t());
        let q = emb.dot(&w_dst.t());
        let hidden = self.fc1.out_dim();
        let mut pre = Array2::zeros((src.len(), hidden));
        for ((mut row, &a), &b) in pre.rows_mut().into_iter().zip(src).zip(dst) {
            row.assign(&p.row(a));
            row += &q.row(b);
            row += &self.fc1.bias.value;
        }
        let (a, relu) = Relu.forward(pre.view());
        drop(pre);
        let (o, fc2) = self.fc2.forward(a.view())?;
        let (lp, ls) = LogSoftmax.forward(o.view());
        Ok((
            lp,
            EdgePredictorCache {
                src: src.to_vec(),
                dst: dst.to_vec(),
                emb: emb.to_owned(),
                relu,
                fc2,
                ls,
            },
        ))
    }

    /// `d_log_probs` (m, 2) → `d_emb` (n, emb_dim) (scatter-added over the pairs); adds to the
    /// layers' gradients.
    pub fn backward(
        &mut self,
        cache: &EdgePredictorCache<T>,
        d_log_probs: ArrayView2<'_, T>,
    ) -> Result<Array2<T>> {
        let d = LogSoftmax.backward(&cache.ls, d_log_probs)?;
        let d = self.fc2.backward(&cache.fc2, d.view())?;
        let d_pre = Relu.backward(&cache.relu, d.view())?;
        let (n, e) = cache.emb.dim();
        let hidden = self.fc1.out_dim();
        *self.fc1.bias.grad_mut() += &d_pre.sum_axis(Axis(0));
        // Per-node sums of the pair gradients, as source and as destination.
        let mut s = Array2::<T>::zeros((n, hidden));
        let mut t = Array2::<T>::zeros((n, hidden));
        for ((row, &a), &b) in d_pre.rows().into_iter().zip(&cache.src).zip(&cache.dst) {
            let mut sa = s.row_mut(a);
            sa += &row;
            let mut tb = t.row_mut(b);
            tb += &row;
        }
        {
            let (mut g_src, mut g_dst) = self.fc1.weight.grad_mut().view_mut().split_at(Axis(1), e);
            general_mat_mul(T::one(), &s.t(), &cache.emb, T::one(), &mut g_src);
            general_mat_mul(T::one(), &t.t(), &cache.emb, T::one(), &mut g_dst);
        }
        let (w_src, w_dst) = self.fc1.weight.value.view().split_at(Axis(1), e);
        let mut d_emb = s.dot(&w_src);
        general_mat_mul(T::one(), &t, &w_dst, T::one(), &mut d_emb);
        Ok(d_emb)
    }
}

impl<T: Float> HasParams<T> for EdgePredictor<T> {
    fn visit_params(&mut self, f: &mut dyn FnMut(&str, ParamMut<'_, T>)) {
        visit_child_params("fc1", &mut self.fc1, f);
        visit_child_params("fc2", &mut self.fc2, f);
    }
}
