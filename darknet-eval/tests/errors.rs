//! Every `EvalError` variant the metrics, splits and oversampling can raise, triggered.

use darknet_eval::{
    binarize, coverage_error, hamming_loss, k_fold, ml_ros, precision_recall_f1, roc_auc,
    train_validation_test_split, AggregateReport, Average, EvalError, MultiLabelReport,
};
use ndarray::{array, Array2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

#[test]
fn empty_input() {
    let e = Array2::<u8>::zeros((0, 3));
    let err = hamming_loss(e.view(), e.view()).unwrap_err();
    assert!(matches!(err, EvalError::Empty { .. }), "{err}");
    assert!(matches!(
        AggregateReport::from_reports(&[]).unwrap_err(),
        EvalError::Empty { .. }
    ));
}

#[test]
fn shape_mismatch() {
    let t = array![[1u8, 0]];
    let p = array![[1u8, 0, 1]];
    let err = precision_recall_f1(t.view(), p.view(), Average::Micro).unwrap_err();
    match err {
        EvalError::ShapeMismatch {
            what,
            expected,
            actual,
        } => {
            assert_eq!(
                (what.as_str(), expected, actual),
                ("y_pred", vec![1, 2], vec![1, 3])
            );
        }
        e => panic!("{e}"),
    }
    let names = vec!["a".to_string()];
    let s = array![[0.1, 0.2]];
    let err = MultiLabelReport::from_scores(&names, t.view(), s.view(), 0.5).unwrap_err();
    assert!(matches!(err, EvalError::ShapeMismatch { .. }), "{err}");
}

#[test]
fn not_binary() {
    let t = array![[1u8, 2]];
    let err = hamming_loss(t.view(), t.view()).unwrap_err();
    assert!(
        matches!(
            err,
            EvalError::NotBinary {
                row: 0,
                col: 1,
                value: 2,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn invalid_score() {
    let t = array![[1u8, 0]];
    let s = array![[0.1, f64::NAN]];
    let err = coverage_error(t.view(), s.view()).unwrap_err();
    assert!(
        matches!(err, EvalError::InvalidScore { row: 0, col: 1, .. }),
        "{err}"
    );
    let err = roc_auc(array![1u8, 0].view(), array![f64::INFINITY, 0.0].view()).unwrap_err();
    assert!(matches!(err, EvalError::InvalidScore { .. }), "{err}");
}

#[test]
fn invalid_parameter() {
    let err = train_validation_test_split(10, 0.6, 0.6, 0).unwrap_err();
    assert!(matches!(err, EvalError::InvalidParameter { .. }), "{err}");
    let err = k_fold(&[0, 1, 2], 1, 0).unwrap_err();
    assert!(matches!(err, EvalError::InvalidParameter { .. }), "{err}");
    let err = binarize(array![[0.1]].view(), f64::NAN).unwrap_err();
    assert!(matches!(err, EvalError::InvalidParameter { .. }), "{err}");
    let y = array![[1u8], [0]];
    let err = ml_ros(y.view(), &[0, 1], -5.0, &mut ChaCha8Rng::seed_from_u64(0)).unwrap_err();
    assert!(matches!(err, EvalError::InvalidParameter { .. }), "{err}");
    let names = vec!["a".to_string(), "a".to_string()];
    let t = array![[1u8, 0]];
    let s = array![[0.1, 0.2]];
    let err = MultiLabelReport::from_scores(&names, t.view(), s.view(), 0.5).unwrap_err();
    assert!(matches!(err, EvalError::InvalidParameter { .. }), "{err}");
}

#[test]
fn index_out_of_range() {
    let y = array![[1u8], [0]];
    let err = ml_ros(y.view(), &[0, 5], 25.0, &mut ChaCha8Rng::seed_from_u64(0)).unwrap_err();
    assert!(
        matches!(
            err,
            EvalError::IndexOutOfRange {
                index: 5,
                len: 2,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn knn_and_multiclass_errors() {
    use darknet_eval::{classification_report, Knn, KnnConfig};
    let x = array![[1.0f32, 0.0], [0.0, 1.0]];
    let labels = vec!["a".to_string(), "b".to_string()];
    let err = Knn::fit(x.view(), &labels, KnnConfig::default().k(0)).unwrap_err();
    assert!(matches!(err, EvalError::InvalidParameter { .. }), "{err}");
    let err = Knn::fit(x.view(), &labels[..1], KnnConfig::default()).unwrap_err();
    assert!(matches!(err, EvalError::ShapeMismatch { .. }), "{err}");
    let knn = Knn::fit(x.view(), &labels, KnnConfig::default()).unwrap();
    let err = knn
        .kneighbors(array![[1.0f32, 2.0, 3.0]].view())
        .unwrap_err();
    assert!(matches!(err, EvalError::ShapeMismatch { .. }), "{err}");
    let err = knn.kneighbors(array![[f32::NAN, 2.0]].view()).unwrap_err();
    assert!(matches!(err, EvalError::InvalidScore { .. }), "{err}");
    let err = knn.kneighbors_loo(&[2]).unwrap_err();
    assert!(matches!(err, EvalError::IndexOutOfRange { .. }), "{err}");
    let err = classification_report(&["a"], &["a", "b"], None).unwrap_err();
    assert!(matches!(err, EvalError::ShapeMismatch { .. }), "{err}");
    let err = classification_report(&["a"], &["a"], Some(&["a", "a"])).unwrap_err();
    assert!(matches!(err, EvalError::InvalidParameter { .. }), "{err}");
    let empty: [&str; 0] = [];
    let err = classification_report(&empty, &empty, None).unwrap_err();
    assert!(matches!(err, EvalError::Empty { .. }), "{err}");
}
