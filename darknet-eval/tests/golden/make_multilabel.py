"""Golden values for darknet-eval's multi-label metrics, computed with scikit-learn.

Produced with:  python3 make_multilabel.py > multilabel.json
(scikit-learn 1.9.1, numpy 2.4; `pip install scikit-learn`). Each case holds y_true (0/1),
y_score, the threshold (predict when score > threshold) and every figure of the report.
Undefined ROC AUC / average precision (one class in the column) are stored as null.
Scores are rounded to one decimal in most cases so that ties are frequent.
"""
import json
import warnings

import numpy as np
from sklearn import metrics as M

warnings.simplefilter("ignore")


def case(name, y_true, y_score, tau=0.5):
    y_true = np.asarray(y_true, dtype=np.int64)
    y_score = np.asarray(y_score, dtype=np.float64)
    y_pred = (y_score > tau).astype(np.int64)
    out = {"name": name, "threshold": tau, "y_true": y_true.tolist(), "y_score": y_score.tolist()}
    for avg in ["samples", "micro", "macro", "weighted"]:
        p, r, f, _ = M.precision_recall_fscore_support(
            y_true, y_pred, average=avg, zero_division=0
        )
        out[f"precision_{avg}"] = p
        out[f"recall_{avg}"] = r
        out[f"f1_{avg}"] = f
    p, r, f, s = M.precision_recall_fscore_support(y_true, y_pred, average=None, zero_division=0)
    out["per_label"] = []
    for l in range(y_true.shape[1]):
        col = y_true[:, l]
        defined = 0 < col.sum() < len(col)
        auc = M.roc_auc_score(col, y_score[:, l]) if defined else None
        ap = M.average_precision_score(col, y_score[:, l]) if col.sum() > 0 else None
        out["per_label"].append(
            {
                "precision": p[l],
                "recall": r[l],
                "f1": f[l],
                "support": int(s[l]),
                "roc_auc": auc,
                "average_precision": ap,
            }
        )
    out["hamming_loss"] = M.hamming_loss(y_true, y_pred)
    out["subset_accuracy"] = M.accuracy_score(y_true, y_pred)
    out["jaccard_samples"] = M.jaccard_score(y_true, y_pred, average="samples", zero_division=0)
    out["coverage_error"] = M.coverage_error(y_true, y_score)
    out["label_ranking_loss"] = M.label_ranking_loss(y_true, y_score)
    out["label_ranking_average_precision"] = M.label_ranking_average_precision_score(
        y_true, y_score
    )
    # Samples average with zero_division = nan and 1 (the `_with` variants).
    for zd, key in [(np.nan, "nan"), (1.0, "one")]:
        vals = {}
        for avg in ["samples", "micro", "macro", "weighted"]:
            p, r, f, _ = M.precision_recall_fscore_support(
                y_true, y_pred, average=avg, zero_division=zd
            )
            vals[avg] = [None if np.isnan(v) else float(v) for v in (p, r, f)]
        out[f"prf_zero_division_{key}"] = vals
    return {k: (float(v) if isinstance(v, (np.floating,)) else v) for k, v in out.items()}


rng = np.random.default_rng(20211201)
cases = []
# Hand-sized edge cases.
cases.append(case("all_correct", [[1, 0, 1], [0, 1, 0]], [[0.9, 0.1, 0.8], [0.2, 0.7, 0.3]]))
cases.append(case("all_wrong", [[1, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.2], [0.8, 0.3, 0.7]]))
cases.append(case("label_without_positives", [[1, 0, 0], [1, 1, 0], [0, 1, 0]],
                  [[0.6, 0.2, 0.7], [0.4, 0.9, 0.1], [0.3, 0.6, 0.2]]))
cases.append(case("sample_without_labels", [[0, 0, 0], [1, 1, 0], [0, 0, 1]],
                  [[0.6, 0.2, 0.4], [0.7, 0.4, 0.1], [0.5, 0.5, 0.5]]))
cases.append(case("tied_scores", [[1, 0], [0, 1], [1, 1], [0, 0]],
                  [[0.5, 0.5], [0.3, 0.3], [0.7, 0.7], [0.2, 0.2]]))
cases.append(case("nothing_predicted", [[1, 0], [0, 1]], [[0.1, 0.2], [0.3, 0.4]]))
cases.append(case("all_labels_true", [[1, 1, 1], [1, 1, 1]], [[0.9, 0.1, 0.6], [0.2, 0.7, 0.4]]))
cases.append(case("threshold_0_3", [[1, 0, 1], [0, 1, 0], [1, 1, 0]],
                  [[0.9, 0.3, 0.6], [0.1, 0.7, 0.8], [0.8, 0.4, 0.3]], tau=0.3))
# Random cases: 7 labels with Paper A-like frequencies, tied (rounded) scores.
freqs = np.array([0.87, 0.55, 0.27, 0.02, 0.03, 0.12, 0.11])
for n, decimals in [(20, 1), (50, 1), (200, 2), (300, 1)]:
    y = (rng.random((n, 7)) < freqs).astype(int)
    noise = rng.normal(0, 0.3, (n, 7))
    s = np.clip(0.35 + 0.3 * y + noise, 0, 1).round(decimals)
    cases.append(case(f"random_{n}x7_d{decimals}", y, s))
# Random with continuous scores and an odd threshold.
y = (rng.random((60, 4)) < 0.4).astype(int)
s = rng.random((60, 4)) * 0.5 + 0.4 * y
cases.append(case("random_60x4_continuous", y, s, tau=0.42))
print("[\n" + ",\n".join(json.dumps(c) for c in cases) + "\n]")
