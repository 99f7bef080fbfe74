//! The host populations of the two presets: Paper B's 14 classes + Unknown
//! (docs/paper-b.md#classes, docs/synthetic.md#paper-b-classes) and Paper A's AbuseIPDB-style
//! multi-label hosts (docs/paper-a.md#labels, docs/synthetic.md#paper-a-labels).

use super::behaviour::{AddrOrder, Component, HostSpec, Kind, Order};
use super::fingerprint::Tool;
use crate::filter::is_bogon;
use rand::seq::SliceRandom;
use rand::Rng;
use std::net::Ipv4Addr;

/// Well-known service ports scanners favour (TCP).
pub(crate) const POPULAR_TCP: [u16; 40] = [
    22, 23, 80, 443, 445, 3389, 8080, 1433, 3306, 5900, 21, 25, 110, 143, 139, 135, 8443, 8000,
    8888, 5555, 6379, 9200, 27017, 5432, 2323, 7547, 37215, 52869, 81, 8081, 5060, 2000, 1723, 111,
    993, 995, 587, 465, 9000, 10000,
];
/// Login services brute-forcers attack (docs/synthetic.md#paper-a-labels, label 18).
pub(crate) const LOGIN_TCP: [u16; 8] = [22, 23, 21, 25, 3389, 5900, 1433, 3306];
/// IoT / Mirai-family ports (label 20, Mirai-like class).
pub(crate) const IOT_TCP: [u16; 5] = [23, 2323, 5555, 37215, 52869];
/// UDP services probed by scanners and bots.
pub(crate) const POPULAR_UDP: [u16; 8] = [53, 123, 161, 1900, 5060, 137, 11211, 500];

/// The behaviour a Paper B class generates. The generator dispatches on this, never on the
/// label string, so a misspelt label cannot silently fall through to Unknown traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Behaviour {
    /// `mirai`.
    Mirai,
    /// `unk_bruteforcer`.
    Bruteforcer,
    /// `unk_spammer`.
    Spammer,
    /// `shadowserver`.
    Shadowserver,
    /// `driftnet`.
    Driftnet,
    /// `internetcensus`.
    InternetCensus,
    /// `censys`.
    Censys,
    /// `rapid7`.
    Rapid7,
    /// `onyphe`.
    Onyphe,
    /// `netsystems`.
    NetSystems,
    /// `shodan`.
    Shodan,
    /// `unk_exploiter`.
    Exploiter,
    /// `securitytrails`.
    SecurityTrails,
    /// `intrinsec`.
    Intrinsec,
    /// `unknown`.
    Unknown,
}

/// A Paper B class: code label, organisation prefixes (if a known scanner), behaviour knobs.
pub(crate) struct ClassDef {
    pub label: &'static str,
    /// Which behaviour its hosts generate.
    pub behaviour: Behaviour,
    /// Month hosts in Table 2 (relative weight of the class).
    pub hosts: u32,
    /// Per-host packets per active day (Table 2: daily packets / daily hosts).
    pub rate: f32,
    /// Fraction of the class's hosts active on a day (Table 2: daily hosts / month hosts).
    pub daily: f32,
    /// Organisation prefixes (known scanners), empty for behaviour classes.
    pub prefixes: &'static [&'static str],
}

/// Paper B's classes (docs/paper-b.md#classes). Organisation prefixes are illustrative address
/// blocks of the synthetic world, chosen in public unicast space; they are not the organisations'
/// real allocations.
pub(crate) const PAPER_B_CLASSES: [ClassDef; 15] = [
    ClassDef {
        label: "mirai",
        behaviour: Behaviour::Mirai,
        hosts: 16147,
        rate: 30.0,
        daily: 0.134,
        prefixes: &[],
    },
    ClassDef {
        label: "unk_bruteforcer",
        behaviour: Behaviour::Bruteforcer,
        hosts: 976,
        rate: 1340.0,
        daily: 0.25,
        prefixes: &[],
    },
    ClassDef {
        label: "unk_spammer",
        behaviour: Behaviour::Spammer,
        hosts: 1014,
        rate: 630.0,
        daily: 0.25,
        prefixes: &[],
    },
    ClassDef {
        label: "shadowserver",
        behaviour: Behaviour::Shadowserver,
        hosts: 289,
        rate: 25.0,
        daily: 0.99,
        prefixes: &[
            "184.105.139.0/24",
            "184.105.247.0/24",
            "216.218.206.0/24",
            "74.82.47.0/24",
            "65.49.1.0/24",
        ],
    },
    ClassDef {
        label: "driftnet",
        behaviour: Behaviour::Driftnet,
        hosts: 252,
        rate: 72.0,
        daily: 1.0,
        prefixes: &["87.236.176.0/24", "193.235.141.0/24"],
    },
    ClassDef {
        label: "internetcensus",
        behaviour: Behaviour::InternetCensus,
        hosts: 271,
        rate: 31.0,
        daily: 0.83,
        prefixes: &["45.83.64.0/24", "45.83.65.0/24", "45.83.66.0/24"],
    },
    ClassDef {
        label: "censys",
        behaviour: Behaviour::Censys,
        hosts: 329,
        rate: 450.0,
        daily: 0.74,
        prefixes: &[
            "162.142.125.0/24",
            "167.94.138.0/24",
            "167.94.145.0/24",
            "167.94.146.0/24",
            "206.168.34.0/24",
            "199.45.154.0/24",
        ],
    },
    ClassDef {
        label: "rapid7",
        behaviour: Behaviour::Rapid7,
        hosts: 344,
        rate: 21.0,
        daily: 0.82,
        prefixes: &["71.6.233.0/24", "5.63.151.0/24", "88.202.190.0/24"],
    },
    ClassDef {
        label: "onyphe",
        behaviour: Behaviour::Onyphe,
        hosts: 115,
        rate: 14.0,
        daily: 0.84,
        prefixes: &["91.230.168.0/24", "91.231.89.0/24"],
    },
    ClassDef {
        label: "netsystems",
        behaviour: Behaviour::NetSystems,
        hosts: 45,
        rate: 195.0,
        daily: 0.96,
        prefixes: &["89.248.165.0/24", "89.248.167.0/24"],
    },
    ClassDef {
        label: "shodan",
        behaviour: Behaviour::Shodan,
        hosts: 36,
        rate: 334.0,
        daily: 0.86,
        prefixes: &["66.240.192.0/24", "71.6.146.0/24", "198.20.69.0/24"],
    },
    ClassDef {
        label: "unk_exploiter",
        behaviour: Behaviour::Exploiter,
        hosts: 430,
        rate: 180.0,
        daily: 0.063,
        prefixes: &[],
    },
    ClassDef {
        label: "securitytrails",
        behaviour: Behaviour::SecurityTrails,
        hosts: 18,
        rate: 205.0,
        daily: 0.94,
        prefixes: &["104.244.74.0/24"],
    },
    ClassDef {
        label: "intrinsec",
        behaviour: Behaviour::Intrinsec,
        hosts: 12,
        rate: 34.0,
        daily: 0.75,
        prefixes: &["185.180.143.0/24"],
    },
    ClassDef {
        label: "unknown",
        behaviour: Behaviour::Unknown,
        hosts: 39828,
        rate: 356.0,
        daily: 0.09,
        prefixes: &[],
    },
];

/// Parses `a.b.c.d/len` of the constant tables (known valid).
pub(crate) fn parse_prefix(s: &str) -> (u32, u8) {
    let (a, l) = s.split_once('/').unwrap_or((s, "32"));
    let addr: Ipv4Addr = a.parse().unwrap_or(Ipv4Addr::UNSPECIFIED);
    (u32::from(addr), l.parse().unwrap_or(32))
}

/// A random public (non-bogon) address outside every organisation prefix.
pub(crate) fn random_public<R: Rng>(rng: &mut R) -> Ipv4Addr {
    loop {
        let a = Ipv4Addr::from(rng.random::<u32>());
        let o = a.octets()[0];
        if is_bogon(a) || o == 0 || o >= 224 {
            continue;
        }
        let in_org = PAPER_B_CLASSES.iter().any(|c| {
            c.prefixes.iter().any(|p| {
                let (net, len) = parse_prefix(p);
                u32::from(a) >> (32 - len) == net >> (32 - len)
            })
        });
        if !in_org {
            return a;
        }
    }
}

pub(crate) fn pick<R: Rng, T: Copy>(rng: &mut R, xs: &[T], k: usize) -> Vec<T> {
    let mut v = xs.to_vec();
    v.shuffle(rng);
    v.truncate(k.min(xs.len()).max(1));
    v
}

fn random_ports<R: Rng>(rng: &mut R, k: usize) -> Vec<u16> {
    let mut v: Vec<u16> = (0..k).map(|_| rng.random_range(1..=65535)).collect();
    v.sort_unstable();
    v.dedup();
    v.shuffle(rng);
    v
}

pub(crate) fn syn(
    weight: f32,
    ports: Vec<u16>,
    order: Order,
    retries: u8,
    addr: AddrOrder,
    run: u8,
) -> Component {
    Component {
        weight,
        kind: Kind::TcpSyn,
        ports,
        order,
        retries,
        addr,
        run,
    }
}

pub(crate) fn udp(weight: f32, ports: Vec<u16>, order: Order) -> Component {
    Component {
        weight,
        kind: Kind::Udp,
        ports,
        order,
        retries: 1,
        addr: AddrOrder::Random,
        run: 2,
    }
}

pub(crate) fn icmp(weight: f32) -> Component {
    Component {
        weight,
        kind: Kind::IcmpEcho,
        ports: vec![0],
        order: Order::Random,
        retries: 1,
        addr: AddrOrder::Random,
        run: 1,
    }
}

/// Activity window: a host active for `len` days somewhere in `days`.
pub(crate) fn window<R: Rng>(rng: &mut R, days: u32, len: u32) -> (u32, u32) {
    let len = len.clamp(1, days);
    let first = rng.random_range(0..=days - len);
    (first, first + len - 1)
}

/// Builds the behaviour of one Paper B host of class `class`.
pub(crate) fn paper_b_host<R: Rng>(
    rng: &mut R,
    class: usize,
    addr: Ipv4Addr,
    days: u32,
    churn: f32,
) -> HostSpec {
    let def = &PAPER_B_CLASSES[class];
    let long = |rng: &mut R| -> (u32, u32) {
        // Scanners: nearly the whole month, a few start late or stop early with churn.
        if rng.random::<f32>() < churn {
            {
                let l = rng.random_range(days / 2..=days);
                window(rng, days, l)
            }
        } else {
            (0, days - 1)
        }
    };
    let mut spec = HostSpec {
        addr,
        tool: Tool::Linux,
        first_day: 0,
        last_day: days - 1,
        p_active: def.daily,
        rate: def.rate,
        spread: 0.6,
        periodic: false,
        components: Vec::new(),
        port_churn: 0.0,
        sweep_continues: false,
        daily_ports: 0,
    };
    let r = rng.random::<f32>();
    match def.behaviour {
        Behaviour::Mirai => {
            spec.tool = Tool::Mirai;
            // Short lives: 16,147 hosts for 2,158 a day (docs/synthetic.md#paper-b-classes).
            let len = rng.random_range(1..=8);
            (spec.first_day, spec.last_day) = window(rng, days, len);
            spec.p_active = 0.85;
            spec.spread = rng.random_range(0.05..0.9);
            let mut ports = vec![23; 9];
            ports.push(2323);
            if r < 0.3 {
                ports.push(5555);
            }
            spec.components
                .push(syn(1.0, ports, Order::Random, 1, AddrOrder::Random, 4));
        }
        Behaviour::Bruteforcer => {
            spec.tool = if r < 0.6 { Tool::Linux } else { Tool::Windows };
            (spec.first_day, spec.last_day) = {
                let l = rng.random_range(days / 3..=days);
                window(rng, days, l)
            };
            spec.p_active = 0.75;
            spec.spread = 0.9;
            let k = rng.random_range(1..=3);
            spec.components.push(syn(
                0.85,
                pick(rng, &LOGIN_TCP, k),
                Order::Chain,
                rng.random_range(2..=5),
                AddrOrder::Random,
                12,
            ));
            let n = rng.random_range(5..40);
            spec.components.push(syn(
                0.15,
                random_ports(rng, n),
                Order::Random,
                1,
                AddrOrder::Random,
                3,
            ));
            spec.port_churn = churn;
        }
        Behaviour::Spammer => {
            spec.tool = if r < 0.7 { Tool::Linux } else { Tool::Windows };
            (spec.first_day, spec.last_day) = {
                let l = rng.random_range(days / 3..=days);
                window(rng, days, l)
            };
            spec.p_active = 0.75;
            spec.components.push(syn(
                0.5,
                pick(rng, &[25, 465, 587, 2525], 3),
                Order::Chain,
                2,
                AddrOrder::Random,
                6,
            ));
            let n = rng.random_range(100..400);
            spec.components.push(syn(
                0.5,
                random_ports(rng, n),
                Order::Random,
                1,
                AddrOrder::Random,
                8,
            ));
            spec.port_churn = churn;
        }
        Behaviour::Exploiter => {
            spec.tool = Tool::Linux;
            let len = rng.random_range(1..=4);
            (spec.first_day, spec.last_day) = window(rng, days, len);
            spec.p_active = 0.5;
            let k = rng.random_range(1..=3);
            spec.components.push(syn(
                1.0,
                pick(
                    rng,
                    &[80, 8080, 7547, 37215, 52869, 5555, 81, 8443, 60001],
                    k,
                ),
                Order::Chain,
                1,
                AddrOrder::Sequential,
                6,
            ));
        }
        Behaviour::Shadowserver => {
            spec.tool = Tool::Zmap;
            spec.periodic = true;
            spec.spread = 0.3;
            let k = rng.random_range(1..=3);
            let pool = [
                443, 80, 8080, 22, 23, 3389, 445, 21, 5900, 1433, 3306, 6379, 9200, 11211, 27017,
                8443, 5432, 389, 1723, 502, 102, 47808, 20000, 44818, 1911, 4911, 2404, 623, 5683,
                8883,
            ];
            spec.components.push(syn(
                1.0,
                pick(rng, &pool, k),
                Order::Chain,
                1,
                AddrOrder::Sequential,
                30,
            ));
            if r < 0.3 {
                spec.components
                    .push(udp(0.3, pick(rng, &POPULAR_UDP, 2), Order::Random));
            }
        }
        Behaviour::Driftnet => {
            spec.tool = Tool::Masscan;
            let n = rng.random_range(40..120);
            spec.components.push(syn(
                1.0,
                random_ports(rng, n),
                Order::Random,
                1,
                AddrOrder::Random,
                10,
            ));
            spec.port_churn = 1.0;
        }
        Behaviour::InternetCensus => {
            spec.tool = Tool::Nmap;
            (spec.first_day, spec.last_day) = long(rng);
            let k = rng.random_range(4..12);
            let mut ports = pick(rng, &POPULAR_TCP, k);
            ports.extend([5060, 2000]);
            spec.components
                .push(syn(0.85, ports, Order::Random, 1, AddrOrder::Random, 6));
            spec.components
                .push(udp(0.15, vec![161, 5060, 1900], Order::Random));
        }
        Behaviour::Censys => {
            spec.tool = Tool::Zmap;
            (spec.first_day, spec.last_day) = long(rng);
            let n = rng.random_range(200..600);
            let mut ports = random_ports(rng, n);
            ports.extend([5060, 2000, 5060, 2000, 443, 80]);
            spec.components
                .push(syn(1.0, ports, Order::Random, 1, AddrOrder::Random, 20));
            spec.port_churn = 1.0;
        }
        Behaviour::Rapid7 => {
            spec.tool = Tool::Linux;
            (spec.first_day, spec.last_day) = long(rng);
            let k = rng.random_range(2..6);
            spec.components.push(syn(
                1.0,
                pick(rng, &POPULAR_TCP, k),
                Order::Random,
                1,
                AddrOrder::Sequential,
                5,
            ));
            spec.port_churn = 0.8;
        }
        Behaviour::Onyphe => {
            spec.tool = Tool::Masscan;
            (spec.first_day, spec.last_day) = long(rng);
            let k = rng.random_range(5..15);
            spec.components.push(syn(
                1.0,
                pick(rng, &POPULAR_TCP, k),
                Order::Random,
                1,
                AddrOrder::Random,
                4,
            ));
            spec.port_churn = 0.3;
        }
        Behaviour::NetSystems => {
            spec.tool = Tool::Masscan;
            spec.components.push(syn(
                1.0,
                {
                    let mut v: Vec<u16> = (0..40)
                        .map(|i| POPULAR_TCP[i % 40] + (i / 40) as u16)
                        .collect();
                    v.shuffle(rng);
                    v.truncate(rng.random_range(20..40));
                    v
                },
                Order::Random,
                1,
                AddrOrder::Random,
                10,
            ));
        }
        Behaviour::Shodan => {
            spec.tool = Tool::Nmap;
            (spec.first_day, spec.last_day) = long(rng);
            let n = rng.random_range(150..400);
            let mut ports = random_ports(rng, n);
            ports.extend(POPULAR_TCP);
            spec.components
                .push(syn(0.9, ports, Order::Random, 1, AddrOrder::Random, 10));
            spec.components
                .push(udp(0.1, POPULAR_UDP.to_vec(), Order::Random));
            spec.port_churn = 1.0;
        }
        Behaviour::SecurityTrails => {
            spec.tool = Tool::Masscan;
            let k = rng.random_range(5..12);
            spec.components.push(syn(
                1.0,
                pick(rng, &POPULAR_TCP, k),
                Order::Chain,
                1,
                AddrOrder::Sequential,
                8,
            ));
            spec.port_churn = 0.3;
        }
        Behaviour::Intrinsec => {
            spec.tool = Tool::Linux;
            let k = rng.random_range(3..=6);
            spec.components.push(syn(
                1.0,
                pick(rng, &[80, 443, 22, 21, 25, 3389, 8080, 445], k),
                Order::Random,
                1,
                AddrOrder::Random,
                4,
            ));
        }
        Behaviour::Unknown => unknown_host(rng, &mut spec, days, churn),
    }
    spec
}

/// The Unknown mixture: every behaviour without an organisation, so labelled classes have
/// look-alikes among the unlabelled majority (docs/synthetic.md#paper-b-classes).
fn unknown_host<R: Rng>(rng: &mut R, spec: &mut HostSpec, days: u32, churn: f32) {
    let len = if rng.random::<f32>() < 0.7 {
        rng.random_range(1..=4)
    } else {
        rng.random_range(1..=days)
    };
    (spec.first_day, spec.last_day) = window(rng, days, len);
    spec.p_active = 0.7;
    spec.port_churn = churn;
    spec.spread = rng.random_range(0.02..1.0);
    // Heavy-tailed rates: most small, a few huge.
    let u: f32 = rng.random();
    spec.rate = 5.0 + 40.0 / (u + 0.02).powf(1.2);
    let tools = [
        Tool::Masscan,
        Tool::Zmap,
        Tool::Nmap,
        Tool::Linux,
        Tool::Windows,
    ];
    // Never Tool::Mirai: a host with Mirai's fingerprint is Mirai-like in the ground truth.
    spec.tool = tools[rng.random_range(0..tools.len())];
    match rng.random_range(0..8) {
        0 => {
            // Worm / SMB and database scanning (445, 1433, 5555 dominate an Unknown day).
            let k = rng.random_range(1..=3);
            spec.components.push(syn(
                1.0,
                pick(rng, &[445, 5555, 1433, 139, 3389], k),
                Order::Random,
                1,
                AddrOrder::Random,
                4,
            ));
        }
        1 => {
            // Backscatter from a victim of spoofed floods.
            spec.components.push(Component {
                weight: 1.0,
                kind: Kind::Backscatter,
                ports: pick(rng, &[80, 443, 53, 22, 25, 3389, 27015], 1),
                order: Order::Random,
                retries: 1,
                addr: AddrOrder::Random,
                run: 10,
            });
            spec.spread = rng.random_range(0.01..0.2);
        }
        2 => {
            // Mirai-like without the fingerprint (variants that randomise the sequence).
            spec.tool = Tool::Linux;
            spec.components.push(syn(
                1.0,
                vec![23, 23, 23, 23, 2323, 5555, 23, 23],
                Order::Random,
                1,
                AddrOrder::Random,
                4,
            ));
        }
        3 => {
            // Brute-force look-alike with random order, as heavy and persistent as the class.
            let len = rng.random_range(days / 3..=days);
            (spec.first_day, spec.last_day) = window(rng, days, len);
            spec.rate = rng.random_range(300.0..2000.0);
            spec.spread = 0.9;
            let k = rng.random_range(1..=3);
            spec.components.push(syn(
                1.0,
                pick(rng, &LOGIN_TCP, k),
                Order::Random,
                rng.random_range(2..=5),
                AddrOrder::Random,
                6,
            ));
        }
        4 => {
            // Horizontal scanner of a few popular ports.
            let k = rng.random_range(1..=8);
            spec.components.push(syn(
                1.0,
                pick(rng, &POPULAR_TCP, k),
                Order::Random,
                1,
                AddrOrder::Random,
                5,
            ));
            spec.components
                .push(udp(0.2, pick(rng, &POPULAR_UDP, 2), Order::Random));
        }
        5 => {
            // Vertical scanner: many ports of a few addresses, ascending.
            let start = rng.random_range(1..60000);
            let n = rng.random_range(50..1000);
            spec.components.push(syn(
                1.0,
                (start..start + n).collect(),
                Order::Ascending,
                1,
                AddrOrder::Random,
                50,
            ));
        }
        6 => {
            // Wide random scanner (Censys look-alike without organisation).
            let n = rng.random_range(100..600);
            spec.components.push(syn(
                1.0,
                random_ports(rng, n),
                Order::Random,
                1,
                AddrOrder::Random,
                10,
            ));
        }
        _ => {
            // ICMP sweeps with some UDP.
            spec.components.push(icmp(0.7));
            spec.components
                .push(udp(0.3, pick(rng, &POPULAR_UDP, 3), Order::Random));
        }
    }
}

/// Label sets of the Paper A preset with their probabilities, as bit masks over
/// [`crate::label::PAPER_A_CATEGORIES`]
/// (bit 0 = 14, ..., bit 6 = 22). Chosen so that, over labelled hosts, Port Scan ≈ 87 %,
/// Hacking ≈ 55 %, Brute-Force ≈ 27 %, Web App Attack ≈ 12 %, SSH ≈ 11 %, Exploited Host ≈ 3 %,
/// Bad Web Bot ≈ 2.3 %, one label ≈ 50 %, mean ≈ 1.96 labels (Table I, Fig. 4).
pub(crate) const LABEL_SETS: [(u8, f32); 16] = [
    (0b000_0001, 0.430), // {14}
    (0b000_0010, 0.050), // {15}
    (0b000_0100, 0.005), // {18}
    (0b010_0000, 0.010), // {21}
    (0b000_1000, 0.005), // {19}
    (0b001_0000, 0.003), // {20}
    (0b000_0011, 0.105), // {14,15}
    (0b000_0111, 0.106), // {14,15,18}
    (0b100_0111, 0.100), // {14,15,18,22}
    (0b100_0110, 0.010), // {15,18,22}
    (0b000_0110, 0.027), // {15,18}
    (0b010_0011, 0.066), // {14,15,21}
    (0b010_0010, 0.020), // {15,21}
    (0b010_0111, 0.020), // {14,15,18,21}
    (0b000_1011, 0.018), // {14,15,19}
    (0b001_0011, 0.028), // {14,15,20}
];

/// Draws a label set from [`LABEL_SETS`].
pub(crate) fn draw_label_set<R: Rng>(rng: &mut R) -> u8 {
    let total: f32 = LABEL_SETS.iter().map(|s| s.1).sum();
    let mut u = rng.random::<f32>() * total;
    for &(m, p) in &LABEL_SETS {
        if u < p {
            return m;
        }
        u -= p;
    }
    LABEL_SETS[0].0
}

/// Paper A's own port pools (separate from the tables above so the Paper B preset's output
/// does not move). Login services (labels 14 and 18).
const LOGIN_A: [u16; 10] = [22, 23, 21, 25, 3389, 5900, 1433, 3306, 110, 143];
/// Web ports (labels 14, 19 and 21).
const WEB_A: [u16; 10] = [80, 443, 8080, 8443, 8000, 8888, 81, 8081, 8008, 3000];
/// Mixed services of label 15 Hacking.
const HACKING_A: [u16; 10] = [80, 8080, 445, 1433, 3306, 6379, 9200, 7547, 5555, 8443];
/// SSH ports of label 22 (hub 22 first).
const SSH_A: [u16; 6] = [22, 2222, 2200, 222, 2022, 8022];
/// UDP services any Paper A host may probe besides its TCP behaviours.
const UDP_A: [u16; 6] = [53, 123, 161, 1900, 137, 11211];

/// Smallest and largest number of distinct TCP ports of a Paper A host with labelled
/// behaviour; the number is drawn uniformly in this range INDEPENDENTLY of the label set and
/// shared out among the host's behaviours.
const PORT_BUDGET_A: (usize, usize) = (8, 12);

/// Probability that a Paper A host with labelled behaviour also probes UDP services,
/// independent of its labels.
const UDP_SHARE_A: f32 = 0.35;

/// One TCP behaviour of a Paper A host before its ports are drawn.
struct Plan {
    pool: &'static [u16],
    /// Port visited first and between the others (hub pattern), taken before the budget is
    /// shared out.
    hub: Option<u16>,
    order: Order,
    addr: AddrOrder,
    run: u8,
    ports: Vec<u16>,
}

/// Builds a Paper A host whose behaviour carries the labels of `mask` (0 = unlabelled host).
///
/// Label behaviours (docs/synthetic.md#paper-a-labels) and the ORDER design: Port Scan visits its
/// ports in random order; Brute-Force walks login ports as a fixed chain (with rare skips); SSH and
/// Bad Web Bot use a hub pattern (back to 22 / 80 between other ports); Web App Attack a fixed
/// chain over web ports; Hacking a fixed chain of mixed services at increasing addresses; Exploited
/// Host Mirai-family ports, UDP 5060/1900 and ICMP echo.
///
/// Aggregate matching: what an MLP on per-host statistics sees is drawn independently of the
/// label set, so that labels differing only by order are separated by the transition structure
/// (the host graph), not by counts. The host's rate, tool, activity, retry count (shared by all
/// its TCP behaviours) and number of distinct TCP ports ([`PORT_BUDGET_A`]) are drawn first;
/// the ports are then shared out round-robin among its TCP behaviours, drawn without
/// repetition from each behaviour's pool; UDP services are probed with the same probability
/// ([`UDP_SHARE_A`]) whatever the labels (in a chain for Hacking, at random otherwise). Only
/// Exploited Host keeps protocol and fingerprint marks of its own (UDP 5060/1900, ICMP,
/// Mirai's TCP sequence). Port identities still differ by label (web ports, 22-family,
/// Mirai-family), which the port embeddings see and the per-host statistics only see through
/// the port span.
pub(crate) fn paper_a_host<R: Rng>(
    rng: &mut R,
    mask: u8,
    addr: Ipv4Addr,
    days: u32,
    churn: f32,
) -> HostSpec {
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
        rate: 12.0 + 20.0 * rng.random::<f32>(),
        spread: rng.random_range(0.05..1.0),
        periodic: false,
        components: Vec::new(),
        port_churn: 0.0,
        sweep_continues: true,
        daily_ports: 0,
    };
    let len = if rng.random::<f32>() < churn {
        rng.random_range(2..=days.max(2))
    } else {
        days
    };
    (spec.first_day, spec.last_day) = window(rng, days, len);
    if mask == 0 {
        unlabelled_a(rng, &mut spec);
        return spec;
    }
    // Host-level aggregates, drawn before and independently of the labels.
    let retries = rng.random_range(1..=3u8);
    let budget = rng.random_range(PORT_BUDGET_A.0..=PORT_BUDGET_A.1);
    let with_udp = rng.random::<f32>() < UDP_SHARE_A;
    let plan = |pool: &'static [u16], hub: Option<u16>, order, addr, run| Plan {
        pool,
        hub,
        order,
        addr,
        run,
        ports: Vec::new(),
    };
    let mut plans: Vec<Plan> = Vec::new();
    if mask & 1 != 0 {
        // 14 Port Scan: random order over login, web or popular ports.
        let pool: &'static [u16] = match rng.random_range(0..3) {
            0 => &LOGIN_A,
            1 => &WEB_A,
            _ => &POPULAR_TCP,
        };
        plans.push(plan(pool, None, Order::Random, AddrOrder::Random, 4));
    }
    if mask & 2 != 0 {
        // 15 Hacking: a fixed chain of mixed services at increasing addresses.
        plans.push(plan(
            &HACKING_A,
            None,
            Order::Chain,
            AddrOrder::Sequential,
            6,
        ));
    }
    if mask & 4 != 0 {
        // 18 Brute-Force: a fixed chain over login ports.
        plans.push(plan(&LOGIN_A, None, Order::Chain, AddrOrder::Random, 8));
    }
    if mask & 8 != 0 {
        // 19 Bad Web Bot: hub around 80 (80, x, 80, y, ...).
        plans.push(plan(
            &WEB_A,
            Some(80),
            Order::Alternate,
            AddrOrder::Random,
            4,
        ));
    }
    if mask & 16 != 0 {
        // 20 Exploited Host: Mirai-family TCP (its UDP and ICMP below).
        spec.tool = if rng.random::<f32>() < 0.7 {
            Tool::Mirai
        } else {
            Tool::Linux
        };
        plans.push(plan(&IOT_TCP, None, Order::Random, AddrOrder::Random, 4));
    }
    if mask & 32 != 0 {
        // 21 Web App Attack: a fixed chain over web ports.
        plans.push(plan(&WEB_A, None, Order::Chain, AddrOrder::Random, 6));
    }
    if mask & 64 != 0 {
        // 22 SSH: hub around 22 (22, 2222, 22, 2200, ...).
        plans.push(plan(
            &SSH_A,
            Some(22),
            Order::Alternate,
            AddrOrder::Random,
            6,
        ));
    }
    share_ports(rng, &mut plans, budget);
    for p in plans {
        if p.ports.is_empty() {
            continue;
        }
        let w = 0.5 + rng.random::<f32>();
        spec.components
            .push(syn(w, p.ports, p.order, retries, p.addr, p.run));
    }
    if mask & 16 != 0 {
        spec.components
            .push(udp(0.4, vec![5060, 1900], Order::Random));
        spec.components.push(icmp(0.2));
    }
    if with_udp {
        let k = rng.random_range(2..=3);
        let order = if mask & 2 != 0 {
            Order::Chain
        } else {
            Order::Random
        };
        spec.components.push(udp(0.3, pick(rng, &UDP_A, k), order));
    }
    spec
}

/// Shares `budget` distinct TCP ports out among `plans`: hub ports first, then one port per
/// plan in turn (plans in a random order), each drawn uniformly from the plan's pool among the
/// ports no plan holds yet, until the budget is spent or every pool is exhausted.
fn share_ports<R: Rng>(rng: &mut R, plans: &mut [Plan], budget: usize) {
    let mut taken: Vec<u16> = Vec::with_capacity(budget);
    for p in plans.iter_mut() {
        if let Some(h) = p.hub {
            if !taken.contains(&h) {
                taken.push(h);
                p.ports.push(h);
            }
        }
    }
    let mut turn: Vec<usize> = (0..plans.len()).collect();
    turn.shuffle(rng);
    let mut free: Vec<u16> = Vec::new();
    loop {
        let mut progress = false;
        for &i in &turn {
            if taken.len() >= budget {
                return;
            }
            free.clear();
            free.extend(plans[i].pool.iter().filter(|p| !taken.contains(p)));
            if free.is_empty() {
                continue;
            }
            let port = free[rng.random_range(0..free.len())];
            taken.push(port);
            plans[i].ports.push(port);
            progress = true;
        }
        if !progress {
            return;
        }
    }
}

/// Unlabelled Paper A hosts: look-alikes of labelled behaviours that nobody reported, and the
/// traffic the three filters remove (single packets, vertical scans, periodic walks).
fn unlabelled_a<R: Rng>(rng: &mut R, spec: &mut HostSpec) {
    match rng.random_range(0..10) {
        kind @ 0..=4 => background_a(rng, spec, kind),
        _ => {
            // A labelled behaviour that was never reported (the hardest confounder).
            let m = draw_label_set(rng);
            let mut other = paper_a_host(rng, m, spec.addr, spec.last_day + 1, 0.0);
            other.first_day = spec.first_day;
            other.last_day = spec.last_day;
            *spec = other;
        }
    }
}

/// Unlabelled background traffic the Paper A filters remove or that carries no label:
/// `kind` 0 or 1 an isolated packet, 2 a vertical scanner, 3 a strictly periodic walker,
/// 4 backscatter.
pub(crate) fn background_a<R: Rng>(rng: &mut R, spec: &mut HostSpec, kind: u32) {
    match kind {
        0 | 1 => {
            // Isolated: one packet on one day.
            spec.rate = 0.0;
            let d = rng.random_range(spec.first_day..=spec.last_day);
            (spec.first_day, spec.last_day) = (d, d);
            spec.p_active = 1.0;
            spec.components.push(syn(
                1.0,
                pick(rng, &POPULAR_TCP, 1),
                Order::Random,
                1,
                AddrOrder::Random,
                1,
            ));
        }
        2 => {
            // Vertical scanner.
            let start = rng.random_range(1..60000);
            spec.rate = 200.0;
            spec.components.push(syn(
                1.0,
                (start..start + 300).collect(),
                Order::Ascending,
                1,
                AddrOrder::Random,
                50,
            ));
        }
        3 => {
            // Periodic walker: a fixed cycle of 2-4 ports, nothing else.
            let k = rng.random_range(2..=4);
            spec.components.push(syn(
                1.0,
                pick(rng, &POPULAR_TCP, k),
                Order::Chain,
                1,
                AddrOrder::Random,
                50,
            ));
            spec.periodic = true;
        }
        _ => {
            spec.components.push(Component {
                weight: 1.0,
                kind: Kind::Backscatter,
                ports: pick(rng, &[80, 443, 53, 22], 1),
                order: Order::Random,
                retries: 1,
                addr: AddrOrder::Random,
                run: 10,
            });
        }
    }
}
