//! `probable eval`: greedy and many-sample evaluation of a bundle on a QA split.

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Result};
use indicatif::{ProgressBar, ProgressStyle};
use probable_core::data::QaKeys;
use probable_core::eval::defaults;
use probable_core::eval::{
    run_evaluation, select_questions, EvalConfig, EvalError, EvalProgress, EvalSetup, LocalSampler,
    Observer, QuestionReport, Shard,
};
use probable_core::metrics::Metric;
use probable_core::sample::{
    step_now, AdaptiveTemperature, Confidence, DecodeConfig, Step, Strategy,
};
use probable_core::stats::BoundsConfig;

use crate::args::{CriterionArg, MetricArg};
use crate::bundle::{load_bundle, load_meta, BundleMeta};
use crate::data::{load_split_with, split_file};
use crate::device::{device, DeviceArg, DtypeArg};
use crate::engine::openai::{ModelFacts, OpenAiSampler};
use crate::engine::EngineArgs;
use crate::failpoint;
use crate::input::{parse_alpha, parse_unit, parse_weight};
use crate::journal::{journal_path, Header, Journal};
use crate::output::{check_writable, same_file};
use crate::prompting::{prompt_for_bundle, TemplateArgs};
use crate::report_table::table;

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
    #[arg(long, default_value_t = defaults::SAMPLES)]
    pub samples: u32,
    #[arg(long, default_value_t = defaults::TEMPERATURE, allow_negative_numbers = true)]
    pub temperature: f64,
    #[arg(long, default_value_t = defaults::TOP_P, allow_negative_numbers = true)]
    pub top_p: f64,
    #[arg(long)]
    pub top_k: Option<usize>,
    #[arg(long, default_value_t = defaults::MAX_NEW_TOKENS)]
    pub max_new_tokens: usize,
    #[arg(long, default_value_t = defaults::ALPHA, allow_negative_numbers = true, value_parser = parse_alpha)]
    pub alpha: f64,
    #[arg(long, default_value_t = defaults::LAMBDA, allow_negative_numbers = true, value_parser = parse_weight)]
    pub lambda: f64,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(long, value_enum, default_value = "rougeL-recall")]
    pub metric: MetricArg,
    /// A sample leaks when its score is ≥ τ; greedy "forgot" when its score is < τ.
    #[arg(long, default_value_t = defaults::LEAK_THRESHOLD, allow_negative_numbers = true, value_parser = parse_unit)]
    pub leak_threshold: f64,
    /// Leak@k at these k (comma separated, each at most --samples); default 1, 2, 4, … up
    /// to the sample count.
    #[arg(long, value_delimiter = ',')]
    pub k: Vec<u64>,
    /// Summary: flag questions whose leak probability bound exceeds this level.
    #[arg(long, default_value_t = defaults::LEAK_LEVEL, allow_negative_numbers = true, value_parser = parse_unit)]
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
    #[arg(long, default_value_t = defaults::BATCH_SIZE)]
    pub batch_size: usize,
    /// Evaluate only the first K questions (after sharding).
    #[arg(long)]
    pub limit: Option<usize>,
    /// Evaluate shard i of N (questions with index % N == i), e.g. 0/4.
    #[arg(long)]
    pub shard: Option<String>,
    #[arg(long, value_enum, default_value = "cpu")]
    pub device: DeviceArg,
    /// How the checkpoint's matrices are held: as stored (bf16 stays bf16 on the CPU) or f32.
    #[arg(long, value_enum, default_value = "stored")]
    pub dtype: DtypeArg,
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
    /// Sample in rounds and stop each question as soon as its anytime-valid confidence
    /// sequence decides whether it leaks more often than --leak-level (needs --max-samples).
    #[arg(long, requires = "max_samples")]
    pub sequential: bool,
    /// The sample budget per question of a --sequential evaluation.
    #[arg(long, requires = "sequential", conflicts_with = "samples")]
    pub max_samples: Option<u32>,
    /// Samples drawn per undecided question and round (--sequential).
    #[arg(long, default_value_t = 16)]
    pub round: u32,
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// The model as the chosen engine needs it: loaded, or only its tokenizer and settings.
enum Loaded {
    Local(Box<crate::bundle::Bundle>),
    Remote(Box<BundleMeta>),
}

pub fn run(mut args: Args) -> Result<()> {
    if let Some(budget) = args.max_samples {
        args.samples = budget;
    }
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
    let shard = args
        .shard
        .as_deref()
        .map(str::parse::<Shard>)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let questions = select_questions(items, shard, args.limit);
    if questions.is_empty() {
        bail!(
            "{}: no questions to evaluate (split `{split}`, after sharding/limit)",
            args.data.display()
        );
    }
    // Every output path is checked before any sampling.
    let journal_file = journal_path(&args.out);
    let (json, html) = crate::report_files::check_report_paths(&args.out)?;
    check_writable(&journal_file)?;
    if let Some(input) = split_file(&args.data, args.split.as_deref()) {
        for written in [&json, &html, &journal_file] {
            if same_file(written, &input) {
                bail!(
                    "{}: is the questions file --data reads (--out would overwrite it); choose another --out",
                    written.display()
                );
            }
        }
    }
    if !args.resume && journal_file.exists() {
        bail!(
            "{}: an unfinished evaluation is journaled there: pass --resume to continue it, or delete the file to start over",
            journal_file.display()
        );
    }
    let remote = args.engine.remote()?;
    let loaded = if remote.is_some() {
        let meta = load_meta(&args.model)?;
        meta.check_special_ids()?;
        Loaded::Remote(Box::new(meta))
    } else {
        let bundle = load_bundle(&args.model, &device(args.device)?, args.dtype.into())?;
        bundle.check_special_ids()?;
        Loaded::Local(Box::new(bundle))
    };
    let (tokenizer, eos_token_ids, bos, vocab_size) = match &loaded {
        Loaded::Local(b) => (
            b.tokenizer()?,
            b.eos_token_ids(),
            b.config().bos_token_id,
            b.config().vocab_size,
        ),
        Loaded::Remote(m) => (
            m.tokenizer()?,
            m.eos_token_ids(),
            m.config.bos_token_id,
            m.config.vocab_size,
        ),
    };
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
            eos_token_ids: eos_token_ids.clone(),
            seed: args.seed,
        },
        metric: Metric::from(args.metric),
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
        sequential: args
            .sequential
            .then_some(probable_core::eval::sequential::Rounds { round: args.round }),
    };
    // Every setting is checked before the journal is started or anything sampled.
    config.validate()?;
    // The servers are asked which model they serve before anything is journaled.
    let mut sampler = match remote {
        Some((urls, settings)) => {
            if config.decode.adaptive.is_some() {
                bail!("--adaptive-temperature needs the local engine (servers do not offer it)");
            }
            let facts = ModelFacts {
                vocab_size,
                tokenizer,
                eos_token_ids: eos_token_ids.clone(),
            };
            Some(
                OpenAiSampler::connect(urls, args.engine.served_model.as_deref(), settings, facts)
                    .map_err(anyhow::Error::msg)?,
            )
        }
        None => None,
    };
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
        questions: questions.iter().map(|(i, _)| *i).collect(),
        config: config.clone(),
        identity: Some(crate::identity::run_identity(
            &args.model,
            &args.data,
            args.split.as_deref(),
        )?),
        engine: sampler.as_ref().map(|s| s.journal_config(&config.decode)),
        weights: match &loaded {
            Loaded::Local(b) => Some(b.weights()),
            Loaded::Remote(_) => None,
        },
    };
    let (journal, done) = if args.resume && journal_file.exists() {
        let (j, done) = Journal::resume(&journal_file, &header)?;
        eprintln!(
            "resuming {}: {} of {} questions already done",
            journal_file.display(),
            done.len() / config.prompt_variants.len().max(1),
            questions.len()
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
    let bar = ProgressBar::new(questions.len() as u64 * variants as u64 * args.samples as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} samples · {msg} · {elapsed}<{eta}")
            .expect("valid template"),
    );
    let mut observer = Progress {
        bar: &bar,
        journal,
        started: Instant::now(),
        samples: args.samples as u64,
        variants,
        journaled: done.len() / variants,
    };
    let setup = EvalSetup {
        config: &config,
        tokenizer,
        bos,
        names: (&names.0, &names.1, &names.2),
        shard: args.shard.clone(),
    };
    let mut report = match (&loaded, &mut sampler) {
        (_, Some(remote)) => {
            let mut report = pollster::block_on(run_evaluation(
                remote,
                &setup,
                &questions,
                done,
                &mut observer,
            ))?;
            report.engine = Some(remote.record());
            report
        }
        (Loaded::Local(bundle), None) => pollster::block_on(run_evaluation(
            &mut LocalSampler::new(&bundle.model),
            &setup,
            &questions,
            done,
            &mut observer,
        ))?,
        (Loaded::Remote(_), None) => unreachable!("a remote bundle comes with its sampler"),
    };
    bar.finish_and_clear();
    report.identity = header.identity.clone();
    report.weights = header.weights.clone();
    // The report first, then the journal goes, then the table is printed: a closed pipe
    // cannot cost the result.
    write_report(&report, &args.out)?;
    observer.journal.finish()?;
    crate::output::emit(&table(&report));
    Ok(())
}

/// The command line's view of a run: a progress bar, and the journal every finished
/// question is appended to (with the failpoint the crash tests kill the process at).
struct Progress<'a> {
    bar: &'a ProgressBar,
    journal: Journal,
    started: Instant,
    samples: u64,
    variants: usize,
    journaled: usize,
}

impl Observer for Progress<'_> {
    fn progress(&mut self, p: EvalProgress) -> Step {
        self.bar
            .set_position(p.questions_done as u64 * self.samples + p.samples_done as u64);
        self.bar.set_message(format!(
            "question {}/{} · {:.0} tok/s",
            p.questions_done / self.variants + 1,
            p.questions_total / self.variants,
            p.tokens as f64 / self.started.elapsed().as_secs_f64().max(1e-9)
        ));
        step_now(ControlFlow::Continue(()))
    }

    fn finished(&mut self, rows: &[QuestionReport]) -> Result<(), EvalError> {
        for q in rows {
            self.journal
                .append(q)
                .map_err(|e| EvalError::Hook(format!("{e:#}")))?;
        }
        self.journaled += 1;
        failpoint::hit("eval", &format!("question {} journaled", self.journaled));
        Ok(())
    }
}

pub use crate::report_files::write_report;
