//! Choosing the captures to read: directories, gzip by magic, skipped files, duplicates, and
//! the packet stream over them.

use darknet_core::io::inputs::{resolve, CaptureStream, InputWarning, SkipFileReason};
use darknet_core::io::{CsvLayout, CsvWriter, Format, LinkType, PcapWriter, PcapWriterOptions};
use darknet_core::{CoreError, Packet, Protocol};
use std::fs;
use std::io::Write;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!(
            "darknet-io-inputs-{tag}-{}-{n}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).unwrap();
        Scratch(p)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn packets(day: u64, n: u16) -> Vec<Packet> {
    (0..n)
        .map(|i| Packet {
            ts_ns: day * 86_400_000_000_000 + u64::from(i) * 1_000,
            src: Ipv4Addr::new(192, 0, 2, 1 + (i % 100) as u8),
            dst: Ipv4Addr::new(203, 0, 113, 1),
            proto: Protocol::Tcp,
            dst_port: 22 + i,
            ip_len: 40,
            ttl: 64,
            ..Packet::default()
        })
        .collect()
}

fn pcap_bytes(ps: &[Packet]) -> Vec<u8> {
    let mut w = PcapWriter::new(Vec::new(), PcapWriterOptions::default()).unwrap();
    for p in ps {
        w.write_packet(p).unwrap();
    }
    w.finish().unwrap()
}

fn csv_bytes(ps: &[Packet]) -> Vec<u8> {
    let mut w = CsvWriter::new(Vec::new(), CsvLayout::Extended).unwrap();
    for p in ps {
        w.write_packet(p).unwrap();
    }
    w.finish().unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

fn names(files: &[darknet_core::io::CaptureFile]) -> Vec<String> {
    files
        .iter()
        .map(|f| f.path.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn directory_of_only_gzip_captures_is_read_by_magic() {
    let s = Scratch::new("gz");
    fs::write(
        s.path().join("day1.csv.gz"),
        gzip(&csv_bytes(&packets(1, 3))),
    )
    .unwrap();
    fs::write(
        s.path().join("day2.csv.gz"),
        gzip(&csv_bytes(&packets(2, 4))),
    )
    .unwrap();
    // A compressed capture whose name says nothing.
    fs::write(s.path().join("day3.bin"), gzip(&csv_bytes(&packets(3, 5)))).unwrap();
    let inputs = resolve(&[s.path()]).unwrap();
    assert_eq!(
        names(&inputs.files),
        ["day1.csv.gz", "day2.csv.gz", "day3.bin"]
    );
    assert!(inputs.files.iter().all(|f| f.gzip));
    assert_eq!(inputs.files[2].format, Some(Format::Csv));
    assert!(inputs.warnings.is_empty());
    let mut stream = CaptureStream::new(inputs.files);
    let got: Vec<Packet> = stream.by_ref().collect::<Result<_, _>>().unwrap();
    assert_eq!(got.len(), 12);
    let per_file: Vec<u64> = stream.summaries().iter().map(|s| s.packets).collect();
    assert_eq!(per_file, [3, 4, 5]);
    assert_eq!(stream.files_done(), 3);
}

#[test]
fn mixed_directory_reads_captures_and_names_every_skipped_file() {
    let s = Scratch::new("mixed");
    let d = s.path();
    fs::write(d.join("a.pcap"), pcap_bytes(&packets(1, 2))).unwrap();
    fs::write(d.join("b.pcap.gz"), gzip(&pcap_bytes(&packets(2, 2)))).unwrap();
    fs::write(d.join("c.csv"), csv_bytes(&packets(3, 2))).unwrap();
    fs::write(d.join("labels.csv"), "ip,14,15\n192.0.2.1,1,0\n").unwrap();
    fs::write(d.join("notes.txt"), "captured on the lab tap\n").unwrap();
    fs::write(d.join("empty.pcap"), b"").unwrap();
    fs::write(d.join(".DS_Store"), [0u8, 1, 2, 3]).unwrap();
    fs::create_dir(d.join("old")).unwrap();
    let inputs = resolve(&[d]).unwrap();
    assert_eq!(names(&inputs.files), ["a.pcap", "b.pcap.gz"]);
    assert_eq!(inputs.files[1].format, Some(Format::Pcap));
    assert!(inputs.files[1].gzip);
    let skipped: Vec<(String, SkipFileReason)> = inputs
        .warnings
        .iter()
        .map(|w| match w {
            InputWarning::Skipped { path, reason } => (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                reason.clone(),
            ),
            w => panic!("{w}"),
        })
        .collect();
    let reason_of = |name: &str| {
        skipped
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("{name} not reported: {skipped:?}"))
            .1
            .clone()
    };
    assert_eq!(reason_of("c.csv"), SkipFileReason::CsvBesideCaptures);
    assert!(matches!(
        reason_of("labels.csv"),
        SkipFileReason::NotACapture(_)
    ));
    assert!(matches!(
        reason_of("notes.txt"),
        SkipFileReason::NotACapture(_)
    ));
    assert_eq!(reason_of("empty.pcap"), SkipFileReason::Empty);
    assert_eq!(reason_of(".DS_Store"), SkipFileReason::Hidden);
    assert_eq!(reason_of("old"), SkipFileReason::Subdirectory);
    assert_eq!(skipped.len(), 6);
    let shown = inputs.warnings[0].to_string();
    assert!(shown.contains(": skipped: "), "{shown}");
    // The CSV given by name is read.
    let inputs = resolve(&[d.to_path_buf(), d.join("c.csv")]).unwrap();
    assert_eq!(names(&inputs.files), ["a.pcap", "b.pcap.gz", "c.csv"]);
}

#[test]
fn same_file_given_twice_is_read_once_with_a_warning() {
    let s = Scratch::new("dup");
    let d = s.path();
    let a = d.join("a.pcap");
    fs::write(&a, pcap_bytes(&packets(1, 2))).unwrap();
    fs::create_dir(d.join("sub")).unwrap();
    let spelled = d.join("sub").join("..").join("a.pcap");
    let mut given = vec![a.clone(), spelled, d.to_path_buf()];
    #[cfg(unix)]
    {
        let other = Scratch::new("dup-link");
        let link = other.path().join("link.pcap");
        std::os::unix::fs::symlink(&a, &link).unwrap();
        let hard = other.path().join("hard.pcap");
        fs::hard_link(&a, &hard).unwrap();
        given.push(link);
        given.push(hard);
        let inputs = resolve(&given).unwrap();
        assert_eq!(inputs.files.len(), 1);
        assert_eq!(inputs.files[0].path, a);
        let dups = inputs
            .warnings
            .iter()
            .filter(|w| matches!(w, InputWarning::Duplicate { .. }))
            .count();
        assert_eq!(dups, 4, "{:?}", inputs.warnings);
        let msg = inputs.warnings[0].to_string();
        assert!(
            msg.contains("given twice") && msg.contains("read once"),
            "{msg}"
        );
        let (stream, _) = CaptureStream::open(&given).unwrap();
        assert_eq!(stream.count(), 2);
    }
    #[cfg(not(unix))]
    {
        let inputs = resolve(&given).unwrap();
        assert_eq!(inputs.files.len(), 1);
    }
}

#[test]
fn order_is_sorted_whatever_the_argument_order() {
    let s = Scratch::new("order");
    let d = s.path();
    for name in ["b.pcap", "a.pcap", "c.pcap"] {
        fs::write(d.join(name), pcap_bytes(&packets(1, 1))).unwrap();
    }
    let x = resolve(&[d.join("c.pcap"), d.join("a.pcap"), d.join("b.pcap")]).unwrap();
    let y = resolve(&[d.join("b.pcap"), d.join("c.pcap"), d.join("a.pcap")]).unwrap();
    assert_eq!(x, y);
    assert_eq!(names(&x.files), ["a.pcap", "b.pcap", "c.pcap"]);
}

#[test]
fn nothing_to_read_lists_what_was_skipped() {
    let s = Scratch::new("none");
    fs::write(s.path().join("labels.csv"), "ip,14\n192.0.2.1,1\n").unwrap();
    fs::write(s.path().join("README"), "nothing here\n").unwrap();
    let err = resolve(&[s.path()]).unwrap_err();
    assert!(matches!(err, CoreError::NoCaptures { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("labels.csv") && msg.contains("README"),
        "{msg}"
    );
    assert!(msg.contains("no capture file"), "{msg}");
}

#[test]
fn a_file_given_by_name_must_be_a_capture() {
    let s = Scratch::new("named");
    let notes = s.path().join("notes.txt");
    fs::write(&notes, "hello\n").unwrap();
    let err = resolve(&[&notes]).unwrap_err();
    assert!(matches!(err, CoreError::NotACapture { .. }), "{err:?}");
    assert!(err.to_string().contains("notes.txt"), "{err}");
    let missing = s.path().join("missing.pcap");
    let err = resolve(&[&missing]).unwrap_err();
    assert!(matches!(err, CoreError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("missing.pcap"), "{err}");
}

#[test]
fn broken_capture_in_a_directory_is_an_error_not_a_skip() {
    let s = Scratch::new("broken");
    let mut bytes = pcap_bytes(&packets(1, 1));
    bytes.truncate(10); // inside the global header
    fs::write(s.path().join("cut.pcap"), bytes).unwrap();
    let err = resolve(&[s.path()]).unwrap_err();
    assert!(matches!(err, CoreError::Truncated { .. }), "{err:?}");
}

#[test]
fn stream_warns_or_fails_on_a_capture_with_nothing_decoded() {
    let s = Scratch::new("nothing");
    let d = s.path();
    fs::write(d.join("a.pcap"), pcap_bytes(&packets(1, 3))).unwrap();
    let opts = PcapWriterOptions {
        link_type: LinkType::ETHERNET,
        ..PcapWriterOptions::default()
    };
    let mut w = PcapWriter::new(Vec::new(), opts).unwrap();
    for p in packets(2, 4) {
        w.write_packet(&p).unwrap();
    }
    let mut bytes = w.finish().unwrap();
    bytes[20..24].copy_from_slice(&101u32.to_le_bytes());
    fs::write(d.join("b.pcap"), bytes).unwrap();
    // A warning by default: the other capture is read.
    let (mut stream, _) = CaptureStream::open(&[d]).unwrap();
    let got: Vec<Packet> = stream.by_ref().collect::<Result<_, _>>().unwrap();
    assert_eq!(got.len(), 3);
    assert_eq!(stream.nothing_decoded().len(), 1);
    let msg = stream.nothing_decoded()[0].to_string();
    assert!(
        msg.contains("b.pcap") && msg.contains("all 4 frames skipped"),
        "{msg}"
    );
    assert_eq!(stream.skip_counts().total(), 4);
    // An error when required.
    let (stream, _) = CaptureStream::open(&[d]).unwrap();
    let got: Vec<_> = stream.require_decoded(true).collect();
    assert_eq!(got.len(), 4);
    assert!(matches!(
        got.last(),
        Some(Err(CoreError::NothingDecoded { frames: 4, .. }))
    ));
}

#[test]
fn read_trace_sorts_across_files_and_reports_progress() {
    let s = Scratch::new("trace");
    let d = s.path();
    // Named so that the later day comes first in path order.
    fs::write(d.join("a.pcap"), pcap_bytes(&packets(3, 5))).unwrap();
    fs::write(d.join("b.pcap.gz"), gzip(&pcap_bytes(&packets(1, 4)))).unwrap();
    let (mut stream, warnings) = CaptureStream::open(&[d]).unwrap();
    assert!(warnings.is_empty());
    let mut progress = Vec::new();
    let trace = stream
        .read_trace(|done, total| progress.push((done, total)))
        .unwrap();
    assert_eq!(progress, [(1, 2), (2, 2)]);
    assert_eq!(trace.len(), 9);
    assert!(trace.ts_ns().windows(2).all(|w| w[0] <= w[1]));
    let mut all = packets(1, 4);
    all.extend(packets(3, 5));
    assert_eq!(trace, darknet_core::Trace::from_packets(all));
}
