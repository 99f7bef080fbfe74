//! Daily corpora of the i-DarkVec baseline (docs/paper-b.md#i-darkvec, docs/choices.md#b10): per
//! day, for every port node, the senders that reached it in time order.
//!
//! The corpora use exactly the hosts and port nodes of the daily snapshots built with the same
//! [`SnapshotConfig`] (TCP only, the host threshold, top-K ports + [`PortNode::Other`]), so the
//! word2vec embeddings and the GNN embeddings describe the same hosts each day.

use super::{kept_hosts, port_counts, top_ports, PortNode, PortRanking, SnapshotConfig, OTHER};
use crate::error::{GraphError, Result};
use darknet_core::Trace;
use rayon::prelude::*;

/// One day's sender sequences, one per port node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DayCorpus {
    /// Day number (days since 1970-01-01 after the UTC offset).
    pub day: u32,
    /// The port nodes, by descending packet count of the day's kept hosts (ties: ascending
    /// port, `Other` after the ports of the same count). Shape (n_ports,).
    pub ports: Vec<PortNode>,
    /// For each port node, the source addresses (`u32` in network order of the octets, as
    /// `u32::from(Ipv4Addr)`) of its packets in time order, with consecutive repeats of the
    /// same sender collapsed into one. Shape (n_ports,) lists.
    pub senders: Vec<Vec<u32>>,
    /// Packets behind each list (before collapsing repeats). Shape (n_ports,).
    pub packets: Vec<u64>,
}

impl DayCorpus {
    /// The per-port sentences (the paper's corpus, B10): one sentence per port node, in
    /// [`DayCorpus::ports`] order.
    pub fn sentences(&self) -> &[Vec<u32>] {
        &self.senders
    }

    /// Number of words over all sentences.
    pub fn n_words(&self) -> usize {
        self.senders.iter().map(Vec::len).sum()
    }
}

/// Builds the daily corpora of `trace` with the hosts and port nodes of
/// [`build_snapshots`](super::build_snapshots) under the same `config`, days in parallel.
///
/// Collapsing consecutive repeats **(ours)**: a host sending k packets in a row to a port
/// contributes one word, not k (a word predicting itself carries no context). Feed
/// [`DayCorpus::sentences`] to word2vec for the paper's per-port sentences, or the lists to
/// `darknet_nn::word2vec::code_corpus` for the reference code's flattened chunks; both keep the
/// descending-count port order the code uses.
///
/// Returns one corpus per day with at least one kept host, ascending days (the same days as
/// the snapshots).
///
/// # Errors
/// [`GraphError::InvalidConfig`] for a bad config; [`GraphError::Empty`] when no day keeps any
/// host.
///
/// Complexity: O(n log n) per day (the grouping of [`build_snapshots`](super::build_snapshots)),
/// O(n) for the lists.
pub fn build_corpora(trace: &Trace, config: &SnapshotConfig) -> Result<Vec<DayCorpus>> {
    config.validate()?;
    let days = trace.days(config.utc_offset_secs);
    let global_top = (config.port_ranking == PortRanking::WholePeriod).then(|| {
        let mut counts = vec![0u64; 65_536];
        for (_, r) in &days {
            let (idx, groups) = kept_hosts(trace, r.clone(), config.host_threshold);
            for (c, n) in counts.iter_mut().zip(port_counts(trace, &idx, &groups)) {
                *c += n;
            }
        }
        top_ports(&counts, config.top_k_ports)
    });
    let dport = trace.dst_port();
    let src = trace.src();
    let out: Vec<DayCorpus> = days
        .par_iter()
        .filter_map(|(day, r)| {
            let (idx, groups) = kept_hosts(trace, r.clone(), config.host_threshold);
            if groups.is_empty() {
                return None;
            }
            let counts = port_counts(trace, &idx, &groups);
            let daily;
            let top = match &global_top {
                Some(t) => t,
                None => {
                    daily = top_ports(&counts, config.top_k_ports);
                    &daily
                }
            };
            let code = |p: u16| if top[p as usize] { u32::from(p) } else { OTHER };
            // Kept packets in time order (trace indices ascend with time).
            let mut kept: Vec<u32> = groups
                .iter()
                .flat_map(|(_, g)| idx[g.clone()].iter().copied())
                .collect();
            kept.sort_unstable();
            // Packet count per port node, then the node order.
            let mut node_packets: Vec<(u32, u64)> = Vec::new();
            let mut other = 0u64;
            for (p, &c) in counts.iter().enumerate() {
                if c == 0 {
                    continue;
                }
                if top[p] {
                    node_packets.push((p as u32, c));
                } else {
                    other += c;
                }
            }
            if other > 0 {
                node_packets.push((OTHER, other));
            }
            node_packets.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            let mut slot = vec![u32::MAX; 65_537];
            for (k, &(c, _)) in node_packets.iter().enumerate() {
                slot[c as usize] = k as u32;
            }
            let mut senders: Vec<Vec<u32>> = vec![Vec::new(); node_packets.len()];
            for &i in &kept {
                let i = i as usize;
                let list = &mut senders[slot[code(dport[i]) as usize] as usize];
                if list.last() != Some(&src[i]) {
                    list.push(src[i]);
                }
            }
            Some(DayCorpus {
                day: *day,
                ports: node_packets
                    .iter()
                    .map(|&(c, _)| PortNode::from_code(c))
                    .collect(),
                senders,
                packets: node_packets.iter().map(|&(_, n)| n).collect(),
            })
        })
        .collect();
    if out.is_empty() {
        return Err(GraphError::Empty {
            what: "corpora: no day keeps any TCP host".into(),
        });
    }
    Ok(out)
}
