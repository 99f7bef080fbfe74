//! Port counts, host graphs and host datasets built from plain tables (as aggregates computed
//! elsewhere give them) equal the ones built from the packets the tables summarise.

use darknet_core::{Protocol, SynthConfig, Trace};
use darknet_graph::{
    build_host_graphs, count_transitions, prepare_sources, GraphError, HostDataset, HostGraph,
    HostNodeKey, HostNodeSummary, PortEmbeddings, PortGraph, PortKey, TransitionCounts,
};
use ndarray::Array2;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

fn trace() -> Trace {
    SynthConfig::paper_a()
        .hosts(120)
        .days(2)
        .seed(5)
        .build()
        .unwrap()
        .trace()
}

/// Edges `(from, to, θ)` and ports `(code, packets)`.
type Table = (Vec<(u32, u32, u64)>, Vec<(u32, u64)>);

/// The port-transition table of a trace, computed here without darknet-graph.
fn transition_table(t: &Trace) -> Table {
    let mut edges: BTreeMap<(u32, u32), u64> = BTreeMap::new();
    let mut ports: BTreeMap<u32, u64> = BTreeMap::new();
    let s = t.by_source();
    for k in 0..s.len() {
        let mut prev = None;
        for &i in s.packets_of(k) {
            let i = i as usize;
            let code = match t.proto()[i] {
                6 => u32::from(t.dst_port()[i]),
                17 => 65_536 + u32::from(t.dst_port()[i]),
                _ => continue,
            };
            *ports.entry(code).or_default() += 1;
            if let Some(p) = prev {
                if p != code {
                    *edges.entry((p, code)).or_default() += 1;
                }
            }
            prev = Some(code);
        }
    }
    (
        edges.into_iter().map(|((a, b), n)| (a, b, n)).collect(),
        ports.into_iter().collect(),
    )
}

#[test]
fn transition_counts_from_a_table() {
    let t = trace();
    let (edges, ports) = transition_table(&t);
    let mut rev = edges.clone();
    rev.reverse(); // row order does not matter
    let c = TransitionCounts::from_table(&rev, &ports).unwrap();
    let mem = count_transitions(&t, &t.by_source());
    assert_eq!(c, mem);
    assert_eq!(
        PortGraph::from_counts(&c).unwrap(),
        PortGraph::from_trace(&t).unwrap()
    );
    assert!(
        c.theta(
            PortKey::from_code(edges[0].0),
            PortKey::from_code(edges[0].1)
        ) > 0
    );
}

#[test]
fn transition_table_errors() {
    let ports = [(22, 1), (23, 1)];
    for (edges, ports, what) in [
        (vec![(22, 23, 1), (22, 23, 2)], &ports[..], "repeated"),
        (vec![(22, 22, 1)], &ports[..], "itself"),
        (vec![(22, 23, 0)], &ports[..], "θ = 0"),
        (vec![(22, 24, 1)], &ports[..], "not a port node"),
        (vec![], &[(22, 1), (22, 2)][..], "repeated"),
        (vec![], &[(1 << 17, 1)][..], "below"),
    ] {
        let e = TransitionCounts::from_table(&edges, ports).unwrap_err();
        assert!(matches!(e, GraphError::InvalidTable { .. }), "{e}");
        assert!(e.to_string().contains(what), "{e}");
    }
}

/// Node keys, summaries and edges of each host, computed here without darknet-graph.
type Parts = (Vec<(HostNodeKey, HostNodeSummary)>, Vec<(u32, u32, u64)>);

fn host_parts(t: &Trace, packets: &[u32]) -> Parts {
    let mut nodes: Vec<(HostNodeKey, HostNodeSummary)> = Vec::new();
    let mut last_dst: Vec<u32> = Vec::new();
    let mut dsts: Vec<Vec<u32>> = Vec::new();
    let mut sports: Vec<Vec<u16>> = Vec::new();
    let mut edges: BTreeMap<(u32, u32), u64> = BTreeMap::new();
    let mut prev: Option<u32> = None;
    for &i in packets {
        let i = i as usize;
        let key = match t.proto()[i] {
            6 | 17 => HostNodeKey {
                proto: Protocol::from_number(t.proto()[i]),
                dst_port: t.dst_port()[i],
                tcp_flags: if t.proto()[i] == 6 {
                    t.tcp_flags()[i]
                } else {
                    0
                },
                icmp_type: 0,
                icmp_code: 0,
            },
            1 => HostNodeKey {
                proto: Protocol::Icmp,
                dst_port: 0,
                tcp_flags: 0,
                icmp_type: t.icmp_type()[i],
                icmp_code: t.icmp_code()[i],
            },
            _ => continue,
        };
        let j = match nodes.iter().position(|n| n.0 == key) {
            Some(j) => j,
            None => {
                nodes.push((key, HostNodeSummary::default()));
                last_dst.push(t.dst()[i]);
                dsts.push(Vec::new());
                sports.push(Vec::new());
                nodes.len() - 1
            }
        };
        let (dst, s) = (t.dst()[i], &mut nodes[j].1);
        s.packets += 1;
        s.dst_up += u64::from(dst > last_dst[j]);
        s.dst_down += u64::from(dst < last_dst[j]);
        last_dst[j] = dst;
        dsts[j].push(dst);
        if key.proto != Protocol::Icmp {
            let p = t.src_port()[i];
            s.src_port_classes[usize::from(p >= 1024) + usize::from(p >= 49152)] += 1;
            sports[j].push(p);
        }
        let j = j as u32;
        if let Some(p) = prev.filter(|&p| p != j) {
            *edges.entry((p.max(j), p.min(j))).or_default() += 1;
        }
        prev = Some(j);
    }
    for (j, (_, s)) in nodes.iter_mut().enumerate() {
        dsts[j].sort_unstable();
        dsts[j].dedup();
        sports[j].sort_unstable();
        sports[j].dedup();
        s.n_dsts = dsts[j].len() as u64;
        (s.dst_min, s.dst_max) = (dsts[j][0], *dsts[j].last().unwrap());
        s.n_src_ports = sports[j].len() as u64;
    }
    (
        nodes,
        edges.into_iter().map(|((a, b), n)| (a, b, n)).collect(),
    )
}

fn embeddings(t: &Trace) -> PortEmbeddings {
    let g = PortGraph::from_trace(t).unwrap();
    let n = g.ports().len();
    let table = Array2::from_shape_fn((n, 3), |(i, j)| (i * 7 + j) as f32 / 100.0);
    PortEmbeddings::new(g.ports().to_vec(), table).unwrap()
}

#[test]
fn host_graphs_from_parts() {
    let t = trace();
    let s = t.by_source();
    let emb = embeddings(&t);
    let mem = build_host_graphs(&t, &s, &emb);
    assert!(mem.len() > 50);
    let mut checked = 0;
    for g in &mem {
        let k = s.position(g.source()).unwrap();
        let (nodes, edges) = host_parts(&t, s.packets_of(k));
        let from = HostGraph::from_parts(g.source(), nodes, &edges, &emb).unwrap();
        assert_eq!(&from, g, "host {}", g.source());
        checked += usize::from(g.n_nodes() > 2 && !g.edges().is_empty());
    }
    assert!(checked > 10);
}

#[test]
fn host_graph_part_errors() {
    let emb = PortEmbeddings::empty(2);
    let a = Ipv4Addr::new(192, 0, 2, 1);
    let key = |port| HostNodeKey {
        proto: Protocol::Tcp,
        dst_port: port,
        tcp_flags: 2,
        icmp_type: 0,
        icmp_code: 0,
    };
    let ok = HostNodeSummary {
        packets: 1,
        n_dsts: 1,
        ..HostNodeSummary::default()
    };
    let e = HostGraph::from_parts(a, vec![], &[], &emb).unwrap_err();
    assert!(matches!(e, GraphError::EmptyHost { .. }));
    for (nodes, edges, what) in [
        (vec![(key(1), ok), (key(1), ok)], vec![], "repeated"),
        (
            vec![(key(1), HostNodeSummary::default())],
            vec![],
            "packets",
        ),
        (vec![(key(1), ok), (key(2), ok)], vec![(0, 2, 1)], "edge"),
        (vec![(key(1), ok), (key(2), ok)], vec![(1, 1, 1)], "edge"),
        (
            vec![(key(1), ok), (key(2), ok)],
            vec![(0, 1, 1), (1, 0, 2)],
            "repeated",
        ),
    ] {
        let e = HostGraph::from_parts(a, nodes, &edges, &emb).unwrap_err();
        assert!(matches!(e, GraphError::InvalidTable { .. }), "{e}");
        assert!(e.to_string().contains(what), "{e}");
    }
}

#[test]
fn host_dataset_from_graphs() {
    let t = trace();
    let s = t.by_source();
    let emb = embeddings(&t);
    let hosts: Vec<Ipv4Addr> = (0..s.len()).map(|k| s.source(k)).collect();
    // Every third host labelled, one absent host, one all-zero row.
    let mut label_hosts: Vec<Ipv4Addr> = hosts.iter().step_by(3).copied().collect();
    label_hosts.push(Ipv4Addr::new(203, 0, 113, 9));
    label_hosts.push(hosts[1]);
    let mut y = Array2::<u8>::zeros((label_hosts.len(), 2));
    for (r, mut row) in y.rows_mut().into_iter().enumerate() {
        if r + 1 < label_hosts.len() {
            row[r % 2] = 1;
        }
    }
    let names = vec!["a".to_string(), "b".to_string()];
    let mem = HostDataset::build(&t, &s, &emb, &names, &label_hosts, y.view()).unwrap();
    let graph_of = |k: usize| {
        let (nodes, edges) = host_parts(&t, s.packets_of(k));
        let g = HostGraph::from_parts(hosts[k], nodes, &edges, &emb).ok()?;
        darknet_graph::PreparedGraph::from_host_graph(&g).ok()
    };
    let from = HostDataset::from_graphs(&hosts, &graph_of, &names, &label_hosts, y.view()).unwrap();
    assert_eq!(from, mem);
    assert_eq!(from.report.n_labels_absent, 1);
    assert_eq!(
        prepare_sources(&t, &s, &[0], &emb)[0],
        graph_of(0),
        "prepared the same way"
    );
    let mut unsorted = hosts.clone();
    unsorted.swap(0, 1);
    let e =
        HostDataset::from_graphs(&unsorted, &graph_of, &names, &label_hosts, y.view()).unwrap_err();
    assert!(matches!(e, GraphError::InvalidTable { .. }), "{e}");
}
