//! The probable web app: many-sample evaluation of the shipped checkpoints in the browser,
//! on WebGPU with a CPU fallback. Built for `wasm32-unknown-unknown`; see docs/web.md.

// Pure modules, compiled natively too for their unit tests.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod chunked;
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod highlight;
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod limits;
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod protocol;
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod snapshot;
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod summary;
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod units;

#[cfg(target_arch = "wasm32")]
mod actions;
#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
mod backend;
#[cfg(target_arch = "wasm32")]
mod bundle;
#[cfg(target_arch = "wasm32")]
mod client;
#[cfg(target_arch = "wasm32")]
mod download;
#[cfg(target_arch = "wasm32")]
mod fetch;
#[cfg(target_arch = "wasm32")]
mod pool;
#[cfg(target_arch = "wasm32")]
mod reply;
#[cfg(target_arch = "wasm32")]
mod run;
#[cfg(target_arch = "wasm32")]
mod state;
#[cfg(target_arch = "wasm32")]
mod tick;
#[cfg(target_arch = "wasm32")]
mod view;
#[cfg(target_arch = "wasm32")]
mod worker;

#[cfg(target_arch = "wasm32")]
unsafe extern "C" {
    /// Synthesised by wasm-ld: runs the static constructors (cubecl registers types with
    /// `inventory` from them). A binary links "command-style", and wasm-ld then wraps
    /// *every* export in a call to it — so each JS→wasm call (an event, a worker message, a
    /// timer waking the sampler, an externref slot) re-ran all of them: measured in a CPU
    /// profile of a 256-sample run, most of the page's main-thread time. Calling it once
    /// here, explicitly, makes wasm-ld leave the exports unwrapped.
    fn __wasm_call_ctors();
}

/// The page mounts the app; in the model worker (`worker.js`, no window) the same wasm
/// starts nothing here — `worker::worker_start` takes over.
#[cfg(target_arch = "wasm32")]
fn main() {
    // SAFETY: called once, first, before any code that relies on the constructors.
    unsafe { __wasm_call_ctors() };
    console_error_panic_hook::set_once();
    if web_sys::window().is_some() {
        leptos::mount::mount_to_body(app::App);
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!(
        "probable-web runs in the browser: build it with scripts/build-web.sh (see docs/web.md)"
    );
}
