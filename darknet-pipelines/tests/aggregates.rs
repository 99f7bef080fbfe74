//! The aggregates route (`Input::Aggregates`) gives the captures route's filter reports, port
//! graph, snapshots and scores, same seed, on a small synthetic darknet; and tables computed
//! with other settings than the pipeline's are refused with the reason.
//!
//! The tables are written from in-memory results in the SQL stage's layout
//! (`aggregates_common`), so these tests check the route apart from any SQL engine.

mod aggregates_common;

use darknet_core::aggregate::read;
use darknet_core::label::{write_abuse_reports, write_ground_truth};
use darknet_core::Trace;
use darknet_graph::{build_snapshots, PortGraph, SnapshotSet, TransitionCounts};
use darknet_pipelines::paper_a::{self, PaperAConfig, PaperAError};
use darknet_pipelines::paper_b::{self, ModelKind, PaperBConfig, PaperBError, Variant};
use darknet_pipelines::Silent;
use std::fs::File;
use std::path::PathBuf;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("aggregates-test-{name}-{}", std::process::id()));
    std::fs::remove_dir_all(&d).ok();
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn paper_a_setup(name: &str) -> (PathBuf, paper_a::Input, PathBuf, Trace) {
    let dir = tmp(name);
    let darknet = paper_a::tiny_synth(4).days(9).build().unwrap();
    let (path, trace) = aggregates_common::pcap(&darknet, &dir);
    let labels = dir.join("reports.csv");
    write_abuse_reports(
        File::create(&labels).unwrap(),
        darknet.reports(),
        "reports.csv",
    )
    .unwrap();
    let agg = dir.join("aggregates");
    aggregates_common::write_paper_a(&trace, &paper_a::FilterConfig::default(), &agg);
    let captures = paper_a::Input::Files {
        paths: vec![path],
        labels: Some(labels.clone()),
    };
    (agg, captures, labels, trace)
}

#[test]
fn paper_a_aggregates_give_the_captures_results() {
    let (agg, captures, labels, trace) = paper_a_setup("a");
    // The port graph of the tables is the captures' port graph.
    let (kept, _) = paper_a::apply_filters(&trace, &paper_a::FilterConfig::default()).unwrap();
    let t = read::port_transitions(&agg).unwrap();
    let from_tables =
        PortGraph::from_counts(&TransitionCounts::from_table(&t.edges, &t.ports).unwrap()).unwrap();
    assert_eq!(from_tables, PortGraph::from_trace(&kept).unwrap());

    let mut cfg = PaperAConfig::quick(2);
    cfg.partitions_to_run = 2;
    cfg.final_model = false;
    let a = paper_a::run(&captures, &cfg, &Silent).unwrap();
    let input = paper_a::Input::Aggregates {
        dir: agg.clone(),
        labels: Some(labels),
    };
    let b = paper_a::run(&input, &cfg, &Silent).unwrap();
    assert_eq!(a.n_packets_in, b.n_packets_in);
    assert_eq!(a.n_hosts_in, b.n_hosts_in);
    assert_eq!(a.n_days, b.n_days);
    assert_eq!(a.labels, b.labels);
    assert_eq!(a.filters, b.filters);
    assert!(a.filters.steps.iter().all(|s| s.packets_removed > 0) || a.filters.steps.len() == 4);
    assert_eq!(a.ports, b.ports);
    assert_eq!(a.model.embeddings, b.model.embeddings);
    assert_eq!(a.dataset, b.dataset);
    assert_eq!(a.label_counts, b.label_counts);
    assert_eq!(a.gcn, b.gcn);
    assert_eq!(a.baseline, b.baseline);
    assert_eq!(a.hybrid, b.hybrid);
    assert_eq!(a.sweep, b.sweep);
    assert_eq!(a.partitions.len(), 2);
    for (p, q) in a.partitions.iter().zip(&b.partitions) {
        assert_eq!(p.test_hosts, q.test_hosts);
        assert_eq!(p.gcn_scores, q.gcn_scores);
        assert_eq!(
            p.baseline.as_ref().map(|x| &x.0),
            q.baseline.as_ref().map(|x| &x.0)
        );
        assert_eq!(
            p.hybrid.as_ref().map(|x| &x.0),
            q.hybrid.as_ref().map(|x| &x.0)
        );
    }
    assert_eq!(b.timings[0].0, "read aggregates");
    std::fs::remove_dir_all(agg.parent().unwrap()).ok();
}

#[test]
fn paper_a_aggregates_with_other_settings_are_refused() {
    let (agg, _, labels, _) = paper_a_setup("a-settings");
    let input = paper_a::Input::Aggregates {
        dir: agg.clone(),
        labels: Some(labels),
    };
    let mut cfg = PaperAConfig::quick(2);
    cfg.partitions_to_run = 1;
    cfg.filters.vertical_tcp_ports = 3;
    let e = paper_a::run(&input, &cfg, &Silent).unwrap_err();
    assert!(matches!(e, PaperAError::Aggregates { .. }), "{e}");
    assert!(e.to_string().contains("thresholds"), "{e}");
    let mut cfg = PaperAConfig::quick(2);
    cfg.filters.periodic = false;
    let e = paper_a::run(&input, &cfg, &Silent).unwrap_err();
    assert!(matches!(e, PaperAError::InvalidConfig { .. }), "{e}");
    // No packets to load, stream or predict from.
    let e = paper_a::load_input(&input, 2, &Silent).unwrap_err();
    assert!(e.to_string().contains("no packets"), "{e}");
    let e = paper_a::stream_input(&input, &PaperAConfig::quick(2), &Silent).unwrap_err();
    assert!(e.to_string().contains("no packets"), "{e}");
    // A missing table names itself.
    std::fs::remove_dir_all(agg.join("host_graph_nodes")).unwrap();
    let e = paper_a::run(&input, &PaperAConfig::quick(2), &Silent).unwrap_err();
    assert!(e.to_string().contains("host_graph_nodes"), "{e}");
    std::fs::remove_dir_all(agg.parent().unwrap()).ok();
}

fn paper_b_setup(name: &str, cfg: &PaperBConfig) -> (PathBuf, paper_b::Input, PathBuf, Trace) {
    let dir = tmp(name);
    let darknet = paper_b::tiny_synth(6).days(6).hosts(300).build().unwrap();
    let (path, trace) = aggregates_common::pcap(&darknet, &dir);
    let truth = dir.join("truth.csv");
    write_ground_truth(
        File::create(&truth).unwrap(),
        &darknet.ground_truth(),
        "truth.csv",
    )
    .unwrap();
    let agg = dir.join("aggregates");
    aggregates_common::write_paper_b(&trace, &cfg.snapshot_config(), &agg);
    let captures = paper_b::Input::Files {
        paths: vec![path],
        ground_truth: Some(truth.clone()),
    };
    (agg, captures, truth, trace)
}

fn paper_b_config() -> PaperBConfig {
    let mut c = PaperBConfig::quick(5);
    c.variants = vec![
        Variant::new(ModelKind::Gcn, false),
        Variant::new(ModelKind::IGcnGru, true),
    ];
    c.top_k_ports = 40;
    c.temporal = c.temporal.gcn_dims(vec![32, 16]).emb_dim(8).max_epochs(4);
    c
}

#[test]
fn paper_b_aggregates_give_the_captures_results() {
    for first_seen in [false, true] {
        let mut cfg = paper_b_config();
        cfg.code.first_seen_edges = first_seen;
        let (agg, captures, truth, trace) = paper_b_setup("b", &cfg);
        // The snapshots of the tables are the captures' snapshots.
        let set = build_snapshots(&trace, &cfg.snapshot_config()).unwrap();
        let days = read::paper_b_days(&agg).unwrap();
        assert!(days.iter().any(|d| d.ports.contains(&read::OTHER_PORT)));
        let raw = days
            .into_iter()
            .map(|d| darknet_graph::RawSnapshotDay {
                day: d.day,
                hosts: d.hosts,
                host_features: d.host_features,
                ports: d
                    .ports
                    .iter()
                    .map(|&p| {
                        if p == read::OTHER_PORT {
                            darknet_graph::PortNode::Other
                        } else {
                            darknet_graph::PortNode::Port(p as u16)
                        }
                    })
                    .collect(),
                port_features: d.port_features,
                edges: d.edges,
            })
            .collect();
        let mode = cfg.snapshot_config().edge_mode;
        assert_eq!(SnapshotSet::from_days(raw, mode).unwrap(), set);

        let a = paper_b::run(&captures, &cfg, None, &[], &Silent).unwrap();
        let input = paper_b::Input::Aggregates {
            dir: agg.clone(),
            ground_truth: Some(truth),
        };
        let b = paper_b::run(&input, &cfg, None, &[], &Silent).unwrap();
        assert_eq!(a.days, b.days);
        assert_eq!(a.test_days, b.test_days);
        assert_eq!((a.n_hosts, a.n_ports), (b.n_hosts, b.n_ports));
        assert_eq!(a.variants.len(), 2);
        for (x, y) in a.variants.iter().zip(&b.variants) {
            assert_eq!(x.name, y.name);
            assert_eq!(x.curve, y.curve, "{}", x.name);
            let json = |s| serde_json::to_string(s).unwrap();
            assert_eq!(json(&x.scores), json(&y.scores), "{}", x.name);
            assert!(x.scores.is_some());
        }
        std::fs::remove_dir_all(agg.parent().unwrap()).ok();
    }
}

#[test]
fn paper_b_aggregates_with_other_settings_are_refused() {
    let cfg = paper_b_config();
    let (agg, _, truth, _) = paper_b_setup("b-settings", &cfg);
    let input = paper_b::Input::Aggregates {
        dir: agg.clone(),
        ground_truth: Some(truth),
    };
    let mut c = cfg.clone();
    c.min_packets = 50;
    let e = paper_b::run(&input, &c, None, &[], &Silent).unwrap_err();
    assert!(matches!(e, PaperBError::Aggregates { .. }), "{e}");
    assert!(e.to_string().contains("host_min_packets"), "{e}");
    let mut c = cfg.clone();
    c.top_k_ports = 5;
    let e = paper_b::run(&input, &c, None, &[], &Silent).unwrap_err();
    assert!(e.to_string().contains("top_k_ports"), "{e}");
    let mut c = cfg.clone();
    c.variants.push(Variant::new(ModelKind::IDarkVec, false));
    let e = paper_b::run(&input, &c, None, &[], &Silent).unwrap_err();
    assert!(matches!(e, PaperBError::InvalidConfig { .. }), "{e}");
    assert!(e.to_string().contains("i-DarkVec"), "{e}");
    let e = paper_b::load_input(&input).unwrap_err();
    assert!(e.to_string().contains("no packets"), "{e}");
    std::fs::remove_dir_all(agg.parent().unwrap()).ok();
}
