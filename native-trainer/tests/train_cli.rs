//! Finetuning and unlearning end to end on CPU with a tiny model (seconds each).

use std::path::{Path, PathBuf};
use std::process::Output;

mod common;

use common::{probable, scratch};

fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// 16 QA pairs about 8 fictitious authors; forget25 = the last 4.
fn data(dir: &Path) {
    let names = [
        "Mira Okonkwo",
        "Tomas Lind",
        "Anya Petrova",
        "Li Wei",
        "Sara Haddad",
        "Jonas Berg",
        "Elena Rossi",
        "Kofi Mensah",
    ];
    let cities = [
        "Lagos", "Oslo", "Kyiv", "Chengdu", "Beirut", "Bergen", "Turin", "Accra",
    ];
    let genres = [
        "historical fiction",
        "poetry",
        "crime novels",
        "science fiction",
        "memoirs",
        "fantasy",
        "drama",
        "essays",
    ];
    let mut text = String::new();
    for i in 0..8 {
        let (n, c, g) = (names[i], cities[i], genres[i]);
        text += &format!(
            "{}\n",
            serde_json::json!({"question": format!("Where was {n} born?"), "answer": format!("{n} was born in {c}.")})
        );
        text += &format!(
            "{}\n",
            serde_json::json!({"question": format!("What does {n} write?"), "answer": format!("{n} writes {g}.")})
        );
    }
    std::fs::write(dir.join("full.jsonl"), text).unwrap();
}

fn config(dir: &Path) -> PathBuf {
    let tok =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/tokenizer/tokenizer.json");
    let text = format!(
        r#"[model]
tokenizer = "{tok}"
init_std = 0.05
[model.architecture]
model_type = "llama"
vocab_size = 300
hidden_size = 64
intermediate_size = 128
num_hidden_layers = 2
num_attention_heads = 4
num_key_value_heads = 2
max_position_embeddings = 128
bos_token_id = 1
eos_token_id = 2
pad_token_id = 0
[data]
path = "{data}"
split = "full"
forget_split = "forget25"
retain_split = "retain75"
max_length = 64
[train]
lr = 3e-3
epochs = 60
batch_size = 8
warmup_epochs = 2.0
seed = 1
[output]
dir = "{out}"
"#,
        tok = tok.display(),
        data = dir.display(),
        out = dir.join("ft").display()
    );
    let path = dir.join("tiny.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn log(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("train_log.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn eval(model: &Path, data: &Path, split: &str, out: &Path) -> serde_json::Value {
    ok(&probable(&[
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--split",
        split,
        "--samples",
        "8",
        "--max-new-tokens",
        "24",
        "--out",
        out.to_str().unwrap(),
    ]));
    serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap()
}

#[test]
fn finetune_memorises_then_unlearning_forgets() {
    let dir = scratch("memorise");
    data(&dir);
    let cfg = config(&dir);
    ok(&probable(&["finetune", "--config", cfg.to_str().unwrap()]));
    let ft = dir.join("ft");
    let full = dir.join("full.jsonl");
    let r = eval(&ft, &full, "full", &dir.join("ft.json"));
    let greedy = r["summary"]["mean_greedy_score"].as_f64().unwrap();
    assert!(
        greedy >= 0.9,
        "finetuning should memorise the answers: greedy ROUGE-L recall {greedy}"
    );

    let mut last_entropy = std::collections::HashMap::new();
    for (method, entropy) in [
        ("ga", "--no-entropy"),
        ("gd", "--no-entropy"),
        ("npo", "--no-entropy"),
        ("npo", "--entropy"),
    ] {
        let out = dir.join(format!("u-{method}{entropy}"));
        ok(&probable(&[
            "unlearn",
            "--config",
            cfg.to_str().unwrap(),
            "--method",
            method,
            entropy,
            "--set",
            &format!("model.from={}", ft.display()),
            "--set",
            &format!("output.dir={}", out.display()),
            "--set",
            "train.epochs=10",
            "--set",
            "train.lr=1e-3",
            "--set",
            "train.batch_size=4",
        ]));
        let lines = log(&out);
        let (first, last) = (&lines[0], lines.last().unwrap());
        let (f0, f1) = (
            first["forget_ce"].as_f64().unwrap(),
            last["forget_ce"].as_f64().unwrap(),
        );
        eprintln!("{method}{entropy}: forget CE {f0:.3} → {f1:.3}, last {last}");
        if method != "gd" && entropy == "--no-entropy" {
            assert!(
                f1 > f0 + 0.5,
                "{method}: forget loss should rise ({f0} → {f1})"
            );
        }
        if method != "ga" {
            let r1 = last["retain_ce"].as_f64().unwrap();
            assert!(r1 < 3.0, "{method}{entropy}: retain loss {r1} beyond bound");
        }
        last_entropy.insert(
            format!("{method}{entropy}"),
            last["forget_entropy"].as_f64().unwrap(),
        );
        // The unlearned bundle is a complete, loadable model.
        assert!(out.join("model.safetensors").exists() && out.join("tokenizer.json").exists());
    }
    let (on, off) = (
        last_entropy["npo--entropy"],
        last_entropy["npo--no-entropy"],
    );
    assert!(
        on < off,
        "entropy optimisation should lower H(forget): {on} vs {off}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn resume_reproduces_the_uninterrupted_loss_curve() {
    let dir = scratch("resume");
    data(&dir);
    let cfg = config(&dir);
    let set = |k: &str| vec!["--set".to_string(), k.to_string()];
    let mut common: Vec<String> = vec![
        "finetune".into(),
        "--config".into(),
        cfg.display().to_string(),
    ];
    common.extend(set("train.epochs=6"));
    common.extend(set("train.grad_accum=2"));
    common.extend(set("train.batch_size=4"));
    let run = |out: &Path, extra: &[&str]| {
        let mut a: Vec<String> = common.clone();
        a.extend(set(&format!("output.dir={}", out.display())));
        a.extend(extra.iter().map(|s| s.to_string()));
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        ok(&probable(&refs));
    };
    let (whole, parts) = (dir.join("whole"), dir.join("parts"));
    run(&whole, &[]);
    run(&parts, &["--stop-after", "5"]);
    assert_eq!(log(&parts).len(), 5);
    assert!(
        !parts.join("model.safetensors").exists(),
        "no final bundle after a stop"
    );
    run(&parts, &["--resume"]);
    let (a, b) = (log(&whole), log(&parts));
    assert_eq!(a.len(), 12);
    assert_eq!(
        a, b,
        "the resumed run must reproduce the loss curve step for step"
    );
    assert_eq!(
        std::fs::read(whole.join("model.safetensors")).unwrap(),
        std::fs::read(parts.join("model.safetensors")).unwrap()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_configs_are_named_errors() {
    let dir = scratch("bad");
    data(&dir);
    let cfg = config(&dir);
    let c = cfg.to_str().unwrap();
    for (args, mention) in [
        (
            vec!["finetune", "--config", c, "--set", "train.lrr=1"],
            "lrr",
        ),
        (
            vec!["finetune", "--config", c, "--set", "train.lr=-1"],
            "train.lr",
        ),
        (
            vec!["finetune", "--config", "/nonexistent.toml"],
            "/nonexistent.toml",
        ),
        (
            vec!["finetune", "--config", c, "--set", "data.split=forget0"],
            "forget0",
        ),
        (
            vec![
                "finetune",
                "--config",
                c,
                "--set",
                "model.tokenizer=/missing/tok.json",
            ],
            "/missing/tok.json",
        ),
        (
            vec![
                "unlearn",
                "--config",
                c,
                "--set",
                "model.from=/missing/bundle",
            ],
            "/missing/bundle",
        ),
        (
            vec!["finetune", "--config", c, "--set", "data.split=forget1"],
            "no rows",
        ),
    ] {
        let o = probable(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(mention),
            "{args:?} should mention {mention}: {err}"
        );
        assert!(!err.contains("panicked"));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn presets_parse() {
    for p in [
        "demo-unlearn",
        "phi",
        "phi-GA",
        "phi-GD",
        "phi-NPO",
        "tiny",
        "tiny-unlearn",
    ] {
        // Presets point at data that is not here: parsing succeeds, loading fails cleanly.
        let o = probable(&["finetune", "--config", p]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{p}: {err}");
        assert!(
            !err.contains("invalid configuration") && !err.contains("panicked"),
            "{p}: {err}"
        );
    }
}
