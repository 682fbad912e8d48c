//! The training examples of a run: its splits loaded and tokenised in the run's prompt
//! format, each cut to the longest sequence trained on.

use anyhow::Result;
use probable_core::data::{QaItem, QaKeys};
use probable_core::model::ModelConfig;
use probable_core::prompt::{EncodedExample, Prompt};
use probable_core::tokenizer::Tokenizer;

use super::batch::truncate;
use super::config::TrainConfig;
use super::mode::Mode;
use crate::data::load_split_with;

/// The examples one step draws from: the trained split (finetune) or the forget split
/// (unlearn), and the retain split (unlearn; empty when finetuning).
pub(super) struct Examples {
    pub primary: Vec<EncodedExample>,
    pub retain: Vec<EncodedExample>,
}

/// Loads and encodes the splits `mode` trains on, at most `max_length` tokens each.
pub(super) fn load_examples(
    config: &TrainConfig,
    mode: Mode,
    prompt: &Prompt,
    tokenizer: &Tokenizer,
    model: &ModelConfig,
    max_length: usize,
) -> Result<Examples> {
    let keys = QaKeys {
        question: config.data.question_key.clone(),
        answer: config.data.answer_key.clone(),
        variants: Vec::new(),
    };
    let load = |split: &str| load_split_with(&config.data.path, Some(split), &keys);
    let encoded = |items: &[QaItem]| encode(items, prompt, tokenizer, model, max_length);
    Ok(match mode {
        Mode::Finetune => {
            let (_, items) = load(&config.data.split)?;
            Examples {
                primary: encoded(&items)?,
                retain: Vec::new(),
            }
        }
        Mode::Unlearn(_) => {
            let (_, f) = load(&config.data.forget_split)?;
            let (_, r) = load(&config.data.retain_split)?;
            Examples {
                primary: encoded(&f)?,
                retain: encoded(&r)?,
            }
        }
    })
}

/// `items` in `prompt`'s format, each cut to `max_length` tokens.
fn encode(
    items: &[QaItem],
    prompt: &Prompt,
    tokenizer: &Tokenizer,
    config: &ModelConfig,
    max_length: usize,
) -> Result<Vec<EncodedExample>> {
    let eos = config.eos_token_ids.first().copied();
    items
        .iter()
        .map(|q| {
            let e = prompt.encode_example(
                tokenizer,
                &q.question,
                &q.answer,
                config.bos_token_id,
                eos,
            )?;
            Ok(truncate(e, max_length))
        })
        .collect()
}
