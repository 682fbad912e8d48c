//! Crash-safe checkpoints. Each save writes a complete new version directory
//! `output.dir/checkpoints/step-N/` (built under a temporary name and renamed when every
//! file is on disk), then points `output.dir/checkpoint` — the documented path, a symbolic
//! link — at it by renaming a new link over the old one, and only then removes the previous
//! version. At every instant `checkpoint` leads to a complete checkpoint (from the first
//! save on). Whatever a crash leaves (temporary directories and links, versions nothing
//! points to, the old layout's `.checkpoint.old-*`/`.checkpoint.tmp-*`, `*.tmp-*` files) is
//! cleaned on the next start by [`Checkpoints::recover`].

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::bundle::write_dir;
use crate::output::{step, sync_dir, unique_suffix};

/// The checkpoints of one run directory.
pub struct Checkpoints {
    out: PathBuf,
}

const VERSIONS: &str = "checkpoints";
const LINK: &str = "checkpoint";

/// The optimizer step a version directory name `step-N` or `step-N-K` records.
fn version_step(name: &str) -> Option<(usize, usize)> {
    let rest = name.strip_prefix("step-")?;
    let mut parts = rest.split('-');
    let step = parts.next()?.parse().ok()?;
    let k = match parts.next() {
        Some(k) => k.parse().ok()?,
        None => 0,
    };
    parts.next().is_none().then_some((step, k))
}

fn remove_any(path: &Path) {
    match path.symlink_metadata() {
        Ok(m) if m.is_dir() => {
            let _ = fs::remove_dir_all(path);
        }
        Ok(_) => {
            let _ = fs::remove_file(path);
        }
        Err(_) => {}
    }
}

/// Removes a version directory: renamed out of the `step-*` names first, so that a removal
/// cut short never leaves a partial directory under a version name.
fn retire(version: &Path) {
    let Some(name) = version.file_name() else {
        return;
    };
    let gone = version.with_file_name(format!(".retired-{}", name.to_string_lossy()));
    if fs::rename(version, &gone).is_ok() {
        step(&format!("remove {}", gone.display()));
        remove_any(&gone);
    }
}

fn step_of_state(dir: &Path) -> Option<usize> {
    let v: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.join("trainer_state.json")).ok()?).ok()?;
    v["step"].as_u64().map(|s| s as usize)
}

impl Checkpoints {
    pub fn new(out: &Path) -> Self {
        Self {
            out: out.to_path_buf(),
        }
    }

    /// The documented path, `output.dir/checkpoint`.
    pub fn link(&self) -> PathBuf {
        self.out.join(LINK)
    }

    fn versions_dir(&self) -> PathBuf {
        self.out.join(VERSIONS)
    }

    /// Complete version directories, oldest first.
    fn versions(&self) -> Vec<(usize, usize, PathBuf)> {
        let mut v: Vec<_> = fs::read_dir(self.versions_dir())
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().to_string();
                let (s, k) = version_step(&name)?;
                e.path().is_dir().then(|| (s, k, e.path()))
            })
            .collect();
        v.sort();
        v
    }

    /// The directory the link points to, if it resolves.
    fn target(&self) -> Option<PathBuf> {
        let link = self.link();
        let meta = link.symlink_metadata().ok()?;
        if meta.file_type().is_symlink() {
            let t = fs::read_link(&link).ok()?;
            let t = if t.is_absolute() { t } else { self.out.join(t) };
            t.is_dir().then_some(t)
        } else {
            meta.is_dir().then_some(link)
        }
    }

    /// The current checkpoint directory, if there is one.
    pub fn current(&self) -> Option<PathBuf> {
        self.target()
    }

    /// Brings the run directory into a consistent state after whatever stopped the last
    /// run: the link leads to the newest complete checkpoint (re-made if a crash removed or
    /// never finished it; a checkpoint of the old single-directory layout is moved into a
    /// version directory), and every leftover of an interrupted save is removed. Returns
    /// the paths removed.
    pub fn recover(&self) -> Result<Vec<PathBuf>> {
        let mut removed = Vec::new();
        if !self.out.is_dir() {
            return Ok(removed);
        }
        let versions = self.versions_dir();
        // The old layout: `checkpoint/` a real directory, replaced by two renames that could
        // leave only `.checkpoint.old-*` (the complete previous checkpoint).
        let link = self.link();
        let legacy_dir = link
            .symlink_metadata()
            .is_ok_and(|m| m.is_dir() && !m.file_type().is_symlink());
        let mut legacy: Vec<PathBuf> = Vec::new();
        if legacy_dir {
            legacy.push(link.clone());
        }
        for e in fs::read_dir(&self.out)?.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if name.starts_with(".checkpoint.old-") && e.path().is_dir() && !legacy_dir {
                legacy.push(e.path());
            }
        }
        for dir in legacy {
            if let Some(s) = step_of_state(&dir) {
                fs::create_dir_all(&versions)
                    .with_context(|| format!("cannot create {}", versions.display()))?;
                let dest = self.free_version_name(s);
                fs::rename(&dir, &dest).with_context(|| {
                    format!("cannot move {} to {}", dir.display(), dest.display())
                })?;
                break;
            }
        }
        // Leftovers in the run directory.
        for e in fs::read_dir(&self.out)?.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if name.starts_with(".checkpoint.") || (name.starts_with('.') && name.contains(".tmp-"))
            {
                remove_any(&e.path());
                removed.push(e.path());
            }
        }
        // Versions: temporary ones go; the link is re-made to the newest complete one if it
        // leads nowhere; versions it does not lead to go.
        for e in fs::read_dir(&versions).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if version_step(&name).is_none() {
                remove_any(&e.path());
                removed.push(e.path());
            }
        }
        let current = match self.target() {
            Some(t) => Some(t),
            None => match self.versions().pop() {
                Some((_, _, newest)) => {
                    self.point_to(&newest)?;
                    Some(newest)
                }
                None => {
                    if link.symlink_metadata().is_ok() {
                        remove_any(&link);
                        removed.push(link.clone());
                    }
                    None
                }
            },
        };
        for (_, _, v) in self.versions() {
            if Some(&v) != current.as_ref() {
                retire(&v);
                removed.push(v);
            }
        }
        Ok(removed)
    }

    fn free_version_name(&self, step: usize) -> PathBuf {
        let base = self.versions_dir().join(format!("step-{step:08}"));
        if base.symlink_metadata().is_err() {
            return base;
        }
        (1..)
            .map(|k| self.versions_dir().join(format!("step-{step:08}-{k}")))
            .find(|p| p.symlink_metadata().is_err())
            .expect("some name is free")
    }

    /// Replaces the link by one to `version` (a directory under `checkpoints/`).
    fn point_to(&self, version: &Path) -> Result<()> {
        let rel = Path::new(VERSIONS).join(version.file_name().context("version name")?);
        let tmp = self
            .out
            .join(format!(".checkpoint.link-tmp-{}", unique_suffix()));
        let _ = fs::remove_file(&tmp);
        step(&format!("create the link {}", tmp.display()));
        symlink(&rel, &tmp)?;
        step(&format!(
            "rename {} over {}",
            tmp.display(),
            self.link().display()
        ));
        fs::rename(&tmp, self.link())
            .with_context(|| format!("cannot update {}", self.link().display()))?;
        step(&format!("flush {}", self.out.display()));
        sync_dir(&self.out);
        Ok(())
    }

    /// Saves a checkpoint of `step` holding `files`; see the module documentation for the
    /// order of the steps.
    pub fn save(&self, step_no: usize, files: &[(String, Vec<u8>)]) -> Result<PathBuf> {
        let versions = self.versions_dir();
        fs::create_dir_all(&versions)
            .with_context(|| format!("cannot create {}", versions.display()))?;
        let previous = self.target();
        let tmp = versions.join(format!(".tmp-{}", unique_suffix()));
        remove_any(&tmp);
        write_dir(&tmp, files)?;
        let dest = self.free_version_name(step_no);
        step(&format!("rename {} to {}", tmp.display(), dest.display()));
        fs::rename(&tmp, &dest)
            .with_context(|| format!("cannot move the checkpoint into {}", dest.display()))?;
        step(&format!("flush {}", versions.display()));
        sync_dir(&versions);
        self.point_to(&dest)?;
        if let Some(p) = previous.filter(|p| *p != dest) {
            step(&format!("retire the previous checkpoint {}", p.display()));
            retire(&p);
        }
        Ok(dest)
    }
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) -> Result<()> {
    std::os::unix::fs::symlink(target, link)
        .with_context(|| format!("cannot create the link {}", link.display()))
}

#[cfg(not(unix))]
fn symlink(target: &Path, link: &Path) -> Result<()> {
    std::os::windows::fs::symlink_dir(target, link)
        .with_context(|| format!("cannot create the link {}", link.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_names() {
        assert_eq!(version_step("step-00000020"), Some((20, 0)));
        assert_eq!(version_step("step-00000020-3"), Some((20, 3)));
        assert_eq!(version_step(".tmp-12"), None);
        assert_eq!(version_step("step-x"), None);
    }
}
