//! Property tests on small random inputs: normalizations, the sparse kernel, pooling, losses.

use darknet_nn::adjacency::{normalize_row_self_loops, normalize_sym_self_loops};
use darknet_nn::kernels::{spmm, transpose_csr};
use darknet_nn::layers::{LogSoftmax, MeanPool};
use darknet_nn::loss::{bce_with_logits, mse};
use ndarray::Array2;
use proptest::prelude::*;
use sprs::{CsMat, TriMat};

/// A random square non-negative matrix of size 1..8 from a list of (row, col, weight) triples.
fn matrix() -> impl Strategy<Value = CsMat<f64>> {
    (1usize..8).prop_flat_map(|n| {
        proptest::collection::vec((0..n, 0..n, 0.0f64..10.0), 0..20).prop_map(move |es| {
            let mut t = TriMat::new((n, n));
            for (i, j, w) in es {
                t.add_triplet(i, j, w);
            }
            t.to_csr()
        })
    })
}

proptest! {
    #[test]
    fn row_normalized_rows_sum_to_one(a in matrix()) {
        let r = normalize_row_self_loops(&a).unwrap();
        for row in r.outer_iterator() {
            prop_assert!((row.data().iter().sum::<f64>() - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn symmetric_normalization_of_a_symmetric_matrix_is_symmetric(a in matrix()) {
        let sym = &a + &transpose_csr(&a);
        let s = normalize_sym_self_loops(&sym).unwrap().to_dense();
        prop_assert!((&s - &s.t()).iter().all(|d| d.abs() < 1e-12));
        prop_assert!(s.iter().all(|&v| (0.0..=1.0 + 1e-12).contains(&v)));
    }

    #[test]
    fn spmm_equals_the_dense_product(a in matrix(), k in 1usize..40, seed in 0u64..1000) {
        let x = Array2::from_shape_fn((a.cols(), k), |(i, j)| ((i * 31 + j * 7) as f64 + seed as f64).sin());
        let got = spmm(&a, x.view()).unwrap();
        let want = a.to_dense().dot(&x);
        prop_assert!((&got - &want).iter().all(|d| d.abs() < 1e-9));
    }

    #[test]
    fn mean_pool_of_constant_rows_is_that_constant(sizes in proptest::collection::vec(1usize..6, 1..6), c in -5.0f64..5.0) {
        let mut offsets = vec![0];
        for s in &sizes {
            offsets.push(offsets.last().unwrap() + s);
        }
        let x = Array2::from_elem((*offsets.last().unwrap(), 3), c);
        let (y, _) = MeanPool.forward(x.view(), &offsets).unwrap();
        prop_assert!(y.iter().all(|&v| (v - c).abs() < 1e-12));
    }

    #[test]
    fn log_softmax_rows_are_distributions(v in proptest::collection::vec(-50.0f64..50.0, 1..10)) {
        let x = Array2::from_shape_vec((1, v.len()), v).unwrap();
        let (y, _) = LogSoftmax.forward(x.view());
        prop_assert!((y.mapv(f64::exp).sum() - 1.0).abs() < 1e-9);
        prop_assert!(y.iter().all(|&l| l <= 1e-12));
    }

    #[test]
    fn losses_are_non_negative_and_finite(v in proptest::collection::vec(-100.0f64..100.0, 1..12), bits in any::<u16>()) {
        let n = v.len();
        let x = Array2::from_shape_vec((1, n), v).unwrap();
        let y = Array2::from_shape_fn((1, n), |(_, j)| ((bits >> (j % 16)) & 1) as f64);
        let (l, g) = bce_with_logits(x.view(), y.view(), None).unwrap();
        prop_assert!(l >= 0.0 && l.is_finite() && g.iter().all(|v| v.is_finite()));
        let (l, _) = mse(x.view(), y.view()).unwrap();
        prop_assert!(l >= 0.0);
    }
}
