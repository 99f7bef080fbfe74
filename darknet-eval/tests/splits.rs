//! Splits, k-fold, iterative stratification and ML-ROS: reproducible by seed, partitions,
//! balance.

use darknet_eval::{
    five_partitions, imbalance_ratios, iterative_stratification, k_fold, ml_ros,
    train_validation_test_split, Fold,
};
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn assert_partition(folds: &[Fold], n: usize) {
    let mut seen = vec![0usize; n];
    for f in folds {
        assert_eq!(f.train.len() + f.test.len(), n);
        for &i in &f.test {
            seen[i] += 1;
            assert!(f.train.binary_search(&i).is_err());
        }
    }
    assert!(seen.iter().all(|&c| c == 1));
}

fn paper_a_labels(n: usize, seed: u64) -> Array2<u8> {
    let freqs = [0.87, 0.55, 0.27, 0.02, 0.03, 0.12, 0.11];
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Array2::from_shape_fn((n, 7), |(_, l)| u8::from(rng.random::<f64>() < freqs[l]))
}

#[test]
fn random_split_is_reproducible_and_disjoint() {
    let a = train_validation_test_split(101, 0.1, 0.2, 3).unwrap();
    assert_eq!(a, train_validation_test_split(101, 0.1, 0.2, 3).unwrap());
    assert_ne!(a, train_validation_test_split(101, 0.1, 0.2, 4).unwrap());
    assert_eq!(
        (a.validation.len(), a.test.len(), a.train.len()),
        (10, 20, 71)
    );
    let mut all: Vec<usize> = a
        .train
        .iter()
        .chain(&a.validation)
        .chain(&a.test)
        .copied()
        .collect();
    all.sort_unstable();
    assert_eq!(all, (0..101).collect::<Vec<_>>());
}

#[test]
fn k_fold_sizes_and_partition() {
    let idx: Vec<usize> = (0..23).collect();
    let folds = k_fold(&idx, 5, 9).unwrap();
    let sizes: Vec<usize> = folds.iter().map(|f| f.test.len()).collect();
    assert_eq!(sizes, vec![5, 5, 5, 4, 4]);
    assert_partition(&folds, 23);
    assert_eq!(folds, k_fold(&idx, 5, 9).unwrap());
    // Inside a training part: folds cover exactly that part.
    let inner = k_fold(&folds[0].train, 4, 1).unwrap();
    let mut covered: Vec<usize> = inner.iter().flat_map(|f| f.test.clone()).collect();
    covered.sort_unstable();
    assert_eq!(covered, folds[0].train);
}

#[test]
fn five_partitions_as_paper_a() {
    let p = five_partitions(50, 0).unwrap();
    assert_eq!(p.len(), 5);
    assert!(p.iter().all(|f| f.test.len() == 10 && f.train.len() == 40));
    assert_partition(&p, 50);
    assert_eq!(p, five_partitions(50, 0).unwrap());
}

#[test]
fn iterative_stratification_balances_labels() {
    let y = paper_a_labels(1000, 5);
    let folds = iterative_stratification(y.view(), 5, 11).unwrap();
    assert_partition(&folds, 1000);
    assert_eq!(folds, iterative_stratification(y.view(), 5, 11).unwrap());
    for f in &folds {
        assert!(
            (f.test.len() as i64 - 200).abs() <= 5,
            "fold size {}",
            f.test.len()
        );
    }
    for l in 0..7 {
        let total = y.column(l).iter().filter(|&&v| v == 1).count() as f64;
        for f in &folds {
            let c = f.test.iter().filter(|&&i| y[[i, l]] == 1).count() as f64;
            // Each fold gets a fifth of every label, within one sample (plus rounding).
            assert!((c - total / 5.0).abs() <= 1.5, "label {l}: {c} of {total}");
        }
    }
}

#[test]
fn ml_ros_clones_minority_labels_within_budget() {
    let y = paper_a_labels(400, 8);
    let train: Vec<usize> = (0..400).step_by(2).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let out = ml_ros(y.view(), &train, 25.0, &mut rng).unwrap();
    assert_eq!(&out[..train.len()], &train[..]);
    assert!(out.len() <= train.len() + 50);
    // Clones come from the training part only.
    assert!(out[train.len()..].iter().all(|i| i % 2 == 0));
    // Imbalance drops for the rarest labels.
    let before = imbalance_ratios(y.view(), &train).unwrap();
    let after = imbalance_ratios(y.view(), &out).unwrap();
    assert!(after[3].unwrap() < before[3].unwrap());
    // Same seed, same clones.
    let again = ml_ros(y.view(), &train, 25.0, &mut ChaCha8Rng::seed_from_u64(2)).unwrap();
    assert_eq!(out, again);
}

#[test]
fn ml_ros_hand_worked_budget_and_stop() {
    // Label 0 on 6 rows, label 1 on 2 rows (rows 6, 7): IRLbl = [1, 3], MeanIR = 2.
    let mut y = Array2::<u8>::zeros((8, 2));
    for i in 0..6 {
        y[[i, 0]] = 1;
    }
    y[[6, 1]] = 1;
    y[[7, 1]] = 1;
    let train: Vec<usize> = (0..8).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    // Budget 100 % = 8, but label 1 leaves once IRLbl = 6 / n1 ≤ 2, i.e. after one clone.
    let out = ml_ros(y.view(), &train, 100.0, &mut rng).unwrap();
    assert_eq!(out.len(), 9);
    assert!(out[8] == 6 || out[8] == 7);
    // 0 % clones nothing.
    assert_eq!(ml_ros(y.view(), &train, 0.0, &mut rng).unwrap(), train);
}
