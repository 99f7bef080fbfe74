//! BatchNorm recalibration: running statistics recomputed with the final weights.
//!
//! With a large learning rate the running averages of a BatchNorm lag the moving weights, so
//! evaluation-mode outputs can differ badly from training-mode ones (Paper A's GCN classifier
//! at lr 0.005 is such a case: its pooled features have small variances that BatchNorm scales
//! up). [`recalibrate_batchnorm`] recomputes every running mean and variance as the plain
//! average of the batch statistics over one pass of the training data, as PyTorch's
//! `torch.optim.swa_utils.update_bn` does.

use crate::model::FcBlock;
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
    recalibrate(
        model,
        |m| &mut m.fc,
        data.n_graphs(),
        batch_size,
        |m, chunk| m.forward(&data.batch(chunk)?, crate::Mode::Train).map(drop),
    )
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
    recalibrate(
        model,
        |m| &mut m.fc,
        data.n_graphs(),
        batch_size,
        |m, chunk| {
            let s = stats.select(ndarray::Axis(0), chunk);
            m.forward(&data.batch(chunk)?, s.view(), crate::Mode::Train)
                .map(drop)
        },
    )
}

/// The pass both models share: reset the running statistics of the blocks `fc(model)`, run
/// `forward` in training mode over batches of `0..n` with momentum `1 / (i + 1)` at batch `i`
/// (a cumulative average), then restore each block's momentum.
fn recalibrate<M>(
    model: &mut M,
    fc: impl Fn(&mut M) -> &mut Vec<FcBlock<f32>>,
    n: usize,
    batch_size: usize,
    mut forward: impl FnMut(&mut M, &[usize]) -> Result<()>,
) -> Result<()> {
    if fc(model).is_empty() || n < 2 {
        return Ok(());
    }
    let saved: Vec<f64> = fc(model).iter().map(|b| b.bn.momentum).collect();
    for b in fc(model).iter_mut() {
        b.bn.running_mean.fill(0.0);
        b.bn.running_var.fill(1.0);
    }
    let idx: Vec<usize> = (0..n).collect();
    for (i, chunk) in crate::train::mini_batches(&idx, batch_size.max(2), 2)
        .into_iter()
        .enumerate()
    {
        for b in fc(model).iter_mut() {
            b.bn.momentum = 1.0 / (i as f64 + 1.0);
        }
        forward(model, chunk)?;
    }
    for (b, m) in fc(model).iter_mut().zip(saved) {
        b.bn.momentum = m;
    }
    Ok(())
}
