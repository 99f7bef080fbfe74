//! Reading aggregate tables (written by `aggregate::run` with the `datafusion` feature, or by
//! the Spark script) back into the structures the pipelines consume. Each reader takes the
//! aggregates directory (`OUT`, holding one sub-directory of Parquet files per table) and reads
//! every `.parquet` file of its tables, whatever engine wrote them.

use crate::error::{CoreError, Result};
use crate::filter::FilterReport;
use crate::io::parquet::pq_err;
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type, Int64Type};
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::fs::File;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

/// One aggregate table, read whole (aggregates are small next to the packets).
struct Table {
    name: String,
    batches: Vec<RecordBatch>,
}

fn read_table(dir: &Path, name: &str) -> Result<Table> {
    let tdir = dir.join(name);
    let tname = tdir.display().to_string();
    let mut files: Vec<PathBuf> = Vec::new();
    let entries = std::fs::read_dir(&tdir).map_err(|e| crate::io::io_err(&tname, e))?;
    for e in entries {
        let p = e.map_err(|e| crate::io::io_err(&tname, e))?.path();
        if p.is_file() && p.extension().is_some_and(|x| x == "parquet") {
            files.push(p);
        }
    }
    files.sort();
    let mut batches = Vec::new();
    for f in files {
        let fname = f.display().to_string();
        let file = File::open(&f).map_err(|e| crate::io::io_err(&fname, e))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .map_err(|e| pq_err(&fname, e))?
            .build()
            .map_err(|e| pq_err(&fname, e))?;
        for b in reader {
            batches.push(b.map_err(|e| pq_err(&fname, e))?);
        }
    }
    Ok(Table {
        name: tname,
        batches,
    })
}

impl Table {
    fn rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    fn err(&self, col: &str, reason: String) -> CoreError {
        CoreError::Parquet {
            input: self.name.clone(),
            reason: format!("column `{col}`: {reason}"),
        }
    }

    /// An integer column (int32 or int64); nulls as `None`.
    fn opt_int(&self, col: &str) -> Result<Vec<Option<i64>>> {
        let mut out = Vec::with_capacity(self.rows());
        for b in &self.batches {
            let c = b
                .column_by_name(col)
                .ok_or_else(|| self.err(col, "missing".into()))?;
            match c.data_type() {
                DataType::Int64 => out.extend(c.as_primitive::<Int64Type>().iter()),
                DataType::Int32 => out.extend(
                    c.as_primitive::<Int32Type>()
                        .iter()
                        .map(|v| v.map(i64::from)),
                ),
                t => return Err(self.err(col, format!("expected int64 or int32, found {t}"))),
            }
        }
        Ok(out)
    }

    /// A non-negative integer column without nulls.
    fn uint(&self, col: &str) -> Result<Vec<u64>> {
        self.opt_int(col)?
            .into_iter()
            .enumerate()
            .map(|(row, v)| match v {
                Some(v) if v >= 0 => Ok(v as u64),
                Some(v) => Err(self.err(
                    col,
                    format!("row {row}: expected a count or address, found {v}"),
                )),
                None => Err(self.err(col, format!("row {row}: expected a value, found null"))),
            })
            .collect()
    }

    fn addr(&self, col: &str) -> Result<Vec<u32>> {
        self.uint(col)?
            .into_iter()
            .enumerate()
            .map(|(row, v)| {
                u32::try_from(v).map_err(|_| {
                    self.err(
                        col,
                        format!("row {row}: expected a 32-bit value, found {v}"),
                    )
                })
            })
            .collect()
    }

    /// A double column; nulls as `None`.
    fn opt_f64(&self, col: &str) -> Result<Vec<Option<f64>>> {
        let mut out = Vec::with_capacity(self.rows());
        for b in &self.batches {
            let c = b
                .column_by_name(col)
                .ok_or_else(|| self.err(col, "missing".into()))?;
            match c.data_type() {
                DataType::Float64 => out.extend(c.as_primitive::<Float64Type>().iter()),
                t => return Err(self.err(col, format!("expected double, found {t}"))),
            }
        }
        Ok(out)
    }

    fn f64(&self, col: &str) -> Result<Vec<f64>> {
        self.opt_f64(col)?
            .into_iter()
            .enumerate()
            .map(|(row, v)| {
                v.ok_or_else(|| self.err(col, format!("row {row}: expected a value, found null")))
            })
            .collect()
    }
}

/// What Paper A's filters decided for one source (a row of `paper_a_hosts`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PaperAHost {
    /// Source address.
    pub addr: Ipv4Addr,
    /// Packets in the dataset.
    pub packets: u64,
    /// Removed by the bogon-source filter.
    pub bogon: bool,
    /// Packets left after the isolated-packet filter.
    pub isolated_kept: u64,
    /// Most distinct TCP destination ports in one vertical-scan window.
    pub max_tcp_ports: u64,
    /// Most distinct UDP destination ports in one vertical-scan window.
    pub max_udp_ports: u64,
    /// Removed by the vertical-scan filter.
    pub vertical: bool,
    /// Length of the collapsed port walk the periodic filter tests.
    pub walk_len: u64,
    /// Its walk is periodic (removed when not already removed as a vertical scan).
    pub periodic: bool,
    /// Still has packets after the whole chain.
    pub kept: bool,
}

/// Paper A's filter chain as the aggregates record it: one row per source, sorted by address.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PaperAFilterAggregate {
    /// The sources, by address.
    pub hosts: Vec<PaperAHost>,
}

impl PaperAFilterAggregate {
    /// The four reports of [`crate::PaperAFilters::apply`] (bogon sources, isolated packets,
    /// vertical scans, periodic patterns), equal to the in-memory chain's on the same packets.
    pub fn reports(&self) -> Vec<FilterReport> {
        let report = |name, rows: &mut dyn Iterator<Item = (u64, u64)>| {
            // (packets in, packets removed) of each host that enters the filter.
            let mut r = FilterReport {
                name,
                ..FilterReport::default()
            };
            for (n, removed) in rows {
                r.packets_in += n as usize;
                r.packets_removed += removed as usize;
                r.hosts_in += 1;
                r.hosts_removed += usize::from(removed == n);
            }
            r
        };
        let h = &self.hosts;
        vec![
            report(
                "bogon-source",
                &mut h
                    .iter()
                    .map(|x| (x.packets, if x.bogon { x.packets } else { 0 })),
            ),
            report(
                "isolated-packets",
                &mut h
                    .iter()
                    .filter(|x| !x.bogon)
                    .map(|x| (x.packets, x.packets - x.isolated_kept)),
            ),
            report(
                "vertical-scans",
                &mut h
                    .iter()
                    .filter(|x| !x.bogon && x.isolated_kept > 0)
                    .map(|x| {
                        (
                            x.isolated_kept,
                            if x.vertical { x.isolated_kept } else { 0 },
                        )
                    }),
            ),
            report(
                "periodic-patterns",
                &mut h
                    .iter()
                    .filter(|x| !x.bogon && x.isolated_kept > 0 && !x.vertical)
                    .map(|x| {
                        (
                            x.isolated_kept,
                            if x.periodic { x.isolated_kept } else { 0 },
                        )
                    }),
            ),
        ]
    }

    /// The sources with packets left after the chain, ascending.
    pub fn kept_hosts(&self) -> Vec<Ipv4Addr> {
        self.hosts
            .iter()
            .filter(|h| h.kept)
            .map(|h| h.addr)
            .collect()
    }

    /// Packets left after the chain.
    pub fn kept_packets(&self) -> u64 {
        self.hosts
            .iter()
            .filter(|h| h.kept)
            .map(|h| h.isolated_kept)
            .sum()
    }
}

fn flag(v: u64) -> bool {
    v != 0
}

/// Reads `paper_a_hosts`: what Paper A's filters decided for every source.
///
/// # Errors
/// [`CoreError::Io`] / [`CoreError::Parquet`] for a missing table, a missing column, a column
/// of the wrong type or a null.
pub fn paper_a_filters(dir: impl AsRef<Path>) -> Result<PaperAFilterAggregate> {
    let t = read_table(dir.as_ref(), "paper_a_hosts")?;
    let src = t.addr("src")?;
    let packets = t.uint("packets")?;
    let bogon = t.uint("bogon")?;
    let isolated_kept = t.uint("isolated_kept")?;
    let max_tcp = t.uint("max_tcp_ports")?;
    let max_udp = t.uint("max_udp_ports")?;
    let vertical = t.uint("vertical")?;
    let walk_len = t.uint("walk_len")?;
    let periodic = t.uint("periodic")?;
    let kept = t.uint("kept")?;
    let mut hosts: Vec<PaperAHost> = (0..src.len())
        .map(|i| PaperAHost {
            addr: Ipv4Addr::from(src[i]),
            packets: packets[i],
            bogon: flag(bogon[i]),
            isolated_kept: isolated_kept[i],
            max_tcp_ports: max_tcp[i],
            max_udp_ports: max_udp[i],
            vertical: flag(vertical[i]),
            walk_len: walk_len[i],
            periodic: flag(periodic[i]),
            kept: flag(kept[i]),
        })
        .collect();
    hosts.sort_by_key(|h| h.addr);
    for (i, h) in hosts.iter().enumerate() {
        if h.isolated_kept > h.packets {
            return Err(t.err(
                "isolated_kept",
                format!(
                    "source {}: {} packets kept of {} (expected at most the packets)",
                    h.addr, h.isolated_kept, h.packets
                ),
            ));
        }
        if i > 0 && hosts[i - 1].addr == h.addr {
            return Err(t.err("src", format!("source {} appears twice", h.addr)));
        }
    }
    Ok(PaperAFilterAggregate { hosts })
}

/// Paper A's port-transition counts as the aggregates hold them.
///
/// Port codes: TCP port `p` is `p`, UDP port `p` is `65536 + p`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TransitionTable {
    /// `(from_code, to_code, θ)` sorted by `(from, to)`, θ > 0, `from != to`.
    pub edges: Vec<(u32, u32, u64)>,
    /// `(code, packets)` of every port seen in the kept packets, ascending.
    pub ports: Vec<(u32, u64)>,
}

impl TransitionTable {
    /// TCP/UDP packets counted (the sum over the ports).
    pub fn n_packets(&self) -> u64 {
        self.ports.iter().map(|p| p.1).sum()
    }
}

/// Reads `port_transitions` and `port_nodes`.
///
/// # Errors
/// As [`paper_a_filters`]; a port code above 131,071 is [`CoreError::Parquet`].
pub fn port_transitions(dir: impl AsRef<Path>) -> Result<TransitionTable> {
    let dir = dir.as_ref();
    let t = read_table(dir, "port_transitions")?;
    let check = |t: &Table, col: &str, v: Vec<u32>| -> Result<Vec<u32>> {
        if let Some(bad) = v.iter().find(|&&c| c >= 2 * 65_536) {
            return Err(t.err(
                col,
                format!("expected a port code below 131072, found {bad}"),
            ));
        }
        Ok(v)
    };
    let from = check(&t, "from_code", t.addr("from_code")?)?;
    let to = check(&t, "to_code", t.addr("to_code")?)?;
    let theta = t.uint("theta")?;
    let mut edges: Vec<(u32, u32, u64)> = (0..from.len())
        .map(|i| (from[i], to[i], theta[i]))
        .collect();
    edges.sort_unstable();
    let n = read_table(dir, "port_nodes")?;
    let code = check(&n, "code", n.addr("code")?)?;
    let packets = n.uint("packets")?;
    let mut ports: Vec<(u32, u64)> = code.into_iter().zip(packets).collect();
    ports.sort_unstable();
    Ok(TransitionTable { edges, ports })
}

/// Count, sum, min, max, mean and M2 of one numeric field of a host (a row's `F_*` columns).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FieldMoments {
    /// Number of values.
    pub n: u64,
    /// Sum.
    pub sum: f64,
    /// Minimum (0 when empty).
    pub min: f64,
    /// Maximum (0 when empty).
    pub max: f64,
    /// Mean (0 when empty).
    pub mean: f64,
    /// Sum of squared deviations from the mean.
    pub m2: f64,
}

impl FieldMoments {
    /// Sample standard deviation (n − 1), 0 for n ≤ 1, as [`crate::Moments::std`].
    pub fn std(&self) -> f64 {
        if self.n <= 1 {
            0.0
        } else {
            (self.m2 / (self.n - 1) as f64).max(0.0).sqrt()
        }
    }
}

/// One row of `host_stats`: a source's statistics over the whole dataset.
#[derive(Clone, Debug, PartialEq)]
pub struct HostSummary {
    /// Source address.
    pub addr: Ipv4Addr,
    /// Packets.
    pub packets: u64,
    /// TCP packets.
    pub tcp: u64,
    /// UDP packets.
    pub udp: u64,
    /// ICMP packets.
    pub icmp: u64,
    /// Packets of other protocols.
    pub other: u64,
    /// TCP packets with SYN and without ACK.
    pub syn: u64,
    /// TCP packets with SYN and ACK.
    pub syn_ack: u64,
    /// TCP packets with RST.
    pub rst: u64,
    /// TCP packets with the Mirai fingerprint.
    pub mirai: u64,
    /// TCP packets with a non-zero TSval.
    pub tsval_packets: u64,
    /// First timestamp (ns).
    pub first_seen_ns: u64,
    /// Last timestamp (ns).
    pub last_seen_ns: u64,
    /// Distinct destination addresses.
    pub n_dsts: u64,
    /// Distinct TCP destination ports.
    pub n_tcp_ports: u64,
    /// Distinct UDP destination ports.
    pub n_udp_ports: u64,
    /// Lowest and highest TCP destination port (`None` without TCP).
    pub tcp_port_range: Option<(u16, u16)>,
    /// IP total length, every packet.
    pub ip_len: FieldMoments,
    /// TTL, every packet.
    pub ttl: FieldMoments,
    /// MSS option, TCP packets (0 when absent).
    pub mss: FieldMoments,
    /// TCP window, TCP packets.
    pub window: FieldMoments,
    /// TSval, TCP packets (0 when absent).
    pub tsval: FieldMoments,
}

impl HostSummary {
    /// The per-host feature vector, columns named by [`crate::HOST_FEATURE_NAMES`]: the same
    /// values as [`crate::HostStats::features`] for the same packets.
    pub fn features(&self) -> [f32; crate::stats::HOST_FEATURE_COUNT] {
        let n = self.packets.max(1) as f64;
        let tcp = self.tcp.max(1) as f64;
        let ln = |x: f64| x.max(0.0).ln_1p();
        let span = self
            .tcp_port_range
            .map_or(0.0, |(a, b)| f64::from(b.saturating_sub(a)));
        let v = [
            ln(self.packets as f64),
            ln(self.n_dsts as f64),
            ln(self.n_tcp_ports as f64),
            ln(self.n_udp_ports as f64),
            ln(self.packets as f64 / self.n_dsts.max(1) as f64),
            self.tcp as f64 / n,
            self.udp as f64 / n,
            self.icmp as f64 / n,
            self.syn as f64 / tcp,
            self.syn_ack as f64 / tcp,
            self.rst as f64 / tcp,
            self.mirai as f64 / tcp,
            ln((self.last_seen_ns.saturating_sub(self.first_seen_ns)) as f64 * 1e-9),
            self.ip_len.mean,
            self.ip_len.std(),
            self.ip_len.min,
            self.ip_len.max,
            self.ttl.mean,
            self.ttl.std(),
            self.ttl.min,
            self.ttl.max,
            self.mss.mean,
            self.mss.std(),
            self.mss.min,
            self.mss.max,
            self.window.mean,
            self.window.std(),
            self.window.min,
            self.window.max,
            ln(self.tsval.mean),
            ln(self.tsval.std()),
            self.tsval_packets as f64 / tcp,
            ln(span),
        ];
        v.map(|x| x as f32)
    }
}

/// Reads `host_stats`: one summary per source, sorted by address.
///
/// # Errors
/// As [`paper_a_filters`].
pub fn host_stats(dir: impl AsRef<Path>) -> Result<Vec<HostSummary>> {
    host_summaries(dir.as_ref(), "host_stats")
}

/// The rows of a table with `host_stats`'s columns, sorted by address.
fn host_summaries(dir: &Path, name: &str) -> Result<Vec<HostSummary>> {
    let t = read_table(dir, name)?;
    let src = t.addr("src")?;
    let u = |c: &str| t.uint(c);
    let (packets, tcp, udp, icmp, other) =
        (u("packets")?, u("tcp")?, u("udp")?, u("icmp")?, u("other")?);
    let (syn, syn_ack, rst, mirai, tsval_packets) = (
        u("syn")?,
        u("syn_ack")?,
        u("rst")?,
        u("mirai")?,
        u("tsval_packets")?,
    );
    let (first, last) = (u("first_seen_ns")?, u("last_seen_ns")?);
    let (n_dsts, n_tcp, n_udp) = (u("n_dsts")?, u("n_tcp_ports")?, u("n_udp_ports")?);
    let (pmin, pmax) = (t.opt_int("tcp_port_min")?, t.opt_int("tcp_port_max")?);
    let moments = |f: &str| -> Result<Vec<FieldMoments>> {
        let n = t.uint(&format!("{f}_n"))?;
        let sum = t.opt_f64(&format!("{f}_sum"))?;
        let min = t.opt_f64(&format!("{f}_min"))?;
        let max = t.opt_f64(&format!("{f}_max"))?;
        let mean = t.opt_f64(&format!("{f}_mean"))?;
        let m2 = t.opt_f64(&format!("{f}_m2"))?;
        Ok((0..n.len())
            .map(|i| FieldMoments {
                n: n[i],
                sum: sum[i].unwrap_or(0.0),
                min: min[i].unwrap_or(0.0),
                max: max[i].unwrap_or(0.0),
                mean: mean[i].unwrap_or(0.0),
                m2: m2[i].unwrap_or(0.0),
            })
            .collect())
    };
    let (ip_len, ttl, mss, window, tsval) = (
        moments("ip_len")?,
        moments("ttl")?,
        moments("mss")?,
        moments("window")?,
        moments("tsval")?,
    );
    let port = |v: Option<i64>, col: &str, row: usize| -> Result<Option<u16>> {
        v.map(|p| {
            u16::try_from(p)
                .map_err(|_| t.err(col, format!("row {row}: expected a port, found {p}")))
        })
        .transpose()
    };
    let mut out = Vec::with_capacity(src.len());
    for i in 0..src.len() {
        let range = match (
            port(pmin[i], "tcp_port_min", i)?,
            port(pmax[i], "tcp_port_max", i)?,
        ) {
            (Some(a), Some(b)) => Some((a, b)),
            _ => None,
        };
        out.push(HostSummary {
            addr: Ipv4Addr::from(src[i]),
            packets: packets[i],
            tcp: tcp[i],
            udp: udp[i],
            icmp: icmp[i],
            other: other[i],
            syn: syn[i],
            syn_ack: syn_ack[i],
            rst: rst[i],
            mirai: mirai[i],
            tsval_packets: tsval_packets[i],
            first_seen_ns: first[i],
            last_seen_ns: last[i],
            n_dsts: n_dsts[i],
            n_tcp_ports: n_tcp[i],
            n_udp_ports: n_udp[i],
            tcp_port_range: range,
            ip_len: ip_len[i],
            ttl: ttl[i],
            mss: mss[i],
            window: window[i],
            tsval: tsval[i],
        });
    }
    out.sort_by_key(|h| h.addr);
    Ok(out)
}

/// Number of raw node features of a Paper B snapshot (both layers).
pub const PAPER_B_N_FEATURES: usize = 37;

/// Port code of the "other" node of a Paper B day (every port beyond the top K).
pub const OTHER_PORT: u32 = 65_536;

fn stats_names(prefix: &str, order: [&str; 5]) -> Vec<String> {
    order.iter().map(|s| format!("{prefix}_{s}")).collect()
}

/// Column names of the 37 host features in `paper_b_host_features`, in feature order.
pub fn paper_b_host_columns() -> Vec<String> {
    let count = ["min", "max", "sum", "mean", "std"];
    let field = ["sum", "min", "max", "mean", "std"];
    let mut v = vec!["n_ports".to_string()];
    v.extend(stats_names("pkts_per_port", count));
    v.push("n_dst_addresses".into());
    v.extend(stats_names("pkts_per_address", count));
    for f in ["pck_len", "ttl", "mss", "window", "tcp_ts"] {
        v.extend(stats_names(f, field));
    }
    v
}

/// Column names of the 37 port features in `paper_b_port_features`, in feature order.
pub fn paper_b_port_columns() -> Vec<String> {
    let count = ["min", "max", "sum", "mean", "std"];
    let field = ["sum", "min", "max", "mean", "std"];
    let mut v = vec!["n_src_hosts".to_string()];
    v.extend(stats_names("pkts_per_host", count));
    v.extend((0..6).map(|i| format!("zero_{i}")));
    for f in ["pck_len", "ttl", "mss", "window", "tcp_ts"] {
        v.extend(stats_names(f, field));
    }
    v
}

/// One day of Paper B's snapshots as the aggregates hold it: the kept hosts, the port nodes,
/// their raw (unscaled) features and the edges.
#[derive(Clone, Debug, PartialEq)]
pub struct PaperBDay {
    /// Day number (days since 1970-01-01 after the UTC offset).
    pub day: u32,
    /// Kept hosts, ascending.
    pub hosts: Vec<Ipv4Addr>,
    /// Raw features of each host, shape (hosts, 37).
    pub host_features: Vec<[f64; PAPER_B_N_FEATURES]>,
    /// Port nodes, ascending, [`OTHER_PORT`] last when present.
    pub ports: Vec<u32>,
    /// Raw features of each port node, shape (ports, 37).
    pub port_features: Vec<[f64; PAPER_B_N_FEATURES]>,
    /// `(host row, port row, packets)` sorted by (host, port): rows index `hosts` and `ports`.
    pub edges: Vec<(u32, u32, u64)>,
}

/// Reads `paper_b_edges`, `paper_b_host_features` and `paper_b_port_features`: the days with at
/// least one kept host, ascending.
///
/// # Errors
/// As [`paper_a_filters`]; an edge whose host or port has no feature row is
/// [`CoreError::Parquet`].
pub fn paper_b_days(dir: impl AsRef<Path>) -> Result<Vec<PaperBDay>> {
    let dir = dir.as_ref();
    let features = |name: &str, key: &str, cols: Vec<String>| -> Result<_> {
        let t = read_table(dir, name)?;
        let day = t.addr("day")?;
        let k = t.addr(key)?;
        let cols: Vec<Vec<f64>> = cols.iter().map(|c| t.f64(c)).collect::<Result<_>>()?;
        let mut rows: Vec<(u32, u32, [f64; PAPER_B_N_FEATURES])> = (0..day.len())
            .map(|i| {
                let mut f = [0.0; PAPER_B_N_FEATURES];
                for (c, col) in cols.iter().enumerate() {
                    f[c] = col[i];
                }
                (day[i], k[i], f)
            })
            .collect();
        rows.sort_by_key(|r| (r.0, r.1));
        Ok((t.name, rows))
    };
    let (_, hosts) = features("paper_b_host_features", "src", paper_b_host_columns())?;
    let (_, ports) = features("paper_b_port_features", "port", paper_b_port_columns())?;
    let e = read_table(dir, "paper_b_edges")?;
    let (eday, esrc, eport, epk) = (
        e.addr("day")?,
        e.addr("src")?,
        e.addr("port")?,
        e.uint("packets")?,
    );
    let mut edges: Vec<(u32, u32, u32, u64)> = (0..eday.len())
        .map(|i| (eday[i], esrc[i], eport[i], epk[i]))
        .collect();
    edges.sort_unstable();
    let mut days: Vec<PaperBDay> = Vec::new();
    let (mut hi, mut pi, mut ei) = (0, 0, 0);
    while hi < hosts.len() {
        let day = hosts[hi].0;
        let mut d = PaperBDay {
            day,
            hosts: Vec::new(),
            host_features: Vec::new(),
            ports: Vec::new(),
            port_features: Vec::new(),
            edges: Vec::new(),
        };
        while hi < hosts.len() && hosts[hi].0 == day {
            d.hosts.push(Ipv4Addr::from(hosts[hi].1));
            d.host_features.push(hosts[hi].2);
            hi += 1;
        }
        while pi < ports.len() && ports[pi].0 < day {
            pi += 1;
        }
        while pi < ports.len() && ports[pi].0 == day {
            d.ports.push(ports[pi].1);
            d.port_features.push(ports[pi].2);
            pi += 1;
        }
        while ei < edges.len() && edges[ei].0 < day {
            ei += 1;
        }
        while ei < edges.len() && edges[ei].0 == day {
            let (_, s, p, n) = edges[ei];
            let h = d.hosts.binary_search(&Ipv4Addr::from(s));
            let q = d.ports.binary_search(&p);
            match (h, q) {
                (Ok(h), Ok(q)) => d.edges.push((h as u32, q as u32, n)),
                _ => {
                    return Err(e.err(
                        "src",
                        format!(
                            "day {day}: edge {} -> port {p} has no host or port feature row",
                            Ipv4Addr::from(s)
                        ),
                    ))
                }
            }
            ei += 1;
        }
        d.edges.sort_unstable();
        days.push(d);
    }
    Ok(days)
}

/// Reads `paper_a_host_stats`: for each source Paper A's filter chain keeps, the statistics of
/// its kept packets (the `host_stats` columns), sorted by address. [`HostSummary::features`]
/// of a row is the baseline's feature vector of that host.
///
/// # Errors
/// As [`paper_a_filters`].
pub fn paper_a_host_stats(dir: impl AsRef<Path>) -> Result<Vec<HostSummary>> {
    host_summaries(dir.as_ref(), "paper_a_host_stats")
}

/// Reads `packet_days`: `(day, packets)` of every UTC day of the dataset, ascending.
///
/// # Errors
/// As [`paper_a_filters`]; a day past `u32` is [`CoreError::Parquet`].
pub fn packet_days(dir: impl AsRef<Path>) -> Result<Vec<(u32, u64)>> {
    let t = read_table(dir.as_ref(), "packet_days")?;
    let mut out: Vec<(u32, u64)> = t.addr("day")?.into_iter().zip(t.uint("packets")?).collect();
    out.sort_unstable();
    Ok(out)
}

/// One node of a Paper A host graph as `host_graph_nodes` holds it: its key and what its
/// features are computed from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HostGraphNode {
    /// IP protocol number: 6 (TCP), 17 (UDP) or 1 (ICMP).
    pub proto: u8,
    /// Destination port (0 for ICMP).
    pub dst_port: u16,
    /// TCP flags byte (0 for UDP and ICMP).
    pub tcp_flags: u8,
    /// ICMP type (0 for TCP and UDP).
    pub icmp_type: u8,
    /// ICMP code (0 for TCP and UDP).
    pub icmp_code: u8,
    /// Packets of the node.
    pub packets: u64,
    /// Distinct destination addresses.
    pub n_dsts: u64,
    /// Lowest destination address, as a number.
    pub dst_min: u32,
    /// Highest destination address.
    pub dst_max: u32,
    /// Consecutive packets of the node whose destination address is higher than the previous.
    pub dst_up: u64,
    /// The same, lower.
    pub dst_down: u64,
    /// Distinct source ports (0 for ICMP).
    pub n_src_ports: u64,
    /// Packets with a source port in 0–1023, 1024–49151 and 49152–65535.
    pub src_port_classes: [u64; 3],
}

/// One source's host graph as `host_graph_nodes` and `host_graph_edges` hold it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostGraphRows {
    /// Source address.
    pub addr: Ipv4Addr,
    /// Nodes in order of first appearance. Shape (n_nodes,).
    pub nodes: Vec<HostGraphNode>,
    /// `(i, j, transitions)` with node rows `i < j`, sorted. Shape (n_edges,).
    pub edges: Vec<(u32, u32, u64)>,
}

/// Splits a node key (`proto * 2^40 + port * 2^24 + flags * 2^16 + type * 2^8 + code`).
fn node_key(key: u64) -> Option<(u8, u16, u8, u8, u8)> {
    let proto = key >> 40;
    if !matches!(proto, 1 | 6 | 17) {
        return None;
    }
    Some((
        proto as u8,
        (key >> 24) as u16,
        (key >> 16) as u8,
        (key >> 8) as u8,
        key as u8,
    ))
}

/// Reads `host_graph_nodes` and `host_graph_edges`: the host graphs of the sources `wanted`
/// accepts (the labelled hosts, say), sorted by address.
///
/// # Errors
/// As [`paper_a_filters`]; a node key that is not a TCP, UDP or ICMP key, a repeated node, a
/// node position repeated within its source, or an edge naming a node its source does not have
/// are [`CoreError::Parquet`].
pub fn host_graphs(
    dir: impl AsRef<Path>,
    wanted: impl Fn(Ipv4Addr) -> bool,
) -> Result<Vec<HostGraphRows>> {
    let dir = dir.as_ref();
    let t = read_table(dir, "host_graph_nodes")?;
    let src = t.addr("src")?;
    let key = t.uint("node")?;
    let first = t.uint("first_pos")?;
    let u = |c: &str| t.uint(c);
    let (packets, n_dsts, dst_up, dst_down, n_sports) = (
        u("packets")?,
        u("n_dsts")?,
        u("dst_up")?,
        u("dst_down")?,
        u("n_src_ports")?,
    );
    let (dst_min, dst_max) = (t.addr("dst_min")?, t.addr("dst_max")?);
    let (wk, reg, dyn_) = (
        u("sport_well_known")?,
        u("sport_registered")?,
        u("sport_dynamic")?,
    );
    // (source, first position, row) of the wanted rows, in node order.
    let mut rows: Vec<(u32, u64, usize)> = (0..src.len())
        .filter(|&i| wanted(Ipv4Addr::from(src[i])))
        .map(|i| (src[i], first[i], i))
        .collect();
    rows.sort_unstable();
    let mut out: Vec<HostGraphRows> = Vec::new();
    // Per output host: node key -> node row.
    let mut keys: Vec<Vec<(u64, u32)>> = Vec::new();
    for (k, &(s, pos, i)) in rows.iter().enumerate() {
        let (proto, dst_port, tcp_flags, icmp_type, icmp_code) =
            node_key(key[i]).ok_or_else(|| {
                t.err(
                    "node",
                    format!("row {i}: {} is not a TCP, UDP or ICMP node key", key[i]),
                )
            })?;
        if k > 0 && rows[k - 1].0 == s && rows[k - 1].1 == pos {
            return Err(t.err(
                "first_pos",
                format!("source {}: two nodes at position {pos}", Ipv4Addr::from(s)),
            ));
        }
        if out.last().is_none_or(|h| h.addr != Ipv4Addr::from(s)) {
            out.push(HostGraphRows {
                addr: Ipv4Addr::from(s),
                nodes: Vec::new(),
                edges: Vec::new(),
            });
            keys.push(Vec::new());
        }
        let h = out.last_mut().expect("pushed above");
        keys.last_mut()
            .expect("pushed above")
            .push((key[i], h.nodes.len() as u32));
        h.nodes.push(HostGraphNode {
            proto,
            dst_port,
            tcp_flags,
            icmp_type,
            icmp_code,
            packets: packets[i],
            n_dsts: n_dsts[i],
            dst_min: dst_min[i],
            dst_max: dst_max[i],
            dst_up: dst_up[i],
            dst_down: dst_down[i],
            n_src_ports: n_sports[i],
            src_port_classes: [wk[i], reg[i], dyn_[i]],
        });
    }
    for (h, k) in out.iter().zip(keys.iter_mut()) {
        k.sort_unstable();
        if let Some(w) = k.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(t.err(
                "node",
                format!("source {}: node {} repeated", h.addr, w[0].0),
            ));
        }
    }
    let e = read_table(dir, "host_graph_edges")?;
    let (esrc, ea, eb, ew) = (
        e.addr("src")?,
        e.uint("node_a")?,
        e.uint("node_b")?,
        e.uint("weight")?,
    );
    for i in 0..esrc.len() {
        let addr = Ipv4Addr::from(esrc[i]);
        if !wanted(addr) {
            continue;
        }
        let Ok(h) = out.binary_search_by_key(&addr, |h| h.addr) else {
            return Err(e.err(
                "src",
                format!("row {i}: source {addr} has edges but no node"),
            ));
        };
        let row = |key: u64| {
            keys[h]
                .binary_search_by_key(&key, |x| x.0)
                .map(|p| keys[h][p].1)
                .map_err(|_| {
                    e.err(
                        "node_a",
                        format!("row {i}: source {addr} has no node {key}"),
                    )
                })
        };
        let (a, b) = (row(ea[i])?, row(eb[i])?);
        out[h].edges.push((a.min(b), a.max(b), ew[i]));
    }
    for h in &mut out {
        h.edges.sort_unstable();
    }
    Ok(out)
}
