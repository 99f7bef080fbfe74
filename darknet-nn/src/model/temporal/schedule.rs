//! Link-prediction training and Paper B's four training schedules (docs/paper-b.md#schedules,
//! docs/choices.md: B5–B7).

use super::encoder::{
    EdgePredictor, EdgePredictorCache, GcnEncoder, GcnEncoderCache, GcnGruEncoder, NodeInput,
};
use super::rows::{RowsCache, RowsWindow};
use super::snapshot::DaySnapshot;
use crate::layers::BatchNorm1d;
use crate::loss::nll_into;
use crate::param::{visit_child_buffers, visit_child_params};
use crate::persist::{Persist, TensorShapes};
use crate::train::{check_loss, EarlyStopping, StopDecision};
use crate::{Adam, AdamConfig, Float, HasParams, Mode, NnError, ParamMut, Result};
use ndarray::{Array2, ArrayView2, ArrayViewMutD};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// Which of Paper B's encoders and training schedules (docs/paper-b.md#schedules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum TemporalKind {
    /// Static GCN: a fresh model per day, trained up to `max_epochs` with early stopping on that
    /// day's edges; the best epoch's model embeds the day.
    Gcn,
    /// i-GCN: one model; every day it trains `incremental_epochs` more epochs on the new day
    /// (optimizer state kept: fine-tuned properly every day, B6), then embeds the day.
    IncrementalGcn,
    /// GCN-GRU: trained on the windows of the first `train_days` days (targets `history ..
    /// train_days`), up to `max_epochs` with early stopping, then frozen; every day is embedded
    /// with its window (B5).
    GcnGru,
    /// i-GCN-GRU: one model; for each day `t ≥ history` it trains `incremental_epochs` epochs on
    /// the window ending at `t` (GCN and GRU both updated), then embeds day `t` with that window.
    IncrementalGcnGru,
}

/// How BatchNorm normalizes when embeddings are extracted (B7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum BnInference {
    /// Evaluation mode: running statistics (PyTorch's `model.eval()`). Default.
    #[default]
    RunningStats,
    /// Batch statistics of the embedded rows, as the reference code (which never calls
    /// `.eval()`); running statistics are left untouched.
    BatchStats,
}

/// Which window embeds day `t` with a frozen GCN-GRU (B5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum GruTestWindow {
    /// Days `t − H ..= t` (the paper's formula, same shape as training windows). Default.
    #[default]
    IncludeDay,
    /// Days `t − H .. t`, the H days before `t` (the reference code); day 0 gets no embedding.
    /// The embedded hosts are still those active on day `t`.
    CodeWindow,
}

/// What early stopping watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Monitor {
    /// The training loss (lower is better). Default.
    #[default]
    Loss,
    /// The training accuracy at 0.5 on P(edge) (higher is better), as the reference code.
    Accuracy,
}

/// Hyper-parameters of Paper B's encoders and schedules; [`TemporalConfig::fit`] trains.
///
/// Defaults (docs/paper-b.md#encoders, docs/paper-b.md#schedules): GCN dims `[1024, 512]`,
/// embeddings 128, predictor hidden 64, Adam lr 1e-3 and weight decay 5e-3, up to 50 epochs with
/// patience 3 on the training loss, incremental epochs 1 with features / 5 without, history H = 5,
/// 20 training days, with node features, BatchNorm in eval mode at inference, GCN-GRU test windows
/// that include the day, seed 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemporalConfig {
    /// Encoder and schedule.
    pub kind: TemporalKind,
    /// Use the snapshots' node features; `false` feeds the identity of the node universe.
    pub use_features: bool,
    /// Size of the global node universe (identity input width); 0 = max id + 1 over the
    /// snapshots given to `fit`.
    pub n_nodes: usize,
    /// Output sizes of the GCN layers.
    pub gcn_dims: Vec<usize>,
    /// Embedding size (FC output, or GRU hidden size).
    pub emb_dim: usize,
    /// Hidden units of the edge predictor.
    pub predictor_hidden: usize,
    /// Optimizer.
    pub adam: AdamConfig,
    /// Epoch limit of the non-incremental schedules.
    pub max_epochs: usize,
    /// Early-stopping patience (epochs without improvement); 0 disables it.
    pub patience: usize,
    /// What early stopping watches.
    pub monitor: Monitor,
    /// Epochs per day of the incremental schedules; `None` = 1 with features, 5 without.
    pub incremental_epochs: Option<usize>,
    /// History H: a GRU window holds H + 1 days.
    pub history: usize,
    /// Days M used to train the (frozen) GCN-GRU.
    pub train_days: usize,
    /// BatchNorm at inference (B7).
    pub bn_inference: BnInference,
    /// Window embedding a day with the frozen GCN-GRU (B5).
    pub gru_test_window: GruTestWindow,
    /// Seed of every initialisation.
    pub seed: u64,
}

impl Default for TemporalConfig {
    fn default() -> Self {
        Self {
            kind: TemporalKind::IncrementalGcnGru,
            use_features: true,
            n_nodes: 0,
            gcn_dims: vec![1024, 512],
            emb_dim: 128,
            predictor_hidden: 64,
            adam: AdamConfig::default().learning_rate(1e-3).weight_decay(5e-3),
            max_epochs: 50,
            patience: 3,
            monitor: Monitor::Loss,
            incremental_epochs: None,
            history: 5,
            train_days: 20,
            bn_inference: BnInference::RunningStats,
            gru_test_window: GruTestWindow::IncludeDay,
            seed: 0,
        }
    }
}

/// Progress of a training run, reported after every optimizer step (epoch of a day or window).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TemporalProgress {
    /// Snapshot index the step trained on (the window's last day for GRU models).
    pub day: usize,
    /// Epoch (0-based) within the day (or, for GCN-GRU, of the whole training).
    pub epoch: usize,
    /// Link-prediction NLL of the step.
    pub loss: f64,
    /// Training accuracy at 0.5 of the step.
    pub accuracy: f64,
    /// Seconds since `fit` started.
    pub elapsed_secs: f64,
}

/// The host embeddings of one day.
#[derive(Debug, Clone, PartialEq)]
pub struct DayEmbeddings {
    /// Global ids of the day's active hosts, ascending. Shape (n_hosts,).
    pub host_ids: Vec<u32>,
    /// Their embeddings, (n_hosts, emb_dim).
    pub embeddings: Array2<f32>,
}

/// A link-prediction model: an encoder and the edge predictor.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkModel<E> {
    /// The encoder (`encoder.*`).
    pub encoder: E,
    /// The edge predictor (`predictor.*`).
    pub predictor: EdgePredictor<f32>,
}

impl<E: HasParams<f32>> HasParams<f32> for LinkModel<E> {
    fn visit_params(&mut self, f: &mut dyn FnMut(&str, ParamMut<'_, f32>)) {
        visit_child_params("encoder", &mut self.encoder, f);
        visit_child_params("predictor", &mut self.predictor, f);
    }
    fn visit_buffers(&mut self, f: &mut dyn FnMut(&str, ArrayViewMutD<'_, f32>)) {
        visit_child_buffers("encoder", &mut self.encoder, f);
    }
}

/// The GCN / i-GCN link-prediction model.
pub type GcnLinkModel = LinkModel<GcnEncoder<f32>>;

/// The GCN-GRU / i-GCN-GRU link-prediction model.
pub type GcnGruLinkModel = LinkModel<GcnGruEncoder<f32>>;

/// Per-day outputs of a schedule.
type DayOutputs = Vec<Option<DayEmbeddings>>;

/// A trained model of either family.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum TemporalModel {
    /// GCN / i-GCN.
    Gcn(Box<GcnLinkModel>),
    /// GCN-GRU / i-GCN-GRU.
    GcnGru(Box<GcnGruLinkModel>),
}

impl HasParams<f32> for TemporalModel {
    fn visit_params(&mut self, f: &mut dyn FnMut(&str, ParamMut<'_, f32>)) {
        match self {
            TemporalModel::Gcn(m) => m.visit_params(f),
            TemporalModel::GcnGru(m) => m.visit_params(f),
        }
    }
    fn visit_buffers(&mut self, f: &mut dyn FnMut(&str, ArrayViewMutD<'_, f32>)) {
        match self {
            TemporalModel::Gcn(m) => m.visit_buffers(f),
            TemporalModel::GcnGru(m) => m.visit_buffers(f),
        }
    }
}

/// The result of [`TemporalConfig::fit`].
#[derive(Debug, Clone)]
pub struct TemporalRun {
    /// Per snapshot: the day's host embeddings, or `None` when the schedule gives none (GRU
    /// days without a full history for i-GCN-GRU, day 0 with the code's test window).
    pub embeddings: Vec<Option<DayEmbeddings>>,
    /// Every optimizer step's progress record (the learning curve).
    pub history: Vec<TemporalProgress>,
    /// Seconds spent training (forward, backward, optimizer steps).
    pub train_secs: f64,
    /// Seconds spent extracting embeddings.
    pub embed_secs: f64,
    /// The final model (for the static GCN: the last day's).
    pub model: TemporalModel,
}

impl TemporalConfig {
    /// The defaults listed on [`TemporalConfig`] with the given schedule.
    pub fn new(kind: TemporalKind) -> Self {
        Self {
            kind,
            ..Self::default()
        }
    }
    /// Uses node features (`true`) or the identity input (`false`).
    pub fn use_features(mut self, yes: bool) -> Self {
        self.use_features = yes;
        self
    }
    /// Sets the node universe size.
    pub fn n_nodes(mut self, n: usize) -> Self {
        self.n_nodes = n;
        self
    }
    /// Sets the GCN output sizes.
    pub fn gcn_dims(mut self, dims: Vec<usize>) -> Self {
        self.gcn_dims = dims;
        self
    }
    /// Sets the embedding size.
    pub fn emb_dim(mut self, d: usize) -> Self {
        self.emb_dim = d;
        self
    }
    /// Sets the predictor's hidden units.
    pub fn predictor_hidden(mut self, d: usize) -> Self {
        self.predictor_hidden = d;
        self
    }
    /// Sets the optimizer.
    pub fn adam(mut self, adam: AdamConfig) -> Self {
        self.adam = adam;
        self
    }
    /// Sets the epoch limit.
    pub fn max_epochs(mut self, n: usize) -> Self {
        self.max_epochs = n;
        self
    }
    /// Sets the patience (0 = none).
    pub fn patience(mut self, n: usize) -> Self {
        self.patience = n;
        self
    }
    /// Sets what early stopping watches.
    pub fn monitor(mut self, m: Monitor) -> Self {
        self.monitor = m;
        self
    }
    /// Sets the epochs per day of the incremental schedules.
    pub fn incremental_epochs(mut self, n: usize) -> Self {
        self.incremental_epochs = Some(n);
        self
    }
    /// Sets the history H.
    pub fn history(mut self, h: usize) -> Self {
        self.history = h;
        self
    }
    /// Sets the number of GCN-GRU training days M.
    pub fn train_days(mut self, m: usize) -> Self {
        self.train_days = m;
        self
    }
    /// Sets BatchNorm's inference mode.
    pub fn bn_inference(mut self, b: BnInference) -> Self {
        self.bn_inference = b;
        self
    }
    /// Sets the frozen GCN-GRU's test window.
    pub fn gru_test_window(mut self, w: GruTestWindow) -> Self {
        self.gru_test_window = w;
        self
    }
    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Epochs per day of the incremental schedules (resolving the default).
    pub fn epochs_per_day(&self) -> usize {
        self.incremental_epochs
            .unwrap_or(if self.use_features { 1 } else { 5 })
    }

    /// Checks every field; [`NnError::InvalidConfig`] names the first bad one.
    pub fn validate(&self) -> Result<()> {
        let bad = |field: &'static str, value: String, reason: &'static str| {
            Err(NnError::InvalidConfig {
                field,
                value,
                reason,
            })
        };
        if self.gcn_dims.is_empty() || self.gcn_dims.contains(&0) {
            return bad(
                "gcn_dims",
                format!("{:?}", self.gcn_dims),
                "one or more sizes, each >= 1",
            );
        }
        if self.emb_dim == 0 {
            return bad("emb_dim", "0".into(), "must be at least 1");
        }
        if self.predictor_hidden == 0 {
            return bad("predictor_hidden", "0".into(), "must be at least 1");
        }
        if self.max_epochs == 0 {
            return bad("max_epochs", "0".into(), "must be at least 1");
        }
        if self.incremental_epochs == Some(0) {
            return bad("incremental_epochs", "0".into(), "must be at least 1");
        }
        if self.kind == TemporalKind::GcnGru && self.train_days <= self.history {
            return bad(
                "train_days",
                self.train_days.to_string(),
                "must exceed history (at least one full training window)",
            );
        }
        self.adam.validate()
    }

    /// Trains the configured schedule on `snapshots` (one per day, in time order) and embeds
    /// every day's hosts.
    ///
    /// `progress` is called after every optimizer step.
    ///
    /// Errors: [`NnError::InvalidConfig`]; [`NnError::Empty`] (no snapshots, a trained day
    /// without positive and negative pairs); [`NnError::ShapeMismatch`] (feature widths differ
    /// between days); [`NnError::InvalidNodeIds`] (an id beyond `n_nodes`); [`NnError::NanLoss`]
    /// naming the step; errors of the layers.
    pub fn fit(
        &self,
        snapshots: &[DaySnapshot<f32>],
        progress: &mut dyn FnMut(&TemporalProgress),
    ) -> Result<TemporalRun> {
        self.validate()?;
        if snapshots.is_empty() {
            return Err(NnError::Empty {
                what: "no snapshots".to_string(),
            });
        }
        let n_feat = snapshots[0].features.ncols();
        for s in snapshots {
            crate::error::check_shape(
                "TemporalConfig::fit",
                "features",
                &[s.n_nodes(), n_feat],
                s.features.shape(),
            )?;
            if self.use_features {
                crate::error::check_finite("TemporalConfig::fit", "features", s.features.iter())?;
            }
        }
        let max_id = snapshots
            .iter()
            .filter_map(|s| s.node_ids.last())
            .max()
            .map_or(0, |&m| m as usize + 1);
        let n_nodes = if self.n_nodes == 0 {
            max_id
        } else {
            self.n_nodes
        };
        if max_id > n_nodes {
            return Err(NnError::InvalidNodeIds {
                row: 0,
                id: (max_id - 1) as u32,
                reason: "global id outside the model's node universe",
            });
        }
        let in_dim = if self.use_features { n_feat } else { n_nodes };
        let mut run = Runner {
            cfg: self,
            start: Instant::now(),
            train_secs: 0.0,
            embed_secs: 0.0,
            history: Vec::new(),
            progress,
        };
        let (embeddings, model) = match self.kind {
            TemporalKind::Gcn | TemporalKind::IncrementalGcn => {
                let (e, m) = run.gcn_schedule(snapshots, in_dim)?;
                (e, TemporalModel::Gcn(Box::new(m)))
            }
            TemporalKind::GcnGru | TemporalKind::IncrementalGcnGru => {
                let (e, m) = run.gru_schedule(snapshots, in_dim)?;
                (e, TemporalModel::GcnGru(Box::new(m)))
            }
        };
        Ok(TemporalRun {
            embeddings,
            history: run.history,
            train_secs: run.train_secs,
            embed_secs: run.embed_secs,
            model,
        })
    }

    fn new_gcn(&self, in_dim: usize, seed: u64) -> LinkModel<GcnEncoder<f32>> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        LinkModel {
            encoder: GcnEncoder::new(in_dim, &self.gcn_dims, self.emb_dim, &mut rng),
            predictor: EdgePredictor::new(self.emb_dim, self.predictor_hidden, &mut rng),
        }
    }

    fn new_gru(&self, in_dim: usize, seed: u64) -> LinkModel<GcnGruEncoder<f32>> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        LinkModel {
            encoder: GcnGruEncoder::new(in_dim, &self.gcn_dims, self.emb_dim, &mut rng),
            predictor: EdgePredictor::new(self.emb_dim, self.predictor_hidden, &mut rng),
        }
    }
}

/// Early stopping on the monitored quantity (accuracy is negated: lower is better).
fn stopper_update(stop: &mut EarlyStopping, monitor: Monitor, loss: f64, acc: f64) -> StopDecision {
    stop.update(match monitor {
        Monitor::Loss => loss,
        Monitor::Accuracy => -acc,
    })
}

struct Runner<'a> {
    cfg: &'a TemporalConfig,
    start: Instant,
    train_secs: f64,
    embed_secs: f64,
    history: Vec<TemporalProgress>,
    progress: &'a mut dyn FnMut(&TemporalProgress),
}

impl Runner<'_> {
    fn record(&mut self, day: usize, epoch: usize, loss: f64, accuracy: f64) -> Result<()> {
        check_loss(self.history.len(), loss)?;
        let p = TemporalProgress {
            day,
            epoch,
            loss,
            accuracy,
            elapsed_secs: self.start.elapsed().as_secs_f64(),
        };
        self.history.push(p);
        (self.progress)(&p);
        Ok(())
    }

    fn gcn_schedule(
        &mut self,
        snaps: &[DaySnapshot<f32>],
        in_dim: usize,
    ) -> Result<(DayOutputs, GcnLinkModel)> {
        let cfg = self.cfg;
        let feats = cfg.use_features;
        let mut out = Vec::with_capacity(snaps.len());
        let mut model = cfg.new_gcn(in_dim, cfg.seed);
        let mut adam = Adam::new(cfg.adam)?;
        let mut ws = StepWorkspace::new();
        for (t, s) in snaps.iter().enumerate() {
            let t0 = Instant::now();
            let best = if cfg.kind == TemporalKind::Gcn {
                model = cfg.new_gcn(in_dim, mix(cfg.seed, t as u64));
                adam = Adam::new(cfg.adam)?;
                let mut stop = EarlyStopping::new(cfg.patience, 0.0);
                let mut best = None;
                for epoch in 0..cfg.max_epochs {
                    let (loss, acc) = gcn_step_into(&mut model, s, feats, &mut adam, &mut ws)?;
                    self.record(t, epoch, loss, acc)?;
                    let decision = stopper_update(&mut stop, cfg.monitor, loss, acc);
                    if decision == StopDecision::Improved {
                        // The weights that produced this epoch's loss are those before the step;
                        // as the reference code we keep the model after the best epoch's step.
                        best = Some(model.clone());
                    }
                    if decision == StopDecision::Stop {
                        break;
                    }
                }
                best
            } else {
                for epoch in 0..cfg.epochs_per_day() {
                    let (loss, acc) = gcn_step_into(&mut model, s, feats, &mut adam, &mut ws)?;
                    self.record(t, epoch, loss, acc)?;
                }
                None
            };
            self.train_secs += t0.elapsed().as_secs_f64();
            let t1 = Instant::now();
            if let Some(b) = best {
                model = b;
            }
            out.push(Some(gcn_embed(&mut model, s, feats, cfg.bn_inference)?));
            self.embed_secs += t1.elapsed().as_secs_f64();
        }
        Ok((out, model))
    }

    fn gru_schedule(
        &mut self,
        snaps: &[DaySnapshot<f32>],
        in_dim: usize,
    ) -> Result<(DayOutputs, GcnGruLinkModel)> {
        let cfg = self.cfg;
        let feats = cfg.use_features;
        let h = cfg.history;
        let mut model = cfg.new_gru(in_dim, cfg.seed);
        let mut adam = Adam::new(cfg.adam)?;
        let mut ws = StepWorkspace::new();
        let window = |t: usize| -> Vec<&DaySnapshot<f32>> {
            snaps[t.saturating_sub(h)..=t].iter().collect()
        };
        let mut out: Vec<Option<DayEmbeddings>> = vec![None; snaps.len()];
        if cfg.kind == TemporalKind::GcnGru {
            let m = cfg.train_days.min(snaps.len());
            if m <= h {
                return Err(NnError::Empty {
                    what: format!(
                        "GCN-GRU training windows: {} snapshot(s) for history {h}",
                        snaps.len()
                    ),
                });
            }
            let t0 = Instant::now();
            let mut stop = EarlyStopping::new(cfg.patience, 0.0);
            for epoch in 0..cfg.max_epochs {
                let mut last = (0.0, 0.0);
                for t in h..m {
                    last = gru_step_into(&mut model, &window(t), feats, &mut adam, &mut ws)?;
                    self.record(t, epoch, last.0, last.1)?;
                }
                if stopper_update(&mut stop, cfg.monitor, last.0, last.1) == StopDecision::Stop {
                    break;
                }
            }
            self.train_secs += t0.elapsed().as_secs_f64();
            let t1 = Instant::now();
            for (t, slot) in out.iter_mut().enumerate() {
                let w: Vec<&DaySnapshot<f32>> = match cfg.gru_test_window {
                    GruTestWindow::IncludeDay => window(t),
                    GruTestWindow::CodeWindow => snaps[t.saturating_sub(h)..t].iter().collect(),
                };
                if !w.is_empty() {
                    *slot = Some(gru_embed(
                        &mut model,
                        &w,
                        &snaps[t],
                        feats,
                        cfg.bn_inference,
                    )?);
                }
            }
            self.embed_secs += t1.elapsed().as_secs_f64();
        } else {
            for t in h..snaps.len() {
                let w = window(t);
                let t0 = Instant::now();
                for epoch in 0..cfg.epochs_per_day() {
                    let (loss, acc) = gru_step_into(&mut model, &w, feats, &mut adam, &mut ws)?;
                    self.record(t, epoch, loss, acc)?;
                }
                self.train_secs += t0.elapsed().as_secs_f64();
                let t1 = Instant::now();
                out[t] = Some(gru_embed(
                    &mut model,
                    &w,
                    &snaps[t],
                    feats,
                    cfg.bn_inference,
                )?);
                self.embed_secs += t1.elapsed().as_secs_f64();
            }
        }
        Ok((out, model))
    }
}

/// Link-prediction loss of `log_probs` (m, 2) against `labels` (m): returns the mean NLL and
/// the accuracy at 0.5 on P(edge), and writes the gradient (m, 2) into `grad` (reshaped in
/// place).
fn link_loss_into<T: Float>(
    log_probs: ArrayView2<'_, T>,
    labels: &[usize],
    grad: &mut Array2<T>,
) -> Result<(f64, f64)> {
    let loss = nll_into(log_probs, labels, grad)?;
    let correct = log_probs
        .rows()
        .into_iter()
        .zip(labels)
        .filter(|(r, &l)| ((r[1].as_f64().exp() > 0.5) as usize) == l)
        .count();
    Ok((loss.as_f64(), correct as f64 / labels.len().max(1) as f64))
}

fn check_pairs<T: Float>(s: &DaySnapshot<T>) -> Result<()> {
    if s.positives.is_empty() && s.negatives.is_empty() {
        return Err(NnError::Empty {
            what: "snapshot without positive or negative pairs to train on".to_string(),
        });
    }
    Ok(())
}

/// The buffers of [`gcn_step_into`] and [`gru_step_into`]: encoder and edge-predictor caches,
/// the link-prediction pairs and labels, and the gradients. Keep one across epochs and days so
/// the steps reuse every buffer instead of allocating them.
#[derive(Debug, Clone, Default)]
pub struct StepWorkspace {
    gcn: GcnEncoderCache<f32>,
    rows: RowsCache<f32>,
    rows_window: RowsWindow,
    predictor: EdgePredictorCache<f32>,
    src: Vec<usize>,
    dst: Vec<usize>,
    labels: Vec<usize>,
    d_log_probs: Array2<f32>,
    d_emb: Array2<f32>,
}

impl StepWorkspace {
    /// An empty workspace.
    pub fn new() -> Self {
        Self::default()
    }
}

/// One full-batch optimizer step of a GCN link model on one day; returns (loss, accuracy).
pub fn gcn_step(
    model: &mut LinkModel<GcnEncoder<f32>>,
    s: &DaySnapshot<f32>,
    use_features: bool,
    adam: &mut Adam<f32>,
) -> Result<(f64, f64)> {
    // The allocating layer calls free their temporaries as they go: for a single step this
    // touches less memory than a fresh `StepWorkspace`, which keeps every buffer for reuse.
    check_pairs(s)?;
    model.zero_grad();
    let input = if use_features {
        NodeInput::Features(s.features.view())
    } else {
        NodeInput::Identity(&s.node_ids)
    };
    let (emb, ec) = model.encoder.forward(&s.adj, input, Mode::Train)?;
    let (mut src, mut dst, mut lab) = (Vec::new(), Vec::new(), Vec::new());
    s.pairs_into(&mut src, &mut dst, &mut lab);
    let (lp, pc) = model.predictor.forward(emb.view(), &src, &dst)?;
    let mut g = Array2::zeros((0, 0));
    let (loss, acc) = link_loss_into(lp.view(), &lab, &mut g)?;
    if !loss.is_finite() {
        return Ok((loss, acc));
    }
    let d_emb = model.predictor.backward(&pc, g.view())?;
    model.encoder.backward(&s.adj_t, &ec, d_emb.view())?;
    adam.step(model)?;
    Ok((loss, acc))
}

/// [`gcn_step`] with the buffers of `ws`, reused across calls (no allocation per step once
/// they have grown to the day's size, apart from matrixmultiply's packing buffers). Same
/// result, bit for bit.
pub fn gcn_step_into(
    model: &mut LinkModel<GcnEncoder<f32>>,
    s: &DaySnapshot<f32>,
    use_features: bool,
    adam: &mut Adam<f32>,
    ws: &mut StepWorkspace,
) -> Result<(f64, f64)> {
    check_pairs(s)?;
    model.zero_grad();
    let input = if use_features {
        NodeInput::Features(s.features.view())
    } else {
        NodeInput::Identity(&s.node_ids)
    };
    model
        .encoder
        .forward_into(&s.adj, input, Mode::Train, &mut ws.gcn)?;
    s.pairs_into(&mut ws.src, &mut ws.dst, &mut ws.labels);
    model
        .predictor
        .forward_into(ws.gcn.embeddings(), &ws.src, &ws.dst, &mut ws.predictor)?;
    let (loss, acc) = link_loss_into(ws.predictor.log_probs(), &ws.labels, &mut ws.d_log_probs)?;
    if !loss.is_finite() {
        return Ok((loss, acc));
    }
    model
        .predictor
        .backward_into(&mut ws.predictor, ws.d_log_probs.view(), &mut ws.d_emb)?;
    model
        .encoder
        .backward_into(&s.adj_t, &mut ws.gcn, ws.d_emb.view())?;
    adam.step(model)?;
    Ok((loss, acc))
}

/// One full-batch optimizer step of a GCN-GRU link model on a window (oldest day first; the
/// last day's pairs are the targets); returns (loss, accuracy).
///
/// The target day's active nodes carry the loss: the GRU runs over them only, each day's GCN
/// on its own graph ([`GcnGruEncoder::forward_rows`]).
pub fn gru_step(
    model: &mut LinkModel<GcnGruEncoder<f32>>,
    window: &[&DaySnapshot<f32>],
    use_features: bool,
    adam: &mut Adam<f32>,
) -> Result<(f64, f64)> {
    gru_step_into(model, window, use_features, adam, &mut StepWorkspace::new())
}

/// [`gru_step`] with every buffer in `ws` (row maps, encoder, edge predictor, pairs,
/// gradients), reused across calls: once the buffers have grown to the window's size a step
/// allocates only matrixmultiply's packing buffers and the window's short list of per-day
/// views.
pub fn gru_step_into(
    model: &mut LinkModel<GcnGruEncoder<f32>>,
    window: &[&DaySnapshot<f32>],
    use_features: bool,
    adam: &mut Adam<f32>,
    ws: &mut StepWorkspace,
) -> Result<(f64, f64)> {
    let target = window
        .last()
        .ok_or(NnError::EmptyBatch { op: "gru_step" })?;
    check_pairs(target)?;
    model.zero_grad();
    ws.rows_window.refill(window, &target.node_ids);
    let days = ws.rows_window.days(window);
    model
        .encoder
        .forward_rows_into(&days, use_features, Mode::Train, &mut ws.rows)?;
    // Row r of the encoder output is the target's local row r: the pairs need no re-indexing.
    target.pairs_into(&mut ws.src, &mut ws.dst, &mut ws.labels);
    model
        .predictor
        .forward_into(ws.rows.embeddings(), &ws.src, &ws.dst, &mut ws.predictor)?;
    let (loss, acc) = link_loss_into(ws.predictor.log_probs(), &ws.labels, &mut ws.d_log_probs)?;
    if !loss.is_finite() {
        return Ok((loss, acc));
    }
    model
        .predictor
        .backward_into(&mut ws.predictor, ws.d_log_probs.view(), &mut ws.d_emb)?;
    model
        .encoder
        .backward_rows(&days, &mut ws.rows, ws.d_emb.view())?;
    adam.step(model)?;
    Ok((loss, acc))
}

type BnState = (
    ndarray::Array1<f32>,
    ndarray::Array1<f32>,
    ndarray::Array0<f32>,
);

/// The BatchNorm mode of an embedding pass and the running statistics to restore after it (a
/// batch-statistics pass must not move them).
fn bn_pass(bn: &BatchNorm1d<f32>, mode: BnInference) -> (Mode, BnState) {
    let saved = (
        bn.running_mean.clone(),
        bn.running_var.clone(),
        bn.num_batches_tracked.clone(),
    );
    let mode = match mode {
        BnInference::RunningStats => Mode::Eval,
        BnInference::BatchStats => Mode::Train,
    };
    (mode, saved)
}

fn bn_restore(bn: &mut BatchNorm1d<f32>, (m, v, n): BnState) {
    bn.running_mean = m;
    bn.running_var = v;
    bn.num_batches_tracked = n;
}

/// Embeds one day's hosts with a GCN encoder: rows `0..n_hosts` of the encoder output.
pub fn gcn_embed(
    model: &mut LinkModel<GcnEncoder<f32>>,
    s: &DaySnapshot<f32>,
    use_features: bool,
    bn: BnInference,
) -> Result<DayEmbeddings> {
    let input = if use_features {
        NodeInput::Features(s.features.view())
    } else {
        NodeInput::Identity(&s.node_ids)
    };
    let enc = &mut model.encoder;
    let (mode, saved) = bn_pass(&enc.bn, bn);
    let r = enc.forward(&s.adj, input, mode);
    bn_restore(&mut enc.bn, saved);
    let e = r?.0;
    Ok(DayEmbeddings {
        host_ids: s.host_ids().to_vec(),
        embeddings: e
            .slice_axis(ndarray::Axis(0), (0..s.n_hosts).into())
            .to_owned(),
    })
}

/// Embeds the hosts active on `day` with a GCN-GRU encoder run over `window` (oldest first).
///
/// `day` is normally the window's last snapshot. With the reference code's window (the H days
/// before `day`), a host of `day` absent from every graph of the window is embedded as a node
/// isolated on every step.
pub fn gru_embed(
    model: &mut LinkModel<GcnGruEncoder<f32>>,
    window: &[&DaySnapshot<f32>],
    day: &DaySnapshot<f32>,
    use_features: bool,
    bn: BnInference,
) -> Result<DayEmbeddings> {
    // The day's active nodes (hosts, then ports), each window day's GCN on its own graph; a
    // node of the day absent from a window day is isolated there (see `rows`).
    let rw = RowsWindow::new(window, &day.node_ids);
    let days = rw.days(window);
    let enc = &mut model.encoder;
    let (mode, saved) = bn_pass(&enc.bn, bn);
    let r = enc.forward_rows(&days, use_features, mode);
    bn_restore(&mut enc.bn, saved);
    let e = r?.0;
    Ok(DayEmbeddings {
        host_ids: day.host_ids().to_vec(),
        embeddings: e
            .slice_axis(ndarray::Axis(0), (0..day.n_hosts).into())
            .to_owned(),
    })
}

/// SplitMix64 of (seed, t): per-day seeds of the static GCN.
fn mix(seed: u64, t: u64) -> u64 {
    let mut z = seed
        ^ t.wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(0x632B_E59B_D9B4_E019);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Saved description of a [`TemporalModel`]: its family and layer sizes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemporalModelMeta {
    /// `"gcn"` (GCN / i-GCN) or `"gcn_gru"` (GCN-GRU / i-GCN-GRU).
    pub family: String,
    /// Input width: 37 with node features, the node universe size without.
    pub in_dim: usize,
    /// Output sizes of the GCN layers.
    pub gcn_dims: Vec<usize>,
    /// Embedding size.
    pub emb_dim: usize,
    /// Hidden units of the edge predictor.
    pub predictor_hidden: usize,
}

impl TemporalModel {
    /// The family and layer sizes (what [`Persist`] saves as JSON).
    pub fn describe(&self) -> TemporalModelMeta {
        let (family, gcn, pred) = match self {
            TemporalModel::Gcn(m) => ("gcn", &m.encoder.gcn, &m.predictor),
            TemporalModel::GcnGru(m) => ("gcn_gru", &m.encoder.gcn, &m.predictor),
        };
        TemporalModelMeta {
            family: family.to_string(),
            in_dim: gcn.in_dim(),
            gcn_dims: gcn.layers.iter().map(|l| l.out_dim()).collect(),
            emb_dim: pred.fc1.in_dim() / 2,
            predictor_hidden: pred.fc1.out_dim(),
        }
    }

    /// Host embeddings of one day with a GCN model, or of the window's last day with a GCN-GRU
    /// model (`window` oldest first; a GCN model uses only its last snapshot).
    ///
    /// Errors: [`NnError::EmptyBatch`] for an empty window, errors of the layers.
    pub fn embed(
        &mut self,
        window: &[&DaySnapshot<f32>],
        use_features: bool,
        bn: BnInference,
    ) -> Result<DayEmbeddings> {
        let last = *window.last().ok_or(NnError::EmptyBatch {
            op: "TemporalModel::embed",
        })?;
        match self {
            TemporalModel::Gcn(m) => gcn_embed(m, last, use_features, bn),
            TemporalModel::GcnGru(m) => gru_embed(m, window, last, use_features, bn),
        }
    }
}

impl Persist<f32> for TemporalModel {
    type Meta = TemporalModelMeta;
    const KIND: &'static str = "paper_b_temporal";
    const FORMAT: u32 = 2;
    const FORMAT_CHANGE: &'static str =
        "format 2 stores GCN weights (out, in) as PyTorch, format 1 stored them (in, out)";
    fn meta(&self) -> Self::Meta {
        self.describe()
    }
    fn check_shapes(meta: &Self::Meta, shapes: &TensorShapes) -> Result<()> {
        let mut prev = meta.in_dim;
        for (k, &d) in meta.gcn_dims.iter().enumerate() {
            let name = format!("encoder.gcn.{k}.weight");
            shapes.expect("in_dim, gcn_dims", &name, &[d, prev])?;
            prev = d;
        }
        let e = meta.emb_dim;
        match meta.family.as_str() {
            "gcn_gru" => {
                shapes.expect(
                    "emb_dim",
                    "encoder.gru.weight_ih_l0",
                    &[e.saturating_mul(3), prev],
                )?;
                shapes.expect(
                    "emb_dim",
                    "encoder.gru.weight_hh_l0",
                    &[e.saturating_mul(3), e],
                )?;
            }
            _ => shapes.expect("emb_dim", "encoder.fc.weight", &[e, prev])?,
        }
        let h = meta.predictor_hidden;
        shapes.expect(
            "predictor_hidden",
            "predictor.fc1.weight",
            &[h, e.saturating_mul(2)],
        )?;
        shapes.expect("predictor_hidden", "predictor.fc2.weight", &[2, h])
    }
    fn from_meta(meta: &Self::Meta) -> Result<Self> {
        let cfg = TemporalConfig::default()
            .gcn_dims(meta.gcn_dims.clone())
            .emb_dim(meta.emb_dim)
            .predictor_hidden(meta.predictor_hidden);
        cfg.validate()?;
        match meta.family.as_str() {
            "gcn" => Ok(TemporalModel::Gcn(Box::new(cfg.new_gcn(meta.in_dim, 0)))),
            "gcn_gru" => Ok(TemporalModel::GcnGru(Box::new(cfg.new_gru(meta.in_dim, 0)))),
            other => Err(NnError::InvalidConfig {
                field: "family",
                value: other.to_string(),
                reason: "must be \"gcn\" or \"gcn_gru\"",
            }),
        }
    }
}
