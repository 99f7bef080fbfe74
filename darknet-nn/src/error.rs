//! The crate's one error type.

use std::path::PathBuf;
use thiserror::Error;

/// Errors of darknet-nn.
///
/// Variants carry structured fields (operation name, expected and actual shapes, epoch, config
/// field) so callers can react to them and messages say where the problem is.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum NnError {
    /// An operation needs a non-empty input.
    #[error("empty input: {what}")]
    Empty {
        /// What was empty.
        what: String,
    },
    /// A [`GraphDataset`](crate::GraphDataset) implemented outside this crate could not build
    /// a batch; its own error is the source.
    #[error("{op}: the dataset could not build a batch: {source}")]
    Batch {
        /// The dataset or operation that failed.
        op: &'static str,
        /// The dataset's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// An array or matrix given to an operation does not have the shape it needs.
    ///
    /// `expected` lists the full expected shape; axes the operation does not constrain are
    /// copied from `actual`.
    #[error("{op}: shape mismatch for {what}: expected {expected:?}, got {actual:?}")]
    ShapeMismatch {
        /// The operation (layer, loss, kernel) that checked the shape, e.g. `"Linear::forward"`.
        op: &'static str,
        /// Which argument had the wrong shape, e.g. `"x"` or `"d_out"`.
        what: &'static str,
        /// The shape the operation needs.
        expected: Vec<usize>,
        /// The shape it got.
        actual: Vec<usize>,
    },
    /// A batch with zero rows (or zero graphs) was given where at least one is needed.
    #[error("{op}: empty batch")]
    EmptyBatch {
        /// The operation that got the empty batch.
        op: &'static str,
    },
    /// A batch has fewer rows than an operation needs (BatchNorm in training mode needs 2, as
    /// PyTorch).
    #[error("{op}: batch of {got} rows, at least {needed} needed")]
    BatchTooSmall {
        /// The operation.
        op: &'static str,
        /// Rows needed.
        needed: usize,
        /// Rows given.
        got: usize,
    },
    /// An input contains NaN or an infinity.
    #[error("{op}: non-finite value in {what} at flat index {index}")]
    NonFinite {
        /// The operation that found it.
        op: &'static str,
        /// Which argument, e.g. `"x"`.
        what: &'static str,
        /// Flat (row-major) index of the first non-finite element.
        index: usize,
    },
    /// The training loss became NaN or infinite; training stopped.
    #[error("training loss is not finite ({loss}) at epoch {epoch}")]
    NanLoss {
        /// The epoch (0-based) in which the loss was not finite.
        epoch: usize,
        /// The offending loss value.
        loss: f64,
    },
    /// A hyper-parameter is invalid.
    #[error("invalid config: {field} = {value}: {reason}")]
    InvalidConfig {
        /// The config field, e.g. `"learning_rate"`.
        field: &'static str,
        /// The rejected value, formatted.
        value: String,
        /// What the field must satisfy.
        reason: &'static str,
    },
    /// A sparse matrix is not in the storage order an operation needs (CSR).
    #[error("{op}: sparse matrix {what} must be stored as CSR")]
    NotCsr {
        /// The operation.
        op: &'static str,
        /// Which argument.
        what: &'static str,
    },
    /// Graph offsets of a batch are not increasing from 0 to the number of nodes.
    #[error("{op}: invalid graph offsets: {reason}")]
    InvalidOffsets {
        /// The operation.
        op: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// A labels/targets value is out of range (e.g. a class index >= number of classes).
    #[error("{op}: target {value} at row {row} out of range 0..{n_classes}")]
    TargetOutOfRange {
        /// The operation.
        op: &'static str,
        /// Row of the offending target.
        row: usize,
        /// The target value.
        value: usize,
        /// Number of classes.
        n_classes: usize,
    },
    /// An optimizer found a parameter that no backward pass has written a gradient to since the
    /// last zeroing (it is probably unused by the loss).
    #[error("parameter {name} has no gradient (was it used in the forward pass?)")]
    MissingGrad {
        /// Full dotted name of the parameter, e.g. `"fc.0.weight"`.
        name: String,
    },
    /// An optimizer was used with a model whose parameters differ from those it was built on.
    #[error("optimizer state does not match parameter {name}: {reason}")]
    OptimizerState {
        /// Parameter name.
        name: String,
        /// What differs.
        reason: &'static str,
    },
    /// The analytic gradient differs from the finite-difference estimate (see [`crate::gradcheck`]).
    #[error("gradient check failed for {tensor}[{index}]: analytic {analytic}, numeric {numeric}")]
    GradientMismatch {
        /// `"input"` or the parameter name.
        tensor: String,
        /// Flat index of the element.
        index: usize,
        /// Gradient from the backward pass.
        analytic: f64,
        /// Central finite-difference estimate.
        numeric: f64,
    },
    /// Reading or writing a file failed.
    #[error("i/o error on {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A safetensors file could not be written or parsed.
    #[error("safetensors error on {path}: {source}")]
    SafeTensors {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: safetensors::SafeTensorError,
    },
    /// A JSON config could not be written or parsed.
    #[error("json error on {path}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: serde_json::Error,
    },
    /// A tensor the model needs is missing from a weights file.
    #[error("tensor {name} missing from {path}")]
    MissingTensor {
        /// Tensor name, e.g. `"gcn.0.weight"`.
        name: String,
        /// The file.
        path: PathBuf,
    },
    /// A tensor in a weights file has another shape than the model's (the file was saved from
    /// another configuration).
    #[error("tensor {name} in {path}: expected shape {expected:?}, file has {actual:?}")]
    TensorShape {
        /// Tensor name.
        name: String,
        /// The file.
        path: PathBuf,
        /// Shape in the model.
        expected: Vec<usize>,
        /// Shape in the file.
        actual: Vec<usize>,
    },
    /// A weights file holds a tensor the model does not have (it was saved from another model).
    #[error("unexpected tensor {name} in {path}")]
    UnexpectedTensor {
        /// Tensor name.
        name: String,
        /// The file.
        path: PathBuf,
    },
    /// A saved config describes another kind of model or element type than the one loaded.
    #[error("{path} holds a {found} model, expected {expected}")]
    ModelKind {
        /// The config file.
        path: PathBuf,
        /// Kind (and dtype) expected, e.g. `"graph_classifier/F32"`.
        expected: String,
        /// Kind found in the file.
        found: String,
    },
    /// A tensor in a weights file has another element type than the model's.
    #[error("tensor {name} in {path}: expected dtype {expected}, file has {actual}")]
    TensorDtype {
        /// Tensor name.
        name: String,
        /// The file.
        path: PathBuf,
        /// Dtype of the model, e.g. `"F32"`.
        expected: String,
        /// Dtype in the file.
        actual: String,
    },
    /// A key a file format needs is missing from a safetensors file's metadata, or its value
    /// is not what the format expects.
    #[error("metadata key {key} missing or invalid in {path}")]
    MissingMetadata {
        /// The metadata key, e.g. `"words"`.
        key: &'static str,
        /// The file.
        path: PathBuf,
    },
    /// A weights tensor holds the transpose of the expected matrix: it was written in the
    /// (in, out) layout of the reference code (or of an earlier version of this crate's GCN),
    /// while this crate stores weights (out, in) as PyTorch.
    #[error(
        "tensor {name} in {path} has shape {actual:?}, the transpose of the expected {expected:?}: \
         it was stored (in, out); transpose it to PyTorch's (out, in) layout"
    )]
    TensorTransposed {
        /// Tensor name.
        name: String,
        /// The file.
        path: PathBuf,
        /// Shape in the model, (out, in).
        expected: Vec<usize>,
        /// Shape in the file, (in, out).
        actual: Vec<usize>,
    },
    /// A weights tensor holds NaN or an infinity.
    #[error("tensor {name} in {path} holds a non-finite value ({value}) at flat index {index}")]
    NonFiniteTensor {
        /// Tensor name.
        name: String,
        /// The file.
        path: PathBuf,
        /// Flat (row-major) index of the first non-finite element.
        index: usize,
        /// The value found (NaN or ±inf).
        value: f64,
    },
    /// A size in a model's JSON config disagrees with the shape of a tensor in its weights
    /// file: the two files do not belong together (or one was edited). Found before anything
    /// of that size is allocated.
    #[error(
        "{config}: {field} implies tensor {tensor} of shape {expected:?}, \
         but the weights file holds shape {actual:?}"
    )]
    ConfigTensorMismatch {
        /// The JSON config.
        config: PathBuf,
        /// The config field (or fields) the expected shape follows from, e.g. `"first_size"`.
        field: &'static str,
        /// Tensor name (in the weights file next to the config).
        tensor: String,
        /// Shape the config implies.
        expected: Vec<usize>,
        /// Shape in the weights file.
        actual: Vec<usize>,
    },
    /// A model file is larger than any model this crate writes.
    #[error("{path} is {size} bytes, more than the {limit} bytes a model config may have")]
    FileTooLarge {
        /// The file.
        path: PathBuf,
        /// Its size in bytes.
        size: u64,
        /// The largest size accepted.
        limit: u64,
    },
    /// A saved model's format version is not the one this version of the crate reads.
    #[error("{path}: format version {found}, expected {expected} ({reason})")]
    FormatVersion {
        /// The config file.
        path: PathBuf,
        /// The version this crate reads.
        expected: u32,
        /// The version in the file.
        found: u32,
        /// What changed between the versions.
        reason: &'static str,
    },
    /// Global node ids of a snapshot are not strictly ascending, or an id lies outside the
    /// model's node universe.
    #[error("invalid node id {id} at row {row}: {reason}")]
    InvalidNodeIds {
        /// Row of the offending id.
        row: usize,
        /// The id.
        id: u32,
        /// What is wrong.
        reason: &'static str,
    },
}

/// Result alias of darknet-nn.
pub type Result<T, E = NnError> = std::result::Result<T, E>;

/// Returns [`NnError::ShapeMismatch`] unless `actual == expected`.
pub(crate) fn check_shape(
    op: &'static str,
    what: &'static str,
    expected: &[usize],
    actual: &[usize],
) -> Result<()> {
    if expected == actual {
        Ok(())
    } else {
        Err(NnError::ShapeMismatch {
            op,
            what,
            expected: expected.to_vec(),
            actual: actual.to_vec(),
        })
    }
}

/// Returns [`NnError::NonFinite`] at the first NaN or infinity of `values`.
pub(crate) fn check_finite<'a, T: crate::Float>(
    op: &'static str,
    what: &'static str,
    values: impl IntoIterator<Item = &'a T>,
) -> Result<()> {
    match values.into_iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(index) => Err(NnError::NonFinite { op, what, index }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_mismatch_names_op_and_shapes() {
        let e = check_shape("Linear::forward", "x", &[2, 3], &[2, 4]).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("Linear::forward") && msg.contains("[2, 3]") && msg.contains("[2, 4]")
        );
    }

    #[test]
    fn non_finite_reports_index() {
        let v = [1.0f32, 2.0, f32::NAN];
        match check_finite("op", "x", v.iter()) {
            Err(NnError::NonFinite { index: 2, .. }) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}
