//! The page's state: what it renders (signals) and the bookkeeping the worker replies update
//! (stored values, not rendered). Both are `Copy` handles, passed to the reducer
//! (`reply.rs`), the actions (`actions.rs`) and the components.

use leptos::prelude::*;
use probable_core::data::demo_index::DemoModel;
use probable_core::data::QaItem;
use probable_core::eval::{EvalConfig, EvalReport, QuestionReport};
use web_sys::File;

use crate::protocol::ModelInfo;
use crate::snapshot::Snapshot;
use crate::summary::DemoSummary;
use probable_core::share::Settings;

/// What the status line says; `data-state` carries the kind for scripts and tests.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    Starting(String),
    Ready,
    Running(String),
    Done,
    Stopped(&'static str),
    Failed(String),
}

impl Status {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Starting(_) => "starting",
            Self::Ready => "ready",
            Self::Running(_) => "running",
            Self::Done => "done",
            Self::Stopped(_) => "stopped",
            Self::Failed(_) => "error",
        }
    }

    pub fn text(&self) -> String {
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
pub enum Job {
    /// One question, shown with its greedy answer first.
    Single,
    /// Every question of a split, gathered into a report.
    All,
    /// Re-running a snapshot's question to compare.
    Verify,
}

/// A one-question run while its samples arrive: the newest leaking samples (index, score,
/// text; `protocol::LATEST_LEAKS`, oldest first) and the leak count and certified bounds so
/// far.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Live {
    pub leaking: Vec<(u32, f64, String)>,
    pub leaks: u64,
    pub n: u64,
    pub lower: f64,
    pub upper: f64,
}

/// The greedy answer of the running question: text, score, and the τ it is judged at.
pub type GreedyShown = (String, f64, f64);

/// The progress line: question, questions, samples done, samples total, tokens/s.
pub type ProgressLine = (usize, usize, usize, usize, f64);

/// Everything the page renders.
#[derive(Clone, Copy)]
pub struct Ui {
    pub settings: RwSignal<Settings>,
    pub input_errors: RwSignal<Vec<(&'static str, String)>>,
    pub models: RwSignal<Vec<DemoModel>>,
    pub forget: RwSignal<Vec<QaItem>>,
    pub retain: RwSignal<Vec<QaItem>>,
    /// Names of the forget and the retain questions' sources.
    pub data_names: RwSignal<(String, String)>,
    pub backend: RwSignal<String>,
    pub status: RwSignal<Status>,
    pub progress: RwSignal<Option<ProgressLine>>,
    pub download: RwSignal<Option<(String, u64, Option<u64>)>>,
    pub model_info: RwSignal<Option<ModelInfo>>,
    pub local_label: RwSignal<Option<String>>,
    pub greedy: RwSignal<Option<GreedyShown>>,
    pub live: RwSignal<Option<Live>>,
    pub single: RwSignal<Option<QuestionReport>>,
    pub set_report: RwSignal<Option<EvalReport>>,
    pub selected: RwSignal<usize>,
    pub snapshot: RwSignal<Option<Snapshot>>,
    pub verification: RwSignal<Option<(bool, String)>>,
    pub share: RwSignal<String>,
    pub snapshot_too_big: RwSignal<Option<String>>,
    pub busy: RwSignal<bool>,
    pub throughput: RwSignal<Option<(usize, f64)>>,
    pub summary: RwSignal<Option<DemoSummary>>,
    /// The settings panel is open (collapsed when the page opened on a result).
    pub settings_open: RwSignal<bool>,
}

impl Ui {
    pub fn new(initial: Settings, selected: usize, snapshot: Option<Snapshot>) -> Self {
        Self {
            settings: RwSignal::new(initial),
            input_errors: RwSignal::new(Vec::new()),
            models: RwSignal::new(Vec::new()),
            forget: RwSignal::new(Vec::new()),
            retain: RwSignal::new(Vec::new()),
            data_names: RwSignal::new((String::new(), String::new())),
            backend: RwSignal::new(String::from("detecting…")),
            status: RwSignal::new(Status::Starting("detecting the backend".into())),
            progress: RwSignal::new(None),
            download: RwSignal::new(None),
            model_info: RwSignal::new(None),
            local_label: RwSignal::new(None),
            greedy: RwSignal::new(None),
            live: RwSignal::new(None),
            single: RwSignal::new(None),
            set_report: RwSignal::new(None),
            selected: RwSignal::new(selected),
            snapshot: RwSignal::new(snapshot),
            verification: RwSignal::new(None),
            share: RwSignal::new(String::new()),
            snapshot_too_big: RwSignal::new(None),
            busy: RwSignal::new(false),
            throughput: RwSignal::new(None),
            summary: RwSignal::new(None),
            settings_open: RwSignal::new(true),
        }
    }
}

/// Bookkeeping the worker replies update (not rendered).
#[derive(Clone, Copy)]
pub struct Book {
    pub job: StoredValue<Job, LocalStorage>,
    /// An evaluation is queued or running (a load alone does not block queuing one: the
    /// worker handles messages in order).
    pub running: StoredValue<bool, LocalStorage>,
    /// Loads and evaluations sent and not answered yet.
    pub outstanding: StoredValue<usize, LocalStorage>,
    /// Which bundle the worker holds (`demo:npo`, `url:…`, `local:3`).
    pub loaded_key: StoredValue<Option<String>, LocalStorage>,
    pub local_files: StoredValue<Vec<File>, LocalStorage>,
    pub local_count: StoredValue<usize, LocalStorage>,
    pub run_config: StoredValue<Option<EvalConfig>, LocalStorage>,
    pub run_questions: StoredValue<Vec<QuestionReport>, LocalStorage>,
    /// The running report's (model, data, split) names.
    pub run_names: StoredValue<(String, String, String), LocalStorage>,
}

impl Default for Book {
    fn default() -> Self {
        Self::new()
    }
}

impl Book {
    pub fn new() -> Self {
        Self {
            job: StoredValue::new_local(Job::Single),
            running: StoredValue::new_local(false),
            outstanding: StoredValue::new_local(0),
            loaded_key: StoredValue::new_local(None),
            local_files: StoredValue::new_local(Vec::new()),
            local_count: StoredValue::new_local(0),
            run_config: StoredValue::new_local(None),
            run_questions: StoredValue::new_local(Vec::new()),
            run_names: StoredValue::new_local((String::new(), String::new(), String::new())),
        }
    }

    /// One job (load or evaluation) answered; whether none is left.
    pub fn finish_job(&self, n: usize) -> bool {
        self.outstanding.update_value(|o| *o = o.saturating_sub(n));
        self.outstanding.get_value() == 0
    }

    /// The report "Evaluate all" has gathered so far.
    pub fn gathered(&self) -> Option<EvalReport> {
        let config = self.run_config.get_value()?;
        let questions = self.run_questions.get_value();
        let (model, data, split) = self.run_names.get_value();
        EvalReport::assemble((&model, &data, &split), config, questions).ok()
    }
}
