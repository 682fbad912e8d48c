//! Writing checkpoints: safetensors bytes in a storage dtype, split into shards with an
//! index the way `save_pretrained(max_shard_size=…)` lays them out
//! (`model-00001-of-00003.safetensors`, …), so transformers loads them as its own.

use std::collections::{BTreeMap, HashMap};

use half::{bf16, f16};
use safetensors::tensor::{Dtype, TensorView};

use super::file_names::{INDEX_FILE, SINGLE_FILE};
use super::shards::ShardIndex;
use super::source::NamedTensor;

/// Storage dtype of an exported safetensors file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageDtype {
    F32,
    F16,
    BF16,
}

impl StorageDtype {
    fn safetensors(self) -> Dtype {
        match self {
            StorageDtype::F32 => Dtype::F32,
            StorageDtype::F16 => Dtype::F16,
            StorageDtype::BF16 => Dtype::BF16,
        }
    }

    fn encode(self, values: &[f32]) -> Vec<u8> {
        match self {
            StorageDtype::F32 => values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            StorageDtype::F16 => values
                .iter()
                .flat_map(|v| f16::from_f32(*v).to_le_bytes())
                .collect(),
            StorageDtype::BF16 => values
                .iter()
                .flat_map(|v| bf16::from_f32(*v).to_le_bytes())
                .collect(),
        }
    }
}

/// A tensor already encoded in its storage dtype.
struct Encoded {
    name: String,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

fn serialize(tensors: &[Encoded], dtype: StorageDtype) -> Vec<u8> {
    let views: Vec<(String, TensorView<'_>)> = tensors
        .iter()
        .map(|t| {
            let view = TensorView::new(dtype.safetensors(), t.shape.clone(), &t.bytes)
                .expect("consistent tensor");
            (t.name.clone(), view)
        })
        .collect();
    let metadata = HashMap::from([("format".to_string(), "pt".to_string())]);
    safetensors::tensor::serialize(views, Some(metadata)).expect("serialisable")
}

/// Serialises tensors to safetensors bytes with the given storage dtype.
pub fn to_safetensors(tensors: &[NamedTensor], dtype: StorageDtype) -> Vec<u8> {
    let encoded: Vec<Encoded> = tensors
        .iter()
        .map(|t| Encoded {
            name: t.name.clone(),
            shape: t.shape.clone(),
            bytes: dtype.encode(&t.values),
        })
        .collect();
    serialize(&encoded, dtype)
}

/// The checkpoint files for `tensors`: one `model.safetensors`, or — when the data
/// exceeds `max_shard_bytes` — shards of at most that size (a larger single tensor gets a
/// shard of its own), in export order, plus `model.safetensors.index.json`. Each f32
/// tensor is dropped as soon as it is encoded, so the host never holds the model twice
/// in f32.
pub fn shard_checkpoint(
    tensors: Vec<NamedTensor>,
    dtype: StorageDtype,
    max_shard_bytes: Option<u64>,
) -> Vec<(String, Vec<u8>)> {
    let mut shards: Vec<Vec<Encoded>> = vec![Vec::new()];
    let mut current = 0u64;
    let mut total = 0u64;
    for t in tensors {
        let bytes = dtype.encode(&t.values);
        let size = bytes.len() as u64;
        if let Some(max) = max_shard_bytes {
            if current > 0 && current + size > max {
                shards.push(Vec::new());
                current = 0;
            }
        }
        current += size;
        total += size;
        shards.last_mut().expect("one shard").push(Encoded {
            name: t.name,
            shape: t.shape,
            bytes,
        });
    }
    if shards.len() == 1 {
        return vec![(SINGLE_FILE.to_string(), serialize(&shards[0], dtype))];
    }
    let n = shards.len();
    let mut weight_map = BTreeMap::new();
    let mut files = Vec::with_capacity(n + 1);
    for (i, shard) in shards.into_iter().enumerate() {
        let file = format!("model-{:05}-of-{n:05}.safetensors", i + 1);
        for t in &shard {
            weight_map.insert(t.name.clone(), file.clone());
        }
        let bytes = serialize(&shard, dtype);
        drop(shard);
        files.push((file, bytes));
    }
    let index = ShardIndex::new(weight_map, total);
    files.push((INDEX_FILE.to_string(), index.to_json().into_bytes()));
    files
}

/// Parses a shard size like transformers' `max_shard_size`: `"5GB"` (10⁹), `"500MB"`,
/// `"2GiB"` (2³⁰), `"100KB"`, or a plain byte count.
pub fn parse_shard_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size (e.g. 5GB, 500MB, 2GiB)"))?;
    let scale: f64 = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1.0,
        "KB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "KIB" => 1024.0,
        "MIB" => 1024.0 * 1024.0,
        "GIB" => 1024.0 * 1024.0 * 1024.0,
        other => {
            return Err(format!(
                "`{other}` is not a size unit (B, KB, MB, GB, KiB, MiB, GiB)"
            ))
        }
    };
    let bytes = number * scale;
    if bytes.is_nan() || bytes < 1.0 {
        return Err(format!("`{text}`: a shard must hold at least one byte"));
    }
    Ok(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::weights::{CheckpointSource, InMemory, WeightSource};

    fn tensor(name: &str, n: usize, seed: f32) -> NamedTensor {
        NamedTensor {
            name: name.into(),
            shape: vec![n],
            values: (0..n).map(|i| seed + i as f32).collect(),
        }
    }

    #[test]
    fn shards_reload_to_the_same_tensors() {
        let tensors = vec![
            tensor("a", 10, 0.0),
            tensor("b", 30, 1.0),
            tensor("c", 5, 2.0),
        ];
        let files = shard_checkpoint(tensors.clone(), StorageDtype::F32, Some(100));
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        // a (40 B) | b (120 B, alone) | c (20 B)
        assert_eq!(
            names,
            [
                "model-00001-of-00003.safetensors",
                "model-00002-of-00003.safetensors",
                "model-00003-of-00003.safetensors",
                INDEX_FILE
            ]
        );
        let index = ShardIndex::parse(std::str::from_utf8(&files[3].1).unwrap()).unwrap();
        assert_eq!(index.total_size(), Some(180));
        let mem = InMemory::new(files[..3].iter().map(|(n, b)| (n.clone(), b.as_slice())));
        let mut src = CheckpointSource::sharded(mem, &index).unwrap();
        for t in &tensors {
            assert_eq!(src.take(&t.name, &t.shape).unwrap(), t.values);
        }
        src.check_all_used().unwrap();
        let single = shard_checkpoint(tensors, StorageDtype::F32, None);
        assert_eq!(single.len(), 1);
        assert_eq!(single[0].0, SINGLE_FILE);
    }

    #[test]
    fn shard_sizes_parse_like_transformers() {
        assert_eq!(parse_shard_size("5GB"), Ok(5_000_000_000));
        assert_eq!(parse_shard_size("2GiB"), Ok(2 * 1024 * 1024 * 1024));
        assert_eq!(parse_shard_size("500MB"), Ok(500_000_000));
        assert_eq!(parse_shard_size("1234"), Ok(1234));
        assert!(parse_shard_size("5XB").is_err());
        assert!(parse_shard_size("GB").is_err());
        assert!(parse_shard_size("0").is_err());
    }
}
