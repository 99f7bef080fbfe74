//! Paper A's three filters (docs/paper-a.md#filters, docs/choices.md: A1–A3), applied in this
//! order: isolated packets, vertical scans, periodic patterns.

use super::Filtered;
use crate::error::{CoreError, Result};
use crate::packet::NANOS_PER_DAY;
use crate::trace::Trace;

/// Configuration of the isolated-packet filter (docs/choices.md#a1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IsolatedConfig {
    /// Half-width of the window in ns (default 7 × 24 h). A packet is kept when another packet
    /// of the same host lies at most this far before or after it (inclusive: two packets
    /// exactly 7 days apart keep each other).
    pub window_ns: u64,
}

impl Default for IsolatedConfig {
    fn default() -> Self {
        IsolatedConfig {
            window_ns: 7 * NANOS_PER_DAY,
        }
    }
}

impl IsolatedConfig {
    /// Checks the window.
    ///
    /// # Errors
    /// [`CoreError::InvalidConfig`] when `window_ns` is 0.
    pub fn validate(&self) -> Result<()> {
        if self.window_ns == 0 {
            return Err(CoreError::InvalidConfig {
                field: "window_ns",
                value: "0".into(),
                reason: "the isolation window must be positive".into(),
            });
        }
        Ok(())
    }
}

/// Drops every packet whose host sent no other packet within `window_ns` before or after it
/// (per host, all protocols; docs/choices.md#a1).
///
/// # Errors
/// [`CoreError::InvalidConfig`] for an invalid config.
///
/// Complexity: O(n log n) (the per-source index).
pub fn isolated_filter(trace: &Trace, config: &IsolatedConfig) -> Result<Filtered> {
    config.validate()?;
    let ts = trace.ts_ns();
    let w = config.window_ns;
    let mut keep = vec![false; trace.len()];
    for (_, idx) in trace.by_source().iter() {
        for (k, &i) in idx.iter().enumerate() {
            let t = ts[i as usize];
            let before = k > 0 && t - ts[idx[k - 1] as usize] <= w;
            let after = k + 1 < idx.len() && ts[idx[k + 1] as usize] - t <= w;
            keep[i as usize] = before || after;
        }
    }
    Ok(Filtered::from_mask("isolated-packets", trace, &keep))
}

/// Configuration of the vertical-scan filter (docs/choices.md#a2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerticalScanConfig {
    /// Window length in ns (default 7 days). Windows are consecutive from `origin_ns` (the same
    /// week boundaries for every host).
    pub window_ns: u64,
    /// Start of the first window, in ns since the epoch; `None` (the default) starts it at the
    /// first timestamp of the trace the filter is given. [`crate::PaperAFilters`] sets it to the
    /// first packet of the capture, so that the weeks do not move when the isolated-packet
    /// filter before it removes the first packets, and a stream can place every packet in its
    /// week as it arrives ([`crate::filter::PaperAStream`]). Packets before the origin fall in
    /// the first window.
    pub origin_ns: Option<u64>,
    /// A host reaching at least this many distinct TCP destination ports in one window is
    /// removed (default 20).
    pub max_tcp_ports: usize,
    /// Same for UDP (default 15).
    pub max_udp_ports: usize,
}

impl Default for VerticalScanConfig {
    fn default() -> Self {
        VerticalScanConfig {
            window_ns: 7 * NANOS_PER_DAY,
            origin_ns: None,
            max_tcp_ports: 20,
            max_udp_ports: 15,
        }
    }
}

impl VerticalScanConfig {
    /// Checks every field.
    ///
    /// # Errors
    /// [`CoreError::InvalidConfig`] for a zero window or a zero threshold.
    pub fn validate(&self) -> Result<()> {
        let bad = |field: &'static str, reason: &str| {
            Err(CoreError::InvalidConfig {
                field,
                value: "0".into(),
                reason: reason.into(),
            })
        };
        if self.window_ns == 0 {
            return bad("window_ns", "the window must be positive");
        }
        if self.max_tcp_ports == 0 {
            return bad("max_tcp_ports", "a threshold of 0 removes every host");
        }
        if self.max_udp_ports == 0 {
            return bad("max_udp_ports", "a threshold of 0 removes every host");
        }
        Ok(())
    }
}

/// Removes entirely every host that reaches `max_tcp_ports` distinct TCP or `max_udp_ports`
/// distinct UDP destination ports in any window (docs/choices.md#a2).
///
/// # Errors
/// [`CoreError::InvalidConfig`] for an invalid config.
///
/// Complexity: O(n log n) (one sort of per-packet keys).
pub fn vertical_scan_filter(trace: &Trace, config: &VerticalScanConfig) -> Result<Filtered> {
    config.validate()?;
    let t0 = config
        .origin_ns
        .unwrap_or_else(|| trace.ts_ns().first().copied().unwrap_or(0));
    let (ts, proto, port, src) = (trace.ts_ns(), trace.proto(), trace.dst_port(), trace.src());
    // One key per TCP/UDP packet: (source, window, protocol, port), sorted and deduplicated,
    // so each (source, window, protocol) run counts distinct ports without per-host maps.
    let mut keys: Vec<u128> = (0..trace.len())
        .filter(|&i| matches!(proto[i], 6 | 17))
        .map(|i| {
            let window = u128::from(ts[i].saturating_sub(t0) / config.window_ns);
            u128::from(src[i]) << 96
                | window << 17
                | u128::from(proto[i] == 17) << 16
                | u128::from(port[i])
        })
        .collect();
    keys.sort_unstable();
    keys.dedup();
    let mut vertical: Vec<u32> = Vec::new();
    let mut a = 0;
    while a < keys.len() {
        let group = keys[a] >> 16;
        let mut b = a;
        while b < keys.len() && keys[b] >> 16 == group {
            b += 1;
        }
        let limit = if group & 1 == 1 {
            config.max_udp_ports
        } else {
            config.max_tcp_ports
        };
        let host = (keys[a] >> 96) as u32;
        if b - a >= limit && vertical.last() != Some(&host) {
            vertical.push(host);
        }
        a = b;
    }
    let keep: Vec<bool> = src
        .iter()
        .map(|s| vertical.binary_search(s).is_err())
        .collect();
    Ok(Filtered::from_mask("vertical-scans", trace, &keep))
}

/// Configuration of the periodic-pattern filter (docs/choices.md#a3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeriodicConfig {
    /// Shortest collapsed sequence that can be periodic (default 4).
    pub min_len: usize,
    /// Longest cycle tested (default 8); periods 2..=min(max_period, len / 2) are tested.
    pub max_period: usize,
    /// Also remove arithmetic progressions of ports (default true).
    pub arithmetic: bool,
}

impl Default for PeriodicConfig {
    fn default() -> Self {
        PeriodicConfig {
            min_len: 4,
            max_period: 8,
            arithmetic: true,
        }
    }
}

impl PeriodicConfig {
    /// Checks every field.
    ///
    /// # Errors
    /// [`CoreError::InvalidConfig`] when `min_len < 3` or `max_period < 2`.
    pub fn validate(&self) -> Result<()> {
        if self.min_len < 3 {
            return Err(CoreError::InvalidConfig {
                field: "min_len",
                value: self.min_len.to_string(),
                reason: "sequences shorter than 3 are trivially periodic".into(),
            });
        }
        if self.max_period < 2 {
            return Err(CoreError::InvalidConfig {
                field: "max_period",
                value: self.max_period.to_string(),
                reason: "periods start at 2".into(),
            });
        }
        Ok(())
    }
}

/// True when the collapsed `(proto, port)` sequence `s` is periodic under `config`
/// (docs/choices.md#a3): `|s| ≥ min_len` and either a period `p` in `2..=min(max_period, |s|/2)`
/// with `s[i] = s[i−p]` for all `i ≥ p`, or (one protocol) a constant non-zero port step.
pub fn is_periodic(s: &[(u8, u16)], config: &PeriodicConfig) -> bool {
    let n = s.len();
    if n < config.min_len {
        return false;
    }
    let max_p = config.max_period.min(n / 2);
    for p in 2..=max_p {
        if (p..n).all(|i| s[i] == s[i - p]) {
            return true;
        }
    }
    if config.arithmetic && s.iter().all(|x| x.0 == s[0].0) {
        let step = i32::from(s[1].1) - i32::from(s[0].1);
        if step != 0
            && s.windows(2)
                .all(|w| i32::from(w[1].1) - i32::from(w[0].1) == step)
        {
            return true;
        }
    }
    false
}

/// Removes entirely every host whose TCP/UDP port walk is periodic ([`is_periodic`]).
///
/// # Errors
/// [`CoreError::InvalidConfig`] for an invalid config.
///
/// Complexity: O(n · max_period).
pub fn periodic_filter(trace: &Trace, config: &PeriodicConfig) -> Result<Filtered> {
    config.validate()?;
    let (proto, port) = (trace.proto(), trace.dst_port());
    let mut keep = vec![true; trace.len()];
    let mut s: Vec<(u8, u16)> = Vec::new();
    for (_, idx) in trace.by_source().iter() {
        s.clear();
        for &i in idx {
            let i = i as usize;
            if matches!(proto[i], 6 | 17) {
                let x = (proto[i], port[i]);
                if s.last() != Some(&x) {
                    s.push(x);
                }
            }
        }
        if is_periodic(&s, config) {
            for &i in idx {
                keep[i as usize] = false;
            }
        }
    }
    Ok(Filtered::from_mask("periodic-patterns", trace, &keep))
}
