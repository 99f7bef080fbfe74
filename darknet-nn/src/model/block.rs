//! The fully connected hidden block of Paper A's models: Linear → BatchNorm1d → ReLU.
//!
//! Shapes: `x` (n, in_dim) → (n, out_dim). Parameter names: `linear.weight` (out_dim, in_dim),
//! `linear.bias`, `bn.weight`, `bn.bias`, buffers `bn.running_mean`, `bn.running_var`,
//! `bn.num_batches_tracked`.
//!
//! ```
//! use darknet_nn::{model::FcBlock, Mode};
//! use ndarray::Array2;
//! use rand::SeedableRng;
//! let mut block = FcBlock::<f32>::new(4, 3, &mut rand_chacha::ChaCha8Rng::seed_from_u64(0));
//! let (y, _) = block.forward(Array2::from_elem((5, 4), 0.5).view(), Mode::Train).unwrap();
//! assert_eq!(y.shape(), &[5, 3]);
//! assert!(y.iter().all(|&v| v >= 0.0));
//! ```

use crate::buffer::reshape2;
use crate::error::check_shape;
use crate::layers::{BatchNorm1d, BatchNormCache, Linear, LinearCache, Relu, ReluCache};
use crate::param::{visit_child_buffers, visit_child_params};
use crate::{Float, HasParams, Mode, ParamMut, Result};
use ndarray::{Array2, ArrayView2, ArrayViewMutD};
use rand::Rng;

/// Linear → BatchNorm1d → ReLU.
#[derive(Debug, Clone, PartialEq)]
pub struct FcBlock<T: Float> {
    /// The linear layer, weight (out_dim, in_dim).
    pub linear: Linear<T>,
    /// Batch normalisation over out_dim features.
    pub bn: BatchNorm1d<T>,
}

/// Caches of the three steps of an [`FcBlock`], with the block's output and the temporaries
/// of its backward pass.
///
/// `Default` is an empty cache for [`FcBlock::forward_into`], which refills it in place; keep
/// it between steps so no step allocates.
#[derive(Debug, Clone, Default)]
pub struct FcBlockCache<T> {
    linear: LinearCache<T>,
    bn: BatchNormCache<T>,
    /// Holds the block's output (the ReLU's).
    relu: ReluCache<T>,
    /// Linear output in forward, gradients in backward.
    tmp: Array2<T>,
    tmp2: Array2<T>,
}

impl<T> FcBlockCache<T> {
    /// The block's output of the last forward pass, (n, out_dim).
    pub fn output(&self) -> ArrayView2<'_, T> {
        self.relu.y.view()
    }
}

impl<T: Float> FcBlock<T> {
    /// A block with PyTorch's default initialisations, drawn from `rng`.
    pub fn new(in_dim: usize, out_dim: usize, rng: &mut impl Rng) -> Self {
        Self {
            linear: Linear::new(in_dim, out_dim, rng),
            bn: BatchNorm1d::new(out_dim),
        }
    }

    /// A block of given layers (build them with [`Linear::from_arrays`] and
    /// [`BatchNorm1d::from_arrays`]).
    ///
    /// Errors: [`crate::NnError::ShapeMismatch`] if the BatchNorm's width is not the linear
    /// layer's output width.
    pub fn from_layers(linear: Linear<T>, bn: BatchNorm1d<T>) -> Result<Self> {
        check_shape(
            "FcBlock::from_layers",
            "bn width",
            &[linear.out_dim()],
            &[bn.dim()],
        )?;
        Ok(Self { linear, bn })
    }

    /// `x` (n, in_dim) → (n, out_dim) and the cache (training mode updates BatchNorm's running
    /// statistics).
    pub fn forward(
        &mut self,
        x: ArrayView2<'_, T>,
        mode: Mode,
    ) -> Result<(Array2<T>, FcBlockCache<T>)> {
        let mut cache = FcBlockCache::default();
        self.forward_into(x, mode, &mut cache)?;
        let y = cache.relu.y.clone();
        Ok((y, cache))
    }

    /// Allocation-free forward: `x` (n, in_dim) → the output in the cache
    /// ([`FcBlockCache::output`], (n, out_dim)), every buffer refilled in place.
    pub fn forward_into(
        &mut self,
        x: ArrayView2<'_, T>,
        mode: Mode,
        cache: &mut FcBlockCache<T>,
    ) -> Result<()> {
        self.linear
            .forward_into(x, &mut cache.linear, &mut cache.tmp)?;
        self.bn
            .forward_into(cache.tmp.view(), mode, &mut cache.bn, &mut cache.relu.y)?;
        Relu.apply_inplace(&mut cache.relu.y);
        Ok(())
    }

    /// Evaluation-mode forward: `x` (n, in_dim) → (n, out_dim).
    pub fn infer(&self, x: ArrayView2<'_, T>) -> Result<Array2<T>> {
        let mut h = self.bn.infer(self.linear.infer(x)?.view())?;
        Relu.apply_inplace(&mut h);
        Ok(h)
    }

    /// `d_out` (n, out_dim) → `dx` (n, in_dim); adds to the parameters' gradients.
    pub fn backward(
        &mut self,
        cache: &FcBlockCache<T>,
        d_out: ArrayView2<'_, T>,
    ) -> Result<Array2<T>> {
        let d = Relu.backward(&cache.relu, d_out)?;
        let d = self.bn.backward(&cache.bn, d.view())?;
        self.linear.backward(&cache.linear, d.view())
    }

    /// Backward pass for the parameters only (first block of a model): adds to the parameters'
    /// gradients without computing the input gradient.
    pub fn backward_params(
        &mut self,
        cache: &FcBlockCache<T>,
        d_out: ArrayView2<'_, T>,
    ) -> Result<()> {
        let d = Relu.backward(&cache.relu, d_out)?;
        let d = self.bn.backward(&cache.bn, d.view())?;
        self.linear.backward_params(&cache.linear, d.view())
    }

    /// Allocation-free backward: `d_out` (n, out_dim); adds to the parameters' gradients and,
    /// when `dx` is given, writes the input gradient (n, in_dim) into it (reshaped in place).
    /// The cache's temporaries are reused.
    pub fn backward_into(
        &mut self,
        cache: &mut FcBlockCache<T>,
        d_out: ArrayView2<'_, T>,
        dx: Option<&mut Array2<T>>,
    ) -> Result<()> {
        reshape2(&mut cache.tmp, d_out.nrows(), d_out.ncols());
        cache.tmp.assign(&d_out);
        Relu.backward_inplace(&cache.relu, cache.tmp.view_mut())?;
        self.bn
            .backward_into(&cache.bn, cache.tmp.view(), &mut cache.tmp2)?;
        match dx {
            Some(dx) => self
                .linear
                .backward_into(&cache.linear, cache.tmp2.view(), dx),
            None => self
                .linear
                .backward_params(&cache.linear, cache.tmp2.view()),
        }
    }
}

impl<T: Float> HasParams<T> for FcBlock<T> {
    fn visit_params(&mut self, f: &mut dyn FnMut(&str, ParamMut<'_, T>)) {
        visit_child_params("linear", &mut self.linear, f);
        visit_child_params("bn", &mut self.bn, f);
    }
    fn visit_buffers(&mut self, f: &mut dyn FnMut(&str, ArrayViewMutD<'_, T>)) {
        visit_child_buffers("bn", &mut self.bn, f);
    }
}
