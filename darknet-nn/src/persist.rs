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
use crate::{Float, HasParams, NnError, Result};
use ndarray::ArrayViewMutD;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// A model that can be saved and rebuilt.
pub trait Persist<T: Float>: HasParams<T> + Clone + Sized {
    /// Hyper-parameters and dimensions, enough to rebuild a model of the same shapes.
    type Meta: Serialize + DeserializeOwned;
    /// Name of the model kind in the JSON file, e.g. `"graph_classifier"`.
    const KIND: &'static str;
    /// The description of this model.
    fn meta(&self) -> Self::Meta;
    /// A model with the shapes `meta` describes (its values are then overwritten by [`load`]).
    fn from_meta(meta: &Self::Meta) -> Result<Self>;
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
/// source in errors). Every tensor of the model must be present with the same shape and dtype,
/// and the file must hold no other tensor.
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
            err = Some(NnError::TensorShape {
                name: name.to_string(),
                path: path.to_path_buf(),
                expected: dst.shape().to_vec(),
                actual: t.shape().to_vec(),
            });
            return;
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
        format: 1,
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

/// Rebuilds a model saved by [`save`].
///
/// Errors: [`NnError::Io`], [`NnError::Json`], [`NnError::ModelKind`], the errors of
/// [`Persist::from_meta`] and of [`load_safetensors_into`].
pub fn load<T: Float, M: Persist<T>>(
    weights: impl AsRef<Path>,
    config: impl AsRef<Path>,
) -> Result<M> {
    let (weights, config) = (weights.as_ref(), config.as_ref());
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
    let meta: M::Meta = serde_json::from_value(head.model).map_err(json_err)?;
    let mut model = M::from_meta(&meta)?;
    let bytes = std::fs::read(weights).map_err(io_err(weights))?;
    load_safetensors_into(&mut model, &bytes, weights)?;
    Ok(model)
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
}
