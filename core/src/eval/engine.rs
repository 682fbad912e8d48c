//! Runs the evaluation of a list of questions on one model. Asynchronous so the same code
//! drives the CLI (blocked on natively) and the browser (awaiting WebGPU reads).

use crate::data::QaItem;
use crate::model::CausalLm;
use crate::sample::{
    no_progress, sample_prompt, sample_prompts, DecodeConfig, Generation, Progress, PromptJob,
    SamplingError, Step, Strategy,
};
use crate::tokenizer::Tokenizer;

use super::report::{Decoded, EvalReport, QuestionReport};
use super::EvalConfig;

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error(transparent)]
    Sampling(#[from] SamplingError),
    #[error(transparent)]
    Tokenizer(#[from] crate::tokenizer::TokenizerError),
    #[error(transparent)]
    Prompt(#[from] crate::prompt::PromptError),
    #[error(transparent)]
    Stats(#[from] crate::stats::StatsError),
    #[error("question {id}: keyword metric needs a non-empty `keywords` list")]
    NoKeywords { id: String },
    #[error("question {id}: has {have} prompt variants, the evaluation asks for {want} ({keys})")]
    MissingVariants {
        id: String,
        have: usize,
        want: usize,
        keys: String,
    },
    #[error("evaluation stopped")]
    Stopped,
}

/// Progress over a whole evaluation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EvalProgress {
    pub questions_done: usize,
    pub questions_total: usize,
    /// Samples finished of the prompts being decoded: one question, or several whose
    /// samples together fit in one batch (`batch_size`).
    pub samples_done: usize,
    pub samples_total: usize,
    /// Tokens generated so far, over the whole evaluation.
    pub tokens: usize,
}

fn decode(
    tokenizer: &Tokenizer,
    g: &Generation,
    item: &QaItem,
    config: &EvalConfig,
) -> Result<Decoded, EvalError> {
    let text = tokenizer.decode(&g.tokens)?;
    Ok(Decoded {
        score: config.metric.score(&item.answer, &item.keywords, &text),
        text,
        ids: g.tokens.clone(),
        stopped_on_eos: g.stopped_on_eos,
    })
}

/// The greedy answer to `prompt` (argmax at every step, with the sampling settings'
/// length limit and EOS ids), decoded and scored against `item`'s reference: what a
/// single-answer benchmark would report.
pub async fn greedy_answer(
    model: &CausalLm,
    tokenizer: &Tokenizer,
    prompt: &[u32],
    item: &QaItem,
    config: &EvalConfig,
) -> Result<Decoded, EvalError> {
    let greedy_config = DecodeConfig {
        strategy: Strategy::Greedy,
        adaptive: None,
        ..config.decode.clone()
    };
    // Greedy decoding draws no random numbers, so the stream index does not matter.
    let out = sample_prompt(model, prompt, 0, 0..1, &greedy_config, 1, &mut no_progress).await?;
    decode(tokenizer, &out[0], item, config)
}

/// Evaluates `items` (each paired with its index in the split, which keys its random
/// streams so a question's samples do not depend on sharding).
pub async fn evaluate(
    model: &CausalLm,
    tokenizer: &Tokenizer,
    items: &[(u32, QaItem)],
    config: &EvalConfig,
    names: (&str, &str, &str),
    progress: &mut dyn FnMut(EvalProgress) -> Step,
) -> Result<EvalReport, EvalError> {
    config.bounds.validate()?;
    config.decode.validate()?;
    if config.samples == 0 {
        return Err(SamplingError::NoSamples.into());
    }
    let leak_ks = config.leak_ks();
    if let Some(&k) = leak_ks
        .iter()
        .find(|&&k| k == 0 || k > config.samples as u64)
    {
        return Err(crate::stats::StatsError::InvalidK {
            k,
            n: config.samples as u64,
        }
        .into());
    }
    let bos = model.config().bos_token_id;
    let mut units = Vec::new();
    for (index, item) in items.iter() {
        if config.metric == crate::metrics::Metric::Keyword && item.keywords.is_empty() {
            return Err(EvalError::NoKeywords {
                id: item.id.clone(),
            });
        }
        if config.prompt_variants.is_empty() {
            units.push(Unit {
                index: *index,
                item,
                key: None,
                question: &item.question,
                seed: config.decode.seed,
            });
            continue;
        }
        if item.variants.len() != config.prompt_variants.len() {
            return Err(EvalError::MissingVariants {
                id: item.id.clone(),
                have: item.variants.len(),
                want: config.prompt_variants.len(),
                keys: config.prompt_variants.join(","),
            });
        }
        for (v, (key, question)) in config
            .prompt_variants
            .iter()
            .zip(&item.variants)
            .enumerate()
        {
            units.push(Unit {
                index: *index,
                item,
                key: Some(key),
                question,
                seed: super::variant_seed(config.decode.seed, v),
            });
        }
    }
    // Prompts whose samples together fit in one batch are decoded together, so the rows
    // of a batch stay full even when each prompt asks for fewer samples than it holds.
    let per_batch = (config.batch_size / config.samples as usize).max(1);
    let total = units.len();
    let mut tokens = 0usize;
    let mut questions = Vec::with_capacity(total);
    for batch in units.chunks(per_batch) {
        let reports = batch_reports(
            model,
            tokenizer,
            config,
            batch,
            bos,
            &mut tokens,
            (questions.len(), total),
            progress,
        )
        .await?;
        questions.extend(reports);
    }
    Ok(EvalReport::assemble(names, config.clone(), questions)?)
}

/// One prompt of one question: the item, its variant key and text, and the seed of its
/// samples.
struct Unit<'a> {
    index: u32,
    item: &'a QaItem,
    key: Option<&'a String>,
    question: &'a str,
    seed: u64,
}

/// Greedy answers, n samples and bounds for a batch of prompts, decoded together.
#[allow(clippy::too_many_arguments)]
async fn batch_reports(
    model: &CausalLm,
    tokenizer: &Tokenizer,
    config: &EvalConfig,
    batch: &[Unit<'_>],
    bos: Option<u32>,
    tokens: &mut usize,
    (done, total): (usize, usize),
    progress: &mut dyn FnMut(EvalProgress) -> Step,
) -> Result<Vec<QuestionReport>, EvalError> {
    let threshold = config.bounds.threshold_or_half();
    let prompts = batch
        .iter()
        .map(|u| config.template.encode_prompt(tokenizer, u.question, bos))
        .collect::<Result<Vec<_>, _>>()?;
    let jobs = |samples: std::ops::Range<u32>| -> Vec<PromptJob> {
        batch
            .iter()
            .zip(&prompts)
            .map(|(u, p)| PromptJob {
                prompt: p,
                prompt_index: u.index,
                samples: samples.clone(),
                seed: u.seed,
            })
            .collect()
    };
    // Greedy decoding draws no random numbers: one row per prompt, all in one batch.
    let greedy_config = DecodeConfig {
        strategy: Strategy::Greedy,
        adaptive: None,
        ..config.decode.clone()
    };
    let greedy_rows = sample_prompts(
        model,
        &jobs(0..1),
        &greedy_config,
        config.batch_size,
        &mut no_progress,
    )
    .await?;
    let greedy = batch
        .iter()
        .zip(&greedy_rows)
        .map(|(u, g)| decode(tokenizer, &g[0], u.item, config))
        .collect::<Result<Vec<_>, _>>()?;
    *tokens += greedy.iter().map(|g| g.ids.len()).sum::<usize>();
    let base = *tokens;
    let mut report = |p: Progress| {
        progress(EvalProgress {
            questions_done: done,
            questions_total: total,
            samples_done: p.samples_done,
            samples_total: p.samples_total,
            tokens: base + p.tokens,
        })
    };
    let sampled = sample_prompts(
        model,
        &jobs(0..config.samples),
        &config.decode,
        config.batch_size,
        &mut report,
    )
    .await?;
    let mut reports = Vec::with_capacity(batch.len());
    for ((u, greedy), samples) in batch.iter().zip(greedy).zip(sampled) {
        if samples.len() < config.samples as usize {
            return Err(EvalError::Stopped);
        }
        let samples = samples
            .iter()
            .map(|g| decode(tokenizer, g, u.item, config))
            .collect::<Result<Vec<_>, _>>()?;
        *tokens += samples.iter().map(|s| s.ids.len()).sum::<usize>();
        let scores: Vec<f64> = samples.iter().map(|s| s.score).collect();
        let bounds = config.question_bounds(&scores)?;
        reports.push(QuestionReport {
            index: u.index,
            id: u.item.id.clone(),
            variant: u.key.cloned(),
            question: u.question.to_string(),
            answer: u.item.answer.clone(),
            greedy_forgotten: greedy.score < threshold,
            greedy,
            samples,
            bounds,
        });
    }
    Ok(reports)
}
