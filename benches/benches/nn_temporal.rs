//! Paper B's temporal models and word2vec: one GCN training epoch on a day graph of the paper's
//! size, one GCN-GRU step over a window of H + 1 = 6 such graphs (each with fresh buffers and
//! with a reused `StepWorkspace`), word2vec words per second (one thread vs all threads).
//!
//! Inputs are seeded synthetic graphs of the paper's average snapshot (6,400 nodes, 49k
//! host–port edges, 37 features, as many negatives as positives), built outside the timed
//! closures.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use darknet_nn::model::temporal::{
    gcn_step, gcn_step_into, gru_step, gru_step_into, DaySnapshot, EdgePredictor, GcnEncoder,
    GcnGruEncoder, LinkModel, StepWorkspace,
};
use darknet_nn::{Adam, AdamConfig, Word2VecConfig};
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn adam() -> Adam<f32> {
    Adam::new(AdamConfig::default().learning_rate(1e-3).weight_decay(5e-3)).expect("valid")
}

/// The dense-product reference of the same run: the epoch's dominant product, (6,400 × 1,024)
/// · (1,024 × 512), throughput in FLOP (criterion's "elements").
fn bench_sgemm_reference(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let a = Array2::from_shape_fn((6_400, 1_024), |_| rng.random_range(-1.0..1.0f32));
    let b = Array2::from_shape_fn((1_024, 512), |_| rng.random_range(-1.0..1.0f32));
    let mut out = Array2::<f32>::zeros((6_400, 512));
    let mut g = c.benchmark_group("nn_temporal/reference");
    g.throughput(Throughput::Elements(2 * 6_400 * 1_024 * 512));
    g.bench_function("sgemm_6400x1024x512", |bench| {
        bench.iter(|| ndarray::linalg::general_mat_mul(1.0, &a, &b, 0.0, &mut out))
    });
    g.finish();
}

fn bench_gcn_epoch(c: &mut Criterion) {
    let day = darknet_benches::paper_b_day_graph(1);
    let mut g = c.benchmark_group("nn_temporal/gcn_epoch");
    for (name, features) in [("features", true), ("identity", false)] {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let in_dim = if features { 37 } else { day.n_nodes() };
        let mut model = LinkModel {
            encoder: GcnEncoder::new(in_dim, &[1024, 512], 128, &mut rng),
            predictor: EdgePredictor::new(128, 64, &mut rng),
        };
        let mut opt = adam();
        g.bench_function(BenchmarkId::new(name, "6400n_49k_edges"), |b| {
            b.iter(|| gcn_step(&mut model, &day, features, &mut opt).expect("step"))
        });
        // The same step with its buffers kept across steps, as the schedules do.
        let mut ws = StepWorkspace::new();
        g.bench_function(
            BenchmarkId::new(format!("{name}_reused_workspace"), "6400n_49k_edges"),
            |b| {
                b.iter(|| {
                    gcn_step_into(&mut model, &day, features, &mut opt, &mut ws).expect("step")
                })
            },
        );
    }
    g.finish();
}

fn bench_gru_step(c: &mut Criterion) {
    let days: Vec<DaySnapshot<f32>> = (0..6)
        .map(|t| darknet_benches::paper_b_day_graph(10 + t))
        .collect();
    let window: Vec<&DaySnapshot<f32>> = days.iter().collect();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut model = LinkModel {
        encoder: GcnGruEncoder::new(37, &[1024, 512], 128, &mut rng),
        predictor: EdgePredictor::new(128, 64, &mut rng),
    };
    let mut opt = adam();
    let mut g = c.benchmark_group("nn_temporal/gcn_gru_step");
    g.bench_function(BenchmarkId::new("h5", "6x6400n_49k_edges"), |b| {
        b.iter(|| gru_step(&mut model, &window, true, &mut opt).expect("step"))
    });
    let mut ws = StepWorkspace::new();
    g.bench_function(
        BenchmarkId::new("h5_reused_workspace", "6x6400n_49k_edges"),
        |b| b.iter(|| gru_step_into(&mut model, &window, true, &mut opt, &mut ws).expect("step")),
    );
    g.finish();
}

fn bench_word2vec(c: &mut Criterion) {
    // 2,000 sentences of 100 words over 5,000 tokens, Zipf-like frequencies.
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let corpus: Vec<Vec<u32>> = (0..2_000)
        .map(|_| {
            (0..100)
                .map(|_| (5_000f64.powf(rng.random_range(0.0..1.0)) as u32) - 1)
                .collect()
        })
        .collect();
    let words: u64 = corpus.iter().map(|s| s.len() as u64).sum();
    let mut g = c.benchmark_group("nn_temporal/word2vec");
    g.throughput(Throughput::Elements(words));
    let threads = rayon::current_num_threads();
    for (name, workers) in [("1_thread", 1), ("all_threads", 0)] {
        let cfg = Word2VecConfig::new().workers(workers);
        g.bench_function(
            BenchmarkId::new(name, format!("{words}w_dim128_t{threads}")),
            |b| b.iter(|| cfg.train(&corpus).expect("train")),
        );
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = darknet_benches::quick_config();
    targets = bench_sgemm_reference, bench_gcn_epoch, bench_gru_step, bench_word2vec
}
criterion_main!(benches);
