//! pcap and pcapng: round trips through the writers, hand-built fixtures for every link type,
//! byte order and timestamp resolution, skip counts, and every corrupt-input error.

use darknet_core::io::{
    encode_frame, Format, LinkType, PacketReader, PcapReader, PcapWriter, PcapWriterOptions,
    PcapngReader, PcapngWriter, SkipReason, TsResolution, MAX_BLOCK_LEN, MAX_CAPLEN,
};
use darknet_core::{tcp_flags, CoreError, Packet, Protocol, TcpOptions};
use std::io::Write;
use std::net::Ipv4Addr;

/// A deterministic mix of TCP (with and without options, Mirai-like), UDP, ICMP and other
/// protocols, with nanosecond timestamps.
fn sample_packets(n: usize) -> Vec<Packet> {
    let mut out = Vec::with_capacity(n);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let dst = Ipv4Addr::new(203, 0, 113, (x >> 8) as u8);
        let base = Packet {
            ts_ns: 1_638_316_800_000_000_000 + i as u64 * 1_234_567 + (x % 1000),
            src: Ipv4Addr::from((x >> 16) as u32),
            dst,
            ip_len: 40 + (x % 1400) as u16,
            ttl: (x >> 40) as u8,
            ip_id: (x >> 24) as u16,
            ..Packet::default()
        };
        let p = match i % 5 {
            0 | 1 => Packet {
                proto: Protocol::Tcp,
                src_port: (x >> 3) as u16,
                dst_port: [23, 22, 80, 445, 8080][i % 5],
                tcp_flags: if i % 2 == 0 {
                    tcp_flags::SYN
                } else {
                    tcp_flags::ACK | tcp_flags::RST
                },
                tcp_seq: if i % 7 == 0 { u32::from(dst) } else { x as u32 },
                tcp_ack: (x >> 32) as u32,
                tcp_window: (x >> 48) as u16,
                tcp_options: if i % 3 == 0 {
                    TcpOptions::default()
                } else {
                    TcpOptions {
                        mss: Some(1460),
                        window_scale: Some((x % 15) as u8),
                        tsval: Some((x >> 11) as u32),
                        sack_permitted: i % 2 == 1,
                        sack: i % 4 == 1,
                    }
                },
                ..base
            },
            2 => Packet {
                proto: Protocol::Udp,
                src_port: (x >> 5) as u16,
                dst_port: 53,
                ..base
            },
            3 => Packet {
                proto: Protocol::Icmp,
                icmp_type: [8, 3, 11, 0][i % 4],
                icmp_code: (x % 4) as u8,
                ..base
            },
            _ => Packet {
                proto: Protocol::Other(47),
                ..base
            },
        };
        out.push(p);
    }
    out
}

fn micro(p: &Packet) -> Packet {
    Packet {
        ts_ns: p.ts_ns / 1000 * 1000,
        ..*p
    }
}

fn write_pcap(packets: &[Packet], opts: PcapWriterOptions) -> Vec<u8> {
    let mut w = PcapWriter::new(Vec::new(), opts).unwrap();
    for p in packets {
        w.write_packet(p).unwrap();
    }
    w.finish().unwrap()
}

fn write_pcapng(packets: &[Packet], opts: PcapWriterOptions) -> Vec<u8> {
    let mut w = PcapngWriter::new(Vec::new(), opts).unwrap();
    for p in packets {
        w.write_packet(p).unwrap();
    }
    w.finish().unwrap()
}

fn read_all(bytes: &[u8]) -> Result<Vec<Packet>, CoreError> {
    PacketReader::new(bytes, "<memory>")?.collect()
}

const LINKS: [LinkType; 9] = [
    LinkType::NULL,
    LinkType::ETHERNET,
    LinkType::RAW_12,
    LinkType::RAW_14,
    LinkType::RAW,
    LinkType::LOOP,
    LinkType::LINUX_SLL,
    LinkType::IPV4,
    LinkType::LINUX_SLL2,
];

#[test]
fn pcap_and_pcapng_round_trip_every_field() {
    let packets = sample_packets(200);
    for link in LINKS {
        for res in [TsResolution::Micro, TsResolution::Nano] {
            let opts = PcapWriterOptions {
                resolution: res,
                link_type: link,
                ..PcapWriterOptions::default()
            };
            let want: Vec<Packet> = match res {
                TsResolution::Micro => packets.iter().map(micro).collect(),
                TsResolution::Nano => packets.clone(),
            };
            let pcap = write_pcap(&packets, opts.clone());
            assert_eq!(read_all(&pcap).unwrap(), want, "pcap {link} {res:?}");
            let r = PacketReader::new(&pcap[..], "x").unwrap();
            assert_eq!(r.format(), Format::Pcap);
            let ng = write_pcapng(&packets, opts);
            assert_eq!(read_all(&ng).unwrap(), want, "pcapng {link} {res:?}");
            let r = PacketReader::new(&ng[..], "x").unwrap();
            assert_eq!(r.format(), Format::Pcapng);
        }
    }
}

#[test]
fn gzip_is_transparent() {
    let packets = sample_packets(50);
    for bytes in [
        write_pcap(&packets, PcapWriterOptions::default()),
        write_pcapng(&packets, PcapWriterOptions::default()),
    ] {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&bytes).unwrap();
        let gz = gz.finish().unwrap();
        let r = PacketReader::new(&gz[..], "<memory>.gz").unwrap();
        assert!(r.is_gzip());
        assert_eq!(r.collect::<Result<Vec<_>, _>>().unwrap(), packets);
    }
}

#[test]
fn open_reads_files_and_reports_missing_ones() {
    let dir = std::env::temp_dir().join(format!("darknet-io-open-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("a.pcap");
    let packets = sample_packets(10);
    std::fs::write(&path, write_pcap(&packets, PcapWriterOptions::default())).unwrap();
    let got: Vec<Packet> = darknet_core::io::open(&path)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(got, packets);
    let err = darknet_core::io::open(dir.join("missing.pcap"))
        .err()
        .unwrap();
    assert!(matches!(err, CoreError::Io { .. }), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

// ---------------------------------------------------------------------------------------------
// Hand-built fixtures (bytes written out here, not by the encoder).

/// IPv4 + TCP SYN with options MSS 1460, SACK-permitted, TS 42, NOP, WS 7 (60 bytes).
const IP_TCP: [u8; 60] = [
    0x45, 0x00, 0x00, 0x3c, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00, 192, 0, 2, 1, 203, 0,
    113, 9, // IPv4
    0xd4, 0x31, 0x00, 0x17, 0, 0, 0, 1, 0, 0, 0, 0, 0xa0, 0x02, 0x72, 0x10, 0, 0, 0, 0, // TCP
    0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0, 0, 0, 42, 0, 0, 0, 0, 0x01, 0x03, 0x03,
    0x07,
];

fn fixture_tcp(ts_ns: u64) -> Packet {
    Packet {
        ts_ns,
        src: Ipv4Addr::new(192, 0, 2, 1),
        dst: Ipv4Addr::new(203, 0, 113, 9),
        proto: Protocol::Tcp,
        src_port: 54321,
        dst_port: 23,
        ip_len: 60,
        ttl: 64,
        ip_id: 0x1c46,
        tcp_flags: tcp_flags::SYN,
        tcp_seq: 1,
        tcp_ack: 0,
        tcp_window: 29200,
        tcp_options: TcpOptions {
            mss: Some(1460),
            window_scale: Some(7),
            tsval: Some(42),
            sack_permitted: true,
            sack: false,
        },
        icmp_type: 0,
        icmp_code: 0,
    }
}

/// ICMP port unreachable (outer 198.51.100.1 -> 203.0.113.5) quoting an inner UDP packet.
const IP_ICMP_ERR: [u8; 56] = [
    0x45, 0, 0, 56, 0, 7, 0, 0, 250, 1, 0, 0, 198, 51, 100, 1, 203, 0, 113, 5, // outer IPv4
    3, 3, 0, 0, 0, 0, 0, 0, // ICMP dest unreachable / port
    0x45, 0, 0, 40, 0, 1, 0, 0, 64, 17, 0, 0, 203, 0, 113, 5, 8, 8, 8, 8, // inner IPv4
    0x30, 0x39, 0, 53, 0, 20, 0, 0, // inner UDP
];

fn fixture_icmp(ts_ns: u64) -> Packet {
    Packet {
        ts_ns,
        src: Ipv4Addr::new(198, 51, 100, 1),
        dst: Ipv4Addr::new(203, 0, 113, 5),
        proto: Protocol::Icmp,
        ip_len: 56,
        ttl: 250,
        ip_id: 7,
        icmp_type: 3,
        icmp_code: 3,
        ..Packet::default()
    }
}

/// A second-fragment IPv4 packet (offset 185 x 8 bytes).
const IP_FRAGMENT: [u8; 28] = [
    0x45, 0, 0, 28, 0, 9, 0x00, 0xb9, 64, 17, 0, 0, 192, 0, 2, 2, 203, 0, 113, 1, 0, 0, 0, 0, 0, 0,
    0, 0,
];

/// IPv4 TCP cut after 10 bytes of TCP header.
const IP_TCP_TRUNCATED: [u8; 30] = [
    0x45, 0, 0, 60, 0, 1, 0, 0, 64, 6, 0, 0, 192, 0, 2, 3, 203, 0, 113, 1, 0, 80, 0, 23, 0, 0, 0,
    1, 0, 0,
];

const IPV6_MIN: [u8; 40] = {
    let mut b = [0u8; 40];
    b[0] = 0x60;
    b
};

fn eth(ethertype: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 1, 2, 3, 4, 5];
    f.extend_from_slice(ethertype);
    f.extend_from_slice(payload);
    f
}

struct PcapBuilder {
    be: bool,
    nanos: bool,
    bytes: Vec<u8>,
}

impl PcapBuilder {
    fn new(be: bool, nanos: bool, snaplen: u32, link: u32) -> Self {
        let mut b = PcapBuilder {
            be,
            nanos,
            bytes: Vec::new(),
        };
        b.u32(if nanos { 0xa1b23c4d } else { 0xa1b2c3d4 });
        b.u16(2);
        b.u16(4);
        b.u32(0);
        b.u32(0);
        b.u32(snaplen);
        b.u32(link);
        b
    }
    fn u16(&mut self, v: u16) {
        let x = if self.be {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.bytes.extend_from_slice(&x);
    }
    fn u32(&mut self, v: u32) {
        let x = if self.be {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.bytes.extend_from_slice(&x);
    }
    /// Adds a record at `ts_ns` (converted to the file's resolution).
    fn record(&mut self, ts_ns: u64, frame: &[u8]) -> &mut Self {
        self.u32((ts_ns / 1_000_000_000) as u32);
        let sub = (ts_ns % 1_000_000_000) as u32;
        self.u32(if self.nanos { sub } else { sub / 1000 });
        self.u32(frame.len() as u32);
        self.u32(frame.len() as u32 + 100);
        self.bytes.extend_from_slice(frame);
        self
    }
}

const T0: u64 = 1_638_316_800_123_456_000;

#[test]
fn pcap_fixtures_every_link_type_and_byte_order() {
    let mut vlan = vec![0x81, 0x00, 0x00, 0x05];
    vlan.extend_from_slice(&[0x08, 0x00]);
    let mut qinq = vec![0x88, 0xa8, 0x00, 0x01, 0x81, 0x00, 0x00, 0x05];
    qinq.extend_from_slice(&[0x08, 0x00]);
    let frames: Vec<(u32, Vec<u8>)> = vec![
        (1, eth(&[0x08, 0x00], &IP_TCP)),
        (1, {
            let mut f = vec![0xff; 12];
            f.extend_from_slice(&vlan);
            f.extend_from_slice(&IP_TCP);
            f
        }),
        (1, {
            let mut f = vec![0xff; 12];
            f.extend_from_slice(&qinq);
            f.extend_from_slice(&IP_TCP);
            f
        }),
        (0, [&2u32.to_le_bytes()[..], &IP_TCP].concat()),
        (0, [&2u32.to_be_bytes()[..], &IP_TCP].concat()),
        (108, [&2u32.to_be_bytes()[..], &IP_TCP].concat()),
        (108, [&2u32.to_le_bytes()[..], &IP_TCP].concat()),
        (101, IP_TCP.to_vec()),
        (12, IP_TCP.to_vec()),
        (14, IP_TCP.to_vec()),
        (228, IP_TCP.to_vec()),
        (113, {
            let mut f = vec![0, 0, 0, 1, 0, 6, 0, 1, 2, 3, 4, 5, 0, 0, 0x08, 0x00];
            f.extend_from_slice(&IP_TCP);
            f
        }),
        (276, {
            let mut f = vec![
                0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 0, 1, 2, 3, 4, 5, 0, 0,
            ];
            f.extend_from_slice(&IP_TCP);
            f
        }),
    ];
    for (link, frame) in &frames {
        for be in [false, true] {
            for nanos in [false, true] {
                let mut b = PcapBuilder::new(be, nanos, 65535, *link);
                b.record(T0, frame).record(T0 + 1_000, frame);
                let mut r = PcapReader::new(&b.bytes[..], "fixture").unwrap();
                assert_eq!(r.header().big_endian, be);
                assert_eq!(r.header().nanos, nanos);
                let got: Vec<Packet> = r.by_ref().collect::<Result<_, _>>().unwrap();
                assert_eq!(
                    got,
                    vec![fixture_tcp(T0), fixture_tcp(T0 + 1_000)],
                    "link {link} be {be} ns {nanos}"
                );
                assert_eq!(r.skip_counts().total(), 0);
            }
        }
    }
}

#[test]
fn non_ipv4_frames_are_skipped_and_counted() {
    let mut b = PcapBuilder::new(false, true, 65535, 1);
    b.record(T0, &eth(&[0x08, 0x00], &IP_TCP))
        .record(T0, &eth(&[0x86, 0xdd], &IPV6_MIN))
        .record(T0, &eth(&[0x08, 0x06], &[0u8; 28]))
        .record(T0, &eth(&[0x88, 0xcc], &[0u8; 28]))
        .record(T0, &eth(&[0x08, 0x00], &IP_FRAGMENT))
        .record(T0, &eth(&[0x08, 0x00], &IP_TCP_TRUNCATED))
        .record(T0, &eth(&[0x08, 0x00], &IP_TCP[..12]))
        .record(T0, &[0u8; 8])
        .record(T0, &eth(&[0x08, 0x00], &IP_ICMP_ERR));
    let mut r = PacketReader::new(&b.bytes[..], "fixture").unwrap();
    let got: Vec<Packet> = r.by_ref().collect::<Result<_, _>>().unwrap();
    assert_eq!(got, vec![fixture_tcp(T0), fixture_icmp(T0)]);
    let s = r.skip_counts();
    assert_eq!(s.get(SkipReason::Ipv6), 1);
    assert_eq!(s.get(SkipReason::Arp), 1);
    assert_eq!(s.get(SkipReason::OtherLinkProtocol), 1);
    assert_eq!(s.get(SkipReason::Fragment), 1);
    assert_eq!(s.get(SkipReason::TruncatedTransport), 1);
    assert_eq!(s.get(SkipReason::TruncatedIp), 1);
    assert_eq!(s.get(SkipReason::TruncatedLink), 1);
    assert_eq!(s.total(), 7);
    assert_eq!(r.records_read(), 9);

    // Raw IP: version 6 and garbage versions; NULL with the IPv6 family.
    let mut b = PcapBuilder::new(true, false, 65535, 101);
    b.record(T0, &IPV6_MIN).record(T0, &[0x20; 20]);
    let mut r = PacketReader::new(&b.bytes[..], "fixture").unwrap();
    assert_eq!(r.by_ref().count(), 0);
    assert_eq!(r.skip_counts().get(SkipReason::Ipv6), 1);
    assert_eq!(r.skip_counts().get(SkipReason::NotIp), 1);
    let mut b = PcapBuilder::new(false, false, 65535, 0);
    b.record(T0, &[&30u32.to_le_bytes()[..], &IPV6_MIN].concat())
        .record(T0, &[&24u32.to_be_bytes()[..], &IPV6_MIN].concat())
        .record(T0, &[&7u32.to_le_bytes()[..], &IP_TCP].concat());
    let mut r = PacketReader::new(&b.bytes[..], "fixture").unwrap();
    assert_eq!(r.by_ref().count(), 0);
    assert_eq!(r.skip_counts().get(SkipReason::Ipv6), 2);
    assert_eq!(r.skip_counts().get(SkipReason::OtherLinkProtocol), 1);
    // SLL and SLL2 carrying ARP and IPv6.
    let mut b = PcapBuilder::new(false, false, 65535, 113);
    let mut f = vec![0u8; 14];
    f.extend_from_slice(&[0x86, 0xdd]);
    f.extend_from_slice(&IPV6_MIN);
    b.record(T0, &f);
    let mut r = PacketReader::new(&b.bytes[..], "fixture").unwrap();
    assert_eq!(r.by_ref().count(), 0);
    assert_eq!(r.skip_counts().get(SkipReason::Ipv6), 1);
    let mut b = PcapBuilder::new(false, false, 65535, 276);
    let mut f = vec![0x08, 0x06];
    f.extend_from_slice(&[0u8; 46]);
    b.record(T0, &f);
    let mut r = PacketReader::new(&b.bytes[..], "fixture").unwrap();
    assert_eq!(r.by_ref().count(), 0);
    assert_eq!(r.skip_counts().get(SkipReason::Arp), 1);
}

// ---------------------------------------------------------------------------------------------
// pcapng fixtures.

struct NgBuilder {
    be: bool,
    bytes: Vec<u8>,
}

impl NgBuilder {
    fn new() -> Self {
        NgBuilder {
            be: false,
            bytes: Vec::new(),
        }
    }
    fn w16(&self, v: u16, out: &mut Vec<u8>) {
        out.extend_from_slice(&if self.be {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        });
    }
    fn w32(&self, v: u32, out: &mut Vec<u8>) {
        out.extend_from_slice(&if self.be {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        });
    }
    fn block(&mut self, btype: u32, body: &[u8]) -> &mut Self {
        let mut body = body.to_vec();
        while !body.len().is_multiple_of(4) {
            body.push(0);
        }
        let len = body.len() as u32 + 12;
        let mut out = Vec::new();
        self.w32(btype, &mut out);
        self.w32(len, &mut out);
        out.extend_from_slice(&body);
        self.w32(len, &mut out);
        self.bytes.extend_from_slice(&out);
        self
    }
    fn shb(&mut self, be: bool) -> &mut Self {
        self.be = be;
        let mut body = Vec::new();
        self.w32(0x1A2B3C4D, &mut body);
        self.w16(1, &mut body);
        self.w16(0, &mut body);
        body.extend_from_slice(&[0xff; 8]);
        self.block(0x0A0D0D0A, &body)
    }
    fn idb(
        &mut self,
        link: u16,
        snaplen: u32,
        tsresol: Option<u8>,
        tsoffset: Option<i64>,
    ) -> &mut Self {
        let mut body = Vec::new();
        self.w16(link, &mut body);
        self.w16(0, &mut body);
        self.w32(snaplen, &mut body);
        // An unknown option first, to be skipped.
        self.w16(2, &mut body);
        self.w16(3, &mut body);
        body.extend_from_slice(b"eth\0");
        if let Some(r) = tsresol {
            self.w16(9, &mut body);
            self.w16(1, &mut body);
            body.extend_from_slice(&[r, 0, 0, 0]);
        }
        if let Some(o) = tsoffset {
            self.w16(14, &mut body);
            self.w16(8, &mut body);
            body.extend_from_slice(&if self.be {
                o.to_be_bytes()
            } else {
                o.to_le_bytes()
            });
        }
        self.w32(0, &mut body);
        self.block(1, &body)
    }
    fn epb(&mut self, iface: u32, ts_units: u64, frame: &[u8]) -> &mut Self {
        let mut body = Vec::new();
        self.w32(iface, &mut body);
        self.w32((ts_units >> 32) as u32, &mut body);
        self.w32(ts_units as u32, &mut body);
        self.w32(frame.len() as u32, &mut body);
        self.w32(frame.len() as u32, &mut body);
        body.extend_from_slice(frame);
        while !body.len().is_multiple_of(4) {
            body.push(0);
        }
        // An epb_flags option.
        self.w16(2, &mut body);
        self.w16(4, &mut body);
        self.w32(1, &mut body);
        self.w32(0, &mut body);
        self.block(6, &body)
    }
    fn spb(&mut self, frame: &[u8]) -> &mut Self {
        let mut body = Vec::new();
        self.w32(frame.len() as u32, &mut body);
        body.extend_from_slice(frame);
        self.block(3, &body)
    }
}

#[test]
fn pcapng_sections_interfaces_resolutions_and_block_types() {
    let secs = T0 / 1_000_000_000;
    let frac_ns = T0 % 1_000_000_000;
    for be in [false, true] {
        let mut b = NgBuilder::new();
        b.shb(be)
            // iface 0: Ethernet, default µs; iface 1: raw, ns; iface 2: SLL, 2^-20 s;
            // iface 3: NULL, 10^-3 s with a +10 s offset.
            .idb(1, 65535, None, None)
            .idb(101, 262144, Some(9), None)
            .idb(113, 0, Some(0x80 | 20), None)
            .idb(0, 96, Some(3), Some(10))
            .epb(
                0,
                secs * 1_000_000 + frac_ns / 1000,
                &eth(&[0x08, 0x00], &IP_TCP),
            )
            .block(0x0000_0BAD, b"custom block is skipped")
            .block(4, &[0u8; 16]) // name resolution block, skipped
            .epb(1, T0, &IP_TCP)
            .epb(2, (secs << 20) | 0x80000, &{
                let mut f = vec![0, 0, 0, 1, 0, 6, 0, 1, 2, 3, 4, 5, 0, 0, 0x08, 0x00];
                f.extend_from_slice(&IP_TCP);
                f
            })
            .epb(
                3,
                secs * 1000 + 7,
                &[&2u32.to_le_bytes()[..], &IP_TCP].concat(),
            )
            .block(5, &[0u8; 24]) // interface statistics block, skipped
            // Second section, other byte order, one interface only.
            .shb(!be)
            .idb(1, 65535, Some(6), None)
            .epb(0, secs * 1_000_000, &eth(&[0x08, 0x00], &IP_TCP))
            .spb(&eth(&[0x08, 0x00], &IP_TCP));
        let mut r = PcapngReader::new(&b.bytes[..], "fixture").unwrap();
        let got: Vec<Packet> = r.by_ref().collect::<Result<_, _>>().unwrap();
        let s0 = secs * 1_000_000_000;
        assert_eq!(
            got,
            vec![
                fixture_tcp(T0),
                fixture_tcp(T0),
                fixture_tcp(s0 + 500_000_000),
                fixture_tcp(s0 + 10_000_000_000 + 7_000_000),
                fixture_tcp(s0),
                fixture_tcp(s0),
            ],
            "be {be}"
        );
        assert_eq!(r.sections_read(), 2);
        assert_eq!(r.records_read(), 6);
    }
}

#[test]
fn pcapng_unknown_interface_and_unsupported_link() {
    let mut b = NgBuilder::new();
    b.shb(false).idb(147, 0, None, None).epb(0, 1, &IP_TCP);
    let mut r = PcapngReader::new(&b.bytes[..], "fixture").unwrap();
    assert_eq!(r.by_ref().count(), 0);
    assert_eq!(r.skip_counts().get(SkipReason::UnsupportedLinkType), 1);

    let mut b = NgBuilder::new();
    b.shb(false).idb(101, 0, None, None).epb(1, 1, &IP_TCP);
    let got: Vec<_> = PcapngReader::new(&b.bytes[..], "fixture")
        .unwrap()
        .collect();
    assert!(
        matches!(got[..], [Err(CoreError::Malformed { .. })]),
        "{got:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Corrupt input.

#[test]
fn bad_magic_and_empty_input() {
    // Text is not a CSV packet table: the message names the columns expected and found.
    let err = PacketReader::new(&b"hello, world"[..], "junk")
        .err()
        .unwrap();
    assert!(matches!(err, CoreError::NotACapture { .. }), "{err}");
    assert!(err.to_string().contains("found 2 columns"), "{err}");
    for bytes in [&b""[..], &b"ab"[..], &[0xd4, 0xc3, 0xb2, 0xa2][..]] {
        let err = PacketReader::new(bytes, "junk").err().unwrap();
        assert!(matches!(err, CoreError::BadMagic { .. }), "{err}");
        assert!(err.to_string().contains("not a pcap or pcapng file"));
    }
    let err = PcapReader::new(&b"\x0a\x0d\x0d\x0a"[..], "x")
        .err()
        .unwrap();
    assert!(matches!(err, CoreError::BadMagic { .. }));
    let err = PcapngReader::new(&b"\xd4\xc3\xb2\xa1"[..], "x")
        .err()
        .unwrap();
    assert!(matches!(err, CoreError::BadMagic { .. }));
}

#[test]
fn truncated_global_header() {
    let bytes = write_pcap(&[], PcapWriterOptions::default());
    let err = PacketReader::new(&bytes[..10], "cut").err().unwrap();
    assert!(
        matches!(
            err,
            CoreError::Truncated {
                what: "global header",
                available: 10,
                ..
            }
        ),
        "{err}"
    );
    let ng = write_pcapng(&[], PcapWriterOptions::default());
    for cut in [6, 10, 20] {
        let err = PacketReader::new(&ng[..cut], "cut").err().unwrap();
        assert!(matches!(err, CoreError::Truncated { .. }), "{cut}: {err}");
    }
}

#[test]
fn only_a_global_header_is_zero_packets() {
    for bytes in [
        write_pcap(&[], PcapWriterOptions::default()),
        write_pcapng(&[], PcapWriterOptions::default()),
    ] {
        assert_eq!(read_all(&bytes).unwrap(), vec![]);
    }
}

/// Every prefix of a capture yields the complete packets, then at most one error, then ends.
#[test]
fn truncated_records_yield_complete_packets_then_one_error() {
    let packets = sample_packets(4);
    for ng in [false, true] {
        let bytes = if ng {
            write_pcapng(&packets, PcapWriterOptions::default())
        } else {
            write_pcap(&packets, PcapWriterOptions::default())
        };
        let header = if ng { 28 + 32 } else { 24 };
        let mut boundaries = vec![header];
        // Record boundaries: re-encode to learn each record's length.
        let mut frame = Vec::new();
        for p in &packets {
            encode_frame(p, LinkType::ETHERNET, &mut frame).unwrap();
            let rec = if ng {
                32 + frame.len().div_ceil(4) * 4
            } else {
                16 + frame.len()
            };
            boundaries.push(boundaries.last().unwrap() + rec);
        }
        assert_eq!(*boundaries.last().unwrap(), bytes.len());
        for cut in header..bytes.len() {
            let mut r = PacketReader::new(&bytes[..cut], "cut").unwrap();
            let complete = boundaries.iter().filter(|&&b| b <= cut).count() - 1;
            for p in packets.iter().take(complete) {
                assert_eq!(r.next().unwrap().unwrap(), *p);
            }
            if boundaries.contains(&cut) {
                assert!(r.next().is_none());
                continue;
            }
            let err = r.next().unwrap().unwrap_err();
            match err {
                CoreError::Truncated {
                    packet_index,
                    offset,
                    what,
                    ..
                } => {
                    assert_eq!(packet_index, complete as u64, "cut {cut}");
                    assert_eq!(offset, boundaries[complete] as u64, "cut {cut}");
                    if !ng {
                        let in_header = cut - boundaries[complete] < 16;
                        assert_eq!(
                            what,
                            if in_header {
                                "record header"
                            } else {
                                "packet data"
                            }
                        );
                    }
                }
                e => panic!("cut {cut}: {e}"),
            }
            assert!(r.next().is_none());
            assert!(r.next().is_none());
        }
    }
}

#[test]
fn caplen_above_snaplen_or_absurd() {
    let packets = sample_packets(2);
    let mut bytes = write_pcap(&packets, PcapWriterOptions::default());
    // Second record's caplen field.
    let mut frame = Vec::new();
    encode_frame(&packets[0], LinkType::ETHERNET, &mut frame).unwrap();
    let second = 24 + 16 + frame.len();
    bytes[second + 8..second + 12].copy_from_slice(&70_000u32.to_le_bytes());
    let got: Vec<_> = PacketReader::new(&bytes[..], "big").unwrap().collect();
    assert_eq!(got.len(), 2);
    assert_eq!(*got[0].as_ref().unwrap(), packets[0]);
    match &got[1] {
        Err(CoreError::LengthTooLarge {
            packet_index: 1,
            value: 70_000,
            limit: 65_535,
            offset,
            ..
        }) => assert_eq!(*offset, second as u64),
        e => panic!("{e:?}"),
    }
    // snaplen 0 (unknown): the 256 KiB cap applies; a 4 GiB caplen allocates nothing.
    bytes[16..20].copy_from_slice(&0u32.to_le_bytes());
    for caplen in [MAX_CAPLEN + 1, u32::MAX] {
        bytes[second + 8..second + 12].copy_from_slice(&caplen.to_le_bytes());
        let got: Vec<_> = PacketReader::new(&bytes[..], "big").unwrap().collect();
        assert!(
            matches!(got[1], Err(CoreError::LengthTooLarge { limit, .. }) if limit == u64::from(MAX_CAPLEN)),
            "{got:?}"
        );
    }
}

#[test]
fn pcapng_bad_block_lengths() {
    let packets = sample_packets(2);
    let bytes = write_pcapng(&packets, PcapWriterOptions::default());
    let first_epb = 28 + 32;
    for (len, is_too_large) in [
        (33u32, false),
        (8, false),
        (MAX_BLOCK_LEN + 4, true),
        (0xFFFF_FFFC, true),
    ] {
        let mut b = bytes.clone();
        b[first_epb + 4..first_epb + 8].copy_from_slice(&len.to_le_bytes());
        let got: Vec<_> = PacketReader::new(&b[..], "bad").unwrap().collect();
        assert_eq!(got.len(), 1, "{got:?}");
        if is_too_large {
            assert!(
                matches!(got[0], Err(CoreError::LengthTooLarge { .. })),
                "{got:?}"
            );
        } else {
            assert!(
                matches!(got[0], Err(CoreError::Malformed { .. })),
                "{got:?}"
            );
        }
    }
    // Trailing length differs from the leading one.
    let mut b = bytes.clone();
    let n = b.len();
    b[n - 4] ^= 4;
    let got: Vec<_> = PacketReader::new(&b[..], "bad").unwrap().collect();
    assert!(
        matches!(got[..], [Ok(_), Err(CoreError::Malformed { .. })]),
        "{got:?}"
    );
    // EPB caplen past the block.
    let mut b = bytes.clone();
    b[first_epb + 20..first_epb + 24].copy_from_slice(&200u32.to_le_bytes());
    let got: Vec<_> = PacketReader::new(&b[..], "bad").unwrap().collect();
    assert!(
        matches!(got[..], [Err(CoreError::Malformed { .. })]),
        "{got:?}"
    );
    // A bad byte-order magic.
    let mut b = bytes.clone();
    b[8] = 0;
    assert!(matches!(
        PacketReader::new(&b[..], "bad").err(),
        Some(CoreError::Malformed { .. })
    ));
}

#[test]
fn unsupported_link_type_is_an_error_for_pcap_and_the_writers() {
    let b = PcapBuilder::new(false, false, 65535, 147);
    assert!(matches!(
        PacketReader::new(&b.bytes[..], "x").err(),
        Some(CoreError::UnsupportedLinkType { link_type: 147, .. })
    ));
    let opts = PcapWriterOptions {
        link_type: LinkType(147),
        ..PcapWriterOptions::default()
    };
    assert!(matches!(
        PcapWriter::new(Vec::new(), opts.clone()).err(),
        Some(CoreError::UnsupportedLinkType { .. })
    ));
    assert!(PcapngWriter::new(Vec::new(), opts).is_err());
}

#[test]
fn pcap_timestamps_after_2106_are_unwritable() {
    let mut w = PcapWriter::new(Vec::new(), PcapWriterOptions::default()).unwrap();
    let err = w
        .write_packet(&Packet {
            ts_ns: u64::MAX,
            ..Packet::default()
        })
        .unwrap_err();
    assert!(
        matches!(err, CoreError::Unwritable { field: "ts_ns", .. }),
        "{err}"
    );
    // pcapng has 64-bit timestamps.
    let bytes = write_pcapng(
        &[Packet {
            ts_ns: u64::MAX,
            ..Packet::default()
        }],
        PcapWriterOptions::default(),
    );
    assert_eq!(read_all(&bytes).unwrap()[0].ts_ns, u64::MAX);
}

#[test]
fn io_errors_name_the_input() {
    struct Failing;
    impl std::io::Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk on fire"))
        }
    }
    let err = PacketReader::new(Failing, "failing").err().unwrap();
    assert!(
        matches!(err, CoreError::Io { ref input, .. } if input == "failing"),
        "{err}"
    );
}
