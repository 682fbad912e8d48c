//! Every core on the CPU fallback: helper Web Workers, each with its own copy of the model,
//! draw units of each job's sample range (`units.rs`), and a [`Sampler`] that sends the
//! units out and gathers them. A browser runs one wasm instance per worker
//! and flex's own threads are not available there, so this is how the CPU fallback uses
//! more than one core.
//!
//! The samples do not depend on the split: each is keyed by (seed, prompt index, sample
//! index) alone, so sample 200 is the same token ids whether worker 1 of 1 or worker 2 of 4
//! draws it (the browser test compares 1 and 2 workers, and both with `probable eval`).
//!
//! A helper is the same `worker.js` as the model worker, spoken to with the same messages
//! (`Init`, `Load`) plus `Sample`, which it answers with `Progress` (a few a second, and
//! after the last step) and one `Sampled`.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::task::{Poll, Waker};

use js_sys::{Array, Reflect};
use probable_core::eval::{EvalError, LocalSampler, Sampler};
use probable_core::sample::{DecodeConfig, Generation, Progress, PromptJob, Step};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{File, MessageEvent, Worker, WorkerOptions, WorkerType};

use crate::protocol::{BundleSource, Drawn, FromWorker, Job, ToWorker};
use crate::units::{plan, Dispatch, DEPTH};

/// Replies of every helper, in arrival order, tagged with the helper's position.
#[derive(Default)]
struct Inbox {
    queue: VecDeque<(usize, FromWorker)>,
    waker: Option<Waker>,
}

pub struct Pool {
    workers: Vec<Worker>,
    inbox: Rc<RefCell<Inbox>>,
    /// The handlers stay alive as long as the workers do.
    _handlers: Vec<Closure<dyn FnMut(MessageEvent)>>,
    _error_handlers: Vec<Closure<dyn FnMut(web_sys::ErrorEvent)>>,
    /// Which bundle load and worker count the helpers were started for.
    pub key: String,
}

fn number(key: &str) -> Option<f64> {
    let navigator = Reflect::get(&js_sys::global(), &"navigator".into()).ok()?;
    Reflect::get(&navigator, &key.into()).ok()?.as_f64()
}

/// How many helpers: `requested` (a link's `workers=`), else one per core the browser
/// reports; at most what memory allows — a copy of the model each, within a quarter of the
/// device's memory (`navigator.deviceMemory`, 4 GiB where the browser does not say).
pub fn size(requested: Option<u32>, model_bytes: u64) -> usize {
    let cores = number("hardwareConcurrency").unwrap_or(1.0).max(1.0) as usize;
    let memory_gib = number("deviceMemory").unwrap_or(4.0).max(1.0);
    let budget = memory_gib * (1u64 << 30) as f64 / 4.0;
    // Weights, plus the KV cache and buffers of a batch: about as much again.
    let by_memory = (budget / (2.0 * model_bytes.max(1) as f64))
        .floor()
        .max(1.0) as usize;
    let wanted = requested.map_or(cores, |w| w as usize);
    wanted
        .min(by_memory)
        .clamp(1, probable_core::share::MAX_WORKERS as usize)
}

fn post(worker: &Worker, m: &ToWorker, files: &[File]) {
    let json = JsValue::from_str(&m.to_json());
    let _ = if files.is_empty() {
        worker.post_message(&json)
    } else {
        let parts = Array::new();
        parts.push(&json);
        for f in files {
            parts.push(f);
        }
        worker.post_message(&parts)
    };
}

impl Pool {
    /// Starts `count` helpers and loads `source` into each (on the CPU).
    pub async fn start(
        count: usize,
        key: String,
        source: &BundleSource,
        files: &[File],
    ) -> Result<Self, String> {
        let inbox = Rc::new(RefCell::new(Inbox::default()));
        let (mut workers, mut handlers, mut error_handlers) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..count {
            let options = WorkerOptions::new();
            options.set_type(WorkerType::Module);
            let worker = Worker::new_with_options("worker.js", &options)
                .map_err(|e| format!("cannot start CPU worker {}: {e:?}", i + 1))?;
            let deliver = {
                let inbox = inbox.clone();
                move |reply: FromWorker| {
                    let mut b = inbox.borrow_mut();
                    b.queue.push_back((i, reply));
                    if let Some(w) = b.waker.take() {
                        w.wake();
                    }
                }
            };
            let on_error = deliver.clone();
            let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
                let reply = ev
                    .data()
                    .as_string()
                    .ok_or_else(|| "a worker message that is not text".to_string())
                    .and_then(|t| FromWorker::from_json(&t))
                    .unwrap_or_else(|message| FromWorker::Failed { message });
                deliver(reply);
            });
            let on_error =
                Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(move |ev: web_sys::ErrorEvent| {
                    on_error(FromWorker::Failed {
                        message: format!("the worker failed: {}", ev.message()),
                    })
                });
            worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
            workers.push(worker);
            handlers.push(on_message);
            error_handlers.push(on_error);
        }
        let pool = Self {
            workers,
            inbox,
            _handlers: handlers,
            _error_handlers: error_handlers,
            key,
        };
        // A helper takes messages once its wasm is up (it says `Ready`); then the same
        // start-up as the page gives the model worker, on the CPU.
        pool.each_until(|r| matches!(r, FromWorker::Ready)).await?;
        for w in &pool.workers {
            post(w, &ToWorker::Init { cpu_only: true }, &[]);
            post(
                w,
                &ToWorker::Load {
                    source: source.clone(),
                    model_only: true,
                },
                files,
            );
        }
        pool.each_until(|r| matches!(r, FromWorker::Loaded { .. }))
            .await?;
        Ok(pool)
    }

    pub fn len(&self) -> usize {
        self.workers.len()
    }

    async fn next(&self) -> (usize, FromWorker) {
        std::future::poll_fn(|cx| {
            let mut b = self.inbox.borrow_mut();
            match b.queue.pop_front() {
                Some(x) => Poll::Ready(x),
                None => {
                    b.waker = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
        .await
    }

    /// Waits until every helper sent a reply `done` accepts; a failure ends the wait.
    async fn each_until(&self, done: impl Fn(&FromWorker) -> bool) -> Result<(), String> {
        let mut waiting = vec![true; self.workers.len()];
        let mut left = waiting.len();
        while left > 0 {
            let (i, reply) = self.next().await;
            if let FromWorker::Failed { message } = &reply {
                return Err(failed(i, message));
            }
            if waiting[i] && done(&reply) {
                waiting[i] = false;
                left -= 1;
            }
        }
        Ok(())
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        for w in &self.workers {
            w.terminate();
        }
    }
}

/// Greedy answers on the model worker's own copy (one row: nothing to share); samples on
/// the helpers, a unit at a time to whichever is free (`units.rs`), each finished unit
/// handed to `on_unit` (job position, samples) as it comes back.
pub struct PoolSampler<'a, F> {
    pool: &'a Pool,
    local: LocalSampler<'a>,
    /// Samples per job and unit at most.
    most: u32,
    /// The samples the evaluation will ask for next, `0..n` of each greedy job with this
    /// decoding (not known in a sequential run): the helpers start on them while the greedy
    /// answers are drawn here, instead of waiting for them.
    ahead: Option<(u32, DecodeConfig)>,
    on_unit: F,
    early: Option<Early>,
}

/// Units sent ahead of the evaluation's call for them, with what they were cut from.
struct Early {
    jobs: Vec<Job>,
    decode: DecodeConfig,
    rows: usize,
    work: Dispatch<Generation>,
}

impl<'a, F> PoolSampler<'a, F> {
    pub fn new(
        pool: &'a Pool,
        local: LocalSampler<'a>,
        most: u32,
        ahead: Option<(u32, DecodeConfig)>,
        on_unit: F,
    ) -> Self {
        Self {
            pool,
            local,
            most,
            ahead,
            on_unit,
            early: None,
        }
    }
}

/// A helper's failure, named by its position (1-based, as the page counts them).
fn failed(h: usize, message: &str) -> String {
    format!("CPU worker {}: {message}", h + 1)
}

/// A `Sampled` answer's samples, per job, as the engine's generations.
fn drawn(generations: Vec<Vec<Drawn>>) -> Vec<Vec<Generation>> {
    generations
        .into_iter()
        .map(|g| g.into_iter().map(Generation::from).collect())
        .collect()
}

/// Sends helper `h` its next unit, if there is one for it.
fn send_next(
    pool: &Pool,
    work: &mut Dispatch<Generation>,
    h: usize,
    jobs: &[PromptJob<'_>],
    decode: &DecodeConfig,
    rows: usize,
) {
    let Some(unit) = work.send(h) else { return };
    let m = ToWorker::Sample {
        jobs: unit
            .iter()
            .map(|(j, samples)| {
                Job::of(&PromptJob {
                    samples: samples.clone(),
                    ..jobs[*j].clone()
                })
            })
            .collect(),
        decode: decode.clone(),
        rows,
    };
    post(&pool.workers[h], &m, &[]);
}

/// Cuts `jobs` into units and sends each helper its first [`DEPTH`].
fn start(
    pool: &Pool,
    most: u32,
    jobs: &[PromptJob<'_>],
    decode: &DecodeConfig,
    rows: usize,
) -> Dispatch<Generation> {
    let k = pool.len();
    let ranges: Vec<_> = jobs.iter().map(|j| j.samples.clone()).collect();
    let mut work = Dispatch::new(plan(&ranges, k, most), k);
    for _ in 0..DEPTH {
        for h in 0..k {
            send_next(pool, &mut work, h, jobs, decode, rows);
        }
    }
    work
}

/// Waits for every unit sent to be answered, keeping nothing (units sent ahead for samples
/// the evaluation did not ask for).
async fn drain(pool: &Pool, work: &mut Dispatch<Generation>) -> Result<(), EvalError> {
    while work.outstanding() > 0 {
        match pool.next().await {
            (h, FromWorker::Sampled { generations }) => {
                work.answered(h, drawn(generations))
                    .map_err(EvalError::Engine)?;
            }
            (h, FromWorker::Failed { message }) => {
                return Err(EvalError::Engine(failed(h, &message)))
            }
            _ => {}
        }
    }
    Ok(())
}

impl<F: FnMut(usize, &[Generation])> Sampler for PoolSampler<'_, F> {
    async fn greedy(
        &mut self,
        jobs: &[PromptJob<'_>],
        decode: &DecodeConfig,
        rows: usize,
    ) -> Result<Vec<Generation>, EvalError> {
        if let (Some((n, sampling)), None) = (&self.ahead, &self.early) {
            let owned: Vec<Job> = jobs
                .iter()
                .map(|j| {
                    Job::of(&PromptJob {
                        samples: 0..*n,
                        ..j.clone()
                    })
                })
                .collect();
            let ahead: Vec<PromptJob> = owned.iter().map(Job::as_prompt_job).collect();
            let work = start(self.pool, self.most, &ahead, sampling, rows);
            self.early = Some(Early {
                jobs: owned,
                decode: sampling.clone(),
                rows,
                work,
            });
        }
        self.local.greedy(jobs, decode, rows).await
    }

    async fn sample(
        &mut self,
        jobs: &[PromptJob<'_>],
        decode: &DecodeConfig,
        rows: usize,
        progress: &mut dyn FnMut(Progress) -> Step,
    ) -> Result<Vec<Vec<Generation>>, EvalError> {
        let (pool, k) = (self.pool, self.pool.len());
        let mut work = match self.early.take() {
            Some(early)
                if (&early.decode, early.rows) == (decode, rows)
                    && early.jobs.len() == jobs.len()
                    && early.jobs.iter().zip(jobs).all(|(e, j)| *e == Job::of(j)) =>
            {
                early.work
            }
            Some(mut early) => {
                drain(pool, &mut early.work).await?;
                start(pool, self.most, jobs, decode, rows)
            }
            None => start(pool, self.most, jobs, decode, rows),
        };
        let total: usize = jobs.iter().map(|j| j.samples.len()).sum();
        // Samples and tokens of the answered units, and of each helper's unit in hand (its
        // last `Progress`, which it also sends after a unit's last step).
        let (mut done, mut tokens) = (0usize, 0usize);
        let mut now = vec![(0usize, 0usize); k];
        let mut stopping = false;
        while work.outstanding() > 0 {
            let (h, reply) = pool.next().await;
            match reply {
                FromWorker::Progress {
                    samples_done,
                    tokens: t,
                    ..
                } => {
                    now[h] = (samples_done, t);
                    let flow = progress(Progress {
                        samples_done: done + now.iter().map(|n| n.0).sum::<usize>(),
                        samples_total: total,
                        tokens: tokens + now.iter().map(|n| n.1).sum::<usize>(),
                    })
                    .await;
                    if flow.is_break() && !stopping {
                        stopping = true;
                        work.stop();
                        for w in &pool.workers {
                            post(w, &ToWorker::Stop, &[]);
                        }
                    }
                }
                FromWorker::Sampled { generations } => {
                    let got = drawn(generations);
                    done += got.iter().map(Vec::len).sum::<usize>();
                    tokens += std::mem::take(&mut now[h]).1;
                    let u = work.answered(h, got).map_err(EvalError::Engine)?;
                    // The helper starts its queued unit now; queue the next behind it.
                    send_next(pool, &mut work, h, jobs, decode, rows);
                    let (unit, got) = work.unit(u);
                    for ((j, _), g) in unit.iter().zip(got) {
                        (self.on_unit)(*j, g);
                    }
                }
                FromWorker::Failed { message } => {
                    return Err(EvalError::Engine(failed(h, &message)))
                }
                _ => {}
            }
        }
        Ok(work.assemble(jobs.len()))
    }
}
