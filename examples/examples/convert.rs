//! convert: any packet capture (pcap, pcapng, CSV; gzip or not; a path or `-` for stdin) to our
//! extended CSV layout or to the 17-column layout of gnn-for-darknet.
//!
//! `cargo run --release --example convert -- capture.pcap.gz -o capture.csv`
//! `tcpdump -w - | cargo run --release --example convert -- - --layout gnn-for-darknet`
//!
//! Without an input it converts one day of the built-in synthetic darknet. A summary (packets
//! read, frames skipped by reason, rows written) goes to stderr.
use clap::{Parser, ValueEnum};
use darknet_core::{CsvLayout, CsvWriter, SynthConfig};
use darknet_examples::{run, CliError};
use std::io::{BufWriter, Write};
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

/// Converts a packet capture (pcap, pcapng or CSV, optionally gzip-compressed) to CSV.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Input capture path, or `-` for stdin. Without one, one day of the synthetic darknet.
    input: Option<String>,
    /// Output CSV path, or `-` for stdout.
    #[arg(short, long, default_value = "-")]
    output: String,
    /// Output layout.
    #[arg(long, value_enum, default_value_t = Layout::Extended)]
    layout: Layout,
    /// Seed of the synthetic darknet used when no input is given.
    #[arg(long, default_value_t = 7)]
    seed: u64,
}

fn main() -> ExitCode {
    run("convert", || match convert(Args::parse()) {
        // `convert ... | head` closes stdout early: not an error.
        Err(e) if is_broken_pipe(&e) => Ok(()),
        other => other,
    })
}

fn is_broken_pipe(e: &CliError) -> bool {
    match e.downcast_ref::<darknet_core::CoreError>() {
        Some(darknet_core::CoreError::Io { source, .. }) => {
            source.kind() == std::io::ErrorKind::BrokenPipe
        }
        _ => e
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe),
    }
}

fn convert(args: Args) -> Result<(), CliError> {
    let layout = match args.layout {
        Layout::Extended => CsvLayout::Extended,
        Layout::GnnForDarknet => CsvLayout::GnnForDarknet,
    };
    // Open (and check) the input before creating the output.
    let (mut reader, synthetic) = match &args.input {
        Some(path) => (Some(darknet_core::open(path)?), Vec::new()),
        None => {
            let synth = SynthConfig::default().days(1).seed(args.seed).build()?;
            (None, synth.day(0))
        }
    };
    let out: Box<dyn Write> = if args.output == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(
            std::fs::File::create(&args.output)
                .map_err(|e| format!("cannot create {}: {e}", args.output))?,
        )
    };
    let mut writer =
        CsvWriter::new(BufWriter::with_capacity(1 << 16, out), layout)?.with_name(&args.output);
    let mut read = 0u64;
    let (input_name, skipped) = match reader.as_mut() {
        Some(reader) => {
            for p in reader.by_ref() {
                writer.write_packet(&p?)?;
                read += 1;
            }
            let name = format!(
                "{} ({}{})",
                args.input.as_deref().unwrap_or("-"),
                format!("{:?}", reader.format()).to_lowercase(),
                if reader.is_gzip() { ", gzip" } else { "" }
            );
            (name, *reader.skip_counts())
        }
        None => {
            for p in &synthetic {
                writer.write_packet(p)?;
                read += 1;
            }
            let name = format!("the synthetic darknet (seed {}, day 0)", args.seed);
            (name, Default::default())
        }
    };
    let written = writer.packets_written();
    let not_written = writer.packets_skipped();
    writer.finish()?.flush()?;
    eprintln!(
        "convert: read {read} packets from {input_name}; skipped {} frames ({skipped}); \
         wrote {written} rows to {}{}",
        skipped.total(),
        args.output,
        if not_written > 0 {
            format!(" ({not_written} non-TCP packets left out of the gnn-for-darknet layout)")
        } else {
            String::new()
        }
    );
    Ok(())
}
