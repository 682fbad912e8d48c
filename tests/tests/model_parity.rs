//! Every architecture probable implements against Hugging Face transformers 5.24 on tiny
//! random models (fixtures from tests/golden/make_model_goldens.py: Llama with default,
//! llama3, linear and dynamic rope, Mistral with a sliding window, Qwen2 with and without
//! one, Qwen3, Phi, f16/bf16 storage and a sharded checkpoint): logits within 1e-4,
//! identical greedy continuations and right-padded batches, on the pure-Rust CPU backend;
//! and what `probable export` writes reloads to the same model.

use burn::tensor::{Device, Int, Tensor, TensorData};
use probable_core::model::{
    greedy_decode, load_model, load_sharded, shard_checkpoint, CausalLm, CheckpointSource,
    InMemory, ModelConfig, StorageDtype, WeightDtype, INDEX_FILE, SINGLE_FILE,
};
use probable_tests::{golden, ids, repo_root};
use serde_json::Value;

/// Loads a fixture directory: one `model.safetensors`, or the shards its index names.
fn load_dir(dir: &std::path::Path) -> CausalLm {
    let config = std::fs::read_to_string(dir.join("config.json")).unwrap();
    let result = if dir.join(SINGLE_FILE).exists() {
        let weights = std::fs::read(dir.join(SINGLE_FILE)).unwrap();
        load_model(&config, &weights, &Device::flex())
    } else {
        let index = std::fs::read_to_string(dir.join(INDEX_FILE)).unwrap();
        let files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .filter(|n| n.ends_with(".safetensors"))
            .map(|n| (n.clone(), std::fs::read(dir.join(&n)).unwrap()))
            .collect();
        let mem = InMemory::new(files.iter().map(|(n, b)| (n.clone(), b.as_slice())));
        load_sharded(&config, &index, mem, &Device::flex())
    };
    result.unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
}

#[test]
fn every_architecture_has_a_golden() {
    let g = golden("model_golden.json");
    let names: Vec<&str> = g["models"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for want in [
        "llama-tiny",
        "llama-tiny-tied",
        "llama-tiny-f16",
        "llama-tiny-bf16",
        "phi-tiny",
        "llama3-tiny",
        "llama3-tiny-sharded",
        "llama-linear-tiny",
        "llama-dynamic-tiny",
        "mistral-tiny",
        "qwen2-tiny",
        "qwen2-swa-tiny",
        "qwen3-tiny",
    ] {
        assert!(names.contains(&want), "no golden for {want}: {names:?}");
    }
    let sharded = &g["models"]["llama3-tiny-sharded"];
    assert!(sharded["shards"].as_array().unwrap().len() >= 2);
}

/// Export (one file and shards, in the stored dtype) and reload: the same config and
/// bit-identical logits.
/// Together with the fixtures loading in transformers, the identical tensor names, shapes
/// and config keys are what make an exported bundle load there too (checked by hand with
/// tests/golden/check_roundtrip.py, see MODELS.md).
#[test]
fn export_round_trips_every_architecture() {
    let g = golden("model_golden.json");
    for (name, m) in g["models"].as_object().unwrap() {
        let model = load_dir(&repo_root().join(m["dir"].as_str().unwrap()));
        let prompt = ids(&m["prompts"][3]);
        let want = logits(&model, &prompt);
        let config = model.config().to_hf_json();
        assert_eq!(
            &ModelConfig::from_hf_json(&config).unwrap(),
            model.config(),
            "{name}: config.json round trip"
        );
        // Exported in the dtype it was stored in, a half-precision model reloads into the
        // same kernels (exported in f32 it would take the f32 ones, which sum in another
        // order: half_precision_kept_as_stored_agrees_with_widened_f32).
        let storage = if name.ends_with("-bf16") {
            StorageDtype::BF16
        } else if name.ends_with("-f16") {
            StorageDtype::F16
        } else {
            StorageDtype::F32
        };
        for max in [None, Some(20_000)] {
            let files = shard_checkpoint(model.export(), storage, max);
            let again = match files.iter().find(|(n, _)| n == INDEX_FILE) {
                None => load_model(&config, &files[0].1, &Device::flex()).unwrap(),
                Some((_, index)) => {
                    let mem = InMemory::new(files.iter().map(|(n, b)| (n.clone(), b.as_slice())));
                    load_sharded(
                        &config,
                        std::str::from_utf8(index).unwrap(),
                        mem,
                        &Device::flex(),
                    )
                    .unwrap()
                }
            };
            assert_eq!(logits(&again, &prompt), want, "{name}: export {max:?}");
        }
    }
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

/// `ids` as a `[rows, len]` tensor on `device`.
fn int_ids(ids: &[u32], rows: usize, device: &Device) -> Tensor<2, Int> {
    let data: Vec<i64> = ids.iter().map(|&t| t as i64).collect();
    Tensor::from_data(TensorData::new(data, [rows, ids.len() / rows]), device)
}

/// The logits of every position of `prompt`, on the model's device.
fn logits(model: &CausalLm, prompt: &[u32]) -> Vec<f32> {
    let input = int_ids(prompt, 1, &model.embed_tokens.weight.device());
    model
        .forward(input, None)
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .unwrap()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn logits_and_greedy_match_transformers() {
    let g = golden("model_golden.json");
    for (name, m) in g["models"].as_object().unwrap() {
        let model = load_dir(&repo_root().join(m["dir"].as_str().unwrap()));
        let vocab = model.config().vocab_size;
        for (p, prompt) in m["prompts"].as_array().unwrap().iter().enumerate() {
            let prompt = ids(prompt);
            let Some(want) = m["logits"].get(p) else {
                continue;
            };
            let want: Vec<f32> = want.as_array().unwrap().iter().flat_map(floats).collect();
            let got = logits(&model, &prompt);
            assert_eq!(got.len(), prompt.len() * vocab);
            let d = max_diff(&got, &want);
            eprintln!("{name} prompt {p}: max |logit diff| vs transformers = {d:.2e}");
            assert!(d < 1e-4, "{name} prompt {p}: max |logit diff| = {d}");

            // The cached path must agree with the full forward at the last position.
            let mut cache = model.new_cache();
            let input = int_ids(&prompt, 1, &Device::flex());
            let last = model
                .forward_cached(input, &mut cache)
                .into_data()
                .convert::<f32>()
                .try_to_vec::<f32>()
                .unwrap();
            let d = max_diff(&last, &want[(prompt.len() - 1) * vocab..]);
            assert!(
                d < 1e-4,
                "{name} prompt {p}: cached last logits differ by {d}"
            );

            let want_greedy = ids(&m["greedy"][p]);
            let got_greedy = greedy_decode(&model, &prompt, want_greedy.len(), &[]);
            assert_eq!(
                got_greedy, want_greedy,
                "{name} prompt {p}: greedy continuation"
            );
        }
    }
}

#[test]
fn right_padded_batch_matches_transformers() {
    let g = golden("model_golden.json");
    for (name, m) in g["models"].as_object().unwrap() {
        let model = load_dir(&repo_root().join(m["dir"].as_str().unwrap()));
        let vocab = model.config().vocab_size;
        let pb = &m["padded_batch"];
        let rows: Vec<Vec<u32>> = pb["input_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(ids)
            .collect();
        let mask: Vec<Vec<u8>> = pb["attention_mask"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r.as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_u64().unwrap() as u8)
                    .collect()
            })
            .collect();
        let (b, s) = (rows.len(), rows[0].len());
        let input = int_ids(&rows.concat(), b, &Device::flex());
        let out = model
            .forward(input, Some(&mask))
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .unwrap();
        for (r, want_rows) in pb["logits_valid"].as_array().unwrap().iter().enumerate() {
            for (pos, want) in want_rows.as_array().unwrap().iter().enumerate() {
                let got = &out[(r * s + pos) * vocab..(r * s + pos + 1) * vocab];
                let d = max_diff(got, &floats(want));
                assert!(d < 1e-4, "{name} row {r} pos {pos}: {d}");
            }
        }
    }
}

/// A real trained checkpoint (Karpathy's stories260K, converted to HF format), shared on
/// developer machines and CI; `#[ignore]`d, and run on purpose where the data is.
#[test]
#[ignore = "needs ../shared/data (PROBABLE_TOFU_DIR / PROBABLE_STORIES_DIR)"]
fn stories260k_matches_transformers_and_llama2c() {
    let g = golden("model_golden.json");
    let s = &g["stories260K"];
    let dir = std::env::var("PROBABLE_STORIES_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| repo_root().join(s["default_dir"].as_str().unwrap()));
    assert!(
        dir.join("model.safetensors").exists(),
        "stories260K not found at {} (set PROBABLE_STORIES_DIR)",
        dir.display()
    );
    let model = load_dir(&dir);
    let prompt = ids(&s["prompt"]);
    let got = logits(&model, &prompt);
    let vocab = model.config().vocab_size;
    let d = max_diff(
        &got[(prompt.len() - 1) * vocab..],
        &floats(&s["logits_last"]),
    );
    assert!(d < 1e-4, "stories260K last logits differ by {d}");
    let want = ids(&s["greedy"]);
    let greedy = greedy_decode(&model, &prompt, want.len(), &[]);
    // One step has a top-1/top-2 gap of 3.6e-5 in float32; allow a flip only there.
    let agree = greedy.iter().zip(&want).take_while(|(a, b)| a == b).count();
    assert!(
        agree >= 26,
        "stories260K greedy agrees on only {agree} leading tokens: {greedy:?} vs {want:?}"
    );
    let llama2c = ids(&s["llama2c_greedy"]);
    let agree_c = greedy
        .iter()
        .zip(&llama2c)
        .take_while(|(a, b)| a == b)
        .count();
    assert!(agree_c >= 26, "llama2.c agreement {agree_c}");
}

/// A single-file fixture with its matrices held as `held` asks, on `device`.
fn load_held(dir: &std::path::Path, held: WeightDtype, device: &Device) -> CausalLm {
    let config = std::fs::read_to_string(dir.join("config.json")).unwrap();
    let config = ModelConfig::from_hf_json(&config).unwrap();
    let bytes = std::fs::read(dir.join(SINGLE_FILE)).unwrap();
    let mut src = CheckpointSource::new(&bytes).unwrap().with_dtype(held);
    CausalLm::load(&config, &mut src, device).unwrap()
}

/// A bf16 or f16 checkpoint is held as stored on the CPU (half the memory; the kernels
/// widen tile by tile and accumulate in f32) and `--dtype f32` widens it at load. The
/// values are the same either way (widening is exact), so the two differ only in the order
/// of f32 sums: logits within 1e-5 · (1 + |logit|) — 1e-4 where bf16 products run on AMX
/// (16-bit activations) — the same greedy continuation, and the stored model really holds
/// half-precision weights.
#[test]
fn half_precision_kept_as_stored_agrees_with_widened_f32() {
    use burn::tensor::DType;
    use probable_core::model::Bf16Tiles;

    for (fixture, dtype) in [
        ("llama-tiny-bf16", DType::BF16),
        ("llama-tiny-f16", DType::F16),
    ] {
        let dir = repo_root().join("tests/fixtures/models").join(fixture);
        let load = |held: WeightDtype| load_held(&dir, held, &Device::flex());
        let (stored, wide) = (load(WeightDtype::Stored), load(WeightDtype::F32));
        assert_eq!(stored.embed_tokens.weight.val().dtype(), dtype, "{fixture}");
        assert_eq!(
            wide.embed_tokens.weight.val().dtype(),
            DType::F32,
            "{fixture}"
        );
        // On AMX the bf16 products take activations to 16 significand bits (2⁻¹⁶ relative):
        // their logits agree to 1e-4, the tolerance against transformers.
        let amx = dtype == DType::BF16 && Bf16Tiles::here() == Bf16Tiles::Amx;
        let tolerance = if amx { 1e-4 } else { 1e-5 };
        for prompt in [vec![1u32, 5, 9, 13, 2, 7], vec![3u32]] {
            let (a, b) = (logits(&stored, &prompt), logits(&wide, &prompt));
            for (x, y) in a.iter().zip(&b) {
                assert!(
                    (x - y).abs() <= tolerance * (1.0 + y.abs()),
                    "{fixture}: {x} vs {y}"
                );
            }
            assert_eq!(
                greedy_decode(&stored, &prompt, 12, &[]),
                greedy_decode(&wide, &prompt, 12, &[]),
                "{fixture}: greedy"
            );
        }
    }
}

/// `--dtype f16` on a GPU computes in f16 (weights, activations, KV cache; f32 accumulation,
/// norms and softmax in f32). The same mixed-precision path runs on the CPU backend when a
/// model is told to compute in f16, so every architecture's f16 path is checked here against
/// its f32 model: logits within [`F16_TOLERANCE`]` · (1 + |logit|)`, and the greedy
/// continuation (through the f16 KV cache) identical up to any step where the f32 model's
/// two choices lie within twice that of each other. Negative control: the same model
/// computing in bf16 (8 significand bits to f16's 11) is outside the tolerance.
#[test]
fn f16_computation_agrees_with_f32_on_every_architecture() {
    let bf16 = f16_agrees_with_f32(&Device::flex());
    assert!(
        bf16.is_some_and(|d| d > F16_TOLERANCE),
        "negative control: bf16 computation within the f16 tolerance ({bf16:?})"
    );
}

/// The same check on wgpu, where `--dtype f16` takes this path (the adapter must have
/// `SHADER_F16`; lavapipe has): `cargo test -p probable-tests --features wgpu --test
/// model_parity wgpu_` (scripts/wgpu-train-parity.sh runs it).
#[cfg(feature = "wgpu")]
#[test]
fn wgpu_f16_computation_agrees_with_f32() {
    use burn::tensor::DType;

    let device = Device::wgpu(Default::default());
    assert!(
        device.supports_dtype(DType::F16),
        "this adapter has no SHADER_F16"
    );
    assert_eq!(WeightDtype::F16.activations(&device), DType::F16);
    f16_agrees_with_f32(&device);
}

/// How far a model computing in f16 may be from its f32 model, relative to `1 + |logit|`:
/// measured up to 5.6e-2 on these fixtures on the CPU (tiny random models whose logits
/// reach 19, the largest error on Qwen2 with its q/k/v biases), most under 1e-2.
const F16_TOLERANCE: f32 = 8e-2;

/// Checks every single-file fixture computing in f16 against its f32 model on `device`
/// ([`f16_computation_agrees_with_f32_on_every_architecture`]); returns the largest error of
/// the same models computing in bf16 where the device has bf16.
fn f16_agrees_with_f32(device: &Device) -> Option<f32> {
    use burn::tensor::DType;

    let relative = |a: &[f32], b: &[f32]| {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs() / (1.0 + y.abs()))
            .fold(0.0, f32::max)
    };
    let with_bf16 = device.supports_dtype(DType::BF16);
    let (mut worst, mut worst_bf16, mut steps, mut same) = (0.0f32, 0.0f32, 0, 0);
    let g = golden("model_golden.json");
    for (name, m) in g["models"].as_object().unwrap() {
        let dir = repo_root().join(m["dir"].as_str().unwrap());
        if !dir.join(SINGLE_FILE).exists() {
            continue; // the sharded fixture: the same model as llama3-tiny
        }
        let load = |held: WeightDtype| load_held(&dir, held, device);
        let wide = load(WeightDtype::F32);
        let half = load(WeightDtype::F16).with_activations(DType::F16);
        let brain = with_bf16.then(|| load(WeightDtype::F32).with_activations(DType::BF16));
        let vocab = wide.config().vocab_size;
        for prompt in m["prompts"].as_array().unwrap() {
            let prompt = ids(prompt);
            let want = logits(&wide, &prompt);
            let d = relative(&logits(&half, &prompt), &want);
            assert!(d <= F16_TOLERANCE, "{name}: f16 logits off by {d:.2e}");
            worst = worst.max(d);
            if let Some(brain) = &brain {
                worst_bf16 = worst_bf16.max(relative(&logits(brain, &prompt), &want));
            }

            // Three rows continuing the prompt through one shared copy of its keys and
            // values (how many samples decode): the first step's logits.
            let continued = |model: &CausalLm| {
                let mut prefill = model.new_cache();
                model.forward_cached(int_ids(&prompt, 1, device), &mut prefill);
                let mut rows = model.continuing_cache(&[(&prefill, 3)], 2);
                let next = int_ids(&[0, 1, 2], 3, device);
                let out = model.forward_cached(next, &mut rows);
                out.into_data()
                    .convert::<f32>()
                    .try_to_vec::<f32>()
                    .unwrap()
            };
            let d = relative(&continued(&half), &continued(&wide));
            assert!(
                d <= F16_TOLERANCE,
                "{name}: f16 continued rows off by {d:.2e}"
            );
            worst = worst.max(d);

            let (got, want) = (
                greedy_decode(&half, &prompt, 12, &[]),
                greedy_decode(&wide, &prompt, 12, &[]),
            );
            let agree = got.iter().zip(&want).take_while(|(a, b)| a == b).count();
            (steps, same) = (steps + want.len(), same + agree);
            if agree < want.len() {
                let mut seen = prompt.clone();
                seen.extend(&want[..agree]);
                let all = logits(&wide, &seen);
                let last = &all[(seen.len() - 1) * vocab..];
                let (chosen, other) = (last[want[agree] as usize], last[got[agree] as usize]);
                assert!(
                    chosen - other <= 2.0 * F16_TOLERANCE * (1.0 + chosen.abs()),
                    "{name}: f16 greedy left f32's at step {agree} by {} (logits {chosen} vs {other})",
                    chosen - other
                );
            }
        }
    }
    eprintln!(
        "f16 vs f32 on {device:?}: max |Δlogit|/(1+|logit|) {worst:.2e} (bf16: {}); greedy \
         steps identical before a near tie: {same}/{steps}",
        if with_bf16 {
            format!("{worst_bf16:.2e}")
        } else {
            "not on this device".into()
        }
    );
    with_bf16.then_some(worst_bf16)
}
