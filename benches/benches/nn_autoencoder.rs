//! Criterion benches for Paper A's port auto-encoder at its real size (see BENCHMARKS.md,
//! section "darknet-nn", subsection "Port auto-encoder epoch", for recorded figures).
//!
//! - `matmul/*`: f32 products through ndarray's `general_mat_mul` (matrixmultiply, threaded):
//!   a large square one, the machine's dense-product reference, and the five big products of
//!   one auto-encoder batch (batch 256, 1024 inputs, 1024 hidden), in the layouts the layers
//!   use. Throughput is in elements = floating-point operations (2·m·k·n per product).
//! - `autoencoder/epoch_*`: one training epoch of the default auto-encoder (1024 → 1024 → 16 →
//!   1024 → 1024, Linear → BatchNorm1d → ReLU hidden blocks, batch 256, Adam lr 1e-3) over
//!   64,367 seeded random rows in [0, 1), with one workspace kept across epochs as
//!   `PortAutoencoderConfig::fit` does. Throughput: the epoch's dense-product FLOPs,
//!   3 · 2 · rows · Σ in·out of the four Linear layers.
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use darknet_benches::quick_config;
use darknet_nn::model::AutoencoderWorkspace;
use darknet_nn::{Adam, PortAutoencoder, PortAutoencoderConfig};
use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayView2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::hint::black_box;
use std::time::Duration;

/// Rows of Paper A's port matrix (one day), and its width (reference ports).
const ROWS: usize = 64_367;
const INPUT_DIM: usize = 1_024;

fn random_dense(rows: usize, cols: usize, seed: u64, lo: f32) -> Array2<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Array2::from_shape_simple_fn((rows, cols), || rng.random_range(lo..1.0))
}

/// `c = a · b` for views in any layout.
fn product(a: ArrayView2<'_, f32>, b: ArrayView2<'_, f32>, c: &mut Array2<f32>) {
    general_mat_mul(1.0, &a, &b, 0.0, c);
}

fn matmul(c: &mut Criterion) {
    let mut g = c.benchmark_group("matmul");
    let n = 2_048;
    let a = random_dense(n, n, 1, -1.0);
    let b = random_dense(n, n, 2, -1.0);
    let mut out = Array2::zeros((n, n));
    g.throughput(Throughput::Elements((2 * n * n * n) as u64));
    g.bench_function("square_2048", |bench| {
        bench.iter(|| product(a.view(), b.view(), &mut out))
    });
    // The five large products of one batch (256 rows; the default model's hidden layers are
    // 1024 wide, `geometric_sizes(1024, 16, 1) == [1024]`), as the layers call them: forward
    // x·Wᵀ, weight gradient dyᵀ·x, input gradient dy·W.
    let (nb, d) = (256, INPUT_DIM);
    let x = random_dense(nb, d, 3, -1.0);
    let w = random_dense(d, d, 5, -1.0);
    let dy = random_dense(nb, d, 8, -1.0);
    let shapes: [(&str, ArrayView2<'_, f32>, ArrayView2<'_, f32>); 3] = [
        ("fwd_256x1024_by_1024x1024_t", x.view(), w.t()),
        ("dw_1024x256_t_by_256x1024", dy.t(), x.view()),
        ("dx_256x1024_by_1024x1024", dy.view(), w.view()),
    ];
    for (name, a, b) in shapes {
        let (m, k) = a.dim();
        let n = b.ncols();
        let mut out = Array2::zeros((m, n));
        g.throughput(Throughput::Elements((2 * m * k * n) as u64));
        g.bench_with_input(BenchmarkId::new("ae_batch", name), &(), |bench, _| {
            bench.iter(|| product(a, b, &mut out))
        });
    }
    g.finish();
}

fn autoencoder(c: &mut Criterion) {
    let x = random_dense(ROWS, INPUT_DIM, 10, 0.0);
    let cfg = PortAutoencoderConfig::default();
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut model = PortAutoencoder::<f32>::new(cfg, INPUT_DIM, &mut rng).unwrap();
    let mut adam = Adam::new(cfg.train.adam).unwrap();
    let mut ws = AutoencoderWorkspace::default();
    let mut sizes = vec![INPUT_DIM];
    sizes.extend(cfg.hidden_sizes(INPUT_DIM));
    sizes.push(cfg.latent_dim);
    let per_row: usize = sizes.windows(2).map(|w| w[0] * w[1]).sum::<usize>() * 2;
    let mut g = c.benchmark_group("autoencoder");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(30));
    g.throughput(Throughput::Elements((3 * 2 * ROWS * per_row) as u64));
    g.bench_function("epoch_64367x1024_latent16_batch256", |bench| {
        bench.iter(|| {
            black_box(
                model
                    .train_epoch_into(x.view(), &mut adam, &mut rng, &mut ws)
                    .unwrap(),
            )
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = quick_config();
    targets = matmul, autoencoder
}
criterion_main!(benches);
