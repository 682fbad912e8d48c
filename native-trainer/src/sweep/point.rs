//! One point of a sweep: unlearn with the point's config (the training loop of `probable
//! unlearn`), then evaluate the result (the engine of `probable eval`): greedy and n samples
//! on every forget question, greedy on the retain questions.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use burn::tensor::Device;
use probable_core::data::{QaItem, QaKeys};
use probable_core::eval::{
    mean_greedy_score, run_evaluation, select_questions, EvalConfig, EvalReport, EvalSetup,
    LocalSampler, Quiet,
};
use probable_core::sample::DecodeConfig;

use super::results::{Metrics, Row};
use super::spec::{EvalSection, Point, Sweep};
use crate::bundle::load_bundle;
use crate::data::load_split_with;
use crate::prompting::{prompt_for_bundle, TemplateArgs};
use crate::train::run::Diverged;
use crate::train::{train, Mode, Start};
use probable_core::model::WeightDtype;

/// The questions every point is evaluated on (the base config's forget and retain splits).
pub struct EvalData {
    pub forget: Vec<(u32, QaItem)>,
    pub retain: Vec<QaItem>,
    data: String,
    split: String,
}

pub fn load_eval_data(sweep: &Sweep) -> Result<EvalData> {
    let d = &sweep.base.data;
    let keys = QaKeys {
        question: d.question_key.clone(),
        answer: d.answer_key.clone(),
        variants: Vec::new(),
    };
    let (split, forget) = load_split_with(&d.path, Some(&d.forget_split), &keys)?;
    let (_, mut retain) = load_split_with(&d.path, Some(&d.retain_split), &keys)?;
    if let Some(n) = sweep.eval.retain_questions {
        retain.truncate(n);
    }
    Ok(EvalData {
        forget: select_questions(forget, None, None),
        retain,
        data: d.path.display().to_string(),
        split,
    })
}

/// Where a point trains; removed once it is evaluated (unless kept).
pub fn run_dir(out: &Path, point: &Point) -> PathBuf {
    out.join("runs").join(format!("point-{:04}", point.index))
}

fn eval_config(
    e: &EvalSection,
    eos: Vec<u32>,
    template: probable_core::prompt::Prompt,
) -> EvalConfig {
    let mut config = EvalConfig::new(
        e.samples,
        DecodeConfig::paper(e.max_new_tokens, eos, e.seed),
        template,
    );
    config.metric = e.metric;
    config.bounds.alpha = e.alpha;
    config.bounds.lambda = e.lambda;
    config.bounds.leak_threshold = Some(e.leak_threshold);
    config.leak_level = e.leak_level;
    config.leak_ks = vec![e.leak_k()];
    config
}

fn metrics(report: &EvalReport, retain_greedy: f64) -> Metrics {
    let s = &report.summary;
    let leak = s.leak_at_k.first();
    Metrics {
        forget_greedy: s.mean_greedy_score,
        forget_frac_greedy_forgotten: s.frac_greedy_forgotten,
        forget_m_mu: s.mean_mean_upper,
        forget_m_sigma: s.mean_std_upper,
        forget_ed: s.mean_ed_score,
        forget_m_bin: s.mean_binary_upper,
        forget_frac_m_bin_above_level: s.frac_binary_upper_above_level,
        forget_frac_certified_leak: s.frac_forgotten_but_leaking,
        leak_k: leak.map_or(0, |l| l.k),
        leak_at_k: leak.map_or(0.0, |l| l.mean_estimate),
        leak_at_k_upper: leak.map_or(1.0, |l| l.upper),
        retain_greedy,
    }
}

/// Unlearns and evaluates `point` in `out/runs/`; a diverged training is a row with an
/// `error`, any other failure an error.
pub fn run_point(
    sweep: &Sweep,
    point: &Point,
    data: &EvalData,
    out: &Path,
    device: &Device,
    keep_model: bool,
) -> Result<Row> {
    let started = Instant::now();
    let dir = run_dir(out, point);
    // A point interrupted last time starts over.
    if dir.exists() {
        std::fs::remove_dir_all(&dir)
            .with_context(|| format!("cannot remove the unfinished run {}", dir.display()))?;
    }
    let mut config = point.config.clone();
    config.output.dir = dir.clone();
    let method = config.unlearn.method;
    let trained = train(&config, Mode::Unlearn(method), device, &Start::Fresh, None);
    let train_seconds = started.elapsed().as_secs_f64();
    let mut row = Row {
        point: point.index,
        key: point.key.clone(),
        set: point
            .set
            .iter()
            .map(|(k, v)| Ok((k.clone(), serde_json::to_value(v)?)))
            .collect::<Result<_>>()?,
        method: format!("{method:?}").to_lowercase(),
        entropy: config.unlearn.entropy,
        steps: 0,
        error: None,
        metrics: None,
        train_seconds,
        eval_seconds: 0.0,
        wall_seconds: 0.0,
    };
    match trained {
        Ok(summary) => row.steps = summary.steps,
        Err(e) if e.downcast_ref::<Diverged>().is_some() => {
            row.error = Some(e.to_string());
            row.wall_seconds = started.elapsed().as_secs_f64();
            remove_run(&dir, keep_model)?;
            return Ok(row);
        }
        Err(e) => return Err(e.context(format!("point {} ({})", point.index, point.key))),
    }

    let eval_started = Instant::now();
    let bundle = load_bundle(&dir, device, WeightDtype::Stored)?;
    let tokenizer = bundle.tokenizer()?;
    let prompt = prompt_for_bundle(&TemplateArgs::default(), &dir, "qa")?;
    let ec = eval_config(&sweep.eval, bundle.eos_token_ids(), prompt);
    let name = format!("sweep point {} ({})", point.index, point.key);
    let setup = EvalSetup {
        config: &ec,
        tokenizer,
        bos: bundle.config().bos_token_id,
        names: (&name, &data.data, &data.split),
        shard: None,
    };
    let mut sampler = LocalSampler::new(&bundle.model);
    let report = pollster::block_on(run_evaluation(
        &mut sampler,
        &setup,
        &data.forget,
        Vec::new(),
        &mut Quiet,
    ))
    .with_context(|| format!("{name}: evaluation"))?;
    let retain_greedy = pollster::block_on(mean_greedy_score(&mut sampler, &setup, &data.retain))?;
    row.metrics = Some(metrics(&report, retain_greedy));
    row.eval_seconds = eval_started.elapsed().as_secs_f64();
    row.wall_seconds = started.elapsed().as_secs_f64();
    drop(bundle);
    remove_run(&dir, keep_model)?;
    Ok(row)
}

fn remove_run(dir: &Path, keep: bool) -> Result<()> {
    if !keep {
        std::fs::remove_dir_all(dir).with_context(|| format!("cannot remove {}", dir.display()))?;
    }
    Ok(())
}
