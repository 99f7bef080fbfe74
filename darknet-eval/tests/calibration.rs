//! Calibration against scikit-learn 1.9.1.
//!
//! Reference values produced by this script (Platt: scikit-learn's private
//! `_sigmoid_calibration`, which `CalibratedClassifierCV(method="sigmoid")` calls):
//!
//! ```python
//! import numpy as np
//! from sklearn.calibration import _sigmoid_calibration
//! from sklearn.isotonic import IsotonicRegression
//! s = np.array([0.05, 0.12, 0.2, 0.2, 0.33, 0.41, 0.48, 0.5, 0.55, 0.61, 0.7, 0.74, 0.8, 0.88, 0.95])
//! y = np.array([0, 0, 1, 0, 0, 1, 0, 0, 1, 1, 0, 1, 1, 1, 1])
//! a, b = _sigmoid_calibration(s, y)
//! q = np.array([-0.5, 0.0, 0.1, 0.2, 0.45, 0.5, 0.77, 1.0, 2.0])
//! print(a, b, 1 / (1 + np.exp(a * q + b)))
//! print(_sigmoid_calibration(s * 80 - 40, y))          # large scores, rescaled inside
//! print(_sigmoid_calibration(s[:4], np.zeros(4)))      # one class only
//! ir = IsotonicRegression(out_of_bounds="clip").fit(s, y)
//! print(ir.predict(q), ir.predict([0.16, 0.52, 0.72, 0.3]))
//! s3 = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]); y3 = np.array([1, 1, 0, 0, 1, 0])
//! print(IsotonicRegression(out_of_bounds="clip").fit(s3, y3).predict([0.1, 0.35, 0.6]))
//! ```

use darknet_eval::calibration::{
    Calibration, CalibrationMethod, IsotonicCalibration, LabelCalibration, PlattScaling,
};
use darknet_eval::EvalError;
use ndarray::{array, Array1, Array2, Axis};

const S: [f64; 15] = [
    0.05, 0.12, 0.2, 0.2, 0.33, 0.41, 0.48, 0.5, 0.55, 0.61, 0.7, 0.74, 0.8, 0.88, 0.95,
];
const Y: [u8; 15] = [0, 0, 1, 0, 0, 1, 0, 0, 1, 1, 0, 1, 1, 1, 1];
const Q: [f64; 9] = [-0.5, 0.0, 0.1, 0.2, 0.45, 0.5, 0.77, 1.0, 2.0];

fn s() -> Array1<f64> {
    Array1::from(S.to_vec())
}
fn y() -> Array1<u8> {
    Array1::from(Y.to_vec())
}

#[test]
fn platt_matches_scikit_learn() {
    let p = PlattScaling::fit(s().view(), y().view()).unwrap();
    // scikit-learn stops L-BFGS at a gradient of 1e-6; we go to the optimum.
    assert!((p.a - -3.681980327271594).abs() < 1e-4, "a = {}", p.a);
    assert!((p.b - 1.6918497022336971).abs() < 1e-4, "b = {}", p.b);
    let want = [
        0.02839214206001863,
        0.15553274113996116,
        0.21021139239166278,
        0.27778937526047437,
        0.4912612512106561,
        0.537216158040434,
        0.7582804528552042,
        0.8797569563421742,
        0.9965712024290762,
    ];
    for (q, w) in Q.iter().zip(want) {
        assert!(
            (p.transform(*q) - w).abs() < 2e-5,
            "{q}: {} vs {w}",
            p.transform(*q)
        );
    }
}

#[test]
fn platt_rescales_large_scores_and_handles_one_class() {
    let large = s().mapv(|v| v * 80.0 - 40.0);
    let p = PlattScaling::fit(large.view(), y().view()).unwrap();
    assert!((p.a - -0.04602476798231537).abs() < 1e-5, "a = {}", p.a);
    assert!((p.b - -0.1491405927320652).abs() < 1e-4, "b = {}", p.b);
    // Only negatives: the smoothed rate 1 / (N + 2) for every score.
    let p = PlattScaling::fit(
        s().slice_axis(Axis(0), (0..4).into()),
        array![0u8, 0, 0, 0].view(),
    )
    .unwrap();
    assert!(
        p.a.abs() < 1e-8 && (p.b - 1.6094379124341003).abs() < 1e-8,
        "{p:?}"
    );
    assert!((p.transform(0.7) - 1.0 / 6.0).abs() < 1e-8);
}

#[test]
fn isotonic_matches_scikit_learn() {
    let iso = IsotonicCalibration::fit(s().view(), y().view()).unwrap();
    let third = 1.0 / 3.0;
    let want = [0.0, 0.0, 0.0, third, third, third, 1.0, 1.0, 1.0];
    for (q, w) in Q.iter().zip(want) {
        assert!(
            (iso.transform(*q) - w).abs() < 1e-12,
            "{q}: {}",
            iso.transform(*q)
        );
    }
    let want2 = [
        0.16666666666666663,
        0.4666666666666667,
        0.8333333333333333,
        0.3333333333333333,
    ];
    for (q, w) in [0.16, 0.52, 0.72, 0.3].iter().zip(want2) {
        assert!(
            (iso.transform(*q) - w).abs() < 1e-12,
            "{q}: {}",
            iso.transform(*q)
        );
    }
    // Two equal scores with different targets merge into one point (0.2 → mean 0.5, pooled).
    assert_eq!(iso.x.len(), 14);
    assert!(iso.y.windows(2).all(|w| w[0] <= w[1]));
    // A run that pools into one block.
    let iso3 = IsotonicCalibration::fit(
        array![0.1, 0.2, 0.3, 0.4, 0.5, 0.6].view(),
        array![1u8, 1, 0, 0, 1, 0].view(),
    )
    .unwrap();
    for q in [0.1, 0.35, 0.6, -1.0] {
        assert!((iso3.transform(q) - 0.5).abs() < 1e-12);
    }
    // One distinct score: a constant.
    let one = IsotonicCalibration::fit(array![0.4, 0.4].view(), array![1u8, 0].view()).unwrap();
    assert_eq!(one.transform(0.9), 0.5);
}

#[test]
fn calibration_per_label_and_round_trip() {
    let y2 = Array2::from_shape_fn((15, 2), |(i, l)| if l == 0 { Y[i] } else { 1 - Y[i] });
    let s2 = Array2::from_shape_fn((15, 2), |(i, l)| if l == 0 { S[i] } else { 1.0 - S[i] });
    for method in [CalibrationMethod::Platt, CalibrationMethod::Isotonic] {
        let cal = Calibration::fit(method, y2.view(), s2.view()).unwrap();
        assert_eq!(cal.n_labels(), 2);
        let out = cal.transform(s2.view()).unwrap();
        assert!(out.iter().all(|v| (0.0..=1.0).contains(v)));
        // Label 1 is label 0 mirrored (scores 1 − s, truth 1 − y): both methods are
        // symmetric, so the calibrated scores are mirrored too.
        for i in 0..15 {
            assert!(
                (out[[i, 0]] + out[[i, 1]] - 1.0).abs() < 1e-6,
                "{method:?} row {i}"
            );
        }
        let json = serde_json::to_string(&cal).unwrap();
        let back: Calibration = serde_json::from_str(&json).unwrap();
        assert_eq!(back.method, method);
        assert!(matches!(
            (&back.labels[0], method),
            (LabelCalibration::Platt(_), CalibrationMethod::Platt)
                | (LabelCalibration::Isotonic(_), CalibrationMethod::Isotonic)
        ));
    }
    assert_eq!(
        "sigmoid".parse::<CalibrationMethod>().unwrap(),
        CalibrationMethod::Platt
    );
    assert_eq!(
        "isotonic".parse::<CalibrationMethod>().unwrap(),
        CalibrationMethod::Isotonic
    );
}

#[test]
fn bad_input_is_an_error() {
    let e = "beta".parse::<CalibrationMethod>().unwrap_err();
    assert!(matches!(e, EvalError::InvalidParameter { .. }), "{e}");
    let e = PlattScaling::fit(array![].view(), array![].view()).unwrap_err();
    assert!(matches!(e, EvalError::Empty { .. }), "{e}");
    let e = IsotonicCalibration::fit(array![0.1, 0.2].view(), array![1u8].view()).unwrap_err();
    assert!(matches!(e, EvalError::ShapeMismatch { .. }), "{e}");
    let e = PlattScaling::fit(array![0.1, 0.2].view(), array![1u8, 2].view()).unwrap_err();
    assert!(
        matches!(
            e,
            EvalError::NotBinary {
                row: 1,
                value: 2,
                ..
            }
        ),
        "{e}"
    );
    let e =
        IsotonicCalibration::fit(array![0.1, f64::NAN].view(), array![1u8, 0].view()).unwrap_err();
    assert!(matches!(e, EvalError::InvalidScore { row: 1, .. }), "{e}");
    let y2 = array![[1u8, 0], [0, 1]];
    let s2 = array![[0.9, 0.1], [0.2, 0.8]];
    let e = Calibration::fit(
        CalibrationMethod::Platt,
        y2.view(),
        array![[0.9], [0.2]].view(),
    )
    .unwrap_err();
    assert!(matches!(e, EvalError::ShapeMismatch { .. }), "{e}");
    let cal = Calibration::fit(CalibrationMethod::Isotonic, y2.view(), s2.view()).unwrap();
    let e = cal.transform(array![[0.5, 0.5, 0.5]].view()).unwrap_err();
    assert!(matches!(e, EvalError::ShapeMismatch { .. }), "{e}");
    let e = cal
        .transform(array![[0.5, f64::INFINITY]].view())
        .unwrap_err();
    assert!(matches!(e, EvalError::InvalidScore { .. }), "{e}");
}

/// Brier scores equal scikit-learn's `brier_score_loss` per label (values from scikit-learn
/// 1.9); the expected calibration error follows its definition on hand-made bins.
#[test]
fn calibration_quality_matches_brier_score_loss_and_hand_ece() {
    use darknet_eval::calibration::{calibration_quality, expected_calibration_error};
    let y = ndarray::array![[0u8, 1], [1, 0], [1, 0], [0, 1], [1, 1]];
    let s = ndarray::array![[0.1, 0.7], [0.8, 0.2], [0.6, 0.4], [0.3, 0.5], [0.95, 0.99]];
    let q = calibration_quality(y.view(), s.view()).unwrap();
    assert!((q.brier[0] - 0.0605).abs() < 1e-12, "{:?}", q.brier);
    assert!((q.brier[1] - 0.10802).abs() < 1e-12, "{:?}", q.brier);
    assert!((q.brier_mean - (0.0605 + 0.10802) / 2.0).abs() < 1e-12);
    // Label 0, 10 bins: 0.1 → bin 0 (|0 − 0.1|), 0.3 → bin 2 (|0 − 0.3|), 0.6 → bin 5
    // (|1 − 0.6|), 0.8 → bin 7 (|1 − 0.8|), 0.95 → bin 9 (|1 − 0.95|); each weighted 1/5.
    let want = (0.1 + 0.3 + 0.4 + 0.2 + 0.05) / 5.0;
    assert!((q.ece[0] - want).abs() < 1e-12, "{:?}", q.ece);
    // One bin: |mean truth − mean score|.
    let one = expected_calibration_error(y.column(0), s.column(0), 1).unwrap();
    assert!((one - (0.6f64 - 0.55).abs()).abs() < 1e-12);
    // Bad input is an error, never a panic.
    assert!(expected_calibration_error(y.column(0), s.column(0), 0).is_err());
    let outside = ndarray::array![0.5, 1.5, 0.1, 0.2, 0.3];
    let e = expected_calibration_error(y.column(0), outside.view(), 10).unwrap_err();
    assert!(e.to_string().contains("1.5"), "{e}");
    let nan = ndarray::Array2::from_elem((5, 2), f64::NAN);
    assert!(calibration_quality(y.view(), nan.view()).is_err());
    let empty = ndarray::Array1::<u8>::zeros(0);
    assert!(expected_calibration_error(empty.view(), ndarray::Array1::zeros(0).view(), 5).is_err());
}
