//! Writes N days of the built-in synthetic darknet, one capture per day, and its label files.
//!
//! `cargo run --release --example synth -- --preset paper-b --days 3 --out synth-out`
//!
//! Files in `--out`: `YYYYMMDD.pcap` (or `.pcapng`, `.csv`) per day; `ground_truth.csv`
//! (`ip,class`), `known_scanners.csv` (`prefix,organization`); for every multi-label preset
//! (`paper-a` and the robustness presets `order-only`, `aggregate-only`,
//! `order-and-aggregate`, `shifted-mix`) also
//! `reports.csv` (AbuseIPDB-style `ip,categories,reporter,date`) and `labels.csv`
//! (`ip,14,15,18,19,20,21,22`, the labels the ≥ 2 reports rule recovers); `manifest.json`
//! (written last: the command line, seed, settings and every file with its size). A rerun into
//! the same directory replaces exactly the previous run's files; a directory holding other
//! files needs `--force`.
use clap::{Parser, ValueEnum};
use darknet_core::io::output::RunInfo;
use darknet_core::io::{CsvLayout, CsvWriter, PcapWriter, PcapWriterOptions, PcapngWriter};
use darknet_core::label::{
    write_abuse_reports, write_ground_truth, write_known_scanners, write_multilabels, Ipv4Prefix,
};
use darknet_core::{day_label, CoreError, Packet, Preset, SynthConfig};
use darknet_examples::cli::RunDir;
use darknet_examples::{outln, progress, run, CliError};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(Clone, Copy, Debug, ValueEnum, serde::Serialize)]
enum PresetArg {
    /// Paper A: /20, multi-label AbuseIPDB categories, reports.
    #[value(alias = "a")]
    PaperA,
    /// Paper B: /24, 14 classes + Unknown, ip,class ground truth.
    #[value(alias = "b")]
    PaperB,
    /// Robustness: Paper A labels that differ only by the order of probes.
    OrderOnly,
    /// Robustness: Paper A labels that differ only by aggregates (ports, rates, protocols).
    AggregateOnly,
    /// Robustness: Paper A labels that differ by order and aggregates, each weaker.
    OrderAndAggregate,
    /// Robustness: another mix of labels, heavy-tailed bursty rates.
    ShiftedMix,
    /// Robustness for Paper B: research scanners on small daily-changing port sets,
    /// unlabelled brute-forcer and spammer look-alikes, more label noise, another class mix.
    PaperBDrift,
}

#[derive(Clone, Copy, Debug, ValueEnum, serde::Serialize)]
enum FormatArg {
    /// Classic pcap, nanosecond timestamps, Ethernet frames.
    Pcap,
    /// pcapng, nanosecond if_tsresol.
    Pcapng,
    /// CSV (see --layout).
    Csv,
}

#[derive(Clone, Copy, Debug, ValueEnum, serde::Serialize)]
enum LayoutArg {
    /// Our 22-column extended layout.
    Extended,
    /// The 17-column layout of gnn-for-darknet (TCP only).
    GnnForDarknet,
}

/// Writes the built-in synthetic darknet as captures (one per day) plus its label files.
#[derive(Parser, Debug, serde::Serialize)]
#[command(version)]
struct Args {
    /// Population and label style.
    #[arg(long, value_enum, default_value_t = PresetArg::PaperB)]
    preset: PresetArg,
    /// Seed of every random choice (same seed, same bytes).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Number of days.
    #[arg(long, default_value_t = 3)]
    days: u32,
    /// Darknet prefix, e.g. 198.18.16.0/24 [default: the preset's: paper-a 198.18.0.0/20,
    /// paper-b 198.18.16.0/24].
    #[arg(long)]
    prefix: Option<String>,
    /// Number of source hosts [default: the preset's].
    #[arg(long)]
    hosts: Option<usize>,
    /// Packet-rate scale [default: the preset's].
    #[arg(long)]
    intensity: Option<f64>,
    /// Label-noise rate in [0, 0.5] [default: the preset's].
    #[arg(long)]
    label_noise: Option<f64>,
    /// First day as YYYYMMDD [default: the preset's].
    #[arg(long)]
    start: Option<String>,
    /// Capture format.
    #[arg(long, value_enum, default_value_t = FormatArg::Pcap)]
    format: FormatArg,
    /// CSV layout (with --format csv).
    #[arg(long, value_enum, default_value_t = LayoutArg::Extended)]
    layout: LayoutArg,
    /// Output directory (created if missing).
    #[arg(long, default_value = "synth-out")]
    out: PathBuf,
    /// Write into an output directory that holds files of something other than a previous run
    /// (they are left in place).
    #[arg(long)]
    force: bool,
}

fn create(path: &Path) -> Result<BufWriter<File>, CliError> {
    let f = File::create(path).map_err(|e| CoreError::Io {
        input: path.display().to_string(),
        source: e,
    })?;
    Ok(BufWriter::with_capacity(1 << 20, f))
}

fn write_day(
    path: &Path,
    format: FormatArg,
    layout: LayoutArg,
    packets: &[Packet],
) -> Result<(), CliError> {
    let w = create(path)?;
    let opts = PcapWriterOptions {
        output_name: path.display().to_string(),
        ..PcapWriterOptions::default()
    };
    let mut w = match format {
        FormatArg::Pcap => {
            let mut pw = PcapWriter::new(w, opts)?;
            for p in packets {
                pw.write_packet(p)?;
            }
            pw.finish()?
        }
        FormatArg::Pcapng => {
            let mut pw = PcapngWriter::new(w, opts)?;
            for p in packets {
                pw.write_packet(p)?;
            }
            pw.finish()?
        }
        FormatArg::Csv => {
            let layout = match layout {
                LayoutArg::Extended => CsvLayout::Extended,
                LayoutArg::GnnForDarknet => CsvLayout::GnnForDarknet,
            };
            let mut cw = CsvWriter::new(w, layout)?.with_name(path.display().to_string());
            for p in packets {
                cw.write_packet(p)?;
            }
            cw.finish()?
        }
    };
    w.flush().map_err(|e| CoreError::Io {
        input: path.display().to_string(),
        source: e,
    })?;
    Ok(())
}

fn main() -> ExitCode {
    run("synth", || {
        let args = Args::parse();
        // Checked before anything is generated.
        let run_dir = RunDir::prepare(&args.out, args.force, &[])?;
        let mut cfg = SynthConfig::for_preset(match args.preset {
            PresetArg::PaperA => Preset::PaperA,
            PresetArg::PaperB => Preset::PaperB,
            PresetArg::OrderOnly => Preset::OrderOnly,
            PresetArg::AggregateOnly => Preset::AggregateOnly,
            PresetArg::OrderAndAggregate => Preset::OrderAndAggregate,
            PresetArg::ShiftedMix => Preset::ShiftedMix,
            PresetArg::PaperBDrift => Preset::PaperBDrift,
        })
        .seed(args.seed)
        .days(args.days);
        if let Some(p) = &args.prefix {
            let p: Ipv4Prefix = p.parse().map_err(|e: String| format!("--prefix: {e}"))?;
            cfg = cfg.prefix(p.addr(), p.prefix_len());
        }
        if let Some(h) = args.hosts {
            cfg = cfg.hosts(h);
        }
        if let Some(i) = args.intensity {
            cfg = cfg.intensity(i);
        }
        if let Some(n) = args.label_noise {
            cfg = cfg.label_noise(n);
        }
        if let Some(s) = &args.start {
            let d = darknet_core::parse_day_label(s)
                .ok_or_else(|| format!("--start: `{s}` is not a YYYYMMDD date"))?;
            cfg = cfg.start_day(d);
        }
        let darknet = cfg.build()?;
        let dir = run_dir.staging().to_path_buf();
        let ext = match args.format {
            FormatArg::Pcap => "pcap",
            FormatArg::Pcapng => "pcapng",
            FormatArg::Csv => "csv",
        };
        let bar = progress(u64::from(darknet.n_days()), "days");
        let (mut total, mut gen_secs) = (0usize, 0f64);
        let mut packets = Vec::new();
        for d in 0..darknet.n_days() {
            let t = Instant::now();
            darknet.day_into(d, &mut packets);
            gen_secs += t.elapsed().as_secs_f64();
            total += packets.len();
            let label = day_label(darknet.config().start_day + d);
            write_day(
                &dir.join(format!("{label}.{ext}")),
                args.format,
                args.layout,
                &packets,
            )?;
            bar.inc(1);
        }
        bar.finish_and_clear();
        let out = |name: &str| dir.join(name);
        let path_str = |name: &str| args.out.join(name).display().to_string();
        write_ground_truth(
            create(&out("ground_truth.csv"))?,
            &darknet.ground_truth(),
            &path_str("ground_truth.csv"),
        )?;
        write_known_scanners(
            create(&out("known_scanners.csv"))?,
            &darknet.known_scanners(),
            &path_str("known_scanners.csv"),
        )?;
        if darknet.config().preset.is_multilabel() {
            write_abuse_reports(
                create(&out("reports.csv"))?,
                darknet.reports(),
                &path_str("reports.csv"),
            )?;
            write_multilabels(
                create(&out("labels.csv"))?,
                &darknet.multilabels(),
                &path_str("labels.csv"),
            )?;
        }
        let settings = serde_json::to_value(&args)?;
        let manifest = run_dir.finish(RunInfo::from_env(Some(args.seed), settings))?;
        outln!(
            "wrote {} days, {} packets from {} hosts to {}: {} files and manifest.json \
             ({:.1} M packets/s generated)",
            darknet.n_days(),
            total,
            darknet.hosts().len(),
            args.out.display(),
            manifest.files.len(),
            total as f64 / gen_secs.max(1e-9) / 1e6
        )?;
        Ok::<(), CliError>(())
    })
}
