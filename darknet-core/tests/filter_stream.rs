//! The two-pass streaming form of Paper A's filter chain against the in-memory filters: the
//! same reports and the same kept packets, in the same order, for every combination of
//! filters; and its errors.

use darknet_core::filter::{
    bogon_filter, isolated_filter, periodic_filter, vertical_scan_filter, FilterPlan,
    IsolatedConfig, PaperAStream, PeriodicConfig, StreamFilters, VerticalScanConfig,
};
use darknet_core::{
    CoreError, FilterReport, Packet, PaperAFilters, Protocol, SynthConfig, Trace, NANOS_PER_DAY,
};
use proptest::prelude::*;
use std::net::Ipv4Addr;

/// A routable source (the default 0.0.0.0 is a bogon).
const HOST: Ipv4Addr = Ipv4Addr::new(45, 33, 32, 1);

/// The in-memory chain of the enabled filters (weeks from the first packet, as the chain does).
fn batch(trace: &Trace, f: &StreamFilters) -> (Trace, Vec<FilterReport>) {
    let a = bogon_filter(trace, &f.bogon);
    let mut reports = vec![a.report];
    let mut t = a.trace;
    if let Some(c) = &f.isolated {
        let r = isolated_filter(&t, c).unwrap();
        reports.push(r.report);
        t = r.trace;
    }
    if let Some(c) = &f.vertical {
        let c = VerticalScanConfig {
            origin_ns: c.origin_ns.or_else(|| trace.ts_ns().first().copied()),
            ..*c
        };
        let r = vertical_scan_filter(&t, &c).unwrap();
        reports.push(r.report);
        t = r.trace;
    }
    if let Some(c) = &f.periodic {
        let r = periodic_filter(&t, c).unwrap();
        reports.push(r.report);
        t = r.trace;
    }
    (t, reports)
}

/// Both passes over `packets` (in chunks, as a pipeline feeds days); the kept packets in
/// stream order.
fn stream(packets: &[Packet], f: StreamFilters, chunk: usize) -> (FilterPlan, Trace) {
    let mut pass1 = PaperAStream::new(f).unwrap();
    for c in packets.chunks(chunk.max(1)) {
        pass1.push_all(c).unwrap();
    }
    let plan = pass1.finish();
    let mut kept = Vec::new();
    let mut pass2 = plan.kept();
    for p in packets {
        pass2.push(p, &mut |i, q| kept.push((i, *q))).unwrap();
    }
    pass2.finish().unwrap();
    // Each host's packets come out in order.
    let mut last: std::collections::HashMap<Ipv4Addr, u64> = Default::default();
    for (i, q) in &kept {
        if let Some(prev) = last.insert(q.src, *i) {
            assert!(prev < *i, "host {} out of order", q.src);
        }
    }
    kept.sort_unstable_by_key(|k| k.0);
    let trace = Trace::from_packets(kept.into_iter().map(|k| k.1));
    (plan, trace)
}

fn check(trace: &Trace, f: StreamFilters) {
    let packets: Vec<Packet> = trace.iter().collect();
    let (want, want_reports) = batch(trace, &f);
    let (plan, got) = stream(&packets, f, 1000);
    assert_eq!(plan.reports(), &want_reports[..], "{f:?}");
    assert_eq!(got, want, "{f:?}");
    assert_eq!(plan.packets_out() as usize, want.len());
    assert_eq!(plan.hosts_out() as usize, want.by_source().len());
    assert_eq!(plan.n_packets_in() as usize, trace.len());
    assert_eq!(plan.n_hosts_in() as usize, trace.by_source().len());
    let days: Vec<u32> = trace.days(0).into_iter().map(|d| d.0).collect();
    assert_eq!(plan.days(), &days[..]);
}

fn all_combinations(window_ns: u64) -> Vec<StreamFilters> {
    let mut out = Vec::new();
    for bits in 0..16u8 {
        out.push(StreamFilters {
            bogon: darknet_core::filter::BogonFilterConfig {
                enabled: bits & 1 != 0,
            },
            isolated: (bits & 2 != 0).then_some(IsolatedConfig { window_ns }),
            vertical: (bits & 4 != 0).then_some(VerticalScanConfig {
                window_ns,
                max_tcp_ports: 6,
                max_udp_ports: 4,
                ..Default::default()
            }),
            periodic: (bits & 8 != 0).then_some(PeriodicConfig::default()),
        });
    }
    out
}

#[test]
fn synthetic_darknet_streams_to_the_in_memory_result() {
    for (seed, days) in [(0u64, 1u32), (1, 3), (2, 9)] {
        let darknet = SynthConfig::paper_a()
            .hosts(300)
            .days(days)
            .seed(seed)
            .build()
            .unwrap();
        let trace = darknet.trace();
        let f = StreamFilters::from(&PaperAFilters::default());
        check(&trace, f);
        // The chain's own entry point agrees too.
        let (kept, reports) = PaperAFilters::default().apply(&trace).unwrap();
        let (plan, got) = stream(&trace.iter().collect::<Vec<_>>(), f, 4096);
        assert_eq!(plan.reports(), &reports[..]);
        assert_eq!(got, kept);
    }
    // Every combination of filters, with a one-day window over nine days.
    let trace = SynthConfig::paper_a()
        .hosts(150)
        .days(9)
        .seed(5)
        .build()
        .unwrap()
        .trace();
    for f in all_combinations(NANOS_PER_DAY) {
        check(&trace, f);
    }
}

fn packet_strategy() -> impl Strategy<Value = Vec<Packet>> {
    // Few hosts (one bogon), few ports, gaps around a window of 100 ns, ties included.
    let one = (0u8..5, 0u64..60, 0u8..3, 0u16..9);
    proptest::collection::vec(one, 0..120).prop_map(|v| {
        let mut ts = 0u64;
        v.into_iter()
            .map(|(h, gap, proto, port)| {
                ts += gap * 3;
                Packet {
                    ts_ns: ts,
                    src: if h == 4 {
                        Ipv4Addr::new(10, 0, 0, 1)
                    } else {
                        Ipv4Addr::new(45, 33, 32, h)
                    },
                    proto: [Protocol::Tcp, Protocol::Udp, Protocol::Icmp][proto as usize],
                    dst_port: if proto == 2 { 0 } else { 20 + port },
                    ..Packet::default()
                }
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn random_streams_match_the_in_memory_chain(packets in packet_strategy()) {
        let trace = Trace::from_packets(packets);
        for f in all_combinations(100) {
            let packets: Vec<Packet> = trace.iter().collect();
            let (want, want_reports) = batch(&trace, &f);
            let (plan, got) = stream(&packets, f, 7);
            prop_assert_eq!(plan.reports(), &want_reports[..]);
            prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn periodic_walks_are_found_as_in_memory(
        walk in proptest::collection::vec(0u16..4, 0..40),
        max_period in 2usize..10,
    ) {
        // One host walking `walk` (a periodic prefix repeated, or noise), one packet a ns.
        let packets: Vec<Packet> = walk
            .iter()
            .enumerate()
            .map(|(i, &p)| Packet { ts_ns: i as u64, src: HOST, dst_port: 1 + p, ..Packet::default() })
            .collect();
        let trace = Trace::from_packets(packets.clone());
        let f = StreamFilters {
            periodic: Some(PeriodicConfig { max_period, ..Default::default() }),
            ..Default::default()
        };
        let (want, want_reports) = batch(&trace, &f);
        let (plan, got) = stream(&packets, f, 3);
        prop_assert_eq!(plan.reports(), &want_reports[..]);
        prop_assert_eq!(got, want);
    }
}

#[test]
fn repeated_cycles_are_periodic_in_both_forms() {
    for period in 2..=8u16 {
        let packets: Vec<Packet> = (0..50u16)
            .map(|i| Packet {
                ts_ns: u64::from(i),
                src: HOST,
                dst_port: 100 + i % period,
                ..Packet::default()
            })
            .collect();
        let f = StreamFilters {
            periodic: Some(PeriodicConfig::default()),
            ..Default::default()
        };
        let (plan, got) = stream(&packets, f, 10);
        assert_eq!(plan.reports()[1].hosts_removed, 1, "period {period}");
        assert!(got.is_empty());
    }
}

#[test]
fn out_of_order_packets_are_an_error_with_their_index() {
    let p = |ts| Packet {
        ts_ns: ts,
        ..Packet::default()
    };
    let mut pass1 = PaperAStream::new(StreamFilters::default()).unwrap();
    pass1.push_all(&[p(5), p(7)]).unwrap();
    let err = pass1.push(&p(6)).unwrap_err();
    assert!(matches!(
        err,
        CoreError::OutOfOrder {
            packet_index: 2,
            ts_ns: 6,
            previous_ns: 7
        }
    ));
    assert!(err.to_string().contains("packet 2"), "{err}");
    let plan = pass1.finish();
    let mut pass2 = plan.kept();
    pass2.push(&p(5), &mut |_, _| {}).unwrap();
    assert!(matches!(
        pass2.push(&p(1), &mut |_, _| {}),
        Err(CoreError::OutOfOrder {
            packet_index: 1,
            ..
        })
    ));
}

#[test]
fn a_second_pass_over_other_packets_is_an_error() {
    let p = |ts, port| Packet {
        ts_ns: ts,
        src: HOST,
        dst_port: port,
        ..Packet::default()
    };
    let first = [p(1, 1), p(2, 5), p(3, 2)];
    let mut pass1 = PaperAStream::new(StreamFilters::from(&PaperAFilters::default())).unwrap();
    pass1.push_all(&first).unwrap();
    let plan = pass1.finish();
    // Fewer packets.
    let mut pass2 = plan.kept();
    pass2.push(&first[0], &mut |_, _| {}).unwrap();
    let err = pass2.finish().unwrap_err();
    assert!(
        matches!(
            err,
            CoreError::StreamMismatch {
                expected: 3,
                seen: 1,
                ..
            }
        ),
        "{err}"
    );
    // More packets.
    let mut pass2 = plan.kept();
    for q in &first {
        pass2.push(q, &mut |_, _| {}).unwrap();
    }
    let err = pass2.push(&p(4, 4), &mut |_, _| {}).unwrap_err();
    assert!(
        matches!(err, CoreError::StreamMismatch { seen: 4, .. }),
        "{err}"
    );
    // As many packets, but another host's: nothing kept where the plan expected three.
    let mut pass2 = plan.kept();
    for q in &first {
        let q = Packet {
            src: Ipv4Addr::new(45, 33, 32, 7),
            ts_ns: q.ts_ns * NANOS_PER_DAY * 30,
            ..*q
        };
        pass2.push(&q, &mut |_, _| {}).unwrap();
    }
    let err = pass2.finish().unwrap_err();
    assert!(
        matches!(
            err,
            CoreError::StreamMismatch {
                expected: 3,
                seen: 0,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("kept"), "{err}");
}

#[test]
fn invalid_settings_are_refused() {
    let bad = StreamFilters {
        periodic: Some(PeriodicConfig {
            max_period: 64,
            ..Default::default()
        }),
        ..Default::default()
    };
    let err = PaperAStream::new(bad).unwrap_err();
    assert!(err.to_string().contains("max_period"), "{err}");
    let bad = StreamFilters {
        isolated: Some(IsolatedConfig { window_ns: 0 }),
        ..Default::default()
    };
    assert!(matches!(
        PaperAStream::new(bad),
        Err(CoreError::InvalidConfig {
            field: "window_ns",
            ..
        })
    ));
}

#[test]
fn an_empty_stream_gives_an_empty_plan() {
    let plan = PaperAStream::new(StreamFilters::from(&PaperAFilters::default()))
        .unwrap()
        .finish();
    assert_eq!(plan.packets_out(), 0);
    assert_eq!(plan.hosts_out(), 0);
    assert!(plan.days().is_empty());
    plan.kept().finish().unwrap();
}
