//! Shared by the exactness tests: a small input that exercises every rule, and the checks that
//! each aggregate table equals what the in-memory path computes from the same packets.
#![allow(dead_code)]

use darknet_core::aggregate::read;
use darknet_core::io::parquet::{write_dataset, ParquetWriterOptions};
use darknet_core::stats::HostStatsTable;
use darknet_core::{Packet, PaperAFilters, Protocol, SynthConfig, Trace, NANOS_PER_DAY};
use darknet_graph::{build_snapshots, count_transitions, PortKey, SnapshotConfig};
use std::net::Ipv4Addr;
use std::path::Path;

/// Paper B's top-K in these tests: small, so that the "other" node appears.
pub const TOP_K: usize = 12;

/// Hand-made sources that exercise every rule, on top of a small synthetic darknet.
pub fn crafted(t0: u64) -> Vec<Packet> {
    let mut v = Vec::new();
    let mut pk = |ts: u64, src: [u8; 4], proto: Protocol, port: u16| {
        v.push(Packet {
            ts_ns: ts,
            src: Ipv4Addr::from(src),
            dst: Ipv4Addr::new(198, 18, 3, (port % 200) as u8),
            proto,
            dst_port: if proto.has_ports() { port } else { 0 },
            ip_len: 40 + (port % 7),
            ttl: 50,
            tcp_flags: 0x02,
            ..Packet::default()
        });
    };
    let s = 1_000_000_000;
    // A bogon source.
    for k in 0..6 {
        pk(t0 + k * s, [10, 1, 2, 3], Protocol::Tcp, 23);
    }
    // Two isolated packets (8 days apart) and a pair exactly 7 days apart (kept).
    pk(t0 + 3 * s, [8, 8, 4, 4], Protocol::Tcp, 22);
    pk(t0 + 8 * NANOS_PER_DAY, [8, 8, 4, 4], Protocol::Tcp, 22);
    pk(t0 + 5 * s, [8, 8, 5, 5], Protocol::Udp, 53);
    pk(
        t0 + 5 * s + 7 * NANOS_PER_DAY,
        [8, 8, 5, 5],
        Protocol::Udp,
        53,
    );
    // A vertical scan: 25 TCP ports in one week.
    for k in 0..25u16 {
        pk(
            t0 + u64::from(k) * 60 * s,
            [45, 1, 1, 1],
            Protocol::Tcp,
            1000 + k * 37,
        );
    }
    // 14 UDP ports in week 1 and 14 others in week 2: under the UDP threshold in each.
    for k in 0..28u16 {
        let week = u64::from(k / 14) * 7 * NANOS_PER_DAY;
        pk(
            t0 + week + u64::from(k) * s,
            [45, 1, 1, 2],
            Protocol::Udp,
            3000 + k,
        );
    }
    // A period-2 walk with ICMP and repeats in between (collapsed: 22 23 22 23 22 23).
    for (k, port) in [22u16, 22, 23, 22, 0, 23, 22, 23].iter().enumerate() {
        let proto = if *port == 0 {
            Protocol::Icmp
        } else {
            Protocol::Tcp
        };
        pk(t0 + k as u64 * 30 * s, [45, 2, 2, 2], proto, *port);
    }
    // An arithmetic progression of UDP ports.
    for k in 0..5u16 {
        pk(
            t0 + u64::from(k) * s,
            [45, 3, 3, 3],
            Protocol::Udp,
            100 + 10 * k,
        );
    }
    // Equal timestamps: capture order decides the walk (80 -> 443 -> 8080 -> 80).
    for port in [80u16, 443, 8080, 80, 80] {
        pk(t0 + 42 * s, [45, 4, 4, 4], Protocol::Tcp, port);
    }
    // A busy Paper B host with many ports, so that the top-K cut matters.
    for k in 0..40u16 {
        pk(
            t0 + 2 * NANOS_PER_DAY + u64::from(k) * s,
            [45, 5, 5, 5],
            Protocol::Tcp,
            7000 + (k % 20),
        );
    }
    v
}

/// The test input: a small synthetic darknet plus [`crafted`] sources, time-sorted.
pub fn input() -> Trace {
    let synth = SynthConfig::paper_a()
        .hosts(150)
        .days(4)
        .seed(11)
        .build()
        .unwrap();
    let mut packets: Vec<Packet> = synth.trace().iter().collect();
    let t0 = packets[0].ts_ns;
    packets.extend(crafted(t0));
    Trace::from_packets(packets)
}

/// Writes `trace` as a Parquet dataset in capture (time) order, small row groups.
pub fn write(trace: &Trace, dir: &Path) {
    let opts = ParquetWriterOptions {
        row_group_rows: 4_096,
        ..Default::default()
    };
    write_dataset(dir, &trace.iter().collect::<Vec<_>>(), opts).unwrap();
}

/// Every check.
pub fn all(trace: &Trace, out: &Path) {
    filter_reports_and_kept_hosts(trace, out);
    port_transitions(trace, out);
    host_stats(trace, out);
    paper_b_days(trace, out);
}

fn close(a: f64, b: f64, what: &str) {
    let tol = 1e-9 * a.abs().max(b.abs()).max(1e-6);
    assert!((a - b).abs() <= tol, "{what}: {a} vs {b}");
}

pub fn filter_reports_and_kept_hosts(trace: &Trace, out: &Path) {
    let (kept, reports) = PaperAFilters::default().apply(trace).unwrap();
    let agg = read::paper_a_filters(out).unwrap();
    assert_eq!(agg.reports(), reports);
    for r in &reports {
        assert!(r.packets_removed > 0, "{} removes something", r.name);
    }
    let mut hosts: Vec<Ipv4Addr> = kept.src().iter().map(|&a| Ipv4Addr::from(a)).collect();
    hosts.sort_unstable();
    hosts.dedup();
    assert_eq!(agg.kept_hosts(), hosts);
    assert_eq!(agg.kept_packets(), kept.len() as u64);
}

pub fn port_transitions(trace: &Trace, out: &Path) {
    let (kept, _) = PaperAFilters::default().apply(trace).unwrap();
    let counts = count_transitions(&kept, &kept.by_source());
    let t = read::port_transitions(out).unwrap();
    assert_eq!(t.edges.len(), counts.n_edges());
    assert_eq!(t.ports.len(), counts.n_ports());
    assert_eq!(t.n_packets(), counts.n_packets());
    for &(a, b, theta) in &t.edges {
        assert_eq!(
            counts.theta(PortKey::from_code(a), PortKey::from_code(b)),
            theta,
            "{a} -> {b}"
        );
    }
    // Equal timestamps keep capture order: 80 -> 443 -> 8080 -> 80.
    let th = |a, b| counts.theta(PortKey::tcp(a), PortKey::tcp(b));
    assert!(th(443, 8080) >= 1 && th(8080, 80) >= 1);
}

pub fn host_stats(trace: &Trace, out: &Path) {
    let table = HostStatsTable::from_trace(trace);
    let rows = read::host_stats(out).unwrap();
    assert_eq!(rows.len(), table.len());
    for (r, h) in rows.iter().zip(table.hosts()) {
        assert_eq!(r.addr, h.addr);
        let counts = [
            (r.packets, h.packets),
            (r.tcp, h.tcp),
            (r.udp, h.udp),
            (r.icmp, h.icmp),
            (r.other, h.other),
            (r.syn, h.syn),
            (r.syn_ack, h.syn_ack),
            (r.rst, h.rst),
            (r.mirai, h.mirai),
            (r.tsval_packets, h.tsval_packets),
            (r.first_seen_ns, h.first_seen_ns),
            (r.last_seen_ns, h.last_seen_ns),
            (r.n_dsts, h.dsts.len() as u64),
            (r.n_tcp_ports, h.tcp_ports.len() as u64),
            (r.n_udp_ports, h.udp_ports.len() as u64),
        ];
        for (k, (a, b)) in counts.iter().enumerate() {
            assert_eq!(a, b, "host {} count #{k}", r.addr);
        }
        assert_eq!(
            r.tcp_port_range,
            h.tcp_ports
                .first()
                .zip(h.tcp_ports.last())
                .map(|(a, b)| (*a, *b))
        );
        for (name, m, s) in [
            ("ip_len", &r.ip_len, &h.ip_len),
            ("ttl", &r.ttl, &h.ttl),
            ("mss", &r.mss, &h.mss),
            ("window", &r.window, &h.window),
            ("tsval", &r.tsval, &h.tsval),
        ] {
            assert_eq!(m.n, s.count(), "{name}");
            close(m.sum, s.sum(), name);
            close(m.min, s.min(), name);
            close(m.max, s.max(), name);
            close(m.mean, s.mean(), name);
            close(m.std(), s.std(), name);
        }
        let (a, b) = (r.features(), h.features());
        for k in 0..a.len() {
            let tol = 1e-6 * a[k].abs().max(b[k].abs()).max(1e-3);
            assert!(
                (a[k] - b[k]).abs() <= tol,
                "feature {k}: {} vs {}",
                a[k],
                b[k]
            );
        }
    }
}

pub fn paper_b_days(trace: &Trace, out: &Path) {
    let set = build_snapshots(trace, &SnapshotConfig::default().top_k_ports(TOP_K)).unwrap();
    let days = read::paper_b_days(out).unwrap();
    assert_eq!(days.len(), set.snapshots().len());
    let mut saw_other = false;
    for (d, s) in days.iter().zip(set.snapshots()) {
        assert_eq!(d.day, s.day);
        let nh = s.n_hosts;
        let hosts: Vec<Ipv4Addr> = s.node_ids[..nh]
            .iter()
            .map(|&id| set.hosts()[id as usize])
            .collect();
        assert_eq!(d.hosts, hosts);
        let ports: Vec<u32> = s.node_ids[nh..]
            .iter()
            .map(|&id| match set.ports()[id as usize - set.n_hosts()] {
                darknet_graph::snapshot::PortNode::Port(p) => u32::from(p),
                darknet_graph::snapshot::PortNode::Other => read::OTHER_PORT,
            })
            .collect();
        assert_eq!(d.ports, ports);
        saw_other |= ports.contains(&read::OTHER_PORT);
        let edges: Vec<(u32, u32, u64)> = s
            .edges
            .iter()
            .map(|e| (e.host, e.port - nh as u32, e.packets))
            .collect();
        assert_eq!(d.edges, edges);
        // Scaled as the snapshots scale them: each column over its maximum in the layer.
        for (rows, first) in [(&d.host_features, 0), (&d.port_features, nh)] {
            let mut max = [0f64; read::PAPER_B_N_FEATURES];
            for r in rows.iter() {
                for (m, v) in max.iter_mut().zip(r) {
                    *m = m.max(*v);
                }
            }
            for (k, r) in rows.iter().enumerate() {
                for c in 0..read::PAPER_B_N_FEATURES {
                    let want = s.features[[first + k, c]];
                    let got = if max[c] > 0.0 {
                        (r[c] / max[c]) as f32
                    } else {
                        0.0
                    };
                    let tol = 1e-6 * want.abs().max(1e-3);
                    assert!((got - want).abs() <= tol, "day {} row {k} col {c}", d.day);
                }
            }
        }
    }
    assert!(saw_other, "the top-K cut leaves an `other` node");
}
