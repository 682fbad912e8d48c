//! Finding a split on disk: a split file, a directory of split files, or TOFU's `full`
//! file plus the split rule (forgetXX = last XX %, retainYY = first YY %).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use probable_core::data::{parse_qa_with, QaItem, QaKeys, Split};

fn read_items(path: &Path, keys: &QaKeys) -> Result<Vec<QaItem>> {
    let bytes = fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        anyhow::anyhow!("{}:{line}: not UTF-8 (byte {at})", path.display())
    })?;
    Ok(parse_qa_with(&path.display().to_string(), &text, keys)?)
}

fn find(dir: &Path, stem: &str) -> Option<PathBuf> {
    ["json", "jsonl"]
        .iter()
        .map(|ext| dir.join(format!("{stem}.{ext}")))
        .find(|p| p.is_file())
}

/// The file [`load_split_with`] reads for `split` of `data`: `data` itself, or in a
/// directory the split's own file, else `full` where the split is derived from it by rule.
/// `None` where there is no such file.
pub fn split_file(data: &Path, split: Option<&str>) -> Option<PathBuf> {
    if !data.is_dir() {
        return data.is_file().then(|| data.to_path_buf());
    }
    let name = split.unwrap_or("full");
    find(data, name).or_else(|| {
        Split::parse(name)
            .rule
            .is_some()
            .then(|| find(data, "full"))
            .flatten()
    })
}

/// Loads `split` from `data` (a file or a directory). Without a split, a file is read as
/// is and a directory's `full` is used.
/// Record fields are read as `keys` names them.
pub fn load_split_with(
    data: &Path,
    split: Option<&str>,
    keys: &QaKeys,
) -> Result<(String, Vec<QaItem>)> {
    if data.is_dir() {
        let name = split.unwrap_or("full");
        let Some(path) = split_file(data, Some(name)) else {
            bail!(
                "{}: unknown split `{name}`: no {name}.json(l) and no full.json(l) to derive it from",
                data.display()
            );
        };
        let items = read_items(&path, keys)?;
        if path.file_stem() == Some(name.as_ref()) {
            return Ok((name.to_string(), items));
        }
        // `full`, the split derived from it by its rule.
        let items = Split::parse(name).select(&items).expect("rule present");
        if items.is_empty() {
            bail!("{}: split `{name}` has no rows", path.display());
        }
        return Ok((name.to_string(), items));
    }
    if !data.is_file() {
        bail!("{}: no such file or directory", data.display());
    }
    let stem = data
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    let items = read_items(data, keys)?;
    match split {
        None => Ok((stem, items)),
        Some(name) if name == stem => Ok((stem, items)),
        Some(name) => {
            let rule = Split::parse(name);
            if stem != "full" || rule.rule.is_none() {
                bail!(
                    "{}: unknown split `{name}` (a split can be derived only from a file named full.json; known: full, forgetXX, retainYY)",
                    data.display()
                );
            }
            let items = rule.select(&items).expect("rule present");
            if items.is_empty() {
                bail!("{}: split `{name}` has no rows", data.display());
            }
            Ok((name.to_string(), items))
        }
    }
}
