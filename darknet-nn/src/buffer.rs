//! Reusable buffers of the allocation-free training paths (the `*_into` methods).
//!
//! A buffer is an ordinary owned array kept between steps (in a cache or a workspace) and
//! reshaped in place: [`reshape2`] keeps the allocation whenever its capacity suffices, so
//! after the first steps of a training loop (once every buffer has reached its largest shape)
//! no step allocates. Contents after a reshape are unspecified (old values, zeros in a grown
//! tail): every caller overwrites all elements.
//!
//! Column sums are computed in fixed blocks of [`BLOCK`] columns with partial sums on the
//! stack, in row order from zero: the same additions, in the same order, as ndarray's
//! `sum_axis(Axis(0))` on a standard-layout array, so the allocation-free paths give
//! bit-identical results to the allocating ones.

use crate::Float;
use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut1, Axis, Slice, Zip};

/// Width of the column blocks whose partial sums live on the stack.
pub(crate) const BLOCK: usize = 64;

/// Gives `a` the shape (rows, cols) in standard layout, reusing its allocation when its
/// capacity is large enough. Contents are unspecified afterwards.
pub(crate) fn reshape2<T: Float>(a: &mut Array2<T>, rows: usize, cols: usize) {
    if a.dim() == (rows, cols) && a.is_standard_layout() {
        return;
    }
    let n = rows * cols;
    let (mut v, _) = std::mem::take(a).into_raw_vec_and_offset();
    v.truncate(n);
    v.resize(n, T::zero());
    *a = Array2::from_shape_vec((rows, cols), v).expect("length equals rows * cols");
}

/// [`reshape2`] then every element set to zero.
pub(crate) fn reshape2_zeroed<T: Float>(a: &mut Array2<T>, rows: usize, cols: usize) {
    reshape2(a, rows, cols);
    a.fill(T::zero());
}

/// Gives `a` the length `len`, reusing its allocation when possible. Contents unspecified.
pub(crate) fn reshape1<T: Float>(a: &mut Array1<T>, len: usize) {
    if a.len() == len {
        return;
    }
    let (mut v, _) = std::mem::take(a).into_raw_vec_and_offset();
    v.truncate(len);
    v.resize(len, T::zero());
    *a = Array1::from(v);
}

/// `acc[j] += Σ_i d[i, j]`, each column sum computed from zero in row order (bit-identical to
/// `*acc += &d.sum_axis(Axis(0))` on a standard-layout `d`), without allocating.
pub(crate) fn add_column_sums<T: Float>(mut acc: ArrayViewMut1<'_, T>, d: ArrayView2<'_, T>) {
    debug_assert_eq!(acc.len(), d.ncols());
    let cols = d.ncols();
    let mut c0 = 0;
    while c0 < cols {
        let w = BLOCK.min(cols - c0);
        let mut s = [T::zero(); BLOCK];
        let mut sv = ArrayViewMut1::from(&mut s[..w]);
        for row in d.slice_axis(Axis(1), Slice::from(c0..c0 + w)).rows() {
            Zip::from(&mut sv).and(&row).for_each(|a, &v| *a += v);
        }
        Zip::from(acc.slice_axis_mut(Axis(0), Slice::from(c0..c0 + w)))
            .and(&sv)
            .for_each(|a, &v| *a += v);
        c0 += w;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reshape_keeps_the_allocation_when_it_fits() {
        let mut a = Array2::<f32>::zeros((10, 10));
        let p = a.as_ptr();
        reshape2(&mut a, 5, 7);
        assert_eq!(a.dim(), (5, 7));
        assert_eq!(a.as_ptr(), p);
        reshape2(&mut a, 10, 10);
        assert_eq!(a.as_ptr(), p);
        reshape2_zeroed(&mut a, 3, 3);
        assert!(a.iter().all(|&v| v == 0.0));
        let mut b = Array1::<f64>::zeros(8);
        let p = b.as_ptr();
        reshape1(&mut b, 3);
        assert_eq!((b.len(), b.as_ptr()), (3, p));
    }

    #[test]
    fn column_sums_are_bit_identical_to_sum_axis() {
        for cols in [1usize, 3, 64, 65, 130] {
            let d = Array2::from_shape_fn((37, cols), |(i, j)| ((i * 131 + j * 7) as f32).sin());
            let mut acc = Array1::from_elem(cols, 0.25f32);
            let mut want = acc.clone();
            want += &d.sum_axis(Axis(0));
            add_column_sums(acc.view_mut(), d.view());
            assert_eq!(acc, want, "{cols} columns");
        }
    }
}
