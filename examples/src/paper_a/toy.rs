//! A small seeded darknet with AbuseIPDB-style reports, shaped after SPEC §5.3, used by the
//! pipeline's own tests and as the default input until a richer generator is available.
//!
//! A /20 telescope over `n_days` days; each labelled host draws a label set with Paper A's
//! Table I frequencies and sends bursts of packets, each burst following the behaviour of one
//! of its labels (ports, protocol, flags, retries per address). Ports are shared between
//! behaviours (22 is scanned and brute-forced, 80 scanned and attacked) so classes overlap.
//! Unlabelled background hosts mix behaviours; a few vertical scanners, periodic walkers and
//! one-packet hosts give the filters work. Reports: 2–4 per true label, but a label is
//! reported only once (so lost under the ≥ 2 rule) with probability `label_noise`; some reports
//! fall in categories outside the 7.

use super::labels::{Report, CATEGORY_IDS};
use darknet_core::{tcp_flags, Packet, Protocol, Trace, NANOS_PER_DAY};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeSet;
use std::net::Ipv4Addr;

/// Settings of [`toy_darknet`].
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ToyConfig {
    /// Labelled hosts (before label noise).
    pub n_labelled: usize,
    /// Unlabelled background hosts.
    pub n_background: usize,
    /// Days of traffic.
    pub n_days: u32,
    /// Mean packets per active host-day.
    pub mean_packets_per_day: f64,
    /// Probability that a true label is reported only once.
    pub label_noise: f64,
    /// Seed.
    pub seed: u64,
}

impl Default for ToyConfig {
    fn default() -> Self {
        Self {
            n_labelled: 1500,
            n_background: 1500,
            n_days: 7,
            mean_packets_per_day: 12.0,
            label_noise: 0.1,
            seed: 0,
        }
    }
}

impl ToyConfig {
    /// A tiny darknet for tests (a few hundred hosts, 3 days).
    pub fn tiny(seed: u64) -> Self {
        Self {
            n_labelled: 160,
            n_background: 60,
            n_days: 3,
            mean_packets_per_day: 8.0,
            label_noise: 0.05,
            seed,
        }
    }
}

/// Label frequencies of Table I, in [`CATEGORY_IDS`] order.
const FREQ: [f64; 7] = [0.8734, 0.5479, 0.2684, 0.0231, 0.0308, 0.1165, 0.1100];

struct Behaviour {
    ports: &'static [(Protocol, u16)],
    flags: u8,
    retries: (u32, u32),
    ports_per_burst: (usize, usize),
}

const T: Protocol = Protocol::Tcp;
const U: Protocol = Protocol::Udp;
const I: Protocol = Protocol::Icmp;

const BEHAVIOURS: [Behaviour; 7] = [
    // 14 Port Scan: horizontal SYN scans of a few common ports.
    Behaviour {
        ports: &[
            (T, 23),
            (T, 80),
            (T, 443),
            (T, 445),
            (T, 8080),
            (T, 22),
            (T, 3389),
            (T, 6379),
            (T, 9200),
            (T, 27017),
            (T, 81),
            (T, 8443),
            (T, 7547),
            (T, 5900),
        ],
        flags: tcp_flags::SYN,
        retries: (1, 1),
        ports_per_burst: (1, 3),
    },
    // 15 Hacking: service probes, TCP and UDP.
    Behaviour {
        ports: &[
            (T, 445),
            (T, 1433),
            (T, 3306),
            (T, 6379),
            (T, 9200),
            (U, 5060),
            (U, 161),
            (U, 1900),
            (U, 11211),
            (T, 8080),
        ],
        flags: tcp_flags::SYN,
        retries: (1, 2),
        ports_per_burst: (1, 3),
    },
    // 18 Brute-Force: login services, several tries per address.
    Behaviour {
        ports: &[
            (T, 22),
            (T, 23),
            (T, 21),
            (T, 25),
            (T, 3389),
            (T, 5900),
            (T, 1433),
            (T, 3306),
        ],
        flags: tcp_flags::SYN,
        retries: (2, 4),
        ports_per_burst: (1, 2),
    },
    // 19 Bad Web Bot: low-rate web, with ACK probes.
    Behaviour {
        ports: &[(T, 80), (T, 443)],
        flags: tcp_flags::SYN | tcp_flags::ACK,
        retries: (1, 1),
        ports_per_burst: (1, 1),
    },
    // 20 Exploited Host: IoT bot ports, UDP and ICMP echo.
    Behaviour {
        ports: &[
            (T, 23),
            (T, 2323),
            (T, 5555),
            (T, 37215),
            (T, 52869),
            (U, 5060),
            (U, 1900),
            (I, 0),
        ],
        flags: tcp_flags::SYN,
        retries: (1, 2),
        ports_per_burst: (2, 4),
    },
    // 21 Web App Attack: web ports.
    Behaviour {
        ports: &[
            (T, 80),
            (T, 443),
            (T, 8080),
            (T, 8443),
            (T, 8000),
            (T, 8888),
        ],
        flags: tcp_flags::SYN,
        retries: (1, 2),
        ports_per_burst: (2, 3),
    },
    // 22 SSH: 22 and 2222, repeated.
    Behaviour {
        ports: &[(T, 22), (T, 2222)],
        flags: tcp_flags::SYN,
        retries: (2, 5),
        ports_per_burst: (1, 2),
    },
];

fn random_source(rng: &mut ChaCha8Rng, used: &mut BTreeSet<u32>) -> Ipv4Addr {
    loop {
        let a: u32 = rng.random();
        let first = a >> 24;
        if (1..224).contains(&first) && first != 10 && first != 127 && used.insert(a) {
            return Ipv4Addr::from(a);
        }
    }
}

fn draw_labels(rng: &mut ChaCha8Rng) -> [bool; 7] {
    loop {
        let mut s = [false; 7];
        for l in 0..7 {
            s[l] = rng.random_bool(FREQ[l]);
        }
        // SSH reporters almost always tag Brute-Force too.
        if s[6] && rng.random_bool(0.9) {
            s[2] = true;
        }
        if s.iter().any(|&b| b) {
            return s;
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn emit_host(
    rng: &mut ChaCha8Rng,
    src: Ipv4Addr,
    behaviours: &[usize],
    cfg: &ToyConfig,
    day0: u64,
    base: u32,
    out: &mut Vec<Packet>,
) {
    let n_active = rng.random_range(1..=cfg.n_days);
    let ttl = [64u8, 128, 255][rng.random_range(0..3)] - rng.random_range(5..20);
    let fixed_sport = rng
        .random_bool(0.3)
        .then(|| rng.random_range(1024..65535u16));
    let start_day = rng.random_range(0..=(cfg.n_days - n_active));
    for d in start_day..start_day + n_active {
        let budget = (cfg.mean_packets_per_day * rng.random_range(0.3..1.7)).round() as usize;
        let mut ts = day0 + u64::from(d) * NANOS_PER_DAY + rng.random_range(0..NANOS_PER_DAY / 2);
        let mut sent = 0;
        while sent < budget.max(2) {
            let b = &BEHAVIOURS[behaviours[rng.random_range(0..behaviours.len())]];
            let n_ports = rng.random_range(b.ports_per_burst.0..=b.ports_per_burst.1);
            let first = rng.random_range(0..b.ports.len());
            let dst = Ipv4Addr::from(base + rng.random_range(0..4096u32));
            for j in 0..n_ports {
                let (proto, port) = b.ports[(first + j) % b.ports.len()];
                for _ in 0..rng.random_range(b.retries.0..=b.retries.1) {
                    ts += rng.random_range(1_000_000..2_000_000_000u64);
                    let mut p = Packet {
                        ts_ns: ts,
                        src,
                        dst,
                        proto,
                        ttl,
                        ip_len: if proto == T { 40 } else { 60 },
                        ip_id: rng.random(),
                        ..Packet::default()
                    };
                    match proto {
                        Protocol::Icmp => {
                            p.icmp_type = 8;
                        }
                        _ => {
                            p.dst_port = port;
                            p.src_port =
                                fixed_sport.unwrap_or_else(|| rng.random_range(1024..65535));
                            if proto == T {
                                p.tcp_flags =
                                    if b.flags & tcp_flags::ACK != 0 && rng.random_bool(0.5) {
                                        tcp_flags::ACK
                                    } else {
                                        tcp_flags::SYN
                                    };
                                p.tcp_window = 1024;
                                p.tcp_seq = rng.random();
                            }
                        }
                    }
                    out.push(p);
                    sent += 1;
                }
            }
        }
    }
}

/// Generates the darknet: the trace (sorted) and the reports of its labelled hosts.
pub fn toy_darknet(cfg: &ToyConfig) -> (Trace, Vec<Report>) {
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let day0 =
        u64::from(darknet_core::parse_day_label("20210301").unwrap_or(18687)) * NANOS_PER_DAY;
    let base = u32::from(Ipv4Addr::new(198, 18, 0, 0)); // a /20 darknet
    let mut used = BTreeSet::new();
    let mut packets = Vec::new();
    let mut reports = Vec::new();
    let cfg = ToyConfig {
        n_days: cfg.n_days.max(1),
        ..cfg.clone()
    };
    for _ in 0..cfg.n_labelled {
        let src = random_source(&mut rng, &mut used);
        let labels = draw_labels(&mut rng);
        let behaviours: Vec<usize> = (0..7).filter(|&l| labels[l]).collect();
        emit_host(&mut rng, src, &behaviours, &cfg, day0, base, &mut packets);
        for &l in &behaviours {
            let n = if rng.random_bool(cfg.label_noise) {
                1
            } else {
                rng.random_range(2..=4)
            };
            for _ in 0..n {
                reports.push(Report {
                    ip: src,
                    category: CATEGORY_IDS[l],
                });
            }
        }
        if rng.random_bool(0.1) {
            reports.push(Report {
                ip: src,
                category: [4u8, 23, 10][rng.random_range(0..3)],
            });
        }
    }
    for _ in 0..cfg.n_background {
        let src = random_source(&mut rng, &mut used);
        let k = rng.random_range(1..=2);
        let behaviours: Vec<usize> = (0..k).map(|_| rng.random_range(0..7)).collect();
        emit_host(&mut rng, src, &behaviours, &cfg, day0, base, &mut packets);
    }
    // Work for the filters: one-packet hosts, vertical scanners, periodic walkers.
    let extra = (cfg.n_labelled + cfg.n_background) / 50 + 1;
    for h in 0..3 * extra {
        let src = random_source(&mut rng, &mut used);
        let ts = day0 + rng.random_range(0..u64::from(cfg.n_days) * NANOS_PER_DAY);
        let mk = |i: u64, port: u16| Packet {
            ts_ns: ts + i * 1_000_000,
            src,
            dst: Ipv4Addr::from(base + (i as u32 % 4096)),
            dst_port: port,
            tcp_flags: tcp_flags::SYN,
            ttl: 50,
            ip_len: 40,
            ..Packet::default()
        };
        match h % 3 {
            0 => packets.push(mk(0, 23)),
            1 => packets.extend((0..40u16).map(|i| mk(u64::from(i), 1000 + 37 * i))),
            _ => packets
                .extend((0..12u16).map(|i| mk(u64::from(i), if i % 2 == 0 { 80 } else { 443 }))),
        }
    }
    reports.sort();
    (Trace::from_packets(packets), reports)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_darknet() {
        let (a, ra) = toy_darknet(&ToyConfig::tiny(3));
        let (b, rb) = toy_darknet(&ToyConfig::tiny(3));
        assert_eq!(a, b);
        assert_eq!(ra, rb);
        assert!(a.len() > 1000);
        let (c, _) = toy_darknet(&ToyConfig::tiny(4));
        assert_ne!(a, c);
    }
}
