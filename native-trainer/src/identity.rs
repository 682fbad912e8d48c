//! What a run read, named by content rather than by path: a path can hold other weights
//! tomorrow (a re-trained model saved over the old one), and `fm`, `./fm` and a link to it
//! are one model. Journals, reports and merges compare these digests.
//!
//! The digest is SHA-256 over every byte that decides what an evaluation produces — the
//! model's `config.json`, `generation_config.json` and `tokenizer.json`, and all of its
//! weight bytes (`model.safetensors`, or the index and every shard it names); for data,
//! the split file that is read. Hashing only the safetensors headers would be cheaper but
//! unsound: a finetuned model has exactly its base model's header (same names, shapes,
//! offsets), so only the weight bytes tell them apart. Reading them costs about a second
//! per GB (SHA-256 with the CPU's SHA extensions where present), small beside sampling.
//! Files are streamed in 1 MiB pieces, so memory stays flat for any model size.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use probable_core::eval::report::ContentIdentity;
use probable_core::model::{ShardIndex, INDEX_FILE, SINGLE_FILE};
use sha2::{Digest, Sha256};

/// Adds one named file to `hash`: its name, length and bytes (framed, so that no two
/// different file sets can give the same stream).
fn hash_file(hash: &mut Sha256, name: &str, path: &Path) -> Result<()> {
    let mut f = fs::File::open(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let len = f
        .metadata()
        .with_context(|| format!("{}: cannot read", path.display()))?
        .len();
    hash.update((name.len() as u64).to_le_bytes());
    hash.update(name.as_bytes());
    hash.update(len.to_le_bytes());
    let mut buf = vec![0u8; 1 << 20];
    let mut seen = 0u64;
    loop {
        let n = f
            .read(&mut buf)
            .with_context(|| format!("{}: cannot read", path.display()))?;
        if n == 0 {
            break;
        }
        seen += n as u64;
        hash.update(&buf[..n]);
    }
    if seen != len {
        anyhow::bail!("{}: changed while it was read", path.display());
    }
    Ok(())
}

fn hex(hash: Sha256) -> String {
    let bytes = hash.finalize();
    let mut s = String::with_capacity(7 + 64);
    s.push_str("sha256:");
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// The content digest of the model bundle in `dir` (see the module documentation).
pub fn model_identity(dir: &Path) -> Result<String> {
    let mut hash = Sha256::new();
    hash.update(b"probable model identity 1\0");
    let mut files: Vec<String> = vec!["config.json".into()];
    for optional in ["generation_config.json", "tokenizer.json"] {
        if dir.join(optional).is_file() {
            files.push(optional.into());
        }
    }
    if dir.join(SINGLE_FILE).is_file() {
        files.push(SINGLE_FILE.into());
    } else if dir.join(INDEX_FILE).is_file() {
        let path = dir.join(INDEX_FILE);
        let text = fs::read_to_string(&path)
            .with_context(|| format!("{}: cannot read", path.display()))?;
        let index = ShardIndex::parse(&text).with_context(|| format!("{}", path.display()))?;
        files.push(INDEX_FILE.into());
        let mut shards: Vec<String> = index.weight_map().values().cloned().collect();
        shards.sort();
        shards.dedup();
        files.extend(shards);
    }
    // No weights: a bundle that only names a served model (`eval --engine openai`) is
    // identified by its configuration and tokenizer; the server holds the weights.
    for name in &files {
        hash_file(&mut hash, name, &dir.join(name))?;
    }
    Ok(hex(hash))
}

/// The file `eval --data PATH --split NAME` reads: PATH itself, or in a directory
/// `NAME.json(l)`, else `full.json(l)` (from which the split is derived).
pub fn split_file(data: &Path, split: Option<&str>) -> Option<PathBuf> {
    if !data.is_dir() {
        return Some(data.to_path_buf());
    }
    let find = |stem: &str| {
        ["json", "jsonl"]
            .iter()
            .map(|ext| data.join(format!("{stem}.{ext}")))
            .find(|p| p.is_file())
    };
    find(split.unwrap_or("full")).or_else(|| find("full"))
}

/// The content digest of the data `eval --data data --split split` reads.
pub fn data_identity(data: &Path, split: Option<&str>) -> Result<String> {
    let file = split_file(data, split)
        .with_context(|| format!("{}: no split file to read", data.display()))?;
    let mut hash = Sha256::new();
    hash.update(b"probable data identity 1\0");
    hash_file(&mut hash, "data", &file)?;
    Ok(hex(hash))
}

/// Both digests of one run: what `eval` records in its journal header and report.
pub fn run_identity(model: &Path, data: &Path, split: Option<&str>) -> Result<ContentIdentity> {
    Ok(ContentIdentity {
        model: model_identity(model)?,
        data: data_identity(data, split)?,
    })
}

/// A path in the form runs record: resolved (links, `..`) where it exists, else
/// lexically normalised, so `fm`, `./fm` and `fm/` are written alike.
pub fn normalise(path: &Path) -> String {
    match fs::canonicalize(path) {
        Ok(p) => p.display().to_string(),
        Err(_) => probable_core::eval::report::normal_path(&path.display().to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("probable-identity-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn the_model_digest_follows_the_weight_bytes_not_the_path() {
        let d = scratch("model");
        fs::write(d.join("config.json"), "{}").unwrap();
        fs::write(d.join(SINGLE_FILE), [1u8, 2, 3]).unwrap();
        let a = model_identity(&d).unwrap();
        assert!(a.starts_with("sha256:") && a.len() == 7 + 64, "{a}");
        assert_eq!(model_identity(&d.join(".")).unwrap(), a);
        // Same header, same length, one weight byte changed: another model.
        fs::write(d.join(SINGLE_FILE), [1u8, 2, 4]).unwrap();
        assert_ne!(model_identity(&d).unwrap(), a);
        fs::write(d.join(SINGLE_FILE), [1u8, 2, 3]).unwrap();
        fs::write(d.join("tokenizer.json"), "{}").unwrap();
        assert_ne!(model_identity(&d).unwrap(), a);
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn data_digest_is_of_the_split_file_read() {
        let d = scratch("data");
        fs::write(d.join("full.json"), "[1]").unwrap();
        let full = data_identity(&d, None).unwrap();
        assert_eq!(data_identity(&d, Some("forget10")).unwrap(), full);
        assert_eq!(data_identity(&d.join("full.json"), None).unwrap(), full);
        fs::write(d.join("forget10.json"), "[2]").unwrap();
        assert_ne!(data_identity(&d, Some("forget10")).unwrap(), full);
        assert_eq!(
            normalise(&d.join("./full.json")),
            normalise(&d.join("full.json"))
        );
        fs::remove_dir_all(&d).unwrap();
    }
}
