//! A linear layer addressed by its HF name. HF stores `[out, in]`; burn's `Linear` keeps
//! `[in, out]` so the forward pass is a plain `x · W`; we transpose at the boundary.

use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Tensor};

use super::weights::{named_param, transpose, NamedTensor, WeightError, WeightSource};
use crate::tensor::host::{download, upload};

pub fn load_linear(
    name: &str,
    d_in: usize,
    d_out: usize,
    bias: bool,
    src: &mut dyn WeightSource,
    device: &Device,
) -> Result<Linear, WeightError> {
    let w_name = format!("{name}.weight");
    let w = src.take(&w_name, &[d_out, d_in])?;
    let mut linear = LinearConfig::new(d_in, d_out).with_bias(false).init(device);
    linear.weight = named_param(
        &w_name,
        upload(transpose(&w, d_out, d_in), [d_in, d_out], device),
    );
    if bias {
        let b_name = format!("{name}.bias");
        let b = src.take(&b_name, &[d_out])?;
        linear.bias = Some(named_param(&b_name, upload(b, [d_out], device)));
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

/// `linear.forward(x)`, by the CPU decode kernels when `x` is on the CPU backend.
pub fn forward(linear: &Linear, x: Tensor<3>) -> Tensor<3> {
    match super::cpu::linear::forward(linear, &x) {
        Some(y) => y,
        None => linear.forward(x),
    }
}
