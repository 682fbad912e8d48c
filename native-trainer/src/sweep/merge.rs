//! Merging the results directories of a sweep's shards (`--shard i/N` on several machines)
//! into one: every directory must come from the same base config and evaluation, and
//! together they must hold every point of the grid.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use super::results::{check_manifest, read_rows, recorded_identity, Row};
use super::runner::write_outputs;
use super::spec::Sweep;

pub fn merge(sweep: &Sweep, shards: &[PathBuf], out: &Path) -> Result<Vec<Row>> {
    // --out is checked before any shard is read. Paths are compared resolved: `a` and
    // `./a` are one directory.
    let normal = crate::identity::normalise(out);
    if shards
        .iter()
        .any(|s| crate::identity::normalise(s) == normal)
    {
        bail!(
            "--merge: --out {} is one of the shard directories; merge into a new one",
            out.display()
        );
    }
    if out.exists() && !out.is_dir() {
        bail!(
            "--merge: --out {} exists and is not a directory (the merged results are a directory)",
            out.display()
        );
    }
    let mut rows: Vec<Row> = Vec::new();
    let mut first_identity: Option<(&PathBuf, serde_json::Value)> = None;
    for dir in shards {
        check_manifest(dir, sweep, false)?;
        // The shards agree with each other on what they read, whatever this machine holds.
        let identity = recorded_identity(dir)?;
        if let Some((first, id)) = &first_identity {
            for (key, digest) in identity.as_object().into_iter().flatten() {
                if let Some(other) = id.get(key).filter(|o| *o != digest) {
                    bail!(
                        "{}: its {key} ({digest}) differs in content from that of {} ({other}): shards of different models or data",
                        dir.display(),
                        first.display()
                    );
                }
            }
        } else {
            first_identity = Some((dir, identity));
        }
        for r in read_rows(dir)? {
            let Some(p) = sweep.points.iter().find(|p| p.key == r.key) else {
                bail!(
                    "{}: point {} is not in the grid of {}",
                    dir.display(),
                    r.key,
                    sweep.origin
                );
            };
            if rows.iter().any(|x| x.key == r.key) {
                bail!(
                    "{}: point {} is also in another shard directory",
                    dir.display(),
                    r.key
                );
            }
            rows.push(Row {
                point: p.index,
                ..r
            });
        }
    }
    let missing: Vec<&str> = sweep
        .points
        .iter()
        .filter(|p| !rows.iter().any(|r| r.key == p.key))
        .map(|p| p.key.as_str())
        .collect();
    if !missing.is_empty() {
        bail!(
            "--merge: {} of {} points have no result in the given directories (run their shards first): {}",
            missing.len(),
            sweep.points.len(),
            missing.join("; ")
        );
    }
    std::fs::create_dir_all(out).map_err(|e| {
        anyhow::anyhow!("--out {}: cannot create the directory: {e}", out.display())
    })?;
    check_manifest(out, sweep, true)?;
    write_outputs(out, sweep, &mut rows)?;
    Ok(rows)
}
