//! Fully connected layer, PyTorch's `nn.Linear`.
//!
//! Formula: `y = x Wᵀ + b`.
//!
//! Shapes: `x` (n, in_dim) → `y` (n, out_dim); weight `W` (out_dim, in_dim), bias `b` (out_dim),
//! exactly PyTorch's layout, so saved weights load into `torch.nn.Linear`.
//!
//! Backward: `dx = dy W`, `dW += dyᵀ x`, `db += Σ_rows dy`.
//!
//! Allocation-free variants for training loops: [`Linear::forward_into`],
//! [`Linear::infer_into`] and [`Linear::backward_into`] write into caller-owned arrays (and a
//! cache kept between steps), reshaped in place, with the same results bit for bit.
//!
//! Initialisation (PyTorch default, `kaiming_uniform_(a = √5)`): every weight and bias element
//! drawn from `U(−1/√in_dim, 1/√in_dim)`, weights first (row-major) then bias, from the caller's
//! generator.
//!
//! ```
//! use darknet_nn::Linear;
//! use ndarray::array;
//! use rand::SeedableRng;
//! let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
//! let mut lin = Linear::<f32>::new(2, 1, &mut rng);
//! lin.weight.value = array![[1.0, -1.0]];
//! lin.bias.value = array![0.5];
//! let (y, cache) = lin.forward(array![[3.0, 1.0]].view()).unwrap();
//! assert_eq!(y, array![[2.5]]);
//! let dx = lin.backward(&cache, array![[1.0]].view()).unwrap();
//! assert_eq!(dx, array![[1.0, -1.0]]);
//! assert_eq!(lin.weight.grad(), &array![[3.0, 1.0]]);
//! ```

use crate::buffer::{add_column_sums, reshape2};
use crate::error::check_shape;
use crate::{Float, HasParams, Param, ParamMut, Result};
use ndarray::linalg::general_mat_mul;
use ndarray::{Array, Array1, Array2, ArrayView2, Dimension, Ix1, Ix2, ShapeBuilder};
use ndarray_rand::rand_distr::Uniform;
use ndarray_rand::RandomExt;
use rand::Rng;

/// A fully connected layer: weight (out_dim, in_dim), bias (out_dim).
#[derive(Debug, Clone, PartialEq)]
pub struct Linear<T: Float> {
    /// Weight, shape (out_dim, in_dim).
    pub weight: Param<T, Ix2>,
    /// Bias, shape (out_dim).
    pub bias: Param<T, Ix1>,
}

/// What [`Linear::backward`] needs from the forward pass: the input, (n, in_dim).
///
/// `Default` is an empty cache for [`Linear::forward_into`], which refills it in place.
#[derive(Debug, Clone, Default)]
pub struct LinearCache<T> {
    /// The forward input, shape (n, in_dim).
    pub x: Array2<T>,
}

/// An array of the given shape with elements drawn from `U(−bound, bound)` in row-major order
/// (ndarray-rand), in f64 then converted, so f32 and f64 layers built from the same seed hold
/// the same values up to rounding. A zero bound gives zeros without drawing.
pub(crate) fn uniform_array<T: Float, D: Dimension>(
    shape: impl ShapeBuilder<Dim = D>,
    bound: f64,
    rng: &mut impl Rng,
) -> Array<T, D> {
    match Uniform::new(-bound, bound) {
        Ok(dist) => Array::<f64, D>::random_using(shape, dist, rng).mapv(T::of),
        Err(_) => Array::zeros(shape),
    }
}

impl<T: Float> Linear<T> {
    /// A layer with PyTorch's default initialisation, drawn from `rng`.
    pub fn new(in_dim: usize, out_dim: usize, rng: &mut impl Rng) -> Self {
        let bound = 1.0 / (in_dim.max(1) as f64).sqrt();
        let weight = uniform_array((out_dim, in_dim), bound, rng);
        let bias = uniform_array(out_dim, bound, rng);
        Self {
            weight: Param::new(weight),
            bias: Param::new(bias),
        }
    }

    /// A layer with given weight (out_dim, in_dim) and bias (out_dim).
    ///
    /// Errors: [`crate::NnError::ShapeMismatch`] if `bias.len() != weight.nrows()`.
    pub fn from_arrays(weight: Array2<T>, bias: Array1<T>) -> Result<Self> {
        check_shape(
            "Linear::from_arrays",
            "bias",
            &[weight.nrows()],
            bias.shape(),
        )?;
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

    /// Forward pass: `x` (n, in_dim) → `y` (n, out_dim) and the cache.
    ///
    /// Errors: [`crate::NnError::ShapeMismatch`] if `x` has not `in_dim` columns.
    pub fn forward(&self, x: ArrayView2<'_, T>) -> Result<(Array2<T>, LinearCache<T>)> {
        let mut cache = LinearCache::default();
        let mut y = Array2::zeros((0, 0));
        self.forward_into(x, &mut cache, &mut y)?;
        Ok((y, cache))
    }

    /// Allocation-free forward pass: `x` (n, in_dim) → `y` (n, out_dim), both `y` and the
    /// cache (which receives a copy of `x`) reshaped in place and reused across calls.
    ///
    /// Errors: [`crate::NnError::ShapeMismatch`] if `x` has not `in_dim` columns.
    pub fn forward_into(
        &self,
        x: ArrayView2<'_, T>,
        cache: &mut LinearCache<T>,
        y: &mut Array2<T>,
    ) -> Result<()> {
        self.infer_into(x, y)?;
        reshape2(&mut cache.x, x.nrows(), x.ncols());
        cache.x.assign(&x);
        Ok(())
    }

    /// Forward pass without a cache (inference): `x` (n, in_dim) → (n, out_dim).
    pub fn infer(&self, x: ArrayView2<'_, T>) -> Result<Array2<T>> {
        let mut y = Array2::zeros((0, 0));
        self.infer_into(x, &mut y)?;
        Ok(y)
    }

    /// Inference into `y` (reshaped to (n, out_dim) in place): `x` (n, in_dim).
    ///
    /// Errors: [`crate::NnError::ShapeMismatch`] if `x` has not `in_dim` columns.
    pub fn infer_into(&self, x: ArrayView2<'_, T>, y: &mut Array2<T>) -> Result<()> {
        check_shape(
            "Linear::forward",
            "x",
            &[x.nrows(), self.in_dim()],
            x.shape(),
        )?;
        reshape2(y, x.nrows(), self.out_dim());
        general_mat_mul(T::one(), &x, &self.weight.value.t(), T::zero(), y);
        *y += &self.bias.value;
        Ok(())
    }

    /// Backward pass: `d_out` (n, out_dim) → `dx` (n, in_dim); adds to the weight and bias
    /// gradients.
    pub fn backward(
        &mut self,
        cache: &LinearCache<T>,
        d_out: ArrayView2<'_, T>,
    ) -> Result<Array2<T>> {
        let mut dx = Array2::zeros((0, 0));
        self.backward_into(cache, d_out, &mut dx)?;
        Ok(dx)
    }

    /// Allocation-free backward pass: `d_out` (n, out_dim) → `dx` (reshaped to (n, in_dim) in
    /// place); adds to the weight and bias gradients.
    ///
    /// Errors: [`crate::NnError::ShapeMismatch`] if `d_out` or the cache do not match.
    pub fn backward_into(
        &mut self,
        cache: &LinearCache<T>,
        d_out: ArrayView2<'_, T>,
        dx: &mut Array2<T>,
    ) -> Result<()> {
        self.backward_params(cache, d_out)?;
        reshape2(dx, d_out.nrows(), self.in_dim());
        general_mat_mul(T::one(), &d_out, &self.weight.value, T::zero(), dx);
        Ok(())
    }

    /// Backward pass for the parameters only (first layer of a model, whose input gradient is
    /// not needed): adds to the weight and bias gradients.
    pub fn backward_params(
        &mut self,
        cache: &LinearCache<T>,
        d_out: ArrayView2<'_, T>,
    ) -> Result<()> {
        check_shape(
            "Linear::backward",
            "cache.x",
            &[cache.x.nrows(), self.in_dim()],
            cache.x.shape(),
        )?;
        check_shape(
            "Linear::backward",
            "d_out",
            &[cache.x.nrows(), self.out_dim()],
            d_out.shape(),
        )?;
        general_mat_mul(
            T::one(),
            &d_out.t(),
            &cache.x,
            T::one(),
            self.weight.grad_mut(),
        );
        add_column_sums(self.bias.grad_mut().view_mut(), d_out);
        Ok(())
    }
}

impl<T: Float> HasParams<T> for Linear<T> {
    fn visit_params(&mut self, f: &mut dyn FnMut(&str, ParamMut<'_, T>)) {
        f("weight", self.weight.as_dyn_mut());
        f("bias", self.bias.as_dyn_mut());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{check_gradients, GradCheckConfig};
    use crate::NnError;
    use ndarray::{array, Ix2};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// Initial weights drawn through ndarray-rand are the values the earlier per-element draws
    /// (`rng.random_range(-b..b)` in row-major order) gave: a seed gives the same bytes.
    #[test]
    fn ndarray_rand_draws_match_per_element_draws() {
        let b = 1.0 / 3.0f64.sqrt();
        let a: Array2<f32> = uniform_array((4, 3), b, &mut ChaCha8Rng::seed_from_u64(5));
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let want = Array2::from_shape_simple_fn((4, 3), || rng.random_range(-b..b) as f32);
        assert_eq!(a, want);
        let z: Array1<f64> = uniform_array(3, 0.0, &mut ChaCha8Rng::seed_from_u64(5));
        assert_eq!(z, Array1::<f64>::zeros(3));
    }

    #[test]
    fn init_bounds_follow_pytorch() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let lin = Linear::<f32>::new(16, 8, &mut rng);
        let b = 0.25;
        assert!(lin.weight.value.iter().all(|w| w.abs() <= b));
        assert!(lin.bias.value.iter().all(|w| w.abs() <= b));
        assert!(lin.weight.value.iter().any(|w| w.abs() > 0.2));
    }

    #[test]
    fn same_seed_same_weights() {
        let a = Linear::<f32>::new(5, 4, &mut ChaCha8Rng::seed_from_u64(9));
        let b = Linear::<f32>::new(5, 4, &mut ChaCha8Rng::seed_from_u64(9));
        assert_eq!(a, b);
    }

    #[test]
    fn gradients_match_finite_differences() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut lin = Linear::<f64>::new(3, 4, &mut rng);
        let x = Array2::from_shape_fn((5, 3), |(i, j)| ((i * 3 + j) as f64).sin()).into_dyn();
        check_gradients(
            &mut lin,
            &[x],
            |m, xs| {
                Ok(
                    m.forward(xs[0].view().into_dimensionality::<Ix2>().unwrap())?
                        .0
                        .into_dyn(),
                )
            },
            |m, xs, g| {
                let (_, c) = m.forward(xs[0].view().into_dimensionality::<Ix2>().unwrap())?;
                let dx = m.backward(&c, g.view().into_dimensionality::<Ix2>().unwrap())?;
                Ok(vec![Some(dx.into_dyn())])
            },
            &GradCheckConfig::default(),
        )
        .unwrap();
    }

    #[test]
    fn from_arrays_checks_the_bias() {
        assert!(Linear::from_arrays(array![[1.0f32, 2.0]], array![0.0]).is_ok());
        let e = Linear::from_arrays(array![[1.0f32, 2.0]], array![0.0, 1.0]).unwrap_err();
        assert!(matches!(e, NnError::ShapeMismatch { what: "bias", .. }));
    }

    #[test]
    fn wrong_width_is_a_shape_error() {
        let lin = Linear::<f32>::new(3, 2, &mut ChaCha8Rng::seed_from_u64(0));
        let e = lin.forward(array![[1.0, 2.0]].view()).unwrap_err();
        assert!(matches!(
            e,
            NnError::ShapeMismatch {
                op: "Linear::forward",
                ..
            }
        ));
        let (_, c) = lin.forward(array![[1.0, 2.0, 3.0]].view()).unwrap();
        let mut lin = lin;
        let e = lin.backward(&c, array![[1.0]].view()).unwrap_err();
        assert!(matches!(
            e,
            NnError::ShapeMismatch {
                op: "Linear::backward",
                ..
            }
        ));
        let mut wide = Linear::<f32>::new(4, 2, &mut ChaCha8Rng::seed_from_u64(0));
        assert!(matches!(
            wide.backward(&c, array![[1.0, 1.0]].view()),
            Err(NnError::ShapeMismatch {
                what: "cache.x",
                ..
            })
        ));
    }
}
