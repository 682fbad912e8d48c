//! How many samples the sequential leak test needs: for leak rates p at α = 0.01 and leak
//! level L = 0.1, the stopping time of `first_decision` over 1000 seeded Bernoulli(p)
//! streams (capped at 100 000 samples; a stream still undecided there is counted).
//!
//!     cargo run --release -p probable-tests --example sequential_stopping
//!
//! Prints a Markdown table (the one in docs/statistics.md).

use probable_core::stats::{SequentialConfig, SequentialTest, Verdict};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const STREAMS: usize = 1000;
const CAP: usize = 100_000;

fn main() {
    let config = SequentialConfig::new(0.01, 0.5, 0.1);
    println!("| p | mean stop | median | 90th pct | max | leaks | below | undecided |");
    println!("|---|---|---|---|---|---|---|---|");
    for (k, &p) in [0.0, 0.02, 0.05, 0.2, 0.4].iter().enumerate() {
        let mut rng = ChaCha8Rng::seed_from_u64(2026 + k as u64);
        let mut stops = Vec::with_capacity(STREAMS);
        let mut counts = [0usize; 3];
        for _ in 0..STREAMS {
            // What `first_decision` does on a file, drawing each sample only when read.
            let mut test = SequentialTest::new(config).expect("valid settings");
            for i in 0..CAP {
                let x = if rng.random::<f64>() < p { 1.0 } else { 0.0 };
                if test.push(x, i).expect("valid score") != Verdict::Undecided {
                    break;
                }
            }
            let o = test.outcome();
            stops.push(o.stopped_at);
            counts[match o.verdict {
                Verdict::Leaks => 0,
                Verdict::Below => 1,
                Verdict::Undecided => 2,
            }] += 1;
        }
        stops.sort_unstable();
        let mean = stops.iter().sum::<u64>() as f64 / STREAMS as f64;
        println!(
            "| {p} | {mean:.1} | {} | {} | {} | {} | {} | {} |",
            stops[STREAMS / 2],
            stops[STREAMS * 9 / 10],
            stops[STREAMS - 1],
            counts[0],
            counts[1],
            counts[2]
        );
    }
}
