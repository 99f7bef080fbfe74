//! Paper A's port auto-encoder (docs/paper-a.md#auto-encoder, docs/choices.md: A6–A7).
//!
//! Encoder: `K` hidden blocks Linear → BatchNorm1d → ReLU of sizes
//! [`geometric_sizes`]`(input_dim, latent_dim, K)`, then a linear latent layer (no BatchNorm, no
//! ReLU). Decoder: the mirror image (hidden blocks of the same sizes in reverse order) and a
//! linear output layer back to `input_dim`. Loss: MSE between input and reconstruction.
//! Training: Adam (lr 1e-3), batch 256, up to 50 epochs, stop after 5 epochs without improvement
//! of the training loss.
//!
//! Shapes: input `x` (n_ports, input_dim) (reference distances scaled to [0, 1]) → embeddings
//! (n_ports, latent_dim) through [`PortAutoencoder::encode`]. Tensor names:
//! `encoder.{k}.linear.weight`, `encoder.{k}.bn.*`, `latent.weight` (latent_dim, h),
//! `latent.bias`, `decoder.{k}.*`, `output.weight` (input_dim, h), `output.bias`.
//!
//! ```
//! use darknet_nn::model::PortAutoencoderConfig;
//! use ndarray::Array2;
//! let x = Array2::from_shape_fn((64, 8), |(i, j)| ((i * j) % 5) as f32 / 4.0);
//! let cfg = PortAutoencoderConfig::default().latent_dim(2).hidden_layers(1).max_epochs(5).batch_size(16);
//! let (ae, curve) = cfg.fit(x.view(), &mut |_| {}).unwrap();
//! assert_eq!(ae.encode(x.view()).unwrap().shape(), &[64, 2]);
//! assert!(curve.final_loss().unwrap() < curve.records[0].loss);
//! ```

use super::{geometric_sizes, FcBlock, FcBlockCache};
use crate::buffer::reshape2;
use crate::error::{check_finite, check_shape};
use crate::layers::{Linear, LinearCache};
use crate::loss::mse;
use crate::param::{visit_child_buffers, visit_child_params};
use crate::train::{
    invalid, mini_batches, run_epochs, shuffled_indices, EpochRecord, LearningCurve, TrainConfig,
};
use crate::{Adam, Float, HasParams, Mode, NnError, ParamMut, Result};
use ndarray::{Array2, ArrayView2, ArrayViewMutD};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Hyper-parameters of [`PortAutoencoder`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PortAutoencoderConfig {
    /// Size of the embedding. Default 16 (grid {8, 16, 32}). Must be >= 1.
    pub latent_dim: usize,
    /// Hidden blocks per half. Default 1 (grid {0, 1, 2}). At most 8.
    pub hidden_layers: usize,
    /// Training: defaults Adam lr 1e-3, batch 256, 50 epochs, patience 5, seed 0.
    pub train: TrainConfig,
}

impl Default for PortAutoencoderConfig {
    fn default() -> Self {
        Self {
            latent_dim: 16,
            hidden_layers: 1,
            train: TrainConfig::default()
                .learning_rate(1e-3)
                .batch_size(256)
                .max_epochs(50)
                .patience(5),
        }
    }
}

impl PortAutoencoderConfig {
    /// Sets the latent size.
    pub fn latent_dim(mut self, n: usize) -> Self {
        self.latent_dim = n;
        self
    }
    /// Sets the number of hidden blocks per half.
    pub fn hidden_layers(mut self, n: usize) -> Self {
        self.hidden_layers = n;
        self
    }
    /// Sets the training settings.
    pub fn train(mut self, t: TrainConfig) -> Self {
        self.train = t;
        self
    }
    /// Sets the maximum number of epochs.
    pub fn max_epochs(mut self, n: usize) -> Self {
        self.train.max_epochs = n;
        self
    }
    /// Sets the batch size.
    pub fn batch_size(mut self, n: usize) -> Self {
        self.train.batch_size = n;
        self
    }
    /// Sets the seed of initialisation and shuffling.
    pub fn seed(mut self, seed: u64) -> Self {
        self.train.seed = seed;
        self
    }

    /// Checks every field; the error names the first invalid one.
    pub fn validate(&self) -> Result<()> {
        if self.latent_dim == 0 {
            return Err(invalid("latent_dim", 0, "must be >= 1"));
        }
        if self.hidden_layers > 8 {
            return Err(invalid("hidden_layers", self.hidden_layers, "must be <= 8"));
        }
        self.train.validate()
    }

    /// Hidden sizes of the encoder for `input_dim` inputs (the decoder uses them reversed).
    pub fn hidden_sizes(&self, input_dim: usize) -> Vec<usize> {
        geometric_sizes(input_dim, self.latent_dim, self.hidden_layers)
    }

    /// Trains an auto-encoder on `x` (n_ports, input_dim); calls `progress` after each epoch.
    ///
    /// Errors: invalid config, [`NnError::EmptyBatch`] for no rows, [`NnError::NonFinite`] in
    /// `x`, [`NnError::NanLoss`] if training diverges.
    pub fn fit<T: Float>(
        &self,
        x: ArrayView2<'_, T>,
        progress: &mut dyn FnMut(&EpochRecord),
    ) -> Result<(PortAutoencoder<T>, LearningCurve)> {
        self.validate()?;
        if x.nrows() == 0 || x.ncols() == 0 {
            return Err(NnError::EmptyBatch {
                op: "PortAutoencoder::fit",
            });
        }
        check_finite("PortAutoencoder::fit", "x", x.iter())?;
        let mut rng = ChaCha8Rng::seed_from_u64(self.train.seed);
        let mut model = PortAutoencoder::new(*self, x.ncols(), &mut rng)?;
        let mut adam = Adam::new(self.train.adam)?;
        let mut ws = AutoencoderWorkspace::default();
        let curve = run_epochs(
            &self.train,
            |_| model.train_epoch_into(x, &mut adam, &mut rng, &mut ws),
            progress,
        )?;
        Ok((model, curve))
    }
}

/// A trained (or freshly initialised) port auto-encoder.
#[derive(Debug, Clone, PartialEq)]
pub struct PortAutoencoder<T: Float> {
    config: PortAutoencoderConfig,
    input_dim: usize,
    /// Encoder hidden blocks.
    pub encoder: Vec<FcBlock<T>>,
    /// Linear latent layer, weight (latent_dim, last hidden or input_dim).
    pub latent: Linear<T>,
    /// Decoder hidden blocks.
    pub decoder: Vec<FcBlock<T>>,
    /// Linear output layer, weight (input_dim, last hidden or latent_dim).
    pub output: Linear<T>,
}

/// Caches of a [`PortAutoencoder`] forward pass.
#[derive(Debug, Clone)]
pub struct AutoencoderCache<T> {
    encoder: Vec<FcBlockCache<T>>,
    latent: LinearCache<T>,
    decoder: Vec<FcBlockCache<T>>,
    output: LinearCache<T>,
}

impl<T: Float> PortAutoencoder<T> {
    /// A freshly initialised model for `input_dim` inputs (layers created in order encoder,
    /// latent, decoder, output, each drawing from `rng`).
    ///
    /// Errors: invalid config; [`NnError::InvalidConfig`] (`input_dim`) for 0.
    pub fn new(
        config: PortAutoencoderConfig,
        input_dim: usize,
        rng: &mut impl Rng,
    ) -> Result<Self> {
        config.validate()?;
        if input_dim == 0 {
            return Err(invalid("input_dim", 0, "must be >= 1"));
        }
        let hidden = config.hidden_sizes(input_dim);
        let mut encoder = Vec::new();
        let mut prev = input_dim;
        for &h in &hidden {
            encoder.push(FcBlock::new(prev, h, rng));
            prev = h;
        }
        let latent = Linear::new(prev, config.latent_dim, rng);
        let mut decoder = Vec::new();
        prev = config.latent_dim;
        for &h in hidden.iter().rev() {
            decoder.push(FcBlock::new(prev, h, rng));
            prev = h;
        }
        let output = Linear::new(prev, input_dim, rng);
        Ok(Self {
            config,
            input_dim,
            encoder,
            latent,
            decoder,
            output,
        })
    }

    /// An auto-encoder of given layers (encoder blocks, latent layer, decoder blocks, output
    /// layer), e.g. weights trained elsewhere: `input_dim` is the first layer's input width and
    /// the layer sizes must be those `config` describes
    /// ([`PortAutoencoderConfig::hidden_sizes`], decoder mirrored), so that the model saves
    /// and reloads as it is.
    ///
    /// Errors: invalid config; [`NnError::ShapeMismatch`] naming the first layer count or
    /// width that differs from what `config` and the previous layer imply.
    pub fn from_layers(
        config: PortAutoencoderConfig,
        encoder: Vec<FcBlock<T>>,
        latent: Linear<T>,
        decoder: Vec<FcBlock<T>>,
        output: Linear<T>,
    ) -> Result<Self> {
        const OP: &str = "PortAutoencoder::from_layers";
        config.validate()?;
        let n = config.hidden_layers;
        check_shape(OP, "encoder block count", &[n], &[encoder.len()])?;
        check_shape(OP, "decoder block count", &[n], &[decoder.len()])?;
        let input_dim = encoder
            .first()
            .map_or(latent.in_dim(), |b| b.linear.in_dim());
        let hidden = config.hidden_sizes(input_dim);
        // Expected (out, in) of every linear layer in order.
        let mut want = Vec::with_capacity(2 * n + 2);
        let mut prev = input_dim;
        for &h in &hidden {
            want.push((h, prev));
            prev = h;
        }
        want.push((config.latent_dim, prev));
        prev = config.latent_dim;
        for &h in hidden.iter().rev() {
            want.push((h, prev));
            prev = h;
        }
        want.push((input_dim, prev));
        let found = encoder
            .iter()
            .map(|b| &b.linear)
            .chain(std::iter::once(&latent))
            .chain(decoder.iter().map(|b| &b.linear))
            .chain(std::iter::once(&output));
        for (l, &(o, i)) in found.zip(&want) {
            check_shape(
                OP,
                "layer weight (out, in)",
                &[o, i],
                l.weight.value.shape(),
            )?;
        }
        Ok(Self {
            config,
            input_dim,
            encoder,
            latent,
            decoder,
            output,
        })
    }

    /// The hyper-parameters.
    pub fn config(&self) -> &PortAutoencoderConfig {
        &self.config
    }

    /// Width of the input (number of reference ports).
    pub fn input_dim(&self) -> usize {
        self.input_dim
    }

    /// Forward pass: `x` (n, input_dim) → reconstruction (n, input_dim) and the cache.
    pub fn forward(
        &mut self,
        x: ArrayView2<'_, T>,
        mode: Mode,
    ) -> Result<(Array2<T>, AutoencoderCache<T>)> {
        let mut h: Option<Array2<T>> = None;
        let mut encoder = Vec::with_capacity(self.encoder.len());
        for b in &mut self.encoder {
            let (y, c) = b.forward(h.as_ref().map_or(x, |a| a.view()), mode)?;
            encoder.push(c);
            h = Some(y);
        }
        let (mut h, latent) = self.latent.forward(h.as_ref().map_or(x, |a| a.view()))?;
        let mut decoder = Vec::with_capacity(self.decoder.len());
        for b in &mut self.decoder {
            let (y, c) = b.forward(h.view(), mode)?;
            decoder.push(c);
            h = y;
        }
        let (y, output) = self.output.forward(h.view())?;
        Ok((
            y,
            AutoencoderCache {
                encoder,
                latent,
                decoder,
                output,
            },
        ))
    }

    /// Backward pass: `d_out` (n, input_dim) → `dx` (n, input_dim); adds to every parameter's
    /// gradient.
    pub fn backward(
        &mut self,
        cache: &AutoencoderCache<T>,
        d_out: ArrayView2<'_, T>,
    ) -> Result<Array2<T>> {
        Ok(self
            .backward_impl(cache, d_out, true)?
            .expect("input gradient requested"))
    }

    /// Backward through every layer; the first layer computes its input gradient only when
    /// `need_dx` (training does not need it).
    fn backward_impl(
        &mut self,
        cache: &AutoencoderCache<T>,
        d_out: ArrayView2<'_, T>,
        need_dx: bool,
    ) -> Result<Option<Array2<T>>> {
        let mut d = self.output.backward(&cache.output, d_out)?;
        for (b, c) in self.decoder.iter_mut().zip(&cache.decoder).rev() {
            d = b.backward(c, d.view())?;
        }
        if self.encoder.is_empty() && !need_dx {
            self.latent.backward_params(&cache.latent, d.view())?;
            return Ok(None);
        }
        d = self.latent.backward(&cache.latent, d.view())?;
        for (k, (b, c)) in self
            .encoder
            .iter_mut()
            .zip(&cache.encoder)
            .enumerate()
            .rev()
        {
            if k == 0 && !need_dx {
                b.backward_params(c, d.view())?;
                return Ok(None);
            }
            d = b.backward(c, d.view())?;
        }
        Ok(Some(d))
    }

    /// The embeddings (evaluation mode): `x` (n_ports, input_dim) → (n_ports, latent_dim).
    pub fn encode(&self, x: ArrayView2<'_, T>) -> Result<Array2<T>> {
        let mut h: Option<Array2<T>> = None;
        for b in &self.encoder {
            h = Some(b.infer(h.as_ref().map_or(x, |a| a.view()))?);
        }
        self.latent.infer(h.as_ref().map_or(x, |a| a.view()))
    }

    /// The reconstruction (evaluation mode): `x` (n, input_dim) → (n, input_dim).
    pub fn reconstruct(&self, x: ArrayView2<'_, T>) -> Result<Array2<T>> {
        let mut h = self.encode(x)?;
        for b in &self.decoder {
            h = b.infer(h.view())?;
        }
        self.output.infer(h.view())
    }

    /// Mean-squared reconstruction loss on a batch in training mode and its gradient step
    /// accumulated into the parameters (does not zero them first nor step an optimizer).
    pub fn loss_and_backward(&mut self, x: ArrayView2<'_, T>) -> Result<T> {
        let (y, cache) = self.forward(x, Mode::Train)?;
        let (loss, d) = mse(y.view(), x)?;
        self.backward_impl(&cache, d.view(), false)?;
        Ok(loss)
    }

    /// One epoch of seeded mini-batch training with `adam`; returns the mean training loss
    /// (weighted by batch size). Uses a fresh [`AutoencoderWorkspace`]; loops over epochs
    /// should keep one and call [`PortAutoencoder::train_epoch_into`].
    pub fn train_epoch(
        &mut self,
        x: ArrayView2<'_, T>,
        adam: &mut Adam<T>,
        rng: &mut impl Rng,
    ) -> Result<f64> {
        self.train_epoch_into(x, adam, rng, &mut AutoencoderWorkspace::default())
    }

    /// [`PortAutoencoder::train_epoch`] with the buffers of `ws` (batch, every layer's cache
    /// and output, the gradients), refilled in place: after the first batches a batch
    /// allocates only matrixmultiply's packing buffers. Same result, bit for bit.
    pub fn train_epoch_into(
        &mut self,
        x: ArrayView2<'_, T>,
        adam: &mut Adam<T>,
        rng: &mut impl Rng,
        ws: &mut AutoencoderWorkspace<T>,
    ) -> Result<f64> {
        if x.nrows() == 0 {
            return Err(NnError::EmptyBatch {
                op: "PortAutoencoder::train_epoch",
            });
        }
        let order = shuffled_indices(x.nrows(), rng);
        let min_last = if self.config.hidden_layers > 0 { 2 } else { 1 };
        let mut total = 0.0;
        for idx in mini_batches(&order, self.config.train.batch_size, min_last) {
            reshape2(&mut ws.batch, idx.len(), x.ncols());
            for (mut row, &i) in ws.batch.rows_mut().into_iter().zip(idx) {
                row.assign(&x.row(i));
            }
            self.zero_grad();
            let loss = self.step_into(ws)?;
            adam.step(self)?;
            total += loss.as_f64() * idx.len() as f64;
        }
        Ok(total / x.nrows() as f64)
    }

    /// Forward, MSE and backward of the batch `ws.batch` on the workspace's buffers.
    fn step_into(&mut self, ws: &mut AutoencoderWorkspace<T>) -> Result<T> {
        let w = ws;
        w.encoder
            .resize_with(self.encoder.len(), FcBlockCache::default);
        w.decoder
            .resize_with(self.decoder.len(), FcBlockCache::default);
        for k in 0..self.encoder.len() {
            let (done, rest) = w.encoder.split_at_mut(k);
            let input = done.last().map_or(w.batch.view(), |c| c.output());
            self.encoder[k].forward_into(input, Mode::Train, &mut rest[0])?;
        }
        let input = w.encoder.last().map_or(w.batch.view(), |c| c.output());
        self.latent
            .forward_into(input, &mut w.latent, &mut w.latent_out)?;
        for k in 0..self.decoder.len() {
            let (done, rest) = w.decoder.split_at_mut(k);
            let input = done.last().map_or(w.latent_out.view(), |c| c.output());
            self.decoder[k].forward_into(input, Mode::Train, &mut rest[0])?;
        }
        let input = w.decoder.last().map_or(w.latent_out.view(), |c| c.output());
        self.output.forward_into(input, &mut w.output, &mut w.y)?;
        let loss = mse_into(w.y.view(), w.batch.view(), &mut w.d_a)?;
        // Backward; the first layer computes no input gradient.
        self.output
            .backward_into(&w.output, w.d_a.view(), &mut w.d_b)?;
        std::mem::swap(&mut w.d_a, &mut w.d_b);
        for (b, c) in self.decoder.iter_mut().zip(w.decoder.iter_mut()).rev() {
            b.backward_into(c, w.d_a.view(), Some(&mut w.d_b))?;
            std::mem::swap(&mut w.d_a, &mut w.d_b);
        }
        if self.encoder.is_empty() {
            self.latent.backward_params(&w.latent, w.d_a.view())?;
            return Ok(loss);
        }
        self.latent
            .backward_into(&w.latent, w.d_a.view(), &mut w.d_b)?;
        std::mem::swap(&mut w.d_a, &mut w.d_b);
        for (k, (b, c)) in self
            .encoder
            .iter_mut()
            .zip(w.encoder.iter_mut())
            .enumerate()
            .rev()
        {
            if k == 0 {
                b.backward_into(c, w.d_a.view(), None)?;
            } else {
                b.backward_into(c, w.d_a.view(), Some(&mut w.d_b))?;
                std::mem::swap(&mut w.d_a, &mut w.d_b);
            }
        }
        Ok(loss)
    }
}

/// The buffers of [`PortAutoencoder::train_epoch_into`]: the gathered batch, every layer's
/// cache and output, and the gradient ping-pong. Keep one across epochs.
#[derive(Debug, Clone, Default)]
pub struct AutoencoderWorkspace<T: Float> {
    batch: Array2<T>,
    encoder: Vec<FcBlockCache<T>>,
    latent: LinearCache<T>,
    latent_out: Array2<T>,
    decoder: Vec<FcBlockCache<T>>,
    output: LinearCache<T>,
    y: Array2<T>,
    d_a: Array2<T>,
    d_b: Array2<T>,
}

/// Mean-squared error as [`mse`], the gradient written into `grad` (reshaped in place); same
/// values, bit for bit.
fn mse_into<T: Float>(
    pred: ArrayView2<'_, T>,
    target: ArrayView2<'_, T>,
    grad: &mut Array2<T>,
) -> Result<T> {
    const OP: &str = "mse";
    crate::error::check_shape(OP, "target", pred.shape(), target.shape())?;
    if pred.is_empty() {
        return Err(NnError::EmptyBatch { op: OP });
    }
    crate::error::check_finite(OP, "pred", pred.iter())?;
    let n = T::of(pred.len() as f64);
    let two = T::of(2.0);
    let mut total = T::zero();
    reshape2(grad, pred.nrows(), pred.ncols());
    ndarray::Zip::from(&mut *grad)
        .and(&pred)
        .and(&target)
        .for_each(|g, &p, &y| {
            let d = p - y;
            total += d * d;
            *g = two * d / n;
        });
    Ok(total / n)
}

impl<T: Float> HasParams<T> for PortAutoencoder<T> {
    fn visit_params(&mut self, f: &mut dyn FnMut(&str, ParamMut<'_, T>)) {
        visit_child_params("encoder", &mut self.encoder, f);
        visit_child_params("latent", &mut self.latent, f);
        visit_child_params("decoder", &mut self.decoder, f);
        visit_child_params("output", &mut self.output, f);
    }
    fn visit_buffers(&mut self, f: &mut dyn FnMut(&str, ArrayViewMutD<'_, T>)) {
        visit_child_buffers("encoder", &mut self.encoder, f);
        visit_child_buffers("decoder", &mut self.decoder, f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{check_gradients, GradCheckConfig};
    use ndarray::{arr0, Axis, Ix2};

    #[test]
    fn layer_sizes_follow_spec() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let cfg = PortAutoencoderConfig::default()
            .hidden_layers(2)
            .latent_dim(16);
        let ae = PortAutoencoder::<f32>::new(cfg, 1024, &mut rng).unwrap();
        assert_eq!(cfg.hidden_sizes(1024), vec![1024, 128]);
        assert_eq!(ae.encoder[1].linear.weight.value.shape(), &[128, 1024]);
        assert_eq!(ae.latent.weight.value.shape(), &[16, 128]);
        assert_eq!(ae.decoder[0].linear.weight.value.shape(), &[128, 16]);
        assert_eq!(ae.decoder[1].linear.weight.value.shape(), &[1024, 128]);
        assert_eq!(ae.output.weight.value.shape(), &[1024, 1024]);
        let ae0 = PortAutoencoder::<f32>::new(cfg.hidden_layers(0), 10, &mut rng).unwrap();
        assert!(ae0.encoder.is_empty() && ae0.decoder.is_empty());
        assert_eq!(ae0.latent.weight.value.shape(), &[16, 10]);
    }

    #[test]
    fn whole_model_gradient_check() {
        let cfg = PortAutoencoderConfig::default()
            .hidden_layers(1)
            .latent_dim(2);
        let mut ae =
            PortAutoencoder::<f64>::new(cfg, 4, &mut ChaCha8Rng::seed_from_u64(3)).unwrap();
        let x = Array2::from_shape_fn((5, 4), |(i, j)| ((i * 4 + j) as f64 * 0.9).sin()).into_dyn();
        let loss = |m: &mut PortAutoencoder<f64>, x: &ndarray::ArrayD<f64>| -> Result<f64> {
            let x = x.view().into_dimensionality::<Ix2>().unwrap();
            let (y, _) = m.forward(x, Mode::Train)?;
            Ok(mse(y.view(), x)?.0)
        };
        check_gradients(
            &mut ae,
            &[x],
            |m, xs| Ok(arr0(loss(m, &xs[0])?).into_dyn()),
            |m, xs, g| {
                let x = xs[0].view().into_dimensionality::<Ix2>().unwrap();
                let (y, c) = m.forward(x, Mode::Train)?;
                // The input is also the target: its total gradient has two parts.
                let (_, d) = mse(y.view(), x)?;
                let d = d * g.first().copied().unwrap();
                let dx = m.backward(&c, d.view())? - &d;
                Ok(vec![Some(dx.into_dyn())])
            },
            &GradCheckConfig::default(),
        )
        .unwrap();
    }

    #[test]
    fn learns_a_tiny_problem_to_near_zero_loss() {
        // Four points on a line in 6-d: a 1-d latent can reconstruct them exactly.
        let x = Array2::from_shape_fn((4, 6), |(i, j)| i as f32 / 3.0 * (j as f32 - 2.5) / 2.5);
        let cfg = PortAutoencoderConfig::default()
            .hidden_layers(0)
            .latent_dim(1)
            .train(
                TrainConfig::default()
                    .learning_rate(0.02)
                    .batch_size(4)
                    .max_epochs(1500)
                    .patience(0),
            );
        let (ae, curve) = cfg.fit(x.view(), &mut |_| {}).unwrap();
        assert!(
            curve.final_loss().unwrap() < 1e-4,
            "{:?}",
            curve.final_loss()
        );
        let r = ae.reconstruct(x.view()).unwrap();
        assert!((&r - &x).iter().all(|d| d.abs() < 0.05));
    }

    #[test]
    fn same_seed_same_weights() {
        let x = Array2::from_shape_fn((20, 5), |(i, j)| ((i + 2 * j) % 7) as f32 / 7.0);
        let cfg = PortAutoencoderConfig::default()
            .latent_dim(2)
            .max_epochs(3)
            .batch_size(8);
        let (a, ca) = cfg.fit(x.view(), &mut |_| {}).unwrap();
        let (b, cb) = cfg.fit(x.view(), &mut |_| {}).unwrap();
        assert_eq!(a, b);
        assert_eq!(ca.losses(), cb.losses());
    }

    #[test]
    fn errors() {
        let x = Array2::<f32>::zeros((4, 3));
        let e = PortAutoencoderConfig::default()
            .latent_dim(0)
            .fit(x.view(), &mut |_| {})
            .unwrap_err();
        assert!(matches!(
            e,
            NnError::InvalidConfig {
                field: "latent_dim",
                ..
            }
        ));
        let e = PortAutoencoderConfig::default()
            .hidden_layers(9)
            .validate()
            .unwrap_err();
        assert!(matches!(
            e,
            NnError::InvalidConfig {
                field: "hidden_layers",
                ..
            }
        ));
        let e = PortAutoencoderConfig::default()
            .fit(Array2::<f32>::zeros((0, 3)).view(), &mut |_| {})
            .unwrap_err();
        assert!(matches!(e, NnError::EmptyBatch { .. }));
        let mut x = x;
        x[[1, 1]] = f32::NAN;
        let e = PortAutoencoderConfig::default()
            .fit(x.view(), &mut |_| {})
            .unwrap_err();
        assert!(matches!(e, NnError::NonFinite { index: 4, .. }));
        let ae = PortAutoencoder::<f32>::new(
            PortAutoencoderConfig::default(),
            3,
            &mut ChaCha8Rng::seed_from_u64(0),
        )
        .unwrap();
        assert!(matches!(
            ae.encode(Array2::zeros((2, 4)).view()),
            Err(NnError::ShapeMismatch { .. })
        ));
    }

    /// The buffer-reusing epoch computes exactly what the allocating steps compute.
    #[test]
    fn reused_workspace_gives_the_same_bits() {
        for hidden in [0, 1, 2] {
            let cfg = PortAutoencoderConfig::default()
                .latent_dim(3)
                .hidden_layers(hidden)
                .batch_size(7);
            let x = Array2::from_shape_fn((23, 12), |(i, j)| ((i * 5 + j * 3) % 11) as f32 / 11.0);
            let mut rng = ChaCha8Rng::seed_from_u64(1);
            let mut a = PortAutoencoder::<f32>::new(cfg, 12, &mut rng).unwrap();
            let mut b = a.clone();
            let mut oa = Adam::new(cfg.train.adam).unwrap();
            let mut ob = Adam::new(cfg.train.adam).unwrap();
            let (mut ra, mut rb) = (ChaCha8Rng::seed_from_u64(2), ChaCha8Rng::seed_from_u64(2));
            let mut ws = AutoencoderWorkspace::default();
            for _ in 0..3 {
                // The allocating reference: the same batches through loss_and_backward.
                let order = shuffled_indices(x.nrows(), &mut ra);
                let min_last = if hidden > 0 { 2 } else { 1 };
                let mut total = 0.0;
                for idx in mini_batches(&order, 7, min_last) {
                    let xb = x.select(Axis(0), idx);
                    a.zero_grad();
                    total += a.loss_and_backward(xb.view()).unwrap().as_f64() * idx.len() as f64;
                    oa.step(&mut a).unwrap();
                }
                let la = total / x.nrows() as f64;
                let lb = b
                    .train_epoch_into(x.view(), &mut ob, &mut rb, &mut ws)
                    .unwrap();
                assert_eq!(la, lb, "hidden {hidden}");
            }
            assert_eq!(a, b, "hidden {hidden}");
        }
    }
}
