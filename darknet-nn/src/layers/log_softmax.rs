//! Row-wise log-softmax, PyTorch's `nn.LogSoftmax(dim=1)`.
//!
//! Formula: `y_ij = (x_ij − m_i) − ln Σ_k e^(x_ik − m_i)` with `m_i = max_k x_ik`: the shift is
//! subtracted before the log-sum is, so large logits (±1000 in f32) lose no precision to the
//! rounding of `m_i + ln Σ`. Backward `dx_ij = dy_ij − softmax_ij · Σ_k dy_ik`.
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
use ndarray::{Array2, ArrayView2};

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
        let mut cache = LogSoftmaxCache {
            y: Array2::zeros((0, 0)),
        };
        self.forward_into(x, &mut cache);
        (cache.y.clone(), cache)
    }

    /// Allocation-free forward: writes the log-probabilities of `x` (n, C) into `cache.y`
    /// (reshaped in place), which is also the output: read it from there.
    pub fn forward_into<T: Float>(&self, x: ArrayView2<'_, T>, cache: &mut LogSoftmaxCache<T>) {
        reshape2(&mut cache.y, x.nrows(), x.ncols());
        cache.y.assign(&x);
        for mut row in cache.y.rows_mut() {
            let max = row.iter().copied().fold(T::neg_infinity(), T::max);
            let lse = row.iter().map(|&v| (v - max).exp()).sum::<T>().ln();
            row.mapv_inplace(|v| (v - max) - lse);
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
        let mut dx = Array2::zeros((0, 0));
        self.backward_into(cache, d_out, &mut dx)?;
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

    /// At logits ±1000 the f32 result matches the f64 reference to f32 rounding: the old
    /// `x − (max + ln Σ)` lost the low bits of `ln Σ` next to 1000.
    #[test]
    fn f32_matches_f64_at_large_logits() {
        let rows = [
            [1000.0f64, 999.0, 998.5, -1000.0],
            [-1000.0, -1000.5, -999.25, -1001.0],
            [1000.0, -1000.0, 0.0, 1000.0],
        ];
        let x64 = Array2::from_shape_fn((3, 4), |(i, j)| rows[i][j]);
        let x32 = x64.mapv(|v| v as f32);
        let (y64, _) = LogSoftmax.forward(x64.view());
        let (y32, _) = LogSoftmax.forward(x32.view());
        for (a, b) in y32.iter().zip(&y64) {
            // One f32 ulp of the result (and 1e-6 near zero).
            let tol = (b.abs() * f64::from(f32::EPSILON)).max(1e-6);
            assert!((f64::from(*a) - b).abs() <= tol, "{a} vs {b}");
        }
        // The reference itself: ln of the softmax computed by hand for the first row.
        let s: f64 = [0.0f64, -1.0, -1.5, -2000.0].iter().map(|d| d.exp()).sum();
        assert!((y64[[0, 1]] - (-1.0 - s.ln())).abs() < 1e-12);
    }
}
