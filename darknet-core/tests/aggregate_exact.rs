//! Exactness of the SQL aggregation stage run by DataFusion: every aggregate equals what the
//! in-memory path computes from the same packets (counts exactly, floating-point statistics to
//! 1e-9 relative; Paper B's scaled f32 features to f32 rounding).
#![cfg(feature = "datafusion")]

mod aggregate_common;

use aggregate_common as common;
use darknet_core::aggregate::{self, read, AggregateParams, RunOptions};
use darknet_core::io::parquet::write_dataset;
use darknet_core::{CoreError, Trace};
use std::path::PathBuf;
use std::sync::OnceLock;

struct Fixture {
    trace: Trace,
    out: PathBuf,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let trace = common::input();
        let base = std::env::temp_dir().join(format!("darknet-agg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let dataset = base.join("dataset");
        let out = base.join("aggregates");
        common::write(&trace, &dataset);
        let run = RunOptions {
            params: AggregateParams {
                top_k_ports: common::TOP_K,
                ..AggregateParams::default()
            },
            threads: 2,
            memory_limit: None,
        };
        let mut steps = Vec::new();
        let summary = aggregate::run(&dataset, &out, &run, |s| steps.push(s.to_string())).unwrap();
        assert_eq!(summary.tables.len(), aggregate::table_names().len());
        assert_eq!(steps.len(), aggregate::queries().len());
        Fixture { trace, out }
    })
}

#[test]
fn filter_reports_and_kept_hosts_equal_the_in_memory_chain() {
    let f = fixture();
    common::filter_reports_and_kept_hosts(&f.trace, &f.out);
}

#[test]
fn port_transitions_equal_the_in_memory_counts() {
    let f = fixture();
    common::port_transitions(&f.trace, &f.out);
}

#[test]
fn host_stats_equal_the_in_memory_table() {
    let f = fixture();
    common::host_stats(&f.trace, &f.out);
}

#[test]
fn paper_b_days_equal_the_in_memory_snapshots() {
    let f = fixture();
    common::paper_b_days(&f.trace, &f.out);
}

#[test]
fn bad_inputs_and_settings_are_clear_errors() {
    let base = std::env::temp_dir().join(format!("darknet-agg-bad-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base).unwrap();
    // No dataset.
    let e = aggregate::run(
        base.join("nope"),
        base.join("out"),
        &RunOptions::default(),
        |_| {},
    )
    .unwrap_err();
    assert!(matches!(e, CoreError::Io { .. }), "{e}");
    // Settings the SQL cannot express.
    let mut o = RunOptions::default();
    o.params.periodic.max_period = 12;
    let e = aggregate::run(&base, base.join("out"), &o, |_| {}).unwrap_err();
    assert!(e.to_string().contains("max_period"), "{e}");
    // A non-empty output directory.
    let f = fixture();
    let ds = base.join("ds");
    write_dataset(
        &ds,
        &f.trace.iter().take(10).collect::<Vec<_>>(),
        Default::default(),
    )
    .unwrap();
    let e = aggregate::run(&ds, &f.out, &RunOptions::default(), |_| {}).unwrap_err();
    assert!(e.to_string().contains("not empty"), "{e}");
    // A missing aggregate table names the directory.
    let e = read::port_transitions(&base).unwrap_err();
    assert!(e.to_string().contains("port_transitions"), "{e}");
    std::fs::remove_dir_all(&base).unwrap();
}
