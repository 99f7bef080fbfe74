//! Row-wise log-softmax, PyTorch's `nn.LogSoftmax(dim=1)`.
//!
//! Formula: `y_ij = x_ij − log Σ_k e^(x_ik)` (max-shifted, stable); backward
//! `dx_ij = dy_ij − softmax_ij · Σ_k dy_ik`.
//!
//! Shapes: `x` (n, C) → `y` (n, C). No parameters. Pair it with [`crate::loss::nll`].
//!
//! ```
//! use darknet_nn::layers::LogSoftmax;
//! use ndarray::array;
//! let (y, _) = LogSoftmax.forward(array![[0.0f64, 0.0]].view());
//! assert!((y[[0, 0]] + std::f64::consts::LN_2).abs() < 1e-12);
//! ```

use crate::buffer::reshape2;
use crate::error::check_shape;
use crate::{Float, Result};
use ndarray::{Array2, ArrayView2, Axis};

/// The log-softmax over each row (stateless).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogSoftmax;

/// What [`LogSoftmax::backward`] needs: the output `y` (n, C).
///
/// `Default` is an empty cache for [`LogSoftmax::forward_into`], which refills it in place.
#[derive(Debug, Clone, Default)]
pub struct LogSoftmaxCache<T> {
    /// The forward output (log-probabilities), (n, C).
    pub y: Array2<T>,
}

impl LogSoftmax {
    /// `x` (n, C) → log-probabilities (n, C) and the cache.
    pub fn forward<T: Float>(&self, x: ArrayView2<'_, T>) -> (Array2<T>, LogSoftmaxCache<T>) {
        let mut y = x.to_owned();
        for mut row in y.rows_mut() {
            let max = row.iter().copied().fold(T::neg_infinity(), T::max);
            let lse = max + row.iter().map(|&v| (v - max).exp()).sum::<T>().ln();
            row.mapv_inplace(|v| v - lse);
        }
        (y.clone(), LogSoftmaxCache { y })
    }

    /// Allocation-free forward: writes the log-probabilities of `x` (n, C) into `cache.y`
    /// (reshaped in place), which is also the output: read it from there.
    pub fn forward_into<T: Float>(&self, x: ArrayView2<'_, T>, cache: &mut LogSoftmaxCache<T>) {
        reshape2(&mut cache.y, x.nrows(), x.ncols());
        cache.y.assign(&x);
        for mut row in cache.y.rows_mut() {
            let max = row.iter().copied().fold(T::neg_infinity(), T::max);
            let lse = max + row.iter().map(|&v| (v - max).exp()).sum::<T>().ln();
            row.mapv_inplace(|v| v - lse);
        }
    }

    /// Allocation-free backward: `d_out` (n, C) → `dx` (reshaped to (n, C) in place).
    ///
    /// Errors: [`crate::NnError::ShapeMismatch`] if `d_out` differs in shape from the output.
    pub fn backward_into<T: Float>(
        &self,
        cache: &LogSoftmaxCache<T>,
        d_out: ArrayView2<'_, T>,
        dx: &mut Array2<T>,
    ) -> Result<()> {
        check_shape(
            "LogSoftmax::backward",
            "d_out",
            cache.y.shape(),
            d_out.shape(),
        )?;
        reshape2(dx, d_out.nrows(), d_out.ncols());
        for ((mut row, y), g) in dx
            .rows_mut()
            .into_iter()
            .zip(cache.y.rows())
            .zip(d_out.rows())
        {
            let s = g.sum();
            for ((d, &lp), &gv) in row.iter_mut().zip(y).zip(g) {
                *d = gv - lp.exp() * s;
            }
        }
        Ok(())
    }

    /// `d_out` (n, C) → `dx` (n, C).
    ///
    /// Errors: [`crate::NnError::ShapeMismatch`] if `d_out` differs in shape from the output.
    pub fn backward<T: Float>(
        &self,
        cache: &LogSoftmaxCache<T>,
        d_out: ArrayView2<'_, T>,
    ) -> Result<Array2<T>> {
        check_shape(
            "LogSoftmax::backward",
            "d_out",
            cache.y.shape(),
            d_out.shape(),
        )?;
        let sums = d_out.sum_axis(Axis(1));
        let mut dx = d_out.to_owned();
        for ((mut row, y), s) in dx
            .rows_mut()
            .into_iter()
            .zip(cache.y.rows())
            .zip(sums.iter())
        {
            for (d, &lp) in row.iter_mut().zip(y) {
                *d -= lp.exp() * *s;
            }
        }
        Ok(dx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{check_gradients, GradCheckConfig, NoParams};
    use ndarray::Ix2;

    #[test]
    fn gradients_match_finite_differences() {
        let x = Array2::from_shape_fn((3, 4), |(i, j)| ((i * 4 + j) as f64).cos() * 2.0).into_dyn();
        check_gradients(
            &mut NoParams,
            &[x],
            |_, xs| {
                Ok(LogSoftmax
                    .forward(xs[0].view().into_dimensionality::<Ix2>().unwrap())
                    .0
                    .into_dyn())
            },
            |_, xs, g| {
                let (_, c) = LogSoftmax.forward(xs[0].view().into_dimensionality::<Ix2>().unwrap());
                Ok(vec![Some(
                    LogSoftmax
                        .backward(&c, g.view().into_dimensionality::<Ix2>().unwrap())?
                        .into_dyn(),
                )])
            },
            &GradCheckConfig::default(),
        )
        .unwrap();
    }

    #[test]
    fn rows_are_distributions_and_stable() {
        let (y, c) = LogSoftmax.forward(ndarray::array![[1000.0f32, 0.0, -1000.0]].view());
        assert!((y.mapv(f32::exp).sum() - 1.0).abs() < 1e-6);
        assert!(LogSoftmax
            .backward(&c, ndarray::array![[1.0f32]].view())
            .is_err());
    }
}
