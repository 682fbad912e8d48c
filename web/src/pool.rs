//! Every core on the CPU fallback: helper Web Workers, each with its own copy of the model,
//! draw contiguous parts of each job's sample range (`chunked::part`), and a [`Sampler`]
//! that sends the parts out and gathers them. A browser runs one wasm instance per worker
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

use crate::chunked::part;
use crate::protocol::{BundleSource, FromWorker, Job, ToWorker};

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
                return Err(format!("CPU worker {}: {message}", i + 1));
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
/// the helpers.
pub struct PoolSampler<'a> {
    pub pool: &'a Pool,
    pub local: LocalSampler<'a>,
}

impl Sampler for PoolSampler<'_> {
    async fn greedy(
        &mut self,
        jobs: &[PromptJob<'_>],
        decode: &DecodeConfig,
        rows: usize,
    ) -> Result<Vec<Generation>, EvalError> {
        self.local.greedy(jobs, decode, rows).await
    }

    async fn sample(
        &mut self,
        jobs: &[PromptJob<'_>],
        decode: &DecodeConfig,
        rows: usize,
        progress: &mut dyn FnMut(Progress) -> Step,
    ) -> Result<Vec<Vec<Generation>>, EvalError> {
        let k = self.pool.len();
        // Helper h draws part h of every job's range (jobs whose part is empty are left out).
        let parts: Vec<Vec<(usize, Job)>> = (0..k)
            .map(|h| {
                jobs.iter()
                    .enumerate()
                    .filter_map(|(j, job)| {
                        let samples = part(job.samples.clone(), k, h);
                        (!samples.is_empty()).then(|| {
                            (
                                j,
                                Job::of(&PromptJob {
                                    samples,
                                    ..job.clone()
                                }),
                            )
                        })
                    })
                    .collect()
            })
            .collect();
        let total: usize = jobs.iter().map(|j| j.samples.len()).sum();
        let mut results: Vec<Option<Vec<Vec<crate::protocol::Drawn>>>> = vec![None; k];
        let mut waiting = 0;
        for (h, mine) in parts.iter().enumerate() {
            if mine.is_empty() {
                results[h] = Some(Vec::new());
                continue;
            }
            let m = ToWorker::Sample {
                jobs: mine.iter().map(|(_, j)| j.clone()).collect(),
                decode: decode.clone(),
                rows,
            };
            post(&self.pool.workers[h], &m, &[]);
            waiting += 1;
        }
        let (mut done, mut tokens) = (vec![0usize; k], vec![0usize; k]);
        let mut stopping = false;
        while waiting > 0 {
            let (h, reply) = self.pool.next().await;
            match reply {
                FromWorker::Progress {
                    samples_done,
                    tokens: t,
                    ..
                } => {
                    (done[h], tokens[h]) = (samples_done, t);
                    let flow = progress(Progress {
                        samples_done: done.iter().sum(),
                        samples_total: total,
                        tokens: tokens.iter().sum(),
                    })
                    .await;
                    if flow.is_break() && !stopping {
                        stopping = true;
                        for w in &self.pool.workers {
                            post(w, &ToWorker::Stop, &[]);
                        }
                    }
                }
                FromWorker::Sampled { generations } => {
                    results[h] = Some(generations);
                    waiting -= 1;
                }
                FromWorker::Failed { message } => {
                    return Err(EvalError::Engine(format!(
                        "CPU worker {}: {message}",
                        h + 1
                    )))
                }
                _ => {}
            }
        }
        // Parts in helper order are the ranges in order.
        let mut out: Vec<Vec<Generation>> = vec![Vec::new(); jobs.len()];
        for (mine, drawn) in parts.iter().zip(results) {
            for ((j, _), generations) in mine.iter().zip(drawn.unwrap_or_default()) {
                out[*j].extend(generations.into_iter().map(Generation::from));
            }
        }
        Ok(out)
    }
}
