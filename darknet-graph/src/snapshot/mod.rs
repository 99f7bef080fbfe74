//! Daily bipartite host–port snapshots of Paper B (docs/paper-b.md#daily-snapshots,
//! docs/choices.md: B1–B4, B9, B11).
//!
//! Per day (UTC shifted by `utc_offset_secs`), TCP packets only:
//! 1. keep the hosts with enough packets that day ([`HostThreshold`]; default ≥ 5, the paper's
//!    wording; `MoreThan(5)` reproduces the reference code, B1);
//! 2. rank destination ports by packets of the kept hosts (daily by default, or over the whole
//!    period) and keep the top K (default 2,500; ties broken by lower port number); every other
//!    port becomes the single node [`PortNode::Other`];
//! 3. edges host → port weighted by the number of packets ([`EdgeMode::Daily`], the paper's
//!    semantics) or, as the reference code does, only the pairs first seen that day weighted by
//!    their packets over the whole period ([`EdgeMode::FirstSeenTotal`], B2);
//! 4. the 37 node features of docs/paper-b.md#node-features for hosts ([`SNAPSHOT_HOST_FEATURES`])
//!    and ports ([`SNAPSHOT_PORT_FEATURES`]), each column divided by its maximum over that day's
//!    nodes of the same layer (0/0 → 0, B11). STATS use the sample std (n − 1), 0 for one value.
//!
//! Node identity is global across days (B3): ids `0..n_hosts` are the hosts of the whole period
//! in ascending address order, ids `n_hosts..n_hosts + n_ports` the ports in ascending order
//! with `Other` last. A [`Snapshot`] stores only its active nodes (local rows: active hosts by
//! ascending id, then active ports by ascending id) and their global ids, so per-day memory
//! follows the active hosts; [`SnapshotSet::global_features`] scatters into the global layout.

pub use darknet_core::stats::Moments;

mod corpus;
pub use corpus::{build_corpora, DayCorpus};

use crate::error::{GraphError, Result};
use crate::normalize::{normalize_row_undirected, EdgeDirections, NormalizedAdjacency};
use darknet_core::Trace;
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use sprs::{CsMat, TriMat};
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::net::Ipv4Addr;
use std::ops::Range;

/// Number of node features of a snapshot (both layers).
pub const SNAPSHOT_N_FEATURES: usize = 37;

macro_rules! stats5 {
    ($p:literal, $a:literal, $b:literal, $c:literal, $d:literal, $e:literal) => {
        [
            concat!($p, $a),
            concat!($p, $b),
            concat!($p, $c),
            concat!($p, $d),
            concat!($p, $e),
        ]
    };
}

const fn join<const A: usize, const B: usize, const C: usize>(
    a: [&'static str; A],
    b: [&'static str; B],
) -> [&'static str; C] {
    let mut out = [""; C];
    let mut i = 0;
    while i < A {
        out[i] = a[i];
        i += 1;
    }
    let mut j = 0;
    while j < B {
        out[A + j] = b[j];
        j += 1;
    }
    out
}

const PACKET_FIELDS: [&str; 25] = join::<15, 10, 25>(
    join::<10, 5, 15>(
        join::<5, 5, 10>(
            stats5!("pck_len_", "sum", "min", "max", "mean", "std"),
            stats5!("ttl_", "sum", "min", "max", "mean", "std"),
        ),
        stats5!("mss_", "sum", "min", "max", "mean", "std"),
    ),
    join::<5, 5, 10>(
        stats5!("window_", "sum", "min", "max", "mean", "std"),
        stats5!("tcp_ts_", "sum", "min", "max", "mean", "std"),
    ),
);

/// Names of the 37 host features in column order (docs/paper-b.md#node-features, the reference
/// code's order): distinct ports; per-port packet counts min, max, sum, mean, std; distinct
/// destination addresses; per-address packet counts min, max, sum, mean, std; then sum, min, max,
/// mean, std of packet length, TTL, MSS, TCP window and TCP timestamp.
pub const SNAPSHOT_HOST_FEATURES: [&str; 37] = join::<12, 25, 37>(
    join::<6, 6, 12>(
        join::<1, 5, 6>(
            ["n_ports"],
            stats5!("pkts_per_port_", "min", "max", "sum", "mean", "std"),
        ),
        join::<1, 5, 6>(
            ["n_dst_addresses"],
            stats5!("pkts_per_address_", "min", "max", "sum", "mean", "std"),
        ),
    ),
    PACKET_FIELDS,
);

/// Names of the 37 port features in column order (docs/paper-b.md#node-features): distinct source
/// hosts; per-host packet counts min, max, sum, mean, std; six zero columns (alignment with the
/// host layout); then the same 25 packet-field statistics as hosts, over the port's packets.
pub const SNAPSHOT_PORT_FEATURES: [&str; 37] = join::<12, 25, 37>(
    join::<6, 6, 12>(
        join::<1, 5, 6>(
            ["n_src_hosts"],
            stats5!("pkts_per_host_", "min", "max", "sum", "mean", "std"),
        ),
        ["zero_0", "zero_1", "zero_2", "zero_3", "zero_4", "zero_5"],
    ),
    PACKET_FIELDS,
);

/// Which hosts a day keeps (B1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HostThreshold {
    /// Hosts with at least `n` TCP packets that day (paper: "fewer than 5 removed").
    AtLeast(u64),
    /// Hosts with strictly more than `n` TCP packets that day (reference code: `> 5`).
    MoreThan(u64),
}

impl HostThreshold {
    fn keeps(self, n: u64) -> bool {
        match self {
            HostThreshold::AtLeast(m) => n >= m,
            HostThreshold::MoreThan(m) => n > m,
        }
    }
}

/// How the top-K ports are ranked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum PortRanking {
    /// By packets of the day (docs/paper-b.md#top-k-ports), the default.
    #[default]
    Daily,
    /// By packets over the whole trace (kept hosts of each day), one port set for every day.
    WholePeriod,
}

/// Which edges a snapshot holds (B2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum EdgeMode {
    /// Every host–port pair of the day, weighted by the day's packets (paper), the default.
    #[default]
    Daily,
    /// Only the pairs first seen that day, weighted by their packets over the whole trace (the
    /// reference code's `aggregate_edges`).
    FirstSeenTotal,
}

/// Configuration of [`build_snapshots`].
///
/// Defaults: `host_threshold = AtLeast(5)`, `top_k_ports = 2500`, `port_ranking = Daily`,
/// `edge_mode = Daily`, `utc_offset_secs = 0`.
#[derive(Clone, Debug, PartialEq)]
pub struct SnapshotConfig {
    /// Which hosts a day keeps.
    pub host_threshold: HostThreshold,
    /// Number of ports kept as their own node (≥ 1); the rest map to `Other`.
    pub top_k_ports: usize,
    /// Daily or whole-period ranking.
    pub port_ranking: PortRanking,
    /// Daily or first-seen edges.
    pub edge_mode: EdgeMode,
    /// Offset added to UTC before cutting days, in seconds (|offset| ≤ 86,400).
    pub utc_offset_secs: i64,
}

impl Default for SnapshotConfig {
    fn default() -> Self {
        SnapshotConfig {
            host_threshold: HostThreshold::AtLeast(5),
            top_k_ports: 2500,
            port_ranking: PortRanking::Daily,
            edge_mode: EdgeMode::Daily,
            utc_offset_secs: 0,
        }
    }
}

impl SnapshotConfig {
    /// Sets the host threshold.
    pub fn host_threshold(mut self, t: HostThreshold) -> Self {
        self.host_threshold = t;
        self
    }
    /// Sets K.
    pub fn top_k_ports(mut self, k: usize) -> Self {
        self.top_k_ports = k;
        self
    }
    /// Sets the ranking.
    pub fn port_ranking(mut self, r: PortRanking) -> Self {
        self.port_ranking = r;
        self
    }
    /// Sets the edge mode.
    pub fn edge_mode(mut self, m: EdgeMode) -> Self {
        self.edge_mode = m;
        self
    }
    /// Sets the UTC offset.
    pub fn utc_offset_secs(mut self, s: i64) -> Self {
        self.utc_offset_secs = s;
        self
    }

    /// Checks the fields.
    ///
    /// # Errors
    /// [`GraphError::InvalidConfig`] for `top_k_ports == 0` or an offset beyond one day.
    pub fn validate(&self) -> Result<()> {
        if self.top_k_ports == 0 {
            return Err(GraphError::InvalidConfig {
                field: "top_k_ports",
                value: "0".into(),
                expected: "at least 1",
            });
        }
        if self.utc_offset_secs.abs() > 86_400 {
            return Err(GraphError::InvalidConfig {
                field: "utc_offset_secs",
                value: self.utc_offset_secs.to_string(),
                expected: "between -86400 and 86400",
            });
        }
        Ok(())
    }
}

/// A port-layer node: a destination TCP port or the "other" node standing for all ports beyond
/// the top K. Orders ports ascending, `Other` last.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PortNode {
    /// A TCP destination port.
    Port(u16),
    /// Every port outside the top K (the reference code's `oth`).
    Other,
}

impl PortNode {
    fn from_code(code: u32) -> Self {
        if code == OTHER {
            PortNode::Other
        } else {
            PortNode::Port(code as u16)
        }
    }
}

impl fmt::Display for PortNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortNode::Port(p) => write!(f, "{p}"),
            PortNode::Other => f.write_str("oth"),
        }
    }
}

const OTHER: u32 = 65_536;

/// One edge of a snapshot, in local rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SnapshotEdge {
    /// Local row of the host (`0..n_hosts`).
    pub host: u32,
    /// Local row of the port (`n_hosts..n_nodes`).
    pub port: u32,
    /// Packets (of the day, or of the whole period in `FirstSeenTotal` mode).
    pub packets: u64,
}

/// One day's bipartite graph over its active nodes.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// Day number (days since 1970-01-01 after the UTC offset).
    pub day: u32,
    /// Global node id of every local row: active hosts (ascending), then active ports
    /// (ascending). Shape (n_nodes,).
    pub node_ids: Vec<u32>,
    /// Number of active hosts (the first rows).
    pub n_hosts: usize,
    /// Edges host → port sorted by (host, port). Shape (n_edges,).
    pub edges: Vec<SnapshotEdge>,
    /// Scaled node features, [`SNAPSHOT_HOST_FEATURES`] for host rows and
    /// [`SNAPSHOT_PORT_FEATURES`] for port rows. Shape (n_nodes, 37).
    pub features: Array2<f32>,
}

impl Snapshot {
    /// Day number (days since 1970-01-01 after the UTC offset).
    pub fn day(&self) -> u32 {
        self.day
    }

    /// Global node id of every local row: active hosts (ascending), then active ports
    /// (ascending); strictly ascending overall. Shape (n_nodes,).
    pub fn node_ids(&self) -> &[u32] {
        &self.node_ids
    }

    /// Number of active hosts (the first rows).
    pub fn n_hosts(&self) -> usize {
        self.n_hosts
    }

    /// Edges host → port sorted by (host, port), in local rows. Shape (n_edges,).
    pub fn edges(&self) -> &[SnapshotEdge] {
        &self.edges
    }

    /// Scaled node features: [`SNAPSHOT_HOST_FEATURES`] for host rows,
    /// [`SNAPSHOT_PORT_FEATURES`] for port rows. Shape (n_nodes, 37).
    pub fn features(&self) -> ndarray::ArrayView2<'_, f32> {
        self.features.view()
    }

    /// Number of active nodes (hosts + ports).
    pub fn n_nodes(&self) -> usize {
        self.node_ids.len()
    }

    /// Number of active ports.
    pub fn n_ports(&self) -> usize {
        self.node_ids.len() - self.n_hosts
    }

    /// The day's bipartite graph as a petgraph `UnGraph`, for a user's own graph algorithms:
    /// node `i` (`NodeIndex::new(i)`) carries its global node id `node_ids()[i]` (hosts are the
    /// first [`Snapshot::n_hosts`] nodes, then ports), every host–port edge carries its packet
    /// count. The node features stay in [`Snapshot::features`], row `i` for node `i`.
    pub fn to_petgraph(&self) -> petgraph::graph::UnGraph<u32, u64> {
        let mut g = petgraph::graph::UnGraph::with_capacity(self.n_nodes(), self.edges.len());
        for &id in &self.node_ids {
            g.add_node(id);
        }
        for e in &self.edges {
            g.add_edge(
                petgraph::graph::NodeIndex::new(e.host as usize),
                petgraph::graph::NodeIndex::new(e.port as usize),
                e.packets,
            );
        }
        g
    }

    /// The one-directional weighted adjacency (host row → port row, weight = packets), CSR of
    /// shape (n_nodes, n_nodes). Feed it to [`normalize_row_undirected`] with
    /// [`EdgeDirections::OneWay`], which adds the reverse direction.
    pub fn adjacency(&self) -> CsMat<f32> {
        let n = self.n_nodes();
        let mut tri = TriMat::with_capacity((n, n), self.edges.len());
        // Edges outside the node range (only possible after editing the public fields) are
        // skipped rather than panicking.
        for e in self
            .edges
            .iter()
            .filter(|e| (e.host as usize) < n && (e.port as usize) < n)
        {
            tri.add_triplet(e.host as usize, e.port as usize, e.packets as f32);
        }
        tri.to_csr()
    }

    /// Paper B's normalized adjacency `D^-1 (A + Aᵀ + I)` with its transpose (B4).
    pub fn normalized_adjacency(&self) -> NormalizedAdjacency {
        // The adjacency is square and has finite non-negative weights by construction.
        normalize_row_undirected(&self.adjacency(), EdgeDirections::OneWay).unwrap_or_else(|_| {
            NormalizedAdjacency {
                matrix: CsMat::eye(self.n_nodes()),
                transpose: CsMat::eye(self.n_nodes()),
            }
        })
    }

    /// Positive pairs `(host row, port row)`, one per edge, in edge order. Shape (n_edges,).
    pub fn positive_edges(&self) -> Vec<(u32, u32)> {
        self.edges.iter().map(|e| (e.host, e.port)).collect()
    }

    /// Seeded negative sampling (B9): `ratio × n_edges` distinct `(host row, port row)` pairs
    /// drawn uniformly from the hosts × ports having an edge in this snapshot, none of them an
    /// edge. Capped at the number of such non-edges (fewer are returned when the bipartite graph
    /// is nearly complete). Same seed, same pairs. Shape (n_negatives,).
    ///
    /// # Errors
    /// [`GraphError::InvalidConfig`] for a negative or non-finite ratio.
    pub fn sample_negatives(&self, ratio: f64, seed: u64) -> Result<Vec<(u32, u32)>> {
        if !(ratio.is_finite() && ratio >= 0.0) {
            return Err(GraphError::InvalidConfig {
                field: "negative_ratio",
                value: ratio.to_string(),
                expected: "a finite number >= 0",
            });
        }
        let mut hosts: Vec<u32> = self.edges.iter().map(|e| e.host).collect();
        hosts.sort_unstable();
        hosts.dedup();
        let mut ports: Vec<u32> = self.edges.iter().map(|e| e.port).collect();
        ports.sort_unstable();
        ports.dedup();
        let total = hosts.len() as u64 * ports.len() as u64;
        let positives: HashSet<(u32, u32)> = self.positive_edges().into_iter().collect();
        let available = total - positives.len() as u64;
        let want = ((self.edges.len() as f64 * ratio).round() as u64).min(available);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut out = Vec::with_capacity(want as usize);
        if want == 0 {
            return Ok(out);
        }
        if want * 2 > available {
            // Dense case: enumerate the non-edges and draw without replacement.
            let mut all = Vec::with_capacity(available as usize);
            for &h in &hosts {
                for &p in &ports {
                    if !positives.contains(&(h, p)) {
                        all.push((h, p));
                    }
                }
            }
            for k in rand::seq::index::sample(&mut rng, all.len(), want as usize) {
                out.push(all[k]);
            }
        } else {
            let mut chosen = HashSet::with_capacity(want as usize);
            while (out.len() as u64) < want {
                let pair = (
                    hosts[rng.random_range(0..hosts.len())],
                    ports[rng.random_range(0..ports.len())],
                );
                if !positives.contains(&pair) && chosen.insert(pair) {
                    out.push(pair);
                }
            }
        }
        Ok(out)
    }
}

/// The snapshots of a trace with their global node universe.
#[derive(Clone, Debug, PartialEq)]
pub struct SnapshotSet {
    /// Global hosts: host id `i` is `hosts[i]`, ascending addresses. Shape (n_hosts,).
    pub hosts: Vec<Ipv4Addr>,
    /// Global ports: port id `n_hosts + j` is `ports[j]`, ascending, `Other` last.
    /// Shape (n_ports,).
    pub ports: Vec<PortNode>,
    /// One snapshot per day with traffic left after filtering, ascending days.
    pub snapshots: Vec<Snapshot>,
}

impl SnapshotSet {
    /// Global hosts: host id `i` is `hosts()[i]`, ascending addresses. Shape (n_hosts,).
    pub fn hosts(&self) -> &[Ipv4Addr] {
        &self.hosts
    }

    /// Global ports: port id `n_hosts + j` is `ports()[j]`, ascending, `Other` last.
    /// Shape (n_ports,).
    pub fn ports(&self) -> &[PortNode] {
        &self.ports
    }

    /// One snapshot per day with traffic left after filtering, ascending days.
    pub fn snapshots(&self) -> &[Snapshot] {
        &self.snapshots
    }

    /// Number of global nodes N = n_hosts + n_ports.
    pub fn n_nodes(&self) -> usize {
        self.hosts.len() + self.ports.len()
    }

    /// Number of global hosts.
    pub fn n_hosts(&self) -> usize {
        self.hosts.len()
    }

    /// What a global id stands for: `Ok(host)` or `Err(port)`; `None` past the end.
    pub fn node(&self, id: u32) -> Option<std::result::Result<Ipv4Addr, PortNode>> {
        let id = id as usize;
        if id < self.hosts.len() {
            Some(Ok(self.hosts[id]))
        } else {
            self.ports.get(id - self.hosts.len()).map(|&p| Err(p))
        }
    }

    /// Snapshot `t`'s features scattered into the global layout (inactive nodes all 0), as the
    /// reference code's `features_DATE.csv`. Shape (n_nodes, 37).
    pub fn global_features(&self, t: usize) -> Array2<f32> {
        let mut out = Array2::zeros((self.n_nodes(), SNAPSHOT_N_FEATURES));
        if let Some(s) = self.snapshots.get(t) {
            let n = self.n_nodes();
            for (r, &id) in s.node_ids.iter().enumerate() {
                if (id as usize) < n && r < s.features.nrows() {
                    out.row_mut(id as usize).assign(&s.features.row(r));
                }
            }
        }
        out
    }
}

/// One day's raw result, in addresses and port codes (before global ids).
struct DayRaw {
    day: u32,
    hosts: Vec<u32>,
    host_feats: Vec<[f64; SNAPSHOT_N_FEATURES]>,
    ports: Vec<u32>,
    port_feats: Vec<[f64; SNAPSHOT_N_FEATURES]>,
    edges: Vec<(u32, u32, u64)>,
}

/// TCP packets of a day range grouped by source (time order kept), with the kept sources.
fn kept_hosts(
    trace: &Trace,
    range: Range<usize>,
    th: HostThreshold,
) -> (Vec<u32>, Vec<(u32, Range<usize>)>) {
    let proto = trace.proto();
    let src = trace.src();
    // Sort (source, index) pairs: contiguous per source, time order kept inside (indices
    // ascend), and no per-comparison gathers from the trace.
    let mut keys: Vec<u64> = range
        .filter(|&i| proto[i] == 6)
        .map(|i| (u64::from(src[i]) << 32) | i as u64)
        .collect();
    keys.sort_unstable();
    let idx: Vec<u32> = keys.iter().map(|&k| k as u32).collect();
    let mut groups = Vec::new();
    let mut k = 0;
    while k < keys.len() {
        let s = (keys[k] >> 32) as u32;
        let mut e = k + 1;
        while e < keys.len() && (keys[e] >> 32) as u32 == s {
            e += 1;
        }
        if th.keeps((e - k) as u64) {
            groups.push((s, k..e));
        }
        k = e;
    }
    (idx, groups)
}

fn port_counts(trace: &Trace, idx: &[u32], groups: &[(u32, Range<usize>)]) -> Vec<u64> {
    let port = trace.dst_port();
    let mut c = vec![0u64; 65_536];
    for (_, r) in groups {
        for &i in &idx[r.clone()] {
            c[port[i as usize] as usize] += 1;
        }
    }
    c
}

fn top_ports(counts: &[u64], k: usize) -> Vec<bool> {
    let mut ps: Vec<u16> = (0..=u16::MAX).filter(|&p| counts[p as usize] > 0).collect();
    ps.sort_by(|&a, &b| counts[b as usize].cmp(&counts[a as usize]).then(a.cmp(&b)));
    let mut top = vec![false; 65_536];
    for &p in ps.iter().take(k) {
        top[p as usize] = true;
    }
    top
}

fn stats5(s: &Moments, order_sum_first: bool) -> [f64; 5] {
    if order_sum_first {
        [s.sum(), s.min(), s.max(), s.mean(), s.std()]
    } else {
        [s.min(), s.max(), s.sum(), s.mean(), s.std()]
    }
}

#[derive(Clone, Default)]
struct PortAcc {
    per_host: Moments,
    fields: [Moments; 5],
}

fn build_day(
    trace: &Trace,
    day: u32,
    idx: &[u32],
    groups: &[(u32, Range<usize>)],
    top: &[bool],
) -> DayRaw {
    let (dport, dst) = (trace.dst_port(), trace.dst());
    let (len, ttl, mss, win, ts) = (
        trace.ip_len(),
        trace.ttl(),
        trace.mss(),
        trace.tcp_window(),
        trace.tsval(),
    );
    let map = |p: u16| if top[p as usize] { u32::from(p) } else { OTHER };
    let mut slot = vec![u32::MAX; 65_537];
    let mut accs: Vec<PortAcc> = Vec::new();
    let mut codes: Vec<u32> = Vec::new();
    let mut hosts = Vec::with_capacity(groups.len());
    let mut host_feats = Vec::with_capacity(groups.len());
    let mut edges = Vec::new();
    let mut scratch: Vec<u32> = Vec::new();
    let mut lite: Vec<([u32; 5], u32, u32)> = Vec::new();
    for (h, (addr, r)) in groups.iter().enumerate() {
        // Gather the host's columns first in a dependency-free loop (its packets are spread
        // over the day, so every load is a cache miss; issued together they overlap).
        lite.clear();
        lite.extend(idx[r.clone()].iter().map(|&i| {
            let i = i as usize;
            (
                [
                    u32::from(len[i]),
                    u32::from(ttl[i]),
                    u32::from(mss[i]),
                    u32::from(win[i]),
                    ts[i],
                ],
                map(dport[i]),
                dst[i],
            )
        }));
        hosts.push(*addr);
        let mut f = [0f64; SNAPSHOT_N_FEATURES];
        // Per-port counts (mapped ports), edges, port per-host stats.
        scratch.clear();
        scratch.extend(lite.iter().map(|l| l.1));
        scratch.sort_unstable();
        let mut per_port = Moments::default();
        let mut k = 0;
        while k < scratch.len() {
            let c = scratch[k];
            let mut e = k + 1;
            while e < scratch.len() && scratch[e] == c {
                e += 1;
            }
            let n = (e - k) as u64;
            per_port.push(n as f64);
            if slot[c as usize] == u32::MAX {
                slot[c as usize] = accs.len() as u32;
                accs.push(PortAcc::default());
                codes.push(c);
            }
            let s = slot[c as usize];
            accs[s as usize].per_host.push(n as f64);
            edges.push((h as u32, s, n));
            k = e;
        }
        f[0] = per_port.count() as f64;
        f[1..6].copy_from_slice(&stats5(&per_port, false));
        // Per-address counts.
        scratch.clear();
        scratch.extend(lite.iter().map(|l| l.2));
        scratch.sort_unstable();
        let mut per_addr = Moments::default();
        let mut k = 0;
        while k < scratch.len() {
            let mut e = k + 1;
            while e < scratch.len() && scratch[e] == scratch[k] {
                e += 1;
            }
            per_addr.push((e - k) as f64);
            k = e;
        }
        f[6] = per_addr.count() as f64;
        f[7..12].copy_from_slice(&stats5(&per_addr, false));
        // Packet fields, for the host and for the packet's port.
        let mut hf = [Moments::default(); 5];
        for (fields, code, _) in &lite {
            let acc = &mut accs[slot[*code as usize] as usize];
            for (q, &v) in fields.iter().enumerate() {
                let v = f64::from(v);
                hf[q].push(v);
                acc.fields[q].push(v);
            }
        }
        for (q, s) in hf.iter().enumerate() {
            f[12 + 5 * q..17 + 5 * q].copy_from_slice(&stats5(s, true));
        }
        host_feats.push(f);
    }
    // Ports in ascending code order; remap edges.
    let mut order: Vec<u32> = (0..codes.len() as u32).collect();
    order.sort_by_key(|&s| codes[s as usize]);
    let mut pos = vec![0u32; codes.len()];
    for (p, &s) in order.iter().enumerate() {
        pos[s as usize] = p as u32;
    }
    let ports: Vec<u32> = order.iter().map(|&s| codes[s as usize]).collect();
    let port_feats = order
        .iter()
        .map(|&s| {
            let a = &accs[s as usize];
            let mut f = [0f64; SNAPSHOT_N_FEATURES];
            f[0] = a.per_host.count() as f64;
            f[1..6].copy_from_slice(&stats5(&a.per_host, false));
            for (q, st) in a.fields.iter().enumerate() {
                f[12 + 5 * q..17 + 5 * q].copy_from_slice(&stats5(st, true));
            }
            f
        })
        .collect();
    for e in &mut edges {
        e.1 = pos[e.1 as usize];
    }
    edges.sort_unstable();
    DayRaw {
        day,
        hosts,
        host_feats,
        ports,
        port_feats,
        edges,
    }
}

/// Divides each column by its maximum over the rows (0/0 → 0), into f32 rows of `out`.
fn scale_into(rows: &[[f64; SNAPSHOT_N_FEATURES]], out: &mut Array2<f32>, first_row: usize) {
    let mut max = [0f64; SNAPSHOT_N_FEATURES];
    for r in rows {
        for (m, &v) in max.iter_mut().zip(r) {
            *m = m.max(v);
        }
    }
    for (k, r) in rows.iter().enumerate() {
        for c in 0..SNAPSHOT_N_FEATURES {
            let v = if max[c] > 0.0 { r[c] / max[c] } else { 0.0 };
            out[[first_row + k, c]] = v as f32;
        }
    }
}

/// Builds the daily snapshots of `trace` (docs/paper-b.md#daily-snapshots), days in parallel.
///
/// Returns every day with at least one kept host, ascending, with global node ids (module doc).
///
/// # Errors
/// [`GraphError::InvalidConfig`] for a bad config; [`GraphError::Empty`] when no day keeps any
/// host (empty trace, no TCP, or every host below the threshold).
///
/// Complexity: O(n log n) per day for the grouping, O(n) for features.
pub fn build_snapshots(trace: &Trace, config: &SnapshotConfig) -> Result<SnapshotSet> {
    assemble(raw_days(trace, config)?, config.edge_mode)
}

/// The days' raw results of `trace`, ascending days with at least one kept host.
fn raw_days(trace: &Trace, config: &SnapshotConfig) -> Result<Vec<DayRaw>> {
    config.validate()?;
    let days = trace.days(config.utc_offset_secs);
    let global_top = if config.port_ranking == PortRanking::WholePeriod {
        let counts = days
            .par_iter()
            .map(|(_, r)| {
                let (idx, groups) = kept_hosts(trace, r.clone(), config.host_threshold);
                port_counts(trace, &idx, &groups)
            })
            .reduce(
                || vec![0u64; 65_536],
                |mut a, b| {
                    a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
                    a
                },
            );
        Some(top_ports(&counts, config.top_k_ports))
    } else {
        None
    };
    Ok(days
        .par_iter()
        .filter_map(|(day, r)| {
            let (idx, groups) = kept_hosts(trace, r.clone(), config.host_threshold);
            if groups.is_empty() {
                return None;
            }
            let daily;
            let top = match &global_top {
                Some(t) => t,
                None => {
                    daily = top_ports(&port_counts(trace, &idx, &groups), config.top_k_ports);
                    &daily
                }
            };
            Some(build_day(trace, *day, &idx, &groups, top))
        })
        .collect())
}

/// The raw daily results of [`build_snapshots`] before global ids and scaling: per day with at
/// least one kept host, its hosts and port nodes with unscaled features and its daily edges
/// (packets of the day, whatever the edge mode). These are the numbers an SQL engine's Paper B
/// aggregates hold; [`SnapshotSet::from_days`] of them equals [`build_snapshots`].
///
/// # Errors
/// [`GraphError::InvalidConfig`] for a bad config.
pub fn build_raw_days(trace: &Trace, config: &SnapshotConfig) -> Result<Vec<RawSnapshotDay>> {
    Ok(raw_days(trace, config)?
        .into_iter()
        .map(|d| RawSnapshotDay {
            day: d.day,
            hosts: d.hosts.iter().map(|&a| Ipv4Addr::from(a)).collect(),
            host_features: d.host_feats,
            ports: d.ports.iter().map(|&c| PortNode::from_code(c)).collect(),
            port_features: d.port_feats,
            edges: d.edges,
        })
        .collect())
}

/// One day of snapshots as computed elsewhere (an SQL engine's aggregates, say): the day's kept
/// hosts and port nodes with their raw (unscaled) features, and the day's edges.
/// [`SnapshotSet::from_days`] turns a list of them into the snapshots [`build_snapshots`] gives
/// for the packets they summarise.
#[derive(Clone, Debug, PartialEq)]
pub struct RawSnapshotDay {
    /// Day number (days since 1970-01-01 after the UTC offset).
    pub day: u32,
    /// Kept hosts, strictly ascending. Shape (n_hosts,).
    pub hosts: Vec<Ipv4Addr>,
    /// Raw features of each host, [`SNAPSHOT_HOST_FEATURES`] order. Shape (n_hosts, 37).
    pub host_features: Vec<[f64; SNAPSHOT_N_FEATURES]>,
    /// Port nodes, strictly ascending ([`PortNode::Other`] last). Shape (n_ports,).
    pub ports: Vec<PortNode>,
    /// Raw features of each port node, [`SNAPSHOT_PORT_FEATURES`] order. Shape (n_ports, 37).
    pub port_features: Vec<[f64; SNAPSHOT_N_FEATURES]>,
    /// `(host row, port row, packets)` of the day: rows index `hosts` and `ports`, each pair
    /// once. Shape (n_edges,).
    pub edges: Vec<(u32, u32, u64)>,
}

impl SnapshotSet {
    /// The snapshots of days computed elsewhere (see [`RawSnapshotDay`]): global node ids,
    /// scaled features and edges exactly as [`build_snapshots`] makes them from the same days,
    /// with `edge_mode` applied across the days (the other settings are the days' own).
    ///
    /// # Errors
    /// [`GraphError::Empty`] without a day; [`GraphError::InvalidTable`] for days out of order,
    /// a day without hosts, hosts or ports not strictly ascending, feature rows not one per
    /// node, a non-finite feature, or an edge past the day's nodes or repeated.
    pub fn from_days(days: Vec<RawSnapshotDay>, edge_mode: EdgeMode) -> Result<SnapshotSet> {
        let bad = |row: usize, reason: String| GraphError::InvalidTable {
            what: "snapshot days",
            row,
            reason,
        };
        let mut raws = Vec::with_capacity(days.len());
        for (row, d) in days.into_iter().enumerate() {
            let day = d.day;
            if let Some(prev) = raws.last().map(|r: &DayRaw| r.day) {
                if prev >= day {
                    return Err(bad(row, format!("day {day} after day {prev}")));
                }
            }
            if d.hosts.is_empty() {
                return Err(bad(row, format!("day {day} has no host")));
            }
            if !d.hosts.windows(2).all(|w| w[0] < w[1]) || !d.ports.windows(2).all(|w| w[0] < w[1])
            {
                return Err(bad(
                    row,
                    format!("day {day}: hosts and ports must be strictly ascending"),
                ));
            }
            if d.host_features.len() != d.hosts.len() || d.port_features.len() != d.ports.len() {
                return Err(bad(
                    row,
                    format!(
                        "day {day}: {} host and {} port feature rows for {} hosts and {} ports",
                        d.host_features.len(),
                        d.port_features.len(),
                        d.hosts.len(),
                        d.ports.len()
                    ),
                ));
            }
            if let Some(v) = d
                .host_features
                .iter()
                .chain(&d.port_features)
                .flatten()
                .find(|v| !v.is_finite())
            {
                return Err(bad(row, format!("day {day}: feature value {v}")));
            }
            let (nh, np) = (d.hosts.len() as u32, d.ports.len() as u32);
            let mut edges = d.edges;
            edges.sort_unstable();
            if let Some(e) = edges.iter().find(|e| e.0 >= nh || e.1 >= np) {
                return Err(bad(
                    row,
                    format!(
                        "day {day}: edge ({}, {}) past {nh} hosts and {np} ports",
                        e.0, e.1
                    ),
                ));
            }
            if let Some(w) = edges
                .windows(2)
                .find(|w| (w[0].0, w[0].1) == (w[1].0, w[1].1))
            {
                return Err(bad(
                    row,
                    format!("day {day}: edge ({}, {}) repeated", w[1].0, w[1].1),
                ));
            }
            raws.push(DayRaw {
                day,
                hosts: d.hosts.iter().map(|&a| u32::from(a)).collect(),
                host_feats: d.host_features,
                ports: d
                    .ports
                    .iter()
                    .map(|p| match p {
                        PortNode::Port(p) => u32::from(*p),
                        PortNode::Other => OTHER,
                    })
                    .collect(),
                port_feats: d.port_features,
                edges,
            });
        }
        assemble(raws, edge_mode)
    }
}

/// Global ids, scaled features and edges of the days' raw results (ascending days).
fn assemble(raws: Vec<DayRaw>, edge_mode: EdgeMode) -> Result<SnapshotSet> {
    if raws.is_empty() {
        return Err(GraphError::Empty {
            what: "snapshots: no day keeps any TCP host".into(),
        });
    }
    let mut host_addrs: Vec<u32> = raws.iter().flat_map(|d| d.hosts.iter().copied()).collect();
    host_addrs.sort_unstable();
    host_addrs.dedup();
    let mut port_codes: Vec<u32> = raws.iter().flat_map(|d| d.ports.iter().copied()).collect();
    port_codes.sort_unstable();
    port_codes.dedup();
    let n_hosts = host_addrs.len() as u32;
    let host_id = |a: u32| host_addrs.binary_search(&a).map_or(0, |p| p as u32);
    let port_id = |c: u32| n_hosts + port_codes.binary_search(&c).map_or(0, |p| p as u32);

    // FirstSeenTotal: (addr, code) -> (first day index, total packets).
    let first_seen: Option<BTreeMap<(u32, u32), (usize, u64)>> =
        (edge_mode == EdgeMode::FirstSeenTotal).then(|| {
            let mut m = BTreeMap::new();
            for (t, d) in raws.iter().enumerate() {
                for &(h, p, n) in &d.edges {
                    let e = m
                        .entry((d.hosts[h as usize], d.ports[p as usize]))
                        .or_insert((t, 0));
                    e.1 += n;
                }
            }
            m
        });

    let snapshots = raws
        .par_iter()
        .enumerate()
        .map(|(t, d)| {
            let nh = d.hosts.len();
            let mut node_ids: Vec<u32> = d.hosts.iter().map(|&a| host_id(a)).collect();
            node_ids.extend(d.ports.iter().map(|&c| port_id(c)));
            let mut features = Array2::zeros((node_ids.len(), SNAPSHOT_N_FEATURES));
            scale_into(&d.host_feats, &mut features, 0);
            scale_into(&d.port_feats, &mut features, nh);
            let edges = match &first_seen {
                None => d
                    .edges
                    .iter()
                    .map(|&(h, p, n)| SnapshotEdge {
                        host: h,
                        port: nh as u32 + p,
                        packets: n,
                    })
                    .collect(),
                Some(m) => d
                    .edges
                    .iter()
                    .filter_map(|&(h, p, _)| {
                        let (first, total) = m[&(d.hosts[h as usize], d.ports[p as usize])];
                        (first == t).then_some(SnapshotEdge {
                            host: h,
                            port: nh as u32 + p,
                            packets: total,
                        })
                    })
                    .collect(),
            };
            Snapshot {
                day: d.day,
                node_ids,
                n_hosts: nh,
                edges,
                features,
            }
        })
        .collect();
    Ok(SnapshotSet {
        hosts: host_addrs.iter().map(|&a| Ipv4Addr::from(a)).collect(),
        ports: port_codes.iter().map(|&c| PortNode::from_code(c)).collect(),
        snapshots,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use darknet_core::SynthConfig;

    #[test]
    fn from_days_equals_build_snapshots() {
        let trace = SynthConfig::paper_b()
            .hosts(150)
            .days(4)
            .intensity(0.5)
            .seed(3)
            .build()
            .unwrap()
            .trace();
        for (mode, ranking) in [
            (EdgeMode::Daily, PortRanking::Daily),
            (EdgeMode::FirstSeenTotal, PortRanking::WholePeriod),
        ] {
            let config = SnapshotConfig::default()
                .top_k_ports(8)
                .edge_mode(mode)
                .port_ranking(ranking);
            let want = build_snapshots(&trace, &config).unwrap();
            let days = build_raw_days(&trace, &config).unwrap();
            assert!(days.len() >= 3);
            assert!(days[0].ports.contains(&PortNode::Other));
            assert_eq!(SnapshotSet::from_days(days, mode).unwrap(), want);
        }
    }

    #[test]
    fn from_days_checks_the_days() {
        let day = |d: u32| RawSnapshotDay {
            day: d,
            hosts: vec![Ipv4Addr::new(192, 0, 2, 1)],
            host_features: vec![[1.0; SNAPSHOT_N_FEATURES]],
            ports: vec![PortNode::Port(22), PortNode::Other],
            port_features: vec![[1.0; SNAPSHOT_N_FEATURES]; 2],
            edges: vec![(0, 0, 3), (0, 1, 2)],
        };
        assert!(SnapshotSet::from_days(vec![day(1), day(2)], EdgeMode::Daily).is_ok());
        let e = SnapshotSet::from_days(vec![], EdgeMode::Daily).unwrap_err();
        assert!(matches!(e, GraphError::Empty { .. }));
        let mut bad_edge = day(1);
        bad_edge.edges.push((0, 2, 1));
        let mut repeated = day(1);
        repeated.edges.push((0, 1, 4));
        let mut unsorted = day(1);
        unsorted.ports.reverse();
        let mut short = day(1);
        short.port_features.pop();
        let mut nan = day(1);
        nan.host_features[0][3] = f64::NAN;
        for (days, what) in [
            (vec![day(2), day(1)], "after"),
            (vec![bad_edge], "past"),
            (vec![repeated], "repeated"),
            (vec![unsorted], "ascending"),
            (vec![short], "feature rows"),
            (vec![nan], "NaN"),
        ] {
            let e = SnapshotSet::from_days(days, EdgeMode::Daily).unwrap_err();
            assert!(matches!(e, GraphError::InvalidTable { .. }), "{e}");
            assert!(e.to_string().contains(what), "{what}: {e}");
        }
    }
}
