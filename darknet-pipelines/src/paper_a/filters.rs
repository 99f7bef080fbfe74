//! Paper A's filters (docs/paper-a.md#filters, docs/choices.md: A1–A3) from darknet-core, each of
//! which can be switched off, applied in order (bogon sources, isolated packets, vertical scanners,
//! periodic walkers), with what each removed.

use super::error::{PaperAError, Result};
use crate::progress::{Observer, Silent, Stage};
use darknet_core::filter::{
    bogon_filter, isolated_filter, periodic_filter, vertical_scan_filter, BogonFilterConfig,
    FilterPlan, IsolatedConfig, PeriodicConfig, StreamFilters, VerticalScanConfig,
};
use darknet_core::{Trace, NANOS_PER_DAY};
use serde::Serialize;

/// Settings of the filters. Defaults: all on, 7-day windows, ≥ 20 TCP / ≥ 15 UDP distinct
/// ports per week make a vertical scanner (docs/choices.md: A1–A3).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FilterConfig {
    /// Drop packets from bogon (reserved, private) source addresses.
    pub bogon: bool,
    /// Drop packets of a host with no other packet within the window before or after (A1).
    pub isolated: bool,
    /// Drop hosts reaching many distinct ports in a week (A2).
    pub vertical_scan: bool,
    /// Drop hosts walking ports in a fixed cycle or arithmetic progression (A3).
    pub periodic: bool,
    /// Window of the isolated-packet filter and length of the weeks, in days.
    pub window_days: u32,
    /// Distinct TCP destination ports per week that make a vertical scanner.
    pub vertical_tcp_ports: usize,
    /// Distinct UDP destination ports per week that make a vertical scanner.
    pub vertical_udp_ports: usize,
}

impl Default for FilterConfig {
    fn default() -> Self {
        Self {
            bogon: true,
            isolated: true,
            vertical_scan: true,
            periodic: true,
            window_days: 7,
            vertical_tcp_ports: 20,
            vertical_udp_ports: 15,
        }
    }
}

impl FilterConfig {
    /// darknet-core's settings of the enabled filters (`None` = off), as both the in-memory
    /// chain ([`filter_trace`]) and the two-pass stream ([`darknet_core::filter::PaperAStream`])
    /// use them. The vertical-scan weeks start at the capture's first packet.
    pub fn core(&self) -> StreamFilters {
        let window_ns = u64::from(self.window_days) * NANOS_PER_DAY;
        StreamFilters {
            bogon: BogonFilterConfig {
                enabled: self.bogon,
            },
            isolated: self.isolated.then_some(IsolatedConfig { window_ns }),
            vertical: self.vertical_scan.then_some(VerticalScanConfig {
                window_ns,
                origin_ns: None,
                max_tcp_ports: self.vertical_tcp_ports,
                max_udp_ports: self.vertical_udp_ports,
            }),
            periodic: self.periodic.then_some(PeriodicConfig::default()),
        }
    }
}

/// What one filter removed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FilterStep {
    /// Filter name (darknet-core's: `bogon-sources`, `isolated-packets`, ...).
    pub name: String,
    /// Packets before the filter.
    pub packets_in: usize,
    /// Packets removed.
    pub packets_removed: usize,
    /// Source hosts before the filter.
    pub hosts_in: usize,
    /// Source hosts left without any packet by the filter.
    pub hosts_removed: usize,
}

/// The report of [`apply_filters`]: one step per filter that ran, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FilterReport {
    /// Steps in order.
    pub steps: Vec<FilterStep>,
    /// Packets left.
    pub packets_out: usize,
    /// Hosts left.
    pub hosts_out: usize,
}

/// Applies the enabled filters in Paper A's order and reports what each removed.
///
/// # Errors
/// darknet-core's [`darknet_core::CoreError::InvalidConfig`] for a zero window or threshold.
pub fn apply_filters(trace: &Trace, config: &FilterConfig) -> Result<(Trace, FilterReport)> {
    filter_trace(trace.clone(), config, &Silent)
}

/// [`apply_filters`] on a trace it owns, reporting a `filters` stage of one step per enabled
/// filter to `obs`.
///
/// Memory: each filter reads the current trace and writes the kept packets into a new one,
/// after which the current one is dropped, so at most two traces (the input and one filter's
/// output, plus the filter's per-source index of 4 bytes a packet) are alive at a time.
///
/// # Errors
/// As [`apply_filters`].
pub fn filter_trace(
    trace: Trace,
    config: &FilterConfig,
    obs: &dyn Observer,
) -> Result<(Trace, FilterReport)> {
    let bar = Stage::start(obs, "filters", 0);
    let mut report = FilterReport::default();
    let core = config.core();
    let enabled = [
        config.bogon,
        config.isolated,
        config.vertical_scan,
        config.periodic,
    ];
    bar.set_total(enabled.iter().filter(|&&e| e).count() as u64);
    // The weeks of the vertical-scan filter start at the capture's first packet.
    let origin_ns = trace.ts_ns().first().copied();
    let mut t = trace;
    let mut push = |f: darknet_core::Filtered, t: &mut Trace| {
        report.steps.push(FilterStep::from(&f.report));
        *t = f.trace;
        bar.advance(1);
    };
    if config.bogon {
        bar.step("bogon");
        let f = bogon_filter(&t, &core.bogon);
        push(f, &mut t);
    }
    if let Some(c) = &core.isolated {
        bar.step("isolated");
        let f = isolated_filter(&t, c)?;
        push(f, &mut t);
    }
    if let Some(c) = &core.vertical {
        bar.step("vertical");
        let c = VerticalScanConfig { origin_ns, ..*c };
        let f = vertical_scan_filter(&t, &c)?;
        push(f, &mut t);
    }
    if let Some(c) = &core.periodic {
        bar.step("periodic");
        let f = periodic_filter(&t, c)?;
        push(f, &mut t);
    }
    drop(bar);
    report.packets_out = t.len();
    report.hosts_out = t.by_source().len();
    Ok((t, report))
}

impl From<&darknet_core::FilterReport> for FilterStep {
    fn from(r: &darknet_core::FilterReport) -> Self {
        FilterStep {
            name: r.name.to_string(),
            packets_in: r.packets_in,
            packets_removed: r.packets_removed,
            hosts_in: r.hosts_in,
            hosts_removed: r.hosts_removed,
        }
    }
}

impl FilterReport {
    /// `Ok` when packets are left.
    ///
    /// # Errors
    /// [`PaperAError::EmptyAfter`] naming what each filter removed.
    pub fn check_not_empty(&self) -> Result<()> {
        if self.packets_out > 0 {
            return Ok(());
        }
        Err(PaperAError::EmptyAfter {
            stage: "filtering",
            detail: self
                .steps
                .iter()
                .map(|s| format!("{} removed {} packets", s.name, s.packets_removed))
                .collect::<Vec<_>>()
                .join(", "),
        })
    }

    /// The report of the streaming filters' first pass, in the same shape as
    /// [`filter_trace`]'s (a disabled bogon filter has no step).
    pub fn from_plan(plan: &FilterPlan, config: &FilterConfig) -> Self {
        FilterReport {
            steps: plan
                .reports()
                .iter()
                .filter(|r| config.bogon || r.name != "bogon-source")
                .map(FilterStep::from)
                .collect(),
            packets_out: plan.packets_out() as usize,
            hosts_out: plan.hosts_out() as usize,
        }
    }
}
