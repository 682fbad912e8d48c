//! The two normalisations: RMSNorm (Llama) and LayerNorm with bias (Phi).

use burn::module::Module;
use burn::nn::{LayerNorm, LayerNormConfig, RmsNorm, RmsNormConfig};
use burn::tensor::{DType, Device, Tensor};

use super::weights::{named_param, NamedTensor, WeightError, WeightSource};
use crate::tensor::host::{download, upload};

/// `norm(x)` computed in f32 and returned in `x`'s dtype: a half-precision model's norms
/// (their parameters are f32) run as transformers runs them, the mean square in f32 — an
/// f16 square overflows beyond 256. A no-op wrapper for f32.
pub fn in_f32<const D: usize>(
    x: Tensor<D>,
    norm: impl FnOnce(Tensor<D>) -> Tensor<D>,
) -> Tensor<D> {
    let dtype = x.dtype();
    if dtype == DType::F32 {
        return norm(x);
    }
    norm(x.cast(DType::F32)).cast(dtype)
}

#[derive(Module, Debug)]
pub enum Norm {
    Rms(RmsNorm),
    Layer(LayerNorm),
}

impl Norm {
    pub fn load_rms(
        name: &str,
        d: usize,
        eps: f64,
        src: &mut dyn WeightSource,
        device: &Device,
    ) -> Result<Self, WeightError> {
        let mut norm = RmsNormConfig::new(d).with_epsilon(eps).init(device);
        let w = format!("{name}.weight");
        norm.gamma = named_param(&w, upload(src.take(&w, &[d])?, [d], device));
        Ok(Norm::Rms(norm))
    }

    pub fn load_layer(
        name: &str,
        d: usize,
        eps: f64,
        src: &mut dyn WeightSource,
        device: &Device,
    ) -> Result<Self, WeightError> {
        let mut norm = LayerNormConfig::new(d).with_epsilon(eps).init(device);
        let (w, b) = (format!("{name}.weight"), format!("{name}.bias"));
        norm.gamma = named_param(&w, upload(src.take(&w, &[d])?, [d], device));
        norm.beta = Some(named_param(&b, upload(src.take(&b, &[d])?, [d], device)));
        Ok(Norm::Layer(norm))
    }

    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        in_f32(x, |x| match self {
            Norm::Rms(n) => {
                super::cpu::norm::rms(&x, &n.gamma.val(), n.epsilon).unwrap_or_else(|| n.forward(x))
            }
            Norm::Layer(n) => n.forward(x),
        })
    }

    pub fn export(&self, name: &str, out: &mut Vec<NamedTensor>) {
        let (gamma, beta) = match self {
            Norm::Rms(n) => (n.gamma.val(), None),
            Norm::Layer(n) => (n.gamma.val(), n.beta.as_ref().map(|b| b.val())),
        };
        let d = gamma.dims()[0];
        out.push(NamedTensor {
            name: format!("{name}.weight"),
            shape: vec![d],
            values: download(gamma),
        });
        if let Some(b) = beta {
            out.push(NamedTensor {
                name: format!("{name}.bias"),
                shape: vec![d],
                values: download(b),
            });
        }
    }
}
