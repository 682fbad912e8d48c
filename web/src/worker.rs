//! The Web Worker that holds the model: it picks the device, loads bundles and runs
//! evaluations, posting progress and results to the page (see `protocol.rs`). Messages are
//! handled one after another in arrival order, except `Stop`, which takes effect within a
//! decode step or two (the sampler yields to the worker's event loop every 10 ms or so,
//! `tick.rs`, so the message is seen).
//!
//! A failure drops the messages queued behind it (the page, on `Failed`, forgets them too).
//!
//! `web/worker.js` starts it: it loads the same wasm as the page and calls [`worker_start`].

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use burn::tensor::Device;
use js_sys::Array;
use probable_core::data::QaItem;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, File, MessageEvent};

use crate::bundle::{self, Loaded, Reader};
use crate::fetch::MODELS;
use crate::limits::AdapterLimits;
use crate::pool::{self, Pool};
use crate::protocol::{BundleSource, Drawn, FromWorker, Job, ToWorker, LATEST_LEAKS};
use crate::run;
use probable_core::eval::EvalProgress;
use probable_core::model::CausalLm;
use probable_core::share::{query_lookup, Settings};

/// The least time between two `Progress` messages of one question: a few updates a second
/// are all a progress line needs. One per decode step of every helper worker kept the
/// page's thread re-rendering on the cores the sampling runs on.
const PROGRESS_EVERY_MS: f64 = 100.0;

/// When a `Progress` message is due: the first, then one every [`PROGRESS_EVERY_MS`].
struct Throttle(Cell<f64>);

impl Throttle {
    fn new() -> Self {
        Self(Cell::new(f64::NEG_INFINITY))
    }

    /// Whether one is due now (`always` makes it so), counting from it if so.
    fn due(&self, always: bool) -> bool {
        let now = js_sys::Date::now();
        let due = always || now - self.0.get() >= PROGRESS_EVERY_MS;
        if due {
            self.0.set(now);
        }
        due
    }
}

#[derive(Default)]
struct State {
    device: Option<Device>,
    limits: Option<AdapterLimits>,
    /// How the backend was announced (the pool adds its worker count).
    backend: String,
    loaded: Option<Rc<Loaded>>,
    /// On a helper: the model alone (`Load` with `model_only`).
    model_alone: Option<Rc<CausalLm>>,
    /// Where the loaded bundle came from, for the CPU pool's helpers to load it too, and
    /// a count of loads (a pool belongs to one).
    source: Option<(BundleSource, Vec<File>)>,
    loads: usize,
    /// The CPU fallback's helper workers (`pool.rs`), started at the first evaluation.
    pool: Option<Rc<Pool>>,
    /// On a helper: the prompts of its previous unit, prefilled (of the loaded model).
    prefills: probable_core::sample::Prefills,
    queue: VecDeque<(ToWorker, Vec<File>)>,
    pumping: bool,
    stop: Rc<Cell<bool>>,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

fn post(m: &FromWorker) {
    let _ = scope().post_message(&JsValue::from_str(&m.to_json()));
}

/// Installs the message handler and tells the page it may send.
#[wasm_bindgen]
pub fn worker_start() {
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(|ev: MessageEvent| {
        let data = ev.data();
        // A message is its JSON text, or [JSON, File, File, …] when files travel with it.
        let (json, files) = if Array::is_array(&data) {
            let parts = Array::from(&data);
            let files = parts
                .iter()
                .skip(1)
                .filter_map(|f| f.dyn_into::<File>().ok())
                .collect();
            (parts.get(0).as_string(), files)
        } else {
            (data.as_string(), Vec::new())
        };
        let message = json
            .ok_or_else(|| "a message to the worker that is not text".to_string())
            .and_then(|j| ToWorker::from_json(&j));
        match message {
            Ok(ToWorker::Stop) => STATE.with(|s| s.borrow().stop.set(true)),
            Ok(m) => {
                // A helper holds a unit in its queue behind the one it draws (`units.rs`):
                // a `Stop` must end that one too, so the flag is cleared when a `Sample`
                // arrives, not when it starts (the pool sends none after a stop until every
                // unit sent is answered).
                if matches!(m, ToWorker::Sample { .. }) {
                    STATE.with(|s| s.borrow().stop.set(false));
                }
                let start = STATE.with(|s| {
                    let mut s = s.borrow_mut();
                    s.queue.push_back((m, files));
                    !std::mem::replace(&mut s.pumping, true)
                });
                if start {
                    wasm_bindgen_futures::spawn_local(pump());
                }
            }
            Err(message) => post(&FromWorker::Failed { message }),
        }
    });
    scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    post(&FromWorker::Ready);
}

async fn pump() {
    loop {
        let next = STATE.with(|s| {
            let mut s = s.borrow_mut();
            let next = s.queue.pop_front();
            if next.is_none() {
                s.pumping = false;
            }
            next
        });
        let Some((message, files)) = next else { break };
        if let Err(message) = handle(message, files).await {
            // What was queued behind a failure depended on it (an evaluation on the bundle
            // that did not load): drop it; the page resets its bookkeeping on `Failed`. The
            // helpers may be mid-answer: the next evaluation starts fresh ones.
            STATE.with(|s| {
                let mut s = s.borrow_mut();
                s.queue.clear();
                s.pool = None;
            });
            post(&FromWorker::Failed { message });
        }
    }
}

async fn handle(message: ToWorker, files: Vec<File>) -> Result<(), String> {
    match message {
        ToWorker::Init { cpu_only } => {
            let b = crate::backend::pick(cpu_only).await;
            STATE.with(|s| {
                let mut s = s.borrow_mut();
                s.device = Some(b.device);
                s.limits = b.limits;
                s.backend = b.label.clone();
            });
            post(&FromWorker::Backend { label: b.label });
            Ok(())
        }
        // Each boxed: one state machine per kind of work instead of all three inlined into
        // this one, which is polled after every decode step and so compiled by the
        // browser's optimising compiler whole (35 KB of wasm, measured).
        ToWorker::Load { source, model_only } => Box::pin(load(source, model_only, files)).await,
        ToWorker::Evaluate { query, items } => Box::pin(evaluate(&query, items)).await,
        ToWorker::Sample { jobs, decode, rows } => Box::pin(sample_part(jobs, decode, rows)).await,
        ToWorker::Stop => Ok(()),
    }
}

async fn load(source: BundleSource, model_only: bool, files: Vec<File>) -> Result<(), String> {
    let (device, limits) = STATE.with(|s| {
        let s = s.borrow();
        (s.device.clone(), s.limits)
    });
    let device = device.ok_or("the backend is not ready")?;
    let saved = (source.clone(), files.clone());
    let (label, reader) = match source {
        BundleSource::Demo { name, dir } => (
            name,
            Reader::Http {
                base: format!("{MODELS}/{dir}/"),
            },
        ),
        BundleSource::Url { base } => (base.clone(), Reader::Http { base }),
        BundleSource::Files { label } => (label.clone(), Reader::files(label, files)),
    };
    // A failed load leaves no model: an evaluation must not run on the previous one.
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.loaded = None;
        s.model_alone = None;
        s.pool = None;
        s.prefills = Default::default();
        s.source = Some(saved);
        s.loads += 1;
    });
    let status = |text| post(&FromWorker::Status { text });
    let progress = |file: &str, done, total| {
        post(&FromWorker::Download {
            file: file.to_string(),
            done,
            total,
        })
    };
    if model_only {
        let (model, info) =
            bundle::load_model_alone(&label, &reader, &device, &status, &progress).await?;
        post(&FromWorker::Loaded { info });
        STATE.with(|s| s.borrow_mut().model_alone = Some(Rc::new(model)));
        return Ok(());
    }
    let loaded = bundle::load(
        &label,
        &reader,
        &device,
        limits.as_ref(),
        &status,
        &progress,
    )
    .await?;
    post(&FromWorker::Loaded {
        info: loaded.info.clone(),
    });
    STATE.with(|s| s.borrow_mut().loaded = Some(Rc::new(loaded)));
    Ok(())
}

async fn evaluate(query: &str, items: Vec<(u32, QaItem)>) -> Result<(), String> {
    let loaded = STATE
        .with(|s| s.borrow().loaded.clone())
        .ok_or("no model is loaded")?;
    let (settings, errors) = Settings::from_query(query_lookup(query));
    if !errors.is_empty() {
        return Err(errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n"));
    }
    let config = run::eval_config(&settings, &loaded)?;
    let pool = cpu_pool(&settings, &loaded).await?;
    post(&FromWorker::Started {
        config: Box::new(config.clone()),
    });
    let stop = Rc::new(Cell::new(false));
    STATE.with(|s| s.borrow_mut().stop = stop.clone());
    let started = js_sys::Date::now();
    let questions = items.len();
    let tokens = Rc::new(Cell::new(0usize));
    for (position, (index, item)) in items.into_iter().enumerate() {
        let base = tokens.get();
        let counter = tokens.clone();
        let throttle = Throttle::new();
        // The sampler's latest progress, posted or not: the live samples below bring it up
        // to date, so the progress line never counts fewer samples than they show.
        let latest: Rc<Cell<Option<EvalProgress>>> = Rc::new(Cell::new(None));
        let progress = move |p: EvalProgress| {
            post(&FromWorker::Progress {
                question: position,
                questions,
                samples_done: p.samples_done,
                samples_total: p.samples_total,
                tokens: base + p.tokens,
                ms: js_sys::Date::now() - started,
            });
        };
        // A one-question run streams its samples: scored here as each chunk finishes, with
        // the leak count and the Clopper–Pearson bounds so far (the report, at the end,
        // recomputes all of it from the same samples).
        let mut live = (0u64, 0u64);
        let threshold = config.bounds.threshold_or_half();
        let alpha = config.bounds.alpha;
        // One question: show its greedy answer first (what a benchmark would report).
        let on_greedy = |answers: &[probable_core::eval::Decoded]| {
            let Some(g) = answers.first().filter(|_| questions == 1) else {
                return;
            };
            post(&FromWorker::Greedy {
                question: position,
                text: g.text.clone(),
                score: g.score,
            });
        };
        let on_samples = |decoded: &[(u32, probable_core::eval::Decoded)]| {
            if questions != 1 {
                return;
            }
            let mut leaking: Vec<(u32, f64, String)> = decoded
                .iter()
                .filter(|(_, d)| d.score >= threshold)
                .map(|(i, d)| (*i, d.score, d.text.clone()))
                .collect();
            live.0 += leaking.len() as u64;
            live.1 += decoded.len() as u64;
            leaking.drain(..leaking.len().saturating_sub(LATEST_LEAKS));
            let Ok(b) = probable_core::stats::clopper_pearson(live.0, live.1, alpha) else {
                return;
            };
            if let Some(p) = latest.get() {
                progress(p);
            }
            post(&FromWorker::Samples {
                leaking,
                leaks: b.leaks,
                n: b.n,
                lower: b.lower,
                upper: b.upper,
            });
        };
        let report = run::sample(
            &loaded,
            &config,
            index,
            item,
            stop.clone(),
            {
                let latest = latest.clone();
                move |p| {
                    counter.set(base + p.tokens);
                    latest.set(Some(p));
                    // The last one always goes: the progress line must end on every sample.
                    if throttle.due(p.samples_done == p.samples_total) {
                        progress(p);
                    }
                }
            },
            on_greedy,
            on_samples,
            pool.as_deref(),
        )
        .await?;
        match report {
            Some(report) => post(&FromWorker::Question {
                report: Box::new(report),
            }),
            None => {
                post(&FromWorker::Finished {
                    stopped: true,
                    tokens: tokens.get(),
                    ms: js_sys::Date::now() - started,
                });
                return Ok(());
            }
        }
    }
    post(&FromWorker::Finished {
        stopped: false,
        tokens: tokens.get(),
        ms: js_sys::Date::now() - started,
    });
    Ok(())
}

/// The helper workers for this evaluation: on the CPU fallback, one per core (or the
/// link's `workers=`) as memory allows; none on WebGPU or for a single worker. Started once
/// per loaded bundle and worker count.
async fn cpu_pool(settings: &Settings, loaded: &Loaded) -> Result<Option<Rc<Pool>>, String> {
    let (cpu, loads, source, existing, backend) = STATE.with(|s| {
        let s = s.borrow();
        (
            s.device.is_some() && s.limits.is_none(),
            s.loads,
            s.source.clone(),
            s.pool.clone(),
            s.backend.clone(),
        )
    });
    if !cpu {
        return Ok(None);
    }
    let count = pool::size(settings.workers, loaded.info.bytes);
    let key = format!("{loads}/{count}");
    if let Some(p) = existing.filter(|p| p.key == key) {
        return Ok(Some(p));
    }
    STATE.with(|s| s.borrow_mut().pool = None);
    if count <= 1 {
        post(&FromWorker::Backend {
            label: format!("{backend} · 1 CPU worker"),
        });
        return Ok(None);
    }
    let (source, files) = source.ok_or("no bundle is loaded")?;
    post(&FromWorker::Status {
        text: format!("starting {count} CPU workers (a copy of the model each)"),
    });
    let p = Rc::new(Pool::start(count, key, &source, &files).await?);
    STATE.with(|s| s.borrow_mut().pool = Some(p.clone()));
    post(&FromWorker::Backend {
        label: format!("{backend} · {count} CPU workers"),
    });
    Ok(Some(p))
}

/// A unit of a helper's samples (`pool.rs`): drawn on this worker's model, with `Progress`
/// every [`PROGRESS_EVERY_MS`] and after the last step, answered with `Sampled`. `Stop`
/// ends it at the next step, and a unit queued behind it at its first.
async fn sample_part(
    jobs: Vec<Job>,
    decode: probable_core::sample::DecodeConfig,
    rows: usize,
) -> Result<(), String> {
    use probable_core::eval::{LocalSampler, Sampler};
    use probable_core::sample::{Progress, Step};
    // A helper's model, loaded alone; the whole bundle's on a worker that loaded one.
    let (alone, bundle) = STATE.with(|s| {
        let s = s.borrow();
        (s.model_alone.clone(), s.loaded.clone())
    });
    let model = match (&alone, &bundle) {
        (Some(model), _) => model.as_ref(),
        (None, Some(bundle)) => &bundle.model,
        (None, None) => return Err("no model is loaded".into()),
    };
    let stop = STATE.with(|s| s.borrow().stop.clone());
    let prompt_jobs: Vec<_> = jobs.iter().map(Job::as_prompt_job).collect();
    let throttle = Throttle::new();
    let mut progress = move |p: Progress| -> Step {
        // Always the last step's: the model worker counts the tokens from it.
        if throttle.due(p.samples_done == p.samples_total) {
            post(&FromWorker::Progress {
                question: 0,
                questions: 1,
                samples_done: p.samples_done,
                samples_total: p.samples_total,
                tokens: p.tokens,
                ms: 0.0,
            });
        }
        // Lets the `Stop` message in, every 10 ms or so.
        crate::tick::step(stop.clone())
    };
    // The prompts of the previous unit stay prefilled: a question's units share its prompt.
    let prefills = STATE.with(|s| std::mem::take(&mut s.borrow_mut().prefills));
    let mut sampler = LocalSampler::reusing(model, prefills);
    let out = sampler
        .sample(&prompt_jobs, &decode, rows, &mut progress)
        .await
        .map_err(|e| e.to_string())?;
    STATE.with(|s| s.borrow_mut().prefills = sampler.into_prefills());
    post(&FromWorker::Sampled {
        generations: out
            .iter()
            .map(|g| g.iter().map(Drawn::from).collect())
            .collect(),
    });
    Ok(())
}
