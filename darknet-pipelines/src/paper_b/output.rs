//! The files of a run, in `--out`:
//!
//! - `days.csv`: per-day snapshot figures (day, hosts, ports, edges, packets, labelled hosts);
//! - `embeddings/<variant>/<YYYYMMDD>.csv`: header `src_ip,e0,e1,...`, one row per active host
//!   of the day (the layout the reference code writes, one file per day);
//! - `models/<variant>/`: `model.safetensors` + `config.json` (darknet-nn's persistence, loadable
//!   from PyTorch by tensor name) and `pipeline.json` (the training settings), or
//!   `word2vec.safetensors` for i-DarkVec; `nodes.csv` (the node table) and `variant.json`
//!   (snapshot settings), so [`super::PaperBModel::load`] can embed new days;
//! - `report.json`: per variant `per_class_f1` (class → mean, std, support), `macro_f1`,
//!   `train_seconds`, per-day macro F1; the days, test days, stage times and warnings;
//! - `report.md`: our figures in the shape of Paper B's Table 3, beside the paper's;
//! - `training_curves.csv` (and `.svg`, drawn by the `temporal` example) (`variant,day,epoch,loss`): the
//!   link-prediction loss of every GNN optimizer step;
//! - `history_sweep.csv`, `epochs_sweep.csv` when sweeps ran (and their `.svg` plots, drawn by
//!   the `temporal` example) (Figure 4).

use super::error::{io_err, Result};
use super::{
    ModelKind, PaperBClass, PaperBConfig, PaperBResult, Prepared, SweepParam, SweepPoint,
    VariantRun,
};
use darknet_eval::MeanStd;
use serde_json::{json, Map, Value};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// One class of Paper B's Table 3: code label, support, F1 (mean, std) per column.
pub type PaperRow = (&'static str, usize, [(f64, f64); 8]);

/// Paper B's Table 3 (docs/paper-b.md#published-results): per class (code label, support) and F1
/// mean ± std for, in order, without node features GCN, i-GCN, GCN-GRU, i-GCN-GRU, then with node
/// features the same four.
pub const PAPER_TABLE_3: [PaperRow; 14] = [
    (
        "mirai",
        22_878,
        [
            (0.63, 0.03),
            (0.76, 0.02),
            (0.69, 0.03),
            (0.72, 0.02),
            (0.98, 0.00),
            (0.98, 0.00),
            (0.86, 0.04),
            (0.98, 0.00),
        ],
    ),
    (
        "unk_bruteforcer",
        3_530,
        [
            (0.10, 0.04),
            (0.53, 0.03),
            (0.53, 0.03),
            (0.52, 0.01),
            (0.62, 0.03),
            (0.61, 0.03),
            (0.61, 0.03),
            (0.63, 0.03),
        ],
    ),
    (
        "unk_spammer",
        3_187,
        [
            (0.14, 0.04),
            (0.23, 0.04),
            (0.29, 0.04),
            (0.19, 0.07),
            (0.47, 0.06),
            (0.46, 0.06),
            (0.42, 0.08),
            (0.47, 0.08),
        ],
    ),
    (
        "shadowserver",
        3_149,
        [
            (0.14, 0.13),
            (0.49, 0.15),
            (0.64, 0.07),
            (0.49, 0.16),
            (0.91, 0.01),
            (0.90, 0.02),
            (0.95, 0.01),
            (0.96, 0.01),
        ],
    ),
    (
        "driftnet",
        2_772,
        [
            (0.77, 0.09),
            (0.73, 0.06),
            (0.87, 0.05),
            (0.90, 0.02),
            (0.88, 0.04),
            (0.85, 0.05),
            (0.97, 0.02),
            (0.97, 0.02),
        ],
    ),
    (
        "internetcensus",
        2_335,
        [
            (0.26, 0.12),
            (0.33, 0.08),
            (0.68, 0.05),
            (0.47, 0.13),
            (0.64, 0.12),
            (0.58, 0.14),
            (0.90, 0.04),
            (0.92, 0.02),
        ],
    ),
    (
        "censys",
        1_974,
        [
            (0.53, 0.06),
            (0.60, 0.05),
            (0.59, 0.05),
            (0.60, 0.03),
            (0.89, 0.03),
            (0.88, 0.03),
            (0.91, 0.02),
            (0.92, 0.01),
        ],
    ),
    (
        "rapid7",
        1_255,
        [
            (0.91, 0.05),
            (0.76, 0.11),
            (0.91, 0.02),
            (0.83, 0.10),
            (0.84, 0.04),
            (0.84, 0.02),
            (0.69, 0.47),
            (0.97, 0.04),
        ],
    ),
    (
        "onyphe",
        709,
        [
            (0.06, 0.05),
            (0.05, 0.04),
            (0.11, 0.06),
            (0.05, 0.05),
            (0.93, 0.03),
            (0.93, 0.02),
            (0.92, 0.01),
            (0.91, 0.05),
        ],
    ),
    (
        "netsystems",
        439,
        [
            (0.02, 0.03),
            (0.09, 0.08),
            (0.32, 0.05),
            (0.06, 0.05),
            (0.97, 0.03),
            (0.97, 0.02),
            (0.80, 0.09),
            (0.95, 0.04),
        ],
    ),
    (
        "shodan",
        341,
        [
            (0.12, 0.16),
            (0.14, 0.16),
            (0.23, 0.10),
            (0.10, 0.14),
            (0.81, 0.05),
            (0.79, 0.06),
            (0.76, 0.05),
            (0.79, 0.06),
        ],
    ),
    (
        "unk_exploiter",
        254,
        [
            (0.00, 0.00),
            (0.07, 0.20),
            (0.00, 0.00),
            (0.06, 0.16),
            (0.07, 0.20),
            (0.07, 0.20),
            (0.00, 0.00),
            (0.10, 0.21),
        ],
    ),
    (
        "securitytrails",
        180,
        [
            (0.12, 0.25),
            (0.86, 0.07),
            (0.87, 0.04),
            (0.67, 0.04),
            (0.98, 0.04),
            (0.96, 0.05),
            (0.97, 0.04),
            (0.98, 0.03),
        ],
    ),
    (
        "intrinsec",
        47,
        [
            (0.00, 0.00),
            (0.00, 0.00),
            (0.00, 0.00),
            (0.00, 0.00),
            (0.35, 0.24),
            (0.24, 0.17),
            (0.75, 0.12),
            (0.73, 0.13),
        ],
    ),
];

/// Paper B's Table 3 macro F1 row, in the column order of [`PAPER_TABLE_3`].
pub const PAPER_TABLE_3_MACRO: [(f64, f64); 8] = [
    (0.26, 0.05),
    (0.41, 0.04),
    (0.49, 0.04),
    (0.41, 0.04),
    (0.74, 0.02),
    (0.73, 0.03),
    (0.75, 0.03),
    (0.80, 0.02),
];

/// i-DarkVec per class from the reference code's notebook output
/// (docs/paper-b.md#published-results), in [`PAPER_TABLE_3`] class order, and its macro F1.
pub const PAPER_IDARKVEC: [(f64, f64); 14] = [
    (0.98, 0.00),
    (0.60, 0.04),
    (0.42, 0.04),
    (0.96, 0.02),
    (0.96, 0.01),
    (0.99, 0.00),
    (0.94, 0.01),
    (1.00, 0.00),
    (0.96, 0.02),
    (0.45, 0.07),
    (0.88, 0.02),
    (0.11, 0.14),
    (1.00, 0.00),
    (0.94, 0.02),
];
/// i-DarkVec macro F1 from the notebook output.
pub const PAPER_IDARKVEC_MACRO: (f64, f64) = (0.78, 0.03);
/// Training time on 31 days reported by Paper B: i-GCN-GRU (tGNN) and i-DarkVec, seconds on a
/// V100 GPU.
pub const PAPER_TRAIN_SECS: (f64, f64) = (69.27, 74.51);
/// Figure 4 (a): i-GCN-GRU with features, macro F1 for H = 0..=8.
pub const PAPER_HISTORY_SWEEP: [(usize, f64); 9] = [
    (0, 0.729),
    (1, 0.756),
    (2, 0.781),
    (3, 0.791),
    (4, 0.791),
    (5, 0.796),
    (6, 0.794),
    (7, 0.797),
    (8, 0.795),
];
/// Figure 4 (b): i-GCN-GRU with features, macro F1 for incremental epochs per snapshot.
pub const PAPER_EPOCHS_SWEEP: [(usize, f64); 7] = [
    (1, 0.796),
    (5, 0.786),
    (10, 0.795),
    (15, 0.788),
    (20, 0.778),
    (25, 0.772),
    (30, 0.760),
];

/// Column of a variant in Paper B's Table 3 (`None` for i-DarkVec).
fn table3_column(model: ModelKind, features: bool) -> Option<usize> {
    let base = match model {
        ModelKind::Gcn => 0,
        ModelKind::IGcn => 1,
        ModelKind::GcnGru => 2,
        ModelKind::IGcnGru => 3,
        ModelKind::IDarkVec => return None,
    };
    Some(base + if features { 4 } else { 0 })
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io_err(parent))?;
    }
    std::fs::write(path, bytes).map_err(io_err(path))
}

/// Writes `days.csv` (per-day snapshot figures).
///
/// # Errors
/// [`PaperBError::Io`](super::PaperBError::Io).
pub fn write_days(dir: &Path, prep: &Prepared) -> Result<()> {
    let mut s = String::from("day,hosts,ports,edges,packets,labelled_hosts,test\n");
    for (t, d) in prep.summary.iter().enumerate() {
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{}",
            d.day,
            d.hosts,
            d.ports,
            d.edges,
            d.packets,
            d.labelled_hosts,
            u8::from(prep.test_days.contains(&t))
        );
    }
    write_file(&dir.join("days.csv"), s.as_bytes())
}

/// Writes `embeddings/<variant>/<YYYYMMDD>.csv` for every day `run` embedded: header
/// `src_ip,e0,...,e{d-1}`, one row per active host in ascending address order, values in the
/// shortest form that reads back to the same `f32`.
///
/// # Errors
/// [`PaperBError::Io`](super::PaperBError::Io).
pub fn write_embeddings(dir: &Path, prep: &Prepared, run: &VariantRun) -> Result<Vec<PathBuf>> {
    let sub = dir.join("embeddings").join(run.variant.name());
    std::fs::create_dir_all(&sub).map_err(io_err(&sub))?;
    let mut written = Vec::new();
    let mut hosts = Vec::new();
    for (t, e) in run.embeddings.iter().enumerate() {
        let Some(e) = e else { continue };
        let path = sub.join(format!("{}.csv", prep.day_label(t)));
        hosts.clear();
        hosts.extend(e.host_ids.iter().map(|&h| prep.set.hosts[h as usize]));
        write_embedding_csv(&path, &hosts, e.embeddings.view())?;
        written.push(path);
    }
    Ok(written)
}

/// Writes one day's embeddings to `path`: header `src_ip,e0,...,e{d-1}`, then `hosts[i]` and
/// row `i` of `embeddings` (shape (n_hosts, d)), values in the shortest form that reads back to
/// the same `f32`.
///
/// # Errors
/// [`PaperBError::Io`](super::PaperBError::Io).
pub fn write_embedding_csv(
    path: &Path,
    hosts: &[std::net::Ipv4Addr],
    embeddings: ndarray::ArrayView2<'_, f32>,
) -> Result<()> {
    let f = std::fs::File::create(path).map_err(io_err(path))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 16, f);
    let mut line = String::with_capacity(16 * (embeddings.ncols() + 2));
    line.push_str("src_ip");
    for k in 0..embeddings.ncols() {
        let _ = write!(line, ",e{k}");
    }
    line.push('\n');
    w.write_all(line.as_bytes()).map_err(io_err(path))?;
    for (h, row) in hosts.iter().zip(embeddings.rows()) {
        line.clear();
        let _ = write!(line, "{h}");
        for v in row {
            let _ = write!(line, ",{v}");
        }
        line.push('\n');
        w.write_all(line.as_bytes()).map_err(io_err(path))?;
    }
    w.flush().map_err(io_err(path))
}

/// Saves `run`'s model, trained on `prep` under `cfg`, under `models/<variant>/` with what
/// reloading it needs (see [`super::reload`]): `model.safetensors` + `config.json` and
/// `pipeline.json` (the training settings) for a GNN, `word2vec.safetensors` for i-DarkVec;
/// `nodes.csv` (the node table) and `variant.json` for both.
///
/// # Errors
/// [`PaperBError::Io`](super::PaperBError::Io), darknet-nn's persistence errors.
pub fn save_model(
    dir: &Path,
    prep: &Prepared,
    run: &VariantRun,
    cfg: &PaperBConfig,
) -> Result<PathBuf> {
    let sub = dir.join("models").join(run.variant.name());
    super::reload::save_parts(
        &sub,
        run.variant,
        &super::reload::SnapshotSettings::of(cfg),
        &super::reload::NodeTable::of(&prep.set),
        &run.model,
        run.config.as_ref(),
    )?;
    Ok(sub)
}

fn ms_json(m: &MeanStd) -> Value {
    json!({"mean": m.mean, "std": m.std, "n_days": m.n})
}

/// `per_class_f1`, `macro_f1` and `per_day_macro_f1` of some scores into `o`.
fn scores_json(o: &mut Map<String, Value>, s: &super::VariantScores) {
    let mut pc = Map::new();
    for (c, m, sup) in &s.daily.per_class {
        let mut e = ms_json(m);
        e["support"] = json!(sup);
        pc.insert(c.clone(), e);
    }
    o.insert("per_class_f1".into(), Value::Object(pc));
    o.insert("macro_f1".into(), ms_json(&s.macro_f1));
    o.insert(
        "per_day_macro_f1".into(),
        Value::Object(
            s.per_day_macro
                .iter()
                .map(|(d, f)| (d.clone(), json!(f)))
                .collect(),
        ),
    );
}

/// `report.json`: per variant `per_class_f1` (class → `{mean, std, n_days, support}`),
/// `macro_f1` (`{mean, std, n_days}`), `per_day_macro_f1`, `train_seconds`, `embed_seconds`,
/// `loss_first`, `loss_last`, `head` (the supervised head's `per_class_f1`, `macro_f1`,
/// `per_day_macro_f1` and `train_days` per test day, or null); then `settings`, `days`,
/// `test_days`, `sweeps`, `stage_seconds`, `warnings`.
pub fn report_json(r: &PaperBResult) -> String {
    let mut variants = Map::new();
    for v in &r.variants {
        let mut o = Map::new();
        if let Some(s) = &v.scores {
            scores_json(&mut o, s);
        } else {
            o.insert("per_class_f1".into(), Value::Null);
            o.insert("macro_f1".into(), Value::Null);
        }
        o.insert("train_seconds".into(), json!(v.train_secs));
        o.insert("embed_seconds".into(), json!(v.embed_secs));
        o.insert("loss_first".into(), json!(v.loss_first_last.map(|l| l.0)));
        o.insert("loss_last".into(), json!(v.loss_first_last.map(|l| l.1)));
        o.insert(
            "head".into(),
            v.head.as_ref().map_or(Value::Null, |h| {
                let mut ho = Map::new();
                scores_json(&mut ho, &h.scores);
                ho.insert(
                    "train_days".into(),
                    Value::Object(
                        h.train_days
                            .iter()
                            .map(|(d, ds)| (d.clone(), json!(ds)))
                            .collect(),
                    ),
                );
                Value::Object(ho)
            }),
        );
        variants.insert(v.name.clone(), Value::Object(o));
    }
    let sweeps: Map<String, Value> = r
        .sweeps
        .iter()
        .map(|(p, pts)| {
            (
                p.name().to_string(),
                Value::Array(
                    pts.iter()
                        .map(|s| {
                            json!({"value": s.value, "macro_f1": ms_json(&s.macro_f1),
                                   "train_seconds": s.train_secs})
                        })
                        .collect(),
                ),
            )
        })
        .collect();
    let v = json!({
        "variants": variants,
        "days": r.days,
        "test_days": r.test_days,
        "n_hosts": r.n_hosts,
        "n_ports": r.n_ports,
        "gcn_dims": r.gcn_dims,
        "emb_dim": r.emb_dim,
        "history": r.history,
        "settings": r.settings,
        "sweeps": sweeps,
        "stage_seconds": r.stage_secs.iter().map(|(s, t)| (s.clone(), json!(t))).collect::<Map<_, _>>(),
        "warnings": r.warnings.iter().map(|w| w.message.as_str()).collect::<Vec<_>>(),
    });
    serde_json::to_string_pretty(&v).unwrap_or_else(|_| "{}".into())
}

/// `| class | support | <variant> | ... |` and the separator row.
fn table_header(s: &mut String, r: &PaperBResult) {
    s.push_str("| class | support |");
    for v in &r.variants {
        let _ = write!(s, " {} |", v.name);
    }
    s.push_str("\n|---|---|");
    for _ in &r.variants {
        s.push_str("---|");
    }
    s.push('\n');
}

/// Paper B's Figure 4 values for a sweep.
pub fn paper_sweep(param: SweepParam) -> &'static [(usize, f64)] {
    match param {
        SweepParam::History => &PAPER_HISTORY_SWEEP,
        SweepParam::Epochs => &PAPER_EPOCHS_SWEEP,
    }
}

fn cell(m: Option<&MeanStd>) -> String {
    match m.and_then(|m| m.mean.zip(m.std)) {
        Some((a, b)) => format!("{a:.2}±{b:.2}"),
        None => "–".into(),
    }
}

/// `report.md`: the data, our per-class F1 in the shape of Paper B's Table 3 (classes as rows,
/// variants as columns, macro F1 last, training seconds below), the paper's Table 3 beside it,
/// and the sweeps.
pub fn report_markdown(r: &PaperBResult) -> String {
    let mut s = String::from("# Paper B: temporal host embeddings judged by 3-NN\n\n");
    let hosts: usize = r.days.iter().map(|d| d.hosts).sum();
    let edges: usize = r.days.iter().map(|d| d.edges).sum();
    let nd = r.days.len().max(1);
    let _ = writeln!(
        s,
        "{} days ({} to {}), {} hosts and {} port nodes over the period; per day on average \
         {:.0} active hosts and {:.0} edges. Test days: {} ({} to {}).\n",
        r.days.len(),
        r.days.first().map_or("", |d| d.day.as_str()),
        r.days.last().map_or("", |d| d.day.as_str()),
        r.n_hosts,
        r.n_ports,
        hosts as f64 / nd as f64,
        edges as f64 / nd as f64,
        r.test_days.len(),
        r.test_days.first().map_or("", String::as_str),
        r.test_days.last().map_or("", String::as_str),
    );
    let dims: Vec<String> = r.gcn_dims.iter().map(usize::to_string).collect();
    let _ = writeln!(
        s,
        "GNN encoders: GCN 37 → {} then {} embedding dimensions, history H = {} (Paper B: \
         37 → 1024 → 512, 128, H = 5).\n",
        dims.join(" → "),
        r.emb_dim,
        r.history
    );
    // Our table.
    s.push_str("## Ours: F1 per class, mean ± std over the test days\n\n");
    table_header(&mut s, r);
    let mut classes: Vec<String> = PaperBClass::PAPER.iter().map(|c| c.to_string()).collect();
    for v in &r.variants {
        for (c, _, _) in v.scores.iter().flat_map(|x| &x.daily.per_class) {
            if !classes.contains(c) {
                classes.push(c.clone());
            }
        }
    }
    for c in &classes {
        let support = r
            .variants
            .iter()
            .filter_map(|v| v.scores.as_ref())
            .flat_map(|x| &x.daily.per_class)
            .filter(|(k, _, _)| k == c)
            .map(|(_, _, sup)| *sup)
            .max();
        let Some(support) = support else { continue };
        let _ = write!(s, "| {c} | {support} |");
        for v in &r.variants {
            let m = v
                .scores
                .as_ref()
                .and_then(|x| x.daily.per_class.iter().find(|(k, _, _)| k == c))
                .map(|(_, m, _)| m);
            let _ = write!(s, " {} |", cell(m));
        }
        s.push('\n');
    }
    s.push_str("| **macro avg** | |");
    for v in &r.variants {
        let _ = write!(s, " **{}** |", cell(v.scores.as_ref().map(|x| &x.macro_f1)));
    }
    s.push_str("\n| train seconds | |");
    for v in &r.variants {
        let _ = write!(s, " {:.1} |", v.train_secs);
    }
    s.push_str("\n\n");
    if r.variants.iter().any(|v| v.head.is_some()) {
        head_markdown(&mut s, r, &classes);
    }
    // Paper's table for the same columns.
    s.push_str(
        "## Paper B (Table 3; i-DarkVec from the reference code's notebook), same columns\n\n",
    );
    table_header(&mut s, r);
    let paper_cell = |(m, sd): (f64, f64)| format!("{m:.2}±{sd:.2}");
    for (k, (c, sup, cols)) in PAPER_TABLE_3.iter().enumerate() {
        let _ = write!(s, "| {c} | {sup} |");
        for v in &r.variants {
            let x = match table3_column(v.variant.model, v.variant.features) {
                Some(j) => cols[j],
                None => PAPER_IDARKVEC[k],
            };
            let _ = write!(s, " {} |", paper_cell(x));
        }
        s.push('\n');
    }
    s.push_str("| **macro avg** | |");
    for v in &r.variants {
        let x = match table3_column(v.variant.model, v.variant.features) {
            Some(j) => PAPER_TABLE_3_MACRO[j],
            None => PAPER_IDARKVEC_MACRO,
        };
        let _ = write!(s, " **{}** |", paper_cell(x));
    }
    let _ = writeln!(
        s,
        "\n\nPaper B trains i-GCN-GRU on 31 days in {:.2} s and i-DarkVec in {:.2} s on a V100 \
         GPU; the seconds above are this run's, on this machine's CPU.\n",
        PAPER_TRAIN_SECS.0, PAPER_TRAIN_SECS.1
    );
    for (p, pts) in &r.sweeps {
        let paper = paper_sweep(*p);
        let _ = writeln!(
            s,
            "## {} sweep (i-GCN-GRU with features, Figure 4)\n\n| {} | macro F1 (ours) | \
             paper | train seconds |\n|---|---|---|---|",
            p.name(),
            p.name()
        );
        for pt in pts {
            let pv = paper
                .iter()
                .find(|(v, _)| *v == pt.value)
                .map_or("–".into(), |(_, f)| format!("{f:.3}"));
            let _ = writeln!(
                s,
                "| {} | {} | {pv} | {:.1} |",
                pt.value,
                cell(Some(&pt.macro_f1)),
                pt.train_secs
            );
        }
        s.push('\n');
    }
    if !r.warnings.is_empty() {
        s.push_str("## Warnings\n\n");
        for w in &r.warnings {
            let _ = writeln!(s, "- {w}");
        }
    }
    s
}

/// The supervised head's per-class F1 beside the kNN's macro F1.
fn head_markdown(s: &mut String, r: &PaperBResult, classes: &[String]) {
    let _ = writeln!(
        s,
        "## Supervised head ({} days before each test day, never the test day): F1 per class\n",
        r.settings.head_days
    );
    table_header(s, r);
    for c in classes {
        let found = |v: &super::VariantResult| {
            v.head
                .as_ref()
                .and_then(|h| h.scores.daily.per_class.iter().find(|(k, _, _)| k == c))
                .map(|(_, m, sup)| (*m, *sup))
        };
        let Some(support) = r
            .variants
            .iter()
            .filter_map(|v| found(v).map(|x| x.1))
            .max()
        else {
            continue;
        };
        let _ = write!(s, "| {c} | {support} |");
        for v in &r.variants {
            let _ = write!(s, " {} |", cell(found(v).as_ref().map(|x| &x.0)));
        }
        s.push('\n');
    }
    s.push_str("| **macro avg (head)** | |");
    for v in &r.variants {
        let _ = write!(
            s,
            " **{}** |",
            cell(v.head.as_ref().map(|h| &h.scores.macro_f1))
        );
    }
    s.push_str("\n| macro avg (kNN) | |");
    for v in &r.variants {
        let _ = write!(s, " {} |", cell(v.scores.as_ref().map(|x| &x.macro_f1)));
    }
    s.push_str("\n\n");
}

/// A sweep as CSV `value,macro_f1_mean,macro_f1_std,n_days,train_seconds,paper_macro_f1`.
pub fn sweep_csv(param: SweepParam, points: &[SweepPoint]) -> String {
    let paper = paper_sweep(param);
    let mut s = format!(
        "{},macro_f1_mean,macro_f1_std,n_days,train_seconds,paper_macro_f1\n",
        param.name()
    );
    let opt = |x: Option<f64>| x.map_or(String::new(), |v| v.to_string());
    for p in points {
        let _ = writeln!(
            s,
            "{},{},{},{},{},{}",
            p.value,
            opt(p.macro_f1.mean),
            opt(p.macro_f1.std),
            p.macro_f1.n,
            p.train_secs,
            opt(paper.iter().find(|(v, _)| *v == p.value).map(|x| x.1))
        );
    }
    s
}

/// Every GNN optimizer step as CSV `variant,day,epoch,loss` (day = `YYYYMMDD` of the snapshot
/// trained on, the window's last day for GRU models).
pub fn curves_csv(r: &PaperBResult) -> String {
    let mut s = String::from("variant,day,epoch,loss\n");
    for v in r
        .variants
        .iter()
        .filter(|v| v.variant.model != ModelKind::IDarkVec)
    {
        for (t, e, l) in &v.curve {
            let day = r.days.get(*t).map_or("", |d| d.day.as_str());
            let _ = writeln!(s, "{},{day},{e},{l}", v.name);
        }
    }
    s
}

/// Writes `report.json`, `report.md`, `training_curves.csv` and the sweeps' CSV into
/// `dir` (embeddings, models and `days.csv` are written by [`super::run`] as it goes).
/// Returns the files written.
///
/// # Errors
/// [`PaperBError::Io`](super::PaperBError::Io).
pub fn write_outputs(dir: &Path, r: &PaperBResult) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let mut files = Vec::new();
    let p = dir.join("report.json");
    write_file(&p, report_json(r).as_bytes())?;
    files.push(p);
    let p = dir.join("report.md");
    write_file(&p, report_markdown(r).as_bytes())?;
    files.push(p);
    if r.variants
        .iter()
        .any(|v| v.variant.model != ModelKind::IDarkVec)
    {
        let p = dir.join("training_curves.csv");
        write_file(&p, curves_csv(r).as_bytes())?;
        files.push(p);
    }
    for (param, pts) in &r.sweeps {
        let p = dir.join(format!("{}_sweep.csv", param.name()));
        write_file(&p, sweep_csv(*param, pts).as_bytes())?;
        files.push(p);
    }
    Ok(files)
}
