//! Shared bench fixtures: inputs built once, outside the timed closures, from the seeded
//! synthetic darknet, and one quick Criterion configuration sized for a 2-core machine.
#![deny(missing_docs)]

use criterion::Criterion;
use std::time::Duration;

/// The shared Criterion configuration: few samples, short warm-up and measurement, so the whole
/// bench suite runs in minutes on a 2-core machine.
pub fn quick_config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
}

/// A Paper B synthetic darknet of `n_hosts` hosts over `days` days (seeded), as one trace.
pub fn synthetic_trace(n_hosts: usize, days: u32, seed: u64) -> darknet_core::Trace {
    darknet_core::SynthConfig::paper_b()
        .hosts(n_hosts)
        .days(days)
        .seed(seed)
        .build()
        .expect("valid synthetic configuration")
        .trace()
}

/// A Paper A synthetic darknet of `n_hosts` hosts over `days` days (seeded), as one trace.
pub fn synthetic_trace_paper_a(n_hosts: usize, days: u32, seed: u64) -> darknet_core::Trace {
    darknet_core::SynthConfig::paper_a()
        .hosts(n_hosts)
        .days(days)
        .seed(seed)
        .build()
        .expect("valid synthetic configuration")
        .trace()
}
