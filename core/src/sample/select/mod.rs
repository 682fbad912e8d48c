//! Token selection: logits `[rows, vocab]` → ids `[rows]`.
//!
//! The draw is an inverse CDF over the vocabulary in id order, after zeroing every token
//! below a probability cut-off (top-p, top-k). It runs in one of three places:
//!
//! - on the CPU (flex), on the host, where the data already is: one fused pass per row
//!   with exact cut-offs by selection ([`host`]);
//! - on cubecl devices (wgpu, WebGPU, CUDA; the `wgpu` / `cuda` features), in one kernel
//!   launch with the same exact cut-offs by radix selection ([`radix_kernel`]);
//! - otherwise on the device as tensor ops, with the cut-off found by bisection on the
//!   log-probability ([`bisection`]).
//!
//! Only token ids come back to the host. All keep the same tokens up to float rounding of the
//! mass at the nucleus boundary, so a seed means the same samples on CPU and GPU up to
//! floating-point rounding.

mod bisection;
mod host;
mod nucleus;
#[cfg(any(feature = "wgpu", feature = "cuda"))]
mod radix_kernel;
mod rule;

use burn::tensor::{Device, Int, Tensor};

use self::bisection::bisection_ids;
pub use self::rule::NON_FINITE;
use self::rule::{tempered, Rule};
use crate::sample::{DecodeConfig, Strategy};

/// The ids the selection kernel draws from the tempered logits `scaled`, or `None` where it
/// cannot run ([`radix_kernel::select_ids`]).
#[cfg(any(feature = "wgpu", feature = "cuda"))]
fn kernel_ids(scaled: &Tensor<2>, rule: Rule, uniforms: &Tensor<2>) -> Option<Tensor<1, Int>> {
    let [rows, vocab] = scaled.dims();
    // The host's weights: the tempered softmax up to its normaliser.
    let weights = (scaled.clone() - scaled.clone().max_dim(1).expand([rows, vocab])).exp();
    let nucleus = rule.top_p.map(self::rule::nucleus_mass);
    radix_kernel::select_ids(&weights, uniforms, nucleus, rule.top_k)
}

/// No selection kernel in a build without a cubecl runtime.
#[cfg(not(any(feature = "wgpu", feature = "cuda")))]
fn kernel_ids(_: &Tensor<2>, _: Rule, _: &Tensor<2>) -> Option<Tensor<1, Int>> {
    None
}

/// `ids` with [`NON_FINITE`] in every row of `logits` that holds a NaN or +∞, or only −∞
/// (−∞ alone is a masked token, which a distribution may have). Part of the same kernel
/// chain as the ids, so it adds no read-back.
fn mark_non_finite(logits: Tensor<2>, ids: Tensor<1, Int>) -> Tensor<1, Int> {
    let [rows, _] = logits.dims();
    let poisoned = logits
        .clone()
        .is_nan()
        .bool_or(logits.clone().equal_elem(f32::INFINITY))
        .int()
        .sum_dim(1)
        .greater_elem(0);
    let empty = logits.max_dim(1).equal_elem(f32::NEG_INFINITY);
    ids.mask_fill(poisoned.bool_or(empty).reshape([rows]), NON_FINITE)
}

/// Chooses the next token of every row. `uniforms: [rows, 1]` in [0, 1) drive the
/// categorical draw (ignored by greedy decoding). A row whose logits are not all finite
/// gets [`NON_FINITE`] instead of a token.
pub fn select_tokens(
    logits: Tensor<2>,
    config: &DecodeConfig,
    uniforms: Tensor<2>,
) -> Tensor<1, Int> {
    select(logits, config, uniforms, Path::Fastest).expect("the fastest path always runs")
}

/// [`select_tokens`] by tensor ops with bisected cut-offs on every device, the CPU
/// included: what a GPU backend without the selection kernel runs. `probable bench select`
/// times it beside the kernel on the same logits.
pub fn select_tokens_by_bisection(
    logits: Tensor<2>,
    config: &DecodeConfig,
    uniforms: Tensor<2>,
) -> Tensor<1, Int> {
    select(logits, config, uniforms, Path::Bisection).expect("the bisection always runs")
}

/// [`select_tokens`] by the selection kernel alone: `None` where it does not run (a CPU or
/// fused tensor, greedy decoding), so a test can tell that it ran.
#[cfg(any(feature = "wgpu", feature = "cuda"))]
pub fn select_tokens_in_kernel(
    logits: Tensor<2>,
    config: &DecodeConfig,
    uniforms: Tensor<2>,
) -> Option<Tensor<1, Int>> {
    select(logits, config, uniforms, Path::Kernel)
}

/// Which implementation [`select`] runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Path {
    /// The host path on the CPU, the kernel on cubecl devices, else the bisection.
    Fastest,
    /// The tensor-op bisection on every device.
    Bisection,
    /// The kernel or nothing.
    #[cfg(any(feature = "wgpu", feature = "cuda"))]
    Kernel,
}

/// [`select_tokens`] by `path`; `None` only when [`Path::Kernel`] cannot run.
fn select(
    logits: Tensor<2>,
    config: &DecodeConfig,
    uniforms: Tensor<2>,
    path: Path,
) -> Option<Tensor<1, Int>> {
    let [rows, vocab] = logits.dims();
    let (temperature, top_p, top_k) = match config.strategy {
        Strategy::Sample {
            temperature,
            top_p,
            top_k,
        } => (temperature, top_p, top_k),
        #[cfg(any(feature = "wgpu", feature = "cuda"))]
        Strategy::Greedy if path == Path::Kernel => return None,
        Strategy::Greedy => {
            let ids = logits.clone().argmax(1).reshape([rows]);
            return Some(mark_non_finite(logits, ids));
        }
    };
    let rule = Rule {
        temperature,
        adaptive: config.adaptive.as_ref(),
        top_p: (top_p < 1.0).then_some(top_p),
        top_k: top_k.filter(|&k| k < vocab),
    };
    if path == Path::Fastest && logits.device() == Device::flex() {
        return Some(host::select(logits, rule, uniforms));
    }
    let scaled = tempered(logits.clone(), rule);
    let ids = match path {
        Path::Fastest => match kernel_ids(&scaled, rule, &uniforms) {
            Some(ids) => ids,
            None => bisection_ids(scaled, rule, uniforms),
        },
        Path::Bisection => bisection_ids(scaled, rule, uniforms),
        #[cfg(any(feature = "wgpu", feature = "cuda"))]
        Path::Kernel => kernel_ids(&scaled, rule, &uniforms)?,
    };
    Some(mark_non_finite(logits, ids))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::AdaptiveTemperature;
    use burn::tensor::Distribution;

    fn ids(t: Tensor<1, Int>) -> Vec<i64> {
        t.into_data()
            .convert::<i64>()
            .try_into_vec::<i64>()
            .unwrap()
    }

    /// The host and device paths draw the same tokens from the same uniforms, so CPU and
    /// GPU give the same samples for a seed. Float sums in two orders may disagree on a
    /// token whose cumulative mass lies within rounding of a boundary (the nucleus edge or
    /// u·total); nothing else may differ.
    #[test]
    fn host_and_device_paths_draw_the_same_tokens() {
        let device = Device::flex();
        let adaptive = AdaptiveTemperature::default();
        let rows = 512;
        for (scale, vocab) in [(1.0, 1000), (4.0, 1000), (8.0, 50)] {
            let logits =
                Tensor::<2>::random([rows, vocab], Distribution::Normal(0.0, scale), &device);
            let u = Tensor::<2>::random([rows, 1], Distribution::Uniform(0.0, 1.0), &device);
            for (temperature, adaptive, top_p, top_k) in [
                (1.0, None, Some(0.9), None),
                (0.7, None, Some(0.5), None),
                (1.0, None, None, Some(5)),
                (1.3, None, Some(0.95), Some(40)),
                (1.0, None, Some(0.01), None),
                (1.0, None, None, None),
                (1.0, Some(&adaptive), Some(0.9), None),
            ] {
                let rule = Rule {
                    temperature,
                    adaptive,
                    top_p,
                    top_k,
                };
                let host = ids(host::select(logits.clone(), rule, u.clone()));
                let dev = ids(bisection_ids(
                    tempered(logits.clone(), rule),
                    rule,
                    u.clone(),
                ));
                let differ = host.iter().zip(&dev).filter(|(x, y)| x != y).count();
                assert!(
                    differ <= 2,
                    "scale {scale}, vocab {vocab}, T {temperature}, top-p {top_p:?}, \
                     top-k {top_k:?}, adaptive {}: {differ} of {rows} draws differ",
                    adaptive.is_some()
                );
            }
        }
    }
}
