//! A sampler that draws each job's samples a chunk at a time and hands every finished chunk
//! to the caller, so the page can show samples, the leak count and the certified bound as
//! they arrive instead of after the last one.
//!
//! Splitting changes nothing in the samples: each sample's random stream is keyed by
//! (seed, prompt index, sample index) alone (`sample::batch`), so sample 37 is the same
//! whether it is drawn in one batch of 256 or in the second chunk of 32 (the browser test
//! compares a chunked run with `probable eval`; `tests::chunks_equal_one_call` the wiring).

use std::cell::Cell;
use std::future::Future;

use probable_core::eval::{EvalError, Sampler};
use probable_core::sample::{DecodeConfig, Generation, Progress, PromptJob, Step};

pub struct Chunked<S, F> {
    pub inner: S,
    /// Samples per job and chunk (at least 1).
    pub chunk: u32,
    /// Called after every chunk with the job's position in the call and its new samples.
    pub on_chunk: F,
}

/// The chunk for a run of `n` samples on `workers` CPU workers (1 elsewhere): about eight
/// updates, none smaller than 32 samples per worker (a small batch costs throughput).
pub fn chunk_for(n: u32, workers: usize) -> u32 {
    n.div_ceil(8).max(32 * workers.max(1) as u32)
}

impl<S: Sampler, F: FnMut(usize, &[Generation])> Sampler for Chunked<S, F> {
    async fn greedy(
        &mut self,
        jobs: &[PromptJob<'_>],
        decode: &DecodeConfig,
        rows: usize,
    ) -> Result<Vec<Generation>, EvalError> {
        self.inner.greedy(jobs, decode, rows).await
    }

    async fn sample(
        &mut self,
        jobs: &[PromptJob<'_>],
        decode: &DecodeConfig,
        rows: usize,
        progress: &mut dyn FnMut(Progress) -> Step,
    ) -> Result<Vec<Vec<Generation>>, EvalError> {
        let Self {
            inner,
            chunk,
            on_chunk,
        } = self;
        let chunk = (*chunk).max(1);
        let total: usize = jobs.iter().map(|j| j.samples.len()).sum();
        let longest = jobs.iter().map(|j| j.samples.len()).max().unwrap_or(0) as u32;
        let mut out: Vec<Vec<Generation>> = vec![Vec::new(); jobs.len()];
        // A finished chunk is handed to `on_chunk` once the next one has been sent to the
        // engine (its first poll): the CPU pool's helpers then draw while the model worker
        // scores, instead of waiting for it between chunks.
        let mut finished_chunk: Option<(Vec<usize>, Vec<Vec<Generation>>)> = None;
        let mut hand_over = |finished: Option<(Vec<usize>, Vec<Vec<Generation>>)>| {
            for (position, generations) in
                finished.into_iter().flat_map(|(p, g)| p.into_iter().zip(g))
            {
                on_chunk(position, &generations);
                out[position].extend(generations);
            }
        };
        let (mut done_before, mut tokens_before) = (0usize, 0usize);
        let mut offset = 0u32;
        while offset < longest {
            // The next chunk of every job that has samples left (an empty range is an error
            // to the engine), with its position among `jobs`.
            let (positions, sub): (Vec<usize>, Vec<PromptJob>) = jobs
                .iter()
                .enumerate()
                .filter_map(|(i, j)| {
                    let start = j.samples.start.saturating_add(offset).min(j.samples.end);
                    let end = start.saturating_add(chunk).min(j.samples.end);
                    (start < end).then_some((
                        i,
                        PromptJob {
                            prompt: j.prompt,
                            prompt_index: j.prompt_index,
                            samples: start..end,
                            seed: j.seed,
                        },
                    ))
                })
                .unzip();
            let wanted: usize = sub.iter().map(|j| j.samples.len()).sum();
            let last_tokens = Cell::new(0usize);
            let mut shifted = |p: Progress| {
                last_tokens.set(p.tokens);
                progress(Progress {
                    samples_done: done_before + p.samples_done,
                    samples_total: total,
                    tokens: tokens_before + p.tokens,
                })
            };
            let previous = finished_chunk.take();
            let drawing = inner.sample(&sub, decode, rows, &mut shifted);
            let got = after_first_poll(drawing, || hand_over(previous)).await?;
            let finished: usize = got.iter().map(Vec::len).sum();
            finished_chunk = Some((positions, got));
            done_before += finished;
            tokens_before += last_tokens.get();
            // A stop: the engine returned fewer samples than asked; so does this sampler.
            if finished < wanted {
                break;
            }
            offset = offset.saturating_add(chunk);
        }
        hand_over(finished_chunk);
        Ok(out)
    }
}

/// Awaits `future`, running `work` right after its first poll (whatever that poll returned).
async fn after_first_poll<T>(future: impl Future<Output = T>, work: impl FnOnce()) -> T {
    let mut future = std::pin::pin!(future);
    let mut work = Some(work);
    std::future::poll_fn(|cx| {
        let polled = future.as_mut().poll(cx);
        if let Some(work) = work.take() {
            work();
        }
        polled
    })
    .await
}

#[cfg(test)]
mod tests {
    use std::ops::ControlFlow;

    use probable_core::sample::step_now;

    use super::*;

    /// A deterministic engine: sample i of a prompt is [prompt_index, i, seed]. Counts calls.
    struct Fake {
        calls: usize,
    }

    impl Sampler for Fake {
        async fn greedy(
            &mut self,
            jobs: &[PromptJob<'_>],
            _: &DecodeConfig,
            _: usize,
        ) -> Result<Vec<Generation>, EvalError> {
            Ok(jobs.iter().map(|_| gen(0, 0, 0)).collect())
        }

        async fn sample(
            &mut self,
            jobs: &[PromptJob<'_>],
            _: &DecodeConfig,
            _: usize,
            progress: &mut dyn FnMut(Progress) -> Step,
        ) -> Result<Vec<Vec<Generation>>, EvalError> {
            self.calls += 1;
            let total = jobs.iter().map(|j| j.samples.len()).sum();
            let flow = progress(Progress {
                samples_done: total,
                samples_total: total,
                tokens: 3 * total,
            })
            .await;
            if flow.is_break() {
                return Ok(jobs.iter().map(|_| Vec::new()).collect());
            }
            Ok(jobs
                .iter()
                .map(|j| {
                    j.samples
                        .clone()
                        .map(|i| gen(j.prompt_index, i, j.seed))
                        .collect()
                })
                .collect())
        }
    }

    fn gen(p: u32, i: u32, seed: u64) -> Generation {
        Generation {
            sample_index: i,
            tokens: vec![p, i, seed as u32],
            stopped_on_eos: false,
            seed: None,
        }
    }

    /// Runs a future that never waits (the fake engine and `step_now` are ready at once).
    fn block<T>(f: impl std::future::Future<Output = T>) -> T {
        let mut f = std::pin::pin!(f);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match f.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(v) => v,
            std::task::Poll::Pending => panic!("the fake engine never waits"),
        }
    }

    #[test]
    fn chunks_equal_one_call() {
        let prompt = [1u32, 2];
        let jobs = [
            PromptJob {
                prompt: &prompt,
                prompt_index: 4,
                samples: 0..70,
                seed: 9,
            },
            PromptJob {
                prompt: &prompt,
                prompt_index: 5,
                samples: 10..20,
                seed: 9,
            },
        ];
        let decode = DecodeConfig::paper(8, vec![], 9);
        let whole = block(Fake { calls: 0 }.sample(&jobs, &decode, 64, &mut |_| {
            step_now(ControlFlow::Continue(()))
        }))
        .unwrap();
        let mut seen = Vec::new();
        let mut last = None;
        let mut chunked = Chunked {
            inner: Fake { calls: 0 },
            chunk: 32,
            on_chunk: |job: usize, g: &[Generation]| seen.push((job, g.len())),
        };
        let parts = block(chunked.sample(&jobs, &decode, 64, &mut |p| {
            last = Some(p);
            step_now(ControlFlow::Continue(()))
        }))
        .unwrap();
        assert_eq!(parts, whole);
        // Moving the sampler out ends its borrow of `seen`.
        let Chunked { inner, .. } = chunked;
        assert_eq!(inner.calls, 3);
        assert_eq!(seen, vec![(0, 32), (1, 10), (0, 32), (0, 6)]);
        let last = last.unwrap();
        assert_eq!((last.samples_done, last.samples_total), (80, 80));
        assert_eq!(last.tokens, 3 * 80);
    }

    #[test]
    fn a_stop_ends_after_the_chunk() {
        let prompt = [1u32];
        let jobs = [PromptJob {
            prompt: &prompt,
            prompt_index: 0,
            samples: 0..100,
            seed: 1,
        }];
        let decode = DecodeConfig::paper(8, vec![], 1);
        let mut steps = 0;
        let mut chunked = Chunked {
            inner: Fake { calls: 0 },
            chunk: 32,
            on_chunk: |_: usize, _: &[Generation]| {},
        };
        let out = block(chunked.sample(&jobs, &decode, 64, &mut |_| {
            steps += 1;
            step_now(if steps == 2 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            })
        }))
        .unwrap();
        assert_eq!(
            out[0].len(),
            32,
            "the first chunk is kept, the stop ends the rest"
        );
        assert_eq!(chunked.inner.calls, 2);
    }

    #[test]
    fn chunk_sizes() {
        assert_eq!(chunk_for(12, 1), 32);
        assert_eq!(chunk_for(256, 1), 32);
        assert_eq!(chunk_for(256, 2), 64);
        assert_eq!(chunk_for(4096, 1), 512);
    }
}
