//! The papers' models, built from the crate's layers.
//!
//! - [`PortAutoencoder`] (Paper A, SPEC §1.4): port embeddings from reference distances.
//! - [`GraphClassifier`] (Paper A, SPEC §1.6): multi-label classification of host graphs.
//! - [`HybridClassifier`] (beyond Paper A): the graph classifier's pooled host-graph vector
//!   joined with per-host statistics before the fully connected block.
//! - [`temporal`] (Paper B, SPEC §2.3–2.4): GCN, i-GCN, GCN-GRU and i-GCN-GRU host embeddings
//!   trained by link prediction.
//!
//! Each model has a `…Config` (builder, documented defaults, validated with errors naming the
//! field) whose `fit` trains a model and returns it with its [`crate::train::LearningCurve`].

pub mod autoencoder;
pub mod block;
pub mod classifier;
pub mod hybrid;
pub mod mlp;
pub mod recalibrate;
pub mod temporal;

pub use autoencoder::{AutoencoderWorkspace, PortAutoencoder, PortAutoencoderConfig};
pub use block::{FcBlock, FcBlockCache};
pub use classifier::{
    ClassifierCache, ClassifierWorkspace, GraphClassifier, GraphClassifierConfig,
};
pub use hybrid::{
    HybridCache, HybridClassifier, HybridClassifierConfig, HybridClassifierMeta, HybridInputGrads,
};
pub use mlp::{Mlp, MlpConfig};
pub use recalibrate::recalibrate_batchnorm;

/// Layer sizes shrinking geometrically from `s0` towards `s_end` (SPEC §4 A7):
/// `size_k = round(s0 · (s_end / s0)^(k / K))` for `k = 0..K` (so `size_0 = s0`), each at
/// least 1. Returns `K` sizes.
///
/// ```
/// use darknet_nn::model::geometric_sizes;
/// assert_eq!(geometric_sizes(128, 7, 4), vec![128, 62, 30, 14]);
/// assert_eq!(geometric_sizes(1024, 16, 2), vec![1024, 128]);
/// assert!(geometric_sizes(10, 2, 0).is_empty());
/// ```
pub fn geometric_sizes(s0: usize, s_end: usize, k_count: usize) -> Vec<usize> {
    let (a, b) = (s0 as f64, s_end.max(1) as f64);
    (0..k_count)
        .map(|k| ((a * (b / a).powf(k as f64 / k_count as f64)).round() as usize).max(1))
        .collect()
}
