//! The page: on a plain visit, what the demo shows (with its real numbers) and one action to
//! watch it happen; on a shared link (settings, snapshot or report), the result first, with
//! the settings that made it one click away. Pick a model (a shipped demo bundle, a URL, or
//! local files) and questions, see the greedy answer, then watch n samples and their
//! certified bounds arrive — for one question or the whole split. The model runs in a Web
//! Worker (`worker.rs`); this thread renders. State: `state.rs`; worker replies:
//! `reply.rs`; clicks: `actions.rs`.

use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use probable_core::eval::EvalReport;

use crate::actions::Actions;
use crate::client::Client;
use crate::fetch;
use crate::protocol::ToWorker;
use crate::snapshot::Snapshot;
use crate::state::{Book, Job, Status, Ui};
use crate::summary::{DemoSummary, SUMMARY};
use crate::view::controls::Controls;
use crate::view::hero::Hero;
use crate::view::live::{LivePanel, Verdict};
use crate::view::report::ReportView;
use crate::view::results::{Greedy, Results};
use crate::view::sources::Sources;
use probable_core::share::{query_lookup, BackendChoice, QuestionSet, Settings};

/// The app is one page; it works from any path (a sub-path on a static host included),
/// since every URL it fetches is relative and it only rewrites its own query.
#[component]
pub fn App() -> impl IntoView {
    view! { <Page/> }
}

/// What the address says to show.
struct Link {
    initial: Settings,
    errors: Vec<String>,
    snapshot: Option<Snapshot>,
    report_url: Option<String>,
    report_question: usize,
    /// A link that names a model is a shared evaluation: run it once everything is loaded.
    autorun: bool,
}

fn read_link() -> Link {
    let location = web_sys::window().map(|w| w.location());
    let search = location
        .as_ref()
        .and_then(|l| l.search().ok())
        .unwrap_or_default();
    let hash = location
        .as_ref()
        .and_then(|l| l.hash().ok())
        .unwrap_or_default();
    let lookup = query_lookup(&search);
    let snapshot_in_link = hash.strip_prefix("#snap=").map(Snapshot::decode);
    let (mut initial, errors) = Settings::from_query(&lookup);
    let mut link_errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
    let snapshot = match snapshot_in_link {
        Some(Ok(s)) => {
            let (from_snapshot, errors) = Settings::from_query(query_lookup(&s.query));
            link_errors.extend(errors.iter().map(|e| format!("snapshot: {e}")));
            initial = from_snapshot;
            Some(s)
        }
        Some(Err(e)) => {
            link_errors.push(e);
            None
        }
        None => None,
    };
    let report_url = lookup("report");
    let report_question = lookup("q")
        .and_then(|q| q.parse::<usize>().ok())
        .unwrap_or(0);
    let autorun = (lookup("model").is_some() || lookup("model_url").is_some())
        && link_errors.is_empty()
        && report_url.is_none()
        && snapshot.is_none();
    Link {
        initial,
        errors: link_errors,
        snapshot,
        report_url,
        report_question,
        autorun,
    }
}

/// Start-up: backend, index, questions, a report or the selected model; then a shared run.
async fn start(
    actions: Actions,
    report_url: Option<String>,
    report_question: usize,
) -> Result<(), String> {
    let ui = actions.ui;
    let status = ui.status;
    if let Some(url) = &report_url {
        status.set(Status::Starting(format!("reading the report {url}")));
        let text = fetch::text(url).await?;
        let r = EvalReport::from_json(&text).map_err(|e| format!("{url}: {e}"))?;
        if report_question >= r.questions.len() {
            return Err(format!(
                "link parameter `q={report_question}`: the report has {} question rows",
                r.questions.len()
            ));
        }
        ui.set_report.set(Some(r));
    }
    status.set(Status::Starting("reading the model index".into()));
    let index = fetch::index().await?;
    let (f, r) = fetch::questions(&index).await?;
    ui.data_names.set((
        format!("{}/{}", fetch::MODELS, index.data.forget),
        format!("{}/{}", fetch::MODELS, index.data.retain),
    ));
    ui.models.set(index.models);
    ui.forget.set(f);
    ui.retain.set(r);
    if let Some(url) = ui.settings.get_untracked().data_url {
        status.set(Status::Starting(format!("reading questions from {url}")));
        let items = fetch::questions_at(&url).await?;
        match ui.settings.get_untracked().set {
            QuestionSet::Retain => {
                ui.retain.set(items);
                ui.data_names.update(|d| d.1 = url.clone());
            }
            _ => {
                ui.forget.set(items);
                ui.data_names.update(|d| d.0 = url.clone());
            }
        }
    }
    if report_url.is_none() && ui.snapshot.get_untracked().is_none() {
        actions.ensure_bundle()?;
    }
    Ok(())
}

#[component]
fn Page() -> impl IntoView {
    let link = read_link();
    // A link that shows a result (a run, a snapshot, a report) opens on it: the form and
    // the first screen's story step aside.
    let opens_on_result = link.autorun || link.snapshot.is_some() || link.report_url.is_some();
    let ui = Ui::new(link.initial, link.report_question, link.snapshot);
    ui.settings_open.set(!opens_on_result);
    let book = Book::new();
    let client = match Client::spawn(move |reply| crate::reply::apply(ui, book, reply)) {
        Ok(c) => Some(Rc::new(c)),
        Err(e) => {
            ui.status.set(Status::Failed(e));
            None
        }
    };
    let actions = Actions {
        ui,
        book,
        client: StoredValue::new_local(client),
    };

    actions.send(
        &ToWorker::Init {
            cpu_only: ui.settings.get_untracked().backend == BackendChoice::Cpu,
        },
        &[],
    );
    let (report_url, report_question, autorun) =
        (link.report_url, link.report_question, link.autorun);
    spawn_local(async move {
        match start(actions, report_url, report_question).await {
            Ok(()) => {
                if autorun {
                    actions.run(Job::Single);
                } else if book.outstanding.get_value() == 0 {
                    ui.status.set(Status::Ready);
                }
            }
            Err(e) => ui.status.set(Status::Failed(e)),
        }
    });
    if !opens_on_result {
        // The first screen's numbers; without the file the page still works, just untold.
        spawn_local(async move {
            if let Ok(Some(text)) = fetch::optional_text(SUMMARY).await {
                match DemoSummary::parse(&text) {
                    Ok(s) => ui.summary.set(Some(s)),
                    Err(e) => web_sys::console::warn_1(&e.into()),
                }
            }
        });
    }
    let link_errors = link.errors;
    let tau_now = move || ui.settings.get_untracked().tau;

    view! {
        <header>
            <h1>"probable"</h1>
            <p class="tagline">
                "Many-sample evaluation of LLM unlearning with certified bounds, in this browser (nothing is uploaded)."
            </p>
        </header>
        <main id="main">
            {(!link_errors.is_empty())
                .then(|| {
                    view! {
                        <ul class="errors" id="link-errors">
                            {link_errors.iter().map(|e| view! { <li>{format!("{e}\n")}</li> }).collect_view()}
                        </ul>
                    }
                })}
            // The outcome first: on a link, and once a run ends.
            {move || {
                let s = ui.snapshot.get();
                let report = match &s {
                    Some(s) => Some(s.report.clone()),
                    None => ui.single.get(),
                };
                report.map(|r| {
                    let tau = r.bounds.binary.map_or(tau_now(), |b| b.threshold);
                    view! { <Verdict report=r tau=tau/> }
                })
            }}
            {move || ui.summary.get().map(|s| view! { <Hero actions=actions summary=s/> })}
            <details class="panel" id="settings-panel" prop:open=move || ui.settings_open.get() on:toggle=move |ev| {
                // Follow the visitor's own opening and closing (read from the element).
                let open = ev
                    .target()
                    .and_then(|t| js_sys::Reflect::get(&t, &"open".into()).ok())
                    .and_then(|v| v.as_bool())
                    .unwrap_or(false);
                if open != ui.settings_open.get_untracked() {
                    ui.settings_open.set(open);
                }
            }>
                <summary>"Settings: model, question, sampling, bounds"</summary>
                <Controls
                    settings=ui.settings
                    models=ui.models
                    forget=ui.forget
                    retain=ui.retain
                    errors=ui.input_errors
                    busy=ui.busy.into()
                    on_model=Callback::new(move |_: ()| ui.local_label.set(None))
                />
                <ul class="errors" id="input-errors">
                    {move || ui.input_errors.get().into_iter().map(|(_, e)| view! { <li>{e}</li> }).collect_view()}
                </ul>
            </details>
            <Sources actions=actions/>
            <div class="actions" role="group" aria-label="run and share">
                <button id="run" class="primary" prop:disabled=move || ui.busy.get() on:click=move |_| actions.run(Job::Single)>
                    "Evaluate"
                </button>
                <button
                    id="run-all"
                    prop:disabled=move || ui.busy.get() || ui.settings.read().set == QuestionSet::Custom
                    on:click=move |_| actions.run(Job::All)
                >
                    "Evaluate all"
                </button>
                <button
                    id="stop"
                    prop:disabled=move || !ui.busy.get()
                    on:click=move |_| actions.send(&ToWorker::Stop, &[])
                >
                    "Stop"
                </button>
                <button id="copy-link" on:click=move |_| actions.copy_link()>"Copy link"</button>
                <button
                    id="snapshot-link"
                    prop:disabled=move || ui.single.get().is_none() || ui.busy.get()
                    on:click=move |_| actions.snapshot_link()
                >
                    "Snapshot link"
                </button>
                <label class="share">
                    <span class="visually-hidden">"Link to share"</span>
                    <input id="share-link" readonly size="40" placeholder="link to share" prop:value=move || ui.share.get()/>
                </label>
            </div>
            {move || {
                ui.snapshot_too_big
                    .get()
                    .map(|why| {
                        view! {
                            <p class="errors" id="snapshot-too-big">
                                {why}
                                " "
                                <button id="snapshot-download" on:click=move |_| actions.download_snapshot()>"Download result.json"</button>
                            </p>
                        }
                    })
            }}
            <p id="status" role="status" data-state=move || ui.status.get().kind()>{move || ui.status.get().text()}</p>
            <p class="backend">"Backend: " <span id="backend">{move || ui.backend.get()}</span></p>
            <p id="model-info">
                {move || {
                    ui.model_info
                        .get()
                        .map(|i| {
                            format!(
                                "Loaded: {} · {} · {:.2}M parameters · vocabulary {} · {:.1} MB read{}",
                                i.label,
                                i.family,
                                i.parameters as f64 / 1e6,
                                i.vocab_size,
                                i.bytes as f64 / 1e6,
                                if i.chat_template { " · has a chat template (prompt: chat)" } else { "" }
                            )
                        })
                        .unwrap_or_default()
                }}
            </p>
            {move || {
                ui.download
                    .get()
                    .map(|(file, done, total)| {
                        view! {
                            <div class="progress" id="download-progress">
                                <progress max=total.unwrap_or(0).to_string() value=done.to_string() aria-label="download"></progress>
                                <span>
                                    {match total {
                                        Some(t) => format!("{file}: {:.1} / {:.1} MB", done as f64 / 1e6, t as f64 / 1e6),
                                        None => format!("{file}: {:.1} MB", done as f64 / 1e6),
                                    }}
                                </span>
                            </div>
                        }
                    })
            }}
            {move || {
                ui.progress
                    .get()
                    .map(|(q, qs, done, total, rate)| {
                        let text = if qs > 1 {
                            format!("question {} / {qs} · {done} / {total} samples · {rate:.0} tokens/s", q + 1)
                        } else {
                            format!("{done} / {total} samples · {rate:.0} tokens/s")
                        };
                        view! {
                            <div class="progress">
                                <progress max=(qs * total).to_string() value=(q * total + done).to_string() aria-label="evaluation progress"></progress>
                                <span id="progress-text">{text}</span>
                            </div>
                        }
                    })
            }}
            {move || {
                ui.throughput
                    .get()
                    .map(|(tokens, ms)| {
                        view! {
                            <p class="note" id="throughput" data-tokens=tokens.to_string() data-ms=ms.to_string()>
                                {format!("{tokens} tokens in {:.1} s ({:.0} tokens/s)", ms / 1000.0, tokens as f64 / (ms / 1000.0).max(1e-3))}
                            </p>
                        }
                    })
            }}
            <div id="run-output">
            {move || {
                ui.snapshot
                    .get()
                    .map(|s| {
                        let tau = s.report.bounds.binary.map_or(0.5, |b| b.threshold);
                        view! {
                            <section class="snapshot" id="snapshot" aria-label="snapshot">
                                <p>
                                    {format!("A snapshot of a result computed on {}; shown as it was saved, not recomputed. ", s.backend)}
                                    <button
                                        id="verify"
                                        prop:disabled=move || ui.busy.get()
                                        on:click=move |_| actions.run(Job::Verify)
                                    >
                                        "Re-run to verify"
                                    </button>
                                </p>
                                {move || {
                                    ui.verification
                                        .get()
                                        .map(|(same, text)| {
                                            view! {
                                                <p id="verification" data-identical=same.to_string() class=if same { "verdict ok" } else { "verdict leak" }>
                                                    {text}
                                                </p>
                                            }
                                        })
                                }}
                                <Greedy text=s.report.greedy.text.clone() score=s.report.greedy.score tau=tau/>
                                <Results report=s.report.clone() tau=tau/>
                            </section>
                        }
                    })
            }}
            {move || {
                (ui.snapshot.get().is_none())
                    .then(|| {
                        view! {
                            {move || ui.greedy.get().map(|(text, score, tau)| view! { <Greedy text=text score=score tau=tau/> })}
                            {move || {
                                ui.single
                                    .get()
                                    .map(|r| {
                                        let tau = r.bounds.binary.map_or(tau_now(), |b| b.threshold);
                                        view! { <Results report=r tau=tau/> }
                                    })
                            }}
                        }
                    })
            }}
            {move || {
                // While a one-question run samples, and until its report replaces it.
                let live = ui.live.get()?;
                if ui.single.with(Option::is_some) {
                    return None;
                }
                let s = ui.settings.get_untracked();
                Some(view! { <LivePanel live=live total=s.samples as u64 tau=s.tau alpha=s.alpha/> })
            }}
            {move || ui.set_report.get().map(|r| view! { <ReportView report=r selected=ui.selected/> })}
            </div>
        </main>
    }
}
