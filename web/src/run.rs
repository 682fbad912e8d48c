//! One evaluation in the browser: the greedy answer first (it is what a benchmark would
//! report, shown as soon as the evaluation has drawn it), then n samples through
//! `probable-core`'s engine, yielding to the event loop between decode steps (every 10 ms
//! or so, `tick.rs`) so the Stop button works.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use probable_core::data::QaItem;
use probable_core::eval::{
    decode_sample, defaults, run_evaluation, Decoded, EvalConfig, EvalError, EvalProgress,
    EvalSetup, LocalSampler, Observer, QuestionReport,
};
use probable_core::prompt::{ChatOptions, TemplateSpec};
use probable_core::sample::{
    chunk_size_for_budget, AdaptiveTemperature, Confidence, DecodeConfig, Generation, Step,
    Strategy,
};

use crate::bundle::Loaded;
use crate::chunked::{chunk_for, Chunked};
use crate::pool::{Pool, PoolSampler};
use probable_core::share::Settings;

/// Memory for one chunk of rows (KV cache and per-step buffers); WebGPU adapters in
/// browsers commonly cap a single buffer at 256 MiB.
const CHUNK_BUDGET_BYTES: usize = 128 << 20;

/// Rows per chunk at most, so the page still sees a step finish every so often on a small
/// model whose rows would all fit the budget.
const MAX_ROWS: usize = 512;

/// The evaluation `settings` describe — the same `EvalConfig` that `probable eval` builds
/// from the equivalent flags, so both produce the same samples on the same backend.
/// `template=chat` uses the bundle's chat template (an error naming the bundle without one).
pub fn eval_config(settings: &Settings, loaded: &Loaded) -> Result<EvalConfig, String> {
    let config = loaded.model.config();
    let template = probable_core::prompt::resolve(
        &TemplateSpec::Preset(settings.template.clone()),
        &loaded.info.label,
        &loaded.chat,
        &ChatOptions::default(),
    )
    .map_err(|e| e.to_string())?;
    let mut eval = EvalConfig::new(
        settings.samples,
        DecodeConfig {
            strategy: Strategy::Sample {
                temperature: settings.temperature,
                top_p: settings.top_p,
                top_k: None,
            },
            adaptive: settings.adaptive.then_some(AdaptiveTemperature {
                criterion: Confidence::Entropy,
                threshold: settings.adaptive_threshold,
                low_temperature: 0.0,
            }),
            max_new_tokens: settings.max_new_tokens,
            eos_token_ids: loaded.eos.clone(),
            seed: settings.seed,
        },
        template,
    );
    eval.bounds.alpha = settings.alpha;
    eval.bounds.leak_threshold = Some(settings.tau);
    debug_assert_eq!(eval.bounds.lambda, defaults::LAMBDA);
    // "Stop when decided": rounds of 16 samples per undecided question, `samples` the budget.
    if settings.sequential {
        eval.sequential = Some(probable_core::eval::sequential::Rounds { round: 16 });
    }
    // Not capped at the sample count: the rows of several questions share a batch.
    eval.batch_size =
        chunk_size_for_budget(config, settings.max_new_tokens, CHUNK_BUDGET_BYTES).min(MAX_ROWS);
    Ok(eval)
}

/// What the runner needs besides the sampler: the settings, tokenizer, BOS and names.
fn setup<'a>(loaded: &'a Loaded, config: &'a EvalConfig) -> EvalSetup<'a> {
    EvalSetup {
        config,
        tokenizer: &loaded.tokenizer,
        bos: loaded.model.config().bos_token_id,
        names: (&loaded.info.label, "", ""),
        shard: None,
    }
}

/// The samples of a one-question run decoded and scored as they arrived (for the page's
/// live count), by sample index, until the runner takes them for the report: each is
/// decoded and scored once (it was twice, 36 ms of one core at the end of a 2048-sample run).
type Streamed = Rc<RefCell<HashMap<u32, Decoded>>>;

/// What the page hears of a run: every decode step, and the greedy answers first.
struct Watch<P, G> {
    step: P,
    on_greedy: G,
    /// The question's prompt index and its samples decoded so far.
    index: u32,
    streamed: Streamed,
}

impl<P: FnMut(EvalProgress) -> Step, G: FnMut(&[Decoded])> Observer for Watch<P, G> {
    fn progress(&mut self, progress: EvalProgress) -> Step {
        (self.step)(progress)
    }

    fn greedy(&mut self, answers: &[Decoded]) {
        (self.on_greedy)(answers)
    }

    fn decoded(&mut self, prompt_index: u32, sample: &Generation) -> Option<Decoded> {
        (prompt_index == self.index)
            .then(|| self.streamed.borrow_mut().remove(&sample.sample_index))
            .flatten()
    }
}

/// Runs the many-sample evaluation of one question; `on_greedy` gets its greedy answer
/// first, `progress` hears about every decode step, `on_samples` gets the samples a chunk
/// at a time as they finish (see `chunked.rs`), each with its sample index, decoded and
/// scored as the report will have them, `stop` ends the run at the next step (then
/// `Ok(None)`). With a `pool` (the CPU fallback's helper workers) the samples are drawn
/// there, on every core.
#[allow(clippy::too_many_arguments)]
pub async fn sample(
    loaded: &Loaded,
    config: &EvalConfig,
    index: u32,
    item: QaItem,
    stop: Rc<Cell<bool>>,
    progress: impl Fn(EvalProgress) + 'static,
    on_greedy: impl FnMut(&[Decoded]),
    mut on_samples: impl FnMut(&[(u32, Decoded)]),
    pool: Option<&Pool>,
) -> Result<Option<QuestionReport>, String> {
    let step = move |p: EvalProgress| -> Step {
        progress(p);
        // Every 10 ms or so a task of its own: the worker sees `Stop`.
        crate::tick::step(stop.clone())
    };
    let streamed = Streamed::default();
    let mut observer = Watch {
        step,
        on_greedy,
        index,
        streamed: streamed.clone(),
    };
    let setup = setup(loaded, config);
    let chunk = chunk_for(config.samples, pool.map_or(1, Pool::len));
    let on_chunk = |_: usize, generations: &[Generation]| {
        // A sample that does not decode is left to the runner, which reports the error.
        let decoded: Vec<(u32, Decoded)> = generations
            .iter()
            .filter_map(|g| Some((g.sample_index, decode_sample(&setup, g, &item).ok()?)))
            .collect();
        on_samples(&decoded);
        streamed.borrow_mut().extend(decoded);
    };
    let questions = [(index, item.clone())];
    let outcome = match pool {
        // The helpers stream their units back as they finish: no chunks around them.
        Some(pool) => {
            // Outside a sequential run the samples asked for are known: 0..n of the greedy
            // job, with the evaluation's decoding.
            let ahead = config
                .sequential
                .is_none()
                .then(|| (config.samples, config.decode.clone()));
            // A unit as large as the single worker's chunk: each helper then decodes as
            // many rows a step as one worker would (a unit of half a chunk cost the helpers
            // 5 % of their speed, measured with tests/browser/measure.mjs at 2048 samples).
            let most = chunk;
            let local = LocalSampler::new(&loaded.model);
            let mut sampler = PoolSampler::new(pool, local, most, ahead, on_chunk);
            run_evaluation(&mut sampler, &setup, &questions, Vec::new(), &mut observer).await
        }
        None => {
            let mut sampler = Chunked {
                inner: LocalSampler::new(&loaded.model),
                chunk,
                on_chunk,
            };
            run_evaluation(&mut sampler, &setup, &questions, Vec::new(), &mut observer).await
        }
    };
    let report = match outcome {
        Ok(r) => r,
        Err(e) if matches!(e.root(), EvalError::Stopped) => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    report
        .questions
        .into_iter()
        .next()
        .map(Some)
        .ok_or_else(|| "the evaluation returned no question".into())
}
