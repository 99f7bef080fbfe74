//! Per-host statistics: hand-worked values, and merge of shards equals the whole (proptest).
use approx::assert_relative_eq;
use darknet_core::stats::{
    HostStatsTable, Moments, Sharding, HOST_FEATURE_COUNT, HOST_FEATURE_NAMES,
};
use darknet_core::{tcp_flags, Packet, Protocol, TcpOptions, Trace, NANOS_PER_DAY};
use proptest::prelude::*;
use std::net::Ipv4Addr;

#[test]
fn moments_hand_worked() {
    let mut m = Moments::default();
    assert_eq!(m.stats(), [0.0; 5]);
    m.push(4.0);
    assert_eq!(m.std(), 0.0, "n = 1 gives std 0");
    for x in [7.0, 13.0, 16.0] {
        m.push(x);
    }
    // values 4, 7, 13, 16: mean 10, sample variance (36 + 9 + 9 + 36) / 3 = 30.
    assert_eq!(m.count(), 4);
    assert_relative_eq!(m.mean(), 10.0);
    assert_relative_eq!(m.std(), 30f64.sqrt());
    assert_eq!((m.sum(), m.min(), m.max()), (40.0, 4.0, 16.0));
    let (mut a, mut b) = (Moments::default(), Moments::default());
    a.push(4.0);
    a.push(7.0);
    b.push(13.0);
    b.push(16.0);
    a.merge(&b);
    assert_relative_eq!(a.std(), m.std(), epsilon = 1e-12);
    a.merge(&Moments::default());
    assert_eq!(a.count(), 4);
}

#[test]
fn host_stats_hand_worked() {
    let src = Ipv4Addr::new(8, 8, 4, 4);
    let dst = Ipv4Addr::new(198, 18, 0, 9);
    let syn = Packet {
        ts_ns: 10,
        src,
        dst,
        dst_port: 23,
        tcp_flags: tcp_flags::SYN,
        tcp_seq: u32::from(dst),
        ttl: 50,
        ip_len: 40,
        tcp_window: 1000,
        tcp_options: TcpOptions {
            mss: Some(1460),
            tsval: Some(5),
            ..Default::default()
        },
        ..Packet::default()
    };
    let udp = Packet {
        ts_ns: 20,
        proto: Protocol::Udp,
        dst_port: 53,
        ttl: 60,
        ip_len: 60,
        tcp_flags: 0,
        tcp_seq: 0,
        tcp_window: 0,
        tcp_options: TcpOptions::default(),
        ..syn
    };
    let t = Trace::from_packets(vec![
        syn,
        Packet {
            ts_ns: 30,
            dst_port: 22,
            ..syn
        },
        udp,
    ]);
    let table = HostStatsTable::from_trace(&t);
    let h = table.get(src).unwrap();
    assert_eq!(
        (h.packets, h.tcp, h.udp, h.syn, h.mirai, h.tsval_packets),
        (3, 2, 1, 2, 2, 2)
    );
    assert_eq!(h.tcp_ports, vec![22, 23]);
    assert_eq!(h.udp_ports, vec![53]);
    assert_eq!(h.dsts.len(), 1);
    assert_eq!((h.first_seen_ns, h.last_seen_ns), (10, 30));
    assert_relative_eq!(h.ttl.mean(), 160.0 / 3.0);
    assert_eq!(h.mss.stats(), [2920.0, 1460.0, 1460.0, 1460.0, 0.0]);
    let f = h.features();
    assert_eq!(f.len(), HOST_FEATURE_COUNT);
    assert_relative_eq!(f[5], 2.0 / 3.0);
    assert!(table.get(Ipv4Addr::LOCALHOST).is_none());
    assert_eq!(table.feature_matrix().len(), HOST_FEATURE_COUNT);
}

#[test]
fn feature_names_pinned() {
    assert_eq!(HOST_FEATURE_NAMES[0], "log_packets");
    assert_eq!(HOST_FEATURE_NAMES[12], "log_active_secs");
    assert_eq!(
        HOST_FEATURE_NAMES[HOST_FEATURE_COUNT - 1],
        "log_tcp_port_span"
    );
    assert_eq!(HOST_FEATURE_COUNT, 33);
}

fn packet_strategy() -> impl Strategy<Value = Packet> {
    (
        0u64..4 * NANOS_PER_DAY,
        0u8..6,
        0u8..8,
        0u16..30,
        0u8..3,
        any::<u8>(),
        any::<u16>(),
        any::<u32>(),
    )
        .prop_map(|(ts, s, d, port, pr, ttl, len, tsval)| Packet {
            ts_ns: ts,
            src: Ipv4Addr::new(8, 0, 0, s),
            dst: Ipv4Addr::new(198, 18, 0, d),
            proto: [Protocol::Tcp, Protocol::Udp, Protocol::Icmp][pr as usize],
            dst_port: port,
            ttl,
            ip_len: len,
            tcp_window: len / 3,
            tcp_options: TcpOptions {
                tsval: (tsval % 3 != 0).then_some(tsval),
                mss: Some(len % 1500),
                ..Default::default()
            },
            ..Packet::default()
        })
}

fn assert_tables_equal(a: &HostStatsTable, b: &HostStatsTable) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.hosts().iter().zip(b.hosts()) {
        assert_eq!(x.addr, y.addr);
        assert_eq!(
            (
                x.packets,
                x.tcp,
                x.udp,
                x.icmp,
                x.syn,
                x.mirai,
                x.tsval_packets
            ),
            (
                y.packets,
                y.tcp,
                y.udp,
                y.icmp,
                y.syn,
                y.mirai,
                y.tsval_packets
            )
        );
        assert_eq!(
            (x.first_seen_ns, x.last_seen_ns),
            (y.first_seen_ns, y.last_seen_ns)
        );
        assert_eq!(
            (&x.dsts, &x.tcp_ports, &x.udp_ports),
            (&y.dsts, &y.tcp_ports, &y.udp_ports)
        );
        for (m, n) in [
            (x.ip_len, y.ip_len),
            (x.ttl, y.ttl),
            (x.mss, y.mss),
            (x.window, y.window),
            (x.tsval, y.tsval),
        ] {
            assert_eq!(m.count(), n.count());
            assert_eq!((m.sum(), m.min(), m.max()), (n.sum(), n.min(), n.max()));
            assert_relative_eq!(m.mean(), n.mean(), max_relative = 1e-9, epsilon = 1e-6);
            assert_relative_eq!(m.std(), n.std(), max_relative = 1e-7, epsilon = 1e-4);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn merge_of_shards_equals_whole(ps in proptest::collection::vec(packet_strategy(), 0..200), n in 1usize..5) {
        let t = Trace::from_packets(ps);
        let whole = HostStatsTable::from_trace(&t);
        assert_tables_equal(&whole, &HostStatsTable::from_trace_sharded(&t, Sharding::ByDay));
        assert_tables_equal(&whole, &HostStatsTable::from_trace_sharded(&t, Sharding::BySourceHash(n)));
        // Any split point, merged in either order.
        let k = t.len() / 2;
        let (a, b) = (HostStatsTable::from_trace(&t.slice(0..k)), HostStatsTable::from_trace(&t.slice(k..t.len())));
        assert_tables_equal(&whole, &a.merge(&b));
        assert_tables_equal(&whole, &b.merge(&a));
    }
}
