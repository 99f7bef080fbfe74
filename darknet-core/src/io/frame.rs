//! Frames: a [`Packet`] encoded as link-layer bytes (Ethernet, raw IPv4, NULL/LOOP, Linux SLL
//! and SLL2) and decoded back, plus the reasons a captured frame is skipped ([`SkipReason`],
//! counted in [`SkipCounts`]).
//!
//! Encoding writes the headers only (link header, a 20-byte IPv4 header with a correct header
//! checksum, the transport header): the IPv4 total-length field is the packet's `ip_len`, and
//! the transport checksum is the one of a zero payload of the declared length, so the bytes are
//! a valid snap-length-truncated capture.
//!
//! Decoding takes the OUTER IPv4 header and the transport header right after it (the IPv4
//! header quoted inside an ICMP error is ignored). TCP checksums are never checked (offload makes
//! bad ones normal); the IPv4 header checksum is not checked either.

use crate::error::{CoreError, Result};
use crate::packet::{Packet, Protocol, TcpOptions};
use std::fmt;
use std::net::Ipv4Addr;

/// A link-layer header type number of pcap / pcapng (the `LINKTYPE_*` registry).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkType(pub u32);

impl LinkType {
    /// BSD loopback: a 4-byte address family in the capturing host's byte order (0).
    pub const NULL: LinkType = LinkType(0);
    /// Ethernet II, optionally with 802.1Q / 802.1ad (QinQ) VLAN tags (1).
    pub const ETHERNET: LinkType = LinkType(1);
    /// Raw IP, legacy number used by some BSDs (12).
    pub const RAW_12: LinkType = LinkType(12);
    /// Raw IP, legacy number used by some BSDs (14).
    pub const RAW_14: LinkType = LinkType(14);
    /// Raw IP: the frame starts with the IP header (101).
    pub const RAW: LinkType = LinkType(101);
    /// OpenBSD loopback: a 4-byte address family in network byte order (108).
    pub const LOOP: LinkType = LinkType(108);
    /// Linux "cooked" capture, version 1 (16-byte header) (113).
    pub const LINUX_SLL: LinkType = LinkType(113);
    /// Raw IPv4 only (228).
    pub const IPV4: LinkType = LinkType(228);
    /// Raw IPv6 only (229): every frame is skipped as IPv6.
    pub const IPV6: LinkType = LinkType(229);
    /// Linux "cooked" capture, version 2 (20-byte header) (276).
    pub const LINUX_SLL2: LinkType = LinkType(276);

    /// True when frames of this link type can be decoded (and encoded).
    pub fn is_supported(self) -> bool {
        matches!(self.0, 0 | 1 | 12 | 14 | 101 | 108 | 113 | 228 | 229 | 276)
    }

    /// Length of the link-layer header written by [`encode_frame`] (Ethernet without VLAN tag).
    pub fn header_len(self) -> usize {
        match self.0 {
            0 | 108 => 4,
            1 => 14,
            113 => 16,
            276 => 20,
            _ => 0,
        }
    }
}

impl fmt::Display for LinkType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.0 {
            0 => "NULL",
            1 => "ETHERNET",
            12 | 14 | 101 => "RAW",
            108 => "LOOP",
            113 => "LINUX_SLL",
            228 => "IPV4",
            229 => "IPV6",
            276 => "LINUX_SLL2",
            _ => return write!(f, "{}", self.0),
        };
        write!(f, "{name} ({})", self.0)
    }
}

/// Why a captured frame did not become a [`Packet`]. Skips are counted, not errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum SkipReason {
    /// An IPv6 packet (ethertype 0x86DD, address family 24/28/30, or IP version 6).
    Ipv6,
    /// An ARP (0x0806) or RARP (0x8035) frame.
    Arp,
    /// Any other ethertype, 802.3 length field or address family.
    OtherLinkProtocol,
    /// A raw-IP frame whose IP version is neither 4 nor 6.
    NotIp,
    /// A non-first IPv4 fragment (fragment offset > 0): it has no transport header.
    Fragment,
    /// The frame ends inside the link-layer header.
    TruncatedLink,
    /// The frame ends inside the IPv4 header, or the header length field is below 20 bytes.
    TruncatedIp,
    /// The frame ends inside the fixed TCP (20 bytes), UDP (8) or ICMP (4) header.
    TruncatedTransport,
    /// A pcapng interface whose link type is not supported.
    UnsupportedLinkType,
}

impl SkipReason {
    /// All reasons, in the order of [`SkipCounts::iter`].
    pub const ALL: [SkipReason; 9] = [
        SkipReason::Ipv6,
        SkipReason::Arp,
        SkipReason::OtherLinkProtocol,
        SkipReason::NotIp,
        SkipReason::Fragment,
        SkipReason::TruncatedLink,
        SkipReason::TruncatedIp,
        SkipReason::TruncatedTransport,
        SkipReason::UnsupportedLinkType,
    ];

    /// A short snake_case name (`ipv6`, `arp`, `truncated_transport`, ...).
    pub fn name(self) -> &'static str {
        match self {
            SkipReason::Ipv6 => "ipv6",
            SkipReason::Arp => "arp",
            SkipReason::OtherLinkProtocol => "other_link_protocol",
            SkipReason::NotIp => "not_ip",
            SkipReason::Fragment => "fragment",
            SkipReason::TruncatedLink => "truncated_link",
            SkipReason::TruncatedIp => "truncated_ip",
            SkipReason::TruncatedTransport => "truncated_transport",
            SkipReason::UnsupportedLinkType => "unsupported_link_type",
        }
    }

    fn index(self) -> usize {
        SkipReason::ALL.iter().position(|&r| r == self).unwrap_or(0)
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Number of skipped frames per [`SkipReason`]; every reader exposes one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SkipCounts {
    counts: [u64; 9],
}

impl SkipCounts {
    /// Frames skipped for `reason`.
    pub fn get(&self, reason: SkipReason) -> u64 {
        self.counts[reason.index()]
    }

    /// Counts one skipped frame.
    pub fn add(&mut self, reason: SkipReason) {
        self.counts[reason.index()] += 1;
    }

    /// Adds every count of `other` (for merging shards).
    pub fn merge(&mut self, other: &SkipCounts) {
        for (a, b) in self.counts.iter_mut().zip(other.counts.iter()) {
            *a += b;
        }
    }

    /// Total frames skipped.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// `(reason, count)` for every reason, in [`SkipReason::ALL`] order (zeros included).
    pub fn iter(&self) -> impl Iterator<Item = (SkipReason, u64)> + '_ {
        SkipReason::ALL.iter().map(|&r| (r, self.get(r)))
    }
}

impl fmt::Display for SkipCounts {
    /// `ipv6=3, arp=1` (non-zero counts only) or `none`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (r, n) in self.iter().filter(|&(_, n)| n > 0) {
            if !first {
                f.write_str(", ")?;
            }
            write!(f, "{r}={n}")?;
            first = false;
        }
        if first {
            f.write_str("none")?;
        }
        Ok(())
    }
}

#[inline]
fn be16(b: &[u8], i: usize) -> u16 {
    u16::from_be_bytes([b[i], b[i + 1]])
}

#[inline]
fn be32(b: &[u8], i: usize) -> u32 {
    u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86DD;
const ETHERTYPE_ARP: u16 = 0x0806;
const ETHERTYPE_RARP: u16 = 0x8035;
const MAX_VLAN_TAGS: usize = 8;

fn ethertype_skip(ethertype: u16) -> SkipReason {
    match ethertype {
        ETHERTYPE_IPV6 => SkipReason::Ipv6,
        ETHERTYPE_ARP | ETHERTYPE_RARP => SkipReason::Arp,
        _ => SkipReason::OtherLinkProtocol,
    }
}

/// Classifies a BSD address family (either byte order) as IPv4 / skip.
fn family_to_ip(raw: [u8; 4]) -> std::result::Result<(), SkipReason> {
    let le = u32::from_le_bytes(raw);
    let be = u32::from_be_bytes(raw);
    if le == 2 || be == 2 {
        Ok(())
    } else if matches!(le, 24 | 28 | 30) || matches!(be, 24 | 28 | 30) {
        Err(SkipReason::Ipv6)
    } else {
        Err(SkipReason::OtherLinkProtocol)
    }
}

/// The bytes of the IPv4 packet inside a frame, or why there is none.
fn ip_payload(link: LinkType, frame: &[u8]) -> std::result::Result<&[u8], SkipReason> {
    match link.0 {
        1 => {
            if frame.len() < 14 {
                return Err(SkipReason::TruncatedLink);
            }
            let mut off = 12;
            let mut ethertype = be16(frame, off);
            let mut tags = 0;
            while matches!(ethertype, 0x8100 | 0x88A8 | 0x9100) {
                tags += 1;
                if tags > MAX_VLAN_TAGS {
                    return Err(SkipReason::OtherLinkProtocol);
                }
                off += 4;
                if frame.len() < off + 2 {
                    return Err(SkipReason::TruncatedLink);
                }
                ethertype = be16(frame, off);
            }
            if ethertype == ETHERTYPE_IPV4 {
                Ok(&frame[off + 2..])
            } else {
                Err(ethertype_skip(ethertype))
            }
        }
        0 | 108 => {
            if frame.len() < 4 {
                return Err(SkipReason::TruncatedLink);
            }
            family_to_ip([frame[0], frame[1], frame[2], frame[3]])?;
            Ok(&frame[4..])
        }
        12 | 14 | 101 | 228 => Ok(frame),
        229 => Err(SkipReason::Ipv6),
        113 => {
            if frame.len() < 16 {
                return Err(SkipReason::TruncatedLink);
            }
            match be16(frame, 14) {
                ETHERTYPE_IPV4 => Ok(&frame[16..]),
                t => Err(ethertype_skip(t)),
            }
        }
        276 => {
            if frame.len() < 20 {
                return Err(SkipReason::TruncatedLink);
            }
            match be16(frame, 0) {
                ETHERTYPE_IPV4 => Ok(&frame[20..]),
                t => Err(ethertype_skip(t)),
            }
        }
        _ => Err(SkipReason::UnsupportedLinkType),
    }
}

/// Decodes one captured frame of link type `link` into a [`Packet`] stamped `ts_ns`.
///
/// Returns the [`SkipReason`] for frames that carry no usable IPv4 packet (IPv6, ARP, other
/// protocols, non-first fragments, truncated headers). TCP options are read as far as the
/// captured bytes go.
pub fn decode_frame(
    link: LinkType,
    frame: &[u8],
    ts_ns: u64,
) -> std::result::Result<Packet, SkipReason> {
    let ip = ip_payload(link, frame)?;
    decode_ipv4(ip, ts_ns)
}

/// Decodes an IPv4 packet (starting at its IP header) into a [`Packet`] stamped `ts_ns`.
pub fn decode_ipv4(ip: &[u8], ts_ns: u64) -> std::result::Result<Packet, SkipReason> {
    if ip.is_empty() {
        return Err(SkipReason::TruncatedIp);
    }
    match ip[0] >> 4 {
        4 => {}
        6 => return Err(SkipReason::Ipv6),
        _ => return Err(SkipReason::NotIp),
    }
    if ip.len() < 20 {
        return Err(SkipReason::TruncatedIp);
    }
    let ihl = usize::from(ip[0] & 0x0F) * 4;
    if ihl < 20 || ip.len() < ihl {
        return Err(SkipReason::TruncatedIp);
    }
    if be16(ip, 6) & 0x1FFF != 0 {
        return Err(SkipReason::Fragment);
    }
    let mut p = Packet {
        ts_ns,
        src: Ipv4Addr::from(be32(ip, 12)),
        dst: Ipv4Addr::from(be32(ip, 16)),
        proto: Protocol::from_number(ip[9]),
        ip_len: be16(ip, 2),
        ttl: ip[8],
        ip_id: be16(ip, 4),
        ..Packet::default()
    };
    let l4 = &ip[ihl..];
    match p.proto {
        Protocol::Tcp => {
            if l4.len() < 20 {
                return Err(SkipReason::TruncatedTransport);
            }
            p.src_port = be16(l4, 0);
            p.dst_port = be16(l4, 2);
            p.tcp_seq = be32(l4, 4);
            p.tcp_ack = be32(l4, 8);
            p.tcp_flags = l4[13];
            p.tcp_window = be16(l4, 14);
            let hlen = usize::from(l4[12] >> 4) * 4;
            if hlen > 20 {
                let end = hlen.min(l4.len());
                p.tcp_options = parse_tcp_options(&l4[20..end]);
            }
        }
        Protocol::Udp => {
            if l4.len() < 8 {
                return Err(SkipReason::TruncatedTransport);
            }
            p.src_port = be16(l4, 0);
            p.dst_port = be16(l4, 2);
        }
        Protocol::Icmp => {
            if l4.len() < 4 {
                return Err(SkipReason::TruncatedTransport);
            }
            p.icmp_type = l4[0];
            p.icmp_code = l4[1];
        }
        Protocol::Other(_) => {}
    }
    Ok(p)
}

/// Parses a TCP options area (the bytes after the 20-byte fixed header). Stops at EOL, at a
/// malformed length or at the end of the bytes; unknown options are skipped.
pub fn parse_tcp_options(mut b: &[u8]) -> TcpOptions {
    let mut o = TcpOptions::default();
    while let Some(&kind) = b.first() {
        match kind {
            0 => break,
            1 => {
                b = &b[1..];
                continue;
            }
            _ => {}
        }
        if b.len() < 2 {
            break;
        }
        let len = usize::from(b[1]);
        if len < 2 || len > b.len() {
            break;
        }
        let v = &b[2..len];
        match (kind, len) {
            (2, 4) => o.mss = Some(be16(v, 0)),
            (3, 3) => o.window_scale = Some(v[0]),
            (4, 2) => o.sack_permitted = true,
            (5, _) => o.sack = true,
            (8, 10) => o.tsval = Some(be32(v, 0)),
            _ => {}
        }
        b = &b[len..];
    }
    o
}

/// Ones' complement sum of 16-bit big-endian words (odd trailing byte padded with zero).
fn ones_sum(mut acc: u32, b: &[u8]) -> u32 {
    let mut chunks = b.chunks_exact(2);
    for c in &mut chunks {
        acc += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        acc += u32::from(*last) << 8;
    }
    acc
}

fn fold(mut acc: u32) -> u16 {
    while acc > 0xFFFF {
        acc = (acc & 0xFFFF) + (acc >> 16);
    }
    !(acc as u16)
}

/// The Internet checksum (RFC 1071) of `b`.
pub fn internet_checksum(b: &[u8]) -> u16 {
    fold(ones_sum(0, b))
}

/// Source and destination MAC addresses written by the Ethernet encoder (locally administered).
const ENC_DST_MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];
const ENC_SRC_MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x02];

/// Encodes `p` as a frame of link type `link` into `out` (cleared first).
///
/// Returns the frame's original length on the wire: link header + `max(ip_len, headers)`;
/// the encoded bytes hold only the headers (a snap-length-truncated capture). TCP options are
/// written in the order MSS, SACK-permitted, timestamp (TSecr 0), window scale, one SACK block
/// (edges `tcp_ack`, `tcp_ack + 1`), padded with EOL to a multiple of 4 bytes.
///
/// # Errors
/// [`CoreError::UnsupportedLinkType`] when `link` cannot be encoded (IPv6-only or unknown).
pub fn encode_frame(p: &Packet, link: LinkType, out: &mut Vec<u8>) -> Result<usize> {
    out.clear();
    match link.0 {
        0 => out.extend_from_slice(&2u32.to_le_bytes()),
        108 => out.extend_from_slice(&2u32.to_be_bytes()),
        1 => {
            out.extend_from_slice(&ENC_DST_MAC);
            out.extend_from_slice(&ENC_SRC_MAC);
            out.extend_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
        }
        12 | 14 | 101 | 228 => {}
        113 => {
            out.extend_from_slice(&0u16.to_be_bytes()); // packet type: to us
            out.extend_from_slice(&1u16.to_be_bytes()); // ARPHRD_ETHER
            out.extend_from_slice(&6u16.to_be_bytes());
            out.extend_from_slice(&ENC_SRC_MAC);
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
        }
        276 => {
            out.extend_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
            out.extend_from_slice(&[0, 0]); // reserved
            out.extend_from_slice(&1u32.to_be_bytes()); // interface index
            out.extend_from_slice(&1u16.to_be_bytes()); // ARPHRD_ETHER
            out.push(0); // packet type: to us
            out.push(6);
            out.extend_from_slice(&ENC_SRC_MAC);
            out.extend_from_slice(&[0, 0]);
        }
        _ => {
            return Err(CoreError::UnsupportedLinkType {
                input: "<encoder>".to_string(),
                link_type: link.0,
            })
        }
    }
    let link_len = out.len();
    let ip_start = out.len();
    encode_ipv4(p, out);
    let headers = out.len() - ip_start;
    Ok(link_len + headers.max(usize::from(p.ip_len)))
}

/// Appends `p` as an IPv4 header (20 bytes, DF clear, correct checksum) and its transport
/// header to `out`. See [`encode_frame`] for the option layout.
pub fn encode_ipv4(p: &Packet, out: &mut Vec<u8>) {
    let ip_start = out.len();
    out.extend_from_slice(&[0x45, 0]);
    out.extend_from_slice(&p.ip_len.to_be_bytes());
    out.extend_from_slice(&p.ip_id.to_be_bytes());
    out.extend_from_slice(&[0, 0]); // flags + fragment offset
    out.push(p.ttl);
    out.push(p.proto.number());
    out.extend_from_slice(&[0, 0]); // checksum, filled below
    out.extend_from_slice(&p.src.octets());
    out.extend_from_slice(&p.dst.octets());
    let csum = internet_checksum(&out[ip_start..ip_start + 20]);
    out[ip_start + 10..ip_start + 12].copy_from_slice(&csum.to_be_bytes());

    let l4_start = out.len();
    // Length of the transport segment as the IP header declares it (payload assumed zero).
    let l4_len_declared = usize::from(p.ip_len).saturating_sub(20);
    match p.proto {
        Protocol::Tcp => {
            out.extend_from_slice(&p.src_port.to_be_bytes());
            out.extend_from_slice(&p.dst_port.to_be_bytes());
            out.extend_from_slice(&p.tcp_seq.to_be_bytes());
            out.extend_from_slice(&p.tcp_ack.to_be_bytes());
            out.extend_from_slice(&[0, p.tcp_flags]); // data offset filled below
            out.extend_from_slice(&p.tcp_window.to_be_bytes());
            out.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent pointer
            let o = &p.tcp_options;
            if let Some(mss) = o.mss {
                out.extend_from_slice(&[2, 4]);
                out.extend_from_slice(&mss.to_be_bytes());
            }
            if o.sack_permitted {
                out.extend_from_slice(&[4, 2]);
            }
            if let Some(ts) = o.tsval {
                out.extend_from_slice(&[8, 10]);
                out.extend_from_slice(&ts.to_be_bytes());
                out.extend_from_slice(&[0, 0, 0, 0]);
            }
            if let Some(ws) = o.window_scale {
                out.extend_from_slice(&[3, 3, ws]);
            }
            if o.sack {
                out.extend_from_slice(&[5, 10]);
                out.extend_from_slice(&p.tcp_ack.to_be_bytes());
                out.extend_from_slice(&p.tcp_ack.wrapping_add(1).to_be_bytes());
            }
            while !(out.len() - l4_start).is_multiple_of(4) {
                out.push(0);
            }
            let hlen = out.len() - l4_start;
            out[l4_start + 12] = ((hlen / 4) as u8) << 4;
            let csum = transport_checksum(p, &out[l4_start..], l4_len_declared.max(hlen));
            out[l4_start + 16..l4_start + 18].copy_from_slice(&csum.to_be_bytes());
        }
        Protocol::Udp => {
            let udp_len = l4_len_declared.clamp(8, 0xFFFF) as u16;
            out.extend_from_slice(&p.src_port.to_be_bytes());
            out.extend_from_slice(&p.dst_port.to_be_bytes());
            out.extend_from_slice(&udp_len.to_be_bytes());
            out.extend_from_slice(&[0, 0]);
            let mut csum = transport_checksum(p, &out[l4_start..], usize::from(udp_len));
            if csum == 0 {
                csum = 0xFFFF;
            }
            out[l4_start + 6..l4_start + 8].copy_from_slice(&csum.to_be_bytes());
        }
        Protocol::Icmp => {
            out.extend_from_slice(&[p.icmp_type, p.icmp_code, 0, 0, 0, 0, 0, 0]);
            let csum = internet_checksum(&out[l4_start..]);
            out[l4_start + 2..l4_start + 4].copy_from_slice(&csum.to_be_bytes());
        }
        Protocol::Other(_) => {}
    }
}

/// TCP/UDP checksum over the IPv4 pseudo-header and `segment` (a zero payload adds nothing).
fn transport_checksum(p: &Packet, segment: &[u8], declared_len: usize) -> u16 {
    let mut acc = ones_sum(0, &p.src.octets());
    acc = ones_sum(acc, &p.dst.octets());
    acc += u32::from(p.proto.number());
    acc += (declared_len & 0xFFFF) as u32;
    acc = ones_sum(acc, segment);
    fold(acc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp_packet() -> Packet {
        Packet {
            ts_ns: 1_600_000_000_123_456_789,
            src: Ipv4Addr::new(198, 51, 100, 7),
            dst: Ipv4Addr::new(203, 0, 113, 9),
            proto: Protocol::Tcp,
            src_port: 51_000,
            dst_port: 23,
            ip_len: 60,
            ttl: 64,
            ip_id: 0xBEEF,
            tcp_flags: crate::packet::tcp_flags::SYN,
            tcp_seq: 0xCB00_7109,
            tcp_ack: 0,
            tcp_window: 29_200,
            tcp_options: TcpOptions {
                mss: Some(1460),
                window_scale: Some(7),
                tsval: Some(123_456),
                sack_permitted: true,
                sack: true,
            },
            icmp_type: 0,
            icmp_code: 0,
        }
    }

    #[test]
    fn ip_checksum_verifies() {
        let mut out = Vec::new();
        encode_frame(&tcp_packet(), LinkType::RAW, &mut out).unwrap();
        assert_eq!(internet_checksum(&out[..20]), 0);
    }

    #[test]
    fn tcp_checksum_verifies_with_pseudo_header() {
        let p = Packet {
            ip_len: 20 + 52,
            ..tcp_packet()
        };
        let mut out = Vec::new();
        encode_frame(&p, LinkType::RAW, &mut out).unwrap();
        let seg = &out[20..];
        assert_eq!(seg.len(), 52);
        let mut acc = ones_sum(0, &out[12..20]);
        acc += 6 + seg.len() as u32;
        acc = ones_sum(acc, seg);
        assert_eq!(fold(acc), 0);
    }

    #[test]
    fn every_link_type_round_trips() {
        let mut out = Vec::new();
        for link in [0, 1, 12, 14, 101, 108, 113, 228, 276] {
            let link = LinkType(link);
            for p in [
                tcp_packet(),
                Packet {
                    proto: Protocol::Udp,
                    tcp_flags: 0,
                    tcp_seq: 0,
                    tcp_window: 0,
                    tcp_options: TcpOptions::default(),
                    ..tcp_packet()
                },
                Packet {
                    proto: Protocol::Icmp,
                    src_port: 0,
                    dst_port: 0,
                    icmp_type: 3,
                    icmp_code: 1,
                    tcp_flags: 0,
                    tcp_seq: 0,
                    tcp_window: 0,
                    tcp_options: TcpOptions::default(),
                    ..tcp_packet()
                },
            ] {
                let orig = encode_frame(&p, link, &mut out).unwrap();
                assert!(orig >= out.len());
                assert_eq!(decode_frame(link, &out, p.ts_ns), Ok(p), "{link}");
            }
        }
    }

    #[test]
    fn skip_counts_display() {
        let mut s = SkipCounts::default();
        assert_eq!(s.to_string(), "none");
        s.add(SkipReason::Ipv6);
        s.add(SkipReason::Ipv6);
        s.add(SkipReason::Arp);
        assert_eq!(s.to_string(), "ipv6=2, arp=1");
        assert_eq!(s.total(), 3);
    }
}
