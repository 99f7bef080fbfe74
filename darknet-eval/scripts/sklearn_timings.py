"""scikit-learn timings to compare with `cargo bench -p darknet-benches --bench eval`.

Run:  python3 darknet-eval/scripts/sklearn_timings.py
(scikit-learn 1.9.1, numpy 2.4 with its bundled OpenBLAS; `pip install scikit-learn`).

Same shapes as the Rust benches: 3-NN brute force (KNeighborsClassifier(algorithm="brute"))
with 20,000 training and 10,000 query float32 embeddings of 128 dims, cosine and Euclidean;
and the multi-label metrics on 100,000 samples x 7 labels. Best of 3 runs, in seconds.
"""
import time

import numpy as np
from sklearn import metrics as M
from sklearn.neighbors import KNeighborsClassifier


def best(f, repeat=3):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


rng = np.random.default_rng(1)
train = (rng.random((20_000, 128), dtype=np.float32) - 0.5)
queries = (rng.random((10_000, 128), dtype=np.float32) - 0.5)
labels = np.array([f"class{i % 14}" for i in range(20_000)])
for metric in ["cosine", "euclidean"]:
    knn = KNeighborsClassifier(n_neighbors=3, algorithm="brute", metric=metric).fit(train, labels)
    print(f"knn {metric} 20000x10000x128: {best(lambda: knn.predict(queries)):.3f} s")

freqs = np.array([0.87, 0.55, 0.27, 0.02, 0.03, 0.12, 0.11])
n = 100_000
y = (rng.random((n, 7)) < freqs).astype(int)
s = np.clip(0.35 + 0.3 * y + 0.3 * (rng.random((n, 7)) - 0.5), 0, 1)


def report():
    p = (s > 0.5).astype(int)
    for avg in ["samples", "micro", "macro", "weighted", None]:
        M.precision_recall_fscore_support(y, p, average=avg, zero_division=0)
    M.hamming_loss(y, p)
    M.accuracy_score(y, p)
    M.jaccard_score(y, p, average="samples", zero_division=0)
    M.coverage_error(y, s)
    M.label_ranking_loss(y, s)
    M.label_ranking_average_precision_score(y, s)
    for l in range(7):
        M.roc_auc_score(y[:, l], s[:, l])
        M.average_precision_score(y[:, l], s[:, l])


print(f"report 100000x7: {best(report):.3f} s")
print(f"label_ranking_loss 100000x7: {best(lambda: M.label_ranking_loss(y, s)):.3f} s")
print(f"roc_auc per label 100000x7: "
      f"{best(lambda: [M.roc_auc_score(y[:, l], s[:, l]) for l in range(7)]):.3f} s")
