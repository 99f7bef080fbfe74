//! Reading truth and score files, so any classifier's output can be judged (the `evaluate`
//! example and the pipelines use these).
//!
//! - The first column holds the sample id and is named `id`, `ip` or `src_ip` ([`ID_COLUMNS`],
//!   any letter case), so label files keyed by address are read as they are.
//! - Truth CSV, either **wide**: header `id,<label1>,<label2>,...`, one row per sample with
//!   0/1 values; or **long**: header `id,labels`, the sample's labels separated by `;` (an
//!   empty cell = no label).
//! - Scores CSV: header `id,<label1>,...`, one row per sample with scores in [0, 1] (0/1
//!   predictions are scores too).
//!
//! [`align`] matches rows by id (order may differ) and columns by label name, in the scores
//! file's label order. Every problem is an error naming the file and the 1-based line (the
//! header is line 1): a malformed row, a value that is not 0/1, a score outside [0, 1] or NaN,
//! a duplicate id, an id present in one file only, an unknown label.

use crate::error::{EvalError, Result};
use ndarray::Array2;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Sample ids, label names and a value matrix read from a CSV file.
#[derive(Debug, Clone, PartialEq)]
pub struct Table<T> {
    /// The file the table came from (for error messages).
    pub path: PathBuf,
    /// Sample ids, in file order.
    pub ids: Vec<String>,
    /// The 1-based line of each sample's row.
    pub lines: Vec<u64>,
    /// Label names, in column (or first-seen, for long truth files) order.
    pub labels: Vec<String>,
    /// Values `(n_samples, n_labels)`.
    pub values: Array2<T>,
    /// True for a truth file in the long `id,labels` layout (it may omit labels nobody has).
    pub long_format: bool,
}

/// A truth table: 0/1 values.
pub type TruthTable = Table<u8>;
/// A score table: scores in [0, 1].
pub type ScoreTable = Table<f64>;

fn csv_err(path: &Path, line: u64, reason: impl Into<String>) -> EvalError {
    EvalError::Csv {
        path: path.to_path_buf(),
        line,
        reason: reason.into(),
    }
}

fn open(path: &Path) -> Result<std::fs::File> {
    std::fs::File::open(path).map_err(|source| EvalError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Names accepted for the first (sample id) column, compared in lowercase: `id`, or the
/// address column of label files (`ip`, as the synthetic darknet's `labels.csv` writes it, or
/// `src_ip`).
pub const ID_COLUMNS: [&str; 3] = ["id", "ip", "src_ip"];

/// Data rows of a CSV source: (1-based line, fields).
type Rows = Vec<(u64, Vec<String>)>;

/// Header and records of a CSV source, each record with its line.
fn read_rows(reader: impl Read, path: &Path) -> Result<(Vec<String>, Rows)> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(reader);
    let map_csv = |e: csv::Error| {
        let line = e.position().map_or(0, |p| p.line());
        match e.kind() {
            csv::ErrorKind::Io(_) => csv_err(path, line, format!("cannot read: {e}")),
            _ => csv_err(path, line, e.to_string()),
        }
    };
    let header: Vec<String> = rdr
        .headers()
        .map_err(map_csv)?
        .iter()
        .map(str::to_string)
        .collect();
    let id_column = header
        .first()
        .map(|h| h.trim_start_matches('\u{feff}').to_ascii_lowercase());
    if header.len() < 2 || !id_column.is_some_and(|h| ID_COLUMNS.contains(&h.as_str())) {
        return Err(csv_err(
            path,
            1,
            format!(
                "expected a header `id,<label>,...` (the first column named `id`, `ip` or \
                 `src_ip`), got `{}`",
                header.join(",")
            ),
        ));
    }
    let mut seen = BTreeMap::new();
    for (j, h) in header.iter().enumerate().skip(1) {
        if h.is_empty() {
            return Err(csv_err(
                path,
                1,
                format!("column {} has an empty name", j + 1),
            ));
        }
        if seen.insert(h.as_str(), j).is_some() {
            return Err(csv_err(path, 1, format!("column {h:?} appears twice")));
        }
    }
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        match rdr.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(0, |p| p.line());
                if record.len() != header.len() {
                    return Err(csv_err(
                        path,
                        line,
                        format!("expected {} fields, got {}", header.len(), record.len()),
                    ));
                }
                rows.push((line, record.iter().map(str::to_string).collect()));
            }
            Err(e) => return Err(map_csv(e)),
        }
    }
    if rows.is_empty() {
        return Err(EvalError::Empty {
            what: format!("{}: no data rows", path.display()),
        });
    }
    Ok((header, rows))
}

fn check_ids(path: &Path, rows: &[(u64, Vec<String>)]) -> Result<()> {
    let mut first: BTreeMap<&str, u64> = BTreeMap::new();
    for (line, r) in rows {
        if r[0].is_empty() {
            return Err(csv_err(path, *line, "empty id"));
        }
        if let Some(prev) = first.insert(r[0].as_str(), *line) {
            return Err(EvalError::IdMismatch {
                path: path.to_path_buf(),
                line: *line,
                id: r[0].clone(),
                reason: format!("appears twice (first on line {prev})"),
            });
        }
    }
    Ok(())
}

/// Reads a truth CSV (wide or long layout, see the module doc) from `reader`; `path` names it
/// in errors.
///
/// Errors: unreadable input, a bad header, a row with the wrong number of fields, a value
/// other than 0/1, an empty or duplicate id, an empty label name in a long file.
pub fn read_truth(reader: impl Read, path: &Path) -> Result<TruthTable> {
    let (header, rows) = read_rows(reader, path)?;
    check_ids(path, &rows)?;
    let ids: Vec<String> = rows.iter().map(|(_, r)| r[0].clone()).collect();
    let lines: Vec<u64> = rows.iter().map(|(l, _)| *l).collect();
    if header.len() == 2 && header[1] == "labels" {
        let mut labels: Vec<String> = Vec::new();
        let mut index: BTreeMap<String, usize> = BTreeMap::new();
        let mut sets: Vec<Vec<usize>> = Vec::with_capacity(rows.len());
        for (line, r) in &rows {
            let mut set = Vec::new();
            for name in r[1].split(';').map(str::trim) {
                if name.is_empty() {
                    if r[1].trim().is_empty() {
                        continue;
                    }
                    return Err(csv_err(path, *line, "empty label name in `labels`"));
                }
                let next = labels.len();
                let j = *index.entry(name.to_string()).or_insert(next);
                if j == next {
                    labels.push(name.to_string());
                }
                set.push(j);
            }
            sets.push(set);
        }
        let mut values = Array2::<u8>::zeros((rows.len(), labels.len()));
        for (i, set) in sets.iter().enumerate() {
            for &j in set {
                values[[i, j]] = 1;
            }
        }
        return Ok(Table {
            path: path.to_path_buf(),
            ids,
            lines,
            labels,
            values,
            long_format: true,
        });
    }
    let labels: Vec<String> = header[1..].to_vec();
    let mut values = Array2::<u8>::zeros((rows.len(), labels.len()));
    for (i, (line, r)) in rows.iter().enumerate() {
        for (j, v) in r[1..].iter().enumerate() {
            values[[i, j]] = match v.as_str() {
                "0" => 0,
                "1" => 1,
                _ => {
                    return Err(csv_err(
                        path,
                        *line,
                        format!("label {:?}: expected 0 or 1, got {v:?}", labels[j]),
                    ))
                }
            };
        }
    }
    Ok(Table {
        path: path.to_path_buf(),
        ids,
        lines,
        labels,
        values,
        long_format: false,
    })
}

/// Reads a scores CSV (header `id,<label1>,...`, scores in [0, 1]) from `reader`; `path`
/// names it in errors.
///
/// Errors: unreadable input, a bad header, a row with the wrong number of fields, a value that
/// is not a number, NaN, or outside [0, 1], an empty or duplicate id.
pub fn read_scores(reader: impl Read, path: &Path) -> Result<ScoreTable> {
    let (header, rows) = read_rows(reader, path)?;
    check_ids(path, &rows)?;
    let labels: Vec<String> = header[1..].to_vec();
    let mut values = Array2::<f64>::zeros((rows.len(), labels.len()));
    for (i, (line, r)) in rows.iter().enumerate() {
        for (j, v) in r[1..].iter().enumerate() {
            let x: f64 = v.parse().map_err(|_| {
                csv_err(
                    path,
                    *line,
                    format!("label {:?}: {v:?} is not a number", labels[j]),
                )
            })?;
            if !(0.0..=1.0).contains(&x) {
                let what = if x.is_nan() {
                    "is NaN"
                } else {
                    "is outside [0, 1]"
                };
                return Err(csv_err(
                    path,
                    *line,
                    format!("label {:?}: score {v} {what}", labels[j]),
                ));
            }
            values[[i, j]] = x;
        }
    }
    Ok(Table {
        path: path.to_path_buf(),
        ids: rows.iter().map(|(_, r)| r[0].clone()).collect(),
        lines: rows.iter().map(|(l, _)| *l).collect(),
        labels,
        values,
        long_format: false,
    })
}

/// [`read_truth`] from a file.
///
/// Errors: the file cannot be opened, or as [`read_truth`].
pub fn read_truth_csv(path: impl AsRef<Path>) -> Result<TruthTable> {
    let path = path.as_ref();
    read_truth(open(path)?, path)
}

/// [`read_scores`] from a file.
///
/// Errors: the file cannot be opened, or as [`read_scores`].
pub fn read_scores_csv(path: impl AsRef<Path>) -> Result<ScoreTable> {
    let path = path.as_ref();
    read_scores(open(path)?, path)
}

/// Truth and scores matched by id and label.
#[derive(Debug, Clone, PartialEq)]
pub struct Aligned {
    /// Sample ids, in the truth file's order.
    pub ids: Vec<String>,
    /// Label names, in the scores file's order.
    pub labels: Vec<String>,
    /// Truth `(n_samples, n_labels)`, 0/1.
    pub y_true: Array2<u8>,
    /// Scores `(n_samples, n_labels)`, in [0, 1].
    pub y_score: Array2<f64>,
}

/// Matches truth and score rows by id and columns by label name.
///
/// Rows follow the truth file's order and columns the scores file's. A long truth file may
/// omit labels that no sample carries.
/// Errors: a truth label not in the scores header, a wide truth file lacking a score label,
/// an id in one file only.
pub fn align(truth: &TruthTable, scores: &ScoreTable) -> Result<Aligned> {
    let col: BTreeMap<&str, usize> = scores
        .labels
        .iter()
        .enumerate()
        .map(|(j, l)| (l.as_str(), j))
        .collect();
    let mut map = Vec::with_capacity(truth.labels.len());
    for (j, l) in truth.labels.iter().enumerate() {
        let Some(&sj) = col.get(l.as_str()) else {
            // In a long file, name the first line carrying the label.
            let line = (0..truth.ids.len())
                .find(|&i| truth.values[[i, j]] == 1)
                .map_or(1, |i| truth.lines[i]);
            return Err(EvalError::UnknownLabel {
                what: format!(
                    "{}:{line} (not a column of {})",
                    truth.path.display(),
                    scores.path.display()
                ),
                label: l.clone(),
            });
        };
        map.push(sj);
    }
    if !truth.long_format {
        let have: std::collections::BTreeSet<&str> =
            truth.labels.iter().map(String::as_str).collect();
        if let Some(missing) = scores.labels.iter().find(|l| !have.contains(l.as_str())) {
            return Err(EvalError::UnknownLabel {
                what: format!(
                    "{}:1 (not a column of {})",
                    scores.path.display(),
                    truth.path.display()
                ),
                label: missing.clone(),
            });
        }
    }
    let row: BTreeMap<&str, usize> = scores
        .ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    let n = truth.ids.len();
    let n_labels = scores.labels.len();
    let mut y_true = Array2::<u8>::zeros((n, n_labels));
    let mut y_score = Array2::<f64>::zeros((n, n_labels));
    let mut used = vec![false; scores.ids.len()];
    for (i, id) in truth.ids.iter().enumerate() {
        let Some(&si) = row.get(id.as_str()) else {
            return Err(EvalError::IdMismatch {
                path: truth.path.clone(),
                line: truth.lines[i],
                id: id.clone(),
                reason: format!("has no row in {}", scores.path.display()),
            });
        };
        used[si] = true;
        for (j, &sj) in map.iter().enumerate() {
            y_true[[i, sj]] = truth.values[[i, j]];
        }
        y_score.row_mut(i).assign(&scores.values.row(si));
    }
    if let Some(si) = used.iter().position(|&u| !u) {
        return Err(EvalError::IdMismatch {
            path: scores.path.clone(),
            line: scores.lines[si],
            id: scores.ids[si].clone(),
            reason: format!("has no row in {}", truth.path.display()),
        });
    }
    Ok(Aligned {
        ids: truth.ids.clone(),
        labels: scores.labels.clone(),
        y_true,
        y_score,
    })
}
