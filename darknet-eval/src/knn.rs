//! k-nearest-neighbour classification over f32 embeddings (Paper B's downstream task,
//! docs/paper-b.md#knn-protocol, docs/choices.md#b8).
//!
//! - Brute force, exact: the distances of a block of query rows to a block of training rows
//!   come from one matrix product (`max(‖q‖² + ‖t‖² − 2 q·t, 0)` for Euclidean, `1 − q̂·t̂` for
//!   cosine, as scikit-learn's brute force computes them; the clamp at 0 absorbs the
//!   cancellation of the expansion for near-identical rows, and, as in scikit-learn, two
//!   candidates closer than the expansion's rounding error may swap ranks); the product's
//!   rows are then scanned in parallel (rayon), 16 distances at a time, into a bounded sorted
//!   buffer of the k best per query. Only one block product exists at a time, never the full
//!   `(n_queries, n_train)` matrix.
//! - Neighbours are ordered by (distance, training index): equal distances go to the lower
//!   index, so results are deterministic.
//! - Leave-one-out ([`Knn::kneighbors_loo`]): each training row queries the others, itself
//!   excluded by index (scikit-learn's `kneighbors()` without arguments).
//! - Vote ([`Knn::vote`]): the class named most often among the k neighbours; a tie goes to
//!   the smallest class name (byte order), as `np.unique` + `argmax` in the reference code.
//!   Training rows of an "unknown" class are ordinary neighbours and can win the vote;
//!   [`evaluate_day`] just never scores them.
//! - [`Standardizer`]: scikit-learn's `StandardScaler` (population std; a constant column keeps
//!   scale 1).

use crate::error::{EvalError, Result};
use crate::multiclass::{classification_report, ClassificationReport};
use ndarray::{Array1, Array2, ArrayView2, Axis, Slice};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The distance between embeddings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Distance {
    /// `‖a − b‖₂`.
    Euclidean,
    /// `1 − a·b / (‖a‖ ‖b‖)`; a zero vector is at distance 1 from everything (as scikit-learn).
    Cosine,
}

/// Paper B's class name for hosts without ground truth (the reference code's spelling).
pub const UNKNOWN: &str = "unknown";

/// Hyper-parameters of [`Knn`].
///
/// Defaults (Paper B, docs/choices.md#b8): `k = 3`, cosine distance, query blocks of 256 rows,
/// training blocks of 4096 rows.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KnnConfig {
    /// Number of neighbours (≥ 1).
    pub k: usize,
    /// Distance.
    pub distance: Distance,
    /// Query rows per matrix product (≥ 1).
    pub query_block: usize,
    /// Training rows per matrix product (≥ 1).
    pub train_block: usize,
}

impl Default for KnnConfig {
    fn default() -> Self {
        KnnConfig {
            k: 3,
            distance: Distance::Cosine,
            query_block: 256,
            train_block: 4096,
        }
    }
}

impl KnnConfig {
    /// Sets `k`.
    pub fn k(mut self, k: usize) -> Self {
        self.k = k;
        self
    }

    /// Sets the distance.
    pub fn distance(mut self, d: Distance) -> Self {
        self.distance = d;
        self
    }

    /// Sets the block sizes (query rows per task, training rows per product).
    pub fn blocks(mut self, query_block: usize, train_block: usize) -> Self {
        self.query_block = query_block;
        self.train_block = train_block;
        self
    }

    /// Checks every field.
    ///
    /// Errors: `k == 0` or a zero block size.
    pub fn validate(&self) -> Result<()> {
        for (name, v) in [
            ("k", self.k),
            ("query_block", self.query_block),
            ("train_block", self.train_block),
        ] {
            if v == 0 {
                return Err(EvalError::InvalidParameter {
                    name: name.into(),
                    value: "0".into(),
                    reason: "must be at least 1".into(),
                });
            }
        }
        Ok(())
    }
}

/// The k nearest training rows of each query.
#[derive(Debug, Clone, PartialEq)]
pub struct Neighbors {
    /// Training row indices `(n_queries, k)`, nearest first.
    pub indices: Array2<usize>,
    /// Distances `(n_queries, k)`, ascending.
    pub distances: Array2<f32>,
}

/// Column means and scales of a matrix, applied as `(x − mean) / scale` (scikit-learn's
/// `StandardScaler` with `with_mean = with_std = True`).
#[derive(Debug, Clone, PartialEq)]
pub struct Standardizer {
    /// Column means `(n_features,)`.
    pub mean: Array1<f32>,
    /// Column population standard deviations `(n_features,)`, 1 where the std is 0.
    pub scale: Array1<f32>,
}

impl Standardizer {
    /// Fits means and population stds (computed in f64) on `x` `(n_samples, n_features)`.
    ///
    /// Errors: no rows or columns; a non-finite value.
    pub fn fit(x: ArrayView2<f32>) -> Result<Self> {
        check_embeddings("x", &x)?;
        let n = x.nrows() as f64;
        let mut mean = Array1::<f32>::zeros(x.ncols());
        let mut scale = Array1::<f32>::zeros(x.ncols());
        for (j, col) in x.axis_iter(Axis(1)).enumerate() {
            let m = col.iter().map(|&v| v as f64).sum::<f64>() / n;
            let var = col.iter().map(|&v| (v as f64 - m).powi(2)).sum::<f64>() / n;
            let sd = var.sqrt();
            mean[j] = m as f32;
            scale[j] = if sd == 0.0 { 1.0 } else { sd as f32 };
        }
        Ok(Standardizer { mean, scale })
    }

    /// Applies the fitted transform to `x` `(n_samples, n_features)`.
    ///
    /// Errors: a different number of columns than at fit time.
    pub fn transform(&self, x: ArrayView2<f32>) -> Result<Array2<f32>> {
        if x.ncols() != self.mean.len() {
            return Err(EvalError::ShapeMismatch {
                what: "x".into(),
                expected: vec![x.nrows(), self.mean.len()],
                actual: x.shape().to_vec(),
            });
        }
        Ok((&x - &self.mean) / &self.scale)
    }
}

/// Fits a [`Standardizer`] on `x` and returns `x` standardised (Paper B: scaler fit on all
/// rows of the day, docs/paper-b.md#knn-protocol).
///
/// Errors: as [`Standardizer::fit`].
pub fn standardize(x: ArrayView2<f32>) -> Result<Array2<f32>> {
    Standardizer::fit(x)?.transform(x)
}

fn check_embeddings(what: &str, x: &ArrayView2<f32>) -> Result<()> {
    if x.nrows() == 0 || x.ncols() == 0 {
        return Err(EvalError::Empty {
            what: format!("{what} has shape {:?}", x.shape()),
        });
    }
    for ((row, col), &v) in x.indexed_iter() {
        if !v.is_finite() {
            return Err(EvalError::InvalidScore {
                what: what.into(),
                row,
                col,
                value: v as f64,
                range: String::new(),
            });
        }
    }
    Ok(())
}

/// A fitted brute-force kNN: the training embeddings (pre-normalised for cosine) and their
/// class names.
#[derive(Debug, Clone)]
pub struct Knn {
    config: KnnConfig,
    /// Training rows `(n_train, dim)`; unit rows for cosine.
    train: Array2<f32>,
    /// Squared norms of the training rows `(n_train,)` (Euclidean only).
    train_sq: Array1<f32>,
    labels: Vec<String>,
}

fn unit_rows(x: ArrayView2<f32>) -> Array2<f32> {
    let mut out = x.to_owned();
    for mut row in out.outer_iter_mut() {
        let norm = row.iter().map(|&v| v * v).sum::<f32>().sqrt();
        if norm > 0.0 {
            row.mapv_inplace(|v| v / norm);
        }
    }
    out
}

fn sq_norms(x: &ArrayView2<f32>) -> Array1<f32> {
    x.outer_iter()
        .map(|r| r.iter().map(|&v| v * v).sum())
        .collect()
}

/// Inserts `(d, i)` into the sorted buffer `best` of capacity `k` (ordered by distance, then
/// index).
#[inline]
fn push_best(best: &mut Vec<(f32, usize)>, k: usize, d: f32, i: usize) {
    if best.len() == k {
        let &(wd, wi) = best.last().unwrap_or(&(f32::INFINITY, usize::MAX));
        if d > wd || (d == wd && i > wi) {
            return;
        }
        best.pop();
    }
    let pos = best.partition_point(|&(bd, bi)| bd < d || (bd == d && bi < i));
    best.insert(pos, (d, i));
}

/// Lanes of the distance scan.
const LANES: usize = 16;

/// Folds one row of a product block into a query's k best.
///
/// Arguments: `dots` the query's dot products with training rows `t0..t0 + dots.len()`;
/// `t_sq` their squared norms (Euclidean; empty for cosine, where `dots` are cosines of unit
/// rows); `q_sq` the query's squared norm; `skip` a training index to leave out; `best` the
/// sorted buffer (see [`push_best`]).
///
/// Distances are `max(‖q‖² + ‖t‖² − 2 q·t, 0)` (squared Euclidean; the clamp removes the
/// negative values cancellation can give for near-identical rows) or `1 − q̂·t̂`. Training rows
/// come in increasing index order, so a candidate enters a full buffer only when strictly
/// closer than its current k-th: a block of distances none of which is below that bound is
/// dismissed at once (the common case, vectorised).
#[inline]
fn scan_row(
    dots: &[f32],
    t_sq: &[f32],
    q_sq: f32,
    t0: usize,
    skip: usize,
    k: usize,
    best: &mut Vec<(f32, usize)>,
) {
    let euclidean = !t_sq.is_empty();
    let bound = |best: &Vec<(f32, usize)>| {
        if best.len() == k {
            best.last().map_or(f32::INFINITY, |b| b.0)
        } else {
            f32::INFINITY
        }
    };
    let mut worst = bound(best);
    let mut d = [0.0f32; LANES];
    let mut c0 = 0;
    while c0 < dots.len() {
        let w = LANES.min(dots.len() - c0);
        if w == LANES {
            // Fixed width: the distances and the test below vectorise.
            let dots_c: &[f32; LANES] = dots[c0..c0 + LANES].try_into().expect("16 values");
            if euclidean {
                let ts: &[f32; LANES] = t_sq[c0..c0 + LANES].try_into().expect("16 values");
                for l in 0..LANES {
                    d[l] = (q_sq + ts[l] - 2.0 * dots_c[l]).max(0.0);
                }
            } else {
                for l in 0..LANES {
                    d[l] = 1.0 - dots_c[l];
                }
            }
        } else {
            for l in 0..w {
                d[l] = if euclidean {
                    (q_sq + t_sq[c0 + l] - 2.0 * dots[c0 + l]).max(0.0)
                } else {
                    1.0 - dots[c0 + l]
                };
            }
        }
        // Without short-circuit, so that it vectorises.
        let hit = d[..w].iter().fold(false, |h, &x| h | (x < worst));
        if hit {
            for (c, &dc) in d[..w].iter().enumerate() {
                let i = t0 + c0 + c;
                if dc < worst && i != skip {
                    push_best(best, k, dc, i);
                    worst = bound(best);
                }
            }
        }
        c0 += w;
    }
}

impl Knn {
    /// Stores the training set.
    ///
    /// Arguments: `train` `(n_train, dim)` finite; `labels` one class name per row; `config`.
    /// Errors: invalid config, empty or non-finite `train`, a label count that differs from
    /// `n_train`.
    pub fn fit(train: ArrayView2<f32>, labels: &[String], config: KnnConfig) -> Result<Self> {
        config.validate()?;
        check_embeddings("train", &train)?;
        if labels.len() != train.nrows() {
            return Err(EvalError::ShapeMismatch {
                what: "labels".into(),
                expected: vec![train.nrows()],
                actual: vec![labels.len()],
            });
        }
        let train = match config.distance {
            Distance::Cosine => unit_rows(train),
            Distance::Euclidean => train.to_owned(),
        };
        let train_sq = match config.distance {
            Distance::Cosine => Array1::zeros(0),
            Distance::Euclidean => sq_norms(&train.view()),
        };
        Ok(Knn {
            config,
            train,
            train_sq,
            labels: labels.to_vec(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &KnnConfig {
        &self.config
    }

    /// Class names of the training rows.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// The k nearest training rows of each query row.
    ///
    /// Arguments: `queries` `(n_queries, dim)` finite.
    /// Returns [`Neighbors`] with `min(k, n_train)` columns.
    /// Errors: empty or non-finite queries; a dimension other than the training one.
    /// Complexity: O(n_queries · n_train · dim) in matrix products, parallel over query blocks.
    pub fn kneighbors(&self, queries: ArrayView2<f32>) -> Result<Neighbors> {
        self.check_queries(&queries)?;
        let q = match self.config.distance {
            Distance::Cosine => unit_rows(queries),
            Distance::Euclidean => queries.to_owned(),
        };
        Ok(self.search(q.view(), None))
    }

    /// Leave-one-out neighbours of training rows: for each row `i` in `rows`, the k nearest
    /// other training rows (row `i` itself excluded by index).
    ///
    /// Arguments: `rows` training row indices to query.
    /// Returns [`Neighbors`] `(rows.len(), min(k, n_train − 1))`.
    /// Errors: a row out of range; fewer than 2 training rows.
    pub fn kneighbors_loo(&self, rows: &[usize]) -> Result<Neighbors> {
        let n = self.train.nrows();
        if n < 2 {
            return Err(EvalError::Empty {
                what: "leave-one-out needs at least 2 training rows".into(),
            });
        }
        if let Some(&bad) = rows.iter().find(|&&r| r >= n) {
            return Err(EvalError::IndexOutOfRange {
                what: "rows".into(),
                index: bad,
                len: n,
            });
        }
        let q = self.train.select(Axis(0), rows);
        Ok(self.search(q.view(), Some(rows)))
    }

    fn check_queries(&self, q: &ArrayView2<f32>) -> Result<()> {
        check_embeddings("queries", q)?;
        if q.ncols() != self.train.ncols() {
            return Err(EvalError::ShapeMismatch {
                what: "queries".into(),
                expected: vec![q.nrows(), self.train.ncols()],
                actual: q.shape().to_vec(),
            });
        }
        Ok(())
    }

    /// The search on prepared (normalised for cosine) queries; `exclude[r]` is a training
    /// index query r must skip.
    ///
    /// Query blocks are taken one after the other; for each, every training block gives one
    /// dense product `(query rows, train rows)` (matrixmultiply's sgemm, which splits the
    /// product over its own threads), then the rows of that product are scanned in parallel
    /// (rayon) and folded into each query's k best. Only one `(query_block, train_block)`
    /// product exists at a time. The scan works on 16 distances at once and falls back to the
    /// insertion only where one of them beats the query's current k-th distance.
    fn search(&self, q: ArrayView2<f32>, exclude: Option<&[usize]>) -> Neighbors {
        let n_train = self.train.nrows();
        let k = self.config.k.min(n_train - usize::from(exclude.is_some()));
        let n_q = q.nrows();
        let qb = self.config.query_block.min(n_q);
        let tb = self.config.train_block.min(n_train);
        let euclidean = self.config.distance == Distance::Euclidean;
        let q_sq = match self.config.distance {
            Distance::Euclidean => sq_norms(&q),
            Distance::Cosine => Array1::zeros(0),
        };
        let mut best: Vec<Vec<(f32, usize)>> =
            (0..n_q).map(|_| Vec::with_capacity(k + 1)).collect();
        let mut prod = Array2::<f32>::zeros((qb, tb));
        for q0 in (0..n_q).step_by(qb) {
            let q1 = (q0 + qb).min(n_q);
            let qblk = q.slice_axis(Axis(0), Slice::from(q0..q1));
            for t0 in (0..n_train).step_by(tb) {
                let t1 = (t0 + tb).min(n_train);
                let tblk = self.train.slice_axis(Axis(0), Slice::from(t0..t1));
                let mut p = prod.slice_each_axis_mut(|ax| {
                    Slice::from(0..if ax.axis == Axis(0) { q1 - q0 } else { t1 - t0 })
                });
                ndarray::linalg::general_mat_mul(1.0, &qblk, &tblk.t(), 0.0, &mut p);
                let t_sq = if euclidean {
                    &self.train_sq.as_slice().expect("contiguous norms")[t0..t1]
                } else {
                    &[][..]
                };
                p.axis_iter(Axis(0))
                    .into_par_iter()
                    .zip(best[q0..q1].par_iter_mut())
                    .enumerate()
                    .for_each(|(r, (row, b))| {
                        let row = row.to_slice().expect("rows of a standard-layout block");
                        let skip = exclude.map_or(usize::MAX, |e| e[q0 + r]);
                        let q_sq = if euclidean { q_sq[q0 + r] } else { 0.0 };
                        scan_row(row, t_sq, q_sq, t0, skip, k, b);
                    });
            }
        }
        let mut indices = Array2::<usize>::zeros((n_q, k));
        let mut distances = Array2::<f32>::zeros((n_q, k));
        for (r, b) in best.into_iter().enumerate() {
            for (c, (d, i)) in b.into_iter().enumerate() {
                indices[[r, c]] = i;
                distances[[r, c]] = match self.config.distance {
                    Distance::Euclidean => d.sqrt(),
                    Distance::Cosine => d,
                };
            }
        }
        Neighbors { indices, distances }
    }

    /// Majority vote over each row of neighbour indices; ties go to the smallest class name.
    ///
    /// Arguments: `neighbors` from [`Knn::kneighbors`] or [`Knn::kneighbors_loo`].
    /// Returns one class name per query.
    pub fn vote(&self, neighbors: &Neighbors) -> Vec<String> {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        neighbors
            .indices
            .outer_iter()
            .map(|row| {
                counts.clear();
                for &i in row {
                    *counts.entry(self.labels[i].as_str()).or_insert(0) += 1;
                }
                // BTreeMap iterates names in ascending order; keep the first maximum.
                let mut best: (&str, usize) = ("", 0);
                for (&name, &c) in &counts {
                    if c > best.1 {
                        best = (name, c);
                    }
                }
                best.0.to_string()
            })
            .collect()
    }

    /// Predicted classes of query rows: [`Knn::kneighbors`] then [`Knn::vote`].
    ///
    /// Errors: as [`Knn::kneighbors`].
    pub fn predict(&self, queries: ArrayView2<f32>) -> Result<Vec<String>> {
        Ok(self.vote(&self.kneighbors(queries)?))
    }

    /// Leave-one-out predictions of training rows: [`Knn::kneighbors_loo`] then [`Knn::vote`].
    ///
    /// Errors: as [`Knn::kneighbors_loo`].
    pub fn predict_loo(&self, rows: &[usize]) -> Result<Vec<String>> {
        Ok(self.vote(&self.kneighbors_loo(rows)?))
    }
}

/// Paper B's rare-class rule (docs/paper-b.md#knn-protocol): classes with at most `max_hosts` rows
/// are renamed `unknown` (the reference code uses `max_hosts = 10` per day).
///
/// Arguments: `labels` one class per host; `max_hosts`; `unknown` the name to use.
/// Returns the relabelled classes, in input order.
pub fn rare_to_unknown(labels: &[String], max_hosts: usize, unknown: &str) -> Vec<String> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for l in labels {
        *counts.entry(l.as_str()).or_insert(0) += 1;
    }
    labels
        .iter()
        .map(|l| {
            if counts[l.as_str()] <= max_hosts {
                unknown.to_string()
            } else {
                l.clone()
            }
        })
        .collect()
}

/// One test day of Paper B's protocol (docs/paper-b.md#knn-protocol, docs/choices.md#b8): classes
/// with ≤ `max_hosts` hosts become `unknown`; embeddings are standardised over all the day's rows;
/// every row (unknown included) is a neighbour; every non-unknown row is classified leave-one-out
/// by majority vote; the report covers the classes present among the evaluated rows.
///
/// Arguments: `embeddings` `(n_hosts, dim)` of the day's active hosts; `labels` their classes
/// (`unknown` for hosts without ground truth); `config`; `max_hosts` (10 in the paper).
/// Errors: as [`Knn::fit`]; no evaluable (non-unknown) host.
pub fn evaluate_day(
    embeddings: ArrayView2<f32>,
    labels: &[String],
    config: KnnConfig,
    max_hosts: usize,
) -> Result<ClassificationReport> {
    let labels = rare_to_unknown(labels, max_hosts, UNKNOWN);
    let x = standardize(embeddings)?;
    let knn = Knn::fit(x.view(), &labels, config)?;
    let rows: Vec<usize> = (0..labels.len())
        .filter(|&i| labels[i] != UNKNOWN)
        .collect();
    if rows.is_empty() {
        return Err(EvalError::Empty {
            what: "hosts with a known class".into(),
        });
    }
    let pred = knn.predict_loo(&rows)?;
    let truth: Vec<String> = rows.iter().map(|&i| labels[i].clone()).collect();
    let mut present = truth.clone();
    present.sort();
    present.dedup();
    classification_report(&truth, &pred, Some(&present))
}
