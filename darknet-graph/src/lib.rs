//! # darknet-graph
//!
//! Graphs from darknet traffic, the second stage of both pipelines: it turns a
//! [`darknet_core::Trace`] into the graphs, sparse matrices (`sprs::CsMat`) and feature arrays
//! (`ndarray`) that `darknet-nn` learns from. It knows nothing about learning.
//!
//! - Paper A: the [port graph](port_graph) (transition counts θ, quartile weights ω,
//!   docs/paper-a.md#port-graph), [reference-port distances](reference_distances) (the port
//!   auto-encoder's input), [host graphs](host_graph) with 20 + E node features, each
//!   [prepared](batch) once (normalized adjacency and features) for darknet-nn's batches.
//! - Paper B: [daily bipartite snapshots](snapshot) (TCP hosts × top-K ports + "other", 37
//!   node features, global node ids, positive edges and seeded negatives,
//!   docs/paper-b.md#daily-snapshots) and the matching daily sender corpora of the i-DarkVec
//!   baseline ([`build_corpora`]).
//! - Both papers: [normalization](normalize) of weighted adjacency matrices, computed once with
//!   the transpose, and [exports](export) (CSV in the reference code's layouts, `.npy`).
//!
//! - Your own algorithms: the port graph, every host graph and every daily snapshot convert to
//!   petgraph graphs ([`PortGraph::to_petgraph`], [`HostGraph::to_petgraph`],
//!   [`Snapshot::to_petgraph`]) whose node indices are the rows of the feature arrays, so
//!   petgraph's components, shortest paths or centralities line up with what the models see.
//!
//! Where the papers leave a choice open (docs/choices.md: A4, A5, A8, B1–B4, B9, B11) the item docs
//! say which resolution is implemented and which option reproduces the other reading.
//!
//! ```
//! use darknet_core::{Packet, Protocol, Trace};
//! use darknet_graph::{
//!     build_host_graphs, PortEmbeddings, PortGraph, PortKey, prepare_host_graphs,
//! };
//! use std::net::Ipv4Addr;
//!
//! // One host probing 23/tcp, 2323/tcp, 23/tcp, then pinging.
//! let host = Ipv4Addr::new(192, 0, 2, 1);
//! let p = |ts, proto, port| Packet { ts_ns: ts, src: host, proto, dst_port: port, tcp_flags: 2, ..Packet::default() };
//! let trace = Trace::from_packets([
//!     p(1, Protocol::Tcp, 23),
//!     p(2, Protocol::Tcp, 2323),
//!     p(3, Protocol::Tcp, 23),
//!     Packet { ts_ns: 4, src: host, proto: Protocol::Icmp, icmp_type: 8, ..Packet::default() },
//! ]);
//!
//! // Port graph: 23 -> 2323 and 2323 -> 23, each seen once (ICMP has no port node).
//! let pg = PortGraph::from_trace(&trace).unwrap();
//! assert_eq!(pg.n_ports(), 2);
//! assert_eq!(pg.theta(PortKey::tcp(2323), PortKey::tcp(23)), 1);
//!
//! // Host graph: nodes 23/SYN, 2323/SYN, ICMP echo; 20 + E features with E = 8 here.
//! let graphs = build_host_graphs(&trace, &trace.by_source(), &PortEmbeddings::empty(8));
//! assert_eq!(graphs[0].n_nodes(), 3);
//! assert_eq!(graphs[0].features().ncols(), 28);
//!
//! // Normalize once; darknet-nn's `GraphBatchBuffer::stack_from` batches them many times.
//! let prepared = prepare_host_graphs(&graphs).unwrap();
//! assert_eq!(prepared[0].adjacency().shape(), (3, 3));
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod batch;
pub mod dataset;
pub mod error;
pub mod export;
pub mod host_graph;
pub mod normalize;
pub mod port_graph;
pub mod snapshot;

pub use batch::{prepare_host_graphs, PreparedGraph};
pub use dataset::{prepare_sources, DatasetReport, HostDataset};
pub use error::{GraphError, Result};
pub use export::{
    npy_bytes, write_node_lookup_csv, write_npy, write_port_graph_csv, write_port_index_csv,
    write_snapshot_edges_csv, write_snapshot_features_csv, NpyElement,
};
pub use host_graph::{
    build_host_graph, build_host_graphs, host_feature_names, n_host_features, HostGraph,
    HostNodeKey, HostNodeSummary, PortEmbeddings, HOST_FEATURES_HEAD, HOST_FEATURES_TAIL,
    HOST_FEATURE_EMBEDDING_OFFSET,
};
pub use normalize::{
    normalize_row_undirected, normalize_sym_self_loops, EdgeDirections, NormalizedAdjacency,
};
/// The petgraph release the graph views are built with, so a program's algorithms use the
/// same types without declaring the dependency itself.
pub use petgraph;
pub use port_graph::distances::{
    choose_references, dijkstra_csr, reference_distances, DistanceConfig, ReferenceDistances,
    ReferenceStrategy,
};
pub use port_graph::transitions::{count_transitions, TransitionCounts, TransitionStream};
pub use port_graph::weights::{quantile_linear, quartile_weights};
pub use port_graph::{EdgeValue, PortEdge, PortGraph, PortKey};
pub use snapshot::{
    build_corpora, build_raw_days, build_snapshots, DayCorpus, EdgeMode, HostThreshold, Moments,
    PortNode, PortRanking, RawSnapshotDay, Snapshot, SnapshotConfig, SnapshotEdge, SnapshotSet,
    SNAPSHOT_HOST_FEATURES, SNAPSHOT_N_FEATURES, SNAPSHOT_PORT_FEATURES,
};
