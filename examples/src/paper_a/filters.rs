//! Paper A's three traffic filters (SPEC §1.2, A1–A3), applied in order: isolated packets,
//! vertical scanners, periodic port patterns; each reports what it removed.

use darknet_core::Trace;
use serde::Serialize;

/// Settings of the three filters. Defaults: all on, 7-day window, ≥ 20 TCP / ≥ 15 UDP distinct
/// ports per week for a vertical scanner (SPEC A1–A3).
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct FilterConfig {
    /// Drop packets of a host with no other packet within the window before or after (A1).
    pub isolated: bool,
    /// Drop hosts reaching many distinct ports in a week (A2).
    pub vertical_scan: bool,
    /// Drop hosts walking ports in a fixed cycle or arithmetic progression (A3).
    pub periodic: bool,
    /// Window of the isolated-packet filter and of the weeks, in days. Default 7.
    pub window_days: u32,
    /// Distinct TCP destination ports per week that make a vertical scanner. Default 20.
    pub vertical_tcp_ports: usize,
    /// Distinct UDP destination ports per week that make a vertical scanner. Default 15.
    pub vertical_udp_ports: usize,
}

impl Default for FilterConfig {
    fn default() -> Self {
        Self {
            isolated: true,
            vertical_scan: true,
            periodic: true,
            window_days: 7,
            vertical_tcp_ports: 20,
            vertical_udp_ports: 15,
        }
    }
}

/// What one filter removed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FilterStep {
    /// Filter name (`isolated`, `vertical_scan`, `periodic`).
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

fn step(name: &str, before: &Trace, keep: &[bool]) -> (Trace, FilterStep) {
    let after = before.select(keep);
    let hosts_in = before.by_source().len();
    let hosts_out = after.by_source().len();
    (
        after,
        FilterStep {
            name: name.into(),
            packets_in: before.len(),
            packets_removed: keep.iter().filter(|&&k| !k).count(),
            hosts_in,
            hosts_removed: hosts_in - hosts_out,
        },
    )
}

/// Applies the enabled filters in Paper A's order and reports what each removed.
pub fn apply_filters(trace: &Trace, config: &FilterConfig) -> (Trace, FilterReport) {
    let mut report = FilterReport::default();
    let mut t = trace.clone();
    let window = u64::from(config.window_days.max(1)) * darknet_core::NANOS_PER_DAY;
    if config.isolated {
        let keep = isolated_mask(&t, window);
        let (n, s) = step("isolated", &t, &keep);
        t = n;
        report.steps.push(s);
    }
    if config.vertical_scan {
        let keep = vertical_mask(
            &t,
            window,
            config.vertical_tcp_ports,
            config.vertical_udp_ports,
        );
        let (n, s) = step("vertical_scan", &t, &keep);
        t = n;
        report.steps.push(s);
    }
    if config.periodic {
        let keep = periodic_mask(&t);
        let (n, s) = step("periodic", &t, &keep);
        t = n;
        report.steps.push(s);
    }
    report.packets_out = t.len();
    report.hosts_out = t.by_source().len();
    (t, report)
}

/// A1: keep a packet when its host sent another packet within `window` before or after it.
fn isolated_mask(t: &Trace, window: u64) -> Vec<bool> {
    let mut keep = vec![true; t.len()];
    let ts = t.ts_ns();
    for (_, pk) in t.by_source().iter() {
        for (j, &i) in pk.iter().enumerate() {
            let prev = j > 0 && ts[i as usize] - ts[pk[j - 1] as usize] <= window;
            let next = j + 1 < pk.len() && ts[pk[j + 1] as usize] - ts[i as usize] <= window;
            keep[i as usize] = prev || next;
        }
    }
    keep
}

/// A2: drop every packet of a host reaching ≥ `tcp` distinct TCP or ≥ `udp` distinct UDP
/// destination ports in any week counted from the trace's first timestamp.
fn vertical_mask(t: &Trace, window: u64, tcp: usize, udp: usize) -> Vec<bool> {
    let mut keep = vec![true; t.len()];
    let Some(&t0) = t.ts_ns().first() else {
        return keep;
    };
    let (ts, proto, port) = (t.ts_ns(), t.proto(), t.dst_port());
    let mut seen: Vec<(u64, u8, u16)> = Vec::new();
    for (_, pk) in t.by_source().iter() {
        seen.clear();
        seen.extend(pk.iter().filter_map(|&i| {
            let i = i as usize;
            matches!(proto[i], 6 | 17).then(|| ((ts[i] - t0) / window.max(1), proto[i], port[i]))
        }));
        seen.sort_unstable();
        seen.dedup();
        let scanner = seen
            .chunk_by(|a, b| a.0 == b.0 && a.1 == b.1)
            .any(|g| g.len() >= if g[0].1 == 6 { tcp } else { udp });
        if scanner {
            pk.iter().for_each(|&i| keep[i as usize] = false);
        }
    }
    keep
}

/// A3: drop a host whose collapsed (protocol, port) sequence of TCP/UDP packets has length ≥ 4
/// and is a repeating cycle of period 2..=min(8, len/2) or, within one protocol, an arithmetic
/// progression with a non-zero step.
fn periodic_mask(t: &Trace) -> Vec<bool> {
    let mut keep = vec![true; t.len()];
    let (proto, port) = (t.proto(), t.dst_port());
    let mut s: Vec<(u8, u16)> = Vec::new();
    for (_, pk) in t.by_source().iter() {
        s.clear();
        for &i in pk {
            let i = i as usize;
            if matches!(proto[i], 6 | 17) {
                let k = (proto[i], port[i]);
                if s.last() != Some(&k) {
                    s.push(k);
                }
            }
        }
        if is_periodic(&s) {
            pk.iter().for_each(|&i| keep[i as usize] = false);
        }
    }
    keep
}

fn is_periodic(s: &[(u8, u16)]) -> bool {
    if s.len() < 4 {
        return false;
    }
    let cycle = (2..=(s.len() / 2).min(8)).any(|p| (p..s.len()).all(|i| s[i] == s[i - p]));
    let one_proto = s.iter().all(|k| k.0 == s[0].0);
    let step = i32::from(s[1].1) - i32::from(s[0].1);
    let progression = one_proto
        && step != 0
        && s.windows(2)
            .all(|w| i32::from(w[1].1) - i32::from(w[0].1) == step);
    cycle || progression
}

#[cfg(test)]
mod tests {
    use super::*;
    use darknet_core::{Packet, Protocol, NANOS_PER_DAY};
    use std::net::Ipv4Addr;

    fn p(ts: u64, h: u8, proto: Protocol, port: u16) -> Packet {
        Packet {
            ts_ns: ts,
            src: Ipv4Addr::new(10, 0, 0, h),
            proto,
            dst_port: port,
            ..Packet::default()
        }
    }

    #[test]
    fn periodic_patterns() {
        let k = |v: &[u16]| v.iter().map(|&x| (6u8, x)).collect::<Vec<_>>();
        assert!(is_periodic(&k(&[80, 443, 80, 443])));
        assert!(is_periodic(&k(&[2, 4, 6, 8])));
        assert!(!is_periodic(&k(&[22, 23, 80, 443])));
        assert!(!is_periodic(&k(&[80, 443, 80])));
    }

    #[test]
    fn each_filter_removes_its_kind() {
        let d = NANOS_PER_DAY;
        let mut v = vec![
            // host 1: isolated packets (one packet, then one 10 days later)
            p(0, 1, Protocol::Tcp, 23),
            p(10 * d, 1, Protocol::Tcp, 23),
            // host 3: periodic 80/443 cycle
            p(1, 3, Protocol::Tcp, 80),
            p(2, 3, Protocol::Tcp, 443),
            p(3, 3, Protocol::Tcp, 80),
            p(4, 3, Protocol::Tcp, 443),
            // host 4: normal
            p(1, 4, Protocol::Tcp, 22),
            p(2, 4, Protocol::Tcp, 23),
            p(3, 4, Protocol::Udp, 53),
        ];
        // host 2: vertical scanner, 25 TCP ports in a day
        v.extend((0..25).map(|i| p(5 + i, 2, Protocol::Tcp, 1000 + i as u16 * 7)));
        let t = Trace::from_packets(v);
        let (out, r) = apply_filters(&t, &FilterConfig::default());
        assert_eq!(r.steps.len(), 3);
        assert_eq!(r.steps[0].packets_removed, 2);
        assert_eq!(r.steps[0].hosts_removed, 1);
        assert_eq!(r.steps[1].hosts_removed, 1);
        assert_eq!(r.steps[1].packets_removed, 25);
        assert_eq!(r.steps[2].hosts_removed, 1);
        assert_eq!(out.len(), 3);
        assert_eq!(r.hosts_out, 1);
    }
}
