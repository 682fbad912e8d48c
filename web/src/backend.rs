//! Picks the compute device at start-up: WebGPU when the browser offers an adapter,
//! else burn's pure-Rust CPU backend (flex) compiled to WebAssembly — with the reason shown.

use burn::tensor::wgpu::WgpuBackend;
use burn::tensor::Device;
use js_sys::{Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::share::BackendChoice;

/// The device and how to describe it to the visitor.
pub struct Backend {
    pub device: Device,
    /// E.g. "WebGPU · google swiftshader" or "CPU fallback (no WebGPU in this browser)".
    pub label: String,
}

fn get(v: &JsValue, key: &str) -> Option<JsValue> {
    Reflect::get(v, &JsValue::from_str(key))
        .ok()
        .filter(|x| !x.is_undefined() && !x.is_null())
}

/// Asks `navigator.gpu` for an adapter (the same request wgpu makes) and describes it
/// from `GPUAdapterInfo`; `Err` says why WebGPU is unusable here.
async fn probe_webgpu() -> Result<String, String> {
    let window = web_sys::window().ok_or("no window")?;
    let gpu = get(&window.navigator(), "gpu").ok_or("no WebGPU in this browser")?;
    let request = get(&gpu, "requestAdapter").ok_or("navigator.gpu.requestAdapter missing")?;
    let promise = request
        .unchecked_ref::<js_sys::Function>()
        .call0(&gpu)
        .map_err(|e| format!("requestAdapter failed: {e:?}"))?;
    let adapter = JsFuture::from(Promise::from(promise))
        .await
        .map_err(|e| format!("requestAdapter failed: {e:?}"))?;
    if adapter.is_null() || adapter.is_undefined() {
        return Err("WebGPU is present but offers no adapter".into());
    }
    let info = get(&adapter, "info");
    let field = |k: &str| {
        info.as_ref()
            .and_then(|i| get(i, k))
            .and_then(|v| v.as_string())
            .filter(|s| !s.is_empty())
    };
    let name = [field("vendor"), field("architecture"), field("description")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    Ok(if name.is_empty() {
        "adapter".into()
    } else {
        name
    })
}

pub async fn pick(choice: BackendChoice) -> Backend {
    let cpu = |why: String| Backend {
        device: Device::flex(),
        label: format!("CPU fallback ({why})"),
    };
    if choice == BackendChoice::Cpu {
        return cpu("requested by the link: backend=cpu".into());
    }
    let adapter = match probe_webgpu().await {
        Ok(name) => name,
        Err(why) => return cpu(why),
    };
    match Device::wgpu_options()
        .graphics_api(WgpuBackend::WebGpu)
        .init_async()
        .await
    {
        Ok(device) => Backend {
            device,
            label: format!("WebGPU · {adapter}"),
        },
        Err(e) => cpu(format!("WebGPU initialisation failed: {e}")),
    }
}
