//! Handing control back to the event loop between decode steps, so a worker sees `Stop`
//! and the messages queued for it.
//!
//! Not `setTimeout(0)`: browsers clamp nested timers to 4 ms after five levels, and a run
//! yields many times a second — on a small model that clamp was a large share of each step
//! on the CPU fallback. A message to ourselves through a `MessageChannel` is a task too, and
//! runs as soon as the loop is free. (Reached through `js_sys` reflection: the web-sys
//! bindings for it would change web-sys' features, and so rebuild wgpu and burn.)

use std::cell::Cell;
use std::ops::ControlFlow;
use std::rc::Rc;

use js_sys::{Array, Function, Promise, Reflect};
use probable_core::sample::Step;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

fn channel() -> Option<(JsValue, JsValue)> {
    let ctor: Function = Reflect::get(&js_sys::global(), &"MessageChannel".into())
        .ok()?
        .dyn_into()
        .ok()?;
    let channel = Reflect::construct(&ctor, &Array::new()).ok()?;
    let port1 = Reflect::get(&channel, &"port1".into()).ok()?;
    let port2 = Reflect::get(&channel, &"port2".into()).ok()?;
    Some((port1, port2))
}

/// The least time between two yields of [`yield_due`]: a `Stop` or a queued message waits
/// at most this long, plus a step.
const YIELD_EVERY_MS: f64 = 10.0;

thread_local! {
    static LAST_YIELD: Cell<f64> = const { Cell::new(f64::NEG_INFINITY) };
}

/// [`yield_now`], if this thread last yielded at least [`YIELD_EVERY_MS`] ago; else nothing.
///
/// Each yield is a task hop through the event loop, on which a worker sharing its core with
/// the other helpers, the model worker and the compiler may wait to be scheduled again. A
/// small batch of a small model takes well under a millisecond a step, so yielding after
/// every step hopped dozens of times per `Stop` the worker could have needed to see: yielding
/// every 10 ms made 256-sample runs 5–10 % faster (`tests/browser/measure.mjs`, CHANGELOG.md);
/// at 2048 samples, whose 256-row steps already take about 10 ms, nothing changed.
async fn yield_due() {
    let now = js_sys::Date::now();
    if now - LAST_YIELD.get() < YIELD_EVERY_MS {
        return;
    }
    yield_now().await;
    LAST_YIELD.set(js_sys::Date::now());
}

/// What a decode step awaits on the CPU: [`yield_due`], then `Break` if `stop` was set
/// meanwhile (a `Stop` message sets it), so a run ends within a step or two of it.
pub fn step(stop: Rc<Cell<bool>>) -> Step {
    Box::pin(async move {
        yield_due().await;
        if stop.get() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
}

async fn yield_now() {
    let Some((port1, port2)) = channel() else {
        gloo_timers::future::TimeoutFuture::new(0).await;
        return;
    };
    let promise = Promise::new(&mut |resolve, _reject| {
        let _ = Reflect::set(&port1, &"onmessage".into(), &resolve);
    });
    let post = Reflect::get(&port2, &"postMessage".into())
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok());
    match post {
        Some(post) if post.call1(&port2, &JsValue::NULL).is_ok() => {
            let _ = JsFuture::from(promise).await;
        }
        _ => gloo_timers::future::TimeoutFuture::new(0).await,
    }
}
