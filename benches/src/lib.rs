//! Shared bench fixtures: inputs built once, outside the timed closures, from the seeded
//! synthetic darknet, and one quick Criterion configuration sized for a 2-core machine.
#![deny(missing_docs)]

use criterion::Criterion;
use darknet_nn::adjacency::normalize_row_self_loops;
use darknet_nn::batch::Graph;
use darknet_nn::kernels::transpose_csr;
use darknet_nn::model::temporal::DaySnapshot;
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sprs::TriMat;
use std::collections::HashSet;
use std::time::Duration;

/// The shared Criterion configuration: few samples, short warm-up and measurement, so the whole
/// bench suite runs in minutes on a 2-core machine.
pub fn quick_config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
}

/// A Paper B synthetic darknet of `n_hosts` hosts over `days` days (seeded), as one trace.
pub fn synthetic_trace(n_hosts: usize, days: u32, seed: u64) -> darknet_core::Trace {
    darknet_core::SynthConfig::paper_b()
        .hosts(n_hosts)
        .days(days)
        .seed(seed)
        .build()
        .expect("valid synthetic configuration")
        .trace()
}

/// A Paper A synthetic darknet of `n_hosts` hosts over `days` days (seeded), as one trace.
pub fn synthetic_trace_paper_a(n_hosts: usize, days: u32, seed: u64) -> darknet_core::Trace {
    darknet_core::SynthConfig::paper_a()
        .hosts(n_hosts)
        .days(days)
        .seed(seed)
        .build()
        .expect("valid synthetic configuration")
        .trace()
}

/// Hosts of [`paper_b_day_graph`] (Paper B's average snapshot).
pub const N_HOSTS: usize = 3_900;
/// Ports of [`paper_b_day_graph`].
pub const N_PORTS: usize = 2_500;
/// Host–port edges of [`paper_b_day_graph`].
pub const N_EDGES: usize = 49_000;

/// A day graph: hosts 0..N_HOSTS, ports after them; each edge picks a uniform host and a
/// Zipf-like popular port; negatives drawn uniformly among non-edges, as many as edges.
pub fn paper_b_day_graph(seed: u64) -> DaySnapshot<f32> {
    let n = N_HOSTS + N_PORTS;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut edges = HashSet::with_capacity(N_EDGES);
    while edges.len() < N_EDGES {
        let h = rng.random_range(0..N_HOSTS) as u32;
        let u: f64 = rng.random_range(0.0..1.0);
        let p = ((N_PORTS as f64).powf(u) as usize - 1).min(N_PORTS - 1);
        edges.insert((h, (N_HOSTS + p) as u32));
    }
    let mut positives: Vec<(u32, u32)> = edges.iter().copied().collect();
    positives.sort_unstable();
    let mut tri = TriMat::with_capacity((n, n), 2 * N_EDGES);
    for &(h, p) in &positives {
        let w = rng.random_range(1..50) as f32;
        tri.add_triplet(h as usize, p as usize, w);
        tri.add_triplet(p as usize, h as usize, w);
    }
    let adj = normalize_row_self_loops(&tri.to_csr()).expect("valid adjacency");
    let adj_t = transpose_csr(&adj);
    let mut negatives = Vec::with_capacity(N_EDGES);
    while negatives.len() < N_EDGES {
        let pair = (
            rng.random_range(0..N_HOSTS) as u32,
            (N_HOSTS + rng.random_range(0..N_PORTS)) as u32,
        );
        if !edges.contains(&pair) {
            negatives.push(pair);
        }
    }
    let features = Array2::from_shape_fn((n, 37), |_| rng.random_range(0.0..1.0f32));
    DaySnapshot::new(
        (0..n as u32).collect(),
        N_HOSTS,
        adj,
        adj_t,
        features,
        positives,
        negatives,
    )
    .expect("valid snapshot")
}

/// `n_graphs` random host-like graphs (a random tree over 5–40 nodes, consecutive-packet
/// edges), 36 features (20 + a 16-d port embedding), and 7 labels each. Shapes: graphs of
/// (n_i, 36) features, labels (n_graphs, 7).
pub fn host_graphs(n_graphs: usize, seed: u64) -> (Vec<Graph<f32>>, Array2<f32>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let graphs = (0..n_graphs)
        .map(|_| {
            let n = rng.random_range(5..=40);
            let mut t = TriMat::new((n, n));
            for i in 1..n {
                let j = rng.random_range(0..i);
                let w = rng.random_range(1..5) as f32;
                t.add_triplet(i, j, w);
                t.add_triplet(j, i, w);
            }
            let f = Array2::from_shape_simple_fn((n, 36), || rng.random_range(-1.0f32..1.0));
            Graph::new(&t.to_csr(), f).unwrap()
        })
        .collect();
    let labels =
        Array2::from_shape_simple_fn((n_graphs, 7), || (rng.random::<f32>() < 0.3) as u8 as f32);
    (graphs, labels)
}
