//! Paper B's plots: the training curves and the Figure-4 sweeps.

use super::PlotError;
use darknet_pipelines::paper_b::output::paper_sweep;
use darknet_pipelines::paper_b::{ModelKind, PaperBResult, SweepParam, SweepPoint};
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// Draws `training_curves.svg` (when a GNN variant ran) and one `<param>_sweep.svg` per sweep
/// into `dir`; returns their paths.
///
/// # Errors
/// [`PlotError`] naming the file.
pub fn write_plots(dir: &Path, r: &PaperBResult) -> Result<Vec<PathBuf>, PlotError> {
    let mut files = Vec::new();
    if r.variants
        .iter()
        .any(|v| v.variant.model != ModelKind::IDarkVec)
    {
        let p = dir.join("training_curves.svg");
        curves_svg(&p, r)?;
        files.push(p);
    }
    for (param, pts) in &r.sweeps {
        let p = dir.join(format!("{}_sweep.svg", param.name()));
        sweep_svg(&p, *param, pts)?;
        files.push(p);
    }
    Ok(files)
}

fn plot_err(path: &Path) -> impl Fn(String) -> PlotError + '_ {
    move |reason| PlotError {
        path: path.to_path_buf(),
        reason,
    }
}

/// Macro F1 against the swept parameter, ours (with ± std bars) and the paper's (Figure 4).
///
/// # Errors
/// [`PlotError`] when drawing or writing the file fails.
pub fn sweep_svg(path: &Path, param: SweepParam, points: &[SweepPoint]) -> Result<(), PlotError> {
    let e = plot_err(path);
    let paper = paper_sweep(param);
    let xmax = points
        .iter()
        .map(|p| p.value)
        .chain(paper.iter().map(|p| p.0))
        .max()
        .unwrap_or(1) as f64;
    let root = SVGBackend::new(path, (720, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|x| e(x.to_string()))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("i-GCN-GRU with features: macro F1 vs {}", param.name()),
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(48)
        .build_cartesian_2d(-0.5f64..xmax + 0.5, 0.0f64..1.02)
        .map_err(|x| e(x.to_string()))?;
    chart
        .configure_mesh()
        .x_desc(match param {
            SweepParam::History => "history H (days)",
            SweepParam::Epochs => "incremental epochs per snapshot",
        })
        .y_desc("macro F1 (3-NN)")
        .draw()
        .map_err(|x| e(x.to_string()))?;
    let ours: Vec<(f64, f64, f64)> = points
        .iter()
        .filter_map(|p| {
            p.macro_f1
                .mean
                .map(|m| (p.value as f64, m, p.macro_f1.std.unwrap_or(0.0)))
        })
        .collect();
    chart
        .draw_series(LineSeries::new(
            ours.iter().map(|&(x, y, _)| (x, y)),
            BLUE.stroke_width(2),
        ))
        .map_err(|x| e(x.to_string()))?
        .label("ours (mean over test days)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], BLUE));
    chart
        .draw_series(ours.iter().map(|&(x, y, sd)| {
            PathElement::new(vec![(x, (y - sd).max(0.0)), (x, (y + sd).min(1.02))], BLUE)
        }))
        .map_err(|x| e(x.to_string()))?;
    chart
        .draw_series(
            ours.iter()
                .map(|&(x, y, _)| Circle::new((x, y), 3, BLUE.filled())),
        )
        .map_err(|x| e(x.to_string()))?;
    chart
        .draw_series(LineSeries::new(
            paper.iter().map(|&(x, y)| (x as f64, y)),
            RED.stroke_width(2),
        ))
        .map_err(|x| e(x.to_string()))?
        .label("Paper B, Figure 4")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], RED));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|x| e(x.to_string()))?;
    root.present().map_err(|x| e(x.to_string()))
}

/// Link-prediction loss of every GNN variant against its optimizer step.
///
/// # Errors
/// [`PlotError`] when drawing or writing the file fails.
pub fn curves_svg(path: &Path, r: &PaperBResult) -> Result<(), PlotError> {
    let e = plot_err(path);
    let curves: Vec<(&str, Vec<(f64, f64)>)> = r
        .variants
        .iter()
        .filter(|v| v.variant.model != ModelKind::IDarkVec)
        .map(|v| {
            (
                v.name.as_str(),
                v.curve
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| c.2.is_finite())
                    .map(|(k, c)| (k as f64, c.2))
                    .collect(),
            )
        })
        .collect();
    let xmax = curves.iter().map(|c| c.1.len()).max().unwrap_or(1).max(1) as f64;
    let ymax = curves
        .iter()
        .flat_map(|c| c.1.iter().map(|p| p.1))
        .fold(0.0f64, f64::max)
        .max(1e-3)
        * 1.05;
    let root = SVGBackend::new(path, (900, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|x| e(x.to_string()))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "link-prediction loss (NLL) per optimizer step",
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(48)
        .build_cartesian_2d(0.0f64..xmax, 0.0f64..ymax)
        .map_err(|x| e(x.to_string()))?;
    chart
        .configure_mesh()
        .x_desc("optimizer step (days and epochs in training order)")
        .y_desc("NLL")
        .draw()
        .map_err(|x| e(x.to_string()))?;
    for (k, (name, pts)) in curves.iter().enumerate() {
        let color = Palette99::pick(k).to_rgba();
        chart
            .draw_series(LineSeries::new(pts.iter().copied(), color.stroke_width(2)))
            .map_err(|x| e(x.to_string()))?
            .label(name.to_string())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|x| e(x.to_string()))?;
    root.present().map_err(|x| e(x.to_string()))
}
