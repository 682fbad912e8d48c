//! Picks the compute device at start-up (in the worker): WebGPU when the browser offers an
//! adapter, else burn's pure-Rust CPU backend (flex) compiled to WebAssembly — with the
//! reason shown. cubecl requests the adapter's own limits, so those bound a weight buffer.

use burn::tensor::wgpu::WgpuBackend;
use burn::tensor::Device;
use js_sys::{Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::limits::AdapterLimits;

/// The device and how to describe it to the visitor.
pub struct Backend {
    pub device: Device,
    /// E.g. "WebGPU · google swiftshader" or "CPU fallback (no WebGPU in this browser) ·
    /// relaxed SIMD".
    pub label: String,
    /// The WebGPU adapter's buffer limits (`None` on the CPU).
    pub limits: Option<AdapterLimits>,
}

fn get(v: &JsValue, key: &str) -> Option<JsValue> {
    Reflect::get(v, &JsValue::from_str(key))
        .ok()
        .filter(|x| !x.is_undefined() && !x.is_null())
}

/// Asks `navigator.gpu` for an adapter (the same request wgpu makes) and describes it
/// from `GPUAdapterInfo`; `Err` says why WebGPU is unusable here.
async fn probe_webgpu() -> Result<(String, AdapterLimits), String> {
    let navigator = get(&js_sys::global(), "navigator").ok_or("no navigator")?;
    let gpu = get(&navigator, "gpu").ok_or("no WebGPU in this browser")?;
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
    let adapter_limits = get(&adapter, "limits");
    let limit = |k: &str| {
        adapter_limits
            .as_ref()
            .and_then(|l| get(l, k))
            .and_then(|v| v.as_f64())
            .map_or(128 << 20, |v| v as u64)
    };
    let limits = AdapterLimits {
        max_buffer_size: limit("maxBufferSize"),
        max_storage_buffer_binding_size: limit("maxStorageBufferBindingSize"),
    };
    let name = if name.is_empty() {
        "adapter".into()
    } else {
        name
    };
    Ok((name, limits))
}

pub async fn pick(cpu_only: bool) -> Backend {
    // Which of the two wasm builds this worker runs (`wasm.js` picks the relaxed-SIMD one
    // where the browser validates it; scripts/build-web.sh).
    let simd = if cfg!(probable_relaxed) {
        " · relaxed SIMD"
    } else {
        ""
    };
    let cpu = |why: String| Backend {
        device: Device::flex(),
        label: format!("CPU fallback ({why}){simd}"),
        limits: None,
    };
    if cpu_only {
        return cpu("requested by the link: backend=cpu".into());
    }
    let (adapter, limits) = match probe_webgpu().await {
        Ok(found) => found,
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
            limits: Some(limits),
        },
        Err(e) => cpu(format!("WebGPU initialisation failed: {e}")),
    }
}
