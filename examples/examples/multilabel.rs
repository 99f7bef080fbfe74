//! Paper A end to end: labels darknet hosts with several labels at once (port graph → port
//! embeddings → host graphs → GCN), evaluated over 5 random partitions beside an MLP baseline
//! on per-host statistics, with saved models and a report beside the paper's figures.
//!
//! ```text
//! cargo run --release --example multilabel -- [--input PATH...] [--labels REPORTS.csv]
//!     [--seed N] [--out DIR] [--force] [--quick] [hyper-parameter flags]
//! cargo run --release --example multilabel -- --load out/multilabel/model --input NEW.pcap \
//!     --predict OUT.csv
//! ```
//!
//! Without `--input` the built-in synthetic darknet is used (a /20 over several days with
//! AbuseIPDB-style reports). Outputs in `--out` (default `out/multilabel`): `metrics.json`,
//! `partitions/k/{truth,scores,metrics}`, `threshold_sweep.{csv,svg}`, `training_curves.svg`,
//! `model/`, `report.md`, and `manifest.json` last (command line, seed, settings, every file
//! with its size). `--out` is checked before any work: a rerun into a directory holding our
//! manifest replaces exactly that run's files; a directory with other files needs `--force`.
//! A failing run leaves the previous run's files as they were. Only labelled hosts are trained on and evaluated; every host feeds
//! the port graph. With `--load ... --predict`, every host of the input is labelled by a saved
//! model without retraining (ports never seen at training get zero embeddings); `--predict -`
//! writes them to standard output. With
//! `--stream` the input is read twice instead of being held in memory, for inputs larger than
//! memory (a month at Paper A's rate); the results are the same. With `--aggregates DIR`
//! (built with `--features parquet`) it trains on the tables of the SQL aggregation stage
//! (the `aggregate` example or the Spark script) instead of packets, with the same results as
//! the packets they were computed from.
use clap::Parser;
use darknet_core::io::output::RunInfo;
use darknet_examples::cli::{self, default_text, OutputFile, RunDir};
use darknet_examples::inputs::InputArgs;
use darknet_examples::{errln, outln, plots, run, Bars, CliError};
use darknet_pipelines::paper_a::{self, Input, MlpConfig, PaperAConfig, PaperAModel};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Paper A: multi-label classification of darknet hosts with port embeddings and a GCN.
#[derive(Parser, Debug, serde::Serialize)]
#[command(version)]
struct Args {
    #[command(flatten)]
    inputs: InputArgs,
    /// Labels: AbuseIPDB-style reports CSV (`ip,categories,...`) or a truth CSV (`id,<labels>`).
    #[arg(long)]
    labels: Option<PathBuf>,
    /// Seed of everything random (synthetic traffic, references, models, partitions).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output directory of the run.
    #[arg(long, default_value = "out/multilabel")]
    out: PathBuf,
    /// Write into an output directory that holds files of something other than a previous run
    /// (they are left in place).
    #[arg(long)]
    force: bool,
    /// A small, fast run (smaller darknet and models, few epochs).
    #[arg(long)]
    quick: bool,
    /// Load a saved model directory (with --predict) instead of training.
    #[arg(long)]
    load: Option<PathBuf>,
    /// Write predictions for every host of the input to this CSV (id, score per label, labels);
    /// `-` for stdout.
    #[arg(long)]
    predict: Option<PathBuf>,
    /// Source hosts of the synthetic darknet over the whole period.
    #[arg(long, alias = "synth-hosts")]
    hosts: Option<usize>,
    /// Days of the synthetic darknet.
    #[arg(long, alias = "synth-days")]
    days: Option<u32>,
    /// Packet-rate scale of the synthetic darknet.
    #[arg(long, alias = "synth-intensity")]
    intensity: Option<f64>,
    /// Fraction of synthetic hosts carrying a label set.
    #[arg(long, alias = "synth-labelled-fraction")]
    labelled_fraction: Option<f64>,
    /// Minimum reports in a category for its label.
    #[arg(long)]
    min_reports: Option<usize>,
    /// Number of reference ports R (Paper A: 512, 1024, 2048).
    #[arg(long, alias = "refs")]
    references: Option<usize>,
    /// Port-embedding (latent) size (8, 16, 32).
    #[arg(long)]
    latent: Option<usize>,
    /// Auto-encoder hidden layers per half (0, 1, 2).
    #[arg(long)]
    ae_hidden: Option<usize>,
    /// Auto-encoder maximum epochs.
    #[arg(long)]
    ae_epochs: Option<usize>,
    /// Auto-encoder early-stopping patience.
    #[arg(long)]
    ae_patience: Option<usize>,
    /// Auto-encoder batch size.
    #[arg(long)]
    ae_batch_size: Option<usize>,
    /// Auto-encoder learning rate.
    #[arg(long)]
    ae_lr: Option<f64>,
    /// Classifier first-layer size (64, 128, 256).
    #[arg(long)]
    first_size: Option<usize>,
    /// GCN layers (1, 2, 3).
    #[arg(long)]
    gcn_layers: Option<usize>,
    /// Fully connected layers (1, 2, 3).
    #[arg(long)]
    fc_layers: Option<usize>,
    /// Decision threshold τ (a label is predicted when its score is > τ).
    #[arg(long)]
    threshold: Option<f64>,
    /// Classifier maximum epochs.
    #[arg(long)]
    epochs: Option<usize>,
    /// Classifier early-stopping patience (epochs without training-loss improvement).
    #[arg(long)]
    patience: Option<usize>,
    /// Classifier batch size (graphs).
    #[arg(long)]
    batch_size: Option<usize>,
    /// Classifier learning rate.
    #[arg(long)]
    lr: Option<f64>,
    /// Number of random partitions.
    #[arg(long)]
    partitions: Option<usize>,
    /// Train only the first N partitions.
    #[arg(long)]
    run_partitions: Option<usize>,
    /// ML-ROS growth of the training part, in percent.
    #[arg(long)]
    ros: Option<f64>,
    /// Skip the MLP baseline.
    #[arg(long)]
    no_baseline: bool,
    /// Skip the hybrid classifier (GCN pooled vector joined with the per-host statistics).
    #[arg(long)]
    no_hybrid: bool,
    /// Fraction of each partition's training part held out as validation data, which alone
    /// chooses per-label thresholds and the model saved for prediction; 0 = the paper's protocol.
    #[arg(long, default_value_t = 0.2)]
    validation_fraction: f64,
    /// The model saved for `--predict`: `auto` (the one validation data prefers), `gcn`,
    /// `hybrid` or `mlp`.
    #[arg(long, default_value = "auto", value_parser = ["auto", "gcn", "hybrid", "mlp"])]
    save_model: String,
    /// Search Paper A's Table II settings (the grid of `--search-grid`) by cross-validation on
    /// each partition's training part: `none`, `full` (every point) or `random:N` (N points
    /// drawn per partition).
    #[arg(long, default_value = "none")]
    search: String,
    /// The grid of `--search`: `classifier` (first size, GCN layers, FC layers: 27 points, the
    /// run's port embedding) or `table2` (also reference ports, latent size and auto-encoder
    /// depth: 729 points; one port embedding is computed per distinct embedding setting the
    /// drawn points need).
    #[arg(long, default_value = "classifier", value_parser = ["classifier", "table2"])]
    search_grid: String,
    /// Cross-validation folds of `--search`.
    #[arg(long, default_value_t = 4)]
    search_folds: usize,
    /// Keep partition 0's classifier instead of training a final one on every labelled host.
    #[arg(long)]
    no_final_model: bool,
    /// Keep BatchNorm's running statistics from training as they are (no recalibration pass).
    #[arg(long)]
    no_bn_recalibration: bool,
    /// Read the input twice instead of holding it in memory (memory per host, not per packet:
    /// for a month of captures); the same results. Captures must be in time order.
    #[arg(long)]
    stream: bool,
    /// Train on an aggregates directory instead of captures: the tables the SQL aggregation
    /// stage wrote (`aggregate` example, or the Spark script) from a packet dataset, with the
    /// same filter settings as this run; the same results as those packets. Needs the example
    /// built with `--features parquet`.
    #[arg(long, value_name = "DIR")]
    aggregates: Option<PathBuf>,
    /// Disable the bogon-source filter (reserved, private and loopback sources are kept: for
    /// captures made on such ranges).
    #[arg(long, alias = "keep-bogons")]
    no_bogon_filter: bool,
    /// Disable the isolated-packet filter.
    #[arg(long)]
    no_isolated_filter: bool,
    /// Disable the vertical-scan filter.
    #[arg(long)]
    no_vertical_filter: bool,
    /// Disable the periodic-pattern filter.
    #[arg(long)]
    no_periodic_filter: bool,
    /// Distinct TCP ports per week of a vertical scanner.
    #[arg(long)]
    vertical_tcp: Option<usize>,
    /// Distinct UDP ports per week of a vertical scanner.
    #[arg(long)]
    vertical_udp: Option<usize>,
}

fn config(a: &Args) -> Result<PaperAConfig, CliError> {
    let mut c = if a.quick {
        PaperAConfig::quick(a.seed)
    } else {
        PaperAConfig::default().with_seed(a.seed)
    };
    macro_rules! set {
        ($flag:expr, $dst:expr) => {
            if let Some(v) = $flag {
                $dst = v;
            }
        };
    }
    set!(a.min_reports, c.min_reports);
    set!(a.references, c.n_references);
    set!(a.latent, c.autoencoder.latent_dim);
    set!(a.ae_hidden, c.autoencoder.hidden_layers);
    set!(a.ae_epochs, c.autoencoder.train.max_epochs);
    set!(a.ae_patience, c.autoencoder.train.patience);
    set!(a.ae_batch_size, c.autoencoder.train.batch_size);
    set!(a.ae_lr, c.autoencoder.train.adam.learning_rate);
    set!(a.first_size, c.classifier.first_size);
    set!(a.gcn_layers, c.classifier.gcn_layers);
    set!(a.fc_layers, c.classifier.fc_layers);
    set!(a.threshold, c.classifier.threshold);
    set!(a.epochs, c.classifier.train.max_epochs);
    set!(a.patience, c.classifier.train.patience);
    set!(a.batch_size, c.classifier.train.batch_size);
    set!(a.lr, c.classifier.train.adam.learning_rate);
    set!(a.partitions, c.n_partitions);
    c.partitions_to_run = a.run_partitions.unwrap_or(c.n_partitions);
    set!(a.ros, c.ros_percentage);
    set!(a.vertical_tcp, c.filters.vertical_tcp_ports);
    set!(a.vertical_udp, c.filters.vertical_udp_ports);
    c.filters.bogon &= !a.no_bogon_filter;
    c.filters.isolated &= !a.no_isolated_filter;
    c.filters.vertical_scan &= !a.no_vertical_filter;
    c.filters.periodic &= !a.no_periodic_filter;
    c.final_model = !a.no_final_model;
    // The baseline trains like the classifier.
    c.baseline = (!a.no_baseline).then(|| MlpConfig {
        first_size: c.classifier.first_size,
        layers: c.classifier.fc_layers.max(1),
        train: c.classifier.train,
        bn_recalibration: !a.no_bn_recalibration,
    });
    c.bn_recalibration = !a.no_bn_recalibration;
    // The hybrid trains like the classifier too.
    c.hybrid = (!a.no_hybrid).then(|| {
        let mut h = darknet_nn::model::HybridClassifierConfig::default()
            .first_size(c.classifier.first_size)
            .gcn_layers(c.classifier.gcn_layers)
            .fc_layers(c.classifier.fc_layers)
            .threshold(c.classifier.threshold);
        h.train = c.classifier.train;
        h
    });
    c.validation_fraction = a.validation_fraction;
    let budget: darknet_eval::selection::Budget = a.search.parse()?;
    if budget != darknet_eval::selection::Budget::None {
        c.search = Some(paper_a::SearchSettings {
            budget,
            folds: a.search_folds,
            grid: match a.search_grid.as_str() {
                "table2" => paper_a::search::table2_grid(),
                _ => paper_a::search::classifier_grid(),
            },
        });
    }
    c.saved_model = match a.save_model.as_str() {
        "gcn" => Some(paper_a::ModelKind::Gcn),
        "hybrid" => Some(paper_a::ModelKind::Hybrid),
        "mlp" => Some(paper_a::ModelKind::Mlp),
        _ => None,
    };
    c.stream = a.stream;
    Ok(c)
}

/// The defaults of the options left unset, shown in `--help` (the full run's and `--quick`'s).
fn defaults() -> Vec<(&'static str, String)> {
    let (d, q) = (PaperAConfig::default(), PaperAConfig::quick(0));
    let (sd, sq) = (paper_a::default_synth(0), paper_a::tiny_synth(0));
    let (ad, aq) = (&d.autoencoder, &q.autoencoder);
    let (cd, cq) = (&d.classifier, &q.classifier);
    vec![
        ("hosts", default_text(sd.n_hosts, sq.n_hosts)),
        ("days", default_text(sd.days, sq.days)),
        ("intensity", default_text(sd.intensity, sq.intensity)),
        (
            "labelled_fraction",
            default_text(sd.labelled_fraction, sq.labelled_fraction),
        ),
        ("min_reports", paper_a::labels::MIN_REPORTS.to_string()),
        ("references", default_text(d.n_references, q.n_references)),
        ("latent", default_text(ad.latent_dim, aq.latent_dim)),
        (
            "ae_hidden",
            default_text(ad.hidden_layers, aq.hidden_layers),
        ),
        (
            "ae_epochs",
            default_text(ad.train.max_epochs, aq.train.max_epochs),
        ),
        (
            "ae_patience",
            default_text(ad.train.patience, aq.train.patience),
        ),
        (
            "ae_batch_size",
            default_text(ad.train.batch_size, aq.train.batch_size),
        ),
        (
            "ae_lr",
            default_text(ad.train.adam.learning_rate, aq.train.adam.learning_rate),
        ),
        ("first_size", default_text(cd.first_size, cq.first_size)),
        ("gcn_layers", default_text(cd.gcn_layers, cq.gcn_layers)),
        ("fc_layers", default_text(cd.fc_layers, cq.fc_layers)),
        ("threshold", default_text(cd.threshold, cq.threshold)),
        (
            "epochs",
            default_text(cd.train.max_epochs, cq.train.max_epochs),
        ),
        (
            "patience",
            default_text(cd.train.patience, cq.train.patience),
        ),
        (
            "batch_size",
            default_text(cd.train.batch_size, cq.train.batch_size),
        ),
        (
            "lr",
            default_text(cd.train.adam.learning_rate, cq.train.adam.learning_rate),
        ),
        ("partitions", default_text(d.n_partitions, q.n_partitions)),
        ("run_partitions", "every partition".to_string()),
        ("ros", default_text(d.ros_percentage, q.ros_percentage)),
        (
            "vertical_tcp",
            default_text(d.filters.vertical_tcp_ports, q.filters.vertical_tcp_ports),
        ),
        (
            "vertical_udp",
            default_text(d.filters.vertical_udp_ports, q.filters.vertical_udp_ports),
        ),
    ]
}

fn input(a: &Args, files: &[PathBuf]) -> Input {
    if let Some(dir) = &a.aggregates {
        return Input::Aggregates {
            dir: dir.clone(),
            labels: a.labels.clone(),
        };
    }
    if files.is_empty() {
        let mut t = if a.quick {
            paper_a::tiny_synth(a.seed)
        } else {
            paper_a::default_synth(a.seed)
        };
        if let Some(v) = a.hosts {
            t = t.hosts(v);
        }
        if let Some(v) = a.days {
            t = t.days(v);
        }
        if let Some(v) = a.intensity {
            t = t.intensity(v);
        }
        if let Some(v) = a.labelled_fraction {
            t = t.labelled_fraction(v);
        }
        Input::Synthetic(t)
    } else {
        Input::Files {
            paths: files.to_vec(),
            labels: a.labels.clone(),
        }
    }
}

/// Every file the run reads (captures, labels, a model directory): no output may be one.
fn all_inputs(a: &Args) -> Vec<PathBuf> {
    let mut v = a.inputs.all();
    v.extend(a.labels.iter().cloned());
    v.extend(a.load.iter().cloned());
    v.extend(a.aggregates.iter().cloned());
    v
}

/// The checks of `--aggregates` against the other flags and the build.
fn check_aggregates(a: &Args) -> Result<(), CliError> {
    if a.aggregates.is_none() {
        return Ok(());
    }
    if !cfg!(feature = "parquet") {
        return Err("--aggregates needs the example built with `--features parquet`".into());
    }
    if !a.inputs.is_empty() {
        return Err("--aggregates replaces the captures: give one or the other".into());
    }
    if a.load.is_some() {
        return Err("--aggregates trains; --load --predict labels captures".into());
    }
    if a.stream {
        errln!("multilabel: warning: --stream has no effect with --aggregates (no packet is read)");
    }
    Ok(())
}

fn predict(a: &Args, dir: &Path, out: &Path) -> Result<(), CliError> {
    if a.stream {
        errln!("multilabel: warning: --stream applies to training; --predict reads its input into memory");
    }
    // Checked and opened before any work: never over an input.
    let files = a.inputs.resolve_paths("multilabel")?;
    let mut inputs = all_inputs(a);
    inputs.extend(files.iter().cloned());
    let mut file = OutputFile::create(out, &inputs)?;
    let model = PaperAModel::load(dir)?;
    let p = model.predict_input(&input(a, &files), &Bars::new("multilabel", false))?;
    file.write_all(p.to_csv().as_bytes())
        .map_err(|e| format!("{}: cannot write: {e}", out.display()))?;
    file.commit()?;
    let n_pos = p
        .scores
        .iter()
        .filter(|&&s| f64::from(s) > p.threshold)
        .count();
    errln!(
        "multilabel: labelled {} hosts ({} predicted labels, {} hosts without a usable packet) -> {}",
        p.hosts.len(),
        n_pos,
        p.n_without_graph,
        if cli::is_dash(out) { "standard output".to_string() } else { out.display().to_string() }
    );
    Ok(())
}

fn main() -> ExitCode {
    run("multilabel", || {
        let args: Args = cli::parse_with_defaults(&defaults());
        check_aggregates(&args)?;
        match (&args.load, &args.predict) {
            (Some(dir), Some(out)) => return predict(&args, dir, out),
            (Some(_), None) => return Err("--load needs --predict OUT.csv".into()),
            (None, Some(_)) => return Err("--predict needs --load DIR/model".into()),
            (None, None) => {}
        }
        let cfg = config(&args)?;
        // Every check on --out before any work starts.
        let run_dir = RunDir::prepare(&args.out, args.force, &all_inputs(&args))?;
        let files = args.inputs.resolve_paths("multilabel")?;
        let result = paper_a::run(&input(&args, &files), &cfg, &Bars::new("multilabel", false))?;
        paper_a::write_outputs(run_dir.staging(), &result)?;
        plots::paper_a::write_plots(run_dir.staging(), &result)?;
        let settings = serde_json::json!({ "arguments": &args, "config": &cfg });
        let manifest = run_dir.finish(RunInfo::from_env(Some(args.seed), settings))?;
        let f1 = |a: &darknet_eval::AggregateReport, k: darknet_eval::ReportMetric| {
            let v = a.get(k);
            v.mean
                .zip(v.std)
                .map_or("n/a".to_string(), |(m, s)| format!("{m:.3} ± {s:.3}"))
        };
        outln!(
            "GCN: sample P {} R {} F1 {} (Paper A: 0.80 / 0.81 / 0.76)",
            f1(&result.gcn, darknet_eval::ReportMetric::PrecisionSamples),
            f1(&result.gcn, darknet_eval::ReportMetric::RecallSamples),
            f1(&result.gcn, darknet_eval::ReportMetric::F1Samples)
        )?;
        if let Some(b) = &result.baseline {
            outln!(
                "MLP baseline on per-host statistics: sample P {} R {} F1 {}",
                f1(b, darknet_eval::ReportMetric::PrecisionSamples),
                f1(b, darknet_eval::ReportMetric::RecallSamples),
                f1(b, darknet_eval::ReportMetric::F1Samples)
            )?;
        }
        if let Some(h) = &result.hybrid {
            outln!(
                "hybrid (GCN + per-host statistics): sample P {} R {} F1 {}",
                f1(h, darknet_eval::ReportMetric::PrecisionSamples),
                f1(h, darknet_eval::ReportMetric::RecallSamples),
                f1(h, darknet_eval::ReportMetric::F1Samples)
            )?;
        }
        if let Some(sel) = &result.selection {
            let c = sel.chosen_f1_samples;
            outln!(
                "chosen on validation data: {} per partition, test sample F1 {} with per-label thresholds; saved the {} model",
                sel.per_partition
                    .iter()
                    .map(|k| k.name())
                    .collect::<Vec<_>>()
                    .join(", "),
                c.mean
                    .zip(c.std)
                    .map_or("n/a".to_string(), |(m, s)| format!("{m:.3} ± {s:.3}")),
                sel.saved
            )?;
        }
        let total: f64 = result.timings.iter().map(|t| t.1).sum();
        let stages: Vec<String> = result
            .timings
            .iter()
            .map(|(s, t)| format!("{s} {t:.1}s"))
            .collect();
        outln!("time {total:.1}s: {}", stages.join(", "))?;
        outln!(
            "wrote {} files and manifest.json under {} (report: {})",
            manifest.files.len(),
            args.out.display(),
            args.out.join("report.md").display()
        )?;
        Ok(())
    })
}
