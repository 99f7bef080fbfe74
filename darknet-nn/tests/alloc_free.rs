//! The training hot loops allocate nothing per step in steady state.
//!
//! A counting global allocator (this test binary only) counts the allocations made by the
//! current thread while counting is switched on. After a warm-up pass (buffers grow to the
//! largest batch once), every later step must allocate exactly as many times as it calls a
//! dense matrix product: matrixmultiply allocates its packing buffer once per call, and that
//! is the only allocation left. Layer-level paths without dense products (BatchNorm, ReLU,
//! mean pooling, losses, log-softmax, sparse products, batch stacking) must not allocate at all.
//!
//! Sizes are small so every product runs on the calling thread (rayon and matrixmultiply only
//! spread large products over threads).

use darknet_nn::batch::{Graph, GraphBatchBuffer, GraphDataset};
use darknet_nn::kernels::spmm_into;
use darknet_nn::layers::{BatchNorm1d, BatchNormCache, LogSoftmax, LogSoftmaxCache, MeanPool};
use darknet_nn::layers::{MeanPoolCache, Relu, ReluCache};
use darknet_nn::loss::{bce_with_logits_into, nll_into};
use darknet_nn::model::{ClassifierWorkspace, GraphClassifier, GraphClassifierConfig};
use darknet_nn::{Adam, AdamConfig, Mode};
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
                count(|| model.train_batch(&graphs, labels.view(), idx, &mut adam, &mut ws));
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
