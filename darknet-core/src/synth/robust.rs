//! The robustness presets: multi-label populations that break the assumptions of the Paper A
//! preset, so a model is judged on traffic it was not tuned to.
//!
//! Every preset labels hosts with Paper A's 7 categories through AbuseIPDB-style reports
//! (label noise drops or adds reports), and gives unlabelled hosts two faces: unreported
//! look-alikes (a labelled behaviour, drawn exactly as for labelled hosts, with no report) and
//! background the filters remove or that carries no label (isolated packets, vertical scans,
//! strictly periodic walks, backscatter).
//!
//! - [`Contrast::Order`] (`order-only`): what separates the labels is ONLY the order of a
//!   host's probes. Every labelled behaviour draws its rate, tool, retry count, number of
//!   distinct ports, port identities (one shared pool), protocol mix and address order from
//!   the same distributions; label `k` differs by its visiting rule (random, fixed cycle, hub,
//!   back-and-forth path, pairs, runs, ascending cycle). A model on per-host aggregates should
//!   do no better than the label frequencies; a transition graph can.
//! - [`Contrast::Aggregate`] (`aggregate-only`): ONLY aggregates separate the labels: number
//!   of distinct ports, rate, retries (packets per address), UDP and ICMP shares. Every label
//!   visits its ports in random order from the shared pool, so the transition structure
//!   carries nothing beyond the counts. A per-host statistics model should win here.
//! - [`Contrast::Both`] (`order-and-aggregate`): each label has its own order AND an
//!   aggregate profile halfway between the shared one and its aggregate-only profile, so
//!   neither view alone is as good as both: the case of real labels.

use super::behaviour::{AddrOrder, HostSpec, Order};
use super::fingerprint::Tool;
use super::population::{
    background_a, icmp, paper_a_host, pick, syn, udp, window, POPULAR_TCP, POPULAR_UDP,
};
use rand::seq::SliceRandom;
use rand::Rng;
use std::net::Ipv4Addr;

/// Which assumption a robustness preset breaks (see the module doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Contrast {
    /// Labels differ only by probe order.
    Order,
    /// Labels differ only by aggregates.
    Aggregate,
    /// Labels differ by both, each weaker.
    Both,
}

/// Visiting rule of label `k` (Paper A category order) where order carries the label.
pub(crate) const ORDERS: [Order; 7] = [
    Order::Random,
    Order::Chain,
    Order::Alternate,
    Order::Zigzag,
    Order::Pairs,
    Order::Runs,
    Order::Ascending,
];

/// Ranges an aggregate profile draws from (uniform, inclusive).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Profile {
    /// Distinct TCP ports.
    pub ports: (usize, usize),
    /// Mean packets per active day.
    pub rate: (f32, f32),
    /// Probes per (address, port).
    pub retries: (u8, u8),
    /// Probability of a UDP component.
    pub udp: f32,
    /// Probability of an ICMP echo component.
    pub icmp: f32,
}

/// The profile every label shares where aggregates carry no label.
///
/// Its rate is high enough that every visiting rule reaches all of a host's ports within a
/// few days, so the number of distinct ports seen does not depend on the rule either.
pub(crate) const SHARED: Profile = Profile {
    ports: (6, 10),
    rate: (40.0, 70.0),
    retries: (1, 2),
    udp: 0.3,
    icmp: 0.1,
};

/// Per-label profiles where aggregates carry the label (Paper A category order).
pub(crate) const PROFILES: [Profile; 7] = [
    // Port Scan: many ports, single probes.
    Profile {
        ports: (16, 24),
        rate: (30.0, 50.0),
        retries: (1, 1),
        udp: 0.1,
        icmp: 0.05,
    },
    // Hacking: few ports, UDP-heavy.
    Profile {
        ports: (3, 5),
        rate: (10.0, 18.0),
        retries: (1, 2),
        udp: 0.8,
        icmp: 0.05,
    },
    // Brute-Force: very few ports, many retries, high rate.
    Profile {
        ports: (2, 3),
        rate: (50.0, 80.0),
        retries: (4, 5),
        udp: 0.05,
        icmp: 0.0,
    },
    // Bad Web Bot: slow, ICMP-heavy.
    Profile {
        ports: (6, 9),
        rate: (5.0, 9.0),
        retries: (1, 2),
        udp: 0.1,
        icmp: 0.8,
    },
    // Exploited Host: mid ports, mid rate, UDP and ICMP.
    Profile {
        ports: (4, 6),
        rate: (18.0, 26.0),
        retries: (2, 3),
        udp: 0.5,
        icmp: 0.5,
    },
    // Web App Attack: many ports, fast, two probes each.
    Profile {
        ports: (11, 15),
        rate: (80.0, 120.0),
        retries: (2, 2),
        udp: 0.0,
        icmp: 0.0,
    },
    // SSH: one or two ports, many retries.
    Profile {
        ports: (1, 2),
        rate: (20.0, 35.0),
        retries: (6, 8),
        udp: 0.2,
        icmp: 0.2,
    },
];

/// The profile halfway between [`SHARED`] and `p` (ranges and probabilities averaged).
pub(crate) fn halfway(p: &Profile) -> Profile {
    let mid = |a: usize, b: usize| (a + b).div_ceil(2);
    let midf = |a: f32, b: f32| (a + b) / 2.0;
    let midu = |a: u8, b: u8| (a + b).div_ceil(2);
    Profile {
        ports: (
            mid(SHARED.ports.0, p.ports.0),
            mid(SHARED.ports.1, p.ports.1),
        ),
        rate: (midf(SHARED.rate.0, p.rate.0), midf(SHARED.rate.1, p.rate.1)),
        retries: (
            midu(SHARED.retries.0, p.retries.0),
            midu(SHARED.retries.1, p.retries.1),
        ),
        udp: midf(SHARED.udp, p.udp),
        icmp: midf(SHARED.icmp, p.icmp),
    }
}

/// The profile label `k` draws from under `contrast`.
pub(crate) fn profile(contrast: Contrast, k: usize) -> Profile {
    match contrast {
        Contrast::Order => SHARED,
        Contrast::Aggregate => PROFILES[k],
        Contrast::Both => halfway(&PROFILES[k]),
    }
}

/// The visiting rule of label `k` under `contrast`.
pub(crate) fn order(contrast: Contrast, k: usize) -> Order {
    match contrast {
        Contrast::Aggregate => Order::Random,
        Contrast::Order | Contrast::Both => ORDERS[k],
    }
}

/// Label sets of the robustness presets with their weights, as bit masks over Paper A's
/// categories: every label alone about equally often (so each has support), plus a few pairs
/// and triples (mean ≈ 1.4 labels).
pub(crate) const ROBUST_LABEL_SETS: [(u8, f32); 12] = [
    (0b000_0001, 0.09),
    (0b000_0010, 0.09),
    (0b000_0100, 0.09),
    (0b000_1000, 0.09),
    (0b001_0000, 0.09),
    (0b010_0000, 0.09),
    (0b100_0000, 0.09),
    (0b000_0011, 0.08),
    (0b100_0100, 0.08),
    (0b010_1000, 0.07),
    (0b001_0010, 0.07),
    (0b100_0111, 0.07),
];

/// Label sets of the shifted-mix preset: the default's rare labels common and its common
/// labels rare (Port Scan ≈ 20 %, Brute-Force ≈ 45 %, SSH ≈ 35 %, Web App Attack ≈ 30 %).
pub(crate) const SHIFTED_LABEL_SETS: [(u8, f32); 9] = [
    (0b000_0100, 0.15), // {18}
    (0b100_0000, 0.10), // {22}
    (0b100_0100, 0.15), // {18,22}
    (0b010_0000, 0.10), // {21}
    (0b010_1000, 0.10), // {19,21}
    (0b001_0000, 0.10), // {20}
    (0b000_0001, 0.10), // {14}
    (0b001_0010, 0.10), // {15,20}
    (0b010_0101, 0.10), // {14,18,21}
];

/// Draws a label set from `sets` (weights need not sum to 1).
pub(crate) fn draw_set<R: Rng>(rng: &mut R, sets: &[(u8, f32)]) -> u8 {
    let total: f32 = sets.iter().map(|s| s.1).sum();
    let mut u = rng.random::<f32>() * total;
    for &(m, p) in sets {
        if u < p {
            return m;
        }
        u -= p;
    }
    sets[0].0
}

/// Share of unlabelled hosts that behave like a labelled host but were never reported.
pub(crate) const LOOKALIKE_SHARE: f32 = 0.5;

/// Class names of multi-label hosts in the `ip,class` ground truth: the host's first label
/// (Paper A category order) in snake case, `unlabelled` without a label.
const CLASS_NAMES: [&str; 7] = [
    "port_scan",
    "hacking",
    "brute_force",
    "bad_web_bot",
    "exploited_host",
    "web_app_attack",
    "ssh",
];

/// The ground-truth class of a host with recovered labels `labels` (see [`CLASS_NAMES`]).
pub(crate) fn class_name(labels: u8) -> &'static str {
    if labels == 0 {
        "unlabelled"
    } else {
        CLASS_NAMES[labels.trailing_zeros() as usize]
    }
}

/// The host-level draws every robustness host starts from: tool (never Mirai's fingerprint),
/// burst spread, activity window (shorter with probability `churn`).
fn base_host<R: Rng>(rng: &mut R, addr: Ipv4Addr, days: u32, churn: f32) -> HostSpec {
    let tools = [
        Tool::Masscan,
        Tool::Zmap,
        Tool::Nmap,
        Tool::Linux,
        Tool::Windows,
        Tool::Linux,
    ];
    let mut spec = HostSpec {
        addr,
        tool: tools[rng.random_range(0..tools.len())],
        first_day: 0,
        last_day: days - 1,
        p_active: 0.6,
        rate: 0.0,
        spread: rng.random_range(0.05..1.0),
        periodic: false,
        components: Vec::new(),
        port_churn: 0.0,
        sweep_continues: false,
        daily_ports: 0,
    };
    let len = if rng.random::<f32>() < churn {
        rng.random_range(2..=days.max(2))
    } else {
        days
    };
    (spec.first_day, spec.last_day) = window(rng, days, len);
    spec
}

/// An unlabelled background host: an isolated packet (40 %), a vertical scanner, a strictly
/// periodic walker or backscatter (20 % each), as the Paper A preset's background.
pub(crate) fn background_host<R: Rng>(
    rng: &mut R,
    addr: Ipv4Addr,
    days: u32,
    churn: f32,
) -> HostSpec {
    let mut spec = base_host(rng, addr, days, churn);
    spec.rate = rng.random_range(12.0..32.0);
    let kind = rng.random_range(0..5);
    background_a(rng, &mut spec, kind);
    spec
}

/// A shifted-mix host: Paper A's behaviour for `mask`, its rate scaled by a heavy-tailed
/// factor `0.2 / (u + 0.02)` (u uniform: from 0.2× to 10×, median ≈ 0.4×) and its packets in
/// shorter bursts (1 % to 30 % of the day).
pub(crate) fn shifted_host<R: Rng>(
    rng: &mut R,
    mask: u8,
    addr: Ipv4Addr,
    days: u32,
    churn: f32,
) -> HostSpec {
    let mut spec = paper_a_host(rng, mask, addr, days, churn);
    let u: f32 = rng.random();
    spec.rate *= 0.2 / (u + 0.02);
    spec.spread = rng.random_range(0.01..0.3);
    spec
}

fn uniform_usize<R: Rng>(rng: &mut R, (a, b): (usize, usize)) -> usize {
    rng.random_range(a..=b)
}

/// Builds a host whose behaviour carries the labels of `mask` (non-zero) under `contrast`.
///
/// Host-level draws come first and do not depend on the labels: tool (never Mirai's
/// fingerprint), activity window, active-day probability, burst spread, and a shuffle of the
/// shared port pool.
///
/// - Order contrast: rate, retries, the number of distinct TCP ports and the UDP and ICMP
///   components are drawn ONCE per host from [`SHARED`], whatever its labels; the ports are
///   dealt round-robin to its labels, each label visiting its share by its own rule. So a
///   host's aggregates have the same distribution whichever labels it carries, and however
///   many.
/// - Aggregate and both: per label `k` of the mask (in category order), its profile's rate,
///   retries and port count, ports from the shared pool (distinct across the host's labels
///   while the pool lasts), its UDP and ICMP components with the profile's probabilities; the
///   host's rate is the mean of its labels' rates, so multi-label hosts are not busier.
pub(crate) fn robust_host<R: Rng>(
    rng: &mut R,
    contrast: Contrast,
    mask: u8,
    addr: Ipv4Addr,
    days: u32,
    churn: f32,
) -> HostSpec {
    let mut spec = base_host(rng, addr, days, churn);
    let mut pool: Vec<u16> = POPULAR_TCP.to_vec();
    pool.shuffle(rng);
    let labels: Vec<usize> = (0..7).filter(|k| mask >> k & 1 == 1).collect();
    if contrast == Contrast::Order {
        let p = SHARED;
        spec.rate = rng.random_range(p.rate.0..=p.rate.1);
        let retries = rng.random_range(p.retries.0..=p.retries.1);
        let budget = uniform_usize(rng, p.ports);
        let mut shares: Vec<Vec<u16>> = vec![Vec::new(); labels.len()];
        for (i, &port) in pool.iter().take(budget).enumerate() {
            shares[i % labels.len().max(1)].push(port);
        }
        for (&k, ports) in labels.iter().zip(shares) {
            if !ports.is_empty() {
                spec.components
                    .push(syn(1.0, ports, ORDERS[k], retries, AddrOrder::Random, 6));
            }
        }
        let w = labels.len() as f32;
        if rng.random::<f32>() < p.udp {
            let kk = rng.random_range(2..=3);
            spec.components
                .push(udp(0.3 * w, pick(rng, &POPULAR_UDP, kk), Order::Random));
        }
        if rng.random::<f32>() < p.icmp {
            spec.components.push(icmp(0.3 * w));
        }
        return spec;
    }
    let mut rate_sum = 0.0f32;
    for &k in &labels {
        let p = profile(contrast, k);
        let rate = rng.random_range(p.rate.0..=p.rate.1);
        let retries = rng.random_range(p.retries.0..=p.retries.1);
        let n = uniform_usize(rng, p.ports);
        // Distinct ports while the shared pool lasts, then reuse from the start.
        let take = n.min(pool.len());
        let mut ports: Vec<u16> = pool.drain(..take).collect();
        while ports.len() < n {
            ports.push(POPULAR_TCP[rng.random_range(0..POPULAR_TCP.len())]);
        }
        // Weight ∝ rate so each behaviour sends its share of the host's packets.
        spec.components.push(syn(
            rate,
            ports,
            order(contrast, k),
            retries,
            AddrOrder::Random,
            6,
        ));
        if rng.random::<f32>() < p.udp {
            let kk = rng.random_range(2..=3);
            spec.components
                .push(udp(0.3 * rate, pick(rng, &POPULAR_UDP, kk), Order::Random));
        }
        if rng.random::<f32>() < p.icmp {
            spec.components.push(icmp(0.3 * rate));
        }
        rate_sum += rate;
    }
    spec.rate = rate_sum / labels.len().max(1) as f32;
    spec
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn order_contrast_draws_aggregates_independently_of_labels() {
        // Two hosts from the same seed with different label sets draw the same rate, tool,
        // activity and the same ports (only dealt out differently).
        let addr = Ipv4Addr::new(203, 0, 113, 9);
        for seed in 0..20 {
            let a = robust_host(
                &mut ChaCha8Rng::seed_from_u64(seed),
                Contrast::Order,
                0b1,
                addr,
                9,
                0.3,
            );
            let b = robust_host(
                &mut ChaCha8Rng::seed_from_u64(seed),
                Contrast::Order,
                0b101_0010,
                addr,
                9,
                0.3,
            );
            assert_eq!(a.rate, b.rate);
            assert_eq!(a.tool, b.tool);
            assert_eq!((a.first_day, a.last_day), (b.first_day, b.last_day));
            let ports = |s: &HostSpec| {
                let mut v: Vec<u16> = s
                    .components
                    .iter()
                    .filter(|c| c.kind == super::super::behaviour::Kind::TcpSyn)
                    .flat_map(|c| c.ports.iter().copied())
                    .collect();
                v.sort_unstable();
                v
            };
            assert_eq!(ports(&a), ports(&b));
            let retries = |s: &HostSpec| s.components[0].retries;
            assert_eq!(retries(&a), retries(&b));
        }
    }

    #[test]
    fn aggregate_contrast_visits_every_port_list_at_random() {
        let addr = Ipv4Addr::new(203, 0, 113, 9);
        for mask in [0b1u8, 0b100_0111, 0b010_1000] {
            let s = robust_host(
                &mut ChaCha8Rng::seed_from_u64(3),
                Contrast::Aggregate,
                mask,
                addr,
                9,
                0.3,
            );
            assert!(s.components.iter().all(|c| c.order == Order::Random));
        }
        // Order and both give each label its own rule.
        let s = robust_host(
            &mut ChaCha8Rng::seed_from_u64(3),
            Contrast::Both,
            0b100_0100,
            addr,
            9,
            0.3,
        );
        let tcp: Vec<Order> = s
            .components
            .iter()
            .filter(|c| c.kind == super::super::behaviour::Kind::TcpSyn)
            .map(|c| c.order)
            .collect();
        assert_eq!(tcp, vec![ORDERS[2], ORDERS[6]]);
    }

    #[test]
    fn halfway_profiles_sit_between() {
        for p in &PROFILES {
            let h = halfway(p);
            let between = |x: f32, a: f32, b: f32| x >= a.min(b) && x <= a.max(b);
            assert!(between(h.rate.0, SHARED.rate.0, p.rate.0));
            assert!(between(h.udp, SHARED.udp, p.udp));
            assert!(h.ports.0 <= h.ports.1 && h.retries.0 <= h.retries.1);
        }
        let orders: std::collections::BTreeSet<String> =
            ORDERS.iter().map(|o| format!("{o:?}")).collect();
        assert_eq!(orders.len(), 7, "one visiting rule per label");
    }
}
