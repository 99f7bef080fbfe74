//! Quickstart: a small synthetic darknet through the pipelines.
//!
//! `cargo run --release --example quickstart`
use clap::Parser;
use darknet_core::{Packet, Trace};
use darknet_examples::{run, CliError};
use std::process::ExitCode;

/// Runs a small synthetic darknet through the pipelines and prints a summary.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Seed of every random choice.
    #[arg(long, default_value_t = 7)]
    seed: u64,
}

fn main() -> ExitCode {
    run("quickstart", || {
        let args = Args::parse();
        let trace = Trace::from_packets((0..10u64).map(|i| Packet {
            ts_ns: i,
            ..Packet::default()
        }));
        println!(
            "seed {}: {} packets, {} sources",
            args.seed,
            trace.len(),
            trace.by_source().len()
        );
        Ok::<(), CliError>(())
    })
}
