//! Paper A from an aggregates directory (`multilabel --aggregates DIR`;
//! [`Input::Aggregates`](super::Input::Aggregates)): the tables darknet-core's SQL aggregation
//! stage writes (DataFusion's `aggregate` example or the Spark script) replace the packets.
//!
//! | stage | in-memory route (packets) | this route (tables) |
//! |---|---|---|
//! | filter reports | the filter chain over the trace | `paper_a_hosts` |
//! | port graph | transitions of the kept packets | `port_transitions`, `port_nodes` |
//! | host graphs | the labelled hosts' kept packets | `host_graph_nodes`, `host_graph_edges` |
//! | baseline statistics | the same packets | `paper_a_host_stats` |
//! | days covered | the trace | `packet_days` |
//!
//! The port graph, host graphs and statistics are the same numbers, so the auto-encoder, the
//! classifiers, the partitions and their scores are the same as the in-memory route's on the
//! packets the tables were computed from, with the same seed (tested). Nothing per packet is
//! read: memory follows the hosts and ports.
//!
//! The filters' settings are those the tables were computed with (the SQL parameters). The
//! pipeline's [`FilterConfig`](super::FilterConfig) is checked against what the tables record:
//! every filter must be on, the bogon decision and the vertical-scan thresholds must agree with
//! each source's row; the windows cannot be checked and must match by construction (the
//! defaults on both sides).

use super::error::{PaperAError, Result};
use super::filters::{FilterReport, FilterStep};
use super::labels::{read_label_file, LabelRows};
use super::{Dataset, PaperAConfig, Staged};
use crate::progress::{Observer, Stage, Warnings};
use darknet_core::aggregate::read::{self, HostGraphRows, PaperAFilterAggregate};
use darknet_core::filter::is_bogon;
use darknet_core::Protocol;
use darknet_graph::{
    HostDataset, HostGraph, HostNodeKey, HostNodeSummary, PortEmbeddings, PortGraph, PreparedGraph,
    TransitionCounts,
};
use ndarray::Array2;
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::Instant;

fn inconsistent(dir: &Path, reason: String) -> PaperAError {
    PaperAError::Aggregates {
        dir: dir.to_path_buf(),
        reason,
    }
}

/// Checks that the filter decisions the tables record are those `cfg` asks for.
fn check_filters(dir: &Path, agg: &PaperAFilterAggregate, cfg: &PaperAConfig) -> Result<()> {
    let f = &cfg.filters;
    if !(f.isolated && f.vertical_scan && f.periodic) {
        return Err(PaperAError::InvalidConfig {
            field: "filters",
            value: format!(
                "isolated {}, vertical scan {}, periodic {}",
                f.isolated, f.vertical_scan, f.periodic
            ),
            reason: "the aggregates hold the decisions of all three filters; switch filters on or \
                     off where the aggregates are computed, or read the captures",
        });
    }
    for h in &agg.hosts {
        let bogon = f.bogon && is_bogon(h.addr);
        if h.bogon != bogon {
            return Err(inconsistent(
                dir,
                format!(
                    "source {} is {}a bogon in the tables but the bogon filter is {}; compute \
                     the aggregates with the same bogon setting",
                    h.addr,
                    if h.bogon { "" } else { "not " },
                    if f.bogon { "on" } else { "off" }
                ),
            ));
        }
        if !h.bogon && h.isolated_kept > 0 {
            let vertical = h.max_tcp_ports >= f.vertical_tcp_ports as u64
                || h.max_udp_ports >= f.vertical_udp_ports as u64;
            if vertical != h.vertical {
                return Err(inconsistent(
                    dir,
                    format!(
                        "source {} reaches {} TCP and {} UDP ports in a window and is {}a \
                         vertical scanner in the tables, not with thresholds {} TCP / {} UDP; \
                         compute the aggregates with the same thresholds",
                        h.addr,
                        h.max_tcp_ports,
                        h.max_udp_ports,
                        if h.vertical { "" } else { "not " },
                        f.vertical_tcp_ports,
                        f.vertical_udp_ports
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// The filter report of the tables, in [`super::filters::filter_trace`]'s shape (no bogon
/// step when the bogon filter is off).
fn filter_report(agg: &PaperAFilterAggregate, cfg: &PaperAConfig) -> FilterReport {
    FilterReport {
        steps: agg
            .reports()
            .iter()
            .filter(|r| cfg.filters.bogon || r.name != "bogon-source")
            .map(FilterStep::from)
            .collect(),
        packets_out: agg.kept_packets() as usize,
        hosts_out: agg.hosts.iter().filter(|h| h.kept).count(),
    }
}

/// Reads the tables of `dir` up to the port graph: what [`super::run`]'s other routes stage,
/// with the kept sources (ascending). Timings `read aggregates` and `port graph`.
pub(super) fn stage(
    dir: &Path,
    labels: Option<&PathBuf>,
    cfg: &PaperAConfig,
    timings: &mut Vec<(String, f64)>,
    warnings: &mut Warnings<'_>,
    obs: &dyn Observer,
) -> Result<(Staged, Vec<Ipv4Addr>)> {
    let bar = Stage::start(obs, "read aggregates", 3);
    let clock = Instant::now();
    let labels = match labels {
        Some(p) => read_label_file(p, cfg.min_reports)?,
        None => LabelRows::empty(),
    };
    let agg = read::paper_a_filters(dir)?;
    bar.advance(1);
    if agg.hosts.is_empty() {
        return Err(PaperAError::EmptyAfter {
            stage: "reading the aggregates",
            detail: format!("{}: no source in paper_a_hosts", dir.display()),
        });
    }
    check_filters(dir, &agg, cfg)?;
    let days = read::packet_days(dir)?;
    bar.advance(1);
    let table = read::port_transitions(dir)?;
    bar.advance(1);
    drop(bar);
    let (n_packets_in, n_hosts_in) = (
        agg.hosts.iter().map(|h| h.packets as usize).sum(),
        agg.hosts.len(),
    );
    super::note_input(
        obs,
        warnings,
        n_packets_in,
        n_hosts_in,
        days.len(),
        &labels.summary,
    );
    let filters = filter_report(&agg, cfg);
    super::note_filters(obs, &filters)?;
    timings.push(("read aggregates".into(), clock.elapsed().as_secs_f64()));
    let clock = Instant::now();
    let counts = TransitionCounts::from_table(&table.edges, &table.ports)?;
    if counts.n_packets() > filters.packets_out as u64 {
        return Err(inconsistent(
            dir,
            format!(
                "the port nodes count {} packets but the filters keep {}",
                counts.n_packets(),
                filters.packets_out
            ),
        ));
    }
    let graph =
        PortGraph::from_counts(&counts).map_err(|source| PaperAError::PortGraph { source })?;
    timings.push(("port graph".into(), clock.elapsed().as_secs_f64()));
    let staged = Staged {
        trace: darknet_core::Trace::default(),
        graph,
        labels,
        filters,
        n_packets_in,
        n_hosts_in,
        n_days: days.len(),
    };
    Ok((staged, agg.kept_hosts()))
}

fn node_part(n: &read::HostGraphNode) -> (HostNodeKey, HostNodeSummary) {
    (
        HostNodeKey {
            proto: Protocol::from_number(n.proto),
            dst_port: n.dst_port,
            tcp_flags: n.tcp_flags,
            icmp_type: n.icmp_type,
            icmp_code: n.icmp_code,
        },
        HostNodeSummary {
            packets: n.packets,
            n_dsts: n.n_dsts,
            dst_min: n.dst_min,
            dst_max: n.dst_max,
            dst_up: n.dst_up,
            dst_down: n.dst_down,
            n_src_ports: n.n_src_ports,
            src_port_classes: n.src_port_classes,
        },
    )
}

fn prepared(rows: &HostGraphRows, emb: &PortEmbeddings) -> Result<PreparedGraph> {
    let nodes = rows.nodes.iter().map(node_part).collect();
    let g = HostGraph::from_parts(rows.addr, nodes, &rows.edges, emb)?;
    Ok(PreparedGraph::from_host_graph(&g)?)
}

/// [`super::build_dataset`] from the tables of `dir`: the host graphs of the labelled hosts
/// among `kept` (the sources the filters keep, ascending) and their statistics.
///
/// # Errors
/// As [`super::build_dataset`]; [`PaperAError::Aggregates`] when a labelled host's statistics
/// are missing from `paper_a_host_stats`; reading errors.
pub(super) fn build_dataset(
    dir: &Path,
    kept: &[Ipv4Addr],
    emb: &PortEmbeddings,
    labels: &LabelRows,
    n_partitions: usize,
) -> Result<Dataset> {
    let wanted: HashSet<Ipv4Addr> = labels.hosts.iter().copied().collect();
    let rows = read::host_graphs(dir, |a| wanted.contains(&a))?;
    let graphs: HashMap<Ipv4Addr, PreparedGraph> = rows
        .par_iter()
        .map(|r| Ok((r.addr, prepared(r, emb)?)))
        .collect::<Result<_>>()?;
    drop(rows);
    let graph_of = |k: usize| graphs.get(&kept[k]).cloned();
    let graphs = HostDataset::from_graphs(
        kept,
        &graph_of,
        &labels.names,
        &labels.hosts,
        labels.y.view(),
    )?;
    super::check_enough_labelled(&graphs, n_partitions)?;
    let summaries = read::paper_a_host_stats(dir)?;
    let mut stats = Array2::zeros((graphs.len(), darknet_core::stats::HOST_FEATURE_COUNT));
    for (mut row, h) in stats.rows_mut().into_iter().zip(&graphs.hosts) {
        let s = summaries.binary_search_by_key(h, |s| s.addr).map_err(|_| {
            inconsistent(
                dir,
                format!("host {h} has a host graph but no row in paper_a_host_stats"),
            )
        })?;
        row.iter_mut()
            .zip(summaries[s].features())
            .for_each(|(a, b)| *a = b);
    }
    Ok(Dataset { graphs, stats })
}
