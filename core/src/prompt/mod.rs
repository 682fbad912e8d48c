//! How a question becomes the model's prompt: the text presets the field uses (probable's
//! `qa`, open-unlearning's Phi-1.5 and Llama-2-chat formats, `raw`) and Hugging Face chat
//! templates rendered with a real Jinja engine (minijinja), natively and in wasm32.

pub mod chat_template;
pub mod error;
pub mod format;
pub mod preset;
pub mod strftime;
pub mod text_template;
pub mod tokenizer_config;

pub use chat_template::{render, Message, RenderContext};
pub use error::PromptError;
pub use format::{ChatPrompt, Prompt};
pub use preset::{resolve, text_preset, with_options, ChatOptions, TemplateSpec, PRESETS};
pub use text_template::{EncodedExample, PromptTemplate};
pub use tokenizer_config::ChatConfig;
