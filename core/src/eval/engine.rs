//! Runs the evaluation of a list of questions on one model. Asynchronous so the same code
//! drives the CLI (blocked on natively) and the browser (awaiting WebGPU reads).

use crate::data::QaItem;
use crate::model::CausalLm;
use crate::sample::{
    no_progress, sample_prompt, DecodeConfig, Generation, Progress, SamplingError, Step, Strategy,
};
use crate::stats::BoundsSummary;
use crate::tokenizer::Tokenizer;

use super::report::{Decoded, EvalReport, EvalSummary, QuestionReport};
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
    let threshold = config.bounds.leak_threshold.unwrap_or(0.5);
    let bounds_config = crate::stats::BoundsConfig {
        leak_threshold: Some(threshold),
        ..config.bounds
    };
    let bos = model.config().bos_token_id;
    let mut tokens = 0usize;
    let mut questions = Vec::with_capacity(items.len());
    for (done, (index, item)) in items.iter().enumerate() {
        if config.metric == crate::metrics::Metric::Keyword && item.keywords.is_empty() {
            return Err(EvalError::NoKeywords {
                id: item.id.clone(),
            });
        }
        let prompt = config
            .template
            .encode_prompt(tokenizer, &item.question, bos)?;
        let greedy = greedy_answer(model, tokenizer, &prompt, item, config).await?;
        tokens += greedy.ids.len();
        let base = tokens;
        let mut report = |p: Progress| {
            progress(EvalProgress {
                questions_done: done,
                questions_total: items.len(),
                samples_done: p.samples_done,
                samples_total: p.samples_total,
                tokens: base + p.tokens,
            })
        };
        let samples = sample_prompt(
            model,
            &prompt,
            *index,
            0..config.samples,
            &config.decode,
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
        tokens += samples.iter().map(|s| s.ids.len()).sum::<usize>();
        let scores: Vec<f64> = samples.iter().map(|s| s.score).collect();
        let bounds = BoundsSummary::compute(&scores, &bounds_config)?;
        questions.push(QuestionReport {
            index: *index,
            id: item.id.clone(),
            question: item.question.clone(),
            answer: item.answer.clone(),
            greedy_forgotten: greedy.score < threshold,
            greedy,
            samples,
            bounds,
        });
    }
    let summary = EvalSummary::over(&questions, &config.bounds, config.leak_level);
    Ok(EvalReport {
        model: names.0.to_string(),
        data: names.1.to_string(),
        split: names.2.to_string(),
        config: config.clone(),
        shard: None,
        questions,
        summary,
    })
}
