//! The packet model: one compact `Copy` record per captured packet (the OUTER IPv4 header plus
//! its transport header), the common currency of every reader, filter and generator.

use std::fmt;
use std::net::Ipv4Addr;

/// IP protocol of a packet. Darknets see almost only TCP, UDP and ICMP; anything else keeps its
/// protocol number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Protocol {
    /// TCP, IP protocol 6.
    #[default]
    Tcp,
    /// UDP, IP protocol 17.
    Udp,
    /// ICMP, IP protocol 1.
    Icmp,
    /// Any other IP protocol number.
    Other(u8),
}

impl Protocol {
    /// The IP protocol number (6, 17, 1, ...).
    pub fn number(self) -> u8 {
        match self {
            Protocol::Tcp => 6,
            Protocol::Udp => 17,
            Protocol::Icmp => 1,
            Protocol::Other(n) => n,
        }
    }

    /// The protocol for an IP protocol number.
    pub fn from_number(n: u8) -> Self {
        match n {
            6 => Protocol::Tcp,
            17 => Protocol::Udp,
            1 => Protocol::Icmp,
            n => Protocol::Other(n),
        }
    }

    /// True for the protocols that carry ports (TCP and UDP).
    pub fn has_ports(self) -> bool {
        matches!(self, Protocol::Tcp | Protocol::Udp)
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Protocol::Tcp => f.write_str("tcp"),
            Protocol::Udp => f.write_str("udp"),
            Protocol::Icmp => f.write_str("icmp"),
            Protocol::Other(n) => write!(f, "ip{n}"),
        }
    }
}

/// TCP flag bits, bit 0 (FIN) to bit 7 (CWR), as in the TCP header's flags byte.
pub mod tcp_flags {
    /// FIN, bit 0.
    pub const FIN: u8 = 0x01;
    /// SYN, bit 1.
    pub const SYN: u8 = 0x02;
    /// RST, bit 2.
    pub const RST: u8 = 0x04;
    /// PSH, bit 3.
    pub const PSH: u8 = 0x08;
    /// ACK, bit 4.
    pub const ACK: u8 = 0x10;
    /// URG, bit 5.
    pub const URG: u8 = 0x20;
    /// ECE, bit 6.
    pub const ECE: u8 = 0x40;
    /// CWR, bit 7.
    pub const CWR: u8 = 0x80;
}

/// TCP options a packet carried. Absent options are `None` / `false`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct TcpOptions {
    /// Maximum segment size option (kind 2).
    pub mss: Option<u16>,
    /// Window scale shift (kind 3).
    pub window_scale: Option<u8>,
    /// Timestamp option TSval (kind 8).
    pub tsval: Option<u32>,
    /// SACK-permitted option present (kind 4).
    pub sack_permitted: bool,
    /// SACK blocks present (kind 5).
    pub sack: bool,
}

/// One captured packet: the outer IPv4 header and its transport header, 56 bytes, `Copy`.
///
/// Fields that do not apply to the protocol are zero (ports and TCP fields for ICMP, ICMP type
/// and code for TCP/UDP); writers print them empty where a layout asks for that.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Packet {
    /// Capture time in nanoseconds since the Unix epoch (UTC).
    pub ts_ns: u64,
    /// IPv4 source address.
    pub src: Ipv4Addr,
    /// IPv4 destination address (a darknet address).
    pub dst: Ipv4Addr,
    /// IP protocol.
    pub proto: Protocol,
    /// Transport source port (0 for ICMP and other protocols).
    pub src_port: u16,
    /// Transport destination port (0 for ICMP and other protocols).
    pub dst_port: u16,
    /// IP total length in bytes (header + payload, as in the IP header).
    pub ip_len: u16,
    /// IP time to live.
    pub ttl: u8,
    /// IP identification field.
    pub ip_id: u16,
    /// TCP flags byte (see [`tcp_flags`]); 0 for non-TCP.
    pub tcp_flags: u8,
    /// TCP sequence number; 0 for non-TCP.
    pub tcp_seq: u32,
    /// TCP acknowledgement number; 0 for non-TCP.
    pub tcp_ack: u32,
    /// TCP header window field (unscaled); 0 for non-TCP.
    pub tcp_window: u16,
    /// TCP options.
    pub tcp_options: TcpOptions,
    /// ICMP type; 0 for non-ICMP.
    pub icmp_type: u8,
    /// ICMP code; 0 for non-ICMP.
    pub icmp_code: u8,
}

impl Default for Packet {
    /// A TCP packet at time 0 from and to 0.0.0.0 with every field zero.
    fn default() -> Self {
        Packet {
            ts_ns: 0,
            src: Ipv4Addr::UNSPECIFIED,
            dst: Ipv4Addr::UNSPECIFIED,
            proto: Protocol::Tcp,
            src_port: 0,
            dst_port: 0,
            ip_len: 0,
            ttl: 0,
            ip_id: 0,
            tcp_flags: 0,
            tcp_seq: 0,
            tcp_ack: 0,
            tcp_window: 0,
            tcp_options: TcpOptions::default(),
            icmp_type: 0,
            icmp_code: 0,
        }
    }
}

impl Packet {
    /// Mirai's fingerprint: a TCP packet whose sequence number equals its destination address.
    pub fn is_mirai(&self) -> bool {
        self.proto == Protocol::Tcp && self.tcp_seq == u32::from(self.dst)
    }

    /// The UTC day of the packet, counted in days since 1970-01-01.
    pub fn day(&self) -> u32 {
        (self.ts_ns / NANOS_PER_DAY) as u32
    }

    /// Capture time in seconds since the Unix epoch.
    pub fn ts_secs(&self) -> f64 {
        self.ts_ns as f64 * 1e-9
    }
}

/// Nanoseconds in one day.
pub const NANOS_PER_DAY: u64 = 86_400 * 1_000_000_000;

/// Formats a day number (days since 1970-01-01) as `YYYYMMDD`, the reference code's day label.
pub fn day_label(day: u32) -> String {
    let (y, m, d) = civil_from_days(day as i64);
    format!("{y:04}{m:02}{d:02}")
}

/// Parses a `YYYYMMDD` day label into days since 1970-01-01; `None` when it is not a valid date.
pub fn parse_day_label(label: &str) -> Option<u32> {
    if label.len() != 8 || !label.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let y: i64 = label[0..4].parse().ok()?;
    let m: u32 = label[4..6].parse().ok()?;
    let d: u32 = label[6..8].parse().ok()?;
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    let days = days_from_civil(y, m, d);
    u32::try_from(days).ok()
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Proleptic Gregorian date of a day count since 1970-01-01.
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packet_is_compact() {
        assert!(std::mem::size_of::<Packet>() <= 64);
    }

    #[test]
    fn mirai_fingerprint() {
        let dst = Ipv4Addr::new(10, 0, 0, 7);
        let p = Packet {
            dst,
            tcp_seq: u32::from(dst),
            ..Packet::default()
        };
        assert!(p.is_mirai());
        let q = Packet {
            proto: Protocol::Udp,
            ..p
        };
        assert!(!q.is_mirai());
    }

    #[test]
    fn day_labels_round_trip() {
        assert_eq!(day_label(0), "19700101");
        let d = parse_day_label("20211201").unwrap();
        assert_eq!(day_label(d), "20211201");
        assert_eq!(parse_day_label("20210229"), None);
        assert_eq!(
            parse_day_label("20200229").map(day_label).as_deref(),
            Some("20200229")
        );
        assert_eq!(parse_day_label("2021120"), None);
    }

    #[test]
    fn protocol_numbers() {
        for n in 0..=255u8 {
            assert_eq!(Protocol::from_number(n).number(), n);
        }
    }
}
