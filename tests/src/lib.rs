//! Shared helpers for the cross-crate tests in `tests/tests/`.

use std::path::PathBuf;

/// The repository root (this crate lives in `tests/`).
///
/// `PROBABLE_REPO_ROOT` overrides the checkout the test executable was built in, for a
/// prebuilt test executable run in another copy of the repository (scripts/gpu-bench.sh on
/// a lent machine).
pub fn repo_root() -> PathBuf {
    if let Some(root) = std::env::var_os("PROBABLE_REPO_ROOT") {
        return PathBuf::from(root);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// Reads and parses a committed golden fixture under `tests/golden/`.
pub fn golden(name: &str) -> serde_json::Value {
    let path = repo_root().join("tests/golden").join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read golden fixture {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A JSON array of token ids, as the goldens store them.
pub fn ids(v: &serde_json::Value) -> Vec<u32> {
    v.as_array()
        .unwrap_or_else(|| panic!("expected a list of token ids, got {v}"))
        .iter()
        .map(|x| x.as_u64().unwrap_or_else(|| panic!("not a token id: {x}")) as u32)
        .collect()
}
