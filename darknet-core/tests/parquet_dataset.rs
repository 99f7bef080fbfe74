//! Parquet packet datasets: round trips, layout, order and bad input.
#![cfg(feature = "parquet")]

use darknet_core::io::parquet::{
    dataset_files, is_dataset_dir, packet_schema, write_dataset, ParquetDatasetReader,
    ParquetDatasetWriter, ParquetWriterOptions,
};
use darknet_core::{CoreError, Packet, Protocol, SynthConfig, TcpOptions, NANOS_PER_DAY};
use std::net::Ipv4Addr;
use std::path::PathBuf;

/// A fresh, empty scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("darknet-pq-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn read_all(dir: &std::path::Path) -> Vec<Packet> {
    ParquetDatasetReader::open(dir)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn synthetic_darknet_round_trips() {
    let trace = SynthConfig::paper_a()
        .hosts(120)
        .days(3)
        .seed(3)
        .build()
        .unwrap()
        .trace();
    let packets: Vec<Packet> = trace.iter().collect();
    assert!(packets.len() > 5_000);
    let dir = scratch("roundtrip");
    let opts = ParquetWriterOptions {
        row_group_rows: 1_000,
        ..ParquetWriterOptions::default()
    };
    assert_eq!(
        write_dataset(&dir, &packets, opts).unwrap(),
        packets.len() as u64
    );
    let files = dataset_files(&dir).unwrap();
    assert_eq!(files.len(), 3, "one file per day");
    for (day, path) in &files {
        let d = day.unwrap();
        let name = path.strip_prefix(&dir).unwrap().display().to_string();
        assert_eq!(
            name,
            format!(
                "day={}/part-00000.parquet",
                darknet_core::io::parquet::partition_date(d)
            )
        );
    }
    assert!(is_dataset_dir(&dir));
    assert_eq!(read_all(&dir), packets);
    // Row groups of the requested size, zstd-compressed, and the typed schema.
    let f = std::fs::File::open(&files[0].1).unwrap();
    let r = parquet::file::reader::SerializedFileReader::new(f).unwrap();
    use parquet::file::reader::FileReader;
    let meta = r.metadata();
    assert!(meta.num_row_groups() > 1);
    assert!(meta.row_groups().iter().all(|g| g.num_rows() <= 1_000));
    assert!(matches!(
        meta.row_group(0).column(0).compression(),
        parquet::basic::Compression::ZSTD(_)
    ));
    let f = std::fs::File::open(&files[0].1).unwrap();
    let b = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f).unwrap();
    assert_eq!(b.schema().fields(), packet_schema().fields());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn every_field_and_absent_option_round_trips() {
    let base = Packet {
        ts_ns: 5 * NANOS_PER_DAY + 17,
        src: Ipv4Addr::new(198, 51, 7, 1),
        dst: Ipv4Addr::new(10, 9, 8, 7),
        ip_len: 60,
        ttl: 240,
        ip_id: 54_321,
        ..Packet::default()
    };
    let packets = vec![
        Packet {
            src_port: 40_000,
            dst_port: 443,
            tcp_flags: 0x12,
            tcp_seq: u32::MAX,
            tcp_ack: 7,
            tcp_window: 65_535,
            tcp_options: TcpOptions {
                mss: Some(1460),
                window_scale: Some(7),
                tsval: Some(123_456),
                sack_permitted: true,
                sack: true,
            },
            ..base
        },
        Packet {
            tcp_options: TcpOptions::default(),
            tcp_flags: 0x02,
            ..base
        },
        Packet {
            proto: Protocol::Udp,
            src_port: 53,
            dst_port: 5353,
            ..base
        },
        Packet {
            proto: Protocol::Icmp,
            icmp_type: 8,
            icmp_code: 3,
            ..base
        },
        Packet {
            proto: Protocol::Other(47),
            ..base
        },
    ];
    let dir = scratch("fields");
    write_dataset(&dir, &packets, ParquetWriterOptions::default()).unwrap();
    assert_eq!(read_all(&dir), packets);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn equal_timestamps_keep_capture_order_and_days_are_partitions() {
    let p = |ts: u64, last: u8| Packet {
        ts_ns: ts,
        src: Ipv4Addr::new(203, 0, 113, last),
        dst_port: u16::from(last),
        ..Packet::default()
    };
    // Day 2, then day 1, then day 2 again: capture order inside each day is kept.
    let day1 = NANOS_PER_DAY;
    let day2 = 2 * NANOS_PER_DAY;
    let packets = vec![
        p(day2 + 9, 1),
        p(day2 + 9, 2),
        p(day1 + 5, 3),
        p(day2 + 9, 4),
        p(day1 + 5, 5),
    ];
    let dir = scratch("order");
    write_dataset(&dir, &packets, ParquetWriterOptions::default()).unwrap();
    let back = read_all(&dir);
    let order: Vec<u8> = back.iter().map(|q| q.src.octets()[3]).collect();
    assert_eq!(order, vec![3, 5, 1, 2, 4]);
    // The seq column numbers each day's packets from 0 in the order given.
    let files = dataset_files(&dir).unwrap();
    let f = std::fs::File::open(&files[1].1).unwrap();
    let r = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f)
        .unwrap()
        .build()
        .unwrap();
    let seq: Vec<i64> = r
        .flat_map(|b| {
            let b = b.unwrap();
            let c = b.column_by_name("seq").unwrap().clone();
            let c = c
                .as_any()
                .downcast_ref::<arrow_array::Int64Array>()
                .unwrap()
                .clone();
            c.values().to_vec()
        })
        .collect();
    assert_eq!(seq, vec![0, 1, 2]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_single_parquet_file_reads_too() {
    let packets = vec![Packet {
        ts_ns: 99,
        ..Packet::default()
    }];
    let dir = scratch("single");
    write_dataset(&dir, &packets, ParquetWriterOptions::default()).unwrap();
    let (_, file) = dataset_files(&dir).unwrap().remove(0);
    let back: Vec<Packet> = ParquetDatasetReader::open(&file)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(back, packets);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn writer_refuses_bad_settings_and_non_empty_directories() {
    let dir = scratch("bad-settings");
    let e = ParquetDatasetWriter::create(
        &dir,
        ParquetWriterOptions {
            row_group_rows: 0,
            ..Default::default()
        },
    )
    .err()
    .unwrap();
    assert!(e.to_string().contains("row_group_rows"), "{e}");
    let e = ParquetDatasetWriter::create(
        &dir,
        ParquetWriterOptions {
            zstd_level: 40,
            ..Default::default()
        },
    )
    .err()
    .unwrap();
    assert!(e.to_string().contains("zstd_level"), "{e}");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("x"), b"x").unwrap();
    let e = ParquetDatasetWriter::create(&dir, Default::default())
        .err()
        .unwrap();
    assert!(matches!(e, CoreError::Parquet { .. }), "{e}");
    assert!(e.to_string().contains("not empty"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn timestamps_beyond_int64_are_unwritable() {
    let dir = scratch("late");
    let mut w = ParquetDatasetWriter::create(&dir, Default::default()).unwrap();
    let e = w
        .write_packet(&Packet {
            ts_ns: u64::MAX,
            ..Packet::default()
        })
        .unwrap_err();
    assert!(
        matches!(e, CoreError::Unwritable { field: "ts_ns", .. }),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_directory_without_parquet_files_is_an_error() {
    let dir = scratch("empty");
    std::fs::create_dir_all(dir.join("day=2021-12-01")).unwrap();
    let e = ParquetDatasetReader::open(&dir).err().unwrap();
    assert!(e.to_string().contains("no Parquet file"), "{e}");
    assert!(!is_dataset_dir(&dir));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Writes one Parquet file with the given columns.
fn write_file(path: &std::path::Path, cols: Vec<(&str, arrow_array::ArrayRef)>) {
    let batch = arrow_array::RecordBatch::try_from_iter(cols).unwrap();
    let f = std::fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(f, batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

#[test]
fn wrong_types_nulls_and_negative_timestamps_name_file_row_and_column() {
    use arrow_array::{ArrayRef, Int64Array, StringArray, UInt32Array};
    use std::sync::Arc;
    let dir = scratch("bad-rows");
    std::fs::create_dir_all(&dir).unwrap();
    let addr = || Arc::new(UInt32Array::from(vec![1u32, 2])) as ArrayRef;
    // A column of the wrong type.
    let f = dir.join("wrong-type.parquet");
    write_file(
        &f,
        vec![
            (
                "ts_ns",
                Arc::new(StringArray::from(vec!["1", "2"])) as ArrayRef,
            ),
            ("src_ip", addr()),
            ("dst_ip", addr()),
        ],
    );
    let e = ParquetDatasetReader::open(&f)
        .unwrap()
        .next()
        .unwrap()
        .unwrap_err();
    let m = e.to_string();
    assert!(
        m.contains("wrong-type.parquet") && m.contains("`ts_ns`"),
        "{m}"
    );
    assert!(m.contains("expected type Int64"), "{m}");
    // A null timestamp in row 1.
    let f = dir.join("null.parquet");
    write_file(
        &f,
        vec![
            (
                "ts_ns",
                Arc::new(Int64Array::from(vec![Some(1), None])) as ArrayRef,
            ),
            ("src_ip", addr()),
            ("dst_ip", addr()),
        ],
    );
    let r: Vec<_> = ParquetDatasetReader::open(&f).unwrap().collect();
    assert_eq!(r.len(), 2, "one packet, then the error, then the end");
    let m = r[1].as_ref().unwrap_err().to_string();
    assert!(
        m.contains("row 1, column `ts_ns`") && m.contains("found null"),
        "{m}"
    );
    // A negative timestamp.
    let f = dir.join("negative.parquet");
    write_file(
        &f,
        vec![
            ("ts_ns", Arc::new(Int64Array::from(vec![-5, 1])) as ArrayRef),
            ("src_ip", addr()),
            ("dst_ip", addr()),
        ],
    );
    let m = ParquetDatasetReader::open(&f)
        .unwrap()
        .next()
        .unwrap()
        .unwrap_err()
        .to_string();
    assert!(
        m.contains("row 0, column `ts_ns`") && m.contains("-5"),
        "{m}"
    );
    // A missing required column.
    let f = dir.join("missing.parquet");
    write_file(
        &f,
        vec![
            ("ts_ns", Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef),
            ("src_ip", addr()),
        ],
    );
    let m = ParquetDatasetReader::open(&f)
        .unwrap()
        .next()
        .unwrap()
        .unwrap_err()
        .to_string();
    assert!(m.contains("missing column `dst_ip`"), "{m}");
    // Not a Parquet file at all.
    let f = dir.join("text.parquet");
    std::fs::write(&f, b"ts_ns,src_ip\n1,2\n").unwrap();
    let m = ParquetDatasetReader::open(&f)
        .unwrap()
        .next()
        .unwrap()
        .unwrap_err()
        .to_string();
    assert!(m.contains("text.parquet"), "{m}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn tool_inputs_accept_a_dataset_directory_and_a_parquet_file() {
    use darknet_core::io::inputs::{resolve, CaptureStream};
    use darknet_core::io::Format;
    let trace = SynthConfig::paper_a()
        .hosts(40)
        .days(2)
        .seed(5)
        .build()
        .unwrap()
        .trace();
    let packets: Vec<Packet> = trace.iter().collect();
    let dir = scratch("inputs");
    write_dataset(&dir, &packets, ParquetWriterOptions::default()).unwrap();
    // The dataset directory is one input, not a directory of captures.
    let inputs = resolve(&[&dir]).unwrap();
    assert_eq!(inputs.files.len(), 1);
    assert_eq!(inputs.files[0].format, Some(Format::Parquet));
    assert!(inputs.warnings.is_empty(), "{:?}", inputs.warnings);
    let (mut stream, _) = CaptureStream::open(&[&dir]).unwrap();
    let back = stream.read_trace(|_, _| {}).unwrap();
    assert_eq!(back.iter().collect::<Vec<_>>(), packets);
    assert_eq!(stream.summaries()[0].packets, packets.len() as u64);
    // One of its files, given by name.
    let files = dataset_files(&dir).unwrap();
    assert!(files.len() >= 2, "one partition a day");
    let inputs = resolve(&[&files[0].1]).unwrap();
    assert_eq!(inputs.files[0].format, Some(Format::Parquet));
    let first_day: Vec<Packet> = CaptureStream::new(inputs.files)
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(!first_day.is_empty() && first_day.len() < packets.len());
    assert_eq!(first_day[..], packets[..first_day.len()]);
    // A directory with a stray non-Parquet file only is still no dataset.
    let empty = scratch("inputs-none");
    std::fs::create_dir_all(empty.join("day=2024-01-01")).unwrap();
    assert!(matches!(
        resolve(&[&empty]).unwrap_err(),
        CoreError::NoCaptures { .. }
    ));
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&empty).unwrap();
}
