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
//! Allocation-free variants for training loops: [`BatchNorm1d::forward_into`] and
//! [`BatchNorm1d::backward_into`] write into a cache and output kept between steps, reshaped in
//! place; per-column statistics are computed in blocks of 64 columns on the stack; results are
//! bit-identical to [`BatchNorm1d::forward`] and [`BatchNorm1d::backward`].
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

use crate::buffer::{reshape1, reshape2, BLOCK};
use crate::error::check_shape;
use crate::{Float, HasParams, Mode, NnError, Param, ParamMut, Result};
use ndarray::{
    arr0, Array0, Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMutD, Axis, Ix1,
    Slice, Zip,
};

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
///
/// `Default` is an empty cache for [`BatchNorm1d::forward_into`], which refills it in place.
#[derive(Debug, Clone, Default)]
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

    /// A layer with given scale γ (d), shift β (d), running mean (d) and running variance
    /// (d), PyTorch's momentum 0.1 and eps 1e-5 and no batch tracked yet (set the public
    /// fields to change them).
    ///
    /// Errors: [`NnError::ShapeMismatch`] naming the first array whose length differs from
    /// `weight`'s; [`NnError::InvalidConfig`] for a negative or non-finite running variance.
    pub fn from_arrays(
        weight: Array1<T>,
        bias: Array1<T>,
        running_mean: Array1<T>,
        running_var: Array1<T>,
    ) -> Result<Self> {
        const OP: &str = "BatchNorm1d::from_arrays";
        let d = weight.len();
        check_shape(OP, "bias", &[d], bias.shape())?;
        check_shape(OP, "running_mean", &[d], running_mean.shape())?;
        check_shape(OP, "running_var", &[d], running_var.shape())?;
        if let Some(v) = running_var
            .iter()
            .find(|v| !(v.is_finite() && **v >= T::zero()))
        {
            return Err(NnError::InvalidConfig {
                field: "running_var",
                value: format!("{v:?}"),
                reason: "every running variance must be finite and >= 0",
            });
        }
        Ok(Self {
            weight: Param::new(weight),
            bias: Param::new(bias),
            running_mean,
            running_var,
            ..Self::new(0)
        })
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
        let mut cache = BatchNormCache::default();
        let mut y = Array2::zeros((0, 0));
        self.forward_into(x, mode, &mut cache, &mut y)?;
        Ok((y, cache))
    }

    /// Allocation-free forward: `x` (n, d) → `y` (reshaped to (n, d) in place), the cache
    /// refilled in place; in training mode also updates the running statistics. Errors as
    /// [`BatchNorm1d::forward`] (nothing is updated then).
    pub fn forward_into(
        &mut self,
        x: ArrayView2<'_, T>,
        mode: Mode,
        cache: &mut BatchNormCache<T>,
        y: &mut Array2<T>,
    ) -> Result<()> {
        const OP: &str = "BatchNorm1d::forward";
        check_shape(OP, "x", &[x.nrows(), self.dim()], x.shape())?;
        let n = x.nrows();
        if n == 0 {
            return Err(NnError::EmptyBatch { op: OP });
        }
        if mode == Mode::Train && n < 2 {
            return Err(NnError::BatchTooSmall {
                op: OP,
                needed: 2,
                got: n,
            });
        }
        let d = self.dim();
        let eps = T::of(self.eps);
        reshape1(&mut cache.inv_std, d);
        reshape2(&mut cache.x_hat, n, d);
        reshape2(y, n, d);
        cache.mode = mode;
        let nf = T::of(n as f64);
        let mo = T::of(self.momentum);
        let keep = T::one() - mo;
        let unbias = T::of(n as f64 / (n as f64 - 1.0));
        let mut c0 = 0;
        while c0 < d {
            let w = BLOCK.min(d - c0);
            let cols = Slice::from(c0..c0 + w);
            let xb = x.slice_axis(Axis(1), cols);
            let mut mean = [T::zero(); BLOCK];
            match mode {
                Mode::Train => {
                    // Mean and biased variance in row order, as `mean_axis` and the row loop.
                    let mut mv = ArrayViewMut1::from(&mut mean[..w]);
                    for row in xb.rows() {
                        Zip::from(&mut mv).and(&row).for_each(|m, &v| *m += v);
                    }
                    for m in &mut mean[..w] {
                        *m /= nf;
                    }
                    let mut var = [T::zero(); BLOCK];
                    let mut vv = ArrayViewMut1::from(&mut var[..w]);
                    let mv = ArrayView1::from(&mean[..w]);
                    for row in xb.rows() {
                        Zip::from(&mut vv)
                            .and(&row)
                            .and(&mv)
                            .for_each(|v, &xi, &m| {
                                let dv = xi - m;
                                *v += dv * dv;
                            });
                    }
                    for k in 0..w {
                        let j = c0 + k;
                        let v = var[k] / nf;
                        self.running_mean[j] = keep * self.running_mean[j] + mo * mean[k];
                        self.running_var[j] = keep * self.running_var[j] + mo * v * unbias;
                        cache.inv_std[j] = T::one() / (v + eps).sqrt();
                    }
                }
                Mode::Eval => {
                    for (k, m) in mean[..w].iter_mut().enumerate() {
                        let j = c0 + k;
                        *m = self.running_mean[j];
                        cache.inv_std[j] = T::one() / (self.running_var[j] + eps).sqrt();
                    }
                }
            }
            let inv = cache.inv_std.slice_axis(Axis(0), cols);
            let (g, b) = (
                self.weight.value.slice_axis(Axis(0), cols),
                self.bias.value.slice_axis(Axis(0), cols),
            );
            let mv = ArrayView1::from(&mean[..w]);
            Zip::from(cache.x_hat.slice_axis_mut(Axis(1), cols).rows_mut())
                .and(y.slice_axis_mut(Axis(1), cols).rows_mut())
                .and(xb.rows())
                .for_each(|mut xh, mut yr, xr| {
                    Zip::from(&mut xh)
                        .and(&xr)
                        .and(&mv)
                        .and(&inv)
                        .for_each(|h, &xi, &m, &s| *h = (xi - m) * s);
                    Zip::from(&mut yr)
                        .and(&xh)
                        .and(&g)
                        .and(&b)
                        .for_each(|o, &h, &gk, &bk| *o = h * gk + bk);
                });
            c0 += w;
        }
        if mode == Mode::Train {
            self.num_batches_tracked += T::one();
        }
        Ok(())
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
        let mut dx = Array2::zeros((0, 0));
        self.backward_into(cache, d_out, &mut dx)?;
        Ok(dx)
    }

    /// Allocation-free backward: `d_out` (n, d) → `dx` (reshaped to (n, d) in place); adds to
    /// γ's and β's gradients. Errors as [`BatchNorm1d::backward`].
    pub fn backward_into(
        &mut self,
        cache: &BatchNormCache<T>,
        d_out: ArrayView2<'_, T>,
        dx: &mut Array2<T>,
    ) -> Result<()> {
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
        let (rows, d) = d_out.dim();
        let n = T::of(rows as f64);
        reshape2(dx, rows, d);
        let mut c0 = 0;
        while c0 < d {
            let w = BLOCK.min(d - c0);
            let cols = Slice::from(c0..c0 + w);
            let db = d_out.slice_axis(Axis(1), cols);
            let xh = cache.x_hat.slice_axis(Axis(1), cols);
            // Σ dy and Σ dy ⊙ x̂ per column, in row order from zero (as `sum_axis`).
            let (mut d_beta, mut d_gamma) = ([T::zero(); BLOCK], [T::zero(); BLOCK]);
            {
                let mut bv = ArrayViewMut1::from(&mut d_beta[..w]);
                let mut gv = ArrayViewMut1::from(&mut d_gamma[..w]);
                for (dr, xr) in db.rows().into_iter().zip(xh.rows()) {
                    Zip::from(&mut bv).and(&mut gv).and(&dr).and(&xr).for_each(
                        |bk, gk, &dv, &xv| {
                            *bk += dv;
                            *gk += dv * xv;
                        },
                    );
                }
            }
            let mut scale = [T::zero(); BLOCK];
            for (k, sk) in scale[..w].iter_mut().enumerate() {
                *sk = self.weight.value[c0 + k] * cache.inv_std[c0 + k];
            }
            let mut out = dx.slice_axis_mut(Axis(1), cols);
            match cache.mode {
                Mode::Eval => {
                    let sv = ArrayView1::from(&scale[..w]);
                    Zip::from(out.rows_mut())
                        .and(db.rows())
                        .for_each(|mut o, dr| {
                            Zip::from(&mut o)
                                .and(&dr)
                                .and(&sv)
                                .for_each(|o, &dv, &sk| *o = dv * sk)
                        })
                }
                Mode::Train => {
                    // dx = γ inv_std / n · (n dy − Σdy − x̂ Σ(dy x̂))
                    for s in &mut scale[..w] {
                        *s /= n;
                    }
                    let sv = ArrayView1::from(&scale[..w]);
                    let bv = ArrayView1::from(&d_beta[..w]);
                    let gv = ArrayView1::from(&d_gamma[..w]);
                    Zip::from(out.rows_mut())
                        .and(db.rows())
                        .and(xh.rows())
                        .for_each(|mut o, dr, xr| {
                            Zip::from(&mut o)
                                .and(&dr)
                                .and(&xr)
                                .and(&bv)
                                .and(&gv)
                                .and(&sv)
                                .for_each(|o, &dv, &xv, &bk, &gk, &sk| {
                                    *o = (dv * n - bk - xv * gk) * sk
                                });
                        });
                }
            }
            let gw = self.weight.grad_mut();
            for k in 0..w {
                gw[c0 + k] += d_gamma[k];
            }
            let gb = self.bias.grad_mut();
            for k in 0..w {
                gb[c0 + k] += d_beta[k];
            }
            c0 += w;
        }
        Ok(())
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
