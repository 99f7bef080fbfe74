//! Paper B's filters (docs/paper-b.md#host-threshold, docs/choices.md#b1): TCP only, then a minimum
//! number of packets per host and day.

use super::Filtered;
use crate::error::{CoreError, Result};
use crate::trace::Trace;

/// Keeps TCP packets only.
///
/// Complexity: O(n).
pub fn tcp_only_filter(trace: &Trace) -> Filtered {
    let keep: Vec<bool> = trace.proto().iter().map(|&p| p == 6).collect();
    Filtered::from_mask("tcp-only", trace, &keep)
}

/// How the per-day minimum is compared (docs/choices.md#b1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum MinPacketsRule {
    /// Keep a host's day when it has at least `min_packets` packets (the paper's wording;
    /// default).
    #[default]
    AtLeast,
    /// Keep a host's day when it has strictly more than `min_packets` packets (the reference
    /// code's `> 5`).
    MoreThan,
}

/// Configuration of the minimum-packets-per-host-per-day filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MinPacketsConfig {
    /// Threshold (default 5).
    pub min_packets: usize,
    /// Comparison (default [`MinPacketsRule::AtLeast`]).
    pub rule: MinPacketsRule,
    /// Day boundaries: seconds added to UTC before cutting days (default 0).
    pub utc_offset_secs: i64,
}

impl Default for MinPacketsConfig {
    fn default() -> Self {
        MinPacketsConfig {
            min_packets: 5,
            rule: MinPacketsRule::AtLeast,
            utc_offset_secs: 0,
        }
    }
}

impl MinPacketsConfig {
    /// Checks every field.
    ///
    /// # Errors
    /// [`CoreError::InvalidConfig`] when the UTC offset exceeds ±24 h.
    pub fn validate(&self) -> Result<()> {
        if self.utc_offset_secs.abs() > 86_400 {
            return Err(CoreError::InvalidConfig {
                field: "utc_offset_secs",
                value: self.utc_offset_secs.to_string(),
                reason: "must be within ±86400".into(),
            });
        }
        Ok(())
    }
}

/// Drops, day by day, the packets of hosts below the minimum that day.
///
/// # Errors
/// [`CoreError::InvalidConfig`] for an invalid config.
///
/// Complexity: O(n log n).
pub fn min_packets_filter(trace: &Trace, config: &MinPacketsConfig) -> Result<Filtered> {
    config.validate()?;
    let src = trace.src();
    let mut keep = vec![false; trace.len()];
    let mut order: Vec<u32> = Vec::new();
    for (_, range) in trace.days(config.utc_offset_secs) {
        order.clear();
        order.extend(range.start as u32..range.end as u32);
        order.sort_by_key(|&i| src[i as usize]);
        let mut a = 0;
        while a < order.len() {
            let s = src[order[a] as usize];
            let mut b = a;
            while b < order.len() && src[order[b] as usize] == s {
                b += 1;
            }
            let n = b - a;
            let ok = match config.rule {
                MinPacketsRule::AtLeast => n >= config.min_packets,
                MinPacketsRule::MoreThan => n > config.min_packets,
            };
            if ok {
                for &i in &order[a..b] {
                    keep[i as usize] = true;
                }
            }
            a = b;
        }
    }
    Ok(Filtered::from_mask("min-packets-per-day", trace, &keep))
}
