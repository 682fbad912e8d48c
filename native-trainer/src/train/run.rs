//! The training loop shared by `probable finetune` and `probable unlearn`: the run
//! directory ([`super::run_dir`]), what the run starts from ([`super::source`]), its
//! examples ([`super::examples`]) and one optimizer step at a time ([`super::step`]).

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Result};
use burn::optim::AdamWConfig;
use burn::tensor::Device;
use indicatif::{ProgressBar, ProgressStyle};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::checkpoint::Checkpoints;
use super::config::TrainConfig;
use super::examples::load_examples;
use super::mode::Mode;
use super::run_dir::{self, publish_bundle, Saver, Start};
use super::schedule::linear_warmup_decay;
use super::source::{npo_reference, training_prompt, Loaded, ModelSource};
use super::step::{step_gradients, LossParts, Objective};

/// One line of `train_log.jsonl`: an optimizer step and its loss parts.
#[derive(Debug, Clone, Serialize)]
struct LogLine {
    step: usize,
    epoch: usize,
    lr: f64,
    loss: f64,
    grad_norm: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    forget_ce: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retain_ce: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    forget_entropy: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retain_entropy: Option<f64>,
}

impl LogLine {
    fn new(step: usize, epoch: usize, lr: f64, grad_norm: f64, parts: LossParts) -> Self {
        Self {
            step,
            epoch,
            lr,
            loss: parts.total,
            grad_norm,
            forget_ce: parts.forget_ce,
            retain_ce: parts.retain_ce,
            forget_entropy: parts.forget_entropy,
            retain_entropy: parts.retain_entropy,
        }
    }
}

/// The divergence guard stopped a run: an outcome of its settings (a sweep records it as
/// the point's result), not a fault of the input.
#[derive(Debug)]
pub struct Diverged(pub String);

impl std::fmt::Display for Diverged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Diverged {}

/// The outcome of a run (also what tests inspect).
#[derive(Debug, Clone)]
pub struct TrainSummary {
    pub steps: usize,
    pub losses: Vec<f64>,
    pub output: PathBuf,
}

/// Runs training in `output.dir`, started as `start` says.
///
/// With `stop_after = Some(k)`, stops once k optimizer steps are done (writing a
/// checkpoint to resume from) without writing the final bundle.
pub fn train(
    config: &TrainConfig,
    mode: Mode,
    device: &Device,
    start: &Start,
    stop_after: Option<usize>,
) -> Result<TrainSummary> {
    let quiet = std::env::var_os("PROBABLE_QUIET").is_some();
    let ad = device.clone().autodiff();
    let out = config.output.dir.clone();
    let ckpts = Checkpoints::new(&out);

    // The run directory: a new run, a replaced one, or the one to continue.
    let run_dir::Opened {
        record,
        resume_from,
    } = run_dir::open(&out, &ckpts, start, mode.command(), config, quiet)?;

    // Model, tokenizer and (for resume) optimizer state.
    let checkpoint = resume_from.as_ref().map(|(dir, s)| (dir.as_path(), s.step));
    let Loaded {
        mut model,
        tokenizer,
        start_step,
    } = ModelSource::of(config, checkpoint).load(&ad)?;
    let mc = model.config().clone();
    let pad = mc.pad_token_id.unwrap_or(0);
    let max_len = config.data.max_length.min(mc.max_position_embeddings);

    // The prompt format, and the files that carry it into the trained bundle.
    let (prompt, extra) = training_prompt(config)?;

    let examples = load_examples(config, mode, &prompt, &tokenizer, &mc, max_len)?;
    let reference = npo_reference(config, mode, device)?;

    let t = &config.train;
    let micro_per_epoch = examples.primary.len().div_ceil(t.batch_size);
    let steps_per_epoch = micro_per_epoch.div_ceil(t.grad_accum);
    let total_steps = steps_per_epoch * t.epochs;
    let warmup = (t.warmup_epochs * steps_per_epoch as f64).round() as usize;
    let mut optim = AdamWConfig::new()
        .with_weight_decay(t.weight_decay as f32)
        .with_epsilon(1e-8)
        .init();
    if let Some((ckpt, _)) = &resume_from {
        optim = optim.load(ckpt.join("optimizer.bpk")).map_err(|e| {
            anyhow::anyhow!("{}: cannot load optimizer state: {e:?}", ckpt.display())
        })?;
    }
    if start_step > total_steps {
        bail!(
            "--resume: the checkpoint is at step {start_step}, beyond the {total_steps} steps this configuration runs"
        );
    }
    let saver = Saver {
        ckpts: &ckpts,
        total_steps,
        config,
        changes: &record.changes,
        extra: &extra,
    };

    // Everything loaded: from here on the directory holds this run.
    let mut log = run_dir::take_over(&out, start, &record, start_step)?;

    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(total_steps as u64)
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} steps · {msg} · {elapsed}<{eta}")
            .expect("template"),
    );
    bar.set_position(start_step as u64);

    let objective = Objective {
        mode,
        config,
        primary: &examples.primary,
        retain: &examples.retain,
        reference: reference.as_ref(),
        pad,
        device,
        ad: &ad,
    };
    let mut losses = Vec::new();
    let mut step = 0usize;
    for epoch in 0..t.epochs {
        for group in epoch_micro_batches(config, epoch, &objective).chunks(t.grad_accum) {
            if step < start_step {
                step += 1;
                continue;
            }
            let (grads, grad_norm, parts) = step_gradients(&model, &objective, group)?;
            let lr = linear_warmup_decay(t.lr, step, warmup, total_steps);
            let loss_value = parts.total;
            // Divergence guard: keep the last good checkpoint and stop.
            let forget_ce = parts.forget_ce;
            if !loss_value.is_finite()
                || !grad_norm.is_finite()
                || forget_ce.is_some_and(|ce| ce > config.unlearn.forget_loss_bound)
            {
                bar.abandon();
                return Err(Diverged(format!(
                    "diverged at step {step} (loss {loss_value}, forget CE {forget_ce:?}, bound {}); the last good checkpoint is in {}",
                    config.unlearn.forget_loss_bound,
                    ckpts.link().display()
                ))
                .into());
            }
            model = optim.step(lr, model, grads);
            let line = LogLine::new(step, epoch, lr, grad_norm, parts);
            writeln!(log, "{}", serde_json::to_string(&line)?)?;
            losses.push(loss_value);
            step += 1;
            bar.set_position(step as u64);
            bar.set_message(format!("loss {loss_value:.4} · lr {lr:.2e}"));
            let save_every = config.output.save_every;
            if stop_after == Some(step) {
                bar.finish_and_clear();
                saver.save(&model, &tokenizer, &optim, step)?;
                return Ok(TrainSummary {
                    steps: step,
                    losses,
                    output: out,
                });
            }
            if save_every > 0 && step.is_multiple_of(save_every) && step < total_steps {
                saver.save(&model, &tokenizer, &optim, step)?;
            }
        }
    }
    bar.finish_and_clear();
    // A resumed run that had already finished took no step: its checkpoint is current.
    let ckpt = match (&resume_from, step > start_step) {
        (Some((dir, _)), false) => dir.clone(),
        _ => saver.save(&model, &tokenizer, &optim, step)?,
    };
    publish_bundle(&out, &ckpt, &extra)?;
    Ok(TrainSummary {
        steps: step,
        losses,
        output: out,
    })
}

/// The micro-batches of `epoch` in order: the primary examples shuffled by a stream of
/// (seed, epoch), cut into batches of `train.batch_size`, each example paired with a random
/// retain example (the reference draws a random offset per item).
fn epoch_micro_batches(
    config: &TrainConfig,
    epoch: usize,
    objective: &Objective,
) -> Vec<(Vec<usize>, Vec<usize>)> {
    let t = &config.train;
    let (primary, retain) = (objective.primary, objective.retain);
    let mut rng =
        ChaCha8Rng::seed_from_u64(t.seed.wrapping_mul(0x9E37_79B9).wrapping_add(epoch as u64));
    let mut order: Vec<usize> = (0..primary.len()).collect();
    order.shuffle(&mut rng);
    let pairs: Vec<usize> = order
        .iter()
        .map(|_| {
            if retain.is_empty() {
                0
            } else {
                rng.random_range(0..retain.len())
            }
        })
        .collect();
    order
        .chunks(t.batch_size)
        .zip(pairs.chunks(t.batch_size))
        .map(|(a, b)| (a.to_vec(), b.to_vec()))
        .collect()
}
