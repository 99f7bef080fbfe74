//! convert: packet captures (pcap, pcapng, CSV; gzip or not; files, directories, or `-` for
//! stdin) to our extended CSV layout, to the 17-column layout of gnn-for-darknet, or (built with
//! the `parquet` feature) to a Parquet packet dataset partitioned by UTC day.
//!
//! `cargo run --release --example convert -- capture.pcap.gz -o capture.csv`
//! `tcpdump -w - | cargo run --release --example convert -- - --layout gnn-for-darknet`
//! `cargo run --release --features parquet --example convert -- captures/ --format parquet --out DS`
//!
//! Without an input it converts one day of the built-in synthetic darknet. A summary (packets
//! read, frames skipped by reason, rows written) goes to stderr. The output is written under a
//! temporary name and renamed into place at the end: a failing conversion leaves a previous
//! output file as it was, and an output that is one of the inputs is refused. A non-empty
//! capture of which no frame could be decoded is an error.
//!
//! A Parquet dataset (`--format parquet --out DIR`, the layout `day=YYYY-MM-DD/part-NNNNN.parquet`
//! that the `aggregate` example, Spark, DuckDB and pyarrow read) is written into a hidden
//! directory beside `DIR` and renamed to `DIR` at the end, so a failing conversion leaves no
//! partial dataset. `DIR` must not exist or be empty, and must not be or hold an input.
use clap::{Parser, ValueEnum};
use darknet_core::io::inputs::{CaptureFile, CaptureStream};
use darknet_core::{CsvLayout, CsvWriter, SkipCounts, SynthConfig};
use darknet_examples::cli::{self, OutputFile};
use darknet_examples::inputs::InputArgs;
use darknet_examples::{errln, run, CliError};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Output layout.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum Layout {
    /// Our 22 columns: ts, ethtype, src_ip, src_port, dst_ip, dst_port, proto, pck_len, ttl,
    /// ip_id, tcp_flags, tcp_seq, tcp_ack, t_win, t_wscale, t_mss, t_ts, t_sack, t_sackp,
    /// icmp_type, icmp_code, mirai.
    Extended,
    /// The 17-column raw CSV of gnn-for-darknet (TCP packets only).
    GnnForDarknet,
}

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum OutFormat {
    /// One CSV file (`-o`, in the layout of `--layout`).
    Csv,
    /// A Parquet packet dataset directory partitioned by UTC day (`--out`; needs the `parquet`
    /// feature).
    Parquet,
}

/// Converts packet captures (pcap, pcapng, CSV or Parquet, gzip-compressed or not) to one CSV
/// file or to a Parquet packet dataset.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    #[command(flatten)]
    inputs: InputArgs,
    /// Output CSV path, or `-` for stdout (`--format csv`).
    #[arg(short, long, default_value = "-")]
    output: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutFormat::Csv)]
    format: OutFormat,
    /// The dataset directory written by `--format parquet` (must not exist, or be empty).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Rows per Parquet row group (`--format parquet`; default 1 Mi rows).
    #[arg(long)]
    row_group_rows: Option<usize>,
    /// CSV layout (`--format csv`).
    #[arg(long, value_enum, default_value_t = Layout::Extended)]
    layout: Layout,
    /// Seed of the synthetic darknet used when no input is given.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

fn main() -> ExitCode {
    run("convert", || {
        let args = Args::parse();
        if args.format == OutFormat::Parquet {
            return to_dataset(&args);
        }
        if let Some(out) = &args.out {
            return Err(format!(
                "--out {} is the dataset directory of --format parquet; a CSV goes to -o FILE",
                out.display()
            )
            .into());
        }
        if args.row_group_rows.is_some() {
            return Err("--row-group-rows is a setting of --format parquet".into());
        }
        let files = args.inputs.resolve("convert")?;
        // Checked and opened before anything is read: never over an input.
        let mut inputs = args.inputs.all();
        inputs.extend(files.iter().map(|f| f.path.clone()));
        let out = OutputFile::create(&args.output, &inputs)?;
        let output = args.output.clone();
        convert(&args, &files, out).map_err(|e| {
            if cli::is_dash(&output) || cli::is_broken_pipe(e.as_ref()) {
                e
            } else {
                format!(
                    "{e} (nothing was written to {}: a previous file there is as it was)",
                    output.display()
                )
                .into()
            }
        })
    })
}

fn convert(args: &Args, files: &[CaptureFile], out: OutputFile) -> Result<(), CliError> {
    let layout = match args.layout {
        Layout::Extended => CsvLayout::Extended,
        Layout::GnnForDarknet => CsvLayout::GnnForDarknet,
    };
    let name = args.output.display().to_string();
    let mut writer = CsvWriter::new(out, layout)?.with_name(&name);
    let (read, skipped, described) = for_each_packet(args, files, |p| Ok(writer.write_packet(p)?))?;
    let written = writer.packets_written();
    let not_written = writer.packets_skipped();
    writer.finish()?.commit()?;
    let input_name = describe(&described);
    errln!(
        "convert: read {read} packets from {input_name}; skipped {} frames ({skipped}); \
         wrote {written} rows to {name}{}",
        skipped.total(),
        if not_written > 0 {
            format!(" ({not_written} non-TCP packets left out of the gnn-for-darknet layout)")
        } else {
            String::new()
        }
    );
    Ok(())
}

/// The packets to convert, one at a time: the captures read in order, or one day of the
/// synthetic darknet. Returns what was read from, for the summary.
fn for_each_packet(
    args: &Args,
    files: &[CaptureFile],
    mut f: impl FnMut(&darknet_core::Packet) -> Result<(), CliError>,
) -> Result<(u64, SkipCounts, Vec<String>), CliError> {
    let mut read = 0u64;
    let mut described = Vec::new();
    if files.is_empty() {
        let synth = SynthConfig::default().days(1).seed(args.seed).build()?;
        for p in &synth.day(0) {
            f(p)?;
            read += 1;
        }
        described.push(format!("the synthetic darknet (seed {}, day 0)", args.seed));
        return Ok((read, SkipCounts::default(), described));
    }
    // A non-empty capture from which nothing could be decoded ends the conversion.
    let mut stream = CaptureStream::new(files.to_vec()).require_decoded(true);
    for p in stream.by_ref() {
        f(&p?)?;
        read += 1;
    }
    for file in files {
        described.push(format!(
            "{} ({}{})",
            file.path.display(),
            file.format
                .map_or("stdin".to_string(), |x| format!("{x:?}").to_lowercase()),
            if file.gzip { ", gzip" } else { "" }
        ));
    }
    Ok((read, stream.skip_counts(), described))
}

fn describe(described: &[String]) -> String {
    if described.len() > 3 {
        format!("{} files", described.len())
    } else {
        described.join(", ")
    }
}

/// `--format parquet`: checks the output directory against the inputs, writes the dataset into
/// a hidden staging directory beside it and renames it into place.
fn to_dataset(args: &Args) -> Result<(), CliError> {
    let out = args
        .out
        .as_ref()
        .ok_or("--format parquet writes a dataset directory: give --out DIR")?;
    if args.output != Path::new("-") {
        return Err("--format parquet writes to --out DIR, not -o".into());
    }
    if !matches!(args.layout, Layout::Extended) {
        return Err("--layout is a setting of --format csv: a dataset has every field".into());
    }
    if cli::is_dash(out) {
        return Err("`-` cannot be a dataset directory; give a directory path".into());
    }
    let files = args.inputs.resolve("convert")?;
    let mut inputs = args.inputs.all();
    inputs.extend(files.iter().map(|f| f.path.clone()));
    cli::refuse_inputs(out, &inputs)?;
    if let Ok(canon_out) = std::fs::canonicalize(out) {
        for input in inputs.iter().filter(|p| !cli::is_dash(p)) {
            if std::fs::canonicalize(input).is_ok_and(|c| c.starts_with(&canon_out)) {
                return Err(format!(
                    "{}: refusing to write the dataset here: it holds the input {}; choose \
                     another directory",
                    out.display(),
                    input.display()
                )
                .into());
            }
        }
    }
    if out.exists() {
        let empty = std::fs::read_dir(out)
            .map_err(|e| format!("{}: {e}", out.display()))?
            .next()
            .is_none();
        if !out.is_dir() || !empty {
            return Err(format!(
                "{}: the output exists and is not an empty directory; choose a new one",
                out.display()
            )
            .into());
        }
    }
    write_dataset(args, &files, out)
}

#[cfg(not(feature = "parquet"))]
fn write_dataset(_: &Args, _: &[CaptureFile], _: &Path) -> Result<(), CliError> {
    Err("this build writes CSV only: build with --features parquet for --format parquet".into())
}

#[cfg(feature = "parquet")]
fn write_dataset(args: &Args, files: &[CaptureFile], out: &Path) -> Result<(), CliError> {
    use darknet_core::io::parquet::{ParquetDatasetWriter, ParquetWriterOptions};
    let name = out
        .file_name()
        .ok_or_else(|| format!("{}: not a directory name", out.display()))?;
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let staging = parent.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    // Removed on every exit but success (a failing conversion leaves no partial dataset).
    struct Staging(PathBuf, bool);
    impl Drop for Staging {
        fn drop(&mut self) {
            if !self.1 {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }
    let mut guard = Staging(staging.clone(), false);
    let mut options = ParquetWriterOptions::default();
    if let Some(r) = args.row_group_rows {
        options.row_group_rows = r;
    }
    let mut writer = ParquetDatasetWriter::create(&staging, options)?;
    let (read, skipped, described) = for_each_packet(args, files, |p| Ok(writer.write_packet(p)?))?;
    let written = writer.finish()?;
    if out.exists() {
        // Checked empty before the conversion.
        std::fs::remove_dir(out).map_err(|e| {
            format!(
                "{}: cannot replace the empty directory: {e} (the dataset is in {})",
                out.display(),
                staging.display()
            )
        })?;
    }
    std::fs::rename(&staging, out)
        .map_err(|e| format!("{}: cannot move the dataset into place: {e}", out.display()))?;
    guard.1 = true;
    let days = darknet_core::io::parquet::dataset_files(out).map_or(0, |f| {
        let mut d: Vec<_> = f.into_iter().map(|(d, _)| d).collect();
        d.dedup();
        d.len()
    });
    errln!(
        "convert: read {read} packets from {}; skipped {} frames ({skipped}); wrote {written} \
         rows in {days} day partitions to the Parquet dataset {}",
        describe(&described),
        skipped.total(),
        out.display()
    );
    Ok(())
}
