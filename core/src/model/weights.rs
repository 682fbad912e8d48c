//! Where parameters come from and go to: HF-named, HF-layout host tensors.
//!
//! Modules are built from a [`WeightSource`] (a safetensors file's bytes, or a seeded
//! random initialiser for training from scratch) and exported as [`NamedTensor`]s, so
//! the on-disk names and layouts are exactly `transformers`' and no file I/O happens here
//! (the browser hands us fetched bytes).

use std::collections::HashSet;

use burn::module::{Param, ParamId};
use burn::tensor::{Device, Tensor, TensorData};
use half::{bf16, f16};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use safetensors::tensor::{Dtype, TensorView};
use safetensors::SafeTensors;
use thiserror::Error;

#[derive(Debug, Error, PartialEq)]
pub enum WeightError {
    #[error("model.safetensors: cannot parse ({0}); is the file truncated?")]
    Parse(String),
    #[error("model.safetensors: tensor `{0}` is missing")]
    Missing(String),
    #[error(
        "model.safetensors: tensor `{name}` has shape {found:?}, the config implies {expected:?}"
    )]
    Shape {
        name: String,
        expected: Vec<usize>,
        found: Vec<usize>,
    },
    #[error("model.safetensors: tensor `{name}` has dtype {dtype}; supported: F32, F16, BF16")]
    Dtype { name: String, dtype: String },
}

/// A host tensor with its HF name, shape and row-major f32 values.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedTensor {
    pub name: String,
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// Supplies parameters by HF name and expected shape (row-major, HF layout).
pub trait WeightSource {
    fn take(&mut self, name: &str, shape: &[usize]) -> Result<Vec<f32>, WeightError>;
}

/// Reads a safetensors file held in memory. F16 and BF16 are widened to f32.
pub struct SafetensorsSource<'a> {
    tensors: SafeTensors<'a>,
    taken: HashSet<String>,
}

impl<'a> SafetensorsSource<'a> {
    pub fn new(bytes: &'a [u8]) -> Result<Self, WeightError> {
        let tensors =
            SafeTensors::deserialize(bytes).map_err(|e| WeightError::Parse(e.to_string()))?;
        Ok(Self {
            tensors,
            taken: HashSet::new(),
        })
    }

    pub fn names(&self) -> Vec<String> {
        self.tensors
            .names()
            .into_iter()
            .map(str::to_string)
            .collect()
    }

    /// The dtype of the first tensor (what `inspect` reports).
    pub fn dtype(&self) -> Option<String> {
        let names = self.tensors.names();
        let first = names.first()?;
        self.tensors
            .tensor(first)
            .ok()
            .map(|t| format!("{:?}", t.dtype()))
    }

    /// Tensors present in the file that no module asked for.
    pub fn unused(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .names()
            .into_iter()
            .filter(|n| !self.taken.contains(n))
            .collect();
        v.sort();
        v
    }
}

fn to_f32(name: &str, view: &TensorView<'_>) -> Result<Vec<f32>, WeightError> {
    let bytes = view.data();
    Ok(match view.dtype() {
        Dtype::F32 => bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
        Dtype::F16 => bytes
            .chunks_exact(2)
            .map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        Dtype::BF16 => bytes
            .chunks_exact(2)
            .map(|b| bf16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        other => {
            return Err(WeightError::Dtype {
                name: name.to_string(),
                dtype: format!("{other:?}"),
            })
        }
    })
}

impl WeightSource for SafetensorsSource<'_> {
    fn take(&mut self, name: &str, shape: &[usize]) -> Result<Vec<f32>, WeightError> {
        let view = self
            .tensors
            .tensor(name)
            .map_err(|_| WeightError::Missing(name.to_string()))?;
        if view.shape() != shape {
            return Err(WeightError::Shape {
                name: name.to_string(),
                expected: shape.to_vec(),
                found: view.shape().to_vec(),
            });
        }
        self.taken.insert(name.to_string());
        to_f32(name, &view)
    }
}

/// HF-style initialisation from a seed: normal(0, std) matrices and embeddings, unit
/// norm scales, zero biases. Drawn on the host so every backend starts identically.
pub struct RandomInit {
    rng: ChaCha8Rng,
    std: f32,
}

impl RandomInit {
    pub fn new(seed: u64, std: f32) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
            std,
        }
    }

    fn normal(&mut self) -> f32 {
        // Box–Muller; rand_distr is not needed for one distribution.
        let u1: f64 = self.rng.random::<f64>().max(f64::MIN_POSITIVE);
        let u2: f64 = self.rng.random::<f64>();
        ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
    }
}

impl WeightSource for RandomInit {
    fn take(&mut self, name: &str, shape: &[usize]) -> Result<Vec<f32>, WeightError> {
        let len = shape.iter().product();
        let is_norm = name.contains("norm");
        Ok(if name.ends_with(".bias") {
            vec![0.0; len]
        } else if is_norm {
            vec![1.0; len]
        } else {
            (0..len).map(|_| self.normal() * self.std).collect()
        })
    }
}

/// A trainable parameter whose id is derived from its HF name, so optimizer state saved
/// with one load of a checkpoint matches the parameters of the next load (resume).
pub fn named_param<const D: usize>(name: &str, tensor: Tensor<D>) -> Param<Tensor<D>> {
    // FNV-1a: stable across runs and platforms (std's hasher is randomly seeded).
    let mut h: u64 = 0xcbf29ce484222325;
    for b in name.bytes() {
        h = (h ^ b as u64).wrapping_mul(0x100000001b3);
    }
    let mut p = Param::from_tensor(tensor);
    p.id = ParamId::from(h);
    p
}

/// Uploads host values as a tensor.
pub fn upload<const D: usize>(values: Vec<f32>, shape: [usize; D], device: &Device) -> Tensor<D> {
    Tensor::from_data(TensorData::new(values, shape), device)
}

/// Transposes a row-major `[rows, cols]` matrix on the host.
pub fn transpose(values: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; values.len()];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = values[r * cols + c];
        }
    }
    out
}

/// Reads a tensor back to the host as f32 (native only; the browser never exports).
pub fn download<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("f32 data")
}

/// Storage dtype of an exported safetensors file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageDtype {
    F32,
    F16,
    BF16,
}

/// Serialises tensors to safetensors bytes with the given storage dtype.
pub fn to_safetensors(tensors: &[NamedTensor], dtype: StorageDtype) -> Vec<u8> {
    let encoded: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .iter()
        .map(|t| {
            let bytes = match dtype {
                StorageDtype::F32 => t.values.iter().flat_map(|v| v.to_le_bytes()).collect(),
                StorageDtype::F16 => t
                    .values
                    .iter()
                    .flat_map(|v| f16::from_f32(*v).to_le_bytes())
                    .collect(),
                StorageDtype::BF16 => t
                    .values
                    .iter()
                    .flat_map(|v| bf16::from_f32(*v).to_le_bytes())
                    .collect(),
            };
            (t.name.clone(), t.shape.clone(), bytes)
        })
        .collect();
    let st_dtype = match dtype {
        StorageDtype::F32 => Dtype::F32,
        StorageDtype::F16 => Dtype::F16,
        StorageDtype::BF16 => Dtype::BF16,
    };
    let views: Vec<(String, TensorView<'_>)> = encoded
        .iter()
        .map(|(name, shape, bytes)| {
            (
                name.clone(),
                TensorView::new(st_dtype, shape.clone(), bytes).expect("consistent tensor"),
            )
        })
        .collect();
    let metadata = std::collections::HashMap::from([("format".to_string(), "pt".to_string())]);
    safetensors::tensor::serialize(views, Some(metadata)).expect("serialisable")
}
