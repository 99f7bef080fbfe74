//! Port graph: hand-computed counts and quartile weights, merging, CSR / petgraph views,
//! reference distances (Dijkstra checked against Floyd–Warshall and petgraph).

use approx::assert_abs_diff_eq;
use darknet_core::{Packet, Protocol, Trace};
use darknet_graph::{
    choose_references, count_transitions, dijkstra_csr, quantile_linear, quartile_weights,
    reference_distances, DistanceConfig, EdgeValue, GraphError, PortGraph, PortKey,
    ReferenceStrategy, TransitionCounts,
};
use proptest::prelude::*;
use sprs::{CsMat, TriMat};
use std::net::Ipv4Addr;

fn pkt(ts: u64, src: u8, proto: Protocol, port: u16) -> Packet {
    Packet {
        ts_ns: ts,
        src: Ipv4Addr::new(198, 51, 100, src),
        dst: Ipv4Addr::new(10, 0, 0, 1),
        proto,
        dst_port: port,
        ..Packet::default()
    }
}

use Protocol::{Icmp, Tcp, Udp};

/// Source 1: 22 23 22 22 u53 icmp u53 80; source 2: 22 23 (interleaved in time).
fn hand_trace() -> Trace {
    Trace::from_packets([
        pkt(1, 1, Tcp, 22),
        pkt(2, 2, Tcp, 22),
        pkt(3, 1, Tcp, 23),
        pkt(4, 1, Tcp, 22),
        pkt(5, 2, Tcp, 23),
        pkt(6, 1, Tcp, 22),
        pkt(7, 1, Udp, 53),
        pkt(8, 1, Icmp, 0),
        pkt(9, 1, Udp, 53),
        pkt(10, 1, Tcp, 80),
    ])
}

#[test]
fn hand_computed_counts_and_weights() {
    let g = PortGraph::from_trace(&hand_trace()).unwrap();
    assert_eq!(
        g.ports(),
        &[
            PortKey::tcp(22),
            PortKey::tcp(23),
            PortKey::tcp(80),
            PortKey::udp(53)
        ]
    );
    let t = |a, b| g.theta(a, b);
    assert_eq!(t(PortKey::tcp(22), PortKey::tcp(23)), 2);
    assert_eq!(t(PortKey::tcp(23), PortKey::tcp(22)), 1);
    assert_eq!(t(PortKey::tcp(22), PortKey::udp(53)), 1);
    assert_eq!(t(PortKey::udp(53), PortKey::tcp(80)), 1);
    assert_eq!(
        t(PortKey::tcp(22), PortKey::tcp(22)),
        0,
        "self transitions ignored"
    );
    assert_eq!(g.n_edges(), 4);
    // θ = {1, 1, 1, 2}: numpy quartiles Q1 = 1, Q3 = 1.25; ω′ = (θ − 1)/0.25; ω = 4 − ω′.
    assert_eq!(g.q1(), 1.0);
    assert_eq!(g.q3(), 1.25);
    let e = g.edge(PortKey::tcp(22), PortKey::tcp(23)).unwrap();
    assert_eq!((e.w_prime, e.w), (4.0, 0.0));
    let e = g.edge(PortKey::udp(53), PortKey::tcp(80)).unwrap();
    assert_eq!((e.w_prime, e.w), (0.0, 4.0));
    assert_eq!(g.index_of(PortKey::udp(53)), Some(3));
    assert_eq!(g.index_of(PortKey::udp(54)), None);
    assert_eq!(g.degrees(), vec![3, 2, 1, 2]);
}

#[test]
fn quartiles_match_numpy() {
    // numpy.quantile(x, [0.25, 0.75]) for these inputs.
    let x = [1.0, 2.0, 3.0, 4.0, 10.0];
    assert_eq!(quantile_linear(&x, 0.25), 2.0);
    assert_eq!(quantile_linear(&x, 0.75), 4.0);
    assert_eq!(quantile_linear(&[1.0, 3.0, 5.0], 0.25), 2.0);
    assert_eq!(quantile_linear(&[7.0], 0.75), 7.0);
    assert!(quantile_linear(&[], 0.5).is_nan());
    // Ties: θ = {1, 1, 1, 2, 2, 9}: Q1 = 1, Q3 = 2 (h = 3.75 between two 2s).
    let (q1, q3, wp, w) = quartile_weights(&[2, 1, 9, 1, 2, 1]);
    assert_eq!((q1, q3), (1.0, 2.0));
    assert_eq!(wp, vec![1.0, 0.0, 8.0, 0.0, 1.0, 0.0]);
    assert_eq!(w, vec![7.0, 8.0, 0.0, 8.0, 7.0, 8.0]);
}

#[test]
fn q3_equal_q1_uses_denominator_one() {
    // θ = {1, 1, 1, 1, 5}: Q1 = Q3 = 1 → ω′ = θ − 1, ω = 4 − ω′.
    let (q1, q3, wp, w) = quartile_weights(&[1, 1, 5, 1, 1]);
    assert_eq!((q1, q3), (1.0, 1.0));
    assert_eq!(wp, vec![0.0, 0.0, 4.0, 0.0, 0.0]);
    assert_eq!(w, vec![4.0, 4.0, 0.0, 4.0, 4.0]);
    // All equal: every weight 0.
    let (_, _, wp, w) = quartile_weights(&[3, 3]);
    assert_eq!((wp, w), (vec![0.0, 0.0], vec![0.0, 0.0]));
}

#[test]
fn empty_and_icmp_only_traces_are_errors() {
    assert!(matches!(
        PortGraph::from_trace(&Trace::default()),
        Err(GraphError::Empty { .. })
    ));
    let icmp = Trace::from_packets([pkt(1, 1, Icmp, 0)]);
    assert!(matches!(
        PortGraph::from_trace(&icmp),
        Err(GraphError::Empty { .. })
    ));
    // A single port without transitions is a valid one-node graph.
    let g = PortGraph::from_trace(&Trace::from_packets([pkt(1, 1, Udp, 53)])).unwrap();
    assert_eq!((g.n_ports(), g.n_edges()), (1, 0));
    assert!(g.q1().is_nan());
}

#[test]
fn shards_by_source_merge_to_the_whole() {
    let t = hand_trace();
    let idx = t.by_source();
    let whole = TransitionCounts::from_trace(&t);
    let mut a = TransitionCounts::new();
    a.add_source(&t, idx.packets_of(0));
    let mut b = TransitionCounts::new();
    b.add_source(&t, idx.packets_of(1));
    a.merge(&b);
    assert_eq!(a, whole);
    assert_eq!(count_transitions(&t, &idx), whole);
    assert_eq!(whole.n_ports(), 4);
    assert_eq!(whole.n_packets(), 9);
    // add_sequence agrees with add_source.
    let mut s = TransitionCounts::new();
    s.add_sequence(
        [22, 23, 22, 22]
            .map(PortKey::tcp)
            .into_iter()
            .chain([
                PortKey::udp(53),
                PortKey {
                    proto: Icmp,
                    port: 0,
                },
                PortKey::udp(53),
            ])
            .chain([PortKey::tcp(80)]),
    );
    s.add_sequence([22, 23].map(PortKey::tcp));
    assert_eq!(s, whole);
}

#[test]
fn csr_and_petgraph_views_agree() {
    let g = PortGraph::from_trace(&hand_trace()).unwrap();
    let w = g.to_csr(EdgeValue::W);
    assert_eq!(w.nnz(), 4, "explicit zero weight kept");
    assert_eq!(w.get(0, 1), Some(&0.0));
    assert_eq!(g.to_csr(EdgeValue::Theta).get(0, 1), Some(&2.0));
    assert_eq!(g.to_csr(EdgeValue::WPrime).get(3, 2), Some(&0.0));
    let pg = g.to_petgraph();
    assert_eq!(pg.node_count(), 4);
    assert_eq!(pg.edge_count(), 4);
    for e in pg.edge_indices() {
        let (a, b) = pg.edge_endpoints(e).unwrap();
        assert_eq!(w.get(a.index(), b.index()), Some(&pg[e].w));
    }
}

fn small_graph(n: usize, edges: &[(usize, usize, f64)]) -> CsMat<f64> {
    let mut tri = TriMat::new((n, n));
    let mut seen = std::collections::BTreeMap::new();
    for &(a, b, w) in edges {
        seen.insert((a % n, b % n), w);
    }
    for ((a, b), w) in seen {
        tri.add_triplet(a, b, w);
    }
    tri.to_csr()
}

fn floyd_warshall(g: &CsMat<f64>) -> Vec<Vec<f64>> {
    let n = g.rows();
    let mut d = vec![vec![f64::INFINITY; n]; n];
    for (i, row) in d.iter_mut().enumerate() {
        row[i] = 0.0;
    }
    for (v, (a, b)) in g.iter() {
        d[a][b] = d[a][b].min(*v);
    }
    for k in 0..n {
        for i in 0..n {
            for j in 0..n {
                let via = d[i][k] + d[k][j];
                if via < d[i][j] {
                    d[i][j] = via;
                }
            }
        }
    }
    d
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn dijkstra_matches_floyd_warshall_and_petgraph(
        n in 1usize..12,
        edges in prop::collection::vec((0usize..12, 0usize..12, 0.0f64..5.0), 0..40),
        zero_some in any::<bool>(),
    ) {
        let edges: Vec<_> = edges
            .into_iter()
            .enumerate()
            .map(|(k, (a, b, w))| (a, b, if zero_some && k % 3 == 0 { 0.0 } else { w }))
            .collect();
        let g = small_graph(n, &edges);
        let fw = floyd_warshall(&g);
        let mut pg = petgraph::graph::DiGraph::<(), f64>::new();
        let nodes: Vec<_> = (0..n).map(|_| pg.add_node(())).collect();
        for (v, (a, b)) in g.iter() {
            pg.add_edge(nodes[a], nodes[b], *v);
        }
        for s in 0..n {
            let d = dijkstra_csr(&g, s).unwrap();
            let pd = petgraph::algo::dijkstra(&pg, nodes[s], None, |e| *e.weight());
            for t in 0..n {
                if fw[s][t].is_infinite() {
                    prop_assert!(d[t].is_infinite());
                    prop_assert!(!pd.contains_key(&nodes[t]));
                } else {
                    prop_assert!((d[t] - fw[s][t]).abs() < 1e-9);
                    prop_assert!((pd[&nodes[t]] - fw[s][t]).abs() < 1e-9);
                }
            }
        }
    }
}

#[test]
fn dijkstra_rejects_bad_input() {
    let g = small_graph(2, &[(0, 1, -1.0)]);
    assert!(matches!(
        dijkstra_csr(&g, 0),
        Err(GraphError::NegativeWeight { .. })
    ));
    let g = small_graph(2, &[(0, 1, f64::NAN)]);
    assert!(matches!(
        dijkstra_csr(&g, 0),
        Err(GraphError::NonFinite { .. })
    ));
    let g = small_graph(2, &[(0, 1, 1.0)]);
    assert!(matches!(
        dijkstra_csr(&g, 2),
        Err(GraphError::IndexOutOfRange { .. })
    ));
    let r: CsMat<f64> = CsMat::zero((2, 3));
    assert!(matches!(
        dijkstra_csr(&r, 0),
        Err(GraphError::NotSquare { .. })
    ));
}

/// A chain trace 22 → 23 → 80 → 443 repeated with varying counts, plus an isolated UDP port.
fn chain_graph() -> PortGraph {
    let mut ps = Vec::new();
    let mut ts = 0;
    for (src, seq) in [
        (1u8, vec![22, 23, 80, 443]),
        (2, vec![22, 23, 80]),
        (3, vec![22, 23]),
        (4, vec![443, 22]),
    ] {
        for p in seq {
            ts += 1;
            ps.push(pkt(ts, src, Tcp, p));
        }
    }
    ps.push(pkt(100, 5, Udp, 53));
    PortGraph::from_trace(&Trace::from_packets(ps)).unwrap()
}

#[test]
fn reference_distances_follow_the_spec() {
    let g = chain_graph();
    // ports: t22 t23 t80 t443 u53; θ: 22→23 3, 23→80 2, 80→443 1, 443→22 1.
    // Q1 = 1, Q3 = 2.25, ω′ = (θ−1)/1.25: 1.6, 0.8, 0, 0; ω = 1.6 − ω′: 0, 0.8, 1.6, 1.6.
    assert_eq!(g.n_ports(), 5);
    let cfg = DistanceConfig::default().n_references(100).scale(false);
    let d = reference_distances(&g, &cfg).unwrap();
    assert_eq!(
        d.references,
        vec![0, 1, 2, 3, 4],
        "R > n_ports uses every port"
    );
    assert_eq!(d.distances.shape(), &[5, 5]);
    // Distance from 22 to 443: 22→23 (0) →80 (0.8) →443 (1.6) = 2.4.
    assert_abs_diff_eq!(d.distances[[0, 3]], 2.4, epsilon = 1e-6);
    // From 443 to 80: 443→22 (1.6) →23 (0) →80 (0.8) = 2.4; largest finite = 4.0 (80→23).
    assert_abs_diff_eq!(d.distances[[3, 2]], 2.4, epsilon = 1e-6);
    assert_abs_diff_eq!(d.distances[[2, 1]], 3.2, epsilon = 1e-6);
    assert_abs_diff_eq!(d.unreachable_value, 1.1 * 4.0, epsilon = 1e-6);
    assert!(!d.reachable[[4, 0]] && !d.reachable[[0, 4]] && d.reachable[[4, 4]]);
    assert_abs_diff_eq!(d.distances[[4, 0]], 4.4, epsilon = 1e-6);
    // Scaled: every column in [0, 1] with min 0 and max 1.
    let s = reference_distances(&g, &DistanceConfig::default().n_references(3).seed(7)).unwrap();
    assert_eq!(s.distances.shape(), &[5, 3]);
    for col in s.distances.columns() {
        let lo = col.iter().cloned().fold(f32::INFINITY, f32::min);
        let hi = col.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
        assert_eq!((lo, hi), (0.0, 1.0));
    }
    // Same seed, same bytes; different seeds may differ.
    let s2 = reference_distances(&g, &DistanceConfig::default().n_references(3).seed(7)).unwrap();
    assert_eq!(s, s2);
}

#[test]
fn reference_strategies() {
    let g = chain_graph();
    let deg = choose_references(
        &g,
        &DistanceConfig::default()
            .n_references(2)
            .strategy(ReferenceStrategy::HighestDegree),
    )
    .unwrap();
    // degrees: 22: 2 (in 443, out 23), 23: 2, 80: 2, 443: 2, u53: 0 → ties by index.
    assert_eq!(deg, vec![0, 1]);
    let cfg = DistanceConfig::default()
        .n_references(3)
        .strategy(ReferenceStrategy::FarthestPoint)
        .seed(3)
        .scale(false);
    let fp = reference_distances(&g, &cfg).unwrap();
    assert_eq!(fp.references.len(), 3);
    let mut uniq = fp.references.clone();
    uniq.sort();
    uniq.dedup();
    assert_eq!(uniq.len(), 3);
    // Farthest point matches a random-strategy run on the same references.
    for (c, &r) in fp.references.iter().enumerate() {
        for i in 0..g.n_ports() {
            let full =
                reference_distances(&g, &DistanceConfig::default().n_references(5).scale(false))
                    .unwrap();
            assert_eq!(fp.reachable[[i, c]], full.reachable[[i, r]]);
        }
    }
    assert_eq!(fp, reference_distances(&g, &cfg).unwrap());
    assert!(matches!(
        "nope".parse::<ReferenceStrategy>(),
        Err(GraphError::InvalidConfig {
            field: "strategy",
            ..
        })
    ));
    assert_eq!(
        "farthest".parse::<ReferenceStrategy>().unwrap(),
        ReferenceStrategy::FarthestPoint
    );
}

#[test]
fn invalid_distance_config() {
    let g = chain_graph();
    assert!(matches!(
        reference_distances(&g, &DistanceConfig::default().n_references(0)),
        Err(GraphError::InvalidConfig {
            field: "n_references",
            ..
        })
    ));
    assert!(matches!(
        reference_distances(&g, &DistanceConfig::default().unreachable_factor(0.5)),
        Err(GraphError::InvalidConfig {
            field: "unreachable_factor",
            ..
        })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Counting equals a naive count; shards by source merge to the whole; at most one edge
    /// per packet.
    #[test]
    fn counting_matches_naive_and_merges(
        seqs in prop::collection::vec(
            prop::collection::vec((0u8..3, 0u16..6), 0..20), 1..8),
        split in 0usize..8,
    ) {
        let key = |(p, port): (u8, u16)| PortKey {
            proto: [Tcp, Udp, Icmp][p as usize],
            port: if p == 2 { 0 } else { port },
        };
        let mut naive = std::collections::BTreeMap::new();
        let mut whole = TransitionCounts::new();
        let (mut a, mut b) = (TransitionCounts::new(), TransitionCounts::new());
        let mut n_packets = 0;
        for (s, seq) in seqs.iter().enumerate() {
            let keys: Vec<PortKey> = seq.iter().map(|&x| key(x)).collect();
            let ported: Vec<PortKey> = keys.iter().copied().filter(|k| k.proto != Icmp).collect();
            n_packets += ported.len();
            for w in ported.windows(2) {
                if w[0] != w[1] {
                    *naive.entry((w[0], w[1])).or_insert(0u64) += 1;
                }
            }
            whole.add_sequence(keys.iter().copied());
            if s < split { a.add_sequence(keys) } else { b.add_sequence(keys) }
        }
        prop_assert_eq!(whole.n_edges(), naive.len());
        prop_assert!(whole.n_edges() <= n_packets);
        for (&(x, y), &t) in &naive {
            prop_assert_eq!(whole.theta(x, y), t);
        }
        a.merge(&b);
        prop_assert_eq!(&a, &whole);
        whole.compact();
        prop_assert_eq!(&a, &whole);
    }
}
