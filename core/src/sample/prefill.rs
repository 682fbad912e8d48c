//! Prompts already prefilled: the last logits and keys/values of each prompt of a sampler's
//! latest call, which its next call reuses for the same prompts.
//!
//! An evaluation prefills each question's prompt for the greedy answer and, in a second
//! call, for the samples; the browser draws a question's samples in chunks or units, one
//! call each, and a sequential evaluation in rounds. Each of those calls prefilled the same
//! prompt again (for a 1B model, a second or so of a 100-token prompt on two cores; in the
//! browser, burn's generic attention on every call, which the engine then compiled). The
//! prefill is a deterministic function of the prompt, so reusing it changes no sample.
//!
//! Only the latest call's prompts are kept, so what is held beyond a call is no more than
//! that call itself needed.

use burn::tensor::Tensor;

use crate::model::KvCache;

/// A prompt's prefill: its last position's logits `[1, vocab]` and its batch-1 cache.
pub(crate) type Prefilled = (Tensor<2>, KvCache);

#[derive(Debug, Default)]
pub struct Prefills {
    kept: Vec<(Vec<u32>, Prefilled)>,
    /// Prompts taken from `kept` instead of prefilled, over this value's life (for tests
    /// and benchmarks).
    reused: usize,
}

impl Prefills {
    /// `prompt`'s prefill if the latest call had it (a cheap handle: tensors share storage).
    pub(crate) fn get(&mut self, prompt: &[u32]) -> Option<Prefilled> {
        let found = self
            .kept
            .iter()
            .find(|(p, _)| p == prompt)
            .map(|(_, prefilled)| prefilled.clone());
        self.reused += usize::from(found.is_some());
        found
    }

    /// Keeps exactly these prompts' prefills (the latest call's), dropping the rest.
    pub(crate) fn keep(&mut self, latest: Vec<(Vec<u32>, Prefilled)>) {
        self.kept = latest;
    }

    /// The latest call's prefills, in the order it kept them.
    pub(crate) fn latest(&self) -> Vec<&Prefilled> {
        self.kept.iter().map(|(_, prefilled)| prefilled).collect()
    }

    /// How many prompts were reused instead of prefilled.
    pub fn reused(&self) -> usize {
        self.reused
    }
}
