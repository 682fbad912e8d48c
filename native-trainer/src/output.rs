//! Writing results: atomically (temp file + rename) so that a crash never leaves a
//! half-written report in place of a good one.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{bail, Context, Result};

use crate::failpoint;

fn parent_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// `PID-N`: the process id and a process-wide call counter. Temporary names carry it so
/// that neither two processes nor two threads of one process (`sweep --jobs`) ever write,
/// rename or remove each other's temporary files.
pub fn unique_suffix() -> String {
    static CALLS: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        CALLS.fetch_add(1, Ordering::Relaxed)
    )
}

/// The temporary sibling `.NAME.tmp-PID-N` that [`write_atomic`] renames into place.
fn temp_sibling(path: &Path) -> Result<PathBuf> {
    let name = path
        .file_name()
        .with_context(|| format!("{} is not a file path", path.display()))?;
    Ok(parent_of(path).join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        unique_suffix()
    )))
}

/// Writes `bytes` to `path` and flushes them to disk (no rename).
pub fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    (|| -> std::io::Result<()> {
        let mut f = fs::File::create(path)?;
        f.write_all(bytes)?;
        f.sync_all()
    })()
    .with_context(|| format!("cannot write {}", path.display()))
}

/// Flushes a directory's entries (renames, new files) to disk. Best effort: not every
/// platform can open a directory.
pub fn sync_dir(dir: &Path) {
    if let Ok(f) = fs::File::open(dir) {
        let _ = f.sync_all();
    }
}

pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = parent_of(path);
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    if path.is_dir() {
        bail!("cannot write {}: it is a directory", path.display());
    }
    let tmp = temp_sibling(path)?;
    let result = write_synced(&tmp, bytes).and_then(|()| {
        fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
    });
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Checks, before any long computation, that `path` can later be written: its directory
/// exists or can be created, accepts a new file, and `path` is not a directory.
/// Whether `a` and `b` name one existing file (through links or `..`): writing one would
/// overwrite the other.
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

pub fn check_writable(path: &Path) -> Result<()> {
    let dir = parent_of(path);
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    if path.is_dir() {
        bail!("cannot write {}: it is a directory", path.display());
    }
    let probe = temp_sibling(path)?;
    fs::File::create(&probe).with_context(|| {
        format!(
            "cannot write {}: its directory is not writable",
            path.display()
        )
    })?;
    let _ = fs::remove_file(&probe);
    Ok(())
}

/// Publishes several files together: all are written to temporary siblings first, then
/// renamed into place; when a rename fails, the files already replaced get their old
/// contents back, so on an error either every file is new or every file is as before.
pub fn write_all_or_nothing(files: &[(&Path, &[u8])]) -> Result<()> {
    for (path, _) in files {
        check_writable(path)?;
    }
    let mut temps = Vec::new();
    let cleanup = |temps: &[PathBuf]| {
        for t in temps {
            let _ = fs::remove_file(t);
        }
    };
    for (path, bytes) in files {
        let tmp = temp_sibling(path)?;
        if let Err(e) = write_synced(&tmp, bytes) {
            cleanup(&temps);
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        temps.push(tmp);
    }
    // Old contents kept as hard links until every rename succeeded.
    let mut done: Vec<(&Path, Option<PathBuf>)> = Vec::new();
    for ((path, _), tmp) in files.iter().zip(&temps) {
        let backup = if path.is_file() {
            let b = parent_of(path).join(format!(
                ".{}.old-{}",
                path.file_name().unwrap_or_default().to_string_lossy(),
                unique_suffix()
            ));
            let _ = fs::remove_file(&b);
            fs::hard_link(path, &b).ok().map(|()| b)
        } else {
            None
        };
        if let Err(e) = fs::rename(tmp, path) {
            for (p, b) in done.iter().rev() {
                match b {
                    Some(b) => {
                        let _ = fs::rename(b, p);
                    }
                    None => {
                        let _ = fs::remove_file(p);
                    }
                }
            }
            if let Some(b) = backup {
                let _ = fs::remove_file(b);
            }
            cleanup(&temps);
            return Err(e).with_context(|| format!("cannot write {}", path.display()));
        }
        done.push((path, backup));
    }
    for (_, b) in done {
        if let Some(b) = b {
            let _ = fs::remove_file(b);
        }
    }
    Ok(())
}

/// Swaps two existing paths in one step (Linux `renameat2(RENAME_EXCHANGE)`). `Ok(false)`
/// where the platform or filesystem cannot.
#[cfg(target_os = "linux")]
pub fn exchange(a: &Path, b: &Path) -> Result<bool> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let ca = CString::new(a.as_os_str().as_bytes())?;
    let cb = CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: both paths are valid NUL-terminated strings for the duration of the call.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        return Ok(true);
    }
    let err = std::io::Error::last_os_error();
    match err.raw_os_error() {
        Some(libc::EINVAL) | Some(libc::ENOSYS) | Some(libc::EOPNOTSUPP) => Ok(false),
        _ => {
            Err(err).with_context(|| format!("cannot replace {} with {}", b.display(), a.display()))
        }
    }
}

#[cfg(not(target_os = "linux"))]
pub fn exchange(_a: &Path, _b: &Path) -> Result<bool> {
    Ok(false)
}

/// Marks a filesystem step of a crash-safe save (see [`failpoint`]).
pub fn step(what: &str) {
    failpoint::hit("checkpoint", what);
}

pub fn to_json_pretty<T: serde::Serialize>(value: &T) -> Result<String> {
    Ok(serde_json::to_string_pretty(value)?)
}

/// Prints `text` to standard output. Any failure to write it — a closed pipe (`probable …
/// | head`) included — ends the program with status 2 and a message on standard error:
/// the output was not delivered, so the run did not succeed (never status 0, never the
/// panic `println!` gives). Commands print only after their files are written, so what a
/// closed pipe loses is the table, never a result.
pub fn emit(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        fail_on_stdout(&e);
    }
}

/// Prints a progress or status line to standard error; a closed standard error is
/// ignored (a note is not a result; `eprintln!` would panic there).
pub fn note(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
}

/// Ends the program after standard output failed (see [`emit`]).
fn fail_on_stdout(e: &std::io::Error) -> ! {
    let why = if e.kind() == std::io::ErrorKind::BrokenPipe {
        "standard output was closed before everything was printed".to_string()
    } else {
        format!("cannot write to standard output: {e}")
    };
    // Standard error may be a closed pipe as well: `eprintln!` would panic there.
    let _ = writeln!(std::io::stderr(), "error: {why}");
    std::process::exit(2);
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::path::Path;

    use super::temp_sibling;

    /// Two jobs of one process (`sweep --jobs`) saving the same file name at once once
    /// shared a `PID`-only temporary name, and one removed the other's file.
    #[test]
    fn temporary_names_differ_between_calls_and_threads() {
        let path = Path::new("out/model.safetensors");
        let names: Vec<_> = std::thread::scope(|s| {
            let jobs: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        (0..100)
                            .map(|_| temp_sibling(path).unwrap())
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            jobs.into_iter().flat_map(|j| j.join().unwrap()).collect()
        });
        let distinct: HashSet<_> = names.iter().collect();
        assert_eq!(distinct.len(), names.len());
        assert!(names.iter().all(|n| n.parent() == Some(Path::new("out"))));
    }
}
