//! Paper A's three models side by side and the choice made on validation data.

use darknet_pipelines::paper_a::{self, tiny_synth, Input, ModelKind, PaperAConfig, PaperAModel};
use darknet_pipelines::progress::Silent;

fn config(fraction: f64) -> PaperAConfig {
    let mut c = PaperAConfig::quick(4);
    c.partitions_to_run = 2;
    c.validation_fraction = fraction;
    c
}

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("darknet-sel-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn three_models_reported_and_the_choice_is_seeded_and_saved() {
    let input = Input::Synthetic(tiny_synth(4));
    let cfg = config(0.25);
    let r = paper_a::run(&input, &cfg, &Silent).unwrap();
    assert!(r.hybrid.is_some() && r.baseline.is_some());
    for p in &r.partitions {
        // The validation slice comes out of the training part, never the test part.
        assert!(p.n_validation > 0);
        assert!(p.n_train > p.n_validation);
        assert!(!p.test_hosts.is_empty());
        assert_eq!(p.validated.len(), 3);
        assert!(p.hybrid.is_some());
    }
    let sel = r
        .selection
        .as_ref()
        .expect("selection with validation data");
    assert_eq!(sel.per_partition.len(), 2);
    assert_eq!(sel.thresholds.len(), r.label_names.len());
    assert_eq!(r.model.meta.classifier_kind, sel.saved);
    assert_eq!(r.model.hybrid.is_some(), sel.saved == ModelKind::Hybrid);
    assert_eq!(r.model.mlp.is_some(), sel.saved == ModelKind::Mlp);
    assert_eq!(r.model.meta.thresholds.as_ref(), Some(&sel.thresholds));

    // Same seed, same choice.
    let again = paper_a::run(&input, &cfg, &Silent).unwrap();
    assert_eq!(again.selection, r.selection);
    assert_eq!(again.hybrid, r.hybrid);

    // The saved model (whichever kind) reloads and predicts the same, with its thresholds.
    let out = tmp("saved");
    paper_a::write_outputs(&out, &r).unwrap();
    let loaded = PaperAModel::load(&out.join("model")).unwrap();
    assert_eq!(loaded, r.model);
    let trace = tiny_synth(5).build().unwrap().trace();
    let a = r.model.predict(&trace, 50).unwrap();
    let b = loaded.predict(&trace, 1000).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.thresholds.as_ref(), Some(&sel.thresholds));
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    assert!(m["hybrid"]["f1_samples"]["mean"].as_f64().is_some());
    assert!(m["selection"]["saved"].as_str().is_some());
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("Chosen on validation data"));

    // Calibrated scores: fitted on validation data, reported with their own sweep.
    let c = r
        .calibration
        .as_ref()
        .expect("calibration with validation data");
    assert_eq!(c.calibrated.brier.len(), r.label_names.len());
    assert!(c.raw.brier_mean.is_finite() && c.calibrated.brier_mean.is_finite());
    assert_eq!(c.sweep.len(), r.sweep.len());
    for p in &r.partitions {
        let cal = p.gcn_calibrated.as_ref().unwrap();
        assert_eq!(cal.dim(), p.gcn_scores.dim());
        assert!(cal.iter().all(|s| (0.0..=1.0).contains(s)));
    }
    assert!(m["calibration"]["calibrated"]["ece_mean"]
        .as_f64()
        .is_some());
    assert!(out.join("threshold_sweep_calibrated.csv").is_file());
    assert!(report.contains("Calibrated scores"));
}

#[test]
fn a_saved_hybrid_model_reloads_and_predicts_the_same() {
    // The settings name the hybrid as the model to save.
    let input = Input::Synthetic(tiny_synth(6));
    let mut cfg = config(0.25);
    cfg.partitions_to_run = 1;
    cfg.saved_model = Some(ModelKind::Hybrid);
    let r = paper_a::run(&input, &cfg, &Silent).unwrap();
    let sel = r.selection.as_ref().unwrap();
    assert_eq!(sel.saved, ModelKind::Hybrid, "{sel:?}");
    let model = r.model.clone();
    assert!(model.hybrid.is_some());
    let out = tmp("hybrid");
    model.save(&out).unwrap();
    let loaded = PaperAModel::load(&out).unwrap();
    assert_eq!(loaded, model);
    let trace = tiny_synth(7).build().unwrap().trace();
    let a = model.predict(&trace, 40).unwrap();
    assert_eq!(a, loaded.predict(&trace, 999).unwrap());
    assert!(a.to_csv().lines().count() > 10);
}

/// When the MLP on per-host statistics is the model chosen (here: named by the settings), it
/// is the model saved, reloaded and used by `predict`: the scores are the MLP's, not the GCN's.
#[test]
fn a_saved_mlp_model_reloads_and_predicts_with_the_mlp() {
    let input = Input::Synthetic(tiny_synth(6));
    let mut cfg = config(0.25);
    cfg.partitions_to_run = 1;
    cfg.saved_model = Some(ModelKind::Mlp);
    let r = paper_a::run(&input, &cfg, &Silent).unwrap();
    assert_eq!(r.selection.as_ref().unwrap().saved, ModelKind::Mlp);
    let model = r.model.clone();
    assert_eq!(model.meta.classifier_kind, ModelKind::Mlp);
    assert!(model.mlp.is_some() && model.hybrid.is_none());
    let out = tmp("mlp");
    model.save(&out).unwrap();
    assert!(out.join("mlp.safetensors").is_file());
    let loaded = PaperAModel::load(&out).unwrap();
    assert_eq!(loaded, model);
    let trace = tiny_synth(7).build().unwrap().trace();
    let a = model.predict(&trace, 40).unwrap();
    assert_eq!(a, loaded.predict(&trace, 999).unwrap());
    // The same host set as a graph model, scored by the MLP from the hosts' statistics.
    let mut gcn_only = model.clone();
    gcn_only.mlp = None;
    let g = gcn_only.predict(&trace, 999).unwrap();
    assert_eq!(a.hosts, g.hosts);
    assert_ne!(a.scores, g.scores);
    let sources = trace.by_source();
    let h = a.hosts[0];
    let stats = darknet_core::HostStats::from_indices(
        &trace,
        h,
        sources.packets_of(sources.position(h).unwrap()),
    )
    .features();
    let x = ndarray::Array2::from_shape_vec((1, stats.len()), stats.to_vec()).unwrap();
    let want = model.mlp.as_ref().unwrap().scores(x.view()).unwrap();
    assert_eq!(a.scores.row(0), want.row(0));
    std::fs::remove_dir_all(&out).ok();
}

#[test]
fn fraction_zero_is_the_papers_protocol() {
    let input = Input::Synthetic(tiny_synth(4));
    let mut with_hybrid = config(0.0);
    with_hybrid.partitions_to_run = 1;
    with_hybrid.final_model = false;
    let mut paper = with_hybrid.clone();
    paper.hybrid = None;
    let a = paper_a::run(&input, &with_hybrid, &Silent).unwrap();
    let b = paper_a::run(&input, &paper, &Silent).unwrap();
    // The hybrid does not disturb the paper's models, nothing is held out, the GCN is saved
    // with τ for every label.
    assert_eq!(a.gcn, b.gcn);
    assert_eq!(a.baseline, b.baseline);
    assert!(a.selection.is_none() && a.partitions[0].n_validation == 0);
    assert_eq!(a.model.meta.classifier_kind, ModelKind::Gcn);
    assert!(a.model.meta.thresholds.is_none() && a.model.hybrid.is_none());
    assert!(a.calibration.is_none() && a.partitions[0].gcn_calibrated.is_none());
}

#[test]
fn bad_selection_settings_are_errors() {
    let mut c = config(0.95);
    c.partitions_to_run = 1;
    let e = paper_a::run(&Input::Synthetic(tiny_synth(4)), &c, &Silent).unwrap_err();
    assert!(e.to_string().contains("validation_fraction"), "{e}");
    let mut c = config(0.2);
    c.saved_model = Some(ModelKind::Mlp);
    c.baseline = None;
    let e = paper_a::run(&Input::Synthetic(tiny_synth(4)), &c, &Silent).unwrap_err();
    assert!(e.to_string().contains("saved_model"), "{e}");
}

#[test]
fn hyper_parameter_search_is_seeded_and_trains_the_chosen_gcn() {
    use darknet_eval::selection::{Budget, ParamGrid};
    use darknet_pipelines::paper_a::SearchSettings;
    let input = Input::Synthetic(tiny_synth(4));
    let mut cfg = config(0.2);
    cfg.partitions_to_run = 1;
    cfg.final_model = false;
    cfg.hybrid = None;
    cfg.search = Some(SearchSettings {
        budget: Budget::Full,
        folds: 2,
        grid: ParamGrid::new()
            .axis("first_size", [8, 16])
            .unwrap()
            .axis("gcn_layers", [1, 2])
            .unwrap(),
    });
    let r = paper_a::run(&input, &cfg, &Silent).unwrap();
    let s = r.partitions[0].search.as_ref().expect("a search ran");
    assert_eq!(s.candidates.len(), 4);
    assert!(s.candidates.iter().all(|c| c.fold_scores.len() == 2));
    let best = s.best();
    let c = &r.partitions[0].classifier;
    assert_eq!(c.config().first_size, best.size("first_size").unwrap());
    assert_eq!(c.config().gcn_layers, best.size("gcn_layers").unwrap());
    let again = paper_a::run(&input, &cfg, &Silent).unwrap();
    assert_eq!(again.partitions[0].search, r.partitions[0].search);
    let md = darknet_pipelines::paper_a::output::report_markdown(&r);
    assert!(md.contains("Hyper-parameter search"), "{md}");

    // An axis the classifier does not have is an error naming it.
    cfg.search.as_mut().unwrap().grid = ParamGrid::new().axis("dropout", [1, 2]).unwrap();
    let e = paper_a::run(&input, &cfg, &Silent).unwrap_err();
    assert!(e.to_string().contains("dropout"), "{e}");
}
