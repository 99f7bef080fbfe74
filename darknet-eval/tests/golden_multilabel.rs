//! Golden test: every multi-label metric against scikit-learn's figures on the same inputs.
//! The figures come from `tests/golden/make_multilabel.py` (see its docstring for how it was
//! run); this test only reads `tests/golden/multilabel.json`.

use approx::assert_abs_diff_eq;
use darknet_eval::{precision_recall_f1_zero_division, Average, MultiLabelReport};
use ndarray::Array2;
use serde_json::Value;

const TOL: f64 = 1e-12;

fn matrix<T>(v: &Value, f: impl Fn(&Value) -> T) -> Array2<T> {
    let rows = v.as_array().unwrap();
    let n_cols = rows[0].as_array().unwrap().len();
    let flat: Vec<T> = rows
        .iter()
        .flat_map(|r| r.as_array().unwrap().iter().map(&f).collect::<Vec<_>>())
        .collect();
    Array2::from_shape_vec((rows.len(), n_cols), flat).unwrap()
}

fn cases() -> Vec<Value> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/golden/multilabel.json"
    ))
    .unwrap();
    serde_json::from_str::<Value>(&text)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn opt(v: &Value) -> Option<f64> {
    v.as_f64()
}

#[test]
fn report_matches_scikit_learn() {
    let cases = cases();
    assert!(cases.len() >= 10);
    for c in &cases {
        let name = c["name"].as_str().unwrap();
        let y_true = matrix(&c["y_true"], |x| x.as_u64().unwrap() as u8);
        let y_score = matrix(&c["y_score"], |x| x.as_f64().unwrap());
        let tau = c["threshold"].as_f64().unwrap();
        let names: Vec<String> = (0..y_true.ncols()).map(|l| format!("l{l}")).collect();
        let r = MultiLabelReport::from_scores(&names, y_true.view(), y_score.view(), tau).unwrap();
        for (key, got) in darknet_eval::report::SCALAR_KEYS.iter().zip(r.scalars()) {
            let want = c[*key]
                .as_f64()
                .unwrap_or_else(|| panic!("{name}: no {key}"));
            assert!(
                (got - want).abs() <= TOL,
                "{name}: {key} = {got}, scikit-learn {want}"
            );
        }
        for (l, want) in c["per_label"].as_array().unwrap().iter().enumerate() {
            let got = &r.per_label.0[l].1;
            assert_abs_diff_eq!(
                got.precision,
                want["precision"].as_f64().unwrap(),
                epsilon = TOL
            );
            assert_abs_diff_eq!(got.recall, want["recall"].as_f64().unwrap(), epsilon = TOL);
            assert_abs_diff_eq!(got.f1, want["f1"].as_f64().unwrap(), epsilon = TOL);
            assert_eq!(
                got.support as u64,
                want["support"].as_u64().unwrap(),
                "{name}"
            );
            for (field, g) in [
                ("roc_auc", got.roc_auc),
                ("average_precision", got.average_precision),
            ] {
                match (g, opt(&want[field])) {
                    (None, None) => {}
                    (Some(a), Some(b)) => assert!(
                        (a - b).abs() <= TOL,
                        "{name}: label {l} {field} = {a}, scikit-learn {b}"
                    ),
                    (a, b) => panic!("{name}: label {l} {field}: {a:?} vs {b:?}"),
                }
            }
        }
    }
}

#[test]
fn zero_division_variants_match_scikit_learn() {
    for c in &cases() {
        let name = c["name"].as_str().unwrap();
        let y_true = matrix(&c["y_true"], |x| x.as_u64().unwrap() as u8);
        let y_score = matrix(&c["y_score"], |x| x.as_f64().unwrap());
        let tau = c["threshold"].as_f64().unwrap();
        let y_pred = darknet_eval::binarize(y_score.view(), tau).unwrap();
        for (zd, key) in [(f64::NAN, "nan"), (1.0, "one")] {
            let want = &c[format!("prf_zero_division_{key}")];
            for avg in Average::ALL {
                let got = precision_recall_f1_zero_division(y_true.view(), y_pred.view(), avg, zd)
                    .unwrap();
                let w = want[avg.name()].as_array().unwrap();
                for (g, w) in [got.precision, got.recall, got.f1].iter().zip(w) {
                    match w.as_f64() {
                        None => assert!(g.is_nan(), "{name} {key} {avg:?}: {g} vs nan"),
                        Some(w) => assert!(
                            (g - w).abs() <= TOL,
                            "{name} zero_division={key} {avg:?}: {g} vs {w}"
                        ),
                    }
                }
            }
        }
    }
}
