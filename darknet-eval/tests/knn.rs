//! kNN against a naive brute-force reference, leave-one-out, vote tie-break, standardiser,
//! rare classes, and per-class F1 over days.

use darknet_eval::{
    aggregate_days, classification_report, rare_to_unknown, standardize, Distance, Knn, KnnConfig,
    Standardizer,
};
use ndarray::{array, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn random(n: usize, d: usize, seed: u64) -> Array2<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Array2::from_shape_fn((n, d), |_| rng.random::<f32>() * 2.0 - 1.0)
}

/// Naive reference in f64: all distances, sorted by (distance, index).
fn naive(
    train: &Array2<f32>,
    q: &Array2<f32>,
    k: usize,
    dist: Distance,
    loo: bool,
) -> Vec<Vec<(f64, usize)>> {
    q.outer_iter()
        .enumerate()
        .map(|(r, qr)| {
            let mut all: Vec<(f64, usize)> = train
                .outer_iter()
                .enumerate()
                .filter(|&(i, _)| !(loo && i == r))
                .map(|(i, t)| {
                    let d = match dist {
                        Distance::Euclidean => qr
                            .iter()
                            .zip(t.iter())
                            .map(|(&a, &b)| (a as f64 - b as f64).powi(2))
                            .sum::<f64>()
                            .sqrt(),
                        _ => {
                            let dot: f64 = qr
                                .iter()
                                .zip(t.iter())
                                .map(|(&a, &b)| a as f64 * b as f64)
                                .sum();
                            let na: f64 =
                                qr.iter().map(|&a| (a as f64).powi(2)).sum::<f64>().sqrt();
                            let nb: f64 = t.iter().map(|&b| (b as f64).powi(2)).sum::<f64>().sqrt();
                            1.0 - dot / (na * nb)
                        }
                    };
                    (d, i)
                })
                .collect();
            all.sort_by(|a, b| a.partial_cmp(b).unwrap());
            all.truncate(k);
            all
        })
        .collect()
}

#[test]
fn matches_naive_reference() {
    let train = random(300, 16, 1);
    let q = random(70, 16, 2);
    let labels: Vec<String> = (0..300).map(|i| format!("c{}", i % 4)).collect();
    for dist in [Distance::Euclidean, Distance::Cosine] {
        for (qb, tb) in [(256, 4096), (7, 50), (1, 1)] {
            let cfg = KnnConfig::default().k(5).distance(dist).blocks(qb, tb);
            let knn = Knn::fit(train.view(), &labels, cfg).unwrap();
            let nb = knn.kneighbors(q.view()).unwrap();
            let want = naive(&train, &q, 5, dist, false);
            for (r, w) in want.iter().enumerate() {
                for (c, &(d, i)) in w.iter().enumerate() {
                    assert_eq!(nb.indices[[r, c]], i, "{dist:?} q {r} rank {c}");
                    assert!((nb.distances[[r, c]] as f64 - d).abs() < 1e-4);
                }
            }
            let loo = knn.kneighbors_loo(&(0..300).collect::<Vec<_>>()).unwrap();
            let want = naive(&train, &train, 5, dist, true);
            for (r, w) in want.iter().enumerate() {
                let got: Vec<usize> = loo.indices.row(r).to_vec();
                let w: Vec<usize> = w.iter().map(|x| x.1).collect();
                assert_eq!(got, w, "{dist:?} loo row {r}");
            }
        }
    }
}

#[test]
fn leave_one_out_skips_only_the_query_itself() {
    // Two identical points: each one's nearest neighbour is the other (distance 0).
    let x = array![[1.0f32, 0.0], [1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]];
    let labels: Vec<String> = ["a", "a", "b", "c"].map(String::from).to_vec();
    let knn = Knn::fit(
        x.view(),
        &labels,
        KnnConfig::default().k(1).distance(Distance::Euclidean),
    )
    .unwrap();
    let nb = knn.kneighbors_loo(&[0, 1]).unwrap();
    assert_eq!(nb.indices.column(0).to_vec(), vec![1, 0]);
    assert_eq!(nb.distances.column(0).to_vec(), vec![0.0, 0.0]);
}

#[test]
fn vote_tie_goes_to_smallest_name_and_unknown_can_win() {
    // Query at the origin: neighbours at distances 1, 2, 3 with classes z, b, unknown.
    let x = array![[1.0f32], [2.0], [3.0], [10.0]];
    let labels: Vec<String> = ["zeta", "beta", "unknown", "unknown"]
        .map(String::from)
        .to_vec();
    let cfg = KnnConfig::default().distance(Distance::Euclidean);
    let knn = Knn::fit(x.view(), &labels, cfg).unwrap();
    // 1-1-1 tie → "beta" (smallest name).
    assert_eq!(knn.predict(array![[0.0f32]].view()).unwrap(), vec!["beta"]);
    // Near 3 and 10: neighbours 3 (unknown), 2 (beta), 10 (unknown) → unknown wins 2-1.
    assert_eq!(
        knn.predict(array![[6.0f32]].view()).unwrap(),
        vec!["unknown"]
    );
}

#[test]
fn standardizer_is_standard_scaler() {
    let x = array![[1.0f32, 5.0], [3.0, 5.0], [5.0, 5.0]];
    let s = Standardizer::fit(x.view()).unwrap();
    assert_eq!(s.mean.to_vec(), vec![3.0, 5.0]);
    // Population std of [1, 3, 5] = sqrt(8/3); constant column keeps scale 1.
    assert!((s.scale[0] - (8.0f32 / 3.0).sqrt()).abs() < 1e-6);
    assert_eq!(s.scale[1], 1.0);
    let z = standardize(x.view()).unwrap();
    assert!((z[[0, 0]] + (1.5f32).sqrt()).abs() < 1e-6);
    assert_eq!(z.column(1).to_vec(), vec![0.0, 0.0, 0.0]);
}

#[test]
fn rare_classes_become_unknown() {
    let mut labels: Vec<String> = vec!["mirai".into(); 11];
    labels.extend(vec!["shodan".to_string(); 10]);
    let out = rare_to_unknown(&labels, 10, "unknown");
    assert_eq!(out[0], "mirai");
    assert_eq!(out[11], "unknown");
}

#[test]
fn per_class_f1_over_days_skips_absent_days() {
    let d1 = classification_report(&["a", "a", "b"], &["a", "b", "b"], None).unwrap();
    let d2 = classification_report(&["a", "a"], &["a", "a"], None).unwrap();
    let agg = aggregate_days(&[d1.clone(), d2]).unwrap();
    let (name, a, sup) = &agg.per_class[0];
    assert_eq!((name.as_str(), *sup), ("a", 4));
    // Day 1: a has P 1, R 1/2 → F1 2/3; day 2: F1 1.
    let mean = (2.0 / 3.0 + 1.0) / 2.0;
    assert!((a.mean.unwrap() - mean).abs() < 1e-12);
    let std: f64 = ((2.0f64 / 3.0 - mean).powi(2) * 2.0).sqrt();
    assert!((a.std.unwrap() - std).abs() < 1e-12);
    // b only on day 1: one value, std 0.
    let (_, b, _) = &agg.per_class[1];
    assert_eq!((b.n, b.std), (1, Some(0.0)));
    assert!(agg.to_markdown().contains("| **macro avg** |"));
    assert!(d1.to_markdown().contains("| **accuracy** |"));
}

#[test]
fn equal_distances_go_to_the_lower_index_across_blocks_and_lanes() {
    // 50 training rows of two distinct values: the query equals every even row.
    let train = Array2::from_shape_fn((50, 3), |(i, j)| {
        if i % 2 == 0 {
            j as f32
        } else {
            -(j as f32) - 1.0
        }
    });
    let labels: Vec<String> = (0..50).map(|i| format!("c{i}")).collect();
    let q = array![[0.0f32, 1.0, 2.0]];
    for dist in [Distance::Euclidean, Distance::Cosine] {
        for (qb, tb) in [(256, 4096), (1, 7), (1, 16), (1, 17)] {
            let cfg = KnnConfig::default().k(5).distance(dist).blocks(qb, tb);
            let knn = Knn::fit(train.view(), &labels, cfg).unwrap();
            let nb = knn.kneighbors(q.view()).unwrap();
            assert_eq!(
                nb.indices.row(0).to_vec(),
                vec![0, 2, 4, 6, 8],
                "{dist:?} {tb}"
            );
            let loo = knn.kneighbors_loo(&[2]).unwrap();
            assert_eq!(
                loo.indices.row(0).to_vec(),
                vec![0, 4, 6, 8, 10],
                "{dist:?} {tb}"
            );
        }
    }
}
