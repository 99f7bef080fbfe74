//! Property tests: metrics stay in range, perfect predictions score 1, coverage error is at
//! least the mean label count, and ranking metrics agree with brute-force definitions.

use darknet_eval::{
    coverage_error, hamming_loss, jaccard_samples, label_cardinality,
    label_ranking_average_precision, label_ranking_loss, per_label_average_precision,
    per_label_roc_auc, precision_recall_f1, subset_accuracy, Average,
};
use ndarray::Array2;
use proptest::prelude::*;

/// (y_true, y_pred, y_score) with 1..12 samples and 1..6 labels; scores on a coarse grid so
/// that ties happen.
fn triple() -> impl Strategy<Value = (Array2<u8>, Array2<u8>, Array2<f64>)> {
    (1usize..12, 1usize..6).prop_flat_map(|(n, l)| {
        (
            proptest::collection::vec(0u8..2, n * l),
            proptest::collection::vec(0u8..2, n * l),
            proptest::collection::vec(0u8..5, n * l),
        )
            .prop_map(move |(t, p, s)| {
                (
                    Array2::from_shape_vec((n, l), t).unwrap(),
                    Array2::from_shape_vec((n, l), p).unwrap(),
                    Array2::from_shape_vec((n, l), s.into_iter().map(|v| v as f64 / 4.0).collect())
                        .unwrap(),
                )
            })
    })
}

fn unit(x: f64) -> bool {
    (0.0..=1.0).contains(&x)
}

proptest! {
    #[test]
    fn metrics_in_unit_interval((t, p, s) in triple()) {
        for a in Average::ALL {
            let r = precision_recall_f1(t.view(), p.view(), a).unwrap();
            prop_assert!(unit(r.precision) && unit(r.recall) && unit(r.f1), "{a:?} {r:?}");
        }
        prop_assert!(unit(hamming_loss(t.view(), p.view()).unwrap()));
        prop_assert!(unit(subset_accuracy(t.view(), p.view()).unwrap()));
        prop_assert!(unit(jaccard_samples(t.view(), p.view()).unwrap()));
        prop_assert!(unit(label_ranking_loss(t.view(), s.view()).unwrap()));
        prop_assert!(unit(label_ranking_average_precision(t.view(), s.view()).unwrap()));
        for v in per_label_roc_auc(t.view(), s.view()).unwrap().into_iter().flatten() {
            prop_assert!(unit(v));
        }
        for v in per_label_average_precision(t.view(), s.view()).unwrap().into_iter().flatten() {
            prop_assert!(unit(v));
        }
    }

    #[test]
    fn perfect_predictions_score_one((t, _p, _s) in triple()) {
        prop_assume!(t.iter().any(|&v| v == 1));
        let r = precision_recall_f1(t.view(), t.view(), Average::Micro).unwrap();
        prop_assert_eq!((r.precision, r.recall, r.f1), (1.0, 1.0, 1.0));
        prop_assert_eq!(hamming_loss(t.view(), t.view()).unwrap(), 0.0);
        prop_assert_eq!(subset_accuracy(t.view(), t.view()).unwrap(), 1.0);
    }

    #[test]
    fn coverage_at_least_label_cardinality((t, _p, s) in triple()) {
        let c = coverage_error(t.view(), s.view()).unwrap();
        let m = label_cardinality(t.view()).unwrap();
        prop_assert!(c >= m - 1e-12, "{c} < {m}");
        prop_assert!(c <= t.ncols() as f64);
    }

    #[test]
    fn ranking_loss_equals_pair_count((t, _p, s) in triple()) {
        let (n, l) = t.dim();
        let mut total = 0.0;
        for i in 0..n {
            let pos: Vec<usize> = (0..l).filter(|&j| t[[i, j]] == 1).collect();
            let neg: Vec<usize> = (0..l).filter(|&j| t[[i, j]] == 0).collect();
            if pos.is_empty() || neg.is_empty() { continue; }
            let bad = pos.iter().flat_map(|&a| neg.iter().map(move |&b| (a, b)))
                .filter(|&(a, b)| s[[i, b]] >= s[[i, a]]).count();
            total += bad as f64 / (pos.len() * neg.len()) as f64;
        }
        let got = label_ranking_loss(t.view(), s.view()).unwrap();
        prop_assert!((got - total / n as f64).abs() < 1e-12);
    }

    #[test]
    fn roc_auc_equals_mann_whitney((t, _p, s) in triple()) {
        let aucs = per_label_roc_auc(t.view(), s.view()).unwrap();
        for (j, auc) in aucs.iter().enumerate() {
            let pos: Vec<f64> = (0..t.nrows()).filter(|&i| t[[i, j]] == 1).map(|i| s[[i, j]]).collect();
            let neg: Vec<f64> = (0..t.nrows()).filter(|&i| t[[i, j]] == 0).map(|i| s[[i, j]]).collect();
            if pos.is_empty() || neg.is_empty() {
                prop_assert!(auc.is_none());
                continue;
            }
            let mut w = 0.0;
            for &a in &pos { for &b in &neg {
                w += if a > b { 1.0 } else if a == b { 0.5 } else { 0.0 };
            }}
            let want = w / (pos.len() * neg.len()) as f64;
            prop_assert!((auc.unwrap() - want).abs() < 1e-12);
        }
    }
}

proptest! {
    #[test]
    fn stratified_folds_partition_the_samples((t, _p, _s) in triple(), k in 2usize..4, seed in 0u64..50) {
        prop_assume!(t.nrows() >= k);
        let folds = darknet_eval::iterative_stratification(t.view(), k, seed).unwrap();
        let mut seen = vec![0; t.nrows()];
        for f in &folds {
            prop_assert_eq!(f.train.len() + f.test.len(), t.nrows());
            for &i in &f.test { seen[i] += 1; }
        }
        prop_assert!(seen.iter().all(|&c| c == 1));
    }

    #[test]
    fn ml_ros_stays_within_budget_and_training_rows((t, _p, _s) in triple(), pct in 0.0f64..200.0, seed in 0u64..50) {
        use rand::SeedableRng;
        let train: Vec<usize> = (0..t.nrows()).step_by(2).collect();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let out = darknet_eval::ml_ros(t.view(), &train, pct, &mut rng).unwrap();
        let budget = (pct / 100.0 * train.len() as f64).floor() as usize;
        prop_assert!(out.len() <= train.len() + budget);
        prop_assert_eq!(&out[..train.len()], &train[..]);
        prop_assert!(out.iter().all(|i| i % 2 == 0));
    }
}
