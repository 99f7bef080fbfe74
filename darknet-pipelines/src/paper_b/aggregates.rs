//! Paper B from an aggregates directory (`temporal --aggregates DIR`;
//! [`Input::Aggregates`](super::Input::Aggregates)): the daily snapshots come from the tables
//! darknet-core's SQL aggregation stage writes (`paper_b_edges`, `paper_b_host_features`,
//! `paper_b_port_features`, and `packet_days` for the days without a snapshot) instead of the
//! packets.
//!
//! The snapshots are the same as [`build_snapshots`](darknet_graph::build_snapshots)'
//! on the packets the tables were computed from (global ids, scaled features, edges; the
//! first-seen edge mode of [`CodeReadings`](super::CodeReadings) is applied across the days as
//! usual), so training, embeddings and scores are the same with the same seed (tested).
//!
//! The per-day host threshold, the top K and the UTC offset are those the tables were computed
//! with (the SQL parameters `host_min_packets`, `top_k_ports`, `utc_offset_ns`); the pipeline
//! checks what it can: every host kept on a day passes its own threshold, a day has no more
//! than its top K ports, and only the paper's daily port ranking is computed. i-DarkVec needs
//! the senders of every port in time order, which no aggregate holds: ask for the GNN variants.

use super::error::{PaperBError, Result};
use super::{prepare_set, ModelKind, PaperBConfig, Prepared};
use crate::progress::Observer;
use darknet_core::aggregate::read::{self, PaperBDay, OTHER_PORT};
use darknet_core::GroundTruth;
use darknet_graph::{GraphError, HostThreshold, PortNode, RawSnapshotDay, SnapshotSet};
use std::path::Path;

fn inconsistent(dir: &Path, reason: String) -> PaperBError {
    PaperBError::Aggregates {
        dir: dir.to_path_buf(),
        reason,
    }
}

/// One day of the tables as darknet-graph takes it, checked against the pipeline's threshold
/// and top K.
fn raw_day(dir: &Path, d: PaperBDay, cfg: &PaperBConfig) -> Result<RawSnapshotDay> {
    let scfg = cfg.snapshot_config();
    let label = darknet_core::day_label(d.day);
    let mut packets = vec![0u64; d.hosts.len()];
    for &(h, _, n) in &d.edges {
        packets[h as usize] += n;
    }
    let passes = |n: u64| match scfg.host_threshold {
        HostThreshold::MoreThan(m) => n > m,
        _ => n >= cfg.min_packets,
    };
    if let Some(h) = packets.iter().position(|&n| !passes(n)) {
        return Err(inconsistent(
            dir,
            format!(
                "day {label}: host {} has {} TCP packets, under the pipeline's threshold of {}{}; \
                 compute the aggregates with the same host_min_packets",
                d.hosts[h],
                packets[h],
                if cfg.code.packets_more_than {
                    "more than "
                } else {
                    ""
                },
                cfg.min_packets
            ),
        ));
    }
    let top = d.ports.iter().filter(|&&p| p != OTHER_PORT).count();
    if top > cfg.top_k_ports {
        return Err(inconsistent(
            dir,
            format!(
                "day {label}: {top} ports of their own, more than the pipeline's top {}; \
                 compute the aggregates with the same top_k_ports",
                cfg.top_k_ports
            ),
        ));
    }
    let ports = d
        .ports
        .iter()
        .map(|&p| match p {
            OTHER_PORT => Ok(PortNode::Other),
            p => u16::try_from(p).map(PortNode::Port).map_err(|_| {
                inconsistent(dir, format!("day {label}: port node {p} is not a port"))
            }),
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(RawSnapshotDay {
        day: d.day,
        hosts: d.hosts,
        host_features: d.host_features,
        ports,
        port_features: d.port_features,
        edges: d.edges,
    })
}

/// [`super::prepare`] from the tables of `dir`, with the ground truth `truth`.
///
/// # Errors
/// [`PaperBError::InvalidConfig`] when i-DarkVec is asked for; [`PaperBError::Aggregates`] when
/// the tables disagree with the settings (above); reading errors; then [`super::prepare`]'s.
pub(super) fn prepare(
    dir: &Path,
    truth: &GroundTruth,
    cfg: &PaperBConfig,
    obs: &dyn Observer,
) -> Result<Prepared> {
    cfg.validate()?;
    if cfg.variants.iter().any(|v| v.model == ModelKind::IDarkVec) {
        return Err(PaperBError::InvalidConfig {
            field: "models",
            value: "idarkvec".into(),
            reason: "i-DarkVec reads the senders of every port in time order, which the \
                     aggregates do not hold: read the captures for it",
        });
    }
    let days = read::paper_b_days(dir)?
        .into_iter()
        .map(|d| raw_day(dir, d, cfg))
        .collect::<Result<Vec<_>>>()?;
    let packet_days = read::packet_days(dir)?;
    let all_days: Vec<u32> = packet_days.iter().map(|d| d.0).collect();
    let n_packets: u64 = packet_days.iter().map(|d| d.1).sum();
    let set =
        SnapshotSet::from_days(days, cfg.snapshot_config().edge_mode).map_err(|e| match e {
            GraphError::Empty { .. } => PaperBError::EmptyAfter {
                stage: "the per-day host threshold",
                detail: format!(
                    "no host has {} {} TCP packets on any day ({n_packets} packets in the dataset)",
                    if cfg.code.packets_more_than {
                        "more than"
                    } else {
                        "at least"
                    },
                    cfg.min_packets
                ),
            },
            other => other.into(),
        })?;
    prepare_set(set, &all_days, truth, cfg, obs, &|| {
        Err(GraphError::Empty {
            what: "i-DarkVec corpora: an aggregates directory holds none".into(),
        })
    })
}
