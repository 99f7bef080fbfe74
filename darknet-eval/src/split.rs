//! Seeded splits of sample indices: random train / validation / test, k-fold, Paper A's
//! 5-way partitions (docs/choices.md#a10), and iterative stratification for multi-label data
//! (Sechidis, Tsoumakas and Vlahavas, 2011).
//!
//! Every function takes a `seed` and shuffles with [`rand_chacha::ChaCha8Rng`], so the same
//! seed gives the same indices on every machine. Index lists are returned sorted within each
//! part, which keeps downstream code (batching, reports) independent of the shuffle order.

use crate::check;
use crate::error::{EvalError, Result};
use ndarray::ArrayView2;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// A train / validation / test split of sample indices (each sorted ascending).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Split {
    /// Training indices.
    pub train: Vec<usize>,
    /// Validation indices (may be empty).
    pub validation: Vec<usize>,
    /// Test indices.
    pub test: Vec<usize>,
}

/// One fold of a k-fold scheme: the held-out part and the rest (each sorted ascending).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fold {
    /// Indices used for training (every other fold).
    pub train: Vec<usize>,
    /// Held-out indices of this fold.
    pub test: Vec<usize>,
}

fn check_fraction(name: &str, v: f64) -> Result<()> {
    if !(0.0..=1.0).contains(&v) {
        return Err(EvalError::InvalidParameter {
            name: name.into(),
            value: format!("{v}"),
            reason: "must be a fraction in [0, 1]".into(),
        });
    }
    Ok(())
}

fn check_k(k: usize, n: usize) -> Result<()> {
    if k < 2 || k > n {
        return Err(EvalError::InvalidParameter {
            name: "k".into(),
            value: k.to_string(),
            reason: format!("need 2 <= k <= n_samples = {n}"),
        });
    }
    Ok(())
}

fn sorted(mut v: Vec<usize>) -> Vec<usize> {
    v.sort_unstable();
    v
}

/// Random train / validation / test split of `0..n_samples`.
///
/// Arguments: `n_samples`; `validation_fraction` and `test_fraction` in [0, 1] with sum ≤ 1
/// (sizes `round(fraction · n)`, the rest is training); `seed`.
/// Errors: a fraction out of range or fractions summing past 1; `n_samples == 0`.
///
/// ```
/// use darknet_eval::train_validation_test_split;
/// let s = train_validation_test_split(10, 0.2, 0.3, 7).unwrap();
/// assert_eq!((s.train.len(), s.validation.len(), s.test.len()), (5, 2, 3));
/// assert_eq!(s, train_validation_test_split(10, 0.2, 0.3, 7).unwrap());
/// ```
pub fn train_validation_test_split(
    n_samples: usize,
    validation_fraction: f64,
    test_fraction: f64,
    seed: u64,
) -> Result<Split> {
    check_fraction("validation_fraction", validation_fraction)?;
    check_fraction("test_fraction", test_fraction)?;
    if validation_fraction + test_fraction > 1.0 {
        return Err(EvalError::InvalidParameter {
            name: "validation_fraction + test_fraction".into(),
            value: format!("{}", validation_fraction + test_fraction),
            reason: "must not exceed 1".into(),
        });
    }
    if n_samples == 0 {
        return Err(EvalError::Empty {
            what: "samples to split".into(),
        });
    }
    let mut idx: Vec<usize> = (0..n_samples).collect();
    idx.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let n_test = (test_fraction * n_samples as f64).round() as usize;
    let n_val = ((validation_fraction * n_samples as f64).round() as usize).min(n_samples - n_test);
    let test = idx[..n_test].to_vec();
    let validation = idx[n_test..n_test + n_val].to_vec();
    let train = idx[n_test + n_val..].to_vec();
    Ok(Split {
        train: sorted(train),
        validation: sorted(validation),
        test: sorted(test),
    })
}

/// Cuts a shuffled index list into `k` folds, the first `n % k` one element larger
/// (scikit-learn's `KFold` sizes).
fn folds_of(idx: &[usize], k: usize) -> Vec<Fold> {
    let n = idx.len();
    let (base, extra) = (n / k, n % k);
    let mut bounds = Vec::with_capacity(k + 1);
    bounds.push(0);
    for f in 0..k {
        let size = base + usize::from(f < extra);
        bounds.push(bounds[f] + size);
    }
    (0..k)
        .map(|f| {
            let test = idx[bounds[f]..bounds[f + 1]].to_vec();
            let train = idx[..bounds[f]]
                .iter()
                .chain(&idx[bounds[f + 1]..])
                .copied()
                .collect();
            Fold {
                train: sorted(train),
                test: sorted(test),
            }
        })
        .collect()
}

/// Shuffled k-fold of an index set: `k` folds, fold sizes differing by at most one.
///
/// Arguments: `indices` (e.g. `0..n` or a training part, for cross-validation inside it);
/// `k ≥ 2`; `seed`.
/// Returns `k` [`Fold`]s whose test parts partition `indices`.
/// Errors: `k < 2` or `k > indices.len()`.
pub fn k_fold(indices: &[usize], k: usize, seed: u64) -> Result<Vec<Fold>> {
    check_k(k, indices.len())?;
    let mut idx = indices.to_vec();
    idx.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    Ok(folds_of(&idx, k))
}

/// Paper A's protocol (docs/paper-a.md#partitions, docs/choices.md#a10): `0..n_samples` cut at
/// random into 5 parts; partition `p` (0..5) uses part `p` as test set and the other four as
/// training data (for grid-search cross-validation inside it, call [`k_fold`] on `train` with 4
/// folds). Same as `k_fold(&(0..n).collect::<Vec<_>>(), 5, seed)`.
///
/// Errors: fewer than 5 samples.
pub fn five_partitions(n_samples: usize, seed: u64) -> Result<Vec<Fold>> {
    let all: Vec<usize> = (0..n_samples).collect();
    k_fold(&all, 5, seed)
}

/// Iterative stratification of a multi-label dataset into `k` folds of (nearly) equal size
/// whose label proportions follow the whole set's (Sechidis et al., 2011, Algorithm 1 with
/// equal fold ratios).
///
/// Repeatedly takes the label with the fewest remaining samples (ties: the smaller label
/// index) and deals each of its samples (in a seeded random order) to the fold that most
/// wants that label, ties to the fold that most wants samples, remaining ties at random;
/// samples without any label are dealt last by the samples criterion.
///
/// Arguments: `y` 0/1 of shape `(n_samples, n_labels)`; `k ≥ 2`; `seed`.
/// Returns `k` [`Fold`]s whose test parts partition `0..n_samples`.
/// Errors: empty or non-binary `y`; `k < 2` or `k > n_samples`.
/// Complexity: O(n_labels · n_samples · (n_labels + k)) at most, linear in the samples.
pub fn iterative_stratification(y: ArrayView2<u8>, k: usize, seed: u64) -> Result<Vec<Fold>> {
    check::non_empty2("y", &y)?;
    check::binary("y", &y)?;
    let (n, n_labels) = y.dim();
    check_k(k, n)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // Desired number of samples per fold, and per (fold, label).
    let mut want: Vec<f64> = vec![n as f64 / k as f64; k];
    let label_totals: Vec<usize> = (0..n_labels)
        .map(|l| y.column(l).iter().filter(|&&v| v == 1).count())
        .collect();
    let mut want_l: Vec<Vec<f64>> = (0..k)
        .map(|_| label_totals.iter().map(|&c| c as f64 / k as f64).collect())
        .collect();
    let mut assigned: Vec<Option<usize>> = vec![None; n];
    let mut remaining_l = label_totals.clone();
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut rng);
    let mut candidates: Vec<usize> = Vec::with_capacity(k);
    // The label with the fewest remaining samples (> 0), repeatedly.
    while let Some(label) = (0..n_labels)
        .filter(|&l| remaining_l[l] > 0)
        .min_by_key(|&l| (remaining_l[l], l))
    {
        for &i in &order {
            if assigned[i].is_some() || y[[i, label]] != 1 {
                continue;
            }
            // Fold wanting this label most; ties by samples wanted; then random.
            let best_l = (0..k).map(|f| want_l[f][label]).fold(f64::MIN, f64::max);
            candidates.clear();
            candidates.extend((0..k).filter(|&f| want_l[f][label] == best_l));
            if candidates.len() > 1 {
                let best = candidates.iter().map(|&f| want[f]).fold(f64::MIN, f64::max);
                candidates.retain(|&f| want[f] == best);
            }
            let fold = candidates[rng.random_range(0..candidates.len())];
            assigned[i] = Some(fold);
            want[fold] -= 1.0;
            for l in 0..n_labels {
                if y[[i, l]] == 1 {
                    want_l[fold][l] -= 1.0;
                    remaining_l[l] -= 1;
                }
            }
        }
    }
    // Samples without labels: by samples wanted, ties at random.
    for &i in &order {
        if assigned[i].is_some() {
            continue;
        }
        let best = want.iter().copied().fold(f64::MIN, f64::max);
        candidates.clear();
        candidates.extend((0..k).filter(|&f| want[f] == best));
        let fold = candidates[rng.random_range(0..candidates.len())];
        assigned[i] = Some(fold);
        want[fold] -= 1.0;
    }
    let mut tests: Vec<Vec<usize>> = vec![Vec::new(); k];
    for (i, f) in assigned.iter().enumerate() {
        // Every sample is assigned by the two loops above.
        tests[f.unwrap_or(0)].push(i);
    }
    Ok((0..k)
        .map(|f| Fold {
            train: (0..n).filter(|&i| assigned[i] != Some(f)).collect(),
            test: std::mem::take(&mut tests[f]),
        })
        .collect())
}
