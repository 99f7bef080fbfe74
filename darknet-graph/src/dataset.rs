//! Labelled host-graph datasets (Paper A, docs/paper-a.md#host-graphs, docs/paper-a.md#labels): the
//! host graphs of the labelled sources of a trace, normalized once, next to their label rows.
//!
//! Only **labelled** hosts enter a [`HostDataset`]: the classifier is trained and evaluated on
//! them. Unlabelled hosts are not lost: their packets still shaped the port graph and the port
//! embeddings (built from the whole trace before this step), and
//! [`prepare_sources`] builds their graphs for prediction.
//!
//! Label rows are plain arrays: host addresses `(n_rows,)` and a 0/1 matrix
//! `(n_rows, n_labels)` (any non-zero value counts as 1), so any label source (AbuseIPDB-style
//! reports, a ground-truth CSV) can feed it. The build reports what did not match:
//! labelled hosts absent from the traffic, label rows with no label at all, labelled hosts
//! without a usable packet, and how many hosts of the traffic have no label
//! ([`DatasetReport`]).
//!
//! ```
//! use darknet_core::{Packet, Trace};
//! use darknet_graph::{HostDataset, PortEmbeddings};
//! use ndarray::array;
//! use std::net::Ipv4Addr;
//!
//! let a = Ipv4Addr::new(192, 0, 2, 1);
//! let b = Ipv4Addr::new(192, 0, 2, 2);
//! let p = |ts, src, port| Packet { ts_ns: ts, src, dst_port: port, tcp_flags: 2, ..Packet::default() };
//! let trace = Trace::from_packets([p(1, a, 22), p(2, a, 23), p(3, b, 80)]);
//! let absent = Ipv4Addr::new(198, 51, 100, 9);
//! let names = vec!["scan".to_string(), "ssh".to_string()];
//! let ds = HostDataset::build(
//!     &trace,
//!     &trace.by_source(),
//!     &PortEmbeddings::empty(4),
//!     &names,
//!     &[a, absent],
//!     array![[1u8, 1], [1, 0]].view(),
//! )
//! .unwrap();
//! assert_eq!(ds.len(), 1); // b has no label, `absent` sent nothing
//! assert_eq!(ds.hosts, vec![a]);
//! assert_eq!(ds.report.n_labels_absent, 1);
//! assert_eq!(ds.report.n_hosts_unlabelled, 1);
//! assert_eq!(ds.n_features(), 24);
//! ```

use crate::batch::PreparedGraph;
use crate::error::{GraphError, Result};
use crate::host_graph::{build_host_graph, PortEmbeddings};
use darknet_core::{SourceIndex, Trace};
use ndarray::{Array2, ArrayView2, Axis};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// How many example addresses a [`DatasetReport`] keeps per kind of mismatch.
pub const REPORT_EXAMPLES: usize = 5;

/// What happened to the label rows and the hosts of the traffic while building a
/// [`HostDataset`]. Counts are over distinct hosts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DatasetReport {
    /// Label rows given (after merging repeated hosts).
    pub n_label_rows: usize,
    /// Label rows whose host is repeated in the input (merged by OR of their labels).
    pub n_duplicate_rows: usize,
    /// Label rows with no positive label: not used (an unlabelled host).
    pub n_empty_label_sets: usize,
    /// Labelled hosts that sent no packet in the traffic (after filtering): not used.
    pub n_labels_absent: usize,
    /// Up to [`REPORT_EXAMPLES`] of them, in ascending address order.
    pub absent_examples: Vec<Ipv4Addr>,
    /// Labelled hosts of the traffic without any TCP, UDP or ICMP packet (no host graph).
    pub n_labelled_without_graph: usize,
    /// Distinct source hosts of the traffic.
    pub n_hosts: usize,
    /// Hosts of the traffic without a label (they still shaped the port graph).
    pub n_hosts_unlabelled: usize,
    /// Hosts in the dataset (labelled, present, with a graph).
    pub n_used: usize,
}

/// The host graphs of the labelled hosts of a trace, prepared for batching, with their labels.
///
/// Row `i` of every field is host `hosts[i]`; hosts are in ascending address order.
#[derive(Clone, Debug, PartialEq)]
pub struct HostDataset {
    /// Label names, in column order. Length n_labels.
    pub label_names: Vec<String>,
    /// Host addresses, ascending. Shape (n_hosts,).
    pub hosts: Vec<Ipv4Addr>,
    /// Normalized host graphs (features 20 + E wide). Shape (n_hosts,).
    pub graphs: Vec<PreparedGraph>,
    /// Labels in {0, 1}. Shape (n_hosts, n_labels).
    pub labels: Array2<u8>,
    /// What was matched, dropped and why.
    pub report: DatasetReport,
}

impl HostDataset {
    /// Builds the dataset of the labelled hosts of `trace`.
    ///
    /// Arguments: `trace` and its `sources` index (`trace.by_source()`); `embeddings` the port
    /// embedding table (ports absent from it get zero embeddings); `label_names` (n_labels);
    /// `label_hosts` (n_rows,) and `labels` (n_rows, n_labels) the label rows (non-zero =
    /// positive; a host repeated in several rows gets the OR of its rows).
    ///
    /// Hosts with an all-zero label row, labelled hosts absent from the trace and labelled
    /// hosts without a TCP/UDP/ICMP packet are left out and counted in the report; it is not an
    /// error for the dataset to end up empty (check [`HostDataset::is_empty`]).
    ///
    /// # Errors
    /// [`GraphError::ShapeMismatch`] when `labels` has not one row per host or not one column
    /// per name; [`GraphError::InvalidConfig`] for no label name.
    ///
    /// Complexity: O(packets of the labelled hosts) for the graphs, in parallel over hosts.
    pub fn build(
        trace: &Trace,
        sources: &SourceIndex,
        embeddings: &PortEmbeddings,
        label_names: &[String],
        label_hosts: &[Ipv4Addr],
        labels: ArrayView2<'_, u8>,
    ) -> Result<Self> {
        Self::assemble(
            sources.len(),
            &|host| sources.position(host),
            &|k| sources.source(k),
            &|positions| prepare_sources(trace, sources, positions, embeddings),
            label_names,
            label_hosts,
            labels,
        )
    }

    /// [`HostDataset::build`] from host graphs made elsewhere (from aggregates, say):
    /// `traffic_hosts` are the distinct sources of the traffic, ascending; `graph_of(k)` gives
    /// the graph of `traffic_hosts[k]` (`None` for a host without TCP, UDP or ICMP packet) and
    /// is called, in parallel, for the labelled hosts only. The dataset and its report are
    /// those [`HostDataset::build`] gives for a trace whose sources and graphs these are.
    ///
    /// # Errors
    /// As [`HostDataset::build`]; [`GraphError::InvalidTable`] when `traffic_hosts` is not
    /// strictly ascending.
    pub fn from_graphs(
        traffic_hosts: &[Ipv4Addr],
        graph_of: &(dyn Fn(usize) -> Option<PreparedGraph> + Sync),
        label_names: &[String],
        label_hosts: &[Ipv4Addr],
        labels: ArrayView2<'_, u8>,
    ) -> Result<Self> {
        if let Some(k) = traffic_hosts.windows(2).position(|w| w[0] >= w[1]) {
            return Err(GraphError::InvalidTable {
                what: "hosts of the traffic",
                row: k + 1,
                reason: format!(
                    "{} after {}: expected ascending distinct addresses",
                    traffic_hosts[k + 1],
                    traffic_hosts[k]
                ),
            });
        }
        Self::assemble(
            traffic_hosts.len(),
            &|host| traffic_hosts.binary_search(&host).ok(),
            &|k| traffic_hosts[k],
            &|positions| positions.par_iter().map(|&k| graph_of(k)).collect(),
            label_names,
            label_hosts,
            labels,
        )
    }

    /// The shared part of [`HostDataset::build`] and [`HostDataset::from_graphs`]: `n_hosts`
    /// sources, `position` of a host among them, `source` of a position, and `prepare` the
    /// graphs of a list of positions.
    fn assemble(
        n_hosts: usize,
        position: &dyn Fn(Ipv4Addr) -> Option<usize>,
        source: &dyn Fn(usize) -> Ipv4Addr,
        prepare: &dyn Fn(&[usize]) -> Vec<Option<PreparedGraph>>,
        label_names: &[String],
        label_hosts: &[Ipv4Addr],
        labels: ArrayView2<'_, u8>,
    ) -> Result<Self> {
        if label_names.is_empty() {
            return Err(GraphError::InvalidConfig {
                field: "label_names",
                value: "[]".into(),
                expected: "at least one label name",
            });
        }
        if labels.nrows() != label_hosts.len() || labels.ncols() != label_names.len() {
            return Err(GraphError::ShapeMismatch {
                what: "label rows",
                expected: vec![label_hosts.len(), label_names.len()],
                actual: labels.shape().to_vec(),
            });
        }
        let n_labels = label_names.len();
        let mut merged: BTreeMap<Ipv4Addr, Vec<u8>> = BTreeMap::new();
        let mut report = DatasetReport::default();
        for (host, row) in label_hosts.iter().zip(labels.axis_iter(Axis(0))) {
            let entry = merged.entry(*host).or_insert_with(|| {
                report.n_label_rows += 1;
                vec![0u8; n_labels]
            });
            for (e, &v) in entry.iter_mut().zip(row.iter()) {
                *e |= u8::from(v != 0);
            }
        }
        report.n_duplicate_rows = label_hosts.len() - merged.len();
        // Positions in the trace of the usable labelled hosts.
        let mut chosen: Vec<(usize, Vec<u8>)> = Vec::new();
        for (host, row) in merged {
            if row.iter().all(|&v| v == 0) {
                report.n_empty_label_sets += 1;
                continue;
            }
            match position(host) {
                Some(k) => chosen.push((k, row)),
                None => {
                    report.n_labels_absent += 1;
                    if report.absent_examples.len() < REPORT_EXAMPLES {
                        report.absent_examples.push(host);
                    }
                }
            }
        }
        report.n_hosts = n_hosts;
        let positions: Vec<usize> = chosen.iter().map(|(k, _)| *k).collect();
        let graphs = prepare(&positions);
        let mut hosts = Vec::with_capacity(graphs.len());
        let mut kept_graphs = Vec::with_capacity(graphs.len());
        let mut rows: Vec<u8> = Vec::with_capacity(graphs.len() * n_labels);
        for ((k, row), g) in chosen.into_iter().zip(graphs) {
            match g {
                Some(g) => {
                    hosts.push(source(k));
                    kept_graphs.push(g);
                    rows.extend_from_slice(&row);
                }
                None => report.n_labelled_without_graph += 1,
            }
        }
        let labelled_present = hosts.len() + report.n_labelled_without_graph;
        report.n_hosts_unlabelled = report.n_hosts - labelled_present;
        report.n_used = hosts.len();
        let labels = Array2::from_shape_vec((hosts.len(), n_labels), rows).map_err(|_| {
            GraphError::ShapeMismatch {
                what: "label rows",
                expected: vec![hosts.len(), n_labels],
                actual: vec![],
            }
        })?;
        Ok(HostDataset {
            label_names: label_names.to_vec(),
            hosts,
            graphs: kept_graphs,
            labels,
            report,
        })
    }

    /// Number of hosts (graphs).
    pub fn len(&self) -> usize {
        self.hosts.len()
    }

    /// True when no labelled host is left.
    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty()
    }

    /// Number of labels.
    pub fn n_labels(&self) -> usize {
        self.label_names.len()
    }

    /// Width of the node features (20 + E); 0 for an empty dataset.
    pub fn n_features(&self) -> usize {
        self.graphs.first().map_or(0, |g| g.features().ncols())
    }

    /// Number of hosts carrying each label. Shape (n_labels,).
    pub fn label_counts(&self) -> Vec<usize> {
        self.labels
            .axis_iter(Axis(1))
            .map(|c| c.iter().filter(|&&v| v != 0).count())
            .collect()
    }
}

/// Host graphs of the sources at `positions` of `sources` (indices into the source index),
/// normalized and ready for batching, in parallel; `None` for a source without any TCP, UDP or
/// ICMP packet. Ports absent from `embeddings` get zero embeddings.
///
/// Returns one entry per position, in order; every graph has
/// [`n_host_features`](crate::n_host_features)`(E)` feature columns.
///
/// # Panics
/// If a position is past the end of `sources` (an index the caller made).
pub fn prepare_sources(
    trace: &Trace,
    sources: &SourceIndex,
    positions: &[usize],
    embeddings: &PortEmbeddings,
) -> Vec<Option<PreparedGraph>> {
    positions
        .par_iter()
        .map(|&k| {
            build_host_graph(trace, sources.source(k), sources.packets_of(k), embeddings)
                .ok()
                .and_then(|g| PreparedGraph::from_host_graph(&g).ok())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use darknet_core::{Packet, Protocol};
    use ndarray::array;

    fn host(i: u8) -> Ipv4Addr {
        Ipv4Addr::new(10, 0, 0, i)
    }

    fn trace() -> Trace {
        let p = |ts, i, port| Packet {
            ts_ns: ts,
            src: host(i),
            dst_port: port,
            tcp_flags: 2,
            ..Packet::default()
        };
        Trace::from_packets([
            p(1, 1, 22),
            p(2, 1, 23),
            p(3, 2, 80),
            p(4, 3, 443),
            Packet {
                ts_ns: 5,
                src: host(4),
                proto: Protocol::Other(47),
                ..Packet::default()
            },
        ])
    }

    fn names() -> Vec<String> {
        vec!["a".into(), "b".into()]
    }

    #[test]
    fn counts_every_kind_of_mismatch() {
        let t = trace();
        let hosts = [host(1), host(2), host(9), host(4), host(1), host(3)];
        let y = array![[1u8, 0], [0, 0], [1, 1], [1, 0], [0, 1], [0, 3]];
        let ds = HostDataset::build(
            &t,
            &t.by_source(),
            &PortEmbeddings::empty(2),
            &names(),
            &hosts,
            y.view(),
        )
        .unwrap();
        assert_eq!(ds.hosts, vec![host(1), host(3)]);
        assert_eq!(ds.labels, array![[1u8, 1], [0, 1]]);
        let r = &ds.report;
        assert_eq!(r.n_label_rows, 5);
        assert_eq!(r.n_duplicate_rows, 1);
        assert_eq!(r.n_empty_label_sets, 1);
        assert_eq!(r.n_labels_absent, 1);
        assert_eq!(r.absent_examples, vec![host(9)]);
        assert_eq!(r.n_labelled_without_graph, 1);
        assert_eq!(r.n_hosts, 4);
        // host 2 (empty label set) counts as unlabelled.
        assert_eq!(r.n_hosts_unlabelled, 1);
        assert_eq!(r.n_used, 2);
        assert_eq!(ds.label_counts(), vec![1, 2]);
        assert_eq!(ds.n_features(), 22);
    }

    #[test]
    fn shape_errors() {
        let t = trace();
        let e = HostDataset::build(
            &t,
            &t.by_source(),
            &PortEmbeddings::empty(2),
            &names(),
            &[host(1)],
            array![[1u8, 0, 1]].view(),
        )
        .unwrap_err();
        assert!(matches!(e, GraphError::ShapeMismatch { .. }));
        let e = HostDataset::build(
            &t,
            &t.by_source(),
            &PortEmbeddings::empty(2),
            &[],
            &[],
            Array2::<u8>::zeros((0, 0)).view(),
        )
        .unwrap_err();
        assert!(matches!(e, GraphError::InvalidConfig { .. }));
    }

    #[test]
    fn empty_dataset_is_not_an_error() {
        let t = trace();
        let ds = HostDataset::build(
            &t,
            &t.by_source(),
            &PortEmbeddings::empty(2),
            &names(),
            &[host(200)],
            array![[1u8, 0]].view(),
        )
        .unwrap();
        assert!(ds.is_empty());
        assert_eq!(ds.n_features(), 0);
        assert_eq!(ds.report.n_hosts_unlabelled, 4);
    }

    #[test]
    fn prepare_sources_marks_hosts_without_graph() {
        let t = trace();
        let s = t.by_source();
        let g = prepare_sources(&t, &s, &[0, 3], &PortEmbeddings::empty(3));
        assert!(g[0].is_some());
        assert!(g[1].is_none());
        assert_eq!(g[0].as_ref().unwrap().features().ncols(), 23);
    }
}
