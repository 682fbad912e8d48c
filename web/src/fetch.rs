//! Everything the app downloads: the model index, the question sets and a model bundle
//! (config, generation config, tokenizer, f16 safetensors), all relative to the page.

use burn::tensor::Device;
use gloo_net::http::Request;
use probable_core::data::demo_index::DemoIndex;
use probable_core::data::{parse_qa, QaItem};
use probable_core::model::{load_model, CausalLm};
use probable_core::tokenizer::Tokenizer;

/// Directory of the shipped bundles, relative to the page.
pub const MODELS: &str = "models";

async fn get(path: &str) -> Result<gloo_net::http::Response, String> {
    let response = Request::get(path)
        .send()
        .await
        .map_err(|e| format!("{path}: {e}"))?;
    if !response.ok() {
        return Err(format!(
            "{path}: HTTP {} {}",
            response.status(),
            response.status_text()
        ));
    }
    Ok(response)
}

pub async fn text(path: &str) -> Result<String, String> {
    get(path)
        .await?
        .text()
        .await
        .map_err(|e| format!("{path}: {e}"))
}

pub async fn bytes(path: &str) -> Result<Vec<u8>, String> {
    get(path)
        .await?
        .binary()
        .await
        .map_err(|e| format!("{path}: {e}"))
}

pub async fn index() -> Result<DemoIndex, String> {
    let path = format!("{MODELS}/index.json");
    let text = text(&path).await?;
    serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))
}

/// The forget and retain questions named by the index.
pub async fn questions(index: &DemoIndex) -> Result<(Vec<QaItem>, Vec<QaItem>), String> {
    let mut sets = Vec::new();
    for file in [&index.data.forget, &index.data.retain] {
        let path = format!("{MODELS}/{file}");
        let text = text(&path).await?;
        sets.push(parse_qa(&path, &text).map_err(|e| e.to_string())?);
    }
    let retain = sets.pop().unwrap_or_default();
    let forget = sets.pop().unwrap_or_default();
    Ok((forget, retain))
}

/// A model ready to evaluate.
pub struct Loaded {
    pub name: String,
    pub model: CausalLm,
    pub tokenizer: Tokenizer,
    pub eos: Vec<u32>,
}

/// Downloads and loads the bundle in `dir`; `status` hears which file is on its way.
pub async fn bundle(
    name: &str,
    dir: &str,
    device: &Device,
    status: &dyn Fn(String),
) -> Result<Loaded, String> {
    let base = format!("{MODELS}/{dir}");
    status(format!("{name}: config"));
    let config_path = format!("{base}/config.json");
    let config = text(&config_path).await?;
    let generation = match get(&format!("{base}/generation_config.json")).await {
        Ok(r) => {
            let t = r.text().await.map_err(|e| e.to_string())?;
            Some(
                serde_json::from_str::<serde_json::Value>(&t)
                    .map_err(|e| format!("{base}/generation_config.json: {e}"))?,
            )
        }
        Err(_) => None,
    };
    status(format!("{name}: tokenizer"));
    let tokenizer_path = format!("{base}/tokenizer.json");
    let tokenizer = Tokenizer::from_json(&bytes(&tokenizer_path).await?)
        .map_err(|e| format!("{tokenizer_path}: {e}"))?;
    status(format!("{name}: weights"));
    let weights_path = format!("{base}/model.safetensors");
    let weights = bytes(&weights_path).await?;
    status(format!(
        "{name}: building the model ({:.1} MB of weights)",
        weights.len() as f64 / 1e6
    ));
    let model =
        load_model(&config, &weights, device).map_err(|e| format!("{weights_path}: {e}"))?;
    if tokenizer.vocab_size() > model.config().vocab_size {
        return Err(format!(
            "{tokenizer_path}: {} ids, but the model's embedding has only {} rows",
            tokenizer.vocab_size(),
            model.config().vocab_size
        ));
    }
    let eos = model.config().generation_eos_ids(generation.as_ref());
    Ok(Loaded {
        name: name.to_string(),
        model,
        tokenizer,
        eos,
    })
}
