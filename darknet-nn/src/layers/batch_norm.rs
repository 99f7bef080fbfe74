//! Batch normalisation over the rows of a batch, PyTorch's `nn.BatchNorm1d(d)` on (n, d) input.
//!
//! Training mode: with the batch mean `μ` and **biased** variance `σ²_b` of each column,
//! `x̂ = (x − μ) / √(σ²_b + eps)`, `y = γ x̂ + β`; the running statistics are updated as
//! `running_mean ← (1 − momentum) running_mean + momentum μ` and
//! `running_var ← (1 − momentum) running_var + momentum σ²_u` with the **unbiased** variance
//! `σ²_u = σ²_b · n / (n − 1)`. Evaluation mode normalizes with the running statistics.
//! Defaults as PyTorch: momentum 0.1, eps 1e-5, γ = 1, β = 0, running mean 0, running variance 1.
//!
//! Shapes: `x` (n, d) → `y` (n, d); `weight` γ (d), `bias` β (d), buffers `running_mean`,
//! `running_var` (d) and `num_batches_tracked` (scalar), named as PyTorch's `state_dict`.
//!
//! Backward (training): `dx = (1/n) · inv_std · (n·dx̂ − Σ dx̂ − x̂ Σ(dx̂ ⊙ x̂))` with
//! `dx̂ = dy ⊙ γ`; evaluation: `dx = dy ⊙ γ · inv_std`. `dγ += Σ dy ⊙ x̂`, `dβ += Σ dy`.
//!
//! ```
//! use darknet_nn::{layers::BatchNorm1d, Mode};
//! use ndarray::array;
//! let mut bn = BatchNorm1d::<f64>::new(1);
//! let (y, _) = bn.forward(array![[1.0], [3.0]].view(), Mode::Train).unwrap();
//! // Batch mean 2, biased variance 1: y = ±1/√(1 + 1e-5).
//! assert!((y[[0, 0]] + 1.0 / (1.0f64 + 1e-5).sqrt()).abs() < 1e-12);
//! // Running statistics: mean 0.9·0 + 0.1·2, variance 0.9·1 + 0.1·2 (unbiased).
//! assert!((bn.running_mean[0] - 0.2).abs() < 1e-12);
//! assert!((bn.running_var[0] - 1.1).abs() < 1e-12);
//! ```

use crate::error::check_shape;
use crate::{Float, HasParams, Mode, NnError, Param, ParamMut, Result};
use ndarray::{arr0, Array0, Array1, Array2, ArrayView2, ArrayViewMutD, Axis, Ix1, Zip};

/// Batch normalisation over d features with learnable affine parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchNorm1d<T: Float> {
    /// Scale γ, shape (d), initialised to 1.
    pub weight: Param<T, Ix1>,
    /// Shift β, shape (d), initialised to 0.
    pub bias: Param<T, Ix1>,
    /// Running mean, shape (d).
    pub running_mean: Array1<T>,
    /// Running (unbiased) variance, shape (d).
    pub running_var: Array1<T>,
    /// Number of training batches seen (PyTorch's `num_batches_tracked`), a scalar.
    pub num_batches_tracked: Array0<T>,
    /// Weight of the new batch in the running statistics. Default 0.1.
    pub momentum: f64,
    /// Added to the variance. Default 1e-5.
    pub eps: f64,
}

/// What [`BatchNorm1d::backward`] needs.
#[derive(Debug, Clone)]
pub struct BatchNormCache<T> {
    /// Normalized input x̂, (n, d).
    pub x_hat: Array2<T>,
    /// 1 / √(var + eps) used, (d).
    pub inv_std: Array1<T>,
    /// Mode of the forward pass.
    pub mode: Mode,
}

impl<T: Float> BatchNorm1d<T> {
    /// A layer over `d` features with PyTorch's defaults.
    pub fn new(d: usize) -> Self {
        Self {
            weight: Param::new(Array1::ones(d)),
            bias: Param::new(Array1::zeros(d)),
            running_mean: Array1::zeros(d),
            running_var: Array1::ones(d),
            num_batches_tracked: arr0(T::zero()),
            momentum: 0.1,
            eps: 1e-5,
        }
    }

    /// Number of features d.
    pub fn dim(&self) -> usize {
        self.weight.value.len()
    }

    /// `x` (n, d) → `y` (n, d) and the cache; in training mode also updates the running
    /// statistics.
    ///
    /// Errors: [`NnError::ShapeMismatch`] if `x` has not d columns; [`NnError::BatchTooSmall`]
    /// for fewer than 2 rows in training mode (as PyTorch), [`NnError::EmptyBatch`] for 0 rows.
    pub fn forward(
        &mut self,
        x: ArrayView2<'_, T>,
        mode: Mode,
    ) -> Result<(Array2<T>, BatchNormCache<T>)> {
        const OP: &str = "BatchNorm1d::forward";
        check_shape(OP, "x", &[x.nrows(), self.dim()], x.shape())?;
        let n = x.nrows();
        if n == 0 {
            return Err(NnError::EmptyBatch { op: OP });
        }
        let eps = T::of(self.eps);
        let (mean, inv_std) = match mode {
            Mode::Train => {
                if n < 2 {
                    return Err(NnError::BatchTooSmall {
                        op: OP,
                        needed: 2,
                        got: n,
                    });
                }
                let mean = x.mean_axis(Axis(0)).expect("n > 0");
                let mut var = Array1::<T>::zeros(self.dim());
                for row in x.rows() {
                    Zip::from(&mut var)
                        .and(&row)
                        .and(&mean)
                        .for_each(|v, &xi, &m| {
                            let d = xi - m;
                            *v += d * d;
                        });
                }
                var /= T::of(n as f64);
                let mo = T::of(self.momentum);
                let keep = T::one() - mo;
                let unbias = T::of(n as f64 / (n as f64 - 1.0));
                Zip::from(&mut self.running_mean)
                    .and(&mean)
                    .for_each(|r, &m| *r = keep * *r + mo * m);
                Zip::from(&mut self.running_var)
                    .and(&var)
                    .for_each(|r, &v| *r = keep * *r + mo * v * unbias);
                self.num_batches_tracked += T::one();
                (mean, var.mapv(|v| T::one() / (v + eps).sqrt()))
            }
            Mode::Eval => (
                self.running_mean.clone(),
                self.running_var.mapv(|v| T::one() / (v + eps).sqrt()),
            ),
        };
        let x_hat = (&x - &mean) * &inv_std;
        let y = &x_hat * &self.weight.value + &self.bias.value;
        Ok((
            y,
            BatchNormCache {
                x_hat,
                inv_std,
                mode,
            },
        ))
    }

    /// Evaluation-mode forward without a cache and without `&mut self`: `x` (n, d) → (n, d),
    /// normalized with the running statistics.
    ///
    /// Errors: [`NnError::ShapeMismatch`] if `x` has not d columns.
    pub fn infer(&self, x: ArrayView2<'_, T>) -> Result<Array2<T>> {
        check_shape(
            "BatchNorm1d::infer",
            "x",
            &[x.nrows(), self.dim()],
            x.shape(),
        )?;
        let eps = T::of(self.eps);
        let scale = Zip::from(&self.weight.value)
            .and(&self.running_var)
            .map_collect(|&g, &v| g / (v + eps).sqrt());
        let shift = &self.bias.value - &(&self.running_mean * &scale);
        Ok(&x * &scale + &shift)
    }

    /// `d_out` (n, d) → `dx` (n, d); adds to γ's and β's gradients.
    ///
    /// Errors: [`NnError::ShapeMismatch`] if `d_out` differs from the forward output's shape.
    pub fn backward(
        &mut self,
        cache: &BatchNormCache<T>,
        d_out: ArrayView2<'_, T>,
    ) -> Result<Array2<T>> {
        check_shape(
            "BatchNorm1d::backward",
            "cache.x_hat",
            &[cache.x_hat.nrows(), self.dim()],
            cache.x_hat.shape(),
        )?;
        check_shape(
            "BatchNorm1d::backward",
            "cache.inv_std",
            &[self.dim()],
            cache.inv_std.shape(),
        )?;
        check_shape(
            "BatchNorm1d::backward",
            "d_out",
            cache.x_hat.shape(),
            d_out.shape(),
        )?;
        let n = T::of(d_out.nrows() as f64);
        let d_beta = d_out.sum_axis(Axis(0));
        let d_gamma = (&d_out * &cache.x_hat).sum_axis(Axis(0));
        let scale = &self.weight.value * &cache.inv_std;
        let dx = match cache.mode {
            Mode::Eval => &d_out * &scale,
            Mode::Train => {
                // dx = γ inv_std / n · (n dy − Σdy − x̂ Σ(dy x̂))
                let mut dx = &d_out * n - &d_beta;
                dx -= &(&cache.x_hat * &d_gamma);
                dx * &(scale / n)
            }
        };
        *self.weight.grad_mut() += &d_gamma;
        *self.bias.grad_mut() += &d_beta;
        Ok(dx)
    }
}

impl<T: Float> HasParams<T> for BatchNorm1d<T> {
    fn visit_params(&mut self, f: &mut dyn FnMut(&str, ParamMut<'_, T>)) {
        f("weight", self.weight.as_dyn_mut());
        f("bias", self.bias.as_dyn_mut());
    }
    fn visit_buffers(&mut self, f: &mut dyn FnMut(&str, ArrayViewMutD<'_, T>)) {
        f("running_mean", self.running_mean.view_mut().into_dyn());
        f("running_var", self.running_var.view_mut().into_dyn());
        f(
            "num_batches_tracked",
            self.num_batches_tracked.view_mut().into_dyn(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{check_gradients, GradCheckConfig};
    use ndarray::{array, Ix2};

    fn check(mode: Mode) {
        let mut bn = BatchNorm1d::<f64>::new(3);
        bn.weight.value = array![1.5, -0.5, 2.0];
        bn.bias.value = array![0.1, 0.2, -0.3];
        bn.running_mean = array![0.3, -0.2, 0.1];
        bn.running_var = array![0.5, 2.0, 1.5];
        let x = Array2::from_shape_fn((5, 3), |(i, j)| ((i * 3 + j) as f64 * 1.3).sin()).into_dyn();
        check_gradients(
            &mut bn,
            &[x],
            |m, xs| {
                Ok(
                    m.forward(xs[0].view().into_dimensionality::<Ix2>().unwrap(), mode)?
                        .0
                        .into_dyn(),
                )
            },
            |m, xs, g| {
                let (_, c) = m.forward(xs[0].view().into_dimensionality::<Ix2>().unwrap(), mode)?;
                Ok(vec![Some(
                    m.backward(&c, g.view().into_dimensionality::<Ix2>().unwrap())?
                        .into_dyn(),
                )])
            },
            &GradCheckConfig::default(),
        )
        .unwrap();
    }

    #[test]
    fn gradients_match_finite_differences_train_and_eval() {
        check(Mode::Train);
        check(Mode::Eval);
    }

    #[test]
    fn hand_worked_eval_and_tracking() {
        let mut bn = BatchNorm1d::<f64>::new(2);
        bn.forward(
            array![[1.0, 0.0], [3.0, 0.0], [5.0, 3.0]].view(),
            Mode::Train,
        )
        .unwrap();
        // mean (3, 1), unbiased var (4, 3).
        assert!(
            (bn.running_mean[0] - 0.3).abs() < 1e-12 && (bn.running_mean[1] - 0.1).abs() < 1e-12
        );
        assert!((bn.running_var[0] - 1.3).abs() < 1e-12 && (bn.running_var[1] - 1.2).abs() < 1e-12);
        assert_eq!(bn.num_batches_tracked[()], 1.0);
        let (y, _) = bn.forward(array![[0.3, 0.1]].view(), Mode::Eval).unwrap();
        assert!(y.iter().all(|v| v.abs() < 1e-12));
        let x = array![[1.0, 2.0], [-1.0, 0.5]];
        let (y, _) = bn.forward(x.view(), Mode::Eval).unwrap();
        assert!((&y - &bn.infer(x.view()).unwrap())
            .iter()
            .all(|v| v.abs() < 1e-12));
    }

    #[test]
    fn errors() {
        let mut bn = BatchNorm1d::<f32>::new(2);
        assert!(matches!(
            bn.forward(array![[1.0, 2.0]].view(), Mode::Train),
            Err(NnError::BatchTooSmall { got: 1, .. })
        ));
        assert!(bn.forward(array![[1.0, 2.0]].view(), Mode::Eval).is_ok());
        assert!(matches!(
            bn.forward(Array2::zeros((0, 2)).view(), Mode::Eval),
            Err(NnError::EmptyBatch { .. })
        ));
        assert!(matches!(
            bn.forward(array![[1.0]].view(), Mode::Eval),
            Err(NnError::ShapeMismatch { .. })
        ));
        let (_, c) = bn
            .forward(array![[1.0, 2.0], [0.0, 1.0]].view(), Mode::Train)
            .unwrap();
        assert!(bn.backward(&c, array![[1.0, 2.0]].view()).is_err());
        let mut wide = BatchNorm1d::<f32>::new(3);
        assert!(matches!(
            wide.backward(&c, array![[1.0, 2.0], [0.0, 1.0]].view()),
            Err(NnError::ShapeMismatch { .. })
        ));
    }
}
