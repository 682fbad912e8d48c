//! The "your model, your data, or a report" panel: a bundle from local files (chooser,
//! folder or drop) or a URL, questions from a file or a URL, and a `probable eval`
//! report.json. Collapsed by default: the demo needs none of it.

use leptos::prelude::*;
use leptos::task::spawn_local;
use probable_core::data::{parse_qa, QaItem};
use probable_core::eval::EvalReport;
use wasm_bindgen::JsCast;
use web_sys::File;

use crate::actions::Actions;
use crate::fetch;
use crate::state::Status;
use probable_core::share::{query_lookup, QuestionSet, Settings};

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

/// Questions from a file or a URL replace the split the settings select.
fn replace_questions(a: Actions, name: String, items: Vec<QaItem>, url: Option<String>) {
    let ui = a.ui;
    match ui.settings.get_untracked().set {
        QuestionSet::Retain => {
            ui.retain.set(items);
            ui.data_names.update(|d| d.1 = name);
        }
        _ => {
            ui.forget.set(items);
            ui.data_names.update(|d| d.0 = name);
        }
    }
    ui.settings.update(|s| {
        if s.set == QuestionSet::Custom {
            s.set = QuestionSet::Forget;
        }
        s.question_index = 0;
        s.data_url = url;
    });
    ui.status.set(Status::Ready);
}

#[component]
pub fn Sources(actions: Actions) -> impl IntoView {
    let ui = actions.ui;
    let book = actions.book;
    let status = ui.status;
    // Local bundle files: from the file chooser, the folder picker or a drop.
    let take_files = move |files: Vec<File>| {
        if files.is_empty() || ui.busy.get_untracked() {
            return;
        }
        ui.local_label.set(Some(files_label(&files)));
        book.local_files.set_value(files);
        book.local_count.update_value(|n| *n += 1);
        match actions.ensure_bundle() {
            Err(e) => status.set(Status::Failed(e)),
            Ok(()) => status.set(Status::Running("loading local files".into())),
        }
    };
    let model_url_input = RwSignal::new(ui.settings.get_untracked().model_url.unwrap_or_default());
    let load_url = move |_| {
        let (s, errors) = Settings::from_query(query_lookup(&format!(
            "model_url={}",
            js_sys::encode_uri_component(&model_url_input.get_untracked())
        )));
        if let Some(e) = errors.first() {
            status.set(Status::Failed(e.to_string()));
            return;
        }
        ui.local_label.set(None);
        ui.settings.update(|x| x.model_url = s.model_url);
        if let Err(e) = actions.ensure_bundle() {
            status.set(Status::Failed(e));
        }
    };
    let data_url_input = RwSignal::new(ui.settings.get_untracked().data_url.unwrap_or_default());
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
                Ok(items) => replace_questions(actions, url.clone(), items, Some(url)),
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
                Ok(items) => replace_questions(actions, name.clone(), items, None),
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
                    ui.single.set(None);
                    ui.greedy.set(None);
                    ui.live.set(None);
                    ui.snapshot.set(None);
                    ui.selected.set(0);
                    ui.set_report.set(Some(r));
                    status.set(Status::Ready);
                }
                Err(e) => status.set(Status::Failed(e)),
            }
        });
    };
    view! {
        <details class="panel" id="sources-panel">
            <summary>"Your model, your questions, or a report"</summary>
            <fieldset class="sources" prop:disabled=move || ui.busy.get()>
                <legend class="visually-hidden">"Your model and questions"</legend>
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
                        take_files(files);
                    }
                >
                    <label>
                        "Bundle files "
                        <input id="bundle-files" type="file" multiple on:change=move |ev| take_files(input_files(&ev))/>
                    </label>
                    <label>
                        "or a bundle folder "
                        <input id="bundle-folder" type="file" prop:webkitdirectory=true on:change=move |ev| take_files(input_files(&ev))/>
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
                    <span class="hint">"(they replace the split chosen in the settings)"</span>
                </div>
                <div class="row">
                    <label>
                        "Open a report.json from probable eval "
                        <input id="report-file" type="file" accept=".json" on:change=open_report_file/>
                    </label>
                </div>
            </fieldset>
        </details>
    }
}
