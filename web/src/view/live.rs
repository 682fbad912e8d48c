//! A one-question run as it happens, and its outcome in one sentence per side: the greedy
//! verdict next to what the samples certify.

use leptos::prelude::*;
use probable_core::eval::QuestionReport;

use crate::state::Live;

/// The samples arriving: how many, how many leaked, the certified bounds so far, and the
/// latest leaking answers.
#[component]
pub fn LivePanel(live: Live, total: u64, tau: f64, alpha: f64) -> impl IntoView {
    // Newest first.
    let latest = live
        .leaking
        .iter()
        .rev()
        .map(|(i, score, text)| {
            view! {
                <li class="sample leak">
                    <span class="score">{format!("{score:.2}")}</span>
                    <span class="index">{format!("#{i}")}</span>
                    <span class="text">{text.clone()}</span>
                </li>
            }
        })
        .collect_view();
    let bound = if live.n == 0 {
        "waiting for the first samples…".to_string()
    } else if live.lower > 0.0 {
        format!(
            "certified: P(leak) ≥ {:.3} (and ≤ {:.3}), each with probability ≥ {}",
            live.lower,
            live.upper,
            1.0 - alpha
        )
    } else {
        format!(
            "no certified leak yet: P(leak) ≤ {:.3} (probability ≥ {})",
            live.upper,
            1.0 - alpha
        )
    };
    view! {
        <section class="live" id="live" aria-live="polite" data-n=live.n.to_string() data-leaks=live.leaks.to_string() data-lower=live.lower.to_string()>
            <h2>"Samples arriving"</h2>
            <p>
                <b id="live-count">{format!("{} of {} samples leaked", live.leaks, live.n)}</b>
                {format!(" (score ≥ τ = {tau}; {} still to draw) · ", total.saturating_sub(live.n))}
                <span id="live-bound">{bound}</span>
            </p>
            <progress max=total.to_string() value=live.n.to_string() aria-label="samples drawn"></progress>
            <ol class="samples latest" tabindex="0" aria-label="latest leaking samples">{latest}</ol>
        </section>
    }
}

/// Greedy's verdict beside the samples' certified one, with the bounds behind it.
#[component]
pub fn Verdict(report: QuestionReport, tau: f64) -> impl IntoView {
    let b = &report.bounds;
    let greedy_forgotten = report.greedy.score < tau;
    let greedy = if greedy_forgotten {
        format!(
            "says forgotten: ROUGE-L {:.2} < τ = {tau}",
            report.greedy.score
        )
    } else {
        format!(
            "says it leaks: ROUGE-L {:.2} ≥ τ = {tau}",
            report.greedy.score
        )
    };
    let (sampling, certified) = match b.binary {
        Some(x) if x.lower > 0.0 => (
            format!(
                "certified to leak with probability ≥ {:.3} ({} of {} samples leaked; P(leak) ≤ {:.3}; α = {})",
                x.lower, x.leaks, b.n, x.upper, b.alpha
            ),
            true,
        ),
        Some(x) => (
            format!(
                "no certified leak: P(leak) ≤ {:.3} ({} of {} samples leaked; α = {})",
                x.upper, x.leaks, b.n, b.alpha
            ),
            false,
        ),
        None => (
            format!("expected score ≤ {:.3} (α = {})", b.mean_upper, b.alpha),
            false,
        ),
    };
    let headline = match (greedy_forgotten, certified) {
        (true, true) => "Greedy says forgotten; sampling certifies a leak.",
        (true, false) => "Greedy says forgotten; the samples do not certify a leak.",
        (false, _) => "Greedy decoding already leaks.",
    };
    view! {
        <section class="verdict-pair" id="verdict" aria-labelledby="verdict-title" data-certified=certified.to_string() data-greedy-forgotten=greedy_forgotten.to_string()>
            <h2 id="verdict-title">{headline}</h2>
            <div class="sides">
                <div class=if greedy_forgotten { "side ok" } else { "side leak" }>
                    <h3>"Greedy decoding"</h3>
                    <p id="verdict-greedy">{greedy}</p>
                </div>
                <div class=if certified { "side leak" } else { "side ok" }>
                    <h3>{format!("{} samples", b.n)}</h3>
                    <p id="verdict-sampling">{sampling}</p>
                </div>
            </div>
            <p class="note">
                {format!("M_μ (expected score) ≤ {:.3} · ED ≤ {:.3} · best sample {:.2}", b.mean_upper, b.ed_score, b.max_score)}
            </p>
        </section>
    }
}
