//! Aggregate tables written from in-memory results, in the layout darknet-core's SQL
//! aggregation stage writes (one directory of Parquet files per table, the columns its readers
//! take), so that the pipelines' aggregates route is tested apart from any SQL engine.
#![allow(dead_code)]

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch};
use darknet_core::aggregate::read::{paper_b_host_columns, paper_b_port_columns, OTHER_PORT};
use darknet_core::filter::{
    bogon_filter, is_bogon, isolated_filter, periodic_filter, vertical_scan_filter,
    VerticalScanConfig,
};
use darknet_core::{
    HostStatsTable, Moments, PcapWriter, PcapWriterOptions, SyntheticDarknet, Trace,
};
use darknet_graph::{build_raw_days, PortNode, SnapshotConfig};
use darknet_pipelines::paper_a::{self, FilterConfig};
use parquet::arrow::ArrowWriter;
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A column of a table: integers, nullable integers or nullable doubles.
pub enum Col {
    I(Vec<i64>),
    N(Vec<Option<i64>>),
    F(Vec<Option<f64>>),
}

/// Writes `columns` as `dir/name/part-00000.parquet`.
pub fn write_table(dir: &Path, name: &str, columns: Vec<(String, Col)>) {
    let arrays: Vec<(String, ArrayRef)> = columns
        .into_iter()
        .map(|(n, c)| {
            let a: ArrayRef = match c {
                Col::I(v) => Arc::new(Int64Array::from(v)),
                Col::N(v) => Arc::new(Int64Array::from(v)),
                Col::F(v) => Arc::new(Float64Array::from(v)),
            };
            (n, a)
        })
        .collect();
    let batch = RecordBatch::try_from_iter(arrays).unwrap();
    let tdir = dir.join(name);
    std::fs::create_dir_all(&tdir).unwrap();
    let f = std::fs::File::create(tdir.join("part-00000.parquet")).unwrap();
    let mut w = ArrowWriter::try_new(f, batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

fn counts(t: &Trace) -> HashMap<u32, u64> {
    let mut m = HashMap::new();
    for &s in t.src() {
        *m.entry(s).or_default() += 1;
    }
    m
}

/// Paper A's tables of `trace` under `filters` (all three filters on): `paper_a_hosts`,
/// `port_transitions`, `port_nodes`, `paper_a_host_stats`, `host_graph_nodes`,
/// `host_graph_edges`, `packet_days`.
pub fn write_paper_a(trace: &Trace, filters: &FilterConfig, dir: &Path) {
    let core = filters.core();
    let t0 = trace.ts_ns()[0];
    let b = bogon_filter(trace, &core.bogon);
    let iso = isolated_filter(&b.trace, core.isolated.as_ref().unwrap()).unwrap();
    let vcfg = VerticalScanConfig {
        origin_ns: Some(t0),
        ..core.vertical.unwrap()
    };
    let v = vertical_scan_filter(&iso.trace, &vcfg).unwrap();
    let p = periodic_filter(&v.trace, core.periodic.as_ref().unwrap()).unwrap();
    let kept = p.trace;
    let (all, ci, cv, ck) = (
        counts(trace),
        counts(&iso.trace),
        counts(&v.trace),
        counts(&kept),
    );
    // Most distinct ports per window and protocol, over the packets the isolated filter keeps.
    let mut windows: BTreeMap<(u32, u8, u64), Vec<u16>> = BTreeMap::new();
    let t = &iso.trace;
    for i in 0..t.len() {
        if matches!(t.proto()[i], 6 | 17) {
            let w = (t.ts_ns()[i] - t0) / vcfg.window_ns;
            windows
                .entry((t.src()[i], t.proto()[i], w))
                .or_default()
                .push(t.dst_port()[i]);
        }
    }
    let mut max_ports: HashMap<(u32, u8), u64> = HashMap::new();
    for ((s, proto, _), mut ports) in windows {
        ports.sort_unstable();
        ports.dedup();
        let m = max_ports.entry((s, proto)).or_default();
        *m = (*m).max(ports.len() as u64);
    }
    let mut hosts: Vec<u32> = all.keys().copied().collect();
    hosts.sort_unstable();
    let get = |m: &HashMap<u32, u64>, s: u32| m.get(&s).copied().unwrap_or(0) as i64;
    let flag = |b: bool| i64::from(b);
    let bogon: Vec<i64> = hosts
        .iter()
        .map(|&s| flag(filters.bogon && is_bogon(s.into())))
        .collect();
    write_table(
        dir,
        "paper_a_hosts",
        vec![
            (
                "src".into(),
                Col::I(hosts.iter().map(|&s| s as i64).collect()),
            ),
            (
                "packets".into(),
                Col::I(hosts.iter().map(|&s| get(&all, s)).collect()),
            ),
            ("bogon".into(), Col::I(bogon)),
            (
                "isolated_kept".into(),
                Col::I(hosts.iter().map(|&s| get(&ci, s)).collect()),
            ),
            (
                "max_tcp_ports".into(),
                Col::I(
                    hosts
                        .iter()
                        .map(|&s| *max_ports.get(&(s, 6)).unwrap_or(&0) as i64)
                        .collect(),
                ),
            ),
            (
                "max_udp_ports".into(),
                Col::I(
                    hosts
                        .iter()
                        .map(|&s| *max_ports.get(&(s, 17)).unwrap_or(&0) as i64)
                        .collect(),
                ),
            ),
            (
                "vertical".into(),
                Col::I(
                    hosts
                        .iter()
                        .map(|&s| flag(get(&ci, s) > 0 && get(&cv, s) == 0))
                        .collect(),
                ),
            ),
            ("walk_len".into(), Col::I(vec![0; hosts.len()])),
            (
                "periodic".into(),
                Col::I(
                    hosts
                        .iter()
                        .map(|&s| flag(get(&cv, s) > 0 && get(&ck, s) == 0))
                        .collect(),
                ),
            ),
            (
                "kept".into(),
                Col::I(hosts.iter().map(|&s| flag(get(&ck, s) > 0)).collect()),
            ),
        ],
    );
    let days = trace.days(0);
    write_table(
        dir,
        "packet_days",
        vec![
            (
                "day".into(),
                Col::I(days.iter().map(|d| i64::from(d.0)).collect()),
            ),
            (
                "packets".into(),
                Col::I(days.iter().map(|d| d.1.len() as i64).collect()),
            ),
        ],
    );
    write_transitions(&kept, dir);
    write_host_stats(&kept, dir);
    write_host_graphs(&kept, dir);
}

fn write_transitions(kept: &Trace, dir: &Path) {
    let mut edges: BTreeMap<(u32, u32), i64> = BTreeMap::new();
    let mut ports: BTreeMap<u32, i64> = BTreeMap::new();
    let s = kept.by_source();
    for k in 0..s.len() {
        let mut prev = None;
        for &i in s.packets_of(k) {
            let i = i as usize;
            let code = match kept.proto()[i] {
                6 => u32::from(kept.dst_port()[i]),
                17 => 65_536 + u32::from(kept.dst_port()[i]),
                _ => continue,
            };
            *ports.entry(code).or_default() += 1;
            if let Some(p) = prev.filter(|&p| p != code) {
                *edges.entry((p, code)).or_default() += 1;
            }
            prev = Some(code);
        }
    }
    write_table(
        dir,
        "port_transitions",
        vec![
            (
                "from_code".into(),
                Col::I(edges.keys().map(|e| i64::from(e.0)).collect()),
            ),
            (
                "to_code".into(),
                Col::I(edges.keys().map(|e| i64::from(e.1)).collect()),
            ),
            ("theta".into(), Col::I(edges.values().copied().collect())),
        ],
    );
    write_table(
        dir,
        "port_nodes",
        vec![
            (
                "code".into(),
                Col::I(ports.keys().map(|&c| i64::from(c)).collect()),
            ),
            ("packets".into(), Col::I(ports.values().copied().collect())),
        ],
    );
}

fn write_host_stats(kept: &Trace, dir: &Path) {
    let table = HostStatsTable::from_trace(kept);
    let h = table.hosts();
    let int = |f: &dyn Fn(&darknet_core::HostStats) -> i64| Col::I(h.iter().map(f).collect());
    let mut cols: Vec<(String, Col)> = vec![
        ("src".into(), int(&|x| i64::from(u32::from(x.addr)))),
        ("packets".into(), int(&|x| x.packets as i64)),
        ("tcp".into(), int(&|x| x.tcp as i64)),
        ("udp".into(), int(&|x| x.udp as i64)),
        ("icmp".into(), int(&|x| x.icmp as i64)),
        ("other".into(), int(&|x| x.other as i64)),
        ("syn".into(), int(&|x| x.syn as i64)),
        ("syn_ack".into(), int(&|x| x.syn_ack as i64)),
        ("rst".into(), int(&|x| x.rst as i64)),
        ("mirai".into(), int(&|x| x.mirai as i64)),
        ("tsval_packets".into(), int(&|x| x.tsval_packets as i64)),
        ("first_seen_ns".into(), int(&|x| x.first_seen_ns as i64)),
        ("last_seen_ns".into(), int(&|x| x.last_seen_ns as i64)),
        ("n_dsts".into(), int(&|x| x.dsts.len() as i64)),
        ("n_tcp_ports".into(), int(&|x| x.tcp_ports.len() as i64)),
        ("n_udp_ports".into(), int(&|x| x.udp_ports.len() as i64)),
        (
            "tcp_port_min".into(),
            Col::N(
                h.iter()
                    .map(|x| x.tcp_ports.first().map(|&p| i64::from(p)))
                    .collect(),
            ),
        ),
        (
            "tcp_port_max".into(),
            Col::N(
                h.iter()
                    .map(|x| x.tcp_ports.last().map(|&p| i64::from(p)))
                    .collect(),
            ),
        ),
    ];
    type Field<'a> = (&'a str, &'a dyn Fn(&darknet_core::HostStats) -> &Moments);
    let fields: [Field<'_>; 5] = [
        ("ip_len", &|x| &x.ip_len),
        ("ttl", &|x| &x.ttl),
        ("mss", &|x| &x.mss),
        ("window", &|x| &x.window),
        ("tsval", &|x| &x.tsval),
    ];
    for (name, get) in fields {
        let m: Vec<&Moments> = h.iter().map(get).collect();
        let opt = |f: &dyn Fn(&Moments) -> f64| {
            Col::F(m.iter().map(|x| (x.count() > 0).then(|| f(x))).collect())
        };
        cols.push((
            format!("{name}_n"),
            Col::I(m.iter().map(|x| x.count() as i64).collect()),
        ));
        cols.push((format!("{name}_sum"), opt(&|x| x.sum())));
        cols.push((format!("{name}_min"), opt(&|x| x.min())));
        cols.push((format!("{name}_max"), opt(&|x| x.max())));
        cols.push((format!("{name}_mean"), opt(&|x| x.mean())));
        cols.push((
            format!("{name}_m2"),
            opt(&|x| x.std() * x.std() * (x.count().max(1) - 1) as f64),
        ));
    }
    write_table(dir, "paper_a_host_stats", cols);
}

/// Node key as the SQL texts write it.
fn node_key(t: &Trace, i: usize) -> Option<i64> {
    let proto = t.proto()[i];
    let (port, flags, ty, code) = match proto {
        6 => (t.dst_port()[i], t.tcp_flags()[i], 0, 0),
        17 => (t.dst_port()[i], 0, 0, 0),
        1 => (0, 0, t.icmp_type()[i], t.icmp_code()[i]),
        _ => return None,
    };
    Some(
        (i64::from(proto) << 40)
            | (i64::from(port) << 24)
            | (i64::from(flags) << 16)
            | (i64::from(ty) << 8)
            | i64::from(code),
    )
}

fn write_host_graphs(kept: &Trace, dir: &Path) {
    #[derive(Default)]
    struct Node {
        first: i64,
        packets: i64,
        dsts: Vec<u32>,
        last_dst: Option<u32>,
        up: i64,
        down: i64,
        sports: Vec<u16>,
        classes: [i64; 3],
    }
    let mut nodes: BTreeMap<(u32, i64), Node> = BTreeMap::new();
    let mut edges: BTreeMap<(u32, i64, i64), i64> = BTreeMap::new();
    let s = kept.by_source();
    for k in 0..s.len() {
        let src = u32::from(s.source(k));
        let mut pos = 0i64;
        let mut prev: Option<i64> = None;
        for &i in s.packets_of(k) {
            let i = i as usize;
            let Some(key) = node_key(kept, i) else {
                continue;
            };
            pos += 1;
            let n = nodes.entry((src, key)).or_insert_with(|| Node {
                first: pos,
                ..Node::default()
            });
            let dst = kept.dst()[i];
            n.packets += 1;
            if let Some(l) = n.last_dst {
                n.up += i64::from(dst > l);
                n.down += i64::from(dst < l);
            }
            n.last_dst = Some(dst);
            n.dsts.push(dst);
            if kept.proto()[i] != 1 {
                let p = kept.src_port()[i];
                n.sports.push(p);
                n.classes[usize::from(p >= 1024) + usize::from(p >= 49152)] += 1;
            }
            if let Some(p) = prev.filter(|&p| p != key) {
                *edges.entry((src, p.min(key), p.max(key))).or_default() += 1;
            }
            prev = Some(key);
        }
    }
    for n in nodes.values_mut() {
        n.dsts.sort_unstable();
        n.dsts.dedup();
        n.sports.sort_unstable();
        n.sports.dedup();
    }
    let col = |f: &dyn Fn(&(u32, i64), &Node) -> i64| {
        Col::I(nodes.iter().map(|(k, n)| f(k, n)).collect())
    };
    write_table(
        dir,
        "host_graph_nodes",
        vec![
            ("src".into(), col(&|k, _| i64::from(k.0))),
            ("node".into(), col(&|k, _| k.1)),
            ("first_pos".into(), col(&|_, n| n.first)),
            ("packets".into(), col(&|_, n| n.packets)),
            ("n_dsts".into(), col(&|_, n| n.dsts.len() as i64)),
            ("dst_min".into(), col(&|_, n| i64::from(n.dsts[0]))),
            (
                "dst_max".into(),
                col(&|_, n| i64::from(*n.dsts.last().unwrap())),
            ),
            ("dst_up".into(), col(&|_, n| n.up)),
            ("dst_down".into(), col(&|_, n| n.down)),
            ("n_src_ports".into(), col(&|_, n| n.sports.len() as i64)),
            ("sport_well_known".into(), col(&|_, n| n.classes[0])),
            ("sport_registered".into(), col(&|_, n| n.classes[1])),
            ("sport_dynamic".into(), col(&|_, n| n.classes[2])),
        ],
    );
    write_table(
        dir,
        "host_graph_edges",
        vec![
            (
                "src".into(),
                Col::I(edges.keys().map(|e| i64::from(e.0)).collect()),
            ),
            ("node_a".into(), Col::I(edges.keys().map(|e| e.1).collect())),
            ("node_b".into(), Col::I(edges.keys().map(|e| e.2).collect())),
            ("weight".into(), Col::I(edges.values().copied().collect())),
        ],
    );
}

/// Paper B's tables of `trace` under `config` (daily ranking): `paper_b_edges`,
/// `paper_b_host_features`, `paper_b_port_features`, `packet_days`.
pub fn write_paper_b(trace: &Trace, config: &SnapshotConfig, dir: &Path) {
    let days = build_raw_days(trace, config).unwrap();
    let code = |p: &PortNode| match p {
        PortNode::Port(p) => i64::from(*p),
        PortNode::Other => i64::from(OTHER_PORT),
    };
    let mut host_rows: Vec<(i64, i64, [f64; 37])> = Vec::new();
    let mut port_rows: Vec<(i64, i64, [f64; 37])> = Vec::new();
    let mut edges: Vec<[i64; 4]> = Vec::new();
    for d in &days {
        let day = i64::from(d.day);
        for (h, f) in d.hosts.iter().zip(&d.host_features) {
            host_rows.push((day, i64::from(u32::from(*h)), *f));
        }
        for (p, f) in d.ports.iter().zip(&d.port_features) {
            port_rows.push((day, code(p), *f));
        }
        for &(h, p, n) in &d.edges {
            edges.push([
                day,
                i64::from(u32::from(d.hosts[h as usize])),
                code(&d.ports[p as usize]),
                n as i64,
            ]);
        }
    }
    for (name, key, names, rows) in [
        (
            "paper_b_host_features",
            "src",
            paper_b_host_columns(),
            host_rows,
        ),
        (
            "paper_b_port_features",
            "port",
            paper_b_port_columns(),
            port_rows,
        ),
    ] {
        let mut cols = vec![
            (
                "day".to_string(),
                Col::I(rows.iter().map(|r| r.0).collect()),
            ),
            (key.to_string(), Col::I(rows.iter().map(|r| r.1).collect())),
        ];
        for (c, n) in names.into_iter().enumerate() {
            cols.push((n, Col::F(rows.iter().map(|r| Some(r.2[c])).collect())));
        }
        write_table(dir, name, cols);
    }
    let e = |k: usize| Col::I(edges.iter().map(|r| r[k]).collect());
    write_table(
        dir,
        "paper_b_edges",
        vec![
            ("day".into(), e(0)),
            ("src".into(), e(1)),
            ("port".into(), e(2)),
            ("packets".into(), e(3)),
        ],
    );
    let all = trace.days(0);
    write_table(
        dir,
        "packet_days",
        vec![
            (
                "day".into(),
                Col::I(all.iter().map(|d| i64::from(d.0)).collect()),
            ),
            (
                "packets".into(),
                Col::I(all.iter().map(|d| d.1.len() as i64).collect()),
            ),
        ],
    );
}

/// Writes the darknet as one pcap and returns its path and the trace read back from it.
pub fn pcap(darknet: &SyntheticDarknet, dir: &Path) -> (PathBuf, Trace) {
    let path = dir.join("darknet.pcap");
    let mut w =
        PcapWriter::new(File::create(&path).unwrap(), PcapWriterOptions::default()).unwrap();
    for p in (0..darknet.n_days()).flat_map(|d| darknet.day(d)) {
        w.write_packet(&p).unwrap();
    }
    w.finish().unwrap();
    let trace = paper_a::read_captures(std::slice::from_ref(&path)).unwrap();
    (path, trace)
}
