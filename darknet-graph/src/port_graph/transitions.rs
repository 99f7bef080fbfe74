//! Port-transition counting θ (docs/paper-a.md#port-graph, docs/choices.md#a4): mergeable per-shard
//! counters.

use super::PortKey;
use crate::error::{GraphError, Result};
use darknet_core::filter::stream::HostMap;
use darknet_core::{Packet, SourceIndex, Trace};
use rayon::prelude::*;
use std::borrow::Cow;

/// Number of distinct port codes: TCP ports 0..65535 then UDP ports 65536..131071.
pub(crate) const N_PORT_CODES: usize = 2 * 65_536;

/// Port code of a protocol number and port: `Some(port)` for TCP, `Some(65536 + port)` for UDP,
/// `None` for every other protocol (ICMP packets are skipped, docs/choices.md#a4).
#[inline]
pub(crate) fn port_code(proto: u8, port: u16) -> Option<u32> {
    match proto {
        6 => Some(u32::from(port)),
        17 => Some(65_536 + u32::from(port)),
        _ => None,
    }
}

/// Transition counts θ of a set of sources: how often destination port `p_j` directly followed
/// `p_i` in a source's packet sequence, plus the set of ports seen.
///
/// Semantics (docs/paper-a.md#port-graph and docs/choices.md#a4): each source's TCP and UDP
/// packets, in time order, form one sequence of `(protocol, destination port)` keys; ICMP (and
/// other non-port) packets are skipped; a key directly followed by a different key adds one to θ of
/// that ordered pair; a key followed by itself adds nothing (self transitions are ignored). Every
/// TCP/UDP destination port seen is a node even without edges.
///
/// Counting is **mergeable**: [`TransitionCounts::merge`] of counts over disjoint sets of
/// sources equals the counts over their union (shard by source, count in parallel, merge).
/// Shards that split one source's sequence (per day) merge to the same result except for the
/// transitions that cross the shard boundary, which are lost; shard by source for exact monthly
/// counts.
#[derive(Clone, Debug)]
pub struct TransitionCounts {
    /// Compacted counts: `(edge key, θ)` sorted by key, keys unique.
    sorted: Vec<(u64, u64)>,
    /// Edge keys not yet compacted (one per transition).
    pending: Vec<u64>,
    /// Radix-sort scratch, reused across compactions.
    scratch: Vec<u64>,
    /// Per-source gather buffer of port codes (`u32::MAX` = no port).
    gather: Vec<u32>,
    seen: Vec<u64>,
    n_packets: u64,
}

/// Pending keys are compacted once there are this many (or as many as compacted edges).
const MIN_FLUSH: usize = 1 << 20;

impl Default for TransitionCounts {
    fn default() -> Self {
        Self::new()
    }
}

impl PartialEq for TransitionCounts {
    fn eq(&self, other: &Self) -> bool {
        // Compares counts, not the buffering state.
        self.seen == other.seen && self.n_packets == other.n_packets && self.view() == other.view()
    }
}

/// Edge key of an ordered pair of port codes (17 bits each).
#[inline]
fn edge_key(from: u32, to: u32) -> u64 {
    (u64::from(from) << 17) | u64::from(to)
}

/// LSD radix sort of keys below 2^36 (three 12-bit passes); `buf` is scratch space.
fn radix_sort(keys: &mut Vec<u64>, buf: &mut Vec<u64>) {
    buf.clear();
    buf.resize(keys.len(), 0);
    for pass in 0..3 {
        let shift = 12 * pass;
        let mut hist = vec![0usize; 4097];
        for &k in keys.iter() {
            hist[((k >> shift) & 0xFFF) as usize + 1] += 1;
        }
        if hist.contains(&keys.len()) {
            continue; // every key has the same digit: nothing to reorder
        }
        for b in 0..4096 {
            hist[b + 1] += hist[b];
        }
        for &k in keys.iter() {
            let b = ((k >> shift) & 0xFFF) as usize;
            buf[hist[b]] = k;
            hist[b] += 1;
        }
        std::mem::swap(keys, buf);
    }
}

/// Merges two key-sorted count lists, adding counts of equal keys.
fn merge_sorted(a: &[(u64, u64)], b: &[(u64, u64)]) -> Vec<(u64, u64)> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => {
                out.push(a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push((a[i].0, a[i].1 + b[j].1));
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// Sorts keys (in place, `buf` = scratch) and run-length encodes them into a count list.
fn run_length(keys: &mut Vec<u64>, buf: &mut Vec<u64>) -> Vec<(u64, u64)> {
    radix_sort(keys, buf);
    let mut out: Vec<(u64, u64)> = Vec::new();
    for &k in keys.iter() {
        match out.last_mut() {
            Some(last) if last.0 == k => last.1 += 1,
            _ => out.push((k, 1)),
        }
    }
    out
}

impl TransitionCounts {
    /// Empty counts.
    pub fn new() -> Self {
        TransitionCounts {
            sorted: Vec::new(),
            pending: Vec::new(),
            scratch: Vec::new(),
            gather: Vec::new(),
            seen: vec![0; N_PORT_CODES / 64],
            n_packets: 0,
        }
    }

    /// Counts given as a table, such as the port-transition aggregates an SQL engine computed:
    /// `edges` are `(from_code, to_code, θ)` and `ports` are `(code, packets)` of every TCP/UDP
    /// destination port seen, with port codes as [`PortKey::code`] gives them (TCP port `p` is
    /// `p`, UDP port `p` is `65536 + p`). Row order does not matter. The result equals the
    /// counts of the packets the table summarises: [`Self::n_packets`] is the sum of the ports'
    /// packets.
    ///
    /// # Errors
    /// [`GraphError::InvalidTable`] for a code of 131,072 or more, a repeated port or edge, an
    /// edge from a port to itself, θ = 0, or an edge whose ports are not in `ports`.
    ///
    /// ```
    /// use darknet_graph::{PortKey, TransitionCounts};
    /// let c = TransitionCounts::from_table(&[(22, 23, 4)], &[(22, 5), (23, 4), (65_589, 1)]).unwrap();
    /// assert_eq!(c.theta(PortKey::tcp(22), PortKey::tcp(23)), 4);
    /// assert_eq!((c.n_ports(), c.n_edges(), c.n_packets()), (3, 1, 10));
    /// ```
    pub fn from_table(edges: &[(u32, u32, u64)], ports: &[(u32, u64)]) -> Result<Self> {
        let bad = |what, row, reason: String| GraphError::InvalidTable { what, row, reason };
        let mut c = Self::new();
        let limit = N_PORT_CODES as u32;
        for (row, &(code, packets)) in ports.iter().enumerate() {
            if code >= limit {
                return Err(bad(
                    "port nodes",
                    row,
                    format!("port code {code} is not below {limit}"),
                ));
            }
            let (w, bit) = ((code >> 6) as usize, 1u64 << (code & 63));
            if c.seen[w] & bit != 0 {
                return Err(bad("port nodes", row, format!("port code {code} repeated")));
            }
            c.seen[w] |= bit;
            c.n_packets += packets;
        }
        let mut keyed: Vec<(u64, u64, usize)> = Vec::with_capacity(edges.len());
        for (row, &(a, b, theta)) in edges.iter().enumerate() {
            let reason = if a >= limit || b >= limit {
                Some(format!("port code {} is not below {limit}", a.max(b)))
            } else if a == b {
                Some(format!("an edge from port code {a} to itself"))
            } else if theta == 0 {
                Some("θ = 0".to_string())
            } else if !c.is_seen(a) || !c.is_seen(b) {
                Some(format!(
                    "edge {a} -> {b} joins a port that is not a port node"
                ))
            } else {
                None
            };
            if let Some(reason) = reason {
                return Err(bad("port transitions", row, reason));
            }
            keyed.push((edge_key(a, b), theta, row));
        }
        keyed.sort_unstable();
        if let Some(k) = keyed.windows(2).position(|w| w[0].0 == w[1].0) {
            let (key, _, row) = keyed[k + 1];
            return Err(bad(
                "port transitions",
                row,
                format!("edge {} -> {} repeated", key >> 17, key & 0x1_FFFF),
            ));
        }
        c.sorted = keyed.into_iter().map(|(k, t, _)| (k, t)).collect();
        Ok(c)
    }

    fn is_seen(&self, code: u32) -> bool {
        self.seen[(code >> 6) as usize] & (1u64 << (code & 63)) != 0
    }

    /// Counts every source of `trace` (sequential). Equivalent to [`count_transitions`] with one
    /// thread.
    pub fn from_trace(trace: &Trace) -> Self {
        let index = trace.by_source();
        let mut c = Self::new();
        for k in 0..index.len() {
            c.add_source(trace, index.packets_of(k));
        }
        c.compact();
        c
    }

    #[inline]
    fn push_code(&mut self, prev: &mut Option<u32>, code: u32) {
        self.n_packets += 1;
        self.seen[(code >> 6) as usize] |= 1u64 << (code & 63);
        if let Some(p) = *prev {
            if p != code {
                self.pending.push(edge_key(p, code));
            }
        }
        *prev = Some(code);
    }

    fn maybe_flush(&mut self) {
        if self.pending.len() >= MIN_FLUSH.max(self.sorted.len()) {
            self.compact();
        }
    }

    /// Adds one source's packets: `packets` are indices into `trace`, in time order (as
    /// [`SourceIndex::packets_of`] gives them). Out-of-range indices are a caller bug and panic.
    ///
    /// Complexity: amortised O(len): transitions are buffered and compacted by radix sort.
    pub fn add_source(&mut self, trace: &Trace, packets: &[u32]) {
        let proto = trace.proto();
        let port = trace.dst_port();
        // Gather first (dependency-free loads that overlap their cache misses), then count.
        let mut gather = std::mem::take(&mut self.gather);
        gather.clear();
        gather.extend(packets.iter().map(|&i| {
            let i = i as usize;
            port_code(proto[i], port[i]).unwrap_or(u32::MAX)
        }));
        let mut prev: Option<u32> = None;
        for &code in &gather {
            if code != u32::MAX {
                self.push_code(&mut prev, code);
            }
        }
        self.gather = gather;
        self.maybe_flush();
    }

    /// Adds one source's sequence of port keys (in time order). Keys of protocols without ports
    /// are skipped, as ICMP packets are.
    pub fn add_sequence<I: IntoIterator<Item = PortKey>>(&mut self, keys: I) {
        let mut prev: Option<u32> = None;
        for key in keys {
            if let Some(code) = key.code() {
                self.push_code(&mut prev, code);
            }
        }
        self.maybe_flush();
    }

    /// Folds the buffered transitions into the sorted counts. Accessors work without it (they
    /// compact a temporary view), but are O(1) / O(log n) only on compacted counts; the
    /// counting functions of this crate return compacted counts.
    pub fn compact(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let fresh = run_length(&mut self.pending, &mut self.scratch);
        self.pending.clear();
        self.sorted = if self.sorted.is_empty() {
            fresh
        } else {
            merge_sorted(&self.sorted, &fresh)
        };
    }

    fn view(&self) -> Cow<'_, [(u64, u64)]> {
        if self.pending.is_empty() {
            Cow::Borrowed(&self.sorted)
        } else {
            let mut keys = self.pending.clone();
            let fresh = run_length(&mut keys, &mut Vec::new());
            Cow::Owned(merge_sorted(&self.sorted, &fresh))
        }
    }

    /// Adds `other`'s counts and ports to `self` (counts of disjoint source sets add up).
    pub fn merge(&mut self, other: &TransitionCounts) {
        self.compact();
        self.sorted = merge_sorted(&self.sorted, &other.view());
        for (a, b) in self.seen.iter_mut().zip(&other.seen) {
            *a |= *b;
        }
        self.n_packets += other.n_packets;
    }

    /// Merges two counts by value (for `reduce`).
    pub fn merged(mut self, other: TransitionCounts) -> TransitionCounts {
        self.merge(&other);
        self
    }

    /// Number of distinct directed edges (ordered port pairs with θ > 0).
    pub fn n_edges(&self) -> usize {
        self.view().len()
    }

    /// Number of distinct TCP/UDP destination ports seen.
    pub fn n_ports(&self) -> usize {
        self.seen.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Number of TCP/UDP packets counted.
    pub fn n_packets(&self) -> u64 {
        self.n_packets
    }

    /// θ of one ordered pair (0 when absent).
    pub fn theta(&self, from: PortKey, to: PortKey) -> u64 {
        match (from.code(), to.code()) {
            (Some(a), Some(b)) => {
                let v = self.view();
                let k = edge_key(a, b);
                v.binary_search_by_key(&k, |e| e.0).map_or(0, |i| v[i].1)
            }
            _ => 0,
        }
    }

    /// Port codes seen, ascending (TCP ports then UDP ports).
    pub(crate) fn seen_codes(&self) -> Vec<u32> {
        let mut out = Vec::with_capacity(self.n_ports());
        for (w, &word) in self.seen.iter().enumerate() {
            let mut bits = word;
            while bits != 0 {
                let b = bits.trailing_zeros();
                out.push((w as u32) * 64 + b);
                bits &= bits - 1;
            }
        }
        out
    }

    /// Edges as `(from_code, to_code, theta)`, sorted by `(from, to)`.
    pub(crate) fn sorted_edges(&self) -> Vec<(u32, u32, u64)> {
        self.view()
            .iter()
            .map(|&(k, t)| ((k >> 17) as u32, (k & 0x1_FFFF) as u32, t))
            .collect()
    }
}

/// Counts the transitions of every source of `trace` in parallel (rayon over chunks of
/// sources, one [`TransitionCounts`] per worker, merged at the end). The result does not depend
/// on the number of threads.
///
/// Arguments: `trace` and its source index (`trace.by_source()`).
///
/// Complexity: O(n_packets) (buffered transitions, radix-sorted per worker, merged sorted
/// lists), spread over the rayon pool.
pub fn count_transitions(trace: &Trace, sources: &SourceIndex) -> TransitionCounts {
    (0..sources.len())
        .into_par_iter()
        .with_min_len(1024)
        .fold(TransitionCounts::new, |mut c, k| {
            c.add_source(trace, sources.packets_of(k));
            c
        })
        .map(|mut c| {
            c.compact();
            c
        })
        .reduce(TransitionCounts::new, TransitionCounts::merged)
}

/// Transition counts of packets that arrive one at a time, each source's in time order but the
/// sources interleaved: the kept packets of darknet-core's streaming filters
/// ([`darknet_core::filter::KeptStream`]) or a capture read packet by packet. The last port
/// of every source is kept (8 bytes or so a source), so the counts equal [`count_transitions`]
/// over the same packets held as one trace, transitions across days included.
///
/// ```
/// use darknet_core::{SynthConfig, Trace};
/// use darknet_graph::{count_transitions, TransitionStream};
/// let trace = SynthConfig::paper_a().hosts(50).days(2).build()?.trace();
/// let mut stream = TransitionStream::new();
/// trace.iter().for_each(|p| stream.push(&p));
/// assert_eq!(stream.finish(), count_transitions(&trace, &trace.by_source()));
/// # Ok::<(), darknet_core::CoreError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct TransitionStream {
    counts: TransitionCounts,
    /// Each source's last port code.
    last: HostMap<u32>,
}

impl TransitionStream {
    /// Empty counts.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one packet (ICMP and other protocols without ports are skipped).
    ///
    /// Complexity: amortised O(1) (one map lookup; transitions buffered as in
    /// [`TransitionCounts`]).
    #[inline]
    pub fn push(&mut self, p: &Packet) {
        if let Some(code) = port_code(p.proto.number(), p.dst_port) {
            let slot = self.last.entry(u32::from(p.src)).or_insert(u32::MAX);
            let mut prev = (*slot != u32::MAX).then_some(*slot);
            self.counts.push_code(&mut prev, code);
            *slot = code;
            self.counts.maybe_flush();
        }
    }

    /// Sources seen with at least one TCP/UDP packet.
    pub fn n_sources(&self) -> usize {
        self.last.len()
    }

    /// The counts, compacted.
    pub fn finish(self) -> TransitionCounts {
        let mut c = self.counts;
        c.compact();
        c
    }
}
