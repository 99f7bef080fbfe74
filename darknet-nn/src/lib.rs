//! # darknet-nn
//!
//! Hand-written neural networks on `ndarray` and `sprs`: layers with explicit caches, losses,
//! Adam, the papers' models, training loops, word2vec and persistence. This crate knows arrays
//! and sparse matrices, nothing about packets: the graph crate builds the matrices, this crate
//! learns from them.
//!
//! ## The layer convention
//!
//! Every layer is a plain struct of [`Param`]s with two methods:
//!
//! - `forward(&self, x, ...) -> Result<(output, Cache)>`: the output and a cache value holding
//!   what the backward pass needs (inputs, masks, normalized activations). Extra arguments say
//!   what the layer needs: a [`Mode`] (train / eval) for BatchNorm and Dropout, a generator for
//!   Dropout, the normalized adjacency for GCN. Layers with running state (BatchNorm) take
//!   `&mut self` in forward because training mode updates the running statistics, as PyTorch.
//! - `backward(&mut self, &Cache, d_out) -> Result<d_input>`: the gradient with respect to the
//!   input, **adding** into the parameters' gradients (call [`HasParams::zero_grad`] first).
//!
//! Nothing is stored in the layer between the two calls, so one layer can be applied to several
//! inputs (one GCN over H snapshots) and back-propagated through each with its own cache.
//!
//! **Hot loops reuse buffers.** Next to `forward` / `backward`, the layers and models used in
//! training have `forward_into` / `backward_into` variants that write into a cache, outputs and
//! temporaries owned by the caller and reshaped in place: a cache kept between steps (a
//! `Default` value to start) makes every later step allocation-free once its buffers have
//! reached the largest batch, with results identical bit for bit to the allocating calls.
//! [`GraphClassifierConfig::fit`] and Paper B's schedules do this through
//! [`model::ClassifierWorkspace`] and [`model::temporal::StepWorkspace`]; the only allocation
//! left per step is the packing buffer matrixmultiply takes for each dense product
//! (`tests/alloc_free.rs` counts them).
//!
//! Layers are generic over the element type [`Float`]: `f32` for learning, `f64` for the
//! finite-difference checks of [`gradcheck`]. Shapes follow PyTorch (Linear and Gcn weights are
//! (out_dim, in_dim)), and saved tensors use PyTorch's `state_dict` names.
//!
//! ## API for other crates
//!
//! - **Layers** ([`layers`]): [`Linear`], [`Relu`], [`Sigmoid`], [`Dropout`], [`BatchNorm1d`],
//!   [`Gcn`], [`MeanPool`], [`LogSoftmax`] (and the GRU); write new ones the same way, make them
//!   [`HasParams`] (name each [`Param`] as PyTorch would, with [`param::visit_child_params`] for
//!   sub-layers; `Vec<L>` names its elements `0.`, `1.`, ...), and test their backward with
//!   [`gradcheck::check_gradients`] in f64. Every layer and model can be built from arrays
//!   with shape checks (`Linear::from_arrays`, `Gcn::from_arrays`, `GruCell::from_arrays`,
//!   `BatchNorm1d::from_arrays`; `GraphClassifier::from_layers` and the other models'
//!   `from_layers`), e.g. to import weights trained with PyTorch.
//! - **Losses** ([`loss`]): `bce_with_logits`, `nll`, `mse`, each `-> (loss, gradient)`.
//! - **Training** ([`optim::Adam`], [`train`]): zero gradients, run forward/backward, call
//!   `adam.step(&mut model)` (AdamW with [`AdamConfig::adamw`]; checkpoint and resume with
//!   [`persist::save_adam`] / [`persist::load_adam`]); [`train::run_epochs`] runs epochs with early stopping, the
//!   learning curve, the progress callback `FnMut(&EpochRecord)` and NaN detection;
//!   [`train::shuffled_indices`] and [`train::mini_batches`] batch with a seed.
//! - **Graphs** ([`adjacency`], [`kernels`], [`batch`]): normalize once
//!   ([`adjacency::normalize_sym_self_loops`], [`adjacency::normalize_row_self_loops`]),
//!   precompute `Âᵀ` once ([`kernels::transpose_csr`]), multiply with [`kernels::spmm_into`]
//!   (CSR, parallel over row blocks, into a caller's buffer). Batches of small graphs are
//!   [`GraphBatch`] (block-diagonal adjacency, features, offsets), refilled in place by a
//!   [`GraphBatchBuffer`]; feed graphs stored elsewhere by implementing
//!   [`GraphDataset::batch_into`] with [`GraphBatchBuffer::stack_from`].
//! - **Naming**: a call ending in `_into` writes into buffers or a workspace the caller owns
//!   and keeps between calls; the call without the suffix allocates them and calls it.
//! - **Models** ([`model`]): [`PortAutoencoderConfig::fit`] → [`PortAutoencoder::encode`];
//!   [`GraphClassifierConfig::fit`] → [`GraphClassifier::scores`] / `predict`.
//! - **Persistence** ([`persist`]): `save(&model, weights, config)` / `load`, safetensors with
//!   PyTorch `state_dict` names and layouts plus a JSON config; implement [`persist::Persist`]
//!   for a new model. Loading treats both files as untrusted: sizes are checked against the
//!   tensor headers before anything is allocated, and non-finite weights are refused.
//! - **Errors** are [`NnError`] variants with structured fields: `ShapeMismatch { op, what,
//!   expected, actual }`, `EmptyBatch`, `NonFinite`, `NanLoss { epoch }`, `InvalidConfig
//!   { field, value, reason }`, persistence errors naming the tensor and shapes.
//!
//! ## Example: a two-layer GCN on a toy graph
//!
//! Two triangles joined by one edge; nodes of the first triangle are class 0, of the second
//! class 1. A 2-layer GCN (features → 8 → 2) with log-softmax and NLL, trained by Adam:
//!
//! ```
//! use darknet_nn::adjacency::normalize_sym_self_loops;
//! use darknet_nn::layers::{Gcn, LogSoftmax, Relu};
//! use darknet_nn::loss::nll;
//! use darknet_nn::{Adam, AdamConfig, HasParams};
//! use ndarray::Array2;
//! use rand::SeedableRng;
//! use sprs::TriMat;
//!
//! let edges = [(0, 1), (1, 2), (0, 2), (2, 3), (3, 4), (4, 5), (3, 5)];
//! let mut t = TriMat::new((6, 6));
//! for &(i, j) in &edges {
//!     t.add_triplet(i, j, 1.0f32);
//!     t.add_triplet(j, i, 1.0f32);
//! }
//! let adj = normalize_sym_self_loops(&t.to_csr()).unwrap(); // symmetric: its own transpose
//! let x = Array2::from_shape_fn((6, 3), |(i, j)| if j == 0 { i as f32 / 5.0 } else { 1.0 });
//! let classes = [0, 0, 0, 1, 1, 1];
//!
//! let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
//! let mut gcn1 = Gcn::<f32>::new(3, 8, &mut rng);
//! let mut gcn2 = Gcn::<f32>::new(8, 2, &mut rng);
//! let mut adam1 = Adam::new(AdamConfig::default().learning_rate(0.05)).unwrap();
//! let mut adam2 = Adam::new(AdamConfig::default().learning_rate(0.05)).unwrap();
//! let mut losses = Vec::new();
//! for _ in 0..100 {
//!     gcn1.zero_grad();
//!     gcn2.zero_grad();
//!     let (h, c1) = gcn1.forward(&adj, x.view()).unwrap();
//!     let (h, r) = Relu.forward(h.view());
//!     let (z, c2) = gcn2.forward(&adj, h.view()).unwrap();
//!     let (logp, ls) = LogSoftmax.forward(z.view());
//!     let (loss, d) = nll(logp.view(), &classes).unwrap();
//!     let d = LogSoftmax.backward(&ls, d.view()).unwrap();
//!     let d = gcn2.backward(&adj, &c2, d.view()).unwrap();
//!     let d = Relu.backward(&r, d.view()).unwrap();
//!     gcn1.backward(&adj, &c1, d.view()).unwrap();
//!     adam1.step(&mut gcn1).unwrap();
//!     adam2.step(&mut gcn2).unwrap();
//!     losses.push(loss);
//! }
//! assert!(losses[99] < 0.5 * losses[0], "{} -> {}", losses[0], losses[99]);
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod adjacency;
pub mod batch;
mod buffer;
pub mod error;
pub mod float;
pub mod gradcheck;
pub mod kernels;
pub mod layers;
pub mod loss;
pub mod model;
pub mod optim;
pub mod param;
pub mod persist;
pub mod train;
pub mod word2vec;

pub use batch::{Graph, GraphBatch, GraphBatchBuffer, GraphDataset, GraphRef};
pub use error::{NnError, Result};
pub use float::Float;
pub use layers::{
    BatchNorm1d, Dropout, Gcn, Linear, LinearCache, LogSoftmax, MeanPool, Relu, Sigmoid,
};
pub use model::{GraphClassifier, GraphClassifierConfig, PortAutoencoder, PortAutoencoderConfig};
pub use optim::{Adam, AdamConfig, AdamState};
pub use param::{HasParams, Mode, Param, ParamMut};
pub use train::{EpochRecord, LearningCurve, TrainConfig};
pub use word2vec::{Word2Vec, Word2VecConfig, Word2VecStats};
