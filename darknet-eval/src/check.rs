//! Input validation shared by the metric modules.

use crate::error::{EvalError, Result};
use ndarray::{ArrayView1, ArrayView2};

/// Fails unless `a` has at least one row and one column.
pub(crate) fn non_empty2<T>(what: &str, a: &ArrayView2<T>) -> Result<()> {
    if a.nrows() == 0 || a.ncols() == 0 {
        return Err(EvalError::Empty {
            what: format!("{what} has shape {:?}", a.shape()),
        });
    }
    Ok(())
}

/// Fails unless `b` has the shape of `a`.
pub(crate) fn same_shape<A, B>(what: &str, a: &ArrayView2<A>, b: &ArrayView2<B>) -> Result<()> {
    if a.shape() != b.shape() {
        return Err(EvalError::ShapeMismatch {
            what: what.to_string(),
            expected: a.shape().to_vec(),
            actual: b.shape().to_vec(),
        });
    }
    Ok(())
}

/// Fails unless every entry is 0 or 1.
pub(crate) fn binary(what: &str, a: &ArrayView2<u8>) -> Result<()> {
    for ((row, col), &v) in a.indexed_iter() {
        if v > 1 {
            return Err(EvalError::NotBinary {
                what: what.to_string(),
                row,
                col,
                value: v,
            });
        }
    }
    Ok(())
}

/// Fails unless every entry is 0 or 1 (1-D).
pub(crate) fn binary1(what: &str, a: &ArrayView1<u8>) -> Result<()> {
    for (row, &v) in a.indexed_iter() {
        if v > 1 {
            return Err(EvalError::NotBinary {
                what: what.to_string(),
                row,
                col: 0,
                value: v,
            });
        }
    }
    Ok(())
}

/// Fails unless every entry is finite.
pub(crate) fn finite(what: &str, a: &ArrayView2<f64>) -> Result<()> {
    for ((row, col), &v) in a.indexed_iter() {
        if !v.is_finite() {
            return Err(EvalError::InvalidScore {
                what: what.to_string(),
                row,
                col,
                value: v,
                range: String::new(),
            });
        }
    }
    Ok(())
}

/// Fails unless every entry is finite (1-D).
pub(crate) fn finite1(what: &str, a: &ArrayView1<f64>) -> Result<()> {
    for (row, &v) in a.indexed_iter() {
        if !v.is_finite() {
            return Err(EvalError::InvalidScore {
                what: what.to_string(),
                row,
                col: 0,
                value: v,
                range: String::new(),
            });
        }
    }
    Ok(())
}

/// Validates a (y_true, y_pred) pair of 0/1 matrices of equal non-empty shape.
pub(crate) fn truth_pred(y_true: &ArrayView2<u8>, y_pred: &ArrayView2<u8>) -> Result<()> {
    non_empty2("y_true", y_true)?;
    same_shape("y_pred", y_true, y_pred)?;
    binary("y_true", y_true)?;
    binary("y_pred", y_pred)
}

/// Validates a (y_true, y_score) pair: 0/1 truth, finite scores, equal non-empty shape.
pub(crate) fn truth_score(y_true: &ArrayView2<u8>, y_score: &ArrayView2<f64>) -> Result<()> {
    non_empty2("y_true", y_true)?;
    same_shape("y_score", y_true, y_score)?;
    binary("y_true", y_true)?;
    finite("y_score", y_score)
}
