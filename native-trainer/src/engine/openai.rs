//! An OpenAI-compatible server (vLLM, SGLang, llama-server, `probable serve`) as the
//! evaluation's [`Sampler`]. Prompts arrive rendered as token ids (the same BOS and
//! template the local engine feeds) and go to `/v1/completions` as ids; every sampling
//! knob is sent explicitly, since servers otherwise apply the model's
//! `generation_config.json` (vLLM, SGLang) or their own defaults (llama.cpp: top-k 40,
//! min-p 0.05).
//!
//! Seeds: servers give choice i of a request with seed s the seed s + i (vLLM,
//! llama.cpp). Sample j of prompt index q is therefore drawn with the seed
//! `base(seed, q) + j`, where `base` is a 31-bit mix of the job's seed (the evaluation's
//! seed, per prompt variant) and q: a request for samples j0..j0+n carries seed
//! `base + j0`, so no two samples of a question share a seed and every sample's seed is
//! recorded. Seeds stay below 2^32 − 1 (llama.cpp reads u32::MAX as "random").

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use probable_core::eval::{EngineRecord, EvalError, Sampler};
use probable_core::sample::{DecodeConfig, Generation, Progress, PromptJob, Step, Strategy};
use probable_core::tokenizer::Tokenizer;
use serde_json::{json, Value};

use super::http::{excerpt, send, BaseUrl, HttpError};
use super::replicas::Replicas;

/// How the client talks to the servers.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// Most choices asked of one request.
    pub chunk: u32,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Deadline of one request (connect, send, wait, read).
    pub request_timeout: Duration,
    /// Repeats of a request after a retryable failure before the run stops.
    pub retries: u32,
    /// First backoff; doubled per attempt, with jitter, capped at 30 s.
    pub backoff: Duration,
    pub api_key: Option<String>,
}

/// The model the client checks answers against.
pub struct ModelFacts<'a> {
    /// Ids at or above this are outside the model's vocabulary.
    pub vocab_size: usize,
    pub tokenizer: &'a Tokenizer,
    pub eos_token_ids: Vec<u32>,
}

pub struct OpenAiSampler<'a> {
    replicas: Replicas,
    served_model: String,
    models: Value,
    settings: ClientSettings,
    facts: ModelFacts<'a>,
    retries: AtomicU64,
    retokenised: AtomicBool,
    probed: bool,
    warnings: Vec<String>,
    sample_request: Option<Value>,
    greedy_request: Option<Value>,
}

/// How long connecting may take before an endpoint counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The 31-bit base seed of a prompt's samples (splitmix64 of the job seed and index).
pub fn base_seed(seed: u64, prompt_index: u32) -> u64 {
    let mut z = seed ^ (prompt_index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) & 0x7FFF_FFFF
}

/// The seed sample `sample` of a job is drawn with.
pub fn sample_seed(job: &PromptJob<'_>, sample: u32) -> u64 {
    base_seed(job.seed, job.prompt_index) + sample as u64
}

/// One request: `n` choices of job `job` starting at sample `first`.
#[derive(Debug, Clone, Copy)]
struct Ask {
    job: usize,
    first: u32,
    n: u32,
}

/// One choice as the server returned it.
struct Choice {
    ids: Vec<u32>,
    finish_reason: String,
    retokenised: bool,
}

/// A failure of one request, with the endpoint it came from.
enum Failure {
    /// Worth another attempt: 429, 408, 5xx, reset, timeout, refused.
    Retry(String),
    /// Not: a malformed answer or a refusal of the request itself.
    Fatal(String),
}

impl<'a> OpenAiSampler<'a> {
    /// Asks every endpoint for its models, picks the served model (`served`, else the one
    /// they list) and checks that every endpoint serves it. Unreachable endpoints and
    /// wrong paths fail here, within seconds, naming the URL.
    pub fn connect(
        urls: Vec<BaseUrl>,
        served: Option<&str>,
        settings: ClientSettings,
        facts: ModelFacts<'a>,
    ) -> Result<Self, String> {
        if urls.is_empty() {
            return Err("--engine openai needs at least one --endpoint URL".into());
        }
        let mut listed = serde_json::Map::new();
        let mut names: Vec<Vec<String>> = Vec::new();
        for url in &urls {
            let models_url = url.url("/models");
            let resp = send(
                url,
                "GET",
                "/models",
                None,
                settings.api_key.as_deref(),
                settings.request_timeout.min(Duration::from_secs(30)),
                CONNECT_TIMEOUT,
            )
            .map_err(|e| format!("{models_url}: {e}"))?;
            if resp.status != 200 {
                return Err(format!(
                    "{models_url}: HTTP {} ({}) — is this the server's OpenAI base URL (usually ending in /v1)?",
                    resp.status,
                    excerpt(&resp.body, 200)
                ));
            }
            let v: Value = serde_json::from_slice(&resp.body).map_err(|e| {
                format!("{models_url}: not JSON ({e}): {}", excerpt(&resp.body, 200))
            })?;
            let ids: Vec<String> = v
                .get("data")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|m| m.get("id").and_then(Value::as_str).map(String::from))
                        .collect()
                })
                .ok_or_else(|| {
                    format!(
                        "{models_url}: no `data` list of models in {}",
                        excerpt(&resp.body, 200)
                    )
                })?;
            listed.insert(url.to_string(), json!(ids));
            names.push(ids);
        }
        let served_model = match served {
            Some(name) => {
                for (url, ids) in urls.iter().zip(&names) {
                    if !ids.iter().any(|m| m == name) {
                        return Err(format!(
                            "{}: does not serve `{name}` (it lists: {})",
                            url.url("/models"),
                            ids.join(", ")
                        ));
                    }
                }
                name.to_string()
            }
            None => {
                let first = &names[0];
                if first.len() != 1 {
                    return Err(format!(
                        "{}: lists {} models ({}); choose one with --served-model",
                        urls[0].url("/models"),
                        first.len(),
                        first.join(", ")
                    ));
                }
                for (url, ids) in urls.iter().zip(&names).skip(1) {
                    if ids != first {
                        return Err(format!(
                            "{}: lists {} where {} lists {}: the endpoints must be replicas of one model",
                            url.url("/models"),
                            ids.join(", "),
                            urls[0],
                            first.join(", ")
                        ));
                    }
                }
                first[0].clone()
            }
        };
        Ok(Self {
            replicas: Replicas::new(urls),
            served_model,
            models: Value::Object(listed),
            settings,
            facts,
            retries: AtomicU64::new(0),
            retokenised: AtomicBool::new(false),
            probed: false,
            warnings: Vec::new(),
            sample_request: None,
            greedy_request: None,
        })
    }

    /// The request body for `n` choices of `prompt` with `seed` under `decode`.
    fn body(&self, prompt: &[u32], n: u32, seed: u64, decode: &DecodeConfig) -> Value {
        let (temperature, top_p, top_k) = match decode.strategy {
            Strategy::Greedy => (0.0, 1.0, None),
            Strategy::Sample {
                temperature,
                top_p,
                top_k,
            } => (temperature, top_p, top_k),
        };
        json!({
            "model": self.served_model,
            "prompt": prompt,
            "n": n,
            "seed": seed,
            "temperature": temperature,
            "top_p": top_p,
            // -1 is "off" for vLLM, SGLang and llama.cpp alike.
            "top_k": top_k.map_or(-1, |k| k as i64),
            "min_p": 0.0,
            "repetition_penalty": 1.0,
            "repeat_penalty": 1.0,
            "presence_penalty": 0.0,
            "frequency_penalty": 0.0,
            "max_tokens": decode.max_new_tokens,
            "stop_token_ids": decode.eos_token_ids,
            "ignore_eos": false,
            "stream": false,
            "echo": false,
            "return_token_ids": true,
            "return_tokens": true,
        })
    }

    /// What a journal records of this engine so that `--resume` refuses a changed
    /// configuration: everything sent except prompts and seeds, not the endpoints (a
    /// resumed run may use other replicas).
    pub fn journal_config(&self, decode: &DecodeConfig) -> Value {
        let strip = |mut v: Value| {
            if let Some(o) = v.as_object_mut() {
                for k in ["prompt", "seed", "n"] {
                    o.remove(k);
                }
            }
            v
        };
        let greedy = DecodeConfig {
            strategy: Strategy::Greedy,
            adaptive: None,
            ..decode.clone()
        };
        json!({
            "kind": "openai",
            "served_model": self.served_model,
            "chunk": self.settings.chunk,
            "sample_request": strip(self.body(&[], 0, 0, decode)),
            "greedy_request": strip(self.body(&[], 0, 0, &greedy)),
        })
    }

    /// The engine record for the report (and, without endpoints and retries, the
    /// journal header).
    pub fn record(&self) -> EngineRecord {
        let mut warnings = self.warnings.clone();
        warnings.extend(self.replicas.warnings());
        let strip = |v: &Option<Value>| {
            let mut v = v.clone().unwrap_or(Value::Null);
            if let Some(o) = v.as_object_mut() {
                o.remove("prompt");
                o.insert("seed".into(), json!("per request: base + first sample"));
            }
            v
        };
        let mut sample = strip(&self.sample_request);
        if let Some(o) = sample.as_object_mut() {
            o.insert(
                "n".into(),
                json!(format!("at most {}", self.settings.chunk)),
            );
        }
        EngineRecord {
            kind: "openai".into(),
            endpoints: self.replicas.urls.iter().map(|u| u.to_string()).collect(),
            served_model: self.served_model.clone(),
            models: self.models.clone(),
            sample_request: sample,
            greedy_request: strip(&self.greedy_request),
            chunk: self.settings.chunk,
            concurrency: self.settings.concurrency,
            retries: self.retries.load(Ordering::Relaxed),
            token_ids: if self.retokenised.load(Ordering::Relaxed) {
                "re-tokenised".into()
            } else {
                "server".into()
            },
            seeds: "sample j of prompt index q: base(seed of the prompt variant, q) + j, base a \
                    31-bit splitmix64 mix; a request for samples j0.. carries seed base + j0 and \
                    the server gives choice i the seed base + j0 + i; each sample's seed is \
                    recorded with it"
                .into(),
            reproducibility: "the seeds are fixed by the evaluation's seed, so the requests \
                are the same on every run; whether the server answers them bit for bit the \
                same depends on it: vLLM is not batch-invariant by default \
                (VLLM_BATCH_INVARIANT=1), llama.cpp's prompt cache and continuous batching \
                can change results, `probable serve` answers the same seed with the same \
                choices on the same backend"
                .into(),
            warnings,
        }
    }

    /// One request with retries; returns the choices, validated.
    fn call(&self, body: &Value, n: u32, max_tokens: usize) -> Result<Vec<Choice>, String> {
        let bytes = serde_json::to_vec(body).map_err(|e| e.to_string())?;
        let mut attempt = 0u32;
        loop {
            let ep = self.replicas.pick();
            let url = &self.replicas.urls[ep];
            let outcome = self.attempt(url, &bytes, n, max_tokens);
            let why = match &outcome {
                Ok(_) => String::new(),
                Err(Failure::Retry(w) | Failure::Fatal(w)) => w.clone(),
            };
            self.replicas
                .done(ep, !matches!(outcome, Err(Failure::Retry(_))), &why);
            match outcome {
                Ok(choices) => return Ok(choices),
                Err(Failure::Fatal(why)) => {
                    return Err(format!("{}: {why}", url.url("/completions")))
                }
                Err(Failure::Retry(why)) => {
                    attempt += 1;
                    if attempt > self.settings.retries {
                        return Err(format!(
                            "{}: {why} (gave up after {attempt} attempts; --retries {})",
                            url.url("/completions"),
                            self.settings.retries
                        ));
                    }
                    self.retries.fetch_add(1, Ordering::Relaxed);
                    std::thread::sleep(backoff(self.settings.backoff, attempt));
                }
            }
        }
    }

    fn attempt(
        &self,
        url: &BaseUrl,
        body: &[u8],
        n: u32,
        max_tokens: usize,
    ) -> Result<Vec<Choice>, Failure> {
        let resp = send(
            url,
            "POST",
            "/completions",
            Some(body),
            self.settings.api_key.as_deref(),
            self.settings.request_timeout,
            CONNECT_TIMEOUT,
        )
        .map_err(|e| match e {
            HttpError::Protocol(_) => Failure::Fatal(e.to_string()),
            HttpError::Timeout => Failure::Retry(format!(
                "no complete answer within --request-timeout {} s",
                self.settings.request_timeout.as_secs_f64()
            )),
            _ => Failure::Retry(e.to_string()),
        })?;
        if resp.status == 429 || resp.status == 408 || resp.status >= 500 {
            return Err(Failure::Retry(format!(
                "HTTP {}: {}",
                resp.status,
                excerpt(&resp.body, 200)
            )));
        }
        if resp.status != 200 {
            return Err(Failure::Fatal(format!(
                "HTTP {}: {}",
                resp.status,
                excerpt(&resp.body, 300)
            )));
        }
        self.parse(&resp.body, n, max_tokens)
            .map_err(Failure::Fatal)
    }

    /// The choices of a completion response, checked: the count asked for, each index
    /// once, ids inside the vocabulary, no more tokens than `max_tokens`.
    fn parse(&self, body: &[u8], n: u32, max_tokens: usize) -> Result<Vec<Choice>, String> {
        let v: Value = serde_json::from_slice(body)
            .map_err(|e| format!("answer is not JSON ({e}): {}", excerpt(body, 200)))?;
        let choices = v
            .get("choices")
            .and_then(Value::as_array)
            .ok_or_else(|| format!("answer has no `choices` list: {}", excerpt(body, 200)))?;
        if choices.len() != n as usize {
            return Err(format!(
                "returned {} choice(s) for n = {n}: the server ignores or caps `n` \
                 (llama-server: at most its --parallel slots; lower --chunk)",
                choices.len()
            ));
        }
        let mut out: Vec<Option<Choice>> = (0..n).map(|_| None).collect();
        for (k, c) in choices.iter().enumerate() {
            let index = match c.get("index") {
                None => k,
                Some(i) => i
                    .as_u64()
                    .map(|i| i as usize)
                    .filter(|&i| i < n as usize)
                    .ok_or_else(|| format!("choice {k}: index {i} is not in 0..{n}"))?,
            };
            let finish_reason = c
                .get("finish_reason")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let list = c.get("token_ids").or_else(|| c.get("tokens"));
            let (ids, retokenised) = match list.filter(|l| !l.is_null()) {
                Some(l) => {
                    let arr = l
                        .as_array()
                        .ok_or_else(|| format!("choice {index}: token ids are not a list"))?;
                    let ids = arr
                        .iter()
                        .map(|t| {
                            t.as_u64().filter(|&t| t <= u32::MAX as u64).ok_or_else(|| {
                                format!("choice {index}: token id {t} is not a number")
                            })
                        })
                        .collect::<Result<Vec<u64>, _>>()?;
                    (ids.into_iter().map(|t| t as u32).collect(), false)
                }
                None => {
                    let text = c
                        .get("text")
                        .and_then(Value::as_str)
                        .ok_or_else(|| format!("choice {index}: neither token ids nor `text`"))?;
                    let ids = self
                        .facts
                        .tokenizer
                        .encode(text)
                        .map_err(|e| format!("choice {index}: cannot re-tokenise: {e}"))?;
                    (ids, true)
                }
            };
            if let Some(&bad) = ids.iter().find(|&&t| t as usize >= self.facts.vocab_size) {
                return Err(format!(
                    "choice {index}: token id {bad} is outside the model's vocabulary \
                     (vocab_size {}): the server runs a model with another tokenizer",
                    self.facts.vocab_size
                ));
            }
            // Re-tokenised text may split differently than it was generated: only ids the
            // server returned are held to max_tokens.
            if !retokenised && ids.len() > max_tokens {
                return Err(format!(
                    "choice {index}: {} tokens where max_tokens is {max_tokens}",
                    ids.len()
                ));
            }
            if out[index].is_some() {
                return Err(format!("choice index {index} appears twice"));
            }
            out[index] = Some(Choice {
                ids,
                finish_reason,
                retokenised,
            });
        }
        Ok(out
            .into_iter()
            .map(|c| c.expect("every index filled"))
            .collect())
    }

    fn generation(&self, mut c: Choice, sample_index: u32, seed: Option<u64>) -> Generation {
        if c.retokenised {
            self.retokenised.store(true, Ordering::Relaxed);
            // Text leaves the EOS token out; requests carry no stop strings, so "stop" means
            // an EOS id ended the answer: put it back, as the local engine's ids hold it.
            if c.finish_reason == "stop" {
                if let Some(&eos) = self.facts.eos_token_ids.first() {
                    c.ids.push(eos);
                }
            }
        }
        let last_is_eos = c
            .ids
            .last()
            .is_some_and(|t| self.facts.eos_token_ids.contains(t));
        Generation {
            sample_index,
            stopped_on_eos: last_is_eos || (c.finish_reason == "stop" && c.retokenised),
            tokens: c.ids,
            seed,
        }
    }

    /// Runs `asks` concurrently; `done` hears every finished ask in completion order (on
    /// this thread) and may stop the run. The first error stops new requests; requests in
    /// flight finish and are dropped.
    fn run_asks(
        &self,
        asks: &[Ask],
        body: &(dyn Fn(&Ask) -> Value + Sync),
        max_tokens: usize,
        done: &mut dyn FnMut(&Ask, Vec<Choice>) -> bool,
    ) -> Result<(), EvalError> {
        let next = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let workers = self.settings.concurrency.clamp(1, asks.len().max(1));
        let (tx, rx) = mpsc::channel::<(usize, Result<Vec<Choice>, String>)>();
        let mut first_error: Option<String> = None;
        std::thread::scope(|scope| {
            for _ in 0..workers {
                let tx = tx.clone();
                let (next, stop) = (&next, &stop);
                scope.spawn(move || loop {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(ask) = asks.get(i) else { return };
                    let r = self.call(&body(ask), ask.n, max_tokens);
                    if tx.send((i, r)).is_err() {
                        return;
                    }
                });
            }
            drop(tx);
            for (i, r) in rx {
                match r {
                    Ok(choices) if first_error.is_none() => {
                        if !done(&asks[i], choices) {
                            stop.store(true, Ordering::Relaxed);
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        stop.store(true, Ordering::Relaxed);
                        first_error.get_or_insert(e);
                    }
                }
            }
        });
        match first_error {
            Some(e) => Err(EvalError::Engine(e)),
            None => Ok(()),
        }
    }

    /// Checks once per endpoint that the server honours `seed`: two requests with
    /// different seeds, on a near-empty prompt (its first token, usually BOS) at
    /// temperature 1.5 with EOS ignored, must not return the same 16 tokens. The
    /// comparison is not made on the evaluation's own samples: a model that learned an
    /// answer (what an unlearning evaluation looks for) may legitimately repeat it under
    /// different seeds, whereas the continuation of a lone BOS at high temperature is
    /// spread over the vocabulary, so an identical 16-token pair means the seed was
    /// ignored (or fixed), not a peaked model. A repeat of one seed that differs is only a
    /// warning: the samples stay independent, just not reproducible.
    fn probe_seeds(&mut self, prompt: &[u32]) -> Result<(), EvalError> {
        const LEN: usize = 16;
        let first = &prompt[..1];
        for ep in 0..self.replicas.urls.len() {
            let url = self.replicas.urls[ep].clone();
            let ask = |seed: u64| -> Result<Vec<u32>, EvalError> {
                let body = json!({
                    "model": self.served_model, "prompt": first, "n": 1, "seed": seed,
                    "temperature": 1.5, "top_p": 1.0, "top_k": -1, "min_p": 0.0,
                    "repetition_penalty": 1.0, "repeat_penalty": 1.0, "max_tokens": LEN,
                    "ignore_eos": true, "stream": false,
                    "return_token_ids": true, "return_tokens": true,
                });
                let bytes =
                    serde_json::to_vec(&body).map_err(|e| EvalError::Engine(e.to_string()))?;
                let mut attempt = 0;
                loop {
                    match self.attempt(&url, &bytes, 1, LEN) {
                        Ok(mut c) => return Ok(c.remove(0).ids),
                        Err(Failure::Retry(w)) if attempt < self.settings.retries => {
                            attempt += 1;
                            self.retries.fetch_add(1, Ordering::Relaxed);
                            let _ = w;
                            std::thread::sleep(backoff(self.settings.backoff, attempt));
                        }
                        Err(Failure::Retry(w) | Failure::Fatal(w)) => {
                            return Err(EvalError::Engine(format!(
                                "{} (seed check): {w}",
                                url.url("/completions")
                            )))
                        }
                    }
                }
            };
            let (a, b, a2) = (ask(1_000_003)?, ask(2_000_029)?, ask(1_000_003)?);
            if a.len() >= 8 && a == b {
                return Err(EvalError::Engine(format!(
                    "{}: requests with seeds 1000003 and 2000029 at temperature 1.5 returned the \
                     same {} tokens: the server ignores `seed` (its \"samples\" would be copies); \
                     use a server that honours per-request seeds",
                    url.url("/completions"),
                    a.len()
                )));
            }
            if a != a2 {
                self.warnings.push(format!(
                    "{url}: the same seed gave different tokens twice: samples are independent \
                     but not reproducible bit for bit on this server"
                ));
                eprintln!("warning: {}", self.warnings.last().expect("just pushed"));
            }
        }
        Ok(())
    }
}

/// Exponential backoff with jitter: `base` · 2^(attempt−1) · [0.5, 1.5), at most 30 s.
fn backoff(base: Duration, attempt: u32) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let jitter = 0.5 + (nanos % 1000) as f64 / 1000.0;
    let scaled = base.as_secs_f64() * 2f64.powi(attempt.saturating_sub(1).min(16) as i32);
    Duration::from_secs_f64((scaled * jitter).min(30.0))
}

impl Sampler for OpenAiSampler<'_> {
    async fn greedy(
        &mut self,
        jobs: &[PromptJob<'_>],
        decode: &DecodeConfig,
        _rows: usize,
    ) -> Result<Vec<Generation>, EvalError> {
        let asks: Vec<Ask> = (0..jobs.len())
            .map(|job| Ask {
                job,
                first: 0,
                n: 1,
            })
            .collect();
        if self.greedy_request.is_none() {
            self.greedy_request = jobs
                .first()
                .map(|j| self.body(j.prompt, 1, sample_seed(j, 0), decode));
        }
        let body = |a: &Ask| self.body(jobs[a.job].prompt, 1, sample_seed(&jobs[a.job], 0), decode);
        let mut out: Vec<Option<Generation>> = jobs.iter().map(|_| None).collect();
        self.run_asks(&asks, &body, decode.max_new_tokens, &mut |a, mut c| {
            out[a.job] = Some(self.generation(c.remove(0), 0, None));
            true
        })?;
        out.into_iter()
            .map(|g| g.ok_or(EvalError::Stopped))
            .collect()
    }

    async fn sample(
        &mut self,
        jobs: &[PromptJob<'_>],
        decode: &DecodeConfig,
        _rows: usize,
        progress: &mut dyn FnMut(Progress) -> Step,
    ) -> Result<Vec<Vec<Generation>>, EvalError> {
        if decode.adaptive.is_some() {
            return Err(EvalError::Config(
                "--adaptive-temperature needs the local engine (servers do not offer it)".into(),
            ));
        }
        if !self.probed {
            if let Some(job) = jobs.iter().find(|j| !j.prompt.is_empty()) {
                self.probe_seeds(job.prompt)?;
            }
            self.probed = true;
        }
        let chunk = self.settings.chunk.max(1);
        let mut asks = Vec::new();
        for (job, j) in jobs.iter().enumerate() {
            // Seeds are base (< 2^31) + sample index: below u32::MAX, llama.cpp's "random".
            if j.samples.end > 1 << 31 {
                return Err(EvalError::Config(format!(
                    "{} samples: the remote engine draws at most 2^31 per prompt",
                    j.samples.end
                )));
            }
            let mut first = j.samples.start;
            while first < j.samples.end {
                let n = chunk.min(j.samples.end - first);
                asks.push(Ask { job, first, n });
                first += n;
            }
        }
        if self.sample_request.is_none() {
            self.sample_request = asks.first().map(|a| {
                self.body(
                    jobs[a.job].prompt,
                    a.n,
                    sample_seed(&jobs[a.job], a.first),
                    decode,
                )
            });
        }
        let body = |a: &Ask| {
            self.body(
                jobs[a.job].prompt,
                a.n,
                sample_seed(&jobs[a.job], a.first),
                decode,
            )
        };
        let total: usize = jobs.iter().map(|j| j.samples.len()).sum();
        let (mut done, mut tokens) = (0usize, 0usize);
        let mut out: Vec<Vec<Generation>> = jobs.iter().map(|_| Vec::new()).collect();
        self.run_asks(&asks, &body, decode.max_new_tokens, &mut |a, choices| {
            for (i, c) in choices.into_iter().enumerate() {
                let s = a.first + i as u32;
                let seed = sample_seed(&jobs[a.job], s);
                tokens += c.ids.len();
                out[a.job].push(self.generation(c, s, Some(seed)));
            }
            done += a.n as usize;
            let step = progress(Progress {
                samples_done: done,
                samples_total: total,
                tokens,
            });
            pollster::block_on(step).is_continue()
        })?;
        // Answers arrive in completion order; the report lists samples by index.
        for g in &mut out {
            g.sort_by_key(|x| x.sample_index);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_are_31_bit_distinct_per_sample_and_never_llama_random() {
        let job = PromptJob {
            prompt: &[1],
            prompt_index: 7,
            samples: 0..1,
            seed: 42,
        };
        let b = base_seed(42, 7);
        assert!(b < 1 << 31);
        assert_eq!(sample_seed(&job, 5), b + 5);
        assert_ne!(base_seed(42, 8), b);
        assert_ne!(base_seed(43, 7), b);
        assert!(sample_seed(&job, (1 << 31) - 1) < u32::MAX as u64);
        let w = backoff(Duration::from_millis(100), 3);
        assert!(w >= Duration::from_millis(200) && w < Duration::from_millis(600));
    }
}
