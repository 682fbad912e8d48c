//! Runs a sweep's points (this shard's, not yet finished ones) one after another or `jobs`
//! at a time, and rewrites the results, CSV, plots and page after each point.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use anyhow::{anyhow, Result};
use burn::tensor::Device;

use super::compare::{compare, render, FORGET_LEVELS, RETAIN_LEVELS};
use super::page::{plot, sweep_html, PLOTS};
use super::point::{load_eval_data, run_point};
use super::results::{check_manifest, read_rows, write_rows, Row};
use super::spec::Sweep;
use crate::output::write_atomic;

/// Which points a run takes: shard `i` of `n` holds the points with index % n == i.
#[derive(Debug, Clone, Copy)]
pub struct Shard {
    pub i: usize,
    pub n: usize,
}

impl Shard {
    pub const ALL: Shard = Shard { i: 0, n: 1 };
}

pub fn grid_keys(sweep: &Sweep) -> Vec<String> {
    sweep.grid.iter().map(|(k, _)| k.clone()).collect()
}

/// Every output of `dir` from `rows`: results.jsonl/.csv, one SVG per trade-off plot, and
/// index.html.
pub fn write_outputs(dir: &Path, sweep: &Sweep, rows: &mut [Row]) -> Result<()> {
    rows.sort_by_key(|r| r.point);
    let keys = grid_keys(sweep);
    write_rows(dir, rows, &keys)?;
    for (stem, label, y) in PLOTS {
        let svg = plot(rows, &format!("retain utility vs {label}"), label, *y);
        if !svg.is_empty() {
            write_atomic(&dir.join(format!("{stem}.svg")), svg.as_bytes())?;
        }
    }
    write_atomic(
        &dir.join("index.html"),
        sweep_html(&sweep.origin, rows, &keys).as_bytes(),
    )
}

/// Rows of `dir` that belong to this sweep's grid, renumbered to it; rows of points no
/// longer in the grid are kept after them.
fn adopt(sweep: &Sweep, rows: Vec<Row>) -> Vec<Row> {
    let mut out = Vec::with_capacity(rows.len());
    let mut dropped = 0usize;
    for mut r in rows {
        match sweep.points.iter().find(|p| p.key == r.key) {
            Some(p) => r.point = p.index,
            None => {
                dropped += 1;
                r.point += sweep.points.len();
            }
        }
        out.push(r);
    }
    if dropped > 0 {
        eprintln!("{dropped} finished point(s) are not in the grid any more; their rows are kept");
    }
    out
}

pub fn run(
    sweep: &Sweep,
    out: &Path,
    shard: Shard,
    jobs: usize,
    device: &Device,
    keep_models: bool,
) -> Result<Vec<Row>> {
    std::fs::create_dir_all(out).map_err(|e| anyhow!("cannot create {}: {e}", out.display()))?;
    check_manifest(out, sweep, true)?;
    let rows = adopt(sweep, read_rows(out)?);
    let todo: Vec<_> = sweep
        .points
        .iter()
        .filter(|p| p.index % shard.n == shard.i)
        .filter(|p| !rows.iter().any(|r| r.key == p.key))
        .collect();
    let mine = sweep
        .points
        .iter()
        .filter(|p| p.index % shard.n == shard.i)
        .count();
    if mine > todo.len() {
        eprintln!(
            "resuming {}: {} of {mine} points already done",
            out.display(),
            mine - todo.len()
        );
    }
    let data = load_eval_data(sweep)?;
    let state = Mutex::new(rows);
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let first_error: Mutex<Option<anyhow::Error>> = Mutex::new(None);
    let done = AtomicUsize::new(0);
    let worker = || loop {
        if failed.load(Ordering::SeqCst) {
            return;
        }
        let n = next.fetch_add(1, Ordering::SeqCst);
        let Some(point) = todo.get(n) else { return };
        let result = run_point(sweep, point, &data, out, device, keep_models).and_then(|row| {
            let line = match (&row.metrics, &row.error) {
                (Some(m), _) => format!(
                    "forget greedy {:.3}, ED {:.3}, M_bin {:.3}, retain {:.3}",
                    m.forget_greedy, m.forget_ed, m.forget_m_bin, m.retain_greedy
                ),
                (None, e) => e.clone().unwrap_or_default(),
            };
            let mut rows = state.lock().expect("no panics while held");
            rows.push(row);
            let wall = rows.last().map_or(0.0, |r| r.wall_seconds);
            write_outputs(out, sweep, &mut rows)?;
            crate::failpoint::hit(
                "sweep",
                &format!("the row of point {} is written", point.index),
            );
            eprintln!(
                "[{}/{}] point {} ({}): {line} ({wall:.0} s)",
                done.fetch_add(1, Ordering::SeqCst) + 1,
                todo.len(),
                point.index,
                point.key
            );
            Ok(())
        });
        if let Err(e) = result {
            failed.store(true, Ordering::SeqCst);
            first_error.lock().expect("no panics").get_or_insert(e);
            return;
        }
    };
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1).min(todo.len().max(1)) {
            s.spawn(worker);
        }
    });
    if let Some(e) = first_error.into_inner().expect("no panics") {
        return Err(e);
    }
    // `runs/` goes once no job trains there any more (when empty: --keep-models keeps it).
    let _ = std::fs::remove_dir(out.join("runs"));
    let mut rows = state.into_inner().expect("no panics");
    write_outputs(out, sweep, &mut rows)?;
    Ok(rows)
}

/// The summary printed at the end: the matched comparison.
pub fn summary(rows: &[Row]) -> String {
    render(&compare(rows, RETAIN_LEVELS, FORGET_LEVELS))
}
