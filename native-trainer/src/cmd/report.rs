//! `probable report`: work with evaluation reports without sampling again — merge shard
//! reports, show one as tables or CSV, re-score one with other settings.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use probable_core::eval::{merge_reports, rescore, EvalReport, Rescore};
use probable_core::metrics::Metric;

use crate::args::MetricArg;
use crate::data::load_split_with;
use crate::input::{parse_alpha, parse_unit, parse_weight, read_text};
use crate::report_files::{check_report_paths, write_report};
use probable_core::data::QaKeys;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(clap::Subcommand)]
pub enum Action {
    /// Merge shard reports (from `eval --shard i/N`) into one report (+ HTML).
    Merge {
        #[arg(required = true)]
        reports: Vec<PathBuf>,
        #[arg(long)]
        out: PathBuf,
        /// Merge even when shards are missing (recorded in the report's `merged.missing`).
        #[arg(long)]
        allow_partial: bool,
    },
    /// Print a report's per-question and summary tables, or CSV for pandas/spreadsheets.
    Show {
        report: PathBuf,
        /// CSV, one row per question (with `--per-sample`: one per sample).
        #[arg(long)]
        csv: bool,
        #[arg(long, requires = "csv")]
        per_sample: bool,
    },
    /// Recompute scores and bounds from the stored samples with other settings (no
    /// sampling); the same numbers as a fresh `eval` with those settings and seed.
    Rescore {
        report: PathBuf,
        #[arg(long, allow_negative_numbers = true, value_parser = parse_unit)]
        leak_threshold: Option<f64>,
        #[arg(long, allow_negative_numbers = true, value_parser = parse_alpha)]
        alpha: Option<f64>,
        #[arg(long, allow_negative_numbers = true, value_parser = parse_weight)]
        lambda: Option<f64>,
        #[arg(long, allow_negative_numbers = true, value_parser = parse_unit)]
        leak_level: Option<f64>,
        /// Leak@k at these k (comma separated).
        #[arg(long, value_delimiter = ',')]
        k: Vec<u64>,
        #[arg(long, value_enum)]
        metric: Option<MetricArg>,
        /// The QA data (for keywords when the metric changes to `keyword`).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Write the new report (+ HTML) here.
        #[arg(long)]
        out: PathBuf,
    },
}

fn read_report(path: &Path) -> Result<EvalReport> {
    let text = read_text(&path.display().to_string())?;
    EvalReport::from_json(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// References by question id from `--data` (a QA file, or a directory of split files as
/// `eval --data` takes; there the report's split is read).
fn references(data: &Path, report: &EvalReport) -> Result<HashMap<String, (String, Vec<String>)>> {
    let split = data.is_dir().then_some(report.split.as_str());
    let (_, items) = load_split_with(data, split, &QaKeys::default())?;
    Ok(items
        .into_iter()
        .map(|q| (q.id, (q.answer, q.keywords)))
        .collect())
}

pub fn run(args: Args) -> Result<()> {
    match args.action {
        Action::Merge {
            reports,
            out,
            allow_partial,
        } => {
            check_report_paths(&out)?;
            let parsed = reports
                .iter()
                .map(|p| read_report(p))
                .collect::<Result<Vec<_>>>()?;
            let names: Vec<String> = reports.iter().map(|p| p.display().to_string()).collect();
            let merged = merge_reports(parsed, allow_partial).map_err(|e| {
                // "report #k" → the file it was.
                let mut e = e;
                for (k, name) in names.iter().enumerate().rev() {
                    e = e.replace(&format!("report #{}", k + 1), name);
                }
                anyhow::anyhow!(e)
            })?;
            if !merged.merged.as_ref().is_some_and(|m| m.missing.is_empty()) {
                crate::output::note(
                    "warning: partial merge; the report records the missing shards",
                );
            }
            // Written first: a closed pipe may lose the table, never the report.
            write_report(&merged, &out)?;
            crate::output::emit(&crate::report_table::table(&merged));
            Ok(())
        }
        Action::Show {
            report,
            csv,
            per_sample,
        } => {
            let r = read_report(&report)?;
            if csv {
                crate::output::emit(&to_csv(&r, per_sample)?);
            } else {
                crate::output::emit(&crate::report_table::table(&r));
            }
            Ok(())
        }
        Action::Rescore {
            report,
            leak_threshold,
            alpha,
            lambda,
            leak_level,
            k,
            metric,
            data,
            out,
        } => {
            check_report_paths(&out)?;
            let r = read_report(&report)?;
            let references = data.as_deref().map(|d| references(d, &r)).transpose()?;
            let change = Rescore {
                leak_threshold,
                alpha,
                lambda,
                leak_level,
                leak_ks: (!k.is_empty()).then_some(k),
                metric: metric.map(Metric::from),
                references,
            };
            let new = rescore(&r, &change).with_context(|| format!("{}", report.display()))?;
            write_report(&new, &out)?;
            crate::output::emit(&crate::report_table::table(&new));
            Ok(())
        }
    }
}

fn to_csv(r: &EvalReport, per_sample: bool) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    // With several prompts per question each row names its prompt (the data key), else
    // the rows of `question` and `paraphrased_question` could not be told apart.
    let variants = r.config.prompt_variants.len() > 1;
    if per_sample {
        let mut header = vec!["index", "id", "sample", "score", "stopped_on_eos", "text"];
        if variants {
            header.insert(2, "variant");
        }
        w.write_record(&header)?;
        for q in &r.questions {
            for (i, s) in q.samples.iter().enumerate() {
                let mut row = vec![
                    q.index.to_string(),
                    q.id.clone(),
                    i.to_string(),
                    s.score.to_string(),
                    s.stopped_on_eos.to_string(),
                    s.text.clone(),
                ];
                if variants {
                    row.insert(2, q.variant.clone().unwrap_or_default());
                }
                w.write_record(&row)?;
            }
        }
    } else {
        let ks: Vec<u64> = r
            .questions
            .first()
            .and_then(|q| q.bounds.leak_at_k.as_ref())
            .map(|l| l.iter().map(|x| x.k).collect())
            .unwrap_or_default();
        let mut header: Vec<String> = [
            "index",
            "id",
            "greedy_score",
            "greedy_forgotten",
            "n",
            "sample_mean",
            "max_score",
            "mean_upper",
            "std_upper",
            "ed_score",
            "leaks",
            "m_bin_lower",
            "m_bin_upper",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        if variants {
            header.insert(2, "variant".into());
        }
        for k in &ks {
            header.extend([
                format!("leak_at_{k}"),
                format!("leak_at_{k}_lower"),
                format!("leak_at_{k}_upper"),
            ]);
        }
        w.write_record(&header)?;
        for q in &r.questions {
            let b = &q.bounds;
            let mut row = vec![
                q.index.to_string(),
                q.id.clone(),
                q.greedy.score.to_string(),
                q.greedy_forgotten.to_string(),
                b.n.to_string(),
                b.sample_mean.to_string(),
                b.max_score.to_string(),
                b.mean_upper.to_string(),
                b.std_upper.to_string(),
                b.ed_score.to_string(),
                b.binary.map_or(String::new(), |x| x.leaks.to_string()),
                b.binary.map_or(String::new(), |x| x.lower.to_string()),
                b.binary.map_or(String::new(), |x| x.upper.to_string()),
            ];
            if variants {
                row.insert(2, q.variant.clone().unwrap_or_default());
            }
            for l in b.leak_at_k.iter().flatten() {
                row.extend([
                    l.estimate.to_string(),
                    l.lower.to_string(),
                    l.upper.to_string(),
                ]);
            }
            w.write_record(&row)?;
        }
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}
