//! Reference ports and shortest-path distances to them (docs/paper-a.md#reference-distances,
//! docs/choices.md#a5): the input of the port auto-encoder.
//!
//! Every port is described by its directed shortest-path distance (Dijkstra on ω) **to** each of
//! R reference ports. Unreachable pairs get `unreachable_factor` × the largest finite distance of
//! the whole matrix (1.1 by default) and a `false` in the reachability mask; each column is then
//! min-max scaled to [0, 1] (on by default). When the graph has fewer ports than R, every port is
//! a reference (the matrix has `n_ports` columns).

use super::{PortGraph, PortKey};
use crate::error::{GraphError, Result};
use ndarray::{Array2, Axis};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use sprs::CsMat;

/// How reference ports are chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ReferenceStrategy {
    /// Uniformly at random without replacement, seeded (the paper's choice, docs/choices.md#a5).
    #[default]
    Random,
    /// The R ports of highest degree (in + out edges), ties broken by lower index.
    HighestDegree,
    /// Farthest-point sampling: a seeded random first port, then repeatedly the port whose
    /// distance to its nearest chosen reference is largest (a port that reaches no reference
    /// counts as infinitely far), ties broken by lower index.
    FarthestPoint,
}

impl std::str::FromStr for ReferenceStrategy {
    type Err = GraphError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "random" => Ok(ReferenceStrategy::Random),
            "degree" => Ok(ReferenceStrategy::HighestDegree),
            "farthest" => Ok(ReferenceStrategy::FarthestPoint),
            _ => Err(GraphError::InvalidConfig {
                field: "strategy",
                value: s.to_string(),
                expected: "one of random, degree, farthest",
            }),
        }
    }
}

/// Configuration of [`reference_distances`].
///
/// Defaults: `n_references = 1024` (docs/choices.md#a7), `strategy = Random`, `seed = 0`,
/// `scale = true`, `unreachable_factor = 1.1`.
#[derive(Clone, Debug, PartialEq)]
pub struct DistanceConfig {
    /// Number of reference ports R (≥ 1); capped at the number of ports.
    pub n_references: usize,
    /// How references are chosen.
    pub strategy: ReferenceStrategy,
    /// Seed of the random choices (ChaCha8).
    pub seed: u64,
    /// Min-max scale each column to [0, 1] (a constant column becomes all 0).
    pub scale: bool,
    /// Unreachable distance = factor × the largest finite distance (≥ 1; if every finite
    /// distance is 0, unreachable = factor × 1).
    pub unreachable_factor: f64,
}

impl Default for DistanceConfig {
    fn default() -> Self {
        DistanceConfig {
            n_references: 1024,
            strategy: ReferenceStrategy::Random,
            seed: 0,
            scale: true,
            unreachable_factor: 1.1,
        }
    }
}

impl DistanceConfig {
    /// Sets the number of references.
    pub fn n_references(mut self, r: usize) -> Self {
        self.n_references = r;
        self
    }
    /// Sets the strategy.
    pub fn strategy(mut self, s: ReferenceStrategy) -> Self {
        self.strategy = s;
        self
    }
    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Turns column scaling on or off.
    pub fn scale(mut self, scale: bool) -> Self {
        self.scale = scale;
        self
    }
    /// Sets the unreachable factor.
    pub fn unreachable_factor(mut self, f: f64) -> Self {
        self.unreachable_factor = f;
        self
    }

    /// Checks the fields.
    ///
    /// # Errors
    /// [`GraphError::InvalidConfig`] for `n_references == 0` or a factor that is not finite
    /// and ≥ 1.
    pub fn validate(&self) -> Result<()> {
        if self.n_references == 0 {
            return Err(GraphError::InvalidConfig {
                field: "n_references",
                value: "0".into(),
                expected: "at least 1",
            });
        }
        if !(self.unreachable_factor.is_finite() && self.unreachable_factor >= 1.0) {
            return Err(GraphError::InvalidConfig {
                field: "unreachable_factor",
                value: self.unreachable_factor.to_string(),
                expected: "a finite number >= 1",
            });
        }
        Ok(())
    }
}

/// Distances of every port to the reference ports.
#[derive(Clone, Debug, PartialEq)]
pub struct ReferenceDistances {
    /// The port of every row (the graph's `ports()`, sorted by `(protocol, port)`): the
    /// port ↔ row map, ready for `PortEmbeddings::new(ports, auto_encoder_output)`.
    /// Shape (n_ports,).
    pub ports: Vec<PortKey>,
    /// Port node indices of the references, one per column. Shape (R,).
    pub references: Vec<usize>,
    /// Distances, row `i` = port `i` of the graph (`ports()[i]`), column `r` = reference
    /// `references[r]`; scaled to [0, 1] per column when the config says so. Shape (n_ports, R).
    pub distances: Array2<f32>,
    /// `true` where the port reaches the reference. Shape (n_ports, R).
    pub reachable: Array2<bool>,
    /// The raw value given to unreachable pairs before scaling.
    pub unreachable_value: f64,
}

/// Most distinct weights for which edges store a 32-bit code into a table of the distinct
/// values (at most 512 KiB, so the table stays in the per-core cache) instead of the value.
const MAX_CODED_WEIGHTS: usize = 1 << 16;

/// Bits of a packed edge record (`u32`) that hold the head; the 8 above hold the weight code.
const PACKED_HEAD_BITS: u32 = 24;

/// A CSR graph laid out for Dijkstra: each edge's head and weight side by side in one record,
/// so a node's out-edges are one contiguous run of memory (with heads and weights in separate
/// arrays, every node settled starts two cache-miss streams, and those misses are most of the
/// time of a Dijkstra run on a graph larger than the cache). When the graph has few distinct
/// weights, as the port graph has (its weights are a function of integer transition counts),
/// the record is `(head, code)` of 8 bytes and the weight is read from a small table, or
/// one `u32` (head in the low 24 bits, code in the high 8) when there are at most 2^24 nodes
/// and 256 distinct weights, as for the port graph; the value used is the same `f64` either
/// way, so the distances are the same bits.
enum Adjacency {
    Packed {
        /// Edge offsets as `u32` (half the cache of `usize`; packed only below 2^32 edges).
        indptr: Vec<u32>,
        edges: Vec<u32>,
        table: Vec<f64>,
    },
    Coded {
        indptr: Vec<usize>,
        edges: Vec<(u32, u32)>,
        table: Vec<f64>,
    },
    Plain {
        indptr: Vec<usize>,
        edges: Vec<(u32, f64)>,
    },
}

impl Adjacency {
    /// From CSR pieces: `indptr` (n + 1), heads `idx` and weights `w` (one per edge).
    fn new(indptr: Vec<usize>, idx: &[u32], w: &[f64]) -> Self {
        let mut table: Vec<f64> = w.to_vec();
        table.sort_unstable_by(f64::total_cmp);
        table.dedup_by(|a, b| a.to_bits() == b.to_bits());
        let code = |x: &f64| {
            table
                .binary_search_by(|t| t.total_cmp(x))
                .expect("every weight is in the table") as u32
        };
        let n = indptr.len() - 1;
        let few_weights = table.len() <= 1 << (32 - PACKED_HEAD_BITS);
        let small = n <= 1 << PACKED_HEAD_BITS && idx.len() <= u32::MAX as usize;
        if few_weights && small {
            let edges = idx
                .iter()
                .zip(w)
                .map(|(&v, x)| v | code(x) << PACKED_HEAD_BITS)
                .collect();
            Adjacency::Packed {
                indptr: indptr.iter().map(|&o| o as u32).collect(),
                edges,
                table,
            }
        } else if table.len() <= MAX_CODED_WEIGHTS {
            let edges = idx.iter().zip(w).map(|(&v, x)| (v, code(x))).collect();
            Adjacency::Coded {
                indptr,
                edges,
                table,
            }
        } else {
            let edges = idx.iter().copied().zip(w.iter().copied()).collect();
            Adjacency::Plain { indptr, edges }
        }
    }
}

/// An edge offset in a CSR `indptr`.
trait Offset: Copy {
    fn at(self) -> usize;
}

impl Offset for usize {
    #[inline(always)]
    fn at(self) -> usize {
        self
    }
}

impl Offset for u32 {
    #[inline(always)]
    fn at(self) -> usize {
        self as usize
    }
}

/// Number of radix-heap buckets: bucket 0 holds the keys equal to the last key popped, bucket
/// `b` (1..=64) the keys whose highest bit differing from it is bit `b - 1`.
const BUCKETS: usize = 65;

/// Reusable Dijkstra buffers (one per worker thread): distances and a monotone radix heap.
///
/// Dijkstra pops distances in non-decreasing order, which is all a radix heap needs: keys are
/// the bit patterns of the non-negative distances (for non-negative finite `f64`, the order of
/// the bits as `u64` is the order of the values), an entry is filed by the highest bit in which
/// it differs from the last key popped, and a pop only empties the lowest non-empty bucket
/// into lower ones. Each entry moves down at most 64 times, usually a few, and every bucket is
/// a plain vector written at its end, so the queue works on a few cache lines at a time where
/// a binary or 4-ary heap jumps through its whole array on each sift. A node whose distance
/// falls again is pushed again; the stale entry is skipped when popped (its key is no longer
/// the node's distance).
struct Dijkstra {
    dist: Vec<f64>,
    buckets: Vec<Vec<(u64, u32)>>,
    /// Bit `b - 1` set when bucket `b` (1..=64) may be non-empty: the next bucket to empty is
    /// found from the lowest set bit instead of a scan.
    filled: u64,
    /// The last key popped; every key in the heap is ≥ it.
    last: u64,
    /// Bucket 0 is a queue: entries before `head` are already popped.
    head: usize,
}

/// The bucket of `key` when the last key popped is `last` (0 when equal).
#[inline]
fn bucket(key: u64, last: u64) -> usize {
    (u64::BITS - (key ^ last).leading_zeros()) as usize
}

impl Dijkstra {
    fn new(n: usize) -> Self {
        Dijkstra {
            dist: vec![f64::INFINITY; n],
            buckets: vec![Vec::new(); BUCKETS],
            filled: 0,
            last: 0,
            head: 0,
        }
    }

    /// Queues node `v` at distance `d` (finite, ≥ 0, ≥ the last distance popped).
    #[inline]
    fn push(&mut self, v: u32, d: f64) {
        let key = d.to_bits();
        debug_assert!(d >= 0.0 && key >= self.last);
        let b = bucket(key, self.last);
        self.buckets[b].push((key, v));
        if b > 0 {
            self.filled |= 1 << (b - 1);
        }
    }

    /// Removes an entry of smallest key; `None` when the heap is empty.
    #[inline]
    fn pop(&mut self) -> Option<(u64, u32)> {
        if self.head == self.buckets[0].len() {
            self.buckets[0].clear();
            self.head = 0;
            if self.filled == 0 {
                return None;
            }
            let b = self.filled.trailing_zeros() as usize + 1;
            self.filled &= !(1 << (b - 1));
            let mut moved = std::mem::take(&mut self.buckets[b]);
            self.last = moved.iter().map(|e| e.0).min().expect("filled bucket");
            // All of them share the bits above `b - 1` with the new minimum and so land in
            // buckets below `b`.
            for &(key, v) in &moved {
                let to = bucket(key, self.last);
                self.buckets[to].push((key, v));
                if to > 0 {
                    self.filled |= 1 << (to - 1);
                }
            }
            moved.clear();
            self.buckets[b] = moved;
        }
        let top = self.buckets[0][self.head];
        self.head += 1;
        Some(top)
    }

    /// The node that the next [`Dijkstra::pop`] returns, when already known (queued at the
    /// current distance).
    #[inline]
    fn peek_next(&self) -> Option<u32> {
        self.buckets[0].get(self.head).map(|e| e.1)
    }

    /// Single-source shortest paths on a graph of non-negative weights; results in
    /// `self.dist` (INFINITY when unreachable).
    fn run(&mut self, adj: &Adjacency, source: usize) {
        self.run_ahead::<true>(adj, source);
    }

    fn run_ahead<const AHEAD: bool>(&mut self, adj: &Adjacency, source: usize) {
        const MASK: u32 = (1 << PACKED_HEAD_BITS) - 1;
        match adj {
            Adjacency::Packed {
                indptr,
                edges,
                table,
            } => self.run_with::<_, _, AHEAD>(
                indptr,
                edges,
                |e| (e & MASK, table[(e >> PACKED_HEAD_BITS) as usize]),
                source,
            ),
            Adjacency::Coded {
                indptr,
                edges,
                table,
            } => {
                self.run_with::<_, _, AHEAD>(indptr, edges, |(v, c)| (v, table[c as usize]), source)
            }
            Adjacency::Plain { indptr, edges } => {
                self.run_with::<_, _, AHEAD>(indptr, edges, |e| e, source)
            }
        }
    }

    /// Single-source shortest paths on CSR pieces with non-negative weights; results in
    /// `self.dist` (INFINITY when unreachable).
    ///
    /// Nodes are settled in non-decreasing distance order, each once; a node's distance is
    /// final when it is settled (weights are non-negative, and adding one to a distance never
    /// rounds below that distance), so the order among equal distances does not change any
    /// result: every node gets the smallest `dist[u] + w(u, v)` over its in-edges, the same
    /// bits whatever the queue.
    #[inline(always)]
    fn run_with<E: Copy, O: Offset, const AHEAD: bool>(
        &mut self,
        indptr: &[O],
        edges: &[E],
        edge: impl Fn(E) -> (u32, f64),
        source: usize,
    ) {
        self.dist.fill(f64::INFINITY);
        for b in &mut self.buckets {
            b.clear();
        }
        self.filled = 0;
        self.last = 0;
        self.head = 0;
        self.dist[source] = 0.0;
        self.push(source as u32, 0.0);
        // Sum of values read ahead of need, kept only so that the reads happen.
        let mut touched = 0usize;
        while let Some((key, node)) = self.pop() {
            let u = node as usize;
            let d = self.dist[u];
            if key != d.to_bits() {
                continue; // stale: the node was queued again at a smaller distance
            }
            // Read the next node's first out-edge now: its cache misses then overlap this
            // node's instead of following them (the next node is known when it is queued at
            // the same distance, the common case with the port graph's few distinct weights).
            if let Some(next) = self.peek_next().filter(|_| AHEAD) {
                let first = indptr[next as usize].at();
                touched = touched.wrapping_add(first);
                if let Some(&e) = edges.get(first) {
                    touched = touched.wrapping_add(edge(e).0 as usize);
                }
            }
            for &e in &edges[indptr[u].at()..indptr[u + 1].at()] {
                let (v, wk) = edge(e);
                // Never -0.0 (whose key would sort last): the source is at +0.0, and
                // +0.0 + -0.0 = +0.0.
                let nd = d + wk;
                if nd < self.dist[v as usize] {
                    self.dist[v as usize] = nd;
                    self.push(v, nd);
                }
            }
        }
        std::hint::black_box(touched);
    }
}

/// Single-source shortest-path distances from `source` on a square CSR matrix of non-negative
/// weights (entry `(i, j)` = weight of edge `i → j`; explicit zeros are zero-weight edges).
///
/// Returns one distance per node, `f64::INFINITY` where unreachable. Shape (n_nodes,).
///
/// # Errors
/// [`GraphError::NotSquare`], [`GraphError::IndexOutOfRange`] for a bad source,
/// [`GraphError::NegativeWeight`] / [`GraphError::NonFinite`] for a bad weight.
///
/// Complexity: O(E + V · 64) with a radix heap (each entry moves down at most 64 buckets).
pub fn dijkstra_csr(graph: &CsMat<f64>, source: usize) -> Result<Vec<f64>> {
    let (rows, cols) = graph.shape();
    if rows != cols {
        return Err(GraphError::NotSquare {
            what: "dijkstra graph",
            rows,
            cols,
        });
    }
    if source >= rows {
        return Err(GraphError::IndexOutOfRange {
            what: "dijkstra source",
            index: source,
            len: rows,
        });
    }
    let csr = if graph.is_csr() {
        graph.clone()
    } else {
        graph.to_csr()
    };
    for (r, row) in csr.outer_iterator().enumerate() {
        for (c, &v) in row.iter() {
            if !v.is_finite() {
                return Err(GraphError::NonFinite {
                    what: "dijkstra weights",
                    row: r,
                    col: c,
                    value: v,
                });
            }
            if v < 0.0 {
                return Err(GraphError::NegativeWeight {
                    what: "dijkstra weights",
                    row: r,
                    col: c,
                    value: v,
                });
            }
        }
    }
    let indptr: Vec<usize> = csr.indptr().to_proper().to_vec();
    let idx: Vec<u32> = csr.indices().iter().map(|&i| i as u32).collect();
    let adj = Adjacency::new(indptr, &idx, csr.data());
    let mut d = Dijkstra::new(rows);
    d.run(&adj, source);
    Ok(d.dist)
}

/// Chooses the reference ports (node indices) of `graph` by `config`'s strategy; at most
/// `n_ports` of them. Random references are sorted ascending.
///
/// # Errors
/// [`GraphError::InvalidConfig`] from [`DistanceConfig::validate`].
pub fn choose_references(graph: &PortGraph, config: &DistanceConfig) -> Result<Vec<usize>> {
    config.validate()?;
    Ok(choose(graph, config, None))
}

fn choose(
    graph: &PortGraph,
    config: &DistanceConfig,
    fp: Option<&mut Vec<Vec<f32>>>,
) -> Vec<usize> {
    let n = graph.n_ports();
    let r = config.n_references.min(n);
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    match config.strategy {
        ReferenceStrategy::Random => {
            let mut v = rand::seq::index::sample(&mut rng, n, r).into_vec();
            v.sort_unstable();
            v
        }
        ReferenceStrategy::HighestDegree => {
            let deg = graph.degrees();
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by(|&a, &b| deg[b].cmp(&deg[a]).then(a.cmp(&b)));
            order.truncate(r);
            order
        }
        ReferenceStrategy::FarthestPoint => {
            use rand::Rng;
            let (indptr, idx, w) = graph.reversed_csr();
            let adj = Adjacency::new(indptr, &idx, &w);
            let mut dj = Dijkstra::new(n);
            let mut nearest = vec![f64::INFINITY; n];
            let mut chosen = vec![false; n];
            let mut refs = Vec::with_capacity(r);
            let mut cols = Vec::with_capacity(r);
            let mut next = rng.random_range(0..n);
            for _ in 0..r {
                refs.push(next);
                chosen[next] = true;
                dj.run(&adj, next);
                for (m, &d) in nearest.iter_mut().zip(&dj.dist) {
                    if d < *m {
                        *m = d;
                    }
                }
                cols.push(dj.dist.iter().map(|&d| d as f32).collect::<Vec<f32>>());
                let mut best: Option<usize> = None;
                for i in 0..n {
                    if chosen[i] {
                        continue;
                    }
                    match best {
                        Some(b) if nearest[i] <= nearest[b] => {}
                        _ => best = Some(i),
                    }
                }
                match best {
                    Some(b) => next = b,
                    None => break,
                }
            }
            if let Some(out) = fp {
                *out = cols;
            }
            refs
        }
    }
}

/// Distances of every port of `graph` to R reference ports (docs/paper-a.md#reference-distances,
/// docs/choices.md#a5).
///
/// Runs one Dijkstra per reference on the reversed graph (so that column `r` holds each port's
/// directed distance *to* reference `r`), in parallel over references with rayon, each worker
/// reusing its buffers. Unreachable pairs get `unreachable_factor` × the largest finite distance
/// of the matrix and `false` in the mask; then columns are min-max scaled to [0, 1] if
/// `config.scale`. `R > n_ports` uses every port (documented fallback of docs/choices.md#a5).
///
/// Returns a [`ReferenceDistances`] whose `distances` has shape (n_ports, R); row `i` is
/// `graph.ports()[i]`.
///
/// # Errors
/// [`GraphError::InvalidConfig`] for a bad config.
///
/// Complexity: R × O(E + V · 64) over the rayon pool (radix heap); memory O(V × R).
pub fn reference_distances(
    graph: &PortGraph,
    config: &DistanceConfig,
) -> Result<ReferenceDistances> {
    config.validate()?;
    let n = graph.n_ports();
    let mut fp_cols = Vec::new();
    let references = choose(graph, config, Some(&mut fp_cols));
    let r = references.len();
    // Rows = references (contiguous per Dijkstra run), transposed at the end.
    let mut by_ref = Array2::<f32>::zeros((r, n));
    if config.strategy == ReferenceStrategy::FarthestPoint {
        for (mut row, col) in by_ref.axis_iter_mut(Axis(0)).zip(&fp_cols) {
            row.iter_mut().zip(col).for_each(|(a, &b)| *a = b);
        }
    } else {
        let (indptr, idx, w) = graph.reversed_csr();
        let adj = Adjacency::new(indptr, &idx, &w);
        by_ref
            .axis_iter_mut(Axis(0))
            .into_par_iter()
            .zip(references.par_iter())
            .for_each_init(
                || Dijkstra::new(n),
                |dj, (mut row, &src)| {
                    dj.run(&adj, src);
                    row.iter_mut()
                        .zip(&dj.dist)
                        .for_each(|(a, &b)| *a = b as f32);
                },
            );
    }
    // The largest finite distance (a maximum: the same whatever the order of the rows).
    let max_finite = by_ref
        .axis_iter(Axis(0))
        .into_par_iter()
        .map(|row| {
            row.iter()
                .filter(|d| d.is_finite())
                .fold(0.0f64, |m, &d| m.max(f64::from(d)))
        })
        .reduce(|| 0.0, f64::max);
    let base = if max_finite > 0.0 { max_finite } else { 1.0 };
    let unreachable_value = config.unreachable_factor * base;
    let mut reachable_t = Array2::from_elem(by_ref.dim(), false);
    by_ref
        .axis_iter_mut(Axis(0))
        .into_par_iter()
        .zip(reachable_t.axis_iter_mut(Axis(0)))
        .for_each(|(mut row, mut reach)| {
            reach.zip_mut_with(&row, |r, d| *r = d.is_finite());
            row.mapv_inplace(|d| {
                if d.is_finite() {
                    d
                } else {
                    unreachable_value as f32
                }
            });
            if config.scale {
                let (lo, hi) = row
                    .iter()
                    .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &d| {
                        (lo.min(d), hi.max(d))
                    });
                let span = hi - lo;
                if span > 0.0 {
                    row.mapv_inplace(|d| (d - lo) / span);
                } else {
                    row.fill(0.0);
                }
            }
        });
    Ok(ReferenceDistances {
        ports: graph.ports().to_vec(),
        references,
        distances: transpose(&by_ref),
        reachable: transpose(&reachable_t),
        unreachable_value,
    })
}

/// The transpose of `a` (r, n) as a standard-layout (n, r) array, in parallel over blocks of 64
/// output rows: each block (64 × r values) stays in cache while it is filled one input row at a
/// time, where a plain element-by-element copy would touch a new cache line per value.
fn transpose<T: Copy + Default + Send + Sync>(a: &Array2<T>) -> Array2<T> {
    const BLOCK: usize = 64;
    let (r, n) = a.dim();
    let a = a.as_standard_layout();
    let src = a.as_slice().expect("standard layout");
    let mut out = vec![T::default(); n * r];
    if r > 0 {
        out.par_chunks_mut(BLOCK * r)
            .enumerate()
            .for_each(|(b, block)| {
                let i0 = b * BLOCK;
                for (j, row) in src.chunks_exact(n).enumerate() {
                    for (o, &v) in block.chunks_exact_mut(r).zip(&row[i0..]) {
                        o[j] = v;
                    }
                }
            });
    }
    Array2::from_shape_vec((n, r), out).expect("n × r values")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;
    use std::cmp::Ordering;
    use std::collections::BinaryHeap;

    /// Marks a node that is not in the queue.
    const NOT_QUEUED: u32 = u32::MAX;

    /// The previous queue: an indexed 4-ary min-heap of `(distance, node)` with decrease-key.
    struct FourAry {
        dist: Vec<f64>,
        heap: Vec<(f64, u32)>,
        /// Position of every node in `heap`, [`NOT_QUEUED`] when absent.
        pos: Vec<u32>,
    }

    impl FourAry {
        fn new(n: usize) -> Self {
            FourAry {
                dist: vec![f64::INFINITY; n],
                heap: Vec::new(),
                pos: vec![NOT_QUEUED; n],
            }
        }

        /// Moves the entry at `i` up to its place.
        #[inline]
        fn sift_up(&mut self, mut i: usize) {
            let item = self.heap[i];
            while i > 0 {
                let parent = (i - 1) / 4;
                let p = self.heap[parent];
                if p.0 <= item.0 {
                    break;
                }
                self.heap[i] = p;
                self.pos[p.1 as usize] = i as u32;
                i = parent;
            }
            self.heap[i] = item;
            self.pos[item.1 as usize] = i as u32;
        }

        /// Moves the entry at `i` down to its place.
        #[inline]
        fn sift_down(&mut self, mut i: usize) {
            let item = self.heap[i];
            let n = self.heap.len();
            loop {
                let first = 4 * i + 1;
                if first >= n {
                    break;
                }
                let last = (first + 4).min(n);
                let mut best = first;
                for c in first + 1..last {
                    if self.heap[c].0 < self.heap[best].0 {
                        best = c;
                    }
                }
                let b = self.heap[best];
                if b.0 >= item.0 {
                    break;
                }
                self.heap[i] = b;
                self.pos[b.1 as usize] = i as u32;
                i = best;
            }
            self.heap[i] = item;
            self.pos[item.1 as usize] = i as u32;
        }

        /// Removes and returns the entry of smallest distance.
        #[inline]
        fn pop(&mut self) -> Option<(f64, u32)> {
            let top = *self.heap.first()?;
            let last = self.heap.pop().expect("non-empty");
            self.pos[top.1 as usize] = NOT_QUEUED;
            if !self.heap.is_empty() {
                self.heap[0] = last;
                self.sift_down(0);
            }
            Some(top)
        }

        /// Inserts `v` at distance `d`, or lowers its queued distance to `d`.
        #[inline]
        fn push_or_decrease(&mut self, v: u32, d: f64) {
            let p = self.pos[v as usize];
            if p == NOT_QUEUED {
                self.heap.push((d, v));
                self.sift_up(self.heap.len() - 1);
            } else {
                self.heap[p as usize].0 = d;
                self.sift_up(p as usize);
            }
        }

        /// Single-source shortest paths on CSR pieces with non-negative weights; results in
        /// `self.dist` (INFINITY when unreachable).
        ///
        /// Nodes leave the queue in non-decreasing distance order, each once; a node's distance is
        /// final when it leaves (weights are non-negative), so the order among equal distances
        /// does not change any result.
        fn run(&mut self, indptr: &[usize], idx: &[u32], w: &[f64], source: usize) {
            self.dist.fill(f64::INFINITY);
            for &(_, v) in &self.heap {
                self.pos[v as usize] = NOT_QUEUED;
            }
            self.heap.clear();
            self.dist[source] = 0.0;
            self.push_or_decrease(source as u32, 0.0);
            while let Some((d, node)) = self.pop() {
                let u = node as usize;
                let (s, e) = (indptr[u], indptr[u + 1]);
                for (&v, &wk) in idx[s..e].iter().zip(&w[s..e]) {
                    let nd = d + wk;
                    if nd < self.dist[v as usize] {
                        self.dist[v as usize] = nd;
                        self.push_or_decrease(v, nd);
                    }
                }
            }
        }
    }

    /// The queue before the 4-ary heap: a lazy binary heap (stale entries skipped when popped).
    fn lazy_binary_heap(indptr: &[usize], idx: &[u32], w: &[f64], source: usize) -> Vec<f64> {
        #[derive(PartialEq)]
        struct Item(f64, u32);
        impl Eq for Item {}
        impl Ord for Item {
            fn cmp(&self, o: &Self) -> Ordering {
                o.0.total_cmp(&self.0).then_with(|| o.1.cmp(&self.1))
            }
        }
        impl PartialOrd for Item {
            fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
                Some(self.cmp(o))
            }
        }
        let mut dist = vec![f64::INFINITY; indptr.len() - 1];
        let mut heap = BinaryHeap::new();
        dist[source] = 0.0;
        heap.push(Item(0.0, source as u32));
        while let Some(Item(d, u)) = heap.pop() {
            let u = u as usize;
            if d > dist[u] {
                continue;
            }
            for k in indptr[u]..indptr[u + 1] {
                let v = idx[k] as usize;
                let nd = d + w[k];
                if nd < dist[v] {
                    dist[v] = nd;
                    heap.push(Item(nd, v as u32));
                }
            }
        }
        dist
    }

    #[test]
    fn blocked_transpose_matches_ndarray() {
        for &(r, n) in &[(0usize, 5usize), (3, 0), (1, 1), (7, 200), (130, 65)] {
            let a = Array2::from_shape_fn((r, n), |(i, j)| (i * 1_000 + j) as f32);
            assert_eq!(transpose(&a), a.t().as_standard_layout().into_owned());
        }
    }

    /// A random CSR graph: `m` edges over `n` nodes, weights drawn by `weight`.
    fn random_graph(
        n: usize,
        m: usize,
        rng: &mut ChaCha8Rng,
        mut weight: impl FnMut(&mut ChaCha8Rng) -> f64,
    ) -> (Vec<usize>, Vec<u32>, Vec<f64>) {
        let mut edges: Vec<(usize, u32, f64)> = (0..m)
            .map(|_| {
                let w = weight(rng);
                (rng.random_range(0..n), rng.random_range(0..n) as u32, w)
            })
            .collect();
        edges.sort_by_key(|e| (e.0, e.1));
        let mut indptr = vec![0usize; n + 1];
        for e in &edges {
            indptr[e.0 + 1] += 1;
        }
        for i in 0..n {
            indptr[i + 1] += indptr[i];
        }
        let idx: Vec<u32> = edges.iter().map(|e| e.1).collect();
        let w: Vec<f64> = edges.iter().map(|e| e.2).collect();
        (indptr, idx, w)
    }

    fn same_bits(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
    }

    /// Random CSR graphs with zero weights (also -0.0), repeated weights (ties), weights
    /// spanning many binary orders of magnitude (keys far apart in the radix heap) and
    /// unreachable nodes: the radix heap, the 4-ary heap and the lazy binary heap give
    /// bit-identical distances, with buffers reused across sources.
    #[test]
    fn radix_heap_matches_four_ary_and_lazy_binary_heaps_bit_for_bit() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        for &(n, m) in &[
            (1usize, 0usize),
            (5, 8),
            (200, 900),
            (1_000, 6_000),
            (3_000, 9_000),
        ] {
            let (indptr, idx, w) =
                random_graph(n, m, &mut rng, |rng| match rng.random_range(0..6) {
                    0 => 0.0,
                    1 => -0.0,
                    2 => 0.5,
                    3 => 2f64.powi(rng.random_range(-40..40)),
                    _ => rng.random_range(0.0..3.0),
                });
            let coded = Adjacency::new(indptr.clone(), &idx, &w);
            assert!(matches!(
                coded,
                Adjacency::Coded { .. } | Adjacency::Packed { .. }
            ));
            // Few distinct weights (and few nodes): the packed records.
            let w_few: Vec<f64> = w.iter().map(|&x| (x * 4.0).round() / 4.0).collect();
            let packed = Adjacency::new(indptr.clone(), &idx, &w_few);
            assert!(matches!(packed, Adjacency::Packed { .. }));
            let packed_plain = Adjacency::Plain {
                indptr: indptr.clone(),
                edges: idx.iter().copied().zip(w_few.iter().copied()).collect(),
            };
            let plain = Adjacency::Plain {
                indptr: indptr.clone(),
                edges: idx.iter().copied().zip(w.iter().copied()).collect(),
            };
            let mut radix = Dijkstra::new(n);
            let mut plain_dist = Dijkstra::new(n);
            let mut four = FourAry::new(n);
            for source in (0..n).step_by((n / 7).max(1)) {
                radix.run(&packed, source);
                plain_dist.run(&packed_plain, source);
                assert!(same_bits(&radix.dist, &plain_dist.dist));
                radix.run(&coded, source);
                plain_dist.run(&plain, source);
                assert!(same_bits(&radix.dist, &plain_dist.dist));
                four.run(&indptr, &idx, &w, source);
                let want = lazy_binary_heap(&indptr, &idx, &w, source);
                assert!(
                    same_bits(&four.dist, &want),
                    "4-ary: n {n}, m {m}, source {source}"
                );
                assert!(
                    same_bits(&radix.dist, &want),
                    "radix: n {n}, m {m}, source {source}"
                );
                assert!(radix.dist.iter().all(|d| d.is_sign_positive()));
            }
        }
    }

    /// Paired timing of the three queues on an 80k-node / 1 M-edge random graph, with uniform
    /// weights and with the port graph's few distinct weights (most edges seen once, so at the
    /// largest weight); CPU time of this thread per source (run by hand:
    /// `cargo test --release -p darknet-graph --lib queue_timing -- --ignored --nocapture`).
    #[test]
    #[ignore]
    fn queue_timing() {
        fn cpu() -> f64 {
            std::fs::read_to_string("/proc/thread-self/schedstat")
                .ok()
                .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
                .unwrap_or(0.0)
                / 1e9
        }
        let (n, m) = (80_000usize, 1_000_000usize);
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let uniform = random_graph(n, m, &mut rng, |rng| rng.random_range(0.0..1.0));
        let counts = random_graph(n, m, &mut rng, |rng| {
            if rng.random_bool(0.95) {
                48.0
            } else {
                f64::from(rng.random_range(0..48u32))
            }
        });
        for (name, (indptr, idx, w)) in [("uniform", uniform), ("counts", counts)] {
            let adj = Adjacency::new(indptr.clone(), &idx, &w);
            let mut radix = Dijkstra::new(n);
            let mut four = FourAry::new(n);
            let mut t = [Vec::new(), Vec::new(), Vec::new(), Vec::new()];
            for source in (0..n).step_by(n / 12) {
                let c = cpu();
                let old = lazy_binary_heap(&indptr, &idx, &w, source);
                t[0].push(cpu() - c);
                let c = cpu();
                four.run(&indptr, &idx, &w, source);
                t[1].push(cpu() - c);
                let c = cpu();
                radix.run(&adj, source);
                t[2].push(cpu() - c);
                let c = cpu();
                radix.run_ahead::<false>(&adj, source);
                t[3].push(cpu() - c);
                assert!(same_bits(&old, &four.dist) && same_bits(&old, &radix.dist));
            }
            for t in &mut t {
                t.sort_by(f64::total_cmp);
            }
            println!(
                "{name}: median CPU per source: lazy binary {:.2} ms, 4-ary {:.2} ms, radix {:.2} ms (without reading ahead {:.2} ms)",
                t[0][t[0].len() / 2] * 1e3,
                t[1][t[1].len() / 2] * 1e3,
                t[2][t[2].len() / 2] * 1e3,
                t[3][t[3].len() / 2] * 1e3
            );
        }
    }
}
