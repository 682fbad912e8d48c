//! The page: pick a model and a question, see the greedy answer, then watch n samples
//! and their certified bounds arrive. Settings live in the URL so a link reproduces a run.

use std::cell::Cell;
use std::rc::Rc;

use burn::tensor::Device;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::hooks::use_navigate;
use leptos_router::{path, NavigateOptions};
use probable_core::data::demo_index::DemoModel;
use probable_core::data::QaItem;
use probable_core::eval::QuestionReport;

use crate::fetch::{self, Loaded};
use crate::run;
use crate::share::{query_lookup, QuestionSet, Settings};
use crate::view::controls::Controls;
use crate::view::results::{Greedy, Results};

#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router>
            <Routes fallback=|| view! { <Page/> }>
                <Route path=path!("") view=Page/>
            </Routes>
        </Router>
    }
}

/// What the status line says; `data-state` carries the kind for scripts and tests.
#[derive(Debug, Clone, PartialEq)]
enum Status {
    Starting(String),
    Ready,
    Running(String),
    Done,
    Stopped,
    Failed(String),
}

impl Status {
    fn kind(&self) -> &'static str {
        match self {
            Self::Starting(_) => "starting",
            Self::Ready => "ready",
            Self::Running(_) => "running",
            Self::Done => "done",
            Self::Stopped => "stopped",
            Self::Failed(_) => "error",
        }
    }

    fn text(&self) -> String {
        match self {
            Self::Starting(s) => format!("starting: {s}"),
            Self::Ready => "ready".into(),
            Self::Running(s) => s.clone(),
            Self::Done => "done".into(),
            Self::Stopped => "stopped (the samples drawn so far are discarded)".into(),
            Self::Failed(e) => format!("error: {e}"),
        }
    }
}

fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

fn page_url(query: &str) -> String {
    let location = web_sys::window().map(|w| w.location());
    let base = location
        .and_then(|l| Some(format!("{}{}", l.origin().ok()?, l.pathname().ok()?)))
        .unwrap_or_default();
    format!("{base}?{query}")
}

#[component]
fn Page() -> impl IntoView {
    let search = web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default();
    let (initial, link_errors) = Settings::from_query(query_lookup(&search));
    // A link that names a model is a shared evaluation: run it once everything is loaded.
    let autorun = query_lookup(&search)("model").is_some() && link_errors.is_empty();

    let settings = RwSignal::new(initial);
    let input_errors = RwSignal::new(Vec::<(&'static str, String)>::new());
    let models = RwSignal::new(Vec::<DemoModel>::new());
    let forget = RwSignal::new(Vec::<QaItem>::new());
    let retain = RwSignal::new(Vec::<QaItem>::new());
    let backend = RwSignal::new(String::from("detecting…"));
    let status = RwSignal::new(Status::Starting("detecting the backend".into()));
    let progress = RwSignal::new(None::<(usize, usize, f64)>);
    let greedy = RwSignal::new(None::<(String, f64, f64)>);
    let report = RwSignal::new(None::<QuestionReport>);
    let busy = RwSignal::new(true);
    let share = RwSignal::new(String::new());
    let device = StoredValue::new_local(None::<Device>);
    let loaded = StoredValue::new_local(None::<Rc<Loaded>>);
    let stop = StoredValue::new_local(Rc::new(Cell::new(false)));
    let navigate = use_navigate();

    // Loads the selected bundle unless it is the one in memory.
    let ensure_model = move || async move {
        let name = settings.get_untracked().model;
        if let Some(l) = loaded.get_value() {
            if l.name == name {
                return Ok(l);
            }
        }
        let entry = models
            .get_untracked()
            .into_iter()
            .find(|m| m.name == name)
            .ok_or_else(|| format!("no model named `{name}` in {}/index.json", fetch::MODELS))?;
        let dev = device.get_value().ok_or("the backend is not ready")?;
        let l = Rc::new(
            fetch::bundle(&entry.name, &entry.dir, &dev, &|s| {
                status.set(Status::Running(format!("loading {s}")))
            })
            .await?,
        );
        loaded.set_value(Some(l.clone()));
        Ok::<_, String>(l)
    };

    let run_evaluation = move || {
        if busy.get_untracked() {
            return;
        }
        let s = settings.get_untracked();
        let errors = input_errors.get_untracked();
        if let Some((_, e)) = errors.first() {
            status.set(Status::Failed(e.clone()));
            return;
        }
        let item = match s.set {
            QuestionSet::Custom => {
                if s.question.trim().is_empty() || s.reference.trim().is_empty() {
                    status.set(Status::Failed(
                        "type a question and its reference answer".into(),
                    ));
                    return;
                }
                Some((
                    0,
                    QaItem {
                        id: "custom".into(),
                        question: s.question.clone(),
                        answer: s.reference.clone(),
                        keywords: Vec::new(),
                        variants: Vec::new(),
                    },
                ))
            }
            QuestionSet::Forget | QuestionSet::Retain => {
                let set = if s.set == QuestionSet::Forget {
                    forget
                } else {
                    retain
                };
                set.get_untracked()
                    .get(s.question_index as usize)
                    .cloned()
                    .map(|q| (s.question_index, q))
            }
        };
        let Some((index, item)) = item else {
            status.set(Status::Failed(format!(
                "question {} does not exist in the {} set",
                s.question_index,
                s.set.as_str()
            )));
            return;
        };
        let query = s.to_query();
        navigate(
            &format!("?{query}"),
            NavigateOptions {
                replace: true,
                scroll: false,
                ..Default::default()
            },
        );
        share.set(page_url(&query));
        busy.set(true);
        greedy.set(None);
        report.set(None);
        progress.set(None);
        let stop_flag = Rc::new(Cell::new(false));
        stop.set_value(stop_flag.clone());
        spawn_local(async move {
            let outcome = async {
                let model = ensure_model().await?;
                let config = run::eval_config(&s, &model);
                status.set(Status::Running("greedy decoding".into()));
                let g = run::greedy(&model, &config, &item).await?;
                greedy.set(Some((g.text, g.score, s.tau)));
                status.set(Status::Running(format!("sampling {} answers", s.samples)));
                let started = now_ms();
                let r = run::sample(&model, &config, index, item, stop_flag, move |p| {
                    let seconds = ((now_ms() - started) / 1000.0).max(1e-3);
                    progress.set(Some((
                        p.samples_done,
                        p.samples_total,
                        p.tokens as f64 / seconds,
                    )));
                })
                .await?;
                let finished = r.is_some();
                report.set(r);
                Ok::<_, String>(finished)
            }
            .await;
            status.set(match outcome {
                Ok(true) => Status::Done,
                Ok(false) => Status::Stopped,
                Err(e) => Status::Failed(e),
            });
            busy.set(false);
        });
    };
    let run_evaluation = StoredValue::new_local(run_evaluation);

    // Start-up: backend, index, questions, the selected model; then a shared run.
    spawn_local(async move {
        let outcome = async {
            let b = crate::backend::pick(settings.get_untracked().backend).await;
            backend.set(b.label);
            device.set_value(Some(b.device));
            status.set(Status::Starting("reading the model index".into()));
            let index = fetch::index().await?;
            let (f, r) = fetch::questions(&index).await?;
            models.set(index.models);
            forget.set(f);
            retain.set(r);
            ensure_model().await?;
            Ok::<_, String>(())
        }
        .await;
        busy.set(false);
        match outcome {
            Ok(()) => {
                status.set(Status::Ready);
                if autorun {
                    run_evaluation.with_value(|f| f());
                }
            }
            Err(e) => status.set(Status::Failed(e)),
        }
    });

    let copy_link = move |_| {
        let url = page_url(&settings.get_untracked().to_query());
        share.set(url.clone());
        if let Some(w) = web_sys::window() {
            let _ = w.navigator().clipboard().write_text(&url);
        }
    };

    view! {
        <header>
            <h1>"probable"</h1>
            <p>
                "A greedy answer is one point of a model's output distribution. Sample many answers, "
                "score each against the reference, and bound the leak with high confidence "
                "(Scholten et al., ICLR 2025). Everything runs in this browser."
            </p>
            <p class="backend">"Backend: " <span id="backend">{move || backend.get()}</span></p>
        </header>
        {(!link_errors.is_empty())
            .then(|| {
                view! {
                    <ul class="errors" id="link-errors">
                        {link_errors.iter().map(|e| view! { <li>{e.to_string()}</li> }).collect_view()}
                    </ul>
                }
            })}
        <Controls
            settings=settings
            models=models
            forget=forget
            retain=retain
            errors=input_errors
            busy=busy.into()
        />
        <ul class="errors" id="input-errors">
            {move || input_errors.get().into_iter().map(|(_, e)| view! { <li>{e}</li> }).collect_view()}
        </ul>
        <div class="actions">
            <button id="run" prop:disabled=move || busy.get() on:click=move |_| run_evaluation.with_value(|f| f())>
                "Evaluate"
            </button>
            <button
                id="stop"
                prop:disabled=move || !busy.get()
                on:click=move |_| stop.with_value(|s| s.set(true))
            >
                "Stop"
            </button>
            <button id="copy-link" on:click=copy_link>"Copy link"</button>
            <input id="share-link" readonly size="60" prop:value=move || share.get()/>
        </div>
        <p id="status" data-state=move || status.get().kind()>{move || status.get().text()}</p>
        <Show when=move || progress.get().is_some()>
            {move || {
                progress
                    .get()
                    .map(|(done, total, rate)| {
                        view! {
                            <div class="progress">
                                <progress max=total.to_string() value=done.to_string()></progress>
                                <span id="progress-text">
                                    {format!("{done} / {total} samples · {rate:.0} tokens/s")}
                                </span>
                            </div>
                        }
                    })
            }}
        </Show>
        {move || greedy.get().map(|(text, score, tau)| view! { <Greedy text=text score=score tau=tau/> })}
        {move || {
            report
                .get()
                .map(|r| {
                    let tau = r.bounds.binary.map_or(settings.get_untracked().tau, |b| b.threshold);
                    view! { <Results report=r tau=tau/> }
                })
        }}
    }
}
