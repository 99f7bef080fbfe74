//! Writing outputs safely: complete or absent, never over an input.
//!
//! - [`AtomicFile`] writes under a temporary name in the target's directory
//!   (`.NAME.tmp-PID-N`); [`AtomicFile::commit`] flushes, syncs and renames it over the target.
//!   Dropped without a commit (an error, a panic), the temporary file is removed and a previous
//!   file at the target path is untouched. Targets that are not regular files (`/dev/null`, a
//!   FIFO, a terminal) are written directly, since they cannot be renamed over.
//!   [`write_atomic`] and [`write_atomic_with`] write a whole file in one call.
//! - [`refuse_input_as_output`] checks, before anything is opened for writing, that an output
//!   path is none of the inputs: the same file also through a symbolic link, a hard link or
//!   another spelling (`./a/../a.pcap`). The output need not exist yet.
//! - [`OutputDir`] is a run's output directory: [`OutputDir::prepare`] checks it up front
//!   (not a file, writable, and either empty, or holding a previous run's manifest, or allowed
//!   with `force`); files are written atomically through it; [`OutputDir::finish`] removes the
//!   previous run's files this run did not write again and writes `manifest.json` last.
//!
//! Every error names the path concerned ([`CoreError::Output`], [`CoreError::OutputIsInput`],
//! [`CoreError::OutputDir`]); a full disk surfaces as an error naming the output, and
//! [`is_broken_pipe`] tells a closed standard output from other failures.
//!
//! A target that is a symbolic link to a regular file is replaced by the new file (the link's
//! own target is left as it was).
//!
//! ```
//! use darknet_core::io::output::{write_atomic, AtomicFile};
//! use std::io::Write;
//!
//! let dir = std::env::temp_dir().join(format!("darknet-doc-atomic-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("hosts.csv");
//! write_atomic(&path, b"ip\n192.0.2.1\n")?;
//!
//! let mut f = AtomicFile::create(&path)?;
//! f.write_all(b"partial").unwrap();
//! drop(f); // no commit: the previous content stays
//! assert_eq!(std::fs::read(&path).unwrap(), b"ip\n192.0.2.1\n");
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), darknet_core::CoreError>(())
//! ```

use crate::error::{CoreError, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Counter making temporary and probe names unique within the process.
static UNIQUE: AtomicU64 = AtomicU64::new(0);

/// Name of the manifest file [`OutputDir::finish`] writes.
pub const MANIFEST_NAME: &str = "manifest.json";

/// The `format` field that marks a manifest as one of ours.
pub const MANIFEST_FORMAT: &str = "darknet-run-manifest/1";

fn display(path: &Path) -> String {
    path.display().to_string()
}

fn out_err(path: &Path, action: &'static str, source: io::Error) -> CoreError {
    CoreError::Output {
        output: display(path),
        action,
        source,
    }
}

fn dir_err(path: &Path, reason: impl Into<String>) -> CoreError {
    CoreError::OutputDir {
        path: display(path),
        reason: reason.into(),
    }
}

/// The directory a path's file lives in (`.` for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// True when the temporary-name pattern of [`AtomicFile`] matches `name`.
fn is_temp_name(name: &str) -> bool {
    name.starts_with('.') && name.contains(".tmp-")
}

/// Where an [`AtomicFile`] writes.
enum Target {
    /// A temporary file renamed over the target on commit.
    Temp(PathBuf),
    /// The target itself (not a regular file: a device, FIFO or terminal).
    Direct,
}

/// A file written under a temporary name and renamed over its target by [`commit`](Self::commit).
///
/// Implements [`Write`] (buffered); write errors carry the target path in their message and
/// keep their [`io::ErrorKind`] (a closed pipe stays [`io::ErrorKind::BrokenPipe`]). Dropping
/// it without a commit removes the temporary file. The permissions of a file already at the
/// target path are kept. On Unix the directory is synced after the rename, so a committed file
/// survives a crash.
pub struct AtomicFile {
    target: PathBuf,
    mode: Target,
    writer: Option<BufWriter<File>>,
    bytes_written: u64,
}

impl AtomicFile {
    /// Creates the temporary file beside `path` (or opens `path` directly when it exists and is
    /// not a regular file, such as `/dev/null`). `-` is an ordinary file name here: writing to
    /// standard output is the caller's choice.
    ///
    /// # Errors
    /// [`CoreError::Output`] naming `path` when its directory does not exist or is not
    /// writable, or `path` is a directory.
    pub fn create(path: impl AsRef<Path>) -> Result<Self> {
        let target = path.as_ref().to_path_buf();
        match fs::metadata(&target) {
            Ok(m) if m.is_dir() => {
                return Err(out_err(
                    &target,
                    "write the file",
                    io::Error::new(io::ErrorKind::IsADirectory, "it is a directory"),
                ))
            }
            Ok(m) if !m.is_file() => {
                let f = OpenOptions::new()
                    .write(true)
                    .open(&target)
                    .map_err(|e| out_err(&target, "open", e))?;
                return Ok(AtomicFile {
                    target,
                    mode: Target::Direct,
                    writer: Some(BufWriter::with_capacity(64 * 1024, f)),
                    bytes_written: 0,
                });
            }
            _ => {}
        }
        let file_name = target.file_name().ok_or_else(|| {
            out_err(
                &target,
                "write the file",
                io::Error::new(io::ErrorKind::InvalidInput, "the path has no file name"),
            )
        })?;
        let dir = parent_dir(&target);
        let pid = std::process::id();
        loop {
            let n = UNIQUE.fetch_add(1, Ordering::Relaxed);
            let mut name = OsString::from(".");
            name.push(file_name);
            name.push(format!(".tmp-{pid}-{n}"));
            let temp = dir.join(name);
            match OpenOptions::new().write(true).create_new(true).open(&temp) {
                Ok(f) => {
                    if let Ok(m) = fs::metadata(&target) {
                        // Best effort: a rerun keeps the mode the user gave the file.
                        let _ = f.set_permissions(m.permissions());
                    }
                    return Ok(AtomicFile {
                        target,
                        mode: Target::Temp(temp),
                        writer: Some(BufWriter::with_capacity(64 * 1024, f)),
                        bytes_written: 0,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(out_err(&target, "create a temporary file beside it", e)),
            }
        }
    }

    /// The path the file will have once committed.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// The temporary path written until the commit (`None` when the target is written
    /// directly).
    pub fn temp_path(&self) -> Option<&Path> {
        match &self.mode {
            Target::Temp(p) => Some(p),
            Target::Direct => None,
        }
    }

    /// Flushes and syncs the data, renames the temporary file over the target and returns the
    /// file's size in bytes.
    ///
    /// # Errors
    /// [`CoreError::Output`] naming the target when a write, the sync or the rename fails (a
    /// full disk, a closed pipe); the temporary file is then removed and a previous file at the
    /// target is untouched.
    pub fn commit(mut self) -> Result<u64> {
        let writer = self
            .writer
            .take()
            .expect("writer present until commit or drop");
        let file = writer
            .into_inner()
            .map_err(|e| out_err(&self.target, "write", e.into_error()))?;
        let Target::Temp(temp) = &self.mode else {
            // A device or pipe: nothing to sync or rename; its size is what was written.
            return Ok(self.bytes_written);
        };
        file.sync_all()
            .map_err(|e| out_err(&self.target, "sync the data to disk", e))?;
        let size = file
            .metadata()
            .map_err(|e| out_err(&self.target, "read the size of", e))?
            .len();
        drop(file);
        fs::rename(temp, &self.target)
            .map_err(|e| out_err(&self.target, "rename into place", e))?;
        // Renamed: nothing to clean up on drop.
        self.mode = Target::Direct;
        sync_dir(parent_dir(&self.target));
        Ok(size)
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let target = &self.target;
        let n = self
            .writer
            .as_mut()
            .expect("writer present until commit or drop")
            .write(buf)
            .map_err(|e| named_io(target, e))?;
        self.bytes_written += n as u64;
        Ok(n)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        let target = &self.target;
        self.writer
            .as_mut()
            .expect("writer present until commit or drop")
            .write_all(buf)
            .map_err(|e| named_io(target, e))?;
        self.bytes_written += buf.len() as u64;
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        let target = &self.target;
        self.writer
            .as_mut()
            .expect("writer present until commit or drop")
            .flush()
            .map_err(|e| named_io(target, e))
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if let Target::Temp(temp) = &self.mode {
            // Drop the buffered data unwritten: the temporary file is going away.
            if let Some(w) = self.writer.take() {
                let (file, _) = w.into_parts();
                drop(file);
            }
            let _ = fs::remove_file(temp);
        }
    }
}

impl std::fmt::Debug for AtomicFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AtomicFile")
            .field("target", &self.target)
            .field("temp", &self.temp_path())
            .finish()
    }
}

/// An I/O error whose message names the output, keeping its kind.
fn named_io(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// True when `err` or one of its sources is an I/O error of kind
/// [`io::ErrorKind::BrokenPipe`]: the reader of standard output went away (`tool | head`),
/// which command-line tools end quietly on rather than report.
pub fn is_broken_pipe(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(io) = e.downcast_ref::<io::Error>() {
            if io.kind() == io::ErrorKind::BrokenPipe {
                return true;
            }
        }
        cur = e.source();
    }
    false
}

/// Syncs a directory so a rename in it is durable (Unix; best effort).
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// Writes `bytes` to `path` atomically and returns the size written.
///
/// # Errors
/// Those of [`AtomicFile::create`] and [`AtomicFile::commit`].
pub fn write_atomic(path: impl AsRef<Path>, bytes: &[u8]) -> Result<u64> {
    let mut f = AtomicFile::create(path)?;
    f.write_all(bytes)
        .map_err(|e| out_err(f.target(), "write", e))?;
    f.commit()
}

/// Writes `path` atomically through `write`, which gets the open file; the file replaces the
/// target only when `write` returns `Ok`. Returns the size written.
///
/// # Errors
/// The error of `write`, or those of [`AtomicFile::create`] and [`AtomicFile::commit`].
pub fn write_atomic_with<F>(path: impl AsRef<Path>, write: F) -> Result<u64>
where
    F: FnOnce(&mut AtomicFile) -> Result<()>,
{
    let mut f = AtomicFile::create(path)?;
    write(&mut f)?;
    f.commit()
}

/// A file's identity: device and inode on Unix, the canonical path elsewhere.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum FileId {
    #[cfg(unix)]
    Inode(u64, u64),
    #[cfg(not(unix))]
    Canonical(PathBuf),
}

pub(crate) fn file_id(path: &Path) -> Option<FileId> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        fs::metadata(path)
            .ok()
            .map(|m| FileId::Inode(m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    {
        fs::canonicalize(path).ok().map(FileId::Canonical)
    }
}

/// The canonical form of a path that may not exist yet: its canonical directory joined with
/// its file name.
fn canonical_maybe_missing(path: &Path) -> Option<PathBuf> {
    if let Ok(p) = fs::canonicalize(path) {
        return Some(p);
    }
    let name = path.file_name()?;
    let dir = fs::canonicalize(parent_dir(path)).ok()?;
    Some(dir.join(name))
}

/// Refuses an output path that names one of the inputs.
///
/// Compares the files themselves (device and inode on Unix, so symbolic links and hard links
/// are seen through; canonical paths elsewhere) and the canonical spellings (so an output that
/// does not exist yet is compared through its canonical directory and file name). `-`
/// (standard input or output) is never compared. Call it before opening anything for writing.
///
/// # Errors
/// [`CoreError::OutputIsInput`] naming both paths as given.
pub fn refuse_input_as_output<P: AsRef<Path>>(
    output: impl AsRef<Path>,
    inputs: &[P],
) -> Result<()> {
    let output = output.as_ref();
    if output.as_os_str() == "-" {
        return Ok(());
    }
    let out_id = file_id(output);
    let out_canon = canonical_maybe_missing(output);
    for input in inputs {
        let input = input.as_ref();
        if input.as_os_str() == "-" {
            continue;
        }
        let same_file = out_id.is_some() && out_id == file_id(input);
        let same_path = out_canon.is_some() && out_canon == canonical_maybe_missing(input);
        if same_file || same_path {
            return Err(CoreError::OutputIsInput {
                output: display(output),
                input: display(input),
            });
        }
    }
    Ok(())
}

/// One file of a run, as listed in its manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    /// Path relative to the run directory, with `/` separators.
    pub name: String,
    /// Size in bytes.
    pub bytes: u64,
}

/// What a run records about itself in its manifest, besides the files: given to
/// [`OutputDir::finish`].
#[derive(Clone, Debug, PartialEq)]
pub struct RunInfo {
    /// The command line (program and arguments).
    pub command_line: Vec<String>,
    /// The seed of the run's random components, if any.
    pub seed: Option<u64>,
    /// The run's settings (any JSON value; typically an object of the options used).
    pub settings: serde_json::Value,
}

impl RunInfo {
    /// The current process's command line (arguments converted lossily to UTF-8) with `seed`
    /// and `settings`.
    pub fn from_env(seed: Option<u64>, settings: serde_json::Value) -> Self {
        RunInfo {
            command_line: std::env::args_os()
                .map(|a| a.to_string_lossy().into_owned())
                .collect(),
            seed,
            settings,
        }
    }
}

/// The `manifest.json` of a run directory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`MANIFEST_FORMAT`]: marks the manifest as ours.
    pub format: String,
    /// Version of the library that wrote the run.
    pub version: String,
    /// False while a run is writing its files (a run that failed leaves `false`).
    pub complete: bool,
    /// The command line of the run.
    pub command_line: Vec<String>,
    /// The seed of the run, if any.
    pub seed: Option<u64>,
    /// The run's settings.
    pub settings: serde_json::Value,
    /// The files of the run, in the order they were written.
    pub files: Vec<ManifestFile>,
}

impl Manifest {
    /// Reads the manifest of `dir`: `Ok(None)` when there is no `manifest.json` or it is not one
    /// of ours (no [`MANIFEST_FORMAT`] marker).
    ///
    /// # Errors
    /// [`CoreError::OutputDir`] when our manifest cannot be read or lists a file outside the
    /// directory.
    pub fn read(dir: impl AsRef<Path>) -> Result<Option<Manifest>> {
        let path = dir.as_ref().join(MANIFEST_NAME);
        let text = match fs::read(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(dir_err(&path, format!("cannot read: {e}"))),
        };
        let value: serde_json::Value = match serde_json::from_slice(&text) {
            Ok(v) => v,
            Err(_) => return Ok(None),
        };
        if value.get("format").and_then(|f| f.as_str()) != Some(MANIFEST_FORMAT) {
            return Ok(None);
        }
        let m: Manifest = serde_json::from_value(value)
            .map_err(|e| dir_err(&path, format!("not a valid run manifest: {e}")))?;
        for f in &m.files {
            if checked_relative(&f.name).is_none() || f.name == MANIFEST_NAME {
                return Err(dir_err(
                    &path,
                    format!(
                        "lists the file `{}`, which is not a plain path inside the directory; \
                         remove the manifest or choose another directory",
                        f.name
                    ),
                ));
            }
        }
        Ok(Some(m))
    }
}

/// `name` as a relative path of normal components only (no `..`, no root), or `None`.
fn checked_relative(name: &str) -> Option<PathBuf> {
    let p = Path::new(name);
    if name.is_empty() || p.components().any(|c| !matches!(c, Component::Normal(_))) {
        return None;
    }
    Some(p.to_path_buf())
}

/// A run's output directory: checked up front, written atomically file by file, finished by a
/// manifest written last.
///
/// A rerun into a directory holding a previous run's manifest replaces exactly that run's
/// files: the files written again are replaced atomically, and [`finish`](Self::finish) removes
/// the ones not written again; other files are left alone. While the run writes, `manifest.json`
/// lists every file of the previous run and of this one with `"complete": false`, so a failed
/// run leaves a directory the next run can replace.
///
/// ```
/// use darknet_core::io::output::{OutputDir, RunInfo, Manifest};
///
/// let path = std::env::temp_dir().join(format!("darknet-doc-run-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&path);
/// let mut run = OutputDir::prepare(&path, false)?;
/// run.write("report.json", b"{}")?;
/// run.write("days/2024-01-01.csv", b"ip\n")?;
/// let info = RunInfo { command_line: vec!["multilabel".into()], seed: Some(7),
///                      settings: serde_json::json!({ "epochs": 3 }) };
/// let manifest = run.finish(info)?;
/// assert_eq!(manifest.files.len(), 2);
/// assert_eq!(Manifest::read(&path)?.unwrap().seed, Some(7));
/// // A rerun into the same directory is allowed without `force`.
/// OutputDir::prepare(&path, false)?;
/// # std::fs::remove_dir_all(&path).unwrap();
/// # Ok::<(), darknet_core::CoreError>(())
/// ```
#[derive(Debug)]
pub struct OutputDir {
    path: PathBuf,
    previous: Vec<ManifestFile>,
    written: Vec<ManifestFile>,
    listed: BTreeSet<String>,
    inputs: Vec<PathBuf>,
}

impl OutputDir {
    /// Checks `path` before any work starts and creates it when missing.
    ///
    /// The path must not be a file; the directory must be writable (a probe file is created and
    /// removed); it must be empty (temporary files of an interrupted write aside), hold a
    /// previous run's manifest, or `force` must be set (other files are then left in place).
    ///
    /// # Errors
    /// [`CoreError::OutputDir`] naming the path and saying what to do.
    pub fn prepare(path: impl AsRef<Path>, force: bool) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        match fs::metadata(&path) {
            Ok(m) if !m.is_dir() => {
                return Err(dir_err(
                    &path,
                    "exists and is not a directory; give a directory for the run's outputs",
                ))
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::create_dir_all(&path)
                    .map_err(|e| dir_err(&path, format!("cannot create the directory: {e}")))?;
            }
            Err(e) => return Err(dir_err(&path, format!("cannot use the directory: {e}"))),
        }
        probe_writable(&path)?;
        let previous =
            match Manifest::read(&path)? {
                Some(m) => m.files,
                None => {
                    let others = foreign_entries(&path)?;
                    if !others.is_empty() && !force {
                        return Err(dir_err(
                            &path,
                            format!(
                            "is not empty and holds no run manifest ({}{}); choose an empty or \
                             new directory, or force writing into it",
                            others.iter().take(3).cloned().collect::<Vec<_>>().join(", "),
                            if others.len() > 3 {
                                format!(" and {} more", others.len() - 3)
                            } else {
                                String::new()
                            }
                        ),
                        ));
                    }
                    Vec::new()
                }
            };
        let listed = previous.iter().map(|f| f.name.clone()).collect();
        Ok(OutputDir {
            path,
            previous,
            written: Vec::new(),
            listed,
            inputs: Vec::new(),
        })
    }

    /// Protects the run's inputs: refuses now when one of them is a file of the previous run
    /// (which this run would replace or remove) or the manifest, and makes every later
    /// [`create`](Self::create) refuse a file that is one of them. Call it right after
    /// [`prepare`](Self::prepare), before any work.
    ///
    /// # Errors
    /// [`CoreError::OutputIsInput`] naming the run file and the input.
    pub fn protect_inputs<P: AsRef<Path>>(&mut self, inputs: &[P]) -> Result<()> {
        self.inputs = inputs.iter().map(|p| p.as_ref().to_path_buf()).collect();
        let manifest = self.path.join(MANIFEST_NAME);
        refuse_input_as_output(&manifest, &self.inputs)?;
        for f in &self.previous {
            refuse_input_as_output(self.path.join(&f.name), &self.inputs)?;
        }
        Ok(())
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The files of the previous run found at [`prepare`](Self::prepare) (empty when none).
    pub fn previous_files(&self) -> &[ManifestFile] {
        &self.previous
    }

    /// The files written so far by this run.
    pub fn written_files(&self) -> &[ManifestFile] {
        &self.written
    }

    /// The full path of the run file `name` (relative, `/`-separated, no `..`).
    ///
    /// # Errors
    /// [`CoreError::OutputDir`] when `name` is not a plain relative path or is the manifest.
    pub fn file_path(&self, name: &str) -> Result<PathBuf> {
        match checked_relative(name) {
            Some(rel) if name != MANIFEST_NAME => Ok(self.path.join(rel)),
            _ => Err(dir_err(
                &self.path.join(name),
                format!(
                    "`{name}` is not a plain file name inside the run directory (or is the \
                     manifest's name)"
                ),
            )),
        }
    }

    /// Opens the run file `name` for an atomic write (its subdirectories are created); hand it
    /// back to [`commit`](Self::commit).
    ///
    /// # Errors
    /// Those of [`file_path`](Self::file_path) and [`AtomicFile::create`];
    /// [`CoreError::OutputIsInput`] when the file is one of the inputs given to
    /// [`protect_inputs`](Self::protect_inputs).
    pub fn create(&mut self, name: &str) -> Result<RunFile> {
        let path = self.file_path(name)?;
        refuse_input_as_output(&path, &self.inputs)?;
        let dir = parent_dir(&path);
        fs::create_dir_all(dir).map_err(|e| out_err(dir, "create the directory", e))?;
        Ok(RunFile {
            name: name.to_string(),
            file: AtomicFile::create(&path)?,
        })
    }

    /// Commits a file opened by [`create`](Self::create) and records it; returns its size.
    ///
    /// # Errors
    /// Those of [`AtomicFile::commit`], and of writing the in-progress manifest.
    pub fn commit(&mut self, file: RunFile) -> Result<u64> {
        if !self.listed.contains(&file.name) {
            self.listed.insert(file.name.clone());
            self.write_manifest_in_progress()?;
        }
        let bytes = file.file.commit()?;
        self.written.retain(|f| f.name != file.name);
        self.written.push(ManifestFile {
            name: file.name,
            bytes,
        });
        Ok(bytes)
    }

    /// Writes the run file `name` atomically from `bytes`; returns its size.
    ///
    /// # Errors
    /// Those of [`create`](Self::create) and [`commit`](Self::commit).
    pub fn write(&mut self, name: &str, bytes: &[u8]) -> Result<u64> {
        self.write_with(name, |w| {
            w.write_all(bytes)
                .map_err(|e| out_err(w.target(), "write", e))
        })
    }

    /// Writes the run file `name` atomically through `write`; the file is kept only when
    /// `write` returns `Ok`. Returns its size.
    ///
    /// # Errors
    /// The error of `write`, and those of [`create`](Self::create) and
    /// [`commit`](Self::commit).
    pub fn write_with<F>(&mut self, name: &str, write: F) -> Result<u64>
    where
        F: FnOnce(&mut AtomicFile) -> Result<()>,
    {
        let mut f = self.create(name)?;
        write(&mut f.file)?;
        self.commit(f)
    }

    /// Ends the run: removes the previous run's files that were not written again, then writes
    /// `manifest.json` (complete) last. Returns the manifest.
    ///
    /// # Errors
    /// [`CoreError::OutputDir`] when a stale file cannot be removed, and those of writing the
    /// manifest.
    pub fn finish(self, info: RunInfo) -> Result<Manifest> {
        let written: BTreeSet<&str> = self.written.iter().map(|f| f.name.as_str()).collect();
        for old in &self.previous {
            if written.contains(old.name.as_str()) {
                continue;
            }
            let p = self.path.join(&old.name);
            match fs::remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(dir_err(
                        &p,
                        format!("cannot remove this file of the previous run: {e}"),
                    ))
                }
            }
        }
        let manifest = Manifest {
            format: MANIFEST_FORMAT.to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            complete: true,
            command_line: info.command_line,
            seed: info.seed,
            settings: info.settings,
            files: self.written,
        };
        write_manifest(&self.path, &manifest)?;
        Ok(manifest)
    }

    /// Rewrites `manifest.json` as incomplete, listing every file of the previous run and of
    /// this one, so a failed run leaves nothing unlisted.
    fn write_manifest_in_progress(&self) -> Result<()> {
        let mut files = self.written.clone();
        for name in &self.listed {
            if !files.iter().any(|f| &f.name == name) {
                let bytes = self
                    .previous
                    .iter()
                    .find(|f| &f.name == name)
                    .map_or(0, |f| f.bytes);
                files.push(ManifestFile {
                    name: name.clone(),
                    bytes,
                });
            }
        }
        let manifest = Manifest {
            format: MANIFEST_FORMAT.to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            complete: false,
            command_line: Vec::new(),
            seed: None,
            settings: serde_json::Value::Null,
            files,
        };
        write_manifest(&self.path, &manifest)
    }
}

/// A run file being written: write to it through [`RunFile::writer`], then hand it to
/// [`OutputDir::commit`].
#[derive(Debug)]
pub struct RunFile {
    name: String,
    file: AtomicFile,
}

impl RunFile {
    /// The file's name in the run directory.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The open file.
    pub fn writer(&mut self) -> &mut AtomicFile {
        &mut self.file
    }
}

impl Write for RunFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.file.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

fn write_manifest(dir: &Path, manifest: &Manifest) -> Result<()> {
    let path = dir.join(MANIFEST_NAME);
    let mut text = serde_json::to_vec_pretty(manifest).map_err(|e| {
        out_err(
            &path,
            "serialize the manifest",
            io::Error::new(io::ErrorKind::InvalidData, e),
        )
    })?;
    text.push(b'\n');
    write_atomic(&path, &text).map(|_| ())
}

/// Creates and removes a probe file in `dir`.
fn probe_writable(dir: &Path) -> Result<()> {
    let n = UNIQUE.fetch_add(1, Ordering::Relaxed);
    let probe = dir.join(format!(".darknet-probe.tmp-{}-{n}", std::process::id()));
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .map_err(|e| dir_err(dir, format!("is not writable: {e}")))?;
    fs::remove_file(&probe)
        .map_err(|e| dir_err(&probe, format!("cannot remove the probe file: {e}")))
}

/// Entries of `dir` other than our temporary files, sorted.
fn foreign_entries(dir: &Path) -> Result<Vec<String>> {
    let rd = fs::read_dir(dir).map_err(|e| dir_err(dir, format!("cannot list: {e}")))?;
    let mut names = Vec::new();
    for entry in rd {
        let entry = entry.map_err(|e| dir_err(dir, format!("cannot list: {e}")))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !is_temp_name(&name) {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}
