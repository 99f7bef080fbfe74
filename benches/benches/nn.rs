//! Criterion benches for darknet-nn (see BENCHMARKS.md, section "darknet-nn", for recorded
//! figures and how they compare with the machine's memory bandwidth).
//!
//! - `bandwidth/triad`: `a = b + s·c` over three 256 MiB f32 arrays on all cores, the memory
//!   bandwidth reference measured in the same run;
//! - `spmm/*`: CSR × dense f32 products through `kernels::spmm_into` (throughput = bytes the
//!   kernel must move: CSR arrays, one gathered dense row per non-zero, the output);
//! - `layers/*`: Linear and GCN forward + backward;
//! - `paper_a/epoch`: one training epoch of the default graph classifier over 10,000 random
//!   host graphs of 5–40 nodes, batch 256 (a fresh step workspace per epoch, and one reused
//!   across epochs).
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use darknet_benches::quick_config;
use darknet_nn::kernels::{spmm_into, transpose_csr};
use darknet_nn::layers::{Gcn, Linear};
use darknet_nn::model::ClassifierWorkspace;
use darknet_nn::{Adam, GraphClassifier, GraphClassifierConfig, HasParams};
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use sprs::{CsMat, TriMat};
use std::hint::black_box;

/// A random n × n CSR matrix with about `nnz` non-zeros (duplicates summed).
fn random_csr(n: usize, nnz: usize, seed: u64) -> CsMat<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut t = TriMat::with_capacity((n, n), nnz);
    for _ in 0..nnz {
        t.add_triplet(
            rng.random_range(0..n),
            rng.random_range(0..n),
            rng.random_range(0.0f32..1.0),
        );
    }
    t.to_csr()
}

fn random_dense(rows: usize, cols: usize, seed: u64) -> Array2<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Array2::from_shape_simple_fn((rows, cols), || rng.random_range(-1.0f32..1.0))
}

/// Bytes an SpMM must move at least once: indptr, indices and values, one dense row of `k`
/// f32 per non-zero (the gather), and the output.
fn spmm_bytes(a: &CsMat<f32>, k: usize) -> u64 {
    let csr = (a.rows() + 1) * 8 + a.nnz() * (8 + 4);
    (csr + a.nnz() * k * 4 + a.rows() * k * 4) as u64
}

fn bandwidth(c: &mut Criterion) {
    let n = 64 << 20; // 64 Mi f32 = 256 MiB per array
    let b = vec![1.0f32; n];
    let cc = vec![2.0f32; n];
    let mut a = vec![0.0f32; n];
    let mut g = c.benchmark_group("bandwidth");
    g.throughput(Throughput::Bytes((3 * n * 4) as u64));
    g.bench_function("triad_3x256MiB", |bench| {
        bench.iter(|| {
            let s = black_box(3.0f32);
            a.par_chunks_mut(1 << 16)
                .zip(b.par_chunks(1 << 16))
                .zip(cc.par_chunks(1 << 16))
                .for_each(|((a, b), c)| {
                    for ((a, &b), &c) in a.iter_mut().zip(b).zip(c) {
                        *a = b + s * c;
                    }
                });
            black_box(&a);
        })
    });
    g.finish();
}

fn spmm(c: &mut Criterion) {
    let mut g = c.benchmark_group("spmm");
    let small = random_csr(6_400, 49_000, 1);
    let large = random_csr(100_000, 1_000_000, 2);
    for (name, a, k) in [
        ("6400x6400_nnz49k_k37", &small, 37),
        ("6400x6400_nnz49k_k1024", &small, 1024),
        ("100kx100k_nnz1M_k64", &large, 64),
    ] {
        let x = random_dense(a.cols(), k, 3);
        let mut out = Array2::zeros((a.rows(), k));
        g.throughput(Throughput::Bytes(spmm_bytes(a, k)));
        g.bench_with_input(BenchmarkId::new("spmm_into", name), &k, |bench, _| {
            bench.iter(|| spmm_into(a, x.view(), out.view_mut()).unwrap())
        });
    }
    g.finish();
}

fn layers(c: &mut Criterion) {
    let mut g = c.benchmark_group("layers");
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let mut lin = Linear::<f32>::new(128, 64, &mut rng);
    let x = random_dense(4_096, 128, 5);
    let dy = random_dense(4_096, 64, 6);
    g.bench_function("linear_fwd_bwd_4096x128_to_64", |bench| {
        bench.iter(|| {
            lin.zero_grad();
            let (_, cache) = lin.forward(x.view()).unwrap();
            black_box(lin.backward(&cache, dy.view()).unwrap());
        })
    });
    let adj = random_csr(6_400, 49_000, 7);
    let adj_t = transpose_csr(&adj);
    for (din, dout) in [(37usize, 128usize), (128, 64)] {
        let mut gcn = Gcn::<f32>::new(din, dout, &mut rng);
        let x = random_dense(6_400, din, 8);
        let dy = random_dense(6_400, dout, 9);
        g.bench_function(
            format!("gcn_fwd_bwd_6400_nnz49k_{din}_to_{dout}"),
            |bench| {
                bench.iter(|| {
                    gcn.zero_grad();
                    let (_, cache) = gcn.forward(&adj, x.view()).unwrap();
                    black_box(gcn.backward(&adj_t, &cache, dy.view()).unwrap());
                })
            },
        );
    }
    g.finish();
}

fn paper_a(c: &mut Criterion) {
    let (graphs, labels) = darknet_benches::host_graphs(10_000, 10);
    let cfg = GraphClassifierConfig::default().batch_size(256);
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut model = GraphClassifier::<f32>::new(cfg.clone(), 36, 7, &mut rng).unwrap();
    let mut adam = Adam::new(cfg.train.adam).unwrap();
    let mut g = c.benchmark_group("paper_a");
    g.throughput(Throughput::Elements(graphs.len() as u64));
    g.bench_function("epoch_10k_graphs_5to40_nodes_batch256", |bench| {
        bench.iter(|| {
            black_box(
                model
                    .train_epoch(&graphs, labels.view(), &mut adam, &mut rng)
                    .unwrap(),
            )
        })
    });
    // The same epoch with one workspace kept across epochs, as `GraphClassifierConfig::fit`
    // does: after the first epoch no batch allocates (apart from matrixmultiply's packing).
    let mut ws = ClassifierWorkspace::new();
    g.bench_function(
        "epoch_10k_graphs_5to40_nodes_batch256_reused_workspace",
        |bench| {
            bench.iter(|| {
                black_box(
                    model
                        .train_epoch_into(&graphs, labels.view(), &mut adam, &mut rng, &mut ws)
                        .unwrap(),
                )
            })
        },
    );
    g.finish();
}

criterion_group! {
    name = benches;
    config = quick_config();
    targets = bandwidth, spmm, layers, paper_a
}
criterion_main!(benches);
