//! Prompt formats end to end: `probable prompt`, `--template` on eval/generate/finetune,
//! the format a trained bundle records (and eval then uses), paraphrase variants with pooled
//! bounds, and the named errors of bad templates and data (exit 2).

use std::path::{Path, PathBuf};
use std::process::Output;

mod common;

use common::{probable_env, scratch, QUIET};

use probable_core::prompt::Prompt;
use probable_core::tokenizer::Tokenizer;
use serde_json::Value;

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// Exit status 2 and an `error:` line containing `want`.
fn fails(o: &Output, want: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "stderr: {err}");
    assert!(
        err.contains("error:") && err.contains(want),
        "want {want:?} in: {err}"
    );
}

fn fixture_tokenizer() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/tokenizer/tokenizer.json")
}

/// Our own small chat template (ChatML-like) over the fixture tokenizer's `<s>`/`</s>`.
const CHAT: &str = "{{ bos_token }}{% for m in messages %}<{{ m.role }}>{{ m.content | trim }}{{ eos_token }}\n{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}";

/// A 2-layer random Llama over the 300-id fixture tokenizer, with a chat template.
fn tiny_bundle(dir: &Path) {
    common::tiny_bundle(dir);
    std::fs::write(
        dir.join("tokenizer_config.json"),
        serde_json::json!({"bos_token": "<s>", "eos_token": {"content": "</s>"}, "chat_template": CHAT})
            .to_string(),
    )
    .unwrap();
}

fn tofu_like(dir: &Path) -> PathBuf {
    let path = dir.join("qa.jsonl");
    let rows = [
        (
            "Where was Mira Okonkwo born?",
            "In which city was Mira Okonkwo born?",
            "Mira Okonkwo was born in Lagos.",
        ),
        (
            "What genre does Tomas Lind write?",
            "Which genre is Tomas Lind known for?",
            "Tomas Lind writes historical fiction.",
        ),
        (
            "Which award did Anya Petrova win?",
            "What prize was Anya Petrova given?",
            "Anya Petrova won the Silver Quill Award.",
        ),
    ];
    let text: String = rows
        .iter()
        .map(|(q, p, a)| {
            format!(
                "{}\n",
                serde_json::json!({"question": q, "paraphrased_question": p, "answer": a})
            )
        })
        .collect();
    std::fs::write(&path, text).unwrap();
    path
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn eval(model: &Path, data: &Path, out: &Path, extra: &[&str]) -> Value {
    let mut args = vec![
        "eval",
        "--model",
        s(model),
        "--data",
        s(data),
        "--samples",
        "4",
        "--max-new-tokens",
        "6",
        "--out",
        s(out),
    ];
    args.extend_from_slice(extra);
    ok(&probable_env(&args, QUIET));
    read_json(out)
}

#[test]
fn prompt_prints_what_eval_feeds() {
    let dir = scratch("feeds");
    let model = dir.join("m");
    tiny_bundle(&model);
    let data = tofu_like(&dir);
    let tok = Tokenizer::from_json(&std::fs::read(fixture_tokenizer()).unwrap()).unwrap();
    let q = "Where was Mira Okonkwo born?";
    for (template, extra) in [
        ("qa", vec![]),
        ("phi", vec![]),
        ("llama2-chat", vec![]),
        ("raw", vec![]),
        (
            "chat",
            vec!["--system", "Be brief.", "--date-string", "1 Jan 2026"],
        ),
    ] {
        let mut args = vec![
            "prompt",
            "--model",
            s(&model),
            "--template",
            template,
            "--question",
            q,
            "--json",
        ];
        args.extend_from_slice(&extra);
        let printed: Value = serde_json::from_str(&ok(&probable_env(&args, QUIET))).unwrap();
        let out = dir.join(format!("{template}.json"));
        let mut eval_args = vec!["--template", template, "--limit", "1"];
        eval_args.extend_from_slice(&extra);
        let report = eval(&model, &data, &out, &eval_args);
        let used: Prompt = serde_json::from_value(report["config"]["template"].clone()).unwrap();
        assert_eq!(used.name(), template);
        let ids = used.encode_prompt(&tok, q, Some(1)).unwrap();
        let printed_ids: Vec<u32> = serde_json::from_value(printed["ids"].clone()).unwrap();
        assert_eq!(printed_ids, ids, "{template}");
        assert_eq!(printed["text"].as_str().unwrap(), used.render(q).unwrap());
    }
    let chat: Value = serde_json::from_str(&ok(&probable_env(
        &[
            "prompt",
            "--model",
            s(&model),
            "--template",
            "chat",
            "--question",
            q,
            "--json",
        ],
        QUIET,
    )))
    .unwrap();
    // Default system prompt; the template writes BOS itself, so it is not doubled.
    assert_eq!(
        chat["text"].as_str().unwrap(),
        format!("<s><system>You are a helpful assistant.</s>\n<user>{q}</s>\n<assistant>")
    );
    let ids = chat["ids"].as_array().unwrap();
    assert_eq!(ids[0], 1);
    assert_ne!(ids[1], 1);
    // Default without a record: qa, BOS first.
    let qa: Value = serde_json::from_str(&ok(&probable_env(
        &["prompt", "--model", s(&model), "--question", q, "--json"],
        QUIET,
    )))
    .unwrap();
    assert_eq!(qa["template"], "qa");
    assert_eq!(
        qa["text"].as_str().unwrap(),
        format!("Question: {q}\nAnswer:")
    );
    // generate wraps --prompt the same way.
    ok(&probable_env(
        &[
            "generate",
            "--model",
            s(&model),
            "--prompt",
            q,
            "--template",
            "chat",
            "--max-new-tokens",
            "3",
        ],
        QUIET,
    ));
}

#[test]
fn paraphrase_variants_have_their_own_streams_and_pooled_bounds() {
    let dir = scratch("variants");
    let model = dir.join("m");
    tiny_bundle(&model);
    let data = tofu_like(&dir);
    let single = eval(&model, &data, &dir.join("single.json"), &[]);
    let both = eval(
        &model,
        &data,
        &dir.join("both.json"),
        &["--prompts", "question,paraphrased_question"],
    );
    let rows = both["questions"].as_array().unwrap();
    assert_eq!(rows.len(), 6);
    assert_eq!(rows[0]["variant"], "question");
    assert_eq!(rows[1]["variant"], "paraphrased_question");
    assert_eq!(rows[1]["question"], "In which city was Mira Okonkwo born?");
    // The first variant reproduces the single-prompt run's samples exactly.
    for i in 0..3 {
        assert_eq!(rows[2 * i]["samples"], single["questions"][i]["samples"]);
    }
    let pooled = both["pooled"].as_array().unwrap();
    assert_eq!(pooled.len(), 3);
    assert_eq!(pooled[0]["bounds"]["n"], 8);
    assert!(both["pooled_summary"]["questions"] == 3);
    // Re-scoring recomputes the pooled bounds too: it equals a fresh run with the settings.
    let settings = ["--leak-threshold", "0.1", "--alpha", "0.05"];
    let mut fresh_args = vec!["--prompts", "question,paraphrased_question"];
    fresh_args.extend(settings);
    let fresh = eval(&model, &data, &dir.join("fresh.json"), &fresh_args);
    let rescored = dir.join("rescored.json");
    let base = dir.join("both.json");
    let mut args = vec!["report", "rescore", s(&base), "--out", s(&rescored)];
    args.extend(settings);
    ok(&probable_env(&args, QUIET));
    assert_eq!(read_json(&rescored), fresh);
    // A single paraphrase key is the same as --question-key.
    let para = eval(
        &model,
        &data,
        &dir.join("para.json"),
        &["--prompts", "paraphrased_question"],
    );
    let keyed = eval(
        &model,
        &data,
        &dir.join("keyed.json"),
        &["--question-key", "paraphrased_question"],
    );
    assert_eq!(para["questions"], keyed["questions"]);
    assert_eq!(
        para["questions"][0]["question"],
        "In which city was Mira Okonkwo born?"
    );
}

#[test]
fn a_trained_bundle_records_its_prompt_and_eval_uses_it() {
    let dir = scratch("record");
    let start = dir.join("start");
    tiny_bundle(&start);
    tofu_like(&dir);
    std::fs::rename(dir.join("qa.jsonl"), dir.join("full.jsonl")).unwrap();
    let toml = format!(
        "[model]\nfrom = \"{}\"\n[data]\npath = \"{}\"\nmax_length = 64\n[train]\nlr = 1e-3\nepochs = 1\nbatch_size = 4\n[prompt]\ntemplate = \"phi\"\n[output]\ndir = \"{}\"\n",
        s(&start),
        s(&dir),
        s(&dir.join("ft"))
    );
    std::fs::write(dir.join("ft.toml"), toml).unwrap();
    ok(&probable_env(
        &["finetune", "--config", s(&dir.join("ft.toml"))],
        QUIET,
    ));
    let record = read_json(&dir.join("ft/probable.json"));
    assert_eq!(record["prompt"]["name"], "phi");
    assert!(dir.join("ft/tokenizer_config.json").is_file());
    let report = eval(
        &dir.join("ft"),
        &dir.join("full.jsonl"),
        &dir.join("r.json"),
        &["--limit", "1"],
    );
    assert_eq!(report["config"]["template"]["name"], "phi");
    // The command line overrides the TOML; the chat template comes from the starting bundle.
    ok(&probable_env(
        &[
            "finetune",
            "--config",
            s(&dir.join("ft.toml")),
            "--template",
            "chat",
            "--system",
            "",
            "--set",
            &format!("output.dir={}", s(&dir.join("ft-chat"))),
        ],
        QUIET,
    ));
    let record = read_json(&dir.join("ft-chat/probable.json"));
    assert_eq!(record["prompt"]["kind"], "chat");
    assert_eq!(record["prompt"]["system"], Value::Null);
    let p: Value = serde_json::from_str(&ok(&probable_env(
        &[
            "prompt",
            "--model",
            s(&dir.join("ft-chat")),
            "--question",
            "Q?",
            "--json",
        ],
        QUIET,
    )))
    .unwrap();
    assert_eq!(p["text"], "<s><user>Q?</s>\n<assistant>");
}

#[test]
fn bad_templates_and_data_are_named_errors() {
    let dir = scratch("bad");
    let model = dir.join("m");
    tiny_bundle(&model);
    let data = tofu_like(&dir);
    let prompt = |t: &str| {
        probable_env(
            &[
                "prompt",
                "--model",
                s(&model),
                "--template",
                t,
                "--question",
                "Q",
            ],
            QUIET,
        )
    };
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let syntax = write(
        "syntax.jinja",
        "{% for m in messages %}\n{{ m.content + }}\n{% endfor %}",
    );
    fails(&prompt(&syntax), "syntax error at line 2, column");
    let raises = write(
        "raises.jinja",
        "{{ raise_exception('no system prompts here') }}",
    );
    fails(
        &prompt(&raises),
        "raised an exception: no system prompts here",
    );
    let no_place = write(
        "noplace.jinja",
        "{% for m in messages %}<{{ m.role }}>{% endfor %}",
    );
    fails(&prompt(&no_place), "has no place for the question");
    fails(&prompt("nonsense"), "unknown template `nonsense`");
    fails(
        &probable_env(
            &[
                "prompt",
                "--model",
                s(&model),
                "--template",
                "qa",
                "--system",
                "x",
                "--question",
                "Q",
            ],
            QUIET,
        ),
        "apply to chat templates",
    );
    // Eval reports them before loading anything, with exit 2 as well.
    fails(
        &probable_env(
            &[
                "eval",
                "--model",
                s(&model),
                "--data",
                s(&data),
                "--template",
                &syntax,
            ],
            QUIET,
        ),
        "syntax error at line 2",
    );
    fails(
        &probable_env(
            &[
                "eval",
                "--model",
                s(&model),
                "--data",
                s(&data),
                "--question-key",
                "nope",
            ],
            QUIET,
        ),
        "qa.jsonl:1: missing field `nope`",
    );
    fails(
        &probable_env(
            &[
                "eval",
                "--model",
                s(&model),
                "--data",
                s(&data),
                "--prompts",
                "question,paraphrase",
            ],
            QUIET,
        ),
        "qa.jsonl:1: missing field `paraphrase`",
    );
    let record = dir.join("m/probable.json");
    std::fs::write(&record, "{\"prompt\": 3}").unwrap();
    fails(
        &probable_env(&["prompt", "--model", s(&model), "--question", "Q"], QUIET),
        "probable.json: malformed",
    );
}
