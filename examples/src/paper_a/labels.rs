//! Paper A's labels (SPEC §1.7, A9): AbuseIPDB-style reports → one 0/1 row per host over the 7
//! most frequent categories, a category counting when the host has at least 2 reports in it.

use super::error::{PaperAError, Result};
use ndarray::Array2;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::Path;

/// AbuseIPDB category ids of Paper A's 7 labels, in label-column order (SPEC A9).
pub const CATEGORY_IDS: [u8; 7] = [14, 15, 18, 19, 20, 21, 22];

/// Label names, in column order (the CSV headers of truth and score files).
pub const LABEL_NAMES: [&str; 7] = [
    "port_scan",
    "hacking",
    "brute_force",
    "bad_web_bot",
    "exploited_host",
    "web_app_attack",
    "ssh",
];

/// Paper A's names of the labels (Table I), in column order.
pub const LABEL_TITLES: [&str; 7] = [
    "Port Scan",
    "Hacking",
    "Brute-Force",
    "Bad Web Bot",
    "Exploited Host",
    "Web App Attack",
    "SSH",
];

/// Paper A's minimum number of reports in a category for the label (SPEC A9).
pub const MIN_REPORTS: usize = 2;

/// The label names as owned strings.
pub fn label_names() -> Vec<String> {
    LABEL_NAMES.iter().map(|s| s.to_string()).collect()
}

/// One report: a host was reported in one category.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Report {
    /// The reported address.
    pub ip: Ipv4Addr,
    /// The AbuseIPDB category id.
    pub category: u8,
}

/// What turning reports into labels kept and dropped.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct LabelSummary {
    /// Reports read.
    pub n_reports: usize,
    /// Distinct reported addresses.
    pub n_reported_hosts: usize,
    /// Reports in a category outside the 7 (ignored), by category id.
    pub outside_categories: BTreeMap<u8, usize>,
    /// (host, category) pairs of the 7 categories with fewer than the minimum reports.
    pub n_below_minimum: usize,
    /// Hosts with at least one label.
    pub n_labelled_hosts: usize,
    /// Hosts carrying each label, in column order.
    pub label_counts: Vec<usize>,
}

impl LabelSummary {
    /// Reports in categories outside the 7.
    pub fn n_outside(&self) -> usize {
        self.outside_categories.values().sum()
    }
}

/// Label rows: one per labelled host.
#[derive(Clone, Debug, PartialEq)]
pub struct LabelRows {
    /// Label names (n_labels).
    pub names: Vec<String>,
    /// Host addresses, ascending. Shape (n_rows,).
    pub hosts: Vec<Ipv4Addr>,
    /// 0/1 labels. Shape (n_rows, n_labels).
    pub y: Array2<u8>,
    /// What was kept and dropped.
    pub summary: LabelSummary,
}

/// Applies the "≥ `min_reports` reports in a category" rule (SPEC A9) to `reports`: a host gets
/// label `l` when it has at least `min_reports` reports in category `CATEGORY_IDS[l]`; hosts
/// without any label get no row. Reports in other categories are counted and ignored.
pub fn labels_from_reports(reports: &[Report], min_reports: usize) -> LabelRows {
    let mut counts: BTreeMap<Ipv4Addr, [usize; 7]> = BTreeMap::new();
    let mut summary = LabelSummary {
        n_reports: reports.len(),
        ..LabelSummary::default()
    };
    let mut hosts_seen = std::collections::BTreeSet::new();
    for r in reports {
        hosts_seen.insert(r.ip);
        match CATEGORY_IDS.iter().position(|&c| c == r.category) {
            Some(l) => counts.entry(r.ip).or_insert([0; 7])[l] += 1,
            None => *summary.outside_categories.entry(r.category).or_insert(0) += 1,
        }
    }
    summary.n_reported_hosts = hosts_seen.len();
    let mut hosts = Vec::new();
    let mut rows = Vec::new();
    let min = min_reports.max(1);
    for (ip, c) in counts {
        summary.n_below_minimum += c.iter().filter(|&&n| n > 0 && n < min).count();
        if c.iter().any(|&n| n >= min) {
            hosts.push(ip);
            rows.extend(c.iter().map(|&n| u8::from(n >= min)));
        }
    }
    let y =
        Array2::from_shape_vec((hosts.len(), 7), rows).unwrap_or_else(|_| Array2::zeros((0, 7)));
    summary.n_labelled_hosts = hosts.len();
    summary.label_counts = (0..7)
        .map(|l| y.column(l).iter().filter(|&&v| v != 0).count())
        .collect();
    LabelRows {
        names: label_names(),
        hosts,
        y,
        summary,
    }
}

/// Reads AbuseIPDB-style reports from a CSV file with a header naming an address column (`ip`,
/// `ip_address` or `src_ip`) and a category column (`category` or `categories`); a categories
/// cell may hold several ids separated by `,`, `;`, `|` or spaces (AbuseIPDB's exports quote
/// them: `"14,15"`). Every other column is ignored. A truth file in the wide layout
/// (`id,<label names>` with 0/1) is not a report file; use [`read_truth_labels`] for it.
///
/// # Errors
/// [`PaperAError::Io`] for an unreadable file, [`PaperAError::Csv`] naming the line for a
/// missing column, an address that does not parse or a category that is not a number in
/// 0..=255.
pub fn read_reports_csv(path: &Path) -> Result<Vec<Report>> {
    let file = std::fs::File::open(path).map_err(super::error::io_err(path))?;
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(file);
    let csv_err = |line: u64, reason: String| PaperAError::Csv {
        path: path.to_path_buf(),
        line,
        reason,
    };
    let header = rdr
        .headers()
        .map_err(|e| csv_err(1, e.to_string()))?
        .clone();
    let find = |names: &[&str]| {
        header
            .iter()
            .position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)))
    };
    let ip_col = find(&["ip", "ip_address", "src_ip", "ipaddress"]).ok_or_else(|| {
        csv_err(
            1,
            format!(
                "no address column (ip) in header `{}`",
                header.iter().collect::<Vec<_>>().join(",")
            ),
        )
    })?;
    let cat_col = find(&["category", "categories"]).ok_or_else(|| {
        csv_err(
            1,
            format!(
                "no category column (category or categories) in header `{}`",
                header.iter().collect::<Vec<_>>().join(",")
            ),
        )
    })?;
    let mut out = Vec::new();
    let mut rec = csv::StringRecord::new();
    loop {
        match rdr.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {
                let line = rec.position().map_or(0, |p| p.line());
                let ip_s = rec.get(ip_col).unwrap_or("");
                let ip: Ipv4Addr = ip_s.parse().map_err(|_| {
                    csv_err(line, format!("address {ip_s:?} is not an IPv4 address"))
                })?;
                let cats = rec.get(cat_col).unwrap_or("");
                for tok in cats.split([',', ';', '|', ' ']).filter(|t| !t.is_empty()) {
                    let category: u8 = tok.parse().map_err(|_| {
                        csv_err(line, format!("category {tok:?} is not a number in 0..=255"))
                    })?;
                    out.push(Report { ip, category });
                }
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                return Err(csv_err(line, e.to_string()));
            }
        }
    }
    Ok(out)
}

/// Reads label rows from a ground-truth CSV in the `evaluate` layout (`id,<label names>` with
/// 0/1, or `id,labels` with `;`-separated names), ids being IPv4 addresses. Columns are
/// matched to [`LABEL_NAMES`] by name; an unknown column is an error.
///
/// # Errors
/// Those of [`darknet_eval::read_truth_csv`]; [`PaperAError::Csv`] for an id that is not an
/// address or a label name outside the 7.
pub fn read_truth_labels(path: &Path) -> Result<LabelRows> {
    let t = darknet_eval::read_truth_csv(path)?;
    let names = label_names();
    let mut col_of = Vec::new();
    for l in &t.labels {
        let Some(c) = names.iter().position(|n| n == l) else {
            return Err(PaperAError::Csv {
                path: path.to_path_buf(),
                line: 1,
                reason: format!("label {l:?} is not one of {}", LABEL_NAMES.join(", ")),
            });
        };
        col_of.push(c);
    }
    let mut rows: BTreeMap<Ipv4Addr, [u8; 7]> = BTreeMap::new();
    for (i, id) in t.ids.iter().enumerate() {
        let ip: Ipv4Addr = id.parse().map_err(|_| PaperAError::Csv {
            path: path.to_path_buf(),
            line: t.lines[i],
            reason: format!("id {id:?} is not an IPv4 address"),
        })?;
        let row = rows.entry(ip).or_insert([0; 7]);
        for (j, &c) in col_of.iter().enumerate() {
            row[c] |= t.values[[i, j]];
        }
    }
    let hosts: Vec<Ipv4Addr> = rows.keys().copied().collect();
    let y = Array2::from_shape_vec(
        (hosts.len(), 7),
        rows.values().flat_map(|r| r.iter().copied()).collect(),
    )
    .unwrap_or_else(|_| Array2::zeros((0, 7)));
    let summary = LabelSummary {
        n_labelled_hosts: y
            .rows()
            .into_iter()
            .filter(|r| r.iter().any(|&v| v != 0))
            .count(),
        label_counts: (0..7)
            .map(|l| y.column(l).iter().filter(|&&v| v != 0).count())
            .collect(),
        n_reported_hosts: hosts.len(),
        ..LabelSummary::default()
    };
    Ok(LabelRows {
        names,
        hosts,
        y,
        summary,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(i: u8) -> Ipv4Addr {
        Ipv4Addr::new(192, 0, 2, i)
    }

    #[test]
    fn two_reports_rule_and_outside_categories() {
        let r = |i, c| Report {
            ip: ip(i),
            category: c,
        };
        let reports = [
            r(1, 14),
            r(1, 14),
            r(1, 22),
            r(2, 15),
            r(2, 99),
            r(3, 18),
            r(3, 18),
            r(3, 3),
        ];
        let rows = labels_from_reports(&reports, 2);
        assert_eq!(rows.hosts, vec![ip(1), ip(3)]);
        assert_eq!(rows.y.row(0).to_vec(), vec![1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(rows.y.row(1).to_vec(), vec![0, 0, 1, 0, 0, 0, 0]);
        assert_eq!(rows.summary.n_outside(), 2);
        assert_eq!(rows.summary.outside_categories.get(&99), Some(&1));
        assert_eq!(rows.summary.n_below_minimum, 2);
        assert_eq!(rows.summary.n_reported_hosts, 3);
    }

    #[test]
    fn reads_abuseipdb_style_csv() {
        let dir = std::env::temp_dir().join(format!("paper-a-labels-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("reports.csv");
        std::fs::write(
            &p,
            "IP,Categories,ReportedAt\n192.0.2.1,\"14,15\",2021-03-01\n192.0.2.1,14,x\n",
        )
        .unwrap();
        let reports = read_reports_csv(&p).unwrap();
        assert_eq!(reports.len(), 3);
        std::fs::write(&p, "IP,Categories\nnot-an-ip,14\n").unwrap();
        let e = read_reports_csv(&p).unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
        std::fs::write(&p, "IP,Categories\n192.0.2.1,fourteen\n").unwrap();
        assert!(read_reports_csv(&p).is_err());
        std::fs::write(&p, "address,what\n").unwrap();
        assert!(read_reports_csv(&p)
            .unwrap_err()
            .to_string()
            .contains("no address column"));
        std::fs::remove_dir_all(&dir).ok();
    }
}
