//! Labels: AbuseIPDB-style reports → Paper A multi-labels (SPEC §1.7, §4 A9), the `ip,class`
//! ground truth of DarkVec / gnn-for-darknet (SPEC §2.7, §5.2), known-scanner prefixes
//! (`prefix,organization`, longest-prefix match) and the Mirai fingerprint.
//!
//! # The ≥ 2 reports rule
//! Category `l` of Paper A's seven ([`PAPER_A_CATEGORIES`]: 14, 15, 18, 19, 20, 21, 22) is
//! assigned to an address when at least [`LabelRule::min_reports`] (default 2) reports of it
//! carry `l`. By default reports are counted by DISTINCT reporter ([`ReportCount::DistinctReporters`]):
//! one reporter filing the same category twice is one witness, not two (AbuseIPDB itself
//! throttles repeated reports of one reporter); [`ReportCount::Reports`] counts every report.
//! Valid AbuseIPDB categories outside the seven (1..=23) are dropped and counted in
//! [`MultiLabels::dropped_categories`]; ids outside 1..=23 are errors.
//!
//! # File layouts (all CSV with a header row)
//! - reports: `ip,categories,reporter,date` — `categories` comma-separated ids (quoted, e.g.
//!   `"14,18"`), `reporter` a numeric id, `date` `YYYY-MM-DD` (a longer ISO timestamp is cut to
//!   its date) or `YYYYMMDD`;
//! - ground truth: `ip,class` (repeated rows must agree);
//! - known scanners: `prefix,organization` with `a.b.c.d/len` or a bare address (/32).
//!
//! ```
//! use darknet_core::label::{labels_from_reports, read_abuse_reports, LabelRule};
//!
//! let csv = "ip,categories,reporter,date\n\
//!            192.0.2.1,\"14,18\",1,2021-03-01\n\
//!            192.0.2.1,14,2,2021-03-02\n";
//! let reports = read_abuse_reports(csv.as_bytes(), "reports.csv")?;
//! let labels = labels_from_reports(&reports, &LabelRule::default());
//! assert_eq!(labels.masks, vec![0b1]); // Port Scan twice; Brute-Force once: dropped
//! # Ok::<(), darknet_core::CoreError>(())
//! ```

use crate::error::{CoreError, Result};
use crate::packet::{day_label, parse_day_label};
use crate::trace::Trace;
use std::collections::BTreeMap;
use std::fmt;
use std::io::{Read, Write};
use std::net::Ipv4Addr;
use std::str::FromStr;

/// Paper A's label-vector order: AbuseIPDB category ids 14 Port Scan, 15 Hacking,
/// 18 Brute-Force, 19 Bad Web Bot, 20 Exploited Host, 21 Web App Attack, 22 SSH (SPEC A9).
pub const PAPER_A_CATEGORIES: [u8; 7] = [14, 15, 18, 19, 20, 21, 22];

/// Names of [`PAPER_A_CATEGORIES`], same order.
pub const PAPER_A_CATEGORY_NAMES: [&str; 7] = [
    "Port Scan",
    "Hacking",
    "Brute-Force",
    "Bad Web Bot",
    "Exploited Host",
    "Web App Attack",
    "SSH",
];

/// One AbuseIPDB-style report: an address, the category ids the reporter gave, who, and when.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct AbuseReport {
    /// Reported address.
    pub ip: Ipv4Addr,
    /// AbuseIPDB category ids (1..=23), ascending, distinct.
    pub categories: Vec<u8>,
    /// Reporter id.
    pub reporter: u32,
    /// Day of the report (days since 1970-01-01).
    pub day: u32,
}

/// An IPv4 prefix `addr/len` (host bits zero).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ipv4Prefix {
    addr: Ipv4Addr,
    len: u8,
}

impl Ipv4Prefix {
    /// A prefix; `None` when `len > 32` or `addr` has host bits set.
    pub fn new(addr: Ipv4Addr, len: u8) -> Option<Self> {
        if len > 32 || u32::from(addr) & !Self::mask_of(len) != 0 {
            return None;
        }
        Some(Ipv4Prefix { addr, len })
    }
    fn mask_of(len: u8) -> u32 {
        if len == 0 {
            0
        } else {
            u32::MAX << (32 - len)
        }
    }
    /// Network address.
    pub fn addr(&self) -> Ipv4Addr {
        self.addr
    }
    /// Prefix length (0..=32).
    pub fn prefix_len(&self) -> u8 {
        self.len
    }
    /// True when `a` lies inside the prefix.
    pub fn contains(&self, a: Ipv4Addr) -> bool {
        u32::from(a) & Self::mask_of(self.len) == u32::from(self.addr)
    }
}

impl fmt::Display for Ipv4Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

impl FromStr for Ipv4Prefix {
    type Err = String;
    /// Parses `a.b.c.d/len` or `a.b.c.d` (a /32).
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let (a, l) = s.trim().split_once('/').unwrap_or((s.trim(), "32"));
        let addr: Ipv4Addr = a
            .parse()
            .map_err(|_| format!("`{s}` is not an IPv4 prefix (a.b.c.d/len)"))?;
        let len: u8 = l
            .parse()
            .map_err(|_| format!("`{s}`: prefix length `{l}` is not a number"))?;
        Ipv4Prefix::new(addr, len).ok_or_else(|| {
            format!("`{s}`: length must be ≤ 32 and the host bits of the address zero")
        })
    }
}

fn label_err(input: &str, line: u64, field: &str, reason: impl Into<String>) -> CoreError {
    CoreError::Label {
        input: input.to_string(),
        line,
        field: field.to_string(),
        reason: reason.into(),
    }
}

fn io_err(input: &str, e: std::io::Error) -> CoreError {
    CoreError::Io {
        input: input.to_string(),
        source: e,
    }
}

fn csv_err(input: &str, e: csv::Error) -> CoreError {
    let line = e.position().map(|p| p.line()).unwrap_or(0);
    match e.into_kind() {
        csv::ErrorKind::Io(e) => io_err(input, e),
        other => label_err(input, line, "row", format!("{other:?}")),
    }
}

/// Reads rows with a header, checks the header names, yields (line, fields).
fn read_rows<R: Read>(
    reader: R,
    input: &str,
    expected: &[&str],
) -> Result<Vec<(u64, csv::StringRecord)>> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(reader);
    let header = rdr.headers().map_err(|e| csv_err(input, e))?.clone();
    let got: Vec<&str> = header.iter().collect();
    if got.len() < expected.len() || got[..expected.len()] != *expected {
        return Err(label_err(
            input,
            1,
            "header",
            format!("expected columns {expected:?}, found {got:?}"),
        ));
    }
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| csv_err(input, e))?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        if rec.len() < expected.len() {
            return Err(label_err(
                input,
                line,
                expected[rec.len()],
                format!("missing: {} of {} columns", rec.len(), expected.len()),
            ));
        }
        out.push((line, rec));
    }
    Ok(out)
}

fn parse_ip(input: &str, line: u64, field: &str, s: &str) -> Result<Ipv4Addr> {
    s.parse()
        .map_err(|_| label_err(input, line, field, format!("`{s}` is not an IPv4 address")))
}

fn parse_date(input: &str, line: u64, s: &str) -> Result<u32> {
    let digits: String =
        if s.is_ascii() && s.len() >= 10 && s.as_bytes()[4] == b'-' && s.as_bytes()[7] == b'-' {
            format!("{}{}{}", &s[0..4], &s[5..7], &s[8..10])
        } else {
            s.to_string()
        };
    parse_day_label(&digits).ok_or_else(|| {
        label_err(
            input,
            line,
            "date",
            format!("`{s}` is not a date (YYYY-MM-DD or YYYYMMDD)"),
        )
    })
}

/// Reads an AbuseIPDB-style reports file (`ip,categories,reporter,date`).
///
/// # Errors
/// [`CoreError::Label`] naming `input`, the line and the field: bad header, bad address, an
/// empty or non-numeric category, a category outside 1..=23, a non-numeric reporter, a bad
/// date; [`CoreError::Io`] when reading fails.
pub fn read_abuse_reports<R: Read>(reader: R, input: &str) -> Result<Vec<AbuseReport>> {
    let rows = read_rows(reader, input, &["ip", "categories", "reporter", "date"])?;
    let mut out = Vec::with_capacity(rows.len());
    for (line, rec) in rows {
        let ip = parse_ip(input, line, "ip", &rec[0])?;
        let mut categories = Vec::new();
        for c in rec[1].split(',').map(str::trim) {
            let id: u8 = c.parse().map_err(|_| {
                label_err(
                    input,
                    line,
                    "categories",
                    format!("`{c}` is not a category id"),
                )
            })?;
            if !(1..=23).contains(&id) {
                return Err(label_err(
                    input,
                    line,
                    "categories",
                    format!("unknown AbuseIPDB category {id} (valid ids are 1..=23)"),
                ));
            }
            categories.push(id);
        }
        categories.sort_unstable();
        categories.dedup();
        let reporter: u32 = rec[2].parse().map_err(|_| {
            label_err(
                input,
                line,
                "reporter",
                format!("`{}` is not a numeric reporter id", &rec[2]),
            )
        })?;
        let day = parse_date(input, line, &rec[3])?;
        out.push(AbuseReport {
            ip,
            categories,
            reporter,
            day,
        });
    }
    Ok(out)
}

/// Writes reports as `ip,categories,reporter,date` (dates `YYYY-MM-DD`).
///
/// # Errors
/// [`CoreError::Io`] when writing fails.
pub fn write_abuse_reports<W: Write>(
    mut w: W,
    reports: &[AbuseReport],
    output: &str,
) -> Result<()> {
    let mut s = String::from("ip,categories,reporter,date\n");
    for r in reports {
        let cats: Vec<String> = r.categories.iter().map(u8::to_string).collect();
        let d = day_label(r.day);
        s.push_str(&format!(
            "{},\"{}\",{},{}-{}-{}\n",
            r.ip,
            cats.join(","),
            r.reporter,
            &d[0..4],
            &d[4..6],
            &d[6..8]
        ));
    }
    w.write_all(s.as_bytes()).map_err(|e| io_err(output, e))
}

/// How reports are counted for the ≥ 2 rule (see the module doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ReportCount {
    /// Distinct reporters per (address, category) (default).
    #[default]
    DistinctReporters,
    /// Every report.
    Reports,
}

/// The label rule of SPEC §4 A9.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LabelRule {
    /// Reports needed per category (default 2).
    pub min_reports: usize,
    /// How they are counted (default distinct reporters).
    pub count: ReportCount,
}

impl Default for LabelRule {
    fn default() -> Self {
        LabelRule {
            min_reports: 2,
            count: ReportCount::DistinctReporters,
        }
    }
}

/// Paper A multi-labels of the labelled addresses (≥ 1 category qualifies).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MultiLabels {
    /// Labelled addresses, ascending.
    pub ips: Vec<Ipv4Addr>,
    /// One bit mask per address: bit `k` = [`PAPER_A_CATEGORIES`]`[k]`. Shape (n_ips,).
    pub masks: Vec<u8>,
    /// Occurrences of valid categories outside the seven, dropped: `(category, count)`.
    pub dropped_categories: BTreeMap<u8, u64>,
}

impl MultiLabels {
    /// The label matrix, row-major, shape (n_ips, 7), 1.0 = label present.
    pub fn matrix(&self) -> Vec<f32> {
        self.masks
            .iter()
            .flat_map(|&m| (0..7).map(move |k| f32::from(m >> k & 1)))
            .collect()
    }
    /// The mask of `ip` (0 when not labelled).
    pub fn mask_of(&self, ip: Ipv4Addr) -> u8 {
        self.ips
            .binary_search(&ip)
            .map(|k| self.masks[k])
            .unwrap_or(0)
    }
}

/// Applies the ≥ 2 reports rule ([`LabelRule`]) to reports.
///
/// Complexity: O(r log r) for r (report, category) pairs.
pub fn labels_from_reports(reports: &[AbuseReport], rule: &LabelRule) -> MultiLabels {
    // (ip, category index, reporter or report index) triples, sorted, to count without hashing.
    let mut triples: Vec<(u32, u8, u64)> = Vec::new();
    let mut dropped: BTreeMap<u8, u64> = BTreeMap::new();
    for (ri, r) in reports.iter().enumerate() {
        for &c in &r.categories {
            match PAPER_A_CATEGORIES.iter().position(|&x| x == c) {
                Some(k) => {
                    let who = match rule.count {
                        ReportCount::DistinctReporters => u64::from(r.reporter),
                        ReportCount::Reports => ri as u64,
                    };
                    triples.push((u32::from(r.ip), k as u8, who));
                }
                None => *dropped.entry(c).or_default() += 1,
            }
        }
    }
    triples.sort_unstable();
    triples.dedup();
    let mut out = MultiLabels {
        dropped_categories: dropped,
        ..MultiLabels::default()
    };
    let mut i = 0;
    while i < triples.len() {
        let ip = triples[i].0;
        let mut mask = 0u8;
        while i < triples.len() && triples[i].0 == ip {
            let k = triples[i].1;
            let mut n = 0;
            while i < triples.len() && triples[i].0 == ip && triples[i].1 == k {
                n += 1;
                i += 1;
            }
            if n >= rule.min_reports {
                mask |= 1 << k;
            }
        }
        if mask != 0 {
            out.ips.push(Ipv4Addr::from(ip));
            out.masks.push(mask);
        }
    }
    out
}

/// Writes Paper A multi-labels as `ip,14,15,18,19,20,21,22` with 0/1 cells.
///
/// # Errors
/// [`CoreError::Io`] when writing fails.
pub fn write_multilabels<W: Write>(mut w: W, labels: &MultiLabels, output: &str) -> Result<()> {
    let mut s = String::from("ip,14,15,18,19,20,21,22\n");
    for (ip, &m) in labels.ips.iter().zip(&labels.masks) {
        s.push_str(&ip.to_string());
        for k in 0..7 {
            s.push_str(if m >> k & 1 == 1 { ",1" } else { ",0" });
        }
        s.push('\n');
    }
    w.write_all(s.as_bytes()).map_err(|e| io_err(output, e))
}

/// `ip,class` ground truth (DarkVec / gnn-for-darknet layout), one class per address.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroundTruth {
    rows: Vec<(Ipv4Addr, String)>,
}

impl GroundTruth {
    /// From `(address, class)` pairs; repeated addresses must agree (the first wins otherwise
    /// is NOT applied: see [`read_ground_truth`] for the checked path).
    pub fn from_pairs(mut rows: Vec<(Ipv4Addr, String)>) -> Self {
        rows.sort();
        rows.dedup();
        GroundTruth { rows }
    }
    /// Rows sorted by address.
    pub fn rows(&self) -> &[(Ipv4Addr, String)] {
        &self.rows
    }
    /// Number of labelled addresses.
    pub fn len(&self) -> usize {
        self.rows.len()
    }
    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
    /// The class of `ip`, or `None` (the reference code then says `unknown`).
    pub fn class_of(&self, ip: Ipv4Addr) -> Option<&str> {
        self.rows
            .binary_search_by_key(&ip, |r| r.0)
            .ok()
            .map(|k| self.rows[k].1.as_str())
    }
}

/// Reads `ip,class` ground truth. Repeated rows with the same class are merged (big_gt.csv
/// repeats 1,035 addresses, SPEC §5.2).
///
/// # Errors
/// [`CoreError::Label`]: bad header, bad address, empty class, an address given two classes.
pub fn read_ground_truth<R: Read>(reader: R, input: &str) -> Result<GroundTruth> {
    let rows = read_rows(reader, input, &["ip", "class"])?;
    let mut seen: BTreeMap<Ipv4Addr, (String, u64)> = BTreeMap::new();
    for (line, rec) in rows {
        let ip = parse_ip(input, line, "ip", &rec[0])?;
        let class = rec[1].to_string();
        if class.is_empty() {
            return Err(label_err(input, line, "class", "empty class"));
        }
        if let Some((c, first)) = seen.get(&ip) {
            if *c != class {
                return Err(label_err(
                    input,
                    line,
                    "class",
                    format!("{ip} is `{class}` here but `{c}` on line {first}"),
                ));
            }
            continue;
        }
        seen.insert(ip, (class, line));
    }
    Ok(GroundTruth {
        rows: seen.into_iter().map(|(ip, (c, _))| (ip, c)).collect(),
    })
}

/// Writes `ip,class` rows.
///
/// # Errors
/// [`CoreError::Io`] when writing fails.
pub fn write_ground_truth<W: Write>(mut w: W, gt: &GroundTruth, output: &str) -> Result<()> {
    let mut s = String::from("ip,class\n");
    for (ip, c) in &gt.rows {
        s.push_str(&format!("{ip},{c}\n"));
    }
    w.write_all(s.as_bytes()).map_err(|e| io_err(output, e))
}

/// Known scanner organisations by prefix, with longest-prefix match.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KnownScanners {
    /// Sorted by (length descending, address), so the first match is the longest.
    entries: Vec<(Ipv4Prefix, String)>,
}

impl KnownScanners {
    /// From `(prefix, organisation)` pairs.
    pub fn new(mut entries: Vec<(Ipv4Prefix, String)>) -> Self {
        entries.sort_by(|a, b| {
            b.0.prefix_len()
                .cmp(&a.0.prefix_len())
                .then(a.0.cmp(&b.0))
                .then(a.1.cmp(&b.1))
        });
        entries.dedup_by(|a, b| a.0 == b.0);
        KnownScanners { entries }
    }
    /// Entries, longest prefixes first.
    pub fn entries(&self) -> &[(Ipv4Prefix, String)] {
        &self.entries
    }
    /// The organisation of the longest prefix containing `ip`.
    ///
    /// Complexity: O(distinct lengths · log entries) — one binary search per prefix length.
    pub fn lookup(&self, ip: Ipv4Addr) -> Option<&str> {
        let a = u32::from(ip);
        let mut start = 0;
        while start < self.entries.len() {
            let len = self.entries[start].0.prefix_len();
            let end = start
                + self.entries[start..]
                    .iter()
                    .position(|e| e.0.prefix_len() != len)
                    .unwrap_or(self.entries.len() - start);
            let net = Ipv4Addr::from(a & Ipv4Prefix::mask_of(len));
            if let Ok(k) = self.entries[start..end].binary_search_by(|e| e.0.addr().cmp(&net)) {
                return Some(self.entries[start + k].1.as_str());
            }
            start = end;
        }
        None
    }
}

/// Reads `prefix,organization` rows.
///
/// # Errors
/// [`CoreError::Label`]: bad header, a bad prefix (naming the line and `prefix`), an empty
/// organisation.
pub fn read_known_scanners<R: Read>(reader: R, input: &str) -> Result<KnownScanners> {
    let rows = read_rows(reader, input, &["prefix", "organization"])?;
    let mut entries = Vec::with_capacity(rows.len());
    for (line, rec) in rows {
        let p: Ipv4Prefix = rec[0]
            .parse()
            .map_err(|e: String| label_err(input, line, "prefix", e))?;
        if rec[1].is_empty() {
            return Err(label_err(input, line, "organization", "empty organisation"));
        }
        entries.push((p, rec[1].to_string()));
    }
    Ok(KnownScanners::new(entries))
}

/// Writes `prefix,organization` rows (sorted by prefix).
///
/// # Errors
/// [`CoreError::Io`] when writing fails.
pub fn write_known_scanners<W: Write>(mut w: W, ks: &KnownScanners, output: &str) -> Result<()> {
    let mut v: Vec<_> = ks.entries.iter().collect();
    v.sort();
    let mut s = String::from("prefix,organization\n");
    for (p, o) in v {
        s.push_str(&format!("{p},{o}\n"));
    }
    w.write_all(s.as_bytes()).map_err(|e| io_err(output, e))
}

/// Sources whose TCP packets carry the Mirai fingerprint (sequence number = destination
/// address, [`crate::Packet::is_mirai`]) in at least `min_fraction` of their TCP packets
/// (`min_fraction` in (0, 1]; use a tiny value for "any packet", DarkVec's rule). Ascending.
pub fn mirai_sources(trace: &Trace, min_fraction: f64) -> Vec<Ipv4Addr> {
    let (proto, seq, dst) = (trace.proto(), trace.tcp_seq(), trace.dst());
    trace
        .by_source()
        .iter()
        .filter_map(|(ip, idx)| {
            let (mut tcp, mut m) = (0usize, 0usize);
            for &i in idx {
                let i = i as usize;
                if proto[i] == 6 {
                    tcp += 1;
                    m += usize::from(seq[i] == dst[i]);
                }
            }
            (m > 0 && m as f64 >= min_fraction * tcp as f64).then_some(ip)
        })
        .collect()
}
