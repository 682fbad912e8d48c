//! The first screen: what the demo shows, with the shipped demo's own numbers
//! (`models/demo-summary.json`), and one action — watch it happen on one question.

use leptos::prelude::*;

use crate::actions::Actions;
use crate::summary::{percent, DemoSummary};

#[component]
pub fn Hero(actions: Actions, summary: DemoSummary) -> impl IntoView {
    let ui = actions.ui;
    let available = move || -> Vec<String> {
        ui.models
            .get()
            .into_iter()
            .map(|m| m.name)
            .collect::<Vec<_>>()
    };
    let questions = summary.models.first().map_or(0, |m| m.questions);
    let rows = summary
        .unlearned()
        .map(|m| {
            view! {
                <li data-model=m.name.clone()>
                    <b>{m.name.clone()}</b>
                    " — greedy: "
                    <span data-key="greedy_forgotten" data-value=m.greedy_forgotten.to_string()>{percent(m.greedy_forgotten)}</span>
                    " forgotten · samples: "
                    <span data-key="sample_states_fact" data-value=m.sample_states_fact.to_string()>{percent(m.sample_states_fact)}</span>
                    " state the fact · certified leak on "
                    <span data-key="forgotten_certified_leak" data-value=m.forgotten_certified_leak.to_string()>{percent(m.forgotten_certified_leak)}</span>
                </li>
            }
        })
        .collect_view();
    let (samples, leak_level, alpha) = (summary.samples, summary.leak_level, summary.alpha);
    let watch = move || summary.watch(&available()).cloned();
    view! {
        <section class="hero" id="hero" aria-labelledby="hero-title">
            <h2 id="hero-title">"Greedy decoding says “forgotten”. Sampling says otherwise."</h2>
            <p>
                "Unlearning benchmarks judge a model by one greedy answer per question. Ask the same "
                "question " {samples} " times with sampling and many “forgotten” facts come back — "
                "with a certified bound on how often (Scholten et al., ICLR 2025)."
            </p>
            {move || {
                watch()
                    .map(|w| {
                        let label = format!("Watch it happen: {}, forget question {}", w.model, w.q);
                        let claim = format!(
                            "“{}” — greedy scores {:.2} (below τ = {}: forgotten); {} samples certify a leak with probability ≥ {:.2}.",
                            w.question, w.greedy_score, w.tau, w.n, w.lower
                        );
                        let run = w.clone();
                        view! {
                            <div class="watch">
                                <button
                                    id="watch"
                                    class="primary"
                                    prop:disabled=move || ui.busy.get()
                                    on:click=move |_| actions.watch(&run)
                                >
                                    {label}
                                </button>
                                <p class="note" id="watch-claim">{claim}</p>
                            </div>
                        }
                    })
            }}
            <h3>{format!("The shipped demo models, unlearned on {questions} forget questions")}</h3>
            <ul class="demo-rows" id="demo-rows">{rows}</ul>
            <p class="note">
                "Share of forget questions; a sample “states the fact” when it contains the answer’s keyword; "
                {format!("“certified” = greedy says forgotten while the Clopper–Pearson lower bound proves P(leak) above {} (α = {}). ", percent(leak_level), alpha)}
                "From "<code>"probable demo"</code>", " {samples} " samples per question."
            </p>
        </section>
    }
}
