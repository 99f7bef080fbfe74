//! convert: packet captures (pcap, pcapng, CSV; gzip or not; files, directories, or `-` for
//! stdin) to our extended CSV layout or to the 17-column layout of gnn-for-darknet.
//!
//! `cargo run --release --example convert -- capture.pcap.gz -o capture.csv`
//! `tcpdump -w - | cargo run --release --example convert -- - --layout gnn-for-darknet`
//!
//! Without an input it converts one day of the built-in synthetic darknet. A summary (packets
//! read, frames skipped by reason, rows written) goes to stderr. The output is written under a
//! temporary name and renamed into place at the end: a failing conversion leaves a previous
//! output file as it was, and an output that is one of the inputs is refused. A non-empty
//! capture of which no frame could be decoded is an error.
use clap::{Parser, ValueEnum};
use darknet_core::io::inputs::{CaptureFile, CaptureStream};
use darknet_core::{CsvLayout, CsvWriter, SkipCounts, SynthConfig};
use darknet_examples::cli::{self, OutputFile};
use darknet_examples::inputs::InputArgs;
use darknet_examples::{errln, run, CliError};
use std::path::PathBuf;
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

/// Converts packet captures (pcap, pcapng or CSV, gzip-compressed or not) to one CSV file.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    #[command(flatten)]
    inputs: InputArgs,
    /// Output CSV path, or `-` for stdout.
    #[arg(short, long, default_value = "-")]
    output: PathBuf,
    /// Output layout.
    #[arg(long, value_enum, default_value_t = Layout::Extended)]
    layout: Layout,
    /// Seed of the synthetic darknet used when no input is given.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

fn main() -> ExitCode {
    run("convert", || {
        let args = Args::parse();
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
    let mut read = 0u64;
    let mut skipped = SkipCounts::default();
    let mut described = Vec::new();
    if files.is_empty() {
        let synth = SynthConfig::default().days(1).seed(args.seed).build()?;
        for p in &synth.day(0) {
            writer.write_packet(p)?;
            read += 1;
        }
        described.push(format!("the synthetic darknet (seed {}, day 0)", args.seed));
    }
    if !files.is_empty() {
        // A non-empty capture from which nothing could be decoded ends the conversion.
        let mut stream = CaptureStream::new(files.to_vec()).require_decoded(true);
        for p in stream.by_ref() {
            writer.write_packet(&p?)?;
            read += 1;
        }
        skipped = stream.skip_counts();
        for f in files {
            described.push(format!(
                "{} ({}{})",
                f.path.display(),
                f.format
                    .map_or("stdin".to_string(), |x| format!("{x:?}").to_lowercase()),
                if f.gzip { ", gzip" } else { "" }
            ));
        }
    }
    let written = writer.packets_written();
    let not_written = writer.packets_skipped();
    writer.finish()?.commit()?;
    let input_name = if described.len() > 3 {
        format!("{} files", described.len())
    } else {
        described.join(", ")
    };
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
