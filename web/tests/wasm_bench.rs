//! A benchmark, not a test: the CPU fallback's engine (probable-core compiled to wasm32
//! with SIMD, flex's CPU backend) sampling the shipped demo model under Node, whose V8 is
//! the engine of Chromium's workers. `scripts/bench-wasm.sh` runs it beside the native
//! `probable bench sample` of the same shape on one thread; the browser test measures the
//! whole page. It only checks that every sample has its tokens.
#![cfg(target_arch = "wasm32")]

use burn::tensor::Device;
use probable_core::model::load_model;
use probable_core::sample::{no_progress, sample_prompt, DecodeConfig};
use wasm_bindgen_test::wasm_bindgen_test;

const CONFIG: &str = include_str!("../../public/models/npo/config.json");
const WEIGHTS: &[u8] = include_bytes!("../../public/models/npo/model.safetensors");
const NEW_TOKENS: usize = 32;

#[wasm_bindgen_test]
async fn sampling_tokens_per_second() {
    let model = load_model(CONFIG, WEIGHTS, &Device::flex()).unwrap();
    let vocab = model.config().vocab_size as u32;
    // The prompt and settings of `probable bench sample`: 16 tokens, T = 1, top-p 0.9, no EOS.
    let prompt: Vec<u32> = (0..16u32).map(|i| 3 + (i * 37) % (vocab - 3)).collect();
    let config = DecodeConfig::paper(NEW_TOKENS, vec![], 0);
    let log = |s: String| web_sys::console::log_1(&s.into());
    log(format!(
        "wasm32 (Node): prompt 16 tokens · {NEW_TOKENS} new tokens · T=1, top-p 0.9"
    ));
    // The first pass runs while the engine still compiles the hot functions with its
    // optimising tier (as a page's first run does); it is printed as such.
    for (pass, n) in [("first", 256u32), ("warm", 32), ("warm", 256)] {
        let t0 = js_sys::Date::now();
        let gens = sample_prompt(
            &model,
            &prompt,
            0,
            0..n,
            &config,
            n as usize,
            &mut no_progress,
        )
        .await
        .unwrap();
        let ms = js_sys::Date::now() - t0;
        let tokens: usize = gens.iter().map(|g| g.tokens.len()).sum();
        assert_eq!(
            tokens,
            n as usize * NEW_TOKENS,
            "every sample runs to the token limit"
        );
        log(format!(
            "{pass:>6}  N={n:<4} {tokens} tokens in {ms:.0} ms = {:.0} tokens/s",
            tokens as f64 / ms * 1e3
        ));
    }
}
