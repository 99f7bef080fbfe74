//! Criterion benches for darknet-core (see BENCHMARKS.md for recorded figures):
//! - `read`: read + parse of an in-memory capture of synthetic darknet packets (pcap, pcapng,
//!   extended CSV), directly through the format readers and through the
//!   detecting `PacketReader`;
//! - `write`: the pcap and CSV writers into memory.
//!
//! Captures are written once, outside the timed closures.
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use darknet_benches::quick_config;
use darknet_core::io::{
    CsvLayout, CsvReader, CsvWriter, PacketReader, PcapReader, PcapWriter, PcapWriterOptions,
    PcapngReader, PcapngWriter,
};
use darknet_core::{Packet, SynthConfig};
use std::hint::black_box;

/// One day of the default synthetic darknet, at most `n` packets.
fn packets(n: usize) -> Vec<Packet> {
    let synth = SynthConfig::default()
        .days(1)
        .seed(1)
        .build()
        .expect("synthetic darknet");
    let mut p = synth.day(0);
    p.truncate(n);
    p
}

fn pcap_bytes(ps: &[Packet]) -> Vec<u8> {
    let mut w = PcapWriter::new(Vec::new(), PcapWriterOptions::default()).unwrap();
    for p in ps {
        w.write_packet(p).unwrap();
    }
    w.finish().unwrap()
}

fn pcapng_bytes(ps: &[Packet]) -> Vec<u8> {
    let mut w = PcapngWriter::new(Vec::new(), PcapWriterOptions::default()).unwrap();
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

/// Sums a field so the parse cannot be optimised away.
fn consume(it: impl Iterator<Item = darknet_core::Result<Packet>>) -> u64 {
    it.map(|p| u64::from(p.unwrap().dst_port)).sum()
}

fn read(c: &mut Criterion) {
    let ps = packets(200_000);
    let n = ps.len();
    let pcap = pcap_bytes(&ps);
    let pcapng = pcapng_bytes(&ps);
    let csv = csv_bytes(&ps);
    eprintln!(
        "capture sizes for {n} packets: pcap {} B ({:.1} B/packet), pcapng {} B ({:.1}), csv {} B ({:.1})",
        pcap.len(),
        pcap.len() as f64 / n as f64,
        pcapng.len(),
        pcapng.len() as f64 / n as f64,
        csv.len(),
        csv.len() as f64 / n as f64
    );
    let mut g = c.benchmark_group("read");
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function(BenchmarkId::new("pcap", n), |b| {
        b.iter(|| consume(PcapReader::new(black_box(&pcap[..]), "bench").unwrap()))
    });
    g.bench_function(BenchmarkId::new("pcapng", n), |b| {
        b.iter(|| consume(PcapngReader::new(black_box(&pcapng[..]), "bench").unwrap()))
    });
    g.bench_function(BenchmarkId::new("detect_pcap", n), |b| {
        b.iter(|| consume(PacketReader::new(black_box(&pcap[..]), "bench").unwrap()))
    });
    g.bench_function(BenchmarkId::new("csv_extended", n), |b| {
        b.iter(|| consume(CsvReader::new(black_box(&csv[..]), "bench").unwrap()))
    });
    g.finish();
}

fn write(c: &mut Criterion) {
    let ps = packets(200_000);
    let n = ps.len();
    let mut g = c.benchmark_group("write");
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function(BenchmarkId::new("pcap", n), |b| {
        b.iter(|| pcap_bytes(black_box(&ps)).len())
    });
    g.bench_function(BenchmarkId::new("csv_extended", n), |b| {
        b.iter(|| csv_bytes(black_box(&ps)).len())
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = quick_config();
    targets = read, write
}
criterion_main!(benches);
