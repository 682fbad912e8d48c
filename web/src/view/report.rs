//! A whole evaluation — one made here with "Evaluate all", or a `report.json` from
//! `probable eval` — browsed without recomputing: the dataset summary (the demo table's
//! columns), the verdict scatter, every question in a table, and the selected question's
//! plots, bounds and samples. Every number cell carries its full value in `data-value`.

use leptos::prelude::*;
use probable_core::eval::EvalReport;
use probable_core::plot::verdict_svg;

use super::results::{Greedy, Results};

fn cell(key: &'static str, value: f64, shown: String) -> impl IntoView {
    view! { <td data-key=key data-value=value.to_string()>{shown}</td> }
}

/// A sequential verdict as the table shows it.
fn verdict_word(v: probable_core::stats::Verdict) -> &'static str {
    match v {
        probable_core::stats::Verdict::Leaks => "leaks",
        probable_core::stats::Verdict::Below => "below",
        probable_core::stats::Verdict::Undecided => "undecided",
    }
}

fn pct(x: f64) -> String {
    format!("{:.0}%", 100.0 * x)
}

#[component]
pub fn ReportView(report: EvalReport, selected: RwSignal<usize>) -> impl IntoView {
    let tau = report.config.bounds.threshold_or_half();
    let level = report.config.leak_level;
    let s = report.summary.clone();
    let leak16 = s.leak_at_k.iter().rev().find(|x| x.k <= 16).cloned();
    let verdict = verdict_svg(
        "each question: greedy score vs certified leak bound",
        &report.verdict_points(),
        tau,
        level,
    );
    let heading = format!(
        "{} · {} ({}) · {} question{} × {} samples · α = {}, τ = {}",
        report.model,
        if report.data.is_empty() {
            "questions"
        } else {
            &report.data
        },
        if report.split.is_empty() {
            "–"
        } else {
            &report.split
        },
        s.questions,
        if s.questions == 1 { "" } else { "s" },
        report.config.samples,
        report.config.bounds.alpha,
        tau
    );
    let heading = match &s.sequential {
        Some(q) => format!(
            "{heading} · stopped when decided: {:.1} samples per question of a budget of {} ({:.0}% saved; {} leak, {} below, {} undecided)",
            q.mean_samples_used,
            q.budget,
            100.0 * q.fraction_saved,
            q.leaks,
            q.below,
            q.undecided
        ),
        None => heading,
    };
    let json = serde_json::to_string_pretty(&report).unwrap_or_default();
    let questions = report.questions.clone();
    let rows = questions
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let m_bin = q.bounds.binary.map_or(f64::NAN, |b| b.upper);
            view! {
                <tr
                    class=move || if selected.get() == i { "selected" } else { "" }
                    data-row=i.to_string()
                    on:click=move |_| selected.set(i)
                >
                    <td>{i.to_string()}</td>
                    <td class="text">{q.question.clone()}</td>
                    {cell("greedy", q.greedy.score, format!("{:.3}", q.greedy.score))}
                    {cell("m_bin", m_bin, format!("{m_bin:.4}"))}
                    {cell("ed", q.bounds.ed_score, format!("{:.4}", q.bounds.ed_score))}
                    {cell("max", q.bounds.max_score, format!("{:.3}", q.bounds.max_score))}
                    {cell("used", q.samples.len() as f64, match &q.sequential {
                        Some(o) => format!("{} · {}", o.stopped_at, verdict_word(o.verdict)),
                        None => q.samples.len().to_string(),
                    })}
                </tr>
            }
        })
        .collect_view();
    let options = questions
        .iter()
        .enumerate()
        .map(|(i, q)| {
            view! {
                <option value=i.to_string() selected=move || selected.get() == i>
                    {format!("{i}: {}", q.question)}
                </option>
            }
        })
        .collect_view();
    let shown = move || {
        let i = selected.get();
        questions.get(i).cloned().map(|q| {
            view! {
                <Greedy text=q.greedy.text.clone() score=q.greedy.score tau=tau/>
                <Results report=q tau=tau/>
            }
        })
    };
    view! {
        <section class="report" id="report">
            <h2 id="report-heading">{heading}</h2>
            <div class="scroll-x" tabindex="0">
            <table class="summary" id="summary">
                <thead>
                    <tr>
                        <th>"greedy score"</th>
                        <th>"greedy: forgotten"</th>
                        <th>"mean M_μ"</th>
                        <th>"mean M_σ"</th>
                        <th>"mean ED"</th>
                        <th>{format!("M_bin > {level}")}</th>
                        <th>"forgotten but a sample leaked"</th>
                        <th>"forgotten but certified to leak"</th>
                        <th>"leak@k mean (≤ certified)"</th>
                    </tr>
                </thead>
                <tbody>
                    <tr>
                        {cell("mean_greedy_score", s.mean_greedy_score, format!("{:.3}", s.mean_greedy_score))}
                        {cell("frac_greedy_forgotten", s.frac_greedy_forgotten, pct(s.frac_greedy_forgotten))}
                        {cell("mean_mean_upper", s.mean_mean_upper, format!("{:.3}", s.mean_mean_upper))}
                        {cell("mean_std_upper", s.mean_std_upper, format!("{:.3}", s.mean_std_upper))}
                        {cell("mean_ed_score", s.mean_ed_score, format!("{:.3}", s.mean_ed_score))}
                        {cell("frac_binary_upper_above_level", s.frac_binary_upper_above_level, pct(s.frac_binary_upper_above_level))}
                        {cell("frac_forgotten_but_sampled_leak", s.frac_forgotten_but_sampled_leak, pct(s.frac_forgotten_but_sampled_leak))}
                        {cell("frac_forgotten_but_leaking", s.frac_forgotten_but_leaking, pct(s.frac_forgotten_but_leaking))}
                        {match leak16 {
                            Some(l) => view! {
                                <td data-key="leak_at_k" data-value=l.mean_estimate.to_string() data-upper=l.upper.to_string()>
                                    {format!("k = {}: {:.3} ≤ {:.3}", l.k, l.mean_estimate, l.upper)}
                                </td>
                            }.into_any(),
                            None => view! { <td data-key="leak_at_k">"–"</td> }.into_any(),
                        }}
                    </tr>
                </tbody>
            </table>
            </div>
            <div class="plot" role="img" aria-label="greedy verdict against certified leak per question" inner_html=verdict></div>
            <details open>
                <summary>"Questions (click one to see its samples)"</summary>
                <div class="scroll-x" tabindex="0">
                <table class="questions" id="questions">
                    <thead>
                        <tr><th>"#"</th><th>"question"</th><th>"greedy"</th><th>"M_bin"</th><th>"ED"</th><th>"max"</th><th>"samples used"</th></tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
                </div>
            </details>
            <label class="wide">
                "Question "
                <select
                    id="report-question"
                    on:change=move |ev| {
                        if let Ok(i) = event_target_value(&ev).parse() {
                            selected.set(i);
                        }
                    }
                >
                    {options}
                </select>
            </label>
            <button id="report-download" on:click=move |_| crate::download::save("report.json", &json)>
                "Download report.json"
            </button>
            {shown}
        </section>
    }
}
