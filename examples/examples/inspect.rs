//! Summary of a capture (pcap, pcapng, CSV, gzip-compressed or not) or, with no input, of the
//! built-in synthetic darknet: packets, hosts, days, top ports, protocol mix, and what each
//! filter of Paper A and Paper B removes.
//!
//! `cargo run --release --example inspect -- capture.pcap more-captures/`
//! `cargo run --release --example inspect -- --preset paper-a --hosts 2000`
//!
//! A capture of which no frame could be decoded is reported with a loud warning.
use clap::{Parser, ValueEnum};
use darknet_core::io::inputs::CaptureStream;
use darknet_core::{day_label, FilterReport, PaperAFilters, PaperBFilters, SynthConfig, Trace};
use darknet_examples::inputs::{warn_nothing_decoded, InputArgs};
use darknet_examples::{out, progress, run, CliError};
use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum PresetArg {
    /// Paper A's synthetic darknet.
    #[value(alias = "a")]
    PaperA,
    /// Paper B's synthetic darknet.
    #[value(alias = "b")]
    PaperB,
}

/// Summarises captures (or the synthetic darknet): packets, hosts, days, top ports, protocols,
/// and what each filter of Paper A and Paper B removes.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    #[command(flatten)]
    inputs: InputArgs,
    /// Synthetic preset when no input is given.
    #[arg(long, value_enum, default_value_t = PresetArg::PaperB)]
    preset: PresetArg,
    /// Synthetic source hosts when no input is given.
    #[arg(long, default_value_t = 1000)]
    hosts: usize,
    /// Synthetic days when no input is given.
    #[arg(long, default_value_t = 7)]
    days: u32,
    /// Seed of the synthetic darknet.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// How many top ports to list.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Keep bogon (reserved, private, loopback) sources in the filter chains.
    #[arg(long, alias = "keep-bogons")]
    no_bogon_filter: bool,
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
        let files = args.inputs.resolve("inspect")?;
        let trace = if files.is_empty() {
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
            let bar = progress(files.len() as u64, "files");
            let mut stream = CaptureStream::new(files.clone());
            let mut all = Vec::new();
            while let Some(p) = stream.next() {
                all.push(p?);
                bar.set_position(stream.files_done() as u64);
            }
            bar.finish_and_clear();
            for f in stream.summaries() {
                if f.skips.total() > 0 {
                    let _ = writeln!(out, "{}: skipped {}", f.path.display(), f.skips);
                }
            }
            warn_nothing_decoded("inspect", &stream);
            let _ = writeln!(out, "input: {} file(s)", files.len());
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
        a.bogon.enabled = !args.no_bogon_filter;
        b.bogon.enabled = !args.no_bogon_filter;
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
        out!("{out}")?;
        Ok::<(), CliError>(())
    })
}
