//! The page: pick a model (a shipped demo bundle, a URL, or local files) and questions, see
//! the greedy answer, then watch n samples and their certified bounds arrive — for one
//! question or the whole split; open a `probable eval` report; share settings, results and
//! snapshots as links. The model runs in a Web Worker (`worker.rs`); this thread renders.

use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use probable_core::data::demo_index::DemoModel;
use probable_core::data::{parse_qa, QaItem};
use probable_core::eval::{EvalConfig, EvalReport, QuestionReport};
use wasm_bindgen::JsCast;
use web_sys::File;

use crate::client::Client;
use crate::fetch;
use crate::protocol::{BundleSource, FromWorker, ModelInfo, ToWorker};
use crate::share::{query_lookup, QuestionSet, Settings};
use crate::snapshot::{verify, Snapshot};
use crate::view::controls::Controls;
use crate::view::report::ReportView;
use crate::view::results::{Greedy, Results};

/// The app is one page; it works from any path (a sub-path on a static host included),
/// since every URL it fetches is relative and it only rewrites its own query.
#[component]
pub fn App() -> impl IntoView {
    view! { <Page/> }
}

/// Puts the settings in the address bar without a reload or a history entry.
fn replace_query(query: &str) {
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = history.replace_state_with_url(
            &wasm_bindgen::JsValue::NULL,
            "",
            Some(&format!("?{query}")),
        );
    }
}

/// What the status line says; `data-state` carries the kind for scripts and tests.
#[derive(Debug, Clone, PartialEq)]
enum Status {
    Starting(String),
    Ready,
    Running(String),
    Done,
    Stopped(&'static str),
    Failed(String),
}

impl Status {
    fn kind(&self) -> &'static str {
        match self {
            Self::Starting(_) => "starting",
            Self::Ready => "ready",
            Self::Running(_) => "running",
            Self::Done => "done",
            Self::Stopped(_) => "stopped",
            Self::Failed(_) => "error",
        }
    }

    fn text(&self) -> String {
        match self {
            Self::Starting(s) => format!("starting: {s}"),
            Self::Ready => "ready".into(),
            Self::Running(s) => s.clone(),
            Self::Done => "done".into(),
            Self::Stopped(what) => format!("stopped ({what})"),
            Self::Failed(e) => format!("error: {e}"),
        }
    }
}

/// What the running job is, so replies go to the right place.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Job {
    /// One question, shown with its greedy answer first.
    Single,
    /// Every question of a split, gathered into a report.
    All,
    /// Re-running a snapshot's question to compare.
    Verify,
}

fn page_base() -> String {
    web_sys::window()
        .map(|w| w.location())
        .and_then(|l| Some(format!("{}{}", l.origin().ok()?, l.pathname().ok()?)))
        .unwrap_or_default()
}

fn page_url(query: &str) -> String {
    format!("{}?{query}", page_base())
}

fn input_files(ev: &leptos::ev::Event) -> Vec<File> {
    let Some(input) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
    else {
        return Vec::new();
    };
    let list = input.files();
    (0..list.as_ref().map_or(0, |l| l.length()))
        .filter_map(|i| list.as_ref()?.get(i))
        .collect()
}

/// A label for picked files: their folder (from a folder pick), else the first file.
fn files_label(files: &[File]) -> String {
    let folder = files.iter().find_map(|f| {
        let path: String = js_sys::Reflect::get(f, &"webkitRelativePath".into())
            .ok()?
            .as_string()?;
        Some(path.split('/').next()?.to_string()).filter(|s| !s.is_empty())
    });
    folder.unwrap_or_else(|| {
        let names: Vec<String> = files.iter().map(File::name).collect();
        format!("local files ({})", names.join(", "))
    })
}

async fn read_text(file: &File) -> Result<String, String> {
    let p = file.text();
    wasm_bindgen_futures::JsFuture::from(p)
        .await
        .map_err(|e| format!("{}: cannot read the file ({e:?})", file.name()))?
        .as_string()
        .ok_or_else(|| format!("{}: not text", file.name()))
}

#[component]
fn Page() -> impl IntoView {
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
    let snapshot_at_start = match snapshot_in_link {
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
    // A link that names a model is a shared evaluation: run it once everything is loaded.
    let autorun = (lookup("model").is_some() || lookup("model_url").is_some())
        && link_errors.is_empty()
        && report_url.is_none()
        && snapshot_at_start.is_none();

    let settings = RwSignal::new(initial);
    let input_errors = RwSignal::new(Vec::<(&'static str, String)>::new());
    let models = RwSignal::new(Vec::<DemoModel>::new());
    let forget = RwSignal::new(Vec::<QaItem>::new());
    let retain = RwSignal::new(Vec::<QaItem>::new());
    let data_names = RwSignal::new((String::new(), String::new()));
    let backend = RwSignal::new(String::from("detecting…"));
    let status = RwSignal::new(Status::Starting("detecting the backend".into()));
    let progress = RwSignal::new(None::<(usize, usize, usize, usize, f64)>);
    let download = RwSignal::new(None::<(String, u64, Option<u64>)>);
    let model_info = RwSignal::new(None::<ModelInfo>);
    let local_label = RwSignal::new(None::<String>);
    let greedy = RwSignal::new(None::<(String, f64, f64)>);
    let single = RwSignal::new(None::<QuestionReport>);
    let set_report = RwSignal::new(None::<EvalReport>);
    let selected = RwSignal::new(report_question);
    let snapshot = RwSignal::new(snapshot_at_start);
    let verification = RwSignal::new(None::<(bool, String)>);
    let share = RwSignal::new(String::new());
    let snapshot_too_big = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let throughput = RwSignal::new(None::<(usize, f64)>);

    // Bookkeeping the worker replies update (not rendered).
    let job = StoredValue::new_local(Job::Single);
    // An evaluation is queued or running (a load alone does not block queuing one: the
    // worker handles messages in order).
    let running = StoredValue::new_local(false);
    let outstanding = StoredValue::new_local(0usize);
    let loaded_key = StoredValue::new_local(None::<String>);
    let local_files = StoredValue::new_local(Vec::<File>::new());
    let local_count = StoredValue::new_local(0usize);
    let run_config = StoredValue::new_local(None::<EvalConfig>);
    let run_questions = StoredValue::new_local(Vec::<QuestionReport>::new());
    let run_names = StoredValue::new_local((String::new(), String::new(), String::new()));

    let finish_job = move |n: usize| {
        outstanding.update_value(|o| *o = o.saturating_sub(n));
        outstanding.get_value() == 0
    };

    // The report "Evaluate all" has gathered so far.
    let gathered = move || -> Option<EvalReport> {
        let config = run_config.get_value()?;
        let questions = run_questions.get_value();
        let (model, data, split) = run_names.get_value();
        EvalReport::assemble((&model, &data, &split), config, questions).ok()
    };

    let on_reply = move |reply: FromWorker| match reply {
        FromWorker::Ready => {}
        FromWorker::Backend { label } => backend.set(label),
        FromWorker::Status { text } => status.set(if busy.get_untracked() {
            Status::Running(text)
        } else {
            Status::Starting(text)
        }),
        FromWorker::Download { file, done, total } => download.set(Some((file, done, total))),
        FromWorker::Loaded { info } => {
            download.set(None);
            model_info.set(Some(info));
            if finish_job(1) {
                busy.set(false);
                status.set(Status::Ready);
            }
        }
        FromWorker::Started { config } => {
            run_config.set_value(Some(*config));
            run_questions.set_value(Vec::new());
        }
        FromWorker::Greedy { text, score, .. } => {
            greedy.set(Some((text, score, settings.get_untracked().tau)));
            status.set(Status::Running(format!(
                "sampling {} answers",
                settings.get_untracked().samples
            )));
        }
        FromWorker::Progress {
            question,
            questions,
            samples_done,
            samples_total,
            tokens,
            ms,
        } => {
            let rate = tokens as f64 / (ms / 1000.0).max(1e-3);
            progress.set(Some((
                question,
                questions,
                samples_done,
                samples_total,
                rate,
            )));
        }
        FromWorker::Question { report } => match job.get_value() {
            Job::Single => single.set(Some(*report)),
            Job::Verify => {
                if let Some(s) = snapshot.get_untracked() {
                    let v = verify(&s.report, &report);
                    verification.set(Some((v.identical(), v.describe())));
                }
                single.set(Some(*report));
            }
            Job::All => {
                run_questions.update_value(|q| q.push(*report));
                set_report.set(gathered());
            }
        },
        FromWorker::Finished {
            stopped,
            tokens,
            ms,
        } => {
            running.set_value(false);
            throughput.set(Some((tokens, ms)));
            finish_job(1);
            busy.set(false);
            status.set(if stopped {
                Status::Stopped(if job.get_value() == Job::All {
                    "the questions finished so far are kept"
                } else {
                    "the samples drawn so far are discarded"
                })
            } else {
                Status::Done
            });
        }
        FromWorker::Failed { message } => {
            // The worker drops what was queued behind a failure.
            outstanding.set_value(0);
            running.set_value(false);
            if model_info.get_untracked().is_none() {
                loaded_key.set_value(None);
            }
            download.set(None);
            busy.set(false);
            status.set(Status::Failed(message));
        }
    };
    let client = match Client::spawn(on_reply) {
        Ok(c) => Some(Rc::new(c)),
        Err(e) => {
            status.set(Status::Failed(e));
            None
        }
    };
    let client = StoredValue::new_local(client);
    let send = move |m: &ToWorker, files: &[File]| {
        client.with_value(|c| {
            if let Some(c) = c {
                if files.is_empty() {
                    c.send(m)
                } else {
                    c.send_with_files(m, files)
                }
            }
        })
    };

    // The bundle the settings name, and a key telling whether the worker holds it.
    let current_bundle = move || -> Result<(String, BundleSource), String> {
        if let Some(label) = local_label.get_untracked() {
            let n = local_count.get_value();
            return Ok((format!("local:{n}"), BundleSource::Files { label }));
        }
        let s = settings.get_untracked();
        if let Some(base) = s.model_url {
            return Ok((format!("url:{base}"), BundleSource::Url { base }));
        }
        let entry = models
            .get_untracked()
            .into_iter()
            .find(|m| m.name == s.model)
            .ok_or_else(|| {
                format!(
                    "no model named `{}` in {}/index.json",
                    s.model,
                    fetch::MODELS
                )
            })?;
        Ok((
            format!("demo:{}", entry.name),
            BundleSource::Demo {
                name: entry.name,
                dir: entry.dir,
            },
        ))
    };
    // Queues a load of the current bundle unless the worker holds it.
    let ensure_bundle = move || -> Result<(), String> {
        let (key, source) = current_bundle()?;
        if loaded_key.get_value().as_deref() == Some(key.as_str()) {
            return Ok(());
        }
        loaded_key.set_value(Some(key));
        model_info.set(None);
        let files = if matches!(source, BundleSource::Files { .. }) {
            local_files.get_value()
        } else {
            Vec::new()
        };
        outstanding.update_value(|o| *o += 1);
        busy.set(true);
        send(&ToWorker::Load { source }, &files);
        Ok(())
    };
    let ensure_bundle = StoredValue::new_local(ensure_bundle);

    let run = move |kind: Job| {
        if running.get_value() {
            return;
        }
        let s = settings.get_untracked();
        if let Some((_, e)) = input_errors.get_untracked().first() {
            status.set(Status::Failed(e.clone()));
            return;
        }
        let split = match s.set {
            QuestionSet::Forget => forget.get_untracked(),
            QuestionSet::Retain => retain.get_untracked(),
            QuestionSet::Custom => Vec::new(),
        };
        let items: Vec<(u32, QaItem)> = match (kind, s.set) {
            (Job::All, QuestionSet::Custom) => {
                status.set(Status::Failed(
                    "\"Evaluate all\" needs the forget or the retain split".into(),
                ));
                return;
            }
            (Job::All, _) => split
                .into_iter()
                .enumerate()
                .map(|(i, q)| (i as u32, q))
                .collect(),
            (_, QuestionSet::Custom) => {
                if s.question.trim().is_empty() || s.reference.trim().is_empty() {
                    status.set(Status::Failed(
                        "type a question and its reference answer".into(),
                    ));
                    return;
                }
                vec![(
                    0,
                    QaItem {
                        id: "custom".into(),
                        question: s.question.clone(),
                        answer: s.reference.clone(),
                        keywords: Vec::new(),
                        variants: Vec::new(),
                    },
                )]
            }
            _ => match split.get(s.question_index as usize) {
                Some(q) => vec![(s.question_index, q.clone())],
                None => {
                    status.set(Status::Failed(format!(
                        "question {} does not exist in the {} set",
                        s.question_index,
                        s.set.as_str()
                    )));
                    return;
                }
            },
        };
        if items.is_empty() {
            status.set(Status::Failed(format!(
                "the {} set has no questions",
                s.set.as_str()
            )));
            return;
        }
        if let Err(e) = ensure_bundle.with_value(|f| f()) {
            status.set(Status::Failed(e));
            return;
        }
        let query = s.to_query();
        if kind != Job::Verify {
            replace_query(&query);
            share.set(page_url(&query));
            snapshot.set(None);
        }
        let (forget_name, retain_name) = data_names.get_untracked();
        let model = local_label
            .get_untracked()
            .or(s.model_url.clone())
            .unwrap_or(s.model.clone());
        run_names.set_value((
            model,
            match s.set {
                QuestionSet::Forget => forget_name,
                QuestionSet::Retain => retain_name,
                QuestionSet::Custom => "typed in".into(),
            },
            s.set.as_str().into(),
        ));
        job.set_value(kind);
        running.set_value(true);
        busy.set(true);
        greedy.set(None);
        single.set(None);
        verification.set(None);
        snapshot_too_big.set(None);
        progress.set(None);
        throughput.set(None);
        if kind == Job::All {
            run_config.set_value(None);
            set_report.set(None);
            selected.set(0);
        } else if kind == Job::Single {
            set_report.set(None);
        }
        status.set(Status::Running(match kind {
            Job::All => format!("evaluating {} questions", items.len()),
            _ => "greedy decoding".into(),
        }));
        outstanding.update_value(|o| *o += 1);
        send(&ToWorker::Evaluate { query, items }, &[]);
    };
    let run = StoredValue::new_local(run);

    // Start-up: backend, index, questions, a report or the selected model; then a shared run.
    let data_url = settings.get_untracked().data_url.clone();
    spawn_local(async move {
        send(
            &ToWorker::Init {
                cpu_only: settings.get_untracked().backend == crate::share::BackendChoice::Cpu,
            },
            &[],
        );
        let outcome = async {
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
                set_report.set(Some(r));
            }
            status.set(Status::Starting("reading the model index".into()));
            let index = fetch::index().await?;
            let (f, r) = fetch::questions(&index).await?;
            data_names.set((
                format!("{}/{}", fetch::MODELS, index.data.forget),
                format!("{}/{}", fetch::MODELS, index.data.retain),
            ));
            models.set(index.models);
            forget.set(f);
            retain.set(r);
            if let Some(url) = &data_url {
                status.set(Status::Starting(format!("reading questions from {url}")));
                let items = fetch::questions_at(url).await?;
                match settings.get_untracked().set {
                    QuestionSet::Retain => {
                        retain.set(items);
                        data_names.update(|d| d.1 = url.clone());
                    }
                    _ => {
                        forget.set(items);
                        data_names.update(|d| d.0 = url.clone());
                    }
                }
            }
            if report_url.is_none() && snapshot.get_untracked().is_none() {
                ensure_bundle.with_value(|f| f())?;
            }
            Ok::<_, String>(())
        }
        .await;
        match outcome {
            Ok(()) => {
                if autorun {
                    run.with_value(|f| f(Job::Single));
                } else if outstanding.get_value() == 0 {
                    status.set(Status::Ready);
                }
            }
            Err(e) => status.set(Status::Failed(e)),
        }
    });

    let copy_link = move |_| {
        let url = if local_label.get_untracked().is_some() {
            "local files cannot be shared by link: put the bundle on a static host (with CORS) and use model_url=".to_string()
        } else {
            page_url(&settings.get_untracked().to_query())
        };
        share.set(url.clone());
        if let Some(w) = web_sys::window() {
            let _ = w.navigator().clipboard().write_text(&url);
        }
    };
    let snapshot_link = move |_| {
        let Some(r) = single.get_untracked() else {
            return;
        };
        let s = Snapshot::new(
            settings.get_untracked().to_query(),
            backend.get_untracked(),
            &r,
        );
        match s.encode() {
            Ok(value) => {
                snapshot_too_big.set(None);
                let url = format!("{}#snap={value}", page_url(&s.query));
                share.set(url.clone());
                if let Some(w) = web_sys::window() {
                    let _ = w.navigator().clipboard().write_text(&url);
                }
            }
            Err(len) => snapshot_too_big.set(Some(format!(
                "this result needs {len} characters, more than a snapshot link carries ({}); download it as JSON instead",
                crate::snapshot::SNAPSHOT_CAP
            ))),
        }
    };
    let download_snapshot = move |_| {
        if let Some(r) = single.get_untracked() {
            let s = Snapshot::new(
                settings.get_untracked().to_query(),
                backend.get_untracked(),
                &r,
            );
            crate::download::save("result.json", &s.to_json());
        }
    };

    // Local bundle files: from the file chooser, the folder picker or a drop.
    let take_files = move |files: Vec<File>| {
        if files.is_empty() || busy.get_untracked() {
            return;
        }
        local_label.set(Some(files_label(&files)));
        local_files.set_value(files);
        local_count.update_value(|n| *n += 1);
        if let Err(e) = ensure_bundle.with_value(|f| f()) {
            status.set(Status::Failed(e));
        } else {
            status.set(Status::Running("loading local files".into()));
        }
    };
    let take_files = StoredValue::new_local(take_files);
    let model_url_input = RwSignal::new(settings.get_untracked().model_url.unwrap_or_default());
    let load_url = move |_| {
        let (s, errors) = Settings::from_query(query_lookup(&format!(
            "model_url={}",
            js_sys::encode_uri_component(&model_url_input.get_untracked())
        )));
        if let Some(e) = errors.first() {
            status.set(Status::Failed(e.to_string()));
            return;
        }
        local_label.set(None);
        settings.update(|x| x.model_url = s.model_url);
        if let Err(e) = ensure_bundle.with_value(|f| f()) {
            status.set(Status::Failed(e));
        }
    };
    let data_url_input = RwSignal::new(settings.get_untracked().data_url.unwrap_or_default());
    let replace_questions = move |name: String, items: Vec<QaItem>, url: Option<String>| {
        let set = settings.get_untracked().set;
        match set {
            QuestionSet::Retain => {
                retain.set(items);
                data_names.update(|d| d.1 = name);
            }
            _ => {
                forget.set(items);
                data_names.update(|d| d.0 = name);
            }
        }
        settings.update(|s| {
            if s.set == QuestionSet::Custom {
                s.set = QuestionSet::Forget;
            }
            s.question_index = 0;
            s.data_url = url;
        });
        status.set(Status::Ready);
    };
    let replace_questions = StoredValue::new_local(replace_questions);
    let load_data_url = move |_| {
        let url = data_url_input.get_untracked();
        spawn_local(async move {
            let (s, errors) = Settings::from_query(query_lookup(&format!(
                "data_url={}",
                js_sys::encode_uri_component(&url)
            )));
            if let Some(e) = errors.first() {
                status.set(Status::Failed(e.to_string()));
                return;
            }
            let url = s.data_url.unwrap_or_default();
            match fetch::questions_at(&url).await {
                Ok(items) => replace_questions.with_value(|f| f(url.clone(), items, Some(url))),
                Err(e) => status.set(Status::Failed(e)),
            }
        });
    };
    let load_data_file = move |ev: leptos::ev::Event| {
        let Some(file) = input_files(&ev).into_iter().next() else {
            return;
        };
        spawn_local(async move {
            let name = file.name();
            let parsed = read_text(&file)
                .await
                .and_then(|t| parse_qa(&name, &t).map_err(|e| e.to_string()));
            match parsed {
                Ok(items) => replace_questions.with_value(|f| f(name.clone(), items, None)),
                Err(e) => status.set(Status::Failed(e)),
            }
        });
    };
    let open_report_file = move |ev: leptos::ev::Event| {
        let Some(file) = input_files(&ev).into_iter().next() else {
            return;
        };
        spawn_local(async move {
            let name = file.name();
            match read_text(&file)
                .await
                .and_then(|t| EvalReport::from_json(&t).map_err(|e| format!("{name}: {e}")))
            {
                Ok(r) => {
                    single.set(None);
                    greedy.set(None);
                    snapshot.set(None);
                    selected.set(0);
                    set_report.set(Some(r));
                    status.set(Status::Ready);
                }
                Err(e) => status.set(Status::Failed(e)),
            }
        });
    };
    view! {
        <header>
            <h1>"probable"</h1>
            <p>
                "A greedy answer is one point of a model's output distribution. Sample many answers, "
                "score each against the reference, and bound the leak with high confidence "
                "(Scholten et al., ICLR 2025). Everything runs in this browser; nothing is uploaded."
            </p>
            <p class="backend">"Backend: " <span id="backend">{move || backend.get()}</span></p>
        </header>
        {(!link_errors.is_empty())
            .then(|| {
                view! {
                    <ul class="errors" id="link-errors">
                        {link_errors.iter().map(|e| view! { <li>{format!("{e}\n")}</li> }).collect_view()}
                    </ul>
                }
            })}
        <fieldset class="sources" prop:disabled=move || busy.get()>
            <legend>"Your model and questions (optional)"</legend>
            <div
                class="row dropzone"
                id="dropzone"
                on:dragover=move |ev: leptos::ev::DragEvent| ev.prevent_default()
                on:drop=move |ev: leptos::ev::DragEvent| {
                    ev.prevent_default();
                    let files = ev
                        .data_transfer()
                        .and_then(|d| d.files())
                        .map(|l| (0..l.length()).filter_map(|i| l.get(i)).collect())
                        .unwrap_or_default();
                    take_files.with_value(|f| f(files));
                }
            >
                <label>
                    "Bundle files "
                    <input id="bundle-files" type="file" multiple on:change=move |ev| take_files.with_value(|f| f(input_files(&ev)))/>
                </label>
                <label>
                    "or a bundle folder "
                    <input id="bundle-folder" type="file" prop:webkitdirectory=true on:change=move |ev| take_files.with_value(|f| f(input_files(&ev)))/>
                </label>
                <span class="hint">"or drop config.json, model.safetensors (or shards + index), tokenizer.json here"</span>
            </div>
            <div class="row">
                <label>
                    "Bundle URL "
                    <input
                        id="model-url"
                        type="url"
                        size="48"
                        placeholder="https://host/org/model/resolve/main/"
                        prop:value=move || model_url_input.get()
                        on:input=move |ev| model_url_input.set(event_target_value(&ev))
                    />
                </label>
                <button id="load-url" on:click=load_url>"Load"</button>
            </div>
            <div class="row">
                <label>
                    "Questions file (JSON/JSONL, TOFU layouts) "
                    <input id="data-file" type="file" accept=".json,.jsonl" on:change=load_data_file/>
                </label>
                <label>
                    "or URL "
                    <input
                        id="data-url"
                        type="url"
                        size="40"
                        prop:value=move || data_url_input.get()
                        on:input=move |ev| data_url_input.set(event_target_value(&ev))
                    />
                </label>
                <button id="load-data" on:click=load_data_url>"Load questions"</button>
                <span class="hint">"(they replace the split chosen below)"</span>
            </div>
            <div class="row">
                <label>
                    "Open a report.json from probable eval "
                    <input id="report-file" type="file" accept=".json" on:change=open_report_file/>
                </label>
            </div>
            <p id="model-info">
                {move || {
                    model_info
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
                download
                    .get()
                    .map(|(file, done, total)| {
                        view! {
                            <div class="progress" id="download-progress">
                                <progress max=total.unwrap_or(0).to_string() value=done.to_string()></progress>
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
        </fieldset>
        <Controls
            settings=settings
            models=models
            forget=forget
            retain=retain
            errors=input_errors
            busy=busy.into()
            on_model=Callback::new(move |_: ()| local_label.set(None))
        />
        <ul class="errors" id="input-errors">
            {move || input_errors.get().into_iter().map(|(_, e)| view! { <li>{e}</li> }).collect_view()}
        </ul>
        <div class="actions">
            <button id="run" prop:disabled=move || busy.get() on:click=move |_| run.with_value(|f| f(Job::Single))>
                "Evaluate"
            </button>
            <button
                id="run-all"
                prop:disabled=move || busy.get() || settings.read().set == QuestionSet::Custom
                on:click=move |_| run.with_value(|f| f(Job::All))
            >
                "Evaluate all"
            </button>
            <button
                id="stop"
                prop:disabled=move || !busy.get()
                on:click=move |_| send(&ToWorker::Stop, &[])
            >
                "Stop"
            </button>
            <button id="copy-link" on:click=copy_link>"Copy link"</button>
            <button
                id="snapshot-link"
                prop:disabled=move || single.get().is_none() || busy.get()
                on:click=snapshot_link
            >
                "Snapshot link"
            </button>
            <input id="share-link" readonly size="60" prop:value=move || share.get()/>
        </div>
        {move || {
            snapshot_too_big
                .get()
                .map(|why| {
                    view! {
                        <p class="errors" id="snapshot-too-big">
                            {why}
                            " "
                            <button id="snapshot-download" on:click=download_snapshot>"Download result.json"</button>
                        </p>
                    }
                })
        }}
        <p id="status" data-state=move || status.get().kind()>{move || status.get().text()}</p>
        {move || {
            progress
                .get()
                .map(|(q, qs, done, total, rate)| {
                    let text = if qs > 1 {
                        format!("question {} / {qs} · {done} / {total} samples · {rate:.0} tokens/s", q + 1)
                    } else {
                        format!("{done} / {total} samples · {rate:.0} tokens/s")
                    };
                    view! {
                        <div class="progress">
                            <progress max=(qs * total).to_string() value=(q * total + done).to_string()></progress>
                            <span id="progress-text">{text}</span>
                        </div>
                    }
                })
        }}
        {move || {
            throughput
                .get()
                .map(|(tokens, ms)| {
                    view! {
                        <p class="note" id="throughput" data-tokens=tokens.to_string() data-ms=ms.to_string()>
                            {format!("{tokens} tokens in {:.1} s ({:.0} tokens/s)", ms / 1000.0, tokens as f64 / (ms / 1000.0).max(1e-3))}
                        </p>
                    }
                })
        }}
        {move || {
            snapshot
                .get()
                .map(|s| {
                    let tau = s.report.bounds.binary.map_or(0.5, |b| b.threshold);
                    view! {
                        <section class="snapshot" id="snapshot">
                            <p>
                                {format!("A snapshot of a result computed on {}; shown as it was saved, not recomputed. ", s.backend)}
                                <button
                                    id="verify"
                                    prop:disabled=move || busy.get()
                                    on:click=move |_| run.with_value(|f| f(Job::Verify))
                                >
                                    "Re-run to verify"
                                </button>
                            </p>
                            {move || {
                                verification
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
            (snapshot.get().is_none())
                .then(|| {
                    view! {
                        {move || greedy.get().map(|(text, score, tau)| view! { <Greedy text=text score=score tau=tau/> })}
                        {move || {
                            single
                                .get()
                                .map(|r| {
                                    let tau = r.bounds.binary.map_or(settings.get_untracked().tau, |b| b.threshold);
                                    view! { <Results report=r tau=tau/> }
                                })
                        }}
                    }
                })
        }}
        {move || set_report.get().map(|r| view! { <ReportView report=r selected=selected/> })}
    }
}
