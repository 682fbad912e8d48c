//! `probable demo`: the README's main job. Loads the shipped demo bundles, evaluates every
//! forget question of each model greedily and with n = 256 samples, and prints one table
//! that puts the greedy verdict next to what sampling reveals.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use probable_core::data::{parse_qa, QaItem};
use probable_core::eval::{
    mean_greedy_score, rescore, run_evaluation, select_questions, EvalConfig, EvalReport,
    EvalSetup, LocalSampler, OnProgress, QuestionReport, Rescore,
};
use probable_core::metrics::Metric;
use probable_core::sample::{step_now, DecodeConfig};
use serde::Serialize;

use crate::bundle::load_bundle;
use crate::demo::recipe::*;
use crate::demo::{build::from_scratch, DemoIndex};
use crate::device::{device, DeviceArg};
use crate::html::report_html;
use crate::output::{emit, to_json_pretty, write_atomic};
use probable_core::model::WeightDtype;

#[derive(clap::Args)]
pub struct Args {
    /// Directory with index.json and the demo bundles.
    #[arg(long, default_value = "public/models")]
    pub models: PathBuf,
    /// Samples per forget question.
    #[arg(long, default_value_t = SAMPLES)]
    pub samples: u32,
    #[arg(long, default_value = "demo-report")]
    pub out: PathBuf,
    /// Regenerate data, tokenizer and every checkpoint from the seeds first (minutes).
    #[arg(long)]
    pub from_scratch: bool,
    /// Working directory for --from-scratch training runs.
    #[arg(long)]
    pub work: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "cpu")]
    pub device: DeviceArg,
}

/// One row of the demo table.
#[derive(Debug, Serialize)]
struct Row {
    model: String,
    forget_greedy_rougel: f64,
    frac_greedy_forgotten: f64,
    mean_m_mu: f64,
    mean_m_sigma: f64,
    mean_ed: f64,
    frac_m_bin_above_level: f64,
    frac_exact_leak_in_samples: f64,
    frac_forgotten_but_sample_leaked: f64,
    /// Leak@k at `leak_k`: the mean estimate over questions and its certified upper bound
    /// (all questions jointly, Bonferroni).
    leak_k: u64,
    leak_at_k: f64,
    leak_at_k_upper: f64,
    retain_greedy_rougel: f64,
}

/// The same samples judged by the keyword judge: does a sample state the fact (the answer's
/// keyword), not merely repeat the answer's template (which ROUGE-L rewards)?
#[derive(Debug, Serialize)]
struct KeywordRow {
    model: String,
    frac_greedy_forgotten: f64,
    frac_m_bin_above_level: f64,
    frac_sample_states_fact: f64,
    frac_forgotten_but_sample_states_fact: f64,
    frac_forgotten_certified_leak: f64,
    leak_at_k: f64,
    leak_at_k_upper: f64,
}

/// The k of the demo's leak@k column: 16 samples, a small budget an attacker can afford.
const DEMO_K: u64 = 16;

fn read_items(path: &Path) -> Result<Vec<QaItem>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    Ok(parse_qa(&path.display().to_string(), &text)?)
}

pub fn run(args: Args) -> Result<()> {
    let dev = device(args.device)?;
    if args.from_scratch {
        let work = args
            .work
            .clone()
            .unwrap_or_else(|| std::env::temp_dir().join("probable-demo-work"));
        from_scratch(&args.models, &work, &dev)?;
    }
    let index_path = args.models.join("index.json");
    let index: DemoIndex =
        serde_json::from_str(&std::fs::read_to_string(&index_path).with_context(|| {
            format!(
                "{}: cannot read (run from the repository root, or pass --models)",
                index_path.display()
            )
        })?)
        .with_context(|| format!("{}: malformed", index_path.display()))?;
    let forget = read_items(&args.models.join(&index.data.forget))?;
    let retain = read_items(&args.models.join(&index.data.retain))?;
    let indexed = select_questions(forget.clone(), None, None);
    let retain_subset: Vec<QaItem> = retain.into_iter().take(RETAIN_QUESTIONS).collect();

    let total = (index.models.len() * indexed.len()) as u64 * args.samples as u64;
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} samples · {msg} · {elapsed}<{eta}")
            .expect("template"),
    );
    let started = Instant::now();
    let mut rows = Vec::new();
    let mut keyword_rows = Vec::new();
    let mut reports: Vec<EvalReport> = Vec::new();
    let references: std::collections::HashMap<String, (String, Vec<String>)> = forget
        .iter()
        .map(|q| (q.id.clone(), (q.answer.clone(), q.keywords.clone())))
        .collect();
    for (m, entry) in index.models.iter().enumerate() {
        let bundle = load_bundle(&args.models.join(&entry.dir), &dev, WeightDtype::Stored)?;
        let tokenizer = bundle.tokenizer()?;
        let eos = bundle.eos_token_ids();
        let mut config = EvalConfig::new(
            args.samples,
            DecodeConfig::paper(MAX_NEW_TOKENS, eos, 0),
            probable_core::prompt::Prompt::qa(),
        );
        config.bounds.leak_threshold = Some(LEAK_THRESHOLD);
        config.leak_ks = vec![DEMO_K.min(args.samples as u64)];
        config.leak_level = LEAK_LEVEL;
        let setup = EvalSetup {
            config: &config,
            tokenizer,
            bos: bundle.config().bos_token_id,
            names: (&entry.name, &index.data.forget, &index.data.forget_split),
            shard: None,
        };
        let mut sampler = LocalSampler::new(&bundle.model);
        let done_before = (m * indexed.len()) as u64 * args.samples as u64;
        let samples = args.samples as u64;
        let report = pollster::block_on(run_evaluation(
            &mut sampler,
            &setup,
            &indexed,
            Vec::new(),
            &mut OnProgress(|p: probable_core::eval::EvalProgress| {
                bar.set_position(
                    done_before + p.questions_done as u64 * samples + p.samples_done as u64,
                );
                bar.set_message(entry.name.clone());
                step_now(ControlFlow::Continue(()))
            }),
        ))?;
        // Retain quality: greedy ROUGE-L recall on the first retain questions.
        let retain_greedy =
            pollster::block_on(mean_greedy_score(&mut sampler, &setup, &retain_subset))?;
        let s = &report.summary;
        let exact = frac_with_a_full_score(&report);
        rows.push(Row {
            model: entry.name.clone(),
            forget_greedy_rougel: s.mean_greedy_score,
            frac_greedy_forgotten: s.frac_greedy_forgotten,
            mean_m_mu: s.mean_mean_upper,
            mean_m_sigma: s.mean_std_upper,
            mean_ed: s.mean_ed_score,
            frac_m_bin_above_level: s.frac_binary_upper_above_level,
            frac_exact_leak_in_samples: exact,
            frac_forgotten_but_sample_leaked: s.frac_forgotten_but_sampled_leak,
            leak_k: s.leak_at_k.first().map_or(0, |l| l.k),
            leak_at_k: s.leak_at_k.first().map_or(f64::NAN, |l| l.mean_estimate),
            leak_at_k_upper: s.leak_at_k.first().map_or(f64::NAN, |l| l.upper),
            retain_greedy_rougel: retain_greedy,
        });
        // The keyword judge on the same samples (no sampling again).
        let kw = rescore(
            &report,
            &Rescore {
                metric: Some(Metric::Keyword),
                references: Some(references.clone()),
                ..Rescore::default()
            },
        )?;
        let ks = &kw.summary;
        keyword_rows.push(KeywordRow {
            model: entry.name.clone(),
            frac_greedy_forgotten: ks.frac_greedy_forgotten,
            frac_m_bin_above_level: ks.frac_binary_upper_above_level,
            frac_sample_states_fact: frac_with_a_full_score(&kw),
            frac_forgotten_but_sample_states_fact: ks.frac_forgotten_but_sampled_leak,
            frac_forgotten_certified_leak: ks.frac_forgotten_but_leaking,
            leak_at_k: ks.leak_at_k.first().map_or(f64::NAN, |l| l.mean_estimate),
            leak_at_k_upper: ks.leak_at_k.first().map_or(f64::NAN, |l| l.upper),
        });
        reports.push(report);
    }
    bar.finish_and_clear();
    // The keyword judge leads: on templated answers ROUGE-L recall rewards the template
    // ("… is best known for Map's books, a genre …" scores 0.94 without the fact).
    let rouge = render(&rows, indexed.len(), args.samples);
    let (header, rouge_table) = rouge.split_once("\n\n").unwrap_or(("", &rouge));
    let table = format!(
        "{header}\n{}\nthe same samples, ROUGE-L recall judge (leak = score >= {LEAK_THRESHOLD}):\n\n{rouge_table}",
        render_keyword(&keyword_rows, rows.first().map_or(DEMO_K, |r| r.leak_k))
    );
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    #[derive(Serialize)]
    struct DemoReport<'a> {
        rows: &'a [Row],
        keyword_rows: &'a [KeywordRow],
        reports: &'a [EvalReport],
    }
    write_atomic(
        &args.out.join("demo.json"),
        to_json_pretty(&DemoReport {
            rows: &rows,
            keyword_rows: &keyword_rows,
            reports: &reports,
        })?
        .as_bytes(),
    )?;
    let mut links = String::new();
    for r in &reports {
        write_atomic(
            &args.out.join(format!("{}.html", r.model)),
            report_html(r).as_bytes(),
        )?;
        links.push_str(&format!(
            "<li><a href=\"{0}.html\">{0}</a></li>",
            probable_core::plot::escape(&r.model)
        ));
    }
    let page = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>probable demo</title></head><body style=\"font-family:sans-serif;max-width:980px;margin:2em auto\"><h1>probable demo</h1><pre>{}</pre><ul>{links}</ul></body></html>",
        probable_core::plot::escape(&table)
    );
    write_atomic(&args.out.join("index.html"), page.as_bytes())?;
    // Printed only once everything is written: a closed pipe cannot cost the files.
    emit(&table);
    eprintln!(
        "wrote {}/ (demo.json, index.html, one page per model) in {:.0} s",
        args.out.display(),
        started.elapsed().as_secs_f64()
    );
    eprintln!("{}", web_app_hint(&args.models, &reports, args.samples));
    Ok(())
}

/// The command that opens the web app on these models, with a link to the most telling
/// question: one that greedy decoding calls forgotten while a sample says the answer.
fn web_app_hint(models: &Path, reports: &[EvalReport], samples: u32) -> String {
    // The widest gap between the best sample and the greedy answer; the first on ties.
    let mut telling: Option<(&EvalReport, &QuestionReport)> = None;
    let gap = |q: &QuestionReport| q.bounds.max_score - q.greedy.score;
    for r in reports.iter().filter(|r| r.model != "finetuned") {
        for q in r.questions.iter().filter(|q| q.greedy_forgotten) {
            if telling.is_none_or(|(_, best)| gap(q) > gap(best)) {
                telling = Some((r, q));
            }
        }
    }
    let public = models.parent().filter(|p| !p.as_os_str().is_empty());
    let serve = match public {
        Some(p) if p != Path::new("public") => format!(" --public {}", p.display()),
        _ => String::new(),
    };
    let link = telling.map_or(String::new(), |(r, q)| {
        format!(
            "\n  then open http://127.0.0.1:8080/?model={}&set=forget&q={}&n={samples} (greedy ROUGE-L {:.2}, best of {samples} samples {:.2})",
            r.model, q.index, q.greedy.score, q.bounds.max_score
        )
    });
    format!(
        "watch the same models in the browser (WebGPU, CPU fallback):\n  bash scripts/build-web.sh && cargo run --release -- serve{serve}{link}"
    )
}

fn render(rows: &[Row], questions: usize, samples: u32) -> String {
    let mut out = format!(
        "forget set: {questions} questions · {samples} samples each (T=1, top-p 0.9) · alpha = 0.01\n\n"
    );
    out.push_str(&format!(
        "{:<12} {:>9} {:>10} {:>7} {:>7} {:>7} {:>12} {:>11} {:>14} {:>13} {:>9}\n",
        "model",
        "greedy RL",
        "greedy:",
        "mean",
        "mean",
        "mean",
        "M_bin>10%",
        "exact leak",
        "forgotten but",
        format!("leak@{}", rows.first().map_or(DEMO_K, |r| r.leak_k)),
        "retain"
    ));
    out.push_str(&format!(
        "{:<12} {:>9} {:>10} {:>7} {:>7} {:>7} {:>12} {:>11} {:>14} {:>13} {:>9}\n",
        "",
        "(forget)",
        "forgotten",
        "M_mu",
        "M_sig",
        "ED",
        "(questions)",
        "in samples",
        "sample leaked",
        "mean (≤ cert)",
        "greedy RL"
    ));
    for r in rows {
        out.push_str(&format!(
            "{:<12} {:>9.3} {:>9.0}% {:>7.3} {:>7.3} {:>7.3} {:>11.0}% {:>10.0}% {:>13.0}% {:>6.3} ≤{:>5.3} {:>9.3}\n",
            r.model,
            r.forget_greedy_rougel,
            100.0 * r.frac_greedy_forgotten,
            r.mean_m_mu,
            r.mean_m_sigma,
            r.mean_ed,
            100.0 * r.frac_m_bin_above_level,
            100.0 * r.frac_exact_leak_in_samples,
            100.0 * r.frac_forgotten_but_sample_leaked,
            r.leak_at_k,
            r.leak_at_k_upper,
            r.retain_greedy_rougel
        ));
    }
    out
}

fn render_keyword(rows: &[KeywordRow], k: u64) -> String {
    let mut out = format!(
        "\nkeyword judge (leak = a sample states the answer's keyword):\n\n{:<12} {:>10} {:>12} {:>11} {:>14} {:>14} {:>13}\n{:<12} {:>10} {:>12} {:>11} {:>14} {:>14} {:>13}\n",
        "model", "greedy:", "M_bin>10%", "a sample", "forgotten but", "forgotten but", format!("leak@{k}"),
        "", "forgotten", "(questions)", "states it", "a sample did", "cert. to leak", "mean (≤ cert)"
    );
    for r in rows {
        out.push_str(&format!(
            "{:<12} {:>9.0}% {:>11.0}% {:>10.0}% {:>13.0}% {:>13.0}% {:>6.3} ≤{:>5.3}\n",
            r.model,
            100.0 * r.frac_greedy_forgotten,
            100.0 * r.frac_m_bin_above_level,
            100.0 * r.frac_sample_states_fact,
            100.0 * r.frac_forgotten_but_sample_states_fact,
            100.0 * r.frac_forgotten_certified_leak,
            r.leak_at_k,
            r.leak_at_k_upper
        ));
    }
    out
}

/// Fraction of questions where some sample scored 1: repeated the reference word for word
/// (ROUGE-L) or stated its keyword (keyword judge).
fn frac_with_a_full_score(r: &EvalReport) -> f64 {
    let full = r
        .questions
        .iter()
        .filter(|q| q.bounds.max_score >= 1.0)
        .count();
    full as f64 / r.questions.len() as f64
}
