//! Host graphs: every feature on hand-made packet sequences, feature names, bad input.

use approx::assert_abs_diff_eq;
use darknet_core::{Packet, Protocol, Trace};
use darknet_graph::{
    build_host_graph, build_host_graphs, host_feature_names, n_host_features, GraphError,
    HostNodeKey, PortEmbeddings, PortKey, HOST_FEATURES_HEAD, HOST_FEATURES_TAIL,
};
use ndarray::{array, Array2};
use std::net::Ipv4Addr;

fn p(ts: u64, src: u8, proto: Protocol, dst: u8, dport: u16, sport: u16, flags: u8) -> Packet {
    Packet {
        ts_ns: ts,
        src: Ipv4Addr::new(198, 51, 100, src),
        dst: Ipv4Addr::new(10, 0, 0, dst),
        proto,
        dst_port: dport,
        src_port: sport,
        tcp_flags: flags,
        ..Packet::default()
    }
}

use Protocol::{Icmp, Other, Tcp, Udp};

fn trace() -> Trace {
    let icmp = Packet {
        ts_ns: 5,
        src: Ipv4Addr::new(198, 51, 100, 1),
        dst: Ipv4Addr::new(10, 0, 0, 5),
        proto: Icmp,
        icmp_type: 8,
        icmp_code: 3,
        ..Packet::default()
    };
    Trace::from_packets([
        // Host 1: nodes 0 (22/SYN), 1 (53/udp), 2 (ICMP 8/3), 3 (443/FIN+ACK).
        p(1, 1, Tcp, 1, 22, 1000, 0x02),
        p(2, 1, Tcp, 2, 22, 50000, 0x02),
        p(3, 1, Tcp, 3, 22, 50000, 0x02),
        p(4, 1, Udp, 9, 53, 5000, 0),
        icmp,
        p(6, 1, Tcp, 7, 22, 1000, 0x02),
        p(7, 1, Tcp, 9, 443, 60000, 0x11),
        p(8, 1, Tcp, 4, 443, 60000, 0x11),
        p(9, 1, Other(47), 4, 0, 0, 0),
        p(10, 1, Tcp, 7, 22, 1000, 0x02),
        // Host 2: one UDP node, addresses 5, 3, 4 (arbitrary order, contiguous).
        p(11, 2, Udp, 5, 161, 40000, 0),
        p(12, 2, Udp, 3, 161, 40000, 0),
        p(13, 2, Udp, 4, 161, 40001, 0),
        // Host 3: only GRE.
        p(14, 3, Other(47), 4, 0, 0, 0),
    ])
}

fn embeddings() -> PortEmbeddings {
    PortEmbeddings::new(
        vec![PortKey::tcp(22), PortKey::udp(53)],
        array![[0.5, -0.5], [1.0, 2.0]],
    )
    .unwrap()
}

#[test]
fn feature_names_pin_the_order() {
    assert_eq!(n_host_features(16), 36);
    let names = host_feature_names(2);
    assert_eq!(names.len(), 22);
    assert_eq!(
        names,
        vec![
            "n_dst_addresses_log1p",
            "dst_address_order",
            "dst_address_contiguity",
            "n_src_ports_log1p",
            "src_port_well_known",
            "src_port_registered",
            "src_port_dynamic",
            "port_embedding_0",
            "port_embedding_1",
            "proto_tcp",
            "proto_udp",
            "proto_icmp",
            "flag_fin",
            "flag_syn",
            "flag_rst",
            "flag_psh",
            "flag_ack",
            "flag_urg",
            "flag_ece",
            "flag_cwr",
            "icmp_type",
            "icmp_code",
        ]
    );
    assert_eq!(HOST_FEATURES_HEAD.len() + HOST_FEATURES_TAIL.len(), 20);
}

#[test]
fn every_feature_on_a_hand_made_host() {
    let t = trace();
    let idx = t.by_source();
    let g = build_host_graph(&t, idx.source(0), idx.packets_of(0), &embeddings()).unwrap();
    assert_eq!(g.source(), Ipv4Addr::new(198, 51, 100, 1));
    assert_eq!(g.n_packets(), 9, "the GRE packet is skipped");
    assert_eq!(
        g.nodes(),
        &[
            HostNodeKey {
                proto: Tcp,
                dst_port: 22,
                tcp_flags: 2,
                icmp_type: 0,
                icmp_code: 0
            },
            HostNodeKey {
                proto: Udp,
                dst_port: 53,
                tcp_flags: 0,
                icmp_type: 0,
                icmp_code: 0
            },
            HostNodeKey {
                proto: Icmp,
                dst_port: 0,
                tcp_flags: 0,
                icmp_type: 8,
                icmp_code: 3
            },
            HostNodeKey {
                proto: Tcp,
                dst_port: 443,
                tcp_flags: 0x11,
                icmp_type: 0,
                icmp_code: 0
            },
        ]
    );
    // Node sequence 0 0 0 1 2 0 3 3 0: transitions 0-1, 1-2, 2-0, 0-3, 3-0.
    assert_eq!(
        g.edges(),
        &[(0, 1, 1.0), (0, 2, 1.0), (0, 3, 2.0), (1, 2, 1.0)]
    );
    let f = g.features();
    assert_eq!(f.shape(), &[4, 22]);
    let ln = |x: f32| x.ln_1p();
    let m1 = -1.0f32;
    #[rustfmt::skip]
    let expected: Array2<f32> = array![
        // addrs {1,2,3,7} increasing, not contiguous; sports {1000, 50000}: 3 wk, 2 dyn of 5.
        [ln(4.0), 1.0, 0.0, ln(2.0), 0.6, 0.0, 0.4, 0.5, -0.5, 1.0, 0.0, 0.0,
         0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, m1, m1],
        // one address: order 0, contiguous; sport 5000 registered; embedding of 53/udp.
        [ln(1.0), 0.0, 1.0, ln(1.0), 0.0, 1.0, 0.0, 1.0, 2.0, 0.0, 1.0, 0.0,
         m1, m1, m1, m1, m1, m1, m1, m1, m1, m1],
        // ICMP: no source ports, no embedding, type 8/255, code 3/255.
        [ln(1.0), 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0,
         m1, m1, m1, m1, m1, m1, m1, m1, 8.0 / 255.0, 3.0 / 255.0],
        // addrs 9 then 4: decreasing, not contiguous; 443/tcp absent from the table; FIN+ACK.
        [ln(2.0), -1.0, 0.0, ln(1.0), 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0,
         1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, m1, m1],
    ];
    for ((i, j), v) in expected.indexed_iter() {
        assert_abs_diff_eq!(f[[i, j]], *v, epsilon = 1e-6);
    }
    // Host 2: arbitrary order, contiguous.
    let g2 = build_host_graph(&t, idx.source(1), idx.packets_of(1), &embeddings()).unwrap();
    assert_eq!(g2.n_nodes(), 1);
    assert!(g2.edges().is_empty());
    let f2 = g2.features();
    assert_eq!((f2[[0, 1]], f2[[0, 2]]), (0.0, 1.0));
    assert_abs_diff_eq!(f2[[0, 3]], 2f32.ln_1p(), epsilon = 1e-6);
    assert_eq!(g2.adjacency().nnz(), 0);
}

#[test]
fn many_hosts_in_source_order_skip_empty_ones() {
    let t = trace();
    let idx = t.by_source();
    let gs = build_host_graphs(&t, &idx, &embeddings());
    assert_eq!(gs.len(), 2, "host 3 has only GRE packets");
    assert_eq!(gs[0].source(), idx.source(0));
    assert_eq!(gs[1].source(), idx.source(1));
    assert_eq!(gs, build_host_graphs(&t, &idx, &embeddings()));
    // The single-host builder reports the empty host.
    assert!(matches!(
        build_host_graph(&t, idx.source(2), idx.packets_of(2), &embeddings()),
        Err(GraphError::EmptyHost { .. })
    ));
    assert!(matches!(
        build_host_graph(&t, idx.source(0), &[], &embeddings()),
        Err(GraphError::EmptyHost { .. })
    ));
    assert!(build_host_graphs(
        &Trace::default(),
        &Trace::default().by_source(),
        &embeddings()
    )
    .is_empty());
}

#[test]
fn embedding_table_errors() {
    let e = PortEmbeddings::new(vec![PortKey::tcp(1)], Array2::zeros((2, 3)));
    assert!(matches!(e, Err(GraphError::ShapeMismatch { .. })));
    let e = PortEmbeddings::new(vec![PortKey::tcp(1)], array![[f32::NAN]]);
    assert!(matches!(
        e,
        Err(GraphError::NonFinite { row: 0, col: 0, .. })
    ));
    let e = PortEmbeddings::new(
        vec![PortKey::tcp(1), PortKey::tcp(1)],
        Array2::zeros((2, 1)),
    );
    assert!(matches!(
        e,
        Err(GraphError::DuplicatePort {
            first: 0,
            second: 1,
            ..
        })
    ));
    let icmp = PortKey {
        proto: Icmp,
        port: 0,
    };
    let e = PortEmbeddings::new(vec![icmp], Array2::zeros((1, 1)));
    assert!(matches!(e, Err(GraphError::NotAPortProtocol { .. })));
    let ok = embeddings();
    assert_eq!(ok.dim(), 2);
    assert!(ok.get(PortKey::tcp(443)).is_none());
    assert_eq!(ok.get(PortKey::udp(53)).unwrap().to_vec(), vec![1.0, 2.0]);
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Random packet sequences: at most one node and one edge per packet, edge weights add
        /// up to the node-changing transitions, features finite, one-hot protocol.
        #[test]
        fn host_graph_invariants(
            pkts in prop::collection::vec((0u8..4, 0u16..4, 0u8..3, 0u8..6, any::<u16>()), 1..40),
        ) {
            let ps: Vec<Packet> = pkts
                .iter()
                .enumerate()
                .map(|(k, &(proto, port, flags, dst, sport))| {
                    let proto = [Tcp, Udp, Icmp, Other(47)][proto as usize];
                    Packet {
                        icmp_type: if proto == Icmp { flags } else { 0 },
                        ..p(k as u64, 1, proto, dst, port, sport, flags)
                    }
                })
                .collect();
            let t = Trace::from_packets(ps);
            let idx = t.by_source();
            let usable = pkts.iter().filter(|x| x.0 < 3).count();
            match build_host_graph(&t, idx.source(0), idx.packets_of(0), &embeddings()) {
                Err(GraphError::EmptyHost { .. }) => prop_assert_eq!(usable, 0),
                Err(e) => prop_assert!(false, "{e}"),
                Ok(g) => {
                    prop_assert_eq!(g.n_packets(), usable);
                    prop_assert!(g.n_nodes() <= usable);
                    let total: f32 = g.edges().iter().map(|e| e.2).sum();
                    prop_assert!(total <= (usable - 1) as f32);
                    for &(i, j, w) in g.edges() {
                        prop_assert!(i < j && (j as usize) < g.n_nodes() && w >= 1.0);
                    }
                    let f = g.features();
                    prop_assert!(f.iter().all(|v| v.is_finite()));
                    for row in f.rows() {
                        prop_assert_eq!(row[9] + row[10] + row[11], 1.0);
                    }
                }
            }
        }
    }
}
