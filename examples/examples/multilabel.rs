//! Paper A end to end: labels darknet hosts with several labels at once (port graph → port
//! embeddings → host graphs → GCN), evaluated over 5 random partitions beside an MLP baseline
//! on per-host statistics, with saved models and a report beside the paper's figures.
//!
//! ```text
//! cargo run --release --example multilabel -- [--input PATH...] [--labels REPORTS.csv]
//!     [--seed N] [--out DIR] [--quick] [hyper-parameter flags]
//! cargo run --release --example multilabel -- --load out/multilabel/model --input NEW.pcap \
//!     --predict OUT.csv
//! ```
//!
//! Without `--input` the built-in synthetic darknet is used (a /20 over several days with
//! AbuseIPDB-style reports). Outputs in `--out` (default `out/multilabel`): `metrics.json`,
//! `partitions/k/{truth,scores,metrics}`, `threshold_sweep.{csv,svg}`, `training_curves.svg`,
//! `model/`, `report.md`. Only labelled hosts are trained on and evaluated; every host feeds
//! the port graph. With `--load ... --predict`, every host of the input is labelled by a saved
//! model without retraining (ports never seen at training get zero embeddings). With
//! `--stream` the input is read twice instead of being held in memory, for inputs larger than
//! memory (a month at Paper A's rate); the results are the same.
use clap::Parser;
use darknet_examples::{plots, run, Bars, CliError};
use darknet_pipelines::paper_a::{self, Input, MlpConfig, PaperAConfig, PaperAModel};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Paper A: multi-label classification of darknet hosts with port embeddings and a GCN.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Capture files or directories (pcap, pcapng, CSV); default: the synthetic darknet.
    #[arg(long, num_args = 1..)]
    input: Vec<PathBuf>,
    /// Labels: AbuseIPDB-style reports CSV (`ip,categories,...`) or a truth CSV (`id,<labels>`).
    #[arg(long)]
    labels: Option<PathBuf>,
    /// Seed of everything random (synthetic traffic, references, models, partitions).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output directory.
    #[arg(long, default_value = "out/multilabel")]
    out: PathBuf,
    /// A small, fast run (smaller darknet and models, few epochs).
    #[arg(long)]
    quick: bool,
    /// Load a saved model directory (with --predict) instead of training.
    #[arg(long)]
    load: Option<PathBuf>,
    /// Write predictions for every host of --input to this CSV (id, score per label, labels).
    #[arg(long)]
    predict: Option<PathBuf>,
    /// Source hosts of the synthetic darknet over the whole period (default 2,000; --quick 300).
    #[arg(long)]
    synth_hosts: Option<usize>,
    /// Days of the synthetic darknet (default 7; --quick 3).
    #[arg(long)]
    synth_days: Option<u32>,
    /// Packet-rate scale of the synthetic darknet (default 1).
    #[arg(long)]
    synth_intensity: Option<f64>,
    /// Fraction of synthetic hosts carrying a label set (default 0.6).
    #[arg(long)]
    synth_labelled_fraction: Option<f64>,
    /// Minimum reports in a category for its label.
    #[arg(long)]
    min_reports: Option<usize>,
    /// Number of reference ports R (Paper A: 512, 1024, 2048).
    #[arg(long)]
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

fn config(a: &Args) -> PaperAConfig {
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
    c.stream = a.stream;
    c
}

fn input(a: &Args) -> Input {
    if a.input.is_empty() {
        let mut t = if a.quick {
            paper_a::tiny_synth(a.seed)
        } else {
            paper_a::default_synth(a.seed)
        };
        if let Some(v) = a.synth_hosts {
            t = t.hosts(v);
        }
        if let Some(v) = a.synth_days {
            t = t.days(v);
        }
        if let Some(v) = a.synth_intensity {
            t = t.intensity(v);
        }
        if let Some(v) = a.synth_labelled_fraction {
            t = t.labelled_fraction(v);
        }
        Input::Synthetic(t)
    } else {
        Input::Files {
            paths: a.input.clone(),
            labels: a.labels.clone(),
        }
    }
}

fn predict(a: &Args, dir: &Path, out: &Path) -> Result<(), CliError> {
    if a.stream {
        eprintln!("multilabel: warning: --stream applies to training; --predict reads its input into memory");
    }
    let model = PaperAModel::load(dir)?;
    let p = model.predict_input(&input(a), &Bars::new("multilabel", false))?;
    std::fs::write(out, p.to_csv()).map_err(|e| format!("{}: {e}", out.display()))?;
    let n_pos = p
        .scores
        .iter()
        .filter(|&&s| f64::from(s) > p.threshold)
        .count();
    eprintln!(
        "multilabel: labelled {} hosts ({} predicted labels, {} hosts without a usable packet) -> {}",
        p.hosts.len(),
        n_pos,
        p.n_without_graph,
        out.display()
    );
    Ok(())
}

fn main() -> ExitCode {
    run("multilabel", || {
        let args = Args::parse();
        match (&args.load, &args.predict) {
            (Some(dir), Some(out)) => return predict(&args, dir, out),
            (Some(_), None) => return Err("--load needs --predict OUT.csv".into()),
            (None, Some(_)) => return Err("--predict needs --load DIR/model".into()),
            (None, None) => {}
        }
        let cfg = config(&args);
        let result = paper_a::run(&input(&args), &cfg, &Bars::new("multilabel", false))?;
        let mut written = paper_a::write_outputs(&args.out, &result)?;
        written.extend(plots::paper_a::write_plots(&args.out, &result)?);
        let f1 = |a: &darknet_eval::AggregateReport, k: &str| {
            a.scalars
                .iter()
                .find(|(n, _)| n == k)
                .and_then(|(_, v)| v.mean.zip(v.std))
                .map_or("n/a".to_string(), |(m, s)| format!("{m:.3} ± {s:.3}"))
        };
        println!(
            "GCN: sample P {} R {} F1 {} (Paper A: 0.80 / 0.81 / 0.76)",
            f1(&result.gcn, "precision_samples"),
            f1(&result.gcn, "recall_samples"),
            f1(&result.gcn, "f1_samples")
        );
        if let Some(b) = &result.baseline {
            println!(
                "MLP baseline on per-host statistics: sample P {} R {} F1 {}",
                f1(b, "precision_samples"),
                f1(b, "recall_samples"),
                f1(b, "f1_samples")
            );
        }
        let total: f64 = result.timings.iter().map(|t| t.1).sum();
        let stages: Vec<String> = result
            .timings
            .iter()
            .map(|(s, t)| format!("{s} {t:.1}s"))
            .collect();
        println!("time {total:.1}s: {}", stages.join(", "));
        println!(
            "wrote {} files under {} (report: {})",
            written.len(),
            args.out.display(),
            args.out.join("report.md").display()
        );
        Ok(())
    })
}
