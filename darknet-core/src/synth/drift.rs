//! The `paper-b-drift` preset: Paper B's 14 classes + Unknown on traffic that breaks three
//! assumptions the `paper-b` preset makes easy for embeddings judged by kNN.
//!
//! - **Research scanners with small, daily-changing port sets.** Shadowserver, Internetcensus,
//!   Rapid7, Onyphe, Securitytrails and Intrinsec keep their organisation prefixes, tools, rates
//!   and activity, but every active day each of their TCP behaviours probes 1 to 4 ports drawn
//!   afresh that day ([`daily_ports`]): half from the popular service ports, half anywhere. A
//!   host's ports of one day say little about its ports of the next, and its neighbours by port
//!   are Unknown horizontal scanners of a few popular ports.
//! - **Unlabelled look-alikes of brute-forcers and spammers.** [`LOOKALIKE_SHARE`] of the Unknown
//!   hosts behave exactly as an `unk_bruteforcer` or an `unk_spammer` host (same generator, same
//!   login chains and mail ports, same rates and activity) but carry no label, as heavy hosts
//!   nobody has reported yet.
//! - **Another class mix and more label noise.** Class shares follow [`DRIFT_SHARES`] (Mirai 8 %
//!   instead of 20 %, the research scanners and the `unk_*` classes more common); the preset's
//!   label noise is 0.15 (hosts whose behaviour is drawn from another class than their label)
//!   and its churn 0.5.
//!
//! Everything else (the /24, 31 days from 2021-12-01, 3,000 hosts, intensity 0.1, the behaviours
//! of the other classes) is the `paper-b` preset's.

use super::behaviour::HostSpec;
use super::population::{paper_b_host, Behaviour, PAPER_B_CLASSES, POPULAR_TCP};
use rand::Rng;
use std::net::Ipv4Addr;

/// Share of the hosts per named class, in Table 2 order (`mirai` .. `intrinsec`); Unknown takes
/// the rest (52 %).
pub(crate) const DRIFT_SHARES: [f64; 14] = [
    0.08, // mirai
    0.05, // unk_bruteforcer
    0.05, // unk_spammer
    0.03, // shadowserver
    0.02, // driftnet
    0.04, // internetcensus
    0.03, // censys
    0.05, // rapid7
    0.04, // onyphe
    0.02, // netsystems
    0.02, // shodan
    0.03, // unk_exploiter
    0.02, // securitytrails
    0.03, // intrinsec
];

/// Fraction of the Unknown hosts that behave exactly as a brute-forcer or a spammer.
pub(crate) const LOOKALIKE_SHARE: f64 = 0.25;

/// Label noise of the preset.
pub(crate) const LABEL_NOISE: f64 = 0.15;

/// Churn of the preset.
pub(crate) const CHURN: f64 = 0.5;

/// Most ports a research scanner probes on a day.
pub(crate) const MAX_DAILY_PORTS: u8 = 4;

/// Whether hosts of `behaviour` get small, daily-changing port sets.
pub(crate) fn is_research(behaviour: Behaviour) -> bool {
    matches!(
        behaviour,
        Behaviour::Shadowserver
            | Behaviour::InternetCensus
            | Behaviour::Rapid7
            | Behaviour::Onyphe
            | Behaviour::SecurityTrails
            | Behaviour::Intrinsec
    )
}

/// Host counts per class for `n` hosts: [`DRIFT_SHARES`], Unknown the rest; tiny populations
/// get one host per class in table order until `n` is reached.
pub(crate) fn drift_counts(n: usize) -> Vec<usize> {
    let mut counts: Vec<usize> = DRIFT_SHARES
        .iter()
        .map(|s| (s * n as f64).round() as usize)
        .collect();
    let named: usize = counts.iter().sum();
    if named >= n {
        counts = vec![0; PAPER_B_CLASSES.len()];
        for k in 0..n {
            counts[k % PAPER_B_CLASSES.len()] += 1;
        }
    } else {
        counts.push(n - named);
    }
    counts
}

/// The behaviour of one `paper-b-drift` host that behaves as class `class` (after label noise).
pub(crate) fn drift_host<R: Rng>(
    rng: &mut R,
    class: usize,
    addr: Ipv4Addr,
    days: u32,
    churn: f32,
) -> HostSpec {
    let behaviour = PAPER_B_CLASSES[class].behaviour;
    if behaviour == Behaviour::Unknown && rng.random::<f64>() < LOOKALIKE_SHARE {
        let twin = if rng.random::<bool>() {
            Behaviour::Bruteforcer
        } else {
            Behaviour::Spammer
        };
        let k = PAPER_B_CLASSES
            .iter()
            .position(|c| c.behaviour == twin)
            .unwrap_or(class);
        return paper_b_host(rng, k, addr, days, churn);
    }
    let mut spec = paper_b_host(rng, class, addr, days, churn);
    if is_research(behaviour) {
        spec.daily_ports = rng.random_range(1..=MAX_DAILY_PORTS);
    }
    spec
}

/// The `k` ports a research scanner probes on one day: each a popular service port or, half
/// the time, any port.
pub(crate) fn daily_ports<R: Rng>(rng: &mut R, k: u8) -> Vec<u16> {
    (0..k)
        .map(|_| {
            if rng.random::<bool>() {
                POPULAR_TCP[rng.random_range(0..POPULAR_TCP.len())]
            } else {
                rng.random_range(1..=65535)
            }
        })
        .collect()
}
