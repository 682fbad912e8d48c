//! `probable demo --from-scratch`: data → tokenizer → finetuned model → unlearned
//! variants → f16 bundles in `public/models/` with `index.json`.

use std::fs;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use burn::tensor::Device;
use probable_core::data::{synthesize, QaItem, SynthConfig};
use probable_core::model::StorageDtype;
use probable_core::prompt::PromptTemplate;
use probable_core::tokenizer::Tokenizer;

use super::recipe::*;
use super::{DemoData, DemoIndex, DemoModel};
use crate::bundle::{load_bundle, save_bundle};
use crate::output::write_atomic;
use crate::train::{parse_config, train, Method, Mode, Start};
use probable_core::model::WeightDtype;

fn jsonl(items: &[QaItem]) -> Result<String> {
    items
        .iter()
        .map(|q| Ok(format!("{}\n", serde_json::to_string(q)?)))
        .collect()
}

fn step(msg: &str) {
    eprintln!("==> {msg}");
}

/// Rebuilds every demo artefact into `models_dir`, using `work` for intermediate runs.
pub fn from_scratch(models_dir: &Path, work: &Path, device: &Device) -> Result<()> {
    let started = Instant::now();
    let _ = fs::remove_dir_all(work);
    fs::create_dir_all(work).with_context(|| format!("cannot create {}", work.display()))?;

    step(&format!(
        "synthetic dataset: {AUTHORS} authors x {QUESTIONS_PER_AUTHOR} questions, seed {DATA_SEED}"
    ));
    let data = synthesize(&SynthConfig {
        authors: AUTHORS,
        questions_per_author: QUESTIONS_PER_AUTHOR,
        seed: DATA_SEED,
    })
    .map_err(anyhow::Error::msg)?;
    let data_dir = work.join("data");
    fs::create_dir_all(&data_dir)?;
    let mut split_files = Vec::new();
    for (name, items) in data.splits(&[10]) {
        let text = jsonl(&items)?;
        write_atomic(&data_dir.join(format!("{name}.jsonl")), text.as_bytes())?;
        split_files.push(name);
    }

    step(&format!(
        "byte-level BPE tokenizer, vocab {TOKENIZER_VOCAB}"
    ));
    let template = PromptTemplate::default();
    let corpus: Vec<String> = data
        .items
        .iter()
        .map(|q| {
            format!(
                "{}{}{}",
                template.render(&q.question),
                template.answer_prefix,
                q.answer
            )
        })
        .collect();
    let tokenizer =
        Tokenizer::train_byte_level_bpe(&corpus, TOKENIZER_VOCAB, &["<pad>", "<s>", "</s>"])?;
    let tok_path = work.join("tokenizer.json");
    write_atomic(&tok_path, tokenizer.to_json()?.as_bytes())?;

    step("finetuning from random initialisation");
    let ft_dir = work.join("finetuned");
    let text = FINETUNE
        .replace("{tokenizer}", &tok_path.display().to_string())
        .replace("{data}", &data_dir.display().to_string())
        .replace("{out}", &ft_dir.display().to_string());
    let config = parse_config("demo recipe", &text, &[])?;
    train(&config, Mode::Finetune, device, &Start::Fresh, None)?;

    let mut models = vec![DemoModel {
        name: "finetuned".into(),
        dir: "finetuned".into(),
        method: None,
        entropy: false,
        description: "finetuned on all authors (the model before unlearning)".into(),
    }];
    let mut runs = vec![("finetuned".to_string(), ft_dir.clone())];
    for v in VARIANTS {
        step(&format!("unlearning: {}", v.name));
        let out = work.join(v.name);
        let mut overrides: Vec<String> = UNLEARN_COMMON
            .iter()
            .chain(v.overrides)
            .map(|s| s.to_string())
            .collect();
        overrides.push(format!("model.from={}", ft_dir.display()));
        overrides.push(format!("output.dir={}", out.display()));
        overrides.push(format!("unlearn.method=\"{}\"", v.method));
        overrides.push(format!("unlearn.entropy={}", v.entropy));
        let config = parse_config("demo recipe", &text, &overrides)?;
        let method = match v.method {
            "ga" => Method::Ga,
            "gd" => Method::Gd,
            _ => Method::Npo,
        };
        train(&config, Mode::Unlearn(method), device, &Start::Fresh, None)?;
        models.push(DemoModel {
            name: v.name.into(),
            dir: v.name.into(),
            method: Some(v.method.into()),
            entropy: v.entropy,
            description: format!(
                "{} on {FORGET_SPLIT}{}",
                v.method.to_uppercase(),
                if v.entropy {
                    " with entropy optimisation"
                } else {
                    ""
                }
            ),
        });
        runs.push((v.name.to_string(), out));
    }

    step(&format!(
        "exporting f16 bundles to {}",
        models_dir.display()
    ));
    fs::create_dir_all(models_dir.join("data"))?;
    for name in &split_files {
        if name == "full" || name == FORGET_SPLIT || name == RETAIN_SPLIT {
            let file = format!("{name}.jsonl");
            fs::copy(data_dir.join(&file), models_dir.join("data").join(&file))?;
        }
    }
    for (name, dir) in &runs {
        let b = load_bundle(dir, device, WeightDtype::F32)?;
        save_bundle(
            &models_dir.join(name),
            &b.model,
            b.tokenizer.as_ref(),
            StorageDtype::F16,
            &[],
        )?;
    }
    let index = DemoIndex {
        generated_by: "probable demo --from-scratch".into(),
        data: DemoData {
            full: "data/full.jsonl".into(),
            forget: format!("data/{FORGET_SPLIT}.jsonl"),
            retain: format!("data/{RETAIN_SPLIT}.jsonl"),
            forget_split: FORGET_SPLIT.into(),
            authors: AUTHORS,
            questions_per_author: QUESTIONS_PER_AUTHOR,
            seed: DATA_SEED,
        },
        models,
    };
    write_atomic(
        &models_dir.join("index.json"),
        serde_json::to_string_pretty(&index)?.as_bytes(),
    )?;
    step(&format!("done in {:.0} s", started.elapsed().as_secs_f64()));
    Ok(())
}
