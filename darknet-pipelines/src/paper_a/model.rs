//! The trained Paper A model as one unit: port auto-encoder, port embedding table and graph
//! classifier, saved to and loaded from a directory, and used to label the hosts of new
//! traffic without retraining.
//!
//! Directory layout (`model/`):
//!
//! | file | content |
//! |---|---|
//! | `pipeline.json` | format, label names, embedding size, feature width, reference ports, settings |
//! | `autoencoder.safetensors` + `autoencoder.json` | the port auto-encoder (PyTorch `state_dict` names) |
//! | `port_embeddings.csv` | `proto,port,e0,...,e{E-1}`: one row per port seen at training |
//! | `classifier.safetensors` + `classifier.json` | the GCN classifier |
//! | `hybrid.safetensors` + `hybrid.json` | the hybrid classifier, when it predicts |
//! | `mlp.safetensors` + `mlp.json` | the MLP on per-host statistics (with its standardization), when it predicts |
//!
//! Ports absent from the table (never seen at training) get a zero embedding in the host
//! graphs of new traffic (docs/choices.md#a6), as ICMP nodes do.

use super::error::{io_err, PaperAError, Result};
use super::GraphSubset;
use darknet_core::{Protocol, Trace};
use darknet_graph::{n_host_features, prepare_sources, PortEmbeddings, PortKey};
use darknet_nn::model::{HybridClassifier, Mlp};
use darknet_nn::persist::{load, save};
use darknet_nn::{GraphClassifier, PortAutoencoder};
use ndarray::{Array2, Axis};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::path::Path;

/// Hosts scored at a time by [`PaperAModel::predict_input`] (their host graphs are held
/// together).
pub const PREDICT_CHUNK: usize = 50_000;

/// Format version of `pipeline.json`.
pub const MODEL_FORMAT: u32 = 1;

/// The contents of `pipeline.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelMeta {
    /// Format version ([`MODEL_FORMAT`]).
    pub format: u32,
    /// Always `"paper_a"`.
    pub kind: String,
    /// Label names, in score-column order.
    pub label_names: Vec<String>,
    /// Port-embedding size E.
    pub embedding_dim: usize,
    /// Host-graph node feature width (20 + E).
    pub n_features: usize,
    /// The reference ports of the distances, as `tcp/23`, in column order.
    pub reference_ports: Vec<String>,
    /// Decision threshold τ.
    pub threshold: f64,
    /// Which classifier predicts: the GCN, or the hybrid or MLP chosen on validation data (files of
    /// older runs, without this field, are GCN models).
    #[serde(default = "gcn_kind")]
    pub classifier_kind: super::ModelKind,
    /// Per-label thresholds chosen on validation data (in label order), used instead of τ when
    /// present.
    #[serde(default)]
    pub thresholds: Option<Vec<f64>>,
}

fn gcn_kind() -> super::ModelKind {
    super::ModelKind::Gcn
}

/// A trained Paper A model.
#[derive(Clone, Debug, PartialEq)]
pub struct PaperAModel {
    /// The port auto-encoder (input: distances to the reference ports).
    pub autoencoder: PortAutoencoder<f32>,
    /// The port embedding table (n_ports, E).
    pub embeddings: PortEmbeddings,
    /// The multi-label graph classifier.
    pub classifier: GraphClassifier<f32>,
    /// The hybrid classifier, when validation chose it for prediction (it then predicts).
    pub hybrid: Option<HybridClassifier<f32>>,
    /// The MLP on per-host statistics, when validation chose it for prediction (it then
    /// predicts).
    pub mlp: Option<Mlp>,
    /// Description written to `pipeline.json`.
    pub meta: ModelMeta,
}

/// Labels of every host of some traffic.
#[derive(Clone, Debug, PartialEq)]
pub struct Predictions {
    /// Label names, in column order.
    pub label_names: Vec<String>,
    /// Host addresses, ascending. Shape (n_hosts,).
    pub hosts: Vec<Ipv4Addr>,
    /// Sigmoid scores. Shape (n_hosts, n_labels).
    pub scores: Array2<f32>,
    /// Decision threshold τ (label predicted when score > τ).
    pub threshold: f64,
    /// Per-label thresholds chosen on validation data, used instead of τ when present.
    pub thresholds: Option<Vec<f64>>,
    /// Hosts of the traffic without any TCP, UDP or ICMP packet (no graph, no prediction).
    pub n_without_graph: usize,
}

impl Predictions {
    /// The CSV text: header `id,<label names>,labels`, one row per host with its scores and
    /// its predicted label set (names separated by `;`, empty when none).
    pub fn to_csv(&self) -> String {
        let mut out = String::from("id");
        for n in &self.label_names {
            let _ = write!(out, ",{n}");
        }
        out.push_str(",labels\n");
        for (h, row) in self.hosts.iter().zip(self.scores.rows()) {
            let _ = write!(out, "{h}");
            for s in row {
                let _ = write!(out, ",{s}");
            }
            let set: Vec<&str> = row
                .iter()
                .zip(&self.label_names)
                .enumerate()
                .filter(|(l, (s, _))| {
                    let t = self
                        .thresholds
                        .as_ref()
                        .and_then(|t| t.get(*l).copied())
                        .unwrap_or(self.threshold);
                    f64::from(**s) > t
                })
                .map(|(_, x)| x)
                .map(|(_, n)| n.as_str())
                .collect();
            let _ = writeln!(out, ",{}", set.join(";"));
        }
        out
    }
}

fn json_err(path: &Path) -> impl FnOnce(serde_json::Error) -> PaperAError + '_ {
    move |source| PaperAError::Json {
        path: path.to_path_buf(),
        source,
    }
}

fn mismatch(
    path: &Path,
    field: &'static str,
    expected: impl ToString,
    found: impl ToString,
) -> PaperAError {
    PaperAError::ModelMismatch {
        path: path.to_path_buf(),
        field,
        expected: expected.to_string(),
        found: found.to_string(),
    }
}

/// Writes a port embedding table as CSV `proto,port,e0,...` (values round-trip exactly).
pub fn write_embeddings_csv(path: &Path, emb: &PortEmbeddings) -> Result<()> {
    let mut out = String::from("proto,port");
    for k in 0..emb.dim() {
        let _ = write!(out, ",e{k}");
    }
    out.push('\n');
    for (p, row) in emb.ports().iter().zip(emb.table().rows()) {
        let _ = write!(out, "{},{}", p.proto, p.port);
        for v in row {
            let _ = write!(out, ",{v}");
        }
        out.push('\n');
    }
    std::fs::write(path, out).map_err(io_err(path))
}

/// Reads a table written by [`write_embeddings_csv`].
///
/// # Errors
/// [`PaperAError::Io`], [`PaperAError::Csv`] naming the line for a bad row, and the errors of
/// [`PortEmbeddings::new`] (duplicate port, non-finite value).
pub fn read_embeddings_csv(path: &Path) -> Result<PortEmbeddings> {
    let text = std::fs::read_to_string(path).map_err(io_err(path))?;
    let bad = |line: usize, reason: String| PaperAError::Csv {
        path: path.to_path_buf(),
        line: line as u64,
        reason,
    };
    let mut lines = text.lines();
    let header = lines.next().ok_or_else(|| bad(1, "empty file".into()))?;
    let dim = header
        .split(',')
        .count()
        .checked_sub(2)
        .filter(|_| header.starts_with("proto,port"))
        .ok_or_else(|| {
            bad(
                1,
                format!("expected header `proto,port,e0,...`, got `{header}`"),
            )
        })?;
    let mut ports = Vec::new();
    let mut values = Vec::new();
    for (i, l) in lines.enumerate() {
        let line = i + 2;
        let f: Vec<&str> = l.split(',').collect();
        if f.len() != dim + 2 {
            return Err(bad(
                line,
                format!("expected {} fields, got {}", dim + 2, f.len()),
            ));
        }
        let proto = match f[0] {
            "tcp" => Protocol::Tcp,
            "udp" => Protocol::Udp,
            other => return Err(bad(line, format!("protocol {other:?} is not tcp or udp"))),
        };
        let port: u16 = f[1]
            .parse()
            .map_err(|_| bad(line, format!("bad port {:?}", f[1])))?;
        ports.push(PortKey { proto, port });
        for v in &f[2..] {
            values.push(
                v.parse::<f32>()
                    .map_err(|_| bad(line, format!("bad value {v:?}")))?,
            );
        }
    }
    let table = Array2::from_shape_vec((ports.len(), dim), values).map_err(|source| {
        PaperAError::Shape {
            stage: "reading the port embedding table",
            source,
        }
    })?;
    Ok(PortEmbeddings::new(ports, table)?)
}

impl PaperAModel {
    /// Saves the model into `dir` (created if needed); see the module doc for the files.
    ///
    /// # Errors
    /// [`PaperAError::Io`], [`PaperAError::Json`] and persistence errors of darknet-nn.
    pub fn save(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        let meta_path = dir.join("pipeline.json");
        let json = serde_json::to_string_pretty(&self.meta).map_err(json_err(&meta_path))?;
        std::fs::write(&meta_path, json).map_err(io_err(&meta_path))?;
        save(
            &self.autoencoder,
            dir.join("autoencoder.safetensors"),
            dir.join("autoencoder.json"),
        )?;
        save(
            &self.classifier,
            dir.join("classifier.safetensors"),
            dir.join("classifier.json"),
        )?;
        if let Some(h) = &self.hybrid {
            save(h, dir.join("hybrid.safetensors"), dir.join("hybrid.json"))?;
        }
        if let Some(m) = &self.mlp {
            save(m, dir.join("mlp.safetensors"), dir.join("mlp.json"))?;
        }
        write_embeddings_csv(&dir.join("port_embeddings.csv"), &self.embeddings)
    }

    /// Loads a model saved by [`PaperAModel::save`] and checks that its parts agree with one
    /// another (label count, embedding size, feature width).
    ///
    /// # Errors
    /// [`PaperAError::Io`] for a missing file, [`PaperAError::ModelMismatch`] naming the field
    /// for parts from different configurations, and the persistence errors of darknet-nn
    /// (tensor shapes that do not match their JSON config).
    pub fn load(dir: &Path) -> Result<Self> {
        let meta_path = dir.join("pipeline.json");
        if !meta_path.is_file() {
            return Err(mismatch(
                dir,
                "pipeline.json",
                "a model directory (OUT/model of a training run)",
                "no pipeline.json",
            ));
        }
        let text = std::fs::read_to_string(&meta_path).map_err(io_err(&meta_path))?;
        let meta: ModelMeta = serde_json::from_str(&text).map_err(json_err(&meta_path))?;
        if meta.kind != "paper_a" {
            return Err(mismatch(&meta_path, "kind", "paper_a", &meta.kind));
        }
        if meta.format != MODEL_FORMAT {
            return Err(mismatch(&meta_path, "format", MODEL_FORMAT, meta.format));
        }
        let autoencoder: PortAutoencoder<f32> = load(
            dir.join("autoencoder.safetensors"),
            dir.join("autoencoder.json"),
        )?;
        let classifier: GraphClassifier<f32> = load(
            dir.join("classifier.safetensors"),
            dir.join("classifier.json"),
        )?;
        let embeddings = read_embeddings_csv(&dir.join("port_embeddings.csv"))?;
        let e = meta.embedding_dim;
        if autoencoder.config().latent_dim != e {
            return Err(mismatch(
                &dir.join("autoencoder.json"),
                "latent_dim",
                e,
                autoencoder.config().latent_dim,
            ));
        }
        if autoencoder.input_dim() != meta.reference_ports.len() {
            return Err(mismatch(
                &dir.join("autoencoder.json"),
                "input_dim (reference ports)",
                meta.reference_ports.len(),
                autoencoder.input_dim(),
            ));
        }
        if embeddings.dim() != e {
            return Err(mismatch(
                &dir.join("port_embeddings.csv"),
                "embedding size",
                e,
                embeddings.dim(),
            ));
        }
        if meta.n_features != n_host_features(e) {
            return Err(mismatch(
                &meta_path,
                "n_features (20 + embedding_dim)",
                n_host_features(e),
                meta.n_features,
            ));
        }
        if classifier.n_features() != n_host_features(e) {
            return Err(mismatch(
                &dir.join("classifier.json"),
                "n_features",
                n_host_features(e),
                classifier.n_features(),
            ));
        }
        if classifier.n_labels() != meta.label_names.len() {
            return Err(mismatch(
                &dir.join("classifier.json"),
                "n_labels",
                meta.label_names.len(),
                classifier.n_labels(),
            ));
        }
        let hybrid = if meta.classifier_kind == super::ModelKind::Hybrid {
            let h: HybridClassifier<f32> =
                load(dir.join("hybrid.safetensors"), dir.join("hybrid.json"))?;
            if h.n_features() != meta.n_features || h.n_labels() != meta.label_names.len() {
                return Err(mismatch(
                    &dir.join("hybrid.json"),
                    "n_features/n_labels",
                    format!("{}/{}", meta.n_features, meta.label_names.len()),
                    format!("{}/{}", h.n_features(), h.n_labels()),
                ));
            }
            Some(h)
        } else {
            None
        };
        let mlp = if meta.classifier_kind == super::ModelKind::Mlp {
            let m: Mlp = load(dir.join("mlp.safetensors"), dir.join("mlp.json"))?;
            let n_stats = darknet_core::stats::HOST_FEATURE_COUNT;
            if m.n_inputs() != n_stats || m.n_labels() != meta.label_names.len() {
                return Err(mismatch(
                    &dir.join("mlp.json"),
                    "n_inputs/n_labels",
                    format!("{n_stats}/{}", meta.label_names.len()),
                    format!("{}/{}", m.n_inputs(), m.n_labels()),
                ));
            }
            Some(m)
        } else {
            None
        };
        if let Some(t) = &meta.thresholds {
            if t.len() != meta.label_names.len() || t.iter().any(|x| !(0.0..=1.0).contains(x)) {
                return Err(mismatch(
                    &meta_path,
                    "thresholds",
                    format!("{} values in [0, 1]", meta.label_names.len()),
                    format!("{t:?}"),
                ));
            }
        }
        Ok(PaperAModel {
            autoencoder,
            embeddings,
            classifier,
            hybrid,
            mlp,
            meta,
        })
    }

    /// Reads `input` (captures or the synthetic darknet; a label file is not needed and its
    /// labels are not used) and scores every host of it with [`PaperAModel::predict`], in
    /// chunks of [`PREDICT_CHUNK`] hosts.
    ///
    /// # Errors
    /// The errors of [`super::load_input`] and [`PaperAModel::predict`].
    pub fn predict_input(
        &self,
        input: &super::Input,
        obs: &dyn crate::progress::Observer,
    ) -> Result<Predictions> {
        let trace = super::load_input(input, super::labels::MIN_REPORTS, obs)?.trace;
        self.predict(&trace, PREDICT_CHUNK)
    }

    /// Scores every host of `trace` (all sources, labelled or not) in chunks of `chunk` hosts
    /// to bound memory. Ports unseen at training get zero embeddings.
    ///
    /// # Errors
    /// [`PaperAError::EmptyAfter`] when the trace has no host with a usable packet; errors of
    /// the classifier.
    pub fn predict(&self, trace: &Trace, chunk: usize) -> Result<Predictions> {
        let sources = trace.by_source();
        let mut hosts = Vec::new();
        let mut rows: Vec<Array2<f32>> = Vec::new();
        let mut n_without_graph = 0;
        let positions: Vec<usize> = (0..sources.len()).collect();
        for part in positions.chunks(chunk.max(1)) {
            let graphs = prepare_sources(trace, &sources, part, &self.embeddings);
            let mut kept = Vec::new();
            for (&k, g) in part.iter().zip(graphs) {
                match g {
                    Some(g) => {
                        hosts.push(sources.source(k));
                        kept.push(g);
                    }
                    None => n_without_graph += 1,
                }
            }
            if kept.is_empty() {
                continue;
            }
            let index: Vec<usize> = (0..kept.len()).collect();
            let data = GraphSubset::new(&kept, &index);
            let first = hosts.len() - kept.len();
            rows.push(match (&self.hybrid, &self.mlp) {
                (Some(h), _) => {
                    let stats = host_stats(trace, &sources, &hosts[first..]);
                    h.scores_graphs(&data, stats.view(), 256)?
                }
                (None, Some(m)) => m.scores(host_stats(trace, &sources, &hosts[first..]).view())?,
                (None, None) => self.classifier.scores_graphs(&data, 256)?,
            });
        }
        if hosts.is_empty() {
            return Err(PaperAError::EmptyAfter {
                stage: "building host graphs for prediction",
                detail: format!(
                    "{} packets, {} hosts, none with a TCP, UDP or ICMP packet",
                    trace.len(),
                    sources.len()
                ),
            });
        }
        let views: Vec<_> = rows.iter().map(|r| r.view()).collect();
        let scores =
            ndarray::concatenate(Axis(0), &views).map_err(|source| PaperAError::Shape {
                stage: "joining the prediction chunks",
                source,
            })?;
        Ok(Predictions {
            label_names: self.meta.label_names.clone(),
            hosts,
            scores,
            threshold: self.meta.threshold,
            thresholds: self.meta.thresholds.clone(),
            n_without_graph,
        })
    }
}

/// The per-host statistics (the MLP baseline's and the hybrid's input) of `hosts`, in order.
/// Shape (hosts.len(), HOST_FEATURE_COUNT).
fn host_stats(
    trace: &Trace,
    sources: &darknet_core::SourceIndex,
    hosts: &[Ipv4Addr],
) -> Array2<f32> {
    let n = darknet_core::stats::HOST_FEATURE_COUNT;
    let mut out = Array2::zeros((hosts.len(), n));
    for (mut row, h) in out.rows_mut().into_iter().zip(hosts) {
        if let Some(k) = sources.position(*h) {
            let f =
                darknet_core::HostStats::from_indices(trace, *h, sources.packets_of(k)).features();
            row.iter_mut().zip(f).for_each(|(a, b)| *a = b);
        }
    }
    out
}
