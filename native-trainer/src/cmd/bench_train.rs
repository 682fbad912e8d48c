//! `probable bench train`: one optimizer step of `probable finetune` (forward, token NLL,
//! backward, AdamW) on random token ids, timed on any device.

use std::time::Instant;

use anyhow::Result;
use burn::optim::{AdamWConfig, GradientsParams};
use burn::tensor::{Device, Int, Tensor, TensorData};
use probable_core::model::CausalLm;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::train::loss::token_nll;

/// Times `iters` steps after one warm-up step on `[batch, seq]` random ids; `load` builds
/// the model on the autodiff device it is given.
pub fn run(
    load: impl FnOnce(&Device) -> Result<CausalLm>,
    dev: &Device,
    batch: usize,
    seq: usize,
    iters: usize,
) -> Result<()> {
    let ad = dev.clone().autodiff();
    let mut model = load(&ad)?;
    let c = model.config().clone();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let ids: Vec<i64> = (0..batch * seq)
        .map(|_| rng.random_range(0..c.vocab_size as i64))
        .collect();
    let ids: Tensor<2, Int> = Tensor::from_data(TensorData::new(ids, [batch, seq]), &ad);
    let targets = ids.clone().slice([0..batch, 1..seq]);
    let mut optim = AdamWConfig::new().with_epsilon(1e-8).init();
    let mut step = |model: CausalLm| -> (CausalLm, f64) {
        let (nll, _) = token_nll(model.forward(ids.clone(), None), targets.clone());
        let loss = nll.mean();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let model = optim.step(1e-5, model, grads);
        // Reading the loss waits for the step's kernels.
        (model, loss.into_scalar::<f64>())
    };
    let (m, first) = step(model);
    model = m;
    let t = Instant::now();
    let mut last = first;
    for _ in 0..iters {
        let (m, l) = step(model);
        model = m;
        last = l;
    }
    let ms = t.elapsed().as_secs_f64() * 1e3 / iters as f64;
    let tokens_per_s = (batch * seq) as f64 / ms * 1e3;
    // Backward costs about twice the forward; positions attend to half the sequence on average.
    let gflops = 3.0 * c.flops_per_token(seq / 2) * tokens_per_s / 1e9;
    crate::output::emit(&format!(
        "model: {} parameters · batch {batch} × {seq} tokens · AdamW\n{:>12}  {:>12}  {:>12}  {:>12}\n{ms:>12.1}  {tokens_per_s:>12.0}  {gflops:>12.1}  {first:>5.3}→{last:<5.3}\n",
        c.parameter_count(),
        "ms/step",
        "tokens/s",
        "≈GFLOP/s",
        "loss"
    ));
    Ok(())
}
