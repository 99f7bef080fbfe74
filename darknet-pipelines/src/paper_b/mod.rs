//! Paper B end to end: temporal GNN embeddings of darknet hosts judged by kNN (docs/paper-b.md),
//! the library behind the `temporal` example, so a downstream program can call the same steps.
//!
//! ```text
//! ingest (captures + ip,class ground truth, or the synthetic /24 month with its ground truth)
//!  → TCP only, hosts with ≥ 5 packets that day (B1), top-K ports + "other"
//!  → daily bipartite snapshots, 37 node features, global ids, seeded negatives (B2, B3, B9)
//!  → per model variant (GCN, i-GCN, GCN-GRU, i-GCN-GRU, each ± node features):
//!        link-prediction training on its schedule → per-day embeddings of the active hosts
//!  → i-DarkVec: daily per-port sender corpora → incremental word2vec → per-day embeddings
//!  → on each test day (the last 11 of 31, scaled for other lengths): leave-one-out 3-NN,
//!    cosine on standardised embeddings, Unknown as neighbours only, rare classes → Unknown
//!  → per-class F1 mean ± std over test days, macro F1, training time per variant
//! ```
//!
//! **Recurrent state of absent hosts.** Node ids are global over the period, so a host keeps
//! its identity from day to day. A GRU window of H + 1 days is computed for the nodes of the
//! day it trains on or embeds; on a day of the window where such a host is absent it is an
//! isolated node (self-loop only, zero features, or its one-hot id without features), so its
//! hidden state keeps evolving through the GRU with that constant input, exactly as the
//! reference code's global matrices treat it. The GRU starts from h0 = 0 for every window (the
//! reference code never carries state between calls), so nothing older than the window is
//! remembered, and a day embeds only its active hosts: a host absent on day t has no embedding
//! for day t.
//!
//! Where docs/choices.md lists a difference between the paper and the reference code (B1, B2, B5,
//! B6, B7, B10) the paper's reading is the default; [`CodeReadings`] switches each to the code's.
//!
//! Staged use: **fit** with [`run`] (every variant of the configuration; with an
//! [`OutputDir`] each variant is saved under `models/<variant>/` with its node table),
//! **load** with [`PaperBModel::load`], **embed new days** with [`PaperBModel::embed`] (see
//! [`reload`] for hosts and ports never seen in training). The stages [`run`] chains are public
//! too ([`load_input`], [`prepare`], [`train_variant`], [`evaluate_variant`], [`sweep`]), with
//! the files in [`output`] and [`quick_demo`] for a miniature run of a few seconds.
//!
//! Captures → model → saved → loaded → embeddings of new days:
//!
//! ```
//! use darknet_core::{PcapWriter, PcapWriterOptions};
//! use darknet_pipelines::paper_b::{self, Input, ModelKind, OutputDir, PaperBConfig};
//! use darknet_pipelines::paper_b::{PaperBModel, Variant};
//! use darknet_pipelines::Silent;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = std::env::temp_dir().join(format!("paper-b-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! // Four days of a tiny synthetic darknet to train on, then the four days after them.
//! let files = [(0, "train.pcap"), (4, "new.pcap")].map(|(first_day, name)| {
//!     let darknet = paper_b::tiny_synth(1).days(8).hosts(200).build().unwrap();
//!     let file = std::fs::File::create(dir.join(name)).unwrap();
//!     let mut pcap = PcapWriter::new(file, PcapWriterOptions::default()).unwrap();
//!     for p in (first_day..first_day + 4).flat_map(|d| darknet.day(d)) {
//!         pcap.write_packet(&p).unwrap();
//!     }
//!     pcap.finish().unwrap();
//!     Input::Files { paths: vec![dir.join(name)], ground_truth: None }
//! });
//! let mut cfg = PaperBConfig::quick(0);
//! cfg.variants = vec![Variant::new(ModelKind::IGcnGru, true)]; // i-GCN-GRU, node features
//! let out = OutputDir { dir: &dir, embeddings: false };
//! paper_b::run(&files[0], &cfg, Some(out), &[], &Silent)?;
//! let mut model = PaperBModel::load(&dir.join("models/igcngru_features"))?;
//! let new_days = paper_b::load_input(&files[1])?.trace;
//! let embedded = model.embed(&new_days, &Silent)?;
//! assert_eq!(embedded.days.len(), 4);
//! embedded.write_csv(&dir.join("new_embeddings"))?; // <YYYYMMDD>.csv: src_ip,e0,e1,...
//! # std::fs::remove_dir_all(&dir)?; Ok(()) }
//! ```

#[cfg(feature = "parquet")]
pub mod aggregates;
pub mod error;
pub mod output;
pub mod reload;
pub mod tuning;

pub use error::{PaperBError, Result};
pub use reload::{Embedded, EmbeddedDay, NodeTable, PaperBModel, SnapshotSettings};
pub use tuning::{FeatureScaling, HeadChoice, HeadScores, KnnInput, Negatives};

use crate::progress::{Observer, Silent, Stage, Warning, WarningKind, Warnings};

use darknet_core::{day_label, GroundTruth, SynthConfig, Trace};
use darknet_eval::{aggregate_days, evaluate_day, DailyF1, KnnConfig, MeanStd};
use darknet_graph::{
    build_corpora, build_snapshots, DayCorpus, EdgeMode, HostThreshold, SnapshotConfig, SnapshotSet,
};
use darknet_nn::model::temporal::{
    BnInference, DayEmbeddings, DaySnapshot, GruTestWindow, Monitor, TemporalConfig, TemporalKind,
    TemporalModel, TemporalProgress,
};
use darknet_nn::word2vec::code_corpus;
use darknet_nn::{AdamConfig, Word2Vec, Word2VecConfig};
use rayon::prelude::*;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

pub use darknet_core::PaperBClass;

/// Days of the default synthetic darknet (Paper B: December 2021).
pub const DEFAULT_DAYS: u32 = 31;

/// Packet-rate scale of the pipeline's synthetic darknet. The preset's 0.1 leaves most hosts
/// of the low-rate classes (Mirai-like ≈ 30 packets a day, Rapid7 ≈ 21, Onyphe ≈ 14,
/// docs/synthetic.md#paper-b-classes) under Paper B's 5-packet daily threshold, so whole classes
/// would vanish from the evaluation; at 0.5 all 14 classes reach the snapshots (≈ 140 k packets a
/// day).
pub const SYNTH_INTENSITY: f64 = 0.5;

/// The default synthetic darknet: Paper B's preset (a /24, 31 days) at [`SYNTH_INTENSITY`]
/// with `seed`.
pub fn default_synth(seed: u64) -> SynthConfig {
    SynthConfig::paper_b()
        .days(DEFAULT_DAYS)
        .intensity(SYNTH_INTENSITY)
        .seed(seed)
}

/// A tiny synthetic darknet for tests and demos (600 hosts, 8 days, [`SYNTH_INTENSITY`]).
pub fn tiny_synth(seed: u64) -> SynthConfig {
    SynthConfig::paper_b()
        .days(8)
        .hosts(600)
        .intensity(SYNTH_INTENSITY)
        .seed(seed)
}

/// Where the traffic and ground truth come from.
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    /// darknet-core's synthetic darknet (Paper B preset, `ip,class` ground truth).
    Synthetic(SynthConfig),
    /// Capture files or directories, with an optional `ip,class` ground-truth CSV; without one
    /// every host is `unknown` and only embeddings are produced.
    Files {
        /// Capture files or directories (pcap, pcapng, CSV).
        paths: Vec<PathBuf>,
        /// Ground truth `ip,class`.
        ground_truth: Option<PathBuf>,
    },
    /// An aggregates directory: the tables darknet-core's SQL aggregation stage writes
    /// (DataFusion or Spark) from a packet dataset, read instead of the packets by [`run`]
    /// (module `aggregates`, crate feature `parquet`), with an optional ground truth as for
    /// [`Input::Files`]. The GNN variants only: i-DarkVec reads per-packet sender sequences.
    Aggregates {
        /// The directory (one sub-directory of Parquet files per table).
        dir: PathBuf,
        /// Ground truth `ip,class`.
        ground_truth: Option<PathBuf>,
    },
}

impl Default for Input {
    fn default() -> Self {
        Input::Synthetic(default_synth(0))
    }
}

/// An embedding model of Paper B's Table 3, or the i-DarkVec baseline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[non_exhaustive]
pub enum ModelKind {
    /// Static GCN, a fresh model per day.
    Gcn,
    /// Incremental GCN.
    IGcn,
    /// GCN-GRU trained on the training days, then frozen.
    GcnGru,
    /// Incremental GCN-GRU.
    IGcnGru,
    /// i-DarkVec: incremental word2vec on per-port sender sequences.
    IDarkVec,
}

impl ModelKind {
    /// Every model, in the order of Paper B's Table 3 then i-DarkVec.
    pub const ALL: [ModelKind; 5] = [
        ModelKind::Gcn,
        ModelKind::IGcn,
        ModelKind::GcnGru,
        ModelKind::IGcnGru,
        ModelKind::IDarkVec,
    ];

    /// The name used on the command line and in file names (the reference code's spelling):
    /// `gcn`, `igcn`, `gcngru`, `igcngru`, `idarkvec`.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Gcn => "gcn",
            ModelKind::IGcn => "igcn",
            ModelKind::GcnGru => "gcngru",
            ModelKind::IGcnGru => "igcngru",
            ModelKind::IDarkVec => "idarkvec",
        }
    }

    /// Parses [`ModelKind::name`]'s spelling (case-insensitive, `-` and `_` ignored).
    pub fn parse(s: &str) -> Option<Self> {
        let k: String = s
            .chars()
            .filter(|c| *c != '-' && *c != '_')
            .collect::<String>()
            .to_ascii_lowercase();
        ModelKind::ALL.into_iter().find(|m| m.name() == k)
    }

    /// The training schedule of a GNN model; `None` for i-DarkVec.
    pub fn temporal(self) -> Option<TemporalKind> {
        match self {
            ModelKind::Gcn => Some(TemporalKind::Gcn),
            ModelKind::IGcn => Some(TemporalKind::IncrementalGcn),
            ModelKind::GcnGru => Some(TemporalKind::GcnGru),
            ModelKind::IGcnGru => Some(TemporalKind::IncrementalGcnGru),
            ModelKind::IDarkVec => None,
        }
    }

    /// Whether the model uses GRU windows of H + 1 days.
    pub fn is_recurrent(self) -> bool {
        matches!(self, ModelKind::GcnGru | ModelKind::IGcnGru)
    }
}

/// A model with or without node features (i-DarkVec has none).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Variant {
    /// The model.
    pub model: ModelKind,
    /// Node features (`true`) or the identity input (`false`); always `false` for i-DarkVec.
    pub features: bool,
}

impl Variant {
    /// `model` with or without node features (`features` is ignored for i-DarkVec).
    pub fn new(model: ModelKind, features: bool) -> Self {
        Variant {
            model,
            features: features && model != ModelKind::IDarkVec,
        }
    }

    /// The reference code's file-name spelling: `igcngru_features`, `gcn`, `idarkvec`, ...
    pub fn name(&self) -> String {
        if self.features {
            format!("{}_features", self.model.name())
        } else {
            self.model.name().to_string()
        }
    }
}

/// Which inputs the GNN models are trained with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum FeatureChoice {
    /// With node features only.
    On,
    /// Without node features only (identity input).
    Off,
    /// Both, as Paper B's Table 3 (the default).
    #[default]
    Both,
}

impl FeatureChoice {
    /// Parses `on`, `off` or `both`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "on" | "yes" | "true" => Some(FeatureChoice::On),
            "off" | "no" | "false" => Some(FeatureChoice::Off),
            "both" => Some(FeatureChoice::Both),
            _ => None,
        }
    }
}

/// The variants of `models` under `features`, in Table 3 order (without features first),
/// i-DarkVec last and once.
pub fn variants(models: &[ModelKind], features: FeatureChoice) -> Vec<Variant> {
    let mut out = Vec::new();
    let passes: &[bool] = match features {
        FeatureChoice::On => &[true],
        FeatureChoice::Off => &[false],
        FeatureChoice::Both => &[false, true],
    };
    for &f in passes {
        for m in ModelKind::ALL {
            if m != ModelKind::IDarkVec && models.contains(&m) {
                out.push(Variant::new(m, f));
            }
        }
    }
    if models.contains(&ModelKind::IDarkVec) {
        out.push(Variant::new(ModelKind::IDarkVec, false));
    }
    out
}

/// The reference code's readings where it differs from the paper (docs/choices.md); each `false` by
/// default (the paper's reading).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CodeReadings {
    /// B1: keep hosts with **more than** `min_packets` packets a day (code) instead of at least.
    pub packets_more_than: bool,
    /// B2: snapshot edges are the host–port pairs first seen that day weighted by their packets
    /// over the whole period (code) instead of the day's pairs and packets.
    pub first_seen_edges: bool,
    /// B5: the frozen GCN-GRU embeds day t with the H days before t (code) instead of t − H ..= t.
    pub gru_window_before_day: bool,
    /// B6: i-GCN trains on the first day only, then embeds every day with that model (the
    /// code's optimizer detachment) instead of fine-tuning every day.
    pub igcn_first_day_only: bool,
    /// B7: BatchNorm uses batch statistics when embedding (code) instead of running statistics.
    pub bn_batch_stats: bool,
    /// B10: i-DarkVec trains on the code's flattened, de-duplicated 1,000-word chunks instead of
    /// one sentence per port.
    pub flattened_corpus: bool,
    /// Early stopping on training accuracy (code) instead of training loss.
    pub monitor_accuracy: bool,
}

impl CodeReadings {
    /// Every reading of the reference code.
    pub fn all() -> Self {
        CodeReadings {
            packets_more_than: true,
            first_seen_edges: true,
            gru_window_before_day: true,
            igcn_first_day_only: true,
            bn_batch_stats: true,
            flattened_corpus: true,
            monitor_accuracy: true,
        }
    }
}

/// Every setting of the pipeline. Defaults follow docs/paper-b.md (Paper B and its code), except
/// the node-feature scaling and the kNN input, where measured defaults depart from the paper
/// ([`PaperBConfig::paper`] has the paper's).
#[derive(Clone, Debug, PartialEq)]
pub struct PaperBConfig {
    /// The model variants to train, evaluated in this order.
    pub variants: Vec<Variant>,
    /// Per-day packet threshold of a host (5; B1 says how it is compared).
    pub min_packets: u64,
    /// Ports kept as their own node per day (2,500); the rest become "other".
    pub top_k_ports: usize,
    /// The GNN settings (dims 37 → 1024 → 512 → 128, predictor 64, Adam lr 1e-3 and weight
    /// decay 5e-3, 50 epochs with patience 3, incremental epochs 1 with features / 5 without,
    /// H = 5). `kind`, `use_features`, `train_days`, `seed` and the code readings are set per
    /// variant by the pipeline.
    pub temporal: TemporalConfig,
    /// i-DarkVec's word2vec (skip-gram, window 5, 128 dimensions, 1 epoch, 5 negatives, one
    /// reproducible thread).
    pub word2vec: Word2VecConfig,
    /// Test days at the end of the period; `None` = 11 of 31, scaled to the number of days
    /// (at least 1).
    pub test_days: Option<usize>,
    /// Neighbours of the kNN (3).
    pub knn_k: usize,
    /// Classes with at most this many hosts on a test day count as `unknown` that day (10).
    pub rare_class_max_hosts: usize,
    /// Negatives per positive edge (1, B9).
    pub negative_ratio: f64,
    /// Where the reference code differs from the paper.
    pub code: CodeReadings,
    /// Train the static GCN on every day (its embeddings of every day are written), not only
    /// on the test days. A static GCN is a fresh model per day, so the other days do not
    /// change how a test day is trained (each day's initialisation seed follows its position
    /// among the trained days, so figures move within seed noise); `false` (the default) skips
    /// the days no score uses, about a third of the cost for a 31-day month.
    pub static_gcn_all_days: bool,
    /// How the 37 node features reach the GCN ([`FeatureScaling`]; Paper B: daily maximum).
    pub feature_scaling: FeatureScaling,
    /// Which non-edges the link predictor learns against ([`Negatives`]; Paper B: uniform).
    pub negatives: Negatives,
    /// What the kNN judge reads ([`KnnInput`]; Paper B: the embeddings).
    pub knn_input: KnnInput,
    /// An optional supervised head beside the kNN ([`HeadChoice`]; default none).
    pub head: HeadChoice,
    /// Days before a test day the head trains on (7).
    pub head_days: usize,
    /// Seed of every random choice (negatives, initialisations, word2vec).
    pub seed: u64,
}

impl Default for PaperBConfig {
    fn default() -> Self {
        PaperBConfig {
            variants: variants(&ModelKind::ALL, FeatureChoice::Both),
            min_packets: 5,
            top_k_ports: 2500,
            temporal: TemporalConfig::default(),
            word2vec: Word2VecConfig::default(),
            test_days: None,
            knn_k: 3,
            rare_class_max_hosts: 10,
            negative_ratio: 1.0,
            code: CodeReadings::default(),
            static_gcn_all_days: false,
            feature_scaling: FeatureScaling::LogStandardize,
            negatives: Negatives::Uniform,
            knn_input: KnnInput::EmbeddingsAndFeatures,
            head: HeadChoice::None,
            head_days: 7,
            seed: 0,
        }
    }
}

impl PaperBConfig {
    /// Paper B's settings everywhere the defaults depart from them (docs/paper-b.md#defaults-and-the-papers-settings):
    /// node features scaled by their daily maximum only, and the kNN judging the embeddings
    /// alone. The GNN sizes are [`TemporalConfig::default`]'s, the paper's.
    pub fn paper() -> Self {
        PaperBConfig {
            feature_scaling: FeatureScaling::DailyMax,
            knn_input: KnnInput::Embeddings,
            ..PaperBConfig::default()
        }
    }

    /// The defaults with `seed`.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Small models for demos and tests: GCN 64 → 32, embeddings 16, predictor 16, up to 10
    /// epochs, H = 2, word2vec 16 dimensions.
    pub fn quick(seed: u64) -> Self {
        let mut c = PaperBConfig::default().with_seed(seed);
        c.temporal = c
            .temporal
            .gcn_dims(vec![64, 32])
            .emb_dim(16)
            .predictor_hidden(16)
            .max_epochs(10)
            .history(2)
            .adam(AdamConfig::default().learning_rate(1e-2).weight_decay(5e-3));
        c.word2vec = c.word2vec.dim(16);
        c
    }

    /// Checks every setting; the error names the first bad one.
    ///
    /// # Errors
    /// [`PaperBError::InvalidConfig`], or darknet-nn's error for a bad GNN or word2vec setting.
    pub fn validate(&self) -> Result<()> {
        let bad = |field, value: String, reason| {
            Err(PaperBError::InvalidConfig {
                field,
                value,
                reason,
            })
        };
        if self.variants.is_empty() {
            return bad("models", "none".into(), "give at least one model");
        }
        if self.top_k_ports == 0 {
            return bad("top_k_ports", "0".into(), "must be at least 1");
        }
        if self.knn_k == 0 {
            return bad("knn_k", "0".into(), "must be at least 1");
        }
        if self.test_days == Some(0) {
            return bad("test_days", "0".into(), "must be at least 1");
        }
        if self.head != HeadChoice::None && self.head_days == 0 {
            return bad("head_days", "0".into(), "must be at least 1");
        }
        if !(self.negative_ratio.is_finite() && self.negative_ratio > 0.0) {
            return bad(
                "negative_ratio",
                self.negative_ratio.to_string(),
                "must be a finite number > 0",
            );
        }
        let mut t = self.temporal.clone();
        t.train_days = t.history + 1;
        t.validate()?;
        self.word2vec.validate()?;
        Ok(())
    }

    /// The snapshot settings (B1, B2).
    pub fn snapshot_config(&self) -> SnapshotConfig {
        SnapshotConfig::default()
            .host_threshold(if self.code.packets_more_than {
                HostThreshold::MoreThan(self.min_packets)
            } else {
                HostThreshold::AtLeast(self.min_packets)
            })
            .top_k_ports(self.top_k_ports)
            .edge_mode(if self.code.first_seen_edges {
                EdgeMode::FirstSeenTotal
            } else {
                EdgeMode::Daily
            })
    }

    /// Number of test days for `n_days` snapshots: the setting, or 11/31 of the days rounded
    /// (at least 1).
    pub fn n_test_days(&self, n_days: usize) -> usize {
        self.test_days
            .unwrap_or_else(|| ((n_days as f64) * 11.0 / 31.0).round().max(1.0) as usize)
    }

    /// The GNN configuration of `variant` when `n_train` days precede the test days.
    pub fn temporal_for(&self, variant: Variant, n_train: usize) -> Option<TemporalConfig> {
        let kind = variant.model.temporal()?;
        let mut t = self.temporal.clone();
        t.kind = kind;
        t.use_features = variant.features;
        t.train_days = n_train;
        t.seed = self.seed;
        if self.code.bn_batch_stats {
            t.bn_inference = BnInference::BatchStats;
        }
        if self.code.gru_window_before_day {
            t.gru_test_window = GruTestWindow::CodeWindow;
        }
        if self.code.monitor_accuracy {
            t.monitor = Monitor::Accuracy;
        }
        Some(t)
    }
}

/// Traffic and ground truth, read.
#[derive(Clone, Debug)]
pub struct Ingested {
    /// Every packet, time-sorted.
    pub trace: Trace,
    /// `ip,class` rows (may be empty).
    pub truth: GroundTruth,
}

/// Reads the input: generates the synthetic darknet, or reads captures and ground truth.
///
/// # Errors
/// darknet-core's reader errors (file, packet or line, field), [`PaperBError::EmptyAfter`]
/// when the input holds no packet.
pub fn load_input(input: &Input) -> Result<Ingested> {
    let (trace, truth) = match input {
        Input::Synthetic(cfg) => {
            let darknet = cfg.build()?;
            (darknet.trace(), darknet.ground_truth())
        }
        Input::Files {
            paths,
            ground_truth,
        } => {
            let truth = read_truth(ground_truth.as_deref())?;
            (crate::paper_a::read_captures(paths)?, truth)
        }
        Input::Aggregates { dir, .. } => {
            return Err(PaperBError::InvalidConfig {
                field: "input",
                value: dir.display().to_string(),
                reason: "an aggregates directory holds no packets: give captures, or train with \
                         run",
            })
        }
    };
    if trace.is_empty() {
        return Err(PaperBError::EmptyAfter {
            stage: "reading the input",
            detail: "no packet".into(),
        });
    }
    Ok(Ingested { trace, truth })
}

/// The `ip,class` ground truth of a file, or none.
fn read_truth(path: Option<&Path>) -> Result<GroundTruth> {
    Ok(match path {
        Some(p) => {
            let f = std::fs::File::open(p).map_err(error::io_err(p))?;
            darknet_core::label::read_ground_truth(
                std::io::BufReader::new(f),
                &p.display().to_string(),
            )?
        }
        None => GroundTruth::from_pairs(Vec::new()),
    })
}

/// One day's snapshot figures.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DaySummary {
    /// `YYYYMMDD`.
    pub day: String,
    /// Active hosts (above the threshold).
    pub hosts: usize,
    /// Active port nodes (top-K ports seen + "other").
    pub ports: usize,
    /// Host–port edges.
    pub edges: usize,
    /// Packets of the active hosts.
    pub packets: u64,
    /// Active hosts with a known class (before the rare-class rule).
    pub labelled_hosts: usize,
}

/// The snapshots, corpora and labels every variant trains and is judged on.
#[derive(Debug)]
pub struct Prepared {
    /// The snapshots with their global node universe.
    pub set: SnapshotSet,
    /// The model inputs, one per snapshot (same order).
    pub days: Vec<DaySnapshot<f32>>,
    /// The i-DarkVec corpora, one per snapshot (empty when i-DarkVec is not asked for).
    pub corpora: Vec<DayCorpus>,
    /// Class of every global host ([`PaperBClass::Unknown`] without ground truth).
    /// Shape (n_hosts,).
    pub labels: Vec<PaperBClass>,
    /// Snapshot indices of the test days (the last ones).
    pub test_days: Vec<usize>,
    /// Per-day figures.
    pub summary: Vec<DaySummary>,
    /// Everything worth telling the user (skipped days, ground-truth mismatches); each was also
    /// sent to the observer given to [`prepare`].
    pub warnings: Vec<Warning>,
}

impl Prepared {
    /// Number of days before the first test day.
    pub fn n_train(&self) -> usize {
        self.days.len() - self.test_days.len()
    }

    /// `YYYYMMDD` of snapshot `t`.
    pub fn day_label(&self, t: usize) -> String {
        self.set
            .snapshots
            .get(t)
            .map_or_else(|| format!("#{t}"), |s| day_label(s.day))
    }

    /// The classes of the hosts `host_ids` (global ids), `unknown` without ground truth, as
    /// the kNN judge takes them (the reference code's spelling).
    pub fn labels_of(&self, host_ids: &[u32]) -> Vec<String> {
        host_ids
            .iter()
            .map(|&h| {
                self.labels
                    .get(h as usize)
                    .map_or(PaperBClass::UNKNOWN_NAME, PaperBClass::name)
                    .to_string()
            })
            .collect()
    }
}

/// Mixes a seed with a day index (splitmix64 finaliser), so every day draws its own stream.
fn mix(seed: u64, t: u64) -> u64 {
    let mut z = seed ^ t.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Builds the snapshots (and the corpora when a variant needs them), converts them into the
/// encoders' input with seeded negatives, attaches the ground truth and picks the test days.
///
/// # Errors
/// darknet-graph's errors (no day keeps a host), [`PaperBError::TooFewDays`] (fewer than two
/// days, a history longer than the days allow), darknet-nn's shape checks.
pub fn prepare(ing: &Ingested, cfg: &PaperBConfig, obs: &dyn Observer) -> Result<Prepared> {
    cfg.validate()?;
    let scfg = cfg.snapshot_config();
    let set = build_snapshots(&ing.trace, &scfg).map_err(|e| match e {
        darknet_graph::GraphError::Empty { .. } => PaperBError::EmptyAfter {
            stage: "the per-day host threshold",
            detail: format!(
                "no host has {} {} TCP packets on any day ({} packets in the input)",
                if cfg.code.packets_more_than {
                    "more than"
                } else {
                    "at least"
                },
                cfg.min_packets,
                ing.trace.len()
            ),
        },
        other => other.into(),
    })?;
    let all_days: Vec<u32> = ing.trace.days(0).iter().map(|(d, _)| *d).collect();
    prepare_set(set, &all_days, &ing.truth, cfg, obs, &|| {
        build_corpora(&ing.trace, &scfg)
    })
}

/// The part of [`prepare`] after the snapshots: `all_days` are the UTC days of the input with
/// packets, `corpora` builds the i-DarkVec corpora (called only when a variant needs them).
pub(crate) fn prepare_set(
    set: SnapshotSet,
    all_days: &[u32],
    truth: &GroundTruth,
    cfg: &PaperBConfig,
    obs: &dyn Observer,
    corpora: &dyn Fn() -> darknet_graph::Result<Vec<DayCorpus>>,
) -> Result<Prepared> {
    let mut w = Warnings::new(obs);
    // Days of the input without a snapshot.
    let skipped: Vec<String> = all_days
        .iter()
        .filter(|&&d| set.snapshots.binary_search_by_key(&d, |s| s.day).is_err())
        .map(|&d| day_label(d))
        .collect();
    if !skipped.is_empty() {
        w.push(
            WarningKind::TooSmall,
            format!(
                "{} day(s) without any host above the threshold, skipped: {}",
                skipped.len(),
                skipped.join(", ")
            ),
        );
    }
    let n = set.snapshots.len();
    if n < 2 {
        return Err(PaperBError::TooFewDays {
            found: n,
            needed: 2,
            reason: "at least one training day and one test day".into(),
        });
    }
    let n_test = cfg.n_test_days(n);
    if n_test >= n {
        return Err(PaperBError::TooFewDays {
            found: n,
            needed: n_test + 1,
            reason: format!("{n_test} test day(s) and at least one training day"),
        });
    }
    let n_train = n - n_test;
    let h = cfg.temporal.history;
    for v in &cfg.variants {
        if v.model == ModelKind::GcnGru && n_train <= h {
            return Err(PaperBError::TooFewDays {
                found: n_train,
                needed: h + 1,
                reason: format!(
                    "GCN-GRU trains on windows of H + 1 = {} days before the {n_test} test \
                     day(s), and {n_train} of the {n} days with hosts above the threshold \
                     come before them",
                    h + 1
                ),
            });
        }
        if v.model == ModelKind::IGcnGru && n <= h {
            return Err(PaperBError::TooFewDays {
                found: n,
                needed: h + 1,
                reason: format!(
                    "i-GCN-GRU needs a full window of H + 1 = {} days with hosts above the \
                     threshold",
                    h + 1
                ),
            });
        }
    }
    if cfg.variants.iter().any(|v| v.model == ModelKind::IGcnGru) && n_train < h {
        w.push(
            WarningKind::TooSmall,
            format!(
            "i-GCN-GRU embeds from day {} (H = {h}); the first {} test day(s) have no embedding",
            h + 1,
            h - n_train
        ),
        );
    }
    let days: Vec<DaySnapshot<f32>> = set
        .snapshots
        .par_iter()
        .enumerate()
        .map(|(t, s)| -> Result<DaySnapshot<f32>> {
            let adj = s.normalized_adjacency();
            let neg = tuning::sample_negatives(
                s,
                cfg.negatives,
                cfg.negative_ratio,
                mix(cfg.seed, t as u64),
            )?;
            let mut features = s.features.clone();
            tuning::scale_features(&mut features, s.n_hosts, cfg.feature_scaling);
            Ok(DaySnapshot::new(
                s.node_ids.clone(),
                s.n_hosts,
                adj.matrix,
                adj.transpose,
                features,
                s.positive_edges(),
                neg,
            )?)
        })
        .collect::<Result<_>>()?;
    for (t, d) in days.iter().enumerate() {
        if d.positives.is_empty() {
            w.push(
                WarningKind::TooSmall,
                format!(
                    "day {}: no edge to learn from (first-seen edges: every pair seen before)",
                    day_label(set.snapshots[t].day)
                ),
            );
        }
    }
    let corpora = if cfg.variants.iter().any(|v| v.model == ModelKind::IDarkVec) {
        corpora()?
    } else {
        Vec::new()
    };
    // Ground truth.
    let labels: Vec<PaperBClass> = set
        .hosts
        .iter()
        .map(|&a| {
            truth
                .class_of(a)
                .map_or(PaperBClass::Unknown, PaperBClass::parse)
        })
        .collect();
    let mut outside: std::collections::BTreeMap<String, usize> = Default::default();
    let mut absent = 0usize;
    for (ip, c) in truth.rows() {
        if let PaperBClass::Other(c) = PaperBClass::parse(c) {
            *outside.entry(c).or_default() += 1;
        }
        if set.hosts.binary_search(ip).is_err() {
            absent += 1;
        }
    }
    if !outside.is_empty() {
        let list: Vec<String> = outside.iter().map(|(c, k)| format!("{c} ({k})")).collect();
        w.push(
            WarningKind::Labels,
            format!(
                "ground truth: {} class(es) outside Paper B's 14, kept as their own classes: {}",
                outside.len(),
                list.join(", ")
            ),
        );
    }
    if absent > 0 {
        w.push(
            WarningKind::Labels,
            format!(
                "ground truth: {absent} of {} address(es) never above the threshold on any day \
             (not evaluated)",
                truth.len()
            ),
        );
    }
    if truth.is_empty() {
        w.push(
            WarningKind::Labels,
            "no ground truth: every host is unknown, only embeddings are produced".into(),
        );
    }
    let summary = set
        .snapshots
        .iter()
        .map(|s| DaySummary {
            day: day_label(s.day),
            hosts: s.n_hosts,
            ports: s.n_ports(),
            edges: s.edges.len(),
            packets: s.edges.iter().map(|e| e.packets).sum(),
            labelled_hosts: s.node_ids[..s.n_hosts]
                .iter()
                .filter(|&&h| !labels[h as usize].is_unknown())
                .count(),
        })
        .collect();
    Ok(Prepared {
        set,
        days,
        corpora,
        labels,
        test_days: (n_train..n).collect(),
        summary,
        warnings: w.list,
    })
}

/// A trained embedding model of either family.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum TrainedModel {
    /// A GNN encoder with its edge predictor.
    Gnn(TemporalModel),
    /// i-DarkVec's word2vec (words = source addresses as `u32`).
    Word2Vec(Box<Word2Vec<u32>>),
}

/// What training one variant produced.
#[derive(Clone, Debug)]
pub struct VariantRun {
    /// The variant.
    pub variant: Variant,
    /// Per snapshot: the day's host embeddings (global host ids), or `None` where the schedule
    /// gives none (days before a full GRU history).
    pub embeddings: Vec<Option<DayEmbeddings>>,
    /// Training loss of every optimizer step (GNN) or word2vec call; `(day index, epoch, loss)`.
    pub curve: Vec<(usize, usize, f64)>,
    /// Seconds spent training.
    pub train_secs: f64,
    /// Seconds spent extracting embeddings.
    pub embed_secs: f64,
    /// The final model.
    pub model: TrainedModel,
    /// The GNN configuration used (`None` for i-DarkVec).
    pub config: Option<TemporalConfig>,
}

impl VariantRun {
    /// The embeddings of snapshot `t`.
    ///
    /// # Errors
    /// [`PaperBError::NoEmbeddings`] when the day has none (beyond the period, before a full
    /// GRU history, or no active host).
    pub fn day(&self, prep: &Prepared, t: usize) -> Result<&DayEmbeddings> {
        let reason = if t >= self.embeddings.len() {
            "no snapshot for that day"
        } else {
            "the schedule gives none for that day (no full history, or no active host)"
        };
        self.embeddings
            .get(t)
            .and_then(Option::as_ref)
            .filter(|e| !e.host_ids.is_empty())
            .ok_or_else(|| PaperBError::NoEmbeddings {
                day: prep.day_label(t),
                reason: reason.into(),
            })
    }
}

/// Trains `variant` on every day of `prep` with its schedule and embeds each day's active
/// hosts. `on_step(day index, loss)` is called after every optimizer step or word2vec call.
///
/// # Errors
/// darknet-nn's errors (invalid settings, a NaN loss naming the step).
pub fn train_variant(
    prep: &Prepared,
    variant: Variant,
    cfg: &PaperBConfig,
    on_step: &mut dyn FnMut(usize, f64),
) -> Result<VariantRun> {
    if variant.model == ModelKind::IDarkVec {
        return train_idarkvec(prep, cfg, on_step);
    }
    let tcfg = cfg
        .temporal_for(variant, prep.n_train())
        .ok_or(PaperBError::InvalidConfig {
            field: "models",
            value: variant.name(),
            reason: "not a GNN model",
        })?
        .n_nodes(prep.set.n_nodes());
    let mut curve = Vec::new();
    let mut record = |p: &TemporalProgress| {
        curve.push((p.day, p.epoch, p.loss));
        on_step(p.day, p.loss);
    };
    if variant.model == ModelKind::IGcn && cfg.code.igcn_first_day_only {
        // B6, the code's reading: only the first day's `fit` updates the weights.
        let r = tcfg.fit(&prep.days[..1], &mut record)?;
        let mut model = r.model;
        let t0 = Instant::now();
        let mut embeddings = Vec::with_capacity(prep.days.len());
        for d in &prep.days {
            embeddings.push(Some(model.embed(
                &[d],
                variant.features,
                tcfg.bn_inference,
            )?));
        }
        return Ok(VariantRun {
            variant,
            embeddings,
            curve,
            train_secs: r.train_secs,
            embed_secs: t0.elapsed().as_secs_f64(),
            model: TrainedModel::Gnn(model),
            config: Some(tcfg),
        });
    }
    if variant.model == ModelKind::Gcn && !cfg.static_gcn_all_days {
        // Fresh model per day: train and embed the test days only.
        let first = prep.n_train();
        let mut shifted = |p: &TemporalProgress| {
            let mut q = *p;
            q.day += first;
            record(&q);
        };
        let r = tcfg.fit(&prep.days[first..], &mut shifted)?;
        let mut embeddings = vec![None; first];
        embeddings.extend(r.embeddings);
        return Ok(VariantRun {
            variant,
            embeddings,
            curve,
            train_secs: r.train_secs,
            embed_secs: r.embed_secs,
            model: TrainedModel::Gnn(r.model),
            config: Some(tcfg),
        });
    }
    let r = tcfg.fit(&prep.days, &mut record)?;
    Ok(VariantRun {
        variant,
        embeddings: r.embeddings,
        curve,
        train_secs: r.train_secs,
        embed_secs: r.embed_secs,
        model: TrainedModel::Gnn(r.model),
        config: Some(tcfg),
    })
}

/// i-DarkVec: word2vec trained on the first day's corpus, updated with each later day's; a
/// day's embeddings are its active hosts' vectors after that day's update.
fn train_idarkvec(
    prep: &Prepared,
    cfg: &PaperBConfig,
    on_step: &mut dyn FnMut(usize, f64),
) -> Result<VariantRun> {
    if prep.corpora.len() != prep.days.len() {
        return Err(PaperBError::InvalidConfig {
            field: "models",
            value: "idarkvec".into(),
            reason: "the corpora were not prepared (prepare with i-DarkVec among the models)",
        });
    }
    let w2v = cfg.word2vec.clone().seed(cfg.seed);
    let mut model: Option<Word2Vec<u32>> = None;
    let mut embeddings = Vec::with_capacity(prep.days.len());
    let (mut train_secs, mut embed_secs) = (0.0, 0.0);
    let mut curve = Vec::new();
    for (t, (corpus, day)) in prep.corpora.iter().zip(&prep.days).enumerate() {
        let t0 = Instant::now();
        let flattened;
        let sentences: &[Vec<u32>] = if cfg.code.flattened_corpus {
            flattened = code_corpus(&corpus.senders, 1000);
            &flattened
        } else {
            corpus.sentences()
        };
        match model.as_mut() {
            None => model = Some(w2v.train(sentences)?),
            Some(m) => {
                m.update(sentences)?;
            }
        }
        train_secs += t0.elapsed().as_secs_f64();
        on_step(t, 0.0);
        curve.push((t, 0, f64::NAN));
        let t1 = Instant::now();
        let m = model.as_ref().ok_or(PaperBError::EmptyAfter {
            stage: "word2vec",
            detail: "no model".into(),
        })?;
        let hosts = day.host_ids().to_vec();
        let mut e = ndarray::Array2::<f32>::zeros((hosts.len(), m.dim()));
        for (r, &h) in hosts.iter().enumerate() {
            let addr = u32::from(prep.set.hosts[h as usize]);
            if let Some(v) = m.vector(&addr) {
                e.row_mut(r).assign(&v);
            }
        }
        embeddings.push(Some(DayEmbeddings {
            host_ids: hosts,
            embeddings: e,
        }));
        embed_secs += t1.elapsed().as_secs_f64();
    }
    let model = model.ok_or(PaperBError::EmptyAfter {
        stage: "word2vec",
        detail: "no day".into(),
    })?;
    Ok(VariantRun {
        variant: Variant::new(ModelKind::IDarkVec, false),
        embeddings,
        curve,
        train_secs,
        embed_secs,
        model: TrainedModel::Word2Vec(Box::new(model)),
        config: None,
    })
}

/// One variant judged by the kNN protocol.
#[derive(Clone, Debug, Serialize)]
pub struct VariantScores {
    /// Per-class F1 mean ± std over the evaluated test days, macro F1.
    pub daily: DailyF1,
    /// Macro F1 of every evaluated test day: (`YYYYMMDD`, F1).
    pub per_day_macro: Vec<(String, f64)>,
    /// Macro F1 mean ± std (a copy of `daily.macro_f1`).
    pub macro_f1: MeanStd,
}

/// Judges `run` on the test days (docs/paper-b.md#knn-protocol, docs/choices.md#b8): per day,
/// leave-one-out k-NN among the day's active hosts with cosine distance on standardised embeddings,
/// Unknown hosts as neighbours only, classes with ≤ `rare_class_max_hosts` hosts that day as
/// Unknown, ties to the smallest class name; then per-class F1 mean ± std over days and macro F1.
///
/// Returns `None` (and a warning) when no test day has a host of a known class; days without
/// embeddings or without a known class are skipped with a warning.
///
/// # Errors
/// darknet-eval's errors (non-finite embeddings).
pub fn evaluate_variant(
    prep: &Prepared,
    run: &VariantRun,
    cfg: &PaperBConfig,
    warnings: &mut Warnings<'_>,
) -> Result<Option<VariantScores>> {
    let knn = KnnConfig::default().k(cfg.knn_k);
    let mut reports = Vec::new();
    let mut per_day = Vec::new();
    let mut skipped = Vec::new();
    for &t in &prep.test_days {
        let Ok(e) = run.day(prep, t) else {
            skipped.push(format!("{} (no embedding)", prep.day_label(t)));
            continue;
        };
        let labels = prep.labels_of(&e.host_ids);
        let x = tuning::judge_rows(prep, t, run, cfg.knn_input)?;
        match evaluate_day(x.view(), &labels, knn, cfg.rare_class_max_hosts) {
            Ok(r) => {
                per_day.push((prep.day_label(t), r.macro_avg.f1));
                reports.push(r);
            }
            Err(darknet_eval::EvalError::Empty { .. }) => {
                skipped.push(format!(
                    "{} (no class with enough hosts)",
                    prep.day_label(t)
                ));
            }
            Err(e) => return Err(e.into()),
        }
    }
    warn_skipped_days(warnings, &run.variant.name(), &skipped);
    if reports.is_empty() {
        return Ok(None);
    }
    let daily = aggregate_days(&reports)?;
    Ok(Some(VariantScores {
        macro_f1: daily.macro_f1,
        daily,
        per_day_macro: per_day,
    }))
}

/// One variant's outcome in a [`PaperBResult`] (embeddings and model are written and dropped
/// as each variant finishes, so memory holds one variant at a time).
#[derive(Clone, Debug, Serialize)]
pub struct VariantResult {
    /// The variant.
    pub variant: Variant,
    /// [`Variant::name`].
    pub name: String,
    /// kNN scores, `None` when nothing could be evaluated.
    pub scores: Option<VariantScores>,
    /// The supervised head's scores ([`PaperBConfig::head`]), `None` without a head or when
    /// nothing could be evaluated.
    pub head: Option<HeadScores>,
    /// Seconds spent training.
    pub train_secs: f64,
    /// Seconds spent extracting embeddings.
    pub embed_secs: f64,
    /// First and last training loss (GNN models).
    pub loss_first_last: Option<(f64, f64)>,
    /// Training loss of every step `(day index, epoch, loss)`.
    #[serde(skip)]
    pub curve: Vec<(usize, usize, f64)>,
}

/// What a parameter sweep varies (Paper B's Figure 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum SweepParam {
    /// The history H of i-GCN-GRU with features (Figure 4a).
    History,
    /// The incremental epochs per snapshot of i-GCN-GRU with features (Figure 4b).
    Epochs,
}

impl SweepParam {
    /// `history` or `epochs`.
    pub fn name(self) -> &'static str {
        match self {
            SweepParam::History => "history",
            SweepParam::Epochs => "epochs",
        }
    }

    /// The values of Paper B's Figure 4: H = 0..=8, epochs 1, 5, 10, ..., 30.
    pub fn paper_values(self) -> Vec<usize> {
        match self {
            SweepParam::History => (0..=8).collect(),
            SweepParam::Epochs => vec![1, 5, 10, 15, 20, 25, 30],
        }
    }
}

/// One point of a sweep.
#[derive(Clone, Debug, Serialize)]
pub struct SweepPoint {
    /// The parameter's value.
    pub value: usize,
    /// Macro F1 mean ± std over the test days.
    pub macro_f1: MeanStd,
    /// Seconds spent training.
    pub train_secs: f64,
}

/// Trains i-GCN-GRU with node features for every value of `param` and scores each by the kNN
/// protocol (Paper B's Figure 4). Values whose history does not fit the days are skipped with
/// a warning.
///
/// # Errors
/// As [`train_variant`] and [`evaluate_variant`].
pub fn sweep(
    prep: &Prepared,
    cfg: &PaperBConfig,
    param: SweepParam,
    values: &[usize],
    warnings: &mut Warnings<'_>,
    on_point: &mut dyn FnMut(usize),
) -> Result<Vec<SweepPoint>> {
    let mut out = Vec::new();
    for &v in values {
        let mut c = cfg.clone();
        match param {
            SweepParam::History => {
                if v >= prep.days.len() {
                    warnings.push(
                        WarningKind::Setting,
                        format!("history sweep: H = {v} needs {} days, skipped", v + 1),
                    );
                    continue;
                }
                c.temporal.history = v;
            }
            SweepParam::Epochs => {
                if v == 0 {
                    warnings.push(
                        WarningKind::Setting,
                        "epochs sweep: 0 epochs skipped".into(),
                    );
                    continue;
                }
                c.temporal.incremental_epochs = Some(v);
            }
        }
        let run = train_variant(
            prep,
            Variant::new(ModelKind::IGcnGru, true),
            &c,
            &mut |_, _| {},
        )?;
        let scores = evaluate_variant(prep, &run, &c, warnings)?;
        out.push(SweepPoint {
            value: v,
            macro_f1: scores.map_or(
                MeanStd {
                    mean: None,
                    std: None,
                    n: 0,
                },
                |s| s.macro_f1,
            ),
            train_secs: run.train_secs,
        });
        on_point(v);
    }
    Ok(out)
}

/// The outcome of [`run`].
#[derive(Clone, Debug, Serialize)]
pub struct PaperBResult {
    /// Per-day snapshot figures.
    pub days: Vec<DaySummary>,
    /// `YYYYMMDD` of the test days.
    pub test_days: Vec<String>,
    /// Global hosts and ports of the period.
    pub n_hosts: usize,
    /// Global port nodes.
    pub n_ports: usize,
    /// GCN layer sizes and embedding size of the GNN variants.
    pub gcn_dims: Vec<usize>,
    /// Embedding size of the GNN variants.
    pub emb_dim: usize,
    /// History H of the GRU variants.
    pub history: usize,
    /// The settings beyond Paper B's protocol this run used.
    pub settings: tuning::Settings,
    /// Every variant, in configuration order.
    pub variants: Vec<VariantResult>,
    /// The sweeps that were asked for.
    pub sweeps: Vec<(SweepParam, Vec<SweepPoint>)>,
    /// Seconds per stage: (stage, seconds).
    pub stage_secs: Vec<(String, f64)>,
    /// Everything worth telling the user; each was also sent to the observer as it happened.
    pub warnings: Vec<Warning>,
}

/// Where [`run`] writes as it goes.
#[derive(Clone, Copy, Debug)]
pub struct OutputDir<'a> {
    /// The directory (`days.csv`, `models/`, `embeddings/`).
    pub dir: &'a Path,
    /// Write the per-day embedding CSVs (they are the largest output).
    pub embeddings: bool,
}

/// Runs the whole pipeline: reads the input, prepares the days, trains and evaluates every
/// variant, then runs the `sweeps` (`(parameter, values)`, Paper B's Figure 4; empty for none).
/// With `out`, writes each variant's embeddings and model there as soon as it is done (see
/// [`output`]) and then drops them. Progress goes to `obs`: a stage per step, one per variant
/// (a step per day) and one per sweep (a step per value).
///
/// # Errors
/// The errors of the stages.
pub fn run(
    input: &Input,
    cfg: &PaperBConfig,
    out: Option<OutputDir<'_>>,
    sweeps: &[(SweepParam, Vec<usize>)],
    obs: &dyn Observer,
) -> Result<PaperBResult> {
    cfg.validate()?;
    let mut stage_secs = Vec::new();
    let t0 = Instant::now();
    let prep = match input {
        #[cfg(feature = "parquet")]
        Input::Aggregates { dir, ground_truth } => {
            let stage = Stage::start(obs, "snapshots", 0);
            let truth = read_truth(ground_truth.as_deref())?;
            let prep = aggregates::prepare(dir, &truth, cfg, obs)?;
            drop(stage);
            stage_secs.push(("snapshots".to_string(), t0.elapsed().as_secs_f64()));
            prep
        }
        #[cfg(not(feature = "parquet"))]
        Input::Aggregates { dir, .. } => {
            return Err(PaperBError::InvalidConfig {
                field: "input",
                value: dir.display().to_string(),
                reason: "reading aggregates needs darknet-pipelines built with the `parquet` \
                         feature",
            })
        }
        _ => {
            let stage = Stage::start(obs, "ingest", 0);
            let ing = load_input(input)?;
            drop(stage);
            stage_secs.push(("ingest".to_string(), t0.elapsed().as_secs_f64()));
            let t1 = Instant::now();
            let stage = Stage::start(obs, "snapshots", 0);
            let prep = prepare(&ing, cfg, obs)?;
            drop(stage);
            drop(ing);
            stage_secs.push(("snapshots".to_string(), t1.elapsed().as_secs_f64()));
            prep
        }
    };
    let mut warnings = Warnings::new(obs);
    warnings.list.clone_from(&prep.warnings);
    if let Some(o) = out {
        output::write_days(o.dir, &prep)?;
    }
    let mut variants = Vec::new();
    for &v in &cfg.variants {
        let stage = Stage::start(obs, &v.name(), prep.days.len() as u64);
        let mut last = 0;
        let run = train_variant(&prep, v, cfg, &mut |t, _| {
            stage.advance((t + 1).saturating_sub(last) as u64);
            last = last.max(t + 1);
        })?;
        let scores = evaluate_variant(&prep, &run, cfg, &mut warnings)?;
        let head = match cfg.head {
            HeadChoice::None => None,
            HeadChoice::Mlp => tuning::evaluate_head(&prep, &run, cfg, &mut warnings)?,
        };
        if let Some(o) = out {
            if o.embeddings {
                output::write_embeddings(o.dir, &prep, &run)?;
            }
            output::save_model(o.dir, &prep, &run, cfg)?;
        }
        let losses: Vec<f64> = run
            .curve
            .iter()
            .map(|c| c.2)
            .filter(|l| l.is_finite())
            .collect();
        variants.push(VariantResult {
            variant: v,
            name: v.name(),
            scores,
            head,
            train_secs: run.train_secs,
            embed_secs: run.embed_secs,
            loss_first_last: losses.first().zip(losses.last()).map(|(a, b)| (*a, *b)),
            curve: run.curve,
        });
        drop(stage);
    }
    let mut done_sweeps = Vec::new();
    for (param, values) in sweeps {
        let stage = Stage::start(obs, &format!("{} sweep", param.name()), values.len() as u64);
        let t = Instant::now();
        let pts = sweep(&prep, cfg, *param, values, &mut warnings, &mut |_| {
            stage.advance(1)
        })?;
        drop(stage);
        stage_secs.push((format!("{} sweep", param.name()), t.elapsed().as_secs_f64()));
        done_sweeps.push((*param, pts));
    }
    Ok(PaperBResult {
        days: prep.summary.clone(),
        test_days: prep.test_days.iter().map(|&t| prep.day_label(t)).collect(),
        n_hosts: prep.set.n_hosts(),
        n_ports: prep.set.ports.len(),
        gcn_dims: cfg.temporal.gcn_dims.clone(),
        emb_dim: cfg.temporal.emb_dim,
        history: cfg.temporal.history,
        settings: tuning::Settings::of(cfg),
        variants,
        sweeps: done_sweeps,
        stage_secs,
        warnings: warnings.list,
    })
}

/// A miniature Paper B run for `quickstart`: a tiny synthetic darknet, i-GCN-GRU with features
/// and i-DarkVec with small sizes.
#[derive(Clone, Debug)]
pub struct QuickDemo {
    /// The result.
    pub result: PaperBResult,
    /// Seconds in all.
    pub secs: f64,
}

/// Runs [`QuickDemo`]: [`tiny_synth`] with `seed`, [`PaperBConfig::quick`], i-GCN-GRU with
/// features, i-GCN with features and i-DarkVec.
///
/// # Errors
/// As [`run`].
pub fn quick_demo(seed: u64) -> Result<QuickDemo> {
    let t = Instant::now();
    let mut cfg = PaperBConfig::quick(seed);
    cfg.variants = vec![
        Variant::new(ModelKind::IGcn, true),
        Variant::new(ModelKind::IGcnGru, true),
        Variant::new(ModelKind::IDarkVec, false),
    ];
    let result = run(
        &Input::Synthetic(tiny_synth(seed)),
        &cfg,
        None,
        &[],
        &Silent,
    )?;
    Ok(QuickDemo {
        result,
        secs: t.elapsed().as_secs_f64(),
    })
}

/// Warns that the test days `skipped` of `who` (a variant, or its head) were not evaluated.
pub(crate) fn warn_skipped_days(warnings: &mut Warnings<'_>, who: &str, skipped: &[String]) {
    if !skipped.is_empty() {
        warnings.push(
            WarningKind::TooSmall,
            format!(
                "{who}: {} test day(s) not evaluated: {}",
                skipped.len(),
                skipped.join(", ")
            ),
        );
    }
}
