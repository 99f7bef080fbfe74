//! Score-based multi-label metrics: coverage error, label ranking loss, label ranking average
//! precision, and per-label ROC AUC and average precision.
//!
//! Inputs: `y_true` 0/1 of shape `(n_samples, n_labels)` and `y_score` of the same shape
//! (any finite values; higher means more likely). Each function reproduces scikit-learn 1.x's
//! algorithm of the same name, including how it treats ties:
//!
//! - [`coverage_error`]: `c_i = #{j : s_ij ≥ min_{t∈Y_i} s_it}`, mean over samples; a sample
//!   with no true label counts 0. Tied scores all count (pessimistic).
//! - [`label_ranking_loss`]: for sample i, the number of pairs (t ∈ Y_i, f ∉ Y_i) with
//!   `s_f ≥ s_t`, divided by `|Y_i|·(L − |Y_i|)`; 0 when that product is 0. A tie counts as
//!   mis-ordered: scores `[0.5, 0.5]` with truth `[1, 0]` give 1.0. This is what scikit-learn's
//!   code computes (`np.dot(true_at_reversed_rank.cumsum(), false_at_reversed_rank)` over the
//!   sorted distinct scores), and docs/paper-a.md#metrics says the same.
//! - [`label_ranking_average_precision`]: for sample i and each true label j,
//!   `|{k ∈ Y_i : s_k ≥ s_j}| / |{k : s_k ≥ s_j}|` (ranks with ties at their maximum, as
//!   `rankdata(..., "max")`), averaged over Y_i then over samples; a sample whose true set is
//!   empty or full counts 1.
//! - [`roc_auc`]: the trapezoid rule over the ROC curve whose points are the distinct score
//!   thresholds (tied scores move tpr and fpr together, so a tie scores one half), as
//!   `roc_auc_score`. Undefined (`None`) when the column holds one class only (scikit-learn
//!   returns NaN with a warning).
//! - [`average_precision`]: `Σ_k (R_k − R_{k−1}) P_k` over the distinct thresholds in
//!   decreasing order (no interpolation), as `average_precision_score`. Undefined (`None`) when
//!   the column has no positive (scikit-learn warns and returns 0 there); 1 for an all-positive
//!   column.

use crate::check;
use crate::error::Result;
use ndarray::{ArrayView1, ArrayView2};

/// Coverage error (scikit-learn's `coverage_error`): how far down the ranking one must go, on
/// average, to cover every true label. Best value = mean number of true labels.
///
/// Arguments: `y_true` 0/1 and `y_score` finite, both `(n_samples, n_labels)`.
/// Errors: empty input, shape mismatch, a value other than 0/1, a non-finite score.
/// Complexity: O(n_samples · n_labels).
pub fn coverage_error(y_true: ArrayView2<u8>, y_score: ArrayView2<f64>) -> Result<f64> {
    check::truth_score(&y_true, &y_score)?;
    let mut total = 0.0;
    for (t, s) in y_true.outer_iter().zip(y_score.outer_iter()) {
        let min_true = t
            .iter()
            .zip(s.iter())
            .filter(|(&ti, _)| ti == 1)
            .map(|(_, &si)| si)
            .fold(f64::INFINITY, f64::min);
        if min_true.is_finite() {
            total += s.iter().filter(|&&si| si >= min_true).count() as f64;
        }
    }
    Ok(total / y_true.nrows() as f64)
}

/// Label ranking loss (scikit-learn's `label_ranking_loss`): the mean share of
/// (true, false) label pairs ranked wrongly, a tie counting as wrong.
///
/// Arguments: `y_true` 0/1 and `y_score` finite, both `(n_samples, n_labels)`.
/// Errors: empty input, shape mismatch, a value other than 0/1, a non-finite score.
/// Complexity: O(n_samples · n_labels · log n_labels).
pub fn label_ranking_loss(y_true: ArrayView2<u8>, y_score: ArrayView2<f64>) -> Result<f64> {
    check::truth_score(&y_true, &y_score)?;
    let n_labels = y_true.ncols();
    let mut order: Vec<usize> = Vec::with_capacity(n_labels);
    let mut total = 0.0;
    for (t, s) in y_true.outer_iter().zip(y_score.outer_iter()) {
        let n_pos = t.iter().filter(|&&v| v == 1).count();
        if n_pos == 0 || n_pos == n_labels {
            continue;
        }
        order.clear();
        order.extend(0..n_labels);
        order.sort_by(|&a, &b| s[a].total_cmp(&s[b]));
        // Walk distinct scores upwards: every false label at this score is mis-ordered with
        // every true label at or below it.
        let mut cum_true = 0usize;
        let mut bad = 0usize;
        let mut i = 0;
        while i < n_labels {
            let v = s[order[i]];
            let (mut n_true, mut n_false) = (0usize, 0usize);
            while i < n_labels && s[order[i]] == v {
                if t[order[i]] == 1 {
                    n_true += 1;
                } else {
                    n_false += 1;
                }
                i += 1;
            }
            cum_true += n_true;
            bad += cum_true * n_false;
        }
        total += bad as f64 / ((n_labels - n_pos) * n_pos) as f64;
    }
    Ok(total / y_true.nrows() as f64)
}

/// Label ranking average precision (scikit-learn's `label_ranking_average_precision_score`).
///
/// Arguments: `y_true` 0/1 and `y_score` finite, both `(n_samples, n_labels)`.
/// Errors: empty input, shape mismatch, a value other than 0/1, a non-finite score.
/// Complexity: O(n_samples · n_labels · |Y_i|).
pub fn label_ranking_average_precision(
    y_true: ArrayView2<u8>,
    y_score: ArrayView2<f64>,
) -> Result<f64> {
    check::truth_score(&y_true, &y_score)?;
    let n_labels = y_true.ncols();
    let mut total = 0.0;
    for (t, s) in y_true.outer_iter().zip(y_score.outer_iter()) {
        let n_pos = t.iter().filter(|&&v| v == 1).count();
        if n_pos == 0 || n_pos == n_labels {
            total += 1.0;
            continue;
        }
        let mut aux = 0.0;
        for j in (0..n_labels).filter(|&j| t[j] == 1) {
            let sj = s[j];
            let (mut rank, mut l) = (0usize, 0usize);
            for k in 0..n_labels {
                if s[k] >= sj {
                    rank += 1;
                    l += t[k] as usize;
                }
            }
            aux += l as f64 / rank as f64;
        }
        total += aux / n_pos as f64;
    }
    Ok(total / y_true.nrows() as f64)
}

/// Cumulative (fps, tps) at each distinct threshold, scores in decreasing order
/// (scikit-learn's `confusion_matrix_at_thresholds`). Reuses `order` as scratch.
fn curve(y: &ArrayView1<u8>, s: &ArrayView1<f64>, order: &mut Vec<usize>) -> Vec<(f64, f64)> {
    let n = y.len();
    order.clear();
    order.extend(0..n);
    order.sort_by(|&a, &b| s[b].total_cmp(&s[a]));
    let mut points = Vec::new();
    let (mut tp, mut fp) = (0usize, 0usize);
    for (i, &idx) in order.iter().enumerate() {
        if y[idx] == 1 {
            tp += 1;
        } else {
            fp += 1;
        }
        if i + 1 == n || s[order[i + 1]] != s[idx] {
            points.push((fp as f64, tp as f64));
        }
    }
    points
}

fn check1(y: &ArrayView1<u8>, s: &ArrayView1<f64>) -> Result<()> {
    if y.is_empty() {
        return Err(crate::EvalError::Empty {
            what: "y_true column".into(),
        });
    }
    if y.len() != s.len() {
        return Err(crate::EvalError::ShapeMismatch {
            what: "y_score".into(),
            expected: vec![y.len()],
            actual: vec![s.len()],
        });
    }
    check::binary1("y_true", y)?;
    check::finite1("y_score", s)
}

fn roc_auc_unchecked(
    y: &ArrayView1<u8>,
    s: &ArrayView1<f64>,
    order: &mut Vec<usize>,
) -> Option<f64> {
    let pts = curve(y, s, order);
    let &(n_neg, n_pos) = pts.last()?;
    if n_neg == 0.0 || n_pos == 0.0 {
        return None;
    }
    let (mut area, mut px, mut py) = (0.0, 0.0, 0.0);
    for &(fp, tp) in &pts {
        let (x, yv) = (fp / n_neg, tp / n_pos);
        area += (x - px) * (yv + py) / 2.0;
        px = x;
        py = yv;
    }
    Some(area)
}

fn average_precision_unchecked(
    y: &ArrayView1<u8>,
    s: &ArrayView1<f64>,
    order: &mut Vec<usize>,
) -> Option<f64> {
    let pts = curve(y, s, order);
    let &(_, n_pos) = pts.last()?;
    if n_pos == 0.0 {
        return None;
    }
    let (mut ap, mut prev_recall) = (0.0, 0.0);
    for &(fp, tp) in &pts {
        let recall = tp / n_pos;
        let precision = if tp + fp == 0.0 { 0.0 } else { tp / (tp + fp) };
        ap += (recall - prev_recall) * precision;
        prev_recall = recall;
    }
    Some(ap.max(0.0))
}

/// Area under the ROC curve of one binary column (scikit-learn's `roc_auc_score`), or `None`
/// when the column holds one class only.
///
/// Arguments: `y_true` 0/1 and `y_score` finite, both `(n_samples,)`.
/// Errors: empty input, length mismatch, a value other than 0/1, a non-finite score.
/// Complexity: O(n log n).
///
/// ```
/// use darknet_eval::roc_auc;
/// use ndarray::array;
/// let auc = roc_auc(array![0u8, 0, 1, 1].view(), array![0.1, 0.4, 0.35, 0.8].view()).unwrap();
/// assert_eq!(auc, Some(0.75));
/// assert_eq!(roc_auc(array![1u8, 1].view(), array![0.1, 0.4].view()).unwrap(), None);
/// ```
pub fn roc_auc(y_true: ArrayView1<u8>, y_score: ArrayView1<f64>) -> Result<Option<f64>> {
    check1(&y_true, &y_score)?;
    Ok(roc_auc_unchecked(&y_true, &y_score, &mut Vec::new()))
}

/// Average precision of one binary column (scikit-learn's `average_precision_score`), or
/// `None` when the column has no positive sample.
///
/// Arguments: `y_true` 0/1 and `y_score` finite, both `(n_samples,)`.
/// Errors: empty input, length mismatch, a value other than 0/1, a non-finite score.
/// Complexity: O(n log n).
pub fn average_precision(y_true: ArrayView1<u8>, y_score: ArrayView1<f64>) -> Result<Option<f64>> {
    check1(&y_true, &y_score)?;
    Ok(average_precision_unchecked(
        &y_true,
        &y_score,
        &mut Vec::new(),
    ))
}

/// [`roc_auc`] of every label column: one entry per label, `None` where undefined.
///
/// Arguments: `y_true` 0/1 and `y_score` finite, both `(n_samples, n_labels)`.
/// Errors: as [`coverage_error`].
pub fn per_label_roc_auc(
    y_true: ArrayView2<u8>,
    y_score: ArrayView2<f64>,
) -> Result<Vec<Option<f64>>> {
    check::truth_score(&y_true, &y_score)?;
    let mut order = Vec::with_capacity(y_true.nrows());
    Ok(y_true
        .columns()
        .into_iter()
        .zip(y_score.columns())
        .map(|(t, s)| roc_auc_unchecked(&t, &s, &mut order))
        .collect())
}

/// [`average_precision`] of every label column: one entry per label, `None` where undefined.
///
/// Arguments: `y_true` 0/1 and `y_score` finite, both `(n_samples, n_labels)`.
/// Errors: as [`coverage_error`].
pub fn per_label_average_precision(
    y_true: ArrayView2<u8>,
    y_score: ArrayView2<f64>,
) -> Result<Vec<Option<f64>>> {
    check::truth_score(&y_true, &y_score)?;
    let mut order = Vec::with_capacity(y_true.nrows());
    Ok(y_true
        .columns()
        .into_iter()
        .zip(y_score.columns())
        .map(|(t, s)| average_precision_unchecked(&t, &s, &mut order))
        .collect())
}
