//! Paper A end to end: multi-label classification of darknet hosts (docs/paper-a.md), the library
//! behind the `multilabel` example, so a downstream program can call the same steps.
//!
//! ```text
//! ingest (captures, or the synthetic darknet with AbuseIPDB-style reports)
//!  → filters: isolated packets, vertical scanners, periodic walkers (what each removed)
//!  → port graph with quartile weights → distances to R reference ports
//!  → port auto-encoder (Paper A's settings) → port embedding table
//!  → host graphs of the labelled hosts (20 + E node features) + labels (≥ 2 reports, 7 labels)
//!  → 5 seeded random partitions: part k is the test set of partition k
//!      → ML-ROS (+25 %) on the training part only → GCN classifier → scores → metrics
//!      → the same for an MLP on per-host aggregate statistics (the non-graph baseline)
//!  → mean ± std over partitions, pooled τ sweep, a final model trained on every labelled host
//! ```
//!
//! **Labelled and unlabelled hosts.** Only labelled hosts (at least one of the 7 labels) are
//! trained on and evaluated. Every host left by the filters, labelled or not, feeds the port
//! graph and thus the port embeddings, and [`PaperAModel::predict`] labels every host.
//!
//! **Memory.** By default the input is held as one trace (47 bytes a packet). With
//! [`PaperAConfig::stream`] it is read twice instead ([`stream`]): the filters and the port
//! graph need memory per host, and only the labelled hosts' kept packets are held; the
//! results are the same.
//!
//! Staged use: **fit** with [`run`] (every stage; its [`PaperAResult::model`] is the fitted
//! model, trained on every labelled host), **save** with [`PaperAModel::save`], **load** with
//! [`PaperAModel::load`], **predict** with [`PaperAModel::predict_input`] (captures) or
//! [`PaperAModel::predict`] (a trace). The stages [`run`] chains are public too
//! ([`load_input`], [`filters::apply_filters`], [`port_stage`], [`build_dataset`],
//! [`evaluate_partitions`], [`train_final`]), with [`write_outputs`] for the report files and
//! [`quick_demo`] for a miniature run of a few seconds.
//!
//! Captures and reports → model → saved → loaded → labels for new captures:
//!
//! ```
//! use darknet_core::{label::write_abuse_reports, PcapWriter, PcapWriterOptions};
//! use darknet_pipelines::paper_a::{self, Input, PaperAConfig, PaperAModel};
//! use darknet_pipelines::Silent;
//! use std::fs::File;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = std::env::temp_dir().join(format!("paper-a-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! // Two tiny synthetic darknets as pcap files; the first one's AbuseIPDB-style reports as CSV.
//! for seed in [1, 2] {
//!     let darknet = paper_a::tiny_synth(seed).build()?;
//!     let file = File::create(dir.join(format!("darknet{seed}.pcap")))?;
//!     let mut pcap = PcapWriter::new(file, PcapWriterOptions::default())?;
//!     for p in (0..darknet.n_days()).flat_map(|d| darknet.day(d)) {
//!         pcap.write_packet(&p)?;
//!     }
//!     pcap.finish()?;
//!     let reports = File::create(dir.join(format!("reports{seed}.csv")))?;
//!     write_abuse_reports(reports, darknet.reports(), "reports.csv")?;
//! }
//! let (pcap, reports) = (dir.join("darknet1.pcap"), Some(dir.join("reports1.csv")));
//! let mut cfg = PaperAConfig::quick(0);
//! (cfg.partitions_to_run, cfg.baseline) = (1, None); // evaluate one partition, no MLP
//! let fitted = paper_a::run(&Input::Files { paths: vec![pcap], labels: reports }, &cfg, &Silent)?;
//! fitted.model.save(&dir.join("model"))?;
//! let model = PaperAModel::load(&dir.join("model"))?;
//! let new = Input::Files { paths: vec![dir.join("darknet2.pcap")], labels: None };
//! let predictions = model.predict_input(&new, &Silent)?;
//! assert_eq!(predictions.scores.dim(), (predictions.hosts.len(), 7));
//! std::fs::write(dir.join("predictions.csv"), predictions.to_csv())?;
//! # std::fs::remove_dir_all(&dir)?; Ok(()) }
//! ```

#[cfg(feature = "parquet")]
pub mod aggregates;
pub mod compare;
pub mod error;
pub mod filters;
pub mod labels;
pub mod model;
pub mod output;
pub mod search;
pub mod stream;

pub use compare::{ModelKind, Selection, Validated};
pub use darknet_nn::model::mlp::{Mlp, MlpConfig};
pub use darknet_nn::model::recalibrate_batchnorm;
pub use error::{PaperAError, Result};
pub use filters::{apply_filters, filter_trace, FilterConfig, FilterReport, FilterStep};
pub use labels::{read_label_file, rows_from_reports, LabelRows, LabelSummary, LABEL_NAMES};
pub use model::{PaperAModel, Predictions};
pub use output::write_outputs;
pub use search::{EmbeddingSetting, SearchData, SearchSettings};
pub use stream::{stream_input, Streamed};

use crate::progress::{Event, Observer, Silent, Stage, Warning, WarningKind, Warnings};

use darknet_core::{HostStats, SynthConfig, Trace};
use darknet_eval::calibration::{
    calibration_quality, Calibration, CalibrationMethod, CalibrationQuality,
};
use darknet_eval::selection::Budget;
use darknet_eval::{ml_ros, AggregateReport, MultiLabelReport, SweepPoint};
use darknet_graph::{
    reference_distances, DatasetReport, DistanceConfig, HostDataset, PortEmbeddings, PortGraph,
    PreparedGraph,
};
use darknet_nn::model::{HybridClassifier, HybridClassifierConfig};
use darknet_nn::train::{EpochRecord, LearningCurve};
use darknet_nn::{
    GraphClassifier, GraphClassifierConfig, GraphDataset, GraphRef, NnError, PortAutoencoderConfig,
};
use ndarray::{Array2, Axis};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Instant;

/// Graphs `index[0], index[1], ...` of a slice of prepared host graphs, seen by darknet-nn's
/// training loops as a [`GraphDataset`] (batches are stacked on demand into the caller's
/// buffer, without allocating once it has grown; indices may repeat, as ML-ROS clones do).
#[derive(Clone, Copy, Debug)]
pub struct GraphSubset<'a> {
    graphs: &'a [PreparedGraph],
    index: &'a [usize],
}

impl<'a> GraphSubset<'a> {
    /// The subset `index` (positions into `graphs`) of `graphs`.
    pub fn new(graphs: &'a [PreparedGraph], index: &'a [usize]) -> Self {
        Self { graphs, index }
    }
}

impl GraphDataset<f32> for GraphSubset<'_> {
    fn n_graphs(&self) -> usize {
        self.index.len()
    }
    fn n_features(&self) -> usize {
        self.graphs.first().map_or(0, |g| g.features().ncols())
    }
    fn batch_into(
        &self,
        indices: &[usize],
        out: &mut darknet_nn::GraphBatchBuffer<f32>,
    ) -> darknet_nn::Result<()> {
        let bad = indices
            .iter()
            .enumerate()
            .find(|(_, &i)| self.index.get(i).is_none_or(|&g| g >= self.graphs.len()));
        if let Some((row, &i)) = bad {
            return Err(NnError::TargetOutOfRange {
                op: "GraphSubset::batch_into",
                row,
                value: i,
                n_classes: self.index.len(),
            });
        }
        // Host graphs are symmetric: their normalized adjacency is its own transpose.
        out.stack_from(indices.len(), |k| {
            let g = &self.graphs[self.index[indices[k]]];
            GraphRef {
                adj: g.adjacency(),
                adj_t: None,
                features: g.features(),
            }
        })
    }
}

/// Where the traffic and labels come from.
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    /// darknet-core's synthetic darknet (Paper A preset: a /20 with AbuseIPDB-style reports).
    Synthetic(SynthConfig),
    /// Capture files or directories, with an optional label file (AbuseIPDB-style reports CSV
    /// `ip,categories,...`, or a truth CSV `id,<label names>`).
    Files {
        /// Capture files or directories.
        paths: Vec<PathBuf>,
        /// Label file; without one, nothing can be trained (prediction only).
        labels: Option<PathBuf>,
    },
    /// An aggregates directory: the tables darknet-core's SQL aggregation stage writes
    /// (DataFusion or Spark) from a packet dataset, read instead of the packets by [`run`]
    /// (module `aggregates`, crate feature `parquet`), with an optional label file as for
    /// [`Input::Files`]. Training only: [`load_input`], [`stream_input`] and prediction need
    /// packets.
    Aggregates {
        /// The directory (one sub-directory of Parquet files per table).
        dir: PathBuf,
        /// Label file.
        labels: Option<PathBuf>,
    },
}

/// The error for an aggregates directory where packets are needed, or in a build without the
/// `parquet` feature.
fn aggregates_unsupported(dir: &std::path::Path, reason: &'static str) -> PaperAError {
    PaperAError::InvalidConfig {
        field: "input",
        value: dir.display().to_string(),
        reason,
    }
}

/// Days of the default synthetic darknet.
pub const DEFAULT_DAYS: u32 = 7;

/// The default synthetic darknet: Paper A's preset over [`DEFAULT_DAYS`] days with `seed`.
pub fn default_synth(seed: u64) -> SynthConfig {
    SynthConfig::paper_a().days(DEFAULT_DAYS).seed(seed)
}

/// A tiny synthetic darknet for tests and demos (300 hosts, 3 days).
pub fn tiny_synth(seed: u64) -> SynthConfig {
    SynthConfig::paper_a().days(3).hosts(300).seed(seed)
}

impl Default for Input {
    fn default() -> Self {
        Input::Synthetic(default_synth(0))
    }
}

/// Every setting of the pipeline. Defaults follow docs/choices.md#a7 and Paper A's training
/// settings.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PaperAConfig {
    /// Seed of everything random (references, initialisation, shuffling, partitions, ML-ROS).
    pub seed: u64,
    /// The three filters.
    pub filters: FilterConfig,
    /// Minimum reports in a category for its label (2).
    pub min_reports: usize,
    /// Number of reference ports R (1,024).
    pub n_references: usize,
    /// Port auto-encoder (latent 16, 1 hidden layer per half, Adam 1e-3, batch 256, 50
    /// epochs, patience 5).
    pub autoencoder: PortAutoencoderConfig,
    /// GCN classifier (first size 128, 2 GCN + 2 FC layers, τ 0.5, Adam 0.005, batch 32, 20
    /// epochs, patience 3).
    pub classifier: GraphClassifierConfig,
    /// The non-graph baseline; `None` skips it.
    pub baseline: Option<MlpConfig>,
    /// The hybrid classifier (GCN pooled vector joined with the per-host statistics, see
    /// [`compare`]); `None` skips it. Same sizes and training settings as the GCN by default.
    pub hybrid: Option<HybridClassifierConfig>,
    /// Fraction of each partition's training part held out as validation data, which alone
    /// chooses per-label thresholds and the model saved for prediction (see [`compare`]).
    /// Default 0.2; 0 is the paper's protocol (train on the whole part, τ for every label, the
    /// GCN saved).
    pub validation_fraction: f64,
    /// The model to save for prediction (GCN, hybrid or MLP) instead of the one validation
    /// data prefers; `None` (default) lets validation choose.
    pub saved_model: Option<ModelKind>,
    /// Hyper-parameter search by cross-validation on each partition's training part (see
    /// [`search`]): the GCN's settings and, when the grid has embedding axes, the port
    /// embedding's; `None` (default) trains with [`Self::classifier`] and the run's embedding.
    pub search: Option<SearchSettings>,
    /// Number of random partitions (5).
    pub n_partitions: usize,
    /// Partitions actually trained (≤ n_partitions; all by default).
    pub partitions_to_run: usize,
    /// ML-ROS growth of the training part, in percent (25).
    pub ros_percentage: f64,
    /// Train a final classifier on every labelled host (saved in `model/`); otherwise
    /// partition 0's classifier is kept.
    pub final_model: bool,
    /// After training, recompute every BatchNorm's running statistics as the plain average of
    /// its batch statistics over one pass of the training data with the final weights
    /// (PyTorch's `torch.optim.swa_utils.update_bn`) \[ours\]. With Paper A's learning rate
    /// (0.005) the running averages lag the moving weights, and the pooled GCN features have
    /// small variances that BatchNorm scales up, so evaluation-mode scores can differ badly from
    /// training-mode ones; see [`recalibrate_batchnorm`].
    pub bn_recalibration: bool,
    /// Read the input twice instead of holding it as one trace: ingest, filters and port
    /// graph with memory per host, not per packet (see [`stream`]); the same results. For
    /// captures larger than memory (a month at Paper A's rate is 29 GB as a trace).
    pub stream: bool,
}

impl Default for PaperAConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            filters: FilterConfig::default(),
            min_reports: labels::MIN_REPORTS,
            n_references: 1024,
            autoencoder: PortAutoencoderConfig::default(),
            classifier: GraphClassifierConfig::default(),
            baseline: Some(MlpConfig::default()),
            hybrid: Some(HybridClassifierConfig::default()),
            validation_fraction: 0.2,
            saved_model: None,
            search: None,
            n_partitions: 5,
            partitions_to_run: 5,
            ros_percentage: darknet_eval::DEFAULT_ROS_PERCENTAGE,
            final_model: true,
            bn_recalibration: true,
            stream: false,
        }
    }
}

impl PaperAConfig {
    /// The defaults with every seed set from `seed`.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// A small, fast configuration (smaller models, few epochs) for tests and demos.
    pub fn quick(seed: u64) -> Self {
        let mut c = Self {
            seed,
            n_references: 64,
            autoencoder: PortAutoencoderConfig::default()
                .latent_dim(8)
                .max_epochs(10),
            classifier: GraphClassifierConfig::default()
                .first_size(32)
                .max_epochs(6),
            baseline: Some(MlpConfig {
                first_size: 32,
                ..MlpConfig::default()
            }),
            hybrid: Some(
                HybridClassifierConfig::default()
                    .first_size(32)
                    .max_epochs(6),
            ),
            ..Self::default()
        };
        if let Some(b) = &mut c.baseline {
            b.train.max_epochs = 6;
        }
        c
    }

    /// Checks the pipeline's own settings and those of the models.
    ///
    /// # Errors
    /// [`PaperAError::InvalidConfig`] naming the setting, or the models' config errors.
    pub fn validate(&self) -> Result<()> {
        let bad = |field, value: String, reason| PaperAError::InvalidConfig {
            field,
            value,
            reason,
        };
        if self.n_partitions < 2 {
            return Err(bad(
                "n_partitions",
                self.n_partitions.to_string(),
                "must be >= 2",
            ));
        }
        if self.partitions_to_run == 0 || self.partitions_to_run > self.n_partitions {
            return Err(bad(
                "partitions_to_run",
                self.partitions_to_run.to_string(),
                "must be in 1..=n_partitions",
            ));
        }
        if !(self.ros_percentage.is_finite() && self.ros_percentage >= 0.0) {
            return Err(bad(
                "ros_percentage",
                self.ros_percentage.to_string(),
                "must be finite and >= 0",
            ));
        }
        if self.n_references == 0 {
            return Err(bad("n_references", "0".into(), "must be >= 1"));
        }
        if !(0.0..0.9).contains(&self.validation_fraction) {
            return Err(bad(
                "validation_fraction",
                self.validation_fraction.to_string(),
                "must be in [0, 0.9)",
            ));
        }
        if let Some(h) = &self.hybrid {
            h.validate()?;
        }
        match self.saved_model {
            Some(ModelKind::Mlp) if self.baseline.is_none() => {
                return Err(bad(
                    "saved_model",
                    "mlp".into(),
                    "the MLP baseline is switched off",
                ))
            }
            Some(ModelKind::Hybrid) if self.hybrid.is_none() => {
                return Err(bad(
                    "saved_model",
                    "hybrid".into(),
                    "the hybrid is switched off",
                ))
            }
            _ => {}
        }
        if self.min_reports == 0 {
            return Err(bad("min_reports", "0".into(), "must be >= 1"));
        }
        self.autoencoder.validate()?;
        self.classifier.validate()?;
        if let Some(s) = &self.search {
            s.validate(self)?;
        }
        if let Some(b) = &self.baseline {
            b.train.validate()?;
            if b.layers == 0 || b.first_size == 0 {
                return Err(bad(
                    "baseline layers/first_size",
                    format!("{}/{}", b.layers, b.first_size),
                    "must be >= 1",
                ));
            }
        }
        Ok(())
    }
}

/// Traffic and labels, as ingested.
#[derive(Clone, Debug)]
pub struct Ingested {
    /// The trace.
    pub trace: Trace,
    /// Label rows (empty without a label file).
    pub labels: LabelRows,
}

/// Reads the input: generates the synthetic darknet, or reads capture files and the label file.
///
/// Memory: the trace is built as the input streams in, day by day for the synthetic darknet
/// (one day of `Packet`s, 64 bytes each, is held beside the columnar trace, 47 bytes a packet)
/// and in chunks of 2^20 packets for captures in time order; see [`read_captures`].
///
/// # Errors
/// Reader and label-file errors; [`PaperAError::EmptyAfter`] for input without packets.
pub fn load_input(input: &Input, min_reports: usize, obs: &dyn Observer) -> Result<Ingested> {
    let bar = Stage::start(obs, "ingest", 0);
    let (trace, labels) = match input {
        Input::Synthetic(cfg) => {
            let darknet = cfg.build()?;
            bar.set_total(u64::from(darknet.n_days()));
            let mut trace = Trace::default();
            let mut day = Vec::new();
            for d in 0..darknet.n_days() {
                darknet.day_into(d, &mut day);
                trace.extend_packets(&day);
                bar.advance(1);
            }
            (trace, rows_from_reports(darknet.reports(), min_reports))
        }
        Input::Files { paths, labels } => {
            let rows = match labels {
                Some(p) => read_label_file(p, min_reports)?,
                None => LabelRows::empty(),
            };
            (read_captures_into_stage(paths, &bar)?, rows)
        }
        Input::Aggregates { dir, .. } => {
            return Err(aggregates_unsupported(
                dir,
                "an aggregates directory holds no packets: give captures, or train with run",
            ))
        }
    };
    drop(bar);
    if trace.is_empty() {
        return Err(PaperAError::EmptyAfter {
            stage: "reading the input",
            detail: "no packet".into(),
        });
    }
    Ok(Ingested { trace, labels })
}

/// Reads captures (pcap, pcapng or CSV, plain or gzip, recognised by their first bytes, not
/// their names) into one time-sorted trace. `paths` may name files and directories; they are
/// resolved as the command-line programs resolve them ([`darknet_core::io::inputs::resolve`]):
/// a directory gives the captures directly inside it (its CSV tables are skipped when it holds
/// pcap or pcapng captures, so conversions are not read twice), a file given twice is read
/// once. Frames a reader cannot use are skipped and counted by darknet-core's readers.
///
/// Memory: packets go into the columnar trace in chunks of 2^20 as they are read, so files in
/// time order (a file per day, say) are never held twice; the first packet earlier than the
/// trace so far switches to collecting every packet and sorting once at the end.
///
/// # Errors
/// darknet-core's errors: a path that does not exist, an unreadable directory, no capture at
/// all ([`darknet_core::CoreError::NoCaptures`]), a corrupt record (file and record).
pub fn read_captures(paths: &[PathBuf]) -> Result<Trace> {
    read_captures_into_stage(paths, &Stage::start(&Silent, "ingest", 0))
}

/// The captures of `paths` (see [`read_captures`]), each once and sorted by path; files
/// skipped in directories and files given twice are reported to `bar` as input warnings.
///
/// # Errors
/// As [`darknet_core::io::inputs::resolve`].
pub(crate) fn capture_files(paths: &[PathBuf], bar: &Stage<'_>) -> Result<Vec<PathBuf>> {
    let inputs = darknet_core::io::inputs::resolve(paths)?;
    for w in &inputs.warnings {
        bar.warn(&Warning::new(WarningKind::Input, w.to_string()));
    }
    Ok(inputs.paths())
}

fn read_captures_into_stage(paths: &[PathBuf], bar: &Stage<'_>) -> Result<Trace> {
    let inputs = darknet_core::io::inputs::resolve(paths)?;
    for w in &inputs.warnings {
        bar.warn(&Warning::new(WarningKind::Input, w.to_string()));
    }
    bar.set_total(inputs.files.len() as u64);
    let mut stream = darknet_core::io::inputs::CaptureStream::new(inputs.files);
    let trace = stream.read_trace(|_, _| bar.advance(1))?;
    // A capture whose every frame was skipped (a wrong link type, say) is not an error among
    // other captures, but the user must hear of it.
    for e in stream.nothing_decoded() {
        bar.warn(&Warning::new(WarningKind::Input, e.to_string()));
    }
    Ok(trace)
}

/// Summary of the port stage.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PortSummary {
    /// Port nodes (TCP and UDP).
    pub n_ports: usize,
    /// Directed edges.
    pub n_edges: usize,
    /// Q1 of the transition counts.
    pub q1: f64,
    /// Q3 of the transition counts.
    pub q3: f64,
    /// Reference ports used (≤ R).
    pub n_references: usize,
    /// Fraction of (port, reference) pairs with a path.
    pub reachable_fraction: f64,
}

/// The port graph, the distances, the auto-encoder and the embedding table.
#[derive(Clone, Debug)]
pub struct PortStage {
    /// Sizes and quartiles.
    pub summary: PortSummary,
    /// Reference ports, as `tcp/23`, in distance-column order.
    pub reference_ports: Vec<String>,
    /// The trained auto-encoder.
    pub autoencoder: darknet_nn::PortAutoencoder<f32>,
    /// Its learning curve.
    pub curve: LearningCurve,
    /// One embedding per port of the graph.
    pub embeddings: PortEmbeddings,
    /// Seconds spent: port graph, reference distances, auto-encoder (training + encoding).
    pub timings: Vec<(String, f64)>,
}

/// Sends `msg` to the observer as a note.
fn note(obs: &dyn Observer, msg: impl AsRef<str>) {
    obs.on_event(&Event::Note(msg.as_ref()));
}

/// Port graph with quartile weights → distances to the reference ports → port auto-encoder →
/// embedding table (docs/paper-a.md#port-graph, docs/paper-a.md#auto-encoder).
///
/// # Errors
/// [`PaperAError::EmptyAfter`] without any TCP/UDP port; model errors.
pub fn port_stage(trace: &Trace, cfg: &PaperAConfig, obs: &dyn Observer) -> Result<PortStage> {
    let t0 = Instant::now();
    let graph = PortGraph::from_trace(trace).map_err(|source| PaperAError::PortGraph { source })?;
    port_stage_from_graph(&graph, t0.elapsed().as_secs_f64(), cfg, obs)
}

/// [`port_stage`] from a port graph built elsewhere (by the streaming passes, say);
/// `t_graph` is the seconds its construction took, reported as the `port graph` timing.
///
/// # Errors
/// As [`port_stage`].
pub fn port_stage_from_graph(
    graph: &PortGraph,
    t_graph: f64,
    cfg: &PaperAConfig,
    obs: &dyn Observer,
) -> Result<PortStage> {
    let dcfg = DistanceConfig::default()
        .n_references(cfg.n_references)
        .seed(cfg.seed);
    let t1 = Instant::now();
    let dist = reference_distances(graph, &dcfg)?;
    let t_dist = t1.elapsed().as_secs_f64();
    let t2 = Instant::now();
    let reach =
        dist.reachable.iter().filter(|&&r| r).count() as f64 / dist.reachable.len().max(1) as f64;
    let ae_cfg = cfg.autoencoder.seed(cfg.seed);
    let bar = Stage::start(obs, "autoencoder", ae_cfg.train.max_epochs as u64);
    let (autoencoder, curve) = ae_cfg.fit(dist.distances.view(), &mut |_| bar.advance(1))?;
    drop(bar);
    let table = autoencoder.encode(dist.distances.view())?;
    let embeddings = PortEmbeddings::new(graph.ports().to_vec(), table)?;
    Ok(PortStage {
        summary: PortSummary {
            n_ports: graph.n_ports(),
            n_edges: graph.n_edges(),
            q1: graph.q1(),
            q3: graph.q3(),
            n_references: dist.references.len(),
            reachable_fraction: reach,
        },
        reference_ports: dist
            .references
            .iter()
            .map(|&i| graph.ports()[i].to_string())
            .collect(),
        autoencoder,
        curve,
        embeddings,
        timings: vec![
            ("port graph".into(), t_graph),
            ("reference distances".into(), t_dist),
            ("auto-encoder".into(), t2.elapsed().as_secs_f64()),
        ],
    })
}

/// The port stage and host-graph dataset of the embedding `setting` (the other settings as
/// `cfg`): what [`run`] computes once for each embedding setting a search needs.
/// `host_graphs` builds a dataset from an embedding table (as [`build_dataset`] does from the
/// trace); `reference` is the run's own dataset, which the new one must match in hosts,
/// labels and order (only the node features differ). References beyond the ports of `graph`
/// are clamped to them.
///
/// # Errors
/// Those of [`port_stage_from_graph`] and `host_graphs`; [`PaperAError::SearchEmbedding`]
/// when the hosts or labels differ from `reference`.
pub fn embedding_variant(
    graph: &PortGraph,
    setting: EmbeddingSetting,
    reference: &Dataset,
    cfg: &PaperAConfig,
    obs: &dyn Observer,
    host_graphs: &dyn Fn(&PortEmbeddings) -> Result<Dataset>,
) -> Result<(PortStage, Dataset)> {
    let setting = setting.clamped(graph.n_ports());
    setting.validate(cfg)?;
    let ports = port_stage_from_graph(graph, 0.0, &setting.apply(cfg), obs)?;
    let data = host_graphs(&ports.embeddings)?;
    let (a, b) = (&data.graphs, &reference.graphs);
    if a.hosts != b.hosts || a.labels != b.labels || a.label_names != b.label_names {
        return Err(PaperAError::SearchEmbedding {
            setting: setting.to_string(),
            reason: format!(
                "its host-graph dataset has {} hosts, the run's {}; they must be the same hosts, labels and order",
                a.len(),
                b.len()
            ),
        });
    }
    Ok((ports, data))
}

/// Notes the search grid's reference counts that exceed the ports of the port graph (they are
/// clamped to the ports).
fn note_clamped_references(cfg: &PaperAConfig, n_ports: usize, obs: &dyn Observer) {
    let Some(s) = &cfg.search else { return };
    let over: Vec<String> = s
        .grid
        .axes
        .iter()
        .filter(|(n, _)| n == "references")
        .flat_map(|(_, v)| v.iter())
        .filter(|v| matches!(v, darknet_eval::selection::ParamValue::Int(r) if *r > n_ports as i64))
        .map(ToString::to_string)
        .collect();
    if !over.is_empty() {
        note(
            obs,
            format!(
                "search: references {} clamped to the {n_ports} ports of the port graph (points differing only there tie; the first in grid order wins)",
                over.join(", ")
            ),
        );
    }
}

/// The labelled host-graph dataset and the baseline's per-host statistics (same rows).
#[derive(Clone, Debug)]
pub struct Dataset {
    /// Host graphs and labels.
    pub graphs: HostDataset,
    /// Per-host aggregate statistics (darknet-core's [`HostStats::features`], columns
    /// [`darknet_core::HOST_FEATURE_NAMES`]). Shape (n_hosts, 33).
    pub stats: Array2<f32>,
}

/// Builds the dataset of the labelled hosts (docs/paper-a.md#host-graphs, docs/paper-a.md#labels).
///
/// # Errors
/// [`PaperAError::TooFewLabelled`] when fewer labelled hosts than `n_partitions` × 2 are in the
/// traffic (the message gives the counts of the dataset report).
pub fn build_dataset(
    trace: &Trace,
    emb: &PortEmbeddings,
    labels: &LabelRows,
    n_partitions: usize,
) -> Result<Dataset> {
    let sources = trace.by_source();
    let graphs = HostDataset::build(
        trace,
        &sources,
        emb,
        &labels.names,
        &labels.hosts,
        labels.y.view(),
    )?;
    check_enough_labelled(&graphs, n_partitions)?;
    let positions: Vec<usize> = graphs
        .hosts
        .iter()
        .filter_map(|h| sources.position(*h))
        .collect();
    let rows: Vec<[f32; darknet_core::stats::HOST_FEATURE_COUNT]> = positions
        .par_iter()
        .map(|&k| {
            HostStats::from_indices(trace, sources.source(k), sources.packets_of(k)).features()
        })
        .collect();
    let mut stats = Array2::zeros((rows.len(), darknet_core::stats::HOST_FEATURE_COUNT));
    for (mut r, v) in stats.rows_mut().into_iter().zip(&rows) {
        r.iter_mut().zip(v).for_each(|(a, b)| *a = *b);
    }
    Ok(Dataset { graphs, stats })
}

/// [`PaperAError::TooFewLabelled`] when `graphs` has fewer than `n_partitions` × 2 hosts.
fn check_enough_labelled(graphs: &HostDataset, n_partitions: usize) -> Result<()> {
    let needed = 2 * n_partitions.max(1);
    if graphs.len() < needed {
        return Err(PaperAError::TooFewLabelled {
            n_labelled: graphs.len(),
            needed,
            detail: describe_dataset(&graphs.report),
        });
    }
    Ok(())
}

/// One line describing a dataset report.
pub fn describe_dataset(r: &DatasetReport) -> String {
    format!(
        "{} label rows, {} labelled hosts absent from the traffic{}, {} with an empty label set, {} without a usable packet; {} hosts in the traffic, {} unlabelled; {} used",
        r.n_label_rows,
        r.n_labels_absent,
        if r.absent_examples.is_empty() {
            String::new()
        } else {
            format!(
                " (e.g. {})",
                r.absent_examples.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", ")
            )
        },
        r.n_empty_label_sets,
        r.n_labelled_without_graph,
        r.n_hosts,
        r.n_hosts_unlabelled,
        r.n_used
    )
}

/// Results of one partition.
#[derive(Clone, Debug)]
pub struct PartitionResult {
    /// Partition number k (part k is the test set).
    pub k: usize,
    /// Hosts trained on (the training part less the validation slice), before oversampling.
    pub n_train: usize,
    /// Training rows after ML-ROS.
    pub n_train_oversampled: usize,
    /// Test hosts. Shape (n_test,).
    pub test_hosts: Vec<Ipv4Addr>,
    /// Test truth. Shape (n_test, n_labels).
    pub truth: Array2<u8>,
    /// GCN scores on the test hosts. Shape (n_test, n_labels).
    pub gcn_scores: Array2<f64>,
    /// The same scores after Platt scaling fitted per label on the validation slice (with
    /// validation data only). Shape (n_test, n_labels).
    pub gcn_calibrated: Option<Array2<f64>>,
    /// GCN metrics.
    pub gcn_report: MultiLabelReport,
    /// GCN learning curve.
    pub gcn_curve: LearningCurve,
    /// Baseline scores, report and curve (when the baseline runs).
    pub baseline: Option<(Array2<f64>, MultiLabelReport, LearningCurve)>,
    /// Hybrid scores, report and curve (when the hybrid runs).
    pub hybrid: Option<(Array2<f64>, MultiLabelReport, LearningCurve)>,
    /// Hosts held out of training as validation data (0 in the paper's protocol).
    pub n_validation: usize,
    /// What the validation slice said of each model (empty without validation data).
    pub validated: Vec<Validated>,
    /// The partition's classifier.
    pub classifier: GraphClassifier<f32>,
    /// The partition's hybrid classifier (when it runs).
    pub hybrid_classifier: Option<HybridClassifier<f32>>,
    /// The partition's MLP baseline (when it runs).
    pub mlp: Option<Mlp>,
    /// The hyper-parameter search of this partition, when one ran: every evaluated point with
    /// its cross-validation scores, and the chosen one (the GCN trained with it).
    pub search: Option<darknet_eval::selection::Selection>,
    /// The embedding setting (references clamped to the ports) whose host graphs the
    /// partition's GCN and hybrid used, when the search chose another than the run's own;
    /// `None` when they used the run's.
    pub embedding: Option<EmbeddingSetting>,
}

/// Mixed into each partition's seed to draw its validation slice.
const VALIDATION_SEED: u64 = 0x7661_6c69_6461_7465;

fn f32_labels(y: &Array2<u8>) -> Array2<f32> {
    y.mapv(f32::from)
}

/// Trains and evaluates the GCN (and the baseline and the hybrid, see [`compare`]) on each
/// random partition: part k is the test set; a validation slice of the training part is held
/// out first when [`PaperAConfig::validation_fraction`] > 0; ML-ROS grows the other parts by
/// `ros_percentage` % before training (docs/paper-a.md#partitions, docs/choices.md#a10). Partition
/// k's models are seeded with `seed + k`.
///
/// A search whose grid has embedding axes needs the datasets of other embedding settings:
/// use [`evaluate_partitions_on`] (as [`run`] does).
///
/// # Errors
/// Split, oversampling, training and metric errors; [`PaperAError::SearchEmbedding`] when the
/// search draws an embedding setting other than the run's.
pub fn evaluate_partitions(
    data: &Dataset,
    cfg: &PaperAConfig,
    obs: &dyn Observer,
) -> Result<Vec<PartitionResult>> {
    evaluate_partitions_on(&SearchData::single(data, cfg), cfg, obs)
}

/// [`evaluate_partitions`] on the datasets of the embedding settings the search may choose
/// (see [`search`]): each partition's GCN and hybrid use the dataset of the chosen setting;
/// the split, the validation slice, ML-ROS and the MLP baseline are those of `data.default`
/// (the datasets share hosts, labels and order).
///
/// # Errors
/// As [`evaluate_partitions`].
pub fn evaluate_partitions_on(
    sets: &SearchData<'_>,
    cfg: &PaperAConfig,
    obs: &dyn Observer,
) -> Result<Vec<PartitionResult>> {
    let data = sets.default;
    let ds = &data.graphs;
    if let Some(s) = cfg.search.as_ref().filter(|s| s.budget != Budget::None) {
        let per = s.trainings_per_partition();
        note(
            obs,
            format!(
                "search: {} points × {} folds = {per} GCN trainings per partition, {} over {} partitions",
                per / s.folds.max(1),
                s.folds,
                per * cfg.partitions_to_run,
                cfg.partitions_to_run
            ),
        );
    }
    let folds = darknet_eval::k_fold(
        &(0..ds.len()).collect::<Vec<_>>(),
        cfg.n_partitions,
        cfg.seed,
    )?;
    let y = f32_labels(&ds.labels);
    let mut out = Vec::new();
    for (k, fold) in folds.iter().enumerate().take(cfg.partitions_to_run) {
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed.wrapping_add(k as u64));
        // The validation slice comes out of the training part before oversampling, with its
        // own seed, so a fraction of 0 leaves the paper's protocol untouched.
        let (fit, val) = compare::split_validation(
            &fold.train,
            cfg.validation_fraction,
            cfg.seed.wrapping_add(k as u64) ^ VALIDATION_SEED,
        );
        let train = ml_ros(ds.labels.view(), &fit, cfg.ros_percentage, &mut rng)?;
        let y_train = y.select(Axis(0), &train);
        let (classifier_cfg, search, setting) = match &cfg.search {
            None => (cfg.classifier.clone(), None, sets.default_setting),
            Some(s) => {
                let stage = Stage::start(obs, &format!("search {k}"), 0);
                let found = search::search(sets, &fit, cfg, s, k as u64)?;
                drop(stage);
                let (c, e) = match &found {
                    Some(f) => (
                        search::apply(&cfg.classifier, f.best())?,
                        sets.setting_of(f.best())?,
                    ),
                    None => (cfg.classifier.clone(), sets.default_setting),
                };
                (c, found, e)
            }
        };
        // The host graphs of the chosen embedding: same hosts, labels and order as `ds`.
        let graphs = &sets.get(&setting)?.graphs.graphs;
        let embedding = (setting != sets.default_setting).then_some(setting);
        if let Some(e) = embedding {
            note(
                obs,
                format!(
                    "partition {k}: the search chose the embedding {e} (the run's is {})",
                    sets.default_setting
                ),
            );
        }
        let train_set = GraphSubset::new(graphs, &train);
        let ccfg = classifier_cfg.seed(cfg.seed.wrapping_add(k as u64));
        let bar = Stage::start(obs, &format!("GCN {k}"), ccfg.train.max_epochs as u64);
        let (mut classifier, gcn_curve) =
            ccfg.fit(&train_set, y_train.view(), &mut |_: &EpochRecord| {
                bar.advance(1)
            })?;
        drop(bar);
        if cfg.bn_recalibration {
            recalibrate_batchnorm(&mut classifier, &train_set, ccfg.train.batch_size)?;
        }
        let test = GraphSubset::new(graphs, &fold.test);
        let val_set = GraphSubset::new(graphs, &val);
        let gcn_scores = classifier.scores_graphs(&test, 256)?.mapv(f64::from);
        let truth = ds.labels.select(Axis(0), &fold.test);
        let val_truth = ds.labels.select(Axis(0), &val);
        let tau = cfg.classifier.threshold;
        let mut validated = Vec::new();
        let mut check = |kind, val_scores: Array2<f64>, test_scores: &Array2<f64>| -> Result<()> {
            if !val.is_empty() {
                validated.push(compare::validate(
                    kind,
                    val_truth.view(),
                    val_scores.view(),
                    truth.view(),
                    test_scores.view(),
                    tau,
                )?);
            }
            Ok(())
        };
        let mut gcn_calibrated = None;
        if !val.is_empty() {
            let s = classifier.scores_graphs(&val_set, 256)?.mapv(f64::from);
            // Platt scaling per label, fitted on the validation slice only (isotonic
            // regression over-fits slices of a few hundred hosts).
            let cal = Calibration::fit(CalibrationMethod::Platt, val_truth.view(), s.view())?;
            gcn_calibrated = Some(cal.transform(gcn_scores.view())?);
            check(ModelKind::Gcn, s, &gcn_scores)?;
        }
        let gcn_report = MultiLabelReport::from_scores(
            &ds.label_names,
            truth.view(),
            gcn_scores.view(),
            cfg.classifier.threshold,
        )?;
        let (baseline, mlp) = match &cfg.baseline {
            None => (None, None),
            Some(b) => {
                let mut bc = b.clone();
                bc.train.seed = cfg.seed.wrapping_add(k as u64);
                let bar = Stage::start(obs, &format!("MLP {k}"), bc.train.max_epochs as u64);
                let (mlp, curve) =
                    bc.fit(data.stats.view(), y.view(), &train, &mut |_| bar.advance(1))?;
                drop(bar);
                let s = mlp
                    .scores(data.stats.select(Axis(0), &fold.test).view())?
                    .mapv(f64::from);
                if !val.is_empty() {
                    let v = mlp
                        .scores(data.stats.select(Axis(0), &val).view())?
                        .mapv(f64::from);
                    check(ModelKind::Mlp, v, &s)?;
                }
                let r =
                    MultiLabelReport::from_scores(&ds.label_names, truth.view(), s.view(), tau)?;
                (Some((s, r, curve)), Some(mlp))
            }
        };
        let (hybrid, hybrid_classifier) = match &cfg.hybrid {
            None => (None, None),
            Some(h) => {
                let hc = h.clone().seed(cfg.seed.wrapping_add(k as u64));
                let bar = Stage::start(obs, &format!("hybrid {k}"), hc.train.max_epochs as u64);
                let stats_train = data.stats.select(Axis(0), &train);
                let (mut model, curve) =
                    hc.fit(&train_set, stats_train.view(), y_train.view(), &mut |_| {
                        bar.advance(1)
                    })?;
                drop(bar);
                if cfg.bn_recalibration {
                    darknet_nn::model::recalibrate_hybrid_batchnorm(
                        &mut model,
                        &train_set,
                        stats_train.view(),
                        hc.train.batch_size,
                    )?;
                }
                let stats_test = data.stats.select(Axis(0), &fold.test);
                let s = model
                    .scores_graphs(&test, stats_test.view(), 256)?
                    .mapv(f64::from);
                if !val.is_empty() {
                    let stats_val = data.stats.select(Axis(0), &val);
                    let v = model
                        .scores_graphs(&val_set, stats_val.view(), 256)?
                        .mapv(f64::from);
                    check(ModelKind::Hybrid, v, &s)?;
                }
                let r =
                    MultiLabelReport::from_scores(&ds.label_names, truth.view(), s.view(), tau)?;
                (Some((s, r, curve)), Some(model))
            }
        };
        note(
            obs,
            format!(
                "partition {k}: {} train (+{} ML-ROS clones), {} validation, {} test; GCN sample F1 {:.3}{}",
                fit.len(),
                train.len() - fit.len(),
                val.len(),
                fold.test.len(),
                gcn_report.f1_samples,
                baseline
                    .as_ref()
                    .map(|(_, r, _)| format!(", MLP baseline {:.3}", r.f1_samples))
                    .unwrap_or_default()
                    + &hybrid
                        .as_ref()
                        .map(|(_, r, _)| format!(", hybrid {:.3}", r.f1_samples))
                        .unwrap_or_default()
                    + &compare::choose(&validated)
                        .map(|c| format!("; validation chose {}", c.kind))
                        .unwrap_or_default()
            ),
        );
        out.push(PartitionResult {
            k,
            n_train: fit.len(),
            n_train_oversampled: train.len(),
            test_hosts: fold.test.iter().map(|&i| ds.hosts[i]).collect(),
            truth,
            gcn_scores,
            gcn_calibrated,
            gcn_report,
            gcn_curve,
            baseline,
            hybrid,
            n_validation: val.len(),
            validated,
            classifier,
            hybrid_classifier,
            mlp,
            search,
            embedding,
        });
    }
    Ok(out)
}

/// Trains the classifier on every labelled host (ML-ROS +`ros_percentage` %), the model saved
/// for prediction.
///
/// # Errors
/// Oversampling and training errors.
pub fn train_final(
    data: &Dataset,
    cfg: &PaperAConfig,
    obs: &dyn Observer,
) -> Result<(GraphClassifier<f32>, LearningCurve)> {
    let ds = &data.graphs;
    let all: Vec<usize> = (0..ds.len()).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed.wrapping_add(1000));
    let train = ml_ros(ds.labels.view(), &all, cfg.ros_percentage, &mut rng)?;
    let y = f32_labels(&ds.labels).select(Axis(0), &train);
    let bar = Stage::start(obs, "final GCN", cfg.classifier.train.max_epochs as u64);
    let set = GraphSubset::new(&ds.graphs, &train);
    let (mut model, curve) =
        cfg.classifier
            .clone()
            .seed(cfg.seed)
            .fit(&set, y.view(), &mut |_| bar.advance(1))?;
    drop(bar);
    if cfg.bn_recalibration {
        recalibrate_batchnorm(&mut model, &set, cfg.classifier.train.batch_size)?;
    }
    Ok((model, curve))
}

/// Trains the hybrid classifier on every labelled host (ML-ROS as [`train_final`]), when
/// validation chose it for prediction.
///
/// # Errors
/// Oversampling and training errors.
pub fn train_final_hybrid(
    data: &Dataset,
    cfg: &PaperAConfig,
    obs: &dyn Observer,
) -> Result<HybridClassifier<f32>> {
    let ds = &data.graphs;
    let all: Vec<usize> = (0..ds.len()).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed.wrapping_add(1000));
    let train = ml_ros(ds.labels.view(), &all, cfg.ros_percentage, &mut rng)?;
    let y = f32_labels(&ds.labels).select(Axis(0), &train);
    let stats = data.stats.select(Axis(0), &train);
    let hc = cfg.hybrid.clone().unwrap_or_default().seed(cfg.seed);
    let bar = Stage::start(obs, "final hybrid", hc.train.max_epochs as u64);
    let set = GraphSubset::new(&ds.graphs, &train);
    let (mut model, _) = hc.fit(&set, stats.view(), y.view(), &mut |_| bar.advance(1))?;
    drop(bar);
    if cfg.bn_recalibration {
        darknet_nn::model::recalibrate_hybrid_batchnorm(
            &mut model,
            &set,
            stats.view(),
            hc.train.batch_size,
        )?;
    }
    Ok(model)
}

/// Trains the MLP baseline on every labelled host's statistics (ML-ROS as [`train_final`]),
/// when validation chose it for prediction.
///
/// # Errors
/// Oversampling and training errors.
pub fn train_final_mlp(data: &Dataset, cfg: &PaperAConfig, obs: &dyn Observer) -> Result<Mlp> {
    let ds = &data.graphs;
    let all: Vec<usize> = (0..ds.len()).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed.wrapping_add(1000));
    let train = ml_ros(ds.labels.view(), &all, cfg.ros_percentage, &mut rng)?;
    let y = f32_labels(&ds.labels);
    let mut bc = cfg.baseline.clone().unwrap_or_default();
    bc.train.seed = cfg.seed;
    let bar = Stage::start(obs, "final MLP", bc.train.max_epochs as u64);
    let (model, _) = bc.fit(data.stats.view(), y.view(), &train, &mut |_| bar.advance(1))?;
    Ok(model)
}

/// The GCN's test scores before and after per-label Platt scaling fitted on each partition's
/// validation slice, pooled over partitions.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CalibrationSummary {
    /// Always `"platt"`.
    pub method: &'static str,
    /// Brier score and expected calibration error of the raw scores.
    pub raw: CalibrationQuality,
    /// The same of the calibrated scores.
    pub calibrated: CalibrationQuality,
    /// τ sweep of the calibrated scores (`threshold_sweep_calibrated.csv`).
    #[serde(skip)]
    pub sweep: Vec<SweepPoint>,
}

/// Everything a run produced.
#[derive(Clone, Debug)]
pub struct PaperAResult {
    /// The settings.
    pub config: PaperAConfig,
    /// Packets and hosts read.
    pub n_packets_in: usize,
    /// Hosts read.
    pub n_hosts_in: usize,
    /// Days covered by the traffic.
    pub n_days: usize,
    /// The labels.
    pub labels: LabelSummary,
    /// What each filter removed.
    pub filters: FilterReport,
    /// Port graph and auto-encoder summary.
    pub ports: PortSummary,
    /// The auto-encoder's learning curve.
    pub autoencoder_curve: LearningCurve,
    /// What was matched between labels and traffic.
    pub dataset: DatasetReport,
    /// Label names.
    pub label_names: Vec<String>,
    /// Hosts per label in the dataset.
    pub label_counts: Vec<usize>,
    /// Per-partition results.
    pub partitions: Vec<PartitionResult>,
    /// GCN mean ± std over partitions.
    pub gcn: AggregateReport,
    /// Baseline mean ± std over partitions.
    pub baseline: Option<AggregateReport>,
    /// Hybrid mean ± std over partitions.
    pub hybrid: Option<AggregateReport>,
    /// The choice made on validation data (when [`PaperAConfig::validation_fraction`] > 0).
    pub selection: Option<Selection>,
    /// τ sweep of the GCN on the pooled test predictions of all partitions.
    pub sweep: Vec<SweepPoint>,
    /// The GCN's scores as probabilities, with validation data: how well raw and calibrated
    /// test scores read as probabilities, and the τ sweep of the calibrated scores.
    pub calibration: Option<CalibrationSummary>,
    /// The model kept for prediction.
    pub model: PaperAModel,
    /// Learning curve of the final model (when trained).
    pub final_curve: Option<LearningCurve>,
    /// Embedding settings (references clamped to the ports) computed for the search besides
    /// the run's own, ascending: those the budget's points need (see [`search`]).
    pub search_embeddings: Vec<EmbeddingSetting>,
    /// Seconds per stage, in order.
    pub timings: Vec<(String, f64)>,
    /// What the user should know (label categories ignored, labelled hosts absent from the
    /// traffic); each was also sent to the observer as it happened.
    pub warnings: Vec<Warning>,
}

/// Ingest, filters and port graph, by either path; what the rest of [`run`] starts from.
struct Staged {
    /// The filtered trace (in-memory path) or the labelled hosts' kept packets (streaming).
    trace: Trace,
    graph: PortGraph,
    labels: LabelRows,
    filters: FilterReport,
    n_packets_in: usize,
    n_hosts_in: usize,
    n_days: usize,
}

fn note_input(
    obs: &dyn Observer,
    warnings: &mut Warnings<'_>,
    n_packets: usize,
    n_hosts: usize,
    n_days: usize,
    ls: &LabelSummary,
) {
    note(obs, format!("{n_packets} packets from {n_hosts} hosts over {n_days} days; {} reports, {} labelled hosts", ls.n_reports, ls.n_labelled_hosts));
    if ls.n_outside() > 0 {
        warnings.push(
            WarningKind::Labels,
            format!(
                "{} reports in categories outside the 7 ignored ({:?})",
                ls.n_outside(),
                ls.outside_categories
            ),
        );
    }
}

fn note_filters(obs: &dyn Observer, report: &FilterReport) -> Result<()> {
    for s in &report.steps {
        note(
            obs,
            format!(
                "filter {}: removed {} of {} packets, {} of {} hosts",
                s.name, s.packets_removed, s.packets_in, s.hosts_removed, s.hosts_in
            ),
        );
    }
    report.check_not_empty()
}

/// The in-memory path: one trace, the filters, the port graph. Timings `ingest`, `filters`,
/// `port graph`.
fn stage_in_memory(
    input: &Input,
    cfg: &PaperAConfig,
    timings: &mut Vec<(String, f64)>,
    warnings: &mut Warnings<'_>,
    obs: &dyn Observer,
) -> Result<Staged> {
    let clock = Instant::now();
    let Ingested { trace: raw, labels } = load_input(input, cfg.min_reports, obs)?;
    let n_packets_in = raw.len();
    let n_hosts_in = raw.by_source().len();
    let n_days = raw.days(0).len();
    note_input(
        obs,
        warnings,
        n_packets_in,
        n_hosts_in,
        n_days,
        &labels.summary,
    );
    timings.push(("ingest".into(), clock.elapsed().as_secs_f64()));
    let clock = Instant::now();
    // The raw trace moves into the filters and is dropped by the first one.
    let (trace, filters) = filters::filter_trace(raw, &cfg.filters, obs)?;
    note_filters(obs, &filters)?;
    timings.push(("filters".into(), clock.elapsed().as_secs_f64()));
    let clock = Instant::now();
    let graph =
        PortGraph::from_trace(&trace).map_err(|source| PaperAError::PortGraph { source })?;
    timings.push(("port graph".into(), clock.elapsed().as_secs_f64()));
    Ok(Staged {
        trace,
        graph,
        labels,
        filters,
        n_packets_in,
        n_hosts_in,
        n_days,
    })
}

/// The streaming path ([`stream`]). Timings `pass 1 (ingest, filter plan)`, `pass 2 (kept
/// packets, transitions)`, `port graph` (building it from the counts).
fn stage_streaming(
    input: &Input,
    cfg: &PaperAConfig,
    timings: &mut Vec<(String, f64)>,
    warnings: &mut Warnings<'_>,
    obs: &dyn Observer,
) -> Result<Staged> {
    let s = stream_input(input, cfg, obs)?;
    note_input(
        obs,
        warnings,
        s.n_packets_in,
        s.n_hosts_in,
        s.n_days,
        &s.labels.summary,
    );
    note_filters(obs, &s.filters)?;
    note(
        obs,
        format!(
            "stream: held the {} kept packets of labelled hosts (of {} kept)",
            s.labelled.len(),
            s.filters.packets_out
        ),
    );
    timings.push(("pass 1 (ingest, filter plan)".into(), s.pass_secs[0]));
    timings.push((
        "pass 2 (ingest, kept packets, port transitions)".into(),
        s.pass_secs[1],
    ));
    timings.push(("port graph".into(), s.graph_secs));
    Ok(Staged {
        trace: s.labelled,
        graph: s.graph,
        labels: s.labels,
        filters: s.filters,
        n_packets_in: s.n_packets_in,
        n_hosts_in: s.n_hosts_in,
        n_days: s.n_days,
    })
}

/// Runs the whole pipeline (see the module doc).
///
/// # Errors
/// Every stage's errors; [`PaperAError::EmptyAfter`] when the filters leave nothing,
/// [`PaperAError::TooFewLabelled`] when too few labelled hosts are in the traffic.
pub fn run(input: &Input, cfg: &PaperAConfig, obs: &dyn Observer) -> Result<PaperAResult> {
    cfg.validate()?;
    let mut timings = Vec::new();
    let mut warnings = Warnings::new(obs);
    // With an aggregates directory, the sources the filters keep: the host graphs come from
    // its tables.
    let (staged, from_tables): (Staged, Option<(&std::path::Path, Vec<Ipv4Addr>)>) = match input {
        #[cfg(feature = "parquet")]
        Input::Aggregates { dir, labels } => {
            let (staged, kept) =
                aggregates::stage(dir, labels.as_ref(), cfg, &mut timings, &mut warnings, obs)?;
            (staged, Some((dir.as_path(), kept)))
        }
        #[cfg(not(feature = "parquet"))]
        Input::Aggregates { dir, .. } => {
            return Err(aggregates_unsupported(
                dir,
                "reading aggregates needs darknet-pipelines built with the `parquet` feature",
            ))
        }
        _ if cfg.stream => (
            stage_streaming(input, cfg, &mut timings, &mut warnings, obs)?,
            None,
        ),
        _ => (
            stage_in_memory(input, cfg, &mut timings, &mut warnings, obs)?,
            None,
        ),
    };
    let Staged {
        trace,
        graph,
        labels: ingested_labels,
        filters: filter_report,
        n_packets_in,
        n_hosts_in,
        n_days,
    } = staged;
    let ports = port_stage_from_graph(&graph, timings.pop().map_or(0.0, |t| t.1), cfg, obs)?;
    let n_ports = ports.summary.n_ports;
    // The embedding settings the search's points need besides the run's: the port graph is
    // kept for them.
    let wanted = search::needed_embeddings(cfg, n_ports)?;
    let graph = if wanted.is_empty() {
        drop(graph);
        None
    } else {
        Some(graph)
    };
    note(
        obs,
        format!(
            "port graph: {} ports, {} edges; auto-encoder loss {:.4} after {} epochs",
            ports.summary.n_ports,
            ports.summary.n_edges,
            ports.curve.final_loss().unwrap_or(f64::NAN),
            ports.curve.records.len()
        ),
    );
    timings.extend(ports.timings.iter().cloned());
    let mut clock = Instant::now();
    let mut lap = |name: &str, timings: &mut Vec<(String, f64)>| {
        timings.push((name.to_string(), clock.elapsed().as_secs_f64()));
        clock = Instant::now();
    };
    // The dataset of an embedding table: the run's, and those of the search's settings.
    let host_graphs = |emb: &PortEmbeddings| -> Result<Dataset> {
        let mut data = match &from_tables {
            #[cfg(feature = "parquet")]
            Some((dir, kept)) => {
                aggregates::build_dataset(dir, kept, emb, &ingested_labels, cfg.n_partitions)?
            }
            _ => build_dataset(&trace, emb, &ingested_labels, cfg.n_partitions)?,
        };
        if cfg.stream && from_tables.is_none() {
            // `trace` holds the labelled hosts only: count the hosts of all the kept traffic.
            let r = &mut data.graphs.report;
            let labelled_present = r.n_hosts - r.n_hosts_unlabelled;
            r.n_hosts = filter_report.hosts_out;
            r.n_hosts_unlabelled = r.n_hosts - labelled_present;
        }
        Ok(data)
    };
    let data = host_graphs(&ports.embeddings)?;
    let dr = data.graphs.report.clone();
    note(obs, format!("dataset: {}", describe_dataset(&dr)));
    if dr.n_labels_absent > 0 {
        warnings.push(
            WarningKind::Labels,
            format!(
                "labels of {} hosts absent from the (filtered) traffic ignored",
                dr.n_labels_absent
            ),
        );
    }
    lap("host graphs", &mut timings);
    let mut other_ports = BTreeMap::new();
    let mut other_data = BTreeMap::new();
    if let Some(graph) = graph {
        note_clamped_references(cfg, n_ports, obs);
        note(
            obs,
            format!(
                "search: {} more port embeddings and host-graph sets for the points drawn: {}",
                wanted.len(),
                wanted
                    .iter()
                    .map(|e| format!("({e})"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
        for &setting in &wanted {
            let (p, d) = embedding_variant(&graph, setting, &data, cfg, obs, &host_graphs)?;
            other_ports.insert(setting, p);
            other_data.insert(setting, d);
        }
        lap("search embeddings", &mut timings);
    }
    let sets = SearchData {
        default_setting: EmbeddingSetting::of_config(cfg).clamped(n_ports),
        default: &data,
        others: &other_data,
        n_ports,
    };
    let mut partitions = evaluate_partitions_on(&sets, cfg, obs)?;
    drop(other_data);
    lap("partitions", &mut timings);
    let reports: Vec<MultiLabelReport> = partitions.iter().map(|p| p.gcn_report.clone()).collect();
    let gcn = AggregateReport::from_reports(&reports)?;
    let baseline = if cfg.baseline.is_some() {
        let r: Vec<MultiLabelReport> = partitions
            .iter()
            .filter_map(|p| p.baseline.as_ref().map(|b| b.1.clone()))
            .collect();
        Some(AggregateReport::from_reports(&r)?)
    } else {
        None
    };
    let hybrid = if cfg.hybrid.is_some() {
        let r: Vec<MultiLabelReport> = partitions
            .iter()
            .filter_map(|p| p.hybrid.as_ref().map(|b| b.1.clone()))
            .collect();
        Some(AggregateReport::from_reports(&r)?)
    } else {
        None
    };
    let validated: Vec<Vec<Validated>> = partitions.iter().map(|p| p.validated.clone()).collect();
    let selection = compare::select(&validated, cfg.validation_fraction, cfg.saved_model);
    if let Some(sel) = &selection {
        note(
            obs,
            format!(
                "validation chose {:?} per partition; saving the {} model with per-label thresholds {:?}",
                sel.per_partition.iter().map(|k| k.name()).collect::<Vec<_>>(),
                sel.saved,
                sel.thresholds
            ),
        );
    }
    let truth_all = ndarray::concatenate(
        Axis(0),
        &partitions
            .iter()
            .map(|p| p.truth.view())
            .collect::<Vec<_>>(),
    )
    .map_err(|source| PaperAError::Shape {
        stage: "pooling the partitions' test predictions",
        source,
    })?;
    let scores_all = ndarray::concatenate(
        Axis(0),
        &partitions
            .iter()
            .map(|p| p.gcn_scores.view())
            .collect::<Vec<_>>(),
    )
    .map_err(|source| PaperAError::Shape {
        stage: "pooling the partitions' test predictions",
        source,
    })?;
    let sweep = darknet_eval::sweep(
        truth_all.view(),
        scores_all.view(),
        &darknet_eval::default_grid(),
    )?;
    let calibrated: Option<Vec<_>> = partitions
        .iter()
        .map(|p| p.gcn_calibrated.as_ref().map(|c| c.view()))
        .collect();
    let calibration = match calibrated {
        Some(views) if !views.is_empty() => {
            let cal_all =
                ndarray::concatenate(Axis(0), &views).map_err(|source| PaperAError::Shape {
                    stage: "pooling the partitions' calibrated predictions",
                    source,
                })?;
            Some(CalibrationSummary {
                method: "platt",
                raw: calibration_quality(truth_all.view(), scores_all.view())?,
                calibrated: calibration_quality(truth_all.view(), cal_all.view())?,
                sweep: darknet_eval::sweep(
                    truth_all.view(),
                    cal_all.view(),
                    &darknet_eval::default_grid(),
                )?,
            })
        }
        _ => None,
    };
    let (classifier, final_curve) = if cfg.final_model {
        let (c, curve) = train_final(&data, cfg, obs)?;
        (c, Some(curve))
    } else {
        (partitions[0].classifier.clone(), None)
    };
    let saved = selection.as_ref().map_or(ModelKind::Gcn, |s| s.saved);
    let final_hybrid = match (saved, cfg.final_model) {
        (ModelKind::Hybrid, true) => Some(train_final_hybrid(&data, cfg, obs)?),
        (ModelKind::Hybrid, false) => partitions[0].hybrid_classifier.clone(),
        _ => None,
    };
    let final_mlp = match (saved, cfg.final_model) {
        (ModelKind::Mlp, true) => Some(train_final_mlp(&data, cfg, obs)?),
        (ModelKind::Mlp, false) => partitions[0].mlp.clone(),
        _ => None,
    };
    lap("final model", &mut timings);
    // Partition classifiers are not needed past this point.
    for p in &mut partitions {
        p.classifier = classifier.clone();
        p.hybrid_classifier = None;
        p.mlp = None;
    }
    // Without a final model, partition 0's classifiers are kept: with the embedding they were
    // trained on.
    let (autoencoder, embeddings, reference_ports) =
        match partitions[0].embedding.filter(|_| !cfg.final_model) {
            Some(setting) => {
                let p =
                    other_ports
                        .remove(&setting)
                        .ok_or_else(|| PaperAError::SearchEmbedding {
                            setting: setting.to_string(),
                            reason: "partition 0 chose it but it was not computed".into(),
                        })?;
                note(
                    obs,
                    format!(
                    "the saved model keeps partition 0's classifier and its embedding ({setting})"
                ),
                );
                (p.autoencoder, p.embeddings, p.reference_ports)
            }
            None => (ports.autoencoder, ports.embeddings, ports.reference_ports),
        };
    let search_embeddings: Vec<EmbeddingSetting> = wanted;
    let e = embeddings.dim();
    let model = PaperAModel {
        meta: model::ModelMeta {
            format: model::MODEL_FORMAT,
            kind: "paper_a".into(),
            label_names: data.graphs.label_names.clone(),
            embedding_dim: e,
            n_features: darknet_graph::n_host_features(e),
            reference_ports,
            threshold: cfg.classifier.threshold,
            classifier_kind: if final_hybrid.is_some() {
                ModelKind::Hybrid
            } else if final_mlp.is_some() {
                ModelKind::Mlp
            } else {
                ModelKind::Gcn
            },
            thresholds: selection.as_ref().map(|s| s.thresholds.clone()),
        },
        autoencoder,
        embeddings,
        classifier,
        hybrid: final_hybrid,
        mlp: final_mlp,
    };
    Ok(PaperAResult {
        config: cfg.clone(),
        n_packets_in,
        n_hosts_in,
        n_days,
        labels: ingested_labels.summary.clone(),
        filters: filter_report,
        ports: ports.summary,
        autoencoder_curve: ports.curve,
        dataset: dr,
        label_names: data.graphs.label_names.clone(),
        label_counts: data.graphs.label_counts(),
        partitions,
        gcn,
        baseline,
        hybrid,
        selection,
        sweep,
        calibration,
        model,
        final_curve,
        search_embeddings,
        timings,
        warnings: warnings.list,
    })
}

/// What [`quick_demo`] shows.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QuickDemo {
    /// Packets generated.
    pub n_packets: usize,
    /// Labelled hosts used.
    pub n_labelled_hosts: usize,
    /// Port nodes.
    pub n_ports: usize,
    /// Partitions run.
    pub n_partitions: usize,
    /// GCN sample F1, mean over partitions.
    pub gcn_f1_samples: f64,
    /// Baseline MLP sample F1, mean over partitions.
    pub baseline_f1_samples: f64,
    /// Paper A's reported sample F1 (0.76).
    pub paper_f1_samples: f64,
    /// Seconds.
    pub elapsed_secs: f64,
}

/// Paper A in miniature (a tiny synthetic darknet, small models, 2 of 5 partitions): a few
/// seconds in release.
///
/// # Errors
/// Those of [`run`].
pub fn quick_demo(seed: u64) -> Result<QuickDemo> {
    let start = Instant::now();
    let mut cfg = PaperAConfig::quick(seed);
    cfg.partitions_to_run = 2;
    cfg.final_model = false;
    let r = run(&Input::Synthetic(tiny_synth(seed)), &cfg, &Silent)?;
    let f1 = |a: &AggregateReport| a.f1_samples.mean.unwrap_or(f64::NAN);
    Ok(QuickDemo {
        n_packets: r.n_packets_in,
        n_labelled_hosts: r.dataset.n_used,
        n_ports: r.ports.n_ports,
        n_partitions: r.partitions.len(),
        gcn_f1_samples: f1(&r.gcn),
        baseline_f1_samples: r.baseline.as_ref().map(f1).unwrap_or(f64::NAN),
        paper_f1_samples: 0.76,
        elapsed_secs: start.elapsed().as_secs_f64(),
    })
}
