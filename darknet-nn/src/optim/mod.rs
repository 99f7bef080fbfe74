//! Optimizers. They walk a model's parameters through [`crate::HasParams`].

pub mod adam;

pub use adam::{Adam, AdamConfig, AdamState, Moments};
