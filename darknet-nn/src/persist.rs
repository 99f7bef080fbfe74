//! Saving and loading models: weights as safetensors, hyper-parameters as JSON.
//!
//! A model implementing [`Persist`] is written as two files:
//!
//! - a safetensors file with every parameter and buffer under its `state_dict`-style name
//!   (`gcn.0.weight`, `fc.1.bn.running_var`, ...) in PyTorch's layouts, little-endian `F32`
//!   for `f32` models (`F64` for `f64`), loadable with `safetensors.torch.load_file`;
//! - a JSON file `{"format": 1, "kind": ..., "dtype": ..., "model": {...}}` holding the
//!   hyper-parameters and dimensions from which [`Persist::from_meta`] rebuilds the model.
//!
//! Loading rebuilds the model from the JSON, then overwrites every tensor from the safetensors
//! file: the round trip is bit-identical. A file from another configuration is a clear error
//! naming the tensor and both shapes ([`NnError::TensorShape`]), a missing or extra tensor
//! ([`NnError::MissingTensor`], [`NnError::UnexpectedTensor`]), another element type
//! ([`NnError::TensorDtype`]) or another kind of model ([`NnError::ModelKind`]).
//!
//! **Model files are untrusted input.** Before [`load`] allocates anything a config asks for,
//! it reads the tensor shapes from the safetensors header and checks every size of the JSON
//! config against them ([`Persist::check_shapes`], [`NnError::ConfigTensorMismatch`]), so a
//! config asking for a layer of 10¹² units is an error, not an abort; a config file larger
//! than [`MAX_CONFIG_BYTES`] is refused. A weight that is NaN or infinite is an error naming
//! the tensor ([`NnError::NonFiniteTensor`]), and a matrix stored transposed (the (in, out)
//! layout of the reference code) is recognised as such ([`NnError::TensorTransposed`]).
//!
//! **Format versions.** The JSON's `format` is [`Persist::FORMAT`] of the model kind. Models
//! with graph convolutions are at format 2: their GCN weights are stored (out, in), PyTorch's
//! layout; files of format 1 (GCN weights (in, out)) are refused with
//! [`NnError::FormatVersion`], since a square weight would otherwise load transposed
//! silently.
//!
//! Optimizer state: [`save_adam`] / [`load_adam`] write and read an [`Adam`]'s step count and
//! moments, so training resumes exactly where it stopped.
//!
//! ```
//! use darknet_nn::model::{PortAutoencoder, PortAutoencoderConfig};
//! use darknet_nn::persist::{load, save};
//! use rand::SeedableRng;
//! let dir = std::env::temp_dir().join(format!("darknet-nn-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let (w, c) = (dir.join("ae.safetensors"), dir.join("ae.json"));
//! let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
//! let ae = PortAutoencoder::<f32>::new(PortAutoencoderConfig::default(), 12, &mut rng).unwrap();
//! save(&ae, &w, &c).unwrap();
//! let back: PortAutoencoder<f32> = load(&w, &c).unwrap();
//! assert_eq!(back, ae);
//! # std::fs::remove_dir_all(&dir).ok();
//! ```

use crate::model::{
    GraphClassifier, GraphClassifierConfig, PortAutoencoder, PortAutoencoderConfig,
};
use crate::optim::{Adam, AdamConfig, AdamState, Moments};
use crate::{Float, HasParams, NnError, Result};
use ndarray::{ArrayD, ArrayViewMutD, IxDyn};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The largest JSON config [`load`] reads, in bytes (configs are a few hundred bytes).
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// A model that can be saved and rebuilt.
pub trait Persist<T: Float>: HasParams<T> + Clone + Sized {
    /// Hyper-parameters and dimensions, enough to rebuild a model of the same shapes.
    type Meta: Serialize + DeserializeOwned;
    /// Name of the model kind in the JSON file, e.g. `"graph_classifier"`.
    const KIND: &'static str;
    /// Format version written to and required in the JSON file; raise it when the saved
    /// layout of this kind changes.
    const FORMAT: u32 = 1;
    /// What changed at the current [`Persist::FORMAT`], for the error on older files.
    const FORMAT_CHANGE: &'static str = "saved by another version";
    /// The description of this model.
    fn meta(&self) -> Self::Meta;
    /// A model with the shapes `meta` describes (its values are then overwritten by [`load`]).
    fn from_meta(meta: &Self::Meta) -> Result<Self>;
    /// Checks the sizes of `meta` against the tensor shapes of the weights file, before
    /// [`Persist::from_meta`] allocates them: every weight matrix the config implies should be
    /// checked with [`TensorShapes::expect`], so an edited or mismatched config is an error
    /// rather than a huge allocation. The default checks nothing.
    fn check_shapes(meta: &Self::Meta, shapes: &TensorShapes) -> Result<()> {
        let _ = (meta, shapes);
        Ok(())
    }
}

/// The tensor names and shapes of a safetensors file, read from its header (no tensor data
/// copied), with the paths of the two files of a saved model for error messages.
#[derive(Debug, Clone)]
pub struct TensorShapes {
    config: PathBuf,
    weights: PathBuf,
    shapes: BTreeMap<String, Vec<usize>>,
}

impl TensorShapes {
    /// The shapes of the tensors in the safetensors `bytes` read from `weights`; `config` is
    /// the JSON file whose sizes will be checked against them.
    ///
    /// Errors: [`NnError::SafeTensors`] for a malformed file.
    pub fn read(bytes: &[u8], weights: &Path, config: &Path) -> Result<Self> {
        let st = SafeTensors::deserialize(bytes).map_err(st_err(weights))?;
        let shapes = st
            .tensors()
            .into_iter()
            .map(|(name, view)| (name, view.shape().to_vec()))
            .collect();
        Ok(Self {
            config: config.to_path_buf(),
            weights: weights.to_path_buf(),
            shapes,
        })
    }

    /// The shape of tensor `name`, if the file has it.
    pub fn shape(&self, name: &str) -> Option<&[usize]> {
        self.shapes.get(name).map(Vec::as_slice)
    }

    /// Checks that tensor `name` has the shape `expected` that config field(s) `field` imply.
    ///
    /// Errors: [`NnError::MissingTensor`]; [`NnError::TensorTransposed`] for a matrix stored
    /// (in, out); [`NnError::ConfigTensorMismatch`] naming the field, the tensor and both
    /// shapes.
    pub fn expect(&self, field: &'static str, name: &str, expected: &[usize]) -> Result<()> {
        match self.shapes.get(name) {
            None => Err(NnError::MissingTensor {
                name: name.to_string(),
                path: self.weights.clone(),
            }),
            Some(actual)
                if actual.len() == 2
                    && expected.len() == 2
                    && actual[0] != actual[1]
                    && actual[0] == expected[1]
                    && actual[1] == expected[0] =>
            {
                Err(NnError::TensorTransposed {
                    name: name.to_string(),
                    path: self.weights.clone(),
                    expected: expected.to_vec(),
                    actual: actual.clone(),
                })
            }
            Some(actual) if actual != expected => Err(NnError::ConfigTensorMismatch {
                config: self.config.clone(),
                field,
                tensor: name.to_string(),
                expected: expected.to_vec(),
                actual: actual.clone(),
            }),
            Some(_) => Ok(()),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct SavedConfig<M> {
    format: u32,
    kind: String,
    dtype: String,
    model: M,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> NnError + '_ {
    move |source| NnError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn st_err(path: &Path) -> impl FnOnce(safetensors::SafeTensorError) -> NnError + '_ {
    move |source| NnError::SafeTensors {
        path: path.to_path_buf(),
        source,
    }
}

fn dtype_of<T: Float>() -> Dtype {
    if T::BYTES == 4 {
        Dtype::F32
    } else {
        Dtype::F64
    }
}

/// Every parameter then every buffer of `model`, as (name, shape, little-endian bytes), sorted
/// by name.
pub fn tensors<T: Float, M: HasParams<T>>(model: &mut M) -> Vec<(String, Vec<usize>, Vec<u8>)> {
    let mut out = Vec::new();
    let mut push = |name: &str, v: &ArrayViewMutD<'_, T>| {
        let mut bytes = Vec::with_capacity(v.len() * T::BYTES);
        for &x in v.iter() {
            x.write_le(&mut bytes);
        }
        out.push((name.to_string(), v.shape().to_vec(), bytes));
    };
    model.visit_params(&mut |name, p| push(name, &p.value));
    model.visit_buffers(&mut |name, b| push(name, &b));
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The safetensors bytes of `model`'s parameters and buffers.
pub fn to_safetensors<T: Float, M: HasParams<T>>(model: &mut M) -> Result<Vec<u8>> {
    let ts = tensors(model);
    let views = ts
        .iter()
        .map(|(name, shape, bytes)| {
            TensorView::new(dtype_of::<T>(), shape.clone(), bytes).map(|v| (name.clone(), v))
        })
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(st_err(Path::new("<memory>")))?;
    safetensors::serialize(views, None).map_err(st_err(Path::new("<memory>")))
}

/// Overwrites every parameter and buffer of `model` from safetensors `bytes` (`path` names the
/// source in errors). Every tensor of the model must be present with the same shape and dtype
/// and finite values, and the file must hold no other tensor.
///
/// Errors: [`NnError::SafeTensors`], [`NnError::MissingTensor`], [`NnError::TensorDtype`],
/// [`NnError::TensorShape`], [`NnError::TensorTransposed`] (a matrix stored (in, out)),
/// [`NnError::NonFiniteTensor`], [`NnError::UnexpectedTensor`]; the model is partly
/// overwritten then.
pub fn load_safetensors_into<T: Float, M: HasParams<T>>(
    model: &mut M,
    bytes: &[u8],
    path: &Path,
) -> Result<()> {
    let st = SafeTensors::deserialize(bytes).map_err(st_err(path))?;
    let mut err: Option<NnError> = None;
    let mut seen = BTreeMap::new();
    let mut fill = |name: &str, mut dst: ArrayViewMutD<'_, T>| {
        if err.is_some() {
            return;
        }
        seen.insert(name.to_string(), ());
        let t = match st.tensor(name) {
            Ok(t) => t,
            Err(_) => {
                err = Some(NnError::MissingTensor {
                    name: name.to_string(),
                    path: path.to_path_buf(),
                });
                return;
            }
        };
        if t.dtype() != dtype_of::<T>() {
            err = Some(NnError::TensorDtype {
                name: name.to_string(),
                path: path.to_path_buf(),
                expected: T::DTYPE.to_string(),
                actual: format!("{:?}", t.dtype()),
            });
            return;
        }
        if t.shape() != dst.shape() {
            let transposed = dst.ndim() == 2
                && t.shape().len() == 2
                && t.shape()[0] == dst.shape()[1]
                && t.shape()[1] == dst.shape()[0];
            let (name, path) = (name.to_string(), path.to_path_buf());
            let (expected, actual) = (dst.shape().to_vec(), t.shape().to_vec());
            err = Some(if transposed {
                NnError::TensorTransposed {
                    name,
                    path,
                    expected,
                    actual,
                }
            } else {
                NnError::TensorShape {
                    name,
                    path,
                    expected,
                    actual,
                }
            });
            return;
        }
        for (index, chunk) in t.data().chunks_exact(T::BYTES).enumerate() {
            let v = T::read_le(chunk);
            if !v.is_finite() {
                err = Some(NnError::NonFiniteTensor {
                    name: name.to_string(),
                    path: path.to_path_buf(),
                    index,
                    value: v.as_f64(),
                });
                return;
            }
        }
        for (x, chunk) in dst.iter_mut().zip(t.data().chunks_exact(T::BYTES)) {
            *x = T::read_le(chunk);
        }
    };
    model.visit_params(&mut |name, p| fill(name, p.value));
    model.visit_buffers(&mut |name, b| fill(name, b));
    if let Some(e) = err {
        return Err(e);
    }
    let mut names = st.names();
    names.sort();
    if let Some(extra) = names.into_iter().find(|n| !seen.contains_key(*n)) {
        return Err(NnError::UnexpectedTensor {
            name: extra.to_string(),
            path: path.to_path_buf(),
        });
    }
    Ok(())
}

/// Writes `model`'s weights to `weights` (safetensors) and its hyper-parameters to `config`
/// (JSON).
///
/// Errors: [`NnError::Io`], [`NnError::SafeTensors`], [`NnError::Json`].
pub fn save<T: Float, M: Persist<T>>(
    model: &M,
    weights: impl AsRef<Path>,
    config: impl AsRef<Path>,
) -> Result<()> {
    let (weights, config) = (weights.as_ref(), config.as_ref());
    let saved = SavedConfig {
        format: M::FORMAT,
        kind: M::KIND.to_string(),
        dtype: T::DTYPE.to_string(),
        model: model.meta(),
    };
    let json = serde_json::to_string_pretty(&saved).map_err(|source| NnError::Json {
        path: config.to_path_buf(),
        source,
    })?;
    std::fs::write(config, json).map_err(io_err(config))?;
    let bytes = to_safetensors(&mut model.clone())?;
    std::fs::write(weights, bytes).map_err(io_err(weights))
}

/// Rebuilds a model saved by [`save`], treating both files as untrusted: the config's sizes
/// are checked against the weights file's tensor shapes before the model is allocated.
///
/// Errors: [`NnError::Io`], [`NnError::FileTooLarge`] (config), [`NnError::Json`],
/// [`NnError::ModelKind`], [`NnError::FormatVersion`], the errors of
/// [`Persist::check_shapes`], [`Persist::from_meta`] and [`load_safetensors_into`].
pub fn load<T: Float, M: Persist<T>>(
    weights: impl AsRef<Path>,
    config: impl AsRef<Path>,
) -> Result<M> {
    let (weights, config) = (weights.as_ref(), config.as_ref());
    let size = std::fs::metadata(config).map_err(io_err(config))?.len();
    if size > MAX_CONFIG_BYTES {
        return Err(NnError::FileTooLarge {
            path: config.to_path_buf(),
            size,
            limit: MAX_CONFIG_BYTES,
        });
    }
    let text = std::fs::read_to_string(config).map_err(io_err(config))?;
    let json_err = |source| NnError::Json {
        path: config.to_path_buf(),
        source,
    };
    let head: SavedConfig<serde_json::Value> = serde_json::from_str(&text).map_err(json_err)?;
    if head.kind != M::KIND || head.dtype != T::DTYPE {
        return Err(NnError::ModelKind {
            path: config.to_path_buf(),
            expected: format!("{}/{}", M::KIND, T::DTYPE),
            found: format!("{}/{}", head.kind, head.dtype),
        });
    }
    if head.format != M::FORMAT {
        return Err(NnError::FormatVersion {
            path: config.to_path_buf(),
            expected: M::FORMAT,
            found: head.format,
            reason: M::FORMAT_CHANGE,
        });
    }
    let meta: M::Meta = serde_json::from_value(head.model).map_err(json_err)?;
    let bytes = std::fs::read(weights).map_err(io_err(weights))?;
    M::check_shapes(&meta, &TensorShapes::read(&bytes, weights, config)?)?;
    let mut model = M::from_meta(&meta)?;
    load_safetensors_into(&mut model, &bytes, weights)?;
    Ok(model)
}

/// Writes `adam`'s state (step count and moments) to `path` as safetensors: tensors
/// `<param>.exp_avg` and `<param>.exp_avg_sq` (PyTorch's names), the hyper-parameters, the
/// step count and the parameter order in the metadata.
///
/// Errors: [`NnError::Io`], [`NnError::SafeTensors`], [`NnError::Json`].
pub fn save_adam<T: Float>(adam: &Adam<T>, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let json_err = |source| NnError::Json {
        path: path.to_path_buf(),
        source,
    };
    let to_bytes = |a: &ArrayD<T>| {
        let mut out = Vec::with_capacity(a.len() * T::BYTES);
        a.iter().for_each(|&x| x.write_le(&mut out));
        out
    };
    let moments = adam.moments();
    let data: Vec<(String, Vec<usize>, Vec<u8>)> = moments
        .iter()
        .flat_map(|s| {
            [
                (
                    format!("{}.exp_avg", s.name),
                    s.m.shape().to_vec(),
                    to_bytes(&s.m),
                ),
                (
                    format!("{}.exp_avg_sq", s.name),
                    s.v.shape().to_vec(),
                    to_bytes(&s.v),
                ),
            ]
        })
        .collect();
    let views = data
        .iter()
        .map(|(n, shape, b)| TensorView::new(dtype_of::<T>(), shape.clone(), b).map(|v| (n, v)))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(st_err(path))?;
    let names: Vec<&str> = moments.iter().map(|s| s.name.as_str()).collect();
    let meta = std::collections::HashMap::from([
        ("kind".to_string(), "adam".to_string()),
        ("dtype".to_string(), T::DTYPE.to_string()),
        ("step".to_string(), adam.steps().to_string()),
        (
            "config".to_string(),
            serde_json::to_string(adam.config()).map_err(json_err)?,
        ),
        (
            "params".to_string(),
            serde_json::to_string(&names).map_err(json_err)?,
        ),
    ]);
    let bytes = safetensors::serialize(views, Some(meta)).map_err(st_err(path))?;
    std::fs::write(path, bytes).map_err(io_err(path))
}

/// Reads an optimizer written by [`save_adam`]: the same hyper-parameters, step count and
/// moments, so the next [`Adam::step`] continues the saved run exactly.
///
/// Errors: [`NnError::Io`], [`NnError::SafeTensors`], [`NnError::MissingMetadata`] (a file
/// that is not an optimizer state), [`NnError::Json`], [`NnError::MissingTensor`],
/// [`NnError::TensorDtype`], [`NnError::NonFiniteTensor`], and the errors of
/// [`Adam::from_state`].
pub fn load_adam<T: Float>(path: impl AsRef<Path>) -> Result<Adam<T>> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(io_err(path))?;
    let (_, header) = SafeTensors::read_metadata(&bytes).map_err(st_err(path))?;
    let st = SafeTensors::deserialize(&bytes).map_err(st_err(path))?;
    let meta = header.metadata().clone().unwrap_or_default();
    let get = |key: &'static str| {
        meta.get(key).ok_or(NnError::MissingMetadata {
            key,
            path: path.to_path_buf(),
        })
    };
    if get("kind")? != "adam" {
        return Err(NnError::MissingMetadata {
            key: "kind",
            path: path.to_path_buf(),
        });
    }
    let json_err = |source| NnError::Json {
        path: path.to_path_buf(),
        source,
    };
    let config: AdamConfig = serde_json::from_str(get("config")?).map_err(json_err)?;
    let names: Vec<String> = serde_json::from_str(get("params")?).map_err(json_err)?;
    let step: u64 = get("step")?.parse().map_err(|_| NnError::MissingMetadata {
        key: "step",
        path: path.to_path_buf(),
    })?;
    let read = |name: String| -> Result<ArrayD<T>> {
        let t = st.tensor(&name).map_err(|_| NnError::MissingTensor {
            name: name.clone(),
            path: path.to_path_buf(),
        })?;
        if t.dtype() != dtype_of::<T>() {
            return Err(NnError::TensorDtype {
                name,
                path: path.to_path_buf(),
                expected: T::DTYPE.to_string(),
                actual: format!("{:?}", t.dtype()),
            });
        }
        let mut values = Vec::with_capacity(t.data().len() / T::BYTES);
        for (index, chunk) in t.data().chunks_exact(T::BYTES).enumerate() {
            let v = T::read_le(chunk);
            if !v.is_finite() {
                return Err(NnError::NonFiniteTensor {
                    name,
                    path: path.to_path_buf(),
                    index,
                    value: v.as_f64(),
                });
            }
            values.push(v);
        }
        ArrayD::from_shape_vec(IxDyn(t.shape()), values).map_err(|_| NnError::TensorShape {
            name: name.clone(),
            path: path.to_path_buf(),
            expected: t.shape().to_vec(),
            actual: vec![t.data().len() / T::BYTES],
        })
    };
    let moments = names
        .into_iter()
        .map(|name| {
            Ok(Moments {
                m: read(format!("{name}.exp_avg"))?,
                v: read(format!("{name}.exp_avg_sq"))?,
                name,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Adam::from_state(config, AdamState { step, moments })
}

/// Saved description of a [`PortAutoencoder`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortAutoencoderMeta {
    /// Hyper-parameters.
    pub config: PortAutoencoderConfig,
    /// Input width (number of reference ports).
    pub input_dim: usize,
}

impl<T: Float> Persist<T> for PortAutoencoder<T> {
    type Meta = PortAutoencoderMeta;
    const KIND: &'static str = "port_autoencoder";
    fn meta(&self) -> Self::Meta {
        PortAutoencoderMeta {
            config: *self.config(),
            input_dim: self.input_dim(),
        }
    }
    fn from_meta(meta: &Self::Meta) -> Result<Self> {
        let mut rng = ChaCha8Rng::seed_from_u64(meta.config.train.seed);
        PortAutoencoder::new(meta.config, meta.input_dim, &mut rng)
    }
    fn check_shapes(meta: &Self::Meta, shapes: &TensorShapes) -> Result<()> {
        let c = &meta.config;
        c.validate()?;
        let hidden = c.hidden_sizes(meta.input_dim);
        let mut prev = meta.input_dim;
        for (k, &h) in hidden.iter().enumerate() {
            let name = format!("encoder.{k}.linear.weight");
            shapes.expect("input_dim, hidden_layers", &name, &[h, prev])?;
            prev = h;
        }
        shapes.expect("latent_dim", "latent.weight", &[c.latent_dim, prev])?;
        prev = c.latent_dim;
        for (k, &h) in hidden.iter().rev().enumerate() {
            let name = format!("decoder.{k}.linear.weight");
            shapes.expect("latent_dim, hidden_layers", &name, &[h, prev])?;
            prev = h;
        }
        shapes.expect("input_dim", "output.weight", &[meta.input_dim, prev])
    }
}

/// Saved description of a [`GraphClassifier`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphClassifierMeta {
    /// Hyper-parameters.
    pub config: GraphClassifierConfig,
    /// Width of the node features.
    pub n_features: usize,
    /// Number of labels.
    pub n_labels: usize,
}

impl<T: Float> Persist<T> for GraphClassifier<T> {
    type Meta = GraphClassifierMeta;
    const KIND: &'static str = "graph_classifier";
    const FORMAT: u32 = 2;
    const FORMAT_CHANGE: &'static str =
        "format 2 stores GCN weights (out, in) as PyTorch, format 1 stored them (in, out)";
    fn meta(&self) -> Self::Meta {
        GraphClassifierMeta {
            config: self.config().clone(),
            n_features: self.n_features(),
            n_labels: self.n_labels(),
        }
    }
    fn from_meta(meta: &Self::Meta) -> Result<Self> {
        let mut rng = ChaCha8Rng::seed_from_u64(meta.config.train.seed);
        GraphClassifier::new(
            meta.config.clone(),
            meta.n_features,
            meta.n_labels,
            &mut rng,
        )
    }
    fn check_shapes(meta: &Self::Meta, shapes: &TensorShapes) -> Result<()> {
        let c = &meta.config;
        c.validate()?;
        let sizes = c.hidden_sizes(meta.n_labels);
        let mut prev = meta.n_features;
        for (k, &s) in sizes.iter().enumerate() {
            let (name, field) = match k.checked_sub(c.gcn_layers) {
                None => (
                    format!("gcn.{k}.weight"),
                    "first_size, n_features, gcn_layers",
                ),
                Some(j) => (format!("fc.{j}.linear.weight"), "first_size, fc_layers"),
            };
            shapes.expect(field, &name, &[s, prev])?;
            prev = s;
        }
        shapes.expect("n_labels", "output.weight", &[meta.n_labels, prev])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::Graph;
    use ndarray::Array2;
    use sprs::TriMat;
    use std::path::PathBuf;

    fn dir(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("darknet-nn-persist-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn trained_classifier() -> (GraphClassifier<f32>, Vec<Graph<f32>>) {
        let mut t = TriMat::new((3, 3));
        t.add_triplet(0, 1, 2.0f32);
        t.add_triplet(1, 0, 2.0);
        t.add_triplet(1, 2, 1.0);
        t.add_triplet(2, 1, 1.0);
        let adj = t.to_csr();
        let graphs: Vec<Graph<f32>> = (0..6)
            .map(|i| Graph::new(&adj, Array2::from_elem((3, 4), i as f32 / 6.0)).unwrap())
            .collect();
        let labels = Array2::from_shape_fn((6, 3), |(i, l)| ((i + l) % 2) as f32);
        let cfg = GraphClassifierConfig::default()
            .first_size(8)
            .batch_size(3)
            .max_epochs(2);
        (
            cfg.fit(&graphs, labels.view(), &mut |_| {}).unwrap().0,
            graphs,
        )
    }

    #[test]
    fn classifier_round_trip_is_bit_identical() {
        let d = dir("rt");
        let (m, graphs) = trained_classifier();
        let (w, c) = (d.join("m.safetensors"), d.join("m.json"));
        save(&m, &w, &c).unwrap();
        let back: GraphClassifier<f32> = load(&w, &c).unwrap();
        let (mut a, mut b) = (m.clone(), back.clone());
        assert_eq!(tensors(&mut a), tensors(&mut b));
        assert_eq!(
            m.scores_graphs(&graphs, 4).unwrap(),
            back.scores_graphs(&graphs, 4).unwrap()
        );
        // Names are PyTorch state_dict style.
        let names: Vec<String> = tensors(&mut a).into_iter().map(|t| t.0).collect();
        assert!(names.contains(&"gcn.0.weight".to_string()));
        assert!(names.contains(&"fc.1.bn.running_var".to_string()));
        assert!(names.contains(&"output.bias".to_string()));
        std::fs::remove_dir_all(d).ok();
    }

    #[test]
    fn other_configuration_is_a_clear_error() {
        let d = dir("other");
        let (m, _) = trained_classifier();
        let (w, c) = (d.join("m.safetensors"), d.join("m.json"));
        save(&m, &w, &c).unwrap();
        // Same kind, other first size: shape error naming the tensor.
        let mut other = GraphClassifier::<f32>::new(
            m.config().clone().first_size(16),
            4,
            3,
            &mut ChaCha8Rng::seed_from_u64(0),
        )
        .unwrap();
        let bytes = std::fs::read(&w).unwrap();
        match load_safetensors_into(&mut other, &bytes, &w) {
            Err(NnError::TensorShape {
                name,
                expected,
                actual,
                ..
            }) => {
                assert_eq!(name, "gcn.0.weight");
                assert_eq!((expected, actual), (vec![16, 4], vec![8, 4]));
            }
            other => panic!("{other:?}"),
        }
        // Fewer layers: extra tensors in the file.
        let mut fewer = GraphClassifier::<f32>::new(
            m.config().clone().gcn_layers(1).fc_layers(0).first_size(8),
            4,
            3,
            &mut ChaCha8Rng::seed_from_u64(0),
        )
        .unwrap();
        let e = load_safetensors_into(&mut fewer, &bytes, &w).unwrap_err();
        assert!(
            matches!(
                e,
                NnError::MissingTensor { .. }
                    | NnError::TensorShape { .. }
                    | NnError::UnexpectedTensor { .. }
            ),
            "{e:?}"
        );
        // More layers: a missing tensor.
        let mut more = GraphClassifier::<f32>::new(
            m.config().clone().gcn_layers(3),
            4,
            3,
            &mut ChaCha8Rng::seed_from_u64(0),
        )
        .unwrap();
        let e = load_safetensors_into(&mut more, &bytes, &w).unwrap_err();
        assert!(
            matches!(
                e,
                NnError::MissingTensor { .. } | NnError::TensorShape { .. }
            ),
            "{e:?}"
        );
        // A tensor missing from the file.
        let mut same = m.clone();
        let ts: Vec<_> = tensors(&mut same)
            .into_iter()
            .filter(|t| t.0 != "output.bias")
            .collect();
        let views: Vec<_> = ts
            .iter()
            .map(|(n, s, b)| {
                (
                    n.clone(),
                    TensorView::new(Dtype::F32, s.clone(), b).unwrap(),
                )
            })
            .collect();
        let missing = safetensors::serialize(views, None).unwrap();
        assert!(matches!(
            load_safetensors_into(&mut same, &missing, &w),
            Err(NnError::MissingTensor { name, .. }) if name == "output.bias"
        ));
        // Extra tensor only.
        let mut same = m.clone();
        let mut ts = tensors(&mut same);
        ts.push(("extra".into(), vec![1], vec![0, 0, 0, 0]));
        let views: Vec<_> = ts
            .iter()
            .map(|(n, s, b)| {
                (
                    n.clone(),
                    TensorView::new(Dtype::F32, s.clone(), b).unwrap(),
                )
            })
            .collect();
        let extra = safetensors::serialize(views, None).unwrap();
        assert!(
            matches!(load_safetensors_into(&mut same, &extra, &w), Err(NnError::UnexpectedTensor { name, .. }) if name == "extra")
        );
        // Wrong dtype and wrong kind.
        let e = load::<f64, GraphClassifier<f64>>(&w, &c).unwrap_err();
        assert!(matches!(e, NnError::ModelKind { .. }));
        let e = load::<f32, PortAutoencoder<f32>>(&w, &c).unwrap_err();
        assert!(matches!(e, NnError::ModelKind { .. }));
        let mut m64 = GraphClassifier::<f64>::new(
            m.config().clone(),
            4,
            3,
            &mut ChaCha8Rng::seed_from_u64(0),
        )
        .unwrap();
        assert!(matches!(
            load_safetensors_into(&mut m64, &bytes, &w),
            Err(NnError::TensorDtype { .. })
        ));
        // Missing files and broken contents.
        let e = load::<f32, GraphClassifier<f32>>(d.join("none.safetensors"), &c).unwrap_err();
        assert!(matches!(e, NnError::Io { .. }));
        std::fs::write(d.join("bad.json"), "{").unwrap();
        let e = load::<f32, GraphClassifier<f32>>(&w, d.join("bad.json")).unwrap_err();
        assert!(matches!(e, NnError::Json { .. }));
        std::fs::write(d.join("bad.safetensors"), b"xx").unwrap();
        let e = load::<f32, GraphClassifier<f32>>(d.join("bad.safetensors"), &c).unwrap_err();
        assert!(matches!(e, NnError::SafeTensors { .. }));
        std::fs::remove_dir_all(d).ok();
    }

    #[test]
    fn autoencoder_round_trip_after_training() {
        let d = dir("ae");
        let x = Array2::from_shape_fn((30, 6), |(i, j)| ((i * 3 + j) % 7) as f32 / 7.0);
        let (ae, _) = PortAutoencoderConfig::default()
            .latent_dim(2)
            .max_epochs(3)
            .batch_size(8)
            .fit(x.view(), &mut |_| {})
            .unwrap();
        let (w, c) = (d.join("ae.safetensors"), d.join("ae.json"));
        save(&ae, &w, &c).unwrap();
        let back: PortAutoencoder<f32> = load(&w, &c).unwrap();
        assert_eq!(back, ae);
        assert_eq!(back.encode(x.view()).unwrap(), ae.encode(x.view()).unwrap());
        std::fs::remove_dir_all(d).ok();
    }

    /// Saves the trained classifier and returns (dir, weights, config).
    fn saved_classifier(name: &str) -> (PathBuf, PathBuf, PathBuf) {
        let d = dir(name);
        let (m, _) = trained_classifier();
        let (w, c) = (d.join("m.safetensors"), d.join("m.json"));
        save(&m, &w, &c).unwrap();
        (d, w, c)
    }

    /// Rewrites one `"key": value` of a saved JSON config.
    fn edit_json(c: &Path, key: &str, value: serde_json::Value) {
        let mut j: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(c).unwrap()).unwrap();
        let slot = if key == "format" {
            &mut j["format"]
        } else if j["model"].get(key).is_some() {
            &mut j["model"][key]
        } else {
            &mut j["model"]["config"][key]
        };
        *slot = value;
        std::fs::write(c, j.to_string()).unwrap();
    }

    /// Rewrites the weights file with `f` applied to the tensor list.
    fn edit_tensors(
        w: &Path,
        f: impl FnOnce(&mut Vec<(String, Vec<usize>, Vec<u8>)>),
    ) -> Vec<(String, Vec<usize>, Vec<u8>)> {
        let mut m: GraphClassifier<f32> = {
            let c = w.with_extension("json");
            load(w, c).unwrap()
        };
        let mut ts = tensors(&mut m);
        f(&mut ts);
        let views: Vec<_> = ts
            .iter()
            .map(|(n, s, b)| {
                (
                    n.clone(),
                    TensorView::new(Dtype::F32, s.clone(), b).unwrap(),
                )
            })
            .collect();
        std::fs::write(w, safetensors::serialize(views, None).unwrap()).unwrap();
        ts
    }

    #[test]
    fn oversized_config_sizes_fail_before_allocation() {
        // 10^12 units would abort the process if allocated; 20000 would allocate hundreds of
        // megabytes before a shape error. Both are refused from the header alone.
        for first_size in [1_000_000_000_000u64, 20_000] {
            let (d, w, c) = saved_classifier(&format!("big{first_size}"));
            edit_json(&c, "first_size", first_size.into());
            let e = load::<f32, GraphClassifier<f32>>(&w, &c).unwrap_err();
            match &e {
                NnError::ConfigTensorMismatch {
                    tensor,
                    expected,
                    actual,
                    ..
                } => {
                    assert_eq!(tensor, "gcn.0.weight");
                    assert_eq!(expected, &vec![first_size as usize, 4]);
                    assert_eq!(actual, &vec![8, 4]);
                }
                other => panic!("{other:?}"),
            }
            let msg = e.to_string();
            assert!(
                msg.contains("first_size") && msg.contains("[8, 4]"),
                "{msg}"
            );
            std::fs::remove_dir_all(d).ok();
        }
        // Feature and label counts are checked the same way.
        let (d, w, c) = saved_classifier("labels");
        edit_json(&c, "n_labels", 1_000_000_000.into());
        let e = load::<f32, GraphClassifier<f32>>(&w, &c).unwrap_err();
        assert!(matches!(e, NnError::ConfigTensorMismatch { .. }), "{e:?}");
        std::fs::remove_dir_all(d).ok();
        let (d, w, c) = saved_classifier("features");
        edit_json(&c, "n_features", 1_000_000_000.into());
        let e = load::<f32, GraphClassifier<f32>>(&w, &c).unwrap_err();
        assert!(matches!(e, NnError::ConfigTensorMismatch { .. }), "{e:?}");
        std::fs::remove_dir_all(d).ok();
    }

    #[test]
    fn oversized_autoencoder_config_fails_before_allocation() {
        let d = dir("ae-big");
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let ae =
            PortAutoencoder::<f32>::new(PortAutoencoderConfig::default(), 12, &mut rng).unwrap();
        let (w, c) = (d.join("ae.safetensors"), d.join("ae.json"));
        save(&ae, &w, &c).unwrap();
        edit_json(&c, "input_dim", 1_000_000_000_000u64.into());
        let e = load::<f32, PortAutoencoder<f32>>(&w, &c).unwrap_err();
        assert!(matches!(e, NnError::ConfigTensorMismatch { .. }), "{e:?}");
        std::fs::remove_dir_all(d).ok();
    }

    #[test]
    fn non_finite_weight_names_the_tensor() {
        let (d, w, c) = saved_classifier("nan");
        edit_tensors(&w, |ts| {
            let t = ts.iter_mut().find(|t| t.0 == "fc.0.linear.bias").unwrap();
            t.2[4..8].copy_from_slice(&f32::NAN.to_le_bytes());
        });
        let e = load::<f32, GraphClassifier<f32>>(&w, &c).unwrap_err();
        match e {
            NnError::NonFiniteTensor { name, index, .. } => {
                assert_eq!((name.as_str(), index), ("fc.0.linear.bias", 1));
            }
            other => panic!("{other:?}"),
        }
        std::fs::remove_dir_all(d).ok();
    }

    #[test]
    fn transposed_weight_and_old_format_are_recognised() {
        let (d, w, c) = saved_classifier("transposed");
        edit_tensors(&w, |ts| {
            let t = ts.iter_mut().find(|t| t.0 == "gcn.1.weight").unwrap();
            t.1.reverse();
        });
        let mut m = load::<f32, GraphClassifier<f32>>(&w, &c);
        assert!(matches!(m, Err(NnError::TensorTransposed { .. })), "{m:?}");
        let bytes = std::fs::read(&w).unwrap();
        let (mut fresh, _) = trained_classifier();
        let e = load_safetensors_into(&mut fresh, &bytes, &w).unwrap_err();
        assert!(matches!(e, NnError::TensorTransposed { .. }), "{e:?}");
        assert!(e.to_string().contains("(out, in)"), "{e}");
        // A file of format 1 (GCN weights (in, out)) is refused: square weights would load
        // transposed without any shape error.
        let (d2, w2, c2) = saved_classifier("format1");
        edit_json(&c2, "format", 1.into());
        m = load::<f32, GraphClassifier<f32>>(&w2, &c2);
        match m {
            Err(NnError::FormatVersion {
                expected, found, ..
            }) => assert_eq!((expected, found), (2, 1)),
            other => panic!("{other:?}"),
        }
        std::fs::remove_dir_all(d).ok();
        std::fs::remove_dir_all(d2).ok();
    }

    #[test]
    fn huge_config_file_is_refused() {
        let (d, w, c) = saved_classifier("hugejson");
        let mut text = std::fs::read_to_string(&c).unwrap();
        text.push_str(&" ".repeat(MAX_CONFIG_BYTES as usize + 1));
        std::fs::write(&c, text).unwrap();
        let e = load::<f32, GraphClassifier<f32>>(&w, &c).unwrap_err();
        assert!(matches!(e, NnError::FileTooLarge { .. }), "{e:?}");
        std::fs::remove_dir_all(d).ok();
    }

    /// Training 2k steps in one run equals training k, saving model and optimizer, loading
    /// both and training k more, bit for bit (Adam and AdamW).
    #[test]
    fn training_resumes_bit_identically_from_saved_adam() {
        use crate::loss::mse;
        use crate::Linear;
        let x = Array2::from_shape_fn((6, 3), |(i, j)| ((i * 3 + j) as f32 * 0.7).sin());
        let y = Array2::from_shape_fn((6, 2), |(i, j)| ((i + 2 * j) as f32 * 0.3).cos());
        let train = |lin: &mut Linear<f32>, adam: &mut Adam<f32>, steps: usize| {
            for _ in 0..steps {
                lin.zero_grad();
                let (p, cache) = lin.forward(x.view()).unwrap();
                let (_, g) = mse(p.view(), y.view()).unwrap();
                lin.backward(&cache, g.view()).unwrap();
                adam.step(lin).unwrap();
            }
        };
        let d = dir("adam");
        for cfg in [
            AdamConfig::default().learning_rate(0.05).weight_decay(0.1),
            AdamConfig::adamw().learning_rate(0.05),
        ] {
            let init = Linear::<f32>::new(3, 2, &mut ChaCha8Rng::seed_from_u64(1));
            let (mut full, mut a) = (init.clone(), Adam::new(cfg).unwrap());
            train(&mut full, &mut a, 10);
            let (mut half, mut b) = (init, Adam::new(cfg).unwrap());
            train(&mut half, &mut b, 5);
            let (wp, ap) = (d.join("lin.safetensors"), d.join("adam.safetensors"));
            std::fs::write(&wp, to_safetensors(&mut half).unwrap()).unwrap();
            save_adam(&b, &ap).unwrap();
            let mut resumed = Linear::<f32>::new(3, 2, &mut ChaCha8Rng::seed_from_u64(9));
            load_safetensors_into(&mut resumed, &std::fs::read(&wp).unwrap(), &wp).unwrap();
            let mut c = load_adam::<f32>(&ap).unwrap();
            assert_eq!(c.steps(), 5);
            assert_eq!(c.config(), &cfg);
            assert_eq!(c.moments(), b.moments());
            train(&mut resumed, &mut c, 5);
            assert_eq!(tensors(&mut resumed), tensors(&mut full));
            assert_eq!(c.state(), a.state());
        }
        // Not an optimizer file, and a state of the wrong element type.
        let e = load_adam::<f32>(d.join("lin.safetensors")).unwrap_err();
        assert!(matches!(e, NnError::MissingMetadata { .. }), "{e:?}");
        let e = load_adam::<f64>(d.join("adam.safetensors")).unwrap_err();
        assert!(matches!(e, NnError::TensorDtype { .. }), "{e:?}");
        std::fs::remove_dir_all(d).ok();
    }
}
