//! Paper A's filter chain over a stream of packets, in two passes, for captures too large to
//! hold as one [`Trace`](crate::Trace) (a month of a /20 is ≈ 620 M packets: 29 GB as a trace).
//!
//! Every decision of the chain is per host: an isolated packet is one whose *host* sent no
//! other packet within the window; a vertical scanner or periodic walker is a host, removed
//! entirely. So the chain needs, per host, only a bounded state, and a stream in time order
//! can be filtered exactly:
//!
//! 1. **First pass** ([`PaperAStream`]): every packet is pushed once; per host the stream keeps
//!    its last timestamp (to decide isolation), the distinct ports of its current week (capped
//!    at the thresholds) and a periodicity tracker of bounded size. [`PaperAStream::finish`]
//!    gives the [`FilterPlan`]: the hosts to remove and the report of every filter, equal to
//!    [`PaperAFilters::apply`](crate::PaperAFilters::apply)'s on the same packets.
//! 2. **Second pass** ([`FilterPlan::kept`]): the same packets are pushed again and the kept
//!    ones come out, each host's in time order (the stream as a whole is not: a packet whose
//!    host was silent before it waits until the host's next packet shows it is not isolated).
//!
//! Memory is O(hosts), not O(packets): about 100–200 bytes a host in each pass.
//!
//! ```
//! use darknet_core::filter::{PaperAStream, StreamFilters};
//! use darknet_core::{PaperAFilters, SynthConfig};
//!
//! let darknet = SynthConfig::paper_a().hosts(200).days(3).build()?;
//! let filters = PaperAFilters::default();
//! let mut pass1 = PaperAStream::new(StreamFilters::from(&filters))?;
//! for d in 0..3 {
//!     pass1.push_all(&darknet.day(d))?;
//! }
//! let plan = pass1.finish();
//! let mut kept = Vec::new();
//! let mut pass2 = plan.kept();
//! for d in 0..3 {
//!     for p in &darknet.day(d) {
//!         pass2.push(p, &mut |i, q| kept.push((i, *q)))?;
//!     }
//! }
//! pass2.finish()?;
//! // The same packets and reports as the in-memory chain.
//! let (batch, reports) = filters.apply(&darknet.trace())?;
//! assert_eq!(plan.reports(), &reports[..]);
//! kept.sort_unstable_by_key(|k| k.0);
//! assert_eq!(darknet_core::Trace::from_packets(kept.into_iter().map(|k| k.1)), batch);
//! # Ok::<(), darknet_core::CoreError>(())
//! ```

use super::{is_bogon, BogonFilterConfig, FilterReport, IsolatedConfig, PeriodicConfig};
use super::{PaperAFilters, VerticalScanConfig};
use crate::error::{CoreError, Result};
use crate::packet::{Packet, NANOS_PER_DAY};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::Ipv4Addr;

/// Hasher of IPv4 addresses (a `u32` key): one multiply and a fold, enough for addresses and
/// much cheaper than SipHash on the hot path of a stream (two lookups a packet).
#[derive(Clone, Copy, Debug, Default)]
pub struct AddrHasher(u64);

impl Hasher for AddrHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(self.0 ^ u64::from(b));
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        let h = (self.0 ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 = h ^ (h >> 29);
    }
}

/// A map keyed by an IPv4 address as `u32`.
pub type HostMap<V> = HashMap<u32, V, BuildHasherDefault<AddrHasher>>;

/// Which of Paper A's filters a stream applies, and their settings (`None` = switched off).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamFilters {
    /// Bogon sources (always reported, like [`PaperAFilters`]; removes nothing when disabled).
    pub bogon: BogonFilterConfig,
    /// Isolated packets.
    pub isolated: Option<IsolatedConfig>,
    /// Vertical scans. `origin_ns = None` starts the weeks at the stream's first packet.
    pub vertical: Option<VerticalScanConfig>,
    /// Periodic port walks.
    pub periodic: Option<PeriodicConfig>,
}

impl From<&PaperAFilters> for StreamFilters {
    /// Every filter of the chain, with its settings.
    fn from(f: &PaperAFilters) -> Self {
        StreamFilters {
            bogon: f.bogon,
            isolated: Some(f.isolated),
            vertical: Some(f.vertical),
            periodic: Some(f.periodic),
        }
    }
}

impl StreamFilters {
    /// Checks every enabled filter's settings.
    ///
    /// # Errors
    /// [`CoreError::InvalidConfig`] as each filter's `validate`, and for a periodic
    /// `max_period` above 63 (the stream tracks candidate periods in a bit mask).
    pub fn validate(&self) -> Result<()> {
        if let Some(c) = &self.isolated {
            c.validate()?;
        }
        if let Some(c) = &self.vertical {
            c.validate()?;
        }
        if let Some(c) = &self.periodic {
            c.validate()?;
            if c.max_period > 63 {
                return Err(CoreError::InvalidConfig {
                    field: "max_period",
                    value: c.max_period.to_string(),
                    reason: "the streaming periodic filter tests periods up to 63".into(),
                });
            }
        }
        Ok(())
    }
}

/// The isolation state of one host: its last packet's time and, when that packet had no
/// predecessor within the window, the packet itself, waiting for a successor to keep it.
#[derive(Clone, Copy, Debug)]
struct Isolation<P> {
    last_ts: u64,
    pending: Option<P>,
}

/// Pushes a packet (`payload` at `ts`) through a host's isolation state, calling `emit` for
/// every packet now known to be kept, in the host's time order. With `window = None` every
/// packet is kept at once. `state` is `None` for the host's first packet.
#[inline]
fn isolation_step<P: Copy>(
    state: &mut Option<Isolation<P>>,
    ts: u64,
    payload: P,
    window: Option<u64>,
    mut emit: impl FnMut(P),
) {
    let Some(w) = window else {
        emit(payload);
        return;
    };
    match state {
        Some(s) if ts - s.last_ts <= w => {
            if let Some(p) = s.pending.take() {
                emit(p);
            }
            emit(payload);
            s.last_ts = ts;
        }
        Some(s) => {
            // The previous pending packet (if any) had no neighbour within the window.
            s.pending = Some(payload);
            s.last_ts = ts;
        }
        None => {
            *state = Some(Isolation {
                last_ts: ts,
                pending: Some(payload),
            })
        }
    }
}

/// Incremental form of [`super::is_periodic`] over a growing collapsed `(proto, port)`
/// sequence: bounded memory (the last `max_period` keys and one bit per candidate period).
#[derive(Clone, Debug, Default)]
struct PeriodicTracker {
    /// Collapsed length so far.
    n: u64,
    /// The last `max_period` keys: key `i` at `ring[i % max_period]` (allocated at the first key).
    ring: Vec<(u8, u16)>,
    /// Bit `p` set: `s[i] == s[i - p]` has held for every `i ≥ p` so far.
    periods: u64,
    /// Every key so far has the first key's protocol and the same non-zero port step.
    arithmetic: bool,
    first_proto: u8,
    step: i32,
}

impl PeriodicTracker {
    fn push(&mut self, x: (u8, u16), max_period: usize) {
        let m = max_period as u64;
        if self.n == 0 {
            self.ring = vec![(0, 0); max_period];
            self.periods = (2..=max_period).fold(0, |a, p| a | 1 << p);
            self.arithmetic = true;
            self.first_proto = x.0;
        } else {
            let last = self.ring[((self.n - 1) % m) as usize];
            if last == x {
                return;
            }
            if self.arithmetic {
                let step = i32::from(x.1) - i32::from(last.1);
                if self.n == 1 {
                    self.step = step;
                }
                self.arithmetic = x.0 == self.first_proto && step == self.step && step != 0;
            }
        }
        let i = self.n;
        let mut bits = self.periods;
        while bits != 0 {
            let p = u64::from(bits.trailing_zeros());
            bits &= bits - 1;
            if i >= p && self.ring[((i - p) % m) as usize] != x {
                self.periods &= !(1 << p);
            }
        }
        self.ring[(i % m) as usize] = x;
        self.n += 1;
        if self.periods == 0 && !self.arithmetic {
            // Never periodic again: drop the keys, keep counting nothing.
            self.ring = Vec::new();
            self.n = u64::MAX;
        }
    }

    fn is_periodic(&self, c: &PeriodicConfig) -> bool {
        if self.n == u64::MAX || self.n < c.min_len as u64 {
            return false;
        }
        let max_p = (c.max_period as u64).min(self.n / 2);
        let candidates = if max_p < 2 {
            0
        } else {
            (2..=max_p).fold(0u64, |a, p| a | 1 << p)
        };
        self.periods & candidates != 0 || (c.arithmetic && self.arithmetic)
    }

    fn is_done(&self) -> bool {
        self.n == u64::MAX
    }
}

/// What the first pass keeps of a packet: enough to decide the host-wide filters.
#[derive(Clone, Copy, Debug)]
struct Probe {
    ts: u64,
    proto: u8,
    port: u16,
}

/// Per-host tallies of the first pass, fed with the packets the isolation filter keeps.
#[derive(Clone, Debug, Default)]
struct Tally {
    n_in: u64,
    n_kept: u64,
    week: u64,
    tcp: Vec<u16>,
    udp: Vec<u16>,
    vertical: bool,
    periodic: PeriodicTracker,
}

impl Tally {
    fn feed(&mut self, p: Probe, f: &StreamFilters, origin: u64) {
        self.n_kept += 1;
        if !matches!(p.proto, 6 | 17) {
            return;
        }
        if let Some(v) = &f.vertical {
            if !self.vertical {
                let week = p.ts.saturating_sub(origin) / v.window_ns;
                if week != self.week {
                    self.week = week;
                    self.tcp.clear();
                    self.udp.clear();
                }
                let (set, limit) = if p.proto == 17 {
                    (&mut self.udp, v.max_udp_ports)
                } else {
                    (&mut self.tcp, v.max_tcp_ports)
                };
                if !set.contains(&p.port) {
                    set.push(p.port);
                    if set.len() >= limit {
                        self.vertical = true;
                        self.tcp = Vec::new();
                        self.udp = Vec::new();
                    }
                }
            }
        }
        if let Some(c) = &f.periodic {
            if !self.vertical && !self.periodic.is_done() {
                self.periodic.push((p.proto, p.port), c.max_period);
            }
        }
    }
}

#[derive(Clone, Debug, Default)]
struct HostA {
    iso: Option<Isolation<Probe>>,
    tally: Tally,
}

/// Checks time order and counts packets: shared by both passes.
#[derive(Clone, Copy, Debug, Default)]
struct Clock {
    n: u64,
    last: Option<u64>,
}

impl Clock {
    fn tick(&mut self, ts: u64) -> Result<()> {
        if let Some(prev) = self.last {
            if ts < prev {
                return Err(CoreError::OutOfOrder {
                    packet_index: self.n,
                    ts_ns: ts,
                    previous_ns: prev,
                });
            }
        }
        self.last = Some(ts);
        self.n += 1;
        Ok(())
    }
}

/// The first pass of the streaming filter chain (see the module doc).
#[derive(Clone, Debug)]
pub struct PaperAStream {
    filters: StreamFilters,
    hosts: HostMap<HostA>,
    bogon_hosts: HostMap<()>,
    bogon_packets: u64,
    clock: Clock,
    origin: Option<u64>,
    days: Vec<u32>,
}

impl PaperAStream {
    /// A first pass with these filters.
    ///
    /// # Errors
    /// [`CoreError::InvalidConfig`] from [`StreamFilters::validate`].
    pub fn new(filters: StreamFilters) -> Result<Self> {
        filters.validate()?;
        Ok(PaperAStream {
            filters,
            hosts: HostMap::default(),
            bogon_hosts: HostMap::default(),
            bogon_packets: 0,
            clock: Clock::default(),
            origin: filters.vertical.and_then(|v| v.origin_ns),
            days: Vec::new(),
        })
    }

    /// Pushes the next packet (packets in time order, as a capture or the synthetic darknet's
    /// days give them).
    ///
    /// # Errors
    /// [`CoreError::OutOfOrder`] for a packet earlier than the one before it.
    pub fn push(&mut self, p: &Packet) -> Result<()> {
        self.clock.tick(p.ts_ns)?;
        let day = (p.ts_ns / NANOS_PER_DAY) as u32;
        if self.days.last() != Some(&day) {
            self.days.push(day);
        }
        let origin = *self.origin.get_or_insert(p.ts_ns);
        let src = u32::from(p.src);
        if self.filters.bogon.enabled && is_bogon(p.src) {
            self.bogon_packets += 1;
            self.bogon_hosts.insert(src, ());
            return Ok(());
        }
        let f = &self.filters;
        let host = self.hosts.entry(src).or_default();
        host.tally.n_in += 1;
        let probe = Probe {
            ts: p.ts_ns,
            proto: p.proto.number(),
            port: p.dst_port,
        };
        let window = f.isolated.map(|c| c.window_ns);
        let tally = &mut host.tally;
        isolation_step(&mut host.iso, p.ts_ns, probe, window, |q| {
            tally.feed(q, f, origin)
        });
        Ok(())
    }

    /// Pushes a run of packets in time order (a day, a chunk of a capture).
    ///
    /// # Errors
    /// As [`PaperAStream::push`].
    pub fn push_all(&mut self, packets: &[Packet]) -> Result<()> {
        packets.iter().try_for_each(|p| self.push(p))
    }

    /// Packets pushed so far.
    pub fn n_packets(&self) -> u64 {
        self.clock.n
    }

    /// Ends the first pass: the hosts to remove and what each filter removed.
    pub fn finish(self) -> FilterPlan {
        let f = self.filters;
        let n_all = self.clock.n;
        let n_hosts_all = (self.hosts.len() + self.bogon_hosts.len()) as u64;
        let mut reports = Vec::with_capacity(4);
        reports.push(FilterReport {
            name: "bogon-source",
            packets_in: n_all as usize,
            packets_removed: self.bogon_packets as usize,
            hosts_in: n_hosts_all as usize,
            hosts_removed: self.bogon_hosts.len(),
        });
        let mut removed: Vec<u32> = self.bogon_hosts.keys().copied().collect();
        let (mut pk_in, mut pk_kept, mut h_kept) = (0u64, 0u64, 0u64);
        let (mut v_pk, mut v_h, mut p_pk, mut p_h) = (0u64, 0u64, 0u64, 0u64);
        for (&src, h) in &self.hosts {
            let t = &h.tally;
            pk_in += t.n_in;
            pk_kept += t.n_kept;
            if t.n_kept == 0 {
                continue;
            }
            h_kept += 1;
            if t.vertical {
                v_pk += t.n_kept;
                v_h += 1;
                removed.push(src);
            } else if f.periodic.is_some_and(|c| t.periodic.is_periodic(&c)) {
                p_pk += t.n_kept;
                p_h += 1;
                removed.push(src);
            }
        }
        let n_hosts = self.hosts.len() as u64;
        if f.isolated.is_some() {
            reports.push(FilterReport {
                name: "isolated-packets",
                packets_in: pk_in as usize,
                packets_removed: (pk_in - pk_kept) as usize,
                hosts_in: n_hosts as usize,
                hosts_removed: (n_hosts - h_kept) as usize,
            });
        }
        if f.vertical.is_some() {
            reports.push(FilterReport {
                name: "vertical-scans",
                packets_in: pk_kept as usize,
                packets_removed: v_pk as usize,
                hosts_in: h_kept as usize,
                hosts_removed: v_h as usize,
            });
        }
        if f.periodic.is_some() {
            reports.push(FilterReport {
                name: "periodic-patterns",
                packets_in: (pk_kept - v_pk) as usize,
                packets_removed: p_pk as usize,
                hosts_in: (h_kept - v_h) as usize,
                hosts_removed: p_h as usize,
            });
        }
        removed.sort_unstable();
        FilterPlan {
            filters: f,
            reports,
            removed,
            n_packets_in: n_all,
            n_hosts_in: n_hosts_all,
            packets_out: pk_kept - v_pk - p_pk,
            hosts_out: h_kept - v_h - p_h,
            days: self.days,
        }
    }
}

/// The outcome of the first pass: which hosts go, what each filter removed, and the second
/// pass that yields the kept packets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterPlan {
    filters: StreamFilters,
    reports: Vec<FilterReport>,
    /// Hosts removed entirely (bogon, vertical scanners, periodic walkers), ascending.
    removed: Vec<u32>,
    n_packets_in: u64,
    n_hosts_in: u64,
    packets_out: u64,
    hosts_out: u64,
    days: Vec<u32>,
}

impl FilterPlan {
    /// One report per filter, in the chain's order (bogon, then the enabled ones), equal to
    /// the in-memory filters' reports on the same packets.
    pub fn reports(&self) -> &[FilterReport] {
        &self.reports
    }

    /// Packets of the first pass.
    pub fn n_packets_in(&self) -> u64 {
        self.n_packets_in
    }

    /// Distinct sources of the first pass.
    pub fn n_hosts_in(&self) -> u64 {
        self.n_hosts_in
    }

    /// Packets the second pass keeps.
    pub fn packets_out(&self) -> u64 {
        self.packets_out
    }

    /// Hosts with at least one kept packet.
    pub fn hosts_out(&self) -> u64 {
        self.hosts_out
    }

    /// The UTC days (days since the epoch) with packets, in order, as [`crate::Trace::days`]
    /// gives them at offset 0.
    pub fn days(&self) -> &[u32] {
        &self.days
    }

    /// True when `host` is removed entirely (bogon source, vertical scanner, periodic walker).
    pub fn is_removed(&self, host: Ipv4Addr) -> bool {
        self.removed.binary_search(&u32::from(host)).is_ok()
    }

    /// The second pass: push the same packets again to get the kept ones.
    pub fn kept(&self) -> KeptStream<'_> {
        KeptStream {
            plan: self,
            hosts: HostMap::default(),
            clock: Clock::default(),
            n_out: 0,
        }
    }
}

/// The second pass of the streaming filter chain: yields the kept packets, each host's in time
/// order ([`FilterPlan::kept`]).
#[derive(Clone, Debug)]
pub struct KeptStream<'a> {
    plan: &'a FilterPlan,
    hosts: HostMap<Option<Isolation<(u64, Packet)>>>,
    clock: Clock,
    n_out: u64,
}

impl KeptStream<'_> {
    /// Pushes the next packet of the stream; calls `emit(position, packet)` for each packet now
    /// known to be kept (none, this one, or an earlier one of the same host and then this one),
    /// where `position` is the packet's index in the stream (0-based): sorting the kept
    /// packets by it gives them in the stream's order, exactly the in-memory filters' trace.
    ///
    /// # Errors
    /// [`CoreError::OutOfOrder`] for a packet earlier than the one before it,
    /// [`CoreError::StreamMismatch`] for more packets than the first pass saw.
    pub fn push(&mut self, p: &Packet, emit: &mut impl FnMut(u64, &Packet)) -> Result<()> {
        let position = self.clock.n;
        self.clock.tick(p.ts_ns)?;
        if self.clock.n > self.plan.n_packets_in {
            return Err(CoreError::StreamMismatch {
                expected: self.plan.n_packets_in,
                seen: self.clock.n,
                reason: "more packets read",
            });
        }
        if self.plan.is_removed(p.src) {
            return Ok(());
        }
        let state = self.hosts.entry(u32::from(p.src)).or_default();
        let window = self.plan.filters.isolated.map(|c| c.window_ns);
        let n_out = &mut self.n_out;
        isolation_step(state, p.ts_ns, (position, *p), window, |(i, q)| {
            *n_out += 1;
            emit(i, &q)
        });
        Ok(())
    }

    /// Ends the second pass (packets still waiting are isolated: dropped).
    ///
    /// # Errors
    /// [`CoreError::StreamMismatch`] when the passes saw different packets.
    pub fn finish(self) -> Result<()> {
        if self.clock.n != self.plan.n_packets_in {
            return Err(CoreError::StreamMismatch {
                expected: self.plan.n_packets_in,
                seen: self.clock.n,
                reason: "fewer packets read",
            });
        }
        if self.n_out != self.plan.packets_out {
            return Err(CoreError::StreamMismatch {
                expected: self.plan.packets_out,
                seen: self.n_out,
                reason: "as many packets read, another number kept",
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::is_periodic;

    #[test]
    fn tracker_agrees_with_is_periodic_on_every_short_sequence() {
        // All sequences of length ≤ 7 over 3 keys, plus progressions.
        let keys = [(6u8, 1u16), (6, 2), (17, 3)];
        let c = PeriodicConfig::default();
        for len in 0..=7u32 {
            for code in 0..3u32.pow(len) {
                let mut s = Vec::new();
                let mut t = PeriodicTracker::default();
                let mut x = code;
                for _ in 0..len {
                    let k = keys[(x % 3) as usize];
                    x /= 3;
                    t.push(k, c.max_period);
                    if s.last() != Some(&k) {
                        s.push(k);
                    }
                }
                assert_eq!(t.is_periodic(&c), is_periodic(&s, &c), "{s:?}");
            }
        }
        for step in [1i32, -3, 7] {
            let mut t = PeriodicTracker::default();
            let s: Vec<(u8, u16)> = (0..12).map(|i| (6, (100 + step * i) as u16)).collect();
            s.iter().for_each(|&k| t.push(k, c.max_period));
            assert!(t.is_periodic(&c));
            assert!(is_periodic(&s, &c));
        }
    }
}
