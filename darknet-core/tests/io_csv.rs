//! CSV: both layouts round-trip, columns read by name, vague fields in every accepted form,
//! malformed rows name the line and column, detection by `PacketReader`.

use darknet_core::io::{
    CsvLayout, CsvReader, CsvWriter, Format, PacketReader, SkipReason, EXTENDED_COLUMNS,
    GNN_FOR_DARKNET_COLUMNS,
};
use darknet_core::{tcp_flags, CoreError, Packet, Protocol, TcpOptions};
use std::net::Ipv4Addr;

fn packets() -> Vec<Packet> {
    let dst = Ipv4Addr::new(203, 0, 113, 77);
    let tcp = Packet {
        ts_ns: 1_638_316_800_000_000_001,
        src: Ipv4Addr::new(198, 51, 100, 4),
        dst,
        proto: Protocol::Tcp,
        src_port: 40_000,
        dst_port: 23,
        ip_len: 60,
        ttl: 52,
        ip_id: 4242,
        tcp_flags: tcp_flags::SYN,
        tcp_seq: u32::from(dst),
        tcp_ack: 9,
        tcp_window: 14_600,
        tcp_options: TcpOptions {
            mss: Some(1400),
            window_scale: Some(8),
            tsval: Some(77),
            sack_permitted: true,
            sack: true,
        },
        icmp_type: 0,
        icmp_code: 0,
    };
    vec![
        tcp,
        Packet {
            ts_ns: 1_638_403_199_999_999_999,
            tcp_flags: tcp_flags::ACK | tcp_flags::RST,
            tcp_seq: 5,
            tcp_options: TcpOptions::default(),
            ..tcp
        },
        Packet {
            proto: Protocol::Udp,
            tcp_flags: 0,
            tcp_seq: 0,
            tcp_ack: 0,
            tcp_window: 0,
            tcp_options: TcpOptions::default(),
            ..tcp
        },
        Packet {
            proto: Protocol::Icmp,
            src_port: 0,
            dst_port: 0,
            icmp_type: 8,
            icmp_code: 0,
            tcp_flags: 0,
            tcp_seq: 0,
            tcp_ack: 0,
            tcp_window: 0,
            tcp_options: TcpOptions::default(),
            ..tcp
        },
        Packet {
            proto: Protocol::Other(47),
            src_port: 0,
            dst_port: 0,
            tcp_flags: 0,
            tcp_seq: 0,
            tcp_ack: 0,
            tcp_window: 0,
            tcp_options: TcpOptions::default(),
            ..tcp
        },
    ]
}

fn write(layout: CsvLayout, ps: &[Packet]) -> (Vec<u8>, u64) {
    let mut w = CsvWriter::new(Vec::new(), layout).unwrap();
    for p in ps {
        w.write_packet(p).unwrap();
    }
    let skipped = w.packets_skipped();
    (w.finish().unwrap(), skipped)
}

fn read(bytes: &[u8]) -> Result<Vec<Packet>, CoreError> {
    CsvReader::new(bytes, "<memory>")?.collect()
}

#[test]
fn extended_layout_round_trips_and_has_exact_columns() {
    let ps = packets();
    let (bytes, skipped) = write(CsvLayout::Extended, &ps);
    assert_eq!(skipped, 0);
    let text = String::from_utf8(bytes.clone()).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next().unwrap(), EXTENDED_COLUMNS.join(","));
    assert_eq!(
        lines.next().unwrap(),
        "1638316800.000000001,2048,198.51.100.4,40000,203.0.113.77,23,6,60,52,4242,2,3405803853,9,14600,8,1400,77,1,1,,,1"
    );
    lines.next();
    assert_eq!(
        lines.next().unwrap(),
        "1638316800.000000001,2048,198.51.100.4,40000,203.0.113.77,23,17,60,52,4242,,,,,,,,,,,,0"
    );
    assert_eq!(
        lines.next().unwrap(),
        "1638316800.000000001,2048,198.51.100.4,,203.0.113.77,,1,60,52,4242,,,,,,,,,,8,0,0"
    );
    let r = CsvReader::new(&bytes[..], "x").unwrap();
    assert_eq!(r.layout(), Some(CsvLayout::Extended));
    assert_eq!(read(&bytes).unwrap(), ps);
}

#[test]
fn gnn_layout_round_trips_tcp_and_skips_the_rest() {
    let ps = packets();
    let (bytes, skipped) = write(CsvLayout::GnnForDarknet, &ps);
    assert_eq!(skipped, 3);
    let text = String::from_utf8(bytes.clone()).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next().unwrap(), GNN_FOR_DARKNET_COLUMNS.join(","));
    assert_eq!(
        lines.next().unwrap(),
        "1638316800.000000001,2048,198.51.100.4,40000,203.0.113.77,23,60,2,1,3405803853,52,1400,14600,77,1,1,20211201"
    );
    assert_eq!(
        lines.next().unwrap(),
        "1638403199.999999999,2048,198.51.100.4,40000,203.0.113.77,23,60,20,0,5,52,-,14600,-,-,-,20211201"
    );
    assert!(lines.next().is_none());
    let r = CsvReader::new(&bytes[..], "x").unwrap();
    assert_eq!(r.layout(), Some(CsvLayout::GnnForDarknet));
    // The gnn layout has no ip_id, ack or window scale: those read as zero / absent.
    let want: Vec<Packet> = ps[..2]
        .iter()
        .map(|p| Packet {
            ip_id: 0,
            tcp_ack: 0,
            tcp_options: TcpOptions {
                window_scale: None,
                ..p.tcp_options
            },
            ..*p
        })
        .collect();
    assert_eq!(read(&bytes).unwrap(), want);
}

#[test]
fn columns_by_name_any_order_delimiters_and_vague_forms() {
    let text = "dst_ip\tsrc_ip\tts\ttcp_flags\tt_sack\tt_sackp\tethtype\tproto\textra\n\
                10.0.0.1\t192.0.2.1\t5.5\tSA\t1234567\t0\t0x0800\t6\tx\n\
                10.0.0.1\t192.0.2.1\t6\t0x11\tfalse\tTrue\t2048\ttcp\tx\n\
                10.0.0.1\t192.0.2.1\t7\t.A\t-\t-\t0x86dd\t6\tx\n\
                10.0.0.1\t192.0.2.1\t8\t2\t\t\t0x0806\t6\tx\n";
    let mut r = CsvReader::new(text.as_bytes(), "tabs").unwrap();
    assert_eq!(r.layout(), None);
    let got: Vec<Packet> = r.by_ref().collect::<Result<_, _>>().unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].ts_ns, 5_500_000_000);
    assert_eq!(got[0].tcp_flags, tcp_flags::SYN | tcp_flags::ACK);
    assert!(got[0].tcp_options.sack && !got[0].tcp_options.sack_permitted);
    assert_eq!(got[1].tcp_flags, tcp_flags::FIN | tcp_flags::ACK);
    assert!(!got[1].tcp_options.sack && got[1].tcp_options.sack_permitted);
    assert_eq!(r.skip_counts().get(SkipReason::Ipv6), 1);
    assert_eq!(r.skip_counts().get(SkipReason::Arp), 1);
    assert_eq!(r.records_read(), 4);

    // Space-separated, no proto column: TCP; IPv6 addresses are skipped.
    let text =
        "ts src_ip dst_ip dst_port\n1 192.0.2.1 10.0.0.1 445\n2 2001:db8::1 2001:db8::2 80\n";
    let mut r = CsvReader::new(text.as_bytes(), "spaces").unwrap();
    let got: Vec<Packet> = r.by_ref().collect::<Result<_, _>>().unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].proto, got[0].dst_port), (Protocol::Tcp, 445));
    assert_eq!(r.skip_counts().get(SkipReason::Ipv6), 1);
}

#[test]
fn malformed_rows_name_line_and_column() {
    let (bytes, _) = write(CsvLayout::Extended, &packets()[..2]);
    let text = String::from_utf8(bytes).unwrap();
    let cases = [
        ("198.51.100.4,40000", "198.51.100.4,70000", "src_port"),
        ("198.51.100.4,", "198.51.100.999,", "src_ip"),
        ("1638403199.999999999", "16384031x9.9", "ts"),
        (",52,4242,", ",300,4242,", "ttl"),
        (",6,60,", ",ipx,60,", "proto"),
    ];
    for (from, to, column) in cases {
        // Corrupt the second data row (line 3).
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        assert!(lines[2].contains(from), "{from}");
        lines[2] = lines[2].replacen(from, to, 1);
        let bad = lines.join("\n");
        let got: Vec<_> = CsvReader::new(bad.as_bytes(), "bad.csv").unwrap().collect();
        assert_eq!(got.len(), 2, "{column}");
        assert!(got[0].is_ok());
        match &got[1] {
            Err(CoreError::Csv {
                input,
                line,
                column: c,
                ..
            }) => {
                assert_eq!((input.as_str(), *line, c.as_str()), ("bad.csv", 3, column));
            }
            e => panic!("{column}: {e:?}"),
        }
    }
    // A row with the wrong number of fields.
    let bad = format!("{text}1,2,3\n");
    let got: Vec<_> = CsvReader::new(bad.as_bytes(), "short.csv")
        .unwrap()
        .collect();
    assert!(
        matches!(got.last(), Some(Err(CoreError::Csv { line: 4, .. }))),
        "{:?}",
        got.last()
    );
    // A header without the required columns.
    assert!(matches!(
        CsvReader::new(&b"a,b,c\n1,2,3\n"[..], "x").err(),
        Some(CoreError::Csv { line: 1, .. })
    ));
}

#[test]
fn packet_reader_detects_csv_and_gzip_csv() {
    let ps = packets();
    let (bytes, _) = write(CsvLayout::Extended, &ps);
    let r = PacketReader::new(&bytes[..], "x.csv").unwrap();
    assert_eq!(r.format(), Format::Csv);
    assert_eq!(r.collect::<Result<Vec<_>, _>>().unwrap(), ps);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &bytes).unwrap();
    let gz = gz.finish().unwrap();
    let r = PacketReader::new(&gz[..], "x.csv.gz").unwrap();
    assert!(r.is_gzip());
    assert_eq!(r.collect::<Result<Vec<_>, _>>().unwrap(), ps);
    // Text that is not a packet table says which columns were expected and found.
    let err = PacketReader::new(&b"just some text\n"[..], "notes.txt")
        .err()
        .unwrap();
    assert!(matches!(err, CoreError::NotACapture { .. }), "{err}");
    assert!(
        err.to_string().contains("`ts`, `src_ip` and `dst_ip`"),
        "{err}"
    );
    // A UTF-8 byte-order mark and CRLF line ends (spreadsheet exports).
    let text = "\u{feff}ts,src_ip,dst_ip,proto,dst_port\r\n1.5,192.0.2.1,10.0.0.1,17,53\r\n";
    let got: Vec<Packet> = PacketReader::new(text.as_bytes(), "excel.csv")
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        (got[0].ts_ns, got[0].proto, got[0].dst_port),
        (1_500_000_000, Protocol::Udp, 53)
    );
    // A header-only CSV is zero packets.
    let (bytes, _) = write(CsvLayout::GnnForDarknet, &[]);
    assert_eq!(read(&bytes).unwrap(), vec![]);
}

#[test]
fn rows_shorter_or_longer_than_the_header_name_their_line() {
    let (bytes, _) = write(CsvLayout::Extended, &packets()[..3]);
    let text = String::from_utf8(bytes).unwrap();
    // Every data row one field short (the case that used to shift columns silently).
    let short: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                l.to_string()
            } else {
                l.rsplit_once(',').unwrap().0.to_string()
            }
        })
        .collect();
    let short = short.join("\n") + "\n";
    let got: Vec<_> = CsvReader::new(short.as_bytes(), "short.csv")
        .unwrap()
        .collect();
    assert_eq!(got.len(), 1, "{got:?}");
    let err = got[0].as_ref().unwrap_err();
    match err {
        CoreError::Csv { input, line, .. } => assert_eq!((input.as_str(), *line), ("short.csv", 2)),
        e => panic!("{e:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains("line 2"), "{msg}");
    assert!(
        msg.contains("21 fields") && msg.contains("22 columns"),
        "{msg}"
    );
    // One line number only: the csv crate's own positions are not repeated.
    assert!(!msg.contains("byte") && !msg.contains("record"), "{msg}");
    // A longer row in the middle: its own line.
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[3].push_str(",extra");
    let long = lines.join("\n");
    let got: Vec<_> = PacketReader::new(long.as_bytes(), "long.csv")
        .unwrap()
        .collect();
    assert_eq!(got.len(), 3);
    assert!(
        matches!(&got[2], Err(CoreError::Csv { line: 4, .. })),
        "{:?}",
        got[2]
    );
}

#[test]
fn semicolon_and_pipe_separated_tables_are_read() {
    let ps = packets();
    let (bytes, _) = write(CsvLayout::Extended, &ps);
    let text = String::from_utf8(bytes).unwrap();
    for sep in [";", "|", "\t"] {
        let t = text.replace(',', sep);
        let got: Vec<Packet> = PacketReader::new(t.as_bytes(), "semi.csv")
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(got, ps, "{sep:?}");
    }
}

#[test]
fn text_without_packet_columns_lists_expected_and_found() {
    let text = "time;source;destination\n1.5;192.0.2.1;10.0.0.1\n";
    let err = PacketReader::new(text.as_bytes(), "export.csv")
        .err()
        .unwrap();
    let msg = err.to_string();
    assert!(matches!(err, CoreError::NotACapture { .. }), "{msg}");
    assert!(msg.starts_with("export.csv: "), "{msg}");
    assert!(msg.contains("`time`, `source`, `destination`"), "{msg}");
    assert!(msg.contains("semicolon-separated"), "{msg}");
    assert!(msg.contains("missing ts, src_ip, dst_ip"), "{msg}");
    assert!(!msg.contains("not a pcap or pcapng file"), "{msg}");
    // The reader itself reports it at line 1.
    assert!(matches!(
        CsvReader::new(text.as_bytes(), "export.csv").err(),
        Some(CoreError::Csv { line: 1, .. })
    ));
}
