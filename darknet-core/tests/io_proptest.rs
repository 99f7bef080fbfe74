//! Property tests: every reader survives random and mutated bytes without panicking or making
//! a large allocation, and random packets round-trip through every writer.
//!
//! A counting global allocator records the largest single allocation of this test binary; the
//! readers cap record buffers at 256 KiB (pcap caplen) and 320 KiB (pcapng blocks), so no
//! allocation may exceed 1 MiB whatever the input declares.

use darknet_core::io::{
    CsvLayout, CsvReader, CsvWriter, LinkType, PacketReader, PcapReader, PcapWriter,
    PcapWriterOptions, PcapngReader, PcapngWriter, TsResolution,
};
use darknet_core::{Packet, Protocol, TcpOptions};
use proptest::prelude::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicUsize, Ordering};

struct MaxAlloc;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only records the request size.
unsafe impl GlobalAlloc for MaxAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: MaxAlloc = MaxAlloc;

const ALLOC_LIMIT: usize = 1 << 20;

/// Reads everything a reader yields (bounded), checking that nothing follows an error.
fn drain(mut it: impl Iterator<Item = Result<Packet, darknet_core::CoreError>>) {
    let mut n = 0;
    while let Some(item) = it.next() {
        n += 1;
        if item.is_err() {
            assert!(it.next().is_none(), "an error must end the iterator");
            break;
        }
        assert!(n < 1_000_000);
    }
}

fn read_every_way(bytes: &[u8]) {
    if let Ok(r) = PacketReader::new(bytes, "fuzz") {
        drain(r);
    }
    if let Ok(r) = PcapReader::new(bytes, "fuzz") {
        drain(r);
    }
    if let Ok(r) = PcapngReader::new(bytes, "fuzz") {
        drain(r);
    }
    if let Ok(r) = CsvReader::new(bytes, "fuzz") {
        drain(r);
    }
    assert!(
        LARGEST.load(Ordering::Relaxed) <= ALLOC_LIMIT,
        "an allocation of {} bytes",
        LARGEST.load(Ordering::Relaxed)
    );
}

fn arb_packet() -> impl Strategy<Value = Packet> {
    (
        (
            0u64..4_000_000_000_000_000_000,
            any::<u32>(),
            any::<u32>(),
            0u8..5,
            any::<u16>(),
            any::<u16>(),
        ),
        (
            any::<u16>(),
            any::<u8>(),
            any::<u16>(),
            any::<u8>(),
            any::<u32>(),
            any::<u32>(),
            any::<u16>(),
        ),
        (
            proptest::option::of(any::<u16>()),
            proptest::option::of(any::<u8>()),
            proptest::option::of(any::<u32>()),
            any::<bool>(),
            any::<bool>(),
        ),
        (any::<u8>(), any::<u8>(), any::<u8>()),
    )
        .prop_map(
            |(
                (ts, src, dst, pk, sp, dp),
                (len, ttl, id, fl, seq, ack, win),
                (mss, ws, tsv, sackp, sack),
                (it, ic, other),
            )| {
                let proto = match pk {
                    0 | 1 => Protocol::Tcp,
                    2 => Protocol::Udp,
                    3 => Protocol::Icmp,
                    _ => match Protocol::from_number(other) {
                        Protocol::Other(n) => Protocol::Other(n),
                        _ => Protocol::Other(47),
                    },
                };
                let tcp = proto == Protocol::Tcp;
                Packet {
                    ts_ns: ts,
                    src: Ipv4Addr::from(src),
                    dst: Ipv4Addr::from(dst),
                    proto,
                    src_port: if proto.has_ports() { sp } else { 0 },
                    dst_port: if proto.has_ports() { dp } else { 0 },
                    ip_len: len,
                    ttl,
                    ip_id: id,
                    tcp_flags: if tcp { fl } else { 0 },
                    tcp_seq: if tcp { seq } else { 0 },
                    tcp_ack: if tcp { ack } else { 0 },
                    tcp_window: if tcp { win } else { 0 },
                    tcp_options: if tcp {
                        TcpOptions {
                            mss,
                            window_scale: ws,
                            tsval: tsv,
                            sack_permitted: sackp,
                            sack,
                        }
                    } else {
                        TcpOptions::default()
                    },
                    icmp_type: if proto == Protocol::Icmp { it } else { 0 },
                    icmp_code: if proto == Protocol::Icmp { ic } else { 0 },
                }
            },
        )
}

fn capture(packets: &[Packet], kind: u8) -> Vec<u8> {
    let links = [
        LinkType::ETHERNET,
        LinkType::RAW,
        LinkType::LINUX_SLL2,
        LinkType::NULL,
    ];
    let opts = PcapWriterOptions {
        link_type: links[usize::from(kind) % 4],
        resolution: if kind.is_multiple_of(2) {
            TsResolution::Nano
        } else {
            TsResolution::Micro
        },
        ..PcapWriterOptions::default()
    };
    match kind % 3 {
        0 => {
            let mut w = PcapWriter::new(Vec::new(), opts).unwrap();
            for p in packets {
                w.write_packet(&Packet {
                    ts_ns: p.ts_ns % 4_000_000_000_000_000_000,
                    ..*p
                })
                .unwrap();
            }
            w.finish().unwrap()
        }
        1 => {
            let mut w = PcapngWriter::new(Vec::new(), opts).unwrap();
            for p in packets {
                w.write_packet(p).unwrap();
            }
            w.finish().unwrap()
        }
        _ => {
            let mut w = CsvWriter::new(Vec::new(), CsvLayout::Extended).unwrap();
            for p in packets {
                w.write_packet(p).unwrap();
            }
            w.finish().unwrap()
        }
    }
}

#[derive(Clone, Debug)]
enum Mutation {
    Set(usize, u8),
    Truncate(usize),
    Insert(usize, Vec<u8>),
    /// Overwrite 4 bytes with a large little-endian length.
    BigLen(usize, u32),
}

fn arb_mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(i, v)| Mutation::Insert(i, v)),
        (
            any::<usize>(),
            prop_oneof![
                Just(u32::MAX),
                Just(0x7FFF_FFFF),
                Just(262_145u32),
                Just(13u32),
                any::<u32>()
            ]
        )
            .prop_map(|(i, v)| Mutation::BigLen(i, v)),
    ]
}

fn mutate(mut bytes: Vec<u8>, muts: &[Mutation]) -> Vec<u8> {
    for m in muts {
        if bytes.is_empty() {
            break;
        }
        let n = bytes.len();
        match m {
            Mutation::Set(i, b) => bytes[i % n] = *b,
            Mutation::Truncate(i) => bytes.truncate(i % n),
            Mutation::Insert(i, v) => {
                let at = i % n;
                bytes.splice(at..at, v.iter().copied());
            }
            Mutation::BigLen(i, v) => {
                let at = (i % n) & !3;
                let end = (at + 4).min(n);
                bytes[at..end].copy_from_slice(&v.to_le_bytes()[..end - at]);
            }
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        read_every_way(&bytes);
    }

    #[test]
    fn random_bytes_after_a_valid_magic_never_panic(
        magic in 0usize..6,
        tail in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        let heads: [&[u8]; 6] = [
            &[0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0],
            &[0xa1, 0xb2, 0x3c, 0x4d, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 101],
            &[0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 28, 0, 0, 0, 1, 0, 0, 0, 20, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0],
            &[0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 28, 0x1a, 0x2b, 0x3c, 0x4d, 0, 1, 0, 0],
            b"ts,src_ip,dst_ip,proto,tcp_flags\n",
            &[0x1f, 0x8b, 8, 0],
        ];
        let mut bytes = heads[magic].to_vec();
        bytes.extend_from_slice(&tail);
        read_every_way(&bytes);
    }

    #[test]
    fn mutated_captures_never_panic(
        packets in proptest::collection::vec(arb_packet(), 1..6),
        kind in 0u8..12,
        muts in proptest::collection::vec(arb_mutation(), 1..4),
    ) {
        let bytes = mutate(capture(&packets, kind), &muts);
        read_every_way(&bytes);
        // Compressed too.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &bytes).unwrap();
        read_every_way(&gz.finish().unwrap());
    }

    #[test]
    fn random_packets_round_trip(packets in proptest::collection::vec(arb_packet(), 0..20)) {
        for link in [LinkType::ETHERNET, LinkType::RAW, LinkType::LINUX_SLL, LinkType::LOOP] {
            let opts = PcapWriterOptions { link_type: link, ..PcapWriterOptions::default() };
            let mut w = PcapngWriter::new(Vec::new(), opts.clone()).unwrap();
            for p in &packets {
                w.write_packet(p).unwrap();
            }
            let bytes = w.finish().unwrap();
            let back: Vec<Packet> = PacketReader::new(&bytes[..], "rt").unwrap().collect::<Result<_, _>>().unwrap();
            prop_assert_eq!(&back, &packets);

            let mut w = PcapWriter::new(Vec::new(), opts).unwrap();
            for p in &packets {
                w.write_packet(p).unwrap();
            }
            let bytes = w.finish().unwrap();
            let back: Vec<Packet> = PacketReader::new(&bytes[..], "rt").unwrap().collect::<Result<_, _>>().unwrap();
            prop_assert_eq!(&back, &packets);
        }
        let mut w = CsvWriter::new(Vec::new(), CsvLayout::Extended).unwrap();
        for p in &packets {
            w.write_packet(p).unwrap();
        }
        let bytes = w.finish().unwrap();
        let back: Vec<Packet> = PacketReader::new(&bytes[..], "rt").unwrap().collect::<Result<_, _>>().unwrap();
        prop_assert_eq!(&back, &packets);
    }
}
