//! Models side by side, and the choice between them made on validation data only.
//!
//! Every partition trains three models on the same hosts: the paper's GCN on host graphs, the
//! MLP baseline on per-host statistics, and the hybrid (the GCN's pooled host-graph vector
//! joined with the same statistics before the fully connected block, trained end to end). All
//! three are reported on the partition's test part.
//!
//! With [`super::PaperAConfig::validation_fraction`] > 0, a seeded slice of each partition's
//! training part is held out before ML-ROS as **validation data**: the models train on the
//! rest, and the validation slice alone chooses, for each model, one decision threshold per
//! label ([`darknet_eval::threshold::choose_thresholds_near`], falling back to τ where a label
//! gives no evidence), and which model the partition would use (highest sample F1 on the
//! validation slice with its thresholds). The test part is scored with those choices but never
//! consulted to make them. The model saved for prediction is the one (GCN, hybrid or MLP) with
//! the best mean validation F1 over the partitions, with per-label thresholds that are the
//! median of the partitions' choices; ties go to the paper's GCN, then the hybrid.
//!
//! With a fraction of 0 the protocol is the paper's: models train on the whole training part,
//! τ applies to every label, and the GCN is saved.

use super::error::Result;
use darknet_eval::threshold::{apply_thresholds, choose_thresholds_near, default_grid};
use darknet_eval::{precision_recall_f1, Average, MeanStd};
use ndarray::ArrayView2;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// The models Paper A's pipeline trains and compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// The paper's GCN classifier on host graphs.
    Gcn,
    /// The hybrid: GCN pooled vector joined with per-host statistics.
    Hybrid,
    /// The MLP baseline on per-host statistics only.
    Mlp,
}

impl ModelKind {
    /// Every kind, in the order ties are broken (the paper's model first).
    pub const ALL: [ModelKind; 3] = [ModelKind::Gcn, ModelKind::Hybrid, ModelKind::Mlp];

    /// Short name used in files and messages: `gcn`, `hybrid`, `mlp`.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Gcn => "gcn",
            ModelKind::Hybrid => "hybrid",
            ModelKind::Mlp => "mlp",
        }
    }
}

impl std::fmt::Display for ModelKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Splits a partition's training hosts into (fit, validation): a seeded shuffle, the last
/// `round(fraction · n)` hosts (at least one, and at most n − 1) to validation, both parts in
/// ascending order. A fraction of 0 (or fewer than 2 hosts) keeps every host for fitting.
pub fn split_validation(train: &[usize], fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let n = train.len();
    if fraction <= 0.0 || n < 2 {
        return (train.to_vec(), Vec::new());
    }
    let n_val = ((fraction * n as f64).round() as usize).clamp(1, n - 1);
    let mut order = train.to_vec();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let mut val = order.split_off(n - n_val);
    order.sort_unstable();
    val.sort_unstable();
    (order, val)
}

/// What the validation slice says of one model, and how its choices do on the test part.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Validated {
    /// The model.
    pub kind: ModelKind,
    /// Sample F1 on the validation slice at the run's τ.
    pub val_f1_samples: f64,
    /// Per-label thresholds chosen on the validation slice, in label order.
    pub thresholds: Vec<f64>,
    /// Sample F1 on the validation slice with those thresholds (what the choice maximises).
    pub val_f1_tuned: f64,
    /// Sample precision, recall, F1 on the test part with those thresholds.
    pub test_tuned: [f64; 3],
}

/// Scores one model's validation and test predictions (see the module doc).
///
/// Arguments: truth and scores of the validation slice, then of the test part, each
/// `(n, n_labels)`; `tau` the run's global threshold.
///
/// # Errors
/// Metric errors (shape mismatch, non-finite scores, empty validation slice).
pub fn validate(
    kind: ModelKind,
    val_truth: ArrayView2<'_, u8>,
    val_scores: ArrayView2<'_, f64>,
    test_truth: ArrayView2<'_, u8>,
    test_scores: ArrayView2<'_, f64>,
    tau: f64,
) -> Result<Validated> {
    let at_tau = darknet_eval::threshold::binarize(val_scores, tau)?;
    let val_f1_samples = precision_recall_f1(val_truth, at_tau.view(), Average::Samples)?.f1;
    let thresholds = choose_thresholds_near(val_truth, val_scores, &default_grid(), tau)?;
    let tuned = apply_thresholds(val_scores, &thresholds)?;
    let val_f1_tuned = precision_recall_f1(val_truth, tuned.view(), Average::Samples)?.f1;
    let test_pred = apply_thresholds(test_scores, &thresholds)?;
    let t = precision_recall_f1(test_truth, test_pred.view(), Average::Samples)?;
    Ok(Validated {
        kind,
        val_f1_samples,
        thresholds,
        val_f1_tuned,
        test_tuned: [t.precision, t.recall, t.f1],
    })
}

/// The model a partition would use: the highest validation F1 with tuned thresholds; ties go
/// to the earlier kind of [`ModelKind::ALL`]. `None` without validation results.
pub fn choose(validated: &[Validated]) -> Option<&Validated> {
    let mut best: Option<&Validated> = None;
    for v in validated {
        let better = match best {
            None => true,
            Some(b) => {
                v.val_f1_tuned > b.val_f1_tuned
                    || (v.val_f1_tuned == b.val_f1_tuned && v.kind < b.kind)
            }
        };
        if better {
            best = Some(v);
        }
    }
    best
}

/// The model choice of a whole run (see the module doc).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Selection {
    /// Fraction of each training part held out for validation.
    pub validation_fraction: f64,
    /// Per partition: the model its validation slice chose.
    pub per_partition: Vec<ModelKind>,
    /// Test sample F1 of each partition's chosen model, with its tuned thresholds (mean ± std
    /// over partitions): the figure to expect from choosing on validation data.
    pub chosen_f1_samples: MeanStd,
    /// Per model: mean validation F1 (tuned) over partitions, and test sample F1 with tuned
    /// thresholds (mean ± std).
    pub per_model: Vec<(ModelKind, f64, MeanStd)>,
    /// The model saved for prediction: the model with the best mean validation F1 (or
    /// the one the settings name).
    pub saved: ModelKind,
    /// Its per-label thresholds: the (lower) median of the partitions' choices, in label order.
    pub thresholds: Vec<f64>,
}

/// Sums up the partitions' validation results into a [`Selection`]; `None` when no partition
/// had a validation slice. `force` names the model to save instead of the best one (its
/// thresholds are still chosen on validation data).
pub fn select(
    validated: &[Vec<Validated>],
    fraction: f64,
    force: Option<ModelKind>,
) -> Option<Selection> {
    if validated.iter().all(|v| v.is_empty()) {
        return None;
    }
    let per_partition: Vec<ModelKind> = validated
        .iter()
        .filter_map(|v| choose(v).map(|c| c.kind))
        .collect();
    let chosen_f1_samples = MeanStd::of(
        validated
            .iter()
            .filter_map(|v| choose(v).map(|c| Some(c.test_tuned[2]))),
    );
    let mut per_model = Vec::new();
    for kind in ModelKind::ALL {
        let runs: Vec<&Validated> = validated
            .iter()
            .flatten()
            .filter(|v| v.kind == kind)
            .collect();
        if runs.is_empty() {
            continue;
        }
        let mean_val = runs.iter().map(|v| v.val_f1_tuned).sum::<f64>() / runs.len() as f64;
        let test = MeanStd::of(runs.iter().map(|v| Some(v.test_tuned[2])));
        per_model.push((kind, mean_val, test));
    }
    let saved = per_model
        .iter()
        .fold(None::<(ModelKind, f64)>, |best, &(k, v, _)| match best {
            Some((_, bv)) if bv >= v => best,
            _ => Some((k, v)),
        })
        .map_or(ModelKind::Gcn, |b| b.0);
    let saved = force
        .filter(|k| per_model.iter().any(|(m, _, _)| m == k))
        .unwrap_or(saved);
    let runs: Vec<&Validated> = validated
        .iter()
        .flatten()
        .filter(|v| v.kind == saved)
        .collect();
    let n_labels = runs.first().map_or(0, |v| v.thresholds.len());
    let thresholds = (0..n_labels)
        .map(|l| {
            let mut t: Vec<f64> = runs.iter().map(|v| v.thresholds[l]).collect();
            t.sort_by(f64::total_cmp);
            // The lower median: always one of the grid's values, so it is written and read
            // back exactly.
            t[(t.len() - 1) / 2]
        })
        .collect();
    Some(Selection {
        validation_fraction: fraction,
        per_partition,
        chosen_f1_samples,
        per_model,
        saved,
        thresholds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_split_is_disjoint_seeded_and_within_training() {
        let train: Vec<usize> = (0..50).map(|i| i * 2).collect();
        let (fit, val) = split_validation(&train, 0.2, 9);
        assert_eq!(val.len(), 10);
        assert_eq!(fit.len(), 40);
        assert!(val.iter().all(|v| train.contains(v) && !fit.contains(v)));
        assert_eq!(split_validation(&train, 0.2, 9), (fit.clone(), val.clone()));
        assert_ne!(split_validation(&train, 0.2, 10).1, val);
        assert_eq!(split_validation(&train, 0.0, 9), (train.clone(), vec![]));
    }

    fn v(kind: ModelKind, tuned: f64, t: f64) -> Validated {
        Validated {
            kind,
            val_f1_samples: tuned,
            thresholds: vec![t, 0.5],
            val_f1_tuned: tuned,
            test_tuned: [0.0, 0.0, tuned],
        }
    }

    #[test]
    fn choice_is_the_best_validation_score_with_ties_to_the_paper_model() {
        let runs = vec![
            v(ModelKind::Gcn, 0.7, 0.4),
            v(ModelKind::Hybrid, 0.8, 0.3),
            v(ModelKind::Mlp, 0.8, 0.2),
        ];
        assert_eq!(choose(&runs).unwrap().kind, ModelKind::Hybrid);
        let tie = vec![v(ModelKind::Mlp, 0.8, 0.2), v(ModelKind::Gcn, 0.8, 0.4)];
        assert_eq!(choose(&tie).unwrap().kind, ModelKind::Gcn);
        assert!(choose(&[]).is_none());
    }

    #[test]
    fn selection_saves_the_validation_choice_with_median_thresholds() {
        let parts = vec![
            vec![v(ModelKind::Gcn, 0.6, 0.3), v(ModelKind::Mlp, 0.9, 0.5)],
            vec![v(ModelKind::Gcn, 0.7, 0.5), v(ModelKind::Mlp, 0.9, 0.5)],
            vec![v(ModelKind::Gcn, 0.5, 0.4), v(ModelKind::Mlp, 0.9, 0.5)],
        ];
        let s = select(&parts, 0.2, None).unwrap();
        assert_eq!(s.per_partition, vec![ModelKind::Mlp; 3]);
        assert_eq!(s.saved, ModelKind::Mlp);
        assert_eq!(s.thresholds, vec![0.5, 0.5]);
        assert!(select(&[vec![], vec![]], 0.0, None).is_none());
        let gcn = select(&parts, 0.2, Some(ModelKind::Gcn)).unwrap();
        assert_eq!(
            (gcn.saved, gcn.thresholds),
            (ModelKind::Gcn, vec![0.4, 0.5])
        );
        let forced = select(&parts, 0.2, Some(ModelKind::Hybrid)).unwrap();
        assert_eq!(
            forced.saved,
            ModelKind::Mlp,
            "no hybrid result: the validation choice stays"
        );
    }
}
