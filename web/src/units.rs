//! The CPU pool's work list: every job's sample range cut into units, and the bookkeeping of
//! which helper draws which unit (`pool.rs` sends them).
//!
//! Units go to whichever helper is free, two at a time (one drawing, one waiting in its
//! queue), instead of one fixed part per helper and chunk: a helper whose samples ended
//! early on EOS takes the next unit rather than waiting for the other at a chunk boundary,
//! and the message round trip to the model worker is hidden behind the queued unit. Units
//! shrink towards the end so the helpers finish together.
//!
//! Which helper draws a unit changes nothing in its samples (each is keyed by seed, prompt
//! index and sample index alone); [`Dispatch::assemble`] puts them back in range order.

use std::collections::VecDeque;
use std::ops::Range;

/// One piece of work: sample sub-ranges of some jobs, as (job position, samples).
pub type Unit = Vec<(usize, Range<u32>)>;

/// Units a helper holds at once: the one it draws and the next, queued.
pub const DEPTH: usize = 2;

/// Rows a unit has at least while enough samples are left: a small batch costs throughput.
const LEAST_ROWS: u32 = 32;

/// Cuts the jobs' sample ranges into units, in order: each unit holds the next `piece`
/// samples of every job that has any left. The piece is guided by what is left of the
/// longest job: a (2·helpers)-th of it, at most `most` (the live view's granularity), at
/// least [`LEAST_ROWS`] rows across the jobs; once no more than `helpers` such units are
/// left, the rest is split evenly among the helpers (so a small request, such as a
/// sequential round, still goes to every helper).
pub fn plan(ranges: &[Range<u32>], helpers: usize, most: u32) -> Vec<Unit> {
    let k = helpers.max(1) as u32;
    let longest = ranges.iter().map(|r| r.len() as u32).max().unwrap_or(0);
    let most = most.max(1);
    let least = LEAST_ROWS.div_ceil(ranges.len().max(1) as u32).min(most);
    let mut tail = None;
    let mut units = Vec::new();
    let mut offset = 0u32;
    while offset < longest {
        let left = longest - offset;
        // The last `helpers` units split what is left evenly, once it is that small.
        if left <= k * least {
            tail.get_or_insert(left.div_ceil(k));
        }
        let piece = tail.unwrap_or_else(|| left.div_ceil(2 * k).clamp(least, most));
        let unit: Unit = ranges
            .iter()
            .enumerate()
            .filter_map(|(j, r)| {
                let start = r.start.saturating_add(offset).min(r.end);
                let end = start.saturating_add(piece).min(r.end);
                (start < end).then_some((j, start..end))
            })
            .collect();
        units.push(unit);
        offset += piece;
    }
    units
}

/// Which units were sent to which helper, and what came back.
pub struct Dispatch<T> {
    units: Vec<Unit>,
    /// The first unit not yet sent.
    next: usize,
    /// Per helper, the units sent and not answered, oldest first (a helper answers in order).
    sent: Vec<VecDeque<usize>>,
    /// Per unit, per part, the samples drawn.
    results: Vec<Option<Vec<Vec<T>>>>,
    stopped: bool,
}

impl<T> Dispatch<T> {
    pub fn new(units: Vec<Unit>, helpers: usize) -> Self {
        let results = units.iter().map(|_| None).collect();
        Self {
            units,
            next: 0,
            sent: (0..helpers).map(|_| VecDeque::new()).collect(),
            results,
            stopped: false,
        }
    }

    /// The next unit for helper `h`, recorded as sent; `None` when all are sent, the run
    /// stopped, or the helper already holds [`DEPTH`].
    pub fn send(&mut self, h: usize) -> Option<&Unit> {
        if self.stopped || self.next >= self.units.len() || self.sent[h].len() >= DEPTH {
            return None;
        }
        self.sent[h].push_back(self.next);
        self.next += 1;
        Some(&self.units[self.next - 1])
    }

    /// Helper `h` answered its oldest unit with `got` (per part, the samples drawn): which
    /// unit that was. An answer nothing was sent for is an error.
    pub fn answered(&mut self, h: usize, got: Vec<Vec<T>>) -> Result<usize, String> {
        let u = self.sent[h]
            .pop_front()
            .ok_or_else(|| format!("CPU worker {} answered a unit it was not sent", h + 1))?;
        if got.len() != self.units[u].len() {
            return Err(format!(
                "CPU worker {} answered {} jobs for a unit of {}",
                h + 1,
                got.len(),
                self.units[u].len()
            ));
        }
        self.results[u] = Some(got);
        Ok(u)
    }

    /// Unit `u`'s parts and, per part, what came back for it (nothing before its answer).
    pub fn unit(&self, u: usize) -> (&Unit, &[Vec<T>]) {
        (
            &self.units[u],
            self.results[u].as_deref().unwrap_or_default(),
        )
    }

    /// Units sent and not yet answered.
    pub fn outstanding(&self) -> usize {
        self.sent.iter().map(VecDeque::len).sum()
    }

    /// Sends nothing more (a stop); what was sent is still answered.
    pub fn stop(&mut self) {
        self.stopped = true;
    }

    /// Per job, the samples in range order: whole units first to last, ending with the
    /// first unit that came back short or not at all (a stop).
    pub fn assemble(self, jobs: usize) -> Vec<Vec<T>> {
        let mut out: Vec<Vec<T>> = (0..jobs).map(|_| Vec::new()).collect();
        for (unit, got) in self.units.iter().zip(self.results) {
            let Some(got) = got else { break };
            let whole = unit.iter().zip(&got).all(|((_, r), g)| g.len() == r.len());
            for ((j, _), g) in unit.iter().zip(got) {
                out[*j].extend(g);
            }
            if !whole {
                break;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One job's range.
    fn one(r: Range<u32>) -> Vec<Range<u32>> {
        vec![r]
    }

    fn sizes(units: &[Unit]) -> Vec<u32> {
        units
            .iter()
            .map(|u| u.iter().map(|(_, r)| r.len() as u32).max().unwrap())
            .collect()
    }

    #[test]
    fn units_cover_every_range_in_order() {
        for (ranges, k, most) in [
            (one(0..4096), 2, 256),
            (one(0..256), 2, 32),
            (one(0..16), 2, 32),
            (one(5..6), 4, 32),
            (vec![0..64, 10..20, 3..3, 0..70], 3, 32),
            (one(0..0), 2, 32),
        ] {
            let units = plan(&ranges, k, most);
            for (j, r) in ranges.iter().enumerate() {
                let joined: Vec<u32> = units
                    .iter()
                    .flat_map(|u| u.iter().filter(|(i, _)| *i == j))
                    .flat_map(|(_, r)| r.clone())
                    .collect();
                assert_eq!(joined, r.clone().collect::<Vec<_>>(), "{ranges:?} job {j}");
            }
            assert!(units
                .iter()
                .all(|u| !u.is_empty() && u.iter().all(|(_, r)| !r.is_empty())));
            assert!(
                sizes(&units).iter().all(|&s| s <= most),
                "{:?}",
                sizes(&units)
            );
        }
    }

    #[test]
    fn units_shrink_towards_the_end_and_reach_every_helper() {
        let s = sizes(&plan(&one(0..4096), 2, 256));
        assert_eq!(s[0], 256);
        assert!(s.windows(2).all(|w| w[0] >= w[1]), "{s:?}");
        assert!(*s.last().unwrap() <= 32, "{s:?}");
        assert_eq!(sizes(&plan(&one(0..256), 2, 32)), vec![32; 8]);
        // A sequential round of 16 samples: both helpers get 8.
        assert_eq!(sizes(&plan(&one(0..16), 2, 32)), vec![8, 8]);
    }

    /// Helpers answering in any interleaving give back every job's samples in range order.
    #[test]
    fn any_answer_order_assembles_the_ranges() {
        let ranges = vec![0..300, 7..50, 0..1];
        for seed in 1..20u64 {
            let mut work = Dispatch::new(plan(&ranges, 3, 40), 3);
            let mut holding: Vec<VecDeque<Unit>> = vec![VecDeque::new(); 3];
            for _ in 0..DEPTH {
                for (h, queue) in holding.iter_mut().enumerate() {
                    if let Some(u) = work.send(h) {
                        queue.push_back(u.clone());
                    }
                }
            }
            let mut state = seed;
            while work.outstanding() > 0 {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let h = (state >> 33) as usize % 3;
                let Some(unit) = holding[h].pop_front() else {
                    continue;
                };
                let got: Vec<Vec<u32>> = unit.iter().map(|(_, r)| r.clone().collect()).collect();
                work.answered(h, got).unwrap();
                if let Some(u) = work.send(h) {
                    holding[h].push_back(u.clone());
                }
            }
            let out = work.assemble(ranges.len());
            let want: Vec<Vec<u32>> = ranges.iter().map(|r| r.clone().collect()).collect();
            assert_eq!(out, want, "seed {seed}");
        }
    }

    #[test]
    fn a_short_unit_ends_the_samples_and_stray_answers_are_errors() {
        let mut work = Dispatch::new(plan(&one(0..96), 2, 32), 2);
        let first = work.send(0).unwrap().clone();
        let second = work.send(1).unwrap().clone();
        assert_eq!(work.send(0).map(|u| u[0].1.clone()), Some(64..96));
        work.stop();
        assert!(work.send(1).is_none(), "nothing is sent after a stop");
        let whole =
            |u: &Unit| -> Vec<Vec<u32>> { u.iter().map(|(_, r)| r.clone().collect()).collect() };
        work.answered(1, vec![vec![32, 33]]).unwrap();
        work.answered(0, whole(&first)).unwrap();
        work.answered(0, vec![vec![]]).unwrap();
        assert!(
            work.answered(1, whole(&second)).is_err(),
            "helper 2 held one unit"
        );
        assert_eq!(work.outstanding(), 0);
        let out = work.assemble(1);
        assert_eq!(out[0], (0..34).collect::<Vec<_>>());
    }
}
