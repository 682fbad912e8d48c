//! The parts of a bundle's `tokenizer_config.json` a chat template needs: the template
//! itself (a string, or HF's list of named templates, of which `default` is used) and the
//! BOS/EOS token strings (plain or as an added-token object with `content`).

use serde_json::Value;

use super::error::PromptError;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChatConfig {
    pub chat_template: Option<String>,
    pub bos_token: Option<String>,
    pub eos_token: Option<String>,
}

fn token(v: Option<&Value>, file: &str, key: &str) -> Result<Option<String>, PromptError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Object(o)) => match o.get("content") {
            Some(Value::String(s)) => Ok(Some(s.clone())),
            _ => Err(PromptError::Config(format!(
                "{file}: `{key}` object has no string `content`"
            ))),
        },
        Some(other) => Err(PromptError::Config(format!(
            "{file}: `{key}` must be a string, got {other}"
        ))),
    }
}

impl ChatConfig {
    /// Parses `tokenizer_config.json` text (`file` names it in errors).
    pub fn from_tokenizer_config(file: &str, text: &str) -> Result<Self, PromptError> {
        let v: Value = serde_json::from_str(text)
            .map_err(|e| PromptError::Config(format!("{file}: malformed JSON: {e}")))?;
        let obj = v
            .as_object()
            .ok_or_else(|| PromptError::Config(format!("{file}: must be a JSON object")))?;
        let chat_template = match obj.get("chat_template") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Array(list)) => {
                let named = |want: Option<&str>| {
                    list.iter().find_map(|t| {
                        let name = t.get("name")?.as_str()?;
                        let tpl = t.get("template")?.as_str()?;
                        (want.is_none_or(|w| w == name)).then(|| tpl.to_string())
                    })
                };
                Some(
                    named(Some("default"))
                        .or_else(|| named(None))
                        .ok_or_else(|| {
                            PromptError::Config(format!(
                                "{file}: `chat_template` list has no {{name, template}} entry"
                            ))
                        })?,
                )
            }
            Some(other) => {
                return Err(PromptError::Config(format!(
                    "{file}: `chat_template` must be a string or a list, got {other}"
                )))
            }
        };
        Ok(Self {
            chat_template,
            bos_token: token(obj.get("bos_token"), file, "bos_token")?,
            eos_token: token(obj.get("eos_token"), file, "eos_token")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_layouts() {
        let c = ChatConfig::from_tokenizer_config(
            "t",
            r#"{"chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}],
                "bos_token": {"content": "<s>", "lstrip": false}, "eos_token": "</s>"}"#,
        )
        .unwrap();
        assert_eq!(c.chat_template.as_deref(), Some("D"));
        assert_eq!(c.bos_token.as_deref(), Some("<s>"));
        assert_eq!(c.eos_token.as_deref(), Some("</s>"));
        let c = ChatConfig::from_tokenizer_config("t", r#"{"bos_token": null}"#).unwrap();
        assert_eq!(c, ChatConfig::default());
        assert!(ChatConfig::from_tokenizer_config("t", "{").is_err());
        assert!(ChatConfig::from_tokenizer_config("t", r#"{"eos_token": 3}"#).is_err());
    }
}
