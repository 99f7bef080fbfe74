//! A multi-layer perceptron for multi-label scores on per-row feature vectors (Paper A's
//! non-graph baseline: one row of aggregate statistics per host)
//! (standardized with the training rows' mean and std), trained like the GCN classifier
//! (BCE with logits, Adam, mini-batches, early stopping on the training loss).
//!
//! Architecture: `layers` blocks Linear → BatchNorm1d → ReLU of sizes
//! `geometric_sizes(first_size, n_labels, layers)`, then a Linear output with one logit per
//! label; scores are `sigmoid(logit)`.

use crate::layers::{sigmoid, Linear};
use crate::loss::bce_with_logits;
use crate::model::{geometric_sizes, FcBlock};
use crate::param::{visit_child_buffers, visit_child_params};
use crate::persist::{Persist, TensorShapes};
use crate::train::{mini_batches, run_epochs, shuffled_indices, EpochRecord, LearningCurve};
use crate::{Adam, HasParams, Mode, NnError, ParamMut, TrainConfig};
use ndarray::{Array1, Array2, ArrayView2, ArrayViewMutD, Axis};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Hyper-parameters of the baseline MLP. Defaults: first size 128, 2 hidden blocks, and the
/// classifier's training settings (Adam lr 0.005, batch 32, 20 epochs, patience 3).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MlpConfig {
    /// Size of the first hidden block.
    pub first_size: usize,
    /// Number of hidden blocks (≥ 1).
    pub layers: usize,
    /// Training settings.
    pub train: TrainConfig,
    /// Recompute BatchNorm running statistics after training as the average of batch
    /// statistics over one pass of the training rows (as [`super::recalibrate_batchnorm`] does for the
    /// graph classifier). Default true.
    pub bn_recalibration: bool,
}

impl Default for MlpConfig {
    fn default() -> Self {
        Self {
            first_size: 128,
            layers: 2,
            train: TrainConfig::default()
                .learning_rate(0.005)
                .batch_size(32)
                .max_epochs(20)
                .patience(3),
            bn_recalibration: true,
        }
    }
}

/// A trained baseline MLP with its input standardization.
#[derive(Clone, Debug, PartialEq)]
pub struct Mlp {
    config: MlpConfig,
    mean: Array1<f32>,
    std: Array1<f32>,
    /// Hidden blocks.
    pub blocks: Vec<FcBlock<f32>>,
    /// Output layer, weight (n_labels, last hidden size).
    pub output: Linear<f32>,
}

impl HasParams<f32> for Mlp {
    fn visit_params(&mut self, f: &mut dyn FnMut(&str, ParamMut<'_, f32>)) {
        visit_child_params("fc", &mut self.blocks, f);
        visit_child_params("output", &mut self.output, f);
    }
    fn visit_buffers(&mut self, f: &mut dyn FnMut(&str, ArrayViewMutD<'_, f32>)) {
        visit_child_buffers("fc", &mut self.blocks, f);
        f("stats.mean", self.mean.view_mut().into_dyn());
        f("stats.std", self.std.view_mut().into_dyn());
    }
}

impl MlpConfig {
    /// Trains on the rows `train` of `x` (n_hosts, n_stats) with `labels` (n_hosts, n_labels)
    /// in {0, 1} (`train` may repeat rows, e.g. ML-ROS clones); calls `progress` per epoch.
    ///
    /// # Errors
    /// Invalid settings, no training row, a diverging loss ([`NnError`]).
    pub fn fit(
        &self,
        x: ArrayView2<'_, f32>,
        labels: ArrayView2<'_, f32>,
        train: &[usize],
        progress: &mut dyn FnMut(&EpochRecord),
    ) -> Result<(Mlp, LearningCurve), NnError> {
        self.train.validate()?;
        if train.is_empty() || x.ncols() == 0 || labels.ncols() == 0 || self.layers == 0 {
            return Err(NnError::EmptyBatch { op: "Mlp::fit" });
        }
        let xt = x.select(Axis(0), train);
        let mean = xt
            .mean_axis(Axis(0))
            .unwrap_or_else(|| Array1::zeros(x.ncols()));
        let std = xt
            .var_axis(Axis(0), 0.0)
            .mapv(|v| if v > 1e-12 { v.sqrt() } else { 1.0 });
        let mut rng = ChaCha8Rng::seed_from_u64(self.train.seed);
        let mut model = Mlp::new(self.clone(), x.ncols(), labels.ncols(), &mut rng)?;
        model.mean = mean;
        model.std = std;
        let xs = model.standardize(x);
        let mut adam = Adam::new(self.train.adam)?;
        let bs = self.train.batch_size;
        let curve = run_epochs(
            &self.train,
            |_| {
                let order = shuffled_indices(train.len(), &mut rng);
                let mut total = 0.0;
                for chunk in mini_batches(&order, bs, 2) {
                    let rows: Vec<usize> = chunk.iter().map(|&i| train[i]).collect();
                    let xb = xs.select(Axis(0), &rows);
                    let yb = labels.select(Axis(0), &rows);
                    model.zero_grad();
                    let mut h = xb;
                    let mut caches = Vec::new();
                    for b in &mut model.blocks {
                        let (y, c) = b.forward(h.view(), Mode::Train)?;
                        caches.push(c);
                        h = y;
                    }
                    let (logits, oc) = model.output.forward(h.view())?;
                    let (loss, d) = bce_with_logits(logits.view(), yb.view(), None)?;
                    let mut d = model.output.backward(&oc, d.view())?;
                    for (b, c) in model.blocks.iter_mut().zip(&caches).rev() {
                        d = b.backward(c, d.view())?;
                    }
                    adam.step(&mut model)?;
                    total += f64::from(loss) * rows.len() as f64;
                }
                Ok(total / train.len() as f64)
            },
            progress,
        )?;
        if self.bn_recalibration {
            for b in &mut model.blocks {
                b.bn.running_mean.fill(0.0);
                b.bn.running_var.fill(1.0);
            }
            let idx: Vec<usize> = train.to_vec();
            for (i, rows) in mini_batches(&idx, bs.max(2), 2).into_iter().enumerate() {
                let mut h = xs.select(Axis(0), rows);
                for b in &mut model.blocks {
                    b.bn.momentum = 1.0 / (i as f64 + 1.0);
                    h = b.forward(h.view(), Mode::Train)?.0;
                }
            }
            for b in &mut model.blocks {
                b.bn.momentum = 0.1;
            }
        }
        Ok((model, curve))
    }
}

impl Mlp {
    /// A model of the shapes `config` gives for `n_inputs` statistics and `n_labels` labels,
    /// with weights drawn from `rng` and the identity standardization (mean 0, std 1): what
    /// [`crate::persist::load`] fills with saved values.
    pub fn new(
        config: MlpConfig,
        n_inputs: usize,
        n_labels: usize,
        rng: &mut impl rand::Rng,
    ) -> Result<Self, NnError> {
        if n_inputs == 0 || n_labels == 0 || config.layers == 0 || config.first_size == 0 {
            return Err(NnError::EmptyBatch { op: "Mlp::new" });
        }
        let mut prev = n_inputs;
        let mut blocks = Vec::new();
        for s in geometric_sizes(config.first_size, n_labels, config.layers) {
            blocks.push(FcBlock::new(prev, s, rng));
            prev = s;
        }
        Ok(Mlp {
            config,
            mean: Array1::zeros(n_inputs),
            std: Array1::ones(n_inputs),
            blocks,
            output: Linear::new(prev, n_labels, rng),
        })
    }

    /// The settings it was trained with.
    pub fn config(&self) -> &MlpConfig {
        &self.config
    }

    /// Number of input statistics per row.
    pub fn n_inputs(&self) -> usize {
        self.mean.len()
    }

    /// Number of labels (score columns).
    pub fn n_labels(&self) -> usize {
        self.output.weight.value.nrows()
    }

    fn standardize(&self, x: ArrayView2<'_, f32>) -> Array2<f32> {
        let mut xs = x.to_owned();
        for mut r in xs.rows_mut() {
            r -= &self.mean;
            r /= &self.std;
        }
        xs
    }

    /// Sigmoid scores of the rows of `x` (n, n_stats) in evaluation mode: (n, n_labels).
    ///
    /// # Errors
    /// [`NnError::ShapeMismatch`] for a wrong number of columns.
    pub fn scores(&self, x: ArrayView2<'_, f32>) -> Result<Array2<f32>, NnError> {
        crate::error::check_shape("Mlp::scores", "x", &[x.nrows(), self.mean.len()], x.shape())?;
        let mut h = self.standardize(x);
        for b in &self.blocks {
            h = b.infer(h.view())?;
        }
        Ok(self.output.infer(h.view())?.mapv(sigmoid))
    }
}

/// Saved description of an [`Mlp`] (see [`crate::persist`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MlpMeta {
    /// Hyper-parameters.
    pub config: MlpConfig,
    /// Number of input statistics.
    pub n_inputs: usize,
    /// Number of labels.
    pub n_labels: usize,
}

impl Persist<f32> for Mlp {
    type Meta = MlpMeta;
    const KIND: &'static str = "mlp";
    fn meta(&self) -> Self::Meta {
        MlpMeta {
            config: self.config.clone(),
            n_inputs: self.n_inputs(),
            n_labels: self.n_labels(),
        }
    }
    fn from_meta(meta: &Self::Meta) -> crate::Result<Self> {
        let mut rng = ChaCha8Rng::seed_from_u64(meta.config.train.seed);
        Mlp::new(meta.config.clone(), meta.n_inputs, meta.n_labels, &mut rng)
    }
    fn check_shapes(meta: &Self::Meta, shapes: &TensorShapes) -> crate::Result<()> {
        let c = &meta.config;
        if c.layers == 0 || c.first_size == 0 {
            return Err(NnError::EmptyBatch { op: "Mlp::load" });
        }
        shapes.expect("n_inputs", "stats.mean", &[meta.n_inputs])?;
        let mut prev = meta.n_inputs;
        for (k, s) in geometric_sizes(c.first_size, meta.n_labels, c.layers)
            .into_iter()
            .enumerate()
        {
            let name = format!("fc.{k}.linear.weight");
            shapes.expect("first_size, layers, n_inputs", &name, &[s, prev])?;
            prev = s;
        }
        shapes.expect("n_labels", "output.weight", &[meta.n_labels, prev])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two features, two labels: label 0 follows feature 0, label 1 follows feature 1.
    fn data() -> (Array2<f32>, Array2<f32>) {
        let x = Array2::from_shape_fn((64, 2), |(i, j)| ((i >> j) & 1) as f32 * 3.0 + 0.1);
        let y = x.mapv(|v| f32::from(v > 1.0));
        (x, y)
    }

    #[test]
    fn learns_separable_labels_and_same_seed_gives_same_scores() {
        let (x, y) = data();
        let rows: Vec<usize> = (0..64).collect();
        let mut cfg = MlpConfig {
            first_size: 8,
            ..MlpConfig::default()
        };
        cfg.train.max_epochs = 150;
        cfg.train.patience = 0;
        cfg.train.seed = 3;
        let (m, curve) = cfg.fit(x.view(), y.view(), &rows, &mut |_| {}).unwrap();
        let first = curve.records.first().unwrap().loss;
        assert!(curve.final_loss().unwrap() < first);
        let s = m.scores(x.view()).unwrap();
        let correct = s
            .iter()
            .zip(y.iter())
            .filter(|(p, t)| (**p > 0.5) == (**t > 0.5))
            .count();
        assert!(
            correct as f64 / s.len() as f64 > 0.9,
            "{correct} of {}",
            s.len()
        );
        let (m2, _) = cfg.fit(x.view(), y.view(), &rows, &mut |_| {}).unwrap();
        assert_eq!(m2.scores(x.view()).unwrap(), s);
    }

    #[test]
    fn bad_input_is_an_error() {
        let (x, y) = data();
        let cfg = MlpConfig::default();
        assert!(cfg.fit(x.view(), y.view(), &[], &mut |_| {}).is_err());
        let wide = Array2::<f32>::zeros((64, 3));
        let (m, _) = cfg
            .fit(x.view(), y.view(), &[0, 1, 2, 3], &mut |_| {})
            .unwrap();
        assert!(m.scores(wide.view()).is_err());
    }

    /// Saved and loaded, the MLP gives the same scores (its standardization travels with it);
    /// a config whose sizes disagree with the weights is refused before allocating.
    #[test]
    fn saves_and_loads_with_its_standardization() {
        let (x, y) = data();
        let rows: Vec<usize> = (0..64).collect();
        let mut cfg = MlpConfig {
            first_size: 8,
            ..MlpConfig::default()
        };
        cfg.train.max_epochs = 5;
        let (m, _) = cfg.fit(x.view(), y.view(), &rows, &mut |_| {}).unwrap();
        let dir = std::env::temp_dir().join(format!("darknet-nn-mlp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (w, c) = (dir.join("mlp.safetensors"), dir.join("mlp.json"));
        crate::persist::save(&m, &w, &c).unwrap();
        let back: Mlp = crate::persist::load(&w, &c).unwrap();
        assert_eq!(back.scores(x.view()).unwrap(), m.scores(x.view()).unwrap());
        assert_eq!((back.n_inputs(), back.n_labels()), (2, 2));
        let json = std::fs::read_to_string(&c).unwrap();
        std::fs::write(
            &c,
            json.replace("\"n_inputs\": 2", "\"n_inputs\": 2000000000"),
        )
        .unwrap();
        let err = crate::persist::load::<f32, Mlp>(&w, &c).unwrap_err();
        assert!(err.to_string().contains("n_inputs"), "{err}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
