//! The page's handle on the model worker: starts `worker.js` (a module worker loading the
//! same wasm), queues messages until the worker says it is ready, and hands every reply
//! to one callback on the main thread.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::Array;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{File, MessageEvent, Worker, WorkerOptions, WorkerType};

use crate::protocol::{FromWorker, ToWorker};

pub struct Client {
    worker: Worker,
    /// Messages waiting for `Ready` (`None` once it came).
    pending: Rc<RefCell<Option<Vec<JsValue>>>>,
}

impl Client {
    pub fn spawn(on_reply: impl Fn(FromWorker) + 'static) -> Result<Self, String> {
        let on_reply = std::rc::Rc::new(on_reply);
        let on_failure = on_reply.clone();
        let options = WorkerOptions::new();
        options.set_type(WorkerType::Module);
        let worker = Worker::new_with_options("worker.js", &options)
            .map_err(|e| format!("cannot start the model worker: {e:?}"))?;
        let pending = Rc::new(RefCell::new(Some(Vec::<JsValue>::new())));
        let queue = pending.clone();
        let target = worker.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
            let reply = ev
                .data()
                .as_string()
                .ok_or_else(|| "a worker message that is not text".to_string())
                .and_then(|t| FromWorker::from_json(&t));
            match reply {
                Ok(FromWorker::Ready) => {
                    for m in queue.borrow_mut().take().unwrap_or_default() {
                        let _ = target.post_message(&m);
                    }
                }
                Ok(reply) => on_reply(reply),
                Err(message) => on_reply(FromWorker::Failed { message }),
            }
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();
        // A worker that cannot start (its script or the wasm fails to load) is named on the
        // page instead of leaving it waiting.
        let on_error =
            Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(move |ev: web_sys::ErrorEvent| {
                let message = format!("the model worker failed: {}", ev.message());
                web_sys::console::error_1(&message.clone().into());
                on_failure(FromWorker::Failed { message });
            });
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        on_error.forget();
        Ok(Self { worker, pending })
    }

    fn post(&self, message: JsValue) {
        if let Some(queue) = self.pending.borrow_mut().as_mut() {
            queue.push(message);
            return;
        }
        let _ = self.worker.post_message(&message);
    }

    pub fn send(&self, m: &ToWorker) {
        self.post(JsValue::from_str(&m.to_json()));
    }

    /// Sends `m` with `files` beside it (the worker reads them; nothing leaves the machine).
    pub fn send_with_files(&self, m: &ToWorker, files: &[File]) {
        let parts = Array::new();
        parts.push(&JsValue::from_str(&m.to_json()));
        for f in files {
            parts.push(f);
        }
        self.post(parts.into());
    }
}
