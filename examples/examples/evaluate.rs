//! Scores any multi-label predictions file against a truth file with scikit-learn's metric
//! definitions and key names, so anyone's classifier can be judged the same way.
//!
//! ```text
//! cargo run --release --example evaluate -- --truth TRUTH.csv --scores SCORES.csv \
//!     [--threshold 0.5] [--json OUT.json] [--csv OUT.csv] [--sweep-svg SWEEP.svg]
//! ```
//!
//! - TRUTH.csv: header `id,<label1>,<label2>,...` with 0/1 values, or `id,labels` with the
//!   labels of each sample separated by `;`.
//! - SCORES.csv: header `id,<label1>,...` with scores in [0, 1] (0/1 predictions work too).
//!
//! Rows are matched by id. Prints the Markdown report; `--json` writes the report with
//! scikit-learn's key names (precision_samples, f1_micro, hamming_loss, ..., per_label).
//! A label is predicted when its score is strictly greater than the threshold.
use clap::Parser;
use darknet_eval::io::{align, read_scores_csv, read_truth_csv};
use darknet_eval::{default_grid, sweep, MultiLabelReport, SweepPoint};
use darknet_examples::{run, CliError};
use plotters::prelude::*;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Scores multi-label predictions against ground truth (scikit-learn definitions).
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Truth CSV: `id,<label1>,...` with 0/1 values, or `id,labels` with `;`-separated labels.
    #[arg(long)]
    truth: PathBuf,
    /// Scores CSV: `id,<label1>,...` with scores in [0, 1] (or 0/1 predictions).
    #[arg(long)]
    scores: PathBuf,
    /// Threshold τ: a label is predicted when its score is > τ.
    #[arg(long, default_value_t = 0.5)]
    threshold: f64,
    /// Write the report as JSON (scikit-learn's key names) to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write the report as long-format CSV (label,metric,value) to this file.
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Draw per-label precision, recall and F1 against τ (0.00..1.00) to this SVG file.
    #[arg(long)]
    sweep_svg: Option<PathBuf>,
    /// Write the τ sweep (threshold,label,precision,recall,f1) to this CSV file.
    #[arg(long)]
    sweep_csv: Option<PathBuf>,
}

fn write(path: &Path, text: &str) -> Result<(), CliError> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()).into())
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

/// Three panels (precision, recall, F1 against τ), one line per label (Paper A's Fig. 5).
fn sweep_svg(path: &Path, points: &[SweepPoint], labels: &[String]) -> Result<(), CliError> {
    let root = SVGBackend::new(path, (1500, 480)).into_drawing_area();
    root.fill(&WHITE)?;
    let panels = root.split_evenly((1, 3));
    type Get = fn(&darknet_eval::LabelPrf) -> f64;
    let metrics: [(&str, Get, SeriesLabelPosition); 3] = [
        (
            "precision",
            |s| s.precision,
            SeriesLabelPosition::LowerRight,
        ),
        ("recall", |s| s.recall, SeriesLabelPosition::LowerLeft),
        ("F1", |s| s.f1, SeriesLabelPosition::UpperRight),
    ];
    for (panel, (name, get, legend_at)) in panels.iter().zip(metrics) {
        let mut chart = ChartBuilder::on(panel)
            .caption(format!("{name} per label vs threshold"), ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(44)
            .build_cartesian_2d(0.0f64..1.0, 0.0f64..1.02)?;
        chart
            .configure_mesh()
            .x_desc("threshold τ")
            .y_desc(name)
            .draw()?;
        for (l, label) in labels.iter().enumerate() {
            let color = Palette99::pick(l).to_rgba();
            chart
                .draw_series(LineSeries::new(
                    points.iter().map(|p| (p.threshold, get(&p.per_label[l]))),
                    color.stroke_width(2),
                ))?
                .label(label.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color));
        }
        chart
            .configure_series_labels()
            .position(legend_at)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
    }
    root.present()?;
    Ok(())
}

fn main() -> ExitCode {
    run("evaluate", || {
        let args = Args::parse();
        if !(0.0..=1.0).contains(&args.threshold) {
            return Err(format!("--threshold {} is outside [0, 1]", args.threshold).into());
        }
        let truth = read_truth_csv(&args.truth)?;
        let scores = read_scores_csv(&args.scores)?;
        let data = align(&truth, &scores)?;
        let report = MultiLabelReport::from_scores(
            &data.labels,
            data.y_true.view(),
            data.y_score.view(),
            args.threshold,
        )?;
        println!(
            "{} samples, {} labels, threshold {} (predict when score > threshold)\n",
            report.n_samples,
            data.labels.len(),
            args.threshold
        );
        print!("{}", report.to_markdown());
        if let Some(p) = &args.json {
            write(p, &report.to_json())?;
            eprintln!("wrote {}", p.display());
        }
        if let Some(p) = &args.csv {
            write(p, &report.to_csv())?;
            eprintln!("wrote {}", p.display());
        }
        if args.sweep_svg.is_some() || args.sweep_csv.is_some() {
            let points = sweep(data.y_true.view(), data.y_score.view(), &default_grid())?;
            if let Some(p) = &args.sweep_csv {
                write(p, &sweep_csv(&points, &data.labels))?;
                eprintln!("wrote {}", p.display());
            }
            if let Some(p) = &args.sweep_svg {
                sweep_svg(p, &points, &data.labels).map_err(|e| format!("{}: {e}", p.display()))?;
                eprintln!("wrote {}", p.display());
            }
        }
        Ok(())
    })
}
