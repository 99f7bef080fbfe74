//! Paper B's encoders and schedules: gradient checks of encoder + predictor, training on tiny
//! synthetic bipartite graphs, determinism, errors.

use darknet_nn::adjacency::normalize_row_self_loops;
use darknet_nn::gradcheck::{check_gradients, GradCheckConfig};
use darknet_nn::kernels::transpose_csr;
use darknet_nn::model::temporal::{
    BnInference, DaySnapshot, EdgePredictor, GcnEncoder, GcnGruEncoder, GruTestWindow, NodeInput,
    TemporalConfig, TemporalKind, TemporalModel, WindowGraph,
};
use darknet_nn::param::visit_child_params;
use darknet_nn::{Float, HasParams, Mode, NnError, ParamMut};
use ndarray::{Array2, ArrayD, Ix2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sprs::{CsMat, TriMat};

/// A day: `n_hosts` hosts and `n_ports` ports with global ids `ids` (hosts first, ascending);
/// host h talks to ports of its group (h % 2 picks the even or odd ports), plus noise.
fn day<T: Float>(ids: Vec<u32>, n_hosts: usize, seed: u64, n_feat: usize) -> DaySnapshot<T> {
    let n = ids.len();
    let n_ports = n - n_hosts;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut tri = TriMat::new((n, n));
    let mut pos = Vec::new();
    let mut neg = Vec::new();
    for h in 0..n_hosts {
        for p in 0..n_ports {
            let row = (n_hosts + p) as u32;
            if p % 2 == h % 2 {
                let w = T::of(1.0 + rng.random_range(0.0..3.0f64).floor());
                tri.add_triplet(h, n_hosts + p, w);
                tri.add_triplet(n_hosts + p, h, w);
                pos.push((h as u32, row));
            } else {
                neg.push((h as u32, row));
            }
        }
    }
    let a: CsMat<T> = tri.to_csr();
    let adj = normalize_row_self_loops(&a).unwrap();
    let adj_t = transpose_csr(&adj);
    let x = Array2::from_shape_fn((n, n_feat), |(i, j)| {
        let group = if i < n_hosts {
            i % 2
        } else {
            (i - n_hosts) % 2
        };
        T::of(((group * 3 + j) as f64 * 0.37).sin() + rng.random_range(-0.1..0.1))
    });
    neg.truncate(pos.len());
    DaySnapshot::new(ids, n_hosts, adj, adj_t, x, pos, neg).unwrap()
}

/// Encoder + predictor in f64, for the gradient checks.
struct GcnLink {
    enc: GcnEncoder<f64>,
    pred: EdgePredictor<f64>,
}

impl HasParams<f64> for GcnLink {
    fn visit_params(&mut self, f: &mut dyn FnMut(&str, ParamMut<'_, f64>)) {
        visit_child_params("encoder", &mut self.enc, f);
        visit_child_params("predictor", &mut self.pred, f);
    }
}

fn pairs(s: &DaySnapshot<f64>) -> (Vec<usize>, Vec<usize>) {
    s.positives
        .iter()
        .chain(&s.negatives)
        .map(|&(a, b)| (a as usize, b as usize))
        .unzip()
}

fn check_gcn(identity: bool) {
    let s = day::<f64>(vec![0, 1, 2, 5, 6, 7, 8], 3, 1, 4);
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let in_dim = if identity { 9 } else { 4 };
    let mut m = GcnLink {
        enc: GcnEncoder::new(in_dim, &[5, 4], 3, &mut rng),
        pred: EdgePredictor::new(3, 4, &mut rng),
    };
    let (src, dst) = pairs(&s);
    fn input(s: &DaySnapshot<f64>, identity: bool) -> NodeInput<'_, f64> {
        if identity {
            NodeInput::Identity(&s.node_ids)
        } else {
            NodeInput::Features(s.features.view())
        }
    }
    let report = check_gradients(
        &mut m,
        &[s.features.clone().into_dyn()],
        |m, _| {
            let (e, _) = m.enc.forward(&s.adj, input(&s, identity), Mode::Train)?;
            Ok(m.pred.forward(e.view(), &src, &dst)?.0.into_dyn())
        },
        |m, _, g| {
            let (e, ec) = m.enc.forward(&s.adj, input(&s, identity), Mode::Train)?;
            let (_, pc) = m.pred.forward(e.view(), &src, &dst)?;
            let de = m
                .pred
                .backward(&pc, g.view().into_dimensionality::<Ix2>().unwrap())?;
            m.enc.backward(&s.adj_t, &ec, de.view())?;
            Ok(vec![None])
        },
        &GradCheckConfig::default(),
    )
    .unwrap();
    assert!(report.tensors.iter().any(|t| t == "encoder.gcn.0.weight"));
    assert!(report.tensors.iter().any(|t| t == "predictor.fc2.bias"));
}

#[test]
fn gcn_encoder_and_predictor_match_finite_differences() {
    check_gcn(false);
}

#[test]
fn gcn_identity_input_matches_finite_differences() {
    check_gcn(true);
}

struct GruLink {
    enc: GcnGruEncoder<f64>,
    pred: EdgePredictor<f64>,
}

impl HasParams<f64> for GruLink {
    fn visit_params(&mut self, f: &mut dyn FnMut(&str, ParamMut<'_, f64>)) {
        visit_child_params("encoder", &mut self.enc, f);
        visit_child_params("predictor", &mut self.pred, f);
    }
}

#[test]
fn gcn_gru_encoder_and_predictor_match_finite_differences() {
    // Three days over the same 6 rows, different edges and features.
    let days: Vec<DaySnapshot<f64>> = (0..3)
        .map(|t| day(vec![0, 1, 2, 3, 4, 5], 3, 10 + t, 3))
        .collect();
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut m = GruLink {
        enc: GcnGruEncoder::new(3, &[4, 3], 3, &mut rng),
        pred: EdgePredictor::new(3, 3, &mut rng),
    };
    let (src, dst) = pairs(&days[2]);
    fn window(d: &[DaySnapshot<f64>]) -> Vec<WindowGraph<'_, f64>> {
        d.iter()
            .map(|s| WindowGraph {
                adj: &s.adj,
                adj_t: &s.adj_t,
                input: NodeInput::Features(s.features.view()),
            })
            .collect()
    }
    let report = check_gradients(
        &mut m,
        &[ArrayD::zeros(vec![1])],
        |m, _| {
            let (e, _) = m.enc.forward(&window(&days), Mode::Train)?;
            Ok(m.pred.forward(e.view(), &src, &dst)?.0.into_dyn())
        },
        |m, _, g| {
            let w = window(&days);
            let (e, ec) = m.enc.forward(&w, Mode::Train)?;
            let (_, pc) = m.pred.forward(e.view(), &src, &dst)?;
            let de = m
                .pred
                .backward(&pc, g.view().into_dimensionality::<Ix2>().unwrap())?;
            m.enc.backward(&w, &ec, de.view())?;
            Ok(vec![None])
        },
        &GradCheckConfig::default(),
    )
    .unwrap();
    assert!(report
        .tensors
        .iter()
        .any(|t| t == "encoder.gru.weight_hh_l0"));
}

/// Four days over a universe of 8 hosts (ids 0..8) and 4 ports (ids 8..12); host 7 is absent
/// on days 1 and 3, host 6 only active on day 2.
fn days(n_feat: usize) -> Vec<DaySnapshot<f32>> {
    (0..4u64)
        .map(|t| {
            let hosts: Vec<u32> = (0..8)
                .filter(|&h| !(h == 7 && t % 2 == 1) && (h != 6 || t == 2))
                .collect();
            let n_hosts = hosts.len();
            let mut ids = hosts;
            ids.extend(8..12);
            day(ids, n_hosts, 100 + t, n_feat)
        })
        .collect()
}

fn small(kind: TemporalKind) -> TemporalConfig {
    TemporalConfig::new(kind)
        .gcn_dims(vec![16, 8])
        .emb_dim(6)
        .predictor_hidden(8)
        .history(2)
        .train_days(4)
        .max_epochs(30)
        .patience(0)
        .seed(11)
}

#[test]
fn defaults_follow_spec() {
    let c = TemporalConfig::default();
    assert_eq!(c.gcn_dims, vec![1024, 512]);
    assert_eq!((c.emb_dim, c.predictor_hidden), (128, 64));
    assert_eq!((c.adam.learning_rate, c.adam.weight_decay), (1e-3, 5e-3));
    assert_eq!(
        (c.max_epochs, c.patience, c.history, c.train_days),
        (50, 3, 5, 20)
    );
    assert_eq!(c.epochs_per_day(), 1);
    assert_eq!(c.clone().use_features(false).epochs_per_day(), 5);
    assert_eq!(c.bn_inference, BnInference::RunningStats);
    assert_eq!(c.gru_test_window, GruTestWindow::IncludeDay);
}

#[test]
fn static_gcn_loss_decreases_and_embeds_every_day() {
    let d = days(5);
    let cfg = small(TemporalKind::Gcn).adam(TemporalConfig::default().adam.learning_rate(1e-2));
    let mut calls = 0;
    let run = cfg.fit(&d, &mut |_| calls += 1).unwrap();
    assert_eq!(calls, run.history.len());
    let day0: Vec<f64> = run
        .history
        .iter()
        .filter(|p| p.day == 0)
        .map(|p| p.loss)
        .collect();
    assert_eq!(day0.len(), 30);
    assert!(day0[29] < 0.5 * day0[0], "{day0:?}");
    for (t, e) in run.embeddings.iter().enumerate() {
        let e = e.as_ref().unwrap();
        assert_eq!(e.host_ids, d[t].host_ids());
        assert_eq!(e.embeddings.shape(), &[d[t].n_hosts, 6]);
        assert!(e.embeddings.iter().all(|v| v.is_finite()));
    }
    assert!(run.train_secs > 0.0);
}

#[test]
fn early_stopping_stops_the_static_gcn() {
    let d = days(5);
    let run = small(TemporalKind::Gcn)
        .max_epochs(50)
        .patience(1)
        .adam(TemporalConfig::default().adam.learning_rate(0.5))
        .fit(&d[..1], &mut |_| {})
        .unwrap();
    assert!(run.history.len() < 50, "{}", run.history.len());
}

#[test]
fn incremental_gcn_trains_each_day_without_features() {
    let d = days(5);
    let run = small(TemporalKind::IncrementalGcn)
        .use_features(false)
        .fit(&d, &mut |_| {})
        .unwrap();
    // 5 epochs per day without features.
    assert_eq!(run.history.len(), 4 * 5);
    let TemporalModel::Gcn(m) = &run.model else {
        panic!("GCN model expected")
    };
    // Identity input: the first weight has one column per node of the universe.
    assert_eq!(m.encoder.gcn.layers[0].weight.value.shape(), &[16, 12]);
    assert!(run.embeddings.iter().all(|e| e.is_some()));
}

#[test]
fn gcn_gru_trains_on_windows_then_embeds_all_days() {
    let d = days(5);
    let cfg = small(TemporalKind::GcnGru).adam(TemporalConfig::default().adam.learning_rate(1e-2));
    let run = cfg.fit(&d, &mut |_| {}).unwrap();
    // Targets 2 and 3 per epoch.
    assert_eq!(run.history.len(), 2 * 30);
    let first = run.history[0].loss + run.history[1].loss;
    let last = run.history[58].loss + run.history[59].loss;
    assert!(last < 0.5 * first, "{first} -> {last}");
    assert!(run.embeddings.iter().all(|e| e.is_some()));
    // Day 2 has host 6 (absent before): it still gets an embedding.
    let e2 = run.embeddings[2].as_ref().unwrap();
    assert!(e2.host_ids.contains(&6));
    // The code's window gives no embedding on day 0.
    let run = cfg
        .clone()
        .max_epochs(1)
        .gru_test_window(GruTestWindow::CodeWindow)
        .fit(&d, &mut |_| {})
        .unwrap();
    assert!(run.embeddings[0].is_none());
    assert!(run.embeddings[1].is_some());
    assert_eq!(
        run.embeddings[3].as_ref().unwrap().host_ids,
        d[3].host_ids()
    );
}

#[test]
fn incremental_gcn_gru_starts_at_history() {
    let d = days(5);
    let run = small(TemporalKind::IncrementalGcnGru)
        .bn_inference(BnInference::BatchStats)
        .fit(&d, &mut |_| {})
        .unwrap();
    assert!(run.embeddings[0].is_none() && run.embeddings[1].is_none());
    assert!(run.embeddings[2].is_some() && run.embeddings[3].is_some());
    assert_eq!(run.history.len(), 2);
    // Batch statistics: each embedding column has mean ≈ 0 over the union rows; over the day's
    // hosts it is at least finite.
    assert!(run.embeddings[3]
        .as_ref()
        .unwrap()
        .embeddings
        .iter()
        .all(|v| v.is_finite()));
}

#[test]
fn identical_seeds_give_identical_embeddings() {
    let d = days(5);
    for kind in [TemporalKind::Gcn, TemporalKind::IncrementalGcnGru] {
        let cfg = small(kind).max_epochs(3);
        let a = cfg.fit(&d, &mut |_| {}).unwrap();
        let b = cfg.fit(&d, &mut |_| {}).unwrap();
        assert_eq!(a.embeddings, b.embeddings);
        assert_eq!(a.model, b.model);
        let c = cfg.clone().seed(12).fit(&d, &mut |_| {}).unwrap();
        assert_ne!(a.embeddings, c.embeddings);
    }
}

#[test]
fn snapshot_errors_are_typed() {
    let s = day::<f32>(vec![0, 1, 2, 3], 2, 0, 2);
    let e = DaySnapshot::new(
        vec![0, 2, 1, 3],
        2,
        s.adj.clone(),
        s.adj_t.clone(),
        s.features.clone(),
        vec![],
        vec![],
    );
    assert!(matches!(
        e,
        Err(NnError::InvalidNodeIds { row: 2, id: 1, .. })
    ));
    let e = DaySnapshot::new(
        vec![0, 1, 2],
        2,
        s.adj.clone(),
        s.adj_t.clone(),
        s.features.clone(),
        vec![],
        vec![],
    );
    assert!(matches!(e, Err(NnError::ShapeMismatch { what: "adj", .. })));
    let e = DaySnapshot::new(
        vec![0, 1, 2, 3],
        2,
        s.adj.clone(),
        s.adj_t.clone(),
        s.features.clone(),
        vec![(0, 9)],
        vec![],
    );
    assert!(matches!(
        e,
        Err(NnError::ShapeMismatch {
            what: "positives",
            ..
        })
    ));
    let e = DaySnapshot::new(
        vec![0, 1, 2, 3],
        5,
        s.adj.clone(),
        s.adj_t.clone(),
        s.features.clone(),
        vec![],
        vec![],
    );
    assert!(matches!(
        e,
        Err(NnError::ShapeMismatch {
            what: "n_hosts",
            ..
        })
    ));
    // A node id beyond the configured universe.
    let r = small(TemporalKind::IncrementalGcn)
        .n_nodes(3)
        .fit(std::slice::from_ref(&s), &mut |_| {});
    assert!(matches!(r, Err(NnError::InvalidNodeIds { id: 3, .. })));
    // A day without pairs cannot be trained on.
    let mut bare = s.clone();
    bare.positives.clear();
    bare.negatives.clear();
    let r = small(TemporalKind::Gcn).fit(&[bare], &mut |_| {});
    assert!(matches!(r, Err(NnError::Empty { .. })));
    assert!(matches!(
        small(TemporalKind::Gcn).fit(&[], &mut |_| {}),
        Err(NnError::Empty { .. })
    ));
    // GCN-GRU needs at least one full training window.
    let d = days(3);
    assert!(matches!(
        small(TemporalKind::GcnGru).fit(&d[..2], &mut |_| {}),
        Err(NnError::Empty { .. })
    ));
}

#[test]
fn invalid_configs_are_rejected() {
    let d = days(3);
    let cases = [
        (small(TemporalKind::Gcn).gcn_dims(vec![]), "gcn_dims"),
        (small(TemporalKind::Gcn).emb_dim(0), "emb_dim"),
        (
            small(TemporalKind::Gcn).predictor_hidden(0),
            "predictor_hidden",
        ),
        (small(TemporalKind::Gcn).max_epochs(0), "max_epochs"),
        (
            small(TemporalKind::IncrementalGcn).incremental_epochs(0),
            "incremental_epochs",
        ),
        (small(TemporalKind::GcnGru).train_days(2), "train_days"),
    ];
    for (cfg, name) in cases {
        match cfg.fit(&d, &mut |_| {}) {
            Err(NnError::InvalidConfig { field, .. }) => assert_eq!(field, name),
            other => panic!("{name}: {:?}", other.map(|r| r.history.len())),
        }
    }
}

#[test]
fn nan_features_are_rejected() {
    let mut d = days(3);
    d[0].features[[0, 0]] = f32::NAN;
    let r = small(TemporalKind::Gcn).fit(&d, &mut |_| {});
    assert!(matches!(
        r,
        Err(NnError::NonFinite {
            what: "features",
            ..
        })
    ));
    let s = &d[0];
    let r = DaySnapshot::new(
        s.node_ids.clone(),
        s.n_hosts,
        s.adj.clone(),
        s.adj_t.clone(),
        s.features.clone(),
        vec![],
        vec![],
    );
    assert!(matches!(
        r,
        Err(NnError::NonFinite {
            what: "features",
            ..
        })
    ));
}

#[test]
fn trained_models_round_trip_through_persistence() {
    use darknet_nn::persist::{load, save};
    let d = days(5);
    let dir = std::env::temp_dir().join(format!("temporal_persist_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (kind, feats) in [
        (TemporalKind::IncrementalGcn, false),
        (TemporalKind::IncrementalGcnGru, true),
    ] {
        let mut run = small(kind)
            .use_features(feats)
            .fit(&d, &mut |_| {})
            .unwrap();
        let (w, c) = (dir.join("m.safetensors"), dir.join("m.json"));
        save(&run.model, &w, &c).unwrap();
        let mut back: TemporalModel = load(&w, &c).unwrap();
        assert_eq!(back, run.model);
        let window: Vec<&DaySnapshot<f32>> = d[1..].iter().collect();
        let a = back
            .embed(&window, feats, BnInference::RunningStats)
            .unwrap();
        assert_eq!(
            a,
            run.model
                .embed(&window, feats, BnInference::RunningStats)
                .unwrap()
        );
        assert_eq!(&a, run.embeddings[3].as_ref().unwrap());
        // An edited config asking for a huge node universe or embedding is refused from the
        // weights file's header, before anything of that size is allocated.
        let text = std::fs::read_to_string(&c).unwrap();
        for (key, value) in [("in_dim", 1_000_000_000_000u64), ("emb_dim", 20_000)] {
            let mut j: serde_json::Value = serde_json::from_str(&text).unwrap();
            j["model"][key] = value.into();
            std::fs::write(&c, j.to_string()).unwrap();
            let e = load::<f32, TemporalModel>(&w, &c).unwrap_err();
            assert!(
                matches!(e, darknet_nn::NnError::ConfigTensorMismatch { .. }),
                "{key}: {e:?}"
            );
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn incremental_schedules_keep_training_every_day() {
    // B6: the model after day t differs from the model after day t - 1 (the reference code's
    // detached optimizer would leave it unchanged).
    let d = days(5);
    let cfg = small(TemporalKind::IncrementalGcn);
    let a = cfg.fit(&d[..3], &mut |_| {}).unwrap().model;
    let b = cfg.fit(&d[..4], &mut |_| {}).unwrap().model;
    let (TemporalModel::Gcn(a), TemporalModel::Gcn(b)) = (a, b) else {
        panic!("GCN models expected")
    };
    assert_ne!(a.encoder.gcn, b.encoder.gcn);
    assert_ne!(a.predictor, b.predictor);
    // i-GCN-GRU updates both the GCN and the GRU.
    let cfg = small(TemporalKind::IncrementalGcnGru);
    let a = cfg.fit(&d[..3], &mut |_| {}).unwrap().model;
    let b = cfg.fit(&d[..4], &mut |_| {}).unwrap().model;
    let (TemporalModel::GcnGru(a), TemporalModel::GcnGru(b)) = (a, b) else {
        panic!("GCN-GRU models expected")
    };
    assert_ne!(a.encoder.gcn, b.encoder.gcn);
    assert_ne!(a.encoder.gru, b.encoder.gru);
}
