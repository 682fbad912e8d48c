//! `probable bounds`: certified bounds on scores a user brings.

use anyhow::Result;
use probable_core::stats::{BoundsConfig, BoundsSummary, DeviationMethod, IntegralMethod};

use crate::input::{parse_alpha, parse_scores, parse_unit, parse_weight, read_text};

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
