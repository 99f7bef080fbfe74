//! The port graph of Paper A (docs/paper-a.md#port-graph): nodes are `(protocol, destination port)`
//! pairs of TCP and UDP traffic, directed edges count how often a source probed one port right
//! after another (θ), and quartile weights turn counts into distances (ω: frequent transitions are
//! short).
//!
//! - [`transitions`]: mergeable, parallel counting of θ ([`TransitionCounts`],
//!   [`count_transitions`](transitions::count_transitions)).
//! - [`weights`]: numpy-compatible quartiles and the ω′ / ω weights.
//! - [`distances`]: reference ports and shortest-path distances to them.
//!
//! Node index map: ports are sorted by `(protocol, port)` — all TCP ports ascending, then all
//! UDP ports ascending — and node `i` of every representation (edge list, CSR, petgraph,
//! distance rows) is `ports()[i]`.

pub mod distances;
pub mod transitions;
pub mod weights;

use crate::error::{GraphError, Result};
use darknet_core::{Protocol, Trace};
use petgraph::graph::{DiGraph, NodeIndex};
use sprs::CsMat;
use std::fmt;
use transitions::{TransitionCounts, N_PORT_CODES};

/// A port node: protocol (TCP or UDP) and destination port. Orders by `(protocol, port)`, TCP
/// before UDP.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortKey {
    /// Protocol: [`Protocol::Tcp`] or [`Protocol::Udp`] for graph nodes.
    pub proto: Protocol,
    /// Destination port.
    pub port: u16,
}

impl PortKey {
    /// A TCP port.
    pub fn tcp(port: u16) -> Self {
        PortKey {
            proto: Protocol::Tcp,
            port,
        }
    }

    /// A UDP port.
    pub fn udp(port: u16) -> Self {
        PortKey {
            proto: Protocol::Udp,
            port,
        }
    }

    /// Dense code in `0..131072` (TCP ports then UDP ports); `None` for other protocols.
    pub fn code(self) -> Option<u32> {
        transitions::port_code(self.proto.number(), self.port)
    }

    /// The key of a dense code (inverse of [`PortKey::code`]). Codes ≥ 131072 map to UDP.
    pub fn from_code(code: u32) -> Self {
        if code < 65_536 {
            PortKey::tcp(code as u16)
        } else {
            PortKey::udp((code - 65_536) as u16)
        }
    }
}

impl fmt::Display for PortKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.port, self.proto)
    }
}

/// One directed edge of the port graph with its count and weights.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PortEdge {
    /// Index of the source port (`ports()[from]`).
    pub from: u32,
    /// Index of the destination port.
    pub to: u32,
    /// θ: number of times `to` directly followed `from`.
    pub theta: u64,
    /// ω′ = (θ − Q1) / (Q3 − Q1).
    pub w_prime: f64,
    /// ω = max ω′ − ω′ ≥ 0: the shortest-path weight.
    pub w: f64,
}

/// Which value of an edge a matrix or graph carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum EdgeValue {
    /// The raw count θ.
    Theta,
    /// ω′ (can be negative).
    WPrime,
    /// ω (non-negative, zero for the most frequent transitions), the default.
    #[default]
    W,
}

/// The weighted directed port graph Gp = (Np, Ep, ω) of docs/paper-a.md#port-graph.
///
/// Built from [`TransitionCounts`]; nodes sorted by `(protocol, port)`, edges sorted by
/// `(from, to)`. Exposed as an edge list ([`PortGraph::edges`]), CSR ([`PortGraph::to_csr`])
/// and petgraph ([`PortGraph::to_petgraph`]).
#[derive(Clone, Debug, PartialEq)]
pub struct PortGraph {
    ports: Vec<PortKey>,
    /// code -> index + 1 (0 = absent); built lazily only for lookups.
    index: Vec<u32>,
    edges: Vec<PortEdge>,
    indptr: Vec<usize>,
    q1: f64,
    q3: f64,
}

impl PortGraph {
    /// Counts the transitions of `trace` (in parallel) and builds the weighted graph.
    ///
    /// # Errors
    /// [`GraphError::Empty`] when the trace has no TCP or UDP packet.
    ///
    /// ```
    /// use darknet_core::{Packet, Trace};
    /// use darknet_graph::{PortGraph, PortKey};
    /// let p = |ts, port| Packet { ts_ns: ts, dst_port: port, ..Packet::default() };
    /// let g = PortGraph::from_trace(&Trace::from_packets([p(1, 22), p(2, 23), p(3, 22)])).unwrap();
    /// assert_eq!(g.n_ports(), 2);
    /// assert_eq!(g.theta(PortKey::tcp(22), PortKey::tcp(23)), 1);
    /// ```
    pub fn from_trace(trace: &Trace) -> Result<Self> {
        let sources = trace.by_source();
        Self::from_counts(&transitions::count_transitions(trace, &sources))
    }

    /// Builds the graph from counts: ports sorted by `(protocol, port)`, quartile weights over
    /// the θ of all edges (docs/paper-a.md#port-graph; see [`weights::quartile_weights`]).
    ///
    /// # Errors
    /// [`GraphError::Empty`] when no port was seen.
    pub fn from_counts(counts: &TransitionCounts) -> Result<Self> {
        let codes = counts.seen_codes();
        if codes.is_empty() {
            return Err(GraphError::Empty {
                what: "port graph: no TCP or UDP packet".into(),
            });
        }
        let mut index = vec![0u32; N_PORT_CODES];
        for (i, &c) in codes.iter().enumerate() {
            index[c as usize] = i as u32 + 1;
        }
        let ports: Vec<PortKey> = codes.iter().map(|&c| PortKey::from_code(c)).collect();
        let raw = counts.sorted_edges();
        let thetas: Vec<u64> = raw.iter().map(|e| e.2).collect();
        let (q1, q3, wp, w) = weights::quartile_weights(&thetas);
        let mut edges = Vec::with_capacity(raw.len());
        let mut indptr = vec![0usize; ports.len() + 1];
        for (k, &(a, b, theta)) in raw.iter().enumerate() {
            let from = index[a as usize] - 1;
            let to = index[b as usize] - 1;
            indptr[from as usize + 1] += 1;
            edges.push(PortEdge {
                from,
                to,
                theta,
                w_prime: wp[k],
                w: w[k],
            });
        }
        for i in 0..ports.len() {
            indptr[i + 1] += indptr[i];
        }
        Ok(PortGraph {
            ports,
            index,
            edges,
            indptr,
            q1,
            q3,
        })
    }

    /// Number of port nodes.
    pub fn n_ports(&self) -> usize {
        self.ports.len()
    }

    /// Number of directed edges.
    pub fn n_edges(&self) -> usize {
        self.edges.len()
    }

    /// The ports, sorted by `(protocol, port)`; `ports()[i]` is node `i`. Shape (n_ports,).
    pub fn ports(&self) -> &[PortKey] {
        &self.ports
    }

    /// Node index of a port, if it is in the graph (O(1)).
    pub fn index_of(&self, key: PortKey) -> Option<usize> {
        let c = key.code()? as usize;
        match self.index[c] {
            0 => None,
            i => Some(i as usize - 1),
        }
    }

    /// The edges sorted by `(from, to)`. Shape (n_edges,).
    pub fn edges(&self) -> &[PortEdge] {
        &self.edges
    }

    /// The out-edges of node `i`, sorted by destination.
    pub fn out_edges(&self, i: usize) -> &[PortEdge] {
        &self.edges[self.indptr[i]..self.indptr[i + 1]]
    }

    /// θ of an ordered port pair (0 when there is no such edge).
    pub fn theta(&self, from: PortKey, to: PortKey) -> u64 {
        self.edge(from, to).map_or(0, |e| e.theta)
    }

    /// The edge between two ports, if present (binary search in `from`'s out-edges).
    pub fn edge(&self, from: PortKey, to: PortKey) -> Option<&PortEdge> {
        let (a, b) = (self.index_of(from)?, self.index_of(to)? as u32);
        let out = self.out_edges(a);
        out.binary_search_by_key(&b, |e| e.to).ok().map(|k| &out[k])
    }

    /// First quartile Q1 of the θ distribution (NaN when there is no edge).
    pub fn q1(&self) -> f64 {
        self.q1
    }

    /// Third quartile Q3 of the θ distribution (NaN when there is no edge).
    pub fn q3(&self) -> f64 {
        self.q3
    }

    /// Out-degree plus in-degree of every node (number of distinct neighbours counted per
    /// direction). Shape (n_ports,).
    pub fn degrees(&self) -> Vec<usize> {
        let mut d = vec![0usize; self.n_ports()];
        for e in &self.edges {
            d[e.from as usize] += 1;
            d[e.to as usize] += 1;
        }
        d
    }

    /// The graph as a CSR matrix of shape (n_ports, n_ports): entry `(i, j)` = the chosen value
    /// of edge `i → j`. Explicit zeros are kept (ω is 0 on the most frequent edges), so the
    /// sparsity pattern is exactly the edge set.
    pub fn to_csr(&self, value: EdgeValue) -> CsMat<f64> {
        let n = self.n_ports();
        let indices: Vec<usize> = self.edges.iter().map(|e| e.to as usize).collect();
        let data: Vec<f64> = self.edges.iter().map(|e| edge_value(e, value)).collect();
        CsMat::new((n, n), self.indptr.clone(), indices, data)
    }

    /// The graph as a petgraph `DiGraph`: node `i` (`NodeIndex::new(i)`) carries `ports()[i]`,
    /// every edge carries its [`PortEdge`] (use `|e| e.weight().w` as the cost for petgraph's
    /// algorithms).
    pub fn to_petgraph(&self) -> DiGraph<PortKey, PortEdge> {
        let mut g = DiGraph::with_capacity(self.n_ports(), self.n_edges());
        for &p in &self.ports {
            g.add_node(p);
        }
        for e in &self.edges {
            g.add_edge(
                NodeIndex::new(e.from as usize),
                NodeIndex::new(e.to as usize),
                *e,
            );
        }
        g
    }

    /// CSR pieces (indptr, destination indices, ω) of the reversed graph: row `j` lists the
    /// nodes `i` with an edge `i → j`. Used to run Dijkstra from a reference backwards, which
    /// gives every port's distance *to* the reference.
    pub(crate) fn reversed_csr(&self) -> (Vec<usize>, Vec<u32>, Vec<f64>) {
        let n = self.n_ports();
        let mut indptr = vec![0usize; n + 1];
        for e in &self.edges {
            indptr[e.to as usize + 1] += 1;
        }
        for i in 0..n {
            indptr[i + 1] += indptr[i];
        }
        let mut fill = indptr.clone();
        let mut idx = vec![0u32; self.edges.len()];
        let mut w = vec![0f64; self.edges.len()];
        for e in &self.edges {
            let k = fill[e.to as usize];
            idx[k] = e.from;
            w[k] = e.w;
            fill[e.to as usize] += 1;
        }
        (indptr, idx, w)
    }
}

fn edge_value(e: &PortEdge, value: EdgeValue) -> f64 {
    match value {
        EdgeValue::Theta => e.theta as f64,
        EdgeValue::WPrime => e.w_prime,
        EdgeValue::W => e.w,
    }
}
