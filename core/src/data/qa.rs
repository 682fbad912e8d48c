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

fn record(value: &Value, position: usize) -> Result<QaItem, String> {
    let obj = value.as_object().ok_or("a record must be a JSON object")?;
    let question = text_field(obj, ["question", "prompt"])?;
    let answer = text_field(obj, ["answer", "response"])?;
    if answer.trim().is_empty() {
        // It would score 0 against everything, i.e. always look forgotten.
        return Err("field `answer` is empty: nothing to score a generation against".into());
    }
    if question.trim().is_empty() {
        return Err("field `question` is empty".into());
    }
    let keywords: Vec<String> = match obj.get("keywords") {
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
    })
}

/// Parses QA records from `text`; `file` names the source in errors.
pub fn parse_qa(file: &str, text: &str) -> Result<Vec<QaItem>, DataError> {
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
                items.push(record(v, i).map_err(|m| err(1, format!("record {i}: {m}")))?);
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
                    items.push(record(v, position).map_err(|m| err(line_no, m))?);
                }
            }
            v => {
                let position = items.len();
                items.push(record(&v, position).map_err(|m| err(line_no, m))?);
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
}
