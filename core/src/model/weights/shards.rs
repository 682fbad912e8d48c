//! `model.safetensors.index.json`: which shard holds which tensor, as `save_pretrained`
//! writes it for checkpoints above its shard size (`{"metadata": {"total_size": N},
//! "weight_map": {tensor: file}}`).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use super::error::WeightError;

#[derive(Debug, Clone, PartialEq)]
pub struct ShardIndex {
    weight_map: BTreeMap<String, String>,
    total_size: Option<u64>,
}

impl ShardIndex {
    pub fn parse(text: &str) -> Result<Self, WeightError> {
        let err = |m: String| WeightError::Index(m);
        let v: Value =
            serde_json::from_str(text).map_err(|e| err(format!("not valid JSON: {e}")))?;
        let map = v["weight_map"]
            .as_object()
            .ok_or_else(|| err("no `weight_map` object".into()))?;
        if map.is_empty() {
            return Err(err("`weight_map` is empty".into()));
        }
        let mut weight_map = BTreeMap::new();
        for (name, file) in map {
            let file = file
                .as_str()
                .ok_or_else(|| err(format!("weight_map.{name}: expected a file name")))?;
            // Shards live beside the index: a path could reach outside the bundle.
            if file.is_empty()
                || file.contains(['/', '\\'])
                || file.starts_with('.')
                || !file.ends_with(".safetensors")
            {
                return Err(err(format!(
                    "weight_map.{name}: `{file}` is not a .safetensors file name beside the index"
                )));
            }
            weight_map.insert(name.clone(), file.to_string());
        }
        Ok(Self {
            weight_map,
            total_size: v["metadata"]["total_size"].as_u64(),
        })
    }

    /// The shard files, each once, in name order.
    pub fn files(&self) -> Vec<&str> {
        let set: BTreeSet<&str> = self.weight_map.values().map(String::as_str).collect();
        set.into_iter().collect()
    }

    pub fn weight_map(&self) -> &BTreeMap<String, String> {
        &self.weight_map
    }

    /// Bytes of tensor data over all shards, as the index states it.
    pub fn total_size(&self) -> Option<u64> {
        self.total_size
    }

    pub(super) fn new(weight_map: BTreeMap<String, String>, total_size: u64) -> Self {
        Self {
            weight_map,
            total_size: Some(total_size),
        }
    }

    pub fn to_json(&self) -> String {
        let v = json!({
            "metadata": {"total_size": self.total_size.unwrap_or(0)},
            "weight_map": self.weight_map,
        });
        serde_json::to_string_pretty(&v).expect("serialisable")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_names_only_files_beside_it() {
        let ok = r#"{"metadata":{"total_size":8},"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00002-of-00002.safetensors","c":"model-00001-of-00002.safetensors"}}"#;
        let idx = ShardIndex::parse(ok).unwrap();
        assert_eq!(
            idx.files(),
            [
                "model-00001-of-00002.safetensors",
                "model-00002-of-00002.safetensors"
            ]
        );
        for bad in [
            "../x.safetensors",
            "sub/x.safetensors",
            "x.bin",
            ".hidden.safetensors",
        ] {
            let text = format!(r#"{{"weight_map":{{"a":"{bad}"}}}}"#);
            let e = ShardIndex::parse(&text).unwrap_err().to_string();
            assert!(e.contains("weight_map.a"), "{e}");
        }
        assert!(ShardIndex::parse(r#"{"weight_map":{}}"#).is_err());
    }
}
