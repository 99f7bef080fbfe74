//! Summary of a capture (pcap, pcapng, CSV, gzip-compressed or not) or, with no input, of the
//! built-in synthetic darknet: packets, hosts, days, top ports, protocol mix, and what each
//! filter of Paper A and Paper B removes.
//!
//! `cargo run --release --example inspect -- capture.pcap`
//! `cargo run --release --example inspect -- --preset paper-a --hosts 2000`
use clap::{Parser, ValueEnum};
use darknet_core::io::open;
use darknet_core::{day_label, FilterReport, PaperAFilters, PaperBFilters, SynthConfig, Trace};
use darknet_examples::{progress, run, CliError};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum PresetArg {
    /// Paper A's synthetic darknet.
    PaperA,
    /// Paper B's synthetic darknet.
    PaperB,
}

/// Summarises a capture (or the synthetic darknet when no input is given).
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Capture files (pcap, pcapng, CSV; `.gz` too; `-` = stdin). None: the synthetic darknet.
    inputs: Vec<PathBuf>,
    /// Synthetic preset when no input is given.
    #[arg(long, value_enum, default_value_t = PresetArg::PaperB)]
    preset: PresetArg,
    /// Synthetic hosts when no input is given.
    #[arg(long, default_value_t = 1000)]
    hosts: usize,
    /// Synthetic days when no input is given.
    #[arg(long, default_value_t = 7)]
    days: u32,
    /// Seed of the synthetic darknet.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// How many top ports to list.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Keep bogon sources in the filter chains.
    #[arg(long)]
    keep_bogons: bool,
}

fn print_reports(out: &mut String, title: &str, reports: &[FilterReport]) {
    let _ = writeln!(out, "{title}");
    for r in reports {
        let _ = writeln!(
            out,
            "  {:<22} removed {:>10} of {:>10} packets, {:>8} of {:>8} hosts",
            r.name, r.packets_removed, r.packets_in, r.hosts_removed, r.hosts_in
        );
    }
}

fn main() -> ExitCode {
    run("inspect", || {
        let args = Args::parse();
        // The report is printed at the end in one write, so `inspect ... | head` ends quietly.
        let mut out = String::new();
        let t0 = Instant::now();
        let trace = if args.inputs.is_empty() {
            let cfg = match args.preset {
                PresetArg::PaperA => SynthConfig::paper_a(),
                PresetArg::PaperB => SynthConfig::paper_b(),
            };
            let s = cfg
                .hosts(args.hosts)
                .days(args.days)
                .seed(args.seed)
                .build()?;
            let _ = writeln!(
                out,
                "input: synthetic darknet ({:?}, {} hosts, {} days, seed {})",
                args.preset, args.hosts, args.days, args.seed
            );
            s.trace()
        } else {
            let bar = progress(args.inputs.len() as u64, "files");
            let mut all = Vec::new();
            for path in &args.inputs {
                let mut r = open(path)?;
                for p in r.by_ref() {
                    all.push(p?);
                }
                let skipped = r.skip_counts();
                if skipped.total() > 0 {
                    let _ = writeln!(out, "{}: skipped {skipped}", path.display());
                }
                bar.inc(1);
            }
            bar.finish_and_clear();
            let _ = writeln!(out, "input: {} file(s)", args.inputs.len());
            Trace::from_packets(all)
        };
        let load = t0.elapsed().as_secs_f64();
        let n = trace.len();
        let _ = writeln!(out, "packets: {n} (loaded in {load:.2} s)");
        let _ = writeln!(out, "hosts:   {}", trace.by_source().len());
        let days = trace.days(0);
        let _ = writeln!(out, "days:    {}", days.len());
        for (d, r) in &days {
            let _ = writeln!(out, "  {}  {:>10} packets", day_label(*d), r.len());
        }
        // Protocol mix.
        let mut protos = [0usize; 256];
        for &p in trace.proto() {
            protos[p as usize] += 1;
        }
        let _ = write!(out, "protocols:");
        for (num, name) in [(6, "tcp"), (17, "udp"), (1, "icmp")] {
            let _ = write!(
                out,
                " {name} {:.1} %",
                100.0 * protos[num] as f64 / n.max(1) as f64
            );
        }
        let other = n - protos[6] - protos[17] - protos[1];
        let _ = writeln!(
            out,
            " other {:.1} %",
            100.0 * other as f64 / n.max(1) as f64
        );
        // Top destination ports per protocol (sorted counts, no hash order).
        for (num, name) in [(6u8, "tcp"), (17u8, "udp")] {
            let mut counts = vec![0u64; 65536];
            for (&p, &port) in trace.proto().iter().zip(trace.dst_port()) {
                if p == num {
                    counts[port as usize] += 1;
                }
            }
            let mut top: Vec<(u64, u16)> = counts
                .iter()
                .enumerate()
                .filter(|c| *c.1 > 0)
                .map(|(port, &c)| (c, port as u16))
                .collect();
            top.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            let list: Vec<String> = top
                .iter()
                .take(args.top)
                .map(|(c, port)| format!("{port} ({:.1} %)", 100.0 * *c as f64 / n.max(1) as f64))
                .collect();
            let _ = writeln!(
                out,
                "top {name} ports ({} distinct): {}",
                top.len(),
                list.join(", ")
            );
        }
        let mut a = PaperAFilters::default();
        let mut b = PaperBFilters::default();
        a.bogon.enabled = !args.keep_bogons;
        b.bogon.enabled = !args.keep_bogons;
        let (kept_a, ra) = a.apply(&trace)?;
        print_reports(
            &mut out,
            "Paper A filters (bogon, isolated, vertical scans, periodic):",
            &ra,
        );
        let _ = writeln!(
            out,
            "  kept {} packets from {} hosts",
            kept_a.len(),
            kept_a.by_source().len()
        );
        let (kept_b, rb) = b.apply(&trace)?;
        print_reports(
            &mut out,
            "Paper B filters (bogon, TCP only, >= 5 packets per host and day):",
            &rb,
        );
        let _ = writeln!(
            out,
            "  kept {} packets from {} hosts",
            kept_b.len(),
            kept_b.by_source().len()
        );
        // A closed pipe (`| head`) is not an error of the summary.
        let _ = std::io::stdout().write_all(out.as_bytes());
        Ok::<(), CliError>(())
    })
}
