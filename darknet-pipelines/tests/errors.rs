//! Errors keep their source: `std::error::Error::source` walks from a pipeline's error to the
//! library error that caused it.

use darknet_pipelines::paper_a::{GraphSubset, PaperAError};
use darknet_pipelines::paper_b::PaperBError;
use std::error::Error as _;

#[test]
fn batching_errors_of_the_host_graph_subset_are_typed() {
    // Host graphs are stacked by darknet-nn's allocation-free batch path: an empty batch and an
    // index past the subset are typed errors, not panics.
    let graphs: Vec<darknet_graph::PreparedGraph> = Vec::new();
    let set = GraphSubset::new(&graphs, &[]);
    let e = darknet_nn::GraphDataset::<f32>::batch(&set, &[]).unwrap_err();
    assert!(matches!(e, darknet_nn::NnError::EmptyBatch { .. }), "{e}");
    let e = darknet_nn::GraphDataset::<f32>::batch(&set, &[3]).unwrap_err();
    assert!(
        matches!(e, darknet_nn::NnError::TargetOutOfRange { value: 3, .. }),
        "{e}"
    );
}

#[test]
fn a_paper_a_error_inside_paper_b_stays_reachable() {
    let inner = PaperAError::TooFewLabelled {
        n_labelled: 1,
        needed: 4,
        detail: "test".into(),
    };
    let e = PaperBError::from(inner);
    assert!(matches!(e, PaperBError::Capture(_)), "{e}");
    assert!(
        e.to_string()
            .starts_with("reading the captures: 1 labelled hosts"),
        "{e}"
    );
    let src = e.source().expect("a source");
    assert!(src.downcast_ref::<PaperAError>().is_some(), "{src}");
}

#[test]
fn a_port_graph_error_is_the_source() {
    // Only ICMP traffic leaves no TCP or UDP port for the port graph.
    let packets: Vec<darknet_core::Packet> = (0..20u64)
        .map(|k| darknet_core::Packet {
            ts_ns: k * 1_000_000_000,
            src: std::net::Ipv4Addr::new(192, 0, 2, (k % 4) as u8),
            proto: darknet_core::Protocol::Icmp,
            ..darknet_core::Packet::default()
        })
        .collect();
    let trace = darknet_core::Trace::from_packets(packets);
    let cfg = darknet_pipelines::paper_a::PaperAConfig::quick(0);
    let e = darknet_pipelines::paper_a::port_stage(&trace, &cfg, &darknet_pipelines::Silent)
        .unwrap_err();
    assert!(matches!(e, PaperAError::PortGraph { .. }), "{e}");
    assert!(e
        .source()
        .and_then(|s| s.downcast_ref::<darknet_graph::GraphError>())
        .is_some());
}
