//! The two darknet methods as staged library APIs over the `darknet-core`, `darknet-graph`,
//! `darknet-nn` and `darknet-eval` crates, for programs that want the whole method rather than
//! its parts.
//!
//! - [`paper_a`]: multi-label classification of the hosts a darknet sees (scanners,
//!   brute-forcers, Mirai-like spreaders, ...): filters, port graph, port embeddings, per-host
//!   graphs, a GCN classifier beside an MLP baseline; train, evaluate, save, load, predict.
//! - [`paper_b`]: temporal host embeddings from daily bipartite host–port graphs (GCN, i-GCN,
//!   GCN-GRU, i-GCN-GRU, and the i-DarkVec word2vec baseline), judged by kNN.
//!
//! Nothing here prints or draws: progress and warnings reach the caller through one
//! [`progress::Observer`], errors are typed per pipeline, and the command-line programs of the
//! `darknet-examples` package are thin layers over these functions.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod paper_a;
pub mod paper_b;
pub mod progress;

pub use progress::{Event, Observer, Silent, Warning, WarningKind, Warnings};
