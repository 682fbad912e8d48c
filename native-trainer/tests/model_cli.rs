//! `probable generate | inspect | export` on the committed tiny HF fixtures.

use std::path::{Path, PathBuf};
use std::process::Output;

mod common;

use common::{fresh_path, probable};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/models")
        .join(name)
}

fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn fails_cleanly(out: &Output, mention: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(
        err.contains("error:") && err.contains(mention),
        "stderr should mention {mention}: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn greedy_generate_matches_transformers_ids() {
    let m = fixture("llama-tiny");
    let out = json(&probable(&[
        "generate",
        "--model",
        m.to_str().unwrap(),
        "--prompt-ids",
        "1,239,179,14,112",
        "--max-new-tokens",
        "8",
        "--json",
    ]));
    assert_eq!(
        out["text"],
        serde_json::Value::Null,
        "no tokenizer.json → text is null"
    );
    // From tests/golden/model_golden.json (transformers greedy, prompt 1).
    assert_eq!(
        out["token_ids"],
        serde_json::json!([219, 102, 153, 172, 132, 131, 131, 249])
    );
}

#[test]
fn sampling_is_seeded() {
    let m = fixture("phi-tiny");
    let run = |seed: &str| {
        json(&probable(&[
            "generate",
            "--model",
            m.to_str().unwrap(),
            "--prompt-ids",
            "1,5,9",
            "--max-new-tokens",
            "6",
            "--temperature",
            "1",
            "--top-p",
            "0.95",
            "--seed",
            seed,
            "--json",
        ]))["token_ids"]
            .clone()
    };
    assert_eq!(run("7"), run("7"));
    assert_ne!(run("7"), run("8"));
}

#[test]
fn export_round_trips_in_every_dtype() {
    let m = fixture("phi-tiny");
    let gen = |dir: &str| {
        json(&probable(&[
            "generate",
            "--model",
            dir,
            "--prompt-ids",
            "1,17,149",
            "--max-new-tokens",
            "10",
            "--json",
        ]))["token_ids"]
            .clone()
    };
    let original = gen(m.to_str().unwrap());
    for dtype in ["f32", "f16", "bf16"] {
        let out = fresh_path(dtype);
        let o = probable(&[
            "export",
            "--model",
            m.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--dtype",
            dtype,
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        for f in ["config.json", "model.safetensors", "generation_config.json"] {
            assert!(out.join(f).exists(), "{f} missing");
        }
        let info = json(&probable(&[
            "inspect",
            "--model",
            out.to_str().unwrap(),
            "--json",
        ]));
        assert_eq!(info["dtype"], dtype.to_uppercase());
        if dtype == "f32" {
            assert_eq!(
                gen(out.to_str().unwrap()),
                original,
                "f32 export must be exact"
            );
            let a = std::fs::read(m.join("model.safetensors")).unwrap().len();
            let b = std::fs::read(out.join("model.safetensors")).unwrap().len();
            assert!(
                (a as i64 - b as i64).abs() < 4096,
                "same tensors, same size"
            );
        }
        let _ = std::fs::remove_dir_all(&out);
    }
}

#[test]
fn inspect_reports_architecture() {
    let info = json(&probable(&[
        "inspect",
        "--json",
        "--model",
        fixture("llama-tiny-tied").to_str().unwrap(),
    ]));
    assert_eq!(info["architecture"], "LlamaForCausalLM");
    assert_eq!(info["tied_embeddings"], true);
    assert_eq!(info["vocab_size"], 256);
    let info = json(&probable(&[
        "inspect",
        "--json",
        "--model",
        fixture("llama-tiny").to_str().unwrap(),
    ]));
    // The parameter count must equal the f32 element count of the checkpoint.
    let bytes = std::fs::read(fixture("llama-tiny").join("model.safetensors")).unwrap();
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let data_bytes = bytes.len() - 8 - header_len;
    assert_eq!(
        info["parameters"].as_u64().unwrap() as usize * 4,
        data_bytes
    );
}

#[test]
fn bad_bundles_are_named_errors() {
    let good = fixture("llama-tiny");
    // Missing directory.
    fails_cleanly(
        &probable(&["inspect", "--model", "/nonexistent/bundle"]),
        "/nonexistent/bundle",
    );
    // Missing model.safetensors.
    let d = fresh_path("missing");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::copy(good.join("config.json"), d.join("config.json")).unwrap();
    fails_cleanly(
        &probable(&["inspect", "--model", d.to_str().unwrap()]),
        "model.safetensors",
    );
    // Truncated safetensors.
    let bytes = std::fs::read(good.join("model.safetensors")).unwrap();
    std::fs::write(d.join("model.safetensors"), &bytes[..bytes.len() / 2]).unwrap();
    fails_cleanly(
        &probable(&["inspect", "--model", d.to_str().unwrap()]),
        "model.safetensors",
    );
    // Shape mismatch: config says a different hidden size.
    std::fs::write(d.join("model.safetensors"), &bytes).unwrap();
    let cfg = std::fs::read_to_string(good.join("config.json"))
        .unwrap()
        .replace("\"intermediate_size\": 176", "\"intermediate_size\": 180");
    std::fs::write(d.join("config.json"), cfg).unwrap();
    fails_cleanly(
        &probable(&["inspect", "--model", d.to_str().unwrap()]),
        "gate_proj",
    );
    // Unsupported model_type.
    let cfg = std::fs::read_to_string(good.join("config.json"))
        .unwrap()
        .replace("\"llama\"", "\"gpt2\"");
    std::fs::write(d.join("config.json"), cfg).unwrap();
    fails_cleanly(
        &probable(&["inspect", "--model", d.to_str().unwrap()]),
        "gpt2",
    );
    // Tokenizer larger than the embedding (the fixture tokenizer has 300 ids, vocab is 256).
    std::fs::copy(good.join("config.json"), d.join("config.json")).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/tokenizer/tokenizer.json"),
        d.join("tokenizer.json"),
    )
    .unwrap();
    fails_cleanly(
        &probable(&["inspect", "--model", d.to_str().unwrap()]),
        "tokenizer.json",
    );
    // A prompt id outside the vocabulary.
    fails_cleanly(
        &probable(&[
            "generate",
            "--model",
            good.to_str().unwrap(),
            "--prompt-ids",
            "1,999",
        ]),
        "999",
    );
    // Text prompt without a tokenizer.
    fails_cleanly(
        &probable(&[
            "generate",
            "--model",
            good.to_str().unwrap(),
            "--prompt",
            "hi",
        ]),
        "tokenizer.json",
    );
    let _ = std::fs::remove_dir_all(&d);
}

/// Copies a fixture directory so a test can break it.
fn copy_fixture(name: &str, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(fixture(name)).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

#[test]
fn every_family_loads_generates_and_exports_sharded() {
    let golden: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/golden/model_golden.json"),
        )
        .unwrap(),
    )
    .unwrap();
    for (name, arch) in [
        ("llama3-tiny", "LlamaForCausalLM"),
        ("llama3-tiny-sharded", "LlamaForCausalLM"),
        ("llama-dynamic-tiny", "LlamaForCausalLM"),
        ("mistral-tiny", "MistralForCausalLM"),
        ("qwen2-swa-tiny", "Qwen2ForCausalLM"),
        ("qwen3-tiny", "Qwen3ForCausalLM"),
    ] {
        let m = fixture(name);
        let info = json(&probable(&[
            "inspect",
            "--model",
            m.to_str().unwrap(),
            "--json",
        ]));
        assert_eq!(info["architecture"], arch, "{name}");
        let g = &golden["models"][name];
        let prompt: Vec<String> = g["prompts"][3]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.to_string())
            .collect();
        let want: Vec<u64> = g["greedy"][3]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap())
            .collect();
        let gen = |dir: &Path| {
            let out = json(&probable(&[
                "generate",
                "--model",
                dir.to_str().unwrap(),
                "--prompt-ids",
                &prompt.join(","),
                "--max-new-tokens",
                "32",
                "--json",
            ]));
            out["token_ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(gen(&m), want, "{name}: greedy ids vs transformers");
        let out = fresh_path(&format!("sharded-{name}"));
        let status = probable(&[
            "export",
            "--model",
            m.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--max-shard-size",
            "30KB",
        ]);
        assert!(
            status.status.success(),
            "{}",
            String::from_utf8_lossy(&status.stderr)
        );
        assert!(out.join("model.safetensors.index.json").exists(), "{name}");
        assert!(!out.join("model.safetensors").exists(), "{name}");
        assert_eq!(gen(&out), want, "{name}: after a sharded export");
    }
}

#[test]
fn broken_sharded_checkpoints_are_named_errors() {
    let d = fresh_path("broken-shards");
    copy_fixture("llama3-tiny-sharded", &d);
    let first = "model-00001-of-00011.safetensors";
    let index = std::fs::read_to_string(d.join("model.safetensors.index.json")).unwrap();
    // A shard the index names is missing.
    std::fs::rename(d.join(first), d.join("moved.bin")).unwrap();
    fails_cleanly(
        &probable(&["inspect", "--model", d.to_str().unwrap()]),
        first,
    );
    std::fs::rename(d.join("moved.bin"), d.join(first)).unwrap();
    // The index places a tensor in a shard that does not hold it.
    let second = "model-00002-of-00011.safetensors";
    let v: serde_json::Value = serde_json::from_str(&index).unwrap();
    let (tensor, file) = v["weight_map"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(_, f)| f.as_str() == Some(first))
        .map(|(t, f)| (t.clone(), f.as_str().unwrap().to_string()))
        .unwrap();
    let moved = index.replace(
        &format!("\"{tensor}\": \"{file}\""),
        &format!("\"{tensor}\": \"{second}\""),
    );
    assert_ne!(moved, index);
    std::fs::write(d.join("model.safetensors.index.json"), &moved).unwrap();
    fails_cleanly(
        &probable(&["inspect", "--model", d.to_str().unwrap()]),
        &tensor,
    );
    // A path instead of a file name.
    let escaped = index.replace(first, "../model-00001-of-00011.safetensors");
    std::fs::write(d.join("model.safetensors.index.json"), escaped).unwrap();
    fails_cleanly(
        &probable(&["inspect", "--model", d.to_str().unwrap()]),
        "not a .safetensors file name",
    );
    // No weights at all.
    std::fs::remove_file(d.join("model.safetensors.index.json")).unwrap();
    fails_cleanly(
        &probable(&["inspect", "--model", d.to_str().unwrap()]),
        "model.safetensors.index.json",
    );
}

#[test]
fn unsupported_or_inconsistent_configs_are_named_errors() {
    let d = fresh_path("bad-configs");
    copy_fixture("llama3-tiny", &d);
    let good = std::fs::read_to_string(d.join("config.json")).unwrap();
    let cases = [
        ("\"llama3\"", "\"yarn\"", "`yarn` is not supported"),
        (
            "\"LlamaForCausalLM\"",
            "\"Qwen2ForCausalLM\"",
            "architectures",
        ),
        (
            "\"rms_norm_eps\": 1e-05",
            "\"rms_norm_eps\": 0.0",
            "rms_norm_eps",
        ),
        ("\"head_dim\": 16", "\"head_dim\": 12", "q_proj"),
        (
            "\"eos_token_id\": 2",
            "\"eos_token_id\": 256",
            "eos_token_id",
        ),
    ];
    for (from, to, mention) in cases {
        assert!(good.contains(from), "fixture config lacks {from}");
        std::fs::write(d.join("config.json"), good.replace(from, to)).unwrap();
        fails_cleanly(
            &probable(&["inspect", "--model", d.to_str().unwrap()]),
            mention,
        );
    }
    // Extra, non-finite and untied-head tensors, written into otherwise good checkpoints.
    use probable_core::model::{load_model, to_safetensors, NamedTensor, StorageDtype};
    let dev = burn::tensor::Device::flex();
    let rewrite = |fixture_name: &str, edit: &dyn Fn(&mut Vec<NamedTensor>), mention: &str| {
        let dir = fresh_path(&format!("edit-{fixture_name}-{mention}").replace(' ', "_"));
        copy_fixture(fixture_name, &dir);
        let cfg = std::fs::read_to_string(dir.join("config.json")).unwrap();
        let bytes = std::fs::read(dir.join("model.safetensors")).unwrap();
        let mut tensors = load_model(&cfg, &bytes, &dev).unwrap().export();
        edit(&mut tensors);
        std::fs::write(
            dir.join("model.safetensors"),
            to_safetensors(&tensors, StorageDtype::F32),
        )
        .unwrap();
        fails_cleanly(
            &probable(&["inspect", "--model", dir.to_str().unwrap()]),
            mention,
        );
    };
    rewrite(
        "llama3-tiny",
        &|t| {
            t.push(NamedTensor {
                name: "model.layers.0.self_attn.extra.weight".into(),
                shape: vec![2],
                values: vec![0.0, 1.0],
            })
        },
        "model.layers.0.self_attn.extra.weight",
    );
    rewrite("qwen3-tiny", &|t| t[3].values[5] = f32::NAN, "non-finite");
    rewrite(
        "qwen2-tiny",
        &|t| {
            let mut head = t[0].clone();
            assert_eq!(head.name, "model.embed_tokens.weight");
            head.name = "lm_head.weight".into();
            head.values[0] += 1.0;
            t.push(head);
        },
        "lm_head.weight",
    );
}
