//! `probable eval --sequential`: questions sampled in rounds and stopped at their
//! anytime-valid verdict, on a tiny random model (whose answers never leak).

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

use common::{probable, scratch};
use probable_core::stats::{first_decision, SequentialConfig};

/// A tiny bundle and 5 questions.
fn setup(dir: &Path) -> (PathBuf, PathBuf) {
    common::tiny_eval_setup(dir, 5)
}

fn args(m: &Path, data: &Path, out: &Path, extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = [
        "eval",
        "--model",
        m.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--max-new-tokens",
        "6",
        "--seed",
        "3",
        "--leak-level",
        "0.3",
        "--out",
        out.to_str().unwrap(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn err(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const SEQUENTIAL: [&str; 5] = ["--sequential", "--max-samples", "200", "--round", "7"];

#[test]
fn stops_each_question_at_the_first_decided_sample_of_the_fixed_n_streams() {
    let dir = scratch("prefix");
    let (m, data) = setup(&dir);
    let fixed = dir.join("fixed.json");
    let o = probable(&args(&m, &data, &fixed, &["--samples", "200"]));
    assert!(o.status.success(), "{}", err(&o));
    let seq = dir.join("seq.json");
    let o = probable(&args(&m, &data, &seq, &SEQUENTIAL));
    assert!(o.status.success(), "{}", err(&o));
    let (fixed, seq) = (json(&fixed), json(&seq));
    let test = SequentialConfig::new(0.01, 0.5, 0.3);
    let mut used = 0u64;
    for (f, s) in fixed["questions"]
        .as_array()
        .unwrap()
        .iter()
        .zip(seq["questions"].as_array().unwrap())
    {
        assert_eq!(f["index"], s["index"]);
        assert_eq!(f["greedy"], s["greedy"], "the same greedy answer");
        let scores: Vec<f64> = f["samples"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["score"].as_f64().unwrap())
            .collect();
        let expected = first_decision(&scores, &test).unwrap();
        let stop = &s["sequential"];
        assert_eq!(stop["stopped_at"].as_u64().unwrap(), expected.stopped_at);
        assert_eq!(
            stop["verdict"].as_str().unwrap(),
            serde_json::to_value(expected.verdict).unwrap()
        );
        let n = expected.stopped_at as usize;
        // The samples used are the first n of the fixed-n run: the same random streams.
        assert_eq!(s["samples"].as_array().unwrap().len(), n);
        assert_eq!(
            s["samples"].as_array().unwrap()[..],
            f["samples"].as_array().unwrap()[..n]
        );
        // The bounds are the confidence sequence's, never Clopper–Pearson's at the stop.
        let cs = stop["leak_probability"]["upper"].as_f64().unwrap();
        assert_eq!(s["bounds"]["binary"]["upper"].as_f64().unwrap(), cs);
        assert_ne!(
            f["bounds"]["binary"]["upper"],
            s["bounds"]["binary"]["upper"]
        );
        used += n as u64;
    }
    let summary = &seq["summary"]["sequential"];
    assert_eq!(summary["samples_used"].as_u64().unwrap(), used);
    assert_eq!(summary["budget"].as_u64().unwrap(), 200);
    assert!(
        used < 5 * 200,
        "the random model never leaks: every question stops early"
    );
}

#[test]
fn a_killed_sequential_eval_resumes_to_the_identical_report() {
    let dir = scratch("resume");
    let (m, data) = setup(&dir);
    let whole = dir.join("whole.json");
    let o = probable(&args(&m, &data, &whole, &SEQUENTIAL));
    assert!(o.status.success(), "{}", err(&o));
    let part = dir.join("part.json");
    let o = Command::new(env!("CARGO_BIN_EXE_probable"))
        .args(args(&m, &data, &part, &SEQUENTIAL))
        .env("PROBABLE_FAILPOINT", "eval:2")
        .output()
        .unwrap();
    assert_eq!(o.status.signal(), Some(9), "{}", err(&o));
    let o = probable(&args(
        &m,
        &data,
        &part,
        &[&SEQUENTIAL[..], &["--resume"]].concat(),
    ));
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(json(&whole)["questions"], json(&part)["questions"]);
    assert_eq!(json(&whole)["summary"], json(&part)["summary"]);
}

#[test]
fn rescore_refuses_a_sequential_report() {
    let dir = scratch("rescore");
    let (m, data) = setup(&dir);
    let seq = dir.join("seq.json");
    let o = probable(&args(&m, &data, &seq, &SEQUENTIAL));
    assert!(o.status.success(), "{}", err(&o));
    // The report itself reads back (stored-number checks accept its stopped rows).
    let o = probable(&["report", "show", seq.to_str().unwrap()]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("samples"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let out = dir.join("re.json");
    let o = probable(&[
        "report",
        "rescore",
        seq.to_str().unwrap(),
        "--leak-level",
        "0.2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(err(&o).contains("sequential"), "{}", err(&o));
    assert!(!out.exists());
}

#[test]
fn options_it_cannot_honour_are_named_before_sampling() {
    let dir = scratch("bad");
    let (m, data) = setup(&dir);
    let out = dir.join("r.json");
    for (extra, needle) in [
        (vec!["--sequential"], "--max-samples"),
        (vec!["--max-samples", "10"], "--sequential"),
        (
            vec!["--sequential", "--max-samples", "10", "--round", "0"],
            "round 0",
        ),
        (
            vec!["--sequential", "--max-samples", "10", "--samples", "10"],
            "--samples",
        ),
        (
            vec!["--sequential", "--max-samples", "10", "--leak-level", "0"],
            "leak level",
        ),
    ] {
        let mut a = args(&m, &data, &out, &extra);
        if extra.contains(&"--leak-level") {
            // clap refuses a repeated flag: drop the helper's own --leak-level.
            let i = a.iter().position(|x| x == "--leak-level").unwrap();
            a.drain(i..i + 2);
        }
        let o = probable(&a);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {}", err(&o));
        assert!(err(&o).contains(needle), "{extra:?}: {}", err(&o));
        assert!(!out.exists());
        let journal = dir.join("r.json.journal.jsonl");
        assert!(!journal.exists(), "{extra:?}: nothing journaled");
    }
}
