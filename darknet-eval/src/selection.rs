//! Model selection by cross-validation on the training part only: a generic parameter grid,
//! a search budget (the full grid, N random points, or none), seeded folds, parallel
//! evaluation, and a deterministic choice.
//!
//! The caller owns the model: [`select`] hands each (candidate, fold) pair to a closure that
//! trains on `fold.train` and returns a score on `fold.test` (higher is better, e.g. sample
//! F1). Both index lists are subsets of the training indices given to [`select`]; the test
//! part of a partition never reaches the closure. Evaluations run in parallel (rayon); the
//! result does not depend on the order in which they finish: the candidate with the highest
//! mean score over the folds wins, ties go to the first in grid order, and the first error in
//! (candidate, fold) order is the one returned.
//!
//! Paper A searches its Table II grid ([`ParamGrid::paper_a`]) with 4-fold cross-validation on
//! the training part of each of its 5 partitions.
//!
//! ```
//! use darknet_eval::selection::{select, Budget, ParamGrid, SelectionConfig};
//! use darknet_eval::EvalError;
//! let grid = ParamGrid::new()
//!     .axis("first_size", [64, 128, 256])?
//!     .axis("gcn_layers", [1, 2])?;
//! let train: Vec<usize> = (0..40).collect(); // the training part of a partition
//! let cfg = SelectionConfig::default().folds(4).seed(7).budget(Budget::Full);
//! // A stand-in for "train on fold.train, score fold.test": prefers 128 and 2 layers.
//! let chosen = select(&grid, &train, None, &cfg, |p, _fold_index, fold| {
//!     assert!(fold.test.iter().all(|i| train.contains(i)));
//!     let size = p.int("first_size")?;
//!     Ok::<_, EvalError>(-((size - 128).abs() as f64) + p.int("gcn_layers")? as f64)
//! })?
//! .expect("a full budget searches");
//! assert_eq!(chosen.best().int("first_size")?, 128);
//! assert_eq!(chosen.best().int("gcn_layers")?, 2);
//! assert_eq!(chosen.candidates.len(), 6);
//! # Ok::<(), EvalError>(())
//! ```

use crate::error::{EvalError, Result};
use crate::split::{iterative_stratification, k_fold, Fold};
use ndarray::{ArrayView2, Axis};
use rand::seq::index::sample;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// One value of a hyper-parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ParamValue {
    /// An integer (sizes, layer counts).
    Int(i64),
    /// A real number (rates, thresholds).
    Float(f64),
    /// A name (a method, a distance).
    Text(String),
}

impl std::fmt::Display for ParamValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParamValue::Int(v) => write!(f, "{v}"),
            ParamValue::Float(v) => write!(f, "{v}"),
            ParamValue::Text(v) => f.write_str(v),
        }
    }
}

impl From<i64> for ParamValue {
    fn from(v: i64) -> Self {
        ParamValue::Int(v)
    }
}
impl From<i32> for ParamValue {
    fn from(v: i32) -> Self {
        ParamValue::Int(i64::from(v))
    }
}
impl From<usize> for ParamValue {
    fn from(v: usize) -> Self {
        ParamValue::Int(v as i64)
    }
}
impl From<f64> for ParamValue {
    fn from(v: f64) -> Self {
        ParamValue::Float(v)
    }
}
impl From<&str> for ParamValue {
    fn from(v: &str) -> Self {
        ParamValue::Text(v.to_string())
    }
}

/// One point of a grid: a value per parameter, in the grid's axis order. Serialises as a JSON
/// object `{name: value}` in that order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ParamPoint(pub Vec<(String, ParamValue)>);

impl Serialize for ParamPoint {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for ParamPoint {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = ParamPoint;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map from parameter name to value")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<ParamPoint, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, ParamValue>()? {
                    out.push((k, v));
                }
                Ok(ParamPoint(out))
            }
        }
        d.deserialize_map(Visit)
    }
}

impl ParamPoint {
    /// The value of parameter `name`.
    ///
    /// Errors: [`EvalError::UnknownLabel`] when the point has no such parameter.
    pub fn get(&self, name: &str) -> Result<&ParamValue> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
            .ok_or_else(|| EvalError::UnknownLabel {
                what: "parameter of the grid point".into(),
                label: name.to_string(),
            })
    }

    /// The integer value of parameter `name`.
    ///
    /// Errors: no such parameter; a value that is not an integer.
    pub fn int(&self, name: &str) -> Result<i64> {
        match self.get(name)? {
            ParamValue::Int(v) => Ok(*v),
            other => Err(EvalError::InvalidParameter {
                name: name.to_string(),
                value: other.to_string(),
                reason: "expected an integer".into(),
            }),
        }
    }

    /// The integer value of parameter `name` as a size (≥ 0).
    ///
    /// Errors: no such parameter; a value that is not a non-negative integer.
    pub fn size(&self, name: &str) -> Result<usize> {
        let v = self.int(name)?;
        usize::try_from(v).map_err(|_| EvalError::InvalidParameter {
            name: name.to_string(),
            value: v.to_string(),
            reason: "expected a non-negative integer".into(),
        })
    }

    /// The real value of parameter `name` (integers convert).
    ///
    /// Errors: no such parameter; a text value.
    pub fn float(&self, name: &str) -> Result<f64> {
        match self.get(name)? {
            ParamValue::Float(v) => Ok(*v),
            ParamValue::Int(v) => Ok(*v as f64),
            other => Err(EvalError::InvalidParameter {
                name: name.to_string(),
                value: other.to_string(),
                reason: "expected a number".into(),
            }),
        }
    }

    /// `name=value` pairs joined by `, ` (for reports).
    pub fn describe(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A Cartesian grid of hyper-parameters, axes in insertion order. Points are numbered in
/// row-major order: the last axis varies fastest.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ParamGrid {
    /// `(name, values)` per axis.
    pub axes: Vec<(String, Vec<ParamValue>)>,
}

impl ParamGrid {
    /// An empty grid (one point with no parameter).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an axis.
    ///
    /// Errors: [`EvalError::Empty`] for no value; [`EvalError::InvalidParameter`] for a name
    /// already used.
    pub fn axis<V: Into<ParamValue>>(
        mut self,
        name: &str,
        values: impl IntoIterator<Item = V>,
    ) -> Result<Self> {
        let values: Vec<ParamValue> = values.into_iter().map(Into::into).collect();
        if values.is_empty() {
            return Err(EvalError::Empty {
                what: format!("values of grid axis {name}"),
            });
        }
        if self.axes.iter().any(|(k, _)| k == name) {
            return Err(EvalError::InvalidParameter {
                name: "grid axis".into(),
                value: name.to_string(),
                reason: "each axis name may appear once".into(),
            });
        }
        self.axes.push((name.to_string(), values));
        Ok(self)
    }

    /// Paper A's Table II: `references` {512, 1024, 2048}, `latent_size` {8, 16, 32},
    /// `ae_hidden_layers` {0, 1, 2} (per half of the auto-encoder), `first_size`
    /// {64, 128, 256}, `gcn_layers` {1, 2, 3}, `fc_layers` {1, 2, 3}: 729 points.
    pub fn paper_a() -> Self {
        let axis = |name: &str, v: [i64; 3]| (name.to_string(), v.map(ParamValue::Int).to_vec());
        ParamGrid {
            axes: vec![
                axis("references", [512, 1024, 2048]),
                axis("latent_size", [8, 16, 32]),
                axis("ae_hidden_layers", [0, 1, 2]),
                axis("first_size", [64, 128, 256]),
                axis("gcn_layers", [1, 2, 3]),
                axis("fc_layers", [1, 2, 3]),
            ],
        }
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.axes.iter().map(|(_, v)| v.len()).product()
    }

    /// Whether the grid has no point (never: an empty grid has one empty point).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Point number `index` (row-major, last axis fastest).
    ///
    /// Errors: [`EvalError::IndexOutOfRange`].
    pub fn point(&self, index: usize) -> Result<ParamPoint> {
        if index >= self.len() {
            return Err(EvalError::IndexOutOfRange {
                what: "grid point".into(),
                index,
                len: self.len(),
            });
        }
        let mut rest = index;
        let mut values = vec![ParamValue::Int(0); self.axes.len()];
        for (a, (_, v)) in self.axes.iter().enumerate().rev() {
            values[a] = v[rest % v.len()].clone();
            rest /= v.len();
        }
        Ok(ParamPoint(
            self.axes
                .iter()
                .map(|(k, _)| k.clone())
                .zip(values)
                .collect(),
        ))
    }

    /// The grid indices a budget searches, increasing (see [`Budget`]).
    pub fn candidates(&self, budget: Budget, seed: u64) -> Vec<usize> {
        let n = self.len();
        match budget {
            Budget::None => Vec::new(),
            Budget::Full => (0..n).collect(),
            Budget::Random(k) if k >= n => (0..n).collect(),
            Budget::Random(k) => {
                let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x005E_1EC7);
                let mut idx = sample(&mut rng, n, k).into_vec();
                idx.sort_unstable();
                idx
            }
        }
    }
}

/// How much of the grid to search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Budget {
    /// No search: the caller keeps its own settings ([`select`] returns no choice).
    None,
    /// Every point of the grid.
    Full,
    /// N points drawn without replacement (seeded), evaluated in grid order; the full grid
    /// when N ≥ its size.
    Random(usize),
}

impl std::str::FromStr for Budget {
    type Err = EvalError;
    /// `none`, `full` or a number of random points (`random:N` or `N`).
    fn from_str(s: &str) -> Result<Self> {
        let bad = || EvalError::InvalidParameter {
            name: "budget".into(),
            value: s.to_string(),
            reason: "expected none, full, or a number of random points (random:N or N ≥ 1)".into(),
        };
        match s {
            "none" => Ok(Budget::None),
            "full" => Ok(Budget::Full),
            _ => {
                let n: usize = s
                    .strip_prefix("random:")
                    .unwrap_or(s)
                    .parse()
                    .map_err(|_| bad())?;
                if n == 0 {
                    return Err(bad());
                }
                Ok(Budget::Random(n))
            }
        }
    }
}

/// Settings of [`select`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SelectionConfig {
    /// Number of cross-validation folds, ≥ 2 (default 4, as Paper A).
    pub folds: usize,
    /// Seed of the folds and of the random budget (default 0).
    pub seed: u64,
    /// Which points to evaluate (default [`Budget::Full`]).
    pub budget: Budget,
}

impl Default for SelectionConfig {
    fn default() -> Self {
        SelectionConfig {
            folds: 4,
            seed: 0,
            budget: Budget::Full,
        }
    }
}

impl SelectionConfig {
    /// Sets the number of folds.
    pub fn folds(mut self, k: usize) -> Self {
        self.folds = k;
        self
    }
    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Sets the budget.
    pub fn budget(mut self, budget: Budget) -> Self {
        self.budget = budget;
        self
    }
}

/// Cross-validation scores of one evaluated point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateScore {
    /// Index of the point in the grid.
    pub index: usize,
    /// The point.
    pub params: ParamPoint,
    /// Score on each fold, in fold order.
    pub fold_scores: Vec<f64>,
    /// Mean of the fold scores.
    pub mean: f64,
    /// Sample standard deviation of the fold scores (n − 1).
    pub std: f64,
}

/// The outcome of a search: every evaluated point with its scores, and the choice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    /// The settings used.
    pub config: SelectionConfig,
    /// Evaluated points in grid order.
    pub candidates: Vec<CandidateScore>,
    /// Position in `candidates` of the chosen point.
    pub chosen: usize,
}

impl Selection {
    /// The chosen candidate.
    pub fn best_candidate(&self) -> &CandidateScore {
        &self.candidates[self.chosen]
    }

    /// The chosen point.
    pub fn best(&self) -> &ParamPoint {
        &self.best_candidate().params
    }

    /// Markdown table: one row per evaluated point (its parameters, mean ± std over folds),
    /// the chosen one in bold.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let names: Vec<&String> = self
            .candidates
            .first()
            .map(|c| c.params.0.iter().map(|(k, _)| k).collect())
            .unwrap_or_default();
        out.push_str("| #");
        for n in &names {
            let _ = write!(out, " | {n}");
        }
        let _ = writeln!(
            out,
            " | mean ± std over {} folds |\n|---{}|---|",
            self.config.folds,
            "|---".repeat(names.len())
        );
        for (i, c) in self.candidates.iter().enumerate() {
            let b = if i == self.chosen { "**" } else { "" };
            let _ = write!(out, "| {b}{}{b}", c.index);
            for (_, v) in &c.params.0 {
                let _ = write!(out, " | {b}{v}{b}");
            }
            let _ = writeln!(out, " | {b}{:.4} ± {:.4}{b} |", c.mean, c.std);
        }
        out
    }
}

/// Folds of the training part `train` (indices into the whole data set): iterative
/// stratification on the rows of `y` (n_samples, n_labels) when given, else a shuffled
/// k-fold; every fold's `train` and `test` are subsets of `train`.
///
/// Errors: `k < 2` or more folds than training samples; an index of `train` past the rows of
/// `y`; non-binary `y`.
pub fn training_folds(
    train: &[usize],
    y: Option<ArrayView2<u8>>,
    k: usize,
    seed: u64,
) -> Result<Vec<Fold>> {
    match y {
        None => k_fold(train, k, seed),
        Some(y) => {
            if let Some(&index) = train.iter().find(|&&i| i >= y.nrows()) {
                return Err(EvalError::IndexOutOfRange {
                    what: "training indices".into(),
                    index,
                    len: y.nrows(),
                });
            }
            let sub = y.select(Axis(0), train);
            let local = iterative_stratification(sub.view(), k, seed)?;
            let map = |v: Vec<usize>| {
                let mut v: Vec<usize> = v.into_iter().map(|i| train[i]).collect();
                v.sort_unstable();
                v
            };
            Ok(local
                .into_iter()
                .map(|f| Fold {
                    train: map(f.train),
                    test: map(f.test),
                })
                .collect())
        }
    }
}

/// Searches `grid` by cross-validation on the training part `train` only.
///
/// Arguments: `grid`; `train` the training indices of the data set (the test part must not be
/// in it); `y` optional 0/1 labels `(n_samples, n_labels)` of the whole data set, for
/// multi-label iterative stratification of the folds (else a shuffled k-fold); `config`
/// (folds, seed, budget); `evaluate(point, fold_index, fold) -> score`, called once per
/// (candidate, fold) pair in parallel, trains on `fold.train` and scores `fold.test` (higher
/// is better; derive any training seed from `fold_index`).
///
/// Returns `Ok(None)` for [`Budget::None`], else the [`Selection`]: the highest mean score
/// wins, ties to the first in grid order.
/// Errors: those of [`training_folds`]; the first error of `evaluate` in (candidate, fold)
/// order; a NaN or infinite score ([`EvalError::InvalidScore`], row = grid index, col =
/// fold).
/// Complexity: `|candidates| · folds` evaluations, spread over rayon's threads.
pub fn select<E, F>(
    grid: &ParamGrid,
    train: &[usize],
    y: Option<ArrayView2<u8>>,
    config: &SelectionConfig,
    evaluate: F,
) -> std::result::Result<Option<Selection>, E>
where
    E: From<EvalError> + Send,
    F: Fn(&ParamPoint, usize, &Fold) -> std::result::Result<f64, E> + Sync,
{
    let indices = grid.candidates(config.budget, config.seed);
    if indices.is_empty() {
        return Ok(None);
    }
    let folds = training_folds(train, y, config.folds, config.seed)?;
    let points = indices
        .iter()
        .map(|&i| grid.point(i))
        .collect::<Result<Vec<_>>>()?;
    let jobs: Vec<(usize, usize)> = (0..points.len())
        .flat_map(|c| (0..folds.len()).map(move |f| (c, f)))
        .collect();
    let results: Vec<std::result::Result<f64, E>> = jobs
        .par_iter()
        .map(|&(c, f)| evaluate(&points[c], f, &folds[f]))
        .collect();
    let mut scores = vec![Vec::with_capacity(folds.len()); points.len()];
    for ((c, f), r) in jobs.into_iter().zip(results) {
        let s = r?;
        if !s.is_finite() {
            return Err(EvalError::InvalidScore {
                what: "cross-validation score".into(),
                row: indices[c],
                col: f,
                value: s,
                range: String::new(),
            }
            .into());
        }
        scores[c].push(s);
    }
    let candidates: Vec<CandidateScore> = indices
        .iter()
        .zip(points)
        .zip(scores)
        .map(|((&index, params), fold_scores)| {
            let n = fold_scores.len() as f64;
            let mean = fold_scores.iter().sum::<f64>() / n;
            let std = if fold_scores.len() < 2 {
                0.0
            } else {
                (fold_scores.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
            };
            CandidateScore {
                index,
                params,
                fold_scores,
                mean,
                std,
            }
        })
        .collect();
    let mut chosen = 0;
    for (i, c) in candidates.iter().enumerate() {
        if c.mean > candidates[chosen].mean {
            chosen = i;
        }
    }
    Ok(Some(Selection {
        config: *config,
        candidates,
        chosen,
    }))
}
