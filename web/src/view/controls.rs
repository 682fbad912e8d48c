//! The settings form. Every control writes into the one `Settings` signal, which is also
//! what the share link encodes.

use leptos::prelude::*;
use probable_core::data::demo_index::DemoModel;
use probable_core::data::QaItem;

use probable_core::share::{QuestionSet, Settings, SAMPLE_CHOICES, TEMPLATE_CHOICES};

/// A numeric setting: where it lives in `Settings` and which values it accepts.
struct Field<T> {
    id: &'static str,
    label: &'static str,
    hint: &'static str,
    get: fn(&Settings) -> T,
    set: fn(&mut Settings, T),
    valid: fn(T) -> bool,
}

/// A numeric input that only accepts values the field allows; an invalid entry is named in
/// `errors` (which blocks running) instead of being replaced by a default.
fn number<T>(
    field: Field<T>,
    settings: RwSignal<Settings>,
    errors: RwSignal<Vec<(&'static str, String)>>,
) -> impl IntoView
where
    T: std::str::FromStr + ToString + Copy + Send + Sync + 'static,
{
    let Field {
        id,
        label,
        hint,
        get,
        set,
        valid,
    } = field;
    view! {
        <label>
            {label}
            <input
                id=id
                type="text"
                inputmode="decimal"
                size="7"
                prop:value=move || get(&settings.read()).to_string()
                on:change=move |ev| {
                    let raw = event_target_value(&ev);
                    errors.update(|e| e.retain(|(k, _)| *k != id));
                    match raw.trim().parse::<T>().ok().filter(|&v| valid(v)) {
                        Some(v) => settings.update(|s| set(s, v)),
                        None => errors.update(|e| e.push((id, format!("{label}: `{raw}` is not {hint}")))),
                    }
                }
            />
        </label>
    }
}

#[component]
pub fn Controls(
    settings: RwSignal<Settings>,
    models: RwSignal<Vec<DemoModel>>,
    forget: RwSignal<Vec<QaItem>>,
    retain: RwSignal<Vec<QaItem>>,
    errors: RwSignal<Vec<(&'static str, String)>>,
    busy: Signal<bool>,
    /// Called when a shipped model is picked (it replaces a URL or local bundle).
    on_model: Callback<()>,
) -> impl IntoView {
    let questions = move || match settings.read().set {
        QuestionSet::Forget => forget.get(),
        QuestionSet::Retain => retain.get(),
        QuestionSet::Custom => Vec::new(),
    };
    view! {
        <fieldset class="controls" prop:disabled=move || busy.get()>
            <div class="row">
                <label>
                    "Model "
                    <select
                        id="model"
                        on:change=move |ev| {
                            settings.update(|s| {
                                s.model = event_target_value(&ev);
                                s.model_url = None;
                            });
                            on_model.run(());
                        }
                    >
                        {move || {
                            models
                                .get()
                                .into_iter()
                                .map(|m| {
                                    let name = m.name.clone();
                                    view! {
                                        <option
                                            value=m.name.clone()
                                            selected=move || settings.read().model == name
                                        >
                                            {format!("{} — {}", m.name, m.description)}
                                        </option>
                                    }
                                })
                                .collect_view()
                        }}
                    </select>
                </label>
                <label>
                    "Questions "
                    <select
                        id="set"
                        on:change=move |ev| {
                            let v = event_target_value(&ev);
                            if let Some(set) = QuestionSet::parse(&v) {
                                settings.update(|s| {
                                    s.set = set;
                                    s.question_index = 0;
                                });
                            }
                        }
                    >
                        {[QuestionSet::Forget, QuestionSet::Retain, QuestionSet::Custom]
                            .into_iter()
                            .map(|set| {
                                view! {
                                    <option value=set.as_str() selected=move || settings.read().set == set>
                                        {match set {
                                            QuestionSet::Forget => "forget set (unlearned)",
                                            QuestionSet::Retain => "retain set (kept)",
                                            QuestionSet::Custom => "your own question",
                                        }}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </label>
            </div>
            <Show
                when=move || settings.read().set == QuestionSet::Custom
                fallback=move || {
                    view! {
                        <label class="wide">
                            "Question "
                            <select
                                id="question"
                                on:change=move |ev| {
                                    if let Ok(i) = event_target_value(&ev).parse() {
                                        settings.update(|s| s.question_index = i);
                                    }
                                }
                            >
                                {move || {
                                    questions()
                                        .into_iter()
                                        .enumerate()
                                        .map(|(i, q)| {
                                            view! {
                                                <option
                                                    value=i.to_string()
                                                    selected=move || settings.read().question_index as usize == i
                                                >
                                                    {format!("{i}: {}", q.question)}
                                                </option>
                                            }
                                        })
                                        .collect_view()
                                }}
                            </select>
                        </label>
                        <p class="reference" id="reference-shown">
                            "Reference: "
                            {move || {
                                let i = settings.read().question_index as usize;
                                questions().get(i).map(|q| q.answer.clone()).unwrap_or_default()
                            }}
                        </p>
                    }
                }
            >
                <label class="wide">
                    "Question "
                    <textarea
                        id="custom-question"
                        rows="2"
                        prop:value=move || settings.read().question.clone()
                        on:change=move |ev| settings.update(|s| s.question = event_target_value(&ev))
                    ></textarea>
                </label>
                <label class="wide">
                    "Reference answer "
                    <textarea
                        id="custom-reference"
                        rows="2"
                        prop:value=move || settings.read().reference.clone()
                        on:change=move |ev| settings.update(|s| s.reference = event_target_value(&ev))
                    ></textarea>
                </label>
            </Show>
            <div class="row">
                <label>
                    "Samples n "
                    <select
                        id="samples-n"
                        on:change=move |ev| {
                            if let Ok(n) = event_target_value(&ev).parse() {
                                settings.update(|s| s.samples = n);
                            }
                        }
                    >
                        {move || {
                            let current = settings.read().samples;
                            let mut choices = SAMPLE_CHOICES.to_vec();
                            if !choices.contains(&current) {
                                choices.push(current);
                                choices.sort_unstable();
                            }
                            choices
                                .into_iter()
                                .map(|n| view! { <option value=n.to_string() selected=n == current>{n}</option> })
                                .collect_view()
                        }}
                    </select>
                </label>
                {number(Field { id: "temperature", label: "T ", hint: "a temperature ≥ 0", get: |s| s.temperature, set: |s, v| s.temperature = v, valid: |v: f64| v.is_finite() && v >= 0.0 }, settings, errors)}
                {number(Field { id: "top-p", label: "top-p ", hint: "in (0, 1]", get: |s| s.top_p, set: |s, v| s.top_p = v, valid: |v: f64| v > 0.0 && v <= 1.0 }, settings, errors)}
                {number(Field { id: "seed", label: "seed ", hint: "a non-negative integer", get: |s| s.seed, set: |s, v| s.seed = v, valid: |_: u64| true }, settings, errors)}
                <label>
                    "prompt "
                    <select
                        id="template"
                        on:change=move |ev| settings.update(|s| s.template = event_target_value(&ev))
                    >
                        {TEMPLATE_CHOICES
                            .into_iter()
                            .map(|t| view! { <option value=t selected=move || settings.read().template == t>{t}</option> })
                            .collect_view()}
                    </select>
                </label>
                {number(Field { id: "max-tokens", label: "max new tokens ", hint: "in 1..=512", get: |s| s.max_new_tokens, set: |s, v| s.max_new_tokens = v, valid: |v: usize| (1..=512).contains(&v) }, settings, errors)}
            </div>
            <div class="row">
                {number(Field { id: "alpha", label: "α ", hint: "in (0, 1)", get: |s| s.alpha, set: |s, v| s.alpha = v, valid: |v: f64| v > 0.0 && v < 1.0 }, settings, errors)}
                {number(Field { id: "tau", label: "leak threshold τ ", hint: "in [0, 1]", get: |s| s.tau, set: |s, v| s.tau = v, valid: |v: f64| (0.0..=1.0).contains(&v) }, settings, errors)}
                <label class="check">
                    <input
                        id="adaptive"
                        type="checkbox"
                        prop:checked=move || settings.read().adaptive
                        on:change=move |ev| settings.update(|s| s.adaptive = event_target_checked(&ev))
                    />
                    " adaptive temperature"
                </label>
                <label class="check">
                    <input
                        id="sequential"
                        type="checkbox"
                        prop:checked=move || settings.read().sequential
                        on:change=move |ev| settings.update(|s| s.sequential = event_target_checked(&ev))
                    />
                    " stop each question when decided (samples = budget)"
                </label>
                {number(Field { id: "adaptive-h", label: "greedy below entropy (nats) ", hint: "≥ 0", get: |s| s.adaptive_threshold, set: |s, v| s.adaptive_threshold = v, valid: |v: f64| v.is_finite() && v >= 0.0 }, settings, errors)}
            </div>
        </fieldset>
    }
}
