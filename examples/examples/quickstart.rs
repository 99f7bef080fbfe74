//! Quickstart: a small synthetic darknet through the pipelines.
//!
//! `cargo run --release --example quickstart`
//!
//! Synthesises a small Paper A darknet (multi-label hosts with AbuseIPDB-style reports), builds
//! the trace, runs Paper A's filters and prints a summary; then runs Paper A's multi-label
//! pipeline in miniature (port graph, port embeddings, host graphs, GCN classifier vs an MLP
//! baseline on per-host statistics), then Paper B's in miniature (daily bipartite snapshots,
//! i-GCN and i-GCN-GRU with node features and the i-DarkVec baseline, judged by 3-NN).
//! `multilabel` and `temporal` run the full pipelines.
use clap::Parser;
use darknet_core::label::{PAPER_A_CATEGORIES, PAPER_A_CATEGORY_NAMES};
use darknet_core::{PaperAFilters, SynthConfig};
use darknet_examples::{outln, run, CliError};
use std::process::ExitCode;
use std::time::Instant;

/// Runs a small synthetic darknet through both pipelines in miniature and prints a summary.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Seed of every random choice (same seed, same output).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Source hosts of the synthetic darknet summarised first.
    #[arg(long, default_value_t = 1000)]
    hosts: usize,
    /// Days of the synthetic darknet summarised first.
    #[arg(long, default_value_t = 14)]
    days: u32,
}

fn main() -> ExitCode {
    run("quickstart", || {
        let args = Args::parse();
        let t = Instant::now();
        let darknet = SynthConfig::paper_a()
            .seed(args.seed)
            .hosts(args.hosts)
            .days(args.days)
            .build()?;
        let trace = darknet.trace();
        outln!(
            "synthetic darknet: {} packets from {} hosts over {} days ({:.2} s)",
            trace.len(),
            trace.by_source().len(),
            args.days,
            t.elapsed().as_secs_f64()
        )?;
        let labels = darknet.multilabels();
        outln!(
            "labels: {} of {} hosts labelled by the >= 2 reports rule ({} reports)",
            labels.ips.len(),
            darknet.hosts().len(),
            darknet.reports().len()
        )?;
        for (k, (id, name)) in PAPER_A_CATEGORIES
            .iter()
            .zip(PAPER_A_CATEGORY_NAMES)
            .enumerate()
        {
            let n = labels.masks.iter().filter(|&&m| m >> k & 1 == 1).count();
            outln!("  {id:>2} {name:<15} {n:>6} hosts")?;
        }
        let (kept, reports) = PaperAFilters::default().apply(&trace)?;
        for r in &reports {
            outln!(
                "filter {:<18} removed {:>8} packets, {:>6} hosts",
                r.name,
                r.packets_removed,
                r.hosts_removed
            )?;
        }
        outln!(
            "kept {} packets from {} hosts",
            kept.len(),
            kept.by_source().len()
        )?;

        outln!("\nPaper A in miniature (multi-label GCN on host graphs, 2 partitions):")?;
        let a = darknet_pipelines::paper_a::quick_demo(args.seed)?;
        outln!(
            "  {} packets, {} labelled hosts, {} port nodes, {} partitions",
            a.n_packets,
            a.n_labelled_hosts,
            a.n_ports,
            a.n_partitions
        )?;
        outln!(
            "  sample F1: GCN {:.3}, MLP baseline {:.3} (Paper A reports {:.2} on real data) in {:.2} s",
            a.gcn_f1_samples, a.baseline_f1_samples, a.paper_f1_samples, a.elapsed_secs
        )?;
        outln!("  full run: cargo run --release --example multilabel")?;

        outln!("\nPaper B in miniature (daily host embeddings judged by 3-NN):")?;
        let b = darknet_pipelines::paper_b::quick_demo(args.seed)?;
        let r = &b.result;
        let hosts: usize = r.days.iter().map(|d| d.hosts).sum();
        outln!(
            "  {} days, {:.0} active hosts a day, {} test days",
            r.days.len(),
            hosts as f64 / r.days.len().max(1) as f64,
            r.test_days.len()
        )?;
        for v in &r.variants {
            let f1 = v
                .scores
                .as_ref()
                .and_then(|s| s.macro_f1.mean)
                .map_or("n/a".to_string(), |m| format!("{m:.3}"));
            outln!(
                "  {:<18} macro F1 {f1}  (train {:.2} s)",
                v.name,
                v.train_secs
            )?;
        }
        outln!(
            "  in {:.2} s; full run: cargo run --release --example temporal",
            b.secs
        )?;
        Ok::<(), CliError>(())
    })
}
