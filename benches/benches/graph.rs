//! Criterion benches for darknet-graph (see BENCHMARKS.md, section "darknet-graph").
//!
//! - `port_graph_count`: transition counting θ over two days of the synthetic Paper A darknet
//!   (160k hosts, ≈ 5 M packets), 1 and 2 threads; and a 4 M-packet random trace.
//! - `reference_distances`: Dijkstra distances on a random 80k-port / 1M-edge port graph; a
//!   measured subset of 16 references (the 1,024-reference cost is 64 × that), 1 and 2 threads.
//! - `host_graphs`: host-graph extraction for ≈ 100k hosts of one synthetic Paper A day, E = 16.
//! - `snapshot_day`: one synthetic Paper B /24 day at the published rates (intensity 1.0).
//!
//! Inputs are built outside the timed closures from the seeded synthetic darknet (and seeded
//! random generators where the darknet cannot reach the size: the 80k-port graph).
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use darknet_benches::quick_config;
use darknet_core::{Packet, Protocol, SynthConfig, TcpOptions, Trace, NANOS_PER_DAY};
use darknet_graph::{
    build_host_graphs, build_snapshots, count_transitions, reference_distances, DistanceConfig,
    PortEmbeddings, PortGraph, PortKey, SnapshotConfig, TransitionCounts,
};
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::net::Ipv4Addr;

/// A seeded darknet-like trace: `n_hosts` sources in one day, each with a small favourite port
/// set (skewed over 2,000 ports), ≈ `pkts_per_host` packets, 90 % TCP, 8 % UDP, 2 % ICMP, a /24
/// destination range.
fn darknet_trace(n_hosts: u32, pkts_per_host: u32, seed: u64) -> Trace {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut ps = Vec::with_capacity((n_hosts * pkts_per_host) as usize);
    for h in 0..n_hosts {
        let src = Ipv4Addr::from(0x0B00_0000 + h * 7);
        let fav: Vec<u16> = (0..rng.random_range(1..6))
            .map(|_| {
                let r: f64 = rng.random();
                (r * r * 2000.0) as u16 + 1
            })
            .collect();
        let n = rng.random_range(pkts_per_host / 2..pkts_per_host * 3 / 2 + 1);
        let sport = rng.random_range(1024..65535);
        for _ in 0..n {
            let roll: f64 = rng.random();
            let proto = if roll < 0.9 {
                Protocol::Tcp
            } else if roll < 0.98 {
                Protocol::Udp
            } else {
                Protocol::Icmp
            };
            let port = if proto == Protocol::Icmp {
                0
            } else {
                fav[rng.random_range(0..fav.len())]
            };
            ps.push(Packet {
                ts_ns: rng.random_range(0..NANOS_PER_DAY),
                src,
                dst: Ipv4Addr::new(10, 0, 0, rng.random()),
                proto,
                src_port: if proto == Protocol::Icmp { 0 } else { sport },
                dst_port: port,
                ip_len: 40 + rng.random_range(0..20),
                ttl: rng.random_range(30..255),
                tcp_flags: if proto == Protocol::Tcp { 0x02 } else { 0 },
                tcp_window: rng.random(),
                tcp_options: TcpOptions {
                    mss: rng.random_bool(0.5).then_some(1460),
                    tsval: rng.random_bool(0.3).then(|| rng.random()),
                    ..TcpOptions::default()
                },
                icmp_type: if proto == Protocol::Icmp { 8 } else { 0 },
                ..Packet::default()
            });
        }
    }
    Trace::from_packets(ps)
}

/// A port graph with `n_ports` nodes and about `n_edges` distinct edges with skewed counts.
fn big_port_graph(n_ports: u32, n_edges: usize, seed: u64) -> PortGraph {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut c = TransitionCounts::new();
    let key = |i: u32| PortKey::from_code(i);
    // A ring so every port is a node, then random edges, some repeated many times.
    for i in 0..n_ports {
        c.add_sequence([key(i), key((i + 1) % n_ports)]);
    }
    // Random pairs rarely collide (1M of 6.4e9), so n_edges draws give ≈ n_edges edges.
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

fn pool(n: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .expect("thread pool")
}

/// The synthetic darknet of a configuration, as one trace.
fn synthetic(cfg: SynthConfig) -> Trace {
    cfg.build().expect("synthetic darknet").trace()
}

fn port_graph_count(c: &mut Criterion) {
    let mut g = c.benchmark_group("port_graph_count");
    let random = darknet_trace(200_000, 20, 1);
    for (name, trace) in [
        (
            "synth_a",
            synthetic(SynthConfig::paper_a().hosts(160_000).days(2)),
        ),
        ("random", random.clone()),
    ] {
        let sources = trace.by_source();
        g.throughput(Throughput::Elements(trace.len() as u64));
        for threads in [1usize, 2] {
            let p = pool(threads);
            g.bench_with_input(
                BenchmarkId::new(
                    format!("{name}_{}_packets", trace.len()),
                    format!("{threads}_threads"),
                ),
                &threads,
                |b, _| b.iter(|| p.install(|| count_transitions(&trace, &sources))),
            );
        }
    }
    // The memory floor: gathering the two columns in source order, no counting.
    let trace = random;
    let sources = trace.by_source();
    g.throughput(Throughput::Elements(trace.len() as u64));
    g.bench_function("gather_only", |b| {
        b.iter(|| {
            let (pr, po) = (trace.proto(), trace.dst_port());
            let mut acc = 0u64;
            for k in 0..sources.len() {
                for &i in sources.packets_of(k) {
                    acc = acc.wrapping_add(u64::from(pr[i as usize]) ^ u64::from(po[i as usize]));
                }
            }
            acc
        })
    });
    g.bench_function(BenchmarkId::new("from_counts", trace.len()), |b| {
        let counts = count_transitions(&trace, &sources);
        b.iter(|| PortGraph::from_counts(&counts).expect("graph"))
    });
    g.finish();
}

fn distances(c: &mut Criterion) {
    let graph = big_port_graph(80_000, 1_000_000, 2);
    let mut g = c.benchmark_group("reference_distances");
    g.sample_size(10);
    let refs = 16usize;
    g.throughput(Throughput::Elements(refs as u64));
    for threads in [1usize, 2] {
        let p = pool(threads);
        let cfg = DistanceConfig::default().n_references(refs).seed(3);
        g.bench_with_input(
            BenchmarkId::new("80k_ports_1M_edges_16_refs", format!("{threads}_threads")),
            &threads,
            |b, _| b.iter(|| p.install(|| reference_distances(&graph, &cfg).expect("distances"))),
        );
    }
    g.finish();
}

fn host_graphs(c: &mut Criterion) {
    let trace = synthetic(SynthConfig::paper_a().hosts(160_000).days(1));
    let sources = trace.by_source();
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let ports: Vec<PortKey> = (1..=20_000u16)
        .flat_map(|p| [PortKey::tcp(p), PortKey::udp(p)])
        .collect();
    let table = Array2::from_shape_fn((ports.len(), 16), |_| rng.random::<f32>());
    let emb = PortEmbeddings::new(ports, table).expect("table");
    let mut g = c.benchmark_group("host_graphs");
    g.throughput(Throughput::Elements(sources.len() as u64));
    g.bench_function(BenchmarkId::new("hosts", sources.len()), |b| {
        b.iter(|| build_host_graphs(&trace, &sources, &emb))
    });
    g.finish();
}

fn snapshot_day(c: &mut Criterion) {
    let trace = synthetic(SynthConfig::paper_b().hosts(10_000).days(1).intensity(1.0));
    let mut g = c.benchmark_group("snapshot_day");
    g.throughput(Throughput::Elements(trace.len() as u64));
    let cfg = SnapshotConfig::default();
    g.bench_function(BenchmarkId::new("slash24_day_packets", trace.len()), |b| {
        b.iter(|| build_snapshots(&trace, &cfg).expect("snapshots"))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = quick_config();
    targets = port_graph_count, distances, host_graphs, snapshot_day
}
criterion_main!(benches);
