//! Layers, one per file, each with its cache type beside it.
//!
//! Convention (see the crate doc): `forward(&self, x, ...) -> Result<(output, Cache)>` and
//! `backward(&mut self, &Cache, d_out) -> Result<d_input>`, the latter adding into the layer's
//! parameter gradients.

pub mod linear;
pub mod relu;
pub mod sigmoid;

pub use linear::{Linear, LinearCache};
pub use relu::{Relu, ReluCache};
pub use sigmoid::{sigmoid, Sigmoid, SigmoidCache};
