//! A linear layer addressed by its HF name. HF stores `[out, in]`; burn's `Linear` keeps
//! `[in, out]` so the forward pass is a plain `x · W`; we transpose at the boundary.

use burn::module::Param;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::Device;

use super::weights::{download, transpose, upload, NamedTensor, WeightError, WeightSource};

pub fn load_linear(
    name: &str,
    d_in: usize,
    d_out: usize,
    bias: bool,
    src: &mut dyn WeightSource,
    device: &Device,
) -> Result<Linear, WeightError> {
    let w = src.take(&format!("{name}.weight"), &[d_out, d_in])?;
    let mut linear = LinearConfig::new(d_in, d_out).with_bias(false).init(device);
    linear.weight = Param::from_tensor(upload(transpose(&w, d_out, d_in), [d_in, d_out], device));
    if bias {
        let b = src.take(&format!("{name}.bias"), &[d_out])?;
        linear.bias = Some(Param::from_tensor(upload(b, [d_out], device)));
    }
    Ok(linear)
}

pub fn export_linear(name: &str, linear: &Linear, out: &mut Vec<NamedTensor>) {
    let [d_in, d_out] = linear.weight.dims();
    out.push(NamedTensor {
        name: format!("{name}.weight"),
        shape: vec![d_out, d_in],
        values: transpose(&download(linear.weight.val()), d_in, d_out),
    });
    if let Some(b) = &linear.bias {
        out.push(NamedTensor {
            name: format!("{name}.bias"),
            shape: vec![d_out],
            values: download(b.val()),
        });
    }
}
