"""Golden values for darknet-eval's multi-class metrics and Paper B's kNN day protocol.

Produced with:  python3 make_multiclass.py > multiclass.json
(scikit-learn 1.9.1, numpy 2.4; `pip install scikit-learn`).

- "reports": classification_report(y_true, y_pred, labels=..., output_dict=True,
  zero_division=0) and confusion_matrix(y_true, y_pred, labels=...) on random class names,
  with and without a label list (a listed class absent from the data, predictions outside
  the list).
- "knn_day": the reference code's per-day protocol (gnn-for-darknet
  notebooks/03_classification.ipynb): classes with <= 10 hosts -> "unknown", StandardScaler on
  all rows, KNeighborsClassifier(n_neighbors=3, metric="cosine") fit on all rows,
  kneighbors() without arguments (query excluded), majority vote with ties to the
  alphabetically smallest name (np.unique + argmax), classification_report over the classes
  present among the evaluated (non-unknown) rows.
"""
import json

import numpy as np
from sklearn.metrics import classification_report, confusion_matrix
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler

rng = np.random.default_rng(20211221)
classes = ["censys", "mirai", "rapid7", "shodan", "unknown"]
reports = []
for n, labels in [(30, None), (40, ["censys", "mirai", "rapid7", "shodan"]),
                  (25, ["mirai", "shodan", "driftnet"]), (60, None)]:
    t = rng.choice(classes, size=n, p=[0.2, 0.4, 0.1, 0.1, 0.2]).tolist()
    p = [c if rng.random() < 0.6 else str(rng.choice(classes)) for c in t]
    rep = classification_report(t, p, labels=labels, output_dict=True, zero_division=0)
    cm_labels = labels if labels is not None else sorted(set(t) | set(p))
    cm = confusion_matrix(t, p, labels=cm_labels).tolist()
    reports.append({"y_true": t, "y_pred": p, "labels": labels, "report": rep,
                    "cm_labels": cm_labels, "confusion": cm})

# Paper B day: 3 well separated classes, one rare class, unknown hosts mixed in.
centers = rng.normal(0, 1, (4, 16))
names, rows = [], []
for c, (name, count) in enumerate([("mirai", 40), ("censys", 25), ("shadowserver", 20),
                                    ("intrinsec", 6)]):
    rows.append(centers[c] + rng.normal(0, 2.0, (count, 16)))
    names += [name] * count
rows.append(rng.normal(0, 1.2, (30, 16)))
names += ["unknown"] * 30
x = np.vstack(rows).astype(np.float32)
labels = np.array(names)
vals, counts = np.unique(labels, return_counts=True)
rare = set(vals[counts <= 10])
labels = np.array(["unknown" if l in rare else l for l in labels])
xs = StandardScaler().fit_transform(x)
knn = KNeighborsClassifier(n_neighbors=3, metric="cosine").fit(xs, labels)
_, ind = knn.kneighbors()
pred = []
for row in ind:
    u, c = np.unique(labels[row], return_counts=True)
    pred.append(str(u[np.argmax(c)]))
pred = np.array(pred)
mask = labels != "unknown"
present = sorted(set(labels[mask]))
rep = classification_report(labels[mask], pred[mask], labels=present, output_dict=True,
                            zero_division=0)
knn_day = {"x": x.tolist(), "labels": names, "neighbors": ind.tolist(),
           "pred": pred.tolist(), "report": rep}
print(json.dumps({"reports": reports, "knn_day": knn_day}))
