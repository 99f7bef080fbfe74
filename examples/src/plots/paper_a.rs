//! Paper A's plots: the threshold sweep (Fig. 5) and the training curves.

use super::PlotError;
use darknet_eval::SweepPoint;
use darknet_pipelines::paper_a::PaperAResult;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// Draws `threshold_sweep.svg` and `training_curves.svg` into `out`; returns their paths.
///
/// # Errors
/// [`PlotError`] naming the file.
pub fn write_plots(out: &Path, r: &PaperAResult) -> Result<Vec<PathBuf>, PlotError> {
    let sweep = out.join("threshold_sweep.svg");
    sweep_svg(&sweep, &r.sweep, &r.label_names)?;
    let curves = out.join("training_curves.svg");
    curves_svg(&curves, r)?;
    Ok(vec![sweep, curves])
}

fn plot_err(path: &Path) -> impl Fn(String) -> PlotError + '_ {
    move |reason| PlotError {
        path: path.to_path_buf(),
        reason,
    }
}

/// Per-label precision, recall and F1 against τ, three panels (Paper A's Fig. 5), written to
/// `path`.
///
/// # Errors
/// [`PlotError`] naming the file.
pub fn sweep_svg(path: &Path, points: &[SweepPoint], labels: &[String]) -> Result<(), PlotError> {
    let text = sweep_svg_text(path, points, labels)?;
    std::fs::write(path, text).map_err(|x| plot_err(path)(x.to_string()))
}

/// [`sweep_svg`] as SVG text; `path` only names the plot in errors.
///
/// # Errors
/// [`PlotError`] naming `path` when drawing fails.
pub fn sweep_svg_text(
    path: &Path,
    points: &[SweepPoint],
    labels: &[String],
) -> Result<String, PlotError> {
    let mut text = String::new();
    draw_sweep(path, &mut text, points, labels)?;
    Ok(text)
}

fn draw_sweep(
    path: &Path,
    text: &mut String,
    points: &[SweepPoint],
    labels: &[String],
) -> Result<(), PlotError> {
    let e = plot_err(path);
    let root = SVGBackend::with_string(text, (1500, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|x| e(x.to_string()))?;
    let panels = root.split_evenly((1, 3));
    type Get = fn(&darknet_eval::LabelPrf) -> f64;
    // Each legend where its curves leave room: precision rises, recall falls, F1 peaks.
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
            .build_cartesian_2d(0.0f64..1.0, 0.0f64..1.02)
            .map_err(|x| e(x.to_string()))?;
        chart
            .configure_mesh()
            .x_desc("threshold τ")
            .y_desc(name)
            .draw()
            .map_err(|x| e(x.to_string()))?;
        for (l, label) in labels.iter().enumerate() {
            let color = Palette99::pick(l).to_rgba();
            chart
                .draw_series(LineSeries::new(
                    points.iter().map(|p| (p.threshold, get(&p.per_label[l]))),
                    color.stroke_width(2),
                ))
                .map_err(|x| e(x.to_string()))?
                .label(label.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color));
        }
        chart
            .configure_series_labels()
            .position(legend_at)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|x| e(x.to_string()))?;
    }
    root.present().map_err(|x| e(x.to_string()))
}

/// A named curve: name, (epoch, loss) points, dashed.
type Curve = (String, Vec<(f64, f64)>, bool);

/// Training loss against epoch: the auto-encoder (left); the GCN of each partition (solid) and
/// the baseline MLP (dashed) (right).
pub fn curves_svg(path: &Path, r: &PaperAResult) -> Result<(), PlotError> {
    let e = plot_err(path);
    let root = SVGBackend::new(path, (1200, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|x| e(x.to_string()))?;
    let panels = root.split_evenly((1, 2));
    let ae: Vec<(f64, f64)> = r
        .autoencoder_curve
        .records
        .iter()
        .map(|x| (x.epoch as f64, x.loss))
        .collect();
    let mut series: Vec<Curve> = Vec::new();
    for p in &r.partitions {
        series.push((
            format!("GCN {}", p.k),
            p.gcn_curve
                .records
                .iter()
                .map(|x| (x.epoch as f64, x.loss))
                .collect(),
            false,
        ));
        if let Some((_, _, c)) = &p.baseline {
            series.push((
                format!("MLP {}", p.k),
                c.records.iter().map(|x| (x.epoch as f64, x.loss)).collect(),
                true,
            ));
        }
    }
    let groups: [(&str, Vec<Curve>); 2] = [
        (
            "port auto-encoder (MSE)",
            vec![("auto-encoder".into(), ae, false)],
        ),
        ("classifiers (BCE)", series),
    ];
    for (panel, (title, ss)) in panels.iter().zip(groups) {
        let max_x = ss
            .iter()
            .flat_map(|s| s.1.iter().map(|p| p.0))
            .fold(1.0f64, f64::max);
        let max_y = ss
            .iter()
            .flat_map(|s| s.1.iter().map(|p| p.1))
            .filter(|v| v.is_finite())
            .fold(1e-6f64, f64::max);
        let mut chart = ChartBuilder::on(panel)
            .caption(format!("training loss: {title}"), ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0f64..max_x, 0.0f64..max_y * 1.05)
            .map_err(|x| e(x.to_string()))?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc("loss")
            .draw()
            .map_err(|x| e(x.to_string()))?;
        for (i, (name, pts, dashed)) in ss.into_iter().enumerate() {
            let color = Palette99::pick(
                i / if title.starts_with("classifiers") && r.config.baseline.is_some() {
                    2
                } else {
                    1
                },
            )
            .to_rgba();
            if dashed {
                chart
                    .draw_series(DashedLineSeries::new(pts, 6, 4, color.stroke_width(1)))
                    .map_err(|x| e(x.to_string()))?
                    .label(name)
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color));
            } else {
                chart
                    .draw_series(LineSeries::new(pts, color.stroke_width(2)))
                    .map_err(|x| e(x.to_string()))?
                    .label(name)
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color));
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|x| e(x.to_string()))?;
    }
    root.present().map_err(|x| e(x.to_string()))
}
