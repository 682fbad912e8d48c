//! The real TOFU export (MIT, ../shared/data/tofu, not redistributed) loads in all of its
//! layouts, and the split rule reproduces its split files.

use std::path::PathBuf;

use probable_core::data::{parse_qa, QaItem, Split};
use probable_tests::repo_root;

/// The TOFU export; a test that needs it is `#[ignore]`d and run on purpose, so a missing
/// export fails it rather than letting it pass without checking anything.
fn tofu_dir() -> PathBuf {
    let dir = std::env::var("PROBABLE_TOFU_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo_root().join("../shared/data/tofu"));
    assert!(
        dir.join("full.json").exists(),
        "TOFU data not found at {} (set PROBABLE_TOFU_DIR)",
        dir.display()
    );
    dir
}

fn load(dir: &std::path::Path, file: &str) -> Vec<QaItem> {
    let path = dir.join(file);
    parse_qa(
        &path.display().to_string(),
        &std::fs::read_to_string(&path).unwrap(),
    )
    .unwrap()
}

#[test]
#[ignore = "needs ../shared/data (PROBABLE_TOFU_DIR / PROBABLE_STORIES_DIR)"]
fn tofu_counts_and_split_rule() {
    let dir = tofu_dir();
    let full = load(&dir, "full.json"); // several JSON arrays, one per line
    let forget10 = load(&dir, "forget10.json"); // one array, prompt/response keys
    let retain90 = load(&dir, "retain90.json");
    let jsonl = load(&dir, "normalized/forget01.jsonl"); // JSON Lines
    assert_eq!(
        (full.len(), forget10.len(), retain90.len(), jsonl.len()),
        (4000, 400, 3600, 40)
    );
    let q = |v: &[QaItem]| {
        v.iter()
            .map(|x| (x.question.clone(), x.answer.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        q(&Split::parse("forget10").select(&full).unwrap()),
        q(&forget10)
    );
    assert_eq!(
        q(&Split::parse("retain90").select(&full).unwrap()),
        q(&retain90)
    );
    assert_eq!(
        q(&Split::parse("forget01").select(&full).unwrap()),
        q(&jsonl)
    );
    assert!(forget10[0]
        .question
        .starts_with("What is the full name of the author born in Taipei"));
}
