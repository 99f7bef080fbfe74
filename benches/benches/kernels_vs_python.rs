//! Kernels timed beside their Python references (the scripts in `benches/python/`): word2vec
//! against gensim, kNN against scikit-learn, SpMM against scipy / torch, Dijkstra against
//! scipy. A plain program (no Criterion: the word2vec case takes a minute per run), run by hand:
//!
//! ```text
//! RAYON_NUM_THREADS=1 cargo bench -p darknet-benches --bench kernels_vs_python -- word2vec 3
//! RAYON_NUM_THREADS=2 cargo bench -p darknet-benches --bench kernels_vs_python -- knn 5
//! ```
//!
//! Cases: `word2vec`, `knn`, `spmm`, `dijkstra`, `inputs` (only writes the shared inputs);
//! the number after the case is the repetitions (median and all times are printed; for
//! `word2vec` a third number trains on the first that many sentences only). Threads
//! come from `RAYON_NUM_THREADS` (rayon's default pool, which ndarray's products also follow
//! through matrixmultiply's threading). Inputs shared with the Python side are written once to
//! `target/kernels_vs_python/` (override with `KERNELS_DIR`):
//! - `w2v_corpus.txt`: 5,000 sentences of 1,000 tokens (5 M tokens), Zipf (exponent 1) over a
//!   50,000-word vocabulary, one sentence per line, tokens as integers;
//! - `port_graph_edges.bin`: the 80,000-port / 1 M-edge port graph of the graph bench as
//!   little-endian records (from u32, to u32, ω f64), and `port_graph_refs.txt`, its 1,024
//!   reference ports.

use darknet_eval::{Distance, Knn, KnnConfig};
use darknet_graph::{reference_distances, DistanceConfig, PortGraph, PortKey, TransitionCounts};
use darknet_nn::kernels::spmm_into;
use darknet_nn::Word2VecConfig;
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use sprs::{CsMat, TriMat};
use std::hint::black_box;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::time::Instant;

fn dir() -> PathBuf {
    let d = std::env::var_os("KERNELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            // `cargo bench` runs in the package directory: the workspace's target is its
            // parent's.
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
            target.join("kernels_vs_python")
        });
    std::fs::create_dir_all(&d).expect("input directory");
    d
}

/// CPU time of the whole process so far (all threads alive), in seconds, from the kernel's
/// per-thread accounting (`/proc/self/task/*/schedstat`, nanoseconds); 0 where unavailable.
fn cpu_secs() -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .sum::<f64>()
        / 1e9
}

/// Runs `f` `reps` times (`f` returns its wall time in seconds) and prints the median and every
/// wall time, and the median and smallest CPU time (all threads; on a machine shared with other
/// work this is the steadier figure at one thread). Returns the median wall time and the median
/// CPU time, in seconds.
fn timed(name: &str, reps: usize, mut f: impl FnMut() -> f64) -> (f64, f64) {
    let mut cpu = Vec::with_capacity(reps);
    let mut t: Vec<f64> = (0..reps)
        .map(|_| {
            let c = cpu_secs();
            let w = f();
            cpu.push(cpu_secs() - c);
            w
        })
        .collect();
    let all = t
        .iter()
        .map(|x| format!("{x:.4}"))
        .collect::<Vec<_>>()
        .join(" ");
    t.sort_by(f64::total_cmp);
    cpu.sort_by(f64::total_cmp);
    let med = t[t.len() / 2];
    println!(
        "{name} threads={} median={med:.4}s cpu_median={:.4}s cpu_min={:.4}s all=[{all}]",
        rayon::current_num_threads(),
        cpu[cpu.len() / 2],
        cpu[0]
    );
    (med, cpu[cpu.len() / 2])
}

fn secs(f: impl FnOnce()) -> f64 {
    let t = Instant::now();
    f();
    t.elapsed().as_secs_f64()
}

// ---------------------------------------------------------------- word2vec

const W2V_SENTENCES: usize = 5_000;
const W2V_LEN: usize = 1_000;
const W2V_VOCAB: usize = 50_000;

fn w2v_corpus() -> Vec<Vec<u32>> {
    let path = dir().join("w2v_corpus.txt");
    if !path.exists() {
        let mut cum = Vec::with_capacity(W2V_VOCAB);
        let mut acc = 0.0f64;
        for r in 1..=W2V_VOCAB {
            acc += 1.0 / r as f64;
            cum.push(acc);
        }
        let mut rng = ChaCha8Rng::seed_from_u64(17);
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path).expect("corpus"));
        for _ in 0..W2V_SENTENCES {
            let line: Vec<String> = (0..W2V_LEN)
                .map(|_| {
                    let u = rng.random_range(0.0..acc);
                    cum.partition_point(|&c| c <= u)
                        .min(W2V_VOCAB - 1)
                        .to_string()
                })
                .collect();
            writeln!(out, "{}", line.join(" ")).expect("write corpus");
        }
    }
    let f = std::io::BufReader::new(std::fs::File::open(&path).expect("corpus"));
    f.lines()
        .map(|l| {
            l.expect("corpus line")
                .split_ascii_whitespace()
                .map(|t| t.parse().expect("integer token"))
                .collect()
        })
        .collect()
}

fn word2vec(reps: usize, sentences: Option<usize>) {
    let mut corpus = w2v_corpus();
    corpus.truncate(sentences.unwrap_or(W2V_SENTENCES));
    let threads = rayon::current_num_threads();
    // gensim's and i-DarkVec's settings; one thread = the reproducible mode, more = Hogwild on
    // rayon's pool (`workers(0)`).
    let cfg = Word2VecConfig::new()
        .dim(50)
        .window(25)
        .negative(5)
        .sample(1e-3)
        .min_count(1)
        .epochs(1)
        .workers(
            if threads == 1 && std::env::var_os("W2V_HOGWILD").is_none() {
                1
            } else {
                0
            },
        );
    let tokens: usize = corpus.iter().map(Vec::len).sum();
    timed(
        &format!("word2vec_sg_d50_w25_n5_s1e-3_{tokens}tok"),
        reps,
        || {
            let m = cfg.train(&corpus).expect("train");
            let st = m.last_stats();
            println!(
                "  effective words {} ({:.0} words/s)",
                st.effective_words,
                st.words_per_sec()
            );
            st.elapsed.as_secs_f64()
        },
    );
}

// ---------------------------------------------------------------- kNN

fn uniform(rows: usize, cols: usize, seed: u64) -> Array2<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Array2::from_shape_simple_fn((rows, cols), || rng.random_range(-0.5f32..0.5))
}

fn knn(reps: usize) {
    let train = uniform(20_000, 128, 1);
    let queries = uniform(10_000, 128, 2);
    let labels: Vec<String> = (0..20_000).map(|i| format!("class{}", i % 14)).collect();
    // The dense-product rate of the same run: queries · trainᵀ in one call.
    let mut prod = Array2::<f32>::zeros((10_000, 20_000));
    let (t, _) = timed("sgemm_10000x128x20000", reps, || {
        secs(|| ndarray::linalg::general_mat_mul(1.0, &queries, &train.t(), 0.0, &mut prod))
    });
    println!("  {:.1} GFLOP/s", 2.0 * 1e4 * 2e4 * 128.0 / t / 1e9);
    drop(prod);
    for (name, d) in [
        ("knn_euclidean_20000x10000x128_k3", Distance::Euclidean),
        ("knn_cosine_20000x10000x128_k3", Distance::Cosine),
    ] {
        let model =
            Knn::fit(train.view(), &labels, KnnConfig::default().k(3).distance(d)).expect("fit");
        timed(name, reps, || {
            secs(|| {
                black_box(model.predict(queries.view()).expect("predict"));
            })
        });
    }
}

// ---------------------------------------------------------------- SpMM

fn random_csr(n: usize, nnz: usize, seed: u64) -> CsMat<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut t = TriMat::new((n, n));
    for _ in 0..nnz {
        t.add_triplet(
            rng.random_range(0..n),
            rng.random_range(0..n),
            rng.random_range(-1.0f32..1.0),
        );
    }
    t.to_csr()
}

fn spmm(reps: usize) {
    for (name, n, nnz, k, inner) in [
        ("spmm_6400_nnz49k_k37", 6_400, 49_000, 37, 200),
        ("spmm_100k_nnz1M_k64", 100_000, 1_000_000, 64, 5),
    ] {
        let a = random_csr(n, nnz, 1);
        let x = uniform(n, k, 3);
        let mut out = Array2::zeros((n, k));
        let (t, cpu) = timed(name, reps, || {
            secs(|| {
                for _ in 0..inner {
                    spmm_into(&a, x.view(), out.view_mut()).expect("spmm");
                }
            }) / inner as f64
        });
        let cpu = cpu / inner as f64;
        let bytes = ((n + 1) * 8 + a.nnz() * 12 + a.nnz() * k * 4 + n * k * 4) as f64;
        println!(
            "  nnz {} -> {:.3} ms wall, {:.3} ms CPU per product; {:.1} GB/s of compulsory traffic per CPU-second",
            a.nnz(),
            t * 1e3,
            cpu * 1e3,
            bytes / cpu / 1e9
        );
    }
    // STREAM-like triad a = b + s·c over three 256 MiB arrays, same pool.
    let len = 64 << 20;
    let b = vec![1.0f32; len];
    let c = vec![2.0f32; len];
    let mut a = vec![0.0f32; len];
    let (t, cpu) = timed("triad_3x256MiB", reps, || {
        secs(|| {
            let s = black_box(3.0f32);
            a.par_chunks_mut(1 << 16)
                .zip(b.par_chunks(1 << 16))
                .zip(c.par_chunks(1 << 16))
                .for_each(|((a, b), c)| {
                    for ((a, &b), &c) in a.iter_mut().zip(b).zip(c) {
                        *a = b + s * c;
                    }
                });
            black_box(&a);
        })
    });
    println!(
        "  {:.1} GB/s wall, {:.1} GB/s per CPU-second",
        (3 * len * 4) as f64 / t / 1e9,
        (3 * len * 4) as f64 / cpu / 1e9
    );
}

// ---------------------------------------------------------------- Dijkstra

/// The graph bench's port graph: a ring over all ports, then random edges, 5 % repeated.
fn big_port_graph(n_ports: u32, n_edges: usize, seed: u64) -> PortGraph {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut c = TransitionCounts::new();
    let key = PortKey::from_code;
    for i in 0..n_ports {
        c.add_sequence([key(i), key((i + 1) % n_ports)]);
    }
    for _ in 0..n_edges.saturating_sub(n_ports as usize) {
        let a = rng.random_range(0..n_ports);
        let b = rng.random_range(0..n_ports);
        let reps = if rng.random_bool(0.05) {
            rng.random_range(2..50)
        } else {
            1
        };
        for _ in 0..reps {
            c.add_sequence([key(a), key(b)]);
        }
    }
    c.compact();
    PortGraph::from_counts(&c).expect("non-empty")
}

fn dijkstra(reps: usize) {
    let graph = big_port_graph(80_000, 1_000_000, 2);
    let cfg = DistanceConfig::default().n_references(1_024).seed(3);
    let d = dir();
    let edges = d.join("port_graph_edges.bin");
    if !edges.exists() {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&edges).expect("edges"));
        for e in graph.edges() {
            out.write_all(&e.from.to_le_bytes()).expect("write");
            out.write_all(&e.to.to_le_bytes()).expect("write");
            out.write_all(&e.w.to_le_bytes()).expect("write");
        }
        let refs = darknet_graph::choose_references(&graph, &cfg).expect("refs");
        let refs: Vec<String> = refs.iter().map(|r| r.to_string()).collect();
        std::fs::write(d.join("port_graph_refs.txt"), refs.join("\n")).expect("refs");
    }
    println!(
        "port graph: {} ports, {} edges",
        graph.n_ports(),
        graph.edges().len()
    );
    let (t, cpu) = timed("dijkstra_80k_1M_1024_refs", reps, || {
        secs(|| {
            black_box(reference_distances(&graph, &cfg).expect("distances"));
        })
    });
    println!(
        "  {:.2} ms wall, {:.2} ms CPU per reference",
        t / 1024.0 * 1e3,
        cpu / 1024.0 * 1e3
    );
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let case = args.first().map(String::as_str).unwrap_or("help");
    let reps: usize = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(3).max(1);
    match case {
        "word2vec" => word2vec(reps, args.get(2).and_then(|n| n.parse().ok())),
        "knn" => knn(reps),
        "spmm" => spmm(reps),
        "dijkstra" => dijkstra(reps),
        "inputs" => {
            w2v_corpus();
            dijkstra(1);
        }
        _ => eprintln!("usage: kernels_vs_python word2vec|knn|spmm|dijkstra|inputs [reps]"),
    }
}
