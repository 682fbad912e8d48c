//! The seam between the evaluation and whatever draws the answers. The runner renders
//! prompts, groups questions, scores and bounds; a [`Sampler`] only turns prompt token ids
//! into generated token ids — the in-process burn engine ([`LocalSampler`]) here, a remote
//! serving engine elsewhere.

use crate::model::CausalLm;
use crate::sample::{
    sample_prompts_reusing, DecodeConfig, Generation, Prefills, Progress, PromptJob, Step,
};

use super::EvalError;

/// Draws greedy answers and samples for prompts given as token ids.
///
/// Each job names its prompt, its index (which keys its random streams together with the
/// job's seed) and the sample indices to draw; the sampler returns, per job and in order, one
/// [`Generation`] per sample index. Asynchronous so the same runner drives a native CLI
/// (blocked on), a browser (awaiting WebGPU reads) and network engines.
#[allow(async_fn_in_trait)]
pub trait Sampler {
    /// One greedy answer per job (the jobs' sample ranges are `0..1`).
    async fn greedy(
        &mut self,
        jobs: &[PromptJob<'_>],
        decode: &DecodeConfig,
        rows: usize,
    ) -> Result<Vec<Generation>, EvalError>;

    /// The samples of every job, decoded `rows` at a time where the engine batches.
    /// `progress` is awaited after every step (or response); a stop returns the samples
    /// finished so far, and the runner then reports [`EvalError::Stopped`].
    async fn sample(
        &mut self,
        jobs: &[PromptJob<'_>],
        decode: &DecodeConfig,
        rows: usize,
        progress: &mut dyn FnMut(Progress) -> Step,
    ) -> Result<Vec<Vec<Generation>>, EvalError>;
}

/// probable's own engine: the model in this process, on whatever device it was loaded on.
/// It keeps the prompts of its latest call prefilled, so the samples after the greedy
/// answers (and later chunks, units or rounds of the same questions) do not prefill them
/// again (`sample/prefill.rs`).
pub struct LocalSampler<'a> {
    pub model: &'a CausalLm,
    prefills: Prefills,
}

impl<'a> LocalSampler<'a> {
    pub fn new(model: &'a CausalLm) -> Self {
        Self::reusing(model, Prefills::default())
    }

    /// A sampler that starts from `prefills`, left by an earlier sampler of the same model
    /// (see [`LocalSampler::into_prefills`]).
    pub fn reusing(model: &'a CausalLm, prefills: Prefills) -> Self {
        Self { model, prefills }
    }

    /// The prompts of this sampler's latest call, prefilled, for a later sampler of the same
    /// model (a browser helper keeps them between the units it is sent).
    pub fn into_prefills(self) -> Prefills {
        self.prefills
    }
}

impl Sampler for LocalSampler<'_> {
    async fn greedy(
        &mut self,
        jobs: &[PromptJob<'_>],
        decode: &DecodeConfig,
        rows: usize,
    ) -> Result<Vec<Generation>, EvalError> {
        let out = sample_prompts_reusing(
            self.model,
            jobs,
            decode,
            rows,
            &mut self.prefills,
            &mut crate::sample::no_progress,
        )
        .await?;
        out.into_iter()
            .map(|mut g| g.pop().ok_or(EvalError::Stopped))
            .collect()
    }

    async fn sample(
        &mut self,
        jobs: &[PromptJob<'_>],
        decode: &DecodeConfig,
        rows: usize,
        progress: &mut dyn FnMut(Progress) -> Step,
    ) -> Result<Vec<Vec<Generation>>, EvalError> {
        let prefills = &mut self.prefills;
        Ok(sample_prompts_reusing(self.model, jobs, decode, rows, prefills, progress).await?)
    }
}
