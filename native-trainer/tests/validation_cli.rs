//! Values that parse but that a model cannot run with are named errors at run time, never
//! a panic or a silent score: special ids past the vocabulary, tokenizer ids past the
//! embedding, non-finite logits, sampling options given without sampling.

use std::path::{Path, PathBuf};
use std::process::Output;

use burn::module::Param;
use burn::tensor::{Device, Tensor, TensorData};
use probable_core::model::{to_safetensors, CausalLm, ModelConfig, RandomInit, StorageDtype};

mod common;

use common::{probable, scratch};

const CONFIG: &str = r#"{"model_type":"llama","vocab_size":300,"hidden_size":32,"intermediate_size":64,
    "num_hidden_layers":1,"num_attention_heads":4,"num_key_value_heads":2,
    "max_position_embeddings":128,"bos_token_id":1,"eos_token_id":2,"pad_token_id":0}"#;

/// A random bundle; `edit` may change the saved config.json text, `poison` sets one
/// embedding value of token 5 to NaN.
fn bundle(dir: &Path, edit: impl Fn(&mut serde_json::Value), poison: bool) -> PathBuf {
    bundle_with(dir, CONFIG, edit, poison)
}

fn bundle_with(
    dir: &Path,
    config: &str,
    edit: impl Fn(&mut serde_json::Value),
    poison: bool,
) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let config = ModelConfig::from_hf_json(config).unwrap();
    let mut model = CausalLm::load(&config, &mut RandomInit::new(2, 0.2), &Device::flex()).unwrap();
    if poison {
        let w = model.embed_tokens.weight.val();
        let [rows, cols] = w.dims();
        let mut v = w.into_data().convert::<f32>().try_to_vec::<f32>().unwrap();
        v[5 * cols] = f32::NAN;
        model.embed_tokens.weight = Param::from_tensor(Tensor::from_data(
            TensorData::new(v, [rows, cols]),
            &Device::flex(),
        ));
    }
    let mut json: serde_json::Value = serde_json::from_str(&config.to_hf_json()).unwrap();
    edit(&mut json);
    std::fs::write(dir.join("config.json"), json.to_string()).unwrap();
    std::fs::write(
        dir.join("model.safetensors"),
        to_safetensors(&model.export(), StorageDtype::F32),
    )
    .unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/tokenizer/tokenizer.json"),
        dir.join("tokenizer.json"),
    )
    .unwrap();
    dir.to_path_buf()
}

fn qa(dir: &Path) -> PathBuf {
    let p = dir.join("qa.jsonl");
    std::fs::write(
        &p,
        "{\"question\": \"Where was Ada born?\", \"answer\": \"Ada was born in Rome.\"}\n",
    )
    .unwrap();
    p
}

fn fails_naming(o: &Output, mention: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(mention), "should mention {mention}: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

fn eval(m: &Path, data: &Path, out: &Path) -> Output {
    probable(&[
        "eval",
        "--model",
        m.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--samples",
        "4",
        "--max-new-tokens",
        "4",
        "--out",
        out.to_str().unwrap(),
    ])
}

#[test]
fn special_ids_past_the_vocabulary_are_named() {
    let dir = scratch("special");
    let data = qa(&dir);
    for key in ["bos_token_id", "eos_token_id", "pad_token_id"] {
        let m = bundle(&dir.join(key), |c| c[key] = 300.into(), false);
        fails_naming(&eval(&m, &data, &dir.join("r.json")), key);
        let o = probable(&[
            "generate",
            "--model",
            m.to_str().unwrap(),
            "--prompt-ids",
            "1,5",
        ]);
        fails_naming(&o, key);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn tokenizer_ids_past_the_embedding_are_blamed_on_the_tokenizer() {
    let dir = scratch("tokenizer");
    // 350 embedding rows; a tokenizer of 300 ids, one of them (" the") numbered 400.
    let m = bundle_with(
        &dir.join("m"),
        &CONFIG.replace("\"vocab_size\":300", "\"vocab_size\":350"),
        |_| {},
        false,
    );
    let tok = m.join("tokenizer.json");
    let mut t: serde_json::Value = serde_json::from_slice(&std::fs::read(&tok).unwrap()).unwrap();
    t["model"]["vocab"]["\u{120}the"] = 400.into();
    std::fs::write(&tok, t.to_string()).unwrap();
    let o = probable(&[
        "generate",
        "--model",
        m.to_str().unwrap(),
        "--prompt",
        "Where was the author born?",
    ]);
    fails_naming(&o, "--prompt");
    assert!(!String::from_utf8_lossy(&o.stderr).contains("--prompt-ids"));
    let data = dir.join("qa.jsonl");
    std::fs::write(
        &data,
        "{\"question\": \"Where was the author born?\", \"answer\": \"Rome.\"}\n",
    )
    .unwrap();
    let o = eval(&m, &data, &dir.join("r.json"));
    fails_naming(&o, "vocabulary");
    fails_naming(&o, "qa.jsonl");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn non_finite_logits_are_an_error_not_a_forgotten_answer() {
    let dir = scratch("nan");
    let m = bundle(&dir.join("m"), |_| {}, true);
    let o = probable(&[
        "generate",
        "--model",
        m.to_str().unwrap(),
        "--prompt-ids",
        "1,5",
    ]);
    let err = String::from_utf8_lossy(&o.stderr).to_lowercase();
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("non-finite") || err.contains("nan"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sampling_options_need_sampling() {
    let dir = scratch("topp");
    let m = bundle(&dir.join("m"), |_| {}, false);
    let m = m.to_str().unwrap();
    let o = probable(&[
        "generate",
        "--model",
        m,
        "--prompt-ids",
        "1,5",
        "--top-p",
        "2",
    ]);
    fails_naming(&o, "--temperature");
    let o = probable(&[
        "generate",
        "--model",
        m,
        "--prompt-ids",
        "1,5",
        "--temperature",
        "1",
        "--top-p",
        "2",
    ]);
    fails_naming(&o, "top-p");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn smaller_input_checks() {
    let dir = scratch("small");
    // An ED weight so large that ED overflows is refused, not printed as null.
    let scores = dir.join("s.txt");
    std::fs::write(&scores, "0.1\n0.9\n").unwrap();
    let o = probable(&[
        "bounds",
        "--lambda",
        "1.7e308",
        "--json",
        scores.to_str().unwrap(),
    ]);
    fails_naming(&o, "lambda");
    // Non-UTF-8 data names its line.
    let m = bundle(&dir.join("m"), |_| {}, false);
    let bad = dir.join("bad.jsonl");
    let mut bytes = b"{\"question\": \"q\", \"answer\": \"a b\"}\n".to_vec();
    bytes.extend(b"{\"question\": \"\xff\", \"answer\": \"a\"}\n");
    std::fs::write(&bad, bytes).unwrap();
    fails_naming(&eval(&m, &bad, &dir.join("r.json")), "bad.jsonl:2");
    // A JSONL file with a byte-order mark evaluates like the others.
    let bom = dir.join("bom.jsonl");
    std::fs::write(
        &bom,
        "\u{feff}{\"question\": \"Where?\", \"answer\": \"In Rome.\"}\n",
    )
    .unwrap();
    let o = eval(&m, &bom, &dir.join("r.json"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // An empty answer always scores 0 ("forgotten"): refused with its line.
    let empty = dir.join("empty.jsonl");
    std::fs::write(&empty, "{\"question\": \"Where?\", \"answer\": \"\"}\n").unwrap();
    fails_naming(&eval(&m, &empty, &dir.join("r.json")), "empty.jsonl:1");
    // A question too long for the model names the file and the question.
    let long = dir.join("long.jsonl");
    let q = "word ".repeat(4000);
    std::fs::write(
        &long,
        format!("{}\n", serde_json::json!({"question": q, "answer": "a"})),
    )
    .unwrap();
    let o = eval(&m, &long, &dir.join("r.json"));
    fails_naming(&o, "long.jsonl");
    fails_naming(&o, "question 0");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn export_never_replaces_a_directory_that_is_not_a_bundle() {
    let dir = scratch("export");
    let m = bundle(&dir.join("m"), |_| {}, false);
    let target = dir.join("notes");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join("notes.txt"), "mine").unwrap();
    let o = probable(&[
        "export",
        "--model",
        m.to_str().unwrap(),
        "--out",
        target.to_str().unwrap(),
    ]);
    fails_naming(&o, "not a model bundle");
    assert_eq!(
        std::fs::read_to_string(target.join("notes.txt")).unwrap(),
        "mine"
    );
    // A bundle directory is replaced as a whole, in one step.
    let out = dir.join("out");
    for dtype in ["f32", "f16"] {
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
    }
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert!(
        names
            .iter()
            .all(|n| !n.contains(".tmp-") && !n.contains(".old-")),
        "{names:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn score_refuses_empty_keywords() {
    let dir = scratch("score-kw");
    let g = dir.join("g.jsonl");
    let r = dir.join("r.jsonl");
    std::fs::write(&g, "{\"id\": 1, \"text\": \"born in Rome\"}\n").unwrap();
    std::fs::write(
        &r,
        "{\"id\": 1, \"answer\": \"Rome\", \"keywords\": [\"Rome\", \" , \"]}\n",
    )
    .unwrap();
    let o = probable(&[
        "score",
        "--generations",
        g.to_str().unwrap(),
        "--references",
        r.to_str().unwrap(),
        "--metric",
        "keyword",
    ]);
    fails_naming(&o, "r.jsonl:1");
    let _ = std::fs::remove_dir_all(&dir);
}
