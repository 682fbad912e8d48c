//! `probable bench select`: the share of token selection (temperature, top-p, the draw) in a
//! decode step. On GPU backends selection is ~30 bisection passes over `[rows, vocab]`
//! (`probable_core::sample::kernel`), which at a 128k vocabulary may rival the forward
//! pass; this times the two apart and together on the same logits.

use std::time::Instant;

use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};
use probable_core::model::CausalLm;
use probable_core::sample::{select_tokens, DecodeConfig};

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
/// and the two in one chain — a sampling decode step.
pub fn run(m: &CausalLm, dev: &Device, batch: &[usize], context: usize, iters: usize) {
    let config = DecodeConfig::paper(1, vec![], 0);
    let prompt: Vec<i64> = (0..context as i64).map(|i| 3 + i % 100).collect();
    crate::output::emit(&format!(
        "model: {} parameters · vocab {} · KV cache of {context} tokens · T=1, top-p 0.9\n{:>6}  {:>12}  {:>12}  {:>12}  {:>8}\n",
        m.config().parameter_count(),
        m.config().vocab_size,
        "batch",
        "forward ms",
        "select ms",
        "step ms",
        "select"
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
            super::bench::wait_for(m.forward_cached(ids.clone(), &mut cache));
        });
        let select = ms_per_call(iters, || {
            let _ = select_tokens(logits.clone(), &config, uniforms.clone()).into_data();
        });
        let step = ms_per_call(iters, || {
            let l = m.forward_cached(ids.clone(), &mut cache);
            let _ = select_tokens(l, &config, uniforms.clone()).into_data();
        });
        crate::output::emit(&format!(
            "{b:>6}  {forward:>12.2}  {select:>12.2}  {step:>12.2}  {:>7.0}%\n",
            100.0 * select / (forward + select)
        ));
    }
}
