//! Paper A's labels (docs/paper-a.md#labels, docs/choices.md#a9) as rows for the pipeline:
//! darknet-core turns AbuseIPDB-style reports into 7-category label masks under the ≥ 2 reports
//! rule; this module reads label files of the three layouts users have and counts what was dropped.

use super::error::{PaperAError, Result};
use darknet_core::label::{read_abuse_reports, ReportCount};
use darknet_core::{labels_from_reports, AbuseReport, LabelRule, MultiLabels, PAPER_A_CATEGORIES};
use ndarray::Array2;
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::Path;

/// AbuseIPDB category ids of Paper A's 7 labels, in label-column order (docs/choices.md#a9).
pub const CATEGORY_IDS: [u8; 7] = PAPER_A_CATEGORIES;

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
pub const LABEL_TITLES: [&str; 7] = darknet_core::label::PAPER_A_CATEGORY_NAMES;

/// Paper A's minimum number of reports in a category for the label (docs/choices.md#a9).
pub const MIN_REPORTS: usize = 2;

/// The label names as owned strings.
pub fn label_names() -> Vec<String> {
    LABEL_NAMES.iter().map(|s| s.to_string()).collect()
}

/// What turning a label source into rows kept and dropped.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LabelSummary {
    /// Reports read (0 for a label file without reports).
    pub n_reports: usize,
    /// Category occurrences outside the 7 (ignored), by category id.
    pub outside_categories: BTreeMap<u8, u64>,
    /// Hosts with at least one label.
    pub n_labelled_hosts: usize,
    /// Hosts carrying each label, in column order.
    pub label_counts: Vec<usize>,
}

impl LabelSummary {
    /// Category occurrences outside the 7.
    pub fn n_outside(&self) -> u64 {
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

impl LabelRows {
    /// No label at all (prediction-only input).
    pub fn empty() -> Self {
        Self::from_masks(Vec::new(), Vec::new(), LabelSummary::default())
    }

    /// Rows from darknet-core's label masks (bit k = label k).
    pub fn from_multilabels(ml: &MultiLabels, n_reports: usize) -> Self {
        Self::from_masks(
            ml.ips.clone(),
            ml.masks.clone(),
            LabelSummary {
                n_reports,
                outside_categories: ml.dropped_categories.clone(),
                ..LabelSummary::default()
            },
        )
    }

    fn from_masks(hosts: Vec<Ipv4Addr>, masks: Vec<u8>, mut summary: LabelSummary) -> Self {
        let y = Array2::from_shape_fn((hosts.len(), 7), |(i, k)| masks[i] >> k & 1);
        summary.n_labelled_hosts = masks.iter().filter(|&&m| m != 0).count();
        summary.label_counts = (0..7)
            .map(|k| masks.iter().filter(|&&m| m >> k & 1 == 1).count())
            .collect();
        LabelRows {
            names: label_names(),
            hosts,
            y,
            summary,
        }
    }
}

/// Applies the ≥ `min_reports` rule (distinct reporters per host and category, docs/choices.md#a9)
/// to reports.
pub fn rows_from_reports(reports: &[AbuseReport], min_reports: usize) -> LabelRows {
    let rule = LabelRule {
        min_reports,
        count: ReportCount::DistinctReporters,
    };
    LabelRows::from_multilabels(&labels_from_reports(reports, &rule), reports.len())
}

fn csv_err(path: &Path, line: u64, reason: String) -> PaperAError {
    PaperAError::Csv {
        path: path.to_path_buf(),
        line,
        reason,
    }
}

/// Reads a label file of any of three layouts, told apart by the header:
///
/// - AbuseIPDB-style reports `ip,categories,reporter,date` (darknet-core's layout): the
///   ≥ `min_reports` rule is applied; categories outside the 7 are counted and ignored;
/// - label masks `ip,14,15,18,19,20,21,22` with 0/1 cells (what the `synth` example writes);
/// - a truth CSV in the `evaluate` layout, `id,<label names>` with 0/1 or `id,labels` with
///   `;`-separated names, ids being IPv4 addresses.
///
/// # Errors
/// [`PaperAError::Io`], darknet-core's label errors (line and field), [`PaperAError::Csv`] for
/// an unknown header, a bad address, a cell other than 0/1 or a label name outside the 7.
pub fn read_label_file(path: &Path, min_reports: usize) -> Result<LabelRows> {
    let text = std::fs::read_to_string(path).map_err(super::error::io_err(path))?;
    let header: Vec<String> = text
        .lines()
        .next()
        .unwrap_or("")
        .split(',')
        .map(|s| s.trim().to_ascii_lowercase())
        .collect();
    if header.first().map(String::as_str) == Some("id") {
        return read_truth_labels(path);
    }
    if header.first().map(String::as_str) != Some("ip") {
        return Err(csv_err(
            path,
            1,
            format!(
                "unknown label file header `{}`: expected `ip,categories,reporter,date`, `ip,14,15,18,19,20,21,22` or `id,<label names>`",
                header.join(",")
            ),
        ));
    }
    if header.get(1).map(String::as_str) == Some("categories") {
        let reports = read_abuse_reports(text.as_bytes(), &path.display().to_string())?;
        return Ok(rows_from_reports(&reports, min_reports));
    }
    // Label masks: ip,<category ids>.
    let mut cols = Vec::new();
    for h in &header[1..] {
        let k = h
            .parse::<u8>()
            .ok()
            .and_then(|c| CATEGORY_IDS.iter().position(|&x| x == c))
            .ok_or_else(|| {
                csv_err(
                    path,
                    1,
                    format!("column `{h}` is not one of the categories 14,15,18,19,20,21,22"),
                )
            })?;
        cols.push(k);
    }
    let mut rows: BTreeMap<Ipv4Addr, u8> = BTreeMap::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let n = i as u64 + 1;
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        if f.len() != header.len() {
            return Err(csv_err(
                path,
                n,
                format!("expected {} fields, got {}", header.len(), f.len()),
            ));
        }
        let ip: Ipv4Addr = f[0]
            .parse()
            .map_err(|_| csv_err(path, n, format!("`{}` is not an IPv4 address", f[0])))?;
        let m = rows.entry(ip).or_insert(0);
        for (cell, &k) in f[1..].iter().zip(&cols) {
            match *cell {
                "0" => {}
                "1" => *m |= 1 << k,
                other => return Err(csv_err(path, n, format!("cell `{other}` is not 0 or 1"))),
            }
        }
    }
    Ok(LabelRows::from_masks(
        rows.keys().copied().collect(),
        rows.values().copied().collect(),
        LabelSummary::default(),
    ))
}

/// Reads label rows from a truth CSV in the `evaluate` layout (`id,<label names>` with 0/1, or
/// `id,labels` with `;`-separated names), ids being IPv4 addresses. Columns are matched to
/// [`LABEL_NAMES`] by name.
///
/// # Errors
/// Those of [`darknet_eval::read_truth_csv`]; [`PaperAError::Csv`] for an id that is not an
/// address or a label name outside the 7.
pub fn read_truth_labels(path: &Path) -> Result<LabelRows> {
    let t = darknet_eval::read_truth_csv(path)?;
    let mut col_of = Vec::new();
    for l in &t.labels {
        let Some(c) = LABEL_NAMES.iter().position(|n| n == l) else {
            return Err(csv_err(
                path,
                1,
                format!("label {l:?} is not one of {}", LABEL_NAMES.join(", ")),
            ));
        };
        col_of.push(c);
    }
    let mut rows: BTreeMap<Ipv4Addr, u8> = BTreeMap::new();
    for (i, id) in t.ids.iter().enumerate() {
        let ip: Ipv4Addr = id.parse().map_err(|_| {
            csv_err(
                path,
                t.lines[i],
                format!("id {id:?} is not an IPv4 address"),
            )
        })?;
        let m = rows.entry(ip).or_insert(0);
        for (j, &c) in col_of.iter().enumerate() {
            *m |= (t.values[[i, j]] & 1) << c;
        }
    }
    Ok(LabelRows::from_masks(
        rows.keys().copied().collect(),
        rows.values().copied().collect(),
        LabelSummary::default(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("paper-a-labels-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("labels.csv")
    }

    #[test]
    fn three_layouts_and_the_two_reports_rule() {
        let p = tmp("layouts");
        std::fs::write(
            &p,
            "ip,categories,reporter,date\n192.0.2.1,\"14,22\",1,2021-03-01\n192.0.2.1,14,2,2021-03-01\n192.0.2.2,\"15,4\",1,2021-03-02\n192.0.2.2,4,2,2021-03-02\n",
        )
        .unwrap();
        let r = read_label_file(&p, 2).unwrap();
        assert_eq!(r.hosts, vec![Ipv4Addr::new(192, 0, 2, 1)]);
        assert_eq!(r.y.row(0).to_vec(), vec![1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(r.summary.n_reports, 4);
        assert_eq!(r.summary.outside_categories.get(&4), Some(&2));

        std::fs::write(&p, "ip,14,15,18,19,20,21,22\n192.0.2.9,1,0,0,0,0,0,1\n").unwrap();
        let r = read_label_file(&p, 2).unwrap();
        assert_eq!(r.y.row(0).to_vec(), vec![1, 0, 0, 0, 0, 0, 1]);

        std::fs::write(&p, "id,ssh,port_scan\n192.0.2.9,1,0\n").unwrap();
        let r = read_label_file(&p, 2).unwrap();
        assert_eq!(r.y.row(0).to_vec(), vec![0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(r.summary.label_counts[6], 1);
    }

    #[test]
    fn bad_label_files_name_the_line() {
        let p = tmp("bad");
        std::fs::write(&p, "address,what\n").unwrap();
        assert!(read_label_file(&p, 2)
            .unwrap_err()
            .to_string()
            .contains("unknown label file header"));
        std::fs::write(&p, "ip,14,99\n").unwrap();
        assert!(read_label_file(&p, 2)
            .unwrap_err()
            .to_string()
            .contains("`99`"));
        std::fs::write(&p, "ip,14\n192.0.2.1,2\n").unwrap();
        assert!(read_label_file(&p, 2)
            .unwrap_err()
            .to_string()
            .contains("line 2"));
        std::fs::write(
            &p,
            "ip,categories,reporter,date\n192.0.2.1,77,1,2021-03-01\n",
        )
        .unwrap();
        assert!(read_label_file(&p, 2).is_err());
        std::fs::write(&p, "id,unknown_label\n192.0.2.1,1\n").unwrap();
        assert!(read_label_file(&p, 2)
            .unwrap_err()
            .to_string()
            .contains("unknown_label"));
        std::fs::write(&p, "id,ssh\nhost-1,1\n").unwrap();
        assert!(read_label_file(&p, 2)
            .unwrap_err()
            .to_string()
            .contains("host-1"));
    }
}
