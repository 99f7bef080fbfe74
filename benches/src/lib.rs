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
