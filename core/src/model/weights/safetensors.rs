//! Reading safetensors checkpoints — one `model.safetensors` or the shards named by
//! `model.safetensors.index.json` — one tensor at a time.
//!
//! Only each file's header is parsed up front; a tensor's bytes are read when a module
//! asks for it and widened to f32 right away, so loading never holds the checkpoint and
//! the model at once (the file is not read whole). Bytes come through [`ShardBytes`]:
//! ranged file reads natively, fetched buffers in the browser.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};

use half::{bf16, f16};
use rayon::prelude::*;
use serde_json::Value;

use super::error::WeightError;
use super::file_names::{INDEX_FILE, SINGLE_FILE};
use super::shards::ShardIndex;
use super::source::WeightSource;

/// Random access to the bytes of a checkpoint's files, by file name.
pub trait ShardBytes {
    /// The length of `file` in bytes.
    fn size(&mut self, file: &str) -> Result<u64, String>;
    /// `len` bytes of `file` starting at `offset`.
    fn read(&mut self, file: &str, offset: u64, len: usize) -> Result<Cow<'_, [u8]>, String>;
}

/// Files already in memory (fetched by the browser, or read whole by a test).
pub struct InMemory<'a> {
    files: HashMap<String, &'a [u8]>,
}

impl<'a> InMemory<'a> {
    pub fn new(files: impl IntoIterator<Item = (String, &'a [u8])>) -> Self {
        Self {
            files: files.into_iter().collect(),
        }
    }

    fn file(&self, file: &str) -> Result<&'a [u8], String> {
        self.files
            .get(file)
            .copied()
            .ok_or_else(|| "no such file".to_string())
    }
}

impl ShardBytes for InMemory<'_> {
    fn size(&mut self, file: &str) -> Result<u64, String> {
        Ok(self.file(file)?.len() as u64)
    }

    fn read(&mut self, file: &str, offset: u64, len: usize) -> Result<Cow<'_, [u8]>, String> {
        let bytes = self.file(file)?;
        let start = usize::try_from(offset).map_err(|e| e.to_string())?;
        bytes
            .get(start..start.saturating_add(len))
            .map(Cow::Borrowed)
            .ok_or_else(|| format!("{len} bytes at offset {offset} lie past the end"))
    }
}

/// Where one tensor lies.
#[derive(Debug, Clone)]
struct Entry {
    file: String,
    dtype: String,
    shape: Vec<usize>,
    /// Absolute byte range in the file.
    start: u64,
    len: usize,
}

fn element_size(dtype: &str) -> Option<usize> {
    match dtype {
        "F32" | "I32" | "U32" => Some(4),
        "F16" | "BF16" | "I16" | "U16" => Some(2),
        "F64" | "I64" | "U64" => Some(8),
        "I8" | "U8" | "BOOL" | "F8_E4M3" | "F8_E5M2" => Some(1),
        _ => None,
    }
}

/// Parses a file's header: `u64` little-endian length `n`, then `n` bytes of JSON
/// `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}`, offsets
/// relative to the end of the header.
fn read_header(
    bytes: &mut dyn ShardBytes,
    file: &str,
) -> Result<Vec<(String, Entry)>, WeightError> {
    let parse = |reason: String| WeightError::Parse {
        file: file.to_string(),
        reason,
    };
    let read_err = |reason: String| WeightError::Read {
        file: file.to_string(),
        reason,
    };
    let size = bytes.size(file).map_err(read_err)?;
    if size < 8 {
        return Err(parse(format!(
            "{size} bytes, shorter than the 8-byte header length"
        )));
    }
    let n = u64::from_le_bytes(
        bytes.read(file, 0, 8).map_err(read_err)?[..8]
            .try_into()
            .expect("8 bytes"),
    );
    // The format caps headers at 100 MB; a larger value means a corrupt file.
    if n > 100_000_000 || 8 + n > size {
        return Err(parse(format!(
            "header length {n} does not fit a file of {size} bytes"
        )));
    }
    let header = bytes.read(file, 8, n as usize).map_err(read_err)?;
    let json: Value = serde_json::from_slice(&header).map_err(|e| parse(format!("header: {e}")))?;
    let obj = json
        .as_object()
        .ok_or_else(|| parse("header is not a JSON object".into()))?;
    let data_start = 8 + n;
    let data_len = size - data_start;
    let mut out = Vec::new();
    for (name, info) in obj {
        if name == "__metadata__" {
            continue;
        }
        let bad = |what: &str| parse(format!("tensor `{name}`: {what}"));
        let dtype = info["dtype"]
            .as_str()
            .ok_or_else(|| bad("no dtype"))?
            .to_string();
        let shape: Vec<usize> = info["shape"]
            .as_array()
            .ok_or_else(|| bad("no shape"))?
            .iter()
            .map(|d| d.as_u64().map(|d| d as usize))
            .collect::<Option<_>>()
            .ok_or_else(|| bad("shape is not a list of sizes"))?;
        let offsets: Vec<u64> = info["data_offsets"]
            .as_array()
            .filter(|o| o.len() == 2)
            .and_then(|o| o.iter().map(Value::as_u64).collect())
            .ok_or_else(|| bad("data_offsets is not [begin, end]"))?;
        let (begin, end) = (offsets[0], offsets[1]);
        if begin > end || end > data_len {
            return Err(bad(&format!(
                "data_offsets [{begin}, {end}] outside the {data_len} data bytes"
            )));
        }
        let elements = shape
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d))
            .ok_or_else(|| bad("shape overflows"))?;
        if let Some(size) = element_size(&dtype) {
            if elements.checked_mul(size) != Some((end - begin) as usize) {
                return Err(bad(&format!(
                    "{} bytes for {elements} {dtype} elements",
                    end - begin
                )));
            }
        }
        out.push((
            name.clone(),
            Entry {
                file: file.to_string(),
                dtype,
                shape,
                start: data_start + begin,
                len: (end - begin) as usize,
            },
        ));
    }
    Ok(out)
}

fn widen(entry: &Entry, name: &str, bytes: &[u8]) -> Result<Vec<f32>, WeightError> {
    Ok(match entry.dtype.as_str() {
        "F32" => bytes
            .par_chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
        "F16" => bytes
            .par_chunks_exact(2)
            .map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        "BF16" => bytes
            .par_chunks_exact(2)
            .map(|b| bf16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        other => {
            return Err(WeightError::Dtype {
                file: entry.file.clone(),
                name: name.to_string(),
                dtype: other.to_string(),
            })
        }
    })
}

/// Buffers that transformers keeps out of `state_dict` today but older checkpoints
/// saved; they are recomputed from the config, so skipping them changes nothing.
fn is_recomputed_buffer(name: &str) -> bool {
    name.ends_with(".rotary_emb.inv_freq")
}

/// A checkpoint as a [`WeightSource`]: every tensor by name, across shards.
pub struct CheckpointSource<B: ShardBytes> {
    bytes: B,
    tensors: BTreeMap<String, Entry>,
    taken: HashSet<String>,
    /// What errors name when no single file is at fault.
    label: String,
}

/// A single in-memory `model.safetensors` (the browser's and the tests' case).
pub type SafetensorsSource<'a> = CheckpointSource<InMemory<'a>>;

impl<'a> CheckpointSource<InMemory<'a>> {
    pub fn new(bytes: &'a [u8]) -> Result<Self, WeightError> {
        Self::single(
            InMemory::new([(SINGLE_FILE.to_string(), bytes)]),
            SINGLE_FILE,
        )
    }
}

impl<B: ShardBytes> CheckpointSource<B> {
    /// One safetensors file called `file`.
    pub fn single(mut bytes: B, file: &str) -> Result<Self, WeightError> {
        let tensors = read_header(&mut bytes, file)?.into_iter().collect();
        Ok(Self {
            bytes,
            tensors,
            taken: HashSet::new(),
            label: file.to_string(),
        })
    }

    /// The shards an index names. Every shard must exist and hold the tensors the index
    /// places in it; a tensor a shard holds but the index does not place counts as unused.
    pub fn sharded(mut bytes: B, index: &ShardIndex) -> Result<Self, WeightError> {
        let mut tensors = BTreeMap::new();
        let mut present: HashMap<(String, String), Entry> = HashMap::new();
        for file in index.files() {
            bytes.size(file).map_err(|reason| {
                WeightError::Index(format!("shard `{file}` cannot be read: {reason}"))
            })?;
            for (name, entry) in read_header(&mut bytes, file)? {
                present.insert((file.to_string(), name), entry);
            }
        }
        for (name, file) in index.weight_map() {
            let key = (file.clone(), name.clone());
            let entry = present.remove(&key).ok_or_else(|| {
                WeightError::Index(format!(
                    "tensor `{name}` is mapped to `{file}`, which does not hold it"
                ))
            })?;
            tensors.insert(name.clone(), entry);
        }
        let mut source = Self {
            bytes,
            tensors,
            taken: HashSet::new(),
            label: INDEX_FILE.to_string(),
        };
        // Tensors a shard holds outside the map: unused (reported by check_all_used).
        for ((file, name), entry) in present {
            let label = format!("{name} (in {file}, not in the index)");
            source.tensors.entry(label).or_insert(entry);
        }
        Ok(source)
    }

    pub fn names(&self) -> Vec<String> {
        self.tensors.keys().cloned().collect()
    }

    /// The dtype most parameters are stored in (what `inspect` reports).
    pub fn dtype(&self) -> Option<String> {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for e in self.tensors.values() {
            *counts.entry(e.dtype.as_str()).or_default() += e.len;
        }
        counts
            .into_iter()
            .max_by_key(|&(_, n)| n)
            .map(|(d, _)| d.to_string())
    }

    /// Tensors present in the checkpoint that no module asked for.
    pub fn unused(&self) -> Vec<String> {
        self.tensors
            .keys()
            .filter(|n| !self.taken.contains(*n) && !is_recomputed_buffer(n))
            .cloned()
            .collect()
    }
}

impl<B: ShardBytes> WeightSource for CheckpointSource<B> {
    fn take(&mut self, name: &str, shape: &[usize]) -> Result<Vec<f32>, WeightError> {
        let entry = self
            .tensors
            .get(name)
            .ok_or_else(|| WeightError::Missing(self.label.clone(), name.to_string()))?
            .clone();
        if entry.shape != shape {
            return Err(WeightError::Shape {
                file: entry.file,
                name: name.to_string(),
                expected: shape.to_vec(),
                found: entry.shape,
            });
        }
        let raw = self
            .bytes
            .read(&entry.file, entry.start, entry.len)
            .map_err(|reason| WeightError::Read {
                file: entry.file.clone(),
                reason,
            })?;
        let values = widen(&entry, name, &raw)?;
        drop(raw);
        if let Some(index) = values.par_iter().position_first(|v| !v.is_finite()) {
            return Err(WeightError::NonFinite {
                file: entry.file,
                name: name.to_string(),
                index,
                value: values[index],
            });
        }
        self.taken.insert(name.to_string());
        Ok(values)
    }

    fn has(&self, name: &str) -> bool {
        self.tensors.contains_key(name) && !self.taken.contains(name)
    }

    fn check_all_used(&self) -> Result<(), WeightError> {
        let unused = self.unused();
        if unused.is_empty() {
            return Ok(());
        }
        let shown: Vec<&str> = unused.iter().take(8).map(String::as_str).collect();
        let more = unused.len().saturating_sub(shown.len());
        Err(WeightError::Unused {
            file: self.label.clone(),
            names: format!(
                "{}{}",
                shown.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            ),
        })
    }
}
