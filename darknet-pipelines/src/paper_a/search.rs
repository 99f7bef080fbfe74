//! Paper A's hyper-parameter search: the classifier part of its Table II grid, searched by
//! K-fold cross-validation on the training part of each partition (4 folds, as the paper).
//!
//! For partition k the folds are drawn from the hosts the partition trains on (its training
//! part less the validation slice), stratified on the labels; each candidate GCN trains on
//! K − 1 folds (ML-ROS as the run) and is scored by sample F1 at τ on the remaining fold. The
//! candidate with the best mean over the folds trains the partition's GCN; ties go to the
//! first point in grid order, and the same seed gives the same choice. The test part is never
//! seen by the search.
//!
//! The grid's axes are `first_size`, `gcn_layers` and `fc_layers` ({64, 128, 256} × {1, 2, 3}
//! × {1, 2, 3}: 27 points). The paper's grid also spans the port embedding (number of
//! reference ports, latent size, auto-encoder depth); those are set for the whole run by
//! [`super::PaperAConfig::n_references`] and [`super::PaperAConfig::autoencoder`], since the
//! embedding is learned once from all the traffic, without labels.
//!
//! A search multiplies training time by about (points × folds): use a random budget
//! ([`Budget::Random`]) for a first look.

use super::error::Result;
use super::{Dataset, GraphSubset, PaperAConfig};
use darknet_eval::selection::{select, Budget, ParamGrid, ParamPoint, Selection, SelectionConfig};
use darknet_eval::{ml_ros, precision_recall_f1, Average};
use darknet_nn::GraphClassifierConfig;
use ndarray::Axis;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

/// Settings of the search.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SearchSettings {
    /// Which points to evaluate: the full grid, N random points, or none.
    pub budget: Budget,
    /// Cross-validation folds (4, as Paper A).
    pub folds: usize,
    /// The grid; axes among `first_size`, `gcn_layers`, `fc_layers`.
    pub grid: ParamGrid,
}

impl Default for SearchSettings {
    fn default() -> Self {
        SearchSettings {
            budget: Budget::Full,
            folds: 4,
            grid: classifier_grid(),
        }
    }
}

/// The classifier axes of Paper A's Table II: `first_size` {64, 128, 256}, `gcn_layers`
/// {1, 2, 3}, `fc_layers` {1, 2, 3}.
pub fn classifier_grid() -> ParamGrid {
    let table = ParamGrid::paper_a();
    ParamGrid {
        axes: table
            .axes
            .into_iter()
            .filter(|(name, _)| matches!(name.as_str(), "first_size" | "gcn_layers" | "fc_layers"))
            .collect(),
    }
}

/// `base` with the point's values set.
///
/// # Errors
/// An axis the classifier does not have, or a value that is not a positive integer.
pub fn apply(base: &GraphClassifierConfig, point: &ParamPoint) -> Result<GraphClassifierConfig> {
    let mut c = base.clone();
    for (name, _) in &point.0 {
        let v = point.size(name)?;
        c = match name.as_str() {
            "first_size" => c.first_size(v),
            "gcn_layers" => c.gcn_layers(v),
            "fc_layers" => c.fc_layers(v),
            _ => {
                return Err(super::PaperAError::InvalidConfig {
                    field: "search grid",
                    value: name.clone(),
                    reason: "the classifier search knows first_size, gcn_layers and fc_layers",
                })
            }
        };
    }
    c.validate()?;
    Ok(c)
}

/// Runs the search of partition `k` on the hosts `fit` (indices into `data`); `None` with a
/// budget of none.
///
/// # Errors
/// Fold, training and metric errors; an unknown grid axis.
pub fn search(
    data: &Dataset,
    fit: &[usize],
    cfg: &PaperAConfig,
    settings: &SearchSettings,
    k: u64,
) -> Result<Option<Selection>> {
    let ds = &data.graphs;
    let seed = cfg.seed.wrapping_add(k);
    let y = ds.labels.mapv(f32::from);
    let tau = cfg.classifier.threshold;
    let sel_cfg = SelectionConfig::default()
        .folds(settings.folds)
        .seed(seed)
        .budget(settings.budget);
    select(
        &settings.grid,
        fit,
        Some(ds.labels.view()),
        &sel_cfg,
        |point, fold_index, fold| -> Result<f64> {
            let ccfg = apply(&cfg.classifier, point)?.seed(seed.wrapping_add(fold_index as u64));
            let mut rng = ChaCha8Rng::seed_from_u64(seed ^ (fold_index as u64 + 1));
            let train = ml_ros(ds.labels.view(), &fold.train, cfg.ros_percentage, &mut rng)?;
            let set = GraphSubset::new(&ds.graphs, &train);
            let (mut model, _) = ccfg.fit(&set, y.select(Axis(0), &train).view(), &mut |_| {})?;
            if cfg.bn_recalibration {
                super::recalibrate_batchnorm(&mut model, &set, ccfg.train.batch_size)?;
            }
            let held = GraphSubset::new(&ds.graphs, &fold.test);
            let scores = model.scores_graphs(&held, 256)?.mapv(f64::from);
            let pred = darknet_eval::threshold::binarize(scores.view(), tau)?;
            let truth = ds.labels.select(Axis(0), &fold.test);
            Ok(precision_recall_f1(truth.view(), pred.view(), Average::Samples)?.f1)
        },
    )
}
