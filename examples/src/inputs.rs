//! The capture inputs of a command line: files and directories given as positional arguments or
//! with `--input`, resolved to the list of capture files to read with a warning for every file
//! skipped and every file given twice.
use crate::{errln, CliError};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Capture inputs: positional paths and `--input` paths alike (files, directories, `-` for
/// standard input).
#[derive(clap::Args, Debug, Clone, Default, serde::Serialize)]
pub struct InputArgs {
    /// Capture files or directories (pcap, pcapng, CSV; gzip-compressed too; `-` = stdin).
    /// Without any: the built-in synthetic darknet.
    #[arg(value_name = "INPUT")]
    pub paths: Vec<PathBuf>,
    /// More capture files or directories (same as the positional inputs).
    #[arg(long = "input", value_name = "INPUT", num_args = 1..)]
    pub flagged: Vec<PathBuf>,
}

impl InputArgs {
    /// Every path given, positional first, in order.
    pub fn all(&self) -> Vec<PathBuf> {
        self.paths.iter().chain(&self.flagged).cloned().collect()
    }

    /// True when no input was given (the synthetic darknet is used).
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty() && self.flagged.is_empty()
    }

    /// The capture files to read: directories expanded, each file once. Warnings (files
    /// skipped in a directory, a file given twice) go to stderr as `PROGRAM: warning: ...`.
    ///
    /// # Errors
    /// A message naming an input that does not exist or a directory that cannot be listed or
    /// holds no capture.
    pub fn resolve(&self, program: &str) -> Result<Vec<PathBuf>, CliError> {
        let (files, warnings) = capture_files(&self.all())?;
        for w in &warnings {
            errln!("{program}: warning: {w}");
        }
        Ok(files)
    }
}

/// True for a file name of a capture: `.pcap`, `.pcapng`, `.cap` or `.csv`, gzip-compressed
/// (`.gz`) or not.
fn capture_kind(path: &Path) -> Option<&'static str> {
    let name = path.file_name()?.to_str()?.to_ascii_lowercase();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    if [".pcap", ".pcapng", ".cap"]
        .iter()
        .any(|e| name.ends_with(e))
    {
        Some("pcap")
    } else if name.ends_with(".csv") {
        Some("csv")
    } else {
        None
    }
}

/// Expands directories (their pcap / pcapng / cap files, gzip-compressed or not, in name order;
/// their CSV files when they hold no pcap) and drops repeated files; returns the files and the
/// warnings.
pub fn capture_files(paths: &[PathBuf]) -> Result<(Vec<PathBuf>, Vec<String>), CliError> {
    let mut files = Vec::new();
    let mut warnings = Vec::new();
    let mut seen = BTreeSet::new();
    let mut push = |f: PathBuf, warnings: &mut Vec<String>| {
        let key = std::fs::canonicalize(&f).unwrap_or_else(|_| f.clone());
        if f.as_os_str() != "-" && !seen.insert(key) {
            warnings.push(format!(
                "{} is given more than once; read once",
                f.display()
            ));
        } else {
            files.push(f);
        }
    };
    for p in paths {
        if p.as_os_str() == "-" {
            push(p.clone(), &mut warnings);
            continue;
        }
        let meta =
            std::fs::metadata(p).map_err(|e| format!("{}: cannot read: {e}", p.display()))?;
        if !meta.is_dir() {
            push(p.clone(), &mut warnings);
            continue;
        }
        let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
            .map_err(|e| format!("{}: cannot list: {e}", p.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|f| f.is_file())
            .filter(|f| {
                !f.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with('.'))
            })
            .collect();
        entries.sort();
        let pcaps: Vec<&PathBuf> = entries
            .iter()
            .filter(|f| capture_kind(f) == Some("pcap"))
            .collect();
        let chosen: Vec<&PathBuf> = if pcaps.is_empty() {
            entries
                .iter()
                .filter(|f| capture_kind(f) == Some("csv"))
                .collect()
        } else {
            pcaps
        };
        if chosen.is_empty() {
            return Err(format!(
                "{}: no capture file in this directory (pcap, pcapng, cap or csv, .gz too)",
                p.display()
            )
            .into());
        }
        let skipped: Vec<String> = entries
            .iter()
            .filter(|f| !chosen.contains(f))
            .map(|f| f.display().to_string())
            .collect();
        if !skipped.is_empty() {
            warnings.push(format!(
                "{}: not read as captures: {}",
                p.display(),
                skipped.join(", ")
            ));
        }
        for f in chosen {
            push(f.clone(), &mut warnings);
        }
    }
    Ok((files, warnings))
}
