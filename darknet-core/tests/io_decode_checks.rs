//! Inputs that read "successfully" but wrongly: every frame skipped, sub-second fields out of
//! range, gzip streams cut short.

use darknet_core::io::{LinkType, PacketReader, PcapWriter, PcapWriterOptions, TsResolution};
use darknet_core::{CoreError, Packet, Protocol};
use std::io::Write;
use std::net::Ipv4Addr;

fn packets(n: u32) -> Vec<Packet> {
    (0..n)
        .map(|i| Packet {
            ts_ns: 1_600_000_000_000_000_000 + u64::from(i) * 1_000_000,
            src: Ipv4Addr::new(192, 0, 2, (i % 200) as u8 + 1),
            dst: Ipv4Addr::new(203, 0, 113, 9),
            proto: Protocol::Tcp,
            dst_port: 23,
            ip_len: 40,
            ttl: 64,
            ..Packet::default()
        })
        .collect()
}

fn pcap(link_type: LinkType, resolution: TsResolution, n: u32) -> Vec<u8> {
    let opts = PcapWriterOptions {
        link_type,
        resolution,
        ..PcapWriterOptions::default()
    };
    let mut w = PcapWriter::new(Vec::new(), opts).unwrap();
    for p in packets(n) {
        w.write_packet(&p).unwrap();
    }
    w.finish().unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

#[test]
fn ethernet_capture_stamped_raw_is_nothing_decoded() {
    let mut bytes = pcap(LinkType::ETHERNET, TsResolution::Micro, 5);
    // Link type field of the global header (little-endian u32 at byte 20) set to RAW (101).
    bytes[20..24].copy_from_slice(&101u32.to_le_bytes());
    let mut r = PacketReader::new(&bytes[..], "eth.pcap").unwrap();
    assert_eq!(r.by_ref().count(), 0);
    assert_eq!(r.skip_counts().total(), 5);
    assert_eq!(r.link_type(), Some(LinkType::RAW));
    let err = r.ensure_decoded().unwrap_err();
    assert!(
        matches!(err, CoreError::NothingDecoded { frames: 5, .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.starts_with("eth.pcap: all 5 frames skipped"), "{msg}");
    assert!(msg.contains("link type"), "{msg}");
    assert!(r.nothing_decoded().is_some());
}

#[test]
fn decoded_or_empty_captures_are_not_suspicious() {
    let bytes = pcap(LinkType::ETHERNET, TsResolution::Micro, 3);
    let mut r = PacketReader::new(&bytes[..], "ok.pcap").unwrap();
    assert_eq!(r.by_ref().count(), 3);
    r.ensure_decoded().unwrap();
    // A global header and no record: zero packets, nothing suspicious.
    let bytes = pcap(LinkType::ETHERNET, TsResolution::Micro, 0);
    let mut r = PacketReader::new(&bytes[..], "empty.pcap").unwrap();
    assert_eq!(r.by_ref().count(), 0);
    assert!(r.nothing_decoded().is_none());
}

#[test]
fn ipv6_only_csv_is_nothing_decoded_with_reason() {
    let text = "ts,src_ip,dst_ip\n1.0,2001:db8::1,2001:db8::2\n2.0,2001:db8::1,2001:db8::3\n";
    let mut r = PacketReader::new(text.as_bytes(), "v6.csv").unwrap();
    assert_eq!(r.by_ref().count(), 0);
    let msg = r.ensure_decoded().unwrap_err().to_string();
    assert!(
        msg.contains("all 2 frames skipped") && msg.contains("IPv6 only"),
        "{msg}"
    );
}

#[test]
fn sub_second_field_out_of_range_is_an_error_with_index_and_offset() {
    for (resolution, limit) in [
        (TsResolution::Micro, 1_000_000u32),
        (TsResolution::Nano, 1_000_000_000),
    ] {
        for bad in [limit, u32::MAX] {
            let mut bytes = pcap(LinkType::RAW, resolution, 3);
            // The second record: global header 24 bytes, each record 16 + 40 bytes.
            let rec = 24 + 16 + 40;
            bytes[rec + 4..rec + 8].copy_from_slice(&bad.to_le_bytes());
            let got: Vec<_> = PacketReader::new(&bytes[..], "frac.pcap")
                .unwrap()
                .collect();
            assert_eq!(got.len(), 2, "{resolution:?} {bad}");
            assert!(got[0].is_ok());
            match &got[1] {
                Err(CoreError::Malformed {
                    packet_index,
                    offset,
                    reason,
                    ..
                }) => {
                    assert_eq!((*packet_index, *offset), (1, rec as u64));
                    assert!(reason.contains(&bad.to_string()), "{reason}");
                    assert!(reason.contains(&limit.to_string()), "{reason}");
                }
                e => panic!("{e:?}"),
            }
        }
        // The largest valid value is read.
        let mut bytes = pcap(LinkType::RAW, resolution, 1);
        bytes[28..32].copy_from_slice(&(limit - 1).to_le_bytes());
        let got: Vec<Packet> = PacketReader::new(&bytes[..], "ok.pcap")
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(got.len(), 1);
    }
}

#[test]
fn truncated_gzip_names_packet_index_and_offset() {
    let plain = pcap(LinkType::RAW, TsResolution::Micro, 2_000);
    let gz = gzip(&plain);
    let cut = &gz[..gz.len() / 2];
    let got: Vec<_> = PacketReader::new(cut, "day.pcap.gz").unwrap().collect();
    let n_ok = got.iter().filter(|r| r.is_ok()).count();
    assert!(n_ok > 0 && n_ok < 2_000, "{n_ok}");
    let err = got.last().unwrap().as_ref().unwrap_err();
    match err {
        CoreError::GzipCorrupt {
            input,
            packet_index,
            offset,
            ..
        } => {
            assert_eq!(input, "day.pcap.gz");
            assert_eq!(*packet_index, n_ok as u64);
            assert_eq!(*offset, 24 + 56 * n_ok as u64);
        }
        e => panic!("{e:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains(&format!("packet {n_ok}")), "{msg}");
    // The same for a gzip-compressed CSV.
    let mut csv = String::from("ts,src_ip,dst_ip,proto,dst_port\n");
    for i in 0..5_000 {
        csv.push_str(&format!(
            "{i}.5,192.0.2.{},10.0.0.1,6,{}\n",
            i % 250 + 1,
            i % 1000
        ));
    }
    let gz = gzip(csv.as_bytes());
    let got: Vec<_> = PacketReader::new(&gz[..gz.len() / 2], "day.csv.gz")
        .unwrap()
        .collect();
    let n_ok = got.iter().filter(|r| r.is_ok()).count();
    let msg = got.last().unwrap().as_ref().unwrap_err().to_string();
    assert!(msg.starts_with("day.csv.gz: "), "{msg}");
    assert!(msg.contains(&format!("packet {n_ok}")), "{msg}");
    assert!(msg.contains("gzip"), "{msg}");
    assert!(n_ok < 5_000);
}
