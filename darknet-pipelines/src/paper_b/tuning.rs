//! Settings beyond Paper B's protocol that change how embeddings are learnt and read, measured
//! in BENCHMARKS.md's Paper B ablation (docs/paper-b.md#defaults-and-the-papers-settings):
//!
//! - [`FeatureScaling`]: how the 37 node features reach the GCN. Snapshots divide every column
//!   by that day's maximum (Paper B); counts of a few heavy hosts then squash everyone else's
//!   towards 0. `Standardize` centres and scales each column per day and layer (hosts, ports);
//!   `LogStandardize` compresses the counts with `ln(1 + 10⁴·x)` first.
//! - [`Negatives`]: which non-edges the link predictor learns against. `Uniform` (Paper B: host
//!   and port uniform among the day's nodes with an edge); `DegreeWeighted` (ports drawn by
//!   degree^0.75, so popular ports are negatives as often as positives); `SameDayHard` (half of
//!   them ports of a host sharing a port with the source host that day, half uniform).
//! - [`KnnInput`]: what the kNN judge (and the head) reads: the embeddings (Paper B), or the
//!   embeddings joined with the host's log-compressed, standardised node features of the day.
//! - [`HeadChoice`]: an optional supervised classifier (a small MLP) trained on the labelled
//!   hosts' embeddings of the days before each test day, reported beside the kNN.
//!
//! Every transform uses one day's own nodes only, so a saved model embeds new days exactly as
//! it saw training days.

use super::error::{PaperBError, Result};
use super::{mix, Prepared, VariantRun, VariantScores};
use crate::progress::Warnings;
use darknet_eval::{
    aggregate_days, classification_report, rare_to_unknown, standardize, ClassificationReport,
};
use darknet_graph::Snapshot;
use darknet_nn::model::MlpConfig;
use darknet_nn::TrainConfig;
use ndarray::{concatenate, Array2, Axis, Slice};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// How the node features reach the GCN (module doc).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FeatureScaling {
    /// Each column divided by its daily maximum over the layer (Paper B; the snapshots' own).
    #[default]
    DailyMax,
    /// Then standardised per day and layer (mean 0, population std 1; constant columns 0).
    Standardize,
    /// `ln(1 + 10⁴·x)` of the max-scaled value, then standardised per day and layer.
    LogStandardize,
}

impl FeatureScaling {
    /// Every choice.
    pub const ALL: [FeatureScaling; 3] = [
        FeatureScaling::DailyMax,
        FeatureScaling::Standardize,
        FeatureScaling::LogStandardize,
    ];

    /// `max`, `standardize` or `log-standardize`.
    pub fn name(self) -> &'static str {
        match self {
            FeatureScaling::DailyMax => "max",
            FeatureScaling::Standardize => "standardize",
            FeatureScaling::LogStandardize => "log-standardize",
        }
    }

    /// Parses [`FeatureScaling::name`] (`none` and `paper` mean `max`, `log` means
    /// `log-standardize`).
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "max" | "none" | "paper" => Some(FeatureScaling::DailyMax),
            "standardize" | "std" => Some(FeatureScaling::Standardize),
            "log-standardize" | "log" | "log1p" => Some(FeatureScaling::LogStandardize),
            _ => None,
        }
    }
}

/// Scale of the log compression: `ln(1 + LOG_SCALE·x)` of a max-scaled value `x ∈ [0, 1]`.
pub const LOG_SCALE: f32 = 1e4;

/// Applies `scaling` to the features of one day, in place: rows `0..n_hosts` (hosts) and the
/// rest (ports) are scaled apart. Shape of `x`: (n_nodes, 37).
pub fn scale_features(x: &mut Array2<f32>, n_hosts: usize, scaling: FeatureScaling) {
    if scaling == FeatureScaling::DailyMax {
        return;
    }
    let n = x.nrows();
    for (lo, hi) in [(0, n_hosts.min(n)), (n_hosts.min(n), n)] {
        if hi <= lo {
            continue;
        }
        let mut block = x.slice_axis_mut(Axis(0), Slice::from(lo..hi));
        if scaling == FeatureScaling::LogStandardize {
            block.mapv_inplace(|v| (v.max(0.0) * LOG_SCALE).ln_1p());
        }
        for mut col in block.columns_mut() {
            let m = col.len() as f64;
            let mean = col.iter().map(|&v| f64::from(v)).sum::<f64>() / m;
            let var = col
                .iter()
                .map(|&v| (f64::from(v) - mean).powi(2))
                .sum::<f64>()
                / m;
            let sd = var.sqrt();
            col.mapv_inplace(|v| {
                if sd > 1e-9 {
                    ((f64::from(v) - mean) / sd) as f32
                } else {
                    0.0
                }
            });
        }
    }
}

/// Which non-edges the link predictor learns against (module doc).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Negatives {
    /// Host and port uniform among the day's nodes with an edge (Paper B, B9).
    #[default]
    Uniform,
    /// Host uniform, port drawn with probability ∝ its degree^0.75 that day.
    DegreeWeighted,
    /// Half "hard": for a random edge (h, p), a port of another host on p that h did not
    /// probe; half uniform.
    SameDayHard,
}

impl Negatives {
    /// Every choice.
    pub const ALL: [Negatives; 3] = [
        Negatives::Uniform,
        Negatives::DegreeWeighted,
        Negatives::SameDayHard,
    ];

    /// `uniform`, `degree` or `hard`.
    pub fn name(self) -> &'static str {
        match self {
            Negatives::Uniform => "uniform",
            Negatives::DegreeWeighted => "degree",
            Negatives::SameDayHard => "hard",
        }
    }

    /// Parses [`Negatives::name`] (`degree-weighted`, `same-day-hard` too).
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "uniform" | "paper" => Some(Negatives::Uniform),
            "degree" | "degree-weighted" => Some(Negatives::DegreeWeighted),
            "hard" | "same-day-hard" => Some(Negatives::SameDayHard),
            _ => None,
        }
    }
}

/// Seeded negatives of one snapshot: `ratio × n_edges` distinct non-edge `(host row, port row)`
/// pairs (fewer when the graph is nearly complete). `Uniform` is darknet-graph's sampler (B9).
/// Same seed, same pairs.
///
/// # Errors
/// darknet-graph's error for a bad ratio.
pub fn sample_negatives(
    s: &Snapshot,
    mode: Negatives,
    ratio: f64,
    seed: u64,
) -> Result<Vec<(u32, u32)>> {
    if mode == Negatives::Uniform {
        return Ok(s.sample_negatives(ratio, seed)?);
    }
    if !(ratio.is_finite() && ratio >= 0.0) {
        return Ok(s.sample_negatives(ratio, seed)?);
    }
    let edges = s.edges();
    let mut hosts: Vec<u32> = edges.iter().map(|e| e.host).collect();
    hosts.dedup();
    let mut ports: Vec<u32> = edges.iter().map(|e| e.port).collect();
    ports.sort_unstable();
    ports.dedup();
    let positives: HashSet<(u32, u32)> = edges.iter().map(|e| (e.host, e.port)).collect();
    let available = hosts.len() as u64 * ports.len() as u64 - positives.len() as u64;
    let want = ((edges.len() as f64 * ratio).round() as u64).min(available) as usize;
    if want == 0 {
        return Ok(Vec::new());
    }
    if (want as u64) * 2 > available {
        // Nearly complete graph: the uniform sampler enumerates the non-edges.
        return Ok(s.sample_negatives(ratio, seed)?);
    }
    // Port degrees; edges per port and ports per host (edges are sorted by host).
    let pidx = |p: u32| ports.binary_search(&p).unwrap_or(0);
    let mut deg = vec![0usize; ports.len()];
    let mut by_port: Vec<Vec<u32>> = vec![Vec::new(); ports.len()];
    for e in edges {
        deg[pidx(e.port)] += 1;
        by_port[pidx(e.port)].push(e.host);
    }
    let mut cum = Vec::with_capacity(ports.len());
    let mut acc = 0f64;
    for &d in &deg {
        acc += (d as f64).powf(0.75);
        cum.push(acc);
    }
    let host_ports = |h: u32| -> &[darknet_graph::SnapshotEdge] {
        let lo = edges.partition_point(|e| e.host < h);
        let hi = edges.partition_point(|e| e.host <= h);
        &edges[lo..hi]
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut chosen = HashSet::with_capacity(want);
    let mut out = Vec::with_capacity(want);
    let mut tries = 0usize;
    while out.len() < want {
        tries += 1;
        let uniform_fallback = tries > 50 * want;
        let pair = if uniform_fallback {
            (
                hosts[rng.random_range(0..hosts.len())],
                ports[rng.random_range(0..ports.len())],
            )
        } else {
            match mode {
                Negatives::DegreeWeighted => {
                    let u = rng.random::<f64>() * acc;
                    let j = cum.partition_point(|&c| c <= u).min(ports.len() - 1);
                    (hosts[rng.random_range(0..hosts.len())], ports[j])
                }
                _ => {
                    if rng.random::<bool>() {
                        (
                            hosts[rng.random_range(0..hosts.len())],
                            ports[rng.random_range(0..ports.len())],
                        )
                    } else {
                        let e = edges[rng.random_range(0..edges.len())];
                        let on_port = &by_port[pidx(e.port)];
                        let other = on_port[rng.random_range(0..on_port.len())];
                        let theirs = host_ports(other);
                        (e.host, theirs[rng.random_range(0..theirs.len())].port)
                    }
                }
            }
        };
        if !positives.contains(&pair) && chosen.insert(pair) {
            out.push(pair);
        }
    }
    Ok(out)
}

/// What the kNN judge and the head read (module doc).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KnnInput {
    /// The embeddings (Paper B).
    #[default]
    Embeddings,
    /// The embeddings joined with the host's node features of the day
    /// ([`FeatureScaling::LogStandardize`]), for the variants with node features; variants
    /// without node features (i-DarkVec included) keep their embeddings alone.
    EmbeddingsAndFeatures,
    /// The same join for every variant, i-DarkVec and the variants without node features
    /// included (to compare embeddings on equal terms).
    JoinedAll,
    /// The host's standardised node features alone, no embedding (a reference: what the
    /// features say without any model).
    FeaturesOnly,
}

impl KnnInput {
    /// `embeddings`, `joined`, `joined-all` or `features`.
    pub fn name(self) -> &'static str {
        match self {
            KnnInput::Embeddings => "embeddings",
            KnnInput::EmbeddingsAndFeatures => "joined",
            KnnInput::JoinedAll => "joined-all",
            KnnInput::FeaturesOnly => "features",
        }
    }

    /// Parses [`KnnInput::name`] (`embeddings+features` too).
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "embeddings" | "paper" => Some(KnnInput::Embeddings),
            "joined" | "embeddings+features" => Some(KnnInput::EmbeddingsAndFeatures),
            "joined-all" => Some(KnnInput::JoinedAll),
            "features" | "features-only" => Some(KnnInput::FeaturesOnly),
            _ => None,
        }
    }
}

/// The rows the kNN judge (and the head) reads on snapshot `t` for `run`'s hosts `host_ids`:
/// the embeddings, joined with the hosts' log-compressed standardised features when `input`
/// asks for it and the variant has node features. Shape (n_hosts, dim [+ 37]).
pub fn judge_rows(
    prep: &Prepared,
    t: usize,
    run: &VariantRun,
    input: KnnInput,
) -> Result<Array2<f32>> {
    let e = run.day(prep, t)?;
    let join = match input {
        KnnInput::Embeddings => false,
        KnnInput::EmbeddingsAndFeatures => run.variant.features,
        KnnInput::JoinedAll | KnnInput::FeaturesOnly => true,
    };
    if !join {
        return Ok(e.embeddings.clone());
    }
    let snap = &prep.set.snapshots[t];
    let mut f = snap
        .features
        .slice_axis(Axis(0), Slice::from(..snap.n_hosts))
        .to_owned();
    scale_features(&mut f, snap.n_hosts, FeatureScaling::LogStandardize);
    let mut rows = Vec::with_capacity(e.host_ids.len());
    for &h in &e.host_ids {
        let r = snap.node_ids[..snap.n_hosts]
            .binary_search(&h)
            .map_err(|_| PaperBError::NoEmbeddings {
                day: prep.day_label(t),
                reason: format!("host id {h} is not active that day"),
            })?;
        rows.push(r);
    }
    let f = f.select(Axis(0), &rows);
    if input == KnnInput::FeaturesOnly {
        return Ok(f);
    }
    // Standardise the embeddings first so the two halves have comparable scales.
    let z = standardize(e.embeddings.view())?;
    concatenate(Axis(1), &[z.view(), f.view()]).map_err(|_| PaperBError::InvalidConfig {
        field: "knn_input",
        value: "joined".into(),
        reason: "embeddings and features disagree in rows",
    })
}

/// The settings of a run beyond Paper B's protocol, as `report.json` records them.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Settings {
    /// [`super::PaperBConfig::feature_scaling`].
    pub feature_scaling: FeatureScaling,
    /// [`super::PaperBConfig::negatives`].
    pub negatives: Negatives,
    /// [`super::PaperBConfig::knn_input`].
    pub knn_input: KnnInput,
    /// [`super::PaperBConfig::head`].
    pub head: HeadChoice,
    /// [`super::PaperBConfig::head_days`].
    pub head_days: usize,
    /// Epochs per new day of the incremental models (`None`: 1 with node features, 5
    /// without).
    pub incremental_epochs: Option<usize>,
}

impl Settings {
    /// The settings of `cfg`.
    pub fn of(cfg: &super::PaperBConfig) -> Self {
        Settings {
            feature_scaling: cfg.feature_scaling,
            negatives: cfg.negatives,
            knn_input: cfg.knn_input,
            head: cfg.head,
            head_days: cfg.head_days,
            incremental_epochs: cfg.temporal.incremental_epochs,
        }
    }
}

/// An optional supervised classifier beside the kNN judge (module doc).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HeadChoice {
    /// No head (Paper B).
    #[default]
    None,
    /// A one-hidden-layer MLP (64 units, BatchNorm, ReLU; one-vs-rest sigmoid outputs).
    Mlp,
}

impl HeadChoice {
    /// Parses `none` or `mlp`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "none" | "off" => Some(HeadChoice::None),
            "mlp" => Some(HeadChoice::Mlp),
            _ => None,
        }
    }
}

/// The head's scores of one variant: per-class F1 over the test days like the kNN's, and for
/// every test day the days its head was trained on.
#[derive(Clone, Debug, Serialize)]
pub struct HeadScores {
    /// The scores, in the kNN's shape.
    pub scores: VariantScores,
    /// Per evaluated test day: (`YYYYMMDD`, the `YYYYMMDD` of its training days).
    pub train_days: Vec<(String, Vec<String>)>,
}

/// The snapshots a head for test day `t` trains on: the `head_days` snapshots before `t` that
/// have embeddings (never `t` itself nor a later day), ascending.
pub fn head_train_days(
    prep: &Prepared,
    run: &VariantRun,
    t: usize,
    head_days: usize,
) -> Vec<usize> {
    (t.saturating_sub(head_days)..t)
        .filter(|&d| run.day(prep, d).is_ok())
        .collect()
}

/// The day's judge rows standardised (so days of an incremental model are on one scale) and
/// its classes with the rare-class rule applied.
fn head_day(
    prep: &Prepared,
    run: &VariantRun,
    t: usize,
    input: KnnInput,
    rare: usize,
) -> Result<(Array2<f32>, Vec<String>)> {
    let x = standardize(judge_rows(prep, t, run, input)?.view())?;
    let e = run.day(prep, t)?;
    let labels = rare_to_unknown(
        &prep.labels_of(&e.host_ids),
        rare,
        darknet_eval::knn::UNKNOWN,
    );
    Ok((x, labels))
}

/// Trains the head of `run` once per test day on the labelled and unknown hosts of the
/// [`head_train_days`] (classes one-vs-rest, seeded from `cfg.seed` and the day) and scores
/// the test day's labelled hosts like the kNN judge (rare classes as unknown, unknown hosts
/// not scored). `None` when no test day could be scored (a warning says why).
///
/// # Errors
/// darknet-nn's and darknet-eval's errors.
pub fn evaluate_head(
    prep: &Prepared,
    run: &VariantRun,
    cfg: &super::PaperBConfig,
    warnings: &mut Warnings<'_>,
) -> Result<Option<HeadScores>> {
    let mut reports: Vec<ClassificationReport> = Vec::new();
    let mut per_day = Vec::new();
    let mut train_days = Vec::new();
    let mut skipped = Vec::new();
    for &t in &prep.test_days {
        if run.day(prep, t).is_err() {
            skipped.push(format!("{} (no embedding)", prep.day_label(t)));
            continue;
        }
        let days = head_train_days(prep, run, t, cfg.head_days);
        let mut xs = Vec::new();
        let mut ys: Vec<String> = Vec::new();
        for &d in &days {
            let (x, l) = head_day(prep, run, d, cfg.knn_input, cfg.rare_class_max_hosts)?;
            xs.push(x);
            ys.extend(l);
        }
        let mut classes = ys.clone();
        classes.sort();
        classes.dedup();
        if classes.len() < 2 {
            skipped.push(format!(
                "{} (fewer than 2 classes before it)",
                prep.day_label(t)
            ));
            continue;
        }
        let views: Vec<_> = xs.iter().map(|x| x.view()).collect();
        let x = concatenate(Axis(0), &views).map_err(|_| PaperBError::InvalidConfig {
            field: "head",
            value: "mlp".into(),
            reason: "days of different embedding sizes",
        })?;
        let y = Array2::from_shape_fn((ys.len(), classes.len()), |(i, c)| {
            f32::from(ys[i] == classes[c])
        });
        let mcfg = MlpConfig {
            first_size: 64,
            layers: 1,
            train: TrainConfig::default()
                .learning_rate(0.005)
                .batch_size(64)
                .max_epochs(20)
                .patience(3)
                .seed(mix(cfg.seed ^ 0x4EAD, t as u64)),
            bn_recalibration: true,
        };
        let rows: Vec<usize> = (0..ys.len()).collect();
        let (mlp, _) = mcfg.fit(x.view(), y.view(), &rows, &mut |_| {})?;
        let (xt, lt) = head_day(prep, run, t, cfg.knn_input, cfg.rare_class_max_hosts)?;
        let keep: Vec<usize> = (0..lt.len())
            .filter(|&i| lt[i] != darknet_eval::knn::UNKNOWN)
            .collect();
        if keep.is_empty() {
            skipped.push(format!(
                "{} (no class with enough hosts)",
                prep.day_label(t)
            ));
            continue;
        }
        let scores = mlp.scores(xt.select(Axis(0), &keep).view())?;
        let pred: Vec<String> = scores
            .rows()
            .into_iter()
            .map(|r| {
                let best = r
                    .iter()
                    .enumerate()
                    .fold(
                        (0, f32::NEG_INFINITY),
                        |b, (i, &v)| if v > b.1 { (i, v) } else { b },
                    );
                classes[best.0].clone()
            })
            .collect();
        let truth: Vec<String> = keep.iter().map(|&i| lt[i].clone()).collect();
        let mut present = truth.clone();
        present.sort();
        present.dedup();
        let r = classification_report(&truth, &pred, Some(&present))?;
        per_day.push((prep.day_label(t), r.macro_avg.f1));
        train_days.push((
            prep.day_label(t),
            days.iter().map(|&d| prep.day_label(d)).collect(),
        ));
        reports.push(r);
    }
    super::warn_skipped_days(warnings, &format!("{} head", run.variant.name()), &skipped);
    if reports.is_empty() {
        return Ok(None);
    }
    let daily = aggregate_days(&reports)?;
    Ok(Some(HeadScores {
        scores: VariantScores {
            macro_f1: daily.macro_f1,
            daily,
            per_day_macro: per_day,
        },
        train_days,
    }))
}
