//! Thresholds: turning scores into label sets, sweeping τ, and choosing one τ per label on a
//! validation split.
//!
//! Paper A predicts label l when `score_l > τ` (docs/paper-a.md#classifier: "output_l > τ", default
//! τ = 0.5): the comparison is **strict**, so a score of exactly 0.5 is not predicted at τ = 0.5.
//! This matches `(scores > tau).astype(int)`, the usual scikit-learn idiom.

use crate::check;
use crate::error::{EvalError, Result};
use crate::multilabel::{label_counts, prf_unchecked, Average, LabelPrf, Prf};
use ndarray::{Array2, ArrayView2, Zip};
use serde::{Deserialize, Serialize};

/// Paper A's default threshold τ = 0.5.
pub const DEFAULT_THRESHOLD: f64 = 0.5;

fn check_tau(name: &str, tau: f64) -> Result<()> {
    if tau.is_nan() {
        return Err(EvalError::InvalidParameter {
            name: name.into(),
            value: format!("{tau}"),
            reason: "a threshold must not be NaN".into(),
        });
    }
    Ok(())
}

/// Predicted label sets at one global threshold: `1` where `score > tau`, else `0`.
///
/// Arguments: `y_score` finite, `(n_samples, n_labels)`; `tau` any non-NaN value.
/// Returns a 0/1 matrix `(n_samples, n_labels)`.
/// Errors: a non-finite score, a NaN threshold.
///
/// ```
/// use darknet_eval::binarize;
/// use ndarray::array;
/// let p = binarize(array![[0.7, 0.5], [0.2, 0.9]].view(), 0.5).unwrap();
/// assert_eq!(p, array![[1u8, 0], [0, 1]]);
/// ```
pub fn binarize(y_score: ArrayView2<f64>, tau: f64) -> Result<Array2<u8>> {
    check_tau("tau", tau)?;
    check::finite("y_score", &y_score)?;
    Ok(y_score.mapv(|s| u8::from(s > tau)))
}

/// Predicted label sets with one threshold per label: `1` where `score[i, l] > taus[l]`.
///
/// Arguments: `y_score` finite, `(n_samples, n_labels)`; `taus` of length `n_labels`.
/// Returns a 0/1 matrix `(n_samples, n_labels)`.
/// Errors: length mismatch, a non-finite score, a NaN threshold.
pub fn apply_thresholds(y_score: ArrayView2<f64>, taus: &[f64]) -> Result<Array2<u8>> {
    if taus.len() != y_score.ncols() {
        return Err(EvalError::ShapeMismatch {
            what: "thresholds".into(),
            expected: vec![y_score.ncols()],
            actual: vec![taus.len()],
        });
    }
    for &t in taus {
        check_tau("taus", t)?;
    }
    check::finite("y_score", &y_score)?;
    let mut out = Array2::<u8>::zeros(y_score.raw_dim());
    Zip::indexed(&mut out)
        .and(&y_score)
        .for_each(|(_, l), o, &s| *o = u8::from(s > taus[l]));
    Ok(out)
}

/// The default sweep grid: τ = 0.00, 0.01, ..., 1.00 (101 values).
pub fn default_grid() -> Vec<f64> {
    (0..=100).map(|i| i as f64 / 100.0).collect()
}

/// Metrics at one threshold of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepPoint {
    /// The threshold τ.
    pub threshold: f64,
    /// Per-label precision, recall, F1 and support at τ, in label order.
    pub per_label: Vec<LabelPrf>,
    /// Sample-averaged precision, recall, F1 at τ.
    pub samples: Prf,
    /// Micro-averaged precision, recall, F1 at τ.
    pub micro: Prf,
    /// Macro-averaged precision, recall, F1 at τ.
    pub macro_avg: Prf,
}

/// Per-label and averaged precision / recall / F1 as functions of a global τ
/// (docs/paper-a.md#threshold-sweep, Paper A's Fig. 5), `zero_division = 0`.
///
/// Arguments: `y_true` 0/1 and `y_score` finite, both `(n_samples, n_labels)`; `grid` the
/// thresholds (see [`default_grid`]), each non-NaN.
/// Returns one [`SweepPoint`] per grid value, in grid order.
/// Errors: empty input or grid, shape mismatch, non-binary truth, non-finite score, NaN τ.
/// Complexity: O(|grid| · n_samples · n_labels).
pub fn sweep(
    y_true: ArrayView2<u8>,
    y_score: ArrayView2<f64>,
    grid: &[f64],
) -> Result<Vec<SweepPoint>> {
    check::truth_score(&y_true, &y_score)?;
    if grid.is_empty() {
        return Err(EvalError::Empty {
            what: "threshold grid".into(),
        });
    }
    let mut pred = Array2::<u8>::zeros(y_score.raw_dim());
    let mut out = Vec::with_capacity(grid.len());
    for &tau in grid {
        check_tau("grid", tau)?;
        Zip::from(&mut pred)
            .and(&y_score)
            .for_each(|p, &s| *p = u8::from(s > tau));
        let pv = pred.view();
        let per_label = label_counts(&y_true, &pv)
            .into_iter()
            .map(|c| {
                let (tp, fp, fn_) = (c.tp as f64, c.fp as f64, c.fn_ as f64);
                LabelPrf {
                    precision: crate::multilabel::divide(tp, tp + fp, 0.0),
                    recall: crate::multilabel::divide(tp, tp + fn_, 0.0),
                    f1: crate::multilabel::divide(2.0 * tp, 2.0 * tp + fp + fn_, 0.0),
                    support: c.tp + c.fn_,
                }
            })
            .collect();
        out.push(SweepPoint {
            threshold: tau,
            per_label,
            samples: prf_unchecked(&y_true, &pv, Average::Samples, 0.0),
            micro: prf_unchecked(&y_true, &pv, Average::Micro, 0.0),
            macro_avg: prf_unchecked(&y_true, &pv, Average::Macro, 0.0),
        });
    }
    Ok(out)
}

/// Chooses one threshold per label on a validation split: for each label the grid value with
/// the highest per-label F1 (`zero_division = 0`); among equal F1 values the grid value closest
/// to [`DEFAULT_THRESHOLD`] wins, then the smaller one. Apply the result to test scores with
/// [`apply_thresholds`]. Same as [`choose_thresholds_near`] with τ = 0.5.
///
/// Arguments: `y_true` 0/1 and `y_score` finite, both `(n_samples, n_labels)` (the
/// validation part only); `grid` the candidate thresholds.
/// Returns `n_labels` thresholds, in label order.
/// Errors: as [`sweep`].
pub fn choose_thresholds(
    y_true: ArrayView2<u8>,
    y_score: ArrayView2<f64>,
    grid: &[f64],
) -> Result<Vec<f64>> {
    choose_thresholds_near(y_true, y_score, grid, DEFAULT_THRESHOLD)
}

/// Chooses one threshold per label on a validation split, falling back towards the global τ
/// a run uses: for each label the grid value with the highest per-label F1
/// (`zero_division = 0`); among equal F1 values the grid value closest to `tau` wins, then
/// the smaller one. A label with no positive and no false positive anywhere on the grid (F1
/// 0 everywhere) thus keeps the grid value closest to `tau`: without evidence, the paper's
/// rule.
///
/// Arguments: `y_true` 0/1 and `y_score` finite, both `(n_samples, n_labels)` (the
/// validation part only, never the test part); `grid` the candidate thresholds; `tau` the
/// global threshold (non-NaN).
/// Returns `n_labels` thresholds, in label order.
/// Errors: as [`sweep`]; a NaN `tau`.
/// Complexity: O(|grid| · n_samples · n_labels).
///
/// ```
/// use darknet_eval::threshold::{choose_thresholds_near, default_grid};
/// use ndarray::array;
/// let y = array![[1u8, 0], [0, 0], [1, 0], [0, 0]];
/// let s = array![[0.35, 0.1], [0.2, 0.3], [0.3, 0.2], [0.1, 0.4]];
/// // Label 0: any τ in [0.20, 0.30) separates; 0.29 is the closest to 0.4.
/// // Label 1 has no positive: F1 is 0 everywhere, τ stays at 0.4.
/// let t = choose_thresholds_near(y.view(), s.view(), &default_grid(), 0.4).unwrap();
/// assert_eq!(t, vec![0.29, 0.4]);
/// ```
pub fn choose_thresholds_near(
    y_true: ArrayView2<u8>,
    y_score: ArrayView2<f64>,
    grid: &[f64],
    tau: f64,
) -> Result<Vec<f64>> {
    check_tau("tau", tau)?;
    let points = sweep(y_true, y_score, grid)?;
    let n_labels = y_true.ncols();
    let mut best: Vec<(f64, f64)> = vec![(f64::NEG_INFINITY, f64::NAN); n_labels];
    for p in &points {
        for (l, lp) in p.per_label.iter().enumerate() {
            let (bf, bt) = best[l];
            let (d, bd) = ((p.threshold - tau).abs(), (bt - tau).abs());
            let closer = d < bd || (d == bd && p.threshold < bt);
            if lp.f1 > bf || (lp.f1 == bf && closer) {
                best[l] = (lp.f1, p.threshold);
            }
        }
    }
    Ok(best.into_iter().map(|(_, t)| t).collect())
}

/// How scores become label sets: Paper A's single τ, or one threshold per label chosen on
/// validation data. Serialises as `{"global": 0.5}` or `{"per_label": [...]}` for a run's
/// metrics file.
///
/// ```
/// use darknet_eval::threshold::Thresholds;
/// use ndarray::array;
/// let s = array![[0.7, 0.3], [0.4, 0.6]];
/// assert_eq!(Thresholds::Global(0.5).apply(s.view())?, array![[1u8, 0], [0, 1]]);
/// assert_eq!(Thresholds::PerLabel(vec![0.3, 0.65]).apply(s.view())?, array![[1u8, 0], [1, 0]]);
/// # Ok::<(), darknet_eval::EvalError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Thresholds {
    /// One τ for every label (predict when score > τ).
    Global(f64),
    /// One threshold per label, in label order.
    PerLabel(Vec<f64>),
}

impl Thresholds {
    /// The 0/1 predictions of `y_score` (n_samples, n_labels).
    ///
    /// Errors: as [`binarize`] and [`apply_thresholds`].
    pub fn apply(&self, y_score: ArrayView2<f64>) -> Result<Array2<u8>> {
        match self {
            Thresholds::Global(t) => binarize(y_score, *t),
            Thresholds::PerLabel(ts) => apply_thresholds(y_score, ts),
        }
    }

    /// The threshold of label `l`.
    pub fn of_label(&self, l: usize) -> Option<f64> {
        match self {
            Thresholds::Global(t) => Some(*t),
            Thresholds::PerLabel(ts) => ts.get(l).copied(),
        }
    }
}
