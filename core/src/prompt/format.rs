//! A resolved prompt format: everything needed to turn a question into the model's prompt
//! ids (and a question + answer into a training example), recorded in reports and
//! bundles so a model is evaluated with exactly the prompt it was trained with.
//!
//! Two kinds: text around the question (`qa`, `phi`, `llama2-chat`, `raw`), tokenised
//! with the model's BOS prepended when the format asks for it; and a Jinja chat template,
//! rendered and tokenised without added special tokens — as transformers'
//! `apply_chat_template(tokenize=True)` does, so a BOS the template writes is not doubled.

use serde::{Deserialize, Serialize};

use super::chat_template::{self, Message, RenderContext};
use super::error::PromptError;
use super::text_template::{EncodedExample, PromptTemplate};
use crate::tokenizer::Tokenizer;

/// A chat template with the system prompt and keywords it is rendered with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatPrompt {
    /// `chat` (the bundle's own template) or the file it was read from.
    pub name: String,
    /// The Jinja source.
    pub template: String,
    /// Sent as a leading system message when present.
    pub system: Option<String>,
    pub date_string: Option<String>,
    pub bos_token: Option<String>,
    pub eos_token: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Prompt {
    /// Text around the question; `name` is the preset.
    Text {
        name: String,
        template: PromptTemplate,
    },
    Chat(ChatPrompt),
}

/// A question no template contains by chance: finds where the question goes.
const PROBE: &str = "\u{2063}probable-question-probe\u{2063}";

impl Default for Prompt {
    fn default() -> Self {
        Self::qa()
    }
}

impl Prompt {
    /// `"Question: {q}\nAnswer:"` + BOS: the format the shipped demo models were trained on.
    pub fn qa() -> Self {
        Self::Text {
            name: "qa".into(),
            template: PromptTemplate::default(),
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Self::Text { name, .. } => name,
            Self::Chat(c) => &c.name,
        }
    }

    fn messages(c: &ChatPrompt, question: &str) -> Vec<Message> {
        let mut m = Vec::with_capacity(3);
        if let Some(s) = c.system.as_deref().filter(|s| !s.is_empty()) {
            m.push(Message::new("system", s));
        }
        m.push(Message::new("user", question));
        m
    }

    fn render_chat(
        c: &ChatPrompt,
        messages: &[Message],
        add_generation_prompt: bool,
    ) -> Result<String, PromptError> {
        chat_template::render(
            &c.name,
            &c.template,
            messages,
            &RenderContext {
                bos_token: c.bos_token.as_deref(),
                eos_token: c.eos_token.as_deref(),
                date_string: c.date_string.as_deref(),
                add_generation_prompt,
                now: chat_template::system_now(),
            },
        )
    }

    /// Checks the format is usable: it parses, renders, and has a place for the question.
    pub fn validate(&self) -> Result<(), PromptError> {
        let rendered = self.render(PROBE)?;
        if !rendered.contains(PROBE) {
            return Err(PromptError::NoQuestion {
                name: self.name().into(),
                hint: match self {
                    Self::Text { .. } => "write {question} where it goes".into(),
                    Self::Chat(_) => "the rendered prompt does not contain the user message; render messages[i].content".into(),
                },
            });
        }
        Ok(())
    }

    /// The prompt text for `question` (a text format's BOS is added to the ids, not here).
    pub fn render(&self, question: &str) -> Result<String, PromptError> {
        match self {
            Self::Text { template, .. } => Ok(template.render(question)),
            Self::Chat(c) => Self::render_chat(c, &Self::messages(c, question), true),
        }
    }

    /// The prompt ids for `question`, exactly what evaluation feeds the model.
    pub fn encode_prompt(
        &self,
        tokenizer: &Tokenizer,
        question: &str,
        bos: Option<u32>,
    ) -> Result<Vec<u32>, PromptError> {
        match self {
            Self::Text { template, .. } => Ok(template.encode_prompt(tokenizer, question, bos)?),
            Self::Chat(_) => Ok(tokenizer.encode(&self.render(question)?)?),
        }
    }

    /// A training example: the prompt ids as [`encode_prompt`](Self::encode_prompt) gives
    /// them, then the answer's ids, then EOS; the loss mask starts right after the prompt.
    /// For a chat template the answer part is the rest of the conversation rendered with
    /// the assistant turn holding the answer (tokenised on its own, so the boundary is
    /// exact), and EOS is appended unless the rendering already ends with it (as
    /// open-unlearning does).
    pub fn encode_example(
        &self,
        tokenizer: &Tokenizer,
        question: &str,
        answer: &str,
        bos: Option<u32>,
        eos: Option<u32>,
    ) -> Result<EncodedExample, PromptError> {
        match self {
            Self::Text { template, .. } => {
                Ok(template.encode_example(tokenizer, question, answer, bos, eos)?)
            }
            Self::Chat(c) => {
                let mut messages = Self::messages(c, question);
                let prompt = Self::render_chat(c, &messages, true)?;
                messages.push(Message::new("assistant", answer));
                let full = Self::render_chat(c, &messages, false)?;
                let rest = full.strip_prefix(prompt.as_str()).ok_or_else(|| {
                    PromptError::PrefixMismatch {
                        name: c.name.clone(),
                    }
                })?;
                let mut ids = tokenizer.encode(&prompt)?;
                let prompt_len = ids.len();
                ids.extend(tokenizer.encode(rest)?);
                let eos = c
                    .eos_token
                    .as_deref()
                    .and_then(|t| tokenizer.token_to_id(t))
                    .or(eos);
                if let Some(e) = eos {
                    if ids.last() != Some(&e) {
                        ids.push(e);
                    }
                }
                Ok(EncodedExample { ids, prompt_len })
            }
        }
    }
}
