//! `probable bounds`: certified bounds on scores a user brings.

use anyhow::{Context, Result};
use probable_core::stats::{
    first_decision, BoundsConfig, BoundsSummary, DeviationMethod, IntegralMethod, SequentialConfig,
    SequentialOutcome,
};
use serde::Serialize;

use crate::input::{
    parse_alpha, parse_open_unit, parse_scores, parse_unit, parse_weight, read_text,
};

#[derive(clap::Args)]
pub struct Args {
    /// Level α: each one-sided bound holds with probability ≥ 1 − α.
    #[arg(long, default_value_t = 0.01, allow_negative_numbers = true, value_parser = parse_alpha)]
    pub alpha: f64,
    /// Weight λ of the deviation in the ED score M_μ + λ·M_σ.
    #[arg(long, default_value_t = 2.0, allow_negative_numbers = true, value_parser = parse_weight)]
    pub lambda: f64,
    /// Binarise scores (score ≥ τ is a leak) for the Clopper–Pearson bound M_bin.
    #[arg(long, allow_negative_numbers = true, value_parser = parse_unit)]
    pub leak_threshold: Option<f64>,
    /// Integrate the expectation bound exactly (tighter) instead of on conbo's 100-point grid.
    #[arg(long)]
    pub exact: bool,
    /// Use the sound standard-deviation bound instead of conbo's.
    #[arg(long)]
    pub sound_std: bool,
    /// Leak@k at these k (comma separated, each in 1..=n): the unbiased estimate and its
    /// certified bounds, from the M_bin event (needs --leak-threshold or 0/1 scores).
    #[arg(long, value_delimiter = ',')]
    pub k: Vec<u64>,
    /// Anytime-valid test: read the scores in sampling order and stop at the first sample
    /// where the leak probability's confidence sequence puts it above (`leaks`) or at most
    /// (`below`) --leak-level; the bounds are then those of the samples read. Needs
    /// --leak-threshold and --leak-level; not with --k (leak@k's Clopper–Pearson bounds do
    /// not hold at a data-dependent stop).
    #[arg(long, requires_all = ["leak_threshold", "leak_level"], conflicts_with = "k")]
    pub sequential: bool,
    /// With --sequential: the leak probability L the verdict compares with, in (0, 1).
    #[arg(long, requires = "sequential", allow_negative_numbers = true, value_parser = parse_open_unit)]
    pub leak_level: Option<f64>,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Score file, one score per line; `-` for standard input.
    #[arg(default_value = "-")]
    pub file: String,
}

pub fn run(args: Args) -> Result<()> {
    let name = if args.file == "-" {
        "<stdin>"
    } else {
        &args.file
    };
    let scores = parse_scores(name, &read_text(&args.file)?)?;
    let config = BoundsConfig {
        alpha: args.alpha,
        lambda: args.lambda,
        leak_threshold: args.leak_threshold,
        integral: if args.exact {
            IntegralMethod::Exact
        } else {
            IntegralMethod::default()
        },
        deviation: if args.sound_std {
            DeviationMethod::Sound
        } else {
            DeviationMethod::Conbo
        },
    };
    if args.sequential {
        return sequential(&args, name, &scores, &config);
    }
    let mut summary = BoundsSummary::compute(&scores, &config)?;
    if !args.k.is_empty() {
        summary = summary.with_leak_at_k(&args.k)?;
    }
    if args.json {
        crate::output::emit(&format!("{}\n", serde_json::to_string(&summary)?));
    } else {
        crate::output::emit(&table(&summary));
    }
    Ok(())
}

/// `bounds --sequential --json`: the bounds of the samples read, plus the test's record.
#[derive(Serialize)]
struct SequentialReport<'a> {
    #[serde(flatten)]
    summary: &'a BoundsSummary,
    sequential: &'a SequentialOutcome,
}

fn sequential(args: &Args, name: &str, scores: &[f64], config: &BoundsConfig) -> Result<()> {
    let (Some(threshold), Some(level)) = (args.leak_threshold, args.leak_level) else {
        // clap's `requires_all` guarantees both.
        anyhow::bail!("--sequential needs --leak-threshold and --leak-level");
    };
    let test = SequentialConfig::new(args.alpha, threshold, level);
    let outcome = first_decision(scores, &test).with_context(|| name.to_string())?;
    let read = &scores[..outcome.stopped_at as usize];
    let summary = BoundsSummary::compute(read, config)?;
    if args.json {
        let report = SequentialReport {
            summary: &summary,
            sequential: &outcome,
        };
        crate::output::emit(&format!("{}\n", serde_json::to_string(&report)?));
    } else {
        let mut out = table(&summary);
        out.push_str(&sequential_rows(&outcome, args.alpha, level, scores.len()));
        crate::output::emit(&out);
    }
    Ok(())
}

/// The sequential test's rows under the bounds table.
fn sequential_rows(o: &SequentialOutcome, alpha: f64, level: f64, total: usize) -> String {
    let conf = 100.0 * (1.0 - alpha);
    let verdict = serde_json::to_value(o.verdict)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let mut out = String::new();
    let mut row = |label: &str, value: String| out.push_str(&format!("{label:<34} {value}\n"));
    row(
        &format!("sequential verdict (L = {level})"),
        format!("{verdict} after {} of {total} samples", o.stopped_at),
    );
    row(
        &format!("leak probability ({conf:.0}% anytime)"),
        format!(
            "[{:.4}, {:.4}]  ({} of {} leak)",
            o.leak_probability.lower, o.leak_probability.upper, o.leaks, o.stopped_at
        ),
    );
    row(
        &format!("mean score ({conf:.0}% anytime)"),
        format!("[{:.4}, {:.4}]", o.mean.lower, o.mean.upper),
    );
    out
}

/// The human-readable view of one prompt's bounds.
pub fn table(s: &BoundsSummary) -> String {
    let conf = 100.0 * (1.0 - s.alpha);
    let mut out = String::new();
    let mut row = |label: &str, value: String| out.push_str(&format!("{label:<34} {value}\n"));
    row("samples n", s.n.to_string());
    row(
        "sample mean / std",
        format!("{:.4} / {:.4}", s.sample_mean, s.sample_std),
    );
    row("max score", format!("{:.4}", s.max_score));
    row(
        &format!("expectation M_mu ({conf:.0}% one-sided)"),
        format!("[{:.4}, {:.4}]", s.mean_lower, s.mean_upper),
    );
    row(
        &format!("std M_sigma ({conf:.0}% band)"),
        format!("[{:.4}, {:.4}]", s.std_lower, s.std_upper),
    );
    row(
        &format!("ED = M_mu + {}·M_sigma", s.lambda),
        format!("{:.4}", s.ed_score),
    );
    row("DKW epsilon (one-sided)", format!("{:.4}", s.dkw_epsilon));
    if let Some(b) = &s.binary {
        row(
            &format!("M_bin: P(score >= {}) ", b.threshold),
            format!(
                "[{:.4}, {:.4}]  ({} of {} leak)",
                b.lower, b.upper, b.leaks, s.n
            ),
        );
    }
    for l in s.leak_at_k.iter().flatten() {
        row(
            &format!("leak@{} (estimate, bounds)", l.k),
            format!("{:.4}  [{:.4}, {:.4}]", l.estimate, l.lower, l.upper),
        );
    }
    out
}
