//! Paper B's encoders (GCN stack, GCN → FC → ReLU → BatchNorm, GCN → GRU → BatchNorm) and the
//! edge predictor, each with forward (output + cache) and backward.

use crate::buffer::{add_column_sums, reshape2, reshape2_zeroed};
use crate::error::check_shape;
use crate::kernels::spmm_into;
use crate::layers::{
    BatchNorm1d, BatchNormCache, Gcn, GcnCache, Gru, GruBuffers, GruCache, GruCellCache, Linear,
    LinearCache, LogSoftmax, LogSoftmaxCache, Relu, ReluCache,
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
    /// as the global id of each row, (n,). The first layer's product `X Wᵀ` is then the
    /// column lookup `W[:, ids]ᵀ` (no dense identity is built); `in_dim` is the universe size.
    Identity(&'a [u32]),
}

/// Stacked graph convolutions with ReLU between them and none after the last
/// (docs/paper-b.md#encoders): `in_dim → dims[0] → … → dims[last]` (Paper B: 37 → 1024 → 512).
#[derive(Debug, Clone, PartialEq)]
pub struct GcnStack<T: Float> {
    /// The layers, named `0.weight`, `0.bias`, `1.weight`, ... (weight (out, in)).
    pub layers: Vec<Gcn<T>>,
}

/// What [`GcnStack::backward`] needs, with every layer's output and the temporaries of the
/// backward pass. `Default` is an empty cache for [`GcnStack::forward_into`], which refills it
/// in place.
#[derive(Debug, Clone)]
pub struct GcnStackCache<T> {
    first: FirstCache<T>,
    /// Per later layer: the ReLU before it (whose `y` holds the previous layer's output,
    /// rectified in place) and its own cache.
    rest: Vec<(ReluCache<T>, GcnCache<T>)>,
    /// The last layer's output (the stack's).
    out: Array2<T>,
    tmp: Array2<T>,
    d_a: Array2<T>,
    d_b: Array2<T>,
}

#[derive(Debug, Clone)]
enum FirstCache<T> {
    Gcn(GcnCache<T>),
    Identity(Vec<u32>),
}

impl<T: Float> Default for GcnStackCache<T> {
    fn default() -> Self {
        Self {
            first: FirstCache::Gcn(GcnCache::default()),
            rest: Vec::new(),
            out: Array2::zeros((0, 0)),
            tmp: Array2::zeros((0, 0)),
            d_a: Array2::zeros((0, 0)),
            d_b: Array2::zeros((0, 0)),
        }
    }
}

impl<T: Float> GcnStackCache<T> {
    /// Frees the temporaries (not needed by `backward`), as the allocating calls return.
    fn release_scratch(&mut self) {
        for a in [&mut self.tmp, &mut self.d_a, &mut self.d_b] {
            *a = Array2::zeros((0, 0));
        }
    }

    /// The stack's output of the last forward pass, (n, out_dim) (empty before any).
    pub fn output(&self) -> ArrayView2<'_, T> {
        self.out.view()
    }
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

    /// A stack of given layers (build them with [`Gcn::from_arrays`]).
    ///
    /// Errors: [`NnError::Empty`] for no layer; [`NnError::ShapeMismatch`] when a layer's
    /// input width is not the previous layer's output width.
    pub fn from_layers(layers: Vec<Gcn<T>>) -> Result<Self> {
        if layers.is_empty() {
            return Err(NnError::Empty {
                what: "GCN stack without layers".to_string(),
            });
        }
        for pair in layers.windows(2) {
            check_shape(
                "GcnStack::from_layers",
                "layer input width",
                &[pair[0].out_dim()],
                &[pair[1].in_dim()],
            )?;
        }
        Ok(Self { layers })
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
        let mut cache = GcnStackCache::default();
        self.forward_into(adj, input, &mut cache)?;
        let out = std::mem::replace(&mut cache.out, Array2::zeros((0, 0)));
        cache.release_scratch();
        Ok((out, cache))
    }

    /// Allocation-free forward: the output lands in the cache ([`GcnStackCache::output`],
    /// (n, out_dim)); every buffer is refilled in place. Errors as [`GcnStack::forward`].
    pub fn forward_into(
        &self,
        adj: &CsMat<T>,
        input: NodeInput<'_, T>,
        cache: &mut GcnStackCache<T>,
    ) -> Result<()> {
        let c = cache;
        self.forward_core(
            adj,
            input,
            &mut c.first,
            &mut c.rest,
            &mut c.tmp,
            &mut c.out,
        )
    }

    /// The forward pass on the cache's parts: per-layer caches (`first_cache`, `rest`), the
    /// temporary `tmp` and the output `out`, so several caches can share one temporary.
    fn forward_core(
        &self,
        adj: &CsMat<T>,
        input: NodeInput<'_, T>,
        first_cache: &mut FirstCache<T>,
        rest: &mut Vec<(ReluCache<T>, GcnCache<T>)>,
        tmp: &mut Array2<T>,
        out: &mut Array2<T>,
    ) -> Result<()> {
        const OP: &str = "GcnStack::forward";
        let Some(first) = self.layers.first() else {
            return Err(NnError::Empty {
                what: "GCN stack without layers".to_string(),
            });
        };
        rest.resize_with(self.layers.len() - 1, Default::default);
        // Layer k writes its output into the ReLU cache of layer k + 1 (rectified in place
        // there), the last layer into `out`.
        let first_out = match rest.first_mut() {
            Some((rc, _)) => &mut rc.y,
            None => &mut *out,
        };
        match input {
            NodeInput::Features(x) => {
                if !matches!(*first_cache, FirstCache::Gcn(_)) {
                    *first_cache = FirstCache::Gcn(GcnCache::default());
                }
                let FirstCache::Gcn(gc) = first_cache else {
                    unreachable!("set just above")
                };
                first.forward_into(adj, x, gc, tmp, first_out)?;
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
                reshape2(tmp, n, first.out_dim());
                for (mut row, &id) in tmp.rows_mut().into_iter().zip(ids) {
                    row.assign(&first.weight.value.column(id as usize));
                }
                let h = first_out;
                reshape2(h, n, first.out_dim());
                spmm_into(adj, tmp.view(), h.view_mut())?;
                *h += &first.bias.value;
                match first_cache {
                    FirstCache::Identity(v) => {
                        v.clear();
                        v.extend_from_slice(ids);
                    }
                    other => *other = FirstCache::Identity(ids.to_vec()),
                }
            }
        }
        for (k, layer) in self.layers[1..].iter().enumerate() {
            let (head, tail) = rest.split_at_mut(k + 1);
            let (rc, gc) = &mut head[k];
            Relu.apply_inplace(&mut rc.y);
            let dest = match tail.first_mut() {
                Some((next, _)) => &mut next.y,
                None => &mut *out,
            };
            layer.forward_into(adj, rc.y.view(), gc, tmp, dest)?;
        }
        Ok(())
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
        check_layers(self.layers.len(), cache.rest.len())?;
        let mut d = d_out.to_owned();
        for (k, (rc, gc)) in cache.rest.iter().enumerate().rev() {
            let dx = self.layers[k + 1].backward(adj_t, gc, d.view())?;
            d = Relu.backward(rc, dx.view())?;
        }
        let first = &mut self.layers[0];
        match &cache.first {
            FirstCache::Gcn(gc) => first.backward_params(adj_t, gc, d.view()),
            FirstCache::Identity(ids) => {
                let mut dxw = Array2::zeros((0, 0));
                identity_backward(first, adj_t, ids, d.view(), &mut dxw)
            }
        }
    }

    /// Allocation-free backward: as [`GcnStack::backward`], with the cache's temporaries
    /// reused.
    pub fn backward_into(
        &mut self,
        adj_t: &CsMat<T>,
        cache: &mut GcnStackCache<T>,
        d_out: ArrayView2<'_, T>,
    ) -> Result<()> {
        let c = cache;
        self.backward_core(
            adj_t, &c.first, &c.rest, d_out, &mut c.tmp, &mut c.d_a, &mut c.d_b,
        )
    }

    /// The backward pass on the cache's parts (see [`GcnStack::forward_core`]): `tmp`, `d_a`
    /// and `d_b` are the temporaries.
    #[allow(clippy::too_many_arguments)]
    fn backward_core(
        &mut self,
        adj_t: &CsMat<T>,
        first_cache: &FirstCache<T>,
        rest: &[(ReluCache<T>, GcnCache<T>)],
        d_out: ArrayView2<'_, T>,
        tmp: &mut Array2<T>,
        d_a: &mut Array2<T>,
        d_b: &mut Array2<T>,
    ) -> Result<()> {
        check_layers(self.layers.len(), rest.len())?;
        reshape2(d_a, d_out.nrows(), d_out.ncols());
        d_a.assign(&d_out);
        for (k, (rc, gc)) in rest.iter().enumerate().rev() {
            self.layers[k + 1].backward_into(adj_t, gc, d_a.view(), tmp, Some(&mut *d_b))?;
            Relu.backward_inplace(rc, d_b.view_mut())?;
            std::mem::swap(d_a, d_b);
        }
        let first = &mut self.layers[0];
        match first_cache {
            FirstCache::Gcn(gc) => first.backward_into(adj_t, gc, d_a.view(), tmp, None)?,
            FirstCache::Identity(ids) => identity_backward(first, adj_t, ids, d_a.view(), tmp)?,
        }
        Ok(())
    }
}

/// A stack cache must come from a stack with as many layers.
fn check_layers(n_layers: usize, n_rest: usize) -> Result<()> {
    if n_rest + 1 != n_layers {
        return Err(NnError::ShapeMismatch {
            op: "GcnStack::backward",
            what: "cache layers",
            expected: vec![n_layers],
            actual: vec![n_rest + 1],
        });
    }
    Ok(())
}

/// Parameter gradients of a first layer fed the identity: `db += Σ d`, and the columns `ids` of
/// `dW` receive `Âᵀ d` (`dxw` is the temporary for it).
fn identity_backward<T: Float>(
    first: &mut Gcn<T>,
    adj_t: &CsMat<T>,
    ids: &[u32],
    d: ArrayView2<'_, T>,
    dxw: &mut Array2<T>,
) -> Result<()> {
    let n = ids.len();
    check_shape(
        "GcnStack::backward",
        "d_out",
        &[n, first.out_dim()],
        d.shape(),
    )?;
    add_column_sums(first.bias.grad_mut().view_mut(), d);
    reshape2(dxw, n, first.out_dim());
    spmm_into(adj_t, d, dxw.view_mut())?;
    let g = first.weight.grad_mut();
    for (row, &id) in dxw.rows().into_iter().zip(ids) {
        let mut gc = g.column_mut(id as usize);
        gc += &row;
    }
    Ok(())
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

/// The GCN / i-GCN encoder (docs/paper-b.md#encoders; the reference code's `SingleGCN`):
/// `BN(ReLU(FC(GCN(x))))`, embeddings (n, emb_dim).
#[derive(Debug, Clone, PartialEq)]
pub struct GcnEncoder<T: Float> {
    /// Graph convolutions (`gcn.*`).
    pub gcn: GcnStack<T>,
    /// Linear gcn_out → emb_dim (`fc.*`).
    pub fc: Linear<T>,
    /// BatchNorm1d(emb_dim) (`bn.*`).
    pub bn: BatchNorm1d<T>,
}

/// What [`GcnEncoder::backward`] needs, with the embeddings and the backward temporaries.
/// `Default` is an empty cache for [`GcnEncoder::forward_into`], which refills it in place.
#[derive(Debug, Clone, Default)]
pub struct GcnEncoderCache<T: Float> {
    gcn: GcnStackCache<T>,
    fc: LinearCache<T>,
    relu: ReluCache<T>,
    bn: BatchNormCache<T>,
    emb: Array2<T>,
    tmp: Array2<T>,
    tmp2: Array2<T>,
}

impl<T: Float> GcnEncoderCache<T> {
    /// The embeddings of the last forward pass, (n, emb_dim).
    pub fn embeddings(&self) -> ArrayView2<'_, T> {
        self.emb.view()
    }
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

    /// An encoder of given layers.
    ///
    /// Errors: [`NnError::ShapeMismatch`] if the FC layer's input is not the stack's output
    /// width or the BatchNorm's width is not the FC layer's output width.
    pub fn from_layers(gcn: GcnStack<T>, fc: Linear<T>, bn: BatchNorm1d<T>) -> Result<Self> {
        const OP: &str = "GcnEncoder::from_layers";
        check_shape(OP, "fc input width", &[gcn.out_dim()], &[fc.in_dim()])?;
        check_shape(OP, "bn width", &[fc.out_dim()], &[bn.dim()])?;
        Ok(Self { gcn, fc, bn })
    }

    /// `adj` (n, n), input (n rows) → embeddings (n, emb_dim) and the cache. `mode` is the
    /// BatchNorm's (Train: batch statistics and running-statistics update).
    pub fn forward(
        &mut self,
        adj: &CsMat<T>,
        input: NodeInput<'_, T>,
        mode: Mode,
    ) -> Result<(Array2<T>, GcnEncoderCache<T>)> {
        let mut cache = GcnEncoderCache::default();
        self.forward_into(adj, input, mode, &mut cache)?;
        let e = std::mem::take(&mut cache.emb);
        cache.gcn.release_scratch();
        // The FC layer's cache holds its own copy of the stack's output.
        cache.gcn.out = Array2::zeros((0, 0));
        Ok((e, cache))
    }

    /// Allocation-free forward: the embeddings land in the cache
    /// ([`GcnEncoderCache::embeddings`], (n, emb_dim)); every buffer is refilled in place.
    pub fn forward_into(
        &mut self,
        adj: &CsMat<T>,
        input: NodeInput<'_, T>,
        mode: Mode,
        cache: &mut GcnEncoderCache<T>,
    ) -> Result<()> {
        let c = cache;
        self.gcn.forward_into(adj, input, &mut c.gcn)?;
        self.fc
            .forward_into(c.gcn.output(), &mut c.fc, &mut c.relu.y)?;
        Relu.apply_inplace(&mut c.relu.y);
        self.bn
            .forward_into(c.relu.y.view(), mode, &mut c.bn, &mut c.emb)
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

    /// Allocation-free backward: as [`GcnEncoder::backward`], reusing the cache's temporaries.
    pub fn backward_into(
        &mut self,
        adj_t: &CsMat<T>,
        cache: &mut GcnEncoderCache<T>,
        d_emb: ArrayView2<'_, T>,
    ) -> Result<()> {
        let c = cache;
        self.bn.backward_into(&c.bn, d_emb, &mut c.tmp)?;
        Relu.backward_inplace(&c.relu, c.tmp.view_mut())?;
        self.fc.backward_into(&c.fc, c.tmp.view(), &mut c.tmp2)?;
        self.gcn.backward_into(adj_t, &mut c.gcn, c.tmp2.view())
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

/// The GCN-GRU / i-GCN-GRU encoder (docs/paper-b.md#encoders; the reference code's `GcnGruModule`):
/// the GCN applied to each graph of a window (oldest first), a one-layer GRU over the S outputs
/// from `h0 = 0`, BatchNorm on the last hidden state: embeddings (n, hidden).
#[derive(Debug, Clone, PartialEq)]
pub struct GcnGruEncoder<T: Float> {
    /// Graph convolutions shared by all steps (`gcn.*`).
    pub gcn: GcnStack<T>,
    /// GRU(gcn_out → hidden) (`gru.weight_ih_l0`, ...).
    pub gru: Gru<T>,
    /// BatchNorm1d(hidden) (`bn.*`).
    pub bn: BatchNorm1d<T>,
}

/// What [`GcnGruEncoder::backward`] needs, with the embeddings and the backward temporaries.
/// `Default` is an empty cache for [`GcnGruEncoder::forward_into`], which refills it in place.
#[derive(Debug, Clone, Default)]
pub struct GcnGruEncoderCache<T: Float> {
    /// Per step: the GCN layers' caches (their own temporaries unused: the steps share
    /// `stack_out`, `stack_tmp`, `stack_da` and `stack_db`).
    gcn: Vec<GcnStackCache<T>>,
    stack_out: Array2<T>,
    stack_tmp: Array2<T>,
    stack_da: Array2<T>,
    stack_db: Array2<T>,
    gru: GruCache<T>,
    bn: BatchNormCache<T>,
    /// Hidden states: `hs[t]` after step t; `h0` the zero initial state.
    hs: Vec<Array2<T>>,
    h0: Array2<T>,
    emb: Array2<T>,
    gru_buf: GruBuffers<T>,
    /// Input gradients of the GRU steps, and the hidden-state gradient ping-pong.
    dxs: Vec<Array2<T>>,
    dh_a: Array2<T>,
    dh_b: Array2<T>,
}

impl<T: Float> GcnGruEncoderCache<T> {
    /// The embeddings of the last forward pass, (n, hidden).
    pub fn embeddings(&self) -> ArrayView2<'_, T> {
        self.emb.view()
    }
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

    /// An encoder of given layers (build the GRU with [`Gru::from_cell`]).
    ///
    /// Errors: [`NnError::ShapeMismatch`] if the GRU's input is not the stack's output width
    /// or the BatchNorm's width is not the GRU's hidden size.
    pub fn from_layers(gcn: GcnStack<T>, gru: Gru<T>, bn: BatchNorm1d<T>) -> Result<Self> {
        const OP: &str = "GcnGruEncoder::from_layers";
        check_shape(OP, "gru input width", &[gcn.out_dim()], &[gru.input_size()])?;
        check_shape(OP, "bn width", &[gru.hidden_size()], &[bn.dim()])?;
        Ok(Self { gcn, gru, bn })
    }

    /// A window of S graphs over the same n rows → embeddings (n, hidden) and the cache.
    ///
    /// Errors: [`NnError::EmptyBatch`] for an empty window, shape errors of the layers.
    pub fn forward(
        &mut self,
        window: &[WindowGraph<'_, T>],
        mode: Mode,
    ) -> Result<(Array2<T>, GcnGruEncoderCache<T>)> {
        let mut cache = GcnGruEncoderCache::default();
        self.forward_into(window, mode, &mut cache)?;
        let e = std::mem::take(&mut cache.emb);
        for a in [&mut cache.stack_out, &mut cache.stack_tmp] {
            *a = Array2::zeros((0, 0));
        }
        cache.hs.clear();
        cache.gru_buf = GruBuffers::default();
        Ok((e, cache))
    }

    /// Allocation-free forward: the embeddings land in the cache
    /// ([`GcnGruEncoderCache::embeddings`], (n, hidden)); every buffer is refilled in place.
    /// Errors as [`GcnGruEncoder::forward`].
    pub fn forward_into(
        &mut self,
        window: &[WindowGraph<'_, T>],
        mode: Mode,
        cache: &mut GcnGruEncoderCache<T>,
    ) -> Result<()> {
        if window.is_empty() {
            return Err(NnError::EmptyBatch {
                op: "GcnGruEncoder::forward",
            });
        }
        let c = cache;
        let steps = window.len();
        c.gcn.resize_with(steps, GcnStackCache::default);
        c.gru.steps.resize_with(steps, Default::default);
        c.hs.resize_with(steps, || Array2::zeros((0, 0)));
        // Step t's GCN output feeds step t's GRU cell (which keeps its own copy), so one output
        // buffer and one temporary serve every step.
        for (t, g) in window.iter().enumerate() {
            let gc = &mut c.gcn[t];
            self.gcn.forward_core(
                g.adj,
                g.input,
                &mut gc.first,
                &mut gc.rest,
                &mut c.stack_tmp,
                &mut c.stack_out,
            )?;
            if t == 0 {
                reshape2_zeroed(&mut c.h0, c.stack_out.nrows(), self.gru.hidden_size());
            }
            let (done, rest) = c.hs.split_at_mut(t);
            let h = done.last().unwrap_or(&c.h0);
            self.gru.cell.forward_into(
                c.stack_out.view(),
                h.view(),
                &mut c.gru.steps[t],
                &mut c.gru_buf,
                &mut rest[0],
            )?;
        }
        self.bn
            .forward_into(c.hs[steps - 1].view(), mode, &mut c.bn, &mut c.emb)
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

    /// Allocation-free backward: as [`GcnGruEncoder::backward`], reusing the cache's
    /// temporaries.
    pub fn backward_into(
        &mut self,
        window: &[WindowGraph<'_, T>],
        cache: &mut GcnGruEncoderCache<T>,
        d_emb: ArrayView2<'_, T>,
    ) -> Result<()> {
        let c = cache;
        check_shape(
            "GcnGruEncoder::backward",
            "window",
            &[c.gcn.len()],
            &[window.len()],
        )?;
        if c.gru.steps.len() != window.len() {
            return Err(NnError::EmptyBatch {
                op: "GcnGruEncoder::backward",
            });
        }
        self.bn.backward_into(&c.bn, d_emb, &mut c.dh_a)?;
        gru_bptt_into(
            &mut self.gru,
            &c.gru.steps,
            &mut c.gru_buf,
            &mut c.dh_a,
            &mut c.dh_b,
            &mut c.dxs,
        )?;
        for ((g, gc), dx) in window.iter().zip(&c.gcn).zip(&c.dxs) {
            self.gcn.backward_core(
                g.adj_t,
                &gc.first,
                &gc.rest,
                dx.view(),
                &mut c.stack_tmp,
                &mut c.stack_da,
                &mut c.stack_db,
            )?;
        }
        Ok(())
    }
}

/// Backpropagation through time over the GRU steps `cells` (oldest first), from the gradient of
/// the last hidden state in `dh` (n, hidden): writes each step's input gradient into `dxs[t]`
/// (resized to the number of steps) and adds to the GRU's parameter gradients; `dh_tmp` and
/// `buf` are temporaries, and `dh` ends as the gradient of h0.
pub(crate) fn gru_bptt_into<T: Float>(
    gru: &mut Gru<T>,
    cells: &[GruCellCache<T>],
    buf: &mut GruBuffers<T>,
    dh: &mut Array2<T>,
    dh_tmp: &mut Array2<T>,
    dxs: &mut Vec<Array2<T>>,
) -> Result<()> {
    dxs.resize_with(cells.len(), || Array2::zeros((0, 0)));
    for t in (0..cells.len()).rev() {
        gru.cell
            .backward_into(&cells[t], dh.view(), buf, &mut dxs[t], dh_tmp)?;
        std::mem::swap(dh, dh_tmp);
    }
    Ok(())
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

/// The link-prediction head (docs/paper-b.md#encoders): `concat(emb_src, emb_dst)` (2·emb) →
/// Linear(hidden) → ReLU → Linear(2) → log-softmax; class 1 = the edge exists.
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

/// What [`EdgePredictor::backward`] needs, with the node-level products and the backward
/// temporaries. `Default` is an empty cache for [`EdgePredictor::forward_into`], which refills
/// it in place.
#[derive(Debug, Clone, Default)]
pub struct EdgePredictorCache<T: Float> {
    src: Vec<usize>,
    dst: Vec<usize>,
    emb: Array2<T>,
    relu: ReluCache<T>,
    fc2: LinearCache<T>,
    ls: LogSoftmaxCache<T>,
    /// Node-level products `E W_srcᵀ`, `E W_dstᵀ` in forward, per-node gradient sums in
    /// backward, (n, hidden) each.
    p: Array2<T>,
    q: Array2<T>,
    /// Logits in forward, pair gradients in backward.
    tmp: Array2<T>,
    tmp2: Array2<T>,
}

impl<T: Float> EdgePredictorCache<T> {
    /// The log-probabilities of the last forward pass, (m, 2).
    pub fn log_probs(&self) -> ArrayView2<'_, T> {
        self.ls.y.view()
    }
}

impl<T: Float> EdgePredictor<T> {
    /// PyTorch-initialised layers drawn from `rng` (fc1, then fc2).
    pub fn new(emb_dim: usize, hidden: usize, rng: &mut impl Rng) -> Self {
        Self {
            fc1: Linear::new(2 * emb_dim, hidden, rng),
            fc2: Linear::new(hidden, 2, rng),
        }
    }

    /// A predictor of given layers: `fc1` (hidden, 2·emb_dim), `fc2` (2, hidden).
    ///
    /// Errors: [`NnError::ShapeMismatch`] if `fc1`'s input width is odd, `fc2`'s input is not
    /// `fc1`'s output or `fc2` has not 2 outputs.
    pub fn from_layers(fc1: Linear<T>, fc2: Linear<T>) -> Result<Self> {
        const OP: &str = "EdgePredictor::from_layers";
        let twice = fc1.in_dim() / 2 * 2;
        check_shape(OP, "fc1 input width (even)", &[twice], &[fc1.in_dim()])?;
        check_shape(
            OP,
            "fc2 weight",
            &[2, fc1.out_dim()],
            fc2.weight.value.shape(),
        )?;
        Ok(Self { fc1, fc2 })
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
        let mut cache = EdgePredictorCache::default();
        self.forward_into(emb, src, dst, &mut cache)?;
        let lp = cache.ls.y.clone();
        for a in [&mut cache.p, &mut cache.q, &mut cache.tmp2] {
            *a = Array2::zeros((0, 0));
        }
        Ok((lp, cache))
    }

    /// Allocation-free forward: the log-probabilities land in the cache
    /// ([`EdgePredictorCache::log_probs`], (m, 2)); every buffer is refilled in place. Errors
    /// as [`EdgePredictor::forward`].
    pub fn forward_into(
        &self,
        emb: ArrayView2<'_, T>,
        src: &[usize],
        dst: &[usize],
        cache: &mut EdgePredictorCache<T>,
    ) -> Result<()> {
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
        let c = cache;
        let hidden = self.fc1.out_dim();
        let (w_src, w_dst) = self.fc1.weight.value.view().split_at(Axis(1), d);
        reshape2(&mut c.p, emb.nrows(), hidden);
        reshape2(&mut c.q, emb.nrows(), hidden);
        general_mat_mul(T::one(), &emb, &w_src.t(), T::zero(), &mut c.p);
        general_mat_mul(T::one(), &emb, &w_dst.t(), T::zero(), &mut c.q);
        reshape2(&mut c.relu.y, src.len(), hidden);
        for ((mut row, &a), &b) in c.relu.y.rows_mut().into_iter().zip(src).zip(dst) {
            row.assign(&c.p.row(a));
            row += &c.q.row(b);
            row += &self.fc1.bias.value;
        }
        Relu.apply_inplace(&mut c.relu.y);
        self.fc2
            .forward_into(c.relu.y.view(), &mut c.fc2, &mut c.tmp2)?;
        LogSoftmax.forward_into(c.tmp2.view(), &mut c.ls);
        c.src.clear();
        c.src.extend_from_slice(src);
        c.dst.clear();
        c.dst.extend_from_slice(dst);
        reshape2(&mut c.emb, emb.nrows(), emb.ncols());
        c.emb.assign(&emb);
        Ok(())
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
        let (mut s, mut t) = (Array2::zeros((0, 0)), Array2::zeros((0, 0)));
        let mut d_emb = Array2::zeros((0, 0));
        self.fc1_backward(cache, d_pre.view(), &mut s, &mut t, &mut d_emb);
        Ok(d_emb)
    }

    /// Allocation-free backward: `d_log_probs` (m, 2) → `d_emb` (reshaped to (n, emb_dim) in
    /// place); adds to the layers' gradients, reusing the cache's temporaries.
    pub fn backward_into(
        &mut self,
        cache: &mut EdgePredictorCache<T>,
        d_log_probs: ArrayView2<'_, T>,
        d_emb: &mut Array2<T>,
    ) -> Result<()> {
        let c = cache;
        LogSoftmax.backward_into(&c.ls, d_log_probs, &mut c.tmp2)?;
        self.fc2.backward_into(&c.fc2, c.tmp2.view(), &mut c.tmp)?;
        Relu.backward_inplace(&c.relu, c.tmp.view_mut())?;
        let (mut s, mut t) = (std::mem::take(&mut c.p), std::mem::take(&mut c.q));
        self.fc1_backward(c, c.tmp.view(), &mut s, &mut t, d_emb);
        (c.p, c.q) = (s, t);
        Ok(())
    }
}

impl<T: Float> EdgePredictor<T> {
    /// The first layer's backward from the pair gradients `d_pre` (m, hidden): bias and weight
    /// gradients, and `d_emb` (n, emb_dim); `s` and `t` receive the per-node sums of the pair
    /// gradients as source and as destination (n, hidden).
    fn fc1_backward(
        &mut self,
        c: &EdgePredictorCache<T>,
        d_pre: ArrayView2<'_, T>,
        s: &mut Array2<T>,
        t: &mut Array2<T>,
        d_emb: &mut Array2<T>,
    ) {
        let (n, e) = c.emb.dim();
        let hidden = self.fc1.out_dim();
        add_column_sums(self.fc1.bias.grad_mut().view_mut(), d_pre);
        reshape2_zeroed(s, n, hidden);
        reshape2_zeroed(t, n, hidden);
        for ((row, &a), &b) in d_pre.rows().into_iter().zip(&c.src).zip(&c.dst) {
            let mut sa = s.row_mut(a);
            sa += &row;
            let mut tb = t.row_mut(b);
            tb += &row;
        }
        {
            let (mut g_src, mut g_dst) = self.fc1.weight.grad_mut().view_mut().split_at(Axis(1), e);
            general_mat_mul(T::one(), &s.t(), &c.emb, T::one(), &mut g_src);
            general_mat_mul(T::one(), &t.t(), &c.emb, T::one(), &mut g_dst);
        }
        let (w_src, w_dst) = self.fc1.weight.value.view().split_at(Axis(1), e);
        reshape2(d_emb, n, e);
        general_mat_mul(T::one(), &*s, &w_src, T::zero(), d_emb);
        general_mat_mul(T::one(), &*t, &w_dst, T::one(), d_emb);
    }
}

impl<T: Float> HasParams<T> for EdgePredictor<T> {
    fn visit_params(&mut self, f: &mut dyn FnMut(&str, ParamMut<'_, T>)) {
        visit_child_params("fc1", &mut self.fc1, f);
        visit_child_params("fc2", &mut self.fc2, f);
    }
}
