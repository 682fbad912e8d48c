//! What an evaluation produces: per question the greedy answer and score, every sample
//! and its score, and the bounds; and a summary across questions.

use serde::{Deserialize, Serialize};

use crate::stats::{set_leak_at_k, BoundsConfig, SetLeakAtK};

pub use super::question::{Decoded, QuestionReport};
use super::variants::{pool, PooledQuestion, PooledSummary};
use super::EvalConfig;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalSummary {
    pub questions: usize,
    pub mean_greedy_score: f64,
    /// Fraction of questions greedy decoding calls forgotten.
    pub frac_greedy_forgotten: f64,
    pub mean_sample_score: f64,
    pub mean_max_score: f64,
    pub mean_mean_upper: f64,
    pub mean_std_upper: f64,
    pub mean_ed_score: f64,
    pub mean_binary_upper: f64,
    /// Fraction of questions whose M_bin (upper bound) exceeds `leak_level`.
    pub frac_binary_upper_above_level: f64,
    /// Fraction of questions that greedy calls forgotten although the Clopper–Pearson
    /// *lower* bound certifies (at level α) a leak probability above `leak_level`.
    pub frac_forgotten_but_leaking: f64,
    /// Fraction of questions that greedy calls forgotten but at least one sample leaked
    /// (score ≥ threshold).
    pub frac_forgotten_but_sampled_leak: f64,
    /// Mean leak@k over the questions, with bounds that hold for all questions and all k
    /// jointly (each question's Clopper–Pearson interval at α/m, Bonferroni).
    #[serde(default)]
    pub leak_at_k: Vec<SetLeakAtK>,
    /// A sequential evaluation: samples used against the budget, and its verdicts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequential: Option<super::sequential::SequentialSummary>,
}

/// The version of the report layout this build writes and reads. 1: before leak@k (no
/// `schema_version` key); 2: leak@k per question and over the set.
pub const REPORT_SCHEMA_VERSION: u32 = 2;

fn schema_v1() -> u32 {
    1
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    /// See [`REPORT_SCHEMA_VERSION`]; reports without the key are version 1.
    #[serde(default = "schema_v1")]
    pub schema_version: u32,
    pub model: String,
    pub data: String,
    pub split: String,
    pub config: EvalConfig,
    /// `i/N` when this report is one shard of a larger evaluation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// Set on a report merged from shards: which shards of how many went in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged: Option<MergeInfo>,
    pub questions: Vec<QuestionReport>,
    pub summary: EvalSummary,
    /// With several prompt variants: each question's bounds over all its variants.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pooled: Vec<PooledQuestion>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pooled_summary: Option<PooledSummary>,
    /// What the run read, by content: merges and resumes compare these rather than the
    /// path strings in `model` and `data` (a path can hold other weights tomorrow, and
    /// `fm` and `./fm` are one model). Absent in reports from before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<ContentIdentity>,
    /// The serving engine the samples came from; absent for the in-process engine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<EngineRecord>,
    /// How the in-process engine held the weights, e.g. `BF16 on disk, held as stored`:
    /// held as stored or widened, a model's samples differ in the last bits of their sums.
    /// Absent for a remote engine and in reports from before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights: Option<String>,
}

/// Content digests of a run's model and data (`sha256:` + hex; how they are computed is
/// the CLI's `identity` module: files are read there, not here).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentIdentity {
    pub model: String,
    pub data: String,
}

/// A path as written, with `.` components, repeated and trailing separators dropped: the
/// lexical normal form under which `fm`, `./fm` and `fm/` are one path (no file system
/// here; the CLI also resolves links and `..` where the path exists).
pub fn normal_path(path: &str) -> String {
    let absolute = path.starts_with('/');
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    match (absolute, parts.is_empty()) {
        (true, _) => format!("/{}", parts.join("/")),
        (false, true) => ".".into(),
        (false, false) => parts.join("/"),
    }
}

/// How a remote (OpenAI-compatible) engine was used: enough to rerun the evaluation
/// against the same model and to judge what can be reproduced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EngineRecord {
    /// `openai`.
    pub kind: String,
    /// The endpoints used (scheme, host, port and path only).
    pub endpoints: Vec<String>,
    /// The model name sent with every request.
    pub served_model: String,
    /// What `GET /v1/models` listed (per endpoint, the model ids).
    pub models: serde_json::Value,
    /// Every parameter sent with a sampling request (`n`, `seed` vary per request).
    pub sample_request: serde_json::Value,
    /// Every parameter sent with a greedy request.
    pub greedy_request: serde_json::Value,
    /// Most choices asked of one request (`n` is split into requests of at most this).
    pub chunk: u32,
    /// Requests in flight at once (over all endpoints).
    pub concurrency: usize,
    /// Attempts repeated after a retryable failure (429, 5xx, reset, timeout).
    pub retries: u64,
    /// `server` when every sample's ids came from the server, else `re-tokenised` (some
    /// samples' text was encoded again with the bundle's tokenizer).
    pub token_ids: String,
    /// How each sample's seed was chosen.
    pub seeds: String,
    /// What can and cannot be reproduced bit for bit.
    pub reproducibility: String,
    /// Endpoints taken out during the run, and other warnings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Position of a report row among its question's variants (for ordering merged shards).
fn variant_position(config: &EvalConfig, q: &QuestionReport) -> usize {
    q.variant
        .as_ref()
        .and_then(|v| config.prompt_variants.iter().position(|k| k == v))
        .unwrap_or(0)
}

impl EvalReport {
    /// Fills `pooled` and `pooled_summary` from the rows (only with several variants).
    pub fn compute_pooled(&mut self) -> Result<(), crate::stats::StatsError> {
        if self.config.prompt_variants.len() > 1 {
            self.pooled = pool(&self.questions, &self.config.bounds)?;
            self.pooled_summary = Some(PooledSummary::over(
                &self.pooled,
                &self.config.bounds,
                self.config.leak_level,
            ));
        }
        Ok(())
    }
}

impl EvalReport {
    /// A report of this build's schema over `questions`, with their summary and (with
    /// several prompt variants) the pooled bounds; `names` are (model, data, split).
    pub fn assemble(
        names: (&str, &str, &str),
        config: EvalConfig,
        questions: Vec<QuestionReport>,
    ) -> Result<Self, crate::stats::StatsError> {
        let summary = EvalSummary::of(&config, &questions);
        let mut report = Self {
            schema_version: REPORT_SCHEMA_VERSION,
            model: names.0.to_string(),
            data: names.1.to_string(),
            split: names.2.to_string(),
            config,
            shard: None,
            merged: None,
            questions,
            summary,
            pooled: Vec::new(),
            pooled_summary: None,
            identity: None,
            engine: None,
            weights: None,
        };
        report.compute_pooled()?;
        Ok(report)
    }

    /// Parses a report, refusing a schema version this build does not know.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
        let version = match v.get("schema_version") {
            None => 1,
            Some(x) => x
                .as_u64()
                .filter(|&x| x <= u32::MAX as u64)
                .ok_or_else(|| format!("schema_version {x} is not a version number"))?
                as u32,
        };
        if version == 0 || version > REPORT_SCHEMA_VERSION {
            return Err(format!(
                "schema_version {version} is not one this probable reads (1 to {REPORT_SCHEMA_VERSION}); \
                 update probable or re-run the evaluation"
            ));
        }
        let report: Self =
            serde_json::from_value(v).map_err(|e| format!("not an evaluation report: {e}"))?;
        report.check()?;
        Ok(report)
    }

    /// Checks that the stored numbers are ones an evaluation can have produced, so that a
    /// hand-edited or corrupted report is refused by name instead of shown (`alpha = 5`
    /// once printed "-400 % each side", a summary of 1000000 questions stood over 3 rows):
    /// valid α, λ, τ and level; a summary over exactly the rows present; per row, as many
    /// samples as the settings ask for and `bounds.n` says, every score a number in [0, 1],
    /// leak counts and k within n; every bound and fraction finite.
    pub fn check(&self) -> Result<(), String> {
        let c = &self.config;
        c.bounds
            .validate()
            .map_err(|e| format!("config.bounds: {e}"))?;
        if !(c.leak_level.is_finite() && (0.0..=1.0).contains(&c.leak_level)) {
            return Err(format!(
                "config.leak_level = {}: must be in [0, 1]",
                c.leak_level
            ));
        }
        if c.samples == 0 {
            return Err("config.samples = 0: an evaluation draws at least one sample".into());
        }
        if self.summary.questions != self.questions.len() {
            return Err(format!(
                "summary.questions = {} but the report holds {} rows",
                self.summary.questions,
                self.questions.len()
            ));
        }
        for (i, q) in self.questions.iter().enumerate() {
            let at = || format!("questions[{i}] (index {}, id `{}`)", q.index, q.id);
            if c.sequential.is_some() != q.sequential.is_some() {
                return Err(format!(
                    "{}: a sequential evaluation's rows, and only those, carry `sequential`",
                    at()
                ));
            }
            check_question(q, c.samples).map_err(|e| format!("{}: {e}", at()))?;
        }
        let s = &self.summary;
        for (name, x) in [
            ("mean_greedy_score", s.mean_greedy_score),
            ("frac_greedy_forgotten", s.frac_greedy_forgotten),
            ("mean_sample_score", s.mean_sample_score),
            ("mean_max_score", s.mean_max_score),
            (
                "frac_binary_upper_above_level",
                s.frac_binary_upper_above_level,
            ),
            ("frac_forgotten_but_leaking", s.frac_forgotten_but_leaking),
            (
                "frac_forgotten_but_sampled_leak",
                s.frac_forgotten_but_sampled_leak,
            ),
        ] {
            if !(x.is_finite() && (0.0..=1.0).contains(&x)) {
                return Err(format!("summary.{name} = {x}: must be in [0, 1]"));
            }
        }
        for (name, x) in [
            ("mean_mean_upper", s.mean_mean_upper),
            ("mean_std_upper", s.mean_std_upper),
            ("mean_ed_score", s.mean_ed_score),
            ("mean_binary_upper", s.mean_binary_upper),
        ] {
            if !x.is_finite() {
                return Err(format!("summary.{name} = {x}: not a number"));
            }
        }
        Ok(())
    }

    /// Per question: greedy score against the M_bin interval (the dataset verdict plot).
    pub fn verdict_points(&self) -> Vec<crate::plot::VerdictPoint> {
        self.questions
            .iter()
            .filter_map(|q| {
                q.bounds.binary.map(|b| crate::plot::VerdictPoint {
                    greedy: q.greedy.score,
                    lower: b.lower,
                    upper: b.upper,
                })
            })
            .collect()
    }
}

fn unit(name: &str, x: f64) -> Result<(), String> {
    if x.is_finite() && (0.0..=1.0).contains(&x) {
        Ok(())
    } else {
        Err(format!("{name} = {x}: must be a number in [0, 1]"))
    }
}

/// One row's stored numbers (see [`EvalReport::check`]); `samples` is what the settings
/// ask for per prompt.
pub fn check_question(q: &QuestionReport, samples: u32) -> Result<(), String> {
    match &q.sequential {
        // A sequential row holds the samples up to its verdict, within the budget.
        Some(o) => {
            if o.stopped_at != q.samples.len() as u64 || o.stopped_at > samples as u64 {
                return Err(format!(
                    "{} samples, sequential.stopped_at = {}, budget {samples}: they must agree",
                    q.samples.len(),
                    o.stopped_at
                ));
            }
            if o.leaks > o.stopped_at {
                return Err(format!(
                    "sequential.leaks = {} exceeds stopped_at = {}",
                    o.leaks, o.stopped_at
                ));
            }
        }
        None if q.samples.len() != samples as usize => {
            return Err(format!(
                "{} samples where the settings ask for {samples}",
                q.samples.len()
            ));
        }
        None => {}
    }
    let b = &q.bounds;
    if b.n != q.samples.len() {
        return Err(format!(
            "bounds.n = {} but {} samples are stored",
            b.n,
            q.samples.len()
        ));
    }
    unit("greedy.score", q.greedy.score)?;
    for (i, s) in q.samples.iter().enumerate() {
        unit(&format!("samples[{i}].score"), s.score)?;
    }
    for (name, x) in [
        ("bounds.alpha", b.alpha),
        ("bounds.lambda", b.lambda),
        ("bounds.sample_mean", b.sample_mean),
        ("bounds.sample_std", b.sample_std),
        ("bounds.max_score", b.max_score),
        ("bounds.mean_lower", b.mean_lower),
        ("bounds.mean_upper", b.mean_upper),
        ("bounds.std_lower", b.std_lower),
        ("bounds.std_upper", b.std_upper),
        ("bounds.ed_score", b.ed_score),
        ("bounds.dkw_epsilon", b.dkw_epsilon),
    ] {
        if !x.is_finite() {
            return Err(format!("{name} = {x}: not a number"));
        }
    }
    if !(b.alpha > 0.0 && b.alpha < 1.0) {
        return Err(format!("bounds.alpha = {}: must be in (0, 1)", b.alpha));
    }
    if let Some(bin) = b.binary {
        if bin.leaks > b.n as u64 {
            return Err(format!(
                "bounds.binary.leaks = {} exceeds n = {}",
                bin.leaks, b.n
            ));
        }
        unit("bounds.binary.lower", bin.lower)?;
        unit("bounds.binary.upper", bin.upper)?;
    }
    // A stopped row's leak@k maps its confidence sequence through 1 − (1 − p)^k, defined for
    // every k; a fixed-n row's needs k ≤ n.
    let max_k = if q.sequential.is_some() {
        u64::MAX
    } else {
        b.n as u64
    };
    for l in b.leak_at_k.iter().flatten() {
        if l.k == 0 || l.k > max_k {
            return Err(format!("bounds.leak_at_k: k = {} outside 1..={}", l.k, b.n));
        }
        unit("bounds.leak_at_k.estimate", l.estimate)?;
        unit("bounds.leak_at_k.lower", l.lower)?;
        unit("bounds.leak_at_k.upper", l.upper)?;
    }
    Ok(())
}

/// What a merged report was made of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeInfo {
    /// N of the shards `i/N`.
    pub of: usize,
    /// The shards merged, ascending.
    pub shards: Vec<usize>,
    /// Shards missing from a partial merge (`--allow-partial`); empty when complete.
    pub missing: Vec<usize>,
}

fn mean(xs: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = xs.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    if n == 0 {
        0.0
    } else {
        sum / n as f64
    }
}

impl EvalSummary {
    /// The summary of `questions` evaluated under `config` (with the sequential summary
    /// when the evaluation was sequential).
    pub fn of(config: &EvalConfig, questions: &[QuestionReport]) -> Self {
        let mut summary = Self::over(questions, &config.bounds, config.leak_level);
        summary.sequential = config.sequential.and_then(|r| {
            super::sequential::SequentialSummary::over(questions, config.samples, r.round)
        });
        summary
    }

    pub fn over(questions: &[QuestionReport], bounds: &BoundsConfig, leak_level: f64) -> Self {
        let q = questions;
        let frac = |f: &dyn Fn(&QuestionReport) -> bool| {
            mean(q.iter().map(|x| if f(x) { 1.0 } else { 0.0 }))
        };
        let threshold = bounds.threshold_or_half();
        // Every question of an evaluation carries the same k (see `EvalConfig::leak_ks`).
        let ks: Vec<u64> = q
            .first()
            .and_then(|x| x.bounds.leak_at_k.as_ref())
            .map(|l| l.iter().map(|x| x.k).collect())
            .unwrap_or_default();
        let counts: Vec<(u64, u64)> = q
            .iter()
            .filter_map(|x| x.bounds.binary.map(|b| (x.bounds.n as u64, b.leaks)))
            .collect();
        let stopped = q.iter().any(|x| x.sequential.is_some());
        let leak_at_k = if ks.is_empty() || counts.len() != q.len() {
            Vec::new()
        } else if stopped {
            // Clopper–Pearson does not hold at a data-dependent stop.
            super::sequential::set_leak_at_k_sequential(q, &ks, bounds.alpha).unwrap_or_default()
        } else {
            set_leak_at_k(&counts, &ks, bounds.alpha).unwrap_or_default()
        };
        Self {
            leak_at_k,
            sequential: None,
            questions: q.len(),
            mean_greedy_score: mean(q.iter().map(|x| x.greedy.score)),
            frac_greedy_forgotten: frac(&|x| x.greedy_forgotten),
            mean_sample_score: mean(q.iter().map(|x| x.bounds.sample_mean)),
            mean_max_score: mean(q.iter().map(|x| x.bounds.max_score)),
            mean_mean_upper: mean(q.iter().map(|x| x.bounds.mean_upper)),
            mean_std_upper: mean(q.iter().map(|x| x.bounds.std_upper)),
            mean_ed_score: mean(q.iter().map(|x| x.bounds.ed_score)),
            mean_binary_upper: mean(q.iter().filter_map(|x| x.bounds.binary.map(|b| b.upper))),
            frac_binary_upper_above_level: frac(&|x| {
                x.bounds.binary.is_some_and(|b| b.upper > leak_level)
            }),
            frac_forgotten_but_leaking: frac(&|x| {
                x.greedy_forgotten && x.bounds.binary.is_some_and(|b| b.lower > leak_level)
            }),
            frac_forgotten_but_sampled_leak: frac(&|x| {
                x.greedy_forgotten && x.bounds.max_score >= threshold
            }),
        }
    }
}

fn parse_shard(s: &str) -> Option<(usize, usize)> {
    let (i, n) = s.split_once('/')?;
    let (i, n): (usize, usize) = (i.trim().parse().ok()?, n.trim().parse().ok()?);
    (n > 0 && i < n).then_some((i, n))
}

/// Merges the shard reports `i/N` of one evaluation (same model, data, split and
/// settings, seed included) into one, ordered by question index. The shards must form a
/// complete set `0..N` without repeats; with `allow_partial` a subset is merged and the
/// missing shards are recorded in [`EvalReport::merged`].
pub fn merge_reports(reports: Vec<EvalReport>, allow_partial: bool) -> Result<EvalReport, String> {
    let mut shards = Vec::with_capacity(reports.len());
    for (k, r) in reports.iter().enumerate() {
        let shard = r.shard.as_deref().ok_or_else(|| {
            format!(
                "report #{} is not a shard (made without --shard i/N)",
                k + 1
            )
        })?;
        let (i, n) = parse_shard(shard)
            .ok_or_else(|| format!("report #{}: malformed shard `{shard}`", k + 1))?;
        if let Some(q) = r.questions.iter().find(|q| q.index as usize % n != i) {
            return Err(format!(
                "report #{}: question index {} does not belong to shard {i}/{n}",
                k + 1,
                q.index
            ));
        }
        shards.push((i, n));
    }
    let n = shards.first().map(|s| s.1).ok_or("no reports to merge")?;
    if let Some((k, (i, m))) = shards.iter().enumerate().find(|(_, s)| s.1 != n) {
        return Err(format!(
            "report #{} is shard {i}/{m}, report #1 one of {n}: shards of different N",
            k + 1
        ));
    }
    let mut seen = vec![false; n];
    for (k, &(i, _)) in shards.iter().enumerate() {
        if std::mem::replace(&mut seen[i], true) {
            return Err(format!("report #{}: shard {i}/{n} given twice", k + 1));
        }
    }
    let missing: Vec<usize> = (0..n).filter(|&i| !seen[i]).collect();
    if !missing.is_empty() && !allow_partial {
        let list: Vec<String> = missing.iter().map(|i| format!("{i}/{n}")).collect();
        return Err(format!(
            "incomplete merge: shard(s) {} missing (pass --allow-partial to merge anyway; the report then records the missing shards)",
            list.join(", ")
        ));
    }
    let mut iter = reports.into_iter();
    let mut merged = iter.next().ok_or("no reports to merge")?;
    for (i, r) in iter.enumerate() {
        let mut differ = Vec::new();
        // By content where both shards recorded it; else by the normalised path.
        let (same_model, same_data) = match (&r.identity, &merged.identity) {
            (Some(a), Some(b)) => (a.model == b.model, a.data == b.data),
            _ => (
                normal_path(&r.model) == normal_path(&merged.model),
                normal_path(&r.data) == normal_path(&merged.data),
            ),
        };
        if !same_model {
            differ.push(if r.identity.is_some() && merged.identity.is_some() {
                "model (the weights or configuration differ)"
            } else {
                "model"
            });
        }
        if !same_data {
            differ.push(if r.identity.is_some() && merged.identity.is_some() {
                "data (the file contents differ)"
            } else {
                "data"
            });
        }
        if r.split != merged.split {
            differ.push("split");
        }
        if r.config.decode.seed != merged.config.decode.seed {
            differ.push("seed");
        }
        if r.config != merged.config {
            differ.push("settings");
        }
        // Compared where both recorded it (reports from before it was recorded merge).
        if r.weights.is_some() && merged.weights.is_some() && r.weights != merged.weights {
            differ.push("weights (held in another dtype)");
        }
        if !differ.is_empty() {
            return Err(format!(
                "report #{} differs from report #1 in: {}",
                i + 2,
                differ.join(", ")
            ));
        }
        merged.questions.extend(r.questions);
    }
    let config = merged.config.clone();
    merged
        .questions
        .sort_by_key(|q| (q.index, variant_position(&config, q)));
    if let Some(w) = merged.questions.windows(2).find(|w| {
        (w[0].index, variant_position(&config, &w[0]))
            == (w[1].index, variant_position(&config, &w[1]))
    }) {
        return Err(format!(
            "question index {} appears in two reports",
            w[0].index
        ));
    }
    let mut merged_shards: Vec<usize> = shards.iter().map(|s| s.0).collect();
    merged_shards.sort_unstable();
    merged.shard = None;
    merged.merged = Some(MergeInfo {
        of: n,
        shards: merged_shards,
        missing,
    });
    merged.summary = EvalSummary::of(&merged.config, &merged.questions);
    merged.compute_pooled().map_err(|e| e.to_string())?;
    Ok(merged)
}
