//! The files of a run: `metrics.json`, per-partition truth / scores / metrics, the τ sweep
//! (CSV + SVG), the training curves (SVG), the saved model and `report.md` beside Paper A's
//! reported figures (docs/paper-a.md#published-results).

use super::error::{io_err, Result};
use super::labels::{CATEGORY_IDS, LABEL_TITLES};
use super::PaperAResult;
use darknet_eval::{AggregateReport, LabelAggregate, MeanStd, ReportMetric, SweepPoint};
use ndarray::ArrayView2;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

/// Paper A's reported sample-based precision, recall, F1 (docs/paper-a.md#published-results).
pub const PAPER_SAMPLES: (f64, f64, f64) = (0.80, 0.81, 0.76);
/// Paper A's Table III per label, in label-column order: precision, recall, F1, support share.
pub const PAPER_TABLE_III: [(f64, f64, f64, f64); 7] = [
    (0.90, 0.98, 0.94, 0.871),
    (0.67, 0.73, 0.70, 0.546),
    (0.68, 0.50, 0.57, 0.267),
    (0.25, 0.58, 0.35, 0.022),
    (0.40, 0.54, 0.46, 0.030),
    (0.78, 0.47, 0.51, 0.114),
    (0.56, 0.43, 0.55, 0.104),
];
/// Paper A's coverage error, label ranking loss and subset accuracy.
pub const PAPER_PER_HOST: (f64, f64, f64) = (2.24, 0.039, 0.405);

#[derive(Serialize)]
struct PaperRow {
    precision: f64,
    recall: f64,
    f1: f64,
    support_share: f64,
}

#[derive(Serialize)]
struct TableRow {
    id: u8,
    label: String,
    title: String,
    precision: MeanStd,
    recall: MeanStd,
    f1: MeanStd,
    support_share: MeanStd,
    paper_a: PaperRow,
}

#[derive(Serialize)]
struct DatasetJson {
    n_packets_in: usize,
    n_hosts_in: usize,
    n_days: usize,
    n_reports: usize,
    n_reports_outside_categories: u64,
    n_labelled_hosts_from_reports: usize,
    n_label_rows: usize,
    n_labels_absent_from_traffic: usize,
    n_empty_label_sets: usize,
    n_labelled_without_graph: usize,
    n_hosts_after_filters: usize,
    n_hosts_unlabelled: usize,
    n_hosts_used: usize,
    label_counts: BTreeMap<String, usize>,
    filters: Vec<super::filters::FilterStep>,
    ports: super::PortSummary,
}

#[derive(Serialize)]
struct PartitionJson<'a> {
    k: usize,
    n_train: usize,
    n_train_oversampled: usize,
    n_test: usize,
    gcn_f1_samples: f64,
    gcn_epochs: usize,
    baseline_f1_samples: Option<f64>,
    hybrid_f1_samples: Option<f64>,
    n_validation: usize,
    validation: &'a [super::Validated],
    search: Option<&'a darknet_eval::selection::Selection>,
    /// The embedding setting of the partition's GCN and hybrid when the search chose another
    /// than the run's (omitted otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    embedding: Option<super::EmbeddingSetting>,
}

#[derive(Serialize)]
struct MetricsJson<'a> {
    threshold: f64,
    n_partitions: usize,
    partitions_run: usize,
    label_names: &'a [String],
    gcn: &'a AggregateReport,
    mlp_baseline: Option<&'a AggregateReport>,
    hybrid: Option<&'a AggregateReport>,
    selection: Option<&'a super::Selection>,
    calibration: Option<&'a super::CalibrationSummary>,
    table_iii: Vec<TableRow>,
    paper_a: BTreeMap<&'static str, f64>,
    partitions: Vec<PartitionJson<'a>>,
    /// Embedding settings computed for the search besides the run's (omitted when none).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    search_embeddings: &'a [super::EmbeddingSetting],
    dataset: DatasetJson,
    timings_secs: Vec<(String, f64)>,
}

fn label_field(a: &AggregateReport, l: usize) -> LabelAggregate {
    a.per_label.0[l].1
}

fn table_iii(r: &PaperAResult) -> Vec<TableRow> {
    (0..r.label_names.len())
        .map(|l| {
            let share = MeanStd::of(r.partitions.iter().map(|p| {
                Some(
                    p.gcn_report.per_label.0[l].1.support as f64
                        / p.gcn_report.n_samples.max(1) as f64,
                )
            }));
            let (pp, pr, pf, ps) =
                PAPER_TABLE_III
                    .get(l)
                    .copied()
                    .unwrap_or((f64::NAN, f64::NAN, f64::NAN, f64::NAN));
            TableRow {
                id: CATEGORY_IDS.get(l).copied().unwrap_or(0),
                label: r.label_names[l].clone(),
                title: LABEL_TITLES
                    .get(l)
                    .map_or_else(|| r.label_names[l].clone(), |s| s.to_string()),
                precision: label_field(&r.gcn, l).precision,
                recall: label_field(&r.gcn, l).recall,
                f1: label_field(&r.gcn, l).f1,
                support_share: share,
                paper_a: PaperRow {
                    precision: pp,
                    recall: pr,
                    f1: pf,
                    support_share: ps,
                },
            }
        })
        .collect()
}

/// The `metrics.json` text: aggregates of the GCN and the baseline (scikit-learn key names,
/// `{mean, std, n}` values), the per-label table like Paper A's Table III with the paper's
/// figures, per-partition summaries, dataset and filter counts, and stage timings.
pub fn metrics_json(r: &PaperAResult) -> String {
    let ds = &r.dataset;
    let m = MetricsJson {
        threshold: r.config.classifier.threshold,
        n_partitions: r.config.n_partitions,
        partitions_run: r.partitions.len(),
        label_names: &r.label_names,
        gcn: &r.gcn,
        mlp_baseline: r.baseline.as_ref(),
        hybrid: r.hybrid.as_ref(),
        selection: r.selection.as_ref(),
        calibration: r.calibration.as_ref(),
        table_iii: table_iii(r),
        paper_a: BTreeMap::from([
            ("precision_samples", PAPER_SAMPLES.0),
            ("recall_samples", PAPER_SAMPLES.1),
            ("f1_samples", PAPER_SAMPLES.2),
            ("coverage_error", PAPER_PER_HOST.0),
            ("label_ranking_loss", PAPER_PER_HOST.1),
            ("subset_accuracy", PAPER_PER_HOST.2),
        ]),
        partitions: r
            .partitions
            .iter()
            .map(|p| PartitionJson {
                k: p.k,
                n_train: p.n_train,
                n_train_oversampled: p.n_train_oversampled,
                n_test: p.test_hosts.len(),
                gcn_f1_samples: p.gcn_report.f1_samples,
                gcn_epochs: p.gcn_curve.records.len(),
                baseline_f1_samples: p.baseline.as_ref().map(|b| b.1.f1_samples),
                hybrid_f1_samples: p.hybrid.as_ref().map(|b| b.1.f1_samples),
                n_validation: p.n_validation,
                validation: &p.validated,
                search: p.search.as_ref(),
                embedding: p.embedding,
            })
            .collect(),
        search_embeddings: &r.search_embeddings,
        dataset: DatasetJson {
            n_packets_in: r.n_packets_in,
            n_hosts_in: r.n_hosts_in,
            n_days: r.n_days,
            n_reports: r.labels.n_reports,
            n_reports_outside_categories: r.labels.n_outside(),
            n_labelled_hosts_from_reports: r.labels.n_labelled_hosts,
            n_label_rows: ds.n_label_rows,
            n_labels_absent_from_traffic: ds.n_labels_absent,
            n_empty_label_sets: ds.n_empty_label_sets,
            n_labelled_without_graph: ds.n_labelled_without_graph,
            n_hosts_after_filters: ds.n_hosts,
            n_hosts_unlabelled: ds.n_hosts_unlabelled,
            n_hosts_used: ds.n_used,
            label_counts: r
                .label_names
                .iter()
                .cloned()
                .zip(r.label_counts.iter().copied())
                .collect(),
            filters: r.filters.steps.clone(),
            ports: r.ports.clone(),
        },
        timings_secs: r.timings.clone(),
    };
    serde_json::to_string_pretty(&m).unwrap_or_default()
}

/// CSV text `id,<label names>` with one row per host (the layout `evaluate` reads).
pub fn table_csv<T: std::fmt::Display>(
    ids: &[Ipv4Addr],
    names: &[String],
    values: ArrayView2<'_, T>,
) -> String {
    let mut out = String::from("id");
    for n in names {
        let _ = write!(out, ",{n}");
    }
    out.push('\n');
    for (id, row) in ids.iter().zip(values.rows()) {
        let _ = write!(out, "{id}");
        for v in row {
            let _ = write!(out, ",{v}");
        }
        out.push('\n');
    }
    out
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(io_err(path))
}

/// Writes the τ sweep as CSV `threshold,label,precision,recall,f1` (then the sample, micro and
/// macro averages as labels `samples avg`, ...).
pub fn sweep_csv(points: &[SweepPoint], labels: &[String]) -> String {
    let mut out = String::from("threshold,label,precision,recall,f1\n");
    for p in points {
        for (l, s) in labels.iter().zip(&p.per_label) {
            let _ = writeln!(
                out,
                "{},{},{},{},{}",
                p.threshold, l, s.precision, s.recall, s.f1
            );
        }
        for (name, s) in [
            ("samples", &p.samples),
            ("micro", &p.micro),
            ("macro", &p.macro_avg),
        ] {
            let _ = writeln!(
                out,
                "{},{name} avg,{},{},{}",
                p.threshold, s.precision, s.recall, s.f1
            );
        }
    }
    out
}

fn ms(v: MeanStd) -> String {
    match (v.mean, v.std) {
        (Some(m), Some(s)) => format!("{m:.3} ± {s:.3}"),
        _ => "n/a".into(),
    }
}

/// The `report.md` text: the data, the filters, then our figures beside Paper A's.
pub fn report_markdown(r: &PaperAResult) -> String {
    let mut o = String::new();
    let ds = &r.dataset;
    let _ = writeln!(
        o,
        "# Paper A reproduction: multi-label darknet host classification\n"
    );
    let _ = writeln!(
        o,
        "{} packets from {} hosts over {} days; {} reports ({} in categories outside the 7, ignored); {} hosts labelled by the ≥ {} reports rule.\n",
        r.n_packets_in, r.n_hosts_in, r.n_days, r.labels.n_reports, r.labels.n_outside(), r.labels.n_labelled_hosts, r.config.min_reports
    );
    let _ = writeln!(
        o,
        "## Filters\n\n| filter | packets removed | hosts removed |\n|---|---|---|"
    );
    for s in &r.filters.steps {
        let _ = writeln!(
            o,
            "| {} | {} of {} | {} of {} |",
            s.name, s.packets_removed, s.packets_in, s.hosts_removed, s.hosts_in
        );
    }
    let _ = writeln!(
        o,
        "\nLeft: {} packets, {} hosts. Port graph: {} ports, {} edges (θ quartiles Q1 = {}, Q3 = {}), {} reference ports, {:.1} % of (port, reference) pairs reachable.\n",
        r.filters.packets_out, r.filters.hosts_out, r.ports.n_ports, r.ports.n_edges, r.ports.q1, r.ports.q3, r.ports.n_references, 100.0 * r.ports.reachable_fraction
    );
    let _ = writeln!(
        o,
        "Dataset: {} labelled hosts used ({} label rows; {} labelled hosts absent from the filtered traffic; {} without a usable packet). The {} unlabelled hosts fed the port graph only.\n",
        ds.n_used, ds.n_label_rows, ds.n_labels_absent, ds.n_labelled_without_graph, ds.n_hosts_unlabelled
    );
    let _ = writeln!(
        o,
        "Protocol: {} random partitions ({} run), part k = test set of partition k; ML-ROS +{} % on the training part; τ = {}. Figures are mean ± std over partitions.\n",
        r.config.n_partitions, r.partitions.len(), r.config.ros_percentage, r.config.classifier.threshold
    );
    let _ = writeln!(o, "## Sample-based metrics\n\n| metric | GCN (ours) | MLP baseline (ours) | hybrid (ours) | Paper A |\n|---|---|---|---|---|");
    let base = |k: ReportMetric| r.baseline.as_ref().map_or("–".into(), |b| ms(b.get(k)));
    let hyb = |k: ReportMetric| r.hybrid.as_ref().map_or("–".into(), |b| ms(b.get(k)));
    for (k, paper) in [
        (ReportMetric::PrecisionSamples, PAPER_SAMPLES.0),
        (ReportMetric::RecallSamples, PAPER_SAMPLES.1),
        (ReportMetric::F1Samples, PAPER_SAMPLES.2),
        (ReportMetric::CoverageError, PAPER_PER_HOST.0),
        (ReportMetric::LabelRankingLoss, PAPER_PER_HOST.1),
        (ReportMetric::SubsetAccuracy, PAPER_PER_HOST.2),
        (ReportMetric::F1Micro, f64::NAN),
        (ReportMetric::F1Macro, f64::NAN),
    ] {
        let p = if paper.is_nan() {
            "–".to_string()
        } else {
            format!("{paper}")
        };
        let _ = writeln!(
            o,
            "| {k} | {} | {} | {} | {p} |",
            ms(r.gcn.get(k)),
            base(k),
            hyb(k)
        );
    }
    if r.partitions.iter().any(|p| p.search.is_some()) {
        let _ = writeln!(
            o,
            "\n## Hyper-parameter search\n\nEach partition's GCN settings were chosen by cross-validation on the hosts it trains on (never its test part); mean ± std of the folds' sample F1.\n"
        );
        for p in &r.partitions {
            if let Some(s) = &p.search {
                let b = s.best_candidate();
                let _ = writeln!(
                    o,
                    "- partition {}: {} points searched ({} folds), chose {} (CV sample F1 {:.3} ± {:.3})",
                    p.k,
                    s.candidates.len(),
                    s.config.folds,
                    b.params.describe(),
                    b.mean,
                    b.std
                );
                if let Some(e) = &p.embedding {
                    let _ = writeln!(
                        o,
                        "  - its GCN and hybrid used the embedding {e}, not the run's own"
                    );
                }
            }
        }
        if !r.search_embeddings.is_empty() {
            let _ = writeln!(
                o,
                "\nPort embeddings computed for the search besides the run's: {}.",
                r.search_embeddings
                    .iter()
                    .map(|e| format!("({e})"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    if let Some(sel) = &r.selection {
        let _ = writeln!(
            o,
            "\n## Chosen on validation data\n\n{:.0} % of each partition's training part was held out before ML-ROS; it alone chose per-label thresholds and each partition's model: {}. Test sample F1 of the chosen models with their thresholds: {}. Saved for prediction: the {} model, thresholds {:?}.\n\n| model | validation F1 (tuned), mean | test sample F1 (tuned thresholds) |\n|---|---|---|",
            100.0 * sel.validation_fraction,
            sel.per_partition.iter().map(|k| k.name()).collect::<Vec<_>>().join(", "),
            ms(sel.chosen_f1_samples),
            sel.saved,
            sel.thresholds
        );
        for (kind, val, test) in &sel.per_model {
            let _ = writeln!(o, "| {kind} | {val:.3} | {} |", ms(*test));
        }
    }
    if let Some(c) = &r.calibration {
        let _ = writeln!(
            o,
            "\n## Calibrated scores\n\nThe GCN's test scores after Platt scaling fitted per label on each partition's validation slice (pooled over partitions; lower is better): Brier score {:.4} → {:.4}, expected calibration error (10 bins) {:.4} → {:.4}. Their τ sweep: `threshold_sweep_calibrated.csv`.\n\n| label | Brier raw | Brier calibrated | ECE raw | ECE calibrated |\n|---|---|---|---|---|",
            c.raw.brier_mean, c.calibrated.brier_mean, c.raw.ece_mean, c.calibrated.ece_mean
        );
        for (l, name) in r.label_names.iter().enumerate() {
            let _ = writeln!(
                o,
                "| {name} | {:.4} | {:.4} | {:.4} | {:.4} |",
                c.raw.brier[l], c.calibrated.brier[l], c.raw.ece[l], c.calibrated.ece[l]
            );
        }
    }
    if r.baseline.is_some() {
        let diffs: Vec<f64> = r
            .partitions
            .iter()
            .filter_map(|p| {
                p.baseline
                    .as_ref()
                    .map(|b| p.gcn_report.f1_samples - b.1.f1_samples)
            })
            .collect();
        let wins = diffs.iter().filter(|&&d| d > 0.0).count();
        let _ = writeln!(
            o,
            "\nGCN − MLP sample F1 per partition: {} (GCN ahead on {wins} of {}). The MLP sees per-host aggregates (darknet-core's 33 statistics) but not the order of a host's packets nor which ports; what the graph adds is the difference.",
            diffs.iter().map(|d| format!("{d:+.3}")).collect::<Vec<_>>().join(", "),
            diffs.len()
        );
    }
    let _ = writeln!(
        o,
        "\n## Per label (Table III)\n\n| id | label | P ours | P paper | R ours | R paper | F1 ours | F1 paper | support ours | support paper |\n|---|---|---|---|---|---|---|---|---|---|"
    );
    for t in table_iii(r) {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {:.2} | {} | {:.2} | {} | {:.2} | {} | {:.1} % |",
            t.id,
            t.title,
            ms(t.precision),
            t.paper_a.precision,
            ms(t.recall),
            t.paper_a.recall,
            ms(t.f1),
            t.paper_a.f1,
            t.support_share
                .mean
                .map_or("n/a".into(), |m| format!("{:.1} %", 100.0 * m)),
            100.0 * t.paper_a.support_share
        );
    }
    if let Some(b) = &r.baseline {
        let _ = writeln!(o, "\n## Baseline per label (MLP on per-host statistics)\n\n| label | P | R | F1 |\n|---|---|---|---|");
        for (l, name) in r.label_names.iter().enumerate() {
            let _ = writeln!(
                o,
                "| {name} | {} | {} | {} |",
                ms(label_field(b, l).precision),
                ms(label_field(b, l).recall),
                ms(label_field(b, l).f1)
            );
        }
    }
    let _ = writeln!(o, "\n## Stage timings\n\n| stage | seconds |\n|---|---|");
    for (s, t) in &r.timings {
        let _ = writeln!(o, "| {s} | {t:.2} |");
    }
    let _ = writeln!(
        o,
        "\nFiles: `metrics.json`, `partitions/k/{{truth,scores,metrics}}` (score any of them with the `evaluate` example), `threshold_sweep.{{csv,svg}}` (pooled test predictions of all partitions; `threshold_sweep_calibrated.csv` with validation data), `training_curves.svg`, `model/`."
    );
    o
}

/// Writes every output file of a run into `out` (created if needed); returns the paths
/// written.
///
/// # Errors
/// [`super::PaperAError::Io`], model persistence errors.
pub fn write_outputs(out: &Path, r: &PaperAResult) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out).map_err(io_err(out))?;
    let mut written = Vec::new();
    let mut put = |p: PathBuf, text: &str| -> Result<()> {
        write(&p, text)?;
        written.push(p);
        Ok(())
    };
    put(out.join("metrics.json"), &metrics_json(r))?;
    for p in &r.partitions {
        let dir = out.join("partitions").join(p.k.to_string());
        std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        put(
            dir.join("truth.csv"),
            &table_csv(&p.test_hosts, &r.label_names, p.truth.view()),
        )?;
        put(
            dir.join("scores.csv"),
            &table_csv(&p.test_hosts, &r.label_names, p.gcn_scores.view()),
        )?;
        put(dir.join("metrics.json"), &p.gcn_report.to_json())?;
        if let Some((s, rep, _)) = &p.baseline {
            put(
                dir.join("baseline_scores.csv"),
                &table_csv(&p.test_hosts, &r.label_names, s.view()),
            )?;
            put(dir.join("baseline_metrics.json"), &rep.to_json())?;
        }
        if let Some((s, rep, _)) = &p.hybrid {
            put(
                dir.join("hybrid_scores.csv"),
                &table_csv(&p.test_hosts, &r.label_names, s.view()),
            )?;
            put(dir.join("hybrid_metrics.json"), &rep.to_json())?;
        }
    }
    put(
        out.join("threshold_sweep.csv"),
        &sweep_csv(&r.sweep, &r.label_names),
    )?;
    if let Some(c) = &r.calibration {
        put(
            out.join("threshold_sweep_calibrated.csv"),
            &sweep_csv(&c.sweep, &r.label_names),
        )?;
    }
    put(out.join("report.md"), &report_markdown(r))?;
    let model_dir = out.join("model");
    r.model.save(&model_dir)?;
    written.push(model_dir);
    Ok(written)
}
