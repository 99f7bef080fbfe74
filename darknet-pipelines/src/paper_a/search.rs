//! Paper A's hyper-parameter search: its Table II grid, searched by K-fold cross-validation on
//! the training part of each partition (4 folds, as the paper).
//!
//! For partition k the folds are drawn from the hosts the partition trains on (its training
//! part less the validation slice), stratified on the labels; each candidate GCN trains on
//! K − 1 folds (ML-ROS as the run) and is scored by sample F1 at τ on the remaining fold. The
//! candidate with the best mean over the folds trains the partition's GCN; ties go to the
//! first point in grid order, and the same seed gives the same choice. The test part is never
//! seen by the search.
//!
//! **Axes.** A grid's axes are among the six of Table II ([`table2_grid`]): the embedding axes
//! `references` {512, 1024, 2048}, `latent_size` {8, 16, 32}, `ae_hidden_layers` {0, 1, 2}
//! and the classifier axes `first_size` {64, 128, 256}, `gcn_layers` {1, 2, 3}, `fc_layers`
//! {1, 2, 3}. The default grid ([`classifier_grid`]) has the classifier axes only (27 points);
//! an axis a grid leaves out keeps the run's setting ([`super::PaperAConfig::n_references`],
//! [`super::PaperAConfig::autoencoder`], [`super::PaperAConfig::classifier`]).
//!
//! **Embedding axes.** The port embedding (distances to R reference ports, then the
//! auto-encoder) is learned from all the traffic without labels, so it does not depend on the
//! partition: [`super::run`] computes the embedding and the host-graph dataset of every
//! distinct embedding setting the budget's points need ([`needed_embeddings`]: the union over
//! the partitions run, as a random budget draws other points for each partition) once, before
//! the partitions, and every partition and fold uses them ([`SearchData`]). The datasets have
//! the same hosts, labels and order; only the node features differ. The chosen point's dataset
//! then serves everything the partition does with host graphs (the GCN, the hybrid, their test
//! and validation scores); the MLP on per-host statistics does not use it. The final model
//! trained on every labelled host keeps the run's own settings.
//!
//! **References and ports.** A reference count larger than the ports of the port graph is
//! clamped to the number of ports (as the distance stage does): settings that clamp to the
//! same count are one embedding, computed once, and their points tie with the first in grid
//! order winning.
//!
//! **Cost.** A search multiplies training time by about (points × folds), plus one port
//! auto-encoder and one set of host graphs (memory: one more dataset) per distinct embedding
//! setting: use a random budget ([`Budget::Random`]) for a first look.

use super::error::{PaperAError, Result};
use super::{Dataset, GraphSubset, PaperAConfig};
use darknet_eval::selection::{select, Budget, ParamGrid, ParamPoint, Selection, SelectionConfig};
use darknet_eval::split::Fold;
use darknet_eval::{ml_ros, precision_recall_f1, Average};
use darknet_nn::GraphClassifierConfig;
use ndarray::Axis;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::collections::BTreeMap;

/// The embedding axes of Table II, in grid order.
pub const EMBEDDING_AXES: [&str; 3] = ["references", "latent_size", "ae_hidden_layers"];
/// The classifier axes of Table II, in grid order.
pub const CLASSIFIER_AXES: [&str; 3] = ["first_size", "gcn_layers", "fc_layers"];

/// Settings of the search.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SearchSettings {
    /// Which points to evaluate: the full grid, N random points, or none.
    pub budget: Budget,
    /// Cross-validation folds (4, as Paper A).
    pub folds: usize,
    /// The grid; axes among [`EMBEDDING_AXES`] and [`CLASSIFIER_AXES`] (default: the
    /// classifier axes, [`classifier_grid`]).
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

impl SearchSettings {
    /// Whether the grid has an embedding axis (then [`super::run`] computes more embeddings).
    pub fn searches_embedding(&self) -> bool {
        self.grid
            .axes
            .iter()
            .any(|(n, _)| EMBEDDING_AXES.contains(&n.as_str()))
    }

    /// Checks every value of every axis against the run's settings `cfg`: known axis names,
    /// values the models accept.
    ///
    /// # Errors
    /// [`PaperAError::InvalidConfig`] naming an unknown axis or a bad value; the models'
    /// config errors.
    pub fn validate(&self, cfg: &PaperAConfig) -> Result<()> {
        let default = EmbeddingSetting::of_config(cfg);
        for (name, values) in &self.grid.axes {
            for v in values {
                let point = ParamPoint(vec![(name.clone(), v.clone())]);
                if EMBEDDING_AXES.contains(&name.as_str()) {
                    EmbeddingSetting::of_point(&point, default)?.validate(cfg)?;
                } else {
                    apply(&cfg.classifier, &point)?;
                }
            }
        }
        Ok(())
    }

    /// Number of (point, fold) trainings per partition.
    pub fn trainings_per_partition(&self) -> usize {
        let points = match self.budget {
            Budget::None => 0,
            Budget::Full => self.grid.len(),
            Budget::Random(n) => n.min(self.grid.len()),
        };
        points * self.folds
    }
}

/// The classifier axes of Paper A's Table II: `first_size` {64, 128, 256}, `gcn_layers`
/// {1, 2, 3}, `fc_layers` {1, 2, 3} (27 points; the default grid).
pub fn classifier_grid() -> ParamGrid {
    let table = ParamGrid::paper_a();
    ParamGrid {
        axes: table
            .axes
            .into_iter()
            .filter(|(name, _)| CLASSIFIER_AXES.contains(&name.as_str()))
            .collect(),
    }
}

/// Paper A's whole Table II: the embedding axes `references` {512, 1024, 2048},
/// `latent_size` {8, 16, 32}, `ae_hidden_layers` {0, 1, 2}, then the classifier axes
/// (729 points, 27 embedding settings).
pub fn table2_grid() -> ParamGrid {
    ParamGrid::paper_a()
}

/// One setting of the port embedding: the embedding axes of a grid point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct EmbeddingSetting {
    /// Reference ports R (columns of the distance matrix).
    pub references: usize,
    /// Latent size of the auto-encoder (embedding width E).
    pub latent_size: usize,
    /// Hidden blocks per half of the auto-encoder.
    pub ae_hidden_layers: usize,
}

impl std::fmt::Display for EmbeddingSetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "references={}, latent_size={}, ae_hidden_layers={}",
            self.references, self.latent_size, self.ae_hidden_layers
        )
    }
}

impl EmbeddingSetting {
    /// The run's own setting.
    pub fn of_config(cfg: &PaperAConfig) -> Self {
        EmbeddingSetting {
            references: cfg.n_references,
            latent_size: cfg.autoencoder.latent_dim,
            ae_hidden_layers: cfg.autoencoder.hidden_layers,
        }
    }

    /// `default` with the embedding axes of `point` set (other axes ignored).
    ///
    /// # Errors
    /// A value that is not a non-negative integer.
    pub fn of_point(point: &ParamPoint, default: Self) -> Result<Self> {
        let mut s = default;
        for (name, _) in &point.0 {
            match name.as_str() {
                "references" => s.references = point.size(name)?,
                "latent_size" => s.latent_size = point.size(name)?,
                "ae_hidden_layers" => s.ae_hidden_layers = point.size(name)?,
                _ => {}
            }
        }
        Ok(s)
    }

    /// The setting with the references clamped to `n_ports` (what the distance stage uses).
    pub fn clamped(self, n_ports: usize) -> Self {
        EmbeddingSetting {
            references: self.references.min(n_ports.max(1)),
            ..self
        }
    }

    /// `cfg` with this setting's references and auto-encoder sizes.
    pub fn apply(&self, cfg: &PaperAConfig) -> PaperAConfig {
        let mut c = cfg.clone();
        c.n_references = self.references;
        c.autoencoder.latent_dim = self.latent_size;
        c.autoencoder.hidden_layers = self.ae_hidden_layers;
        c
    }

    /// Checks the setting as the run's own would be checked.
    ///
    /// # Errors
    /// [`PaperAError::InvalidConfig`] for 0 references; the auto-encoder's config errors.
    pub fn validate(&self, cfg: &PaperAConfig) -> Result<()> {
        if self.references == 0 {
            return Err(PaperAError::InvalidConfig {
                field: "search grid references",
                value: "0".into(),
                reason: "must be >= 1",
            });
        }
        self.apply(cfg).autoencoder.validate()?;
        Ok(())
    }
}

/// The embedding settings (references clamped to `n_ports`) of the points the budget of
/// `cfg.search` draws for the partitions [`super::evaluate_partitions`] runs, other than the
/// run's own; ascending, each once. Empty without a search or without embedding axes.
///
/// # Errors
/// A grid value that is not a non-negative integer.
pub fn needed_embeddings(cfg: &PaperAConfig, n_ports: usize) -> Result<Vec<EmbeddingSetting>> {
    let Some(s) = &cfg.search else {
        return Ok(Vec::new());
    };
    if !s.searches_embedding() {
        return Ok(Vec::new());
    }
    let default = EmbeddingSetting::of_config(cfg).clamped(n_ports);
    let mut out = std::collections::BTreeSet::new();
    for k in 0..cfg.partitions_to_run {
        for i in s.grid.candidates(s.budget, cfg.seed.wrapping_add(k as u64)) {
            let point = s.grid.point(i)?;
            let e = EmbeddingSetting::of_point(&point, default)?.clamped(n_ports);
            if e != default {
                out.insert(e);
            }
        }
    }
    Ok(out.into_iter().collect())
}

/// The host-graph datasets a search may use: the run's own and one per other embedding
/// setting computed (all with the same hosts, labels and order).
#[derive(Clone, Copy, Debug)]
pub struct SearchData<'a> {
    /// The run's embedding setting (references clamped to the ports).
    pub default_setting: EmbeddingSetting,
    /// The run's dataset.
    pub default: &'a Dataset,
    /// Datasets of other settings, by setting (references clamped).
    pub others: &'a BTreeMap<EmbeddingSetting, Dataset>,
    /// Ports of the port graph, to clamp the references of grid points (`usize::MAX` when
    /// unknown: no clamping).
    pub n_ports: usize,
}

/// No other dataset (for [`SearchData::single`]).
static NO_OTHERS: BTreeMap<EmbeddingSetting, Dataset> = BTreeMap::new();

impl<'a> SearchData<'a> {
    /// The run's dataset alone: a grid point of another embedding setting is an error.
    pub fn single(data: &'a Dataset, cfg: &PaperAConfig) -> Self {
        SearchData {
            default_setting: EmbeddingSetting::of_config(cfg),
            default: data,
            others: &NO_OTHERS,
            n_ports: usize::MAX,
        }
    }

    /// The embedding setting of `point` (references clamped).
    ///
    /// # Errors
    /// A value that is not a non-negative integer.
    pub fn setting_of(&self, point: &ParamPoint) -> Result<EmbeddingSetting> {
        Ok(EmbeddingSetting::of_point(point, self.default_setting)?.clamped(self.n_ports))
    }

    /// The dataset of `setting`.
    ///
    /// # Errors
    /// [`PaperAError::SearchEmbedding`] when it was not computed.
    pub fn get(&self, setting: &EmbeddingSetting) -> Result<&'a Dataset> {
        if *setting == self.default_setting {
            return Ok(self.default);
        }
        self.others
            .get(setting)
            .ok_or_else(|| PaperAError::SearchEmbedding {
                setting: setting.to_string(),
                reason: "its host graphs were not computed (paper_a::run computes those the \
                         search's budget needs)"
                    .into(),
            })
    }
}

/// `base` with the point's classifier values set (embedding axes ignored).
///
/// # Errors
/// An axis Table II does not have, or a value that is not a positive integer.
pub fn apply(base: &GraphClassifierConfig, point: &ParamPoint) -> Result<GraphClassifierConfig> {
    let mut c = base.clone();
    for (name, _) in &point.0 {
        if EMBEDDING_AXES.contains(&name.as_str()) {
            continue;
        }
        let v = point.size(name)?;
        c = match name.as_str() {
            "first_size" => c.first_size(v),
            "gcn_layers" => c.gcn_layers(v),
            "fc_layers" => c.fc_layers(v),
            _ => {
                return Err(PaperAError::InvalidConfig {
                    field: "search grid",
                    value: name.clone(),
                    reason: "the search knows references, latent_size, ae_hidden_layers, \
                             first_size, gcn_layers and fc_layers",
                })
            }
        };
    }
    c.validate()?;
    Ok(c)
}

/// Runs the search of partition `k` on the hosts `fit` (indices into the datasets); `None`
/// with a budget of none. Each (point, fold) trains a GCN on the dataset of the point's
/// embedding setting.
///
/// # Errors
/// Fold, training and metric errors; an unknown grid axis; an embedding setting without a
/// dataset in `data`.
pub fn search(
    data: &SearchData<'_>,
    fit: &[usize],
    cfg: &PaperAConfig,
    settings: &SearchSettings,
    k: u64,
) -> Result<Option<Selection>> {
    let seed = cfg.seed.wrapping_add(k);
    search_with(
        data,
        fit,
        cfg,
        settings,
        k,
        |point, ds, fold_index, fold| fold_score(ds, point, fold_index, fold, cfg, seed),
    )
}

/// [`search`] with the score of one (point, fold) given by `score(point, dataset of the
/// point's embedding, fold_index, fold)` instead of training a GCN: the folds, the budget's
/// points and the choice are those of [`search`] (for tests and other models).
///
/// # Errors
/// As [`search`], and those of `score`.
pub fn search_with<F>(
    data: &SearchData<'_>,
    fit: &[usize],
    cfg: &PaperAConfig,
    settings: &SearchSettings,
    k: u64,
    score: F,
) -> Result<Option<Selection>>
where
    F: Fn(&ParamPoint, &Dataset, usize, &Fold) -> Result<f64> + Sync,
{
    let seed = cfg.seed.wrapping_add(k);
    let sel_cfg = SelectionConfig::default()
        .folds(settings.folds)
        .seed(seed)
        .budget(settings.budget);
    select(
        &settings.grid,
        fit,
        Some(data.default.graphs.labels.view()),
        &sel_cfg,
        |point, fold_index, fold| -> Result<f64> {
            let ds = data.get(&data.setting_of(point)?)?;
            score(point, ds, fold_index, fold)
        },
    )
}

/// Sample F1 at τ on `fold.test` of a GCN with the point's classifier settings trained on
/// `fold.train` (ML-ROS as the run) of `data`.
fn fold_score(
    data: &Dataset,
    point: &ParamPoint,
    fold_index: usize,
    fold: &Fold,
    cfg: &PaperAConfig,
    seed: u64,
) -> Result<f64> {
    let ds = &data.graphs;
    let y = ds.labels.mapv(f32::from);
    let tau = cfg.classifier.threshold;
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
}
