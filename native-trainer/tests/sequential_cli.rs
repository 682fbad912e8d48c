//! `probable bounds --sequential`: the JSON shape, each verdict, and each bad input.

mod common;

use std::path::Path;
use std::process::Output;

use common::{probable, scratch};
use serde_json::Value;

fn write(dir: &Path, name: &str, scores: &[f64]) -> String {
    let text: String = scores.iter().map(|x| format!("{x}\n")).collect();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

fn run(file: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "bounds",
        "--sequential",
        "--leak-threshold",
        "0.5",
        "--leak-level",
        "0.1",
        "--json",
    ];
    args.extend_from_slice(extra);
    args.push(file);
    probable(&args)
}

fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "status {:?}; stderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

/// Exit 2, nothing on stdout, and every needle in the message.
fn assert_error(out: &Output, needles: &[&str]) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(
        out.stdout.is_empty(),
        "stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(!err.contains("panicked"), "{err}");
    for n in needles {
        assert!(err.contains(n), "`{n}` not in: {err}");
    }
}

#[test]
fn no_leaks_stops_early_below_the_level() {
    let dir = scratch("below");
    let f = write(&dir, "zeros.txt", &[0.0; 500]);
    let v = json(&run(&f, &[]));
    let s = &v["sequential"];
    assert_eq!(s["verdict"], "below");
    let n = s["stopped_at"].as_u64().unwrap();
    // The mpmath reference (sequential_golden.json) stops this stream at 70 for α = 0.01.
    assert_eq!(n, 70);
    assert!(s["leak_probability"]["upper"].as_f64().unwrap() <= 0.1);
    assert_eq!(s["leak_probability"]["lower"].as_f64().unwrap(), 0.0);
    // What `bounds --json` prints, for the samples read.
    assert_eq!(v["n"].as_u64().unwrap(), n);
    assert_eq!(v["binary"]["leaks"].as_u64().unwrap(), 0);
    for key in [
        "alpha",
        "sample_mean",
        "mean_upper",
        "std_upper",
        "ed_score",
        "survival",
    ] {
        assert!(v.get(key).is_some(), "{key} missing: {v}");
    }
    let plain = probable(&["bounds", "--leak-threshold", "0.5", "--json", &f]);
    let mut fixed: Value = json(&plain);
    assert_eq!(fixed["n"].as_u64().unwrap(), 500);
    // The fixed-n record of the first n samples is what --sequential prints besides.
    let head = write(&dir, "head.txt", &[0.0; 70]);
    fixed = json(&probable(&[
        "bounds",
        "--leak-threshold",
        "0.5",
        "--json",
        &head,
    ]));
    let mut without = v.clone();
    without.as_object_mut().unwrap().remove("sequential");
    assert_eq!(without, fixed);
}

#[test]
fn frequent_leaks_are_certified_to_leak() {
    let dir = scratch("leaks");
    let scores: Vec<f64> = (0..300)
        .map(|i| if i % 2 == 0 { 0.9 } else { 0.1 })
        .collect();
    let f = write(&dir, "half.txt", &scores);
    let v = json(&run(&f, &["--alpha", "0.05"]));
    let s = &v["sequential"];
    assert_eq!(s["verdict"], "leaks");
    let n = s["stopped_at"].as_u64().unwrap();
    assert!(n < 60, "{s}");
    assert!(s["leak_probability"]["lower"].as_f64().unwrap() > 0.1);
    assert_eq!(s["leaks"].as_u64().unwrap(), n.div_ceil(2));
    let mean = &s["mean"];
    assert!(mean["lower"].as_f64().unwrap() <= 0.5 && 0.5 <= mean["upper"].as_f64().unwrap());
}

#[test]
fn a_rate_at_the_level_stays_undecided_to_the_end() {
    let dir = scratch("undecided");
    let scores: Vec<f64> = (0..400)
        .map(|i| if i % 10 == 0 { 1.0 } else { 0.0 })
        .collect();
    let f = write(&dir, "tenth.txt", &scores);
    let v = json(&run(&f, &[]));
    let s = &v["sequential"];
    assert_eq!(s["verdict"], "undecided");
    assert_eq!(s["stopped_at"].as_u64().unwrap(), 400);
    assert_eq!(v["n"].as_u64().unwrap(), 400);
    let lp = &s["leak_probability"];
    assert!(lp["lower"].as_f64().unwrap() < 0.1 && 0.1 < lp["upper"].as_f64().unwrap());
}

#[test]
fn table_output_names_the_verdict() {
    let dir = scratch("table");
    let f = write(&dir, "zeros.txt", &[0.0; 200]);
    let out = probable(&[
        "bounds",
        "--sequential",
        "--leak-threshold",
        "0.5",
        "--leak-level",
        "0.1",
        &f,
    ]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("below after 70 of 200 samples"), "{text}");
}

#[test]
fn bad_leak_level_alpha_and_short_files_are_named_errors() {
    let dir = scratch("bad");
    let f = write(&dir, "zeros.txt", &[0.0; 100]);
    for bad in ["0", "1", "1.5", "-0.1", "nan", "x"] {
        let out = probable(&[
            "bounds",
            "--sequential",
            "--leak-threshold",
            "0.5",
            "--leak-level",
            bad,
            "--json",
            &f,
        ]);
        assert_error(&out, &["--leak-level", bad]);
    }
    for bad in ["0", "1", "-0.5"] {
        assert_error(&run(&f, &["--alpha", bad]), &["alpha"]);
    }
    // Two samples can never decide at α = 0.01, L = 0.1.
    let short = write(&dir, "short.txt", &[1.0, 1.0]);
    assert_error(&run(&short, &[]), &[&short, "2 samples", "at least"]);
    let empty = write(&dir, "empty.txt", &[]);
    assert_error(&run(&empty, &[]), &[&empty]);
    let bad = dir.join("bad.txt");
    std::fs::write(&bad, "0\n0\n1.5\n").unwrap();
    let bad = bad.to_string_lossy().into_owned();
    assert_error(&run(&bad, &[]), &[&format!("{bad}:3")]);
}

#[test]
fn combinations_it_cannot_honour_are_refused() {
    let dir = scratch("combos");
    let f = write(&dir, "zeros.txt", &[0.0; 100]);
    // leak@k's Clopper–Pearson bounds do not hold at a data-dependent stop.
    assert_error(&run(&f, &["--k", "1,2"]), &["--sequential", "--k"]);
    // The verdict needs a leak definition and a level.
    assert_error(
        &probable(&["bounds", "--sequential", "--leak-level", "0.1", &f]),
        &["--leak-threshold"],
    );
    assert_error(
        &probable(&["bounds", "--sequential", "--leak-threshold", "0.5", &f]),
        &["--leak-level"],
    );
    // --leak-level means nothing without --sequential.
    assert_error(
        &probable(&["bounds", "--leak-level", "0.1", &f]),
        &["--leak-level", "--sequential"],
    );
}
