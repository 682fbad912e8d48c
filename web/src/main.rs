//! The probable web app. Built for `wasm32-unknown-unknown`; see README ("Web app").

#[cfg(target_arch = "wasm32")]
mod app;

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("probable-web runs in the browser: build it for wasm32-unknown-unknown (see README)");
}
