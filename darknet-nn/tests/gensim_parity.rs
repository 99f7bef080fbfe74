//! Statistical parity of word2vec with gensim 4.4 (`tests/golden/gensim_golden.json`, written
//! by `tests/golden/make_gensim_golden.py`; its header describes the corpus and how to
//! regenerate).
//!
//! Training is not bit-reproducible across implementations, so only the vocabulary counts are
//! compared exactly; the vectors are compared through what they are for: on a corpus of four
//! planted groups of words, the mean cosine similarity within and between groups and the
//! share of nearest neighbours in the same group must be close to gensim's.

use darknet_nn::Word2VecConfig;
use ndarray::{Array2, Axis};
use serde_json::Value;
use std::collections::HashMap;

const GOLDEN: &str = include_str!("golden/gensim_golden.json");

/// The script's closed-form corpus: 600 sentences of 20 words, sentence i from group i % 4.
fn corpus() -> Vec<Vec<String>> {
    (0..600usize)
        .map(|i| {
            let g = i % 4;
            (0..20usize)
                .map(|j| {
                    let mut k = (i * 7 + j * 13) % 30;
                    if i % 3 == 0 {
                        k %= 10;
                    }
                    format!("w{g}_{k}")
                })
                .collect()
        })
        .collect()
}

fn group(w: &str) -> usize {
    w[1..w.find('_').unwrap()].parse().unwrap()
}

/// (within-group mean cosine, between-group mean cosine, share of the 5 nearest neighbours in
/// the same group), as the script computes them.
fn stats(words: &[String], vectors: &Array2<f32>) -> (f64, f64, f64) {
    let v = vectors.mapv(|x| x as f64);
    let norms = v.map_axis(Axis(1), |r| r.dot(&r).sqrt());
    let n = words.len();
    let g: Vec<usize> = words.iter().map(|w| group(w)).collect();
    let sim = Array2::from_shape_fn((n, n), |(a, b)| {
        v.row(a).dot(&v.row(b)) / (norms[a] * norms[b])
    });
    let (mut w_sum, mut w_n, mut b_sum, mut b_n) = (0.0, 0usize, 0.0, 0usize);
    let mut nn_same = 0usize;
    for a in 0..n {
        for b in 0..n {
            if a == b {
                continue;
            }
            if g[a] == g[b] {
                w_sum += sim[[a, b]];
                w_n += 1;
            } else {
                b_sum += sim[[a, b]];
                b_n += 1;
            }
        }
        let mut order: Vec<usize> = (0..n).filter(|&b| b != a).collect();
        order.sort_by(|&x, &y| sim[[a, y]].partial_cmp(&sim[[a, x]]).unwrap());
        nn_same += order[..5].iter().filter(|&&b| g[b] == g[a]).count();
    }
    (
        w_sum / w_n as f64,
        b_sum / b_n as f64,
        nn_same as f64 / (5 * n) as f64,
    )
}

#[test]
fn word2vec_separates_planted_groups_as_gensim_does() {
    let golden: Value = serde_json::from_str(GOLDEN).unwrap();
    assert!(golden["gensim_version"].as_str().unwrap().starts_with("4."));
    let p = &golden["params"];
    let cfg = Word2VecConfig::new()
        .dim(p["vector_size"].as_u64().unwrap() as usize)
        .window(p["window"].as_u64().unwrap() as usize)
        .negative(p["negative"].as_u64().unwrap() as usize)
        .epochs(p["epochs"].as_u64().unwrap() as usize)
        .seed(p["seed"].as_u64().unwrap());
    let model = cfg.train(&corpus()).unwrap();

    // Exact: the same words with the same counts, both sorted by descending count (gensim
    // orders ties differently).
    let want: HashMap<String, u64> = golden["vocab"]
        .as_array()
        .unwrap()
        .iter()
        .zip(golden["counts"].as_array().unwrap())
        .map(|(w, c)| (w.as_str().unwrap().to_string(), c.as_u64().unwrap()))
        .collect();
    let got: HashMap<String, u64> = model
        .words()
        .iter()
        .cloned()
        .zip(model.counts().iter().copied())
        .collect();
    assert_eq!(got, want);
    assert!(model.counts().windows(2).all(|c| c[0] >= c[1]));

    // Statistical: the planted groups come out about as separated as with gensim.
    let (within, between, nn_same) = stats(model.words(), &model.vectors().to_owned());
    let (g_within, g_between, g_nn) = (
        golden["within"].as_f64().unwrap(),
        golden["between"].as_f64().unwrap(),
        golden["nn_same_group"].as_f64().unwrap(),
    );
    println!("ours within {within:.3} between {between:.3} nn {nn_same:.3}; gensim {g_within:.3} {g_between:.3} {g_nn:.3}");
    assert!(
        within > between + 0.1,
        "groups not separated: {within} vs {between}"
    );
    assert!(
        (within - g_within).abs() < 0.15,
        "within {within} vs gensim {g_within}"
    );
    assert!(
        (between - g_between).abs() < 0.15,
        "between {between} vs gensim {g_between}"
    );
    assert!(
        (nn_same - g_nn).abs() < 0.1,
        "neighbours {nn_same} vs gensim {g_nn}"
    );
}
