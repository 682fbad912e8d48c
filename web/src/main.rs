//! The probable web app: many-sample evaluation of the shipped checkpoints in the browser,
//! on WebGPU with a CPU fallback. Built for `wasm32-unknown-unknown`; see README ("Web app").

// Pure modules, compiled natively too for their unit tests.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod highlight;
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod share;

#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
mod backend;
#[cfg(target_arch = "wasm32")]
mod fetch;
#[cfg(target_arch = "wasm32")]
mod run;
#[cfg(target_arch = "wasm32")]
mod view;

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("probable-web runs in the browser: build it with scripts/build-web.sh (see README)");
}
