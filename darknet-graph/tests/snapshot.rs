//! Daily bipartite snapshots: features against a direct computation, thresholds, top-K with the
//! "other" node, global ids, code-mode edges, negative sampling.

use approx::assert_abs_diff_eq;
use darknet_core::{Packet, Protocol, TcpOptions, Trace, NANOS_PER_DAY};
use darknet_graph::{
    build_snapshots, EdgeMode, GraphError, HostThreshold, PortNode, PortRanking, SnapshotConfig,
    SNAPSHOT_HOST_FEATURES, SNAPSHOT_PORT_FEATURES,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// A random 2-day trace: 12 hosts with 1..15 packets a day over 6 ports, some UDP noise.
fn random_trace(seed: u64) -> Trace {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut ps = Vec::new();
    for day in 0..2u64 {
        for h in 0..12u8 {
            let n = rng.random_range(1..15);
            for _ in 0..n {
                ps.push(Packet {
                    ts_ns: day * NANOS_PER_DAY + rng.random_range(0..NANOS_PER_DAY),
                    src: Ipv4Addr::new(203, 0, 113, h),
                    dst: Ipv4Addr::new(10, 0, 0, rng.random_range(0..8)),
                    proto: if rng.random_bool(0.1) {
                        Protocol::Udp
                    } else {
                        Protocol::Tcp
                    },
                    dst_port: [22, 23, 80, 443, 8080, 2323][rng.random_range(0..6)],
                    ip_len: rng.random_range(40..60),
                    ttl: rng.random_range(30..255),
                    tcp_window: rng.random_range(0..65535),
                    tcp_options: TcpOptions {
                        mss: rng.random_bool(0.5).then_some(1460),
                        tsval: rng.random_bool(0.5).then(|| rng.random()),
                        ..TcpOptions::default()
                    },
                    ..Packet::default()
                });
            }
        }
    }
    Trace::from_packets(ps)
}

fn stats(xs: &[f64]) -> (f64, f64, f64, f64, f64) {
    let n = xs.len() as f64;
    let sum: f64 = xs.iter().sum();
    let mean = sum / n;
    let min = xs.iter().cloned().fold(f64::INFINITY, f64::min);
    let max = xs.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let std = if xs.len() < 2 {
        0.0
    } else {
        (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
    };
    (sum, min, max, mean, std)
}

fn counts<K: Ord>(xs: impl Iterator<Item = K>) -> BTreeMap<K, f64> {
    let mut m = BTreeMap::new();
    for x in xs {
        *m.entry(x).or_insert(0.0) += 1.0;
    }
    m
}

/// Direct, unoptimised computation of one day's features (before scaling), keyed by node.
fn direct_day(
    trace: &Trace,
    day: u64,
    min: u64,
    k: usize,
) -> (BTreeMap<u32, Vec<f64>>, BTreeMap<PortNode, Vec<f64>>) {
    let pk: Vec<Packet> = trace
        .iter()
        .filter(|p| p.ts_ns / NANOS_PER_DAY == day && p.proto == Protocol::Tcp)
        .collect();
    let per_src = counts(pk.iter().map(|p| u32::from(p.src)));
    let pk: Vec<Packet> = pk
        .into_iter()
        .filter(|p| per_src[&u32::from(p.src)] >= min as f64)
        .collect();
    let port_n = counts(pk.iter().map(|p| p.dst_port));
    let mut ranked: Vec<(u16, f64)> = port_n.into_iter().collect();
    ranked.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap().then(a.0.cmp(&b.0)));
    let top: Vec<u16> = ranked.iter().take(k).map(|x| x.0).collect();
    let map = |p: u16| {
        if top.contains(&p) {
            PortNode::Port(p)
        } else {
            PortNode::Other
        }
    };
    let fields = |ps: &[&Packet]| {
        let mut v = Vec::new();
        let cols: [Vec<f64>; 5] = [
            ps.iter().map(|p| p.ip_len as f64).collect(),
            ps.iter().map(|p| p.ttl as f64).collect(),
            ps.iter()
                .map(|p| p.tcp_options.mss.unwrap_or(0) as f64)
                .collect(),
            ps.iter().map(|p| p.tcp_window as f64).collect(),
            ps.iter()
                .map(|p| p.tcp_options.tsval.unwrap_or(0) as f64)
                .collect(),
        ];
        for c in cols {
            let (s, mi, ma, me, sd) = stats(&c);
            v.extend([s, mi, ma, me, sd]);
        }
        v
    };
    let mut hosts = BTreeMap::new();
    for &src in per_src.keys() {
        let mine: Vec<&Packet> = pk.iter().filter(|p| u32::from(p.src) == src).collect();
        if mine.is_empty() {
            continue;
        }
        let mut f = Vec::new();
        for c in [
            counts(mine.iter().map(|p| map(p.dst_port).to_string())),
            counts(mine.iter().map(|p| u32::from(p.dst).to_string())),
        ] {
            let xs: Vec<f64> = c.values().cloned().collect();
            let (s, mi, ma, me, sd) = stats(&xs);
            f.extend([xs.len() as f64, mi, ma, s, me, sd]);
        }
        f.extend(fields(&mine));
        hosts.insert(src, f);
    }
    let mut ports = BTreeMap::new();
    for node in pk
        .iter()
        .map(|p| map(p.dst_port))
        .collect::<std::collections::BTreeSet<_>>()
    {
        let mine: Vec<&Packet> = pk.iter().filter(|p| map(p.dst_port) == node).collect();
        let xs: Vec<f64> = counts(mine.iter().map(|p| u32::from(p.src)))
            .values()
            .cloned()
            .collect();
        let (s, mi, ma, me, sd) = stats(&xs);
        let mut f = vec![
            xs.len() as f64,
            mi,
            ma,
            s,
            me,
            sd,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
        ];
        f.extend(fields(&mine));
        ports.insert(node, f);
    }
    (hosts, ports)
}

fn scale<K: Ord + Clone>(m: &BTreeMap<K, Vec<f64>>) -> BTreeMap<K, Vec<f64>> {
    let mut max = vec![0f64; 37];
    for v in m.values() {
        for (a, &b) in max.iter_mut().zip(v) {
            *a = a.max(b);
        }
    }
    m.iter()
        .map(|(k, v)| {
            let s = v
                .iter()
                .zip(&max)
                .map(|(&x, &mx)| if mx > 0.0 { x / mx } else { 0.0 })
                .collect();
            (k.clone(), s)
        })
        .collect()
}

#[test]
fn feature_names() {
    assert_eq!(SNAPSHOT_HOST_FEATURES[0], "n_ports");
    assert_eq!(SNAPSHOT_HOST_FEATURES[3], "pkts_per_port_sum");
    assert_eq!(SNAPSHOT_HOST_FEATURES[6], "n_dst_addresses");
    assert_eq!(SNAPSHOT_HOST_FEATURES[12], "pck_len_sum");
    assert_eq!(SNAPSHOT_HOST_FEATURES[17], "ttl_sum");
    assert_eq!(SNAPSHOT_HOST_FEATURES[36], "tcp_ts_std");
    assert_eq!(SNAPSHOT_PORT_FEATURES[0], "n_src_hosts");
    assert_eq!(SNAPSHOT_PORT_FEATURES[11], "zero_5");
    assert_eq!(SNAPSHOT_PORT_FEATURES[12..], SNAPSHOT_HOST_FEATURES[12..]);
}

#[test]
fn features_match_a_direct_computation() {
    let trace = random_trace(1);
    for (min, k) in [(5u64, 3usize), (1, 10)] {
        let cfg = SnapshotConfig::default()
            .host_threshold(HostThreshold::AtLeast(min))
            .top_k_ports(k);
        let set = build_snapshots(&trace, &cfg).unwrap();
        assert_eq!(set.snapshots().len(), 2);
        for (t, snap) in set.snapshots().iter().enumerate() {
            assert_eq!(snap.day(), t as u32);
            let (hosts, ports) = direct_day(&trace, t as u64, min, k);
            let (hosts, ports) = (scale(&hosts), scale(&ports));
            assert_eq!(snap.n_hosts(), hosts.len());
            assert_eq!(snap.n_ports(), ports.len());
            for (r, &id) in snap.node_ids().iter().enumerate() {
                let want = match set.node(id).unwrap() {
                    Ok(addr) => &hosts[&u32::from(addr)],
                    Err(port) => &ports[&port],
                };
                for (c, &w) in want.iter().enumerate() {
                    assert_abs_diff_eq!(snap.features()[[r, c]], w as f32, epsilon = 1e-5);
                }
            }
            // Edge weights sum to the kept packets; every host row has an edge.
            let total: u64 = snap.edges().iter().map(|e| e.packets).sum();
            let pk = hosts.len();
            assert!(total >= pk as u64 * min);
            let g = set.global_features(t);
            assert_eq!(g.shape(), &[set.n_nodes(), 37]);
            for (r, &id) in snap.node_ids().iter().enumerate() {
                assert_eq!(g.row(id as usize), snap.features().row(r));
            }
        }
    }
}

/// The petgraph view has the snapshot's nodes in row order, its edges with their packet
/// counts, and no edge between two hosts or two ports (the graph is bipartite).
#[test]
fn petgraph_view_is_the_bipartite_day_graph() {
    let trace = random_trace(2);
    let set = build_snapshots(&trace, &SnapshotConfig::default()).unwrap();
    for snap in set.snapshots() {
        let g = snap.to_petgraph();
        assert_eq!(g.node_count(), snap.n_nodes());
        assert_eq!(g.edge_count(), snap.edges().len());
        for (r, &id) in snap.node_ids().iter().enumerate() {
            assert_eq!(g[darknet_graph::petgraph::graph::NodeIndex::new(r)], id);
        }
        let mut packets = 0;
        for e in g.edge_indices() {
            let (a, b) = g.edge_endpoints(e).unwrap();
            assert_ne!(a.index() < snap.n_hosts(), b.index() < snap.n_hosts());
            packets += g[e];
        }
        assert_eq!(packets, snap.edges().iter().map(|e| e.packets).sum::<u64>());
    }
}

#[test]
fn thresholds_top_k_and_global_ids() {
    // Day 0: host .1 sends 5 packets (22, 22, 23, 80, 80), host .2 sends 6 (443 ×6), .3 sends 2.
    let p = |day: u64, h: u8, port: u16, k: u64| Packet {
        ts_ns: day * NANOS_PER_DAY + k,
        src: Ipv4Addr::new(192, 0, 2, h),
        dst_port: port,
        ..Packet::default()
    };
    let mut ps = Vec::new();
    for (k, port) in [22, 22, 23, 80, 80].into_iter().enumerate() {
        ps.push(p(0, 1, port, k as u64));
    }
    for k in 0..6 {
        ps.push(p(0, 2, 443, 10 + k));
    }
    ps.push(p(0, 3, 22, 20));
    ps.push(p(0, 3, 22, 21));
    // Day 1: only host .3, 6 packets to 8080.
    for k in 0..6 {
        ps.push(p(1, 3, 8080, k));
    }
    let trace = Trace::from_packets(ps);
    let paper = build_snapshots(&trace, &SnapshotConfig::default().top_k_ports(2)).unwrap();
    // ≥ 5: day 0 keeps .1 and .2; top-2 ports of day 0: 443 (6), then 22 and 80 tie (2) → 22.
    assert_eq!(paper.hosts().len(), 3);
    let s0 = &paper.snapshots()[0];
    assert_eq!(s0.n_hosts(), 2);
    // Global ports over both days: 22, 443, 8080, Other.
    assert_eq!(
        paper.ports(),
        vec![
            PortNode::Port(22),
            PortNode::Port(443),
            PortNode::Port(8080),
            PortNode::Other
        ]
    );
    assert_eq!(s0.node_ids(), vec![0, 1, 3, 4, 6]);
    // Host .1: 22 ×2, Other ×3 (23 and 80 merged); host .2: 443 ×6.
    let e: Vec<(u32, u32, u64)> = s0
        .edges()
        .iter()
        .map(|e| (e.host, e.port, e.packets))
        .collect();
    assert_eq!(e, vec![(0, 2, 2), (0, 4, 3), (1, 3, 6)]);
    assert_eq!(paper.snapshots()[1].node_ids(), vec![2, 5]);
    // The code's "> 5" drops host .1 on day 0.
    let code = build_snapshots(
        &trace,
        &SnapshotConfig::default().host_threshold(HostThreshold::MoreThan(5)),
    )
    .unwrap();
    assert_eq!(code.snapshots()[0].n_hosts(), 1);
    assert_eq!(code.hosts().len(), 2);
    // Whole-period ranking with K = 1: 443 and 8080 tie at 6 → 443 kept everywhere.
    let whole = build_snapshots(
        &trace,
        &SnapshotConfig::default()
            .top_k_ports(1)
            .port_ranking(PortRanking::WholePeriod),
    )
    .unwrap();
    assert_eq!(whole.ports(), vec![PortNode::Port(443), PortNode::Other]);
    // Normalized adjacency rows sum to one.
    let n = s0.normalized_adjacency();
    for row in n.matrix.to_dense().rows() {
        assert_abs_diff_eq!(row.sum(), 1.0, epsilon = 1e-6);
    }
    assert_eq!(n.matrix.get(0, 2), Some(&(2.0 / 6.0)));
}

#[test]
fn first_seen_edges_carry_period_totals() {
    let p = |day: u64, port: u16, k: u64| Packet {
        ts_ns: day * NANOS_PER_DAY + k,
        src: Ipv4Addr::new(192, 0, 2, 1),
        dst_port: port,
        ..Packet::default()
    };
    let mut ps: Vec<Packet> = (0..5).map(|k| p(0, 22, k)).collect();
    ps.extend((0..3).map(|k| p(1, 22, k)));
    ps.extend((0..2).map(|k| p(1, 23, 10 + k)));
    let trace = Trace::from_packets(ps);
    let cfg = SnapshotConfig::default()
        .host_threshold(HostThreshold::AtLeast(1))
        .edge_mode(EdgeMode::FirstSeenTotal);
    let set = build_snapshots(&trace, &cfg).unwrap();
    let e0: Vec<u64> = set.snapshots()[0]
        .edges()
        .iter()
        .map(|e| e.packets)
        .collect();
    let e1: Vec<u64> = set.snapshots()[1]
        .edges()
        .iter()
        .map(|e| e.packets)
        .collect();
    assert_eq!(e0, vec![8], "22 first seen on day 0 with 5 + 3 packets");
    assert_eq!(e1, vec![2], "only 23 is new on day 1");
}

#[test]
fn negatives_are_seeded_and_never_positives() {
    let trace = random_trace(2);
    let set = build_snapshots(&trace, &SnapshotConfig::default().top_k_ports(4)).unwrap();
    for s in set.snapshots() {
        let pos: std::collections::HashSet<(u32, u32)> = s.positive_edges().into_iter().collect();
        for ratio in [1.0, 0.5, 3.0] {
            let neg = s.sample_negatives(ratio, 9).unwrap();
            let avail = s.n_hosts() * s.n_ports() - pos.len();
            assert_eq!(
                neg.len(),
                ((pos.len() as f64 * ratio).round() as usize).min(avail)
            );
            let uniq: std::collections::HashSet<_> = neg.iter().collect();
            assert_eq!(uniq.len(), neg.len());
            for &(h, p) in &neg {
                assert!((h as usize) < s.n_hosts() && (p as usize) >= s.n_hosts());
                assert!((p as usize) < s.n_nodes());
                assert!(!pos.contains(&(h, p)));
            }
            assert_eq!(neg, s.sample_negatives(ratio, 9).unwrap());
        }
        assert!(matches!(
            s.sample_negatives(-1.0, 0),
            Err(GraphError::InvalidConfig { .. })
        ));
    }
    assert_eq!(
        set,
        build_snapshots(&trace, &SnapshotConfig::default().top_k_ports(4)).unwrap()
    );
}

#[test]
fn empty_inputs_and_bad_config() {
    assert!(matches!(
        build_snapshots(&Trace::default(), &SnapshotConfig::default()),
        Err(GraphError::Empty { .. })
    ));
    let udp = Trace::from_packets([Packet {
        proto: Protocol::Udp,
        ..Packet::default()
    }]);
    assert!(matches!(
        build_snapshots(&udp, &SnapshotConfig::default()),
        Err(GraphError::Empty { .. })
    ));
    assert!(matches!(
        build_snapshots(&udp, &SnapshotConfig::default().top_k_ports(0)),
        Err(GraphError::InvalidConfig {
            field: "top_k_ports",
            ..
        })
    ));
    assert!(matches!(
        build_snapshots(&udp, &SnapshotConfig::default().utc_offset_secs(100_000)),
        Err(GraphError::InvalidConfig {
            field: "utc_offset_secs",
            ..
        })
    ));
}
