//! A seeded mutation fuzzer on stable Rust (no nightly, no instrumentation): inputs are
//! drawn from a corpus and mutated (bit flips, interesting bytes, insertions, deletions,
//! duplicated ranges, splices, dictionary tokens); a target's outcome is summarised as a
//! short signature (e.g. the kind of error it returned), and an input with a signature not
//! seen before joins the corpus — a cheap stand-in for coverage feedback. A panic is a
//! crash: the input is saved and counted.

use std::collections::HashSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The function under test: an input to an outcome signature (a panic is a crash).
pub type Run = Box<dyn Fn(&[u8]) -> String>;

/// One fuzz target: seeds, a dictionary of tokens worth inserting, and the function under
/// test, which returns an outcome signature.
pub struct Target {
    pub name: &'static str,
    pub seeds: Vec<Vec<u8>>,
    pub dictionary: Vec<&'static [u8]>,
    pub run: Run,
}

#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub executions: u64,
    pub crashes: u64,
    pub corpus: usize,
    pub signatures: usize,
    pub elapsed: Duration,
}

/// Longest input the mutator produces.
const MAX_LEN: usize = 64 * 1024;

const INTERESTING: &[u8] = &[
    0, 1, 0x7f, 0x80, 0xff, b'"', b'\\', b'{', b'}', b'[', b']', b'\n', b'-', b'.', b'e', b'%',
    b'&', b'=',
];

fn mutate(rng: &mut ChaCha8Rng, input: &mut Vec<u8>, other: &[u8], dict: &[&[u8]]) {
    let rounds = 1 + rng.random_range(0..4);
    for _ in 0..rounds {
        let len = input.len();
        match rng.random_range(0..9) {
            0 if len > 0 => {
                let i = rng.random_range(0..len);
                input[i] ^= 1 << rng.random_range(0..8);
            }
            1 if len > 0 => {
                let i = rng.random_range(0..len);
                input[i] = INTERESTING[rng.random_range(0..INTERESTING.len())];
            }
            2 => {
                let i = rng.random_range(0..=len);
                let n = 1 + rng.random_range(0..8);
                let bytes: Vec<u8> = (0..n).map(|_| rng.random()).collect();
                input.splice(i..i, bytes);
            }
            3 if len > 0 => {
                let i = rng.random_range(0..len);
                let n = 1 + rng.random_range(0..(len - i).min(32));
                input.drain(i..i + n);
            }
            4 if len > 0 => {
                let i = rng.random_range(0..len);
                let n = 1 + rng.random_range(0..(len - i).min(64));
                let copy = input[i..i + n].to_vec();
                let at = rng.random_range(0..=len);
                input.splice(at..at, copy);
            }
            5 if !other.is_empty() => {
                // Splice: our head, the other input's tail.
                let cut = rng.random_range(0..=len);
                let from = rng.random_range(0..other.len());
                input.truncate(cut);
                input.extend_from_slice(&other[from..]);
            }
            6 | 7 if !dict.is_empty() => {
                let token = dict[rng.random_range(0..dict.len())];
                let i = rng.random_range(0..=len);
                if rng.random_bool(0.5) || len == 0 {
                    input.splice(i..i, token.iter().copied());
                } else {
                    let n = rng.random_range(0..(len - i.min(len)).min(token.len() + 4) + 1);
                    let end = (i + n).min(len);
                    input.splice(i..end, token.iter().copied());
                }
            }
            _ if len > 1 => {
                // Swap two bytes.
                let (a, b) = (rng.random_range(0..len), rng.random_range(0..len));
                input.swap(a, b);
            }
            _ => input.push(rng.random()),
        }
    }
    input.truncate(MAX_LEN);
}

/// Runs `target` for `executions` mutated inputs or until `deadline`, whichever first.
/// Crashing inputs are written to `crash_dir` (when given) as `<target>-<n>.bin`.
pub fn fuzz(
    target: &Target,
    seed: u64,
    executions: u64,
    time_limit: Option<Duration>,
    crash_dir: Option<&Path>,
    mut keep: impl FnMut(&[u8]),
) -> Stats {
    let started = Instant::now();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut corpus: Vec<Vec<u8>> = target.seeds.clone();
    if corpus.is_empty() {
        corpus.push(Vec::new());
    }
    let mut seen: HashSet<String> = HashSet::new();
    let mut stats = Stats::default();
    let quiet_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let run_one = |input: &[u8], stats: &mut Stats, seen: &mut HashSet<String>| -> bool {
        stats.executions += 1;
        match catch_unwind(AssertUnwindSafe(|| (target.run)(input))) {
            Ok(sig) => {
                let sig = without_echo(&sig, input);
                let new = !seen.contains(&sig);
                if new && std::env::var_os("PROBABLE_FUZZ_SHOW").is_some() {
                    eprintln!("new outcome: {sig}");
                }
                seen.insert(sig);
                new
            }
            Err(_) => {
                stats.crashes += 1;
                if let Some(dir) = crash_dir {
                    let _ = std::fs::create_dir_all(dir);
                    let _ = std::fs::write(
                        dir.join(format!("{}-{}.bin", target.name, stats.crashes)),
                        input,
                    );
                }
                false
            }
        }
    };
    for s in corpus.clone() {
        run_one(&s, &mut stats, &mut seen);
    }
    while stats.executions < executions {
        if stats.executions % 256 == 0 && time_limit.is_some_and(|t| started.elapsed() >= t) {
            break;
        }
        let mut input = corpus[rng.random_range(0..corpus.len())].clone();
        let other = &corpus[rng.random_range(0..corpus.len())];
        mutate(&mut rng, &mut input, other, &target.dictionary);
        if run_one(&input, &mut stats, &mut seen) && corpus.len() < 4096 {
            keep(&input);
            corpus.push(input);
        }
    }
    std::panic::set_hook(quiet_hook);
    stats.corpus = corpus.len();
    stats.signatures = seen.len();
    stats.elapsed = started.elapsed();
    stats
}

/// Drops the words of a signature that occur in the input — parsers echo offending values
/// ("unsupported model_type xyz"), which would make every mutated value a new outcome —
/// and keeps the first four.
fn without_echo(sig: &str, input: &[u8]) -> String {
    if sig == "ok" {
        return sig.to_string();
    }
    let text = String::from_utf8_lossy(input).to_ascii_lowercase();
    let kept: Vec<&str> = sig
        .split(' ')
        .filter(|w| !w.is_empty() && !text.contains(&w.to_ascii_lowercase()))
        .take(4)
        .collect();
    kept.join(" ")
}

/// A signature from a result: `ok`, or the kind of error — the first line of its message
/// up to any `=`, with quoted parts removed and only letters and spaces kept, cut to 40 characters (so
/// that messages differing only in positions or quoted values are one kind).
pub fn signature<T, E: std::fmt::Display>(r: &Result<T, E>) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(e) => {
            let full = format!("{e:#}");
            // Values follow `=` in this code base's messages ("field = value: ...").
            let text = full.lines().next().unwrap_or("");
            let text = text.split('=').next().unwrap_or("");
            let mut out = String::new();
            let mut quoted = false;
            for c in text.chars() {
                if c == '`' || c == '"' {
                    quoted = !quoted;
                } else if !quoted && (c.is_ascii_alphabetic() || c == ' ') {
                    out.push(c);
                }
                if out.len() >= 40 {
                    break;
                }
            }
            out
        }
    }
}
