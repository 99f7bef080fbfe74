//! Criterion benches for darknet-eval (see BENCHMARKS.md for recorded figures):
//! - `knn`: leave-none-out brute-force 3-NN, 20k training × 10k query embeddings of 128 dims
//!   (Paper B's scale is ≈ 7.5k hosts a day), cosine and Euclidean;
//! - `metrics`: the full multi-label report and single metrics on 100k hosts × 7 labels
//!   (Paper A's scale);
//! - `ml_ros`: 25 % oversampling of 80k training rows.
//!
//! Inputs are built once, outside the timed closures, from seeded generators.
use criterion::{criterion_group, criterion_main, Criterion};
use darknet_benches::quick_config;
use darknet_eval::{
    label_ranking_loss, ml_ros, per_label_roc_auc, Distance, Knn, KnnConfig, MultiLabelReport,
};
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::hint::black_box;

fn embeddings(n: usize, dim: usize, seed: u64) -> Array2<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Array2::from_shape_fn((n, dim), |_| rng.random::<f32>() - 0.5)
}

/// Paper A-like labels (Table I frequencies) and noisy scores, `(n, 7)` each.
fn multilabel(n: usize, seed: u64) -> (Array2<u8>, Array2<f64>) {
    let freqs = [0.87, 0.55, 0.27, 0.02, 0.03, 0.12, 0.11];
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let y = Array2::from_shape_fn((n, 7), |(_, l)| u8::from(rng.random::<f64>() < freqs[l]));
    let s = y.mapv(|v| (0.35 + 0.3 * v as f64 + 0.3 * (rng.random::<f64>() - 0.5)).clamp(0.0, 1.0));
    (y, s)
}

fn knn(c: &mut Criterion) {
    let (n_train, n_query, dim) = (20_000, 10_000, 128);
    let train = embeddings(n_train, dim, 1);
    let queries = embeddings(n_query, dim, 2);
    let labels: Vec<String> = (0..n_train).map(|i| format!("class{}", i % 14)).collect();
    let mut g = c.benchmark_group("knn");
    for dist in [Distance::Cosine, Distance::Euclidean] {
        let cfg = KnnConfig::default().k(3).distance(dist);
        let model = Knn::fit(train.view(), &labels, cfg).unwrap();
        let id = format!("{dist:?}/{n_train}x{n_query}x{dim}").to_lowercase();
        g.bench_function(id, |b| {
            b.iter(|| black_box(model.predict(black_box(queries.view())).unwrap()))
        });
    }
    g.finish();
}

fn metrics(c: &mut Criterion) {
    let n = 100_000;
    let (y, s) = multilabel(n, 3);
    let names: Vec<String> = (0..7).map(|l| format!("label{l}")).collect();
    let mut g = c.benchmark_group("metrics");
    g.bench_function(format!("report/{n}x7"), |b| {
        b.iter(|| {
            black_box(MultiLabelReport::from_scores(&names, y.view(), s.view(), 0.5).unwrap())
        })
    });
    g.bench_function(format!("label_ranking_loss/{n}x7"), |b| {
        b.iter(|| black_box(label_ranking_loss(y.view(), s.view()).unwrap()))
    });
    g.bench_function(format!("per_label_roc_auc/{n}x7"), |b| {
        b.iter(|| black_box(per_label_roc_auc(y.view(), s.view()).unwrap()))
    });
    g.finish();
}

fn oversampling(c: &mut Criterion) {
    let n = 80_000;
    let (y, _) = multilabel(n, 4);
    let train: Vec<usize> = (0..n).collect();
    let mut g = c.benchmark_group("ml_ros");
    g.bench_function(format!("25pct/{n}x7"), |b| {
        b.iter(|| {
            let mut rng = ChaCha8Rng::seed_from_u64(5);
            black_box(ml_ros(y.view(), &train, 25.0, &mut rng).unwrap())
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = quick_config();
    targets = knn, metrics, oversampling
}
criterion_main!(benches);
