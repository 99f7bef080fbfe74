//! The `paper-b-drift` preset: it generates, the same seed gives the same bytes, and it has the
//! properties its documentation claims (small daily-changing research port sets, unlabelled
//! brute-forcer and spammer look-alikes, label noise, another class mix).

use darknet_core::{Packet, Preset, SynthConfig, SyntheticDarknet};
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

const RESEARCH: [&str; 6] = [
    "shadowserver",
    "internetcensus",
    "rapid7",
    "onyphe",
    "securitytrails",
    "intrinsec",
];
const MAIL: [u16; 4] = [25, 465, 587, 2525];

fn build(cfg: SynthConfig) -> SyntheticDarknet {
    cfg.hosts(3000)
        .days(4)
        .intensity(0.5)
        .seed(3)
        .build()
        .unwrap()
}

/// TCP destination ports per source on one day.
fn ports_by_host(day: &[Packet]) -> BTreeMap<Ipv4Addr, (BTreeSet<u16>, usize, usize)> {
    let mut m: BTreeMap<Ipv4Addr, (BTreeSet<u16>, usize, usize)> = BTreeMap::new();
    for p in day.iter().filter(|p| p.proto.number() == 6) {
        let e = m.entry(p.src).or_default();
        e.0.insert(p.dst_port);
        e.1 += 1;
        e.2 += usize::from(MAIL.contains(&p.dst_port));
    }
    m
}

#[test]
fn named_seeded_and_same_bytes() {
    let cfg = SynthConfig::preset_named("paper-b-drift").unwrap();
    assert_eq!(cfg.preset, Preset::PaperBDrift);
    assert_eq!(cfg, SynthConfig::paper_b_drift());
    assert!(!Preset::PaperBDrift.is_multilabel());
    assert!(Preset::PaperBDrift.is_paper_b());
    // The Paper B preset itself is unchanged.
    assert_eq!(SynthConfig::paper_b().preset, Preset::PaperB);
    assert_eq!(SynthConfig::paper_b().label_noise, 0.05);
    assert_eq!(cfg.label_noise, 0.15);
    let small = |seed| {
        SynthConfig::paper_b_drift()
            .hosts(300)
            .days(2)
            .seed(seed)
            .build()
            .unwrap()
    };
    let (a, b) = (small(1), small(1));
    assert!(!a.day(1).is_empty());
    assert_eq!(a.day(1), b.day(1));
    assert_eq!(a.ground_truth(), b.ground_truth());
    assert_ne!(a.day(1), small(2).day(1));
    assert!(a.reports().is_empty());
}

#[test]
fn research_scanners_use_few_ports_that_change_daily() {
    let s = build(SynthConfig::paper_b_drift());
    let class: BTreeMap<Ipv4Addr, &str> = s.hosts().iter().map(|h| (h.addr, h.class)).collect();
    let (d0, d1) = (ports_by_host(&s.day(1)), ports_by_host(&s.day(2)));
    let (mut small, mut total, mut overlap, mut pairs) = (0, 0, 0.0, 0);
    for (a, (ports, _, _)) in &d0 {
        if !RESEARCH.contains(&class[a]) {
            continue;
        }
        total += 1;
        small += usize::from(ports.len() <= 4);
        if let Some((next, _, _)) = d1.get(a) {
            let inter = ports.intersection(next).count() as f64;
            let union = ports.union(next).count() as f64;
            overlap += inter / union;
            pairs += 1;
        }
    }
    assert!(total > 200, "{total} research scanners active");
    // Label noise lets a few draw another class's behaviour; the rest probe ≤ 4 ports a day.
    assert!(small as f64 > 0.75 * total as f64, "{small} of {total}");
    let jaccard = overlap / pairs as f64;
    assert!(jaccard < 0.25, "day-to-day port overlap {jaccard}");
    // On the paper-b preset the same classes keep most of their ports from day to day.
    let p = build(SynthConfig::paper_b());
    let class_p: BTreeMap<Ipv4Addr, &str> = p.hosts().iter().map(|h| (h.addr, h.class)).collect();
    let (p0, p1) = (ports_by_host(&p.day(1)), ports_by_host(&p.day(2)));
    let (mut o, mut n) = (0.0, 0);
    for (a, (ports, _, _)) in &p0 {
        if let (true, Some((next, _, _))) = (RESEARCH.contains(&class_p[a]), p1.get(a)) {
            o += ports.intersection(next).count() as f64 / ports.union(next).count() as f64;
            n += 1;
        }
    }
    assert!(
        o / n as f64 > jaccard + 0.2,
        "paper-b overlap {}",
        o / n as f64
    );
}

#[test]
fn unknown_hosts_include_spammer_and_bruteforcer_lookalikes() {
    // Mail-heavy hosts (≥ 30 % of their TCP packets to mail ports) among the Unknown hosts:
    // on paper-b only label noise and the odd horizontal scanner of port 25 make them; the
    // drift preset adds a spammer look-alike in one Unknown host of eight.
    let share = |s: &SyntheticDarknet| {
        let class: BTreeMap<Ipv4Addr, &str> = s.hosts().iter().map(|h| (h.addr, h.class)).collect();
        let day = ports_by_host(&s.day(1));
        let unknown: Vec<_> = day.iter().filter(|(a, _)| class[*a] == "unknown").collect();
        let mail = unknown
            .iter()
            .filter(|(_, (_, n, m))| *m as f64 >= 0.3 * *n as f64)
            .count();
        (mail as f64 / unknown.len() as f64, unknown.len())
    };
    let (drift, n) = share(&build(SynthConfig::paper_b_drift()));
    let (paper, _) = share(&build(SynthConfig::paper_b()));
    assert!(n > 100, "{n} unknown hosts active");
    assert!(drift > paper + 0.05, "drift {drift}, paper-b {paper}");
}

#[test]
fn class_mix_differs_from_paper_b() {
    let count = |s: &SyntheticDarknet, c: &str| s.hosts().iter().filter(|h| h.class == c).count();
    let (d, p) = (
        build(SynthConfig::paper_b_drift()),
        build(SynthConfig::paper_b()),
    );
    assert_eq!(d.hosts().len(), 3000);
    assert_eq!(count(&d, "mirai"), 240);
    assert_eq!(count(&p, "mirai"), 600);
    assert!(count(&d, "rapid7") > count(&p, "rapid7"));
    assert!(count(&d, "unk_bruteforcer") > count(&p, "unk_bruteforcer"));
    // Every class of Paper B is present.
    for c in darknet_core::synth::PAPER_B_CLASSES_NAMES {
        assert!(count(&d, c) > 0, "{c}");
    }
}
