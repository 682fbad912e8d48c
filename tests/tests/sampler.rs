//! The batched sampler: determinism, invariance to chunking, agreement with greedy
//! decoding in the limits, and the distribution the on-device kernel draws from.

use std::ops::ControlFlow;

use burn::tensor::{Device, Tensor, TensorData};
use probable_core::model::{greedy_decode, load_model, CausalLm};
use probable_core::sample::{
    no_progress, sample_prompt, sample_prompts, select_tokens, step_now, AdaptiveTemperature,
    Confidence, DecodeConfig, Generation, PromptJob, Strategy,
};
use probable_tests::repo_root;

fn tiny() -> CausalLm {
    let dir = repo_root().join("tests/fixtures/models/llama-tiny");
    let config = std::fs::read_to_string(dir.join("config.json")).unwrap();
    let weights = std::fs::read(dir.join("model.safetensors")).unwrap();
    load_model(&config, &weights, &Device::flex()).unwrap()
}

const PROMPT: [u32; 5] = [1, 239, 179, 14, 112];

fn run(model: &CausalLm, config: &DecodeConfig, n: u32, chunk: usize) -> Vec<Generation> {
    pollster::block_on(sample_prompt(
        model,
        &PROMPT,
        0,
        0..n,
        config,
        chunk,
        &mut no_progress,
    ))
    .unwrap()
}

fn sampling(temperature: f64, top_p: f64, top_k: Option<usize>) -> DecodeConfig {
    DecodeConfig {
        strategy: Strategy::Sample {
            temperature,
            top_p,
            top_k,
        },
        adaptive: None,
        max_new_tokens: 12,
        eos_token_ids: vec![2],
        seed: 1234,
    }
}

fn by_index(mut g: Vec<Generation>) -> Vec<Vec<u32>> {
    g.sort_by_key(|x| x.sample_index);
    g.into_iter().map(|x| x.tokens).collect()
}

#[test]
fn same_seed_same_samples_regardless_of_chunking() {
    let model = tiny();
    let cfg = sampling(1.0, 0.9, None);
    let whole = by_index(run(&model, &cfg, 16, 16));
    assert_eq!(
        whole,
        by_index(run(&model, &cfg, 16, 16)),
        "same seed, same samples"
    );
    assert_eq!(
        whole,
        by_index(run(&model, &cfg, 16, 5)),
        "chunking must not change samples"
    );
    assert_eq!(
        whole,
        by_index(run(&model, &cfg, 16, 1)),
        "batch size 1 loop agrees"
    );
    // A prefix of the samples does not depend on n.
    assert_eq!(whole[..4], by_index(run(&model, &cfg, 4, 4))[..]);
    // Samples differ from each other and across seeds.
    let distinct: std::collections::HashSet<_> = whole.iter().collect();
    assert!(
        distinct.len() > 8,
        "T=1 sampling of a random model should vary"
    );
    let other = by_index(run(&model, &DecodeConfig { seed: 99, ..cfg }, 16, 16));
    assert_ne!(whole, other);
}

#[test]
fn greedy_limits_agree_with_greedy_decoding() {
    let model = tiny();
    let greedy = greedy_decode(&model, &PROMPT, 12, &[2]);
    let g = DecodeConfig::greedy(12, vec![2]);
    assert!(by_index(run(&model, &g, 3, 3)).iter().all(|s| *s == greedy));
    for cfg in [
        sampling(0.0, 0.9, None),
        sampling(1.5, 1.0, Some(1)),
        sampling(1.0, 1e-9, None),
    ] {
        let s = by_index(run(&model, &cfg, 4, 4));
        assert!(
            s.iter().all(|x| *x == greedy),
            "{cfg:?} should reduce to greedy"
        );
    }
    // Adaptive temperature: always confident + low T = 0 → greedy; never confident →
    // identical to plain sampling.
    let always = DecodeConfig {
        adaptive: Some(AdaptiveTemperature {
            criterion: Confidence::Entropy,
            threshold: 1e9,
            low_temperature: 0.0,
        }),
        ..sampling(1.0, 0.9, None)
    };
    assert!(by_index(run(&model, &always, 4, 4))
        .iter()
        .all(|x| *x == greedy));
    let never = DecodeConfig {
        adaptive: Some(AdaptiveTemperature {
            criterion: Confidence::MaxProb,
            threshold: 1.0,
            low_temperature: 0.0,
        }),
        ..sampling(1.0, 0.9, None)
    };
    assert_eq!(
        by_index(run(&model, &never, 6, 6)),
        by_index(run(&model, &sampling(1.0, 0.9, None), 6, 6))
    );
}

#[test]
fn adaptive_temperature_switches_per_row() {
    // Row 0 is confident (one dominant logit), row 1 is uniform.
    let logits: Tensor<2> = Tensor::from_data(
        TensorData::new(vec![10.0f32, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0], [2, 4]),
        &Device::flex(),
    );
    let a = AdaptiveTemperature {
        criterion: Confidence::Entropy,
        threshold: 0.5,
        low_temperature: 0.0,
    };
    let t = a
        .temperatures(&logits, 1.0)
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .unwrap();
    assert_eq!(t, vec![0.0, 1.0]);
    let a = AdaptiveTemperature {
        criterion: Confidence::MaxProb,
        threshold: 0.9,
        low_temperature: 0.25,
    };
    let t = a
        .temperatures(&logits, 0.8)
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .unwrap();
    assert_eq!(t, vec![0.25, 0.8]);
}

/// Frequencies of each id over `rows` evenly spaced uniforms.
fn frequencies(p: &[f32], cfg: &DecodeConfig, rows: usize) -> Vec<f64> {
    let logits: Vec<f32> = (0..rows).flat_map(|_| p.iter().map(|x| x.ln())).collect();
    let logits = Tensor::from_data(TensorData::new(logits, [rows, p.len()]), &Device::flex());
    let u: Vec<f32> = (0..rows).map(|i| (i as f32 + 0.5) / rows as f32).collect();
    let u = Tensor::from_data(TensorData::new(u, [rows, 1]), &Device::flex());
    let ids = select_tokens(logits, cfg, u)
        .into_data()
        .convert::<i64>()
        .try_to_vec::<i64>()
        .unwrap();
    let mut counts = vec![0usize; p.len()];
    for id in ids {
        counts[id as usize] += 1;
    }
    counts.iter().map(|&c| c as f64 / rows as f64).collect()
}

#[test]
fn kernel_cuts_without_sorting_ids_in_any_order() {
    // Ids deliberately not in probability order: the cut-offs must not assume it.
    let p = [0.1f32, 0.5, 0.15, 0.25];
    let f = frequencies(&p, &sampling(1.0, 1.0, Some(2)), 20_000);
    for (got, want) in f.iter().zip([0.0, 0.5 / 0.75, 0.0, 0.25 / 0.75]) {
        assert!((got - want).abs() < 2e-3, "top-k 2: {f:?}");
    }
    // top-p 0.6: the mass before 0.25 is 0.5 < 0.6, so {1, 3} stay; 0.15 does not.
    let f = frequencies(&p, &sampling(1.0, 0.6, None), 20_000);
    for (got, want) in f.iter().zip([0.0, 0.5 / 0.75, 0.0, 0.25 / 0.75]) {
        assert!((got - want).abs() < 2e-3, "top-p 0.6: {f:?}");
    }
    // A top-p below the largest probability keeps that token alone; top-k 1 is greedy.
    assert_eq!(
        frequencies(&p, &sampling(1.0, 0.3, None), 1000),
        [0.0, 1.0, 0.0, 0.0]
    );
    assert_eq!(
        frequencies(&p, &sampling(1.0, 1.0, Some(1)), 1000),
        [0.0, 1.0, 0.0, 0.0]
    );
    // No cut: the full distribution.
    let f = frequencies(&p, &sampling(1.0, 1.0, None), 20_000);
    for (got, want) in f.iter().zip(p) {
        assert!((got - want as f64).abs() < 2e-3, "no cut: {f:?}");
    }
}

#[test]
fn kernel_draws_from_the_truncated_distribution() {
    // p = [0.5, 0.25, 0.15, 0.1]; top-p 0.8 keeps {0, 1, 2} (mass before token 2 is 0.75).
    let p = [0.5f32, 0.25, 0.15, 0.1];
    let rows = 20_000;
    let logits: Vec<f32> = (0..rows).flat_map(|_| p.iter().map(|x| x.ln())).collect();
    let logits = Tensor::from_data(TensorData::new(logits, [rows, 4]), &Device::flex());
    let u: Vec<f32> = (0..rows).map(|i| (i as f32 + 0.5) / rows as f32).collect();
    let u = Tensor::from_data(TensorData::new(u, [rows, 1]), &Device::flex());
    let cfg = sampling(1.0, 0.8, None);
    let ids = select_tokens(logits, &cfg, u)
        .into_data()
        .convert::<i64>()
        .try_to_vec::<i64>()
        .unwrap();
    let mut counts = [0usize; 4];
    for id in ids {
        counts[id as usize] += 1;
    }
    let kept = 0.9f64;
    for (i, want) in [0.5 / kept, 0.25 / kept, 0.15 / kept, 0.0]
        .iter()
        .enumerate()
    {
        let got = counts[i] as f64 / rows as f64;
        assert!(
            (got - want).abs() < 2e-3,
            "token {i}: frequency {got}, expected {want}"
        );
    }
}

#[test]
fn bad_settings_are_rejected() {
    let model = tiny();
    for cfg in [
        sampling(-1.0, 0.9, None),
        sampling(1.0, 0.0, None),
        sampling(1.0, 1.5, None),
        sampling(1.0, 0.9, Some(0)),
    ] {
        let r = pollster::block_on(sample_prompt(
            &model,
            &PROMPT,
            0,
            0..2,
            &cfg,
            2,
            &mut no_progress,
        ));
        assert!(r.is_err(), "{cfg:?} must be rejected");
    }
    let r = pollster::block_on(sample_prompt(
        &model,
        &PROMPT,
        0,
        0..0,
        &sampling(1.0, 0.9, None),
        2,
        &mut no_progress,
    ));
    assert!(r.is_err(), "n = 0 must be rejected");
}

#[test]
fn stop_returns_only_complete_samples() {
    let model = tiny();
    let mut calls = 0;
    let out = pollster::block_on(sample_prompt(
        &model,
        &PROMPT,
        0,
        0..8,
        &sampling(1.0, 0.9, None),
        4,
        &mut |_| {
            calls += 1;
            if calls >= 3 {
                step_now(ControlFlow::Break(()))
            } else {
                step_now(ControlFlow::Continue(()))
            }
        },
    ))
    .unwrap();
    assert!(out.len() < 8);
    assert!(out.iter().all(|g| g.stopped_on_eos || g.tokens.len() == 12));
}

/// Rows of several prompts (different lengths) in shared chunks, some straddling two
/// prompts, rows finishing on EOS at different steps, a prompt given twice: every prompt
/// gets the samples it gets alone.
#[test]
fn mixed_prompt_batches_give_the_samples_of_each_prompt_alone() {
    let model = tiny();
    // The last job repeats the first prompt (another copy, another index): it shares the
    // first job's prefill, as a server request of n choices does.
    let again = PROMPT.to_vec();
    let prompts: [&[u32]; 4] = [
        &PROMPT,
        &[1, 44, 12],
        &[1, 3, 250, 7, 19, 100, 4, 66, 21],
        &again,
    ];
    let ranges = [0..6u32, 3..10, 0..5, 2..8];
    let jobs: Vec<PromptJob> = prompts
        .iter()
        .zip(ranges.clone())
        .enumerate()
        .map(|(i, (p, samples))| PromptJob {
            prompt: p,
            prompt_index: i as u32 + 7,
            samples,
            seed: 1234,
        })
        .collect();
    // EOS: the 16 tokens drawn most often mid-sample, so rows stop at different steps.
    let mut counts = std::collections::HashMap::new();
    for g in run(&model, &sampling(1.0, 0.9, None), 32, 32) {
        for &t in &g.tokens[2..] {
            *counts.entry(t).or_insert(0) += 1;
        }
    }
    let mut by_count: Vec<(u32, u32)> = counts.into_iter().map(|(t, n)| (n, t)).collect();
    by_count.sort_unstable_by(|a, b| b.cmp(a));
    let eos: Vec<u32> = by_count.iter().take(16).map(|&(_, t)| t).collect();
    let with_eos = |c: DecodeConfig| DecodeConfig {
        eos_token_ids: eos.clone(),
        ..c
    };
    for cfg in [
        with_eos(sampling(1.0, 0.9, None)),
        with_eos(sampling(0.7, 1.0, Some(20))),
    ] {
        let alone: Vec<Vec<Vec<u32>>> = jobs
            .iter()
            .map(|j| {
                by_index(
                    pollster::block_on(sample_prompt(
                        &model,
                        j.prompt,
                        j.prompt_index,
                        j.samples.clone(),
                        &cfg,
                        16,
                        &mut no_progress,
                    ))
                    .unwrap(),
                )
            })
            .collect();
        assert!(
            alone.iter().flatten().any(|t| t.len() < 12),
            "some rows should stop on EOS before the limit"
        );
        for chunk in [4, 7, 64] {
            let mixed =
                pollster::block_on(sample_prompts(&model, &jobs, &cfg, chunk, &mut no_progress))
                    .unwrap();
            let mixed: Vec<Vec<Vec<u32>>> = mixed.into_iter().map(by_index).collect();
            assert_eq!(mixed, alone, "chunk {chunk}");
        }
    }
}

/// A local sampler keeps its latest call's prompts prefilled: the samples after the greedy
/// answers, and later calls for other sample ranges of the same prompts, prefill nothing
/// again and draw exactly what a fresh `sample_prompts` draws.
#[test]
fn a_local_sampler_reuses_its_prefills_and_draws_the_same_samples() {
    use probable_core::eval::{LocalSampler, Sampler};
    fn jobs(prompts: &[&[u32]; 2], samples: std::ops::Range<u32>) -> Vec<PromptJob<'static>> {
        prompts
            .iter()
            .enumerate()
            .map(|(i, p)| PromptJob {
                prompt: p.to_vec().leak(),
                prompt_index: i as u32,
                samples: samples.clone(),
                seed: 1234,
            })
            .collect()
    }
    let model = tiny();
    let cfg = sampling(1.0, 0.9, None);
    let prompts: [&[u32]; 2] = [&PROMPT, &[1, 44, 12]];
    let mut sampler = LocalSampler::new(&model);
    let greedy = DecodeConfig {
        strategy: Strategy::Greedy,
        ..cfg.clone()
    };
    pollster::block_on(sampler.greedy(&jobs(&prompts, 0..1), &greedy, 8)).unwrap();
    let drawn: Vec<Vec<Vec<Generation>>> = [0..5u32, 5..12]
        .into_iter()
        .map(|range| {
            pollster::block_on(sampler.sample(&jobs(&prompts, range), &cfg, 8, &mut no_progress))
                .unwrap()
        })
        .collect();
    // Greedy prefilled both prompts; each of the two sample calls reused both.
    assert_eq!(sampler.into_prefills().reused(), 4);
    let fresh = pollster::block_on(sample_prompts(
        &model,
        &jobs(&prompts, 0..12),
        &cfg,
        8,
        &mut no_progress,
    ))
    .unwrap();
    for (j, want) in fresh.into_iter().enumerate() {
        let got: Vec<Generation> = drawn.iter().flat_map(|d| d[j].clone()).collect();
        assert_eq!(by_index(got), by_index(want), "job {j}");
    }
}
