//! What the visitor's clicks do: load the bundle the settings name, start an evaluation
//! (one question, the whole split, a snapshot's re-run, the first screen's "watch it"),
//! and make links. Messages go to the model worker; its replies come back through
//! `reply::apply`.

use std::rc::Rc;

use leptos::prelude::*;
use probable_core::data::QaItem;
use web_sys::File;

use crate::client::Client;
use crate::fetch;
use crate::protocol::{BundleSource, ToWorker};
use crate::snapshot::Snapshot;
use crate::state::{Book, Job, Status, Ui};
use crate::summary::Watch;
use probable_core::share::{query_lookup, QuestionSet, Settings};

#[derive(Clone, Copy)]
pub struct Actions {
    pub ui: Ui,
    pub book: Book,
    pub client: StoredValue<Option<Rc<Client>>, LocalStorage>,
}

/// Puts the settings in the address bar without a reload or a history entry.
pub fn replace_query(query: &str) {
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = history.replace_state_with_url(
            &wasm_bindgen::JsValue::NULL,
            "",
            Some(&format!("?{query}")),
        );
    }
}

fn page_base() -> String {
    web_sys::window()
        .map(|w| w.location())
        .and_then(|l| Some(format!("{}{}", l.origin().ok()?, l.pathname().ok()?)))
        .unwrap_or_default()
}

pub fn page_url(query: &str) -> String {
    format!("{}?{query}", page_base())
}

fn copy_to_clipboard(text: &str) {
    if let Some(w) = web_sys::window() {
        let _ = w.navigator().clipboard().write_text(text);
    }
}

impl Actions {
    pub fn send(&self, m: &ToWorker, files: &[File]) {
        self.client.with_value(|c| {
            if let Some(c) = c {
                if files.is_empty() {
                    c.send(m)
                } else {
                    c.send_with_files(m, files)
                }
            }
        })
    }

    fn fail(&self, e: impl Into<String>) {
        self.ui.status.set(Status::Failed(e.into()));
    }

    /// The bundle the settings name, and a key telling whether the worker holds it.
    fn current_bundle(&self) -> Result<(String, BundleSource), String> {
        if let Some(label) = self.ui.local_label.get_untracked() {
            let n = self.book.local_count.get_value();
            return Ok((format!("local:{n}"), BundleSource::Files { label }));
        }
        let s = self.ui.settings.get_untracked();
        if let Some(base) = s.model_url {
            return Ok((format!("url:{base}"), BundleSource::Url { base }));
        }
        let entry = self
            .ui
            .models
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
    }

    /// Queues a load of the current bundle unless the worker holds it.
    pub fn ensure_bundle(&self) -> Result<(), String> {
        let (key, source) = self.current_bundle()?;
        if self.book.loaded_key.get_value().as_deref() == Some(key.as_str()) {
            return Ok(());
        }
        self.book.loaded_key.set_value(Some(key));
        self.ui.model_info.set(None);
        let files = if matches!(source, BundleSource::Files { .. }) {
            self.book.local_files.get_value()
        } else {
            Vec::new()
        };
        self.book.outstanding.update_value(|o| *o += 1);
        self.ui.busy.set(true);
        self.send(
            &ToWorker::Load {
                source,
                model_only: false,
            },
            &files,
        );
        Ok(())
    }

    /// The questions a job of `kind` evaluates under settings `s`, or why there are none.
    fn items(&self, kind: Job, s: &Settings) -> Result<Vec<(u32, QaItem)>, String> {
        let split = match s.set {
            QuestionSet::Forget => self.ui.forget.get_untracked(),
            QuestionSet::Retain => self.ui.retain.get_untracked(),
            QuestionSet::Custom => Vec::new(),
        };
        let items: Vec<(u32, QaItem)> = match (kind, s.set) {
            (Job::All, QuestionSet::Custom) => {
                return Err("\"Evaluate all\" needs the forget or the retain split".into())
            }
            (Job::All, _) => split
                .into_iter()
                .enumerate()
                .map(|(i, q)| (i as u32, q))
                .collect(),
            (_, QuestionSet::Custom) => {
                if s.question.trim().is_empty() || s.reference.trim().is_empty() {
                    return Err("type a question and its reference answer".into());
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
                    return Err(format!(
                        "question {} does not exist in the {} set",
                        s.question_index,
                        s.set.as_str()
                    ))
                }
            },
        };
        if items.is_empty() {
            return Err(format!("the {} set has no questions", s.set.as_str()));
        }
        Ok(items)
    }

    pub fn run(&self, kind: Job) {
        let (ui, book) = (self.ui, self.book);
        if book.running.get_value() {
            return;
        }
        let s = ui.settings.get_untracked();
        if let Some((_, e)) = ui.input_errors.get_untracked().first() {
            return self.fail(e.clone());
        }
        let items = match self.items(kind, &s) {
            Ok(items) => items,
            Err(e) => return self.fail(e),
        };
        if let Err(e) = self.ensure_bundle() {
            return self.fail(e);
        }
        let query = s.to_query();
        if kind != Job::Verify {
            replace_query(&query);
            ui.share.set(page_url(&query));
            ui.snapshot.set(None);
        }
        let (forget_name, retain_name) = ui.data_names.get_untracked();
        let model = ui
            .local_label
            .get_untracked()
            .or(s.model_url.clone())
            .unwrap_or(s.model.clone());
        book.run_names.set_value((
            model,
            match s.set {
                QuestionSet::Forget => forget_name,
                QuestionSet::Retain => retain_name,
                QuestionSet::Custom => "typed in".into(),
            },
            s.set.as_str().into(),
        ));
        book.job.set_value(kind);
        book.running.set_value(true);
        ui.busy.set(true);
        ui.greedy.set(None);
        ui.live.set(None);
        ui.single.set(None);
        ui.verification.set(None);
        ui.snapshot_too_big.set(None);
        ui.progress.set(None);
        ui.throughput.set(None);
        if kind == Job::All {
            book.run_config.set_value(None);
            ui.set_report.set(None);
            ui.selected.set(0);
        } else if kind == Job::Single {
            ui.set_report.set(None);
        }
        ui.status.set(Status::Running(match kind {
            Job::All => format!("evaluating {} questions", items.len()),
            _ => "greedy decoding".into(),
        }));
        book.outstanding.update_value(|o| *o += 1);
        self.send(&ToWorker::Evaluate { query, items }, &[]);
    }

    /// The first screen's action: the demo's most telling question, with the demo's
    /// settings, run live on the shipped model.
    pub fn watch(&self, w: &Watch) {
        let (settings, errors) = Settings::from_query(query_lookup(&w.query));
        if let Some(e) = errors.first() {
            return self.fail(format!("demo-summary.json: {e}"));
        }
        self.ui.local_label.set(None);
        self.ui.input_errors.set(Vec::new());
        self.ui.settings.set(settings);
        self.ui.settings_open.set(false);
        // The story gives way to the run: the greedy verdict, the samples arriving, then the
        // side-by-side verdict at the top.
        self.ui.summary.set(None);
        self.run(Job::Single);
        if let Some(w) = web_sys::window() {
            w.scroll_to_with_x_and_y(0.0, 0.0);
        }
    }

    pub fn copy_link(&self) {
        let url = if self.ui.local_label.get_untracked().is_some() {
            "local files cannot be shared by link: put the bundle on a static host (with CORS) and use model_url=".to_string()
        } else {
            page_url(&self.ui.settings.get_untracked().to_query())
        };
        self.ui.share.set(url.clone());
        copy_to_clipboard(&url);
    }

    fn snapshot_of_result(&self) -> Option<Snapshot> {
        let r = self.ui.single.get_untracked()?;
        Some(Snapshot::new(
            self.ui.settings.get_untracked().to_query(),
            self.ui.backend.get_untracked(),
            &r,
        ))
    }

    pub fn snapshot_link(&self) {
        let Some(s) = self.snapshot_of_result() else {
            return;
        };
        match s.encode() {
            Ok(value) => {
                self.ui.snapshot_too_big.set(None);
                let url = format!("{}#snap={value}", page_url(&s.query));
                self.ui.share.set(url.clone());
                copy_to_clipboard(&url);
            }
            Err(len) => self.ui.snapshot_too_big.set(Some(format!(
                "this result needs {len} characters, more than a snapshot link carries ({}); download it as JSON instead",
                crate::snapshot::SNAPSHOT_CAP
            ))),
        }
    }

    pub fn download_snapshot(&self) {
        if let Some(s) = self.snapshot_of_result() {
            crate::download::save("result.json", &s.to_json());
        }
    }
}
