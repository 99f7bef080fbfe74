//! Scores any multi-label predictions file against a truth file with scikit-learn's metric
//! definitions and key names, so anyone's classifier can be judged the same way.
//!
//! ```text
//! cargo run --release --example evaluate -- --labels TRUTH.csv --scores SCORES.csv \
//!     [--threshold 0.5] [--json OUT.json] [--csv OUT.csv] [--sweep-svg SWEEP.svg]
//! ```
//!
//! - TRUTH.csv: header `id,<label1>,<label2>,...` with 0/1 values, or `id,labels` with the
//!   labels of each sample separated by `;` (the id column may also be named `ip` or `src_ip`,
//!   as in the label files synth and multilabel write).
//! - SCORES.csv: header `id,<label1>,...` with scores in [0, 1] (0/1 predictions work too).
//!
//! Rows are matched by id. Prints the Markdown report; `--json` writes the report with
//! scikit-learn's key names (precision_samples, f1_micro, hamming_loss, ..., per_label).
//! A label is predicted when its score is strictly greater than the threshold. Every output may
//! be `-` (standard output; the Markdown report then goes to standard error).
use clap::Parser;
use darknet_eval::io::{align, read_scores_csv, read_truth_csv};
use darknet_eval::{default_grid, sweep, MultiLabelReport, SweepPoint};
use darknet_examples::cli::{self, write_output, OutputFile};
use darknet_examples::{errln, out, plots, run, CliError};
use std::path::PathBuf;
use std::process::ExitCode;

/// Scores multi-label predictions against ground truth (scikit-learn's metric definitions).
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Truth CSV: `id,<label1>,...` with 0/1 values, or `id,labels` with `;`-separated labels
    /// (id column `id`, `ip` or `src_ip`).
    #[arg(long, aliases = ["truth", "gt"])]
    labels: PathBuf,
    /// Scores CSV: `id,<label1>,...` with scores in [0, 1] (or 0/1 predictions).
    #[arg(long)]
    scores: PathBuf,
    /// Threshold τ: a label is predicted when its score is > τ.
    #[arg(long, default_value_t = 0.5)]
    threshold: f64,
    /// Write the report as JSON (scikit-learn's key names) to this file (`-`: stdout).
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write the report as long-format CSV (label,metric,value) to this file (`-`: stdout).
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Draw per-label precision, recall and F1 against τ (0.00..1.00) to this SVG file
    /// (`-`: stdout).
    #[arg(long)]
    sweep_svg: Option<PathBuf>,
    /// Write the τ sweep (threshold,label,precision,recall,f1) to this CSV file (`-`: stdout).
    #[arg(long)]
    sweep_csv: Option<PathBuf>,
}

fn sweep_csv(points: &[SweepPoint], labels: &[String]) -> String {
    let mut out = String::from("threshold,label,precision,recall,f1\n");
    for p in points {
        for (l, s) in labels.iter().zip(&p.per_label) {
            out.push_str(&format!(
                "{},{},{},{},{}\n",
                p.threshold, l, s.precision, s.recall, s.f1
            ));
        }
        for (name, s) in [
            ("samples", &p.samples),
            ("micro", &p.micro),
            ("macro", &p.macro_avg),
        ] {
            out.push_str(&format!(
                "{},{name} avg,{},{},{}\n",
                p.threshold, s.precision, s.recall, s.f1
            ));
        }
    }
    out
}

fn main() -> ExitCode {
    run("evaluate", || {
        let args = Args::parse();
        if !(0.0..=1.0).contains(&args.threshold) {
            return Err(format!("--threshold {} is outside [0, 1]", args.threshold).into());
        }
        cli::one_stdout(&[
            ("--json", args.json.as_deref()),
            ("--csv", args.csv.as_deref()),
            ("--sweep-svg", args.sweep_svg.as_deref()),
            ("--sweep-csv", args.sweep_csv.as_deref()),
        ])?;
        // Every output is checked and opened before any work: never over an input.
        let inputs = [args.labels.clone(), args.scores.clone()];
        let open = |p: &Option<PathBuf>| -> Result<Option<(PathBuf, OutputFile)>, CliError> {
            p.as_ref()
                .map(|p| Ok((p.clone(), OutputFile::create(p, &inputs)?)))
                .transpose()
        };
        let (json, csv) = (open(&args.json)?, open(&args.csv)?);
        let (svg, sweep_out) = (open(&args.sweep_svg)?, open(&args.sweep_csv)?);
        let report_to_stderr = [&json, &csv, &svg, &sweep_out]
            .iter()
            .any(|o| o.as_ref().is_some_and(|(_, f)| f.is_stdout()));
        let truth = read_truth_csv(&args.labels)?;
        let scores = read_scores_csv(&args.scores)?;
        let data = align(&truth, &scores)?;
        let report = MultiLabelReport::from_scores(
            &data.labels,
            data.y_true.view(),
            data.y_score.view(),
            args.threshold,
        )?;
        let text = format!(
            "{} samples, {} labels, threshold {} (predict when score > threshold)\n\n{}",
            report.n_samples,
            data.labels.len(),
            args.threshold,
            report.to_markdown()
        );
        if report_to_stderr {
            errln!("{}", text.trim_end());
        } else {
            out!("{text}")?;
        }
        let done = |p: &PathBuf| {
            if !cli::is_dash(p) {
                errln!("wrote {}", p.display());
            }
        };
        if let Some((p, f)) = json {
            write_output(f, report.to_json().as_bytes())?;
            done(&p);
        }
        if let Some((p, f)) = csv {
            write_output(f, report.to_csv().as_bytes())?;
            done(&p);
        }
        if svg.is_some() || sweep_out.is_some() {
            let points = sweep(data.y_true.view(), data.y_score.view(), &default_grid())?;
            if let Some((p, f)) = sweep_out {
                write_output(f, sweep_csv(&points, &data.labels).as_bytes())?;
                done(&p);
            }
            if let Some((p, f)) = svg {
                let text = plots::paper_a::sweep_svg_text(&p, &points, &data.labels)?;
                write_output(f, text.as_bytes())?;
                done(&p);
            }
        }
        Ok(())
    })
}
