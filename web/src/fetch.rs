//! HTTP reads for the page and the worker (the global `fetch`, so it works in both): text,
//! and bytes streamed with progress and a size cap checked from `Content-Length` before the
//! body is read. Every failure names the URL; a request that fails before any response is
//! explained (unreachable host, or no CORS header for this origin).

use js_sys::{Function, Promise, Reflect, Uint8Array};
use probable_core::data::demo_index::DemoIndex;
use probable_core::data::{parse_qa, QaItem};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{ReadableStreamDefaultReader, Response};

/// Directory of the shipped bundles, relative to the page.
pub const MODELS: &str = "models";

fn js_error(e: &JsValue) -> String {
    e.as_string()
        .or_else(|| {
            Reflect::get(e, &"message".into())
                .ok()
                .and_then(|m| m.as_string())
        })
        .unwrap_or_else(|| format!("{e:?}"))
}

/// `fetch(url)` from the global scope (window or worker). `Ok(None)` is a 404 when the
/// file is optional.
async fn response(url: &str, optional: bool) -> Result<Option<Response>, String> {
    let global = js_sys::global();
    let fetch: Function = Reflect::get(&global, &"fetch".into())
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .ok_or("this browser has no fetch")?;
    let promise: Promise = fetch
        .call1(&global, &JsValue::from_str(url))
        .map_err(|e| format!("{url}: {}", js_error(&e)))?
        .unchecked_into();
    let response: Response = JsFuture::from(promise)
        .await
        .map_err(|e| {
            format!(
                "{url}: the request failed before any response ({}): the host is unreachable, \
                 or it sends no CORS header (Access-Control-Allow-Origin) for this page",
                js_error(&e)
            )
        })?
        .unchecked_into();
    if optional && response.status() == 404 {
        return Ok(None);
    }
    if !response.ok() {
        return Err(format!(
            "{url}: HTTP {} {}",
            response.status(),
            response.status_text()
        ));
    }
    Ok(Some(response))
}

async fn body_text(url: &str, r: Response) -> Result<String, String> {
    let p = r.text().map_err(|e| format!("{url}: {}", js_error(&e)))?;
    JsFuture::from(p)
        .await
        .map_err(|e| format!("{url}: {}", js_error(&e)))?
        .as_string()
        .ok_or_else(|| format!("{url}: the body is not text"))
}

pub async fn text(url: &str) -> Result<String, String> {
    let r = response(url, false).await?.expect("not optional");
    body_text(url, r).await
}

/// The text at `url`, or `None` on a 404.
pub async fn optional_text(url: &str) -> Result<Option<String>, String> {
    match response(url, true).await? {
        Some(r) => Ok(Some(body_text(url, r).await?)),
        None => Ok(None),
    }
}

/// The bytes at `url`, streamed: `progress(done, total)` hears every chunk; `cap` refuses a
/// body (from its `Content-Length`, or as it grows) larger than `cap` bytes.
pub async fn bytes(
    url: &str,
    cap: u64,
    progress: &dyn Fn(u64, Option<u64>),
) -> Result<Vec<u8>, String> {
    let r = response(url, false).await?.expect("not optional");
    let total = r
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(t) = total.filter(|&t| t > cap) {
        return Err(format!(
            "{url}: {} bytes, more than the {} left of this page's limit",
            t,
            crate::limits::human(cap)
        ));
    }
    let Some(body) = r.body() else {
        return Ok(Vec::new());
    };
    let reader: ReadableStreamDefaultReader = body
        .get_reader()
        .dyn_into()
        .map_err(|_| format!("{url}: cannot read the body as a stream"))?;
    let mut out = Vec::with_capacity(total.unwrap_or(0) as usize);
    progress(0, total);
    loop {
        let chunk = JsFuture::from(reader.read())
            .await
            .map_err(|e| format!("{url}: the download broke off ({})", js_error(&e)))?;
        if Reflect::get(&chunk, &"done".into())
            .ok()
            .and_then(|d| d.as_bool())
            .unwrap_or(true)
        {
            break;
        }
        let value: Uint8Array = Reflect::get(&chunk, &"value".into())
            .map_err(|e| format!("{url}: {}", js_error(&e)))?
            .unchecked_into();
        let start = out.len();
        out.resize(start + value.length() as usize, 0);
        value.copy_to(&mut out[start..]);
        if out.len() as u64 > cap {
            let _ = reader.cancel();
            return Err(format!(
                "{url}: more than the {} left of this page's limit",
                crate::limits::human(cap)
            ));
        }
        progress(out.len() as u64, total);
    }
    Ok(out)
}

pub async fn index() -> Result<DemoIndex, String> {
    let path = format!("{MODELS}/index.json");
    let text = text(&path).await?;
    serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))
}

/// The forget and retain questions named by the index.
pub async fn questions(index: &DemoIndex) -> Result<(Vec<QaItem>, Vec<QaItem>), String> {
    let forget = questions_at(&format!("{MODELS}/{}", index.data.forget)).await?;
    let retain = questions_at(&format!("{MODELS}/{}", index.data.retain)).await?;
    Ok((forget, retain))
}

/// Questions from a JSON/JSONL file in the TOFU layouts.
pub async fn questions_at(url: &str) -> Result<Vec<QaItem>, String> {
    let text = text(url).await?;
    parse_qa(url, &text).map_err(|e| e.to_string())
}
