//! The text format a model is finetuned and evaluated with. The reference (and our
//! trainer) trains on `"Question: {q}\n" + "Answer: {a}" + eos`; we evaluate with the
//! same prefix, ending at `"Answer:"` so the answer's leading space is generated exactly
//! as it was trained (byte-level BPE merges the space into the first answer token).

use serde::{Deserialize, Serialize};

use crate::tokenizer::{Tokenizer, TokenizerError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptTemplate {
    /// Prompt text; `{question}` is replaced by the question.
    pub prompt: String,
    /// Text placed between the prompt and the answer in training examples.
    pub answer_prefix: String,
    /// Prepend the model's BOS id (when it has one).
    pub add_bos: bool,
}

impl Default for PromptTemplate {
    fn default() -> Self {
        Self {
            prompt: "Question: {question}\nAnswer:".into(),
            answer_prefix: " ".into(),
            add_bos: true,
        }
    }
}

/// A tokenised training example: `ids = prompt ++ answer`, loss on the answer part only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedExample {
    pub ids: Vec<u32>,
    /// Number of leading prompt tokens (labels there are ignored).
    pub prompt_len: usize,
}

impl PromptTemplate {
    pub fn render(&self, question: &str) -> String {
        self.prompt.replace("{question}", question)
    }

    pub fn encode_prompt(
        &self,
        tokenizer: &Tokenizer,
        question: &str,
        bos: Option<u32>,
    ) -> Result<Vec<u32>, TokenizerError> {
        let mut ids: Vec<u32> = match bos.filter(|_| self.add_bos) {
            Some(b) => vec![b],
            None => Vec::new(),
        };
        ids.extend(tokenizer.encode(&self.render(question))?);
        Ok(ids)
    }

    /// Prompt, answer and EOS, tokenised separately so the prompt boundary is exact.
    pub fn encode_example(
        &self,
        tokenizer: &Tokenizer,
        question: &str,
        answer: &str,
        bos: Option<u32>,
        eos: Option<u32>,
    ) -> Result<EncodedExample, TokenizerError> {
        let mut ids = self.encode_prompt(tokenizer, question, bos)?;
        let prompt_len = ids.len();
        ids.extend(tokenizer.encode(&format!("{}{answer}", self.answer_prefix))?);
        ids.extend(eos);
        Ok(EncodedExample { ids, prompt_len })
    }
}
