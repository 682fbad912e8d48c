//! Root component. Until the in-browser evaluation lands, the page computes certified
//! bounds for scores typed by the visitor with the same `probable-core` code the CLI uses.

use leptos::prelude::*;
use probable_core::stats::{BoundsConfig, BoundsSummary};

#[component]
pub fn App() -> impl IntoView {
    let (text, set_text) = signal(String::from("0\n0\n1\n0.4\n0\n0.2\n0\n0"));
    let result = move || {
        let scores: Result<Vec<f64>, String> = text
            .get()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .enumerate()
            .map(|(i, l)| {
                l.trim()
                    .parse::<f64>()
                    .map_err(|_| format!("line {}: not a number", i + 1))
            })
            .collect();
        scores.and_then(|s| {
            BoundsSummary::compute(&s, &BoundsConfig::default()).map_err(|e| e.to_string())
        })
    };
    view! {
        <main>
            <h1>"probable"</h1>
            <p>"Scores of one prompt's samples, one per line:"</p>
            <textarea
                rows="8"
                prop:value=text
                on:input=move |ev| set_text.set(event_target_value(&ev))
            ></textarea>
            <pre>
                {move || match result() {
                    Ok(s) => format!(
                        "n = {}\nM_mu <= {:.4}\nM_sigma <= {:.4}\nED = {:.4}",
                        s.n, s.mean_upper, s.std_upper, s.ed_score
                    ),
                    Err(e) => format!("error: {e}"),
                }}
            </pre>
        </main>
    }
}
