//! Fast kernels: sparse (CSR) × dense products, parallel over row blocks with rayon.
//!
//! sprs's own `&CsMat * &Array2` runs on one thread and allocates its result; the GCN layer's
//! forward (`Â · H`) and backward (`Âᵀ · G`) call [`spmm_into`] instead, which splits the output
//! rows into blocks processed in parallel and writes into a caller's buffer (no allocation when
//! the dense input is in standard layout). The backward product takes the transpose `Âᵀ`
//! precomputed once as its own CSR matrix (see [`transpose_csr`]), never materialised per step.
//!
//! Each output row is computed by one thread in a fixed order, so results are bit-identical
//! whatever the number of threads. The row loop is compiled twice, for the baseline x86-64
//! instruction set and for AVX2, and the AVX2 copy runs where the CPU has it (run-time
//! dispatch through the `pulp` crate, safe code): the wider registers let a 64-column row of
//! partial sums stay in registers, so each row of the dense operand is read in one pass. The
//! two copies add the same products in the same order, so they give the same bits.
//!
//! Dense products go through ndarray's `dot` (matrixmultiply, with its threading feature on).
//!
//! ```
//! use darknet_nn::kernels::spmm;
//! use ndarray::array;
//! use sprs::TriMat;
//! let mut t = TriMat::new((2, 3));
//! t.add_triplet(0, 0, 1.0f32);
//! t.add_triplet(0, 2, 2.0);
//! t.add_triplet(1, 1, -1.0);
//! let a = t.to_csr::<usize>();
//! let x = array![[1.0f32, 0.0], [0.0, 1.0], [1.0, 1.0]];
//! assert_eq!(spmm(&a, x.view()).unwrap(), array![[3.0, 2.0], [0.0, -1.0]]);
//! ```

use crate::error::check_shape;
use crate::{Float, NnError, Result};
use ndarray::{Array2, ArrayView2, ArrayViewMut2};
use rayon::prelude::*;
use sprs::CsMat;

/// Below this many multiply-adds (nnz × columns) the product runs on the calling thread.
const PARALLEL_MIN_WORK: usize = 1 << 15;

/// `a · x` for CSR `a` (n, m) and dense `x` (m, k): returns (n, k).
///
/// Errors: [`NnError::NotCsr`] if `a` is stored as CSC; [`NnError::ShapeMismatch`] if
/// `x.nrows() != m`.
///
/// Complexity: O(nnz(a) · k), parallel over rows.
pub fn spmm<T: Float>(a: &CsMat<T>, x: ArrayView2<'_, T>) -> Result<Array2<T>> {
    let mut out = Array2::zeros((a.rows(), x.ncols()));
    spmm_into(a, x, out.view_mut())?;
    Ok(out)
}

/// `out = a · x` for CSR `a` (n, m), dense `x` (m, k), into `out` (n, k) (overwritten).
///
/// No allocation when `x` and `out` are in standard (row-major, contiguous) layout; otherwise
/// one temporary copy is made. Errors as [`spmm`], plus a shape error for `out`.
pub fn spmm_into<T: Float>(
    a: &CsMat<T>,
    x: ArrayView2<'_, T>,
    mut out: ArrayViewMut2<'_, T>,
) -> Result<()> {
    const OP: &str = "spmm_into";
    if !a.is_csr() {
        return Err(NnError::NotCsr { op: OP, what: "a" });
    }
    check_shape(OP, "x", &[a.cols(), x.ncols()], x.shape())?;
    check_shape(OP, "out", &[a.rows(), x.ncols()], out.shape())?;
    let k = x.ncols();
    if k == 0 || a.rows() == 0 {
        return Ok(());
    }
    let x = x.as_standard_layout();
    let xs = x.as_slice().expect("standard layout is contiguous");
    match out.as_slice_mut() {
        Some(os) => spmm_slices(a, xs, k, os),
        None => {
            let mut tmp = Array2::zeros((a.rows(), k));
            spmm_slices(a, xs, k, tmp.as_slice_mut().expect("fresh array"));
            out.assign(&tmp);
        }
    }
    Ok(())
}

/// Core loop on raw row-major slices: `out[i, :] = Σ_j a[i, j] · x[j, :]`.
fn spmm_slices<T: Float>(a: &CsMat<T>, x: &[T], k: usize, out: &mut [T]) {
    spmm_slices_with(a, x, k, out, pulp::Arch::new());
}

/// [`spmm_slices`] with the instruction set chosen by the caller (tests compare the paths).
fn spmm_slices_with<T: Float>(a: &CsMat<T>, x: &[T], k: usize, out: &mut [T], arch: pulp::Arch) {
    let ip = a.indptr();
    let ip = ip.raw_storage();
    let (indices, data) = (a.indices(), a.data());
    let rows = |first: usize, out: &mut [T]| {
        arch.dispatch(Rows {
            ip,
            indices,
            data,
            x,
            k,
            first,
            out,
        })
    };
    if a.nnz() * k < PARALLEL_MIN_WORK {
        rows(0, out);
        return;
    }
    // About 16k output elements per task: enough tasks to balance, few enough to be cheap.
    let block_rows = (16_384 / k).max(8);
    out.par_chunks_mut(block_rows * k)
        .enumerate()
        .for_each(|(b, block)| rows(b * block_rows, block));
}

/// A run of output rows, `out` holding rows `first..first + out.len() / k`, as one unit of work
/// handed to `pulp`'s run-time dispatch: the whole loop below is compiled once per instruction
/// set (baseline SSE2, and AVX2 where the CPU has it) and the fastest one available runs. Only
/// the vector width changes between the two: every output value is the same sum of the same
/// products in the same order (no fused multiply-add), so the results are bit-identical.
struct Rows<'a, T> {
    ip: &'a [usize],
    indices: &'a [usize],
    data: &'a [T],
    x: &'a [T],
    k: usize,
    first: usize,
    out: &'a mut [T],
}

impl<T: Float> pulp::WithSimd for Rows<'_, T> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        // 256-bit registers (16 of them) hold a 64-column f32 row of partial sums in 8
        // registers; 128-bit ones would need all 16, and spill.
        if std::mem::size_of::<S::f32s>() >= 32 && std::mem::size_of::<T>() == 4 {
            self.run::<64>();
        } else {
            self.run::<48>();
        }
    }
}

impl<T: Float> Rows<'_, T> {
    #[inline(always)]
    fn run<const SINGLE: usize>(self) {
        let off = self.ip[0];
        for (r, orow) in self.out.chunks_exact_mut(self.k).enumerate() {
            let i = self.first + r;
            let (s, e) = (self.ip[i] - off, self.ip[i + 1] - off);
            row_product::<T, SINGLE>(&self.indices[s..e], &self.data[s..e], self.x, self.k, orow);
        }
    }
}

/// One output row, `orow = Σ_p v_p · x[j_p, :]`, computed in column blocks whose partial sums
/// stay in registers across the row's non-zeros (about 1.5× faster than accumulating through
/// memory on the 100k-node bench): blocks of 32 columns while more than `SINGLE` remain, then
/// the last columns (at most `SINGLE`, 48 or 64) in a single pass, so a narrow product such as
/// 37 features, or 64 with 256-bit registers, reads each row of `x` once: the row's cache
/// lines are then requested together, which matters most when they come from main memory.
#[inline(always)]
fn row_product<T: Float, const SINGLE: usize>(
    idx: &[usize],
    val: &[T],
    x: &[T],
    k: usize,
    orow: &mut [T],
) {
    let mut c0 = 0;
    while k - c0 > SINGLE {
        column_block::<T, 32>(idx, val, x, k, c0, orow);
        c0 += 32;
    }
    match (k - c0).div_ceil(8) {
        0 => {}
        1 => column_block::<T, 8>(idx, val, x, k, c0, orow),
        2 => column_block::<T, 16>(idx, val, x, k, c0, orow),
        3 => column_block::<T, 24>(idx, val, x, k, c0, orow),
        4 => column_block::<T, 32>(idx, val, x, k, c0, orow),
        5 => column_block::<T, 40>(idx, val, x, k, c0, orow),
        6 => column_block::<T, 48>(idx, val, x, k, c0, orow),
        7 => column_block::<T, 56>(idx, val, x, k, c0, orow),
        _ => column_block::<T, 64>(idx, val, x, k, c0, orow),
    }
}

/// Columns `c0..min(c0 + W, k)` of one output row.
///
/// When fewer than `W` columns remain, the block still reads `W` consecutive values of `x`
/// (the row's last columns and the first of the next row) so that the accumulation keeps its
/// fixed vector width; the extra lanes are discarded. Only at the end of `x`, where those
/// values do not exist, does it read the exact width. Each kept lane sums the same products in
/// the same order either way.
///
/// Both paths give the loop a fixed-length array: with a variable length the accumulators
/// would live in memory, several times slower.
#[inline(always)]
fn column_block<T: Float, const W: usize>(
    idx: &[usize],
    val: &[T],
    x: &[T],
    k: usize,
    c0: usize,
    orow: &mut [T],
) {
    let w = W.min(k - c0);
    let mut acc = [T::zero(); W];
    // Zero-padded copy of a short last row of `x` (rare path).
    let mut pad = [T::zero(); W];
    for (&j, &v) in idx.iter().zip(val) {
        let s = j * k + c0;
        // A fixed-length array on both paths, so the loop below is unrolled and `acc` stays
        // in registers.
        let xr: &[T; W] = match x.get(s..s + W) {
            Some(r) => r.try_into().expect("W values"),
            None => {
                pad[..w].copy_from_slice(&x[s..s + w]);
                &pad
            }
        };
        for (a, &xv) in acc.iter_mut().zip(xr) {
            *a += v * xv;
        }
    }
    orow[c0..c0 + w].copy_from_slice(&acc[..w]);
}

/// The transpose of a CSR matrix, as a CSR matrix (computed once; pass it to the backward pass
/// of layers that need `aᵀ · g`). For a symmetric matrix this equals the matrix itself.
pub fn transpose_csr<T: Float>(a: &CsMat<T>) -> CsMat<T> {
    a.transpose_view().to_csr()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use sprs::TriMat;

    fn random_csr(n: usize, m: usize, nnz: usize, seed: u64) -> CsMat<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut t = TriMat::new((n, m));
        for _ in 0..nnz {
            t.add_triplet(
                rng.random_range(0..n),
                rng.random_range(0..m),
                rng.random_range(-1.0..1.0),
            );
        }
        t.to_csr()
    }

    fn dense(a: &CsMat<f64>) -> Array2<f64> {
        a.to_dense()
    }

    #[test]
    fn matches_dense_product_serial_and_parallel() {
        for &(n, m, nnz, k) in &[
            (5, 4, 7, 3),
            (300, 200, 3000, 40),
            (50, 60, 400, 64),
            (40, 30, 300, 61),
            (100, 80, 900, 37),
            (60, 50, 500, 48),
            (60, 50, 500, 49),
            (30, 30, 200, 100),
            (20, 20, 0, 5),
        ] {
            let a = random_csr(n, m, nnz, 7);
            let x = Array2::from_shape_fn((m, k), |(i, j)| ((i * 7 + j) as f64).cos());
            let got = spmm(&a, x.view()).unwrap();
            let want = dense(&a).dot(&x);
            assert!((&got - &want).iter().all(|d| d.abs() < 1e-12));
        }
    }

    #[test]
    fn transposed_product_and_non_standard_layouts() {
        let a = random_csr(6, 9, 20, 3);
        let at = transpose_csr(&a);
        let g = Array2::from_shape_fn((4, 6), |(i, j)| (i + 2 * j) as f64).reversed_axes();
        let mut out = Array2::zeros((4, 9)).reversed_axes();
        spmm_into(&at, g.view(), out.view_mut()).unwrap();
        let want = dense(&a).t().dot(&g);
        assert!((&out - &want).iter().all(|d| d.abs() < 1e-12));
    }

    #[test]
    fn errors() {
        let a = random_csr(3, 4, 5, 1);
        let x = Array2::<f64>::zeros((5, 2));
        assert!(matches!(
            spmm(&a, x.view()),
            Err(NnError::ShapeMismatch { what: "x", .. })
        ));
        let x = Array2::<f64>::zeros((4, 2));
        let mut out = Array2::<f64>::zeros((2, 2));
        assert!(matches!(
            spmm_into(&a, x.view(), out.view_mut()),
            Err(NnError::ShapeMismatch { what: "out", .. })
        ));
        let csc = a.to_csc();
        assert!(matches!(spmm(&csc, x.view()), Err(NnError::NotCsr { .. })));
    }

    /// The AVX2 path (where the CPU has it) and the baseline path give the same bits, for both
    /// float types, serial and parallel sizes, and widths around every block boundary.
    #[test]
    fn dispatched_and_baseline_paths_are_bit_identical() {
        fn check<T: Float>(a: &CsMat<T>, x: &Array2<T>) {
            let (n, k) = (a.rows(), x.ncols());
            let xs = x.as_slice().unwrap();
            let mut base = vec![T::zero(); n * k];
            let mut best = vec![T::zero(); n * k];
            spmm_slices_with(a, xs, k, &mut base, pulp::Arch::Scalar);
            spmm_slices(a, xs, k, &mut best);
            // f32 → f64 is exact and keeps the sign of zero: equal bits after it, equal before.
            let bits = |v: &T| v.to_f64().map(f64::to_bits);
            assert!(
                base.iter().zip(&best).all(|(p, q)| bits(p) == bits(q)),
                "k = {k}"
            );
        }
        for &(n, nnz, k) in &[
            (40, 300, 1),
            (40, 300, 37),
            (40, 300, 48),
            (40, 300, 49),
            (40, 300, 63),
            (40, 300, 64),
            (40, 300, 65),
            (40, 300, 100),
            (40, 300, 129),
            (700, 9_000, 64),
            (700, 9_000, 37),
        ] {
            let a = random_csr(n, n, nnz, 11);
            let x = Array2::from_shape_fn((n, k), |(i, j)| ((i * 13 + j) as f64).sin());
            check(&a, &x);
            let a32 = a.map(|&v| v as f32);
            check(&a32, &x.mapv(|v| v as f32));
        }
    }

    /// Paired timing of the baseline and the dispatched paths on the shapes of the
    /// `kernels_vs_python` bench (CPU time of the process per product, so that other load on
    /// the machine counts less): `RAYON_NUM_THREADS=1 cargo test --release -p darknet-nn --lib
    /// spmm_paths_timing -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn spmm_paths_timing() {
        fn cpu() -> f64 {
            std::fs::read_dir("/proc/self/task")
                .map(|tasks| {
                    tasks
                        .filter_map(|t| {
                            std::fs::read_to_string(t.ok()?.path().join("schedstat")).ok()
                        })
                        .filter_map(|s| s.split_whitespace().next()?.parse::<f64>().ok())
                        .sum::<f64>()
                })
                .unwrap_or(0.0)
                / 1e9
        }
        for (n, nnz, k, inner) in [(6_400, 49_000, 37, 200), (100_000, 1_000_000, 64, 5)] {
            let a = random_csr(n, n, nnz, 1).map(|&v| v as f32);
            let mut rng = ChaCha8Rng::seed_from_u64(3);
            let x = Array2::from_shape_simple_fn((n, k), || rng.random_range(-0.5f32..0.5));
            let xs = x.as_slice().unwrap();
            let mut outs = [vec![0f32; n * k], vec![0f32; n * k]];
            let mut ms = [Vec::new(), Vec::new()];
            for _ in 0..7 {
                for (p, (out, ms)) in outs.iter_mut().zip(&mut ms).enumerate() {
                    let c = cpu();
                    for _ in 0..inner {
                        if p == 0 {
                            spmm_slices_with(&a, xs, k, out, pulp::Arch::Scalar);
                        } else {
                            spmm_slices(&a, xs, k, out);
                        }
                    }
                    ms.push((cpu() - c) / inner as f64 * 1e3);
                }
            }
            assert_eq!(outs[0], outs[1]);
            for (name, ms) in ["baseline", "dispatched"].iter().zip(&mut ms) {
                let all = format!("{ms:.3?}");
                ms.sort_by(f64::total_cmp);
                println!("{n}x{n} nnz {nnz} k {k} {name}: CPU ms per product min {:.3} median {:.3} {all}", ms[0], ms[3]);
            }
        }
    }
}
