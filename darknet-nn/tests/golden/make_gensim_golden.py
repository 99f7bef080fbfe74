#!/usr/bin/env python3
"""Reference statistics from gensim's Word2Vec for darknet-nn's word2vec (tests/gensim_parity.rs).

word2vec training is not bit-reproducible across implementations (random streams, update
order), so the comparison is statistical: on a corpus with planted structure (4 groups of 30
words; every sentence draws its words from one group) both implementations must separate the
groups about as well. Exact parts: the vocabulary (gensim's order: descending count) and the
word counts.

What it writes: darknet-nn/tests/golden/gensim_golden.json with the gensim version, the
hyper-parameters, the vocabulary in gensim's order with counts, and three statistics of the
trained vectors: mean cosine similarity of word pairs within a group, between groups, and the
fraction of each word's 5 nearest neighbours (cosine) that share its group.

The corpus is closed-form (no random generator), repeated in the Rust test:
  sentence i (0 <= i < 600) belongs to group g = i % 4 and has 20 words; word j is
  "w{g}_{k}" with k = (i * 7 + j * 13) % 30, folded to k % 10 when i % 3 == 0 (so the first
  ten words of each group are more frequent).

How to regenerate (needs Python 3 and gensim):

    pip install gensim
    python3 darknet-nn/tests/golden/make_gensim_golden.py

then run `cargo test -p darknet-nn --test gensim_parity`. The JSON file is committed.
"""

import json
import os

import gensim
import numpy as np
from gensim.models import Word2Vec

GROUPS, WORDS, SENTENCES, LENGTH = 4, 30, 600, 20
PARAMS = dict(vector_size=32, window=5, min_count=0, sg=1, hs=0, negative=5, sample=0.0,
              epochs=5, seed=15, workers=1, alpha=0.025, min_alpha=0.0001, ns_exponent=0.75)


def corpus():
    out = []
    for i in range(SENTENCES):
        g = i % GROUPS
        words = []
        for j in range(LENGTH):
            k = (i * 7 + j * 13) % WORDS
            if i % 3 == 0:
                k %= 10
            words.append(f"w{g}_{k}")
        out.append(words)
    return out


def group(word):
    return int(word[1:word.index("_")])


def stats(words, vectors):
    v = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    sim = v @ v.T
    g = np.array([group(w) for w in words])
    same = g[:, None] == g[None, :]
    off = ~np.eye(len(words), dtype=bool)
    within = float(sim[same & off].mean())
    between = float(sim[~same].mean())
    np.fill_diagonal(sim, -np.inf)
    top = np.argsort(-sim, axis=1, kind="stable")[:, :5]
    nn_same = float((g[top] == g[:, None]).mean())
    return within, between, nn_same


def main():
    model = Word2Vec(sentences=corpus(), **PARAMS)
    words = list(model.wv.index_to_key)
    counts = [int(model.wv.get_vecattr(w, "count")) for w in words]
    within, between, nn_same = stats(words, model.wv.vectors)
    out = {
        "gensim_version": gensim.__version__,
        "params": PARAMS,
        "vocab": words,
        "counts": counts,
        "within": within,
        "between": between,
        "nn_same_group": nn_same,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gensim_golden.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote", path, "with gensim", gensim.__version__, "within", within, "between",
          between, "nn_same", nn_same)


if __name__ == "__main__":
    main()
