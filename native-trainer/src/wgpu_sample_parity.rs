//! Token selection on wgpu (the one-launch radix kernel, `sample/radix_kernel.rs`) draws the
//! tokens the CPU's host path draws. Built only with `--features wgpu` (run by
//! `scripts/wgpu-train-parity.sh`).

use burn::tensor::{Device, Distribution, Int, Tensor};
use probable_core::sample::{select_tokens, AdaptiveTemperature, DecodeConfig, Strategy};

fn ids(t: Tensor<1, Int>) -> Vec<i64> {
    t.into_data()
        .convert::<i64>()
        .try_into_vec::<i64>()
        .unwrap()
}

fn config(temperature: f64, top_p: f64, top_k: Option<usize>, adaptive: bool) -> DecodeConfig {
    DecodeConfig {
        strategy: Strategy::Sample {
            temperature,
            top_p,
            top_k,
        },
        adaptive: adaptive.then(AdaptiveTemperature::default),
        ..DecodeConfig::paper(1, vec![], 0)
    }
}

/// `logits` and `u` drawn on the CPU and on wgpu: how many draws differ, after checking that
/// every wgpu id is a token and that wgpu draws the same ids twice.
fn differing(logits: &Tensor<2>, u: &Tensor<2>, config: &DecodeConfig) -> usize {
    let gpu = Device::wgpu(Default::default());
    let vocab = logits.dims()[1] as i64;
    let host = ids(select_tokens(logits.clone(), config, u.clone()));
    let on_gpu = || {
        ids(select_tokens(
            Tensor::from_data(logits.to_data(), &gpu),
            config,
            Tensor::from_data(u.to_data(), &gpu),
        ))
    };
    let device = on_gpu();
    assert_eq!(device, on_gpu(), "the same inputs gave other ids on wgpu");
    assert!(
        device.iter().all(|&i| (0..vocab).contains(&i)),
        "{device:?}"
    );
    let differ = host.iter().zip(&device).filter(|(a, b)| a != b).count();
    eprintln!("{differ} of {} draws differ", host.len());
    differ
}

/// T = 1 and top-p 0.9 at Llama 3's vocabulary: a token may differ only where its cumulative
/// mass lies within float rounding of a boundary.
#[test]
fn wgpu_selects_the_cpu_tokens_at_a_128k_vocabulary() {
    let cpu = Device::flex();
    let (rows, vocab) = (16, 128256);
    for scale in [1.0, 6.0] {
        let logits = Tensor::<2>::random([rows, vocab], Distribution::Normal(0.0, scale), &cpu);
        let u = Tensor::<2>::random([rows, 1], Distribution::Uniform(0.0, 1.0), &cpu);
        let differ = differing(&logits, &u, &DecodeConfig::paper(1, vec![], 0));
        assert!(
            differ <= 1,
            "scale {scale}: {differ} of {rows} draws differ"
        );
    }
}

/// Every kind of cut-off (top-p, top-k, both, a nucleus of one token, adaptive temperature)
/// on flat, peaked and tied rows (logits rounded to integers: many exact ties at the cut).
#[test]
fn wgpu_selects_the_cpu_tokens_for_every_cut_off() {
    let cpu = Device::flex();
    let rows = 512;
    for (scale, vocab, tied) in [
        (1.0, 1000, false),
        (4.0, 1000, false),
        (8.0, 50, false),
        (2.0, 300, true),
    ] {
        let mut logits = Tensor::<2>::random([rows, vocab], Distribution::Normal(0.0, scale), &cpu);
        if tied {
            logits = logits.round();
        }
        let u = Tensor::<2>::random([rows, 1], Distribution::Uniform(0.0, 1.0), &cpu);
        for (t, p, k, adaptive) in [
            (1.0, 0.9, None, false),
            (0.7, 0.5, None, false),
            (1.0, 1.0, Some(5), false),
            (1.3, 0.95, Some(40), false),
            (1.0, 0.01, None, false),
            (1.0, 1.0, Some(1), false),
            (1.0, 0.9, None, true),
        ] {
            let differ = differing(&logits, &u, &config(t, p, k, adaptive));
            assert!(
                differ <= 2,
                "scale {scale}, vocab {vocab}, tied {tied}, T {t}, top-p {p}, top-k {k:?}, \
                 adaptive {adaptive}: {differ} of {rows} draws differ"
            );
        }
    }
}
