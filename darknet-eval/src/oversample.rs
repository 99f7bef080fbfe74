//! ML-ROS: multi-label random oversampling (Charte, Rivera, del Jesus and Herrera, 2015), as
//! Paper A balances its training data (docs/paper-a.md#ml-ros).
//!
//! With `n_l` the number of positives of label l in the (growing) training set:
//! `IRLbl(l) = max_k n_k / n_l` and `MeanIR = mean_l IRLbl(l)`, computed once before cloning.
//! Labels with `IRLbl > MeanIR` are minority labels; each has a bag of the original training
//! samples carrying it. The clone budget is `floor(percentage / 100 · |train|)`. Rounds go over
//! the minority labels still in play, in label order: clone a uniformly drawn sample of the
//! label's bag (a clone copies all its labels, so every `n_k` it carries grows), spend one
//! unit of budget, recompute the label's IRLbl and drop the label once `IRLbl ≤ MeanIR`.
//! Cloning stops as soon as the budget is spent or no minority label remains.
//!
//! Labels without any positive in the training set take no part (their IRLbl would be
//! infinite and they have nothing to clone); MeanIR is the mean over the other labels.

use crate::check;
use crate::error::{EvalError, Result};
use ndarray::ArrayView2;
use rand::Rng;

/// Paper A's oversampling percentage: the training set grows by 25 %.
pub const DEFAULT_ROS_PERCENTAGE: f64 = 25.0;

/// Imbalance ratio per label, `IRLbl(l) = max_k n_k / n_l`, over the rows `indices` of `y`;
/// `None` for a label without positives.
///
/// Arguments: `y` 0/1 of shape `(n_samples, n_labels)`; `indices` rows to count (repeats
/// count again).
/// Errors: empty or non-binary `y`, an index out of range.
pub fn imbalance_ratios(y: ArrayView2<u8>, indices: &[usize]) -> Result<Vec<Option<f64>>> {
    check::non_empty2("y", &y)?;
    check::binary("y", &y)?;
    check_indices(indices, y.nrows())?;
    Ok(irlbl(&counts(&y, indices)))
}

fn check_indices(indices: &[usize], n: usize) -> Result<()> {
    if let Some(&bad) = indices.iter().find(|&&i| i >= n) {
        return Err(EvalError::IndexOutOfRange {
            what: "training indices".into(),
            index: bad,
            len: n,
        });
    }
    Ok(())
}

fn counts(y: &ArrayView2<u8>, indices: &[usize]) -> Vec<usize> {
    let mut c = vec![0usize; y.ncols()];
    for &i in indices {
        for (l, &v) in y.row(i).iter().enumerate() {
            c[l] += v as usize;
        }
    }
    c
}

fn irlbl(counts: &[usize]) -> Vec<Option<f64>> {
    let max = counts.iter().copied().max().unwrap_or(0) as f64;
    counts
        .iter()
        .map(|&c| (c > 0).then(|| max / c as f64))
        .collect()
}

/// ML-ROS over a training index set: returns the training indices followed by the indices
/// of the clones (rows of `y` repeated), so the result indexes the original data.
///
/// Arguments: `y` 0/1 of shape `(n_samples, n_labels)`; `train` the training rows (ML-ROS must
/// never see validation or test rows); `percentage` ≥ 0 (the set grows by at most this many
/// percent; [`DEFAULT_ROS_PERCENTAGE`] = 25); `rng` (e.g. a seeded `ChaCha8Rng`).
/// Returns `train.len() + clones` indices, `clones ≤ floor(percentage / 100 · train.len())`.
/// Errors: empty or non-binary `y`; empty `train`; an index out of range; a negative or
/// non-finite percentage.
///
/// ```
/// use darknet_eval::ml_ros;
/// use ndarray::array;
/// use rand::SeedableRng;
/// let y = array![[1u8, 0], [1, 0], [1, 0], [1, 1], [1, 0], [1, 0], [1, 0], [0, 1]];
/// let train: Vec<usize> = (0..8).collect();
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
/// let out = ml_ros(y.view(), &train, 25.0, &mut rng).unwrap();
/// assert_eq!(out.len(), 10); // 8 + 25 % of 8
/// assert!(out[8..].iter().all(|&i| i == 3 || i == 7)); // clones carry the minority label
/// ```
pub fn ml_ros(
    y: ArrayView2<u8>,
    train: &[usize],
    percentage: f64,
    rng: &mut impl Rng,
) -> Result<Vec<usize>> {
    check::non_empty2("y", &y)?;
    check::binary("y", &y)?;
    if train.is_empty() {
        return Err(EvalError::Empty {
            what: "training indices".into(),
        });
    }
    check_indices(train, y.nrows())?;
    if !percentage.is_finite() || percentage < 0.0 {
        return Err(EvalError::InvalidParameter {
            name: "percentage".into(),
            value: format!("{percentage}"),
            reason: "must be a finite percentage >= 0".into(),
        });
    }
    let n_labels = y.ncols();
    let mut count = counts(&y, train);
    let ir = irlbl(&count);
    let defined: Vec<f64> = ir.iter().flatten().copied().collect();
    let mut out = train.to_vec();
    if defined.is_empty() {
        return Ok(out);
    }
    let mean_ir = defined.iter().sum::<f64>() / defined.len() as f64;
    // Minority labels with their bags of original training rows.
    let mut bags: Vec<(usize, Vec<usize>)> = (0..n_labels)
        .filter(|&l| ir[l].is_some_and(|r| r > mean_ir))
        .map(|l| {
            (
                l,
                train.iter().copied().filter(|&i| y[[i, l]] == 1).collect(),
            )
        })
        .collect();
    let mut budget = (percentage / 100.0 * train.len() as f64).floor() as usize;
    while budget > 0 && !bags.is_empty() {
        let mut b = 0;
        while b < bags.len() && budget > 0 {
            let (label, ref bag) = bags[b];
            let pick = bag[rng.random_range(0..bag.len())];
            out.push(pick);
            for (l, &v) in y.row(pick).iter().enumerate() {
                count[l] += v as usize;
            }
            budget -= 1;
            let max = count.iter().copied().max().unwrap_or(0) as f64;
            if max / count[label] as f64 <= mean_ir {
                bags.remove(b);
            } else {
                b += 1;
            }
        }
    }
    Ok(out)
}
