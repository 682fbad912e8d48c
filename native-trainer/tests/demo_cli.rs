//! `probable demo` on the shipped bundles (few samples, so it runs in seconds).

use std::path::Path;

mod common;

use common::{fresh_path, probable};

#[test]
fn demo_evaluates_every_shipped_model() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let models = root.join("public/models");
    let index: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(models.join("index.json")).expect("shipped index.json"),
    )
    .unwrap();
    let out = fresh_path("demo");
    let o = probable(&[
        "demo",
        "--samples",
        "8",
        "--models",
        models.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    for m in index["models"].as_array().unwrap() {
        let name = m["name"].as_str().unwrap();
        assert!(stdout.contains(name), "table lacks {name}:\n{stdout}");
        assert!(out.join(format!("{name}.html")).exists());
    }
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("demo.json")).unwrap()).unwrap();
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows.len(), index["models"].as_array().unwrap().len());
    // The finetuned model answers the forget questions; it is the reference point.
    assert!(
        rows[0]["forget_greedy_rougel"].as_f64().unwrap() > 0.8,
        "{}",
        rows[0]
    );
    let _ = std::fs::remove_dir_all(&out);
}
