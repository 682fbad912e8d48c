//! The outcome of one evaluation: the figures, the bounds table and every sample with the
//! words it shares with the reference marked. All text goes in as text nodes; the SVG
//! comes from `probable-core`, which escapes every label.

use leptos::prelude::*;
use probable_core::eval::QuestionReport;
use probable_core::plot::leak_curve::question_points;
use probable_core::plot::{ecdf_svg, histogram_svg, leak_at_k_svg, survival_svg};
use probable_core::stats::{dkw_epsilon, Ecdf, Sidedness};

use crate::highlight::leak_spans;

#[component]
pub fn Greedy(text: String, score: f64, tau: f64) -> impl IntoView {
    let forgotten = score < tau;
    view! {
        <section class="greedy">
            <h2>"Greedy decoding"</h2>
            <p class="answer" id="greedy-answer">{text}</p>
            <p>
                "ROUGE-L recall vs. the reference: "
                <b id="greedy-score">{format!("{score:.3}")}</b>
                " · "
                <span id="greedy-verdict" class=if forgotten { "verdict ok" } else { "verdict leak" }>
                    {if forgotten {
                        format!("looks forgotten (below τ = {tau})")
                    } else {
                        format!("leaks under greedy decoding (≥ τ = {tau})")
                    }}
                </span>
            </p>
        </section>
    }
}

fn row(name: &'static str, key: &'static str, value: String, note: String) -> impl IntoView {
    view! {
        <tr>
            <th>{name}</th>
            <td data-bound=key>{value}</td>
            <td class="note">{note}</td>
        </tr>
    }
}

#[component]
pub fn Results(report: QuestionReport, tau: f64) -> impl IntoView {
    let b = report.bounds.clone();
    let alpha = b.alpha;
    let scores: Vec<f64> = report.samples.iter().map(|s| s.score).collect();
    let histogram = histogram_svg(
        "scores of the samples",
        &scores,
        Some(report.greedy.score),
        Some(b.mean_upper),
    );
    let ecdf = Ecdf::new(&scores)
        .map(|e| {
            let eps = dkw_epsilon(e.n(), alpha, Sidedness::TwoSided);
            ecdf_svg("empirical CDF and DKW band", &e, eps)
        })
        .unwrap_or_default();
    let survival = survival_svg("leak bound M_gen: P(score > t)", &b.survival, Some(tau));
    let leak_curve = b
        .leak_at_k
        .as_ref()
        .map(|l| {
            leak_at_k_svg(
                "leak@k: P(at least 1 of k samples leaks)",
                &question_points(l),
            )
        })
        .unwrap_or_default();
    // The largest k ≤ 16 reported: what a small sampling budget reveals.
    let leak16 = b
        .leak_at_k
        .as_ref()
        .and_then(|l| l.iter().rev().find(|x| x.k <= 16).copied());
    let binary = b.binary;
    let leaks = binary.map_or(0, |x| x.leaks);
    let json = serde_json::to_string(&report).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    let mut ranked: Vec<_> = report.samples.iter().enumerate().collect();
    ranked.sort_by(|a, b| b.1.score.total_cmp(&a.1.score).then(a.0.cmp(&b.0)));
    let answer = report.answer.clone();
    let samples = ranked
        .into_iter()
        .map(|(i, s)| {
            let leak = s.score >= tau;
            let spans = leak_spans(&s.text, &answer)
                .into_iter()
                .map(|sp| {
                    if sp.leaked {
                        view! { <mark>{sp.text}</mark> }.into_any()
                    } else {
                        sp.text.into_any()
                    }
                })
                .collect_view();
            view! {
                <li class=if leak { "sample leak" } else { "sample" } data-score=s.score.to_string()>
                    <span class="score">{format!("{:.3}", s.score)}</span>
                    <span class="index">{format!("#{i}")}</span>
                    <span class="text">{spans}</span>
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="results" id="results">
            <h2>{format!("{} samples", b.n)}</h2>
            <div class="scroll-x" tabindex="0">
            <table class="bounds" id="bounds">
                <caption>{format!("Bounds, each holding with probability ≥ 1 − α = {}", 1.0 - alpha)}</caption>
                {row(
                    "M_bin",
                    "m_bin",
                    binary.map_or("–".into(), |x| format!("{:.4}", x.upper)),
                    format!("P(leak) upper bound at τ = {tau} (Clopper–Pearson; {leaks} of {} samples leaked; lower {:.4})",
                        b.n, binary.map_or(0.0, |x| x.lower)),
                )}
                {row(
                    "leak@k",
                    "leak_at_k",
                    leak16.map_or("–".into(), |x| format!("{:.4}", x.estimate)),
                    leak16.map_or(String::new(), |x| format!(
                        "k = {}: chance that one of {} samples leaks (estimate); certified [{:.4}, {:.4}] for every k at once",
                        x.k, x.k, x.lower, x.upper
                    )),
                )}
                {row("M_gen(τ)", "m_gen", format!("{:.4}", b.survival.iter().rev().find(|p| p.t <= tau).map_or(1.0, |p| p.upper)), "P(score > τ) upper bound (DKW)".into())}
                {row("M_μ", "m_mu", format!("{:.4}", b.mean_upper), format!("expected score upper bound (sample mean {:.4})", b.sample_mean))}
                {row("M_σ", "m_sigma", format!("{:.4}", b.std_upper), format!("score std upper bound (sample std {:.4})", b.sample_std))}
                {row("ED", "ed", format!("{:.4}", b.ed_score), format!("M_μ + λ·M_σ, λ = {}", b.lambda))}
                {row("max", "max", format!("{:.4}", b.max_score), "highest score among the samples".into())}
            </table>
            </div>
            <div class="plots">
                <div class="plot" role="img" aria-label="histogram of the sample scores" inner_html=histogram></div>
                <div class="plot" role="img" aria-label="empirical CDF of the scores with its DKW band" inner_html=ecdf></div>
                <div class="plot" role="img" aria-label="leak bound M_gen: P(score > t) against t" inner_html=survival></div>
                <div class="plot" role="img" aria-label="leak at k: chance that one of k samples leaks" inner_html=leak_curve></div>
            </div>
            <h3>"Samples by score (words shared with the reference marked)"</h3>
            <ol class="samples" id="samples" tabindex="0" aria-label="samples by score">{samples}</ol>
            <details>
                <summary>"Result as JSON"</summary>
                <pre id="result-json" tabindex="0">{json}</pre>
            </details>
        </section>
    }
}
