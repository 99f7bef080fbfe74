//! Segment mean pooling: one vector per graph of a batch, the mean of its nodes' rows.
//!
//! Formula: `out_g = (1 / n_g) Σ_{i ∈ graph g} x_i`; backward `dx_i = d_out_g / n_g`.
//!
//! Shapes: `x` (n_nodes, d) and `offsets` (n_graphs + 1) with graph g's nodes in rows
//! `offsets[g]..offsets[g + 1]` (`offsets[0] = 0`, last = n_nodes, strictly increasing: every
//! graph has at least one node) → `out` (n_graphs, d).
//!
//! ```
//! use darknet_nn::layers::MeanPool;
//! use ndarray::array;
//! let x = array![[1.0f32, 2.0], [3.0, 4.0], [10.0, 0.0]];
//! let (y, _) = MeanPool.forward(x.view(), &[0, 2, 3]).unwrap();
//! assert_eq!(y, array![[2.0, 3.0], [10.0, 0.0]]);
//! ```

use crate::buffer::reshape2;
use crate::error::check_shape;
use crate::{Float, NnError, Result};
use ndarray::{Array2, ArrayView2, Axis, Slice, Zip};

/// Mean pooling over the segments of a batch of graphs (stateless).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MeanPool;

/// What [`MeanPool::backward`] needs: the offsets (n_graphs + 1).
///
/// `Default` is an empty cache for [`MeanPool::forward_into`], which refills it in place.
#[derive(Debug, Clone, Default)]
pub struct MeanPoolCache {
    /// Graph offsets into the node rows, (n_graphs + 1).
    pub offsets: Vec<usize>,
}

/// Checks graph offsets against `n_nodes`.
pub(crate) fn check_offsets(op: &'static str, offsets: &[usize], n_nodes: usize) -> Result<()> {
    let bad = |reason| Err(NnError::InvalidOffsets { op, reason });
    if offsets.len() < 2 {
        return bad("need at least one graph (two offsets)");
    }
    if offsets[0] != 0 {
        return bad("first offset must be 0");
    }
    if *offsets.last().expect("len >= 2") != n_nodes {
        return bad("last offset must equal the number of node rows");
    }
    if offsets.windows(2).any(|w| w[1] <= w[0]) {
        return bad("offsets must be strictly increasing (every graph needs a node)");
    }
    Ok(())
}

impl MeanPool {
    /// `x` (n_nodes, d), `offsets` (n_graphs + 1) → (n_graphs, d) and the cache.
    ///
    /// Errors: [`NnError::InvalidOffsets`].
    pub fn forward<T: Float>(
        &self,
        x: ArrayView2<'_, T>,
        offsets: &[usize],
    ) -> Result<(Array2<T>, MeanPoolCache)> {
        let mut cache = MeanPoolCache::default();
        let mut out = Array2::zeros((0, 0));
        self.forward_into(x, offsets, &mut cache, &mut out)?;
        Ok((out, cache))
    }

    /// Allocation-free forward: `x` (n_nodes, d), `offsets` (n_graphs + 1) → `out` (reshaped to
    /// (n_graphs, d) in place); the cache's offsets are refilled in place.
    ///
    /// Errors: [`NnError::InvalidOffsets`].
    pub fn forward_into<T: Float>(
        &self,
        x: ArrayView2<'_, T>,
        offsets: &[usize],
        cache: &mut MeanPoolCache,
        out: &mut Array2<T>,
    ) -> Result<()> {
        check_offsets("MeanPool::forward", offsets, x.nrows())?;
        reshape2(out, offsets.len() - 1, x.ncols());
        for (g, mut row) in out.rows_mut().into_iter().enumerate() {
            row.fill(T::zero());
            for xr in x
                .slice_axis(Axis(0), Slice::from(offsets[g]..offsets[g + 1]))
                .rows()
            {
                row += &xr;
            }
            row /= T::of((offsets[g + 1] - offsets[g]) as f64);
        }
        cache.offsets.clear();
        cache.offsets.extend_from_slice(offsets);
        Ok(())
    }

    /// `d_out` (n_graphs, d) → `dx` (n_nodes, d).
    ///
    /// Errors: [`NnError::ShapeMismatch`] if `d_out` has not n_graphs rows.
    pub fn backward<T: Float>(
        &self,
        cache: &MeanPoolCache,
        d_out: ArrayView2<'_, T>,
    ) -> Result<Array2<T>> {
        let mut dx = Array2::zeros((0, 0));
        self.backward_into(cache, d_out, &mut dx)?;
        Ok(dx)
    }

    /// Allocation-free backward: `d_out` (n_graphs, d) → `dx` (reshaped to (n_nodes, d) in
    /// place).
    ///
    /// Errors: [`NnError::ShapeMismatch`] if `d_out` has not n_graphs rows,
    /// [`NnError::InvalidOffsets`] for an empty cache.
    pub fn backward_into<T: Float>(
        &self,
        cache: &MeanPoolCache,
        d_out: ArrayView2<'_, T>,
        dx: &mut Array2<T>,
    ) -> Result<()> {
        let o = &cache.offsets;
        if o.is_empty() {
            return Err(NnError::InvalidOffsets {
                op: "MeanPool::backward",
                reason: "empty cache: run forward first",
            });
        }
        check_shape(
            "MeanPool::backward",
            "d_out",
            &[o.len() - 1, d_out.ncols()],
            d_out.shape(),
        )?;
        reshape2(dx, o[o.len() - 1], d_out.ncols());
        for (g, drow) in d_out.rows().into_iter().enumerate() {
            let n_g = T::of((o[g + 1] - o[g]) as f64);
            for mut row in dx
                .slice_axis_mut(Axis(0), Slice::from(o[g]..o[g + 1]))
                .rows_mut()
            {
                Zip::from(&mut row)
                    .and(&drow)
                    .for_each(|a, &v| *a = v / n_g);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{check_gradients, GradCheckConfig, NoParams};
    use ndarray::Ix2;

    #[test]
    fn gradients_match_finite_differences() {
        let off = [0, 1, 4, 6];
        let x = Array2::from_shape_fn((6, 2), |(i, j)| (i * 2 + j) as f64 * 0.3).into_dyn();
        check_gradients(
            &mut NoParams,
            &[x],
            |_, xs| {
                Ok(MeanPool
                    .forward(xs[0].view().into_dimensionality::<Ix2>().unwrap(), &off)?
                    .0
                    .into_dyn())
            },
            |_, xs, g| {
                let (_, c) =
                    MeanPool.forward(xs[0].view().into_dimensionality::<Ix2>().unwrap(), &off)?;
                Ok(vec![Some(
                    MeanPool
                        .backward(&c, g.view().into_dimensionality::<Ix2>().unwrap())?
                        .into_dyn(),
                )])
            },
            &GradCheckConfig::default(),
        )
        .unwrap();
    }

    #[test]
    fn invalid_offsets() {
        let x = Array2::<f32>::zeros((3, 1));
        for off in [&[0usize][..], &[1, 3], &[0, 2], &[0, 2, 2, 3]] {
            assert!(
                matches!(
                    MeanPool.forward(x.view(), off),
                    Err(NnError::InvalidOffsets { .. })
                ),
                "{off:?}"
            );
        }
        let (_, c) = MeanPool.forward(x.view(), &[0, 3]).unwrap();
        assert!(MeanPool
            .backward(&c, Array2::<f32>::zeros((2, 1)).view())
            .is_err());
    }
}
