//! # darknet-nn
//!
//! Hand-written neural networks on ndarray and sprs: layers with explicit caches, losses, Adam, the papers' models, word2vec and persistence.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod error;

pub use error::{NnError, Result};
