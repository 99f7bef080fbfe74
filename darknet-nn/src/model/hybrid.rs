//! A hybrid multi-label classifier: Paper A's graph classifier whose pooled host-graph vector
//! is joined with a vector of per-host statistics before the fully connected block, trained
//! end to end. Beyond the paper.
//!
//! Why: the graph classifier sees the order of a host's packets (its host graph) and which
//! ports it touches (the port embeddings), but only poorly the aggregates a per-host
//! statistics model reads directly (packet and port counts, rates, protocol and flag shares).
//! Real labels differ in both. Joining the two lets one model use whichever carries the
//! labels.
//!
//! Architecture: `gcn_layers` GCN layers each followed by ReLU → mean pooling per graph →
//! `[pooled, standardize(stats)]` concatenated along the feature axis → `fc_layers` blocks
//! Linear → BatchNorm1d → ReLU → output Linear with one logit per label. Layer sizes are the
//! graph classifier's ([`geometric_sizes`]`(first_size, n_labels, gcn_layers + fc_layers)`);
//! the first fully connected layer (or the output layer when `fc_layers = 0`) takes
//! `last GCN size + n_stats` inputs. The statistics are standardized with the mean and the
//! population standard deviation of the training rows (a column with no spread is divided by
//! 1), stored in the model and saved with it. Loss: BCE with logits (mean, optional per-label
//! `pos_weight`); training: Adam, mini-batches, early stopping on the training loss, as the
//! graph classifier.
//!
//! Shapes: a [`GraphBatch`] with node features (n_nodes, n_features) holding n_graphs graphs,
//! and `stats` (n_graphs, n_stats) whose row `g` describes graph `g` → logits / scores
//! (n_graphs, n_labels); labels (n_graphs, n_labels) in {0, 1}. Tensor names: `gcn.{i}.*`,
//! `fc.{j}.linear.*`, `fc.{j}.bn.*`, `output.*` as [`super::GraphClassifier`], and the buffers
//! `stats.mean`, `stats.std` (n_stats).
//!
//! ```
//! use darknet_nn::batch::Graph;
//! use darknet_nn::model::HybridClassifierConfig;
//! use ndarray::{Array2, array};
//! use sprs::TriMat;
//! let mut t = TriMat::new((2, 2));
//! t.add_triplet(0, 1, 1.0f32);
//! t.add_triplet(1, 0, 1.0);
//! let adj = t.to_csr();
//! // Label 0 follows the graphs' features, label 1 the host statistic: only a model that
//! // reads both can fit both.
//! let graphs: Vec<Graph<f32>> = (0..8)
//!     .map(|i| Graph::new(&adj, Array2::from_elem((2, 2), if i % 2 == 0 { 1.0 } else { -1.0 })).unwrap())
//!     .collect();
//! let stats = Array2::from_shape_fn((8, 1), |(i, _)| if i % 4 < 2 { 10.0f32 } else { 0.0 });
//! let labels = Array2::from_shape_fn((8, 2), |(i, l)| {
//!     let on = if l == 0 { i % 2 == 0 } else { i % 4 < 2 };
//!     if on { 1.0f32 } else { 0.0 }
//! });
//! let cfg = HybridClassifierConfig::default().first_size(8).gcn_layers(1).fc_layers(1)
//!     .batch_size(4).max_epochs(100).learning_rate(0.05);
//! let (model, curve) = cfg.fit(&graphs, stats.view(), labels.view(), &mut |_| {}).unwrap();
//! assert!(curve.final_loss().unwrap() < curve.records[0].loss);
//! let pred = model.predict_graphs(&graphs, stats.view(), 4).unwrap();
//! assert_eq!(pred, labels.mapv(|v| v > 0.5));
//! ```

use super::{geometric_sizes, FcBlock, FcBlockCache};
use crate::batch::{GraphBatch, GraphDataset};
use crate::error::{check_finite, check_shape};
use crate::layers::{
    sigmoid, Gcn, GcnCache, Linear, LinearCache, MeanPool, MeanPoolCache, Relu, ReluCache,
};
use crate::loss::bce_with_logits;
use crate::param::{visit_child_buffers, visit_child_params};
use crate::persist::Persist;
use crate::train::{
    invalid, mini_batches, run_epochs, shuffled_indices, EpochRecord, LearningCurve, TrainConfig,
};
use crate::{Adam, Float, HasParams, Mode, NnError, ParamMut, Result};
use ndarray::{concatenate, Array1, Array2, ArrayView2, ArrayViewMutD, Axis, Slice};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Hyper-parameters of [`HybridClassifier`]. Defaults as the graph classifier's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HybridClassifierConfig {
    /// Size of the first GCN layer. Default 128. Must be >= 1.
    pub first_size: usize,
    /// Number of GCN layers. Default 2. 1 to 8.
    pub gcn_layers: usize,
    /// Number of fully connected hidden blocks after the join. Default 2. 0 to 8.
    pub fc_layers: usize,
    /// Decision threshold τ on the sigmoid scores. Default 0.5. In [0, 1].
    pub threshold: f64,
    /// Optional per-label weight of positive examples in the loss (PyTorch's `pos_weight`),
    /// one value per label, each finite and > 0. Default none.
    pub pos_weight: Option<Vec<f64>>,
    /// Training: defaults Adam lr 0.005, batch 32 graphs, 20 epochs, patience 3, seed 0.
    pub train: TrainConfig,
}

impl Default for HybridClassifierConfig {
    fn default() -> Self {
        Self {
            first_size: 128,
            gcn_layers: 2,
            fc_layers: 2,
            threshold: 0.5,
            pos_weight: None,
            train: TrainConfig::default()
                .learning_rate(0.005)
                .batch_size(32)
                .max_epochs(20)
                .patience(3),
        }
    }
}

impl HybridClassifierConfig {
    /// Sets the first layer size.
    pub fn first_size(mut self, n: usize) -> Self {
        self.first_size = n;
        self
    }
    /// Sets the number of GCN layers.
    pub fn gcn_layers(mut self, n: usize) -> Self {
        self.gcn_layers = n;
        self
    }
    /// Sets the number of fully connected blocks.
    pub fn fc_layers(mut self, n: usize) -> Self {
        self.fc_layers = n;
        self
    }
    /// Sets τ.
    pub fn threshold(mut self, tau: f64) -> Self {
        self.threshold = tau;
        self
    }
    /// Sets the per-label positive weights.
    pub fn pos_weight(mut self, w: Option<Vec<f64>>) -> Self {
        self.pos_weight = w;
        self
    }
    /// Sets the training settings.
    pub fn train(mut self, t: TrainConfig) -> Self {
        self.train = t;
        self
    }
    /// Sets the learning rate.
    pub fn learning_rate(mut self, lr: f64) -> Self {
        self.train = self.train.learning_rate(lr);
        self
    }
    /// Sets the maximum number of epochs.
    pub fn max_epochs(mut self, n: usize) -> Self {
        self.train.max_epochs = n;
        self
    }
    /// Sets the batch size (graphs per batch).
    pub fn batch_size(mut self, n: usize) -> Self {
        self.train.batch_size = n;
        self
    }
    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.train.seed = seed;
        self
    }

    /// Checks every field; the error names the first invalid one.
    pub fn validate(&self) -> Result<()> {
        if self.first_size == 0 {
            return Err(invalid("first_size", 0, "must be >= 1"));
        }
        if !(1..=8).contains(&self.gcn_layers) {
            return Err(invalid("gcn_layers", self.gcn_layers, "must be in 1..=8"));
        }
        if self.fc_layers > 8 {
            return Err(invalid("fc_layers", self.fc_layers, "must be in 0..=8"));
        }
        if !(0.0..=1.0).contains(&self.threshold) {
            return Err(invalid("threshold", self.threshold, "must be in [0, 1]"));
        }
        if let Some(w) = &self.pos_weight {
            if let Some(v) = w.iter().find(|v| !(v.is_finite() && **v > 0.0)) {
                return Err(invalid(
                    "pos_weight",
                    v,
                    "every weight must be finite and > 0",
                ));
            }
        }
        self.train.validate()
    }

    /// The hidden sizes: GCN outputs then FC outputs, `gcn_layers + fc_layers` values.
    pub fn hidden_sizes(&self, n_labels: usize) -> Vec<usize> {
        geometric_sizes(self.first_size, n_labels, self.gcn_layers + self.fc_layers)
    }

    /// Trains a hybrid classifier on the graphs of `data`, their statistics `stats`
    /// (n_graphs, n_stats) and `labels` (n_graphs, n_labels) in {0, 1}; the standardization of
    /// the statistics is fitted on these rows. Calls `progress` after each epoch.
    ///
    /// Errors: invalid config; [`NnError::ShapeMismatch`] if `stats` or `labels` have not one
    /// row per graph or `pos_weight` not one value per label; [`NnError::EmptyBatch`] for no
    /// graph; [`NnError::InvalidConfig`] for no statistic column; [`NnError::NonFinite`]
    /// statistics or labels; [`NnError::NanLoss`] if training diverges.
    pub fn fit<T: Float, D: GraphDataset<T> + ?Sized>(
        &self,
        data: &D,
        stats: ArrayView2<'_, T>,
        labels: ArrayView2<'_, T>,
        progress: &mut dyn FnMut(&EpochRecord),
    ) -> Result<(HybridClassifier<T>, LearningCurve)> {
        const OP: &str = "HybridClassifier::fit";
        self.validate()?;
        let n = data.n_graphs();
        if n == 0 || labels.ncols() == 0 {
            return Err(NnError::EmptyBatch { op: OP });
        }
        check_shape(OP, "labels", &[n, labels.ncols()], labels.shape())?;
        check_shape(OP, "stats", &[n, stats.ncols()], stats.shape())?;
        check_finite(OP, "labels", labels.iter())?;
        check_finite(OP, "stats", stats.iter())?;
        let mut rng = ChaCha8Rng::seed_from_u64(self.train.seed);
        let mut model = HybridClassifier::new(
            self.clone(),
            data.n_features(),
            stats.ncols(),
            labels.ncols(),
            &mut rng,
        )?;
        model.fit_standardization(stats)?;
        let mut adam = Adam::new(self.train.adam)?;
        let curve = run_epochs(
            &self.train,
            |_| model.train_epoch(data, stats, labels, &mut adam, &mut rng),
            progress,
        )?;
        Ok((model, curve))
    }
}

/// A multi-label classifier of host graphs joined with per-host statistics (see the module
/// doc).
#[derive(Debug, Clone, PartialEq)]
pub struct HybridClassifier<T: Float> {
    config: HybridClassifierConfig,
    n_features: usize,
    n_stats: usize,
    n_labels: usize,
    pos_weight: Option<Array1<T>>,
    /// Mean of each statistic over the training rows, (n_stats).
    pub stats_mean: Array1<T>,
    /// Population standard deviation of each statistic over the training rows (1 where it is
    /// 0), (n_stats).
    pub stats_std: Array1<T>,
    /// GCN layers.
    pub gcn: Vec<Gcn<T>>,
    /// Fully connected hidden blocks after the join.
    pub fc: Vec<FcBlock<T>>,
    /// Output layer, weight (n_labels, last hidden size).
    pub output: Linear<T>,
}

/// Caches of a [`HybridClassifier`] forward pass.
#[derive(Debug, Clone)]
pub struct HybridCache<T> {
    gcn: Vec<(GcnCache<T>, ReluCache<T>)>,
    pool: MeanPoolCache,
    /// Width of the pooled graph part of the joined vector.
    pooled_dim: usize,
    fc: Vec<FcBlockCache<T>>,
    output: LinearCache<T>,
}

/// Gradients of the inputs of a [`HybridClassifier`] from [`HybridClassifier::backward`].
#[derive(Debug, Clone, PartialEq)]
pub struct HybridInputGrads<T> {
    /// Gradient of the node features, (n_nodes, n_features).
    pub features: Array2<T>,
    /// Gradient of the raw (not standardized) statistics, (n_graphs, n_stats).
    pub stats: Array2<T>,
}

impl<T: Float> HybridClassifier<T> {
    /// A freshly initialised classifier for `n_features` node features, `n_stats` per-host
    /// statistics and `n_labels` labels (layers created in order GCN, FC, output, each drawing
    /// from `rng`); the standardization starts as the identity (mean 0, std 1).
    ///
    /// Errors: invalid config; [`NnError::InvalidConfig`] for zero features, statistics or
    /// labels; [`NnError::ShapeMismatch`] if `pos_weight` has not `n_labels` values.
    pub fn new(
        config: HybridClassifierConfig,
        n_features: usize,
        n_stats: usize,
        n_labels: usize,
        rng: &mut impl Rng,
    ) -> Result<Self> {
        config.validate()?;
        if n_features == 0 {
            return Err(invalid("n_features", 0, "must be >= 1"));
        }
        if n_stats == 0 {
            return Err(invalid(
                "n_stats",
                0,
                "must be >= 1 (without statistics use GraphClassifier)",
            ));
        }
        if n_labels == 0 {
            return Err(invalid("n_labels", 0, "must be >= 1"));
        }
        let pos_weight = match &config.pos_weight {
            None => None,
            Some(w) => {
                check_shape(
                    "HybridClassifier::new",
                    "pos_weight",
                    &[n_labels],
                    &[w.len()],
                )?;
                Some(w.iter().map(|&v| T::of(v)).collect())
            }
        };
        let sizes = config.hidden_sizes(n_labels);
        let mut prev = n_features;
        let mut gcn = Vec::new();
        for &s in &sizes[..config.gcn_layers] {
            gcn.push(Gcn::new(prev, s, rng));
            prev = s;
        }
        prev += n_stats;
        let mut fc = Vec::new();
        for &s in &sizes[config.gcn_layers..] {
            fc.push(FcBlock::new(prev, s, rng));
            prev = s;
        }
        let output = Linear::new(prev, n_labels, rng);
        Ok(Self {
            config,
            n_features,
            n_stats,
            n_labels,
            pos_weight,
            stats_mean: Array1::zeros(n_stats),
            stats_std: Array1::ones(n_stats),
            gcn,
            fc,
            output,
        })
    }

    /// The hyper-parameters.
    pub fn config(&self) -> &HybridClassifierConfig {
        &self.config
    }
    /// Width of the node features.
    pub fn n_features(&self) -> usize {
        self.n_features
    }
    /// Number of per-host statistics.
    pub fn n_stats(&self) -> usize {
        self.n_stats
    }
    /// Number of labels.
    pub fn n_labels(&self) -> usize {
        self.n_labels
    }

    /// Sets the standardization of the statistics from `stats` (n_rows, n_stats): column mean
    /// and population standard deviation (1 for a column without spread).
    ///
    /// Errors: [`NnError::ShapeMismatch`], [`NnError::EmptyBatch`] for no row,
    /// [`NnError::NonFinite`].
    pub fn fit_standardization(&mut self, stats: ArrayView2<'_, T>) -> Result<()> {
        const OP: &str = "HybridClassifier::fit_standardization";
        check_shape(OP, "stats", &[stats.nrows(), self.n_stats], stats.shape())?;
        if stats.nrows() == 0 {
            return Err(NnError::EmptyBatch { op: OP });
        }
        check_finite(OP, "stats", stats.iter())?;
        let n = stats.nrows() as f64;
        for (j, col) in stats.columns().into_iter().enumerate() {
            let mean = col.iter().map(|v| v.as_f64()).sum::<f64>() / n;
            let var = col.iter().map(|v| (v.as_f64() - mean).powi(2)).sum::<f64>() / n;
            let std = var.sqrt();
            self.stats_mean[j] = T::of(mean);
            self.stats_std[j] = T::of(if std > 1e-12 { std } else { 1.0 });
        }
        Ok(())
    }

    fn check_inputs(
        &self,
        op: &'static str,
        batch: &GraphBatch<T>,
        stats: &ArrayView2<'_, T>,
    ) -> Result<()> {
        let n = batch.n_graphs();
        check_shape(op, "stats", &[n, self.n_stats], stats.shape())?;
        check_finite(op, "stats", stats.iter())
    }

    /// The pooled GCN output joined with the standardized statistics: (n_graphs,
    /// pooled + n_stats).
    fn join(&self, pooled: Array2<T>, stats: ArrayView2<'_, T>) -> Result<Array2<T>> {
        let z = (&stats - &self.stats_mean) / &self.stats_std;
        concatenate(Axis(1), &[pooled.view(), z.view()]).map_err(|_| NnError::ShapeMismatch {
            op: "HybridClassifier::forward",
            what: "stats",
            expected: vec![pooled.nrows(), self.n_stats],
            actual: stats.shape().to_vec(),
        })
    }

    /// Forward pass: batch and `stats` (n_graphs, n_stats) → logits (n_graphs, n_labels) and
    /// the cache (training mode updates BatchNorm's running statistics).
    ///
    /// Errors: [`NnError::ShapeMismatch`] for statistics not (n_graphs, n_stats) or features
    /// not n_features wide; [`NnError::NonFinite`] statistics; those of the layers.
    pub fn forward(
        &mut self,
        batch: &GraphBatch<T>,
        stats: ArrayView2<'_, T>,
        mode: Mode,
    ) -> Result<(Array2<T>, HybridCache<T>)> {
        const OP: &str = "HybridClassifier::forward";
        self.check_inputs(OP, batch, &stats)?;
        let mut gcn_caches = Vec::with_capacity(self.gcn.len());
        let mut h: Option<Array2<T>> = None;
        for layer in &self.gcn {
            let x = h.as_ref().map_or(batch.features.view(), |a| a.view());
            let (z, gc) = layer.forward(&batch.adj, x)?;
            let (a, rc) = Relu.forward(z.view());
            gcn_caches.push((gc, rc));
            h = Some(a);
        }
        let x = h.as_ref().map_or(batch.features.view(), |a| a.view());
        let (pooled, pool) = MeanPool.forward(x, &batch.offsets)?;
        let pooled_dim = pooled.ncols();
        let mut x = self.join(pooled, stats)?;
        let mut fc_caches = Vec::with_capacity(self.fc.len());
        for b in &mut self.fc {
            let (y, c) = b.forward(x.view(), mode)?;
            fc_caches.push(c);
            x = y;
        }
        let (logits, output) = self.output.forward(x.view())?;
        Ok((
            logits,
            HybridCache {
                gcn: gcn_caches,
                pool,
                pooled_dim,
                fc: fc_caches,
                output,
            },
        ))
    }

    /// Backward pass: `d_logits` (n_graphs, n_labels) → gradients of the node features and of
    /// the raw statistics; adds to every parameter's gradient.
    ///
    /// Errors: [`NnError::ShapeMismatch`] for a gradient of another shape; those of the layers.
    pub fn backward(
        &mut self,
        batch: &GraphBatch<T>,
        cache: &HybridCache<T>,
        d_logits: ArrayView2<'_, T>,
    ) -> Result<HybridInputGrads<T>> {
        let mut d = self.output.backward(&cache.output, d_logits)?;
        for (b, c) in self.fc.iter_mut().zip(&cache.fc).rev() {
            d = b.backward(c, d.view())?;
        }
        let p = cache.pooled_dim;
        let d_stats = &d.slice_axis(Axis(1), Slice::from(p..)) / &self.stats_std;
        let mut d = MeanPool.backward(&cache.pool, d.slice_axis(Axis(1), Slice::from(..p)))?;
        for (layer, (gc, rc)) in self.gcn.iter_mut().zip(&cache.gcn).rev() {
            d = Relu.backward(rc, d.view())?;
            d = layer.backward(batch.adj_t(), gc, d.view())?;
        }
        Ok(HybridInputGrads {
            features: d,
            stats: d_stats,
        })
    }

    /// Logits in evaluation mode (running BatchNorm statistics): (n_graphs, n_labels).
    ///
    /// Errors: as [`HybridClassifier::forward`].
    pub fn logits(&self, batch: &GraphBatch<T>, stats: ArrayView2<'_, T>) -> Result<Array2<T>> {
        self.check_inputs("HybridClassifier::logits", batch, &stats)?;
        let mut h: Option<Array2<T>> = None;
        for layer in &self.gcn {
            let x = h.as_ref().map_or(batch.features.view(), |a| a.view());
            let mut z = layer.forward(&batch.adj, x)?.0;
            Relu.apply_inplace(&mut z);
            h = Some(z);
        }
        let x = h.as_ref().map_or(batch.features.view(), |a| a.view());
        let (pooled, _) = MeanPool.forward(x, &batch.offsets)?;
        let mut x = self.join(pooled, stats)?;
        for b in &self.fc {
            x = b.infer(x.view())?;
        }
        self.output.infer(x.view())
    }

    /// Sigmoid scores in evaluation mode: (n_graphs, n_labels), each in [0, 1].
    pub fn scores(&self, batch: &GraphBatch<T>, stats: ArrayView2<'_, T>) -> Result<Array2<T>> {
        Ok(self.logits(batch, stats)?.mapv(sigmoid))
    }

    /// Scores of every graph of `data` with its row of `stats` (n_graphs, n_stats), computed
    /// `batch_size` graphs at a time: (n_graphs, n_labels).
    ///
    /// Errors: [`NnError::ShapeMismatch`] if `stats` has not one row per graph; as
    /// [`HybridClassifier::forward`].
    pub fn scores_graphs<D: GraphDataset<T> + ?Sized>(
        &self,
        data: &D,
        stats: ArrayView2<'_, T>,
        batch_size: usize,
    ) -> Result<Array2<T>> {
        let n = data.n_graphs();
        check_shape(
            "HybridClassifier::scores_graphs",
            "stats",
            &[n, self.n_stats],
            stats.shape(),
        )?;
        let idx: Vec<usize> = (0..n).collect();
        let mut out = Array2::zeros((n, self.n_labels));
        for chunk in idx.chunks(batch_size.max(1)) {
            let (a, b) = (chunk[0], chunk[0] + chunk.len());
            let sc = self.scores(
                &data.batch(chunk)?,
                stats.slice_axis(Axis(0), Slice::from(a..b)),
            )?;
            out.slice_axis_mut(Axis(0), Slice::from(a..b)).assign(&sc);
        }
        Ok(out)
    }

    /// Predicted label sets of every graph of `data` (`score > τ`): (n_graphs, n_labels).
    pub fn predict_graphs<D: GraphDataset<T> + ?Sized>(
        &self,
        data: &D,
        stats: ArrayView2<'_, T>,
        batch_size: usize,
    ) -> Result<Array2<bool>> {
        let tau = T::of(self.config.threshold);
        Ok(self
            .scores_graphs(data, stats, batch_size)?
            .mapv(|s| s > tau))
    }

    /// BCE-with-logits loss of a batch in training mode, its gradients accumulated into the
    /// parameters (does not zero them first nor step an optimizer). `stats`
    /// (n_graphs, n_stats), `labels` (n_graphs, n_labels).
    pub fn loss_and_backward(
        &mut self,
        batch: &GraphBatch<T>,
        stats: ArrayView2<'_, T>,
        labels: ArrayView2<'_, T>,
    ) -> Result<T> {
        let (logits, cache) = self.forward(batch, stats, Mode::Train)?;
        let (loss, d) = bce_with_logits(
            logits.view(),
            labels,
            self.pos_weight.as_ref().map(|w| w.view()),
        )?;
        self.backward(batch, &cache, d.view())?;
        Ok(loss)
    }

    /// One epoch of seeded mini-batch training with `adam` over `data`, `stats`
    /// (n_graphs, n_stats) and `labels` (n_graphs, n_labels); returns the mean training loss
    /// (weighted by batch size).
    ///
    /// Errors: shape errors, [`NnError::EmptyBatch`]; those of the layers, the loss and the
    /// optimizer.
    pub fn train_epoch<D: GraphDataset<T> + ?Sized>(
        &mut self,
        data: &D,
        stats: ArrayView2<'_, T>,
        labels: ArrayView2<'_, T>,
        adam: &mut Adam<T>,
        rng: &mut impl Rng,
    ) -> Result<f64> {
        const OP: &str = "HybridClassifier::train_epoch";
        let n = data.n_graphs();
        check_shape(OP, "labels", &[n, self.n_labels], labels.shape())?;
        check_shape(OP, "stats", &[n, self.n_stats], stats.shape())?;
        if n == 0 {
            return Err(NnError::EmptyBatch { op: OP });
        }
        let order = shuffled_indices(n, rng);
        let min_last = if self.fc.is_empty() { 1 } else { 2 };
        let mut total = 0.0;
        for idx in mini_batches(&order, self.config.train.batch_size, min_last) {
            let batch = data.batch(idx)?;
            let st = stats.select(Axis(0), idx);
            let lb = labels.select(Axis(0), idx);
            self.zero_grad();
            let loss = self.loss_and_backward(&batch, st.view(), lb.view())?;
            adam.step(self)?;
            total += loss.as_f64() * idx.len() as f64;
        }
        Ok(total / n as f64)
    }
}

impl<T: Float> HasParams<T> for HybridClassifier<T> {
    fn visit_params(&mut self, f: &mut dyn FnMut(&str, ParamMut<'_, T>)) {
        visit_child_params("gcn", &mut self.gcn, f);
        visit_child_params("fc", &mut self.fc, f);
        visit_child_params("output", &mut self.output, f);
    }
    fn visit_buffers(&mut self, f: &mut dyn FnMut(&str, ArrayViewMutD<'_, T>)) {
        visit_child_buffers("fc", &mut self.fc, f);
        f("stats.mean", self.stats_mean.view_mut().into_dyn());
        f("stats.std", self.stats_std.view_mut().into_dyn());
    }
}

/// Saved description of a [`HybridClassifier`] (see [`crate::persist`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HybridClassifierMeta {
    /// Hyper-parameters.
    pub config: HybridClassifierConfig,
    /// Width of the node features.
    pub n_features: usize,
    /// Number of per-host statistics.
    pub n_stats: usize,
    /// Number of labels.
    pub n_labels: usize,
}

impl<T: Float> Persist<T> for HybridClassifier<T> {
    type Meta = HybridClassifierMeta;
    const KIND: &'static str = "hybrid_classifier";
    fn meta(&self) -> Self::Meta {
        HybridClassifierMeta {
            config: self.config.clone(),
            n_features: self.n_features,
            n_stats: self.n_stats,
            n_labels: self.n_labels,
        }
    }
    fn from_meta(meta: &Self::Meta) -> Result<Self> {
        let mut rng = ChaCha8Rng::seed_from_u64(meta.config.train.seed);
        HybridClassifier::new(
            meta.config.clone(),
            meta.n_features,
            meta.n_stats,
            meta.n_labels,
            &mut rng,
        )
    }
}
