//! Port graph, quartile weights and reference-port distances (Paper A), plus Paper B's daily
//! snapshots, written as files Python users read.
//!
//! `cargo run --release --example portgraph -- --out portgraph-out --references 1024`
//! `cargo run --release --example portgraph -- captures/ --out portgraph-out`
//!
//! Writes into `--out` (`manifest.json` last; a rerun replaces exactly the previous run's
//! files; a directory holding other files needs `--force`):
//! - `port_graph_edges.csv`: `proto_src,port_src,proto_dst,port_dst,theta,w_prime,w`;
//! - `ports.csv`: `row,proto,port`, the port of each distance row;
//! - `distances.npy` (f32, shape (n_ports, R)) and `reachable.npy` (bool, same shape);
//! - `references.csv`: `column,row,proto,port`, the reference port of each column;
//! - `snapshots/graph_DATE.txt` (`src_id,dst_id,weight,label`), `snapshots/features_DATE.csv`
//!   (`index,0..36`) and `snapshots/nodes.csv` (`id,kind,value`), gnn-for-darknet's layouts.
use clap::{Parser, ValueEnum};
use darknet_core::io::inputs::CaptureStream;
use darknet_core::io::output::RunInfo;
use darknet_core::{day_label, SynthConfig, Trace};
use darknet_examples::cli::RunDir;
use darknet_examples::inputs::{warn_nothing_decoded, InputArgs};
use darknet_examples::{outln, progress, run, CliError};
use darknet_graph::{
    build_snapshots, reference_distances, write_node_lookup_csv, write_npy, write_port_graph_csv,
    write_port_index_csv, write_snapshot_edges_csv, write_snapshot_features_csv, DistanceConfig,
    PortGraph, ReferenceStrategy, SnapshotConfig,
};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Clone, Copy, Debug, ValueEnum, serde::Serialize)]
enum Strategy {
    /// Seeded uniform choice (the paper's).
    Random,
    /// Highest in + out degree.
    Degree,
    /// Farthest-point sampling.
    Farthest,
}

/// Builds the port graph, its reference-port distances and the daily snapshots of captures
/// (or of the synthetic darknet) and writes them as CSV and .npy files.
///
/// Output files: port_graph_edges.csv, ports.csv, distances.npy, reachable.npy, references.csv,
/// snapshots/{nodes.csv, graph_DATE.txt, features_DATE.csv}, manifest.json.
#[derive(Parser, Debug, serde::Serialize)]
#[command(version)]
struct Args {
    #[command(flatten)]
    inputs: InputArgs,
    /// Output directory (created if missing).
    #[arg(long, default_value = "portgraph-out")]
    out: PathBuf,
    /// Write into an output directory that holds files of something other than a previous run
    /// (they are left in place).
    #[arg(long)]
    force: bool,
    /// Number of reference ports R (capped at the number of ports).
    #[arg(long, alias = "refs", default_value_t = 1024)]
    references: usize,
    /// How reference ports are chosen.
    #[arg(long, value_enum, default_value_t = Strategy::Random)]
    strategy: Strategy,
    /// Seed of every random choice (synthetic traffic and references).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Keep raw distances instead of min-max scaling each column to [0, 1].
    #[arg(long)]
    no_scale: bool,
    /// Top-K destination ports per snapshot (the rest become "oth").
    #[arg(long, alias = "top-k", default_value_t = 2500)]
    top_k_ports: usize,
    /// Skip the daily snapshots.
    #[arg(long)]
    no_snapshots: bool,
    /// Synthetic darknet preset when no input is given.
    #[arg(long, value_enum, default_value_t = Preset::PaperA)]
    preset: Preset,
    /// Days of synthetic traffic when no input is given.
    #[arg(long, default_value_t = 3)]
    days: u32,
    /// Synthetic source hosts over the period when no input is given [default: the preset's].
    #[arg(long)]
    hosts: Option<usize>,
}

#[derive(Clone, Copy, Debug, ValueEnum, serde::Serialize)]
enum Preset {
    /// Paper A: /20, multi-label hosts.
    #[value(alias = "a")]
    PaperA,
    /// Paper B: /24, 14 classes + Unknown (labels go into the snapshot edge files).
    #[value(alias = "b")]
    PaperB,
}

/// The input trace: a capture file, or the seeded synthetic darknet. Returns the trace and a
/// ground-truth class per host address (synthetic Paper B only).
fn input(args: &Args) -> Result<(Trace, BTreeMap<Ipv4Addr, &'static str>), CliError> {
    let files = args.inputs.resolve("portgraph")?;
    if !files.is_empty() {
        let mut stream = CaptureStream::new(files);
        let trace = Trace::try_from_packets(stream.by_ref())?;
        warn_nothing_decoded("portgraph", &stream);
        return Ok((trace, BTreeMap::new()));
    }
    let cfg = match args.preset {
        Preset::PaperA => SynthConfig::paper_a(),
        Preset::PaperB => SynthConfig::paper_b(),
    };
    let mut cfg = cfg.days(args.days).seed(args.seed);
    if let Some(h) = args.hosts {
        cfg = cfg.hosts(h);
    }
    let synth = cfg.build()?;
    let labels = match args.preset {
        Preset::PaperB => synth.hosts().iter().map(|h| (h.addr, h.class)).collect(),
        Preset::PaperA => BTreeMap::new(),
    };
    Ok((synth.trace(), labels))
}

fn main() -> ExitCode {
    run("portgraph", || {
        let args = Args::parse();
        // Checked before any work starts.
        let run_dir = RunDir::prepare(&args.out, args.force, &args.inputs.all())?;
        let out = run_dir.staging().to_path_buf();
        let (trace, labels) = input(&args)?;
        let bar = progress(4, "port graph");
        let graph = PortGraph::from_trace(&trace)?;
        write_port_graph_csv(&graph, out.join("port_graph_edges.csv"))?;
        write_port_index_csv(&graph, out.join("ports.csv"))?;
        bar.inc(1);
        bar.set_message("distances");
        let strategy = match args.strategy {
            Strategy::Random => ReferenceStrategy::Random,
            Strategy::Degree => ReferenceStrategy::HighestDegree,
            Strategy::Farthest => ReferenceStrategy::FarthestPoint,
        };
        let cfg = DistanceConfig::default()
            .n_references(args.references)
            .strategy(strategy)
            .seed(args.seed)
            .scale(!args.no_scale);
        let dist = reference_distances(&graph, &cfg)?;
        write_npy(&dist.distances, out.join("distances.npy"))?;
        write_npy(&dist.reachable, out.join("reachable.npy"))?;
        let mut refs = String::from("column,row,proto,port\n");
        for (c, &r) in dist.references.iter().enumerate() {
            let p = graph.ports()[r];
            refs.push_str(&format!("{c},{r},{},{}\n", p.proto, p.port));
        }
        let refs_path = out.join("references.csv");
        std::fs::write(&refs_path, refs)
            .map_err(|e| format!("cannot write {}: {e}", refs_path.display()))?;
        bar.inc(1);
        let mut n_snapshots = 0;
        if !args.no_snapshots {
            bar.set_message("snapshots");
            let set = build_snapshots(
                &trace,
                &SnapshotConfig::default().top_k_ports(args.top_k_ports),
            )?;
            let dir = out.join("snapshots");
            std::fs::create_dir_all(&dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            write_node_lookup_csv(&set, dir.join("nodes.csv"))?;
            for (t, s) in set.snapshots().iter().enumerate() {
                let day = day_label(s.day());
                write_snapshot_edges_csv(
                    &set,
                    t,
                    |a| labels.get(&a).copied(),
                    dir.join(format!("graph_{day}.txt")),
                )?;
                write_snapshot_features_csv(&set, t, dir.join(format!("features_{day}.csv")))?;
            }
            n_snapshots = set.snapshots().len();
        }
        bar.inc(2);
        bar.finish_and_clear();
        let settings = serde_json::to_value(&args)?;
        let manifest = run_dir.finish(RunInfo::from_env(Some(args.seed), settings))?;
        outln!(
            "{} packets -> {} ports, {} edges (Q1 {}, Q3 {}); distances {} x {}; {} snapshots; \
             {} files and manifest.json in {}",
            trace.len(),
            graph.n_ports(),
            graph.n_edges(),
            graph.q1(),
            graph.q3(),
            dist.distances.nrows(),
            dist.distances.ncols(),
            n_snapshots,
            manifest.files.len(),
            args.out.display()
        )?;
        Ok::<(), CliError>(())
    })
}
