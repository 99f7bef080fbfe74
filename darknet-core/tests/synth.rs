//! The synthetic darknet: determinism, presets, ground truth, fingerprints.
use darknet_core::synth::PAPER_B_CLASSES_NAMES;
use darknet_core::{tcp_flags, CoreError, Packet, Protocol, SynthConfig, NANOS_PER_DAY};
use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};

fn digest(ps: &[Packet]) -> u64 {
    let mut h = DefaultHasher::new();
    ps.hash(&mut h);
    h.finish()
}

fn small_b() -> SynthConfig {
    SynthConfig::paper_b().hosts(600).days(4).seed(11)
}

#[test]
fn same_seed_same_bytes_other_seed_differs() {
    let a = small_b().build().unwrap();
    let b = small_b().build().unwrap();
    for d in 0..4 {
        let (x, y) = (a.day(d), b.day(d));
        assert!(!x.is_empty());
        assert_eq!(digest(&x), digest(&y));
    }
    let c = small_b().seed(12).build().unwrap();
    assert_ne!(digest(&a.day(0)), digest(&c.day(0)));
    assert_eq!(a.hosts(), b.hosts());
}

#[test]
fn days_are_sorted_inside_their_day_and_in_the_darknet() {
    let s = small_b().build().unwrap();
    let (base, n) = s.darknet();
    for (day, ps) in s.iter_days() {
        assert!(ps.windows(2).all(|w| w[0].ts_ns <= w[1].ts_ns));
        for p in &ps {
            assert_eq!(p.day(), day);
            let off = u32::from(p.dst).wrapping_sub(u32::from(base));
            assert!(off < n);
        }
    }
    assert!(s.day(99).is_empty());
}

#[test]
fn paper_b_has_every_class_and_fingerprints() {
    let s = SynthConfig::paper_b()
        .hosts(1000)
        .days(3)
        .label_noise(0.0)
        .build()
        .unwrap();
    let classes: BTreeMap<&str, usize> = s.hosts().iter().fold(BTreeMap::new(), |mut m, h| {
        *m.entry(h.class).or_default() += 1;
        m
    });
    for c in PAPER_B_CLASSES_NAMES {
        assert!(classes.get(c).copied().unwrap_or(0) > 0, "{c} missing");
    }
    assert!(classes["unknown"] > classes["censys"]);
    let trace = s.trace();
    let mirai: std::collections::BTreeSet<_> = s
        .hosts()
        .iter()
        .filter(|h| h.class == "mirai")
        .map(|h| h.addr)
        .collect();
    let mut n_mirai = 0;
    let mut n_fp = 0;
    let mut n_zmap_id = 0;
    for p in trace.iter() {
        if mirai.contains(&p.src) {
            n_mirai += 1;
            n_fp += usize::from(p.is_mirai());
        }
        n_zmap_id += usize::from(p.ip_id == 54321);
    }
    assert!(n_mirai > 0 && n_fp == n_mirai, "{n_fp} of {n_mirai}");
    assert!(n_zmap_id > 0);
    // Org hosts sit in their prefixes.
    let scanners = s.known_scanners();
    for h in s.hosts().iter().filter(|h| h.organization.is_some()) {
        assert_eq!(scanners.lookup(h.addr), Some(h.class));
    }
}

#[test]
fn paper_a_labels_and_protocols() {
    let s = SynthConfig::paper_a().hosts(1500).days(3).build().unwrap();
    let labelled: Vec<_> = s.hosts().iter().filter(|h| h.labels != 0).collect();
    let frac = labelled.len() as f64 / s.hosts().len() as f64;
    assert!((0.45..0.7).contains(&frac), "{frac}");
    let scan = labelled.iter().filter(|h| h.labels & 1 != 0).count() as f64 / labelled.len() as f64;
    assert!((0.78..0.95).contains(&scan), "{scan}");
    let mean = labelled
        .iter()
        .map(|h| h.labels.count_ones() as f64)
        .sum::<f64>()
        / labelled.len() as f64;
    assert!((1.7..2.2).contains(&mean), "{mean}");
    assert!(!s.reports().is_empty());
    let t = s.trace();
    let udp = t.proto().iter().filter(|&&p| p == 17).count();
    let icmp = t.proto().iter().filter(|&&p| p == 1).count();
    assert!(udp > 0 && icmp > 0);
    let backscatter = t
        .iter()
        .filter(|p| p.proto == Protocol::Tcp && p.tcp_flags == tcp_flags::SYN | tcp_flags::ACK)
        .count();
    assert!(backscatter > 0);
    assert!(t.ts_ns()[0] >= u64::from(s.config().start_day) * NANOS_PER_DAY);
}

#[test]
fn invalid_configs_name_the_field() {
    for (cfg, field) in [
        (SynthConfig::paper_b().days(0), "days"),
        (SynthConfig::paper_b().hosts(0), "n_hosts"),
        (SynthConfig::paper_b().intensity(0.0), "intensity"),
        (SynthConfig::paper_b().label_noise(0.9), "label_noise"),
        (SynthConfig::paper_b().churn(2.0), "churn"),
        (
            SynthConfig::paper_b().prefix("10.0.0.1".parse().unwrap(), 24),
            "prefix_addr",
        ),
        (
            SynthConfig::paper_b().prefix("10.0.0.0".parse().unwrap(), 4),
            "prefix_len",
        ),
        (
            SynthConfig::paper_a().labelled_fraction(0.0),
            "labelled_fraction",
        ),
    ] {
        match cfg.build() {
            Err(CoreError::InvalidConfig { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: {other:?}"),
        }
    }
}

/// Area under the ROC curve of score `s` for positives `y` (Mann–Whitney, ties half).
fn auc(s: &[f32], y: &[bool]) -> f64 {
    let mut idx: Vec<usize> = (0..s.len()).collect();
    idx.sort_by(|&a, &b| s[a].total_cmp(&s[b]));
    let (mut rank_sum, mut i) = (0f64, 0);
    while i < idx.len() {
        let mut j = i;
        while j < idx.len() && s[idx[j]] == s[idx[i]] {
            j += 1;
        }
        let r = (i + j + 1) as f64 / 2.0;
        rank_sum += r * idx[i..j].iter().filter(|&&k| y[k]).count() as f64;
        i = j;
    }
    let p = y.iter().filter(|&&b| b).count() as f64;
    let n = y.len() as f64 - p;
    let u = rank_sum - p * (p + 1.0) / 2.0;
    let a = u / (p * n);
    a.max(1.0 - a)
}

/// No single per-host aggregate statistic separates a Paper A label or a Paper B class.
#[test]
fn no_single_statistic_separates_classes() {
    use darknet_core::stats::{HostStatsTable, HOST_FEATURE_NAMES};
    let s = SynthConfig::paper_a()
        .hosts(1500)
        .days(7)
        .seed(5)
        .build()
        .unwrap();
    let table = HostStatsTable::from_trace(&s.trace());
    let feats: Vec<_> = table.hosts().iter().map(|h| h.features()).collect();
    let truth: BTreeMap<_, _> = s.hosts().iter().map(|h| (h.addr, h.labels)).collect();
    let masks: Vec<u8> = table.hosts().iter().map(|h| truth[&h.addr]).collect();
    let mut worst = (0.0, String::new());
    for k in 0..7 {
        let y: Vec<bool> = masks.iter().map(|m| m >> k & 1 == 1).collect();
        for (f, name) in HOST_FEATURE_NAMES.iter().enumerate() {
            let col: Vec<f32> = feats.iter().map(|v| v[f]).collect();
            let a = auc(&col, &y);
            if a > worst.0 {
                worst = (a, format!("label {k} by {name}"));
            }
        }
    }
    eprintln!("paper A best single-feature AUC: {worst:?}");
    assert!(worst.0 < 0.97, "{worst:?}");

    let s = SynthConfig::paper_b()
        .hosts(1500)
        .days(5)
        .seed(5)
        .build()
        .unwrap();
    let table = HostStatsTable::from_trace(&s.trace());
    let feats: Vec<_> = table.hosts().iter().map(|h| h.features()).collect();
    let truth: BTreeMap<_, _> = s.hosts().iter().map(|h| (h.addr, h.class)).collect();
    let classes: Vec<&str> = table.hosts().iter().map(|h| truth[&h.addr]).collect();
    let mut worst = (0.0, String::new());
    for c in PAPER_B_CLASSES_NAMES {
        let y: Vec<bool> = classes.iter().map(|&x| x == c).collect();
        if y.iter().filter(|&&b| b).count() < 10 {
            continue;
        }
        let mut best = (0.0, "");
        for (f, name) in HOST_FEATURE_NAMES.iter().enumerate() {
            let col: Vec<f32> = feats.iter().map(|v| v[f]).collect();
            let a = auc(&col, &y);
            if a > best.0 {
                best = (a, name);
            }
        }
        eprintln!("  {c}: {best:?}");
        if best.0 > worst.0 {
            worst = (best.0, format!("{c} by {}", best.1));
        }
    }
    eprintln!("paper B best single-feature AUC: {worst:?}");
    assert!(worst.0 < 0.99, "{worst:?}");
}

/// Paper A: the order of a host's packets carries label information its aggregates do not
/// (module doc of `synth`): a transition-structure statistic (distinct undirected transitions
/// between distinct (proto, port, flags) nodes per node) separates Brute-Force (chains) from
/// the rest better than any per-host aggregate does.
#[test]
fn order_carries_label_information() {
    use darknet_core::stats::{HostStatsTable, HOST_FEATURE_NAMES};
    let s = SynthConfig::paper_a()
        .hosts(1500)
        .days(7)
        .seed(9)
        .label_noise(0.0)
        .build()
        .unwrap();
    let t = s.trace();
    let table = HostStatsTable::from_trace(&t);
    let truth: BTreeMap<_, _> = s.hosts().iter().map(|h| (h.addr, h.labels)).collect();
    let idx = t.by_source();
    let mut density = Vec::new();
    let mut ys: Vec<Vec<bool>> = vec![Vec::new(); 7];
    let mut feats = Vec::new();
    for (k, (addr, pk)) in idx.iter().enumerate() {
        let nodes: Vec<(u8, u16, u8)> = pk
            .iter()
            .map(|&i| {
                (
                    t.proto()[i as usize],
                    t.dst_port()[i as usize],
                    t.tcp_flags()[i as usize],
                )
            })
            .collect();
        let mut distinct = nodes.clone();
        distinct.sort_unstable();
        distinct.dedup();
        let mut edges: Vec<_> = nodes
            .windows(2)
            .filter(|w| w[0] != w[1])
            .map(|w| {
                if w[0] < w[1] {
                    (w[0], w[1])
                } else {
                    (w[1], w[0])
                }
            })
            .collect();
        edges.sort_unstable();
        edges.dedup();
        density.push(edges.len() as f32 / distinct.len() as f32);
        for (l, y) in ys.iter_mut().enumerate() {
            y.push(truth[&addr] >> l & 1 == 1);
        }
        feats.push(table.hosts()[k].features());
    }
    for (l, y) in ys.iter().enumerate() {
        let best = (0..HOST_FEATURE_NAMES.len())
            .map(|f| auc(&feats.iter().map(|v| v[f]).collect::<Vec<_>>(), y))
            .fold(0.0, f64::max);
        eprintln!(
            "label {l}: transition density AUC {:.3}, best aggregate AUC {best:.3}",
            auc(&density, y)
        );
        // Labels that differ from others only by order (15 Hacking, 18 Brute-Force, 19 Bad Web
        // Bot, 21 Web App Attack, 22 SSH) are drawn with matched aggregates: no single per-host
        // statistic ranks them much better than chance (0.58-0.64 with this seed; before the
        // matching, 0.71-0.82).
        if [1, 2, 3, 5, 6].contains(&l) {
            assert!(best < 0.7, "label {l}: best aggregate AUC {best:.3}");
        }
    }
    // Chains make sparser transition graphs than random order on the same ports: among hosts
    // with at least 4 login-port nodes, the edges between login ports per login node are fewer
    // for Brute-Force hosts (chains) than for Port Scan hosts without Brute-Force (random).
    const LOGIN: [u16; 8] = [22, 23, 21, 25, 3389, 5900, 1433, 3306];
    let (mut brute, mut scan) = (Vec::new(), Vec::new());
    for (addr, pk) in idx.iter() {
        let ports: Vec<u16> = pk
            .iter()
            .filter(|&&i| t.proto()[i as usize] == 6)
            .map(|&i| t.dst_port()[i as usize])
            .collect();
        let mut nodes: Vec<u16> = ports
            .iter()
            .copied()
            .filter(|p| LOGIN.contains(p))
            .collect();
        nodes.sort_unstable();
        nodes.dedup();
        if nodes.len() < 4 {
            continue;
        }
        let mut edges: Vec<(u16, u16)> = ports
            .windows(2)
            .filter(|w| w[0] != w[1] && LOGIN.contains(&w[0]) && LOGIN.contains(&w[1]))
            .map(|w| (w[0].min(w[1]), w[0].max(w[1])))
            .collect();
        edges.sort_unstable();
        edges.dedup();
        let d = edges.len() as f32 / nodes.len() as f32;
        let m = truth[&addr];
        if m & 0b100 != 0 {
            brute.push(d);
        } else if m & 0b1 != 0 {
            scan.push(d);
        }
    }
    let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len().max(1) as f32;
    eprintln!(
        "login-port transitions per node: brute-force {:.2} ({} hosts), port scan {:.2} ({} hosts)",
        mean(&brute),
        brute.len(),
        mean(&scan),
        scan.len()
    );
    assert!(brute.len() > 20 && scan.len() > 20);
    assert!(mean(&brute) + 0.2 < mean(&scan));
}

/// Paper A: Hacking's sequential sweep carries on from day to day, so a port of its chain
/// sees increasing addresses over several days (the host graph's address-order feature),
/// which random addressing almost never gives.
#[test]
fn paper_a_sweeps_keep_increasing_across_days() {
    let s = SynthConfig::paper_a()
        .hosts(800)
        .days(5)
        .seed(4)
        .label_noise(0.0)
        .build()
        .unwrap();
    let t = s.trace();
    let behaviour: BTreeMap<_, _> = s
        .hosts()
        .iter()
        .map(|h| (h.addr, h.behaviour_labels))
        .collect();
    let (mut hacking, mut other) = ((0, 0), (0, 0));
    for (addr, pk) in t.by_source().iter() {
        let mut ports: BTreeMap<u16, Vec<(u64, u32)>> = BTreeMap::new();
        for &i in pk {
            let i = i as usize;
            if t.proto()[i] == 6 {
                ports
                    .entry(t.dst_port()[i])
                    .or_default()
                    .push((t.ts_ns()[i] / NANOS_PER_DAY, t.dst()[i]));
            }
        }
        let multi_day = ports
            .values()
            .any(|v| v.first().map(|f| f.0) != v.last().map(|l| l.0));
        if !multi_day {
            continue;
        }
        let increasing = ports.values().any(|v| {
            let mut a: Vec<u32> = v.iter().map(|x| x.1).collect();
            a.dedup();
            a.len() >= 5
                && v.first().map(|f| f.0) != v.last().map(|l| l.0)
                && a.windows(2).all(|w| w[0] < w[1])
        });
        let slot = if behaviour[&addr] & 0b10 != 0 {
            &mut hacking
        } else {
            &mut other
        };
        slot.0 += usize::from(increasing);
        slot.1 += 1;
    }
    let rate = |x: (usize, usize)| x.0 as f64 / x.1.max(1) as f64;
    eprintln!("increasing multi-day ports: hacking {hacking:?}, others {other:?}");
    assert!(hacking.1 > 50 && other.1 > 50);
    // Seed 4: 96 of 220 Hacking hosts, 31 of 358 others (unreported Hacking look-alikes, and
    // random addresses by chance); with sweeps restarting every day it was 23 of 220 and 12
    // of 358.
    assert!(
        rate(hacking) > 0.3 && rate(hacking) > 3.0 * rate(other),
        "{hacking:?} {other:?}"
    );
}

/// FNV-1a over a fixed little-endian serialisation of the packets: the same on every machine
/// and every Rust version (unlike `DefaultHasher`).
fn fnv(ps: &[Packet]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    for p in ps {
        eat(&p.ts_ns.to_le_bytes());
        eat(&p.src.octets());
        eat(&p.dst.octets());
        eat(&[
            p.proto.number(),
            p.ttl,
            p.tcp_flags,
            p.icmp_type,
            p.icmp_code,
        ]);
        for v in [p.src_port, p.dst_port, p.ip_len, p.ip_id, p.tcp_window] {
            eat(&v.to_le_bytes());
        }
        eat(&p.tcp_seq.to_le_bytes());
        eat(&p.tcp_ack.to_le_bytes());
        let o = p.tcp_options;
        eat(&o.mss.unwrap_or(0).to_le_bytes());
        eat(&o.tsval.unwrap_or(0).to_le_bytes());
        eat(&[
            o.window_scale.unwrap_or(0),
            o.sack_permitted as u8,
            o.sack as u8,
        ]);
    }
    h
}

/// Pinned digests: the generator's output is part of its contract (same seed, same bytes on
/// any machine). A deliberate change of the generator updates these numbers.
#[test]
fn golden_digests() {
    let b = SynthConfig::paper_b()
        .hosts(200)
        .days(2)
        .seed(1)
        .build()
        .unwrap();
    let a = SynthConfig::paper_a()
        .hosts(200)
        .days(2)
        .seed(1)
        .build()
        .unwrap();
    let got = (
        b.day(0).len(),
        fnv(&b.day(0)),
        a.day(1).len(),
        fnv(&a.day(1)),
    );
    eprintln!("golden: {got:?}");
    assert_eq!(got, GOLDEN);
}
const GOLDEN: (usize, u64, usize, u64) = (
    2574,
    2_873_057_320_385_962_347,
    3508,
    11_336_456_993_474_988_564,
);

/// Per-tool fingerprints appear as documented in `synth::Tool`.
#[test]
fn tool_fingerprints() {
    use darknet_core::Tool;
    let s = SynthConfig::paper_b()
        .hosts(800)
        .days(2)
        .label_noise(0.0)
        .build()
        .unwrap();
    let tools: BTreeMap<_, _> = s.hosts().iter().map(|h| (h.addr, h.tool)).collect();
    let mut seen = BTreeMap::new();
    for p in s
        .trace()
        .iter()
        .filter(|p| p.proto == Protocol::Tcp && p.tcp_flags == tcp_flags::SYN)
    {
        let tool = tools[&p.src];
        *seen.entry(tool.name()).or_insert(0usize) += 1;
        let o = p.tcp_options;
        match tool {
            Tool::Masscan => assert!(p.tcp_window == 1024 && o.mss.is_none() && p.ttl > 200),
            Tool::Zmap => assert!(p.ip_id == 54321 && o.mss.is_none() && p.ttl > 200),
            Tool::Nmap => assert!(o.mss == Some(1460) && o.tsval.is_none() && p.ttl <= 64),
            Tool::Mirai => assert!(p.is_mirai() && o.mss.is_none() && p.ttl <= 64),
            Tool::Linux => assert!(o.tsval.is_some() && o.sack_permitted && p.ttl <= 64),
            Tool::Windows => assert!(
                o.tsval.is_none() && o.window_scale == Some(8) && p.ttl <= 128 && p.ttl > 64
            ),
            _ => {}
        }
    }
    assert!(seen.len() >= 6, "{seen:?}");
}

/// Paper B labels Mirai-like hosts by the fingerprint (TCP seq == destination address): the
/// synthetic traffic carries it from the Mirai-like class only, so the fingerprint and the
/// `ip,class` ground truth agree.
#[test]
fn mirai_fingerprint_only_from_the_mirai_class() {
    use std::collections::BTreeSet;
    let s = SynthConfig::paper_b()
        .hosts(600)
        .days(3)
        .seed(5)
        .build()
        .unwrap();
    let trace = s.trace();
    let fingerprinted: BTreeSet<_> = trace
        .iter()
        .filter(|p| p.is_mirai())
        .map(|p| p.src)
        .collect();
    let mirai_class: BTreeSet<_> = s
        .hosts()
        .iter()
        .filter(|h| h.class == "mirai")
        .map(|h| h.addr)
        .collect();
    assert!(!fingerprinted.is_empty());
    assert!(
        fingerprinted.is_subset(&mirai_class),
        "{} fingerprinted sources outside the Mirai class",
        fingerprinted.difference(&mirai_class).count()
    );
}

/// The typed views of a host's ground truth agree with its strings and bits: Paper B hosts have
/// a `PaperBClass` of the same name, multi-label hosts have none and one `Category` per bit.
#[test]
fn host_truth_has_typed_classes_and_categories() {
    let b = small_b().build().unwrap();
    for h in b.hosts() {
        let class = h
            .paper_b_class()
            .expect("a Paper B host has a Paper B class");
        assert_eq!(class.name(), h.class);
        assert!(h.categories().is_empty());
    }
    let a = SynthConfig::paper_a()
        .hosts(300)
        .days(2)
        .seed(3)
        .build()
        .unwrap();
    let mut labelled = 0;
    for h in a.hosts() {
        assert_eq!(h.paper_b_class(), None);
        let cats = h.categories();
        assert_eq!(cats.len(), h.labels.count_ones() as usize);
        for c in &cats {
            let k = darknet_core::label::Category::PAPER_A
                .iter()
                .position(|p| p == c)
                .unwrap();
            assert_eq!(h.label_vector()[k], 1.0);
        }
        labelled += usize::from(!cats.is_empty());
    }
    assert!(labelled > 0);
}
