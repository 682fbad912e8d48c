//! A short budget of every fuzz target (the long campaigns are run by hand; see
//! docs/reliability.md, "Fuzzing"): each parser survives mutated inputs from the committed
//! corpus.

use std::path::Path;

mod common;

use common::{fresh_path, probable_command};

#[test]
fn every_fuzz_target_survives_a_short_budget() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let crashes = fresh_path("crashes");
    let o = probable_command(&[
        "fuzz",
        "all",
        "--executions",
        "20000",
        "--seconds",
        "5",
        "--seed",
        "7",
    ])
    .arg("--corpus")
    .arg(&corpus)
    .arg("--crashes")
    .arg(&crashes)
    .output()
    .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let names: Vec<&str> = lines
        .iter()
        .map(|l| l["target"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "share",
            "qa",
            "config-json",
            "safetensors",
            "safetensors-header",
            "toml",
            "report",
            "chat-template",
            "journal"
        ]
    );
    for l in &lines {
        assert_eq!(l["crashes"], 0, "{l}");
        assert!(l["executions"].as_u64().unwrap() >= 1000, "{l}");
    }
    let _ = std::fs::remove_dir_all(&crashes);
}
