//! Multi-class metrics with string class names (Paper B's kNN evaluation): confusion matrix,
//! per-class precision / recall / F1 / support, macro and weighted averages, accuracy, and
//! the mean ± std of per-class F1 over days.
//!
//! Equal to scikit-learn 1.x's `confusion_matrix` and `classification_report(labels=...,
//! output_dict=True, zero_division=0)`:
//! - without `labels`, the classes are the sorted union of truth and predictions;
//! - with `labels`, per-class counts still look at every sample (a sample predicted as class
//!   c counts as a false positive of c even when its true class is not listed); a listed class
//!   absent from both truth and predictions scores 0 with support 0;
//! - macro = plain mean over the listed classes, weighted = mean weighted by support;
//! - accuracy is over all samples; scikit-learn prints it as `accuracy` only when the listed
//!   classes cover every class seen, and the micro average over the listed classes otherwise
//!   ([`ClassificationReport::micro_is_accuracy`] says which).

use crate::error::{EvalError, Result};
use crate::multilabel::{divide, nanaverage, Prf};
use crate::report::MeanStd;
use ndarray::Array2;
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// A confusion matrix: `counts[[t, p]]` = samples of true class `classes[t]` predicted as
/// `classes[p]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfusionMatrix {
    /// Class names, rows and columns in this order.
    pub classes: Vec<String>,
    /// Counts `(n_classes, n_classes)`, rows = truth, columns = prediction.
    pub counts: Array2<usize>,
}

fn check_pair<S: AsRef<str>>(y_true: &[S], y_pred: &[S]) -> Result<()> {
    if y_true.is_empty() {
        return Err(EvalError::Empty {
            what: "y_true".into(),
        });
    }
    if y_true.len() != y_pred.len() {
        return Err(EvalError::ShapeMismatch {
            what: "y_pred".into(),
            expected: vec![y_true.len()],
            actual: vec![y_pred.len()],
        });
    }
    Ok(())
}

fn class_list<S: AsRef<str>>(
    y_true: &[S],
    y_pred: &[S],
    labels: Option<&[S]>,
) -> Result<Vec<String>> {
    match labels {
        Some(l) => {
            if l.is_empty() {
                return Err(EvalError::Empty {
                    what: "labels".into(),
                });
            }
            let v: Vec<String> = l.iter().map(|s| s.as_ref().to_string()).collect();
            let mut sorted = v.clone();
            sorted.sort();
            if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
                return Err(EvalError::InvalidParameter {
                    name: "labels".into(),
                    value: w[0].clone(),
                    reason: "class names must be distinct".into(),
                });
            }
            Ok(v)
        }
        None => {
            let mut v: Vec<String> = y_true
                .iter()
                .chain(y_pred)
                .map(|s| s.as_ref().to_string())
                .collect();
            v.sort();
            v.dedup();
            Ok(v)
        }
    }
}

/// Confusion matrix (scikit-learn's `confusion_matrix`): samples whose true or predicted
/// class is not in the class list are left out.
///
/// Arguments: `y_true`, `y_pred` one class name per sample; `labels` the classes in order
/// (`None`: sorted union of both).
/// Errors: empty input, length mismatch, empty or repeated `labels`.
pub fn confusion_matrix<S: AsRef<str>>(
    y_true: &[S],
    y_pred: &[S],
    labels: Option<&[S]>,
) -> Result<ConfusionMatrix> {
    check_pair(y_true, y_pred)?;
    let classes = class_list(y_true, y_pred, labels)?;
    let index: BTreeMap<&str, usize> = classes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();
    let mut counts = Array2::<usize>::zeros((classes.len(), classes.len()));
    for (t, p) in y_true.iter().zip(y_pred) {
        if let (Some(&ti), Some(&pi)) = (index.get(t.as_ref()), index.get(p.as_ref())) {
            counts[[ti, pi]] += 1;
        }
    }
    Ok(ConfusionMatrix { classes, counts })
}

/// Precision, recall, F1 and support of one class.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ClassScores {
    /// tp / (tp + fp).
    pub precision: f64,
    /// tp / (tp + fn).
    pub recall: f64,
    /// 2 tp / (2 tp + fp + fn) (scikit-learn's key `f1-score`).
    #[serde(rename = "f1-score")]
    pub f1: f64,
    /// Number of samples of the class.
    pub support: usize,
}

/// scikit-learn's `classification_report` as a value.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassificationReport {
    /// Per class, in class-list order.
    pub per_class: Vec<(String, ClassScores)>,
    /// Share of all samples predicted correctly.
    pub accuracy: f64,
    /// Micro average over the listed classes (equals accuracy when they cover every class).
    pub micro: Prf,
    /// Plain mean over the listed classes.
    pub macro_avg: Prf,
    /// Support-weighted mean over the listed classes.
    pub weighted: Prf,
    /// Sum of the listed classes' supports.
    pub support: usize,
    /// Number of samples.
    pub n_samples: usize,
    /// True when the listed classes include every class in truth and predictions (then
    /// scikit-learn reports `accuracy`, else `micro avg`).
    pub micro_is_accuracy: bool,
}

/// Per-class and averaged scores (scikit-learn's `classification_report(..., labels,
/// zero_division=0)`).
///
/// Arguments: `y_true`, `y_pred` one class name per sample; `labels` the classes to report
/// (`None`: sorted union of both).
/// Errors: empty input, length mismatch, empty or repeated `labels`.
///
/// ```
/// use darknet_eval::classification_report;
/// let t = ["mirai", "mirai", "censys", "shodan"];
/// let p = ["mirai", "censys", "censys", "unknown"];
/// let r = classification_report(&t, &p, Some(&["censys", "mirai", "shodan"])).unwrap();
/// assert_eq!(r.per_class[1].1.f1, 2.0 / 3.0); // mirai: tp 1, fn 1
/// assert_eq!(r.accuracy, 0.5);
/// assert!(!r.micro_is_accuracy); // "unknown" was predicted but is not listed
/// ```
pub fn classification_report<S: AsRef<str>>(
    y_true: &[S],
    y_pred: &[S],
    labels: Option<&[S]>,
) -> Result<ClassificationReport> {
    check_pair(y_true, y_pred)?;
    let classes = class_list(y_true, y_pred, labels)?;
    let index: BTreeMap<&str, usize> = classes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();
    let n_c = classes.len();
    let (mut tp, mut pred_sum, mut true_sum) =
        (vec![0usize; n_c], vec![0usize; n_c], vec![0usize; n_c]);
    let mut correct = 0usize;
    let mut all_listed = true;
    for (t, p) in y_true.iter().zip(y_pred) {
        let (t, p) = (t.as_ref(), p.as_ref());
        correct += usize::from(t == p);
        let ti = index.get(t).copied();
        let pi = index.get(p).copied();
        all_listed &= ti.is_some() && pi.is_some();
        if let Some(i) = ti {
            true_sum[i] += 1;
            if t == p {
                tp[i] += 1;
            }
        }
        if let Some(i) = pi {
            pred_sum[i] += 1;
        }
    }
    let per_class: Vec<(String, ClassScores)> = classes
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let (tpf, ps, ts) = (tp[i] as f64, pred_sum[i] as f64, true_sum[i] as f64);
            (
                c.clone(),
                ClassScores {
                    precision: divide(tpf, ps, 0.0),
                    recall: divide(tpf, ts, 0.0),
                    f1: divide(2.0 * tpf, ps + ts, 0.0),
                    support: true_sum[i],
                },
            )
        })
        .collect();
    let avg = |w: Option<&[f64]>| {
        let p: Vec<f64> = per_class.iter().map(|(_, s)| s.precision).collect();
        let r: Vec<f64> = per_class.iter().map(|(_, s)| s.recall).collect();
        let f: Vec<f64> = per_class.iter().map(|(_, s)| s.f1).collect();
        Prf {
            precision: nanaverage(&p, w),
            recall: nanaverage(&r, w),
            f1: nanaverage(&f, w),
        }
    };
    let weights: Vec<f64> = true_sum.iter().map(|&v| v as f64).collect();
    let (tp_all, ps_all, ts_all) = (
        tp.iter().sum::<usize>() as f64,
        pred_sum.iter().sum::<usize>() as f64,
        true_sum.iter().sum::<usize>() as f64,
    );
    Ok(ClassificationReport {
        accuracy: correct as f64 / y_true.len() as f64,
        micro: Prf {
            precision: divide(tp_all, ps_all, 0.0),
            recall: divide(tp_all, ts_all, 0.0),
            f1: divide(2.0 * tp_all, ps_all + ts_all, 0.0),
        },
        macro_avg: avg(None),
        weighted: avg(Some(&weights)),
        support: true_sum.iter().sum(),
        n_samples: y_true.len(),
        micro_is_accuracy: all_listed,
        per_class,
    })
}

#[derive(Serialize)]
struct AvgEntry {
    precision: f64,
    recall: f64,
    #[serde(rename = "f1-score")]
    f1: f64,
    support: usize,
}

impl Serialize for ClassificationReport {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        for (c, v) in &self.per_class {
            m.serialize_entry(c, v)?;
        }
        let entry = |p: &Prf| AvgEntry {
            precision: p.precision,
            recall: p.recall,
            f1: p.f1,
            support: self.support,
        };
        if self.micro_is_accuracy {
            m.serialize_entry("accuracy", &self.accuracy)?;
        } else {
            m.serialize_entry("micro avg", &entry(&self.micro))?;
        }
        m.serialize_entry("macro avg", &entry(&self.macro_avg))?;
        m.serialize_entry("weighted avg", &entry(&self.weighted))?;
        m.end()
    }
}

impl ClassificationReport {
    /// JSON in the layout of scikit-learn's `classification_report(output_dict=True)`: one
    /// entry per class `{precision, recall, f1-score, support}`, then `accuracy` (or
    /// `micro avg`), `macro avg`, `weighted avg`.
    pub fn to_json(&self) -> String {
        // Cannot fail: string keys, numeric values.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Markdown table: one row per class, then the averages and accuracy.
    pub fn to_markdown(&self) -> String {
        let mut out = String::from(
            "| class | precision | recall | f1-score | support |\n|---|---|---|---|---|\n",
        );
        for (c, v) in &self.per_class {
            let _ = writeln!(
                out,
                "| {} | {:.4} | {:.4} | {:.4} | {} |",
                c.replace('|', "\\|"),
                v.precision,
                v.recall,
                v.f1,
                v.support
            );
        }
        let _ = writeln!(
            out,
            "| **accuracy** | | | {:.4} | {} |",
            self.accuracy, self.n_samples
        );
        for (name, p) in [
            ("micro avg", &self.micro),
            ("macro avg", &self.macro_avg),
            ("weighted avg", &self.weighted),
        ] {
            let _ = writeln!(
                out,
                "| **{name}** | {:.4} | {:.4} | {:.4} | {} |",
                p.precision, p.recall, p.f1, self.support
            );
        }
        out
    }
}

/// Per-class F1 over several days, as Paper B reports (docs/paper-b.md#knn-protocol): for each
/// class, the mean and sample std (n − 1) of its F1 over the days where it was reported (absent
/// days are skipped, like pandas skips NaN), and its support summed over those days; the same for
/// the macro F1.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DailyF1 {
    /// Per class (sorted by name): F1 mean ± std over days, and the summed support.
    pub per_class: Vec<(String, MeanStd, usize)>,
    /// Macro F1 mean ± std over days.
    pub macro_f1: MeanStd,
    /// Number of days.
    pub n_days: usize,
}

/// Aggregates daily [`ClassificationReport`]s into [`DailyF1`].
///
/// Errors: no day.
pub fn aggregate_days(days: &[ClassificationReport]) -> Result<DailyF1> {
    if days.is_empty() {
        return Err(EvalError::Empty {
            what: "days to aggregate".into(),
        });
    }
    let mut by_class: BTreeMap<&str, (Vec<Option<f64>>, usize)> = BTreeMap::new();
    for d in days {
        for (c, s) in &d.per_class {
            let e = by_class.entry(c.as_str()).or_default();
            e.0.push(Some(s.f1));
            e.1 += s.support;
        }
    }
    Ok(DailyF1 {
        per_class: by_class
            .into_iter()
            .map(|(c, (f, sup))| (c.to_string(), MeanStd::of(f), sup))
            .collect(),
        macro_f1: MeanStd::of(days.iter().map(|d| Some(d.macro_avg.f1))),
        n_days: days.len(),
    })
}

impl DailyF1 {
    /// Markdown table `class | support | F1 mean ± std`, then the macro row.
    pub fn to_markdown(&self) -> String {
        let mut out = String::from("| class | support | f1 (mean ± std) |\n|---|---|---|\n");
        let ms = |m: &MeanStd| match (m.mean, m.std) {
            (Some(a), Some(b)) => format!("{a:.2} ± {b:.2}"),
            _ => "n/a".into(),
        };
        let mut total = 0;
        for (c, m, sup) in &self.per_class {
            total += sup;
            let _ = writeln!(out, "| {} | {sup} | {} |", c.replace('|', "\\|"), ms(m));
        }
        let _ = writeln!(out, "| **macro avg** | {total} | {} |", ms(&self.macro_f1));
        out
    }
}
