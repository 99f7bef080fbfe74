//! Losses, each returning the mean loss and its gradient with respect to the prediction.
//!
//! | function | PyTorch equivalent | input shapes |
//! |---|---|---|
//! | [`bce_with_logits`] | `BCEWithLogitsLoss(pos_weight=…)` (mean) | logits, targets (n, L); pos_weight (L) |
//! | [`nll`] | `NLLLoss()` (mean) on log-probabilities | log_probs (n, C), targets n class indices |
//! | [`mse`] | `MSELoss()` (mean) | prediction, target (n, d) |
//!
//! Every function checks shapes ([`NnError::ShapeMismatch`]), rejects an empty batch
//! ([`NnError::EmptyBatch`]) and non-finite predictions ([`NnError::NonFinite`]).
//!
//! ```
//! use darknet_nn::loss::bce_with_logits;
//! use ndarray::array;
//! let (loss, grad) = bce_with_logits(array![[0.0f64]].view(), array![[1.0]].view(), None).unwrap();
//! assert!((loss - std::f64::consts::LN_2).abs() < 1e-12);
//! assert_eq!(grad, array![[-0.5]]);
//! ```

use crate::buffer::{reshape2, reshape2_zeroed};
use crate::error::{check_finite, check_shape};
use crate::layers::sigmoid;
use crate::{Float, NnError, Result};
use ndarray::{Array2, ArrayView1, ArrayView2, Zip};

/// `ln(1 + e^x)` without overflow.
fn softplus<T: Float>(x: T) -> T {
    x.max(T::zero()) + (-x.abs()).exp().ln_1p()
}

/// Binary cross-entropy on logits, mean over all n·L elements, numerically stable.
///
/// `ℓ = pw_l · y · softplus(−x) + (1 − y) · softplus(x)` per element (`pw_l` = `pos_weight[l]`,
/// 1 when `None`), which equals `−[pw y ln σ(x) + (1 − y) ln(1 − σ(x))]`; gradient
/// `∂ℓ/∂x = (1 − y) σ(x) − pw y (1 − σ(x))`, divided by n·L.
///
/// Arguments: `logits` (n, L), `targets` (n, L) in [0, 1], optional `pos_weight` (L).
/// Returns the loss and its gradient (n, L).
pub fn bce_with_logits<T: Float>(
    logits: ArrayView2<'_, T>,
    targets: ArrayView2<'_, T>,
    pos_weight: Option<ArrayView1<'_, T>>,
) -> Result<(T, Array2<T>)> {
    let mut grad = Array2::zeros((0, 0));
    let loss = bce_with_logits_into(logits, targets, pos_weight, &mut grad)?;
    Ok((loss, grad))
}

/// [`bce_with_logits`] writing the gradient into `grad` (reshaped to (n, L) in place, reused
/// across calls): returns the loss. Errors as [`bce_with_logits`].
pub fn bce_with_logits_into<T: Float>(
    logits: ArrayView2<'_, T>,
    targets: ArrayView2<'_, T>,
    pos_weight: Option<ArrayView1<'_, T>>,
    grad: &mut Array2<T>,
) -> Result<T> {
    const OP: &str = "bce_with_logits";
    check_shape(OP, "targets", logits.shape(), targets.shape())?;
    if let Some(pw) = &pos_weight {
        check_shape(OP, "pos_weight", &[logits.ncols()], pw.shape())?;
    }
    if logits.is_empty() {
        return Err(NnError::EmptyBatch { op: OP });
    }
    check_finite(OP, "logits", logits.iter())?;
    let n = T::of(logits.len() as f64);
    reshape2(grad, logits.nrows(), logits.ncols());
    let mut total = T::zero();
    for ((row_x, row_y), mut row_g) in logits
        .rows()
        .into_iter()
        .zip(targets.rows())
        .zip(grad.rows_mut())
    {
        for (l, ((&x, &y), g)) in row_x.iter().zip(row_y).zip(row_g.iter_mut()).enumerate() {
            let pw = pos_weight.as_ref().map_or(T::one(), |p| p[l]);
            total += pw * y * softplus(-x) + (T::one() - y) * softplus(x);
            let s = sigmoid(x);
            *g = ((T::one() - y) * s - pw * y * (T::one() - s)) / n;
        }
    }
    Ok(total / n)
}

/// Negative log-likelihood on log-probabilities (the output of
/// [`crate::layers::LogSoftmax`]), mean over the n rows.
///
/// Arguments: `log_probs` (n, C), `targets` n class indices in 0..C.
/// Returns the loss `−(1/n) Σ_i log_probs[i, t_i]` and its gradient (n, C) (−1/n at each target).
///
/// Errors also: [`NnError::TargetOutOfRange`].
pub fn nll<T: Float>(log_probs: ArrayView2<'_, T>, targets: &[usize]) -> Result<(T, Array2<T>)> {
    let mut grad = Array2::zeros((0, 0));
    let loss = nll_into(log_probs, targets, &mut grad)?;
    Ok((loss, grad))
}

/// [`nll`] writing the gradient into `grad` (reshaped to (n, C) in place, reused across
/// calls): returns the loss. Errors as [`nll`].
pub fn nll_into<T: Float>(
    log_probs: ArrayView2<'_, T>,
    targets: &[usize],
    grad: &mut Array2<T>,
) -> Result<T> {
    const OP: &str = "nll";
    check_shape(OP, "targets", &[log_probs.nrows()], &[targets.len()])?;
    if targets.is_empty() {
        return Err(NnError::EmptyBatch { op: OP });
    }
    check_finite(OP, "log_probs", log_probs.iter())?;
    let c = log_probs.ncols();
    let n = T::of(targets.len() as f64);
    reshape2_zeroed(grad, log_probs.nrows(), c);
    let mut total = T::zero();
    for (i, &t) in targets.iter().enumerate() {
        if t >= c {
            return Err(NnError::TargetOutOfRange {
                op: OP,
                row: i,
                value: t,
                n_classes: c,
            });
        }
        total -= log_probs[[i, t]];
        grad[[i, t]] = -T::one() / n;
    }
    Ok(total / n)
}

/// Mean squared error over all n·d elements: `(1/nd) Σ (p − y)²`, gradient `2 (p − y) / nd`.
///
/// Arguments: `pred` (n, d), `target` (n, d). Returns the loss and its gradient (n, d).
pub fn mse<T: Float>(pred: ArrayView2<'_, T>, target: ArrayView2<'_, T>) -> Result<(T, Array2<T>)> {
    const OP: &str = "mse";
    check_shape(OP, "target", pred.shape(), target.shape())?;
    if pred.is_empty() {
        return Err(NnError::EmptyBatch { op: OP });
    }
    check_finite(OP, "pred", pred.iter())?;
    let n = T::of(pred.len() as f64);
    let two = T::of(2.0);
    let mut total = T::zero();
    let grad = Zip::from(&pred).and(&target).map_collect(|&p, &y| {
        let d = p - y;
        total += d * d;
        two * d / n
    });
    Ok((total / n, grad))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{check_gradients, GradCheckConfig, NoParams};
    use ndarray::{arr0, array, Array1, Ix2};

    fn check<F>(x: Array2<f64>, f: F)
    where
        F: Fn(ArrayView2<'_, f64>) -> Result<(f64, Array2<f64>)>,
    {
        check_gradients(
            &mut NoParams,
            &[x.into_dyn()],
            |_, xs| Ok(arr0(f(xs[0].view().into_dimensionality::<Ix2>().unwrap())?.0).into_dyn()),
            |_, xs, g| {
                let (_, grad) = f(xs[0].view().into_dimensionality::<Ix2>().unwrap())?;
                Ok(vec![Some((grad * g.first().copied().unwrap()).into_dyn())])
            },
            &GradCheckConfig::default(),
        )
        .unwrap();
    }

    fn logits() -> Array2<f64> {
        Array2::from_shape_fn((4, 3), |(i, j)| ((i * 3 + j) as f64 * 0.7).sin() * 3.0)
    }

    #[test]
    fn bce_gradients_and_values() {
        let y = array![
            [1.0, 0.0, 1.0],
            [0.0, 0.0, 1.0],
            [1.0, 1.0, 0.0],
            [0.5, 0.0, 0.0]
        ];
        let pw = Array1::from(vec![2.0, 1.0, 0.5]);
        check(logits(), |x| bce_with_logits(x, y.view(), None));
        check(logits(), |x| bce_with_logits(x, y.view(), Some(pw.view())));
        // Against the naive formula.
        let x = logits();
        let (l, _) = bce_with_logits(x.view(), y.view(), Some(pw.view())).unwrap();
        let mut naive = 0.0;
        for ((i, j), &v) in x.indexed_iter() {
            let s = 1.0 / (1.0 + (-v).exp());
            naive -= pw[j] * y[[i, j]] * s.ln() + (1.0 - y[[i, j]]) * (1.0 - s).ln();
        }
        assert!((l - naive / 12.0).abs() < 1e-12);
        // Stable for large logits.
        let (l, g) = bce_with_logits(
            array![[1000.0f32, -1000.0]].view(),
            array![[0.0, 1.0]].view(),
            None,
        )
        .unwrap();
        assert!((l - 1000.0).abs() < 1e-3 && g.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn nll_gradients_and_errors() {
        let t = [0usize, 2, 1, 1];
        check(logits(), |x| nll(x, &t));
        let x = logits();
        assert!(matches!(
            nll(x.view(), &[0, 3, 0, 0]),
            Err(NnError::TargetOutOfRange { row: 1, .. })
        ));
        assert!(matches!(
            nll(x.view(), &[0]),
            Err(NnError::ShapeMismatch { .. })
        ));
        assert!(matches!(
            nll(Array2::<f64>::zeros((0, 3)).view(), &[]),
            Err(NnError::EmptyBatch { op: "nll" })
        ));
    }

    #[test]
    fn mse_gradients_and_values() {
        let y = logits().mapv(|v| v * 0.5 + 0.1);
        check(logits(), |x| mse(x, y.view()));
        let (l, _) = mse(array![[1.0f64, 3.0]].view(), array![[0.0, 1.0]].view()).unwrap();
        assert_eq!(l, 2.5);
    }

    #[test]
    fn errors() {
        let x = array![[f64::NAN, 0.0]];
        let y = array![[0.0, 0.0]];
        assert!(matches!(
            mse(x.view(), y.view()),
            Err(NnError::NonFinite { index: 0, .. })
        ));
        assert!(matches!(
            bce_with_logits(x.view(), y.view(), None),
            Err(NnError::NonFinite { .. })
        ));
        let e = Array2::<f64>::zeros((0, 2));
        assert!(matches!(
            mse(e.view(), e.view()),
            Err(NnError::EmptyBatch { .. })
        ));
        assert!(matches!(
            bce_with_logits(e.view(), e.view(), None),
            Err(NnError::EmptyBatch { .. })
        ));
        let pw = Array1::from(vec![1.0]);
        assert!(matches!(
            bce_with_logits(y.view(), y.view(), Some(pw.view())),
            Err(NnError::ShapeMismatch {
                what: "pos_weight",
                ..
            })
        ));
        assert!(matches!(
            mse(y.view(), array![[0.0]].view()),
            Err(NnError::ShapeMismatch { .. })
        ));
    }
}
