//! One optimizer step's gradients: the loss of each micro-batch of the step (finetune
//! cross-entropy, or GA / GD / NPO with the optional entropy terms), accumulated over the
//! step's micro-batches and clipped, with the parts of the loss the log records.

use anyhow::Result;
use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::tensor::{Device, Tensor, TensorData};
use probable_core::model::CausalLm;
use probable_core::prompt::EncodedExample;

use super::batch::{make_batch, Batch};
use super::clip::clip_global_norm;
use super::config::{Method, TrainConfig};
use super::loss::{cross_entropy, mean_entropy, npo_loss, sequence_nll, token_nll};
use super::mode::Mode;

/// The parts of a loss, as the training log records them: the optimised total, and — when
/// unlearning — the cross-entropy on the forget and retain batches and the mean entropy
/// of the next-token distribution on each (H(F), H(R)).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct LossParts {
    pub total: f64,
    pub forget_ce: Option<f64>,
    pub retain_ce: Option<f64>,
    pub forget_entropy: Option<f64>,
    pub retain_entropy: Option<f64>,
}

impl LossParts {
    /// Adds `part / n` of each part `other` has: the mean over a step's `n` micro-batches.
    fn add_share(&mut self, other: &LossParts, n: usize) {
        let n = n as f64;
        let add = |sum: &mut Option<f64>, part: Option<f64>| {
            if let Some(v) = part {
                *sum = Some(sum.unwrap_or(0.0) + v / n);
            }
        };
        self.total += other.total / n;
        add(&mut self.forget_ce, other.forget_ce);
        add(&mut self.retain_ce, other.retain_ce);
        add(&mut self.forget_entropy, other.forget_entropy);
        add(&mut self.retain_entropy, other.retain_entropy);
    }
}

/// What every step of a run computes its loss from, besides the model.
pub(super) struct Objective<'a> {
    pub mode: Mode,
    pub config: &'a TrainConfig,
    /// The trained split (finetune) or the forget split (unlearn).
    pub primary: &'a [EncodedExample],
    /// The retain split (unlearn).
    pub retain: &'a [EncodedExample],
    /// NPO's frozen reference model, on `device`.
    pub reference: Option<&'a CausalLm>,
    pub pad: u32,
    /// The device without autodiff (the reference model's).
    pub device: &'a Device,
    /// The autodiff device the model trains on.
    pub ad: &'a Device,
}

/// One optimizer step's micro-batches: per micro-batch, the indices of its primary
/// examples and of the retain examples paired with them.
pub(super) type MicroBatches = [(Vec<usize>, Vec<usize>)];

/// The gradients of one optimizer step over `group`, accumulated and clipped to
/// `train.clip_norm`; their global norm before clipping; the mean loss parts.
pub(super) fn step_gradients(
    model: &CausalLm,
    objective: &Objective,
    group: &MicroBatches,
) -> Result<(GradientsParams, f64, LossParts)> {
    let t = &objective.config.train;
    let mut accum = GradientsAccumulator::new();
    let mut parts = LossParts::default();
    for (idx, ridx) in group {
        let f_ex: Vec<&EncodedExample> = idx.iter().map(|&i| &objective.primary[i]).collect();
        let fb = make_batch(&f_ex, objective.pad, objective.ad);
        let (loss, micro) = objective.loss(model, &fb, ridx)?;
        let loss = loss / t.grad_accum as f64;
        parts.add_share(&micro, group.len());
        let grads = GradientsParams::from_grads(loss.backward(), model);
        accum.accumulate(model, grads);
    }
    let mut grads = accum.grads();
    let grad_norm = clip_global_norm(model, &mut grads, t.clip_norm);
    Ok((grads, grad_norm, parts))
}

fn scalar(t: Tensor<1>) -> f64 {
    t.into_scalar::<f64>()
}

impl Objective<'_> {
    /// The loss of one micro-batch `fb` (with the retain examples `retain_idx`) and its parts.
    fn loss(
        &self,
        model: &CausalLm,
        fb: &Batch,
        retain_idx: &[usize],
    ) -> Result<(Tensor<1>, LossParts)> {
        let logits = model.forward(fb.input_ids.clone(), None);
        let (nll, logp) = token_nll(logits, fb.targets.clone());
        let ce_f = cross_entropy(&nll, fb);
        let method = match self.mode {
            Mode::Finetune => {
                let v = scalar(ce_f.clone());
                return Ok((
                    ce_f,
                    LossParts {
                        total: v,
                        ..LossParts::default()
                    },
                ));
            }
            Mode::Unlearn(m) => m,
        };
        let u = &self.config.unlearn;
        let needs_retain = method != Method::Ga || (u.entropy && u.lambda_retain != 0.0);
        let retain_parts = if needs_retain {
            let r_ex: Vec<&EncodedExample> = retain_idx.iter().map(|&i| &self.retain[i]).collect();
            let rb = make_batch(&r_ex, self.pad, &fb.input_ids.device());
            let (rnll, rlogp) = token_nll(
                model.forward(rb.input_ids.clone(), None),
                rb.targets.clone(),
            );
            Some((
                cross_entropy(&rnll, &rb),
                mean_entropy(&rlogp, &rb, u.entropy_positions),
            ))
        } else {
            None
        };
        let base_device = self.device;
        let mut loss = match method {
            Method::Ga => ce_f.clone().neg(),
            Method::Gd => {
                let (ce_r, _) = retain_parts.as_ref().expect("retain");
                ce_r.clone() * u.retain_weight - ce_f.clone()
            }
            Method::Npo => {
                let reference = self.reference.expect("NPO has a reference model");
                let ref_input = Tensor::from_data(fb.input_ids.to_data(), base_device);
                let ref_batch = Batch {
                    input_ids: ref_input.clone(),
                    targets: Tensor::from_data(fb.targets.to_data(), base_device),
                    answer_mask: Tensor::from_data(fb.answer_mask.to_data(), base_device),
                    answer_tokens: fb.answer_tokens,
                };
                let (ref_nll, _) = token_nll(
                    reference.forward(ref_input, None),
                    ref_batch.targets.clone(),
                );
                let s_ref: Vec<f32> = sequence_nll(&ref_nll, &ref_batch)
                    .into_data()
                    .convert::<f32>()
                    .try_to_vec::<f32>()
                    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
                let n = s_ref.len();
                let s_ref = Tensor::from_data(TensorData::new(s_ref, [n]), &fb.input_ids.device());
                let (ce_r, _) = retain_parts.as_ref().expect("retain");
                npo_loss(sequence_nll(&nll, fb), s_ref, u.beta) + ce_r.clone() * u.retain_weight
            }
        };
        // H(F) and H(R) are always logged; they enter the loss only with entropy optimisation.
        let hf = mean_entropy(&logp, fb, u.entropy_positions);
        let h_f = Some(scalar(hf.clone()));
        let h_r = retain_parts.as_ref().map(|(_, hr)| scalar(hr.clone()));
        if u.entropy {
            loss = loss + hf * u.lambda_forget;
            if let Some((_, hr)) = &retain_parts {
                loss = loss + hr.clone() * u.lambda_retain;
            }
        }
        let total = scalar(loss.clone());
        let ce_r = retain_parts.as_ref().map(|(c, _)| scalar(c.clone()));
        Ok((
            loss,
            LossParts {
                total,
                forget_ce: Some(scalar(ce_f)),
                retain_ce: ce_r,
                forget_entropy: h_f,
                retain_entropy: h_r,
            },
        ))
    }
}
