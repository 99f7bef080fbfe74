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

#[cfg(test)]
mod tests {
    use darknet_pipelines::paper_a::{self, tiny_synth, Input, PaperAConfig};
    use darknet_pipelines::paper_b::{self, ModelKind, PaperBConfig, Variant};
    use darknet_pipelines::progress::Silent;

    fn tmp(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("darknet-plots-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn assert_svg(path: &std::path::Path) {
        let text = std::fs::read_to_string(path).unwrap();
        assert!(
            text.contains("<svg") && text.len() > 1000,
            "{}",
            path.display()
        );
    }

    #[test]
    fn paper_a_plots_are_svg() {
        let mut cfg = PaperAConfig::quick(1);
        cfg.partitions_to_run = 1;
        cfg.final_model = false;
        let r = paper_a::run(&Input::Synthetic(tiny_synth(1)), &cfg, &Silent).unwrap();
        let out = tmp("a");
        let files = super::paper_a::write_plots(&out, &r).unwrap();
        assert_eq!(files.len(), 2);
        files.iter().for_each(|f| assert_svg(f));
    }

    #[test]
    fn paper_b_plots_are_svg() {
        let mut cfg = PaperBConfig::quick(3);
        cfg.variants = vec![Variant::new(ModelKind::IGcn, true)];
        cfg.temporal = cfg.temporal.gcn_dims(vec![16, 8]).emb_dim(4).max_epochs(2);
        let input = paper_b::Input::Synthetic(paper_b::tiny_synth(3).days(4));
        let sweeps = [(paper_b::SweepParam::Epochs, vec![1])];
        let r = paper_b::run(&input, &cfg, None, &sweeps, &Silent).unwrap();
        let out = tmp("b");
        let files = super::paper_b::write_plots(&out, &r).unwrap();
        assert_eq!(files.len(), 2, "{files:?}");
        files.iter().for_each(|f| assert_svg(f));
    }
}
