//! Hand-worked cases for every multi-label metric, including the edge cases.

use approx::assert_abs_diff_eq;
use darknet_eval::{
    average_precision, coverage_error, hamming_loss, jaccard_samples, label_cardinality,
    label_ranking_average_precision, label_ranking_loss, per_label_precision_recall_f1,
    precision_recall_f1, roc_auc, subset_accuracy, Average,
};
use ndarray::array;

#[test]
fn two_label_confusion_case() {
    // Label 0: tp 2, fp 1, fn 0. Label 1: tp 1, fp 0, fn 1.
    let t = array![[1u8, 1], [1, 0], [0, 1], [0, 0]];
    let p = array![[1u8, 1], [1, 0], [1, 0], [0, 0]];
    let per = per_label_precision_recall_f1(t.view(), p.view()).unwrap();
    assert_abs_diff_eq!(per[0].precision, 2.0 / 3.0, epsilon = 1e-12);
    assert_abs_diff_eq!(per[0].recall, 1.0, epsilon = 1e-12);
    assert_abs_diff_eq!(per[0].f1, 0.8, epsilon = 1e-12);
    assert_eq!((per[0].support, per[1].support), (2, 2));
    assert_abs_diff_eq!(per[1].precision, 1.0, epsilon = 1e-12);
    assert_abs_diff_eq!(per[1].recall, 0.5, epsilon = 1e-12);
    assert_abs_diff_eq!(per[1].f1, 2.0 / 3.0, epsilon = 1e-12);
    let micro = precision_recall_f1(t.view(), p.view(), Average::Micro).unwrap();
    assert_abs_diff_eq!(micro.precision, 0.75, epsilon = 1e-12);
    assert_abs_diff_eq!(micro.recall, 0.75, epsilon = 1e-12);
    let macro_ = precision_recall_f1(t.view(), p.view(), Average::Macro).unwrap();
    assert_abs_diff_eq!(macro_.f1, (0.8 + 2.0 / 3.0) / 2.0, epsilon = 1e-12);
    // Samples: rows P = 1, 1, 0, 0 (0/0), R = 1, 1, 0, 0 (0/0), F1 = 1, 1, 0, 0.
    let s = precision_recall_f1(t.view(), p.view(), Average::Samples).unwrap();
    assert_abs_diff_eq!(s.precision, 0.5, epsilon = 1e-12);
    assert_abs_diff_eq!(s.f1, 0.5, epsilon = 1e-12);
    assert_abs_diff_eq!(
        hamming_loss(t.view(), p.view()).unwrap(),
        2.0 / 8.0,
        epsilon = 1e-12
    );
    assert_abs_diff_eq!(
        subset_accuracy(t.view(), p.view()).unwrap(),
        0.75,
        epsilon = 1e-12
    );
    // Jaccard rows: 1, 1, 0 (∩0 ∪2), 0 (0/0 → 0).
    assert_abs_diff_eq!(
        jaccard_samples(t.view(), p.view()).unwrap(),
        0.5,
        epsilon = 1e-12
    );
}

#[test]
fn label_without_positives_scores_zero_and_weighs_nothing() {
    let t = array![[1u8, 0], [1, 0]];
    let p = array![[1u8, 1], [1, 0]];
    let per = per_label_precision_recall_f1(t.view(), p.view()).unwrap();
    assert_eq!(
        (per[1].precision, per[1].recall, per[1].f1, per[1].support),
        (0.0, 0.0, 0.0, 0)
    );
    let w = precision_recall_f1(t.view(), p.view(), Average::Weighted).unwrap();
    assert_abs_diff_eq!(w.f1, 1.0, epsilon = 1e-12);
    let m = precision_recall_f1(t.view(), p.view(), Average::Macro).unwrap();
    assert_abs_diff_eq!(m.f1, 0.5, epsilon = 1e-12);
    let s = [0.3, 0.8];
    let scores = array![[0.9, s[0]], [0.8, s[1]]];
    assert_eq!(roc_auc(t.column(1), scores.column(1)).unwrap(), None);
    assert_eq!(
        average_precision(t.column(1), scores.column(1)).unwrap(),
        None
    );
    // An all-positive column: AUC undefined, AP = 1.
    assert_eq!(roc_auc(t.column(0), scores.column(0)).unwrap(), None);
    assert_eq!(
        average_precision(t.column(0), scores.column(0)).unwrap(),
        Some(1.0)
    );
}

#[test]
fn weighted_average_with_no_support_falls_back_to_plain_mean() {
    let t = array![[0u8, 0], [0, 0]];
    let p = array![[1u8, 0], [0, 0]];
    let w = precision_recall_f1(t.view(), p.view(), Average::Weighted).unwrap();
    assert_eq!((w.precision, w.recall, w.f1), (0.0, 0.0, 0.0));
}

#[test]
fn sample_without_true_labels() {
    let t = array![[0u8, 0, 0], [1, 0, 1]];
    let s = array![[0.9, 0.1, 0.2], [0.8, 0.7, 0.6]];
    // Sample 0 counts 0 in coverage, 0 in ranking loss, 1 in LRAP.
    assert_abs_diff_eq!(
        coverage_error(t.view(), s.view()).unwrap(),
        (0.0 + 3.0) / 2.0,
        epsilon = 1e-12
    );
    // Sample 1: true {0: .8, 2: .6}, false {1: .7}: pair (2, 1) wrong → 1 of 2.
    assert_abs_diff_eq!(
        label_ranking_loss(t.view(), s.view()).unwrap(),
        0.25,
        epsilon = 1e-12
    );
    // Sample 1 LRAP: label 0 rank 1 (1/1), label 2 rank 3 with 2 true at or above (2/3).
    assert_abs_diff_eq!(
        label_ranking_average_precision(t.view(), s.view()).unwrap(),
        (1.0 + (1.0 + 2.0 / 3.0) / 2.0) / 2.0,
        epsilon = 1e-12
    );
    assert_abs_diff_eq!(label_cardinality(t.view()).unwrap(), 1.0, epsilon = 1e-12);
    // Samples-average F1 with an empty true set and an empty prediction: 0 (zero_division).
    let p = array![[0u8, 0, 0], [1, 0, 1]];
    let f = precision_recall_f1(t.view(), p.view(), Average::Samples).unwrap();
    assert_abs_diff_eq!(f.f1, 0.5, epsilon = 1e-12);
}

#[test]
fn all_correct_and_all_wrong() {
    let t = array![[1u8, 0, 1], [0, 1, 0]];
    let wrong = t.mapv(|v| 1 - v);
    for a in Average::ALL {
        let r = precision_recall_f1(t.view(), t.view(), a).unwrap();
        assert_eq!((r.precision, r.recall, r.f1), (1.0, 1.0, 1.0), "{a:?}");
        let r = precision_recall_f1(t.view(), wrong.view(), a).unwrap();
        assert_eq!((r.precision, r.recall, r.f1), (0.0, 0.0, 0.0), "{a:?}");
    }
    assert_eq!(hamming_loss(t.view(), wrong.view()).unwrap(), 1.0);
    assert_eq!(subset_accuracy(t.view(), t.view()).unwrap(), 1.0);
    assert_eq!(subset_accuracy(t.view(), wrong.view()).unwrap(), 0.0);
    let s_good = t.mapv(f64::from);
    let s_bad = wrong.mapv(f64::from);
    assert_eq!(label_ranking_loss(t.view(), s_good.view()).unwrap(), 0.0);
    assert_eq!(label_ranking_loss(t.view(), s_bad.view()).unwrap(), 1.0);
    assert_eq!(coverage_error(t.view(), s_good.view()).unwrap(), 1.5);
    assert_eq!(coverage_error(t.view(), s_bad.view()).unwrap(), 3.0);
    assert_eq!(
        label_ranking_average_precision(t.view(), s_good.view()).unwrap(),
        1.0
    );
}

#[test]
fn tied_scores_follow_scikit_learn() {
    // docs/paper-a.md#metrics: scores [0.5, 0.5] with truth [1, 0] give ranking loss 1.0.
    let t = array![[1u8, 0]];
    let s = array![[0.5, 0.5]];
    assert_eq!(label_ranking_loss(t.view(), s.view()).unwrap(), 1.0);
    assert_eq!(coverage_error(t.view(), s.view()).unwrap(), 2.0);
    assert_eq!(
        label_ranking_average_precision(t.view(), s.view()).unwrap(),
        0.5
    );
    // ROC AUC: a tie between a positive and a negative counts one half.
    let auc = roc_auc(array![1u8, 0].view(), array![0.5, 0.5].view()).unwrap();
    assert_eq!(auc, Some(0.5));
    let auc = roc_auc(
        array![1u8, 0, 1, 0].view(),
        array![0.9, 0.5, 0.5, 0.1].view(),
    )
    .unwrap();
    assert_eq!(auc, Some(0.875));
    // AP with a tie at the top: one step at recall 1 with precision 1/2.
    let ap = average_precision(array![1u8, 0].view(), array![0.5, 0.5].view()).unwrap();
    assert_eq!(ap, Some(0.5));
    // AP: 0.9 (pos), then tie {0.5 pos, 0.5 neg}: 1/2·1 + 1/2·2/3.
    let ap = average_precision(
        array![1u8, 0, 1, 0].view(),
        array![0.9, 0.5, 0.5, 0.1].view(),
    )
    .unwrap()
    .unwrap();
    assert_abs_diff_eq!(ap, 0.5 + 1.0 / 3.0, epsilon = 1e-12);
}
