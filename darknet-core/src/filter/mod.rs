//! Filters of both papers, composable: each takes a trace and a config and returns the kept
//! trace plus a [`FilterReport`] of what it removed.

mod bogon;

pub use bogon::{bogon_filter, is_bogon, BogonFilterConfig, BOGON_PREFIXES};

use crate::trace::Trace;

/// What a filter removed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FilterReport {
    /// Filter name (e.g. `isolated-packets`).
    pub name: &'static str,
    /// Packets in the input.
    pub packets_in: usize,
    /// Packets removed.
    pub packets_removed: usize,
    /// Distinct sources in the input.
    pub hosts_in: usize,
    /// Sources with no packet left.
    pub hosts_removed: usize,
}

/// A filter's output: the kept trace and the report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filtered {
    /// The packets kept, still time-sorted.
    pub trace: Trace,
    /// What was removed.
    pub report: FilterReport,
}

fn distinct_sources(src: &[u32]) -> usize {
    let mut v = src.to_vec();
    v.sort_unstable();
    v.dedup();
    v.len()
}

impl Filtered {
    /// Keeps the packets of `trace` whose `keep[i]` is true and reports the difference.
    pub(crate) fn from_mask(name: &'static str, trace: &Trace, keep: &[bool]) -> Filtered {
        let kept = trace.select(keep);
        let hosts_in = distinct_sources(trace.src());
        let hosts_out = distinct_sources(kept.src());
        Filtered {
            report: FilterReport {
                name,
                packets_in: trace.len(),
                packets_removed: trace.len() - kept.len(),
                hosts_in,
                hosts_removed: hosts_in - hosts_out,
            },
            trace: kept,
        }
    }

    /// Keeps everything (a disabled filter).
    pub(crate) fn keep_all(name: &'static str, trace: &Trace) -> Filtered {
        let hosts_in = distinct_sources(trace.src());
        Filtered {
            report: FilterReport {
                name,
                packets_in: trace.len(),
                packets_removed: 0,
                hosts_in,
                hosts_removed: 0,
            },
            trace: trace.clone(),
        }
    }
}
