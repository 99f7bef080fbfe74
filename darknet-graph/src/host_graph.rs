//! Host graphs of Paper A (docs/paper-a.md#host-graphs, docs/choices.md#a8): one small graph per
//! source host.
//!
//! Nodes are the host's packets grouped by ⟨protocol, destination port, TCP flags, ICMP
//! type/code⟩ (for TCP the flags byte is part of the key; for UDP flags and ICMP fields are 0;
//! for ICMP the port is 0). Nodes are numbered in order of first appearance in time. An
//! undirected edge joins the nodes of two consecutive packets of the host; its weight is the
//! number of such transitions in either order; transitions from a node to itself are ignored
//! (the normalization adds the self loop). Packets of protocols other than TCP, UDP and ICMP are
//! skipped entirely.
//!
//! # Node features (length 20 + E, E = port-embedding size)
//!
//! | offset | len | name(s) | value |
//! |---|---|---|---|
//! | 0 | 1 | `n_dst_addresses_log1p` | ln(1 + distinct destination addresses of the node's packets) |
//! | 1 | 1 | `dst_address_order` | +1 strictly increasing, −1 strictly decreasing, 0 otherwise or one address (time order, consecutive repeats collapsed) |
//! | 2 | 1 | `dst_address_contiguity` | 1 if every address between min and max was hit (also for one address), else 0 |
//! | 3 | 1 | `n_src_ports_log1p` | ln(1 + distinct source ports); 0 for ICMP |
//! | 4 | 1 | `src_port_well_known` | fraction of packets with source port 0–1023; 0 for ICMP |
//! | 5 | 1 | `src_port_registered` | fraction with source port 1024–49151; 0 for ICMP |
//! | 6 | 1 | `src_port_dynamic` | fraction with source port 49152–65535; 0 for ICMP |
//! | 7 | E | `port_embedding_0..E-1` | the destination port's embedding; zeros for ICMP and ports absent from the table |
//! | 7+E | 3 | `proto_tcp`, `proto_udp`, `proto_icmp` | protocol one-hot |
//! | 10+E | 8 | `flag_fin` … `flag_cwr` | TCP flag bits 0 (FIN) to 7 (CWR) as 0/1; all −1 for UDP/ICMP |
//! | 18+E | 1 | `icmp_type` | ICMP type / 255; −1 for TCP/UDP |
//! | 19+E | 1 | `icmp_code` | ICMP code / 255; −1 for TCP/UDP |
//!
//! [`HOST_FEATURES_HEAD`] and [`HOST_FEATURES_TAIL`] name the columns before and after the
//! embedding; [`host_feature_names`] gives the full list for an embedding size.

use crate::error::{GraphError, Result};
use crate::port_graph::{transitions::N_PORT_CODES, PortKey};
use darknet_core::{Protocol, SourceIndex, Trace};
use ndarray::{Array2, ArrayView1, ArrayView2};
use rayon::prelude::*;
use sprs::CsMat;
use std::collections::HashMap;
use std::net::Ipv4Addr;

/// Names of the 7 feature columns before the port embedding (offsets 0..7).
pub const HOST_FEATURES_HEAD: [&str; 7] = [
    "n_dst_addresses_log1p",
    "dst_address_order",
    "dst_address_contiguity",
    "n_src_ports_log1p",
    "src_port_well_known",
    "src_port_registered",
    "src_port_dynamic",
];

/// Names of the 13 feature columns after the port embedding (offsets 7+E..20+E).
pub const HOST_FEATURES_TAIL: [&str; 13] = [
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
];

/// Offset of the port embedding in a host-graph feature row.
pub const HOST_FEATURE_EMBEDDING_OFFSET: usize = 7;

/// Number of host-graph node features for port-embedding size `embedding_dim` (20 + E).
pub const fn n_host_features(embedding_dim: usize) -> usize {
    20 + embedding_dim
}

/// The full list of feature names, in column order, for port-embedding size `embedding_dim`
/// (embedding columns are `port_embedding_0` …).
pub fn host_feature_names(embedding_dim: usize) -> Vec<String> {
    HOST_FEATURES_HEAD
        .iter()
        .map(|s| s.to_string())
        .chain((0..embedding_dim).map(|k| format!("port_embedding_{k}")))
        .chain(HOST_FEATURES_TAIL.iter().map(|s| s.to_string()))
        .collect()
}

/// A port-embedding table: one row of size E per `(protocol, port)` (the auto-encoder's
/// output), with O(1) lookup.
#[derive(Clone, Debug, PartialEq)]
pub struct PortEmbeddings {
    ports: Vec<PortKey>,
    table: Array2<f32>,
    index: Vec<u32>,
}

impl PortEmbeddings {
    /// A table: `table` row `i` is the embedding of `ports[i]`. Shape of `table`: (n_ports, E).
    ///
    /// # Errors
    /// [`GraphError::ShapeMismatch`] when `table` has not `ports.len()` rows,
    /// [`GraphError::NotAPortProtocol`] for a non-TCP/UDP key, [`GraphError::DuplicatePort`],
    /// [`GraphError::NonFinite`] for a NaN or infinite entry.
    pub fn new(ports: Vec<PortKey>, table: Array2<f32>) -> Result<Self> {
        if table.nrows() != ports.len() {
            return Err(GraphError::ShapeMismatch {
                what: "port embedding table",
                expected: vec![ports.len(), table.ncols()],
                actual: table.shape().to_vec(),
            });
        }
        if let Some(((r, c), v)) = table.indexed_iter().find(|(_, v)| !v.is_finite()) {
            return Err(GraphError::NonFinite {
                what: "port embedding table",
                row: r,
                col: c,
                value: f64::from(*v),
            });
        }
        let mut index = vec![0u32; N_PORT_CODES];
        for (row, p) in ports.iter().enumerate() {
            let Some(code) = p.code() else {
                return Err(GraphError::NotAPortProtocol {
                    what: "port embedding table",
                    proto: p.proto.to_string(),
                    row,
                });
            };
            let slot = &mut index[code as usize];
            if *slot != 0 {
                return Err(GraphError::DuplicatePort {
                    what: "port embedding table",
                    proto: p.proto.to_string(),
                    port: p.port,
                    first: *slot as usize - 1,
                    second: row,
                });
            }
            *slot = row as u32 + 1;
        }
        Ok(PortEmbeddings {
            ports,
            table,
            index,
        })
    }

    /// An empty table of dimension `dim` (every lookup misses, so embeddings are zeros).
    pub fn empty(dim: usize) -> Self {
        PortEmbeddings {
            ports: Vec::new(),
            table: Array2::zeros((0, dim)),
            index: vec![0; N_PORT_CODES],
        }
    }

    /// Embedding size E.
    pub fn dim(&self) -> usize {
        self.table.ncols()
    }

    /// The ports of the table, one per row. Shape (n_ports,).
    pub fn ports(&self) -> &[PortKey] {
        &self.ports
    }

    /// The table. Shape (n_ports, E).
    pub fn table(&self) -> ArrayView2<'_, f32> {
        self.table.view()
    }

    /// The embedding of a port, `None` when absent (callers use zeros). Shape (E,).
    pub fn get(&self, key: PortKey) -> Option<ArrayView1<'_, f32>> {
        let c = key.code()? as usize;
        match self.index[c] {
            0 => None,
            r => Some(self.table.row(r as usize - 1)),
        }
    }
}

/// The key of a host-graph node: ⟨protocol, destination port, TCP flags, ICMP type, ICMP code⟩.
/// Fields that do not apply to the protocol are 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HostNodeKey {
    /// TCP, UDP or ICMP.
    pub proto: Protocol,
    /// Destination port (0 for ICMP).
    pub dst_port: u16,
    /// TCP flags byte (0 for UDP and ICMP).
    pub tcp_flags: u8,
    /// ICMP type (0 for TCP and UDP).
    pub icmp_type: u8,
    /// ICMP code (0 for TCP and UDP).
    pub icmp_code: u8,
}

impl HostNodeKey {
    fn pack(self) -> u64 {
        (u64::from(self.proto.number()) << 40)
            | (u64::from(self.dst_port) << 24)
            | (u64::from(self.tcp_flags) << 16)
            | (u64::from(self.icmp_type) << 8)
            | u64::from(self.icmp_code)
    }
}

/// What a host-graph node's features are computed from (besides its key and the port
/// embeddings): counts over the node's packets. [`HostGraph::from_parts`] builds a graph from
/// these, so that the graphs of a host can come from aggregates computed elsewhere (an SQL
/// engine, say) rather than from its packets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HostNodeSummary {
    /// Packets of the node (at least 1).
    pub packets: u64,
    /// Distinct destination addresses (at least 1).
    pub n_dsts: u64,
    /// Lowest destination address, as `u32::from(Ipv4Addr)`.
    pub dst_min: u32,
    /// Highest destination address.
    pub dst_max: u32,
    /// Consecutive pairs of the node's packets (time order) whose second destination address
    /// is higher than the first.
    pub dst_up: u64,
    /// The same, lower.
    pub dst_down: u64,
    /// Distinct source ports (TCP and UDP nodes; 0 for ICMP).
    pub n_src_ports: u64,
    /// Packets with a source port in 0–1023, 1024–49151 and 49152–65535 (TCP and UDP nodes;
    /// zeros for ICMP).
    pub src_port_classes: [u64; 3],
}

/// One host's graph: nodes with features and weighted undirected edges
/// (docs/paper-a.md#host-graphs).
#[derive(Clone, Debug, PartialEq)]
pub struct HostGraph {
    source: Ipv4Addr,
    nodes: Vec<HostNodeKey>,
    features: Array2<f32>,
    edges: Vec<(u32, u32, f32)>,
    n_packets: usize,
}

impl HostGraph {
    /// The host's source address.
    pub fn source(&self) -> Ipv4Addr {
        self.source
    }
    /// Node keys in order of first appearance. Shape (n_nodes,).
    pub fn nodes(&self) -> &[HostNodeKey] {
        &self.nodes
    }
    /// Number of nodes (≥ 1).
    pub fn n_nodes(&self) -> usize {
        self.nodes.len()
    }
    /// Node features in the order of the module table. Shape (n_nodes, 20 + E).
    pub fn features(&self) -> ArrayView2<'_, f32> {
        self.features.view()
    }
    /// Undirected edges `(i, j, weight)` with `i < j`, sorted; weight = number of consecutive
    /// packet pairs joining the two nodes in either order. Shape (n_edges,).
    pub fn edges(&self) -> &[(u32, u32, f32)] {
        &self.edges
    }
    /// Number of the host's packets used (TCP, UDP and ICMP).
    pub fn n_packets(&self) -> usize {
        self.n_packets
    }

    /// A host graph from its parts, the same graph [`build_host_graph`] gives for the packets
    /// the parts summarise.
    ///
    /// Arguments: `nodes` in order of first appearance, each with its [`HostNodeSummary`];
    /// `edges` as `(i, j, transitions)`: node rows `i != j` (either order) and the number of
    /// consecutive packet pairs of the host joining them in either order, each pair once.
    /// Weights are stored as `f32` counts (saturating at 2^24, as counting in `f32` does).
    ///
    /// # Errors
    /// [`GraphError::EmptyHost`] without nodes; [`GraphError::InvalidTable`] for a repeated
    /// key, a node without packets or addresses (or `dst_min > dst_max`), an edge naming a
    /// node past the end or the same node twice, a repeated edge, or no transition.
    ///
    /// ```
    /// use darknet_core::{Packet, Trace};
    /// use darknet_graph::{build_host_graph, HostGraph, HostNodeSummary, PortEmbeddings};
    /// let p = |ts, port| Packet { ts_ns: ts, dst_port: port, tcp_flags: 2, ..Packet::default() };
    /// let trace = Trace::from_packets([p(1, 22), p(2, 23), p(3, 22)]);
    /// let emb = PortEmbeddings::empty(4);
    /// let g = build_host_graph(&trace, trace.src()[0].into(), &[0, 1, 2], &emb).unwrap();
    /// let dst = u32::from(trace.dst()[0]);
    /// let one = |n| HostNodeSummary {
    ///     packets: n, n_dsts: 1, dst_min: dst, dst_max: dst, n_src_ports: 1,
    ///     src_port_classes: [n, 0, 0], ..HostNodeSummary::default()
    /// };
    /// let nodes = vec![(g.nodes()[0], one(2)), (g.nodes()[1], one(1))];
    /// let h = HostGraph::from_parts(g.source(), nodes, &[(1, 0, 2)], &emb).unwrap();
    /// assert_eq!(h, g);
    /// ```
    pub fn from_parts(
        source: Ipv4Addr,
        nodes: Vec<(HostNodeKey, HostNodeSummary)>,
        edges: &[(u32, u32, u64)],
        embeddings: &PortEmbeddings,
    ) -> Result<Self> {
        if nodes.is_empty() {
            return Err(GraphError::EmptyHost {
                source_addr: source,
            });
        }
        let bad = |what, row, reason: String| GraphError::InvalidTable { what, row, reason };
        let mut keys: Vec<(u64, usize)> = nodes
            .iter()
            .enumerate()
            .map(|(i, (k, _))| (k.pack(), i))
            .collect();
        keys.sort_unstable();
        if let Some(w) = keys.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(bad(
                "host graph nodes",
                w[1].1,
                format!("host {source}: node {:?} repeated", nodes[w[1].1].0),
            ));
        }
        for (row, (_, s)) in nodes.iter().enumerate() {
            if s.packets == 0 || s.n_dsts == 0 || s.dst_min > s.dst_max {
                return Err(bad(
                    "host graph nodes",
                    row,
                    format!(
                        "host {source}: a node needs packets and destination addresses \
                         ({} packets, {} addresses, lowest {} highest {})",
                        s.packets, s.n_dsts, s.dst_min, s.dst_max
                    ),
                ));
            }
        }
        let n = nodes.len() as u32;
        let mut out: Vec<(u32, u32, u64)> = Vec::with_capacity(edges.len());
        for (row, &(i, j, w)) in edges.iter().enumerate() {
            if i >= n || j >= n || i == j || w == 0 {
                return Err(bad(
                    "host graph edges",
                    row,
                    format!(
                        "host {source}: edge ({i}, {j}) with {w} transitions over {n} nodes \
                         (expected two different nodes and at least one transition)"
                    ),
                ));
            }
            out.push((i.min(j), i.max(j), w));
        }
        out.sort_unstable();
        if let Some(w) = out
            .windows(2)
            .find(|w| (w[0].0, w[0].1) == (w[1].0, w[1].1))
        {
            return Err(bad(
                "host graph edges",
                0,
                format!("host {source}: edge ({}, {}) repeated", w[1].0, w[1].1),
            ));
        }
        let mut features = Array2::<f32>::zeros((nodes.len(), n_host_features(embeddings.dim())));
        for (j, (key, sum)) in nodes.iter().enumerate() {
            node_features(features.row_mut(j), key, sum, embeddings);
        }
        // Counting transitions one by one in f32 stops at 2^24.
        let edges = out
            .into_iter()
            .map(|(i, j, w)| (i, j, w.min(1 << 24) as f32))
            .collect();
        Ok(HostGraph {
            source,
            n_packets: nodes.iter().map(|(_, s)| s.packets as usize).sum(),
            nodes: nodes.into_iter().map(|(k, _)| k).collect(),
            features,
            edges,
        })
    }

    /// The weighted symmetric adjacency without self loops, CSR of shape (n_nodes, n_nodes).
    pub fn adjacency(&self) -> CsMat<f32> {
        let n = self.n_nodes();
        let mut tri = sprs::TriMat::with_capacity((n, n), 2 * self.edges.len());
        for &(i, j, w) in &self.edges {
            tri.add_triplet(i as usize, j as usize, w);
            tri.add_triplet(j as usize, i as usize, w);
        }
        tri.to_csr()
    }

    /// The graph as a petgraph `UnGraph`, for a user's own graph algorithms (components,
    /// centralities, matching, ...): node `i` (`NodeIndex::new(i)`) carries `nodes()[i]`, every
    /// edge of [`HostGraph::edges`] carries its weight. The node features stay in
    /// [`HostGraph::features`], row `i` for node `i`.
    ///
    /// ```
    /// use darknet_core::{Packet, Trace};
    /// use darknet_graph::{build_host_graph, PortEmbeddings};
    /// let p = |ts, port| Packet { ts_ns: ts, dst_port: port, tcp_flags: 2, ..Packet::default() };
    /// let trace = Trace::from_packets([p(1, 22), p(2, 23), p(3, 22), p(4, 80)]);
    /// let g = build_host_graph(&trace, trace.src()[0].into(), &[0, 1, 2, 3], &PortEmbeddings::empty(4)).unwrap();
    /// let pg = g.to_petgraph();
    /// assert_eq!((pg.node_count(), pg.edge_count()), (3, 2));
    /// // The port the host returns to most is the node of highest weighted degree.
    /// let degree = |n| pg.edges(n).map(|e| *e.weight()).sum::<f32>();
    /// let hub = pg.node_indices().max_by(|&a, &b| degree(a).total_cmp(&degree(b))).unwrap();
    /// assert_eq!(pg[hub].dst_port, 22);
    /// assert_eq!(petgraph::algo::connected_components(&pg), 1);
    /// ```
    pub fn to_petgraph(&self) -> petgraph::graph::UnGraph<HostNodeKey, f32> {
        let mut g = petgraph::graph::UnGraph::with_capacity(self.n_nodes(), self.edges.len());
        for &key in &self.nodes {
            g.add_node(key);
        }
        for &(i, j, w) in &self.edges {
            g.add_edge(
                petgraph::graph::NodeIndex::new(i as usize),
                petgraph::graph::NodeIndex::new(j as usize),
                w,
            );
        }
        g
    }
}

/// The columns a host graph reads, gathered per packet into one local record.
#[derive(Clone, Copy, Default)]
struct Lite {
    dst: u32,
    dport: u16,
    sport: u16,
    proto: u8,
    flags: u8,
    itype: u8,
    icode: u8,
}

/// Reusable scratch space for building host graphs.
#[derive(Default)]
struct Scratch {
    map: HashMap<u64, u32>,
    node_of: Vec<u32>,
    lite: Vec<Lite>,
    pkts: Vec<u32>,
    offsets: Vec<usize>,
    vals: Vec<u32>,
    pairs: Vec<u64>,
}

/// Builds the host graph of one source from its packets (`packets` = indices into `trace`, in
/// time order, as [`SourceIndex::packets_of`] gives them).
///
/// # Errors
/// [`GraphError::EmptyHost`] when no packet is TCP, UDP or ICMP (for example after filtering).
///
/// ```
/// use darknet_core::{Packet, Protocol, Trace};
/// use darknet_graph::{build_host_graph, PortEmbeddings};
/// let p = |ts, port| Packet { ts_ns: ts, dst_port: port, tcp_flags: 2, ..Packet::default() };
/// let trace = Trace::from_packets([p(1, 22), p(2, 23), p(3, 22)]);
/// let g = build_host_graph(&trace, trace.src()[0].into(), &[0, 1, 2], &PortEmbeddings::empty(4)).unwrap();
/// assert_eq!(g.n_nodes(), 2);
/// assert_eq!(g.edges(), &[(0, 1, 2.0)]);
/// assert_eq!(g.features().ncols(), 24);
/// ```
pub fn build_host_graph(
    trace: &Trace,
    source: Ipv4Addr,
    packets: &[u32],
    embeddings: &PortEmbeddings,
) -> Result<HostGraph> {
    build_with(trace, source, packets, embeddings, &mut Scratch::default())
}

/// Builds the host graphs of every source of `trace`, in parallel, in ascending source-address
/// order (the order of `sources`). Sources without any TCP, UDP or ICMP packet are skipped
/// (they have no graph); compare `HostGraph::source` with the index to find them.
pub fn build_host_graphs(
    trace: &Trace,
    sources: &SourceIndex,
    embeddings: &PortEmbeddings,
) -> Vec<HostGraph> {
    (0..sources.len())
        .into_par_iter()
        .map_init(Scratch::default, |s, k| {
            build_with(
                trace,
                sources.source(k),
                sources.packets_of(k),
                embeddings,
                s,
            )
            .ok()
        })
        .flatten()
        .collect()
}

fn build_with(
    trace: &Trace,
    source: Ipv4Addr,
    packets: &[u32],
    emb: &PortEmbeddings,
    s: &mut Scratch,
) -> Result<HostGraph> {
    // Gather first, in a tight loop without dependencies: the host's packets are spread over
    // the time-sorted trace, so these loads are cache misses best issued together.
    let (proto, dport, flags) = (trace.proto(), trace.dst_port(), trace.tcp_flags());
    let (itype, icode) = (trace.icmp_type(), trace.icmp_code());
    let (dst, sport) = (trace.dst(), trace.src_port());
    s.lite.clear();
    s.lite.extend(packets.iter().map(|&i| {
        let i = i as usize;
        Lite {
            dst: dst[i],
            dport: dport[i],
            sport: sport[i],
            proto: proto[i],
            flags: flags[i],
            itype: itype[i],
            icode: icode[i],
        }
    }));
    s.map.clear();
    s.node_of.clear();
    s.pkts.clear();
    let mut nodes: Vec<HostNodeKey> = Vec::new();
    for (pos, l) in s.lite.iter().enumerate() {
        let key = match l.proto {
            6 => HostNodeKey {
                proto: Protocol::Tcp,
                dst_port: l.dport,
                tcp_flags: l.flags,
                icmp_type: 0,
                icmp_code: 0,
            },
            17 => HostNodeKey {
                proto: Protocol::Udp,
                dst_port: l.dport,
                tcp_flags: 0,
                icmp_type: 0,
                icmp_code: 0,
            },
            1 => HostNodeKey {
                proto: Protocol::Icmp,
                dst_port: 0,
                tcp_flags: 0,
                icmp_type: l.itype,
                icmp_code: l.icode,
            },
            _ => continue,
        };
        let next = nodes.len() as u32;
        let id = *s.map.entry(key.pack()).or_insert(next);
        if id == next {
            nodes.push(key);
        }
        s.node_of.push(id);
        s.pkts.push(pos as u32);
    }
    if nodes.is_empty() {
        return Err(GraphError::EmptyHost {
            source_addr: source,
        });
    }
    let n = nodes.len();
    let m = s.pkts.len();
    // Edges between consecutive packets' nodes.
    s.pairs.clear();
    for w in s.node_of.windows(2) {
        let (a, b) = (w[0].min(w[1]), w[0].max(w[1]));
        if a != b {
            s.pairs.push((u64::from(a) << 32) | u64::from(b));
        }
    }
    s.pairs.sort_unstable();
    let mut edges: Vec<(u32, u32, f32)> = Vec::new();
    for &p in &s.pairs {
        let (a, b) = ((p >> 32) as u32, p as u32);
        match edges.last_mut() {
            Some(e) if e.0 == a && e.1 == b => e.2 += 1.0,
            _ => edges.push((a, b, 1.0)),
        }
    }
    // Group packet positions by node (counting sort keeps time order inside a node).
    s.offsets.clear();
    s.offsets.resize(n + 1, 0);
    for &id in &s.node_of {
        s.offsets[id as usize + 1] += 1;
    }
    for j in 0..n {
        s.offsets[j + 1] += s.offsets[j];
    }
    let mut fill = s.offsets.clone();
    let mut grouped = vec![0u32; m];
    for (k, &id) in s.node_of.iter().enumerate() {
        grouped[fill[id as usize]] = s.pkts[k];
        fill[id as usize] += 1;
    }
    let mut feats = Array2::<f32>::zeros((n, n_host_features(emb.dim())));
    let lite = &s.lite;
    for (j, key) in nodes.iter().enumerate() {
        let pk = &grouped[s.offsets[j]..s.offsets[j + 1]];
        let mut sum = HostNodeSummary {
            packets: pk.len() as u64,
            ..HostNodeSummary::default()
        };
        // Destination addresses.
        s.vals.clear();
        s.vals.extend(pk.iter().map(|&i| lite[i as usize].dst));
        for w in s.vals.windows(2) {
            sum.dst_up += u64::from(w[1] > w[0]);
            sum.dst_down += u64::from(w[1] < w[0]);
        }
        s.vals.sort_unstable();
        s.vals.dedup();
        sum.n_dsts = s.vals.len() as u64;
        (sum.dst_min, sum.dst_max) = (s.vals[0], s.vals[s.vals.len() - 1]);
        // Source ports.
        if matches!(key.proto, Protocol::Tcp | Protocol::Udp) {
            s.vals.clear();
            s.vals
                .extend(pk.iter().map(|&i| u32::from(lite[i as usize].sport)));
            for &p in &s.vals {
                sum.src_port_classes[src_port_class(p)] += 1;
            }
            s.vals.sort_unstable();
            s.vals.dedup();
            sum.n_src_ports = s.vals.len() as u64;
        }
        node_features(feats.row_mut(j), key, &sum, emb);
    }
    Ok(HostGraph {
        source,
        nodes,
        features: feats,
        edges,
        n_packets: m,
    })
}

/// Class of a source port: 0 well-known (0–1023), 1 registered (1024–49151), 2 dynamic.
fn src_port_class(p: u32) -> usize {
    if p < 1024 {
        0
    } else if p < 49152 {
        1
    } else {
        2
    }
}

/// Address order (docs/choices.md#a8) from the steps between consecutive distinct addresses:
/// +1 strictly increasing, −1 strictly decreasing, 0 otherwise or for a single address.
fn address_order(up: u64, down: u64) -> f32 {
    match (up, down) {
        (0, 0) => 0.0,
        (_, 0) => 1.0,
        (0, _) => -1.0,
        _ => 0.0,
    }
}

/// Fills one node's feature row (the module table) from its key and summary.
fn node_features(
    mut row: ndarray::ArrayViewMut1<'_, f32>,
    key: &HostNodeKey,
    sum: &HostNodeSummary,
    emb: &PortEmbeddings,
) {
    let e = emb.dim();
    row[0] = (sum.n_dsts as f32).ln_1p();
    row[2] = if u64::from(sum.dst_max - sum.dst_min) + 1 == sum.n_dsts {
        1.0
    } else {
        0.0
    };
    row[1] = address_order(sum.dst_up, sum.dst_down);
    let tail = HOST_FEATURE_EMBEDDING_OFFSET + e;
    match key.proto {
        Protocol::Tcp | Protocol::Udp => {
            row[3] = (sum.n_src_ports as f32).ln_1p();
            for (c, &k) in sum.src_port_classes.iter().enumerate() {
                row[4 + c] = k as f32 / sum.packets as f32;
            }
            let pkey = PortKey {
                proto: key.proto,
                port: key.dst_port,
            };
            if let Some(v) = emb.get(pkey) {
                for (k, &x) in v.iter().enumerate() {
                    row[HOST_FEATURE_EMBEDDING_OFFSET + k] = x;
                }
            }
            row[tail + if key.proto == Protocol::Tcp { 0 } else { 1 }] = 1.0;
            for b in 0..8 {
                row[tail + 3 + b] = if key.proto == Protocol::Tcp {
                    f32::from((key.tcp_flags >> b) & 1)
                } else {
                    -1.0
                };
            }
            row[tail + 11] = -1.0;
            row[tail + 12] = -1.0;
        }
        _ => {
            row[tail + 2] = 1.0;
            for b in 0..8 {
                row[tail + 3 + b] = -1.0;
            }
            row[tail + 11] = f32::from(key.icmp_type) / 255.0;
            row[tail + 12] = f32::from(key.icmp_code) / 255.0;
        }
    }
}
