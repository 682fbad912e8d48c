//! Field-by-field comparison of two serialisable settings, for refusing a resume whose
//! settings differ from the saved ones with the list of what differs.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// Every leaf of a JSON value by dotted path (`train.lr`, `config.decode.seed`).
fn flatten(prefix: &str, v: &Value, out: &mut BTreeMap<String, Value>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, x) in m {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, x, out);
            }
        }
        _ => {
            out.insert(prefix.to_string(), v.clone());
        }
    }
}

/// The leaves whose values differ, as (path, first, second); a leaf missing on one side
/// reads as `null`.
pub fn differences(a: &Value, b: &Value) -> Vec<(String, Value, Value)> {
    let (mut x, mut y) = (BTreeMap::new(), BTreeMap::new());
    flatten("", a, &mut x);
    flatten("", b, &mut y);
    let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
    keys.into_iter()
        .filter_map(|k| {
            let (p, q) = (
                x.get(k).unwrap_or(&Value::Null),
                y.get(k).unwrap_or(&Value::Null),
            );
            (p != q).then(|| (k.clone(), p.clone(), q.clone()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_leaves_are_named() {
        let a = serde_json::json!({"train": {"lr": 1, "seed": 0}, "x": [1]});
        let b = serde_json::json!({"train": {"lr": 2, "seed": 0}, "y": 3});
        let d: Vec<String> = differences(&a, &b).into_iter().map(|t| t.0).collect();
        assert_eq!(d, ["train.lr", "x", "y"]);
    }
}
