//! What every command line shares: writing to standard output without panicking, single-file
//! outputs that are complete or absent, run directories finished by a manifest, and the checks
//! that keep an output from ever replacing an input.
//!
//! # Standard output
//! [`outln!`](crate::outln) and [`out!`](crate::out) write to standard output and return a
//! [`CliError`] instead of panicking as `println!` does. A closed pipe (`quickstart | head -1`)
//! ends the program quietly with exit status [`EXIT_BROKEN_PIPE`] (141 = 128 + SIGPIPE, what a
//! shell reports for a Unix tool stopped by a closed pipe: the rest of the output was lost); any
//! other write error (a full disk: `inspect > /dev/full`) is an error naming standard output.
//! [`errln!`](crate::errln) writes a line to standard error and never fails.
//!
//! # Files
//! [`OutputFile`] is a file named on the command line (`-o`, `--json`, `--predict`, ...): `-`
//! is standard output; any other path is written under a temporary name beside it and renamed
//! over it by [`OutputFile::commit`], so a failing run leaves a previous file untouched and no
//! partial file behind. It refuses a path that is one of the program's inputs (through links and
//! other spellings too) before anything is opened for writing.
//!
//! [`RunDir`] is a run's output directory (`--out`): checked before any work starts (not a file,
//! writable, empty or holding one of our manifests, or `--force`), filled through a hidden
//! staging directory inside it, and finished by moving the staged files into place, removing the
//! previous run's files not written again and writing `manifest.json` last. A failing run leaves
//! the previous run's files untouched.
use crate::CliError;
use darknet_core::io::output::{
    refuse_input_as_output, write_atomic, AtomicFile, Manifest, ManifestFile, OutputDir, RunInfo,
    MANIFEST_FORMAT, MANIFEST_NAME,
};
use std::collections::BTreeSet;
use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Exit status of a program whose standard output was closed before it finished writing
/// (128 + SIGPIPE, as a shell reports for a Unix tool stopped by a closed pipe).
pub const EXIT_BROKEN_PIPE: u8 = 141;

/// Writing to standard output failed.
#[derive(Debug, thiserror::Error)]
#[error("standard output: cannot write: {0}")]
pub struct StdoutError(#[source] pub io::Error);

/// Writes formatted text to standard output (locked for the call).
///
/// # Errors
/// [`StdoutError`] when the write fails (a closed pipe keeps [`io::ErrorKind::BrokenPipe`]).
pub fn print_fmt(args: fmt::Arguments<'_>) -> Result<(), CliError> {
    let mut lock = io::stdout().lock();
    lock.write_fmt(args)
        .map_err(|e| Box::new(StdoutError(e)) as CliError)
}

/// Flushes standard output.
///
/// # Errors
/// [`StdoutError`] when the flush fails.
pub fn flush_stdout() -> Result<(), CliError> {
    io::stdout()
        .lock()
        .flush()
        .map_err(|e| Box::new(StdoutError(e)) as CliError)
}

/// `println!` that returns `Result<(), CliError>` instead of panicking; use with `?`.
#[macro_export]
macro_rules! outln {
    () => { $crate::cli::print_fmt(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::cli::print_fmt(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `print!` that returns `Result<(), CliError>` instead of panicking; use with `?`.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::cli::print_fmt(format_args!($($arg)*)) };
}

/// `eprintln!` that never panics: a message that cannot be shown is dropped.
#[macro_export]
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

/// True when an error or one of its causes is a closed pipe (darknet-core's test).
pub use darknet_core::io::output::is_broken_pipe;

/// True when a path given on the command line means standard input or output.
pub fn is_dash(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Refuses the output `path` when it is one of `inputs` (the same file, also through a link or
/// another spelling) or lies inside an input directory (a model directory, a directory of
/// captures); `-` is never refused.
///
/// # Errors
/// darknet-core's `OutputIsInput` naming both paths, or a message naming the input directory.
pub fn refuse_inputs(path: &Path, inputs: &[PathBuf]) -> Result<(), CliError> {
    refuse_input_as_output(path, inputs)?;
    if is_dash(path) {
        return Ok(());
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let Ok(out_dir) = std::fs::canonicalize(parent) else {
        return Ok(());
    };
    for input in inputs.iter().filter(|p| !is_dash(p) && p.is_dir()) {
        if let Ok(dir) = std::fs::canonicalize(input) {
            if out_dir.starts_with(&dir) {
                return Err(format!(
                    "{}: refusing to write here: it lies inside the input directory {}; choose \
                     another output path",
                    path.display(),
                    input.display()
                )
                .into());
            }
        }
    }
    Ok(())
}

/// An output file named on the command line: standard output for `-`, else written atomically.
pub enum OutputFile {
    /// Standard output, buffered.
    Stdout(io::BufWriter<io::Stdout>),
    /// A file written under a temporary name and renamed into place on commit.
    File(AtomicFile),
}

impl OutputFile {
    /// Checks `path` against `inputs` and opens it (a temporary file beside it, so a missing or
    /// read-only directory is an error now, before any work).
    ///
    /// # Errors
    /// darknet-core's `OutputIsInput` or `Output` errors naming `path`.
    pub fn create(path: &Path, inputs: &[PathBuf]) -> Result<Self, CliError> {
        if is_dash(path) {
            return Ok(OutputFile::Stdout(io::BufWriter::with_capacity(
                1 << 16,
                io::stdout(),
            )));
        }
        refuse_inputs(path, inputs)?;
        Ok(OutputFile::File(AtomicFile::create(path)?))
    }

    /// True when this is standard output.
    pub fn is_stdout(&self) -> bool {
        matches!(self, OutputFile::Stdout(_))
    }

    /// Flushes standard output, or renames the file into place; returns the bytes of the file
    /// (0 for standard output).
    ///
    /// # Errors
    /// The write, sync or rename error naming the output.
    pub fn commit(self) -> Result<u64, CliError> {
        match self {
            OutputFile::Stdout(mut w) => {
                w.flush()
                    .map_err(|e| Box::new(StdoutError(e)) as CliError)?;
                Ok(0)
            }
            OutputFile::File(f) => Ok(f.commit()?),
        }
    }
}

impl Write for OutputFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            OutputFile::Stdout(w) => w.write(buf),
            OutputFile::File(f) => f.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            OutputFile::Stdout(w) => w.write_all(buf),
            OutputFile::File(f) => f.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            OutputFile::Stdout(w) => w.flush(),
            OutputFile::File(f) => f.flush(),
        }
    }
}

/// Writes `text` to `out` and commits it.
///
/// # Errors
/// The write or commit error naming the output.
pub fn write_output(mut out: OutputFile, text: &[u8]) -> Result<u64, CliError> {
    let r = out.write_all(text);
    if let Err(e) = r {
        return Err(match out {
            OutputFile::Stdout(_) => Box::new(StdoutError(e)),
            OutputFile::File(f) => format!("{}: cannot write: {e}", f.target().display()).into(),
        });
    }
    out.commit()
}

/// Refuses two outputs of one program that are both standard output.
///
/// # Errors
/// A message naming the two flags.
pub fn one_stdout(outputs: &[(&str, Option<&Path>)]) -> Result<(), CliError> {
    let dashes: Vec<&str> = outputs
        .iter()
        .filter(|(_, p)| p.is_some_and(is_dash))
        .map(|(f, _)| *f)
        .collect();
    if dashes.len() > 1 {
        return Err(format!(
            "{} all write to standard output (`-`); give at most one of them `-`",
            dashes.join(" and ")
        )
        .into());
    }
    Ok(())
}

/// Counter making staging names unique within the process.
static STAGING: AtomicU64 = AtomicU64::new(0);

/// A run's output directory (`--out`): prepared before any work, written through a hidden
/// staging directory, finished by a manifest written last.
#[derive(Debug)]
pub struct RunDir {
    dir: PathBuf,
    staging: PathBuf,
    previous: Vec<ManifestFile>,
    finished: bool,
    created: bool,
}

impl RunDir {
    /// Checks `dir` before any work starts: not a file, writable, and empty, holding a previous
    /// run's manifest, or `force`; none of `inputs` may be the directory or lie inside it. Creates
    /// `dir` when missing and a hidden staging directory inside it.
    ///
    /// # Errors
    /// darknet-core's `OutputDir` error naming the directory and saying what to do, or a message
    /// naming the input found inside it.
    pub fn prepare(dir: &Path, force: bool, inputs: &[PathBuf]) -> Result<Self, CliError> {
        if is_dash(dir) {
            return Err("`-` cannot be a run directory; give a directory path".into());
        }
        if let Ok(canon_dir) = std::fs::canonicalize(dir) {
            for input in inputs.iter().filter(|p| !is_dash(p)) {
                if let Ok(c) = std::fs::canonicalize(input) {
                    if c.starts_with(&canon_dir) {
                        return Err(format!(
                            "{}: refusing to write the run here: it holds the input {}; choose \
                             another output directory",
                            dir.display(),
                            input.display()
                        )
                        .into());
                    }
                }
            }
        }
        let created = !dir.exists();
        let mut prepared = OutputDir::prepare(dir, force).map_err(|e| -> CliError {
            let msg = e.to_string();
            if msg.ends_with("or force writing into it") {
                format!("{msg} with --force").into()
            } else {
                Box::new(e)
            }
        })?;
        prepared.protect_inputs(inputs)?;
        let previous = prepared.previous_files().to_vec();
        let n = STAGING.fetch_add(1, Ordering::Relaxed);
        let staging = dir.join(format!(".darknet-run.tmp-{}-{n}", std::process::id()));
        std::fs::create_dir(&staging).map_err(|e| {
            format!(
                "{}: cannot create the staging directory {}: {e}",
                dir.display(),
                staging.display()
            )
        })?;
        Ok(RunDir {
            dir: dir.to_path_buf(),
            staging,
            previous,
            finished: false,
            created,
        })
    }

    /// Where the run writes its files until [`finish`](Self::finish) moves them into place.
    pub fn staging(&self) -> &Path {
        &self.staging
    }

    /// The run directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The files written so far into the staging directory (relative, `/`-separated, sorted).
    ///
    /// # Errors
    /// A message naming a directory that cannot be listed.
    pub fn staged_files(&self) -> Result<Vec<ManifestFile>, CliError> {
        let mut files = Vec::new();
        list_files(&self.staging, "", &mut files)?;
        files.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(files)
    }

    /// Moves the staged files into the run directory, removes the previous run's files not
    /// written again, and writes `manifest.json` last. Returns the manifest (its `files` are the
    /// run's files, without the manifest itself).
    ///
    /// # Errors
    /// A message naming the file that could not be moved or removed, or the manifest's write
    /// error.
    pub fn finish(mut self, info: RunInfo) -> Result<Manifest, CliError> {
        let files = self.staged_files()?;
        if files.iter().any(|f| f.name == MANIFEST_NAME) {
            return Err(format!(
                "{}: the run wrote a file named {MANIFEST_NAME}, the manifest's name",
                self.dir.display()
            )
            .into());
        }
        let new: BTreeSet<&str> = files.iter().map(|f| f.name.as_str()).collect();
        // While files move, the manifest lists both runs' files as incomplete, so an interrupted
        // move leaves a directory the next run can replace.
        let mut listed = files.clone();
        listed.extend(
            self.previous
                .iter()
                .filter(|f| !new.contains(f.name.as_str()))
                .cloned(),
        );
        write_manifest(&self.dir, &manifest(None, listed))?;
        for f in &files {
            let from = self.staging.join(&f.name);
            let to = self.dir.join(&f.name);
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent).map_err(|e| {
                    format!("{}: cannot create the directory: {e}", parent.display())
                })?;
            }
            std::fs::rename(&from, &to)
                .map_err(|e| format!("{}: cannot move into place: {e}", to.display()))?;
        }
        for old in self
            .previous
            .iter()
            .filter(|f| !new.contains(f.name.as_str()))
        {
            let p = self.dir.join(&old.name);
            match std::fs::remove_file(&p) {
                Ok(()) => remove_empty_parents(&self.dir, &p),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(format!(
                        "{}: cannot remove this file of the previous run: {e}",
                        p.display()
                    )
                    .into())
                }
            }
        }
        let _ = std::fs::remove_dir_all(&self.staging);
        self.finished = true;
        let m = manifest(Some(info), files);
        write_manifest(&self.dir, &m)?;
        Ok(m)
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        if !self.finished {
            // A failed run: its partial files go, the previous run's files stay as they were,
            // and a directory this run created goes too (`remove_dir` only removes it empty).
            let _ = std::fs::remove_dir_all(&self.staging);
            if self.created {
                let _ = std::fs::remove_dir(&self.dir);
            }
        }
    }
}

/// The manifest of a finished run (`info` given) or of one still moving its files into place.
fn manifest(info: Option<RunInfo>, files: Vec<ManifestFile>) -> Manifest {
    let complete = info.is_some();
    let info = info.unwrap_or(RunInfo {
        command_line: Vec::new(),
        seed: None,
        settings: serde_json::Value::Null,
    });
    Manifest {
        format: MANIFEST_FORMAT.to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        complete,
        command_line: info.command_line,
        seed: info.seed,
        settings: info.settings,
        files,
    }
}

fn write_manifest(dir: &Path, m: &Manifest) -> Result<(), CliError> {
    let mut text = serde_json::to_vec_pretty(m)?;
    text.push(b'\n');
    write_atomic(dir.join(MANIFEST_NAME), &text)?;
    Ok(())
}

/// Removes the directories between `file` and `root` that are left empty.
fn remove_empty_parents(root: &Path, file: &Path) {
    let mut cur = file.parent();
    while let Some(d) = cur {
        if d == root || !d.starts_with(root) || std::fs::remove_dir(d).is_err() {
            break;
        }
        cur = d.parent();
    }
}

fn list_files(dir: &Path, prefix: &str, out: &mut Vec<ManifestFile>) -> Result<(), CliError> {
    let rd = std::fs::read_dir(dir).map_err(|e| format!("{}: cannot list: {e}", dir.display()))?;
    for entry in rd {
        let entry = entry.map_err(|e| format!("{}: cannot list: {e}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let meta = entry
            .metadata()
            .map_err(|e| format!("{}: {e}", entry.path().display()))?;
        if meta.is_dir() {
            list_files(&entry.path(), &rel, out)?;
        } else {
            out.push(ManifestFile {
                name: rel,
                bytes: meta.len(),
            });
        }
    }
    Ok(())
}

/// Parses the command line of `T` after appending `[default: ...]` to the help of the
/// arguments in `defaults` (argument id, default text): for options whose default comes from a
/// configuration at run time rather than from clap.
pub fn parse_with_defaults<T: clap::Parser>(defaults: &[(&str, String)]) -> T {
    let mut cmd = T::command();
    for (id, text) in defaults {
        let id = id.to_string();
        let text = text.clone();
        cmd = cmd.mut_arg(id, move |a| {
            let help = a.get_help().map(|h| h.to_string()).unwrap_or_default();
            a.help(format!("{help} [default: {text}]"))
        });
    }
    let matches = cmd.get_matches();
    T::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

/// The default text of an option whose `--quick` value differs: `D` or `D; --quick: Q`.
pub fn default_text<D: fmt::Display + PartialEq>(default: D, quick: D) -> String {
    if default == quick {
        default.to_string()
    } else {
        format!("{default}; --quick: {quick}")
    }
}
