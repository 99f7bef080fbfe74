//! Parquet packet datasets on the command line (feature `parquet`): `convert --format parquet`
//! writes one, and the tools' inputs take it as they take captures.
#![cfg(feature = "parquet")]

mod common;

use common::{hash, leftovers, run_in, snapshot, Scratch};
use darknet_core::io::{PcapWriter, PcapWriterOptions};
use darknet_core::SynthConfig;
use std::path::Path;

/// A two-day pcap of the synthetic darknet in `dir`.
fn two_day_pcap(dir: &Path) -> std::path::PathBuf {
    let trace = SynthConfig::paper_a()
        .hosts(60)
        .days(2)
        .seed(3)
        .build()
        .unwrap()
        .trace();
    let mut w = PcapWriter::new(Vec::new(), PcapWriterOptions::default()).unwrap();
    for p in trace.iter() {
        w.write_packet(&p).unwrap();
    }
    let path = dir.join("two-days.pcap");
    std::fs::write(&path, w.finish().unwrap()).unwrap();
    path
}

#[test]
fn convert_writes_a_dataset_that_reads_back_as_the_capture() {
    let s = Scratch::new("pq-convert");
    two_day_pcap(&s.0);
    let r = run_in(
        &s.0,
        "convert",
        &["two-days.pcap", "--format", "parquet", "--out", "ds"],
    )
    .ok();
    assert!(r.stderr.contains("2 day partitions"), "{r:#?}");
    let files: Vec<_> = snapshot(&s.join("ds")).into_keys().collect();
    assert!(
        files.iter().all(|f| f.to_string_lossy().starts_with("day=")
            && f.extension().is_some_and(|e| e == "parquet")),
        "{files:?}"
    );
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(leftovers(&s.0).is_empty(), "{:?}", leftovers(&s.0));
    // The dataset converts back to the same CSV as the capture (every field, capture order).
    run_in(&s.0, "convert", &["two-days.pcap", "-o", "from-pcap.csv"]).ok();
    run_in(&s.0, "convert", &["--input", "ds", "-o", "from-ds.csv"]).ok();
    let a = std::fs::read(s.join("from-pcap.csv")).unwrap();
    assert!(a.len() > 1000);
    assert_eq!(
        hash(&a),
        hash(&std::fs::read(s.join("from-ds.csv")).unwrap())
    );
    // The synthetic day (no input) converts too, into an existing empty directory.
    std::fs::create_dir(s.join("empty")).unwrap();
    run_in(&s.0, "convert", &["--format", "parquet", "--out", "empty"]).ok();
    assert_eq!(snapshot(&s.join("empty")).len(), 1);
}

#[test]
fn tools_read_a_dataset_directory_as_they_read_the_capture() {
    let s = Scratch::new("pq-tools");
    two_day_pcap(&s.0);
    run_in(
        &s.0,
        "convert",
        &["two-days.pcap", "--format", "parquet", "--out", "ds"],
    )
    .ok();
    let from_pcap = run_in(&s.0, "inspect", &["two-days.pcap"]).ok();
    let from_ds = run_in(&s.0, "inspect", &["--input", "ds"]).ok();
    let body = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| !l.contains("two-days.pcap") && !l.contains("ds"))
            // The load time is the only line that may differ.
            .map(|l| l.split(" (loaded in").next().unwrap_or(l).to_string())
            .collect()
    };
    assert!(from_pcap.stdout.lines().count() > 5, "{from_pcap:#?}");
    assert_eq!(body(&from_pcap.stdout), body(&from_ds.stdout));
    // A run directory tool: the same port graph from either input.
    run_in(&s.0, "portgraph", &["two-days.pcap", "--out", "pg-pcap"]).ok();
    run_in(&s.0, "portgraph", &["ds", "--out", "pg-ds"]).ok();
    let a = std::fs::read(s.join("pg-pcap/port_graph_edges.csv")).unwrap();
    let b = std::fs::read(s.join("pg-ds/port_graph_edges.csv")).unwrap();
    assert!(a.len() > 100);
    assert_eq!(a, b);
}

#[test]
fn convert_to_parquet_refuses_bad_outputs_and_leaves_nothing_behind() {
    let s = Scratch::new("pq-refuse");
    let pcap = two_day_pcap(&s.0);
    run_in(
        &s.0,
        "convert",
        &["two-days.pcap", "--format", "parquet", "--out", "ds"],
    )
    .ok();
    let before = snapshot(&s.join("ds"));
    // The input dataset as its own output, and a non-empty directory.
    let r = run_in(
        &s.0,
        "convert",
        &["ds", "--format", "parquet", "--out", "ds"],
    )
    .fails();
    assert!(r.stderr.contains("refusing"), "{r:#?}");
    let r = run_in(
        &s.0,
        "convert",
        &["two-days.pcap", "--format", "parquet", "--out", "ds"],
    )
    .fails();
    assert!(r.stderr.contains("not an empty directory"), "{r:#?}");
    // An output directory holding the input.
    std::fs::create_dir(s.join("holder")).unwrap();
    std::fs::copy(&pcap, s.join("holder/in.pcap")).unwrap();
    let r = run_in(
        &s.0,
        "convert",
        &["holder/in.pcap", "--format", "parquet", "--out", "holder"],
    )
    .fails();
    assert!(r.stderr.contains("refusing"), "{r:#?}");
    assert_eq!(snapshot(&s.join("ds")), before);
    // Mixed-up options.
    for args in [
        vec!["--format", "parquet"],
        vec!["--format", "parquet", "--out", "x", "-o", "x.csv"],
        vec!["--out", "x"],
        vec![
            "--format",
            "parquet",
            "--out",
            "x",
            "--layout",
            "gnn-for-darknet",
        ],
    ] {
        run_in(&s.0, "convert", &args).fails();
    }
    // A capture cut inside a record: the conversion fails and leaves no dataset, no staging.
    let full = std::fs::read(&pcap).unwrap();
    std::fs::write(s.join("cut.pcap"), &full[..full.len() / 2 + 7]).unwrap();
    let r = run_in(
        &s.0,
        "convert",
        &["cut.pcap", "--format", "parquet", "--out", "cut-ds"],
    )
    .fails();
    assert!(r.stderr.contains("cut.pcap"), "{r:#?}");
    assert!(!s.join("cut-ds").exists() && !s.join("x").exists());
    assert!(leftovers(&s.0).is_empty(), "{:?}", leftovers(&s.0));
}
