//! The sweep file: a base unlearn config, fixed `[set]` overrides, a `[grid]` of values per
//! field, and the `[eval]` settings every point is evaluated with. Everything is checked
//! (every point's config built) before the first point trains, so a typo costs seconds.

use std::path::Path;

use anyhow::{bail, Context, Result};
use probable_core::metrics::Metric;
use serde::{Deserialize, Serialize};

use crate::train::config::{config_from_table, config_text, preset_or_file, set_field};
use crate::train::TrainConfig;

/// Sweeps shipped in the binary: `probable sweep --config demo-eo`.
pub const SWEEP_PRESETS: &[(&str, &str)] = &[
    ("demo-eo", include_str!("../../configs/sweeps/demo-eo.toml")),
    (
        "demo-eo-keyword",
        include_str!("../../configs/sweeps/demo-eo-keyword.toml"),
    ),
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SweepFile {
    base: String,
    #[serde(default)]
    set: toml::Table,
    #[serde(default)]
    grid: toml::Table,
    #[serde(default = "default_eval")]
    eval: EvalSection,
}

fn default_eval() -> EvalSection {
    toml::from_str("").expect("all fields have defaults")
}

/// How each point is evaluated: greedy and `samples` samples (T = 1, top-p 0.9) on the
/// forget split, greedy on the retain split.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EvalSection {
    #[serde(default = "default_samples")]
    pub samples: u32,
    #[serde(default = "default_tokens")]
    pub max_new_tokens: usize,
    #[serde(default)]
    pub seed: u64,
    #[serde(default = "default_alpha")]
    pub alpha: f64,
    /// A sample leaks when its score is ≥ τ.
    #[serde(default = "default_tau")]
    pub leak_threshold: f64,
    /// The leak probability above which M_bin flags a question.
    #[serde(default = "default_level")]
    pub leak_level: f64,
    /// ED's weight λ on M_σ.
    #[serde(default = "default_lambda")]
    pub lambda: f64,
    /// The k of leak@k (default min(16, samples)).
    #[serde(default)]
    pub leak_k: Option<u64>,
    /// Score only the first this many retain questions (default: all).
    #[serde(default)]
    pub retain_questions: Option<usize>,
    #[serde(default)]
    pub metric: Metric,
}

fn default_samples() -> u32 {
    64
}
fn default_tokens() -> usize {
    40
}
fn default_alpha() -> f64 {
    0.01
}
fn default_tau() -> f64 {
    0.5
}
fn default_level() -> f64 {
    0.1
}
fn default_lambda() -> f64 {
    2.0
}

impl EvalSection {
    pub fn leak_k(&self) -> u64 {
        self.leak_k.unwrap_or(16.min(self.samples as u64))
    }

    fn validate(&self) -> Result<()> {
        if self.samples == 0 {
            bail!("eval.samples = 0: need at least one sample per question");
        }
        if self.max_new_tokens == 0 {
            bail!("eval.max_new_tokens = 0: need at least one token");
        }
        if !(self.alpha > 0.0 && self.alpha < 1.0) {
            bail!("eval.alpha = {}: must be in (0, 1)", self.alpha);
        }
        for (name, v) in [
            ("leak_threshold", self.leak_threshold),
            ("leak_level", self.leak_level),
        ] {
            if !(0.0..=1.0).contains(&v) {
                bail!("eval.{name} = {v}: must be in [0, 1]");
            }
        }
        let k = self.leak_k();
        if k == 0 || k > self.samples as u64 {
            bail!("eval.leak_k = {k}: must be in 1..=eval.samples");
        }
        if self.retain_questions == Some(0) {
            bail!("eval.retain_questions = 0: need at least one question");
        }
        Ok(())
    }
}

/// Most points one sweep may have. Each point trains and evaluates a model, so even this
/// many is weeks of work; a larger grid is a typo or a job for several sweeps.
pub const MAX_POINTS: usize = 10_000;

/// One point of the grid: its settings (grid fields only, in key order) and its config.
#[derive(Debug, Clone)]
pub struct Point {
    pub index: usize,
    /// `field=value,…`: identifies the point across runs (resume, shards).
    pub key: String,
    pub set: Vec<(String, toml::Value)>,
    pub config: TrainConfig,
}

#[derive(Debug)]
pub struct Sweep {
    /// The sweep file or preset, as errors name it.
    pub origin: String,
    pub eval: EvalSection,
    /// The base config with `[set]` applied (`output.dir` cleared): what all points share.
    pub base: TrainConfig,
    pub grid: Vec<(String, Vec<toml::Value>)>,
    pub points: Vec<Point>,
}

/// Sections a grid may not vary, and why: points must share the model, data and prompt
/// format to be comparable, and the sweep owns every point's output directory.
const FIXED: &[(&str, &str)] = &[
    (
        "model",
        "the starting model and its architecture define the benchmark and cannot change between points",
    ),
    (
        "data",
        "the forget and retain data define the benchmark and cannot change between points",
    ),
    (
        "prompt",
        "the prompt format is part of the evaluation and cannot change between points",
    ),
    ("output", "the sweep sets each point's output directory"),
];

/// Dotted leaves of a table (`[set] train.lr = 1` and `"train.lr" = 1` alike).
fn flatten(prefix: &str, table: &toml::Table, out: &mut Vec<(String, toml::Value)>) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(t) if !t.is_empty() => flatten(&key, t, out),
            _ => out.push((key, v.clone())),
        }
    }
}

/// A value as `--set` would spell it (strings quoted).
pub fn show(v: &toml::Value) -> String {
    v.to_string()
}

/// Reads a sweep preset or file.
pub fn load_sweep(name_or_path: &str) -> Result<Sweep> {
    let (origin, text) = preset_or_file(name_or_path, SWEEP_PRESETS, "sweep preset", "--config")?;
    let preset = SWEEP_PRESETS.iter().any(|(n, _)| *n == name_or_path);
    let dir = (!preset)
        .then(|| Path::new(name_or_path).parent())
        .flatten();
    parse_sweep(&origin, &text, dir)
}

/// Parses a sweep (named `origin` in errors); a file `base` is relative to `dir`.
pub fn parse_sweep(origin: &str, text: &str, dir: Option<&Path>) -> Result<Sweep> {
    let file: SweepFile =
        toml::from_str(text).with_context(|| format!("{origin}: invalid sweep"))?;
    file.eval
        .validate()
        .with_context(|| format!("{origin}: [eval]"))?;
    let base_name = match dir {
        Some(d) if !file.base.is_empty() && d.join(&file.base).is_file() => {
            d.join(&file.base).display().to_string()
        }
        _ => file.base.clone(),
    };
    let (base_origin, base_text) =
        config_text(&base_name, "base =").with_context(|| origin.to_string())?;
    let mut table: toml::Table = toml::from_str(&base_text)
        .with_context(|| format!("{origin}: base {base_origin}: invalid TOML"))?;

    let mut fixed = Vec::new();
    flatten("", &file.set, &mut fixed);
    for (key, value) in &fixed {
        if key.starts_with("output.") {
            bail!("{origin}: [set] `{key}`: the sweep sets each point's output directory");
        }
        set_field(&mut table, key, value.clone())
            .with_context(|| format!("{origin}: [set] `{key}`"))?;
    }
    let mut base = config_from_table(
        &format!("{origin}: base {base_origin} with [set]"),
        table.clone(),
    )?;
    base.output.dir = Default::default();

    let mut grid_leaves = Vec::new();
    flatten("", &file.grid, &mut grid_leaves);
    if grid_leaves.is_empty() {
        bail!("{origin}: [grid] is empty: give at least one field and its values, e.g. \"train.lr\" = [1e-4, 1e-3]");
    }
    // The grid's size first, before a single point is built: a product that overflows
    // or exceeds the cap is refused (4 fields × 65536 values once wrapped to "0 points").
    let mut total: usize = 1;
    let mut sizes = Vec::new();
    for (key, values) in &grid_leaves {
        let n = match values {
            toml::Value::Array(v) => v.len(),
            _ => 1,
        };
        sizes.push(format!("{n} ({key})"));
        total = total.saturating_mul(n);
    }
    if total > MAX_POINTS {
        bail!(
            "{origin}: [grid] has {} points ({}), more than the {MAX_POINTS} a sweep may have: split it into several sweeps",
            if total == usize::MAX { "too many".to_string() } else { total.to_string() },
            sizes.join(" × ")
        );
    }
    let mut grid = Vec::new();
    for (key, values) in grid_leaves {
        if let Some((_, why)) = FIXED
            .iter()
            .find(|(section, _)| key.split('.').next() == Some(section))
        {
            bail!("{origin}: [grid] `{key}`: {why}");
        }
        if fixed.iter().any(|(k, _)| *k == key) {
            bail!("{origin}: [grid] `{key}` is also fixed in [set]: give it in one place");
        }
        let toml::Value::Array(values) = values else {
            bail!("{origin}: [grid] `{key}`: expected a list of values, e.g. [1, 2]");
        };
        if values.is_empty() {
            bail!("{origin}: [grid] `{key}` = []: give at least one value");
        }
        // An unknown field fails here, on its own, before the product is built.
        let mut probe = table.clone();
        set_field(&mut probe, &key, values[0].clone())
            .with_context(|| format!("{origin}: [grid] `{key}`"))?;
        config_from_table(&format!("{origin}: [grid] `{key}`"), probe)?;
        grid.push((key, values));
    }

    // The Cartesian product, the last field varying fastest. Two points are the same run
    // when their configs are equal, whatever the spelling (`1` and `1.0`, `1e-3` and
    // `0.001`): found by hashing each config, linear in the points.
    let total: usize = grid.iter().map(|(_, v)| v.len()).product();
    let mut points = Vec::with_capacity(total);
    let mut seen: std::collections::HashMap<String, String> = Default::default();
    for index in 0..total {
        let mut rest = index;
        let mut set = vec![(String::new(), toml::Value::Boolean(false)); grid.len()];
        for (g, (key, values)) in grid.iter().enumerate().rev() {
            set[g] = (key.clone(), values[rest % values.len()].clone());
            rest /= values.len();
        }
        let key = point_key(&set);
        let mut t = table.clone();
        for (k, v) in &set {
            set_field(&mut t, k, v.clone())?;
        }
        let config = config_from_table(&format!("{origin}: point {index} ({key})"), t)?;
        let settings = serde_json::to_string(&config)?;
        if let Some(first) = seen.insert(settings, key.clone()) {
            bail!(
                "{origin}: [grid] gives one point twice (a value is repeated): {first} and {key} are the same settings"
            );
        }
        points.push(Point {
            index,
            key,
            set,
            config,
        });
    }
    Ok(Sweep {
        origin: origin.to_string(),
        eval: file.eval,
        base,
        grid,
        points,
    })
}

pub fn point_key(set: &[(String, toml::Value)]) -> String {
    set.iter()
        .map(|(k, v)| format!("{k}={}", show(v)))
        .collect::<Vec<_>>()
        .join(",")
}

impl Sweep {
    /// What makes two sweeps' rows comparable: the shared base config and the evaluation,
    /// and — by content, so that a model re-trained into the same directory is not taken
    /// for the old one — the starting model and the forget and retain data.
    pub fn fingerprint(&self) -> Result<serde_json::Value> {
        let mut f = serde_json::json!({
            "base": serde_json::to_value(&self.base)?,
            "eval": serde_json::to_value(&self.eval)?,
        });
        // Best effort: a machine that only merges shard results may hold neither the model
        // nor the data; what it cannot read it does not compare (the shards' own records
        // are still compared with each other, see `merge`).
        let data = &self.base.data;
        let mut identity = serde_json::Map::new();
        let forget = crate::identity::data_identity(&data.path, Some(&data.forget_split));
        let retain = crate::identity::data_identity(&data.path, Some(&data.retain_split));
        for (key, digest) in [("forget", forget), ("retain", retain)] {
            if let Ok(d) = digest {
                identity.insert(key.into(), d.into());
            }
        }
        if let Some(Ok(d)) = self
            .base
            .model
            .from
            .as_ref()
            .map(|m| crate::identity::model_identity(m))
        {
            identity.insert("model".into(), d.into());
        }
        f["identity"] = identity.into();
        Ok(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
[model]
from = "m"
[data]
path = "d"
max_length = 32
[train]
lr = 1e-3
epochs = 1
batch_size = 2
[output]
dir = "o"
"#;

    /// Each call its own directory: tests run in parallel.
    fn sweep(body: &str) -> Result<Sweep> {
        static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir =
            std::env::temp_dir().join(format!("probable-sweep-spec-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("base.toml"), BASE).unwrap();
        parse_sweep(
            "s.toml",
            &format!("base = \"base.toml\"\n{body}"),
            Some(&dir),
        )
    }

    #[test]
    fn grid_is_a_product_in_key_order() {
        let s = sweep("[grid]\n\"train.lr\" = [1e-4, 1e-3]\n\"unlearn.entropy\" = [false, true]\n")
            .unwrap();
        let keys: Vec<&str> = s.points.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "train.lr=0.0001,unlearn.entropy=false",
                "train.lr=0.0001,unlearn.entropy=true",
                "train.lr=0.001,unlearn.entropy=false",
                "train.lr=0.001,unlearn.entropy=true"
            ]
        );
        assert_eq!(s.points[3].config.train.lr, 1e-3);
        assert!(s.points[3].config.unlearn.entropy);
    }

    #[test]
    fn set_applies_to_every_point_and_dotted_keys_work() {
        let s = sweep("[set]\nunlearn.beta = 0.2\n[grid]\ntrain.epochs = [1, 2]\n").unwrap();
        assert!(s.points.iter().all(|p| p.config.unlearn.beta == 0.2));
        assert_eq!(s.base.unlearn.beta, 0.2);
        assert_eq!(s.points[1].config.train.epochs, 2);
    }

    #[test]
    fn bad_grids_are_named() {
        let err = |body: &str| format!("{:#}", sweep(body).unwrap_err());
        assert!(err("[grid]\n").contains("[grid] is empty"));
        assert!(err("").contains("[grid] is empty"));
        assert!(err("[grid]\n\"train.lrr\" = [1]\n").contains("[grid] `train.lrr`"));
        let e = err("[grid]\n\"model.architecture.hidden_size\" = [8, 16]\n");
        assert!(e.contains("cannot change between points"), "{e}");
        assert!(err("[grid]\n\"train.lr\" = []\n").contains("at least one value"));
        assert!(err("[grid]\n\"train.lr\" = 1\n").contains("expected a list"));
        assert!(err("[grid]\n\"train.lr\" = [1e-3, -1.0]\n").contains("point 1 (train.lr=-1.0)"));
        assert!(err("[grid]\n\"train.lr\" = [1.0, 1.0]\n").contains("twice"));
        assert!(
            err("[set]\n\"train.lr\" = 1.0\n[grid]\n\"train.lr\" = [1.0]\n").contains("also fixed")
        );
        assert!(
            err("[set]\n\"output.dir\" = \"x\"\n[grid]\n\"train.lr\" = [1.0]\n")
                .contains("output directory")
        );
        assert!(err("[eval]\nsamples = 0\n[grid]\n\"train.lr\" = [1.0]\n").contains("eval.samples"));
        assert!(err("[eval]\nsample = 3\n[grid]\n\"train.lr\" = [1.0]\n").contains("sample"));
    }

    #[test]
    fn grids_over_the_cap_are_refused_before_they_are_built() {
        let values = |n: usize| {
            let v: Vec<String> = (0..n).map(|i| format!("{}.0", i + 1)).collect();
            format!("[{}]", v.join(", "))
        };
        // 4 × 65536 overflows 32-bit products and exceeds the cap on any target.
        let body = format!(
            "[grid]\n\"train.lr\" = {0}\n\"unlearn.beta\" = {0}\n\"unlearn.retain_weight\" = {0}\n\"train.weight_decay\" = {0}\n",
            values(65536)
        );
        let e = format!("{:#}", sweep(&body).unwrap_err());
        assert!(e.contains("more than the 10000"), "{e}");
        let e = format!(
            "{:#}",
            sweep(&format!("[grid]\n\"train.lr\" = {0}\n\"unlearn.beta\" = {0}\n\"unlearn.retain_weight\" = {0}\n", values(3000))).unwrap_err()
        );
        assert!(e.contains("27000000000 points"), "{e}");
    }

    #[test]
    fn values_spelled_differently_are_one_point() {
        let e = format!(
            "{:#}",
            sweep("[grid]\n\"train.lr\" = [1, 1.0]\n").unwrap_err()
        );
        assert!(
            e.contains("train.lr=1 and train.lr=1.0 are the same settings"),
            "{e}"
        );
        let e = format!(
            "{:#}",
            sweep("[grid]\n\"train.lr\" = [1e-3, 0.001]\n").unwrap_err()
        );
        assert!(e.contains("twice"), "{e}");
    }

    #[test]
    fn the_presets_parse() {
        for (name, text) in SWEEP_PRESETS {
            let s = parse_sweep(name, text, None).unwrap();
            assert_eq!(s.points.len(), 72, "{name}");
        }
    }
}
