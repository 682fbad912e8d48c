//! Text ↔ token ids through Hugging Face `tokenizers` (a bundle's `tokenizer.json`), plus
//! training the small byte-level BPE tokenizers of our synthetic benchmark.
//!
//! Natively the crate runs with its default features (Oniguruma regexes); in wasm32 with
//! the pure-Rust `unstable_wasm` subset. Both must give the same ids (tested).

use thiserror::Error;
use tokenizers::models::bpe::{BpeTrainerBuilder, BPE};
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::{AddedToken, TokenizerBuilder};

#[derive(Debug, Error)]
pub enum TokenizerError {
    #[error("tokenizer.json: {0}")]
    Parse(String),
    #[error("tokenizer: {0}")]
    Encode(String),
    #[error("tokenizer training: {0}")]
    Train(String),
}

/// A loaded tokenizer.
#[derive(Clone)]
pub struct Tokenizer {
    inner: tokenizers::Tokenizer,
}

impl std::fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tokenizer(vocab = {})", self.vocab_size())
    }
}

impl Tokenizer {
    /// Parses a `tokenizer.json`.
    pub fn from_json(bytes: &[u8]) -> Result<Self, TokenizerError> {
        tokenizers::Tokenizer::from_bytes(bytes)
            .map(|inner| Self { inner })
            .map_err(|e| TokenizerError::Parse(e.to_string()))
    }

    pub fn to_json(&self) -> Result<String, TokenizerError> {
        self.inner
            .to_string(true)
            .map_err(|e| TokenizerError::Parse(e.to_string()))
    }

    /// Ids of `text` without added special tokens (prompts are built by our templates).
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, TokenizerError> {
        self.inner
            .encode(text, false)
            .map(|e| e.get_ids().to_vec())
            .map_err(|e| TokenizerError::Encode(e.to_string()))
    }

    /// Text of `ids`, dropping special tokens such as EOS and padding.
    pub fn decode(&self, ids: &[u32]) -> Result<String, TokenizerError> {
        self.inner
            .decode(ids, true)
            .map_err(|e| TokenizerError::Encode(e.to_string()))
    }

    /// Size of the id space, added tokens included: must not exceed the model's vocab.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    /// Trains a byte-level BPE tokenizer (GPT-2 style: no prefix space, byte-level decoder)
    /// on `corpus`. `special_tokens` get ids `0..k` in order. Deterministic for a corpus.
    pub fn train_byte_level_bpe(
        corpus: &[String],
        vocab_size: usize,
        special_tokens: &[&str],
    ) -> Result<Self, TokenizerError> {
        let train_err = |e: tokenizers::Error| TokenizerError::Train(e.to_string());
        let mut trainer = BpeTrainerBuilder::new()
            .vocab_size(vocab_size)
            .min_frequency(2)
            .show_progress(false)
            .initial_alphabet(ByteLevel::alphabet().into_iter().collect())
            .special_tokens(
                special_tokens
                    .iter()
                    .map(|t| AddedToken::from(t.to_string(), true))
                    .collect(),
            )
            .build();
        let mut tokenizer = TokenizerBuilder::new()
            .with_model(BPE::default())
            .with_normalizer(None::<tokenizers::NormalizerWrapper>)
            .with_pre_tokenizer(Some(ByteLevel::new(false, true, true)))
            .with_post_processor(None::<tokenizers::PostProcessorWrapper>)
            .with_decoder(Some(ByteLevel::new(false, true, true)))
            .build()
            .map_err(train_err)?;
        tokenizer
            .train(&mut trainer, corpus.iter())
            .map_err(train_err)?;
        let json = tokenizer.to_string(false).map_err(train_err)?;
        Self::from_json(json.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trains_and_round_trips() {
        let corpus: Vec<String> = (0..50)
            .map(|i| {
                format!("Question: Where was author {i} born?\nAnswer: In the city of Lumen, {i}.")
            })
            .collect();
        let t = Tokenizer::train_byte_level_bpe(&corpus, 300, &["<pad>", "<s>", "</s>"]).unwrap();
        assert_eq!(t.token_to_id("<pad>"), Some(0));
        assert_eq!(t.token_to_id("</s>"), Some(2));
        let text = "Question: Where was author 7 born?\nAnswer: Lumen ✓";
        let ids = t.encode(text).unwrap();
        assert_eq!(t.decode(&ids).unwrap(), text);
        // Training is deterministic.
        let again =
            Tokenizer::train_byte_level_bpe(&corpus, 300, &["<pad>", "<s>", "</s>"]).unwrap();
        assert_eq!(t.to_json().unwrap(), again.to_json().unwrap());
    }
}
