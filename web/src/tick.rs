//! Handing control back to the event loop between decode steps, so a worker sees `Stop`
//! and the page repaints.
//!
//! Not `setTimeout(0)`: browsers clamp nested timers to 4 ms after five levels, and a run
//! yields after every step — on a small model that clamp was a large share of each step on
//! the CPU fallback. A message to ourselves through a `MessageChannel` is a task too, and
//! runs as soon as the loop is free. (Reached through `js_sys` reflection: the web-sys
//! bindings for it would change web-sys' features, and so rebuild wgpu and burn.)

use js_sys::{Array, Function, Promise, Reflect};
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

pub async fn yield_now() {
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
