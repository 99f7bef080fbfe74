//! Score calibration per label, fitted on validation scores: Platt scaling and isotonic
//! regression, with scikit-learn's semantics, so calibrated scores can be read as
//! probabilities and compared across labels before a threshold is chosen.
//!
//! - [`PlattScaling`]: `p = 1 / (1 + exp(a·s + b))`, `(a, b)` minimizing the log-loss against
//!   Platt's smoothed targets `(N₊ + 1) / (N₊ + 2)` for positives and `1 / (N₋ + 2)` for
//!   negatives, as scikit-learn's `CalibratedClassifierCV(method="sigmoid")`. Scores of
//!   magnitude ≥ 30 are divided by their largest magnitude while fitting, as scikit-learn
//!   does. The problem is convex; we solve it with Newton's method and a backtracking line
//!   search to a gradient below 1e-10, where scikit-learn stops L-BFGS at a gradient of 1e-6:
//!   the two agree to about 1e-5 in `(a, b)`.
//! - [`IsotonicCalibration`]: scikit-learn's `IsotonicRegression(increasing=True,
//!   out_of_bounds="clip")`, the setting of `CalibratedClassifierCV(method="isotonic")`:
//!   samples sorted by score, equal scores merged into their mean target (weight = count), the
//!   pool-adjacent-violators fit, then linear interpolation between the fitted points and
//!   the end values outside them.
//! - [`Calibration`]: one of the two per label of a `(n_samples, n_labels)` score matrix.
//!
//! Fit on the validation part only, then transform the test scores; thresholds chosen on
//! calibrated validation scores ([`crate::threshold::choose_thresholds`]) apply to calibrated
//! test scores.
//!
//! ```
//! use darknet_eval::calibration::{Calibration, CalibrationMethod};
//! use ndarray::array;
//! let y_val = array![[0u8], [0], [1], [1]];
//! let s_val = array![[0.0], [0.25], [0.75], [1.0]];
//! let cal = Calibration::fit(CalibrationMethod::Isotonic, y_val.view(), s_val.view())?;
//! // The isotonic map sends every validation score to the mean target of its pool.
//! assert_eq!(cal.transform(s_val.view())?, array![[0.0], [0.0], [1.0], [1.0]]);
//! // Between fitted points it interpolates; outside them it clips.
//! assert_eq!(cal.transform(array![[0.5], [2.0]].view())?, array![[0.5], [1.0]]);
//! # Ok::<(), darknet_eval::EvalError>(())
//! ```

use crate::check;
use crate::error::{EvalError, Result};
use ndarray::{Array2, ArrayView1, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

/// Which calibration to fit per label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CalibrationMethod {
    /// [`PlattScaling`] (scikit-learn's `"sigmoid"`).
    Platt,
    /// [`IsotonicCalibration`] (scikit-learn's `"isotonic"`).
    Isotonic,
}

impl std::str::FromStr for CalibrationMethod {
    type Err = EvalError;
    /// `platt` (or `sigmoid`) and `isotonic`.
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "platt" | "sigmoid" => Ok(CalibrationMethod::Platt),
            "isotonic" => Ok(CalibrationMethod::Isotonic),
            _ => Err(EvalError::InvalidParameter {
                name: "calibration".into(),
                value: s.into(),
                reason: "expected platt (or sigmoid) or isotonic".into(),
            }),
        }
    }
}

fn check_pairs(scores: &ArrayView1<f64>, y: &ArrayView1<u8>) -> Result<()> {
    if scores.is_empty() {
        return Err(EvalError::Empty {
            what: "scores to calibrate".into(),
        });
    }
    if scores.len() != y.len() {
        return Err(EvalError::ShapeMismatch {
            what: "y_true".into(),
            expected: vec![scores.len()],
            actual: vec![y.len()],
        });
    }
    if let Some((row, &value)) = y.iter().enumerate().find(|(_, &v)| v > 1) {
        return Err(EvalError::NotBinary {
            what: "y_true".into(),
            row,
            col: 0,
            value,
        });
    }
    if let Some((row, &value)) = scores.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(EvalError::InvalidScore {
            what: "scores".into(),
            row,
            col: 0,
            value,
            range: String::new(),
        });
    }
    Ok(())
}

/// Platt scaling of one label: `p = 1 / (1 + exp(a·s + b))` (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PlattScaling {
    /// Slope `a` (negative when higher scores mean positive).
    pub a: f64,
    /// Intercept `b`.
    pub b: f64,
}

/// `ln(1 + exp(x))` without overflow.
fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// `1 / (1 + exp(-x))` without overflow.
fn expit(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

impl PlattScaling {
    /// Fits `(a, b)` on one label's validation scores `scores` (n) and truth `y` (n, 0/1).
    ///
    /// Errors: empty input, length mismatch, non-binary truth, non-finite score.
    /// Complexity: O(n) per Newton step, a few dozen steps.
    pub fn fit(scores: ArrayView1<f64>, y: ArrayView1<u8>) -> Result<Self> {
        check_pairs(&scores, &y)?;
        let max_abs = scores.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let scale = if max_abs >= 30.0 { max_abs } else { 1.0 };
        let f: Vec<f64> = scores.iter().map(|v| v / scale).collect();
        let n_pos = y.iter().filter(|&&v| v == 1).count() as f64;
        let n_neg = y.len() as f64 - n_pos;
        let t_pos = (n_pos + 1.0) / (n_pos + 2.0);
        let t_neg = 1.0 / (n_neg + 2.0);
        let t: Vec<f64> = y
            .iter()
            .map(|&v| if v == 1 { t_pos } else { t_neg })
            .collect();
        // Loss of P(positive) = expit(-(a f + b)) against targets t.
        let loss = |a: f64, b: f64| -> f64 {
            f.iter()
                .zip(&t)
                .map(|(&fi, &ti)| {
                    let z = a * fi + b;
                    // -[t ln σ(-z) + (1-t) ln σ(z)] = t softplus(z) + (1-t) softplus(-z)
                    ti * softplus(z) + (1.0 - ti) * softplus(-z)
                })
                .sum()
        };
        let (mut a, mut b) = (0.0, ((n_neg + 1.0) / (n_pos + 1.0)).ln());
        let mut current = loss(a, b);
        for _ in 0..200 {
            // Gradient and Hessian in (a, b): with p = σ(-z) the model's probability of a
            // positive, dℓ/dz = t − p and d²ℓ/dz² = p (1 − p).
            let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for (&fi, &ti) in f.iter().zip(&t) {
                let p = expit(-(a * fi + b));
                let g = ti - p;
                let w = p * (1.0 - p);
                ga += g * fi;
                gb += g;
                haa += w * fi * fi;
                hab += w * fi;
                hbb += w;
            }
            if ga.abs().max(gb.abs()) < 1e-10 {
                break;
            }
            // Newton direction with a small ridge for a flat direction (one distinct score).
            let ridge = 1e-12 * (1.0 + haa + hbb);
            let (haa, hbb) = (haa + ridge, hbb + ridge);
            let det = haa * hbb - hab * hab;
            let (da, db) = if det > 0.0 {
                (-(hbb * ga - hab * gb) / det, -(haa * gb - hab * ga) / det)
            } else {
                (-ga, -gb)
            };
            let mut step = 1.0;
            let slope = ga * da + gb * db;
            let mut moved = false;
            while step > 1e-12 {
                let (na, nb) = (a + step * da, b + step * db);
                let nl = loss(na, nb);
                if nl <= current + 1e-4 * step * slope {
                    (a, b, current) = (na, nb, nl);
                    moved = true;
                    break;
                }
                step *= 0.5;
            }
            if !moved {
                break;
            }
        }
        Ok(PlattScaling { a: a / scale, b })
    }

    /// Calibrated probability of one score.
    pub fn transform(&self, score: f64) -> f64 {
        expit(-(self.a * score + self.b))
    }
}

/// Isotonic calibration of one label: a non-decreasing piecewise-linear map from scores to
/// probabilities (see the module doc).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IsotonicCalibration {
    /// Distinct validation scores, increasing (scikit-learn's `X_thresholds_` before its
    /// removal of points inside flat runs, which does not change the map).
    pub x: Vec<f64>,
    /// Fitted values at `x`, non-decreasing, in [0, 1].
    pub y: Vec<f64>,
}

impl IsotonicCalibration {
    /// Fits the map on one label's validation scores `scores` (n) and truth `y` (n, 0/1).
    ///
    /// Errors: empty input, length mismatch, non-binary truth, non-finite score.
    /// Complexity: O(n log n) (the sort), then linear.
    pub fn fit(scores: ArrayView1<f64>, y: ArrayView1<u8>) -> Result<Self> {
        check_pairs(&scores, &y)?;
        let mut pairs: Vec<(f64, f64)> = scores
            .iter()
            .zip(y.iter())
            .map(|(&s, &t)| (s, f64::from(t)))
            .collect();
        pairs.sort_by(|p, q| p.0.total_cmp(&q.0).then(p.1.total_cmp(&q.1)));
        // Equal scores merge into one point: mean target, weight = count.
        let mut xs: Vec<f64> = Vec::new();
        let mut sums: Vec<f64> = Vec::new();
        let mut weights: Vec<f64> = Vec::new();
        for (s, t) in pairs {
            match xs.last() {
                Some(&last) if last == s => {
                    *sums.last_mut().expect("non-empty") += t;
                    *weights.last_mut().expect("non-empty") += 1.0;
                }
                _ => {
                    xs.push(s);
                    sums.push(t);
                    weights.push(1.0);
                }
            }
        }
        // Pool adjacent violators over blocks (value, weight, number of points).
        let mut blocks: Vec<(f64, f64, usize)> = Vec::with_capacity(xs.len());
        for (s, w) in sums.iter().zip(&weights) {
            blocks.push((s / w, *w, 1));
            while blocks.len() >= 2 {
                let (v2, w2, n2) = blocks[blocks.len() - 1];
                let (v1, w1, n1) = blocks[blocks.len() - 2];
                if v1 <= v2 {
                    break;
                }
                blocks.pop();
                let last = blocks.len() - 1;
                blocks[last] = ((v1 * w1 + v2 * w2) / (w1 + w2), w1 + w2, n1 + n2);
            }
        }
        let y: Vec<f64> = blocks
            .iter()
            .flat_map(|&(v, _, n)| std::iter::repeat_n(v, n))
            .collect();
        Ok(IsotonicCalibration { x: xs, y })
    }

    /// Calibrated probability of one score: linear interpolation between the fitted points,
    /// the end values outside them.
    pub fn transform(&self, score: f64) -> f64 {
        let n = self.x.len();
        if n == 1 || score <= self.x[0] {
            return self.y[0];
        }
        if score >= self.x[n - 1] {
            return self.y[n - 1];
        }
        // First index with x > score; score lies in [x[i-1], x[i]).
        let i = self.x.partition_point(|&v| v <= score);
        let (x0, x1, y0, y1) = (self.x[i - 1], self.x[i], self.y[i - 1], self.y[i]);
        y0 + (score - x0) * (y1 - y0) / (x1 - x0)
    }
}

/// A fitted calibration of one label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LabelCalibration {
    /// Platt scaling.
    Platt(PlattScaling),
    /// Isotonic regression.
    Isotonic(IsotonicCalibration),
}

impl LabelCalibration {
    /// Calibrated probability of one score.
    pub fn transform(&self, score: f64) -> f64 {
        match self {
            LabelCalibration::Platt(p) => p.transform(score),
            LabelCalibration::Isotonic(i) => i.transform(score),
        }
    }
}

/// One fitted calibration per label of a multi-label score matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// The method every label uses.
    pub method: CalibrationMethod,
    /// Per label, in label order.
    pub labels: Vec<LabelCalibration>,
}

impl Calibration {
    /// Fits one calibration per label on validation truth `y_true` (0/1) and scores
    /// `y_score`, both `(n_samples, n_labels)`. A label with one class only in the validation
    /// part still gets a map (Platt: the smoothed class rate; isotonic: a constant).
    ///
    /// Errors: empty input, shape mismatch, non-binary truth, non-finite score.
    pub fn fit(
        method: CalibrationMethod,
        y_true: ArrayView2<u8>,
        y_score: ArrayView2<f64>,
    ) -> Result<Self> {
        check::truth_score(&y_true, &y_score)?;
        let labels = (0..y_true.ncols())
            .map(|l| {
                let (s, y) = (y_score.column(l), y_true.column(l));
                Ok(match method {
                    CalibrationMethod::Platt => LabelCalibration::Platt(PlattScaling::fit(s, y)?),
                    CalibrationMethod::Isotonic => {
                        LabelCalibration::Isotonic(IsotonicCalibration::fit(s, y)?)
                    }
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Calibration { method, labels })
    }

    /// Number of labels.
    pub fn n_labels(&self) -> usize {
        self.labels.len()
    }

    /// Calibrated scores: `y_score` (n_samples, n_labels) → (n_samples, n_labels) in [0, 1].
    ///
    /// Errors: a column count other than [`Calibration::n_labels`]; a non-finite score.
    pub fn transform(&self, y_score: ArrayView2<f64>) -> Result<Array2<f64>> {
        if y_score.ncols() != self.labels.len() {
            return Err(EvalError::ShapeMismatch {
                what: "y_score".into(),
                expected: vec![y_score.nrows(), self.labels.len()],
                actual: y_score.shape().to_vec(),
            });
        }
        check::finite("y_score", &y_score)?;
        let mut out = y_score.to_owned();
        for (mut col, cal) in out.axis_iter_mut(Axis(1)).zip(&self.labels) {
            col.mapv_inplace(|s| cal.transform(s));
        }
        Ok(out)
    }
}

/// How well scores read as probabilities, per label and averaged over labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationQuality {
    /// Brier score per label: mean of `(score − truth)²` (scikit-learn's `brier_score_loss`).
    pub brier: Vec<f64>,
    /// Expected calibration error per label (see [`expected_calibration_error`]).
    pub ece: Vec<f64>,
    /// Mean of `brier` over labels.
    pub brier_mean: f64,
    /// Mean of `ece` over labels.
    pub ece_mean: f64,
}

/// The expected calibration error of one label's scores: the scores in `[0, 1]` are put in
/// `n_bins` equal-width bins (a score equal to a bin's upper edge goes to that bin, 1.0 to the
/// last), and the error is `Σ_b (n_b / n) · |mean truth in b − mean score in b|`. 0 for
/// perfectly calibrated scores.
///
/// Arguments: `y_true` 0/1 and `y_score` in `[0, 1]`, both of shape (n,); `n_bins` ≥ 1.
///
/// # Errors
/// Empty input, shape mismatch, non-binary truth, scores outside `[0, 1]` or not finite, zero
/// bins.
///
/// ```
/// use darknet_eval::calibration::expected_calibration_error;
/// use ndarray::array;
/// // Half the hosts scored 0.5 are positive: calibrated. All scored 0.9 are negative: off by 0.9.
/// let e = expected_calibration_error(array![0u8, 1, 0, 0].view(), array![0.5, 0.5, 0.9, 0.9].view(), 10)?;
/// assert!((e - 0.45).abs() < 1e-12);
/// # Ok::<(), darknet_eval::EvalError>(())
/// ```
pub fn expected_calibration_error(
    y_true: ArrayView1<u8>,
    y_score: ArrayView1<f64>,
    n_bins: usize,
) -> Result<f64> {
    check::binary1("y_true", &y_true)?;
    check::finite1("y_score", &y_score)?;
    if y_true.is_empty() {
        return Err(EvalError::Empty {
            what: "y_true".into(),
        });
    }
    if y_true.len() != y_score.len() {
        return Err(EvalError::ShapeMismatch {
            what: "y_score".into(),
            expected: vec![y_true.len()],
            actual: vec![y_score.len()],
        });
    }
    if n_bins == 0 {
        return Err(EvalError::InvalidParameter {
            name: "n_bins".into(),
            value: "0".into(),
            reason: "must be >= 1".into(),
        });
    }
    if let Some((row, &value)) = y_score
        .iter()
        .enumerate()
        .find(|(_, s)| !(0.0..=1.0).contains(*s))
    {
        return Err(EvalError::InvalidScore {
            what: "y_score".into(),
            row,
            col: 0,
            value,
            range: " in [0, 1]".into(),
        });
    }
    let mut count = vec![0usize; n_bins];
    let mut sum_true = vec![0.0f64; n_bins];
    let mut sum_score = vec![0.0f64; n_bins];
    for (&t, &s) in y_true.iter().zip(y_score) {
        let b = ((s * n_bins as f64).ceil() as usize).clamp(1, n_bins) - 1;
        count[b] += 1;
        sum_true[b] += f64::from(t);
        sum_score[b] += s;
    }
    let n = y_true.len() as f64;
    Ok((0..n_bins)
        .filter(|&b| count[b] > 0)
        .map(|b| (sum_true[b] - sum_score[b]).abs() / n)
        .sum())
}

/// Brier score and expected calibration error (10 bins) of every label column of a score
/// matrix, and their means over labels.
///
/// Arguments: `y_true` 0/1 and `y_score` in `[0, 1]`, both (n_samples, n_labels).
///
/// # Errors
/// As [`expected_calibration_error`], and a shape mismatch between the two matrices.
pub fn calibration_quality(
    y_true: ArrayView2<u8>,
    y_score: ArrayView2<f64>,
) -> Result<CalibrationQuality> {
    check::truth_score(&y_true, &y_score)?;
    let mut brier = Vec::with_capacity(y_true.ncols());
    let mut ece = Vec::with_capacity(y_true.ncols());
    for (t, s) in y_true.axis_iter(Axis(1)).zip(y_score.axis_iter(Axis(1))) {
        ece.push(expected_calibration_error(t, s, 10)?);
        brier.push(
            t.iter()
                .zip(s)
                .map(|(&t, &s)| (s - f64::from(t)).powi(2))
                .sum::<f64>()
                / t.len() as f64,
        );
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    Ok(CalibrationQuality {
        brier_mean: mean(&brier),
        ece_mean: mean(&ece),
        brier,
        ece,
    })
}
