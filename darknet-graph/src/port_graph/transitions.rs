//! Port-transition counting θ (SPEC §1.3, A4): mergeable per-shard counters.

use super::PortKey;
use darknet_core::{SourceIndex, Trace};
use rayon::prelude::*;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Number of distinct port codes: TCP ports 0..65535 then UDP ports 65536..131071.
pub(crate) const N_PORT_CODES: usize = 2 * 65_536;

/// A fast multiplicative hasher for the `u64` edge keys (no DoS concern: keys are port pairs).
#[derive(Clone, Copy, Default)]
pub(crate) struct U64Hasher(u64);

impl Hasher for U64Hasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    #[inline]
    fn write_u64(&mut self, x: u64) {
        let h = (self.0 ^ x).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 = h ^ (h >> 31);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

type EdgeMap = HashMap<u64, u64, BuildHasherDefault<U64Hasher>>;

/// Port code of a protocol number and port: `Some(port)` for TCP, `Some(65536 + port)` for UDP,
/// `None` for every other protocol (ICMP packets are skipped, SPEC A4).
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
/// Semantics (SPEC §1.3 and A4): each source's TCP and UDP packets, in time order, form one
/// sequence of `(protocol, destination port)` keys; ICMP (and other non-port) packets are skipped;
/// a key directly followed by a different key adds one to θ of that ordered pair; a key followed
/// by itself adds nothing (self transitions are ignored). Every TCP/UDP destination port seen is
/// a node even without edges.
///
/// Counting is **mergeable**: [`TransitionCounts::merge`] of counts over disjoint sets of
/// sources equals the counts over their union (shard by source, count in parallel, merge).
/// Shards that split one source's sequence (per day) merge to the same result except for the
/// transitions that cross the shard boundary, which are lost; shard by source for exact monthly
/// counts.
#[derive(Clone, Debug)]
pub struct TransitionCounts {
    edges: EdgeMap,
    seen: Vec<u64>,
    n_packets: u64,
}

impl Default for TransitionCounts {
    fn default() -> Self {
        Self::new()
    }
}

impl PartialEq for TransitionCounts {
    fn eq(&self, other: &Self) -> bool {
        self.edges == other.edges && self.seen == other.seen && self.n_packets == other.n_packets
    }
}

impl TransitionCounts {
    /// Empty counts.
    pub fn new() -> Self {
        TransitionCounts {
            edges: EdgeMap::default(),
            seen: vec![0; N_PORT_CODES / 64],
            n_packets: 0,
        }
    }

    /// Counts every source of `trace` (sequential). Equivalent to [`count_transitions`] with one
    /// thread.
    pub fn from_trace(trace: &Trace) -> Self {
        let index = trace.by_source();
        let mut c = Self::new();
        for k in 0..index.len() {
            c.add_source(trace, index.packets_of(k));
        }
        c
    }

    /// Adds one source's packets: `packets` are indices into `trace`, in time order (as
    /// [`SourceIndex::packets_of`] gives them). Out-of-range indices are a caller bug and panic.
    ///
    /// Complexity: O(len) hash-map updates.
    pub fn add_source(&mut self, trace: &Trace, packets: &[u32]) {
        let proto = trace.proto();
        let port = trace.dst_port();
        let mut prev: Option<u32> = None;
        for &i in packets {
            let i = i as usize;
            let Some(code) = port_code(proto[i], port[i]) else {
                continue;
            };
            self.n_packets += 1;
            self.seen[(code >> 6) as usize] |= 1u64 << (code & 63);
            if let Some(p) = prev {
                if p != code {
                    *self
                        .edges
                        .entry((u64::from(p) << 17) | u64::from(code))
                        .or_insert(0) += 1;
                }
            }
            prev = Some(code);
        }
    }

    /// Adds one source's sequence of port keys (in time order). Keys of protocols without ports
    /// are skipped, as ICMP packets are.
    pub fn add_sequence<I: IntoIterator<Item = PortKey>>(&mut self, keys: I) {
        let mut prev: Option<u32> = None;
        for key in keys {
            let Some(code) = key.code() else { continue };
            self.n_packets += 1;
            self.seen[(code >> 6) as usize] |= 1u64 << (code & 63);
            if let Some(p) = prev {
                if p != code {
                    *self
                        .edges
                        .entry((u64::from(p) << 17) | u64::from(code))
                        .or_insert(0) += 1;
                }
            }
            prev = Some(code);
        }
    }

    /// Adds `other`'s counts and ports to `self` (counts of disjoint source sets add up).
    pub fn merge(&mut self, other: &TransitionCounts) {
        for (k, v) in &other.edges {
            *self.edges.entry(*k).or_insert(0) += *v;
        }
        for (a, b) in self.seen.iter_mut().zip(&other.seen) {
            *a |= *b;
        }
        self.n_packets += other.n_packets;
    }

    /// Merges two counts by value (for `reduce`).
    pub fn merged(mut self, other: TransitionCounts) -> TransitionCounts {
        if self.edges.len() < other.edges.len() {
            let mut o = other;
            o.merge(&self);
            return o;
        }
        self.merge(&other);
        self
    }

    /// Number of distinct directed edges (ordered port pairs with θ > 0).
    pub fn n_edges(&self) -> usize {
        self.edges.len()
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
            (Some(a), Some(b)) => self
                .edges
                .get(&((u64::from(a) << 17) | u64::from(b)))
                .copied()
                .unwrap_or(0),
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
        let mut v: Vec<(u32, u32, u64)> = self
            .edges
            .iter()
            .map(|(&k, &t)| ((k >> 17) as u32, (k & 0x1_FFFF) as u32, t))
            .collect();
        v.sort_unstable();
        v
    }
}

/// Counts the transitions of every source of `trace` in parallel (rayon over chunks of
/// sources, one [`TransitionCounts`] per worker, merged at the end). The result does not depend
/// on the number of threads.
///
/// Arguments: `trace` and its source index (`trace.by_source()`).
///
/// Complexity: O(n_packets) hash-map updates, spread over the rayon pool.
pub fn count_transitions(trace: &Trace, sources: &SourceIndex) -> TransitionCounts {
    let n = sources.len();
    let chunk = 1024.max(n / (rayon::current_num_threads() * 8).max(1));
    let starts: Vec<usize> = (0..n).step_by(chunk).collect();
    starts
        .into_par_iter()
        .map(|s| {
            let mut c = TransitionCounts::new();
            for k in s..(s + chunk).min(n) {
                c.add_source(trace, sources.packets_of(k));
            }
            c
        })
        .reduce(TransitionCounts::new, TransitionCounts::merged)
}
