//! Golden test: classification reports, confusion matrices and Paper B's kNN day protocol
//! against scikit-learn. Figures from `tests/golden/make_multiclass.py` (see its docstring).

use darknet_eval::{classification_report, confusion_matrix, evaluate_day, Knn, KnnConfig};
use ndarray::Array2;
use serde_json::Value;

const TOL: f64 = 1e-12;

fn data() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/golden/multiclass.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

fn check_report(got: &darknet_eval::ClassificationReport, want: &Value) {
    for (c, s) in &got.per_class {
        let w = &want[c];
        assert!(
            (s.precision - w["precision"].as_f64().unwrap()).abs() < TOL,
            "{c}"
        );
        assert!(
            (s.recall - w["recall"].as_f64().unwrap()).abs() < TOL,
            "{c}"
        );
        assert!((s.f1 - w["f1-score"].as_f64().unwrap()).abs() < TOL, "{c}");
        assert_eq!(s.support as f64, w["support"].as_f64().unwrap(), "{c}");
    }
    for (key, p) in [
        ("macro avg", &got.macro_avg),
        ("weighted avg", &got.weighted),
    ] {
        assert!(
            (p.precision - want[key]["precision"].as_f64().unwrap()).abs() < TOL,
            "{key}"
        );
        assert!(
            (p.recall - want[key]["recall"].as_f64().unwrap()).abs() < TOL,
            "{key}"
        );
        assert!(
            (p.f1 - want[key]["f1-score"].as_f64().unwrap()).abs() < TOL,
            "{key}"
        );
    }
    if got.micro_is_accuracy {
        assert!((got.accuracy - want["accuracy"].as_f64().unwrap()).abs() < TOL);
    } else {
        let m = &want["micro avg"];
        assert!((got.micro.precision - m["precision"].as_f64().unwrap()).abs() < TOL);
        assert!((got.micro.recall - m["recall"].as_f64().unwrap()).abs() < TOL);
        assert!((got.micro.f1 - m["f1-score"].as_f64().unwrap()).abs() < TOL);
    }
    // Our JSON has the same keys as scikit-learn's output_dict.
    let ours: Value = serde_json::from_str(&got.to_json()).unwrap();
    let mut a: Vec<&String> = ours.as_object().unwrap().keys().collect();
    let mut b: Vec<&String> = want.as_object().unwrap().keys().collect();
    a.sort();
    b.sort();
    assert_eq!(a, b);
}

#[test]
fn classification_reports_match_scikit_learn() {
    let d = data();
    for case in d["reports"].as_array().unwrap() {
        let t = strings(&case["y_true"]);
        let p = strings(&case["y_pred"]);
        let labels = (!case["labels"].is_null()).then(|| strings(&case["labels"]));
        let got = classification_report(&t, &p, labels.as_deref()).unwrap();
        check_report(&got, &case["report"]);
        let cm_labels = strings(&case["cm_labels"]);
        let cm = confusion_matrix(&t, &p, Some(&cm_labels)).unwrap();
        let want: Vec<Vec<usize>> = case["confusion"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r.as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_u64().unwrap() as usize)
                    .collect()
            })
            .collect();
        for (i, row) in want.iter().enumerate() {
            for (j, &v) in row.iter().enumerate() {
                assert_eq!(cm.counts[[i, j]], v);
            }
        }
    }
}

#[test]
fn knn_day_matches_reference_protocol() {
    let d = data();
    let day = &d["knn_day"];
    let rows = day["x"].as_array().unwrap();
    let dim = rows[0].as_array().unwrap().len();
    let flat: Vec<f32> = rows
        .iter()
        .flat_map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap() as f32)
        })
        .collect();
    let x = Array2::from_shape_vec((rows.len(), dim), flat).unwrap();
    let labels = strings(&day["labels"]);
    let got = evaluate_day(x.view(), &labels, KnnConfig::default(), 10).unwrap();
    check_report(&got, &day["report"]);
    // Neighbours of every row equal scikit-learn's kneighbors().
    let relabelled = darknet_eval::rare_to_unknown(&labels, 10, "unknown");
    let xs = darknet_eval::standardize(x.view()).unwrap();
    let knn = Knn::fit(xs.view(), &relabelled, KnnConfig::default()).unwrap();
    let all: Vec<usize> = (0..labels.len()).collect();
    let nb = knn.kneighbors_loo(&all).unwrap();
    let want = day["neighbors"].as_array().unwrap();
    for (i, w) in want.iter().enumerate() {
        let w: Vec<usize> = w
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(nb.indices.row(i).to_vec(), w, "row {i}");
    }
    assert_eq!(knn.vote(&nb), strings(&day["pred"]));
}
