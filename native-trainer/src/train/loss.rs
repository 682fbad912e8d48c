//! The objectives. CE is the mean token NLL over answer tokens of the whole batch (as HF's
//! loss with ignored labels); `s` is the summed answer NLL per sequence; H is the mean
//! softmax entropy over positions.

use burn::tensor::activation::log_softmax;
use burn::tensor::{Int, Tensor};

use super::batch::Batch;
use super::config::EntropyPositions;

/// Per-position NLL of the targets, `[b, L−1]`, and log-probabilities `[b, L−1, V]`.
pub fn token_nll(logits: Tensor<3>, targets: Tensor<2, Int>) -> (Tensor<2>, Tensor<3>) {
    let [b, l, v] = logits.dims();
    let logp = log_softmax(logits.slice([0..b, 0..l - 1, 0..v]), 2);
    let picked = logp
        .clone()
        .gather(2, targets.unsqueeze_dim::<3>(2))
        .squeeze_dim::<2>(2);
    (picked.neg(), logp)
}

/// Mean NLL over answer tokens (scalar tensor `[1]`).
pub fn cross_entropy(nll: &Tensor<2>, batch: &Batch) -> Tensor<1> {
    (nll.clone() * batch.answer_mask.clone()).sum() / batch.answer_tokens.max(1) as f64
}

/// Summed answer NLL per sequence, `[b]`.
pub fn sequence_nll(nll: &Tensor<2>, batch: &Batch) -> Tensor<1> {
    let [b, _] = nll.dims();
    (nll.clone() * batch.answer_mask.clone())
        .sum_dim(1)
        .reshape([b])
}

/// Mean entropy of the next-token distributions: over every position of the batch
/// (padding included, the reference) or over answer positions only.
pub fn mean_entropy(logp: &Tensor<3>, batch: &Batch, positions: EntropyPositions) -> Tensor<1> {
    let [b, l, _] = logp.dims();
    let h = (logp.clone().exp() * logp.clone())
        .sum_dim(2)
        .reshape([b, l])
        .neg();
    match positions {
        EntropyPositions::All => h.mean(),
        EntropyPositions::Answer => {
            (h * batch.answer_mask.clone()).sum() / batch.answer_tokens.max(1) as f64
        }
    }
}

/// NPO: −(2/β)·mean log σ(β·(s_θ − s_ref)). `log σ(x) = −softplus(−x)`.
pub fn npo_loss(s_theta: Tensor<1>, s_ref: Tensor<1>, beta: f64) -> Tensor<1> {
    let x = (s_theta - s_ref) * beta;
    let log_sigmoid = burn::tensor::activation::log_sigmoid(x);
    log_sigmoid.mean() * (-2.0 / beta)
}
