//! `probable eval` never throws results away: each finished question is journaled, a
//! killed run continues with `--resume` to the identical report, and the output paths
//! are checked before any sampling (the JSON and HTML are published together).

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Output;

mod common;

use common::{probable_failpoint, scratch};

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// A tiny bundle and 5 questions.
fn setup(dir: &Path) -> (PathBuf, PathBuf) {
    common::tiny_eval_setup(dir, 5)
}

fn eval_args(m: &Path, data: &Path, out: &Path, extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = [
        "eval",
        "--model",
        m.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--samples",
        "6",
        "--max-new-tokens",
        "6",
        "--seed",
        "4",
        "--out",
        out.to_str().unwrap(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

fn journal(out: &Path) -> PathBuf {
    out.with_file_name(format!(
        "{}.journal.jsonl",
        out.file_name().unwrap().to_string_lossy()
    ))
}

#[test]
fn a_killed_eval_resumes_to_the_identical_report() {
    let dir = scratch("kill");
    let (m, data) = setup(&dir);
    let whole = dir.join("whole.json");
    let o = probable_failpoint(&eval_args(&m, &data, &whole, &[]), None, &[]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        !journal(&whole).exists(),
        "the journal goes once the report is written"
    );

    let part = dir.join("part.json");
    let o = probable_failpoint(&eval_args(&m, &data, &part, &[]), Some("eval:2"), &[]);
    assert_eq!(o.status.signal(), Some(9), "{}", err(&o));
    assert!(!part.exists());
    let j = std::fs::read_to_string(journal(&part)).unwrap();
    assert_eq!(j.lines().count(), 3, "header and two finished questions");
    // A crash in the middle of an append leaves a torn last line.
    std::fs::write(journal(&part), format!("{j}{{\"index\":2,\"id\":")).unwrap();

    // Without --resume the journal is not silently thrown away.
    let o = probable_failpoint(&eval_args(&m, &data, &part, &[]), None, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("--resume"), "{}", err(&o));
    // Other settings than the journal's are refused by name.
    let mut other = eval_args(&m, &data, &part, &["--resume"]);
    other[10] = "5".into();
    let o = probable_failpoint(&other, None, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("config.decode.seed"), "{}", err(&o));
    // So is holding the weights otherwise (their samples differ in the last bits).
    let o = probable_failpoint(
        &eval_args(&m, &data, &part, &["--resume", "--dtype", "f16"]),
        None,
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("weights"), "{}", err(&o));

    let o = probable_failpoint(&eval_args(&m, &data, &part, &["--resume"]), None, &[]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        err(&o).contains("2 of 5 questions already done"),
        "{}",
        err(&o)
    );
    assert_eq!(
        std::fs::read_to_string(&part).unwrap(),
        std::fs::read_to_string(&whole).unwrap(),
        "the resumed report must be identical"
    );
    assert_eq!(
        std::fs::read_to_string(part.with_extension("html")).unwrap(),
        std::fs::read_to_string(whole.with_extension("html")).unwrap()
    );
    assert!(!journal(&part).exists());
    // The report says how the weights were held (a narrow f32 bundle: f32 under `stored`).
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&whole).unwrap()).unwrap();
    assert_eq!(report["weights"], "F32 on disk, held as f32");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn output_paths_are_checked_before_sampling() {
    let dir = scratch("paths");
    let (m, data) = setup(&dir);
    // The HTML path is a directory: refused up front, the existing JSON untouched.
    let out = dir.join("r.json");
    std::fs::write(&out, "old report").unwrap();
    std::fs::create_dir(dir.join("r.html")).unwrap();
    let o = probable_failpoint(&eval_args(&m, &data, &out, &[]), None, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("r.html"), "{}", err(&o));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "old report");
    assert!(!journal(&out).exists());
    // An --out under a regular file cannot be written.
    std::fs::write(dir.join("file"), "").unwrap();
    let bad = dir.join("file/r.json");
    let started = std::time::Instant::now();
    let mut a = eval_args(&m, &data, &bad, &[]);
    a[6] = "4096".into(); // many samples: an error after sampling would take long
    let o = probable_failpoint(&a, None, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("file"), "{}", err(&o));
    assert!(started.elapsed().as_secs() < 20);
    // An --out that is the questions file itself (here through `..`) is refused, the
    // questions untouched.
    let questions = std::fs::read(&data).unwrap();
    let name = data.file_name().unwrap();
    let same = dir.join("sub/..").join(name);
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    let o = probable_failpoint(&eval_args(&m, &data, &same, &[]), None, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("questions file"), "{}", err(&o));
    assert_eq!(std::fs::read(&data).unwrap(), questions);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn merge_needs_a_complete_consistent_set_of_shards() {
    let dir = scratch("merge");
    let (m, data) = setup(&dir);
    let shard = |name: &str, s: &str, seed: &str| {
        let out = dir.join(name);
        let mut a = eval_args(&m, &data, &out, &["--shard", s]);
        a[10] = seed.to_string();
        let o = probable_failpoint(&a, None, &[]);
        assert!(o.status.success(), "{}", err(&o));
        out.display().to_string()
    };
    let (a, b) = (shard("a.json", "0/2", "4"), shard("b.json", "1/2", "4"));
    let c = shard("c.json", "0/3", "4");
    let seeded = shard("d.json", "1/2", "9");
    let whole = dir.join("whole.json");
    assert!(
        probable_failpoint(&eval_args(&m, &data, &whole, &[]), None, &[])
            .status
            .success()
    );
    let merged = dir.join("merged.json").display().to_string();
    let merge = |files: &[&str], extra: &[&str]| {
        let mut args: Vec<String> = vec!["report".into(), "merge".into()];
        args.extend(files.iter().map(|s| s.to_string()));
        args.extend(["--out".to_string(), merged.clone()]);
        args.extend(extra.iter().map(|s| s.to_string()));
        probable_failpoint(&args, None, &[])
    };
    let o = merge(&[&a], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("1/2 missing"), "{}", err(&o));
    let o = merge(&[&a, &c], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("different N"), "{}", err(&o));
    let o = merge(&[&a, &a], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("twice"), "{}", err(&o));
    let o = merge(&[&a, &seeded], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains("seed") && err(&o).contains("d.json"),
        "{}",
        err(&o)
    );
    let o = merge(&[&whole.display().to_string()], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("not a shard"), "{}", err(&o));

    let read = |p: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    };
    let o = merge(&[&a], &["--allow-partial"]);
    assert!(o.status.success(), "{}", err(&o));
    let r = read(&merged);
    assert_eq!(
        r["merged"],
        serde_json::json!({"of": 2, "shards": [0], "missing": [1]})
    );
    let o = merge(&[&b, &a], &[]);
    assert!(o.status.success(), "{}", err(&o));
    let r = read(&merged);
    assert_eq!(
        r["merged"],
        serde_json::json!({"of": 2, "shards": [0, 1], "missing": []})
    );
    let w = read(&whole.display().to_string());
    assert_eq!(r["questions"], w["questions"]);
    assert_eq!(r["summary"], w["summary"]);
    let _ = std::fs::remove_dir_all(&dir);
}
