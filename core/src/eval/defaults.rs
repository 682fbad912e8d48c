//! The evaluation's defaults, in one place: the CLI's flags, the web app's form, the demo and
//! the sweep all start from these (the paper's protocol where it fixes a value).

/// Samples per question (the paper's demo draws 128).
pub const SAMPLES: u32 = 128;
/// Sampling temperature (the paper: T = 1).
pub const TEMPERATURE: f64 = 1.0;
/// Nucleus mass (the paper: top-p 0.9).
pub const TOP_P: f64 = 0.9;
/// New tokens per answer.
pub const MAX_NEW_TOKENS: usize = 64;
/// Level α of every bound (the paper: 0.01).
pub const ALPHA: f64 = 0.01;
/// The ED score's weight λ in M_μ + λ·M_σ (the paper's first version: 2).
pub const LAMBDA: f64 = 2.0;
/// A sample leaks when its score is ≥ τ; greedy "forgot" when its score is < τ.
pub const LEAK_THRESHOLD: f64 = 0.5;
/// The leak probability above which the summary flags a question (M_bin > level).
pub const LEAK_LEVEL: f64 = 0.1;
/// Rows decoded together by the in-process engine.
pub const BATCH_SIZE: usize = 256;
