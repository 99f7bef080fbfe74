//! Paper A's multi-label graph classifier (docs/paper-a.md#classifier, docs/choices.md#a7).
//!
//! Architecture: `gcn_layers` GCN layers each followed by ReLU on the block-diagonal
//! symmetric-normalized batch → mean pooling per graph → `fc_layers` blocks Linear → BatchNorm1d
//! → ReLU → output Linear with one logit per label; scores are `sigmoid(logit)` and label `l` is
//! predicted when its score exceeds the threshold τ (default 0.5). Layer sizes:
//! [`geometric_sizes`]`(first_size, n_labels, gcn_layers + fc_layers)`. Loss: BCE with logits
//! (mean over labels and graphs, optional per-label `pos_weight`). Training: Adam lr 0.005,
//! batch 32 graphs, up to 20 epochs, stop after 3 epochs without training-loss improvement.
//!
//! Shapes: a [`GraphBatch`] with node features (n_nodes, n_features) and n_graphs graphs →
//! logits / scores (n_graphs, n_labels); labels (n_graphs, n_labels) in {0, 1}. Tensor names:
//! `gcn.{i}.weight` (in, out), `gcn.{i}.bias`, `fc.{j}.linear.weight` (out, in),
//! `fc.{j}.bn.*`, `output.weight` (n_labels, h), `output.bias`.
//!
//! ```
//! use darknet_nn::batch::Graph;
//! use darknet_nn::model::GraphClassifierConfig;
//! use ndarray::{array, Array2};
//! use sprs::TriMat;
//! let mut t = TriMat::new((3, 3));
//! t.add_triplet(0, 1, 1.0f32);
//! t.add_triplet(1, 0, 1.0);
//! let adj = t.to_csr();
//! // Label 0 for graphs with positive features, label 1 for negative ones.
//! let graphs: Vec<Graph<f32>> = (0..8)
//!     .map(|i| Graph::new(&adj, Array2::from_elem((3, 2), if i % 2 == 0 { 1.0 } else { -1.0 })).unwrap())
//!     .collect();
//! let labels = Array2::from_shape_fn((8, 2), |(i, l)| if (i % 2 == 0) == (l == 0) { 1.0f32 } else { 0.0 });
//! let cfg = GraphClassifierConfig::default().first_size(8).gcn_layers(1).fc_layers(1).batch_size(4).max_epochs(10);
//! let (model, curve) = cfg.fit(&graphs, labels.view(), &mut |_| {}).unwrap();
//! assert!(curve.final_loss().unwrap() < curve.records[0].loss);
//! assert_eq!(model.predict_graphs(&graphs, 4).unwrap().shape(), &[8, 2]);
//! ```

use super::{geometric_sizes, FcBlock, FcBlockCache};
use crate::batch::{GraphBatch, GraphBatchBuffer, GraphDataset};
use crate::buffer::reshape2;
use crate::error::{check_finite, check_shape};
use crate::layers::{
    sigmoid, Gcn, GcnCache, Linear, LinearCache, MeanPool, MeanPoolCache, Relu, ReluCache,
};
use crate::loss::bce_with_logits_into;
use crate::param::{visit_child_buffers, visit_child_params};
use crate::train::{
    invalid, mini_batches, run_epochs, shuffled_indices, EpochRecord, LearningCurve, TrainConfig,
};
use crate::{Adam, Float, HasParams, Mode, NnError, ParamMut, Result};
use ndarray::{Array1, Array2, ArrayView2, ArrayViewMutD, Axis};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Hyper-parameters of [`GraphClassifier`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphClassifierConfig {
    /// Size of the first GCN layer. Default 128 (grid {64, 128, 256}). Must be >= 1.
    pub first_size: usize,
    /// Number of GCN layers. Default 2 (grid {1, 2, 3}). 1 to 8.
    pub gcn_layers: usize,
    /// Number of fully connected hidden blocks. Default 2 (grid {1, 2, 3}). 0 to 8.
    pub fc_layers: usize,
    /// Decision threshold τ on the sigmoid scores. Default 0.5. In [0, 1].
    pub threshold: f64,
    /// Optional per-label weight of positive examples in the loss (PyTorch's `pos_weight`),
    /// one value per label, each finite and > 0. Default none.
    pub pos_weight: Option<Vec<f64>>,
    /// Training: defaults Adam lr 0.005, batch 32 graphs, 20 epochs, patience 3, seed 0.
    pub train: TrainConfig,
}

impl Default for GraphClassifierConfig {
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

impl GraphClassifierConfig {
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

    /// Trains a classifier on the graphs of `data` with `labels` (n_graphs, n_labels) in
    /// {0, 1}; calls `progress` after each epoch.
    ///
    /// Errors: invalid config; [`NnError::ShapeMismatch`] if `labels` has not one row per graph
    /// or `pos_weight` not one value per label; [`NnError::EmptyBatch`] for no graph;
    /// [`NnError::NonFinite`] labels; [`NnError::NanLoss`] if training diverges.
    pub fn fit<T: Float, D: GraphDataset<T> + ?Sized>(
        &self,
        data: &D,
        labels: ArrayView2<'_, T>,
        progress: &mut dyn FnMut(&EpochRecord),
    ) -> Result<(GraphClassifier<T>, LearningCurve)> {
        const OP: &str = "GraphClassifier::fit";
        self.validate()?;
        if data.n_graphs() == 0 || labels.ncols() == 0 {
            return Err(NnError::EmptyBatch { op: OP });
        }
        check_shape(
            OP,
            "labels",
            &[data.n_graphs(), labels.ncols()],
            labels.shape(),
        )?;
        check_finite(OP, "labels", labels.iter())?;
        let mut rng = ChaCha8Rng::seed_from_u64(self.train.seed);
        let mut model =
            GraphClassifier::new(self.clone(), data.n_features(), labels.ncols(), &mut rng)?;
        let mut adam = Adam::new(self.train.adam)?;
        let mut ws = ClassifierWorkspace::new();
        let curve = run_epochs(
            &self.train,
            |_| model.train_epoch_into(data, labels, &mut adam, &mut rng, &mut ws),
            progress,
        )?;
        Ok((model, curve))
    }
}

/// A multi-label graph classifier.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphClassifier<T: Float> {
    config: GraphClassifierConfig,
    n_features: usize,
    n_labels: usize,
    pos_weight: Option<Array1<T>>,
    /// GCN layers, weight (out, in) each (PyTorch's layout).
    pub gcn: Vec<Gcn<T>>,
    /// Fully connected hidden blocks.
    pub fc: Vec<FcBlock<T>>,
    /// Output layer, weight (n_labels, last hidden size).
    pub output: Linear<T>,
}

/// Caches of a [`GraphClassifier`] forward pass, with the layers' outputs and the temporaries
/// of the backward pass.
///
/// `Default` is an empty cache for [`GraphClassifier::forward_into`], which refills every
/// buffer in place: kept between steps, no step allocates once the buffers have reached the
/// largest batch.
#[derive(Debug, Clone, Default)]
pub struct ClassifierCache<T> {
    gcn: Vec<GcnStep<T>>,
    pool: MeanPoolCache,
    pooled: Array2<T>,
    fc: Vec<FcBlockCache<T>>,
    output: LinearCache<T>,
    logits: Array2<T>,
    /// Gradient ping-pong buffers and the GCN layers' temporary.
    d_a: Array2<T>,
    d_b: Array2<T>,
    tmp: Array2<T>,
}

/// One GCN layer's cache and its ReLU (whose `y` is the layer's output, rectified in place).
#[derive(Debug, Clone, Default)]
struct GcnStep<T> {
    gcn: GcnCache<T>,
    relu: ReluCache<T>,
}

impl<T> ClassifierCache<T> {
    /// The logits of the last forward pass, (n_graphs, n_labels).
    pub fn logits(&self) -> ArrayView2<'_, T> {
        self.logits.view()
    }
}

/// Everything a training step of [`GraphClassifier`] reuses: the stacked batch, its label
/// rows, the forward caches and the loss gradient. Keep one across steps and epochs
/// ([`GraphClassifier::train_epoch_into`], [`GraphClassifier::train_batch_into`]) so training
/// allocates nothing per batch once the buffers have reached the largest batch (dense
/// products still let matrixmultiply allocate its packing buffer).
#[derive(Debug, Clone, Default)]
pub struct ClassifierWorkspace<T: Float> {
    batch: GraphBatchBuffer<T>,
    labels: Array2<T>,
    cache: ClassifierCache<T>,
    d_logits: Array2<T>,
}

impl<T: Float> ClassifierWorkspace<T> {
    /// An empty workspace.
    pub fn new() -> Self {
        Self::default()
    }
}

impl<T: Float> GraphClassifier<T> {
    /// A freshly initialised classifier for `n_features` node features and `n_labels` labels
    /// (layers created in order GCN, FC, output, each drawing from `rng`).
    ///
    /// Errors: invalid config; [`NnError::InvalidConfig`] for zero features or labels;
    /// [`NnError::ShapeMismatch`] if `pos_weight` has not `n_labels` values.
    pub fn new(
        config: GraphClassifierConfig,
        n_features: usize,
        n_labels: usize,
        rng: &mut impl Rng,
    ) -> Result<Self> {
        config.validate()?;
        if n_features == 0 {
            return Err(invalid("n_features", 0, "must be >= 1"));
        }
        if n_labels == 0 {
            return Err(invalid("n_labels", 0, "must be >= 1"));
        }
        let pos_weight = match &config.pos_weight {
            None => None,
            Some(w) => {
                check_shape(
                    "GraphClassifier::new",
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
        let mut fc = Vec::new();
        for &s in &sizes[config.gcn_layers..] {
            fc.push(FcBlock::new(prev, s, rng));
            prev = s;
        }
        let output = Linear::new(prev, n_labels, rng);
        Ok(Self {
            config,
            n_features,
            n_labels,
            pos_weight,
            gcn,
            fc,
            output,
        })
    }

    /// A classifier of given layers (GCN layers, FC blocks, output layer), e.g. weights
    /// trained elsewhere: `n_features` is the first GCN layer's input width, `n_labels` the
    /// output layer's width, and the layer sizes must be those `config` describes
    /// ([`GraphClassifierConfig::hidden_sizes`]), so that the model saves and reloads as it is.
    ///
    /// Errors: invalid config; [`NnError::ShapeMismatch`] naming the first layer count or
    /// width that differs from what `config` and the previous layer imply, or a `pos_weight`
    /// without one value per label.
    pub fn from_layers(
        config: GraphClassifierConfig,
        gcn: Vec<Gcn<T>>,
        fc: Vec<FcBlock<T>>,
        output: Linear<T>,
    ) -> Result<Self> {
        const OP: &str = "GraphClassifier::from_layers";
        config.validate()?;
        check_shape(OP, "gcn layer count", &[config.gcn_layers], &[gcn.len()])?;
        check_shape(OP, "fc layer count", &[config.fc_layers], &[fc.len()])?;
        let n_features = gcn[0].in_dim();
        let n_labels = output.out_dim();
        let sizes = config.hidden_sizes(n_labels);
        let mut prev = n_features;
        let widths = gcn
            .iter()
            .map(|l| (l.in_dim(), l.out_dim()))
            .chain(fc.iter().map(|b| (b.linear.in_dim(), b.linear.out_dim())));
        for ((i, o), &s) in widths.zip(&sizes) {
            check_shape(OP, "hidden layer (out, in)", &[s, prev], &[o, i])?;
            prev = o;
        }
        check_shape(
            OP,
            "output weight",
            &[n_labels, prev],
            output.weight.value.shape(),
        )?;
        let mut model = Self {
            config,
            n_features,
            n_labels,
            pos_weight: None,
            gcn,
            fc,
            output,
        };
        model.pos_weight = match &model.config.pos_weight {
            None => None,
            Some(w) => {
                check_shape(OP, "pos_weight", &[n_labels], &[w.len()])?;
                Some(w.iter().map(|&v| T::of(v)).collect())
            }
        };
        Ok(model)
    }

    /// The hyper-parameters.
    pub fn config(&self) -> &GraphClassifierConfig {
        &self.config
    }
    /// Width of the node features.
    pub fn n_features(&self) -> usize {
        self.n_features
    }
    /// Number of labels.
    pub fn n_labels(&self) -> usize {
        self.n_labels
    }

    /// Forward pass: batch → logits (n_graphs, n_labels) and the cache.
    pub fn forward(
        &mut self,
        batch: &GraphBatch<T>,
        mode: Mode,
    ) -> Result<(Array2<T>, ClassifierCache<T>)> {
        let mut cache = ClassifierCache::default();
        self.forward_into(batch, mode, &mut cache)?;
        let logits = std::mem::take(&mut cache.logits);
        cache.tmp = Array2::zeros((0, 0));
        Ok((logits, cache))
    }

    /// Allocation-free forward pass: batch → logits in the cache
    /// ([`ClassifierCache::logits`], (n_graphs, n_labels)), every buffer refilled in place.
    pub fn forward_into(
        &mut self,
        batch: &GraphBatch<T>,
        mode: Mode,
        cache: &mut ClassifierCache<T>,
    ) -> Result<()> {
        cache.gcn.resize_with(self.gcn.len(), GcnStep::default);
        cache.fc.resize_with(self.fc.len(), FcBlockCache::default);
        for (k, layer) in self.gcn.iter().enumerate() {
            let (done, rest) = cache.gcn.split_at_mut(k);
            let step = &mut rest[0];
            let input = done
                .last()
                .map_or(batch.features.view(), |s| s.relu.y.view());
            layer.forward_into(
                &batch.adj,
                input,
                &mut step.gcn,
                &mut cache.tmp,
                &mut step.relu.y,
            )?;
            Relu.apply_inplace(&mut step.relu.y);
        }
        let h = cache
            .gcn
            .last()
            .map_or(batch.features.view(), |s| s.relu.y.view());
        MeanPool.forward_into(h, &batch.offsets, &mut cache.pool, &mut cache.pooled)?;
        for (k, b) in self.fc.iter_mut().enumerate() {
            let (done, rest) = cache.fc.split_at_mut(k);
            let input = done.last().map_or(cache.pooled.view(), |c| c.output());
            b.forward_into(input, mode, &mut rest[0])?;
        }
        let h = cache.fc.last().map_or(cache.pooled.view(), |c| c.output());
        self.output
            .forward_into(h, &mut cache.output, &mut cache.logits)
    }

    /// Backward pass: `d_logits` (n_graphs, n_labels) → gradient of the node features
    /// (n_nodes, n_features); adds to every parameter's gradient.
    pub fn backward(
        &mut self,
        batch: &GraphBatch<T>,
        cache: &ClassifierCache<T>,
        d_logits: ArrayView2<'_, T>,
    ) -> Result<Array2<T>> {
        let mut d = self.output.backward(&cache.output, d_logits)?;
        for (b, c) in self.fc.iter_mut().zip(&cache.fc).rev() {
            d = b.backward(c, d.view())?;
        }
        d = MeanPool.backward(&cache.pool, d.view())?;
        for (layer, step) in self.gcn.iter_mut().zip(&cache.gcn).rev() {
            d = Relu.backward(&step.relu, d.view())?;
            d = layer.backward(batch.adj_t(), &step.gcn, d.view())?;
        }
        Ok(d)
    }

    /// Allocation-free backward through every layer: `d_logits` (n_graphs, n_labels); adds to
    /// every parameter's gradient, reusing the cache's temporaries. With `need_dx` the gradient
    /// of the node features (n_nodes, n_features) is computed and returned as a view into the
    /// cache; without (training), the first GCN layer skips it and an empty view is returned.
    pub fn backward_into<'c>(
        &mut self,
        batch: &GraphBatch<T>,
        cache: &'c mut ClassifierCache<T>,
        d_logits: ArrayView2<'_, T>,
        need_dx: bool,
    ) -> Result<ArrayView2<'c, T>> {
        let c = cache;
        self.output.backward_into(&c.output, d_logits, &mut c.d_a)?;
        for (b, fc) in self.fc.iter_mut().zip(c.fc.iter_mut()).rev() {
            b.backward_into(fc, c.d_a.view(), Some(&mut c.d_b))?;
            std::mem::swap(&mut c.d_a, &mut c.d_b);
        }
        MeanPool.backward_into(&c.pool, c.d_a.view(), &mut c.d_b)?;
        std::mem::swap(&mut c.d_a, &mut c.d_b);
        for (k, (layer, step)) in self.gcn.iter_mut().zip(&c.gcn).enumerate().rev() {
            Relu.backward_inplace(&step.relu, c.d_a.view_mut())?;
            if k == 0 && !need_dx {
                layer.backward_into(batch.adj_t(), &step.gcn, c.d_a.view(), &mut c.tmp, None)?;
                return Ok(ArrayView2::from_shape((0, 0), &[]).expect("empty shape"));
            }
            layer.backward_into(
                batch.adj_t(),
                &step.gcn,
                c.d_a.view(),
                &mut c.tmp,
                Some(&mut c.d_b),
            )?;
            std::mem::swap(&mut c.d_a, &mut c.d_b);
        }
        Ok(c.d_a.view())
    }

    /// Logits in evaluation mode (running BatchNorm statistics): (n_graphs, n_labels).
    pub fn logits(&self, batch: &GraphBatch<T>) -> Result<Array2<T>> {
        let x = batch.features.view();
        let mut h: Option<Array2<T>> = None;
        for layer in &self.gcn {
            let mut z = layer
                .forward(&batch.adj, h.as_ref().map_or(x, |a| a.view()))?
                .0;
            Relu.apply_inplace(&mut z);
            h = Some(z);
        }
        let (mut h, _) = MeanPool.forward(h.as_ref().map_or(x, |a| a.view()), &batch.offsets)?;
        for b in &self.fc {
            h = b.infer(h.view())?;
        }
        self.output.infer(h.view())
    }

    /// Sigmoid scores in evaluation mode: (n_graphs, n_labels), each in [0, 1].
    pub fn scores(&self, batch: &GraphBatch<T>) -> Result<Array2<T>> {
        Ok(self.logits(batch)?.mapv(sigmoid))
    }

    /// Predicted label sets: `score > τ`, (n_graphs, n_labels).
    pub fn predict(&self, batch: &GraphBatch<T>) -> Result<Array2<bool>> {
        let tau = T::of(self.config.threshold);
        Ok(self.scores(batch)?.mapv(|s| s > tau))
    }

    /// Scores of every graph of `data`, in order, computed `batch_size` graphs at a time:
    /// (n_graphs, n_labels).
    pub fn scores_graphs<D: GraphDataset<T> + ?Sized>(
        &self,
        data: &D,
        batch_size: usize,
    ) -> Result<Array2<T>> {
        let idx: Vec<usize> = (0..data.n_graphs()).collect();
        let mut out = Array2::zeros((idx.len(), self.n_labels));
        let mut row = 0;
        let mut buf = GraphBatchBuffer::new();
        for chunk in idx.chunks(batch_size.max(1)) {
            data.batch_into(chunk, &mut buf)?;
            let s = self.scores(buf.batch())?;
            out.slice_axis_mut(Axis(0), ndarray::Slice::from(row..row + chunk.len()))
                .assign(&s);
            row += chunk.len();
        }
        Ok(out)
    }

    /// Predicted label sets of every graph of `data` (`score > τ`): (n_graphs, n_labels).
    pub fn predict_graphs<D: GraphDataset<T> + ?Sized>(
        &self,
        data: &D,
        batch_size: usize,
    ) -> Result<Array2<bool>> {
        let tau = T::of(self.config.threshold);
        Ok(self.scores_graphs(data, batch_size)?.mapv(|s| s > tau))
    }

    /// BCE-with-logits loss of a batch in training mode, with its gradients accumulated into
    /// the parameters (does not zero them first nor step an optimizer). `labels`
    /// (n_graphs, n_labels).
    pub fn loss_and_backward(
        &mut self,
        batch: &GraphBatch<T>,
        labels: ArrayView2<'_, T>,
    ) -> Result<T> {
        let mut cache = ClassifierCache::default();
        let mut d = Array2::zeros((0, 0));
        self.loss_and_backward_into(batch, labels, &mut cache, &mut d)
    }

    /// [`GraphClassifier::loss_and_backward`] reusing `cache` and the loss gradient buffer
    /// `d_logits` (both refilled in place).
    pub fn loss_and_backward_into(
        &mut self,
        batch: &GraphBatch<T>,
        labels: ArrayView2<'_, T>,
        cache: &mut ClassifierCache<T>,
        d_logits: &mut Array2<T>,
    ) -> Result<T> {
        self.forward_into(batch, Mode::Train, cache)?;
        let loss = bce_with_logits_into(
            cache.logits.view(),
            labels,
            self.pos_weight.as_ref().map(|w| w.view()),
            d_logits,
        )?;
        self.backward_into(batch, cache, d_logits.view(), false)?;
        Ok(loss)
    }

    /// One optimizer step on the graphs of `data` at `indices` (one mini-batch) with their
    /// rows of `labels` (n_graphs, n_labels): zero the gradients, forward, BCE, backward, Adam.
    /// Returns the batch loss. Every buffer lives in `ws` and is reused.
    ///
    /// Errors: shape errors; [`NnError::EmptyBatch`] for no index; those of the layers, the
    /// loss and the optimizer.
    pub fn train_batch_into<D: GraphDataset<T> + ?Sized>(
        &mut self,
        data: &D,
        labels: ArrayView2<'_, T>,
        indices: &[usize],
        adam: &mut Adam<T>,
        ws: &mut ClassifierWorkspace<T>,
    ) -> Result<T> {
        const OP: &str = "GraphClassifier::train_batch_into";
        check_shape(
            OP,
            "labels",
            &[data.n_graphs(), self.n_labels],
            labels.shape(),
        )?;
        data.batch_into(indices, &mut ws.batch)?;
        reshape2(&mut ws.labels, indices.len(), labels.ncols());
        for (r, (mut row, &i)) in ws.labels.rows_mut().into_iter().zip(indices).enumerate() {
            if i >= labels.nrows() {
                return Err(NnError::TargetOutOfRange {
                    op: OP,
                    row: r,
                    value: i,
                    n_classes: labels.nrows(),
                });
            }
            row.assign(&labels.row(i));
        }
        self.zero_grad();
        let loss = self.loss_and_backward_into(
            ws.batch.batch(),
            ws.labels.view(),
            &mut ws.cache,
            &mut ws.d_logits,
        )?;
        adam.step(self)?;
        Ok(loss)
    }

    /// One epoch of seeded mini-batch training with `adam` over `data` and `labels`
    /// (n_graphs, n_labels); returns the mean training loss (weighted by batch size).
    pub fn train_epoch<D: GraphDataset<T> + ?Sized>(
        &mut self,
        data: &D,
        labels: ArrayView2<'_, T>,
        adam: &mut Adam<T>,
        rng: &mut impl Rng,
    ) -> Result<f64> {
        self.train_epoch_into(data, labels, adam, rng, &mut ClassifierWorkspace::new())
    }

    /// [`GraphClassifier::train_epoch`] with the step buffers of `ws`, reused across batches
    /// and epochs (the per-batch loop allocates nothing once they have grown to the largest
    /// batch). Same result, bit for bit.
    pub fn train_epoch_into<D: GraphDataset<T> + ?Sized>(
        &mut self,
        data: &D,
        labels: ArrayView2<'_, T>,
        adam: &mut Adam<T>,
        rng: &mut impl Rng,
        ws: &mut ClassifierWorkspace<T>,
    ) -> Result<f64> {
        check_shape(
            "GraphClassifier::train_epoch",
            "labels",
            &[data.n_graphs(), self.n_labels],
            labels.shape(),
        )?;
        if data.n_graphs() == 0 {
            return Err(NnError::EmptyBatch {
                op: "GraphClassifier::train_epoch",
            });
        }
        let order = shuffled_indices(data.n_graphs(), rng);
        let min_last = if self.fc.is_empty() { 1 } else { 2 };
        let mut total = 0.0;
        for idx in mini_batches(&order, self.config.train.batch_size, min_last) {
            let loss = self.train_batch_into(data, labels, idx, adam, ws)?;
            total += loss.as_f64() * idx.len() as f64;
        }
        Ok(total / data.n_graphs() as f64)
    }
}

impl<T: Float> HasParams<T> for GraphClassifier<T> {
    fn visit_params(&mut self, f: &mut dyn FnMut(&str, ParamMut<'_, T>)) {
        visit_child_params("gcn", &mut self.gcn, f);
        visit_child_params("fc", &mut self.fc, f);
        visit_child_params("output", &mut self.output, f);
    }
    fn visit_buffers(&mut self, f: &mut dyn FnMut(&str, ArrayViewMutD<'_, T>)) {
        visit_child_buffers("fc", &mut self.fc, f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::Graph;
    use crate::gradcheck::{check_gradients, GradCheckConfig};
    use crate::loss::bce_with_logits;
    use ndarray::{arr0, Ix2};
    use sprs::{CsMat, TriMat};

    fn ring(n: usize) -> CsMat<f64> {
        let mut t = TriMat::new((n, n));
        for i in 0..n {
            let j = (i + 1) % n;
            if i != j {
                t.add_triplet(i, j, 1.0 + i as f64);
                t.add_triplet(j, i, 1.0 + i as f64);
            }
        }
        t.to_csr()
    }

    fn toy(n_graphs: usize) -> (Vec<Graph<f64>>, Array2<f64>) {
        let graphs = (0..n_graphs)
            .map(|g| {
                let n = 2 + g % 3;
                let sign = if g % 2 == 0 { 1.0 } else { -1.0 };
                let f = Array2::from_shape_fn((n, 3), |(i, j)| sign * (0.5 + 0.1 * (i + j) as f64));
                Graph::new(&ring(n), f).unwrap()
            })
            .collect();
        let labels = Array2::from_shape_fn((n_graphs, 2), |(g, l)| {
            if (g % 2 == 0) == (l == 0) {
                1.0
            } else {
                0.0
            }
        });
        (graphs, labels)
    }

    #[test]
    fn layer_sizes_follow_spec() {
        let cfg = GraphClassifierConfig::default();
        let m = GraphClassifier::<f32>::new(cfg.clone(), 36, 7, &mut ChaCha8Rng::seed_from_u64(0))
            .unwrap();
        assert_eq!(cfg.hidden_sizes(7), vec![128, 62, 30, 14]);
        assert_eq!(m.gcn[0].weight.value.shape(), &[128, 36]);
        assert_eq!(m.gcn[1].weight.value.shape(), &[62, 128]);
        assert_eq!(m.fc[0].linear.weight.value.shape(), &[30, 62]);
        assert_eq!(m.fc[1].linear.weight.value.shape(), &[14, 30]);
        assert_eq!(m.output.weight.value.shape(), &[7, 14]);
    }

    #[test]
    fn whole_model_gradient_check() {
        let (graphs, labels) = toy(4);
        let batch = GraphBatch::stack(&graphs, &[0, 1, 2, 3]).unwrap();
        let cfg = GraphClassifierConfig::default()
            .first_size(4)
            .gcn_layers(2)
            .fc_layers(1)
            .pos_weight(Some(vec![2.0, 0.5]));
        let mut m =
            GraphClassifier::<f64>::new(cfg, 3, 2, &mut ChaCha8Rng::seed_from_u64(5)).unwrap();
        let x = batch.features.clone().into_dyn();
        let with = |xs: &[ndarray::ArrayD<f64>]| {
            let mut b = batch.clone();
            b.features = xs[0]
                .view()
                .into_dimensionality::<Ix2>()
                .unwrap()
                .to_owned();
            b
        };
        check_gradients(
            &mut m,
            &[x],
            |m, xs| {
                let b = with(xs);
                let (logits, _) = m.forward(&b, Mode::Train)?;
                let pw = m.pos_weight.clone();
                Ok(arr0(
                    bce_with_logits(logits.view(), labels.view(), pw.as_ref().map(|w| w.view()))?.0,
                )
                .into_dyn())
            },
            |m, xs, g| {
                let b = with(xs);
                let (logits, c) = m.forward(&b, Mode::Train)?;
                let pw = m.pos_weight.clone();
                let (_, d) =
                    bce_with_logits(logits.view(), labels.view(), pw.as_ref().map(|w| w.view()))?;
                let d = d * g.first().copied().unwrap();
                Ok(vec![Some(m.backward(&b, &c, d.view())?.into_dyn())])
            },
            &GradCheckConfig::default(),
        )
        .unwrap();
    }

    #[test]
    fn learns_a_separable_problem_to_near_zero_loss() {
        let (graphs, labels) = toy(16);
        let cfg = GraphClassifierConfig::default()
            .first_size(8)
            .gcn_layers(1)
            .fc_layers(1)
            .train(
                TrainConfig::default()
                    .learning_rate(0.05)
                    .batch_size(8)
                    .max_epochs(200)
                    .patience(0),
            );
        let (m, curve) = cfg.fit(&graphs, labels.view(), &mut |_| {}).unwrap();
        assert!(
            curve.final_loss().unwrap() < 0.01,
            "{:?}",
            curve.final_loss()
        );
        let pred = m.predict_graphs(&graphs, 5).unwrap();
        assert_eq!(pred, labels.mapv(|v| v > 0.5));
    }

    #[test]
    fn same_seed_same_weights() {
        let (graphs, labels) = toy(10);
        let graphs: Vec<Graph<f32>> = graphs
            .iter()
            .map(|g| {
                Graph::from_normalized(
                    g.adj.map(|&v| v as f32),
                    None,
                    g.features.mapv(|v| v as f32),
                )
                .unwrap()
            })
            .collect();
        let labels = labels.mapv(|v| v as f32);
        let cfg = GraphClassifierConfig::default()
            .first_size(6)
            .batch_size(4)
            .max_epochs(3);
        let (a, ca) = cfg.fit(&graphs, labels.view(), &mut |_| {}).unwrap();
        let (b, cb) = cfg.fit(&graphs, labels.view(), &mut |_| {}).unwrap();
        assert_eq!(a, b);
        assert_eq!(ca.losses(), cb.losses());
        let s = a.scores_graphs(&graphs, 3).unwrap();
        assert!(s.iter().all(|&v| (0.0..=1.0).contains(&v)));
    }

    #[test]
    fn errors() {
        let (graphs, labels) = toy(4);
        let cfg = GraphClassifierConfig::default().first_size(4);
        let e = cfg
            .fit(
                &graphs,
                labels.slice_axis(Axis(0), ndarray::Slice::from(0..3)),
                &mut |_| {},
            )
            .unwrap_err();
        assert!(matches!(e, NnError::ShapeMismatch { what: "labels", .. }));
        let e = cfg
            .clone()
            .gcn_layers(0)
            .fit(&graphs, labels.view(), &mut |_| {})
            .unwrap_err();
        assert!(matches!(
            e,
            NnError::InvalidConfig {
                field: "gcn_layers",
                ..
            }
        ));
        for (c, field) in [
            (cfg.clone().first_size(0), "first_size"),
            (cfg.clone().fc_layers(9), "fc_layers"),
            (cfg.clone().threshold(1.5), "threshold"),
            (cfg.clone().pos_weight(Some(vec![1.0, -1.0])), "pos_weight"),
            (cfg.clone().batch_size(0), "batch_size"),
        ] {
            assert!(
                matches!(c.validate(), Err(NnError::InvalidConfig { field: f, .. }) if f == field)
            );
        }
        let e = cfg
            .clone()
            .pos_weight(Some(vec![1.0]))
            .fit(&graphs, labels.view(), &mut |_| {})
            .unwrap_err();
        assert!(matches!(
            e,
            NnError::ShapeMismatch {
                what: "pos_weight",
                ..
            }
        ));
        let empty: Vec<Graph<f64>> = Vec::new();
        let e = cfg
            .fit(&empty, Array2::zeros((0, 2)).view(), &mut |_| {})
            .unwrap_err();
        assert!(matches!(e, NnError::EmptyBatch { .. }));
        // A diverging run stops with an error naming the epoch.
        let graphs32: Vec<Graph<f32>> = graphs
            .iter()
            .map(|g| {
                Graph::from_normalized(
                    g.adj.map(|&v| v as f32),
                    None,
                    g.features.mapv(|v| v as f32),
                )
                .unwrap()
            })
            .collect();
        let huge = cfg.clone().train(
            TrainConfig::default()
                .learning_rate(1e38)
                .max_epochs(20)
                .patience(0),
        );
        match huge.fit(&graphs32, labels.mapv(|v| v as f32).view(), &mut |_| {}) {
            Err(NnError::NanLoss { epoch, .. }) => assert!(epoch < 20),
            other => panic!("expected NanLoss, got {:?}", other.map(|(_, c)| c.losses())),
        }
    }
}
