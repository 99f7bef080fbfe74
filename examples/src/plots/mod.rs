//! SVG plots of the pipelines' results (plotters): what a picture says better than a table.

pub mod paper_a;
pub mod paper_b;

use std::path::PathBuf;

/// A plot could not be drawn or written.
#[derive(Debug, thiserror::Error)]
#[error("cannot draw {}: {reason}", path.display())]
pub struct PlotError {
    /// The SVG file.
    pub path: PathBuf,
    /// What plotters reported.
    pub reason: String,
}
