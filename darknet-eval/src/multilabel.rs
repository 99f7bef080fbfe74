//! Set-based multi-label metrics: precision, recall, F1 (samples / micro / macro / weighted /
//! per label), Hamming loss, subset accuracy and Jaccard (samples).
//!
//! Inputs are 0/1 matrices of shape `(n_samples, n_labels)`: `y_true` the truth, `y_pred` the
//! predicted label sets (see [`crate::threshold::binarize`] to get them from scores). Every
//! figure equals scikit-learn 1.x's `precision_recall_fscore_support`, `hamming_loss`,
//! `accuracy_score` and `jaccard_score` on the same arrays, with `zero_division = 0` unless the
//! `_with` variant is given another value (`f64::NAN` reproduces `zero_division=np.nan`: the
//! undefined terms are left out of the averages).
//!
//! Formulas (docs/paper-a.md#metrics; `Y_i` true set, `Ŷ_i` predicted set):
//! - samples: P = mean_i |Y_i∩Ŷ_i|/|Ŷ_i|, R = mean_i |Y_i∩Ŷ_i|/|Y_i|,
//!   F1 = mean_i 2|Y_i∩Ŷ_i|/(|Y_i|+|Ŷ_i|) (the mean of per-sample F1, not the harmonic mean of
//!   P and R); a 0/0 term is `zero_division`.
//! - per label: tp / (tp + fp), tp / (tp + fn), 2tp / (2tp + fp + fn) on each column.
//! - micro: the same on the counts summed over labels; macro: the plain mean of per-label
//!   values; weighted: the mean weighted by support (plain mean when every support is 0, as
//!   scikit-learn).

use crate::check;
use crate::error::Result;
use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

/// How per-label or per-sample scores are averaged (scikit-learn's `average=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Average {
    /// Mean over samples of the per-sample score.
    Samples,
    /// Score of the counts summed over all labels.
    Micro,
    /// Unweighted mean over labels.
    Macro,
    /// Mean over labels weighted by support (number of true samples).
    Weighted,
}

impl Average {
    /// All four averages, in the order of scikit-learn's report keys.
    pub const ALL: [Average; 4] = [
        Average::Samples,
        Average::Micro,
        Average::Macro,
        Average::Weighted,
    ];

    /// scikit-learn's name for this average (`"samples"`, `"micro"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Average::Samples => "samples",
            Average::Micro => "micro",
            Average::Macro => "macro",
            Average::Weighted => "weighted",
        }
    }
}

/// Precision, recall and F1 of one average.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Prf {
    /// Precision.
    pub precision: f64,
    /// Recall.
    pub recall: f64,
    /// F1 score.
    pub f1: f64,
}

/// Precision, recall, F1 and support of one label (one column).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LabelPrf {
    /// tp / (tp + fp).
    pub precision: f64,
    /// tp / (tp + fn).
    pub recall: f64,
    /// 2 tp / (2 tp + fp + fn).
    pub f1: f64,
    /// Number of samples whose true set holds the label (scikit-learn's `support`).
    pub support: usize,
}

/// Confusion counts of one label column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Counts {
    pub tp: usize,
    pub fp: usize,
    pub fn_: usize,
}

/// `num / den`, or `zero_division` when `den == 0`.
pub(crate) fn divide(num: f64, den: f64, zero_division: f64) -> f64 {
    if den == 0.0 {
        zero_division
    } else {
        num / den
    }
}

/// scikit-learn's `_nanaverage`: weighted mean ignoring NaN entries; NaN when all are NaN; a
/// plain mean when the remaining weights sum to 0.
pub(crate) fn nanaverage(values: &[f64], weights: Option<&[f64]>) -> f64 {
    let mut sum = 0.0;
    let mut wsum = 0.0;
    let mut plain = 0.0;
    let mut n = 0usize;
    for (i, &v) in values.iter().enumerate() {
        if v.is_nan() {
            continue;
        }
        let w = weights.map_or(1.0, |w| w[i]);
        sum += w * v;
        wsum += w;
        plain += v;
        n += 1;
    }
    if n == 0 {
        f64::NAN
    } else if wsum == 0.0 {
        plain / n as f64
    } else {
        sum / wsum
    }
}

/// Per-label confusion counts of a validated pair.
pub(crate) fn label_counts(y_true: &ArrayView2<u8>, y_pred: &ArrayView2<u8>) -> Vec<Counts> {
    let mut counts = vec![Counts::default(); y_true.ncols()];
    for (t_row, p_row) in y_true.outer_iter().zip(y_pred.outer_iter()) {
        for (j, (&t, &p)) in t_row.iter().zip(p_row.iter()).enumerate() {
            let c = &mut counts[j];
            match (t, p) {
                (1, 1) => c.tp += 1,
                (0, 1) => c.fp += 1,
                (1, 0) => c.fn_ += 1,
                _ => {}
            }
        }
    }
    counts
}

fn prf_of(c: Counts, zero_division: f64) -> LabelPrf {
    let (tp, fp, fn_) = (c.tp as f64, c.fp as f64, c.fn_ as f64);
    LabelPrf {
        precision: divide(tp, tp + fp, zero_division),
        recall: divide(tp, tp + fn_, zero_division),
        f1: divide(2.0 * tp, 2.0 * tp + fp + fn_, zero_division),
        support: c.tp + c.fn_,
    }
}

/// Per-label precision, recall, F1 and support (scikit-learn's `average=None`), with
/// `zero_division = 0`.
///
/// Arguments: `y_true`, `y_pred` 0/1 of shape `(n_samples, n_labels)`.
/// Returns one [`LabelPrf`] per label column, in column order.
/// Errors: empty input, shape mismatch, a value other than 0/1.
pub fn per_label_precision_recall_f1(
    y_true: ArrayView2<u8>,
    y_pred: ArrayView2<u8>,
) -> Result<Vec<LabelPrf>> {
    per_label_precision_recall_f1_zero_division(y_true, y_pred, 0.0)
}

/// [`per_label_precision_recall_f1`] with an explicit `zero_division` value for 0/0 terms.
pub fn per_label_precision_recall_f1_zero_division(
    y_true: ArrayView2<u8>,
    y_pred: ArrayView2<u8>,
    zero_division: f64,
) -> Result<Vec<LabelPrf>> {
    check::truth_pred(&y_true, &y_pred)?;
    Ok(label_counts(&y_true, &y_pred)
        .into_iter()
        .map(|c| prf_of(c, zero_division))
        .collect())
}

/// Averaged precision, recall and F1 (scikit-learn's `precision_recall_fscore_support` with
/// `average=...`), with `zero_division = 0`.
///
/// Arguments: `y_true`, `y_pred` 0/1 of shape `(n_samples, n_labels)`; the average.
/// Errors: empty input, shape mismatch, a value other than 0/1.
///
/// ```
/// use darknet_eval::{precision_recall_f1, Average};
/// use ndarray::array;
/// let y_true = array![[1u8, 0, 1], [0, 1, 0]];
/// let y_pred = array![[1u8, 1, 0], [0, 1, 0]];
/// let s = precision_recall_f1(y_true.view(), y_pred.view(), Average::Samples).unwrap();
/// // sample 0: P = 1/2, R = 1/2, F1 = 2/4; sample 1: all 1.
/// assert!((s.precision - 0.75).abs() < 1e-12 && (s.f1 - 0.75).abs() < 1e-12);
/// let m = precision_recall_f1(y_true.view(), y_pred.view(), Average::Micro).unwrap();
/// assert!((m.precision - 2.0 / 3.0).abs() < 1e-12);
/// ```
pub fn precision_recall_f1(
    y_true: ArrayView2<u8>,
    y_pred: ArrayView2<u8>,
    average: Average,
) -> Result<Prf> {
    precision_recall_f1_zero_division(y_true, y_pred, average, 0.0)
}

/// [`precision_recall_f1`] with an explicit `zero_division` value for 0/0 terms (`f64::NAN`
/// leaves undefined terms out of the averages, as scikit-learn's `zero_division=np.nan`).
pub fn precision_recall_f1_zero_division(
    y_true: ArrayView2<u8>,
    y_pred: ArrayView2<u8>,
    average: Average,
    zero_division: f64,
) -> Result<Prf> {
    check::truth_pred(&y_true, &y_pred)?;
    Ok(prf_unchecked(&y_true, &y_pred, average, zero_division))
}

/// The averaged scores of an already validated pair.
pub(crate) fn prf_unchecked(
    y_true: &ArrayView2<u8>,
    y_pred: &ArrayView2<u8>,
    average: Average,
    zero_division: f64,
) -> Prf {
    match average {
        Average::Samples => {
            let n = y_true.nrows();
            let (mut p, mut r, mut f) = (
                Vec::with_capacity(n),
                Vec::with_capacity(n),
                Vec::with_capacity(n),
            );
            for (t_row, p_row) in y_true.outer_iter().zip(y_pred.outer_iter()) {
                let (mut inter, mut nt, mut np) = (0usize, 0usize, 0usize);
                for (&t, &q) in t_row.iter().zip(p_row.iter()) {
                    inter += (t & q) as usize;
                    nt += t as usize;
                    np += q as usize;
                }
                let (inter, nt, np) = (inter as f64, nt as f64, np as f64);
                p.push(divide(inter, np, zero_division));
                r.push(divide(inter, nt, zero_division));
                f.push(divide(2.0 * inter, nt + np, zero_division));
            }
            Prf {
                precision: nanaverage(&p, None),
                recall: nanaverage(&r, None),
                f1: nanaverage(&f, None),
            }
        }
        Average::Micro => {
            let mut total = Counts::default();
            for c in label_counts(y_true, y_pred) {
                total.tp += c.tp;
                total.fp += c.fp;
                total.fn_ += c.fn_;
            }
            let l = prf_of(total, zero_division);
            Prf {
                precision: l.precision,
                recall: l.recall,
                f1: l.f1,
            }
        }
        Average::Macro | Average::Weighted => {
            let per: Vec<LabelPrf> = label_counts(y_true, y_pred)
                .into_iter()
                .map(|c| prf_of(c, zero_division))
                .collect();
            let w: Vec<f64> = per.iter().map(|l| l.support as f64).collect();
            let weights = (average == Average::Weighted).then_some(w.as_slice());
            let p: Vec<f64> = per.iter().map(|l| l.precision).collect();
            let r: Vec<f64> = per.iter().map(|l| l.recall).collect();
            let f: Vec<f64> = per.iter().map(|l| l.f1).collect();
            Prf {
                precision: nanaverage(&p, weights),
                recall: nanaverage(&r, weights),
                f1: nanaverage(&f, weights),
            }
        }
    }
}

/// Hamming loss: the share of (sample, label) entries where prediction and truth differ
/// (scikit-learn's `hamming_loss`).
///
/// Arguments: `y_true`, `y_pred` 0/1 of shape `(n_samples, n_labels)`.
/// Errors: empty input, shape mismatch, a value other than 0/1.
pub fn hamming_loss(y_true: ArrayView2<u8>, y_pred: ArrayView2<u8>) -> Result<f64> {
    check::truth_pred(&y_true, &y_pred)?;
    let wrong = y_true
        .iter()
        .zip(y_pred.iter())
        .filter(|(t, p)| t != p)
        .count();
    Ok(wrong as f64 / y_true.len() as f64)
}

/// Subset accuracy: the share of samples whose predicted set equals the true set exactly
/// (scikit-learn's `accuracy_score` on multi-label input).
///
/// Arguments: `y_true`, `y_pred` 0/1 of shape `(n_samples, n_labels)`.
/// Errors: empty input, shape mismatch, a value other than 0/1.
pub fn subset_accuracy(y_true: ArrayView2<u8>, y_pred: ArrayView2<u8>) -> Result<f64> {
    check::truth_pred(&y_true, &y_pred)?;
    let exact = y_true
        .outer_iter()
        .zip(y_pred.outer_iter())
        .filter(|(t, p)| t == p)
        .count();
    Ok(exact as f64 / y_true.nrows() as f64)
}

/// Jaccard score averaged over samples: mean_i |Y_i∩Ŷ_i| / |Y_i∪Ŷ_i|, a 0/0 term (both sets
/// empty) counting 0 (scikit-learn's `jaccard_score(average="samples")`).
///
/// Arguments: `y_true`, `y_pred` 0/1 of shape `(n_samples, n_labels)`.
/// Errors: empty input, shape mismatch, a value other than 0/1.
pub fn jaccard_samples(y_true: ArrayView2<u8>, y_pred: ArrayView2<u8>) -> Result<f64> {
    check::truth_pred(&y_true, &y_pred)?;
    let mut sum = 0.0;
    for (t_row, p_row) in y_true.outer_iter().zip(y_pred.outer_iter()) {
        let (mut inter, mut union) = (0usize, 0usize);
        for (&t, &p) in t_row.iter().zip(p_row.iter()) {
            inter += (t & p) as usize;
            union += (t | p) as usize;
        }
        sum += divide(inter as f64, union as f64, 0.0);
    }
    Ok(sum / y_true.nrows() as f64)
}

/// Mean number of true labels per sample, `mean_i |Y_i|` (the best possible coverage error).
///
/// Arguments: `y_true` 0/1 of shape `(n_samples, n_labels)`.
/// Errors: empty input, a value other than 0/1.
pub fn label_cardinality(y_true: ArrayView2<u8>) -> Result<f64> {
    check::non_empty2("y_true", &y_true)?;
    check::binary("y_true", &y_true)?;
    let total: usize = y_true.iter().map(|&v| v as usize).sum();
    Ok(total as f64 / y_true.nrows() as f64)
}
