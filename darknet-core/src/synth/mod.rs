//! The built-in synthetic darknet: seeded darknet traffic with ground truth, so every example,
//! test and benchmark runs on a fresh machine with no download.
//!
//! # What it simulates
//! A darknet prefix (default /24 for Paper B, /20 for Paper A, inside the benchmarking range
//! 198.18.0.0/15 so captures are recognisably synthetic) over N days, with the source classes
//! of docs/synthetic.md:
//! - known scanner organisations (Censys, Shodan, Shadowserver, Driftnet, Rapid7, Onyphe, ...)
//!   drawn from a few /24 prefixes each (docs/synthetic.md#paper-b-classes); see
//!   [`SyntheticDarknet::known_scanners`];
//! - Mirai-like bots (TCP sequence = destination address, TTL 64, no options, 23/tcp with
//!   2323 on about one probe in ten, short lives), brute-forcers (chains of login ports with
//!   retries), spammers, exploiters, horizontal and vertical scanners, worms, backscatter
//!   (SYN-ACK / RST-ACK from the service port of a victim of spoofed floods, ICMP errors),
//!   and an unlabelled background that mixes all of these;
//! - per-tool fingerprints ([`Tool`]): masscan, ZMap (IP ID 54321), nmap, Mirai, Linux and
//!   Windows stacks (TTL, window, options, IP ID);
//! - churn: hosts come and go (activity windows, a daily activity probability) and change
//!   ports from day to day;
//! - label noise: Paper B hosts whose behaviour is drawn from another class than their label;
//!   Paper A labels recovered from AbuseIPDB-style reports where noise drops a report of a true
//!   category or adds two of a false one.
//!
//! # Presets
//! [`SynthConfig::paper_a`]: /20, March 2021, multi-label hosts over the 7 categories of
//! Table I with its frequencies (≈ 50 % single label, mean ≈ 1.96 labels), reports such that
//! the ≥ 2 reports rule recovers the labels, and unlabelled hosts (including the single-packet,
//! vertical-scan and periodic hosts the Paper A filters remove).
//! [`SynthConfig::paper_b`]: /24, 31 days from 2021-12-01, the 14 classes of Table 2 plus an
//! Unknown majority, `ip,class` ground truth, organisations in a few prefixes each.
//!
//! # Robustness presets: breaking our own assumptions
//! The Paper A preset was built so that several labels differ only by packet order, which
//! favours graph models. Real labels differ by order and by aggregates at once. Four presets
//! break that assumption; a model is only trusted if it holds up on all of them. Each labels
//! hosts with Paper A's 7 categories through reports with label noise (default 0.1), and
//! half of its unlabelled hosts are unreported look-alikes: they behave exactly like labelled
//! hosts (same generator, same label-set table) but nobody reported them. The other half is
//! background (isolated packets, vertical scans, periodic walks, backscatter). In the
//! `ip,class` ground truth a labelled host's class is its first label (`port_scan`, ...).
//! - [`Preset::OrderOnly`] (`order-only`): labels differ ONLY by the order of probes. A
//!   host's rate, tool, retries, number of distinct ports, ports (one shared pool), UDP and
//!   ICMP components are drawn once per host from one distribution whatever its labels; each
//!   label visits its share of the ports by its own rule (random, fixed cycle, hub,
//!   back-and-forth path, pairs, runs, ascending cycle). Tests whether a graph model uses the
//!   order, and shows what a model on per-host statistics gets from aggregates alone
//!   (nothing beyond label frequencies).
//! - [`Preset::AggregateOnly`] (`aggregate-only`): labels differ ONLY by aggregates (number
//!   of distinct ports, rate, retries, UDP and ICMP shares); every label visits its ports at
//!   random from the shared pool. Tests whether a graph model can still read counts, where a
//!   per-host statistics model should win.
//! - [`Preset::OrderAndAggregate`] (`order-and-aggregate`): each label has its own order and
//!   an aggregate profile halfway to its aggregate-only one: each view alone is weaker than
//!   both together. Where a hybrid model should lead.
//! - [`Preset::ShiftedMix`] (`shifted-mix`): Paper A's behaviours, but the default's rare
//!   labels common (Brute-Force, SSH, Web App Attack, Exploited Host) and Port Scan rare;
//!   rates scaled by a heavy-tailed factor (0.2× to 10×) in short bursts; 40 % of hosts
//!   labelled. Tests whether a model and its thresholds survive another class balance and
//!   other rates.
//! - [`Preset::PaperBDrift`] (`paper-b-drift`, [`SynthConfig::paper_b_drift`]): Paper B's
//!   14 classes + Unknown where the `paper-b` preset is easy for embeddings judged by kNN:
//!   research scanners (Shadowserver, Internetcensus, Rapid7, Onyphe, Securitytrails,
//!   Intrinsec) probe 1 to 4 ports a day, drawn afresh every day; a quarter of the Unknown
//!   hosts are unlabelled look-alikes that behave exactly as brute-forcers or spammers; label
//!   noise 0.15, churn 0.5, and another class mix (Mirai 8 % instead of 20 %, the research
//!   scanners and `unk_*` classes more common). Tests whether Paper B's embeddings hold up
//!   when ports stop identifying a scanner and a class's behaviour is not its own.
//!
//! Select a preset by name with [`SynthConfig::preset_named`] (or
//! `synth --preset order-only`); [`SynthConfig::for_preset`] gives its defaults.
//!
//! # Why it is hard, and why order matters (Paper A)
//! Labels are not separable by any single per-host statistic: every class has look-alikes
//! among unlabelled hosts (same ports, same tools), rates are drawn per host and per day, hosts
//! come and go, and labels are noisy. Several Paper A labels differ ONLY in the order of a
//! host's packets, which a host graph sees (its edges are consecutive-packet transitions) and
//! an MLP on per-host aggregates does not:
//! - Port Scan (14) visits its ports in random order (a dense transition graph), Brute-Force
//!   (18) walks login ports as a fixed chain (a cycle graph); Port Scan hosts often scan
//!   exactly the login ports;
//! - Web App Attack (21) walks web ports as a chain, Bad Web Bot (19) uses a hub pattern
//!   (80, x, 80, y, ...: a star graph), Port Scan over web ports is random;
//! - Hacking (15) walks mixed services as a chain at addresses that keep increasing from day
//!   to day (a sweep), which the host graph's address-order feature sees;
//! - SSH (22) is a hub around 22.
//!
//! For this to hold for whole hosts, not only for single behaviours, a Paper A host's
//! aggregates are drawn BEFORE and independently of its label set: rate, tool, activity, one
//! retry count for all its TCP behaviours, the number of distinct TCP ports (8 to 12, shared
//! out among its behaviours, so a host with three labels probes as many ports as a host with
//! one) and whether it also probes UDP services. So the distinct-port count, packets per
//! address, protocol shares and flag shares an MLP on per-host statistics reads have the same
//! distribution with and without each of the labels above; only Exploited Host (20) keeps
//! protocol and fingerprint marks of its own (UDP 5060/1900, ICMP echo, Mirai's sequence
//! numbers), and port identities (web ports, the 22 family) still differ, which the port
//! embeddings can see and per-host statistics only through the port span.
//!
//! Chains skip a step now and then (1 in 32) so they are not the strictly periodic walks Paper A's third
//! filter removes (docs/choices.md#a3); the periodic walkers among unlabelled hosts are strict.
//!
//! # Determinism and speed
//! Every host and every (host, day) draws from its own `ChaCha8Rng` seeded from the
//! configuration seed, so days can be generated in any order and in parallel (rayon) and the
//! output is the same bytes on every machine. Nothing iterates a hash map. A day is generated
//! at a time ([`SyntheticDarknet::day`]), so memory follows one day, not the month.
//!
//! # Example
//! ```
//! use darknet_core::{SynthConfig, Trace};
//!
//! let darknet = SynthConfig::paper_b().hosts(300).days(2).seed(1).build()?;
//! let day0 = darknet.day(0);
//! assert!(day0.windows(2).all(|w| w[0].ts_ns <= w[1].ts_ns));
//! // Same seed, same packets.
//! assert_eq!(day0, SynthConfig::paper_b().hosts(300).days(2).seed(1).build()?.day(0));
//! // Ground truth: `ip,class` rows and known-scanner prefixes.
//! let gt = darknet.ground_truth();
//! let censys = gt.rows().iter().find(|r| r.1 == "censys").unwrap();
//! assert_eq!(darknet.known_scanners().lookup(censys.0), Some("censys"));
//! let trace: Trace = darknet.trace();
//! assert_eq!(trace.days(0).len(), 2);
//! # Ok::<(), darknet_core::CoreError>(())
//! ```

mod behaviour;
mod drift;
mod fingerprint;
mod population;
mod robust;

pub use crate::label::AbuseReport;
pub use fingerprint::Tool;

use crate::error::{CoreError, Result};
use crate::label::{
    labels_from_reports, GroundTruth, Ipv4Prefix, KnownScanners, LabelRule, MultiLabels,
    PAPER_A_CATEGORIES as CATEGORIES,
};
use crate::packet::{Packet, NANOS_PER_DAY};
use crate::trace::Trace;
use behaviour::HostSpec;
use population::PAPER_B_CLASSES;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::collections::BTreeSet;
use std::net::Ipv4Addr;

/// Which setting a synthetic darknet imitates: one of the papers' (the generator's defaults),
/// or a robustness preset that breaks one of their assumptions (see the module doc).
/// Selectable by name ([`Preset::from_str`](std::str::FromStr), [`SynthConfig::preset_named`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Preset {
    /// Paper A: multi-label AbuseIPDB categories, /20, a month (`paper-a`).
    PaperA,
    /// Paper B: 14 classes + Unknown, /24, 31 days (`paper-b`).
    PaperB,
    /// Paper A's labels differing ONLY by the order of a host's probes (`order-only`).
    OrderOnly,
    /// Paper A's labels differing ONLY by per-host aggregates: ports, rates, retries,
    /// protocols (`aggregate-only`).
    AggregateOnly,
    /// Paper A's labels differing by order and by aggregates, each weaker
    /// (`order-and-aggregate`).
    OrderAndAggregate,
    /// Paper A's behaviours with another mix of labels (the default's rare labels common),
    /// heavy-tailed bursty rates and fewer labelled hosts (`shifted-mix`).
    ShiftedMix,
    /// Paper B's classes with research scanners on small, daily-changing port sets, unlabelled
    /// brute-forcer and spammer look-alikes, more label noise and another class mix
    /// (`paper-b-drift`).
    PaperBDrift,
}

impl Preset {
    /// Every preset, in declaration order.
    pub const ALL: [Preset; 7] = [
        Preset::PaperA,
        Preset::PaperB,
        Preset::OrderOnly,
        Preset::AggregateOnly,
        Preset::OrderAndAggregate,
        Preset::ShiftedMix,
        Preset::PaperBDrift,
    ];

    /// The preset's name on command lines (`paper-a`, `order-only`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Preset::PaperA => "paper-a",
            Preset::PaperB => "paper-b",
            Preset::OrderOnly => "order-only",
            Preset::AggregateOnly => "aggregate-only",
            Preset::OrderAndAggregate => "order-and-aggregate",
            Preset::ShiftedMix => "shifted-mix",
            Preset::PaperBDrift => "paper-b-drift",
        }
    }

    /// Whether hosts carry Paper A multi-labels recovered from AbuseIPDB-style reports (every
    /// preset but Paper B's two); Paper B's hosts carry one class each.
    pub fn is_multilabel(self) -> bool {
        !self.is_paper_b()
    }

    /// Whether hosts carry one of Paper B's classes (`paper-b`, `paper-b-drift`).
    pub fn is_paper_b(self) -> bool {
        matches!(self, Preset::PaperB | Preset::PaperBDrift)
    }

    /// The robustness contrast of the preset, if it is one of the three.
    fn contrast(self) -> Option<robust::Contrast> {
        match self {
            Preset::OrderOnly => Some(robust::Contrast::Order),
            Preset::AggregateOnly => Some(robust::Contrast::Aggregate),
            Preset::OrderAndAggregate => Some(robust::Contrast::Both),
            _ => None,
        }
    }
}

impl std::fmt::Display for Preset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Preset {
    type Err = CoreError;
    /// Parses a preset name ([`Preset::name`]; `a` and `b` are accepted for the papers).
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "a" => return Ok(Preset::PaperA),
            "b" => return Ok(Preset::PaperB),
            _ => {}
        }
        Preset::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| CoreError::InvalidConfig {
                field: "preset",
                value: s.to_string(),
                reason: format!(
                    "expected one of {}",
                    Preset::ALL.map(Preset::name).join(", ")
                ),
            })
    }
}

/// Configuration of the synthetic darknet (a builder; start from [`SynthConfig::paper_a`] or
/// [`SynthConfig::paper_b`], adjust with the chained setters, then [`SynthConfig::build`]).
#[derive(Clone, Debug, PartialEq)]
pub struct SynthConfig {
    /// Population and label style.
    pub preset: Preset,
    /// Darknet network address (default 198.18.0.0 for Paper A, 198.18.16.0 for Paper B).
    pub prefix_addr: Ipv4Addr,
    /// Darknet prefix length, 8..=30 (default 20 for Paper A, 24 for Paper B).
    pub prefix_len: u8,
    /// First day, in days since 1970-01-01 UTC (default 2021-03-01 for A, 2021-12-01 for B).
    pub start_day: u32,
    /// Number of days, ≥ 1 (default 31 for both).
    pub days: u32,
    /// Seed of every random choice (default 7).
    pub seed: u64,
    /// Number of source hosts over the whole period, ≥ 1 (default 2,000 for A, 3,000 for B).
    pub n_hosts: usize,
    /// Packet-rate scale applied to every host's daily rate, > 0 (default 1.0 for A, 0.1 for
    /// B, whose published rates are hundreds of packets per host and day).
    pub intensity: f64,
    /// Label-noise rate in [0, 0.5] (default 0.05): Paper B hosts behaving like another
    /// class; Paper A reports dropped or added.
    pub label_noise: f64,
    /// Churn in [0, 1] (default 0.3): how often hosts start late / stop early and change ports.
    pub churn: f64,
    /// Paper A only: fraction of hosts carrying a label set, (0, 1] (default 0.6).
    pub labelled_fraction: f64,
}

impl SynthConfig {
    /// The Paper A preset (see the module doc).
    pub fn paper_a() -> Self {
        SynthConfig {
            preset: Preset::PaperA,
            prefix_addr: Ipv4Addr::new(198, 18, 0, 0),
            prefix_len: 20,
            start_day: 18_687, // 2021-03-01
            days: 31,
            seed: 7,
            n_hosts: 2_000,
            intensity: 1.0,
            label_noise: 0.05,
            churn: 0.3,
            labelled_fraction: 0.6,
        }
    }

    /// The Paper B preset (see the module doc).
    pub fn paper_b() -> Self {
        SynthConfig {
            preset: Preset::PaperB,
            prefix_addr: Ipv4Addr::new(198, 18, 16, 0),
            prefix_len: 24,
            start_day: 18_962, // 2021-12-01
            days: 31,
            seed: 7,
            n_hosts: 3_000,
            intensity: 0.1,
            label_noise: 0.05,
            churn: 0.3,
            labelled_fraction: 1.0,
        }
    }

    /// The `paper-b-drift` preset: [`SynthConfig::paper_b`]'s /24 month with label noise 0.15
    /// and churn 0.5 (see the module doc).
    pub fn paper_b_drift() -> Self {
        SynthConfig {
            preset: Preset::PaperBDrift,
            label_noise: drift::LABEL_NOISE,
            churn: drift::CHURN,
            ..SynthConfig::paper_b()
        }
    }

    /// The configuration of `preset` with its defaults: the papers' as
    /// [`SynthConfig::paper_a`] and [`SynthConfig::paper_b`]; the robustness presets start from
    /// Paper A's (/20, March 2021, 2,000 hosts) with label noise 0.1 and half the hosts
    /// labelled, the shifted mix with 40 % labelled.
    pub fn for_preset(preset: Preset) -> Self {
        match preset {
            Preset::PaperA => SynthConfig::paper_a(),
            Preset::PaperB => SynthConfig::paper_b(),
            Preset::PaperBDrift => SynthConfig::paper_b_drift(),
            Preset::ShiftedMix => SynthConfig {
                preset,
                label_noise: 0.1,
                labelled_fraction: 0.4,
                ..SynthConfig::paper_a()
            },
            _ => SynthConfig {
                preset,
                label_noise: 0.1,
                labelled_fraction: 0.5,
                ..SynthConfig::paper_a()
            },
        }
    }

    /// The configuration of the preset called `name` (see [`Preset::name`]).
    ///
    /// # Errors
    /// [`CoreError::InvalidConfig`] (field `preset`) for an unknown name, listing the known
    /// ones.
    ///
    /// ```
    /// use darknet_core::{Preset, SynthConfig};
    /// let cfg = SynthConfig::preset_named("order-only")?.hosts(200).days(2);
    /// assert_eq!(cfg.preset, Preset::OrderOnly);
    /// let darknet = cfg.build()?;
    /// assert!(darknet.multilabels().masks.iter().any(|&m| m != 0));
    /// assert!(SynthConfig::preset_named("order-olny").is_err());
    /// # Ok::<(), darknet_core::CoreError>(())
    /// ```
    pub fn preset_named(name: &str) -> Result<Self> {
        Ok(SynthConfig::for_preset(name.parse()?))
    }

    /// Sets the darknet prefix (network address and length).
    pub fn prefix(mut self, addr: Ipv4Addr, len: u8) -> Self {
        self.prefix_addr = addr;
        self.prefix_len = len;
        self
    }
    /// Sets the first day (days since 1970-01-01 UTC; see [`crate::parse_day_label`]).
    pub fn start_day(mut self, day: u32) -> Self {
        self.start_day = day;
        self
    }
    /// Sets the number of days.
    pub fn days(mut self, days: u32) -> Self {
        self.days = days;
        self
    }
    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Sets the number of hosts.
    pub fn hosts(mut self, n_hosts: usize) -> Self {
        self.n_hosts = n_hosts;
        self
    }
    /// Sets the packet-rate scale.
    pub fn intensity(mut self, intensity: f64) -> Self {
        self.intensity = intensity;
        self
    }
    /// Sets the label-noise rate.
    pub fn label_noise(mut self, rate: f64) -> Self {
        self.label_noise = rate;
        self
    }
    /// Sets the churn.
    pub fn churn(mut self, churn: f64) -> Self {
        self.churn = churn;
        self
    }
    /// Sets the labelled fraction (Paper A).
    pub fn labelled_fraction(mut self, f: f64) -> Self {
        self.labelled_fraction = f;
        self
    }

    /// Checks every field.
    ///
    /// # Errors
    /// [`CoreError::InvalidConfig`] naming the first bad field.
    pub fn validate(&self) -> Result<()> {
        let bad = |field: &'static str, value: String, reason: &str| {
            Err(CoreError::InvalidConfig {
                field,
                value,
                reason: reason.to_string(),
            })
        };
        if !(8..=30).contains(&self.prefix_len) {
            return bad(
                "prefix_len",
                self.prefix_len.to_string(),
                "must be in 8..=30",
            );
        }
        let mask = u32::MAX << (32 - self.prefix_len);
        if u32::from(self.prefix_addr) & !mask != 0 {
            return bad(
                "prefix_addr",
                self.prefix_addr.to_string(),
                "has host bits set for the prefix length",
            );
        }
        if self.days == 0 || self.days > 3660 {
            return bad("days", self.days.to_string(), "must be in 1..=3660");
        }
        if self.start_day > 100_000 {
            return bad("start_day", self.start_day.to_string(), "must be ≤ 100000");
        }
        if self.n_hosts == 0 || self.n_hosts > 50_000_000 {
            return bad(
                "n_hosts",
                self.n_hosts.to_string(),
                "must be in 1..=50000000",
            );
        }
        if !(self.intensity > 0.0 && self.intensity <= 1e4) {
            return bad(
                "intensity",
                self.intensity.to_string(),
                "must be in (0, 1e4]",
            );
        }
        if !(0.0..=0.5).contains(&self.label_noise) {
            return bad(
                "label_noise",
                self.label_noise.to_string(),
                "must be in [0, 0.5]",
            );
        }
        if !(0.0..=1.0).contains(&self.churn) {
            return bad("churn", self.churn.to_string(), "must be in [0, 1]");
        }
        if !(self.labelled_fraction > 0.0 && self.labelled_fraction <= 1.0) {
            return bad(
                "labelled_fraction",
                self.labelled_fraction.to_string(),
                "must be in (0, 1]",
            );
        }
        Ok(())
    }

    /// Validates and generates the host population (packets are generated lazily, per day).
    ///
    /// # Errors
    /// [`CoreError::InvalidConfig`] as in [`SynthConfig::validate`].
    pub fn build(&self) -> Result<SyntheticDarknet> {
        SyntheticDarknet::new(self)
    }
}

impl Default for SynthConfig {
    /// The Paper B preset.
    fn default() -> Self {
        SynthConfig::paper_b()
    }
}

/// Paper B's class labels in Table 2 order, as the reference code spells them (`unknown` last).
pub const PAPER_B_CLASSES_NAMES: [&str; 15] = [
    "mirai",
    "unk_bruteforcer",
    "unk_spammer",
    "shadowserver",
    "driftnet",
    "internetcensus",
    "censys",
    "rapid7",
    "onyphe",
    "netsystems",
    "shodan",
    "unk_exploiter",
    "securitytrails",
    "intrinsec",
    "unknown",
];

/// Ground truth of one synthetic host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostTruth {
    /// Source address.
    pub addr: Ipv4Addr,
    /// Paper B class label (one of [`PAPER_B_CLASSES_NAMES`]); for Paper A hosts `labelled`
    /// or `unlabelled`; for the robustness presets the first recovered label in snake case
    /// (`port_scan`, ..., `ssh`) or `unlabelled`.
    pub class: &'static str,
    /// Organisation of a known scanner (the class name of scanner classes), else `None`.
    pub organization: Option<&'static str>,
    /// Paper A labels recovered from the reports by the ≥ 2 reports rule: bit `k` set = label
    /// [`crate::label::PAPER_A_CATEGORIES`]`[k]`. 0 for Paper B hosts and unlabelled hosts.
    pub labels: u8,
    /// Paper A labels of the host's actual behaviour (before report noise).
    pub behaviour_labels: u8,
    /// The tool / stack whose fingerprint its packets carry.
    pub tool: Tool,
    /// First and last day (indices from the start day) the host may be active.
    pub active_days: (u32, u32),
}

impl HostTruth {
    /// The Paper A label vector, `[f32; 7]` in [`crate::label::PAPER_A_CATEGORIES`] order (1.0 = label set).
    pub fn label_vector(&self) -> [f32; 7] {
        std::array::from_fn(|k| f32::from(self.labels >> k & 1))
    }

    /// The host's Paper B class as a type: `Some` for the hosts of the Paper B preset (a
    /// Paper B class or [`crate::class::PaperBClass::Unknown`]), `None` for the multi-label
    /// presets, whose hosts are described by [`HostTruth::categories`] instead.
    pub fn paper_b_class(&self) -> Option<crate::class::PaperBClass> {
        PAPER_B_CLASSES_NAMES
            .contains(&self.class)
            .then(|| crate::class::PaperBClass::parse(self.class))
    }

    /// The Paper A categories recovered from the host's reports (bit `k` of
    /// [`HostTruth::labels`] is `categories()` containing the `k`-th of
    /// [`crate::label::Category::PAPER_A`]), in that order.
    pub fn categories(&self) -> Vec<crate::label::Category> {
        crate::label::Category::PAPER_A
            .into_iter()
            .enumerate()
            .filter(|(k, _)| self.labels >> k & 1 == 1)
            .map(|(_, c)| c)
            .collect()
    }
}

/// A seeded synthetic darknet: hosts with ground truth, packets generated one day at a time.
#[derive(Clone, Debug)]
pub struct SyntheticDarknet {
    config: SynthConfig,
    specs: Vec<HostSpec>,
    truth: Vec<HostTruth>,
    reports: Vec<AbuseReport>,
}

/// SplitMix64 step: a good 64-bit mixer for deriving per-host and per-day seeds.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl SyntheticDarknet {
    /// Generates the host population of `config`.
    ///
    /// # Errors
    /// [`CoreError::InvalidConfig`] as in [`SynthConfig::validate`].
    pub fn new(config: &SynthConfig) -> Result<Self> {
        config.validate()?;
        let mut rng = ChaCha8Rng::seed_from_u64(mix(config.seed ^ 0x5EED_0001));
        let days = config.days;
        let churn = config.churn as f32;
        let mut used = BTreeSet::new();
        let mut specs = Vec::with_capacity(config.n_hosts);
        let mut truth = Vec::with_capacity(config.n_hosts);
        let mut reports = Vec::new();
        match config.preset {
            Preset::PaperB | Preset::PaperBDrift => {
                let drifting = config.preset == Preset::PaperBDrift;
                let counts = if drifting {
                    drift::drift_counts(config.n_hosts)
                } else {
                    paper_b_counts(config.n_hosts)
                };
                for (class, &count) in counts.iter().enumerate() {
                    let def = &PAPER_B_CLASSES[class];
                    let addrs = if def.prefixes.is_empty() {
                        (0..count)
                            .map(|_| loop {
                                let a = population::random_public(&mut rng);
                                if used.insert(u32::from(a)) {
                                    break a;
                                }
                            })
                            .collect::<Vec<_>>()
                    } else {
                        org_addresses(&mut rng, def.prefixes, count, &mut used)
                    };
                    for addr in addrs {
                        let mut hrng = ChaCha8Rng::seed_from_u64(mix(rng.random()));
                        let behaves = if hrng.random::<f64>() < config.label_noise {
                            hrng.random_range(0..PAPER_B_CLASSES.len())
                        } else {
                            class
                        };
                        let spec = if drifting {
                            drift::drift_host(&mut hrng, behaves, addr, days, churn)
                        } else {
                            population::paper_b_host(&mut hrng, behaves, addr, days, churn)
                        };
                        truth.push(HostTruth {
                            addr,
                            class: def.label,
                            organization: (!def.prefixes.is_empty()).then_some(def.label),
                            labels: 0,
                            behaviour_labels: 0,
                            tool: spec.tool,
                            active_days: (spec.first_day, spec.last_day),
                        });
                        specs.push(spec);
                    }
                }
            }
            Preset::PaperA => {
                for _ in 0..config.n_hosts {
                    let addr = loop {
                        let a = population::random_public(&mut rng);
                        if used.insert(u32::from(a)) {
                            break a;
                        }
                    };
                    let mut hrng = ChaCha8Rng::seed_from_u64(mix(rng.random()));
                    let mask = if hrng.random::<f64>() < config.labelled_fraction {
                        population::draw_label_set(&mut hrng)
                    } else {
                        0
                    };
                    let spec = population::paper_a_host(&mut hrng, mask, addr, days, churn);
                    let host_reports = paper_a_reports(
                        &mut hrng,
                        addr,
                        mask,
                        config.label_noise,
                        config.start_day + spec.first_day,
                        config.start_day + spec.last_day,
                    );
                    let labels = labels_from_reports(&host_reports, &LabelRule::default())
                        .masks
                        .first()
                        .copied()
                        .unwrap_or(0);
                    reports.extend(host_reports);
                    truth.push(HostTruth {
                        addr,
                        class: if labels != 0 {
                            "labelled"
                        } else {
                            "unlabelled"
                        },
                        organization: None,
                        labels,
                        behaviour_labels: mask,
                        tool: spec.tool,
                        active_days: (spec.first_day, spec.last_day),
                    });
                    specs.push(spec);
                }
                reports.sort();
            }
            preset => {
                // Robustness presets: Paper A-style labels from reports; unlabelled hosts are
                // half unreported look-alikes, half background.
                let sets: &[(u8, f32)] = if preset.contrast().is_some() {
                    &robust::ROBUST_LABEL_SETS
                } else {
                    &robust::SHIFTED_LABEL_SETS
                };
                for _ in 0..config.n_hosts {
                    let addr = loop {
                        let a = population::random_public(&mut rng);
                        if used.insert(u32::from(a)) {
                            break a;
                        }
                    };
                    let mut hrng = ChaCha8Rng::seed_from_u64(mix(rng.random()));
                    let labelled = hrng.random::<f64>() < config.labelled_fraction;
                    let lookalike = !labelled && hrng.random::<f32>() < robust::LOOKALIKE_SHARE;
                    let mask = if labelled || lookalike {
                        robust::draw_set(&mut hrng, sets)
                    } else {
                        0
                    };
                    let spec = match (mask, preset.contrast()) {
                        (0, _) => robust::background_host(&mut hrng, addr, days, churn),
                        (m, Some(c)) => robust::robust_host(&mut hrng, c, m, addr, days, churn),
                        (m, None) => robust::shifted_host(&mut hrng, m, addr, days, churn),
                    };
                    let host_reports = paper_a_reports(
                        &mut hrng,
                        addr,
                        if lookalike { 0 } else { mask },
                        config.label_noise,
                        config.start_day + spec.first_day,
                        config.start_day + spec.last_day,
                    );
                    let labels = labels_from_reports(&host_reports, &LabelRule::default())
                        .masks
                        .first()
                        .copied()
                        .unwrap_or(0);
                    reports.extend(host_reports);
                    truth.push(HostTruth {
                        addr,
                        class: robust::class_name(labels),
                        organization: None,
                        labels,
                        behaviour_labels: mask,
                        tool: spec.tool,
                        active_days: (spec.first_day, spec.last_day),
                    });
                    specs.push(spec);
                }
                reports.sort();
            }
        }
        Ok(SyntheticDarknet {
            config: config.clone(),
            specs,
            truth,
            reports,
        })
    }

    /// The configuration it was built from.
    pub fn config(&self) -> &SynthConfig {
        &self.config
    }

    /// Ground truth, one row per host (in generation order: class by class for Paper B).
    pub fn hosts(&self) -> &[HostTruth] {
        &self.truth
    }

    /// AbuseIPDB-style reports (every multi-label preset; empty for Paper B), sorted by
    /// (ip, ...).
    pub fn reports(&self) -> &[AbuseReport] {
        &self.reports
    }

    /// Number of days.
    pub fn n_days(&self) -> u32 {
        self.config.days
    }

    /// The darknet's addresses as `(first address, count)`.
    pub fn darknet(&self) -> (Ipv4Addr, u32) {
        (
            self.config.prefix_addr,
            1u32 << (32 - self.config.prefix_len),
        )
    }

    /// Known scanner organisations and their prefixes (Paper B's scanner classes; the same
    /// table for both presets), for the `prefix,organization` file.
    pub fn known_scanners(&self) -> KnownScanners {
        KnownScanners::new(
            PAPER_B_CLASSES
                .iter()
                .flat_map(|c| {
                    c.prefixes.iter().filter_map(move |p| {
                        let (net, len) = population::parse_prefix(p);
                        Ipv4Prefix::new(Ipv4Addr::from(net), len).map(|x| (x, c.label.to_string()))
                    })
                })
                .collect(),
        )
    }

    /// `ip,class` ground truth: every host whose class is not `unknown` (Paper B; for Paper A
    /// the labelled hosts with class `labelled`; for the robustness presets the labelled hosts
    /// with their first label as class, `port_scan`, `hacking`, ...).
    pub fn ground_truth(&self) -> GroundTruth {
        GroundTruth::from_pairs(
            self.truth
                .iter()
                .filter(|h| h.class != "unknown" && h.class != "unlabelled")
                .map(|h| (h.addr, h.class.to_string()))
                .collect(),
        )
    }

    /// Paper A multi-labels recovered from [`SyntheticDarknet::reports`] by the default
    /// ≥ 2 reports rule (equal to the `labels` of [`HostTruth`]).
    pub fn multilabels(&self) -> MultiLabels {
        labels_from_reports(&self.reports, &LabelRule::default())
    }

    /// The packets of day `day_index` (0-based from the start day), sorted by time.
    /// Empty when `day_index >= n_days()`.
    ///
    /// Complexity: O(active hosts + packets · log packets); parallel over hosts (rayon).
    pub fn day(&self, day_index: u32) -> Vec<Packet> {
        let mut out = Vec::new();
        self.day_into(day_index, &mut out);
        out
    }

    /// Like [`SyntheticDarknet::day`], writing into `out` (cleared first) to reuse its memory.
    pub fn day_into(&self, day_index: u32, out: &mut Vec<Packet>) {
        out.clear();
        if day_index >= self.config.days {
            return;
        }
        let day_start = u64::from(self.config.start_day + day_index) * NANOS_PER_DAY;
        let (base, n_addrs) = self.darknet();
        let base = u32::from(base);
        let seed = self.config.seed;
        let intensity = self.config.intensity;
        const CHUNK: usize = 256;
        let parts: Vec<Vec<Packet>> = self
            .specs
            .par_chunks(CHUNK)
            .enumerate()
            .map(|(ci, chunk)| {
                let mut buf = Vec::new();
                for (k, spec) in chunk.iter().enumerate() {
                    let h = (ci * CHUNK + k) as u64;
                    if day_index < spec.first_day || day_index > spec.last_day {
                        continue;
                    }
                    let key = mix(mix(seed ^ 0xDA7A) ^ mix(h) ^ u64::from(day_index) << 40);
                    // Activity draw from the key, so inactive hosts cost no RNG setup.
                    if ((key >> 40) as f32 / (1u64 << 24) as f32) >= spec.p_active {
                        continue;
                    }
                    let mut rng = ChaCha8Rng::seed_from_u64(key);
                    if spec.daily_ports > 0 {
                        // paper-b-drift research scanners: the day's own few ports.
                        let mut comps = spec.components.clone();
                        for c in comps
                            .iter_mut()
                            .filter(|c| c.kind == behaviour::Kind::TcpSyn)
                        {
                            c.ports = drift::daily_ports(&mut rng, spec.daily_ports);
                        }
                        behaviour::emit_day(
                            spec, &comps, day_index, day_start, base, n_addrs, intensity, &mut rng,
                            &mut buf,
                        );
                    } else if spec.port_churn > 0.0 && rng.random::<f32>() < spec.port_churn {
                        let mut comps = spec.components.clone();
                        for c in &mut comps {
                            if c.ports.len() > 2 {
                                let n = (c.ports.len() / 5).max(1);
                                for _ in 0..n {
                                    let i = rng.random_range(0..c.ports.len());
                                    c.ports[i] = rng.random_range(1..=65535);
                                }
                            }
                        }
                        behaviour::emit_day(
                            spec, &comps, day_index, day_start, base, n_addrs, intensity, &mut rng,
                            &mut buf,
                        );
                    } else {
                        behaviour::emit_day(
                            spec,
                            &spec.components,
                            day_index,
                            day_start,
                            base,
                            n_addrs,
                            intensity,
                            &mut rng,
                            &mut buf,
                        );
                    }
                }
                buf
            })
            .collect();
        out.reserve(parts.iter().map(Vec::len).sum());
        for p in parts {
            out.extend_from_slice(&p);
        }
        // A host's timestamps strictly increase and sources differ between hosts, so
        // (time, source) is a unique key: any correct sort gives the same bytes.
        out.sort_unstable_by_key(|p| (p.ts_ns, u32::from(p.src)));
    }

    /// Iterates `(day number since 1970-01-01, packets of that day)` over all days; one day in
    /// memory at a time.
    pub fn iter_days(&self) -> impl Iterator<Item = (u32, Vec<Packet>)> + '_ {
        (0..self.config.days).map(move |d| (self.config.start_day + d, self.day(d)))
    }

    /// All packets of all days as one trace (convenient for small configurations).
    pub fn trace(&self) -> Trace {
        let mut all = Vec::new();
        for (_, day) in self.iter_days() {
            all.extend_from_slice(&day);
        }
        Trace::from_packets(all)
    }
}

/// Host counts per Paper B class for `n` hosts: Table 2 shares, named classes floored at 2 %
/// (so kNN sees more than 10 hosts of a class on a day at a few thousand hosts), Mirai capped at
/// 20 %, Unknown takes the rest.
fn paper_b_counts(n: usize) -> Vec<usize> {
    let total: u32 = PAPER_B_CLASSES.iter().map(|c| c.hosts).sum();
    let mut counts: Vec<usize> = PAPER_B_CLASSES
        .iter()
        .map(|c| {
            if c.behaviour == population::Behaviour::Unknown {
                return 0;
            }
            let share = (c.hosts as f64 / total as f64).clamp(0.02, 0.20);
            (share * n as f64).round() as usize
        })
        .collect();
    let named: usize = counts.iter().sum();
    let unknown = PAPER_B_CLASSES.len() - 1;
    if named >= n {
        // Tiny populations: one host per class in table order until n is reached.
        counts.iter_mut().for_each(|c| *c = 0);
        for k in 0..n {
            counts[k % PAPER_B_CLASSES.len()] += 1;
        }
    } else {
        counts[unknown] = n - named;
    }
    counts
}

/// `count` distinct addresses inside an organisation's prefixes (round-robin over prefixes).
fn org_addresses<R: Rng>(
    rng: &mut R,
    prefixes: &[&str],
    count: usize,
    used: &mut BTreeSet<u32>,
) -> Vec<Ipv4Addr> {
    let mut pool: Vec<u32> = Vec::new();
    for p in prefixes {
        let (net, len) = population::parse_prefix(p);
        let size = 1u32 << (32 - len);
        pool.extend((1..size - 1).map(|i| net + i).filter(|a| !used.contains(a)));
    }
    pool.shuffle(rng);
    let mut out = Vec::with_capacity(count);
    for a in pool.into_iter().take(count) {
        used.insert(a);
        out.push(Ipv4Addr::from(a));
    }
    // More hosts than the prefixes hold: fall back to public addresses.
    while out.len() < count {
        let a = population::random_public(rng);
        if used.insert(u32::from(a)) {
            out.push(a);
        }
    }
    out
}

/// Reports of one Paper A host with behaviour labels `mask`: ≥ 2 distinct reporters for every
/// true category, except with probability `noise` (then 1 report, the label is lost); a false
/// category reaches 2 reports with probability `noise / 3`; some reports carry other valid
/// AbuseIPDB categories (dropped by the reader, counted); unlabelled hosts get 0 or 1 report.
fn paper_a_reports<R: Rng>(
    rng: &mut R,
    ip: Ipv4Addr,
    mask: u8,
    noise: f64,
    first_day: u32,
    last_day: u32,
) -> Vec<AbuseReport> {
    let mut target = [0u32; 7];
    for (k, t) in target.iter_mut().enumerate() {
        let true_label = mask >> k & 1 == 1;
        *t = if true_label {
            if rng.random::<f64>() < noise {
                1
            } else {
                2 + (rng.random::<f32>().powi(2) * 6.0) as u32
            }
        } else if mask != 0 && rng.random::<f64>() < noise / 3.0 {
            2
        } else if rng.random::<f64>() < 0.05 {
            1
        } else {
            0
        };
    }
    let n = target.iter().copied().max().unwrap_or(0);
    let mut reporters: Vec<u32> = Vec::with_capacity(n as usize);
    while reporters.len() < n as usize {
        let r = rng.random_range(1..=5_000);
        if !reporters.contains(&r) {
            reporters.push(r);
        }
    }
    let mut out = Vec::with_capacity(n as usize);
    for (j, &reporter) in reporters.iter().enumerate() {
        let mut cats: Vec<u8> = (0..7)
            .filter(|&k| target[k] > j as u32)
            .map(|k| CATEGORIES[k])
            .collect();
        if rng.random::<f32>() < 0.2 {
            // Other AbuseIPDB categories (e.g. 4 DDoS, 7 Phishing, 10 Web Spam, 11 Email Spam).
            cats.push([4u8, 7, 10, 11, 2, 23][rng.random_range(0..6)]);
        }
        cats.sort_unstable();
        cats.dedup();
        out.push(AbuseReport {
            ip,
            categories: cats,
            reporter: reporter.to_string(),
            day: rng.random_range(first_day..=last_day),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_table_names_and_behaviours_agree() {
        // The public names, the table's labels and its behaviours line up one to one, so a
        // class cannot silently generate another class's (or Unknown) traffic.
        for (def, name) in PAPER_B_CLASSES.iter().zip(PAPER_B_CLASSES_NAMES) {
            assert_eq!(def.label, name);
        }
        for (i, a) in PAPER_B_CLASSES.iter().enumerate() {
            for b in &PAPER_B_CLASSES[i + 1..] {
                assert_ne!(a.behaviour, b.behaviour, "{} and {}", a.label, b.label);
            }
        }
        assert_eq!(
            PAPER_B_CLASSES.last().map(|c| c.behaviour),
            Some(population::Behaviour::Unknown)
        );
    }

    #[test]
    fn counts_sum_to_n() {
        for n in [1, 5, 15, 100, 3000] {
            assert_eq!(paper_b_counts(n).iter().sum::<usize>(), n);
        }
    }

    #[test]
    fn label_sets_match_table_one() {
        let total: f32 = population::LABEL_SETS.iter().map(|s| s.1).sum();
        let mut freq = [0f32; 7];
        let mut single = 0f32;
        let mut mean = 0f32;
        for &(m, p) in &population::LABEL_SETS {
            let p = p / total;
            for (k, f) in freq.iter_mut().enumerate() {
                *f += p * f32::from(m >> k & 1);
            }
            single += if m.count_ones() == 1 { p } else { 0.0 };
            mean += p * m.count_ones() as f32;
        }
        let table = [0.8734, 0.5479, 0.2684, 0.0231, 0.0308, 0.1165, 0.1100];
        for k in 0..7 {
            assert!(
                (freq[k] - table[k]).abs() < 0.03,
                "{k}: {} vs {}",
                freq[k],
                table[k]
            );
        }
        assert!((single - 0.5).abs() < 0.03, "single {single}");
        assert!((mean - 1.96).abs() < 0.12, "mean {mean}");
    }
}
