//! `probable eval`: greedy and many-sample evaluation of a bundle on a QA split.

use std::ops::ControlFlow;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use probable_core::eval::{evaluate, EvalConfig, EvalReport, EvalSummary};
use probable_core::metrics::Metric;
use probable_core::sample::{step_now, AdaptiveTemperature, Confidence, DecodeConfig, Strategy};
use probable_core::stats::BoundsConfig;

use crate::bundle::load_bundle;
use crate::data::load_split_with;
use crate::device::{device, DeviceArg};
use crate::failpoint;
use crate::input::{parse_alpha, parse_unit, parse_weight};
use crate::journal::{journal_path, Header, Journal};
use crate::output::check_writable;
use crate::prompting::{prompt_for_bundle, TemplateArgs};
use probable_core::data::QaKeys;

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum MetricArg {
    #[value(name = "rougeL-recall")]
    RougeLRecall,
    #[value(name = "rougeL-f")]
    RougeLF,
    #[value(name = "keyword")]
    Keyword,
}

impl From<MetricArg> for Metric {
    fn from(m: MetricArg) -> Self {
        match m {
            MetricArg::RougeLRecall => Metric::RougeLRecall,
            MetricArg::RougeLF => Metric::RougeLF,
            MetricArg::Keyword => Metric::Keyword,
        }
    }
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum CriterionArg {
    Entropy,
    MaxProb,
}

#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    pub model: PathBuf,
    /// QA file (JSON array, JSONL, or TOFU's batched arrays) or a directory of split files.
    #[arg(long)]
    pub data: PathBuf,
    /// Split name: full, forget01/05/10, retain90/95/99, or a file name in --data.
    #[arg(long)]
    pub split: Option<String>,
    /// Samples per question.
    #[arg(long, default_value_t = 128)]
    pub samples: u32,
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub temperature: f64,
    #[arg(long, default_value_t = 0.9, allow_negative_numbers = true)]
    pub top_p: f64,
    #[arg(long)]
    pub top_k: Option<usize>,
    #[arg(long, default_value_t = 64)]
    pub max_new_tokens: usize,
    #[arg(long, default_value_t = 0.01, allow_negative_numbers = true, value_parser = parse_alpha)]
    pub alpha: f64,
    #[arg(long, default_value_t = 2.0, allow_negative_numbers = true, value_parser = parse_weight)]
    pub lambda: f64,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(long, value_enum, default_value = "rougeL-recall")]
    pub metric: MetricArg,
    /// A sample leaks when its score is ≥ τ; greedy "forgot" when its score is < τ.
    #[arg(long, default_value_t = 0.5, allow_negative_numbers = true, value_parser = parse_unit)]
    pub leak_threshold: f64,
    /// Leak@k at these k (comma separated, each at most --samples); default 1, 2, 4, … up
    /// to the sample count.
    #[arg(long, value_delimiter = ',')]
    pub k: Vec<u64>,
    /// Summary: flag questions whose leak probability bound exceeds this level.
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true, value_parser = parse_unit)]
    pub leak_level: f64,
    /// Adaptive temperature scaling (decode-time defence).
    #[arg(long)]
    pub adaptive_temperature: bool,
    #[arg(long, value_enum, default_value = "entropy")]
    pub adaptive_criterion: CriterionArg,
    /// Entropy (nats) below which — or max probability above which — a step is confident.
    #[arg(long, default_value_t = 1.0)]
    pub adaptive_threshold: f64,
    #[arg(long, default_value_t = 0.0)]
    pub adaptive_low_temperature: f64,
    /// Rows decoded together (questions whose samples fit share one batch).
    #[arg(long, default_value_t = 256)]
    pub batch_size: usize,
    /// Evaluate only the first K questions (after sharding).
    #[arg(long)]
    pub limit: Option<usize>,
    /// Evaluate shard i of N (questions with index % N == i), e.g. 0/4.
    #[arg(long)]
    pub shard: Option<String>,
    #[arg(long, value_enum, default_value = "cpu")]
    pub device: DeviceArg,
    #[command(flatten)]
    pub template: TemplateArgs,
    /// Data field holding the question (default: `question`, or `prompt`).
    #[arg(long, conflicts_with = "prompts")]
    pub question_key: Option<String>,
    /// Data field holding the reference answer (default: `answer`, or `response`).
    #[arg(long)]
    pub answer_key: Option<String>,
    /// Several prompts per question, e.g. question,paraphrased_question: n samples per
    /// variant, each from its own random streams; bounds per variant and pooled.
    #[arg(long, value_delimiter = ',')]
    pub prompts: Option<Vec<String>>,
    /// JSON report path; an HTML page with plots is written next to it (.html).
    #[arg(long, default_value = "report.json")]
    pub out: PathBuf,
    /// Continue an interrupted evaluation from its journal (OUT.journal.jsonl).
    #[arg(long)]
    pub resume: bool,
}

pub fn parse_shard(s: &str) -> Result<(usize, usize)> {
    let (i, n) = s
        .split_once('/')
        .context("--shard must look like i/N, e.g. 0/4")?;
    let (i, n): (usize, usize) = (
        i.trim().parse().context("--shard: i is not a number")?,
        n.trim().parse().context("--shard: N is not a number")?,
    );
    if n == 0 || i >= n {
        bail!("--shard {s}: need 0 <= i < N");
    }
    Ok((i, n))
}

pub fn run(args: Args) -> Result<()> {
    if args.samples == 0 {
        bail!("--samples 0: need at least one sample per question");
    }
    if args.batch_size == 0 {
        bail!("--batch-size 0: need at least one row");
    }
    let variants = args.prompts.clone().unwrap_or_default();
    if let Some(dup) = variants
        .iter()
        .enumerate()
        .find(|(i, k)| k.is_empty() || variants[..*i].contains(k))
    {
        bail!("--prompts: `{}` is empty or given twice", dup.1);
    }
    // One variant is just another question key.
    let (question_key, variants) = match variants.as_slice() {
        [one] => (Some(one.clone()), Vec::new()),
        _ => (args.question_key.clone(), variants),
    };
    let keys = QaKeys {
        question: question_key,
        answer: args.answer_key.clone(),
        variants: variants.clone(),
    };
    // The prompt format first: a bad template is reported before any weights are loaded.
    let prompt = prompt_for_bundle(&args.template, &args.model, "qa")?;
    let (split, items) = load_split_with(&args.data, args.split.as_deref(), &keys)?;
    let mut indexed: Vec<(u32, _)> = items
        .into_iter()
        .enumerate()
        .map(|(i, q)| (i as u32, q))
        .collect();
    let shard = args.shard.as_deref().map(parse_shard).transpose()?;
    if let Some((i, n)) = shard {
        indexed.retain(|(idx, _)| *idx as usize % n == i);
    }
    if let Some(k) = args.limit {
        indexed.truncate(k);
    }
    if indexed.is_empty() {
        bail!(
            "{}: no questions to evaluate (split `{split}`, after sharding/limit)",
            args.data.display()
        );
    }
    // Every output path is checked before any sampling.
    let html = args.out.with_extension("html");
    let journal_file = journal_path(&args.out);
    for p in [&args.out, &html, &journal_file] {
        check_writable(p)?;
    }
    if !args.resume && journal_file.exists() {
        bail!(
            "{}: an unfinished evaluation is journaled there: pass --resume to continue it, or delete the file to start over",
            journal_file.display()
        );
    }
    let device = device(args.device)?;
    let bundle = load_bundle(&args.model, &device)?;
    check_special_ids(&bundle)?;
    let tokenizer = bundle.tokenizer()?;
    let metric = Metric::from(args.metric);
    let config = EvalConfig {
        samples: args.samples,
        decode: DecodeConfig {
            strategy: Strategy::Sample {
                temperature: args.temperature,
                top_p: args.top_p,
                top_k: args.top_k,
            },
            adaptive: args.adaptive_temperature.then_some(AdaptiveTemperature {
                criterion: match args.adaptive_criterion {
                    CriterionArg::Entropy => Confidence::Entropy,
                    CriterionArg::MaxProb => Confidence::MaxProb,
                },
                threshold: args.adaptive_threshold,
                low_temperature: args.adaptive_low_temperature,
            }),
            max_new_tokens: args.max_new_tokens,
            eos_token_ids: bundle.eos_token_ids(),
            seed: args.seed,
        },
        metric,
        bounds: BoundsConfig {
            alpha: args.alpha,
            lambda: args.lambda,
            leak_threshold: Some(args.leak_threshold),
            ..BoundsConfig::default()
        },
        leak_level: args.leak_level,
        leak_ks: args.k.clone(),
        template: prompt,
        batch_size: args.batch_size,
        prompt_variants: variants,
    };
    config.decode.validate()?;
    let names = (
        args.model.display().to_string(),
        args.data.display().to_string(),
        split.clone(),
    );
    let header = Header {
        journal: 1,
        model: names.0.clone(),
        data: names.1.clone(),
        split: names.2.clone(),
        shard: args.shard.clone(),
        questions: indexed.iter().map(|(i, _)| *i).collect(),
        config: config.clone(),
        identity: Some(crate::identity::run_identity(
            &args.model,
            &args.data,
            args.split.as_deref(),
        )?),
    };
    let (mut journal, mut questions) = if args.resume && journal_file.exists() {
        let (j, done) = Journal::resume(&journal_file, &header)?;
        eprintln!(
            "resuming {}: {} of {} questions already done",
            journal_file.display(),
            done.len(),
            indexed.len()
        );
        (j, done)
    } else {
        if args.resume {
            eprintln!(
                "--resume: no journal at {}; starting from the first question",
                journal_file.display()
            );
        }
        (Journal::create(&journal_file, &header)?, Vec::new())
    };

    let variants = config.prompt_variants.len().max(1);
    let total = indexed.len() as u64 * variants as u64 * args.samples as u64;
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} samples · {msg} · {elapsed}<{eta}")
            .expect("valid template"),
    );
    let started = std::time::Instant::now();
    let samples = args.samples as u64;
    let mut tokens_before = 0usize;
    let total_questions = indexed.len();
    // A kill between the journal lines of one question's variants leaves a partial
    // question; it is evaluated again.
    let first = questions.len() / variants;
    questions.truncate(first * variants);
    // Questions whose samples together fit in one batch are evaluated (and decoded)
    // together; each is journaled as soon as its group is done.
    let per_call = (config.batch_size / (args.samples as usize * variants)).max(1);
    let mut position = first;
    while position < total_questions {
        let end = (position + per_call).min(total_questions);
        let group = &indexed[position..end];
        let label = if end - position == 1 {
            format!("question {}/{}", position + 1, total_questions)
        } else {
            format!("questions {}–{}/{}", position + 1, end, total_questions)
        };
        let done = pollster::block_on(evaluate(
            &bundle.model,
            tokenizer,
            group,
            &config,
            (&names.0, &names.1, &names.2),
            &mut |p| {
                bar.set_position(
                    (position * variants + p.questions_done) as u64 * samples
                        + p.samples_done as u64,
                );
                bar.set_message(format!(
                    "{label} · {:.0} tok/s",
                    (tokens_before + p.tokens) as f64 / started.elapsed().as_secs_f64().max(1e-9)
                ));
                step_now(ControlFlow::Continue(()))
            },
        ))
        .with_context(|| {
            let ids: Vec<&str> = group.iter().map(|(_, q)| q.id.as_str()).collect();
            format!(
                "{}: question {} (id {})",
                args.data.display(),
                group
                    .iter()
                    .map(|(i, _)| i.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                ids.join(", ")
            )
        })?;
        let mut finished = done.questions.into_iter();
        for k in position..end {
            for q in finished.by_ref().take(variants) {
                tokens_before +=
                    q.greedy.ids.len() + q.samples.iter().map(|s| s.ids.len()).sum::<usize>();
                journal.append(&q)?;
                questions.push(q);
            }
            failpoint::hit("eval", &format!("question {} journaled", k + 1));
        }
        position = end;
    }
    bar.finish_and_clear();
    let summary = EvalSummary::over(&questions, &config.bounds, config.leak_level);
    let mut report = EvalReport {
        schema_version: probable_core::eval::REPORT_SCHEMA_VERSION,
        model: names.0,
        data: names.1,
        split: names.2,
        config,
        shard: args.shard.clone(),
        merged: None,
        questions,
        summary,
        pooled: Vec::new(),
        pooled_summary: None,
        identity: header.identity.clone(),
    };
    report.compute_pooled()?;
    crate::output::emit(&table(&report));
    write_report(&report, &args.out)?;
    journal.finish()?;
    Ok(())
}

/// Refuses a bundle whose special ids (BOS, EOS, padding) lie outside its vocabulary: they
/// would index past the embedding, or never match a generated token.
pub fn check_special_ids(bundle: &crate::bundle::Bundle) -> Result<()> {
    let c = bundle.config();
    let vocab = c.vocab_size;
    let config = bundle.dir.join("config.json");
    for (name, id) in [
        ("bos_token_id", c.bos_token_id),
        ("pad_token_id", c.pad_token_id),
    ] {
        if let Some(id) = id.filter(|&i| i as usize >= vocab) {
            bail!(
                "{}: {name} = {id} is not below vocab_size = {vocab}",
                config.display()
            );
        }
    }
    if let Some(id) = bundle
        .eos_token_ids()
        .into_iter()
        .find(|&i| i as usize >= vocab)
    {
        bail!(
            "{} (or generation_config.json): eos_token_id {id} is not below vocab_size = {vocab}",
            config.display()
        );
    }
    Ok(())
}

pub use crate::report_files::write_report;

/// Per-question table: greedy score next to the bounds that contradict it.
pub fn table(r: &EvalReport) -> String {
    let mut out = format!(
        "{:>5}  {:>7}  {:>9}  {:>6}  {:>6}  {:>6}  {:>6}  {:>6}\n",
        "q", "greedy", "forgotten", "max", "M_mu", "M_sig", "ED", "M_bin"
    );
    for q in &r.questions {
        let b = &q.bounds;
        out.push_str(&format!(
            "{:>5}  {:>7.3}  {:>9}  {:>6.3}  {:>6.3}  {:>6.3}  {:>6.3}  {:>6.3}\n",
            q.index,
            q.greedy.score,
            if q.greedy_forgotten { "yes" } else { "no" },
            b.max_score,
            b.mean_upper,
            b.std_upper,
            b.ed_score,
            b.binary.map_or(f64::NAN, |x| x.upper)
        ));
        if let Some(v) = &q.variant {
            out.pop();
            out.push_str(&format!("  {v}\n"));
        }
    }
    let s = &r.summary;
    // With several prompts a row is one (question, prompt): say so, not "8 questions"
    // for 4 questions asked 2 ways.
    let variants = r.config.prompt_variants.len();
    let counted = if variants > 1 {
        let distinct: std::collections::BTreeSet<u32> =
            r.questions.iter().map(|q| q.index).collect();
        format!(
            "{} rows ({} questions × {variants} prompts)",
            s.questions,
            distinct.len()
        )
    } else {
        format!("{} questions", s.questions)
    };
    out.push_str(&format!(
        "\n{counted} · greedy mean {:.3} · greedy says forgotten {:.0}% · mean M_mu {:.3} · mean ED {:.3} · M_bin > {} on {:.0}% · forgotten yet a sample leaked {:.0}%\n",
        s.mean_greedy_score,
        100.0 * s.frac_greedy_forgotten,
        s.mean_mean_upper,
        s.mean_ed_score,
        r.config.leak_level,
        100.0 * s.frac_binary_upper_above_level,
        100.0 * s.frac_forgotten_but_sampled_leak
    ));
    if !s.leak_at_k.is_empty() {
        let cells: Vec<String> = s
            .leak_at_k
            .iter()
            .map(|l| {
                format!(
                    "k={} {:.3} [{:.3}, {:.3}]",
                    l.k, l.mean_estimate, l.lower, l.upper
                )
            })
            .collect();
        out.push_str(&format!(
            "leak@k, mean over questions [bounds holding for all questions jointly, {:.0}% each side]: {}\n",
            100.0 * (1.0 - r.config.bounds.alpha),
            cells.join(" · ")
        ));
    }
    if let Some(p) = &r.pooled_summary {
        out.push_str(&format!(
            "pooled over {} prompts ({}) · {} questions · mean M_mu {:.3} · mean ED {:.3} · mean M_bin {:.3} · M_bin > {} on {:.0}% · forgotten under every prompt yet a sample leaked {:.0}%\n",
            r.config.prompt_variants.len(),
            r.config.prompt_variants.join(", "),
            p.questions,
            p.mean_mean_upper,
            p.mean_ed_score,
            p.mean_binary_upper,
            r.config.leak_level,
            100.0 * p.frac_binary_upper_above_level,
            100.0 * p.frac_forgotten_but_sampled_leak
        ));
    }
    out
}
