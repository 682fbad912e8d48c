//! `probable bench select`: the share of token selection (temperature, top-p, the draw) in a
//! decode step, timed apart from the forward pass and together with it on the same logits.
//! On a GPU device it also times the tensor-op path (30 bisection passes over
//! `[rows, vocab]`, what ran before the selection kernel) on those logits, side by side.

use std::time::Instant;

use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};
use probable_core::model::CausalLm;
use probable_core::sample::{select_tokens, select_tokens_by_bisection, DecodeConfig};

use super::bench_wait::{read_back, wait_for};

/// Milliseconds per call of `f`, over `iters` calls after one warm-up call.
fn ms_per_call(iters: usize, mut f: impl FnMut()) -> f64 {
    f();
    let t = Instant::now();
    for _ in 0..iters {
        f();
    }
    t.elapsed().as_secs_f64() * 1e3 / iters as f64
}

/// For each batch size: the cached decode step read back as greedy ids (what `bench decode`
/// times), `select_tokens` alone on that step's logits (T = 1, top-p 0.9, ids read back),
/// the two in one chain — a sampling decode step — and, off the CPU, the bisection path
/// alone on the same logits.
pub fn run(m: &CausalLm, dev: &Device, batch: &[usize], context: usize, iters: usize) {
    let config = DecodeConfig::paper(1, vec![], 0);
    let prompt: Vec<i64> = (0..context as i64).map(|i| 3 + i % 100).collect();
    let gpu = *dev != Device::flex();
    crate::output::emit(&format!(
        "model: {} parameters · vocab {} · KV cache of {context} tokens · T=1, top-p 0.9\n{:>6}  {:>12}  {:>12}  {:>12}  {:>8}{}\n",
        m.config().parameter_count(),
        m.config().vocab_size,
        "batch",
        "forward ms",
        "select ms",
        "step ms",
        "select",
        if gpu { "  bisection ms  ratio" } else { "" }
    ));
    for &b in batch {
        let mut cache = m.new_cache();
        let _ = m.forward_cached(
            Tensor::from_data(TensorData::new(prompt.clone(), [1, context]), dev),
            &mut cache,
        );
        // Room for every step below (two warm-ups and 2·iters timed), as the sampler reserves.
        let mut cache = cache.with_capacity(context + 2 * iters + 3).broadcast(b);
        let ids: Tensor<2, Int> = Tensor::from_data(TensorData::new(vec![5i64; b], [b, 1]), dev);
        let uniforms = Tensor::<2>::random([b, 1], Distribution::Uniform(0.0, 1.0), dev);
        let logits = m.forward_cached(ids.clone(), &mut cache);
        let forward = ms_per_call(iters, || {
            wait_for(m.forward_cached(ids.clone(), &mut cache));
        });
        let select = ms_per_call(iters, || {
            read_back(select_tokens(logits.clone(), &config, uniforms.clone()).into_data());
        });
        let step = ms_per_call(iters, || {
            let l = m.forward_cached(ids.clone(), &mut cache);
            read_back(select_tokens(l, &config, uniforms.clone()).into_data());
        });
        let bisection = if gpu {
            let ms = ms_per_call(iters, || {
                read_back(
                    select_tokens_by_bisection(logits.clone(), &config, uniforms.clone())
                        .into_data(),
                );
            });
            format!("  {ms:>12.2}  {:>4.1}×", ms / select)
        } else {
            String::new()
        };
        crate::output::emit(&format!(
            "{b:>6}  {forward:>12.2}  {select:>12.2}  {step:>12.2}  {:>7.0}%{bisection}\n",
            100.0 * select / (forward + select)
        ));
    }
}
