//! The batched many-sample loop over one prompt.

use std::future::Future;
use std::ops::ControlFlow;
use std::pin::Pin;

use burn::tensor::{Int, Tensor, TensorData};

use super::prefill::Prefilled;
use super::{select_tokens, DecodeConfig, Prefills, SampleRng, SamplingError};
use crate::model::{CausalLm, ModelConfig};
use crate::tensor::host::{ids_of, upload_ids};

/// One finished sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generation {
    pub sample_index: u32,
    /// New tokens only; includes the EOS token when the row stopped on one.
    pub tokens: Vec<u32>,
    pub stopped_on_eos: bool,
    /// The seed a remote engine drew this sample with (one seed per sample, vLLM's and
    /// llama.cpp's convention); `None` from the local engine, whose streams are keyed by
    /// (seed, prompt index, sample index).
    pub seed: Option<u64>,
}

/// Reported after every decode step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Samples finished so far (over all chunks).
    pub samples_done: usize,
    pub samples_total: usize,
    /// Tokens generated so far (over all rows).
    pub tokens: usize,
}

/// What a progress callback returns. It is awaited after every decode step, so a browser
/// caller can hand control back to its event loop there (repaint the progress bar, notice
/// a Stop click) even on a CPU backend whose reads complete at once.
pub type Step = Pin<Box<dyn Future<Output = ControlFlow<()>>>>;

/// A [`Step`] that is ready at once: what callers that need not yield return.
pub fn step_now(flow: ControlFlow<()>) -> Step {
    Box::pin(std::future::ready(flow))
}

/// A callback that never stops the run.
pub fn no_progress(_: Progress) -> Step {
    step_now(ControlFlow::Continue(()))
}

/// Rows per chunk so that the KV cache of the `new_tokens` positions each row generates
/// (prompts are shared, not copied per row) and the per-step vocab-sized buffers of a
/// chunk fit in `budget_bytes` (f32 everywhere).
pub fn chunk_size_for_budget(
    config: &ModelConfig,
    new_tokens: usize,
    budget_bytes: usize,
) -> usize {
    let cache =
        2 * config.num_hidden_layers * config.num_key_value_heads * config.head_dim * new_tokens;
    // The device path's logits, probabilities, log-probabilities, masks, cumulative sums
    // and ids (the host path needs less).
    let step = 6 * config.vocab_size + 8 * config.intermediate_size.max(config.hidden_size);
    (budget_bytes / (4 * (cache + step))).max(1)
}

/// Reads ids back to the host; asynchronous so that WebGPU in the browser works.
async fn read_ids(ids: Tensor<1, Int>) -> Result<Vec<u32>, SamplingError> {
    let data = ids
        .into_data_async()
        .await
        .map_err(|e| SamplingError::Device(format!("{e:?}")))?;
    let dtype = data.dtype();
    ids_of(data).ok_or_else(|| SamplingError::Device(format!("ids read back as {dtype:?}")))
}

/// One prompt's part of a batch: draw samples `samples` of `prompt`; sample s comes
/// from the random stream keyed by (`seed`, `prompt_index`, s).
#[derive(Debug, Clone)]
pub struct PromptJob<'a> {
    pub prompt: &'a [u32],
    pub prompt_index: u32,
    pub samples: std::ops::Range<u32>,
    pub seed: u64,
}

/// Draws samples `sample_indices` of `prompt` (ids), in chunks of `chunk_size` rows.
/// `progress` is awaited after every step and may return `ControlFlow::Break` to stop
/// early; the samples finished so far are returned (each complete, none truncated by the
/// stop).
pub async fn sample_prompt(
    model: &CausalLm,
    prompt: &[u32],
    prompt_index: u32,
    sample_indices: std::ops::Range<u32>,
    config: &DecodeConfig,
    chunk_size: usize,
    progress: &mut dyn FnMut(Progress) -> Step,
) -> Result<Vec<Generation>, SamplingError> {
    let job = PromptJob {
        prompt,
        prompt_index,
        samples: sample_indices,
        seed: config.seed,
    };
    let mut out = sample_prompts(model, &[job], config, chunk_size, progress).await?;
    Ok(out.pop().unwrap_or_default())
}

fn validate_job(
    model: &CausalLm,
    job: &PromptJob,
    config: &DecodeConfig,
) -> Result<(), SamplingError> {
    let vocab = model.config().vocab_size;
    if job.prompt.is_empty() {
        return Err(SamplingError::EmptyPrompt);
    }
    if job.samples.is_empty() {
        return Err(SamplingError::NoSamples);
    }
    if let Some((position, &id)) = job
        .prompt
        .iter()
        .enumerate()
        .find(|(_, &t)| t as usize >= vocab)
    {
        return Err(SamplingError::TokenOutOfRange {
            id,
            position,
            vocab,
        });
    }
    if let Some(max) = model
        .config()
        .max_context()
        .filter(|&max| job.prompt.len() + config.max_new_tokens > max)
    {
        return Err(SamplingError::TooLong {
            prompt: job.prompt.len(),
            new: config.max_new_tokens,
            max,
        });
    }
    Ok(())
}

/// Draws the samples of several prompts (of any lengths) in shared batches: the rows of
/// all `jobs`, in order, are cut into chunks of `chunk_size`, so a chunk may continue
/// several prompts — a GPU then sees hundreds of rows even when each prompt asks for
/// fewer samples. Each prompt is prefilled once and its keys and values are shared by its
/// rows ([`KvCache::continuing`](crate::model::KvCache::continuing)). A sample depends only
/// on its (seed, prompt index, sample index) stream — each job's own seed; `config.seed`
/// is not used — so it is the one that [`sample_prompt`] draws for that prompt alone.
/// Returns each job's finished samples; a stop (`ControlFlow::Break` from `progress`)
/// keeps the samples completed so far.
pub async fn sample_prompts(
    model: &CausalLm,
    jobs: &[PromptJob<'_>],
    config: &DecodeConfig,
    chunk_size: usize,
    progress: &mut dyn FnMut(Progress) -> Step,
) -> Result<Vec<Vec<Generation>>, SamplingError> {
    let mut prefills = Prefills::default();
    sample_prompts_reusing(model, jobs, config, chunk_size, &mut prefills, progress).await
}

/// [`sample_prompts`] taking the prompts `prefills` holds from the previous call (of the same
/// model) instead of prefilling them again, and leaving this call's prompts in it
/// (`prefill.rs`). The samples are the same.
pub async fn sample_prompts_reusing(
    model: &CausalLm,
    jobs: &[PromptJob<'_>],
    config: &DecodeConfig,
    chunk_size: usize,
    prefills: &mut Prefills,
    progress: &mut dyn FnMut(Progress) -> Step,
) -> Result<Vec<Vec<Generation>>, SamplingError> {
    config.validate()?;
    if jobs.is_empty() {
        return Err(SamplingError::NoSamples);
    }
    let vocab = model.config().vocab_size;
    if let Some(&id) = config.eos_token_ids.iter().find(|&&t| t as usize >= vocab) {
        return Err(SamplingError::EosOutOfRange { id, vocab });
    }
    for job in jobs {
        validate_job(model, job, config)?;
    }
    let device = model.embed_tokens.weight.device();
    let total: usize = jobs.iter().map(|j| j.samples.len()).sum();

    // Prefill every distinct prompt once (batch 1): its last logits and its keys/values.
    // Jobs with the same prompt as an earlier job share its prefill (a server's request
    // of n choices arrives as n jobs of one prompt, each with its own seed).
    // A prompt the previous call prefilled is taken from `prefills`.
    let mut prefill_of: Vec<usize> = Vec::with_capacity(jobs.len());
    let mut latest: Vec<(Vec<u32>, Prefilled)> = Vec::new();
    for (j, job) in jobs.iter().enumerate() {
        if let Some(k) = (0..j).find(|&k| jobs[k].prompt == job.prompt) {
            prefill_of.push(prefill_of[k]);
            continue;
        }
        let done = prefills.get(job.prompt).unwrap_or_else(|| {
            let mut cache = model.new_cache();
            let logits = model.forward_cached(
                upload_ids(job.prompt, [1, job.prompt.len()], &device),
                &mut cache,
            );
            (logits, cache)
        });
        prefill_of.push(latest.len());
        latest.push((job.prompt.to_vec(), done));
    }
    prefills.keep(latest);
    let prefilled = prefills.latest();

    let mut out: Vec<Vec<Generation>> = jobs.iter().map(|_| Vec::new()).collect();
    let mut finished = 0usize;
    let mut tokens_done = 0usize;
    // Every row of every job: (job, sample index).
    let all: Vec<(usize, u32)> = jobs
        .iter()
        .enumerate()
        .flat_map(|(j, job)| job.samples.clone().map(move |s| (j, s)))
        .collect();
    for chunk in all.chunks(chunk_size.max(1)) {
        let rows = chunk.len();
        let mut rngs: Vec<SampleRng> = chunk
            .iter()
            .map(|&(j, s)| SampleRng::new(jobs[j].seed, jobs[j].prompt_index, s))
            .collect();
        // Consecutive rows of one job form a group: (job, rows).
        let mut groups: Vec<(usize, usize)> = Vec::new();
        for &(j, _) in chunk {
            match groups.last_mut() {
                Some((last, n)) if *last == j => *n += 1,
                _ => groups.push((j, 1)),
            }
        }
        let shared: Vec<(&crate::model::KvCache, usize)> = groups
            .iter()
            .map(|&(j, n)| (&prefilled[prefill_of[j]].1, n))
            .collect();
        let mut cache = model.continuing_cache(&shared, config.max_new_tokens);
        let mut logits = Tensor::cat(
            groups
                .iter()
                .map(|&(j, n)| prefilled[prefill_of[j]].0.clone().repeat_dim(0, n))
                .collect(),
            0,
        );
        // `active[r]` = position in `chunk` of the sample decoded in row r.
        let mut active: Vec<usize> = (0..rows).collect();
        let mut texts: Vec<Vec<u32>> = vec![Vec::new(); rows];
        let mut eos_hit = vec![false; rows];
        let mut stop = false;
        for step in 0..config.max_new_tokens {
            let uniforms: Vec<f32> = active.iter().map(|&i| rngs[i].uniform()).collect();
            let u = Tensor::from_data(TensorData::new(uniforms, [active.len(), 1]), &device);
            let next = read_ids(select_tokens(logits, config, u)).await?;
            // Selection marks a row whose logits were not all finite with an id past the
            // vocabulary (see `select_tokens`).
            if next.iter().any(|&t| t as usize >= vocab) {
                return Err(SamplingError::NonFiniteLogits { step });
            }
            tokens_done += next.len();
            let mut keep_rows = Vec::with_capacity(active.len());
            for (row, (&i, &tok)) in active.iter().zip(&next).enumerate() {
                texts[i].push(tok);
                if config.eos_token_ids.contains(&tok) {
                    eos_hit[i] = true;
                } else {
                    keep_rows.push(row);
                }
            }
            let done_in_chunk = rows - keep_rows.len();
            let at_limit = texts[active[0]].len() >= config.max_new_tokens;
            let report = Progress {
                samples_done: finished + if at_limit { rows } else { done_in_chunk },
                samples_total: total,
                tokens: tokens_done,
            };
            if progress(report).await.is_break() {
                stop = true;
            }
            if keep_rows.is_empty() || at_limit || stop {
                break;
            }
            let next_ids: Vec<u32> = keep_rows.iter().map(|&r| next[r]).collect();
            if keep_rows.len() < active.len() {
                cache = cache.select_rows(&keep_rows);
                active = keep_rows.iter().map(|&r| active[r]).collect();
            }
            logits = model.forward_cached(
                upload_ids(&next_ids, [next_ids.len(), 1], &device),
                &mut cache,
            );
        }
        for (i, &(j, s)) in chunk.iter().enumerate() {
            let complete = eos_hit[i] || texts[i].len() >= config.max_new_tokens;
            if complete {
                finished += 1;
                out[j].push(Generation {
                    sample_index: s,
                    tokens: std::mem::take(&mut texts[i]),
                    stopped_on_eos: eos_hit[i],
                    seed: None,
                });
            }
        }
        if stop {
            break;
        }
    }
    Ok(out)
}
