//! The training hot loops allocate nothing per step in steady state.
//!
//! A counting global allocator (this test binary only) counts the allocations made by the
//! current thread while counting is switched on. After a warm-up pass (buffers grow to the
//! largest batch once), every later step must allocate exactly as many times as it calls a
//! dense matrix product: matrixmultiply allocates its packing buffer once per call, and that
//! is the only allocation left. Layer-level paths without dense products (BatchNorm, ReLU,
//! mean pooling, losses, log-softmax, sparse products, batch stacking) must not allocate at all.
//!
//! The last test checks that the reusing paths compute exactly what the allocating ones do.
//!
//! Sizes are small so every product runs on the calling thread (rayon and matrixmultiply only
//! spread large products over threads).

use darknet_nn::adjacency::normalize_row_self_loops;
use darknet_nn::batch::{Graph, GraphBatchBuffer, GraphDataset, GraphRef};
use darknet_nn::kernels::{spmm_into, transpose_csr};
use darknet_nn::layers::{BatchNorm1d, BatchNormCache, LogSoftmax, LogSoftmaxCache, MeanPool};
use darknet_nn::layers::{MeanPoolCache, Relu, ReluCache};
use darknet_nn::loss::nll;
use darknet_nn::loss::{bce_with_logits_into, nll_into};
use darknet_nn::model::temporal::{
    gcn_step_into, DaySnapshot, EdgePredictor, EdgePredictorCache, GcnEncoder, GcnGruEncoder,
    GcnGruEncoderCache, LinkModel, NodeInput, StepWorkspace, WindowGraph,
};
use darknet_nn::model::{ClassifierWorkspace, GraphClassifier, GraphClassifierConfig};
use darknet_nn::{Adam, AdamConfig, HasParams, Mode};
use ndarray::linalg::general_mat_mul;
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sprs::TriMat;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<usize> = const { Cell::new(0) };
}

/// Forwards every call to the system allocator and counts allocations (and reallocations) made
/// by a thread whose `COUNTING` flag is on.
struct CountingAlloc;

fn note() {
    // `try_with`: the thread-locals may already be gone while a thread shuts down.
    let on = COUNTING.try_with(|c| c.get()).unwrap_or(false);
    if on {
        let _ = COUNT.try_with(|c| c.set(c.get() + 1));
    }
}

// SAFETY: every method forwards its arguments unchanged to `System`, which upholds the
// `GlobalAlloc` contract; the bookkeeping only touches const-initialised thread-local `Cell`s,
// which never allocate.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: same layout as given to us, forwarded to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: as `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        // SAFETY: `ptr` was allocated by `System` through this allocator with `layout`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` through this allocator with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// Allocations made by `f` on this thread.
fn count<R>(f: impl FnOnce() -> R) -> (usize, R) {
    COUNT.with(|c| c.set(0));
    COUNTING.with(|c| c.set(true));
    let r = f();
    COUNTING.with(|c| c.set(false));
    (COUNT.with(|c| c.get()), r)
}

/// Allocations of one small dense product (matrixmultiply's packing buffer).
fn per_gemm() -> usize {
    let a = Array2::<f32>::ones((7, 5));
    let b = Array2::<f32>::ones((5, 3));
    let mut c = Array2::<f32>::zeros((7, 3));
    general_mat_mul(1.0, &a, &b, 0.0, &mut c);
    count(|| general_mat_mul(1.0, &a, &b, 0.0, &mut c)).0
}

fn host_graphs(n: usize, seed: u64) -> (Vec<Graph<f32>>, Array2<f32>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let graphs = (0..n)
        .map(|_| {
            let k = rng.random_range(2..9);
            let mut t = TriMat::new((k, k));
            for i in 1..k {
                let j = rng.random_range(0..i);
                t.add_triplet(i, j, 1.0f32);
                t.add_triplet(j, i, 1.0);
            }
            let f = Array2::from_shape_simple_fn((k, 5), || rng.random_range(-1.0f32..1.0));
            Graph::new(&t.to_csr(), f).unwrap()
        })
        .collect();
    let labels = Array2::from_shape_simple_fn((n, 3), || (rng.random::<f32>() < 0.4) as u8 as f32);
    (graphs, labels)
}

#[test]
fn classifier_training_steps_allocate_only_inside_dense_products() {
    let per = per_gemm();
    assert!(per <= 1, "a dense product made {per} allocations");
    let (graphs, labels) = host_graphs(40, 1);
    let (gcn_layers, fc_layers) = (2, 1);
    let cfg = GraphClassifierConfig::default()
        .first_size(12)
        .gcn_layers(gcn_layers)
        .fc_layers(fc_layers)
        .pos_weight(Some(vec![1.0, 2.0, 0.5]));
    let mut model =
        GraphClassifier::<f32>::new(cfg, 5, 3, &mut ChaCha8Rng::seed_from_u64(2)).unwrap();
    let mut adam = Adam::new(AdamConfig::default().learning_rate(0.01)).unwrap();
    let mut ws = ClassifierWorkspace::new();
    let batches: Vec<Vec<usize>> = (0..5).map(|b| (b * 8..b * 8 + 8).collect()).collect();
    // Forward: one product per layer; backward: weight and input gradients per layer, except
    // the first GCN layer (weight gradient only).
    let products = 3 * gcn_layers + 3 * fc_layers + 2;
    for epoch in 0..3 {
        for idx in &batches {
            let (n, loss) =
                count(|| model.train_batch_into(&graphs, labels.view(), idx, &mut adam, &mut ws));
            assert!(loss.unwrap().is_finite());
            if epoch == 0 && idx[0] == 0 {
                assert!(n > products * per, "the first step sizes the buffers");
            }
            if epoch > 0 {
                assert_eq!(n, products * per, "epoch {epoch}, batch {idx:?}");
            }
        }
    }
}

#[test]
fn element_wise_and_sparse_paths_never_allocate_after_warm_up() {
    let (graphs, _) = host_graphs(12, 3);
    let batch = graphs.batch(&[0, 1, 2]).unwrap();
    let mut sp = Array2::zeros((batch.n_nodes(), batch.features.ncols()));
    let mut buf = GraphBatchBuffer::new();
    let x = Array2::from_shape_fn((6, 4), |(i, j)| ((i * 4 + j) as f32).sin());
    let g = Array2::from_shape_fn((6, 4), |(i, j)| ((i + j) as f32).cos());
    let targets = Array2::from_shape_fn((6, 4), |(i, j)| ((i + j) % 2) as f32);
    let mut bn = BatchNorm1d::<f32>::new(4);
    let mut bc = BatchNormCache::default();
    let (mut y, mut dx, mut grad) = (
        Array2::zeros((0, 0)),
        Array2::zeros((0, 0)),
        Array2::zeros((0, 0)),
    );
    let mut rc = ReluCache::default();
    let (mut pc, mut pooled) = (MeanPoolCache::default(), Array2::zeros((0, 0)));
    let mut lc = LogSoftmaxCache::default();
    for pass in 0..3 {
        let (n, ()) = count(|| {
            graphs.batch_into(&[3, 1, 4], &mut buf).unwrap();
            graphs.batch_into(&[0, 2], &mut buf).unwrap();
            // Graphs held elsewhere, lent as borrowed parts (Paper A's prepared host graphs).
            buf.stack_from(2, |k| GraphRef {
                adj: &graphs[k + 1].adj,
                adj_t: None,
                features: graphs[k + 1].features.view(),
            })
            .unwrap();
            bn.forward_into(x.view(), Mode::Train, &mut bc, &mut y)
                .unwrap();
            bn.backward_into(&bc, g.view(), &mut dx).unwrap();
            bn.forward_into(x.view(), Mode::Eval, &mut bc, &mut y)
                .unwrap();
            Relu.forward_into(y.view(), &mut rc);
            Relu.backward_inplace(&rc, dx.view_mut()).unwrap();
            MeanPool
                .forward_into(x.view(), &[0, 2, 6], &mut pc, &mut pooled)
                .unwrap();
            MeanPool.backward_into(&pc, pooled.view(), &mut dx).unwrap();
            bce_with_logits_into(x.view(), targets.view(), None, &mut grad).unwrap();
            LogSoftmax.forward_into(x.view(), &mut lc);
            LogSoftmax.backward_into(&lc, g.view(), &mut dx).unwrap();
            nll_into(lc.y.view(), &[0, 1, 2, 3, 0, 1], &mut grad).unwrap();
            spmm_into(&batch.adj, batch.features.view(), sp.view_mut()).unwrap();
        });
        if pass == 0 {
            assert!(
                n > 0,
                "the warm-up pass sizes the buffers (and shows counting works)"
            );
        } else {
            assert_eq!(n, 0, "pass {pass}");
        }
    }
}

/// Steps before the steady state: gradients ping-pong between two buffers that swap roles, so
/// each reaches its largest shape only on the second step.
const WARM_UP_STEPS: usize = 2;

/// A day graph of `nh` hosts and `np` ports with `ne` edges and as many negatives.
fn day(seed: u64, nh: usize, np: usize, ne: usize) -> DaySnapshot<f32> {
    let n = nh + np;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut set = std::collections::BTreeSet::new();
    while set.len() < ne {
        set.insert((
            rng.random_range(0..nh) as u32,
            (nh + rng.random_range(0..np)) as u32,
        ));
    }
    let pos: Vec<(u32, u32)> = set.iter().copied().collect();
    let mut t = TriMat::new((n, n));
    for &(a, b) in &pos {
        let w = rng.random_range(1..9) as f32;
        t.add_triplet(a as usize, b as usize, w);
        t.add_triplet(b as usize, a as usize, w);
    }
    let adj = normalize_row_self_loops(&t.to_csr()).unwrap();
    let adj_t = transpose_csr(&adj);
    let mut neg = Vec::new();
    while neg.len() < ne {
        let p = (
            rng.random_range(0..nh) as u32,
            (nh + rng.random_range(0..np)) as u32,
        );
        if !set.contains(&p) {
            neg.push(p);
        }
    }
    let f = Array2::from_shape_simple_fn((n, 5), || rng.random_range(0.0f32..1.0));
    DaySnapshot::new((0..n as u32).collect(), nh, adj, adj_t, f, pos, neg).unwrap()
}

#[test]
fn temporal_gcn_steps_allocate_only_inside_dense_products() {
    let per = per_gemm();
    let s = day(5, 40, 12, 150);
    for (features, in_dim, products) in [
        // Forward: 2 GCN layers, FC, the predictor's 2 node-level products and its output
        // layer; backward: predictor 6, FC 2, second GCN layer 2, first layer 1.
        (true, 5, 6 + 11),
        // Identity input: the first layer is a row lookup (no product either way).
        (false, s.n_nodes(), 5 + 10),
    ] {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut model = LinkModel {
            encoder: GcnEncoder::new(in_dim, &[24, 12], 8, &mut rng),
            predictor: EdgePredictor::new(8, 6, &mut rng),
        };
        let mut adam = Adam::new(AdamConfig::default().weight_decay(5e-3)).unwrap();
        let mut ws = StepWorkspace::new();
        for step in 0..5 {
            let (n, r) = count(|| gcn_step_into(&mut model, &s, features, &mut adam, &mut ws));
            assert!(r.unwrap().0.is_finite());
            if step >= WARM_UP_STEPS {
                assert_eq!(n, products * per, "features {features}, step {step}");
            }
        }
    }
}

#[test]
fn gcn_gru_encoder_and_predictor_allocate_only_inside_dense_products() {
    let per = per_gemm();
    let days: Vec<DaySnapshot<f32>> = (0..3).map(|t| day(20 + t, 40, 12, 150)).collect();
    let window: Vec<WindowGraph<'_, f32>> = days
        .iter()
        .map(|d| WindowGraph {
            adj: &d.adj,
            adj_t: &d.adj_t,
            input: NodeInput::Features(d.features.view()),
        })
        .collect();
    let target = &days[2];
    let src: Vec<usize> = target
        .positives
        .iter()
        .chain(&target.negatives)
        .map(|p| p.0 as usize)
        .collect();
    let dst: Vec<usize> = target
        .positives
        .iter()
        .chain(&target.negatives)
        .map(|p| p.1 as usize)
        .collect();
    let labels: Vec<usize> = (0..src.len())
        .map(|i| (i < target.positives.len()) as usize)
        .collect();
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let mut enc = GcnGruEncoder::<f32>::new(5, &[24, 12], 8, &mut rng);
    let mut pred = EdgePredictor::<f32>::new(8, 6, &mut rng);
    let (mut ec, mut pc) = (GcnGruEncoderCache::default(), EdgePredictorCache::default());
    let (mut g, mut d_emb) = (Array2::zeros((0, 0)), Array2::zeros((0, 0)));
    // Per window step: GCN forward 2 and backward 3, GRU cell forward 2 and backward 4;
    // predictor forward 3 and backward 6.
    let products = window.len() * 11 + 9;
    for step in 0..5 {
        let (n, ()) = count(|| {
            enc.zero_grad();
            pred.zero_grad();
            enc.forward_into(&window, Mode::Train, &mut ec).unwrap();
            pred.forward_into(ec.embeddings(), &src, &dst, &mut pc)
                .unwrap();
            nll_into(pc.log_probs(), &labels, &mut g).unwrap();
            pred.backward_into(&mut pc, g.view(), &mut d_emb).unwrap();
            enc.backward_into(&window, &mut ec, d_emb.view()).unwrap();
        });
        if step >= WARM_UP_STEPS {
            assert_eq!(n, products * per, "step {step}");
        }
    }
    // The allocation-free path computes what the allocating one does.
    let mut enc2 = enc.clone();
    let (e, c) = enc2.forward(&window, Mode::Eval).unwrap();
    enc.forward_into(&window, Mode::Eval, &mut ec).unwrap();
    assert_eq!(e.view(), ec.embeddings());
    let (lp, _) = pred.forward(e.view(), &src, &dst).unwrap();
    assert_eq!(nll(lp.view(), &labels).unwrap().0, {
        pred.forward_into(ec.embeddings(), &src, &dst, &mut pc)
            .unwrap();
        nll_into(pc.log_probs(), &labels, &mut g).unwrap()
    });
    drop(c);
}

/// Parameter values of a model, in visiting order.
fn weights<M: HasParams<f32>>(m: &mut M) -> Vec<f32> {
    let mut v = Vec::new();
    m.visit_params(&mut |_, p| v.extend(p.value.iter().copied()));
    m.visit_buffers(&mut |_, b| v.extend(b.iter().copied()));
    v
}

#[test]
fn reused_buffers_give_the_same_bits_as_fresh_ones() {
    use darknet_nn::model::temporal::{gcn_step, gru_step, gru_step_into};
    let s = day(7, 30, 10, 100);
    for features in [true, false] {
        let in_dim = if features { 5 } else { s.n_nodes() };
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut a = LinkModel {
            encoder: GcnEncoder::new(in_dim, &[16, 8], 6, &mut rng),
            predictor: EdgePredictor::new(6, 4, &mut rng),
        };
        let mut b = a.clone();
        let (mut oa, mut ob) = (
            Adam::new(AdamConfig::default().learning_rate(0.01)).unwrap(),
            Adam::new(AdamConfig::default().learning_rate(0.01)).unwrap(),
        );
        let mut ws = StepWorkspace::new();
        for _ in 0..3 {
            let la = gcn_step(&mut a, &s, features, &mut oa).unwrap();
            let lb = gcn_step_into(&mut b, &s, features, &mut ob, &mut ws).unwrap();
            assert_eq!(la, lb);
        }
        assert_eq!(weights(&mut a), weights(&mut b));
    }
    let days: Vec<DaySnapshot<f32>> = (0..3).map(|t| day(30 + t, 30, 10, 100)).collect();
    let w: Vec<&DaySnapshot<f32>> = days.iter().collect();
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let mut a = LinkModel {
        encoder: GcnGruEncoder::new(5, &[16, 8], 6, &mut rng),
        predictor: EdgePredictor::new(6, 4, &mut rng),
    };
    let mut b = a.clone();
    let (mut oa, mut ob) = (
        Adam::new(AdamConfig::default().learning_rate(0.01)).unwrap(),
        Adam::new(AdamConfig::default().learning_rate(0.01)).unwrap(),
    );
    let mut ws = StepWorkspace::new();
    for _ in 0..3 {
        let la = gru_step(&mut a, &w, true, &mut oa).unwrap();
        let lb = gru_step_into(&mut b, &w, true, &mut ob, &mut ws).unwrap();
        assert_eq!(la, lb);
    }
    assert_eq!(weights(&mut a), weights(&mut b));
    // The classifier: a fresh workspace per epoch or one kept across epochs.
    let (graphs, labels) = host_graphs(30, 5);
    let cfg = GraphClassifierConfig::default().first_size(8).batch_size(8);
    let mut a = GraphClassifier::<f32>::new(cfg, 5, 3, &mut ChaCha8Rng::seed_from_u64(6)).unwrap();
    let mut b = a.clone();
    let (mut oa, mut ob) = (
        Adam::new(AdamConfig::default()).unwrap(),
        Adam::new(AdamConfig::default()).unwrap(),
    );
    let (mut ra, mut rb) = (ChaCha8Rng::seed_from_u64(7), ChaCha8Rng::seed_from_u64(7));
    let mut ws = ClassifierWorkspace::new();
    for _ in 0..2 {
        let la = a
            .train_epoch(&graphs, labels.view(), &mut oa, &mut ra)
            .unwrap();
        let lb = b
            .train_epoch_into(&graphs, labels.view(), &mut ob, &mut rb, &mut ws)
            .unwrap();
        assert_eq!(la, lb);
    }
    assert_eq!(weights(&mut a), weights(&mut b));
}

/// The GCN-GRU training step on days whose hosts come and go (the row-restricted window, with
/// absent rows computed as isolated nodes) allocates, once its workspace has grown, inside
/// dense products and once more per step (the window's list of per-day views), the same every
/// step.
#[test]
fn gcn_gru_step_on_churning_days_allocates_only_inside_dense_products() {
    use darknet_nn::model::temporal::gru_step_into;
    let per = per_gemm();
    // Hosts shift by 5 ids a day: each window day misses some of the target day's hosts.
    let days: Vec<DaySnapshot<f32>> = (0..3u32)
        .map(|t| {
            let mut d = day(40 + u64::from(t), 30, 10, 120);
            d.node_ids = (0..30).map(|h| h + 5 * t).chain(1000..1010).collect();
            d
        })
        .collect();
    let window: Vec<&DaySnapshot<f32>> = days.iter().collect();
    for features in [true, false] {
        let in_dim = if features { 5 } else { 1010 };
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        let mut model = LinkModel {
            encoder: GcnGruEncoder::new(in_dim, &[16, 8], 6, &mut rng),
            predictor: EdgePredictor::new(6, 4, &mut rng),
        };
        let mut adam = Adam::new(AdamConfig::default().learning_rate(0.01)).unwrap();
        let mut ws = StepWorkspace::new();
        // Days 0 and 1 miss some of day 2's hosts, so they also run the GCN on isolated rows.
        // GCN per graph: forward 2 + backward 3 products with features, 1 + 2 without (the
        // first layer is a lookup); GRU cell per day: forward 2 + backward 4; predictor:
        // forward 3 + backward 6; plus the per-day view list.
        let gcn = if features { 5 } else { 3 };
        let products = gcn * (2 + 2 + 1) + 6 * window.len() + 9;
        let mut counts = Vec::new();
        for step in 0..5 {
            let (n, r) = count(|| gru_step_into(&mut model, &window, features, &mut adam, &mut ws));
            r.unwrap();
            if step >= WARM_UP_STEPS {
                assert_eq!(n, products * per + 1, "features {features} step {step}");
                counts.push(n);
            }
        }
        assert!(counts.windows(2).all(|w| w[0] == w[1]), "{counts:?}");
    }
}

/// An auto-encoder epoch on a kept workspace allocates per batch only inside dense products
/// (plus, per epoch, the shuffled order and the list of batches).
#[test]
fn autoencoder_epochs_allocate_only_inside_dense_products() {
    use darknet_nn::model::{AutoencoderWorkspace, PortAutoencoder, PortAutoencoderConfig};
    let per = per_gemm();
    let cfg = PortAutoencoderConfig::default()
        .latent_dim(3)
        .hidden_layers(1)
        .batch_size(7);
    let x = Array2::from_shape_fn((23, 12), |(i, j)| ((i * 5 + j * 3) % 11) as f32 / 11.0);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut model = PortAutoencoder::<f32>::new(cfg, 12, &mut rng).unwrap();
    let mut adam = Adam::new(AdamConfig::default()).unwrap();
    let mut ws = AutoencoderWorkspace::default();
    // 4 batches (7, 7, 7, 2 rows); per batch forward 4 products (encoder block, latent,
    // decoder block, output) and backward 7 (output 2, decoder 2, latent 2, first block 1).
    let products = 4 * 11;
    for epoch in 0..4 {
        let (n, r) = count(|| model.train_epoch_into(x.view(), &mut adam, &mut rng, &mut ws));
        r.unwrap();
        if epoch >= WARM_UP_STEPS {
            assert_eq!(n, products * per + 2, "epoch {epoch}");
        }
    }
}

/// The same with tensors of 40,000 elements. Guards against parallelising Adam or `zero_grad`
/// with rayon: its job queue allocates a block every few dozen injected jobs on the calling
/// thread (seen as one extra allocation every few epochs here).
#[test]
fn wide_autoencoder_epochs_allocate_only_inside_dense_products() {
    use darknet_nn::model::{AutoencoderWorkspace, PortAutoencoder, PortAutoencoderConfig};
    let per = per_gemm();
    let cfg = PortAutoencoderConfig::default()
        .latent_dim(3)
        .hidden_layers(1)
        .batch_size(7);
    let x = Array2::from_shape_fn((23, 200), |(i, j)| ((i * 5 + j * 3) % 11) as f32 / 11.0);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut model = PortAutoencoder::<f32>::new(cfg, 200, &mut rng).unwrap();
    assert_eq!(model.encoder[0].linear.weight.value.len(), 40_000);
    let mut adam = Adam::new(AdamConfig::default()).unwrap();
    let mut ws = AutoencoderWorkspace::default();
    let products = 4 * 11;
    for epoch in 0..30 {
        let (n, r) = count(|| model.train_epoch_into(x.view(), &mut adam, &mut rng, &mut ws));
        r.unwrap();
        if epoch >= WARM_UP_STEPS {
            assert_eq!(n, products * per + 2, "epoch {epoch}");
        }
    }
}
