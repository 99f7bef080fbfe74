//! Port graph, quartile weights and reference-port distances (Paper A), plus Paper B's daily
//! snapshots, written as files Python users read.
//!
//! `cargo run --release --example portgraph -- --out portgraph-out --refs 1024 --strategy random`
//!
//! Writes into `--out`:
//! - `port_graph_edges.csv`: `proto_src,port_src,proto_dst,port_dst,theta,w_prime,w`;
//! - `ports.csv`: `row,proto,port`, the port of each distance row;
//! - `distances.npy` (f32, shape (n_ports, R)) and `reachable.npy` (bool, same shape);
//! - `references.csv`: `column,row,proto,port`, the reference port of each column;
//! - `snapshots/graph_DATE.txt` (`src_id,dst_id,weight,label`), `snapshots/features_DATE.csv`
//!   (`index,0..36`) and `snapshots/nodes.csv` (`id,kind,value`), gnn-for-darknet's layouts.
use clap::{Parser, ValueEnum};
use darknet_core::{day_label, Packet, Protocol, Trace, NANOS_PER_DAY};
use darknet_examples::{progress, run, CliError};
use darknet_graph::{
    build_snapshots, reference_distances, write_node_lookup_csv, write_npy, write_port_graph_csv,
    write_port_index_csv, write_snapshot_edges_csv, write_snapshot_features_csv, DistanceConfig,
    PortGraph, ReferenceStrategy, SnapshotConfig,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Strategy {
    /// Seeded uniform choice (the paper's).
    Random,
    /// Highest in + out degree.
    Degree,
    /// Farthest-point sampling.
    Farthest,
}

/// Builds the port graph, its reference-port distances and the daily snapshots of a capture
/// (or of the seeded synthetic darknet) and writes them as CSV and .npy files.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Output directory (created if missing).
    #[arg(long, default_value = "portgraph-out")]
    out: PathBuf,
    /// Number of reference ports R (capped at the number of ports).
    #[arg(long, default_value_t = 1024)]
    refs: usize,
    /// How reference ports are chosen.
    #[arg(long, value_enum, default_value_t = Strategy::Random)]
    strategy: Strategy,
    /// Seed of every random choice (synthetic traffic and references).
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Keep raw distances instead of min-max scaling each column to [0, 1].
    #[arg(long)]
    no_scale: bool,
    /// Top-K destination ports per snapshot (the rest become "oth").
    #[arg(long, default_value_t = 2500)]
    top_k: usize,
    /// Skip the daily snapshots.
    #[arg(long)]
    no_snapshots: bool,
    /// Days of synthetic traffic.
    #[arg(long, default_value_t = 3)]
    days: u32,
}

/// A small seeded stand-in for the synthetic darknet: scanners with favourite port sets.
fn synthetic(days: u32, seed: u64) -> Trace {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut ps = Vec::new();
    for h in 0..2_000u32 {
        let src = Ipv4Addr::from(0xC633_6400u32.wrapping_add(h * 13));
        let fav: Vec<u16> = (0..rng.random_range(1..5))
            .map(|_| [22, 23, 80, 443, 445, 2323, 3389, 5555, 8080][rng.random_range(0..9)])
            .collect();
        for day in 0..u64::from(days) {
            if rng.random_bool(0.3) {
                continue;
            }
            for _ in 0..rng.random_range(1..30) {
                let udp = rng.random_bool(0.07);
                ps.push(Packet {
                    ts_ns: day * NANOS_PER_DAY + rng.random_range(0..NANOS_PER_DAY),
                    src,
                    dst: Ipv4Addr::new(10, 0, 0, rng.random()),
                    proto: if udp { Protocol::Udp } else { Protocol::Tcp },
                    src_port: rng.random_range(1024..65535),
                    dst_port: if udp {
                        53
                    } else {
                        fav[rng.random_range(0..fav.len())]
                    },
                    ip_len: 40,
                    ttl: rng.random_range(40..128),
                    tcp_flags: if udp { 0 } else { 0x02 },
                    tcp_window: 1024,
                    ..Packet::default()
                });
            }
        }
    }
    Trace::from_packets(ps)
}

fn main() -> ExitCode {
    run("portgraph", || {
        let args = Args::parse();
        let trace = synthetic(args.days, args.seed);
        std::fs::create_dir_all(&args.out)
            .map_err(|e| format!("cannot create {}: {e}", args.out.display()))?;
        let bar = progress(4, "port graph");
        let graph = PortGraph::from_trace(&trace)?;
        write_port_graph_csv(&graph, args.out.join("port_graph_edges.csv"))?;
        write_port_index_csv(&graph, args.out.join("ports.csv"))?;
        bar.inc(1);
        bar.set_message("distances");
        let strategy = match args.strategy {
            Strategy::Random => ReferenceStrategy::Random,
            Strategy::Degree => ReferenceStrategy::HighestDegree,
            Strategy::Farthest => ReferenceStrategy::FarthestPoint,
        };
        let cfg = DistanceConfig::default()
            .n_references(args.refs)
            .strategy(strategy)
            .seed(args.seed)
            .scale(!args.no_scale);
        let dist = reference_distances(&graph, &cfg)?;
        write_npy(&dist.distances, args.out.join("distances.npy"))?;
        write_npy(&dist.reachable, args.out.join("reachable.npy"))?;
        let mut refs = String::from("column,row,proto,port\n");
        for (c, &r) in dist.references.iter().enumerate() {
            let p = graph.ports()[r];
            refs.push_str(&format!("{c},{r},{},{}\n", p.proto, p.port));
        }
        let refs_path = args.out.join("references.csv");
        std::fs::write(&refs_path, refs)
            .map_err(|e| format!("cannot write {}: {e}", refs_path.display()))?;
        bar.inc(1);
        let mut n_snapshots = 0;
        if !args.no_snapshots {
            bar.set_message("snapshots");
            let set = build_snapshots(&trace, &SnapshotConfig::default().top_k_ports(args.top_k))?;
            let dir = args.out.join("snapshots");
            std::fs::create_dir_all(&dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            write_node_lookup_csv(&set, dir.join("nodes.csv"))?;
            for (t, s) in set.snapshots.iter().enumerate() {
                let day = day_label(s.day);
                write_snapshot_edges_csv(
                    &set,
                    t,
                    |_| None::<&str>,
                    dir.join(format!("graph_{day}.txt")),
                )?;
                write_snapshot_features_csv(&set, t, dir.join(format!("features_{day}.csv")))?;
            }
            n_snapshots = set.snapshots.len();
        }
        bar.inc(2);
        bar.finish_and_clear();
        println!(
            "{} packets -> {} ports, {} edges (Q1 {}, Q3 {}); distances {} x {}; {} snapshots; files in {}",
            trace.len(),
            graph.n_ports(),
            graph.n_edges(),
            graph.q1(),
            graph.q3(),
            dist.distances.nrows(),
            dist.distances.ncols(),
            n_snapshots,
            args.out.display()
        );
        Ok::<(), CliError>(())
    })
}
