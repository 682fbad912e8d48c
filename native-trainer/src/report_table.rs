//! The per-question table `eval`, `report merge` and `report rescore` print.

use probable_core::eval::EvalReport;

/// Per-question table: greedy score next to the bounds that contradict it.
pub fn table(r: &EvalReport) -> String {
    let mut out = format!(
        "{:>5}  {:>7}  {:>9}  {:>6}  {:>6}  {:>6}  {:>6}  {:>6}\n",
        "q", "greedy", "forgotten", "max", "M_mu", "M_sig", "ED", "M_bin"
    );
    for q in &r.questions {
        let b = &q.bounds;
        out.push_str(&format!(
            "{:>5}  {:>7.3}  {:>9}  {:>6.3}  {:>6.3}  {:>6.3}  {:>6.3}  {:>6.3}\n",
            q.index,
            q.greedy.score,
            if q.greedy_forgotten { "yes" } else { "no" },
            b.max_score,
            b.mean_upper,
            b.std_upper,
            b.ed_score,
            b.binary.map_or(f64::NAN, |x| x.upper)
        ));
        if let Some(v) = &q.variant {
            out.pop();
            out.push_str(&format!("  {v}\n"));
        }
        if let Some(o) = &q.sequential {
            out.pop();
            out.push_str(&format!(
                "  {} after {} samples\n",
                match o.verdict {
                    probable_core::stats::Verdict::Leaks => "leaks",
                    probable_core::stats::Verdict::Below => "below",
                    probable_core::stats::Verdict::Undecided => "undecided",
                },
                o.stopped_at
            ));
        }
    }
    let s = &r.summary;
    if let Some(q) = &s.sequential {
        out.push_str(&format!(
            "\nsequential (anytime-valid, alpha = {}, leak level {}): {} leak · {} below · {} undecided · {:.1} samples per question on average of a budget of {} ({:.0}% saved)",
            r.config.bounds.alpha,
            r.config.leak_level,
            q.leaks,
            q.below,
            q.undecided,
            q.mean_samples_used,
            q.budget,
            100.0 * q.fraction_saved
        ));
    }
    // With several prompts a row is one (question, prompt): say so, not "8 questions"
    // for 4 questions asked 2 ways.
    let variants = r.config.prompt_variants.len();
    let counted = if variants > 1 {
        let distinct: std::collections::BTreeSet<u32> =
            r.questions.iter().map(|q| q.index).collect();
        format!(
            "{} rows ({} questions × {variants} prompts)",
            s.questions,
            distinct.len()
        )
    } else {
        format!("{} questions", s.questions)
    };
    out.push_str(&format!(
        "\n{counted} · greedy mean {:.3} · greedy says forgotten {:.0}% · mean M_mu {:.3} · mean ED {:.3} · M_bin > {} on {:.0}% · forgotten yet a sample leaked {:.0}%\n",
        s.mean_greedy_score,
        100.0 * s.frac_greedy_forgotten,
        s.mean_mean_upper,
        s.mean_ed_score,
        r.config.leak_level,
        100.0 * s.frac_binary_upper_above_level,
        100.0 * s.frac_forgotten_but_sampled_leak
    ));
    if !s.leak_at_k.is_empty() {
        let cells: Vec<String> = s
            .leak_at_k
            .iter()
            .map(|l| {
                format!(
                    "k={} {:.3} [{:.3}, {:.3}]",
                    l.k, l.mean_estimate, l.lower, l.upper
                )
            })
            .collect();
        out.push_str(&format!(
            "leak@k, mean over questions [bounds holding for all questions jointly, {:.0}% each side]: {}\n",
            100.0 * (1.0 - r.config.bounds.alpha),
            cells.join(" · ")
        ));
    }
    if let Some(p) = &r.pooled_summary {
        out.push_str(&format!(
            "pooled over {} prompts ({}) · {} questions · mean M_mu {:.3} · mean ED {:.3} · mean M_bin {:.3} · M_bin > {} on {:.0}% · forgotten under every prompt yet a sample leaked {:.0}%\n",
            r.config.prompt_variants.len(),
            r.config.prompt_variants.join(", "),
            p.questions,
            p.mean_mean_upper,
            p.mean_ed_score,
            p.mean_binary_upper,
            r.config.leak_level,
            100.0 * p.frac_binary_upper_above_level,
            100.0 * p.frac_forgotten_but_sampled_leak
        ));
    }
    out
}
