//! The Web Worker that holds the model: it picks the device, loads bundles and runs
//! evaluations, posting progress and results to the page (see `protocol.rs`). Messages are
//! handled one after another in arrival order, except `Stop`, which takes effect at the
//! running evaluation's next decode step (the sampler yields to the worker's event loop
//! after every step, so the message is seen).
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
use crate::protocol::{BundleSource, FromWorker, ToWorker};
use crate::run;
use crate::share::{query_lookup, Settings};

#[derive(Default)]
struct State {
    device: Option<Device>,
    limits: Option<AdapterLimits>,
    loaded: Option<Rc<Loaded>>,
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
            // that did not load): drop it; the page resets its bookkeeping on `Failed`.
            STATE.with(|s| s.borrow_mut().queue.clear());
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
            });
            post(&FromWorker::Backend { label: b.label });
            Ok(())
        }
        ToWorker::Load { source } => load(source, files).await,
        ToWorker::Evaluate { query, items } => evaluate(&query, items).await,
        ToWorker::Stop => Ok(()),
    }
}

async fn load(source: BundleSource, files: Vec<File>) -> Result<(), String> {
    let (device, limits) = STATE.with(|s| {
        let s = s.borrow();
        (s.device.clone(), s.limits)
    });
    let device = device.ok_or("the backend is not ready")?;
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
    STATE.with(|s| s.borrow_mut().loaded = None);
    let loaded = bundle::load(
        &label,
        &reader,
        &device,
        limits.as_ref(),
        &|text| post(&FromWorker::Status { text }),
        &|file, done, total| {
            post(&FromWorker::Download {
                file: file.to_string(),
                done,
                total,
            })
        },
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
    post(&FromWorker::Started {
        config: Box::new(config.clone()),
    });
    let stop = Rc::new(Cell::new(false));
    STATE.with(|s| s.borrow_mut().stop = stop.clone());
    let started = js_sys::Date::now();
    let questions = items.len();
    let tokens = Rc::new(Cell::new(0usize));
    for (position, (index, item)) in items.into_iter().enumerate() {
        // One question: show its greedy answer first (what a benchmark would report).
        if questions == 1 {
            let g = run::greedy(&loaded, &config, &item).await?;
            post(&FromWorker::Greedy {
                question: position,
                text: g.text,
                score: g.score,
            });
        }
        let base = tokens.get();
        let counter = tokens.clone();
        let report = run::sample(&loaded, &config, index, item, stop.clone(), move |p| {
            counter.set(base + p.tokens);
            post(&FromWorker::Progress {
                question: position,
                questions,
                samples_done: p.samples_done,
                samples_total: p.samples_total,
                tokens: base + p.tokens,
                ms: js_sys::Date::now() - started,
            });
        })
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
