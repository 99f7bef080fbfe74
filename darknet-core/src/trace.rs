//! The trace: a time-sorted, columnar (struct of arrays) store of packets, 47 bytes a packet,
//! with per-day ranges and a per-source index.
//!
//! Everything downstream (filters, graphs, statistics) reads traces, not packet vectors: columns
//! are cache-friendly to scan and half the size of `Vec<Packet>`.

use crate::packet::{Packet, Protocol, TcpOptions, NANOS_PER_DAY};
use std::net::Ipv4Addr;
use std::ops::Range;

const OPT_MSS: u8 = 1;
const OPT_WSCALE: u8 = 2;
const OPT_TS: u8 = 4;
const OPT_SACKP: u8 = 8;
const OPT_SACK: u8 = 16;

/// A time-sorted columnar packet store.
///
/// Packets are sorted by timestamp (stable: packets with equal timestamps keep their input
/// order). Column `i` of every accessor is packet `i`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trace {
    ts_ns: Vec<u64>,
    src: Vec<u32>,
    dst: Vec<u32>,
    src_port: Vec<u16>,
    dst_port: Vec<u16>,
    proto: Vec<u8>,
    tcp_flags: Vec<u8>,
    ttl: Vec<u8>,
    ip_len: Vec<u16>,
    ip_id: Vec<u16>,
    tcp_window: Vec<u16>,
    mss: Vec<u16>,
    tsval: Vec<u32>,
    tcp_seq: Vec<u32>,
    tcp_ack: Vec<u32>,
    wscale: Vec<u8>,
    opts: Vec<u8>,
    icmp_type: Vec<u8>,
    icmp_code: Vec<u8>,
}

/// Bytes a trace stores per packet (sum of the column element sizes).
pub const TRACE_BYTES_PER_PACKET: usize =
    8 + 4 + 4 + 2 + 2 + 1 + 1 + 1 + 2 + 2 + 2 + 2 + 4 + 4 + 4 + 1 + 1 + 1 + 1;

impl Trace {
    /// An empty trace with room for `n` packets.
    pub fn with_capacity(n: usize) -> Self {
        Trace {
            ts_ns: Vec::with_capacity(n),
            src: Vec::with_capacity(n),
            dst: Vec::with_capacity(n),
            src_port: Vec::with_capacity(n),
            dst_port: Vec::with_capacity(n),
            proto: Vec::with_capacity(n),
            tcp_flags: Vec::with_capacity(n),
            ttl: Vec::with_capacity(n),
            ip_len: Vec::with_capacity(n),
            ip_id: Vec::with_capacity(n),
            tcp_window: Vec::with_capacity(n),
            mss: Vec::with_capacity(n),
            tsval: Vec::with_capacity(n),
            tcp_seq: Vec::with_capacity(n),
            tcp_ack: Vec::with_capacity(n),
            wscale: Vec::with_capacity(n),
            opts: Vec::with_capacity(n),
            icmp_type: Vec::with_capacity(n),
            icmp_code: Vec::with_capacity(n),
        }
    }

    /// Builds a trace from packets in any order; sorts them by timestamp (stable).
    ///
    /// Complexity: O(n log n) when the input is unsorted, O(n) when it is already sorted.
    pub fn from_packets<I: IntoIterator<Item = Packet>>(packets: I) -> Self {
        let mut v: Vec<Packet> = packets.into_iter().collect();
        if !v.windows(2).all(|w| w[0].ts_ns <= w[1].ts_ns) {
            v.sort_by_key(|p| p.ts_ns);
        }
        let mut t = Trace::with_capacity(v.len());
        for p in &v {
            t.push_unchecked(p);
        }
        t
    }

    /// Builds a trace from a fallible packet stream (a reader), stopping at the first error.
    ///
    /// # Errors
    /// The first error the stream yields.
    pub fn try_from_packets<E, I: IntoIterator<Item = Result<Packet, E>>>(
        packets: I,
    ) -> Result<Self, E> {
        let v = packets.into_iter().collect::<Result<Vec<_>, E>>()?;
        Ok(Trace::from_packets(v))
    }

    /// Appends `packets` (a day of a stream, a file of a capture), keeping the trace sorted by
    /// time. When they are sorted and none is earlier than the trace's last packet (the usual
    /// case: day after day) they are pushed as they are, so a stream never has to be held
    /// twice; otherwise the whole trace is rebuilt with [`Trace::from_packets`]'s stable sort.
    /// Either way the result equals `Trace::from_packets(old packets, then packets)`.
    ///
    /// Complexity: O(k) for k appended packets in order, O((n + k) log(n + k)) otherwise.
    ///
    /// ```
    /// use darknet_core::{SynthConfig, Trace};
    /// let darknet = SynthConfig::paper_a().hosts(50).days(2).build()?;
    /// let mut trace = Trace::default();
    /// for d in 0..2 {
    ///     trace.extend_packets(&darknet.day(d));
    /// }
    /// assert_eq!(trace, darknet.trace());
    /// # Ok::<(), darknet_core::CoreError>(())
    /// ```
    pub fn extend_packets(&mut self, packets: &[Packet]) {
        let last = self.ts_ns.last().copied().unwrap_or(0);
        let in_order = packets.first().is_none_or(|p| p.ts_ns >= last)
            && packets.windows(2).all(|w| w[0].ts_ns <= w[1].ts_ns);
        if in_order {
            self.reserve(packets.len());
            for p in packets {
                self.push_unchecked(p);
            }
        } else {
            let old = std::mem::take(self);
            *self = Trace::from_packets(old.iter().chain(packets.iter().copied()));
        }
    }

    fn reserve(&mut self, n: usize) {
        macro_rules! rs {
            ($($c:ident),*) => { $( self.$c.reserve(n); )* };
        }
        rs!(
            ts_ns, src, dst, src_port, dst_port, proto, tcp_flags, ttl, ip_len, ip_id, tcp_window,
            mss, tsval, tcp_seq, tcp_ack, wscale, opts, icmp_type, icmp_code
        );
    }

    fn push_unchecked(&mut self, p: &Packet) {
        self.ts_ns.push(p.ts_ns);
        self.src.push(u32::from(p.src));
        self.dst.push(u32::from(p.dst));
        self.src_port.push(p.src_port);
        self.dst_port.push(p.dst_port);
        self.proto.push(p.proto.number());
        self.tcp_flags.push(p.tcp_flags);
        self.ttl.push(p.ttl);
        self.ip_len.push(p.ip_len);
        self.ip_id.push(p.ip_id);
        self.tcp_window.push(p.tcp_window);
        let o = &p.tcp_options;
        self.mss.push(o.mss.unwrap_or(0));
        self.tsval.push(o.tsval.unwrap_or(0));
        self.wscale.push(o.window_scale.unwrap_or(0));
        let bits = (o.mss.is_some() as u8 * OPT_MSS)
            | (o.window_scale.is_some() as u8 * OPT_WSCALE)
            | (o.tsval.is_some() as u8 * OPT_TS)
            | (o.sack_permitted as u8 * OPT_SACKP)
            | (o.sack as u8 * OPT_SACK);
        self.opts.push(bits);
        self.tcp_seq.push(p.tcp_seq);
        self.tcp_ack.push(p.tcp_ack);
        self.icmp_type.push(p.icmp_type);
        self.icmp_code.push(p.icmp_code);
    }

    /// Number of packets.
    pub fn len(&self) -> usize {
        self.ts_ns.len()
    }

    /// True when the trace holds no packet.
    pub fn is_empty(&self) -> bool {
        self.ts_ns.is_empty()
    }

    /// Packet `i` rebuilt as a [`Packet`]. Panics if `i >= len()` (an index the caller made).
    pub fn packet(&self, i: usize) -> Packet {
        let bits = self.opts[i];
        Packet {
            ts_ns: self.ts_ns[i],
            src: Ipv4Addr::from(self.src[i]),
            dst: Ipv4Addr::from(self.dst[i]),
            proto: Protocol::from_number(self.proto[i]),
            src_port: self.src_port[i],
            dst_port: self.dst_port[i],
            ip_len: self.ip_len[i],
            ttl: self.ttl[i],
            ip_id: self.ip_id[i],
            tcp_flags: self.tcp_flags[i],
            tcp_seq: self.tcp_seq[i],
            tcp_ack: self.tcp_ack[i],
            tcp_window: self.tcp_window[i],
            tcp_options: TcpOptions {
                mss: (bits & OPT_MSS != 0).then_some(self.mss[i]),
                window_scale: (bits & OPT_WSCALE != 0).then_some(self.wscale[i]),
                tsval: (bits & OPT_TS != 0).then_some(self.tsval[i]),
                sack_permitted: bits & OPT_SACKP != 0,
                sack: bits & OPT_SACK != 0,
            },
            icmp_type: self.icmp_type[i],
            icmp_code: self.icmp_code[i],
        }
    }

    /// Iterates over the packets in time order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Packet> + '_ {
        (0..self.len()).map(move |i| self.packet(i))
    }

    /// Timestamps in ns since the epoch, ascending. Shape (n_packets,).
    pub fn ts_ns(&self) -> &[u64] {
        &self.ts_ns
    }
    /// Source addresses as big-endian-valued `u32` (`u32::from(Ipv4Addr)`). Shape (n_packets,).
    pub fn src(&self) -> &[u32] {
        &self.src
    }
    /// Destination addresses as `u32`. Shape (n_packets,).
    pub fn dst(&self) -> &[u32] {
        &self.dst
    }
    /// Source ports (0 for ICMP). Shape (n_packets,).
    pub fn src_port(&self) -> &[u16] {
        &self.src_port
    }
    /// Destination ports (0 for ICMP). Shape (n_packets,).
    pub fn dst_port(&self) -> &[u16] {
        &self.dst_port
    }
    /// IP protocol numbers (6 TCP, 17 UDP, 1 ICMP). Shape (n_packets,).
    pub fn proto(&self) -> &[u8] {
        &self.proto
    }
    /// TCP flags bytes. Shape (n_packets,).
    pub fn tcp_flags(&self) -> &[u8] {
        &self.tcp_flags
    }
    /// IP TTLs. Shape (n_packets,).
    pub fn ttl(&self) -> &[u8] {
        &self.ttl
    }
    /// IP total lengths. Shape (n_packets,).
    pub fn ip_len(&self) -> &[u16] {
        &self.ip_len
    }
    /// IP identification fields. Shape (n_packets,).
    pub fn ip_id(&self) -> &[u16] {
        &self.ip_id
    }
    /// TCP header windows. Shape (n_packets,).
    pub fn tcp_window(&self) -> &[u16] {
        &self.tcp_window
    }
    /// TCP MSS option values, 0 when absent. Shape (n_packets,).
    pub fn mss(&self) -> &[u16] {
        &self.mss
    }
    /// TCP timestamp option TSval, 0 when absent. Shape (n_packets,).
    pub fn tsval(&self) -> &[u32] {
        &self.tsval
    }
    /// TCP sequence numbers. Shape (n_packets,).
    pub fn tcp_seq(&self) -> &[u32] {
        &self.tcp_seq
    }
    /// TCP acknowledgement numbers. Shape (n_packets,).
    pub fn tcp_ack(&self) -> &[u32] {
        &self.tcp_ack
    }
    /// ICMP types (0 for non-ICMP). Shape (n_packets,).
    pub fn icmp_type(&self) -> &[u8] {
        &self.icmp_type
    }
    /// ICMP codes (0 for non-ICMP). Shape (n_packets,).
    pub fn icmp_code(&self) -> &[u8] {
        &self.icmp_code
    }

    /// A new trace holding the packets whose `keep[i]` is true, in the same order.
    ///
    /// # Panics
    /// If `keep.len() != self.len()` (a mask the caller built for another trace).
    pub fn select(&self, keep: &[bool]) -> Trace {
        assert_eq!(
            keep.len(),
            self.len(),
            "mask length must equal trace length"
        );
        let n = keep.iter().filter(|&&k| k).count();
        let mut t = Trace::with_capacity(n);
        macro_rules! sel {
            ($($col:ident),*) => {$(
                t.$col.extend(self.$col.iter().zip(keep).filter(|(_, &k)| k).map(|(v, _)| *v));
            )*};
        }
        sel!(
            ts_ns, src, dst, src_port, dst_port, proto, tcp_flags, ttl, ip_len, ip_id, tcp_window,
            mss, tsval, tcp_seq, tcp_ack, wscale, opts, icmp_type, icmp_code
        );
        t
    }

    /// A new trace holding packets `range` (a contiguous, still time-sorted slice).
    pub fn slice(&self, range: Range<usize>) -> Trace {
        let mut t = Trace::with_capacity(range.len());
        macro_rules! sl {
            ($($col:ident),*) => {$( t.$col.extend_from_slice(&self.$col[range.clone()]); )*};
        }
        sl!(
            ts_ns, src, dst, src_port, dst_port, proto, tcp_flags, ttl, ip_len, ip_id, tcp_window,
            mss, tsval, tcp_seq, tcp_ack, wscale, opts, icmp_type, icmp_code
        );
        t
    }

    /// Merges two traces into one time-sorted trace (for shards read in parallel).
    pub fn merge(&self, other: &Trace) -> Trace {
        Trace::from_packets(self.iter().chain(other.iter()))
    }

    /// Per-day partition: `(day, range)` pairs in ascending day order, where `day` counts days
    /// since 1970-01-01 in UTC shifted by `utc_offset_secs` (0 for UTC) and `range` indexes
    /// this trace's packets of that day. Days without packets are absent.
    ///
    /// Complexity: O(n) (the trace is sorted by time, so days are contiguous).
    pub fn days(&self, utc_offset_secs: i64) -> Vec<(u32, Range<usize>)> {
        let mut out: Vec<(u32, Range<usize>)> = Vec::new();
        let offset_ns = utc_offset_secs as i128 * 1_000_000_000;
        for (i, &ts) in self.ts_ns.iter().enumerate() {
            let local = (ts as i128 + offset_ns).max(0) as u64;
            let day = (local / NANOS_PER_DAY) as u32;
            match out.last_mut() {
                Some((d, r)) if *d == day => r.end = i + 1,
                _ => out.push((day, i..i + 1)),
            }
        }
        out
    }

    /// Groups packet indices by source address: see [`SourceIndex`].
    pub fn by_source(&self) -> SourceIndex {
        let mut order: Vec<u32> = (0..self.len() as u32).collect();
        // Stable sort keeps time order inside each source.
        order.sort_by_key(|&i| self.src[i as usize]);
        let mut sources = Vec::new();
        let mut offsets = vec![0usize];
        for (k, &i) in order.iter().enumerate() {
            let s = self.src[i as usize];
            if sources.last() != Some(&s) {
                if k > 0 {
                    offsets.push(k);
                }
                sources.push(s);
            }
        }
        offsets.push(order.len());
        if sources.is_empty() {
            offsets.truncate(1);
        }
        SourceIndex {
            sources,
            offsets,
            packets: order,
        }
    }
}

impl FromIterator<Packet> for Trace {
    fn from_iter<I: IntoIterator<Item = Packet>>(iter: I) -> Self {
        Trace::from_packets(iter)
    }
}

/// Packet indices of a trace grouped by source address (CSR-like: `offsets` delimit each
/// source's run in `packets`). Sources are in ascending address order; inside a source the
/// packet indices are in time order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SourceIndex {
    sources: Vec<u32>,
    offsets: Vec<usize>,
    packets: Vec<u32>,
}

impl SourceIndex {
    /// Number of distinct sources.
    pub fn len(&self) -> usize {
        self.sources.len()
    }
    /// True when there is no source.
    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }
    /// Source addresses (as `u32`) in ascending order. Shape (n_sources,).
    pub fn sources(&self) -> &[u32] {
        &self.sources
    }
    /// Source `k`'s address.
    pub fn source(&self, k: usize) -> Ipv4Addr {
        Ipv4Addr::from(self.sources[k])
    }
    /// Trace indices of source `k`'s packets, in time order.
    pub fn packets_of(&self, k: usize) -> &[u32] {
        &self.packets[self.offsets[k]..self.offsets[k + 1]]
    }
    /// Position of a source address, if present (binary search).
    pub fn position(&self, addr: Ipv4Addr) -> Option<usize> {
        self.sources.binary_search(&u32::from(addr)).ok()
    }
    /// Iterates `(address, packet indices)` per source.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (Ipv4Addr, &[u32])> + '_ {
        (0..self.len()).map(move |k| (self.source(k), self.packets_of(k)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkt(ts: u64, src: u8, port: u16) -> Packet {
        Packet {
            ts_ns: ts,
            src: Ipv4Addr::new(1, 2, 3, src),
            dst: Ipv4Addr::new(10, 0, 0, 1),
            dst_port: port,
            tcp_options: TcpOptions {
                mss: Some(1460),
                ..TcpOptions::default()
            },
            ..Packet::default()
        }
    }

    #[test]
    fn sorts_and_round_trips() {
        let ps = vec![pkt(30, 1, 80), pkt(10, 2, 22), pkt(20, 1, 443)];
        let t = Trace::from_packets(ps.clone());
        assert_eq!(t.ts_ns(), &[10, 20, 30]);
        assert_eq!(t.packet(0), ps[1]);
        assert_eq!(t.iter().collect::<Vec<_>>(), vec![ps[1], ps[2], ps[0]]);
    }

    #[test]
    fn extend_equals_from_packets_in_and_out_of_order() {
        let a = vec![pkt(10, 1, 80), pkt(20, 2, 22)];
        let later = vec![pkt(20, 3, 1), pkt(25, 1, 2)];
        let earlier = vec![pkt(30, 4, 9), pkt(5, 1, 3)];
        let mut t = Trace::default();
        t.extend_packets(&a);
        t.extend_packets(&later);
        let all: Vec<Packet> = a.iter().chain(&later).copied().collect();
        assert_eq!(t, Trace::from_packets(all.clone()));
        t.extend_packets(&earlier);
        let all: Vec<Packet> = all.iter().chain(&earlier).copied().collect();
        assert_eq!(t, Trace::from_packets(all));
        assert_eq!(t.ts_ns(), &[5, 10, 20, 20, 25, 30]);
        t.extend_packets(&[]);
        assert_eq!(t.len(), 6);
    }

    #[test]
    fn days_are_contiguous_ranges() {
        let d = NANOS_PER_DAY;
        let t = Trace::from_packets(vec![pkt(1, 1, 1), pkt(d + 5, 1, 1), pkt(d + 6, 1, 1)]);
        assert_eq!(t.days(0), vec![(0, 0..1), (1, 1..3)]);
        assert!(Trace::default().days(0).is_empty());
    }

    #[test]
    fn source_index_groups_in_time_order() {
        let t = Trace::from_packets(vec![pkt(1, 2, 1), pkt(2, 1, 1), pkt(3, 2, 1)]);
        let s = t.by_source();
        assert_eq!(s.len(), 2);
        assert_eq!(s.source(0), Ipv4Addr::new(1, 2, 3, 1));
        assert_eq!(s.packets_of(0), &[1]);
        assert_eq!(s.packets_of(1), &[0, 2]);
        assert_eq!(s.position(Ipv4Addr::new(1, 2, 3, 2)), Some(1));
        assert!(Trace::default().by_source().is_empty());
    }

    #[test]
    fn select_and_slice() {
        let t = Trace::from_packets(vec![pkt(1, 1, 1), pkt(2, 1, 2), pkt(3, 1, 3)]);
        assert_eq!(t.select(&[true, false, true]).dst_port(), &[1, 3]);
        assert_eq!(t.slice(1..3).dst_port(), &[2, 3]);
        assert_eq!(t.merge(&t.slice(0..1)).len(), 4);
    }

    #[test]
    fn bytes_per_packet_within_budget() {
        const { assert!(TRACE_BYTES_PER_PACKET <= 48) };
    }
}
