//! The messages between the page and the Web Worker that runs the model.
//!
//! The model, the sampler and the bounds run in a worker so the page's main thread only
//! renders: a decode step that takes 200 ms on a slow CPU never freezes input or painting.
//! Messages travel as JSON strings; local files travel beside a `Load` message as `File`
//! objects (structured clone, nothing is copied until the worker reads them).

use probable_core::data::QaItem;
use probable_core::eval::{EvalConfig, QuestionReport};
use probable_core::sample::{DecodeConfig, Generation, PromptJob};
use serde::{Deserialize, Serialize};

/// Where a model bundle comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum BundleSource {
    /// A shipped demo bundle: `name` from `models/index.json`, files under `models/{dir}/`.
    Demo { name: String, dir: String },
    /// Any static host: the bundle's files live under `base` (e.g. a model hub's
    /// `…/resolve/main/`); the host must send CORS headers.
    Url { base: String },
    /// Files the visitor picked or dropped; `label` names them (the folder, or the first
    /// file). The `File` objects follow the message.
    Files { label: String },
}

/// How many of the newest leaking samples the page shows while a run streams in. Only those
/// travel: every sample's text in every message was most of the page's work per message.
pub const LATEST_LEAKS: usize = 5;

/// Page → worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ToWorker {
    /// Pick the device; `cpu_only` skips WebGPU (`backend=cpu` in a link).
    Init { cpu_only: bool },
    /// Load a bundle; `model_only` (a helper of the CPU pool, `pool.rs`) reads the model
    /// alone: a helper draws token ids and never renders a prompt or decodes an answer.
    Load {
        source: BundleSource,
        #[serde(default)]
        model_only: bool,
    },
    /// Evaluate `items` (each with its index in its split) with the settings of the
    /// share-link query `query`, one question after another.
    Evaluate {
        query: String,
        items: Vec<(u32, QaItem)>,
    },
    /// End the running evaluation at its next decode step.
    Stop,
    /// To a helper worker of the CPU pool (`pool.rs`): draw these samples on its own copy
    /// of the model and answer `Sampled`, with `Progress` a few times a second and after
    /// the last step.
    Sample {
        jobs: Vec<Job>,
        decode: DecodeConfig,
        rows: usize,
    },
}

/// A [`PromptJob`] that travels: the prompt's ids, its index, the sample range and seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub prompt: Vec<u32>,
    pub prompt_index: u32,
    pub start: u32,
    pub end: u32,
    pub seed: u64,
}

impl Job {
    pub fn of(j: &PromptJob<'_>) -> Self {
        Self {
            prompt: j.prompt.to_vec(),
            prompt_index: j.prompt_index,
            start: j.samples.start,
            end: j.samples.end,
            seed: j.seed,
        }
    }

    pub fn as_prompt_job(&self) -> PromptJob<'_> {
        PromptJob {
            prompt: &self.prompt,
            prompt_index: self.prompt_index,
            samples: self.start..self.end,
            seed: self.seed,
        }
    }
}

/// A [`Generation`] that travels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Drawn {
    pub index: u32,
    pub tokens: Vec<u32>,
    pub eos: bool,
    pub seed: Option<u64>,
}

impl From<&Generation> for Drawn {
    fn from(g: &Generation) -> Self {
        Self {
            index: g.sample_index,
            tokens: g.tokens.clone(),
            eos: g.stopped_on_eos,
            seed: g.seed,
        }
    }
}

impl From<Drawn> for Generation {
    fn from(d: Drawn) -> Self {
        Self {
            sample_index: d.index,
            tokens: d.tokens,
            stopped_on_eos: d.eos,
            seed: d.seed,
        }
    }
}

/// What a loaded bundle is, for the page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// How reports and the page name the model (demo name, URL or file label).
    pub label: String,
    pub family: String,
    pub parameters: usize,
    pub vocab_size: usize,
    /// The bundle carries a chat template (`template=chat` is available).
    pub chat_template: bool,
    /// Bytes of bundle files read.
    pub bytes: u64,
}

/// Worker → page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FromWorker {
    /// The worker's message handler is installed; messages sent before are queued.
    Ready,
    Backend {
        label: String,
    },
    Status {
        text: String,
    },
    /// Bytes of `file` received so far (`total` when the size is known).
    Download {
        file: String,
        done: u64,
        total: Option<u64>,
    },
    Loaded {
        info: ModelInfo,
    },
    /// The evaluation settings the run uses (what a report records).
    Started {
        config: Box<EvalConfig>,
    },
    Greedy {
        question: usize,
        text: String,
        score: f64,
    },
    Progress {
        question: usize,
        questions: usize,
        samples_done: usize,
        samples_total: usize,
        /// Tokens generated in this run so far, and the milliseconds it took.
        tokens: usize,
        ms: f64,
    },
    /// Samples of a one-question run as they finish (a chunk at a time): the newest leaking
    /// ones (index, score, text; at most [`LATEST_LEAKS`], what the page shows), and the leak
    /// count and certified P(leak) bounds over all so far.
    Samples {
        leaking: Vec<(u32, f64, String)>,
        leaks: u64,
        n: u64,
        lower: f64,
        upper: f64,
    },
    Question {
        report: Box<QuestionReport>,
    },
    /// A helper's answer to `Sample`: per job, the samples drawn (fewer after a stop).
    Sampled {
        generations: Vec<Vec<Drawn>>,
    },
    Finished {
        stopped: bool,
        tokens: usize,
        ms: f64,
    },
    Failed {
        message: String,
    },
}

impl ToWorker {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("messages serialise")
    }

    pub fn from_json(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|e| format!("malformed message to the worker: {e}"))
    }
}

impl FromWorker {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("messages serialise")
    }

    pub fn from_json(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|e| format!("malformed message from the worker: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip() {
        let item = QaItem {
            id: "7".into(),
            question: "Who? \"<b>\"".into(),
            answer: "Her.".into(),
            keywords: vec![],
            variants: vec![],
        };
        for m in [
            ToWorker::Init { cpu_only: true },
            ToWorker::Load {
                source: BundleSource::Url {
                    base: "http://h/x/".into(),
                },
                model_only: true,
            },
            ToWorker::Evaluate {
                query: "model=npo&n=4".into(),
                items: vec![(3, item)],
            },
            ToWorker::Stop,
            ToWorker::Sample {
                jobs: vec![Job {
                    prompt: vec![1, 2],
                    prompt_index: 4,
                    start: 8,
                    end: 16,
                    seed: 9,
                }],
                decode: DecodeConfig::paper(8, vec![2], 9),
                rows: 64,
            },
        ] {
            assert_eq!(ToWorker::from_json(&m.to_json()).unwrap(), m);
        }
        let m = FromWorker::Download {
            file: "model.safetensors".into(),
            done: 10,
            total: None,
        };
        assert_eq!(FromWorker::from_json(&m.to_json()).unwrap(), m);
        let g = Generation {
            sample_index: 5,
            tokens: vec![7, 2],
            stopped_on_eos: true,
            seed: Some(11),
        };
        let m = FromWorker::Sampled {
            generations: vec![vec![Drawn::from(&g)]],
        };
        let FromWorker::Sampled { mut generations } = FromWorker::from_json(&m.to_json()).unwrap()
        else {
            panic!("not Sampled")
        };
        assert_eq!(Generation::from(generations[0].remove(0)), g);
        assert!(FromWorker::from_json("{")
            .unwrap_err()
            .contains("malformed"));
    }
}
