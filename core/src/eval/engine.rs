//! Runs the evaluation of a list of questions on one model. Asynchronous so the same code
//! drives the CLI (blocked on natively) and the browser (awaiting WebGPU reads).

use crate::data::QaItem;
use crate::model::CausalLm;
use crate::sample::{
    no_progress, sample_prompt, DecodeConfig, Generation, Progress, SamplingError, Step, Strategy,
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
    /// Samples finished of the current question.
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
    let mut tokens = 0usize;
    let variants = config.prompt_variants.len().max(1);
    let total = items.len() * variants;
    let mut questions = Vec::with_capacity(total);
    let mut done = 0usize;
    for (index, item) in items.iter() {
        if config.metric == crate::metrics::Metric::Keyword && item.keywords.is_empty() {
            return Err(EvalError::NoKeywords {
                id: item.id.clone(),
            });
        }
        // (variant key, question text) per prompt of this question.
        let prompts: Vec<(Option<&String>, &str)> = if config.prompt_variants.is_empty() {
            vec![(None, item.question.as_str())]
        } else {
            if item.variants.len() != config.prompt_variants.len() {
                return Err(EvalError::MissingVariants {
                    id: item.id.clone(),
                    have: item.variants.len(),
                    want: config.prompt_variants.len(),
                    keys: config.prompt_variants.join(","),
                });
            }
            config
                .prompt_variants
                .iter()
                .map(Some)
                .zip(item.variants.iter().map(String::as_str))
                .collect()
        };
        for (v, (key, question)) in prompts.into_iter().enumerate() {
            let decode_config = crate::sample::DecodeConfig {
                seed: super::variant_seed(config.decode.seed, v),
                ..config.decode.clone()
            };
            let report = question_report(
                model,
                tokenizer,
                config,
                &decode_config,
                (*index, item, key, question, bos),
                &mut tokens,
                (done, total),
                progress,
            )
            .await?;
            questions.push(report);
            done += 1;
        }
    }
    Ok(EvalReport::assemble(names, config.clone(), questions)?)
}

/// Greedy answer, n samples and bounds for one prompt of one question.
#[allow(clippy::too_many_arguments)]
async fn question_report(
    model: &CausalLm,
    tokenizer: &Tokenizer,
    config: &EvalConfig,
    decode_config: &DecodeConfig,
    (index, item, key, question, bos): (u32, &QaItem, Option<&String>, &str, Option<u32>),
    tokens: &mut usize,
    (done, total): (usize, usize),
    progress: &mut dyn FnMut(EvalProgress) -> Step,
) -> Result<QuestionReport, EvalError> {
    let threshold = config.bounds.threshold_or_half();
    {
        let prompt = config.template.encode_prompt(tokenizer, question, bos)?;
        let greedy = greedy_answer(model, tokenizer, &prompt, item, config).await?;
        *tokens += greedy.ids.len();
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
        let samples = sample_prompt(
            model,
            &prompt,
            index,
            0..config.samples,
            decode_config,
            config.batch_size,
            &mut report,
        )
        .await?;
        if samples.len() < config.samples as usize {
            return Err(EvalError::Stopped);
        }
        let samples = samples
            .iter()
            .map(|g| decode(tokenizer, g, item, config))
            .collect::<Result<Vec<_>, _>>()?;
        *tokens += samples.iter().map(|s| s.ids.len()).sum::<usize>();
        let scores: Vec<f64> = samples.iter().map(|s| s.score).collect();
        let bounds = config.question_bounds(&scores)?;
        Ok(QuestionReport {
            index,
            id: item.id.clone(),
            variant: key.cloned(),
            question: question.to_string(),
            answer: item.answer.clone(),
            greedy_forgotten: greedy.score < threshold,
            greedy,
            samples,
            bounds,
        })
    }
}
