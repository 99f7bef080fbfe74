//! Filters of both papers, composable: each takes a trace and a config and returns the kept
//! trace plus a [`FilterReport`] of what it removed.
//!
//! | filter | function | config (defaults) | source |
//! |---|---|---|---|
//! | bogon sources | [`bogon_filter`] | [`BogonFilterConfig`] (enabled) | ours |
//! | isolated packets | [`isolated_filter`] | [`IsolatedConfig`] (7 × 24 h, inclusive) | docs/choices.md#a1 |
//! | vertical scans | [`vertical_scan_filter`] | [`VerticalScanConfig`] (7 days, ≥ 20 TCP / ≥ 15 UDP ports) | docs/choices.md#a2 |
//! | periodic patterns | [`periodic_filter`] | [`PeriodicConfig`] (≥ 4, periods 2..=8, progressions) | docs/choices.md#a3 |
//! | TCP only | [`tcp_only_filter`] | — | docs/paper-b.md#daily-snapshots |
//! | packets per host and day | [`min_packets_filter`] | [`MinPacketsConfig`] (≥ 5; `MoreThan` for the code's > 5) | docs/choices.md#b1 |
//!
//! [`PaperAFilters`] and [`PaperBFilters`] chain them in the papers' order. [`stream`] runs
//! Paper A's chain over a stream in two passes with memory per host, not per packet, with the
//! same result.
//!
//! ```
//! use darknet_core::{PaperAFilters, SynthConfig};
//!
//! let trace = SynthConfig::paper_a().hosts(300).days(7).build()?.trace();
//! let (kept, reports) = PaperAFilters::default().apply(&trace)?;
//! assert_eq!(reports.len(), 4);
//! let removed: usize = reports.iter().map(|r| r.packets_removed).sum();
//! assert_eq!(kept.len() + removed, trace.len());
//! # Ok::<(), darknet_core::CoreError>(())
//! ```

mod bogon;
mod paper_a;
mod paper_b;
pub mod stream;

pub use bogon::{bogon_filter, is_bogon, BogonFilterConfig, BOGON_PREFIXES};
pub use paper_a::{
    is_periodic, isolated_filter, periodic_filter, vertical_scan_filter, IsolatedConfig,
    PeriodicConfig, VerticalScanConfig,
};
pub use paper_b::{min_packets_filter, tcp_only_filter, MinPacketsConfig, MinPacketsRule};
pub use stream::{FilterPlan, KeptStream, PaperAStream, StreamFilters};

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

/// Paper A's filter chain: bogon sources (when enabled), isolated packets, vertical scans,
/// periodic patterns (in the order of docs/paper-a.md#filters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PaperAFilters {
    /// Bogon-source filter (on by default).
    pub bogon: BogonFilterConfig,
    /// Isolated-packet filter.
    pub isolated: IsolatedConfig,
    /// Vertical-scan filter.
    pub vertical: VerticalScanConfig,
    /// Periodic-pattern filter.
    pub periodic: PeriodicConfig,
}

impl PaperAFilters {
    /// Runs the chain; returns the kept trace and one report per filter, in order.
    ///
    /// # Errors
    /// [`crate::CoreError::InvalidConfig`] from any filter's config.
    ///
    /// The vertical-scan weeks start at the first packet of `trace` unless
    /// `self.vertical.origin_ns` says otherwise.
    pub fn apply(&self, trace: &Trace) -> crate::Result<(Trace, Vec<FilterReport>)> {
        let a = bogon_filter(trace, &self.bogon);
        let b = isolated_filter(&a.trace, &self.isolated)?;
        let vertical = VerticalScanConfig {
            origin_ns: self
                .vertical
                .origin_ns
                .or_else(|| trace.ts_ns().first().copied()),
            ..self.vertical
        };
        let c = vertical_scan_filter(&b.trace, &vertical)?;
        let d = periodic_filter(&c.trace, &self.periodic)?;
        Ok((d.trace, vec![a.report, b.report, c.report, d.report]))
    }
}

/// Paper B's filter chain: bogon sources (when enabled), TCP only, minimum packets per host
/// per day.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PaperBFilters {
    /// Bogon-source filter (on by default).
    pub bogon: BogonFilterConfig,
    /// Minimum packets per host and day.
    pub min_packets: MinPacketsConfig,
}

impl PaperBFilters {
    /// Runs the chain; returns the kept trace and one report per filter, in order.
    ///
    /// # Errors
    /// [`crate::CoreError::InvalidConfig`] from the minimum-packets config.
    pub fn apply(&self, trace: &Trace) -> crate::Result<(Trace, Vec<FilterReport>)> {
        let a = bogon_filter(trace, &self.bogon);
        let b = tcp_only_filter(&a.trace);
        let c = min_packets_filter(&b.trace, &self.min_packets)?;
        Ok((c.trace, vec![a.report, b.report, c.report]))
    }
}
