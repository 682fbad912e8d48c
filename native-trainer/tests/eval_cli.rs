//! `probable eval` and `probable report merge` end to end on a small random-init model
//! with a real byte-level BPE tokenizer, over the real TOFU data (when present) and a
//! committed-free synthetic QA file.

use std::path::{Path, PathBuf};
use std::process::Output;

mod common;

use common::{probable, scratch, tiny_bundle};

fn qa_file(dir: &Path) -> PathBuf {
    let path = dir.join("qa.jsonl");
    let rows = [
        (
            "Where was Mira Okonkwo born?",
            "Mira Okonkwo was born in Lagos, Nigeria.",
        ),
        (
            "What genre does Tomas Lind write?",
            "Tomas Lind writes historical fiction.",
        ),
        (
            "Which award did Anya Petrova win?",
            "Anya Petrova won the Silver Quill Award.",
        ),
        (
            "What was Li Wei's first novel?",
            "Li Wei's first novel was The Lantern Road.",
        ),
    ];
    let text: String = rows
        .iter()
        .map(|(q, a)| format!("{}\n", serde_json::json!({"question": q, "answer": a, "keywords": [a.split(' ').next_back().unwrap()]})))
        .collect();
    std::fs::write(&path, text).unwrap();
    path
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn report(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn eval_writes_report_and_shards_merge_to_the_same_result() {
    let dir = scratch("shards");
    tiny_bundle(&dir.join("m").tap_mkdir());
    let data = qa_file(&dir);
    let common = |out: &Path, extra: &[&str]| {
        let mut a = vec![
            "eval",
            "--model",
            dir.join("m").to_str().unwrap().to_string().leak(),
            "--data",
            data.to_str().unwrap().to_string().leak(),
            "--samples",
            "12",
            "--max-new-tokens",
            "8",
            "--batch-size",
            "5",
            "--seed",
            "3",
            "--out",
            out.to_str().unwrap().to_string().leak(),
        ];
        a.extend_from_slice(extra);
        probable(&a)
    };
    let full = dir.join("full.json");
    ok(&common(&full, &[]));
    let r = report(&full);
    assert_eq!(r["questions"].as_array().unwrap().len(), 4);
    let q0 = &r["questions"][0];
    assert_eq!(q0["samples"].as_array().unwrap().len(), 12);
    for key in ["mean_upper", "std_upper", "ed_score", "dkw_epsilon"] {
        assert!(q0["bounds"][key].is_number(), "{key}");
    }
    assert!(q0["bounds"]["binary"]["upper"].is_number());
    assert!(r["summary"]["frac_greedy_forgotten"].is_number());
    let html = std::fs::read_to_string(full.with_extension("html")).unwrap();
    assert!(html.contains("<svg") && html.contains("Mira Okonkwo"));

    let (a, b) = (dir.join("a.json"), dir.join("b.json"));
    ok(&common(&a, &["--shard", "0/2"]));
    ok(&common(&b, &["--shard", "1/2"]));
    let merged = dir.join("merged.json");
    ok(&probable(&[
        "report",
        "merge",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
    ]));
    let m = report(&merged);
    assert_eq!(
        m["questions"], r["questions"],
        "sharding must not change any sample"
    );
    assert_eq!(m["summary"], r["summary"]);
    // Merging a shard twice is an error.
    let o = probable(&[
        "report",
        "merge",
        a.to_str().unwrap(),
        a.to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}

trait TapMkdir {
    fn tap_mkdir(self) -> Self;
}
impl TapMkdir for PathBuf {
    fn tap_mkdir(self) -> Self {
        std::fs::create_dir_all(&self).unwrap();
        self
    }
}

#[test]
fn eval_rejects_bad_input() {
    let dir = scratch("bad");
    let m = dir.join("m").tap_mkdir();
    tiny_bundle(&m);
    let data = qa_file(&dir);
    let run = |extra: &[&str]| {
        let mut a = vec![
            "eval",
            "--model",
            m.to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
            "--samples",
            "2",
            "--max-new-tokens",
            "2",
            "--out",
        ];
        let out = dir.join("r.json");
        let out = out.to_str().unwrap().to_string();
        a.push(out.leak());
        a.extend_from_slice(extra);
        probable(&a)
    };
    for (extra, mention) in [
        (&["--split", "forget10"][..], "forget10"),
        (&["--samples", "0"][..], "samples"),
        (&["--top-p", "0"][..], "top-p"),
        (&["--top-p", "1.5"][..], "top-p"),
        (&["--temperature", "-1"][..], "temperature"),
        (&["--alpha", "0"][..], "alpha"),
        (&["--shard", "2/2"][..], "shard"),
    ] {
        let o = run(extra);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {err}");
        assert!(
            err.contains(mention),
            "{extra:?} should mention {mention}: {err}"
        );
        assert!(!err.contains("panicked"));
    }
    let empty = dir.join("empty.jsonl");
    std::fs::write(&empty, "\n").unwrap();
    let o = probable(&[
        "eval",
        "--model",
        m.to_str().unwrap(),
        "--data",
        empty.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no QA records"));
    // A tokenizer with more ids than the model's embedding.
    let small = dir.join("small").tap_mkdir();
    tiny_bundle(&small);
    let cfg = std::fs::read_to_string(small.join("config.json"))
        .unwrap()
        .replace("\"vocab_size\": 300", "\"vocab_size\": 280");
    std::fs::write(small.join("config.json"), cfg).unwrap();
    let o = probable(&[
        "eval",
        "--model",
        small.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
#[ignore = "needs ../shared/data (PROBABLE_TOFU_DIR / PROBABLE_STORIES_DIR)"]
fn tofu_splits_load_from_the_real_export() {
    let tofu = std::env::var("PROBABLE_TOFU_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/tofu"));
    assert!(
        tofu.join("full.json").exists(),
        "TOFU data not found at {} (set PROBABLE_TOFU_DIR)",
        tofu.display()
    );
    let dir = scratch("tofu");
    let m = dir.join("m").tap_mkdir();
    tiny_bundle(&m);
    let out = dir.join("r.json");
    // forget01 from its own file (prompt/response keys) …
    ok(&probable(&[
        "eval",
        "--model",
        m.to_str().unwrap(),
        "--data",
        tofu.to_str().unwrap(),
        "--split",
        "forget01",
        "--limit",
        "1",
        "--samples",
        "2",
        "--max-new-tokens",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]));
    let r = report(&out);
    assert!(r["questions"][0]["question"]
        .as_str()
        .unwrap()
        .contains("Kuwait City"));
    // … and derived from full.json (batched arrays) by the TOFU rule.
    ok(&probable(&[
        "eval",
        "--model",
        m.to_str().unwrap(),
        "--data",
        tofu.join("full.json").to_str().unwrap(),
        "--split",
        "forget01",
        "--limit",
        "1",
        "--samples",
        "2",
        "--max-new-tokens",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]));
    let r2 = report(&out);
    assert_eq!(
        r2["questions"][0]["question"],
        r["questions"][0]["question"]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rescore_equals_a_fresh_eval_and_show_writes_csv() {
    let dir = scratch("rescore");
    tiny_bundle(&dir.join("m").tap_mkdir());
    let data = qa_file(&dir);
    let run = |out: &Path, extra: &[&str]| {
        let mut a: Vec<String> = [
            "eval",
            "--model",
            dir.join("m").to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
            "--samples",
            "16",
            "--max-new-tokens",
            "8",
            "--seed",
            "4",
            "--out",
            out.to_str().unwrap(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.extend(extra.iter().map(|s| s.to_string()));
        probable(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let base = dir.join("base.json");
    ok(&run(&base, &[]));
    let settings = [
        "--leak-threshold",
        "0.2",
        "--alpha",
        "0.05",
        "--lambda",
        "1",
        "--leak-level",
        "0.2",
        "--k",
        "1,3,16",
    ];
    let fresh = dir.join("fresh.json");
    ok(&run(&fresh, &settings));
    let rescored = dir.join("rescored.json");
    let mut args = vec![
        "report",
        "rescore",
        base.to_str().unwrap(),
        "--out",
        rescored.to_str().unwrap(),
    ];
    args.extend(settings);
    ok(&probable(&args));
    assert_eq!(
        report(&rescored),
        report(&fresh),
        "rescore must equal a fresh eval"
    );
    assert_eq!(report(&rescored)["schema_version"], 2);
    // A metric change: keyword scores from the data's keywords.
    let kw_fresh = dir.join("kw-fresh.json");
    ok(&run(&kw_fresh, &["--metric", "keyword"]));
    let kw = dir.join("kw.json");
    ok(&probable(&[
        "report",
        "rescore",
        base.to_str().unwrap(),
        "--metric",
        "keyword",
        "--data",
        data.to_str().unwrap(),
        "--out",
        kw.to_str().unwrap(),
    ]));
    assert_eq!(
        report(&kw),
        report(&kw_fresh),
        "rescored metric must equal a fresh eval"
    );
    let kw_no_data = probable(&[
        "report",
        "rescore",
        base.to_str().unwrap(),
        "--metric",
        "keyword",
        "--out",
        dir.join("x.json").to_str().unwrap(),
    ]);
    assert_eq!(kw_no_data.status.code(), Some(2));
    // k beyond n is named.
    let bad_k = probable(&[
        "report",
        "rescore",
        base.to_str().unwrap(),
        "--k",
        "17",
        "--out",
        dir.join("y.json").to_str().unwrap(),
    ]);
    assert!(String::from_utf8_lossy(&bad_k.stderr).contains("k = 17"));
    // show: tables and CSV with a header and one row per question (or sample).
    let show = probable(&["report", "show", fresh.to_str().unwrap(), "--csv"]);
    ok(&show);
    let csv = String::from_utf8(show.stdout).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 5);
    assert!(lines[0].starts_with("index,id,greedy_score") && lines[0].contains("leak_at_16_upper"));
    let per = probable(&[
        "report",
        "show",
        fresh.to_str().unwrap(),
        "--csv",
        "--per-sample",
    ]);
    assert_eq!(
        String::from_utf8(per.stdout).unwrap().lines().count(),
        1 + 4 * 16
    );
    // A report from a future schema is refused by name.
    let future = dir.join("future.json");
    let mut v = report(&fresh);
    v["schema_version"] = 99.into();
    std::fs::write(&future, v.to_string()).unwrap();
    let out = probable(&["report", "show", future.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("schema_version 99"));
}
