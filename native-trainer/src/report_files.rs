//! Where an evaluation report goes: the JSON at `--out` and the HTML page beside it
//! (`--out` with the extension `.html`). The two must never be the same file — an `--out`
//! ending in `.html` once had the page overwrite the report — so such an `--out` is refused
//! before any work, and both files are published together (all or nothing).

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use probable_core::eval::EvalReport;

use crate::html::report_html;
use crate::output::{check_writable, to_json_pretty, write_all_or_nothing};

/// The JSON report path and the HTML page path beside it. Refuses an `out` whose extension
/// is `html`/`htm` (any case): the page would take the report's place.
pub fn report_paths(out: &Path) -> Result<(PathBuf, PathBuf)> {
    let ext = out
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    if matches!(ext.as_deref(), Some("html" | "htm")) {
        bail!(
            "--out {}: the JSON report would be overwritten by its HTML page, which is written beside it as NAME.html; give the JSON path (e.g. {})",
            out.display(),
            out.with_extension("json").display()
        );
    }
    let html = out.with_extension("html");
    if html == out {
        bail!("--out {}: names the HTML page itself", out.display());
    }
    Ok((out.to_path_buf(), html))
}

/// Checks, before any work, that both files of a report can be written at `out`; returns
/// their paths (JSON, HTML).
pub fn check_report_paths(out: &Path) -> Result<(PathBuf, PathBuf)> {
    let (json, html) = report_paths(out)?;
    check_writable(&json)?;
    check_writable(&html)?;
    Ok((json, html))
}

/// Writes the JSON report and the HTML page beside it, both or neither.
pub fn write_report(report: &EvalReport, out: &Path) -> Result<()> {
    let (json_path, html) = report_paths(out)?;
    let json = to_json_pretty(report)?;
    let page = report_html(report);
    write_all_or_nothing(&[(&json_path, json.as_bytes()), (&html, page.as_bytes())])?;
    crate::output::note(&format!(
        "wrote {} and {}",
        json_path.display(),
        html.display()
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_html_out_is_refused_and_paths_never_coincide() {
        for bad in ["x.html", "d/x.HTM", "x.Html"] {
            let e = report_paths(Path::new(bad)).unwrap_err().to_string();
            assert!(e.contains("overwritten by its HTML page"), "{e}");
        }
        let (j, h) = report_paths(Path::new("d/r.json")).unwrap();
        assert_eq!(
            (j.as_path(), h.as_path()),
            (Path::new("d/r.json"), Path::new("d/r.html"))
        );
        let (j, h) = report_paths(Path::new("report")).unwrap();
        assert_ne!(j, h);
    }
}
