//! Rectified linear unit, PyTorch's `nn.ReLU`.
//!
//! Formula: `y = max(x, 0)`; backward `dx = dy ⊙ [x > 0]` (gradient 0 at exactly 0, as PyTorch).
//!
//! Shapes: any 2-D `x` (n, d) → `y` (n, d). No parameters.
//!
//! ```
//! use darknet_nn::layers::Relu;
//! use ndarray::array;
//! let (y, cache) = Relu.forward(array![[-1.0f32, 2.0]].view());
//! assert_eq!(y, array![[0.0, 2.0]]);
//! assert_eq!(Relu.backward(&cache, array![[5.0, 5.0]].view()).unwrap(), array![[0.0, 5.0]]);
//! ```

use crate::buffer::reshape2;
use crate::error::check_shape;
use crate::{Float, Result};
use ndarray::{Array2, ArrayView2, ArrayViewMut2, Zip};

/// The ReLU activation (stateless).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Relu;

/// What [`Relu::backward`] needs: the output `y` (n, d) (its sign is the input's).
///
/// `Default` is an empty cache for [`Relu::forward_into`], which refills it in place.
#[derive(Debug, Clone, Default)]
pub struct ReluCache<T> {
    /// The forward output, (n, d).
    pub y: Array2<T>,
}

impl Relu {
    /// `x` (n, d) → `max(x, 0)` (n, d) and the cache.
    pub fn forward<T: Float>(&self, x: ArrayView2<'_, T>) -> (Array2<T>, ReluCache<T>) {
        let y = x.mapv(|v| if v > T::zero() { v } else { T::zero() });
        (y.clone(), ReluCache { y })
    }

    /// Allocation-free forward: writes `max(x, 0)` into `cache.y` (reshaped to (n, d) in
    /// place), which is also the output: read it from there.
    pub fn forward_into<T: Float>(&self, x: ArrayView2<'_, T>, cache: &mut ReluCache<T>) {
        reshape2(&mut cache.y, x.nrows(), x.ncols());
        Zip::from(&mut cache.y)
            .and(&x)
            .for_each(|y, &v| *y = if v > T::zero() { v } else { T::zero() });
    }

    /// In-place forward for inference: `x` ← `max(x, 0)`.
    pub fn apply_inplace<T: Float>(&self, x: &mut Array2<T>) {
        x.mapv_inplace(|v| if v > T::zero() { v } else { T::zero() });
    }

    /// `d_out` (n, d) → `dx` (n, d).
    ///
    /// Errors: [`crate::NnError::ShapeMismatch`] if `d_out` differs in shape from the output.
    pub fn backward<T: Float>(
        &self,
        cache: &ReluCache<T>,
        d_out: ArrayView2<'_, T>,
    ) -> Result<Array2<T>> {
        check_shape("Relu::backward", "d_out", cache.y.shape(), d_out.shape())?;
        Ok(Zip::from(&cache.y)
            .and(&d_out)
            .map_collect(|&y, &g| if y > T::zero() { g } else { T::zero() }))
    }

    /// In-place backward: `d` (n, d) ← `d ⊙ [y > 0]`, the gradient of the output turned into
    /// the gradient of the input.
    ///
    /// Errors: [`crate::NnError::ShapeMismatch`] if `d` differs in shape from the output.
    pub fn backward_inplace<T: Float>(
        &self,
        cache: &ReluCache<T>,
        mut d: ArrayViewMut2<'_, T>,
    ) -> Result<()> {
        check_shape("Relu::backward", "d_out", cache.y.shape(), d.shape())?;
        // An unconditional select (not a conditional store) so the loop vectorises and does not
        // branch on the signs.
        Zip::from(&mut d)
            .and(&cache.y)
            .for_each(|g, &y| *g = if y > T::zero() { *g } else { T::zero() });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{check_gradients, GradCheckConfig, NoParams};
    use ndarray::Ix2;

    #[test]
    fn gradients_match_finite_differences() {
        let x =
            Array2::from_shape_fn((3, 4), |(i, j)| (i as f64 - 1.3) * (j as f64 - 1.6)).into_dyn();
        check_gradients(
            &mut NoParams,
            &[x],
            |_, xs| {
                Ok(Relu
                    .forward(xs[0].view().into_dimensionality::<Ix2>().unwrap())
                    .0
                    .into_dyn())
            },
            |_, xs, g| {
                let (_, c) = Relu.forward(xs[0].view().into_dimensionality::<Ix2>().unwrap());
                Ok(vec![Some(
                    Relu.backward(&c, g.view().into_dimensionality::<Ix2>().unwrap())?
                        .into_dyn(),
                )])
            },
            &GradCheckConfig::default(),
        )
        .unwrap();
    }

    #[test]
    fn shape_error() {
        let (_, c) = Relu.forward(ndarray::array![[1.0f32]].view());
        assert!(Relu
            .backward(&c, ndarray::array![[1.0f32, 2.0]].view())
            .is_err());
    }
}
