//! Graph inputs of the graph models: one graph ([`Graph`]), a batch of graphs as one
//! block-diagonal graph ([`GraphBatch`], the one batch type of the workspace), and the
//! [`GraphDataset`] trait through which training loops draw batches.
//!
//! Batches are built in place: [`GraphBatchBuffer`] keeps its allocations from batch to batch,
//! and [`GraphDataset::batch_into`] (the method to implement) refills it; the allocating
//! [`GraphDataset::batch`] is a thin wrapper over it. To feed graphs stored elsewhere (e.g. the
//! graph crate's prepared host graphs) without copying them up front, implement
//! [`GraphDataset::batch_into`] with [`GraphBatchBuffer::stack_from`], handing out each graph
//! as a borrowed [`GraphRef`].
//!
//! ```
//! use darknet_nn::batch::{Graph, GraphDataset};
//! use ndarray::Array2;
//! use sprs::TriMat;
//! let mut t = TriMat::new((2, 2));
//! t.add_triplet(0, 1, 1.0f32);
//! t.add_triplet(1, 0, 1.0);
//! let g = Graph::new(&t.to_csr(), Array2::ones((2, 3))).unwrap();
//! let graphs = vec![g.clone(), g];
//! let batch = graphs.as_slice().batch(&[1, 0]).unwrap();
//! assert_eq!(batch.offsets, vec![0, 2, 4]);
//! assert_eq!(batch.features.shape(), &[4, 3]);
//! ```

use crate::adjacency::normalize_sym_self_loops;
use crate::buffer::reshape2;
use crate::error::{check_finite, check_shape};
use crate::kernels::transpose_csr;
use crate::layers::pool::check_offsets;
use crate::{Float, NnError, Result};
use ndarray::{Array2, ArrayView2, Axis, Slice};
use sprs::CsMat;

/// One graph with its normalized adjacency and node features.
#[derive(Debug, Clone, PartialEq)]
pub struct Graph<T> {
    /// Normalized adjacency Â, CSR (n_nodes, n_nodes).
    pub adj: CsMat<T>,
    /// Âᵀ when Â is not symmetric, CSR (n_nodes, n_nodes); `None` when Â is symmetric.
    pub adj_t: Option<CsMat<T>>,
    /// Node features, (n_nodes, n_features).
    pub features: Array2<T>,
}

impl<T: Float> Graph<T> {
    /// Normalizes a raw weighted adjacency (n_nodes, n_nodes) as Paper A,
    /// `D̂^−½ (A + I) D̂^−½`, and keeps the features (n_nodes, n_features). The transpose is
    /// stored only when `adjacency` is not symmetric.
    ///
    /// Errors: shape mismatches, non-finite features or weights.
    pub fn new(adjacency: &CsMat<T>, features: Array2<T>) -> Result<Self> {
        let adj = normalize_sym_self_loops(adjacency)?;
        let t = transpose_csr(&adj);
        let adj_t = if t == adj { None } else { Some(t) };
        Self::from_normalized(adj, adj_t, features)
    }

    /// Wraps an already normalized adjacency (and its transpose when not symmetric).
    ///
    /// Errors: [`NnError::ShapeMismatch`], [`NnError::NotCsr`], [`NnError::NonFinite`].
    pub fn from_normalized(
        adj: CsMat<T>,
        adj_t: Option<CsMat<T>>,
        features: Array2<T>,
    ) -> Result<Self> {
        const OP: &str = "Graph::from_normalized";
        let n = features.nrows();
        check_adj(OP, "adj", &adj, n)?;
        if let Some(t) = &adj_t {
            check_adj(OP, "adj_t", t, n)?;
        }
        check_finite(OP, "features", features.iter())?;
        Ok(Self {
            adj,
            adj_t,
            features,
        })
    }

    /// Number of nodes.
    pub fn n_nodes(&self) -> usize {
        self.features.nrows()
    }

    /// The graph as borrowed parts, for [`GraphBatchBuffer::stack_from`].
    pub fn as_graph_ref(&self) -> GraphRef<'_, T> {
        GraphRef {
            adj: &self.adj,
            adj_t: self.adj_t.as_ref(),
            features: self.features.view(),
        }
    }
}

/// One graph lent to [`GraphBatchBuffer::stack_from`]: its normalized adjacency (n, n) CSR,
/// the transpose when the adjacency is not symmetric (`None` when it is), and its node
/// features (n, n_features).
#[derive(Debug, Clone, Copy)]
pub struct GraphRef<'a, T> {
    /// Normalized adjacency Â, CSR (n, n).
    pub adj: &'a CsMat<T>,
    /// Âᵀ, CSR (n, n), when Â is not symmetric.
    pub adj_t: Option<&'a CsMat<T>>,
    /// Node features, (n, n_features).
    pub features: ArrayView2<'a, T>,
}

fn check_adj<T: Float>(op: &'static str, what: &'static str, a: &CsMat<T>, n: usize) -> Result<()> {
    if !a.is_csr() {
        return Err(NnError::NotCsr { op, what });
    }
    check_shape(op, what, &[n, n], &[a.rows(), a.cols()])
}

/// A batch of graphs as one disconnected graph.
///
/// Graph `g` owns node rows `offsets[g]..offsets[g + 1]`; `adj` is block-diagonal.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphBatch<T> {
    /// Block-diagonal normalized adjacency, CSR (n_nodes, n_nodes).
    pub adj: CsMat<T>,
    /// Its transpose when not symmetric, CSR (n_nodes, n_nodes); `None` when symmetric.
    pub adj_t: Option<CsMat<T>>,
    /// Stacked node features, (n_nodes, n_features).
    pub features: Array2<T>,
    /// Node offsets, (n_graphs + 1): 0, ..., n_nodes.
    pub offsets: Vec<usize>,
}

impl<T: Float> GraphBatch<T> {
    /// Wraps parts built elsewhere (e.g. the graph crate's batch: `adjacency`, `features`,
    /// `offsets`, with `adj_t = None` since host graphs are symmetric), after checking shapes,
    /// offsets and finiteness.
    ///
    /// Errors: [`NnError::ShapeMismatch`], [`NnError::NotCsr`], [`NnError::InvalidOffsets`],
    /// [`NnError::NonFinite`].
    pub fn new(
        adj: CsMat<T>,
        adj_t: Option<CsMat<T>>,
        features: Array2<T>,
        offsets: Vec<usize>,
    ) -> Result<Self> {
        const OP: &str = "GraphBatch::new";
        let n = features.nrows();
        check_adj(OP, "adj", &adj, n)?;
        if let Some(t) = &adj_t {
            check_adj(OP, "adj_t", t, n)?;
        }
        check_offsets(OP, &offsets, n)?;
        check_finite(OP, "features", features.iter())?;
        Ok(Self {
            adj,
            adj_t,
            features,
            offsets,
        })
    }

    /// Âᵀ for the backward pass (Â itself when symmetric).
    pub fn adj_t(&self) -> &CsMat<T> {
        self.adj_t.as_ref().unwrap_or(&self.adj)
    }

    /// Number of graphs.
    pub fn n_graphs(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Number of nodes over all graphs.
    pub fn n_nodes(&self) -> usize {
        self.features.nrows()
    }

    /// Stacks `graphs[indices[0]], graphs[indices[1]], ...` in that order.
    ///
    /// Errors: [`NnError::EmptyBatch`] for no index or a graph without nodes,
    /// [`NnError::TargetOutOfRange`] for an index past the end, [`NnError::ShapeMismatch`] for
    /// differing feature widths.
    pub fn stack(graphs: &[Graph<T>], indices: &[usize]) -> Result<Self> {
        let mut buf = GraphBatchBuffer::new();
        buf.stack(graphs, indices)?;
        Ok(buf.into_batch())
    }
}

/// A [`GraphBatch`] refilled in place batch after batch, so a training loop stacks every
/// batch into the same allocations (they grow to the largest batch seen, then stay).
///
/// Fill it with [`GraphDataset::batch_into`] (or [`GraphBatchBuffer::stack`]) and read it with
/// [`GraphBatchBuffer::batch`].
///
/// ```
/// use darknet_nn::batch::{Graph, GraphBatchBuffer, GraphDataset};
/// use ndarray::Array2;
/// use sprs::TriMat;
/// let mut t = TriMat::new((2, 2));
/// t.add_triplet(0, 1, 1.0f32);
/// t.add_triplet(1, 0, 1.0);
/// let graphs = vec![Graph::new(&t.to_csr(), Array2::ones((2, 3))).unwrap(); 3];
/// let mut buf = GraphBatchBuffer::new();
/// graphs.batch_into(&[2, 0], &mut buf).unwrap();
/// assert_eq!(buf.batch().offsets, vec![0, 2, 4]);
/// assert_eq!(buf.batch(), &graphs.batch(&[2, 0]).unwrap());
/// ```
#[derive(Debug, Clone)]
pub struct GraphBatchBuffer<T> {
    batch: GraphBatch<T>,
    /// The one-element index pointer of the placeholder matrix swapped in while a matrix is
    /// refilled (kept so the swap does not allocate).
    spare_indptr: Vec<usize>,
    /// Storage of the transposed block matrix while the batch has none.
    spare_t: Option<CsMat<T>>,
}

impl<T: Float> Default for GraphBatchBuffer<T> {
    fn default() -> Self {
        Self::new()
    }
}

fn empty_csr<T: Float>() -> CsMat<T> {
    CsMat::new((0, 0), vec![0], Vec::new(), Vec::new())
}

impl<T: Float> GraphBatchBuffer<T> {
    /// An empty buffer (its batch has no graph until filled).
    pub fn new() -> Self {
        Self {
            batch: GraphBatch {
                adj: empty_csr(),
                adj_t: None,
                features: Array2::zeros((0, 0)),
                offsets: vec![0],
            },
            spare_indptr: vec![0],
            spare_t: None,
        }
    }

    /// The batch of the last fill.
    pub fn batch(&self) -> &GraphBatch<T> {
        &self.batch
    }

    /// Moves the batch of the last fill out (the buffer's allocations go with it).
    pub fn into_batch(self) -> GraphBatch<T> {
        self.batch
    }

    /// Stacks `graphs[indices[0]], graphs[indices[1]], ...` in place: the same batch as
    /// [`GraphBatch::stack`], reusing this buffer's allocations.
    ///
    /// Errors as [`GraphBatch::stack`] (the buffer's content is unspecified then).
    pub fn stack(&mut self, graphs: &[Graph<T>], indices: &[usize]) -> Result<()> {
        const OP: &str = "GraphBatch::stack";
        if let Some((row, &i)) = indices.iter().enumerate().find(|(_, &i)| i >= graphs.len()) {
            return Err(NnError::TargetOutOfRange {
                op: OP,
                row,
                value: i,
                n_classes: graphs.len(),
            });
        }
        self.stack_from(indices.len(), |k| graphs[indices[k]].as_graph_ref())
    }

    /// Stacks the `n` graphs `graph(0), graph(1), ..., graph(n - 1)` in place, reusing this
    /// buffer's allocations: the batch of graphs held by any container, each lent as a
    /// [`GraphRef`] (the caller checks its own indices). The batch has a transpose exactly when
    /// some graph has one.
    ///
    /// Errors: [`NnError::EmptyBatch`] for `n == 0` or a graph without nodes,
    /// [`NnError::ShapeMismatch`] for differing feature widths or an adjacency whose size is
    /// not the graph's node count, [`NnError::NotCsr`] (the buffer's content is unspecified
    /// then).
    pub fn stack_from<'g>(
        &mut self,
        n: usize,
        graph: impl Fn(usize) -> GraphRef<'g, T>,
    ) -> Result<()>
    where
        T: 'g,
    {
        let nf = check_stack(n, &graph)?;
        let b = &mut self.batch;
        b.offsets.clear();
        b.offsets.push(0);
        let mut any_asym = false;
        for k in 0..n {
            let g = graph(k);
            any_asym |= g.adj_t.is_some();
            let last = b.offsets[b.offsets.len() - 1];
            b.offsets.push(last + g.features.nrows());
        }
        let total = b.offsets[b.offsets.len() - 1];
        refill_block(&mut b.adj, &mut self.spare_indptr, &b.offsets, |k| {
            graph(k).adj
        });
        if any_asym {
            let mut t = b
                .adj_t
                .take()
                .or_else(|| self.spare_t.take())
                .unwrap_or_else(empty_csr);
            refill_block(&mut t, &mut self.spare_indptr, &b.offsets, |k| {
                let g = graph(k);
                g.adj_t.unwrap_or(g.adj)
            });
            b.adj_t = Some(t);
        } else if let Some(t) = b.adj_t.take() {
            self.spare_t = Some(t);
        }
        reshape2(&mut b.features, total, nf);
        for k in 0..n {
            b.features
                .slice_axis_mut(Axis(0), Slice::from(b.offsets[k]..b.offsets[k + 1]))
                .assign(&graph(k).features);
        }
        Ok(())
    }
}

/// Checks the graphs of a stack (count, feature widths, adjacency sizes and storage); returns
/// the feature width.
fn check_stack<'g, T: Float + 'g>(
    n: usize,
    graph: &impl Fn(usize) -> GraphRef<'g, T>,
) -> Result<usize> {
    const OP: &str = "GraphBatch::stack";
    if n == 0 {
        return Err(NnError::EmptyBatch { op: OP });
    }
    let nf = graph(0).features.ncols();
    for k in 0..n {
        let g = graph(k);
        let rows = g.features.nrows();
        check_shape(OP, "features", &[rows, nf], g.features.shape())?;
        if rows == 0 {
            return Err(NnError::EmptyBatch { op: OP });
        }
        check_adj(OP, "adj", g.adj, rows)?;
        if let Some(t) = g.adj_t {
            check_adj(OP, "adj_t", t, rows)?;
        }
    }
    Ok(nf)
}

/// Rebuilds `m` in place as the block-diagonal matrix of `pick(k)` for the graphs `k` of
/// `offsets`, reusing its storage (a placeholder built on `spare` is swapped in meanwhile).
fn refill_block<'g, T: Float + 'g>(
    m: &mut CsMat<T>,
    spare: &mut Vec<usize>,
    offsets: &[usize],
    pick: impl Fn(usize) -> &'g CsMat<T>,
) {
    spare.clear();
    spare.push(0);
    let placeholder = CsMat::new((0, 0), std::mem::take(spare), Vec::new(), Vec::new());
    let (mut indptr, mut idx, mut data) = std::mem::replace(m, placeholder).into_raw_storage();
    indptr.clear();
    idx.clear();
    data.clear();
    indptr.push(0usize);
    for (b, &off) in offsets[..offsets.len() - 1].iter().enumerate() {
        for row in pick(b).outer_iterator() {
            for (c, &v) in row.iter() {
                idx.push(c + off);
                data.push(v);
            }
            indptr.push(idx.len());
        }
    }
    let n = offsets[offsets.len() - 1];
    let built = CsMat::try_new((n, n), indptr, idx, data)
        .map_err(|(_, _, _, e)| e)
        .expect("blocks of valid CSR matrices form a valid CSR matrix");
    *spare = std::mem::replace(m, built).into_raw_storage().0;
}

/// A collection of graphs a training loop can draw batches from.
///
/// Implement [`GraphDataset::batch_into`] (refilling the caller's buffer, usually with
/// [`GraphBatchBuffer::stack_from`]); training loops call it with one buffer kept across
/// steps, so they do not allocate per batch. [`GraphDataset::batch`] is the allocating
/// wrapper.
pub trait GraphDataset<T: Float> {
    /// Number of graphs.
    fn n_graphs(&self) -> usize;
    /// Width of the node features.
    fn n_features(&self) -> usize;
    /// Writes the batch of the graphs at `indices`, in that order, into `out`.
    ///
    /// Errors: [`NnError::EmptyBatch`] for no index, [`NnError::TargetOutOfRange`] for an
    /// index past [`GraphDataset::n_graphs`], and the errors of
    /// [`GraphBatchBuffer::stack_from`].
    fn batch_into(&self, indices: &[usize], out: &mut GraphBatchBuffer<T>) -> Result<()>;
    /// The batch of the graphs at `indices`, in that order, in a new buffer.
    fn batch(&self, indices: &[usize]) -> Result<GraphBatch<T>> {
        let mut out = GraphBatchBuffer::new();
        self.batch_into(indices, &mut out)?;
        Ok(out.into_batch())
    }
}

impl<T: Float> GraphDataset<T> for [Graph<T>] {
    fn n_graphs(&self) -> usize {
        self.len()
    }
    fn n_features(&self) -> usize {
        self.first().map_or(0, |g| g.features.ncols())
    }
    fn batch_into(&self, indices: &[usize], out: &mut GraphBatchBuffer<T>) -> Result<()> {
        out.stack(self, indices)
    }
}

impl<T: Float> GraphDataset<T> for Vec<Graph<T>> {
    fn n_graphs(&self) -> usize {
        self.len()
    }
    fn n_features(&self) -> usize {
        self.as_slice().n_features()
    }
    fn batch_into(&self, indices: &[usize], out: &mut GraphBatchBuffer<T>) -> Result<()> {
        out.stack(self, indices)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sprs::TriMat;

    fn path(n: usize, directed: bool) -> CsMat<f64> {
        let mut t = TriMat::new((n, n));
        for i in 0..n - 1 {
            t.add_triplet(i, i + 1, 1.0);
            if !directed {
                t.add_triplet(i + 1, i, 1.0);
            }
        }
        t.to_csr()
    }

    #[test]
    fn stacking_is_block_diagonal() {
        let a = Graph::new(&path(2, false), Array2::ones((2, 1))).unwrap();
        let b = Graph::new(&path(3, false), Array2::zeros((3, 1))).unwrap();
        assert!(a.adj_t.is_none());
        let batch = GraphBatch::stack(&[a.clone(), b.clone()], &[1, 0]).unwrap();
        let d = batch.adj.to_dense();
        assert_eq!(
            d.slice_axis(Axis(0), Slice::from(0..3))
                .slice_axis(Axis(1), Slice::from(0..3)),
            b.adj.to_dense()
        );
        assert_eq!(
            d.slice_axis(Axis(0), Slice::from(3..5))
                .slice_axis(Axis(1), Slice::from(3..5)),
            a.adj.to_dense()
        );
        assert_eq!(
            d.slice_axis(Axis(0), Slice::from(0..3))
                .slice_axis(Axis(1), Slice::from(3..5))
                .sum(),
            0.0
        );
        assert!(batch.adj_t.is_none());
        let c = Graph::new(&path(2, true), Array2::ones((2, 1))).unwrap();
        assert!(c.adj_t.is_some());
        let batch = GraphBatch::stack(&[a, c], &[0, 1]).unwrap();
        assert_eq!(batch.adj_t().to_dense(), batch.adj.to_dense().t());
    }

    #[test]
    fn buffer_refills_equal_fresh_stacks() {
        let a = Graph::new(&path(2, false), Array2::ones((2, 1))).unwrap();
        let b = Graph::new(&path(4, false), Array2::from_elem((4, 1), 2.0)).unwrap();
        let c = Graph::new(&path(3, true), Array2::from_elem((3, 1), 3.0)).unwrap();
        let graphs = vec![a, b, c];
        let mut buf = GraphBatchBuffer::new();
        for idx in [&[0usize, 1][..], &[2, 0], &[1], &[1, 2, 0], &[0]] {
            graphs.batch_into(idx, &mut buf).unwrap();
            assert_eq!(
                buf.batch(),
                &GraphBatch::stack(&graphs, idx).unwrap(),
                "{idx:?}"
            );
        }
        assert!(matches!(
            graphs.batch_into(&[3], &mut buf),
            Err(NnError::TargetOutOfRange { .. })
        ));
    }

    #[test]
    fn errors() {
        let a = Graph::new(&path(2, false), Array2::ones((2, 1))).unwrap();
        let b = Graph::new(&path(2, false), Array2::ones((2, 2))).unwrap();
        assert!(matches!(
            GraphBatch::stack(std::slice::from_ref(&a), &[]),
            Err(NnError::EmptyBatch { .. })
        ));
        assert!(matches!(
            GraphBatch::stack(std::slice::from_ref(&a), &[1]),
            Err(NnError::TargetOutOfRange { .. })
        ));
        assert!(matches!(
            GraphBatch::stack(&[a.clone(), b], &[0, 1]),
            Err(NnError::ShapeMismatch { .. })
        ));
        assert!(matches!(
            Graph::new(&path(3, false), Array2::ones((2, 1))),
            Err(NnError::ShapeMismatch { .. })
        ));
        let mut f = Array2::ones((2, 1));
        f[[1, 0]] = f64::NAN;
        assert!(matches!(
            Graph::new(&path(2, false), f),
            Err(NnError::NonFinite { .. })
        ));
        assert!(matches!(
            GraphBatch::new(a.adj.clone(), None, a.features.clone(), vec![0, 1]),
            Err(NnError::InvalidOffsets { .. })
        ));
        assert!(GraphBatch::new(a.adj.clone(), None, a.features.clone(), vec![0, 2]).is_ok());
        // Borrowed parts are checked too: adjacency size and storage, empty stacks.
        let mut buf = GraphBatchBuffer::new();
        let big = path(3, false);
        let e = buf
            .stack_from(1, |_| GraphRef {
                adj: &big,
                adj_t: None,
                features: a.features.view(),
            })
            .unwrap_err();
        assert!(
            matches!(e, NnError::ShapeMismatch { what: "adj", .. }),
            "{e:?}"
        );
        let csc = a.adj.to_csc();
        let e = buf
            .stack_from(1, |_| GraphRef {
                adj: &csc,
                adj_t: None,
                features: a.features.view(),
            })
            .unwrap_err();
        assert!(matches!(e, NnError::NotCsr { .. }), "{e:?}");
        assert!(matches!(
            buf.stack_from(0, |_| a.as_graph_ref()),
            Err(NnError::EmptyBatch { .. })
        ));
    }
}
