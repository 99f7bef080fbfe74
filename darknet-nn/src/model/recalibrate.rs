//! BatchNorm recalibration: running statistics recomputed with the final weights.
//!
//! With a large learning rate the running averages of a BatchNorm lag the moving weights, so
//! evaluation-mode outputs can differ badly from training-mode ones (Paper A's GCN classifier
//! at lr 0.005 is such a case: its pooled features have small variances that BatchNorm scales
//! up). [`recalibrate_batchnorm`] recomputes every running mean and variance as the plain
//! average of the batch statistics over one pass of the training data, as PyTorch's
//! `torch.optim.swa_utils.update_bn` does.

use crate::{GraphClassifier, GraphDataset, Result};

/// Recomputes the running statistics of every BatchNorm of `model` as the plain (cumulative)
/// average of its batch statistics over one pass of `data` in batches of `batch_size`, with the
/// final weights, as PyTorch's `torch.optim.swa_utils.update_bn` does. Weights do not change.
///
/// # Errors
/// Batch and forward errors.
pub fn recalibrate_batchnorm<D: GraphDataset<f32> + ?Sized>(
    model: &mut GraphClassifier<f32>,
    data: &D,
    batch_size: usize,
) -> Result<()> {
    if model.fc.is_empty() || data.n_graphs() < 2 {
        return Ok(());
    }
    let saved: Vec<f64> = model.fc.iter().map(|b| b.bn.momentum).collect();
    for b in &mut model.fc {
        b.bn.running_mean.fill(0.0);
        b.bn.running_var.fill(1.0);
    }
    let idx: Vec<usize> = (0..data.n_graphs()).collect();
    for (i, chunk) in crate::train::mini_batches(&idx, batch_size.max(2), 2)
        .into_iter()
        .enumerate()
    {
        for b in &mut model.fc {
            b.bn.momentum = 1.0 / (i as f64 + 1.0);
        }
        model.forward(&data.batch(chunk)?, crate::Mode::Train)?;
    }
    for (b, m) in model.fc.iter_mut().zip(saved) {
        b.bn.momentum = m;
    }
    Ok(())
}

/// [`recalibrate_batchnorm`] for the hybrid classifier: one pass of `data` with its per-host
/// statistics `stats` (n_graphs, n_stats; raw, as given to `fit`), in batches of `batch_size`.
///
/// # Errors
/// Batch and forward errors (statistics not one row per graph).
pub fn recalibrate_hybrid_batchnorm<D: GraphDataset<f32> + ?Sized>(
    model: &mut crate::model::HybridClassifier<f32>,
    data: &D,
    stats: ndarray::ArrayView2<'_, f32>,
    batch_size: usize,
) -> Result<()> {
    if model.fc.is_empty() || data.n_graphs() < 2 {
        return Ok(());
    }
    let saved: Vec<f64> = model.fc.iter().map(|b| b.bn.momentum).collect();
    for b in &mut model.fc {
        b.bn.running_mean.fill(0.0);
        b.bn.running_var.fill(1.0);
    }
    let idx: Vec<usize> = (0..data.n_graphs()).collect();
    for (i, chunk) in crate::train::mini_batches(&idx, batch_size.max(2), 2)
        .into_iter()
        .enumerate()
    {
        for b in &mut model.fc {
            b.bn.momentum = 1.0 / (i as f64 + 1.0);
        }
        let s = stats.select(ndarray::Axis(0), chunk);
        model.forward(&data.batch(chunk)?, s.view(), crate::Mode::Train)?;
    }
    for (b, m) in model.fc.iter_mut().zip(saved) {
        b.bn.momentum = m;
    }
    Ok(())
}
