//! aggregate: the aggregation stage of both pipelines as SQL, run in-process by DataFusion.
//!
//! Reads a Parquet packet dataset (`day=YYYY-MM-DD/part-NNNNN.parquet`) and writes the
//! aggregate tables (Paper A's filter decisions and port transitions, per-host statistics,
//! Paper B's daily edges and node features) as Parquet to `--out DIR/<table>/`. Captures (pcap,
//! pcapng, CSV) or the built-in synthetic darknet are first written as such a dataset
//! (`--dataset DIR`). Progress goes to stderr.
//!
//! `cargo run --release --features datafusion --example aggregate -- DATASET --out AGG`
//! `cargo run --release --features datafusion --example aggregate -- a.pcap b.pcap --dataset DS --out AGG`
//! `cargo run --release --features parquet --example aggregate -- --synthetic-days 7 --dataset DS --dataset-only`
//!
//! Built with the `parquet` feature only, it writes datasets (`--dataset-only`) and nothing
//! else; the aggregation needs the `datafusion` feature.
use clap::Parser;
#[cfg(feature = "datafusion")]
use darknet_core::aggregate::{self, AggregateParams, RunOptions};
use darknet_core::io::parquet::{is_dataset_dir, ParquetDatasetWriter, ParquetWriterOptions};
use darknet_core::SynthConfig;
use darknet_examples::{run, CliError};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// Runs the aggregation SQL texts over a Parquet packet dataset with DataFusion.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// A Parquet dataset directory, or capture files (pcap, pcapng, CSV; gzip or not) to write
    /// into one first (`--dataset`). Without inputs, the synthetic darknet (Paper A preset).
    inputs: Vec<PathBuf>,
    /// Where the aggregate tables go (a new or empty directory).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Where captures or the synthetic darknet are written as a Parquet dataset.
    #[arg(long)]
    dataset: Option<PathBuf>,
    /// Stop after writing the dataset.
    #[arg(long)]
    dataset_only: bool,
    /// Days of the synthetic darknet (when no input is given).
    #[arg(long, default_value_t = 7)]
    synthetic_days: u32,
    /// Hosts of the synthetic darknet.
    #[arg(long, default_value_t = 2_000)]
    hosts: usize,
    /// Seed of the synthetic darknet (the same packets as `multilabel --seed N` with the same
    /// `--synth-*` settings).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Fraction of synthetic hosts with labels (changes the draws, so match `multilabel`'s).
    #[arg(long, default_value_t = 0.6)]
    labelled_fraction: f64,
    /// Rows per Parquet row group of the dataset.
    #[arg(long, default_value_t = darknet_core::io::parquet::DEFAULT_ROW_GROUP_ROWS)]
    row_group_rows: usize,
    /// Worker threads of the engine (default: every core).
    #[arg(long)]
    threads: Option<usize>,
    /// Memory the engine may hold before spilling to disk, in MiB (default: no limit).
    #[arg(long)]
    memory_limit_mib: Option<usize>,
    /// Keep bogon sources in Paper A's filter chain.
    #[arg(long)]
    keep_bogons: bool,
    /// Paper B: keep a host's day with at least this many TCP packets.
    #[arg(long, default_value_t = 5)]
    min_packets: u64,
    /// Paper B: ports kept as their own node each day.
    #[arg(long, default_value_t = 2500)]
    top_k: usize,
}

fn main() -> ExitCode {
    run("aggregate", || aggregate_main(Args::parse()))
}

fn write_dataset(args: &Args, dir: &std::path::Path) -> Result<(), CliError> {
    let t = Instant::now();
    let opts = ParquetWriterOptions {
        row_group_rows: args.row_group_rows,
        ..Default::default()
    };
    let mut w = ParquetDatasetWriter::create(dir, opts)?;
    if args.inputs.is_empty() {
        let synth = SynthConfig::paper_a()
            .days(args.synthetic_days)
            .hosts(args.hosts)
            .seed(args.seed)
            .labelled_fraction(args.labelled_fraction)
            .build()?;
        let mut day = Vec::new();
        for d in 0..synth.n_days() {
            synth.day_into(d, &mut day);
            for p in &day {
                w.write_packet(p)?;
            }
            eprintln!(
                "aggregate: synthetic day {}/{}: {} packets written",
                d + 1,
                synth.n_days(),
                w.packets_written()
            );
        }
    } else {
        for input in &args.inputs {
            for p in darknet_core::open(input)? {
                w.write_packet(&p?)?;
            }
            eprintln!(
                "aggregate: {}: {} packets written so far",
                input.display(),
                w.packets_written()
            );
        }
    }
    let n = w.finish()?;
    eprintln!(
        "aggregate: wrote {n} packets to the dataset {} in {:.1} s",
        dir.display(),
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

fn aggregate_main(args: Args) -> Result<(), CliError> {
    let given = match args.inputs.as_slice() {
        [one] if one.is_dir() => {
            if !is_dataset_dir(one) {
                return Err(format!(
                    "{}: a directory without Parquet files (expected day=YYYY-MM-DD/part-NNNNN.parquet)",
                    one.display()
                )
                .into());
            }
            Some(one.clone())
        }
        _ => None,
    };
    let dataset = match (given, &args.dataset) {
        (Some(d), None) => d,
        (Some(_), Some(_)) => {
            return Err("the input is already a Parquet dataset: drop --dataset".into())
        }
        (None, Some(d)) => {
            write_dataset(&args, d)?;
            d.clone()
        }
        (None, None) => {
            return Err(
                "captures and the synthetic darknet are written to a Parquet dataset first: \
                 give --dataset DIR"
                    .into(),
            )
        }
    };
    if args.dataset_only {
        return Ok(());
    }
    run_sql(&args, &dataset)
}

#[cfg(not(feature = "datafusion"))]
fn run_sql(_: &Args, _: &std::path::Path) -> Result<(), CliError> {
    Err(
        "this build writes datasets only (--dataset-only): build with --features datafusion \
         to run the aggregation"
            .into(),
    )
}

#[cfg(feature = "datafusion")]
fn run_sql(args: &Args, dataset: &std::path::Path) -> Result<(), CliError> {
    let out = args
        .out
        .as_ref()
        .ok_or("give --out DIR for the aggregate tables (or --dataset-only)")?;
    let mut options = RunOptions {
        params: AggregateParams {
            drop_bogons: !args.keep_bogons,
            host_min_packets: args.min_packets,
            top_k_ports: args.top_k,
            ..AggregateParams::default()
        },
        memory_limit: args.memory_limit_mib.map(|m| m << 20),
        ..RunOptions::default()
    };
    if let Some(t) = args.threads {
        options.threads = t;
    }
    let queries = aggregate::queries();
    let total = queries.len();
    let mut k = 0;
    let t = Instant::now();
    let summary = aggregate::run(dataset, out, &options, |name| {
        k += 1;
        eprintln!(
            "aggregate: [{k}/{total}] {name} ({:.1} s)",
            t.elapsed().as_secs_f64()
        );
    })?;
    for s in &summary.tables {
        eprintln!(
            "aggregate: {:<24} {:>12} rows  {:>8.1} s  {}",
            s.name,
            s.rows,
            s.elapsed.as_secs_f64(),
            s.path.display()
        );
    }
    eprintln!(
        "aggregate: {} tables written to {} in {:.1} s",
        summary.tables.len(),
        out.display(),
        summary.elapsed.as_secs_f64()
    );
    Ok(())
}
