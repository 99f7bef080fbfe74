//! Gated recurrent unit, PyTorch's `nn.GRUCell` ([`GruCell`]) and one-layer `nn.GRU` ([`Gru`]),
//! with backpropagation through time and an explicit hidden state in and out.
//!
//! Formula (PyTorch's, gate order r, z, n):
//!
//! ```text
//! r  = σ(W_ir x + b_ir + W_hr h + b_hr)
//! z  = σ(W_iz x + b_iz + W_hz h + b_hz)
//! n  = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
//! h' = (1 − z) ⊙ n + z ⊙ h
//! ```
//!
//! Shapes: `x` (n, input_size), `h` and `h'` (n, hidden_size); `weight_ih` (3·hidden,
//! input_size) and `weight_hh` (3·hidden, hidden) stacking the r, z, n blocks in that order,
//! `bias_ih` and `bias_hh` (3·hidden): PyTorch's layout, so saved tensors load into
//! `torch.nn.GRUCell` (names `weight_ih`, ...) or `torch.nn.GRU` (names `weight_ih_l0`, ...).
//!
//! Backward of one step, with `g = dL/dh'`, `a_n` the pre-activation of `n` and `hn = W_hn h + b_hn`:
//! `dn = g ⊙ (1 − z)`, `dz = g ⊙ (h − n)`, `da_n = dn ⊙ (1 − n²)`, `dr = da_n ⊙ hn`,
//! `da_r = dr ⊙ r(1 − r)`, `da_z = dz ⊙ z(1 − z)`; the input-side pre-activation gradient is
//! `[da_r, da_z, da_n]`, the hidden-side one `[da_r, da_z, da_n ⊙ r]`; `dh = g ⊙ z + [..]_h W_hh`.
//!
//! Initialisation (PyTorch): every element of `weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`
//! (in that order, row-major) from `U(−1/√hidden, 1/√hidden)`.
//!
//! ```
//! use darknet_nn::layers::Gru;
//! use ndarray::Array2;
//! use rand::SeedableRng;
//! let gru = Gru::<f32>::new(3, 2, &mut rand_chacha::ChaCha8Rng::seed_from_u64(0));
//! let xs = vec![Array2::<f32>::ones((4, 3)); 5]; // 5 steps, 4 sequences
//! let views: Vec<_> = xs.iter().map(|x| x.view()).collect();
//! let (hs, _cache) = gru.forward(&views, None).unwrap();
//! assert_eq!(hs.len(), 5);
//! assert_eq!(hs[4].shape(), &[4, 2]);
//! assert!(hs[4].iter().all(|v| v.abs() < 1.0));
//! ```

use crate::buffer::{add_column_sums, reshape2};
use crate::error::check_shape;
use crate::layers::linear::uniform_array;
use crate::layers::sigmoid;
use crate::param::with_joined;
use crate::{Float, HasParams, Param, ParamMut, Result};
use ndarray::linalg::general_mat_mul;
use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2, Axis, Ix1, Ix2, Zip};
use rand::Rng;

/// One GRU step: `weight_ih` (3H, in), `weight_hh` (3H, H), `bias_ih` (3H), `bias_hh` (3H).
#[derive(Debug, Clone, PartialEq)]
pub struct GruCell<T: Float> {
    /// Input-to-hidden weights `[W_ir; W_iz; W_in]`, shape (3·hidden, input_size).
    pub weight_ih: Param<T, Ix2>,
    /// Hidden-to-hidden weights `[W_hr; W_hz; W_hn]`, shape (3·hidden, hidden).
    pub weight_hh: Param<T, Ix2>,
    /// Input-side biases `[b_ir; b_iz; b_in]`, shape (3·hidden).
    pub bias_ih: Param<T, Ix1>,
    /// Hidden-side biases `[b_hr; b_hz; b_hn]`, shape (3·hidden).
    pub bias_hh: Param<T, Ix1>,
}

/// What [`GruCell::backward`] needs from one forward step; every array is (n, hidden) except
/// `x` (n, input_size).
///
/// `Default` is an empty cache for [`GruCell::forward_into`], which refills it in place.
#[derive(Debug, Clone, Default)]
pub struct GruCellCache<T> {
    /// The step's input, (n, input_size).
    pub x: Array2<T>,
    /// The incoming hidden state, (n, hidden).
    pub h: Array2<T>,
    /// Reset gate, (n, hidden).
    pub r: Array2<T>,
    /// Update gate, (n, hidden).
    pub z: Array2<T>,
    /// Candidate state, (n, hidden).
    pub n: Array2<T>,
    /// `W_hn h + b_hn`, (n, hidden).
    pub hn: Array2<T>,
}

/// Temporaries of [`GruCell::forward_into`] and [`GruCell::backward_into`]: the gate
/// pre-activations and their gradients, (n, 3·hidden) each. Keep one between steps.
#[derive(Debug, Clone, Default)]
pub struct GruBuffers<T> {
    gi: Array2<T>,
    gh: Array2<T>,
}

impl<T: Float> GruCell<T> {
    /// A cell with PyTorch's initialisation, drawn from `rng`.
    pub fn new(input_size: usize, hidden_size: usize, rng: &mut impl Rng) -> Self {
        let k = 1.0 / (hidden_size.max(1) as f64).sqrt();
        let g = 3 * hidden_size;
        let weight_ih = uniform_array((g, input_size), k, rng);
        let weight_hh = uniform_array((g, hidden_size), k, rng);
        let bias_ih = uniform_array(g, k, rng);
        let bias_hh = uniform_array(g, k, rng);
        Self {
            weight_ih: Param::new(weight_ih),
            weight_hh: Param::new(weight_hh),
            bias_ih: Param::new(bias_ih),
            bias_hh: Param::new(bias_hh),
        }
    }

    /// A cell with given weights, in PyTorch's layout: `weight_ih` (3·hidden, input_size),
    /// `weight_hh` (3·hidden, hidden), `bias_ih` and `bias_hh` (3·hidden); the hidden size is
    /// read from `weight_hh`'s columns.
    ///
    /// Errors: [`crate::NnError::ShapeMismatch`] naming the first array whose shape does not
    /// follow from `weight_hh`'s.
    pub fn from_arrays(
        weight_ih: Array2<T>,
        weight_hh: Array2<T>,
        bias_ih: Array1<T>,
        bias_hh: Array1<T>,
    ) -> Result<Self> {
        const OP: &str = "GruCell::from_arrays";
        let h = weight_hh.ncols();
        check_shape(OP, "weight_hh", &[3 * h, h], weight_hh.shape())?;
        check_shape(
            OP,
            "weight_ih",
            &[3 * h, weight_ih.ncols()],
            weight_ih.shape(),
        )?;
        check_shape(OP, "bias_ih", &[3 * h], bias_ih.shape())?;
        check_shape(OP, "bias_hh", &[3 * h], bias_hh.shape())?;
        Ok(Self {
            weight_ih: Param::new(weight_ih),
            weight_hh: Param::new(weight_hh),
            bias_ih: Param::new(bias_ih),
            bias_hh: Param::new(bias_hh),
        })
    }

    /// Input width.
    pub fn input_size(&self) -> usize {
        self.weight_ih.value.ncols()
    }

    /// Hidden width.
    pub fn hidden_size(&self) -> usize {
        self.weight_hh.value.ncols()
    }

    fn check(&self, op: &'static str, x: &ArrayView2<'_, T>, h: &ArrayView2<'_, T>) -> Result<()> {
        check_shape(op, "x", &[x.nrows(), self.input_size()], x.shape())?;
        check_shape(op, "h", &[x.nrows(), self.hidden_size()], h.shape())
    }

    /// Gate pre-activations `gi = x W_ihᵀ + b_ih` and `gh = h W_hhᵀ + b_hh`, each (n, 3H).
    fn gates(&self, x: ArrayView2<'_, T>, h: ArrayView2<'_, T>) -> (Array2<T>, Array2<T>) {
        let mut gi = x.dot(&self.weight_ih.value.t());
        gi += &self.bias_ih.value;
        let mut gh = h.dot(&self.weight_hh.value.t());
        gh += &self.bias_hh.value;
        (gi, gh)
    }

    /// One step: `x` (n, input_size), `h` (n, hidden) → `h'` (n, hidden) and the cache.
    ///
    /// Errors: [`crate::NnError::ShapeMismatch`] for a wrong width or row count.
    pub fn forward(
        &self,
        x: ArrayView2<'_, T>,
        h: ArrayView2<'_, T>,
    ) -> Result<(Array2<T>, GruCellCache<T>)> {
        let mut cache = GruCellCache::default();
        let mut h_new = Array2::zeros((0, 0));
        self.forward_into(x, h, &mut cache, &mut GruBuffers::default(), &mut h_new)?;
        Ok((h_new, cache))
    }

    /// Allocation-free step: `x` (n, input_size), `h` (n, hidden) → `h_new` (reshaped to
    /// (n, hidden) in place); the cache and the temporaries `buf` are refilled in place. Same
    /// results as [`GruCell::forward`], bit for bit.
    ///
    /// Errors: [`crate::NnError::ShapeMismatch`] for a wrong width or row count.
    pub fn forward_into(
        &self,
        x: ArrayView2<'_, T>,
        h: ArrayView2<'_, T>,
        cache: &mut GruCellCache<T>,
        buf: &mut GruBuffers<T>,
        h_new: &mut Array2<T>,
    ) -> Result<()> {
        self.check("GruCell::forward", &x, &h)?;
        let hs = self.hidden_size();
        let rows = x.nrows();
        reshape2(&mut buf.gi, rows, 3 * hs);
        reshape2(&mut buf.gh, rows, 3 * hs);
        general_mat_mul(
            T::one(),
            &x,
            &self.weight_ih.value.t(),
            T::zero(),
            &mut buf.gi,
        );
        buf.gi += &self.bias_ih.value;
        general_mat_mul(
            T::one(),
            &h,
            &self.weight_hh.value.t(),
            T::zero(),
            &mut buf.gh,
        );
        buf.gh += &self.bias_hh.value;
        for a in [
            &mut cache.r,
            &mut cache.z,
            &mut cache.n,
            &mut cache.hn,
            &mut *h_new,
        ] {
            reshape2(a, rows, hs);
        }
        reshape2(&mut cache.x, rows, x.ncols());
        cache.x.assign(&x);
        reshape2(&mut cache.h, rows, hs);
        cache.h.assign(&h);
        let (gi_r, gi_rest) = buf.gi.view().split_at(Axis(1), hs);
        let (gi_z, gi_n) = gi_rest.split_at(Axis(1), hs);
        let (gh_r, gh_rest) = buf.gh.view().split_at(Axis(1), hs);
        let (gh_z, gh_n) = gh_rest.split_at(Axis(1), hs);
        Zip::from(&mut cache.r)
            .and(&gi_r)
            .and(&gh_r)
            .for_each(|r, &a, &b| *r = sigmoid(a + b));
        Zip::from(&mut cache.z)
            .and(&gi_z)
            .and(&gh_z)
            .for_each(|z, &a, &b| *z = sigmoid(a + b));
        cache.hn.assign(&gh_n);
        Zip::from(&mut cache.n)
            .and(&gi_n)
            .and(&cache.r)
            .and(&cache.hn)
            .for_each(|n, &a, &r, &b| *n = (a + r * b).tanh());
        Zip::from(h_new)
            .and(&cache.z)
            .and(&cache.n)
            .and(&h)
            .for_each(|o, &z, &n, &h| *o = (T::one() - z) * n + z * h);
        Ok(())
    }

    /// One step without a cache (inference): same shapes as [`GruCell::forward`].
    pub fn infer(&self, x: ArrayView2<'_, T>, h: ArrayView2<'_, T>) -> Result<Array2<T>> {
        self.check("GruCell::infer", &x, &h)?;
        let hs = self.hidden_size();
        let (gi, gh) = self.gates(x, h);
        let mut h_new = h.to_owned();
        Zip::from(h_new.rows_mut())
            .and(gi.rows())
            .and(gh.rows())
            .for_each(|mut o, gi, gh| {
                for k in 0..hs {
                    let r = sigmoid(gi[k] + gh[k]);
                    let z = sigmoid(gi[hs + k] + gh[hs + k]);
                    let n = (gi[2 * hs + k] + r * gh[2 * hs + k]).tanh();
                    o[k] = (T::one() - z) * n + z * o[k];
                }
            });
        Ok(h_new)
    }

    /// Allocation-free backward of one step: `d_h_new` (n, hidden) → `dx` (n, input_size) and
    /// `dh` (n, hidden), both reshaped in place; adds to the four parameter gradients. `buf`
    /// holds the gate gradients. Same results as [`GruCell::backward`], bit for bit.
    ///
    /// Errors: [`crate::NnError::ShapeMismatch`] if `d_h_new` is not (n, hidden).
    pub fn backward_into(
        &mut self,
        cache: &GruCellCache<T>,
        d_h_new: ArrayView2<'_, T>,
        buf: &mut GruBuffers<T>,
        dx: &mut Array2<T>,
        dh: &mut Array2<T>,
    ) -> Result<()> {
        check_shape(
            "GruCell::backward",
            "d_h_new",
            cache.h.shape(),
            d_h_new.shape(),
        )?;
        let hs = self.hidden_size();
        let rows = cache.h.nrows();
        reshape2(&mut buf.gi, rows, 3 * hs);
        reshape2(&mut buf.gh, rows, 3 * hs);
        reshape2(dh, rows, hs);
        {
            let (dgi_r, rest) = buf.gi.view_mut().split_at(Axis(1), hs);
            let (dgi_z, dgi_n) = rest.split_at(Axis(1), hs);
            let (dgh_r, rest) = buf.gh.view_mut().split_at(Axis(1), hs);
            let (dgh_z, dgh_n) = rest.split_at(Axis(1), hs);
            step_backward(
                cache,
                d_h_new,
                [dgi_r, dgi_z, dgi_n],
                [dgh_r, dgh_z, dgh_n],
                dh.view_mut(),
            );
        }
        let (d_gi, d_gh) = (&buf.gi, &buf.gh);
        general_mat_mul(
            T::one(),
            &d_gi.t(),
            &cache.x,
            T::one(),
            self.weight_ih.grad_mut(),
        );
        general_mat_mul(
            T::one(),
            &d_gh.t(),
            &cache.h,
            T::one(),
            self.weight_hh.grad_mut(),
        );
        add_column_sums(self.bias_ih.grad_mut().view_mut(), d_gi.view());
        add_column_sums(self.bias_hh.grad_mut().view_mut(), d_gh.view());
        reshape2(dx, rows, self.input_size());
        general_mat_mul(T::one(), d_gi, &self.weight_ih.value, T::zero(), dx);
        general_mat_mul(T::one(), d_gh, &self.weight_hh.value, T::one(), dh);
        Ok(())
    }

    /// Backward of one step: `d_h_new` (n, hidden) → (`dx` (n, input_size), `dh` (n, hidden));
    /// adds to the four parameter gradients.
    ///
    /// Errors: [`crate::NnError::ShapeMismatch`] if `d_h_new` is not (n, hidden).
    pub fn backward(
        &mut self,
        cache: &GruCellCache<T>,
        d_h_new: ArrayView2<'_, T>,
    ) -> Result<(Array2<T>, Array2<T>)> {
        let (mut dx, mut dh) = (Array2::zeros((0, 0)), Array2::zeros((0, 0)));
        self.backward_into(cache, d_h_new, &mut GruBuffers::default(), &mut dx, &mut dh)?;
        Ok((dx, dh))
    }
}

/// Element-wise part of the step backward: fills the gate gradients and `dh = g ⊙ z`.
fn step_backward<T: Float>(
    c: &GruCellCache<T>,
    g: ArrayView2<'_, T>,
    [mut dgi_r, mut dgi_z, mut dgi_n]: [ArrayViewMut2<'_, T>; 3],
    [mut dgh_r, mut dgh_z, mut dgh_n]: [ArrayViewMut2<'_, T>; 3],
    mut dh: ArrayViewMut2<'_, T>,
) {
    let one = T::one();
    for i in 0..g.nrows() {
        for k in 0..g.ncols() {
            let (gk, r, z, n, h, hn) = (
                g[[i, k]],
                c.r[[i, k]],
                c.z[[i, k]],
                c.n[[i, k]],
                c.h[[i, k]],
                c.hn[[i, k]],
            );
            let da_n = gk * (one - z) * (one - n * n);
            let da_z = gk * (h - n) * z * (one - z);
            let da_r = da_n * hn * r * (one - r);
            dgi_r[[i, k]] = da_r;
            dgi_z[[i, k]] = da_z;
            dgi_n[[i, k]] = da_n;
            dgh_r[[i, k]] = da_r;
            dgh_z[[i, k]] = da_z;
            dgh_n[[i, k]] = da_n * r;
            dh[[i, k]] = gk * z;
        }
    }
}

impl<T: Float> HasParams<T> for GruCell<T> {
    /// PyTorch `nn.GRUCell` names: `weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`.
    fn visit_params(&mut self, f: &mut dyn FnMut(&str, ParamMut<'_, T>)) {
        f("weight_ih", self.weight_ih.as_dyn_mut());
        f("weight_hh", self.weight_hh.as_dyn_mut());
        f("bias_ih", self.bias_ih.as_dyn_mut());
        f("bias_hh", self.bias_hh.as_dyn_mut());
    }
}

/// A one-layer GRU over a sequence of steps (PyTorch `nn.GRU(input_size, hidden_size)`,
/// sequence-first), with backpropagation through time.
#[derive(Debug, Clone, PartialEq)]
pub struct Gru<T: Float> {
    /// The cell applied at every step.
    pub cell: GruCell<T>,
}

/// What [`Gru::backward`] needs: one cell cache per step.
#[derive(Debug, Clone, Default)]
pub struct GruCache<T> {
    /// Per-step caches, in time order.
    pub steps: Vec<GruCellCache<T>>,
}

impl<T: Float> Gru<T> {
    /// A GRU with PyTorch's initialisation, drawn from `rng`.
    pub fn new(input_size: usize, hidden_size: usize, rng: &mut impl Rng) -> Self {
        Self {
            cell: GruCell::new(input_size, hidden_size, rng),
        }
    }

    /// A GRU applying `cell` at every step (build the cell with [`GruCell::from_arrays`]).
    pub fn from_cell(cell: GruCell<T>) -> Self {
        Self { cell }
    }

    /// Input width.
    pub fn input_size(&self) -> usize {
        self.cell.input_size()
    }

    /// Hidden width.
    pub fn hidden_size(&self) -> usize {
        self.cell.hidden_size()
    }

    fn h0(&self, xs: &[ArrayView2<'_, T>], h0: Option<ArrayView2<'_, T>>) -> Result<Array2<T>> {
        let rows = xs.first().map_or(0, |x| x.nrows());
        match h0 {
            Some(h) => {
                check_shape("Gru::forward", "h0", &[rows, self.hidden_size()], h.shape())?;
                Ok(h.to_owned())
            }
            None => Ok(Array2::zeros((rows, self.hidden_size()))),
        }
    }

    /// Runs the sequence: `xs` S steps of (n, input_size), `h0` (n, hidden) or zeros → the
    /// hidden states after each step, S × (n, hidden) (the last is `h_n`), and the cache.
    ///
    /// Errors: [`crate::NnError::EmptyBatch`] for S = 0; [`crate::NnError::ShapeMismatch`] when
    /// a step or `h0` has a wrong shape.
    pub fn forward(
        &self,
        xs: &[ArrayView2<'_, T>],
        h0: Option<ArrayView2<'_, T>>,
    ) -> Result<(Vec<Array2<T>>, GruCache<T>)> {
        if xs.is_empty() {
            return Err(crate::NnError::EmptyBatch { op: "Gru::forward" });
        }
        let mut h = self.h0(xs, h0)?;
        let mut outs = Vec::with_capacity(xs.len());
        let mut steps = Vec::with_capacity(xs.len());
        for x in xs {
            let (h_new, c) = self.cell.forward(x.view(), h.view())?;
            steps.push(c);
            outs.push(h_new.clone());
            h = h_new;
        }
        Ok((outs, GruCache { steps }))
    }

    /// Inference: the last hidden state (n, hidden) after running `xs` from `h0` (or zeros).
    ///
    /// Errors as [`Gru::forward`].
    pub fn infer(
        &self,
        xs: &[ArrayView2<'_, T>],
        h0: Option<ArrayView2<'_, T>>,
    ) -> Result<Array2<T>> {
        if xs.is_empty() {
            return Err(crate::NnError::EmptyBatch { op: "Gru::infer" });
        }
        let mut h = self.h0(xs, h0)?;
        for x in xs {
            h = self.cell.infer(x.view(), h.view())?;
        }
        Ok(h)
    }

    /// Backpropagation through time.
    ///
    /// Arguments: `d_outputs`, the gradients of the S per-step outputs (each (n, hidden)) or
    /// `None` when only the last state is used; `d_h_last` (n, hidden), the gradient of the
    /// final state (added to the last step's output gradient) or `None`.
    ///
    /// Returns (`dxs` S × (n, input_size), `dh0` (n, hidden)) and adds to the cell's gradients.
    ///
    /// Errors: [`crate::NnError::ShapeMismatch`] for a wrong number or shape of gradients.
    pub fn backward(
        &mut self,
        cache: &GruCache<T>,
        d_outputs: Option<&[ArrayView2<'_, T>]>,
        d_h_last: Option<ArrayView2<'_, T>>,
    ) -> Result<(Vec<Array2<T>>, Array2<T>)> {
        const OP: &str = "Gru::backward";
        let s = cache.steps.len();
        let Some(last) = cache.steps.last() else {
            return Err(crate::NnError::EmptyBatch { op: OP });
        };
        let shape = last.h.shape().to_vec();
        if let Some(d) = d_outputs {
            check_shape(OP, "d_outputs (steps)", &[s], &[d.len()])?;
            for g in d {
                check_shape(OP, "d_outputs", &shape, g.shape())?;
            }
        }
        let mut dh = match d_h_last {
            Some(g) => {
                check_shape(OP, "d_h_last", &shape, g.shape())?;
                g.to_owned()
            }
            None => Array2::zeros((shape[0], shape[1])),
        };
        let mut dxs = Vec::with_capacity(s);
        for t in (0..s).rev() {
            if let Some(d) = d_outputs {
                dh += &d[t];
            }
            let (dx, dh_prev) = self.cell.backward(&cache.steps[t], dh.view())?;
            dxs.push(dx);
            dh = dh_prev;
        }
        dxs.reverse();
        Ok((dxs, dh))
    }
}

impl<T: Float> HasParams<T> for Gru<T> {
    /// PyTorch `nn.GRU` names: `weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0`.
    fn visit_params(&mut self, f: &mut dyn FnMut(&str, ParamMut<'_, T>)) {
        self.cell
            .visit_params(&mut |name, p| with_joined(&[name, "_l0"], |n| f(n, p)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{check_gradients, GradCheckConfig};
    use crate::NnError;
    use ndarray::{array, ArrayD, Ix2};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn v2(a: &ArrayD<f64>) -> ArrayView2<'_, f64> {
        a.view().into_dimensionality::<Ix2>().unwrap()
    }

    #[test]
    fn hand_worked_step() {
        // input 1, hidden 1: W_ih = [1, 2, 3], W_hh = [0.5, -1, 2], b_ih = [0, 0.1, 0.2],
        // b_hh = [0.3, 0, -0.1]; x = 1, h = 0.5.
        let mut cell = GruCell::<f64>::new(1, 1, &mut ChaCha8Rng::seed_from_u64(0));
        cell.weight_ih.value = array![[1.0], [2.0], [3.0]];
        cell.weight_hh.value = array![[0.5], [-1.0], [2.0]];
        cell.bias_ih.value = array![0.0, 0.1, 0.2];
        cell.bias_hh.value = array![0.3, 0.0, -0.1];
        let (h, c) = cell
            .forward(array![[1.0]].view(), array![[0.5]].view())
            .unwrap();
        let s = |v: f64| 1.0 / (1.0 + (-v).exp());
        let r = s(1.0 + 0.0 + 0.25 + 0.3); // σ(1.55)
        let z = s(2.0 + 0.1 - 0.5 + 0.0); // σ(1.6)
        let n = (3.0 + 0.2 + r * (1.0 - 0.1)).tanh();
        let expect = (1.0 - z) * n + z * 0.5;
        assert!((c.r[[0, 0]] - r).abs() < 1e-15);
        assert!((c.z[[0, 0]] - z).abs() < 1e-15);
        assert!((h[[0, 0]] - expect).abs() < 1e-15);
        // r = 0.824914, z = 0.832018, n = 0.999247, h' = 0.583864 (Python's math module).
        assert!((h[[0, 0]] - 0.583_864_4).abs() < 1e-7, "{}", h[[0, 0]]);
        let inf = cell
            .infer(array![[1.0]].view(), array![[0.5]].view())
            .unwrap();
        assert_eq!(inf, h);
    }

    #[test]
    fn init_bounds_follow_pytorch() {
        let cell = GruCell::<f32>::new(10, 16, &mut ChaCha8Rng::seed_from_u64(1));
        assert_eq!(cell.weight_ih.value.shape(), &[48, 10]);
        assert_eq!(cell.weight_hh.value.shape(), &[48, 16]);
        for p in [&cell.bias_ih.value, &cell.bias_hh.value] {
            assert!(p.iter().all(|v| v.abs() <= 0.25));
        }
        assert!(cell.weight_hh.value.iter().all(|v| v.abs() <= 0.25));
        assert!(cell.weight_ih.value.iter().any(|v| v.abs() > 0.2));
    }

    #[test]
    fn cell_gradients_match_finite_differences() {
        let mut cell = GruCell::<f64>::new(3, 4, &mut ChaCha8Rng::seed_from_u64(2));
        let x = Array2::from_shape_fn((5, 3), |(i, j)| ((i * 3 + j) as f64).sin()).into_dyn();
        let h = Array2::from_shape_fn((5, 4), |(i, j)| ((i * 4 + j) as f64).cos() * 0.7).into_dyn();
        check_gradients(
            &mut cell,
            &[x, h],
            |m, xs| Ok(m.forward(v2(&xs[0]), v2(&xs[1]))?.0.into_dyn()),
            |m, xs, g| {
                let (_, c) = m.forward(v2(&xs[0]), v2(&xs[1]))?;
                let (dx, dh) = m.backward(&c, v2(g))?;
                Ok(vec![Some(dx.into_dyn()), Some(dh.into_dyn())])
            },
            &GradCheckConfig::default(),
        )
        .unwrap();
    }

    #[test]
    fn bptt_gradients_match_finite_differences() {
        // Loss on every step's output and on h0: inputs = 3 steps + h0.
        let mut gru = Gru::<f64>::new(2, 3, &mut ChaCha8Rng::seed_from_u64(3));
        let mut inputs: Vec<ArrayD<f64>> = (0..3)
            .map(|t| {
                Array2::from_shape_fn((4, 2), |(i, j)| ((t * 8 + i * 2 + j) as f64).sin())
                    .into_dyn()
            })
            .collect();
        inputs.push(
            Array2::from_shape_fn((4, 3), |(i, j)| ((i + j) as f64 * 0.3).cos() - 0.5).into_dyn(),
        );
        let run = |m: &Gru<f64>, xs: &[ArrayD<f64>]| {
            let views: Vec<_> = xs[..3].iter().map(v2).collect();
            m.forward(&views, Some(v2(&xs[3])))
        };
        check_gradients(
            &mut gru,
            &inputs,
            |m, xs| {
                let (hs, _) = run(m, xs)?;
                let flat: Vec<f64> = hs.iter().flat_map(|h| h.iter().copied()).collect();
                Ok(ArrayD::from_shape_vec(vec![3, 4, 3], flat).unwrap())
            },
            |m, xs, g| {
                let (_, c) = run(m, xs)?;
                let gs: Vec<Array2<f64>> = (0..3)
                    .map(|t| {
                        g.index_axis(Axis(0), t)
                            .to_owned()
                            .into_dimensionality::<Ix2>()
                            .unwrap()
                    })
                    .collect();
                let gv: Vec<_> = gs.iter().map(|a| a.view()).collect();
                let (dxs, dh0) = m.backward(&c, Some(&gv), None)?;
                let mut out: Vec<Option<ArrayD<f64>>> =
                    dxs.into_iter().map(|d| Some(d.into_dyn())).collect();
                out.push(Some(dh0.into_dyn()));
                Ok(out)
            },
            &GradCheckConfig::default(),
        )
        .unwrap();
    }

    #[test]
    fn last_state_gradient_only() {
        // d_h_last alone equals d_outputs with zeros except the last step.
        let mut gru = Gru::<f64>::new(2, 2, &mut ChaCha8Rng::seed_from_u64(4));
        let xs: Vec<Array2<f64>> = (0..4)
            .map(|t| Array2::from_elem((3, 2), t as f64 * 0.2 - 0.3))
            .collect();
        let views: Vec<_> = xs.iter().map(|x| x.view()).collect();
        let (hs, c) = gru.forward(&views, None).unwrap();
        assert_eq!(gru.infer(&views, None).unwrap(), hs[3]);
        let g = Array2::from_elem((3, 2), 0.5);
        let (a, a0) = gru.backward(&c, None, Some(g.view())).unwrap();
        let zeros = Array2::zeros((3, 2));
        let ds = [zeros.view(), zeros.view(), zeros.view(), g.view()];
        let (b, b0) = gru.backward(&c, Some(&ds), None).unwrap();
        assert_eq!(a, b);
        assert_eq!(a0, b0);
        let mut names = Vec::new();
        gru.visit_params(&mut |n, _| names.push(n.to_string()));
        assert_eq!(
            names,
            ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
        );
    }

    #[test]
    fn shape_errors() {
        let mut gru = Gru::<f32>::new(2, 3, &mut ChaCha8Rng::seed_from_u64(0));
        let x = Array2::<f32>::zeros((4, 2));
        let bad = Array2::<f32>::zeros((4, 5));
        assert!(matches!(
            gru.forward(&[], None),
            Err(NnError::EmptyBatch { op: "Gru::forward" })
        ));
        assert!(matches!(
            gru.forward(&[bad.view()], None),
            Err(NnError::ShapeMismatch {
                op: "GruCell::forward",
                what: "x",
                ..
            })
        ));
        assert!(matches!(
            gru.forward(&[x.view()], Some(bad.view())),
            Err(NnError::ShapeMismatch { what: "h0", .. })
        ));
        let (_, c) = gru.forward(&[x.view()], None).unwrap();
        assert!(matches!(
            gru.backward(&c, None, Some(bad.view())),
            Err(NnError::ShapeMismatch {
                what: "d_h_last",
                ..
            })
        ));
        assert!(matches!(
            gru.backward(&c, Some(&[]), None),
            Err(NnError::ShapeMismatch {
                what: "d_outputs (steps)",
                ..
            })
        ));
    }
}
