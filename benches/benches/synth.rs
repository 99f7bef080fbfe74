//! Criterion benches for the trace, the filters, per-host statistics and the synthetic
//! darknet (see BENCHMARKS.md, "darknet-core: trace, filters, synthetic darknet").
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use darknet_benches::{quick_config, synthetic_trace_paper_a};
use darknet_core::filter::{
    bogon_filter, isolated_filter, min_packets_filter, periodic_filter, tcp_only_filter,
    vertical_scan_filter, BogonFilterConfig, IsolatedConfig, MinPacketsConfig, PeriodicConfig,
    VerticalScanConfig,
};
use darknet_core::stats::{HostStatsTable, Sharding};
use darknet_core::{SynthConfig, Trace};
use std::hint::black_box;

/// (hosts, days) of the inputs: about 0.3 M and 1.3 M packets.
const SIZES: [(usize, u32); 2] = [(2_000, 7), (4_000, 14)];

fn generation(c: &mut Criterion) {
    let mut g = c.benchmark_group("synth_generate_day");
    for (hosts, intensity) in [(3_000usize, 1.0f64), (20_000, 1.0)] {
        let s = SynthConfig::paper_b()
            .hosts(hosts)
            .days(3)
            .intensity(intensity)
            .build()
            .expect("valid config");
        let n = s.day(1).len() as u64;
        g.throughput(Throughput::Elements(n));
        let mut buf = Vec::new();
        g.bench_with_input(
            BenchmarkId::new("paper_b", format!("{hosts}h_{n}pkts")),
            &s,
            |b, s| {
                b.iter(|| {
                    s.day_into(1, &mut buf);
                    black_box(buf.len())
                })
            },
        );
    }
    let s = SynthConfig::paper_a()
        .hosts(20_000)
        .days(3)
        .build()
        .expect("valid config");
    let n = s.day(1).len() as u64;
    g.throughput(Throughput::Elements(n));
    let mut buf = Vec::new();
    g.bench_with_input(
        BenchmarkId::new("paper_a", format!("20000h_{n}pkts")),
        &s,
        |b, s| {
            b.iter(|| {
                s.day_into(1, &mut buf);
                black_box(buf.len())
            })
        },
    );
    g.finish();
}

fn trace_build(c: &mut Criterion) {
    let mut g = c.benchmark_group("trace_build");
    for (hosts, days) in SIZES {
        let t = synthetic_trace_paper_a(hosts, days, 1);
        let packets: Vec<_> = t.iter().collect();
        g.throughput(Throughput::Elements(packets.len() as u64));
        g.bench_with_input(
            BenchmarkId::new("from_sorted_packets", packets.len()),
            &packets,
            |b, p| b.iter(|| black_box(Trace::from_packets(p.iter().copied()).len())),
        );
        g.bench_with_input(BenchmarkId::new("by_source", packets.len()), &t, |b, t| {
            b.iter(|| black_box(t.by_source().len()))
        });
    }
    g.finish();
}

fn filters(c: &mut Criterion) {
    let mut g = c.benchmark_group("filters");
    for (hosts, days) in SIZES {
        let t = synthetic_trace_paper_a(hosts, days, 1);
        let n = t.len();
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("bogon", n), &t, |b, t| {
            b.iter(|| black_box(bogon_filter(t, &BogonFilterConfig::default()).trace.len()))
        });
        g.bench_with_input(BenchmarkId::new("isolated", n), &t, |b, t| {
            b.iter(|| {
                black_box(isolated_filter(t, &IsolatedConfig::default()).map(|f| f.trace.len()))
            })
        });
        g.bench_with_input(BenchmarkId::new("vertical_scan", n), &t, |b, t| {
            b.iter(|| {
                black_box(
                    vertical_scan_filter(t, &VerticalScanConfig::default()).map(|f| f.trace.len()),
                )
            })
        });
        g.bench_with_input(BenchmarkId::new("periodic", n), &t, |b, t| {
            b.iter(|| {
                black_box(periodic_filter(t, &PeriodicConfig::default()).map(|f| f.trace.len()))
            })
        });
        g.bench_with_input(BenchmarkId::new("tcp_only", n), &t, |b, t| {
            b.iter(|| black_box(tcp_only_filter(t).trace.len()))
        });
        g.bench_with_input(BenchmarkId::new("min_packets_per_day", n), &t, |b, t| {
            b.iter(|| {
                black_box(
                    min_packets_filter(t, &MinPacketsConfig::default()).map(|f| f.trace.len()),
                )
            })
        });
    }
    g.finish();
}

fn host_stats(c: &mut Criterion) {
    let mut g = c.benchmark_group("host_stats");
    for (hosts, days) in SIZES {
        let t = synthetic_trace_paper_a(hosts, days, 1);
        let n = t.len();
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("whole", n), &t, |b, t| {
            b.iter(|| black_box(HostStatsTable::from_trace(t).len()))
        });
        g.bench_with_input(BenchmarkId::new("by_day_merged", n), &t, |b, t| {
            b.iter(|| black_box(HostStatsTable::from_trace_sharded(t, Sharding::ByDay).len()))
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = quick_config();
    targets = generation, trace_build, filters, host_stats
}
criterion_main!(benches);
