//! The evaluation, orchestrated once: prompts rendered, questions grouped so batches stay
//! full, greedy answers and n samples drawn through a [`Sampler`], each sample decoded and
//! scored, each prompt bounded, every finished question handed to the caller's hooks
//! (journal, progress), and the report assembled. `probable eval`, `demo`, `sweep`, the web
//! app and the Python package all come through here; only I/O stays with them.

use std::collections::HashMap;
use std::ops::ControlFlow;

use crate::data::QaItem;
use crate::sample::{step_now, DecodeConfig, Generation, Progress, PromptJob, Step, Strategy};
use crate::stats::{SequentialOutcome, SequentialTest, Verdict};
use crate::tokenizer::Tokenizer;

use super::report::{Decoded, EvalReport, QuestionReport};
use super::sampler::Sampler;
use super::sequential::Rounds;
use super::{EvalConfig, EvalError};

/// Progress over a whole evaluation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EvalProgress {
    /// Prompts (questions × variants) finished, over the whole evaluation.
    pub questions_done: usize,
    pub questions_total: usize,
    /// Samples finished of the prompts being decoded: one question, or several whose
    /// samples together fit in one batch (`batch_size`).
    pub samples_done: usize,
    pub samples_total: usize,
    /// Tokens generated so far by this run (resumed questions not counted).
    pub tokens: usize,
}

/// What the caller hears during a run. Both hooks have defaults that do nothing.
pub trait Observer {
    /// After every decode step (or engine response); awaited, so a browser can repaint and
    /// take a Stop click. `ControlFlow::Break` stops the run ([`EvalError::Stopped`]).
    fn progress(&mut self, _progress: EvalProgress) -> Step {
        step_now(ControlFlow::Continue(()))
    }

    /// The greedy answers of the prompts about to be sampled, decoded and scored, before
    /// any of their samples is drawn: where a browser shows what a benchmark would report
    /// while the samples are still coming.
    fn greedy(&mut self, _answers: &[Decoded]) {}

    /// Sample `sample` of prompt `prompt_index` as the caller already decoded and scored it
    /// ([`decode_sample`], while the samples streamed in), for the runner to take instead of
    /// decoding it a second time; `None` (the default) lets the runner decode it. Used only
    /// if its ids, EOS flag and seed are the sample's own.
    fn decoded(&mut self, _prompt_index: u32, _sample: &Generation) -> Option<Decoded> {
        None
    }

    /// Every finished question, its rows (one per prompt variant) in order, before the next
    /// group starts: where a journal appends them. An error ends the run.
    fn finished(&mut self, _rows: &[QuestionReport]) -> Result<(), EvalError> {
        Ok(())
    }
}

/// An observer that ignores everything.
pub struct Quiet;

impl Observer for Quiet {}

/// An observer that only follows progress.
pub struct OnProgress<F>(pub F);

impl<F: FnMut(EvalProgress) -> Step> Observer for OnProgress<F> {
    fn progress(&mut self, progress: EvalProgress) -> Step {
        (self.0)(progress)
    }
}

/// What a run evaluates with, besides the sampler and the questions.
pub struct EvalSetup<'a> {
    pub config: &'a EvalConfig,
    /// Renders prompts and decodes answers.
    pub tokenizer: &'a Tokenizer,
    /// The model's BOS id, prepended where the prompt format asks for it.
    pub bos: Option<u32>,
    /// The report's (model, data, split) names.
    pub names: (&'a str, &'a str, &'a str),
    /// `i/N` when the questions are one shard of a split.
    pub shard: Option<String>,
}

/// Evaluates `questions` (each with its index in the split, which keys its random
/// streams) and returns the report. `done` holds the rows of questions already evaluated
/// by an earlier run of the same evaluation (a journal), in order: they are kept and the
/// run continues after them (a question with only some of its variants is evaluated again).
pub async fn run_evaluation<S: Sampler>(
    sampler: &mut S,
    setup: &EvalSetup<'_>,
    questions: &[(u32, QaItem)],
    mut done: Vec<QuestionReport>,
    observer: &mut dyn Observer,
) -> Result<EvalReport, EvalError> {
    let config = setup.config;
    config.validate()?;
    let variants = config.prompt_variants.len().max(1);
    let units = units(questions, config)?;
    // A question is done when every one of its prompts is; a kill between the journal lines
    // of one question's variants leaves it partial, and it is evaluated again.
    let mut rows_of: HashMap<u32, usize> = HashMap::new();
    for row in &done {
        *rows_of.entry(row.index).or_default() += 1;
    }
    done.retain(|r| rows_of[&r.index] == variants);
    let todo: Vec<usize> = (0..questions.len())
        .filter(|&i| rows_of.get(&questions[i].0) != Some(&variants))
        .collect();
    match config.sequential {
        None => {
            let progress = Counter {
                done: done.len(),
                total: units.len(),
            };
            fixed_n(sampler, setup, &units, &todo, progress, &mut done, observer).await?
        }
        Some(rounds) => {
            let progress = Counter {
                done: done.len(),
                total: units.len(),
            };
            sequential(
                sampler, setup, &units, &todo, rounds, progress, &mut done, observer,
            )
            .await?
        }
    }
    // Rows in the order of the questions, variants in the config's order, however they
    // finished.
    let position: HashMap<u32, usize> = questions
        .iter()
        .enumerate()
        .map(|(i, (index, _))| (*index, i))
        .collect();
    let variant = |q: &QuestionReport| {
        q.variant
            .as_ref()
            .and_then(|v| config.prompt_variants.iter().position(|k| k == v))
            .unwrap_or(0)
    };
    done.sort_by_key(|q| (position.get(&q.index).copied(), variant(q)));
    let mut report = EvalReport::assemble(setup.names, config.clone(), done)?;
    report.shard = setup.shard.clone();
    Ok(report)
}

/// Prompts finished so far and in all, for [`EvalProgress`].
#[derive(Clone, Copy)]
struct Counter {
    done: usize,
    total: usize,
}

/// Every remaining question with n samples per prompt: questions whose samples together fit
/// in one batch are decoded together, and each is handed to the observer as soon as its
/// group is done.
async fn fixed_n<S: Sampler>(
    sampler: &mut S,
    setup: &EvalSetup<'_>,
    units: &[Unit<'_>],
    todo: &[usize],
    mut counter: Counter,
    done: &mut Vec<QuestionReport>,
    observer: &mut dyn Observer,
) -> Result<(), EvalError> {
    let config = setup.config;
    let variants = config.prompt_variants.len().max(1);
    let per_group = (config.batch_size / (config.samples as usize * variants)).max(1);
    let mut tokens = 0usize;
    for positions in todo.chunks(per_group) {
        let group: Vec<&Unit> = positions
            .iter()
            .flat_map(|&p| &units[p * variants..(p + 1) * variants])
            .collect();
        let rows = group_reports(sampler, setup, &group, &mut tokens, counter, observer)
            .await
            .map_err(|e| in_group(e, setup, &group))?;
        for question in rows.chunks(variants) {
            observer.finished(question)?;
        }
        counter.done += rows.len();
        done.extend(rows);
    }
    Ok(())
}

/// A prompt being sampled round by round.
struct Live<'u, 'a> {
    unit: &'u Unit<'a>,
    prompt: Vec<u32>,
    greedy: Decoded,
    /// The samples up to the verdict (those drawn after it in the same round are dropped).
    samples: Vec<Decoded>,
    test: SequentialTest,
    drawn: u32,
    outcome: Option<SequentialOutcome>,
}

/// Every remaining question sampled in rounds until its confidence sequence decides or the
/// budget (`config.samples`) is spent. Prompts still undecided share each round's batch,
/// and a decided prompt's place is taken by the next question, so batches stay full.
#[allow(clippy::too_many_arguments)]
async fn sequential<S: Sampler>(
    sampler: &mut S,
    setup: &EvalSetup<'_>,
    units: &[Unit<'_>],
    todo: &[usize],
    rounds: Rounds,
    mut counter: Counter,
    done: &mut Vec<QuestionReport>,
    observer: &mut dyn Observer,
) -> Result<(), EvalError> {
    let config = setup.config;
    let budget = config.samples;
    let round = rounds.round.min(budget);
    let capacity = (config.batch_size / round as usize).max(1);
    let test = config.sequential_test();
    let mut queue = todo.iter().map(|&p| &units[p]);
    let mut live: Vec<Live> = Vec::new();
    let mut tokens = 0usize;
    loop {
        let entering: Vec<&Unit> = queue.by_ref().take(capacity - live.len()).collect();
        if !entering.is_empty() {
            let prompts = entering
                .iter()
                .map(|u| encode(setup, u))
                .collect::<Result<Vec<_>, _>>()?;
            let greedy = greedy_rows(sampler, setup, &entering, &prompts, &mut tokens)
                .await
                .map_err(|e| in_group(e, setup, &entering))?;
            observer.greedy(&greedy);
            for ((unit, prompt), greedy) in entering.into_iter().zip(prompts).zip(greedy) {
                live.push(Live {
                    unit,
                    prompt,
                    greedy,
                    samples: Vec::new(),
                    test: SequentialTest::new(test)?,
                    drawn: 0,
                    outcome: None,
                });
            }
        }
        if live.is_empty() {
            return Ok(());
        }
        let ranges: Vec<std::ops::Range<u32>> = live
            .iter()
            .map(|l| l.drawn..(l.drawn + round).min(budget))
            .collect();
        let jobs: Vec<PromptJob> = live
            .iter()
            .zip(&ranges)
            .map(|(l, samples)| PromptJob {
                prompt: &l.prompt,
                prompt_index: l.unit.index,
                samples: samples.clone(),
                seed: l.unit.seed,
            })
            .collect();
        let units_now: Vec<&Unit> = live.iter().map(|l| l.unit).collect();
        let sampled = draw(sampler, setup, &jobs, &mut tokens, counter, observer)
            .await
            .map_err(|e| in_group(e, setup, &units_now))?;
        drop(jobs);
        for (l, (range, generations)) in live.iter_mut().zip(ranges.iter().zip(sampled)) {
            if generations.len() < range.len() {
                return Err(EvalError::Stopped);
            }
            for g in &generations {
                if l.outcome.is_some() {
                    break;
                }
                let d = sample_decoded(setup, observer, l.unit.index, g, l.unit.item)?;
                let verdict = l.test.push(d.score, l.samples.len())?;
                l.samples.push(d);
                if verdict != Verdict::Undecided {
                    l.outcome = Some(l.test.outcome());
                }
            }
            l.drawn = range.end;
            if l.outcome.is_none() && l.drawn >= budget {
                l.outcome = Some(l.test.outcome());
            }
        }
        let (finished, still): (Vec<Live>, Vec<Live>) =
            live.into_iter().partition(|l| l.outcome.is_some());
        live = still;
        for l in finished {
            let outcome = l.outcome.expect("finished prompts have an outcome");
            let scores: Vec<f64> = l.samples.iter().map(|s| s.score).collect();
            let row = QuestionReport {
                index: l.unit.index,
                id: l.unit.item.id.clone(),
                variant: l.unit.key.cloned(),
                question: l.unit.question.to_string(),
                answer: l.unit.item.answer.clone(),
                greedy_forgotten: l.greedy.score < config.bounds.threshold_or_half(),
                greedy: l.greedy,
                bounds: super::sequential::stopped_bounds(&scores, &outcome, config)?,
                samples: l.samples,
                sequential: Some(outcome),
            };
            observer.finished(std::slice::from_ref(&row))?;
            counter.done += 1;
            done.push(row);
        }
    }
}

/// The error of a group, naming its questions (a stop stays a stop).
fn in_group(e: EvalError, setup: &EvalSetup<'_>, group: &[&Unit<'_>]) -> EvalError {
    match e {
        EvalError::Stopped => e,
        e => EvalError::At {
            at: group_label(setup.names.1, group),
            error: Box::new(e),
        },
    }
}

/// Greedy answers to `items`, scored against their references, one at a time: what a
/// single-answer benchmark reports (the demo's and the sweep's retain-set quality).
pub async fn greedy_scores<S: Sampler>(
    sampler: &mut S,
    setup: &EvalSetup<'_>,
    items: &[QaItem],
) -> Result<Vec<f64>, EvalError> {
    let mut scores = Vec::with_capacity(items.len());
    for item in items {
        let prompt =
            setup
                .config
                .template
                .encode_prompt(setup.tokenizer, &item.question, setup.bos)?;
        scores.push(greedy_answer(sampler, setup, &prompt, item).await?.score);
    }
    Ok(scores)
}

/// The mean greedy score over `items` (0 for none).
pub async fn mean_greedy_score<S: Sampler>(
    sampler: &mut S,
    setup: &EvalSetup<'_>,
    items: &[QaItem],
) -> Result<f64, EvalError> {
    let scores = greedy_scores(sampler, setup, items).await?;
    Ok(scores.iter().sum::<f64>() / scores.len().max(1) as f64)
}

/// The greedy answer to `prompt` (argmax at every step, with the sampling settings'
/// length limit and EOS ids), decoded and scored against `item`'s reference.
pub async fn greedy_answer<S: Sampler>(
    sampler: &mut S,
    setup: &EvalSetup<'_>,
    prompt: &[u32],
    item: &QaItem,
) -> Result<Decoded, EvalError> {
    // Greedy decoding draws no random numbers, so the stream index does not matter.
    let job = PromptJob {
        prompt,
        prompt_index: 0,
        samples: 0..1,
        seed: 0,
    };
    let g = sampler
        .greedy(&[job], &greedy_config(&setup.config.decode), 1)
        .await?;
    decode_sample(setup, &g[0], item)
}

/// The sampling settings with argmax selection.
fn greedy_config(decode: &DecodeConfig) -> DecodeConfig {
    DecodeConfig {
        strategy: Strategy::Greedy,
        adaptive: None,
        ..decode.clone()
    }
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

/// Every prompt of every question, question by question, variants in the config's order.
fn units<'a>(
    questions: &'a [(u32, QaItem)],
    config: &'a EvalConfig,
) -> Result<Vec<Unit<'a>>, EvalError> {
    let mut units = Vec::new();
    for (index, item) in questions {
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
    Ok(units)
}

/// `DATA: question 3 (id q3)` or `DATA: question 3, 4 (id q3, q4)`.
fn group_label(data: &str, group: &[&Unit<'_>]) -> String {
    let mut indices: Vec<String> = Vec::new();
    let mut ids: Vec<&str> = Vec::new();
    for u in group {
        if !ids.contains(&u.item.id.as_str()) {
            indices.push(u.index.to_string());
            ids.push(&u.item.id);
        }
    }
    format!(
        "{data}: question {} (id {})",
        indices.join(", "),
        ids.join(", ")
    )
}

/// A sample as the report holds it: `g`'s ids decoded to text and scored against `item`
/// with the run's metric. The runner calls it for every answer; a caller that shows
/// samples as they stream in calls it too, and hands the result back through
/// [`Observer::decoded`] so that each sample is decoded and scored once.
pub fn decode_sample(
    setup: &EvalSetup<'_>,
    g: &Generation,
    item: &QaItem,
) -> Result<Decoded, EvalError> {
    let text = setup.tokenizer.decode(&g.tokens)?;
    Ok(Decoded {
        score: setup
            .config
            .metric
            .score(&item.answer, &item.keywords, &text),
        text,
        ids: g.tokens.clone(),
        stopped_on_eos: g.stopped_on_eos,
        seed: g.seed,
    })
}

fn encode(setup: &EvalSetup<'_>, u: &Unit<'_>) -> Result<Vec<u32>, EvalError> {
    Ok(setup
        .config
        .template
        .encode_prompt(setup.tokenizer, u.question, setup.bos)?)
}

/// Sample `g` of prompt `prompt_index`, decoded and scored: the observer's copy when it has
/// one of this very sample, else [`decode_sample`].
fn sample_decoded(
    setup: &EvalSetup<'_>,
    observer: &mut dyn Observer,
    prompt_index: u32,
    g: &Generation,
    item: &QaItem,
) -> Result<Decoded, EvalError> {
    match observer.decoded(prompt_index, g) {
        Some(d)
            if d.ids == g.tokens && d.stopped_on_eos == g.stopped_on_eos && d.seed == g.seed =>
        {
            Ok(d)
        }
        _ => decode_sample(setup, g, item),
    }
}

/// The greedy answers of `group`, decoded and scored. Greedy decoding draws no random
/// numbers: one row per prompt, all in one batch.
async fn greedy_rows<S: Sampler>(
    sampler: &mut S,
    setup: &EvalSetup<'_>,
    group: &[&Unit<'_>],
    prompts: &[Vec<u32>],
    tokens: &mut usize,
) -> Result<Vec<Decoded>, EvalError> {
    let jobs: Vec<PromptJob> = group
        .iter()
        .zip(prompts)
        .map(|(u, p)| PromptJob {
            prompt: p,
            prompt_index: u.index,
            samples: 0..1,
            seed: u.seed,
        })
        .collect();
    let config = setup.config;
    let rows = sampler
        .greedy(&jobs, &greedy_config(&config.decode), config.batch_size)
        .await?;
    let greedy = group
        .iter()
        .zip(&rows)
        .map(|(u, g)| decode_sample(setup, g, u.item))
        .collect::<Result<Vec<_>, _>>()?;
    *tokens += greedy.iter().map(|g| g.ids.len()).sum::<usize>();
    Ok(greedy)
}

/// Samples of `jobs`, with progress over the whole evaluation.
async fn draw<S: Sampler>(
    sampler: &mut S,
    setup: &EvalSetup<'_>,
    jobs: &[PromptJob<'_>],
    tokens: &mut usize,
    counter: Counter,
    observer: &mut dyn Observer,
) -> Result<Vec<Vec<Generation>>, EvalError> {
    let base = *tokens;
    let mut report = |p: Progress| {
        observer.progress(EvalProgress {
            questions_done: counter.done,
            questions_total: counter.total,
            samples_done: p.samples_done,
            samples_total: p.samples_total,
            tokens: base + p.tokens,
        })
    };
    let config = setup.config;
    let sampled = sampler
        .sample(jobs, &config.decode, config.batch_size, &mut report)
        .await?;
    *tokens += sampled
        .iter()
        .flatten()
        .map(|g| g.tokens.len())
        .sum::<usize>();
    Ok(sampled)
}

/// Greedy answers, n samples and bounds for a group of prompts, decoded together.
async fn group_reports<S: Sampler>(
    sampler: &mut S,
    setup: &EvalSetup<'_>,
    group: &[&Unit<'_>],
    tokens: &mut usize,
    counter: Counter,
    observer: &mut dyn Observer,
) -> Result<Vec<QuestionReport>, EvalError> {
    let config = setup.config;
    let threshold = config.bounds.threshold_or_half();
    let prompts = group
        .iter()
        .map(|u| encode(setup, u))
        .collect::<Result<Vec<_>, _>>()?;
    let greedy = greedy_rows(sampler, setup, group, &prompts, tokens).await?;
    observer.greedy(&greedy);
    let jobs: Vec<PromptJob> = group
        .iter()
        .zip(&prompts)
        .map(|(u, p)| PromptJob {
            prompt: p,
            prompt_index: u.index,
            samples: 0..config.samples,
            seed: u.seed,
        })
        .collect();
    let sampled = draw(sampler, setup, &jobs, tokens, counter, observer).await?;
    let mut reports = Vec::with_capacity(group.len());
    for ((u, greedy), samples) in group.iter().zip(greedy).zip(sampled) {
        if samples.len() < config.samples as usize {
            return Err(EvalError::Stopped);
        }
        let samples = samples
            .iter()
            .map(|g| sample_decoded(setup, observer, u.index, g, u.item))
            .collect::<Result<Vec<_>, _>>()?;
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
            sequential: None,
        });
    }
    Ok(reports)
}
