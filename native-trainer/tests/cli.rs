//! The command-line contract of `probable bounds`, `probable rouge` and `probable score`.
//!
//! Every bad input must exit with status 2, print an `error:` line on stderr that names the
//! file and line at fault where there is one, and never panic. Happy paths check the shape
//! of the JSON (and table) output.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

mod common;

use common::{probable_command, probable_stdin, scratch};

// ---------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------

/// A fresh directory under the system temp dir, unique per test process and call, removed
/// when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        Self(scratch(&format!(
            "{}-{tag}",
            NEXT.fetch_add(1, Ordering::Relaxed)
        )))
    }

    /// Writes `contents` to `name` in the scratch dir and returns its path as a string.
    fn file(&self, name: &str, contents: &str) -> String {
        let path = self.0.join(name);
        fs::write(&path, contents).expect("write test input");
        path.to_str().expect("utf-8 temp path").to_string()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn listing(&self) -> BTreeSet<String> {
        fs::read_dir(&self.0)
            .expect("list scratch dir")
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    args: Vec<String>,
}

/// Runs `probable ARGS`, feeding `stdin` (or nothing: an empty, closed stdin).
fn cli(args: &[&str], stdin: Option<&str>) -> Run {
    let out = probable_stdin(args, stdin);
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        args: args.iter().map(|s| s.to_string()).collect(),
    }
}

impl Run {
    fn context(&self) -> String {
        format!(
            "probable {:?}\n  exit: {:?}\n  stdout: {}\n  stderr: {}",
            self.args, self.code, self.stdout, self.stderr
        )
    }

    fn assert_no_panic(&self) {
        assert!(
            !self.stderr.contains("panicked"),
            "panic!\n{}",
            self.context()
        );
    }

    /// Exit status 2, an `error:` line that contains every needle, no panic.
    fn assert_error(&self, needles: &[&str]) -> &Self {
        self.assert_no_panic();
        assert_eq!(self.code, Some(2), "expected exit 2\n{}", self.context());
        let line = self
            .stderr
            .lines()
            .find(|l| l.starts_with("error:"))
            .unwrap_or_else(|| panic!("no `error:` line on stderr\n{}", self.context()));
        for needle in needles {
            assert!(
                self.stderr.contains(needle),
                "stderr should mention `{needle}` (error line: {line})\n{}",
                self.context()
            );
        }
        self
    }

    fn assert_ok(&self) -> &Self {
        self.assert_no_panic();
        assert_eq!(self.code, Some(0), "expected success\n{}", self.context());
        self
    }

    fn json(&self) -> Value {
        serde_json::from_str(self.stdout.trim())
            .unwrap_or_else(|e| panic!("stdout is not one JSON value: {e}\n{}", self.context()))
    }
}

fn num(v: &Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("`{key}` should be a number in {v}"))
}

// ---------------------------------------------------------------------------------------
// bounds: bad input
// ---------------------------------------------------------------------------------------

#[test]
fn bounds_rejects_non_numeric_line_naming_file_and_line() {
    let s = Scratch::new("nonnum");
    let f = s.file("scores.txt", "0.1\n0.2\n# comment\nabc\n0.3\n");
    cli(&["bounds", &f], None).assert_error(&[&format!("{f}:4"), "abc"]);
    // Standard input is named too.
    cli(&["bounds", "-"], Some("0.5\nnope\n")).assert_error(&["<stdin>:2", "nope"]);
    cli(&["bounds"], Some("0.5\n0.5 0.6\n")).assert_error(&["<stdin>:2"]);
}

#[test]
fn bounds_rejects_scores_outside_the_unit_interval() {
    let s = Scratch::new("range");
    let cases = [
        ("above.txt", "0.5\n1.5\n", 2, "1.5"),
        ("below.txt", "-0.2\n0.5\n", 1, "-0.2"),
        ("nan.txt", "0.1\n0.2\nNaN\n", 3, "NaN"),
        ("inf.txt", "inf\n", 1, "inf"),
        ("neg_inf.txt", "0.3\n-inf\n", 2, "inf"),
    ];
    for (name, text, line, shown) in cases {
        let f = s.file(name, text);
        cli(&["bounds", &f], None).assert_error(&[&format!("{f}:{line}"), shown]);
        cli(&["bounds", "--json", &f], None).assert_error(&[&format!("{f}:{line}")]);
    }
}

#[test]
fn bounds_rejects_invalid_alpha() {
    let scores = "0.1\n0.5\n0.9\n";
    for a in ["0", "1", "abc", "1.5", "nan", "inf"] {
        cli(&["bounds", "--alpha", a], Some(scores)).assert_error(&["alpha"]);
    }
    // A negative α, in both spellings.
    cli(&["bounds", "--alpha=-0.1"], Some(scores)).assert_error(&["alpha"]);
    cli(&["bounds", "--alpha", "-0.1"], Some(scores)).assert_error(&["alpha"]);
}

#[test]
fn negative_values_after_a_space_are_reported_as_values() {
    let scores = "0.1\n0.5\n0.9\n";
    cli(&["bounds", "--alpha", "-0.1"], Some(scores)).assert_error(&["alpha", "-0.1"]);
    cli(&["bounds", "--lambda", "-1"], Some(scores)).assert_error(&["lambda", "-1"]);
    cli(&["bounds", "--leak-threshold", "-0.5"], Some(scores))
        .assert_error(&["leak-threshold", "-0.5"]);
}

#[test]
fn bounds_rejects_invalid_lambda_and_threshold() {
    let scores = "0.1\n0.5\n0.9\n";
    cli(&["bounds", "--lambda=-1"], Some(scores)).assert_error(&["lambda"]);
    cli(&["bounds", "--lambda", "x"], Some(scores)).assert_error(&["lambda"]);
    cli(&["bounds", "--leak-threshold", "1.5"], Some(scores)).assert_error(&["leak-threshold"]);
    cli(&["bounds", "--leak-threshold", "nan"], Some(scores)).assert_error(&["leak-threshold"]);
}

#[test]
fn bounds_rejects_no_scores() {
    let s = Scratch::new("empty");
    let empty = s.file("empty.txt", "");
    cli(&["bounds", &empty], None).assert_error(&[&empty, "n = 0"]);
    let comments = s.file("comments.txt", "# only\n\n   \n# comments\n");
    cli(&["bounds", &comments], None).assert_error(&[&comments, "n = 0"]);
    cli(&["bounds", "--json"], Some("")).assert_error(&["<stdin>", "n = 0"]);
}

#[test]
fn bounds_rejects_missing_file() {
    let s = Scratch::new("missing");
    let missing = s.path("does-not-exist.txt");
    let missing = missing.to_str().unwrap();
    cli(&["bounds", missing], None).assert_error(&[missing]);
    // Not text, and not a file.
    let binary = s.path("binary.txt");
    fs::write(&binary, b"\xff\xfe0.5\n").unwrap();
    let binary = binary.to_str().unwrap();
    cli(&["bounds", binary], None).assert_error(&[binary, "UTF-8"]);
    let dir = s.0.to_str().unwrap();
    cli(&["bounds", dir], None).assert_error(&[dir]);
}

// ---------------------------------------------------------------------------------------
// bounds: happy paths
// ---------------------------------------------------------------------------------------

const BOUNDS_KEYS: [&str; 10] = [
    "n",
    "alpha",
    "sample_mean",
    "sample_std",
    "mean_lower",
    "mean_upper",
    "std_lower",
    "std_upper",
    "ed_score",
    "dkw_epsilon",
];

fn check_bounds_json(v: &Value, n: usize, alpha: f64) {
    for key in BOUNDS_KEYS {
        assert!(v[key].is_number(), "`{key}` missing or not a number in {v}");
    }
    assert_eq!(v["n"].as_u64(), Some(n as u64), "{v}");
    assert_eq!(num(v, "alpha"), alpha, "{v}");
    let (lo, mean, hi) = (
        num(v, "mean_lower"),
        num(v, "sample_mean"),
        num(v, "mean_upper"),
    );
    assert!(0.0 <= lo && lo <= mean && mean <= hi && hi <= 1.0, "{v}");
    assert!(num(v, "std_lower") <= num(v, "std_upper"), "{v}");
    assert!(num(v, "ed_score") >= hi, "{v}");
    let eps = ((1.0 / alpha).ln() / (2.0 * n as f64)).sqrt();
    assert!((num(v, "dkw_epsilon") - eps).abs() < 1e-12, "{v}");
}

#[test]
fn bounds_json_on_stdin_has_the_documented_keys() {
    let scores = "0.1\n0.25\n\n# a comment\n0.4\n0.9\n0.0\n1.0\n0.6\n0.3\n";
    let r = cli(&["bounds", "--json", "--alpha", "0.05"], Some(scores));
    r.assert_ok();
    let v = r.json();
    check_bounds_json(&v, 8, 0.05);
    assert!((num(&v, "sample_mean") - 3.55 / 8.0).abs() < 1e-12, "{v}");
    // Not all 0/1 and no --leak-threshold: no binary bound.
    assert!(v.get("binary").is_none(), "{v}");
    // `-` is standard input as well.
    let r2 = cli(&["bounds", "--json", "--alpha", "0.05", "-"], Some(scores));
    assert_eq!(r2.assert_ok().json(), v);
}

#[test]
fn bounds_json_binary_iff_binary_scores_or_threshold() {
    // All scores 0/1: M_bin appears without a threshold.
    let r = cli(&["bounds", "--json"], Some("0\n1\n0\n0\n1.0\n0.0\n"));
    let v = r.assert_ok().json();
    check_bounds_json(&v, 6, 0.01);
    let b = &v["binary"];
    assert_eq!(b["leaks"].as_u64(), Some(2), "{v}");
    let (lo, hi) = (num(b, "lower"), num(b, "upper"));
    assert!(
        (0.0..=2.0 / 6.0).contains(&lo) && (2.0 / 6.0..=1.0).contains(&hi),
        "{v}"
    );

    // Zero leaks: the upper bound is 1 − α^(1/n).
    let r = cli(
        &["bounds", "--json", "--alpha", "0.1"],
        Some("0\n0\n0\n0\n"),
    );
    let b = r.assert_ok().json()["binary"].clone();
    assert_eq!(b["leaks"].as_u64(), Some(0));
    assert_eq!(num(&b, "lower"), 0.0);
    assert!(
        (num(&b, "upper") - (1.0 - 0.1f64.powf(0.25))).abs() < 1e-12,
        "{b}"
    );

    // Non-binary scores with a threshold: a leak is a score ≥ τ.
    let scores = "0.1\n0.5\n0.7\n0.2\n";
    let r = cli(
        &["bounds", "--json", "--leak-threshold", "0.5"],
        Some(scores),
    );
    let v = r.assert_ok().json();
    assert_eq!(v["binary"]["leaks"].as_u64(), Some(2), "{v}");
    for key in ["leaks", "lower", "upper"] {
        assert!(v["binary"][key].is_number(), "binary.{key} missing in {v}");
    }
    // … and without one: none.
    let r = cli(&["bounds", "--json"], Some(scores));
    assert!(r.assert_ok().json().get("binary").is_none());
}

#[test]
fn bounds_table_mentions_the_key_quantities() {
    let s = Scratch::new("table");
    let f = s.file("scores.txt", "0.1\n0.2\n0.3\n0.9\n");
    let r = cli(&["bounds", "--alpha", "0.05", &f], None);
    r.assert_ok();
    let out = &r.stdout;
    for needle in [
        "samples n",
        "sample mean / std",
        "max score",
        "M_mu",
        "M_sigma",
        "ED",
        "DKW epsilon",
        "95%",
    ] {
        assert!(out.contains(needle), "table lacks `{needle}`:\n{out}");
    }
    assert!(!out.contains("M_bin"), "no binary bound expected:\n{out}");
    // The numbers in the table are the JSON's, rounded to 4 places.
    let v = cli(&["bounds", "--json", "--alpha", "0.05", &f], None).json();
    for key in ["mean_upper", "ed_score", "dkw_epsilon"] {
        let shown = format!("{:.4}", num(&v, key));
        assert!(out.contains(&shown), "table lacks {key} = {shown}:\n{out}");
    }
    let r = cli(&["bounds"], Some("1\n0\n0\n"));
    assert!(r.assert_ok().stdout.contains("M_bin"), "{}", r.stdout);
    assert!(r.stdout.contains("1 of 3 leak"), "{}", r.stdout);
}

// ---------------------------------------------------------------------------------------
// rouge
// ---------------------------------------------------------------------------------------

#[test]
fn rouge_recall_is_over_the_reference() {
    let r = cli(
        &[
            "rouge",
            "--reference",
            "a b c d",
            "--prediction",
            "a b",
            "--json",
        ],
        None,
    );
    let v = r.assert_ok().json();
    assert!((num(&v, "recall") - 0.5).abs() < 1e-12, "{v}");
    assert!((num(&v, "precision") - 1.0).abs() < 1e-12, "{v}");
    assert!((num(&v, "fmeasure") - 2.0 / 3.0).abs() < 1e-12, "{v}");

    let r = cli(
        &["rouge", "--reference", "a b c d", "--prediction", "a b"],
        None,
    );
    let out = &r.assert_ok().stdout;
    assert!(
        out.contains("recall 0.500000") && out.contains("precision 1.000000"),
        "{out}"
    );
}

#[test]
fn rouge_requires_both_texts() {
    cli(&["rouge", "--reference", "a b"], None).assert_error(&["--prediction"]);
    cli(&["rouge", "--prediction", "a b"], None).assert_error(&["--reference"]);
}

// ---------------------------------------------------------------------------------------
// score: bad input
// ---------------------------------------------------------------------------------------

const REFS: &str = r#"{"id": "q1", "answer": "Paris is the capital of France", "keywords": ["Paris"]}
{"id": "q2", "answer": "Blue whales are the largest animals", "keywords": ["blue whale"]}
"#;

const GENS: &str = r#"{"id": "q1", "text": "The capital of France is Paris"}
{"id": "q1", "text": "I do not know"}
{"id": "q1", "text": "Paris"}
{"id": "q2", "text": "The largest animal is the blue whale"}
{"id": "q2", "text": "Elephants"}
"#;

fn score(s: &Scratch, gens: &str, refs: &str, extra: &[&str]) -> (Run, String, String) {
    let g = s.file("gens.jsonl", gens);
    let r = s.file("refs.jsonl", refs);
    let mut args = vec!["score", "--generations", &g, "--references", &r];
    args.extend_from_slice(extra);
    (cli(&args, None), g, r)
}

#[test]
fn score_rejects_malformed_generations_line() {
    let s = Scratch::new("badgen");
    let gens = format!("{GENS}{{\"id\": \"q2\", \"text\": \n");
    let (run, g, _) = score(&s, &gens, REFS, &[]);
    run.assert_error(&[&format!("{g}:6"), "malformed"]);
}

#[test]
fn score_rejects_malformed_references_line() {
    let s = Scratch::new("badref");
    let refs = format!("{REFS}\nnot json at all\n");
    let (run, _, r) = score(&s, GENS, &refs, &[]);
    // Line 3 is blank (skipped, but still counted); line 4 is the bad one.
    run.assert_error(&[&format!("{r}:4"), "malformed"]);
    // A record without the required `answer` field is malformed too.
    let refs = "{\"id\": \"q1\", \"answer\": \"x\"}\n{\"id\": \"q2\"}\n";
    let (run, _, r) = score(&s, GENS, refs, &[]);
    run.assert_error(&[&format!("{r}:2")]);
}

#[test]
fn score_rejects_generation_without_reference() {
    let s = Scratch::new("noref");
    let gens = format!("{GENS}{{\"id\": \"q3\", \"text\": \"orphan\"}}\n");
    let (run, g, _) = score(&s, &gens, REFS, &[]);
    run.assert_error(&[&format!("{g}:6"), "q3"]);
}

#[test]
fn score_rejects_reference_without_generations() {
    let s = Scratch::new("nogen");
    let refs = format!("{REFS}{{\"id\": \"q9\", \"answer\": \"unused\"}}\n");
    let (run, _, r) = score(&s, GENS, &refs, &[]);
    run.assert_error(&[&format!("{r}:3"), "q9"]);
}

#[test]
fn score_rejects_ids_that_are_neither_strings_nor_numbers() {
    let s = Scratch::new("badid");
    let gens = format!("{GENS}{{\"id\": true, \"text\": \"x\"}}\n");
    let (run, g, _) = score(&s, &gens, REFS, &[]);
    run.assert_error(&[&format!("{g}:6"), "id"]);
    let refs = format!("{REFS}{{\"id\": [1], \"answer\": \"x\"}}\n");
    let (run, _, r) = score(&s, GENS, &refs, &[]);
    run.assert_error(&[&format!("{r}:3"), "id"]);
}

#[test]
fn score_rejects_duplicate_reference_id() {
    let s = Scratch::new("dupref");
    let refs = format!("{REFS}{{\"id\": \"q1\", \"answer\": \"again\"}}\n");
    let (run, _, r) = score(&s, GENS, &refs, &[]);
    run.assert_error(&[&format!("{r}:3"), "q1", "line 1"]);
}

#[test]
fn score_keyword_metric_needs_keywords() {
    let s = Scratch::new("nokw");
    let refs = "{\"id\": \"q1\", \"answer\": \"Paris\", \"keywords\": [\"Paris\"]}\n\
                {\"id\": \"q2\", \"answer\": \"Blue whales\"}\n";
    let (run, _, r) = score(&s, GENS, refs, &["--metric", "keyword"]);
    run.assert_error(&[&format!("{r}:2"), "keyword"]);
    // An explicitly empty list is just as bad.
    let refs = "{\"id\": \"q1\", \"answer\": \"Paris\", \"keywords\": []}\n\
                {\"id\": \"q2\", \"answer\": \"Blue whales\", \"keywords\": [\"whale\"]}\n";
    let (run, _, r) = score(&s, GENS, refs, &["--metric", "keyword"]);
    run.assert_error(&[&format!("{r}:1"), "keyword"]);
}

#[test]
fn score_metric_score_rejects_bad_scores() {
    let s = Scratch::new("badscore");
    let ok = r#"{"id": 1, "score": 0.5}"#;
    let cases: [(&[&str], usize); 5] = [
        (&[ok, r#"{"id": 1, "score": "high"}"#], 2),
        (&[ok, r#"{"id": 1}"#], 2),
        (&[r#"{"id": 1, "score": 1.5}"#], 1),
        (&[ok, ok, r#"{"id": 1, "score": -0.01}"#], 3),
        (&[ok, r#"{"id": 1, "score": null}"#], 2),
    ];
    for (lines, line) in cases {
        let g = s.file("scores.jsonl", &(lines.join("\n") + "\n"));
        cli(&["score", "--generations", &g, "--metric", "score"], None)
            .assert_error(&[&format!("{g}:{line}"), "score"]);
    }
}

#[test]
fn score_rejects_missing_files_and_bad_alpha() {
    let s = Scratch::new("scoremissing");
    let refs = s.file("refs.jsonl", REFS);
    let gens = s.file("gens.jsonl", GENS);
    let missing = s.path("nope.jsonl");
    let missing = missing.to_str().unwrap();
    cli(
        &["score", "--generations", missing, "--references", &refs],
        None,
    )
    .assert_error(&[missing]);
    cli(
        &["score", "--generations", &gens, "--references", missing],
        None,
    )
    .assert_error(&[missing]);
    for a in ["0", "1", "-0.1", "abc"] {
        let flag = format!("--alpha={a}");
        cli(
            &[
                "score",
                "--generations",
                &gens,
                "--references",
                &refs,
                &flag,
            ],
            None,
        )
        .assert_error(&["alpha"]);
    }
    // Rouge and keyword metrics need references.
    cli(&["score", "--generations", &gens], None).assert_error(&["--references"]);
    // No generations at all (n = 0).
    let empty = s.file("empty.jsonl", "\n");
    cli(
        &["score", "--generations", &empty, "--metric", "score"],
        None,
    )
    .assert_error(&[&empty]);
}

// ---------------------------------------------------------------------------------------
// score: happy paths
// ---------------------------------------------------------------------------------------

fn check_report(report: &Value, metric: &str, expect: &[(&str, usize)]) {
    assert_eq!(report["metric"].as_str(), Some(metric), "{report}");
    let entries = report["entries"].as_array().expect("entries array");
    let ids: Vec<(&str, usize)> = entries
        .iter()
        .map(|e| {
            (
                e["id"].as_str().expect("string id"),
                e["n"].as_u64().expect("n") as usize,
            )
        })
        .collect();
    assert_eq!(ids, expect, "one entry per id, in id order: {report}");
    for e in entries {
        let b = &e["bounds"];
        assert_eq!(b["n"], e["n"], "{e}");
        for key in BOUNDS_KEYS {
            assert!(b[key].is_number(), "bounds.{key} missing in {e}");
        }
    }
    let summary = &report["summary"];
    assert_eq!(
        summary["prompts"].as_u64(),
        Some(expect.len() as u64),
        "{report}"
    );
    let mean_upper: f64 = entries
        .iter()
        .map(|e| num(&e["bounds"], "mean_upper"))
        .sum::<f64>()
        / entries.len() as f64;
    assert!((num(summary, "mean_mean_upper") - mean_upper).abs() < 1e-12);
}

#[test]
fn score_prints_one_entry_per_id_and_a_summary() {
    let s = Scratch::new("scoreok");
    let (run, _, _) = score(&s, GENS, REFS, &["--alpha", "0.1"]);
    let report = run.assert_ok().json();
    check_report(&report, "rougeL-recall", &[("q1", 3), ("q2", 2)]);
    assert_eq!(num(&report["config"], "alpha"), 0.1);
    // q1's scores are what `probable rouge` reports for each of its generations.
    let recalls: Vec<f64> = ["The capital of France is Paris", "I do not know", "Paris"]
        .iter()
        .map(|p| {
            let r = cli(
                &[
                    "rouge",
                    "--json",
                    "--reference",
                    "Paris is the capital of France",
                    "--prediction",
                    p,
                ],
                None,
            );
            num(&r.assert_ok().json(), "recall")
        })
        .collect();
    let q1 = &report["entries"][0]["bounds"];
    let mean = recalls.iter().sum::<f64>() / 3.0;
    assert!(
        (num(q1, "sample_mean") - mean).abs() < 1e-12,
        "{recalls:?} {q1}"
    );
    let max = recalls.iter().cloned().fold(0.0, f64::max);
    assert_eq!(num(q1, "max_score"), max, "{q1}");

    // The keyword judge is binary, so M_bin appears without a threshold.
    let (run, _, _) = score(&s, GENS, REFS, &["--metric", "keyword"]);
    let report = run.assert_ok().json();
    check_report(&report, "keyword", &[("q1", 3), ("q2", 2)]);
    let leaks: Vec<u64> = report["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            e["bounds"]["binary"]["leaks"]
                .as_u64()
                .expect("binary bound")
        })
        .collect();
    assert_eq!(leaks, vec![2, 1]);

    // Your own judge's scores; numeric and string ids both work.
    let g = s.file(
        "judge.jsonl",
        concat!(
            r#"{"id": 7, "score": 0.25}"#,
            "\n",
            r#"{"id": 7, "score": 0.75}"#,
            "\n",
            r#"{"id": "x", "score": 1}"#,
            "\n"
        ),
    );
    let run = cli(&["score", "--generations", &g, "--metric", "score"], None);
    let report = run.assert_ok().json();
    check_report(&report, "score", &[("7", 2), ("x", 1)]);
    assert!((num(&report["entries"][0]["bounds"], "sample_mean") - 0.5).abs() < 1e-12);
}

#[test]
fn score_out_writes_the_report_atomically() {
    let inputs = Scratch::new("outin");
    let gens = inputs.file("gens.jsonl", GENS);
    let refs = inputs.file("refs.jsonl", REFS);
    let out_dir = Scratch::new("outdir");
    let out = out_dir.path("report.json");
    // A stale report is replaced as a whole.
    fs::write(&out, "stale, not json").unwrap();
    let out_s = out.to_str().unwrap();
    let run = cli(
        &[
            "score",
            "--generations",
            &gens,
            "--references",
            &refs,
            "--out",
            out_s,
        ],
        None,
    );
    run.assert_ok();
    assert!(
        run.stdout.trim().is_empty(),
        "report goes to the file: {}",
        run.stdout
    );
    let report: Value = serde_json::from_str(&fs::read_to_string(&out).unwrap())
        .expect("the report parses as JSON");
    check_report(&report, "rougeL-recall", &[("q1", 3), ("q2", 2)]);
    assert_eq!(
        out_dir.listing(),
        BTreeSet::from(["report.json".to_string()]),
        "no temporary files left next to the report"
    );

    // Into a directory that does not exist yet.
    let nested = out_dir.path("a/b/report.json");
    cli(
        &[
            "score",
            "--generations",
            &gens,
            "--references",
            &refs,
            "--out",
            nested.to_str().unwrap(),
        ],
        None,
    )
    .assert_ok();
    assert!(serde_json::from_str::<Value>(&fs::read_to_string(&nested).unwrap()).is_ok());
    let siblings: Vec<_> = fs::read_dir(nested.parent().unwrap()).unwrap().collect();
    assert_eq!(siblings.len(), 1);

    // A failing run leaves an existing report untouched.
    let before = fs::read_to_string(&out).unwrap();
    let bad = inputs.file("bad.jsonl", "{\"id\": \"q1\", \"text\": \"x\"}\n{oops\n");
    cli(
        &[
            "score",
            "--generations",
            &bad,
            "--references",
            &refs,
            "--out",
            out_s,
        ],
        None,
    )
    .assert_error(&[&format!("{bad}:2")]);
    assert_eq!(fs::read_to_string(&out).unwrap(), before);
    assert_eq!(out_dir.listing().len(), 2, "{:?}", out_dir.listing());
}

#[test]
fn score_metric_score_with_references_rejects_generation_without_reference() {
    let s = Scratch::new("scoreref");
    let gens = "{\"id\": \"a\", \"score\": 0.5}\n{\"id\": \"zz\", \"score\": 0.1}\n";
    let refs = "{\"id\": \"a\", \"answer\": \"x\"}\n";
    let (run, g, _) = score(&s, gens, refs, &["--metric", "score"]);
    run.assert_error(&[&format!("{g}:2"), "zz"]);
}

#[test]
fn closed_stdout_does_not_panic() {
    for args in [
        &["rouge", "--reference", "a b", "--prediction", "a"][..],
        &["bounds", "--json", "-"][..],
    ] {
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let mut child = probable_command(args)
            .stdin(Stdio::piped())
            .stdout(writer)
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn probable");
        let _ = child.stdin.take().unwrap().write_all(b"0.5\n0.25\n");
        let out = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_ne!(out.status.code(), Some(101), "{args:?}: {stderr}");
    }
}

#[test]
fn scratch_dirs_are_unique() {
    let (a, b) = (Scratch::new("u"), Scratch::new("u"));
    assert_ne!(a.0, b.0);
    assert!(Path::new(&a.0).is_dir() && Path::new(&b.0).is_dir());
}

#[test]
fn bounds_reports_leak_at_k_with_certified_bounds() {
    // 3 leaks (>= 0.5) of 8.
    let scores = "0.1\n0.9\n0.6\n0\n0.5\n0.2\n0.3\n0.0\n";
    let out = cli(
        &[
            "bounds",
            "--json",
            "--leak-threshold",
            "0.5",
            "--k",
            "1,2,8",
        ],
        Some(scores),
    );
    let v = out.assert_ok().json();
    let l = v["leak_at_k"].as_array().expect("leak_at_k list");
    assert_eq!(l.len(), 3);
    assert_eq!(l[0]["k"], 1);
    // k = 1 is the leak rate itself, and its bounds are M_bin's.
    assert_eq!(num(&l[0], "estimate"), 3.0 / 8.0);
    assert_eq!(num(&l[0], "upper"), num(&v["binary"], "upper"));
    // 1 − C(5,2)/C(8,2) = 1 − 10/28.
    assert!((num(&l[1], "estimate") - 18.0 / 28.0).abs() < 1e-15);
    assert_eq!(num(&l[2], "estimate"), 1.0);
    // The bounds are monotone in k; the estimate need not lie inside them (at k = n it is
    // 1 as soon as one sample leaked, while the true leak@n may be below 1).
    assert!(num(&l[1], "upper") >= num(&l[0], "upper"));
    assert!(num(&l[2], "upper") < 1.0);
    cli(
        &["bounds", "--leak-threshold", "0.5", "--k", "9"],
        Some(scores),
    )
    .assert_error(&["k = 9", "n = 8"]);
    cli(
        &["bounds", "--leak-threshold", "0.5", "--k", "0"],
        Some(scores),
    )
    .assert_error(&["k = 0"]);
    cli(&["bounds", "--k", "2"], Some(scores)).assert_error(&["leak threshold"]);
}

#[test]
fn score_reports_leak_at_k_per_prompt_and_over_prompts() {
    let dir = Scratch::new("score-leak-at-k");
    let gens = dir.file(
        "gens.jsonl",
        &(0..8)
            .map(|i| {
                format!(
                    "{{\"id\": \"a\", \"score\": {}}}\n{{\"id\": \"b\", \"score\": 0}}\n",
                    (i % 4 == 0) as u8
                )
            })
            .collect::<String>(),
    );
    let out = cli(
        &[
            "score",
            "--generations",
            &gens,
            "--metric",
            "score",
            "--k",
            "1,4",
        ],
        None,
    );
    let v = out.assert_ok().json();
    let a = &v["entries"][0]["bounds"]["leak_at_k"];
    assert_eq!(num(&a[0], "estimate"), 0.25);
    let set = v["leak_at_k"].as_array().unwrap();
    assert_eq!(num(&set[0], "mean_estimate"), 0.125);
    assert!(num(&set[0], "upper") > num(&set[0], "mean_estimate"));
    cli(
        &[
            "score",
            "--generations",
            &gens,
            "--metric",
            "score",
            "--k",
            "9",
        ],
        None,
    )
    .assert_error(&["k = 9"]);
}
