//! Saved Paper B models, reloaded to embed new days of traffic without retraining.
//!
//! A saved variant (`models/<variant>/` of a run, see [`super::output`]) holds, beside the
//! weights:
//!
//! - `nodes.csv` — the node table of training, `id,node`: host ids `0..n_hosts` with their
//!   addresses (ascending), then port ids with the port number, `oth` for the "other" port;
//! - `variant.json` — the variant, the snapshot settings (packet threshold and how it compares,
//!   top-K ports, edge mode) and the sizes of the node table.
//!
//! Node features need no stored statistics: each day's columns are divided by that day's maximum
//! over the nodes of the same layer, then transformed by the saved
//! [`FeatureScaling`] with that day's own statistics, so a new day is
//! scaled by itself exactly as a training day was.
//!
//! # Hosts and ports never seen in training
//!
//! New days are cut into snapshots with the saved settings, then their nodes are matched to the
//! node table by address and port number.
//!
//! - **With node features** the GCN reads only the graph and the features, so it embeds any
//!   node: hosts and ports never seen in training become nodes of their own and every active
//!   host of the day is embedded. Their count is reported as a [`WarningKind::UnseenNodes`]
//!   warning, for information.
//! - **Without node features** a node's input is its training id (a row of the first layer's
//!   weight), which an unseen node does not have. A port never seen as its own node joins the
//!   "other" port (the node training used for every port outside the top K); without an "other"
//!   node in training its edges are dropped. A host never seen in training is left out of the
//!   day's graph and gets no embedding; both counts come as a [`WarningKind::UnseenNodes`]
//!   warning.
//! - **i-DarkVec** looks each active host up in the vocabulary (the model is not updated):
//!   hosts never seen in training get no embedding, counted in a warning.
//!
//! # Windows of the recurrent models
//!
//! GCN-GRU and i-GCN-GRU embed day t from the days t − H ..= t *of the new input* (or the H days
//! before t under the reference code's window reading saved with the model); the first H days
//! of the input are embedded from the shorter window seen so far. Give the H days before the
//! first day of interest as well for full windows.
//!
//! # What matches training
//!
//! A reloaded model is the model as training left it. Embedding the training input again
//! reproduces the training run's embeddings of every day for the frozen GCN-GRU, and of the last
//! day for the schedules that change the model day by day (GCN, i-GCN, i-GCN-GRU, i-DarkVec).

use super::error::{io_err, PaperBError, Result};
use super::{FeatureScaling, ModelKind, PaperBConfig, Prepared, TrainedModel, Variant, VariantRun};
use crate::progress::{Observer, Stage, Warning, WarningKind, Warnings};
use darknet_core::{day_label, Trace};
use darknet_graph::{
    build_snapshots, EdgeMode, HostThreshold, PortNode, Snapshot, SnapshotConfig, SnapshotEdge,
    SnapshotSet,
};
use darknet_nn::model::temporal::{
    gcn_embed, gru_embed, DaySnapshot, GruTestWindow, TemporalConfig, TemporalModel,
};
use darknet_nn::Word2Vec;
use ndarray::Array2;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io::Write as _;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

/// Version of the `variant.json` layout.
pub const RELOAD_FORMAT: u32 = 1;

/// The nodes of training: host id `i` is `hosts[i]`, port id `hosts.len() + j` is `ports[j]`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct NodeTable {
    /// Hosts in id order (ascending addresses). Shape (n_hosts,).
    pub hosts: Vec<Ipv4Addr>,
    /// Ports in id order (ascending, "other" last). Shape (n_ports,).
    pub ports: Vec<PortNode>,
}

impl NodeTable {
    /// The node table of a set of snapshots.
    pub fn of(set: &SnapshotSet) -> Self {
        NodeTable {
            hosts: set.hosts.clone(),
            ports: set.ports.clone(),
        }
    }

    /// Number of nodes, hosts and ports.
    pub fn n_nodes(&self) -> usize {
        self.hosts.len() + self.ports.len()
    }

    /// `id,node` rows: hosts as dotted addresses, then ports as numbers, `oth` for "other".
    pub fn to_csv(&self) -> String {
        let mut s = String::with_capacity(16 * (self.n_nodes() + 1));
        s.push_str("id,node\n");
        for (i, h) in self.hosts.iter().enumerate() {
            let _ = writeln!(s, "{i},{h}");
        }
        for (j, p) in self.ports.iter().enumerate() {
            let _ = writeln!(s, "{},{p}", self.hosts.len() + j);
        }
        s
    }

    /// Parses [`NodeTable::to_csv`]'s layout from `text` (read from `path`, named in errors).
    ///
    /// # Errors
    /// [`PaperBError::SavedModel`] naming the line: a wrong header, an id out of sequence, a host
    /// after a port, an address or port that does not parse, hosts or ports out of order.
    pub fn from_csv(text: &str, path: &Path) -> Result<Self> {
        let bad = |line: usize, reason: String| PaperBError::SavedModel {
            path: path.to_path_buf(),
            line,
            reason,
        };
        let mut lines = text.lines();
        match lines.next() {
            Some(h) if h.trim() == "id,node" => {}
            other => {
                return Err(bad(
                    1,
                    format!("expected the header `id,node`, found {other:?}"),
                ))
            }
        }
        let mut t = NodeTable::default();
        for (k, line) in lines.enumerate() {
            let n = k + 2;
            if line.trim().is_empty() {
                continue;
            }
            let (id, node) = line
                .split_once(',')
                .ok_or_else(|| bad(n, format!("expected `id,node`, found {line:?}")))?;
            let id: usize = id
                .trim()
                .parse()
                .map_err(|_| bad(n, format!("id: expected a number, found {id:?}")))?;
            if id != t.n_nodes() {
                return Err(bad(n, format!("id: expected {}, found {id}", t.n_nodes())));
            }
            let node = node.trim();
            if let Ok(a) = node.parse::<Ipv4Addr>() {
                if !t.ports.is_empty() {
                    return Err(bad(n, format!("host {a} after the first port")));
                }
                if t.hosts.last().is_some_and(|&l| l >= a) {
                    return Err(bad(n, format!("host {a}: addresses must ascend")));
                }
                t.hosts.push(a);
            } else {
                let p = if node == "oth" {
                    PortNode::Other
                } else {
                    PortNode::Port(node.parse::<u16>().map_err(|_| {
                        bad(
                            n,
                            format!(
                                "node: expected an IPv4 address, a port number or `oth`, \
                                 found {node:?}"
                            ),
                        )
                    })?)
                };
                if t.ports.last().is_some_and(|&l| l >= p) {
                    return Err(bad(n, format!("port {p}: ports must ascend, `oth` last")));
                }
                t.ports.push(p);
            }
        }
        Ok(t)
    }
}

/// How days are cut into snapshots; saved with a model so new days are cut the same way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotSettings {
    /// Per-day packet threshold of a host.
    pub min_packets: u64,
    /// `true`: more than `min_packets` (the reference code); `false`: at least.
    pub packets_more_than: bool,
    /// Ports kept as their own node per day; the rest become "other".
    pub top_k_ports: usize,
    /// `true`: the reference code's first-seen edges weighted over the whole period.
    pub first_seen_edges: bool,
    /// How node features are scaled per day (files saved before this setting existed read as
    /// the daily maximum, which is what they used).
    #[serde(default)]
    pub feature_scaling: FeatureScaling,
}

impl SnapshotSettings {
    /// The settings of a pipeline configuration.
    pub fn of(cfg: &PaperBConfig) -> Self {
        SnapshotSettings {
            min_packets: cfg.min_packets,
            packets_more_than: cfg.code.packets_more_than,
            top_k_ports: cfg.top_k_ports,
            first_seen_edges: cfg.code.first_seen_edges,
            feature_scaling: cfg.feature_scaling,
        }
    }

    /// darknet-graph's snapshot configuration.
    pub fn snapshot_config(&self) -> SnapshotConfig {
        SnapshotConfig::default()
            .host_threshold(if self.packets_more_than {
                HostThreshold::MoreThan(self.min_packets)
            } else {
                HostThreshold::AtLeast(self.min_packets)
            })
            .top_k_ports(self.top_k_ports)
            .edge_mode(if self.first_seen_edges {
                EdgeMode::FirstSeenTotal
            } else {
                EdgeMode::Daily
            })
    }
}

/// `variant.json`: what a saved variant needs besides its weights.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct VariantFile {
    format: u32,
    /// [`Variant::name`].
    variant: String,
    snapshot: SnapshotSettings,
    n_hosts: usize,
    n_ports: usize,
}

/// A trained Paper B variant with everything needed to embed new days: the model, its node
/// table and snapshot settings. Made by [`PaperBModel::from_run`] or [`PaperBModel::load`].
#[derive(Clone, Debug)]
pub struct PaperBModel {
    /// The variant.
    pub variant: Variant,
    /// How days are cut into snapshots.
    pub snapshot: SnapshotSettings,
    /// The nodes of training.
    pub nodes: NodeTable,
    /// The trained model.
    pub model: TrainedModel,
    /// The GNN settings (`None` for i-DarkVec): features or not, BatchNorm at inference, the
    /// GRU window.
    pub config: Option<TemporalConfig>,
}

/// One day embedded by [`PaperBModel::embed`].
#[derive(Clone, Debug, PartialEq)]
pub struct EmbeddedDay {
    /// Day number (days since 1970-01-01, UTC).
    pub day: u32,
    /// The embedded hosts, ascending. Shape (n_hosts,).
    pub hosts: Vec<Ipv4Addr>,
    /// One row per host. Shape (n_hosts, embedding size).
    pub embeddings: Array2<f32>,
}

impl EmbeddedDay {
    /// `YYYYMMDD` of the day.
    pub fn label(&self) -> String {
        day_label(self.day)
    }
}

/// What [`PaperBModel::embed`] produced.
#[derive(Clone, Debug, Default)]
pub struct Embedded {
    /// Every day of the input with at least one embedded host, ascending.
    pub days: Vec<EmbeddedDay>,
    /// What the user should know (unseen hosts and ports, skipped days); also sent to the
    /// observer as they happen.
    pub warnings: Vec<Warning>,
}

impl Embedded {
    /// Writes `<dir>/<YYYYMMDD>.csv` per day in the layout of training's embedding files
    /// (header `src_ip,e0,...`, one row per host, ascending addresses). Returns the files.
    ///
    /// # Errors
    /// [`PaperBError::Io`].
    pub fn write_csv(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        let mut files = Vec::with_capacity(self.days.len());
        for d in &self.days {
            let path = dir.join(format!("{}.csv", d.label()));
            super::output::write_embedding_csv(&path, &d.hosts, d.embeddings.view())?;
            files.push(path);
        }
        Ok(files)
    }
}

impl PaperBModel {
    /// The model `run` trained on `prep` under `cfg`, with its node table (cloned).
    pub fn from_run(prep: &Prepared, run: &VariantRun, cfg: &PaperBConfig) -> Self {
        PaperBModel {
            variant: run.variant,
            snapshot: SnapshotSettings::of(cfg),
            nodes: NodeTable::of(&prep.set),
            model: run.model.clone(),
            config: run.config.clone(),
        }
    }

    /// Saves into `dir` (created): the weights (`model.safetensors` + `config.json` and
    /// `pipeline.json` for a GNN, `word2vec.safetensors` for i-DarkVec), `nodes.csv` and
    /// `variant.json`.
    ///
    /// # Errors
    /// [`PaperBError::Io`], [`PaperBError::Json`], darknet-nn's persistence errors.
    pub fn save(&self, dir: &Path) -> Result<()> {
        save_parts(
            dir,
            self.variant,
            &self.snapshot,
            &self.nodes,
            &self.model,
            self.config.as_ref(),
        )
    }

    /// Loads a variant saved by [`PaperBModel::save`] (or by a run, `models/<variant>/`).
    ///
    /// # Errors
    /// [`PaperBError::Io`] and [`PaperBError::Json`] naming the file, [`PaperBError::SavedModel`]
    /// when the files disagree (an unknown variant, a node table of other sizes than
    /// `variant.json` says, a one-hot input width other than the node count), darknet-nn's
    /// persistence errors.
    pub fn load(dir: &Path) -> Result<Self> {
        let vpath = dir.join("variant.json");
        let text = std::fs::read_to_string(&vpath).map_err(io_err(&vpath))?;
        let vf: VariantFile = serde_json::from_str(&text).map_err(|source| PaperBError::Json {
            path: vpath.clone(),
            source,
        })?;
        let mismatch = |reason: String| PaperBError::SavedModel {
            path: vpath.clone(),
            line: 0,
            reason,
        };
        if vf.format != RELOAD_FORMAT {
            return Err(mismatch(format!(
                "format: expected {RELOAD_FORMAT}, found {}",
                vf.format
            )));
        }
        let variant = parse_variant(&vf.variant).ok_or_else(|| {
            mismatch(format!(
                "variant: expected a name such as `igcngru_features` or `idarkvec`, found {:?}",
                vf.variant
            ))
        })?;
        let npath = dir.join("nodes.csv");
        let ntext = std::fs::read_to_string(&npath).map_err(io_err(&npath))?;
        let nodes = NodeTable::from_csv(&ntext, &npath)?;
        if (nodes.hosts.len(), nodes.ports.len()) != (vf.n_hosts, vf.n_ports) {
            return Err(mismatch(format!(
                "node table: expected {} hosts and {} ports, nodes.csv holds {} and {}",
                vf.n_hosts,
                vf.n_ports,
                nodes.hosts.len(),
                nodes.ports.len()
            )));
        }
        let (model, config) = if variant.model == ModelKind::IDarkVec {
            let w = Word2Vec::<u32>::load(dir.join("word2vec.safetensors"))?;
            (TrainedModel::Word2Vec(Box::new(w)), None)
        } else {
            let m: TemporalModel =
                darknet_nn::persist::load(dir.join("model.safetensors"), dir.join("config.json"))?;
            let ppath = dir.join("pipeline.json");
            let ptext = std::fs::read_to_string(&ppath).map_err(io_err(&ppath))?;
            let c: TemporalConfig =
                serde_json::from_str(&ptext).map_err(|source| PaperBError::Json {
                    path: ppath.clone(),
                    source,
                })?;
            let meta = m.describe();
            let family = if variant.model.is_recurrent() {
                "gcn_gru"
            } else {
                "gcn"
            };
            if meta.family != family {
                return Err(mismatch(format!(
                    "model family: a {} model is `{family}`, config.json says `{}`",
                    variant.name(),
                    meta.family
                )));
            }
            let expected_in = if variant.features {
                darknet_graph::SNAPSHOT_N_FEATURES
            } else {
                nodes.n_nodes()
            };
            if meta.in_dim != expected_in || c.use_features != variant.features {
                return Err(mismatch(format!(
                    "input width: a {} model over {} nodes expects {expected_in} inputs, the \
                     weights take {}",
                    variant.name(),
                    nodes.n_nodes(),
                    meta.in_dim
                )));
            }
            (TrainedModel::Gnn(m), Some(c))
        };
        Ok(PaperBModel {
            variant,
            snapshot: vf.snapshot,
            nodes,
            model,
            config,
        })
    }

    /// Embeds the active hosts of every day of `trace` with the model as trained (no
    /// retraining; see the module doc for unseen hosts and ports and for GRU windows).
    ///
    /// # Errors
    /// [`PaperBError::EmptyAfter`] when no day keeps a host, darknet-graph's and darknet-nn's
    /// errors.
    pub fn embed(&mut self, trace: &Trace, obs: &dyn Observer) -> Result<Embedded> {
        let stage = Stage::start(obs, "snapshots", 0);
        let scfg = self.snapshot.snapshot_config();
        let mut set = build_snapshots(trace, &scfg).map_err(|e| match e {
            darknet_graph::GraphError::Empty { .. } => PaperBError::EmptyAfter {
                stage: "the per-day host threshold",
                detail: format!(
                    "no host has {} {} TCP packets on any day ({} packets in the input)",
                    if self.snapshot.packets_more_than {
                        "more than"
                    } else {
                        "at least"
                    },
                    self.snapshot.min_packets,
                    trace.len()
                ),
            },
            other => other.into(),
        })?;
        for s in &mut set.snapshots {
            super::tuning::scale_features(
                &mut s.features,
                s.n_hosts,
                self.snapshot.feature_scaling,
            );
        }
        drop(stage);
        let mut out = Embedded::default();
        let mut w = Warnings::new(obs);
        match &mut self.model {
            TrainedModel::Word2Vec(w2v) => {
                // A day's hosts are its snapshot's active hosts, as in training; the model is
                // only looked up, never updated.
                let stage = Stage::start(obs, &self.variant.name(), set.snapshots.len() as u64);
                let mut unseen = 0usize;
                for s in &set.snapshots {
                    let mut hosts = Vec::with_capacity(s.n_hosts);
                    let mut rows = Vec::with_capacity(s.n_hosts);
                    for &id in &s.node_ids[..s.n_hosts] {
                        let a = set.hosts[id as usize];
                        match w2v.index_of(&u32::from(a)) {
                            Some(r) => {
                                hosts.push(a);
                                rows.push(r);
                            }
                            None => unseen += 1,
                        }
                    }
                    if !hosts.is_empty() {
                        out.days.push(EmbeddedDay {
                            day: s.day,
                            hosts,
                            embeddings: w2v.vectors().select(ndarray::Axis(0), &rows),
                        });
                    }
                    stage.advance(1);
                }
                if unseen > 0 {
                    w.push(
                        WarningKind::UnseenNodes,
                        format!(
                            "{}: {unseen} daily host appearance(s) of hosts never seen in \
                             training have no embedding",
                            self.variant.name()
                        ),
                    );
                }
            }
            TrainedModel::Gnn(m) => {
                let cfg = self.config.as_ref().ok_or(PaperBError::InvalidConfig {
                    field: "config",
                    value: self.variant.name(),
                    reason: "a GNN model needs its TemporalConfig",
                })?;
                let (days, labels) = if self.variant.features {
                    days_inductive(&self.nodes, &self.variant.name(), &set, &mut w)?
                } else {
                    days_one_hot(&self.nodes, &self.variant.name(), &set, &mut w)?
                };
                let stage = Stage::start(obs, &self.variant.name(), days.len() as u64);
                let h = cfg.history;
                for t in 0..days.len() {
                    let window: Vec<&DaySnapshot<f32>> = if !self.variant.model.is_recurrent() {
                        vec![&days[t].0]
                    } else if cfg.gru_test_window == GruTestWindow::CodeWindow {
                        days[t.saturating_sub(h)..t].iter().map(|d| &d.0).collect()
                    } else {
                        days[t.saturating_sub(h)..=t].iter().map(|d| &d.0).collect()
                    };
                    stage.advance(1);
                    if window.is_empty() {
                        continue;
                    }
                    let (features, bn) = (self.variant.features, cfg.bn_inference);
                    let e = match m {
                        TemporalModel::Gcn(g) => gcn_embed(g, &days[t].0, features, bn)?,
                        TemporalModel::GcnGru(g) => {
                            gru_embed(g, &window, &days[t].0, features, bn)?
                        }
                        _ => {
                            return Err(PaperBError::InvalidConfig {
                                field: "model",
                                value: self.variant.name(),
                                reason: "a model family this version cannot embed with",
                            })
                        }
                    };
                    if e.host_ids.is_empty() {
                        continue;
                    }
                    out.days.push(EmbeddedDay {
                        day: days[t].1,
                        hosts: e.host_ids.iter().map(|&i| labels[i as usize]).collect(),
                        embeddings: e.embeddings,
                    });
                }
            }
        }
        out.warnings = w.list;
        Ok(out)
    }
}

/// The encoder inputs of the days with their day numbers, and the address of every host id.
type DayInputs = (Vec<(DaySnapshot<f32>, u32)>, Vec<Ipv4Addr>);

/// Days for a model with node features: the node table extended by the hosts and ports it
/// lacks (hosts: ascending union of addresses; ports: training's, then the unseen ones).
/// Returns each day's input with its day number, and the address of every host id.
fn days_inductive(
    nodes: &NodeTable,
    name: &str,
    set: &SnapshotSet,
    warnings: &mut Warnings<'_>,
) -> Result<DayInputs> {
    let mut hosts = nodes.hosts.clone();
    hosts.extend(set.hosts.iter().copied());
    hosts.sort_unstable();
    hosts.dedup();
    let unseen_hosts = hosts.len() - nodes.hosts.len();
    let mut ports = nodes.ports.clone();
    let known: HashMap<PortNode, usize> = ports.iter().enumerate().map(|(j, &p)| (p, j)).collect();
    let mut extra: Vec<PortNode> = set
        .ports
        .iter()
        .filter(|p| !known.contains_key(p))
        .copied()
        .collect();
    extra.sort_unstable();
    let unseen_ports = extra.len();
    ports.extend(extra);
    let nh = hosts.len() as u32;
    let port_id: HashMap<PortNode, u32> = ports
        .iter()
        .enumerate()
        .map(|(j, &p)| (p, nh + j as u32))
        .collect();
    let map = |id: u32| -> Option<u32> {
        match set.node(id)? {
            Ok(a) => hosts.binary_search(&a).ok().map(|p| p as u32),
            Err(p) => port_id.get(&p).copied(),
        }
    };
    if unseen_hosts + unseen_ports > 0 {
        warnings.push(
            WarningKind::UnseenNodes,
            format!(
                "{}: {unseen_hosts} host(s) and {unseen_ports} port(s) never seen in \
                 training, embedded from their features",
                name
            ),
        );
    }
    let days = set
        .snapshots
        .iter()
        .map(|s| Ok((day_input(&remap(s, &map, true))?, s.day)))
        .collect::<Result<_>>()?;
    Ok((days, hosts))
}

/// Days for a model without node features: training ids only; unseen ports join "other",
/// unseen hosts are left out.
fn days_one_hot(
    nodes: &NodeTable,
    name: &str,
    set: &SnapshotSet,
    warnings: &mut Warnings<'_>,
) -> Result<DayInputs> {
    let nh = nodes.hosts.len() as u32;
    let port_id: HashMap<PortNode, u32> = nodes
        .ports
        .iter()
        .enumerate()
        .map(|(j, &p)| (p, nh + j as u32))
        .collect();
    let other = port_id.get(&PortNode::Other).copied();
    let (mut unseen_hosts, mut unseen_ports) = (0usize, 0usize);
    for a in &set.hosts {
        if nodes.hosts.binary_search(a).is_err() {
            unseen_hosts += 1;
        }
    }
    for p in &set.ports {
        if !port_id.contains_key(p) {
            unseen_ports += 1;
        }
    }
    let map = |id: u32| -> Option<u32> {
        match set.node(id)? {
            Ok(a) => nodes.hosts.binary_search(&a).ok().map(|p| p as u32),
            Err(p) => port_id.get(&p).copied().or(other),
        }
    };
    if unseen_hosts + unseen_ports > 0 {
        warnings.push(
            WarningKind::UnseenNodes,
            format!(
                "{}: {unseen_hosts} host(s) never seen in training left out (a model \
                 without node features knows only its training nodes); {unseen_ports} \
                 unseen port(s) {}",
                name,
                if other.is_some() {
                    "joined the \"other\" port"
                } else {
                    "dropped (training had no \"other\" port)"
                }
            ),
        );
    }
    let mut days = Vec::with_capacity(set.snapshots.len());
    let mut empty = Vec::new();
    for s in &set.snapshots {
        let r = remap(s, &map, false);
        if r.n_hosts == 0 {
            empty.push(day_label(s.day));
            continue;
        }
        days.push((day_input(&r)?, s.day));
    }
    if !empty.is_empty() {
        warnings.push(
            WarningKind::UnseenNodes,
            format!(
                "{}: {} day(s) without any host seen in training, not embedded: {}",
                name,
                empty.len(),
                empty.join(", ")
            ),
        );
    }
    Ok((days, nodes.hosts.clone()))
}

/// The variant named `name` ([`Variant::name`]'s spelling).
fn parse_variant(name: &str) -> Option<Variant> {
    let (model, features) = match name.strip_suffix("_features") {
        Some(m) => (m, true),
        None => (name, false),
    };
    let v = Variant::new(ModelKind::parse(model)?, features);
    (v.name() == name).then_some(v)
}

/// `s` with its global ids mapped by `map` into another id space: nodes mapped to `None` are
/// left out with their edges, nodes mapped to the same id are merged (edges summed, the first
/// node's features kept, which only models without features may do), rows sorted by new id,
/// hosts first (every host id of the new space is below every port id).
fn remap(s: &Snapshot, map: &dyn Fn(u32) -> Option<u32>, keep_features: bool) -> Snapshot {
    let new_ids: Vec<Option<u32>> = s.node_ids.iter().map(|&id| map(id)).collect();
    let mut hosts: Vec<u32> = new_ids[..s.n_hosts].iter().flatten().copied().collect();
    hosts.sort_unstable();
    hosts.dedup();
    let mut ports: Vec<u32> = new_ids[s.n_hosts..].iter().flatten().copied().collect();
    ports.sort_unstable();
    ports.dedup();
    let n_hosts = hosts.len();
    let mut node_ids = hosts;
    node_ids.extend(&ports);
    let local: HashMap<u32, u32> = node_ids
        .iter()
        .enumerate()
        .map(|(r, &id)| (id, r as u32))
        .collect();
    let mut features = Array2::zeros((node_ids.len(), s.features.ncols()));
    if keep_features {
        for (r, id) in new_ids.iter().enumerate() {
            if let Some(&l) = id.and_then(|i| local.get(&i)) {
                features.row_mut(l as usize).assign(&s.features.row(r));
            }
        }
    }
    let mut edges: BTreeMap<(u32, u32), u64> = BTreeMap::new();
    for e in &s.edges {
        if let (Some(h), Some(p)) = (new_ids[e.host as usize], new_ids[e.port as usize]) {
            *edges.entry((local[&h], local[&p])).or_default() += e.packets;
        }
    }
    let edges = edges
        .into_iter()
        .map(|((host, port), packets)| SnapshotEdge {
            host,
            port,
            packets,
        })
        .collect();
    Snapshot {
        day: s.day,
        node_ids,
        n_hosts,
        edges,
        features,
    }
}

/// The encoder input of a snapshot (positive pairs kept, no negatives: nothing is trained).
fn day_input(s: &Snapshot) -> Result<DaySnapshot<f32>> {
    let adj = s.normalized_adjacency();
    Ok(DaySnapshot::new(
        s.node_ids.clone(),
        s.n_hosts,
        adj.matrix,
        adj.transpose,
        s.features.clone(),
        s.positive_edges(),
        Vec::new(),
    )?)
}

/// Writes a variant's files into `dir` (see [`PaperBModel::save`]).
pub(crate) fn save_parts(
    dir: &Path,
    variant: Variant,
    snapshot: &SnapshotSettings,
    nodes: &NodeTable,
    model: &TrainedModel,
    config: Option<&TemporalConfig>,
) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    match model {
        TrainedModel::Gnn(m) => {
            darknet_nn::persist::save(m, dir.join("model.safetensors"), dir.join("config.json"))?;
            if let Some(c) = config {
                write_json(&dir.join("pipeline.json"), c)?;
            }
        }
        TrainedModel::Word2Vec(w) => w.save(dir.join("word2vec.safetensors"))?,
    }
    let npath = dir.join("nodes.csv");
    let f = std::fs::File::create(&npath).map_err(io_err(&npath))?;
    let mut w = std::io::BufWriter::new(f);
    w.write_all(nodes.to_csv().as_bytes())
        .and_then(|()| w.flush())
        .map_err(io_err(&npath))?;
    write_json(
        &dir.join("variant.json"),
        &VariantFile {
            format: RELOAD_FORMAT,
            variant: variant.name(),
            snapshot: *snapshot,
            n_hosts: nodes.hosts.len(),
            n_ports: nodes.ports.len(),
        },
    )
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|source| PaperBError::Json {
        path: path.to_path_buf(),
        source,
    })?;
    std::fs::write(path, text).map_err(io_err(path))
}
