//! Paper B's temporal host embeddings (docs/paper-b.md#encoders, docs/paper-b.md#schedules,
//! docs/choices.md: B5–B7, B9): GCN, i-GCN, GCN-GRU and i-GCN-GRU encoders trained by link
//! prediction on daily bipartite host–port graphs.
//!
//! - Input: one [`DaySnapshot`] per day (active nodes with global ids, row-normalized
//!   adjacency and its transpose, 37 node features, positive and negative host–port pairs).
//! - Encoders: [`GcnEncoder`] = GCN layers (37 → 1024 → 512, ReLU between) → Linear(512 → 128)
//!   → ReLU → BatchNorm1d(128); [`GcnGruEncoder`] = the same GCN on each of the H + 1 graphs of
//!   a window → GRU(512 → 128) from h0 = 0 → BatchNorm1d on the last hidden state.
//! - Head: [`EdgePredictor`] = concat(emb_src, emb_dst) → Linear(256 → 64) → ReLU →
//!   Linear(64 → 2) → log-softmax, NLL loss, class 1 = edge exists; full batch, Adam (lr 1e-3,
//!   weight decay 5e-3).
//! - Schedules: [`TemporalKind`]; [`TemporalConfig::fit`] returns per-day host embeddings
//!   ([`DayEmbeddings`]), the learning curve and the training time.
//! - Without node features the input is the identity of the node universe; the first layer's
//!   product is a column lookup of its (out, in) weight (no dense identity is built).
//!
//! **Node universe.** Ids are global across days; a snapshot stores only its active rows. A GRU
//! window is computed for the rows that matter: the target day's active nodes when training
//! (their pairs carry the loss), the embedded day's active nodes when embedding. On a day of
//! the window where such a node is absent it is an isolated node (self-loop only, zero
//! features, or its one-hot id without features), exactly the row the reference code's global
//! matrices hold for it, so its hidden state keeps evolving through the GRU with that constant
//! input; each day's GCN runs on that day's own graph ([`GcnGruEncoder::forward_rows`]). The
//! GRU starts from h0 = 0 for every window, as the reference code. BatchNorm's batch is the
//! rows computed (the day's active nodes), not the reference code's whole universe.
//!
//! ```
//! use darknet_nn::model::temporal::{DaySnapshot, TemporalConfig, TemporalKind};
//! use darknet_nn::adjacency::normalize_row_self_loops;
//! use darknet_nn::kernels::transpose_csr;
//! use ndarray::Array2;
//! use sprs::TriMat;
//! // Day graph: hosts 0, 1 (rows 0, 1), ports 2, 3; edges 0–2 and 1–3.
//! let mut t = TriMat::new((4, 4));
//! t.add_triplet(0, 2, 1.0f32);
//! t.add_triplet(1, 3, 1.0);
//! t.add_triplet(2, 0, 1.0); // both directions: A + Aᵀ
//! t.add_triplet(3, 1, 1.0);
//! let adj = normalize_row_self_loops(&t.to_csr()).unwrap();
//! let adj_t = transpose_csr(&adj);
//! let x = Array2::from_shape_fn((4, 3), |(i, j)| (i + j) as f32 / 6.0);
//! let day = DaySnapshot::new(vec![0, 1, 2, 3], 2, adj, adj_t, x,
//!     vec![(0, 2), (1, 3)], vec![(0, 3), (1, 2)]).unwrap();
//! let cfg = TemporalConfig::new(TemporalKind::IncrementalGcn)
//!     .gcn_dims(vec![8, 4]).emb_dim(4).predictor_hidden(4);
//! let run = cfg.fit(&[day.clone(), day], &mut |_| {}).unwrap();
//! let e = run.embeddings[1].as_ref().unwrap();
//! assert_eq!(e.host_ids, vec![0, 1]);
//! assert_eq!(e.embeddings.shape(), &[2, 4]);
//! ```

mod encoder;
mod rows;
mod schedule;
mod snapshot;

pub use encoder::{
    EdgePredictor, EdgePredictorCache, GcnEncoder, GcnEncoderCache, GcnGruEncoder,
    GcnGruEncoderCache, GcnStack, GcnStackCache, NodeInput, WindowGraph,
};
pub use rows::{row_map, row_map_into, RowsCache, RowsDay, RowsWindow};
pub use schedule::{
    gcn_embed, gcn_step, gcn_step_into, gru_embed, gru_step, gru_step_into, BnInference,
    DayEmbeddings, GcnGruLinkModel, GcnLinkModel, GruTestWindow, LinkModel, Monitor, StepWorkspace,
    TemporalConfig, TemporalKind, TemporalModel, TemporalModelMeta, TemporalProgress, TemporalRun,
};
pub use snapshot::DaySnapshot;
