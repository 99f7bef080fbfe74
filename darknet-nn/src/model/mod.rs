//! The papers' models, built from the crate's layers.
//!
//! - [`PortAutoencoder`] (Paper A, docs/paper-a.md#auto-encoder): port embeddings from reference
//!   distances.
//! - [`GraphClassifier`] (Paper A, docs/paper-a.md#classifier): multi-label classification of host
//!   graphs.
//! - [`HybridClassifier`] (beyond Paper A): the graph classifier's pooled host-graph vector
//!   joined with per-host statistics before the fully connected block.
//! - [`temporal`] (Paper B, docs/paper-b.md#encoders): GCN, i-GCN, GCN-GRU and i-GCN-GRU host
//!   embeddings trained by link prediction.
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
pub use mlp::{Mlp, MlpConfig, MlpMeta};
pub use recalibrate::{recalibrate_batchnorm, recalibrate_hybrid_batchnorm};

/// Layer sizes shrinking geometrically from `s0` towards `s_end` (docs/paper-a.md#layer-sizes):
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::{BatchNorm1d, Gcn, Gru, GruCell, Linear};
    use crate::model::temporal::{EdgePredictor, GcnEncoder, GcnGruEncoder, GcnStack};
    use crate::NnError;
    use ndarray::{Array1, Array2};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn lin(o: usize, i: usize) -> Linear<f64> {
        Linear::from_arrays(Array2::zeros((o, i)), Array1::zeros(o)).unwrap()
    }

    fn gcn(o: usize, i: usize) -> Gcn<f64> {
        Gcn::from_arrays(Array2::zeros((o, i)), Array1::zeros(o)).unwrap()
    }

    fn block(o: usize, i: usize) -> FcBlock<f64> {
        FcBlock::from_layers(lin(o, i), BatchNorm1d::new(o)).unwrap()
    }

    fn mismatch<T: std::fmt::Debug>(r: Result<T, NnError>, what: &str) {
        match r {
            Err(NnError::ShapeMismatch {
                what: w,
                expected,
                actual,
                ..
            }) => {
                assert_eq!(w, what);
                assert_ne!(expected, actual);
            }
            other => panic!("{what}: {other:?}"),
        }
    }

    #[test]
    fn layers_from_arrays_check_shapes() {
        let (w, b) = (Array2::<f64>::zeros((3, 2)), Array1::zeros(2));
        mismatch(Gcn::from_arrays(w.clone(), b.clone()), "bias");
        mismatch(Linear::from_arrays(w, b), "bias");
        let h = 2;
        let ok = GruCell::<f64>::from_arrays(
            Array2::zeros((3 * h, 5)),
            Array2::zeros((3 * h, h)),
            Array1::zeros(3 * h),
            Array1::zeros(3 * h),
        )
        .unwrap();
        assert_eq!((ok.input_size(), ok.hidden_size()), (5, 2));
        mismatch(
            GruCell::<f64>::from_arrays(
                Array2::zeros((3 * h, 5)),
                Array2::zeros((2 * h, h)),
                Array1::zeros(3 * h),
                Array1::zeros(3 * h),
            ),
            "weight_hh",
        );
        mismatch(
            GruCell::<f64>::from_arrays(
                Array2::zeros((h, 5)),
                Array2::zeros((3 * h, h)),
                Array1::zeros(3 * h),
                Array1::zeros(3 * h),
            ),
            "weight_ih",
        );
        mismatch(
            GruCell::<f64>::from_arrays(
                Array2::zeros((3 * h, 5)),
                Array2::zeros((3 * h, h)),
                Array1::zeros(3 * h),
                Array1::zeros(h),
            ),
            "bias_hh",
        );
        let bn = BatchNorm1d::<f64>::from_arrays(
            Array1::ones(3),
            Array1::zeros(3),
            Array1::zeros(3),
            Array1::ones(3),
        )
        .unwrap();
        assert_eq!(bn, BatchNorm1d::new(3));
        mismatch(
            BatchNorm1d::<f64>::from_arrays(
                Array1::ones(3),
                Array1::zeros(3),
                Array1::zeros(2),
                Array1::ones(3),
            ),
            "running_mean",
        );
        assert!(matches!(
            BatchNorm1d::<f64>::from_arrays(
                Array1::ones(1),
                Array1::zeros(1),
                Array1::zeros(1),
                Array1::from_elem(1, -1.0),
            ),
            Err(NnError::InvalidConfig {
                field: "running_var",
                ..
            })
        ));
        mismatch(
            FcBlock::from_layers(lin(3, 2), BatchNorm1d::new(4)),
            "bn width",
        );
    }

    #[test]
    fn classifier_and_autoencoder_from_layers() {
        let cfg = GraphClassifierConfig::default()
            .first_size(8)
            .gcn_layers(2)
            .fc_layers(1);
        let m = GraphClassifier::<f64>::new(cfg.clone(), 5, 3, &mut ChaCha8Rng::seed_from_u64(0))
            .unwrap();
        let back = GraphClassifier::from_layers(
            cfg.clone(),
            m.gcn.clone(),
            m.fc.clone(),
            m.output.clone(),
        )
        .unwrap();
        assert_eq!(back, m);
        let s = cfg.hidden_sizes(3);
        mismatch(
            GraphClassifier::from_layers(
                cfg.clone(),
                vec![gcn(s[0], 5), gcn(s[1] + 1, s[0])],
                m.fc.clone(),
                m.output.clone(),
            ),
            "hidden layer (out, in)",
        );
        mismatch(
            GraphClassifier::from_layers(cfg.clone(), m.gcn.clone(), vec![], m.output.clone()),
            "fc layer count",
        );
        mismatch(
            GraphClassifier::from_layers(cfg, m.gcn.clone(), m.fc.clone(), lin(3, 1)),
            "output weight",
        );

        let acfg = PortAutoencoderConfig::default()
            .latent_dim(2)
            .hidden_layers(1);
        let ae = PortAutoencoder::<f64>::new(acfg, 6, &mut ChaCha8Rng::seed_from_u64(0)).unwrap();
        let back = PortAutoencoder::from_layers(
            acfg,
            ae.encoder.clone(),
            ae.latent.clone(),
            ae.decoder.clone(),
            ae.output.clone(),
        )
        .unwrap();
        assert_eq!(back, ae);
        let h = acfg.hidden_sizes(6)[0];
        mismatch(
            PortAutoencoder::from_layers(
                acfg,
                ae.encoder.clone(),
                lin(3, h),
                ae.decoder.clone(),
                ae.output.clone(),
            ),
            "layer weight (out, in)",
        );
        mismatch(
            PortAutoencoder::from_layers(
                acfg,
                vec![block(h, 6), block(h, h)],
                ae.latent.clone(),
                ae.decoder.clone(),
                ae.output.clone(),
            ),
            "encoder block count",
        );
    }

    #[test]
    fn temporal_encoders_from_layers() {
        let stack = GcnStack::from_layers(vec![gcn(4, 3), gcn(2, 4)]).unwrap();
        assert_eq!((stack.in_dim(), stack.out_dim()), (3, 2));
        mismatch(
            GcnStack::from_layers(vec![gcn(4, 3), gcn(2, 5)]),
            "layer input width",
        );
        assert!(matches!(
            GcnStack::<f64>::from_layers(vec![]),
            Err(NnError::Empty { .. })
        ));
        GcnEncoder::from_layers(stack.clone(), lin(6, 2), BatchNorm1d::new(6)).unwrap();
        mismatch(
            GcnEncoder::from_layers(stack.clone(), lin(6, 3), BatchNorm1d::new(6)),
            "fc input width",
        );
        mismatch(
            GcnEncoder::from_layers(stack.clone(), lin(6, 2), BatchNorm1d::new(5)),
            "bn width",
        );
        let gru = Gru::<f64>::new(2, 6, &mut ChaCha8Rng::seed_from_u64(0));
        GcnGruEncoder::from_layers(stack.clone(), gru.clone(), BatchNorm1d::new(6)).unwrap();
        mismatch(
            GcnGruEncoder::from_layers(stack, gru, BatchNorm1d::new(2)),
            "bn width",
        );
        let other = GcnStack::from_layers(vec![gcn(3, 3)]).unwrap();
        mismatch(
            GcnGruEncoder::from_layers(
                other,
                Gru::new(2, 6, &mut ChaCha8Rng::seed_from_u64(0)),
                BatchNorm1d::new(6),
            ),
            "gru input width",
        );
        EdgePredictor::from_layers(lin(4, 12), lin(2, 4)).unwrap();
        mismatch(
            EdgePredictor::from_layers(lin(4, 11), lin(2, 4)),
            "fc1 input width (even)",
        );
        mismatch(
            EdgePredictor::from_layers(lin(4, 12), lin(3, 4)),
            "fc2 weight",
        );
    }
}
