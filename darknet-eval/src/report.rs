//! Multi-label reports: every metric of the crate on one (truth, scores) pair, rendered to JSON
//! (scikit-learn's key names), CSV and a Markdown table; and the mean ± std of several reports
//! (Paper A's 5 partitions).
//!
//! JSON layout (keys in this order):
//! `n_samples, threshold, precision_samples, recall_samples, f1_samples, precision_micro,
//! recall_micro, f1_micro, precision_macro, recall_macro, f1_macro, precision_weighted,
//! recall_weighted, f1_weighted, hamming_loss, subset_accuracy, jaccard_samples,
//! coverage_error, label_ranking_loss, label_ranking_average_precision, per_label`, where
//! `per_label` maps each label name (in label order) to
//! `{precision, recall, f1, support, roc_auc, average_precision}`; an undefined ROC AUC or
//! average precision is `null`. In the aggregate every number becomes `{"mean": m, "std": s}`.

use crate::error::{EvalError, Result};
use crate::multilabel::{self, Average};
use crate::ranking;
use crate::threshold;
use ndarray::ArrayView2;
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// Names of the scalar metrics of a report, in JSON order (scikit-learn's names).
pub const SCALAR_KEYS: [&str; 18] = [
    "precision_samples",
    "recall_samples",
    "f1_samples",
    "precision_micro",
    "recall_micro",
    "f1_micro",
    "precision_macro",
    "recall_macro",
    "f1_macro",
    "precision_weighted",
    "recall_weighted",
    "f1_weighted",
    "hamming_loss",
    "subset_accuracy",
    "jaccard_samples",
    "coverage_error",
    "label_ranking_loss",
    "label_ranking_average_precision",
];

/// Names of the per-label fields, in JSON order.
pub const LABEL_KEYS: [&str; 6] = [
    "precision",
    "recall",
    "f1",
    "support",
    "roc_auc",
    "average_precision",
];

/// Metrics of one label in a [`MultiLabelReport`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LabelReport {
    /// Binary precision of the label column at the report's threshold.
    pub precision: f64,
    /// Binary recall.
    pub recall: f64,
    /// Binary F1.
    pub f1: f64,
    /// Number of samples carrying the label (scikit-learn's support).
    pub support: usize,
    /// ROC AUC of the label's scores; `None` when the column holds one class only.
    pub roc_auc: Option<f64>,
    /// Average precision of the label's scores; `None` when the column has no positive.
    pub average_precision: Option<f64>,
}

impl LabelReport {
    /// The fields in [`LABEL_KEYS`] order (support as f64).
    pub fn values(&self) -> [Option<f64>; 6] {
        [
            Some(self.precision),
            Some(self.recall),
            Some(self.f1),
            Some(self.support as f64),
            self.roc_auc,
            self.average_precision,
        ]
    }
}

/// Every multi-label metric of one evaluation: scores thresholded at `threshold` for the
/// set-based metrics, raw scores for the ranking ones. Serialises to (and reads back from)
/// the JSON layout of the module doc.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MultiLabelReport {
    /// Number of samples evaluated.
    pub n_samples: usize,
    /// The global threshold τ (label predicted when score > τ).
    pub threshold: f64,
    /// Sample-averaged precision.
    pub precision_samples: f64,
    /// Sample-averaged recall.
    pub recall_samples: f64,
    /// Sample-averaged F1 (mean of per-sample F1).
    pub f1_samples: f64,
    /// Micro precision.
    pub precision_micro: f64,
    /// Micro recall.
    pub recall_micro: f64,
    /// Micro F1.
    pub f1_micro: f64,
    /// Macro precision.
    pub precision_macro: f64,
    /// Macro recall.
    pub recall_macro: f64,
    /// Macro F1.
    pub f1_macro: f64,
    /// Support-weighted precision.
    pub precision_weighted: f64,
    /// Support-weighted recall.
    pub recall_weighted: f64,
    /// Support-weighted F1.
    pub f1_weighted: f64,
    /// Hamming loss.
    pub hamming_loss: f64,
    /// Subset accuracy (exact match ratio).
    pub subset_accuracy: f64,
    /// Jaccard score averaged over samples.
    pub jaccard_samples: f64,
    /// Coverage error.
    pub coverage_error: f64,
    /// Label ranking loss.
    pub label_ranking_loss: f64,
    /// Label ranking average precision.
    pub label_ranking_average_precision: f64,
    /// Per-label metrics, in label order, keyed by label name.
    pub per_label: PerLabel,
}

/// Per-label entries of a report, kept in label order; serialises as a JSON object
/// `{label -> {...}}` whose keys follow that order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PerLabel(pub Vec<(String, LabelReport)>);

impl<'de> Deserialize<'de> for PerLabel {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = PerLabel;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map from label name to its metrics")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<PerLabel, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, LabelReport>()? {
                    out.push((k, v));
                }
                Ok(PerLabel(out))
            }
        }
        d.deserialize_map(Visit)
    }
}

impl Serialize for PerLabel {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

fn check_names(names: &[String], n_labels: usize) -> Result<()> {
    if names.len() != n_labels {
        return Err(EvalError::ShapeMismatch {
            what: "label_names".into(),
            expected: vec![n_labels],
            actual: vec![names.len()],
        });
    }
    let mut sorted: Vec<&String> = names.iter().collect();
    sorted.sort();
    if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
        return Err(EvalError::InvalidParameter {
            name: "label_names".into(),
            value: w[0].clone(),
            reason: "label names must be distinct".into(),
        });
    }
    Ok(())
}

impl MultiLabelReport {
    /// Computes every metric from scores.
    ///
    /// Arguments: `label_names` (n_labels distinct names, in column order); `y_true` 0/1 and
    /// `y_score` finite, both `(n_samples, n_labels)` (0/1 predictions are valid scores);
    /// `threshold` τ for the set-based metrics (predict when score > τ).
    /// Errors: empty input, shape mismatch, wrong number of or repeated names, non-binary
    /// truth, non-finite score, NaN threshold.
    pub fn from_scores(
        label_names: &[String],
        y_true: ArrayView2<u8>,
        y_score: ArrayView2<f64>,
        threshold: f64,
    ) -> Result<Self> {
        crate::check::truth_score(&y_true, &y_score)?;
        check_names(label_names, y_true.ncols())?;
        let y_pred = threshold::binarize(y_score, threshold)?;
        let yp = y_pred.view();
        let p = |a| multilabel::prf_unchecked(&y_true, &yp, a, 0.0);
        let (s, mi, ma, w) = (
            p(Average::Samples),
            p(Average::Micro),
            p(Average::Macro),
            p(Average::Weighted),
        );
        let per = multilabel::per_label_precision_recall_f1(y_true, yp)?;
        let auc = ranking::per_label_roc_auc(y_true, y_score)?;
        let ap = ranking::per_label_average_precision(y_true, y_score)?;
        let per_label = PerLabel(
            label_names
                .iter()
                .zip(per)
                .zip(auc.into_iter().zip(ap))
                .map(|((name, l), (roc_auc, average_precision))| {
                    (
                        name.clone(),
                        LabelReport {
                            precision: l.precision,
                            recall: l.recall,
                            f1: l.f1,
                            support: l.support,
                            roc_auc,
                            average_precision,
                        },
                    )
                })
                .collect(),
        );
        Ok(MultiLabelReport {
            n_samples: y_true.nrows(),
            threshold,
            precision_samples: s.precision,
            recall_samples: s.recall,
            f1_samples: s.f1,
            precision_micro: mi.precision,
            recall_micro: mi.recall,
            f1_micro: mi.f1,
            precision_macro: ma.precision,
            recall_macro: ma.recall,
            f1_macro: ma.f1,
            precision_weighted: w.precision,
            recall_weighted: w.recall,
            f1_weighted: w.f1,
            hamming_loss: multilabel::hamming_loss(y_true, yp)?,
            subset_accuracy: multilabel::subset_accuracy(y_true, yp)?,
            jaccard_samples: multilabel::jaccard_samples(y_true, yp)?,
            coverage_error: ranking::coverage_error(y_true, y_score)?,
            label_ranking_loss: ranking::label_ranking_loss(y_true, y_score)?,
            label_ranking_average_precision: ranking::label_ranking_average_precision(
                y_true, y_score,
            )?,
            per_label,
        })
    }

    /// The scalar metrics in [`SCALAR_KEYS`] order.
    pub fn scalars(&self) -> [f64; 18] {
        [
            self.precision_samples,
            self.recall_samples,
            self.f1_samples,
            self.precision_micro,
            self.recall_micro,
            self.f1_micro,
            self.precision_macro,
            self.recall_macro,
            self.f1_macro,
            self.precision_weighted,
            self.recall_weighted,
            self.f1_weighted,
            self.hamming_loss,
            self.subset_accuracy,
            self.jaccard_samples,
            self.coverage_error,
            self.label_ranking_loss,
            self.label_ranking_average_precision,
        ]
    }

    /// Pretty-printed JSON with scikit-learn's key names (see the module doc).
    pub fn to_json(&self) -> String {
        // Cannot fail: every map key is a string and every value a number, null or string.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Long-format CSV: header `label,metric,value`; the scalar metrics first with an empty
    /// label, then one row per (label, field); an undefined value is an empty cell.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("label,metric,value\n");
        for (k, v) in SCALAR_KEYS.iter().zip(self.scalars()) {
            let _ = writeln!(out, ",{k},{}", fmt_csv(Some(v)));
        }
        for (name, l) in &self.per_label.0 {
            for (k, v) in LABEL_KEYS.iter().zip(l.values()) {
                let _ = writeln!(out, "{},{k},{}", csv_field(name), fmt_csv(v));
            }
        }
        out
    }

    /// Markdown: a per-label table (precision, recall, F1, support and its share of the
    /// samples, ROC AUC, average precision) with the four averages as extra rows (support =
    /// total number of true labels, as scikit-learn's report), then a table of the
    /// sample-level metrics. Figures with 4 decimals; undefined values as `n/a`.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let n = self.n_samples as f64;
        out.push_str("| label | precision | recall | f1 | support | support % | roc_auc | average_precision |\n");
        out.push_str("|---|---|---|---|---|---|---|---|\n");
        for (name, l) in &self.per_label.0 {
            let _ = writeln!(
                out,
                "| {} | {:.4} | {:.4} | {:.4} | {} | {:.1} % | {} | {} |",
                md_escape(name),
                l.precision,
                l.recall,
                l.f1,
                l.support,
                100.0 * l.support as f64 / n,
                fmt_opt(l.roc_auc),
                fmt_opt(l.average_precision)
            );
        }
        let avgs = [
            (
                "samples avg",
                self.precision_samples,
                self.recall_samples,
                self.f1_samples,
            ),
            (
                "micro avg",
                self.precision_micro,
                self.recall_micro,
                self.f1_micro,
            ),
            (
                "macro avg",
                self.precision_macro,
                self.recall_macro,
                self.f1_macro,
            ),
            (
                "weighted avg",
                self.precision_weighted,
                self.recall_weighted,
                self.f1_weighted,
            ),
        ];
        let total_support: usize = self.per_label.0.iter().map(|(_, l)| l.support).sum();
        for (name, p, r, f) in avgs {
            let _ = writeln!(
                out,
                "| **{name}** | {p:.4} | {r:.4} | {f:.4} | {total_support} | | | |"
            );
        }
        out.push('\n');
        out.push_str("| metric | value |\n|---|---|\n");
        let _ = writeln!(out, "| threshold | {} |", self.threshold);
        for (k, v) in SCALAR_KEYS.iter().zip(self.scalars()).skip(12) {
            let _ = writeln!(out, "| {k} | {v:.4} |");
        }
        out
    }
}

fn fmt_opt(v: Option<f64>) -> String {
    match v {
        Some(x) if x.is_finite() => format!("{x:.4}"),
        _ => "n/a".into(),
    }
}

fn fmt_csv(v: Option<f64>) -> String {
    match v {
        Some(x) if x.is_finite() => format!("{x}"),
        _ => String::new(),
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|")
}

/// Mean and sample standard deviation (n − 1; 0 for a single value) of one figure over
/// several reports; `None` entries (undefined values) are skipped, and both are `None` when
/// no report defines the figure.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MeanStd {
    /// Mean over the reports that define the figure.
    pub mean: Option<f64>,
    /// Sample standard deviation (n − 1); 0 for one value.
    pub std: Option<f64>,
    /// How many reports defined the figure.
    pub n: usize,
}

impl MeanStd {
    /// Mean and sample std of the defined (non-`None`, non-NaN) values.
    pub fn of(values: impl IntoIterator<Item = Option<f64>>) -> Self {
        let v: Vec<f64> = values
            .into_iter()
            .flatten()
            .filter(|x| !x.is_nan())
            .collect();
        if v.is_empty() {
            return MeanStd {
                mean: None,
                std: None,
                n: 0,
            };
        }
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let std = if v.len() < 2 {
            0.0
        } else {
            (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
        };
        MeanStd {
            mean: Some(mean),
            std: Some(std),
            n: v.len(),
        }
    }

    fn md(&self) -> String {
        match (self.mean, self.std) {
            (Some(m), Some(s)) => format!("{m:.4} ± {s:.4}"),
            _ => "n/a".into(),
        }
    }
}

/// Mean ± std over several [`MultiLabelReport`]s of the same labels (Paper A's 5 partitions),
/// rendering the same keys with `{"mean", "std", "n"}` values.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateReport {
    /// Number of reports aggregated.
    pub n_reports: usize,
    /// Aggregates of the scalar metrics, in [`SCALAR_KEYS`] order.
    pub scalars: Vec<(String, MeanStd)>,
    /// Per label (label order): aggregates of the fields, in [`LABEL_KEYS`] order.
    pub per_label: Vec<(String, Vec<(String, MeanStd)>)>,
}

struct OrderedMap<'a, V>(&'a [(String, V)]);

impl<V: Serialize> Serialize for OrderedMap<'_, V> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl Serialize for AggregateReport {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.scalars.len() + 2))?;
        m.serialize_entry("n_reports", &self.n_reports)?;
        for (k, v) in &self.scalars {
            m.serialize_entry(k, v)?;
        }
        let per: Vec<(String, OrderedMap<'_, MeanStd>)> = self
            .per_label
            .iter()
            .map(|(name, fields)| (name.clone(), OrderedMap(fields)))
            .collect();
        m.serialize_entry("per_label", &OrderedMap(&per))?;
        m.end()
    }
}

impl AggregateReport {
    /// Aggregates reports that share the same label names (in the same order).
    ///
    /// Errors: no report; reports whose label names differ.
    pub fn from_reports(reports: &[MultiLabelReport]) -> Result<Self> {
        let first = reports.first().ok_or_else(|| EvalError::Empty {
            what: "reports to aggregate".into(),
        })?;
        let names: Vec<&String> = first.per_label.0.iter().map(|(n, _)| n).collect();
        for (i, r) in reports.iter().enumerate() {
            let other: Vec<&String> = r.per_label.0.iter().map(|(n, _)| n).collect();
            if other != names {
                return Err(EvalError::InvalidParameter {
                    name: format!("reports[{i}].per_label"),
                    value: format!("{other:?}"),
                    reason: format!("expected the labels of reports[0]: {names:?}"),
                });
            }
        }
        let scalars = SCALAR_KEYS
            .iter()
            .enumerate()
            .map(|(k, key)| {
                (
                    key.to_string(),
                    MeanStd::of(reports.iter().map(|r| Some(r.scalars()[k]))),
                )
            })
            .collect();
        let per_label = names
            .iter()
            .enumerate()
            .map(|(l, name)| {
                let fields = LABEL_KEYS
                    .iter()
                    .enumerate()
                    .map(|(f, key)| {
                        (
                            key.to_string(),
                            MeanStd::of(reports.iter().map(|r| r.per_label.0[l].1.values()[f])),
                        )
                    })
                    .collect();
                (name.to_string(), fields)
            })
            .collect();
        Ok(AggregateReport {
            n_reports: reports.len(),
            scalars,
            per_label,
        })
    }

    /// Pretty-printed JSON: the report keys with `{"mean", "std", "n"}` values.
    pub fn to_json(&self) -> String {
        // Cannot fail: every map key is a string and every value a number, null or string.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Long-format CSV: header `label,metric,mean,std,n`, scalars first with an empty label.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("label,metric,mean,std,n\n");
        for (k, v) in &self.scalars {
            let _ = writeln!(out, ",{k},{},{},{}", fmt_csv(v.mean), fmt_csv(v.std), v.n);
        }
        for (name, fields) in &self.per_label {
            for (k, v) in fields {
                let _ = writeln!(
                    out,
                    "{},{k},{},{},{}",
                    csv_field(name),
                    fmt_csv(v.mean),
                    fmt_csv(v.std),
                    v.n
                );
            }
        }
        out
    }

    /// Markdown: per-label table of `mean ± std` and a table of the scalar metrics.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        out.push_str("| label |");
        for k in LABEL_KEYS {
            let _ = write!(out, " {k} |");
        }
        out.push_str("\n|---|---|---|---|---|---|---|\n");
        for (name, fields) in &self.per_label {
            let _ = write!(out, "| {} |", md_escape(name));
            for (_, v) in fields {
                let _ = write!(out, " {} |", v.md());
            }
            out.push('\n');
        }
        let _ = write!(
            out,
            "\n| metric (mean ± std over {} reports) | value |\n|---|---|\n",
            self.n_reports
        );
        for (k, v) in &self.scalars {
            let _ = writeln!(out, "| {k} | {} |", v.md());
        }
        out
    }
}
