//! Logistic sigmoid, PyTorch's `nn.Sigmoid`.
//!
//! Formula: `y = 1 / (1 + e^(−x))`, computed without overflow for large `|x|`; backward
//! `dx = dy ⊙ y (1 − y)`.
//!
//! Shapes: any 2-D `x` (n, d) → `y` (n, d). No parameters. For training a classifier prefer
//! [`crate::loss::bce_with_logits`] on the logits, which is numerically stable.
//!
//! ```
//! use darknet_nn::layers::Sigmoid;
//! use ndarray::array;
//! let (y, cache) = Sigmoid.forward(array![[0.0f64, 1000.0, -1000.0]].view());
//! assert_eq!(y, array![[0.5, 1.0, 0.0]]);
//! let dx = Sigmoid.backward(&cache, array![[1.0, 1.0, 1.0]].view()).unwrap();
//! assert_eq!(dx[[0, 0]], 0.25);
//! ```

use crate::error::check_shape;
use crate::{Float, Result};
use ndarray::{Array2, ArrayView2, Zip};

/// The sigmoid activation (stateless).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sigmoid;

/// What [`Sigmoid::backward`] needs: the output `y` (n, d).
#[derive(Debug, Clone)]
pub struct SigmoidCache<T> {
    /// The forward output, (n, d).
    pub y: Array2<T>,
}

/// Numerically stable scalar sigmoid.
pub fn sigmoid<T: Float>(x: T) -> T {
    if x >= T::zero() {
        T::one() / (T::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (T::one() + e)
    }
}

impl Sigmoid {
    /// `x` (n, d) → `σ(x)` (n, d) and the cache.
    pub fn forward<T: Float>(&self, x: ArrayView2<'_, T>) -> (Array2<T>, SigmoidCache<T>) {
        let y = x.mapv(sigmoid);
        (y.clone(), SigmoidCache { y })
    }

    /// `d_out` (n, d) → `dx` (n, d).
    ///
    /// Errors: [`crate::NnError::ShapeMismatch`] if `d_out` differs in shape from the output.
    pub fn backward<T: Float>(
        &self,
        cache: &SigmoidCache<T>,
        d_out: ArrayView2<'_, T>,
    ) -> Result<Array2<T>> {
        check_shape("Sigmoid::backward", "d_out", cache.y.shape(), d_out.shape())?;
        Ok(Zip::from(&cache.y)
            .and(&d_out)
            .map_collect(|&y, &g| g * y * (T::one() - y)))
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
                Ok(Sigmoid
                    .forward(xs[0].view().into_dimensionality::<Ix2>().unwrap())
                    .0
                    .into_dyn())
            },
            |_, xs, g| {
                let (_, c) = Sigmoid.forward(xs[0].view().into_dimensionality::<Ix2>().unwrap());
                Ok(vec![Some(
                    Sigmoid
                        .backward(&c, g.view().into_dimensionality::<Ix2>().unwrap())?
                        .into_dyn(),
                )])
            },
            &GradCheckConfig::default(),
        )
        .unwrap();
    }

    #[test]
    fn shape_error() {
        let (_, c) = Sigmoid.forward(ndarray::array![[1.0f32]].view());
        assert!(Sigmoid
            .backward(&c, ndarray::array![[1.0f32, 2.0]].view())
            .is_err());
    }
}
