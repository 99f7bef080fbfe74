//! Normalization (symmetric and row, with the edge-list convention) and prepared graphs.

use approx::assert_abs_diff_eq;
use darknet_core::{Packet, Protocol, Trace};
use darknet_graph::{
    build_host_graphs, normalize_row_undirected, normalize_sym_self_loops, prepare_host_graphs,
    EdgeDirections, GraphError, PortEmbeddings, PreparedGraph,
};
use ndarray::{array, Array2};
use sprs::{CsMat, TriMat};
use std::net::Ipv4Addr;

fn dense(m: &CsMat<f32>) -> Array2<f32> {
    m.to_dense()
}

fn adj(n: usize, edges: &[(usize, usize, f32)]) -> CsMat<f32> {
    let mut t = TriMat::new((n, n));
    for &(a, b, w) in edges {
        t.add_triplet(a, b, w);
    }
    t.to_csr()
}

#[test]
fn symmetric_normalization_by_hand() {
    // Path 0 -2- 1 plus isolated node 2: A + I = [[1,2,0],[2,1,0],[0,0,1]], D = (3, 3, 1).
    let a = adj(3, &[(0, 1, 2.0), (1, 0, 2.0)]);
    let n = normalize_sym_self_loops(&a).unwrap();
    let e = array![
        [1.0 / 3.0, 2.0 / 3.0, 0.0],
        [2.0 / 3.0, 1.0 / 3.0, 0.0],
        [0.0, 0.0, 1.0]
    ];
    for (x, y) in dense(&n.matrix).iter().zip(e.iter()) {
        assert_abs_diff_eq!(*x, *y, epsilon = 1e-6);
    }
    assert_eq!(n.matrix, n.transpose);
    // Directed input: the transpose is really the transpose.
    let d = normalize_sym_self_loops(&adj(2, &[(0, 1, 1.0)])).unwrap();
    assert_eq!(dense(&d.transpose), dense(&d.matrix).t());
    // Empty graph.
    let z = normalize_sym_self_loops(&CsMat::zero((0, 0))).unwrap();
    assert_eq!(z.n_nodes(), 0);
}

#[test]
fn row_normalization_by_hand() {
    // Host 0 sends 3 packets to port 1 (one direction given): A + Aᵀ + I = [[1,3],[3,1]] → /4.
    let a = adj(3, &[(0, 1, 3.0)]);
    let n = normalize_row_undirected(&a, EdgeDirections::OneWay).unwrap();
    let e = array![[0.25, 0.75, 0.0], [0.75, 0.25, 0.0], [0.0, 0.0, 1.0]];
    for (x, y) in dense(&n.matrix).iter().zip(e.iter()) {
        assert_abs_diff_eq!(*x, *y, epsilon = 1e-6);
    }
    let b = normalize_row_undirected(&adj(3, &[(0, 1, 1.0), (0, 2, 3.0)]), EdgeDirections::OneWay)
        .unwrap();
    for row in dense(&b.matrix).rows() {
        assert_abs_diff_eq!(row.sum(), 1.0, epsilon = 1e-6);
    }
    assert_eq!(dense(&b.transpose), dense(&b.matrix).t());
    assert_ne!(b.matrix, b.transpose, "row normalization is not symmetric");
}

#[test]
fn normalization_rejects_bad_input() {
    let r: CsMat<f32> = CsMat::zero((2, 3));
    assert!(matches!(
        normalize_sym_self_loops(&r),
        Err(GraphError::NotSquare {
            rows: 2,
            cols: 3,
            ..
        })
    ));
    assert!(matches!(
        normalize_row_undirected(&r, EdgeDirections::OneWay),
        Err(GraphError::NotSquare { .. })
    ));
    let nan = adj(2, &[(0, 1, f32::NAN)]);
    assert!(matches!(
        normalize_sym_self_loops(&nan),
        Err(GraphError::NonFinite { row: 0, col: 1, .. })
    ));
    let neg = adj(2, &[(1, 0, -1.0)]);
    assert!(matches!(
        normalize_row_undirected(&neg, EdgeDirections::BothWays),
        Err(GraphError::NegativeWeight { row: 1, col: 0, .. })
    ));
}

fn host_trace() -> Trace {
    let mut ps = Vec::new();
    let ports: [&[u16]; 3] = [&[22, 23, 22, 80, 23], &[443], &[1, 2, 3, 1, 3]];
    let mut ts = 0;
    for (h, seq) in ports.iter().enumerate() {
        for &port in *seq {
            ts += 1;
            ps.push(Packet {
                ts_ns: ts,
                src: Ipv4Addr::new(192, 0, 2, h as u8),
                proto: Protocol::Tcp,
                dst_port: port,
                ..Packet::default()
            });
        }
    }
    Trace::from_packets(ps)
}

#[test]
fn edge_list_convention_is_checked() {
    // The same undirected graph given once per edge or in both directions (PyG style) gives
    // the same normalization; the wrong declaration is an error, not doubled weights.
    let once = adj(3, &[(0, 1, 2.0), (1, 2, 1.0)]);
    let both = adj(3, &[(0, 1, 2.0), (1, 0, 2.0), (1, 2, 1.0), (2, 1, 1.0)]);
    let a = normalize_row_undirected(&once, EdgeDirections::OneWay).unwrap();
    let b = normalize_row_undirected(&both, EdgeDirections::BothWays).unwrap();
    assert_eq!(a, b);
    assert!(matches!(
        normalize_row_undirected(&both, EdgeDirections::OneWay),
        Err(GraphError::EdgeDirections { .. })
    ));
    let e = normalize_row_undirected(&once, EdgeDirections::BothWays).unwrap_err();
    assert!(
        matches!(e, GraphError::EdgeDirections { row: 0, col: 1, .. }),
        "{e}"
    );
    // Both directions with different weights are not one undirected edge.
    let skew = adj(2, &[(0, 1, 2.0), (1, 0, 3.0)]);
    assert!(normalize_row_undirected(&skew, EdgeDirections::BothWays).is_err());
}

#[test]
fn prepare_errors() {
    let t = host_trace();
    let gs = build_host_graphs(&t, &t.by_source(), &PortEmbeddings::empty(3));
    let prepared = prepare_host_graphs(&gs).unwrap();
    for (p, g) in prepared.iter().zip(&gs) {
        let own = normalize_sym_self_loops(&g.adjacency()).unwrap();
        assert_eq!(p.adjacency(), &own.matrix);
        assert_eq!(p.features(), g.features());
    }
    let other = PreparedGraph::new(&adj(1, &[]), Array2::zeros((1, 5))).unwrap();
    assert_eq!(other.n_nodes(), 1);
    assert!(matches!(
        PreparedGraph::new(&adj(2, &[]), Array2::zeros((3, 5))),
        Err(GraphError::ShapeMismatch { .. })
    ));
    let mut f = Array2::zeros((1, 2));
    f[[0, 1]] = f32::NAN;
    assert!(matches!(
        PreparedGraph::new(&adj(1, &[]), f),
        Err(GraphError::NonFinite { row: 0, col: 1, .. })
    ));
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn random_adj(n: usize, edges: &[(usize, usize, f32)]) -> CsMat<f32> {
        let mut seen = std::collections::BTreeMap::new();
        for &(a, b, w) in edges {
            seen.insert((a % n, b % n), w);
        }
        let mut t = TriMat::new((n, n));
        for ((a, b), w) in seen {
            t.add_triplet(a, b, w);
        }
        t.to_csr()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Row normalization: rows sum to one, the transpose is the transpose; symmetric
        /// normalization of a symmetric matrix is symmetric with entries in [0, 1].
        #[test]
        fn normalizations_hold_their_invariants(
            n in 1usize..10,
            edges in prop::collection::vec((0usize..10, 0usize..10, 0.0f32..10.0), 0..30),
        ) {
            // One entry per edge: keep the upper triangle (and the diagonal).
            let upper: Vec<_> = edges
                .iter()
                .map(|&(i, j, w)| ((i % n).min(j % n), (i % n).max(j % n), w))
                .collect();
            let a = random_adj(n, &upper);
            let r = normalize_row_undirected(&a, EdgeDirections::OneWay).unwrap();
            let d = dense(&r.matrix);
            for row in d.rows() {
                prop_assert!((row.sum() - 1.0).abs() < 1e-5);
            }
            prop_assert_eq!(dense(&r.transpose), d.t().to_owned());
            let sym = random_adj(n, &edges.iter().flat_map(|&(i, j, w)| [(i, j, w), (j, i, w)]).collect::<Vec<_>>());
            // Keep it symmetric after dedup: rebuild from the upper triangle.
            let mut t = TriMat::new((n, n));
            for (v, (i, j)) in sym.iter() {
                if i <= j {
                    t.add_triplet(i, j, *v);
                    if i != j {
                        t.add_triplet(j, i, *v);
                    }
                }
            }
            let s = normalize_sym_self_loops(&t.to_csr()).unwrap();
            let ds = dense(&s.matrix);
            for i in 0..n {
                for j in 0..n {
                    prop_assert!((ds[[i, j]] - ds[[j, i]]).abs() < 1e-6);
                    prop_assert!((0.0..=1.0 + 1e-6).contains(&ds[[i, j]]));
                }
            }
        }
    }
}
