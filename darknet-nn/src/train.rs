//! Training utilities shared by the models: hyper-parameters of a training run, seeded shuffling
//! and mini-batching, early stopping on a monitored loss, learning-curve records, a progress
//! callback, and the epoch loop that ties them together ([`run_epochs`]).
//!
//! ```
//! use darknet_nn::train::{run_epochs, TrainConfig};
//! // A "model" whose loss halves each epoch until it stalls at 1.0.
//! let mut loss = 16.0f64;
//! let cfg = TrainConfig::default().max_epochs(100).patience(2);
//! let curve = run_epochs(&cfg, |_epoch| { loss = (loss / 2.0).max(1.0); Ok(loss) }, &mut |_| {}).unwrap();
//! // 8, 4, 2, 1 improve; two more epochs without improvement stop the run.
//! assert_eq!(curve.records.len(), 6);
//! assert!(curve.stopped_early);
//! assert_eq!(curve.best_epoch, Some(3));
//! ```

use crate::{AdamConfig, NnError, Result};
use rand::seq::SliceRandom;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// Hyper-parameters of a training run (optimizer, batching, stopping, seed).
///
/// Defaults: Adam with lr 1e-3, batch size 32, at most 20 epochs, patience 3, min_delta 0,
/// seed 0. Each model documents its own defaults (Paper A's values).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Optimizer settings.
    pub adam: AdamConfig,
    /// Samples (rows or graphs) per mini-batch. Must be >= 1.
    pub batch_size: usize,
    /// Maximum number of epochs. Must be >= 1.
    pub max_epochs: usize,
    /// Stop after this many consecutive epochs without improvement of the monitored loss;
    /// 0 disables early stopping.
    pub patience: usize,
    /// An epoch improves when its loss is below `best − min_delta`. Must be >= 0.
    pub min_delta: f64,
    /// Seed of initialisation, shuffling and dropout.
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            adam: AdamConfig::default(),
            batch_size: 32,
            max_epochs: 20,
            patience: 3,
            min_delta: 0.0,
            seed: 0,
        }
    }
}

impl TrainConfig {
    /// Sets the learning rate of Adam.
    pub fn learning_rate(mut self, lr: f64) -> Self {
        self.adam.learning_rate = lr;
        self
    }
    /// Sets Adam's L2 weight decay.
    pub fn weight_decay(mut self, wd: f64) -> Self {
        self.adam.weight_decay = wd;
        self
    }
    /// Sets the mini-batch size.
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n;
        self
    }
    /// Sets the maximum number of epochs.
    pub fn max_epochs(mut self, n: usize) -> Self {
        self.max_epochs = n;
        self
    }
    /// Sets the early-stopping patience (0 = off).
    pub fn patience(mut self, n: usize) -> Self {
        self.patience = n;
        self
    }
    /// Sets the minimum improvement.
    pub fn min_delta(mut self, d: f64) -> Self {
        self.min_delta = d;
        self
    }
    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Checks every field; the error names the first invalid one.
    pub fn validate(&self) -> Result<()> {
        self.adam.validate()?;
        if self.batch_size == 0 {
            return Err(invalid("batch_size", 0, "must be >= 1"));
        }
        if self.max_epochs == 0 {
            return Err(invalid("max_epochs", 0, "must be >= 1"));
        }
        if !(self.min_delta.is_finite() && self.min_delta >= 0.0) {
            return Err(invalid(
                "min_delta",
                self.min_delta,
                "must be finite and >= 0",
            ));
        }
        Ok(())
    }
}

/// An [`NnError::InvalidConfig`] for `field` = `value`.
pub(crate) fn invalid(field: &'static str, value: impl ToString, reason: &'static str) -> NnError {
    NnError::InvalidConfig {
        field,
        value: value.to_string(),
        reason,
    }
}

/// One epoch of a learning curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// Epoch number, from 0.
    pub epoch: usize,
    /// Monitored (training) loss of the epoch.
    pub loss: f64,
    /// Seconds since training started, at the end of this epoch.
    pub elapsed_secs: f64,
}

/// The losses of a training run, epoch by epoch (serializable, for CSV/JSON and plots).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LearningCurve {
    /// One record per epoch run.
    pub records: Vec<EpochRecord>,
    /// Epoch with the lowest loss.
    pub best_epoch: Option<usize>,
    /// True when early stopping ended the run before `max_epochs`.
    pub stopped_early: bool,
}

impl LearningCurve {
    /// The losses in epoch order.
    pub fn losses(&self) -> Vec<f64> {
        self.records.iter().map(|r| r.loss).collect()
    }
    /// The last epoch's loss.
    pub fn final_loss(&self) -> Option<f64> {
        self.records.last().map(|r| r.loss)
    }
}

/// What [`EarlyStopping::update`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopDecision {
    /// The loss improved on the best so far.
    Improved,
    /// No improvement, patience not yet exhausted.
    Continue,
    /// No improvement for `patience` consecutive epochs: stop.
    Stop,
}

/// Early stopping on a monitored loss (lower is better) with patience.
#[derive(Debug, Clone, PartialEq)]
pub struct EarlyStopping {
    patience: usize,
    min_delta: f64,
    best: f64,
    bad_epochs: usize,
}

impl EarlyStopping {
    /// Stops after `patience` consecutive epochs whose loss is not below `best − min_delta`
    /// (`patience` 0: never stops).
    pub fn new(patience: usize, min_delta: f64) -> Self {
        Self {
            patience,
            min_delta,
            best: f64::INFINITY,
            bad_epochs: 0,
        }
    }

    /// The best loss seen.
    pub fn best(&self) -> f64 {
        self.best
    }

    /// Records an epoch's loss.
    pub fn update(&mut self, loss: f64) -> StopDecision {
        if loss < self.best - self.min_delta {
            self.best = loss;
            self.bad_epochs = 0;
            StopDecision::Improved
        } else {
            self.bad_epochs += 1;
            if self.patience > 0 && self.bad_epochs >= self.patience {
                StopDecision::Stop
            } else {
                StopDecision::Continue
            }
        }
    }
}

/// Returns [`NnError::NanLoss`] naming `epoch` if `loss` is NaN or infinite.
pub fn check_loss(epoch: usize, loss: f64) -> Result<()> {
    if loss.is_finite() {
        Ok(())
    } else {
        Err(NnError::NanLoss { epoch, loss })
    }
}

/// A permutation of `0..n` drawn from `rng` (Fisher–Yates; same generator state, same order).
pub fn shuffled_indices(n: usize, rng: &mut impl Rng) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..n).collect();
    idx.shuffle(rng);
    idx
}

/// Splits `indices` into consecutive mini-batches of `batch_size` (`batch_size` ≥ 1). With
/// `min_last` > 1, a last batch smaller than `min_last` is merged into the one before (BatchNorm
/// in training mode needs 2 rows); a lone short batch is kept.
pub fn mini_batches(indices: &[usize], batch_size: usize, min_last: usize) -> Vec<&[usize]> {
    let batch_size = batch_size.max(1);
    let mut out: Vec<&[usize]> = indices.chunks(batch_size).collect();
    if out.len() >= 2 && out[out.len() - 1].len() < min_last {
        let n = out.len();
        let start = (n - 2) * batch_size;
        out.truncate(n - 2);
        out.push(&indices[start..]);
    }
    out
}

/// The epoch loop: runs `epoch_fn(epoch) -> loss` up to `config.max_epochs` times, records the
/// learning curve, calls `progress` after each epoch, and stops early after `config.patience`
/// epochs without improvement.
///
/// The model keeps the weights of the last epoch run.
///
/// Errors: those of `epoch_fn`, and [`NnError::NanLoss`] naming the epoch whose loss is not
/// finite (training stops there). A [`NnError::NonFinite`] raised inside an epoch (a loss
/// function meeting NaN predictions: the weights diverged) is reported as `NanLoss` for that
/// epoch too; validate inputs before the loop so this only means divergence.
pub fn run_epochs(
    config: &TrainConfig,
    mut epoch_fn: impl FnMut(usize) -> Result<f64>,
    progress: &mut dyn FnMut(&EpochRecord),
) -> Result<LearningCurve> {
    let start = Instant::now();
    let mut stopper = EarlyStopping::new(config.patience, config.min_delta);
    let mut curve = LearningCurve::default();
    for epoch in 0..config.max_epochs {
        let loss = match epoch_fn(epoch) {
            Err(NnError::NonFinite { .. }) => f64::NAN,
            other => other?,
        };
        check_loss(epoch, loss)?;
        let rec = EpochRecord {
            epoch,
            loss,
            elapsed_secs: start.elapsed().as_secs_f64(),
        };
        curve.records.push(rec);
        progress(&rec);
        match stopper.update(loss) {
            StopDecision::Improved => curve.best_epoch = Some(epoch),
            StopDecision::Continue => {}
            StopDecision::Stop => {
                curve.stopped_early = epoch + 1 < config.max_epochs;
                break;
            }
        }
    }
    Ok(curve)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn nan_loss_names_the_epoch() {
        let cfg = TrainConfig::default();
        let e = run_epochs(
            &cfg,
            |ep| Ok(if ep == 2 { f64::NAN } else { 1.0 }),
            &mut |_| {},
        )
        .unwrap_err();
        assert!(matches!(e, NnError::NanLoss { epoch: 2, .. }));
        assert!(e.to_string().contains("epoch 2"));
    }

    #[test]
    fn progress_sees_every_epoch() {
        let cfg = TrainConfig::default().max_epochs(4).patience(0);
        let mut seen = Vec::new();
        let curve = run_epochs(&cfg, |ep| Ok(ep as f64), &mut |r| seen.push(r.epoch)).unwrap();
        assert_eq!(seen, vec![0, 1, 2, 3]);
        assert!(!curve.stopped_early);
        assert_eq!(curve.best_epoch, Some(0));
    }

    #[test]
    fn shuffling_is_seeded_and_batches_cover_everything() {
        let a = shuffled_indices(10, &mut ChaCha8Rng::seed_from_u64(1));
        let b = shuffled_indices(10, &mut ChaCha8Rng::seed_from_u64(1));
        assert_eq!(a, b);
        let mut s = a.clone();
        s.sort();
        assert_eq!(s, (0..10).collect::<Vec<_>>());
        let bs = mini_batches(&a, 3, 2);
        assert_eq!(
            bs.iter().map(|b| b.len()).collect::<Vec<_>>(),
            vec![3, 3, 4]
        );
        let bs = mini_batches(&a, 4, 2);
        assert_eq!(
            bs.iter().map(|b| b.len()).collect::<Vec<_>>(),
            vec![4, 4, 2]
        );
        assert_eq!(mini_batches(&a[..1], 4, 2).len(), 1);
    }

    #[test]
    fn invalid_configs_name_the_field() {
        let e = TrainConfig::default().batch_size(0).validate().unwrap_err();
        assert!(matches!(
            e,
            NnError::InvalidConfig {
                field: "batch_size",
                ..
            }
        ));
        let e = TrainConfig::default().max_epochs(0).validate().unwrap_err();
        assert!(matches!(
            e,
            NnError::InvalidConfig {
                field: "max_epochs",
                ..
            }
        ));
        let e = TrainConfig::default()
            .min_delta(-1.0)
            .validate()
            .unwrap_err();
        assert!(matches!(
            e,
            NnError::InvalidConfig {
                field: "min_delta",
                ..
            }
        ));
        let e = TrainConfig::default()
            .learning_rate(0.0)
            .validate()
            .unwrap_err();
        assert!(matches!(
            e,
            NnError::InvalidConfig {
                field: "learning_rate",
                ..
            }
        ));
    }
}
