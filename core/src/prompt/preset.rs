//! The named prompt formats of `--template`, and how a name (or a template file) becomes a
//! [`Prompt`]:
//!
//! - `qa`: `"Question: {q}\nAnswer:"`, BOS, answer after a space (probable's own format;
//!   the shipped demo models were trained on it);
//! - `phi`: open-unlearning's Phi-1.5 TOFU format, `"Question: {q}\nAnswer: "`, no BOS (the
//!   Phi tokenizer adds none);
//! - `llama2-chat`: open-unlearning's Llama-2-chat format, `"[INST] {q} [/INST]"`, BOS, the
//!   answer directly after;
//! - `raw`: the question as it is, nothing added;
//! - `chat`: the bundle's own chat template (`chat_template.jinja` or
//!   `tokenizer_config.json`), or a FILE holding a Jinja chat template.
//!
//! Chat templates get open-unlearning's settings by default — system prompt "You are a
//! helpful assistant." and `date_string` "10 Apr 2025" — so a prompt never depends on the
//! day it is built; an empty system text sends no system message.

use super::error::PromptError;
use super::format::{ChatPrompt, Prompt};
use super::text_template::PromptTemplate;
use super::tokenizer_config::ChatConfig;

pub const DEFAULT_SYSTEM: &str = "You are a helpful assistant.";
pub const DEFAULT_DATE_STRING: &str = "10 Apr 2025";

/// The preset names, in the order `--help` lists them.
pub const PRESETS: [&str; 5] = ["qa", "phi", "chat", "llama2-chat", "raw"];

fn text(name: &str, prompt: &str, answer_prefix: &str, add_bos: bool) -> Prompt {
    Prompt::Text {
        name: name.into(),
        template: PromptTemplate {
            prompt: prompt.into(),
            answer_prefix: answer_prefix.into(),
            add_bos,
        },
    }
}

/// A text preset by name (`chat` is not one: it needs the bundle).
pub fn text_preset(name: &str) -> Option<Prompt> {
    match name {
        "qa" => Some(Prompt::qa()),
        "phi" => Some(text("phi", "Question: {question}\nAnswer: ", "", false)),
        "llama2-chat" => Some(text("llama2-chat", "[INST] {question} [/INST]", "", true)),
        "raw" => Some(text("raw", "{question}", "", false)),
        _ => None,
    }
}

/// System text and `date_string` for chat templates; `None` takes the defaults above.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChatOptions {
    pub system: Option<String>,
    pub date_string: Option<String>,
}

fn chat(name: &str, template: String, bundle: &ChatConfig, options: &ChatOptions) -> Prompt {
    Prompt::Chat(ChatPrompt {
        name: name.into(),
        template,
        system: Some(
            options
                .system
                .clone()
                .unwrap_or_else(|| DEFAULT_SYSTEM.into()),
        )
        .filter(|s| !s.is_empty()),
        date_string: Some(
            options
                .date_string
                .clone()
                .unwrap_or_else(|| DEFAULT_DATE_STRING.into()),
        ),
        bos_token: bundle.bos_token.clone(),
        eos_token: bundle.eos_token.clone(),
    })
}

/// What `--template` names: a preset, or a template file's (path, source).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateSpec {
    Preset(String),
    File { path: String, source: String },
}

/// Resolves `spec` against the bundle's chat configuration (`bundle` names the bundle in
/// errors) and validates it. System/date options on a text preset are an error, not ignored.
pub fn resolve(
    spec: &TemplateSpec,
    bundle_name: &str,
    bundle: &ChatConfig,
    options: &ChatOptions,
) -> Result<Prompt, PromptError> {
    let prompt = match spec {
        TemplateSpec::Preset(name) if name == "chat" => {
            let source = bundle
                .chat_template
                .clone()
                .ok_or_else(|| PromptError::NoChatTemplate(bundle_name.into()))?;
            chat("chat", source, bundle, options)
        }
        TemplateSpec::Preset(name) => {
            let p = text_preset(name).ok_or_else(|| PromptError::Unknown(name.clone()))?;
            if options.system.is_some() || options.date_string.is_some() {
                return Err(PromptError::Config(format!(
                    "--system/--date-string apply to chat templates, not to the text preset `{name}`"
                )));
            }
            p
        }
        TemplateSpec::File { path, source } => chat(path, source.clone(), bundle, options),
    };
    prompt.validate()?;
    Ok(prompt)
}

/// Applies `--system`/`--date-string` to an already resolved prompt (e.g. the one a
/// bundle records); a text prompt takes neither.
pub fn with_options(prompt: Prompt, options: &ChatOptions) -> Result<Prompt, PromptError> {
    if options == &ChatOptions::default() {
        return Ok(prompt);
    }
    match prompt {
        Prompt::Chat(mut c) => {
            if let Some(s) = &options.system {
                c.system = Some(s.clone()).filter(|s| !s.is_empty());
            }
            if let Some(d) = &options.date_string {
                c.date_string = Some(d.clone());
            }
            Ok(Prompt::Chat(c))
        }
        Prompt::Text { name, .. } => Err(PromptError::Config(format!(
            "--system/--date-string apply to chat templates, not to the text format `{name}`"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_render_the_field_formats() {
        let r = |n: &str| text_preset(n).unwrap().render("Who?").unwrap();
        assert_eq!(r("qa"), "Question: Who?\nAnswer:");
        assert_eq!(r("phi"), "Question: Who?\nAnswer: ");
        assert_eq!(r("llama2-chat"), "[INST] Who? [/INST]");
        assert_eq!(r("raw"), "Who?");
        assert!(text_preset("chat").is_none());
    }

    #[test]
    fn resolution_errors_are_named() {
        let none = ChatConfig::default();
        let opts = ChatOptions::default();
        let preset = |n: &str| TemplateSpec::Preset(n.into());
        assert!(matches!(
            resolve(&preset("nope"), "b", &none, &opts),
            Err(PromptError::Unknown(_))
        ));
        assert!(matches!(
            resolve(&preset("chat"), "b", &none, &opts),
            Err(PromptError::NoChatTemplate(_))
        ));
        let file = |s: &str| TemplateSpec::File {
            path: "t.jinja".into(),
            source: s.into(),
        };
        assert!(matches!(
            resolve(
                &file("{% for m in messages %}{{ m.role }}{% endfor %}"),
                "b",
                &none,
                &opts
            ),
            Err(PromptError::NoQuestion { .. })
        ));
        assert!(matches!(
            resolve(&file("{% for m in messages %}"), "b", &none, &opts),
            Err(PromptError::Syntax { line: 1, .. })
        ));
        let sys = ChatOptions {
            system: Some("s".into()),
            date_string: None,
        };
        assert!(matches!(
            resolve(&preset("qa"), "b", &none, &sys),
            Err(PromptError::Config(_))
        ));
        let ok = resolve(
            &file("{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}"),
            "b",
            &none,
            &opts,
        )
        .unwrap();
        assert_eq!(
            ok.render("Q").unwrap(),
            "<system>You are a helpful assistant.<user>Q<assistant>"
        );
        let no_sys = with_options(
            ok,
            &ChatOptions {
                system: Some(String::new()),
                date_string: None,
            },
        )
        .unwrap();
        assert_eq!(no_sys.render("Q").unwrap(), "<user>Q<assistant>");
    }
}
