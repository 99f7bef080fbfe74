//! Labels: AbuseIPDB-style reports → Paper A multi-labels, the `ip,class`
//! ground truth of DarkVec / gnn-for-darknet, known-scanner prefixes
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
//! # Categories
//! [`Category`] names Paper A's seven categories once (id, name, position in the label vector)
//! and keeps any other id as [`Category::Other`]; [`PAPER_A_CATEGORIES`] and
//! [`PAPER_A_CATEGORY_NAMES`] are derived from it.
//!
//! # File layouts (all CSV with a header row)
//! - reports, columns found by name (any letter case, any order):
//!   - ours, `ip,categories,reporter,date`;
//!   - AbuseIPDB's bulk-report layout, `IP,Categories,ReportDate,Comment` (the comment is
//!     ignored and may span lines inside quotes). Such a file has no reporter column: all its
//!     reports count as one reporter, named after the input.
//!
//!   `categories` is a list of ids separated by `,` (quoted, e.g. `"14,18"`), `;` or `|`;
//!   `reporter` is an opaque string (AbuseIPDB's API gives numbers, other feeds names such as
//!   `reporter0283`; `0283` and `283` are different reporters); `date` (or `ReportDate`) is
//!   `YYYY-MM-DD` (a longer ISO 8601 timestamp is cut to its date as written, time zone
//!   ignored) or `YYYYMMDD`. Error lines are the file's lines, the header being line 1 (a row
//!   spanning lines is named by its first line);
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
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::io::{Read, Write};
use std::net::Ipv4Addr;
use std::str::FromStr;

/// An AbuseIPDB report category: Paper A's seven by name, any other id as [`Category::Other`].
///
/// Parses from an id (`"14"`) or a name (`"Port Scan"`, `"port_scan"`, `"portscan"`: letter
/// case, spaces, `-` and `_` are ignored); displays as its name (the id for
/// [`Category::Other`]); serializes as its id.
///
/// ```
/// use darknet_core::label::Category;
///
/// assert_eq!("ssh".parse::<Category>(), Ok(Category::Ssh));
/// assert_eq!("18".parse::<Category>(), Ok(Category::BruteForce));
/// assert_eq!(Category::from_id(4), Category::Other(4));
/// assert_eq!(Category::WebAppAttack.to_string(), "Web App Attack");
/// assert_eq!(Category::Hacking.paper_a_index(), Some(1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "u8", from = "u8")]
pub enum Category {
    /// 14, Port Scan.
    PortScan,
    /// 15, Hacking.
    Hacking,
    /// 18, Brute-Force.
    BruteForce,
    /// 19, Bad Web Bot.
    BadWebBot,
    /// 20, Exploited Host.
    ExploitedHost,
    /// 21, Web App Attack.
    WebAppAttack,
    /// 22, SSH.
    Ssh,
    /// Any other category id (AbuseIPDB's others, or a user's own classes).
    Other(u8),
}

impl Category {
    /// Paper A's seven, in label-vector order.
    pub const PAPER_A: [Category; 7] = [
        Category::PortScan,
        Category::Hacking,
        Category::BruteForce,
        Category::BadWebBot,
        Category::ExploitedHost,
        Category::WebAppAttack,
        Category::Ssh,
    ];

    /// The category id.
    pub const fn id(self) -> u8 {
        match self {
            Category::PortScan => 14,
            Category::Hacking => 15,
            Category::BruteForce => 18,
            Category::BadWebBot => 19,
            Category::ExploitedHost => 20,
            Category::WebAppAttack => 21,
            Category::Ssh => 22,
            Category::Other(id) => id,
        }
    }

    /// The name of one of Paper A's seven (`None` for [`Category::Other`]).
    pub const fn name(self) -> Option<&'static str> {
        match self {
            Category::PortScan => Some("Port Scan"),
            Category::Hacking => Some("Hacking"),
            Category::BruteForce => Some("Brute-Force"),
            Category::BadWebBot => Some("Bad Web Bot"),
            Category::ExploitedHost => Some("Exploited Host"),
            Category::WebAppAttack => Some("Web App Attack"),
            Category::Ssh => Some("SSH"),
            Category::Other(_) => None,
        }
    }

    /// The category of an id: one of the seven, or [`Category::Other`].
    pub const fn from_id(id: u8) -> Category {
        match id {
            14 => Category::PortScan,
            15 => Category::Hacking,
            18 => Category::BruteForce,
            19 => Category::BadWebBot,
            20 => Category::ExploitedHost,
            21 => Category::WebAppAttack,
            22 => Category::Ssh,
            other => Category::Other(other),
        }
    }

    /// Position in Paper A's label vector (`None` for [`Category::Other`]).
    pub fn paper_a_index(self) -> Option<usize> {
        Category::PAPER_A.iter().position(|&c| c == self)
    }
}

impl From<u8> for Category {
    fn from(id: u8) -> Category {
        Category::from_id(id)
    }
}

impl From<Category> for u8 {
    fn from(c: Category) -> u8 {
        c.id()
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "{}", self.id()),
        }
    }
}

/// A name reduced to lowercase letters and digits.
fn name_key(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

impl FromStr for Category {
    type Err = String;
    /// Parses an id (0..=255) or the name of one of the seven.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let t = s.trim();
        if let Ok(id) = t.parse::<u8>() {
            return Ok(Category::from_id(id));
        }
        let key = name_key(t);
        Category::PAPER_A
            .into_iter()
            .find(|c| c.name().is_some_and(|n| name_key(n) == key) && !key.is_empty())
            .ok_or_else(|| {
                format!(
                    "`{t}` is neither a category id nor one of the names {}",
                    PAPER_A_CATEGORY_NAMES.join(", ")
                )
            })
    }
}

const fn paper_a_ids() -> [u8; 7] {
    let mut ids = [0u8; 7];
    let mut i = 0;
    while i < 7 {
        ids[i] = Category::PAPER_A[i].id();
        i += 1;
    }
    ids
}

const fn paper_a_names() -> [&'static str; 7] {
    let mut names = [""; 7];
    let mut i = 0;
    while i < 7 {
        names[i] = match Category::PAPER_A[i].name() {
            Some(n) => n,
            None => "",
        };
        i += 1;
    }
    names
}

/// Paper A's label-vector order: AbuseIPDB category ids 14 Port Scan, 15 Hacking,
/// 18 Brute-Force, 19 Bad Web Bot, 20 Exploited Host, 21 Web App Attack, 22 SSH (the ids of
/// [`Category::PAPER_A`]).
pub const PAPER_A_CATEGORIES: [u8; 7] = paper_a_ids();

/// Names of [`PAPER_A_CATEGORIES`], same order (the names of [`Category::PAPER_A`]).
pub const PAPER_A_CATEGORY_NAMES: [&str; 7] = paper_a_names();

/// One AbuseIPDB-style report: an address, the category ids the reporter gave, who, and when.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct AbuseReport {
    /// Reported address.
    pub ip: Ipv4Addr,
    /// AbuseIPDB category ids (1..=23), ascending, distinct.
    pub categories: Vec<u8>,
    /// Reporter id: an opaque string (a number from AbuseIPDB's API, a name from other feeds,
    /// the input's name for a bulk-report file).
    pub reporter: String,
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
    // Letter case and a UTF-8 byte-order mark (spreadsheet exports) do not matter.
    let same = |g: &&str, e: &&str| g.trim_start_matches('\u{feff}').eq_ignore_ascii_case(e);
    if got.len() < expected.len() || !got.iter().zip(expected).all(|(g, e)| same(g, e)) {
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
    s.parse().map_err(|_| {
        let reason = if s.parse::<std::net::Ipv6Addr>().is_ok() {
            format!("`{s}` is an IPv6 address: only IPv4 addresses are read (remove IPv6 rows)")
        } else {
            format!("`{s}` is not an IPv4 address")
        };
        label_err(input, line, field, reason)
    })
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

/// Column names accepted for each field of a reports file (lowercase).
const REPORT_COLUMNS: [(&str, &[&str]); 4] = [
    ("ip", &["ip", "ip_address", "ipaddress"]),
    ("categories", &["categories", "category"]),
    ("reporter", &["reporter", "reporter_id", "reporterid"]),
    (
        "date",
        &[
            "date",
            "reportdate",
            "report_date",
            "reportedat",
            "reported_at",
        ],
    ),
];

/// Splits a category list on `,`, `;` or `|` and checks every id.
fn parse_categories(input: &str, line: u64, field: &str) -> Result<Vec<u8>> {
    let mut categories = Vec::new();
    for c in field.split([',', ';', '|']).map(str::trim) {
        let id: u8 = c.parse().map_err(|_| {
            label_err(
                input,
                line,
                "categories",
                format!("`{c}` is not a category id (ids separated by `,` in quotes, `;` or `|`)"),
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
    Ok(categories)
}

/// Reads an AbuseIPDB-style reports file: ours (`ip,categories,reporter,date`) or AbuseIPDB's
/// bulk-report layout (`IP,Categories,ReportDate,Comment`), columns found by name (see the
/// [module docs](self)).
///
/// # Errors
/// [`CoreError::Label`] naming `input`, the line and the field: a header without `ip`,
/// `categories` and a date column (saying which columns were found), a bad address, an empty
/// or non-numeric category, a category outside 1..=23, an empty reporter, a bad date, a row
/// with fewer fields than the header; [`CoreError::Io`] when reading fails.
pub fn read_abuse_reports<R: Read>(reader: R, input: &str) -> Result<Vec<AbuseReport>> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(reader);
    let header = rdr.headers().map_err(|e| csv_err(input, e))?.clone();
    let names: Vec<String> = header
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect();
    let mut index = [None; 4];
    for (k, (_, accepted)) in REPORT_COLUMNS.iter().enumerate() {
        index[k] = names.iter().position(|n| accepted.contains(&n.as_str()));
    }
    let [Some(ip_i), Some(cat_i), reporter_i, Some(date_i)] = index else {
        let missing: Vec<&str> = REPORT_COLUMNS
            .iter()
            .zip(index)
            .filter(|((name, _), i)| i.is_none() && *name != "reporter")
            .map(|((name, _), _)| *name)
            .collect();
        return Err(label_err(
            input,
            1,
            "header",
            format!(
                "expected the columns `ip,categories,reporter,date` or AbuseIPDB's \
                 `IP,Categories,ReportDate,Comment`; found {:?}, missing {}",
                header.iter().collect::<Vec<_>>(),
                missing.join(", ")
            ),
        ));
    };
    let needed = [Some(ip_i), Some(cat_i), reporter_i, Some(date_i)]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(0)
        + 1;
    let mut out = Vec::new();
    let mut rec = csv::StringRecord::new();
    loop {
        match rdr.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(csv_err(input, e)),
        }
        let line = rec.position().map_or(0, |p| p.line());
        if rec.len() == 1 && rec[0].is_empty() {
            continue;
        }
        if rec.len() < needed {
            let field = [ip_i, cat_i, date_i]
                .into_iter()
                .chain(reporter_i)
                .filter(|&i| i >= rec.len())
                .min()
                .map_or("row", |i| header.get(i).unwrap_or("row"));
            return Err(label_err(
                input,
                line,
                field,
                format!(
                    "missing: the row has {} fields, the header {}",
                    rec.len(),
                    header.len()
                ),
            ));
        }
        let ip = parse_ip(input, line, "ip", &rec[ip_i])?;
        let categories = parse_categories(input, line, &rec[cat_i])?;
        let reporter = match reporter_i {
            Some(i) => {
                if rec[i].is_empty() {
                    return Err(label_err(input, line, "reporter", "empty reporter"));
                }
                rec[i].to_string()
            }
            None => input.to_string(),
        };
        let day = parse_date(input, line, &rec[date_i])?;
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
            csv_field(&r.reporter),
            &d[0..4],
            &d[4..6],
            &d[6..8]
        ));
    }
    w.write_all(s.as_bytes()).map_err(|e| io_err(output, e))
}

/// A CSV field, quoted when it holds a delimiter, a quote, a line end or edge spaces.
fn csv_field(s: &str) -> std::borrow::Cow<'_, str> {
    let plain = !s.contains([',', '"', '\n', '\r']) && s.trim() == s && !s.is_empty();
    if plain {
        std::borrow::Cow::Borrowed(s)
    } else {
        std::borrow::Cow::Owned(format!("\"{}\"", s.replace('"', "\"\"")))
    }
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

/// Paper A's labelling rule: a category needs at least `min_reports` reports.
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
    // Reporter strings as dense numbers, to count distinct reporters without hashing strings
    // in the sort.
    let mut reporter_ids: BTreeMap<&str, u64> = BTreeMap::new();
    for (ri, r) in reports.iter().enumerate() {
        for &c in &r.categories {
            match PAPER_A_CATEGORIES.iter().position(|&x| x == c) {
                Some(k) => {
                    let who = match rule.count {
                        ReportCount::DistinctReporters => {
                            let next = reporter_ids.len() as u64;
                            *reporter_ids.entry(r.reporter.as_str()).or_insert(next)
                        }
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
/// repeats over a thousand addresses).
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
