//! The hybrid classifier (host graph + per-host statistics): gradients against finite
//! differences, learning a task that needs both inputs, determinism, save / load, errors.

use darknet_nn::batch::{Graph, GraphBatch};
use darknet_nn::gradcheck::{check_gradients, GradCheckConfig};
use darknet_nn::loss::bce_with_logits;
use darknet_nn::model::{
    GraphClassifier, GraphClassifierConfig, HybridClassifier, HybridClassifierConfig,
};
use darknet_nn::persist::{load, save};
use darknet_nn::{HasParams, Mode, NnError, TrainConfig};
use ndarray::{arr0, Array2, ArrayD, Axis, Ix2, Slice};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use sprs::{CsMat, TriMat};

fn ring(n: usize) -> CsMat<f64> {
    let mut t = TriMat::new((n, n));
    for i in 0..n {
        let j = (i + 1) % n;
        if i != j {
            t.add_triplet(i, j, 1.0 + i as f64);
            t.add_triplet(j, i, 1.0 + i as f64);
        }
    }
    t.to_csr()
}

/// `n` graphs whose features carry label 0 (sign) and statistics that carry label 1 (a
/// large or a small value in column 0, noise in column 1).
fn toy(n: usize) -> (Vec<Graph<f64>>, Array2<f64>, Array2<f64>) {
    let graphs = (0..n)
        .map(|g| {
            let nodes = 2 + g % 3;
            let sign = if g % 2 == 0 { 1.0 } else { -1.0 };
            let f = Array2::from_shape_fn((nodes, 3), |(i, j)| sign * (0.5 + 0.1 * (i + j) as f64));
            Graph::new(&ring(nodes), f).unwrap()
        })
        .collect();
    let stats = Array2::from_shape_fn((n, 2), |(g, j)| {
        if j == 0 {
            if g % 4 < 2 {
                120.0 + g as f64
            } else {
                3.0 + 0.5 * g as f64
            }
        } else {
            ((g * 7) % 5) as f64
        }
    });
    let labels = Array2::from_shape_fn((n, 2), |(g, l)| {
        let on = if l == 0 { g % 2 == 0 } else { g % 4 < 2 };
        if on {
            1.0
        } else {
            0.0
        }
    });
    (graphs, stats, labels)
}

fn to_f32(graphs: &[Graph<f64>]) -> Vec<Graph<f32>> {
    graphs
        .iter()
        .map(|g| {
            Graph::from_normalized(
                g.adj.map(|&v| v as f32),
                None,
                g.features.mapv(|v| v as f32),
            )
            .unwrap()
        })
        .collect()
}

#[test]
fn layer_sizes_join_the_statistics() {
    let cfg = HybridClassifierConfig::default();
    let m =
        HybridClassifier::<f32>::new(cfg, 36, 33, 7, &mut ChaCha8Rng::seed_from_u64(0)).unwrap();
    // Same sizes as the graph classifier, the first FC layer takes 62 + 33 inputs.
    assert_eq!(m.gcn[1].out_dim(), 62);
    assert_eq!(m.fc[0].linear.weight.value.shape(), &[30, 62 + 33]);
    assert_eq!(m.fc[1].linear.weight.value.shape(), &[14, 30]);
    assert_eq!(m.output.weight.value.shape(), &[7, 14]);
    // Without FC blocks the output layer takes the joined vector.
    let m = HybridClassifier::<f32>::new(
        HybridClassifierConfig::default().fc_layers(0).gcn_layers(1),
        4,
        3,
        2,
        &mut ChaCha8Rng::seed_from_u64(0),
    )
    .unwrap();
    assert_eq!(m.output.in_dim(), 128 + 3);
}

fn check_whole_model(fc_layers: usize) {
    let (graphs, stats, labels) = toy(4);
    let batch = GraphBatch::stack(&graphs, &[0, 1, 2, 3]).unwrap();
    let cfg = HybridClassifierConfig::default()
        .first_size(4)
        .gcn_layers(2)
        .fc_layers(fc_layers)
        .pos_weight(Some(vec![2.0, 0.5]));
    let mut m =
        HybridClassifier::<f64>::new(cfg, 3, 2, 2, &mut ChaCha8Rng::seed_from_u64(5)).unwrap();
    // A standardization that is not the identity, so its gradient is checked too.
    m.fit_standardization(stats.view()).unwrap();
    let pw = Some(ndarray::arr1(&[2.0, 0.5]));
    let inputs = [batch.features.clone().into_dyn(), stats.clone().into_dyn()];
    let with = |xs: &[ArrayD<f64>]| {
        let mut b = batch.clone();
        b.features = xs[0]
            .view()
            .into_dimensionality::<Ix2>()
            .unwrap()
            .to_owned();
        let s = xs[1]
            .view()
            .into_dimensionality::<Ix2>()
            .unwrap()
            .to_owned();
        (b, s)
    };
    let report = check_gradients(
        &mut m,
        &inputs,
        |m, xs| {
            let (b, s) = with(xs);
            let (logits, _) = m.forward(&b, s.view(), Mode::Train)?;
            let pw = pw.as_ref().map(|w| w.view());
            Ok(arr0(bce_with_logits(logits.view(), labels.view(), pw)?.0).into_dyn())
        },
        |m, xs, g| {
            let (b, s) = with(xs);
            let (logits, c) = m.forward(&b, s.view(), Mode::Train)?;
            let pw = pw.as_ref().map(|w| w.view());
            let (_, d) = bce_with_logits(logits.view(), labels.view(), pw)?;
            let d = d * g.first().copied().unwrap();
            let grads = m.backward(&b, &c, d.view())?;
            Ok(vec![
                Some(grads.features.into_dyn()),
                Some(grads.stats.into_dyn()),
            ])
        },
        &GradCheckConfig::default(),
    )
    .unwrap();
    assert!(report.tensors.contains(&"input.1".to_string()));
    assert!(report.tensors.iter().any(|t| t.starts_with("gcn.0")));
    assert!(report.tensors.iter().any(|t| t.starts_with("output")));
}

#[test]
fn whole_model_gradient_check_with_fc_blocks() {
    check_whole_model(1);
}

#[test]
fn whole_model_gradient_check_without_fc_blocks() {
    check_whole_model(0);
}

#[test]
fn learns_what_neither_input_alone_can() {
    let (graphs, stats, labels) = toy(16);
    let train = TrainConfig::default()
        .learning_rate(0.05)
        .batch_size(8)
        .max_epochs(150)
        .patience(0);
    let cfg = HybridClassifierConfig::default()
        .first_size(8)
        .gcn_layers(1)
        .fc_layers(1)
        .train(train);
    let (m, curve) = cfg
        .fit(&graphs, stats.view(), labels.view(), &mut |_| {})
        .unwrap();
    assert!(
        curve.final_loss().unwrap() < 0.02,
        "{:?}",
        curve.final_loss()
    );
    let pred = m.predict_graphs(&graphs, stats.view(), 5).unwrap();
    assert_eq!(pred, labels.mapv(|v| v > 0.5));
    // The graph classifier alone cannot see label 1 (it lives in the statistics only).
    let gcfg = GraphClassifierConfig::default()
        .first_size(8)
        .gcn_layers(1)
        .fc_layers(1)
        .train(train);
    let (g, gcurve): (GraphClassifier<f64>, _) =
        gcfg.fit(&graphs, labels.view(), &mut |_| {}).unwrap();
    assert!(gcurve.final_loss().unwrap() > 0.1);
    assert_ne!(
        g.predict_graphs(&graphs, 5).unwrap().column(1),
        labels.column(1).mapv(|v| v > 0.5)
    );
}

#[test]
fn same_seed_same_weights_and_scores_in_unit_interval() {
    let (graphs, stats, labels) = toy(10);
    let graphs = to_f32(&graphs);
    let (stats, labels) = (stats.mapv(|v| v as f32), labels.mapv(|v| v as f32));
    let cfg = HybridClassifierConfig::default()
        .first_size(6)
        .batch_size(4)
        .max_epochs(3);
    let (a, ca) = cfg
        .fit(&graphs, stats.view(), labels.view(), &mut |_| {})
        .unwrap();
    let (b, cb) = cfg
        .fit(&graphs, stats.view(), labels.view(), &mut |_| {})
        .unwrap();
    assert_eq!(a, b);
    assert_eq!(ca.losses(), cb.losses());
    let (c, _) = cfg
        .clone()
        .seed(1)
        .fit(&graphs, stats.view(), labels.view(), &mut |_| {})
        .unwrap();
    assert_ne!(a, c);
    let s = a.scores_graphs(&graphs, stats.view(), 3).unwrap();
    assert_eq!(s.shape(), &[10, 2]);
    assert!(s.iter().all(|&v| (0.0..=1.0).contains(&v)));
    // Batching does not change the scores.
    let s1 = a.scores_graphs(&graphs, stats.view(), 10).unwrap();
    assert!(s.iter().zip(&s1).all(|(x, y)| (x - y).abs() < 1e-6));
}

#[test]
fn save_and_load_round_trip_bit_identical() {
    let (graphs, stats, labels) = toy(8);
    let graphs = to_f32(&graphs);
    let (stats, labels) = (stats.mapv(|v| v as f32), labels.mapv(|v| v as f32));
    let cfg = HybridClassifierConfig::default()
        .first_size(6)
        .batch_size(4)
        .max_epochs(2);
    let (m, _) = cfg
        .fit(&graphs, stats.view(), labels.view(), &mut |_| {})
        .unwrap();
    let dir = std::env::temp_dir().join(format!("darknet-nn-hybrid-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (w, c) = (dir.join("hybrid.safetensors"), dir.join("hybrid.json"));
    save(&m, &w, &c).unwrap();
    let back: HybridClassifier<f32> = load(&w, &c).unwrap();
    assert_eq!(back, m);
    assert_eq!(back.stats_mean, m.stats_mean);
    assert_eq!(
        back.scores_graphs(&graphs, stats.view(), 4).unwrap(),
        m.scores_graphs(&graphs, stats.view(), 4).unwrap()
    );
    // A graph classifier's files are not a hybrid model.
    let e = load::<f32, GraphClassifier<f32>>(&w, &c).unwrap_err();
    assert!(matches!(e, NnError::ModelKind { .. }), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_input_is_an_error() {
    let (graphs, stats, labels) = toy(4);
    let cfg = HybridClassifierConfig::default()
        .first_size(4)
        .max_epochs(1);
    let first3 = |a: &Array2<f64>| a.slice_axis(Axis(0), Slice::from(0..3)).to_owned();
    // Statistics or labels without one row per graph.
    let e = cfg
        .fit(&graphs, first3(&stats).view(), labels.view(), &mut |_| {})
        .unwrap_err();
    assert!(
        matches!(e, NnError::ShapeMismatch { what: "stats", .. }),
        "{e}"
    );
    let e = cfg
        .fit(&graphs, stats.view(), first3(&labels).view(), &mut |_| {})
        .unwrap_err();
    assert!(
        matches!(e, NnError::ShapeMismatch { what: "labels", .. }),
        "{e}"
    );
    // No statistic column.
    let e = cfg
        .fit(
            &graphs,
            Array2::zeros((4, 0)).view(),
            labels.view(),
            &mut |_| {},
        )
        .unwrap_err();
    assert!(
        matches!(
            e,
            NnError::InvalidConfig {
                field: "n_stats",
                ..
            }
        ),
        "{e}"
    );
    // A non-finite statistic.
    let mut bad = stats.clone();
    bad[[2, 1]] = f64::NAN;
    let e = cfg
        .fit(&graphs, bad.view(), labels.view(), &mut |_| {})
        .unwrap_err();
    assert!(matches!(e, NnError::NonFinite { what: "stats", .. }), "{e}");
    // No graph.
    let empty: Vec<Graph<f64>> = Vec::new();
    let e = cfg
        .fit(
            &empty,
            Array2::zeros((0, 2)).view(),
            Array2::zeros((0, 2)).view(),
            &mut |_| {},
        )
        .unwrap_err();
    assert!(matches!(e, NnError::EmptyBatch { .. }), "{e}");
    // Invalid settings, each named.
    for (c, field) in [
        (cfg.clone().first_size(0), "first_size"),
        (cfg.clone().gcn_layers(0), "gcn_layers"),
        (cfg.clone().fc_layers(9), "fc_layers"),
        (cfg.clone().threshold(1.5), "threshold"),
        (cfg.clone().pos_weight(Some(vec![1.0, 0.0])), "pos_weight"),
        (cfg.clone().batch_size(0), "batch_size"),
    ] {
        let e = c
            .fit(&graphs, stats.view(), labels.view(), &mut |_| {})
            .unwrap_err();
        assert!(
            matches!(e, NnError::InvalidConfig { field: f, .. } if f == field),
            "{field}: {e}"
        );
    }
    let e = cfg
        .clone()
        .pos_weight(Some(vec![1.0]))
        .fit(&graphs, stats.view(), labels.view(), &mut |_| {})
        .unwrap_err();
    assert!(
        matches!(
            e,
            NnError::ShapeMismatch {
                what: "pos_weight",
                ..
            }
        ),
        "{e}"
    );
    // Scoring with statistics of the wrong width or row count.
    let (mut m, _) = cfg
        .fit(&graphs, stats.view(), labels.view(), &mut |_| {})
        .unwrap();
    let e = m
        .scores_graphs(&graphs, Array2::zeros((4, 3)).view(), 2)
        .unwrap_err();
    assert!(
        matches!(e, NnError::ShapeMismatch { what: "stats", .. }),
        "{e}"
    );
    let batch = GraphBatch::stack(&graphs, &[0, 1]).unwrap();
    let e = m.forward(&batch, stats.view(), Mode::Train).unwrap_err();
    assert!(
        matches!(e, NnError::ShapeMismatch { what: "stats", .. }),
        "{e}"
    );
    let e = m
        .fit_standardization(Array2::zeros((0, 2)).view())
        .unwrap_err();
    assert!(matches!(e, NnError::EmptyBatch { .. }), "{e}");
    // A model is still usable after the errors.
    assert!(m.n_params() > 0);
}
