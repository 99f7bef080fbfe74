//! Reports (JSON keys, CSV, Markdown, aggregate) and thresholds (τ, sweep, per-label choice).

use darknet_eval::report::ReportMetric;
use darknet_eval::{
    apply_thresholds, binarize, choose_thresholds, default_grid, sweep, AggregateReport,
    MultiLabelReport,
};
use ndarray::array;
use serde_json::Value;

fn names() -> Vec<String> {
    ["Port Scan", "Hacking", "SSH"].map(String::from).to_vec()
}

fn report(tau: f64) -> MultiLabelReport {
    let y_true = array![[1u8, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 0]];
    let scores = array![
        [0.9, 0.2, 0.6],
        [0.1, 0.7, 0.8],
        [0.8, 0.4, 0.3],
        [0.6, 0.1, 0.2]
    ];
    MultiLabelReport::from_scores(&names(), y_true.view(), scores.view(), tau).unwrap()
}

#[test]
fn json_uses_scikit_learn_keys_in_order() {
    let r = report(0.5);
    let text = r.to_json();
    let v: Value = serde_json::from_str(&text).unwrap();
    for k in darknet_eval::report::SCALAR_KEYS {
        assert!(v[k].is_number(), "{k}");
    }
    let pl = &v["per_label"]["Port Scan"];
    for k in darknet_eval::report::LABEL_KEYS {
        assert!(!pl[k].is_null(), "{k}");
    }
    assert_eq!(pl["support"], 2);
    // Keys keep label order, not alphabetical order.
    let p_scan = text.find("\"Port Scan\"").unwrap();
    let p_hack = text.find("\"Hacking\"").unwrap();
    assert!(p_scan < p_hack);
    let p_first = text.find("\"precision_samples\"").unwrap();
    let p_last = text.find("\"label_ranking_average_precision\"").unwrap();
    assert!(p_first < p_last);
}

#[test]
fn csv_and_markdown_render_every_figure() {
    let r = report(0.5);
    let csv = r.to_csv();
    assert!(csv.starts_with("label,metric,value\n"));
    assert_eq!(csv.lines().count(), 1 + 18 + 3 * 6);
    assert!(csv.contains("\nPort Scan,f1,"));
    assert!(csv.contains(",hamming_loss,"));
    let md = r.to_markdown();
    assert!(md.contains("| Port Scan |"));
    assert!(md.contains("| **micro avg** |"));
    assert!(md.contains("| label_ranking_loss |"));
}

#[test]
fn undefined_values_render_as_null_and_na() {
    // Label 2 never true: ROC AUC and AP undefined.
    let y_true = array![[1u8, 0, 0], [0, 1, 0]];
    let scores = array![[0.9, 0.2, 0.6], [0.1, 0.7, 0.8]];
    let r = MultiLabelReport::from_scores(&names(), y_true.view(), scores.view(), 0.5).unwrap();
    let v: Value = serde_json::from_str(&r.to_json()).unwrap();
    assert!(v["per_label"]["SSH"]["roc_auc"].is_null());
    assert!(v["per_label"]["SSH"]["average_precision"].is_null());
    assert!(r.to_markdown().contains("n/a"));
    assert!(r.to_csv().contains("SSH,roc_auc,\n"));
}

#[test]
fn aggregate_gives_mean_and_sample_std() {
    let reports = [report(0.3), report(0.5), report(0.7)];
    let agg = AggregateReport::from_reports(&reports).unwrap();
    let vals: Vec<f64> = reports.iter().map(|r| r.f1_micro).collect();
    let mean = vals.iter().sum::<f64>() / 3.0;
    let std = (vals.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 2.0).sqrt();
    let ms = &agg.f1_micro;
    assert_eq!(agg.get(ReportMetric::F1Micro), *ms);
    assert!((ms.mean.unwrap() - mean).abs() < 1e-12);
    assert!((ms.std.unwrap() - std).abs() < 1e-12);
    let v: Value = serde_json::from_str(&agg.to_json()).unwrap();
    assert!(v["f1_micro"]["mean"].is_number() && v["f1_micro"]["std"].is_number());
    assert!(v["per_label"]["Hacking"]["f1"]["mean"].is_number());
    assert!(agg.to_markdown().contains(" ± "));
    assert!(agg.to_csv().starts_with("label,metric,mean,std,n\n"));
    // One report: std 0.
    let one = AggregateReport::from_reports(&reports[..1]).unwrap();
    assert_eq!(one.precision_samples.std, Some(0.0));
    // The JSON reads back into the same struct (to the last bit or so of each float).
    let back: AggregateReport = serde_json::from_str(&agg.to_json()).unwrap();
    assert_eq!(back.n_reports, 3);
    for (a, b) in back.scalars().iter().zip(agg.scalars()) {
        assert!((a.mean.unwrap() - b.mean.unwrap()).abs() < 1e-12 && a.n == b.n);
    }
    assert_eq!(back.per_label.0.len(), 3);
    assert_eq!(back.per_label.0[2].0, "SSH");
    let keys: Vec<String> = serde_json::from_str::<serde_json::Map<String, Value>>(&agg.to_json())
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(keys.len(), 20);
}

#[test]
fn threshold_is_strict() {
    let s = array![[0.5, 0.51, 0.49]];
    assert_eq!(binarize(s.view(), 0.5).unwrap(), array![[0u8, 1, 0]]);
    assert_eq!(
        apply_thresholds(s.view(), &[0.4, 0.6, 0.4]).unwrap(),
        array![[1u8, 0, 1]]
    );
}

#[test]
fn sweep_and_per_label_choice() {
    let y_true = array![[1u8, 0], [1, 1], [0, 1], [0, 0]];
    let scores = array![[0.9, 0.3], [0.6, 0.35], [0.4, 0.2], [0.1, 0.1]];
    let grid = default_grid();
    assert_eq!(grid.len(), 101);
    let pts = sweep(y_true.view(), scores.view(), &grid).unwrap();
    assert_eq!(pts.len(), 101);
    // τ = 0.5: label 0 perfect; label 1 nothing predicted.
    let p = &pts[50];
    assert_eq!(p.threshold, 0.5);
    assert_eq!(p.per_label[0].f1, 1.0);
    assert_eq!(p.per_label[1].f1, 0.0);
    // Recall falls (weakly) as τ rises.
    for w in pts.windows(2) {
        assert!(w[1].micro.recall <= w[0].micro.recall);
    }
    // Label 1 (true scores 0.35 and 0.2, false 0.3 and 0.1): τ ∈ [0.10, 0.19] predicts
    // {0.3, 0.35, 0.2} → F1 = 0.8, the best; among those ties 0.19 is closest to 0.5.
    let taus = choose_thresholds(y_true.view(), scores.view(), &grid).unwrap();
    assert_eq!(taus[1], 0.19);
    // Label 0: F1 = 1 for τ in [0.40, 0.59]; closest to 0.5 is 0.5.
    assert_eq!(taus[0], 0.5);
}

#[test]
fn json_round_trip_keeps_label_order() {
    let r = report(0.5);
    let back: MultiLabelReport = serde_json::from_str(&r.to_json()).unwrap();
    assert_eq!(back, r);
}

#[test]
fn per_label_thresholds_tie_towards_the_run_tau() {
    use darknet_eval::threshold::{choose_thresholds_near, Thresholds};
    let y = array![[1u8, 0], [0, 1], [1, 0], [0, 0]];
    let s = array![[0.8, 0.1], [0.2, 0.9], [0.7, 0.3], [0.1, 0.4]];
    let grid = default_grid();
    // Label 0 separates for τ in [0.20, 0.70), label 1 for τ in [0.40, 0.90).
    assert_eq!(
        choose_thresholds_near(y.view(), s.view(), &grid, 0.5).unwrap(),
        vec![0.5, 0.5]
    );
    assert_eq!(
        choose_thresholds_near(y.view(), s.view(), &grid, 0.1).unwrap(),
        vec![0.2, 0.4]
    );
    assert_eq!(
        choose_thresholds_near(y.view(), s.view(), &grid, 0.95).unwrap(),
        vec![0.69, 0.89]
    );
    assert_eq!(
        choose_thresholds(y.view(), s.view(), &grid).unwrap(),
        choose_thresholds_near(y.view(), s.view(), &grid, 0.5).unwrap()
    );
    // The chosen thresholds reproduce the validation truth.
    let t = Thresholds::PerLabel(choose_thresholds_near(y.view(), s.view(), &grid, 0.1).unwrap());
    assert_eq!(t.apply(s.view()).unwrap(), y);
    assert_eq!(t.of_label(1), Some(0.4));
    assert_eq!(Thresholds::Global(0.3).of_label(7), Some(0.3));
    let json = serde_json::to_string(&t).unwrap();
    assert!(json.starts_with("{\"per_label\":"), "{json}");
    // Bad input: a NaN τ, a threshold list of the wrong length.
    assert!(matches!(
        choose_thresholds_near(y.view(), s.view(), &grid, f64::NAN),
        Err(darknet_eval::EvalError::InvalidParameter { .. })
    ));
    assert!(matches!(
        Thresholds::PerLabel(vec![0.5]).apply(s.view()),
        Err(darknet_eval::EvalError::ShapeMismatch { .. })
    ));
}
