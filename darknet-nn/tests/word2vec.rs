//! word2vec: co-occurrence structure, determinism, incremental updates, persistence, errors.

use darknet_nn::{NnError, Word2Vec, Word2VecConfig};

/// Two groups of tokens that never share a sentence: {g0_*} and {g1_*}.
fn two_groups(n_sentences: usize) -> Vec<Vec<String>> {
    (0..n_sentences)
        .map(|i| {
            let g = i % 2;
            (0..8)
                .map(|k| format!("g{g}_{}", (i / 2 + k) % 6))
                .collect()
        })
        .collect()
}

fn small() -> Word2VecConfig {
    Word2VecConfig::new().dim(16).epochs(5).seed(7)
}

#[test]
fn defaults_follow_spec() {
    let c = Word2VecConfig::default();
    assert_eq!(
        (c.dim, c.window, c.negative, c.epochs, c.min_count),
        (128, 5, 5, 1, 0)
    );
    assert_eq!(c.sample, 0.0);
    assert_eq!((c.alpha, c.min_alpha, c.ns_exponent), (0.025, 0.0001, 0.75));
    assert_eq!(c.workers, 1);
}

/// Mean cosine similarity within the groups and across them, over all word pairs.
fn group_similarities(m: &Word2Vec<String>) -> (f32, f32) {
    let mut within = Vec::new();
    let mut across = Vec::new();
    for a in 0..6 {
        for b in 0..6 {
            if a != b {
                for g in 0..2 {
                    within.push(
                        m.similarity(&format!("g{g}_{a}"), &format!("g{g}_{b}"))
                            .unwrap(),
                    );
                }
            }
            across.push(
                m.similarity(&format!("g0_{a}"), &format!("g1_{b}"))
                    .unwrap(),
            );
        }
    }
    let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
    (mean(&within), mean(&across))
}

#[test]
fn co_occurring_tokens_end_up_closer() {
    let corpus = two_groups(400);
    let m = small().train(&corpus).unwrap();
    assert_eq!(m.len(), 12);
    let (within, across) = group_similarities(&m);
    assert!(within > across + 0.3, "{within} vs {across}");
    // most_similar of a group-0 word is a group-0 word.
    let best = m.most_similar(&"g0_0".to_string(), 3).unwrap();
    assert_eq!(best.len(), 3);
    assert!(best.iter().all(|(w, _)| w.starts_with("g0_")), "{best:?}");
    assert!(best[0].1 >= best[1].1 && best[1].1 >= best[2].1);
    assert!(m.most_similar(&"nope".to_string(), 3).is_none());
}

#[test]
fn vocabulary_sorted_by_descending_count_then_first_occurrence() {
    let corpus = vec![vec![3u32, 1, 2, 2], vec![1, 2, 5]];
    let m = small().train(&corpus).unwrap();
    assert_eq!(m.words(), &[2, 1, 3, 5]);
    assert_eq!(m.counts(), &[3, 2, 1, 1]);
    assert_eq!(m.index_of(&5), Some(3));
    assert_eq!(m.vector(&1).unwrap().len(), 16);
    // min_count drops rare words.
    let m = small().min_count(2).train(&corpus).unwrap();
    assert_eq!(m.words(), &[2, 1]);
}

#[test]
fn same_seed_gives_bit_identical_vectors() {
    let corpus = two_groups(50);
    let a = small().train(&corpus).unwrap();
    let b = small().train(&corpus).unwrap();
    assert_eq!(a.vectors(), b.vectors());
    assert_eq!(a.output_vectors(), b.output_vectors());
    let c = small().seed(8).train(&corpus).unwrap();
    assert_ne!(a.vectors(), c.vectors());
}

/// Hogwild threads must learn what one thread learns, even when every update collides (12
/// words, 2 threads): a thread's write-back adds its own update to the row as it is now
/// instead of overwriting what the other thread wrote since it loaded the row. Overwriting
/// lost most updates of the output vectors and left the groups barely apart (mean
/// similarity across the groups ≈ 0.68 against ≈ 0.11 for one thread, over 40 seeds).
#[test]
fn parallel_training_learns_the_same_structure() {
    let corpus = two_groups(2_000);
    for seed in [7, 8, 9] {
        let one = small().epochs(2).seed(seed).train(&corpus).unwrap();
        let par = small()
            .epochs(2)
            .seed(seed)
            .workers(2)
            .train(&corpus)
            .unwrap();
        let (w1, a1) = group_similarities(&one);
        let (w2, a2) = group_similarities(&par);
        assert!(w2 > a2 + 0.2, "seed {seed}: {w2} vs {a2}");
        assert!(a2 < a1 + 0.15, "seed {seed}: across {a2} (one thread {a1})");
        assert!(
            (w2 - w1).abs() < 0.15,
            "seed {seed}: within {w2} (one thread {w1})"
        );
        assert_eq!(par.last_stats().effective_words, 2 * 2_000 * 8);
    }
}

#[test]
fn subsampling_drops_frequent_words() {
    let corpus = two_groups(200);
    let m = small().sample(1e-3).train(&corpus).unwrap();
    let s = m.last_stats();
    assert!(s.effective_words < s.raw_words, "{s:?}");
}

#[test]
fn incremental_update_keeps_known_words() {
    let day1 = two_groups(100);
    let mut m = small().train(&day1).unwrap();
    let before = m.vectors().to_owned();
    let words_before = m.words().to_vec();
    // Day 2 mentions group 0 and a new word; group 1 is absent.
    let day2: Vec<Vec<String>> = (0..50)
        .map(|i| {
            vec![
                format!("g0_{}", i % 6),
                "new".to_string(),
                format!("g0_{}", (i + 1) % 6),
            ]
        })
        .collect();
    let stats = m.update(&day2).unwrap();
    assert_eq!(stats.new_words, 1);
    assert_eq!(m.len(), 13);
    assert_eq!(&m.words()[..12], words_before.as_slice());
    assert_eq!(m.index_of(&"new".to_string()), Some(12));
    // Counts accumulate.
    let i = m.index_of(&"g0_0".to_string()).unwrap();
    assert!(m.counts()[i] > 0);
    // Words absent from day 2 keep bit-identical vectors; present ones moved.
    for (i, w) in words_before.iter().enumerate() {
        if w.starts_with("g1_") {
            assert_eq!(m.vectors().row(i), before.row(i), "{w}");
        } else {
            assert_ne!(m.vectors().row(i), before.row(i), "{w}");
        }
    }
    // The update is reproducible too.
    let mut m2 = small().train(&day1).unwrap();
    m2.update(&day2).unwrap();
    assert_eq!(m.vectors(), m2.vectors());
    // An empty day is a no-op.
    let v = m.vectors().to_owned();
    let stats = m.update::<Vec<String>>(&[]).unwrap();
    assert_eq!((stats.new_words, stats.raw_words), (0, 0));
    assert_eq!(m.vectors(), v.view());
}

#[test]
fn save_load_round_trip_is_bit_identical_and_trainable() {
    let dir = std::env::temp_dir().join(format!("w2v_rt_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("w2v.safetensors");
    let corpus = two_groups(40);
    let mut m = small().train(&corpus).unwrap();
    m.save(&path).unwrap();
    let mut l: Word2Vec<String> = Word2Vec::load(&path).unwrap();
    assert_eq!(l.words(), m.words());
    assert_eq!(l.counts(), m.counts());
    assert_eq!(l.vectors(), m.vectors());
    assert_eq!(l.output_vectors(), m.output_vectors());
    assert_eq!(l.config(), m.config());
    // Continued training gives the same result as without the round trip.
    let day2 = vec![vec!["g0_1".to_string(), "z".to_string()]; 10];
    m.update(&day2).unwrap();
    l.update(&day2).unwrap();
    assert_eq!(l.vectors(), m.vectors());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn invalid_configs_are_rejected() {
    let corpus = vec![vec!["a", "b"]];
    let cases = [
        (Word2VecConfig::new().dim(0), "dim"),
        (Word2VecConfig::new().window(0), "window"),
        (Word2VecConfig::new().negative(0), "negative"),
        (Word2VecConfig::new().epochs(0), "epochs"),
        (Word2VecConfig::new().sample(-1.0), "sample"),
        (Word2VecConfig::new().alpha(0.0), "alpha"),
        (Word2VecConfig::new().min_alpha(1.0), "min_alpha"),
        (Word2VecConfig::new().ns_exponent(f64::NAN), "ns_exponent"),
    ];
    for (cfg, name) in cases {
        match cfg.train(&corpus) {
            Err(NnError::InvalidConfig { field, .. }) => assert_eq!(field, name),
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn empty_corpus_is_an_error() {
    let corpus: Vec<Vec<&str>> = vec![vec![], vec![]];
    assert!(matches!(small().train(&corpus), Err(NnError::Empty { .. })));
    let corpus = vec![vec!["a"]];
    assert!(matches!(
        small().min_count(2).train(&corpus),
        Err(NnError::Empty { .. })
    ));
}

#[test]
fn load_errors_are_typed() {
    let dir = std::env::temp_dir().join(format!("w2v_err_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Missing file.
    let r = Word2Vec::<String>::load(dir.join("absent.safetensors"));
    assert!(matches!(r, Err(NnError::Io { .. })));
    // Not a safetensors file.
    let junk = dir.join("junk.safetensors");
    std::fs::write(&junk, b"not a safetensors file").unwrap();
    assert!(matches!(
        Word2Vec::<String>::load(&junk),
        Err(NnError::SafeTensors { .. })
    ));
    // A safetensors file without our metadata.
    let bare = dir.join("bare.safetensors");
    let data = [0u8; 8];
    let t =
        safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![1, 2], &data).unwrap();
    safetensors::serialize_to_file([("vectors", t)], None, &bare).unwrap();
    assert!(matches!(
        Word2Vec::<String>::load(&bare),
        Err(NnError::MissingMetadata { key: "format", .. })
    ));
    // Words of another type than the file's.
    let path = dir.join("ok.safetensors");
    small()
        .train(&[vec!["a", "b"]])
        .unwrap()
        .save(&path)
        .unwrap();
    assert!(matches!(
        Word2Vec::<u32>::load(&path),
        Err(NnError::Json { .. })
    ));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn code_corpus_follows_the_reference_code() {
    use darknet_nn::word2vec::code_corpus;
    // "oth" (first) moved last; a final element equal to the first is dropped.
    let lists = vec![vec!["a"], vec!["a", "b"]];
    assert_eq!(code_corpus(&lists, 10), vec![vec!["a", "b"]]);
    // Chunks of `chunk` words.
    let lists = vec![vec![], (0..2_500u32).collect::<Vec<_>>()];
    let c = code_corpus(&lists, 1_000);
    assert_eq!(
        c.iter().map(|s| s.len()).collect::<Vec<_>>(),
        vec![1_000, 1_000, 500]
    );
    assert!(code_corpus::<u32>(&[], 5).is_empty());
}
