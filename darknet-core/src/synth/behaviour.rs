//! Host behaviours: which probes a host sends on a day and in which ORDER.
//!
//! A host is a small set of [`Component`]s (a protocol/flags kind, a port list, an order rule,
//! a retry count and an address rule). Each day it is active, the host emits a burst of
//! packets: it picks a component by weight, emits a run of packets from it, picks again, and so
//! on. Components keep their position (chain index, sweep address) across runs, so a "chain"
//! component walks its ports in the same fixed order all month.

use super::fingerprint::{HeaderState, Tool};
use crate::packet::{tcp_flags, Packet, Protocol, NANOS_PER_DAY};
use rand::Rng;
use std::net::Ipv4Addr;

/// What kind of packet a component sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// TCP SYN probes.
    TcpSyn,
    /// UDP probes with a payload length per port.
    Udp,
    /// ICMP echo requests.
    IcmpEcho,
    /// Backscatter: SYN-ACK / RST-ACK replies from a victim's service port to random ports,
    /// plus ICMP errors.
    Backscatter,
}

/// In which order a component visits its ports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Order {
    /// A uniformly random port each probe.
    Random,
    /// The port list in a fixed order, cyclically.
    Chain,
    /// Two ports alternating, each visited `retries` times in a row.
    Alternate,
    /// Ports visited in increasing order (a vertical sweep), cyclically.
    Ascending,
    /// Forward along the port list, then back (a path graph, not a cycle), with a rare skip.
    Zigzag,
    /// Ports in pairs (0, 1), (2, 3), ...: a pair alternates for [`PAIR_VISITS`] probes, then
    /// the next pair (a matching), with a rare skip.
    Pairs,
    /// Each port [`RUN_VISITS`] probes in a row at different addresses, then the next (a cycle
    /// with self-loops), with a rare skip.
    Runs,
}

/// Probes a pair of ports alternates for before the next pair ([`Order::Pairs`]).
const PAIR_VISITS: usize = 4;
/// Probes in a row at one port before the next ([`Order::Runs`]).
const RUN_VISITS: usize = 3;

/// How a component picks destination addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AddrOrder {
    /// Uniformly random darknet address per probe group.
    Random,
    /// Increasing addresses from a random start (wrapping).
    Sequential,
}

/// One behaviour of a host.
#[derive(Clone, Debug)]
pub(crate) struct Component {
    pub weight: f32,
    pub kind: Kind,
    pub ports: Vec<u16>,
    pub order: Order,
    /// Packets sent to the same (address, port) before moving on (1 = no retry).
    pub retries: u8,
    pub addr: AddrOrder,
    /// Mean run length (packets) before the host switches component.
    pub run: u8,
}

/// The full generative description of one synthetic host.
#[derive(Clone, Debug)]
pub(crate) struct HostSpec {
    pub addr: Ipv4Addr,
    pub tool: Tool,
    /// First and last active day (indices from the start day, inclusive).
    pub first_day: u32,
    pub last_day: u32,
    /// Probability of being active on a day inside its window.
    pub p_active: f32,
    /// Mean packets on an active day (before intensity scaling).
    pub rate: f32,
    /// Fraction of the day the host is active (burst length).
    pub spread: f32,
    /// Periodic timing: packets every `period` ns instead of random gaps.
    pub periodic: bool,
    pub components: Vec<Component>,
    /// Per-day probability of replacing one port of a component (churn).
    pub port_churn: f32,
    /// Sequential address sweeps carry on from day to day (Paper A: a sweep's addresses keep
    /// increasing over the month) instead of restarting at a random address each day (Paper
    /// B). The day's random start is drawn either way, so the other draws do not move.
    pub sweep_continues: bool,
    /// `paper-b-drift` research scanners: when > 0, every active day each TCP SYN component
    /// probes this many ports drawn afresh that day (see `drift::daily_ports`); 0 = the
    /// component's own ports (every other preset).
    pub daily_ports: u8,
}

/// Darknet addresses a continuing sweep advances per day (more than a Paper A host's
/// sequential probes on a day at intensity 1, so its addresses keep increasing).
const SWEEP_STRIDE_PER_DAY: u64 = 64;

/// Per (host, day) mutable state during emission.
struct CompState {
    pos: usize,
    addr: u32,
    retry_left: u8,
    cur_port: u16,
    cur_addr: u32,
}

/// UDP payload length by destination port (IP total length = 28 + payload).
fn udp_len(port: u16) -> u16 {
    28 + match port {
        53 => 17,
        123 => 48,
        161 => 40,
        1900 => 94,
        5060 => 420,
        137 => 50,
        11211 => 15,
        _ => 32,
    }
}

/// Emits the packets of `spec` on day `day_index` into `out` (not sorted across hosts, sorted
/// within the host). `day_index` counts days from the start day, `n_addrs` = darknet size,
/// `base` = first darknet address.
#[allow(clippy::too_many_arguments)]
pub(crate) fn emit_day<R: Rng>(
    spec: &HostSpec,
    comps: &[Component],
    day_index: u32,
    day_start_ns: u64,
    base: u32,
    n_addrs: u32,
    intensity: f64,
    rng: &mut R,
    out: &mut Vec<Packet>,
) {
    if comps.is_empty() {
        return;
    }
    // Packet count: rate × intensity × a log-normal-ish day factor, at least 1.
    let f: f64 = 0.5 + rng.random::<f64>();
    let mean = (spec.rate as f64 * intensity * f).max(0.0);
    let whole = mean.floor();
    let n = (whole as u64 + u64::from(rng.random::<f64>() < mean - whole)).max(1) as usize;
    let mut hs = HeaderState::new(spec.tool, rng);
    // Host-stable header bits come from the host's own seed, re-derived each day from its address.
    {
        let a = u32::from(spec.addr);
        hs.hops = 6 + (a.wrapping_mul(2_654_435_761) >> 27) as u8 % 19;
        hs.fixed_src_port = 1024 + (a.wrapping_mul(40_503) % 64_511) as u16;
        hs.ts_offset = a.wrapping_mul(747_796_405);
    }
    let spread_ns = ((spec.spread as f64).clamp(0.01, 1.0) * NANOS_PER_DAY as f64) as u64;
    let start = day_start_ns + rng.random_range(0..=(NANOS_PER_DAY - spread_ns));
    let gap = (spread_ns / n as u64).max(1);
    let mut states: Vec<CompState> = comps
        .iter()
        .map(|c| CompState {
            pos: rng.random_range(0..c.ports.len().max(1)),
            addr: rng.random_range(0..n_addrs),
            retry_left: 0,
            cur_port: 0,
            cur_addr: 0,
        })
        .collect();
    if spec.sweep_continues {
        // Start of the day's sweep from the host and the day, not from the day's draw: a
        // fixed host offset in the first quarter of the darknet, then a stride per day.
        let host = u64::from(u32::from(spec.addr).wrapping_mul(2_246_822_519));
        let day = u64::from(day_index);
        let n = u64::from(n_addrs);
        for (k, st) in states.iter_mut().enumerate() {
            let start = host % (n / 4).max(1) + day * SWEEP_STRIDE_PER_DAY + 7 * k as u64;
            st.addr = (start % n) as u32;
        }
    }
    let total_w: f32 = comps.iter().map(|c| c.weight).sum();
    let mut ci = 0usize;
    let mut run_left = 0u32;
    let mut ts = start;
    out.reserve(n);
    for _ in 0..n {
        if run_left == 0 {
            let mut u = rng.random::<f32>() * total_w;
            ci = comps.len() - 1;
            for (k, c) in comps.iter().enumerate() {
                if u < c.weight {
                    ci = k;
                    break;
                }
                u -= c.weight;
            }
            let r = comps[ci].run.max(1) as u32;
            run_left = rng.random_range(1..=2 * r);
        }
        run_left -= 1;
        let c = &comps[ci];
        let st = &mut states[ci];
        let raw: u64 = rng.random();
        if st.retry_left == 0 {
            // Next (port, address).
            let np = c.ports.len();
            st.cur_port = match c.order {
                Order::Random => c.ports[(raw >> 40) as usize % np],
                Order::Ascending => {
                    let p = c.ports[st.pos % np];
                    st.pos = (st.pos + 1) % np;
                    p
                }
                Order::Chain => {
                    // A fixed cycle with a rare skip (1 in 32), so the walk is not strictly
                    // periodic (the filter of docs/choices.md#a3 would remove a pure cycle) yet its
                    // transitions stay on the chain's edges.
                    let p = c.ports[st.pos % np];
                    st.pos = (st.pos + 1 + usize::from((raw >> 59) == 0)) % np;
                    p
                }
                Order::Zigzag => {
                    let period = if np > 1 { 2 * (np - 1) } else { 1 };
                    let k = st.pos % period;
                    st.pos = (st.pos + 1 + usize::from((raw >> 59) == 0)) % period;
                    c.ports[if k < np { k } else { period - k }]
                }
                Order::Pairs => {
                    let n_pairs = np.div_ceil(2);
                    let pair = (st.pos / PAIR_VISITS) % n_pairs;
                    let i = (2 * pair + st.pos % 2).min(np - 1);
                    st.pos = (st.pos + 1 + usize::from((raw >> 59) == 0)) % (n_pairs * PAIR_VISITS);
                    c.ports[i]
                }
                Order::Runs => {
                    let i = (st.pos / RUN_VISITS) % np;
                    st.pos = (st.pos + 1 + usize::from((raw >> 59) == 0)) % (np * RUN_VISITS);
                    c.ports[i]
                }
                Order::Alternate => {
                    // Hub pattern: ports[0], then a random other port, then ports[0], ...
                    st.pos += 1;
                    if st.pos % 2 == 1 || np == 1 {
                        c.ports[0]
                    } else {
                        c.ports[1 + (raw >> 40) as usize % (np - 1)]
                    }
                }
            };
            st.cur_addr = match c.addr {
                AddrOrder::Random => (raw >> 8) as u32 % n_addrs,
                AddrOrder::Sequential => {
                    st.addr = (st.addr + 1) % n_addrs;
                    st.addr
                }
            };
            st.retry_left = c.retries.max(1);
        }
        st.retry_left -= 1;
        let dst = Ipv4Addr::from(base.wrapping_add(st.cur_addr));
        let mut p = Packet {
            ts_ns: ts,
            src: spec.addr,
            dst,
            ..Packet::default()
        };
        match c.kind {
            Kind::TcpSyn => {
                p.proto = Protocol::Tcp;
                p.dst_port = st.cur_port;
                p.tcp_flags = tcp_flags::SYN;
                hs.fill_tcp(&mut p, raw);
            }
            Kind::Udp => {
                p.proto = Protocol::Udp;
                p.dst_port = st.cur_port;
                p.ip_len = udp_len(st.cur_port);
                hs.fill_ip(&mut p, raw);
            }
            Kind::IcmpEcho => {
                p.proto = Protocol::Icmp;
                p.icmp_type = 8;
                p.ip_len = 28 + 56;
                hs.fill_ip(&mut p, raw);
            }
            Kind::Backscatter => {
                // The victim answers spoofed SYNs from its service port to random client ports.
                let sel = (raw >> 56) as u8;
                if sel < 16 {
                    p.proto = Protocol::Icmp;
                    p.icmp_type = 3;
                    p.icmp_code = [1u8, 3, 10, 13][(sel & 3) as usize];
                    p.ip_len = 56;
                    hs.fill_ip(&mut p, raw);
                } else {
                    p.proto = Protocol::Tcp;
                    p.src_port = st.cur_port;
                    p.dst_port = 1024 + ((raw >> 20) as u16 % 64511);
                    p.tcp_flags = if sel < 160 {
                        tcp_flags::SYN | tcp_flags::ACK
                    } else {
                        tcp_flags::RST | tcp_flags::ACK
                    };
                    p.ttl = 64u8.saturating_sub(hs.hops);
                    p.ip_id = raw as u16;
                    p.tcp_window = if p.tcp_flags & tcp_flags::RST != 0 {
                        0
                    } else {
                        65160
                    };
                    p.tcp_seq = (raw >> 32) as u32;
                    if p.tcp_seq == u32::from(p.dst) {
                        p.tcp_seq ^= 1; // never Mirai's fingerprint outside the Mirai class
                    }
                    p.tcp_ack = raw as u32;
                    p.ip_len = 40;
                }
            }
        }
        out.push(p);
        ts += if spec.periodic {
            gap
        } else {
            // A uniform gap in [0, 2·gap) (mean gap): cheap, no logarithm.
            1 + ((gap * ((raw >> 12) & 0xFFFF)) >> 15)
        };
        if ts >= day_start_ns + NANOS_PER_DAY {
            // The day is over for this host: a host's timestamps stay strictly increasing.
            break;
        }
    }
}
