//! # darknet-eval
//!
//! Metrics (scikit-learn definitions), thresholds, seeded splits, ML-ROS oversampling, kNN and reports.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod error;

pub use error::{EvalError, Result};
