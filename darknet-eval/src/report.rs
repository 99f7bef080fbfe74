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

/// One scalar metric of a report, by name: read a figure from a [`MultiLabelReport`] with
/// [`MultiLabelReport::get`] or from an [`AggregateReport`] with [`AggregateReport::get`]
/// instead of looking it up by a string. Variants in [`SCALAR_KEYS`] order.
///
/// ```
/// use darknet_eval::report::{ReportMetric, SCALAR_KEYS};
/// assert_eq!(ReportMetric::F1Samples.name(), "f1_samples");
/// assert_eq!(ReportMetric::ALL.map(|m| m.name()), SCALAR_KEYS);
/// assert_eq!("hamming_loss".parse::<ReportMetric>().unwrap(), ReportMetric::HammingLoss);
/// assert!(!ReportMetric::HammingLoss.higher_is_better());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportMetric {
    /// Sample-averaged precision.
    PrecisionSamples,
    /// Sample-averaged recall.
    RecallSamples,
    /// Sample-averaged F1.
    F1Samples,
    /// Micro precision.
    PrecisionMicro,
    /// Micro recall.
    RecallMicro,
    /// Micro F1.
    F1Micro,
    /// Macro precision.
    PrecisionMacro,
    /// Macro recall.
    RecallMacro,
    /// Macro F1.
    F1Macro,
    /// Support-weighted precision.
    PrecisionWeighted,
    /// Support-weighted recall.
    RecallWeighted,
    /// Support-weighted F1.
    F1Weighted,
    /// Hamming loss (lower is better).
    HammingLoss,
    /// Subset accuracy.
    SubsetAccuracy,
    /// Jaccard score averaged over samples.
    JaccardSamples,
    /// Coverage error (lower is better).
    CoverageError,
    /// Label ranking loss (lower is better).
    LabelRankingLoss,
    /// Label ranking average precision.
    LabelRankingAveragePrecision,
}

impl ReportMetric {
    /// Every metric, in [`SCALAR_KEYS`] order.
    pub const ALL: [ReportMetric; 18] = [
        ReportMetric::PrecisionSamples,
        ReportMetric::RecallSamples,
        ReportMetric::F1Samples,
        ReportMetric::PrecisionMicro,
        ReportMetric::RecallMicro,
        ReportMetric::F1Micro,
        ReportMetric::PrecisionMacro,
        ReportMetric::RecallMacro,
        ReportMetric::F1Macro,
        ReportMetric::PrecisionWeighted,
        ReportMetric::RecallWeighted,
        ReportMetric::F1Weighted,
        ReportMetric::HammingLoss,
        ReportMetric::SubsetAccuracy,
        ReportMetric::JaccardSamples,
        ReportMetric::CoverageError,
        ReportMetric::LabelRankingLoss,
        ReportMetric::LabelRankingAveragePrecision,
    ];

    /// Position in [`SCALAR_KEYS`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// scikit-learn's name of the metric, the JSON key of the reports.
    pub fn name(self) -> &'static str {
        SCALAR_KEYS[self.index()]
    }

    /// Whether a larger value is better (false for the losses and the coverage error).
    pub fn higher_is_better(self) -> bool {
        !matches!(
            self,
            ReportMetric::HammingLoss
                | ReportMetric::CoverageError
                | ReportMetric::LabelRankingLoss
        )
    }
}

impl std::fmt::Display for ReportMetric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for ReportMetric {
    type Err = EvalError;
    /// Parses scikit-learn's name (`f1_samples`, ...).
    fn from_str(s: &str) -> Result<Self> {
        ReportMetric::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| EvalError::UnknownLabel {
                what: "report metric".into(),
                label: s.to_string(),
            })
    }
}

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
/// `{label -> {...}}` whose keys follow that order. `L` is [`LabelReport`] in a
/// [`MultiLabelReport`] and [`LabelAggregate`] in an [`AggregateReport`].
#[derive(Debug, Clone, PartialEq)]
pub struct PerLabel<L = LabelReport>(pub Vec<(String, L)>);

impl<L> Default for PerLabel<L> {
    fn default() -> Self {
        PerLabel(Vec::new())
    }
}

impl<'de, L: Deserialize<'de>> Deserialize<'de> for PerLabel<L> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visit<L>(std::marker::PhantomData<L>);
        impl<'de, L: Deserialize<'de>> serde::de::Visitor<'de> for Visit<L> {
            type Value = PerLabel<L>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map from label name to its metrics")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<PerLabel<L>, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, L>()? {
                    out.push((k, v));
                }
                Ok(PerLabel(out))
            }
        }
        d.deserialize_map(Visit(std::marker::PhantomData))
    }
}

impl<L: Serialize> Serialize for PerLabel<L> {
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

    /// One scalar metric.
    pub fn get(&self, metric: ReportMetric) -> f64 {
        self.scalars()[metric.index()]
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

/// Mean ± std of one label's fields over several reports (see [`LabelReport`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LabelAggregate {
    /// Precision at the reports' threshold.
    pub precision: MeanStd,
    /// Recall.
    pub recall: MeanStd,
    /// F1.
    pub f1: MeanStd,
    /// Support (number of samples carrying the label).
    pub support: MeanStd,
    /// ROC AUC, over the reports that define it.
    pub roc_auc: MeanStd,
    /// Average precision, over the reports that define it.
    pub average_precision: MeanStd,
}

impl LabelAggregate {
    /// The fields in [`LABEL_KEYS`] order.
    pub fn values(&self) -> [MeanStd; 6] {
        [
            self.precision,
            self.recall,
            self.f1,
            self.support,
            self.roc_auc,
            self.average_precision,
        ]
    }
}

/// Mean ± std over several [`MultiLabelReport`]s of the same labels (Paper A's 5 partitions):
/// the same named fields as a report, each a [`MeanStd`]. Serialises (and reads back) with the
/// report's keys in the report's order, `n_reports` first, every value
/// `{"mean", "std", "n"}`.
///
/// ```
/// use darknet_eval::{AggregateReport, MultiLabelReport};
/// use darknet_eval::report::ReportMetric;
/// use ndarray::array;
/// let names = vec!["a".to_string(), "b".to_string()];
/// let y = array![[1u8, 0], [0, 1]];
/// let r1 = MultiLabelReport::from_scores(&names, y.view(), array![[0.9, 0.1], [0.2, 0.8]].view(), 0.5)?;
/// let r2 = MultiLabelReport::from_scores(&names, y.view(), array![[0.9, 0.6], [0.2, 0.8]].view(), 0.5)?;
/// let agg = AggregateReport::from_reports(&[r1, r2])?;
/// // Sample F1: 1 in the first report, (2/3 + 1) / 2 in the second.
/// assert!((agg.f1_samples.mean.unwrap() - (1.0 + 5.0 / 6.0) / 2.0).abs() < 1e-12);
/// assert_eq!(agg.get(ReportMetric::F1Samples), agg.f1_samples);
/// assert_eq!(agg.per_label.0[1].1.precision.mean, Some(0.75));
/// # Ok::<(), darknet_eval::EvalError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AggregateReport {
    /// Number of reports aggregated.
    pub n_reports: usize,
    /// Sample-averaged precision.
    pub precision_samples: MeanStd,
    /// Sample-averaged recall.
    pub recall_samples: MeanStd,
    /// Sample-averaged F1.
    pub f1_samples: MeanStd,
    /// Micro precision.
    pub precision_micro: MeanStd,
    /// Micro recall.
    pub recall_micro: MeanStd,
    /// Micro F1.
    pub f1_micro: MeanStd,
    /// Macro precision.
    pub precision_macro: MeanStd,
    /// Macro recall.
    pub recall_macro: MeanStd,
    /// Macro F1.
    pub f1_macro: MeanStd,
    /// Support-weighted precision.
    pub precision_weighted: MeanStd,
    /// Support-weighted recall.
    pub recall_weighted: MeanStd,
    /// Support-weighted F1.
    pub f1_weighted: MeanStd,
    /// Hamming loss.
    pub hamming_loss: MeanStd,
    /// Subset accuracy.
    pub subset_accuracy: MeanStd,
    /// Jaccard score averaged over samples.
    pub jaccard_samples: MeanStd,
    /// Coverage error.
    pub coverage_error: MeanStd,
    /// Label ranking loss.
    pub label_ranking_loss: MeanStd,
    /// Label ranking average precision.
    pub label_ranking_average_precision: MeanStd,
    /// Per label (label order), keyed by label name.
    pub per_label: PerLabel<LabelAggregate>,
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
        let agg = |f: fn(&MultiLabelReport) -> f64| MeanStd::of(reports.iter().map(|r| Some(f(r))));
        let per_label = PerLabel(
            names
                .iter()
                .enumerate()
                .map(|(l, name)| {
                    let field = |f: fn(&LabelReport) -> Option<f64>| {
                        MeanStd::of(reports.iter().map(|r| f(&r.per_label.0[l].1)))
                    };
                    (
                        name.to_string(),
                        LabelAggregate {
                            precision: field(|x| Some(x.precision)),
                            recall: field(|x| Some(x.recall)),
                            f1: field(|x| Some(x.f1)),
                            support: field(|x| Some(x.support as f64)),
                            roc_auc: field(|x| x.roc_auc),
                            average_precision: field(|x| x.average_precision),
                        },
                    )
                })
                .collect(),
        );
        Ok(AggregateReport {
            n_reports: reports.len(),
            precision_samples: agg(|r| r.precision_samples),
            recall_samples: agg(|r| r.recall_samples),
            f1_samples: agg(|r| r.f1_samples),
            precision_micro: agg(|r| r.precision_micro),
            recall_micro: agg(|r| r.recall_micro),
            f1_micro: agg(|r| r.f1_micro),
            precision_macro: agg(|r| r.precision_macro),
            recall_macro: agg(|r| r.recall_macro),
            f1_macro: agg(|r| r.f1_macro),
            precision_weighted: agg(|r| r.precision_weighted),
            recall_weighted: agg(|r| r.recall_weighted),
            f1_weighted: agg(|r| r.f1_weighted),
            hamming_loss: agg(|r| r.hamming_loss),
            subset_accuracy: agg(|r| r.subset_accuracy),
            jaccard_samples: agg(|r| r.jaccard_samples),
            coverage_error: agg(|r| r.coverage_error),
            label_ranking_loss: agg(|r| r.label_ranking_loss),
            label_ranking_average_precision: agg(|r| r.label_ranking_average_precision),
            per_label,
        })
    }

    /// The scalar aggregates in [`SCALAR_KEYS`] order.
    pub fn scalars(&self) -> [MeanStd; 18] {
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

    /// One scalar metric's mean ± std.
    pub fn get(&self, metric: ReportMetric) -> MeanStd {
        self.scalars()[metric.index()]
    }

    /// Pretty-printed JSON: the report keys with `{"mean", "std", "n"}` values.
    pub fn to_json(&self) -> String {
        // Cannot fail: every map key is a string and every value a number, null or string.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Long-format CSV: header `label,metric,mean,std,n`, scalars first with an empty label.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("label,metric,mean,std,n\n");
        for (k, v) in SCALAR_KEYS.iter().zip(self.scalars()) {
            let _ = writeln!(out, ",{k},{},{},{}", fmt_csv(v.mean), fmt_csv(v.std), v.n);
        }
        for (name, fields) in &self.per_label.0 {
            for (k, v) in LABEL_KEYS.iter().zip(fields.values()) {
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
        for (name, fields) in &self.per_label.0 {
            let _ = write!(out, "| {} |", md_escape(name));
            for v in fields.values() {
                let _ = write!(out, " {} |", v.md());
            }
            out.push('\n');
        }
        let _ = write!(
            out,
            "\n| metric (mean ± std over {} reports) | value |\n|---|---|\n",
            self.n_reports
        );
        for (k, v) in SCALAR_KEYS.iter().zip(self.scalars()) {
            let _ = writeln!(out, "| {k} | {} |", v.md());
        }
        out
    }
}
