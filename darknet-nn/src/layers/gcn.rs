//! Graph convolution (Kipf & Welling), as the reference code's `GraphConvolution`.
//!
//! Formula: `out = Â (X W) + b` with `Â` a normalized adjacency given by the caller (symmetric
//! `D̂^−½ (A + I) D̂^−½` for Paper A, row-normalized `D̂^−1 (A + A^T + I)` for Paper B, see
//! [`crate::adjacency`]). The product is evaluated as `(Â X) W` when `in_dim ≤ out_dim` (fewer
//! sparse flops) and `Â (X W)` otherwise; both are the same function.
//!
//! Shapes: `Â` (n, n) CSR, `X` (n, in_dim) → `out` (n, out_dim); weight `W` (out_dim, in_dim)
//! and bias `b` (out_dim), PyTorch's layout (as [`crate::Linear`]): the layer computes
//! `Â X Wᵀ + b`. The reference code stores the transpose, (in_dim, out_dim); transpose such a
//! matrix once when importing it. No activation (apply [`crate::layers::Relu`]).
//!
//! Backward: with `G = d_out`, `db += Σ_rows G`; for `(Â X) Wᵀ`: `dW += Gᵀ (Â X)`,
//! `dX = Âᵀ (G W)`; for `Â (X Wᵀ)`: `dXW = Âᵀ G`, `dW += dXWᵀ X`, `dX = dXW W`. `Âᵀ` is
//! passed to `backward` precomputed ([`crate::kernels::transpose_csr`]; for the symmetric
//! normalization it is `Â` itself).
//!
//! Allocation-free variants for training loops: [`Gcn::forward_into`] and
//! [`Gcn::backward_into`] write into caller-owned arrays (the cache, the output, one temporary
//! for the intermediate dense product), reshaped in place and reused across steps; results are
//! bit-identical to [`Gcn::forward`] and [`Gcn::backward`].
//!
//! Initialisation (reference code): weight and bias from `U(−1/√out_dim, 1/√out_dim)`, drawn
//! weight first, in the reference code's (in_dim, out_dim) row-major order (so a seed gives
//! the reference order of draws), then bias.
//!
//! ```
//! use darknet_nn::layers::Gcn;
//! use darknet_nn::adjacency::normalize_sym_self_loops;
//! use ndarray::{array, Array2};
//! use rand::SeedableRng;
//! use sprs::TriMat;
//! // Two nodes joined by an edge: Â = [[.5, .5], [.5, .5]].
//! let mut t = TriMat::new((2, 2));
//! t.add_triplet(0, 1, 1.0f64);
//! t.add_triplet(1, 0, 1.0);
//! let a = normalize_sym_self_loops(&t.to_csr()).unwrap();
//! let mut gcn = Gcn::<f64>::new(1, 1, &mut rand_chacha::ChaCha8Rng::seed_from_u64(0));
//! gcn.weight.value = array![[2.0]];
//! gcn.bias.value = array![0.0];
//! let (y, _) = gcn.forward(&a, array![[1.0], [3.0]].view()).unwrap();
//! assert!((&y - &array![[4.0], [4.0]]).iter().all(|d| d.abs() < 1e-12));
//! ```

use crate::buffer::{add_column_sums, reshape2};
use crate::error::check_shape;
use crate::kernels::spmm_into;
use crate::layers::linear::uniform_array;
use crate::{Float, HasParams, NnError, Param, ParamMut, Result};
use ndarray::linalg::general_mat_mul;
use ndarray::{Array1, Array2, ArrayView2, Ix1, Ix2};
use rand::Rng;
use sprs::CsMat;

/// A graph convolution layer: weight (out_dim, in_dim), bias (out_dim).
#[derive(Debug, Clone, PartialEq)]
pub struct Gcn<T: Float> {
    /// Weight, shape (out_dim, in_dim) (PyTorch's layout).
    pub weight: Param<T, Ix2>,
    /// Bias, shape (out_dim).
    pub bias: Param<T, Ix1>,
}

/// What [`Gcn::backward`] needs.
#[derive(Debug, Clone)]
pub enum GcnCache<T> {
    /// Evaluated as `(Â X) W`: holds `Â X` (n, in_dim).
    AggregateFirst {
        /// `Â X`, (n, in_dim).
        ax: Array2<T>,
    },
    /// Evaluated as `Â (X W)`: holds `X` (n, in_dim).
    TransformFirst {
        /// The input X, (n, in_dim).
        x: Array2<T>,
    },
}

impl<T> Default for GcnCache<T> {
    /// An empty cache for [`Gcn::forward_into`], which refills it in place.
    fn default() -> Self {
        GcnCache::AggregateFirst {
            ax: Array2::from_shape_vec((0, 0), Vec::new()).expect("empty shape"),
        }
    }
}

impl<T> GcnCache<T> {
    /// The cached array, whatever the variant (moved out, leaving the cache empty).
    fn take_array(&mut self) -> Array2<T> {
        match std::mem::take(self) {
            GcnCache::AggregateFirst { ax } => ax,
            GcnCache::TransformFirst { x } => x,
        }
    }
}

impl<T: Float> Gcn<T> {
    /// A layer initialised as the reference code, drawn from `rng`.
    pub fn new(in_dim: usize, out_dim: usize, rng: &mut impl Rng) -> Self {
        let bound = 1.0 / (out_dim.max(1) as f64).sqrt();
        // Drawn in the reference code's (in, out) order, stored (out, in).
        let drawn: Array2<T> = uniform_array((in_dim, out_dim), bound, rng);
        let weight = drawn.t().as_standard_layout().into_owned();
        let bias = uniform_array(out_dim, bound, rng);
        Self {
            weight: Param::new(weight),
            bias: Param::new(bias),
        }
    }

    /// A layer with given weight (out_dim, in_dim) and bias (out_dim).
    ///
    /// Errors: [`NnError::ShapeMismatch`] if `bias.len() != weight.nrows()`.
    pub fn from_arrays(weight: Array2<T>, bias: Array1<T>) -> Result<Self> {
        check_shape("Gcn::from_arrays", "bias", &[weight.nrows()], bias.shape())?;
        Ok(Self {
            weight: Param::new(weight),
            bias: Param::new(bias),
        })
    }

    /// Input width.
    pub fn in_dim(&self) -> usize {
        self.weight.value.ncols()
    }

    /// Output width.
    pub fn out_dim(&self) -> usize {
        self.weight.value.nrows()
    }

    fn check_adj(op: &'static str, what: &'static str, adj: &CsMat<T>, n: usize) -> Result<()> {
        if !adj.is_csr() {
            return Err(NnError::NotCsr { op, what });
        }
        check_shape(op, what, &[n, n], &[adj.rows(), adj.cols()])
    }

    /// Forward pass: `adj` (n, n) CSR, `x` (n, in_dim) → (n, out_dim) and the cache.
    ///
    /// Errors: [`NnError::ShapeMismatch`] (x width, adjacency size), [`NnError::NotCsr`].
    pub fn forward(
        &self,
        adj: &CsMat<T>,
        x: ArrayView2<'_, T>,
    ) -> Result<(Array2<T>, GcnCache<T>)> {
        let mut cache = GcnCache::default();
        let (mut out, mut tmp) = (Array2::zeros((0, 0)), Array2::zeros((0, 0)));
        self.forward_into(adj, x, &mut cache, &mut tmp, &mut out)?;
        Ok((out, cache))
    }

    /// Allocation-free forward pass: `adj` (n, n) CSR, `x` (n, in_dim) → `out` (n, out_dim).
    ///
    /// `cache`, `tmp` (the `X W` product of the transform-first order, (n, out_dim)) and `out`
    /// are reshaped in place and reused across calls: keep them between steps.
    ///
    /// Errors: [`NnError::ShapeMismatch`] (x width, adjacency size), [`NnError::NotCsr`].
    pub fn forward_into(
        &self,
        adj: &CsMat<T>,
        x: ArrayView2<'_, T>,
        cache: &mut GcnCache<T>,
        tmp: &mut Array2<T>,
        out: &mut Array2<T>,
    ) -> Result<()> {
        const OP: &str = "Gcn::forward";
        check_shape(OP, "x", &[x.nrows(), self.in_dim()], x.shape())?;
        Self::check_adj(OP, "adj", adj, x.nrows())?;
        let n = x.nrows();
        let mut kept = cache.take_array();
        reshape2(out, n, self.out_dim());
        if self.in_dim() <= self.out_dim() {
            reshape2(&mut kept, n, self.in_dim());
            let ax = &mut kept;
            spmm_into(adj, x, ax.view_mut())?;
            general_mat_mul(T::one(), ax, &self.weight.value.t(), T::zero(), out);
            *out += &self.bias.value;
            *cache = GcnCache::AggregateFirst { ax: kept };
        } else {
            reshape2(tmp, n, self.out_dim());
            general_mat_mul(T::one(), &x, &self.weight.value.t(), T::zero(), tmp);
            spmm_into(adj, tmp.view(), out.view_mut())?;
            *out += &self.bias.value;
            reshape2(&mut kept, n, self.in_dim());
            kept.assign(&x);
            *cache = GcnCache::TransformFirst { x: kept };
        }
        Ok(())
    }

    /// Backward pass: `adj_t` = `Âᵀ` (n, n) CSR, `d_out` (n, out_dim) → `dx` (n, in_dim); adds to
    /// the weight and bias gradients.
    ///
    /// Errors: [`NnError::ShapeMismatch`], [`NnError::NotCsr`].
    pub fn backward(
        &mut self,
        adj_t: &CsMat<T>,
        cache: &GcnCache<T>,
        d_out: ArrayView2<'_, T>,
    ) -> Result<Array2<T>> {
        let (mut dx, mut tmp) = (Array2::zeros((0, 0)), Array2::zeros((0, 0)));
        self.backward_into(adj_t, cache, d_out, &mut tmp, Some(&mut dx))?;
        Ok(dx)
    }

    /// Backward pass for the parameters only (first layer of a model: the input gradient is not
    /// needed, which saves a dense product and a sparse one). Arguments and errors as
    /// [`Gcn::backward`].
    pub fn backward_params(
        &mut self,
        adj_t: &CsMat<T>,
        cache: &GcnCache<T>,
        d_out: ArrayView2<'_, T>,
    ) -> Result<()> {
        let mut tmp = Array2::zeros((0, 0));
        self.backward_into(adj_t, cache, d_out, &mut tmp, None)
    }

    /// Allocation-free backward pass: `adj_t` = `Âᵀ` (n, n) CSR, `d_out` (n, out_dim); adds to
    /// the weight and bias gradients and, when `dx` is given, writes the input gradient into it
    /// (reshaped to (n, in_dim)). `tmp` holds the intermediate dense product ((n, in_dim) or
    /// (n, out_dim)); it and `dx` are reshaped in place and reused across calls.
    ///
    /// Errors: [`NnError::ShapeMismatch`], [`NnError::NotCsr`].
    pub fn backward_into(
        &mut self,
        adj_t: &CsMat<T>,
        cache: &GcnCache<T>,
        d_out: ArrayView2<'_, T>,
        tmp: &mut Array2<T>,
        dx: Option<&mut Array2<T>>,
    ) -> Result<()> {
        const OP: &str = "Gcn::backward";
        let cached = match cache {
            GcnCache::AggregateFirst { ax } => ax,
            GcnCache::TransformFirst { x } => x,
        };
        let n = cached.nrows();
        check_shape(OP, "cache", &[n, self.in_dim()], cached.shape())?;
        check_shape(OP, "d_out", &[n, self.out_dim()], d_out.shape())?;
        Self::check_adj(OP, "adj_t", adj_t, n)?;
        add_column_sums(self.bias.grad_mut().view_mut(), d_out);
        match cache {
            GcnCache::AggregateFirst { ax } => {
                general_mat_mul(T::one(), &d_out.t(), ax, T::one(), self.weight.grad_mut());
                let Some(dx) = dx else {
                    return Ok(());
                };
                reshape2(tmp, n, self.in_dim());
                general_mat_mul(T::one(), &d_out, &self.weight.value, T::zero(), tmp);
                reshape2(dx, n, self.in_dim());
                spmm_into(adj_t, tmp.view(), dx.view_mut())?;
            }
            GcnCache::TransformFirst { x } => {
                reshape2(tmp, n, self.out_dim());
                spmm_into(adj_t, d_out, tmp.view_mut())?;
                general_mat_mul(T::one(), &tmp.t(), x, T::one(), self.weight.grad_mut());
                let Some(dx) = dx else {
                    return Ok(());
                };
                reshape2(dx, n, self.in_dim());
                general_mat_mul(T::one(), &*tmp, &self.weight.value, T::zero(), dx);
            }
        }
        Ok(())
    }
}

impl<T: Float> HasParams<T> for Gcn<T> {
    fn visit_params(&mut self, f: &mut dyn FnMut(&str, ParamMut<'_, T>)) {
        f("weight", self.weight.as_dyn_mut());
        f("bias", self.bias.as_dyn_mut());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adjacency::{normalize_row_self_loops, normalize_sym_self_loops};
    use crate::gradcheck::{check_gradients, GradCheckConfig};
    use crate::kernels::transpose_csr;
    use ndarray::{array, Ix2};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use sprs::TriMat;

    fn graph() -> CsMat<f64> {
        let mut t = TriMat::new((4, 4));
        for &(i, j, w) in &[(0, 1, 1.0), (1, 2, 2.0), (2, 3, 0.5), (0, 3, 3.0)] {
            t.add_triplet(i, j, w);
            t.add_triplet(j, i, w);
        }
        t.to_csr()
    }

    fn check(adj: &CsMat<f64>, in_dim: usize, out_dim: usize) {
        let adj_t = transpose_csr(adj);
        let mut gcn = Gcn::<f64>::new(in_dim, out_dim, &mut ChaCha8Rng::seed_from_u64(2));
        let x =
            Array2::from_shape_fn((4, in_dim), |(i, j)| ((i * in_dim + j) as f64).sin()).into_dyn();
        check_gradients(
            &mut gcn,
            &[x],
            |m, xs| {
                Ok(
                    m.forward(adj, xs[0].view().into_dimensionality::<Ix2>().unwrap())?
                        .0
                        .into_dyn(),
                )
            },
            |m, xs, g| {
                let (_, c) = m.forward(adj, xs[0].view().into_dimensionality::<Ix2>().unwrap())?;
                Ok(vec![Some(
                    m.backward(&adj_t, &c, g.view().into_dimensionality::<Ix2>().unwrap())?
                        .into_dyn(),
                )])
            },
            &GradCheckConfig::default(),
        )
        .unwrap();
    }

    #[test]
    fn gradients_match_finite_differences_both_orders_both_normalizations() {
        let sym = normalize_sym_self_loops(&graph()).unwrap();
        let row = normalize_row_self_loops(&graph()).unwrap();
        for adj in [&sym, &row] {
            check(adj, 2, 3);
            check(adj, 3, 2);
        }
    }

    #[test]
    fn both_orders_agree() {
        let adj = normalize_row_self_loops(&graph()).unwrap();
        let a = Gcn::<f64>::new(3, 2, &mut ChaCha8Rng::seed_from_u64(4));
        let mut b = Gcn::<f64>::new(2, 3, &mut ChaCha8Rng::seed_from_u64(4));
        // Same function through the other branch: pad weight (3, 2) into a (3, 2)-shaped use.
        let x = Array2::from_shape_fn((4, 3), |(i, j)| (i + j) as f64);
        let (ya, _) = a.forward(&adj, x.view()).unwrap();
        let dense = adj.to_dense();
        let want = dense.dot(&x).dot(&a.weight.value.t()) + &a.bias.value;
        assert!((&ya - &want).iter().all(|d| d.abs() < 1e-12));
        b.weight.value = array![[1.0, 0.5], [0.0, -1.0], [2.0, 0.0]];
        let x2 = x
            .slice_axis(ndarray::Axis(1), ndarray::Slice::from(0..2))
            .to_owned();
        let (yb, _) = b.forward(&adj, x2.view()).unwrap();
        let want = dense.dot(&x2.dot(&b.weight.value.t())) + &b.bias.value;
        assert!((&yb - &want).iter().all(|d| d.abs() < 1e-12));
    }

    #[test]
    fn params_only_backward_gives_the_same_parameter_gradients() {
        let adj = normalize_row_self_loops(&graph()).unwrap();
        let adj_t = transpose_csr(&adj);
        for (i, o) in [(2, 3), (3, 2)] {
            let mut a = Gcn::<f64>::new(i, o, &mut ChaCha8Rng::seed_from_u64(6));
            let mut b = a.clone();
            let x = Array2::from_shape_fn((4, i), |(r, c)| (r * i + c) as f64 * 0.1);
            let g = Array2::from_shape_fn((4, o), |(r, c)| (r + c) as f64 - 2.0);
            let (_, ca) = a.forward(&adj, x.view()).unwrap();
            a.backward(&adj_t, &ca, g.view()).unwrap();
            b.backward_params(&adj_t, &ca, g.view()).unwrap();
            assert_eq!(a.weight.grad(), b.weight.grad());
            assert_eq!(a.bias.grad(), b.bias.grad());
        }
    }

    #[test]
    fn init_bound_uses_out_dim() {
        let g = Gcn::<f32>::new(100, 4, &mut ChaCha8Rng::seed_from_u64(0));
        assert!(g.weight.value.iter().all(|w| w.abs() <= 0.5));
        assert!(g.weight.value.iter().any(|w| w.abs() > 0.4));
    }

    #[test]
    fn errors() {
        let adj = normalize_sym_self_loops(&graph()).unwrap();
        let g = Gcn::<f64>::new(2, 3, &mut ChaCha8Rng::seed_from_u64(0));
        assert!(matches!(
            g.forward(&adj, Array2::zeros((3, 2)).view()),
            Err(NnError::ShapeMismatch { what: "adj", .. })
        ));
        assert!(matches!(
            g.forward(&adj, Array2::zeros((4, 3)).view()),
            Err(NnError::ShapeMismatch { what: "x", .. })
        ));
        assert!(matches!(
            g.forward(&adj.to_csc(), Array2::zeros((4, 2)).view()),
            Err(NnError::NotCsr { .. })
        ));
        let mut g = g;
        let (_, c) = g.forward(&adj, Array2::zeros((4, 2)).view()).unwrap();
        assert!(g.backward(&adj, &c, Array2::zeros((4, 2)).view()).is_err());
        // A cache from another layer is an error, not a panic.
        let mut other = Gcn::<f64>::new(5, 3, &mut ChaCha8Rng::seed_from_u64(0));
        assert!(matches!(
            other.backward(&adj, &c, Array2::zeros((4, 3)).view()),
            Err(NnError::ShapeMismatch { what: "cache", .. })
        ));
    }
}
