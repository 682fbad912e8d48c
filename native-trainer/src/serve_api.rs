//! `probable serve --model DIR`: the OpenAI completions API (`GET /v1/models`,
//! `POST /v1/completions`) over probable's batched n-sample decoder, so tools that speak
//! to vLLM (lm-evaluation-harness's `local-completions`, Leak@k-style scripts, `probable
//! eval --engine openai`) can sample from a probable bundle.
//!
//! Seeds follow vLLM: choice i of a request with seed s is drawn from the random stream of
//! seed s + i (probable's stream `(s + i, prompt 0, sample 0)`), so the same request gives
//! the same choices on the same backend, and a client that records `s + i` per sample
//! can redraw any sample alone. Temperature 0 is greedy. One thread owns the model and
//! decodes; requests waiting together with the same sampling settings share one batch.
//!
//! Bounded: bodies over 1 MiB are refused (413), `n` ≤ 1024, `max_tokens` ≤ 4096 and the
//! model's context; malformed fields are answered 400 naming the field; knobs probable
//! does not implement (`min_p`, penalties, `logprobs`, streaming) are refused unless set to
//! their neutral value, never silently ignored.

use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::time::Duration;

use anyhow::{Context, Result};
use probable_core::model::ModelConfig;
use probable_core::sample::{sample_prompts, DecodeConfig, PromptJob, Strategy};
use probable_core::tokenizer::Tokenizer;
use serde_json::{json, Value};

use crate::bundle::{load_bundle, load_meta};

/// Largest request body accepted.
const MAX_BODY: usize = 1 << 20;
const MAX_N: u64 = 1024;
const MAX_TOKENS: u64 = 4096;
/// Rows decoded in one batch by the model thread.
const ROWS: usize = 256;
/// Longest a request waits for its answer before 504.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(900);

/// An answer: status, reason phrase, JSON body.
pub struct ApiReply {
    pub status: u16,
    pub reason: &'static str,
    pub body: Vec<u8>,
}

fn reply(status: u16, body: Value) -> ApiReply {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        411 => "Length Required",
        413 => "Payload Too Large",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Internal Server Error",
    };
    ApiReply {
        status,
        reason,
        body: serde_json::to_vec(&body).unwrap_or_default(),
    }
}

/// An OpenAI-style error body naming the parameter at fault.
fn error(status: u16, param: Option<&str>, message: String) -> ApiReply {
    reply(
        status,
        json!({"error": {"message": message, "type": "invalid_request_error", "param": param, "code": status}}),
    )
}

/// A parsed completion request.
struct Completion {
    prompt: Vec<u32>,
    n: u32,
    seed: u64,
    decode: DecodeConfig,
    stop: Vec<String>,
    token_ids: bool,
}

/// Generated choices: ids (EOS included when the row stopped on it) and whether it did.
type Choices = Vec<(Vec<u32>, bool)>;

struct Job {
    prompt: Vec<u32>,
    n: u32,
    seed: u64,
    decode: DecodeConfig,
    answer: mpsc::Sender<Result<Choices, String>>,
}

pub struct Api {
    name: String,
    config: ModelConfig,
    eos: Vec<u32>,
    tokenizer: Option<Tokenizer>,
    jobs: SyncSender<Job>,
    counter: AtomicU64,
}

impl Api {
    /// Loads the bundle in `dir` on a model thread of its own and returns the API.
    pub fn start(dir: &Path, queue: usize) -> Result<Self> {
        let meta = load_meta(dir)?;
        meta.check_special_ids()?;
        let eos = meta.eos_token_ids();
        let (tx, rx) = mpsc::sync_channel::<Job>(queue.max(1));
        let (ready_tx, ready_rx) = mpsc::channel::<Result<()>>();
        let owned = dir.to_path_buf();
        std::thread::Builder::new()
            .name("probable-model".into())
            .spawn(move || {
                let bundle = match load_bundle(
                    &owned,
                    &burn::tensor::Device::flex(),
                    probable_core::model::WeightDtype::Stored,
                ) {
                    Ok(b) => b,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(()));
                model_thread(&bundle, rx);
            })
            .context("cannot start the model thread")?;
        ready_rx
            .recv()
            .context("the model thread stopped while loading")??;
        Ok(Self {
            name: dir.display().to_string(),
            config: meta.config,
            eos,
            tokenizer: meta.tokenizer,
            jobs: tx,
            counter: AtomicU64::new(0),
        })
    }

    /// The model id `/v1/models` lists (the directory as given, as vLLM names a model
    /// by its path).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Answers a request for `target` (under `/v1/`) whose body is `length` bytes in
    /// `reader`.
    pub fn respond(
        &self,
        method: &str,
        target: &str,
        length: Option<usize>,
        reader: &mut impl Read,
    ) -> std::io::Result<ApiReply> {
        let path = target.split(['?', '#']).next().unwrap_or("");
        match (method, path) {
            ("GET", "/v1/models") => Ok(reply(
                200,
                json!({"object": "list", "data": [{
                    "id": self.name, "object": "model", "created": 0, "owned_by": "probable",
                    "max_model_len": self.config.max_context(),
                }]}),
            )),
            ("POST", "/v1/completions") => {
                let Some(length) = length else {
                    return Ok(error(
                        411,
                        None,
                        "a body with Content-Length is required".into(),
                    ));
                };
                if length > MAX_BODY {
                    return Ok(error(
                        413,
                        None,
                        format!("body of {length} bytes; at most {MAX_BODY}"),
                    ));
                }
                let mut body = vec![0u8; length];
                reader.read_exact(&mut body)?;
                Ok(self.complete(&body))
            }
            (_, "/v1/models" | "/v1/completions") => Ok(error(
                405,
                None,
                format!("{method} is not allowed on {path}"),
            )),
            _ => Ok(error(
                404,
                None,
                format!("{path}: not found (this server answers /v1/models and /v1/completions)"),
            )),
        }
    }

    fn complete(&self, body: &[u8]) -> ApiReply {
        let v: Value = match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => return error(400, None, format!("body is not JSON: {e}")),
        };
        let req = match self.parse(&v) {
            Ok(r) => r,
            Err((status, param, message)) => return error(status, Some(param), message),
        };
        let (tx, rx) = mpsc::channel();
        let job = Job {
            prompt: req.prompt.clone(),
            n: req.n,
            seed: req.seed,
            decode: req.decode.clone(),
            answer: tx,
        };
        if self.jobs.send(job).is_err() {
            return error(503, None, "the model thread stopped".into());
        }
        match rx.recv_timeout(ANSWER_TIMEOUT) {
            Ok(Ok(choices)) => reply(200, self.body(&req, choices)),
            Ok(Err(e)) => error(400, None, e),
            Err(_) => error(504, None, "no answer from the model in time".into()),
        }
    }

    /// Reads the request's fields; an error names the field.
    fn parse(&self, v: &Value) -> Result<Completion, (u16, &'static str, String)> {
        let bad = |p: &'static str, m: String| (400u16, p, m);
        let o = v
            .as_object()
            .ok_or_else(|| bad("body", "the body must be a JSON object".into()))?;
        let get = |k: &str| o.get(k).filter(|x| !x.is_null());
        if let Some(m) = get("model") {
            if m.as_str() != Some(self.name.as_str()) {
                return Err((
                    404,
                    "model",
                    format!(
                        "model {m} is not served here (this server serves `{}`)",
                        self.name
                    ),
                ));
            }
        }
        let uint = |k: &'static str, default: u64, max: u64| -> Result<u64, _> {
            match get(k) {
                None => Ok(default),
                Some(x) => x
                    .as_u64()
                    .filter(|&n| n <= max)
                    .ok_or_else(|| bad(k, format!("{k}: {x} is not an integer in 0..={max}"))),
            }
        };
        let num = |k: &'static str, default: f64| -> Result<f64, _> {
            match get(k) {
                None => Ok(default),
                Some(x) => x
                    .as_f64()
                    .filter(|f| f.is_finite())
                    .ok_or_else(|| bad(k, format!("{k}: {x} is not a number"))),
            }
        };
        // Knobs probable does not implement: only their neutral value is accepted.
        for (k, neutral) in [
            ("min_p", 0.0),
            ("repetition_penalty", 1.0),
            ("repeat_penalty", 1.0),
            ("presence_penalty", 0.0),
            ("frequency_penalty", 0.0),
        ] {
            if num(k, neutral)? != neutral {
                return Err(bad(
                    k,
                    format!("{k}: probable serve supports only {neutral}"),
                ));
            }
        }
        for k in ["stream", "echo"] {
            if get(k).is_some_and(|x| x != &json!(false)) {
                return Err(bad(k, format!("{k}: not supported by probable serve")));
            }
        }
        if get("logprobs").is_some_and(|x| x != &json!(0)) {
            return Err(bad(
                "logprobs",
                "logprobs: not supported by probable serve".into(),
            ));
        }
        let prompt =
            self.prompt(get("prompt").ok_or_else(|| bad("prompt", "prompt: missing".into()))?)?;
        let n = uint("n", 1, MAX_N)?;
        if n == 0 {
            return Err(bad("n", "n: must be at least 1".into()));
        }
        let seed = match get("seed") {
            None => fresh_seed(&self.counter),
            Some(x) => x
                .as_u64()
                .ok_or_else(|| bad("seed", format!("seed: {x} is not a non-negative integer")))?,
        };
        let temperature = num("temperature", 1.0)?;
        if temperature < 0.0 {
            return Err(bad(
                "temperature",
                format!("temperature: {temperature} is negative"),
            ));
        }
        let top_p = num("top_p", 1.0)?;
        if !(top_p > 0.0 && top_p <= 1.0) {
            return Err(bad("top_p", format!("top_p: {top_p} is not in (0, 1]")));
        }
        let top_k = match get("top_k") {
            None => None,
            Some(x) => match x.as_i64() {
                Some(k) if k <= 0 => None,
                Some(k) => Some(k as usize),
                None => return Err(bad("top_k", format!("top_k: {x} is not an integer"))),
            },
        };
        let max_tokens = uint("max_tokens", 16, MAX_TOKENS)? as usize;
        if max_tokens == 0 {
            return Err(bad("max_tokens", "max_tokens: must be at least 1".into()));
        }
        if let Some(max) = self.config.max_context() {
            if prompt.len() + max_tokens > max {
                return Err(bad(
                    "max_tokens",
                    format!(
                        "max_tokens: the prompt's {} tokens + {max_tokens} exceed the model's context of {max}",
                        prompt.len()
                    ),
                ));
            }
        }
        let stop: Vec<String> = match get("stop") {
            None => Vec::new(),
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) if a.len() <= 16 => a
                .iter()
                .map(|s| s.as_str().map(String::from))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| bad("stop", "stop: must be a string or a list of strings".into()))?,
            Some(_) => return Err(bad("stop", "stop: a string or at most 16 strings".into())),
        };
        if stop.iter().any(String::is_empty) {
            return Err(bad("stop", "stop: empty string".into()));
        }
        let mut eos = if get("ignore_eos") == Some(&json!(true)) {
            Vec::new()
        } else {
            self.eos.clone()
        };
        if let Some(ids) = get("stop_token_ids") {
            let ids = self
                .ids(ids)
                .map_err(|m| bad("stop_token_ids", format!("stop_token_ids: {m}")))?;
            eos.extend(
                ids.into_iter()
                    .filter(|t| !eos.contains(t))
                    .collect::<Vec<_>>(),
            );
        }
        let strategy = if temperature == 0.0 {
            Strategy::Greedy
        } else {
            Strategy::Sample {
                temperature,
                top_p,
                top_k,
            }
        };
        Ok(Completion {
            prompt,
            n: n as u32,
            seed,
            decode: DecodeConfig {
                strategy,
                adaptive: None,
                max_new_tokens: max_tokens,
                eos_token_ids: eos,
                seed: 0,
            },
            stop,
            token_ids: get("return_token_ids") == Some(&json!(true)),
        })
    }

    /// Token ids inside the vocabulary.
    fn ids(&self, v: &Value) -> Result<Vec<u32>, String> {
        let a = v.as_array().ok_or("not a list of token ids")?;
        a.iter()
            .map(|t| {
                t.as_u64()
                    .filter(|&t| (t as usize) < self.config.vocab_size)
                    .map(|t| t as u32)
                    .ok_or_else(|| {
                        format!(
                            "{t} is not a token id below vocab_size {}",
                            self.config.vocab_size
                        )
                    })
            })
            .collect()
    }

    /// The prompt as ids: a list of ids, a string (encoded, with BOS where the model has
    /// one), or a batch holding exactly one of these.
    fn prompt(&self, v: &Value) -> Result<Vec<u32>, (u16, &'static str, String)> {
        let bad = |m: String| (400u16, "prompt", format!("prompt: {m}"));
        let v = match v.as_array() {
            Some(a) if a.len() == 1 && (a[0].is_array() || a[0].is_string()) => &a[0],
            Some(a) if a.first().is_some_and(|x| x.is_array() || x.is_string()) => {
                return Err(bad("one prompt per request".into()))
            }
            _ => v,
        };
        let ids = match v {
            Value::String(text) => {
                let t = self.tokenizer.as_ref().ok_or_else(|| {
                    bad("text needs the bundle's tokenizer.json; send token ids".into())
                })?;
                let mut ids: Vec<u32> = self.config.bos_token_id.into_iter().collect();
                ids.extend(t.encode(text).map_err(|e| bad(e.to_string()))?);
                ids
            }
            _ => self.ids(v).map_err(bad)?,
        };
        if ids.is_empty() {
            return Err(bad("empty".into()));
        }
        Ok(ids)
    }

    /// The text of `ids` (EOS left out, as servers do), or empty without a tokenizer.
    fn text(&self, ids: &[u32], eos: &[u32]) -> String {
        let ids = match ids.last() {
            Some(t) if eos.contains(t) => &ids[..ids.len() - 1],
            _ => ids,
        };
        self.tokenizer
            .as_ref()
            .and_then(|t| t.decode(ids).ok())
            .unwrap_or_default()
    }

    /// The completion body for `req`'s generated choices.
    fn body(&self, req: &Completion, choices: Choices) -> Value {
        let id = self.counter.fetch_add(1, Ordering::Relaxed);
        let mut completion_tokens = 0;
        let choices: Vec<Value> = choices
            .into_iter()
            .enumerate()
            .map(|(i, (mut ids, eos))| {
                let mut text = self.text(&ids, &req.decode.eos_token_ids);
                let mut stopped = eos;
                if let Some(cut) = req.stop.iter().filter_map(|s| text.find(s.as_str())).min() {
                    text.truncate(cut);
                    stopped = true;
                    // The ids up to the first whose text reaches the stop string.
                    if let Some(k) =
                        (1..=ids.len()).find(|&k| self.text(&ids[..k], &[]).len() > cut)
                    {
                        ids.truncate(k);
                    }
                }
                completion_tokens += ids.len();
                let mut c = json!({
                    "index": i, "text": text, "logprobs": null,
                    "finish_reason": if stopped { "stop" } else { "length" },
                });
                if req.token_ids {
                    c["token_ids"] = json!(ids);
                }
                c
            })
            .collect();
        json!({
            "id": format!("cmpl-probable-{id}"),
            "object": "text_completion",
            "created": std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            "model": self.name,
            "system_fingerprint": format!("probable-{}", env!("CARGO_PKG_VERSION")),
            "choices": choices,
            "usage": {
                "prompt_tokens": req.prompt.len(),
                "completion_tokens": completion_tokens,
                "total_tokens": req.prompt.len() + completion_tokens,
            },
        })
    }
}

/// A seed for a request that names none (different per request).
fn fresh_seed(counter: &AtomicU64) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    (nanos ^ counter.fetch_add(1, Ordering::Relaxed).rotate_left(32)) & 0x7FFF_FFFF
}

/// The model thread: takes requests as they come; those waiting together with the same
/// decoding settings are decoded in one batch.
fn model_thread(bundle: &crate::bundle::Bundle, jobs: Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut rows = first.n as usize;
        let mut batch = vec![first];
        while rows < ROWS {
            match jobs.try_recv() {
                Ok(j) => {
                    rows += j.n as usize;
                    batch.push(j);
                }
                Err(_) => break,
            }
        }
        while !batch.is_empty() {
            let decode = batch[0].decode.clone();
            let (same, rest): (Vec<Job>, Vec<Job>) =
                batch.into_iter().partition(|j| j.decode == decode);
            batch = rest;
            decode_group(bundle, &decode, same);
        }
    }
}

/// Decodes requests with the same settings together and answers each.
fn decode_group(bundle: &crate::bundle::Bundle, decode: &DecodeConfig, group: Vec<Job>) {
    // Choice i of a request with seed s: stream (s + i, prompt 0, sample 0).
    let prompt_jobs: Vec<PromptJob> = group
        .iter()
        .flat_map(|j| {
            (0..j.n as u64).map(move |i| PromptJob {
                prompt: &j.prompt,
                prompt_index: 0,
                samples: 0..1,
                seed: j.seed.wrapping_add(i),
            })
        })
        .collect();
    let result = pollster::block_on(sample_prompts(
        &bundle.model,
        &prompt_jobs,
        decode,
        ROWS,
        &mut probable_core::sample::no_progress,
    ));
    match result {
        Ok(out) => {
            let mut out = out.into_iter();
            for job in group {
                let choices: Choices = (&mut out)
                    .take(job.n as usize)
                    .filter_map(|mut g| g.pop())
                    .map(|g| (g.tokens, g.stopped_on_eos))
                    .collect();
                let _ = job.answer.send(Ok(choices));
            }
        }
        Err(e) => {
            for job in group {
                let _ = job.answer.send(Err(format!("decoding failed: {e}")));
            }
        }
    }
}
