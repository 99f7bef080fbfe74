//! Mergeable per-host statistics: computed per shard (a day, or a hash bucket of sources), in
//! parallel, and merged into the statistics of the whole
//! (docs/conventions.md#mergeable-aggregates).
//!
//! Numeric fields use [`Moments`] (count, sum, min, max, mean and M2 with Chan et al.'s
//! pairwise merge), so merging is exact for count/sum/min/max and exact up to floating-point
//! rounding for mean and std. Distinct counts keep sorted vectors of the distinct values
//! (destinations as `u32`, ports as `u16`), so they merge exactly; memory is 4 bytes per
//! distinct destination plus 2 bytes per distinct port per host (a /20 darknet bounds the
//! destinations at 4,096 per host, ports at 65,536 per protocol).
//!
//! ```
//! use darknet_core::stats::HostStatsTable;
//! use darknet_core::SynthConfig;
//!
//! let trace = SynthConfig::paper_b().hosts(200).days(2).build().unwrap().trace();
//! let whole = HostStatsTable::from_trace(&trace);
//! let sharded = HostStatsTable::from_trace_sharded(&trace, darknet_core::stats::Sharding::ByDay);
//! assert_eq!(whole.len(), sharded.len());
//! assert_eq!(whole.hosts()[0].packets, sharded.hosts()[0].packets);
//! ```

use crate::packet::tcp_flags;
use crate::trace::Trace;
use rayon::prelude::*;
use std::net::Ipv4Addr;

/// Count, sum, min, max, mean and M2 (sum of squared deviations) of a stream of values,
/// mergeable (Chan, Golub & LeVeque's pairwise update).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Moments {
    n: u64,
    sum: f64,
    min: f64,
    max: f64,
    mean: f64,
    m2: f64,
}

impl Default for Moments {
    fn default() -> Self {
        Moments {
            n: 0,
            sum: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            mean: 0.0,
            m2: 0.0,
        }
    }
}

impl Moments {
    /// Adds one value (Welford's update).
    #[inline]
    pub fn push(&mut self, x: f64) {
        self.n += 1;
        self.sum += x;
        self.min = self.min.min(x);
        self.max = self.max.max(x);
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
    }

    /// Merges another stream's moments into these (Chan's update).
    pub fn merge(&mut self, o: &Moments) {
        if o.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = *o;
            return;
        }
        let n = self.n + o.n;
        let d = o.mean - self.mean;
        self.mean += d * o.n as f64 / n as f64;
        self.m2 += o.m2 + d * d * self.n as f64 * o.n as f64 / n as f64;
        self.n = n;
        self.sum += o.sum;
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
    }

    /// Number of values.
    pub fn count(&self) -> u64 {
        self.n
    }
    /// Sum (0 when empty).
    pub fn sum(&self) -> f64 {
        self.sum
    }
    /// Minimum (0 when empty).
    pub fn min(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            self.min
        }
    }
    /// Maximum (0 when empty).
    pub fn max(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            self.max
        }
    }
    /// Mean (0 when empty).
    pub fn mean(&self) -> f64 {
        self.mean
    }
    /// Sample standard deviation (n − 1 denominator, pandas' default); 0 for n ≤ 1.
    pub fn std(&self) -> f64 {
        if self.n <= 1 {
            0.0
        } else {
            (self.m2 / (self.n - 1) as f64).max(0.0).sqrt()
        }
    }
    /// `[sum, min, max, mean, std]`, Paper B's STATS order (docs/paper-b.md#node-features).
    pub fn stats(&self) -> [f64; 5] {
        [self.sum(), self.min(), self.max(), self.mean(), self.std()]
    }
}

/// Statistics of one source host.
///
/// `ip_len` and `ttl` are over all its packets; `mss`, `window` and `tsval` over its TCP
/// packets, an absent option counting as 0 (the reference code's `'-' → 0`,
/// docs/conventions.md#reference-csv).
#[derive(Clone, Debug, PartialEq)]
pub struct HostStats {
    /// Source address.
    pub addr: Ipv4Addr,
    /// Packets.
    pub packets: u64,
    /// TCP packets.
    pub tcp: u64,
    /// UDP packets.
    pub udp: u64,
    /// ICMP packets.
    pub icmp: u64,
    /// Packets of other protocols.
    pub other: u64,
    /// TCP packets with SYN and without ACK.
    pub syn: u64,
    /// TCP packets with SYN and ACK (backscatter).
    pub syn_ack: u64,
    /// TCP packets with RST.
    pub rst: u64,
    /// Packets with the Mirai fingerprint (TCP sequence = destination address).
    pub mirai: u64,
    /// TCP packets carrying a non-zero TSval.
    pub tsval_packets: u64,
    /// First timestamp (ns since the epoch).
    pub first_seen_ns: u64,
    /// Last timestamp.
    pub last_seen_ns: u64,
    /// Distinct destination addresses (as `u32`), sorted.
    pub dsts: Vec<u32>,
    /// Distinct TCP destination ports, sorted.
    pub tcp_ports: Vec<u16>,
    /// Distinct UDP destination ports, sorted.
    pub udp_ports: Vec<u16>,
    /// IP total length.
    pub ip_len: Moments,
    /// TTL.
    pub ttl: Moments,
    /// TCP MSS option (0 when absent).
    pub mss: Moments,
    /// TCP header window.
    pub window: Moments,
    /// TCP TSval (0 when absent).
    pub tsval: Moments,
}

/// Names of the per-host aggregate features of [`HostStats::features`], in order (the
/// non-graph MLP baseline's input columns). Counts and durations are `ln(1 + x)`; fractions
/// are over the host's packets (flag fractions over its TCP packets).
pub const HOST_FEATURE_NAMES: [&str; 33] = [
    "log_packets",
    "log_distinct_dsts",
    "log_distinct_tcp_ports",
    "log_distinct_udp_ports",
    "log_packets_per_dst",
    "frac_tcp",
    "frac_udp",
    "frac_icmp",
    "frac_syn",
    "frac_syn_ack",
    "frac_rst",
    "frac_mirai",
    "log_active_secs",
    "ip_len_mean",
    "ip_len_std",
    "ip_len_min",
    "ip_len_max",
    "ttl_mean",
    "ttl_std",
    "ttl_min",
    "ttl_max",
    "mss_mean",
    "mss_std",
    "mss_min",
    "mss_max",
    "window_mean",
    "window_std",
    "window_min",
    "window_max",
    "tsval_log_mean",
    "tsval_log_std",
    "frac_tsval",
    "log_tcp_port_span",
];

/// Number of per-host aggregate features.
pub const HOST_FEATURE_COUNT: usize = HOST_FEATURE_NAMES.len();

fn merge_sorted<T: Ord + Copy>(a: &[T], b: &[T]) -> Vec<T> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => {
                out.push(a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

impl HostStats {
    fn empty(addr: Ipv4Addr) -> Self {
        HostStats {
            addr,
            packets: 0,
            tcp: 0,
            udp: 0,
            icmp: 0,
            other: 0,
            syn: 0,
            syn_ack: 0,
            rst: 0,
            mirai: 0,
            tsval_packets: 0,
            first_seen_ns: u64::MAX,
            last_seen_ns: 0,
            dsts: Vec::new(),
            tcp_ports: Vec::new(),
            udp_ports: Vec::new(),
            ip_len: Moments::default(),
            ttl: Moments::default(),
            mss: Moments::default(),
            window: Moments::default(),
            tsval: Moments::default(),
        }
    }

    /// Statistics of the packets `idx` (indices into `trace`, all of one source).
    pub fn from_indices(trace: &Trace, addr: Ipv4Addr, idx: &[u32]) -> Self {
        let mut h = HostStats::empty(addr);
        let (ts, proto, flags) = (trace.ts_ns(), trace.proto(), trace.tcp_flags());
        for &i in idx {
            let i = i as usize;
            h.packets += 1;
            h.first_seen_ns = h.first_seen_ns.min(ts[i]);
            h.last_seen_ns = h.last_seen_ns.max(ts[i]);
            h.dsts.push(trace.dst()[i]);
            h.ip_len.push(f64::from(trace.ip_len()[i]));
            h.ttl.push(f64::from(trace.ttl()[i]));
            match proto[i] {
                6 => {
                    h.tcp += 1;
                    h.tcp_ports.push(trace.dst_port()[i]);
                    let f = flags[i];
                    h.syn += u64::from(f & tcp_flags::SYN != 0 && f & tcp_flags::ACK == 0);
                    h.syn_ack += u64::from(f & tcp_flags::SYN != 0 && f & tcp_flags::ACK != 0);
                    h.rst += u64::from(f & tcp_flags::RST != 0);
                    h.mirai += u64::from(trace.tcp_seq()[i] == trace.dst()[i]);
                    h.mss.push(f64::from(trace.mss()[i]));
                    h.window.push(f64::from(trace.tcp_window()[i]));
                    h.tsval.push(f64::from(trace.tsval()[i]));
                    h.tsval_packets += u64::from(trace.tsval()[i] != 0);
                }
                17 => {
                    h.udp += 1;
                    h.udp_ports.push(trace.dst_port()[i]);
                }
                1 => h.icmp += 1,
                _ => h.other += 1,
            }
        }
        for v in [&mut h.tcp_ports, &mut h.udp_ports] {
            v.sort_unstable();
            v.dedup();
        }
        h.dsts.sort_unstable();
        h.dsts.dedup();
        h
    }

    /// Merges the statistics of the same host from another shard.
    pub fn merge(&mut self, o: &HostStats) {
        self.packets += o.packets;
        self.tcp += o.tcp;
        self.udp += o.udp;
        self.icmp += o.icmp;
        self.other += o.other;
        self.syn += o.syn;
        self.syn_ack += o.syn_ack;
        self.rst += o.rst;
        self.mirai += o.mirai;
        self.tsval_packets += o.tsval_packets;
        self.first_seen_ns = self.first_seen_ns.min(o.first_seen_ns);
        self.last_seen_ns = self.last_seen_ns.max(o.last_seen_ns);
        self.dsts = merge_sorted(&self.dsts, &o.dsts);
        self.tcp_ports = merge_sorted(&self.tcp_ports, &o.tcp_ports);
        self.udp_ports = merge_sorted(&self.udp_ports, &o.udp_ports);
        self.ip_len.merge(&o.ip_len);
        self.ttl.merge(&o.ttl);
        self.mss.merge(&o.mss);
        self.window.merge(&o.window);
        self.tsval.merge(&o.tsval);
    }

    /// The per-host aggregate feature vector, columns named by [`HOST_FEATURE_NAMES`].
    pub fn features(&self) -> [f32; HOST_FEATURE_COUNT] {
        let n = self.packets.max(1) as f64;
        let tcp = self.tcp.max(1) as f64;
        let ln = |x: f64| x.max(0.0).ln_1p();
        let span = match (self.tcp_ports.first(), self.tcp_ports.last()) {
            (Some(&a), Some(&b)) => f64::from(b - a),
            _ => 0.0,
        };
        let v = [
            ln(self.packets as f64),
            ln(self.dsts.len() as f64),
            ln(self.tcp_ports.len() as f64),
            ln(self.udp_ports.len() as f64),
            ln(self.packets as f64 / self.dsts.len().max(1) as f64),
            self.tcp as f64 / n,
            self.udp as f64 / n,
            self.icmp as f64 / n,
            self.syn as f64 / tcp,
            self.syn_ack as f64 / tcp,
            self.rst as f64 / tcp,
            self.mirai as f64 / tcp,
            ln((self.last_seen_ns.saturating_sub(self.first_seen_ns)) as f64 * 1e-9),
            self.ip_len.mean(),
            self.ip_len.std(),
            self.ip_len.min(),
            self.ip_len.max(),
            self.ttl.mean(),
            self.ttl.std(),
            self.ttl.min(),
            self.ttl.max(),
            self.mss.mean(),
            self.mss.std(),
            self.mss.min(),
            self.mss.max(),
            self.window.mean(),
            self.window.std(),
            self.window.min(),
            self.window.max(),
            ln(self.tsval.mean()),
            ln(self.tsval.std()),
            self.tsval_packets as f64 / tcp,
            ln(span),
        ];
        v.map(|x| x as f32)
    }
}

/// How [`HostStatsTable::from_trace_sharded`] cuts the trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Sharding {
    /// One shard per UTC day.
    ByDay,
    /// `n` shards by a hash of the source address (each host in exactly one shard).
    BySourceHash(usize),
}

/// Per-host statistics of a trace, one row per source, sorted by address.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HostStatsTable {
    hosts: Vec<HostStats>,
}

impl HostStatsTable {
    /// Statistics of every source of `trace` in one pass (parallel over sources).
    ///
    /// Complexity: O(n log n).
    pub fn from_trace(trace: &Trace) -> Self {
        let index = trace.by_source();
        let hosts = (0..index.len())
            .into_par_iter()
            .map(|k| HostStats::from_indices(trace, index.source(k), index.packets_of(k)))
            .collect();
        HostStatsTable { hosts }
    }

    /// Statistics computed per shard in parallel (rayon) and merged; equal to
    /// [`HostStatsTable::from_trace`] (up to floating-point rounding of mean and std).
    pub fn from_trace_sharded(trace: &Trace, sharding: Sharding) -> Self {
        let shards: Vec<Trace> = match sharding {
            Sharding::ByDay => trace
                .days(0)
                .into_iter()
                .map(|(_, r)| trace.slice(r))
                .collect(),
            Sharding::BySourceHash(n) => {
                let n = n.max(1);
                (0..n)
                    .map(|s| {
                        let keep: Vec<bool> = trace
                            .src()
                            .iter()
                            .map(|&a| (a.wrapping_mul(2_654_435_761) >> 16) as usize % n == s)
                            .collect();
                        trace.select(&keep)
                    })
                    .collect()
            }
        };
        shards
            .par_iter()
            .map(HostStatsTable::from_trace)
            .reduce(HostStatsTable::default, |a, b| a.merge(&b))
    }

    /// Merges two tables (same host in both: [`HostStats::merge`]).
    ///
    /// Complexity: O(hosts of both + their distinct sets).
    pub fn merge(&self, other: &HostStatsTable) -> HostStatsTable {
        let (a, b) = (&self.hosts, &other.hosts);
        let mut out = Vec::with_capacity(a.len() + b.len());
        let (mut i, mut j) = (0, 0);
        while i < a.len() || j < b.len() {
            if j == b.len() || (i < a.len() && a[i].addr < b[j].addr) {
                out.push(a[i].clone());
                i += 1;
            } else if i == a.len() || b[j].addr < a[i].addr {
                out.push(b[j].clone());
                j += 1;
            } else {
                let mut h = a[i].clone();
                h.merge(&b[j]);
                out.push(h);
                i += 1;
                j += 1;
            }
        }
        HostStatsTable { hosts: out }
    }

    /// Number of hosts.
    pub fn len(&self) -> usize {
        self.hosts.len()
    }
    /// True when there is no host.
    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty()
    }
    /// The rows, sorted by address.
    pub fn hosts(&self) -> &[HostStats] {
        &self.hosts
    }
    /// The row of `addr`, if present (binary search).
    pub fn get(&self, addr: Ipv4Addr) -> Option<&HostStats> {
        self.hosts
            .binary_search_by_key(&addr, |h| h.addr)
            .ok()
            .map(|k| &self.hosts[k])
    }
    /// The feature matrix, row-major, shape (n_hosts, [`HOST_FEATURE_COUNT`]), rows in
    /// address order.
    pub fn feature_matrix(&self) -> Vec<f32> {
        self.hosts.iter().flat_map(|h| h.features()).collect()
    }
}
