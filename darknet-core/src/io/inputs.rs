//! Choosing the captures to read from the paths a user gives, and reading them as one stream.
//!
//! [`resolve`] takes files and directories alike:
//! - A directory is expanded to the captures directly inside it (not recursively:
//!   subdirectories are skipped with a warning). Every regular file is recognised by its first
//!   bytes, not its name: pcap, pcapng, CSV packet tables, and gzip-compressed versions of each
//!   (`1f 8b`). Other files (label files, notes, hidden files) are skipped with a warning. When
//!   a directory holds pcap or pcapng captures, its CSV packet tables are skipped with a warning
//!   (they are usually conversions of the same captures); give them as files to read them.
//! - With the `parquet` feature, a directory holding a Parquet packet dataset
//!   (`day=YYYY-MM-DD/part-NNNNN.parquet` partitions, or `.parquet` files directly inside it) is
//!   one input, read in day order, and so is a `.parquet` file given by name.
//! - A file given by name must be a capture: anything else is an error (`-` is standard input).
//! - The same file given twice (also through another spelling, a symbolic or hard link, or as
//!   a file and inside a directory) is read once, with a warning.
//! - The captures are returned sorted by path, so the order does not depend on the order of
//!   the arguments or of the directory listing. No capture at all is [`CoreError::NoCaptures`],
//!   listing what was skipped.
//!
//! [`CaptureStream`] reads the resolved captures in order as one packet stream, keeps per-file
//! counts, and reports a capture from which nothing could be decoded (every frame skipped) as
//! a warning, or as an error with [`CaptureStream::require_decoded`].
//! [`CaptureStream::read_trace`] reads them into one time-sorted [`Trace`].
//!
//! ```
//! use darknet_core::io::inputs::{resolve, CaptureStream};
//! use darknet_core::io::{PcapWriter, PcapWriterOptions};
//! use darknet_core::Packet;
//!
//! let dir = std::env::temp_dir().join(format!("darknet-doc-inputs-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let mut w = PcapWriter::new(Vec::new(), PcapWriterOptions::default())?;
//! w.write_packet(&Packet { ts_ns: 1_000, ttl: 64, ip_len: 40, ..Packet::default() })?;
//! std::fs::write(dir.join("day1.pcap"), w.finish()?).unwrap();
//! std::fs::write(dir.join("labels.csv"), "ip,14\n192.0.2.1,1\n").unwrap();
//!
//! let inputs = resolve(&[&dir])?;
//! assert_eq!(inputs.files.len(), 1);
//! assert_eq!(inputs.warnings.len(), 1); // labels.csv: not a capture
//! let mut stream = CaptureStream::new(inputs.files);
//! let packets: Vec<Packet> = stream.by_ref().collect::<Result<_, _>>()?;
//! assert_eq!(packets.len(), 1);
//! assert_eq!(stream.summaries()[0].packets, 1);
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), darknet_core::CoreError>(())
//! ```

use super::output::{file_id, FileId};
use super::{io_err, open, Format, PacketReader, SkipCounts};
use crate::error::{CoreError, Result};
use crate::packet::Packet;
use crate::trace::Trace;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

/// One capture to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaptureFile {
    /// Its path (`-` for standard input).
    pub path: PathBuf,
    /// The format detected from its first bytes (`None` for standard input, not looked at).
    pub format: Option<Format>,
    /// True when it is gzip-compressed.
    pub gzip: bool,
}

/// Why a file found in a directory was not read.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SkipFileReason {
    /// Its first bytes are no capture (the reader's message says what was expected and found).
    NotACapture(String),
    /// It is empty.
    Empty,
    /// It is a directory (directories are not read recursively).
    Subdirectory,
    /// Its name starts with `.`.
    Hidden,
    /// Neither a regular file nor a directory (a FIFO, socket or device).
    NotAFile,
    /// A CSV packet table in a directory that also holds pcap or pcapng captures.
    CsvBesideCaptures,
    /// It could not be opened or read.
    Unreadable(String),
}

impl fmt::Display for SkipFileReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipFileReason::NotACapture(why) => write!(f, "not a capture ({why})"),
            SkipFileReason::Empty => f.write_str("empty file"),
            SkipFileReason::Subdirectory => {
                f.write_str("a subdirectory (directories are not read recursively)")
            }
            SkipFileReason::Hidden => f.write_str("a hidden file"),
            SkipFileReason::NotAFile => f.write_str("not a regular file"),
            SkipFileReason::CsvBesideCaptures => f.write_str(
                "a CSV packet table beside pcap/pcapng captures in the same directory (give it \
                 as a file to read it)",
            ),
            SkipFileReason::Unreadable(why) => write!(f, "cannot be read ({why})"),
        }
    }
}

/// Something the user should know about the inputs that did not stop the run.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InputWarning {
    /// A file in a directory was not read.
    Skipped {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: SkipFileReason,
    },
    /// A file was given more than once: it is read once, as `first`.
    Duplicate {
        /// The later mention.
        path: PathBuf,
        /// The mention that is read.
        first: PathBuf,
    },
}

impl fmt::Display for InputWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputWarning::Skipped { path, reason } => {
                write!(f, "{}: skipped: {reason}", path.display())
            }
            InputWarning::Duplicate { path, first } => write!(
                f,
                "{}: given twice (the same file as {}); read once",
                path.display(),
                first.display()
            ),
        }
    }
}

/// The captures to read and the warnings about the rest (see the [module docs](self)).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Inputs {
    /// The captures, sorted by path, each once.
    pub files: Vec<CaptureFile>,
    /// Files skipped and files given twice, in the order met.
    pub warnings: Vec<InputWarning>,
}

impl Inputs {
    /// The paths of the captures.
    pub fn paths(&self) -> Vec<PathBuf> {
        self.files.iter().map(|f| f.path.clone()).collect()
    }
}

/// What the first bytes of a file say.
enum Sniffed {
    Capture(Format, bool),
    Skip(SkipFileReason),
}

/// Looks at the first bytes of `path`. A file that is a capture with a broken header (a
/// truncated global header, an unsupported link type) is an error, not a skip.
fn sniff(path: &Path) -> Result<Sniffed> {
    let name = path.display().to_string();
    let f = match fs::File::open(path) {
        Ok(f) => f,
        Err(e) => return Err(io_err(&name, e)),
    };
    match PacketReader::new(f, name) {
        Ok(r) => Ok(Sniffed::Capture(r.format(), r.is_gzip())),
        Err(CoreError::BadMagic { magic, .. }) if magic.is_empty() => {
            Ok(Sniffed::Skip(SkipFileReason::Empty))
        }
        Err(CoreError::BadMagic { magic, .. }) => Ok(Sniffed::Skip(SkipFileReason::NotACapture(
            format!("first bytes {magic:02x?}"),
        ))),
        Err(CoreError::NotACapture { reason, .. }) => {
            Ok(Sniffed::Skip(SkipFileReason::NotACapture(reason)))
        }
        Err(e) => Err(e),
    }
}

/// With the `parquet` feature: a Parquet packet dataset directory or a `.parquet` file, read
/// as one input by [`open`].
#[cfg(feature = "parquet")]
fn is_parquet_input(p: &Path, is_dir: bool) -> bool {
    if is_dir {
        super::parquet::is_dataset_dir(p)
    } else {
        p.extension().is_some_and(|e| e == "parquet")
    }
}

/// Resolves the paths a user gives (files and directories) into the captures to read (see the
/// [module docs](self)).
///
/// # Errors
/// [`CoreError::Io`] for a path that does not exist or a directory that cannot be listed; the
/// reader's error for a file given by name that is not a capture ([`CoreError::BadMagic`],
/// [`CoreError::NotACapture`]) or whose header is broken, also inside a directory;
/// [`CoreError::NoCaptures`] when no capture is left.
pub fn resolve<P: AsRef<Path>>(paths: &[P]) -> Result<Inputs> {
    let mut found: Vec<(CaptureFile, Option<FileId>)> = Vec::new();
    let mut warnings = Vec::new();
    let mut add = |file: CaptureFile, warnings: &mut Vec<InputWarning>| {
        let id = if file.path.as_os_str() == "-" {
            None
        } else {
            file_id(&file.path)
        };
        let first = found.iter().find(|(f, fid)| {
            (id.is_some() && *fid == id)
                || (file.path.as_os_str() == "-" && f.path.as_os_str() == "-")
        });
        match first {
            Some((f, _)) => warnings.push(InputWarning::Duplicate {
                path: file.path,
                first: f.path.clone(),
            }),
            None => found.push((file, id)),
        }
    };
    for p in paths {
        let p = p.as_ref();
        if p.as_os_str() == "-" {
            add(
                CaptureFile {
                    path: p.to_path_buf(),
                    format: None,
                    gzip: false,
                },
                &mut warnings,
            );
            continue;
        }
        let meta = fs::metadata(p).map_err(|e| io_err(&p.display().to_string(), e))?;
        #[cfg(feature = "parquet")]
        if is_parquet_input(p, meta.is_dir()) {
            add(
                CaptureFile {
                    path: p.to_path_buf(),
                    format: Some(Format::Parquet),
                    gzip: false,
                },
                &mut warnings,
            );
            continue;
        }
        if !meta.is_dir() {
            match sniff(p)? {
                Sniffed::Capture(format, gzip) => add(
                    CaptureFile {
                        path: p.to_path_buf(),
                        format: Some(format),
                        gzip,
                    },
                    &mut warnings,
                ),
                Sniffed::Skip(reason) => {
                    // Given by name: not reading it would be a silent loss.
                    return Err(CoreError::NotACapture {
                        input: p.display().to_string(),
                        reason: reason.to_string(),
                    });
                }
            }
            continue;
        }
        let mut entries: Vec<PathBuf> = Vec::new();
        let listing = fs::read_dir(p).map_err(|e| io_err(&p.display().to_string(), e))?;
        for entry in listing {
            let entry = entry.map_err(|e| io_err(&p.display().to_string(), e))?;
            entries.push(entry.path());
        }
        entries.sort();
        let mut binary = Vec::new();
        let mut csv = Vec::new();
        for e in entries {
            let hidden = e
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'));
            let skip = |reason| InputWarning::Skipped {
                path: e.clone(),
                reason,
            };
            if hidden {
                warnings.push(skip(SkipFileReason::Hidden));
                continue;
            }
            match fs::metadata(&e) {
                Ok(m) if m.is_dir() => {
                    warnings.push(skip(SkipFileReason::Subdirectory));
                    continue;
                }
                Ok(m) if !m.is_file() => {
                    warnings.push(skip(SkipFileReason::NotAFile));
                    continue;
                }
                Ok(_) => {}
                Err(err) => {
                    warnings.push(skip(SkipFileReason::Unreadable(err.to_string())));
                    continue;
                }
            }
            match sniff(&e) {
                Ok(Sniffed::Capture(Format::Csv, gzip)) => csv.push((e, gzip)),
                Ok(Sniffed::Capture(format, gzip)) => binary.push((e, format, gzip)),
                Ok(Sniffed::Skip(reason)) => warnings.push(skip(reason)),
                Err(CoreError::Io { source, .. }) => {
                    warnings.push(skip(SkipFileReason::Unreadable(source.to_string())))
                }
                Err(err) => return Err(err),
            }
        }
        let csv_beside_captures = !binary.is_empty();
        for (path, format, gzip) in binary {
            add(
                CaptureFile {
                    path,
                    format: Some(format),
                    gzip,
                },
                &mut warnings,
            );
        }
        for (path, gzip) in csv {
            if csv_beside_captures {
                warnings.push(InputWarning::Skipped {
                    path,
                    reason: SkipFileReason::CsvBesideCaptures,
                });
            } else {
                add(
                    CaptureFile {
                        path,
                        format: Some(Format::Csv),
                        gzip,
                    },
                    &mut warnings,
                );
            }
        }
    }
    if found.is_empty() {
        return Err(CoreError::NoCaptures {
            given: paths
                .iter()
                .map(|p| p.as_ref().display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            skipped: warnings.iter().map(ToString::to_string).collect(),
        });
    }
    let mut files: Vec<CaptureFile> = found.into_iter().map(|(f, _)| f).collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Inputs { files, warnings })
}

/// Packets per chunk appended to the trace by [`CaptureStream::read_trace`].
const READ_CHUNK: usize = 1 << 20;

/// What reading one capture of a [`CaptureStream`] gave.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileSummary {
    /// The capture.
    pub path: PathBuf,
    /// Records read (packets and skipped frames).
    pub records: u64,
    /// Packets decoded.
    pub packets: u64,
    /// Frames skipped, by reason.
    pub skips: SkipCounts,
}

/// Captures read in order as one stream of `Result<Packet, CoreError>`: the first error ends
/// it. Each capture is opened when the previous one ends, so one reader is open at a time.
pub struct CaptureStream {
    files: Vec<CaptureFile>,
    next_file: usize,
    current: Option<PacketReader<'static>>,
    current_packets: u64,
    summaries: Vec<FileSummary>,
    nothing_decoded: Vec<CoreError>,
    require_decoded: bool,
    done: bool,
}

impl CaptureStream {
    /// A stream over `files` (typically [`Inputs::files`]), read in the order given.
    pub fn new(files: Vec<CaptureFile>) -> Self {
        CaptureStream {
            files,
            next_file: 0,
            current: None,
            current_packets: 0,
            summaries: Vec::new(),
            nothing_decoded: Vec::new(),
            require_decoded: false,
            done: false,
        }
    }

    /// Resolves `paths` ([`resolve`]) and streams the captures; returns the stream and the
    /// warnings about the inputs.
    ///
    /// # Errors
    /// Those of [`resolve`].
    pub fn open<P: AsRef<Path>>(paths: &[P]) -> Result<(Self, Vec<InputWarning>)> {
        let inputs = resolve(paths)?;
        Ok((CaptureStream::new(inputs.files), inputs.warnings))
    }

    /// With `true`, a capture whose every record was skipped ends the stream with
    /// [`CoreError::NothingDecoded`] instead of being kept as a warning (for conversions).
    pub fn require_decoded(mut self, yes: bool) -> Self {
        self.require_decoded = yes;
        self
    }

    /// The captures of the stream.
    pub fn files(&self) -> &[CaptureFile] {
        &self.files
    }

    /// Captures read to their end so far.
    pub fn files_done(&self) -> usize {
        self.summaries.len()
    }

    /// One summary per capture read to its end, in order.
    pub fn summaries(&self) -> &[FileSummary] {
        &self.summaries
    }

    /// Frames skipped so far over every capture, by reason (the capture being read included).
    pub fn skip_counts(&self) -> SkipCounts {
        let mut all = SkipCounts::default();
        for s in &self.summaries {
            all.merge(&s.skips);
        }
        if let Some(r) = &self.current {
            all.merge(r.skip_counts());
        }
        all
    }

    /// The captures from which nothing could be decoded, as [`CoreError::NothingDecoded`]
    /// warnings (empty with [`require_decoded`](Self::require_decoded), where the first ends
    /// the stream).
    pub fn nothing_decoded(&self) -> &[CoreError] {
        &self.nothing_decoded
    }

    /// Reads every remaining packet into one time-sorted [`Trace`], calling
    /// `on_file(files_done, n_files)` each time a capture ends (for progress bars).
    ///
    /// Memory: packets are appended to the columnar trace in chunks of 2^20 as they are read,
    /// so captures in time order (one per day, say) are never held twice; the first packet
    /// earlier than the trace so far switches to collecting every packet and sorting once at
    /// the end.
    ///
    /// # Errors
    /// The first error of the stream (reader errors name the file and the packet or line).
    pub fn read_trace(&mut self, mut on_file: impl FnMut(usize, usize)) -> Result<Trace> {
        let n_files = self.files.len();
        let mut trace = Trace::default();
        // Set once a chunk goes back in time: from then on collect everything, sort once.
        let mut unsorted: Option<Vec<Packet>> = None;
        let mut chunk: Vec<Packet> = Vec::new();
        let flush =
            |chunk: &mut Vec<Packet>, trace: &mut Trace, unsorted: &mut Option<Vec<Packet>>| {
                if unsorted.is_none() {
                    let last = trace.ts_ns().last().copied().unwrap_or(0);
                    let in_order = chunk.first().is_none_or(|p| p.ts_ns >= last)
                        && chunk.windows(2).all(|w| w[0].ts_ns <= w[1].ts_ns);
                    if in_order {
                        trace.extend_packets(chunk);
                    } else {
                        *unsorted = Some(std::mem::take(trace).iter().collect());
                    }
                }
                if let Some(all) = unsorted {
                    all.append(chunk);
                }
                chunk.clear();
            };
        let mut done = self.files_done();
        while let Some(p) = self.next() {
            chunk.push(p?);
            if chunk.len() == READ_CHUNK {
                flush(&mut chunk, &mut trace, &mut unsorted);
            }
            while done < self.files_done() {
                done += 1;
                on_file(done, n_files);
            }
        }
        while done < self.files_done() {
            done += 1;
            on_file(done, n_files);
        }
        flush(&mut chunk, &mut trace, &mut unsorted);
        Ok(match unsorted {
            Some(all) => Trace::from_packets(all),
            None => trace,
        })
    }

    /// Records the end of the current capture; `Err` when it must end the stream.
    fn finish_current(&mut self) -> Result<()> {
        let Some(r) = self.current.take() else {
            return Ok(());
        };
        let path = self.files[self.next_file - 1].path.clone();
        self.summaries.push(FileSummary {
            path,
            records: r.records_read(),
            packets: self.current_packets,
            skips: *r.skip_counts(),
        });
        self.current_packets = 0;
        match r.nothing_decoded() {
            Some(e) if self.require_decoded => Err(e),
            Some(e) => {
                self.nothing_decoded.push(e);
                Ok(())
            }
            None => Ok(()),
        }
    }
}

impl Iterator for CaptureStream {
    type Item = Result<Packet>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            let Some(reader) = self.current.as_mut() else {
                let Some(file) = self.files.get(self.next_file) else {
                    self.done = true;
                    break;
                };
                self.next_file += 1;
                match open(&file.path) {
                    Ok(r) => self.current = Some(r),
                    Err(e) => {
                        self.done = true;
                        return Some(Err(e));
                    }
                }
                continue;
            };
            match reader.next() {
                Some(Ok(p)) => {
                    self.current_packets += 1;
                    return Some(Ok(p));
                }
                Some(Err(e)) => {
                    self.done = true;
                    return Some(Err(e));
                }
                None => {
                    if let Err(e) = self.finish_current() {
                        self.done = true;
                        return Some(Err(e));
                    }
                }
            }
        }
        None
    }
}

impl std::iter::FusedIterator for CaptureStream {}

impl fmt::Debug for CaptureStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaptureStream")
            .field("files", &self.files)
            .field("files_done", &self.summaries.len())
            .finish()
    }
}
