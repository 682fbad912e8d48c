//! Where `probable eval` draws its answers: the in-process engine (default) or
//! OpenAI-compatible servers (`--engine openai --endpoint URL …`). Network I/O lives here,
//! in the CLI; core only sees the [`Sampler`](probable_core::eval::Sampler) seam.

pub mod http;
pub mod openai;
pub mod replicas;

use std::time::Duration;

use anyhow::{bail, Context, Result};

use http::BaseUrl;
use openai::ClientSettings;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum EngineKind {
    /// The model in this process (burn), on --device.
    Local,
    /// OpenAI-compatible servers (vLLM, SGLang, llama-server, `probable serve --model`).
    Openai,
}

#[derive(clap::Args, Clone, Debug)]
pub struct EngineArgs {
    /// Which engine draws the answers. With `openai`, --model only supplies the tokenizer,
    /// chat template and probable.json (the weights are not read).
    #[arg(long, value_enum, default_value = "local")]
    pub engine: EngineKind,
    /// Base URL of an OpenAI-compatible server, e.g. http://gpu-node:8000/v1; repeat for
    /// data-parallel replicas of the same model.
    #[arg(long = "endpoint", value_name = "URL")]
    pub endpoints: Vec<String>,
    /// The model name to request (default: the one model /v1/models lists).
    #[arg(long)]
    pub served_model: Option<String>,
    /// Requests in flight at once, over all endpoints.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub concurrency: u32,
    /// Most samples asked of one request (`n`); llama-server allows at most its --parallel
    /// slots, SGLang recommends 1.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub chunk: u32,
    /// Seconds one request may take (connect, generate, read) before it is retried.
    #[arg(long, default_value_t = 300.0)]
    pub request_timeout: f64,
    /// Repeats of a request after 429, 5xx, a reset or a timeout, with exponential backoff.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(0..=100))]
    pub retries: u32,
    /// Environment variable holding the API key (sent as a Bearer token; never written).
    #[arg(long, value_name = "VAR")]
    pub api_key_env: Option<String>,
}

impl EngineArgs {
    /// Refuses remote-engine flags given with the local engine (they would be ignored)
    /// and checks the remote ones; returns the endpoints and client settings.
    pub fn remote(&self) -> Result<Option<(Vec<BaseUrl>, ClientSettings)>> {
        if self.engine == EngineKind::Local {
            if !self.endpoints.is_empty()
                || self.served_model.is_some()
                || self.api_key_env.is_some()
            {
                bail!("--endpoint, --served-model and --api-key-env need --engine openai");
            }
            return Ok(None);
        }
        if self.endpoints.is_empty() {
            bail!("--engine openai needs --endpoint URL (e.g. http://gpu-node:8000/v1)");
        }
        let urls = self
            .endpoints
            .iter()
            .map(|u| BaseUrl::parse(u).map_err(anyhow::Error::msg))
            .collect::<Result<Vec<_>>>()
            .context("--endpoint")?;
        if !(self.request_timeout.is_finite()
            && self.request_timeout > 0.0
            && self.request_timeout <= 86_400.0)
        {
            bail!(
                "--request-timeout {}: need seconds in (0, 86400]",
                self.request_timeout
            );
        }
        let api_key = match &self.api_key_env {
            None => None,
            Some(var) => Some(std::env::var(var).with_context(|| {
                format!("--api-key-env {var}: the variable is not set (or not UTF-8)")
            })?),
        };
        Ok(Some((
            urls,
            ClientSettings {
                chunk: self.chunk,
                concurrency: self.concurrency as usize,
                request_timeout: Duration::from_secs_f64(self.request_timeout),
                retries: self.retries,
                backoff: backoff_base(),
                api_key,
            },
        )))
    }
}

/// First retry backoff: 250 ms, or `PROBABLE_RETRY_BACKOFF_MS` (tests shorten it).
fn backoff_base() -> Duration {
    let ms = std::env::var("PROBABLE_RETRY_BACKOFF_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(250);
    Duration::from_millis(ms.min(60_000))
}
