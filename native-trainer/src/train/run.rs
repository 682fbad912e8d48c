//! The training loop shared by `probable finetune` and `probable unlearn`.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use burn::module::Module;
use burn::optim::{AdamWConfig, GradientsAccumulator, GradientsParams};
use burn::tensor::{Device, Tensor, TensorData};
use indicatif::{ProgressBar, ProgressStyle};
use probable_core::data::QaItem;
use probable_core::data::QaKeys;
use probable_core::eval::EncodedExample;
use probable_core::model::{CausalLm, ModelConfig, RandomInit, StorageDtype};
use probable_core::prompt::{ChatConfig, Prompt};
use probable_core::tokenizer::Tokenizer;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::batch::{make_batch, truncate, Batch};
use super::checkpoint::Checkpoints;
use super::clip::clip_global_norm;
use super::config::{Method, TrainConfig};
use super::loss::{cross_entropy, mean_entropy, npo_loss, sequence_nll, token_nll};
use super::record::{check_resume, record_path, Change, RunRecord};
use super::schedule::linear_warmup_decay;
use crate::bundle::{bundle_files, load_bundle};
use crate::data::load_split_with;
use crate::output::{step as fs_step, sync_dir, unique_suffix, write_atomic, write_synced};
use crate::prompting::{prompt_for_bundle, record_bytes, resolve_spec, TemplateArgs};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Finetune,
    Unlearn(Method),
}

/// What a checkpoint remembers besides weights and optimizer moments.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct TrainerState {
    /// Optimizer steps taken.
    step: usize,
    total_steps: usize,
    config: TrainConfig,
    /// Fields changed on resume (`--allow-change`), with the step they applied from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    changes: Vec<Change>,
}

/// How a run starts in its output directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    /// A new run: the directory must not hold one already.
    Fresh,
    /// Continue the run the directory holds — from its checkpoint, or from step 0 when it
    /// stopped before the first one — with the same configuration, except for the fields
    /// named here (see [`super::record::CHANGEABLE`]).
    Resume { allow_change: Vec<String> },
    /// Replace the run the directory holds.
    Overwrite,
}

/// Files of a run in `output.dir` (checkpoints, log, record, final bundle).
const RUN_FILES: &[&str] = &[
    "run.json",
    "checkpoint",
    "checkpoints",
    "train_log.jsonl",
    "config.json",
    "model.safetensors",
    "generation_config.json",
    "tokenizer.json",
];

fn run_files_in(out: &Path) -> Vec<String> {
    let mut found: Vec<String> = RUN_FILES
        .iter()
        .filter(|f| out.join(f).symlink_metadata().is_ok())
        .map(|f| f.to_string())
        .collect();
    if let Ok(entries) = fs::read_dir(out) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if name.starts_with(".checkpoint.") {
                found.push(name);
            }
        }
    }
    found
}

/// Removes a previous run's files for `--overwrite`: `config.json` first, so that no
/// instant shows new weights beside an old config or the reverse.
fn remove_run(out: &Path) -> Result<()> {
    for f in run_files_in(out) {
        let p = out.join(&f);
        let r = if p.symlink_metadata().is_ok_and(|m| m.is_dir()) {
            fs::remove_dir_all(&p)
        } else {
            fs::remove_file(&p)
        };
        r.with_context(|| format!("--overwrite: cannot remove {}", p.display()))?;
    }
    Ok(())
}

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

fn scalar(t: Tensor<1>) -> f64 {
    t.into_scalar::<f64>()
}

fn encode(
    items: &[QaItem],
    prompt: &Prompt,
    tokenizer: &Tokenizer,
    config: &ModelConfig,
    max_length: usize,
) -> Result<Vec<EncodedExample>> {
    let eos = config.eos_token_ids.first().copied();
    items
        .iter()
        .map(|q| {
            let e = prompt.encode_example(
                tokenizer,
                &q.question,
                &q.answer,
                config.bos_token_id,
                eos,
            )?;
            Ok(truncate(e, max_length))
        })
        .collect()
}

/// Extra files of a trained bundle: `probable.json` (the prompt format) and the starting
/// bundle's chat files, so transformers and `--template chat` find them too.
type ExtraFiles = Vec<(&'static str, Vec<u8>)>;

/// The prompt format of `config.prompt`, resolved against `model.from` (whose recorded
/// format is the default), and the extra files the trained bundle gets.
fn training_prompt(config: &TrainConfig) -> Result<(Prompt, ExtraFiles)> {
    let p = &config.prompt;
    let args = TemplateArgs {
        template: p.template.clone(),
        system: p.system.clone(),
        date_string: p.date_string.clone(),
    };
    let mut extra: ExtraFiles = Vec::new();
    let prompt = match &config.model.from {
        Some(from) => {
            for f in ["tokenizer_config.json", "chat_template.jinja"] {
                if let Ok(bytes) = fs::read(from.join(f)) {
                    extra.push((f, bytes));
                }
            }
            prompt_for_bundle(&args, from, "qa")?
        }
        None => resolve_spec(
            p.template.as_deref().unwrap_or("qa"),
            &args.options(),
            "model.architecture (a random model has no chat template)",
            || Ok(ChatConfig::default()),
        )?,
    };
    extra.push(("probable.json", record_bytes(&prompt)?));
    Ok((prompt, extra))
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
    let command = match mode {
        Mode::Finetune => "finetune",
        Mode::Unlearn(_) => "unlearn",
    };

    // The run directory: a new run, a replaced one, or the one to continue.
    let existing = run_files_in(&out);
    let mut resume_from: Option<(PathBuf, TrainerState)> = None;
    let mut record = RunRecord {
        command: command.to_string(),
        config: config.clone(),
        changes: Vec::new(),
    };
    match start {
        Start::Fresh if !existing.is_empty() => bail!(
            "{} already holds a run ({}): pass --resume to continue it or --overwrite to replace it",
            out.display(),
            existing.join(", ")
        ),
        Start::Fresh => {}
        // The old run goes only once the new one has loaded (below).
        Start::Overwrite => {}
        Start::Resume { allow_change } => {
            let cleaned = ckpts.recover()?;
            if !cleaned.is_empty() && !quiet {
                eprintln!(
                    "removed {} leftover(s) of an interrupted run in {}",
                    cleaned.len(),
                    out.display()
                );
            }
            let current = ckpts.current();
            let state = match &current {
                Some(dir) => {
                    let path = dir.join("trainer_state.json");
                    let state: TrainerState = serde_json::from_slice(
                        &fs::read(&path)
                            .with_context(|| format!("{}: cannot read", path.display()))?,
                    )
                    .with_context(|| format!("{}: malformed", path.display()))?;
                    Some(state)
                }
                None => None,
            };
            let saved = match (RunRecord::read(&out)?, &state) {
                (Some(r), _) => r,
                // A run from before run records: its checkpoint knows the configuration.
                (None, Some(s)) => RunRecord {
                    command: command.to_string(),
                    config: s.config.clone(),
                    changes: s.changes.clone(),
                },
                (None, None) => bail!(
                    "--resume: {} holds no run to resume (no run.json, no checkpoint)",
                    out.display()
                ),
            };
            let at = state.as_ref().map_or(0, |s| s.step);
            let changes =
                check_resume(&saved, command, config, allow_change, at, &record_path(&out))?;
            record.changes = saved.changes;
            record.changes.extend(changes);
            if let (Some(dir), Some(s)) = (current, state) {
                resume_from = Some((dir, s));
            }
        }
    }

    // Model, tokenizer and (for resume) optimizer state.
    let (mut model, tokenizer, start_step) = if let Some((ckpt, state)) = &resume_from {
        let b = load_bundle(ckpt, &ad)
            .with_context(|| format!("--resume: no usable checkpoint in {}", ckpt.display()))?;
        let tok = b
            .tokenizer
            .clone()
            .context("checkpoint has no tokenizer.json")?;
        (b.model, tok, state.step)
    } else if let Some(from) = &config.model.from {
        let b = load_bundle(from, &ad)?;
        let tok = b
            .tokenizer
            .clone()
            .with_context(|| format!("{}: training needs tokenizer.json", from.display()))?;
        (b.model, tok, 0)
    } else {
        let arch = config.model.architecture.as_ref().expect("validated");
        let json = serde_json::to_string(arch)?;
        let mc = ModelConfig::from_hf_json(&json).context("model.architecture")?;
        let tok_path = config.model.tokenizer.as_ref().expect("validated");
        let tok = Tokenizer::from_json(
            &fs::read(tok_path).with_context(|| format!("{}: cannot read", tok_path.display()))?,
        )
        .with_context(|| format!("{}", tok_path.display()))?;
        if tok.vocab_size() > mc.vocab_size {
            bail!(
                "model.architecture.vocab_size = {} is smaller than the tokenizer's {} ids",
                mc.vocab_size,
                tok.vocab_size()
            );
        }
        let m = CausalLm::load(
            &mc,
            &mut RandomInit::new(config.train.seed, config.model.init_std as f32),
            &ad,
        )?;
        (m, tok, 0)
    };
    let mc = model.config().clone();
    let pad = mc.pad_token_id.unwrap_or(0);
    let max_len = config.data.max_length.min(mc.max_position_embeddings);

    // The prompt format, and the files that carry it into the trained bundle.
    let (prompt, extra) = training_prompt(config)?;

    // Data.
    let keys = QaKeys {
        question: config.data.question_key.clone(),
        answer: config.data.answer_key.clone(),
        variants: Vec::new(),
    };
    let load = |split: &str| load_split_with(&config.data.path, Some(split), &keys);
    let (primary, retain) = match mode {
        Mode::Finetune => {
            let (_, items) = load(&config.data.split)?;
            (
                encode(&items, &prompt, &tokenizer, &mc, max_len)?,
                Vec::new(),
            )
        }
        Mode::Unlearn(_) => {
            let (_, f) = load(&config.data.forget_split)?;
            let (_, r) = load(&config.data.retain_split)?;
            (
                encode(&f, &prompt, &tokenizer, &mc, max_len)?,
                encode(&r, &prompt, &tokenizer, &mc, max_len)?,
            )
        }
    };
    // The frozen reference of NPO: the starting model, without autodiff.
    let reference = match mode {
        Mode::Unlearn(Method::Npo) => {
            let from = config
                .model
                .from
                .as_ref()
                .context("NPO needs model.from (the finetuned reference)")?;
            Some(load_bundle(from, device)?.model)
        }
        _ => None,
    };

    let t = &config.train;
    let micro_per_epoch = primary.len().div_ceil(t.batch_size);
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
    if *start == Start::Overwrite {
        remove_run(&out)?;
    }
    fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    record.write(&out)?;
    let log_path = out.join("train_log.jsonl");
    // Keep only the log lines up to the resumed step.
    let kept: String = if matches!(start, Start::Resume { .. }) {
        fs::read_to_string(&log_path)
            .unwrap_or_default()
            .lines()
            .filter(|l| {
                serde_json::from_str::<serde_json::Value>(l)
                    .ok()
                    .and_then(|v| v["step"].as_u64())
                    .is_some_and(|s| (s as usize) < start_step)
            })
            .map(|l| format!("{l}\n"))
            .collect()
    } else {
        String::new()
    };
    write_atomic(&log_path, kept.as_bytes())?;
    let mut log = fs::OpenOptions::new().append(true).open(&log_path)?;

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

    let mut losses = Vec::new();
    let mut step = 0usize;
    for epoch in 0..t.epochs {
        let mut rng =
            ChaCha8Rng::seed_from_u64(t.seed.wrapping_mul(0x9E37_79B9).wrapping_add(epoch as u64));
        let mut order: Vec<usize> = (0..primary.len()).collect();
        order.shuffle(&mut rng);
        // Each forget example is paired with a random retain example (the reference draws a
        // random offset per item).
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
        let micro: Vec<(Vec<usize>, Vec<usize>)> = order
            .chunks(t.batch_size)
            .zip(pairs.chunks(t.batch_size))
            .map(|(a, b)| (a.to_vec(), b.to_vec()))
            .collect();
        for group in micro.chunks(t.grad_accum) {
            if step < start_step {
                step += 1;
                continue;
            }
            let mut accum = GradientsAccumulator::new();
            let mut stats = [0.0f64; 5];
            let mut have = [false; 5];
            for (idx, ridx) in group {
                let f_ex: Vec<&EncodedExample> = idx.iter().map(|&i| &primary[i]).collect();
                let fb = make_batch(&f_ex, pad, &ad);
                let (loss, parts) = objective(
                    &model,
                    reference.as_ref(),
                    &fb,
                    ridx,
                    &retain,
                    pad,
                    mode,
                    config,
                    device,
                )?;
                let loss = loss / t.grad_accum as f64;
                for (k, v) in parts.iter().enumerate() {
                    if let Some(v) = v {
                        stats[k] += v / group.len() as f64;
                        have[k] = true;
                    }
                }
                let grads = GradientsParams::from_grads(loss.backward(), &model);
                accum.accumulate(&model, grads);
            }
            let mut grads = accum.grads();
            let grad_norm = clip_global_norm(&model, &mut grads, t.clip_norm);
            let lr = linear_warmup_decay(t.lr, step, warmup, total_steps);
            let loss_value = stats[0];
            // Divergence guard: keep the last good checkpoint and stop.
            let forget_ce = have[1].then_some(stats[1]);
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
            let line = LogLine {
                step,
                epoch,
                lr,
                loss: loss_value,
                grad_norm,
                forget_ce,
                retain_ce: have[2].then_some(stats[2]),
                forget_entropy: have[3].then_some(stats[3]),
                retain_entropy: have[4].then_some(stats[4]),
            };
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

/// Writes checkpoints of one run.
struct Saver<'a> {
    ckpts: &'a Checkpoints,
    total_steps: usize,
    config: &'a TrainConfig,
    changes: &'a [Change],
    /// `probable.json` and the starting bundle's chat files (see [`training_prompt`]).
    extra: &'a [(&'static str, Vec<u8>)],
}

impl Saver<'_> {
    /// Saves a checkpoint of `step` (crash-safe, see [`Checkpoints::save`]); returns its
    /// directory.
    fn save(
        &self,
        model: &CausalLm,
        tokenizer: &Tokenizer,
        optim: &burn::optim::ModuleOptimizer,
        step: usize,
    ) -> Result<PathBuf> {
        let state = TrainerState {
            step,
            total_steps: self.total_steps,
            config: self.config.clone(),
            changes: self.changes.to_vec(),
        };
        // In memory: a temporary file here was once shared by the threads of `sweep --jobs`.
        let optim_bytes = optim
            .into_bytes()
            .map_err(|e| anyhow::anyhow!("cannot save optimizer state: {e:?}"))?
            .to_vec();
        let mut files = bundle_files(&model.valid(), Some(tokenizer), StorageDtype::F32, None)?;
        files.push((
            "trainer_state.json".into(),
            serde_json::to_vec_pretty(&state)?,
        ));
        files.push(("optimizer.bpk".into(), optim_bytes));
        files.extend(self.extra.iter().map(|(n, b)| (n.to_string(), b.clone())));
        self.ckpts.save(step, &files)
    }
}

/// Publishes the final bundle next to the log from the checkpoint `ckpt`. The files of a
/// directory cannot be replaced together, so `config.json` is removed first and written
/// last: a crash in between leaves a directory that does not load as a bundle (and
/// `--resume` finishes the publication), never new weights beside an old config.
fn publish_bundle(out: &Path, ckpt: &Path, extra: &[(&str, Vec<u8>)]) -> Result<()> {
    let config = out.join("config.json");
    if config.exists() {
        fs_step(&format!("remove {}", config.display()));
        fs::remove_file(&config).with_context(|| format!("cannot remove {}", config.display()))?;
    }
    let files = [
        "model.safetensors",
        "generation_config.json",
        "tokenizer.json",
    ]
    .into_iter()
    .chain(extra.iter().map(|(n, _)| *n))
    .chain(["config.json"]);
    for f in files {
        let bytes = fs::read(ckpt.join(f))
            .with_context(|| format!("cannot read {}", ckpt.join(f).display()))?;
        let tmp = out.join(format!(".{f}.tmp-{}", unique_suffix()));
        fs_step(&format!("write {}", tmp.display()));
        write_synced(&tmp, &bytes)?;
        fs_step(&format!("rename {} to {f}", tmp.display()));
        fs::rename(&tmp, out.join(f))
            .with_context(|| format!("cannot write {}", out.join(f).display()))?;
    }
    sync_dir(out);
    Ok(())
}

/// The loss of one micro-batch and its parts `[total, forget CE, retain CE, H(F), H(R)]`.
#[allow(clippy::too_many_arguments)]
fn objective(
    model: &CausalLm,
    reference: Option<&CausalLm>,
    fb: &Batch,
    retain_idx: &[usize],
    retain: &[EncodedExample],
    pad: u32,
    mode: Mode,
    config: &TrainConfig,
    base_device: &Device,
) -> Result<(Tensor<1>, [Option<f64>; 5])> {
    let logits = model.forward(fb.input_ids.clone(), None);
    let (nll, logp) = token_nll(logits, fb.targets.clone());
    let ce_f = cross_entropy(&nll, fb);
    let method = match mode {
        Mode::Finetune => {
            let v = scalar(ce_f.clone());
            return Ok((ce_f, [Some(v), None, None, None, None]));
        }
        Mode::Unlearn(m) => m,
    };
    let u = &config.unlearn;
    let needs_retain = method != Method::Ga || (u.entropy && u.lambda_retain != 0.0);
    let retain_parts = if needs_retain {
        let r_ex: Vec<&EncodedExample> = retain_idx.iter().map(|&i| &retain[i]).collect();
        let rb = make_batch(&r_ex, pad, &fb.input_ids.device());
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
    let mut loss = match method {
        Method::Ga => ce_f.clone().neg(),
        Method::Gd => {
            let (ce_r, _) = retain_parts.as_ref().expect("retain");
            ce_r.clone() * u.retain_weight - ce_f.clone()
        }
        Method::Npo => {
            let reference = reference.expect("NPO has a reference model");
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
    Ok((loss, [Some(total), Some(scalar(ce_f)), ce_r, h_f, h_r]))
}
