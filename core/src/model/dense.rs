//! A linear layer addressed by its HF name. HF stores `[out, in]`; burn's `Linear` keeps
//! `[in, out]` so the forward pass is a plain `x · W`. An f32 weight is transposed once at
//! load (the CPU's `gemm` and every GPU kernel read it so); a bf16 or f16 weight stays as
//! the checkpoint stores it and `Linear` holds a transposed *view* of it — no copy — which
//! the CPU kernel reads row by row (`cpu::linear`).

use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Tensor};

use super::weights::{named_param, transpose, HostValues, NamedTensor, WeightError, WeightSource};
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
    let weight = match src.take_matrix(&w_name, &[d_out, d_in])? {
        HostValues::F32(w) => upload(transpose(&w, d_out, d_in), [d_in, d_out], device),
        stored => stored.upload([d_out, d_in], device).transpose(),
    };
    let mut linear = LinearConfig::new(d_in, d_out).with_bias(false).init(device);
    linear.weight = named_param(&w_name, weight);
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

/// [`forward`] of several layers over the same `x` (q, k and v; gate and up): one call of
/// the CPU decode kernel where their weights allow it (`cpu::linear::forward_each`), one
/// [`forward`] each otherwise.
pub fn forward_each<const N: usize>(linears: [&Linear; N], x: Tensor<3>) -> [Tensor<3>; N] {
    if let Some(ys) = super::cpu::linear::forward_each(linears, &x) {
        return ys;
    }
    linears.map(|linear| forward(linear, x.clone()))
}

/// `linear.forward(x)`, by the CPU decode kernels when `x` is on the CPU backend. A weight
/// or bias held in another dtype than `x` is cast to it for the product where no kernel
/// takes it (f16 activations on a GPU meet f32 biases; f32 activations meet half-precision
/// weights kept as stored); the result is in `x`'s dtype.
pub fn forward(linear: &Linear, x: Tensor<3>) -> Tensor<3> {
    if let Some(y) = super::cpu::linear::forward(linear, &x) {
        return y;
    }
    let dtype = x.dtype();
    let w = linear.weight.val();
    let bias = linear.bias.as_ref().map(|b| b.val());
    if w.dtype() == dtype && bias.as_ref().is_none_or(|b| b.dtype() == dtype) {
        return linear.forward(x);
    }
    let y = x.matmul(w.cast(dtype).unsqueeze());
    match bias {
        Some(b) => y + b.cast(dtype).unsqueeze(),
        None => y,
    }
}
