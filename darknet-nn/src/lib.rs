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
//! Layers are generic over the element type [`Float`]: `f32` for learning, `f64` for the
//! finite-difference checks of [`gradcheck`]. Shapes follow PyTorch (Linear weight is
//! (out_dim, in_dim)), and saved tensors use PyTorch's `state_dict` names.
//!
//! ## API for other crates
//!
//! - Write a layer as above, make it [`HasParams`] (name each [`Param`] as PyTorch would, with
//!   [`param::visit_child_params`] for sub-layers; `Vec<L>` names its elements `0.`, `1.`, ...),
//!   and test its backward with [`gradcheck::check_gradients`] in f64.
//! - Errors are [`NnError`] variants with structured fields: `ShapeMismatch { op, what,
//!   expected, actual }`, `EmptyBatch`, `NonFinite`, `NanLoss { epoch }`, `InvalidConfig
//!   { field, value, reason }`, persistence errors naming the tensor.
//! - Sparse × dense products: [`kernels::spmm_into`] (CSR, parallel over row blocks, into a
//!   caller's buffer) and [`kernels::transpose_csr`] to precompute `Âᵀ` once.
//!
//! ## Example
//!
//! ```
//! use darknet_nn::{HasParams, Linear};
//! use ndarray::array;
//! use rand::SeedableRng;
//! let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(42);
//! let mut lin = Linear::<f32>::new(2, 1, &mut rng);
//! let x = array![[1.0f32, 2.0], [3.0, 4.0]];
//! let (y, cache) = lin.forward(x.view()).unwrap();
//! assert_eq!(y.shape(), &[2, 1]);
//! lin.zero_grad();
//! let dx = lin.backward(&cache, ndarray::Array2::ones((2, 1)).view()).unwrap();
//! assert_eq!(dx.shape(), &[2, 2]);
//! assert_eq!(lin.bias.grad()[0], 2.0);
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod adjacency;
pub mod batch;
pub mod error;
pub mod float;
pub mod gradcheck;
pub mod kernels;
pub mod layers;
pub mod loss;
pub mod model;
pub mod optim;
pub mod param;
pub mod train;
pub mod word2vec;

pub use batch::{Graph, GraphBatch, GraphDataset};
pub use error::{NnError, Result};
pub use float::Float;
pub use layers::{
    BatchNorm1d, Dropout, Gcn, Linear, LinearCache, LogSoftmax, MeanPool, Relu, Sigmoid,
};
pub use model::{GraphClassifier, GraphClassifierConfig, PortAutoencoder, PortAutoencoderConfig};
pub use optim::{Adam, AdamConfig};
pub use param::{HasParams, Mode, Param, ParamMut};
pub use train::{EpochRecord, LearningCurve, TrainConfig};
pub use word2vec::{Word2Vec, Word2VecConfig, Word2VecStats};
