//! # darknet-eval
//!
//! Judging darknet host classifiers. The crate knows predictions and labels as arrays, nothing
//! about graphs or packets, and sits at the end of both pipelines: Paper A's multi-label
//! classifier hands it sigmoid scores `(n_hosts, n_labels)`, Paper B's temporal embeddings are
//! judged by its kNN classifier.
//!
//! - [`multilabel`] and [`ranking`]: scikit-learn 1.x's multi-label metrics (precision, recall
//!   and F1 with every average, Hamming loss, subset accuracy, Jaccard, coverage error, label
//!   ranking loss and average precision, per-label ROC AUC and average precision), f64,
//!   `zero_division = 0`, ties as scikit-learn.
//! - [`threshold`]: τ (predict when score > τ), τ sweeps, per-label thresholds.
//! - [`calibration`]: Platt scaling and isotonic regression per label, as scikit-learn.
//! - [`report`]: one [`MultiLabelReport`] rendering to JSON (scikit-learn's key names), CSV
//!   and Markdown; [`AggregateReport`] for mean ± std over partitions.
//! - [`selection`]: hyper-parameter search by cross-validation on the training part only
//!   (grid, random or no budget; seeded, parallel, deterministic choice).
//! - [`split`] and [`oversample`]: seeded splits, k-fold, iterative stratification, Paper A's
//!   5 partitions, ML-ROS.
//! - [`multiclass`]: confusion matrix and `classification_report` with string class names,
//!   per-class F1 over days (Paper B).
//! - [`knn`]: exact brute-force kNN over f32 embeddings (Euclidean or cosine), blocked matrix
//!   products in parallel, leave-one-out, deterministic vote, Paper B's per-day protocol.
//! - [`io`]: truth and score CSV files matched by id, with errors naming file and line.
//!
//! ```
//! use darknet_eval::{MultiLabelReport, precision_recall_f1, Average, hamming_loss,
//!     label_ranking_loss, coverage_error};
//! use ndarray::array;
//!
//! let y_true = array![[1u8, 0, 1], [0, 1, 0], [1, 1, 0]];
//! let scores = array![[0.9, 0.2, 0.6], [0.1, 0.7, 0.8], [0.8, 0.4, 0.3]];
//! let y_pred = darknet_eval::binarize(scores.view(), 0.5).unwrap(); // score > 0.5
//!
//! let micro = precision_recall_f1(y_true.view(), y_pred.view(), Average::Micro).unwrap();
//! assert!((micro.precision - 0.8).abs() < 1e-12); // 4 of 5 predicted labels are right
//! assert!((micro.recall - 0.8).abs() < 1e-12); // 4 of 5 true labels found
//! assert!((hamming_loss(y_true.view(), y_pred.view()).unwrap() - 2.0 / 9.0).abs() < 1e-12);
//! // Only sample 1 mis-orders a pair: false label 2 (0.8) above true label 1 (0.7), 1 of 2.
//! let rl = label_ranking_loss(y_true.view(), scores.view()).unwrap();
//! assert!((rl - (0.0 + 0.5 + 0.0) / 3.0).abs() < 1e-12);
//! assert!((coverage_error(y_true.view(), scores.view()).unwrap() - 2.0).abs() < 1e-12);
//!
//! let names: Vec<String> = ["scan", "hack", "ssh"].map(String::from).to_vec();
//! let report = MultiLabelReport::from_scores(&names, y_true.view(), scores.view(), 0.5).unwrap();
//! assert!(report.to_json().contains("\"f1_micro\""));
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod calibration;
mod check;
pub mod error;
pub mod io;
pub mod knn;
pub mod multiclass;
pub mod multilabel;
pub mod oversample;
pub mod ranking;
pub mod report;
pub mod selection;
pub mod split;
pub mod threshold;

pub use calibration::{
    calibration_quality, expected_calibration_error, Calibration, CalibrationMethod,
    CalibrationQuality, IsotonicCalibration, LabelCalibration, PlattScaling,
};
pub use error::{EvalError, Result};
pub use io::{align, read_scores_csv, read_truth_csv, Aligned, ScoreTable, TruthTable};
pub use knn::{
    evaluate_day, rare_to_unknown, standardize, Distance, Knn, KnnConfig, Neighbors, Standardizer,
    UNKNOWN,
};
pub use multiclass::{
    aggregate_days, classification_report, confusion_matrix, ClassScores, ClassificationReport,
    ConfusionMatrix, DailyF1,
};
pub use multilabel::{
    hamming_loss, jaccard_samples, label_cardinality, per_label_precision_recall_f1,
    per_label_precision_recall_f1_zero_division, precision_recall_f1,
    precision_recall_f1_zero_division, subset_accuracy, Average, LabelPrf, Prf,
};
pub use oversample::{imbalance_ratios, ml_ros, DEFAULT_ROS_PERCENTAGE};
pub use ranking::{
    average_precision, coverage_error, label_ranking_average_precision, label_ranking_loss,
    per_label_average_precision, per_label_roc_auc, roc_auc,
};
pub use report::{
    AggregateReport, LabelAggregate, LabelReport, MeanStd, MultiLabelReport, PerLabel, ReportMetric,
};
pub use selection::{
    select, training_folds, Budget, CandidateScore, ParamGrid, ParamPoint, ParamValue, Selection,
    SelectionConfig,
};
pub use split::{
    five_partitions, iterative_stratification, k_fold, train_validation_test_split, Fold, Split,
};
pub use threshold::{
    apply_thresholds, binarize, choose_thresholds, choose_thresholds_near, default_grid, sweep,
    SweepPoint, Thresholds, DEFAULT_THRESHOLD,
};
