//! Layers, one per file, each with its cache type beside it.
//!
//! Convention (see the crate doc): `forward(&self, x, ...) -> Result<(output, Cache)>` and
//! `backward(&mut self, &Cache, d_out) -> Result<d_input>`, the latter adding into the layer's
//! parameter gradients.

pub mod batch_norm;
pub mod dropout;
pub mod gcn;
pub mod gru;
pub mod linear;
pub mod log_softmax;
pub mod pool;
pub mod relu;
pub mod sigmoid;

pub use batch_norm::{BatchNorm1d, BatchNormCache};
pub use dropout::{Dropout, DropoutCache};
pub use gcn::{Gcn, GcnCache};
pub use gru::{Gru, GruBuffers, GruCache, GruCell, GruCellCache};
pub use linear::{Linear, LinearCache};
pub use log_softmax::{LogSoftmax, LogSoftmaxCache};
pub use pool::{MeanPool, MeanPoolCache};
pub use relu::{Relu, ReluCache};
pub use sigmoid::{sigmoid, Sigmoid, SigmoidCache};
