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

#[cfg(test)]
mod tests {
    //! Each loss on a micro example computed by hand.
    use super::*;
    use burn::tensor::{Device, TensorData};

    fn batch(mask: Vec<f32>, b: usize, l: usize) -> Batch {
        let d = Device::flex();
        let answer_tokens = mask.iter().filter(|&&m| m > 0.0).count();
        Batch {
            input_ids: Tensor::from_data(TensorData::new(vec![0i64; b * l], [b, l]), &d),
            targets: Tensor::from_data(TensorData::new(vec![0i64; b * (l - 1)], [b, l - 1]), &d),
            answer_mask: Tensor::from_data(TensorData::new(mask, [b, l - 1]), &d),
            answer_tokens,
        }
    }

    fn v(t: Tensor<1>) -> f64 {
        t.into_scalar::<f64>()
    }

    #[test]
    fn nll_ce_and_sequence_sums() {
        let d = Device::flex();
        // One row, 3 positions (2 targets), vocab 2. Logits [0, ln 3] → p = (1/4, 3/4).
        let l3 = 3f32.ln();
        let logits = Tensor::from_data(
            TensorData::new(vec![0.0, l3, 0.0, l3, 0.0, 0.0], [1, 3, 2]),
            &d,
        );
        let targets = Tensor::from_data(TensorData::new(vec![1i64, 0], [1, 2]), &d);
        let (nll, logp) = token_nll(logits, targets);
        let nll_v = nll
            .clone()
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .unwrap();
        assert!((nll_v[0] as f64 - (4.0f64 / 3.0).ln()).abs() < 1e-6);
        assert!((nll_v[1] as f64 - 4.0f64.ln()).abs() < 1e-6);
        // Only the second target is an answer token.
        let b = batch(vec![0.0, 1.0], 1, 3);
        assert!((v(cross_entropy(&nll, &b)) - 4.0f64.ln()).abs() < 1e-6);
        assert!((v(sequence_nll(&nll, &b)) - 4.0f64.ln()).abs() < 1e-6);
        // Entropy of (1/4, 3/4) at both positions.
        let h = -(0.25f64 * 0.25f64.ln() + 0.75 * 0.75f64.ln());
        assert!((v(mean_entropy(&logp, &b, EntropyPositions::All)) - h).abs() < 1e-6);
        assert!((v(mean_entropy(&logp, &b, EntropyPositions::Answer)) - h).abs() < 1e-6);
    }

    #[test]
    fn entropy_variants_differ_on_padding() {
        let d = Device::flex();
        // Position 0 uniform over 2 (H = ln 2), position 1 near one-hot (H ≈ 0).
        let logits = Tensor::from_data(
            TensorData::new(vec![0.0f32, 0.0, 30.0, 0.0, 0.0, 0.0], [1, 3, 2]),
            &d,
        );
        let targets = Tensor::from_data(TensorData::new(vec![0i64, 0], [1, 2]), &d);
        let (_, logp) = token_nll(logits, targets);
        let b = batch(vec![0.0, 1.0], 1, 3);
        assert!((v(mean_entropy(&logp, &b, EntropyPositions::All)) - 2f64.ln() / 2.0).abs() < 1e-5);
        assert!(v(mean_entropy(&logp, &b, EntropyPositions::Answer)).abs() < 1e-5);
    }

    #[test]
    fn npo_matches_the_formula() {
        let d = Device::flex();
        let s_theta = Tensor::from_data(TensorData::new(vec![2.0f32, 5.0], [2]), &d);
        let s_ref = Tensor::from_data(TensorData::new(vec![1.0f32, 1.0], [2]), &d);
        let beta = 0.5;
        let sig = |x: f64| 1.0 / (1.0 + (-x).exp());
        let want = -(2.0 / beta) * ((sig(beta * 1.0)).ln() + (sig(beta * 4.0)).ln()) / 2.0;
        assert!((v(npo_loss(s_theta, s_ref, beta)) - want).abs() < 1e-5);
        // At s_θ = s_ref the loss is (2/β)·ln 2, its value at the start of unlearning.
        let s = Tensor::from_data(TensorData::new(vec![3.0f32], [1]), &d);
        assert!((v(npo_loss(s.clone(), s, 0.05)) - 40.0 * 2f64.ln()).abs() < 1e-3);
    }

    #[test]
    fn npo_gradient_lowers_the_likelihood() {
        // d/ds_θ of the NPO loss is negative: minimising it increases s_θ (the NLL).
        let d = Device::flex().autodiff();
        let s_theta = Tensor::<1>::from_data(TensorData::new(vec![2.0f32], [1]), &d).require_grad();
        let s_ref = Tensor::from_data(TensorData::new(vec![2.0f32], [1]), &d);
        let loss = npo_loss(s_theta.clone(), s_ref, 0.1);
        let grads = loss.backward();
        let g = s_theta.grad(&grads).unwrap().into_scalar::<f64>();
        // −(2/β)·β·(1 − σ(0)) = −1.
        assert!((g + 1.0).abs() < 1e-5, "{g}");
    }
}
