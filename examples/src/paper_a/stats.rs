//! Per-host aggregate statistics: the input of the non-graph baseline (an MLP that sees
//! counts and fractions of a host's traffic, but neither its port sequence nor which ports).

use darknet_core::{tcp_flags, SourceIndex, Trace};
use ndarray::Array2;
use rayon::prelude::*;

/// Names of the per-host statistics, in column order.
pub const HOST_STAT_NAMES: [&str; 16] = [
    "packets_log1p",
    "dst_ports_log1p",
    "dst_addresses_log1p",
    "src_ports_log1p",
    "frac_tcp",
    "frac_udp",
    "frac_icmp",
    "frac_syn_only",
    "frac_ack",
    "mean_ttl_255",
    "mean_ip_len_1500",
    "frac_tcp_options",
    "active_days_log1p",
    "packets_per_address_log1p",
    "frac_well_known_dst_port",
    "frac_src_port_dynamic",
];

/// Per-host statistics of the sources at `positions` of `sources`: one row per position,
/// [`HOST_STAT_NAMES`] columns. Shape (n_positions, 16).
pub fn host_statistics(trace: &Trace, sources: &SourceIndex, positions: &[usize]) -> Array2<f32> {
    let rows: Vec<[f32; 16]> = positions
        .par_iter()
        .map(|&k| one_host(trace, sources.packets_of(k)))
        .collect();
    let mut out = Array2::zeros((rows.len(), HOST_STAT_NAMES.len()));
    for (mut r, v) in out.rows_mut().into_iter().zip(&rows) {
        r.iter_mut().zip(v).for_each(|(a, b)| *a = *b);
    }
    out
}

fn n_distinct<T: Ord + Copy>(mut v: Vec<T>) -> usize {
    v.sort_unstable();
    v.dedup();
    v.len()
}

fn one_host(t: &Trace, pk: &[u32]) -> [f32; 16] {
    let n = pk.len().max(1) as f32;
    let idx = || pk.iter().map(|&i| i as usize);
    let (proto, flags) = (t.proto(), t.tcp_flags());
    let count = |f: &dyn Fn(usize) -> bool| idx().filter(|&i| f(i)).count() as f32;
    let n_tcp = count(&|i| proto[i] == 6);
    let dst_ports = n_distinct(
        idx()
            .filter(|&i| matches!(proto[i], 6 | 17))
            .map(|i| (proto[i], t.dst_port()[i]))
            .collect(),
    );
    let addrs = n_distinct(idx().map(|i| t.dst()[i]).collect());
    let src_ports = n_distinct(
        idx()
            .filter(|&i| matches!(proto[i], 6 | 17))
            .map(|i| t.src_port()[i])
            .collect(),
    );
    let days = n_distinct(
        idx()
            .map(|i| t.ts_ns()[i] / darknet_core::NANOS_PER_DAY)
            .collect(),
    );
    let ln = |x: f32| x.ln_1p();
    [
        ln(pk.len() as f32),
        ln(dst_ports as f32),
        ln(addrs as f32),
        ln(src_ports as f32),
        n_tcp / n,
        count(&|i| proto[i] == 17) / n,
        count(&|i| proto[i] == 1) / n,
        count(&|i| proto[i] == 6 && flags[i] == tcp_flags::SYN) / n,
        count(&|i| proto[i] == 6 && flags[i] & tcp_flags::ACK != 0) / n,
        idx().map(|i| f32::from(t.ttl()[i])).sum::<f32>() / n / 255.0,
        idx().map(|i| f32::from(t.ip_len()[i])).sum::<f32>() / n / 1500.0,
        count(&|i| proto[i] == 6 && (t.mss()[i] != 0 || t.tsval()[i] != 0)) / n,
        ln(days as f32),
        ln(pk.len() as f32 / addrs.max(1) as f32),
        count(&|i| matches!(proto[i], 6 | 17) && t.dst_port()[i] < 1024) / n,
        count(&|i| matches!(proto[i], 6 | 17) && t.src_port()[i] >= 49152) / n,
    ]
}
