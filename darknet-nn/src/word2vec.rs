//! word2vec: skip-gram with negative sampling, as gensim trains it, for the i-DarkVec baseline
//! (docs/paper-b.md#i-darkvec, docs/choices.md#b10).
//!
//! A corpus is a list of sentences; a sentence is a list of tokens (`W`: strings such as IP
//! addresses, or integer ids). [`Word2VecConfig::train`] builds the vocabulary and trains a
//! [`Word2Vec`]; [`Word2Vec::update`] is gensim's `build_vocab(update=True)` followed by `train`:
//! known words keep their vectors (and accumulate their counts), new words are appended with a
//! fresh seeded initialisation, then the model trains on the new corpus.
//!
//! The algorithm (gensim `word2vec_inner.pyx`, `fast_sentence_sg_neg`):
//! - vocabulary in order of descending count (ties: first occurrence), new words of an update
//!   appended in first-occurrence order; `min_count` drops rarer words of the corpus;
//! - input vectors initialised `U(−1/dim, 1/dim)` (gensim 4), output vectors (`syn1neg`) zero;
//! - for every position `i` of a sentence a reduced window `b ~ U{0, window−1}` is drawn and every
//!   `j ≠ i` with `|j − i| ≤ window − b` gives a pair: the input vector of word `j` predicts word
//!   `i` (label 1) against `negative` words drawn from the unigram^0.75 table (label 0; a draw
//!   equal to word `i` is skipped); a pair whose dot product is outside (−6, 6) is skipped as
//!   gensim does; updates `g = (label − σ(dot)) · α`;
//! - the learning rate decays linearly from `alpha` to `min_alpha` over all words of one `train`
//!   / `update` call (every call restarts at `alpha`, as gensim's `train`);
//! - optional down-sampling of frequent words (`sample`, off by default).
//!
//! Threads: `workers(1)` (the default) trains in one thread and is bit-reproducible: same seed and
//! corpus give the same vectors. With more workers the corpus is cut into jobs of about 10,000
//! words trained Hogwild-style in parallel (lock-free shared vectors through relaxed 64-bit
//! atomics, two values each, which compile to plain moves): every job draws from its own seeded
//! generator and takes its learning rate from its position in the corpus (no counter shared
//! between threads), each thread keeps its own scratch rows, and rows are padded to whole
//! cache lines so that threads updating different rows never share a line. A thread writes an
//! output row back by adding its own update to the row as it is then (as gensim updates in
//! place), so collisions lose at most the few updates that land between one load and store.
//! Only the interleaving of updates varies between runs, so multi-threaded results are not
//! bit-reproducible (gensim's are not either).
//!
//! ```
//! use darknet_nn::Word2VecConfig;
//! let day1: Vec<Vec<&str>> = (0..200)
//!     .map(|i| if i % 2 == 0 { vec!["a", "b", "a", "b"] } else { vec!["x", "y", "x", "y"] })
//!     .collect();
//! let mut model = Word2VecConfig::new().dim(16).epochs(5).seed(1).train(&day1).unwrap();
//! assert_eq!(model.vectors().shape(), &[4, 16]);
//! let ab = model.similarity(&"a", &"b").unwrap();
//! let ax = model.similarity(&"a", &"x").unwrap();
//! assert!(ab > ax);
//! // Next day: "a" keeps its row, "c" is new.
//! model.update(&[vec!["a", "c", "a", "c"]]).unwrap();
//! assert_eq!(model.len(), 5);
//! assert_eq!(model.index_of(&"c"), Some(4));
//! ```

use crate::{NnError, Result};
use ndarray::{Array2, ArrayView1, ArrayView2, Axis};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::cell::Cell;
use std::collections::HashMap;
use std::hash::Hash;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Dot products outside (−MAX_EXP, MAX_EXP) give no update (gensim's `MAX_EXP`).
const MAX_EXP: f32 = 6.0;
/// Target number of words per parallel job (gensim's `batch_words`).
const JOB_WORDS: usize = 10_000;
/// Range of the cumulative negative-sampling table (gensim's `domain`).
const CUM_DOMAIN: f64 = 2_147_483_647.0;
/// Value of the `format` metadata key of saved models.
const FORMAT: &str = "darknet-nn.word2vec.v1";

/// Hyper-parameters of skip-gram word2vec with negative sampling; trains into a [`Word2Vec`].
///
/// Defaults (docs/paper-b.md#i-darkvec, gensim's elsewhere): `dim` 128, `window` 5, `negative` 5,
/// `epochs` 1, `min_count` 0, `sample` 0 (no down-sampling), `alpha` 0.025, `min_alpha` 0.0001,
/// `ns_exponent` 0.75, `seed` 15, `workers` 1 (reproducible).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Word2VecConfig {
    /// Vector size.
    pub dim: usize,
    /// Maximum distance between a word and its context words.
    pub window: usize,
    /// Negative samples per positive pair.
    pub negative: usize,
    /// Passes over the corpus per `train` / `update` call.
    pub epochs: usize,
    /// Words of a corpus seen fewer times than this are ignored (0 and 1 keep every word).
    pub min_count: u64,
    /// Down-sampling threshold of frequent words (gensim's `sample`); 0 disables it.
    pub sample: f64,
    /// Initial learning rate.
    pub alpha: f32,
    /// Final learning rate (reached at the end of each call).
    pub min_alpha: f32,
    /// Exponent of the unigram distribution negatives are drawn from.
    pub ns_exponent: f64,
    /// Seed of the initial vectors and of all sampling.
    pub seed: u64,
    /// Threads: 1 trains sequentially and reproducibly; 0 uses all of rayon's threads; `n > 1`
    /// uses `n` threads (Hogwild, not bit-reproducible).
    pub workers: usize,
}

impl Default for Word2VecConfig {
    fn default() -> Self {
        Self {
            dim: 128,
            window: 5,
            negative: 5,
            epochs: 1,
            min_count: 0,
            sample: 0.0,
            alpha: 0.025,
            min_alpha: 0.0001,
            ns_exponent: 0.75,
            seed: 15,
            workers: 1,
        }
    }
}

impl Word2VecConfig {
    /// The defaults listed on [`Word2VecConfig`].
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the vector size.
    pub fn dim(mut self, dim: usize) -> Self {
        self.dim = dim;
        self
    }
    /// Sets the window.
    pub fn window(mut self, window: usize) -> Self {
        self.window = window;
        self
    }
    /// Sets the number of negatives per positive pair.
    pub fn negative(mut self, negative: usize) -> Self {
        self.negative = negative;
        self
    }
    /// Sets the passes per call.
    pub fn epochs(mut self, epochs: usize) -> Self {
        self.epochs = epochs;
        self
    }
    /// Sets the minimum count.
    pub fn min_count(mut self, min_count: u64) -> Self {
        self.min_count = min_count;
        self
    }
    /// Sets the down-sampling threshold (0 = off).
    pub fn sample(mut self, sample: f64) -> Self {
        self.sample = sample;
        self
    }
    /// Sets the initial learning rate.
    pub fn alpha(mut self, alpha: f32) -> Self {
        self.alpha = alpha;
        self
    }
    /// Sets the final learning rate.
    pub fn min_alpha(mut self, min_alpha: f32) -> Self {
        self.min_alpha = min_alpha;
        self
    }
    /// Sets the exponent of the negative-sampling distribution.
    pub fn ns_exponent(mut self, ns_exponent: f64) -> Self {
        self.ns_exponent = ns_exponent;
        self
    }
    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Sets the number of threads (1 = reproducible, 0 = all).
    pub fn workers(mut self, workers: usize) -> Self {
        self.workers = workers;
        self
    }

    /// Checks every field; [`NnError::InvalidConfig`] names the first bad one.
    pub fn validate(&self) -> Result<()> {
        let bad = |field: &'static str, value: String, reason: &'static str| {
            Err(NnError::InvalidConfig {
                field,
                value,
                reason,
            })
        };
        if self.dim == 0 {
            return bad("dim", self.dim.to_string(), "must be at least 1");
        }
        if self.window == 0 {
            return bad("window", self.window.to_string(), "must be at least 1");
        }
        if self.negative == 0 {
            return bad("negative", self.negative.to_string(), "must be at least 1");
        }
        if self.epochs == 0 {
            return bad("epochs", self.epochs.to_string(), "must be at least 1");
        }
        if !(self.sample.is_finite() && self.sample >= 0.0) {
            return bad("sample", self.sample.to_string(), "must be finite and >= 0");
        }
        if !(self.alpha.is_finite() && self.alpha > 0.0) {
            return bad("alpha", self.alpha.to_string(), "must be finite and > 0");
        }
        if !(self.min_alpha.is_finite() && self.min_alpha >= 0.0 && self.min_alpha <= self.alpha) {
            return bad(
                "min_alpha",
                self.min_alpha.to_string(),
                "must be in [0, alpha]",
            );
        }
        if !self.ns_exponent.is_finite() {
            return bad(
                "ns_exponent",
                self.ns_exponent.to_string(),
                "must be finite",
            );
        }
        Ok(())
    }

    /// Builds the vocabulary of `sentences` and trains a model on them.
    ///
    /// Arguments: `sentences`, each a slice of tokens. Returns the trained model (vectors
    /// `(n_words, dim)`).
    ///
    /// Errors: [`NnError::InvalidConfig`]; [`NnError::Empty`] when the corpus has no word that
    /// passes `min_count`.
    ///
    /// Complexity: O(epochs · n_words_in_corpus · window · (negative + 1) · dim).
    pub fn train<W, S>(&self, sentences: &[S]) -> Result<Word2Vec<W>>
    where
        W: Hash + Eq + Clone + Sync,
        S: AsRef<[W]> + Sync,
    {
        self.validate()?;
        let mut model = Word2Vec {
            config: self.clone(),
            words: Vec::new(),
            index: HashMap::new(),
            counts: Vec::new(),
            vectors: Array2::zeros((0, self.dim)),
            syn1neg: Array2::zeros((0, self.dim)),
            n_calls: 0,
            last_stats: Word2VecStats::default(),
        };
        model.add_vocab(sentences, true);
        if model.words.is_empty() {
            return Err(NnError::Empty {
                what: "word2vec corpus (no word reaches min_count)".to_string(),
            });
        }
        model.train_corpus(sentences);
        Ok(model)
    }
}

/// Figures of the last `train` / `update` call.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Word2VecStats {
    /// Words added to the vocabulary by the call.
    pub new_words: usize,
    /// In-vocabulary words of the corpus, summed over epochs.
    pub raw_words: u64,
    /// Words trained after down-sampling, summed over epochs.
    pub effective_words: u64,
    /// Wall-clock time of the training passes.
    pub elapsed: Duration,
}

impl Word2VecStats {
    /// Effective words trained per second.
    pub fn words_per_sec(&self) -> f64 {
        self.effective_words as f64 / self.elapsed.as_secs_f64().max(1e-12)
    }
}

/// A trained skip-gram model: vocabulary, input vectors `(n_words, dim)` (the embeddings) and
/// output vectors (kept for further training).
///
/// Row `i` of [`Word2Vec::vectors`] belongs to `words()[i]`; a word keeps its row across updates.
#[derive(Debug, Clone)]
pub struct Word2Vec<W = String> {
    config: Word2VecConfig,
    words: Vec<W>,
    index: HashMap<W, usize>,
    counts: Vec<u64>,
    vectors: Array2<f32>,
    syn1neg: Array2<f32>,
    n_calls: u64,
    last_stats: Word2VecStats,
}

impl<W: Hash + Eq + Clone + Sync> Word2Vec<W> {
    /// The configuration it was trained with.
    pub fn config(&self) -> &Word2VecConfig {
        &self.config
    }

    /// Number of words in the vocabulary.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// True for an empty vocabulary (never the case for a trained model).
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Vector size.
    pub fn dim(&self) -> usize {
        self.config.dim
    }

    /// The vocabulary, in row order.
    pub fn words(&self) -> &[W] {
        &self.words
    }

    /// Corpus counts of the words (accumulated over updates), in row order.
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// The row of `word`, if known.
    pub fn index_of(&self, word: &W) -> Option<usize> {
        self.index.get(word).copied()
    }

    /// The word vectors (embeddings), shape `(n_words, dim)`.
    pub fn vectors(&self) -> ArrayView2<'_, f32> {
        self.vectors.view()
    }

    /// The output (negative-sampling) vectors, shape `(n_words, dim)`.
    pub fn output_vectors(&self) -> ArrayView2<'_, f32> {
        self.syn1neg.view()
    }

    /// The vector of `word`, shape `(dim)`, if known.
    pub fn vector(&self, word: &W) -> Option<ArrayView1<'_, f32>> {
        self.index_of(word).map(|i| self.vectors.row(i))
    }

    /// Figures of the last `train` / `update` call.
    pub fn last_stats(&self) -> Word2VecStats {
        self.last_stats
    }

    /// Cosine similarity of two known words (0 when one vector is zero), `None` if one is
    /// unknown.
    pub fn similarity(&self, a: &W, b: &W) -> Option<f32> {
        let (a, b) = (self.vector(a)?, self.vector(b)?);
        Some(cosine(a.as_slice()?, b.as_slice()?))
    }

    /// The `k` words most similar to `word` by cosine similarity, best first (ties by row),
    /// excluding `word` itself; `None` if `word` is unknown.
    ///
    /// Complexity: O(n_words · dim).
    pub fn most_similar(&self, word: &W, k: usize) -> Option<Vec<(W, f32)>> {
        let i = self.index_of(word)?;
        let q = self.vectors.row(i);
        let q = q.as_slice()?;
        let mut scored: Vec<(usize, f32)> = (0..self.len())
            .filter(|&j| j != i)
            .map(|j| (j, cosine(q, self.vectors.row(j).as_slice().unwrap_or(&[]))))
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        scored.truncate(k);
        Some(
            scored
                .into_iter()
                .map(|(j, s)| (self.words[j].clone(), s))
                .collect(),
        )
    }

    /// gensim's `build_vocab(update=True)` then `train`: adds the corpus counts of known words,
    /// appends new words (reaching `min_count` in this corpus) with fresh seeded vectors, then
    /// trains `epochs` passes over `sentences` with the learning rate decaying again from `alpha`.
    ///
    /// Known words keep their rows (and their vectors until training moves them). An empty
    /// corpus is a no-op. Returns the call's figures.
    pub fn update<S>(&mut self, sentences: &[S]) -> Result<Word2VecStats>
    where
        S: AsRef<[W]> + Sync,
    {
        self.config.validate()?;
        let new_words = self.add_vocab(sentences, false);
        self.train_corpus(sentences);
        self.last_stats.new_words = new_words;
        Ok(self.last_stats)
    }

    /// Counts the corpus, adds new words (first build: sorted by descending count), initialises
    /// their vectors. Returns the number of new words.
    fn add_vocab<S: AsRef<[W]>>(&mut self, sentences: &[S], first: bool) -> usize {
        // Raw counts in first-occurrence order.
        let mut raw: Vec<(W, u64)> = Vec::new();
        let mut pos: HashMap<&W, usize> = HashMap::new();
        for s in sentences {
            for w in s.as_ref() {
                match pos.get(w) {
                    Some(&p) => raw[p].1 += 1,
                    None => {
                        pos.insert(w, raw.len());
                        raw.push((w.clone(), 1));
                    }
                }
            }
        }
        drop(pos);
        let mut new: Vec<(W, u64)> = Vec::new();
        for (w, c) in raw {
            if let Some(&i) = self.index.get(&w) {
                self.counts[i] += c;
            } else if c >= self.config.min_count {
                new.push((w, c));
            }
        }
        if first {
            // Stable: ties keep first-occurrence order.
            new.sort_by_key(|w| std::cmp::Reverse(w.1));
        }
        let old = self.words.len();
        let n_new = new.len();
        let dim = self.config.dim;
        let mut vectors = Array2::zeros((n_new, dim));
        let bound = 1.0 / dim as f64;
        for (k, (w, c)) in new.into_iter().enumerate() {
            let i = old + k;
            let mut rng = ChaCha8Rng::seed_from_u64(mix(&[self.config.seed, 0x1417, i as u64]));
            for v in vectors.row_mut(k).iter_mut() {
                *v = rng.random_range(-bound..bound) as f32;
            }
            self.index.insert(w.clone(), i);
            self.words.push(w);
            self.counts.push(c);
        }
        let grown = |a: &Array2<f32>, b: &Array2<f32>| {
            ndarray::concatenate(Axis(0), &[a.view(), b.view()]).expect("same number of columns")
        };
        self.vectors = grown(&self.vectors, &vectors);
        self.syn1neg = grown(&self.syn1neg, &Array2::zeros((n_new, dim)));
        n_new
    }

    /// Trains `epochs` passes over the corpus (vocabulary already built).
    fn train_corpus<S: AsRef<[W]> + Sync>(&mut self, sentences: &[S]) {
        let start = Instant::now();
        let cfg = self.config.clone();
        let call = self.n_calls;
        self.n_calls += 1;
        // Corpus as row indices (unknown words, i.e. under min_count, dropped as gensim does).
        let mut tokens: Vec<u32> = Vec::new();
        let mut offsets: Vec<usize> = vec![0];
        for s in sentences {
            tokens.extend(
                s.as_ref()
                    .iter()
                    .filter_map(|w| self.index.get(w).map(|&i| i as u32)),
            );
            if *offsets.last().unwrap_or(&0) != tokens.len() {
                offsets.push(tokens.len());
            }
        }
        let total = tokens.len();
        let mut stats = Word2VecStats::default();
        if total == 0 {
            stats.elapsed = start.elapsed();
            self.last_stats = stats;
            return;
        }
        // Jobs: runs of whole sentences with about JOB_WORDS words.
        let mut jobs: Vec<(usize, usize)> = Vec::new(); // sentence index ranges
        let mut js = 0;
        for s in 0..offsets.len() - 1 {
            if offsets[s + 1] - offsets[js] >= JOB_WORDS {
                jobs.push((js, s + 1));
                js = s + 1;
            }
        }
        if js < offsets.len() - 1 {
            jobs.push((js, offsets.len() - 1));
        }
        let neg = NegTable::new(cum_table(&self.counts, cfg.ns_exponent));
        let keep = keep_thresholds(&self.counts, cfg.sample);
        let (n, dim) = (self.words.len(), cfg.dim);
        let layout = Layout::new(n, dim);
        let mut effective = 0u64;
        let seed_of = |epoch: usize, j: usize| mix(&[cfg.seed, call, epoch as u64, j as u64]);
        let half = layout.rows * layout.stride;
        if cfg.workers == 1 {
            // One thread: plain memory through cells (vectorised loads and stores).
            let mut buf = vec![0.0f32; 2 * half + Layout::LINE];
            let skip = Layout::misalignment(buf.as_ptr() as usize);
            let (syn0, syn1) = buf[skip..skip + 2 * half].split_at_mut(half);
            layout.fill(&self.vectors, syn0, |d, v| *d = v);
            layout.fill(&self.syn1neg, syn1, |d, v| *d = v);
            {
                let ctx = Ctx {
                    cfg: &cfg,
                    layout,
                    syn0: Cell::from_mut(&mut *syn0).as_slice_of_cells(),
                    syn1neg: Cell::from_mut(&mut *syn1).as_slice_of_cells(),
                    neg: &neg,
                    keep: &keep,
                    tokens: &tokens,
                    offsets: &offsets,
                    total_words: (total * cfg.epochs) as f64,
                };
                let mut bufs = Bufs::new(dim, cfg.negative);
                for epoch in 0..cfg.epochs {
                    for (j, &job) in jobs.iter().enumerate() {
                        effective += ctx.train_job(job, epoch, seed_of(epoch, j), &mut bufs);
                    }
                }
            }
            self.vectors = layout.gather(|i| syn0[i]);
            self.syn1neg = layout.gather(|i| syn1[i]);
        } else {
            // Hogwild: shared rows through relaxed atomics, jobs in parallel.
            let mut buf: Vec<AtomicU64> = (0..(2 * half + Layout::LINE) / 2)
                .map(|_| AtomicU64::new(0))
                .collect();
            // The buffer is 8-byte aligned, so the skip (in f32) is even.
            let skip = Layout::misalignment(buf.as_ptr() as usize) / 2;
            let (syn0, syn1) = buf[skip..skip + half].split_at_mut(half / 2);
            for (table, a) in [(&mut *syn0, &self.vectors), (&mut *syn1, &self.syn1neg)] {
                for (i, r) in a.outer_iter().enumerate() {
                    let s = layout.row(i as u32);
                    for (j, &v) in r.iter().enumerate() {
                        let word = table[(s + j) / 2].get_mut();
                        let shift = 32 * ((s + j) % 2);
                        *word = (*word & !(0xFFFF_FFFFu64 << shift))
                            | (u64::from(v.to_bits()) << shift);
                    }
                }
            }
            let (syn0, syn1) = (&*syn0, &*syn1);
            let ctx = Ctx {
                cfg: &cfg,
                layout,
                syn0,
                syn1neg: syn1,
                neg: &neg,
                keep: &keep,
                tokens: &tokens,
                offsets: &offsets,
                total_words: (total * cfg.epochs) as f64,
            };
            for epoch in 0..cfg.epochs {
                let par = || {
                    (0..jobs.len())
                        .into_par_iter()
                        .map_init(
                            || Bufs::new(dim, cfg.negative),
                            |bufs, j| ctx.train_job(jobs[j], epoch, seed_of(epoch, j), bufs),
                        )
                        .sum::<u64>()
                };
                effective += match (cfg.workers > 1)
                    .then(|| {
                        rayon::ThreadPoolBuilder::new()
                            .num_threads(cfg.workers)
                            .build()
                            .ok()
                    })
                    .flatten()
                {
                    Some(pool) => pool.install(par),
                    None => par(),
                };
            }
            let get = |v: &[AtomicU64], i: usize| {
                f32::from_bits((v[i / 2].load(Ordering::Relaxed) >> (32 * (i % 2))) as u32)
            };
            self.vectors = layout.gather(|i| get(syn0, i));
            self.syn1neg = layout.gather(|i| get(syn1, i));
        }
        stats.raw_words = (total * cfg.epochs) as u64;
        stats.effective_words = effective;
        stats.elapsed = start.elapsed();
        self.last_stats = stats;
    }
}

impl<W: Hash + Eq + Clone + Sync + Serialize> Word2Vec<W> {
    /// Saves the model to one safetensors file: tensors `vectors` and `syn1neg` (F32,
    /// `(n_words, dim)`), metadata `format`, `config` (JSON), `words` (JSON array, row order),
    /// `counts` (JSON array) and `n_calls`. Python reads it with
    /// `safetensors.safe_open(path, "np")` (`.metadata()["words"]` through `json.loads`).
    ///
    /// Errors: [`NnError::SafeTensors`] (including i/o), [`NnError::Json`].
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let json = |v: serde_json::Result<String>| {
            v.map_err(|source| NnError::Json {
                path: path.to_path_buf(),
                source,
            })
        };
        let mut meta = HashMap::new();
        meta.insert("format".to_string(), FORMAT.to_string());
        meta.insert(
            "config".to_string(),
            json(serde_json::to_string(&self.config))?,
        );
        meta.insert(
            "words".to_string(),
            json(serde_json::to_string(&self.words))?,
        );
        meta.insert(
            "counts".to_string(),
            json(serde_json::to_string(&self.counts))?,
        );
        meta.insert("n_calls".to_string(), self.n_calls.to_string());
        let st_err = |source| NnError::SafeTensors {
            path: path.to_path_buf(),
            source,
        };
        let shape = vec![self.len(), self.dim()];
        let bytes = |a: &Array2<f32>| a.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>();
        let (b0, b1) = (bytes(&self.vectors), bytes(&self.syn1neg));
        let t0 = safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), &b0)
            .map_err(st_err)?;
        let t1 = safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape, &b1)
            .map_err(st_err)?;
        safetensors::serialize_to_file([("vectors", t0), ("syn1neg", t1)], Some(meta), path)
            .map_err(st_err)
    }
}

impl<W: Hash + Eq + Clone + Sync + DeserializeOwned> Word2Vec<W> {
    /// Loads a model written by [`Word2Vec::save`]; training can continue with
    /// [`Word2Vec::update`]. The round trip is bit-identical.
    ///
    /// Errors: [`NnError::Io`], [`NnError::SafeTensors`], [`NnError::Json`],
    /// [`NnError::MissingMetadata`], [`NnError::MissingTensor`], [`NnError::TensorShape`],
    /// [`NnError::TensorDtype`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let buf = std::fs::read(path).map_err(|source| NnError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let st_err = |source| NnError::SafeTensors {
            path: path.to_path_buf(),
            source,
        };
        let (_, header) = safetensors::SafeTensors::read_metadata(&buf).map_err(st_err)?;
        let st = safetensors::SafeTensors::deserialize(&buf).map_err(st_err)?;
        let empty = HashMap::new();
        let meta = header.metadata().as_ref().unwrap_or(&empty);
        let get = |key: &'static str| {
            meta.get(key).ok_or_else(|| NnError::MissingMetadata {
                key,
                path: path.to_path_buf(),
            })
        };
        let json_err = |source| NnError::Json {
            path: path.to_path_buf(),
            source,
        };
        if get("format")? != FORMAT {
            return Err(NnError::MissingMetadata {
                key: "format",
                path: path.to_path_buf(),
            });
        }
        let config: Word2VecConfig = serde_json::from_str(get("config")?).map_err(json_err)?;
        let words: Vec<W> = serde_json::from_str(get("words")?).map_err(json_err)?;
        let counts: Vec<u64> = serde_json::from_str(get("counts")?).map_err(json_err)?;
        let n_calls: u64 = serde_json::from_str(get("n_calls")?).map_err(json_err)?;
        config.validate()?;
        let expected = vec![words.len(), config.dim];
        if counts.len() != words.len() {
            return Err(NnError::TensorShape {
                name: "counts".to_string(),
                path: path.to_path_buf(),
                expected: vec![words.len()],
                actual: vec![counts.len()],
            });
        }
        let tensor = |name: &str| -> Result<Array2<f32>> {
            let t = st.tensor(name).map_err(|_| NnError::MissingTensor {
                name: name.to_string(),
                path: path.to_path_buf(),
            })?;
            if t.dtype() != safetensors::Dtype::F32 {
                return Err(NnError::TensorDtype {
                    name: name.to_string(),
                    path: path.to_path_buf(),
                    expected: "F32".to_string(),
                    actual: format!("{:?}", t.dtype()),
                });
            }
            if t.shape() != expected.as_slice() {
                return Err(NnError::TensorShape {
                    name: name.to_string(),
                    path: path.to_path_buf(),
                    expected: expected.clone(),
                    actual: t.shape().to_vec(),
                });
            }
            let v: Vec<f32> = t
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            Array2::from_shape_vec((expected[0], expected[1]), v).map_err(|_| {
                NnError::TensorShape {
                    name: name.to_string(),
                    path: path.to_path_buf(),
                    expected: expected.clone(),
                    actual: t.shape().to_vec(),
                }
            })
        };
        let vectors = tensor("vectors")?;
        let syn1neg = tensor("syn1neg")?;
        let mut index = HashMap::with_capacity(words.len());
        for (i, w) in words.iter().enumerate() {
            if index.insert(w.clone(), i).is_some() {
                return Err(NnError::MissingMetadata {
                    key: "words",
                    path: path.to_path_buf(),
                });
            }
        }
        Ok(Self {
            config,
            words,
            index,
            counts,
            vectors,
            syn1neg,
            n_calls,
            last_stats: Word2VecStats::default(),
        })
    }
}

/// The reference code's i-DarkVec corpus of one day (docs/paper-b.md#i-darkvec, the code option of
/// docs/choices.md#b10): concatenates the per-port sender lists (given in descending packet-count
/// order; the first, largest list, the code's `oth` group, is moved to the end), drops consecutive
/// duplicates the way the code does (an element is kept when it differs from the next one, with
/// wrap-around, so a last element equal to the first is dropped too), and cuts the sequence into
/// sentences of `chunk` words (1,000 in the code; the last may be shorter).
///
/// Arguments: `port_lists`, one list of senders per port, each in time order. Returns the
/// sentences. The paper's default is to train on `port_lists` directly (one sentence per port).
///
/// ```
/// use darknet_nn::word2vec::code_corpus;
/// let lists = vec![vec!["o", "o"], vec!["a", "a", "b"], vec!["b", "c"]];
/// // a a b b c o o -> keep where next differs (wrap to first): a b c o ("o" != "a")
/// assert_eq!(code_corpus(&lists, 3), vec![vec!["a", "b", "c"], vec!["o"]]);
/// ```
pub fn code_corpus<W: Clone + PartialEq>(port_lists: &[Vec<W>], chunk: usize) -> Vec<Vec<W>> {
    let mut seq: Vec<&W> = port_lists
        .iter()
        .skip(1)
        .chain(port_lists.first())
        .flat_map(|l| l.iter())
        .collect();
    let n = seq.len();
    let keep: Vec<bool> = (0..n).map(|i| seq[i] != seq[(i + 1) % n]).collect();
    let mut k = keep.iter();
    seq.retain(|_| *k.next().unwrap_or(&false));
    seq.chunks(chunk.max(1))
        .map(|c| c.iter().map(|&w| w.clone()).collect())
        .collect()
}

/// Row storage of the training tables: cells (one thread) or relaxed atomics (Hogwild).
///
/// Both views sit over the same padded layout ([`Layout`]); only the access differs.
trait Rows {
    /// Copies `dst.len()` values from `start` into `dst`.
    fn load(&self, start: usize, dst: &mut [f32]);
    /// Copies `src` to the values from `start`.
    fn store(&self, start: usize, src: &[f32]);
    /// Writes back a target row after its update `row += g · l1`: `updated` is the thread's
    /// updated copy. Exclusive storage stores the copy; shared storage adds `g · l1` to the
    /// row as it is now, so that updates other threads made since the copy was loaded are
    /// kept (as gensim's in-place update keeps them) instead of being overwritten.
    fn commit(&self, start: usize, updated: &[f32], g: f32, l1: &[f32]);
}

impl Rows for [Cell<f32>] {
    #[inline]
    fn load(&self, start: usize, dst: &mut [f32]) {
        let src = &self[start..start + dst.len()];
        for (d, s) in dst.iter_mut().zip(src) {
            *d = s.get();
        }
    }
    #[inline]
    fn store(&self, start: usize, src: &[f32]) {
        for (d, s) in self[start..start + src.len()].iter().zip(src) {
            d.set(*s);
        }
    }
    #[inline]
    fn commit(&self, start: usize, updated: &[f32], _g: f32, _l1: &[f32]) {
        self.store(start, updated);
    }
}

/// Hogwild storage: two f32 per relaxed 64-bit atomic (low half = even position), so a row is
/// read and written with half as many (plain, unfenced) moves as one atomic per value. Rows
/// start at even positions ([`Layout`]'s stride is a multiple of 16).
impl Rows for [AtomicU64] {
    #[inline]
    fn load(&self, start: usize, dst: &mut [f32]) {
        let src = &self[start / 2..(start + dst.len()).div_ceil(2)];
        let mut pairs = dst.chunks_exact_mut(2);
        for (d, s) in (&mut pairs).zip(src) {
            let b = s.load(Ordering::Relaxed);
            d[0] = f32::from_bits(b as u32);
            d[1] = f32::from_bits((b >> 32) as u32);
        }
        if let [last] = pairs.into_remainder() {
            *last = f32::from_bits(src[src.len() - 1].load(Ordering::Relaxed) as u32);
        }
    }
    #[inline]
    fn store(&self, start: usize, src: &[f32]) {
        let dst = &self[start / 2..(start + src.len()).div_ceil(2)];
        let mut pairs = src.chunks_exact(2);
        for (s, d) in (&mut pairs).zip(dst) {
            d.store(
                u64::from(s[0].to_bits()) | (u64::from(s[1].to_bits()) << 32),
                Ordering::Relaxed,
            );
        }
        if let [last] = pairs.remainder() {
            // Odd dimension: the high half is the row's padding, never read as a value.
            dst[dst.len() - 1].store(u64::from(last.to_bits()), Ordering::Relaxed);
        }
    }
    #[inline]
    fn commit(&self, start: usize, _updated: &[f32], g: f32, l1: &[f32]) {
        let dst = &self[start / 2..(start + l1.len()).div_ceil(2)];
        let mut pairs = l1.chunks_exact(2);
        for (s, d) in (&mut pairs).zip(dst) {
            let b = d.load(Ordering::Relaxed);
            let lo = f32::from_bits(b as u32) + g * s[0];
            let hi = f32::from_bits((b >> 32) as u32) + g * s[1];
            d.store(
                u64::from(lo.to_bits()) | (u64::from(hi.to_bits()) << 32),
                Ordering::Relaxed,
            );
        }
        if let [last] = pairs.remainder() {
            let d = &dst[dst.len() - 1];
            let lo = f32::from_bits(d.load(Ordering::Relaxed) as u32) + g * last;
            d.store(u64::from(lo.to_bits()), Ordering::Relaxed);
        }
    }
}

/// Where the rows of a training table live in its flat buffer: row `i` starts at `i · stride`.
/// The stride is the dimension rounded up to 16 floats and each table starts on a 64-byte
/// boundary ([`Layout::misalignment`]), so every row owns whole cache lines: two threads
/// updating different rows never write to the same line (no false sharing between rows).
#[derive(Clone, Copy)]
struct Layout {
    stride: usize,
    dim: usize,
    rows: usize,
}

impl Layout {
    /// Floats per cache line.
    const LINE: usize = 16;

    fn new(rows: usize, dim: usize) -> Self {
        Self {
            stride: dim.div_ceil(Self::LINE) * Self::LINE,
            dim,
            rows,
        }
    }

    /// Elements of 4 bytes to skip from address `addr` to reach a 64-byte boundary.
    fn misalignment(addr: usize) -> usize {
        (Self::LINE - (addr % 64) / 4) % Self::LINE
    }

    #[inline]
    fn row(&self, i: u32) -> usize {
        i as usize * self.stride
    }

    /// Copies `a` `(rows, dim)` into the padded table `buf` (`rows · stride` values).
    fn fill<T>(&self, a: &Array2<f32>, buf: &mut [T], put: impl Fn(&mut T, f32)) {
        for (i, r) in a.outer_iter().enumerate() {
            let s = self.row(i as u32);
            for (d, &v) in buf[s..s + self.dim].iter_mut().zip(r.iter()) {
                put(d, v);
            }
        }
    }

    /// Reads the table back into an `(rows, dim)` array; `get(p)` is the value at position `p`.
    fn gather(&self, get: impl Fn(usize) -> f32) -> Array2<f32> {
        Array2::from_shape_fn((self.rows, self.dim), |(i, j)| get(self.row(i as u32) + j))
    }
}

/// The per-job generator: wyrand (one 64 × 64 → 128-bit multiply per draw), seeded from the
/// job's seed. Fast enough that drawing windows, negatives and down-sampling decisions costs
/// little next to the vector arithmetic; deterministic for a given seed.
struct FastRng(u64);

impl FastRng {
    #[inline]
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0xa076_1d64_78bd_642f);
        let t = u128::from(self.0) * u128::from(self.0 ^ 0xe703_7ed1_a0b4_28db);
        ((t >> 64) as u64) ^ (t as u64)
    }

    /// A draw in `0..n` (multiply-shift; bias below 2⁻³² for the sizes used here).
    #[inline]
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }
}

/// gensim's cumulative negative-sampling table with a bucket index: a draw `r` maps to the first
/// word whose cumulative weight exceeds `r` (gensim's `bisect_left` on `r + 1`, i.e.
/// `partition_point(|c| c <= r)`), found by a short binary search inside the draw's bucket
/// instead of over the whole table.
struct NegTable {
    cum: Vec<u32>,
    total: u32,
    shift: u32,
    /// `start[b]` = first word whose cumulative weight exceeds `b << shift`.
    start: Vec<u32>,
}

impl NegTable {
    const BUCKET_BITS: u32 = 16;

    fn new(cum: Vec<u32>) -> Self {
        let total = cum.last().copied().unwrap_or(1).max(1);
        let bits = 32 - total.leading_zeros();
        let shift = bits.saturating_sub(Self::BUCKET_BITS);
        let n_buckets = ((total - 1) >> shift) as usize + 1;
        let start = (0..=n_buckets)
            .map(|b| {
                let lo = ((b as u64) << shift).min(u64::from(u32::MAX)) as u32;
                cum.partition_point(|&c| c <= lo) as u32
            })
            .collect();
        Self {
            cum,
            total,
            shift,
            start,
        }
    }

    /// The word of draw `r` (`r < total`); equal to `cum.partition_point(|&c| c <= r)`.
    #[inline]
    fn word(&self, r: u32) -> u32 {
        let b = (r >> self.shift) as usize;
        let (lo, hi) = (self.start[b] as usize, self.start[b + 1] as usize);
        (lo + self.cum[lo..hi].partition_point(|&c| c <= r)) as u32
    }

    #[inline]
    fn sample(&self, rng: &mut FastRng) -> u32 {
        self.word(rng.below(u64::from(self.total)) as u32)
    }
}

/// Per-thread scratch rows (each thread allocates its own).
struct Bufs {
    l1: Vec<f32>,
    work: Vec<f32>,
    /// The pair's target rows, `(negative + 1, dim)` row-major.
    t: Vec<f32>,
    targets: Vec<u32>,
    dots: Vec<f32>,
    /// Whether target k was updated (so must be stored, and is the copy a repeat continues).
    updated: Vec<bool>,
    sentence: Vec<u32>,
}

impl Bufs {
    fn new(dim: usize, negative: usize) -> Self {
        Self {
            l1: vec![0.0; dim],
            work: vec![0.0; dim],
            t: vec![0.0; dim * (negative + 1)],
            targets: Vec::with_capacity(negative + 1),
            dots: vec![0.0; negative + 1],
            updated: vec![false; negative + 1],
            sentence: Vec::new(),
        }
    }
}

struct Ctx<'a, R: ?Sized> {
    cfg: &'a Word2VecConfig,
    layout: Layout,
    syn0: &'a R,
    syn1neg: &'a R,
    neg: &'a NegTable,
    /// Per word: keep when a uniform u32 is below this (u32::MAX = always).
    keep: &'a [u32],
    tokens: &'a [u32],
    offsets: &'a [usize],
    total_words: f64,
}

impl<R: Rows + ?Sized> Ctx<'_, R> {
    /// Trains sentences `job.0..job.1`; returns the number of effective words.
    ///
    /// The learning rate of a sentence follows from its position in the corpus (no shared
    /// counter): the same decay whatever the number of threads.
    fn train_job(&self, job: (usize, usize), epoch: usize, seed: u64, bufs: &mut Bufs) -> u64 {
        let cfg = self.cfg;
        let mut rng = FastRng(seed);
        let per_epoch = self.tokens.len() as f64;
        let mut effective = 0u64;
        let mut sentence = std::mem::take(&mut bufs.sentence);
        let window = cfg.window as u64;
        for s in job.0..job.1 {
            let (a, b) = (self.offsets[s], self.offsets[s + 1]);
            let done = epoch as f64 * per_epoch + a as f64;
            let alpha = (cfg.alpha as f64
                - (cfg.alpha - cfg.min_alpha) as f64 * done / self.total_words)
                .max(cfg.min_alpha as f64) as f32;
            sentence.clear();
            for &w in &self.tokens[a..b] {
                let k = self.keep[w as usize];
                if k == u32::MAX || ((rng.next_u64() >> 32) as u32) < k {
                    sentence.push(w);
                }
            }
            effective += sentence.len() as u64;
            let n = sentence.len();
            for i in 0..n {
                let span = (window - rng.below(window)) as usize;
                let lo = i.saturating_sub(span);
                let hi = (i + span + 1).min(n);
                for j in lo..hi {
                    if j != i {
                        self.train_pair(sentence[i], sentence[j], alpha, &mut rng, bufs);
                    }
                }
            }
        }
        bufs.sentence = sentence;
        effective
    }

    /// One skip-gram pair: the input vector of `ctx` predicts `word` against negatives.
    ///
    /// The negatives are drawn first and every target row is loaded and dotted with the input
    /// vector before any update, so the (mostly cache-missing) loads of the random rows overlap
    /// instead of waiting one after the other. The updates then run in gensim's order; a target
    /// drawn twice is re-read from the first update, so the result equals the one-at-a-time
    /// computation exactly.
    #[inline]
    fn train_pair(&self, word: u32, ctx: u32, alpha: f32, rng: &mut FastRng, bufs: &mut Bufs) {
        let dim = self.cfg.dim;
        let row1 = self.layout.row(ctx);
        let Bufs {
            l1,
            work,
            t,
            targets,
            dots,
            updated,
            ..
        } = bufs;
        targets.clear();
        targets.push(word);
        for _ in 0..self.cfg.negative {
            let tg = self.neg.sample(rng);
            if tg != word {
                targets.push(tg);
            }
        }
        self.syn0.load(row1, l1);
        for (k, &tg) in targets.iter().enumerate() {
            let tk = &mut t[k * dim..(k + 1) * dim];
            self.syn1neg.load(self.layout.row(tg), tk);
            dots[k] = dot(l1, tk);
        }
        work.fill(0.0);
        updated.fill(false);
        for k in 0..targets.len() {
            let (done, rest) = t.split_at_mut(k * dim);
            let tk = &mut rest[..dim];
            // A repeated target: continue from its latest updated copy.
            if let Some(m) = (0..k).rev().find(|&m| targets[m] == targets[k]) {
                if updated[m] {
                    tk.copy_from_slice(&done[m * dim..(m + 1) * dim]);
                    dots[k] = dot(l1, tk);
                }
            }
            let f = dots[k];
            if f <= -MAX_EXP || f >= MAX_EXP {
                continue;
            }
            let label = if k == 0 { 1.0f32 } else { 0.0 };
            let g = (label - 1.0 / (1.0 + (-f).exp())) * alpha;
            for ((w, tv), &lk) in work.iter_mut().zip(tk.iter_mut()).zip(l1.iter()) {
                *w += g * *tv;
                *tv += g * lk;
            }
            updated[k] = true;
            // Kept for the write-back: the update of target k is g · l1.
            dots[k] = g;
        }
        for (k, &tg) in targets.iter().enumerate() {
            if updated[k] {
                let tk = &t[k * dim..(k + 1) * dim];
                self.syn1neg.commit(self.layout.row(tg), tk, dots[k], l1);
            }
        }
        self.syn0.load(row1, l1);
        for (lk, &w) in l1.iter_mut().zip(work.iter()) {
            *lk += w;
        }
        self.syn0.store(row1, l1);
    }
}

/// Dot product with eight independent accumulators (vectorises; fixed order, so results are
/// reproducible).
#[inline]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// gensim's `make_cum_table`: cumulative count^exponent scaled to [0, 2³¹ − 1].
fn cum_table(counts: &[u64], exponent: f64) -> Vec<u32> {
    let pow: Vec<f64> = counts.iter().map(|&c| (c as f64).powf(exponent)).collect();
    let total: f64 = pow.iter().sum();
    let mut cum = 0.0;
    pow.iter()
        .map(|p| {
            cum += p;
            if total > 0.0 {
                (cum / total * CUM_DOMAIN).round() as u32
            } else {
                0
            }
        })
        .collect()
}

/// gensim's down-sampling: keep probability `(√(c/t) + 1) · t / c` with `t = sample · Σ counts`,
/// as a u32 threshold (u32::MAX = keep always).
fn keep_thresholds(counts: &[u64], sample: f64) -> Vec<u32> {
    if sample <= 0.0 {
        return vec![u32::MAX; counts.len()];
    }
    let total: u64 = counts.iter().sum();
    let t = if sample < 1.0 {
        sample * total as f64
    } else {
        sample
    };
    counts
        .iter()
        .map(|&c| {
            let c = c.max(1) as f64;
            let p = ((c / t).sqrt() + 1.0) * t / c;
            if p >= 1.0 {
                u32::MAX
            } else {
                (p * 4_294_967_296.0) as u32
            }
        })
        .collect()
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let (mut ab, mut aa, mut bb) = (0.0f64, 0.0f64, 0.0f64);
    for (&x, &y) in a.iter().zip(b) {
        ab += x as f64 * y as f64;
        aa += x as f64 * x as f64;
        bb += y as f64 * y as f64;
    }
    if aa == 0.0 || bb == 0.0 {
        0.0
    } else {
        (ab / (aa.sqrt() * bb.sqrt())) as f32
    }
}

/// SplitMix64 over a sequence of words: derives independent seeds from (seed, call, epoch, job).
fn mix(parts: &[u64]) -> u64 {
    let mut h = 0x9E37_79B9_7F4A_7C15u64;
    for &p in parts {
        h ^= p;
        h = h.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = h;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        h = z ^ (z >> 31);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cum_table_is_increasing_and_ends_at_domain() {
        let t = cum_table(&[10, 1, 5], 0.75);
        assert!(t.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(*t.last().unwrap() as f64, CUM_DOMAIN);
    }

    #[test]
    fn no_sampling_keeps_everything() {
        assert_eq!(keep_thresholds(&[1, 1000], 0.0), vec![u32::MAX, u32::MAX]);
        let k = keep_thresholds(&[1, 100_000], 1e-3);
        assert_eq!(k[0], u32::MAX);
        assert!(k[1] < u32::MAX / 2);
    }

    #[test]
    fn bucketed_negative_table_equals_the_full_search() {
        for counts in [vec![1u64], vec![5, 5, 5], vec![1_000_000, 3, 1, 1, 70, 2]] {
            let cum = cum_table(&counts, 0.75);
            let table = NegTable::new(cum.clone());
            let mut rng = FastRng(3);
            let edges = cum.iter().flat_map(|&c| [c.saturating_sub(1), c, c + 1]);
            for r in (0..20_000)
                .map(|_| rng.below(u64::from(table.total)) as u32)
                .chain([0, table.total - 1])
                .chain(edges.filter(|&r| r < table.total))
            {
                assert_eq!(
                    table.word(r),
                    cum.partition_point(|&c| c <= r) as u32,
                    "{r}"
                );
            }
        }
    }

    /// The batched pair (all target rows loaded and dotted first) against gensim's
    /// one-target-at-a-time loop, on a 3-word vocabulary where negatives repeat and hit the
    /// positive word often: the tables must agree bit for bit.
    #[test]
    fn batched_pair_equals_the_sequential_update() {
        let (n, dim, negative) = (3usize, 5usize, 6usize);
        let cfg = Word2VecConfig::new().dim(dim).negative(negative);
        let layout = Layout::new(n, dim);
        let neg = NegTable::new(cum_table(&[5, 3, 1], 0.75));
        let init: Vec<f32> = (0..n * layout.stride)
            .map(|i| ((i * 37 % 11) as f32 - 5.0) * 0.05)
            .collect();
        let mut syn0 = init.clone();
        let mut syn1: Vec<f32> = init.iter().map(|v| -v * 0.7).collect();
        let (mut ref0, mut ref1) = (syn0.clone(), syn1.clone());
        let ctx = Ctx {
            cfg: &cfg,
            layout,
            syn0: Cell::from_mut(&mut syn0[..]).as_slice_of_cells(),
            syn1neg: Cell::from_mut(&mut syn1[..]).as_slice_of_cells(),
            neg: &neg,
            keep: &[],
            tokens: &[],
            offsets: &[],
            total_words: 1.0,
        };
        let mut bufs = Bufs::new(dim, negative);
        let mut rng = FastRng(9);
        let pairs = |p: u32| (p % 3, (p / 3) % 3);
        for p in 0..300u32 {
            let (word, c) = pairs(p);
            ctx.train_pair(word, c, 0.5, &mut rng, &mut bufs);
        }
        let mut rng_ref = FastRng(9);
        for p in 0..300u32 {
            let (word, c) = pairs(p);
            // Reference: draw the same negatives, then update one target at a time.
            let mut targets = vec![word];
            for _ in 0..negative {
                let tg = neg.sample(&mut rng_ref);
                if tg != word {
                    targets.push(tg);
                }
            }
            let r1 = layout.row(c);
            let l1: Vec<f32> = ref0[r1..r1 + dim].to_vec();
            let mut work = vec![0.0f32; dim];
            for (k, &tg) in targets.iter().enumerate() {
                let r2 = layout.row(tg);
                let f = dot(&l1, &ref1[r2..r2 + dim]);
                if f <= -MAX_EXP || f >= MAX_EXP {
                    continue;
                }
                let label = if k == 0 { 1.0 } else { 0.0 };
                let g = (label - 1.0 / (1.0 + (-f).exp())) * 0.5;
                for d in 0..dim {
                    work[d] += g * ref1[r2 + d];
                    ref1[r2 + d] += g * l1[d];
                }
            }
            for d in 0..dim {
                ref0[r1 + d] += work[d];
            }
        }
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&syn0), bits(&ref0));
        assert_eq!(bits(&syn1), bits(&ref1));
        assert_ne!(syn1, init.iter().map(|v| -v * 0.7).collect::<Vec<f32>>());
    }

    #[test]
    fn paired_atomic_rows_round_trip_odd_and_even_widths() {
        let table: Vec<AtomicU64> = (0..24).map(|_| AtomicU64::new(0)).collect();
        for (start, len) in [(0usize, 7usize), (16, 16), (32, 1)] {
            let src: Vec<f32> = (0..len).map(|i| i as f32 - 2.5).collect();
            table[..].store(start, &src);
            let mut dst = vec![0.0f32; len];
            table[..].load(start, &mut dst);
            assert_eq!(src, dst);
        }
        // The first row is untouched by the later ones.
        let mut dst = vec![0.0f32; 7];
        table[..].load(0, &mut dst);
        assert_eq!(dst[6], 3.5);
    }

    #[test]
    fn mix_differs_per_part() {
        assert_ne!(mix(&[1, 0, 0]), mix(&[1, 0, 1]));
        assert_ne!(mix(&[1, 2]), mix(&[2, 1]));
    }
}
