//! Data-parallel replicas of one served model: each request goes to the live endpoint
//! with the fewest requests outstanding (ties: fewer failures in a row); an endpoint that
//! fails `TAKE_OUT` times in a row is taken out (with a warning) while another remains,
//! so the others finish the run. A failing endpoint is not shunned before that: a
//! transient failure (one 503) must not cost a replica for the rest of the run.

use std::sync::Mutex;

use super::http::BaseUrl;

/// Failures in a row after which an endpoint is taken out (if it is not the last).
pub const TAKE_OUT: u32 = 3;

struct Slot {
    outstanding: usize,
    failures_in_a_row: u32,
    live: bool,
}

pub struct Replicas {
    pub urls: Vec<BaseUrl>,
    slots: Mutex<Vec<Slot>>,
    warnings: Mutex<Vec<String>>,
}

impl Replicas {
    pub fn new(urls: Vec<BaseUrl>) -> Self {
        let slots = urls
            .iter()
            .map(|_| Slot {
                outstanding: 0,
                failures_in_a_row: 0,
                live: true,
            })
            .collect();
        Self {
            urls,
            slots: Mutex::new(slots),
            warnings: Mutex::new(Vec::new()),
        }
    }

    /// Claims the best endpoint for the next request (release it with [`Self::done`]).
    pub fn pick(&self) -> usize {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        let best = (0..slots.len())
            .filter(|&i| slots[i].live)
            .min_by_key(|&i| (slots[i].outstanding, slots[i].failures_in_a_row, i))
            .unwrap_or(0);
        slots[best].outstanding += 1;
        best
    }

    /// Releases endpoint `i` after a request: `ok` resets its failure count; a failure
    /// counts, and takes the endpoint out after [`TAKE_OUT`] in a row unless it is the last.
    pub fn done(&self, i: usize, ok: bool, why: &str) {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots[i].outstanding = slots[i].outstanding.saturating_sub(1);
        if ok {
            slots[i].failures_in_a_row = 0;
            return;
        }
        slots[i].failures_in_a_row += 1;
        let others = slots.iter().enumerate().any(|(k, s)| k != i && s.live);
        if slots[i].live && slots[i].failures_in_a_row >= TAKE_OUT && others {
            slots[i].live = false;
            let w = format!(
                "{}: taken out after {TAKE_OUT} failures in a row (last: {why}); the other endpoints continue",
                self.urls[i]
            );
            eprintln!("warning: {w}");
            self.warnings
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(w);
        }
    }

    pub fn warnings(&self) -> Vec<String> {
        self.warnings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balances_and_takes_out_a_failing_replica() {
        let urls = ["http://a:1/v1", "http://b:1/v1"]
            .iter()
            .map(|u| BaseUrl::parse(u).unwrap())
            .collect();
        let r = Replicas::new(urls);
        assert_eq!(r.pick(), 0);
        assert_eq!(r.pick(), 1);
        r.done(0, true, "");
        assert_eq!(r.pick(), 0);
        r.done(0, false, "503");
        r.done(1, true, "");
        // Both idle: the one without failures first.
        assert_eq!(r.pick(), 1);
        for _ in 0..TAKE_OUT - 1 {
            assert_eq!(r.pick(), 0);
            r.done(0, false, "503");
        }
        // Endpoint 0 is out: everything goes to 1, which is never taken out alone.
        assert!(r.warnings()[0].contains("http://a:1/v1"));
        for _ in 0..5 {
            assert_eq!(r.pick(), 1);
            r.done(1, false, "503");
        }
        assert_eq!(r.pick(), 1);
        assert_eq!(r.warnings().len(), 1);
    }
}
