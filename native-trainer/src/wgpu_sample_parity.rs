//! Token selection on wgpu (the device path: bisected cut-offs, blocked prefix sums) draws
//! the tokens the CPU's host path draws, at a 128k vocabulary. Built only with
//! `--features wgpu` (run by `scripts/wgpu-train-parity.sh`).

use burn::tensor::{Device, Distribution, Int, Tensor};
use probable_core::sample::{select_tokens, DecodeConfig};

fn ids(t: Tensor<1, Int>) -> Vec<i64> {
    t.into_data()
        .convert::<i64>()
        .try_into_vec::<i64>()
        .unwrap()
}

/// Same logits and uniforms on flex and on wgpu, T = 1 and top-p 0.9: a token may differ
/// only where its cumulative mass lies within float rounding of a boundary.
#[test]
fn wgpu_selects_the_cpu_tokens_at_a_128k_vocabulary() {
    let (cpu, gpu) = (Device::flex(), Device::wgpu(Default::default()));
    let (rows, vocab) = (16, 128256);
    for scale in [1.0, 6.0] {
        let logits = Tensor::<2>::random([rows, vocab], Distribution::Normal(0.0, scale), &cpu);
        let u = Tensor::<2>::random([rows, 1], Distribution::Uniform(0.0, 1.0), &cpu);
        let config = DecodeConfig::paper(1, vec![], 0);
        let host = ids(select_tokens(logits.clone(), &config, u.clone()));
        let device = ids(select_tokens(
            Tensor::from_data(logits.to_data(), &gpu),
            &config,
            Tensor::from_data(u.to_data(), &gpu),
        ));
        let differ = host.iter().zip(&device).filter(|(a, b)| a != b).count();
        assert!(
            differ <= 1,
            "scale {scale}: {differ} of {rows} draws differ: {host:?} vs {device:?}"
        );
        assert!(device.iter().all(|&i| (0..vocab as i64).contains(&i)));
    }
}
