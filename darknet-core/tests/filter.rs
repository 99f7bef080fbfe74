//! Filters at their threshold edges (docs/choices.md: A1–A3, B1) and the bogon filter.
use darknet_core::filter::{
    bogon_filter, is_periodic, isolated_filter, min_packets_filter, periodic_filter,
    tcp_only_filter, vertical_scan_filter, BogonFilterConfig, IsolatedConfig, MinPacketsConfig,
    MinPacketsRule, PaperAFilters, PaperBFilters, PeriodicConfig, VerticalScanConfig,
};
use darknet_core::{CoreError, Packet, Protocol, SynthConfig, Trace, NANOS_PER_DAY};
use std::net::Ipv4Addr;

const H: u64 = 3_600_000_000_000;

fn p(ts: u64, src: u8, proto: Protocol, port: u16) -> Packet {
    Packet {
        ts_ns: ts,
        src: Ipv4Addr::new(8, 8, 8, src),
        dst: Ipv4Addr::new(198, 18, 0, 1),
        proto,
        dst_port: port,
        ..Packet::default()
    }
}

fn tcp(ts: u64, src: u8, port: u16) -> Packet {
    p(ts, src, Protocol::Tcp, port)
}

#[test]
fn isolated_exactly_seven_days_apart_is_kept() {
    let w = 7 * NANOS_PER_DAY;
    let t = Trace::from_packets(vec![
        tcp(0, 1, 80),
        tcp(w, 1, 80), // exactly 7 days after: both kept
        tcp(0, 2, 80),
        tcp(w + 1, 2, 80), // 1 ns more: both isolated
        tcp(5 * H, 3, 22), // single packet: isolated
    ]);
    let f = isolated_filter(&t, &IsolatedConfig::default()).unwrap();
    assert_eq!(f.trace.len(), 2);
    assert!(f
        .trace
        .src()
        .iter()
        .all(|&s| s == u32::from(Ipv4Addr::new(8, 8, 8, 1))));
    assert_eq!(f.report.packets_removed, 3);
    assert_eq!(f.report.hosts_removed, 2);
    assert_eq!(f.report.name, "isolated-packets");
    // A middle packet far from both neighbours is dropped, its neighbours kept by others.
    let t = Trace::from_packets(vec![
        tcp(0, 1, 1),
        tcp(H, 1, 2),
        tcp(20 * NANOS_PER_DAY, 1, 3),
    ]);
    let f = isolated_filter(&t, &IsolatedConfig::default()).unwrap();
    assert_eq!(f.trace.dst_port(), &[1, 2]);
}

fn scanner(n_tcp: u16, n_udp: u16, spacing: u64) -> Trace {
    let mut v = Vec::new();
    for k in 0..n_tcp {
        v.push(tcp(u64::from(k) * spacing, 1, 1000 + k));
    }
    for k in 0..n_udp {
        v.push(p(u64::from(k) * spacing, 2, Protocol::Udp, 2000 + k));
    }
    v.push(tcp(0, 3, 80));
    Trace::from_packets(v)
}

#[test]
fn vertical_scan_edges() {
    let c = VerticalScanConfig::default();
    let f = vertical_scan_filter(&scanner(19, 14, H), &c).unwrap();
    assert_eq!(f.report.hosts_removed, 0);
    let f = vertical_scan_filter(&scanner(20, 14, H), &c).unwrap();
    assert_eq!(f.report.hosts_removed, 1);
    assert_eq!(f.report.packets_removed, 20);
    let f = vertical_scan_filter(&scanner(19, 15, H), &c).unwrap();
    assert_eq!(f.report.hosts_removed, 1);
    assert_eq!(f.report.packets_removed, 15);
    // 20 TCP ports spread over two windows (10 per week): kept.
    let f = vertical_scan_filter(&scanner(20, 0, 14 * NANOS_PER_DAY / 20), &c).unwrap();
    assert_eq!(f.report.hosts_removed, 0);
    // Configurable thresholds.
    let low = VerticalScanConfig {
        max_tcp_ports: 5,
        ..c
    };
    assert_eq!(
        vertical_scan_filter(&scanner(5, 0, H), &low)
            .unwrap()
            .report
            .hosts_removed,
        1
    );
}

fn seq(ports: &[u16]) -> Vec<(u8, u16)> {
    ports.iter().map(|&x| (6, x)).collect()
}

#[test]
fn periodic_cycles_progressions_and_short_sequences() {
    let c = PeriodicConfig::default();
    for period in 2..=8u16 {
        let cycle: Vec<u16> = (0..2 * period)
            .map(|i| 100 + (i % period) * 7 % 97)
            .collect();
        let s = seq(&cycle);
        assert!(is_periodic(&s, &c), "period {period}");
        // Break the last element: not periodic (no arithmetic step either).
        let mut broken = cycle.clone();
        *broken.last_mut().unwrap() = 9;
        assert!(!is_periodic(&seq(&broken), &c), "broken {period}");
    }
    // Period 9 is beyond max_period.
    let nine: Vec<u16> = (0..18)
        .map(|i| [5, 1, 9, 3, 7, 2, 8, 4, 6][i % 9])
        .collect();
    assert!(!is_periodic(&seq(&nine), &c));
    assert!(is_periodic(&seq(&[2, 4, 6, 8]), &c));
    assert!(is_periodic(&seq(&[10, 7, 4, 1]), &c));
    assert!(
        !is_periodic(&seq(&[2, 4, 6]), &c),
        "3 elements are never periodic"
    );
    assert!(!is_periodic(&seq(&[80, 443, 80]), &c));
    assert!(!is_periodic(&seq(&[2, 4, 7, 9]), &c));
    // Mixed protocols are never an arithmetic progression.
    assert!(!is_periodic(&[(6, 2), (17, 4), (6, 6), (17, 8)], &c));
    let no_ap = PeriodicConfig {
        arithmetic: false,
        ..c
    };
    assert!(!is_periodic(&seq(&[2, 4, 6, 8]), &no_ap));
    // Through the filter: repeats collapse, ICMP is ignored.
    let t = Trace::from_packets(vec![
        tcp(1, 1, 80),
        tcp(2, 1, 80),
        tcp(3, 1, 443),
        p(4, 1, Protocol::Icmp, 0),
        tcp(5, 1, 80),
        tcp(6, 1, 443),
        tcp(1, 2, 22),
    ]);
    let f = periodic_filter(&t, &c).unwrap();
    assert_eq!(f.report.hosts_removed, 1);
    assert_eq!(f.trace.len(), 1);
}

#[test]
fn min_packets_rules_and_tcp_only() {
    let mut v: Vec<Packet> = (0..5).map(|k| tcp(k, 1, 80)).collect();
    v.extend((0..6).map(|k| tcp(k, 2, 80)));
    v.extend((0..4).map(|k| tcp(NANOS_PER_DAY + k, 1, 80))); // day 2: host 1 has 4
    v.push(p(7, 3, Protocol::Udp, 53));
    let t = Trace::from_packets(v);
    let tcp_t = tcp_only_filter(&t);
    assert_eq!(tcp_t.report.packets_removed, 1);
    let at_least = min_packets_filter(&tcp_t.trace, &MinPacketsConfig::default()).unwrap();
    assert_eq!(at_least.trace.len(), 11);
    let more = MinPacketsConfig {
        rule: MinPacketsRule::MoreThan,
        ..Default::default()
    };
    let more = min_packets_filter(&tcp_t.trace, &more).unwrap();
    assert_eq!(more.trace.len(), 6);
    assert_eq!(more.report.hosts_removed, 1);
    let bad = MinPacketsConfig {
        utc_offset_secs: 100_000,
        ..Default::default()
    };
    assert!(matches!(
        min_packets_filter(&t, &bad),
        Err(CoreError::InvalidConfig {
            field: "utc_offset_secs",
            ..
        })
    ));
}

#[test]
fn bogon_sources_dropped_unless_disabled() {
    let mut lo = tcp(1, 1, 80);
    lo.src = Ipv4Addr::LOCALHOST;
    let t = Trace::from_packets(vec![lo, tcp(2, 1, 80)]);
    let f = bogon_filter(&t, &BogonFilterConfig::default());
    assert_eq!(f.trace.len(), 1);
    assert_eq!(f.report.hosts_removed, 1);
    let off = bogon_filter(&t, &BogonFilterConfig { enabled: false });
    assert_eq!(off.trace.len(), 2);
}

#[test]
fn invalid_filter_configs() {
    let t = Trace::default();
    assert!(matches!(
        isolated_filter(&t, &IsolatedConfig { window_ns: 0 }),
        Err(CoreError::InvalidConfig {
            field: "window_ns",
            ..
        })
    ));
    for (c, field) in [
        (
            VerticalScanConfig {
                window_ns: 0,
                ..Default::default()
            },
            "window_ns",
        ),
        (
            VerticalScanConfig {
                max_tcp_ports: 0,
                ..Default::default()
            },
            "max_tcp_ports",
        ),
        (
            VerticalScanConfig {
                max_udp_ports: 0,
                ..Default::default()
            },
            "max_udp_ports",
        ),
    ] {
        assert!(
            matches!(vertical_scan_filter(&t, &c), Err(CoreError::InvalidConfig { field: f, .. }) if f == field)
        );
    }
    assert!(matches!(
        periodic_filter(
            &t,
            &PeriodicConfig {
                min_len: 2,
                ..Default::default()
            }
        ),
        Err(CoreError::InvalidConfig {
            field: "min_len",
            ..
        })
    ));
    assert!(matches!(
        periodic_filter(
            &t,
            &PeriodicConfig {
                max_period: 1,
                ..Default::default()
            }
        ),
        Err(CoreError::InvalidConfig {
            field: "max_period",
            ..
        })
    ));
}

#[test]
fn chains_on_the_synthetic_darknet() {
    let s = SynthConfig::paper_a()
        .hosts(400)
        .days(10)
        .seed(3)
        .build()
        .unwrap();
    let t = s.trace();
    let (kept, reports) = PaperAFilters::default().apply(&t).unwrap();
    assert_eq!(reports.len(), 4);
    assert!(reports[1].packets_removed > 0, "isolated: {:?}", reports[1]);
    assert!(reports[2].hosts_removed > 0, "vertical: {:?}", reports[2]);
    assert!(reports[3].hosts_removed > 0, "periodic: {:?}", reports[3]);
    assert!(kept.len() > t.len() / 3);
    // Most labelled hosts survive the filters.
    let idx = kept.by_source();
    let labelled: Vec<_> = s.hosts().iter().filter(|h| h.labels != 0).collect();
    let survived = labelled
        .iter()
        .filter(|h| idx.position(h.addr).is_some())
        .count();
    assert!(
        survived as f64 > 0.8 * labelled.len() as f64,
        "{survived} of {}",
        labelled.len()
    );
    let b = SynthConfig::paper_b()
        .hosts(300)
        .days(3)
        .build()
        .unwrap()
        .trace();
    let (kb, rb) = PaperBFilters::default().apply(&b).unwrap();
    assert_eq!(rb.len(), 3);
    assert!(kb.proto().iter().all(|&p| p == 6));
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn packet() -> impl Strategy<Value = Packet> {
        (0u64..20 * NANOS_PER_DAY, 0u8..6, 0u16..40, 0u8..3).prop_map(|(ts, s, port, pr)| {
            p(
                ts,
                s,
                [Protocol::Tcp, Protocol::Udp, Protocol::Icmp][pr as usize],
                port,
            )
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Every filter keeps a time-sorted sub-multiset and reports exactly what it removed;
        /// host-level filters remove hosts entirely.
        #[test]
        fn reports_add_up(ps in proptest::collection::vec(packet(), 0..120)) {
            let t = Trace::from_packets(ps);
            let low = VerticalScanConfig { max_tcp_ports: 6, max_udp_ports: 4, ..Default::default() };
            let fs = vec![
                (isolated_filter(&t, &IsolatedConfig { window_ns: NANOS_PER_DAY }).unwrap(), false),
                (vertical_scan_filter(&t, &low).unwrap(), true),
                (periodic_filter(&t, &PeriodicConfig::default()).unwrap(), true),
                (tcp_only_filter(&t), false),
                (min_packets_filter(&t, &MinPacketsConfig { min_packets: 3, ..Default::default() }).unwrap(), false),
                (bogon_filter(&t, &BogonFilterConfig::default()), true),
            ];
            for (f, whole_hosts) in fs {
                prop_assert_eq!(f.report.packets_in, t.len());
                prop_assert_eq!(f.trace.len() + f.report.packets_removed, t.len());
                prop_assert!(f.report.hosts_removed <= f.report.hosts_in);
                prop_assert!(f.trace.ts_ns().windows(2).all(|w| w[0] <= w[1]));
                let kept = f.trace.by_source();
                prop_assert_eq!(kept.len() + f.report.hosts_removed, t.by_source().len());
                if whole_hosts {
                    for (addr, idx) in kept.iter() {
                        let k = t.by_source().position(addr).unwrap();
                        prop_assert_eq!(idx.len(), t.by_source().packets_of(k).len());
                    }
                }
            }
        }
    }
}
