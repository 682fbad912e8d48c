//! Parsing QA records. Accepted layouts, all found in the real TOFU export:
//! - one JSON array of records;
//! - JSON Lines, one record per line;
//! - several JSON arrays, one per line (HF `to_json` batches: `full.json`, `retain*.json`).
//!
//! Records use `question`/`answer` or `prompt`/`response` (`forget*.json`), with optional
//! `keywords` (list of strings) and `id`; other fields are ignored.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QaItem {
    /// Stable id: the record's `id` when present, else its 0-based position in the file.
    pub id: String,
    pub question: String,
    pub answer: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    /// The texts of [`QaKeys::variants`], in that order (e.g. the question and TOFU's
    /// `paraphrased_question`): one prompt per variant.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<String>,
}

/// Which record fields hold the question, the answer and the prompt variants. `None`
/// means the defaults: `question` (or `prompt`) and `answer` (or `response`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QaKeys {
    pub question: Option<String>,
    pub answer: Option<String>,
    pub variants: Vec<String>,
}

#[derive(Debug, Error, PartialEq)]
pub enum DataError {
    #[error("{file}:{line}: {message}")]
    Record {
        file: String,
        line: usize,
        message: String,
    },
    #[error("{file}: no QA records")]
    Empty { file: String },
    #[error("{file}: unknown split `{split}` (known: full, forget01, forget05, forget10, retain90, retain95, retain99, holdout01/05/10, or a file name)")]
    UnknownSplit { file: String, split: String },
}

fn text_field(obj: &serde_json::Map<String, Value>, keys: [&str; 2]) -> Result<String, String> {
    for key in keys {
        match obj.get(key) {
            Some(Value::String(s)) => return Ok(s.clone()),
            Some(other) => return Err(format!("field `{key}` must be a string, got {other}")),
            None => {}
        }
    }
    Err(format!("missing field `{}` (or `{}`)", keys[0], keys[1]))
}

fn keyed(obj: &serde_json::Map<String, Value>, key: &str) -> Result<String, String> {
    match obj.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(format!("field `{key}` must be a string, got {other}")),
        None => Err(format!("missing field `{key}`")),
    }
}

fn question_default(obj: &serde_json::Map<String, Value>) -> Result<String, String> {
    text_field(obj, ["question", "prompt"])
}

fn record(value: &Value, position: usize, keys: &QaKeys) -> Result<QaItem, String> {
    let obj = value.as_object().ok_or("a record must be a JSON object")?;
    let question = match &keys.question {
        Some(k) => keyed(obj, k)?,
        None => question_default(obj)?,
    };
    let answer = match &keys.answer {
        Some(k) => keyed(obj, k)?,
        None => text_field(obj, ["answer", "response"])?,
    };
    if answer.trim().is_empty() {
        // It would score 0 against everything, i.e. always look forgotten.
        return Err("field `answer` is empty: nothing to score a generation against".into());
    }
    if question.trim().is_empty() {
        return Err("field `question` is empty".into());
    }
    // The variant `question` is the default question field (`question`, or `prompt`).
    let variants = keys
        .variants
        .iter()
        .map(|k| match k.as_str() {
            "question" => Ok(question_default(obj)?),
            _ => keyed(obj, k),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let keywords = match obj.get("keywords") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|k| {
                k.as_str()
                    .map(str::to_string)
                    .ok_or("`keywords` must be a list of strings")
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("`keywords` must be a list of strings".into()),
    };
    for (i, k) in keywords.iter().enumerate() {
        crate::metrics::keyword::check_keyword(k).map_err(|e| format!("`keywords`[{i}]: {e}"))?;
    }
    let id = match obj.get("id") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => position.to_string(),
    };
    Ok(QaItem {
        id,
        question,
        answer,
        keywords,
        variants,
    })
}

/// Parses QA records from `text`; `file` names the source in errors.
pub fn parse_qa(file: &str, text: &str) -> Result<Vec<QaItem>, DataError> {
    parse_qa_with(file, text, &QaKeys::default())
}

/// [`parse_qa`] reading the fields `keys` names; a record without one is an error naming
/// the file and line.
pub fn parse_qa_with(file: &str, text: &str, keys: &QaKeys) -> Result<Vec<QaItem>, DataError> {
    let err = |line: usize, message: String| DataError::Record {
        file: file.to_string(),
        line,
        message,
    };
    let mut items = Vec::new();
    // A byte-order mark (as some editors write) is not part of the data.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let trimmed = text.trim_start();
    // A single JSON document (array) spanning several lines.
    if trimmed.starts_with('[') {
        if let Ok(Value::Array(values)) = serde_json::from_str::<Value>(text) {
            for (i, v) in values.iter().enumerate() {
                items.push(record(v, i, keys).map_err(|m| err(1, format!("record {i}: {m}")))?);
            }
            return non_empty(file, items);
        }
    }
    // Line-oriented: each line is a record or an array of records.
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let value: Value =
            serde_json::from_str(line).map_err(|e| err(line_no, format!("malformed JSON: {e}")))?;
        match value {
            Value::Array(values) => {
                for v in &values {
                    let position = items.len();
                    items.push(record(v, position, keys).map_err(|m| err(line_no, m))?);
                }
            }
            v => {
                let position = items.len();
                items.push(record(&v, position, keys).map_err(|m| err(line_no, m))?);
            }
        }
    }
    non_empty(file, items)
}

fn non_empty(file: &str, items: Vec<QaItem>) -> Result<Vec<QaItem>, DataError> {
    if items.is_empty() {
        Err(DataError::Empty {
            file: file.to_string(),
        })
    } else {
        Ok(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_layouts() {
        let array = r#"[{"question":"q1","answer":"a1"},{"prompt":"q2","response":"a2"}]"#;
        let jsonl = "{\"question\":\"q1\",\"answer\":\"a1\",\"keywords\":[\"k\"]}\n\n{\"question\":\"q2\",\"answer\":\"a2\"}\n";
        let batches = "[{\"question\":\"q1\",\"answer\":\"a1\"}]\n[{\"question\":\"q2\",\"answer\":\"a2\"}]\n";
        let pretty = "[\n  {\"prompt\": \"q1\",\n   \"response\": \"a1\"},\n  {\"question\": \"q2\", \"answer\": \"a2\"}\n]\n";
        for text in [array, jsonl, batches, pretty] {
            let items = parse_qa("f", text).unwrap();
            assert_eq!(items.len(), 2);
            assert_eq!(items[1].question, "q2");
            assert_eq!(items[1].id, "1");
        }
        assert_eq!(parse_qa("f", jsonl).unwrap()[0].keywords, vec!["k"]);
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse_qa(
            "data.jsonl",
            "{\"question\":\"q\",\"answer\":\"a\"}\n{oops\n",
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("data.jsonl:2:"), "{e}");
        let e = parse_qa("d", "{\"question\":\"q\"}\n").unwrap_err();
        assert!(e.to_string().contains("answer"), "{e}");
        assert!(matches!(
            parse_qa("d", "\n\n"),
            Err(DataError::Empty { .. })
        ));
        assert!(matches!(parse_qa("d", "[]"), Err(DataError::Empty { .. })));
    }

    #[test]
    fn bom_empty_answers_and_empty_keywords() {
        let bom = "\u{feff}{\"question\":\"q\",\"answer\":\"a\"}\n";
        assert_eq!(parse_qa("f", bom).unwrap().len(), 1);
        let empty =
            "{\"question\":\"q\",\"answer\":\"a\"}\n{\"question\":\"q\",\"answer\":\" \"}\n";
        let e = parse_qa("f", empty).unwrap_err().to_string();
        assert!(
            e.starts_with("f:2:") && e.contains("`answer` is empty"),
            "{e}"
        );
        let kw = "{\"question\":\"q\",\"answer\":\"a\",\"keywords\":[\"x\",\"\"]}\n";
        let e = parse_qa("f", kw).unwrap_err().to_string();
        assert!(e.starts_with("f:1:") && e.contains("`keywords`[1]"), "{e}");
    }

    #[test]
    fn keys_select_fields_and_name_missing_ones() {
        let text = "{\"question\":\"q\",\"paraphrased_question\":\"pq\",\"answer\":\"a\",\"paraphrased_answer\":\"pa\"}\n{\"question\":\"q2\",\"answer\":\"a2\"}\n";
        let keys = QaKeys {
            question: Some("paraphrased_question".into()),
            answer: Some("paraphrased_answer".into()),
            variants: vec![],
        };
        let e = parse_qa_with("tofu.jsonl", text, &keys).unwrap_err();
        assert_eq!(
            e.to_string(),
            "tofu.jsonl:2: missing field `paraphrased_question`"
        );
        let one = text.lines().next().unwrap();
        let items = parse_qa_with("t", one, &keys).unwrap();
        assert_eq!(
            (items[0].question.as_str(), items[0].answer.as_str()),
            ("pq", "pa")
        );
        let keys = QaKeys {
            variants: vec!["question".into(), "paraphrased_question".into()],
            ..QaKeys::default()
        };
        assert_eq!(
            parse_qa_with("t", one, &keys).unwrap()[0].variants,
            vec!["q", "pq"]
        );
        // The variant `question` also reads TOFU's `prompt` field.
        let keys = QaKeys {
            variants: vec!["question".into()],
            ..QaKeys::default()
        };
        let tofu = r#"[{"prompt": "p", "response": "r"}]"#;
        assert_eq!(
            parse_qa_with("t", tofu, &keys).unwrap()[0].variants,
            vec!["p"]
        );
    }
}
